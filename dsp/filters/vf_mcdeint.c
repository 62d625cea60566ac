/* vf_mcdeint.c: vhs_mcdeint, the motion-compensated deinterlacer (dsp/video/mcdeint.h) as a
 * filter of the chain: one progressive frame per field, as bwdif's send_field makes.
 *
 * Options: preset: fast, medium (default) or slow; parity: tff, bff, or auto (each frame's
 * own flag; top first where a frame says nothing); sharpen: resharpening of the made lines,
 * 16ths (0, the default: none); device: cpu (the default, until the GPU path has run on a
 * GPU: issue 23), cuda (refused at init when there is no GPU) or auto (the GPU when a CUDA
 * device is usable, else the CPU). The GPU's frames
 * are the CPU's, bit for bit (tests/gpu/test_cuda_mcdeint.c), so the choice changes speed
 * alone; on the GPU the fields go up and the frames come down (the next filters are the CPU's).
 *
 * Timing, as bwdif's: the output time base is half the input's; frame n at pts P gives its
 * first field at 2P and its second at 2P + D, D being one input frame at the stream's rate
 * (in the output time base: one frame's duration in the input's), so the fields sit on the
 * tape's own grid wherever a segment begins. Each output frame takes its properties (colour,
 * aspect) from the input frame it came from, and is progressive.
 *
 * Reach: a field's frame needs the two fields either side (dsp/video/mcdeint.h): one input
 * frame before and one after. 8-bit planar YUV or gray: init says how to get there.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/mathematics.h>

#include "avpicture.h"
#include "cuda_mcdeint.h"
#include "mcdeint.h"
#include "native.h"

#define PENDING 8                 /* fields pushed and not yet out: the core holds three */

static const char *const s_presets[] = { "fast", "medium", "slow", NULL };
static const char *const s_parities[] = { "tff", "bff", "auto", NULL };
static const char *const s_devices[] = { "cpu", "cuda", "auto", NULL };

struct mcdeint {
	int preset, parity, sharpen, device;
	struct vhs_mcdeint *d;    /* on the CPU, or */
	struct vhs_cuda_mcdeint *gpu; /* on the GPU: the same frames */
	const struct vhs_pixfmt *fmt;
	int width, height;
	int64_t frame;            /* one input frame's duration, in the input time base */
	AVRational out_tb;
	struct {                  /* the fields in the core, oldest first */
		AVFrame *from;    /* the input frame it came in (a reference, for its properties) */
		int64_t pts;      /* its output pts */
	} pending[PENDING];
	int n_pending;
	AVFrame *spare;           /* an output frame made and not yet used */
};

static const struct vhs_native_option s_options[] = {
	VHS_NATIVE_NAMED(struct mcdeint, preset, 1, s_presets, 3, "fast, medium or slow"),
	VHS_NATIVE_NAMED(struct mcdeint, parity, 2, s_parities, 3, "field order: tff, bff or auto (the frames')"),
	VHS_NATIVE_OPT(struct mcdeint, sharpen, INT, 0, 0, 16, "resharpening of the made lines, 16ths (0: none)"),
	VHS_NATIVE_NAMED(struct mcdeint, device, 0, s_devices, 3,
			 "cpu, cuda or auto (the GPU when there is one): the same frames on either"),
	{ NULL },
};

static int s_init(void *priv, const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads,
		  char *err, size_t errlen)
{
	struct mcdeint *m = priv;
	struct vhs_mcdeint_params p;
	int ret;

	m->fmt = vhs_pixfmt_find(in->fmt);
	if (!m->fmt || m->fmt->bytes != 1 || m->fmt->rgb) {
		snprintf(err, errlen, "vhs_mcdeint takes 8-bit planar YUV or gray, not %s (put format=yuv422p "
			 "before it, or deinterlace with bwdif)", in->fmt);
		return -EINVAL;
	}
	if (in->fr_num <= 0 || in->fr_den <= 0) {
		snprintf(err, errlen, "vhs_mcdeint needs a constant frame rate (put fps=30000/1001 before it)");
		return -EINVAL;
	}
	vhs_mcdeint_preset(s_presets[m->preset], &p);
	/* the two neighbouring fields' motion at once (the same frames): two threads pay, and
	 * more have nothing to do (bench/RESULTS.md, bench-threads) */
	p.threads = threads == 1 ? 1 : 2;
	p.sharpen = m->sharpen;
	if (m->device != 0) { /* cuda or auto: the GPU's frames are the CPU's, so auto may take it */
		char why[256];

		ret = vhs_cuda_mcdeint_open(&m->gpu, &p, m->fmt, in->width, in->height, why, sizeof(why));
		if (ret && m->device == 1) {
			snprintf(err, errlen, "vhs_mcdeint: device=cuda: %s ([video] mc_device = \"auto\" or \"cpu\" "
				 "deinterlaces on the CPU, with the same frames)", why);
			return ret == -ENOMEM ? ret : -EINVAL;
		}
	}
	ret = m->gpu ? 0 : vhs_mcdeint_open(&m->d, &p, m->fmt, in->width, in->height);
	if (ret) {
		snprintf(err, errlen, ret == -EINVAL ? "vhs_mcdeint: a %dx%d picture is too small" : "vhs_mcdeint: out of memory",
			 in->width, in->height);
		return ret;
	}
	m->width = in->width;
	m->height = in->height;
	m->frame = av_rescale_q(1, (AVRational){ in->fr_den, in->fr_num }, (AVRational){ in->tb_num, in->tb_den });
	av_reduce(&out->tb_num, &out->tb_den, in->tb_num, 2 * (int64_t)in->tb_den, INT32_MAX);
	av_reduce(&out->fr_num, &out->fr_den, 2 * (int64_t)in->fr_num, in->fr_den, INT32_MAX);
	m->out_tb = (AVRational){ out->tb_num, out->tb_den };
	out->field_order = 1; /* AV_FIELD_PROGRESSIVE */
	return 0;
}

/* Every frame the core has ready, out with its pts and its input frame's properties (the
 * frame to make one in is kept for next time when none is ready). */
static int s_drain(struct mcdeint *m, struct vhs_native_out *out)
{
	while (m->n_pending) {
		struct vhs_picture pic;
		int ret = 0;

		if (!m->spare) {
			if (!(m->spare = av_frame_alloc()))
				return -ENOMEM;
			m->spare->format = m->pending[0].from->format;
			m->spare->width = m->width;
			m->spare->height = m->height;
			ret = av_frame_get_buffer(m->spare, 0) < 0 ? -ENOMEM : 0;
		}
		if (!ret)
			ret = vhs_av_picture(m->spare, &pic) ? -EINVAL
			      : m->gpu ? vhs_cuda_mcdeint_pull(m->gpu, &pic) : vhs_mcdeint_pull(m->d, &pic);
		if (ret <= 0)
			return ret;
		av_frame_copy_props(m->spare, m->pending[0].from);
		m->spare->pts = m->pending[0].pts;
		m->spare->pkt_duration = m->frame;
		m->spare->time_base = m->out_tb;
		m->spare->interlaced_frame = 0;
		m->spare->top_field_first = 0;
		av_frame_free(&m->pending[0].from);
		memmove(&m->pending[0], &m->pending[1], (size_t)(--m->n_pending) * sizeof(m->pending[0]));
		ret = vhs_native_emit(out, m->spare);
		av_frame_free(&m->spare);
		if (ret)
			return ret;
	}
	return 0;
}

/* One field of in into the core, remembered with its output pts. */
static int s_field(struct mcdeint *m, AVFrame *in, int parity, int64_t pts, struct vhs_native_out *out)
{
	struct vhs_picture pic;
	int ret;

	if (m->n_pending == PENDING)
		return -ENOMEM; /* the core keeps three: it cannot happen */
	if (vhs_av_picture(in, &pic))
		return -EINVAL;
	if ((ret = m->gpu ? vhs_cuda_mcdeint_push(m->gpu, &pic, parity) : vhs_mcdeint_push(m->d, &pic, parity)))
		return ret;
	m->pending[m->n_pending].from = av_frame_clone(in);
	m->pending[m->n_pending++].pts = pts;
	if (!m->pending[m->n_pending - 1].from)
		return -ENOMEM;
	return s_drain(m, out);
}

static int s_filter(void *priv, AVFrame *in, struct vhs_native_out *out)
{
	struct mcdeint *m = priv;
	int first, ret;
	int64_t pts;

	if (!in)
		return (ret = m->gpu ? vhs_cuda_mcdeint_end(m->gpu) : vhs_mcdeint_end(m->d)) ? ret : s_drain(m, out);
	first = m->parity == 2 ? (in->interlaced_frame && !in->top_field_first) : m->parity;
	pts = in->pts == AV_NOPTS_VALUE ? 0 : 2 * in->pts;
	ret = s_field(m, in, first, pts, out);
	if (!ret)
		ret = s_field(m, in, !first, pts + m->frame, out);
	av_frame_free(&in);
	return ret;
}

static void s_uninit(void *priv)
{
	struct mcdeint *m = priv;

	vhs_mcdeint_close(&m->d);
	vhs_cuda_mcdeint_close(&m->gpu);
	for (int i = 0; i < m->n_pending; i++)
		av_frame_free(&m->pending[i].from);
	av_frame_free(&m->spare);
}

const struct vhs_native_filter vhs_native_mcdeint = {
	.name = "vhs_mcdeint",
	.description = "motion-compensated deinterlacer: one frame per field",
	.options = s_options,
	.priv_size = sizeof(struct mcdeint),
	.reach_before = 1,
	.reach_after = 1,
	.init = s_init,
	.filter = s_filter,
	.uninit = s_uninit,
};
