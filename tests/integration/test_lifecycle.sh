# test_lifecycle.sh: the run as a whole: `check`, signals (Ctrl-C, SIGTERM), real codecs in mkv and mp4, the presets, progress output, --stats, concurrent runs
# and stale shared memory. Run by tests/integration/run.sh (debris is checked after each test).

# A job slow enough to be interrupted: 8 s of NTSC DV, double-rate deinterlace, 1440x1080,
# in 1 s segments (the first Ctrl-C finishes the segment at hand).
slow_job() {
	make_job job.toml input="$(tape ntsc 8 dv)" video.filters="bwdif=mode=send_field,hqdn3d=3:2:3:2" \
		upscale.width=1440 upscale.height=1080 audio.filters="afftdn=nf=-25" run.segment_seconds=1
}

# start_and_get_going: starts the slow job and waits until the encode stage runs.
start_and_get_going() {
	need_bin
	slow_job
	orch_bg run --progress=none job.toml
	[ -n "$(stage_pid encode 15)" ] || { orch_wait; show_file orch.err; fail "no encode stage process appeared (exit $ORCH_RC)"; }
	sleep 1
	kill -0 "$ORCH_PID" 2>/dev/null || { orch_wait; fail "the slow job finished in about 1 s (exit $ORCH_RC): make it slower"; }
}

# --- check ----------------------------------------------------------------------------------

test_check_prints_settings() {
	need_bin
	mkdir jobs
	cp "$(tape ntsc 2 dv)" jobs/in.avi
	make_job jobs/job.toml input=in.avi video.filters="yadif,hqdn3d=3:2:3:2" upscale.width=720 \
		upscale.height=540 audio.filters="highpass=f=100"
	orch check jobs/job.toml
	expect_rc 0
	local want
	for want in yadif hqdn3d=3:2:3:2 720 540 lanczos ffv1 yuv420p pcm_s16le highpass=f=100; do
		grep -qF -- "$want" orch.out || { show_file orch.out 40; fail "check does not print '$want'"; }
	done
	[ ! -e jobs/out.mkv ] || fail "check wrote an output"
	orch check --set upscale.width=1024 --set 'video.filters=bwdif=mode=send_field' jobs/job.toml
	expect_rc 0
	grep -qF 1024 orch.out || { show_file orch.out 40; fail "--set upscale.width=1024 not shown by check"; }
	grep -qF bwdif=mode=send_field orch.out || { show_file orch.out 40; fail "--set video.filters not shown by check"; }
	if grep -qF yadif orch.out; then show_file orch.out 40; fail "--set video.filters did not replace the job's filters"; fi
}

# The key table of docs/job-file.md is the output of `vhs-orchestrate keys`, which prints it
# from the option table that checks every value: a key added or changed without the docs
# fails here.
test_keys_table_is_the_docs_table() {
	need_bin
	orch keys
	expect_rc 0
	sed -n '/^| Key | Type/,/^$/p' "$ROOT/docs/job-file.md" | sed '/^$/d' >docs.table
	[ -s docs.table ] || fail "no key table in docs/job-file.md"
	diff docs.table orch.out >table.diff ||
		{ show_file table.diff 20; fail "docs/job-file.md's key table differs from 'vhs-orchestrate keys'"; }
}

test_check_invalid_job() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" upscale.width=wide
	orch check job.toml
	expect_rc 3
	expect_one_error
}

# --- signals --------------------------------------------------------------------------------

test_sigint_orchestrator() {
	start_and_get_going
	kill -INT "$ORCH_PID"
	wait_exit 10 "SIGINT"
	expect_rc 130
	expect_no_output out.mkv
}

test_sigterm_orchestrator() {
	start_and_get_going
	kill -TERM "$ORCH_PID"
	wait_exit 10 "SIGTERM"
	expect_rc 130
	expect_no_output out.mkv
}

# Ctrl-C at a terminal signals the whole foreground process group, stages included: still 130,
# not "a stage failed".
test_ctrl_c_process_group() {
	start_and_get_going
	kill -INT -- "-$ORCH_PID"
	wait_exit 10 "SIGINT to the process group"
	expect_rc 130
	expect_no_output out.mkv
}

# (a stage killed or hung mid-run is restarted: test_crash.sh)

# --- real codecs and containers -------------------------------------------------------------

# x264_aac EXT: libx264 + aac into out.EXT, in 0.5 s segments joined by the mux; h264 + aac,
# the right size and frame count, in sync, and it seeks (to a key frame in the middle).
x264_aac() {
	local ext="$1" in
	need_bin
	in="$(tape ntsc 2 dv)"
	make_job job.toml input="$in" output="out.$ext" video.filters=yadif upscale.width=720 \
		upscale.height=540 encode.codec=libx264 encode.preset=fast encode.crf=23 \
		encode.audio_codec=aac encode.audio_bitrate=192k audio.filters="highpass=f=100" \
		run.segment_seconds=0.5
	orch run --progress=none job.toml
	expect_rc 0
	local v a size n want
	v="$(ffprobe_val "out.$ext" v:0 codec_name)" a="$(ffprobe_val "out.$ext" a:0 codec_name)"
	[ "$v/$a" = h264/aac ] || fail "expected h264/aac in out.$ext, got '$v/$a'"
	size="$(ffprobe_val "out.$ext" v:0 width)x$(ffprobe_val "out.$ext" v:0 height)"
	[ "$size" = 720x540 ] || fail "expected 720x540, got $size"
	n="$(frame_count "out.$ext")" want="$(frame_count "$in")"
	[ "$n" = "$want" ] || fail "expected $want frames (yadif keeps the rate), got $n"
	expect_av_sync "out.$ext"
	local t
	t="$(ffprobe -v error -read_intervals 1.2%+#1 -select_streams v:0 -show_entries frame=pts_time \
		-of csv=p=0 "out.$ext" | head -n 1)"
	note "a seek to 1.2 s starts at the frame at $t s"
	awk -v t="$t" 'BEGIN { exit !(t != "" && t >= 0.9 && t <= 1.25) }' ||
		fail "a seek to 1.2 s in out.$ext starts at '$t' s, not at the key frame of the segment near 1 s"
}

test_libx264_aac_mkv() { x264_aac mkv; }
test_libx264_aac_mp4() { x264_aac mp4; }

# --- presets --------------------------------------------------------------------------------

# preset_run NAME: a job that names only input, output and the preset runs end to end.
preset_run() {
	need_bin
	printf 'input = "%s"\noutput = "out.mkv"\npreset = "%s"\n' "$(tape ntsc 2 dv)" "$1" >job.toml
	orch run --progress=none job.toml
	expect_rc 0
	[ "$(stream_types out.mkv)" = "video audio" ] || fail "expected video and audio streams, got: $(stream_types out.mkv)"
	local n
	n="$(frame_count out.mkv)"
	((n > 0)) || fail "no frames in out.mkv"
	note "preset $1: $(ffprobe_val out.mkv v:0 codec_name) $(ffprobe_val out.mkv v:0 width)x$(ffprobe_val out.mkv v:0 height), $n frames"
}

test_preset_vhs() {
	preset_run vhs
	local size
	size="$(ffprobe_val out.mkv v:0 width)x$(ffprobe_val out.mkv v:0 height)"
	[ "$size" = 1440x1080 ] || fail "the vhs preset should make 1440x1080, made $size"
}
test_preset_dvd() { preset_run dvd; }
test_preset_webcam() { preset_run webcam; }

# --- progress and stats ---------------------------------------------------------------------

# Not a terminal: plain lines, no carriage returns, for both --progress=log and auto.
test_progress_log_not_a_terminal() {
	need_bin
	make_job job.toml input="$(tape ntsc 3 dv)" video.filters="bwdif=mode=send_field,hqdn3d=3:2:3:2" \
		upscale.width=1440 upscale.height=1080
	local mode t0 took lines
	for mode in log auto; do
		rm -f out.mkv
		t0=$SECONDS
		orch run --progress=$mode job.toml
		took=$((SECONDS - t0))
		expect_rc 0
		if grep -q $'\r' orch.out orch.err; then fail "--progress=$mode wrote a carriage return when not on a terminal"; fi
		lines="$(cat orch.out orch.err | grep -c '%' || true)"
		note "--progress=$mode: $lines progress lines in ${took}s"
		((lines >= 1)) || { show_file orch.err; fail "--progress=$mode printed no progress line (with a '%')"; }
		((took < 5 || lines >= 2)) || fail "--progress=$mode printed one line in a ${took}s run: not periodic"
	done
	make_job job.toml input="$(tape ntsc 2 dv)" upscale.width=720 upscale.height=540
	rm -f out.mkv
	orch run --progress=none job.toml
	expect_rc 0
	if [ -s orch.out ] || [ -s orch.err ]; then
		show_file orch.out
		show_file orch.err
		fail "--progress=none printed something on a clean run"
	fi
}

# On a terminal: one line redrawn with \r, with percent, fps, speed and ETA, at most 4 a second.
test_progress_bar_on_terminal() {
	need_bin
	command -v script >/dev/null || skip "script(1) is not installed"
	make_job job.toml input="$(tape ntsc 3 dv)" video.filters="bwdif=mode=send_field,hqdn3d=3:2:3:2" \
		upscale.width=1440 upscale.height=1080
	local cmd t0 took redraws
	printf -v cmd '%q run job.toml' "$ORCH"
	t0=$(date +%s%N)
	script -qefc "$cmd" /dev/null >tty.out </dev/null || fail "run on a terminal failed: $(tail -c 300 tty.out)"
	took=$((($(date +%s%N) - t0) / 1000000))
	redraws="$(tr -cd '\r' <tty.out | wc -c)"
	note "$redraws redraws in ${took} ms"
	grep -q '%' tty.out || fail "no percent on the terminal"
	grep -qi 'fps' tty.out || fail "no fps on the terminal"
	grep -qi 'eta' tty.out || fail "no ETA on the terminal"
	# script(1) turns each \n into \r\n, so allow one per line too.
	local nl
	nl="$(tr -cd '\n' <tty.out | wc -c)"
	((redraws - nl <= 4 * took / 1000 + 4)) || fail "$((redraws - nl)) redraws in $took ms: more than 4 a second"
}

test_stats_lines() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" video.filters=yadif upscale.width=720 upscale.height=540
	orch run --progress=none --stats job.toml
	expect_rc 0
	local s
	for s in "${STAGES[@]}"; do
		grep -Eq "^stats: $s workers=1 cpu_user=[0-9.]+ cpu_sys=[0-9.]+ maxrss_kb=[0-9]+ frames=[0-9]+( |\$)" orch.err ||
			{ show_file orch.err; fail "no well-formed stats line for $s"; }
	done
	local other
	other="$(grep -v '^stats: ' orch.err || true)"
	[ -z "$other" ] || fail "stderr has more than stats lines: $other"
}

# --- several runs, stale state --------------------------------------------------------------

# Two runs at once do not interfere, and make the same bits.
test_two_runs_at_once() {
	need_bin
	local in
	in="$(tape ntsc 2 dv)"
	mkdir a b
	make_job a/job.toml input="$in" video.filters=hqdn3d=3:2:3:2 upscale.width=720 upscale.height=540
	cp a/job.toml b/job.toml
	local pa pb ra=0 rb=0
	(cd a && exec setsid "$ORCH" run --progress=none job.toml >orch.out 2>orch.err) &
	pa=$!
	(cd b && exec setsid "$ORCH" run --progress=none job.toml >orch.out 2>orch.err) &
	pb=$!
	echo "$pa" >>"$VHS_TEST_DIR/.orch-pids"
	echo "$pb" >>"$VHS_TEST_DIR/.orch-pids"
	wait "$pa" || ra=$?
	wait "$pb" || rb=$?
	[ "$ra/$rb" = 0/0 ] || { show_file a/orch.err; show_file b/orch.err; fail "concurrent runs exited $ra and $rb"; }
	video_hashes a/out.mkv >a.vhash
	video_hashes b/out.mkv >b.vhash
	compare_video_hashes a.vhash b.vhash
	[ "$(audio_md5 a/out.mkv)" = "$(audio_md5 b/out.mkv)" ] || fail "concurrent runs made different audio"
}

# A shared-memory object and a run dir (socket, stage logs) of a dead run are removed at
# start-up (DESIGN: "unlinked ... at start-up for stale runs"); the run dir of a live
# process is left alone.
test_stale_shm_removed() {
	need_bin
	local dead=4194000
	while kill -0 "$dead" 2>/dev/null || [ -e "/dev/shm/vhs-$dead-stale" ]; do dead=$((dead + 1)); done
	local stale="/dev/shm/vhs-$dead-video0" dead_dir="$TMPDIR/vhs-run.$dead.AbCdEf"
	local live_dir="$TMPDIR/vhs-run.$$.AbCdEf"
	head -c 4096 /dev/zero >"$stale"
	chmod 600 "$stale"
	mkdir "$dead_dir" "$live_dir"
	touch "$dead_dir/ctl" "$dead_dir/decode0.log" "$live_dir/decode0.log"
	make_job job.toml input="$(tape ntsc 2 dv)" upscale.width=720 upscale.height=540
	orch run --progress=none job.toml
	local left=0 dir_left=0 live_left=0
	[ -e "$stale" ] && left=1
	[ -e "$dead_dir" ] && dir_left=1
	[ -e "$live_dir/decode0.log" ] && live_left=1
	rm -rf "$stale" "$dead_dir" "$live_dir"
	expect_rc 0
	((left == 0)) || fail "the stale $stale (pid $dead is not running) was not removed at start-up"
	((dir_left == 0)) || fail "the stale run dir of pid $dead was not removed at start-up"
	((live_left == 1)) || fail "the run dir of the live pid $$ was emptied"
}

# Audio whose stage finishes long before the video (mono 44.1 kHz to aac, 10 s, silent for
# 8 s): the audio stage ends and leaves while encode still gives its last slots back. The
# orchestrator once took the GRANT to the departed producer for a fatal error
# ("No route to host"). Three runs, since it is a race.
test_producer_gone_before_last_release() {
	need_bin
	ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=d=10:s=320x240:r=30 -f lavfi -i "sine=d=2" \
		-filter_complex "[1:a]adelay=8000|8000:all=1[a]" -map 0:v -map "[a]" \
		-c:v ffv1 -c:a pcm_s16le late.mkv || fail "cannot make the input"
	make_job job.toml input=late.mkv output=out.mkv encode.codec=ffv1 encode.audio_codec=aac
	for i in 1 2 3; do
		orch run --force --progress=none job.toml
		expect_rc 0
	done
	[ "$(stream_types out.mkv)" = "video audio" ] || fail "expected video and audio, got: $(stream_types out.mkv)"
}
