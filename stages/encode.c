/* encode.c: the encode stage: each segment's video (input port 0) becomes its own
 * closed-GOP file, and each segment's audio (input port 1, when the capture has audio) a
 * raw spool, both written into the work dir through the temp writer. The mux stage joins
 * them into the output once every segment is done.
 *
 * DESIGN
 * A segment's video is encoded by an encoder opened at its BEGIN and flushed at its END,
 * so every segment starts with a key frame and refers to nothing outside itself: its file
 * is a pure function of its frames, whichever process or attempt made it. The packets go
 * as they are into a segment file (segfile.h) through the temp writer (io_uring, or
 * pwrite), committed at END: drained, fsynced, renamed, directory fsynced. Video slots go to the encoder without
 * copying. The audio spool (spool.h) is written the same way. When both files of a
 * segment are committed the stage reports SEGMENT DONE; the orchestrator records it in the
 * manifest. A segment whose END says more (or fewer) records than arrived is refused: no
 * frame may be lost or duplicated.
 *
 * Files: vNNNNNN.vseg and aNNNNNN.pcm in the work dir (`segment.dir`).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "encoder.h"
#include "avslot.h"
#include "segfile.h"
#include "spool.h"
#include "tempfile.h"

#define MAX_OPEN_SEGMENTS 8 /* segments with one port committed and the other not yet */

struct seg_video {
	bool open;
	struct vhs_segment begin;
	AVCodecContext *enc;
	struct vhs_tempfile *tf;
	uint64_t frames;          /* records received in the segment */
};

struct seg_audio {
	bool open;
	struct vhs_segment begin;
	struct vhs_tempfile *tf;
	bool header;              /* header written */
	uint64_t frames, samples;
	uint8_t *buf;             /* interleaving buffer */
	size_t cap;
};

/* A segment with one of its files committed. */
struct committed {
	uint32_t index;
	uint8_t ports;            /* bit per committed port */
	uint8_t flags;            /* VHS_SEG_LAST */
	uint64_t frames, samples, bytes;
};

struct encode_priv {
	char dir[4096];           /* the work dir */
	bool global_header;       /* the final container wants codec headers out of band */
	bool quiet;               /* encoder warnings were given at start-up */
	struct seg_video sv;
	struct seg_audio sa;
	struct committed done[MAX_OPEN_SEGMENTS];
	int n_done;
	int n_ports;
	AVPacket *pkt;
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
static int s_quality(struct vhs_ctx *ctx, AVCodecContext *c, bool quiet)
{
	char preset[64];
	long long crf = vhs_setting_int(ctx, "encode.crf", -1);

	s_setting(ctx, "encode.preset", preset, sizeof(preset), "");
	if (preset[0] && !s_has_opt(c, "preset")) {
		if (!quiet)
			vhs_warn(ctx, "encoder %s has no presets; preset = \"%s\" ignored", c->codec->name, preset);
	} else if (preset[0] && av_opt_set(c->priv_data, "preset", preset, 0) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "encoder %s has no preset '%s'", c->codec->name, preset);
	if (crf >= 0 && !s_has_opt(c, "crf")) {
		if (!quiet)
			vhs_warn(ctx, "encoder %s has no crf setting; crf = %lld ignored", c->codec->name, crf);
	} else if (crf >= 0 && av_opt_set_double(c->priv_data, "crf", (double)crf, 0) < 0)
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

/* A fresh video encoder as the job asks, into *out (freed by the caller also on error). */
static int s_open_video(struct vhs_ctx *ctx, struct encode_priv *p, AVCodecContext **out)
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
	c = *out = avcodec_alloc_context3(codec);
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
	if (p->global_header)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	ret = s_sar(ctx, in, &c->sample_aspect_ratio);
	if (!ret)
		ret = s_quality(ctx, c, p->quiet);
	if (ret)
		return ret;
	ret = avcodec_open2(c, codec, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "cannot open video encoder %s for %dx%d %s: %s", name,
				c->width, c->height, in->fmt, vhs_av_err(ret));
	return 0;
}

static int s_write_fail(struct vhs_ctx *ctx, struct encode_priv *p, const char *what, uint32_t k, int err)
{
	return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write %s of segment %u in '%s': %s", what, k,
			p->dir, strerror(err));
}

/* BEGIN on port 0: a fresh encoder and a segment file. */
static int s_video_begin(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *seg)
{
	struct seg_video *v = &p->sv;
	AVCodecParameters *par;
	char name[32];
	int ret;

	memset(v, 0, sizeof(*v));
	v->begin = *seg;
	snprintf(name, sizeof(name), "v%06u.vseg", seg->index);
	ret = vhs_tempfile_open(&v->tf, p->dir, name);
	if (ret)
		return s_write_fail(ctx, p, "the video", seg->index, -ret);
	v->open = true;
	ret = s_open_video(ctx, p, &v->enc);
	if (ret)
		return ret;
	par = avcodec_parameters_alloc();
	if (!par)
		return -ENOMEM;
	ret = avcodec_parameters_from_context(par, v->enc);
	ret = ret < 0 ? -ENOMEM : vhs_segfile_write_header(v->tf, par, v->enc->time_base);
	avcodec_parameters_free(&par);
	return ret ? s_write_fail(ctx, p, "the video", seg->index, -ret) : 0;
}

/* A video packet from the encoder into the segment file. */
static int s_video_packet(struct vhs_ctx *ctx, void *opaque, AVPacket *pkt)
{
	struct encode_priv *p = opaque;
	int ret = vhs_segfile_write_packet(p->sv.tf, pkt);

	return ret ? s_write_fail(ctx, p, "the video", p->sv.begin.index, -ret) : 0;
}

/* Sends one frame (NULL: flush) and writes every packet that comes out. */
static int s_encode(struct vhs_ctx *ctx, struct encode_priv *p, AVFrame *f)
{
	return vhs_encode(ctx, p->sv.enc, f, p->pkt, s_video_packet, p);
}

static void s_video_close(struct encode_priv *p)
{
	struct seg_video *v = &p->sv;

	avcodec_free_context(&v->enc);
	vhs_tempfile_abort(&v->tf);
	v->open = false;
}

/* Both files of a segment committed: tell the orchestrator. */
static int s_committed(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *begin,
		       int port, uint64_t frames, uint64_t samples, uint64_t bytes)
{
	struct committed *c = NULL;
	struct vhs_segment done = { .phase = VHS_SEG_DONE };
	int i;

	for (i = 0; i < p->n_done && !c; i++)
		if (p->done[i].index == begin->index)
			c = &p->done[i];
	if (!c) {
		if (p->n_done == MAX_OPEN_SEGMENTS)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "too many half-finished segments");
		c = &p->done[p->n_done++];
		memset(c, 0, sizeof(*c));
		c->index = begin->index;
	}
	c->ports |= (uint8_t)(1u << port);
	c->flags |= begin->flags & VHS_SEG_LAST;
	c->frames += frames;
	c->samples += samples;
	c->bytes += bytes;
	if (c->ports != (1u << p->n_ports) - 1)
		return 0;
	done.index = c->index;
	done.flags = c->flags;
	done.frames = c->frames;
	done.samples = c->samples;
	done.bytes = c->bytes;
	*c = p->done[--p->n_done];
	return vhs_send_segment(ctx, &done);
}

static int s_check_count(struct vhs_ctx *ctx, const struct vhs_segment *end, uint64_t got, int port)
{
	if (end->frames == got)
		return 0;
	return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u on input %d: %llu records announced, %llu "
			"arrived", end->index, port, (unsigned long long)end->frames, (unsigned long long)got);
}

/* END on port 0: flush, finish the file, commit it. */
static int s_video_end(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *end)
{
	struct seg_video *v = &p->sv;
	uint64_t bytes;
	int ret = s_check_count(ctx, end, v->frames, 0);

	if (!ret)
		ret = s_encode(ctx, p, NULL);
	if (ret)
		return ret;
	bytes = vhs_tempfile_size(v->tf);
	ret = vhs_tempfile_commit(&v->tf);
	if (ret)
		return s_write_fail(ctx, p, "the video", end->index, -ret);
	s_video_close(p);
	return s_committed(ctx, p, &v->begin, 0, v->frames, 0, bytes);
}

static int s_video(struct vhs_ctx *ctx, const struct vhs_frame *d, uint8_t *data)
{
	struct encode_priv *p = vhs_priv(ctx);
	AVFrame *f;
	int ret;

	if (!p->sv.open || d->segment != p->sv.begin.index) {
		vhs_release(ctx, 0, d->slot);
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "video frame of segment %u outside its segment",
				d->segment);
	}
	f = vhs_wrap_video(ctx, d, data);
	if (!f)
		return -ENOMEM;
	f->pict_type = AV_PICTURE_TYPE_NONE;
	f->sample_aspect_ratio = p->sv.enc->sample_aspect_ratio;
	p->sv.frames++;
	ret = s_encode(ctx, p, f);
	av_frame_free(&f);
	return ret;
}

/* ---- audio spool ---- */

static int s_audio_write(struct vhs_ctx *ctx, struct encode_priv *p, const void *buf, size_t n)
{
	int ret = vhs_tempfile_write(p->sa.tf, buf, n);

	return ret ? s_write_fail(ctx, p, "the audio", p->sa.begin.index, -ret) : 0;
}

static int s_audio_header(struct vhs_ctx *ctx, struct encode_priv *p, int64_t pts)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 1);
	struct vhs_spool_header h = { .pts = pts, .fmt = av_get_sample_fmt(in->fmt),
				      .rate = in->sample_rate, .channels = in->channels,
				      .layout = in->channel_layout };
	uint8_t raw[VHS_SPOOL_HEADER];

	vhs_spool_header_pack(&h, raw);
	p->sa.header = true;
	return s_audio_write(ctx, p, raw, sizeof(raw));
}

static int s_audio_begin(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *seg)
{
	struct seg_audio *a = &p->sa;
	char name[32];
	int ret;

	a->open = true;
	a->begin = *seg;
	a->header = false;
	a->frames = a->samples = 0;
	snprintf(name, sizeof(name), "a%06u.pcm", seg->index);
	ret = vhs_tempfile_open(&a->tf, p->dir, name);
	return ret ? s_write_fail(ctx, p, "the audio", seg->index, -ret) : 0;
}

static int s_audio(struct vhs_ctx *ctx, const struct vhs_audio *d, uint8_t *data)
{
	struct encode_priv *p = vhs_priv(ctx);
	struct seg_audio *a = &p->sa;
	enum AVSampleFormat fmt = av_get_sample_fmt(d->fmt);
	size_t need = (size_t)d->nb_samples * (size_t)d->channels * (size_t)av_get_bytes_per_sample(fmt);
	const uint8_t *src = data + d->offset[0]; /* packed: the slot is the spool's layout */
	int ret = 0;

	if (!a->open || d->segment != a->begin.index)
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "audio of segment %u outside its segment", d->segment);
	if (!ret && av_sample_fmt_is_planar(fmt)) {
		uint8_t *planes[VHS_MAX_CHANNELS];

		if (need > a->cap) {
			uint8_t *n = realloc(a->buf, need);

			ret = n ? 0 : -ENOMEM;
			a->buf = n ? n : a->buf;
			a->cap = n ? need : a->cap;
		}
		for (int c = 0; !ret && c < d->channels; c++)
			planes[c] = data + d->offset[c];
		if (!ret)
			vhs_spool_interleave(a->buf, planes, fmt, d->channels, d->nb_samples);
		src = a->buf;
	}
	if (!ret && !a->header)
		ret = s_audio_header(ctx, p, d->pts);
	if (!ret)
		ret = s_audio_write(ctx, p, src, need);
	vhs_release(ctx, 1, d->slot);
	a->frames++;
	a->samples += (uint64_t)d->nb_samples;
	return ret;
}

static int s_audio_end(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *end)
{
	struct seg_audio *a = &p->sa;
	uint64_t bytes;
	int ret = s_check_count(ctx, end, a->frames, 1);

	if (!ret && !a->header)
		ret = s_audio_header(ctx, p, INT64_MIN);
	if (ret)
		return ret;
	bytes = vhs_tempfile_size(a->tf);
	ret = vhs_tempfile_commit(&a->tf);
	a->open = false;
	if (ret)
		return s_write_fail(ctx, p, "the audio", end->index, -ret);
	return s_committed(ctx, p, &a->begin, 1, 0, a->samples, bytes);
}

/* ---- the stage ---- */

static int s_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg)
{
	struct encode_priv *p = vhs_priv(ctx);
	bool open = seg->port == 0 ? p->sv.open : p->sa.open;
	uint32_t index = seg->port == 0 ? p->sv.begin.index : p->sa.begin.index;

	if (seg->phase == VHS_SEG_BEGIN ? open : !open || index != seg->index)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u %s on input %u out of order", seg->index,
				seg->phase == VHS_SEG_BEGIN ? "BEGIN" : "END", seg->port);
	if (seg->phase == VHS_SEG_BEGIN)
		return seg->port == 0 ? s_video_begin(ctx, p, seg) : s_audio_begin(ctx, p, seg);
	return seg->port == 0 ? s_video_end(ctx, p, seg) : s_audio_end(ctx, p, seg);
}

static int s_eos(struct vhs_ctx *ctx, int port)
{
	struct encode_priv *p = vhs_priv(ctx);

	if (port == 0 ? p->sv.open : p->sa.open)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "input %d ended inside a segment", port);
	return 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	struct encode_priv *p = vhs_priv(ctx);
	char output[4096];
	const AVOutputFormat *of;
	AVCodecContext *check = NULL;
	int ret;

	vhs_av_log_setup();
	p->pkt = av_packet_alloc();
	if (!p->pkt)
		return -ENOMEM;
	p->n_ports = vhs_input_count(ctx);
	if (vhs_setting(ctx, "segment.dir", p->dir, sizeof(p->dir)) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no work dir (segment.dir) in the settings");
	if (vhs_setting(ctx, "output", output, sizeof(output)) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no output in the job");
	of = av_guess_format(NULL, output, NULL);
	if (!of)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "'%s': unsupported output format (use .mkv or .mp4)", output);
	p->global_header = of->flags & AVFMT_GLOBALHEADER;
	/* Open the encoders once now, so a bad codec setting fails before any frame flows. */
	ret = s_open_video(ctx, p, &check);
	avcodec_free_context(&check);
	p->quiet = true; /* its warnings (ignored options) were said once */
	if (!ret && p->n_ports > 1) {
		const struct vhs_stream_fmt *a = vhs_input_format(ctx, 1);

		ret = vhs_open_audio_encoder(ctx, av_get_sample_fmt(a->fmt), a->sample_rate, a->channels,
					     a->channel_layout, p->global_header, &check);
		avcodec_free_context(&check);
	}
	return ret;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct encode_priv *p = vhs_priv(ctx);

	s_video_close(p);
	vhs_tempfile_abort(&p->sa.tf);
	free(p->sa.buf);
	av_packet_free(&p->pkt);
}

const struct vhs_stage vhs_stage_encode = {
	.name = "encode",
	.priv_size = sizeof(struct encode_priv),
	.init = s_init,
	.video = s_video,
	.audio = s_audio,
	.segment = s_segment,
	.eos = s_eos,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_encode, argc, argv);
}
