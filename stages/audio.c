/* audio.c: the audio stage: `[audio] filters` as one libavfilter graph, ending in the
 * sample formats, rates and layouts the chosen audio encoder accepts, exactly as the
 * ffmpeg command line ends an `-af` chain (an aformat filter built from the encoder's
 * lists), so that the conversions happen where they would there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/bprint.h>

#include "filter.h"

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

static int s_init(struct vhs_ctx *ctx)
{
	static char filters[VHS_CHAIN_MAX];
	char codec[64];
	const AVCodec *enc;
	AVBPrint chain, tail;
	int ret = vhs_setting(ctx, "audio.filters", filters, sizeof(filters));

	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "[audio] filters is longer than %d bytes", VHS_CHAIN_MAX - 1);
	if (ret < 0)
		filters[0] = '\0';
	if (vhs_setting(ctx, "encode.audio_codec", codec, sizeof(codec)) < 0)
		snprintf(codec, sizeof(codec), "aac");
	enc = avcodec_find_encoder_by_name(codec);
	if (!enc || enc->type != AVMEDIA_TYPE_AUDIO)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "unknown audio encoder '%s'", codec);
	av_bprint_init(&tail, 0, AV_BPRINT_SIZE_UNLIMITED);
	s_sample_fmts(&tail, enc);
	s_sample_rates(&tail, enc);
	s_layouts(&tail, enc);
	av_bprint_init(&chain, 0, AV_BPRINT_SIZE_UNLIMITED);
	av_bprintf(&chain, "%s", filters[0] ? filters : "anull");
	if (tail.len)
		av_bprintf(&chain, ",aformat=%s", tail.str + 1);
	ret = vhs_filter_stage_init(ctx, chain.str);
	av_bprint_finalize(&chain, NULL);
	av_bprint_finalize(&tail, NULL);
	return ret;
}

const struct vhs_stage vhs_stage_audio = {
	.name = "audio",
	.priv_size = sizeof(struct vhs_filter_stage),
	.init = s_init,
	.audio = vhs_filter_stage_audio,
	.segment = vhs_filter_stage_segment,
	.eos = vhs_filter_stage_eos,
	.uninit = vhs_filter_stage_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_audio, argc, argv);
}
