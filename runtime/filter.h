/* filter.h: the common body of the filter stages (preprocess, upscale, audio).
 *
 * DESIGN
 * A filter stage runs one libavfilter chain between an input ring and an output ring.
 * Input slots are wrapped as AVFrames without copying and pushed into the graph (the
 * graph may hold them as reference frames; each slot goes back when the graph frees the
 * frame). Every frame the graph gives out is copied once into an output slot. The stage
 * files only say which chain to build; struct vhs_filter_stage must be the first member
 * of their private state.
 *
 * Segments: every segment gets its own graph, built at its BEGIN and flushed at its END, so
 * what a segment yields depends only on its own input window (warm-up frames before it and
 * look-ahead frames after it included). Of what a graph gives out, only what falls inside
 * its segment [start, end) goes on, as records of that segment: video frames by pts, audio
 * cut to the sample, and never past the end of the audio the graph was given; audio that a
 * filter dropped at the end of its input is made up with silence, so a segment's audio
 * always spans exactly its part of the input.
 *
 * A worker may hold several segments at once: when this stage runs as a pool fed by
 * several upstream workers, the records of their segments arrive interleaved on the one
 * input port (each segment's own records still in order between its BEGIN and END). So
 * the graphs are kept per open segment, and each record goes into its segment's graph.
 * A data record of no open segment, or an input that ends inside a segment, is an
 * internal error.
 *
 * Schedule: a stage may give a chain per stretch of the tape (schedule.h; the preprocess
 * stage on a tape whose scan changes): each segment's graph is built from the chain its
 * window picks, the stage's own chain being the default. Every chain is built once at
 * start-up, and all must give out the same format.
 *
 * Threads: each graph runs `worker.threads` threads (0: libavfilter's default).
 *
 * Post processor: a stage may put its own processing after the graph (the audio stage's
 * hiss reducer, which libavfilter cannot host). It gets a state per open segment and the
 * graph's frames, and speaks the graph's push/pull protocol; the segment cut happens after
 * it, so it sees the warm-up and look-ahead too.
 */
#ifndef VHS_FILTER_H
#define VHS_FILTER_H

#include "chain.h"
#include "lavfi.h"
#include "runtime.h"
#include "schedule.h"

/* Longest filter chain a stage accepts, terminator included. */
#define VHS_CHAIN_MAX 65536

/* Processing after the graph, per segment (see above). */
struct vhs_filter_post {
	/* A fresh state for a segment: 0 or -errno. */
	int (*open)(struct vhs_ctx *ctx, void **state);
	/* A graph output frame in (its reference moves in; NULL: the graph has ended). */
	int (*push)(void *state, AVFrame *f);
	/* One frame out: 0, AVERROR(EAGAIN) (needs input) or AVERROR_EOF, as vhs_lavfi_pull. */
	int (*pull)(void *state, AVFrame *out, int flushing);
	void (*close)(void **state);
};

/* The graph of one open segment (BEGIN seen, END not yet). */
struct vhs_filter_segment {
	struct vhs_segment begin; /* its BEGIN: index, window [start, end), time base */
	struct vhs_chain *graph;  /* built at BEGIN, flushed and closed at END */
	void *post;               /* the post processor's state, or NULL */
	int64_t in_end, out_end;  /* audio: ends of the input pushed and of the output sent, in
				   * output samples (AV_NOPTS_VALUE: none yet) */
};

struct vhs_filter_stage {
	AVFrame *out;             /* reused output frame */
	struct vhs_stream_fmt fmt; /* output edge format */
	char *chain;              /* the chain every segment's graph is built from */
	int threads;              /* each graph's thread count (worker.threads; 0 = auto) */
	struct vhs_filter_segment *open; /* the open segments (order not kept) */
	size_t n_open, cap_open;
	const struct vhs_filter_post *post; /* set by the stage before any segment, or NULL */
	struct vhs_schedule schedule; /* chains per stretch, set by the stage before
				       * vhs_filter_stage_init (none: chain throughout) */
};

/* Checks the chain (and the schedule's) on input port 0 (one graph each, built and closed
 * to learn its output format) and declares output port 0. */
int vhs_filter_stage_init(struct vhs_ctx *ctx, const char *chain);

/* One input slot into the graph of its segment. The slot is given away: the graph frees
 * it when done with the frame (it is released at once when the segment is not open). */
int vhs_filter_stage_video(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data);
int vhs_filter_stage_audio(struct vhs_ctx *ctx, const struct vhs_audio *a, uint8_t *data);

/* BEGIN(k): builds k's graph; END(k): flushes it, sends what falls inside k, closes it.
 * Either way the marker goes on to output port 0. */
int vhs_filter_stage_segment(struct vhs_ctx *ctx, const struct vhs_segment *seg);

/* The input ended: fine between segments, an internal error inside one. */
int vhs_filter_stage_eos(struct vhs_ctx *ctx, int port);

/* Closes every graph still open (error paths) and frees the rest. */
void vhs_filter_stage_uninit(struct vhs_ctx *ctx);

#endif
