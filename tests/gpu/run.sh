#!/usr/bin/env bash
# run.sh: runs the GPU test binaries (make test-gpu) and sums them up.
#
#   tests/gpu/run.sh build/tests/gpu/test_cuda ...
#
# A binary exits 0 (passed), 77 (skipped: its last "skip: REASON" line says why, typically
# no GPU or a CUDA-less build) or anything else (failed). Each runs under a time limit
# (VHS_GPU_TIMEOUT, default 900 s); its full output is shown when it fails. Prints
# `ok NAME`, `skip NAME: REASON` or `FAIL NAME: REASON` per binary, then a summary line;
# when every binary skipped, says so plainly with the reason, so a green run on a machine
# without a GPU is never mistaken for a tested GPU. Exits 1 if any binary failed (skips
# are not failures).
set -uo pipefail

timeout_s="${VHS_GPU_TIMEOUT:-900}"
log=""

main() {
	local bin name rc reason ok=0 skipped=0 failed=0 why=""

	if (($# == 0)); then
		echo "gpu: no GPU test binaries given"
		exit 0
	fi
	log="$(mktemp)"
	trap 'rm -f -- "$log"' EXIT
	for bin in "$@"; do
		name="$(basename -- "$bin")"
		if [ ! -x "$bin" ]; then
			echo "FAIL $name: not an executable (build it first)"
			failed=$((failed + 1))
			continue
		fi
		rc=0
		timeout -k 5 "$timeout_s" "$bin" >"$log" 2>&1 </dev/null || rc=$?
		case "$rc" in
		0)
			echo "ok $name: $(tail -n 1 "$log")"
			ok=$((ok + 1))
			;;
		77)
			reason="$(sed -n 's/^skip: //p' "$log" | tail -n 1)"
			echo "skip $name: ${reason:-no reason given}"
			why="${reason:-no reason given}"
			skipped=$((skipped + 1))
			;;
		*)
			cat "$log"
			if ((rc == 124 || rc == 137)); then
				reason="timed out after ${timeout_s}s"
			else
				reason="exit $rc: $(grep -m 1 'FAIL' "$log" || tail -n 1 "$log")"
			fi
			echo "FAIL $name: $reason"
			failed=$((failed + 1))
			;;
		esac
	done
	echo "gpu: $# binaries: $ok passed, $failed failed, $skipped skipped"
	if ((skipped == $#)); then
		echo "gpu: every GPU test skipped, nothing was tested on a GPU: $why"
	fi
	((failed == 0))
}

main "$@"
