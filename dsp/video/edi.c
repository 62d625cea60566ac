/* edi.c: edge-directed interpolation of a field's missing lines (see edi.h). */
#include "edi.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 2                  /* samples either side summed into a direction's cost */
#define STEP_PENALTY 12           /* cost added per pixel of slope (cost units: see s_row) */
#define SLANT_MARGIN 16           /* a slant must cost this much less than half the
				   * vertical's (a quarter, past STEEP): noise and texture have
				   * no edge to follow, and a shallow guess goes wrong the most */
#define STEEP 2                   /* slopes up to this many pixels a line are steep */

/* Scratch for one call: the four field lines padded at both sides, and per-sample costs. */
struct scratch {
	int pad;                  /* samples of padding at either side of a line */
	uint8_t *line[4];         /* c, a, b, e, each width + 2 * pad, padded by replication */
	int *diff;                /* width + 2 * WINDOW: one direction's per-sample cost */
	int *best;                /* width: the best slant's cost so far */
	int *vertical;            /* width: the vertical's cost */
	signed char *dir;         /* width: its direction */
};

static int s_scratch(struct scratch *s, int width, int radius)
{
	size_t padded;

	s->pad = 3 * radius + WINDOW + 2;
	padded = (size_t)width + 2 * (size_t)s->pad;
	s->line[0] = malloc(4 * padded);
	s->diff = malloc(((size_t)width + 2 * WINDOW) * sizeof(*s->diff));
	s->best = malloc((size_t)width * sizeof(*s->best));
	s->vertical = malloc((size_t)width * sizeof(*s->vertical));
	s->dir = malloc((size_t)width);
	if (!s->line[0] || !s->diff || !s->best || !s->vertical || !s->dir)
		return -ENOMEM;
	for (int i = 1; i < 4; i++)
		s->line[i] = s->line[i - 1] + padded;
	return 0;
}

static void s_scratch_free(struct scratch *s)
{
	free(s->line[0]);
	free(s->diff);
	free(s->best);
	free(s->vertical);
	free(s->dir);
}

/* Copies a row into a padded line, the edge samples repeated into the padding. */
static void s_pad(uint8_t *line, const uint8_t *row, int width, int pad)
{
	memset(line, row[0], (size_t)pad);
	memcpy(line + pad, row, (size_t)width);
	memset(line + pad + width, row[width - 1], (size_t)pad);
}

static inline int s_abs(int v)
{
	return v < 0 ? -v : v;
}

static inline uint8_t s_clamp(int v, int lo, int hi)
{
	return (uint8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* One missing row from the padded lines c, a, b, e (pointers at their first real sample).
 * A direction's cost per sample is 2|a - b| + |a - c| + |b - e| along it (twice edi.h's);
 * the vertical's cost, less the margin a slant must win by, is the one to beat. */
static void s_row(const struct vhs_edi *p, struct scratch *s, uint8_t *out, int width)
{
	const uint8_t *c = s->line[0] + s->pad, *a = s->line[1] + s->pad;
	const uint8_t *b = s->line[2] + s->pad, *e = s->line[3] + s->pad;

	/* vertical first, then ever shallower, each slope negative before positive: a tie keeps
	 * the steeper direction */
	for (int k = 0; k <= 2 * p->radius; k++) {
		int d = k == 0 ? 0 : k % 2 ? -(k + 1) / 2 : k / 2, reach = 3 * s_abs(d);
		int penalty = STEP_PENALTY * s_abs(d), *diff = s->diff + WINDOW;

		for (int x = -WINDOW; x < width + WINDOW; x++)
			diff[x] = 2 * s_abs(a[x + d] - b[x - d]) + s_abs(a[x + d] - c[x + 3 * d]) +
				  s_abs(b[x - d] - e[x - 3 * d]);
		/* a slant is only tried where its samples are inside the picture */
		for (int x = reach; x < width - reach; x++) {
			int cost = 0;

			for (int i = -WINDOW; i <= WINDOW; i++)
				cost += diff[x + i];
			if (d == 0) {
				s->vertical[x] = cost;
				s->best[x] = INT_MAX;
				s->dir[x] = 0;
			} else if (cost + penalty < s->best[x] &&
				   cost + penalty < s->vertical[x] / (s_abs(d) <= STEEP ? 2 : 4) - SLANT_MARGIN) {
				s->best[x] = cost + penalty;
				s->dir[x] = (signed char)d;
			}
		}
	}
	for (int x = 0; x < width; x++) {
		int d = s->dir[x];
		int pa = a[x + d], pb = b[x - d];
		int v = (-c[x + 3 * d] + 9 * pa + 9 * pb - e[x - 3 * d] + 8) >> 4;

		out[x] = d ? s_clamp(v, pa < pb ? pa : pb, pa < pb ? pb : pa) : s_clamp(v, 0, 255);
	}
}

/* The field row nearest to row y on its side: y itself when it is a field row in range. */
static int s_field_row(int y, int parity, int height)
{
	int last = (height - 1 - parity) / 2 * 2 + parity; /* the field's last row */

	if (y < parity)
		return parity;
	if (y > last)
		return last;
	return y;
}

int vhs_edi_rows(const struct vhs_edi *p, const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
		 ptrdiff_t dst_stride, int width, int height, int parity, int y0, int y1)
{
	struct vhs_edi q = *p;
	struct scratch s = { 0 };
	int ret;

	if (q.radius < 0)
		q.radius = 0;
	if (q.radius > VHS_EDI_RADIUS_MAX)
		q.radius = VHS_EDI_RADIUS_MAX;
	if (width <= 0 || height < 2)
		return 0;
	if ((ret = s_scratch(&s, width, q.radius))) {
		s_scratch_free(&s);
		return ret;
	}
	for (int y = y0 < 0 ? 0 : y0; y < y1 && y < height; y++) {
		static const int offsets[4] = { -3, -1, 1, 3 };
		int above = s_field_row(y - 1, parity, height), below = s_field_row(y + 1, parity, height);

		if ((y & 1) == parity)
			continue;
		if (above > y || below < y) { /* the picture's first or last row: only one side */
			memcpy(dst + y * dst_stride, src + (above > y ? above : below) * src_stride, (size_t)width);
			continue;
		}
		for (int i = 0; i < 4; i++)
			s_pad(s.line[i], src + s_field_row(y + offsets[i], parity, height) * src_stride, width, s.pad);
		s_row(&q, &s, dst + y * dst_stride, width);
	}
	s_scratch_free(&s);
	return 0;
}
