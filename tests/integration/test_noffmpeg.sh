# test_noffmpeg.sh: the pipeline of a build without FFmpeg (make FFMPEG=0: the GPU machines),
# y4m in and y4m out through the y4m stages (stages/y4m_*.c) and the upscaler. Its frames must
# be, bit for bit, what vhs-upscale alone makes of the same file with the same model, scale,
# size and pixel format, whatever the segments and workers, through a crash of the upscale
# stage; damaged y4m files and filter chains (which need libavfilter) are refused with one
# line and their exit codes. The build goes to build/noffmpeg (make FFMPEG=0 CUDA=0
# BUILD=build/noffmpeg), beside the normal one; ffmpeg (the command line) only makes the
# input files. Frames are 96x64, so the CPU network takes about 20 ms a frame.

NOFF_BIN="$ROOT/build/noffmpeg/bin"
NOFF_TARGETS=(vhs-orchestrate vhs-stage-decode vhs-stage-preprocess vhs-stage-upscale
	vhs-stage-encode vhs-stage-mux vhs-upscale)

# noff_setup: builds what the tests run (make does nothing when it is up to date) and points
# the harness's orch at that build.
noff_setup() {
	command -v ffmpeg >/dev/null || skip "ffmpeg (the command line) is needed to make the input"
	[ -n "${VHS_MODEL_DIR:-}" ] || [ -d "$ROOT/models/esrgan-slim/x2" ] ||
		skip "esrgan-slim x2 is not installed: run make models"
	make -s --no-print-directory -C "$ROOT" FFMPEG=0 CUDA=0 BUILD=build/noffmpeg \
		"${NOFF_TARGETS[@]/#/build/noffmpeg/bin/}" >build.log 2>&1 ||
		{ show_file build.log; fail "make FFMPEG=0 CUDA=0 BUILD=build/noffmpeg failed"; }
	ORCH="$NOFF_BIN/vhs-orchestrate"
}

# make_y4m FILE FILTERS PIX_FMT [ffmpeg output options]: 40 frames of noisy test pattern.
make_y4m() {
	local file="$1" vf="$2" pix="$3"
	shift 3
	ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=96x64:r=25:d=2,noise=alls=20:allf=t,$vf" \
		-frames:v 40 -pix_fmt "$pix" "$@" -strict -1 -f yuv4mpegpipe "$file" || fail "ffmpeg could not make $file"
}

# noff_job FILE INPUT [key=value]...: esrgan-slim x2 on the CPU, no filters, 0.5 s segments
# (12 frames at 25 fps: 4 segments), y4m out.
noff_job() {
	local file="$1" in="$2"
	shift 2
	make_job "$file" input="$in" output=out.y4m video.filters="" upscale.model=esrgan-slim \
		upscale.backend=cpu upscale.width=- upscale.height=- upscale.scale=2 encode.codec=- \
		encode.audio_codec=- encode.sar=- encode.pix_fmt=yuv420p run.segment_seconds=0.5 "$@"
}

# tool_ref IN: vhs-upscale with the job's model, scale, size (input x 2) and format: ref.y4m.
tool_ref() {
	"$NOFF_BIN/vhs-upscale" --backend cpu --model esrgan-slim --scale 2 --pix-fmt yuv420p "$1" ref.y4m \
		2>tool.err || { show_file tool.err; fail "vhs-upscale failed on $1"; }
}

# y4m_body FILE: the bytes after the stream header line (the frames).
y4m_body() {
	tail -c +"$(($(head -n 1 "$1" | wc -c) + 1))" "$1"
}

# expect_same_y4m OURS REF: identical frames (the first differing one named), and the same
# stream header line.
expect_same_y4m() {
	local ours="$1" ref="$2" frame at
	[ -s "$ours" ] || fail "no $ours"
	frame=$((6 + 192 * 128 * 3 / 2))
	y4m_body "$ref" >ref.frames
	y4m_body "$ours" >ours.frames
	[ "$(stat -c %s ref.frames)" = $((40 * frame)) ] || fail "vhs-upscale wrote $(stat -c %s ref.frames) bytes of frames, not 40 frames"
	if ! cmp -s ref.frames ours.frames; then
		at="$({ cmp ref.frames ours.frames 2>/dev/null || true; } | awk '{ print $5 }' | tr -d ,)"
		fail "frames differ from vhs-upscale's: ours $(($(stat -c %s ours.frames) / frame)) frames, first difference in frame $(((${at:-1} - 1) / frame))"
	fi
	[ "$(head -n 1 "$ours")" = "$(head -n 1 "$ref")" ] ||
		fail "stream headers differ: ours '$(head -n 1 "$ours")', vhs-upscale's '$(head -n 1 "$ref")'"
}

# The pipeline on one worker per stage equals vhs-upscale alone, header and frames; the run
# leaves nothing but the output.
test_noffmpeg_equals_tool() {
	noff_setup
	make_y4m in.y4m null yuv420p
	noff_job job.toml in.y4m
	orch run --progress=none --stats job.toml
	expect_rc 0
	grep -q "segments_made=4 " orch.err || { show_file orch.err; fail "expected 4 segments of 12 frames"; }
	tool_ref in.y4m
	expect_same_y4m out.y4m ref.y4m
	[ ! -e out.y4m.vhs-work ] || fail "the work dir was left behind"
}

# Interlaced 4:2:2 with a pixel aspect (It, A10:11, C422), and full-range 4:2:0 at
# 30000/1001 fps (XCOLORRANGE=FULL): the tags the decode stage reads reach the upscaler as
# the tool's reader gives them, and the output header says the same.
test_noffmpeg_tags_equal_tool() {
	noff_setup
	make_y4m i422.y4m setsar=10/11 yuv422p -field_order tt
	make_y4m ij.y4m fps=30000/1001 yuvj420p
	head -n 1 i422.y4m | grep -q " It A10:11 C422" || fail "ffmpeg wrote $(head -n 1 i422.y4m)"
	head -n 1 ij.y4m | grep -q "XCOLORRANGE=FULL" || fail "ffmpeg wrote $(head -n 1 ij.y4m)"
	local in
	for in in i422.y4m ij.y4m; do
		note "input $in: $(head -n 1 "$in")"
		rm -f out.y4m
		noff_job job.toml "$in"
		orch run --progress=none job.toml
		expect_rc 0
		tool_ref "$in"
		expect_same_y4m out.y4m ref.y4m
	done
}

# Two upscale and two encode workers (so decode makes two segments at once): the same bits.
test_noffmpeg_workers_identical() {
	noff_setup
	make_y4m in.y4m null yuv420p
	noff_job job.toml in.y4m stages.upscale.workers=2 stages.encode.workers=2
	orch run --progress=none --stats job.toml
	expect_rc 0
	grep -q "stats: upscale workers=2" orch.err && grep -q "stats: encode workers=2" orch.err ||
		{ show_file orch.err; fail "the run did not use two upscale and two encode workers"; }
	tool_ref in.y4m
	expect_same_y4m out.y4m ref.y4m
}

# The upscale stage kills itself (SIGKILL) at its 20th frame every time it starts: each
# attempt finishes a segment, is restarted from the first unfinished one, and the output
# is the same bits.
test_noffmpeg_crash_identical() {
	noff_setup
	make_y4m in.y4m null yuv420p
	noff_job job.toml in.y4m run.restart_limit=8
	VHS_TEST_CRASH=upscale:20 orch run --progress=none job.toml
	expect_rc 0
	grep -q "restarting from segment" orch.err || { show_file orch.err; fail "no restart was reported"; }
	tool_ref in.y4m
	expect_same_y4m out.y4m ref.y4m
}

# A crash with no restart allowed fails the run (exit 6) keeping the finished segment
# files, which the manifest accepts on --resume (names and sizes); the resumed output is the
# same bits.
test_noffmpeg_resume_identical() {
	noff_setup
	make_y4m in.y4m null yuv420p
	noff_job job.toml in.y4m run.restart_limit=0
	VHS_TEST_CRASH=upscale:30 orch run --progress=none job.toml
	expect_rc 6
	[ -s out.y4m.vhs-work/manifest.toml ] || { show_file orch.err; fail "no finished segment was kept"; }
	expect_no_output out.y4m
	orch run --resume --progress=none job.toml
	expect_rc 0
	grep -Eq "resuming: [1-3] segments already done" orch.err || { show_file orch.err; fail "the run did not resume"; }
	tool_ref in.y4m
	expect_same_y4m out.y4m ref.y4m
}

# Ctrl-C once a segment is finished: decode drains (finishes the segments it has begun),
# the run ends with 130 keeping the finished segments, and --resume makes the same bits.
test_noffmpeg_ctrl_c_then_resume() {
	noff_setup
	make_y4m in.y4m null yuv420p
	noff_job job.toml in.y4m
	orch_bg run --progress=none job.toml
	local deadline=$((SECONDS + 30))
	until grep -q '^\[\[segment\]\]' out.y4m.vhs-work/manifest.toml 2>/dev/null; do
		kill -0 "$ORCH_PID" 2>/dev/null || { orch_wait; show_file orch.err; fail "the run ended (exit $ORCH_RC) before a segment was finished"; }
		((SECONDS < deadline)) || fail "no segment finished within 30 s"
		sleep 0.02
	done
	kill -INT "$ORCH_PID"
	wait_exit 30 "one SIGINT"
	expect_rc 130
	expect_no_output out.y4m
	[ -s out.y4m.vhs-work/manifest.toml ] || fail "the finished segments were not kept"
	orch run --resume --progress=none job.toml
	expect_rc 0
	tool_ref in.y4m
	expect_same_y4m out.y4m ref.y4m
}

# Damaged y4m files: one line, exit 4 (input), no output.
test_noffmpeg_bad_y4m_refused() {
	noff_setup
	make_y4m good.y4m null yuv420p
	local hdr frame
	hdr=$(head -n 1 good.y4m | wc -c)
	frame=$((6 + 96 * 64 * 3 / 2))
	head -c $((hdr + 3 * frame + 100)) good.y4m >trunc.y4m
	noff_job job.toml trunc.y4m
	orch run --progress=none job.toml
	expect_rc 4
	expect_one_error "decode: .*trunc\.y4m' is truncated"
	expect_no_output out.y4m
	# frame 5's FRAME line overwritten: the size still fits, the frame line does not
	cp good.y4m bad.y4m
	printf 'XXXXX\n' | dd of=bad.y4m bs=1 seek=$((hdr + 5 * frame)) conv=notrunc status=none
	noff_job job.toml bad.y4m
	orch run --progress=none job.toml
	expect_rc 4
	expect_one_error "decode: .*bad\.y4m'.*(damaged|FRAME)"
	expect_no_output out.y4m
	printf 'RIFF not a y4m at all\n' >notes.y4m
	noff_job job.toml notes.y4m
	orch run --progress=none job.toml
	expect_rc 4
	expect_one_error "notes\.y4m' is not a y4m"
	expect_no_output out.y4m
}

# A filter chain needs libavfilter: refused with one line, exit 3 (job), no output.
test_noffmpeg_filters_refused() {
	noff_setup
	make_y4m in.y4m null yuv420p
	noff_job job.toml in.y4m video.filters="hqdn3d=3:2:3:2"
	orch run --progress=none job.toml
	expect_rc 3
	expect_one_error "preprocess: \[video\] filters = \"hqdn3d=3:2:3:2\" needs libavfilter"
	expect_no_output out.y4m
}

# `check` describes the y4m through the decode stage's --probe.
test_noffmpeg_check() {
	noff_setup
	make_y4m in.y4m null yuv420p
	noff_job job.toml in.y4m
	orch check job.toml
	expect_rc 0
	grep -q "^video: rawvideo 96x64 yuv420p 25/1 fps sar 1:1$" orch.out ||
		{ show_file orch.out; fail "check does not describe the y4m stream"; }
	grep -q "^container: yuv4mpegpipe, 1.600 s$" orch.out || { show_file orch.out; fail "check gives no duration"; }
}
