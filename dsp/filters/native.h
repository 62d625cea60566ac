/* native.h: the project's own video filters, declared the way libavfilter declares one, and
 * their registry.
 *
 * DESIGN
 * What libavfilter lacks (the tape repairs, the deterministic decimator, the deinterlacer to
 * come) is a filter of ours: a const struct with a name, an options table, a temporal reach
 * and init/filter/uninit. The preprocess stage runs them in the same chain as libavfilter's
 * (dsp/av/chain.h splits `[video] filters` into libavfilter graphs and our filters), written
 * with libavfilter's syntax: `vhs_chroma=dx=-1.25:dy=0.5` or `vhs_chroma=-1.25:0.5`.
 *
 * A filter is given each input frame (its own, to free) and hands on zero or more
 * output frames with vhs_native_emit(); a NULL frame is the end of its input, after which it
 * emits what it still holds. The framework allocates the private state (priv_size bytes,
 * zeroed), sets the options into it from the table before init, and frees it after uninit;
 * the filter never parses its arguments.
 *
 * Temporal reach: each output frame depends on at most reach_before input frames before it
 * and reach_after after it. The planner sizes each segment's window by it (the same numbers,
 * by name, in proto/filters.h's table, which a unit test holds to these), so that an output
 * frame is a pure function of the segment window: identical across workers, restarts,
 * resume. A filter that needs to know where a frame sits in the tape (the decimator's cycles)
 * takes it from the frame's pts, never from how many frames it has seen.
 */
#ifndef VHS_NATIVE_H
#define VHS_NATIVE_H

#include <stddef.h>

#include <libavutil/frame.h>

#include "pixfmt.h"
#include "proto.h"

enum vhs_native_type { VHS_NATIVE_INT, VHS_NATIVE_DOUBLE };

/* One option: name, what it is, where in the private state (an int or a double), its
 * default and range; an int may have names for its values (0, 1, ...), as libavfilter's
 * named constants ("mode=send_field"). */
struct vhs_native_option {
	const char *name;
	const char *help;
	enum vhs_native_type type;
	size_t offset;
	double def, min, max;
	const char *const *names;     /* NULL-terminated, value i's name; or NULL */
};

#define VHS_NATIVE_OPT(priv, field, type, def, min, max, help) \
	{ #field, help, VHS_NATIVE_##type, offsetof(priv, field), def, min, max, NULL }

/* An int option whose values are named (names: a NULL-terminated array of n names). */
#define VHS_NATIVE_NAMED(priv, field, def, names, n, help) \
	{ #field, help, VHS_NATIVE_INT, offsetof(priv, field), def, 0, (n) - 1, names }

/* Where a filter's output frames go (the framework's queue). */
struct vhs_native_out;

/* Hands a frame on; its reference moves in (*f is left empty). Returns 0 or -ENOMEM. */
int vhs_native_emit(struct vhs_native_out *out, AVFrame *f);

struct vhs_native_filter {
	const char *name;
	const char *description;
	const struct vhs_native_option *options; /* ends with a row whose name is NULL */
	size_t priv_size;
	int reach_before, reach_after;           /* input frames, as proto/filters.h says */
	/* Checks the input format and sets the output's (out starts as a copy of in).
	 * threads: the cores the filter may use (0: as many as pay). Returns 0 or -errno with
	 * one line in err. */
	int (*init)(void *priv, const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads,
		    char *err, size_t errlen);
	/* One input frame, the filter's own (it frees it with av_frame_free; NULL: the end).
	 * Returns 0 or -errno. */
	int (*filter)(void *priv, AVFrame *in, struct vhs_native_out *out);
	void (*uninit)(void *priv);                 /* may be NULL */
};

/* The filter called name, or NULL. */
const struct vhs_native_filter *vhs_native_find(const char *name);

/* Every registered filter, NULL-terminated (for docs and tests). */
extern const struct vhs_native_filter *const vhs_native_filters[];

/* One filter of a chain, running: its state and the frames it has emitted. */
struct vhs_native;

/* Sets up filter f with args (libavfilter syntax: "a=1:b=2", "1:2", or NULL) for input in,
 * filling out with its output format; threads as the filter's init takes them. Returns 0 or
 * -errno with one line in err. */
int vhs_native_open(struct vhs_native **n, const struct vhs_native_filter *f, const char *args,
		    const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads, char *err,
		    size_t errlen);

/* One frame in (its reference moves in; NULL: the end of input). */
int vhs_native_push(struct vhs_native *n, AVFrame *f);

/* The oldest emitted frame into out: 0, or AVERROR(EAGAIN) when there is none yet, or
 * AVERROR_EOF after the end was pushed and everything was taken. */
int vhs_native_pull(struct vhs_native *n, AVFrame *out);

void vhs_native_close(struct vhs_native **n);

/* ---- helpers for filters ---- */

/* A copy of in, pixels and properties, into *out (the caller's), and both seen as pictures
 * (dsp/image/pixfmt.h; either may be NULL). Returns 0, -ENOMEM, or -EINVAL for a format the
 * pictures do not take (then *out is NULL). */
int vhs_native_copy(const AVFrame *in, AVFrame **out, struct vhs_picture *src, struct vhs_picture *dst);

/* init's check that the input is planar YUV (or gray, when gray_ok), 8 to 16 bits: 0, or
 * -EINVAL with a line in err that says how to make it so. */
int vhs_native_need_yuv(const char *name, const struct vhs_stream_fmt *in, int gray_ok, char *err,
			size_t errlen);

#endif
