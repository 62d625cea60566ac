#!/usr/bin/env bash
# run.sh: `make bench`, the reference benchmark of issue 2 (results go in bench/RESULTS.md).
#
# Restores 20 s of 480i NTSC DV with PCM audio to 1440x1080 two ways, alternating runs:
#   pipeline: build/bin/vhs-orchestrate run --stats job.toml (preset none, the chain below)
#   ffmpeg:   the same job as one ffmpeg command
# and prints the median wall time of each, the ratio pipeline/ffmpeg, the CPU seconds per
# stage (from --stats), the CPU seconds of each whole process tree, and the peak total memory
# of each process tree (the sum of Pss over the process and its descendants, sampled every
# 50 ms by bench/measure.py: shared memory counted once), then a Markdown block for
# bench/RESULTS.md. The job itself (tape, chain, encodings) is in bench/lib.sh, shared with
# bench/crash.sh.
#
# Environment: BENCH_RUNS (runs of each, default 3), BENCH_SECONDS (tape length, default 20),
# VHS_BIN_DIR (default build/bin), BENCH_CODEC (x264, the reference job, or ffv1: the same
# chain encoded losslessly with ffv1 + pcm_s16le, where encoding no longer dwarfs the rest).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
ORCH="${VHS_BIN_DIR:-$ROOT/build/bin}/vhs-orchestrate"
WORK="$ROOT/build/bench"
RUNS="${BENCH_RUNS:-3}"
TAPE_SECONDS="${BENCH_SECONDS:-20}"
STAGES=(decode preprocess upscale audio encode)

. "$ROOT/bench/lib.sh"
encode_settings "${BENCH_CODEC:-x264}"

FFMPEG_CMD=(ffmpeg -nostdin -hide_banner -loglevel error -y -i tape.avi
	-vf "$VF,scale=$WIDTH:$HEIGHT:flags=lanczos,format=yuv420p" -af "$AF"
	"${ENC_ARGS[@]}" ffmpeg.mkv)
PIPE_CMD=("$ORCH" run --force --progress=none --stats job.toml)

# measure NAME I CMD...: one measured run in $WORK; result in NAME-I.json, stderr in NAME-I.err.
measure() {
	local name="$1" i="$2"
	shift 2
	rm -f "$WORK/$name.mkv"
	if ! (cd "$WORK" && python3 "$ROOT/bench/measure.py" --out "$name-$i.json" -- "$@" 2>"$name-$i.err"); then
		sed 's/^/    /' "$WORK/$name-$i.err" >&2
		die "run $i of $name failed: $(printf '%q ' "$@")"
	fi
	printf '  %-8s run %d: %s\n' "$name" "$i" "$(json_fields "$WORK/$name-$i.json")"
}

video_packets() {
	ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets \
		-of default=nw=1:nk=1 "$1" 2>/dev/null || echo "?"
}

json_fields() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("wall %.2f s, cpu %.2f s, peak Pss %.0f MiB" % (r["wall_s"], r["user_s"]+r["sys_s"], r["peak_pss_kb"]/1024))' "$1"
}

# summary: medians over the runs, stage CPU, and the Markdown block.
summary() {
	python3 - "$WORK" "$RUNS" "${STAGES[*]}" <<-'EOF'
		import json, re, statistics, sys
		work, runs, stages = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
		med = statistics.median
		def load(name):
		    return [json.load(open(f"{work}/{name}-{i}.json")) for i in range(1, runs + 1)]
		pipe, ff = load("pipeline"), load("ffmpeg")
		stage_cpu = {s: [] for s in stages}
		for i in range(1, runs + 1):
		    for line in open(f"{work}/pipeline-{i}.err"):
		        m = re.match(r"stats: (\S+) cpu_user=([0-9.]+) cpu_sys=([0-9.]+) maxrss_kb=(\d+)", line)
		        if m and m.group(1) in stage_cpu:
		            stage_cpu[m.group(1)].append(float(m.group(2)) + float(m.group(3)))
		def row(name, rs):
		    return (name, med(r["wall_s"] for r in rs), med(r["user_s"] + r["sys_s"] for r in rs),
		            max(r["peak_pss_kb"] for r in rs) / 1024, max(r["peak_shm_kb"] for r in rs) / 1024)
		rows = [row("pipeline", pipe), row("ffmpeg", ff)]
		ratio = rows[0][1] / rows[1][1]
		out = []
		out.append(f"| | median wall (s) | median CPU user+sys (s) | peak memory, Pss of the process tree (MiB) | peak /dev/shm (MiB) |")
		out.append("|---|---:|---:|---:|---:|")
		for n, w, c, p, s in rows:
		    out.append(f"| {n} | {w:.2f} | {c:.2f} | {p:.0f} | {s:.0f} |")
		out.append("")
		out.append(f"Wall-time ratio pipeline/ffmpeg: **{ratio:.3f}** (target <= 0.95)")
		out.append("")
		out.append("| stage | median CPU user+sys (s) |")
		out.append("|---|---:|")
		total = 0.0
		for s in stages:
		    v = stage_cpu[s]
		    if v:
		        total += med(v)
		        out.append(f"| {s} | {med(v):.2f} |")
		    else:
		        out.append(f"| {s} | (no stats line) |")
		out.append(f"| all stages | {total:.2f} |")
		print("\n".join(out))
	EOF
}

main() {
	[ -x "$ORCH" ] || die "$ORCH is missing: run make first"
	command -v python3 >/dev/null || die "python3 is needed (make deps)"
	mkdir -p "$WORK"
	rm -f "$WORK"/pipeline-*.json "$WORK"/ffmpeg-*.json "$WORK"/pipeline-*.err "$WORK"/ffmpeg-*.err
	echo "bench: making ${TAPE_SECONDS} s of 480i NTSC DV with PCM audio (build/bench/tape.avi)"
	make_tape "$TAPE_SECONDS" "$WORK/tape.avi"
	write_job "$WORK/job.toml" pipeline.mkv
	echo "bench: pipeline: $(printf '%q ' "${PIPE_CMD[@]}")"
	echo "bench: ffmpeg:   $(printf '%q ' "${FFMPEG_CMD[@]}")"
	echo "bench: $RUNS runs of each, alternating (in build/bench)"
	local i
	for ((i = 1; i <= RUNS; i++)); do
		measure pipeline "$i" "${PIPE_CMD[@]}"
		measure ffmpeg "$i" "${FFMPEG_CMD[@]}"
	done
	local frames_p frames_f
	frames_p="$(video_packets "$WORK/pipeline.mkv")" frames_f="$(video_packets "$WORK/ffmpeg.mkv")"
	echo "bench: video frames: pipeline $frames_p, ffmpeg $frames_f"
	[ "$frames_p" = "$frames_f" ] || echo "bench: WARNING: the two outputs have different frame counts" >&2
	local table
	table="$(summary)"
	echo
	echo "$table"
	echo
	echo "---- paste into bench/RESULTS.md ----"
	cat <<-EOF
		### $(date -u +%Y-%m-%d) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "")

		- machine: $(machine)
		- command: \`make bench\` (bench/run.sh, BENCH_RUNS=$RUNS, ${TAPE_SECONDS} s of 480i NTSC DV + PCM from tests/media/make_tape.sh)
		- pipeline: \`vhs-orchestrate run --progress=none --stats job.toml\` (preset none, \`$VF\`, ${WIDTH}x${HEIGHT} lanczos, $ENC_DESC, \`$AF\`, mkv)
		- ffmpeg: \`ffmpeg -i tape.avi -vf "$VF,scale=$WIDTH:$HEIGHT:flags=lanczos,format=yuv420p" -af "$AF" ${ENC_ARGS[*]} ffmpeg.mkv\`
		- memory: peak of the sum of Pss over the whole process tree, sampled every 50 ms

		$table
	EOF
	echo "---- end ----"
}

main "$@"
