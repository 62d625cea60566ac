/* encode.c (make FFMPEG=0): the encode stage for builds without FFmpeg: each segment's
 * frames (input port 0) are written raw, as a y4m stream of their own, into the segment's
 * file in the work dir; the mux stage joins the segments into the y4m output.
 *
 * DESIGN
 * There is no encoder: a segment file is the stream header of the input edge's format
 * (vhs_y4m_header_of(), the same bytes for every segment) and, per frame, "FRAME\n" and its
 * planes tightly packed (y4mstage.h). It is a pure function of the segment's frames,
 * whichever process or attempt made it. The file is `vNNNNNN.vseg` (the name the
 * orchestrator's manifest and its --resume check expect), written through the temp writer
 * (lib/tempfile.h: io_uring or pwrite) and committed at the segment's END: drained,
 * fsynced, renamed, directory fsynced. Then the stage reports SEGMENT DONE with the frame
 * count and the file's bytes, as stages/encode.c does (no audio: samples 0), and the
 * orchestrator records it in the manifest. A segment whose END announces more or fewer
 * records than arrived is refused: no frame may be lost or duplicated.
 *
 * Frames are read only through the data pointer and the record's offsets and line sizes
 * (the runtime may hand over frames of a device edge already downloaded to host memory),
 * written into the temp writer's buffer (the copy that leaves the pipeline), and the slot
 * goes back at once.
 *
 * A worker may hold several segments at once (upstream pools): each open segment has its
 * own temp file and count, and every frame goes to the segment it names.
 *
 * The output must be named .y4m: without FFmpeg there is no other container. The job's
 * [encode] codec, preset and crf have nothing to act on and are ignored; encode.pix_fmt
 * is the upscale stage's output format, which must have a y4m name (not gbrp).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "files.h"
#include "runtime.h"
#include "tempfile.h"
#include "y4mstage.h"

/* A segment open on the input (its BEGIN arrived, its END not yet). */
struct open_segment {
	struct vhs_segment begin;  /* its BEGIN (index, flags) */
	struct vhs_tempfile *tf;   /* vNNNNNN.vseg being written */
	uint64_t frames;           /* records received */
};

struct encode_priv {
	char dir[4096];            /* the work dir */
	const struct vhs_pixfmt *pf; /* the input edge's pixel format */
	char *header;              /* the y4m stream header line of every segment file */
	size_t header_len;
	struct open_segment *open; /* the open segments (order not kept) */
	size_t n_open, cap_open;
};

static int s_write_fail(struct vhs_ctx *ctx, struct encode_priv *p, uint32_t k, int err)
{
	return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write the video of segment %u in '%s': %s", k,
			p->dir, strerror(err));
}

/* True when path ends in .y4m (any case). */
static int s_is_y4m(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && !strcasecmp(path + n - 4, ".y4m");
}

static int s_init(struct vhs_ctx *ctx)
{
	struct encode_priv *p = vhs_priv(ctx);
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	char output[4096];
	int ret;

	if (vhs_input_count(ctx) != 1 || !in || in->media != VHS_MEDIA_VIDEO)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "this build (FFMPEG=0) encodes one video input and "
				"no audio, not %d inputs", vhs_input_count(ctx));
	if (!p->dir[0])
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no work dir (segment.dir) in the settings");
	if (vhs_setting(ctx, VHS_SET_OUTPUT, output, sizeof(output)) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no output in the job");
	if (!s_is_y4m(output))
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "'%s': this build has no FFmpeg (make FFMPEG=0) and "
				"writes y4m only: name the output .y4m", output);
	p->pf = vhs_pixfmt_find(in->fmt);
	ret = p->pf ? vhs_y4m_header_of(in, &p->header, &p->header_len) : -EINVAL;
	if (ret == -EINVAL)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "pixel format %s cannot be written as y4m: choose "
				"another [encode] pix_fmt", in->fmt);
	return ret;
}

/* ---- the open segments ---- */

/* The open segment with this index, or NULL. */
static struct open_segment *s_find(struct encode_priv *p, uint32_t index)
{
	for (size_t i = 0; i < p->n_open; i++)
		if (p->open[i].begin.index == index)
			return &p->open[i];
	return NULL;
}

/* Forgets an open segment (its temp file removed if not committed). */
static void s_forget(struct encode_priv *p, struct open_segment *s)
{
	vhs_tempfile_abort(&s->tf);
	*s = p->open[--p->n_open];
}

/* BEGIN: a temp file for the segment, its header written. */
static int s_begin(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *seg)
{
	struct open_segment *s;
	char name[32];
	int ret;

	if (s_find(p, seg->index))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u begun twice", seg->index);
	s = vhs_grow(p->open, p->n_open, &p->cap_open, sizeof(*s));
	if (!s)
		return -ENOMEM;
	p->open = s;
	s = &p->open[p->n_open++];
	*s = (struct open_segment){ .begin = *seg };
	vhs_segment_file_name(name, sizeof(name), VHS_SEGMENT_VIDEO, seg->index);
	ret = vhs_tempfile_open(&s->tf, p->dir, name);
	if (!ret)
		ret = vhs_tempfile_write(s->tf, p->header, p->header_len);
	return ret ? s_write_fail(ctx, p, seg->index, -ret) : 0;
}

/* END: the count checked, the file committed, SEGMENT DONE sent. */
static int s_end(struct vhs_ctx *ctx, struct encode_priv *p, const struct vhs_segment *end)
{
	struct open_segment *s = s_find(p, end->index);
	struct vhs_segment done = { .phase = VHS_SEG_DONE, .index = end->index };
	int ret;

	if (!s)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "END of segment %u without its BEGIN", end->index);
	if (end->frames != s->frames)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u on input 0: %llu records announced, %llu "
				"arrived", end->index, (unsigned long long)end->frames,
				(unsigned long long)s->frames);
	done.flags = s->begin.flags & VHS_SEG_LAST;
	done.frames = s->frames;
	done.bytes = vhs_tempfile_size(s->tf);
	ret = vhs_tempfile_commit(&s->tf);
	s_forget(p, s);
	if (ret)
		return s_write_fail(ctx, p, end->index, -ret);
	return vhs_send_segment(ctx, &done);
}

static int s_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg)
{
	struct encode_priv *p = vhs_priv(ctx);

	if (seg->port != 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u marker on input %u", seg->index, seg->port);
	return seg->phase == VHS_SEG_BEGIN ? s_begin(ctx, p, seg) : s_end(ctx, p, seg);
}

/* ---- frames ---- */

/* FRAME and the planes of the picture in data (read through f's offsets and line sizes). */
static int s_write_frame(struct open_segment *s, const struct vhs_pixfmt *pf,
			 const struct vhs_frame *f, const uint8_t *data)
{
	int ret = vhs_tempfile_write(s->tf, Y4M_FRAME_LINE, Y4M_FRAME_LINE_LEN);

	for (int pl = 0; !ret && pl < pf->planes; pl++) {
		size_t row = (size_t)vhs_pixfmt_plane_width(pf, pl, f->width) * pf->bytes;
		int rows = vhs_pixfmt_plane_height(pf, pl, f->height);

		for (int y = 0; !ret && y < rows; y++)
			ret = vhs_tempfile_write(s->tf, data + f->offset[pl] + (size_t)y * (size_t)f->linesize[pl],
						 row);
	}
	return ret;
}

/* A frame appended to its segment's file; the slot is given back here. */
static int s_video(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data)
{
	struct encode_priv *p = vhs_priv(ctx);
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	struct open_segment *s = s_find(p, f->segment);
	int ret;

	if (!s)
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "video frame of segment %u outside its segment",
			       f->segment);
	else if (strcmp(f->fmt, in->fmt) || f->width != in->width || f->height != in->height)
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "frame %dx%d %s on a %dx%d %s edge", f->width,
			       f->height, f->fmt, in->width, in->height, in->fmt);
	else if ((ret = s_write_frame(s, p->pf, f, data)) != 0)
		ret = s_write_fail(ctx, p, f->segment, -ret);
	else
		s->frames++;
	vhs_release(ctx, 0, f->slot);
	return ret;
}

static int s_eos(struct vhs_ctx *ctx, int port)
{
	struct encode_priv *p = vhs_priv(ctx);

	if (p->n_open)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "input %d ended inside segment %u", port,
				p->open[0].begin.index);
	return 0;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct encode_priv *p = vhs_priv(ctx);

	while (p->n_open)
		s_forget(p, &p->open[0]);
	free(p->open);
	free(p->header);
	p->open = NULL;
	p->header = NULL;
}

static const struct vhs_stage_option s_options[] = {
	VHS_OPTION(struct encode_priv, SEGMENT_DIR, STRING, dir),
};

const struct vhs_stage vhs_stage_encode = {
	.name = "encode",
	.priv_size = sizeof(struct encode_priv),
	VHS_OPTIONS(s_options),
	.init = s_init,
	.video = s_video,
	.segment = s_segment,
	.eos = s_eos,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_encode, argc, argv);
}
