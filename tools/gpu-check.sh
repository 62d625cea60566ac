#!/usr/bin/env bash
# gpu-check.sh: every CUDA path of the project, run and measured on a GPU machine in one go
# (issue 23, GPU bring-up). `make gpu-check` builds its bundle here and prints the command that
# runs this script there; docs/operations.md, "GPU machines", says more.
#
#   tools/gpu-check.sh [--bundle DIR] [--out DIR] [--budget SECONDS]
#     --bundle  what tools/gpu-bundle.sh made (default build/gpu-bundle)
#     --out     where the logs and figures go (default $OUT, else gpu-check-out)
#     --budget  wall seconds for all steps together (default 420: 7 minutes)
#
# Prints the card, driver and CUDA versions first, one line per step as it ends, and a summary
# table last. Each step runs under its own time limit, cut to what is left of the budget.
# Steps, in order:
#   test_cuda        CUDA against the CPU reference (fp32 and fp16, real frames, every
#                    output element written)
#   mcdeint          the deinterlacer on the GPU against the CPU's, frame for frame (every
#                    preset and format case, device pictures in and out), and its speed at
#                    720x480 per preset (issue 26: medium >= 300 fps on an H100)
#   test_ipc_pool    the CUDA IPC pool between two processes: thousands of hand-offs, each
#                    side killed mid-run, device memory before and after; hand-off latency
#   test_pipeline    the y4m pipeline with a GPU edge against host edges (identical bytes),
#                    ten upscale crashes, the profile's GPU time per frame; whether CUDA IPC
#                    works in this sandbox (else the host-memory fallback and its warning)
#   ceilings         the device-to-device copy bandwidth and the fp16 matrix-product rate
#                    (plain WMMA kernel, and cuBLAS when it loads), then esrgan-slim x2 at
#                    720x480 in fp16
#   speed-medium     esrgan-medium x2 at 720x480, fp16
#   speed-lanczos    CUDA Lanczos 720x480 -> 1440x1080
#   speed-slim-fp32  esrgan-slim x2 at 720x480, fp32
#   gpu-edges        the upscale -> encode edge on the device against host memory (fps,
#                    host bytes per frame)
# Without a GPU every step says why it skips and the script exits 0.
#
# Writes into the output directory (4 files): gpu-check.log (every step's full output),
# figures.json (the machine, each step's status and time, every "figure:" line the programs
# printed), summary.txt (the table printed last), profile.txt (the GPU run's profile).
#
# Exit status: 0 every step passed or skipped, 1 a step failed or timed out, 2 usage or no
# bundle.
set -uo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE=build/gpu-bundle
OUTDIR="${OUT:-gpu-check-out}"
BUDGET=420

usage() {
	echo "usage: tools/gpu-check.sh [--bundle DIR] [--out DIR] [--budget SECONDS]" >&2
	exit 2
}

while (($#)); do
	case "$1" in
	--bundle) BUNDLE="${2:-}" && shift 2 || usage ;;
	--out) OUTDIR="${2:-}" && shift 2 || usage ;;
	--budget) BUDGET="${2:-}" && shift 2 || usage ;;
	*) usage ;;
	esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] || usage
# relative paths are the caller's; the steps run from the repository root
[ -d "$BUNDLE" ] || [ ! -d "$ROOT/$BUNDLE" ] || BUNDLE="$ROOT/$BUNDLE"
BUNDLE="$(cd -- "$BUNDLE" 2>/dev/null && pwd)" ||
	{ echo "gpu-check: no bundle at $BUNDLE: run 'make gpu-check' on the build machine first" >&2; exit 2; }
[ -x "$BUNDLE/bin/vhs-orchestrate" ] && [ -x "$BUNDLE/tests/gpu_meminfo" ] ||
	{ echo "gpu-check: $BUNDLE is not a complete bundle: run 'make gpu-check' again" >&2; exit 2; }
mkdir -p -- "$OUTDIR" && OUTDIR="$(cd -- "$OUTDIR" && pwd)" ||
	{ echo "gpu-check: cannot make the output directory $OUTDIR" >&2; exit 2; }
cd "$ROOT" || exit 2

export LD_LIBRARY_PATH="$BUNDLE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export VHS_BIN_DIR="$BUNDLE/bin" VHS_GPU_MEMINFO="$BUNDLE/tests/gpu_meminfo"
export VHS_MODEL_DIR="${VHS_MODEL_DIR:-$ROOT/models}" VHS_PRESET_DIR="$ROOT/configs/presets"
export VHS_GPU_CHECK_OUT="$OUTDIR" PYTHONUNBUFFERED=1

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
LOG="$OUTDIR/gpu-check.log"
: >"$LOG"
: >"$work/steps.tsv"
start=$SECONDS
failed=0

# ---- the machine ---------------------------------------------------------------------------

machine() {
	local smi

	echo "gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname), $(nproc) cores, kernel $(uname -r)"
	echo "bundle: $BUNDLE ($(cat "$BUNDLE/BUILD_INFO" 2>/dev/null || echo 'no BUILD_INFO'))"
	if command -v nvidia-smi >/dev/null; then
		smi="$(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,compute_cap \
			--format=csv,noheader 2>&1 | head -n 1)"
		echo "card: $smi"
		echo "driver CUDA: $(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n 1)"
	else
		echo "card: no nvidia-smi on this machine"
	fi
	command -v nvcc >/dev/null && echo "nvcc here: $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
	echo "device memory (free total bytes): $("$VHS_GPU_MEMINFO" 2>&1 | head -n 1)"
}

machine | tee -a "$LOG" "$work/machine.txt"
no_gpu=""
probe="$("$VHS_GPU_MEMINFO" 2>&1)"
case $? in
0) ;;
77) no_gpu="${probe#skip: }" ;;
*) no_gpu="the device probe failed: $probe" ;;
esac

# ---- steps ---------------------------------------------------------------------------------

# step NAME LIMIT COMMAND...: runs COMMAND under min(LIMIT, what is left of the budget)
step() {
	local name="$1" limit="$2" left rc t0 secs status reason
	shift 2

	left=$((BUDGET - (SECONDS - start)))
	((limit > left)) && limit=$left
	{ echo; echo "==== $name: $*"; } >>"$LOG"
	if [ -n "$no_gpu" ]; then
		status=skip reason="no GPU: $no_gpu" secs=0
	elif ((limit < 5)); then
		status=skip reason="the ${BUDGET} s budget is spent" secs=0
	else
		t0=$(date +%s.%N)
		timeout -k 5 "$limit" "$@" >"$work/$name.log" 2>&1 </dev/null
		rc=$?
		secs="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
		cat "$work/$name.log" >>"$LOG"
		case $rc in
		0) status=ok reason="$(grep -v '^figure:' "$work/$name.log" | tail -n 1)" ;;
		77) status=skip reason="$(sed -n 's/^skip: //p' "$work/$name.log" | tail -n 1)" ;;
		124 | 137) status=TIMEOUT reason="stopped after ${limit} s" ;;
		*) status=FAIL reason="exit $rc: $(grep -m 1 'FAIL' "$work/$name.log" || tail -n 1 "$work/$name.log")" ;;
		esac
		sed -n 's/^figure: //p' "$work/$name.log" | sed "s/^/$name\t/" >>"$work/figures.tsv"
	fi
	case $status in FAIL | TIMEOUT) failed=1 ;; esac
	echo "==== $name: $status ($secs s): $reason" >>"$LOG"
	printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$secs" "$reason" >>"$work/steps.tsv"
	printf '%-16s %-7s %6s s  %s\n' "$name" "$status" "$secs" "${reason:0:100}"
}

: >"$work/figures.tsv"
echo
B="$BUNDLE/bench/upscale_bench"
step test_cuda 90 "$BUNDLE/tests/test_cuda"
step mcdeint 90 "$BUNDLE/tests/test_cuda_mcdeint"
step test_ipc_pool 120 "$BUNDLE/tests/test_ipc_pool"
step test_pipeline 150 tests/gpu/test_pipeline.sh
step ceilings 60 "$B" --copy-ceiling --gemm-ceiling --model esrgan-slim --frames 300
step speed-medium 45 "$B" --model esrgan-medium --frames 200
step speed-lanczos 30 "$B" --lanczos --frames 300
step speed-slim-fp32 30 "$B" --model esrgan-slim --precision fp32 --frames 100
step gpu-edges 90 env FRAMES=150 REPS=1 bench/gpu_edges.sh

# ---- figures and the summary ---------------------------------------------------------------

python3 - "$work" "$OUTDIR" "$((SECONDS - start))" <<'PY'
import json, sys

work, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
steps = []
for line in open(f"{work}/steps.tsv"):
    name, status, secs, reason = line.rstrip("\n").split("\t", 3)
    steps.append({"step": name, "status": status, "seconds": float(secs), "note": reason})
figures = []
for line in open(f"{work}/figures.tsv"):
    step, text = line.rstrip("\n").split("\t", 1)
    try:
        f = json.loads(text)
    except ValueError:
        f = {"name": "unparsed", "text": text}
    f["step"] = step
    figures.append(f)
machine = open(f"{work}/machine.txt").read().splitlines()
json.dump({"machine": machine, "seconds": total, "steps": steps, "figures": figures},
          open(f"{out}/figures.json", "w"), indent=1)

def fig(name):
    return next((f for f in figures if f.get("name") == name), None)

lines = ["", "step             status   seconds", "---------------- ------- --------"]
lines += [f"{s['step']:<16} {s['status']:<7} {s['seconds']:8.1f}" for s in steps]
lines += ["", "figure                                   value"]
copy, gemm = fig("copy ceiling"), fig("gemm ceiling fp16")
ceiling = 0
if copy:
    lines.append(f"{'copy ceiling (device to device)':<40} {copy['gbps']:.0f} GB/s")
if gemm:
    ceiling = max(gemm["wmma_tflops"], gemm["cublas_tflops"])
    lines.append(f"{'fp16 matrix product (WMMA / cuBLAS)':<40} {gemm['wmma_tflops']:.0f} / "
                 f"{gemm['cublas_tflops']:.0f} TFLOP/s")
targets = {"esrgan-slim x2 cuda fp16": 400, "esrgan-medium x2 cuda fp16": 120}
for f in figures:
    n = f.get("name", "")
    if n.startswith("upscale "):
        what = n[len("upscale "):]
        line = f"{what + ' ' + f['in'] + '->' + f['out']:<40} {f['fps']:.1f} fps"
        if f.get("tflops"):
            line += f", {f['tflops']:.1f} TFLOP/s"
            if ceiling:
                line += f" ({100 * f['tflops'] / ceiling:.1f}% of the ceiling)"
        if what in targets:
            t = targets[what]
            line += f"; target {t}: {'met' if f['fps'] >= t else 'MISSED by %.0f%%' % (100 * (1 - f['fps'] / t))}"
        lines.append(line)
    elif n.startswith("mcdeint "):
        line = f"{'deinterlace ' + n[len('mcdeint '):]:<40} {f['fps']:.1f} fps, {f['gpu_ms_per_frame']:.3f} ms GPU a frame"
        if n == "mcdeint medium 720x480":
            line += f"; target 300: {'met' if f['fps'] >= 300 else 'MISSED by %.0f%%' % (100 * (1 - f['fps'] / 300))}"
        lines.append(line)
    elif n.startswith("gpu edge "):
        lines.append(f"{n:<40} {f['fps']:.1f} fps, host bytes/frame upscale "
                     f"{f['host_bytes_per_frame_upscale']}, encode {f['host_bytes_per_frame_encode']}")
    elif n == "ipc-pool hand-offs":
        lines.append(f"{'CUDA IPC hand-offs':<40} {f['per_s']:.0f}/s, latency p50 "
                     f"{f['latency_p50_us']:.1f} us, p99 {f['latency_p99_us']:.1f} us")
    elif n == "cuda ipc":
        lines.append(f"{'CUDA IPC in this sandbox':<40} {'works' if f['works'] else 'REFUSED: host-memory fallback taken'}")
    elif n == "profile upscale gpu time":
        ms = f.get("gpu_ms_per_frame")
        lines.append(f"{'profile: upscale GPU time a frame':<40} "
                     + (f"{ms:.3f} ms ({f['frames']} frames)" if ms is not None else "none"))
bad = [s["step"] for s in steps if s["status"] in ("FAIL", "TIMEOUT")]
skipped = [s for s in steps if s["status"] == "skip"]
lines.append("")
if bad:
    lines.append(f"gpu-check: FAILED: {', '.join(bad)} ({total} s); see gpu-check.log")
elif len(skipped) == len(steps):
    lines.append(f"gpu-check: every step skipped, nothing ran on a GPU: {skipped[0]['note']}")
else:
    lines.append(f"gpu-check: {len(steps) - len(skipped)} steps passed, {len(skipped)} skipped ({total} s)")
text = "\n".join(lines) + "\n"
open(f"{out}/summary.txt", "w").write(text)
print(text, end="")
PY
exit $failed
