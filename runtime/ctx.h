/* ctx.h: the inside of one stage process's runtime (runtime.h is the contract stages see),
 * shared by the files that make it up. Nothing outside runtime/runtime*.c includes this.
 *
 *   runtime.c     start-up, the main loop, shutdown, errors and messages; vhs_stage_main
 *   mailbox.c     the socket: records out, records in (control applied at once, input queued)
 *   ports.c       settings, input and output ports, credits, GPU edges, sending frames
 *   segments.c    segment markers, requests, and the source's scheduler (vhs_make_segments)
 *   trace.c       STATS (the heartbeat) and the per-frame TRACE of profiles; copy counts
 *   inputspool.c  recording the stage's input for `profile --stage` (proto/recording.h)
 *   testhooks.c   VHS_TEST_CRASH and VHS_TEST_DELAY, for the tests
 */
#ifndef VHS_RUNTIME_CTX_H
#define VHS_RUNTIME_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"
#include "tempfile.h"

#define STATS_INTERVAL_NS 500000000ull
#define STARTUP_TIMEOUT_MS 60000
#define EXIT_STOPPED 3
#define DETACH_TIMEOUT_NS (30ull * 1000000000ull) /* an exporter's wait for DETACHED */

struct port_in {
	struct vhs_ring ring;
	struct vhs_stream_fmt fmt;
	int eos;                      /* EOS received */
	struct vhs_devpool *pool;     /* GPU edge: the imported buffers, else NULL */
	uint8_t **mirror;             /* GPU edge: page-locked copy of each slot, made on first use */
	int on_device;                /* GPU edge: the stage reads the device buffers itself */
};

/* A segment open on an output port: BEGIN sent, END not yet. */
struct open_segment {
	uint32_t index;
	uint64_t sent;                /* records of it sent so far */
};

struct port_out {
	struct vhs_ring ring;
	struct vhs_stream_fmt fmt;
	uint32_t *credits;            /* granted empty slots, a stack */
	uint32_t n_credits;
	uint64_t sent;                /* records sent */
	struct open_segment *open;    /* segments open on the port (a worker may hold several) */
	size_t n_open, cap_open;
	struct vhs_devpool *pool;     /* GPU edge: the exported buffers, else NULL */
	int detached;                 /* GPU edge: DETACHED received, the buffers may go */
};

struct vhs_ctx {
	const struct vhs_stage *stage;
	void *priv;
	void *zctx, *sock;
	char *settings;               /* CONFIG blob, owned */
	int n_in, n_out;
	struct port_in in[VHS_MAX_PORTS];
	struct port_out out[VHS_MAX_PORTS];
	struct vhs_msg *fifo;         /* pending input records */
	size_t fifo_head, fifo_len, fifo_cap;
	int segments;                 /* ATTACH: segments this worker may hold at once */
	uint64_t running_ns;          /* when READY went out: busy time counts from there */
	int stop;                     /* STOP received */
	int drain;                    /* DRAIN received */
	uint64_t crash_at;            /* VHS_TEST_CRASH: die at this data record, 0 = never */
	uint64_t data_records;        /* data records handled (received, or sent by a source) */
	uint64_t delay_ns;            /* VHS_TEST_DELAY: added to each frame, 0 = none */
	int trace;                    /* profile.trace: time each frame, send TRACE */
	struct vhs_trace pending;     /* samples not yet sent */
	uint64_t frame_ns;            /* source: when the previous frame was sent (or READY) */
	uint64_t frame_waited_ns;     /* source: wait_in_ns + wait_out_ns then */
	int failed;                   /* ERROR sent */
	struct vhs_stats stats;
	uint64_t last_stats_ns;
	struct vhs_tempfile *spool;   /* profile.spool: the record of the inputs, or NULL */
};

/* ---- mailbox.c ---- */

int rt_expect(struct vhs_ctx *ctx, uint8_t type, struct vhs_msg *m);
int rt_fifo_pop(struct vhs_ctx *ctx, struct vhs_msg *m);
uint64_t rt_now(void);
int rt_pump(struct vhs_ctx *ctx, long timeout_ms);
int rt_send(struct vhs_ctx *ctx, const struct vhs_msg *m);

/* ---- ports.c ---- */

int rt_attach(struct vhs_ctx *ctx, const struct vhs_msg *m);
/* Every JOB key of proto/settings.h in the CONFIG, or a failure naming the first missing. */
int rt_check_settings(struct vhs_ctx *ctx);
/* The stage's option table into its private state. */
int rt_apply_options(struct vhs_ctx *ctx);
void rt_detach_wait(struct vhs_ctx *ctx);
int rt_download(struct vhs_ctx *ctx, int port, const struct vhs_frame *f);
size_t rt_slot_capacity(const struct vhs_ring *r, const struct vhs_stream_fmt *f);

/* ---- segments.c ---- */

int rt_count_record(struct vhs_ctx *ctx, int port, uint32_t index);
int rt_segment_marker(struct vhs_ctx *ctx, const struct vhs_segment *s);

/* ---- trace.c ---- */

void rt_maybe_stats(struct vhs_ctx *ctx);
void rt_send_stats(struct vhs_ctx *ctx);
void rt_trace_frame(struct vhs_ctx *ctx, uint64_t start, uint64_t waited, uint32_t segment,
			  uint64_t index);
void rt_waited(uint64_t *counter, uint64_t *since);

/* ---- inputspool.c ---- */

int rt_spool_input(struct vhs_ctx *ctx, const struct vhs_msg *m, int port);
int rt_spool_open(struct vhs_ctx *ctx, uint16_t instance);

/* ---- testhooks.c ---- */

void rt_crash_point(struct vhs_ctx *ctx);
void rt_test_delay(const struct vhs_ctx *ctx);
void rt_test_setup(struct vhs_ctx *ctx);

#endif
