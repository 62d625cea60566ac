#!/usr/bin/env bash
# deinterlace.sh: how well each deinterlacer gives back the progressive truth (issue 26), as
# markdown tables for bench/RESULTS.md. The clips (tests/media/make_deint_clip.sh) are
# progressive pictures at the field rate, interlaced with tinterlace; every deinterlacer makes
# one frame per field, and frame k is compared with truth frame k:
#
#   PSNR-Y and SSIM (all planes) against the truth, per clip;
#   shimmer: the mean luma change from one output frame to the next over the still text of
#     the text clip (the truth's is 0: anything there is the deinterlacer's flicker);
#   jaggies: the mean luma error over the diagonal clip (hard-edged stripes 30 degrees off
#     the horizontal, moving), where every error is along an edge.
#
# Ours runs as vhs-deinterlace (y4m in and out, two threads), which also gives its speed: the
# deinterlacer's own, from a y4m file decoded before (in a run the decode is another stage's).
#
# Usage: bench/deinterlace.sh [WORKDIR]   (make bench-deinterlace; clips cached in WORKDIR)
# DEINT_SECONDS (default 2) sets the clips' length.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$ROOT/build/bench-deinterlace}"
SECS="${DEINT_SECONDS:-2}"
mkdir -p "$WORK"
cd "$WORK"

die() {
	echo "bench/deinterlace.sh: $*" >&2
	exit 1
}

# The clips: NAME CLIP STANDARD ORDER [--noise]
CLIPS=(
	"pan-slow pan-slow ntsc tff"
	"pan-fast pan-fast ntsc tff"
	"shake shake ntsc bff"
	"zoom zoom ntsc tff"
	"blinds blinds ntsc tff"
	"text text ntsc tff"
	"diagonal diagonal ntsc tff"
	"testsrc testsrc ntsc tff"
	"pal-pan-slow pan-slow pal bff"
	"pal-zoom zoom pal tff"
	"noisy-pan-slow pan-slow ntsc tff --noise"
	"noisy-shake shake ntsc bff --noise"
)

# The deinterlacers: NAME and the ffmpeg filter (PARITY: the clip's field order), or
# mc:PRESET for ours (vhs-deinterlace, the same frames as `deinterlace = "mc"`).
METHODS=(
	"mc-fast mc:fast"
	"mc-medium mc:medium"
	"mc-slow mc:slow"
	"bwdif bwdif=mode=send_field:parity=PARITY:deint=all"
	"yadif yadif=mode=send_field:parity=PARITY:deint=all"
	"w3fdif w3fdif=filter=complex:mode=field:parity=PARITY:deint=all"
	"estdif estdif=mode=field:parity=PARITY:deint=all"
)

echo "making clips in $WORK ..." >&2
for c in "${CLIPS[@]}"; do
	set -- $c
	[ -s "$1.mkv" ] && [ -s "$1.truth.mkv" ] && continue
	"$ROOT/tests/media/make_deint_clip.sh" "$2" "$3" "$4" "$SECS" "$1.mkv" "$1.truth.mkv" ${5:-} ||
		die "make_deint_clip.sh failed for $1"
done

# deint CLIP METHOD FILTER ORDER: CLIP deinterlaced by FILTER into CLIP.METHOD.mkv (lossless);
# our deinterlacer's output frames a second go to CLIP.METHOD.fps.
deint() {
	[ -s "$1.$2.mkv" ] && return 0
	if [[ "$3" == mc:* ]]; then
		# decoded first, so the speed is the deinterlacer's, not shared with ffmpeg's decoder
		ffmpeg -nostdin -v error -y -i "$1.mkv" -f yuv4mpegpipe -strict -1 "$1.in.y4m" ||
			die "decoding $1 failed"
		"$ROOT/build/bin/vhs-deinterlace" --preset "${3#mc:}" --order "$4" "$1.in.y4m" "$1.$2.y4m" 2>"$1.$2.log" ||
			die "$2 failed on $1: $(cat "$1.$2.log")"
		rm -f "$1.in.y4m"
		sed -n 's/.* \([0-9.]*\) fps .*/\1/p' "$1.$2.log" >"$1.$2.fps"
		ffmpeg -nostdin -v error -y -i "$1.$2.y4m" -c:v ffv1 -level 3 -threads 1 "$1.$2.mkv" || die "$2: ffv1 failed"
		rm -f "$1.$2.y4m"
		return 0
	fi
	ffmpeg -nostdin -v error -y -i "$1.mkv" -vf "$3" -c:v ffv1 -level 3 -threads 1 "$1.$2.mkv" ||
		die "$2 failed on $1"
}

# quality OUT TRUTH: "PSNR-Y SSIM", frame k against frame k.
quality() {
	ffmpeg -nostdin -hide_banner -i "$1" -i "$2" -lavfi \
		"[0]setpts=N/(60*TB),split[a0][a1];[1]setpts=N/(60*TB),split[b0][b1];[a0][b0]psnr;[a1][b1]ssim" \
		-f null - 2>&1 | awk '/PSNR y:/ { for (i = 1; i <= NF; i++) if ($i ~ /^y:/) p = substr($i, 3) }
			/SSIM Y:/ { for (i = 1; i <= NF; i++) if ($i ~ /^All:/) s = substr($i, 5) }
			END { printf "%s %s\n", p, s }'
}

# mean_luma CHAIN FILE: the mean over frames of YAVG after CHAIN.
mean_luma() {
	ffmpeg -nostdin -hide_banner -i "$2" -vf "$1,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-" \
		-f null - 2>/dev/null | awk -F= '/YAVG/ { s += $2; n++ } END { printf "%.3f", n ? s / n : 0 }'
}

# shimmer OUT: mean luma change between consecutive frames over the text clip's still text.
shimmer() { mean_luma "crop=560:210:30:20,tblend=all_mode=difference" "$1"; }

# jaggies OUT TRUTH: mean luma error against the truth.
jaggies() {
	ffmpeg -nostdin -hide_banner -i "$1" -i "$2" -lavfi \
		"[0]setpts=N/(60*TB)[a];[1]setpts=N/(60*TB)[b];[a][b]blend=all_mode=difference,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-" \
		-f null - 2>/dev/null | awk -F= '/YAVG/ { s += $2; n++ } END { printf "%.3f", n ? s / n : 0 }'
}

echo "## PSNR-Y (dB) and SSIM against the truth, per clip"
echo
header="| clip |"
rule="| --- |"
for m in "${METHODS[@]}"; do
	set -- $m
	header="$header $1 |"
	rule="$rule --- |"
done
echo "$header"
echo "$rule"
declare -A sum
for c in "${CLIPS[@]}"; do
	set -- $c
	clip="$1" order="$4"
	row="| $clip |"
	for m in "${METHODS[@]}"; do
		set -- $m
		deint "$clip" "$1" "${2//PARITY/$order}" "$order"
		read -r p s < <(quality "$clip.$1.mkv" "$clip.truth.mkv")
		sum[$1]="$(awk -v a="${sum[$1]:-0}" -v b="$p" 'BEGIN { print a + b }')"
		row="$row $p / $s |"
	done
	echo "$row"
done
row="| mean PSNR-Y |"
for m in "${METHODS[@]}"; do
	set -- $m
	row="$row $(awk -v a="${sum[$1]}" -v n="${#CLIPS[@]}" 'BEGIN { printf "%.3f", a / n }') |"
done
echo "$row"
echo

echo "## shimmer (still text) and jaggies (moving diagonals), mean luma codes: lower is better"
echo
echo "| method | shimmer | jaggies |"
echo "| --- | --- | --- |"
echo "| truth | $(shimmer text.truth.mkv) | 0 |"
for m in "${METHODS[@]}"; do
	set -- $m
	echo "| $1 | $(shimmer "text.$1.mkv") | $(jaggies "diagonal.$1.mkv" diagonal.truth.mkv) |"
done
echo

echo "## speed of ours (vhs-deinterlace, two threads, output frames a second, per clip)"
echo
echo "| clip | fast | medium | slow |"
echo "| --- | --- | --- | --- |"
for c in "${CLIPS[@]}"; do
	set -- $c
	echo "| $1 | $(cat "$1.mc-fast.fps") | $(cat "$1.mc-medium.fps") | $(cat "$1.mc-slow.fps") |"
done

# The pictures for the user guide: bwdif and ours side by side, frame 31 (a second field),
# on the still text and on the moving diagonals, cropped and enlarged 2x (nearest
# neighbour, so each sample shows).
picture() { # CLIP X Y W H OUT
	ffmpeg -nostdin -v error -y -i "$1.truth.mkv" -i "$1.bwdif.mkv" -i "$1.mc-medium.mkv" -lavfi \
		"[0]select=eq(n\,31),crop=$4:$5:$2:$3,scale=iw*2:ih*2:flags=neighbor,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text=truth:x=6:y=6:fontsize=18:fontcolor=yellow:box=1:boxcolor=black@0.6[t];
		 [1]select=eq(n\,31),crop=$4:$5:$2:$3,scale=iw*2:ih*2:flags=neighbor,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text=bwdif:x=6:y=6:fontsize=18:fontcolor=yellow:box=1:boxcolor=black@0.6[b];
		 [2]select=eq(n\,31),crop=$4:$5:$2:$3,scale=iw*2:ih*2:flags=neighbor,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text=mc (medium):x=6:y=6:fontsize=18:fontcolor=yellow:box=1:boxcolor=black@0.6[m];
		 [t][b][m]hstack=inputs=3" -frames:v 1 "$6" || die "the picture $6 failed"
}
mkdir -p "$ROOT/docs/images"
picture text 36 24 200 100 "$ROOT/docs/images/deinterlace-text.png"
picture diagonal 200 200 200 100 "$ROOT/docs/images/deinterlace-diagonal.png"
echo
echo "pictures: docs/images/deinterlace-text.png, docs/images/deinterlace-diagonal.png"
