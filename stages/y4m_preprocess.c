/* preprocess.c (make FFMPEG=0): the preprocess stage for builds without FFmpeg. The filter
 * chain (`[video] filters`) is libavfilter's, which this build lacks, so only the empty
 * chain is accepted: frames go on unchanged. A non-empty chain is refused at init with one
 * line (a config error, exit code 3).
 *
 * DESIGN
 * The stage is the FFmpeg filter stage (runtime/filter.c) with a graph that passes frames
 * through: per open segment it keeps the BEGIN's window [start, end), and of the frames of
 * the segment only those whose pts lies inside it go on (warm-up and look-ahead frames
 * would only have fed the filters; with the empty chain the orchestrator asks for none,
 * but a window is honoured as runtime/filter.c honours it). Each frame that goes on is copied
 * once, plane by plane, from its input slot (read through the record's offsets and line
 * sizes) into an output slot in the standard layout (y4mstage.h), counted with
 * vhs_count_copy(), and the input slot is released at once. BEGIN and END go on to the
 * output port in order with the frames; the runtime counts each END's frames.
 *
 * A worker may hold several segments at once (upstream pools), their records interleaved
 * on the one input port: the windows are kept per open segment, and every frame goes by
 * the segment it names. A frame of no open segment, or an input that ends inside a
 * segment, is an internal error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "y4mstage.h"

struct preprocess_priv {
	const struct vhs_pixfmt *pf;   /* the edge's pixel format */
	struct vhs_stream_fmt fmt;     /* output port 0: the input's format, our slot size */
	uint32_t offset[4];            /* the output slot layout */
	int32_t linesize[4];
	struct vhs_segment *open;      /* BEGIN records of the open segments (order not kept) */
	size_t n_open, cap_open;
};

/* The filter chain must be empty: anything else needs libavfilter. */
static int s_no_filters(struct vhs_ctx *ctx)
{
	char chain[256];
	int ret = vhs_setting(ctx, VHS_SET_VIDEO_FILTERS, chain, sizeof(chain));

	if (ret == -ENOSPC)
		chain[sizeof(chain) - 1] = '\0'; /* cut short: it is only quoted */
	else if (ret < 0)
		return 0;
	if (!chain[strspn(chain, " \t\n")])
		return 0;
	for (char *c = chain; *c; c++)
		if ((unsigned char)*c < ' ')
			*c = ' '; /* the message stays one line */
	return vhs_fail(ctx, VHS_ERR_CONFIG, "[video] filters = \"%.60s%s\" needs libavfilter, which this "
			"build lacks (make FFMPEG=0): set filters = \"\"", chain, strlen(chain) > 60 ? "..." : "");
}

static int s_init(struct vhs_ctx *ctx)
{
	struct preprocess_priv *p = vhs_priv(ctx);
	const struct vhs_stream_fmt *in = vhs_input_format(ctx, 0);
	int ret = s_no_filters(ctx);

	if (ret)
		return ret;
	if (!in || in->media != VHS_MEDIA_VIDEO)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "no video input edge");
	p->pf = vhs_pixfmt_find(in->fmt);
	if (!p->pf)
		return vhs_fail(ctx, VHS_ERR_INPUT, "pixel format %s is not supported without FFmpeg", in->fmt);
	p->fmt = *in;
	p->fmt.slot_size = vhs_slot_layout(p->pf, in->width, in->height, p->offset, p->linesize);
	vhs_set_outputs(ctx, 1, &p->fmt);
	return 0;
}

/* The open segment with this index, or NULL. */
static struct vhs_segment *s_find(struct preprocess_priv *p, uint32_t index)
{
	for (size_t i = 0; i < p->n_open; i++)
		if (p->open[i].index == index)
			return &p->open[i];
	return NULL;
}

/* Copies the input picture into an output slot and sends it as a record of its segment. */
static int s_pass(struct vhs_ctx *ctx, struct preprocess_priv *p, const struct vhs_frame *f,
		  const uint8_t *data)
{
	struct vhs_frame out = *f;
	uint8_t *slot;
	int ret = vhs_output_slot(ctx, 0, &out.slot, &slot);

	if (ret)
		return ret;
	for (int pl = 0; pl < p->pf->planes; pl++) {
		size_t row = (size_t)vhs_pixfmt_plane_width(p->pf, pl, f->width) * p->pf->bytes;
		int rows = vhs_pixfmt_plane_height(p->pf, pl, f->height);

		for (int y = 0; y < rows; y++)
			memcpy(slot + p->offset[pl] + (size_t)y * (size_t)p->linesize[pl],
			       data + f->offset[pl] + (size_t)y * (size_t)f->linesize[pl], row);
	}
	vhs_count_copy(ctx, p->fmt.slot_size);
	out.port = 0;
	memcpy(out.offset, p->offset, sizeof(out.offset));
	memcpy(out.linesize, p->linesize, sizeof(out.linesize));
	out.bytes = p->fmt.slot_size;
	return vhs_send_video(ctx, &out);
}

/* An input slot: copied on if inside its segment, then released (given back here). */
static int s_video(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data)
{
	struct preprocess_priv *p = vhs_priv(ctx);
	const struct vhs_segment *seg = s_find(p, f->segment);
	int ret = 0;

	if (!seg)
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "frame of segment %u outside its BEGIN and END",
			       f->segment);
	else if (strcmp(f->fmt, p->fmt.fmt) || f->width != p->fmt.width || f->height != p->fmt.height)
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "frame %dx%d %s on a %dx%d %s edge", f->width,
			       f->height, f->fmt, p->fmt.width, p->fmt.height, p->fmt.fmt);
	else if (vhs_segment_contains(seg, f->pts, f->tb_num, f->tb_den))
		ret = s_pass(ctx, p, f, data);
	vhs_release(ctx, 0, f->slot);
	return ret;
}

/* BEGIN opens the segment's window, END closes it; both go on to output port 0. */
static int s_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg)
{
	struct preprocess_priv *p = vhs_priv(ctx);
	struct vhs_segment out = *seg, *open = s_find(p, seg->index);

	if (seg->phase == VHS_SEG_BEGIN) {
		if (open)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u begun twice", seg->index);
		open = vhs_grow(p->open, p->n_open, &p->cap_open, sizeof(*open));
		if (!open)
			return -ENOMEM;
		p->open = open;
		p->open[p->n_open++] = *seg;
	} else {
		if (!open)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "END of segment %u without its BEGIN", seg->index);
		*open = p->open[--p->n_open];
	}
	out.port = 0;
	return vhs_send_segment(ctx, &out);
}

static int s_eos(struct vhs_ctx *ctx, int port)
{
	struct preprocess_priv *p = vhs_priv(ctx);

	if (p->n_open)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "input %d ended inside segment %u", port,
				p->open[0].index);
	return 0;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct preprocess_priv *p = vhs_priv(ctx);

	free(p->open);
	p->open = NULL;
}

const struct vhs_stage vhs_stage_preprocess = {
	.name = "preprocess",
	.priv_size = sizeof(struct preprocess_priv),
	.init = s_init,
	.video = s_video,
	.segment = s_segment,
	.eos = s_eos,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_preprocess, argc, argv);
}
