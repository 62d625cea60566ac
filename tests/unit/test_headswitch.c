/* test_headswitch.c: the head-switching band (dsp/video/headswitch.h) on pictures made here.
 *
 * A random picture (boxes and a texture over gray, noise) 704 pixels wide with 8 columns of
 * blanking either side; its bottom lines pulled sideways by random sub-pixel amounts (a band
 * of random height, growing towards the bottom), the last two replaced by noise. The match
 * must find each pulled line's pull within half a pixel (the picture's texture next to the
 * edge moves it a little), the lost lines lost, the band's
 * height exactly; the clean picture must show no band; a picture without blanking must say
 * it cannot tell; the repair must bring the pulled lines back near the clean picture. Fresh
 * pictures each run; the seed is printed on failure.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headswitch.h"
#include "rng.h"

#define W 720
#define H 240
#define BLANK 8

static double s_uniform(double lo, double hi)
{
	return lo + (hi - lo) * (rnd() / 4294967296.0);
}

/* The picture's luma at (x, y), x continuous, without the blanking. */
static double s_picture(const double *tex, double x, int y)
{
	return 110 + 30 * sin(x * tex[0] + y * tex[1]) + 20 * sin(x * tex[2] - y * tex[3]) +
	       (fmod(floor(x / tex[4]) + floor(y / tex[5]), 2) ? 30 : 0);
}

/* The clean picture's luma at (x, y) as a pixel centred at x samples it: blanking (16)
 * outside [BLANK - 0.5, W - BLANK - 0.5), the picture inside, a pixel that straddles the
 * border a mix of the two by area. */
static double s_scene(const double *tex, double x, int y)
{
	double in = fmin(fmax(x - (BLANK - 1), 0), 1) * fmin(fmax((W - BLANK) - x, 0), 1);

	return 16 + in * (s_picture(tex, x, y) - 16);
}

struct fixture {
	uint8_t clean[H][W], torn[H][W];
	double pull[H];
	int band;
};

static void s_make(struct fixture *fx, int blanking)
{
	double tex[6] = { s_uniform(0.02, 0.2), s_uniform(0.02, 0.2), s_uniform(0.02, 0.2),
			  s_uniform(0.02, 0.2), s_uniform(8, 40), s_uniform(6, 30) };
	double top = s_uniform(2, 4), grow = s_uniform(6, 20) * (rnd() & 1 ? 1 : -1);

	fx->band = 4 + (int)(rnd() % 12);
	for (int y = 0; y < H; y++) {
		int in_band = y >= H - fx->band;
		double t = in_band ? (double)(y - (H - fx->band)) / fx->band : 0;

		fx->pull[y] = in_band ? (grow > 0 ? 1 : -1) * top + grow * t * t : 0;
		for (int x = 0; x < W; x++) {
			double noise = s_uniform(-2, 2);
			double c = blanking ? s_scene(tex, x, y) : s_scene(tex, x + W, y);
			double v = blanking ? s_scene(tex, x - fx->pull[y], y) : s_scene(tex, x + W - fx->pull[y], y);

			fx->clean[y][x] = (uint8_t)lrint(fmin(fmax(c + noise, 0), 255));
			fx->torn[y][x] = (uint8_t)lrint(fmin(fmax(v + noise, 0), 255));
			if (y >= H - 2)
				fx->torn[y][x] = (uint8_t)(rnd() % 256);
		}
	}
}

static struct vhs_picture s_pic(uint8_t (*luma)[W])
{
	struct vhs_picture p = { .fmt = vhs_pixfmt_find("gray"), .width = W, .height = H };

	p.data[0] = &luma[0][0];
	p.linesize[0] = W;
	return p;
}

Test(headswitch, pulls_found_within_a_fraction_of_a_pixel_and_the_band_exactly)
{
	static struct fixture fx;
	struct vhs_hs_lines m;
	struct vhs_picture pic;

	seed_rng();
	for (int round = 0; round < 6; round++) {
		s_make(&fx, 1);
		pic = s_pic(fx.torn);
		cr_assert_eq(vhs_hs_match(&pic, &m), 0);
		cr_assert_eq(m.n, VHS_HS_SEARCH, "seed %u: no edges found", seed);
		for (int i = 0; i < m.n; i++) {
			int y = m.first + i;

			if (y >= H - 2) {
				cr_expect_eq(m.state[i], VHS_HS_NOISE_LINE, "seed %u: noise line %d taken for picture", seed, y);
				continue;
			}
			if (m.state[i] == VHS_HS_UNKNOWN)
				continue; /* dark at both sides: nothing to tell by (counted below) */
			cr_expect_eq(m.state[i], VHS_HS_MOVED, "seed %u: line %d taken for noise", seed, y);
			cr_expect_leq(fabs(m.shift[i] - fx.pull[y]), 0.5, "seed %u: line %d pulled %.2f, measured %.2f",
				      seed, y, fx.pull[y], m.shift[i]);
		}
		/* lines at the band's top with nothing to tell by (dark at both sides) cannot count */
		int expect = fx.band;

		for (int y = H - fx.band; y < H && m.state[y - m.first] == VHS_HS_UNKNOWN; y++)
			expect--;
		cr_expect_eq(vhs_hs_band(&m), expect, "seed %u: band of %d lines (%d telling) measured %d", seed,
			     fx.band, expect, vhs_hs_band(&m));
		pic = s_pic(fx.clean);
		cr_assert_eq(vhs_hs_match(&pic, &m), 0);
		cr_expect_eq(vhs_hs_band(&m), 0, "seed %u: a band in the clean picture", seed);
	}
}

Test(headswitch, no_blanking_no_measure)
{
	static struct fixture fx;
	struct vhs_hs_lines m;
	struct vhs_picture pic;

	seed_rng();
	s_make(&fx, 0);
	pic = s_pic(fx.torn);
	cr_assert_eq(vhs_hs_match(&pic, &m), 0);
	cr_expect_eq(m.n, 0, "seed %u: edges found in a picture without blanking", seed);
}

Test(headswitch, repair_brings_the_band_back)
{
	static struct fixture fx;
	struct vhs_hs_lines m;
	struct vhs_picture pic;
	double before = 0, after = 0;
	int filled, unknown = 0;

	seed_rng();
	s_make(&fx, 1);
	pic = s_pic(fx.torn);
	cr_assert_eq(vhs_hs_match(&pic, &m), 0);
	cr_assert_eq(m.n, VHS_HS_SEARCH, "seed %u: no edges found", seed);
	for (int y = H - fx.band; y < H - 2; y++)
		unknown += m.state[y - m.first] == VHS_HS_UNKNOWN;
	for (int y = H - fx.band; y < H - 2; y++)
		for (int x = 2 * BLANK + 24; x < W - 2 * BLANK - 24; x++)
			if (m.state[y - m.first] == VHS_HS_MOVED)
				before += abs(fx.torn[y][x] - fx.clean[y][x]);
	filled = vhs_hs_repair(&pic, fx.band);
	cr_expect_eq(filled, 2 + unknown, "seed %u: %d lines filled, not the 2 of noise and %d unknown", seed,
		     filled, unknown);
	for (int y = H - fx.band; y < H - 2; y++)
		for (int x = 2 * BLANK + 24; x < W - 2 * BLANK - 24; x++)
			if (m.state[y - m.first] == VHS_HS_MOVED)
				after += abs(fx.torn[y][x] - fx.clean[y][x]);
	cr_expect_lt(after, before / 4, "seed %u: the band's difference went from %.0f to %.0f only", seed,
		     before, after);
	cr_expect_eq(memcmp(fx.torn[H - 2], fx.torn[H - 4], W), 0, "seed %u: a lost line not filled from two above", seed);
}
