#!/usr/bin/env bash
# profile_count.sh: `make bench-profile-count`, issue 8: what profiling costs, counted in
# instructions, which unlike wall time do not move with the other tenants of a shared machine.
# Every process of the pipeline runs under valgrind's callgrind (--trace-children=yes), once
# for `run` and once for `profile`, on two lengths of tape; the difference per process,
# divided by the frames, is profiling's cost a frame, and the difference between the two
# lengths separates that from its fixed cost.
#
# The build is the one without FFmpeg (make FFMPEG=0 CUDA=0, in build/noffmpeg): y4m in,
# esrgan-slim x2 on the CPU, y4m out. A build with FFmpeg cannot be counted on machines
# whose CPUID hides rdtscp: Debian's libavcodec pulls in libjxl and libhwy, which runs
# rdtscp while it loads, and valgrind 3.19 stops the process with SIGILL. The stage runtime
# (runtime/runtime.c) that times frames and sends TRACE records is the same code in both
# builds. Frames are small (48x32) so that the upscaler, which profiling does not touch,
# does not take the run's whole time under valgrind.
#
# Under valgrind the run is some fifty times slower, so whatever the orchestrator does per
# unit of time (the throughput and ring-occupancy samples for the report's charts) is counted fifty
# times over: its figure here is an upper bound. bench/RESULTS.md has it counted with the
# stages running at full speed too.
#
# Environment: COUNT_FRAMES (the two lengths, default "25 100").
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/build/noffmpeg/bin"
WORK="$ROOT/build/bench-profile-count"
read -r -a LENGTHS <<<"${COUNT_FRAMES:-25 100}"

die() {
	echo "bench: $*" >&2
	exit 1
}

# job FILE INPUT: the job both commands run.
job() {
	cat >"$1" <<-EOF
		# written by bench/profile_count.sh
		input = "$2"
		output = "out.y4m"
		preset = "none"

		[video]
		filters = ""

		[upscale]
		backend = "cpu"
		model = "esrgan-slim"
		scale = 2

		[encode]
		pix_fmt = "yuv420p"

		[run]
		segment_seconds = 1
	EOF
}

# count NAME CMD...: CMD under callgrind, every child too; one callgrind.out per process
# in NAME/.
count() {
	local name="$1"
	shift
	rm -rf "${WORK:?}/$name" "$WORK/prof" "$WORK/out.y4m"
	mkdir -p "$WORK/$name"
	(cd "$WORK" && valgrind --tool=callgrind --trace-children=yes \
		--callgrind-out-file="$WORK/$name/callgrind.out.%p" "$@" >"$name.out" 2>"$name.err") ||
		{ tail -n 20 "$WORK/$name.err" >&2; die "$name failed under valgrind: $*"; }
	echo "  $name: $(ls "$WORK/$name" | wc -l) processes counted"
}

# totals NAME: "process instructions" for each process of NAME (workers of a stage summed).
totals() {
	local f
	for f in "$WORK/$1"/callgrind.out.*; do
		printf '%s %s\n' "$(basename "$(sed -n 's/^cmd: *\([^ ]*\).*/\1/p' "$f" | head -n 1)")" \
			"$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$f" | head -n 1)"
	done | awk '{ n[$1] += $2 } END { for (k in n) printf "%s %.0f\n", k, n[k] }' | sort
}

main() {
	command -v valgrind >/dev/null || die "valgrind is needed: apt-get install valgrind"
	command -v ffmpeg >/dev/null || die "ffmpeg (the command line) is needed to make the input"
	make -s --no-print-directory -C "$ROOT" FFMPEG=0 CUDA=0 BUILD=build/noffmpeg >/dev/null ||
		die "make FFMPEG=0 CUDA=0 BUILD=build/noffmpeg failed"
	export VHS_MODEL_DIR="${VHS_MODEL_DIR:-$ROOT/models}"
	[ -d "$VHS_MODEL_DIR/esrgan-slim/x2" ] || die "esrgan-slim x2 is not installed: run make models"
	mkdir -p "$WORK"
	local n
	for n in "${LENGTHS[@]}"; do
		echo "bench: $n frames of 48x32 y4m, run and profile under callgrind (build/bench-profile-count)"
		ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=48x32:r=25,noise=alls=20:allf=t" \
			-frames:v "$n" -pix_fmt yuv420p -f yuv4mpegpipe "$WORK/in$n.y4m"
		job "$WORK/job$n.toml" "in$n.y4m"
		count "run$n" "$BIN/vhs-orchestrate" run --force --progress=none "job$n.toml"
		totals "run$n" >"$WORK/run$n.txt"
		count "profile$n" "$BIN/vhs-orchestrate" profile --progress=none --out prof "job$n.toml"
		totals "profile$n" >"$WORK/profile$n.txt"
	done
	echo
	python3 - "$WORK" "${LENGTHS[@]}" <<-'EOF'
		import sys
		work, lengths = sys.argv[1], [int(x) for x in sys.argv[2:]]
		def load(name):
		    return {p: int(n) for p, n in (line.split() for line in open(f"{work}/{name}.txt"))}
		run = {n: load(f"run{n}") for n in lengths}
		prof = {n: load(f"profile{n}") for n in lengths}
		procs = sorted(set().union(*run.values(), *prof.values()))
		a, b = lengths[0], lengths[-1]
		cols = " | ".join(f"run {n} | profile {n}" for n in lengths)
		print(f"| process | {cols} | profiling a frame | profiling once |")
		print("|---|" + "---:|" * (2 * len(lengths) + 2))
		for p in procs:
		    d = {n: prof[n].get(p, 0) - run[n].get(p, 0) for n in lengths}
		    per = (d[b] - d[a]) / (b - a) if b != a else d[a] / a
		    once = d[a] - per * a
		    cells = " | ".join(f"{run[n].get(p, 0) / 1e6:.2f} M | {prof[n].get(p, 0) / 1e6:.2f} M" for n in lengths)
		    print(f"| {p} | {cells} | {per / 1e3:.1f} k | {once / 1e6:.2f} M |")
		print()
		for n in lengths:
		    r, q = sum(run[n].values()), sum(prof[n].values())
		    print(f"All processes, {n} frames: run {r / 1e6:.1f} M, profile {q / 1e6:.1f} M instructions, "
		          f"profile/run {q / r:.5f}.")
	EOF
}

main "$@"
