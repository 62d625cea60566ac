/* test_filters.c: the project's own filters (dsp/filters/native.h), the chain that runs them
 * with libavfilter's (dsp/av/chain.h), and the sub-pixel shifts under them
 * (dsp/video/subpixel.h).
 *
 * The registry must agree with the planner's reach table; options parse as libavfilter's do
 * and refuse what is wrong in one line; a shift by whole samples moves samples exactly and a
 * fractional one reproduces a ramp; vhs_chroma moves the chroma planes and leaves the luma;
 * vhs_decimate drops the repeat of every cycle of five, and a window that starts anywhere in
 * the cadence gives the same frames as the whole run for every cycle it holds whole. Random
 * pictures each run; the seed is printed on failure.
 */
#include <criterion/criterion.h>

#include <string.h>

#include <libavutil/pixdesc.h>

#include "chain.h"
#include "filters.h"
#include "native.h"
#include "rng.h"
#include "subpixel.h"

#define W 96
#define H 64

static struct vhs_stream_fmt s_fmt(const char *pix, int fr_num, int fr_den)
{
	struct vhs_stream_fmt f = { .media = VHS_MEDIA_VIDEO, .width = W, .height = H, .tb_num = fr_den,
				    .tb_den = fr_num, .fr_num = fr_num, .fr_den = fr_den, .sar_num = 1,
				    .sar_den = 1 };

	snprintf(f.fmt, sizeof(f.fmt), "%s", pix);
	return f;
}

/* A random picture of format pix (noise over a smooth pattern) with pts. */
static AVFrame *s_frame(const char *pix, int64_t pts)
{
	AVFrame *f = av_frame_alloc();

	cr_assert(f);
	f->format = av_get_pix_fmt(pix);
	f->width = W;
	f->height = H;
	cr_assert(av_frame_get_buffer(f, 0) >= 0);
	for (int p = 0; p < 3 && f->data[p]; p++) {
		int w = p ? AV_CEIL_RSHIFT(W, av_pix_fmt_desc_get(f->format)->log2_chroma_w) : W;
		int h = p ? AV_CEIL_RSHIFT(H, av_pix_fmt_desc_get(f->format)->log2_chroma_h) : H;

		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				f->data[p][y * f->linesize[p] + x] = (uint8_t)(40 + (x * 7 + y * 3) % 150 + rnd() % 30);
	}
	f->pts = pts;
	return f;
}

static bool s_same_plane(const AVFrame *a, const AVFrame *b, int p, int w, int h)
{
	for (int y = 0; y < h; y++)
		if (memcmp(a->data[p] + y * a->linesize[p], b->data[p] + y * b->linesize[p], w))
			return false;
	return true;
}

Test(filters, registry_matches_the_planners_reach_table)
{
	int natives = 0;

	for (int i = 0; vhs_native_filters[i]; i++) {
		const struct vhs_native_filter *f = vhs_native_filters[i];
		const struct vhs_filter_reach *r = vhs_filter_reach_find(f->name);

		cr_assert(r, "%s is not in proto/filters.h's table", f->name);
		cr_expect(r->native, "%s is not marked native", f->name);
		cr_expect_eq(r->before, f->reach_before, "%s: reach before", f->name);
		cr_expect_eq(r->after, f->reach_after, "%s: reach after", f->name);
		cr_expect_eq(vhs_native_find(f->name), f);
		cr_expect_eq(strncmp(f->name, "vhs_", 4), 0, "%s: our filters' names start vhs_", f->name);
	}
	for (const struct vhs_filter_reach *r = vhs_filter_reaches; r->name; r++)
		if (r->native) {
			natives++;
			cr_expect(vhs_native_find(r->name), "%s is in the table but not registered", r->name);
		}
	cr_expect_gt(natives, 0);
}

/* Opens a one-filter chain and returns 0 or the error, with the message in err. */
static int s_open(const char *chain, char *err, size_t len)
{
	struct vhs_stream_fmt in = s_fmt("yuv420p", 30000, 1001);
	struct vhs_chain *c;
	int ret = vhs_chain_open(&c, &in, chain, 1, err, len);

	vhs_chain_close(&c);
	return ret;
}

Test(filters, options_parse_and_refuse_in_one_line)
{
	char err[256];

	cr_expect_eq(s_open("vhs_chroma=1.5:-0.25", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(s_open("vhs_chroma=dy=0.5:dx=-1", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(s_open("null,vhs_chroma,hflip", err, sizeof(err)), 0, "%s", err);
	cr_expect_lt(s_open("vhs_chroma=dz=1", err, sizeof(err)), 0);
	cr_expect(strstr(err, "vhs_chroma has no option 'dz'") && strstr(err, "did you mean"), "%s", err);
	cr_expect_lt(s_open("vhs_chroma=dx=abc", err, sizeof(err)), 0);
	cr_expect(strstr(err, "dx = 'abc' is not a number"), "%s", err);
	cr_expect_lt(s_open("vhs_chroma=dx=40", err, sizeof(err)), 0);
	cr_expect(strstr(err, "out of range"), "%s", err);
	cr_expect_lt(s_open("vhs_chroma=1:2:3", err, sizeof(err)), 0);
	cr_expect(strstr(err, "too many values"), "%s", err);
	cr_expect_lt(s_open("[in]vhs_chroma=1[out]", err, sizeof(err)), 0);
	cr_expect(strstr(err, "simple chain"), "%s", err);
	cr_expect_lt(s_open("nosuchfilter", err, sizeof(err)), 0);
}

Test(filters, whole_sample_shifts_move_samples_exactly)
{
	uint8_t src[50], dst[50];
	struct vhs_subpixel_taps t;

	seed_rng();
	for (int i = 0; i < 50; i++)
		src[i] = (uint8_t)rnd();
	for (int s = -3; s <= 3; s++) {
		vhs_subpixel_taps(s, &t);
		vhs_subpixel_row(src, dst, 50, 1, 255, &t);
		for (int x = 0; x < 50; x++) {
			int at = x + s < 0 ? 0 : x + s > 49 ? 49 : x + s;

			cr_assert_eq(dst[x], src[at], "seed %u: shift %d at %d", seed, s, x);
		}
	}
}

Test(filters, fractional_shifts_reproduce_a_ramp)
{
	uint16_t src[64], dst[64];
	struct vhs_subpixel_taps t;

	seed_rng();
	int a = 100 + (int)(rnd() % 400), step = 50 + (int)(rnd() % 200);
	double s = (rnd() % 4000) / 1000.0 - 2;

	for (int i = 0; i < 64; i++)
		src[i] = (uint16_t)(a + step * i);
	vhs_subpixel_taps(s, &t);
	cr_assert_eq(t.w[0] + t.w[1] + t.w[2] + t.w[3], 1 << VHS_SUBPIXEL_BITS);
	vhs_subpixel_row((const uint8_t *)src, (uint8_t *)dst, 64, 2, 65535, &t);
	for (int x = 3; x < 60; x++)
		cr_assert_leq(fabs(dst[x] - (a + step * (x + s))), 0.51 + step / 4096.0 * 2,
			      "seed %u: shift %.3f at %d: %d, not %.2f", seed, s, x, dst[x], a + step * (x + s));
}

/* Every frame of frames[] through chain; the output into out[] (at most max). */
static int s_run(const char *chain, const struct vhs_stream_fmt *in, AVFrame **frames, int n,
		 AVFrame **out, int max)
{
	struct vhs_chain *c;
	char err[256];
	int got = 0, ret = 0;

	cr_assert_eq(vhs_chain_open(&c, in, chain, 1, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i <= n; i++) {
		AVFrame *f = i < n ? av_frame_clone(frames[i]) : NULL;

		cr_assert_eq(vhs_chain_push(c, f), 0);
		av_frame_free(&f);
		while (got < max && (out[got] = av_frame_alloc()) && (ret = vhs_chain_pull(c, out[got])) == 0)
			got++;
		if (got < max)
			av_frame_free(&out[got]);
		cr_assert(got == max || ret == AVERROR(EAGAIN) || ret == AVERROR_EOF, "%d", ret);
	}
	vhs_chain_close(&c);
	return got;
}

Test(filters, vhs_chroma_moves_the_chroma_and_leaves_the_luma)
{
	struct vhs_stream_fmt in = s_fmt("yuv420p", 25, 1);
	AVFrame *f, *out[1];

	seed_rng();
	f = s_frame("yuv420p", 0);
	cr_assert_eq(s_run("vhs_chroma=dx=4:dy=-2", &in, &f, 1, out, 1), 1);
	cr_expect(s_same_plane(out[0], f, 0, W, H), "the luma changed");
	for (int p = 1; p < 3; p++)
		for (int y = 0; y < H / 2; y++)
			for (int x = 0; x < W / 2; x++) {
				int sx = x + 2 > W / 2 - 1 ? W / 2 - 1 : x + 2, sy = y - 1 < 0 ? 0 : y - 1;

				cr_assert_eq(out[0]->data[p][y * out[0]->linesize[p] + x],
					     f->data[p][sy * f->linesize[p] + sx], "seed %u: plane %d (%d,%d)", seed, p, x, y);
			}
	av_frame_free(&out[0]);
	av_frame_free(&f);
}

/* The same at 10 bits: a whole-sample shift moves 16-bit samples exactly, too. */
Test(filters, vhs_chroma_moves_10_bit_chroma_exactly)
{
	struct vhs_stream_fmt in = s_fmt("yuv422p10le", 25, 1);
	AVFrame *f = av_frame_alloc(), *out[1];

	seed_rng();
	f->format = av_get_pix_fmt("yuv422p10le");
	f->width = W;
	f->height = H;
	cr_assert(av_frame_get_buffer(f, 0) >= 0);
	for (int p = 0; p < 3; p++)
		for (int y = 0; y < H; y++)
			for (int x = 0; x < (p ? W / 2 : W); x++)
				((uint16_t *)(f->data[p] + y * f->linesize[p]))[x] = (uint16_t)(64 + rnd() % 877);
	f->pts = 0;
	cr_assert_eq(s_run("vhs_chroma=dx=-2:dy=1", &in, &f, 1, out, 1), 1);
	cr_expect(s_same_plane(out[0], f, 0, 2 * W, H), "the luma changed");
	for (int p = 1; p < 3; p++)
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W / 2; x++) {
				int sx = x - 1 < 0 ? 0 : x - 1, sy = y + 1 > H - 1 ? H - 1 : y + 1;

				cr_assert_eq(((uint16_t *)(out[0]->data[p] + y * out[0]->linesize[p]))[x],
					     ((uint16_t *)(f->data[p] + sy * f->linesize[p]))[sx], "seed %u: plane %d (%d,%d)",
					     seed, p, x, y);
			}
	av_frame_free(&out[0]);
	av_frame_free(&f);
}

#define FILM 40 /* film frames; 50 video frames after pulldown */

/* Cycles of five after field matching: four film frames, the one at phase (0..3) twice. */
static void s_film(AVFrame **video, AVFrame **film, int phase)
{
	for (int i = 0; i < FILM; i++)
		film[i] = s_frame("gray", i);
	for (int n = 0; n < FILM / 4 * 5; n++) {
		int c = n / 5, at = n % 5;
		int src = c * 4 + (at <= phase ? at : at - 1);

		video[n] = av_frame_clone(film[src]);
		video[n]->pts = n;
	}
}

Test(filters, vhs_decimate_drops_the_repeat_in_cycles_anchored_to_the_tape)
{
	struct vhs_stream_fmt in = s_fmt("gray", 30000, 1001);
	AVFrame *video[FILM / 4 * 5], *film[FILM], *whole[FILM + 4], *part[FILM + 4];
	int n = FILM / 4 * 5, got, start, first;

	seed_rng();
	s_film(video, film, (int)(rnd() % 4));
	got = s_run("vhs_decimate", &in, video, n, whole, FILM + 4);
	cr_assert_eq(got, FILM, "seed %u: %d frames out of %d, not %d", seed, got, n, FILM);
	for (int i = 0; i < FILM; i++) {
		cr_expect_eq(whole[i]->pts, i, "seed %u: frame %d has pts %lld", seed, i, (long long)whole[i]->pts);
		cr_expect(s_same_plane(whole[i], film[i], 0, W, H), "seed %u: frame %d is not film frame %d", seed, i, i);
	}
	/* a window from anywhere in the cadence: every cycle it holds whole, with the frame
	 * before it, comes out as in the whole run */
	start = 1 + (int)(rnd() % 13);
	got = s_run("vhs_decimate", &in, video + start, n - start, part, FILM + 4);
	first = (start + 1 + 4) / 5 * 4; /* the first output of the first cycle whose predecessor is in */
	for (int i = 0; i < got; i++)
		if (part[i]->pts >= first) {
			cr_assert_lt(part[i]->pts, FILM);
			cr_expect(s_same_plane(part[i], whole[part[i]->pts], 0, W, H),
				  "seed %u: window from %d: output %lld differs", seed, start, (long long)part[i]->pts);
		}
	for (int i = 0; i < got; i++)
		av_frame_free(&part[i]);
	for (int i = 0; i < FILM; i++)
		av_frame_free(&whole[i]), av_frame_free(&film[i]);
	for (int i = 0; i < n; i++)
		av_frame_free(&video[i]);
}

Test(filters, vhs_decimate_needs_a_frame_rate)
{
	struct vhs_stream_fmt in = s_fmt("gray", 0, 1);
	struct vhs_chain *c;
	char err[256];

	cr_expect_lt(vhs_chain_open(&c, &in, "vhs_decimate", 1, err, sizeof(err)), 0);
	cr_expect(strstr(err, "constant frame rate"), "%s", err);
}
