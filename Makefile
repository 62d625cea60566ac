# vhs-orchestrate: build, deps, test, bench, demo.
#
#   make            build everything into build/ (FFmpeg, libzmq, liburing via pkg-config)
#   make deps       install missing Debian packages (apt-get update first; nothing reinstalled)
#   make test       deps + build + unit tests (Criterion) + integration tests (real binaries)
#   make demo       deps + build + make a sample tape + restore it with configs/demo.toml
#   make bench      the reference benchmark against one ffmpeg command (bench/RESULTS.md)
#   make bench-crash, make bench-tempfile   issue 3: segments, crash recovery, temp writer
#   make bench-workers  issue 4: worker pools, auto workers, memory
#   make models     fetch the ESRGAN models from npm into models/ (git-ignored)
#   make bench-upscale  issue 5: upscaler speed (CPU here, CUDA where there is a GPU)
#   make bench-gpu-edges  issue 6: the upscale -> encode edge on the GPU against host memory
#   make bench-audio  issue 7: audio enhancement: hum, hiss, clicks, loudness, speed
#   make bench-profile  issue 8: what profiling costs (profile against run, the reference job)
#   make bench-profile-count  issue 8: the same in instructions, every process under callgrind
#   make FFMPEG=0   build only what needs no FFmpeg: the orchestrator, the upscaler and its
#                   tool vhs-upscale, and y4m stages (stages/y4m/): a whole pipeline, y4m in
#                   and out, for the GPU machines (BUILD=dir builds beside the normal tree)
#   make test-gpu   the GPU tests: CUDA against the CPU reference, the CUDA IPC pool between
#                   two processes, the pipeline with GPU edges; each says why it skips
#   make gpu-check  builds the bundle for a GPU machine and prints the command that runs every
#                   CUDA path there (tools/gpu-check.sh; issue 23)
#   make CUDA=0     no CUDA code even when nvcc is there; CUDA=1 insists on it
#                   (default: CUDA when nvcc is found at $(NVCC))

FFMPEG ?= 1
NVCC ?= $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
ifeq ($(origin CUDA),undefined)
CUDA := $(if $(NVCC),1,0)
endif
ifeq ($(CUDA),1)
ifeq ($(NVCC),)
$(error CUDA=1 but no nvcc: install the CUDA Toolkit or set NVCC=/path/to/nvcc)
endif
endif
CC ?= cc
BUILD ?= build
BIN := $(BUILD)/bin

PKGS_CORE := libzmq liburing
PKGS_UPSCALE := libcjson
PKGS_FFMPEG := libavformat libavcodec libavfilter libswscale libswresample libavutil

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -pthread $(WARN) -MMD -MP \
	  -Iproto -Ishm -Iorchestrator -Istages -Istages/upscale -Istages/audio \
	  -DVHS_DATADIR='"$(CURDIR)/configs"' -DVHS_MODELDIR='"$(CURDIR)/models"' \
	  -DVHS_TESTMEDIA='"$(CURDIR)/tests/media"'
CORE_CFLAGS := $(shell pkg-config --cflags $(PKGS_CORE) 2>/dev/null)
CORE_LIBS := $(shell pkg-config --libs $(PKGS_CORE) 2>/dev/null) -lm
ifeq ($(FFMPEG),1)
AV_CFLAGS := $(shell pkg-config --cflags $(PKGS_FFMPEG) 2>/dev/null)
AV_LIBS := $(shell pkg-config --libs $(PKGS_FFMPEG) 2>/dev/null)
endif
CFLAGS += $(CORE_CFLAGS) $(AV_CFLAGS) $(shell pkg-config --cflags $(PKGS_UPSCALE) 2>/dev/null)
UPSCALE_LIBS := $(shell pkg-config --libs $(PKGS_UPSCALE) 2>/dev/null) -lm

# The core library: wire format, shared memory, job file; no FFmpeg.
# shm/devpool.c (GPU edges over CUDA IPC) when the build has CUDA, devpool_stub.c when not.
CORE_SRC := $(wildcard proto/*.c) $(filter-out shm/devpool.c shm/devpool_stub.c,$(wildcard shm/*.c)) \
	    $(if $(filter 1,$(CUDA)),shm/devpool.c,shm/devpool_stub.c) \
	    $(filter-out orchestrator/main.c,$(wildcard orchestrator/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CORE_LIB := $(BUILD)/libvhs-core.a

# Stage runtime and the helpers stages share (libavfilter graphs, frame <-> slot).
RUNTIME_SRC := stages/runtime.c
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/obj/%.o)
STAGE_LIB_SRC := stages/avslot.c stages/lavfi.c stages/filter.c stages/spool.c stages/segfile.c stages/encoder.c
STAGE_LIB_OBJ := $(STAGE_LIB_SRC:%.c=$(BUILD)/obj/%.o)

# The upscaler (stages/upscale/): models, the CPU network, colour, resampling, y4m, and the
# CUDA backend when built with CUDA; no FFmpeg, so it builds and runs on the GPU machines.
UPSCALE_SRC := $(filter-out stages/upscale/upscale.c stages/upscale/tool.c stages/upscale/cuda_stub.c,\
		 $(wildcard stages/upscale/*.c))
UPSCALE_OBJ := $(UPSCALE_SRC:%.c=$(BUILD)/obj/%.o)
ifeq ($(CUDA),1)
CUDA_HOME := $(patsubst %/bin/nvcc,%,$(NVCC))
NVCCFLAGS ?= -O3 -lineinfo
NVCCFLAGS += -std=c++17 -gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_80,code=sm_80 \
	     -gencode=arch=compute_90,code=compute_90 -Xcompiler -Wall,-Wextra,-Werror \
	     -Istages/upscale $(shell pkg-config --cflags $(PKGS_UPSCALE) 2>/dev/null)
UPSCALE_OBJ += $(BUILD)/obj/stages/upscale/cuda.o
UPSCALE_LIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart -lstdc++
# Stage processes join GPU edges through the CUDA runtime (shm/devpool.c).
$(BUILD)/obj/shm/devpool.o: CFLAGS += -I$(CUDA_HOME)/include
# The encode stage feeds NVENC CUDA frames from a GPU edge (libavutil/hwcontext_cuda.h).
$(BUILD)/obj/stages/encode.o: CFLAGS += -DVHS_HAVE_CUDA -I$(CUDA_HOME)/include
DEVPOOL_LIBS := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart
else
UPSCALE_OBJ += $(BUILD)/obj/stages/upscale/cuda_stub.o
endif
UPSCALE_LIB := $(BUILD)/libvhs-upscale.a

# Audio enhancement (stages/audio/): the analysis of the whole track, the hiss reducer, the
# true-peak limiter, the enhancement chain; used by the decode (analysis), audio and mux
# (loudness) stages and by the unit tests. FFmpeg builds only.
AUDIO_SRC := $(filter-out stages/audio/audio.c,$(wildcard stages/audio/*.c))
AUDIO_OBJ := $(AUDIO_SRC:%.c=$(BUILD)/obj/%.o)
AUDIO_LIB := $(BUILD)/libvhs-audio.a
ifeq ($(FFMPEG),1)
UNIT_AUDIO := $(AUDIO_LIB) $(filter $(BUILD)/obj/stages/lavfi.o,$(STAGE_LIB_OBJ))
endif

STAGES := decode preprocess upscale audio encode mux
ifeq ($(FFMPEG),1)
STAGE_BINS := $(STAGES:%=$(BIN)/vhs-stage-%)
else
# Without FFmpeg the decode, preprocess, encode and mux stages are the y4m ones
# (stages/y4m/): y4m in, the upscaler, y4m out; there is no audio stage.
Y4M_STAGES := decode preprocess encode mux
STAGE_BINS := $(Y4M_STAGES:%=$(BIN)/vhs-stage-%) $(BIN)/vhs-stage-upscale
endif

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit integration demo bench clean
all: $(BIN)/vhs-orchestrate $(STAGE_BINS) $(BIN)/vhs-upscale

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/vhs-orchestrate: $(BUILD)/obj/orchestrator/main.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LIBS)

$(BUILD)/obj/stages/upscale/cuda.o: stages/upscale/cuda.cu stages/upscale/*.h
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

# The network's inner loops want -O3 (2x at -O2: vectorised blocks stay in registers).
$(BUILD)/obj/stages/upscale/net.o: CFLAGS += -O3

# Made afresh: `ar rcs` keeps members it is not given, so a cuda_stub.o left by a CUDA=0
# build would shadow cuda.o (or the reverse).
$(UPSCALE_LIB): $(UPSCALE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# The upscale stage: the FFmpeg build links the filter-stage helpers (its CPU lanczos and
# bicubic are libswscale, the oracle); FFMPEG=0 builds it with only the upscaler library.
ifeq ($(FFMPEG),1)
$(BIN)/vhs-stage-upscale: $(BUILD)/obj/stages/upscale/upscale.o $(RUNTIME_OBJ) $(STAGE_LIB_OBJ) $(UPSCALE_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(AV_LIBS) $(UPSCALE_LIBS) $(CORE_LIBS) $(DEVPOOL_LIBS)
else
$(BUILD)/obj/stages/upscale/upscale.o: CFLAGS += -DVHS_NO_FFMPEG
$(BUILD)/obj/orchestrator/main.o: CFLAGS += -DVHS_NO_FFMPEG
$(BIN)/vhs-stage-upscale: $(BUILD)/obj/stages/upscale/upscale.o $(RUNTIME_OBJ) $(UPSCALE_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(UPSCALE_LIBS) $(CORE_LIBS) $(DEVPOOL_LIBS)
endif

ifneq ($(FFMPEG),1)
$(Y4M_STAGES:%=$(BIN)/vhs-stage-%): $(BIN)/vhs-stage-%: $(BUILD)/obj/stages/y4m/%.o $(RUNTIME_OBJ) $(UPSCALE_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LIBS) $(DEVPOOL_LIBS)
endif

$(AUDIO_LIB): $(AUDIO_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/vhs-stage-audio: $(BUILD)/obj/stages/audio/audio.o $(RUNTIME_OBJ) $(STAGE_LIB_OBJ) $(AUDIO_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(AV_LIBS) $(CORE_LIBS) $(DEVPOOL_LIBS)

$(BIN)/vhs-stage-%: $(BUILD)/obj/stages/%.o $(RUNTIME_OBJ) $(STAGE_LIB_OBJ) $(AUDIO_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(AV_LIBS) $(CORE_LIBS) $(DEVPOOL_LIBS)

# vhs-upscale: the upscaler alone, y4m (or raw planar RGB) in and out, no FFmpeg.
$(BIN)/vhs-upscale: $(BUILD)/obj/stages/upscale/tool.o $(UPSCALE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(UPSCALE_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(RUNTIME_OBJ) $(UNIT_AUDIO) $(UPSCALE_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lcriterion $(UPSCALE_LIBS) $(CORE_LIBS) $(DEVPOOL_LIBS) $(AV_LIBS)

# GPU tests: plain C programs (no Criterion on the GPU machines) that print why they skip.
GPU_TEST_SRC := $(wildcard tests/gpu/test_*.c)
GPU_TEST_BINS := $(GPU_TEST_SRC:tests/gpu/%.c=$(BUILD)/tests/gpu/%)
$(BUILD)/tests/gpu/%: tests/gpu/%.c $(UPSCALE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(UPSCALE_LIBS)

# The two-process test of the device pool (test_ipc_pool.c): its kernels (nvcc), and of the
# core only the ring and the pool objects, so that it builds where libzmq and liburing are
# missing (a GPU machine), as the rest of test-gpu does. Without CUDA it only says so.
IPC_POOL_CORE := $(filter $(BUILD)/obj/shm/ring.o $(BUILD)/obj/shm/devpool%.o,$(CORE_OBJ))
ifeq ($(CUDA),1)
$(BUILD)/obj/tests/gpu/ipc_pool_kernels.o: tests/gpu/ipc_pool_kernels.cu tests/gpu/ipc_pool_kernels.h
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

$(BUILD)/tests/gpu/test_ipc_pool: tests/gpu/test_ipc_pool.c $(BUILD)/obj/tests/gpu/ipc_pool_kernels.o $(IPC_POOL_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(DEVPOOL_LIBS) -lstdc++
else
$(BUILD)/tests/gpu/test_ipc_pool: tests/gpu/test_ipc_pool.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DIPK_NO_CUDA -o $@ $<
endif

# gpu_meminfo: the device's free memory, for the tests that check for leaks.
$(BUILD)/tests/gpu/gpu_meminfo: tests/gpu/meminfo.c $(IPC_POOL_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(filter 1,$(CUDA)),-DVHS_HAVE_CUDA -I$(CUDA_HOME)/include) -o $@ $^ $(DEVPOOL_LIBS)

.PHONY: test-gpu gpu-tests gpu-check print-nvcc-version models bench-upscale bench-gpu-edges
print-nvcc-version:
	@$(NVCC) --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'

# Issue 23: the bundle for a GPU machine (tools/gpu-bundle.sh) and the one command that runs
# every CUDA path there (tools/gpu-check.sh), with the paths to carry and what they weigh.
GPU_CHECK_CARRY := build/gpu-bundle models/esrgan-slim models/esrgan-medium
gpu-check:
	@test -n "$(NVCC)" || { echo "gpu-check: needs the CUDA Toolkit (nvcc) to build the bundle" >&2; exit 1; }
	@$(MAKE) --no-print-directory models
	@tools/gpu-bundle.sh build/gpu-bundle
	@tree=$$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- | tail -n 1 | cut -f1); \
	 extra=$$(du -cb $(GPU_CHECK_CARRY) | tail -n 1 | cut -f1); \
	 echo "gpu-check: working tree $$((tree >> 20)) MiB + carried $$((extra >> 20)) MiB = $$(((tree + extra) >> 20)) MiB (limit 64 MiB)"; \
	 test $$((tree + extra)) -lt $$((64 << 20)) || { echo "gpu-check: too large to carry" >&2; exit 1; }
	@echo "gpu-check: on the GPU machine, from the repository root, carrying $(GPU_CHECK_CARRY):"
	@echo '  tools/gpu-check.sh --bundle build/gpu-bundle --out "$$OUT"'
models:
	@tools/fetch-models.sh models

# The GPU test programs, built and not run (tools/gpu-bundle.sh takes them to a GPU machine).
gpu-tests: $(GPU_TEST_BINS) $(BUILD)/tests/gpu/gpu_meminfo $(BIN)/vhs-upscale

# CUDA against the CPU reference, the CUDA IPC pool between two processes, and the whole
# pipeline with its upscale -> encode edge on the GPU (tests/gpu/test_pipeline.sh).
test-gpu: gpu-tests all
	@VHS_BIN_DIR=$(abspath $(BIN)) VHS_GPU_MEMINFO=$(abspath $(BUILD)/tests/gpu/gpu_meminfo) \
		tests/gpu/run.sh $(GPU_TEST_BINS) tests/gpu/test_pipeline.sh

# Issue 6: frames per second and host bytes per frame, GPU edge against host edge.
bench-gpu-edges: gpu-tests all
	@VHS_BIN_DIR=$(abspath $(BIN)) VHS_GPU_MEMINFO=$(abspath $(BUILD)/tests/gpu/gpu_meminfo) \
		bench/gpu_edges.sh

bench-upscale: $(BIN)/vhs-upscale $(BUILD)/bench/upscale_bench
	@bench/upscale.sh

$(BUILD)/bench/upscale_bench: bench/upscale_bench.c $(UPSCALE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(UPSCALE_LIBS)

deps:
	@tools/install-deps.sh

unit: $(UNIT_BINS)
	@tools/run-unit-tests.sh $(UNIT_BINS)

integration: all
	@tests/integration/run.sh

test: deps
	@$(MAKE) --no-print-directory models
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run.sh

# Issue 3: segmenting overhead and crash recovery (bench/crash.sh), and the temp writer's
# io_uring back end against pwrite on segment-sized files (bench/tempfile.sh).
# Issue 7: the audio enhancement's figures by ffmpeg's meters, and its speed.
.PHONY: bench-profile
bench-profile: deps
	@$(MAKE) --no-print-directory all
	@bench/profile.sh

# The build without FFmpeg is the one valgrind can run (bench/profile_count.sh says why).
.PHONY: bench-profile-count
bench-profile-count:
	@tools/install-deps.sh valgrind
	@$(MAKE) --no-print-directory models
	@bench/profile_count.sh

.PHONY: bench-audio
bench-audio: deps
	@$(MAKE) --no-print-directory all
	@bench/audio.sh

.PHONY: bench-crash bench-tempfile
bench-crash: deps
	@$(MAKE) --no-print-directory all
	@bench/crash.sh

bench-tempfile: $(BUILD)/bench/tempfile_bench
	@bench/tempfile.sh

# Issue 4: worker pools (bench/workers.sh): a preprocess-bound nlmeans job with 1 and 2
# workers, and "auto" workers against hand-picked counts on the reference job.
.PHONY: bench-workers
bench-workers: deps
	@$(MAKE) --no-print-directory all
	@bench/workers.sh

$(BUILD)/bench/tempfile_bench: bench/tempfile_bench.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LIBS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
