/* encode.c: the encode/mux stage: encode video (input port 0) and audio (input port 1,
 * when the capture has audio) and mux them into OUTPUT.part; the orchestrator renames
 * it to OUTPUT once the whole run succeeded.
 *
 * DESIGN
 * Video slots are wrapped as AVFrames and given to the encoder without copying (the
 * slot goes back when the encoder lets go of the frame). Audio goes through an
 * AVAudioFifo to the encoder's fixed frame size (aac: 1024), as the command line's
 * buffersink would cut it; the samples are unchanged. Timestamps come from the frames:
 * video in the preprocess graph's time base, audio in 1/sample_rate, so A/V sync is
 * whatever the capture had. The file is fsynced before DONE.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "avslot.h"

struct encoder {
	AVCodecContext *enc;
	AVStream *st;
	int64_t next_pts;    /* audio: pts of the next sample out of the fifo */
};

struct encode_priv {
	AVFormatContext *oc;
	struct encoder v, a;
	AVAudioFifo *fifo;
	AVFrame *chunk;      /* audio frame cut from the fifo */
	AVPacket *pkt;
	char output[4096];   /* final name */
	char part[4200];     /* what is written: OUTPUT.part */
};

static int s_setting(struct vhs_ctx *ctx, const char *key, char *buf, size_t n, const char *dflt)
{
	if (vhs_setting(ctx, key, buf, n) < 0)
		snprintf(buf, n, "%s", dflt);
	return 0;
}

static bool s_has_opt(AVCodecContext *c, const char *name)
{
	return c->codec->priv_class && c->priv_data && av_opt_find(c->priv_data, name, NULL, 0, 0);
}

/* Options only some encoders have: preset, crf. Absent ones are ignored with a warning, so
 * a preset made for libx264 still works with ffv1. */
static int s_quality(struct vhs_ctx *ctx, AVCodecContext *c)
{
	char preset[64];
	long long crf = vhs_setting_int(ctx, "encode.crf", -1);

	s_setting(ctx, "encode.preset", preset, sizeof(preset), "");
	if (preset[0] && !s_has_opt(c, "preset"))
		vhs_warn(ctx, "encoder %s has no presets; preset = \"%s\" ignored", c->codec->name, preset);
	else if (preset[0] && av_opt_set(c->priv_data, "preset", preset, 0) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "encoder %s has no preset '%s'", c->codec->name, preset);
	if (crf >= 0 && !s_has_opt(c, "crf"))
		vhs_warn(ctx, "encoder %s has no crf setting; crf = %lld ignored", c->codec->name, crf);
	else if (crf >= 0 && av_opt_set_double(c->priv_data, "crf", (double)crf, 0) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "encoder %s refuses crf = %lld", c->codec->name, crf);
	return 0;
}

static int s_sar(struct vhs_ctx *ctx, const struct vhs_stream_fmt *in, AVRational *sar)
{
	char s[32];
	int num, den;

	s_setting(ctx, "encode.sar", s, sizeof(s), "auto");
	if (!strcmp(s, "auto")) {
		*sar = (AVRational){ in->sar_num, in->sar_den ? in->sar_den : 1 };
		return 0;
	}
	if (sscanf(s, "%d:%d", &num, &den) != 2 || num <= 0 || den <= 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "encode.sar '%s' is not auto or N:D", s);
	*sar = (AVRational){ num, den };
	return 0;
}

static int s_open_video(struct vhs_ctx *ctx, struct encode_priv *p)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	char name[64];
	const AVCodec *codec;
	AVCodecContext *c;
	int ret;

	s_setting(ctx, "encode.codec", name, sizeof(name), "libx264");
	codec = avcodec_find_encoder_by_name(name);
	if (!codec || codec->type != AVMEDIA_TYPE_VIDEO)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "unknown video encoder '%s'", name);
	c = p->v.enc = avcodec_alloc_context3(codec);
	if (!c)
		return -ENOMEM;
	c->width = in->width;
	c->height = in->height;
	c->pix_fmt = av_get_pix_fmt(in->fmt);
	c->time_base = (AVRational){ in->tb_num, in->tb_den };
	c->framerate = (AVRational){ in->fr_num, in->fr_den };
	c->color_range = in->color_range;
	c->colorspace = in->colorspace;
	c->color_primaries = in->color_primaries;
	c->color_trc = in->color_trc;
	c->chroma_sample_location = in->chroma_location;
	av_opt_set(c, "threads", "auto", 0);
	if (p->oc->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	ret = s_sar(ctx, in, &c->sample_aspect_ratio);
	if (!ret)
		ret = s_quality(ctx, c);
	if (ret)
		return ret;
	ret = avcodec_open2(c, codec, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "cannot open video encoder %s for %dx%d %s: %s", name,
				c->width, c->height, in->fmt, vhs_av_err(ret));
	return 0;
}

static int s_open_audio(struct vhs_ctx *ctx, struct encode_priv *p)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 1);
	char name[64], rate[32];
	const AVCodec *codec;
	AVCodecContext *c;
	int ret;

	s_setting(ctx, "encode.audio_codec", name, sizeof(name), "aac");
	s_setting(ctx, "encode.audio_bitrate", rate, sizeof(rate), "");
	codec = avcodec_find_encoder_by_name(name);
	if (!codec || codec->type != AVMEDIA_TYPE_AUDIO)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "unknown audio encoder '%s'", name);
	c = p->a.enc = avcodec_alloc_context3(codec);
	if (!c)
		return -ENOMEM;
	c->sample_fmt = av_get_sample_fmt(in->fmt);
	c->sample_rate = in->sample_rate;
	c->time_base = (AVRational){ 1, in->sample_rate };
	if (in->channel_layout)
		av_channel_layout_from_mask(&c->ch_layout, in->channel_layout);
	else
		av_channel_layout_default(&c->ch_layout, in->channels);
	if (rate[0] && av_opt_set(c, "b", rate, 0) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "encode.audio_bitrate '%s' is not a bit rate", rate);
	if (p->oc->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	ret = avcodec_open2(c, codec, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "cannot open audio encoder %s: %s", name, vhs_av_err(ret));
	p->fifo = av_audio_fifo_alloc(c->sample_fmt, c->ch_layout.nb_channels, 4096);
	return p->fifo ? 0 : -ENOMEM;
}

static int s_add_stream(struct encode_priv *p, struct encoder *e)
{
	e->st = avformat_new_stream(p->oc, NULL);
	if (!e->st)
		return AVERROR(ENOMEM);
	e->st->time_base = e->enc->time_base;
	e->st->sample_aspect_ratio = e->enc->sample_aspect_ratio;
	return avcodec_parameters_from_context(e->st->codecpar, e->enc);
}

static int s_open_output(struct vhs_ctx *ctx, struct encode_priv *p)
{
	int ret;

	if (vhs_setting(ctx, "output", p->output, sizeof(p->output)) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no output in the job");
	snprintf(p->part, sizeof(p->part), "%s.part", p->output);
	ret = avformat_alloc_output_context2(&p->oc, NULL, NULL, p->output);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "'%s': unsupported output format (use .mkv or .mp4)", p->output);
	ret = s_open_video(ctx, p);
	if (!ret && vhs_input_count(ctx) > 1)
		ret = s_open_audio(ctx, p);
	if (ret)
		return ret;
	ret = s_add_stream(p, &p->v);
	if (!ret && p->a.enc)
		ret = s_add_stream(p, &p->a);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot add streams: %s", vhs_av_err(ret));
	ret = avio_open(&p->oc->pb, p->part, AVIO_FLAG_WRITE);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot create '%s': %s", p->part, vhs_av_err(ret));
	ret = avformat_write_header(p->oc, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write '%s': %s", p->part, vhs_av_err(ret));
	return 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	struct encode_priv *p = vhs_priv(ctx);

	vhs_av_log_setup();
	p->pkt = av_packet_alloc();
	p->chunk = av_frame_alloc();
	if (!p->pkt || !p->chunk)
		return -ENOMEM;
	return s_open_output(ctx, p);
}

/* Sends one frame (NULL: flush) and writes every packet that comes out. */
static int s_encode(struct vhs_ctx *ctx, struct encode_priv *p, struct encoder *e, AVFrame *f)
{
	int ret = avcodec_send_frame(e->enc, f);

	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s encoder: %s", e->enc->codec->name, vhs_av_err(ret));
	for (;;) {
		ret = avcodec_receive_packet(e->enc, p->pkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s encoder: %s", e->enc->codec->name,
					vhs_av_err(ret));
		av_packet_rescale_ts(p->pkt, e->enc->time_base, e->st->time_base);
		p->pkt->stream_index = e->st->index;
		ret = av_interleaved_write_frame(p->oc, p->pkt);
		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write '%s': %s", p->part, vhs_av_err(ret));
	}
}

static int s_video(struct vhs_ctx *ctx, const struct vhs_frame *d, uint8_t *data)
{
	struct encode_priv *p = vhs_priv(ctx);
	AVFrame *f = vhs_wrap_video(ctx, d, data);
	int ret;

	if (!f)
		return -ENOMEM;
	f->pict_type = AV_PICTURE_TYPE_NONE;
	f->sample_aspect_ratio = p->v.enc->sample_aspect_ratio;
	ret = s_encode(ctx, p, &p->v, f);
	av_frame_free(&f);
	return ret;
}

/* Encodes whole encoder frames from the fifo; with flush, also the short last one. */
static int s_audio_drain(struct vhs_ctx *ctx, struct encode_priv *p, int flush)
{
	AVCodecContext *c = p->a.enc;
	int want = c->frame_size > 0 && !(c->codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE)
			   ? c->frame_size : av_audio_fifo_size(p->fifo);
	int ret = 0;

	while (!ret && want > 0 && (av_audio_fifo_size(p->fifo) >= want ||
				    (flush && av_audio_fifo_size(p->fifo) > 0))) {
		int nb = FFMIN(want, av_audio_fifo_size(p->fifo));

		av_frame_unref(p->chunk);
		p->chunk->nb_samples = nb;
		p->chunk->format = c->sample_fmt;
		p->chunk->sample_rate = c->sample_rate;
		av_channel_layout_copy(&p->chunk->ch_layout, &c->ch_layout);
		ret = av_frame_get_buffer(p->chunk, 0);
		if (ret < 0)
			return ret;
		av_audio_fifo_read(p->fifo, (void **)p->chunk->data, nb);
		p->chunk->pts = p->a.next_pts;
		p->a.next_pts += nb;
		ret = s_encode(ctx, p, &p->a, p->chunk);
	}
	return ret;
}

static int s_audio(struct vhs_ctx *ctx, const struct vhs_audio *d, uint8_t *data)
{
	struct encode_priv *p = vhs_priv(ctx);
	AVFrame *f = vhs_wrap_audio(ctx, d, data);
	int ret;

	if (!f)
		return -ENOMEM;
	if (av_audio_fifo_size(p->fifo) == 0 && f->pts != AV_NOPTS_VALUE)
		p->a.next_pts = f->pts; /* (re)anchor at the first sample we hold */
	ret = av_audio_fifo_write(p->fifo, (void **)f->extended_data, f->nb_samples);
	av_frame_free(&f); /* the slot goes back here: the fifo has the samples */
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "audio fifo: %s", vhs_av_err(ret));
	return s_audio_drain(ctx, p, 0);
}

static int s_eos(struct vhs_ctx *ctx, int port)
{
	struct encode_priv *p = vhs_priv(ctx);
	int ret = 0;

	if (port == 1)
		ret = s_audio_drain(ctx, p, 1);
	return ret ? ret : s_encode(ctx, p, port == 0 ? &p->v : &p->a, NULL);
}

static int s_fsync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = fsync(fd) ? -errno : 0;
	close(fd);
	return ret;
}

static int s_finish(struct vhs_ctx *ctx)
{
	struct encode_priv *p = vhs_priv(ctx);
	int ret = av_write_trailer(p->oc);

	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot finish '%s': %s", p->part, vhs_av_err(ret));
	ret = avio_closep(&p->oc->pb);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot close '%s': %s", p->part, vhs_av_err(ret));
	ret = s_fsync(p->part);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot sync '%s': %s", p->part, strerror(-ret));
	return 0;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct encode_priv *p = vhs_priv(ctx);

	avcodec_free_context(&p->v.enc);
	avcodec_free_context(&p->a.enc);
	if (p->oc) {
		avio_closep(&p->oc->pb);
		avformat_free_context(p->oc);
	}
	av_audio_fifo_free(p->fifo);
	av_frame_free(&p->chunk);
	av_packet_free(&p->pkt);
}

const struct vhs_stage vhs_stage_encode = {
	.name = "encode",
	.priv_size = sizeof(struct encode_priv),
	.init = s_init,
	.video = s_video,
	.audio = s_audio,
	.eos = s_eos,
	.finish = s_finish,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_encode, argc, argv);
}
