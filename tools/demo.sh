#!/usr/bin/env bash
# demo.sh: `make demo`. Makes a sample tape (about 5 s of 480i NTSC DV with 48 kHz PCM audio,
# from tests/media/make_tape.sh) in build/demo/tape.avi, restores it with configs/demo.toml
# (preset vhs) into build/demo/tape-restored.mkv, and prints what went in and what came out.
#
#   tools/demo.sh            DEMO_SECONDS=5 by default; extra arguments go to `run`
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
ORCH="${VHS_BIN_DIR:-$ROOT/build/bin}/vhs-orchestrate"
DEMO_DIR="$ROOT/build/demo"
TAPE="$DEMO_DIR/tape.avi"
OUT="$DEMO_DIR/tape-restored.mkv"
JOB="$ROOT/configs/demo.toml"
SECONDS_OF_TAPE="${DEMO_SECONDS:-5}"

die() {
	echo "demo: $*" >&2
	exit 1
}

# probe FILE: a short summary: container, duration, video and audio streams, frame count.
probe() {
	local f="$1" v a frames fmt
	fmt="$(ffprobe -v error -show_entries format=format_name,duration,size,bit_rate \
		-of default=nw=1 "$f" | paste -sd ' ' -)"
	v="$(ffprobe -v error -select_streams v:0 -show_entries \
		stream=codec_name,width,height,pix_fmt,sample_aspect_ratio,r_frame_rate,field_order \
		-of default=nw=1 "$f" | paste -sd ' ' -)"
	a="$(ffprobe -v error -select_streams a:0 -show_entries \
		stream=codec_name,sample_rate,channels,sample_fmt,bit_rate -of default=nw=1 "$f" | paste -sd ' ' -)"
	frames="$(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames \
		-of default=nw=1:nk=1 "$f")"
	printf '  %s\n' "file:   ${f#"$ROOT"/}" "format: $fmt" "video:  $v frames=$frames" "audio:  ${a:-none}"
}

main() {
	[ -x "$ORCH" ] || die "$ORCH is missing: run make first"
	[ -f "$JOB" ] || die "$JOB is missing"
	mkdir -p "$DEMO_DIR"
	echo "demo: making ${SECONDS_OF_TAPE} s of 480i NTSC DV with PCM audio: ${TAPE#"$ROOT"/}"
	"$ROOT/tests/media/make_tape.sh" --standard ntsc --seconds "$SECONDS_OF_TAPE" --codec dv "$TAPE"
	rm -f "$OUT"
	echo "demo: \$ build/bin/vhs-orchestrate run ${*:+$* }configs/demo.toml"
	local t0 rc=0
	t0=$(date +%s.%N)
	"$ORCH" run "$@" "$JOB" || rc=$?
	((rc == 0)) || die "vhs-orchestrate run exited $rc"
	[ -s "$OUT" ] || die "the run succeeded but ${OUT#"$ROOT"/} is missing"
	echo "demo: restored in $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
	echo "input:"
	probe "$TAPE"
	echo "output:"
	probe "$OUT"
}

main "$@"
