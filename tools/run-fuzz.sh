#!/usr/bin/env bash
# run-fuzz.sh: runs each libFuzzer target for SECONDS from its seed corpus and sums up (make
# fuzz; issue 27).
#
#   tools/run-fuzz.sh SECONDS DIR NAME...     (DIR/fuzz_NAME built by make)
#
# The seeds (tests/fuzz/corpus/NAME) are copied to DIR/corpus/NAME, which the fuzzer grows;
# the tree's corpus is never written. Each target runs under -max_total_time=SECONDS with a
# 10 s timeout per input and a 2 GiB memory limit; a crash, leak, timeout or out-of-memory
# leaves its input as DIR/NAME-crash-* (-leak-, -timeout-, -oom-) and fails the run. Prints one
# line per target (executions, their rate, coverage counters, corpus size) and exits 1 if
# any target failed.
set -uo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
(($# >= 3)) || { echo "usage: tools/run-fuzz.sh SECONDS DIR NAME..." >&2; exit 2; }
secs="$1" dir="$2"
shift 2
failed=()
printf '%-10s %8s %12s %9s %7s %7s %7s  %s\n' target seconds executions exec/s cov ft corpus result
for name in "$@"; do
	bin="$dir/fuzz_$name" corpus="$dir/corpus/$name" log="$dir/$name.log"
	mkdir -p "$corpus"
	[ -d "$ROOT/tests/fuzz/corpus/$name" ] && cp -n "$ROOT/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
	rc=0
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/$name-" "$corpus" >"$log" 2>&1 || rc=$?
	runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
	rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
	cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
	ft="$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
	result=ok
	if ((rc != 0)); then
		result="FAIL (exit $rc): $(grep -m 1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" | cut -c1-120); see $log"
		failed+=("$name")
	fi
	printf '%-10s %8s %12s %9s %7s %7s %7s  %s\n' "$name" "$secs" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"$(find "$corpus" -type f | wc -l)" "$result"
done
if ((${#failed[@]})); then
	echo "fuzz: FAILED: ${failed[*]}"
	exit 1
fi
echo "fuzz: $# targets, ${secs} s each, no crash, leak or timeout"
