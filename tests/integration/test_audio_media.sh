# test_audio_media.sh: tests of the audio enhancement test media and of the meters that
# judge it (issue 7), without the product: tests/media/make_audio_tape.sh must make what its
# header says (format, schedule, design levels of hum, hiss and clicks, clean programme,
# identical bytes every time, a 10-minute tape in seconds), and the meters of
# audio_meter.sh must read known signals right (reference tones, band-pass leaks, exact
# windows and counts). test_audio.sh relies on both. Run by tests/integration/run.sh.

# shellcheck source=audio_meter.sh
source "$IT_DIR/audio_meter.sh"

# The design RMS levels (dBFS) of the hum harmonics 1..5: peak levels -30, -37, -34, -40,
# -36 dBFS, less 3.01 dB for a sine.
HUM_DESIGN_RMS=(-33.01 -40.01 -37.01 -43.01 -39.01)

# clicks_expected SECONDS STARTS DUR: the click samples make_audio_tape.sh puts in the
# windows, recomputed from the formula in its clicks_expr comment.
clicks_expected() {
	awk -v n="$1" -v starts="$2" -v dur="$3" 'BEGIN {
		m = split(starts, st, ","); total = int(n * 48000 + 0.5); cnt = 0
		for (c = 0; c * 864000 < total; c++)
			for (s = 0; s < 144; s++) {
				a = (s * 7919 + 104729) % 997; b = (s * s * 31 + s * 613 + 7) % 1009
				if (a % 4 == 0) continue
				n0 = s * 6000 + 300 + (b * 37) % 5400; w = 1 + a % 3
				tp = (n0 % 216000) / 48000; k = int(n0 / 216000)
				if (!((tp >= 0.1 && tp <= 2.9) || (tp >= 3.3 && tp <= 4.2 && k % 2 == 1))) continue
				for (i = 0; i < w; i++) {
					x = c * 864000 + n0 + i
					for (j = 1; j <= m; j++)
						if (x < total && x >= int(st[j] * 48000 + 0.5) && x < int((st[j] + dur) * 48000 + 0.5)) cnt++
				}
			}
		print cnt
	}'
}

# The tape's format: the tiny FFV1 video and 48 kHz s16 stereo of exactly the asked length,
# and the schedule that make_audio_tape.sh prints is the one am_schedule gives the tests.
test_audio_media_format() {
	local t
	t="$(audio_tape --seconds 18)"
	[ "$(ffprobe_val "$t" v:0 codec_name)" = ffv1 ] || fail "video codec $(ffprobe_val "$t" v:0 codec_name)"
	[ "$(ffprobe_val "$t" v:0 width)x$(ffprobe_val "$t" v:0 height)" = 160x120 ] || fail "video size"
	[ "$(ffprobe_val "$t" v:0 r_frame_rate)" = 25/1 ] || fail "frame rate $(ffprobe_val "$t" v:0 r_frame_rate)"
	[ "$(ffprobe_val "$t" a:0 codec_name)" = pcm_s16le ] || fail "audio codec $(ffprobe_val "$t" a:0 codec_name)"
	[ "$(ffprobe_val "$t" a:0 sample_rate)" = 48000 ] || fail "sample rate"
	am_check "video frames" "$(frame_count "$t")" near 450 0
	am_check "audio channels" "$(am_channels "$t")" near 2 0
	am_check "audio samples" "$(am_samples "$t")" near 864000 0
	expect_av_sync "$t"

	t="$(audio_tape --seconds 10.04 --material speech)"
	am_check "video frames (10.04 s)" "$(frame_count "$t")" near 251 0
	am_check "audio samples (10.04 s)" "$(am_samples "$t")" near 481920 0

	"$AM_MAKE_AUDIO_TAPE" --schedule --seconds 18 >sched.txt
	note "schedule of an 18 s tape:"
	sed 's/^/    /' sched.txt >&2
	local want
	want="$(awk '$1 == "programme" && $4 - $3 > 2.99 { s = s (s == "" ? "" : ",") sprintf("%.3f", $3 + 0.25) } END { print s, "2.500" }' sched.txt)"
	[ "$(am_schedule 18 programme)" = "$want" ] || fail "am_schedule 18 programme = $(am_schedule 18 programme), the script's schedule gives $want"
	want="$(awk '$1 == "gap" && $5 == "clicks" { s = s (s == "" ? "" : ",") sprintf("%.3f", $3 + 0.25) } END { print s, "1.000" }' sched.txt)"
	[ "$(am_schedule 18 odd-gaps)" = "$want" ] || fail "am_schedule 18 odd-gaps = $(am_schedule 18 odd-gaps), the script's schedule gives $want"
	want="$(awk '$1 == "gap" && $5 == "clean" { s = s (s == "" ? "" : ",") sprintf("%.3f", $3 + 0.25) } END { print s, "1.000" }' sched.txt)"
	[ "$(am_schedule 18 even-gaps)" = "$want" ] || fail "am_schedule 18 even-gaps = $(am_schedule 18 even-gaps), the script's schedule gives $want"
	[ "$(am_schedule 10 gaps 0)" = "3.000,7.500 1.500" ] || fail "am_schedule 10 gaps 0 = $(am_schedule 10 gaps 0)"
}

# The same arguments give the same bytes.
test_audio_media_deterministic() {
	local a
	for a in 1 2; do
		"$AM_MAKE_AUDIO_TAPE" --seconds 9 --material speech --hum 50 --hiss --clicks --stereo hifi "t$a.mkv" ||
			fail "make_audio_tape.sh failed"
	done
	cmp t1.mkv t2.mkv || fail "two runs of make_audio_tape.sh with the same arguments differ"
	note "md5 $(md5sum <t1.mkv | cut -c1-32)"
}

# ebur128 through am_loudness and am_true_peak on the EBU Tech 3341 reference: a 1 kHz sine
# at -23 dBFS on both channels is -23.0 LUFS; on one channel of a mono file -26.0 LUFS (no
# dual-mono weighting); digital silence is -70 LUFS (nothing passes the gate). am_rms of a
# sine is 3.01 dB under its peak, and of a window that is half silence 3.01 dB lower.
test_audio_meter_reference_tones() {
	ffmpeg -nostdin -v error -y -f lavfi -i "aevalsrc=exprs='0.0707946*sin(2*PI*1000*t)|0.0707946*sin(2*PI*1000*t)':s=48000:d=10" \
		-c:a pcm_s16le ref23.wav
	ffmpeg -nostdin -v error -y -i ref23.wav -af "pan=mono|c0=c0" -c:a pcm_s16le ref23m.wav
	am_check "loudness, stereo 1 kHz at -23 dBFS" "$(am_loudness ref23.wav)" near -23.0 0.05
	am_check "loudness, mono 1 kHz at -23 dBFS" "$(am_loudness ref23m.wav)" near -26.0 0.05
	am_check "true peak, stereo 1 kHz at -23 dBFS" "$(am_true_peak ref23.wav)" near -23.0 0.05
	am_check "RMS, stereo 1 kHz at -23 dBFS" "$(am_rms ref23.wav 1 5)" near -26.01 0.02
	am_check "RMS, mono 1 kHz at -23 dBFS" "$(am_rms ref23m.wav 1 5)" near -26.01 0.02
	# a tone whose samples miss its peaks: fs/4, 45 degrees: samples at -9.03 dBFS, peaks -6.02
	ffmpeg -nostdin -v error -y -f lavfi -i "aevalsrc=exprs='0.5*sin(PI/2*n+PI/4)':s=48000:d=5" -c:a pcm_s16le isp.wav
	am_check "true peak of an fs/4 sine with samples 3 dB under its peaks" "$(am_true_peak isp.wav)" within -6.7 -5.3
	ffmpeg -nostdin -v error -y -f lavfi -i "aevalsrc=exprs='0.5*sin(2*PI*997*t+1)':s=48000:d=5" -c:a pcm_s16le tp997.wav
	am_check "true peak, 997 Hz sine at -6.02 dBFS" "$(am_true_peak tp997.wav)" near -6.0 0.05
	ffmpeg -nostdin -v error -y -f lavfi -i "aevalsrc=exprs='0|0':s=48000:d=3" -c:a pcm_s16le silence.wav
	am_check "loudness of silence" "$(am_loudness silence.wav)" near -70 0
	am_check "RMS of silence" "$(am_rms silence.wav 0 3)" near -200 0
	am_check "clipped samples of silence" "$(am_clipped silence.wav)" near 0 0
}

# The band-pass of am_band_level: 0 dB at its frequency, and what leaks from a pure tone
# elsewhere (the figures in audio_meter.sh's header); it has settled 1 s into a file.
test_audio_meter_band_leak() {
	local f
	for f in 50 60; do
		ffmpeg -nostdin -v error -y -f lavfi -i "aevalsrc=exprs='0.5*sin(2*PI*$f*t)':s=48000:d=6" -c:a pcm_s16le "tone$f.wav"
	done
	am_check "60 Hz tone at -6.02 dBFS, band 60 Hz" "$(am_band_level tone60.wav 2 3 60)" near -9.03 0.02
	am_check "the same, band 60 Hz, window 1..1.5 s" "$(am_band_level tone60.wav 1 0.5 60)" near -9.03 0.02
	am_check "50 Hz tone at -6.02 dBFS, band 50 Hz" "$(am_band_level tone50.wav 2 3 50)" near -9.03 0.02
	am_check "60 Hz tone, band 50 Hz (10 Hz off)" "$(am_band_level tone60.wav 2 3 50)" le -45
	am_check "60 Hz tone, band 70 Hz (10 Hz off)" "$(am_band_level tone60.wav 2 3 70)" le -45
	am_check "50 Hz tone, band 60 Hz (10 Hz off)" "$(am_band_level tone50.wav 2 3 60)" le -45
	am_check "60 Hz tone, band 120 Hz (next harmonic)" "$(am_band_level tone60.wav 2 3 120)" le -95
	am_check "60 Hz tone, band 180 Hz" "$(am_band_level tone60.wav 2 3 180)" le -95
	am_check "50 Hz tone, band 100 Hz (next harmonic)" "$(am_band_level tone50.wav 2 3 100)" le -95
}

# Windows and counts are exact: a stereo file with known impulses, a DC step and full-scale
# samples.
test_audio_meter_windows_and_counts_exact() {
	# L: +0.5 at samples 1000 and 1001, -0.5 at 5000, 0.2 at 60000 (1.25 s), 0.25 from 1.6 s
	#    to 2.1 s, full scale at 110000 (+1.0 -> 32767) and 110001 (-1.0), 0.998 at 110002
	# R: -0.5 at 5000 (the same instant as L), 0.9 at 70000 (1.458 s)
	ffmpeg -nostdin -v error -y -f lavfi -i "aevalsrc=exprs='0.5*(eq(n,1000)+eq(n,1001)-eq(n,5000))+0.2*eq(n,60000)+0.25*gte(n,76800)*lt(n,100800)+eq(n,110000)-eq(n,110001)+0.998*eq(n,110002)|-0.5*eq(n,5000)+0.9*eq(n,70000)':s=48000:d=2.5" \
		-c:a pcm_s16le known.wav
	am_check "samples" "$(am_samples known.wav)" near 120000 0
	am_check "instants over -10 dBFS, whole file" "$(am_count_above known.wav 0 2.5 -10)" near 7 0
	am_check "instants over -10 dBFS in [0, 0.5)" "$(am_count_above known.wav 0 0.5 -10)" near 3 0
	am_check "instants over -10 dBFS in [0, 1000/48000)" "$(am_count_above known.wav 0 0.0208333 -10)" near 0 0
	am_check "instants over -16 dBFS in [1.2, 1.3) and [1.4, 1.5)" "$(am_count_above known.wav 1.2,1.4 0.1 -16)" near 2 0
	am_check "instants over -16 dBFS in [0.9, 1.0)" "$(am_count_above known.wav 0.9 0.1 -16)" near 0 0
	am_check "instants over -13 dBFS in the DC step [1.6, 2.1)" "$(am_count_above known.wav 1.6 0.5 -13)" near 24000 0
	am_check "instants over -12 dBFS in the DC step (0.25 is -12.04)" "$(am_count_above known.wav 1.6 0.5 -12)" near 0 0
	am_check "clipped instants" "$(am_clipped known.wav)" near 2 0
	am_check "RMS of [1.7, 2.0) (0.25 on one channel of two)" "$(am_rms known.wav 1.7 0.3)" near -15.05 0.01
	am_check "RMS of [1.5, 1.7) (half of it the step)" "$(am_rms known.wav 1.5 0.2)" near -18.06 0.01
	am_check "RMS of [1.5, 1.6) and [1.7, 1.8) together" "$(am_rms known.wav 1.5,1.7 0.1)" near -18.06 0.01
	am_check "RMS of [0.5, 0.9), digital silence" "$(am_rms known.wav 0.5 0.4)" near -200 0
}

# Hum at its design levels in the gaps (band levels within 0.5 dB), for both mains, with
# hiss under it; and a clean music tape has nothing in those bands in its gaps (the floor
# that bounds how much attenuation the hum tests can see).
test_audio_media_hum_levels() {
	local mains t es ed h f clean
	read -r es ed < <(am_schedule 18 even-gaps)
	clean="$(audio_tape --seconds 18)"
	for mains in 60 50; do
		t="$(audio_tape --seconds 18 --hum "$mains" --hiss)"
		for h in 1 2 3 4 5; do
			f=$((mains * h))
			am_check "hum $mains Hz tape: band $f Hz in the even gaps, dBFS" "$(am_band_level "$t" "$es" "$ed" "$f")" near "${HUM_DESIGN_RMS[$((h - 1))]}" 0.5
			am_check "clean music tape: band $f Hz in the even gaps (floor)" "$(am_band_level "$clean" "$es" "$ed" "$f")" le -100
		done
	done
}

# Hiss at -45 dBFS RMS in the gaps; the high-pass used to measure hiss without hum takes
# 0.26 dB of white noise; dual-mono has identical channels, hifi independent hiss (L - R is
# 3 dB over one channel).
test_audio_media_hiss_level() {
	local t es ed
	read -r es ed < <(am_schedule 18 even-gaps)
	t="$(audio_tape --seconds 18 --hiss)"
	am_check "hiss tape: RMS in the even gaps" "$(am_rms "$t" "$es" "$ed")" near -45 1
	am_check "hiss tape: RMS in the even gaps, high-passed at 1 kHz" "$(am_rms "$t" "$es" "$ed" "highpass=f=1000,highpass=f=1000")" near -45.26 0.3
	am_check "hiss tape: L - R over the whole file (dual-mono)" "$(am_rms "$t" 0 18 "pan=mono|c0=c0-c1")" near -200 0
	t="$(audio_tape --seconds 18 --hum 60 --hiss)"
	am_check "hum + hiss tape: RMS in the even gaps, high-passed at 1 kHz" "$(am_rms "$t" "$es" "$ed" "highpass=f=1000,highpass=f=1000")" near -45.26 0.3
	t="$(audio_tape --seconds 18 --hiss --stereo hifi)"
	am_check "hifi hiss tape: RMS in the even gaps" "$(am_rms "$t" "$es" "$ed")" near -45 1
	am_check "hifi hiss tape: L - R in the even gaps" "$(am_rms "$t" "$es" "$ed" "pan=mono|c0=c0-c1")" near -42 0.5
}

# Clicks: every click sample the formula puts in the odd gaps is counted (over -16 dBFS:
# the clicks are -12..-8.4 dBFS, hum and hiss peaks stay under -20), and none is in the even
# gaps, even at -22 dBFS; the same for speech on a hifi tape (the clicks do not depend on
# the material).
test_audio_media_clicks() {
	local t os od es ed want args
	read -r os od < <(am_schedule 27 odd-gaps)
	read -r es ed < <(am_schedule 27 even-gaps)
	want="$(clicks_expected 27 "$os" "$od")"
	note "odd gaps $os ($od s each): $want click samples by the formula"
	am_check "click samples in the odd gaps by the formula" "$want" ge 20
	for args in "--hum 60 --hiss --clicks" "--material speech --hum 50 --hiss --clicks --stereo hifi"; do
		# shellcheck disable=SC2086
		t="$(audio_tape --seconds 27 $args)"
		am_check "$args: instants over -16 dBFS in the odd gaps" "$(am_count_above "$t" "$os" "$od" -16)" near "$want" 0
		am_check "$args: instants over -16 dBFS in the even gaps" "$(am_count_above "$t" "$es" "$ed" -16)" near 0 0
		am_check "$args: instants over -22 dBFS in the even gaps" "$(am_count_above "$t" "$es" "$ed" -22)" near 0 0
	done
}

# The clean programme of every material and stereo mode: no clipped sample, digital silence
# in the gaps, loudness around -20..-24 LUFS with true peaks near -3 dBTP (so normalisation
# to -16 has work to do), energy in each band the damage test compares, dual-mono with
# identical channels and hifi with different ones.
test_audio_media_clean_programme() {
	local mat st t ps pd gs gd lo hi
	read -r ps pd < <(am_schedule 18 programme)
	read -r gs gd < <(am_schedule 18 gaps 0.05)
	for mat in music speech; do
		for st in dual-mono hifi; do
			t="$(audio_tape --seconds 18 --material "$mat" --stereo "$st")"
			am_check "$mat $st: clipped samples" "$(am_clipped "$t")" near 0 0
			am_check "$mat $st: RMS in the gaps" "$(am_rms "$t" "$gs" "$gd")" near -200 0
			am_check "$mat $st: integrated loudness, LUFS" "$(am_loudness "$t")" within -25 -19
			am_check "$mat $st: true peak, dBTP" "$(am_true_peak "$t")" within -5 -2
			am_check "$mat $st: programme RMS" "$(am_rms "$t" "$ps" "$pd")" within -30 -20
			for band in 100-500 500-4000 4000-12000; do
				lo="${band%-*}" hi="${band#*-}"
				am_check "$mat $st: programme RMS in $band Hz" \
					"$(am_rms "$t" "$ps" "$pd" "highpass=f=$lo,highpass=f=$lo,lowpass=f=$hi,lowpass=f=$hi")" within -50 -20
			done
			if [ "$st" = dual-mono ]; then
				am_check "$mat $st: L - R over the whole file" "$(am_rms "$t" 0 18 "pan=mono|c0=c0-c1")" near -200 0
			else
				am_check "$mat $st: L - R in the programme" "$(am_rms "$t" "$ps" "$pd" "pan=mono|c0=c0-c1")" ge -40
			fi
		done
	done
}

# A 10-minute tape is made in well under a minute, has exactly 15000 frames and 28.8 M
# samples, and is the 18-second cycle looped: its first 18 s are the 18 s tape, and every
# 18 s repeats them.
test_audio_media_10min() {
	local t0 took short
	t0="$(date +%s.%N)"
	"$AM_MAKE_AUDIO_TAPE" --seconds 600 --hum 60 --hiss --clicks ten.mkv || fail "make_audio_tape.sh failed"
	took="$(am_calc 'e - s' e="$(date +%s.%N)" s="$t0")"
	am_check "seconds to make a 10-minute tape" "$took" lt 60
	am_check "video frames" "$(frame_count ten.mkv)" near 15000 0
	am_check "audio samples" "$(am_samples ten.mkv)" near 28800000 0
	expect_av_sync ten.mkv
	short="$(audio_tape --seconds 18 --hum 60 --hiss --clicks)"
	local a b c
	a="$(ffmpeg -nostdin -v error -i "$short" -map 0:a -f md5 -)"
	b="$(ffmpeg -nostdin -v error -i ten.mkv -map 0:a -af "atrim=end_sample=864000" -f md5 -)"
	c="$(ffmpeg -nostdin -v error -i ten.mkv -map 0:a -af "atrim=start_sample=$((864000 * 20)):end_sample=$((864000 * 21))" -f md5 -)"
	note "audio md5: 18 s tape $a; 10-minute tape 0..18 s $b, 360..378 s $c"
	[ "$a" = "$b" ] || fail "the first 18 s of the 10-minute tape differ from the 18 s tape"
	[ "$a" = "$c" ] || fail "the 10-minute tape does not repeat its 18 s cycle"
	rm -f ten.mkv
}
