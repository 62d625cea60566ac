/* preprocess.c: the preprocess stage: `[video] filters` as the orchestrator resolved it
 * (repairs, deinterlace, denoise, colour, crop, masking), libavfilter's filters exactly as
 * `ffmpeg -vf` would run them and the project's own between them; on a tape whose scan
 * changes, a chain per stretch (`video.schedule`, proto/schedule.h). */
#include <errno.h>
#include <stdio.h>

#include "filter.h"

static int s_init(struct vhs_ctx *ctx)
{
	static char chain[VHS_CHAIN_MAX], schedule[VHS_SCHEDULE_MAX];
	struct vhs_filter_stage *s = vhs_priv(ctx);
	char err[256];
	int ret = vhs_setting(ctx, VHS_SET_VIDEO_FILTERS, chain, sizeof(chain));

	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "[video] filters is longer than %d bytes", VHS_CHAIN_MAX - 1);
	if (ret < 0)
		chain[0] = '\0';
	ret = vhs_setting(ctx, VHS_SET_VIDEO_SCHEDULE, schedule, sizeof(schedule));
	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "video.schedule is longer than %zu bytes", sizeof(schedule) - 1);
	ret = vhs_schedule_parse(ret < 0 ? NULL : schedule, &s->schedule, err, sizeof(err));
	if (ret == -EINVAL)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "video.schedule: %s", err);
	if (ret)
		return ret;
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
