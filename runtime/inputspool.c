/* inputspool.c: profile.spool (ctx.h): every record the stage is given on its inputs is also
 * written, with its slot's bytes, to DIR/spool.INSTANCE through the temp writer, in the
 * format of proto/recording.h; orchestrator/replay.c plays it back into the stage alone. */
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

#include "recording.h"

/* Appends one entry to the recording (proto/recording.h): its head, then data_len bytes. */
static int s_spool_entry(struct vhs_ctx *ctx, const struct vhs_msg *m, const void *data, uint32_t data_len)
{
	uint8_t small[VHS_MSG_MAX + 8];
	uint8_t *buf = small;
	size_t cap = vhs_recording_head_size(m);
	int n, ret;

	if (cap > sizeof(small) && !(buf = malloc(cap)))
		return -ENOMEM;
	n = vhs_recording_pack(m, data_len, buf, cap);
	ret = n < 0 ? n : vhs_tempfile_write(ctx->spool, buf, (size_t)n);
	if (!ret && data_len)
		ret = vhs_tempfile_write(ctx->spool, data, data_len);
	if (buf != small)
		free(buf);
	return ret ? vhs_fail(ctx, VHS_ERR_OUTPUT, "profile spool: %s", strerror(-ret)) : 0;
}

/* profile.spool: opens DIR/spool.INSTANCE and writes what the stage was configured with. */
int rt_spool_open(struct vhs_ctx *ctx, uint16_t instance)
{
	char dir[4096], name[32];
	struct vhs_msg m = { .type = VHS_MSG_CONFIG };
	int ret;

	if (vhs_setting(ctx, VHS_SET_PROFILE_SPOOL, dir, sizeof(dir)) < 0)
		return 0;
	vhs_recording_name(name, sizeof(name), instance);
	ret = vhs_tempfile_open(&ctx->spool, dir, name);
	if (ret)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "profile spool in '%s': %s", dir, strerror(-ret));
	m.u.config.n_inputs = (uint8_t)ctx->n_in;
	for (int i = 0; i < ctx->n_in; i++)
		m.u.config.inputs[i] = ctx->in[i].fmt;
	m.u.config.settings = ctx->settings;
	m.u.config.settings_len = (uint32_t)strlen(ctx->settings);
	ret = s_spool_entry(ctx, &m, NULL, 0);
	m = (struct vhs_msg){ .type = VHS_MSG_ATTACH };
	m.u.attach.segments = (uint16_t)ctx->segments;
	return ret ? ret : s_spool_entry(ctx, &m, NULL, 0);
}

/* An input record into the spool, with its slot's bytes. */
int rt_spool_input(struct vhs_ctx *ctx, const struct vhs_msg *m, int port)
{
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;
	uint32_t bytes = m->type == VHS_MSG_FRAME ? m->u.frame.bytes : m->type == VHS_MSG_AUDIO ? m->u.audio.bytes : 0;

	if (!ctx->spool)
		return 0;
	if (bytes && ctx->in[port].on_device)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "profile spool: input %d is read on the GPU; record it "
				"with run.gpu_edges = \"off\"", port);
	return s_spool_entry(ctx, m, bytes ? vhs_input_slot(ctx, port, slot) : NULL, bytes);
}
