/* test_edi.c: the edge-directed interpolation of a field's missing lines (dsp/video/edi.c):
 * the field's own lines untouched, shallow edges followed (far nearer the truth than the
 * vertical interpolation), texture and noise not made worse, slices of rows the same as the
 * whole, tiny pictures handled.
 */
#include "edi.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define W 160
#define H 96

/* An anti-aliased edge at angle degrees off the horizontal through the middle, dark above. */
static void s_edge(uint8_t *img, double angle)
{
	double t = tan(angle * M_PI / 180);

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			img[y * W + x] = (uint8_t)lround(128 + 90 * tanh((y - H / 2.0 - (x - W / 2.0) * t) / 0.8));
}

/* Mean squared error over the rows of the other parity than `parity`. */
static double s_mse(const uint8_t *a, const uint8_t *b, int parity)
{
	double sum = 0;
	int n = 0;

	for (int y = 2; y < H - 2; y++) {
		if ((y & 1) == parity)
			continue;
		for (int x = 8; x < W - 8; x++, n++)
			sum += (double)(a[y * W + x] - b[y * W + x]) * (a[y * W + x] - b[y * W + x]);
	}
	return sum / n;
}

/* The picture with its `parity` field kept and the other made by radius. */
static void s_interpolate(const uint8_t *truth, uint8_t *out, int radius, int parity)
{
	struct vhs_edi p = { .radius = radius };

	memcpy(out, truth, W * H);
	cr_assert_eq(vhs_edi_rows(&p, truth, W, out, W, W, H, parity, 0, H), 0);
}

Test(edi, field_lines_untouched)
{
	static uint8_t truth[W * H], out[W * H];

	s_edge(truth, 20);
	for (int parity = 0; parity < 2; parity++) {
		memset(out, 7, sizeof(out));
		cr_assert_eq(vhs_edi_rows(&(struct vhs_edi){ .radius = 6 }, truth, W, out, W, W, H, parity, 0, H), 0);
		for (int y = parity; y < H; y += 2)
			for (int x = 0; x < W; x++)
				cr_assert_eq(out[y * W + x], 7, "row %d of the kept field was written", y);
		for (int y = 1 - parity; y < H; y += 2)
			cr_assert_neq(out[y * W + 10], 7, "missing row %d was not made", y);
	}
}

/* Shallow edges: the vertical interpolation makes jaggies, the directions follow the edge. */
Test(edi, follows_shallow_edges)
{
	static uint8_t truth[W * H], out[W * H];
	static const double angles[] = { 10, 18, 30, -14, -25 };

	for (size_t i = 0; i < sizeof(angles) / sizeof(angles[0]); i++) {
		for (int parity = 0; parity < 2; parity++) {
			double vertical, directed;

			s_edge(truth, angles[i]);
			s_interpolate(truth, out, 0, parity);
			vertical = s_mse(out, truth, parity);
			s_interpolate(truth, out, 8, parity);
			directed = s_mse(out, truth, parity);
			cr_assert(directed * 4 < vertical, "edge at %g degrees, parity %d: MSE %.2f directed, %.2f vertical",
				  angles[i], parity, directed, vertical);
		}
	}
}

/* Steep edges and smooth gradients need no direction: the same as the vertical cubic. */
Test(edi, vertical_where_nothing_slants)
{
	static uint8_t truth[W * H], a[W * H], b[W * H];

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			truth[y * W + x] = (uint8_t)(40 + y + (x >= 80 ? 60 : 0)); /* a vertical edge on a ramp */
	s_interpolate(truth, a, 0, 0);
	s_interpolate(truth, b, 8, 0);
	cr_assert_arr_eq(a, b, sizeof(a), "a vertical edge on a vertical ramp took a slant");
	cr_assert_lt(s_mse(b, truth, 0), 0.01);
}

/* Noise has no edges to follow: the directions must not make it worse than the vertical. */
Test(edi, noise_not_made_worse)
{
	static uint8_t truth[W * H], out[W * H];
	double vertical, directed;

	seed_rng();
	for (int i = 0; i < W * H; i++)
		truth[i] = (uint8_t)(128 + (int)(rnd() % 41) - 20);
	s_interpolate(truth, out, 0, 1);
	vertical = s_mse(out, truth, 1);
	s_interpolate(truth, out, 8, 1);
	directed = s_mse(out, truth, 1);
	cr_assert(directed <= vertical * 1.05, "noise: MSE %.2f directed, %.2f vertical (seed %u)", directed,
		  vertical, seed);
}

/* Slices of rows (threads) give the same picture as one call. */
Test(edi, slices_same_as_whole)
{
	static uint8_t truth[W * H], whole[W * H], sliced[W * H];
	struct vhs_edi p = { .radius = 5 };

	s_edge(truth, 22);
	memcpy(whole, truth, sizeof(whole));
	memcpy(sliced, truth, sizeof(sliced));
	cr_assert_eq(vhs_edi_rows(&p, truth, W, whole, W, W, H, 1, 0, H), 0);
	for (int y = 0; y < H; y += 13)
		cr_assert_eq(vhs_edi_rows(&p, truth, W, sliced, W, W, H, 1, y, y + 13), 0);
	cr_assert_arr_eq(whole, sliced, sizeof(whole));
}

/* Pictures a few samples big, and out-of-range settings, are handled. */
Test(edi, tiny_pictures)
{
	uint8_t src[3 * 4] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120 }, dst[3 * 4];

	memcpy(dst, src, sizeof(dst));
	cr_assert_eq(vhs_edi_rows(&(struct vhs_edi){ .radius = 99 }, src, 3, dst, 3, 3, 4, 0, 0, 4), 0);
	cr_assert_eq(dst[3], 40, "row 1 of a 4-row picture: between rows 0 and 2 (10..70 to 40)");
	memcpy(dst, src, sizeof(dst));
	cr_assert_eq(vhs_edi_rows(&(struct vhs_edi){ .radius = -1 }, src, 1, dst, 1, 1, 12, 1, 0, 12), 0);
	cr_assert_eq(dst[0], 20, "row 0 with only rows below: row 1's");
	cr_assert_eq(vhs_edi_rows(&(struct vhs_edi){ .radius = 4 }, src, 3, dst, 3, 3, 1, 0, 0, 1), 0,
		     "one row: nothing to make");
}
