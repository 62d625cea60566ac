/* scan.h: how a capture was scanned, from its pictures: interlaced (and which field first),
 * progressive, progressive frames stored as fields (PsF, 2:2, also with the fields shifted
 * by one), or telecined film (3:2 pulldown). The video analysis (analysis.h) feeds runs of
 * consecutive frames sampled through the tape and decides once, with a confidence.
 *
 * DESIGN
 * A frame holds two fields, T (its even lines) and B (its odd lines). Woven together, two
 * fields of the same instant make a clean picture; two fields of different instants comb
 * where anything moved. For each frame n and its successor n+1 three weaves are measured:
 *
 *   s = comb(T[n],   B[n])     the frame as stored
 *   x = comb(T[n+1], B[n])     B[n] with the next frame's top field
 *   y = comb(T[n],   B[n+1])   T[n] with the next frame's bottom field
 *
 * comb() is how far each line sticks out beyond both lines around it (taken from the other
 * field), summed over the picture, on luma averaged over 4 pixels across (combing is
 * horizontal structure; the averaging halves the noise) with a dead zone of 3 codes for the
 * rest of the noise; in 8-bit codes per sample. Which of the three weaves sit near the
 * least (within a quarter of the spread between the least and the most) says what the frame
 * is, once the spread shows motion at all (a still picture combs in no weave and says
 * nothing):
 *
 *   progressive:            s alone (x and y each pair fields a frame apart)
 *   interlaced, top first:  s and x (fields one field apart; y pairs them three apart)
 *   interlaced, bottom first: s and y
 *   fields shifted by one (PsF captured a field late), top first: x alone; bottom first: y
 *   3:2 pulldown, top first: per five frames s, s+x, x, x, s (the two combed frames match
 *                           the next frame's top field); bottom first: the same with y
 *
 * A run of consecutive frames is classified by the share of its moving frames in each
 * pattern; the whole tape by the moving frames of all its runs. A run whose moving frames
 * are too few (fewer than 4) counts for nothing. Field order comes from the content: for
 * interlaced frames, which of x and y is the near one.
 */
#ifndef VHS_SCAN_H
#define VHS_SCAN_H

#include <stddef.h>

#include "pixfmt.h"

/* The three weaves of a frame and its successor (see above), 8-bit codes per sample. */
struct vhs_scan_pair {
	float s, x, y;
};

enum vhs_scan_kind {
	VHS_SCAN_UNKNOWN,      /* nothing moved: nothing to go by */
	VHS_SCAN_PROGRESSIVE,  /* each frame one instant */
	VHS_SCAN_INTERLACED,   /* each field its own instant */
	VHS_SCAN_SHIFTED,      /* progressive, but stored a field late: fields of two frames */
	VHS_SCAN_TELECINE,     /* 3:2 pulldown of film */
	VHS_SCAN_MIXED,        /* runs disagree: the tape changes (per run in the analysis) */
};

enum vhs_field_order {
	VHS_ORDER_UNKNOWN,
	VHS_ORDER_TFF,         /* top field first */
	VHS_ORDER_BFF,         /* bottom field first */
};

/* Patterns of a frame (bit set: that weave is near the least). */
#define VHS_SCAN_S 1
#define VHS_SCAN_X 2
#define VHS_SCAN_Y 4

/* A run of frames, or the whole tape, in numbers. */
struct vhs_scan_tally {
	unsigned frames;        /* pairs measured */
	unsigned moving;        /* of them, with motion to go by */
	unsigned pattern[8];    /* moving frames by pattern (VHS_SCAN_S | ...) */
	unsigned kind[6];       /* whole tape: moving frames of runs by their kind */
	unsigned runs[6];       /* whole tape: runs by their kind */
};

struct vhs_scan {
	enum vhs_scan_kind kind;
	enum vhs_field_order order;  /* for interlaced, shifted and telecine; else unknown */
	double confidence;           /* 0..1: share of the moving frames that agree */
	double order_confidence;     /* 0..1: share of the ordered frames that agree */
	enum vhs_scan_kind major;    /* MIXED: the kind with the most moving frames */
	unsigned moving, frames;     /* the evidence: moving frames of frames measured */
};

/* Size of the reduced luma a frame needs (vhs_scan_reduce). */
size_t vhs_scan_reduced_size(int width, int height);

/* Luma of a YUV or gray picture, 4 pixels averaged across, 8 bits, into out
 * (vhs_scan_reduced_size bytes). */
void vhs_scan_reduce(const struct vhs_picture *pic, uint8_t *out);

/* The three weaves of frame a and its successor b, both reduced from width x height. */
void vhs_scan_measure(const uint8_t *a, const uint8_t *b, int width, int height,
		      struct vhs_scan_pair *out);

/* The pattern of one pair: VHS_SCAN_* bits, or 0 when nothing moved. */
int vhs_scan_pattern(const struct vhs_scan_pair *p);

/* Classifies a run of n consecutive pairs into its tally and returns its kind (and order). */
enum vhs_scan_kind vhs_scan_run(const struct vhs_scan_pair *pairs, size_t n,
				struct vhs_scan_tally *run, enum vhs_field_order *order);

/* Adds a classified run to the whole tape's tally. */
void vhs_scan_add(struct vhs_scan_tally *tape, const struct vhs_scan_tally *run, enum vhs_scan_kind kind);

/* The whole tape's decision. */
void vhs_scan_decide(const struct vhs_scan_tally *tape, struct vhs_scan *out);

/* "interlaced", "progressive", "shifted", "telecine", "mixed", "unknown"; "tff", "bff", "unknown". */
const char *vhs_scan_kind_name(enum vhs_scan_kind k);
const char *vhs_field_order_name(enum vhs_field_order o);

#endif
