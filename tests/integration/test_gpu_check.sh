# test_gpu_check.sh: tools/gpu-check.sh, the one command a GPU machine runs (issue 23), is
# checked here, without a GPU, on bundles of stand-in programs: with no GPU every step says
# why it skips and it exits 0; with a "GPU" each step's outcome (passed, skipped, failed,
# timed out) is told apart, the budget cuts the steps, the programs' figure lines reach
# figures.json and the summary table, and at most 8 files are written. The real programs'
# GPU runs are the GPU machine's (make gpu-check). Run by tests/integration/run.sh.

# fake_bundle DIR MEMINFO_EXIT: a bundle whose programs are shell scripts
fake_bundle() {
	local d="$1"

	mkdir -p "$d/bin" "$d/tests" "$d/bench" "$d/lib"
	printf '#!/bin/sh\n' >"$d/bin/vhs-orchestrate"
	if [ "$2" = 77 ]; then
		printf '#!/bin/sh\necho "skip: no CUDA device: stand-in"\nexit 77\n' >"$d/tests/gpu_meminfo"
	else
		printf '#!/bin/sh\necho "1000 2000"\n' >"$d/tests/gpu_meminfo"
	fi
	printf '#!/bin/sh\necho "all passed"\n' >"$d/tests/test_cuda"
	cat >"$d/tests/test_cuda_mcdeint" <<'EOF'
#!/bin/sh
echo 'figure: {"name": "mcdeint medium 720x480", "fps": 250.0, "gpu_ms_per_frame": 3.5, "frames": 240}'
echo "test_cuda_mcdeint: all passed"
EOF
	cat >"$d/tests/test_ipc_pool" <<'EOF'
#!/bin/sh
echo 'figure: {"name": "ipc-pool hand-offs", "slots": 4, "slot_mib": 2, "hand_offs": 5000, "per_s": 40000, "latency_p50_us": 20.1, "latency_p99_us": 80.5}'
echo "skip: stand-in skips"
exit 77
EOF
	cat >"$d/bench/upscale_bench" <<'EOF'
#!/bin/sh
case "$*" in *copy-ceiling*)
	echo 'figure: {"name": "copy ceiling", "bytes": 1073741824, "gbps": 3000.0}'
	echo 'figure: {"name": "gemm ceiling fp16", "n": 8192, "wmma_tflops": 300.0, "cublas_tflops": 700.0}' ;;
esac
case "$*" in
*medium*) echo 'figure: {"name": "upscale esrgan-medium x2 cuda fp16", "in": "720x480", "out": "1440x960", "frames": 200, "fps": 100.0, "ms_per_frame": 10, "gflop_per_frame": 100, "tflops": 10.0}'
	echo "upscale_bench: broken"; exit 3 ;;
*lanczos*) sleep 60 ;;
*) echo 'figure: {"name": "upscale esrgan-slim x2 cuda fp16", "in": "720x480", "out": "1440x960", "frames": 300, "fps": 500.0, "ms_per_frame": 2, "gflop_per_frame": 20, "tflops": 10.0}' ;;
esac
EOF
	chmod +x "$d"/bin/* "$d"/tests/* "$d"/bench/*
}

test_gpu_check_without_a_gpu_skips_every_step() {
	fake_bundle bundle 77
	local rc=0
	"$ROOT/tools/gpu-check.sh" --bundle bundle --out out >check.out 2>&1 || rc=$?
	[ "$rc" = 0 ] || { show_file check.out; fail "exit $rc without a GPU (want 0)"; }
	[ "$(grep -c '^[a-z_0-9-]* *skip .*no GPU: no CUDA device: stand-in' check.out)" = 9 ] ||
		{ show_file check.out 40; fail "not every one of the 9 steps says it skips for want of a GPU"; }
	grep -q 'every step skipped, nothing ran on a GPU' check.out || fail "the last line does not say nothing ran"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["steps"]) == 9 and all(s["status"] == "skip" for s in d["steps"])' \
		out/figures.json || fail "figures.json is wrong"
}

test_gpu_check_outcomes_figures_and_budget() {
	fake_bundle bundle 0
	local rc=0
	"$ROOT/tools/gpu-check.sh" --bundle bundle --out out --budget 20 >check.out 2>&1 || rc=$?
	[ "$rc" = 1 ] || { show_file check.out 40; fail "exit $rc with failed steps (want 1)"; }
	local want line
	for want in 'test_cuda ok' 'mcdeint ok' 'test_ipc_pool skip' 'test_pipeline skip' 'ceilings ok' \
		'speed-medium FAIL' 'speed-lanczos TIMEOUT' 'speed-slim-fp32 skip' 'gpu-edges skip'; do
		line="$(awk -v s="${want% *}" '$1 == s && NF >= 3 && $3 ~ /^[0-9.]+$/ { print $1, $2; exit }' check.out)"
		[ "$line" = "$want" ] || { show_file check.out 40; fail "step line '$line', want '$want'"; }
	done
	grep -q 'gpu-edges .*the 20 s budget is spent' check.out || fail "the budget did not cut the last steps"
	grep -q 'target 400: met' check.out || fail "the summary does not judge slim's 500 fps against 400"
	grep -q 'target 120: MISSED by 17%' check.out || fail "the summary does not judge medium's 100 fps against 120"
	grep -q '1.4% of the ceiling' check.out || fail "the summary has no share of the matrix ceiling"
	grep -q 'deinterlace medium 720x480 .*250.0 fps, 3.500 ms GPU a frame; target 300: MISSED by 17%' check.out ||
		fail "the summary does not judge the deinterlacer's 250 fps against 300"
	grep -q 'CUDA IPC hand-offs .*p99 80.5 us' check.out || fail "a skipped step's figure line is lost"
	python3 - out/figures.json <<'PY' || fail "figures.json is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
names = sorted(f["name"] for f in d["figures"])
assert names == ["copy ceiling", "gemm ceiling fp16", "ipc-pool hand-offs", "mcdeint medium 720x480",
                 "upscale esrgan-medium x2 cuda fp16", "upscale esrgan-slim x2 cuda fp16"], names
assert {f["step"] for f in d["figures"]} == {"ceilings", "mcdeint", "speed-medium", "test_ipc_pool"}
PY
	local n
	n="$(find out -type f | wc -l)"
	[ "$n" -le 8 ] || fail "$n files in the output directory (at most 8 come back)"
	grep -q '==== speed-medium: FAIL (.*): exit 3: upscale_bench: broken' out/gpu-check.log ||
		fail "the log lacks the failed step and its reason"
}

test_gpu_check_refuses_a_missing_bundle() {
	local rc=0
	"$ROOT/tools/gpu-check.sh" --bundle nowhere --out out >check.out 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "exit $rc without a bundle (want 2)"
	grep -q "run 'make gpu-check'" check.out || fail "the error does not say how to make the bundle"
}
