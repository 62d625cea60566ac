/* trace.c: what the stage reports about itself (ctx.h): STATS, its heartbeat, at most every
 * 0.5 s from wherever it waits; with profile.trace the time of each frame, in TRACE records
 * of eight; copies into slots and GPU time counted. */
#include "ctx.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* Sends the pending TRACE samples, if any. */
static void s_flush_trace(struct vhs_ctx *ctx)
{
	struct vhs_msg m = { .type = VHS_MSG_TRACE };

	if (!ctx->pending.n)
		return;
	m.u.trace = ctx->pending;
	ctx->pending.n = 0;
	rt_send(ctx, &m);
}

/* Profiling: one frame's sample, from start to now, of which waited ns were not work. */
void rt_trace_frame(struct vhs_ctx *ctx, uint64_t start, uint64_t waited, uint32_t segment,
			  uint64_t index)
{
	uint64_t now = rt_now(), dur = now - start;
	struct vhs_trace_sample *t = &ctx->pending.s[ctx->pending.n++];

	dur = dur > UINT32_MAX ? UINT32_MAX : dur;
	*t = (struct vhs_trace_sample){ .start_ns = start, .dur_ns = (uint32_t)dur,
					.busy_ns = (uint32_t)(waited < dur ? dur - waited : 0),
					.segment = segment, .index = (uint32_t)index };
	if (ctx->pending.n == VHS_TRACE_SAMPLES)
		s_flush_trace(ctx);
}

void rt_send_stats(struct vhs_ctx *ctx)
{
	struct vhs_msg m = { .type = VHS_MSG_STATS };
	struct timespec cpu;
	struct rusage ru;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	getrusage(RUSAGE_SELF, &ru);
	if (ctx->running_ns) { /* busy: running and not waiting for input or for a slot */
		uint64_t up = rt_now() - ctx->running_ns, waited = ctx->stats.wait_in_ns + ctx->stats.wait_out_ns;

		ctx->stats.busy_ns = up > waited ? up - waited : 0;
	}
	ctx->stats.cpu_ns = (uint64_t)cpu.tv_sec * 1000000000ull + (uint64_t)cpu.tv_nsec;
	ctx->stats.rss_kb = (uint64_t)ru.ru_maxrss;
	m.u.stats = ctx->stats;
	s_flush_trace(ctx);
	rt_send(ctx, &m);
	ctx->last_stats_ns = rt_now();
}

/* Adds the time since *since to *counter and moves *since to now. */
void rt_waited(uint64_t *counter, uint64_t *since)
{
	uint64_t now = rt_now();

	*counter += now - *since;
	*since = now;
}

void rt_maybe_stats(struct vhs_ctx *ctx)
{
	if (rt_now() - ctx->last_stats_ns >= STATS_INTERVAL_NS)
		rt_send_stats(ctx);
}

void vhs_count_copy(struct vhs_ctx *ctx, uint64_t bytes)
{
	ctx->stats.bytes_copied += bytes;
	ctx->stats.copies++;
}

void vhs_count_gpu(struct vhs_ctx *ctx, uint64_t ns)
{
	ctx->stats.gpu_ns += ns;
}
