/* motion.h: block motion between two pictures, and a picture moved by it (the temporal part
 * of the motion-compensated deinterlacer, issue 26). Written after MVTools' description
 * (hierarchical search over overlapped blocks, sub-pixel refinement, overlapped block motion
 * compensation); no code of it.
 *
 * DESIGN
 * The search finds, for each block of `cur`, where its content sits in `ref`: a vector in
 * quarter pixels (ref at block + vector looks like cur's block). Blocks are block x block
 * samples every `step` samples (step = block / 2: each sample lies in up to four blocks),
 * the last row and column moved in to end at the picture's edge.
 *
 * Hierarchical: both pictures are halved (2x2 means, made once per picture: a pyramid)
 * until the coarsest level is about the size of the search range's reach; there every block
 * is searched exhaustively within the range (scaled to the level), and each finer level
 * starts from the best of: the coarser level's vector doubled, the vectors already found for
 * the blocks left of and above it (raster order: deterministic), and no motion; then looks
 * one sample around it. At full
 * size the vector is refined to half and then quarter pixels, the reference read bilinearly
 * between samples. A candidate costs its SAD plus `lambda` times its distance (in the level's
 * samples) from the coarser level's vector: a smooth field of vectors unless the picture
 * says otherwise. Ties keep the candidate found first.
 *
 * Compensation builds the picture `ref` would be, moved onto `cur`: each block's prediction
 * (ref read at the block's vector) is weighted by a window that rises from the block's edges
 * to its middle (the windows of overlapping blocks sum to the same everywhere), so block
 * edges do not show. Chroma planes use the luma's vectors scaled to their sampling.
 *
 * Everything is integer arithmetic on 8-bit samples: the same vectors and pictures on every
 * machine and thread count.
 */
#ifndef VHS_MOTION_H
#define VHS_MOTION_H

#include <stddef.h>
#include <stdint.h>

struct vhs_motion_params {
	int block;                /* block size, 8 or 16 */
	int range;                /* search range, full-size samples either way */
	int subpel;               /* 1, 2 or 4: refinement to whole, half or quarter pixels */
	int lambda;               /* cost of a vector's distance from its predictor */
};

struct vhs_mv {
	int16_t x, y;             /* quarter pixels: ref at (bx + x/4, by + y/4) matches */
};

/* The vectors of a picture's blocks. */
struct vhs_motion_field {
	int block, step;          /* block size and spacing, samples */
	int nx, ny;               /* blocks across and down */
	int width, height;        /* the picture's size */
	struct vhs_mv *mv;        /* nx * ny, row by row */
	uint32_t *sad;            /* each block's SAD at its vector (full size, luma) */
	struct vhs_mv *levels;    /* the search's vectors of two levels (2 x nx x ny), reused */
	int32_t *acc;             /* compensation's accumulators (2 x width x height), reused */
};

/* A plane of 8-bit samples. */
struct vhs_plane8 {
	const uint8_t *data;
	ptrdiff_t stride;
	int width, height;
};

/* A picture made ready to be searched, from either side, once: its halved levels and, for a
 * sub-pixel search, itself read at the phases the search tries (every quarter-pixel phase
 * for subpel 4, the three half-pixel ones for subpel 2; each candidate then costs a plain
 * SAD). A picture that is searched against two others is prepared once, not twice. */
#define VHS_MOTION_LEVELS 4

struct vhs_motion_pyramid {
	int levels;
	struct vhs_plane8 level[VHS_MOTION_LEVELS]; /* level[0] is the picture itself */
	struct vhs_plane8 phase[16];  /* phase 4 * fy + fx: at (x + fx / 4, y + fy / 4); the
				       * phases not made have no data */
	uint8_t *buf;                 /* the levels and phases made (owned) */
	size_t size;
};

/* The levels of a w x h picture's pyramid for searches with p: halved while a block and the
 * range still mean something there (at most VHS_MOTION_LEVELS). */
int vhs_motion_levels(const struct vhs_motion_params *p, int w, int h);

/* Prepares pic (which must outlive py's use) for searches with p; py starts zeroed, and is
 * rebuilt in place for the next picture of the same size. Returns 0 or -ENOMEM. */
int vhs_motion_pyramid_build(struct vhs_motion_pyramid *py, const struct vhs_motion_params *p,
			     const struct vhs_plane8 *pic);
void vhs_motion_pyramid_free(struct vhs_motion_pyramid *py);

/* The field of blocks for a width x height picture (its vectors zero). Returns 0 or -ENOMEM
 * (-EINVAL: a picture smaller than a block, or a block size other than 8 or 16). */
int vhs_motion_field_init(struct vhs_motion_field *f, int width, int height, int block);
void vhs_motion_field_free(struct vhs_motion_field *f);

/* Where each block of cur sits in ref (both luma, the field's size, prepared with p), using
 * f's scratch: one search on a field at a time. Returns 0, or -EINVAL (ref prepared without
 * the phases p's sub-pixel search needs). */
int vhs_motion_search(const struct vhs_motion_params *p, const struct vhs_motion_pyramid *cur,
		      const struct vhs_motion_pyramid *ref, struct vhs_motion_field *f);

/* ref moved onto cur by f's vectors, into out (rows y0 <= y < y1 of a plane of ref's size;
 * parity 0 or 1: only the rows of that parity among them, the others left as they were, in
 * about half the time; -1: every row). sx, sy: the plane's subsampling against the luma the
 * vectors were found on (0: none, 1: halved, 2: quartered), so a chroma plane moves by the
 * vectors scaled down. It uses f's accumulators: one call on a field at a time. */
void vhs_motion_compensate(struct vhs_motion_field *f, const struct vhs_plane8 *ref, int sx, int sy,
			   uint8_t *out, ptrdiff_t out_stride, int y0, int y1, int parity);

#endif
