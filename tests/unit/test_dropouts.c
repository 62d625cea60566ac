/* test_dropouts.c: tape dropouts (dsp/video/dropouts.h) on interlaced captures made here.
 *
 * The scene: random boxes, a sine texture and a few thin bright horizontal bars (the kind of
 * picture a dropout finder must not take for one) moving across and down at a random
 * sub-pixel speed, each field its own instant, with noise. Into 24 frames of it go random
 * streaks: part of one line, 20 to 180 samples, white or a step brighter or darker than the
 * picture there, never near one of the frame before. The finder must find 90% of the streaks or more (a streak found when
 * runs cover 80% of its samples) and take at most 0.5% of the lines without one for one;
 * the repair must bring the streaks' samples much nearer the clean picture. Fresh scenes
 * each run; the seed is printed on failure.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dropouts.h"
#include "rng.h"

#define W 360
#define H 240
#define FRAMES 24
#define BOXES 16
#define STREAKS 6      /* per frame, at most */
#define MAX_FOUND 512

static double s_uniform(double lo, double hi)
{
	return lo + (hi - lo) * (rnd() / 4294967296.0);
}

struct scene {
	double x0[BOXES], y0[BOXES], w[BOXES], h[BOXES], v[BOXES];
	double vx, vy, fx, fy;
};

static double s_luma(const struct scene *s, double x, double y)
{
	double v = 110 + 30 * sin(x * s->fx) * sin(y * s->fy);

	for (int i = 0; i < BOXES; i++)
		if (x >= s->x0[i] && x < s->x0[i] + s->w[i] && y >= s->y0[i] && y < s->y0[i] + s->h[i])
			v += s->v[i];
	return v;
}

struct streak {
	int frame, y, x0, x1;
};

struct capture {
	uint8_t clean[FRAMES][H][W], damaged[FRAMES][H][W];
	struct streak st[FRAMES * STREAKS];
	int n_st;
};

/* A line for a streak of frame f: none within 8 lines of a streak of the frame before (tape
 * damage does not come back at the same place a frame later; one that did would look like
 * a thin thing of the picture that moved, which the finder rightly leaves), nor within 3 of
 * another of this frame (the finder does not take streaks stacked in one field: see
 * dropouts.h). */
static int s_streak_line(const struct capture *c, int f)
{
	for (;;) {
		int y = 4 + (int)(rnd() % (H - 8)), near = 0;

		for (int i = 0; i < c->n_st - 1; i++)
			near |= (c->st[i].frame == f - 1 && abs(c->st[i].y - y) < 8) ||
				(c->st[i].frame == f && abs(c->st[i].y - y) < 4);
		if (!near)
			return y;
	}
}

static void s_capture(struct capture *c)
{
	struct scene s;

	for (int i = 0; i < BOXES; i++) {
		s.x0[i] = s_uniform(-W / 2, W);
		s.y0[i] = s_uniform(-H / 4, H);
		s.w[i] = s_uniform(8, 80);
		/* a quarter of the boxes are thin bright bars, one or two lines tall */
		s.h[i] = i % 4 ? s_uniform(6, 50) : s_uniform(1, 2.5);
		s.v[i] = i % 4 ? s_uniform(-60, 60) : s_uniform(50, 90);
	}
	s.vx = s_uniform(0.5, 3) * (rnd() & 1 ? 1 : -1);
	s.vy = s_uniform(-0.5, 0.5);
	s.fx = s_uniform(0.05, 0.2);
	s.fy = s_uniform(0.05, 0.2);
	for (int f = 0; f < FRAMES; f++)
		for (int y = 0; y < H; y++) {
			double t = 2 * f + (y & 1); /* each field its own instant */

			for (int x = 0; x < W; x++) {
				double v = s_luma(&s, x - s.vx * t, y - s.vy * t) + s_uniform(-3, 3);

				c->clean[f][y][x] = (uint8_t)lrint(fmin(fmax(v, 16), 235));
			}
		}
	memcpy(c->damaged, c->clean, sizeof(c->clean));
	c->n_st = 0;
	for (int f = 0; f < FRAMES; f++)
		for (int k = (int)(rnd() % (STREAKS + 1)); k > 0; k--) {
			struct streak *st = &c->st[c->n_st++];
			int len = 20 + (int)(rnd() % 161), kind = (int)(rnd() % 3);

			st->frame = f;
			st->y = s_streak_line(c, f);
			st->x0 = (int)(rnd() % (W - len));
			st->x1 = st->x0 + len;
			for (int x = st->x0; x < st->x1; x++) {
				int v = c->clean[f][st->y][x];

				c->damaged[f][st->y][x] = (uint8_t)(kind == 0 ? 235 : kind == 1 ? fmin(v + 70, 255) : fmax(v - 70, 0));
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

static struct capture s_cap;

Test(dropouts, found_with_high_recall_and_few_false_lines)
{
	static struct vhs_dropout found[MAX_FOUND];
	int streaks = 0, hit = 0, false_lines = 0, lines = 0;

	seed_rng();
	s_capture(&s_cap);
	for (int f = 1; f < FRAMES - 1; f++) {
		struct vhs_picture p = s_pic(s_cap.damaged[f - 1]), c = s_pic(s_cap.damaged[f]),
				   n = s_pic(s_cap.damaged[f + 1]);
		int count = vhs_dropouts_find(&p, &c, &n, found, MAX_FOUND);
		uint8_t streak_line[H] = { 0 }, flagged[H] = { 0 };

		cr_assert_leq(count, MAX_FOUND);
		for (int i = 0; i < count; i++)
			flagged[found[i].y] = 1;
		for (int i = 0; i < s_cap.n_st; i++) {
			const struct streak *st = &s_cap.st[i];
			int covered = 0;

			if (st->frame != f)
				continue;
			streaks++;
			streak_line[st->y] = 1;
			for (int x = st->x0; x < st->x1; x++)
				for (int k = 0; k < count; k++)
					if (found[k].y == st->y && x >= found[k].x0 && x < found[k].x1) {
						covered++;
						break;
					}
			hit += covered * 5 >= (st->x1 - st->x0) * 4;
		}
		for (int y = 2; y < H - 2; y++) {
			lines += !streak_line[y];
			false_lines += flagged[y] && !streak_line[y];
		}
	}
	cr_assert_gt(streaks, 0);
	cr_expect_geq(hit * 10, streaks * 9, "seed %u: %d of %d streaks found", seed, hit, streaks);
	cr_expect_leq(false_lines * 1000, lines * 5, "seed %u: %d of %d lines without a streak flagged", seed,
		      false_lines, lines);
}

Test(dropouts, repair_brings_the_streaks_back)
{
	static struct vhs_dropout found[MAX_FOUND];
	static uint8_t out[H][W];
	double before = 0, after = 0;

	seed_rng();
	s_capture(&s_cap);
	for (int f = 1; f < FRAMES - 1; f++) {
		struct vhs_picture p = s_pic(s_cap.damaged[f - 1]), c = s_pic(s_cap.damaged[f]),
				   n = s_pic(s_cap.damaged[f + 1]), o = s_pic(out);
		int count = vhs_dropouts_find(&p, &c, &n, found, MAX_FOUND);

		memcpy(out, s_cap.damaged[f], sizeof(out));
		vhs_dropouts_repair(&p, &c, &n, &o, found, count);
		for (int i = 0; i < s_cap.n_st; i++) {
			const struct streak *st = &s_cap.st[i];

			if (st->frame != f)
				continue;
			for (int x = st->x0; x < st->x1; x++) {
				before += abs(s_cap.damaged[f][st->y][x] - s_cap.clean[f][st->y][x]);
				after += abs(out[st->y][x] - s_cap.clean[f][st->y][x]);
			}
		}
	}
	cr_expect_lt(after, before / 4, "seed %u: the streaks' difference went from %.0f to %.0f only", seed,
		     before, after);
}
