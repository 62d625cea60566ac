# test_upscale.sh: the neural upscaler in the pipeline (issue 5). The stage's frames must be
# exactly what the upscaler alone (vhs-upscale, y4m or raw planes in and out) makes of the
# same preprocessed frames, whatever the segments and workers, through crashes too; RGB goes
# through with no YUV step; settings and missing models fail with one clear line.
# Frames are kept small (the CPU network does ~60 GFLOP/s per core).

UPSCALE="$BIN_DIR/vhs-upscale"

# upscale_job FILE INPUT [key=value]...: a small esrgan-slim job on the CPU, lossless output.
upscale_job() {
	local file="$1" in="$2"
	shift 2
	make_job "$file" input="$in" video.filters="bwdif=mode=send_frame,scale=176:120" \
		upscale.model=esrgan-slim upscale.backend=cpu upscale.width=352 upscale.height=264 \
		run.segment_seconds=0.5 "$@"
}

# expect_same_frames A B: decoded video frames of A and B are identical, frame by frame.
expect_same_frames() {
	video_hashes "$1" >a.vhash
	video_hashes "$2" >b.vhash
	[ -s a.vhash ] || fail "$1 has no video frames"
	cmp -s a.vhash b.vhash || { diff a.vhash b.vhash | head -n 5 >&2; fail "$1 and $2 differ ($(wc -l <a.vhash) vs $(wc -l <b.vhash) frames)"; }
}

# tool_reference IN CHAIN ARGS...: IN through the preprocess chain by ffmpeg into y4m, then
# vhs-upscale ARGS into ref.y4m.
tool_reference() {
	local in="$1" chain="$2"
	shift 2
	ffmpeg -nostdin -v error -y -i "$in" -vf "$chain" -an -strict -1 -f yuv4mpegpipe pre.y4m ||
		fail "ffmpeg could not make the preprocessed frames"
	"$UPSCALE" --backend cpu "$@" pre.y4m ref.y4m 2>tool.err || { show_file tool.err; fail "vhs-upscale failed"; }
}

# The pipeline's frames (two upscale workers, 0.5 s segments, NTSC DV 4:1:1 in, 4:2:0 out,
# network 352x240 then lanczos to 352x264) equal the upscaler's alone, bit for bit.
test_upscale_esrgan_equals_tool() {
	need_bin
	local in
	in="$(tape ntsc 1 dv)"
	upscale_job job.toml "$in" encode.pix_fmt=yuv420p stages.upscale.workers=2
	orch run --progress=none job.toml
	expect_rc 0
	[ "$(ffprobe_val out.mkv v:0 width)x$(ffprobe_val out.mkv v:0 height)" = 352x264 ] ||
		fail "output is not 352x264"
	tool_reference "$in" "bwdif=mode=send_frame,scale=176:120" --size 352x264 --pix-fmt yuv420p
	expect_same_frames out.mkv ref.y4m
	expect_av_sync out.mkv
}

# FFV1 RGB in (ffmpeg -pix_fmt gbrp makes 8-bit FFV1 RGB, which decodes as packed bgr0: the
# stage repacks it, losslessly), gbrp out (FFVHuff: FFmpeg 5.1's FFV1 encoder takes no 8-bit
# gbrp): RGB straight into the network and out of it (no matrix, no chroma), equal to the
# upscaler on the raw RGB planes.
test_upscale_gbrp_end_to_end() {
	need_bin
	ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=96x64:r=25:d=0.6" -pix_fmt gbrp \
		-c:v ffv1 rgb.mkv || fail "cannot make the gbrp input"
	make_job job.toml input=rgb.mkv video.filters="" upscale.model=esrgan-slim upscale.backend=cpu \
		upscale.width=- upscale.height=- encode.codec=ffvhuff encode.pix_fmt=gbrp run.segment_seconds=0.2
	orch run --progress=none job.toml
	expect_rc 0
	case "$(ffprobe_val out.mkv v:0 pix_fmt)" in gbrp | gbrap) ;; *) fail "output is not planar RGB" ;; esac
	ffmpeg -nostdin -v error -y -i rgb.mkv -f rawvideo -pix_fmt gbrp in.gbrp || fail "ffmpeg raw"
	"$UPSCALE" --backend cpu --raw 96x64:gbrp in.gbrp ref.gbrp 2>tool.err || { show_file tool.err; fail "vhs-upscale failed"; }
	ffmpeg -nostdin -v error -y -i out.mkv -f rawvideo -pix_fmt gbrp out.gbrp || fail "ffmpeg raw"
	[ "$(stat -c %s ref.gbrp)" = $((192 * 128 * 3 * 15)) ] || fail "vhs-upscale wrote $(stat -c %s ref.gbrp) bytes"
	cmp -s out.gbrp ref.gbrp || fail "the stage's RGB frames differ from vhs-upscale's"
}

# A killed upscale worker (mid-frame, mid-network) is restarted; the output equals the
# undisturbed run's.
test_upscale_killed_identical() {
	need_bin
	local in pid kills=0
	in="$(tape ntsc 2 dv)"
	upscale_job ref.toml "$in" output=ref.mkv
	orch run --progress=none ref.toml
	expect_rc 0
	upscale_job job.toml "$in" run.restart_limit=5
	orch_bg run --progress=none job.toml
	for _ in 1 2; do
		pid="$(stage_pid upscale 20)"
		[ -n "$pid" ] || break
		sleep 0.7
		kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
	done
	wait_exit 120
	expect_rc 0
	((kills >= 1)) || fail "no upscale stage was killed"
	grep -q "restart" orch.err || fail "the orchestrator did not report a restart: $(cat orch.err)"
	expect_same_frames out.mkv ref.mkv
}

# backend "auto" with no GPU: the models run on the CPU, with one warning about speed.
test_upscale_auto_without_gpu_warns() {
	need_bin
	if "$BIN_DIR/vhs-upscale" --backend cuda --raw 16x16:gbrp /dev/null /dev/null 2>probe.err ||
		! grep -q "no CUDA\|no device\|no GPU\|driver" probe.err; then
		skip "a GPU is present: nothing to fall back from"
	fi
	upscale_job job.toml "$(tape ntsc 1 dv)" upscale.backend=auto
	orch run --progress=none job.toml
	expect_rc 0
	grep -q "warning: upscale: no GPU" orch.err || fail "no warning about the CPU fallback: $(cat orch.err)"
}

# backend "cuda" with no GPU: refused before any frame, one line, exit 3, nothing left.
test_upscale_cuda_without_gpu_refused() {
	need_bin
	if "$UPSCALE" --backend cuda --raw 16x16:gbrp /dev/null /dev/null 2>probe.err; then
		skip "a GPU is present"
	fi
	upscale_job job.toml "$(tape ntsc 1 dv)" upscale.backend=cuda
	orch run --progress=none job.toml
	expect_rc 3
	expect_one_error 'backend "cuda"'
	expect_no_output out.mkv
}

# Models not installed: one line saying how to get them.
test_upscale_models_missing() {
	need_bin
	upscale_job job.toml "$(tape ntsc 1 dv)"
	VHS_MODEL_DIR="$PWD/nowhere" orch run --progress=none job.toml
	expect_rc 3
	expect_one_error "esrgan-slim x2 is not installed .*make models"
	expect_no_output out.mkv
}

# A scale the models do not come in: the job file is refused.
test_upscale_bad_scale() {
	need_bin
	upscale_job job.toml "$(tape ntsc 1 dv)" upscale.scale=5
	orch check job.toml
	expect_rc 3
	expect_one_error "'scale' in \[upscale\] must be one of 2, 3, 4, 8"
}

# vhs-upscale on broken input: one line, exit 1.
test_upscale_tool_bad_input() {
	need_bin
	printf 'YUV4MPEG2 W720 H480 F30000:1001 C420jpeg\nFRAME\nshort' >trunc.y4m
	"$UPSCALE" --backend cpu trunc.y4m out.y4m 2>err.txt && fail "a truncated y4m was accepted"
	[ "$(wc -l <err.txt)" = 1 ] || { show_file err.txt; fail "more than one line on stderr"; }
	printf 'not a y4m\n' >bad.y4m
	"$UPSCALE" --backend cpu bad.y4m out.y4m 2>err.txt && fail "a non-y4m file was accepted"
	[ "$(wc -l <err.txt)" = 1 ] || { show_file err.txt; fail "more than one line on stderr"; }
}
