/* resample.c: Lanczos-3 filter tables and their application on the CPU (see resample.h).
 *
 * DESIGN
 * Table (built once per stream, in double, stored as float): for output sample j of an
 * n -> m resize,
 *   centre  c = (j + 0.5) * n / m - 0.5
 *   stretch s = n / m when m < n (the kernel widens so it low-passes), else 1
 *   radius  r = 3 s;  taps = 2 * ceil(r)
 *   first   = floor(c - r) + 1           (the leftmost sample with |i - c| < r)
 *   w[k]    = L((first + k - c) / s), L(x) = sinc(x) sinc(x / 3) for |x| < 3, else 0
 *   then divided by their sum (so they sum to 1) and rounded to float.
 * n == m is the identity: one tap of weight 1 at first = j (sinc at integers is not
 * exactly 0 in floating point, so the general table would not copy exactly).
 * Edges: a sample index outside [0, n) stands for the nearest edge sample. When n >= taps
 * the table folds this in: weights of out-of-range taps are added to the edge tap's and
 * the window shifted inside [0, n), so first + taps <= n and the appliers (here and on
 * the GPU) never need to clamp; when n < taps the table keeps raw indices and the
 * appliers clamp each index to [0, n - 1].
 *
 * Application, float32, no fused multiply-add (see color.c): for a tap sum over input
 * samples x[first + k] (clamped), acc = w[0] * x[first] then acc = acc + w[k] * x[first +
 * k] for k = 1 .. taps - 1, in that order, so a one-tap identity copies bit for bit.
 * Horizontal pass first (each input row to out_w samples, into tmp), then the vertical
 * pass (each output row from taps rows of tmp, same sum per column). Planes round half up
 * ((int)clamp(acc + 0.5, 0, max_code)) at the end of the vertical pass only.
 */
#include "resample.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define LANCZOS_A 3
#define PLANE_CHUNK 256 /* output columns per vertical step of vhs_resample_plane */

static double s_sinc(double x)
{
	return x == 0.0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
}

static double s_lanczos(double x)
{
	if (x <= -LANCZOS_A || x >= LANCZOS_A)
		return 0.0;
	return s_sinc(x) * s_sinc(x / LANCZOS_A);
}

static int s_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* Moves out-of-range taps of row j onto the edge samples (needs n >= taps); scratch
 * holds taps doubles. */
static void s_fold(struct vhs_resample_table *t, int j, double *w, double *scratch)
{
	int first = t->first[j], at = s_clampi(first, 0, t->in_size - t->taps);

	memset(scratch, 0, (size_t)t->taps * sizeof(*scratch));
	for (int k = 0; k < t->taps; k++)
		scratch[s_clampi(first + k, 0, t->in_size - 1) - at] += w[k];
	memcpy(w, scratch, (size_t)t->taps * sizeof(*w));
	t->first[j] = at;
}

/* Weights of output sample j, normalised and folded; scratch holds 2 * taps doubles. */
static void s_row(struct vhs_resample_table *t, int j, double stretch, double radius,
		  double *scratch)
{
	double c = (j + 0.5) * t->in_size / t->out_size - 0.5, *w = scratch, sum = 0.0;
	int first = (int)floor(c - radius) + 1;

	for (int k = 0; k < t->taps; k++) {
		w[k] = s_lanczos((first + k - c) / stretch);
		sum += w[k];
	}
	for (int k = 0; k < t->taps; k++)
		w[k] /= sum;
	t->first[j] = first;
	if (t->in_size >= t->taps)
		s_fold(t, j, w, scratch + t->taps);
	for (int k = 0; k < t->taps; k++)
		t->weights[(size_t)j * t->taps + k] = (float)w[k];
}

int vhs_resample_table_init(struct vhs_resample_table *t, int n, int m)
{
	double stretch = m < n ? (double)n / m : 1.0, radius = LANCZOS_A * stretch;
	double *scratch;

	memset(t, 0, sizeof(*t));
	if (n < 1 || m < 1)
		return -EINVAL;
	t->in_size = n;
	t->out_size = m;
	t->taps = n == m ? 1 : 2 * (int)ceil(radius);
	t->first = malloc((size_t)m * sizeof(*t->first));
	t->weights = malloc((size_t)m * (size_t)t->taps * sizeof(*t->weights));
	scratch = malloc(2 * (size_t)t->taps * sizeof(*scratch));
	if (!t->first || !t->weights || !scratch)
		goto out_free;
	for (int j = 0; j < m; j++) {
		if (n == m) {
			t->first[j] = j;
			t->weights[j] = 1.0f;
		} else {
			s_row(t, j, stretch, radius, scratch);
		}
	}
	free(scratch);
	return 0;

out_free:
	free(scratch);
	vhs_resample_table_free(t);
	return -ENOMEM;
}

void vhs_resample_table_free(struct vhs_resample_table *t)
{
	free(t->first);
	free(t->weights);
	t->first = NULL;
	t->weights = NULL;
}

/* Whether output sample j's taps all lie inside the input (no clamping needed). */
static int s_inside(const struct vhs_resample_table *t, int j)
{
	return t->first[j] >= 0 && t->first[j] + t->taps <= t->in_size;
}

/* ---- HWC float images -------------------------------------------------------------------- */

/* Channel ch of output sample j of one row (c channels). */
static inline float s_dot(const float *in, int c, int ch, const struct vhs_resample_table *h,
			  int j)
{
	const float *w = h->weights + (size_t)j * h->taps;
	int first = h->first[j], last = h->in_size - 1;
	float acc;

	if (s_inside(h, j)) {
		in += (size_t)first * c + ch;
		acc = w[0] * in[0];
		for (int k = 1; k < h->taps; k++)
			acc = acc + w[k] * in[(size_t)k * c];
		return acc;
	}
	acc = w[0] * in[(size_t)s_clampi(first, 0, last) * c + ch];
	for (int k = 1; k < h->taps; k++)
		acc = acc + w[k] * in[(size_t)s_clampi(first + k, 0, last) * c + ch];
	return acc;
}

/* One row of h->in_size pixels (c channels) to h->out_size pixels. */
static void s_hwc_hrow(const float *in, int c, float *out, const struct vhs_resample_table *h)
{
	for (int j = 0; j < h->out_size; j++)
		for (int ch = 0; ch < c; ch++)
			out[(size_t)j * c + ch] = s_dot(in, c, ch, h, j);
}

/* Row number of tap k of output row j (clamped). */
static int s_tap_row(const struct vhs_resample_table *v, int j, int k)
{
	return s_clampi(v->first[j] + k, 0, v->in_size - 1);
}

void vhs_resample_hwc(const float *in, int iw, int ih, int c, float *out, int ow, int oh,
		      const struct vhs_resample_table *h, const struct vhs_resample_table *v,
		      float *tmp)
{
	size_t irow = (size_t)iw * c, orow = (size_t)ow * c;

	assert(h->in_size == iw && h->out_size == ow && v->in_size == ih && v->out_size == oh);
	for (int y = 0; y < ih; y++)
		s_hwc_hrow(in + y * irow, c, tmp + y * orow, h);
	for (int j = 0; j < oh; j++) {
		const float *w = v->weights + (size_t)j * v->taps;
		const float *src = tmp + (size_t)s_tap_row(v, j, 0) * orow;
		float *dst = out + (size_t)j * orow;

		for (size_t i = 0; i < orow; i++)
			dst[i] = w[0] * src[i];
		for (int k = 1; k < v->taps; k++) {
			src = tmp + (size_t)s_tap_row(v, j, k) * orow;
			for (size_t i = 0; i < orow; i++)
				dst[i] = dst[i] + w[k] * src[i];
		}
	}
}

/* ---- planes of integer samples ------------------------------------------------------------ */

/* Sample i of a row of 1- or 2-byte samples, as float. */
static inline float s_px(const uint8_t *row, int bytes, int i)
{
	return bytes == 1 ? (float)row[i] : (float)((const uint16_t *)(const void *)row)[i];
}

/* One row of integer samples to h->out_size floats; inlined once per sample size (bytes
 * is a constant in each call from s_plane_hrow), so there is no per-tap branch. */
static inline void s_plane_hrow_n(const uint8_t *row, int bytes, float *out,
				  const struct vhs_resample_table *h)
{
	int last = h->in_size - 1;

	for (int j = 0; j < h->out_size; j++) {
		const float *w = h->weights + (size_t)j * h->taps;
		int first = h->first[j];
		float acc;

		if (s_inside(h, j)) {
			acc = w[0] * s_px(row, bytes, first);
			for (int k = 1; k < h->taps; k++)
				acc = acc + w[k] * s_px(row, bytes, first + k);
		} else {
			acc = w[0] * s_px(row, bytes, s_clampi(first, 0, last));
			for (int k = 1; k < h->taps; k++)
				acc = acc + w[k] * s_px(row, bytes, s_clampi(first + k, 0, last));
		}
		out[j] = acc;
	}
}

static void s_plane_hrow(const uint8_t *row, int bytes, float *out,
			 const struct vhs_resample_table *h)
{
	if (bytes == 1)
		s_plane_hrow_n(row, 1, out, h);
	else
		s_plane_hrow_n(row, 2, out, h);
}

/* acc[i] + 0.5 clamped to [0, max_code], truncated, into columns [from, from + n). */
static void s_store_row(uint8_t *row, int bytes, int from, int n, float *acc, float max_code)
{
	for (int i = 0; i < n; i++) {
		float c = acc[i] + 0.5f;

		acc[i] = c < 0.0f ? 0.0f : (c > max_code ? max_code : c);
	}
	if (bytes == 1) {
		for (int i = 0; i < n; i++)
			row[from + i] = (uint8_t)acc[i];
	} else {
		uint16_t *r16 = (uint16_t *)(void *)row + from;

		for (int i = 0; i < n; i++)
			r16[i] = (uint16_t)acc[i];
	}
}

/* Output row j of the vertical pass, in column chunks (acc on the stack). */
static void s_plane_vrow(const float *tmp, int ow, const struct vhs_resample_table *v, int j,
			 uint8_t *row, int bytes, float max_code)
{
	const float *w = v->weights + (size_t)j * v->taps;
	float acc[PLANE_CHUNK];

	for (int x0 = 0; x0 < ow; x0 += PLANE_CHUNK) {
		int n = ow - x0 < PLANE_CHUNK ? ow - x0 : PLANE_CHUNK;
		const float *src = tmp + (size_t)s_tap_row(v, j, 0) * ow + x0;

		for (int i = 0; i < n; i++)
			acc[i] = w[0] * src[i];
		for (int k = 1; k < v->taps; k++) {
			src = tmp + (size_t)s_tap_row(v, j, k) * ow + x0;
			for (int i = 0; i < n; i++)
				acc[i] = acc[i] + w[k] * src[i];
		}
		s_store_row(row, bytes, x0, n, acc, max_code);
	}
}

void vhs_resample_plane(const uint8_t *in, int in_linesize, int bytes, uint8_t *out,
			int out_linesize, int max_code, const struct vhs_resample_table *h,
			const struct vhs_resample_table *v, float *tmp)
{
	int ow = h->out_size;

	assert(bytes == 1 || bytes == 2);
	for (int y = 0; y < v->in_size; y++)
		s_plane_hrow(in + (ptrdiff_t)y * in_linesize, bytes, tmp + (size_t)y * ow, h);
	for (int j = 0; j < v->out_size; j++)
		s_plane_vrow(tmp, ow, v, j, out + (ptrdiff_t)j * out_linesize, bytes,
			     (float)max_code);
}
