/* measure.h: what the video analysis (issue 25) measures on the pictures it samples from a
 * tape, each a pure function of the pictures: the luma levels and NTSC setup, and where the
 * chroma sits against the luma. The analysis pass feeds sampled pictures in and decides once
 * for the whole tape; each finding comes with the evidence it rests on, so that a tape with
 * nothing to go by (no black, no edges) says so instead of guessing.
 *
 * Levels. A histogram of luma codes (scaled to 8 bits) over the sampled pictures; the black
 * level is its 0.5th percentile, the white level its 99.5th. NTSC analogue video may carry
 * setup: black at 7.5 IRE, which in limited-range 8-bit codes is 16 + 0.075 * 219 = 32.4
 * instead of 16. Setup is decided when the black level is nearer 32.4 than 16 (and within
 * 24..42), and only trusted as far as the tape shows black at all: the confidence is the
 * share of samples within 4 codes of the black level, 1 at 2% or more, and 0 when the black
 * level is above 42 (no black at all).
 *
 * Chroma shift. VHS records chroma at a fraction of the luma's bandwidth, delayed, and
 * capture chains add their own offset: chroma edges land a pixel or more to the right of (or
 * below) the luma's. The luma is resampled to the chroma sites (color.h's triangle filter,
 * at the chroma location the picture says) and the gradient magnitudes of that luma and of
 * the chroma (|dCb| + |dCr|; magnitudes, because a chroma edge may rise where the luma
 * falls) are correlated: first over whole chroma samples, up to 4 each way; then, within a
 * chroma sample either side of the best, the luma is resampled (Catmull-Rom, at full
 * resolution) at sites displaced in quarters of a luma pixel while the chroma stays as it was
 * sampled, so the chroma grid's phase cannot bias the answer; the best, refined by a
 * parabola, is the shift in luma pixels (positive: chroma to the right, or lower). The
 * weight is the normalised correlation there: 0 when the picture has no edges to go by (it
 * stays well under 1 even for a perfect match, since the chroma is point-sampled and the
 * luma filtered). About 0.2 s of CPU for a 720x480 4:2:0 picture. One picture is typically
 * within half a pixel, now and then more (too few edges one way); the analysis combines
 * many, weighted: twelve were within a quarter pixel in every unit test run.
 */
#ifndef VHS_MEASURE_H
#define VHS_MEASURE_H

#include <stdint.h>

#include "pixfmt.h"

#define VHS_SETUP_CODE 32.4   /* 7.5 IRE in limited-range 8-bit luma codes */
#define VHS_SHIFT_RANGE 4     /* chroma samples searched each way */

/* ---- levels ---- */

struct vhs_levels_hist {
	uint64_t n[256];          /* luma samples per 8-bit code */
	uint64_t total;
};

struct vhs_levels {
	double black, white;      /* 8-bit codes: the 0.5th and the 99.5th percentile */
	int setup;                /* 1: black sits at 7.5 IRE (NTSC setup) */
	double confidence;        /* 0..1: how much black the tape showed to decide by */
};

/* Adds the luma of a YUV or gray picture (planar RGB is left out: it has no luma plane). */
void vhs_levels_add(struct vhs_levels_hist *h, const struct vhs_picture *pic);

/* The levels of what was added. Returns 0, or -ENODATA when nothing was. */
int vhs_levels_decide(const struct vhs_levels_hist *h, struct vhs_levels *out);

/* ---- chroma shift ---- */

struct vhs_chroma_shift {
	double dx, dy;            /* luma pixels; positive: chroma right of / below the luma */
	double wx, wy;            /* the evidence each rests on (normalised correlation); 0: none */
};

/* Measures one subsampled YUV picture (4:2:0, 4:2:2, 4:1:1, ...; 8 to 16 bits). A direction
 * that is not subsampled is measured at full resolution. Returns 0, -EINVAL for RGB, gray
 * or a picture too small (fewer than 16 chroma samples across), or -ENOMEM. */
int vhs_chroma_shift_measure(const struct vhs_picture *pic, struct vhs_chroma_shift *out);

/* One direction's shift measured in a picture, and its weight. */
struct vhs_shift_sample {
	double d, w;
};

/* The shift of many pictures: the weighted median of n samples (sorted here; a picture now
 * and then a pixel or two off does not move it), and their mean weight into *w. Both 0 when
 * no sample has weight. */
void vhs_shift_combine(struct vhs_shift_sample *s, int n, double *d, double *w);

#endif
