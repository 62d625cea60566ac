# vhs-orchestrate: build, deps, test, bench, demo.
#
#   make            build everything into build/ (FFmpeg, libzmq, liburing via pkg-config)
#   make deps       install missing Debian packages (apt-get update first; nothing reinstalled)
#   make test       deps + build + unit tests (Criterion) + integration tests (real binaries)
#   make demo       deps + build + make a sample tape + restore it with configs/demo.toml
#   make bench      the reference benchmark against one ffmpeg command (bench/RESULTS.md)
#   make bench-crash, make bench-tempfile   issue 3: segments, crash recovery, temp writer
#   make bench-workers  issue 4: worker pools, auto workers, memory
#   make FFMPEG=0   build only what needs no FFmpeg (orchestrator, proto, shm, their tests)

FFMPEG ?= 1
CC ?= cc
BUILD := build
BIN := $(BUILD)/bin

PKGS_CORE := libzmq liburing
PKGS_FFMPEG := libavformat libavcodec libavfilter libswscale libswresample libavutil

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -pthread $(WARN) -MMD -MP \
	  -Iproto -Ishm -Iorchestrator -Istages \
	  -DVHS_DATADIR='"$(CURDIR)/configs"'
CORE_CFLAGS := $(shell pkg-config --cflags $(PKGS_CORE) 2>/dev/null)
CORE_LIBS := $(shell pkg-config --libs $(PKGS_CORE) 2>/dev/null) -lm
ifeq ($(FFMPEG),1)
AV_CFLAGS := $(shell pkg-config --cflags $(PKGS_FFMPEG) 2>/dev/null)
AV_LIBS := $(shell pkg-config --libs $(PKGS_FFMPEG) 2>/dev/null)
endif
CFLAGS += $(CORE_CFLAGS) $(AV_CFLAGS)

# The core library: wire format, shared memory, job file; no FFmpeg.
CORE_SRC := $(wildcard proto/*.c shm/*.c) \
	    $(filter-out orchestrator/main.c,$(wildcard orchestrator/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CORE_LIB := $(BUILD)/libvhs-core.a

# Stage runtime and the helpers stages share (libavfilter graphs, frame <-> slot).
RUNTIME_SRC := stages/runtime.c
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/obj/%.o)
STAGE_LIB_SRC := stages/avslot.c stages/lavfi.c stages/filter.c stages/spool.c stages/segfile.c stages/encoder.c
STAGE_LIB_OBJ := $(STAGE_LIB_SRC:%.c=$(BUILD)/obj/%.o)

STAGES := decode preprocess upscale audio encode mux
ifeq ($(FFMPEG),1)
STAGE_BINS := $(STAGES:%=$(BIN)/vhs-stage-%)
endif

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit integration demo bench clean
all: $(BIN)/vhs-orchestrate $(STAGE_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN)/vhs-orchestrate: $(BUILD)/obj/orchestrator/main.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LIBS)

$(BIN)/vhs-stage-%: $(BUILD)/obj/stages/%.o $(RUNTIME_OBJ) $(STAGE_LIB_OBJ) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(AV_LIBS) $(CORE_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(RUNTIME_OBJ) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -lcriterion $(CORE_LIBS)

deps:
	@tools/install-deps.sh

unit: $(UNIT_BINS)
	@tools/run-unit-tests.sh $(UNIT_BINS)

integration: all
	@tests/integration/run.sh

test: deps
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
