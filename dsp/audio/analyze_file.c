/* analyze_file.c: runs the whole-track analysis (analysis.h) on a capture file: demux only
 * the audio stream, decode it, convert to float planar, feed the analyzer, and write the
 * result into the work dir through the temp writer (`vhs-stage-decode --analyze-audio`). */
#include "analysis.h"
#include "analyze_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>


struct run {
	struct vhs_analysis_input in;  /* the capture, only its audio read */
	SwrContext *swr;
	AVFrame *flt;
	struct vhs_audio_analyzer *an;
};

static int s_open(struct run *r, const char *input, char *msg, size_t len)
{
	int ret = vhs_analysis_open(&r->in, input, AVMEDIA_TYPE_AUDIO, msg, len);

	if (ret)
		return ret;
	r->flt = av_frame_alloc();
	return r->flt ? 0 : VHS_ANALYZE_INTERNAL;
}

/* A decoded frame as float planar into the analyzer (the converter made at the first). */
static int s_feed(struct run *r, AVFrame *f)
{
	int ret, nb = f->ch_layout.nb_channels;

	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) { /* swr takes the default order */
		av_channel_layout_uninit(&f->ch_layout);
		av_channel_layout_default(&f->ch_layout, nb);
	}
	if (!r->swr) {
		ret = swr_alloc_set_opts2(&r->swr, &f->ch_layout, AV_SAMPLE_FMT_FLTP, f->sample_rate,
					  &f->ch_layout, f->format, f->sample_rate, 0, NULL);
		if (ret < 0 || (ret = swr_init(r->swr)) < 0)
			return ret;
		ret = vhs_audio_analyzer_open(&r->an, f->sample_rate, f->ch_layout.nb_channels);
		if (ret)
			return AVERROR(-ret);
	}
	av_frame_unref(r->flt);
	r->flt->format = AV_SAMPLE_FMT_FLTP;
	r->flt->sample_rate = f->sample_rate;
	ret = av_channel_layout_copy(&r->flt->ch_layout, &f->ch_layout);
	if (ret >= 0)
		ret = swr_convert_frame(r->swr, r->flt, f);
	if (ret < 0)
		return ret;
	ret = vhs_audio_analyzer_push(r->an, (const float *const *)r->flt->extended_data,
				      r->flt->nb_samples);
	return ret ? AVERROR(-ret) : 0;
}

/* Decodes what the decoder has ready (or, after NULL was sent, everything left). */
static int s_receive(struct run *r)
{
	int ret;

	while ((ret = avcodec_receive_frame(r->in.dec, r->in.frame)) >= 0) {
		if (r->an && (r->in.frame->sample_rate != vhs_audio_analyzer_rate(r->an) ||
			      r->in.frame->ch_layout.nb_channels != vhs_audio_analyzer_channels(r->an))) {
			av_frame_unref(r->in.frame);
			return AVERROR_PATCHWELCOME; /* the decode stage refuses these too */
		}
		ret = s_feed(r, r->in.frame);
		av_frame_unref(r->in.frame);
		if (ret < 0)
			return ret;
	}
	return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : ret;
}

static int s_decode_all(struct run *r)
{
	int ret;

	while ((ret = av_read_frame(r->in.fmt, r->in.pkt)) >= 0) {
		if (r->in.pkt->stream_index == r->in.st->index) {
			ret = avcodec_send_packet(r->in.dec, r->in.pkt);
			/* a damaged packet is skipped, as the decode stage's decoder does */
			ret = ret == AVERROR_INVALIDDATA ? 0 : ret;
			if (ret >= 0)
				ret = s_receive(r);
		}
		av_packet_unref(r->in.pkt);
		if (ret < 0)
			return ret;
	}
	if (ret != AVERROR_EOF)
		return ret;
	ret = avcodec_send_packet(r->in.dec, NULL);
	return ret < 0 ? ret : s_receive(r);
}

static int s_put(const void *res, FILE *f)
{
	return vhs_audio_analysis_write(res, f);
}

int vhs_audio_analyze_file(const char *input, const char *path, char *msg, size_t len)
{
	struct run r = { 0 };
	struct vhs_audio_analysis res = { 0 };
	int ret = s_open(&r, input, msg, len);

	if (!ret) {
		ret = s_decode_all(&r);
		if (ret < 0 && ret != AVERROR_PATCHWELCOME)
			ret = vhs_analysis_fail(msg, len, VHS_ANALYZE_INPUT, "'%s': decoding the audio failed: %s",
						input, ret);
		else if (ret < 0)
			ret = vhs_analysis_fail(msg, len, VHS_ANALYZE_INPUT,
				    "'%s': the audio format changes mid-stream; this is not supported%s", input, 0);
	}
	if (!ret && !r.an)
		ret = VHS_ANALYZE_NONE;
	if (ret == VHS_ANALYZE_NONE) {
		snprintf(msg, len, "none: the capture has no decodable audio");
		ret = 0;
		goto out;
	}
	if (!ret)
		ret = vhs_audio_analyzer_finish(r.an, &res) ? VHS_ANALYZE_INTERNAL : 0;
	if (!ret)
		ret = vhs_analysis_save(path, s_put, &res, msg, len);
	if (!ret)
		vhs_audio_analysis_describe(&res, msg, len);
out:
	vhs_audio_analysis_free(&res);
	vhs_audio_analyzer_close(&r.an);
	swr_free(&r.swr);
	av_frame_free(&r.flt);
	vhs_analysis_close(&r.in);
	return ret;
}
