/* test_scan.c: the scan type and field order from the pictures (dsp/video/scan.h), on
 * captures made here from a known truth.
 *
 * The scene: random sharp-edged boxes and a sine texture over gray, moved across and down
 * by a random sub-pixel speed (1.5 to 4 pixels a field across, a quarter of that down),
 * drawn at any instant. From it, 48 frames of 320x240 gray with noise of +-3 codes:
 *   interlaced: each field its own instant (top first or bottom first);
 *   progressive: both fields of one instant;
 *   telecine: film frames (one per 2.5 fields) in 3:2 pulldown, top or bottom first;
 *   shifted: progressive frames stored a field late (each frame's fields from two film frames);
 *   still: one picture, noise only.
 * Each is measured in runs of 12 as the analysis does, and must come out as the truth with
 * the right field order and a confidence of at least 0.9 (still: unknown). Fresh scenes
 * each run; the seed is printed on failure.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "scan.h"
#include "video_analysis.h"

#define W 320
#define H 240
#define FRAMES 48
#define BOXES 20

struct scene {
	double x0[BOXES], y0[BOXES], w[BOXES], h[BOXES], v[BOXES];
	double vx, vy, fx, fy;
};

enum capture { INTERLACED, PROGRESSIVE, TELECINE, SHIFTED, STILL };

static double s_uniform(double lo, double hi)
{
	return lo + (hi - lo) * (rnd() / 4294967296.0);
}

static void s_scene(struct scene *s)
{
	for (int i = 0; i < BOXES; i++) {
		s->x0[i] = s_uniform(-W / 2, W);
		s->y0[i] = s_uniform(-H / 4, H);
		s->w[i] = s_uniform(8, 80);
		s->h[i] = s_uniform(6, 60);
		s->v[i] = s_uniform(-70, 70);
	}
	s->vx = s_uniform(1.5, 4) * (rnd() & 1 ? 1 : -1);
	s->vy = s->vx / 4;
	s->fx = s_uniform(0.05, 0.2);
	s->fy = s_uniform(0.05, 0.2);
}

/* The scene's luma along row y at time t (in fields), into row[W]. */
static void s_row(const struct scene *s, int y, double t, double *row)
{
	double py = y - s->vy * t, ey[BOXES];

	for (int i = 0; i < BOXES; i++)
		ey[i] = s->v[i] * (tanh(py - s->y0[i]) - tanh(py - s->y0[i] - s->h[i])) / 2;
	for (int x = 0; x < W; x++) {
		double px = x - s->vx * t, v = 128;

		for (int i = 0; i < BOXES; i++)
			if (ey[i] != 0 && px > s->x0[i] - 12 && px < s->x0[i] + s->w[i] + 12)
				v += ey[i] * (tanh(px - s->x0[i]) - tanh(px - s->x0[i] - s->w[i])) / 2;
		row[x] = v + 12 * sin(px * s->fx) * sin(py * s->fy);
	}
}

/* When field (0 top, 1 bottom) of frame n was taken, in fields. */
static double s_instant(enum capture c, int tff, int n, int field)
{
	int first = tff ? field == 0 : field == 1;
	int film[5][2] = { { 0, 0 }, { 1, 1 }, { 1, 2 }, { 2, 3 }, { 3, 3 } }; /* top, bottom */

	switch (c) {
	case INTERLACED: return 2.0 * n + (first ? 0 : 1);
	case PROGRESSIVE: return 2.0 * n;
	case TELECINE: { /* 4 film frames in 5 video frames; bottom first swaps the fields */
		int k = film[n % 5][tff ? field : !field] + 4 * (n / 5);

		return 2.5 * k;
	}
	case SHIFTED: return 2.0 * (n + (first ? 0 : 1)); /* the second field opens the next frame */
	default: return 0;
	}
}

static struct vhs_picture s_frame(const struct scene *s, enum capture c, int tff, int n)
{
	struct vhs_picture p = { .fmt = vhs_pixfmt_find("gray"), .width = W, .height = H };

	p.data[0] = malloc(W * H);
	p.linesize[0] = W;
	cr_assert(p.fmt && p.data[0]);
	for (int y = 0; y < H; y++) {
		double row[W];

		s_row(s, y, s_instant(c, tff, n, y & 1), row);
		for (int x = 0; x < W; x++) {
			double v = row[x] + s_uniform(-3, 3);

			p.data[0][y * W + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
		}
	}
	return p;
}

/* The tape's decision over FRAMES frames in runs of VHS_ANALYSIS_RUN_FRAMES. */
static void s_decide(enum capture c, int tff, struct vhs_scan *out)
{
	size_t size = vhs_scan_reduced_size(W, H);
	uint8_t *red[FRAMES];
	struct vhs_scan_pair pairs[VHS_ANALYSIS_RUN_FRAMES];
	struct vhs_scan_tally tape = { 0 }, run;
	struct scene s;

	s_scene(&s);
	for (int n = 0; n < FRAMES; n++) {
		struct vhs_picture p = s_frame(&s, c, tff, n);

		red[n] = malloc(size);
		vhs_scan_reduce(&p, red[n]);
		free(p.data[0]);
	}
	for (int r = 0; r < FRAMES / VHS_ANALYSIS_RUN_FRAMES; r++) {
		enum vhs_field_order order;
		size_t n = 0;

		for (int i = 1; i < VHS_ANALYSIS_RUN_FRAMES; i++, n++) {
			int f = r * VHS_ANALYSIS_RUN_FRAMES + i;

			vhs_scan_measure(red[f - 1], red[f], W, H, &pairs[n]);
		}
		vhs_scan_add(&tape, &run, vhs_scan_run(pairs, n, &run, &order));
	}
	vhs_scan_decide(&tape, out);
	for (int n = 0; n < FRAMES; n++)
		free(red[n]);
}

static void s_expect(enum capture c, int tff, enum vhs_scan_kind kind, enum vhs_field_order order)
{
	struct vhs_scan sc;

	seed_rng();
	s_decide(c, tff, &sc);
	cr_assert_eq(sc.kind, kind, "%s %s: found %s (%.2f, major %s; seed %u)", vhs_scan_kind_name(kind),
		     tff ? "tff" : "bff", vhs_scan_kind_name(sc.kind), sc.confidence,
		     vhs_scan_kind_name(sc.major), seed);
	cr_assert_eq(sc.order, order, "%s: order %s, not %s (seed %u)", vhs_scan_kind_name(kind),
		     vhs_field_order_name(sc.order), vhs_field_order_name(order), seed);
	if (kind != VHS_SCAN_UNKNOWN)
		cr_assert_geq(sc.confidence, 0.9, "%s: confidence %.2f (seed %u)", vhs_scan_kind_name(kind),
			      sc.confidence, seed);
}

Test(scan, interlaced_top_first)
{
	s_expect(INTERLACED, 1, VHS_SCAN_INTERLACED, VHS_ORDER_TFF);
}

Test(scan, interlaced_bottom_first)
{
	s_expect(INTERLACED, 0, VHS_SCAN_INTERLACED, VHS_ORDER_BFF);
}

Test(scan, progressive)
{
	s_expect(PROGRESSIVE, 1, VHS_SCAN_PROGRESSIVE, VHS_ORDER_UNKNOWN);
}

Test(scan, telecine_top_first)
{
	s_expect(TELECINE, 1, VHS_SCAN_TELECINE, VHS_ORDER_TFF);
}

Test(scan, telecine_bottom_first)
{
	s_expect(TELECINE, 0, VHS_SCAN_TELECINE, VHS_ORDER_BFF);
}

Test(scan, shifted_fields)
{
	s_expect(SHIFTED, 1, VHS_SCAN_SHIFTED, VHS_ORDER_TFF);
	s_expect(SHIFTED, 0, VHS_SCAN_SHIFTED, VHS_ORDER_BFF);
}

Test(scan, still_picture_says_unknown)
{
	s_expect(STILL, 1, VHS_SCAN_UNKNOWN, VHS_ORDER_UNKNOWN);
}

/* A tape of two halves, interlaced then progressive, is mixed, with the half it has more of
 * as its major kind; a tape too short for a run says unknown. */
Test(scan, mixed_and_too_short)
{
	struct vhs_scan_tally tape = { 0 }, run = { 0 };
	struct vhs_scan_pair inter[11], prog[11];
	struct vhs_scan sc;
	enum vhs_field_order order;

	for (int i = 0; i < 11; i++) {
		inter[i] = (struct vhs_scan_pair){ 1.0f, 1.1f, 3.0f };
		prog[i] = (struct vhs_scan_pair){ 0.1f, 2.0f, 2.1f };
	}
	for (int r = 0; r < 3; r++)
		vhs_scan_add(&tape, &run, vhs_scan_run(inter, 11, &run, &order));
	vhs_scan_add(&tape, &run, vhs_scan_run(prog, 11, &run, &order));
	vhs_scan_decide(&tape, &sc);
	cr_assert_eq(sc.kind, VHS_SCAN_MIXED);
	cr_assert_eq(sc.major, VHS_SCAN_INTERLACED);
	cr_assert_float_eq(sc.confidence, 0.75, 1e-9);
	cr_assert_eq(sc.order, VHS_ORDER_TFF);

	memset(&tape, 0, sizeof(tape));
	vhs_scan_add(&tape, &run, vhs_scan_run(inter, 3, &run, &order));
	vhs_scan_decide(&tape, &sc);
	cr_assert_eq(sc.kind, VHS_SCAN_UNKNOWN, "3 frames are too few to tell");
	cr_assert_eq(sc.moving, 0);
}

/* The analyzer end to end on an interlaced capture: its file says what was found. */
Test(scan, analyzer_writes_its_findings)
{
	struct vhs_video_source src = { .width = W, .height = H, .sar_num = 8, .sar_den = 9, .rate_num = 30000,
					.rate_den = 1001, .field_order = "tff" };
	struct vhs_video_analyzer *an;
	struct vhs_video_analysis res;
	struct scene s;
	char *text = NULL, line[512];
	size_t len = 0;
	FILE *f;

	seed_rng();
	s_scene(&s);
	cr_assert_eq(vhs_video_analyzer_open(&an, &src), 0);
	for (int n = 0; n < 24; n++) {
		struct vhs_picture p = s_frame(&s, INTERLACED, 0, n);

		if (n % VHS_ANALYSIS_RUN_FRAMES == 0)
			cr_assert_eq(vhs_video_analyzer_begin_run(an, n / 29.97), 0);
		cr_assert_eq(vhs_video_analyzer_push(an, &p), 0);
		free(p.data[0]);
	}
	cr_assert_eq(vhs_video_analyzer_finish(an, &res), 0);
	f = open_memstream(&text, &len);
	vhs_video_analysis_write(&res, f);
	fclose(f);
	cr_assert(strstr(text, "scan=interlaced\n"), "%s (seed %u)", text, seed);
	cr_assert(strstr(text, "field_order=bff\n"), "%s", text);
	cr_assert(strstr(text, "container_field_order=tff\n"), "%s", text);
	cr_assert(strstr(text, "sar=8:9\n"), "%s", text);
	cr_assert(strstr(text, "runs=2\nrun.0=0.000 interlaced bff\nrun.1=0.400 interlaced bff\n"), "%s", text);
	vhs_video_analysis_describe(&res, line, sizeof(line));
	cr_assert(!strncmp(line, "interlaced, bottom field first (100% of 22 moving frames)", 57), "%s", line);
	free(text);
	vhs_video_analysis_free(&res);
	vhs_video_analyzer_close(&an);
	cr_assert_null(an);
}
