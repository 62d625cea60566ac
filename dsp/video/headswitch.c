/* headswitch.c: the head-switching band, found by the picture's edges and repaired (see
 * headswitch.h). */
#include "headswitch.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "subpixel.h"

#define BLANK_COLS 4           /* outermost columns: the blanking */
#define PICTURE_FROM 24        /* columns in from the side where the picture is sampled */
#define PICTURE_TO 40
#define EDGE_MAX 64            /* an edge is looked for this far in from its side */
#define GAP 4                  /* untorn lines in a row that end the band */
#define EDGE_AT 0.3            /* of the way from blanking to picture: where the picture starts */
#define BLANK_MAX 48           /* 8-bit codes: blanking is no brighter */
#define BLANK_SPREAD 8         /* ... and its lines differ by no more */
#define EDGE_STEADY 1.0        /* pixels: the reference lines' edges' median deviation */
#define MATCH_MARGIN 48        /* pixels each side left out of a row's roughness */
#define NOISE_MIN 12           /* 8-bit codes: noise is at least this rough */

/* One side's levels and where its edge sits on the reference lines. */
struct side {
	int ok;                   /* the picture stands clear of the blanking */
	double flat;              /* how far from the blanking level a sample is no longer blanking */
	double blank, mid;        /* the blanking's level, and the level that marks the picture:
				   * EDGE_AT of the way to the picture's (a line whose picture is
				   * darker than typical still crosses it) */
	double at;                /* the edge's reference position (pixels from the side) */
};

static inline int s_get(const uint8_t *row, int bytes, int x)
{
	return bytes == 1 ? row[x] : ((const uint16_t *)row)[x];
}

static int s_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double s_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), s_cmp);
	return n & 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The mean of columns [from, to) counted in from side (0: left, 1: right) of a row. */
static double s_mean(const uint8_t *row, int w, int bytes, int side, int from, int to)
{
	double sum = 0;

	for (int i = from; i < to; i++)
		sum += s_get(row, bytes, side ? w - 1 - i : i);
	return sum / (to - from);
}

/* Where a row's picture starts, scanning in from side: pixels from that side (sub-pixel), or
 * -1 when no sharp step to the picture comes within EDGE_MAX after blanking-flat samples.
 * The sample that straddles the step is the last one near the blanking level before the
 * first one past the side's mid level, or that one; the share of it the picture covers, against the next
 * sample's level (the picture's, right there), places the step inside it: exact for a step
 * sampled over each pixel's area, whatever the picture's level. */
static double s_edge(const uint8_t *row, int w, int bytes, int side, const struct side *sd)
{
	double flat = sd->flat;

	for (int i = 1; i < EDGE_MAX && i + 2 < w / 2; i++) {
		double v = s_get(row, bytes, side ? w - 1 - i : i), prev, mix, next, f;
		int m;

		if ((v - sd->mid) * (sd->blank - sd->mid) > 0) {
			/* before the step: blanking, flat (a dark picture is no edge) */
			if (fabs(v - sd->blank) > flat && fabs(s_get(row, bytes, side ? w - i : i - 1) - sd->blank) > flat)
				return -1;
			continue;
		}
		prev = s_get(row, bytes, side ? w - i : i - 1);
		m = fabs(prev - sd->blank) > flat ? i - 1 : i; /* the straddling sample */
		mix = s_get(row, bytes, side ? w - 1 - m : m);
		next = s_get(row, bytes, side ? w - 2 - m : m + 1);
		if (fabs(next - sd->blank) < fabs(sd->mid - sd->blank))
			return -1; /* no picture right after it: not a sharp step */
		f = (mix - sd->blank) / (next - sd->blank);
		f = f < 0 ? 0 : f > 1 ? 1 : f;
		return m + 0.5 - f;
	}
	return -1;
}

/* How rough a row is: the mean absolute difference of neighbouring samples over its middle
 * (noise is rough; a picture, even a detailed one, much less). */
static double s_rough(const uint8_t *row, int w, int bytes)
{
	uint64_t sum = 0;

	for (int x = MATCH_MARGIN; x < w - MATCH_MARGIN; x++)
		sum += (uint64_t)abs(s_get(row, bytes, x + 1) - s_get(row, bytes, x));
	return (double)sum / (w - 2 * MATCH_MARGIN);
}

/* The reference: levels and edge positions of each side over the VHS_HS_REF lines above
 * the examined ones. */
static void s_reference(const struct vhs_picture *pic, int first, struct side sd[2])
{
	int w = pic->width, bytes = pic->fmt->bytes;
	double blank[VHS_HS_REF], picture[VHS_HS_REF], at[VHS_HS_REF];
	double scale = 1 << (pic->fmt->depth - 8), step = VHS_HS_MIN_STEP * scale;

	for (int side = 0; side < 2; side++) {
		int n = 0;

		for (int i = 0; i < VHS_HS_REF; i++) {
			const uint8_t *row = pic->data[0] + (size_t)(first - VHS_HS_REF + i) * pic->linesize[0];

			blank[i] = s_mean(row, w, bytes, side, 0, BLANK_COLS);
			picture[i] = s_mean(row, w, bytes, side, PICTURE_FROM, PICTURE_TO);
		}
		double b = s_median(blank, VHS_HS_REF), p = s_median(picture, VHS_HS_REF);
		double spread = blank[VHS_HS_REF - 1] - blank[0]; /* sorted by the median */

		/* blanking is dark and flat, line after line; picture is not */
		sd[side].ok = fabs(p - b) >= step && b <= BLANK_MAX * scale && spread <= BLANK_SPREAD * scale;
		sd[side].blank = b;
		sd[side].flat = BLANK_SPREAD * scale;
		sd[side].mid = b + EDGE_AT * (p - b);
		for (int i = 0; sd[side].ok && i < VHS_HS_REF; i++) {
			const uint8_t *row = pic->data[0] + (size_t)(first - VHS_HS_REF + i) * pic->linesize[0];
			double e = s_edge(row, w, bytes, side, &sd[side]);

			if (e >= 0)
				at[n++] = e;
		}
		/* most reference lines must show the edge, in one place, or the side is no use */
		sd[side].ok = sd[side].ok && n >= VHS_HS_REF * 3 / 4;
		sd[side].at = sd[side].ok ? s_median(at, n) : 0;
		for (int i = 0; sd[side].ok && i < n; i++)
			at[i] = fabs(at[i] - sd[side].at);
		sd[side].ok = sd[side].ok && s_median(at, n) <= EDGE_STEADY;
	}
}

/* The typical roughness of picture lines: the median over the reference lines. */
static double s_typical(const struct vhs_picture *pic, int first)
{
	double r[VHS_HS_REF];

	for (int i = 0; i < VHS_HS_REF; i++)
		r[i] = s_rough(pic->data[0] + (size_t)(first - VHS_HS_REF + i) * pic->linesize[0], pic->width,
			       pic->fmt->bytes);
	return s_median(r, VHS_HS_REF);
}

/* One line's pull from its edges: its state. */
static int s_line(const uint8_t *row, int w, int bytes, const struct side sd[2], double *shift)
{
	double pull[2];
	int found[2];

	for (int side = 0; side < 2; side++) {
		double e = sd[side].ok ? s_edge(row, w, bytes, side, &sd[side]) : -1;

		found[side] = e >= 0;
		/* an edge further in from the left is a pull to the right; from the right, left */
		pull[side] = side ? sd[side].at - e : e - sd[side].at;
	}
	*shift = 0;
	if (found[0] && found[1] && fabs(pull[0] - pull[1]) > VHS_HS_AGREE)
		return VHS_HS_NOISE_LINE;
	if (!found[0] && !found[1])
		return VHS_HS_UNKNOWN;
	*shift = found[0] && found[1] ? 0.5 * (pull[0] + pull[1]) : found[0] ? pull[0] : pull[1];
	return VHS_HS_MOVED;
}

int vhs_hs_match(const struct vhs_picture *pic, struct vhs_hs_lines *out)
{
	int w = pic->width, bytes = pic->fmt->bytes;
	double scale = 1 << (pic->fmt->depth - 8), typical; /* roughness that makes noise */
	struct side sd[2];

	memset(out, 0, sizeof(*out));
	if (w < 160 || pic->height < 2 * (VHS_HS_SEARCH + VHS_HS_REF))
		return -EINVAL;
	out->first = pic->height - VHS_HS_SEARCH;
	s_reference(pic, out->first, sd);
	if (!sd[0].ok && !sd[1].ok)
		return 0; /* no blanking either side: nothing to go by */
	typical = fmax(VHS_HS_NOISE * s_typical(pic, out->first), NOISE_MIN * scale);
	out->n = VHS_HS_SEARCH;
	for (int i = 0; i < VHS_HS_SEARCH; i++) {
		const uint8_t *row = pic->data[0] + (size_t)(out->first + i) * pic->linesize[0];

		out->state[i] = (unsigned char)s_line(row, w, bytes, sd, &out->shift[i]);
		if (s_rough(row, w, bytes) >= typical)
			out->state[i] = VHS_HS_NOISE_LINE;
	}
	return 0;
}

int vhs_hs_torn(const struct vhs_hs_lines *m, int i)
{
	return m->state[i] == VHS_HS_NOISE_LINE ||
	       (m->state[i] == VHS_HS_MOVED && fabs(m->shift[i]) >= VHS_HS_TORN_SHIFT);
}

int vhs_hs_band(const struct vhs_hs_lines *m)
{
	int top = m->n, untorn = 0;

	for (int i = m->n - 1; i >= 0 && untorn < GAP; i--) {
		if (vhs_hs_torn(m, i)) {
			top = i;
			untorn = 0;
		} else if (m->state[i] == VHS_HS_MOVED) {
			untorn++; /* an unknown line tells neither way */
		}
	}
	return m->n - top;
}

/* A lost row of plane p filled from the row two above (the same field's, repaired by then;
 * the rows are repaired from the top of the band down). */
static void s_fill_row(struct vhs_picture *pic, int p, int y, int w)
{
	int from = y >= 2 ? y - 2 : 0;

	memcpy(pic->data[p] + (size_t)y * pic->linesize[p], pic->data[p] + (size_t)from * pic->linesize[p],
	       (size_t)w * pic->fmt->bytes);
}

int vhs_hs_repair(struct vhs_picture *pic, int lines)
{
	const struct vhs_pixfmt *f = pic->fmt;
	int maxval = (1 << f->depth) - 1, masked = 0;
	struct vhs_hs_lines m;
	uint8_t *tmp;
	int ret;

	if ((ret = vhs_hs_match(pic, &m)))
		return ret;
	if (!m.n) { /* no edges: no line's pull is known, every line of the band is lost */
		m.n = VHS_HS_SEARCH;
		memset(m.state, VHS_HS_UNKNOWN, sizeof(m.state));
	}
	lines = lines > VHS_HS_SEARCH ? VHS_HS_SEARCH : lines;
	tmp = malloc((size_t)pic->width * f->bytes);
	if (!tmp)
		return -ENOMEM;
	for (int p = 0; p < f->planes; p++) {
		int w = vhs_pixfmt_plane_width(f, p, pic->width), h = vhs_pixfmt_plane_height(f, p, pic->height);
		int sy = p ? f->log2_ch : 0, sx = p ? f->log2_cw : 0;

		int top = (pic->height - lines + (1 << sy) - 1) >> sy;

		for (int y = top < 0 ? 0 : top; y < h; y++) {
			int i = (y << sy) - m.first, lost = 0;
			uint8_t *row = pic->data[p] + (size_t)y * pic->linesize[p];
			struct vhs_subpixel_taps t;

			for (int k = 0; k < (1 << sy) && i + k < m.n; k++)
				lost |= m.state[i + k] != VHS_HS_MOVED;
			if (lost) {
				s_fill_row(pic, p, y, w);
				masked += !p;
				continue;
			}
			vhs_subpixel_taps(m.shift[i] / (1 << sx), &t);
			memcpy(tmp, row, (size_t)w * f->bytes);
			vhs_subpixel_row(tmp, row, w, f->bytes, maxval, &t);
		}
	}
	free(tmp);
	return masked;
}
