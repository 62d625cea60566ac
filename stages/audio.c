/* audio.c: the audio stage. Its chain is either `[audio] filters` as it is, or the tape
 * enhancement the [audio] switches ask for (enhance.h: channels, declick, hum notches as a
 * libavfilter chain, then the hiss reducer of hiss.h as the filter stage's post processor),
 * one graph per segment.
 *
 * The chain ends the way the ffmpeg command line ends an `-af` chain: in an aformat built
 * from the encoder's lists of sample formats, rates and layouts, so that the conversions
 * happen where they would there (the oracle, DESIGN.md). When the hiss reducer or the
 * loudness pass follows, the sample format is float planar instead (the reducer works in it;
 * the loudness pass wants the samples before any rounding), and the mux converts.
 *
 * Everything decided for the whole tape (mains frequency, channel layout, noise profile)
 * comes from the work dir's audio.analysis (analysis.h), the same for every segment and
 * every worker, so a segment's output is a pure function of its window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/bprint.h>

#include "analysis.h"
#include "enhance.h"
#include "filter.h"
#include "hiss.h"

#define HISS_CHUNK 4096 /* samples per frame out of the hiss reducer */

struct audio_priv {
	struct vhs_filter_stage fs;     /* first: the filter stage's state */
	struct vhs_audio_analysis an;   /* the work dir's analysis, when the switches need it */
	struct vhs_enhance enh;
	double hiss_db;                 /* > 0: the reducer runs after the graph */
	float *profile;                 /* its noise profile: a row per output channel */
	int channels;                   /* output channels */
};

/* The hiss reducer of one segment, as a post processor (filter.h). */
struct hiss_post {
	struct vhs_hiss *h;
	int channels, rate;
	AVChannelLayout layout;
	AVRational tb;                  /* of the pts in and out: the stage's output edge's */
	int64_t first_pts;              /* of the first sample pushed; AV_NOPTS_VALUE if none */
	int64_t out_samples;            /* given out so far */
	int ended;                      /* the graph has ended */
};

/* ":key=a|b|c" from an encoder's list, or nothing when the encoder has no list. */
static void s_sample_fmts(AVBPrint *bp, const AVCodec *enc)
{
	const char *sep = ":sample_fmts=";

	for (const enum AVSampleFormat *f = enc->sample_fmts; f && *f != AV_SAMPLE_FMT_NONE; f++) {
		av_bprintf(bp, "%s%s", sep, av_get_sample_fmt_name(*f));
		sep = "|";
	}
}

static void s_sample_rates(AVBPrint *bp, const AVCodec *enc)
{
	const char *sep = ":sample_rates=";

	for (const int *r = enc->supported_samplerates; r && *r; r++) {
		av_bprintf(bp, "%s%d", sep, *r);
		sep = "|";
	}
}

static void s_layouts(AVBPrint *bp, const AVCodec *enc)
{
	const char *sep = ":channel_layouts=";
	char desc[64];

	for (const AVChannelLayout *l = enc->ch_layouts; l && l->nb_channels; l++) {
		av_channel_layout_describe(l, desc, sizeof(desc));
		av_bprintf(bp, "%s%s", sep, desc);
		sep = "|";
	}
}

/* ---- the hiss reducer after the graph ---- */


static int s_hiss_open(struct vhs_ctx *ctx, void **state)
{
	struct audio_priv *p = vhs_priv(ctx);
	struct hiss_post *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return -ENOMEM;
	h->channels = p->channels;
	h->first_pts = AV_NOPTS_VALUE;
	h->tb = (AVRational){ p->fs.fmt.tb_num, p->fs.fmt.tb_den }; /* the graph's output's */
	ret = vhs_hiss_open(&h->h, p->channels, p->profile, p->hiss_db);
	if (ret) {
		free(h);
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot start the hiss reducer: %s", strerror(-ret));
	}
	*state = h;
	return 0;
}

static int s_hiss_push(void *state, AVFrame *f)
{
	struct hiss_post *h = state;
	int ret;

	if (!f) {
		h->ended = 1;
		return 0;
	}
	if (f->format != AV_SAMPLE_FMT_FLTP || f->ch_layout.nb_channels != h->channels) {
		av_frame_unref(f);
		return AVERROR_BUG;
	}
	if (h->first_pts == AV_NOPTS_VALUE) {
		h->first_pts = f->pts == AV_NOPTS_VALUE ? 0 : f->pts;
		h->rate = f->sample_rate;
		av_channel_layout_uninit(&h->layout);
		ret = av_channel_layout_copy(&h->layout, &f->ch_layout);
		if (ret < 0)
			return ret;
	}
	ret = vhs_hiss_push(h->h, (const float *const *)f->extended_data, f->nb_samples);
	av_frame_unref(f);
	return ret < 0 ? AVERROR(-ret) : 0;
}

/* Frames of the reducer's finished samples, timed on from the first sample pushed. */
static int s_hiss_pull(void *state, AVFrame *out, int flushing)
{
	struct hiss_post *h = state;
	int n, ret;

	(void)flushing; /* the reducer flushes when the graph has ended */
	if (h->first_pts == AV_NOPTS_VALUE)
		return h->ended ? AVERROR_EOF : AVERROR(EAGAIN);
	n = h->ended ? HISS_CHUNK : vhs_hiss_ready(h->h); /* no buffer for nothing: most pulls */
	if (!n)
		return AVERROR(EAGAIN);
	out->format = AV_SAMPLE_FMT_FLTP;
	out->nb_samples = n < HISS_CHUNK ? n : HISS_CHUNK;
	out->sample_rate = h->rate;
	ret = av_channel_layout_copy(&out->ch_layout, &h->layout);
	if (ret >= 0)
		ret = av_frame_get_buffer(out, 0);
	if (ret < 0)
		return ret;
	n = vhs_hiss_pull(h->h, (float *const *)out->extended_data, out->nb_samples, h->ended);
	if (n <= 0) {
		av_frame_unref(out);
		return n < 0 ? AVERROR(-n) : h->ended ? AVERROR_EOF : AVERROR(EAGAIN);
	}
	out->nb_samples = n;
	out->pts = h->first_pts + av_rescale_q(h->out_samples, (AVRational){ 1, h->rate }, h->tb);
	out->time_base = h->tb;
	h->out_samples += n;
	return 0;
}

static void s_hiss_close(void **state)
{
	struct hiss_post *h = *state;

	if (!h)
		return;
	vhs_hiss_close(&h->h);
	av_channel_layout_uninit(&h->layout);
	free(h);
	*state = NULL;
}

static const struct vhs_filter_post s_hiss_post = {
	.open = s_hiss_open,
	.push = s_hiss_push,
	.pull = s_hiss_pull,
	.close = s_hiss_close,
};

/* The reducer's profile: for each output channel the analysis row the chain leaves there
 * (after an upmix by the final aformat, the first channel's row for every channel). */
static int s_hiss_profile(struct audio_priv *p)
{
	int same = p->channels == p->enh.out_channels;

	p->profile = malloc((size_t)p->channels * VHS_HISS_BINS * sizeof(float));
	if (!p->profile)
		return -ENOMEM;
	for (int c = 0; c < p->channels; c++)
		memcpy(p->profile + (size_t)c * VHS_HISS_BINS,
		       vhs_audio_analysis_row(&p->an, p->enh.profile_rows[same ? c : 0]),
		       VHS_HISS_BINS * sizeof(float));
	return 0;
}

/* ---- the chain ---- */

/* The enhancement chain from the switches (and the analysis, when they need it). */
static int s_enhance(struct vhs_ctx *ctx, struct audio_priv *p, AVBPrint *chain)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	char hum[16] = "off", channels[16] = "keep", path[4200], err[512];
	struct vhs_enhance_opts o = { .hum = hum, .channels = channels };
	int ret;

	vhs_setting(ctx, VHS_SET_AUDIO_HUM, hum, sizeof(hum));
	vhs_setting(ctx, VHS_SET_AUDIO_CHANNELS, channels, sizeof(channels));
	o.hiss = vhs_setting_double(ctx, VHS_SET_AUDIO_HISS);
	o.declick = vhs_setting_int(ctx, VHS_SET_AUDIO_DECLICK) != 0;
	if (vhs_enhance_needs_analysis(&o)) {
		if (vhs_setting(ctx, VHS_SET_SEGMENT_AUDIO_ANALYSIS, path, sizeof(path)) < 0)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "the audio switches need the whole-track "
					"analysis, and the settings name none");
		ret = vhs_audio_analysis_load(&p->an, path, err, sizeof(err));
		if (ret)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "the audio analysis: %s", err);
	}
	ret = vhs_enhance_plan(&o, p->an.rate ? &p->an : NULL, in->channels, in->sample_rate,
			       &p->enh, err, sizeof(err));
	if (ret)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "%s", err);
	/* digital silence throughout leaves no profile: nothing to learn, nothing to reduce */
	p->hiss_db = p->an.profile ? o.hiss : 0;
	av_bprintf(chain, "%s", p->enh.chain);
	return 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	static char filters[VHS_CHAIN_MAX];
	struct audio_priv *p = vhs_priv(ctx);
	char codec[64];
	const AVCodec *enc;
	AVBPrint chain, tail;
	int ret = vhs_setting(ctx, VHS_SET_AUDIO_FILTERS, filters, sizeof(filters)), float_out;

	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "[audio] filters is longer than %d bytes", VHS_CHAIN_MAX - 1);
	if (ret < 0)
		filters[0] = '\0';
	if (vhs_setting(ctx, VHS_SET_ENCODE_AUDIO_CODEC, codec, sizeof(codec)) < 0)
		snprintf(codec, sizeof(codec), "aac");
	enc = avcodec_find_encoder_by_name(codec);
	if (!enc || enc->type != AVMEDIA_TYPE_AUDIO)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "unknown audio encoder '%s'", codec);
	av_bprint_init(&chain, 0, AV_BPRINT_SIZE_UNLIMITED);
	ret = filters[0] ? (av_bprintf(&chain, "%s", filters), 0) : s_enhance(ctx, p, &chain);
	float_out = p->hiss_db > 0 || vhs_setting_double(ctx, VHS_SET_AUDIO_LOUDNESS) != 0;
	av_bprint_init(&tail, 0, AV_BPRINT_SIZE_UNLIMITED);
	if (float_out)
		av_bprintf(&tail, ":sample_fmts=fltp");
	else
		s_sample_fmts(&tail, enc);
	s_sample_rates(&tail, enc);
	s_layouts(&tail, enc);
	if (!chain.len)
		av_bprintf(&chain, "anull");
	if (tail.len)
		av_bprintf(&chain, ",aformat=%s", tail.str + 1);
	if (!ret)
		ret = vhs_filter_stage_init(ctx, chain.str);
	av_bprint_finalize(&chain, NULL);
	av_bprint_finalize(&tail, NULL);
	if (ret || p->hiss_db <= 0)
		return ret;
	p->channels = p->fs.fmt.channels;
	ret = s_hiss_profile(p);
	p->fs.post = &s_hiss_post;
	return ret;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct audio_priv *p = vhs_priv(ctx);

	vhs_filter_stage_uninit(ctx);
	vhs_audio_analysis_free(&p->an);
	free(p->profile);
}

const struct vhs_stage vhs_stage_audio = {
	.name = "audio",
	.priv_size = sizeof(struct audio_priv),
	.init = s_init,
	.audio = vhs_filter_stage_audio,
	.segment = vhs_filter_stage_segment,
	.eos = vhs_filter_stage_eos,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_audio, argc, argv);
}
