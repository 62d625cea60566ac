/* test_mcdeint.c: the motion-compensated deinterlacer's core (dsp/video/mcdeint.c): each
 * field's own lines come out exactly; a still picture is given back whole from its two fields
 * (the neighbours' lines fill the gaps); a frame depends on the fields around it alone, not
 * on where the stream began (segment windows); one frame out per field, the ends included.
 */
#include "mcdeint.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W 96
#define H 64

static const struct vhs_pixfmt *s_fmt(void)
{
	const struct vhs_pixfmt *f = vhs_pixfmt_find("yuv422p");

	cr_assert_not_null(f);
	return f;
}

/* Truth frame t of a scene: fine horizontal stripes and text-like dots (what a bob cannot
 * make from one field), moving dx pixels a field across. */
static void s_scene(struct vhs_picture *p, uint8_t *buf, int t, int dx)
{
	*p = (struct vhs_picture){ .fmt = s_fmt(), .width = W, .height = H };
	p->data[0] = buf;
	p->data[1] = buf + W * H;
	p->data[2] = buf + W * H + W / 2 * H;
	p->linesize[0] = W;
	p->linesize[1] = p->linesize[2] = W / 2;
	for (int y = 0; y < H; y++) {
		for (int x = 0; x < W; x++) {
			int u = x + dx * t;

			buf[y * W + x] = (uint8_t)(110 + 50 * ((y / 2) % 2) + 30 * ((u / 5 + y / 3) % 3 == 0) +
						   (int)lround(20 * sin(u * 0.3)));
		}
	}
	for (int i = 0; i < W / 2 * H; i++) {
		p->data[1][i] = (uint8_t)(128 + (i % 7));
		p->data[2][i] = (uint8_t)(120 + (i % 5));
	}
}

static struct vhs_mcdeint *s_open(void)
{
	struct vhs_mcdeint_params p;
	struct vhs_mcdeint *d;

	cr_assert_eq(vhs_mcdeint_preset("medium", &p), 0);
	cr_assert_eq(vhs_mcdeint_open(&d, &p, s_fmt(), W, H), 0);
	return d;
}

/* Field k of the scene: its parity's rows of truth frame k (top field first). */
static void s_push(struct vhs_mcdeint *d, int k, int dx)
{
	static uint8_t buf[2 * W * H];
	struct vhs_picture p;

	s_scene(&p, buf, k, dx);
	cr_assert_eq(vhs_mcdeint_push(d, &p, k & 1), 0);
}

static double s_mse_luma(const struct vhs_picture *a, const struct vhs_picture *b, int parity)
{
	double sum = 0;
	int n = 0;

	for (int y = 2; y < H - 2; y++) {
		if ((y & 1) != parity)
			continue;
		for (int x = 0; x < W; x++, n++) {
			int e = a->data[0][y * a->linesize[0] + x] - b->data[0][y * b->linesize[0] + x];

			sum += e * e;
		}
	}
	return sum / n;
}

/* A still scene: from the third field on, the missing lines are the truth's, nearly. */
Test(mcdeint, still_picture_given_back)
{
	static uint8_t obuf[2 * W * H], tbuf[2 * W * H];
	struct vhs_mcdeint *d = s_open();
	struct vhs_picture out, truth;
	int got = 0;

	s_scene(&out, obuf, 0, 0);
	for (int k = 0; k < 8; k++) {
		s_push(d, k, 0);
		while (vhs_mcdeint_pull(d, &out) == 1) {
			s_scene(&truth, tbuf, got, 0);
			cr_assert_eq(s_mse_luma(&out, &truth, got & 1), 0, "frame %d: the field's own lines changed", got);
			if (got >= 2)
				cr_assert_lt(s_mse_luma(&out, &truth, !(got & 1)), 2.0,
					     "frame %d: the missing lines are %.1f (MSE) from the still picture", got,
					     s_mse_luma(&out, &truth, !(got & 1)));
			got++;
		}
	}
	cr_assert_eq(vhs_mcdeint_end(d), 0);
	while (vhs_mcdeint_pull(d, &out) == 1)
		got++;
	cr_assert_eq(got, 8, "8 fields in, %d frames out", got);
	vhs_mcdeint_close(&d);
}

/* Frame 9 of a moving scene is the same whether the stream began at field 0 or at field 6
 * (a segment's window with its warm-up): it depends on fields 8 to 10 alone. */
Test(mcdeint, frames_depend_on_their_window_alone)
{
	static uint8_t a_buf[2 * W * H], b_buf[2 * W * H];
	struct vhs_picture a, b;
	struct vhs_mcdeint *d;
	int got;

	s_scene(&a, a_buf, 0, 0);
	s_scene(&b, b_buf, 0, 0);
	d = s_open();
	for (int k = 0, got0 = 0; k < 14; k++) {
		s_push(d, k, 3);
		while (vhs_mcdeint_pull(d, got0 == 9 ? &a : &b) == 1)
			got0++;
	}
	vhs_mcdeint_close(&d);
	d = s_open();
	got = 6;
	for (int k = 6; k < 14; k++) {
		s_push(d, k, 3);
		while (vhs_mcdeint_pull(d, &b) == 1) {
			if (got == 9)
				cr_assert_arr_eq(a.data[0], b.data[0], W * H, "frame 9's luma depends on where the stream began");
			got++;
		}
	}
	cr_assert_gt(got, 9);
	vhs_mcdeint_close(&d);
}

Test(mcdeint, presets_and_formats)
{
	struct vhs_mcdeint_params p;
	struct vhs_mcdeint *d;

	cr_assert_eq(vhs_mcdeint_preset("fast", &p), 0);
	cr_assert_eq(vhs_mcdeint_preset("slow", &p), 0);
	cr_assert_eq(vhs_mcdeint_preset("quick", &p), -EINVAL);
	cr_assert_eq(vhs_mcdeint_open(&d, &p, vhs_pixfmt_find("yuv422p10le"), W, H), -EINVAL, "10-bit");
	cr_assert_eq(vhs_mcdeint_open(&d, &p, vhs_pixfmt_find("gbrp"), W, H), -EINVAL, "RGB");
	cr_assert_eq(vhs_mcdeint_open(&d, &p, s_fmt(), 8, 8), -EINVAL, "smaller than a block");
	cr_assert_eq(vhs_mcdeint_open(&d, &p, vhs_pixfmt_find("gray"), W, H), 0);
	vhs_mcdeint_close(&d);
	cr_assert_null(d);
}

/* Two threads (the neighbours' motion at once) make the same frames as one. */
Test(mcdeint, two_threads_same_frames)
{
	static uint8_t a_buf[2 * W * H], b_buf[2 * W * H];
	struct vhs_mcdeint_params p;
	struct vhs_mcdeint *d1, *d2;
	struct vhs_picture a, b;
	int got = 0;

	cr_assert_eq(vhs_mcdeint_preset("medium", &p), 0);
	p.threads = 1;
	cr_assert_eq(vhs_mcdeint_open(&d1, &p, s_fmt(), W, H), 0);
	p.threads = 2;
	cr_assert_eq(vhs_mcdeint_open(&d2, &p, s_fmt(), W, H), 0);
	s_scene(&a, a_buf, 0, 0);
	s_scene(&b, b_buf, 0, 0);
	for (int k = 0; k < 10; k++) {
		s_push(d1, k, 2);
		s_push(d2, k, 2);
		while (vhs_mcdeint_pull(d1, &a) == 1) {
			cr_assert_eq(vhs_mcdeint_pull(d2, &b), 1);
			for (int pl = 0; pl < 3; pl++)
				cr_assert_arr_eq(a.data[pl], b.data[pl], pl ? W / 2 * H : W * H, "frame %d plane %d", got, pl);
			got++;
		}
	}
	cr_assert_gt(got, 5);
	vhs_mcdeint_close(&d1);
	vhs_mcdeint_close(&d2);
}

/* Source match under motion and noise: every frame's own field lines, in every plane, are the
 * field's samples exactly, whatever the neighbours brought. */
Test(mcdeint, source_match_moving_noisy)
{
	enum { N = 10 };
	static uint8_t in_buf[N][2 * W * H], out_buf[2 * W * H];
	struct vhs_picture in[N], out;
	struct vhs_mcdeint *d = s_open();
	uint32_t seed = 12345;
	int got = 0;

	s_scene(&out, out_buf, 0, 0);
	for (int k = 0; k < N; k++) {
		s_scene(&in[k], in_buf[k], k, 4);
		for (int i = 0; i < 2 * W * H; i++) { /* noise on every sample */
			seed = seed * 1103515245u + 12345u;
			in_buf[k][i] = (uint8_t)(in_buf[k][i] + (int)(seed >> 28) - 8);
		}
	}
	for (int k = 0; k <= N; k++) {
		cr_assert_eq(k < N ? vhs_mcdeint_push(d, &in[k], k & 1) : vhs_mcdeint_end(d), 0);
		for (; vhs_mcdeint_pull(d, &out) == 1; got++)
			for (int pl = 0; pl < 3; pl++)
				for (int y = got & 1; y < H; y += 2)
					cr_assert_arr_eq(out.data[pl] + y * out.linesize[pl],
							 in[got].data[pl] + y * in[got].linesize[pl], pl ? W / 2 : W,
							 "frame %d plane %d row %d: the field's own line changed", got, pl, y);
	}
	cr_assert_eq(got, N);
	vhs_mcdeint_close(&d);
}

/* The blend's weighting, on flat fields (no motion; each field's bob is its level): a missing
 * sample is (own * bob + w * mean + (own + w) / 2) / (own + w), mean the two neighbours'
 * rounded mean and w = 6 * threshold - 6 * |prev - next| (their mismatch over 3 samples,
 * scaled to 6); where w <= 0 the bob stands. At the ends one neighbour stands for both. */
Test(mcdeint, blend_weighs_by_neighbour_agreement)
{
	static const int level[] = { 100, 110, 105, 140, 100, 160, 90, 95, 130, 128 };
	enum { N = sizeof(level) / sizeof(level[0]) };
	static uint8_t in_buf[2 * W * H], out_buf[2 * W * H];
	struct vhs_mcdeint_params p;
	struct vhs_picture in, out;
	struct vhs_mcdeint *d;
	int got = 0, blended = 0, kept = 0;

	cr_assert_eq(vhs_mcdeint_preset("medium", &p), 0);
	cr_assert_eq(vhs_mcdeint_open(&d, &p, s_fmt(), W, H), 0);
	s_scene(&in, in_buf, 0, 0);
	s_scene(&out, out_buf, 0, 0);
	for (int k = 0; k <= N; k++) {
		if (k < N) {
			memset(in_buf, level[k], sizeof(in_buf));
			cr_assert_eq(vhs_mcdeint_push(d, &in, k & 1), 0);
		} else {
			cr_assert_eq(vhs_mcdeint_end(d), 0);
		}
		while (vhs_mcdeint_pull(d, &out) == 1) {
			int b = level[got], prev = level[got ? got - 1 : got + 1];
			int next = level[got + 1 < N ? got + 1 : got - 1];
			int w = 6 * p.threshold - 6 * abs(prev - next), want = b;

			if (w > 0)
				want = (p.own * b + w * ((prev + next + 1) >> 1) + (p.own + w) / 2) / (p.own + w);
			blended += w > 0 && want != b;
			kept += w <= 0;
			for (int pl = 0; pl < 3; pl++) {
				int pw = pl ? W / 2 : W;

				for (int y = 1 + (got & 1); y < H - 1; y += 2) {
					for (int x = 0; x < pw; x++)
						cr_assert_eq(out.data[pl][y * out.linesize[pl] + x], want,
							     "frame %d plane %d (%d, %d): %d, want %d (bob %d, neighbours %d %d)",
							     got, pl, x, y, out.data[pl][y * out.linesize[pl] + x], want, b, prev,
							     next);
				}
			}
			got++;
		}
	}
	cr_assert_eq(got, N);
	cr_assert_gt(blended, 3, "too few frames blend: the test does not exercise the weighting");
	cr_assert_gt(kept, 1, "too few frames keep the bob: the test does not exercise the threshold");
	vhs_mcdeint_close(&d);
}

/* Resharpening is held between the two moved neighbours: on a still scene they agree exactly
 * from the third frame on (each is the truth), so full strength changes nothing; on a moving one (sub-pixel vectors,
 * the neighbours differ a little) it changes some missing samples and never the field's own. */
Test(mcdeint, resharpening_limited_by_the_neighbours)
{
	static uint8_t a_buf[2 * W * H], b_buf[2 * W * H];
	struct vhs_mcdeint_params p;
	struct vhs_picture a, b;

	for (int dx = 0; dx <= 3; dx += 3) {
		struct vhs_mcdeint *d0, *d16;
		int got = 0, changed = 0;

		cr_assert_eq(vhs_mcdeint_preset("medium", &p), 0);
		cr_assert_eq(vhs_mcdeint_open(&d0, &p, s_fmt(), W, H), 0);
		p.sharpen = 16;
		cr_assert_eq(vhs_mcdeint_open(&d16, &p, s_fmt(), W, H), 0);
		s_scene(&a, a_buf, 0, 0);
		s_scene(&b, b_buf, 0, 0);
		for (int k = 0; k < 10; k++) {
			s_push(d0, k, dx);
			s_push(d16, k, dx);
			for (; vhs_mcdeint_pull(d0, &a) == 1; got++) {
				cr_assert_eq(vhs_mcdeint_pull(d16, &b), 1);
				for (int y = 0; y < H; y++)
					for (int x = 0; x < W; x++) {
						int same = a.data[0][y * W + x] == b.data[0][y * W + x];

						cr_assert(same || (y & 1) != (got & 1), "frame %d: own row %d resharpened", got, y);
						changed += !same && (dx || got >= 2);
					}
			}
		}
		cr_assert_gt(got, 5);
		if (dx == 0)
			cr_assert_eq(changed, 0, "a still scene resharpened in %d samples", changed);
		else
			cr_assert_gt(changed, 50, "a moving scene: resharpening changed only %d samples", changed);
		vhs_mcdeint_close(&d0);
		vhs_mcdeint_close(&d16);
	}
}
