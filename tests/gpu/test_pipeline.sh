#!/usr/bin/env bash
# test_pipeline.sh: the whole pipeline on a GPU, frames kept on the device between the
# upscale and encode processes (CUDA IPC, shm/devpool.h), against the same run through host
# shared memory; then crashes of the exporting stage.
#
#   tests/gpu/test_pipeline.sh          (run by make test-gpu through tests/gpu/run.sh)
#
# Checks, on a y4m clip made by tests/media/make_y4m.py (the GPU machines have no ffmpeg):
#   1. [run] gpu_edges = "auto": the run reports gpu_edges=1 (or, where the sandbox refuses
#      CUDA IPC, 0 with the fallback's warning, said as a note); "off": gpu_edges=0; the two
#      output files are identical, byte for byte, and equal vhs-upscale's frames.
#   2. The upscale stage killed (SIGKILL) again and again mid-run: at least ten restarts,
#      each one dropping the pool it exported, and the output is still identical; the
#      device's free memory (cudaMemGetInfo) afterwards is what it was before, within 8 MiB.
#   3. A profile of the job: the upscale stage reports GPU time (CUDA events), above 0 and at
#      most the wall time; no other stage reports any.
# Uses the pipeline in VHS_BIN_DIR (default build/bin; an FFMPEG=0 build there reads and
# writes y4m) and models/esrgan-slim. Exits 77 with "skip: REASON" without a GPU.
set -uo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${VHS_BIN_DIR:-$ROOT/build/bin}"
MEMINFO="${VHS_GPU_MEMINFO:-$ROOT/build/tests/gpu/gpu_meminfo}"
export VHS_PRESET_DIR="${VHS_PRESET_DIR:-$ROOT/configs/presets}" VHS_MODEL_DIR="${VHS_MODEL_DIR:-$ROOT/models}"
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ -x "$MEMINFO" ] || skip "no $MEMINFO (make test-gpu builds it)"
info="$("$MEMINFO")"
rc=$?
[ "$rc" = 77 ] && skip "${info#skip: }"
[ "$rc" = 0 ] || fail "gpu_meminfo: $info"
for b in vhs-orchestrate vhs-stage-decode vhs-stage-preprocess vhs-stage-upscale vhs-stage-encode \
	vhs-stage-mux vhs-upscale; do
	[ -x "$BIN/$b" ] || skip "no $BIN/$b: build the pipeline first (make, or make FFMPEG=0)"
done
[ -d "${VHS_MODEL_DIR:-$ROOT/models}/esrgan-slim/x2" ] ||
	skip "no models/esrgan-slim (make models, or carry it)"
command -v python3 >/dev/null || skip "no python3 to make the test clip"

cd "$work" || exit 1
python3 "$ROOT/tests/media/make_y4m.py" 176 144 300 25 in.y4m || fail "cannot make the clip"

# job NAME [KEY=VALUE...]: a job file writing NAME.y4m; extra lines go under [run]
job() {
	local name="$1"
	shift
	cat >"$name.toml" <<EOF
input = "in.y4m"
output = "$name.y4m"

[upscale]
backend = "cuda"
model = "esrgan-slim"
scale = 2

[encode]
pix_fmt = "yuv420p"

[run]
segment_seconds = 0.5
$(printf '%s\n' "$@")
EOF
}

# run NAME: runs NAME.toml, keeps its stderr in NAME.log, prints the stats' run line
run() {
	"$BIN/vhs-orchestrate" run --force --progress=none --stats "$1.toml" 2>"$1.log" ||
		{ cat "$1.log"; fail "$1: vhs-orchestrate exited $?"; }
	grep '^stats: run ' "$1.log"
}

stat_of() { sed -n "s/^stats: run .*$2=\([0-9]*\).*/\1/p" "$1.log"; }

job ipc 'gpu_edges = "auto"'
job host 'gpu_edges = "off"'
run ipc
run host
# CUDA IPC may be refused by the machine's sandbox (gVisor): then the fallback to host
# memory must have been taken, with its warning, and the rest is checked on host edges.
if [ "$(stat_of ipc gpu_edges)" = 1 ]; then
	echo 'figure: {"name": "cuda ipc", "works": true}'
elif grep -q 'frames come down to host memory' ipc.log; then
	echo "note: CUDA IPC does not work here; the fallback was taken: $(grep -m 1 'frames come down' ipc.log)"
	echo 'figure: {"name": "cuda ipc", "works": false}'
else
	fail "gpu_edges = auto made no GPU edge, and no warning says why"
fi
[ "$(stat_of host gpu_edges)" = 0 ] || fail "gpu_edges = off made a GPU edge"
cmp -s ipc.y4m host.y4m || fail "the GPU-edge output differs from the host-edge output"
"$BIN/vhs-upscale" --backend cuda --model esrgan-slim --scale 2 --pix-fmt yuv420p in.y4m tool.y4m ||
	fail "vhs-upscale failed"
# the pipeline's y4m and the tool's may differ in their stream header only
cmp -s <(tail -n +2 tool.y4m) <(tail -n +2 ipc.y4m) ||
	fail "the pipeline's frames differ from vhs-upscale's"
echo "ok: GPU edge and host edge give identical files, equal to vhs-upscale"

# 3. The profile's GPU time: the upscaler's frames timed with CUDA events on the device
"$BIN/vhs-orchestrate" profile --progress=none --out prof ipc.toml >prof.out 2>prof.log
rc=$?
[ "$rc" -eq 0 ] || { cat prof.log; fail "profile: vhs-orchestrate exited $rc"; }
python3 - prof/profile.json <<'PY' || fail "the profile's GPU time is wrong"
import json, sys
p = json.load(open(sys.argv[1]))
up = [s for s in p["stages"] if s["name"] == "upscale"]
assert up, "no upscale stage in the profile"
g = up[0]["gpu_s"]
assert g is not None and 0 < g <= p["wall_s"], f"upscale gpu_s {g}, wall {p['wall_s']} s"
others = [s["name"] for s in p["stages"] if s["name"] != "upscale" and s["gpu_s"] is not None]
assert not others, f"GPU time reported by {others}"
print(f"ok: the profile's upscale GPU time {g:.3f} s of {p['wall_s']:.3f} s wall")
n = up[0]["frames"]
print("figure: " + json.dumps({"name": "profile upscale gpu time", "frames": n, "gpu_s": g,
      "gpu_ms_per_frame": 1e3 * g / n if n else None, "wall_s": p["wall_s"]}))
PY
[ -z "${VHS_GPU_CHECK_OUT:-}" ] || cp prof/profile.txt "$VHS_GPU_CHECK_OUT/profile.txt"

free_before="$("$MEMINFO" | cut -d' ' -f1)"
job crash 'gpu_edges = "auto"' 'restart_limit = 40' 'restart_window = 3600'
VHS_TEST_CRASH=upscale:40 run crash
restarts="$(stat_of crash restarts)"
[ "${restarts:-0}" -ge 10 ] || fail "only ${restarts:-0} restarts (wanted at least 10)"
cmp -s crash.y4m ipc.y4m || fail "output after $restarts upscale crashes differs"
free_after="$("$MEMINFO" | cut -d' ' -f1)"
leak=$(((free_before - free_after) / 1048576))
[ "$leak" -le 8 ] || fail "device memory: $leak MiB less free after $restarts restarts"
echo "ok: $restarts upscale crashes, identical output, device memory free before/after" \
	"$((free_before / 1048576)) / $((free_after / 1048576)) MiB"
