/* test_y4m.c: the YUV4MPEG2 reader and writer (dsp/image/y4m.c).
 *
 * Covered: write then read back (8, 10 and 16 bits, odd sizes, gray, yuvj -> full range,
 * every tag), a header as FFmpeg writes it, defaults when tags are absent, FRAME lines
 * with parameters, a clean end, truncated frames and FRAME lines, malformed headers of
 * many kinds (each -EINVAL with a one-line reason), formats y4m cannot name. Random
 * pictures are seeded from the clock; a failing assertion prints the seed.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "y4m.h"
#include "rng.h"

static struct vhs_picture pic_new(const struct vhs_pixfmt *f, int w, int h)
{
	struct vhs_picture p = { .fmt = f, .width = w, .height = h };
	uint32_t off[4];
	int32_t ls[4];
	size_t bytes = vhs_pixfmt_layout(f, w, h, off, ls);
	uint8_t *buf = malloc(bytes);

	cr_assert_not_null(buf);
	memset(buf, 0, bytes);
	for (int i = 0; i < f->planes; i++) {
		p.data[i] = buf + off[i];
		p.linesize[i] = ls[i];
	}
	return p;
}

/* Random samples below 2^depth in every plane. */
static void pic_random(struct vhs_picture *p)
{
	for (int pl = 0; pl < p->fmt->planes; pl++) {
		int w = vhs_pixfmt_plane_width(p->fmt, pl, p->width);
		int h = vhs_pixfmt_plane_height(p->fmt, pl, p->height);

		for (int y = 0; y < h; y++) {
			uint8_t *row = p->data[pl] + (size_t)y * p->linesize[pl];

			for (int x = 0; x < w; x++) {
				uint32_t v = rnd() & ((1u << p->fmt->depth) - 1);

				if (p->fmt->bytes == 1)
					row[x] = (uint8_t)v;
				else
					((uint16_t *)(void *)row)[x] = (uint16_t)v;
			}
		}
	}
}

static int pic_equal(const struct vhs_picture *a, const struct vhs_picture *b)
{
	for (int pl = 0; pl < a->fmt->planes; pl++) {
		size_t row = (size_t)vhs_pixfmt_plane_width(a->fmt, pl, a->width) * a->fmt->bytes;
		int h = vhs_pixfmt_plane_height(a->fmt, pl, a->height);

		for (int y = 0; y < h; y++)
			if (memcmp(a->data[pl] + (size_t)y * a->linesize[pl],
				   b->data[pl] + (size_t)y * b->linesize[pl], row))
				return 0;
	}
	return 1;
}

/* A read-only stream holding n bytes of s. */
static FILE *from_bytes(const char *s, size_t n)
{
	FILE *f = tmpfile();

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(s, 1, n, f), n);
	rewind(f);
	return f;
}

static FILE *from_string(const char *s)
{
	return from_bytes(s, strlen(s));
}

/* The reason is one non-empty line. */
static void check_reason(const char *err, const char *what)
{
	cr_assert(err[0], "%s: no reason given", what);
	cr_assert_null(strchr(err, '\n'), "%s: reason spans lines: %s", what, err);
}

/* ---- round trips -------------------------------------------------------------------------- */

static void round_trip(const char *fmt, int w, int h, int frames)
{
	struct vhs_y4m out = { .fmt = vhs_pixfmt_find(fmt), .width = w, .height = h,
			       .fr_num = 30000, .fr_den = 1001, .sar_num = 10, .sar_den = 11,
			       .interlace = 't' };
	struct vhs_picture pics[3], back;
	struct vhs_y4m in;
	char err[256] = "";
	FILE *f = tmpfile();

	cr_assert(f && out.fmt && frames <= 3);
	out.color.range = VHS_RANGE_LIMITED;
	out.color.chroma_location = VHS_CHROMA_TOPLEFT;
	cr_assert_eq(vhs_y4m_write_header(&out, f), 0, "%s", fmt);
	for (int i = 0; i < frames; i++) {
		pics[i] = pic_new(out.fmt, w, h);
		pic_random(&pics[i]);
		cr_assert_eq(vhs_y4m_write_frame(&out, &pics[i], f), 0);
	}
	rewind(f);
	cr_assert_eq(vhs_y4m_read_header(&in, f, err, sizeof(err)), 0, "%s: %s", fmt, err);
	cr_assert(in.width == w && in.height == h && in.fr_num == 30000 && in.fr_den == 1001);
	cr_assert(in.sar_num == 10 && in.sar_den == 11 && in.interlace == 't');
	cr_assert_eq(in.color.range, out.fmt->full_range ? VHS_RANGE_FULL : VHS_RANGE_LIMITED);
	back = pic_new(in.fmt, w, h);
	for (int i = 0; i < frames; i++) {
		cr_assert_eq(vhs_y4m_read_frame(&in, &back, err, sizeof(err)), 1, "%s frame %d: %s", fmt, i, err);
		cr_assert(pic_equal(&pics[i], &back), "%s frame %d differs (seed %u)", fmt, i, seed);
		free(pics[i].data[0]);
	}
	cr_assert_eq(vhs_y4m_read_frame(&in, &back, err, sizeof(err)), 0, "%s: no clean end: %s", fmt, err);
	free(back.data[0]);
	fclose(f);
}

Test(y4m, round_trip_formats, .init = seed_rng)
{
	static const char *fmts[] = { "yuv420p", "yuv422p", "yuv444p", "yuv411p", "gray",
				      "gray10le", "gray16le", "yuv420p10le", "yuv422p12le",
				      "yuv444p16le" };
	struct vhs_y4m y;
	char err[256];
	FILE *f;

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		round_trip(fmts[i], 33, 17, 3);
	round_trip("yuv420p", 1, 1, 1);

	/* the format read back is the one written, and 4:2:0's chroma location survives */
	f = tmpfile();
	y = (struct vhs_y4m){ .fmt = vhs_pixfmt_find("yuv420p"), .width = 4, .height = 2 };
	y.color.chroma_location = VHS_CHROMA_TOPLEFT;
	cr_assert_eq(vhs_y4m_write_header(&y, f), 0);
	rewind(f);
	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), 0);
	cr_assert_str_eq(y.fmt->name, "yuv420p");
	cr_assert_eq(y.color.chroma_location, VHS_CHROMA_TOPLEFT);
	fclose(f);
}

Test(y4m, yuvj_reads_back_as_full_range, .init = seed_rng)
{
	struct vhs_y4m y = { .fmt = vhs_pixfmt_find("yuvj422p"), .width = 8, .height = 4 };
	char line[128], err[256];
	FILE *f = tmpfile();

	cr_assert_eq(vhs_y4m_write_header(&y, f), 0);
	rewind(f);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_str_eq(line, "YUV4MPEG2 W8 H4 I? C422 XCOLORRANGE=FULL\n");
	rewind(f);
	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(y.fmt->name, "yuv422p");
	cr_assert_eq(y.color.range, VHS_RANGE_FULL);
	fclose(f);
}

Test(y4m, formats_without_a_name_are_refused)
{
	static const char *fmts[] = { "yuv410p", "yuv440p", "yuvj440p", "gbrp", "gbrp10le" };

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct vhs_y4m y = { .fmt = vhs_pixfmt_find(fmts[i]), .width = 8, .height = 4 };
		FILE *f = tmpfile();

		cr_assert_eq(vhs_y4m_write_header(&y, f), -EINVAL, "%s", fmts[i]);
		cr_assert_eq(ftell(f), 0, "%s: wrote something", fmts[i]);
		fclose(f);
	}
}

/* ---- reading what others write ------------------------------------------------------------ */

Test(y4m, ffmpeg_header)
{
	FILE *f = from_string("YUV4MPEG2 W720 H480 F30000:1001 Ib A10:11 C420mpeg2 "
			      "XYSCSS=420MPEG2 XCOLORRANGE=LIMITED\nFRAME\n");
	struct vhs_y4m y;
	char err[256];

	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), 0, "%s", err);
	cr_assert(y.width == 720 && y.height == 480 && y.fr_num == 30000 && y.fr_den == 1001);
	cr_assert(y.sar_num == 10 && y.sar_den == 11 && y.interlace == 'b' && y.f == f);
	cr_assert_str_eq(y.fmt->name, "yuv420p");
	cr_assert_eq(y.color.chroma_location, VHS_CHROMA_LEFT);
	cr_assert_eq(y.color.range, VHS_RANGE_LIMITED);
	cr_assert_eq(y.color.matrix, VHS_MATRIX_UNSPECIFIED);
	fclose(f);
}

Test(y4m, defaults_and_colour_spaces)
{
	static const struct { const char *c, *fmt; int loc; } cs[] = {
		{ "", "yuv420p", VHS_CHROMA_CENTER },
		{ " C420jpeg", "yuv420p", VHS_CHROMA_CENTER },
		{ " C420paldv", "yuv420p", VHS_CHROMA_TOPLEFT },
		{ " C420", "yuv420p", VHS_CHROMA_CENTER },
		{ " C411", "yuv411p", VHS_CHROMA_UNSPECIFIED },
		{ " Cmono", "gray", VHS_CHROMA_UNSPECIFIED },
		{ " Cmono12", "gray12le", VHS_CHROMA_UNSPECIFIED },
		{ " C444p10", "yuv444p10le", VHS_CHROMA_UNSPECIFIED },
		{ " C420p16", "yuv420p16le", VHS_CHROMA_UNSPECIFIED },
	};
	char hdr[128], err[256];
	struct vhs_y4m y;

	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		FILE *f;

		snprintf(hdr, sizeof(hdr), "YUV4MPEG2 W16 H8%s ZUNKNOWN\n", cs[i].c);
		f = from_string(hdr);
		cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), 0, "%s: %s", hdr, err);
		cr_assert_str_eq(y.fmt->name, cs[i].fmt, "%s", hdr);
		cr_assert_eq(y.color.chroma_location, cs[i].loc, "%s", hdr);
		cr_assert(y.fr_num == 0 && y.fr_den == 0 && y.sar_num == 0 && y.interlace == '?');
		cr_assert_eq(y.color.range, VHS_RANGE_UNSPECIFIED);
		fclose(f);
	}
}

Test(y4m, frame_line_with_parameters)
{
	static const char s[] = "YUV4MPEG2 W2 H2 Cmono\nFRAME Ip XFOO=1\nabcdFRAME\nwxyz";
	struct vhs_y4m y;
	struct vhs_picture p;
	char err[256];
	FILE *f = from_bytes(s, sizeof(s) - 1);

	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), 0);
	p = pic_new(y.fmt, 2, 2);
	cr_assert_eq(vhs_y4m_read_frame(&y, &p, err, sizeof(err)), 1, "%s", err);
	cr_assert(!memcmp(p.data[0], "ab", 2) && !memcmp(p.data[0] + p.linesize[0], "cd", 2));
	cr_assert_eq(vhs_y4m_read_frame(&y, &p, err, sizeof(err)), 1, "%s", err);
	cr_assert(!memcmp(p.data[0], "wx", 2) && !memcmp(p.data[0] + p.linesize[0], "yz", 2));
	cr_assert_eq(vhs_y4m_read_frame(&y, &p, err, sizeof(err)), 0);
	free(p.data[0]);
	fclose(f);
}

/* ---- errors ------------------------------------------------------------------------------- */

Test(y4m, bad_headers)
{
	static const char *bad[] = {
		"",
		"YUV4MPEG W16 H8\n",
		"YUV4MPEG2X W16 H8\n",
		"RIFF....WAVEfmt \n",
		"YUV4MPEG2 W0 H8\n",
		"YUV4MPEG2 W-16 H8\n",
		"YUV4MPEG2 W+16 H8\n",
		"YUV4MPEG2 W16x H8\n",
		"YUV4MPEG2 W H8\n",
		"YUV4MPEG2 W99999999999999 H8\n",
		"YUV4MPEG2 W100000 H8\n",
		"YUV4MPEG2 W16\n",
		"YUV4MPEG2 H8\n",
		"YUV4MPEG2\n",
		"YUV4MPEG2 W16 H8 C420foo\n",
		"YUV4MPEG2 W16 H8 C444alpha\n",
		"YUV4MPEG2 W16 H8 F30\n",
		"YUV4MPEG2 W16 H8 F30:0\n",
		"YUV4MPEG2 W16 H8 F:1\n",
		"YUV4MPEG2 W16 H8 Fa:b\n",
		"YUV4MPEG2 W16 H8 A1\n",
		"YUV4MPEG2 W16 H8 Ix\n",
		"YUV4MPEG2 W16 H8 Ipp\n",
		"YUV4MPEG2 W16 H8 I\n",
		"YUV4MPEG2 W16 H8 XCOLORRANGE=WIDE\n",
		"YUV4MPEG2 W16 H8",
		"YUV4MPEG2 W16 H8 C42",
	};
	struct vhs_y4m y;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = from_string(bad[i]);

		err[0] = '\0';
		cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), -EINVAL, "accepted '%s'", bad[i]);
		check_reason(err, bad[i]);
		fclose(f);
	}
}

Test(y4m, bad_bytes_in_header)
{
	static const char nul[] = "YUV4MPEG2 W16\0 H8\n";
	char *longline = malloc(5000), err[256];
	struct vhs_y4m y;
	FILE *f;

	f = from_bytes(nul, sizeof(nul) - 1);
	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), -EINVAL);
	check_reason(err, "NUL");
	fclose(f);

	cr_assert_not_null(longline);
	memset(longline, 'A', 4999);
	memcpy(longline, "YUV4MPEG2 W16 H8 X", 18);
	longline[4998] = '\n';
	longline[4999] = '\0';
	f = from_string(longline);
	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), -EINVAL);
	check_reason(err, "long line");
	fclose(f);
	free(longline);

	/* a tiny err buffer is still a terminated string */
	f = from_string("YUV4MPEG2 W0 H8\n");
	cr_assert_eq(vhs_y4m_read_header(&y, f, err, 8), -EINVAL);
	cr_assert_lt(strlen(err), 8);
	fclose(f);
}

/* Reads the header of s, then expects frames_ok frames and then -EINVAL. */
static void expect_bad_frame(const char *s, size_t n, int frames_ok, const char *what)
{
	struct vhs_y4m y;
	struct vhs_picture p;
	char err[256] = "";
	FILE *f = from_bytes(s, n);

	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), 0, "%s: %s", what, err);
	p = pic_new(y.fmt, y.width, y.height);
	for (int i = 0; i < frames_ok; i++)
		cr_assert_eq(vhs_y4m_read_frame(&y, &p, err, sizeof(err)), 1, "%s: frame %d: %s", what, i, err);
	err[0] = '\0';
	cr_assert_eq(vhs_y4m_read_frame(&y, &p, err, sizeof(err)), -EINVAL, "%s: accepted", what);
	check_reason(err, what);
	free(p.data[0]);
	fclose(f);
}

Test(y4m, truncated_and_malformed_frames)
{
	/* 4x2 4:2:0: 8 + 2 + 2 = 12 bytes a frame */
	static const char hdr[] = "YUV4MPEG2 W4 H2 C420\n";
	static const char frame[] = "FRAME\n0123456789ab";
	char buf[256];
	size_t n;
	struct vhs_y4m y;
	struct vhs_picture p;
	char err[256];
	FILE *f;

	/* one good frame, then 11 of 12 bytes */
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s", hdr, frame, frame);
	expect_bad_frame(buf, n - 1, 1, "truncated planes");
	/* the FRAME line alone */
	n = (size_t)snprintf(buf, sizeof(buf), "%sFRAME\n", hdr);
	expect_bad_frame(buf, n, 0, "FRAME without data");
	/* half a FRAME line */
	n = (size_t)snprintf(buf, sizeof(buf), "%s%sFRA", hdr, frame);
	expect_bad_frame(buf, n, 1, "truncated FRAME line");
	/* garbage where FRAME should be */
	n = (size_t)snprintf(buf, sizeof(buf), "%sFRAMX\n0123456789ab", hdr);
	expect_bad_frame(buf, n, 0, "FRAMX");
	n = (size_t)snprintf(buf, sizeof(buf), "%sFRAMES\n0123456789ab", hdr);
	expect_bad_frame(buf, n, 0, "FRAMES");
	/* a frame with one byte too many: the next FRAME line is off by one */
	n = (size_t)snprintf(buf, sizeof(buf), "%s%sZ%s", hdr, frame, frame);
	expect_bad_frame(buf, n, 1, "extra byte");

	/* the reason says how much arrived */
	n = (size_t)snprintf(buf, sizeof(buf), "%sFRAME\n0123456", hdr);
	f = from_bytes(buf, n);
	cr_assert_eq(vhs_y4m_read_header(&y, f, err, sizeof(err)), 0);
	p = pic_new(y.fmt, y.width, y.height);
	cr_assert_eq(vhs_y4m_read_frame(&y, &p, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "7 of 12"), "reason: %s", err);
	free(p.data[0]);
	fclose(f);
}
