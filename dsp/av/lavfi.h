/* lavfi.h: a libavfilter graph with one input and one output, built the way the ffmpeg
 * command line builds a simple filter graph, so its output is bit-identical to
 * `ffmpeg -vf CHAIN` / `-af CHAIN` (the project's correctness oracle, DESIGN.md).
 *
 * That means: the same buffer/abuffer source arguments (size, pixel format, stream time
 * base, sample aspect, frame rate; audio time base 1/sample_rate), automatic conversions
 * with scale flags "bicubic" (the command line's default sws_flags), and frames pushed in
 * the order and framing the decoder produced them.
 */
#ifndef VHS_LAVFI_H
#define VHS_LAVFI_H

#include <stdbool.h>

#include <libavfilter/avfilter.h>
#include <libavutil/frame.h>

#include "proto.h"

struct vhs_lavfi {
	AVFilterGraph *graph;
	AVFilterContext *src;   /* buffer or abuffer */
	AVFilterContext *sink;  /* buffersink or abuffersink */
	int64_t end;            /* where the input pushed so far ends (the last frame's pts
				 * plus its duration, in the source's time base), for the end
				 * of input: filters such as fps fill up to it, as in ffmpeg */
};

/* Builds and configures source -> chain -> sink for the edge format `in`. An empty chain
 * is a pass-through. threads: the graph's thread count (AVFilterGraph.nb_threads; 0: one
 * per CPU) for the filters whose slice threads pay; those measured to lose by them run on
 * one whatever the count (vhs_lavfi_threads_lose; a filter given threads= in the chain keeps
 * its own). Returns 0 or a negative AVERROR with one line in err. */
int vhs_lavfi_open(struct vhs_lavfi *g, const struct vhs_stream_fmt *in, const char *chain,
		   int threads, char *err, size_t errlen);

/* Whether libavfilter's filter `name` runs slower with its slice threads than on one thread
 * at SD on a small machine (bench/threads.sh, `make bench-threads`). */
bool vhs_lavfi_threads_lose(const char *name);

/* Gives the frame to the graph (its reference moves in; *f is left empty).
 * f = NULL signals the end of the input. */
int vhs_lavfi_push(struct vhs_lavfi *g, AVFrame *f);

/* Takes one output frame: 0, AVERROR(EAGAIN) (needs input) or AVERROR_EOF.
 * flushing: after the end of input was pushed (lets the graph run to its end). */
int vhs_lavfi_pull(struct vhs_lavfi *g, AVFrame *out, int flushing);

/* The configured output format (slot_size is left 0 for the caller). */
void vhs_lavfi_output(const struct vhs_lavfi *g, struct vhs_stream_fmt *out);

void vhs_lavfi_close(struct vhs_lavfi *g);

#endif
