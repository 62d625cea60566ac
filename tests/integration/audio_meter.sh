# audio_meter.sh: audio meters for the audio enhancement tests (issue 7), sourced by test
# files. Every meter is ffmpeg's own filters (ebur128, astats, bandpass, highpass, aeval)
# run by the ffmpeg in PATH on the first audio stream of a file; none uses the project's
# code. Each meter prints one number on stdout and nothing else; errors go to stderr with
# a non-zero return.
#
# Windows: START is seconds from the first audio sample, or a comma-separated list of
# starts ("3.25,12.25"), each window DUR seconds long; the windows (disjoint, half-open
# [START, START + DUR), rounded to whole samples, cut at the end of the file) are measured
# together as one: power-averaged for levels, summed for counts. Filters (the band-pass,
# EXTRA_FILTERS) run over the whole file in double precision before the windows are cut
# out, so they have settled when a window starts (keep a window a few tenths of a second
# away from a change of content: a narrow band-pass rings for about 0.5 s).
#
# Channels: levels are the power mean over the channels (astats' overall RMS: the mean of
# x^2 over every channel's samples), so a dual-mono stereo file and its mono version
# measure the same. Counts are of sample instants at which ANY channel exceeds the
# threshold (max |x| over the channels), so they too are the same for both.
#
# Levels are dBFS of RMS, 20 log10(rms) with full scale 1.0 (a full-scale sine is -3.01),
# and -200 for digital silence.
#
#   am_loudness FILE [FILTERS]            integrated loudness, LUFS (EBU R128, ebur128 summary)
#   am_true_peak FILE [FILTERS]           true peak, dBTP (ebur128 peak=true summary)
#   am_rms FILE START DUR [FILTERS]       RMS level of the windows, dBFS
#   am_band_level FILE START DUR FREQ     RMS level in a ~2 Hz band around FREQ, dBFS
#   am_count_above FILE START DUR THRESH_DBFS [FILTERS]   sample instants with |x| > THRESH
#   am_clipped FILE                       sample instants with |x| >= 0.999 FS, whole file
#   am_samples FILE                       audio samples per channel
#   am_channels FILE, am_sample_rate FILE
#   am_schedule SECONDS WHICH [MARGIN]    "STARTS DUR" of the test tape's windows
# and, for test files (they use run.sh's note, fail and MEDIA_CACHE):
#   audio_tape [make_audio_tape.sh flags]  the path of a cached tape from make_audio_tape.sh
#   am_check WHAT VALUE OP BOUND [BOUND2]  notes a figure in the log, fails unless it holds
#   am_calc EXPR [NAME=VALUE]...           arithmetic on figures
#
# The band-pass of am_band_level is three cascaded 2-pole band-passes (bandpass=f=FREQ:
# width_type=h:w=4): 0 dB at FREQ, -3 dB at +-1 Hz, noise bandwidth 2.4 Hz (white noise
# at -45 dBFS reads about -85 dBFS). Measured on pure tones at 50 and 60 Hz (checked by
# test_audio_media.sh): a tone 10 Hz away reads 40..45 dB down, the neighbouring harmonic
# (50 or 60 Hz away) 94..99 dB down; it has settled 1 s into a file. The programme of the
# music tapes leaves under -106 dBFS in the hum bands of the gaps (0.25 s margins); the
# speech tapes leave up to -63 dBFS there (voice harmonics ringing), so hum is measured on
# music.

AM_BAND_WIDTH_HZ=4
AM_SILENCE_DB=-200

_am_err() {
	echo "audio_meter: $*" >&2
	return 1
}

# _am_run FILE GRAPH: runs GRAPH on the first audio stream of FILE; prints ffmpeg's log.
_am_run() {
	local file="$1" graph="$2" log
	[ -r "$file" ] || { _am_err "cannot read $file"; return 1; }
	if ! log="$(ffmpeg -nostdin -hide_banner -nostats -i "$file" -map 0:a:0 -af "$graph" -f null - 2>&1)"; then
		printf '%s\n' "$log" | tail -n 5 >&2
		_am_err "ffmpeg failed on $file with -af $graph"
		return 1
	fi
	printf '%s\n' "$log"
}

# am_channels FILE / am_sample_rate FILE: from the first audio stream.
am_channels() {
	local c
	c="$(ffprobe -v error -select_streams a:0 -show_entries stream=channels -of default=nw=1:nk=1 "$1" | head -n 1)"
	[[ "$c" =~ ^[0-9]+$ ]] || { _am_err "no audio stream in $1"; return 1; }
	echo "$c"
}

am_sample_rate() {
	local r
	r="$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate -of default=nw=1:nk=1 "$1" | head -n 1)"
	[[ "$r" =~ ^[0-9]+$ ]] || { _am_err "no audio stream in $1"; return 1; }
	echo "$r"
}

# am_samples FILE: decoded audio samples per channel.
am_samples() {
	local log n
	log="$(_am_run "$1" "astats=measure_perchannel=none:measure_overall=Number_of_samples")" || return 1
	n="$(printf '%s\n' "$log" | sed -n 's/.*Number of samples: \([0-9]*\).*/\1/p' | head -n 1)"
	[ -n "$n" ] || { _am_err "no sample count for $1"; return 1; }
	echo "$n"
}

# _am_summary FILE WHAT [FILTERS]: WHAT = I (integrated loudness) or Peak (true peak) from
# the last ebur128 Summary block.
_am_summary() {
	local file="$1" what="$2" extra="${3:-}" log v
	log="$(_am_run "$file" "aformat=sample_fmts=dbl${extra:+,$extra},ebur128=peak=true:framelog=verbose")" || return 1
	v="$(printf '%s\n' "$log" | awk -v w="$what" '
		/Summary:/ { s = 1; v = "" }
		s && $1 == w ":" { v = $2 }
		END { print v }')"
	[[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$|^-inf$ ]] || { _am_err "no '$what' in the ebur128 summary of $file"; return 1; }
	[ "$v" != "-inf" ] || v="$AM_SILENCE_DB"
	echo "$v"
}

# am_loudness FILE [FILTERS]: integrated loudness in LUFS (one decimal, as ebur128 prints it).
# FILTERS (e.g. a downmix) run before the meter. A mono file is measured as one channel
# (ebur128's default, dualmono=false), as BS.1770 defines it.
am_loudness() { _am_summary "$1" I "${2:-}"; }

# am_true_peak FILE [FILTERS]: true peak (4x oversampled) in dBTP, the maximum over channels.
am_true_peak() { _am_summary "$1" Peak "${2:-}"; }

# _am_mask FILE STARTS DUR: prints "EXPR SPANS": an aeval expression in n (the sample
# number) that is 1 inside the windows and 0 outside, and the windows as sample spans
# "s1:e1,s2:e2" (half-open). STARTS = "all" means the whole file: "1 all".
_am_mask() {
	local file="$1" starts="$2" dur="$3" sr
	if [ "$starts" = all ]; then
		echo "1 all"
		return 0
	fi
	sr="$(am_sample_rate "$file")" || return 1
	[[ "$dur" =~ ^[0-9]+([.][0-9]+)?$ ]] || { _am_err "bad window length '$dur'"; return 1; }
	[[ "$starts" =~ ^[0-9]+([.][0-9]+)?(,[0-9]+([.][0-9]+)?)*$ ]] || { _am_err "bad window starts '$starts'"; return 1; }
	awk -v starts="$starts" -v dur="$dur" -v sr="$sr" 'BEGIN {
		m = split(starts, st, ","); expr = ""; spans = ""
		for (i = 1; i <= m; i++) {
			s = int(st[i] * sr + 0.5); e = int((st[i] + dur) * sr + 0.5)
			if (e <= s) continue
			expr = expr (expr == "" ? "" : "+") sprintf("gte(n,%d)*lt(n,%d)", s, e)
			spans = spans (spans == "" ? "" : ",") s ":" e
		}
		if (spans == "") { print "audio_meter: the windows " starts " (" dur " s) are empty" > "/dev/stderr"; exit 1 }
		printf "(%s) %s\n", expr, spans
	}'
}

# _am_nwin SPANS TOTAL: the samples of the spans inside a file of TOTAL samples.
_am_nwin() {
	awk -v spans="$1" -v total="$2" 'BEGIN {
		if (spans == "all") { print total; exit }
		m = split(spans, sp, ","); n = 0
		for (i = 1; i <= m; i++) { split(sp[i], se, ":"); e = se[2] + 0; if (e > total) e = total; if (e > se[1]) n += e - se[1] }
		print n
	}'
}

# _am_chan_expr FILE KIND: an aeval expression that folds all channels into one:
# KIND = power (sqrt of the mean of x^2) or maxabs (the largest |x|).
_am_chan_expr() {
	local c i e=""
	c="$(am_channels "$1")" || return 1
	if [ "$2" = power ]; then
		for ((i = 0; i < c; i++)); do e+="${e:++}val($i)*val($i)"; done
		echo "sqrt(($e)/$c)"
	else
		e="abs(val(0))"
		for ((i = 1; i < c; i++)); do e="max($e,abs(val($i)))"; done
		echo "$e"
	fi
}

# am_rms FILE START DUR [FILTERS]: RMS level in dBFS of the windows, power-averaged over
# channels, after FILTERS (e.g. "highpass=f=1000,highpass=f=1000" for hiss without hum).
am_rms() {
	local file="$1" starts="$2" dur="$3" extra="${4:-}" mask spans fold log db n nwin
	read -r mask spans < <(_am_mask "$file" "$starts" "$dur") && [ -n "$spans" ] || return 1
	fold="$(_am_chan_expr "$file" power)" || return 1
	log="$(_am_run "$file" "aformat=sample_fmts=dbl${extra:+,$extra},aeval=exprs='$fold*$mask':c=mono,astats=measure_perchannel=RMS_level:measure_overall=Number_of_samples")" || return 1
	db="$(printf '%s\n' "$log" | sed -n 's/.*RMS level dB: \([^ ]*\).*/\1/p' | tail -n 1)"
	n="$(printf '%s\n' "$log" | sed -n 's/.*Number of samples: \([0-9]*\).*/\1/p' | tail -n 1)"
	if [ -z "$db" ] || [ -z "$n" ]; then _am_err "no RMS level in the astats output for $file"; return 1; fi
	nwin="$(_am_nwin "$spans" "$n")"
	((nwin > 0)) || { _am_err "the windows $starts ($dur s) hold no sample of $file ($n samples)"; return 1; }
	awk -v db="$db" -v n="$n" -v nwin="$nwin" -v silence="$AM_SILENCE_DB" 'BEGIN {
		if (db ~ /inf/) print silence
		else printf "%.3f\n", db + 10 * log(n / nwin) / log(10)
	}'
}

# am_band_level FILE START DUR FREQ: RMS level in dBFS of the windows after a narrow
# band-pass at FREQ Hz: three cascaded bandpass=f=FREQ:width_type=h:w=4 (0 dB at FREQ).
am_band_level() {
	local f="$4" bp
	[[ "$f" =~ ^[0-9]+([.][0-9]+)?$ ]] || { _am_err "bad frequency '$f'"; return 1; }
	bp="bandpass=f=$f:width_type=h:w=$AM_BAND_WIDTH_HZ"
	am_rms "$1" "$2" "$3" "$bp,$bp,$bp"
}

# _am_count FILE STARTS DUR OP LINEAR [FILTERS]: sample instants in the windows at which
# max |x| over the channels is OP (gt or gte) LINEAR. Each one is made an infinity (1/0 in
# ffmpeg's expressions) and astats counts them exactly.
_am_count() {
	local file="$1" starts="$2" dur="$3" op="$4" lin="$5" extra="${6:-}" mask spans fold log c n
	read -r mask spans < <(_am_mask "$file" "$starts" "$dur") && [ -n "$spans" ] || return 1
	fold="$(_am_chan_expr "$file" maxabs)" || return 1
	log="$(_am_run "$file" "aformat=sample_fmts=dbl${extra:+,$extra},aeval=exprs='if($op($fold,$lin)*$mask,1/0,0)':c=mono,astats=measure_perchannel=Number_of_Infs:measure_overall=Number_of_samples")" || return 1
	c="$(printf '%s\n' "$log" | sed -n 's/.*Number of Infs: \([0-9]*\).*/\1/p' | head -n 1)"
	n="$(printf '%s\n' "$log" | sed -n 's/.*Number of samples: \([0-9]*\).*/\1/p' | tail -n 1)"
	if [ -z "$c" ] || [ -z "$n" ]; then _am_err "no count in the astats output for $file"; return 1; fi
	(($(_am_nwin "$spans" "$n") > 0)) || { _am_err "the windows $starts ($dur s) hold no sample of $file ($n samples)"; return 1; }
	echo "$c"
}

# am_count_above FILE START DUR THRESH_DBFS [FILTERS]: sample instants in the windows at
# which some channel has |x| > 10^(THRESH_DBFS/20).
am_count_above() {
	local t="$4" lin
	[[ "$t" =~ ^-?[0-9]+([.][0-9]+)?$ ]] || { _am_err "bad threshold '$t'"; return 1; }
	lin="$(awk -v t="$t" 'BEGIN { printf "%.9f", exp(t / 20 * log(10)) }')"
	_am_count "$1" "$2" "$3" gt "$lin" "${5:-}"
}

# am_clipped FILE: sample instants in the whole file at which some channel has |x| >= 0.999.
am_clipped() { _am_count "$1" all 0 gte 0.999; }

# am_schedule SECONDS WHICH [MARGIN]: the windows of a tape from tests/media/
# make_audio_tape.sh of SECONDS seconds, as "STARTS DUR" for the meters: the complete
# passages or gaps inside the tape, each shrunk by MARGIN seconds (default 0.25) at both
# ends. WHICH: programme, gaps, odd-gaps (those with clicks), even-gaps (never a click).
# The schedule (the same constants as make_audio_tape.sh): period 4.5 s; programme k is
# [4.5 k, 4.5 k + 3), gap k is [4.5 k + 3, 4.5 k + 4.5); clicks only in gaps with odd k.
am_schedule() {
	local seconds="$1" which="$2" margin="${3:-0.25}"
	case "$which" in programme | gaps | odd-gaps | even-gaps) ;; *) _am_err "am_schedule: unknown window kind '$which'"; return 1 ;; esac
	awk -v n="$seconds" -v w="$which" -v m="$margin" 'BEGIN {
		p = 4.5; g = 3.0; out = ""
		for (k = 0; p * k < n; k++) {
			if (w == "programme") { s = p * k; e = s + g }
			else { s = p * k + g; e = p * (k + 1) }
			if (e > n + 1e-9) break
			if (w == "odd-gaps" && k % 2 == 0) continue
			if (w == "even-gaps" && k % 2 == 1) continue
			out = out (out == "" ? "" : ",") sprintf("%.3f", s + m)
			d = e - s - 2 * m
		}
		if (out == "" || d <= 0) { print "audio_meter: no " w " window in a " n " s tape" > "/dev/stderr"; exit 1 }
		printf "%s %.3f\n", out, d
	}'
}

# --- test media (needs run.sh's helpers: note, fail, MEDIA_CACHE) ------------------------------

AM_MAKE_AUDIO_TAPE="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../media" && pwd)/make_audio_tape.sh"

# audio_tape [make_audio_tape.sh flags...]: prints the path of a cached audio test tape
# (.mkv) in build/test-media, making it first if needed (keyed by the flags and the
# script's contents).
audio_tape() {
	local sum key path
	sum="$(md5sum <"$AM_MAKE_AUDIO_TAPE" | cut -c1-8)"
	key="audio$(printf '_%s' "$@" | tr -d ' -')-$sum"
	path="$MEDIA_CACHE/$key.mkv"
	if [ ! -s "$path" ]; then
		mkdir -p "$MEDIA_CACHE"
		note "making tape: $AM_MAKE_AUDIO_TAPE $* $path"
		"$AM_MAKE_AUDIO_TAPE" "$@" "$path" >&2 || fail "make_audio_tape.sh failed for $path"
	fi
	printf '%s\n' "$path"
}

# am_check WHAT VALUE OP BOUND [BOUND2]: notes "WHAT = VALUE" in the test's log, then fails
# the test unless VALUE OP BOUND holds: OP is le, ge, lt, gt, or near (|VALUE - BOUND| <=
# BOUND2) or within (BOUND <= VALUE <= BOUND2).
am_check() {
	local what="$1" v="$2" op="$3" b="$4" b2="${5:-}" ok
	ok="$(awk -v v="$v" -v op="$op" -v b="$b" -v b2="$b2" 'BEGIN {
		if (v !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) { print "bad"; exit }
		v += 0; b += 0; b2 += 0
		if (op == "le") r = v <= b; else if (op == "ge") r = v >= b
		else if (op == "lt") r = v < b; else if (op == "gt") r = v > b
		else if (op == "near") r = (v - b <= b2 && b - v <= b2)
		else if (op == "within") r = (v >= b && v <= b2)
		else { print "bad"; exit }
		print r ? "ok" : "no" }')"
	local want
	case "$op" in
	le) want="<= $b" ;; ge) want=">= $b" ;; lt) want="< $b" ;; gt) want="> $b" ;;
	near) want="$b +- $b2" ;; within) want="in [$b, $b2]" ;; *) want="$op $b" ;;
	esac
	note "$what = $v (want $want)"
	case "$ok" in
	ok) return 0 ;;
	no) fail "$what = $v, want $want" ;;
	*) fail "$what: not a number or bad check: '$v' $op $b $b2" ;;
	esac
}

# am_calc EXPR [NAME=VALUE]...: evaluates an awk expression over the given numbers, prints
# it with 3 decimals: am_calc 'a - b' a=-20.1 b=-3.5.
am_calc() {
	local expr="$1" args=() a
	shift
	for a in "$@"; do args+=(-v "$a"); done
	awk "${args[@]}" "BEGIN { printf \"%.3f\\n\", ($expr) }"
}
