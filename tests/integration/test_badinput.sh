# test_badinput.sh: bad jobs, bad inputs, bad outputs and bad command lines. Each error case
# must exit with its documented code (2 usage, 3 job file, 4 input, 5 output) and exactly one
# line on stderr starting with "vhs-orchestrate: error: ", leave no output or .part file, and
# never hang (the harness checks debris and enforces the timeout). Damaged or silent inputs
# are restored as far as they go. Run by tests/integration/run.sh.

# expect_error CODE [REGEX]: the last run failed with CODE, one error line, no out.mkv.
expect_error() {
	expect_rc "$1"
	expect_one_error "${2:-}"
	expect_no_output out.mkv
}

# --- input errors (4) -----------------------------------------------------------------------

test_missing_input() {
	need_bin
	make_job job.toml input=no-such-tape.avi
	orch run job.toml
	expect_error 4 'no-such-tape\.avi'
}

test_text_file_named_avi() {
	need_bin
	printf 'this is not a video, just a note about tape 12\n%.0s' {1..50} >notes.avi
	make_job job.toml input=notes.avi
	orch run job.toml
	expect_error 4 'notes\.avi'
}

test_empty_input_file() {
	need_bin
	: >empty.avi
	make_job job.toml input=empty.avi
	orch run job.toml
	expect_error 4
}

test_audio_only_input() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv --audio-only)"
	orch run job.toml
	expect_error 4 '[Vv]ideo'
}

# --- job file errors (3) --------------------------------------------------------------------

test_empty_job() {
	need_bin
	: >job.toml
	orch run job.toml
	expect_error 3
	printf '# nothing here yet\n\n' >job.toml
	orch run job.toml
	expect_error 3
}

test_missing_job_file() {
	need_bin
	orch run no-such-job.toml
	expect_error 3 'no-such-job\.toml'
}

test_wrong_key_suggests() {
	need_bin
	cat >job.toml <<-EOF
		input = "$(tape ntsc 2 dv)"
		output = "out.mkv"
		preset = "none"

		[video]
		filtres = "yadif"
	EOF
	orch run job.toml
	expect_error 3 "did you mean"
	grep -q "filters" orch.err || fail "the suggestion does not name 'filters': $(cat orch.err)"
	grep -Eq 'job\.toml:6:[0-9]+' orch.err || fail "the error does not give job.toml:6:COL: $(cat orch.err)"
}

test_wrong_type() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" upscale.width=wide
	orch run job.toml
	expect_error 3 'width'
}

test_missing_key() {
	need_bin
	make_job job.toml input=-
	orch run job.toml
	expect_error 3 'input'
}

test_toml_syntax_error() {
	need_bin
	printf 'input = "in.avi\noutput = "out.mkv"\n' >job.toml
	orch run job.toml
	expect_error 3 'job\.toml:1'
}

test_unknown_preset() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" preset=betamax
	orch run job.toml
	expect_error 3 'betamax'
}

# --- output errors (5) ----------------------------------------------------------------------

test_output_dir_missing() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" output=no/such/dir/out.mkv
	orch run job.toml
	expect_error 5 'no/such/dir'
	[ ! -e no ] || fail "the orchestrator created the missing output directory"
}

# An existing output is never replaced without --force (it once was, silently); with it, it
# is, once the run has finished. The refusal comes before any work.
test_output_exists_needs_force() {
	need_bin
	make_job job.toml input="$(tape ntsc 1 dv)" upscale.width=720 upscale.height=540
	echo "an earlier restoration" >out.mkv
	orch run --progress=none job.toml
	expect_rc 5
	expect_one_error
	grep -qF "output '$PWD/out.mkv' exists: --force replaces it" orch.err || { show_file orch.err; fail "no clear line"; }
	[ "$(cat out.mkv)" = "an earlier restoration" ] || fail "the existing output was touched"
	[ ! -e out.mkv.vhs-work ] || fail "a work dir was made before the refusal"
	orch run --progress=none --force job.toml
	expect_rc 0
	[ "$(frame_count out.mkv)" -gt 0 ] || fail "--force did not replace the output with the restoration"
	orch check job.toml
	expect_rc 0
}

# A temp dir on a full or a read-only file system fails before any work with one line (the
# file systems are tmpfs mounts in a private mount namespace: no root needed where user
# namespaces are allowed).
test_temp_dir_full_or_read_only() {
	need_bin
	unshare --mount --map-root-user true 2>/dev/null || skip "no private mount namespaces here (unshare)"
	local in
	in="$(tape ntsc 1 dv)"
	mkdir full ro
	make_job job.toml input="$in" run.temp_dir="$PWD/full" upscale.width=720 upscale.height=540
	ORCH_RC=0
	# shellcheck disable=SC2016
	unshare --mount --map-root-user sh -c 'mount -t tmpfs -o size=1m tmpfs full &&
		dd if=/dev/zero of=full/fill bs=64k 2>/dev/null; "$1" run --progress=none job.toml' sh "$ORCH" \
		>orch.out 2>orch.err || ORCH_RC=$?
	expect_rc 5
	grep -qF "[run] temp_dir '$PWD/full' is on a full file system" orch.err || { show_file orch.err; fail "no clear line for a full temp dir"; }
	make_job job.toml input="$in" run.temp_dir="$PWD/ro" upscale.width=720 upscale.height=540
	ORCH_RC=0
	# shellcheck disable=SC2016
	unshare --mount --map-root-user sh -c 'mount -t tmpfs -o ro tmpfs ro && "$1" run --progress=none job.toml' sh "$ORCH" \
		>orch.out 2>orch.err || ORCH_RC=$?
	expect_rc 5
	grep -qF "[run] temp_dir '$PWD/ro' is not writable: Read-only file system" orch.err || { show_file orch.err; fail "no clear line for a read-only temp dir"; }
	[ ! -e out.mkv ] && [ ! -e out.mkv.part ] || fail "output written"
}

test_output_equals_input() {
	need_bin
	cp "$(tape ntsc 2 dv)" tape.avi
	local before
	before="$(md5sum <tape.avi)"
	make_job job.toml input=tape.avi output=tape.avi
	orch run job.toml
	expect_rc 5
	expect_one_error
	[ "$(md5sum <tape.avi)" = "$before" ] || fail "the input was modified"
	[ ! -e tape.avi.part ] || fail "tape.avi.part left behind"
	# The same file under another name is the same file.
	ln -s tape.avi link.avi
	make_job job.toml input=tape.avi output=./link.avi
	orch run job.toml
	expect_rc 5
	expect_one_error
	[ "$(md5sum <tape.avi)" = "$before" ] || fail "the input was modified through a symlink"
}

test_output_unsupported_extension() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" output=out.xyz
	orch run job.toml
	expect_rc 5
	expect_one_error 'xyz'
	expect_no_output out.xyz
}

# --- usage errors (2) -----------------------------------------------------------------------

test_unknown_option() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)"
	orch run --frobnicate job.toml
	expect_error 2 'frobnicate'
}

test_unknown_command() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)"
	orch restore job.toml
	expect_error 2 'restore'
}

test_no_arguments() {
	need_bin
	orch
	expect_rc 2
	[ -s orch.err ] || fail "no usage message on stderr"
}

test_bad_set_option() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)"
	orch run --set novalue job.toml
	expect_error 2
	orch run --set upscale.widht=720 job.toml
	expect_rc 3
	expect_one_error 'did you mean'
}

# --- damaged and silent inputs (restored) ---------------------------------------------------

# A DV AVI cut to about half: restored up to the damage, with a warning saying what was lost.
test_truncated_dv() {
	need_bin
	local full
	full="$(tape ntsc 3 dv)"
	head -c "$(($(stat -c %s "$full") / 2))" "$full" >cut.avi
	local decodable
	decodable="$(frame_count cut.avi)"
	note "ffprobe decodes $decodable of $(frame_count "$full") frames from cut.avi"
	make_job job.toml input=cut.avi upscale.width=720 upscale.height=540
	orch run --progress=none job.toml
	expect_rc 0
	[ -s out.mkv ] || fail "no output for a truncated input"
	local got
	got="$(frame_count out.mkv)"
	((got >= decodable - 1 && got <= decodable)) ||
		fail "expected about $decodable frames (what ffmpeg decodes from the cut file), got $got"
	grep -Ei 'warn' orch.err | grep -E '[0-9]' >/dev/null || {
		show_file orch.err
		fail "no warning with a number saying how much was lost on stderr"
	}
	stream_types out.mkv | grep -w audio >/dev/null || fail "the truncated tape's audio was dropped"
}

# An MPEG-4 Part 2 AVI with B-frames (a DivX capture): AVI keeps no presentation times, and
# the last frame out of the decoder's queue has no time at all. It once went through every
# stage and failed in the mux ("Can't write packet with unknown timestamp", advising a
# --resume that could only fail again); ffmpeg restores it, so we must, frame for frame, over
# segments (a seek into the file) too, through the default encoders (B-frames out as in).
test_avi_mpeg4_without_timestamps() {
	need_bin
	ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=30000/1001 -f lavfi -i sine=f=440:r=48000 \
		-t 3 -c:v mpeg4 -bf 2 -vtag DX50 -c:a mp3 -b:a 128k divx.avi || fail "ffmpeg cannot make the AVI"
	[ "$(ffprobe -v error -select_streams v -show_entries packet=pts -of csv divx.avi | grep -c N/A)" -gt 0 ] ||
		fail "the AVI has every pts: the test needs packets without"
	local seconds
	for seconds in 10 1; do
		rm -f out.mkv
		make_job job.toml input=divx.avi upscale.width=320 upscale.height=240 run.segment_seconds="$seconds" \
			encode.codec=libx264 encode.audio_codec=aac
		orch run --progress=none job.toml
		expect_rc 0
		expect_video_frames out.mkv 30000/1001 "$(frame_count divx.avi)"
	done
}

# A capture whose picture size changes mid-way after a gap of seconds (two captures cut
# together): it once failed the preprocess stage (bwdif: "Failed to reallocate frame"). The
# frames of the second size are scaled to the first's, as the ffmpeg command line gives its
# encoder the size it opened with; every output frame has one size, over segments too, and
# no fewer frames come out than ffmpeg makes of it.
test_size_change_after_a_gap() {
	need_bin
	ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=352x240:rate=30000/1001 -t 2 -c:v mpeg2video -q:v 3 \
		-f mpegts a.ts || fail "ffmpeg cannot make a.ts"
	ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=30000/1001 -t 2 -c:v mpeg2video -q:v 3 \
		-output_ts_offset 5 -f mpegts b.ts || fail "ffmpeg cannot make b.ts"
	cat a.ts b.ts >cut.ts
	ffmpeg -nostdin -v error -i cut.ts -vf bwdif -c:v ffv1 ref.mkv || fail "ffmpeg cannot restore cut.ts"
	make_job job.toml input=cut.ts video.deinterlace=bwdif upscale.width=352 upscale.height=240 \
		run.segment_seconds=1
	orch run --progress=none job.toml
	expect_rc 0
	local sizes got want
	sizes="$(ffprobe -v error -select_streams v -show_entries frame=width,height -of csv=p=0 out.mkv | sort -u)"
	[ "$sizes" = "352,240" ] || fail "output frames of more than one size: $(echo "$sizes" | tr '\n' ' ')"
	got="$(frame_count out.mkv)" want="$(frame_count ref.mkv)"
	note "frames: ours $got, ffmpeg's $want"
	((got >= want)) || fail "$got frames out, ffmpeg makes $want"
}

# A header that declares a picture of 65535 x 65535 (and nothing behind it) is refused with
# one line that says so (libav's error code alone read "Device or resource busy").
test_declared_size_65535() {
	need_bin
	{ printf 'YUV4MPEG2 W65535 H65535 F30:1 C420jpeg\nFRAME\n'; head -c 100000 /dev/zero; } >huge.y4m
	make_job job.toml input=huge.y4m
	orch run --progress=none job.toml
	expect_rc 4
	grep -qF "cannot open '$PWD/huge.y4m': Picture size 65535x65535 is invalid" orch.err ||
		{ show_file orch.err; fail "the error does not say the size is invalid"; }
	[ ! -e out.mkv ] || fail "output written"
}

# Silent footage is a normal input: a silent output, equal to the ffmpeg reference.
test_video_only_input() {
	oracle "$(tape ntsc 2 dv --no-audio)" video.filters="yadif" upscale.width=720 upscale.height=540
	[ "$(stream_types out.mkv)" = "video" ] || fail "expected only a video stream, got: $(stream_types out.mkv)"
}

# An input in a directory with spaces and quotes in its name, given relative to the job file.
test_awkward_paths() {
	need_bin
	mkdir -p "my tapes/it's \"old\""
	cp "$(tape ntsc 2 dv)" "my tapes/it's \"old\"/tape 01.avi"
	make_job "my tapes/job.toml" input="it's \"old\"/tape 01.avi" output="restored 01.mkv" \
		upscale.width=720 upscale.height=540
	orch run --progress=none "my tapes/job.toml"
	expect_rc 0
	[ -s "my tapes/restored 01.mkv" ] || fail "output not written next to the job file"
}

# A pipe is not a capture: segments are made by seeking in the input.
test_fifo_input() {
	need_bin
	mkfifo tape.avi
	make_job job.toml input=tape.avi
	orch run job.toml
	expect_error 4 'pipes cannot be read'
}

# A bad audio bit rate is found at start-up, not by the mux after every segment was made:
# nothing is kept (there is nothing to resume with a setting that cannot work).
test_bad_audio_bitrate_refused_at_start() {
	need_bin
	make_job job.toml input="$(tape ntsc 3 dv)" encode.audio_codec=aac encode.audio_bitrate=fast \
		run.segment_seconds=1
	orch run job.toml
	expect_error 3 "audio_bitrate 'fast'"
	[ ! -e out.mkv.vhs-work ] || fail "a work dir was left: $(ls -A out.mkv.vhs-work | tr '\n' ' ')"
}

# A damaged manifest is refused, and the work dir is left exactly as it was for the user to
# look at (or to discard with --restart).
test_damaged_manifest_left_alone() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)"
	mkdir out.mkv.vhs-work
	printf 'version = 1\nfingerprint = "zz"\n' >out.mkv.vhs-work/manifest.toml
	: >out.mkv.vhs-work/v000000.vseg
	orch run --resume job.toml
	expect_error 3 'damaged manifest.*--restart'
	[ -s out.mkv.vhs-work/manifest.toml ] && [ -e out.mkv.vhs-work/v000000.vseg ] ||
		fail "the refused work dir was changed"
	orch run --restart job.toml
	expect_rc 0
	[ ! -e out.mkv.vhs-work ] || fail "the work dir is left after a successful run"
}

# A setting longer than a stage takes is refused, naming it (it once fell back, silently,
# to the stage's own default: a 40-character pix_fmt became yuv420p).
test_setting_too_long_for_the_stage() {
	need_bin
	make_job job.toml input="$(tape ntsc 1 dv)" encode.pix_fmt=yuv420p_and_thirty_more_characters_here
	orch run job.toml
	expect_error 3 'encode\.pix_fmt is longer than this stage takes \(31 bytes\)'
}
