#!/usr/bin/env bash
# gpu-bundle.sh: everything a GPU machine needs to run tools/gpu-check.sh, built here (those
# machines have the CUDA toolkit and driver but no FFmpeg, libzmq, liburing or libcjson, and
# no package registry).
#
#   tools/gpu-bundle.sh [DIR]        (default build/gpu-bundle; make gpu-check runs it)
#
# Builds the FFmpeg-free pipeline with CUDA, the GPU test programs and the upscaler benchmark
# (make FFMPEG=0 CUDA=1 BUILD=build/gpu), then puts only what runs into DIR:
#   DIR/bin/            vhs-orchestrate, the y4m stages, vhs-stage-upscale, vhs-upscale
#   DIR/tests/          test_cuda, test_ipc_pool, gpu_meminfo
#   DIR/bench/          upscale_bench
#   DIR/BUILD_INFO      the commit, date and nvcc version it was built from
#   DIR/lib/            every shared library they load that is not the C library or CUDA's
#                       own (the machine runs them with LD_LIBRARY_PATH=DIR/lib)
# and prints its size. docs/operations.md, "GPU machines", says how it is used.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-build/gpu-bundle}"
BUILD_DIR=build/gpu
cd "$ROOT"
make --no-print-directory FFMPEG=0 CUDA=1 BUILD="$BUILD_DIR" all gpu-tests \
	"$BUILD_DIR/bench/upscale_bench" >/dev/null
rm -rf -- "$DIR"
mkdir -p "$DIR/bin" "$DIR/tests" "$DIR/bench" "$DIR/lib"
cp "$BUILD_DIR"/bin/* "$DIR/bin/"
for t in "$BUILD_DIR"/tests/gpu/*; do
	[ -x "$t" ] && [ -f "$t" ] && cp "$t" "$DIR/tests/"
done
cp "$BUILD_DIR/bench/upscale_bench" "$DIR/bench/"
printf 'commit %s%s, built %s with nvcc %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	"$(git diff --quiet HEAD 2>/dev/null || echo '+changes')" "$(date -u +%Y-%m-%dT%H:%MZ)" \
	"$(make --no-print-directory -s print-nvcc-version 2>/dev/null)" >"$DIR/BUILD_INFO"
for f in "$DIR"/bin/* "$DIR"/tests/* "$DIR"/bench/*; do
	ldd "$f" | awk '$3 ~ /^\// { print $3 }'
done | sort -u | while read -r lib; do
	case "$(basename "$lib")" in
	libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | libresolv.so* | ld-linux* | \
	libstdc++.so* | libgcc_s.so* | libcuda* | libcublas*) ;; # the system's own, newer there
	*) cp -L "$lib" "$DIR/lib/" ;;
	esac
done
du -sh "$DIR" | awk -v d="$DIR" '{ print "gpu-bundle: " d " (" $1 "): bin/, tests/, bench/, lib/" }'
