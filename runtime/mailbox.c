/* mailbox.c: the stage's socket (ctx.h): records out to the orchestrator, records in; control
 * (GRANT, STOP, DRAIN, DETACHED) is applied at once wherever the stage waits, input (FRAME,
 * AUDIO, EOS, SEGMENT) goes into the FIFO the main loop drains in arrival order. */
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

uint64_t rt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int rt_send(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	uint8_t buf[VHS_MSG_MAX];
	int n = vhs_proto_pack(m, buf, sizeof(buf));

	if (n < 0)
		return n;
	while (zmq_send(ctx->sock, buf, (size_t)n, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int s_fifo_push(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	if (ctx->fifo_len == ctx->fifo_cap) {
		size_t cap = ctx->fifo_cap ? 2 * ctx->fifo_cap : 64;
		struct vhs_msg *n = malloc(cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < ctx->fifo_len; i++)
			n[i] = ctx->fifo[(ctx->fifo_head + i) % ctx->fifo_cap];
		free(ctx->fifo);
		ctx->fifo = n;
		ctx->fifo_cap = cap;
		ctx->fifo_head = 0;
	}
	ctx->fifo[(ctx->fifo_head + ctx->fifo_len) % ctx->fifo_cap] = *m;
	ctx->fifo_len++;
	return 0;
}

int rt_fifo_pop(struct vhs_ctx *ctx, struct vhs_msg *m)
{
	if (!ctx->fifo_len)
		return 0;
	*m = ctx->fifo[ctx->fifo_head];
	ctx->fifo_head = (ctx->fifo_head + 1) % ctx->fifo_cap;
	ctx->fifo_len--;
	return 1;
}

/* Receives one record within timeout_ms (-1: forever). Returns 1, 0 on timeout, -errno.
 * A CONFIG's settings are copied into ctx->settings. */
static int s_recv(struct vhs_ctx *ctx, long timeout_ms, struct vhs_msg *m)
{
	zmq_pollitem_t item = { .socket = ctx->sock, .events = ZMQ_POLLIN };
	zmq_msg_t zm;
	int ret;

	ret = zmq_poll(&item, 1, timeout_ms);
	if (ret <= 0)
		return ret < 0 && errno != EINTR ? -errno : 0;
	zmq_msg_init(&zm);
	if (zmq_msg_recv(&zm, ctx->sock, 0) < 0) {
		ret = errno == EINTR ? 0 : -errno;
		goto out;
	}
	ret = vhs_proto_unpack(m, zmq_msg_data(&zm), zmq_msg_size(&zm));
	if (ret)
		goto out;
	if (m->type == VHS_MSG_CONFIG) {
		free(ctx->settings);
		ctx->settings = strdup(m->u.config.settings);
		m->u.config.settings = ctx->settings;
		ret = ctx->settings ? 1 : -ENOMEM;
		goto out;
	}
	ret = 1;
out:
	zmq_msg_close(&zm);
	return ret;
}

/* Receives and dispatches one record: control now, input into the FIFO. */
int rt_pump(struct vhs_ctx *ctx, long timeout_ms)
{
	struct vhs_msg m;
	int ret = s_recv(ctx, timeout_ms, &m);

	if (ret <= 0)
		return ret;
	switch (m.type) {
	case VHS_MSG_GRANT: {
		struct port_out *o = m.u.grant.port < ctx->n_out ? &ctx->out[m.u.grant.port] : NULL;

		if (!o || m.u.grant.slot >= o->ring.slot_count || o->n_credits >= o->ring.slot_count)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "bad GRANT (port %u slot %u)",
					m.u.grant.port, m.u.grant.slot);
		o->credits[o->n_credits++] = m.u.grant.slot;
		return 1;
	}
	case VHS_MSG_STOP:
		ctx->stop = 1;
		return 1;
	case VHS_MSG_DRAIN:
		ctx->drain = 1;
		return 1;
	case VHS_MSG_DETACHED:
		if (m.u.detached.port < ctx->n_out)
			ctx->out[m.u.detached.port].detached = 1;
		return 1;
	case VHS_MSG_FRAME:
	case VHS_MSG_AUDIO:
	case VHS_MSG_SEGMENT:
	case VHS_MSG_EOS:
		ret = s_fifo_push(ctx, &m);
		return ret ? ret : 1;
	default:
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "unexpected %s record",
				vhs_proto_type_name(m.type));
	}
}

/* Start-up: waits for one record of the given type; STOP or timeout end the stage. */
int rt_expect(struct vhs_ctx *ctx, uint8_t type, struct vhs_msg *m)
{
	int ret = s_recv(ctx, STARTUP_TIMEOUT_MS, m);

	if (ret == 0)
		return -ETIMEDOUT;
	if (ret < 0)
		return ret;
	if (m->type == VHS_MSG_STOP) {
		ctx->stop = 1;
		return -ECANCELED;
	}
	if (m->type != type)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "expected %s, got %s",
				vhs_proto_type_name(type), vhs_proto_type_name(m->type));
	return 0;
}
