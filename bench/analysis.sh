#!/usr/bin/env bash
# analysis.sh: what the video analysis finds and what its repairs give (issue 25), on
# captures of a known truth (tests/media/make_capture.sh: a real photograph panned, scanned,
# damaged), as markdown tables for bench/RESULTS.md:
#
#   1. detection: each capture's truth against what the analysis found;
#   2. repairs: PSNR against the truth (lossless FFV1 4:2:2, 720x480, no deinterlacing unless
#      the capture needs it) as captured, and with the repair the analysis chose;
#   3. clean captures: the repairs on "auto" against all off (nothing applied that was not
#      needed: the same frames, so an infinite PSNR between the two);
#   4. the vhs preset against the old fixed chain (drawbox 12 lines, bwdif, 1440x1080) on
#      each kind of capture: frame rate, frame count, display size.
#
# Usage: bench/analysis.sh [WORKDIR]   (make bench-analysis; captures cached in WORKDIR)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/build/bin"
WORK="${1:-$ROOT/build/bench-analysis}"
SECONDS_LONG=3
mkdir -p "$WORK"
cd "$WORK"

die() {
	echo "bench/analysis.sh: $*" >&2
	exit 1
}

# capture NAME KIND [flags...]: NAME.mkv and NAME.truth.mkv (made once).
capture() {
	local name="$1" kind="$2"
	shift 2
	[ -s "$name.mkv" ] && [ -s "$name.truth.mkv" ] && return 0
	"$ROOT/tests/media/make_capture.sh" "$kind" tff "$SECONDS_LONG" "$name.mkv" "$@" --truth "$name.truth.mkv" ||
		die "make_capture.sh failed for $name"
}

# analysis NAME KEY: a value of NAME's analysis file (made once).
analysis() {
	[ -s "$1.an" ] || "$BIN/vhs-stage-decode" --analyze-video "$1.mkv" "$1.an" >/dev/null
	sed -n "s/^$2=//p" "$1.an"
}

# restore NAME OUT [section.key=value...]: NAME.mkv restored lossless at its own size.
restore() {
	local name="$1" out="$2" arg
	shift 2
	{
		printf 'input = "%s.mkv"\noutput = "%s"\n' "$name" "$out"
		printf '[upscale]\nmodel = "lanczos"\nwidth = 720\nheight = 480\n'
		printf '[encode]\ncodec = "ffv1"\npix_fmt = "yuv422p"\n'
		printf '[video]\ndeinterlace = "none"\nlevels = "off"\nchroma_shift = "off"\nhead_switching = "off"\ndropouts = "off"\n'
	} >"$out.toml"
	local -a sets=()
	for arg in "$@"; do sets+=(--set "$arg"); done
	"$BIN/vhs-orchestrate" run --force --progress=none "${sets[@]}" "$out.toml" >/dev/null 2>"$out.log" ||
		die "the run of $out failed: $(tail -3 "$out.log")"
}

# psnr A B PLANE: PSNR in dB of plane y, u or v of A against B.
psnr() {
	ffmpeg -nostdin -hide_banner -i "$1" -i "$2" -lavfi "[0][1]psnr" -f null - 2>&1 |
		sed -n "s/.*PSNR .*$3:\([0-9.]*\|inf\) .*/\1/p" | tail -1
}

echo "making captures in $WORK ..." >&2
capture clean-i interlaced --blanking
capture clean-p progressive --blanking
capture telecine telecine
capture chroma progressive --chroma 1.5,0
capture chroma-iv interlaced --chroma 1,1
capture setup interlaced --letterbox --setup
capture headsw interlaced --blanking --head-switching 10
capture dropouts interlaced --dropouts 3
capture letterbox interlaced --letterbox
capture wide interlaced --sar 32:27
# a tape that changes from film to video: the telecine capture, then the clean interlaced one
if [ ! -s mixed.mkv ]; then
	printf "file '%s'\n" "$WORK/telecine.mkv" "$WORK/clean-i.mkv" >mixed.list
	ffmpeg -nostdin -v error -y -f concat -safe 0 -i mixed.list -c copy mixed.mkv || die "joining mixed.mkv failed"
fi

echo "## detection"
echo
echo "| capture | truth | found |"
echo "| --- | --- | --- |"
echo "| clean-i (interlaced tff, blanking) | interlaced tff | $(analysis clean-i scan) $(analysis clean-i field_order) ($(analysis clean-i scan_confidence)) |"
echo "| clean-p (progressive, blanking) | progressive | $(analysis clean-p scan) ($(analysis clean-p scan_confidence)) |"
echo "| telecine (3:2, tff) | telecine tff | $(analysis telecine scan) $(analysis telecine field_order) ($(analysis telecine scan_confidence)) |"
echo "| chroma (1.5 px right) | 1.50, 0.00 | $(analysis chroma chroma_dx), $(analysis chroma chroma_dy) |"
echo "| chroma-iv (1 px right, 1 line down, interlaced) | 1.00, 1.00 | $(analysis chroma-iv chroma_dx), $(analysis chroma-iv chroma_dy) |"
echo "| clean-i chroma | 0, 0 | $(analysis clean-i chroma_dx), $(analysis clean-i chroma_dy) |"
echo "| setup (7.5 IRE, letterboxed) | setup, black 32.4 | setup=$(analysis setup setup), black $(analysis setup black) ($(analysis setup levels_confidence)) |"
echo "| letterbox (no setup) | no setup, black 16 | setup=$(analysis letterbox setup), black $(analysis letterbox black) |"
echo "| letterbox borders | 60 above, 60 below | $(analysis letterbox border_top) above, $(analysis letterbox border_bottom) below |"
echo "| headsw (10-line band) | 10 lines | $(analysis headsw head_switching_lines) lines ($(analysis headsw head_switching_frames) frames) |"
echo "| clean-i band | 0 | $(analysis clean-i head_switching_lines) |"
echo "| dropouts (3 sources, each on half the frames) | 1.5 a frame | $(analysis dropouts dropouts_per_frame) a frame |"
echo "| clean-i, telecine dropouts | 0 | $(analysis clean-i dropouts_per_frame), $(analysis telecine dropouts_per_frame) |"
echo "| wide (SAR 32:27) | 16:9 | sar $(analysis wide sar) |"
analysis mixed scan >/dev/null
mixed_runs="$(sed -n 's/^run\.[0-9]*=[0-9.]* \([a-z]*\) .*/\1/p' mixed.an | uniq -c |
	awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }')"
echo "| mixed (3 s telecine, then 3 s interlaced) | mixed: film, then video | $(analysis mixed scan); runs in order: $mixed_runs |"
echo

echo "## repairs (PSNR in dB against the truth; lossless)"
echo
echo "| capture | repair | plane | as captured | repaired | gain |"
echo "| --- | --- | --- | --- | --- | --- |"
row() { # NAME REPAIR PLANE OUT
	local before after
	before="$(psnr "$1.mkv" "$1.truth.mkv" "$3")"
	after="$(psnr "$4" "$1.truth.mkv" "$3")"
	echo "| $1 | $2 | $3 | $before | $after | $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%+.2f", a - b }') |"
}
restore chroma chroma-fixed.mkv video.chroma_shift=auto
row chroma "chroma_shift auto" u chroma-fixed.mkv
row chroma "chroma_shift auto" v chroma-fixed.mkv
restore setup setup-fixed.mkv video.levels=auto
row setup "levels auto" y setup-fixed.mkv
restore headsw headsw-fixed.mkv video.head_switching=auto
row headsw "head_switching auto" y headsw-fixed.mkv
restore headsw headsw-masked.mkv video.filters=drawbox=x=0:y=ih-12:w=iw:h=12:color=black:t=fill
row headsw "old mask (drawbox 12)" y headsw-masked.mkv
restore dropouts dropouts-fixed.mkv video.dropouts=auto
row dropouts "dropouts auto" y dropouts-fixed.mkv
restore telecine telecine-ivtc.mkv video.deinterlace=auto
echo "| telecine | deinterlace auto (ivtc) against the film frames | y | - | $(psnr telecine-ivtc.mkv telecine.truth.mkv y) | - |"
# film_psnr OUT: the mixed tape's film stretch (the first 2 s, at 59.94 fps: the ticks where
# 3:2 starts a new film frame, 48 of them) against the film frames
film_psnr() {
	ffmpeg -nostdin -hide_banner -i "$1" -i telecine.truth.mkv -lavfi \
		"[0]select='not(mod(n\,5))+eq(mod(n\,5)\,3)',trim=end_frame=48,setpts=N/(24*TB)[a];[1]trim=end_frame=48,setpts=N/(24*TB)[b];[a][b]psnr" \
		-f null - 2>&1 | sed -n "s/.*PSNR .*y:\([0-9.]*\|inf\) .*/\1/p" | tail -1
}
restore mixed mixed-auto.mkv video.deinterlace=auto run.segment_seconds=1
restore mixed mixed-bwdif.mkv video.deinterlace=bwdif run.segment_seconds=1
echo "| mixed | film stretch, deinterlace auto (stretch by stretch) against the film frames; as captured: bwdif throughout | y | $(film_psnr mixed-bwdif.mkv) | $(film_psnr mixed-auto.mkv) | - |"
echo

echo "## clean captures: repairs on auto against all off (same frames: inf)"
echo
echo "| capture | PSNR-Y auto vs off | chain chosen |"
echo "| --- | --- | --- |"
for c in clean-i clean-p letterbox; do
	restore "$c" "$c-auto.mkv" video.levels=auto video.chroma_shift=auto video.head_switching=auto video.dropouts=auto
	restore "$c" "$c-off.mkv"
	echo "| $c | $(psnr "$c-auto.mkv" "$c-off.mkv" y) | $(sed -n 's/^vhs-orchestrate: video: .*head switching/head switching/p' "$c-auto.mkv.log" | cut -c1-120)... |"
done
echo

echo "## the vhs preset against the old fixed chain"
echo
echo "| capture | chain | fps | frames | size |"
echo "| --- | --- | --- | --- | --- |"
old_chain="drawbox=x=0:y=ih-12:w=iw:h=12:color=black:t=fill,bwdif=mode=send_field,hqdn3d=3:2:3:2,eq=contrast=1.1:brightness=0.05:saturation=1.05"
for c in clean-i clean-p telecine wide mixed; do
	for chain in preset old; do
		{
			printf 'input = "%s.mkv"\noutput = "%s-%s.mkv"\npreset = "vhs"\n' "$c" "$c" "$chain"
			printf '[run]\nsegment_seconds = 1\n'
			if [ "$chain" = old ]; then
				printf '[video]\ndeinterlace = "none"\nlevels = "off"\nchroma_shift = "off"\nhead_switching = "off"\n'
				printf 'dropouts = "off"\nfilters = "%s"\n[upscale]\nwidth = 1440\n' "$old_chain"
			fi
			printf '[encode]\ncodec = "ffv1"\n[audio]\nenhance = "none"\n'
		} >"$c-$chain.toml"
		"$BIN/vhs-orchestrate" run --force --progress=none "$c-$chain.toml" >/dev/null 2>"$c-$chain.log" ||
			die "the $chain run of $c failed"
		echo "| $c | $chain | $(ffprobe -v error -select_streams v -show_entries stream=avg_frame_rate -of csv=p=0 "$c-$chain.mkv") |" \
			"$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$c-$chain.mkv") |" \
			"$(ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=s=x:p=0 "$c-$chain.mkv") |"
	done
done
