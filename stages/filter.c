/* filter.c: the common body of the filter stages (see filter.h). */
#include "filter.h"

#include <stdio.h>
#include <stdlib.h>
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
	s->chain = strdup(chain);
	if (!s->out || !s->chain)
		return -ENOMEM;
	s->seg.start = VHS_SEG_OPEN_START;
	s->seg.end = VHS_SEG_OPEN_END;
	s->seg.tb_num = s->seg.tb_den = 1;
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

/* A segment bound in the time base tb (open bounds stay open). */
static int64_t s_bound(int64_t t, const struct vhs_segment *seg, AVRational tb)
{
	if (t == VHS_SEG_OPEN_START || t == VHS_SEG_OPEN_END)
		return t;
	return av_rescale_q(t, (AVRational){ seg->tb_num, seg->tb_den }, tb);
}

/* The part of an audio frame inside the segment: samples [*from, *from + *count). */
static void s_audio_part(const struct vhs_segment *seg, const AVFrame *f, int *from, int *count)
{
	AVRational sr = { 1, f->sample_rate };
	int64_t pts, lo, hi;

	*from = 0;
	*count = f->nb_samples;
	if (f->pts == AV_NOPTS_VALUE)
		return;
	pts = av_rescale_q(f->pts, f->time_base, sr);
	lo = s_bound(seg->start, seg, sr);
	hi = s_bound(seg->end, seg, sr);
	lo = lo < pts ? pts : lo;
	hi = hi > pts + f->nb_samples ? pts + f->nb_samples : hi;
	*from = (int)(lo - pts);
	*count = hi > lo ? (int)(hi - lo) : 0;
}

static int s_video_inside(const struct vhs_segment *seg, const AVFrame *f)
{
	if (f->pts == AV_NOPTS_VALUE)
		return 1;
	return (seg->start == VHS_SEG_OPEN_START || f->pts >= s_bound(seg->start, seg, f->time_base)) &&
	       (seg->end == VHS_SEG_OPEN_END || f->pts < s_bound(seg->end, seg, f->time_base));
}

/* One graph output frame to the output edge, if it belongs to the segment. */
static int s_send(struct vhs_ctx *ctx, struct vhs_filter_stage *s, AVFrame *f)
{
	int ret, from, count;

	if (s->fmt.media == VHS_MEDIA_AUDIO) {
		s_audio_part(&s->seg, f, &from, &count);
		return count ? vhs_put_audio(ctx, 0, f, from, count, s->fmt.slot_size) : 0;
	}
	if (!s_video_inside(&s->seg, f))
		return 0; /* warm-up or look-ahead: it only fed the filters */
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

/* Flushes the graph to its end and starts a fresh one with the same chain. */
static int s_flush_and_renew(struct vhs_ctx *ctx, struct vhs_filter_stage *s)
{
	char err[512];
	int ret = vhs_lavfi_push(&s->graph, NULL);

	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "flushing filters failed: %s", vhs_av_err(ret));
	ret = s_drain(ctx, s, 1);
	if (ret)
		return ret;
	vhs_lavfi_close(&s->graph);
	ret = vhs_lavfi_open(&s->graph, vhs_input_format(ctx, 0), s->chain, err, sizeof(err));
	return ret < 0 ? vhs_fail(ctx, VHS_ERR_CONFIG, "%s", err) : 0;
}

int vhs_filter_stage_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	struct vhs_segment out = *seg;
	int ret = 0;

	if (seg->phase == VHS_SEG_BEGIN)
		s->seg = *seg;
	else
		ret = s_flush_and_renew(ctx, s);
	out.port = 0;
	return ret ? ret : vhs_send_segment(ctx, &out);
}

int vhs_filter_stage_eos(struct vhs_ctx *ctx, int port)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	int ret = vhs_lavfi_push(&s->graph, NULL);

	(void)port;
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "flushing filters failed: %s", vhs_av_err(ret));
	return s_drain(ctx, s, 1);
}

void vhs_filter_stage_uninit(struct vhs_ctx *ctx)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);

	vhs_lavfi_close(&s->graph);
	av_frame_free(&s->out);
	free(s->chain);
}
