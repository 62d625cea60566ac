/* vf_chroma.c: vhs_chroma, the chroma shift repair: moves the chroma planes back onto the luma
 * by a sub-pixel offset (dsp/video/subpixel.h), the offset the video analysis measured
 * (dsp/video/measure.h) or the one [video] chroma_shift gives.
 *
 * Options: dx, dy: how far the chroma sits right of (below) the luma, in luma pixels; the
 * filter moves it back by that much. Each chroma plane moves by dx and dy scaled to its own
 * sampling (a 4:1:1 plane moves dx / 4 of its samples across). Planar YUV, 8 to 16 bits; the
 * luma is passed through untouched. Spatial: no reach.
 */
#include <errno.h>
#include <stdio.h>

#include "native.h"
#include "subpixel.h"

struct chroma {
	double dx, dy;            /* luma pixels: where the chroma sits against the luma */
};

static const struct vhs_native_option s_options[] = {
	VHS_NATIVE_OPT(struct chroma, dx, DOUBLE, 0, -16, 16, "chroma right of the luma, in luma pixels"),
	VHS_NATIVE_OPT(struct chroma, dy, DOUBLE, 0, -16, 16, "chroma below the luma, in luma lines"),
	{ NULL },
};

static int s_init(void *priv, const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads,
		  char *err, size_t errlen)
{
	(void)priv;
	(void)out;
	return vhs_native_need_yuv("vhs_chroma", in, 0, err, errlen);
}

static int s_filter(void *priv, AVFrame *in, struct vhs_native_out *out)
{
	const struct chroma *c = priv;
	struct vhs_picture src, dst;
	AVFrame *f = NULL;
	int ret = in ? vhs_native_copy(in, &f, &src, &dst) : 0;

	for (int p = 1; p < 3 && f && !ret; p++)
		ret = vhs_subpixel_plane(&src, &dst, p, c->dx / (1 << src.fmt->log2_cw),
					 c->dy / (1 << src.fmt->log2_ch));
	if (f && !ret)
		ret = vhs_native_emit(out, f);
	av_frame_free(&f);
	av_frame_free(&in);
	return ret;
}

const struct vhs_native_filter vhs_native_chroma = {
	.name = "vhs_chroma",
	.description = "moves the chroma back onto the luma by a sub-pixel offset",
	.options = s_options,
	.priv_size = sizeof(struct chroma),
	.reach_before = 0,
	.reach_after = 0,
	.init = s_init,
	.filter = s_filter,
};
