/* test_measure.c: what the video analysis measures (dsp/video/measure.h), on pictures drawn
 * here with a known truth.
 *
 * Levels: luma with a share of black at 16 (no setup) or at 32 (7.5 IRE setup) and noise of
 * +-2 codes, the rest mid-tones: black, white and setup must come out, with full confidence;
 * a picture with no black must say it has nothing to decide by (confidence 0, no setup);
 * 10-bit pictures give the same 8-bit levels.
 *
 * Chroma shift: a scene of random sharp-edged boxes (tanh steps up and down of random places,
 * widths, heights and signs, some across, some down), the luma drawn at every luma position
 * and the chroma, band-limited as a capture's is, at its own sites (the chroma location the
 * picture says) displaced by a known (dx, dy) of whole and quarter pixels, the chroma edges
 * with signs of their own. Over the twelve pictures of a "tape", combined as the analysis
 * combines them (a weighted median), the shift must be within 0.25 luma pixels of the truth
 * for 4:2:0, 4:2:2 and 4:1:1, at both sitings. A single picture is typically within half a
 * pixel, now and then a pixel or more off (too few edges across or down, or a box's far edge
 * taken for its near one): each must be within two but for one picture of the twelve, each
 * with a weight clearly above 0 (0.08; a flat picture's is 0). 4:1:1 is drawn at 720x480 (it
 * has a quarter of the luma's samples across), the others at 360x240. Fresh random scenes
 * each run; the seed is printed on failure.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "rng.h"

#define W 360
#define H 240
#define EDGES 24

/* A picture of fmt, planes in one allocation. */
static struct vhs_picture s_pic(const char *fmt, int w, int h)
{
	struct vhs_picture p = { .fmt = vhs_pixfmt_find(fmt), .width = w, .height = h };
	size_t at = 0, size = 0;

	cr_assert(p.fmt, "%s", fmt);
	for (int i = 0; i < p.fmt->planes; i++)
		size += (size_t)vhs_pixfmt_plane_width(p.fmt, i, w) * p.fmt->bytes *
			vhs_pixfmt_plane_height(p.fmt, i, h);
	p.data[0] = calloc(1, size);
	cr_assert(p.data[0]);
	for (int i = 0; i < p.fmt->planes; i++) {
		p.linesize[i] = vhs_pixfmt_plane_width(p.fmt, i, w) * p.fmt->bytes;
		p.data[i] = p.data[0] + at;
		at += (size_t)p.linesize[i] * vhs_pixfmt_plane_height(p.fmt, i, h);
	}
	p.color = (struct vhs_colorimetry){ VHS_RANGE_LIMITED, VHS_MATRIX_SMPTE170M, 6, 6, VHS_CHROMA_LEFT };
	return p;
}

static void s_put(struct vhs_picture *p, int plane, int x, int y, double v)
{
	uint8_t *row = p->data[plane] + (size_t)y * p->linesize[plane];
	double max = (1 << p->fmt->depth) - 1;

	v = v < 0 ? 0 : v > max ? max : v;
	if (p->fmt->bytes == 1)
		row[x] = (uint8_t)lrint(v);
	else
		((uint16_t *)row)[x] = (uint16_t)lrint(v);
}

/* ---- levels ---- */

/* share of black at code `black` (8-bit), the rest between 60 and 200, noise +-2. */
static void s_levels_picture(struct vhs_picture *p, double share, double black)
{
	double k = 1 << (p->fmt->depth - 8);

	for (int y = 0; y < p->height; y++)
		for (int x = 0; x < p->width; x++) {
			double v = (rnd() % 10000) < share * 10000 ? black : 60 + rnd() % 141;

			s_put(p, 0, x, y, (v + (double)(rnd() % 5) - 2) * k);
		}
}

static void s_levels_case(const char *fmt, double share, double black, int setup, double conf)
{
	struct vhs_picture p = s_pic(fmt, W, H);
	struct vhs_levels_hist h = { { 0 }, 0 };
	struct vhs_levels l;

	seed_rng();
	s_levels_picture(&p, share, black);
	vhs_levels_add(&h, &p);
	cr_assert_eq(vhs_levels_decide(&h, &l), 0);
	cr_assert_eq(l.setup, setup, "%s black %g: setup %d, black level %g (seed %u)", fmt, black,
		     l.setup, l.black, seed);
	cr_assert_geq(l.confidence, conf, "%s: confidence %g", fmt, l.confidence);
	if (conf > 0)
		cr_assert_leq(fabs(l.black - black), 3, "%s: black %g, drawn at %g", fmt, l.black, black);
	cr_assert_geq(l.white, 195, "%s: white %g", fmt, l.white);
	free(p.data[0]);
}

Test(levels, no_setup_at_16)
{
	s_levels_case("yuv420p", 0.05, 16, 0, 1.0);
}

Test(levels, setup_at_7_5_ire)
{
	s_levels_case("yuv420p", 0.05, 32, 1, 1.0);
	s_levels_case("yuv411p", 0.03, 33, 1, 1.0);
}

Test(levels, ten_bit_same_as_eight)
{
	s_levels_case("yuv422p10le", 0.05, 32, 1, 1.0);
	s_levels_case("yuv422p10le", 0.05, 16, 0, 1.0);
}

Test(levels, no_black_nothing_to_decide_by)
{
	struct vhs_picture p = s_pic("yuv420p", W, H);
	struct vhs_levels_hist h = { { 0 }, 0 };
	struct vhs_levels l;

	seed_rng();
	s_levels_picture(&p, 0, 0);
	vhs_levels_add(&h, &p);
	cr_assert_eq(vhs_levels_decide(&h, &l), 0);
	cr_assert_eq(l.setup, 0, "mid-tones only: no setup (black %g)", l.black);
	cr_assert_lt(l.confidence, 0.35, "confidence %g with no black", l.confidence);
	free(p.data[0]);
}

Test(levels, empty_is_no_data)
{
	struct vhs_levels_hist h = { { 0 }, 0 };
	struct vhs_levels l;

	cr_assert_eq(vhs_levels_decide(&h, &l), -ENODATA);
}

/* ---- chroma shift ---- */

static int s_w = W, s_h = H; /* the size of the pictures being drawn */

struct scene {
	double pos[EDGES], width[EDGES], height[EDGES], csign[EDGES];
	int vertical[EDGES];      /* 1: a vertical edge (a step along x) */
};

/* Boxes (an edge up and one down) of random place, width, height and sign, so that the
 * scene stays within the code range; the chroma's with signs of their own. */
static void s_scene(struct scene *s)
{
	for (int e = 0; e < EDGES; e++) {
		s->vertical[e] = e % 3 != 0;
		s->pos[e] = 20 + (rnd() % 100000) / 100000.0 * ((s->vertical[e] ? s_w : s_h) - 80);
		s->width[e] = 6 + rnd() % 30;
		s->height[e] = (double)(15 + rnd() % 25) * (rnd() % 2 ? 1 : -1);
		s->csign[e] = rnd() % 2 ? 1 : -1;
	}
}

/* The scene at (x, y): luma (which 0) or chroma (1: Cb, 2: Cr, with their own signs). The
 * chroma is band-limited as a capture's is (VHS chroma has a fraction of the luma's
 * bandwidth, and every capture filters chroma before subsampling it): its edges are softer,
 * 2.5 luma pixels across and 1.5 down, where the luma's are 0.8. */
static double s_scene_at(const struct scene *s, int which, double x, double y)
{
	double v = 128;

	for (int e = 0; e < EDGES; e++) {
		double t = s->vertical[e] ? x : y;
		double a = s->height[e] * (which ? s->csign[e] * (which == 2 ? -0.7 : 0.8) : 1);
		double soft = !which ? 0.8 : s->vertical[e] ? 2.5 : 1.5;

		v += 0.5 * a * (tanh((t - s->pos[e]) / soft) - tanh((t - s->pos[e] - s->width[e]) / soft));
	}
	return v;
}

/* A picture of the scene with its chroma displaced by (dx, dy) luma pixels: the chroma
 * sample at luma position (px, py) shows the scene at (px - dx, py - dy). */
static struct vhs_picture s_shifted(const char *fmt, int loc, const struct scene *s, double dx,
				    double dy)
{
	struct vhs_picture p = s_pic(fmt, s_w, s_h);
	int sx = 1 << p.fmt->log2_cw, sy = 1 << p.fmt->log2_ch;
	double ox = 0, oy = sy > 1 ? 0.5 * (sy - 1) : 0;
	double k = 1 << (p.fmt->depth - 8);

	p.color.chroma_location = (uint8_t)loc;
	if (loc == VHS_CHROMA_CENTER)
		ox = 0.5 * (sx - 1);
	for (int y = 0; y < s_h; y++)
		for (int x = 0; x < s_w; x++)
			s_put(&p, 0, x, y, s_scene_at(s, 0, x, y) * k);
	for (int j = 0; j < vhs_pixfmt_plane_height(p.fmt, 1, s_h); j++)
		for (int i = 0; i < vhs_pixfmt_plane_width(p.fmt, 1, s_w); i++) {
			double px = i * sx + ox - dx, py = j * sy + oy - dy;

			s_put(&p, 1, i, j, s_scene_at(s, 1, px, py) * k);
			s_put(&p, 2, i, j, s_scene_at(s, 2, px, py) * k);
		}
	return p;
}

#define FRAMES 12 /* pictures of one "tape", each a scene of its own */

/* The shift of a tape: the measurements of FRAMES pictures combined as the analysis combines
 * its sampled frames (vhs_shift_combine, a weighted median). Within 0.25 luma pixels of the truth; each picture
 * alone within two but for at most one (measured over 1100 pictures: mean error 0.14, none
 * beyond 2, but a test run measures 264 and fails now and then if it allows none). */
static void s_shift_case(const char *fmt, int loc, double dx, double dy)
{
	struct vhs_shift_sample sx[FRAMES], sy[FRAMES];
	double tx, ty, w;
	int far = 0; /* pictures more than 2 pixels off */
	const struct vhs_pixfmt *pf = vhs_pixfmt_find(fmt);

	/* 4:1:1 has a quarter of the luma's samples across: it needs the full SD width */
	s_w = pf && pf->log2_cw == 2 ? 720 : W;
	s_h = pf && pf->log2_cw == 2 ? 480 : H;
	seed_rng();
	for (int f = 0; f < FRAMES; f++) {
		struct scene sc;
		struct vhs_picture p;
		struct vhs_chroma_shift m;

		s_scene(&sc);
		p = s_shifted(fmt, loc, &sc, dx, dy);
		cr_assert_eq(vhs_chroma_shift_measure(&p, &m), 0);
		if (fabs(m.dx - dx) > 2.0 || fabs(m.dy - dy) > 2.0) {
			cr_assert_eq(far, 0, "%s loc %d frame %d: (%.3f, %.3f) (weights %.3f, %.3f), drawn (%.2f, %.2f), the second picture of the tape more than 2 pixels off (seed %u)",
				     fmt, loc, f, m.dx, m.dy, m.wx, m.wy, dx, dy, seed);
			far++;
		}
		cr_assert_gt(m.wx, 0.08, "%s: weight across %.3f", fmt, m.wx);
		cr_assert_gt(m.wy, 0.08, "%s: weight down %.3f", fmt, m.wy);
		sx[f] = (struct vhs_shift_sample){ m.dx, m.wx };
		sy[f] = (struct vhs_shift_sample){ m.dy, m.wy };
		free(p.data[0]);
	}
	vhs_shift_combine(sx, FRAMES, &tx, &w);
	vhs_shift_combine(sy, FRAMES, &ty, &w);
	cr_assert_leq(fabs(tx - dx), 0.25, "%s loc %d: dx %.3f over %d pictures, drawn %.2f (seed %u)",
		      fmt, loc, tx, FRAMES, dx, seed);
	cr_assert_leq(fabs(ty - dy), 0.25, "%s loc %d: dy %.3f over %d pictures, drawn %.2f (seed %u)",
		      fmt, loc, ty, FRAMES, dy, seed);
}

Test(chroma_shift, none_is_zero)
{
	s_shift_case("yuv420p", VHS_CHROMA_LEFT, 0, 0);
	s_shift_case("yuv420p", VHS_CHROMA_CENTER, 0, 0);
	s_shift_case("yuv411p", VHS_CHROMA_LEFT, 0, 0);
	s_shift_case("yuv422p", VHS_CHROMA_LEFT, 0, 0);
}

Test(chroma_shift, vhs_lag_to_the_right)
{
	s_shift_case("yuv420p", VHS_CHROMA_LEFT, 1.5, 0);
	s_shift_case("yuv420p", VHS_CHROMA_LEFT, 2.75, 0.5);
	s_shift_case("yuv422p", VHS_CHROMA_LEFT, 1.25, 0);
	s_shift_case("yuv411p", VHS_CHROMA_LEFT, 3.0, 0);
}

Test(chroma_shift, quarter_pixels_both_ways)
{
	s_shift_case("yuv420p", VHS_CHROMA_CENTER, -0.75, 1.25);
	s_shift_case("yuv420p10le", VHS_CHROMA_LEFT, 0.25, -1.0);
	s_shift_case("yuv422p", VHS_CHROMA_LEFT, -2.25, 0.75);
}

Test(chroma_shift, flat_has_no_weight_and_rgb_is_refused)
{
	struct vhs_picture p = s_pic("yuv420p", 64, 64), rgb = s_pic("gbrp", 64, 64);
	struct vhs_chroma_shift m;

	memset(p.data[0], 100, (size_t)64 * 64 * 3 / 2);
	cr_assert_eq(vhs_chroma_shift_measure(&p, &m), 0);
	cr_assert_eq(m.wx, 0);
	cr_assert_eq(m.wy, 0);
	cr_assert_eq(vhs_chroma_shift_measure(&rgb, &m), -EINVAL);
	free(p.data[0]);
	free(rgb.data[0]);
}
