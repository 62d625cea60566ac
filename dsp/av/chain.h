/* chain.h: a filter chain as the preprocess stage runs it: libavfilter's filters and the
 * project's own (dsp/filters/native.h) in one `-vf`-style chain.
 *
 * DESIGN
 * The chain is cut at our filters: each run of libavfilter filters between them becomes one
 * libavfilter graph (lavfi.h, built exactly as the ffmpeg command line builds it), each of
 * ours an element of its own, in order. A chain with none of ours is one graph, as before,
 * so the oracle (`ffmpeg -vf CHAIN`) still holds for it; a chain with ours must be a simple
 * chain (no ';' and no [labels]). Frames flow by the same push/pull protocol as lavfi.h's:
 * a pull asks the last element, and an element that needs input pulls from the one before
 * it, down to the first, which is fed by vhs_chain_push(). Between elements every frame
 * carries the time base of the element that made it.
 */
#ifndef VHS_CHAIN_H
#define VHS_CHAIN_H

#include <libavutil/frame.h>

#include "proto.h"

struct vhs_chain;

/* Builds the chain for input format in (an empty chain passes frames through); threads is
 * the cores each filter may use (0: every core), each using as many of them as pay (lavfi.h's
 * rule for libavfilter's filters, each of ours its own). Returns 0 or a negative AVERROR
 * with one line in err. */
int vhs_chain_open(struct vhs_chain **c, const struct vhs_stream_fmt *in, const char *chain,
		   int threads, char *err, size_t errlen);

/* Gives a frame to the chain (its reference moves in; *f is left empty); NULL: the end. */
int vhs_chain_push(struct vhs_chain *c, AVFrame *f);

/* One output frame: 0, AVERROR(EAGAIN) (needs input) or AVERROR_EOF. */
int vhs_chain_pull(struct vhs_chain *c, AVFrame *out);

/* The output format: what the last element gives, with in's colour description, field order
 * and length (filters pass them through); slot_size is left 0 for the caller. */
void vhs_chain_output(const struct vhs_chain *c, struct vhs_stream_fmt *out);

void vhs_chain_close(struct vhs_chain **c);

#endif
