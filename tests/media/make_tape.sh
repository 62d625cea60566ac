#!/usr/bin/env bash
# make_tape.sh: makes a synthetic, VHS-like capture for tests, the demo and the benchmark,
# from ffmpeg lavfi sources only (no downloaded media).
#
#   make_tape.sh --standard ntsc|pal --seconds N --codec dv|ffv1 [--no-audio] [--audio-only] OUT
#
# Video: a moving test pattern at twice the field rate, softened like VHS luma, with luma and
# chroma noise and a head-switching band of garbage lines at the bottom, then woven into
# interlaced frames (DV: bottom field first, as DV always is; FFV1: top field first).
#   ntsc: 720x480, 30000/1001 fps (DV: yuv411p; FFV1: yuv422p)
#   pal:  720x576, 25 fps         (DV: yuv420p; FFV1: yuv422p)
# Audio: 48 kHz stereo PCM s16: a music-like stepping chord, pink hiss, and mains hum with
# harmonics (60 Hz for NTSC, 50 Hz for PAL).
# OUT: .avi or .mkv (DV needs .avi). Every random source has a fixed seed and bitexact
# muxing is used, so the same arguments always give the same bytes.
set -euo pipefail

usage() {
	echo "usage: make_tape.sh --standard ntsc|pal --seconds N --codec dv|ffv1 [--no-audio] [--audio-only] OUT.avi|OUT.mkv" >&2
	exit 2
}

die() {
	echo "make_tape.sh: $*" >&2
	exit 1
}

standard=ntsc
seconds=3
codec=dv
audio=1
video=1
out=""

parse_args() {
	while (($#)); do
		case "$1" in
		--standard) standard="${2:-}"; shift 2 || usage ;;
		--standard=*) standard="${1#*=}"; shift ;;
		--seconds) seconds="${2:-}"; shift 2 || usage ;;
		--seconds=*) seconds="${1#*=}"; shift ;;
		--codec) codec="${2:-}"; shift 2 || usage ;;
		--codec=*) codec="${1#*=}"; shift ;;
		--no-audio) audio=0; shift ;;
		--audio-only) video=0; shift ;;
		-h | --help) usage ;;
		-*) echo "make_tape.sh: unknown option $1" >&2; usage ;;
		*) [ -z "$out" ] || usage; out="$1"; shift ;;
		esac
	done
	[ -n "$out" ] || usage
	case "$standard" in ntsc | pal) ;; *) die "--standard must be ntsc or pal" ;; esac
	case "$codec" in dv | ffv1) ;; *) die "--codec must be dv or ffv1" ;; esac
	[[ "$seconds" =~ ^[0-9]+([.][0-9]+)?$ && ! "$seconds" =~ ^0+([.]0*)?$ ]] ||
		die "--seconds must be a positive number, not '$seconds'"
	((audio || video)) || die "--no-audio and --audio-only together leave nothing"
	case "$out" in *.avi | *.mkv) ;; *) die "OUT must end in .avi or .mkv" ;; esac
	if [ "$codec" = dv ] && [ "$video" = 1 ]; then
		case "$out" in *.avi) ;; *) die "DV tapes are written as .avi" ;; esac
	fi
}

# Sets width, height, rate (frames/s), field_rate, hum (Hz), sar (4:3 display, as DV
# defines it), pix_fmt, weave (tinterlace mode).
standard_params() {
	if [ "$standard" = ntsc ]; then
		width=720 height=480 rate=30000/1001 field_rate=60000/1001 hum=60 sar=8/9
	else
		width=720 height=576 rate=25 field_rate=50 hum=50 sar=16/15
	fi
	if [ "$codec" = dv ]; then
		# DV is bottom field first in both standards.
		weave="tinterlace=mode=interleave_bottom,setfield=bff"
		if [ "$standard" = ntsc ]; then pix_fmt=yuv411p; else pix_fmt=yuv420p; fi
	else
		weave="tinterlace=mode=interleave_top,setfield=tff"
		pix_fmt=yuv422p
	fi
}

# The video filter graph: [v] out.
video_graph() {
	local band=10 # head-switching band height, in field-rate progressive lines
	printf '%s' \
		"testsrc2=size=${width}x${height}:rate=${field_rate}:duration=${seconds}," \
		"format=yuv422p," \
		"scale=w=iw/2:h=ih:flags=bilinear,scale=w=${width}:h=${height}:flags=bicubic," \
		"noise=c0_seed=11:c0s=10:c0f=t+u:c1_seed=12:c1s=18:c1f=t:c2_seed=13:c2s=18:c2f=t," \
		"split[main][tail];" \
		"[tail]crop=w=iw-28:h=${band}:x=0:y=ih-${band},pad=w=iw+28:h=${band}:x=28:y=0:color=0x303030," \
		"noise=all_seed=14:alls=70:allf=t[band];" \
		"[main][band]overlay=x=0:y=H-${band}:eof_action=pass," \
		"${weave},format=${pix_fmt},setsar=${sar}[v]"
}

# The audio filter graph: [a] out. Chord steps every half second; hum has 2nd and 3rd harmonics.
audio_graph() {
	local melody="(220*(1+mod(floor(t*2),4)/4))"
	local music="0.18*sin(2*PI*${melody}*t)+0.10*sin(2*PI*1.5*${melody}*t)"
	local humexpr="0.05*sin(2*PI*${hum}*t)+0.025*sin(2*PI*$((hum * 2))*t)+0.012*sin(2*PI*$((hum * 3))*t)"
	printf '%s' \
		"aevalsrc=exprs='${music}+${humexpr}|${music}*0.8+0.05*sin(2*PI*1.25*${melody}*t)+${humexpr}'" \
		":sample_rate=48000:duration=${seconds}[tone];" \
		"anoisesrc=color=pink:amplitude=0.03:seed=4242:sample_rate=48000:duration=${seconds}," \
		"aformat=channel_layouts=mono,pan=stereo|c0=c0|c1=0.9*c0[hiss];" \
		"[tone][hiss]amix=inputs=2:normalize=0:duration=first," \
		"aformat=sample_fmts=s16:sample_rates=48000:channel_layouts=stereo[a]"
}

main() {
	parse_args "$@"
	standard_params

	local graph="" maps=() codecs=()
	if ((video)); then
		graph="$(video_graph)"
		maps+=(-map "[v]")
		if [ "$codec" = dv ]; then
			codecs+=(-c:v dvvideo)
		else
			codecs+=(-c:v ffv1 -level 3 -slices 4 -g 1)
		fi
		codecs+=(-r "$rate")
	fi
	if ((audio)); then
		[ -z "$graph" ] || graph+=";"
		graph+="$(audio_graph)"
		maps+=(-map "[a]")
		codecs+=(-c:a pcm_s16le)
	fi

	mkdir -p "$(dirname -- "$out")"
	local tmp="${out}.tmp.$$.${out##*.}"
	trap 'rm -f -- "$tmp"' EXIT
	if ! ffmpeg -nostdin -hide_banner -loglevel error -y \
		-filter_threads 1 -filter_complex_threads 1 \
		-filter_complex "$graph" "${maps[@]}" "${codecs[@]}" \
		-t "$seconds" -threads 1 \
		-fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
		"$tmp"; then
		die "ffmpeg failed making $out"
	fi
	mv -f -- "$tmp" "$out"
	trap - EXIT
}

main "$@"
