# test_analysis.sh: the video analysis and what "auto" makes of it (issue 25), on captures of
# a known truth: a real photograph panned by a camera, scanned as interlaced, progressive or
# telecined film, flagged rightly or wrongly (tests/media/make_capture.sh), and the
# synthetic tapes of make_tape.sh. Run by tests/integration/run.sh.

MAKE_CAPTURE="$ROOT/tests/media/make_capture.sh"

# capture KIND ORDER [make_capture flags...]: the path of a cached 3-second capture.
capture() {
	local kind="$1" order="$2" key path
	shift 2
	[ -r /usr/share/backgrounds/mate/nature/Garden.jpg ] ||
		skip "the test photograph is missing (make deps installs mate-backgrounds)"
	key="capture-$kind-$order$(printf '%s' "${@/#/_}" | tr -d '/:-')-$(md5sum <"$MAKE_CAPTURE" | cut -c1-8)"
	path="$MEDIA_CACHE/$key.mkv"
	if [ ! -s "$path" ]; then
		mkdir -p "$MEDIA_CACHE"
		"$MAKE_CAPTURE" "$kind" "$order" 3 "$path" "$@" >&2 || fail "make_capture.sh failed for $path"
	fi
	printf '%s\n' "$path"
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
	expect_line "preprocess chain: drawbox=x=0:y=ih-12:w=iw:h=12:color=black:t=fill,bwdif=mode=send_field:parity=bff:deint=all"
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
# frames, and the same frames whatever the segments.
test_analysis_telecine_restored_to_film_rate() {
	need_bin
	local in n
	in="$(capture telecine tff)"
	make_job job.toml input="$in" preset=vhs video.filters="" video.head_switching=off \
		upscale.width=- upscale.height=480 run.segment_seconds=1
	orch run --progress=none job.toml
	expect_rc 0
	grep -qF "deinterlace: ivtc" orch.err || { show_file orch.err 20; fail "the run did not say ivtc"; }
	[ "$(ffprobe -v error -select_streams v -show_entries stream=r_frame_rate -of csv=p=0 out.mkv)" = 24000/1001 ] ||
		fail "the output is not 24000/1001 fps"
	n="$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 out.mkv)"
	[ "$n" = 72 ] || fail "$n frames out of 90 telecined frames, not 72"
	ffmpeg -v error -i out.mkv -f framemd5 - | grep -v '^#' >seg1.md5
	make_job job.toml input="$in" preset=vhs video.filters="" video.head_switching=off \
		upscale.width=- upscale.height=480 run.segment_seconds=0 output=one.mkv
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
