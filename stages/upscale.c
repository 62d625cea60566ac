/* upscale.c: the upscale stage. CPU backend: resample to `[upscale] width x height` and
 * convert to `[encode] pix_fmt` in one swscale pass, exactly as
 * `scale=W:H:flags=lanczos,format=PIX_FMT` does (it is that graph). Neural models and
 * the CUDA backend come later (issue 5); asking for them is a configuration error. */
#include <stdio.h>
#include <string.h>

#include "filter.h"

/* model name -> swscale flags */
static const char *s_sws_flags(const char *model)
{
	if (!strcmp(model, "lanczos"))
		return "lanczos";
	if (!strcmp(model, "bicubic"))
		return "bicubic";
	return NULL;
}

static int s_init(struct vhs_ctx *ctx)
{
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	char backend[32], model[32], pix_fmt[32], chain[256];
	long long w = vhs_setting_int(ctx, "upscale.width", 0);
	long long h = vhs_setting_int(ctx, "upscale.height", 0);
	const char *flags;

	if (vhs_setting(ctx, "upscale.backend", backend, sizeof(backend)) < 0)
		snprintf(backend, sizeof(backend), "cpu");
	if (vhs_setting(ctx, "upscale.model", model, sizeof(model)) < 0)
		snprintf(model, sizeof(model), "lanczos");
	if (vhs_setting(ctx, "encode.pix_fmt", pix_fmt, sizeof(pix_fmt)) < 0)
		snprintf(pix_fmt, sizeof(pix_fmt), "yuv420p");
	if (!strcmp(backend, "cuda"))
		return vhs_fail(ctx, VHS_ERR_CONFIG, "upscale backend 'cuda' is not available in this build; use backend = \"cpu\"");
	flags = s_sws_flags(model);
	if (!flags)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "upscale model '%s' is not available in this build; use \"lanczos\" or \"bicubic\"", model);
	snprintf(chain, sizeof(chain), "scale=%lld:%lld:flags=%s,format=%s",
		 w > 0 ? w : in->width, h > 0 ? h : in->height, flags, pix_fmt);
	return vhs_filter_stage_init(ctx, chain);
}

const struct vhs_stage vhs_stage_upscale = {
	.name = "upscale",
	.priv_size = sizeof(struct vhs_filter_stage),
	.init = s_init,
	.video = vhs_filter_stage_video,
	.segment = vhs_filter_stage_segment,
	.eos = vhs_filter_stage_eos,
	.uninit = vhs_filter_stage_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_upscale, argc, argv);
}
