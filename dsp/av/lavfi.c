/* lavfi.c: single-input, single-output libavfilter graphs (see lavfi.h). */
#include "lavfi.h"

#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>

/* The command line's default flags for scalers it inserts itself. */
#define AUTO_SWS_FLAGS "flags=bicubic"

static void s_source_args(const struct vhs_stream_fmt *in, char *args, size_t n)
{
	if (in->media == VHS_MEDIA_VIDEO) {
		int len = snprintf(args, n, "video_size=%dx%d:pix_fmt=%s:time_base=%d/%d:pixel_aspect=%d/%d",
				   in->width, in->height, in->fmt, in->tb_num, in->tb_den,
				   in->sar_num, in->sar_den ? in->sar_den : 1);
		if (in->fr_num > 0 && in->fr_den > 0 && len > 0 && (size_t)len < n)
			snprintf(args + len, n - (size_t)len, ":frame_rate=%d/%d", in->fr_num, in->fr_den);
		return;
	}
	AVChannelLayout layout = { 0 };
	char desc[128];

	if (in->channel_layout)
		av_channel_layout_from_mask(&layout, in->channel_layout);
	else
		av_channel_layout_default(&layout, in->channels);
	av_channel_layout_describe(&layout, desc, sizeof(desc));
	snprintf(args, n, "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
		 in->sample_rate, in->sample_rate, in->fmt, desc);
	av_channel_layout_uninit(&layout);
}

static int s_endpoints(struct vhs_lavfi *g, const struct vhs_stream_fmt *in)
{
	int video = in->media == VHS_MEDIA_VIDEO;
	char args[512];
	int ret;

	s_source_args(in, args, sizeof(args));
	ret = avfilter_graph_create_filter(&g->src, avfilter_get_by_name(video ? "buffer" : "abuffer"),
					   "in", args, NULL, g->graph);
	if (ret < 0)
		return ret;
	return avfilter_graph_create_filter(&g->sink,
					    avfilter_get_by_name(video ? "buffersink" : "abuffersink"),
					    "out", NULL, NULL, g->graph);
}

static int s_parse(struct vhs_lavfi *g, const char *chain, int video)
{
	AVFilterInOut *outputs = avfilter_inout_alloc();
	AVFilterInOut *inputs = avfilter_inout_alloc();
	int ret = AVERROR(ENOMEM);

	if (!outputs || !inputs)
		goto out;
	outputs->name = av_strdup("in");
	outputs->filter_ctx = g->src;
	inputs->name = av_strdup("out");
	inputs->filter_ctx = g->sink;
	if (!chain || !*chain)
		chain = video ? "null" : "anull";
	ret = avfilter_graph_parse_ptr(g->graph, chain, &inputs, &outputs, NULL);
out:
	avfilter_inout_free(&inputs);
	avfilter_inout_free(&outputs);
	return ret;
}

bool vhs_lavfi_threads_lose(const char *name)
{
	/* bench/RESULTS.md, "threads" (720x480, 2 cores): not 10% faster on every core than on
	 * one, at more CPU. nlmeans 1.19 times as slow (its integral image per patch offset is
	 * serial, so its slices wait on each other), w3fdif 1.27, yadif 1.13; bwdif and lutyuv
	 * the same speed (they run at hundreds of frames a second: never what a run waits on) */
	static const char *const lose[] = { "nlmeans", "w3fdif", "yadif", "bwdif", "lutyuv", NULL };

	for (int i = 0; lose[i]; i++)
		if (!strcmp(name, lose[i]))
			return true;
	return false;
}

int vhs_lavfi_open(struct vhs_lavfi *g, const struct vhs_stream_fmt *in, const char *chain,
		   int threads, char *err, size_t errlen)
{
	int video = in->media == VHS_MEDIA_VIDEO;
	int ret;

	memset(g, 0, sizeof(*g));
	g->end = AV_NOPTS_VALUE;
	g->graph = avfilter_graph_alloc();
	if (!g->graph) {
		snprintf(err, errlen, "cannot allocate a filter graph: out of memory");
		return AVERROR(ENOMEM);
	}
	/* Before the first filter is created: that is when the graph starts its threads. */
	g->graph->nb_threads = threads;
	if (video)
		g->graph->scale_sws_opts = av_strdup(AUTO_SWS_FLAGS);
	ret = s_endpoints(g, in);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create the %s source", video ? "video" : "audio");
		goto out_free;
	}
	ret = s_parse(g, chain, video);
	if (ret < 0) {
		snprintf(err, errlen, "invalid filter chain '%s': %s", chain, av_err2str(ret));
		goto out_free;
	}
	/* whatever the count (auto's, or a worker's share of the cores), the filters that lose
	 * by their slice threads get one (they read their count when they configure or filter,
	 * after this) */
	for (unsigned i = 0; threads != 1 && i < g->graph->nb_filters; i++) {
		AVFilterContext *f = g->graph->filters[i];

		if (!f->nb_threads && vhs_lavfi_threads_lose(f->filter->name))
			f->nb_threads = 1;
	}
	ret = avfilter_graph_config(g->graph, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "cannot configure filter chain '%s': %s", chain, av_err2str(ret));
		goto out_free;
	}
	return 0;

out_free:
	vhs_lavfi_close(g);
	return ret;
}

int vhs_lavfi_push(struct vhs_lavfi *g, AVFrame *f)
{
	const AVFilterLink *l = g->src->outputs[0];
	int64_t duration;

	if (!f) /* the end of input at the end of the last frame, not at its start */
		return av_buffersrc_close(g->src, g->end, AV_BUFFERSRC_FLAG_PUSH);
	/* a video frame lasts one frame at the edge's rate (a frame's own duration may be in
	 * the units of an earlier graph's time base: libavfilter does not rescale it) */
	if (f->nb_samples)
		duration = av_rescale_q(f->nb_samples, (AVRational){ 1, f->sample_rate }, l->time_base);
	else if (l->frame_rate.num > 0 && l->frame_rate.den > 0)
		duration = av_rescale_q(1, av_inv_q(l->frame_rate), l->time_base);
	else
		duration = f->pkt_duration > 0 ? f->pkt_duration : 0;
	g->end = f->pts != AV_NOPTS_VALUE ? f->pts + duration : AV_NOPTS_VALUE;
	return av_buffersrc_add_frame_flags(g->src, f, AV_BUFFERSRC_FLAG_PUSH);
}

int vhs_lavfi_pull(struct vhs_lavfi *g, AVFrame *out, int flushing)
{
	/* While flushing, the sink must request: filters such as bwdif and yadif emit their
	 * last field only when asked for a frame after the end of input. */
	return av_buffersink_get_frame_flags(g->sink, out, flushing ? 0 : AV_BUFFERSINK_FLAG_NO_REQUEST);
}

void vhs_lavfi_output(const struct vhs_lavfi *g, struct vhs_stream_fmt *out)
{
	AVRational tb = av_buffersink_get_time_base(g->sink);

	memset(out, 0, sizeof(*out));
	out->tb_num = tb.num;
	out->tb_den = tb.den;
	if (av_buffersink_get_type(g->sink) == AVMEDIA_TYPE_VIDEO) {
		AVRational fr = av_buffersink_get_frame_rate(g->sink);
		AVRational sar = av_buffersink_get_sample_aspect_ratio(g->sink);

		out->media = VHS_MEDIA_VIDEO;
		snprintf(out->fmt, sizeof(out->fmt), "%s", av_get_pix_fmt_name(av_buffersink_get_format(g->sink)));
		out->width = av_buffersink_get_w(g->sink);
		out->height = av_buffersink_get_h(g->sink);
		out->fr_num = fr.num;
		out->fr_den = fr.den;
		out->sar_num = sar.num;
		out->sar_den = sar.den;
		return;
	}
	AVChannelLayout layout = { 0 };

	out->media = VHS_MEDIA_AUDIO;
	snprintf(out->fmt, sizeof(out->fmt), "%s",
		 av_get_sample_fmt_name(av_buffersink_get_format(g->sink)));
	out->sample_rate = av_buffersink_get_sample_rate(g->sink);
	av_buffersink_get_ch_layout(g->sink, &layout);
	out->channels = layout.nb_channels;
	out->channel_layout = layout.order == AV_CHANNEL_ORDER_NATIVE ? layout.u.mask : 0;
	av_channel_layout_uninit(&layout);
}

void vhs_lavfi_close(struct vhs_lavfi *g)
{
	avfilter_graph_free(&g->graph);
	g->src = g->sink = NULL;
}
