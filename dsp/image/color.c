/* color.c: pictures to and from HWC float RGB on the CPU, the reference the CUDA backend
 * follows (see color.h).
 *
 * DESIGN
 * Setup turns a format and its colour tags into the numbers of struct vhs_color_xform;
 * the conversions use only those numbers, so a GPU kernel that reads the same fields
 * and follows the formulas below computes the same values. Pictures are processed row
 * by row, in chunks of at most CHUNK columns held in stack arrays (no allocation, so the
 * conversions cannot fail): codes are widened to float a chunk at a time (one loop per
 * sample size, not a branch per pixel), converted, and narrowed back the same way.
 *
 * Levels (setup, depth d, u = 2^(d-8)):
 *   limited  y_off = 16u, y_scale = 219u, c_off = 128u, c_scale = 224u
 *   full     y_off = 0, y_scale = 2^d - 1, c_off = 2^(d-1), c_scale = 2^d - 1
 *   RGB      full; R, G and B each use y_off/y_scale
 *   max_code = 2^d - 1
 * Matrix: kr, kb = .2126, .0722 (BT.709) or .299, .114 (BT.601).
 * Chroma siting: chroma sample (i, j) sits at luma position (cx_off + i sx, cy_off + j sy)
 * with, for c = (s - 1) / 2 (the centre of the s luma samples it covers):
 *   LEFT (and UNSPECIFIED) (0, c_y)   CENTER (c_x, c_y)   TOPLEFT (0, 0)   TOP (c_x, 0)
 *   BOTTOMLEFT (0, sy - 1)            BOTTOM (c_x, sy - 1)
 *
 * FORMULAS, all float32 (IEEE single, round to nearest, each operation rounded: no fused
 * multiply-add. GCC in ISO mode (-std=c11) does not contract, and baseline x86-64 has no
 * FMA; nvcc fuses by default, so a kernel that must match bit for bit uses __fmul_rn /
 * __fadd_rn, otherwise it agrees to float rounding). Written with explicit parentheses
 * in evaluation order; "(float)code" is exact.
 *
 * Derived constants (from the xform, once per call):
 *   kg = (1 - kr) - kb
 *   rv = 2 * (1 - kr)        bu = 2 * (1 - kb)
 *   gu = (bu * kb) / kg      gv = (rv * kr) / kg
 *   yk = 1 / y_scale         ck = 1 / c_scale
 *   clamp01(v) = v < 0 ? 0 : (v > 1 ? 1 : v)
 *
 * To RGB, for luma pixel (x, y) of a YUV picture with cw x ch chroma planes:
 *   v  = ((float)y - cy_off) / sy;  j0 = floor(v);  g = v - j0;  j1 = j0 + 1
 *   u  = ((float)x - cx_off) / sx;  i0 = floor(u);  f = u - i0;  i1 = i0 + 1
 *   (the divisions are by 1, 2 or 4: exact) then j0, j1 clamped to [0, ch - 1] and
 *   i0, i1 to [0, cw - 1];
 *   for C in Cb, Cr:  a = C[j0][i0] + g * (C[j1][i0] - C[j0][i0])
 *                     b = C[j0][i1] + g * (C[j1][i1] - C[j0][i1])
 *                     c = a + f * (b - a)
 *   Y  = ((float)Ycode - y_off) * yk
 *   Cb = (cb - c_off) * ck;  Cr = (cr - c_off) * ck
 *   R = Y + rv * Cr;  G = (Y - gu * Cb) - gv * Cr;  B = Y + bu * Cb
 *   out = clamp01(R) * scale (and G, B)
 * Gray: R = G = B = clamp01(Y) * scale.
 * RGB:  R = clamp01(((float)Rcode - y_off) * yk) * scale (y_off = 0), likewise G and B;
 *       plane 0 is G, 1 is B, 2 is R.
 *
 * From RGB, with ik = 1 / scale:
 *   R = clamp01(in_R * ik) (and G, B)
 *   Y  = ((kr * R + kg * G) + kb * B)
 *   Cb = (B - Y) * (1 / bu);  Cr = (R - Y) * (1 / rv)     (1 / bu, 1 / rv computed once)
 *   Ycode = (int)clamp(((y_off + y_scale * Y) + 0.5), 0, max_code)
 *   (clamping v + 0.5 to [0, max_code] and truncating is floor(v + 0.5), clamped: round
 *   half up.) Gray writes Ycode only; RGB writes (int)clamp(((0 + max_code * R) + 0.5),
 *   0, max_code) per plane, using y_off and y_scale.
 * Chroma site (i, j) of a subsampled output takes a triangle filter of half-width s on
 * the full-resolution Cb/Cr, separable, horizontal first. Per direction (s, off):
 *   k0 = floor(off - s) + 1, taps k = k0 .. k0 + n - 1 (all k with |k - off| < s),
 *   w[k] = (s - |k - off|) / (s * s)       (exact in float; they sum to 1)
 *   e.g. s = 2: off 0 -> k = -1..1, [1 2 1]/4;  off 0.5 -> k = -1..2, [1 3 3 1]/8.
 *   For each tap row l (ascending): yy = clamp(j sy + k0v + l, 0, h - 1)
 *     hC = 0; for each tap column t (ascending): xx = clamp(i sx + k0h + t, 0, w - 1),
 *       hC = hC + wh[t] * C(xx, yy)
 *     acc = acc + wv[l] * hC      (acc starts at 0)
 *   Ccode = (int)clamp(((c_off + c_scale * acc) + 0.5), 0, max_code)
 * An unsubsampled direction (s = 1) is the single tap w = 1 (plain copy of C).
 */
#include "color.h"

#include <assert.h>
#include <stddef.h>

#define CHUNK 256         /* luma columns per step of to_rgb and the luma pass */
#define CCHUNK 64         /* chroma columns per step of the chroma pass */
#define MAX_SUB 4         /* largest subsampling factor (4:1:1, 4:1:0) */
#define MAX_TAPS VHS_CHROMA_MAX_TAPS
#define CSPAN ((CCHUNK - 1) * MAX_SUB + MAX_TAPS) /* luma columns one chroma chunk reads */

static inline float s_clamp01(float v)
{
	return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

static inline int s_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- setup ---------------------------------------------------------------------------- */

/* Code levels of the range (full or limited) at the format's depth. */
static void s_levels(struct vhs_color_xform *x, int full)
{
	int d = x->fmt->depth;
	float unit = (float)(1 << (d - 8));

	x->max_code = (float)((1 << d) - 1);
	if (full) {
		x->y_off = 0.0f;
		x->y_scale = x->max_code;
		x->c_off = (float)(1 << (d - 1));
		x->c_scale = x->max_code;
	} else {
		x->y_off = 16.0f * unit;
		x->y_scale = 219.0f * unit;
		x->c_off = 128.0f * unit;
		x->c_scale = 224.0f * unit;
	}
}

static void s_matrix(struct vhs_color_xform *x, int matrix)
{
	int bt709 = matrix == VHS_MATRIX_BT709;

	x->kr = bt709 ? 0.2126f : 0.299f;
	x->kb = bt709 ? 0.0722f : 0.114f;
}

/* Luma position of chroma sample 0 for an AVChromaLocation (UNSPECIFIED = LEFT). */
static void s_siting(struct vhs_color_xform *x, int loc)
{
	float mx = (float)(x->sx - 1) / 2.0f, my = (float)(x->sy - 1) / 2.0f;
	float bottom = (float)(x->sy - 1);

	switch (loc) {
	case VHS_CHROMA_CENTER:     x->cx_off = mx;   x->cy_off = my;     break;
	case VHS_CHROMA_TOPLEFT:    x->cx_off = 0.0f; x->cy_off = 0.0f;   break;
	case VHS_CHROMA_TOP:        x->cx_off = mx;   x->cy_off = 0.0f;   break;
	case VHS_CHROMA_BOTTOMLEFT: x->cx_off = 0.0f; x->cy_off = bottom; break;
	case VHS_CHROMA_BOTTOM:     x->cx_off = mx;   x->cy_off = bottom; break;
	default:                    x->cx_off = 0.0f; x->cy_off = my;     break;
	}
}

/* What both directions share: format, size, subsampling. */
static void s_setup_common(struct vhs_color_xform *x, const struct vhs_pixfmt *fmt, int w,
			   int h)
{
	assert(fmt && fmt->depth >= 8 && fmt->depth <= 16 && w > 0 && h > 0);
	*x = (struct vhs_color_xform){ 0 };
	x->fmt = fmt;
	x->width = w;
	x->height = h;
	x->rgb = fmt->rgb;
	x->gray = fmt->planes == 1;
	x->sx = x->rgb || x->gray ? 1 : 1 << fmt->log2_cw;
	x->sy = x->rgb || x->gray ? 1 : 1 << fmt->log2_ch;
	assert(x->sx <= MAX_SUB && x->sy <= MAX_SUB);
}

void vhs_color_setup_in(struct vhs_color_xform *x, const struct vhs_pixfmt *fmt, int w, int h,
			const struct vhs_colorimetry *tags)
{
	static const struct vhs_colorimetry none = { VHS_RANGE_UNSPECIFIED,
		VHS_MATRIX_UNSPECIFIED, 2, 2, VHS_CHROMA_UNSPECIFIED };

	if (!tags)
		tags = &none;
	s_setup_common(x, fmt, w, h);
	x->tags = *tags;
	s_levels(x, fmt->rgb || fmt->full_range || tags->range == VHS_RANGE_FULL);
	if (x->rgb) {
		x->kr = x->kb = 0.0f;
		return;
	}
	s_matrix(x, tags->matrix);
	s_siting(x, tags->chroma_location);
}

void vhs_color_setup_out(struct vhs_color_xform *x, const struct vhs_pixfmt *fmt, int w, int h,
			 int matrix, const struct vhs_colorimetry *keep)
{
	s_setup_common(x, fmt, w, h);
	x->tags.primaries = keep ? keep->primaries : 2;
	x->tags.transfer = keep ? keep->transfer : 2;
	s_levels(x, fmt->rgb || fmt->full_range);
	x->tags.range = fmt->rgb || fmt->full_range ? VHS_RANGE_FULL : VHS_RANGE_LIMITED;
	if (x->rgb) {
		x->kr = x->kb = 0.0f;
		x->tags.matrix = VHS_MATRIX_RGB;
		return;
	}
	if (matrix != VHS_MATRIX_BT709 && matrix != VHS_MATRIX_BT470BG)
		matrix = VHS_MATRIX_SMPTE170M;
	s_matrix(x, matrix);
	x->tags.matrix = (uint8_t)matrix;
	x->tags.chroma_location = x->sx > 1 || x->sy > 1 ? VHS_CHROMA_LEFT
							: VHS_CHROMA_UNSPECIFIED;
	s_siting(x, VHS_CHROMA_LEFT);
}

/* ---- codes <-> float, a run of one row at a time ---------------------------------------- */

/* dst[i] = (float)code of column from + i, i < n. */
static void s_load(const uint8_t *row, int bytes, int from, int n, float *dst)
{
	if (bytes == 1) {
		for (int i = 0; i < n; i++)
			dst[i] = (float)row[from + i];
	} else {
		const uint16_t *r16 = (const uint16_t *)(const void *)row + from;

		for (int i = 0; i < n; i++)
			dst[i] = (float)r16[i];
	}
}

/* Column from + i of row = round half up of v[i], clamped to [0, max_code]. */
static void s_store(uint8_t *row, int bytes, int from, int n, const float *v, float max_code)
{
	if (bytes == 1) {
		for (int i = 0; i < n; i++) {
			float c = v[i] + 0.5f;

			row[from + i] = (uint8_t)(c < 0.0f ? 0.0f : (c > max_code ? max_code : c));
		}
	} else {
		uint16_t *r16 = (uint16_t *)(void *)row + from;

		for (int i = 0; i < n; i++) {
			float c = v[i] + 0.5f;

			r16[i] = (uint16_t)(c < 0.0f ? 0.0f : (c > max_code ? max_code : c));
		}
	}
}

static const uint8_t *s_row(const struct vhs_picture *p, int plane, int y)
{
	return p->data[plane] + (ptrdiff_t)y * p->linesize[plane];
}

/* ---- to RGB ----------------------------------------------------------------------------- */

/* The rows one output row of a YUV picture reads. */
struct s_in_row {
	const uint8_t *y;          /* luma row */
	const uint8_t *c0[2];      /* Cb, Cr rows j0 */
	const uint8_t *c1[2];      /* Cb, Cr rows j1 */
	float g;                   /* vertical weight of rows j1 */
	int cw;                    /* chroma plane width */
};

/* Chroma index pair and weight of luma column xl (see FORMULAS). */
static inline int s_chroma_col(const struct vhs_color_xform *x, int xl, float *f)
{
	float u = ((float)xl - x->cx_off) / (float)x->sx;
	int i0 = (int)(u + 1.0f) - 1; /* floor: u > -1 */

	*f = u - (float)i0;
	return i0;
}

/* Vertically interpolated chroma of columns [ia, ia + m) into c (Cb then Cr). */
static void s_chroma_lerp(const struct vhs_color_xform *x, const struct s_in_row *r, int ia,
			  int m, float c[2][CHUNK + 2])
{
	float t[CHUNK + 2];

	for (int k = 0; k < 2; k++) {
		s_load(r->c0[k], x->fmt->bytes, ia, m, c[k]);
		s_load(r->c1[k], x->fmt->bytes, ia, m, t);
		for (int i = 0; i < m; i++)
			c[k][i] = c[k][i] + r->g * (t[i] - c[k][i]);
	}
}

/* Luma columns [x0, x0 + n) of one YUV row to RGB. */
static void s_yuv_chunk(const struct vhs_color_xform *x, const struct vhs_color_coef *k,
			const struct s_in_row *r, int x0, int n, float *out, float scale)
{
	float yv[CHUNK], c[2][CHUNK + 2], f;
	int ia = s_clampi(s_chroma_col(x, x0, &f), 0, r->cw - 1);
	int ib = s_clampi(s_chroma_col(x, x0 + n - 1, &f) + 1, 0, r->cw - 1);

	s_load(r->y, x->fmt->bytes, x0, n, yv);
	s_chroma_lerp(x, r, ia, ib - ia + 1, c);
	for (int i = 0; i < n; i++) {
		int i0 = s_chroma_col(x, x0 + i, &f);
		int i1 = s_clampi(i0 + 1, 0, r->cw - 1) - ia;
		float cb, cr, yy;

		i0 = s_clampi(i0, 0, r->cw - 1) - ia;
		cb = (c[0][i0] + f * (c[0][i1] - c[0][i0]) - x->c_off) * k->ck;
		cr = (c[1][i0] + f * (c[1][i1] - c[1][i0]) - x->c_off) * k->ck;
		yy = (yv[i] - x->y_off) * k->yk;
		out[3 * i + 0] = s_clamp01(yy + k->rv * cr) * scale;
		out[3 * i + 1] = s_clamp01((yy - k->gu * cb) - k->gv * cr) * scale;
		out[3 * i + 2] = s_clamp01(yy + k->bu * cb) * scale;
	}
}

static void s_yuv_row(const struct vhs_color_xform *x, const struct vhs_color_coef *k,
		      const struct vhs_picture *in, int y, float *out, float scale)
{
	int ch = vhs_pixfmt_plane_height(x->fmt, 1, x->height);
	float v = ((float)y - x->cy_off) / (float)x->sy;
	int j0 = (int)(v + 1.0f) - 1; /* floor: v > -1 */
	struct s_in_row r = {
		.y = s_row(in, 0, y),
		.g = v - (float)j0,
		.cw = vhs_pixfmt_plane_width(x->fmt, 1, x->width),
	};
	int j1 = s_clampi(j0 + 1, 0, ch - 1);

	j0 = s_clampi(j0, 0, ch - 1);
	for (int p = 0; p < 2; p++) {
		r.c0[p] = s_row(in, p + 1, j0);
		r.c1[p] = s_row(in, p + 1, j1);
	}
	for (int x0 = 0; x0 < x->width; x0 += CHUNK) {
		int n = x->width - x0 < CHUNK ? x->width - x0 : CHUNK;

		s_yuv_chunk(x, k, &r, x0, n, out + 3 * x0, scale);
	}
}

/* Gray or planar RGB row: each output channel from one plane (gray: plane 0 thrice). */
static void s_plane_row(const struct vhs_color_xform *x, const struct vhs_color_coef *k,
			const struct vhs_picture *in, int y, float *out, float scale)
{
	static const int rgb_plane[3] = { 2, 0, 1 }; /* R, G, B are planes 2, 0, 1 */
	float v[CHUNK];

	for (int x0 = 0; x0 < x->width; x0 += CHUNK) {
		int n = x->width - x0 < CHUNK ? x->width - x0 : CHUNK;

		for (int c = 0; c < 3; c++) {
			if (x->gray && c > 0) {
				for (int i = 0; i < n; i++)
					out[3 * (x0 + i) + c] = out[3 * (x0 + i)];
				continue;
			}
			s_load(s_row(in, x->gray ? 0 : rgb_plane[c], y), x->fmt->bytes, x0, n, v);
			for (int i = 0; i < n; i++)
				v[i] = s_clamp01((v[i] - x->y_off) * k->yk) * scale;
			for (int i = 0; i < n; i++)
				out[3 * (x0 + i) + c] = v[i];
		}
	}
}

void vhs_color_to_rgb(const struct vhs_color_xform *x, const struct vhs_picture *in, float *rgb,
		      float scale)
{
	struct vhs_color_coef k;

	assert(in->fmt == x->fmt && in->width == x->width && in->height == x->height);
	vhs_color_coef_init(&k, x);
	for (int y = 0; y < x->height; y++) {
		float *out = rgb + (size_t)y * (size_t)x->width * 3;

		if (x->rgb || x->gray)
			s_plane_row(x, &k, in, y, out, scale);
		else
			s_yuv_row(x, &k, in, y, out, scale);
	}
}

/* ---- from RGB --------------------------------------------------------------------------- */

/* Triangle filter of half-width s centred at luma offset off (see FORMULAS). */

/* R, G, B in [0, 1] of pixel xx of an HWC row. */
static inline void s_rgb_at(const float *row, int xx, float ik, float *r, float *g, float *b)
{
	*r = s_clamp01(row[3 * xx + 0] * ik);
	*g = s_clamp01(row[3 * xx + 1] * ik);
	*b = s_clamp01(row[3 * xx + 2] * ik);
}

/* Y' of R, G, B in [0, 1]. */
static inline float s_luma(const struct vhs_color_coef *k, float r, float g, float b)
{
	return (k->kr * r + k->kg * g) + k->kb * b;
}

/* Luma codes of row y (or, for RGB output, the G, B and R codes). */
static void s_luma_row(const struct vhs_color_xform *x, const struct vhs_color_coef *k,
		       const float *row, float ik, struct vhs_picture *out, int y)
{
	float v[3][CHUNK], r, g, b;
	int planes = x->rgb ? 3 : 1;

	for (int x0 = 0; x0 < x->width; x0 += CHUNK) {
		int n = x->width - x0 < CHUNK ? x->width - x0 : CHUNK;

		for (int i = 0; i < n; i++) {
			s_rgb_at(row, x0 + i, ik, &r, &g, &b);
			v[0][i] = x->y_off + x->y_scale * (x->rgb ? g : s_luma(k, r, g, b));
			v[1][i] = x->y_off + x->y_scale * b;
			v[2][i] = x->y_off + x->y_scale * r;
		}
		for (int p = 0; p < planes; p++)
			s_store(out->data[p] + (ptrdiff_t)y * out->linesize[p], x->fmt->bytes,
				x0, n, v[p], x->max_code);
	}
}

/* Horizontally filtered Cb, Cr of luma row yy at chroma columns [i0, i0 + cn). */
static void s_chroma_hrow(const struct vhs_color_xform *x, const struct vhs_color_coef *k,
			  const struct vhs_chroma_site *fh, const float *rgb, float ik, int yy, int i0,
			  int cn, float h[2][CCHUNK])
{
	const float *row = rgb + (size_t)yy * (size_t)x->width * 3;
	int xa = i0 * x->sx + fh->k0, span = (cn - 1) * x->sx + fh->n;
	float c[2][CSPAN], r, g, b, lum;

	for (int i = 0; i < span; i++) {
		s_rgb_at(row, s_clampi(xa + i, 0, x->width - 1), ik, &r, &g, &b);
		lum = s_luma(k, r, g, b);
		c[0][i] = (b - lum) * k->cbk;
		c[1][i] = (r - lum) * k->crk;
	}
	for (int p = 0; p < 2; p++) {
		for (int i = 0; i < cn; i++) {
			const float *src = c[p] + i * x->sx;
			float acc = 0.0f;

			for (int t = 0; t < fh->n; t++)
				acc = acc + fh->w[t] * src[t];
			h[p][i] = acc;
		}
	}
}

/* Cb and Cr planes: each chroma row from its vertical taps' filtered rows. */
static void s_chroma_pass(const struct vhs_color_xform *x, const struct vhs_color_coef *k,
			  const float *rgb, float ik, struct vhs_picture *out)
{
	int cw = vhs_pixfmt_plane_width(x->fmt, 1, x->width);
	int ch = vhs_pixfmt_plane_height(x->fmt, 1, x->height);
	struct vhs_chroma_site fh, fv;
	float h[2][CCHUNK], acc[2][CCHUNK];

	vhs_chroma_site_init(&fh, x->sx, x->cx_off);
	vhs_chroma_site_init(&fv, x->sy, x->cy_off);
	for (int j = 0; j < ch; j++) {
		for (int i0 = 0; i0 < cw; i0 += CCHUNK) {
			int cn = cw - i0 < CCHUNK ? cw - i0 : CCHUNK;

			for (int i = 0; i < cn; i++)
				acc[0][i] = acc[1][i] = 0.0f;
			for (int l = 0; l < fv.n; l++) {
				int yy = s_clampi(j * x->sy + fv.k0 + l, 0, x->height - 1);

				s_chroma_hrow(x, k, &fh, rgb, ik, yy, i0, cn, h);
				for (int i = 0; i < cn; i++) {
					acc[0][i] = acc[0][i] + fv.w[l] * h[0][i];
					acc[1][i] = acc[1][i] + fv.w[l] * h[1][i];
				}
			}
			for (int p = 0; p < 2; p++) {
				for (int i = 0; i < cn; i++)
					acc[p][i] = x->c_off + x->c_scale * acc[p][i];
				s_store(out->data[p + 1] + (ptrdiff_t)j * out->linesize[p + 1],
					x->fmt->bytes, i0, cn, acc[p], x->max_code);
			}
		}
	}
}

void vhs_color_from_rgb(const struct vhs_color_xform *x, const float *rgb, float scale,
			struct vhs_picture *out)
{
	struct vhs_color_coef k;
	float ik = 1.0f / scale;

	assert(out->fmt == x->fmt && out->width == x->width && out->height == x->height);
	vhs_color_coef_init(&k, x);
	for (int y = 0; y < x->height; y++)
		s_luma_row(x, &k, rgb + (size_t)y * (size_t)x->width * 3, ik, out, y);
	if (!x->rgb && !x->gray)
		s_chroma_pass(x, &k, rgb, ik, out);
}

/* ---- the constants (color.h) ------------------------------------------------------------ */

void vhs_color_coef_init(struct vhs_color_coef *c, const struct vhs_color_xform *x)
{
	c->kr = x->kr;
	c->kb = x->kb;
	c->kg = (1.0f - x->kr) - x->kb;
	c->rv = 2.0f * (1.0f - x->kr);
	c->bu = 2.0f * (1.0f - x->kb);
	c->gu = c->kg != 0.0f ? (c->bu * x->kb) / c->kg : 0.0f;
	c->gv = c->kg != 0.0f ? (c->rv * x->kr) / c->kg : 0.0f;
	c->yk = 1.0f / x->y_scale;
	c->ck = 1.0f / x->c_scale;
	c->cbk = 1.0f / c->bu;
	c->crk = 1.0f / c->rv;
}

void vhs_chroma_site_init(struct vhs_chroma_site *f, int s, float off)
{
	float fs = (float)s;
	int k0 = (int)(off - fs + (float)MAX_SUB + 1.0f) - MAX_SUB; /* floor(off - s) + 1 */

	*f = (struct vhs_chroma_site){ .k0 = k0 };
	for (int k = k0; (float)k - off < fs && f->n < VHS_CHROMA_MAX_TAPS; k++) {
		float d = (float)k - off;

		f->w[f->n++] = (fs - (d < 0.0f ? -d : d)) / (fs * fs);
	}
}
