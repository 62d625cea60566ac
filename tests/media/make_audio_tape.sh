#!/usr/bin/env bash
# make_audio_tape.sh: makes a synthetic capture for the audio enhancement tests (issue 7)
# from ffmpeg lavfi sources only: a tiny video that exists only because the pipeline needs
# one, and 48 kHz PCM s16 stereo made of programme passages and silent gaps, with optional
# mains hum, hiss and clicks laid over the whole tape.
#
#   make_audio_tape.sh [--seconds N] [--material music|speech|none] [--hum 0|50|60] [--hiss]
#                      [--clicks] [--stereo dual-mono|hifi] OUT.mkv|OUT.avi
#   make_audio_tape.sh --schedule [--seconds N]      prints the schedule below for N seconds
#
# Defaults: 18 seconds, music, no hum, no hiss, no clicks, dual-mono.
#
# Schedule (the tests derive their measuring windows from it; tests/integration/
# audio_meter.sh has the same constants in am_schedule): period P = 4.5 s, for
# k = 0, 1, 2, ...:
#   programme k: [4.5 k, 4.5 k + 3.0)        the material, faded out over its last 150 ms
#   gap k:       [4.5 k + 3.0, 4.5 (k + 1))  digital silence plus the defects asked for
#   (--material none: no programme at all, only the defects asked for: a silent home movie,
#   a camcorder with its microphone off)
# Clicks fall in every programme passage and ONLY in the gaps with an ODD k (k = 1, 3, ...),
# there only inside [4.5 k + 3.3, 4.5 k + 4.2]; the gaps with an even k never have one, so
# they measure hum and hiss without clicks. The tape is N seconds long (N a multiple of
# 0.04: whole video frames), cut wherever the schedule is at that point. The audio is made
# for one 18-second cycle (k = 0..3: four passages with different chords or syllables,
# gaps 1 and 3 with clicks) and looped, so a 10-minute tape is made in seconds; hum phase
# is continuous over the loop (50 and 60 Hz fit 18 s exactly).
#
# Video: testsrc2, 160x120, 25 fps, yuv420p, FFV1 intra-only (every frame a keyframe),
# exactly 25 N frames.
# Audio (design levels; dBFS of a peak amplitude A is 20 log10 A, so a sine's RMS is 3.01 dB
# below its peak level):
#   music:  chords of three notes (220..587 Hz, partials 1..4) struck every 0.5 s with a
#           4 ms attack, exponential decay and a 30 ms release, the first of every four
#           accented; a high-passed noise "hi-hat" every 0.25 s (energy at 6..16 kHz). No
#           note is within 10 Hz of a multiple of 50 or 60 Hz up to 300 Hz, so the hum bands
#           of the gaps stay clean (under -106 dBFS 0.25 s into a gap).
#   speech: a voice with f0 131 Hz +- 15 Hz (0.5 Hz glide), excited by the derivative of a
#           Rosenberg glottal pulse; syllables at 4 per second (0.2 s voiced, sin^4
#           envelope, the second of each passage stressed), alternating two vowels through
#           three formant band-passes, two pauses per passage, noise fricatives (> 3.5 kHz)
#           after three syllables per passage. Its harmonics ring in the hum bands of the
#           gaps (up to -63 dBFS), so hum is measured on music.
#   Measured (integrated loudness, true peak): music dual-mono -21.8 LUFS, -3.0 dBTP;
#           music hifi -23.7, -4.5; speech dual-mono -21.9, -3.1; speech hifi -19.4, -2.4.
#   --stereo dual-mono: the very same samples on both channels (a mono linear track).
#   --stereo hifi: different left and right content (music: a second, syncopated voice
#           with other chords; speech: a second speaker at f0 197 Hz, other vowels,
#           syllables offset by 0.125 s), panned 0.85 / 0.35.
#   --hum F: sines at F, 2F, 3F, 4F, 5F with peak levels -30, -37, -34, -40, -36 dBFS, the
#           same on both channels, over the whole tape (gaps included).
#   --hiss: uniform white noise at -45.0 dBFS RMS on each channel (independent on the two
#           channels of a hifi tape, the same on both of a dual-mono tape).
#   --clicks: impulses 1..3 samples wide at -12..-8.4 dBFS (|x| 0.25..0.38), random sign,
#           on both channels, about 6 per second where allowed (see the schedule and
#           clicks_expr).
# Every random source has a fixed seed or a deterministic hash, the expressions are exact
# integer arithmetic where it matters, and bitexact muxing is used: the same arguments give
# the same bytes.
set -euo pipefail

usage() {
	echo "usage: make_audio_tape.sh [--seconds N] [--material music|speech|none] [--hum 0|50|60] [--hiss] [--clicks] [--stereo dual-mono|hifi] OUT.mkv|OUT.avi" >&2
	echo "       make_audio_tape.sh --schedule [--seconds N]" >&2
	exit 2
}

die() {
	echo "make_audio_tape.sh: $*" >&2
	exit 1
}

SR=48000
PERIOD=4.5 # s: one programme passage and one gap
PROG=3.0   # s: the programme passage at the start of each period
CYCLE=18   # s: four periods, made once and looped

seconds=18
material=music
hum=0
hiss=0
clicks=0
stereo=dual-mono
schedule=0
out=""

parse_args() {
	while (($#)); do
		case "$1" in
		--seconds) seconds="${2:-}"; shift 2 || usage ;;
		--seconds=*) seconds="${1#*=}"; shift ;;
		--material) material="${2:-}"; shift 2 || usage ;;
		--material=*) material="${1#*=}"; shift ;;
		--hum) hum="${2:-}"; shift 2 || usage ;;
		--hum=*) hum="${1#*=}"; shift ;;
		--hiss) hiss=1; shift ;;
		--clicks) clicks=1; shift ;;
		--stereo) stereo="${2:-}"; shift 2 || usage ;;
		--stereo=*) stereo="${1#*=}"; shift ;;
		--schedule) schedule=1; shift ;;
		-h | --help) usage ;;
		-*) echo "make_audio_tape.sh: unknown option $1" >&2; usage ;;
		*) [ -z "$out" ] || usage; out="$1"; shift ;;
		esac
	done
	[[ "$seconds" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--seconds must be a positive number, not '$seconds'"
	awk -v s="$seconds" 'BEGIN { f = s * 25; d = f - int(f + 0.5); exit !(s > 0 && d * d < 1e-12) }' ||
		die "--seconds must be a positive multiple of 0.04 (whole frames at 25 fps), not '$seconds'"
	case "$material" in music | speech | none) ;; *) die "--material must be music, speech or none" ;; esac
	case "$hum" in 0 | 50 | 60) ;; *) die "--hum must be 0, 50 or 60" ;; esac
	case "$stereo" in dual-mono | hifi) ;; *) die "--stereo must be dual-mono or hifi" ;; esac
	((schedule)) && return 0
	[ -n "$out" ] || usage
	case "$out" in *.avi | *.mkv) ;; *) die "OUT must end in .avi or .mkv" ;; esac
}

# print_schedule: one line per passage and gap that starts before the end of the tape:
#   programme K START END
#   gap K START END clicks|clean
print_schedule() {
	awk -v n="$seconds" -v p="$PERIOD" -v g="$PROG" 'BEGIN {
		for (k = 0; p * k < n; k++) {
			s = p * k; e = s + g; if (e > n) e = n
			printf "programme %d %.3f %.3f\n", k, s, e
			if (s + g < n) {
				e = p * (k + 1); if (e > n) e = n
				printf "gap %d %.3f %.3f %s\n", k, s + g, e, (k % 2) ? "clicks" : "clean"
			}
		}
	}'
}

# --- the audio expressions (aevalsrc, evaluated over one 18 s cycle) -------------------------
# Variables: st(0) time in the period, st(1) period index k (0..3), st(2) time since the
# voice's first event, st(3) event index, st(4) time in the event, st(5) envelope,
# st(6..8) frequencies; random(9) is the state of the noise.

# music_voice OFFSET F1 F2 F3 (each "a,b,c,d": the note for k = 0..3): one voice of chords.
music_voice() {
	local off="$1" pick="" i f
	local -a fs=("$2" "$3" "$4")
	for i in 0 1 2; do
		IFS=, read -r -a f <<<"${fs[$i]}"
		pick+="st($((6 + i)),if(eq(ld(1),0),${f[0]},if(eq(ld(1),1),${f[1]},if(eq(ld(1),2),${f[2]},${f[3]}))));"
	done
	local partials=""
	for i in 6 7 8; do
		partials+="${partials:++}cos(2*PI*ld($i)*ld(4))+0.5*cos(4*PI*ld($i)*ld(4))+0.25*cos(6*PI*ld($i)*ld(4))+0.12*cos(8*PI*ld($i)*ld(4))"
	done
	printf '%s' "st(0,mod(t,$PERIOD));st(1,mod(floor(t/$PERIOD),4));st(2,ld(0)-$off);" \
		"st(3,floor(ld(2)/0.5));st(4,ld(2)-0.5*ld(3));" \
		"st(5,gte(ld(2),0)*lt(ld(0),$PROG)*min(1,($PROG-ld(0))/0.15)*min(1,ld(4)/0.004)*min(1,(0.5-ld(4))/0.03)*exp(-5*ld(4))*if(eq(mod(ld(3),4),0),1,0.35));" \
		"$pick" "ld(5)*($partials)"
}

# hihat: noise bursts every 0.25 s in the passages (high-passed in the graph).
hihat_expr() {
	printf '%s' "st(0,mod(t,$PERIOD));st(4,mod(ld(0),0.25));" \
		"(2*random(9)-1)*lt(ld(0),2.75)*min(1,ld(4)/0.001)*exp(-30*ld(4))"
}

# speech_excitation OFFSET F0 VOWEL: the glottal excitation of the syllables that use
# VOWEL (0: even syllables, 1: odd ones), syllables 4 and 9 of each passage silent,
# syllable 1 stressed: the derivative of a Rosenberg glottal pulse (opening over 40% of the
# period, a sharp closure at 56%), with f0 gliding +-15 Hz at 0.5 Hz.
speech_excitation() {
	local off="$1" f0="$2" v="$3"
	printf '%s' "st(0,mod(t,$PERIOD));st(1,mod(floor(t/$PERIOD),4));st(2,ld(0)-$off);" \
		"st(3,floor(ld(2)/0.25));st(4,ld(2)-0.25*ld(3));" \
		"st(5,gte(ld(2),0)*lt(ld(0),$PROG)*lt(ld(4),0.2)*pow(sin(PI*ld(4)/0.2),4)*(1-eq(ld(3),4)-eq(ld(3),9))*eq(mod(ld(3),2),$v)*if(eq(ld(3),1),1,0.35+0.3*mod(ld(3)*7+ld(1)*3,5)/4));" \
		"st(6,$f0*t-(15/PI)*cos(PI*t));" \
		"st(7,mod(ld(6),1));ld(5)*if(lt(ld(7),0.4),sin(PI*ld(7)/0.4)/0.8,if(lt(ld(7),0.56),-sin(PI*(ld(7)-0.4)/0.32)/0.32,0))"
}

# speech_fricative OFFSET: noise at the end of syllables 3, 7 and 10 (high-passed in the graph).
speech_fricative() {
	local off="$1"
	printf '%s' "st(0,mod(t,$PERIOD));st(2,ld(0)-$off);st(3,floor(ld(2)/0.25));st(4,ld(2)-0.25*ld(3));" \
		"(2*random(9)-1)*gte(ld(2),0)*lt(ld(0),$PROG)*(eq(ld(3),3)+eq(ld(3),7)+eq(ld(3),10))*between(ld(4),0.12,0.24)*pow(sin(PI*(ld(4)-0.12)/0.12),2)"
}

# clicks_expr: one possible click per 0.125 s slot (6000 samples); a hash of the slot
# number s (exact integer arithmetic in doubles) says whether it is there (3 slots in 4),
# where (300..5699 samples into the slot), how wide (1..3 samples), how loud and which sign:
#   a = (7919 s + 104729) mod 997, b = (31 s^2 + 613 s + 7) mod 1009,
#   there if a mod 4 > 0, first sample 6000 s + 300 + (37 b mod 5400), width 1 + a mod 3,
#   value 0.3162 (0.8 + 0.4 ((13 a) mod 101) / 100), negative when b is even;
# allowed where its first sample is in a passage ([0.1, 2.9] s into the period) or in an
# odd gap ([3.3, 4.2] s into the period). (test_audio_media.sh recomputes this list.)
clicks_expr() {
	printf '%s' "st(0,floor(n/6000));st(1,mod(ld(0)*7919+104729,997));st(2,mod(ld(0)*ld(0)*31+ld(0)*613+7,1009));" \
		"st(3,ld(0)*6000+300+mod(ld(2)*37,5400));st(4,1+mod(ld(1),3));" \
		"st(5,mod(ld(3),$((SR * 9 / 2)))/$SR);st(6,mod(floor(ld(3)/$((SR * 9 / 2))),2));" \
		"gt(mod(ld(1),4),0)*(between(ld(5),0.1,2.9)+between(ld(5),3.3,4.2)*ld(6))" \
		"*gte(n,ld(3))*lt(n,ld(3)+ld(4))*0.3162*(0.8+0.4*mod(ld(1)*13,101)/100)*(2*mod(ld(2),2)-1)"
}

# --- the filter graph ------------------------------------------------------------------------

src() { printf "aevalsrc=exprs='%s':s=$SR:d=$CYCLE" "$1"; }

# music_graph: [prog] out (mono for dual-mono, stereo for hifi).
# Voice A: the chords below, on the beat; voice B (hifi only): other chords, off the beat.
music_graph() {
	local a b
	a="$(music_voice 0 220,349.23,261.63,392 261.63,440,329.63,493.88 329.63,523.25,392,587.33)"
	printf '%s' "$(src "$(hihat_expr)"),highpass=f=6000,highpass=f=6000,volume=0.25[hh];"
	if [ "$stereo" = dual-mono ]; then
		printf '%s' "$(src "$a"),volume=MUSIC_GAIN[ma];" \
			"[ma][hh]amix=inputs=2:normalize=0:duration=first[prog];"
	else
		b="$(music_voice 0.25 329.63,440,392,493.88 440,523.25,523.25,587.33 523.25,698.46,659.26,783.99)"
		printf '%s' "$(src "$a|$b"),volume=MUSIC_GAIN,pan=stereo|c0=0.85*c0+0.35*c1|c1=0.35*c0+0.85*c1[ms];" \
			"[hh]pan=stereo|c0=0.7*c0|c1=0.7*c0[hh2];" \
			"[ms][hh2]amix=inputs=2:normalize=0:duration=first[prog];"
	fi
}

# speaker LABEL OFFSET F0 "F1 F2 F3" "F1 F2 F3": [LABEL] out, one mono voice.
speaker() {
	local l="$1" off="$2" f0="$3" v v0 v1
	read -r -a v0 <<<"$4"
	read -r -a v1 <<<"$5"
	printf '%s' "$(src "$(speech_excitation "$off" "$f0" 0)"),asplit=3[${l}e0a][${l}e0b][${l}e0c];" \
		"$(src "$(speech_excitation "$off" "$f0" 1)"),asplit=3[${l}e1a][${l}e1b][${l}e1c];" \
		"$(src "$(speech_fricative "$off")"),highpass=f=3500,highpass=f=3500[${l}fr];"
	local i q=(6 8 10) abc=(a b c) labels="" f
	for v in 0 1; do
		for i in 0 1 2; do
			if [ "$v" = 0 ]; then f="${v0[$i]}"; else f="${v1[$i]}"; fi
			printf '%s' "[${l}e${v}${abc[$i]}]bandpass=f=$f:width_type=q:w=${q[$i]}[${l}f${v}$i];"
			labels+="[${l}f${v}$i]"
		done
	done
	printf '%s' "${labels}[${l}fr]amix=inputs=7:normalize=0:duration=first:weights=1 0.6 0.35 1 0.5 0.35 0.15[$l];"
}

# speech_graph: [prog] out.
speech_graph() {
	speaker s1 0 131 "730 1090 2440" "530 1840 2480"
	if [ "$stereo" = dual-mono ]; then
		printf '%s' "[s1]volume=SPEECH_GAIN[prog];"
	else
		speaker s2 0.125 197 "570 840 2410" "390 1990 2550"
		printf '%s' "[s1][s2]amerge=inputs=2,volume=SPEECH_GAIN,pan=stereo|c0=0.85*c0+0.35*c1|c1=0.35*c0+0.85*c1[prog];"
	fi
}

# audio_graph: [a] out: programme + defects, s16 stereo, looped and cut to the tape's length.
audio_graph() {
	local layout=mono parts=1 hum_e
	[ "$stereo" = dual-mono ] || layout=stereo
	case "$material" in
	music) music_graph ;;
	speech) speech_graph ;;
	none) printf '%s' "$(src "$([ "$layout" = mono ] && echo 0 || echo '0|0')")[prog];" ;; # only the defects
	esac
	printf '%s' "[prog]aformat=sample_fmts=dbl:channel_layouts=${layout}[p0];"
	local mix="[p0]"
	to_layout() { [ "$layout" = mono ] && printf 'anull' || printf 'pan=stereo|c0=c0|c1=c0'; }
	if [ "$hum" != 0 ]; then
		hum_e="0.0316228*sin(2*PI*$hum*t)+0.0141254*sin(4*PI*$hum*t)+0.0199526*sin(6*PI*$hum*t)+0.01*sin(8*PI*$hum*t)+0.0158489*sin(10*PI*$hum*t)"
		printf '%s' "$(src "$hum_e"),$(to_layout),aformat=sample_fmts=dbl:channel_layouts=${layout}[hum];"
		mix+="[hum]"
		parts=$((parts + 1))
	fi
	if ((hiss)); then
		# uniform white noise in [-a, a] has RMS a / sqrt(3): a = 10^(-45/20) * sqrt(3)
		if [ "$layout" = mono ]; then
			printf '%s' "anoisesrc=color=white:amplitude=0.0097400:seed=4711:r=$SR:d=$CYCLE,aformat=sample_fmts=dbl:channel_layouts=mono[hiss];"
		else
			printf '%s' "anoisesrc=color=white:amplitude=0.0097400:seed=4711:r=$SR:d=${CYCLE}[hl];" \
				"anoisesrc=color=white:amplitude=0.0097400:seed=1913:r=$SR:d=${CYCLE}[hr];" \
				"[hl][hr]amerge=inputs=2,aformat=sample_fmts=dbl:channel_layouts=stereo[hiss];"
		fi
		mix+="[hiss]"
		parts=$((parts + 1))
	fi
	if ((clicks)); then
		printf '%s' "$(src "$(clicks_expr)"),$(to_layout),aformat=sample_fmts=dbl:channel_layouts=${layout}[clk];"
		mix+="[clk]"
		parts=$((parts + 1))
	fi
	if ((parts > 1)); then
		printf '%s' "${mix}amix=inputs=$parts:normalize=0:duration=first,"
	else
		printf '%s' "${mix}anull,"
	fi
	printf '%s' "aformat=sample_fmts=s16:channel_layouts=$layout,"
	[ "$layout" = stereo ] || printf '%s' "pan=stereo|c0=c0|c1=c0,aformat=sample_fmts=s16:channel_layouts=stereo,"
	local total
	total="$(awk -v s="$seconds" -v r="$SR" 'BEGIN { printf "%d", s * r + 0.5 }')"
	printf '%s' "aloop=loop=-1:size=$((CYCLE * SR)),atrim=end_sample=$total,asetpts=N/SR/TB[a]"
}

video_graph() {
	printf '%s' "testsrc2=size=160x120:rate=25:duration=$seconds,format=yuv420p[v]"
}

main() {
	parse_args "$@"
	if ((schedule)); then
		print_schedule
		return 0
	fi
	# the programme gains: sample peaks near -3 dBFS (measured on dual-mono tapes)
	local graph
	graph="$(video_graph);$(audio_graph)"
	graph="${graph//MUSIC_GAIN/0.102}"
	graph="${graph//SPEECH_GAIN/0.95}"

	mkdir -p "$(dirname -- "$out")"
	local tmp="${out}.tmp.$$.${out##*.}"
	trap 'rm -f -- "$tmp"' EXIT
	if ! ffmpeg -nostdin -hide_banner -loglevel error -y \
		-filter_threads 1 -filter_complex_threads 1 \
		-filter_complex "$graph" -map "[v]" -map "[a]" \
		-c:v ffv1 -level 1 -g 1 -c:a pcm_s16le -threads 1 \
		-fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
		"$tmp"; then
		die "ffmpeg failed making $out"
	fi
	mv -f -- "$tmp" "$out"
	trap - EXIT
}

main "$@"
