/* dropouts.h: tape dropouts, found and repaired.
 *
 * DESIGN
 * Where the tape's oxide is thin or dirty the signal drops out for a moment, and the VCR
 * shows a streak: part of one line of one field, usually bright, sometimes dark, gone in the
 * next frame. That is what tells a dropout from the picture: a run of samples along one line
 * that stands out, by VHS_DROPOUT_STEP codes (8-bit) or more the same way (a third of that for
 * a streak at VHS_DROPOUT_WHITE or above, or VHS_DROPOUT_BLACK or below: across a bright sky a
 * white streak has no room for more, and most of one went unrepaired), from every
 * neighbour it has: the lines just above and below (the other field), the same field's lines
 * above and below, and the same place in the frames before and after. A run is the samples
 * that stand out by half that (a gap of up to 2 samples inside one is bridged), and counts
 * when VHS_DROPOUT_MIN_RUN of them stand out by the whole (hysteresis: a streak across
 * texture, where parts of it clear the whole step and parts do not, is found whole), unless the run is found again in the frame before or after, moved by up to 24
 * samples across and 2 lines of its field, within a third of the step on average (a thin bright thing of the picture, a branch
 * against the sky, crossing the line as the camera pans: on a telecined pan these made half
 * a false dropout a frame before this test).
 *
 * Not found: a dropout that spans two lines of one field or more at the same place (each
 * line's same-field neighbour is then no neighbour to stand out from).
 *
 * The repair replaces each run's samples (and the chroma beside them) from the neighbouring
 * fields, motion-aware: where the frames before and after agree there (within
 * VHS_DROPOUT_STILL codes), the place is still and their mean is what was there; elsewhere
 * the mean of the lines above and below (the other field, a field's time away). A frame at
 * either end of its window has one neighbour in time: it must stand out from that one, and
 * the repair goes by space alone.
 */
#ifndef VHS_DROPOUTS_H
#define VHS_DROPOUTS_H

#include "pixfmt.h"

#define VHS_DROPOUT_STEP 40      /* 8-bit codes a dropout stands out from each neighbour */
#define VHS_DROPOUT_WHITE 224    /* 8-bit codes: a streak this bright need stand out by a third */
#define VHS_DROPOUT_BLACK 24     /* ... and one this dark */
#define VHS_DROPOUT_MIN_RUN 8    /* samples along the line */
#define VHS_DROPOUT_STILL 12     /* 8-bit codes the frames either side may differ by, still */

/* One dropout: samples [x0, x1) of luma line y. */
struct vhs_dropout {
	int y, x0, x1;
};

/* Finds the dropouts of cur (YUV or gray, 8 to 16 bits) with its neighbours in time, either
 * of which may be NULL (same size and format). Writes up to max into out and returns how
 * many there are (possibly more than max). */
int vhs_dropouts_find(const struct vhs_picture *prev, const struct vhs_picture *cur,
		      const struct vhs_picture *next, struct vhs_dropout *out, int max);

/* Replaces the n dropouts d of cur in out (a copy of cur, all planes). */
void vhs_dropouts_repair(const struct vhs_picture *prev, const struct vhs_picture *cur,
			 const struct vhs_picture *next, struct vhs_picture *out,
			 const struct vhs_dropout *d, int n);

#endif
