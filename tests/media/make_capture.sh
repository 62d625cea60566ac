#!/usr/bin/env bash
# make_capture.sh: makes a capture of a known scan type from a real photograph, for the video
# analysis's tests: a 1600-pixel-wide view of the photograph panned by a camera (300 px/s
# across, 40 px/s down) with light grain, then scanned as KIND, flagged as FLAG.
#
#   make_capture.sh KIND ORDER SECONDS OUT.mkv [--flag tff|bff|progressive] [--sar N:D]
#
#   KIND   interlaced   each field its own instant (59.94 fields/s)
#          progressive  29.97 frames/s, both fields of one instant
#          telecine     23.976 film frames in 3:2 pulldown to 29.97 (libavfilter's telecine)
#   ORDER  tff | bff    the field first in time (progressive: ignored)
#   FLAG   what the file says (default: the truth; interlaced and telecine say ORDER)
#   SAR    pixel aspect flagged (default 8:9: 720x480 NTSC at 4:3; 32:27 is 16:9)
# The photograph: nature/Garden.jpg of Debian's mate-backgrounds (GPL-2+, by Charles
# Barbin), which `make deps` installs. 720x480 yuv422p FFV1, bit-exact muxing: the same
# arguments give the same bytes.
set -euo pipefail

PHOTO=/usr/share/backgrounds/mate/nature/Garden.jpg

die() {
	echo "make_capture.sh: $*" >&2
	exit 1
}

(($# >= 4)) || die "usage: make_capture.sh KIND ORDER SECONDS OUT.mkv [--flag F] [--sar N:D]"
kind="$1" order="$2" seconds="$3" out="$4"
shift 4
flag="" sar="8/9"
while (($#)); do
	case "$1" in
	--flag) flag="$2"; shift 2 ;;
	--sar) sar="${2/:/\/}"; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done
[ -r "$PHOTO" ] || die "$PHOTO is missing: run make deps (package mate-backgrounds)"
case "$order" in tff | bff) ;; *) die "ORDER must be tff or bff" ;; esac
pan="scale=1600:-2,crop=720:480:x='100+t*300':y='50+t*40',format=yuv422p,noise=alls=6:allf=t"
first=top
[ "$order" = bff ] && first=bottom
case "$kind" in
interlaced) rate=60000/1001 scan="tinterlace=mode=interleave_$first" ;;
progressive) rate=30000/1001 scan="null" ;;
telecine) rate=24000/1001 scan="telecine=first_field=$first:pattern=23" ;;
*) die "KIND must be interlaced, progressive or telecine" ;;
esac
if [ -z "$flag" ]; then
	flag="$order"
	[ "$kind" = progressive ] && flag=progressive
fi
case "$flag" in tff | bff) setfield="setfield=$flag" ;; progressive) setfield="setfield=prog" ;; *) die "bad --flag" ;; esac

mkdir -p "$(dirname -- "$out")"
tmp="$out.tmp.$$.mkv"
trap 'rm -f -- "$tmp"' EXIT
ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -framerate "$rate" -i "$PHOTO" -t "$seconds" \
	-filter_threads 1 -vf "$pan,$scan,$setfield,setsar=$sar" -c:v ffv1 -level 3 -g 1 -threads 1 \
	-fflags +bitexact -flags:v +bitexact "$tmp" || die "ffmpeg failed making $out"
mv -f -- "$tmp" "$out"
trap - EXIT
