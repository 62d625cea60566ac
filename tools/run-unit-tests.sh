#!/usr/bin/env bash
# run-unit-tests.sh: runs Criterion unit test binaries (make unit) and sums them up.
#
#   tools/run-unit-tests.sh build/tests/test_toml build/tests/test_proto ...
#
# Each binary runs under a time limit (VHS_UNIT_TIMEOUT, default 300 s) with its Criterion
# summary shown; the script fails if any binary fails, crashes, or times out.
set -uo pipefail

timeout_s="${VHS_UNIT_TIMEOUT:-300}"
log=""

# synthesis LOG: Criterion's "Synthesis" summary line, without the colour codes.
synthesis() {
	sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^\[====\] Synthesis:' | tail -n 1
}

main() {
	if (($# == 0)); then
		echo "unit: no unit test binaries given"
		exit 0
	fi
	local bin rc failed=() tested=0 passing=0 t p
	log="$(mktemp)"
	trap 'rm -f -- "$log"' EXIT
	for bin in "$@"; do
		if [ ! -x "$bin" ]; then
			echo "unit: FAIL $bin: not an executable (build it first)"
			failed+=("$bin")
			continue
		fi
		rc=0
		timeout -k 5 "$timeout_s" "$bin" >"$log" 2>&1 </dev/null || rc=$?
		local line
		line="$(synthesis "$log")"
		if ((rc != 0)); then
			cat "$log"
			if ((rc == 124 || rc == 137)); then
				echo "unit: FAIL $bin: timed out after ${timeout_s}s"
			else
				echo "unit: FAIL $bin (exit $rc)${line:+: $line}"
			fi
			failed+=("$bin")
		else
			echo "unit: ok $(basename "$bin"): ${line:-no Criterion summary}"
		fi
		t="$(sed -nE 's/.*Tested: *([0-9]+).*/\1/p' <<<"$line")"
		p="$(sed -nE 's/.*Passing: *([0-9]+).*/\1/p' <<<"$line")"
		tested=$((tested + ${t:-0})) passing=$((passing + ${p:-0}))
	done
	echo "unit: $# binaries, $tested tests, $passing passing, ${#failed[@]} binaries failed"
	((${#failed[@]} == 0))
}

main "$@"
