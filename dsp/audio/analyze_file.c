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

#include "tempfile.h"

#define NO_AUDIO (-1) /* nothing to analyse: not an error, the run has no audio track */

struct run {
	AVFormatContext *fmt;
	AVCodecContext *dec;
	SwrContext *swr;
	AVPacket *pkt;
	AVFrame *frame, *flt;
	int stream;
	struct vhs_audio_analyzer *an;
};

static int s_err(char *msg, size_t len, int code, const char *fmt, const char *a, int ret)
{
	char why[AV_ERROR_MAX_STRING_SIZE] = "";

	if (ret)
		av_strerror(ret, why, sizeof(why));
	snprintf(msg, len, fmt, a, why);
	return code;
}

static int s_open(struct run *r, const char *input, char *msg, size_t len)
{
	const AVCodec *codec = NULL;
	int ret = avformat_open_input(&r->fmt, input, NULL, NULL);

	if (ret >= 0)
		ret = avformat_find_stream_info(r->fmt, NULL);
	if (ret < 0)
		return s_err(msg, len, VHS_ANALYZE_INPUT, "cannot open '%s': %s", input, ret);
	r->stream = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (r->stream < 0)
		return NO_AUDIO;
	for (unsigned i = 0; i < r->fmt->nb_streams; i++) /* only the audio is read */
		r->fmt->streams[i]->discard = (int)i == r->stream ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
	r->dec = avcodec_alloc_context3(codec);
	if (!r->dec)
		return VHS_ANALYZE_INTERNAL;
	ret = avcodec_parameters_to_context(r->dec, r->fmt->streams[r->stream]->codecpar);
	if (ret >= 0)
		ret = avcodec_open2(r->dec, codec, NULL);
	if (ret < 0)
		return s_err(msg, len, VHS_ANALYZE_INPUT, "'%s': cannot open the audio decoder: %s", input, ret);
	r->pkt = av_packet_alloc();
	r->frame = av_frame_alloc();
	r->flt = av_frame_alloc();
	return r->pkt && r->frame && r->flt ? 0 : VHS_ANALYZE_INTERNAL;
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

	while ((ret = avcodec_receive_frame(r->dec, r->frame)) >= 0) {
		if (r->an && (r->frame->sample_rate != vhs_audio_analyzer_rate(r->an) ||
			      r->frame->ch_layout.nb_channels != vhs_audio_analyzer_channels(r->an))) {
			av_frame_unref(r->frame);
			return AVERROR_PATCHWELCOME; /* the decode stage refuses these too */
		}
		ret = s_feed(r, r->frame);
		av_frame_unref(r->frame);
		if (ret < 0)
			return ret;
	}
	return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : ret;
}

static int s_decode_all(struct run *r)
{
	int ret;

	while ((ret = av_read_frame(r->fmt, r->pkt)) >= 0) {
		if (r->pkt->stream_index == r->stream) {
			ret = avcodec_send_packet(r->dec, r->pkt);
			/* a damaged packet is skipped, as the decode stage's decoder does */
			ret = ret == AVERROR_INVALIDDATA ? 0 : ret;
			if (ret >= 0)
				ret = s_receive(r);
		}
		av_packet_unref(r->pkt);
		if (ret < 0)
			return ret;
	}
	if (ret != AVERROR_EOF)
		return ret;
	ret = avcodec_send_packet(r->dec, NULL);
	return ret < 0 ? ret : s_receive(r);
}

static int s_write(const struct vhs_audio_analysis *res, const char *path, char *msg, size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int ret;

	if (!f)
		return VHS_ANALYZE_INTERNAL;
	ret = vhs_audio_analysis_write(res, f);
	if (fclose(f) || ret) {
		free(text);
		return VHS_ANALYZE_INTERNAL;
	}
	ret = vhs_tempfile_put_path(path, text, size);
	free(text);
	if (ret) {
		snprintf(msg, len, "cannot write '%s': %s", path, strerror(-ret));
		return VHS_ANALYZE_OUTPUT;
	}
	return 0;
}

int vhs_audio_analyze_file(const char *input, const char *path, char *msg, size_t len)
{
	struct run r = { .stream = -1 };
	struct vhs_audio_analysis res = { 0 };
	int ret = s_open(&r, input, msg, len);

	if (!ret) {
		ret = s_decode_all(&r);
		if (ret < 0 && ret != AVERROR_PATCHWELCOME)
			ret = s_err(msg, len, VHS_ANALYZE_INPUT, "'%s': decoding the audio failed: %s", input, ret);
		else if (ret < 0)
			ret = s_err(msg, len, VHS_ANALYZE_INPUT,
				    "'%s': the audio format changes mid-stream; this is not supported%s", input, 0);
	}
	if (!ret && !r.an)
		ret = NO_AUDIO;
	if (ret == NO_AUDIO) {
		snprintf(msg, len, "none: the capture has no decodable audio");
		ret = 0;
		goto out;
	}
	if (!ret)
		ret = vhs_audio_analyzer_finish(r.an, &res) ? VHS_ANALYZE_INTERNAL : 0;
	if (!ret)
		ret = s_write(&res, path, msg, len);
	if (!ret)
		vhs_audio_analysis_describe(&res, msg, len);
out:
	vhs_audio_analysis_free(&res);
	vhs_audio_analyzer_close(&r.an);
	swr_free(&r.swr);
	av_frame_free(&r.frame);
	av_frame_free(&r.flt);
	av_packet_free(&r.pkt);
	avcodec_free_context(&r.dec);
	avformat_close_input(&r.fmt);
	return ret;
}
