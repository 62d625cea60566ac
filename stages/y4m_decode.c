/* decode.c (make FFMPEG=0): the decode stage for builds without FFmpeg: reads a y4m
 * (YUV4MPEG2) capture and sends its frames into slots (output port 0; there is no audio).
 * It speaks the segment protocol of stages/decode.c, so the orchestrator, the other stages,
 * restarts, workers and --resume work as with FFmpeg.
 *
 * DESIGN
 * The file: one header line (dsp/image/y4m.c reads and checks it), then per frame a
 * FRAME line and the planes, tightly packed. Every frame is a key frame; its pts is its
 * index and its time base 1/fps (F; 25 fps when absent), as FFmpeg's y4m demuxer gives
 * them. At init the stage finds where every frame starts: when the file's size is the
 * header plus a whole number of "FRAME\n" frames (what FFmpeg and vhs-upscale write),
 * frame i starts at header + i * (6 + frame bytes); otherwise (frame lines with
 * parameters, a truncated or damaged file) it walks the frame lines once and keeps their
 * offsets, refusing a file that ends inside a frame or has anything but a FRAME line
 * where one should start. Every frame read is checked again (its FRAME line, and that it
 * ends where the next one starts), so a file damaged later fails with a one-line input
 * error, never with a wrong picture.
 *
 * Segments: cut as stages/decode.c cuts them: segment k starts at B(k), the first frame at
 * or after k * segment_seconds (every frame is a key frame, so B(k) = k * L with L =
 * llrint(segment_seconds * fps), the FFmpeg stage's arithmetic), B(0) is the very start,
 * and a request for a segment past the end is answered with NONE. A segment's BEGIN
 * carries its window [B(k), B(k+1)) in the time base (INT64_MIN and INT64_MAX for the
 * open ends, LAST on the last one) and its frames are sent with their pts: the
 * `segment.warmup` frames before B(k) and the `segment.lookahead` frames after B(k+1)
 * too, which downstream stages recognise by their pts outside the window and use only
 * as context (with no filters the reach is 0 and none are sent). Frames are read
 * straight into the output slot (the edge's one copy); a segment is made from a seek to
 * its window's first frame, so any segment can be made again, in any order, with the same
 * records.
 *
 * Readers: like stages/decode.c, one process makes up to vhs_worker_segments() segments at
 * once, interleaved one frame per turn, each with a FILE of its own (its own position);
 * requests are taken while a reader is idle. The stage ends on the orchestrator's EOS or
 * DRAIN once the open segments are finished.
 *
 * Colour: y4m carries only the chroma siting (the C tag) and XCOLORRANGE. The frames are
 * tagged with those, limited range when the file does not say FULL (the y4m convention),
 * and for SD pictures (below 1280x720) the BT.601 matrix; primaries, transfer and the
 * matrix of HD pictures stay unspecified. The upscaler reads unspecified as BT.601 limited,
 * which is also what vhs-upscale does with the same file, so the two make the same bits.
 *
 * `vhs-stage-decode --probe FILE` prints the file's stream (used by `check`).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime.h"
#include "y4mstage.h"

#define READERS_MAX 64        /* segments made at once, at most: each reader holds a FILE */
#define FRAME_LINE_MAX 1024   /* longest FRAME line accepted (y4m.c's limit) */
#define SIGNATURE "YUV4MPEG2"

/* Where the frames of the input are: found at init, read by every reader. */
struct frames {
	int64_t count;         /* frames in the file, >= 1 */
	off_t header;          /* bytes of the stream header line: frame 0 starts there */
	size_t bytes;          /* the planes of one frame, tightly packed */
	off_t *at;             /* count + 1 entries: where frame i's FRAME line starts (at[count]:
				* the end of the file); NULL when every frame line is "FRAME\n" */
};

/* The input opened on its own, making one segment at a time. Written by run() only. */
struct reader {
	struct vhs_y4m y;        /* the stream, with a FILE of its own (y.f NULL until used) */
	int64_t pos;             /* the frame y.f is positioned at; -1 when not at a frame */
	int64_t next, hi;        /* frames [next, hi) of the window still to send */
	struct vhs_segment seg;  /* the open segment's BEGIN record (becomes its END) */
};

struct decode_priv {
	char path[4096];
	struct vhs_y4m in;       /* the stream header as read at init */
	struct frames frames;
	struct vhs_stream_fmt out; /* output port 0 */
	uint32_t offset[4];      /* the slot layout of a frame */
	int32_t linesize[4];
	uint8_t flags;           /* VHS_FRAME_* of every frame: key, and the interlacing */
	int64_t seg_len;         /* frames per segment; 0 = one segment */
	int warmup, lookahead;   /* frames sent before and after a segment */
	struct reader *readers;  /* READERS_MAX, as many in use as vhs_make_segments() steps */
};

/* ---- the file: its header and where its frames are ---- */

static int s_err(char *err, size_t n, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int s_err(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return ret;
}

/* The reason of a y4m.c error, which may quote bytes of the file, as one printable line. */
static const char *s_printable(char *why)
{
	for (char *c = why; *c; c++)
		if ((unsigned char)*c < ' ' || (unsigned char)*c == 0x7f)
			*c = '?';
	return why;
}

/* Reads the FRAME line at the file's position: *len = its bytes, newline included.
 * Returns 0, or -EINVAL when there is none (end of file, or something else). */
static int s_frame_line(FILE *f, size_t *len)
{
	char head[5];
	size_t n = 0;
	int c = 0;

	while (n < FRAME_LINE_MAX && (c = getc(f)) != EOF && c != '\n') {
		if (n < sizeof(head))
			head[n] = (char)c;
		n++;
	}
	if (c != '\n' || n < sizeof(head) || memcmp(head, "FRAME", sizeof(head)))
		return -EINVAL;
	*len = n + 1;
	return 0;
}

/* Walks the frame lines from the header to the end of a file of size bytes, keeping
 * where each frame starts. Refuses a damaged or truncated file. */
static int s_scan(struct frames *fr, FILE *f, off_t size, const char *path, char *err, size_t n)
{
	off_t at = fr->header;
	size_t cap = 0, len = 0;

	while (at < size) {
		if ((size_t)fr->count + 2 > cap) {
			off_t *grown = realloc(fr->at, (cap ? 2 * cap : 1024) * sizeof(*grown));

			if (!grown)
				return s_err(err, n, -ENOMEM, "out of memory indexing '%s'", path);
			fr->at = grown;
			cap = cap ? 2 * cap : 1024;
		}
		if (fseeko(f, at, SEEK_SET) || s_frame_line(f, &len))
			return s_err(err, n, -EINVAL, feof(f) ? "'%s' is truncated: it ends in the FRAME line "
				     "of frame %lld (byte %lld)" : "'%s' is damaged: no FRAME line where frame "
				     "%lld should start (byte %lld)", path, (long long)fr->count, (long long)at);
		fr->at[fr->count++] = at;
		at += (off_t)len + (off_t)fr->bytes;
	}
	if (at > size)
		return s_err(err, n, -EINVAL, "'%s' is truncated: its last frame (%lld) has %lld of its "
			     "%zu bytes", path, (long long)fr->count - 1,
			     (long long)(size - (at - (off_t)fr->bytes)), fr->bytes);
	fr->at[fr->count] = at;
	return 0;
}

/* True when frame i's line, at its place if every frame line is "FRAME\n", is exactly that. */
static int s_plain_line(FILE *f, const struct frames *fr, int64_t i)
{
	char line[Y4M_FRAME_LINE_LEN];
	off_t at = fr->header + (off_t)i * (off_t)(Y4M_FRAME_LINE_LEN + fr->bytes);

	return !fseeko(f, at, SEEK_SET) && fread(line, 1, sizeof(line), f) == sizeof(line) &&
	       !memcmp(line, Y4M_FRAME_LINE, sizeof(line));
}

/* Finds the frames of the stream y, whose header has just been read. */
static int s_index(struct frames *fr, const struct vhs_y4m *y, const char *path, char *err,
		   size_t n)
{
	struct stat st;
	off_t body;

	memset(fr, 0, sizeof(*fr));
	fr->header = ftello(y->f);
	fr->bytes = vhs_frame_bytes(y->fmt, y->width, y->height);
	if (fr->header < 0 || fstat(fileno(y->f), &st))
		return s_err(err, n, -EIO, "'%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return s_err(err, n, -EINVAL, "'%s' is not a file (segments are made by seeking)", path);
	body = st.st_size - fr->header;
	if (body == 0)
		return s_err(err, n, -EINVAL, "'%s' holds no frames", path);
	if (body % (off_t)(Y4M_FRAME_LINE_LEN + fr->bytes) == 0) {
		fr->count = body / (off_t)(Y4M_FRAME_LINE_LEN + fr->bytes);
		if (s_plain_line(y->f, fr, 0) && s_plain_line(y->f, fr, fr->count - 1))
			return 0; /* each frame "FRAME\n" and its planes; checked as it is read */
		fr->count = 0;
	}
	return s_scan(fr, y->f, st.st_size, path, err, n);
}

/* Opens path and reads its header and frame index into y and fr. Returns 0 or a
 * negative errno with one line in err; y->f is then NULL (closed). */
static int s_open_file(const char *path, struct vhs_y4m *y, struct frames *fr, char *err, size_t n)
{
	char sig[sizeof(SIGNATURE) - 1], why[256];
	FILE *f = fopen(path, "rb");
	int ret;

	memset(y, 0, sizeof(*y));
	if (!f)
		return s_err(err, n, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (fread(sig, 1, sizeof(sig), f) != sizeof(sig) || memcmp(sig, SIGNATURE, sizeof(sig))) {
		fclose(f);
		return s_err(err, n, -EINVAL, "'%s' is not a y4m (YUV4MPEG2) file; this build has no "
			     "FFmpeg and reads y4m only", path);
	}
	rewind(f);
	ret = vhs_y4m_read_header(y, f, why, sizeof(why));
	if (ret)
		ret = s_err(err, n, ret, "'%s': %s", path, s_printable(why));
	if (!ret)
		ret = s_index(fr, y, path, err, n);
	if (ret) {
		fclose(f);
		free(fr->at);
		fr->at = NULL;
		y->f = NULL;
	}
	return ret;
}

/* Where frame i starts (i == count: the end of the frames). */
static off_t s_offset(const struct frames *fr, int64_t i)
{
	if (fr->at)
		return fr->at[i];
	return fr->header + (off_t)i * (off_t)(Y4M_FRAME_LINE_LEN + fr->bytes);
}

/* The frame rate as the stream says, or FFmpeg's y4m default (25 fps). */
static void s_rate(const struct vhs_y4m *y, int *num, int *den)
{
	*num = y->fr_num > 0 && y->fr_den > 0 ? y->fr_num : 25;
	*den = y->fr_num > 0 && y->fr_den > 0 ? y->fr_den : 1;
}

/* ---- init ---- */

static long long s_gcd(long long a, long long b)
{
	while (b) {
		long long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The output edge's format (see Colour above) and the slot layout. */
static int s_format(struct vhs_ctx *ctx, struct decode_priv *p)
{
	const struct vhs_y4m *y = &p->in;
	struct vhs_stream_fmt *o = &p->out;
	int fr_num, fr_den, sd = y->width < 1280 && y->height < 720;
	long long g, limit;

	s_rate(y, &fr_num, &fr_den);
	g = s_gcd(fr_num, fr_den);
	*o = (struct vhs_stream_fmt){ .media = VHS_MEDIA_VIDEO, .width = y->width, .height = y->height,
				      .tb_num = (int32_t)(fr_den / g), .tb_den = (int32_t)(fr_num / g),
				      .fr_num = fr_num, .fr_den = fr_den,
				      .sar_num = y->sar_num > 0 && y->sar_den > 0 ? y->sar_num : 0,
				      .sar_den = y->sar_num > 0 && y->sar_den > 0 ? y->sar_den : 1,
				      .color_range = y->color.range == VHS_RANGE_FULL || y->fmt->rgb ||
						     y->fmt->full_range ? VHS_RANGE_FULL : VHS_RANGE_LIMITED,
				      .colorspace = sd && y->fmt->planes == 3 && !y->fmt->rgb
							    ? VHS_MATRIX_SMPTE170M : VHS_MATRIX_UNSPECIFIED,
				      .color_primaries = 2, .color_trc = 2,
				      .chroma_location = y->color.chroma_location,
				      .field_order = vhs_field_order_of(y->interlace) };
	snprintf(o->fmt, sizeof(o->fmt), "%s", y->fmt->name);
	limit = vhs_setting_int(ctx, VHS_SET_RUN_FRAMES); /* only the first N frames, 0 = all */
	if (limit > 0 && limit < p->frames.count)
		p->frames.count = limit;
	o->duration_us = (int64_t)((double)p->frames.count * 1e6 * o->tb_num / o->tb_den);
	o->slot_size = vhs_slot_layout(y->fmt, y->width, y->height, p->offset, p->linesize);
	if (!o->slot_size)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': %dx%d frames are too large", p->path, y->width,
				y->height);
	p->flags = VHS_FRAME_KEY | (y->interlace == 't' ? VHS_FRAME_INTERLACED | VHS_FRAME_TFF : 0) |
		   (y->interlace == 'b' ? VHS_FRAME_INTERLACED : 0);
	return 0;
}

/* The segment geometry from the settings, as stages/decode.c computes it. */
static void s_segment_setup(struct vhs_ctx *ctx, struct decode_priv *p)
{
	char secs[64];
	double seconds = 10;

	if (vhs_setting(ctx, VHS_SET_RUN_SEGMENT_SECONDS, secs, sizeof(secs)) >= 0)
		seconds = atof(secs);
	/* the time base is one frame: segment_seconds in it is a frame count */
	p->seg_len = seconds > 0 ? llrint(seconds * p->out.tb_den / p->out.tb_num) : 0;
	if (p->warmup < 0)
		p->warmup = 0;
	if (p->lookahead < 0)
		p->lookahead = 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	struct decode_priv *p = vhs_priv(ctx);
	char err[512];
	int ret;

	if (!p->path[0])
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no input in the job");
	ret = s_open_file(p->path, &p->in, &p->frames, err, sizeof(err));
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return vhs_fail(ctx, VHS_ERR_INPUT, "%s", err);
	p->readers = calloc(READERS_MAX, sizeof(*p->readers));
	if (!p->readers)
		return -ENOMEM;
	p->readers[0].y = p->in; /* the file just read becomes reader 0's */
	p->readers[0].pos = -1;
	p->in.f = NULL;
	ret = s_format(ctx, p);
	if (ret)
		return ret;
	s_segment_setup(ctx, p);
	vhs_set_outputs(ctx, 1, &p->out);
	return 0;
}

/* ---- segments ---- */

/* B(k), the first frame of segment k, in *first: returns 1, or 0 when the input ends
 * before segment k. */
static int s_cut(const struct decode_priv *p, uint32_t k, int64_t *first)
{
	if (k == 0) {
		*first = 0;
		return 1;
	}
	if (p->seg_len <= 0 || (uint64_t)k > (uint64_t)(p->frames.count - 1) / (uint64_t)p->seg_len)
		return 0;
	*first = (int64_t)k * p->seg_len;
	return 1;
}

/* Reader r's own FILE, opened at its first segment. */
static int s_reader_open(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r)
{
	FILE *f;

	if (r->y.f)
		return 0;
	f = fopen(p->path, "rb");
	if (!f)
		return vhs_fail(ctx, VHS_ERR_INPUT, "cannot open '%s' again: %s", p->path, strerror(errno));
	r->y = p->in;
	r->y.f = f;
	r->pos = -1;
	return 0;
}

/* Opens segment k on idle reader i: its window, BEGIN on port 0: returns 1. A segment past
 * the end of the input is answered with NONE instead: returns 0 (vhs_make_segments' begin). */
static int s_begin_segment(struct vhs_ctx *ctx, int i, uint32_t k)
{
	struct decode_priv *p = vhs_priv(ctx);
	struct reader *r = &p->readers[i];
	int64_t first, end;
	int last, ret;

	if (!s_cut(p, k, &first)) {
		struct vhs_segment none = { .phase = VHS_SEG_NONE, .index = k };

		return vhs_send_segment(ctx, &none);
	}
	last = !s_cut(p, k + 1, &end);
	if (last)
		end = p->frames.count;
	ret = s_reader_open(ctx, p, r);
	if (ret)
		return ret;
	r->seg = (struct vhs_segment){ .port = 0, .phase = VHS_SEG_BEGIN, .index = k,
				       .flags = last ? VHS_SEG_LAST : 0,
				       .start = k == 0 ? VHS_SEG_OPEN_START : first,
				       .end = last ? VHS_SEG_OPEN_END : end,
				       .tb_num = p->out.tb_num, .tb_den = p->out.tb_den };
	r->next = first > p->warmup ? first - p->warmup : 0;
	r->hi = p->frames.count - end > p->lookahead ? end + p->lookahead : p->frames.count;
	ret = vhs_send_segment(ctx, &r->seg);
	return ret ? ret : 1;
}

/* Reads frame i into the picture pic (an output slot) with r's file. */
static int s_read(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r, int64_t i,
		  struct vhs_picture *pic)
{
	char err[256];
	int ret;

	if (r->pos != i && fseeko(r->y.f, s_offset(&p->frames, i), SEEK_SET))
		return vhs_fail(ctx, VHS_ERR_INPUT, "cannot seek in '%s': %s", p->path, strerror(errno));
	r->pos = -1;
	ret = vhs_y4m_read_frame(&r->y, pic, err, sizeof(err));
	if (ret == 0)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s' ends before frame %lld of %lld: it changed "
				"since the run started", p->path, (long long)i, (long long)p->frames.count);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': frame %lld: %s", p->path, (long long)i,
				s_printable(err));
	if (ftello(r->y.f) != s_offset(&p->frames, i + 1))
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s' is damaged at frame %lld: it does not end where "
				"the next frame starts", p->path, (long long)i);
	r->pos = i + 1;
	return 0;
}

/* Reads frame i of r's window straight into an output slot and gives it away. */
static int s_send_frame(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r, int64_t i)
{
	const struct vhs_stream_fmt *o = &p->out;
	struct vhs_frame f = { .port = 0, .segment = r->seg.index, .pts = i, .duration = 1,
			       .tb_num = o->tb_num, .tb_den = o->tb_den, .width = o->width,
			       .height = o->height, .sar_num = o->sar_num, .sar_den = o->sar_den,
			       .color_range = o->color_range, .colorspace = o->colorspace,
			       .color_primaries = o->color_primaries, .color_trc = o->color_trc,
			       .chroma_location = o->chroma_location, .flags = p->flags,
			       .bytes = o->slot_size };
	struct vhs_picture pic;
	uint8_t *slot;
	int ret = vhs_output_slot(ctx, 0, &f.slot, &slot);

	if (ret)
		return ret;
	snprintf(f.fmt, sizeof(f.fmt), "%s", o->fmt);
	memcpy(f.offset, p->offset, sizeof(f.offset));
	memcpy(f.linesize, p->linesize, sizeof(f.linesize));
	vhs_slot_picture(&pic, p->in.fmt, &f, slot);
	ret = s_read(ctx, p, r, i, &pic);
	if (ret)
		return ret;
	vhs_count_copy(ctx, f.bytes); /* the file's bytes into the slot: the edge's one copy */
	return vhs_send_video(ctx, &f);
}

/* One step of reader i's segment: its next frame (returns 1), or END when its window is
 * done (returns 0; vhs_make_segments' step). */
static int s_reader_step(struct vhs_ctx *ctx, int i)
{
	struct decode_priv *p = vhs_priv(ctx);
	struct reader *r = &p->readers[i];
	int ret;

	if (r->next < r->hi) {
		ret = s_send_frame(ctx, p, r, r->next++);
		return ret ? ret : vhs_stopping(ctx) ? -ECANCELED : 1;
	}
	r->seg.phase = VHS_SEG_END;
	return vhs_send_segment(ctx, &r->seg);
}

/* Makes the requested segments, up to vhs_worker_segments() at once, in round robin. */
static int s_run(struct vhs_ctx *ctx)
{
	return vhs_make_segments(ctx, READERS_MAX, s_begin_segment, s_reader_step);
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct decode_priv *p = vhs_priv(ctx);

	for (int i = 0; p->readers && i < READERS_MAX; i++)
		if (p->readers[i].y.f)
			fclose(p->readers[i].y.f);
	free(p->readers);
	p->readers = NULL;
	if (p->in.f)
		fclose(p->in.f);
	free(p->frames.at);
}

static const struct vhs_stage_option s_options[] = {
	VHS_OPTION(struct decode_priv, INPUT, STRING, path),
	VHS_OPTION(struct decode_priv, SEGMENT_WARMUP, INT, warmup),
	VHS_OPTION(struct decode_priv, SEGMENT_LOOKAHEAD, INT, lookahead),
};

const struct vhs_stage vhs_stage_decode = {
	.name = "decode",
	.priv_size = sizeof(struct decode_priv),
	VHS_OPTIONS(s_options),
	.init = s_init,
	.run = s_run,
	.uninit = s_uninit,
};

/* --probe FILE: the stream in one line, for `vhs-orchestrate check`. Exit 0, or 4. */
static int s_probe(const char *path)
{
	struct vhs_y4m y;
	struct frames fr;
	char err[512];
	int num, den;

	if (s_open_file(path, &y, &fr, err, sizeof(err))) {
		printf("error: %s\n", err);
		return 4;
	}
	s_rate(&y, &num, &den);
	printf("container: yuv4mpegpipe, %.3f s\n", (double)fr.count * den / num);
	printf("video: rawvideo %dx%d %s %d/%d fps sar %d:%d\n", y.width, y.height, y.fmt->name, num,
	       den, y.sar_num > 0 && y.sar_den > 0 ? y.sar_num : 0,
	       y.sar_num > 0 && y.sar_den > 0 ? y.sar_den : 1);
	fclose(y.f);
	free(fr.at);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--probe"))
		return s_probe(argv[2]);
	return vhs_stage_main(&vhs_stage_decode, argc, argv);
}
