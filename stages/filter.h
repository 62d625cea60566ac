/* filter.h: the common body of the filter stages (preprocess, upscale, audio).
 *
 * DESIGN
 * A filter stage is one libavfilter graph between an input ring and an output ring.
 * Input slots are wrapped as AVFrames without copying and pushed into the graph (the
 * graph may hold them as reference frames; each slot goes back when the graph frees the
 * frame). Every frame the graph gives out is copied once into an output slot. The stage
 * files only say which chain to build; struct vhs_filter_stage must be the first member
 * of their private state.
 *
 * Segments: the graph is built fresh for every segment and flushed at its END, so what a
 * segment yields depends only on its own input window (warm-up frames before it and
 * look-ahead frames after it included). Of what the graph gives out, only what falls
 * inside the segment [start, end) goes on: video frames by pts, audio cut to the sample.
 */
#ifndef VHS_FILTER_H
#define VHS_FILTER_H

#include "lavfi.h"
#include "runtime.h"

/* Longest filter chain a stage accepts, terminator included. */
#define VHS_CHAIN_MAX 65536

struct vhs_filter_stage {
	struct vhs_lavfi graph;
	AVFrame *out;             /* reused output frame */
	struct vhs_stream_fmt fmt; /* output edge format */
	char *chain;              /* for rebuilding the graph at each segment */
	struct vhs_segment seg;   /* the segment being filtered (its BEGIN) */
};

/* Builds the graph for input port 0 and declares output port 0. */
int vhs_filter_stage_init(struct vhs_ctx *ctx, const char *chain);

int vhs_filter_stage_video(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data);
int vhs_filter_stage_audio(struct vhs_ctx *ctx, const struct vhs_audio *a, uint8_t *data);
int vhs_filter_stage_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg);
int vhs_filter_stage_eos(struct vhs_ctx *ctx, int port);
void vhs_filter_stage_uninit(struct vhs_ctx *ctx);

#endif
