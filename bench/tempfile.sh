#!/usr/bin/env bash
# tempfile.sh: `make bench-tempfile`, the temp writer's io_uring back end against its pwrite
# fallback on segment-sized files (issue 3; results in bench/RESULTS.md).
#
# Runs build/bench/tempfile_bench (bench/tempfile_bench.c: files written through
# vhs_tempfile_open/write/commit, the back ends alternating file by file) in two places:
#   build/bench/tempfile.PID   the disk that holds the work dir by default (segments go beside
#                              the output, and the benchmarks write their output in build/bench)
#   /dev/shm/tempfile-bench.PID  a tmpfs, if /dev/shm is one: the write path without a device
# and names the file system of each (df -T, stat -f). Both directories are removed at the end,
# also on failure or Ctrl-C.
#
# Environment: TEMPFILE_BENCH_ARGS (passed to the program, default "-n 8 -s 64 -w 256": 8 files
# per back end of 64 MiB, writes of 256 KiB), VHS_BUILD_DIR (default build).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${VHS_BUILD_DIR:-$ROOT/build}"
PROG="$BUILD/bench/tempfile_bench"
read -r -a ARGS <<<"${TEMPFILE_BENCH_ARGS:--n 8 -s 64 -w 256}"
DIRS=()

die() {
	echo "bench-tempfile: $*" >&2
	exit 1
}

cleanup() {
	local d
	for d in "${DIRS[@]}"; do rm -rf -- "$d"; done
}

# describe DIR: the file system under DIR, in one line.
describe() {
	local dev type
	read -r dev type < <(df -T -- "$1" | awk 'NR == 2 { print $1, $2 }')
	echo "$1: $type on $dev (stat -f: $(stat -f -c %T -- "$1"))"
}

run_in() {
	local dir="$1"
	mkdir -p -- "$dir"
	DIRS+=("$dir")
	echo
	echo "bench-tempfile: $(describe "$dir")"
	echo "bench-tempfile: $(printf '%q ' "$PROG" "${ARGS[@]}" "$dir")"
	"$PROG" "${ARGS[@]}" "$dir"
	rm -rf -- "$dir"
}

main() {
	[ -x "$PROG" ] || die "$PROG is missing: run make $PROG first (make bench-tempfile does)"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	echo "bench-tempfile: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr)"
	run_in "$BUILD/bench/tempfile.$$"
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		run_in "/dev/shm/tempfile-bench.$$"
	else
		echo "bench-tempfile: /dev/shm is not a tmpfs here; skipped"
	fi
}

main "$@"
