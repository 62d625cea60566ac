/* dropouts.c: dropouts found by standing out from every neighbour, and repaired from the
 * neighbouring fields (see dropouts.h). */
#include "dropouts.h"

#include <stdlib.h>

#define BRIDGE 2                 /* samples of gap a run may have */
#define MOVE_X 24                /* samples across a picture's thing may move in a frame */
#define MOVE_Y 2                 /* lines of its field up or down */

static inline int s_at(const struct vhs_picture *p, int plane, int x, int y)
{
	const uint8_t *row = p->data[plane] + (size_t)y * p->linesize[plane];

	return p->fmt->bytes == 1 ? row[x] : ((const uint16_t *)row)[x];
}

static inline void s_put(struct vhs_picture *p, int plane, int x, int y, int v)
{
	uint8_t *row = p->data[plane] + (size_t)y * p->linesize[plane];

	if (p->fmt->bytes == 1)
		row[x] = (uint8_t)v;
	else
		((uint16_t *)row)[x] = (uint16_t)v;
}

/* How far luma sample (x, y) of cur stands out from every neighbour: positive brighter,
 * negative darker, counted three times over near white (or black), where a streak has no
 * room to stand out by a whole step; 0 when it stands out by less than least. (The line
 * above first: most samples are like it, and that is enough to know.) */
static int s_standout(const struct vhs_picture *prev, const struct vhs_picture *cur,
		      const struct vhs_picture *next, int x, int y, int least)
{
	int white = VHS_DROPOUT_WHITE << (cur->fmt->depth - 8), black = VHS_DROPOUT_BLACK << (cur->fmt->depth - 8);
	int v = s_at(cur, 0, x, y), lo, hi, n[6], k = 0, bright, dark;
	int mul_b = v >= white ? 3 : 1, mul_d = v <= black ? 3 : 1;

	n[k++] = s_at(cur, 0, x, y - 1);
	if (abs(v - n[0]) * (mul_b > mul_d ? mul_b : mul_d) < least)
		return 0;
	n[k++] = s_at(cur, 0, x, y + 1);
	n[k++] = s_at(cur, 0, x, y - 2);
	n[k++] = s_at(cur, 0, x, y + 2);
	if (prev)
		n[k++] = s_at(prev, 0, x, y);
	if (next)
		n[k++] = s_at(next, 0, x, y);
	lo = hi = n[0];
	for (int i = 1; i < k; i++) {
		lo = n[i] < lo ? n[i] : lo;
		hi = n[i] > hi ? n[i] : hi;
	}
	bright = (v - hi) * mul_b;
	dark = (lo - v) * mul_d;
	return bright >= least ? bright : dark >= least ? -dark : 0;
}

/* Whether the run [x0, x1) of line y of cur is picture that moved: found again, near where it
 * is, in the frame other (shifted up to MOVE_X samples across and MOVE_Y lines of its field
 * down or up, within a third of a step on average). */
static int s_moved(const struct vhs_picture *other, const struct vhs_picture *cur, int y, int x0, int x1,
		   int step)
{
	if (!other)
		return 0;
	for (int dy = -2 * MOVE_Y; dy <= 2 * MOVE_Y; dy += 2) {
		int oy = y + dy;

		if (oy < 0 || oy >= cur->height)
			continue;
		for (int dx = -MOVE_X; dx <= MOVE_X; dx++) {
			long sum = 0;

			if (x0 + dx < 0 || x1 + dx > cur->width)
				continue;
			for (int x = x0; x < x1; x++)
				sum += abs(s_at(cur, 0, x, y) - s_at(other, 0, x + dx, oy));
			if (3 * sum < (long)step * (x1 - x0))
				return 1;
		}
	}
	return 0;
}

/* Whether the run [x0, x1) of line y, strong samples of which stand out by a whole step, is
 * a dropout: enough of them, and not picture that moved. */
static int s_keep(const struct vhs_picture *prev, const struct vhs_picture *cur,
		  const struct vhs_picture *next, int y, int x0, int x1, int strong, int step)
{
	return strong >= VHS_DROPOUT_MIN_RUN && !s_moved(prev, cur, y, x0, x1, step) &&
	       !s_moved(next, cur, y, x0, x1, step);
}

int vhs_dropouts_find(const struct vhs_picture *prev, const struct vhs_picture *cur,
		      const struct vhs_picture *next, struct vhs_dropout *out, int max)
{
	int step = VHS_DROPOUT_STEP << (cur->fmt->depth - 8), found = 0;

	if (!prev && !next)
		return 0; /* nothing in time to tell a dropout from the picture by */
	for (int y = 2; y < cur->height - 2; y++) {
		int start = -1, sign = 0, last = -1, strong = 0;

		for (int x = 0; x <= cur->width; x++) {
			/* runs of samples standing out by half a step, kept for the whole-step ones
			 * in them (hysteresis: a streak across texture is found whole) */
			int by = x < cur->width ? s_standout(prev, cur, next, x, y, step / 2) : 0;
			int o = by > 0 ? 1 : by < 0 ? -1 : 0;

			if (o && start >= 0 && o == sign) {
				last = x;
				strong += abs(by) >= step;
				continue;
			}
			if (start >= 0 && (o != 0 || x - last > BRIDGE || x == cur->width)) {
				if (s_keep(prev, cur, next, y, start, last + 1, strong, step)) {
					if (found < max)
						out[found] = (struct vhs_dropout){ y, start, last + 1 };
					found++;
				}
				start = -1;
			}
			if (o && start < 0) {
				start = last = x;
				sign = o;
				strong = abs(by) >= step;
			}
		}
	}
	return found;
}

/* The replacement of sample (x, y) of plane p: the mean of the frames either side where they
 * agree, else of the lines above and below. */
static int s_fill(const struct vhs_picture *prev, const struct vhs_picture *cur,
		  const struct vhs_picture *next, int p, int x, int y, int h, int still)
{
	if (prev && next) {
		int a = s_at(prev, p, x, y), b = s_at(next, p, x, y);

		if (abs(a - b) <= still)
			return (a + b + 1) / 2;
	}
	return (s_at(cur, p, x, y > 0 ? y - 1 : y + 1) + s_at(cur, p, x, y + 1 < h ? y + 1 : y - 1) + 1) / 2;
}

void vhs_dropouts_repair(const struct vhs_picture *prev, const struct vhs_picture *cur,
			 const struct vhs_picture *next, struct vhs_picture *out,
			 const struct vhs_dropout *d, int n)
{
	const struct vhs_pixfmt *f = cur->fmt;
	int still = VHS_DROPOUT_STILL << (f->depth - 8);

	for (int i = 0; i < n; i++) {
		for (int p = 0; p < f->planes; p++) {
			int sx = p ? f->log2_cw : 0, sy = p ? f->log2_ch : 0;
			int h = vhs_pixfmt_plane_height(f, p, cur->height), y = d[i].y >> sy;
			int x0 = d[i].x0 >> sx, x1 = (d[i].x1 + (1 << sx) - 1) >> sx;

			for (int x = x0; x < x1; x++)
				s_put(out, p, x, y, s_fill(prev, cur, next, p, x, y, h, still));
		}
	}
}
