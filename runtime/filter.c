/* filter.c: the common body of the filter stages (see filter.h). */
#include "filter.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avslot.h"
#include "chain.h"

#include <libavutil/pixdesc.h>

/* The output edge's format: what the chain gives out, with the input's colour description,
 * field order and length (the graph passes them through) and the slot size it needs. */
static int s_output_format(struct vhs_ctx *ctx, struct vhs_filter_stage *s,
			   const struct vhs_chain *probe)
{
	vhs_chain_output(probe, &s->fmt);
	if (s->fmt.media == VHS_MEDIA_VIDEO) {
		s->fmt.slot_size = vhs_video_slot_size(av_get_pix_fmt(s->fmt.fmt), s->fmt.width,
						       s->fmt.height);
	} else {
		s->fmt.slot_size = vhs_audio_slot_size(av_get_sample_fmt(s->fmt.fmt), s->fmt.channels,
						       VHS_AUDIO_SLOT_SAMPLES);
	}
	if (!s->fmt.slot_size)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "filter output format %s is not supported",
				s->fmt.fmt);
	return 0;
}

/* Each of the schedule's chains, built once to see it gives out what the stage's own does. */
static int s_check_schedule(struct vhs_ctx *ctx, struct vhs_filter_stage *s)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0), *a = &s->fmt;
	struct vhs_stream_fmt b;
	struct vhs_chain *probe;
	char err[512];

	for (size_t i = 0; i < s->schedule.n; i++) {
		const struct vhs_stretch *st = &s->schedule.s[i];
		int ret = vhs_chain_open(&probe, in, st->chain, s->threads, err, sizeof(err));

		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_CONFIG, "the chain for %.3f..%.3f s: %s", st->from, st->to, err);
		vhs_chain_output(probe, &b);
		vhs_chain_close(&probe);
		if (strcmp(a->fmt, b.fmt) || a->width != b.width || a->height != b.height ||
		    a->tb_num != b.tb_num || a->tb_den != b.tb_den || a->fr_num != b.fr_num ||
		    a->fr_den != b.fr_den)
			return vhs_fail(ctx, VHS_ERR_CONFIG, "the chain for %.3f..%.3f s gives %dx%d %s at %d/%d fps "
					"(time base %d/%d), the default chain %dx%d %s at %d/%d fps (%d/%d): the "
					"stretches of a tape must join", st->from, st->to, b.width, b.height, b.fmt,
					b.fr_num, b.fr_den, b.tb_num, b.tb_den, a->width, a->height, a->fmt,
					a->fr_num, a->fr_den, a->tb_num, a->tb_den);
	}
	return 0;
}

int vhs_filter_stage_init(struct vhs_ctx *ctx, const char *chain)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	long long threads = vhs_setting_int(ctx, VHS_SET_WORKER_THREADS);
	struct vhs_chain *probe;
	char err[512];
	int ret;

	vhs_av_log_setup();
	if (!in)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "no input edge");
	if (threads < 0 || threads > INT_MAX)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "worker.threads = %lld is not a thread count", threads);
	s->threads = (int)threads;
	s->out = av_frame_alloc();
	s->chain = strdup(chain);
	if (!s->out || !s->chain)
		return -ENOMEM;
	/* Built once now, so a bad chain fails before any frame flows, and closed again:
	 * every segment gets a fresh graph of its own at its BEGIN. */
	ret = vhs_chain_open(&probe, in, chain, s->threads, err, sizeof(err));
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "%s", err);
	ret = s_output_format(ctx, s, probe);
	vhs_chain_close(&probe);
	if (!ret)
		ret = s_check_schedule(ctx, s);
	if (ret)
		return ret;
	vhs_set_outputs(ctx, 1, &s->fmt);
	return 0;
}

/* ---- segment bounds ---- */

/* A segment bound in the time base tb (open bounds stay open). */
static int64_t s_bound(int64_t t, const struct vhs_segment *seg, AVRational tb)
{
	return vhs_segment_bound(seg, t, tb.num, tb.den);
}

/* The part of an audio frame inside the segment and inside the input the segment's graph
 * was given (in_end: its end, in output samples): samples [*from, *from + *count). */
static void s_audio_part(const struct vhs_segment *seg, int64_t in_end, const AVFrame *f,
			 int *from, int *count)
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
	hi = in_end != AV_NOPTS_VALUE && in_end < hi ? in_end : hi;
	lo = lo < pts ? pts : lo;
	hi = hi > pts + f->nb_samples ? pts + f->nb_samples : hi;
	*from = (int)(lo - pts);
	*count = hi > lo ? (int)(hi - lo) : 0;
}

static int s_video_inside(const struct vhs_segment *seg, const AVFrame *f)
{
	return vhs_segment_contains(seg, f->pts, f->time_base.num, f->time_base.den);
}

/* ---- the open segments ---- */

/* The open segment with this index, or NULL. */
static struct vhs_filter_segment *s_find(struct vhs_filter_stage *s, uint32_t index)
{
	for (size_t i = 0; i < s->n_open; i++)
		if (s->open[i].begin.index == index)
			return &s->open[i];
	return NULL;
}

/* Seconds of a window bound t in the time base num/den (the open bounds: infinities). */
static double s_seconds(int64_t t, int num, int den)
{
	if (t == VHS_SEG_OPEN_START)
		return -INFINITY;
	if (t == VHS_SEG_OPEN_END)
		return INFINITY;
	return (double)t * num / den;
}

/* The chain of the segment: its stretch's, or the stage's own. */
static const char *s_segment_chain(const struct vhs_filter_stage *s, const struct vhs_segment *seg)
{
	return vhs_schedule_pick(&s->schedule, s_seconds(seg->start, seg->tb_num, seg->tb_den),
				 s_seconds(seg->end, seg->tb_num, seg->tb_den), s->chain);
}

/* BEGIN: a fresh graph for the segment. */
static int s_segment_open(struct vhs_ctx *ctx, struct vhs_filter_stage *s,
			  const struct vhs_segment *begin)
{
	struct vhs_filter_segment *fs;
	char err[512];
	int ret;

	if (s_find(s, begin->index))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u begun twice", begin->index);
	fs = vhs_grow(s->open, s->n_open, &s->cap_open, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	s->open = fs;
	fs = &s->open[s->n_open];
	fs->begin = *begin;
	fs->post = NULL;
	fs->in_end = fs->out_end = AV_NOPTS_VALUE;
	ret = vhs_chain_open(&fs->graph, vhs_input_format(ctx, 0), s_segment_chain(s, begin), s->threads,
			     err, sizeof(err));
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "%s", err);
	if (s->post && (ret = s->post->open(ctx, &fs->post))) {
		vhs_chain_close(&fs->graph);
		return ret;
	}
	s->n_open++;
	return 0;
}

/* Closes the segment's graph (frames it still holds give their slots back) and forgets it. */
static void s_segment_close(struct vhs_filter_stage *s, struct vhs_filter_segment *fs)
{
	vhs_chain_close(&fs->graph);
	if (s->post)
		s->post->close(&fs->post);
	*fs = s->open[--s->n_open];
}

/* ---- frames through a segment's graph ---- */

/* One graph output frame to the output edge, if it belongs to the segment. */
static int s_send(struct vhs_ctx *ctx, struct vhs_filter_stage *s, struct vhs_filter_segment *fs,
		  AVFrame *f)
{
	const struct vhs_segment *seg = &fs->begin;
	int ret, from, count;

	if (s->fmt.media == VHS_MEDIA_AUDIO) {
		s_audio_part(&fs->begin, fs->in_end, f, &from, &count);
		if (count && f->pts != AV_NOPTS_VALUE)
			fs->out_end = av_rescale_q(f->pts, f->time_base, (AVRational){ 1, f->sample_rate }) +
				      from + count;
		return count ? vhs_put_audio(ctx, 0, fs->begin.index, f, from, count, s->fmt.slot_size) : 0;
	}
	if (!s_video_inside(seg, f))
		return 0; /* warm-up or look-ahead: it only fed the filters */
	ret = vhs_put_video(ctx, 0, seg->index, f, s->fmt.slot_size);
	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "frame %dx%d %s does not fit the %dx%d %s edge",
				f->width, f->height, av_get_pix_fmt_name(f->format), s->fmt.width,
				s->fmt.height, s->fmt.fmt);
	return ret;
}

/* One frame out of the segment's graph, through the post processor if there is one. */
static int s_pull(struct vhs_filter_stage *s, struct vhs_filter_segment *fs, int flushing)
{
	int ret;

	if (!s->post)
		return vhs_chain_pull(fs->graph, s->out);
	while ((ret = s->post->pull(fs->post, s->out, flushing)) == AVERROR(EAGAIN)) {
		ret = vhs_chain_pull(fs->graph, s->out);
		if (ret == AVERROR_EOF)
			ret = s->post->push(fs->post, NULL);
		else if (ret >= 0)
			ret = s->post->push(fs->post, s->out);
		if (ret < 0)
			return ret;
	}
	return ret;
}

/* Takes every frame the segment's graph has ready and sends it on. */
static int s_drain(struct vhs_ctx *ctx, struct vhs_filter_stage *s, struct vhs_filter_segment *fs,
		   int flushing)
{
	AVRational tb = { s->fmt.tb_num, s->fmt.tb_den };
	int ret;

	while ((ret = s_pull(s, fs, flushing)) >= 0) {
		s->out->time_base = tb;
		ret = s_send(ctx, s, fs, s->out);
		av_frame_unref(s->out);
		if (ret)
			return ret;
	}
	if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
		return 0;
	return vhs_fail(ctx, VHS_ERR_INTERNAL, "filtering segment %u failed: %s", fs->begin.index,
			vhs_av_err(ret));
}

/* A wrapped input frame (given away here) into the graph of segment index. */
static int s_push(struct vhs_ctx *ctx, uint32_t index, AVFrame *f)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	struct vhs_filter_segment *fs = s_find(s, index);
	int ret;

	if (!f)
		return -ENOMEM;
	if (!fs) {
		av_frame_free(&f); /* gives the slot back */
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "record of segment %u outside its BEGIN and END",
				index);
	}
	if (f->nb_samples && f->pts != AV_NOPTS_VALUE) /* audio: where the input ends */
		fs->in_end = av_rescale_q(f->pts, f->time_base, (AVRational){ 1, s->fmt.sample_rate }) +
			     av_rescale(f->nb_samples, s->fmt.sample_rate, f->sample_rate);
	ret = vhs_chain_push(fs->graph, f);
	av_frame_free(&f);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "filtering segment %u failed: %s", index,
				vhs_av_err(ret));
	return s_drain(ctx, s, fs, 0);
}

int vhs_filter_stage_video(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data)
{
	return s_push(ctx, f->segment, vhs_wrap_video(ctx, f, data));
}

int vhs_filter_stage_audio(struct vhs_ctx *ctx, const struct vhs_audio *a, uint8_t *data)
{
	return s_push(ctx, a->segment, vhs_wrap_audio(ctx, a, data));
}

/* Silence after what the graph gave out, up to where its input (or the segment) ends: a
 * filter that drops the last samples of its input when flushed (adeclick: up to a few tens)
 * would otherwise shorten the tape by that much at its end. */
static int s_audio_pad(struct vhs_ctx *ctx, struct vhs_filter_stage *s, struct vhs_filter_segment *fs)
{
	AVRational sr = { 1, s->fmt.sample_rate };
	int64_t end = s_bound(fs->begin.end, &fs->begin, sr), missing;
	AVFrame *f;
	int ret;

	end = fs->in_end != AV_NOPTS_VALUE && fs->in_end < end ? fs->in_end : end;
	if (fs->out_end == AV_NOPTS_VALUE || end == VHS_SEG_OPEN_END || fs->out_end >= end)
		return 0;
	missing = end - fs->out_end;
	f = av_frame_alloc();
	if (!f)
		return -ENOMEM;
	f->format = av_get_sample_fmt(s->fmt.fmt);
	f->sample_rate = s->fmt.sample_rate;
	f->nb_samples = (int)(missing < VHS_AUDIO_SLOT_SAMPLES ? missing : VHS_AUDIO_SLOT_SAMPLES);
	if (s->fmt.channel_layout)
		ret = av_channel_layout_from_mask(&f->ch_layout, s->fmt.channel_layout);
	else
		av_channel_layout_default(&f->ch_layout, s->fmt.channels), ret = 0;
	if (ret >= 0)
		ret = av_frame_get_buffer(f, 0);
	for (int64_t at = fs->out_end; ret >= 0 && at < end; at += f->nb_samples) {
		int n = (int)(end - at < f->nb_samples ? end - at : f->nb_samples);

		av_samples_set_silence(f->extended_data, 0, n, s->fmt.channels, f->format);
		f->pts = at;
		f->time_base = sr;
		ret = vhs_put_audio(ctx, 0, fs->begin.index, f, 0, n, s->fmt.slot_size);
	}
	av_frame_free(&f);
	return ret < 0 ? ret : 0;
}

/* END: flushes the segment's graph to its end, sends what is inside, closes the graph. */
static int s_segment_finish(struct vhs_ctx *ctx, struct vhs_filter_stage *s, uint32_t index)
{
	struct vhs_filter_segment *fs = s_find(s, index);
	int ret;

	if (!fs)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "END of segment %u without its BEGIN", index);
	ret = vhs_chain_push(fs->graph, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "flushing the filters of segment %u failed: %s",
				index, vhs_av_err(ret));
	ret = s_drain(ctx, s, fs, 1);
	if (!ret && s->fmt.media == VHS_MEDIA_AUDIO)
		ret = s_audio_pad(ctx, s, fs);
	if (!ret)
		s_segment_close(s, fs);
	return ret;
}

int vhs_filter_stage_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);
	struct vhs_segment out = *seg;
	int ret;

	if (seg->phase == VHS_SEG_BEGIN)
		ret = s_segment_open(ctx, s, seg);
	else
		ret = s_segment_finish(ctx, s, seg->index);
	out.port = 0;
	return ret ? ret : vhs_send_segment(ctx, &out);
}

int vhs_filter_stage_eos(struct vhs_ctx *ctx, int port)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);

	if (s->n_open)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "input ended inside segment %u",
				s->open[0].begin.index);
	(void)port;
	return 0;
}

void vhs_filter_stage_uninit(struct vhs_ctx *ctx)
{
	struct vhs_filter_stage *s = vhs_priv(ctx);

	while (s->n_open)
		s_segment_close(s, &s->open[0]);
	free(s->open);
	av_frame_free(&s->out);
	free(s->chain);
	vhs_schedule_free(&s->schedule);
}
