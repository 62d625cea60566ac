# test_analysis.sh: the video analysis and what "auto" makes of it (issue 25), on captures of
# a known truth: a real photograph panned by a camera, scanned as interlaced, progressive or
# telecined film, flagged rightly or wrongly (tests/media/make_capture.sh), and the
# synthetic tapes of make_tape.sh. Run by tests/integration/run.sh.

MAKE_CAPTURE="$ROOT/tests/media/make_capture.sh"

# capture KIND ORDER [make_capture flags...] [--truth]: the path of a cached 3-second
# capture; with --truth, its truth (what a perfect restoration gives back) is made beside it,
# at truth_of PATH.
capture() {
	local kind="$1" order="$2" key path truth="" arg
	local -a flags=()
	shift 2
	for arg in "$@"; do
		if [ "$arg" = --truth ]; then truth=1; else flags+=("$arg"); fi
	done
	[ -r /usr/share/backgrounds/mate/nature/Garden.jpg ] ||
		skip "the test photograph is missing (make deps installs mate-backgrounds)"
	key="capture-$kind-$order$(printf '%s' "${flags[@]/#/_}" | tr -d '/:,-')${truth:+-truth}"
	path="$MEDIA_CACHE/$key-$(md5sum <"$MAKE_CAPTURE" | cut -c1-8).mkv"
	if [ ! -s "$path" ] || { [ -n "$truth" ] && [ ! -s "$(truth_of "$path")" ]; }; then
		mkdir -p "$MEDIA_CACHE"
		"$MAKE_CAPTURE" "$kind" "$order" 3 "$path" "${flags[@]}" ${truth:+--truth "$(truth_of "$path")"} >&2 ||
			fail "make_capture.sh failed for $path"
	fi
	printf '%s\n' "$path"
}

truth_of() { printf '%s\n' "${1%.mkv}.truth.mkv"; }

# psnr A B PLANE: the PSNR in dB of plane y, u or v of A against B, over all frames.
psnr() {
	ffmpeg -nostdin -hide_banner -i "$1" -i "$2" -lavfi "[0][1]psnr" -f null - 2>&1 |
		sed -n "s/.*PSNR .*$3:\([0-9.]*\|inf\) .*/\1/p" | tail -1
}

# repairs_gain CAPTURE PLANE WHAT: runs job.toml (made for CAPTURE, writing out.mkv) and fails
# unless its output's PSNR on PLANE against the capture's truth is 3 dB above the capture's.
repairs_gain() {
	local in="$1" plane="$2" what="$3" before after
	orch run --progress=none job.toml
	expect_rc 0
	before="$(psnr "$in" "$(truth_of "$in")" "$plane")"
	after="$(psnr out.mkv "$(truth_of "$in")" "$plane")"
	note "$what: PSNR-${plane^^} $before dB as captured, $after dB repaired"
	at_least "$after" "$(awk -v b="$before" 'BEGIN { print b + 3 }')" ||
		fail "the $what repair took PSNR-${plane^^} from $before to $after dB, not 3 dB up"
}

# check_auto CAPTURE [key=value...]: `check` of a job with the vhs preset's auto keys.
check_auto() {
	local in="$1"
	shift
	make_job job.toml input="$in" preset=vhs video.filters="" upscale.width=- upscale.height=- "$@"
	orch check job.toml
	expect_rc 0
}

expect_line() {
	grep -qF -- "$1" orch.out || { show_file orch.out 60; fail "check did not say: $1"; }
}

test_analysis_interlaced_misflagged() {
	need_bin
	check_auto "$(capture interlaced bff --flag tff)"
	expect_line "interlaced, bottom field first (100%"
	expect_line "field order: bottom first from the picture (100% of the frames that tell); the file says top: overridden"
	expect_line "head switching: the capture shows no blanking at its sides to measure the band by; left as it is"
	expect_line "preprocess chain: bwdif=mode=send_field:parity=bff:deint=all"
}

test_analysis_interlaced_top_first() {
	need_bin
	check_auto "$(capture interlaced tff)"
	expect_line "field order: top first from the picture (100%), as the file says"
	expect_line "bwdif=mode=send_field:parity=tff"
	expect_line "display aspect: 4:3 (720x480, pixel aspect 8:9) -> 1440x1080"
}

test_analysis_progressive_not_deinterlaced() {
	need_bin
	check_auto "$(capture progressive tff)" video.head_switching=off
	expect_line "scan: progressive"
	expect_line "deinterlace: none (progressive)"
	expect_line "preprocess chain: (none)"
}

# Progressive frames flagged as interlaced fields (PsF): not deinterlaced either.
test_analysis_psf_not_deinterlaced() {
	need_bin
	check_auto "$(capture progressive tff --flag tff)" video.head_switching=off
	expect_line "scan: progressive, 100% of"
	expect_line "(progressive frames stored as fields)"
	expect_line "preprocess chain: (none)"
}

test_analysis_16_9() {
	need_bin
	check_auto "$(capture interlaced tff --sar 32:27)"
	expect_line "display aspect: 16:9 (720x480, pixel aspect 32:27) -> 1920x1080"
}

test_analysis_dv_tape_bottom_first() {
	need_bin
	check_auto "$(tape ntsc 3 dv)"
	expect_line "interlaced, bottom field first (100%"
	expect_line "bwdif=mode=send_field:parity=bff"
}

# Telecined film restored with the vhs preset: its film frames at 23.976 fps, 4 of every 5
# frames, and the same frames whatever the segments (0.7 s: 21 frames, so segments start all
# through the 3:2 cadence; libavfilter's decimate, which counts its cycles from its first
# frame, made 74 frames of the 72 this way).
test_analysis_telecine_restored_to_film_rate() {
	need_bin
	local in n
	in="$(capture telecine tff)"
	make_job job.toml input="$in" preset=vhs video.filters="" video.head_switching=off \
		video.chroma_shift=off upscale.width=- upscale.height=480 run.segment_seconds=0.7
	orch run --progress=none job.toml
	expect_rc 0
	grep -qF "deinterlace: ivtc" orch.err || { show_file orch.err 20; fail "the run did not say ivtc"; }
	[ "$(ffprobe -v error -select_streams v -show_entries stream=r_frame_rate -of csv=p=0 out.mkv)" = 24000/1001 ] ||
		fail "the output is not 24000/1001 fps"
	n="$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 out.mkv)"
	[ "$n" = 72 ] || fail "$n frames out of 90 telecined frames, not 72"
	ffmpeg -v error -i out.mkv -f framemd5 - | grep -v '^#' >seg1.md5
	make_job job.toml input="$in" preset=vhs video.filters="" video.head_switching=off \
		video.chroma_shift=off upscale.width=- upscale.height=480 run.segment_seconds=0 output=one.mkv
	orch run --progress=none job.toml
	expect_rc 0
	ffmpeg -v error -i one.mkv -f framemd5 - | grep -v '^#' >seg0.md5
	cmp -s seg0.md5 seg1.md5 || fail "1 s segments made other frames than one segment"
}

# Explicit keys win over the analysis, and a bad value is refused with the forms it takes.
test_analysis_explicit_keys_and_bad_values() {
	need_bin
	check_auto "$(capture interlaced bff)" video.deinterlace=yadif video.field_order=tff video.levels=32:235
	expect_line "yadif=mode=send_field:parity=tff:deint=all"
	expect_line "levels: 32..235 to 16..235, as [video] levels says"
	make_job job.toml input="$(capture interlaced bff)" video.levels=40
	orch check job.toml
	expect_rc 3
	grep -qF "'levels' in [video] must be one of auto, off, <black:white>, not '40'" orch.err ||
		{ show_file orch.err 5; fail "no clear error for levels = 40"; }
}

# Inverse telecine gives the film frames back: against the film itself, lossless all the way.
test_analysis_ivtc_returns_the_film_frames() {
	need_bin
	local in db
	in="$(capture telecine tff --truth)"
	make_job job.toml input="$in" video.deinterlace=auto upscale.width=720 upscale.height=480 \
		encode.pix_fmt=yuv422p run.segment_seconds=0.7
	orch run --progress=none job.toml
	expect_rc 0
	db="$(psnr out.mkv "$(truth_of "$in")" y)"
	note "ivtc against the film frames: PSNR-Y $db dB"
	at_least "$db" 45 || fail "ivtc gave $db dB against the film frames, not 45"
}

# mixed_tape: a cached tape whose scan changes: the 3-second telecined film capture, then
# the 3-second interlaced one (an edit from film to video), joined losslessly.
mixed_tape() {
	local film video path
	film="$(capture telecine tff --truth)"
	video="$(capture interlaced tff)"
	path="$MEDIA_CACHE/mixed-$(basename "$film" .mkv)-$(basename "$video")"
	if [ ! -s "$path" ]; then
		printf "file '%s'\n" "$film" "$video" >"$path.list"
		ffmpeg -nostdin -v error -y -f concat -safe 0 -i "$path.list" -c copy "$path" ||
			fail "joining $film and $video failed"
	fi
	printf '%s\n' "$path"
}

# film_psnr A [A_FILTER]: PSNR-Y against the film frames of the mixed tape's first 2 s (48
# film frames) of A at 59.94 fps (through A_FILTER), taken at the ticks where 3:2 starts a new
# film frame (0 and 3 of every 5).
film_psnr() {
	ffmpeg -nostdin -hide_banner -i "$1" -i "$(truth_of "$(capture telecine tff --truth)")" -lavfi \
		"[0]${2:+$2,}select='not(mod(n\,5))+eq(mod(n\,5)\,3)',trim=end_frame=48,setpts=N/(24*TB)[a];[1]trim=end_frame=48,setpts=N/(24*TB)[b];[a][b]psnr" \
		-f null - 2>&1 | sed -n "s/.*PSNR .*y:\([0-9.]*\|inf\) .*/\1/p" | tail -1
}

# A tape that changes from film to video mid-way, restored stretch by stretch: the film
# inverse-telecined and each film frame shown 3:2, the video deinterlaced, all at 59.94 fps;
# the film stretch's frames are the film's (against deinterlacing it all: what the old
# chain did to such a tape), and the same whatever the segments.
test_analysis_mixed_tape_stretch_by_stretch() {
	need_bin
	local in db bob
	in="$(mixed_tape)"
	make_job job.toml input="$in" preset=vhs video.filters="" video.head_switching=off \
		video.chroma_shift=off upscale.width=720 upscale.height=480 encode.pix_fmt=yuv422p \
		run.segment_seconds=1
	orch check job.toml
	expect_rc 0
	expect_line "-> stretch by stretch, all at 60000/1001 fps (the field rate)"
	expect_line "stretch: the start to 0:0"
	expect_line ", telecine -> ivtc"
	expect_line "preprocess chain: bwdif=mode=send_field:parity=tff:deint=all,fps=60000/1001"
	expect_line "vhs_decimate,fps=60000/1001"
	orch run --progress=none job.toml
	expect_rc 0
	expect_video_frames out.mkv 60000/1001 360 # 6 s at the field rate
	# the first 2 s are segments of the film stretch: each film frame shown 3, 2, 3, 2 ticks
	video_hashes out.mkv >all1.md5
	head -n 120 all1.md5 >seg1.md5
	awk 'NR > 1 && (($2 == prev) != (((NR - 1) % 5) ~ /^[124]$/)) { bad++ } { prev = $2 }
		END { exit bad > 0 }' seg1.md5 || fail "the film stretch's frames are not held 3:2"
	db="$(film_psnr out.mkv)"
	bob="$(film_psnr "$in" bwdif=mode=send_field:parity=tff)"
	note "film stretch against the film frames: PSNR-Y $db dB; deinterlaced as video: $bob dB"
	at_least "$db" 45 || fail "the film stretch gave $db dB against the film frames, not 45"
	at_least "$db" "$(awk -v b="$bob" 'BEGIN { print b + 3 }')" ||
		fail "the film stretch ($db dB) is not 3 dB above deinterlacing it ($bob dB)"
	make_job job.toml input="$in" preset=vhs video.filters="" video.head_switching=off \
		video.chroma_shift=off upscale.width=720 upscale.height=480 encode.pix_fmt=yuv422p \
		run.segment_seconds=0.5 output=half.mkv
	orch run --progress=none job.toml
	expect_rc 0
	video_hashes half.mkv >all05.md5
	head -n 120 all05.md5 >seg05.md5
	cmp -s seg1.md5 seg05.md5 || fail "0.5 s segments made other film-stretch frames than 1 s segments"
}

# A chroma 1.5 px right of the luma: measured within a quarter pixel, moved back, and the
# chroma nearer the truth for it; a clean capture gets no chroma repair at all.
test_analysis_chroma_shift_measured_and_repaired() {
	need_bin
	local in dx
	in="$(capture progressive tff --chroma 1.5,0 --truth)"
	make_job job.toml input="$in" video.chroma_shift=auto upscale.width=720 upscale.height=480 \
		encode.pix_fmt=yuv422p
	orch check job.toml
	expect_rc 0
	dx="$(sed -n 's/^chroma shift: \([-+0-9.]*\) px across.*vhs_chroma.*/\1/p' orch.out)"
	[ -n "$dx" ] || { show_file orch.out 40; fail "check chose no chroma repair"; }
	awk -v d="$dx" 'BEGIN { exit !(d >= 1.25 && d <= 1.75) }' || fail "chroma shift measured $dx px, not 1.5 +- 0.25"
	repairs_gain "$in" u "chroma shift ($dx px measured)"
	check_auto "$(capture progressive tff)" video.head_switching=off video.chroma_shift=auto
	expect_line "left as it is"
	grep -qF vhs_chroma orch.out && fail "a clean capture got a chroma repair" || true
}

# Chroma a pixel right and a line below on an interlaced capture: both measured (each field
# on its own), within a quarter pixel.
test_analysis_chroma_shift_both_ways_interlaced() {
	need_bin
	check_auto "$(capture interlaced tff --chroma 1,1)" video.chroma_shift=auto
	local line dx dy
	line="$(grep '^chroma shift:' orch.out)" || { show_file orch.out 40; fail "no chroma line"; }
	dx="$(sed -n 's/.*: \([-+0-9.]*\) px across, \([-+0-9.]*\) down.*/\1/p' <<<"$line")"
	dy="$(sed -n 's/.*: \([-+0-9.]*\) px across, \([-+0-9.]*\) down.*/\2/p' <<<"$line")"
	awk -v x="$dx" -v y="$dy" 'BEGIN { exit !(x >= 0.75 && x <= 1.25 && y >= 0.75 && y <= 1.25) }' ||
		fail "chroma shift measured $dx,$dy, not 1,1 +- 0.25 ($line)"
}

# A head-switching band of 10 lines (pulled 3 to 21 pixels, the last two noise) on a capture
# with blanking at its sides: measured within a line, and repaired nearer the truth; the
# same capture without the band has none.
test_analysis_head_switching_measured_and_repaired() {
	need_bin
	local in lines
	in="$(capture interlaced tff --blanking --head-switching 10 --truth)"
	make_job job.toml input="$in" video.head_switching=auto upscale.width=720 upscale.height=480 \
		encode.pix_fmt=yuv422p
	orch check job.toml
	expect_rc 0
	lines="$(sed -n 's/^head switching: the bottom \([0-9]*\) lines torn.*vhs_headswitch.*/\1/p' orch.out)"
	[ -n "$lines" ] || { show_file orch.out 40; fail "check found no head-switching band"; }
	((lines >= 9 && lines <= 11)) || fail "head-switching band measured $lines lines, not 10 +- 1"
	repairs_gain "$in" y "head-switching ($lines lines measured)"
	check_auto "$(capture interlaced tff --blanking)" video.head_switching=auto
	expect_line "head switching: none (the picture's edges run straight to the bottom"
}

# Dropouts (three streak sources, each on half the frames): found, and filled in nearer the
# truth; the clean capture has none to speak of.
test_analysis_dropouts_found_and_repaired() {
	need_bin
	local in rate
	in="$(capture interlaced tff --dropouts 3 --truth)"
	make_job job.toml input="$in" video.dropouts=auto upscale.width=720 upscale.height=480 \
		encode.pix_fmt=yuv422p
	orch check job.toml
	expect_rc 0
	rate="$(sed -n 's/^dropouts: \([0-9.]*\) a frame .*vhs_dropouts.*/\1/p' orch.out)"
	[ -n "$rate" ] || { show_file orch.out 40; fail "check found no dropouts"; }
	at_least "$rate" 1.2 || fail "$rate dropouts a frame found, of 1.5 made"
	repairs_gain "$in" y "dropout ($rate a frame found)"
	check_auto "$(capture interlaced tff)" video.dropouts=auto
	expect_line "dropouts: none to speak of (0.00 a frame"
	# the telecined pan: thin bright stems cross lines as it moves (taken for half a
	# dropout a frame before the finder looked for them in the frames either side)
	check_auto "$(capture telecine tff)" video.dropouts=auto
	expect_line "dropouts: none to speak of (0.00 a frame"
}

# NTSC setup (black at 7.5 IRE) on a letterboxed capture: the bars found, the setup found
# and taken out, nearer the truth for it; without setup, the levels are left alone.
test_analysis_setup_and_letterbox() {
	need_bin
	local in
	in="$(capture interlaced tff --letterbox --setup --truth)"
	make_job job.toml input="$in" video.levels=auto upscale.width=720 upscale.height=480 \
		encode.pix_fmt=yuv422p
	orch check job.toml
	expect_rc 0
	expect_line "levels: black at 32: NTSC 7.5 IRE setup (100% sure) -> black to 16"
	repairs_gain "$in" y "levels"
	check_auto "$(capture interlaced tff --letterbox)"
	expect_line "borders: black 60 lines above, 60 below, 0 columns left, 0 right; the picture inside is 16:9, letterboxed"
	expect_line "levels: black at 16, white at"
	grep -qF lutyuv orch.out && fail "levels changed on a capture without setup" || true
}

# Captures with little or nothing to analyse, or that change mid-way: sensible choices, said
# plainly, and a restored file.
test_analysis_bad_input() {
	need_bin
	local src
	src="$(capture interlaced tff)"
	ffmpeg -nostdin -v error -i "$src" -frames:v 1 -c:v ffv1 one.mkv || fail "ffmpeg failed"
	ffmpeg -nostdin -v error -f lavfi -i "color=black:s=720x480:r=30000/1001:d=2,format=yuv422p,setfield=tff" \
		-c:v ffv1 black.mkv || fail "ffmpeg failed"
	# 720x480 for 1.5 s, then 640x480: the ffmpeg command line scales the rest to the first
	ffmpeg -nostdin -v error -f lavfi -i "testsrc2=s=720x480:r=30000/1001:d=1.5" -c:v mpeg2video -q:v 2 \
		-f mpegts a.ts || fail "ffmpeg failed"
	ffmpeg -nostdin -v error -f lavfi -i "testsrc2=s=640x480:r=30000/1001:d=1.5" -c:v mpeg2video -q:v 2 \
		-output_ts_offset 1.5 -f mpegts b.ts || fail "ffmpeg failed"
	cat a.ts b.ts >change.ts

	check_auto one.mkv
	expect_line "nothing moves to tell the scan by (0 frames)"
	expect_line "scan: nothing moved to tell by; interlaced as the file says"
	expect_line "dropouts: no run of frames long enough to look for them in; left as they are"
	make_job job.toml input=one.mkv preset=vhs video.filters="" upscale.width=- upscale.height=480
	orch run --progress=none job.toml
	expect_rc 0
	[ "$(frame_count out.mkv)" = 2 ] || fail "one interlaced frame gave $(frame_count out.mkv) frames, not its 2 fields"

	check_auto black.mkv
	expect_line "nothing moves to tell the scan by"
	expect_line "chroma shift: too few colour edges to measure it by; left as it is"

	check_auto change.ts
	expect_line "picture: the tape changes its size or format mid-way"
	make_job job.toml input=change.ts preset=vhs video.filters="" upscale.width=- upscale.height=480 output=change.mkv
	orch run --progress=none job.toml
	expect_rc 0
	[ "$(ffmpeg -nostdin -v error -i change.ts -f framemd5 - | grep -vc '^#')" = "$(frame_count change.mkv)" ] ||
		fail "a tape that changes size: $(frame_count change.mkv) frames out, ffmpeg decodes another count"
}

# check --json: the same findings and choices as the text, as JSON (stdout is the JSON alone).
test_analysis_check_json() {
	need_bin
	local in
	in="$(capture telecine tff)"
	make_job job.toml input="$in" preset=vhs video.filters="" upscale.width=- upscale.height=-
	orch check job.toml
	expect_rc 0
	cp orch.out text.out
	orch check --json job.toml
	expect_rc 0
	python3 - orch.out text.out <<'PY' || { show_file orch.out 80; fail "check --json is wrong (see above)"; }
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
a = d["video_analysis"]
assert a["scan"] == "telecine" and a["field_order"] == "tff", a
assert isinstance(a["scan_confidence"], float) or isinstance(a["scan_confidence"], int)
assert len(a["runs"]) >= 1 and a["runs"][0]["scan"] in ("telecine", "mixed", "unknown"), a["runs"]
assert a["summary"] in text, a["summary"]
for c in d["video_choices"]:
    assert "%s: %s" % (c["topic"], c["says"]) in text, c
assert any(c["topic"] == "deinterlace" and "ivtc" in c["says"] for c in d["video_choices"])
assert "preprocess chain: %s" % d["preprocess_chain"] in text
assert "vhs_decimate" in d["preprocess_chain"]
assert d["upscale"] == {"width": 1440, "height": 1080}, d["upscale"]
assert d["settings"]["video.deinterlace"] == "auto"
assert any(l.startswith("# no ffmpeg command makes the same frames (vhs_decimate") for l in d["plan"])
assert d["probe"][0] == "# input"
PY
	orch run --json job.toml
	expect_rc 2
}

# The vhs preset on each kind of capture: the right frame rate, frame count and display aspect
# (3 s at 29.97 frames a second; 240 lines high to keep the runs short).
test_analysis_preset_rate_count_aspect() {
	need_bin
	local spec kind in rate frames size
	for spec in "interlaced:60000/1001:180:320x240" "progressive:30000/1001:90:320x240" \
		"telecine:24000/1001:72:320x240" "wide:60000/1001:180:426x240"; do
		IFS=: read -r kind rate frames size <<<"$spec"
		if [ "$kind" = wide ]; then in="$(capture interlaced tff --sar 32:27)"; else in="$(capture "$kind" tff)"; fi
		make_job job.toml input="$in" preset=vhs upscale.width=- upscale.height=240 output="$kind.mkv"
		orch run --progress=none job.toml
		expect_rc 0
		[ "$(ffprobe -v error -select_streams v -show_entries stream=r_frame_rate -of csv=p=0 "$kind.mkv")" = "$rate" ] ||
			fail "$kind: $(ffprobe -v error -select_streams v -show_entries stream=r_frame_rate -of csv=p=0 "$kind.mkv") fps, not $rate"
		[ "$(frame_count "$kind.mkv")" = "$frames" ] || fail "$kind: $(frame_count "$kind.mkv") frames, not $frames"
		[ "$(ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=s=x:p=0 "$kind.mkv")" = "$size" ] ||
			fail "$kind: $(ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=s=x:p=0 "$kind.mkv"), not $size"
	done
}
