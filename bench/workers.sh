#!/usr/bin/env bash
# workers.sh: `make bench-workers`, what worker pools buy (issue 4; results in bench/RESULTS.md).
#
# (a) A preprocess-bound job: BENCH_NL_SECONDS (8) s of 480i NTSC DV, `yadif,nlmeans` (its
#     defaults), 720x480 lanczos, ffv1 + pcm_s16le, 2 s segments. Preprocess with 1 and 2
#     workers, one thread per worker (the pool alone: p1t1, p2t1), and with threads = "auto"
#     (p1ta: one worker whose nlmeans slices may use every core; p2ta: two workers, the
#     cores shared). The stage's throughput is its frames over its active span (--stats
#     active_s: first record in to last record out); the run's wall time is shown too.
# (b) The reference job of bench/lib.sh (bwdif + hqdn3d + eq, 1440x1080, x264 fast crf 18 +
#     aac), BENCH_REF_SECONDS (12) s, 3 s segments: "auto" workers on every stage against
#     hand-picked counts (all 1; preprocess 2; encode 2; preprocess 2 + encode 2).
# Rounds rotate the order of the configurations, so drift of a shared machine falls on all
# alike. Every run goes through bench/measure.py (wall, CPU of the process tree, peak Pss),
# and its output is hashed: within (a) and within the lossless part every configuration
# must give the same frames. The orchestrator's own memory estimate ("memory about N MiB")
# is printed beside the measured peak. Prints medians, ratios and a Markdown block.
#
# Environment: BENCH_RUNS (rounds, default 3), BENCH_REF_RUNS (rounds of (b), default
# BENCH_RUNS), BENCH_NL_SECONDS, BENCH_REF_SECONDS,
# BENCH_PARTS ("nl ref", default both), BENCH_KEEP=1 keeps build/bench/workers, VHS_BIN_DIR.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${VHS_BIN_DIR:-$ROOT/build/bin}"
WORK="$ROOT/build/bench/workers"
RUNS="${BENCH_RUNS:-3}"
read -r -a PARTS <<<"${BENCH_PARTS:-nl ref}"
. "$ROOT/bench/lib.sh"

export TMPDIR="$WORK/tmp"
cleanup() { [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT
rm -rf "$WORK"
mkdir -p "$WORK/bin" "$TMPDIR"
cp "$BIN_DIR"/vhs-orchestrate "$BIN_DIR"/vhs-stage-* "$WORK/bin/"
ORCH="$WORK/bin/vhs-orchestrate"
cd "$WORK"

# run NAME JOB [--set k=v]...: one measured run; appends "NAME wall cpu peak_mib plan_mib
# frames hash preprocess_frames preprocess_active_s" to results.txt.
run() {
	local name="$1" job="$2" out
	shift 2
	out="$name.mkv"
	rm -f "$out"
	"$ROOT/bench/measure.py" --out m.json -- "$ORCH" run --force --progress=none --stats --restart "$job" \
		--set output="$out" "$@" 2>err.txt >/dev/null || { cat err.txt; echo "bench-workers: $name failed" >&2; exit 1; }
	local wall cpu peak plan frames hash
	read -r wall cpu peak < <(python3 -c 'import json,sys; m=json.load(open("m.json")); print(m["wall_s"], m["user_s"]+m["sys_s"], m["peak_pss_kb"]//1024)')
	plan="$(grep -o 'memory about [0-9]*' err.txt | grep -o '[0-9]*$' || echo -)"
	frames="$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$out")"
	hash="$(ffmpeg -nostdin -v error -i "$out" -map 0:v -f framemd5 - | grep -v '^#' | md5sum | cut -c1-12)"
	local pf pa
	pf="$(grep -o '^stats: preprocess .* frames=[0-9]*' err.txt | grep -o '[0-9]*$')"
	pa="$(grep '^stats: preprocess' err.txt | grep -o 'active_s=[0-9.]*' | cut -d= -f2)"
	echo "$name $wall $cpu $peak $plan $frames $hash $pf $pa" >>results.txt
	grep '^vhs-orchestrate: auto workers' err.txt | sed "s/^/$name: /" >>auto.txt || true
	grep '^stats: preprocess' err.txt | sed "s/^/$name: /" >>stats.txt || true
	echo "  $name: ${wall}s wall, ${cpu}s cpu, peak ${peak} MiB (planned ${plan}), $frames frames"
	rm -f "$out"
}

# rounds PART CONFIG...: RUNS rounds of the configurations (NAME:JOB:SETS, SETS comma-separated),
# the order rotating each round.
rounds() {
	local part="$1" r i n
	shift
	local -a cfg=("$@")
	n=${#cfg[@]}
	for ((r = 0; r < RUNS; r++)); do
		echo "bench-workers: $part round $((r + 1)) of $RUNS"
		for ((i = 0; i < n; i++)); do
			local c="${cfg[$(((i + r) % n))]}" name job sets args=()
			IFS=: read -r name job sets <<<"$c"
			IFS=, read -r -a sets <<<"$sets"
			for s in "${sets[@]}"; do [ -z "$s" ] || args+=(--set "$s"); done
			run "$name" "$job" "${args[@]}"
		done
	done
}

# summary NAME...: median wall, fps, CPU, peak, planned memory of each configuration.
summary() {
	python3 - "$@" <<-'EOF'
		import statistics, sys
		rows = [l.split() for l in open("results.txt")]
		med = {}
		for name in sys.argv[1:]:
		    rs = [r for r in rows if r[0] == name]
		    if not rs:
		        continue
		    wall = statistics.median(float(r[1]) for r in rs)
		    cpu = statistics.median(float(r[2]) for r in rs)
		    peak = max(int(r[3]) for r in rs)
		    frames = int(rs[0][5])
		    hashes = sorted(set(r[6] for r in rs))
		    stage = statistics.median(int(r[7]) / float(r[8]) for r in rs)
		    med[name] = (wall, stage)
		    print(f"| {name} | {wall:.2f} | {frames / wall:.1f} | {stage:.2f} | {cpu:.1f} | {peak} | {rs[0][4]} | {' '.join(hashes)} |")
		base = sys.argv[1]
		for name in sys.argv[2:]:
		    if name in med and base in med:
		        print(f"ratio {name} vs {base}: run throughput {med[base][0] / med[name][0]:.3f}, "
		              f"preprocess stage throughput {med[name][1] / med[base][1]:.3f}")
	EOF
}

echo "bench-workers: $(machine); $(date -u +%Y-%m-%d)"
if [[ " ${PARTS[*]} " == *" nl "* ]]; then
	make_tape "${BENCH_NL_SECONDS:-8}" tape.avi >/dev/null
	cat >nl.toml <<-EOF
		input = "tape.avi"
		output = "nl.mkv"
		[video]
		filters = "yadif,nlmeans"
		[upscale]
		width = 720
		height = 480
		[encode]
		codec = "ffv1"
		audio_codec = "pcm_s16le"
		[run]
		segment_seconds = 2
	EOF
	rounds nl "p1t1:nl.toml:stages.preprocess.workers=1,stages.preprocess.threads=1" \
		"p2t1:nl.toml:stages.preprocess.workers=2,stages.preprocess.threads=1" \
		"p1ta:nl.toml:stages.preprocess.workers=1" "p2ta:nl.toml:stages.preprocess.workers=2"
	echo "| config | wall s | run fps | preprocess fps | cpu s | peak MiB | planned MiB | video hash |"
	summary p1t1 p2t1
	summary p1ta p2ta p1t1
	[ "$(awk '$1 ~ /^p/ { print $7 }' results.txt | sort -u | wc -l)" = 1 ] || echo "bench-workers: PROBLEM: the nlmeans outputs differ"
	cat stats.txt
fi
if [[ " ${PARTS[*]} " == *" ref "* ]]; then
	make_tape "${BENCH_REF_SECONDS:-12}" tape.avi >/dev/null
	encode_settings x264
	write_job ref.toml ref.mkv
	printf '\n[run]\nsegment_seconds = 3\n' >>ref.toml
	RUNS="${BENCH_REF_RUNS:-$RUNS}"
	rounds ref "all1:ref.toml:" "pre2:ref.toml:stages.preprocess.workers=2" \
		"enc2:ref.toml:stages.encode.workers=2" \
		"pre2enc2:ref.toml:stages.preprocess.workers=2,stages.encode.workers=2" \
		"auto:ref.toml:stages.decode.workers=auto,stages.preprocess.workers=auto,stages.upscale.workers=auto,stages.audio.workers=auto,stages.encode.workers=auto"
	echo "| config | wall s | run fps | preprocess fps | cpu s | peak MiB | planned MiB | video hash |"
	summary all1 pre2 enc2 pre2enc2 auto
	summary auto all1 pre2 enc2 pre2enc2
	cat auto.txt
fi
