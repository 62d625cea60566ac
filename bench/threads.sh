#!/usr/bin/env bash
# threads.sh: `make bench-threads`, whether a filter's own threads pay (issue 26: the
# preprocess stage's threads = "auto" must never be slower than one thread).
#
# Each filter the presets, the analysis and `[video] filters` examples use runs alone on
# BENCH_THREADS_SECONDS (6) s of 720x480 interlaced video (a panned photograph, the
# deinterlace benchmark's clip maker), decoded once to a raw file so that only the filter
# is timed, read over as many times as a run needs to last seconds: `ffmpeg -stream_loop L
# -i clip.nut -filter_threads N -vf FILTER -f null`, N = 1 and N = the machine's cores,
# BENCH_RUNS (3) rounds alternating the order, the median CPU and wall seconds of each.
# Ours (vhs_mcdeint) runs as vhs-deinterlace --threads 1 and 2 on the same frames.
# "pays" when the wall time with every core is below 0.9 of one thread's: the filters that
# do not pay are the ones dsp/av/lavfi.c runs on one thread when threads are "auto".
# Prints a Markdown table for bench/RESULTS.md.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/bench/lib.sh"
WORK="$ROOT/build/bench/threads"
RUNS="${BENCH_RUNS:-3}"
SECS="${BENCH_THREADS_SECONDS:-6}"
CORES="$(nproc)"
mkdir -p "$WORK"
cd "$WORK"

# LOOPS FILTER: the clip is read LOOPS + 1 times over, so that each run lasts seconds
FILTERS=(
	"9 bwdif=mode=send_field"
	"9 yadif=mode=send_field"
	"9 w3fdif"
	"4 estdif"
	"0 nlmeans"
	"9 hqdn3d=3:2:3:2"
	"4 atadenoise"
	"9 eq=contrast=1.1:brightness=0.05:saturation=1.05"
	"9 lutyuv=y=val*1.1"
	"4 fieldmatch=combmatch=full,yadif=deint=interlaced"
	"1 scale=1440:1080:flags=lanczos"
)

if [ ! -s clip.nut ]; then
	"$ROOT/tests/media/make_deint_clip.sh" pan-slow ntsc tff "$SECS" clip.mkv truth.mkv >/dev/null 2>&1 ||
		die "make_deint_clip.sh failed"
	ffmpeg -nostdin -v error -y -i clip.mkv -c:v rawvideo clip.nut
	ffmpeg -nostdin -v error -y -i clip.mkv -f yuv4mpegpipe -strict -1 clip.y4m
	rm -f clip.mkv truth.mkv
fi

# timed N LOOPS FILTER: "wall cpu" of the filter alone on N threads.
timed() {
	/usr/bin/time -f "%e %U %S" -o t.txt ffmpeg -nostdin -v error -stream_loop "$2" -threads 1 -i clip.nut \
		-filter_threads "$1" -vf "$3" -f null - || die "$3 failed"
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' t.txt
}

# timed_ours N: the same for vhs-deinterlace (medium) on N threads.
timed_ours() {
	/usr/bin/time -f "%e %U %S" -o t.txt "$ROOT/build/bin/vhs-deinterlace" --preset medium --threads "$1" \
		clip.y4m /dev/null 2>/dev/null || die "vhs-deinterlace failed"
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' t.txt
}

: >results.txt
for ((r = 0; r < RUNS; r++)); do
	echo "bench-threads: round $((r + 1)) of $RUNS" >&2
	for f in "${FILTERS[@]}" ours; do
		for n in 1 "$CORES"; do
			[ $((r % 2)) = 1 ] && n=$((n == 1 ? CORES : 1)) # alternate which goes first
			if [ "$f" = ours ]; then
				echo "vhs_mcdeint $n $(timed_ours "$n")" >>results.txt
			else
				echo "${f#* } $n $(timed "$n" "${f%% *}" "${f#* }")" >>results.txt
			fi
		done
	done
done

echo "bench-threads: $(machine); $(date -u +%Y-%m-%d); $SECS s of 720x480 at 30000/1001 (60000/1001 fields)"
echo
echo "| filter | wall s, 1 thread | wall s, $CORES threads | ratio | CPU s, 1 | CPU s, $CORES | pays |"
echo "|---|---|---|---|---|---|---|"
python3 - "$CORES" <<-'EOF'
	import statistics, sys
	cores = sys.argv[1]
	rows = [l.rsplit(None, 3) for l in open("results.txt")]
	names = list(dict.fromkeys(r[0] for r in rows))
	for name in names:
	    med = {}
	    for n in ("1", cores):
	        rs = [r for r in rows if r[0] == name and r[1] == n]
	        med[n] = (statistics.median(float(r[2]) for r in rs), statistics.median(float(r[3]) for r in rs))
	    ratio = med[cores][0] / med["1"][0]
	    print(f"| `{name}` | {med['1'][0]:.2f} | {med[cores][0]:.2f} | {ratio:.2f} | {med['1'][1]:.2f} | "
	          f"{med[cores][1]:.2f} | {'yes' if ratio < 0.9 else 'no'} |")
EOF
