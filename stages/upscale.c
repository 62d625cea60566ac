/* upscale.c: the upscale stage.
 *
 * DESIGN
 * Two engines behind one stage:
 *   - libswscale (FFmpeg builds): `model = "lanczos"` or "bicubic" on the CPU resamples to
 *     `[upscale] width x height` and converts to `[encode] pix_fmt` in one pass, exactly as
 *     `scale=W:H:flags=lanczos,format=PIX_FMT` does (it is that graph, filter.c): the
 *     project's FFmpeg-equivalence oracle.
 *   - the upscaler (upscaler.h, FFmpeg-free): the ESRGAN models on the CPU or a GPU, and
 *     lanczos on a GPU. Frames are planar pictures read straight from the input slot and
 *     written straight into the output slot; a GPU keeps several in flight, so the stage
 *     holds their input and output slots in a FIFO until each is done, and empties the
 *     FIFO before any segment marker or end of input goes on (order is kept).
 * `backend = "auto"` takes the GPU when there is one; without one, lanczos and bicubic
 * use libswscale and the models run on the CPU with a warning about speed.
 *
 * GPU edge: when the upscaler runs on CUDA and `[run] gpu_edges` is "auto", the output
 * edge is declared in device memory (proto.h: memory = CUDA) and each frame is written
 * into the slot's device buffer on the GPU (shm/devpool.h), never coming down here; the
 * encode stage downloads it once. With "off", frames come down into host slots.
 *
 * Input formats the upscaler has no name for (packed RGB, NV12, ...) are repacked first
 * into their planar equivalent by libswscale (lossless); builds without FFmpeg
 * (make FFMPEG=0: the GPU machines) take planar formats only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_upscaler.h"
#include "runtime.h"
#include "upscaler.h"

#ifndef VHS_NO_FFMPEG
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "filter.h"
#endif

/* Bytes after the last plane of an output slot, so SIMD readers may over-read
 * (AV_INPUT_BUFFER_PADDING_SIZE, which this file cannot name without FFmpeg). */
#define SLOT_PADDING 64

/* A frame in the upscaler: its input slot, its output slot and descriptor. */
struct pending {
	uint32_t in_slot;
	struct vhs_frame out;
	uint8_t *repacked;            /* the planar copy of a packed input, or NULL */
};

/* What the stage is told to do: its option table, below, fills these before init. */
struct settings {
	char backend[16], model[32], pix_fmt[32], precision[16], gpu_edges[8];
	int width, height, scale, threads;
};

struct upscale {
#ifndef VHS_NO_FFMPEG
	struct vhs_filter_stage filter; /* the libswscale engine (first member: filter.h) */
	struct SwsContext *repack;      /* packed input -> its planar equivalent */
	int repack_fmt;                 /* that equivalent (AVPixelFormat) */
#endif
	struct settings set;            /* the options (s_options) */
	int swscale;                    /* frames go to the libswscale engine */
	struct vhs_upscaler *up;
	const struct vhs_pixfmt *in_fmt;  /* what the upscaler reads (after any repack) */
	struct vhs_stream_fmt fmt;      /* the output edge */
	uint32_t offset[4];             /* output slot layout */
	int32_t linesize[4];
	size_t repack_bytes;            /* size of one repacked input, 0 when no repack */
	int pinned;                     /* the input ring's pinning was tried (uploaded once) */
	struct pending *fifo;           /* [capacity]: frames submitted, oldest at head */
	int capacity, head, n;
	uint64_t submitted, collected;  /* tags: the FIFO's sequence numbers */
	uint64_t gpu_ns;                /* the upscaler's GPU time already counted (vhs_count_gpu) */
};

static int s_is_model(const struct settings *s)
{
	return strcmp(s->model, "lanczos") && strcmp(s->model, "bicubic");
}

/* ---- the libswscale engine (FFmpeg builds) ---- */

#ifndef VHS_NO_FFMPEG
static int s_swscale_init(struct vhs_ctx *ctx, const struct settings *s)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	char chain[256];

	snprintf(chain, sizeof(chain), "scale=%d:%d:flags=%s,format=%s",
		 s->width > 0 ? s->width : (int)in->width, s->height > 0 ? s->height : (int)in->height,
		 s->model, s->pix_fmt);
	((struct upscale *)vhs_priv(ctx))->swscale = 1;
	return vhs_filter_stage_init(ctx, chain);
}

/* The planar format a packed one becomes: gbrp for RGB, the same subsampling for YUV,
 * deeper samples kept (16-bit planes). NULL when there is none. */
static const struct vhs_pixfmt *s_planar_equivalent(enum AVPixelFormat fmt, int *av_fmt)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
	char name[32];
	int deep;

	if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM)))
		return NULL;
	deep = d->comp[0].depth > 8;
	if (d->flags & AV_PIX_FMT_FLAG_RGB)
		snprintf(name, sizeof(name), deep ? "gbrp16le" : "gbrp");
	else if (d->nb_components < 3)
		snprintf(name, sizeof(name), deep ? "gray16le" : "gray");
	else
		snprintf(name, sizeof(name), "yuv4%s%sp%s",
			 d->log2_chroma_w == 0 ? "44" : d->log2_chroma_w == 2 ? "11" : "2",
			 d->log2_chroma_w == 1 && d->log2_chroma_h == 0 ? "2" :
			 d->log2_chroma_w == 1 ? "0" : "",
			 deep ? "16le" : "");
	*av_fmt = av_get_pix_fmt(name);
	return *av_fmt == AV_PIX_FMT_NONE ? NULL : vhs_pixfmt_find(name);
}

static int s_repack_init(struct vhs_ctx *ctx, struct upscale *u, const struct vhs_stream_fmt *in)
{
	enum AVPixelFormat src = av_get_pix_fmt(in->fmt);
	uint32_t off[4];
	int32_t ls[4];

	u->in_fmt = s_planar_equivalent(src, &u->repack_fmt);
	if (!u->in_fmt)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "the upscaler cannot read pixel format %s", in->fmt);
	u->repack = sws_getContext(in->width, in->height, src, in->width, in->height, u->repack_fmt,
				   SWS_POINT | SWS_ACCURATE_RND | SWS_BITEXACT, NULL, NULL, NULL);
	if (!u->repack)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no conversion from %s to %s", in->fmt, u->in_fmt->name);
	u->repack_bytes = vhs_pixfmt_layout(u->in_fmt, in->width, in->height, off, ls) + SLOT_PADDING;
	return 0;
}

/* Repacks the input slot into p->repacked (planar) and points pic at it. */
static void s_repack(struct upscale *u, const struct vhs_frame *f, const uint8_t *data,
		     struct pending *p, struct vhs_picture *pic)
{
	const uint8_t *src[4] = { 0 };
	int src_ls[4] = { 0 };
	uint32_t off[4];
	int32_t ls[4];

	for (int i = 0; i < 4; i++) {
		src[i] = f->linesize[i] ? data + f->offset[i] : NULL;
		src_ls[i] = f->linesize[i];
	}
	vhs_pixfmt_layout(u->in_fmt, f->width, f->height, off, ls);
	for (int i = 0; i < 4; i++) {
		pic->data[i] = ls[i] ? p->repacked + off[i] : NULL;
		pic->linesize[i] = ls[i];
	}
	sws_scale(u->repack, src, src_ls, 0, f->height, pic->data, pic->linesize);
}
#endif

/* ---- the upscaler engine ---- */

/* The output edge: the input's timing, the upscaler's size, format and colour; the sample
 * aspect ratio scaled so the picture keeps its shape (as libswscale's scale filter does). */
static void s_output_format(struct upscale *u, const struct vhs_stream_fmt *in)
{
	const struct vhs_colorimetry *c = vhs_upscaler_out_color(u->up);
	int w, h;

	vhs_upscaler_out_size(u->up, &w, &h);
	u->fmt = *in;
	snprintf(u->fmt.fmt, sizeof(u->fmt.fmt), "%s", vhs_upscaler_out_fmt(u->up)->name);
	u->fmt.width = w;
	u->fmt.height = h;
	vhs_upscaler_out_sar(u->up, in->sar_num, in->sar_den, &u->fmt.sar_num, &u->fmt.sar_den);
	u->fmt.color_range = c->range;
	u->fmt.colorspace = c->matrix;
	u->fmt.color_primaries = c->primaries;
	u->fmt.color_trc = c->transfer;
	u->fmt.chroma_location = c->chroma_location;
	u->fmt.slot_size = (uint32_t)(vhs_pixfmt_layout(vhs_upscaler_out_fmt(u->up), w, h, u->offset,
							u->linesize) + SLOT_PADDING);
}

static int s_upscaler_init(struct vhs_ctx *ctx, const struct settings *s)
{
	struct upscale *u = vhs_priv(ctx);
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	struct vhs_colorimetry color = { in->color_range, in->colorspace, in->color_primaries,
					 in->color_trc, in->chroma_location };
	struct vhs_upscaler_config cfg = {
		.model = s->model, .scale = (int)s->scale, .backend = s->backend,
		.out_w = (int)s->width, .out_h = (int)s->height, .out_fmt = s->pix_fmt,
		.threads = (int)s->threads, .fp32 = !strcmp(s->precision, "fp32"),
	};
	char err[512], warn[512];
	int ret;

	u->in_fmt = vhs_pixfmt_find(in->fmt);
#ifndef VHS_NO_FFMPEG
	if (!u->in_fmt && (ret = s_repack_init(ctx, u, in)))
		return ret;
#endif
	if (!u->in_fmt)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "the upscaler reads planar formats only, not %s", in->fmt);
	ret = vhs_upscaler_open(&u->up, &cfg, u->in_fmt, in->width, in->height, &color, err,
				sizeof(err), warn, sizeof(warn));
	if (ret)
		return vhs_fail(ctx, ret == -ENOMEM ? VHS_ERR_INTERNAL : VHS_ERR_CONFIG, "%s", err);
	if (warn[0])
		vhs_warn(ctx, "%s", warn);
	u->capacity = vhs_upscaler_capacity(u->up);
	u->fifo = calloc((size_t)u->capacity, sizeof(*u->fifo));
	if (!u->fifo)
		return -ENOMEM;
	for (int i = 0; u->repack_bytes && i < u->capacity; i++)
		if (!(u->fifo[i].repacked = malloc(u->repack_bytes)))
			return -ENOMEM;
	s_output_format(u, in);
	if (vhs_upscaler_on_device(u->up) && !strcmp(s->gpu_edges, "auto")) {
		if (vhs_devpool_can_export(err, sizeof(err)))
			u->fmt.memory = VHS_MEMORY_CUDA;
		else
			vhs_warn(ctx, "frames come down to host memory: %s", err);
	}
	vhs_set_outputs(ctx, 1, &u->fmt);
	return 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	const struct settings *s = &((struct upscale *)vhs_priv(ctx))->set;

	if (!strcmp(s->model, "bicubic") && strcmp(s->backend, "cpu") && strcmp(s->backend, "auto"))
		return vhs_fail(ctx, VHS_ERR_CONFIG, "model \"bicubic\" runs on the CPU only; use \"lanczos\" with backend \"%s\"",
				s->backend);
#ifndef VHS_NO_FFMPEG
	if (!s_is_model(s)) {
		char why[256];

		if (!strcmp(s->backend, "cpu") || !strcmp(s->model, "bicubic") ||
		    (!strcmp(s->backend, "auto") && !vhs_cuda_probe(why, sizeof(why))))
			return s_swscale_init(ctx, s);
	}
#else
	if (!s_is_model(s) && strcmp(s->backend, "cuda"))
		return vhs_fail(ctx, VHS_ERR_CONFIG, "model \"%s\" on the CPU is libswscale, which this build (FFMPEG=0) lacks",
				s->model);
#endif
	return s_upscaler_init(ctx, s);
}

/* Sends the oldest frame in the FIFO on (its input slot goes back). */
static int s_emit(struct vhs_ctx *ctx, struct upscale *u, uint64_t tag)
{
	struct pending *p = &u->fifo[u->head];

	if (tag != u->collected)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "upscaler returned frame %llu, expected %llu",
				(unsigned long long)tag, (unsigned long long)u->collected);
	u->collected++;
	u->head = (u->head + 1) % u->capacity;
	u->n--;
	vhs_release(ctx, 0, p->in_slot);
	if (vhs_upscaler_on_device(u->up) && u->fmt.memory != VHS_MEMORY_CUDA)
		vhs_count_copy(ctx, p->out.bytes); /* the GPU's frame, from staging into the slot */
	return vhs_send_video(ctx, &p->out);
}

/* On a GPU, frames go up straight from the input ring's slots (page-locked once here),
 * the edge's one copy; input slots are held until their frame is collected anyway. If
 * the pinning fails, frames go through the upscaler's staging buffers: slower, same bits. */
static void s_pin_input(struct vhs_ctx *ctx, struct upscale *u)
{
	void *base;
	size_t bytes;

	if (vhs_upscaler_on_device(u->up) && !vhs_input_memory(ctx, 0, &base, &bytes) &&
	    vhs_upscaler_register_input(u->up, base, bytes))
		vhs_warn(ctx, "input ring not page-locked (%s); staging copies instead",
			 vhs_upscaler_error(u->up));
}

/* The GPU time of the frames finished since the last call goes into the stage's STATS. */
static void s_count_gpu(struct vhs_ctx *ctx, struct upscale *u)
{
	uint64_t ns = vhs_upscaler_gpu_ns(u->up);

	if (ns > u->gpu_ns)
		vhs_count_gpu(ctx, ns - u->gpu_ns);
	u->gpu_ns = ns;
}

/* Collects done frames: all of them (wait) or those already done. */
static int s_drain(struct vhs_ctx *ctx, struct upscale *u, int wait)
{
	uint64_t tag;
	int ret;

	while (u->n) {
		ret = vhs_upscaler_collect(u->up, &tag, wait);
		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s", vhs_upscaler_error(u->up));
		if (!ret)
			return 0;
		s_count_gpu(ctx, u);
		ret = s_emit(ctx, u, tag);
		if (ret)
			return ret;
	}
	return 0;
}

static int s_video(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data)
{
	struct upscale *u = vhs_priv(ctx);
	struct vhs_picture in = { .fmt = u->in_fmt, .width = f->width, .height = f->height };
	struct vhs_picture out = { 0 };
	struct vhs_devbuf dev;
	struct pending *p;
	uint8_t *slot;
	int ret;

#ifndef VHS_NO_FFMPEG
	if (u->swscale)
		return vhs_filter_stage_video(ctx, f, data);
#endif
	if (!u->pinned) {
		u->pinned = 1;
		s_pin_input(ctx, u);
	}
	if (u->n == u->capacity && (ret = s_drain(ctx, u, 1)))
		return ret;
	p = &u->fifo[(u->head + u->n) % u->capacity];
	ret = vhs_output_slot(ctx, 0, &p->out.slot, &slot);
	if (ret)
		return ret;
	p->in_slot = f->slot;
	p->out = (struct vhs_frame){ .port = 0, .slot = p->out.slot, .segment = f->segment,
				     .pts = f->pts, .duration = f->duration, .tb_num = f->tb_num,
				     .tb_den = f->tb_den, .width = u->fmt.width, .height = u->fmt.height,
				     .sar_num = u->fmt.sar_num, .sar_den = u->fmt.sar_den,
				     .color_range = u->fmt.color_range, .colorspace = u->fmt.colorspace,
				     .color_primaries = u->fmt.color_primaries, .color_trc = u->fmt.color_trc,
				     .chroma_location = u->fmt.chroma_location,
				     .flags = f->flags,
				     .bytes = u->fmt.slot_size };
	snprintf(p->out.fmt, sizeof(p->out.fmt), "%s", u->fmt.fmt);
	out.fmt = vhs_upscaler_out_fmt(u->up);
	vhs_upscaler_out_size(u->up, &out.width, &out.height);
	if (u->fmt.memory == VHS_MEMORY_CUDA && (ret = vhs_output_device(ctx, 0, p->out.slot, &dev)))
		return ret;
	if (u->fmt.memory == VHS_MEMORY_CUDA)
		slot = dev.ptr; /* a device address: only the GPU writes there */
	for (int i = 0; i < 4; i++) {
		in.data[i] = f->linesize[i] ? data + f->offset[i] : NULL;
		in.linesize[i] = f->linesize[i];
		p->out.offset[i] = u->offset[i];
		p->out.linesize[i] = u->linesize[i];
		out.data[i] = u->linesize[i] ? slot + u->offset[i] : NULL;
		out.linesize[i] = u->linesize[i];
	}
#ifndef VHS_NO_FFMPEG
	if (p->repacked)
		s_repack(u, f, data, p, &in);
#endif
	if (u->fmt.memory == VHS_MEMORY_CUDA)
		ret = vhs_upscaler_submit_device(u->up, &in, &out, dev.drained, dev.filled, u->submitted);
	else
		ret = vhs_upscaler_submit(u->up, &in, &out, u->submitted);
	if (ret)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s", vhs_upscaler_error(u->up));
	u->submitted++;
	u->n++;
	return s_drain(ctx, u, 0);
}

/* Every frame before a marker goes out before it. */
static int s_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg)
{
	struct upscale *u = vhs_priv(ctx);
	struct vhs_segment out = *seg;
	int ret;

#ifndef VHS_NO_FFMPEG
	if (u->swscale)
		return vhs_filter_stage_segment(ctx, seg);
#endif
	ret = s_drain(ctx, u, 1);
	out.port = 0;
	return ret ? ret : vhs_send_segment(ctx, &out);
}

static int s_eos(struct vhs_ctx *ctx, int port)
{
	struct upscale *u = vhs_priv(ctx);

#ifndef VHS_NO_FFMPEG
	if (u->swscale)
		return vhs_filter_stage_eos(ctx, port);
#endif
	return s_drain(ctx, u, 1);
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct upscale *u = vhs_priv(ctx);

#ifndef VHS_NO_FFMPEG
	if (u->swscale)
		vhs_filter_stage_uninit(ctx);
	sws_freeContext(u->repack);
#endif
	vhs_upscaler_close(&u->up);
	for (int i = 0; u->fifo && i < u->capacity; i++)
		free(u->fifo[i].repacked);
	free(u->fifo);
}

static const struct vhs_stage_option s_options[] = {
	VHS_OPTION(struct upscale, UPSCALE_BACKEND, STRING, set.backend),
	VHS_OPTION(struct upscale, UPSCALE_MODEL, STRING, set.model),
	VHS_OPTION(struct upscale, ENCODE_PIX_FMT, STRING, set.pix_fmt),
	VHS_OPTION(struct upscale, UPSCALE_PRECISION, STRING, set.precision),
	VHS_OPTION(struct upscale, RUN_GPU_EDGES, STRING, set.gpu_edges),
	VHS_OPTION(struct upscale, UPSCALE_WIDTH, INT, set.width),
	VHS_OPTION(struct upscale, UPSCALE_HEIGHT, INT, set.height),
	VHS_OPTION(struct upscale, UPSCALE_SCALE, INT, set.scale),
	VHS_OPTION(struct upscale, WORKER_THREADS, INT, set.threads),
};

const struct vhs_stage vhs_stage_upscale = {
	.name = "upscale",
	.priv_size = sizeof(struct upscale),
	VHS_OPTIONS(s_options),
	.init = s_init,
	.video = s_video,
	.segment = s_segment,
	.eos = s_eos,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_upscale, argc, argv);
}
