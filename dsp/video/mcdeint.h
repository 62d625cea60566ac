/* mcdeint.h: the motion-compensated deinterlacer (issue 26): one progressive frame per field,
 * its missing lines made from the field itself (edge-directed, edi.h) and from the fields
 * around it moved onto it (motion.h), in the spirit of QTGMC (read from its published
 * description; no code of it).
 *
 * DESIGN
 * Each field, as it comes in, is made a whole frame on its own: its lines kept, the others
 * interpolated along edges ("the bob", every plane; the chroma with the vertical cubic).
 * The bob's luma blurred vertically ([1 2 1]: the field's own lines and the interpolated
 * ones then look alike from field to field) is what motion is searched on.
 *
 * The luma motion is searched on: the bobs of the field and its two neighbours mixed 1 2 1
 * in time, then blurred 1 2 1 down (a field's bob and the next one's differ where the
 * interpolation guessed, most on fine detail; mixed, a still picture is still).
 *
 * Output frame i, once fields i - 1 .. i + 1 are in and the one after (for i + 1's search
 * luma; fewer at the tape's ends): the motion from field i to each neighbour j is searched
 * and neighbour j's bob moved onto field i. The neighbours are of the other parity: their
 * own lines lie on exactly the lines field i lacks. Each missing sample blends field i's
 * bob (weight `own`) with the mean of the two moved neighbours, weighted by how well they
 * agree there: w = max(0, 6 * threshold - the sum of their differences over 3 samples
 * across, scaled to 6). Where motion was found right, both carry the real line and agree
 * (sharp, no jaggies, no shimmer); where it was not (occlusions, new picture), they part and
 * the edge-directed bob stands. At the tape's ends the one neighbour there is stands for
 * both. Field i's own lines are output exactly as they came ("source match").
 *
 * Output i depends on fields i - 2 .. i + 2 alone, in integer arithmetic: the same frame
 * whatever came before, on every machine. Its temporal reach is one frame either side.
 * 8-bit planar YUV (any subsampling) or gray.
 */
#ifndef VHS_MCDEINT_H
#define VHS_MCDEINT_H

#include "edi.h"
#include "motion.h"
#include "pixfmt.h"

struct vhs_mcdeint_params {
	struct vhs_edi edi;           /* the bob's interpolation of luma */
	struct vhs_motion_params motion;
	int own;                      /* the bob's weight in the blend */
	int threshold;                /* a neighbour's mean difference (codes) worth nothing */
	int sharpen;                  /* resharpening of the blended luma, 16ths (0: none) */
	int threads;                  /* 1, or 2: the two neighbours' motion at once */
};

/* "fast", "medium" or "slow" into p; -EINVAL for another name. */
int vhs_mcdeint_preset(const char *name, struct vhs_mcdeint_params *p);

struct vhs_mcdeint;

/* Whether p holds values the deinterlacer takes: blocks of 8 or 16, a range of 0 or more,
 * subpel 1, 2 or 4, edi radius 0..VHS_EDI_RADIUS_MAX, sharpen 0..16, the rest 0 or more. */
int vhs_mcdeint_params_valid(const struct vhs_mcdeint_params *p);

/* A deinterlacer for fields of frames of this format and size. Returns 0, -ENOMEM, or
 * -EINVAL (a format deeper than 8 bits, or packed, or RGB; a size under 16 x 16; parameters
 * vhs_mcdeint_params_valid() refuses). */
int vhs_mcdeint_open(struct vhs_mcdeint **d, const struct vhs_mcdeint_params *p, const struct vhs_pixfmt *fmt,
		     int width, int height);

/* One field in, in time order: the rows of `parity` (0: even rows, the top field; 1: odd
 * rows) of frame. Returns 0 or -ENOMEM. */
int vhs_mcdeint_push(struct vhs_mcdeint *d, const struct vhs_picture *frame, int parity);

/* No more fields: those still waiting for later neighbours are made without them. Returns 0
 * or -ENOMEM. */
int vhs_mcdeint_end(struct vhs_mcdeint *d);

/* The next frame out, in field order, into out (the format and size given at open).
 * Returns 1, or 0 when it needs more fields (or, after the end, has given them all). */
int vhs_mcdeint_pull(struct vhs_mcdeint *d, struct vhs_picture *out);

void vhs_mcdeint_close(struct vhs_mcdeint **d);

#endif
