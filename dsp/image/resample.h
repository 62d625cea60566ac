/* resample.h: separable Lanczos resampling, on the CPU, as filter tables the CUDA backend
 * shares.
 *
 * DESIGN
 * One mechanism for every resize the upscaler does itself: the final resize of the
 * network's output to width x height (float RGB), and the plain `model = "lanczos"`
 * resize of each plane on the GPU (backend = "cuda"; its CPU reference is here). A resize
 * from n to m samples is a table: for every output sample, the first input sample and
 * `taps` weights (edge samples repeated, weights summing to 1). The table is built once
 * per stream on the host; the CPU and CUDA code only apply it, so they agree to float
 * rounding.
 *
 * Kernel: Lanczos-3, L(x) = sinc(x) sinc(x / 3) for |x| < 3. Output sample j covers input
 * position (j + 0.5) * n / m - 0.5 (centres aligned, as swscale does for luma); when
 * shrinking (m < n) the kernel is stretched by n / m so it low-passes.
 *
 * Order: horizontal pass first into a float buffer, then the vertical pass.
 */
#ifndef VHS_RESAMPLE_H
#define VHS_RESAMPLE_H

#include <stdint.h>

#include "pixfmt.h"

struct vhs_resample_table {
	int in_size, out_size;
	int taps;        /* weights per output sample */
	int *first;      /* [out_size]: input index of weight 0 (may be < 0 or run past the end: clamp) */
	float *weights;  /* [out_size * taps] */
};

/* Builds the n -> m table. Returns 0, -EINVAL (n or m < 1) or -ENOMEM. */
int vhs_resample_table_init(struct vhs_resample_table *t, int n, int m);
void vhs_resample_table_free(struct vhs_resample_table *t);

/* HWC float image (c channels) iw x ih -> ow x oh with tables h (iw->ow) and v (ih->oh).
 * tmp holds ow * ih * c floats. No clamping. */
void vhs_resample_hwc(const float *in, int iw, int ih, int c, float *out, int ow, int oh,
		      const struct vhs_resample_table *h, const struct vhs_resample_table *v,
		      float *tmp);

/* One plane of 8-bit or 16-bit samples (bytes = 1 or 2, values up to max_code), rounded half
 * up and clamped to [0, max_code]. tmp holds out_w * in_h floats. */
void vhs_resample_plane(const uint8_t *in, int in_linesize, int bytes, uint8_t *out,
			int out_linesize, int max_code, const struct vhs_resample_table *h,
			const struct vhs_resample_table *v, float *tmp);

#endif
