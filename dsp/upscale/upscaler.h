/* upscaler.h: one upscaling stream, frame in, frame out, on the CPU or a GPU; FFmpeg-free.
 *
 * DESIGN
 * The stage (upscale.c) and the standalone tool (tool.c, y4m in and out) both drive this.
 * It turns settings and the input format into a vhs_upscale_spec (spec.h) and runs it on
 * a backend:
 *   cpu   color.c -> net.c -> resample.c -> color.c, on the calling thread (plus the
 *         network's worker threads); a frame is done when submit returns
 *   cuda  cuda.cu; several frames in flight, done in submission order
 *   auto  cuda when vhs_cuda_probe() finds a device, else cpu with a warning about speed
 *
 * Models: "esrgan-slim", "esrgan-medium", "esrgan-thick" at scale 2, 3, 4 or 8 (the
 * network makes in * scale; a final Lanczos resize gives out_w x out_h when they differ),
 * or "lanczos" (cuda backend only here: the CPU lanczos of the stage is libswscale, the
 * project's oracle).
 *
 * Colour: input matrix from its tags (BT.709 if it says so, BT.601 otherwise); output
 * matrix BT.709 when the output is HD (height >= 720 or width >= 1280), the input's
 * otherwise; planar RGB in and out with no YUV step at all (pix_fmt = "gbrp").
 */
#ifndef VHS_UPSCALER_H
#define VHS_UPSCALER_H

#include <stddef.h>
#include <stdint.h>

#include "pixfmt.h"

struct vhs_upscaler_config {
	const char *model;    /* "esrgan-slim", ..., or "lanczos" */
	int scale;            /* network scale: 2, 3, 4 or 8 */
	const char *backend;  /* "cpu", "cuda" or "auto" */
	int out_w, out_h;     /* 0 = input size * scale */
	const char *out_fmt;  /* output pixel format name (pixfmt.h) */
	int threads;          /* cpu: network threads (0 = 1) */
	int in_flight;        /* cuda: frames in flight (0 = 3) */
	int fp32;             /* cuda: float32 network instead of fp16 tensor cores */
};

struct vhs_upscaler;

/* Opens a stream for w x h pictures of in_fmt described by in_color. Returns 0 or a
 * negative errno with a one-line reason in err (-EINVAL: a setting; -ENOENT: models
 * missing; -ENODEV: backend "cuda" without a GPU; -EIO: CUDA failed). A warning that the
 * caller should print (CPU fallback of "auto") lands in warn (empty when none). */
int vhs_upscaler_open(struct vhs_upscaler **out, const struct vhs_upscaler_config *cfg,
		      const struct vhs_pixfmt *in_fmt, int w, int h,
		      const struct vhs_colorimetry *in_color, char *err, size_t errlen,
		      char *warn, size_t warnlen);

/* The output pictures: format, size, colour tags; and the backend actually used. */
const struct vhs_pixfmt *vhs_upscaler_out_fmt(const struct vhs_upscaler *u);
void vhs_upscaler_out_size(const struct vhs_upscaler *u, int *w, int *h);
const struct vhs_colorimetry *vhs_upscaler_out_color(const struct vhs_upscaler *u);
const char *vhs_upscaler_backend(const struct vhs_upscaler *u);
/* The output's sample aspect ratio for an input's (0/0 stays unknown): scaled so the
 * picture keeps its shape, reduced, as libswscale's scale filter does. */
void vhs_upscaler_out_sar(const struct vhs_upscaler *u, int in_num, int in_den, int *num, int *den);
/* Floating-point operations per frame (the network's; 0 for lanczos). */
double vhs_upscaler_flops(const struct vhs_upscaler *u);

/* GPU time so far: nanoseconds the finished frames spent on the device, overlaps counted
 * once (vhs_cuda_gpu_ns()); 0 on the CPU. */
uint64_t vhs_upscaler_gpu_ns(const struct vhs_upscaler *u);

/* Queues a frame: in must stay untouched and out's planes unread until collect returns
 * this tag. Returns 0 or a negative errno (reason in vhs_upscaler_error()). */
int vhs_upscaler_submit(struct vhs_upscaler *u, const struct vhs_picture *in,
			struct vhs_picture *out, uint64_t tag);

/* Input in [base, base + bytes) (a ring's mapping) goes up to the GPU straight from there,
 * with no staging copy (cuda backend; the CPU reads it in place anyway). Pictures inside
 * it are then read after submit returns: they must stay untouched until collected.
 * Returns 0 or a negative errno (the caller may go on without it). */
int vhs_upscaler_register_input(struct vhs_upscaler *u, void *base, size_t bytes);

/* 1 when the backend runs on a GPU, so frames can stay there (vhs_upscaler_submit_device). */
int vhs_upscaler_on_device(const struct vhs_upscaler *u);

/* As submit, but out's planes are device memory (a GPU edge's buffer, shm/devpool.h): the
 * output is written there after the GPU has waited for wait_event and done_event is
 * recorded after (cudaEvent_t, NULL: none). cuda backend only (-EINVAL otherwise). */
int vhs_upscaler_submit_device(struct vhs_upscaler *u, const struct vhs_picture *in,
			       struct vhs_picture *out, void *wait_event, void *done_event, uint64_t tag);

/* The oldest queued frame, when done (wait: block until it is). Returns 1 with *tag set,
 * 0 when none is queued (or, without wait, none is done yet), or a negative errno. */
int vhs_upscaler_collect(struct vhs_upscaler *u, uint64_t *tag, int wait);

/* Frames queued and not yet collected, and how many may be (submit refuses more with
 * -EBUSY: collect first). */
int vhs_upscaler_queued(const struct vhs_upscaler *u);
int vhs_upscaler_capacity(const struct vhs_upscaler *u);

const char *vhs_upscaler_error(const struct vhs_upscaler *u);

/* Frees the stream (its backend, tables and model); sets *up to NULL (safe on NULL). */
void vhs_upscaler_close(struct vhs_upscaler **up);

#endif
