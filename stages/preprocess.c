/* preprocess.c: the preprocess stage: `[video] filters` (deinterlace, denoise, colour,
 * crop, masking) as one libavfilter graph, exactly as `ffmpeg -vf` would run it. */
#include <errno.h>
#include <stdio.h>

#include "filter.h"

static int s_init(struct vhs_ctx *ctx)
{
	static char chain[VHS_CHAIN_MAX];
	int ret = vhs_setting(ctx, VHS_SET_VIDEO_FILTERS, chain, sizeof(chain));

	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "[video] filters is longer than %d bytes", VHS_CHAIN_MAX - 1);
	if (ret < 0)
		chain[0] = '\0';
	return vhs_filter_stage_init(ctx, chain);
}

const struct vhs_stage vhs_stage_preprocess = {
	.name = "preprocess",
	.priv_size = sizeof(struct vhs_filter_stage),
	.init = s_init,
	.video = vhs_filter_stage_video,
	.segment = vhs_filter_stage_segment,
	.eos = vhs_filter_stage_eos,
	.uninit = vhs_filter_stage_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_preprocess, argc, argv);
}
