/* test_resample.c: Lanczos-3 tables and their application (dsp/image/resample.c).
 *
 * Covered: n == m is an exact copy (float HWC and 8/16-bit planes); weights sum to 1 and
 * folded tables stay inside the input; a constant stays constant (also when the input is
 * shorter than the kernel); a 2x upsample of a ramp stays a ramp away from the edges and
 * puts its samples at the aligned centres; shrinking low-passes (an alternating pattern
 * shrunk 3:1 almost vanishes, where sampling it would keep it); planes round half up and
 * clamp ringing to the code range; the plane path equals the float path rounded. Random
 * inputs are seeded from the clock; a failing assertion prints the seed.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resample.h"
#include "rng.h"

static float rndf(void)
{
	return (float)(rnd() % 2000001) / 1000.0f - 1000.0f;
}

/* Tables h (iw -> ow) and v (ih -> oh); out of a test on failure. */
static void tables(struct vhs_resample_table *h, struct vhs_resample_table *v, int iw, int ow,
		   int ih, int oh)
{
	cr_assert_eq(vhs_resample_table_init(h, iw, ow), 0);
	cr_assert_eq(vhs_resample_table_init(v, ih, oh), 0);
}

static void tables_free(struct vhs_resample_table *h, struct vhs_resample_table *v)
{
	vhs_resample_table_free(h);
	vhs_resample_table_free(v);
	cr_assert_null(h->weights);
	cr_assert_null(v->first);
}

/* Resizes an iw x ih HWC image; returns a malloc'd ow x oh image. */
static float *resize_hwc(const float *in, int iw, int ih, int c, int ow, int oh)
{
	struct vhs_resample_table h, v;
	float *out = malloc(sizeof(float) * ow * oh * c), *tmp = malloc(sizeof(float) * ow * ih * c);

	cr_assert(out && tmp);
	tables(&h, &v, iw, ow, ih, oh);
	vhs_resample_hwc(in, iw, ih, c, out, ow, oh, &h, &v, tmp);
	tables_free(&h, &v);
	free(tmp);
	return out;
}

Test(resample, identity_copies_exactly, .init = seed_rng)
{
	const int w = 37, h = 19, c = 3;
	float *in = malloc(sizeof(float) * w * h * c), *out;
	struct vhs_resample_table t;

	cr_assert_not_null(in);
	for (int i = 0; i < w * h * c; i++)
		in[i] = rndf();
	in[0] = -0.0f;
	out = resize_hwc(in, w, h, c, w, h);
	cr_assert_eq(memcmp(in, out, sizeof(float) * w * h * c), 0, "identity changed values (seed %u)", seed);
	cr_assert_eq(vhs_resample_table_init(&t, 720, 720), 0);
	cr_assert_eq(t.taps, 1);
	for (int j = 0; j < 720; j++)
		cr_assert(t.first[j] == j && t.weights[j] == 1.0f);
	vhs_resample_table_free(&t);
	free(in);
	free(out);
}

Test(resample, identity_plane_8_and_16_bit, .init = seed_rng)
{
	const int w = 300, h = 7;
	uint8_t in8[64 * 7 * 5], out8[64 * 7 * 5];
	uint16_t in16[320 * 7], out16[320 * 7];
	struct vhs_resample_table hh, vv;
	float tmp[300 * 7];

	for (size_t i = 0; i < sizeof(in8); i++)
		in8[i] = (uint8_t)rnd();
	for (size_t i = 0; i < sizeof(in16) / 2; i++)
		in16[i] = (uint16_t)(rnd() % 1024);
	tables(&hh, &vv, w, w, h, h);
	memset(out8, 0, sizeof(out8));
	vhs_resample_plane(in8, 320, 1, out8, 320, 255, &hh, &vv, tmp);
	for (int y = 0; y < h; y++)
		cr_assert_eq(memcmp(in8 + y * 320, out8 + y * 320, w), 0, "row %d (seed %u)", y, seed);
	vhs_resample_plane((uint8_t *)in16, 640, 2, (uint8_t *)out16, 640, 1023, &hh, &vv, tmp);
	for (int y = 0; y < h; y++)
		cr_assert_eq(memcmp(in16 + y * 320, out16 + y * 320, 2 * w), 0, "row %d (seed %u)", y, seed);
	tables_free(&hh, &vv);
}

/* Checks t's rows: weights sum to 1; a table of n >= taps stays inside [0, n). */
static void check_table(int n, int m)
{
	struct vhs_resample_table t;

	cr_assert_eq(vhs_resample_table_init(&t, n, m), 0, "%d -> %d", n, m);
	cr_assert(t.in_size == n && t.out_size == m && t.taps >= 1);
	if (m < n)
		cr_assert_geq(t.taps, 6.0 * n / m, "%d -> %d: %d taps, kernel not stretched", n, m, t.taps);
	for (int j = 0; j < m; j++) {
		double sum = 0;

		for (int k = 0; k < t.taps; k++)
			sum += t.weights[(size_t)j * t.taps + k];
		cr_assert(fabs(sum - 1.0) < 1e-5, "%d -> %d row %d: weights sum to %.9f (seed %u)", n, m,
			  j, sum, seed);
		if (n >= t.taps)
			cr_assert(t.first[j] >= 0 && t.first[j] + t.taps <= n, "%d -> %d row %d: first %d", n,
				  m, j, t.first[j]);
	}
	vhs_resample_table_free(&t);
}

Test(resample, weights_sum_to_one, .init = seed_rng)
{
	static const int sizes[][2] = { { 720, 1440 }, { 1440, 720 }, { 480, 1080 }, { 1080, 480 },
					{ 3, 7 }, { 1, 5 }, { 5, 1 }, { 2, 9 }, { 720, 1920 },
					{ 2880, 1440 }, { 100, 33 } };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_table(sizes[i][0], sizes[i][1]);
	for (int i = 0; i < 20; i++)
		check_table(1 + (int)(rnd() % 500), 1 + (int)(rnd() % 500));
}

Test(resample, bad_sizes_are_refused)
{
	struct vhs_resample_table t;

	cr_assert_eq(vhs_resample_table_init(&t, 0, 5), -EINVAL);
	cr_assert_eq(vhs_resample_table_init(&t, 5, -1), -EINVAL);
	cr_assert_null(t.weights);
}

Test(resample, constant_stays_constant, .init = seed_rng)
{
	static const int sizes[][4] = { { 40, 20, 80, 40 }, { 40, 20, 13, 7 }, { 3, 2, 11, 9 },
					{ 64, 48, 64, 100 }, { 1, 1, 4, 4 } };
	float col[3] = { rndf(), rndf(), rndf() };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		int iw = sizes[s][0], ih = sizes[s][1], ow = sizes[s][2], oh = sizes[s][3];
		float *in = malloc(sizeof(float) * iw * ih * 3), *out;

		cr_assert_not_null(in);
		for (int i = 0; i < iw * ih; i++)
			memcpy(in + 3 * i, col, sizeof(col));
		out = resize_hwc(in, iw, ih, 3, ow, oh);
		for (int i = 0; i < ow * oh * 3; i++)
			cr_assert(fabsf(out[i] - col[i % 3]) <= 1e-4f * (1.0f + fabsf(col[i % 3])),
				  "%dx%d -> %dx%d sample %d: %f, want %f (seed %u)", iw, ih, ow, oh, i,
				  out[i], col[i % 3], seed);
		free(in);
		free(out);
	}
}

Test(resample, constant_plane_stays_exact)
{
	uint8_t in[64 * 10], out[128 * 25];
	uint16_t in16[64 * 10], out16[64 * 25];
	struct vhs_resample_table h, v;
	float tmp[100 * 10];

	memset(in, 77, sizeof(in));
	tables(&h, &v, 50, 100, 10, 25);
	vhs_resample_plane(in, 64, 1, out, 128, 255, &h, &v, tmp);
	for (int y = 0; y < 25; y++)
		for (int x = 0; x < 100; x++)
			cr_assert_eq(out[y * 128 + x], 77, "(%d,%d) = %d", x, y, out[y * 128 + x]);
	tables_free(&h, &v);
	for (int i = 0; i < 64 * 10; i++)
		in16[i] = 60000;
	tables(&h, &v, 64, 30, 10, 25);
	vhs_resample_plane((uint8_t *)in16, 128, 2, (uint8_t *)out16, 128, 65535, &h, &v, tmp);
	for (int y = 0; y < 25; y++)
		for (int x = 0; x < 30; x++)
			cr_assert_eq(out16[y * 64 + x], 60000, "(%d,%d) = %d", x, y, out16[y * 64 + x]);
	tables_free(&h, &v);
}

/* out[j] = a + b * (centre of output sample j in input coordinates), away from edges. */
Test(resample, ramp_upsampled_2x_stays_ramp)
{
	const int n = 64, m = 128, rows = 4;
	float in[64 * 4], *out;
	const float a = 3.0f, b = 2.0f;

	for (int y = 0; y < rows; y++)
		for (int i = 0; i < n; i++)
			in[y * n + i] = a + b * i;
	out = resize_hwc(in, n, rows, 1, m, rows);
	for (int y = 0; y < rows; y++)
		for (int j = 8; j < m - 8; j++) {
			float want = a + b * ((j + 0.5f) * n / m - 0.5f);

			cr_assert(fabsf(out[y * m + j] - want) < 0.03f * b, "row %d sample %d: %f, want %f", y,
				  j, out[y * m + j], want);
		}
	/* and monotonic everywhere, including the clamped edges */
	for (int j = 1; j < m; j++)
		cr_assert_geq(out[j], out[j - 1] - 1e-4f);
	free(out);

	/* vertical too: a ramp down the columns */
	for (int y = 0; y < rows; y++)
		for (int i = 0; i < n; i++)
			in[i * rows + y] = a + b * i; /* a 4 x 64 image, ramp down */
	out = resize_hwc(in, rows, n, 1, rows, m);
	for (int j = 8; j < m - 8; j++) {
		float want = a + b * ((j + 0.5f) * n / m - 0.5f);

		cr_assert(fabsf(out[j * rows + 1] - want) < 0.03f * b, "row %d: %f, want %f", j,
			  out[j * rows + 1], want);
	}
	free(out);
}

/* An alternating +1/-1 pattern (the input's Nyquist frequency) shrunk 3:1 has nothing
 * left to show: the stretched kernel removes it (point sampling would keep all of it). */
Test(resample, downscale_low_passes)
{
	const int n = 96, m = 32;
	float in[96], *out;
	double energy = 0;

	for (int i = 0; i < n; i++)
		in[i] = (i & 1) ? -1.0f : 1.0f;
	out = resize_hwc(in, n, 1, 1, m, 1);
	for (int j = 3; j < m - 3; j++) {
		cr_assert(fabsf(out[j]) < 0.01f, "sample %d: %f (not low-passed)", j, out[j]);
		energy += out[j] * out[j];
	}
	cr_assert_lt(energy, 1e-3);
	free(out);
}

/* A sharp edge upsampled rings; plane samples clamp instead of wrapping. */
Test(resample, plane_clamps_ringing)
{
	uint8_t in[16 * 2], out[64 * 2];
	uint16_t in16[16 * 2], out16[64 * 2];
	struct vhs_resample_table h, v;
	float tmp[64 * 2], ftmp[64 * 2], fin[16 * 2], fout[64 * 2];
	int saw_max = 0;

	for (int i = 0; i < 32; i++) {
		in[i] = (i % 16) < 8 ? 0 : 255;
		in16[i] = (i % 16) < 8 ? 0 : 1023;
		fin[i] = in[i];
	}
	tables(&h, &v, 16, 64, 2, 2);
	vhs_resample_hwc(fin, 16, 2, 1, fout, 64, 2, &h, &v, ftmp);
	vhs_resample_plane(in, 16, 1, out, 64, 255, &h, &v, tmp);
	vhs_resample_plane((uint8_t *)in16, 32, 2, (uint8_t *)out16, 128, 1023, &h, &v, tmp);
	for (int j = 0; j < 64; j++) {
		if (fout[j] > 255.5f) {
			saw_max = 1;
			cr_assert_eq(out[j], 255, "sample %d overshoots to %f but is %d", j, fout[j], out[j]);
		}
		if (fout[j] < -0.5f)
			cr_assert_eq(out[j], 0, "sample %d undershoots to %f but is %d", j, fout[j], out[j]);
		cr_assert_leq(out16[j], 1023);
	}
	cr_assert(saw_max, "a Lanczos edge should overshoot");
	tables_free(&h, &v);
}

/* The plane path is the float path, rounded half up and clamped. */
Test(resample, plane_equals_float_rounded, .init = seed_rng)
{
	const int iw = 45, ih = 31, ow = 100, oh = 13;
	uint8_t in[64 * 31], out[128 * 13];
	float fin[45 * 31], fout[100 * 13], tmp[100 * 31];
	struct vhs_resample_table h, v;

	for (int y = 0; y < ih; y++)
		for (int x = 0; x < iw; x++)
			fin[y * iw + x] = in[y * 64 + x] = (uint8_t)rnd();
	tables(&h, &v, iw, ow, ih, oh);
	vhs_resample_hwc(fin, iw, ih, 1, fout, ow, oh, &h, &v, tmp);
	vhs_resample_plane(in, 64, 1, out, 128, 255, &h, &v, tmp);
	for (int y = 0; y < oh; y++)
		for (int x = 0; x < ow; x++) {
			float f = floorf(fout[y * ow + x] + 0.5f);
			int want = f < 0 ? 0 : (f > 255 ? 255 : (int)f);

			cr_assert_eq(out[y * 128 + x], want, "(%d,%d): %d, float %f (seed %u)", x, y,
				     out[y * 128 + x], fout[y * ow + x], seed);
		}
	tables_free(&h, &v);
}

/* Channels of an HWC image are resized independently. */
Test(resample, hwc_channels_independent, .init = seed_rng)
{
	const int iw = 20, ih = 10, ow = 33, oh = 17;
	float in[20 * 10 * 3], one[20 * 10], *out3, *out1;

	for (int i = 0; i < iw * ih * 3; i++)
		in[i] = rndf();
	for (int i = 0; i < iw * ih; i++)
		one[i] = in[3 * i + 1];
	out3 = resize_hwc(in, iw, ih, 3, ow, oh);
	out1 = resize_hwc(one, iw, ih, 1, ow, oh);
	for (int i = 0; i < ow * oh; i++)
		cr_assert_eq(out3[3 * i + 1], out1[i], "pixel %d (seed %u)", i, seed);
	free(out3);
	free(out1);
}
