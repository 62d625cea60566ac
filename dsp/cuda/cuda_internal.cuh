/* cuda_internal.cuh: the inside of the CUDA backend (cuda_upscaler.h is its interface),
 * shared by its files; nothing else includes this.
 *
 *   cuda.cu      the stream: frames in flight and their memory, tiles, the queue, the public API
 *   picture.cu   pictures to float RGB and back (colour kernels, color.h's constants), Lanczos
 *                resampling (resample.h's tables), a frame's work from upload to download
 *   network.cu   the network: the plan (model.h's graph), its kernels (elementwise layers,
 *                FP32 and WMMA FP16 convolutions) and running it on one tile
 *   ceilings.cu  the device's measured ceilings for benchmarks: copy bandwidth, matrix rate
 *
 * A kernel is launched from the file that defines it (no relocatable device code); the
 * files call each other's host functions, declared below.
 */
#ifndef VHS_CUDA_INTERNAL_CUH
#define VHS_CUDA_INTERNAL_CUH

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

extern "C" {
#include "cuda_upscaler.h"
#include "pixfmt.h"
}

#define THREADS 256                   /* threads per block of the simple kernels */
#define MAX_BLOCKS (1u << 20)         /* grid-stride loops cover the rest */
#define FRAME_BUDGET ((size_t)2 << 30) /* bytes of tensors per frame in flight, at most */
#define MIN_TILE 16                   /* smallest tile side tiling will choose */
#define PLANE_ALIGN 256               /* byte alignment of planes in the staging layout */
#define MAX_ADD 8                     /* inputs summed per k_add launch */

/* FP16 convolution block: WM_TW x WM_TH output pixels, WM_WARPS warps of 2 rows each. */
#define WM_TW 16
#define WM_WARPS 8
#define WM_TH (2 * WM_WARPS)
#define WM_KC 16                      /* input channels staged per step (one K fragment) */

/* Grid-stride loop over [0, n). */
#define FOR_EACH(i, n) \
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); \
	     i += (size_t)gridDim.x * blockDim.x)

/* ---- data ----------------------------------------------------------------------------- */

/* The numbers of a struct vhs_color_xform the kernels use, with color.c's derived
 * constants (struct s_coef there), computed once on the host in the same float steps. */
struct s_color {
	int w, h;               /* the picture's */
	int cw, ch;             /* chroma plane size (= w, h when not subsampled) */
	int rgb, gray;          /* planar RGB (planes G, B, R); one plane */
	int bytes;              /* per sample: 1 or 2 (16-bit little-endian) */
	int sx, sy;             /* chroma subsampling */
	float cx_off, cy_off;   /* luma position of chroma sample 0 */
	float y_off, y_scale, c_off, c_scale, max_code;
	struct vhs_color_coef k;        /* the matrix's constants (color.h) */
	struct vhs_chroma_site hs, vs;  /* from RGB: the chroma filter per direction (color.h) */
};

/* A resample table (resample.h) on the device. */
struct s_table {
	int in_size, out_size, taps;
	int *first;             /* device [out_size] */
	float *weights;         /* device [out_size * taps] */
};

/* Where a picture's planes sit in the staging buffers and d_in / d_out: one after
 * another, rows tight, each plane PLANE_ALIGN-aligned. */
struct s_planes {
	int n;                  /* planes */
	int bytes;              /* per sample */
	int w[3], h[3];         /* plane sizes in samples */
	size_t off[3];          /* byte offset of each plane */
	size_t size;            /* bytes in all */
};

/* One network layer as run here. */
struct s_layer {
	int slot;               /* s_frame.tensors[] holding its output */
	int cs;                 /* channel stride of its output tensor */
	int owner;              /* the layer that computes its tensor: itself, or for a RELU
				 * fused into the CONV before it, that CONV (no kernel of its own) */
	int relu;               /* CONV: relu in the epilogue (its activation or a fused RELU) */
	int last_use;           /* owners: last layer reading the tensor (n_layers: the output) */
	void *kernel;           /* CONV, device: fp32 [kh][kw][cin][cout] as in the model,
				 * fp16 [kh * kw][cs_in][cs] zero-padded */
	float *bias;            /* CONV, device: [cs] floats, zero past cout */
};

/* One frame in flight's resources. */
struct s_frame {
	cudaStream_t stream;
	cudaEvent_t start;      /* timing: recorded before the upload */
	cudaEvent_t done;       /* recorded after the download of d_out */
	uint8_t *h_in, *h_out;  /* pinned staging, s_planes layout */
	uint8_t *d_in, *d_out;  /* device copies */
	float *d_rgb;           /* model: in_w x in_h x 3 */
	float *d_net;           /* model: net_w x net_h x 3 */
	float *d_tmp;           /* resize: out_w x net_h x 3; lanczos: out plane w x in plane h */
	float *d_big;           /* model with resize: out_w x out_h x 3 */
	void **tensors;         /* [n_slots] */
};

/* A queued frame. */
struct s_entry {
	uint64_t tag;
	struct vhs_picture out; /* the caller's output picture, written when finished */
	int frame;              /* frames[] index while on the device, -1 once finished */
	int end;                /* ends[] index of its timing event */
	int device;             /* out is in device memory (a GPU edge's buffer) */
};

/* Where a frame's output goes when it stays on the device (vhs_cuda_submit_device). */
struct s_devout {
	const struct vhs_picture *pic; /* device planes */
	cudaEvent_t wait, done;        /* wait before writing them, record after */
};

struct vhs_cuda_upscaler {
	const struct vhs_upscale_spec *spec;
	const struct vhs_nn_model *m;     /* spec->model, NULL for plain Lanczos */
	enum vhs_cuda_precision prec;
	int esize;                        /* bytes per tensor element: 4 or 2 */
	int in_flight;
	char err[256];                    /* last error, "" when none */

	struct s_planes pin, pout;        /* input and output picture layouts */
	struct s_color cin, cout;         /* colour constants (model) */
	struct s_table h, v;              /* model with resize: net -> out */
	struct s_table ph[3], pv[3];      /* lanczos: per plane */

	int n_layers;
	struct s_layer *layers;           /* [n_layers] */
	int n_slots;
	size_t *slot_unit;                /* [n_layers]: bytes per region pixel (stride^2 x cs x
					   * esize, the largest of the slot's layers) */
	int tile_w, tile_h;               /* planned tile, input pixels */
	int force_w, force_h;             /* forced by vhs_cuda_set_tile, 0 = planned */
	int region_w, region_h;           /* the largest tile + halo region slots hold */

	struct s_frame *frames;           /* [in_flight] */
	int next;                         /* frames[] index the next submit uses */
	int busy;                         /* frames on the device (the newest queue entries) */
	struct s_entry *q;                /* queue ring: [q_cap], oldest at q_head */
	int q_cap, q_head, q_len;
	uint8_t *reg;                     /* page-locked caller memory (vhs_cuda_register_input) */
	size_t reg_bytes;

	/* GPU time (vhs_cuda_gpu_ns): a timing event recorded at the end of each frame, from a
	 * ring of in_flight + 1 so that the previous frame's survives until this one finishes
	 * (frame k's is reused by frame k + in_flight + 1, which waits for k + 1 to finish). */
	cudaEvent_t *ends;                /* [in_flight + 1] */
	int next_end;                     /* ends[] index the next submit uses */
	int last_end;                     /* ends[] index of the last finished frame, -1: none */
	uint64_t gpu_ns;                  /* finished frames' time on the device, overlaps once */
};

/* ---- device helpers ------------------------------------------------------------------- */

static __device__ __forceinline__ float s_get(const float *p, size_t i) { return p[i]; }
static __device__ __forceinline__ float s_get(const __half *p, size_t i) { return __half2float(p[i]); }
static __device__ __forceinline__ void s_put(float *p, size_t i, float v) { p[i] = v; }
static __device__ __forceinline__ void s_put(__half *p, size_t i, float v) { p[i] = __float2half_rn(v); }

static __device__ __forceinline__ int s_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

static __device__ __forceinline__ float s_clamp01(float v)
{
	return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* a + b * c, rounded after the product and after the sum (no FMA), as the CPU does. */
static __device__ __forceinline__ float s_madd(float a, float b, float c)
{
	return __fadd_rn(a, __fmul_rn(b, c));
}

/* Sample i of a plane of 1- or 2-byte samples, as float (exact). */
static __device__ __forceinline__ float s_sample(const uint8_t *plane, int bytes, size_t i)
{
	return bytes == 1 ? (float)plane[i] : (float)((const uint16_t *)plane)[i];
}

/* Stores round half up of v clamped to [0, max_code] (color.c / resample.c s_store). */
static __device__ __forceinline__ void s_store_code(uint8_t *plane, int bytes, size_t i, float v,
					     float max_code)
{
	float c = __fadd_rn(v, 0.5f);

	c = c < 0.0f ? 0.0f : (c > max_code ? max_code : c);
	if (bytes == 1)
		plane[i] = (uint8_t)c;
	else
		((uint16_t *)plane)[i] = (uint16_t)c;
}

/* ---- cuda.cu: errors and small helpers ---- */

unsigned cu_blocks(size_t n);
int cu_ck(struct vhs_cuda_upscaler *u, cudaError_t e, const char *what);
int cu_dmalloc(struct vhs_cuda_upscaler *u, void **p, size_t bytes);
int cu_fail(struct vhs_cuda_upscaler *u, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cu_launched(struct vhs_cuda_upscaler *u, const char *kernel);
int cu_round16(int v);

/* ---- picture.cu ---- */

void cu_color_init(struct s_color *c, const struct vhs_color_xform *x);
int cu_enqueue_lanczos(struct vhs_cuda_upscaler *u, struct s_frame *f);
int cu_enqueue_model(struct vhs_cuda_upscaler *u, struct s_frame *f);
void cu_pack(const struct s_planes *pl, const struct vhs_picture *pic, uint8_t *dst);
void cu_planes_init(struct s_planes *pl, const struct vhs_pixfmt *f, int w, int h);
void cu_table_free(struct s_table *d);
int cu_tables_open(struct vhs_cuda_upscaler *u);
void cu_unpack(const struct s_planes *pl, const uint8_t *src, const struct vhs_picture *pic);

/* ---- network.cu ---- */

int cu_net(struct vhs_cuda_upscaler *u, struct s_frame *f);
int cu_net_open(struct vhs_cuda_upscaler *u);

#endif
