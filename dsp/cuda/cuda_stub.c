/* cuda_stub.c: cuda_upscaler.h and cuda_mcdeint.h for builds without CUDA (make CUDA=0, or no nvcc found).
 *
 * DESIGN
 * The upscaler links the same symbols either way, so callers need no #ifdef: here the
 * probe says why there is no GPU, open fails with -ENODEV and that reason, and the
 * functions that take an upscaler are never reached (no open succeeds), so they only
 * answer defensively.
 */
#include "cuda_mcdeint.h"
#include "cuda_upscaler.h"

#include <errno.h>
#include <stdio.h>

#define NO_CUDA "this build has no CUDA (make CUDA=0 or no nvcc)"

int vhs_cuda_probe(char *why, size_t len)
{
	snprintf(why, len, "%s", NO_CUDA);
	return 0;
}

int vhs_cuda_open(struct vhs_cuda_upscaler **out, const struct vhs_upscale_spec *spec,
		  enum vhs_cuda_precision precision, int in_flight, char *err, size_t errlen)
{
	(void)spec;
	(void)precision;
	(void)in_flight;
	*out = NULL;
	snprintf(err, errlen, "%s", NO_CUDA);
	return -ENODEV;
}

int vhs_cuda_submit(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
		    struct vhs_picture *out, uint64_t tag)
{
	(void)u;
	(void)in;
	(void)out;
	(void)tag;
	return -ENODEV;
}

int vhs_cuda_submit_device(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
			   const struct vhs_picture *out, void *wait_event, void *done_event,
			   uint64_t tag)
{
	(void)u;
	(void)in;
	(void)out;
	(void)wait_event;
	(void)done_event;
	(void)tag;
	return -ENODEV;
}

int vhs_cuda_register_input(struct vhs_cuda_upscaler *u, void *base, size_t bytes)
{
	(void)u;
	(void)base;
	(void)bytes;
	return -ENODEV;
}

int vhs_cuda_collect(struct vhs_cuda_upscaler *u, uint64_t *tag, int wait)
{
	(void)u;
	(void)tag;
	(void)wait;
	return -ENODEV;
}

uint64_t vhs_cuda_gpu_ns(const struct vhs_cuda_upscaler *u)
{
	(void)u;
	return 0;
}

const char *vhs_cuda_error(const struct vhs_cuda_upscaler *u)
{
	(void)u;
	return NO_CUDA;
}

void vhs_cuda_close(struct vhs_cuda_upscaler **up)
{
	*up = NULL;
}

int vhs_cuda_run_net(struct vhs_cuda_upscaler *u, const float *in, float *out)
{
	(void)u;
	(void)in;
	(void)out;
	return -ENODEV;
}

void vhs_cuda_set_tile(struct vhs_cuda_upscaler *u, int tile_w, int tile_h)
{
	(void)u;
	(void)tile_w;
	(void)tile_h;
}

void vhs_cuda_tile(const struct vhs_cuda_upscaler *u, int *tile_w, int *tile_h)
{
	(void)u;
	*tile_w = *tile_h = 0;
}

int vhs_cuda_gemm_tflops(int n, double *wmma, double *cublas, char *err, size_t errlen)
{
	(void)n;
	*wmma = *cublas = 0;
	snprintf(err, errlen, "%s", NO_CUDA);
	return -ENODEV;
}

int vhs_cuda_copy_gbps(size_t bytes, double *gbps, char *err, size_t errlen)
{
	(void)bytes;
	*gbps = 0;
	snprintf(err, errlen, "%s", NO_CUDA);
	return -ENODEV;
}

int vhs_cuda_color_constants(const struct vhs_color_xform *x, struct vhs_color_coef *k,
			     struct vhs_chroma_site *h, struct vhs_chroma_site *v)
{
	(void)x, (void)k, (void)h, (void)v;
	return -ENODEV;
}

/* cuda_mcdeint.h: the same, for the deinterlacer. */
int vhs_cuda_mcdeint_open(struct vhs_cuda_mcdeint **d, const struct vhs_mcdeint_params *params,
			  const struct vhs_pixfmt *fmt, int width, int height, char *err, size_t errlen)
{
	(void)params, (void)fmt, (void)width, (void)height;
	*d = NULL;
	snprintf(err, errlen, "%s", NO_CUDA);
	return -ENODEV;
}

int vhs_cuda_mcdeint_push(struct vhs_cuda_mcdeint *d, const struct vhs_picture *frame, int parity)
{
	(void)d, (void)frame, (void)parity;
	return -ENODEV;
}

int vhs_cuda_mcdeint_end(struct vhs_cuda_mcdeint *d)
{
	(void)d;
	return -ENODEV;
}

int vhs_cuda_mcdeint_pull(struct vhs_cuda_mcdeint *d, struct vhs_picture *out)
{
	(void)d, (void)out;
	return -ENODEV;
}

uint64_t vhs_cuda_mcdeint_gpu_ns(const struct vhs_cuda_mcdeint *d)
{
	(void)d;
	return 0;
}

const char *vhs_cuda_mcdeint_error(const struct vhs_cuda_mcdeint *d)
{
	(void)d;
	return NO_CUDA;
}

void vhs_cuda_mcdeint_close(struct vhs_cuda_mcdeint **d)
{
	*d = NULL;
}
