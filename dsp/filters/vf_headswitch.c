/* vf_headswitch.c: vhs_headswitch, the head-switching band repair (dsp/video/headswitch.h):
 * the bottom `lines` lines of each frame moved back by their own measured pull, the lines
 * with no picture left masked black.
 *
 * Options: lines: the band's height in lines (the video analysis measures it; up to
 * VHS_HS_SEARCH). Planar YUV, 8 to 16 bits. Spatial: each frame on its own.
 */
#include <errno.h>
#include <stdio.h>

#include "headswitch.h"
#include "native.h"

struct headswitch {
	int lines;                /* the band's height */
};

static const struct vhs_native_option s_options[] = {
	VHS_NATIVE_OPT(struct headswitch, lines, INT, 12, 1, VHS_HS_SEARCH, "the band's height in lines"),
	{ NULL },
};

static int s_init(void *priv, const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads,
		  char *err, size_t errlen)
{
	(void)priv;
	(void)out;
	if (in->width < 160 || in->height < 2 * (VHS_HS_SEARCH + VHS_HS_REF)) {
		snprintf(err, errlen, "vhs_headswitch needs a picture of 160x%d or more, not %dx%d",
			 2 * (VHS_HS_SEARCH + VHS_HS_REF), in->width, in->height);
		return -EINVAL;
	}
	return vhs_native_need_yuv("vhs_headswitch", in, 1, err, errlen);
}

static int s_filter(void *priv, AVFrame *in, struct vhs_native_out *out)
{
	const struct headswitch *hs = priv;
	struct vhs_picture pic;
	AVFrame *f = NULL;
	int ret = in ? vhs_native_copy(in, &f, NULL, &pic) : 0;

	if (f && !ret)
		ret = vhs_hs_repair(&pic, hs->lines);
	if (f && ret >= 0)
		ret = vhs_native_emit(out, f);
	av_frame_free(&f);
	av_frame_free(&in);
	return ret < 0 ? ret : 0;
}

const struct vhs_native_filter vhs_native_headswitch = {
	.name = "vhs_headswitch",
	.description = "moves the torn lines of the head-switching band back, masks the lost ones",
	.options = s_options,
	.priv_size = sizeof(struct headswitch),
	.reach_before = 0,
	.reach_after = 0,
	.init = s_init,
	.filter = s_filter,
};
