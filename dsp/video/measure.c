/* measure.c: luma levels and NTSC setup, and chroma shift (see measure.h). */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"

/* Sample (x, y) of plane p, clamped to the plane. */
static double s_at(const struct vhs_picture *pic, int p, int w, int h, int x, int y)
{
	const uint8_t *row;

	x = x < 0 ? 0 : x >= w ? w - 1 : x;
	y = y < 0 ? 0 : y >= h ? h - 1 : y;
	row = pic->data[p] + (size_t)y * (size_t)pic->linesize[p];
	return pic->fmt->bytes == 1 ? row[x] : (double)((const uint16_t *)row)[x];
}

/* ---- levels ---- */

void vhs_levels_add(struct vhs_levels_hist *h, const struct vhs_picture *pic)
{
	int shift = pic->fmt->depth - 8;

	if (pic->fmt->rgb)
		return;
	for (int y = 0; y < pic->height; y++) {
		const uint8_t *row = pic->data[0] + (size_t)y * (size_t)pic->linesize[0];

		for (int x = 0; x < pic->width; x++) {
			unsigned v = pic->fmt->bytes == 1 ? row[x] : ((const uint16_t *)row)[x] >> shift;

			h->n[v > 255 ? 255 : v]++;
		}
		h->total += (uint64_t)pic->width;
	}
}

/* The code below which a share q of the samples lies. */
static double s_percentile(const struct vhs_levels_hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->total), sum = 0;

	for (int c = 0; c < 256; c++) {
		sum += h->n[c];
		if (sum > want)
			return c;
	}
	return 255;
}

int vhs_levels_decide(const struct vhs_levels_hist *h, struct vhs_levels *out)
{
	uint64_t dark = 0;

	memset(out, 0, sizeof(*out));
	if (!h->total)
		return -ENODATA;
	out->black = s_percentile(h, 0.005);
	out->white = s_percentile(h, 0.995);
	for (int c = 0; c < 256 && c <= out->black + 4; c++)
		dark += c >= out->black - 4 ? h->n[c] : 0;
	/* black above 42 is no black at all: the tape showed nothing to decide by */
	out->confidence = out->black > 42 ? 0 : fmin(1.0, (double)dark / (double)h->total / 0.02);
	out->setup = out->black >= 24 && out->black <= 42 &&
		     fabs(out->black - VHS_SETUP_CODE) < fabs(out->black - 16.0);
	return 0;
}

/* ---- chroma shift ---- */

#define FINE_STEPS 4          /* candidates per luma pixel in the fine search */
#define FAR_PENALTY 0.05      /* correlation a coarse candidate gives up per sample away */
#define MEASURE_AGAIN 0.25    /* a shift one way this large (luma pixels) is allowed for the other */

/* What the measurement reads: the chroma planes, and the luma resampled at the chroma sites
 * (displaced by a candidate shift). */
struct grids {
	const struct vhs_picture *pic;
	struct vhs_color_xform x;
	struct vhs_chroma_site sh, sv;
	int w, h;                 /* chroma samples */
	double *luma, *cb, *cr;   /* [h][w] */
	double *gl, *gc;          /* gradient magnitudes, the mean taken out */
	float *y, *other, *moved; /* the luma plane [pic->height][pic->width]; it moved along the
				   * other direction; it moved by a candidate (scratch) */
};

static void s_grids_free(struct grids *g)
{
	free(g->y);
	free(g->other);
	free(g->moved);
	free(g->luma);
	free(g->cb);
	free(g->cr);
	free(g->gl);
	free(g->gc);
}

static int s_grids(const struct vhs_picture *pic, struct grids *g)
{
	size_t n;

	g->pic = pic;
	vhs_color_setup_in(&g->x, pic->fmt, pic->width, pic->height, &pic->color);
	vhs_chroma_site_init(&g->sh, g->x.sx, g->x.cx_off);
	vhs_chroma_site_init(&g->sv, g->x.sy, g->x.cy_off);
	g->w = vhs_pixfmt_plane_width(pic->fmt, 1, pic->width);
	g->h = vhs_pixfmt_plane_height(pic->fmt, 1, pic->height);
	n = (size_t)g->w * (size_t)g->h;
	g->luma = malloc(n * sizeof(double));
	g->cb = malloc(n * sizeof(double));
	g->cr = malloc(n * sizeof(double));
	g->gl = malloc(n * sizeof(double));
	g->gc = malloc(n * sizeof(double));
	n = (size_t)pic->width * (size_t)pic->height;
	g->y = malloc(n * sizeof(float));
	g->other = malloc(n * sizeof(float));
	g->moved = malloc(n * sizeof(float));
	if (!g->luma || !g->cb || !g->cr || !g->gl || !g->gc || !g->y || !g->other || !g->moved)
		return -ENOMEM;
	for (int j = 0; j < pic->height; j++)
		for (int i = 0; i < pic->width; i++)
			g->y[(size_t)j * pic->width + i] = (float)s_at(pic, 0, pic->width, pic->height, i, j);
	for (int j = 0; j < g->h; j++)
		for (int i = 0; i < g->w; i++) {
			g->cb[(size_t)j * g->w + i] = s_at(pic, 1, g->w, g->h, i, j);
			g->cr[(size_t)j * g->w + i] = s_at(pic, 2, g->w, g->h, i, j);
		}
	return 0;
}

/* The luma plane in moved by d pixels along dir (0: across, 1: down) into out: out at p is
 * in at p - d, Catmull-Rom between the four neighbours, edges repeated. */
static void s_move(const struct grids *g, const float *in, float *out, int dir, double d)
{
	int w = g->pic->width, h = g->pic->height, base = (int)floor(-d) - 1, len = dir ? h : w;
	double f = -d - floor(-d);
	float t[4] = { (float)(-0.5 * f * (1 - f) * (1 - f)), (float)(1 - 2.5 * f * f + 1.5 * f * f * f),
		       (float)(0.5 * f * (1 + 4 * f - 3 * f * f)), (float)(-0.5 * f * f * (1 - f)) };
	size_t step = dir ? (size_t)w : 1, lines = dir ? (size_t)w : (size_t)h, along = dir ? 1 : (size_t)w;

	for (size_t l = 0; l < lines; l++) { /* each row (across) or column (down) */
		const float *src = in + l * along;
		float *dst = out + l * along;

		for (int pos = 0; pos < len; pos++) {
			float sum = 0;

			for (int k = 0; k < 4; k++) {
				int at = pos + base + k;

				at = at < 0 ? 0 : at >= len ? len - 1 : at;
				sum += t[k] * src[(size_t)at * step];
			}
			dst[(size_t)pos * step] = sum;
		}
	}
}

/* The luma at every chroma site by color.h's triangle filter, from the luma plane y. */
static void s_luma_grid(struct grids *g, const float *y)
{
	int lw = g->pic->width, lh = g->pic->height;

	for (int j = 0; j < g->h; j++) {
		for (int i = 0; i < g->w; i++) {
			double sum = 0;

			for (int l = 0; l < g->sv.n; l++) {
				int ly = j * g->x.sy + g->sv.k0 + l;

				ly = ly < 0 ? 0 : ly >= lh ? lh - 1 : ly;
				for (int t = 0; t < g->sh.n; t++) {
					int lx = i * g->x.sx + g->sh.k0 + t;

					lx = lx < 0 ? 0 : lx >= lw ? lw - 1 : lx;
					sum += g->sv.w[l] * g->sh.w[t] * y[(size_t)ly * lw + lx];
				}
			}
			g->luma[(size_t)j * g->w + i] = sum;
		}
	}
}

/* Gradient magnitudes along dir (0: across, 1: down), the mean taken out, of the luma grid
 * into gl and of |dCb| + |dCr| into gc (luma_only: gc is kept). The last column (row) is 0. */
static void s_gradients(struct grids *g, int dir, int luma_only)
{
	size_t step = dir ? (size_t)g->w : 1, count = 0;
	int len = dir ? g->h : g->w;
	double ml = 0, mc = 0;

	for (int j = 0; j < g->h; j++) {
		for (int i = 0; i < g->w; i++) {
			size_t k = (size_t)j * g->w + i;
			int pos = dir ? j : i;
			const double *l = g->luma + k;
			double a, b;

			if (pos + 1 >= len) {
				g->gl[k] = 0;
				if (!luma_only)
					g->gc[k] = 0;
				continue;
			}
			/* the luma's gradient over three samples ([1 2 1] smoothing): closer to the
			 * chroma's, which is always of a narrower band */
			a = 0.25 * (pos ? l[-(ptrdiff_t)step] : l[0]) + 0.5 * l[0] + 0.25 * l[step];
			b = 0.25 * l[0] + 0.5 * l[step] + 0.25 * (pos + 2 < len ? l[2 * step] : l[step]);
			g->gl[k] = fabs(b - a);
			ml += g->gl[k];
			if (!luma_only) {
				g->gc[k] = fabs(g->cb[k + step] - g->cb[k]) + fabs(g->cr[k + step] - g->cr[k]);
				mc += g->gc[k];
			}
			count++;
		}
	}
	ml /= count ? (double)count : 1;
	mc /= count ? (double)count : 1;
	for (int j = 0; j < g->h; j++) {
		for (int i = 0; i < g->w; i++) {
			size_t k = (size_t)j * g->w + i;

			if ((dir ? j : i) + 1 >= len)
				continue; /* stays 0 */
			g->gl[k] -= ml;
			if (!luma_only)
				g->gc[k] -= mc;
		}
	}
}

/* The normalised correlation of gl with gc displaced by s chroma samples along dir. */
static double s_corr(const struct grids *g, int dir, int s)
{
	int len = dir ? g->h : g->w;
	double sum = 0, el = 0, ec = 0;

	for (int j = 0; j < g->h; j++) {
		for (int i = 0; i < g->w; i++) {
			int pos = dir ? j : i, at = pos + s;
			size_t k = (size_t)j * g->w + i;
			double c;

			if (at < 0 || at >= len - 1 || pos >= len - 1)
				continue;
			c = g->gc[dir ? (size_t)at * g->w + i : (size_t)j * g->w + at];
			sum += g->gl[k] * c;
			el += g->gl[k] * g->gl[k];
			ec += c * c;
		}
	}
	return el > 0 && ec > 0 ? sum / sqrt(el * ec) : 0;
}

/* The peak of r[0..n-1] refined by a parabola through its neighbours: an index. */
static double s_peak(const double *r, int n)
{
	int best = 0;
	double d = 0;

	for (int i = 1; i < n; i++)
		best = r[i] > r[best] ? i : best;
	if (best > 0 && best < n - 1) {
		double a = r[best - 1], b = r[best], c = r[best + 1], den = a - 2 * b + c;

		d = den < 0 ? 0.5 * (a - c) / den : 0;
	}
	return best + (d < -0.5 ? -0.5 : d > 0.5 ? 0.5 : d);
}

/* The shift along dir in luma pixels and its evidence: first in whole chroma samples (the
 * luma at the sites against the chroma displaced), then within a chroma sample either side
 * in FINE_STEPS per luma pixel (the luma resampled at the displaced sites, the chroma as it
 * was sampled), the best refined by a parabola. other: the shift already known along the
 * other direction, which the luma is displaced by throughout (a chroma that sits lower as
 * well as to the right matches the luma's edges across only where it is put back down). */
static void s_shift(struct grids *g, int dir, double other, double *shift, double *weight)
{
	int sub = dir ? g->x.sy : g->x.sx, n_fine = 2 * sub * FINE_STEPS + 1;
	double coarse[2 * VHS_SHIFT_RANGE + 1], fine[2 * 4 * FINE_STEPS + 1], c0;
	const float *base = g->y;

	if (other) { /* the luma put where the chroma lies the other way, once */
		s_move(g, g->y, g->other, !dir, other);
		base = g->other;
	}
	s_luma_grid(g, base);
	s_gradients(g, dir, 0);
	/* a farther shift must correlate better by a little per sample: a narrow object's far
	 * edge (the correlation is of edge magnitudes) must not pass for its near one */
	for (int s = -VHS_SHIFT_RANGE; s <= VHS_SHIFT_RANGE; s++)
		coarse[s + VHS_SHIFT_RANGE] = s_corr(g, dir, s) - FAR_PENALTY * abs(s);
	c0 = (double)lrint(s_peak(coarse, 2 * VHS_SHIFT_RANGE + 1)) - VHS_SHIFT_RANGE;
	for (int k = 0; k < n_fine; k++) {
		double d = c0 * sub + (double)(k - sub * FINE_STEPS) / FINE_STEPS;

		s_move(g, base, g->moved, dir, d);
		s_luma_grid(g, g->moved);
		s_gradients(g, dir, 1);
		fine[k] = s_corr(g, dir, 0);
	}
	*shift = c0 * sub + (s_peak(fine, n_fine) - sub * FINE_STEPS) / FINE_STEPS;
	*weight = fine[lrint(s_peak(fine, n_fine))];
	*weight = *weight > 0 ? *weight : 0;
}

int vhs_chroma_shift_measure(const struct vhs_picture *pic, struct vhs_chroma_shift *out)
{
	struct grids g = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (pic->fmt->rgb || pic->fmt->planes < 3 ||
	    vhs_pixfmt_plane_width(pic->fmt, 1, pic->width) < 16 ||
	    vhs_pixfmt_plane_height(pic->fmt, 1, pic->height) < 16)
		return -EINVAL;
	ret = s_grids(pic, &g);
	if (!ret) { /* each direction on its own, then each again with the other's shift */
		double dx, dy;

		s_shift(&g, 0, 0, &dx, &out->wx);
		s_shift(&g, 1, 0, &dy, &out->wy);
		out->dx = dx;
		out->dy = dy;
		if (fabs(dy) >= MEASURE_AGAIN)
			s_shift(&g, 0, dy, &out->dx, &out->wx);
		if (fabs(dx) >= MEASURE_AGAIN)
			s_shift(&g, 1, dx, &out->dy, &out->wy);
	}
	s_grids_free(&g);
	return ret;
}

static int s_by_value(const void *a, const void *b)
{
	double x = ((const struct vhs_shift_sample *)a)->d, y = ((const struct vhs_shift_sample *)b)->d;

	return (x > y) - (x < y);
}

void vhs_shift_combine(struct vhs_shift_sample *s, int n, double *d, double *w)
{
	double total = 0, acc = 0;

	*d = *w = 0;
	for (int i = 0; i < n; i++)
		total += s[i].w;
	if (total <= 0)
		return;
	qsort(s, (size_t)n, sizeof(*s), s_by_value);
	for (int i = 0; i < n; i++) {
		acc += s[i].w;
		if (acc >= total / 2) {
			*d = s[i].d;
			break;
		}
	}
	*w = total / n;
}
