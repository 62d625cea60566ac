#!/usr/bin/env bash
# upscale.sh: `make bench-upscale`, the upscaler's speed (issue 5; results in bench/RESULTS.md).
#
# Every configuration runs build/bench/upscale_bench (bench/upscale_bench.c): random 720x480
# yuv420p pictures through the upscaler's own API, as the stage drives it, with the FLOP
# count of the network per frame and the rate achieved.
#   CPU (always): esrgan-slim x2, esrgan-medium x2 (BENCH_CPU_FRAMES, default 3), esrgan-thick
#                 x2 (1 frame: 5 TFLOP), all cores.
#   GPU (when vhs-upscale finds one): the device's copy and fp16 matrix-product ceilings, then
#                 slim x2, medium x2, thick x2 and x4 in fp16, slim x2 in fp32, and
#                 plain Lanczos 720x480 -> 1440x1080 (BENCH_GPU_FRAMES, default 200).
# Without a GPU the GPU part says why it is skipped. Nothing else should run meanwhile.
#
# Environment: BENCH_CPU_FRAMES, BENCH_GPU_FRAMES, BENCH_PARTS ("cpu gpu", default both),
# VHS_MODEL_DIR (models; `make models` fetches them).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="${VHS_BUILD_DIR:-$ROOT/build}/bench/upscale_bench"
TOOL="${VHS_BIN_DIR:-$ROOT/build/bin}/vhs-upscale"
CPU_FRAMES="${BENCH_CPU_FRAMES:-3}"
GPU_FRAMES="${BENCH_GPU_FRAMES:-200}"
read -r -a PARTS <<<"${BENCH_PARTS:-cpu gpu}"

run() {
	echo "\$ upscale_bench $*"
	"$BENCH" "$@"
}

has() { [[ " ${PARTS[*]} " == *" $1 "* ]]; }

echo "# bench-upscale $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if has cpu; then
	run --backend cpu --model esrgan-slim --frames "$CPU_FRAMES" --warmup 1
	run --backend cpu --model esrgan-medium --frames "$CPU_FRAMES" --warmup 1
	run --backend cpu --model esrgan-thick --frames 1 --warmup 0
fi
if has gpu; then
	if "$TOOL" --backend cuda --raw 16x16:gbrp /dev/null /dev/null 2>gpu.why; then
		rm -f gpu.why
		nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader || true
		run --copy-ceiling --gemm-ceiling --model esrgan-slim --frames "$GPU_FRAMES"
		run --model esrgan-medium --frames "$GPU_FRAMES"
		run --model esrgan-thick --frames $((GPU_FRAMES / 10 + 1))
		run --model esrgan-thick --scale 4 --frames $((GPU_FRAMES / 10 + 1))
		run --model esrgan-slim --precision fp32 --frames "$GPU_FRAMES"
		run --lanczos --frames "$GPU_FRAMES"
	else
		echo "GPU part skipped: $(head -n 1 gpu.why)"
		rm -f gpu.why
	fi
fi
