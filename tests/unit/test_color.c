/* test_color.c: the colour conversions (dsp/image/color.c); the pixel format table is
 * test_pixfmt.c's.
 *
 * Covered: setup's levels, matrix and siting for
 * 8/10-bit limited and full range; BT.601/709 colour bars to and from known code values;
 * round trips picture -> RGB -> picture on random images (YUV within one code value,
 * planar RGB exact, flat colours exact through every subsampling); where a chroma impulse
 * lands for every chroma location, both directions; gray; clamping; the chunked row code
 * against a per-pixel transcription of color.c's FORMULAS (what a GPU kernel computes),
 * for wide odd-sized pictures of every subsampling; the CUDA backend's constants are
 * color.h's own. Random inputs are seeded from the
 * clock; a failing assertion prints the seed.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "color.h"
#include "cuda_upscaler.h"
#include "pixfmt.h"
#include "rng.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* A w x h picture of fmt in one buffer laid out by vhs_pixfmt_layout (free pic->data[0]). */
static struct vhs_picture pic_new(const char *name, int w, int h)
{
	struct vhs_picture p = { .fmt = vhs_pixfmt_find(name), .width = w, .height = h };
	uint32_t off[4];
	int32_t ls[4];
	size_t bytes;
	uint8_t *buf;

	cr_assert_not_null(p.fmt, "format %s", name);
	bytes = vhs_pixfmt_layout(p.fmt, w, h, off, ls);
	buf = aligned_alloc(64, bytes);
	cr_assert_not_null(buf);
	memset(buf, 0x5a, bytes);
	for (int i = 0; i < p.fmt->planes; i++) {
		p.data[i] = buf + off[i];
		p.linesize[i] = ls[i];
	}
	return p;
}

static void pic_free(struct vhs_picture *p)
{
	free(p->data[0]);
}

static int get(const struct vhs_picture *p, int plane, int x, int y)
{
	const uint8_t *row = p->data[plane] + (size_t)y * p->linesize[plane];

	return p->fmt->bytes == 1 ? row[x] : ((const uint16_t *)(const void *)row)[x];
}

static void set(struct vhs_picture *p, int plane, int x, int y, int v)
{
	uint8_t *row = p->data[plane] + (size_t)y * p->linesize[plane];

	if (p->fmt->bytes == 1)
		row[x] = (uint8_t)v;
	else
		((uint16_t *)(void *)row)[x] = (uint16_t)v;
}

static void fill_plane(struct vhs_picture *p, int plane, int v)
{
	int w = vhs_pixfmt_plane_width(p->fmt, plane, p->width);
	int h = vhs_pixfmt_plane_height(p->fmt, plane, p->height);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			set(p, plane, x, y, v);
}

/* Largest difference between two pictures' codes over every plane. */
static int max_diff(const struct vhs_picture *a, const struct vhs_picture *b)
{
	int worst = 0;

	for (int p = 0; p < a->fmt->planes; p++) {
		int w = vhs_pixfmt_plane_width(a->fmt, p, a->width);
		int h = vhs_pixfmt_plane_height(a->fmt, p, a->height);

		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				int d = abs(get(a, p, x, y) - get(b, p, x, y));

				worst = d > worst ? d : worst;
			}
	}
	return worst;
}

static const struct vhs_colorimetry c601 = { VHS_RANGE_LIMITED, VHS_MATRIX_SMPTE170M, 6, 6,
					     VHS_CHROMA_LEFT };

/* ---- setup -------------------------------------------------------------------------------- */

Test(color, setup_levels_and_siting)
{
	struct vhs_color_xform x;
	struct vhs_colorimetry t = c601;

	vhs_color_setup_in(&x, vhs_pixfmt_find("yuv420p"), 720, 480, &t);
	cr_assert(x.kr == 0.299f && x.kb == 0.114f);
	cr_assert(x.y_off == 16 && x.y_scale == 219 && x.c_off == 128 && x.c_scale == 224);
	cr_assert(x.max_code == 255 && x.sx == 2 && x.sy == 2 && !x.rgb && !x.gray);
	cr_assert(x.cx_off == 0.0f && x.cy_off == 0.5f);

	t.matrix = VHS_MATRIX_BT709;
	t.chroma_location = VHS_CHROMA_CENTER;
	vhs_color_setup_in(&x, vhs_pixfmt_find("yuv420p10le"), 720, 480, &t);
	cr_assert(x.kr == 0.2126f && x.kb == 0.0722f);
	cr_assert(x.y_off == 64 && x.y_scale == 876 && x.c_off == 512 && x.c_scale == 896);
	cr_assert(x.max_code == 1023 && x.cx_off == 0.5f && x.cy_off == 0.5f);

	t.range = VHS_RANGE_UNSPECIFIED;
	t.chroma_location = VHS_CHROMA_UNSPECIFIED;
	vhs_color_setup_in(&x, vhs_pixfmt_find("yuvj411p"), 720, 480, &t);
	cr_assert(x.y_off == 0 && x.y_scale == 255 && x.c_off == 128 && x.c_scale == 255);
	cr_assert(x.sx == 4 && x.sy == 1 && x.cx_off == 0.0f && x.cy_off == 0.0f);

	t.range = VHS_RANGE_FULL;
	vhs_color_setup_in(&x, vhs_pixfmt_find("yuv444p12le"), 8, 8, &t);
	cr_assert(x.y_off == 0 && x.y_scale == 4095 && x.c_off == 2048 && x.max_code == 4095);

	vhs_color_setup_in(&x, vhs_pixfmt_find("gbrp10le"), 8, 8, &c601);
	cr_assert(x.rgb && x.y_off == 0 && x.y_scale == 1023 && x.sx == 1 && x.sy == 1);
	vhs_color_setup_in(&x, vhs_pixfmt_find("gray"), 8, 8, &c601);
	cr_assert(x.gray && !x.rgb && x.y_off == 16 && x.y_scale == 219);
}

Test(color, setup_out_tags)
{
	struct vhs_color_xform x;
	struct vhs_colorimetry keep = { VHS_RANGE_FULL, VHS_MATRIX_SMPTE170M, 6, 6,
					VHS_CHROMA_TOPLEFT };

	vhs_color_setup_out(&x, vhs_pixfmt_find("yuv420p"), 1440, 1080, VHS_MATRIX_BT709, &keep);
	cr_assert_eq(x.tags.matrix, VHS_MATRIX_BT709);
	cr_assert_eq(x.tags.range, VHS_RANGE_LIMITED);
	cr_assert_eq(x.tags.chroma_location, VHS_CHROMA_LEFT);
	cr_assert(x.tags.primaries == 6 && x.tags.transfer == 6);
	cr_assert(x.kr == 0.2126f && x.y_off == 16 && x.cx_off == 0.0f && x.cy_off == 0.5f);

	vhs_color_setup_out(&x, vhs_pixfmt_find("yuv444p"), 720, 480, VHS_MATRIX_BT470BG, &keep);
	cr_assert(x.tags.matrix == VHS_MATRIX_BT470BG && x.kr == 0.299f);
	cr_assert_eq(x.tags.chroma_location, VHS_CHROMA_UNSPECIFIED);

	vhs_color_setup_out(&x, vhs_pixfmt_find("gbrp"), 720, 480, VHS_MATRIX_BT709, &keep);
	cr_assert(x.rgb && x.tags.range == VHS_RANGE_FULL && x.tags.matrix == VHS_MATRIX_RGB);

	vhs_color_setup_out(&x, vhs_pixfmt_find("yuvj422p"), 720, 480, VHS_MATRIX_SMPTE170M, NULL);
	cr_assert(x.tags.range == VHS_RANGE_FULL && x.y_scale == 255 && x.tags.primaries == 2);
}

/* ---- known code values -------------------------------------------------------------------- */

/* 100% colour bars: white, yellow, cyan, green, magenta, red, blue, black. */
static const float bars_rgb[8][3] = {
	{ 1, 1, 1 }, { 1, 1, 0 }, { 0, 1, 1 }, { 0, 1, 0 },
	{ 1, 0, 1 }, { 1, 0, 0 }, { 0, 0, 1 }, { 0, 0, 0 },
};

/* Encodes the 8 bars as one row of fmt, checks the codes, decodes and checks RGB. */
static void check_bars(const char *fmt, int matrix, const int codes[8][3], float tol)
{
	struct vhs_picture p = pic_new(fmt, 8, 1);
	struct vhs_colorimetry t = c601;
	struct vhs_color_xform x;
	float rgb[8 * 3], back[8 * 3];

	for (int i = 0; i < 8; i++)
		for (int c = 0; c < 3; c++)
			rgb[3 * i + c] = bars_rgb[i][c] * 255.0f;
	vhs_color_setup_out(&x, p.fmt, 8, 1, matrix, NULL);
	vhs_color_from_rgb(&x, rgb, 255.0f, &p);
	for (int i = 0; i < 8; i++)
		for (int c = 0; c < 3; c++)
			cr_assert(codes[i][c] < 0 || get(&p, c, i, 0) == codes[i][c], "%s bar %d plane %d: %d, want %d",
				     fmt, i, c, get(&p, c, i, 0), codes[i][c]);
	t.matrix = (uint8_t)matrix;
	t.range = x.tags.range;
	vhs_color_setup_in(&x, p.fmt, 8, 1, &t);
	vhs_color_to_rgb(&x, &p, back, 255.0f);
	for (int i = 0; i < 24; i++)
		cr_assert(fabsf(back[i] - rgb[i]) <= tol, "%s bar %d channel %d: %f, want %f", fmt,
			  i / 3, i % 3, back[i], rgb[i]);
	pic_free(&p);
}

Test(color, bt601_limited_bars)
{
	static const int codes[8][3] = {
		{ 235, 128, 128 }, { 210, 16, 146 }, { 170, 166, 16 }, { 145, 54, 34 },
		{ 106, 202, 222 }, { 81, 90, 240 }, { 41, 240, 110 }, { 16, 128, 128 },
	};

	check_bars("yuv444p", VHS_MATRIX_SMPTE170M, codes, 1.5f);
}

Test(color, bt601_black_white_exact)
{
	struct vhs_picture p = pic_new("yuv444p", 2, 1);
	struct vhs_color_xform x;
	float rgb[6];

	set(&p, 0, 0, 0, 16);
	set(&p, 0, 1, 0, 235);
	for (int c = 1; c < 3; c++)
		for (int i = 0; i < 2; i++)
			set(&p, c, i, 0, 128);
	vhs_color_setup_in(&x, p.fmt, 2, 1, &c601);
	vhs_color_to_rgb(&x, &p, rgb, 255.0f);
	for (int c = 0; c < 3; c++) {
		cr_assert_eq(rgb[c], 0.0f);
		cr_assert_float_eq(rgb[3 + c], 255.0f, 1e-3);
	}
	vhs_color_to_rgb(&x, &p, rgb, 1.0f);
	cr_assert_float_eq(rgb[4], 1.0f, 1e-6);
	pic_free(&p);
}

Test(color, bt709_bars)
{
	static const int codes[8][3] = {
		{ 235, 128, 128 }, { 219, 16, 138 }, { 188, 154, 16 }, { 173, 42, 26 },
		{ 78, 214, 230 }, { 63, 102, 240 }, { 32, 240, 118 }, { 16, 128, 128 },
	};

	check_bars("yuv444p", VHS_MATRIX_BT709, codes, 1.5f);
}

Test(color, bars_10bit_and_full_range)
{
	static const int c10[8][3] = {
		{ 940, 512, 512 }, { 840, 64, 585 }, { 678, 663, 64 }, { 578, 215, 137 },
		{ 426, 809, 887 }, { 326, 361, 960 }, { 164, 960, 439 }, { 64, 512, 512 },
	};
	/* -1: exactly half way between two codes (128 - 127.5), either is right */
	static const int cj[8][3] = {
		{ 255, 128, 128 }, { 226, -1, 149 }, { 179, 171, -1 }, { 150, 44, 21 },
		{ 105, 212, 235 }, { 76, 85, 255 }, { 29, 255, 107 }, { 0, 128, 128 },
	};

	check_bars("yuv444p10le", VHS_MATRIX_SMPTE170M, c10, 0.5f);
	check_bars("yuvj444p", VHS_MATRIX_SMPTE170M, cj, 1.5f);
}

/* ---- round trips -------------------------------------------------------------------------- */

/* Random RGB -> p1 -> RGB -> p2: p1 and p2 differ by at most tol codes. */
static void check_round_trip(const char *fmt, int w, int h, int matrix, int tol)
{
	struct vhs_picture p1 = pic_new(fmt, w, h), p2 = pic_new(fmt, w, h);
	float *rgb = malloc(sizeof(float) * 3 * w * h);
	struct vhs_color_xform out, in;
	struct vhs_colorimetry t;
	int d;

	cr_assert_not_null(rgb);
	for (int i = 0; i < 3 * w * h; i++)
		rgb[i] = (float)(rnd() % 1001) / 1000.0f;
	vhs_color_setup_out(&out, p1.fmt, w, h, matrix, NULL);
	vhs_color_from_rgb(&out, rgb, 1.0f, &p1);
	t = out.tags;
	vhs_color_setup_in(&in, p1.fmt, w, h, &t);
	vhs_color_to_rgb(&in, &p1, rgb, 1.0f);
	vhs_color_from_rgb(&out, rgb, 1.0f, &p2);
	d = max_diff(&p1, &p2);
	cr_assert(d <= tol, "%s %dx%d: round trip differs by %d codes (seed %u)", fmt, w, h, d, seed);
	free(rgb);
	pic_free(&p1);
	pic_free(&p2);
}

Test(color, round_trip_444_within_one, .init = seed_rng)
{
	check_round_trip("yuv444p", 67, 31, VHS_MATRIX_SMPTE170M, 1);
	check_round_trip("yuv444p", 300, 5, VHS_MATRIX_BT709, 1);
	check_round_trip("yuvj444p", 40, 20, VHS_MATRIX_BT709, 1);
	check_round_trip("yuv444p10le", 40, 20, VHS_MATRIX_SMPTE170M, 1);
	check_round_trip("yuv444p16le", 40, 20, VHS_MATRIX_BT709, 1);
}

/* Random codes of a planar RGB format -> RGB -> codes: identical. */
static void check_gbrp_exact(const char *fmt, int w, int h, float scale)
{
	struct vhs_picture p1 = pic_new(fmt, w, h), p2 = pic_new(fmt, w, h);
	float *rgb = malloc(sizeof(float) * 3 * w * h);
	int max = (1 << p1.fmt->depth) - 1, d;
	struct vhs_color_xform x;

	cr_assert_not_null(rgb);
	for (int p = 0; p < 3; p++)
		for (int y = 0; y < h; y++)
			for (int i = 0; i < w; i++)
				set(&p1, p, i, y, (int)(rnd() % (uint32_t)(max + 1)));
	set(&p1, 0, 0, 0, 0);
	set(&p1, 1, 0, 0, max);
	vhs_color_setup_in(&x, p1.fmt, w, h, NULL);
	vhs_color_to_rgb(&x, &p1, rgb, scale);
	/* plane 0 is G, 1 is B, 2 is R */
	cr_assert_float_eq(rgb[0], (float)get(&p1, 2, 0, 0) / max * scale, 1e-4 * scale);
	cr_assert_float_eq(rgb[1], 0.0f, 1e-6);
	cr_assert_float_eq(rgb[2], scale, 1e-4 * scale);
	vhs_color_setup_out(&x, p2.fmt, w, h, VHS_MATRIX_BT709, NULL);
	vhs_color_from_rgb(&x, rgb, scale, &p2);
	d = max_diff(&p1, &p2);
	cr_assert_eq(d, 0, "%s: round trip differs by %d codes (seed %u)", fmt, d, seed);
	free(rgb);
	pic_free(&p1);
	pic_free(&p2);
}

Test(color, round_trip_gbrp_exact, .init = seed_rng)
{
	check_gbrp_exact("gbrp", 61, 17, 255.0f);
	check_gbrp_exact("gbrp", 61, 17, 1.0f);
	check_gbrp_exact("gbrp10le", 33, 9, 1.0f);
	check_gbrp_exact("gbrp16le", 33, 9, 255.0f);
}

/* A flat colour through fmt: from_rgb gives flat planes, and they survive a round trip. */
static void check_flat(const char *fmt, int w, int h)
{
	struct vhs_picture p1 = pic_new(fmt, w, h), p2 = pic_new(fmt, w, h);
	float *rgb = malloc(sizeof(float) * 3 * w * h), col[3];
	struct vhs_color_xform out, in;
	int d;

	cr_assert_not_null(rgb);
	/* away from the gamut's faces: codes rounded there may decode a hair outside, and
	 * clamping that is a (correct) change */
	for (int c = 0; c < 3; c++)
		col[c] = (float)(8 + rnd() % 240);
	for (int i = 0; i < w * h; i++)
		memcpy(rgb + 3 * i, col, sizeof(col));
	vhs_color_setup_out(&out, p1.fmt, w, h, VHS_MATRIX_SMPTE170M, NULL);
	vhs_color_from_rgb(&out, rgb, 255.0f, &p1);
	for (int p = 0; p < p1.fmt->planes; p++) {
		int v = get(&p1, p, 0, 0), cw = vhs_pixfmt_plane_width(p1.fmt, p, w);
		int ch = vhs_pixfmt_plane_height(p1.fmt, p, h);

		for (int y = 0; y < ch; y++)
			for (int x = 0; x < cw; x++)
				cr_assert_eq(get(&p1, p, x, y), v, "%s plane %d not flat (seed %u)", fmt, p, seed);
	}
	vhs_color_setup_in(&in, p1.fmt, w, h, &out.tags);
	vhs_color_to_rgb(&in, &p1, rgb, 255.0f);
	vhs_color_from_rgb(&out, rgb, 255.0f, &p2);
	d = max_diff(&p1, &p2);
	cr_assert_eq(d, 0, "%s %dx%d flat (%g %g %g): differs by %d (seed %u)", fmt, w, h, col[0],
		     col[1], col[2], d, seed);
	free(rgb);
	pic_free(&p1);
	pic_free(&p2);
}

Test(color, flat_colour_exact_subsampled, .init = seed_rng)
{
	static const char *fmts[] = { "yuv420p", "yuv422p", "yuv411p", "yuv410p", "yuv440p",
				      "yuvj420p", "yuv420p10le", "yuv422p12le", "gray" };

	for (int k = 0; k < 20; k++)
		for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
			check_flat(fmts[i], 37 + k % 3, 23 + k % 5);
}

/* A smooth random image (low-frequency waves) through 4:2:0 and back twice: chroma is
 * filtered down again, but on smooth content that moves it by at most a code or two. */
Test(color, round_trip_420_smooth_within_two, .init = seed_rng)
{
	const int w = 96, h = 64;
	struct vhs_picture p1 = pic_new("yuv420p", w, h), p2 = pic_new("yuv420p", w, h);
	float *rgb = malloc(sizeof(float) * 3 * w * h), fx[3], fy[3], ph[3];
	struct vhs_color_xform out, in;
	int d;

	cr_assert_not_null(rgb);
	for (int c = 0; c < 3; c++) {
		fx[c] = (float)(rnd() % 100) / 2000.0f;
		fy[c] = (float)(rnd() % 100) / 2000.0f;
		ph[c] = (float)(rnd() % 628) / 100.0f;
	}
	for (int y = 0; y < h; y++)
		for (int i = 0; i < w; i++)
			for (int c = 0; c < 3; c++)
				rgb[3 * (y * w + i) + c] = 0.5f + 0.35f * sinf(fx[c] * i + fy[c] * y + ph[c]);
	vhs_color_setup_out(&out, p1.fmt, w, h, VHS_MATRIX_SMPTE170M, NULL);
	vhs_color_from_rgb(&out, rgb, 1.0f, &p1);
	vhs_color_setup_in(&in, p1.fmt, w, h, &out.tags);
	vhs_color_to_rgb(&in, &p1, rgb, 1.0f);
	vhs_color_from_rgb(&out, rgb, 1.0f, &p2);
	d = max_diff(&p1, &p2);
	cr_assert(d <= 2, "smooth 4:2:0 round trip differs by %d codes (seed %u)", d, seed);
	free(rgb);
	pic_free(&p1);
	pic_free(&p2);
}

/* ---- chroma siting ------------------------------------------------------------------------ */

static float tri(float d, float s)
{
	float a = fabsf(d) / s;

	return a >= 1.0f ? 0.0f : 1.0f - a;
}

/* A grey yuv420p/422p/411p picture with one Cr sample raised; the red excess of each pixel,
 * divided by what a full-weight impulse gives, must be the bilinear weight of the chroma
 * site at luma (px, py). */
static void check_impulse(const char *fmt, int loc, float cx, float cy)
{
	const int w = 24, h = 16, ic = 2, jc = 1;
	struct vhs_picture p = pic_new(fmt, w, h);
	struct vhs_colorimetry t = c601;
	struct vhs_color_xform x;
	float rgb[24 * 16 * 3], y0 = (128.0f - 16) / 219, cr = 64.0f / 224, rv = 2 * (1 - 0.299f);
	int sx = 1 << p.fmt->log2_cw, sy = 1 << p.fmt->log2_ch;
	float px = cx + (float)(ic * sx), py = cy + (float)(jc * sy);

	fill_plane(&p, 0, 128);
	fill_plane(&p, 1, 128);
	fill_plane(&p, 2, 128);
	set(&p, 2, ic, jc, 128 + 64);
	t.chroma_location = (uint8_t)loc;
	vhs_color_setup_in(&x, p.fmt, w, h, &t);
	vhs_color_to_rgb(&x, &p, rgb, 1.0f);
	for (int y = 0; y < h; y++)
		for (int i = 0; i < w; i++) {
			float got = (rgb[3 * (y * w + i)] - y0) / (rv * cr);
			float want = tri((float)i - px, (float)sx) * tri((float)y - py, (float)sy);

			cr_assert_float_eq(got, want, 1e-4, "%s location %d pixel (%d,%d): weight %f, want %f",
					   fmt, loc, i, y, got, want);
		}
	pic_free(&p);
}

Test(color, chroma_impulse_lands_on_its_site)
{
	check_impulse("yuv420p", VHS_CHROMA_LEFT, 0.0f, 0.5f);
	check_impulse("yuv420p", VHS_CHROMA_UNSPECIFIED, 0.0f, 0.5f);
	check_impulse("yuv420p", VHS_CHROMA_CENTER, 0.5f, 0.5f);
	check_impulse("yuv420p", VHS_CHROMA_TOPLEFT, 0.0f, 0.0f);
	check_impulse("yuv420p", VHS_CHROMA_TOP, 0.5f, 0.0f);
	check_impulse("yuv420p", VHS_CHROMA_BOTTOMLEFT, 0.0f, 1.0f);
	check_impulse("yuv420p", VHS_CHROMA_BOTTOM, 0.5f, 1.0f);
	check_impulse("yuv422p", VHS_CHROMA_UNSPECIFIED, 0.0f, 0.0f);
	check_impulse("yuv422p", VHS_CHROMA_CENTER, 0.5f, 0.0f);
	check_impulse("yuv411p", VHS_CHROMA_LEFT, 0.0f, 0.0f);
	check_impulse("yuv411p", VHS_CHROMA_CENTER, 1.5f, 0.0f);
	check_impulse("yuv410p", VHS_CHROMA_CENTER, 1.5f, 1.5f);
}

/* Cr of an RGB pixel (BT.601, C in [-0.5, 0.5]). */
static double cr_of(const double c[3])
{
	double yy = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];

	return (c[0] - yy) / (2 * (1 - 0.299));
}

/* A grey RGB image with one reddish pixel at (xi, yi) written as 16-bit 4:2:0 (tagged
 * LEFT): each Cr sample moves by the triangle weights [1 2 1]/4 x [1 3 3 1]/8 of its
 * site (2i, 2j + 0.5). */
Test(color, chroma_downfilter_left_sited)
{
	const int w = 20, h = 16, xi = 8, yi = 6;
	struct vhs_picture p = pic_new("yuv420p16le", w, h);
	const double grey[3] = { 0.5, 0.5, 0.5 }, red[3] = { 1.0, 0.4, 0.3 };
	double dcr = cr_of(red) - cr_of(grey);
	float rgb[20 * 16 * 3];
	struct vhs_color_xform x;

	for (int i = 0; i < w * h * 3; i++)
		rgb[i] = 0.5f;
	for (int c = 0; c < 3; c++)
		rgb[3 * (yi * w + xi) + c] = (float)red[c];
	vhs_color_setup_out(&x, p.fmt, w, h, VHS_MATRIX_SMPTE170M, NULL);
	cr_assert_eq(x.tags.chroma_location, VHS_CHROMA_LEFT);
	vhs_color_from_rgb(&x, rgb, 1.0f, &p);
	for (int j = 0; j < h / 2; j++)
		for (int i = 0; i < w / 2; i++) {
			double wt = tri((float)(xi - 2 * i), 2) / 2 * tri((float)yi - (2.0f * j + 0.5f), 2) / 2;
			double want = 32768 + 57344 * (cr_of(grey) + dcr * wt);

			cr_assert(fabs(get(&p, 2, i, j) - want) <= 1.0, "Cr(%d,%d) = %d, want %.1f", i, j,
				  get(&p, 2, i, j), want);
		}
	/* the weights seen: [1 2 1]/4 across, [1 3 3 1]/8 down */
	cr_assert_float_eq(tri(0, 2) / 2 * tri(-0.5f, 2) / 2, 3.0 / 8 * 2 / 4, 1e-9);
	pic_free(&p);
}

/* ---- gray and clamping -------------------------------------------------------------------- */

Test(color, gray_in_and_out)
{
	struct vhs_picture p = pic_new("gray10le", 3, 1), q = pic_new("gray", 3, 1);
	struct vhs_color_xform x;
	float rgb[9];

	set(&p, 0, 0, 0, 64);
	set(&p, 0, 1, 0, 502);
	set(&p, 0, 2, 0, 1023);
	vhs_color_setup_in(&x, p.fmt, 3, 1, &c601);
	vhs_color_to_rgb(&x, &p, rgb, 255.0f);
	for (int i = 0; i < 3; i++)
		cr_assert(rgb[3 * i] == rgb[3 * i + 1] && rgb[3 * i] == rgb[3 * i + 2]);
	cr_assert_eq(rgb[0], 0.0f);
	cr_assert_float_eq(rgb[3], 127.5f, 1e-3);
	cr_assert_eq(rgb[6], 255.0f); /* above 940: clamped */

	rgb[0] = 255, rgb[1] = 0, rgb[2] = 0; /* red: Y' = .299 */
	rgb[3] = rgb[4] = rgb[5] = 63.75f;    /* Y' = .25 */
	vhs_color_setup_out(&x, q.fmt, 3, 1, VHS_MATRIX_SMPTE170M, NULL);
	vhs_color_from_rgb(&x, rgb, 255.0f, &q);
	cr_assert_eq(get(&q, 0, 0, 0), 81);
	cr_assert_eq(get(&q, 0, 1, 0), 71); /* 16 + 219 * 0.25 = 70.75 */
	cr_assert_eq(get(&q, 0, 2, 0), 235);
	pic_free(&p);
	pic_free(&q);
}

Test(color, out_of_range_values_clamp)
{
	struct vhs_picture p = pic_new("yuv444p", 2, 1);
	struct vhs_color_xform x;
	float rgb[6] = { 300.0f, -20.0f, 1000.0f, -1.0f, -1.0f, -1.0f };

	vhs_color_setup_out(&x, p.fmt, 2, 1, VHS_MATRIX_SMPTE170M, NULL);
	vhs_color_from_rgb(&x, rgb, 255.0f, &p);
	cr_assert_eq(get(&p, 0, 0, 0), 106); /* magenta (255, 0, 255) */
	cr_assert_eq(get(&p, 1, 0, 0), 202);
	cr_assert_eq(get(&p, 2, 0, 0), 222);
	cr_assert_eq(get(&p, 0, 1, 0), 16);
	set(&p, 0, 0, 0, 255);
	set(&p, 2, 0, 0, 255);
	set(&p, 0, 1, 0, 0);
	vhs_color_setup_in(&x, p.fmt, 2, 1, &c601);
	vhs_color_to_rgb(&x, &p, rgb, 255.0f);
	for (int i = 0; i < 6; i++)
		cr_assert(rgb[i] >= 0.0f && rgb[i] <= 255.0f, "channel %d = %f", i, rgb[i]);
	cr_assert_eq(rgb[0], 255.0f);
	cr_assert_eq(rgb[3], 0.0f);
	pic_free(&p);
}

/* Large enough for several CHUNKs: a random picture converted at 8 and 16 bits agrees. */
Test(color, wide_rows_and_depths_agree, .init = seed_rng)
{
	const int w = 1000, h = 3;
	struct vhs_picture a = pic_new("yuv420p", w, h), b = pic_new("yuv420p16le", w, h);
	float *ra = malloc(sizeof(float) * 3 * w * h), *rb = malloc(sizeof(float) * 3 * w * h);
	struct vhs_color_xform xa, xb;

	cr_assert(ra && rb);
	for (int p = 0; p < 3; p++) {
		int pw = vhs_pixfmt_plane_width(a.fmt, p, w), ph = vhs_pixfmt_plane_height(a.fmt, p, h);

		for (int y = 0; y < ph; y++)
			for (int i = 0; i < pw; i++) {
				int v = 16 + (int)(rnd() % 220);

				set(&a, p, i, y, v);
				set(&b, p, i, y, v << 8);
			}
	}
	vhs_color_setup_in(&xa, a.fmt, w, h, &c601);
	vhs_color_setup_in(&xb, b.fmt, w, h, &c601);
	vhs_color_to_rgb(&xa, &a, ra, 1.0f);
	vhs_color_to_rgb(&xb, &b, rb, 1.0f);
	for (int i = 0; i < 3 * w * h; i++)
		cr_assert_float_eq(ra[i], rb[i], 1e-5, "sample %d: %f vs %f (seed %u)", i, ra[i], rb[i], seed);
	free(ra);
	free(rb);
	pic_free(&a);
	pic_free(&b);
}

/* ---- against a per-pixel reference -------------------------------------------------------- */

/* color.c's FORMULAS, written per pixel from the xform's fields alone, as a GPU kernel
 * would: the chunked, row-wise code must give the same values. */
static float ref_clamp01(float v)
{
	return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

static int ref_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

static float ref_chroma(const struct vhs_color_xform *x, const struct vhs_picture *p, int pl,
			int i, int y)
{
	int cw = vhs_pixfmt_plane_width(x->fmt, 1, x->width);
	int ch = vhs_pixfmt_plane_height(x->fmt, 1, x->height);
	float v = ((float)y - x->cy_off) / (float)x->sy, u = ((float)i - x->cx_off) / (float)x->sx;
	int j0 = (int)floorf(v), i0 = (int)floorf(u);
	float g = v - (float)j0, f = u - (float)i0, a, b;
	int j1 = ref_clampi(j0 + 1, 0, ch - 1), i1 = ref_clampi(i0 + 1, 0, cw - 1);

	j0 = ref_clampi(j0, 0, ch - 1);
	i0 = ref_clampi(i0, 0, cw - 1);
	a = (float)get(p, pl, i0, j0) + g * ((float)get(p, pl, i0, j1) - (float)get(p, pl, i0, j0));
	b = (float)get(p, pl, i1, j0) + g * ((float)get(p, pl, i1, j1) - (float)get(p, pl, i1, j0));
	return a + f * (b - a);
}

static void ref_to_rgb(const struct vhs_color_xform *x, const struct vhs_picture *p, float *rgb)
{
	float kg = (1.0f - x->kr) - x->kb, rv = 2.0f * (1.0f - x->kr), bu = 2.0f * (1.0f - x->kb);
	float gu = (bu * x->kb) / kg, gv = (rv * x->kr) / kg;
	float yk = 1.0f / x->y_scale, ck = 1.0f / x->c_scale;

	for (int y = 0; y < x->height; y++)
		for (int i = 0; i < x->width; i++) {
			float *o = rgb + 3 * ((size_t)y * x->width + i);
			float yy = ((float)get(p, 0, i, y) - x->y_off) * yk;
			float cb = (ref_chroma(x, p, 1, i, y) - x->c_off) * ck;
			float cr = (ref_chroma(x, p, 2, i, y) - x->c_off) * ck;

			o[0] = ref_clamp01(yy + rv * cr);
			o[1] = ref_clamp01((yy - gu * cb) - gv * cr);
			o[2] = ref_clamp01(yy + bu * cb);
		}
}

/* Triangle-filtered chroma (plane 1: Cb, 2: Cr) at site (i, j), normalised. */
static float ref_site(const struct vhs_color_xform *x, const float *rgb, int pl, int i, int j)
{
	float kg = (1.0f - x->kr) - x->kb, rv = 2.0f * (1.0f - x->kr), bu = 2.0f * (1.0f - x->kb);
	float acc = 0.0f, sx = (float)x->sx, sy = (float)x->sy;

	for (int l = (int)floorf(x->cy_off - sy) + 1; (float)l - x->cy_off < sy; l++) {
		float wv = (sy - fabsf((float)l - x->cy_off)) / (sy * sy), hc = 0.0f;
		int yy = ref_clampi(j * x->sy + l, 0, x->height - 1);

		for (int t = (int)floorf(x->cx_off - sx) + 1; (float)t - x->cx_off < sx; t++) {
			float wh = (sx - fabsf((float)t - x->cx_off)) / (sx * sx);
			int xx = ref_clampi(i * x->sx + t, 0, x->width - 1);
			const float *px = rgb + 3 * ((size_t)yy * x->width + xx);
			float r = ref_clamp01(px[0]), g = ref_clamp01(px[1]), b = ref_clamp01(px[2]);
			float lum = (x->kr * r + kg * g) + x->kb * b;
			float c = pl == 1 ? (b - lum) * (1.0f / bu) : (r - lum) * (1.0f / rv);

			hc = hc + wh * c;
		}
		acc = acc + wv * hc;
	}
	return acc;
}

static int ref_code(const struct vhs_color_xform *x, float v)
{
	float c = v + 0.5f;

	return (int)(c < 0.0f ? 0.0f : (c > x->max_code ? x->max_code : c));
}

/* |from_rgb(rgb) - reference| over all codes, for rgb in [0, 1]. */
static int ref_from_rgb_diff(const struct vhs_color_xform *x, const float *rgb,
			     const struct vhs_picture *p)
{
	float kg = (1.0f - x->kr) - x->kb;
	int worst = 0, cw = vhs_pixfmt_plane_width(x->fmt, 1, x->width);
	int ch = vhs_pixfmt_plane_height(x->fmt, 1, x->height);

	for (int y = 0; y < x->height; y++)
		for (int i = 0; i < x->width; i++) {
			const float *px = rgb + 3 * ((size_t)y * x->width + i);
			float lum = (x->kr * ref_clamp01(px[0]) + kg * ref_clamp01(px[1])) +
				    x->kb * ref_clamp01(px[2]);
			int d = abs(get(p, 0, i, y) - ref_code(x, x->y_off + x->y_scale * lum));

			worst = d > worst ? d : worst;
		}
	for (int pl = 1; pl < 3; pl++)
		for (int j = 0; j < ch; j++)
			for (int i = 0; i < cw; i++) {
				float c = x->c_off + x->c_scale * ref_site(x, rgb, pl, i, j);
				int d = abs(get(p, pl, i, j) - ref_code(x, c));

				worst = d > worst ? d : worst;
			}
	return worst;
}

/* A random w x h picture of fmt with the given location: to_rgb and from_rgb agree with
 * the per-pixel reference (to float rounding; codes equal but for a rare tie). */
static void check_reference(const char *fmt, int w, int h, int loc, int matrix)
{
	struct vhs_picture p = pic_new(fmt, w, h), q = pic_new(fmt, w, h);
	float *a = malloc(sizeof(float) * 3 * w * h), *b = malloc(sizeof(float) * 3 * w * h);
	struct vhs_colorimetry t = c601;
	struct vhs_color_xform x;
	int d;

	cr_assert(a && b);
	for (int pl = 0; pl < 3; pl++)
		for (int y = 0; y < vhs_pixfmt_plane_height(p.fmt, pl, h); y++)
			for (int i = 0; i < vhs_pixfmt_plane_width(p.fmt, pl, w); i++)
				set(&p, pl, i, y, (int)(rnd() & ((1u << p.fmt->depth) - 1)));
	t.chroma_location = (uint8_t)loc;
	t.matrix = (uint8_t)matrix;
	vhs_color_setup_in(&x, p.fmt, w, h, &t);
	vhs_color_to_rgb(&x, &p, a, 1.0f);
	ref_to_rgb(&x, &p, b);
	for (int i = 0; i < 3 * w * h; i++)
		cr_assert(fabsf(a[i] - b[i]) <= 1e-6f, "%s loc %d: to_rgb sample %d = %.9f, reference %.9f (seed %u)",
			  fmt, loc, i, a[i], b[i], seed);
	vhs_color_setup_out(&x, q.fmt, w, h, matrix, NULL);
	vhs_color_from_rgb(&x, a, 1.0f, &q);
	d = ref_from_rgb_diff(&x, a, &q);
	cr_assert(d <= 1, "%s: from_rgb differs from the reference by %d codes (seed %u)", fmt, d, seed);
	free(a);
	free(b);
	pic_free(&p);
	pic_free(&q);
}

Test(color, rows_and_chunks_match_per_pixel_reference, .init = seed_rng)
{
	static const char *fmts[] = { "yuv420p", "yuv422p", "yuv444p", "yuv411p", "yuv410p",
				      "yuv440p", "yuvj420p", "yuv420p10le", "yuv422p16le" };
	static const int locs[] = { VHS_CHROMA_UNSPECIFIED, VHS_CHROMA_CENTER, VHS_CHROMA_TOPLEFT,
				    VHS_CHROMA_BOTTOM };

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		for (size_t l = 0; l < sizeof(locs) / sizeof(locs[0]); l++)
			check_reference(fmts[i], 523 + (int)(rnd() % 80), 5 + (int)(rnd() % 4), locs[l],
					l & 1 ? VHS_MATRIX_BT709 : VHS_MATRIX_SMPTE170M);
}

/* The CUDA backend's colour constants are color.h's own (one definition), for every matrix,
 * range and chroma layout, reading and writing: compared bit for bit. */
Test(color, cuda_constants_are_the_cpu_ones)
{
	static const char *const fmts[] = { "yuv420p", "yuv411p", "yuv422p", "yuv444p", "yuv410p",
					    "yuv420p10le", "yuvj420p", "gray", "gbrp", NULL };
	static const int matrices[] = { VHS_MATRIX_SMPTE170M, VHS_MATRIX_BT470BG, VHS_MATRIX_BT709,
					VHS_MATRIX_UNSPECIFIED };
	static const int ranges[] = { VHS_RANGE_LIMITED, VHS_RANGE_FULL, VHS_RANGE_UNSPECIFIED };
	struct vhs_color_coef ck, gk;
	struct vhs_chroma_site ch, cv, gh, gv;
	struct vhs_color_xform x;
	int checked = 0;

	for (int f = 0; fmts[f]; f++) {
		const struct vhs_pixfmt *pf = vhs_pixfmt_find(fmts[f]);

		cr_assert(pf, "%s", fmts[f]);
		for (int m = 0; m < 4; m++) {
			for (int r = 0; r < 3; r++) {
				struct vhs_colorimetry t = { ranges[r], matrices[m], 6, 6, VHS_CHROMA_LEFT };

				for (int dir = 0; dir < 2; dir++) {
					if (dir)
						vhs_color_setup_out(&x, pf, 64, 48, matrices[m], &t);
					else
						vhs_color_setup_in(&x, pf, 64, 48, &t);
					if (vhs_cuda_color_constants(&x, &gk, &gh, &gv) == -ENODEV)
						cr_skip_test("this build has no CUDA backend (make CUDA=0)");
					vhs_color_coef_init(&ck, &x);
					vhs_chroma_site_init(&ch, x.sx, x.cx_off);
					vhs_chroma_site_init(&cv, x.sy, x.cy_off);
					cr_assert_eq(memcmp(&ck, &gk, sizeof(ck)), 0, "%s matrix %d range %d", fmts[f],
						     matrices[m], ranges[r]);
					cr_assert_eq(memcmp(&ch, &gh, sizeof(ch)), 0, "%s: horizontal site", fmts[f]);
					cr_assert_eq(memcmp(&cv, &gv, sizeof(cv)), 0, "%s: vertical site", fmts[f]);
					checked++;
				}
			}
		}
	}
	cr_assert_eq(checked, 9 * 4 * 3 * 2);
}
