/* segments.c: segments on the stage's side (ctx.h): BEGIN and END markers counted per
 * output port, segment requests, and the source's scheduler that makes several segments at
 * once (vhs_make_segments). */
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

/* The open segment index on output port o, or NULL. */
static struct open_segment *s_open_segment(struct port_out *o, uint32_t index)
{
	for (size_t i = 0; i < o->n_open; i++)
		if (o->open[i].index == index)
			return &o->open[i];
	return NULL;
}

/* A source's frame (a record on its first output port) is done: the test delay, the sample
 * since the previous one. */
static void s_source_frame(struct vhs_ctx *ctx, uint32_t segment, uint64_t index)
{
	uint64_t waited = ctx->stats.wait_in_ns + ctx->stats.wait_out_ns;

	rt_test_delay(ctx);
	if (ctx->trace)
		rt_trace_frame(ctx, ctx->frame_ns, waited - ctx->frame_waited_ns, segment, index);
	ctx->frame_ns = rt_now();
	ctx->frame_waited_ns = waited;
}

/* Counts one data record of segment index on output port; fails if it is not open. */
int rt_count_record(struct vhs_ctx *ctx, int port, uint32_t index)
{
	struct open_segment *s = s_open_segment(&ctx->out[port], index);

	if (!s)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "record of segment %u on output %d outside its "
				"BEGIN and END", index, port);
	s->sent++;
	ctx->out[port].sent++;
	ctx->stats.frames_out++;
	if (!ctx->n_in && port == 0)
		s_source_frame(ctx, index, ctx->out[port].sent - 1);
	if (!ctx->n_in)
		rt_crash_point(ctx);
	return 0;
}

/* BEGIN opens the segment on its port, END closes it and says how many records it had. */
static int s_mark_segment(struct vhs_ctx *ctx, struct vhs_segment *s)
{
	struct port_out *o;
	struct open_segment *open, *grown;

	if (s->port >= ctx->n_out)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment marker for output port %u", s->port);
	o = &ctx->out[s->port];
	open = s_open_segment(o, s->index);
	if (s->phase == VHS_SEG_END) {
		if (!open)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "END of segment %u on output %u without "
					"its BEGIN", s->index, s->port);
		s->frames = open->sent;
		*open = o->open[--o->n_open];
		return 0;
	}
	if (open)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u begun twice on output %u", s->index,
				s->port);
	grown = vhs_grow(o->open, o->n_open, &o->cap_open, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	o->open = grown;
	o->open[o->n_open++] = (struct open_segment){ .index = s->index };
	return 0;
}

int vhs_send_segment(struct vhs_ctx *ctx, struct vhs_segment *s)
{
	struct vhs_msg m = { .type = VHS_MSG_SEGMENT };
	int ret = 0;

	if (s->phase == VHS_SEG_BEGIN || s->phase == VHS_SEG_END)
		ret = s_mark_segment(ctx, s);
	m.u.segment = *s;
	return ret ? ret : rt_send(ctx, &m);
}

int vhs_next_segment(struct vhs_ctx *ctx, uint32_t *index, int wait)
{
	struct vhs_msg m;
	uint64_t t0 = rt_now();
	int ret = 0;

	while (!ret && !ctx->stop && !ctx->drain) {
		if (!rt_fifo_pop(ctx, &m)) {
			ret = rt_pump(ctx, wait ? 250 : 0);
			if (ret == 0 && !wait)
				ret = -EAGAIN;
			ret = ret < 0 ? ret : 0;
			if (wait)
				rt_waited(&ctx->stats.wait_in_ns, &t0);
			rt_maybe_stats(ctx);
			continue;
		}
		if (m.type == VHS_MSG_EOS)
			break;
		if (m.type != VHS_MSG_SEGMENT || m.u.segment.phase != VHS_SEG_REQUEST)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "unexpected %s record for a source",
					vhs_proto_type_name(m.type));
		*index = m.u.segment.index;
		ret = 1;
	}
	if (wait)
		rt_waited(&ctx->stats.wait_in_ns, &t0);
	if (ret < 0)
		return ret;
	if (ctx->stop)
		return -ECANCELED;
	return ret;
}

void *vhs_grow(void *array, size_t n, size_t *cap, size_t size)
{
	size_t want;
	void *grown;

	if (n < *cap)
		return array;
	want = *cap ? 2 * *cap : 4;
	grown = realloc(array, want * size);
	if (grown)
		*cap = want;
	return grown;
}

/* Takes SEGMENT REQUESTs while a reader is idle; *more = 0 once there will be none. */
static int s_take_requests(struct vhs_ctx *ctx, int n, int *busy, int n_busy, int *more,
			   int (*begin)(struct vhs_ctx *, int, uint32_t))
{
	uint32_t k;
	int ret = 0;

	for (int i = 0; !ret && *more && i < n; i++) {
		if (busy[i])
			continue;
		ret = vhs_next_segment(ctx, &k, n_busy == 0);
		if (ret == -EAGAIN)
			return 0;
		if (ret <= 0) {
			*more = 0;
			return ret;
		}
		ret = begin(ctx, i, k);
		busy[i] = ret > 0;
		n_busy += busy[i];
		ret = ret < 0 ? ret : 0;
	}
	return ret;
}

int vhs_make_segments(struct vhs_ctx *ctx, int max, int (*begin)(struct vhs_ctx *ctx, int reader, uint32_t k),
		      int (*step)(struct vhs_ctx *ctx, int reader))
{
	int n = vhs_worker_segments(ctx) < max ? vhs_worker_segments(ctx) : max;
	int n_busy = 0, more = 1, ret = 0;
	int *busy = calloc((size_t)n, sizeof(*busy));

	if (!busy)
		return -ENOMEM;
	while (!ret && (more || n_busy)) {
		ret = s_take_requests(ctx, n, busy, n_busy, &more, begin);
		n_busy = 0;
		for (int i = 0; !ret && i < n; i++) {
			if (busy[i] && (ret = step(ctx, i)) >= 0) {
				busy[i] = ret > 0;
				ret = 0;
			}
			n_busy += busy[i];
		}
	}
	free(busy);
	return ret;
}

int vhs_worker_segments(struct vhs_ctx *ctx)
{
	return ctx->segments > 0 ? ctx->segments : 1;
}

int vhs_draining(struct vhs_ctx *ctx)
{
	return ctx->drain;
}

/* BEGIN or END on an input port: the stage's, or passed on to every output. */
int rt_segment_marker(struct vhs_ctx *ctx, const struct vhs_segment *s)
{
	int ret = 0;

	if (s->phase != VHS_SEG_BEGIN && s->phase != VHS_SEG_END)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment record of phase %u on an input", s->phase);
	if (ctx->stage->segment)
		return ctx->stage->segment(ctx, s);
	for (int i = 0; !ret && i < ctx->n_out; i++) {
		struct vhs_segment out = *s;

		out.port = (uint8_t)i;
		ret = vhs_send_segment(ctx, &out);
	}
	return ret;
}
