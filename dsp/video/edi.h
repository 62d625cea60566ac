/* edi.h: edge-directed interpolation of a field's missing lines (the spatial part of the
 * motion-compensated deinterlacer, issue 26), with no trained weights: each missing sample
 * is interpolated along the direction in which the field lines above and below it match best.
 *
 * DESIGN
 * A missing line y lies between the field's lines a = y - 1 and b = y + 1, with c = y - 3
 * and e = y + 3 beyond them. An edge through the missing sample (x, y) at slope d (d pixels
 * across per line) meets a at x + d and b at x - d, and c and e at x + 3d and x - 3d. For
 * each direction d in -radius..radius its cost is
 *
 *   sum over i in -2..2 of |a[x+d+i] - b[x-d+i]|                (the lines either side agree)
 *   + (|a[x+d+i] - c[x+3d+i]| + |b[x-d+i] - e[x-3d+i]|) / 2       (and the edge runs on)
 *
 * plus a penalty growing with |d| (a steep guess costs little; a shallow one must earn it).
 * The cheapest direction wins; a slanted one only when it costs less than half the vertical
 * (and a little more), so texture and noise keep the vertical interpolation. Along the winning direction the sample is
 * the cubic (-c + 9a + 9b - e) / 16 of the four lines' samples, held between its two nearest
 * (a cubic overshoots at an edge). Everything is integer: the result is the same on every
 * machine and every thread count.
 *
 * A missing row at the very top or bottom has field lines on one side only: it is the
 * nearest one. Beyond that, lines past the top or bottom are the field's first or last.
 * A slant is only tried where all its samples lie inside the picture (near the sides, the
 * directions narrow down to the vertical).
 * 8-bit samples; the caller picks the rows, so slices of rows run on threads.
 */
#ifndef VHS_EDI_H
#define VHS_EDI_H

#include <stddef.h>
#include <stdint.h>

#define VHS_EDI_RADIUS_MAX 16

struct vhs_edi {
	int radius;               /* directions -radius..radius (0: vertical cubic only) */
};

/* Interpolates the missing rows y0 <= y < y1 of a plane whose field `parity` (0: the even
 * rows, 1: the odd rows) is kept: dst's rows of the other parity get the interpolation (its
 * rows of `parity` are not touched; copy them yourself, or let dst be src). src holds at
 * least the field's rows; width x height are the plane's. Returns 0 or -ENOMEM. */
int vhs_edi_rows(const struct vhs_edi *p, const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
		 ptrdiff_t dst_stride, int width, int height, int parity, int y0, int y1);

#endif
