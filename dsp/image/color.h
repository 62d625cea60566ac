/* color.h: YUV or planar RGB pictures to and from float RGB, on the CPU.
 *
 * DESIGN
 * The neural network sees RGB. Between the picture formats of the ring (pixfmt.h) and the
 * network's input and output sits one conversion each way, written here in plain C as the
 * reference; the CUDA backend runs the same arithmetic (same matrices, same chroma
 * filters, same rounding) from the coefficients vhs_color_setup() computes, so the two
 * agree to float rounding.
 *
 * Float RGB images are interleaved (HWC: R, G, B of a pixel next to each other), rows of
 * width * 3 floats, values in [0, scale] (scale = 255 for models trained on 0..255, 1 for
 * those trained on 0..1).
 *
 * To RGB:
 *   - matrix: BT.709 when the picture says so, BT.601 otherwise (SD captures, unspecified);
 *     planar RGB input goes straight through (no YUV round trip), gray is R = G = B;
 *   - range: limited (16..235/240 scaled by 2^(depth-8)) unless the tag or a yuvj name
 *     says full; RGB is always full range;
 *   - chroma: each chroma sample sits where its chroma_location says (unspecified =
 *     LEFT for 4:2:0/4:2:2/4:1:1, the MPEG-2 and DV convention); luma positions take
 *     chroma by linear interpolation between the two nearest chroma samples in each
 *     direction (edges clamped);
 *   - the result is clamped to [0, 1] before scaling (networks were trained on valid RGB).
 * From RGB:
 *   - the output's matrix (BT.709 for HD, see upscaler.h) and range (limited for YUV,
 *     full for RGB); full-resolution Cb/Cr are filtered down to the chroma sites by a
 *     triangle filter of half-width equal to the subsampling factor centred on each
 *     chroma site ([1 2 1]/4 for left-sited 2:1, [1 3 3 1]/8 for centred 2:1); the output
 *     is tagged chroma_location LEFT when subsampled horizontally, TOPLEFT never;
 *   - values are rounded half up and clamped to the format's code range.
 */
#ifndef VHS_COLOR_H
#define VHS_COLOR_H

#include "pixfmt.h"

/* Everything both directions need, computed once per stream (CPU and CUDA use it). */
struct vhs_color_xform {
	const struct vhs_pixfmt *fmt;
	int width, height;          /* the picture's */
	int rgb;                    /* planar RGB: no matrix */
	int gray;                   /* one plane */
	float kr, kb;               /* luma coefficients of the matrix (601: .299/.114, 709: .2126/.0722) */
	float y_off, y_scale;       /* code value = y_off + y_scale * Y' (Y' in [0,1]) */
	float c_off, c_scale;       /* code value = c_off + c_scale * C (C in [-0.5, 0.5]) */
	float max_code;             /* 2^depth - 1 */
	int sx, sy;                 /* chroma subsampling factors (1, 2 or 4) */
	float cx_off, cy_off;       /* luma position of chroma sample 0, in luma samples */
	struct vhs_colorimetry tags; /* what the converted picture is (to) or says it is (from) */
};

/* The constants both directions derive from an xform (color.c, FORMULAS), computed once by
 * vhs_color_coef_init() in these float steps; the CUDA backend takes them from there, so the
 * CPU and the GPU start from the same numbers. */
struct vhs_color_coef {
	float kr, kg, kb;    /* luma weights */
	float rv, bu;        /* Cr -> R and Cb -> B gains */
	float gu, gv;        /* Cb and Cr -> G gains (subtracted) */
	float yk, ck;        /* 1 / y_scale, 1 / c_scale */
	float cbk, crk;      /* 1 / bu, 1 / rv (from RGB) */
};
void vhs_color_coef_init(struct vhs_color_coef *c, const struct vhs_color_xform *x);

/* One direction of the chroma down filter (RGB -> subsampled chroma, subsampling s, chroma
 * sample 0 at luma position off): chroma site i takes the luma samples i * s + k0 + t,
 * t < n, with weights w[t] summing to 1. */
#define VHS_CHROMA_MAX_TAPS 8
struct vhs_chroma_site {
	int k0;
	int n;
	float w[VHS_CHROMA_MAX_TAPS];
};
void vhs_chroma_site_init(struct vhs_chroma_site *f, int s, float off);

/* Sets up reading pictures of `fmt` w x h described by `tags` (to RGB). */
void vhs_color_setup_in(struct vhs_color_xform *x, const struct vhs_pixfmt *fmt, int w, int h,
			const struct vhs_colorimetry *tags);

/* Sets up writing pictures of `fmt` w x h with the given matrix (VHS_MATRIX_BT709 or
 * VHS_MATRIX_SMPTE170M/BT470BG; ignored for RGB). x->tags gets what the output is:
 * range, matrix, chroma location; primaries and transfer are copied from `keep`. */
void vhs_color_setup_out(struct vhs_color_xform *x, const struct vhs_pixfmt *fmt, int w, int h,
			 int matrix, const struct vhs_colorimetry *keep);

/* Picture -> HWC float RGB in [0, scale]. rgb holds w * h * 3 floats. */
void vhs_color_to_rgb(const struct vhs_color_xform *x, const struct vhs_picture *in, float *rgb,
		      float scale);

/* HWC float RGB in [0, scale] -> picture (its planes must be allocated, w x h). */
void vhs_color_from_rgb(const struct vhs_color_xform *x, const float *rgb, float scale,
			struct vhs_picture *out);

#endif
