/* filter.c: the common body of the filter stages (see filter.h). */
#include "filter.h"

#include <stdio.h>
#include <string.h>

#include "avslot.h"

#include <libavutil/pixdesc.h>

int vhs_filter_stage_init(struct vhs_ctx *ctx, const char *chain)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	char err[512];
	int ret;

	vhs_av_log_setup();
	if (!in)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "no input edge");
	ret = vhs_lavfi_open(&s->graph, in, chain, err, sizeof(err));
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "%s", err);
	s->out = av_frame_alloc();
	if (!s->out)
		return -ENOMEM;
	vhs_lavfi_output(&s->graph, &s->fmt);
	s->fmt.duration_us = in->duration_us;
	if (s->fmt.media == VHS_MEDIA_VIDEO) {
		s->fmt.color_range = in->color_range;
		s->fmt.colorspace = in->colorspace;
		s->fmt.color_primaries = in->color_primaries;
		s->fmt.color_trc = in->color_trc;
		s->fmt.chroma_location = in->chroma_location;
		s->fmt.field_order = in->field_order;
		s->fmt.slot_size = vhs_video_slot_size(av_get_pix_fmt(s->fmt.fmt), s->fmt.width,
						       s->fmt.height);
	} else {
		s->fmt.slot_size = vhs_audio_slot_size(av_get_sample_fmt(s->fmt.fmt), s->fmt.channels,
						       VHS_AUDIO_SLOT_SAMPLES);
	}
	if (!s->fmt.slot_size)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "filter output format %s is not supported",
				s->fmt.fmt);
	vhs_set_outputs(ctx, 1, &s->fmt);
	return 0;
}

/* One graph output frame to the output edge. */
static int s_send(struct vhs_ctx *ctx, struct vhs_filter_stage *s, AVFrame *f)
{
	int ret;

	if (s->fmt.media == VHS_MEDIA_AUDIO)
		return vhs_put_audio(ctx, 0, f, s->fmt.slot_size);
	ret = vhs_put_video(ctx, 0, f, s->fmt.slot_size);
	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "frame %dx%d %s does not fit the %dx%d %s edge",
				f->width, f->height, av_get_pix_fmt_name(f->format), s->fmt.width,
				s->fmt.height, s->fmt.fmt);
	return ret;
}

/* Takes every frame the graph has ready and sends it on. */
static int s_drain(struct vhs_ctx *ctx, struct vhs_filter_stage *s, int flushing)
{
	AVRational tb = { s->fmt.tb_num, s->fmt.tb_den };
	int ret;

	while ((ret = vhs_lavfi_pull(&s->graph, s->out, flushing)) >= 0) {
		s->out->time_base = tb;
		ret = s_send(ctx, s, s->out);
		av_frame_unref(s->out);
		if (ret)
			return ret;
	}
	if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
		return 0;
	return vhs_fail(ctx, VHS_ERR_INTERNAL, "filtering failed: %s", vhs_av_err(ret));
}

static int s_push(struct vhs_ctx *ctx, AVFrame *f)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	int ret;

	if (!f)
		return -ENOMEM;
	ret = vhs_lavfi_push(&s->graph, f);
	av_frame_free(&f);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "filtering failed: %s", vhs_av_err(ret));
	return s_drain(ctx, s, 0);
}

int vhs_filter_stage_video(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data)
{
	return s_push(ctx, vhs_wrap_video(ctx, f, data));
}

int vhs_filter_stage_audio(struct vhs_ctx *ctx, const struct vhs_audio *a, uint8_t *data)
{
	return s_push(ctx, vhs_wrap_audio(ctx, a, data));
}

int vhs_filter_stage_eos(struct vhs_ctx *ctx, int port)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	int ret = vhs_lavfi_push(&s->graph, NULL);

	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "flushing filters failed: %s", vhs_av_err(ret));
	return s_drain(ctx, s, 1);
}

void vhs_filter_stage_uninit(struct vhs_ctx *ctx)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);

	vhs_lavfi_close(&s->graph);
	av_frame_free(&s->out);
}
