/* mux.c (make FFMPEG=0): the mux stage for builds without FFmpeg: joins the finished
 * segment files into the y4m output. It runs alone, after every segment of the job is in
 * the work dir (possibly made by several runs, attempts or workers), and writes
 * OUTPUT.part; the orchestrator renames it to OUTPUT.
 *
 * DESIGN
 * Each segment file (vNNNNNN.vseg, y4mstage.h) is a y4m stream of its own. The output is
 * segment 0's stream header line (W, H, F, I, A, C and XCOLORRANGE of the edge the encode
 * stage wrote), then the frames of segments 0, 1, ... `segment.count` - 1, in order, as
 * they are. Every segment's header must be the same bytes as segment 0's, every frame must
 * start with "FRAME\n" and be whole, and the frames must add up to `segment.frames` (the
 * manifest's count); anything else is a damaged work dir, an internal error. Frames are
 * read and written one at a time through one buffer. The file is fsynced before DONE,
 * as stages/mux.c does; there is no audio to interleave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "files.h"
#include "runtime.h"
#include "y4mstage.h"

#define HEADER_MAX 1100            /* longest stream header line read back (y4m.c: 1024) */

struct mux_priv {
	char dir[4096], output[4096], part[4200];
	long long count;           /* segments */
	long long frames_expected; /* frames in all segments (the manifest's) */
	char header[HEADER_MAX];   /* segment 0's stream header line */
	size_t header_len;
	size_t frame_len;          /* one frame as the segments hold it: FRAME line and planes */
	uint8_t *buf;              /* one frame */
	FILE *out;                 /* OUTPUT.part */
	uint64_t frames;           /* frames written */
};

static int s_damaged(struct vhs_ctx *ctx, const char *path, const char *why)
{
	return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment file '%s' is missing or damaged: %s", path, why);
}

static int s_write_fail(struct vhs_ctx *ctx, struct mux_priv *p)
{
	return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write '%s': %s", p->part, strerror(errno ? errno : EIO));
}

/* Reads the stream header of segment file f (k) and checks it; segment 0's becomes the
 * output's. Leaves f at the first frame. */
static int s_header(struct vhs_ctx *ctx, struct mux_priv *p, long long k, FILE *f, const char *path)
{
	char line[HEADER_MAX], err[256];
	struct vhs_y4m y;
	off_t len;

	if (vhs_y4m_read_header(&y, f, err, sizeof(err)))
		return s_damaged(ctx, path, err);
	len = ftello(f);
	if (len <= 0 || len > (off_t)sizeof(line) || fseeko(f, 0, SEEK_SET) ||
	    fread(line, 1, (size_t)len, f) != (size_t)len)
		return s_damaged(ctx, path, "cannot read its header back");
	if (k > 0 && ((size_t)len != p->header_len || memcmp(line, p->header, (size_t)len)))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %lld has another format than segment 0", k);
	if (k > 0)
		return 0;
	memcpy(p->header, line, (size_t)len);
	p->header_len = (size_t)len;
	p->frame_len = Y4M_FRAME_LINE_LEN + vhs_frame_bytes(y.fmt, y.width, y.height);
	p->buf = malloc(p->frame_len);
	if (!p->buf)
		return -ENOMEM;
	errno = 0;
	if (fwrite(p->header, 1, p->header_len, p->out) != p->header_len)
		return s_write_fail(ctx, p);
	return 0;
}

/* Copies segment k's frames into the output. */
static int s_segment(struct vhs_ctx *ctx, struct mux_priv *p, long long k)
{
	char path[4200];
	FILE *f;
	size_t n;
	int ret;

	vhs_segment_file_path(path, sizeof(path), p->dir, VHS_SEGMENT_VIDEO, (unsigned)k);
	f = fopen(path, "rbe");
	if (!f)
		return s_damaged(ctx, path, strerror(errno));
	ret = s_header(ctx, p, k, f, path);
	while (!ret && (n = fread(p->buf, 1, p->frame_len, f)) > 0) {
		if (n != p->frame_len || memcmp(p->buf, Y4M_FRAME_LINE, Y4M_FRAME_LINE_LEN)) {
			ret = s_damaged(ctx, path, n != p->frame_len ? "it ends inside a frame"
								    : "a frame does not start with FRAME");
			break;
		}
		errno = 0;
		if (fwrite(p->buf, 1, p->frame_len, p->out) != p->frame_len)
			ret = s_write_fail(ctx, p);
		p->frames++;
	}
	if (!ret && ferror(f))
		ret = s_damaged(ctx, path, "read error");
	fclose(f);
	return ret;
}

static int s_run(struct vhs_ctx *ctx)
{
	struct mux_priv *p = vhs_priv(ctx);
	int ret = 0;

	p->out = fopen(p->part, "wbe");
	if (!p->out)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot create '%s': %s", p->part, strerror(errno));
	for (long long k = 0; !ret && k < p->count; k++) {
		ret = s_segment(ctx, p, k);
		if (!ret && vhs_stopping(ctx))
			return -ECANCELED;
	}
	if (ret)
		return ret;
	if ((long long)p->frames != p->frames_expected)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "the segments hold %llu video frames, the manifest "
				"says %lld", (unsigned long long)p->frames, p->frames_expected);
	errno = 0;
	if (fflush(p->out) || fsync(fileno(p->out)))
		return s_write_fail(ctx, p);
	ret = fclose(p->out);
	p->out = NULL;
	return ret ? s_write_fail(ctx, p) : 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	struct mux_priv *p = vhs_priv(ctx);
	size_t n;

	if (!p->output[0] || !p->dir[0])
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no output or work dir in the settings");
	n = strlen(p->output);
	if (n <= 4 || strcasecmp(p->output + n - 4, ".y4m"))
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "'%s': this build has no FFmpeg (make FFMPEG=0) and "
				"writes y4m only: name the output .y4m", p->output);
	snprintf(p->part, sizeof(p->part), "%s.part", p->output);
	p->count = vhs_setting_int(ctx, VHS_SET_SEGMENT_COUNT);
	p->frames_expected = vhs_setting_int(ctx, VHS_SET_SEGMENT_FRAMES);
	if (p->count <= 0 || p->count > UINT32_MAX)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "nothing to mux (segment.count %lld)", p->count);
	return 0;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct mux_priv *p = vhs_priv(ctx);

	if (p->out)
		fclose(p->out);
	free(p->buf);
	p->out = NULL;
	p->buf = NULL;
}

static const struct vhs_stage_option s_options[] = {
	VHS_OPTION(struct mux_priv, OUTPUT, STRING, output),
	VHS_OPTION(struct mux_priv, SEGMENT_DIR, STRING, dir),
};

const struct vhs_stage vhs_stage_mux = {
	.name = "mux",
	.priv_size = sizeof(struct mux_priv),
	VHS_OPTIONS(s_options),
	.init = s_init,
	.run = s_run,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_mux, argc, argv);
}
