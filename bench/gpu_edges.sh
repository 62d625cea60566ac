#!/usr/bin/env bash
# gpu_edges.sh: the upscale -> encode edge on a GPU machine, frames kept on the device (CUDA
# IPC) versus brought down into host shared memory (make bench-gpu-edges; issue 6).
#
# Two jobs on one synthetic 720x480 clip (tests/media/make_y4m.py; the GPU machines have no
# ffmpeg), each run with [run] gpu_edges = "auto" and "off", alternately, REPS times:
#   lanczos      CUDA Lanczos to 1440x1080: the upscaler costs little, so the edge shows
#   esrgan-slim  the network x2 (1440x960): the realistic job
# Prints, per job and mode, the median wall time, frames per second, and the host bytes
# copied per frame by the upscale and encode stages (--stats: memcpy into slots, and the
# GPU edge's one download into page-locked memory), then the pool's hand-off latency from
# tests/gpu/test_ipc_pool (p50/p99), as lines to paste into bench/RESULTS.md.
# Needs a GPU and the pipeline in VHS_BIN_DIR (default build/bin). FRAMES, REPS override.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VHS_BIN_DIR:-$ROOT/build/bin}"
FRAMES="${FRAMES:-300}"
REPS="${REPS:-3}"
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

MEMINFO="${VHS_GPU_MEMINFO:-$ROOT/build/tests/gpu/gpu_meminfo}"
if ! "$MEMINFO" >/dev/null; then
	echo "gpu_edges: no GPU here ($("$MEMINFO" || true)); nothing measured"
	exit 0
fi
cd "$work"
python3 "$ROOT/tests/media/make_y4m.py" 720 480 "$FRAMES" 25 in.y4m

# job MODEL EDGES: writes MODEL-EDGES.toml
job() {
	local size=""

	[ "$1" = lanczos ] && size=$'width = 1440\nheight = 1080'
	cat >"$1-$2.toml" <<EOF
input = "in.y4m"
output = "$1-$2.y4m"

[upscale]
backend = "cuda"
model = "$1"
$size

[encode]
pix_fmt = "yuv420p"

[run]
gpu_edges = "$2"
EOF
}

# stat LOG STAGE FIELD: a number from a --stats line
stat() { sed -n "s/^stats: $2 .* $3=\([0-9.]*\).*/\1/p" "$1" | head -n 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "date: $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1), $(nproc) cores; frames: $FRAMES; reps: $REPS"
for model in lanczos esrgan-slim; do
	for edges in auto off; do
		job "$model" "$edges"
		: >"$model-$edges.times"
	done
	for ((i = 0; i < REPS; i++)); do
		for edges in auto off; do
			t0=$(date +%s.%N)
			"$BIN/vhs-orchestrate" run --force --progress=none --stats "$model-$edges.toml" 2>"$model-$edges.log"
			t1=$(date +%s.%N)
			awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$model-$edges.times"
		done
	done
	cmp -s "$model-auto.y4m" "$model-off.y4m" || { echo "gpu_edges: $model outputs differ"; exit 1; }
	for edges in auto off; do
		log="$model-$edges.log"
		wall="$(median <"$model-$edges.times")"
		up="$(stat "$log" upscale bytes_copied)"
		enc="$(stat "$log" encode bytes_copied)"
		printf '%-12s gpu_edges=%-4s wall %6.2f s  %7.1f fps  host bytes/frame: upscale %s, encode %s  (gpu_edges in run: %s)\n' \
			"$model" "$edges" "$wall" "$(awk -v f="$FRAMES" -v w="$wall" 'BEGIN { print f / w }')" \
			"$((${up%.*} / FRAMES))" "$((${enc%.*} / FRAMES))" \
			"$(sed -n 's/^stats: run .*gpu_edges=\([0-9]*\).*/\1/p' "$log")"
		printf 'figure: {"name": "gpu edge %s %s", "frames": %d, "wall_s": %s, "fps": %s, "host_bytes_per_frame_upscale": %d, "host_bytes_per_frame_encode": %d}\n' \
			"$model" "$edges" "$FRAMES" "$wall" "$(awk -v f="$FRAMES" -v w="$wall" 'BEGIN { print f / w }')" \
			"$((${up%.*} / FRAMES))" "$((${enc%.*} / FRAMES))"
	done
done
pool="$(dirname -- "$MEMINFO")/test_ipc_pool"
if [ -x "$pool" ]; then
	"$pool" | grep '^bench:' || true
fi
