# test_crash.sh: crash-safe runs (issue 3): stages killed at random and restarted, a hung
# stage, the orchestrator killed and resumed, the restart intensity limit, a full disk,
# Ctrl-C. Every test compares with an undisturbed run of the same job: identical video frame
# hashes and decoded audio md5. Run by tests/integration/run.sh, which checks after each
# test that no process, shared-memory object, run dir, partial output or stray temp file is
# left (a work dir may keep only its manifest and finished segments).

# The job these tests disturb: 8 s of NTSC DV, double-rate deinterlace with a temporal
# denoiser (warm-up), 960x720, an IIR audio filter, lossless ffv1 + pcm, 1 s segments.
crash_job() {
	make_job "$1" input="$(tape ntsc 8 dv)" output="$2" \
		video.filters="bwdif=mode=send_field,hqdn3d=3:2:3:2" upscale.width=960 upscale.height=720 \
		audio.filters="highpass=f=100" run.segment_seconds=1 "${@:3}"
}

# reference: an undisturbed run of crash_job; writes ref.vhash and ref.amd5 (cached by the
# job and the binaries, so the tests of one build share it).
reference() {
	need_bin
	crash_job ref.toml ref.mkv
	local key dir
	key="$( (cat ref.toml; cat "$ORCH" "$BIN_DIR"/vhs-stage-*) | md5sum | cut -c1-16)"
	dir="$MEDIA_CACHE/ours/$key"
	if [ -s "$dir/vhash" ] && [ -s "$dir/amd5" ]; then
		note "undisturbed run from cache $dir"
		cp "$dir/vhash" ref.vhash
		cp "$dir/amd5" ref.amd5
		return
	fi
	orch run --progress=none ref.toml
	expect_rc 0
	video_hashes ref.mkv >ref.vhash
	audio_md5 ref.mkv >ref.amd5
	[ "$(wc -l <ref.vhash)" -gt 400 ] || fail "the reference run has $(wc -l <ref.vhash) frames"
	rm -f ref.mkv
	mkdir -p "$dir"
	cp ref.vhash "$dir/vhash.tmp" && mv "$dir/vhash.tmp" "$dir/vhash"
	cp ref.amd5 "$dir/amd5.tmp" && mv "$dir/amd5.tmp" "$dir/amd5"
}

# same_as_reference FILE: identical frames and audio.
same_as_reference() {
	video_hashes "$1" >ours.vhash
	compare_video_hashes ref.vhash ours.vhash
	audio_md5 "$1" >ours.amd5
	cmp -s ref.amd5 ours.amd5 || fail "audio differs from the undisturbed run: $(cat ref.amd5) vs $(cat ours.amd5)"
}

# expect_work_dir DIR: holds only the manifest and the files of the segments it lists.
expect_work_dir() {
	local dir="$1" f n
	[ -d "$dir" ] || fail "the work dir $dir is gone"
	[ -s "$dir/manifest.toml" ] || fail "no manifest in $dir: $(ls -A "$dir" | tr '\n' ' ')"
	for f in "$dir"/* "$dir"/.[!.]*; do
		[ -e "$f" ] || continue
		n="$(basename "$f")"
		case "$n" in
		manifest.toml) ;;
		v[0-9][0-9][0-9][0-9][0-9][0-9].vseg | a[0-9][0-9][0-9][0-9][0-9][0-9].pcm)
			grep -qx "index = $((10#${n:1:6}))" "$dir/manifest.toml" || fail "$n in the work dir is not a finished segment" ;;
		*) fail "stray file in the work dir: $n" ;;
		esac
	done
}

# Ten SIGKILLs or more, at seeded random moments, to every stage kind in turn (a seeded
# shuffle), and the mux at the end: the output is the undisturbed one.
test_chaos_kills() {
	chaos_kills
}

# The same with two workers for every stage (one of them, whichever is found first, is
# killed each time): the output is still the undisturbed one-worker run's.
test_chaos_kills_two_workers() {
	chaos_kills stages.decode.workers=2 stages.preprocess.workers=2 stages.upscale.workers=2 \
		stages.audio.workers=2 stages.encode.workers=2
}

# chaos_kills [key=value]...: the chaos run of crash_job with those settings added.
chaos_kills() {
	reference
	local seed="${VHS_CHAOS_SEED:-$RANDOM}" kinds=() order=(decode preprocess upscale audio encode) i k pid kills=0
	note "chaos seed $seed (replay with VHS_CHAOS_SEED=$seed)"
	RANDOM=$seed
	for i in 0 1; do
		kinds+=($(printf '%s\n' "${order[@]}" | awk -v s="$((seed + i))" 'BEGIN { srand(s) } { print rand(), $0 }' | sort -n | cut -d' ' -f2))
	done
	crash_job job.toml out.mkv run.restart_limit=5 "$@"
	orch_bg run --progress=none job.toml
	for k in "${kinds[@]}"; do
		pid="$(stage_pid "$k" 20)"
		[ -n "$pid" ] || break
		sleep "0.$((3 + RANDOM % 7))"
		kill -0 "$pid" 2>/dev/null || pid="$(stage_pid "$k" 20)"
		[ -n "$pid" ] || break
		note "kill -9 vhs-stage-$k (pid $pid)"
		kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
	done
	pid="$(stage_pid mux 60)"
	if [ -n "$pid" ]; then
		note "kill -9 vhs-stage-mux (pid $pid)"
		kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
	fi
	wait_exit 120 "the chaos run"
	expect_rc 0
	((kills >= 10)) || fail "only $kills kills landed before the run ended (the job is too fast for the schedule)"
	local restarts
	restarts="$(grep -c 'restarting from segment' orch.err || true)"
	((restarts == kills)) || { show_file orch.err 40; fail "$kills kills but $restarts restarts reported"; }
	for k in decode preprocess upscale audio encode mux; do
		grep -Eq "stage $k(\.[0-9]+)? \(pid [0-9]+\) was killed by signal 9" orch.err || fail "no restart of a killed $k stage reported"
	done
	same_as_reference out.mkv
	[ ! -e out.mkv.vhs-work ] || fail "the work dir is left after a successful run"
}

# A stage that stops (SIGSTOP: alive, silent, no CPU) is found hung by its missing
# heartbeat, killed and restarted; the output is the undisturbed one.
test_hung_stage_restarted() {
	reference
	local pid
	crash_job job.toml out.mkv
	orch_bg run --progress=none job.toml
	wait_segments out.mkv.vhs-work 1 60
	pid="$(stage_pid upscale 10)"
	[ -n "$pid" ] || fail "no upscale stage to stop"
	note "kill -STOP vhs-stage-upscale (pid $pid)"
	kill -STOP "$pid"
	wait_exit 120 "a hung upscale stage"
	expect_rc 0
	grep -q "stage upscale (pid $pid) stopped responding" orch.err || { show_file orch.err; fail "the hang was not reported"; }
	same_as_reference out.mkv
}

# kill -9 of the orchestrator: its stages die with it (PR_SET_PDEATHSIG); --resume makes
# only the unfinished segments and the output is the undisturbed one.
test_orchestrator_killed_then_resume() {
	reference
	local done_before made total left
	crash_job job.toml out.mkv
	VHS_NO_IO_URING=1 orch_bg run --progress=none job.toml
	wait_segments out.mkv.vhs-work 3 60
	kill -KILL "$ORCH_PID"
	orch_wait
	sleep 0.5
	left="$(grep -lzE '^(.*/)?vhs-stage-[a-z]+$' /proc/[0-9]*/cmdline 2>/dev/null | while read -r f; do
		f="${f#/proc/}"; ours "${f%%/*}" && echo "${f%%/*}"; done || true)"
	[ -z "$left" ] || fail "stages outlived the killed orchestrator: $left"
	done_before="$(segments_done out.mkv.vhs-work)"
	note "$done_before segments were done when the orchestrator died"
	orch run --progress=none job.toml
	expect_rc 2
	expect_one_error "--resume"
	orch run --progress=none --stats --resume job.toml
	expect_rc 0
	made="$(sed -n 's/.*segments_made=\([0-9]*\).*/\1/p' orch.err)"
	total="$(sed -n 's/.*segments_total=\([0-9]*\).*/\1/p' orch.err)"
	[ -n "$made" ] && [ -n "$total" ] || { show_file orch.err; fail "no stats line"; }
	((made == total - done_before)) || fail "the resumed run made $made segments; $total - $done_before were unfinished"
	same_as_reference out.mkv
}

# The first Ctrl-C finishes the segment at hand and keeps every finished one; a resume with
# other settings is refused; --resume finishes the job.
test_ctrl_c_drains_then_resume() {
	reference
	crash_job job.toml out.mkv
	orch_bg run --progress=none job.toml
	wait_segments out.mkv.vhs-work 2 60
	kill -INT "$ORCH_PID"
	wait_exit 30 "one SIGINT"
	expect_rc 130
	grep -q "finishing the segments in progress" orch.err || fail "no drain notice"
	expect_no_output out.mkv
	expect_work_dir out.mkv.vhs-work
	orch run --progress=none --resume --set upscale.width=1280 job.toml
	expect_rc 3
	expect_one_error "changed"
	orch run --progress=none --resume job.toml
	expect_rc 0
	same_as_reference out.mkv
	[ ! -e out.mkv.vhs-work ] || fail "the work dir is left after a successful run"
}

# A second Ctrl-C stops at once; only the manifest and finished segments stay; --restart
# starts over.
test_second_ctrl_c_stops_at_once() {
	need_bin
	crash_job job.toml out.mkv
	orch_bg run --progress=none job.toml
	wait_segments out.mkv.vhs-work 1 60
	kill -INT "$ORCH_PID"
	sleep 0.2
	kill -INT "$ORCH_PID"
	wait_exit 5 "two SIGINTs"
	expect_rc 130
	expect_no_output out.mkv
	expect_work_dir out.mkv.vhs-work
	orch run --progress=none --restart --set run.segment_seconds=4 job.toml
	expect_rc 0
	[ ! -e out.mkv.vhs-work ] || fail "the work dir is left after a successful run"
}

# A crash while the first Ctrl-C drains: the run stops there (no restart), exit 130, the
# finished segments kept.
test_crash_while_draining() {
	need_bin
	local pid
	crash_job job.toml out.mkv
	orch_bg run --progress=none job.toml
	wait_segments out.mkv.vhs-work 1 60
	pid="$(stage_pid upscale 10)"
	kill -INT "$ORCH_PID"
	sleep 0.1
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	wait_exit 15 "a crash during the drain"
	expect_rc 130
	expect_no_output out.mkv
	expect_work_dir out.mkv.vhs-work
	if grep -q 'restarting from segment' orch.err; then show_file orch.err; fail "restarted while draining"; fi
}

# A stage that always crashes: the job fails after restart_limit restarts, with a clear
# message and exit 6, keeping what was finished.
test_restart_limit() {
	need_bin
	crash_job job.toml out.mkv run.restart_limit=3
	VHS_TEST_CRASH=upscale:40 orch run --progress=none job.toml
	expect_rc 6
	[ "$(grep -c 'restarting from segment' orch.err)" = 3 ] || { show_file orch.err; fail "expected 3 restarts"; }
	tail -n 1 orch.err | grep -q "^$ERROR_PREFIX.*upscale.*restart_limit = 3" ||
		{ show_file orch.err; fail "the last line does not say the upscale stage hit the restart limit"; }
	expect_no_output out.mkv
}

# The temp dir fills up: exit 5 with the reason, finished segments kept; after space is
# freed, --resume completes with the undisturbed output.
test_disk_full_then_resume() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	reference
	mkdir small
	mount -t tmpfs -o size=40m tmpfs small || skip "cannot mount a tmpfs here"
	crash_job job.toml out.mkv run.temp_dir=small
	orch run --progress=none job.toml
	local rc=$ORCH_RC
	[ "$rc" = 5 ] || { umount small; expect_rc 5; }
	grep -q "No space left on device" orch.err || { show_file orch.err; umount small; fail "the error does not say the disk is full"; }
	(expect_work_dir small/out.mkv.vhs-work) || { umount small; fail "work dir not as expected after a full disk"; }
	(($(segments_done small/out.mkv.vhs-work) >= 1)) || { umount small; fail "no finished segment was kept"; }
	mount -o remount,size=400m small
	orch run --progress=none --resume job.toml
	local rc2=$ORCH_RC
	[ "$rc2" = 0 ] || { show_file orch.err; umount small; fail "--resume after freeing space exited $rc2"; }
	[ ! -e small/out.mkv.vhs-work ] || { umount small; fail "the work dir is left after a successful run"; }
	umount small
	same_as_reference out.mkv
}
