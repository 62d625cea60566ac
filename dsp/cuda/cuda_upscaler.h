/* cuda_upscaler.h: the upscaler on an NVIDIA GPU (C interface to cuda.cu; not named
 * cuda.h, which is the CUDA driver API's header).
 *
 * DESIGN
 * Carries out a vhs_upscale_spec (spec.h) on the device: the input picture's planes go up
 * once, colour conversion to RGB, the network, the resize and the conversion back run as
 * kernels, and the output planes come down once. Several frames are in flight at once
 * (one CUDA stream, device tensors and pinned staging buffers each), so uploads, kernels
 * and downloads of neighbouring frames overlap. Frames complete in submission order.
 *
 * Every CUDA call is checked; an error becomes -EIO with the call and CUDA's message in
 * the error text (vhs_cuda_error()).
 *
 * Builds without FFmpeg. When the build has no CUDA (make CUDA=0, or no nvcc),
 * cuda_stub.c provides these functions: vhs_cuda_probe() says why there is no GPU and
 * open fails.
 */
#ifndef VHS_CUDA_H
#define VHS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* 1 when a CUDA device is usable, 0 when not (why says why: no CUDA in this build, no
 * driver, no device). */
int vhs_cuda_probe(char *why, size_t len);

/* Numeric precision of the network on the GPU. */
enum vhs_cuda_precision {
	VHS_CUDA_FP32,  /* float32 throughout (reference; CUDA cores) */
	VHS_CUDA_FP16,  /* fp16 tensors and weights, fp32 accumulation (tensor cores) */
};

struct vhs_cuda_upscaler;

/* Prepares the device for spec (which must outlive the upscaler) with `in_flight` frames
 * in flight (1..8). Returns 0 or -EIO / -ENOMEM / -ENODEV with a reason in err. */
int vhs_cuda_open(struct vhs_cuda_upscaler **out, const struct vhs_upscale_spec *spec,
		  enum vhs_cuda_precision precision, int in_flight, char *err, size_t errlen);

/* Queues one frame: in is read before this returns (unless it lies in registered memory,
 * vhs_cuda_register_input); out's planes are written by the time
 * vhs_cuda_collect() returns this frame's tag. Blocks while in_flight frames are queued on
 * the device: it then waits for the oldest of them and writes its output (that frame stays
 * queued, done, until collected). Returns 0, -EIO, or -EINVAL (a picture not of the spec's
 * format and size). */
int vhs_cuda_submit(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
		    struct vhs_picture *out, uint64_t tag);

/* As vhs_cuda_submit(), but out's planes are device memory (a GPU edge's buffer,
 * shm/devpool.h) and the frame never comes down: the output is copied there on the device
 * after the frame's stream has waited for wait_event (NULL: none), then done_event is
 * recorded (NULL: none). Events are cudaEvent_t. */
int vhs_cuda_submit_device(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
			   const struct vhs_picture *out, void *wait_event, void *done_event,
			   uint64_t tag);

/* Pins [base, base + bytes) of the caller's memory (cudaHostRegister): input pictures
 * lying wholly inside it are then uploaded straight from there, one DMA per plane with no
 * staging copy, and asynchronously: such a picture must stay untouched until its frame is
 * collected. One range per upscaler. Returns 0 or -EIO / -EBUSY. */
int vhs_cuda_register_input(struct vhs_cuda_upscaler *u, void *base, size_t bytes);

/* The oldest queued frame: with wait, blocks until it is done; without, returns 0 at once
 * if it is not. Returns 1 with *tag set, 0 when nothing is (ready), or -EIO. */
int vhs_cuda_collect(struct vhs_cuda_upscaler *u, uint64_t *tag, int wait);

/* Nanoseconds the frames finished so far spent on the device, upload to download (CUDA
 * events on their streams): the time at least one of them was there, so frames in flight
 * that overlap count once. On a GPU edge it includes any wait on the device for the consumer
 * to release the buffer (the stream's wait on its event). The stage reports it as its GPU
 * time (vhs_count_gpu()). */
uint64_t vhs_cuda_gpu_ns(const struct vhs_cuda_upscaler *u);

/* The last error's text (empty when none). */
const char *vhs_cuda_error(const struct vhs_cuda_upscaler *u);

/* Frees the stream and its device memory; sets *up to NULL (safe on NULL). */
void vhs_cuda_close(struct vhs_cuda_upscaler **up);

/* Tests and benchmarks. */

/* The network alone, synchronously, through the same tiles and kernels as a frame: HWC
 * float RGB spec->in_w x in_h in [0, range] -> HWC float RGB net_w x net_h (unclamped).
 * Needs a model and no frame queued. Returns 0, -EINVAL or -EIO. */
int vhs_cuda_run_net(struct vhs_cuda_upscaler *u, const float *in, float *out);

/* Forces tiles of tile_w x tile_h input pixels (0 = as planned); never larger than the
 * tiles planned at open. vhs_cuda_tile() tells the tile size in use. */
void vhs_cuda_set_tile(struct vhs_cuda_upscaler *u, int tile_w, int tile_h);
void vhs_cuda_tile(const struct vhs_cuda_upscaler *u, int *tile_w, int *tile_h);

/* The colour constants the kernels get for x (no device needed): the matrix's and the chroma
 * filter per direction, for a test that they are color.h's own. Returns 0, or -ENODEV
 * without CUDA. */
int vhs_cuda_color_constants(const struct vhs_color_xform *x, struct vhs_color_coef *k,
			     struct vhs_chroma_site *h, struct vhs_chroma_site *v);

/* The device's fp16 matrix-product rate (fp32 accumulation) on n x n x n random matrices,
 * in TFLOP/s: *wmma by a plain WMMA kernel of cuda.cu, *cublas through cuBLAS when
 * libcublas loads at run time (0 when it does not). Returns 0, -ENODEV or -EIO. */
int vhs_cuda_gemm_tflops(int n, double *wmma, double *cublas, char *err, size_t errlen);

/* The device's copy bandwidth: a device-to-device copy of bytes of random data, in GB/s
 * counting bytes read plus bytes written (the median of ten after three warm-ups).
 * Returns 0, -ENODEV or -EIO. */
int vhs_cuda_copy_gbps(size_t bytes, double *gbps, char *err, size_t errlen);

#endif
