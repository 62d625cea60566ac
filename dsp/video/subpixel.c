/* subpixel.c: Catmull-Rom shifts in integer arithmetic (see subpixel.h). */
#include "subpixel.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ONE (1 << VHS_SUBPIXEL_BITS)

void vhs_subpixel_taps(double s, struct vhs_subpixel_taps *t)
{
	double f = s - floor(s);
	double w[4] = { -0.5 * f * (1 - f) * (1 - f), 1 - 2.5 * f * f + 1.5 * f * f * f,
			0.5 * f * (1 + 4 * f - 3 * f * f), -0.5 * f * f * (1 - f) };
	int32_t sum = 0;

	t->base = (int)floor(s);
	for (int k = 0; k < 4; k++)
		sum += t->w[k] = (int32_t)lrint(w[k] * ONE);
	t->w[f < 0.5 ? 1 : 2] += ONE - sum; /* rounding's leftover to the nearest tap */
}

static inline int s_get(const uint8_t *row, int bytes, int x, int n)
{
	x = x < 0 ? 0 : x >= n ? n - 1 : x;
	return bytes == 1 ? row[x] : ((const uint16_t *)row)[x];
}

static inline void s_put(uint8_t *row, int bytes, int x, int64_t v, int maxval)
{
	v = v < 0 ? 0 : v > maxval ? maxval : v;
	if (bytes == 1)
		row[x] = (uint8_t)v;
	else
		((uint16_t *)row)[x] = (uint16_t)v;
}

void vhs_subpixel_row(const uint8_t *src, uint8_t *dst, int n, int bytes, int maxval,
		      const struct vhs_subpixel_taps *t)
{
	for (int x = 0; x < n; x++) {
		int at = x + t->base - 1;
		int64_t sum = ONE / 2;

		for (int k = 0; k < 4; k++)
			sum += (int64_t)t->w[k] * s_get(src, bytes, at + k, n);
		s_put(dst, bytes, x, sum >> VHS_SUBPIXEL_BITS, maxval);
	}
}

int vhs_subpixel_plane(const struct vhs_picture *in, struct vhs_picture *out, int p, double sx,
		       double sy)
{
	const struct vhs_pixfmt *fmt = in->fmt;
	int w = vhs_pixfmt_plane_width(fmt, p, in->width), h = vhs_pixfmt_plane_height(fmt, p, in->height);
	int bytes = fmt->bytes, maxval = (1 << fmt->depth) - 1;
	struct vhs_subpixel_taps tx, ty;
	uint8_t *tmp;

	vhs_subpixel_taps(sx, &tx);
	vhs_subpixel_taps(sy, &ty);
	/* rows moved across into tmp, then columns moved down from tmp into out */
	tmp = malloc((size_t)w * h * bytes);
	if (!tmp)
		return -ENOMEM;
	for (int y = 0; y < h; y++)
		vhs_subpixel_row(in->data[p] + (size_t)y * in->linesize[p], tmp + (size_t)y * w * bytes, w,
				 bytes, maxval, &tx);
	for (int y = 0; y < h; y++) {
		uint8_t *dst = out->data[p] + (size_t)y * out->linesize[p];
		const uint8_t *rows[4];

		for (int k = 0; k < 4; k++) {
			int at = y + ty.base - 1 + k;

			at = at < 0 ? 0 : at >= h ? h - 1 : at;
			rows[k] = tmp + (size_t)at * w * bytes;
		}
		for (int x = 0; x < w; x++) {
			int64_t sum = ONE / 2;

			for (int k = 0; k < 4; k++)
				sum += (int64_t)ty.w[k] * (bytes == 1 ? rows[k][x] : ((const uint16_t *)rows[k])[x]);
			s_put(dst, bytes, x, sum >> VHS_SUBPIXEL_BITS, maxval);
		}
	}
	free(tmp);
	return 0;
}
