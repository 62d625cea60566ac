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
 * pwrite), committed at END: drained, fsynced, renamed, directory fsynced. Video slots go
 * to the encoder without copying. The audio spool (spool.h) is written the same way. When
 * both files of a segment are committed the stage reports SEGMENT DONE; the orchestrator
 * records it in the manifest. A segment whose END says more (or fewer) records than
 * arrived is refused: no frame may be lost or duplicated.
 *
 * A worker may hold several segments at once: when the upstream stages run as pools,
 * several of their workers feed this one, and the records of their segments arrive
 * interleaved on each input port (each segment's own records still in order between its
 * BEGIN and END). So everything is kept per open segment and port (struct open_segment:
 * its own encoder or spool header, temp file and counters), and every record goes to the
 * state of the segment it names. The two ports of a segment also finish independently:
 * struct committed remembers a segment with one file committed until the other is.
 *
 * GPU edge (the upscaler ran on CUDA, shm/devpool.h): the runtime downloads each frame
 * once into page-locked memory and it goes on as above; but an NVENC encoder takes the
 * frames on the device: each is copied from the edge's buffer into one of the encoder's
 * CUDA frames (AV_PIX_FMT_CUDA, in the CUDA primary context, where the edge's buffers are
 * opened), never through host memory.
 *
 * Files: vNNNNNN.vseg and aNNNNNN.pcm in the work dir (`segment.dir`).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/cpu.h>
#include <libavutil/opt.h>
#ifdef VHS_HAVE_CUDA
#include <libavutil/hwcontext.h>
#include <libavutil/hwcontext_cuda.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#endif
#include <libavutil/pixdesc.h>

#include "encoder.h"
#include "files.h"
#include "avslot.h"
#include "segfile.h"
#include "spool.h"
#include "tempfile.h"

/* A segment open on one input port (its BEGIN arrived, its END not yet): the file being
 * written. Allocated at BEGIN, freed at END (or uninit); the address is stable. */
struct open_segment {
	uint8_t port;             /* 0: video, 1: audio */
	struct vhs_segment begin; /* its BEGIN (index, flags) */
	struct vhs_tempfile *tf;  /* vNNNNNN.vseg or aNNNNNN.pcm; NULL once committed */
	uint64_t frames;          /* records received */
	AVCodecContext *enc;      /* video: the segment's own encoder */
	bool header;              /* audio: spool header written */
	uint64_t samples;         /* audio: samples per channel received */
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
	char codec[64];           /* encode.codec: the video encoder's name */
	bool global_header;       /* the final container wants codec headers out of band */
	bool quiet;               /* encoder warnings were given at start-up */
	struct open_segment **open; /* open segments of both ports (order not kept) */
	size_t n_open, cap_open;
	struct committed *done;   /* segments with some but not all ports committed */
	size_t n_done, cap_done;
	int n_ports;
	AVPacket *pkt;
	uint8_t *abuf;            /* audio interleaving buffer, reused by every record */
	size_t abuf_cap;          /* its size in bytes */
	AVBufferRef *hw_frames;   /* GPU edge into NVENC: the encoder's CUDA frames, else NULL */
};

static bool s_has_opt(AVCodecContext *c, const char *name)
{
	return c->codec->priv_class && c->priv_data && av_opt_find(c->priv_data, name, NULL, 0, 0);
}

/* Options only some encoders have: preset, crf. Absent ones are ignored with a warning, so
 * a preset made for libx264 still works with ffv1. */
static int s_quality(struct vhs_ctx *ctx, AVCodecContext *c, bool quiet)
{
	char preset[64];
	long long crf = vhs_setting_int(ctx, VHS_SET_ENCODE_CRF);

	vhs_setting(ctx, VHS_SET_ENCODE_PRESET, preset, sizeof(preset));
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

	vhs_setting(ctx, VHS_SET_ENCODE_SAR, s, sizeof(s));
	if (!strcmp(s, "auto")) {
		*sar = (AVRational){ in->sar_num, in->sar_den ? in->sar_den : 1 };
		return 0;
	}
	if (sscanf(s, "%d:%d", &num, &den) != 2 || num <= 0 || den <= 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "encode.sar '%s' is not auto or N:D", s);
	*sar = (AVRational){ num, den };
	return 0;
}

/* libx264's AVX-512 routines make an encoder that is not the first of its process depend on
 * memory it did not write: the same frames gave other packets from run to run when a
 * process encoded several segments (issue 4; stable with one encoder per process, without
 * AVX-512, and with address randomisation off). Every segment has its own encoder, and a
 * segment must be a pure function of its frames, so on a CPU with AVX-512 x264 is given
 * every SIMD extension the CPU has but that one (x264's `asm` flags). */
static int s_x264_without_avx512(AVCodecContext *c)
{
	static const struct {
		int av;
		const char *x264;
	} ext[] = {
		{ AV_CPU_FLAG_MMXEXT, "MMX2" }, { AV_CPU_FLAG_SSE2, "SSE2" },   { AV_CPU_FLAG_SSSE3, "SSSE3" },
		{ AV_CPU_FLAG_SSE4, "SSE4.1" }, { AV_CPU_FLAG_SSE42, "SSE4.2" }, { AV_CPU_FLAG_AVX, "AVX" },
		{ AV_CPU_FLAG_AVX2, "AVX2" },   { AV_CPU_FLAG_FMA3, "FMA3" },   { AV_CPU_FLAG_FMA4, "FMA4" },
		{ AV_CPU_FLAG_BMI1, "BMI1" },   { AV_CPU_FLAG_BMI2, "BMI2" },
	};
	int flags = av_get_cpu_flags();
	char list[128] = "asm=";

	if (strcmp(c->codec->name, "libx264") || !(flags & AV_CPU_FLAG_AVX512))
		return 0;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (flags & ext[i].av)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 list[4] ? "," : "", ext[i].x264);
	return av_opt_set(c->priv_data, "x264-params", list, 0);
}

/* A fresh video encoder as the job asks, into *out (freed by the caller also on error). */
static int s_open_video(struct vhs_ctx *ctx, struct encode_priv *p, AVCodecContext **out)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	const AVCodec *codec;
	AVCodecContext *c;
	int ret;

	codec = avcodec_find_encoder_by_name(p->codec);
	if (!codec || codec->type != AVMEDIA_TYPE_VIDEO)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "unknown video encoder '%s'", p->codec);
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
	if (p->hw_frames) {
		c->pix_fmt = AV_PIX_FMT_CUDA;
		c->hw_frames_ctx = av_buffer_ref(p->hw_frames);
		if (!c->hw_frames_ctx)
			return -ENOMEM;
	}
	av_opt_set(c, "threads", "auto", 0);
	s_x264_without_avx512(c);
	if (p->global_header)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	ret = s_sar(ctx, in, &c->sample_aspect_ratio);
	if (!ret)
		ret = s_quality(ctx, c, p->quiet);
	if (ret)
		return ret;
	ret = avcodec_open2(c, codec, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "cannot open video encoder %s for %dx%d %s: %s", p->codec,
				c->width, c->height, in->fmt, vhs_av_err(ret));
	return 0;
}

static int s_write_fail(struct vhs_ctx *ctx, struct encode_priv *p, const char *what, uint32_t k, int err)
{
	return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write %s of segment %u in '%s': %s", what, k,
			p->dir, strerror(err));
}

/* ---- the open segments ---- */

/* The segment open on input port with this index, or NULL. */
static struct open_segment *s_find(struct encode_priv *p, int port, uint32_t index)
{
	for (size_t i = 0; i < p->n_open; i++)
		if (p->open[i]->port == port && p->open[i]->begin.index == index)
			return p->open[i];
	return NULL;
}

/* A new open segment for its BEGIN, in *out; the stage owns it until s_forget. */
static int s_remember(struct encode_priv *p, const struct vhs_segment *begin,
		      struct open_segment **out)
{
	struct open_segment **open = vhs_grow(p->open, p->n_open, &p->cap_open, sizeof(*open));
	struct open_segment *s;

	if (!open)
		return -ENOMEM;
	p->open = open;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->port = begin->port;
	s->begin = *begin;
	p->open[p->n_open++] = s;
	*out = s;
	return 0;
}

/* Frees an open segment: its encoder, and its temp file if not committed. */
static void s_forget(struct encode_priv *p, struct open_segment *s)
{
	for (size_t i = 0; i < p->n_open; i++) {
		if (p->open[i] == s) {
			p->open[i] = p->open[--p->n_open];
			break;
		}
	}
	avcodec_free_context(&s->enc);
	vhs_tempfile_abort(&s->tf);
	free(s);
}

/* Both files of a segment committed: tell the orchestrator. */
static int s_committed(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *begin,
		       int port, uint64_t frames, uint64_t samples, uint64_t bytes)
{
	struct committed *c = NULL;
	struct vhs_segment done = { .phase = VHS_SEG_DONE };

	for (size_t i = 0; i < p->n_done && !c; i++)
		if (p->done[i].index == begin->index)
			c = &p->done[i];
	if (!c) {
		struct committed *grown = vhs_grow(p->done, p->n_done, &p->cap_done, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		p->done = grown;
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

/* Commits the segment's file, forgets the segment and counts the file as committed. */
static int s_commit(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *s)
{
	struct vhs_segment begin = s->begin;
	uint64_t bytes = vhs_tempfile_size(s->tf);
	uint64_t frames = s->port == 0 ? s->frames : 0;
	uint64_t samples = s->port == 0 ? 0 : s->samples;
	int port = s->port;
	int ret = vhs_tempfile_commit(&s->tf);

	if (ret)
		return s_write_fail(ctx, p, port == 0 ? "the video" : "the audio", begin.index, -ret);
	s_forget(p, s);
	return s_committed(ctx, p, &begin, port, frames, samples, bytes);
}

/* ---- video ---- */

/* BEGIN on port 0: a fresh encoder and a segment file. */
static int s_video_begin(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *v)
{
	AVCodecParameters *par;
	char name[32];
	int ret;

	vhs_segment_file_name(name, sizeof(name), VHS_SEGMENT_VIDEO, v->begin.index);
	ret = vhs_tempfile_open(&v->tf, p->dir, name);
	if (ret)
		return s_write_fail(ctx, p, "the video", v->begin.index, -ret);
	ret = s_open_video(ctx, p, &v->enc);
	if (ret)
		return ret;
	par = avcodec_parameters_alloc();
	if (!par)
		return -ENOMEM;
	ret = avcodec_parameters_from_context(par, v->enc);
	ret = ret < 0 ? -ENOMEM : vhs_segfile_write_header(v->tf, par, v->enc->time_base);
	avcodec_parameters_free(&par);
	return ret ? s_write_fail(ctx, p, "the video", v->begin.index, -ret) : 0;
}

/* Where a segment's packets go (vhs_encode's opaque). */
struct video_sink {
	struct encode_priv *p;
	struct open_segment *v;
};

/* A video packet from the encoder into the segment file. */
static int s_video_packet(struct vhs_ctx *ctx, void *opaque, AVPacket *pkt)
{
	struct video_sink *to = opaque;
	int ret = vhs_segfile_write_packet(to->v->tf, pkt);

	return ret ? s_write_fail(ctx, to->p, "the video", to->v->begin.index, -ret) : 0;
}

/* Sends one frame (NULL: flush) to the segment's encoder and writes every packet. */
static int s_encode(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *v, AVFrame *f)
{
	struct video_sink to = { .p = p, .v = v };

	return vhs_encode(ctx, v->enc, f, p->pkt, s_video_packet, &to);
}

/* END on port 0: flush, finish the file, commit it. */
static int s_video_end(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *v,
		       const struct vhs_segment *end)
{
	int ret = s_check_count(ctx, end, v->frames, 0);

	if (!ret)
		ret = s_encode(ctx, p, v, NULL);
	return ret ? ret : s_commit(ctx, p, v);
}

/* A GPU edge into an NVENC encoder: CUDA frames of the input's size and format in the
 * primary context, and the runtime told to leave the edge's frames on the device. */
static int s_hw_init(struct vhs_ctx *ctx, struct encode_priv *p)
{
#ifdef VHS_HAVE_CUDA
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	AVHWFramesContext *fc;
	AVBufferRef *dev = NULL;
	const char *name = p->codec;
	size_t n = strlen(name);
	int ret;

	if (in->memory != VHS_MEMORY_CUDA || n < 6 || strcmp(name + n - 6, "_nvenc"))
		return 0;
	ret = av_hwdevice_ctx_create(&dev, AV_HWDEVICE_TYPE_CUDA, NULL, NULL, AV_CUDA_USE_PRIMARY_CONTEXT);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "%s: no CUDA device for its frames: %s", name, vhs_av_err(ret));
	p->hw_frames = av_hwframe_ctx_alloc(dev);
	av_buffer_unref(&dev);
	if (!p->hw_frames)
		return -ENOMEM;
	fc = (AVHWFramesContext *)p->hw_frames->data;
	fc->format = AV_PIX_FMT_CUDA;
	fc->sw_format = av_get_pix_fmt(in->fmt);
	fc->width = in->width;
	fc->height = in->height;
	ret = av_hwframe_ctx_init(p->hw_frames);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "%s: no CUDA frames of %s %dx%d: %s", name, in->fmt,
				in->width, in->height, vhs_av_err(ret));
	vhs_input_on_device(ctx, 0);
#endif
	return 0;
}

/* A GPU edge's frame copied on the device into a new CUDA frame (the slot goes back at
 * once); NULL after vhs_fail. */
static AVFrame *s_hw_frame(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_frame *d)
{
#ifdef VHS_HAVE_CUDA
	enum AVPixelFormat fmt = av_get_pix_fmt(d->fmt);
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(fmt);
	int planes = av_pix_fmt_count_planes(fmt), rows[4] = { 0 }, ret;
	AVFrame *f = av_frame_alloc();
	size_t row[4] = { 0 };

	ret = !desc || planes < 1 || planes > 4 ? AVERROR(EINVAL) : f ? av_hwframe_get_buffer(p->hw_frames, f, 0)
							      : AVERROR(ENOMEM);
	for (int i = 0; !ret && i < planes; i++) {
		row[i] = (size_t)av_image_get_linesize(fmt, d->width, i);
		rows[i] = i == 1 || i == 2 ? AV_CEIL_RSHIFT(d->height, desc->log2_chroma_h) : d->height;
	}
	if (!ret && vhs_devpool_copy_planes(vhs_input_pool(ctx, 0), d->slot, planes, d->offset, d->linesize,
					    f->data, f->linesize, row, rows)) {
		vhs_release(ctx, 0, d->slot);
		av_frame_free(&f);
		vhs_fail(ctx, VHS_ERR_INTERNAL, "GPU edge into the encoder: %s",
			 vhs_devpool_error(vhs_input_pool(ctx, 0)));
		return NULL;
	}
	vhs_release(ctx, 0, d->slot);
	if (ret) {
		av_frame_free(&f);
		vhs_fail(ctx, VHS_ERR_INTERNAL, "no CUDA frame for the encoder: %s", vhs_av_err(ret));
		return NULL;
	}
	vhs_video_props(f, d);
	f->format = AV_PIX_FMT_CUDA;
	return f;
#else
	vhs_release(ctx, 0, d->slot);
	vhs_fail(ctx, VHS_ERR_INTERNAL, "device frames in a build without CUDA");
	return NULL;
#endif
}

/* A video slot into its segment's encoder; the slot is given away (released when the
 * encoder is done with the frame, or at once when the segment is not open). */
static int s_video(struct vhs_ctx *ctx, const struct vhs_frame *d, uint8_t *data)
{
	struct encode_priv *p = vhs_priv(ctx);
	struct open_segment *v = s_find(p, 0, d->segment);
	AVFrame *f;
	int ret;

	if (!v) {
		vhs_release(ctx, 0, d->slot);
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "video frame of segment %u outside its segment",
				d->segment);
	}
	f = p->hw_frames ? s_hw_frame(ctx, p, d) : vhs_wrap_video(ctx, d, data);
	if (!f)
		return p->hw_frames ? -EIO : -ENOMEM;
	f->pict_type = AV_PICTURE_TYPE_NONE;
	f->sample_aspect_ratio = v->enc->sample_aspect_ratio;
	v->frames++;
	ret = s_encode(ctx, p, v, f);
	av_frame_free(&f);
	return ret;
}

/* ---- audio spool ---- */

static int s_audio_write(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *a,
			 const void *buf, size_t n)
{
	int ret = vhs_tempfile_write(a->tf, buf, n);

	return ret ? s_write_fail(ctx, p, "the audio", a->begin.index, -ret) : 0;
}

static int s_audio_header(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *a,
			  int64_t pts)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 1);
	struct vhs_spool_header h = { .pts = pts, .fmt = av_get_sample_fmt(in->fmt),
				      .rate = in->sample_rate, .channels = in->channels,
				      .layout = in->channel_layout };
	uint8_t raw[VHS_SPOOL_HEADER];

	vhs_spool_header_pack(&h, raw);
	a->header = true;
	return s_audio_write(ctx, p, a, raw, sizeof(raw));
}

static int s_audio_begin(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *a)
{
	char name[32];
	int ret;

	vhs_segment_file_name(name, sizeof(name), VHS_SEGMENT_AUDIO, a->begin.index);
	ret = vhs_tempfile_open(&a->tf, p->dir, name);
	return ret ? s_write_fail(ctx, p, "the audio", a->begin.index, -ret) : 0;
}

/* The samples of an audio slot in the spool's packed layout, in *out: the slot itself when
 * it is packed, else interleaved into the stage's buffer. Returns 0 or -ENOMEM. */
static int s_audio_packed(struct encode_priv *p, const struct vhs_audio *d, uint8_t *data,
			  size_t bytes, const uint8_t **out)
{
	enum AVSampleFormat fmt = av_get_sample_fmt(d->fmt);
	uint8_t *planes[VHS_MAX_CHANNELS];

	*out = data + d->offset[0];
	if (!av_sample_fmt_is_planar(fmt))
		return 0;
	if (bytes > p->abuf_cap) {
		uint8_t *n = realloc(p->abuf, bytes);

		if (!n)
			return -ENOMEM;
		p->abuf = n;
		p->abuf_cap = bytes;
	}
	for (int c = 0; c < d->channels; c++)
		planes[c] = data + d->offset[c];
	vhs_spool_interleave(p->abuf, planes, fmt, d->channels, d->nb_samples);
	*out = p->abuf;
	return 0;
}

/* An audio slot appended to its segment's spool; the slot is given away (released here). */
static int s_audio(struct vhs_ctx *ctx, const struct vhs_audio *d, uint8_t *data)
{
	struct encode_priv *p = vhs_priv(ctx);
	struct open_segment *a = s_find(p, 1, d->segment);
	size_t bytes = (size_t)d->nb_samples * (size_t)d->channels *
		       (size_t)av_get_bytes_per_sample(av_get_sample_fmt(d->fmt));
	const uint8_t *src;
	int ret;

	if (!a) {
		vhs_release(ctx, 1, d->slot);
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "audio of segment %u outside its segment",
				d->segment);
	}
	ret = s_audio_packed(p, d, data, bytes, &src);
	if (!ret && !a->header)
		ret = s_audio_header(ctx, p, a, d->pts);
	if (!ret)
		ret = s_audio_write(ctx, p, a, src, bytes);
	vhs_release(ctx, 1, d->slot);
	a->frames++;
	a->samples += (uint64_t)d->nb_samples;
	return ret;
}

/* END on port 1: the header if no audio came, then commit the spool. */
static int s_audio_end(struct vhs_ctx *ctx, struct encode_priv *p, struct open_segment *a,
		       const struct vhs_segment *end)
{
	int ret = s_check_count(ctx, end, a->frames, 1);

	if (!ret && !a->header)
		ret = s_audio_header(ctx, p, a, INT64_MIN);
	return ret ? ret : s_commit(ctx, p, a);
}

/* ---- the stage ---- */

static int s_segment_begin(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *seg)
{
	struct open_segment *s;
	int ret;

	if (s_find(p, seg->port, seg->index))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u begun twice on input %u", seg->index,
				seg->port);
	ret = s_remember(p, seg, &s);
	if (ret)
		return ret;
	return seg->port == 0 ? s_video_begin(ctx, p, s) : s_audio_begin(ctx, p, s);
}

static int s_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg)
{
	struct encode_priv *p = vhs_priv(ctx);
	struct open_segment *s;

	if (seg->port >= p->n_ports)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u marker on input %u of %d", seg->index,
				seg->port, p->n_ports);
	if (seg->phase == VHS_SEG_BEGIN)
		return s_segment_begin(ctx, p, seg);
	s = s_find(p, seg->port, seg->index);
	if (!s)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "END of segment %u on input %u without its BEGIN",
				seg->index, seg->port);
	return seg->port == 0 ? s_video_end(ctx, p, s, seg) : s_audio_end(ctx, p, s, seg);
}

static int s_eos(struct vhs_ctx *ctx, int port)
{
	struct encode_priv *p = vhs_priv(ctx);

	for (size_t i = 0; i < p->n_open; i++)
		if (p->open[i]->port == port)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "input %d ended inside segment %u", port,
					p->open[i]->begin.index);
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
	if (!p->dir[0])
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no work dir (segment.dir) in the settings");
	if (vhs_setting(ctx, VHS_SET_OUTPUT, output, sizeof(output)) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no output in the job");
	of = av_guess_format(NULL, output, NULL);
	if (!of)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "'%s': unsupported output format (use .mkv or .mp4)", output);
	p->global_header = of->flags & AVFMT_GLOBALHEADER;
	/* Open the encoders once now, so a bad codec setting fails before any frame flows. */
	ret = s_hw_init(ctx, p);
	if (!ret)
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

	while (p->n_open)
		s_forget(p, p->open[0]);
	free(p->open);
	free(p->done);
	free(p->abuf);
	av_packet_free(&p->pkt);
	av_buffer_unref(&p->hw_frames);
}

static const struct vhs_stage_option s_options[] = {
	VHS_OPTION(struct encode_priv, SEGMENT_DIR, STRING, dir),
	VHS_OPTION(struct encode_priv, ENCODE_CODEC, STRING, codec),
};

const struct vhs_stage vhs_stage_encode = {
	.name = "encode",
	.priv_size = sizeof(struct encode_priv),
	VHS_OPTIONS(s_options),
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
