# test_deinterlace.sh: our motion-compensated deinterlacer in the pipeline (issue 26):
# `deinterlace = "mc"` makes one frame per field, the same frames whatever the segments,
# workers, threads, crashes and resumes, and the same as vhs-deinterlace alone makes of the
# capture, and gives the progressive truth
# back better than bwdif where bwdif is weakest (still fine text). Clips from
# tests/media/make_deint_clip.sh (1 s, cached). Run by tests/integration/run.sh.

MAKE_DEINT_CLIP="$ROOT/tests/media/make_deint_clip.sh"

# deint_clip CLIP STANDARD ORDER: the path of a cached 1-second clip; its truth beside it, at
# truth_of PATH.
deint_clip() {
	local path
	[ -r /usr/share/backgrounds/mate/nature/Dune.jpg ] ||
		skip "the test photographs are missing (make deps installs mate-backgrounds)"
	path="$MEDIA_CACHE/deint-$1-$2-$3-$(md5sum <"$MAKE_DEINT_CLIP" | cut -c1-8).mkv"
	if [ ! -s "$path" ] || [ ! -s "$(deint_truth_of "$path")" ]; then
		mkdir -p "$MEDIA_CACHE"
		"$MAKE_DEINT_CLIP" "$1" "$2" "$3" 1 "$path" "$(deint_truth_of "$path")" >&2 ||
			fail "make_deint_clip.sh failed for $path"
	fi
	printf '%s\n' "$path"
}

deint_truth_of() { printf '%s\n' "${1%.mkv}.truth.mkv"; }

# psnr_frames A B: PSNR-Y of A against B, frame k against frame k.
psnr_frames() {
	ffmpeg -nostdin -hide_banner -i "$1" -i "$2" -lavfi \
		"[0]setpts=N/(60*TB)[a];[1]setpts=N/(60*TB)[b];[a][b]psnr" -f null - 2>&1 |
		sed -n "s/.*PSNR .*y:\([0-9.]*\|inf\) .*/\1/p" | tail -1
}

# mc_job FILE INPUT [key=value...]: the capture deinterlaced by mc (fast), lossless, its size.
mc_job() {
	local file="$1" in="$2"
	shift 2
	make_job "$file" input="$in" video.deinterlace=mc video.mc_preset=fast upscale.width=720 \
		upscale.height=480 encode.pix_fmt=yuv422p "$@"
}

test_deinterlace_mc_frame_per_field_any_segments() {
	need_bin
	local in
	in="$(deint_clip text ntsc tff)"
	mc_job job.toml "$in" run.segment_seconds=0.3
	orch check job.toml
	expect_rc 0
	grep -qF "preprocess chain: vhs_mcdeint=preset=fast:parity=tff" orch.out ||
		{ show_file orch.out 30; fail "check did not show the mc chain"; }
	orch run --progress=none job.toml
	expect_rc 0
	expect_video_frames out.mkv 60000/1001 60 # one a field of 30 interlaced frames
	video_hashes out.mkv >seg.md5
	mc_job job.toml "$in" run.segment_seconds=0 output=one.mkv
	orch run --progress=none job.toml
	expect_rc 0
	video_hashes one.mkv >one.md5
	cmp -s seg.md5 one.md5 || fail "0.3 s segments made other frames than one segment"
	# the same frames as the deinterlacer alone makes of the whole capture
	ffmpeg -v error -i "$in" -f yuv4mpegpipe -strict -1 - | "$BIN_DIR/vhs-deinterlace" --preset fast - tool.y4m 2>/dev/null ||
		fail "vhs-deinterlace failed"
	video_hashes tool.y4m >tool.md5
	cmp -s one.md5 tool.md5 || fail "the pipeline's frames differ from vhs-deinterlace's"
}

# The same frames with two preprocess workers of one thread each, with the preprocess stage
# killed mid-run (restarted), and after the orchestrator is killed and the run resumed.
test_deinterlace_mc_same_frames_workers_kills_resume() {
	need_bin
	local in
	in="$(deint_clip text ntsc tff)"
	mc_job job.toml "$in" video.mc_preset=medium run.segment_seconds=0.2
	orch run --progress=none job.toml
	expect_rc 0
	video_hashes out.mkv >ref.md5
	[ "$(wc -l <ref.md5)" = 60 ] || fail "$(wc -l <ref.md5) frames, not 60"
	orch run --force --progress=none --restart job.toml --set stages.preprocess.workers=2 --set stages.preprocess.threads=1
	expect_rc 0
	video_hashes out.mkv >ours.md5
	compare_video_hashes ref.md5 ours.md5
	local pid
	orch_bg run --force --progress=none --restart job.toml
	pid="$(stage_pid preprocess 20)"
	wait_segments out.mkv.vhs-work 1 60
	note "kill -9 vhs-stage-preprocess (pid $pid)"
	kill -KILL "$pid"
	orch_wait
	expect_rc 0
	grep -Eq "stage preprocess(\.[0-9]+)? \(pid [0-9]+\) was killed by signal 9" orch.err ||
		{ show_file orch.err 20; fail "the kill did not land (the run was over?)"; }
	video_hashes out.mkv >ours.md5
	compare_video_hashes ref.md5 ours.md5
	orch_bg run --force --progress=none --restart job.toml
	wait_segments out.mkv.vhs-work 2 60
	kill -KILL "$ORCH_PID"
	orch_wait
	orch run --force --progress=none --resume job.toml
	expect_rc 0
	grep -q "resuming: [1-9][0-9]* segments already done" orch.err || fail "the run did not resume"
	video_hashes out.mkv >ours.md5
	compare_video_hashes ref.md5 ours.md5
}

# Still fine text: bwdif shimmers and blurs it; mc puts the other field's lines back.
test_deinterlace_mc_gives_still_text_back() {
	need_bin
	local in mc bw
	in="$(deint_clip text ntsc tff)"
	mc_job job.toml "$in" run.segment_seconds=0.5
	orch run --progress=none job.toml
	expect_rc 0
	ffmpeg -nostdin -v error -i "$in" -vf bwdif=mode=send_field:parity=tff -c:v ffv1 bwdif.mkv ||
		fail "bwdif failed"
	mc="$(psnr_frames out.mkv "$(deint_truth_of "$in")")"
	bw="$(psnr_frames bwdif.mkv "$(deint_truth_of "$in")")"
	note "still text against the truth: PSNR-Y mc $mc dB, bwdif $bw dB"
	at_least "$mc" "$(awk -v b="$bw" 'BEGIN { print b + 3 }')" ||
		fail "mc gave $mc dB on still text, not 3 dB above bwdif's $bw"
}

test_deinterlace_mc_bad_values() {
	need_bin
	make_job job.toml input="$(deint_clip text ntsc tff)" video.deinterlace=mc video.mc_preset=quick
	orch check job.toml
	expect_rc 3
	grep -qF "'mc_preset' in [video] must be one of fast, medium, slow, not 'quick'" orch.err ||
		{ show_file orch.err 5; fail "no clear error for mc_preset = quick"; }
	# a filter's arguments are checked when the stage builds the chain: by run
	make_job job.toml input="$(deint_clip text ntsc tff)" video.filters=vhs_mcdeint=preset=quick
	orch run --progress=none job.toml
	expect_rc 3
	grep -qF "vhs_mcdeint: preset = 'quick' is not one of fast, medium, slow" orch.err ||
		{ show_file orch.err 5; fail "no clear error for vhs_mcdeint=preset=quick"; }
	# the GPU asked for where there is none: refused with advice that works (on a GPU machine
	# the run goes on, and this part is skipped)
	if ! nvidia-smi -L >/dev/null 2>&1; then
		make_job job.toml input="$(deint_clip text ntsc tff)" video.deinterlace=mc video.mc_device=cuda
		orch run --progress=none job.toml
		expect_rc 3
		grep -qF "vhs_mcdeint: device=cuda: " orch.err && grep -qF '([video] mc_device = "auto" or "cpu" deinterlaces on the CPU' orch.err ||
			{ show_file orch.err 5; fail "no clear error for mc_device = cuda without a GPU"; }
		[ ! -e out.mkv ] || fail "a refused run left its output"
	fi
}
