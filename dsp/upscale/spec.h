/* spec.h: what one upscaler stream does, decided once on the host, shared by the CPU and
 * CUDA backends.
 *
 * DESIGN
 * upscaler.c turns the job's settings and the input format into this plan; a backend only
 * carries it out. Everything numeric that both backends use (colour matrices, chroma
 * filters, resample tables) is computed here once, on the host, so CPU and GPU run the
 * same arithmetic.
 *
 * Two kinds of stream:
 *   model != NULL   picture -> RGB (in) -> network -> resize net_w x net_h to out_w x out_h
 *                   when they differ (h, v) -> picture (out)
 *   model == NULL   plain Lanczos: each plane of the input resized to the output's plane
 *                   size (plane_h[p], plane_v[p]); input and output formats are the same
 *                   (the stage converts formats elsewhere)
 */
#ifndef VHS_SPEC_H
#define VHS_SPEC_H

#include "color.h"
#include "model.h"
#include "resample.h"

struct vhs_upscale_spec {
	const struct vhs_nn_model *model;
	const struct vhs_pixfmt *in_fmt, *out_fmt;
	int in_w, in_h;       /* input picture */
	int net_w, net_h;     /* network output (in * scale); = in when model == NULL */
	int out_w, out_h;     /* output picture */
	struct vhs_color_xform in, out;      /* model != NULL */
	int resize;                          /* model != NULL: net != out */
	struct vhs_resample_table h, v;      /* net_w -> out_w, net_h -> out_h */
	struct vhs_resample_table plane_h[3], plane_v[3]; /* model == NULL, per plane */
};

#endif
