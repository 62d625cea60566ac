# vhs-orchestrate: build, deps, test, bench, demo.
#
#   make            build everything into build/ (FFmpeg, libzmq, liburing via pkg-config)
#   make deps       install missing Debian packages (apt-get update first; nothing reinstalled)
#   make test       deps + build + unit tests (Criterion), again under the sanitizers (SAN=1),
#                   + integration tests (real binaries)
#   make SAN=1      AddressSanitizer + UndefinedBehaviorSanitizer build in build/san (CUDA off)
#   make compile_commands.json   every compile command, for editors and clang tools
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
#   make bench-compare REV=R  this tree against revision R on the reference job (CPU per stage)
#   make FFMPEG=0   build only what needs no FFmpeg: the orchestrator, the upscaler and its
#                   tool vhs-upscale, and y4m stages (stages/y4m_*.c): a whole pipeline, y4m in
#                   and out, for the GPU machines (BUILD=dir builds beside the normal tree)
#   make test-gpu   the GPU tests: CUDA against the CPU reference, the CUDA IPC pool between
#                   two processes, the pipeline with GPU edges; each says why it skips
#   make gpu-check  builds the bundle for a GPU machine and prints the command that runs every
#                   CUDA path there (tools/gpu-check.sh; issue 23)
#   make CUDA=0     no CUDA code even when nvcc is there; CUDA=1 insists on it
#                   (default: CUDA when nvcc is found at $(NVCC))

FFMPEG ?= 1
SAN ?= 0
NVCC ?= $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
# Under the sanitizers CUDA is off unless asked for (the CUDA runtime wants
# ASAN_OPTIONS=protect_shadow_gap=0, and there is nothing to check without a GPU).
ifeq ($(origin CUDA),undefined)
CUDA := $(if $(filter 1,$(SAN)),0,$(if $(NVCC),1,0))
endif
ifeq ($(CUDA),1)
ifeq ($(NVCC),)
$(error CUDA=1 but no nvcc: install the CUDA Toolkit or set NVCC=/path/to/nvcc)
endif
endif
CC ?= cc
BUILD ?= $(if $(filter 1,$(SAN)),build/san,build)
BIN := $(BUILD)/bin

PKGS_CORE := libzmq liburing
PKGS_CJSON := libcjson
PKGS_FFMPEG := libavformat libavcodec libavfilter libswscale libswresample libavutil

# CFLAGS is the user's (optimisation, debugging: `make CFLAGS=-O0`); what the project needs
# is in VHS_CFLAGS and the include paths of each layer, and survives a CFLAGS on the command line.
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
VHS_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN) -MMD -MP \
	      -DVHS_DATADIR='"$(CURDIR)/configs"' -DVHS_MODELDIR='"$(CURDIR)/models"' \
	      -DVHS_TESTMEDIA='"$(CURDIR)/tests/media"'
VHS_LDFLAGS := -pthread
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
VHS_CFLAGS += $(SAN_FLAGS)
VHS_LDFLAGS += $(SAN_FLAGS)
endif
CORE_CFLAGS := $(shell pkg-config --cflags $(PKGS_CORE) $(PKGS_CJSON) 2>/dev/null)
CORE_LIBS := $(shell pkg-config --libs $(PKGS_CORE) 2>/dev/null) -lm
CJSON_LIBS := $(shell pkg-config --libs $(PKGS_CJSON) 2>/dev/null)
ifeq ($(FFMPEG),1)
AV_CFLAGS := $(shell pkg-config --cflags $(PKGS_FFMPEG) 2>/dev/null)
AV_LIBS := $(shell pkg-config --libs $(PKGS_FFMPEG) 2>/dev/null)
else
VHS_CFLAGS += -DVHS_NO_FFMPEG
endif
VHS_CFLAGS += $(CORE_CFLAGS) $(AV_CFLAGS)

# ---- layers ----------------------------------------------------------------------------------
# Arrows point down only (HACKING.md): each folder compiles with the include paths of what it
# may use, and becomes its own archive; the stage binaries never link the orchestrator's.
#   lib/           project-agnostic helpers                      uses nothing
#   proto/         contracts between processes                   uses nothing
#   shm/           slot rings, CUDA IPC pools                    uses proto, lib
#   dsp/*/         pure algorithms: image, nn, cuda, upscale,    uses proto, lib
#                  video (analysis, repairs), audio, av (filter chains),
#                  filters (our own filters)
#   runtime/       one process's side of the protocol            uses dsp, shm, proto, lib
#   stages/        one file per stage executable                 uses runtime, dsp, shm, proto, lib
#   orchestrator/  CLI, job file, planner, supervisor, ...       uses shm, proto, lib
DSP_DIRS := dsp/image dsp/nn dsp/cuda dsp/upscale dsp/video dsp/audio dsp/av dsp/filters
INC_lib := lib
INC_proto := proto
INC_shm := shm proto lib
INC_dsp := $(DSP_DIRS) proto lib
INC_runtime := runtime $(DSP_DIRS) shm proto lib
INC_stages := stages runtime $(DSP_DIRS) shm proto lib
INC_orchestrator := orchestrator shm proto lib
INC_tools := $(DSP_DIRS) proto lib
# Tests and benchmarks reach into every layer they test.
INC_tests := orchestrator stages runtime $(DSP_DIRS) shm proto lib
INC_bench := $(INC_tests)
layer_inc = $(addprefix -I,$(INC_$(firstword $(subst /, ,$(1)))))

# FFmpeg-free parts of each layer, and the parts that need FFmpeg's libraries.
LIB_SRC := $(wildcard lib/*.c)
PROTO_SRC := $(wildcard proto/*.c)
SHM_SRC := shm/ring.c $(if $(filter 1,$(CUDA)),shm/devpool.c,shm/devpool_stub.c)
DSP_AV_SRC := $(wildcard dsp/audio/*.c dsp/av/*.c dsp/filters/*.c) dsp/video/analyze_video.c
DSP_SRC := $(filter-out $(DSP_AV_SRC),$(wildcard dsp/image/*.c dsp/nn/*.c dsp/upscale/*.c dsp/video/*.c))
# runtime/: the process's side of the protocol needs no FFmpeg; the libav helpers stages
# share (frames in slots, the filter stage, encoders, segment files, audio spools) do.
RUNTIME_AV_SRC := $(addprefix runtime/,avslot.c filter.c encoder.c segfile.c spool.c probe.c)
RUNTIME_SRC := $(filter-out $(RUNTIME_AV_SRC),$(wildcard runtime/*.c))
ORCH_SRC := $(filter-out orchestrator/main.c,$(wildcard orchestrator/*.c))
ifeq ($(FFMPEG),1)
DSP_SRC += $(DSP_AV_SRC)
RUNTIME_SRC += $(RUNTIME_AV_SRC)
endif
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst %.cu,$(BUILD)/obj/%.o,$(1)))

LIB_LIB := $(BUILD)/libvhs-lib.a
PROTO_LIB := $(BUILD)/libvhs-proto.a
SHM_LIB := $(BUILD)/libvhs-shm.a
DSP_LIB := $(BUILD)/libvhs-dsp.a
RUNTIME_LIB := $(BUILD)/libvhs-runtime.a
ORCH_LIB := $(BUILD)/libvhs-orchestrator.a

ifeq ($(CUDA),1)
CUDA_HOME := $(patsubst %/bin/nvcc,%,$(NVCC))
NVCCFLAGS ?= -O3 -lineinfo
VHS_NVCCFLAGS := -std=c++17 -gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_80,code=sm_80 \
	     -gencode=arch=compute_90,code=compute_90 -Xcompiler -Wall,-Wextra,-Werror \
	     $(call layer_inc,dsp) $(shell pkg-config --cflags $(PKGS_CJSON) 2>/dev/null)
DSP_OBJ_CUDA := $(patsubst %.cu,$(BUILD)/obj/%.o,$(wildcard dsp/cuda/*.cu))
CUDA_LIBS := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart -lstdc++
# Stage processes join GPU edges through the CUDA runtime (shm/devpool.c).
$(BUILD)/obj/shm/devpool.o: VHS_CFLAGS += -I$(CUDA_HOME)/include
# The encode stage feeds NVENC CUDA frames from a GPU edge (libavutil/hwcontext_cuda.h).
$(BUILD)/obj/stages/encode.o: VHS_CFLAGS += -DVHS_HAVE_CUDA -I$(CUDA_HOME)/include
else
DSP_OBJ_CUDA := $(BUILD)/obj/dsp/cuda/cuda_stub.o
endif

# Every stage links the same archives (the linker takes only what a stage uses).
STAGE_ARCHIVES := $(RUNTIME_LIB) $(DSP_LIB) $(SHM_LIB) $(PROTO_LIB) $(LIB_LIB)
STAGE_LIBS := $(AV_LIBS) $(CJSON_LIBS) $(CUDA_LIBS) $(CORE_LIBS)

# The stages, read off proto/stages.h (declared there once), and the mux. Stage NAME is
# stages/NAME.c; without FFmpeg it is stages/y4m_NAME.c where there is one (y4m in, the
# upscaler, y4m out), and a stage with neither (audio) is not built.
PIPELINE_STAGES := $(shell sed -n 's/^[[:space:]]*X.[A-Z_]*, *"\([a-z]*\)".*/\1/p' proto/stages.h)
ifeq ($(FFMPEG),1)
stage_src = stages/$(1).c
else
stage_src = $(firstword $(wildcard stages/y4m_$(1).c) $(if $(filter upscale,$(1)),stages/upscale.c))
endif
STAGES := $(foreach s,$(PIPELINE_STAGES) mux,$(if $(call stage_src,$(s)),$(s)))
STAGE_BINS := $(STAGES:%=$(BIN)/vhs-stage-%)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit integration demo bench clean
all: $(BIN)/vhs-orchestrate $(STAGE_BINS) $(BIN)/vhs-upscale $(BIN)/vhs-deinterlace

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(VHS_CFLAGS) $(call layer_inc,$*) $(CFLAGS) $(VHS_OPT) -c -o $@ $<

$(BUILD)/obj/dsp/cuda/%.o: dsp/cuda/%.cu $(wildcard dsp/*/*.h dsp/cuda/*.cuh)
	@mkdir -p $(dir $@)
	$(NVCC) $(VHS_NVCCFLAGS) $(NVCCFLAGS) -c -o $@ $<

# The network's inner loops want -O3 (2x at -O2: vectorised blocks stay in registers).
$(BUILD)/obj/dsp/nn/net.o: VHS_OPT := -O3
# The deinterlacer's inner loops (sums of absolute differences, taps) vectorise at -O3.
$(BUILD)/obj/dsp/video/motion.o $(BUILD)/obj/dsp/video/edi.o $(BUILD)/obj/dsp/video/mcdeint.o: VHS_OPT := -O3

# Archives are made afresh: `ar rcs` keeps members it is not given, so a cuda_stub.o left by
# a CUDA=0 build would shadow cuda.o (or the reverse).
define archive
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^
endef
$(LIB_LIB): $(call obj,$(LIB_SRC)); $(archive)
$(PROTO_LIB): $(call obj,$(PROTO_SRC)); $(archive)
$(SHM_LIB): $(call obj,$(SHM_SRC)); $(archive)
$(DSP_LIB): $(call obj,$(DSP_SRC)) $(DSP_OBJ_CUDA); $(archive)
$(RUNTIME_LIB): $(call obj,$(RUNTIME_SRC)); $(archive)
$(ORCH_LIB): $(call obj,$(ORCH_SRC)); $(archive)

link = $(CC) $(VHS_LDFLAGS) $(CFLAGS) -o $@ $^

$(BIN)/vhs-orchestrate: $(BUILD)/obj/orchestrator/main.o $(ORCH_LIB) $(SHM_LIB) $(PROTO_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) $(CUDA_LIBS) $(CJSON_LIBS) $(CORE_LIBS)

.SECONDEXPANSION:
$(STAGE_BINS): $(BIN)/vhs-stage-%: $$(call obj,$$(call stage_src,$$*)) $(STAGE_ARCHIVES)
	@mkdir -p $(dir $@)
	$(link) $(STAGE_LIBS)

# vhs-deinterlace: the motion-compensated deinterlacer alone, y4m in and out, no FFmpeg.
$(BIN)/vhs-deinterlace: $(BUILD)/obj/tools/vhs-deinterlace.o $(DSP_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) $(CJSON_LIBS) $(CUDA_LIBS) -lm

# vhs-upscale: the upscaler alone, y4m (or raw planar RGB) in and out, no FFmpeg.
$(BIN)/vhs-upscale: $(BUILD)/obj/tools/vhs-upscale.o $(DSP_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) $(CJSON_LIBS) $(CUDA_LIBS) -lm

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(ORCH_LIB) $(STAGE_ARCHIVES)
	@mkdir -p $(dir $@)
	$(link) -lcriterion $(STAGE_LIBS)

# The GPU deinterlacer's source run on the CPU (dsp/cuda/emulate.h), held to the CPU's frames:
# built with the C++ compiler whether or not CUDA is, under the sanitizers with SAN=1. Its
# object comes before the archives, so the real (or stub) CUDA symbols are not taken.
CXX ?= g++
$(BUILD)/obj/dsp/cuda/mcdeint_emulated.o: dsp/cuda/mcdeint.cu $(wildcard dsp/*/*.h)
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 -x c++ -DVHS_CUDA_EMULATE $(WARN) $(SAN_FLAGS) -MMD -MP $(call layer_inc,dsp) $(CFLAGS) -O2 \
		-c -o $@ $<
$(BUILD)/tests/test_cuda_emulated: $(BUILD)/obj/tests/unit/test_cuda_emulated.o \
		$(BUILD)/obj/dsp/cuda/mcdeint_emulated.o $(DSP_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) -lcriterion $(CJSON_LIBS) $(CUDA_LIBS) -lstdc++ -lm
$(BUILD)/obj/tests/unit/test_cuda_emulated.o: VHS_CFLAGS += -Idsp/cuda

# GPU tests: plain C programs (no Criterion on the GPU machines) that print why they skip.
GPU_TEST_SRC := $(wildcard tests/gpu/test_*.c)
GPU_TEST_BINS := $(GPU_TEST_SRC:tests/gpu/%.c=$(BUILD)/tests/gpu/%)
$(BUILD)/tests/gpu/test_cuda: $(BUILD)/obj/tests/gpu/test_cuda.o $(DSP_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) $(CJSON_LIBS) $(CUDA_LIBS) -lm
$(BUILD)/tests/gpu/test_cuda_mcdeint: $(BUILD)/obj/tests/gpu/test_cuda_mcdeint.o $(DSP_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) $(CJSON_LIBS) $(CUDA_LIBS) -lm

# The two-process test of the device pool (test_ipc_pool.c): its kernels (nvcc), and of the
# core only the ring and the pool objects, so that it builds where libzmq and liburing are
# missing (a GPU machine), as the rest of test-gpu does. Without CUDA it only says so.
IPC_POOL_CORE := $(call obj,$(SHM_SRC))
ifeq ($(CUDA),1)
$(BUILD)/obj/tests/gpu/ipc_pool_kernels.o: tests/gpu/ipc_pool_kernels.cu tests/gpu/ipc_pool_kernels.h
	@mkdir -p $(dir $@)
	$(NVCC) $(VHS_NVCCFLAGS) $(NVCCFLAGS) -c -o $@ $<

$(BUILD)/tests/gpu/test_ipc_pool: $(BUILD)/obj/tests/gpu/test_ipc_pool.o $(BUILD)/obj/tests/gpu/ipc_pool_children.o \
		$(BUILD)/obj/tests/gpu/ipc_pool_kernels.o $(IPC_POOL_CORE)
	@mkdir -p $(dir $@)
	$(link) $(CUDA_LIBS)
$(BUILD)/obj/tests/gpu/meminfo.o: VHS_CFLAGS += -DVHS_HAVE_CUDA -I$(CUDA_HOME)/include
$(BUILD)/obj/tests/gpu/test_cuda_mcdeint.o: VHS_CFLAGS += -DVHS_HAVE_CUDA -I$(CUDA_HOME)/include
else
$(BUILD)/obj/tests/gpu/test_ipc_pool.o: VHS_CFLAGS += -DIPK_NO_CUDA
$(BUILD)/tests/gpu/test_ipc_pool: $(BUILD)/obj/tests/gpu/test_ipc_pool.o
	@mkdir -p $(dir $@)
	$(link)
endif

# gpu_meminfo: the device's free memory, for the tests that check for leaks.
$(BUILD)/tests/gpu/gpu_meminfo: $(BUILD)/obj/tests/gpu/meminfo.o $(IPC_POOL_CORE)
	@mkdir -p $(dir $@)
	$(link) $(CUDA_LIBS)

# compile_commands.json for editors and clang tools: every compile command of the default
# build, the unit tests and the GPU tests, as make would run them.
.PHONY: compile_commands.json
compile_commands.json:
	@$(MAKE) --no-print-directory -Bn all $(UNIT_BINS) gpu-tests | tools/compile-commands.py >$@
	@echo "compile_commands.json: $$(grep -c '"file"' $@) files"

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

$(BUILD)/bench/upscale_bench: $(BUILD)/obj/bench/upscale_bench.o $(DSP_LIB) $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) $(CJSON_LIBS) $(CUDA_LIBS) -lm

# Issue 27: libFuzzer targets (tests/fuzz/fuzz_*.c), each built by clang with the sources it
# reads compiled in under AddressSanitizer and UndefinedBehaviorSanitizer, run for
# FUZZ_SECONDS each from its seed corpus (tests/fuzz/corpus/NAME, copied to build/fuzz/corpus:
# what the fuzzer finds stays out of the tree). A crash, leak, timeout or out-of-memory fails
# `make fuzz`; the reproducer is left in build/fuzz/NAME-crash-*.
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(addprefix -I,$(INC_tests)) $(CORE_CFLAGS)
FUZZ_SRC_toml := lib/toml.c lib/toml_scan.c lib/readfile.c
FUZZ_SRC_proto := proto/proto.c
FUZZ_SRC_schedule := proto/schedule.c
FUZZ_SRC_kv := proto/kv.c
FUZZ_SRC_manifest := orchestrator/manifest.c lib/toml.c lib/toml_scan.c lib/readfile.c lib/tempfile.c
FUZZ_LIBS_manifest := -luring
FUZZ_SRC_y4m := dsp/image/y4m.c dsp/image/pixfmt.c
FUZZ_SRC_recording := proto/recording.c proto/proto.c
FUZZ_SRC_spool := runtime/spool.c
FUZZ_LIBS_spool := -lavutil
FUZZ_SRC_model := dsp/nn/model.c
FUZZ_CFLAGS_model := -DVHS_MODELDIR='"models"'
FUZZ_LIBS_model := $(CJSON_LIBS)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) $(wildcard tests/fuzz/*.h lib/*.h proto/*.h orchestrator/*.h dsp/image/*.h dsp/nn/*.h runtime/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_CFLAGS_$*) -o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*) -lm

.PHONY: fuzz fuzz-deps
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	@tools/run-fuzz.sh $(FUZZ_SECONDS) $(BUILD)/fuzz $(FUZZ_TARGETS)
fuzz-deps: # the project's packages and clang (libFuzzer and the sanitizers' runtimes)
	@tools/install-deps.sh clang

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
	@$(MAKE) --no-print-directory test-san
	@$(MAKE) --no-print-directory integration

# The unit tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer (build/san).
.PHONY: test-san
test-san:
	@$(MAKE) --no-print-directory SAN=1 unit

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

# Issue 24: this tree against an earlier revision (REV=...) on the reference job: CPU per
# stage, wall, the outputs' bytes, and each build's profile.
.PHONY: bench-compare
bench-compare: deps
	@$(MAKE) --no-print-directory all
	@bench/compare.sh

.PHONY: bench-audio
bench-audio: deps
	@$(MAKE) --no-print-directory all
	@bench/audio.sh

.PHONY: bench-analysis
bench-analysis: deps
	@$(MAKE) --no-print-directory all
	@bench/analysis.sh

# Issue 26: the deinterlacers against the progressive truth (bench/deinterlace.sh).
.PHONY: bench-deinterlace
bench-deinterlace: deps
	@$(MAKE) --no-print-directory all
	@bench/deinterlace.sh

# Issue 26: whether each filter's own threads pay (bench/threads.sh; dsp/av/lavfi.c's rule).
.PHONY: bench-threads
bench-threads: deps
	@$(MAKE) --no-print-directory all
	@bench/threads.sh

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

$(BUILD)/bench/tempfile_bench: $(BUILD)/obj/bench/tempfile_bench.o $(LIB_LIB)
	@mkdir -p $(dir $@)
	$(link) $(CORE_LIBS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
