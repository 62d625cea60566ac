#!/usr/bin/env bash
# make_capture.sh: makes a capture of a known truth from a real photograph, for the video
# analysis's and the repairs' tests: a 1600-pixel-wide view of the photograph panned by a
# camera (300 px/s across, 40 px/s down) with light grain, scanned as KIND, flagged as FLAG,
# then damaged as a tape is.
#
#   make_capture.sh KIND ORDER SECONDS OUT.mkv [--flag tff|bff|progressive] [--sar N:D]
#                   [--chroma DX,DY] [--setup] [--head-switching LINES] [--dropouts N]
#                   [--blanking] [--letterbox] [--truth TRUTH.mkv]
#
#   KIND   interlaced   each field its own instant (59.94 fields/s)
#          progressive  29.97 frames/s, both fields of one instant
#          telecine     23.976 film frames in 3:2 pulldown to 29.97 (libavfilter's telecine)
#   ORDER  tff | bff    the field first in time (progressive: ignored)
#   FLAG   what the file says (default: the truth; interlaced and telecine say ORDER)
#   SAR    pixel aspect flagged (default 8:9: 720x480 NTSC at 4:3; 32:27 is 16:9)
#   --blanking   8 columns of blanking (black) either side of a 704-wide picture, as an
#                analogue capture card takes in (the head-switching pull shows at its edges)
#   --letterbox  a 16:9 picture in the 4:3 frame: black bars of 60 lines above and below
# Damage (after the scan, as the tape adds it):
#   --chroma DX,DY         the chroma DX luma pixels right of the luma and DY lines below it
#                          (DX in quarters of a pixel; made at 4x the width and scaled down)
#   --setup                NTSC 7.5 IRE setup: black at 32.4 instead of 16, white kept
#   --head-switching LINES the bottom LINES lines pulled sideways, more towards the bottom
#                          (3 to 21 pixels), the last two of them noise
#   --dropouts N           up to N white streaks a frame (1 line, 20 to 180 pixels), each
#                          on half the frames
# --truth writes what a perfect restoration gives back: the same capture without the damage
# (telecine: the film frames themselves, 23.976p).
# The photograph: nature/Garden.jpg of Debian's mate-backgrounds (GPL-2+, by Charles
# Barbin), which `make deps` installs. 720x480 yuv422p FFV1, bit-exact muxing: the same
# arguments give the same bytes.
set -euo pipefail

PHOTO=/usr/share/backgrounds/mate/nature/Garden.jpg

die() {
	echo "make_capture.sh: $*" >&2
	exit 1
}

(($# >= 4)) || die "usage: make_capture.sh KIND ORDER SECONDS OUT.mkv [options]"
kind="$1" order="$2" seconds="$3" out="$4"
shift 4
flag="" sar="8/9" chroma="" setup=0 headsw=0 dropouts=0 truth="" blanking=0 letterbox=0
while (($#)); do
	case "$1" in
	--flag) flag="$2"; shift 2 ;;
	--sar) sar="${2/:/\/}"; shift 2 ;;
	--chroma) chroma="$2"; shift 2 ;;
	--setup) setup=1; shift ;;
	--head-switching) headsw="$2"; shift 2 ;;
	--dropouts) dropouts="$2"; shift 2 ;;
	--truth) truth="$2"; shift 2 ;;
	--blanking) blanking=1; shift ;;
	--letterbox) letterbox=1; shift ;;
	*) die "unknown option $1" ;;
	esac
done
[ -r "$PHOTO" ] || die "$PHOTO is missing: run make deps (package mate-backgrounds)"
case "$order" in tff | bff) ;; *) die "ORDER must be tff or bff" ;; esac
grain="format=yuv422p,noise=alls=6:allf=t"
# the photograph's chroma read as co-sited with its luma: read as JPEG's centred siting it
# comes out a third of a pixel off the luma, and every capture would carry a chroma shift
sited="in_h_chr_pos=0:in_v_chr_pos=0"
if [ -n "$chroma" ]; then
	# 4x across: a quarter pixel is one sample there; chromashift moves the chroma by whole
	# samples (positive: right, down), and the area scaler takes it back to 720 across. The
	# grain goes on first (twice as strong: the scaler averages four samples), so the chroma
	# moves with its grain, as it does on tape, and moving it back gives the truth again
	dx4=$(awk -v v="${chroma%,*}" 'BEGIN { printf "%d", v * 4 }')
	dy=$(awk -v v="${chroma#*,}" 'BEGIN { printf "%d", v }')
	pan="scale=6400:1067:$sited,crop=2880:480:x='4*(100+t*300)':y='50/1.5+t*40/1.5',format=yuv444p"
	pan="$pan,noise=alls=12:allf=t"
	pan_damaged="$pan,chromashift=cbh=$dx4:crh=$dx4:cbv=$dy:crv=$dy:edge=smear"
	pan="$pan,scale=720:480:flags=area,format=yuv422p"
	pan_damaged="$pan_damaged,scale=720:480:flags=area,format=yuv422p"
else
	pan="scale=1600:-2:$sited,crop=720:480:x='100+t*300':y='50+t*40',$grain"
	pan_damaged="$pan"
fi
if ((letterbox)); then
	pan="$pan,drawbox=y=0:h=60:w=iw:color=black:t=fill,drawbox=y=ih-60:h=60:w=iw:color=black:t=fill"
	pan_damaged="$pan_damaged,drawbox=y=0:h=60:w=iw:color=black:t=fill,drawbox=y=ih-60:h=60:w=iw:color=black:t=fill"
fi
if ((blanking)); then
	pan="$pan,crop=704:480,pad=720:480:8:0:color=black"
	pan_damaged="$pan_damaged,crop=704:480,pad=720:480:8:0:color=black"
fi
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

damage="null"
if ((setup)); then
	damage="$damage,lutyuv=y='clip(32.4+(val-16)*(235-32.4)/219,0,255)'"
fi
if ((headsw > 0)); then
	# S(Y): the sideways pull of line Y of the band, in luma pixels; each plane scales it by
	# its own width (W/720); the last two lines are noise (a hash of X, Y and the frame)
	top="(H-$headsw)"
	pull="(3+18*pow((Y-$top)/$headsw,2))*W/720"
	noise="mod(X*73+Y*151+N*37,200)+28"
	geq_plane="if(gte(Y,H-2),$noise,if(gte(Y,$top),p(X+$pull,Y),p(X,Y)))"
	geq_chroma="if(gte(Y,H-2),128,if(gte(Y,$top),p(X+$pull,Y),p(X,Y)))"
	damage="$damage,geq=lum='$geq_plane':cb='$geq_chroma':cr='$geq_chroma'"
fi
if ((dropouts > 0)); then
	# streak i: on half the frames, at a line and place that hop with the frame number N,
	# 20 to 180 pixels long; each plane reads X in luma pixels (X*720/W)
	hit=""
	for ((i = 0; i < dropouts; i++)); do
		k=$((i * 7 + 3))
		x0="(20+mod(N*7919+$k*131,520))"
		# (the line is tested first: geq's if() looks no further on every other line)
		hit="$hit+if(eq(Y*480/H,mod(N*104729+$k*977,460)+8),lt(mod(N*13+$k,10),5)"
		hit="$hit*gte(X*720/W,$x0)*lt(X*720/W,$x0+20+mod(N*31+$k*17,160)),0)"
	done
	hit="gt(0$hit,0)"
	damage="$damage,geq=lum='if($hit,235,p(X,Y))':cb='if($hit,128,p(X,Y))':cr='if($hit,128,p(X,Y))'"
fi

# make_one CHAIN OUT: the photograph through CHAIN at $rate into OUT (via a temporary file)
make_one() {
	local chain="$1" dest="$2" tmp
	mkdir -p "$(dirname -- "$dest")"
	tmp="$dest.tmp.$$.mkv"
	trap 'rm -f -- "$tmp"' EXIT
	ffmpeg -nostdin -hide_banner -loglevel error -y -loop 1 -framerate "$rate" -i "$PHOTO" -t "$seconds" \
		-filter_threads 1 -vf "$chain" -c:v ffv1 -level 3 -g 1 -threads 1 \
		-fflags +bitexact -flags:v +bitexact "$tmp" || die "ffmpeg failed making $dest"
	mv -f -- "$tmp" "$dest"
	trap - EXIT
}

make_one "$pan_damaged,$scan,$damage,$setfield,setsar=$sar" "$out"
if [ -n "$truth" ]; then
	if [ "$kind" = telecine ]; then
		make_one "$pan,setfield=prog,setsar=$sar" "$truth"
	else
		make_one "$pan,$scan,$setfield,setsar=$sar" "$truth"
	fi
fi
