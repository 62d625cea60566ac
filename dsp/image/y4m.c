/* y4m.c: YUV4MPEG2 reader and writer (see y4m.h).
 *
 * DESIGN
 * A stream is one header line, then per frame a "FRAME" line and the planes:
 *
 *   YUV4MPEG2 W720 H480 F30000:1001 It A10:11 C420mpeg2 XCOLORRANGE=LIMITED\n
 *   FRAME\n <Y: W*H samples> <Cb: cw*ch> <Cr: cw*ch>
 *   FRAME\n ...
 *
 * Tags are separated by single spaces, each a letter and a value: W width, H height,
 * F rate num:den, A pixel aspect num:den (0:0 unknown), I interlacing (p t b m ?),
 * C colour space (table below; absent = 420jpeg), X extension (XCOLORRANGE=FULL or
 * LIMITED is read, others skipped). Unknown tags are skipped, as FFmpeg and mjpegtools
 * do. Samples deeper than 8 bits are 16-bit little-endian words; this host must be
 * little-endian, so planes are copied as they are.
 *
 * Reading never trusts the input: lines are read with a length limit (LINE_MAX_Y4M)
 * into a buffer of that size, numbers are parsed whole with range checks, sizes are
 * bounded (MAX_DIM), and a frame is read row by row into the caller's planes, exactly
 * plane width * bytes per row, so a short or garbled file gives -EINVAL and a one-line
 * reason, never a read past a buffer.
 *
 * Writing: yuv420p is C420mpeg2 (LEFT, also for an unspecified location: the upscaler's
 * convention, color.h), C420paldv (TOPLEFT) or C420jpeg (any other location); yuvj names
 * write the yuv colour space with XCOLORRANGE=FULL. Formats with no y4m name (yuv410p,
 * yuv440p, planar RGB) are refused with -EINVAL.
 */
#include "y4m.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "y4m.c copies 16-bit little-endian samples as they are: little-endian hosts only"
#endif

#define MAGIC "YUV4MPEG2"
#define FRAME_MAGIC "FRAME"
#define LINE_MAX_Y4M 1024   /* longest header or FRAME line accepted, bytes */
#define MAX_DIM 16384       /* largest width or height accepted */
#define H273_UNSPECIFIED 2  /* primaries, transfer and matrix "unspecified" */

/* One y4m colour space. */
struct s_cspace {
	const char *tag;      /* after the C: "420mpeg2" */
	const char *fmt;      /* pixfmt.h name */
	uint8_t loc;          /* chroma location it implies (AVChromaLocation) */
};

static const struct s_cspace s_cspaces[] = {
	{ "420jpeg", "yuv420p", VHS_CHROMA_CENTER },
	{ "420mpeg2", "yuv420p", VHS_CHROMA_LEFT },
	{ "420paldv", "yuv420p", VHS_CHROMA_TOPLEFT },
	{ "420", "yuv420p", VHS_CHROMA_CENTER },
	{ "422", "yuv422p", VHS_CHROMA_UNSPECIFIED },
	{ "444", "yuv444p", VHS_CHROMA_UNSPECIFIED },
	{ "411", "yuv411p", VHS_CHROMA_UNSPECIFIED },
	{ "mono", "gray", VHS_CHROMA_UNSPECIFIED },
	{ "mono10", "gray10le", VHS_CHROMA_UNSPECIFIED },
	{ "mono12", "gray12le", VHS_CHROMA_UNSPECIFIED },
	{ "mono16", "gray16le", VHS_CHROMA_UNSPECIFIED },
	{ "420p10", "yuv420p10le", VHS_CHROMA_UNSPECIFIED },
	{ "422p10", "yuv422p10le", VHS_CHROMA_UNSPECIFIED },
	{ "444p10", "yuv444p10le", VHS_CHROMA_UNSPECIFIED },
	{ "420p12", "yuv420p12le", VHS_CHROMA_UNSPECIFIED },
	{ "422p12", "yuv422p12le", VHS_CHROMA_UNSPECIFIED },
	{ "444p12", "yuv444p12le", VHS_CHROMA_UNSPECIFIED },
	{ "420p16", "yuv420p16le", VHS_CHROMA_UNSPECIFIED },
	{ "422p16", "yuv422p16le", VHS_CHROMA_UNSPECIFIED },
	{ "444p16", "yuv444p16le", VHS_CHROMA_UNSPECIFIED },
};

#define N_CSPACES (sizeof(s_cspaces) / sizeof(s_cspaces[0]))

/* ---- reading ---------------------------------------------------------------------------- */

/* Fills err with a one-line reason and returns ret. */
static int s_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int s_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Reads one line without its '\n' into buf (size LINE_MAX_Y4M + 1). Returns 0, 1 at end
 * of input before any byte, or -EINVAL / -EIO with the reason in err. */
static int s_read_line(FILE *f, char *buf, const char *what, char *err, size_t errlen)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != '\n') {
		if (c == EOF && ferror(f))
			return s_fail(err, errlen, -EIO, "y4m: reading the %s: %s", what, strerror(errno));
		if (c == EOF && n == 0)
			return 1;
		if (c == EOF)
			return s_fail(err, errlen, -EINVAL, "y4m: truncated %s (end of input after %zu bytes, no newline)", what, n);
		if (c == '\0')
			return s_fail(err, errlen, -EINVAL, "y4m: NUL byte in the %s", what);
		if (n == LINE_MAX_Y4M)
			return s_fail(err, errlen, -EINVAL, "y4m: %s longer than %d bytes", what, LINE_MAX_Y4M);
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return 0;
}

/* Whole decimal number in [min, max] (no sign, no spaces). Returns 0 or -EINVAL. */
static int s_number(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* "num:den", each in [min, INT_MAX]. Returns 0 or -EINVAL. */
static int s_ratio(const char *s, long min, int *num, int *den)
{
	char buf[32], *colon;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (s_number(buf, min, INT_MAX, num) || s_number(colon + 1, min, INT_MAX, den))
		return -EINVAL;
	return 0;
}

static const struct s_cspace *s_cspace_find(const char *tag)
{
	for (size_t i = 0; i < N_CSPACES; i++)
		if (!strcmp(s_cspaces[i].tag, tag))
			return &s_cspaces[i];
	return NULL;
}

/* The X tag (value after the X). Only the colour range is read. */
static int s_xtag(struct vhs_y4m *y, const char *v, char *err, size_t errlen)
{
	if (strncmp(v, "COLORRANGE=", 11))
		return 0;
	v += 11;
	if (!strcmp(v, "FULL"))
		y->color.range = VHS_RANGE_FULL;
	else if (!strcmp(v, "LIMITED"))
		y->color.range = VHS_RANGE_LIMITED;
	else
		return s_fail(err, errlen, -EINVAL, "y4m: bad header: unknown XCOLORRANGE '%.32s'", v);
	return 0;
}

/* One header tag; *cs gets the colour space of a C tag. */
static int s_tag(struct vhs_y4m *y, const char *t, const struct s_cspace **cs, char *err,
		 size_t errlen)
{
	const char *v = t + 1;

	switch (t[0]) {
	case 'W':
		if (s_number(v, 1, MAX_DIM, &y->width))
			return s_fail(err, errlen, -EINVAL, "y4m: bad header: width '%.32s' (1..%d)", v, MAX_DIM);
		return 0;
	case 'H':
		if (s_number(v, 1, MAX_DIM, &y->height))
			return s_fail(err, errlen, -EINVAL, "y4m: bad header: height '%.32s' (1..%d)", v, MAX_DIM);
		return 0;
	case 'F':
		if (s_ratio(v, 1, &y->fr_num, &y->fr_den))
			return s_fail(err, errlen, -EINVAL, "y4m: bad header: frame rate '%.32s' (want num:den)", v);
		return 0;
	case 'A':
		if (s_ratio(v, 0, &y->sar_num, &y->sar_den))
			return s_fail(err, errlen, -EINVAL, "y4m: bad header: pixel aspect '%.32s' (want num:den)", v);
		return 0;
	case 'I':
		if (!v[0] || v[1] || !strchr("ptbm?", v[0]))
			return s_fail(err, errlen, -EINVAL, "y4m: bad header: interlacing '%.32s' (p, t, b, m or ?)", v);
		y->interlace = v[0];
		return 0;
	case 'C':
		*cs = s_cspace_find(v);
		if (!*cs)
			return s_fail(err, errlen, -EINVAL, "y4m: unsupported colour space 'C%.32s'", v);
		return 0;
	case 'X':
		return s_xtag(y, v, err, errlen);
	default:
		return 0;
	}
}

/* The tags after the signature (line is modified). */
static int s_parse_tags(struct vhs_y4m *y, char *line, char *err, size_t errlen)
{
	const struct s_cspace *cs = &s_cspaces[0]; /* no C tag: 420jpeg */
	char *save = NULL, *t;
	int ret;

	for (t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		ret = s_tag(y, t, &cs, err, errlen);
		if (ret)
			return ret;
	}
	if (!y->width || !y->height)
		return s_fail(err, errlen, -EINVAL, "y4m: bad header: no %s tag", y->width ? "H" : "W");
	y->fmt = vhs_pixfmt_find(cs->fmt);
	assert(y->fmt);
	y->color.chroma_location = cs->loc;
	return 0;
}

int vhs_y4m_read_header(struct vhs_y4m *y, FILE *f, char *err, size_t errlen)
{
	char line[LINE_MAX_Y4M + 1];
	size_t magic = strlen(MAGIC);
	int ret;

	memset(y, 0, sizeof(*y));
	y->f = f;
	y->interlace = '?';
	y->color.matrix = y->color.primaries = y->color.transfer = H273_UNSPECIFIED;
	ret = s_read_line(f, line, "header", err, errlen);
	if (ret == 1)
		return s_fail(err, errlen, -EINVAL, "y4m: empty input (no YUV4MPEG2 header)");
	if (ret)
		return ret;
	if (strncmp(line, MAGIC, magic) || (line[magic] != ' ' && line[magic] != '\0'))
		return s_fail(err, errlen, -EINVAL, "y4m: not a YUV4MPEG2 stream (header starts '%.16s')", line);
	return s_parse_tags(y, line + magic, err, errlen);
}

/* Reads the rows of plane p into pic; *got counts the frame's bytes read so far. */
static int s_read_plane(const struct vhs_y4m *y, struct vhs_picture *pic, int p, size_t *got,
			size_t total, char *err, size_t errlen)
{
	size_t row = (size_t)vhs_pixfmt_plane_width(y->fmt, p, y->width) * y->fmt->bytes;
	int rows = vhs_pixfmt_plane_height(y->fmt, p, y->height);

	for (int r = 0; r < rows; r++) {
		size_t n = fread(pic->data[p] + (ptrdiff_t)r * pic->linesize[p], 1, row, y->f);

		*got += n;
		if (n == row)
			continue;
		if (ferror(y->f))
			return s_fail(err, errlen, -EIO, "y4m: reading a frame: %s", strerror(errno));
		return s_fail(err, errlen, -EINVAL, "y4m: truncated frame (%zu of %zu bytes)", *got, total);
	}
	return 0;
}

static size_t s_frame_bytes(const struct vhs_y4m *y)
{
	size_t total = 0;

	for (int p = 0; p < y->fmt->planes; p++)
		total += (size_t)vhs_pixfmt_plane_width(y->fmt, p, y->width) *
			 (size_t)vhs_pixfmt_plane_height(y->fmt, p, y->height) * y->fmt->bytes;
	return total;
}

int vhs_y4m_read_frame(struct vhs_y4m *y, struct vhs_picture *pic, char *err, size_t errlen)
{
	char line[LINE_MAX_Y4M + 1];
	size_t magic = strlen(FRAME_MAGIC), got = 0, total;
	int ret;

	assert(pic->fmt == y->fmt && pic->width == y->width && pic->height == y->height);
	ret = s_read_line(y->f, line, "FRAME line", err, errlen);
	if (ret == 1)
		return 0;
	if (ret)
		return ret;
	if (strncmp(line, FRAME_MAGIC, magic) || (line[magic] != ' ' && line[magic] != '\0'))
		return s_fail(err, errlen, -EINVAL, "y4m: expected FRAME, got '%.16s'", line);
	total = s_frame_bytes(y);
	for (int p = 0; p < y->fmt->planes; p++) {
		ret = s_read_plane(y, pic, p, &got, total, err, errlen);
		if (ret)
			return ret;
	}
	return 1;
}

/* ---- writing ---------------------------------------------------------------------------- */

/* The C tag of y's format, or NULL when y4m has no name for it. */
static const char *s_cspace_tag(const struct vhs_y4m *y)
{
	const char *name = y->fmt->name;
	char base[32];

	if (!strcmp(name, "yuv420p") || !strcmp(name, "yuvj420p")) {
		if (y->color.chroma_location == VHS_CHROMA_TOPLEFT)
			return "420paldv";
		if (y->color.chroma_location == VHS_CHROMA_LEFT ||
		    y->color.chroma_location == VHS_CHROMA_UNSPECIFIED)
			return "420mpeg2";
		return "420jpeg";
	}
	/* yuvjNNNp is yuvNNNp with the range forced full */
	if (!strncmp(name, "yuvj", 4) && strlen(name) < sizeof(base)) {
		snprintf(base, sizeof(base), "yuv%s", name + 4);
		name = base;
	}
	for (size_t i = 0; i < N_CSPACES; i++)
		if (!strcmp(s_cspaces[i].fmt, name) && strcmp(s_cspaces[i].fmt, "yuv420p"))
			return s_cspaces[i].tag;
	return NULL;
}

/* The error of a failed stdio write (-EIO when stdio left errno unset). */
static int s_write_error(void)
{
	return errno ? -errno : -EIO;
}

int vhs_y4m_write_header(const struct vhs_y4m *y, FILE *f)
{
	const char *cs = s_cspace_tag(y);
	char il = y->interlace && strchr("ptbm?", y->interlace) ? y->interlace : '?';
	int full = y->fmt->full_range || y->color.range == VHS_RANGE_FULL;
	int ret;

	if (!cs)
		return -EINVAL;
	errno = 0;
	ret = fprintf(f, "%s W%d H%d", MAGIC, y->width, y->height);
	if (ret >= 0 && y->fr_num > 0 && y->fr_den > 0)
		ret = fprintf(f, " F%d:%d", y->fr_num, y->fr_den);
	if (ret >= 0)
		ret = fprintf(f, " I%c", il);
	if (ret >= 0 && y->sar_num > 0 && y->sar_den > 0)
		ret = fprintf(f, " A%d:%d", y->sar_num, y->sar_den);
	if (ret >= 0)
		ret = fprintf(f, " C%s", cs);
	if (ret >= 0 && (full || y->color.range == VHS_RANGE_LIMITED))
		ret = fprintf(f, " XCOLORRANGE=%s", full ? "FULL" : "LIMITED");
	if (ret >= 0)
		ret = fputc('\n', f);
	return ret < 0 ? s_write_error() : 0;
}

int vhs_y4m_write_frame(const struct vhs_y4m *y, const struct vhs_picture *pic, FILE *f)
{
	assert(pic->fmt == y->fmt && pic->width == y->width && pic->height == y->height);
	errno = 0;
	if (fputs(FRAME_MAGIC "\n", f) < 0)
		return s_write_error();
	for (int p = 0; p < y->fmt->planes; p++) {
		size_t row = (size_t)vhs_pixfmt_plane_width(y->fmt, p, y->width) * y->fmt->bytes;
		int rows = vhs_pixfmt_plane_height(y->fmt, p, y->height);

		for (int r = 0; r < rows; r++)
			if (fwrite(pic->data[p] + (ptrdiff_t)r * pic->linesize[p], 1, row, f) != row)
				return s_write_error();
	}
	return 0;
}
