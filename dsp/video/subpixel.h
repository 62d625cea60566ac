/* subpixel.h: moving picture samples by a fraction of a sample, exactly and the same on every
 * machine: the chroma shift repair moves whole chroma planes, the head-switching repair moves
 * single lines back.
 *
 * DESIGN
 * Catmull-Rom interpolation (four taps, a = -0.5: sharp, no ringing to speak of at the small
 * shifts tape needs) in integer arithmetic: the taps of a shift are 12-bit integers that sum to
 * 4096, so the result is a pure function of the samples and the shift, bit for bit on any CPU
 * (and on a GPU that does the same sums). Samples beyond an edge repeat the edge sample. A
 * shift of s means out[x] = in[x + s]: what sat s samples to the right comes to x.
 */
#ifndef VHS_SUBPIXEL_H
#define VHS_SUBPIXEL_H

#include <stdint.h>

#include "pixfmt.h"

#define VHS_SUBPIXEL_BITS 12

/* The four taps for in[floor(s) - 1 .. floor(s) + 2] of a shift s. */
struct vhs_subpixel_taps {
	int base;                 /* floor(s) */
	int32_t w[4];             /* sum 1 << VHS_SUBPIXEL_BITS */
};

void vhs_subpixel_taps(double s, struct vhs_subpixel_taps *t);

/* Moves one row of n samples (bytes 1 or 2 each, as the picture's format) by taps t:
 * dst[x] = src[x + s]. dst and src must not overlap. */
void vhs_subpixel_row(const uint8_t *src, uint8_t *dst, int n, int bytes, int maxval,
		      const struct vhs_subpixel_taps *t);

/* Moves plane p of in by (sx, sy) of that plane's samples into the same plane of out (same
 * size and format; separate buffers). Returns 0 or -ENOMEM. */
int vhs_subpixel_plane(const struct vhs_picture *in, struct vhs_picture *out, int p, double sx,
		       double sy);

#endif
