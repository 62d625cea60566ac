#!/usr/bin/env bash
# gpu-bundle.sh: everything a GPU machine needs to run the GPU tests and benchmarks, built
# here (those machines have the CUDA toolkit and driver but no FFmpeg, libzmq, liburing or
# libcjson, and no package registry).
#
#   tools/gpu-bundle.sh [DIR]        (default build/gpu)
#
# Builds the FFmpeg-free pipeline with CUDA (make FFMPEG=0 CUDA=1 BUILD=DIR) and the GPU
# test programs into DIR, then copies into DIR/lib every shared library they load that is
# not the C library or CUDA's own, so the machine can run them with LD_LIBRARY_PATH=DIR/lib.
# Carry DIR and models/esrgan-slim to the machine, and there:
#   export LD_LIBRARY_PATH=$PWD/DIR/lib VHS_BIN_DIR=$PWD/DIR/bin
#   tests/gpu/run.sh DIR/tests/gpu/test_* tests/gpu/test_pipeline.sh
# (docs/operations.md, "GPU machines").
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-build/gpu}"
cd "$ROOT"
make --no-print-directory FFMPEG=0 CUDA=1 BUILD="$DIR" all gpu-tests >/dev/null
mkdir -p "$DIR/lib"
for f in "$DIR"/bin/* "$DIR"/tests/gpu/*; do
	[ -x "$f" ] && [ -f "$f" ] || continue
	ldd "$f" | awk '$3 ~ /^\// { print $3 }'
done | sort -u | while read -r lib; do
	case "$(basename "$lib")" in
	libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | libresolv.so* | ld-linux* | \
	libstdc++.so* | libgcc_s.so* | libcuda* | libcudart*) ;; # the system's own, newer there
	*) cp -L "$lib" "$DIR/lib/" ;;
	esac
done
du -sh "$DIR" | awk -v d="$DIR" '{ print "gpu-bundle: " d " (" $1 "): bin/, tests/gpu/, lib/" }'
