/* ports.c: the stage's settings and ports (ctx.h): input formats and slots, output formats,
 * credits (granted empty slots), GPU edges (exported and imported device pools, the one
 * download into page-locked mirrors), sending filled slots, releasing input slots. */
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

#include "devpool.h"
#include "kv.h"

void *vhs_priv(struct vhs_ctx *ctx)
{
	return ctx->priv;
}

int vhs_setting(struct vhs_ctx *ctx, enum vhs_setting_id id, char *buf, size_t len)
{
	const struct vhs_setting_decl *d = vhs_setting_decl(id);
	int ret = vhs_kv_get(ctx->settings ? ctx->settings : "", d->name, buf, len);

	if (ret == -ENOENT && d->absent)
		ret = snprintf(buf, len, "%s", d->absent);
	return ret;
}

long long vhs_setting_int(struct vhs_ctx *ctx, enum vhs_setting_id id)
{
	char buf[32], *end;
	long long v;

	if (vhs_setting(ctx, id, buf, sizeof(buf)) < 0)
		return 0;
	v = strtoll(buf, &end, 10);
	return end == buf || *end ? 0 : v;
}

double vhs_setting_double(struct vhs_ctx *ctx, enum vhs_setting_id id)
{
	char buf[64], *end;
	double v;

	if (vhs_setting(ctx, id, buf, sizeof(buf)) < 0)
		return 0;
	v = strtod(buf, &end);
	return end == buf || *end ? 0 : v;
}

int rt_apply_options(struct vhs_ctx *ctx)
{
	for (int i = 0; i < ctx->stage->n_options; i++) {
		const struct vhs_stage_option *o = &ctx->stage->options[i];
		char *field = (char *)ctx->priv + o->offset;

		if (o->type == VHS_OPT_INT)
			*(int *)field = (int)vhs_setting_int(ctx, o->id);
		else if (o->type == VHS_OPT_DOUBLE)
			*(double *)field = vhs_setting_double(ctx, o->id);
		else if (vhs_setting(ctx, o->id, field, o->size) == -ENOSPC)
			return vhs_fail(ctx, VHS_ERR_CONFIG, "%s is longer than this stage takes (%zu bytes)",
					vhs_setting_name(o->id), o->size - 1);
	}
	return 0;
}

int rt_check_settings(struct vhs_ctx *ctx)
{
	for (int id = 0; id < VHS_SETTINGS_COUNT; id++) {
		const struct vhs_setting_decl *d = vhs_setting_decl((enum vhs_setting_id)id);
		char one[2];

		if (d->kind == VHS_SETTING_JOB &&
		    vhs_kv_get(ctx->settings ? ctx->settings : "", d->name, one, sizeof(one)) == -ENOENT)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "CONFIG lacks the job key %s (are the "
					"orchestrator and the stages from one build?)", d->name);
	}
	return 0;
}

int vhs_input_count(struct vhs_ctx *ctx)
{
	return ctx->n_in;
}

const struct vhs_stream_fmt *vhs_input_format(struct vhs_ctx *ctx, int port)
{
	return port >= 0 && port < ctx->n_in ? &ctx->in[port].fmt : NULL;
}

void vhs_set_outputs(struct vhs_ctx *ctx, int n, const struct vhs_stream_fmt *fmts)
{
	ctx->n_out = n < VHS_MAX_PORTS ? n : VHS_MAX_PORTS;
	for (int i = 0; i < ctx->n_out; i++)
		ctx->out[i].fmt = fmts[i];
}

int vhs_output_slot(struct vhs_ctx *ctx, int port, uint32_t *slot, uint8_t **data)
{
	struct port_out *o = &ctx->out[port];
	uint64_t t0 = rt_now();
	int ret = 0;

	while (!o->n_credits && !ctx->stop) {
		ret = rt_pump(ctx, 100);
		if (ret < 0)
			break;
		rt_waited(&ctx->stats.wait_out_ns, &t0); /* counted before STATS: busy never runs back */
		rt_maybe_stats(ctx);
	}
	while (ret >= 0 && !ctx->stop && rt_pump(ctx, 0) > 0)
		; /* apply any STOP already queued */
	rt_waited(&ctx->stats.wait_out_ns, &t0);
	if (ret < 0)
		return ret;
	if (ctx->stop)
		return -ECANCELED;
	*slot = o->credits[--o->n_credits];
	*data = o->pool ? NULL : vhs_ring_slot(&o->ring, *slot);
	return 0;
}

struct vhs_devpool *vhs_output_pool(struct vhs_ctx *ctx, int port)
{
	return port >= 0 && port < ctx->n_out ? ctx->out[port].pool : NULL;
}

int vhs_output_device(struct vhs_ctx *ctx, int port, uint32_t slot, struct vhs_devbuf *b)
{
	struct vhs_devpool *pool = vhs_output_pool(ctx, port);
	int ret;

	if (!pool)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "output %d is not a GPU edge", port);
	ret = vhs_devpool_buffer(pool, slot, b);
	return ret ? vhs_fail(ctx, VHS_ERR_INTERNAL, "GPU edge %s: %s", ctx->out[port].ring.name,
			      vhs_devpool_error(pool)) : 0;
}

/* Bytes a record may use of a slot: the slot, or on a GPU edge the device buffer. */
size_t rt_slot_capacity(const struct vhs_ring *r, const struct vhs_stream_fmt *f)
{
	return f->memory == VHS_MEMORY_CUDA ? f->slot_size : r->slot_size;
}

int vhs_send_video(struct vhs_ctx *ctx, struct vhs_frame *f)
{
	struct vhs_msg m = { .type = VHS_MSG_FRAME };
	int ret;

	if (f->port >= ctx->n_out || f->bytes > rt_slot_capacity(&ctx->out[f->port].ring, &ctx->out[f->port].fmt))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "frame of %u bytes overflows slot of %zu",
				f->bytes, f->port < ctx->n_out ? rt_slot_capacity(&ctx->out[f->port].ring,
										 &ctx->out[f->port].fmt) : 0);
	f->index = ctx->out[f->port].sent;
	ret = rt_count_record(ctx, f->port, f->segment);
	m.u.frame = *f;
	return ret ? ret : rt_send(ctx, &m);
}

int vhs_send_audio(struct vhs_ctx *ctx, struct vhs_audio *a)
{
	struct vhs_msg m = { .type = VHS_MSG_AUDIO };
	int ret;

	if (a->port >= ctx->n_out || a->bytes > ctx->out[a->port].ring.slot_size)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "audio of %u bytes overflows slot of %zu",
				a->bytes, a->port < ctx->n_out ? ctx->out[a->port].ring.slot_size : 0);
	a->index = ctx->out[a->port].sent;
	ret = rt_count_record(ctx, a->port, a->segment);
	m.u.audio = *a;
	return ret ? ret : rt_send(ctx, &m);
}

void vhs_release(struct vhs_ctx *ctx, int port, uint32_t slot)
{
	struct vhs_msg m = { .type = VHS_MSG_RELEASE };

	m.u.grant.port = (uint8_t)port;
	m.u.grant.slot = slot;
	rt_send(ctx, &m);
}

uint8_t *vhs_input_slot(struct vhs_ctx *ctx, int port, uint32_t slot)
{
	struct port_in *in = &ctx->in[port];

	if (in->on_device)
		return NULL;
	return in->pool ? in->mirror[slot] : vhs_ring_slot(&in->ring, slot);
}

void vhs_input_on_device(struct vhs_ctx *ctx, int port)
{
	if (port >= 0 && port < ctx->n_in && ctx->in[port].fmt.memory == VHS_MEMORY_CUDA)
		ctx->in[port].on_device = 1;
}

struct vhs_devpool *vhs_input_pool(struct vhs_ctx *ctx, int port)
{
	return port >= 0 && port < ctx->n_in && ctx->in[port].on_device ? ctx->in[port].pool : NULL;
}

int vhs_input_memory(struct vhs_ctx *ctx, int port, void **base, size_t *bytes)
{
	if (port < 0 || port >= ctx->n_in || !ctx->in[port].ring.base || ctx->in[port].pool)
		return -EINVAL;
	*base = ctx->in[port].ring.base;
	*bytes = ctx->in[port].ring.map_size;
	return 0;
}

/* GPU edge input: the frame into its slot's page-locked mirror, the edge's one copy. */
int rt_download(struct vhs_ctx *ctx, int port, const struct vhs_frame *f)
{
	struct port_in *in = &ctx->in[port];
	int ret;

	if (!in->mirror[f->slot] && !(in->mirror[f->slot] = vhs_devpool_host_alloc(in->fmt.slot_size)))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "out of page-locked memory for GPU edge %s",
				in->ring.name);
	ret = vhs_devpool_download(in->pool, f->slot, in->mirror[f->slot], f->bytes);
	if (ret)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "GPU edge %s: %s", in->ring.name,
				vhs_devpool_error(in->pool));
	vhs_count_copy(ctx, f->bytes);
	return 0;
}

/* A ring and its format must agree on being a GPU edge; if it is one, join its pool. */
static int s_join_gpu_edge(struct vhs_ctx *ctx, struct vhs_ring *r, const struct vhs_stream_fmt *f,
			   int exporter, struct vhs_devpool **pool)
{
	char err[256];
	int device = f->memory == VHS_MEMORY_CUDA;

	if (device != !!(r->flags & VHS_RING_DEVICE))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "ring %s and its format disagree on device memory",
				r->name);
	if (device && vhs_devpool_open(pool, r, exporter, f->slot_size, err, sizeof(err)))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot join GPU edge %s: %s", r->name, err);
	return 0;
}

int rt_attach(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	int ret;

	if (m->u.attach.n_inputs != ctx->n_in || m->u.attach.n_outputs != ctx->n_out)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "ATTACH port counts do not match");
	ctx->segments = m->u.attach.segments;
	for (int i = 0; i < ctx->n_in; i++) {
		struct port_in *in = &ctx->in[i];

		ret = vhs_ring_open(&in->ring, m->u.attach.inputs[i]);
		if (ret)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot map ring %s: %s",
					m->u.attach.inputs[i], strerror(-ret));
		ret = s_join_gpu_edge(ctx, &in->ring, &in->fmt, 0, &in->pool);
		if (!ret && in->pool && !(in->mirror = calloc(in->ring.slot_count, sizeof(*in->mirror))))
			ret = -ENOMEM;
		if (ret)
			return ret;
	}
	for (int i = 0; i < ctx->n_out; i++) {
		struct port_out *o = &ctx->out[i];

		ret = vhs_ring_open(&o->ring, m->u.attach.outputs[i]);
		if (ret)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot map ring %s: %s",
					m->u.attach.outputs[i], strerror(-ret));
		if (o->ring.slot_size < (o->fmt.memory == VHS_MEMORY_CUDA ? VHS_DEVSLOT_SIZE : o->fmt.slot_size))
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "ring %s slots too small",
					o->ring.name);
		ret = s_join_gpu_edge(ctx, &o->ring, &o->fmt, 1, &o->pool);
		if (ret)
			return ret;
		o->credits = calloc(o->ring.slot_count, sizeof(*o->credits));
		if (!o->credits)
			return -ENOMEM;
	}
	return 0;
}

/* An exporter that has buffers out waits, before freeing them, for DETACHED on each GPU
 * output port: the orchestrator sends it once every importer of the edge has exited. A
 * lost orchestrator kills the stage anyway (PR_SET_PDEATHSIG); the timeout is a last
 * resort against a bug, and says so. */
void rt_detach_wait(struct vhs_ctx *ctx)
{
	uint64_t deadline = rt_now() + DETACH_TIMEOUT_NS;
	int waiting = 1;

	while (waiting) {
		waiting = 0;
		for (int i = 0; i < ctx->n_out; i++)
			waiting |= vhs_devpool_bytes(ctx->out[i].pool) && !ctx->out[i].detached;
		if (!waiting || !ctx->sock)
			return;
		if (rt_now() > deadline) {
			vhs_warn(ctx, "no DETACHED after %llu s; freeing the GPU edge's buffers",
				 DETACH_TIMEOUT_NS / 1000000000ull);
			return;
		}
		if (rt_pump(ctx, 250) < 0)
			return;
	}
}
