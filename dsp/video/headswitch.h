/* headswitch.h: the head-switching band at the bottom of a VHS picture: measured, and
 * repaired line by line.
 *
 * DESIGN
 * A VCR switches from one video head to the other a few lines before the vertical sync, and
 * the lines recorded around the switch come back torn: pulled sideways by the timebase
 * error, more towards the bottom, the last few no picture at all. What shows the pull of a
 * line is where its picture starts and ends: an analogue capture takes in a little of the
 * blanking either side (the 720 samples span more than the 52.6 us of active picture), and a
 * torn line's picture edges move with it. (Matching a line against the one above it, the
 * other way one might try, cannot tell a pull from the slope of the picture's own diagonals:
 * on a photograph of grass it found pulls of 8 pixels in lines that had none.)
 *
 * On the VHS_HS_REF lines above the examined ones the blanking level (the outermost 4
 * columns) and the picture's (columns 24 to 40 in) are measured either side; each side
 * whose blanking is dark and flat, whose picture stands VHS_HS_MIN_STEP codes (8-bit) clear
 * of it, and whose reference lines' edges stand in one place, gives an edge: the
 * position of a line's first sharp step past 30% of the way from blanking to picture (a line
 * darker than typical next to the edge still has one), scanning in from that
 * side over blanking-flat samples (the centroid of the step: exact for a step sampled over
 * each pixel's area, whatever the picture's level beyond it). A line's pull is how far its
 * edges sit from the reference lines' (the median), the mean of both sides where they agree
 * within VHS_HS_AGREE pixels. A line with no edge either side (dark picture at both) is
 * unknown; with edges that disagree, or VHS_HS_NOISE times rougher (mean difference of
 * neighbouring samples) than picture lines typically are, noise.
 *
 * A line is torn when it is pulled VHS_HS_TORN_SHIFT pixels or more, or noise; the band is
 * the lines from the bottom up to the highest torn one, allowing a few untorn ones inside
 * it. The repair moves each line of a band of known height back by its own pull
 * (subpixel.h, the chroma by the pull of its first luma line) and fills the others from
 * the same field's line above (repaired by then): the band's last lines carry no picture,
 * and a repeated line shows less than noise or a black bar does.
 * A capture without blanking at either side gives no edges: nothing is measured (the band
 * stays unknown), and a band the user names is filled whole.
 */
#ifndef VHS_HEADSWITCH_H
#define VHS_HEADSWITCH_H

#include "pixfmt.h"

#define VHS_HS_SEARCH 32        /* bottom lines examined */
#define VHS_HS_REF 32           /* lines above them that give the edges' reference */
#define VHS_HS_MIN_STEP 20      /* 8-bit codes between blanking and picture that make an edge */
#define VHS_HS_AGREE 2.0        /* pixels two edges' pulls may differ by */
#define VHS_HS_TORN_SHIFT 0.75  /* pixels of pull that make a line torn */
#define VHS_HS_NOISE 4.0        /* a line this many times rougher than picture lines is noise */

enum vhs_hs_state {
	VHS_HS_MOVED,             /* its edges say how far it was pulled (perhaps 0) */
	VHS_HS_UNKNOWN,           /* picture, but no edge stands out (dark at both sides) */
	VHS_HS_NOISE_LINE,        /* no picture at all */
};

/* What the edges say of each of the bottom lines. */
struct vhs_hs_lines {
	int first;                        /* the picture line of entry 0 (height - VHS_HS_SEARCH) */
	int n;                            /* entries; 0: no edges to go by */
	double shift[VHS_HS_SEARCH];      /* pixels: the line shows the picture from x - shift */
	unsigned char state[VHS_HS_SEARCH]; /* enum vhs_hs_state */
};

/* Whether line i is torn: pulled VHS_HS_TORN_SHIFT or more, or noise. */
int vhs_hs_torn(const struct vhs_hs_lines *m, int i);

/* Measures the bottom lines of a picture (luma, 8 to 16 bits). Returns 0 (m->n = 0 when the
 * picture has no blanking to find edges by), or -EINVAL when it is too small (under 160
 * pixels across or 2 * (VHS_HS_SEARCH + VHS_HS_REF) lines). */
int vhs_hs_match(const struct vhs_picture *pic, struct vhs_hs_lines *out);

/* The band's height in lines from one picture's match (0: none). */
int vhs_hs_band(const struct vhs_hs_lines *m);

/* Repairs the bottom `lines` lines of pic in place (all planes): each moved back by its
 * pull, or filled from the line two above when its pull is not known. Returns the lines
 * filled, or -EINVAL / -ENOMEM. */
int vhs_hs_repair(struct vhs_picture *pic, int lines);

#endif
