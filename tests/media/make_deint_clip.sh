#!/usr/bin/env bash
# make_deint_clip.sh: a deinterlacing test clip and its ground truth (issue 26): a progressive
# picture at the field rate (the truth: what a perfect deinterlacer gives back, one frame per
# field), and the interlaced capture made from it with tinterlace (each field taken from its
# own truth frame, so output frame k of a deinterlacer is compared with truth frame k).
#
#   make_deint_clip.sh CLIP STANDARD ORDER SECONDS OUT.mkv TRUTH.mkv [--noise]
#
#   CLIP      pan-slow   a photograph panned slowly (37 px/s across, 13 down: sub-pixel steps)
#             pan-fast   another panned fast and diagonally (420 px/s across, 160 down)
#             shake      a photograph shaken by a hand-held camera (two sines each way)
#             zoom       a photograph zoomed into (10% a second)
#             blinds     window blinds (fine horizontal stripes) drifting down 9 px/s:
#                        the detail that shimmers
#             text       small text, still, over a still photograph, with a box moving below
#                        it: shimmer on still detail
#             diagonal   hard-edged stripes 30 degrees off the horizontal moving across:
#                        jaggies on moving diagonals
#             testsrc    libavfilter's testsrc2 (moving shapes, a clock, colour bars)
#   STANDARD  ntsc: 720x480, truth 60000/1001 frames/s, capture 30000/1001 interlaced
#             pal:  720x576, truth 50 frames/s, capture 25 interlaced
#   ORDER     tff | bff: the field first in time
#   --noise   grain on every field of the capture (the truth stays clean)
#
# Camera motion is made at four times the size and scaled down with an area filter, so the
# picture moves in quarter-pixel steps without aliasing of its own. Photographs come from
# Debian's mate-backgrounds (installed by `make deps`), text in DejaVu Sans (fonts-dejavu-core).
# Both files: yuv422p FFV1, bit-exact muxing (the same arguments give the same bytes).
set -euo pipefail

BG=/usr/share/backgrounds/mate
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

die() {
	echo "make_deint_clip.sh: $*" >&2
	exit 1
}

(($# >= 6)) || die "usage: make_deint_clip.sh CLIP STANDARD ORDER SECONDS OUT.mkv TRUTH.mkv [--noise]"
clip="$1" standard="$2" order="$3" seconds="$4" out="$5" truth="$6"
noise=0
[ "${7:-}" = --noise ] && noise=1
case "$standard" in
ntsc) w=720 h=480 rate=60000/1001 ;;
pal) w=720 h=576 rate=50 ;;
*) die "STANDARD must be ntsc or pal" ;;
esac
case "$order" in tff) first=top ;; bff) first=bottom ;; *) die "ORDER must be tff or bff" ;; esac

# pan PHOTO WIDTH X Y: PHOTO scaled to WIDTH (at 4x), a w x h view at (X, Y) (expressions
# of t, in output pixels), scaled down to w x h
pan() {
	local photo="$1" width="$2" x="$3" y="$4"
	input=(-loop 1 -framerate "$rate" -i "$BG/$photo")
	chain="scale=$((4 * width)):-2:in_h_chr_pos=0:in_v_chr_pos=0,format=yuv444p"
	chain="$chain,crop=$((4 * w)):$((4 * h)):x='4*($x)':y='4*($y)',scale=$w:$h:flags=area"
}

input=()
case "$clip" in
pan-slow) pan nature/Garden.jpg 1600 "100+t*37" "50+t*13" ;;
pan-fast) pan abstract/Elephants.jpg 2400 "100+t*420" "60+t*160" ;;
shake) pan nature/Wood.jpg 1400 "200+9*sin(2*PI*t*2.7)+4*sin(2*PI*t*7.1)" "150+6*sin(2*PI*t*3.3)+3*sin(2*PI*t*6.1)" ;;
blinds) pan nature/Blinds.jpg 1200 "80" "40+t*9" ;;
zoom)
	input=(-loop 1 -framerate "$rate" -i "$BG/nature/LadyBird.jpg")
	# the view shrinks 10% a second around the centre, drawn at 4x and scaled down
	chain="scale=$((4 * 1200)):-2:in_h_chr_pos=0:in_v_chr_pos=0,format=yuv444p"
	chain="$chain,zoompan=z='1+0.1*in/($rate)':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1"
	chain="$chain:s=$((4 * w))x$((4 * h)):fps=$rate,scale=$w:$h:flags=area"
	;;
text)
	[ -r "$FONT" ] || die "$FONT is missing: run make deps (package fonts-dejavu-core)"
	input=(-loop 1 -framerate "$rate" -i "$BG/nature/Dune.jpg")
	chain="scale=$w:$h:force_original_aspect_ratio=increase,crop=$w:$h,format=yuv444p"
	for i in 0 1 2 3 4 5; do
		chain="$chain,drawtext=fontfile=$FONT:fontsize=$((11 + i)):fontcolor=white:box=1:boxcolor=black@0.6"
		chain="$chain:x=40:y=$((30 + 36 * i)):text='Line $i - the quick brown fox jumps over the lazy dog 0123456789'"
	done
	chain="$chain,drawbox=x='40+mod(t*200\\,560)':y=$((h - 120)):w=80:h=60:color=orange:t=fill"
	;;
diagonal)
	input=(-f lavfi -i "color=c=gray:s=${w}x$h:r=$rate")
	chain="format=yuv444p,geq=lum='128+90*clip(2.5*sin(2*PI*((X*0.5+Y*0.866)-T*50)/24)\,-1\,1)':cb=128:cr=128"
	;;
testsrc)
	input=(-f lavfi -i "testsrc2=s=${w}x$h:r=$rate")
	chain="format=yuv444p"
	;;
*) die "unknown CLIP '$clip'" ;;
esac

# make_one CHAIN DEST: the source through CHAIN into DEST (via a temporary file)
make_one() {
	local c="$1" dest="$2" tmp
	mkdir -p "$(dirname -- "$dest")"
	tmp="$dest.tmp.$$.mkv"
	trap 'rm -f -- "$tmp"' EXIT
	ffmpeg -nostdin -hide_banner -loglevel error -y "${input[@]}" -t "$seconds" \
		-filter_threads 1 -vf "$c" -c:v ffv1 -level 3 -g 1 -threads 1 \
		-fflags +bitexact -flags:v +bitexact "$tmp" || die "ffmpeg failed making $dest"
	mv -f -- "$tmp" "$dest"
	trap - EXIT
}

base="$chain,format=yuv422p"
grain="null"
((noise)) && grain="noise=alls=8:allf=t"
make_one "$base,setfield=prog,setsar=1" "$truth"
make_one "$base,$grain,tinterlace=mode=interleave_$first,setfield=$order,setsar=1" "$out"
