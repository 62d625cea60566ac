/* encoder.c: encoders shared by encode and mux (see encoder.h). */
#include "encoder.h"

#include <errno.h>
#include <stdio.h>

#include <libavutil/opt.h>

#include "avslot.h"

enum AVSampleFormat vhs_audio_encoder_format(const AVCodec *codec, enum AVSampleFormat fmt)
{
	static const enum AVSampleFormat order[] = { AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT,
						     AV_SAMPLE_FMT_S32P, AV_SAMPLE_FMT_S32,
						     AV_SAMPLE_FMT_S16P, AV_SAMPLE_FMT_S16 };
	const enum AVSampleFormat *f = codec->sample_fmts;

	if (!f)
		return fmt;
	for (const enum AVSampleFormat *g = f; *g != AV_SAMPLE_FMT_NONE; g++)
		if (*g == fmt)
			return fmt;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		for (const enum AVSampleFormat *g = f; *g != AV_SAMPLE_FMT_NONE; g++)
			if (*g == order[i])
				return *g;
	return f[0];
}

int vhs_open_audio_encoder(struct vhs_ctx *ctx, enum AVSampleFormat fmt, int rate, int channels,
			   uint64_t layout, int global_header, AVCodecContext **out)
{
	char name[64] = "aac", bitrate[32] = "";
	const AVCodec *codec;
	AVCodecContext *c;
	int ret;

	vhs_setting(ctx, VHS_SET_ENCODE_AUDIO_CODEC, name, sizeof(name));
	vhs_setting(ctx, VHS_SET_ENCODE_AUDIO_BITRATE, bitrate, sizeof(bitrate));
	codec = avcodec_find_encoder_by_name(name);
	if (!codec || codec->type != AVMEDIA_TYPE_AUDIO)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "unknown audio encoder '%s'", name);
	c = *out = avcodec_alloc_context3(codec);
	if (!c)
		return -ENOMEM;
	c->sample_fmt = vhs_audio_encoder_format(codec, fmt);
	c->sample_rate = rate;
	c->time_base = (AVRational){ 1, rate };
	if (layout)
		av_channel_layout_from_mask(&c->ch_layout, layout);
	else
		av_channel_layout_default(&c->ch_layout, channels);
	if (bitrate[0] && av_opt_set(c, "b", bitrate, 0) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "encode.audio_bitrate '%s' is not a bit rate", bitrate);
	if (global_header)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	ret = avcodec_open2(c, codec, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "cannot open audio encoder %s: %s", name, vhs_av_err(ret));
	return 0;
}

int vhs_encode(struct vhs_ctx *ctx, AVCodecContext *enc, const AVFrame *f, AVPacket *pkt,
	       vhs_packet_sink sink, void *opaque)
{
	int ret = avcodec_send_frame(enc, f);

	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s encoder: %s", enc->codec->name, vhs_av_err(ret));
	for (;;) {
		ret = avcodec_receive_packet(enc, pkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s encoder: %s", enc->codec->name,
					vhs_av_err(ret));
		ret = sink(ctx, opaque, pkt);
		av_packet_unref(pkt);
		if (ret)
			return ret;
	}
}
