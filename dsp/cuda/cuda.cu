/* cuda.cu: the upscaler on an NVIDIA GPU (see cuda_upscaler.h): colour conversion, the network,
 * the final resize and plain Lanczos, as CUDA kernels.
 *
 * DESIGN
 * Data path of one frame, every step on the frame's own stream (struct s_frame):
 *
 *   caller's planes --memcpy--> h_in (pinned) --H2D--> d_in     planes packed, rows tight
 *   model:
 *     d_in  --k_to_rgb-->  d_rgb      in_w x in_h x 3 float, [0, range] (color.c)
 *     per tile: d_rgb window --k_input--> INPUT tensor --layers--> output tensor
 *               --k_output, the tile's own pixels only--> d_net   net_w x net_h x 3
 *     resize: d_net --k_resize_h--> d_tmp --k_resize_v--> d_big   out_w x out_h x 3
 *     d_big (d_net without resize) --k_luma, k_chroma--> d_out     (color.c)
 *   lanczos (no model): plane p of d_in --k_plane_h--> d_tmp --k_plane_v--> plane p of d_out
 *   d_out --D2H--> h_out (pinned), event `done`; collect: h_out --memcpy--> caller's planes
 *
 * Arithmetic. color.c, resample.c and net.c document their float formulas and evaluation
 * order, with no fused multiply-add; the kernels here follow them with __fmul_rn and
 * __fadd_rn (which nvcc never contracts), so colour, resize, Lanczos and the FP32 network
 * give the CPU's values bit for bit. FP16 differs by design (fp16 storage).
 *
 * Network. Layers run in the model's (topological) order, one or a few kernel launches
 * each. Tensors are NHWC: FP32 with `cs` = channels, FP16 with channels padded to `cs` =
 * a multiple of 16 whose padding is always zero (every kernel writes it), so a
 * convolution can read 16 channels at a time. FP32 convolution is direct (one thread per
 * output value, the CPU's summation order: bias, then taps (dy, dx, i) ascending). FP16
 * convolution is an implicit GEMM on the tensor cores (nvcuda::wmma 16x16x16, fp32
 * accumulation): M = pixels, N = output channels, K = taps x input channels. A block
 * computes 16 x 16 output pixels x 16*NF channels; per 16 input channels it stages the
 * input pixels the taps touch (halo included, zero outside the tensor) and the weights in
 * shared memory; the 16 pixels of a tile row are one A fragment for any tap, because
 * neighbouring pixels sit at a fixed stride in the staged window. Bias and relu are
 * applied in the epilogue (both precisions), the relu being the convolution's own or a
 * RELU layer that is its only reader, as in net.c. Weights are re-laid out on upload as
 * [tap][cs_in][cs_out] halves, zero-padded.
 *
 * Tensor memory. Planned once at open from the layer graph (s_plan_layers): walking the
 * layers, each output takes the best-fitting free buffer ("slot") and each input's slot
 * is freed after its last reader, so a frame holds only the slots, not every tensor.
 *
 * Tiles. A slot holds its largest layer for a region of region_w x region_h input pixels.
 * When the whole frame's tensors fit the budget (2 GiB per frame in flight, or less when
 * device memory is short) the frame is one tile; otherwise tiles of tile_w x tile_h input
 * pixels, each computed with model->halo pixels of real input around it (clipped at the
 * frame's edges, where the network pads with zeros as for the whole frame), of which only
 * the tile's own output is kept: results equal the whole frame's.
 *
 * Frames in flight. Each of in_flight frames has its stream, event, staging and device
 * buffers. A queued frame is first "on the device" (frame >= 0), then "finished" (its
 * output copied to the caller's planes) until collected. Frames finish in submission
 * order; submit finishes the oldest itself when all in_flight frames are on the device
 * (blocking), and collect finishes it when asked. The queue of entries grows as needed
 * (callers collect, so it stays short).
 *
 * Errors. Every CUDA call is checked and every launch followed by cudaGetLastError; a
 * failure becomes -EIO with "cudaXxx: message" in u->err. Host code is C-like C++: no
 * exceptions, no STL.
 */
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

/* ---- colour kernels (color.c FORMULAS) ------------------------------------------------ */

/* Chroma plane p (Cb or Cr) at luma pixel (x, y): bilinear between the nearest sites. */
static __device__ float s_chroma_at(const struct s_color &c, const uint8_t *p, int x, int y)
{
	float v = __fdiv_rn(__fsub_rn((float)y, c.cy_off), (float)c.sy);
	float u = __fdiv_rn(__fsub_rn((float)x, c.cx_off), (float)c.sx);
	int j0 = (int)__fadd_rn(v, 1.0f) - 1, i0 = (int)__fadd_rn(u, 1.0f) - 1;
	float g = __fsub_rn(v, (float)j0), f = __fsub_rn(u, (float)i0);
	int j1 = s_clampi(j0 + 1, 0, c.ch - 1), i1 = s_clampi(i0 + 1, 0, c.cw - 1);
	float a00, a01, a10, a11, a, b;

	j0 = s_clampi(j0, 0, c.ch - 1);
	i0 = s_clampi(i0, 0, c.cw - 1);
	a00 = s_sample(p, c.bytes, (size_t)j0 * c.cw + i0);
	a01 = s_sample(p, c.bytes, (size_t)j0 * c.cw + i1);
	a10 = s_sample(p, c.bytes, (size_t)j1 * c.cw + i0);
	a11 = s_sample(p, c.bytes, (size_t)j1 * c.cw + i1);
	a = s_madd(a00, g, __fsub_rn(a10, a00));   /* column i0, rows j0..j1 */
	b = s_madd(a01, g, __fsub_rn(a11, a01));   /* column i1 */
	return s_madd(a, f, __fsub_rn(b, a));
}

/* Picture planes -> HWC float RGB in [0, scale], one thread per luma pixel. */
static __global__ void k_to_rgb(struct s_color c, const uint8_t *p0, const uint8_t *p1,
			 const uint8_t *p2, float scale, float *rgb)
{
	FOR_EACH(i, (size_t)c.w * c.h) {
		int x = (int)(i % c.w), y = (int)(i / c.w);
		float r, g, b;

		if (c.rgb) {
			g = __fmul_rn(__fsub_rn(s_sample(p0, c.bytes, i), c.y_off), c.k.yk);
			b = __fmul_rn(__fsub_rn(s_sample(p1, c.bytes, i), c.y_off), c.k.yk);
			r = __fmul_rn(__fsub_rn(s_sample(p2, c.bytes, i), c.y_off), c.k.yk);
		} else if (c.gray) {
			r = g = b = __fmul_rn(__fsub_rn(s_sample(p0, c.bytes, i), c.y_off), c.k.yk);
		} else {
			float yy = __fmul_rn(__fsub_rn(s_sample(p0, c.bytes, i), c.y_off), c.k.yk);
			float cb = __fmul_rn(__fsub_rn(s_chroma_at(c, p1, x, y), c.c_off), c.k.ck);
			float cr = __fmul_rn(__fsub_rn(s_chroma_at(c, p2, x, y), c.c_off), c.k.ck);

			r = s_madd(yy, c.k.rv, cr);
			g = __fsub_rn(__fsub_rn(yy, __fmul_rn(c.k.gu, cb)), __fmul_rn(c.k.gv, cr));
			b = s_madd(yy, c.k.bu, cb);
		}
		rgb[i * 3 + 0] = __fmul_rn(s_clamp01(r), scale);
		rgb[i * 3 + 1] = __fmul_rn(s_clamp01(g), scale);
		rgb[i * 3 + 2] = __fmul_rn(s_clamp01(b), scale);
	}
}

/* Luma of clamped R, G, B: (kr R + kg G) + kb B. */
static __device__ __forceinline__ float s_luma(const struct s_color &c, float r, float g, float b)
{
	return s_madd(s_madd(__fmul_rn(c.k.kr, r), c.k.kg, g), c.k.kb, b);
}

/* HWC float RGB -> plane 0 (YUV, gray) or planes G, B, R (RGB), one thread per pixel. */
static __global__ void k_luma(struct s_color c, const float *rgb, float ik, uint8_t *p0, uint8_t *p1,
		       uint8_t *p2)
{
	FOR_EACH(i, (size_t)c.w * c.h) {
		float r = s_clamp01(__fmul_rn(rgb[i * 3 + 0], ik));
		float g = s_clamp01(__fmul_rn(rgb[i * 3 + 1], ik));
		float b = s_clamp01(__fmul_rn(rgb[i * 3 + 2], ik));

		if (c.rgb) {
			s_store_code(p0, c.bytes, i, s_madd(c.y_off, c.y_scale, g), c.max_code);
			s_store_code(p1, c.bytes, i, s_madd(c.y_off, c.y_scale, b), c.max_code);
			s_store_code(p2, c.bytes, i, s_madd(c.y_off, c.y_scale, r), c.max_code);
		} else {
			s_store_code(p0, c.bytes, i, s_madd(c.y_off, c.y_scale, s_luma(c, r, g, b)),
				     c.max_code);
		}
	}
}

/* Cb and Cr of a subsampled output: the triangle filter at each chroma site, horizontal
 * sums first, then the vertical sum of those, one thread per site. */
static __global__ void k_chroma(struct s_color c, const float *rgb, float ik, uint8_t *pb, uint8_t *pr)
{
	FOR_EACH(s, (size_t)c.cw * c.ch) {
		int i = (int)(s % c.cw), j = (int)(s / c.cw);
		float acc_b = 0.0f, acc_r = 0.0f;

		for (int l = 0; l < c.vs.n; l++) {
			int yy = s_clampi(j * c.sy + c.vs.k0 + l, 0, c.h - 1);
			float hb = 0.0f, hr = 0.0f;

			for (int t = 0; t < c.hs.n; t++) {
				int xx = s_clampi(i * c.sx + c.hs.k0 + t, 0, c.w - 1);
				const float *px = rgb + ((size_t)yy * c.w + xx) * 3;
				float r = s_clamp01(__fmul_rn(px[0], ik));
				float g = s_clamp01(__fmul_rn(px[1], ik));
				float b = s_clamp01(__fmul_rn(px[2], ik));
				float lum = s_luma(c, r, g, b);

				hb = s_madd(hb, c.hs.w[t], __fmul_rn(__fsub_rn(b, lum), c.k.cbk));
				hr = s_madd(hr, c.hs.w[t], __fmul_rn(__fsub_rn(r, lum), c.k.crk));
			}
			acc_b = s_madd(acc_b, c.vs.w[l], hb);
			acc_r = s_madd(acc_r, c.vs.w[l], hr);
		}
		s_store_code(pb, c.bytes, s, s_madd(c.c_off, c.c_scale, acc_b), c.max_code);
		s_store_code(pr, c.bytes, s, s_madd(c.c_off, c.c_scale, acc_r), c.max_code);
	}
}

/* ---- resampling kernels (resample.c) -------------------------------------------------- */

/* Horizontal pass of an HWC image: in iw x ih x ch -> out (t.out_size) x ih x ch. */
static __global__ void k_resize_h(const float *in, int ih, int ch, struct s_table t, float *out)
{
	FOR_EACH(i, (size_t)t.out_size * ih * ch) {
		int c = (int)(i % ch), j = (int)(i / ch % t.out_size);
		size_t y = i / ch / t.out_size;
		const float *row = in + y * t.in_size * ch + c;
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], row[(size_t)s_clampi(first, 0, last) * ch]);

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], row[(size_t)s_clampi(first + k, 0, last) * ch]);
		out[i] = acc;
	}
}

/* Vertical pass: in (row floats wide) x t.in_size rows -> t.out_size rows. */
static __global__ void k_resize_v(const float *in, size_t row, struct s_table t, float *out)
{
	FOR_EACH(i, row * t.out_size) {
		size_t col = i % row;
		int j = (int)(i / row);
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], in[(size_t)s_clampi(first, 0, last) * row + col]);

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], in[(size_t)s_clampi(first + k, 0, last) * row + col]);
		out[i] = acc;
	}
}

/* Horizontal pass of a plane of codes: in (t.in_size x ih samples) -> float tmp. */
static __global__ void k_plane_h(const uint8_t *in, int bytes, int ih, struct s_table t, float *out)
{
	FOR_EACH(i, (size_t)t.out_size * ih) {
		int j = (int)(i % t.out_size);
		size_t y = i / t.out_size, row = y * t.in_size;
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], s_sample(in, bytes, row + s_clampi(first, 0, last)));

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], s_sample(in, bytes, row + s_clampi(first + k, 0, last)));
		out[i] = acc;
	}
}

/* Vertical pass of a plane: float tmp (ow wide) -> codes, round half up, clamped. */
static __global__ void k_plane_v(const float *in, int ow, struct s_table t, uint8_t *out, int bytes,
			  float max_code)
{
	FOR_EACH(i, (size_t)ow * t.out_size) {
		int x = (int)(i % ow), j = (int)(i / ow);
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], in[(size_t)s_clampi(first, 0, last) * ow + x]);

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], in[(size_t)s_clampi(first + k, 0, last) * ow + x]);
		s_store_code(out, bytes, i, acc, max_code);
	}
}

/* ---- network kernels: data movement and elementwise layers ---------------------------- */

/* INPUT: the region (rx, ry) rw x rh of the frame's RGB into a tensor (padding zero). */
template <typename T>
static __global__ void k_input(const float *rgb, int frame_w, int rx, int ry, int rw, int rh, T *out,
			int cs)
{
	FOR_EACH(i, (size_t)rw * rh * cs) {
		int c = (int)(i % cs);
		size_t p = i / cs;
		int x = (int)(p % rw), y = (int)(p / rw);

		s_put(out, i, c < 3 ? rgb[((size_t)(ry + y) * frame_w + rx + x) * 3 + c] : 0.0f);
	}
}

/* The network's output tensor (tw wide), pixels (ox, oy) ow x oh, into the frame's d_net
 * at (nx, ny). */
template <typename T>
static __global__ void k_output(const T *t, int tw, int cs, int ox, int oy, int ow, int oh,
			 float *net, int net_w, int nx, int ny)
{
	FOR_EACH(i, (size_t)ow * oh * 3) {
		int c = (int)(i % 3);
		size_t p = i / 3;
		int x = (int)(p % ow), y = (int)(p / ow);

		net[((size_t)(ny + y) * net_w + nx + x) * 3 + c] =
			s_get(t, ((size_t)(oy + y) * tw + ox + x) * cs + c);
	}
}

/* RELU (x < 0 ? 0 : x) or MUL (x * beta) over n values. */
template <typename T>
static __global__ void k_unary(const T *in, T *out, size_t n, int mul, float beta)
{
	FOR_EACH(i, n) {
		float v = s_get(in, i);

		s_put(out, i, mul ? __fmul_rn(v, beta) : (v < 0.0f ? 0.0f : v));
	}
}

/* Up to MAX_ADD input pointers by value. */
template <typename T>
struct s_inputs {
	const T *p[MAX_ADD];
	int n;
};

/* ADD: out = ((in0 + in1) + in2) ..., left to right. */
template <typename T>
static __global__ void k_add(struct s_inputs<T> in, T *out, size_t n)
{
	FOR_EACH(i, n) {
		float acc = s_get(in.p[0], i);

#pragma unroll
		for (int k = 1; k < MAX_ADD; k++) /* constant indices keep p[] out of local memory */
			if (k < in.n)
				acc = __fadd_rn(acc, s_get(in.p[k], i));
		s_put(out, i, acc);
	}
}

/* CONCAT, one input: its ch channels to channels [at, at + ch) of out. */
template <typename T>
static __global__ void k_concat(const T *in, int cs_in, int ch, T *out, int cs_out, int at,
				size_t pixels)
{
	FOR_EACH(i, pixels * ch) {
		int c = (int)(i % ch);
		size_t p = i / ch;

		out[p * cs_out + at + c] = in[p * cs_in + c];
	}
}

/* Zeroes channels [ch, cs) of every pixel (FP16 padding after a CONCAT). */
template <typename T>
static __global__ void k_zero_pad(T *out, int ch, int cs, size_t pixels)
{
	FOR_EACH(i, pixels * (cs - ch)) {
		size_t p = i / (cs - ch);

		s_put(out, p * cs + ch + i % (cs - ch), 0.0f);
	}
}

/* UPSAMPLE by f (nearest): out[y][x] = in[y / f][x / f], every channel incl. padding. */
template <typename T>
static __global__ void k_upsample(const T *in, int iw, int cs, int f, T *out, int ow, int oh)
{
	FOR_EACH(i, (size_t)ow * oh * cs) {
		int c = (int)(i % cs);
		size_t p = i / cs;
		int x = (int)(p % ow), y = (int)(p / ow);

		out[i] = in[((size_t)(y / f) * iw + x / f) * cs + c];
	}
}

/* DEPTH_TO_SPACE by f: out[y][x][c] = in[y / f][x / f][((y % f) f + x % f) C + c]. */
template <typename T>
static __global__ void k_depth_to_space(const T *in, int iw, int cs_in, int f, T *out, int ow, int oh,
				 int ch, int cs)
{
	FOR_EACH(i, (size_t)ow * oh * cs) {
		int c = (int)(i % cs);
		size_t p = i / cs;
		int x = (int)(p % ow), y = (int)(p / ow);
		size_t src = ((size_t)(y / f) * iw + x / f) * cs_in + ((y % f) * f + x % f) * ch + c;

		s_put(out, i, c < ch ? s_get(in, src) : 0.0f);
	}
}

/* ---- network kernels: convolution ----------------------------------------------------- */

/* FP32 direct convolution, one thread per output value, net.c's order: acc = bias, then
 * acc + in * w for taps (dy, dx) and input channels ascending; taps outside the tensor are
 * skipped (net.c adds their zeros: the same sum). */
static __global__ void k_conv_f32(const float *__restrict__ in, int w, int h, int cin,
			   const float *__restrict__ wt, const float *__restrict__ bias,
			   float *__restrict__ out, int cout, int kh, int kw, int pad, int relu)
{
	FOR_EACH(i, (size_t)w * h * cout) {
		int o = (int)(i % cout);
		size_t p = i / cout;
		int x = (int)(p % w), y = (int)(p / w);
		float acc = bias[o];

		for (int dy = 0; dy < kh; dy++) {
			int yy = y + dy - pad;

			if (yy < 0 || yy >= h)
				continue;
			for (int dx = 0; dx < kw; dx++) {
				int xx = x + dx - pad;
				const float *src, *wk;

				if (xx < 0 || xx >= w)
					continue;
				src = in + ((size_t)yy * w + xx) * cin;
				wk = wt + (size_t)(dy * kw + dx) * cin * cout + o;
				for (int c = 0; c < cin; c++)
					acc = s_madd(acc, src[c], wk[(size_t)c * cout]);
			}
		}
		out[i] = relu && acc < 0.0f ? 0.0f : acc;
	}
}

/* Dynamic shared memory of k_conv_wmma<nf> for a kh x kw kernel, in bytes. */
static size_t s_wmma_smem(int kh, int kw, int nf)
{
	size_t a = (size_t)(WM_TH + kh - 1) * (WM_TW + kw - 1) * WM_KC * sizeof(__half);
	size_t b = (size_t)kh * kw * WM_KC * 16 * nf * sizeof(__half);
	size_t c = (size_t)WM_WARPS * 16 * 16 * sizeof(float);

	return a + b + c;
}

/* FP16 convolution on the tensor cores (see DESIGN). Grid: x over 16-pixel columns, y
 * over 16-pixel rows, z over blocks of 16*NF output channels. Shared memory:
 *   sa [WM_TH + kh - 1][WM_TW + kw - 1][16]  input window, channels c0..c0+15
 *   sb [kh * kw][16][16 * NF]                 weights of those channels
 *   sc [WM_WARPS][16][16]                     fp32 epilogue scratch
 * Warp k computes tile rows 2k and 2k + 1 (one A fragment each) x NF B fragments. */
template <int NF>
static __global__ void __launch_bounds__(WM_WARPS * 32)
k_conv_wmma(const __half *__restrict__ in, int w, int h, int cs_in,
	    const __half *__restrict__ wt, const float *__restrict__ bias,
	    __half *__restrict__ out, int cs_out, int cout, int kh, int kw, int pad, int relu)
{
	using namespace nvcuda;
	typedef wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> frag_a;
	typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> frag_b;
	extern __shared__ __align__(128) unsigned char smem[];
	const int bn = 16 * NF, aw = WM_TW + kw - 1, ah = WM_TH + kh - 1;
	__half *sa = (__half *)smem;
	__half *sb = sa + (size_t)ah * aw * WM_KC;
	float *sc = (float *)(sb + (size_t)kh * kw * WM_KC * bn);
	const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
	const int x0 = blockIdx.x * WM_TW, y0 = blockIdx.y * WM_TH, n0 = blockIdx.z * bn;
	wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][NF];

#pragma unroll
	for (int i = 0; i < 2; i++)
#pragma unroll
		for (int j = 0; j < NF; j++)
			wmma::fill_fragment(acc[i][j], 0.0f);

	for (int c0 = 0; c0 < cs_in; c0 += WM_KC) {
		__syncthreads(); /* the previous step's fragments are loaded */
		for (int i = threadIdx.x; i < ah * aw * 2; i += blockDim.x) {
			int px = i / 2, half8 = (i % 2) * 8;
			int gy = y0 - pad + px / aw, gx = x0 - pad + px % aw;
			uint4 v = make_uint4(0, 0, 0, 0);

			if (gy >= 0 && gy < h && gx >= 0 && gx < w)
				v = *(const uint4 *)(in + ((size_t)gy * w + gx) * cs_in + c0 + half8);
			*(uint4 *)(sa + (size_t)px * WM_KC + half8) = v;
		}
		for (int i = threadIdx.x; i < kh * kw * WM_KC * (bn / 8); i += blockDim.x) {
			int row = i / (bn / 8), col = (i % (bn / 8)) * 8; /* row = tap * 16 + k */
			int tap = row / WM_KC, k = row % WM_KC;
			size_t src = ((size_t)tap * cs_in + c0 + k) * cs_out + n0 + col;

			*(uint4 *)(sb + (size_t)row * bn + col) = *(const uint4 *)(wt + src);
		}
		__syncthreads();
		for (int dy = 0; dy < kh; dy++) {
			for (int dx = 0; dx < kw; dx++) {
				frag_b b[NF];
				const __half *sbt = sb + (size_t)(dy * kw + dx) * WM_KC * bn;

#pragma unroll
				for (int j = 0; j < NF; j++)
					wmma::load_matrix_sync(b[j], sbt + j * 16, bn);
#pragma unroll
				for (int i = 0; i < 2; i++) {
					const __half *at = sa + ((size_t)(warp * 2 + i + dy) * aw + dx) * WM_KC;
					frag_a a;

					wmma::load_matrix_sync(a, at, WM_KC); /* 16 pixels x 16 channels */
#pragma unroll
					for (int j = 0; j < NF; j++)
						wmma::mma_sync(acc[i][j], a, b[j], acc[i][j]);
				}
			}
		}
	}

	/* epilogue: through this warp's scratch, lane = pixel (lane / 2) x 8 channels */
	float *scr = sc + warp * 256;
	const int m = lane / 2, n = (lane % 2) * 8, x = x0 + m;
#pragma unroll
	for (int i = 0; i < 2; i++) {
#pragma unroll
		for (int j = 0; j < NF; j++) {
			int y = y0 + warp * 2 + i, ch = n0 + j * 16 + n;

			wmma::store_matrix_sync(scr, acc[i][j], 16, wmma::mem_row_major);
			__syncwarp();
			if (x < w && y < h) {
				__align__(16) __half v[8];

				for (int e = 0; e < 8; e++) {
					float f = __fadd_rn(scr[m * 16 + n + e], bias[ch + e]);

					if ((relu && f < 0.0f) || ch + e >= cout)
						f = 0.0f;
					v[e] = __float2half_rn(f);
				}
				size_t at = ((size_t)y * w + x) * cs_out + ch;

				*(uint4 *)(out + at) = *(const uint4 *)v;
			}
			__syncwarp();
		}
	}
}

/* ---- bench: the fp16 matrix-product ceiling ------------------------------------------- */

#define GM_BM 128     /* block tile: rows of C */
#define GM_BN 128     /* columns of C */
#define GM_BK 32      /* K per shared-memory step */
#define GM_PAD 16     /* halves of padding per shared row (keeps 32-byte fragment alignment) */

/* Deterministic pseudo-random halves in [-0.5, 0.5) (never zeros: METHOD.md). */
static __global__ void k_fill_random(__half *p, size_t n, uint32_t seed)
{
	FOR_EACH(i, n) {
		uint32_t x = (uint32_t)i * 2654435761u ^ seed;

		x ^= x >> 15;
		x *= 2246822519u;
		x ^= x >> 13;
		p[i] = __float2half_rn((float)(x & 0xffff) / 65536.0f - 0.5f);
	}
}

/* C (n x n float) = A x B (n x n halves, row-major), n a multiple of 128: a plain
 * shared-memory WMMA GEMM, 8 warps as 2 x 4, each 64 x 32 of C (4 x 2 fragments). */
static __global__ void __launch_bounds__(256) k_gemm(const __half *a, const __half *b, float *c, int n)
{
	using namespace nvcuda;
	__shared__ __align__(128) __half sa[GM_BM][GM_BK + GM_PAD];
	__shared__ __align__(128) __half sb[GM_BK][GM_BN + GM_PAD];
	const int warp = threadIdx.x / 32, wm = warp / 4, wn = warp % 4;
	const int m0 = blockIdx.y * GM_BM, n0 = blockIdx.x * GM_BN;
	wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];

#pragma unroll
	for (int i = 0; i < 4; i++)
#pragma unroll
		for (int j = 0; j < 2; j++)
			wmma::fill_fragment(acc[i][j], 0.0f);
	for (int k0 = 0; k0 < n; k0 += GM_BK) {
		for (int i = threadIdx.x; i < GM_BM * GM_BK / 8; i += blockDim.x) {
			int r = i / (GM_BK / 8), col = (i % (GM_BK / 8)) * 8;

			*(uint4 *)&sa[r][col] = *(const uint4 *)(a + (size_t)(m0 + r) * n + k0 + col);
		}
		for (int i = threadIdx.x; i < GM_BK * GM_BN / 8; i += blockDim.x) {
			int r = i / (GM_BN / 8), col = (i % (GM_BN / 8)) * 8;

			*(uint4 *)&sb[r][col] = *(const uint4 *)(b + (size_t)(k0 + r) * n + n0 + col);
		}
		__syncthreads();
#pragma unroll
		for (int kk = 0; kk < GM_BK; kk += 16) {
			wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[4];
			wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb[2];

#pragma unroll
			for (int i = 0; i < 4; i++)
				wmma::load_matrix_sync(fa[i], &sa[wm * 64 + i * 16][kk], GM_BK + GM_PAD);
#pragma unroll
			for (int j = 0; j < 2; j++)
				wmma::load_matrix_sync(fb[j], &sb[kk][wn * 32 + j * 16], GM_BN + GM_PAD);
#pragma unroll
			for (int i = 0; i < 4; i++)
#pragma unroll
				for (int j = 0; j < 2; j++)
					wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
		}
		__syncthreads();
	}
#pragma unroll
	for (int i = 0; i < 4; i++)
#pragma unroll
		for (int j = 0; j < 2; j++)
			wmma::store_matrix_sync(c + (size_t)(m0 + wm * 64 + i * 16) * n + n0 + wn * 32 +
							j * 16, acc[i][j], n, wmma::mem_row_major);
}

/* ---- host: errors and small helpers --------------------------------------------------- */

/* Sets u->err from a printf format and returns ret. */
__attribute__((format(printf, 3, 4)))
static int s_fail(struct vhs_cuda_upscaler *u, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
	return ret;
}

/* 0 when e is cudaSuccess, else -EIO with "what: CUDA's message". */
static int s_ck(struct vhs_cuda_upscaler *u, cudaError_t e, const char *what)
{
	if (e == cudaSuccess)
		return 0;
	return s_fail(u, -EIO, "%s: %s", what, cudaGetErrorString(e));
}

/* After a launch: its configuration error, if any. */
static int s_launched(struct vhs_cuda_upscaler *u, const char *kernel)
{
	cudaError_t e = cudaGetLastError();

	if (e == cudaSuccess)
		return 0;
	return s_fail(u, -EIO, "cudaLaunchKernel(%s): %s", kernel, cudaGetErrorString(e));
}

static unsigned s_blocks(size_t n)
{
	size_t b = (n + THREADS - 1) / THREADS;

	return (unsigned)(b < 1 ? 1 : (b > MAX_BLOCKS ? MAX_BLOCKS : b));
}

static int s_round16(int v)
{
	return (v + 15) / 16 * 16;
}

/* cudaMalloc; device memory exhausted is -ENOMEM, other failures -EIO. */
static int s_dmalloc(struct vhs_cuda_upscaler *u, void **p, size_t bytes)
{
	cudaError_t e;

	*p = NULL;
	e = cudaMalloc(p, bytes ? bytes : 1);
	if (e == cudaErrorMemoryAllocation) {
		cudaGetLastError(); /* not sticky: clear it */
		return s_fail(u, -ENOMEM, "cudaMalloc(%zu MiB): %s", bytes >> 20, cudaGetErrorString(e));
	}
	return s_ck(u, e, "cudaMalloc");
}

/* ---- host: picture layout, colour constants, tables ----------------------------------- */

static void s_planes_init(struct s_planes *pl, const struct vhs_pixfmt *f, int w, int h)
{
	size_t at = 0;

	memset(pl, 0, sizeof(*pl));
	pl->n = f->planes;
	pl->bytes = f->bytes;
	for (int p = 0; p < pl->n; p++) {
		pl->w[p] = vhs_pixfmt_plane_width(f, p, w);
		pl->h[p] = vhs_pixfmt_plane_height(f, p, h);
		pl->off[p] = at;
		at += (size_t)pl->w[p] * pl->h[p] * pl->bytes;
		at = (at + PLANE_ALIGN - 1) / PLANE_ALIGN * PLANE_ALIGN;
	}
	pl->size = at;
}

/* Caller's picture -> staging (rows tight). */
static void s_pack(const struct s_planes *pl, const struct vhs_picture *pic, uint8_t *dst)
{
	for (int p = 0; p < pl->n; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		if ((size_t)pic->linesize[p] == row) {
			memcpy(dst + pl->off[p], pic->data[p], row * pl->h[p]);
			continue;
		}
		for (int y = 0; y < pl->h[p]; y++)
			memcpy(dst + pl->off[p] + row * y, pic->data[p] + (size_t)pic->linesize[p] * y,
			       row);
	}
}

/* Staging -> caller's picture. */
static void s_unpack(const struct s_planes *pl, const uint8_t *src, const struct vhs_picture *pic)
{
	for (int p = 0; p < pl->n; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		if ((size_t)pic->linesize[p] == row) {
			memcpy(pic->data[p], src + pl->off[p], row * pl->h[p]);
			continue;
		}
		for (int y = 0; y < pl->h[p]; y++)
			memcpy(pic->data[p] + (size_t)pic->linesize[p] * y, src + pl->off[p] + row * y,
			       row);
	}
}


/* struct vhs_color_xform -> struct s_color, derived constants as color.c's s_coef_init. */
static void s_color_init(struct s_color *c, const struct vhs_color_xform *x)
{
	memset(c, 0, sizeof(*c));
	c->w = x->width;
	c->h = x->height;
	c->rgb = x->rgb;
	c->gray = x->gray;
	c->bytes = x->fmt->bytes;
	c->sx = x->sx;
	c->sy = x->sy;
	c->cw = x->rgb || x->gray ? c->w : vhs_pixfmt_plane_width(x->fmt, 1, c->w);
	c->ch = x->rgb || x->gray ? c->h : vhs_pixfmt_plane_height(x->fmt, 1, c->h);
	c->cx_off = x->cx_off;
	c->cy_off = x->cy_off;
	c->y_off = x->y_off;
	c->y_scale = x->y_scale;
	c->c_off = x->c_off;
	c->c_scale = x->c_scale;
	c->max_code = x->max_code;
	vhs_color_coef_init(&c->k, x);
	vhs_chroma_site_init(&c->hs, x->sx, x->cx_off);
	vhs_chroma_site_init(&c->vs, x->sy, x->cy_off);
}

extern "C" int vhs_cuda_color_constants(const struct vhs_color_xform *x, struct vhs_color_coef *k,
					struct vhs_chroma_site *h, struct vhs_chroma_site *v)
{
	struct s_color c;

	s_color_init(&c, x);
	*k = c.k;
	*h = c.hs;
	*v = c.vs;
	return 0;
}

/* Uploads a resample table, after checking it is the n -> m one expected. */
static int s_table_upload(struct vhs_cuda_upscaler *u, struct s_table *d,
			  const struct vhs_resample_table *t, int n, int m)
{
	int ret;

	if (t->in_size != n || t->out_size != m || t->taps < 1 || !t->first || !t->weights) {
		snprintf(u->err, sizeof(u->err), "resample table is %d -> %d, the spec needs %d -> %d",
			 t->in_size, t->out_size, n, m);
		return -EINVAL;
	}
	d->in_size = n;
	d->out_size = m;
	d->taps = t->taps;
	ret = s_dmalloc(u, (void **)&d->first, (size_t)m * sizeof(int));
	if (!ret)
		ret = s_dmalloc(u, (void **)&d->weights, (size_t)m * t->taps * sizeof(float));
	if (!ret)
		ret = s_ck(u, cudaMemcpy(d->first, t->first, (size_t)m * sizeof(int),
					 cudaMemcpyHostToDevice), "cudaMemcpy");
	if (!ret)
		ret = s_ck(u, cudaMemcpy(d->weights, t->weights, (size_t)m * t->taps * sizeof(float),
					 cudaMemcpyHostToDevice), "cudaMemcpy");
	return ret;
}

static void s_table_free(struct s_table *d)
{
	cudaFree(d->first);
	cudaFree(d->weights);
	d->first = NULL;
	d->weights = NULL;
}

static int s_tables_open(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	int ret = 0;

	if (u->m) {
		if (!s->resize)
			return 0;
		ret = s_table_upload(u, &u->h, &s->h, s->net_w, s->out_w);
		return ret ? ret : s_table_upload(u, &u->v, &s->v, s->net_h, s->out_h);
	}
	for (int p = 0; p < u->pin.n && !ret; p++) {
		ret = s_table_upload(u, &u->ph[p], &s->plane_h[p], u->pin.w[p], u->pout.w[p]);
		if (!ret)
			ret = s_table_upload(u, &u->pv[p], &s->plane_v[p], u->pin.h[p], u->pout.h[p]);
	}
	return ret;
}

/* ---- host: the network plan ----------------------------------------------------------- */

/* One layer against model.h's rules this backend relies on; 0 or -EINVAL. */
static int s_check_layer(struct vhs_cuda_upscaler *u, int i)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i], *in0 = NULL;
	int ok = ly->n_inputs >= 0 && ly->channels >= 1 && ly->stride >= 1, sum = 0;

	for (int k = 0; ok && k < ly->n_inputs; k++) {
		ok = ly->inputs[k] >= 0 && ly->inputs[k] < i;   /* earlier layers only */
		if (ok)
			sum += u->m->layers[ly->inputs[k]].channels;
	}
	if (ok && ly->n_inputs > 0)
		in0 = &u->m->layers[ly->inputs[0]];
	switch (ok ? ly->op : -1) {
	case VHS_NN_INPUT:
		ok &= ly->n_inputs == 0 && ly->channels == 3 && ly->stride == 1;
		break;
	case VHS_NN_CONV:
		ok &= ly->n_inputs == 1 && in0->channels == ly->cin && ly->cout == ly->channels &&
		      ly->kernel && ly->kh >= 1 && ly->kw >= 1 && ly->pad >= 0 &&
		      ly->stride == in0->stride;
		break;
	case VHS_NN_RELU:
	case VHS_NN_MUL:
		ok &= ly->n_inputs == 1 && in0->channels == ly->channels && in0->stride == ly->stride;
		break;
	case VHS_NN_ADD:
		ok &= ly->n_inputs >= 1;
		for (int k = 0; ok && k < ly->n_inputs; k++)
			ok &= u->m->layers[ly->inputs[k]].channels == ly->channels &&
			      u->m->layers[ly->inputs[k]].stride == ly->stride;
		break;
	case VHS_NN_CONCAT:
		ok &= ly->n_inputs >= 1 && sum == ly->channels;
		for (int k = 0; ok && k < ly->n_inputs; k++)
			ok &= u->m->layers[ly->inputs[k]].stride == ly->stride;
		break;
	case VHS_NN_UPSAMPLE:
		ok &= ly->n_inputs == 1 && ly->factor >= 1 && in0->channels == ly->channels &&
		      ly->stride == in0->stride * ly->factor;
		break;
	case VHS_NN_DEPTH_TO_SPACE:
		ok &= ly->n_inputs == 1 && ly->factor >= 1 &&
		      in0->channels == ly->channels * ly->factor * ly->factor &&
		      ly->stride == in0->stride * ly->factor;
		break;
	default:
		ok = 0;
	}
	if (ok)
		return 0;
	return s_fail(u, -EINVAL, "model %s: layer %s: not a layer this backend can run",
		      u->m->name, ly->name);
}

/* Layer i's slot: its owner's, or the smallest free slot that fits, else the first free
 * one grown, else a new one; then frees the slots whose tensors i read last. */
static void s_plan_slot(struct vhs_cuda_upscaler *u, int i, int *is_free)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	size_t need = (size_t)ly->stride * ly->stride * u->layers[i].cs * u->esize;
	int best = -1;

	if (u->layers[i].owner != i) {
		u->layers[i].slot = u->layers[u->layers[i].owner].slot;
		return;   /* its reader frees it */
	}
	for (int s = 0; s < u->n_slots; s++)
		if (is_free[s] && u->slot_unit[s] >= need &&
		    (best < 0 || u->slot_unit[s] < u->slot_unit[best]))
			best = s;
	for (int s = 0; best < 0 && s < u->n_slots; s++)
		if (is_free[s])
			best = s;
	if (best < 0)
		best = u->n_slots++;
	if (u->slot_unit[best] < need)
		u->slot_unit[best] = need;
	is_free[best] = 0;
	u->layers[i].slot = best;
	for (int k = 0; k < ly->n_inputs; k++) {
		const struct s_layer *o = &u->layers[u->layers[ly->inputs[k]].owner];

		if (o->last_use == i)
			is_free[o->slot] = 1;
	}
	if (u->layers[i].last_use == i)
		is_free[best] = 1;   /* read by nobody */
}

/* Channel strides, owners, last uses, and slots (see DESIGN: Tensor memory). */
static int s_plan_layers(struct vhs_cuda_upscaler *u)
{
	const struct vhs_nn_model *m = u->m;
	int n = m->n_layers, *is_free;

	u->layers = (struct s_layer *)calloc((size_t)n, sizeof(*u->layers));
	u->slot_unit = (size_t *)calloc((size_t)n, sizeof(size_t));
	is_free = (int *)calloc((size_t)n, sizeof(int));
	if (!u->layers || !u->slot_unit || !is_free) {
		free(is_free);
		return s_fail(u, -ENOMEM, "out of memory");
	}
	u->n_layers = n;
	for (int i = 0; i < n; i++) { /* the graph is the model's (vhs_nn_model_plan) */
		const struct vhs_nn_layer *ly = &m->layers[i];

		u->layers[i].cs = u->prec == VHS_CUDA_FP16 ? s_round16(ly->channels) : ly->channels;
		u->layers[i].owner = ly->owner;
		u->layers[i].relu = ly->epilogue_relu;
		u->layers[i].last_use = ly->last_use;
	}
	for (int i = 0; i < n; i++)
		s_plan_slot(u, i, is_free);
	free(is_free);
	return 0;
}

/* Re-lays a CONV's kernel out for FP16: [kh * kw][cs_in][cs_out] halves, zero-padded. */
static __half *s_kernel_f16(const struct vhs_nn_layer *ly, int cs_in, int cs_out)
{
	size_t taps = (size_t)ly->kh * ly->kw;
	__half *k = (__half *)calloc(taps * cs_in * cs_out, sizeof(__half)); /* 0 is +0.0 */

	if (!k)
		return NULL;
	for (size_t t = 0; t < taps; t++)
		for (int i = 0; i < ly->cin; i++)
			for (int o = 0; o < ly->cout; o++)
				k[(t * cs_in + i) * cs_out + o] =
					__float2half_rn(ly->kernel[(t * ly->cin + i) * ly->cout + o]);
	return k;
}

/* Uploads one CONV's kernel and bias. */
static int s_upload_conv(struct vhs_cuda_upscaler *u, int i)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	struct s_layer *l = &u->layers[i];
	int cs_in = u->layers[ly->inputs[0]].cs;
	size_t nk = (size_t)ly->kh * ly->kw * (u->prec == VHS_CUDA_FP16 ? (size_t)cs_in * l->cs
									 : (size_t)ly->cin * ly->cout);
	float *bias = (float *)calloc((size_t)l->cs, sizeof(float));
	__half *k16 = NULL;
	const void *k = ly->kernel;
	int ret;

	if (ly->bias && bias)
		memcpy(bias, ly->bias, (size_t)ly->cout * sizeof(float));
	if (u->prec == VHS_CUDA_FP16)
		k = k16 = s_kernel_f16(ly, cs_in, l->cs);
	if (!bias || !k) {
		ret = s_fail(u, -ENOMEM, "out of memory");
		goto out_free;
	}
	ret = s_dmalloc(u, &l->kernel, nk * u->esize);
	if (!ret)
		ret = s_dmalloc(u, (void **)&l->bias, (size_t)l->cs * sizeof(float));
	if (!ret)
		ret = s_ck(u, cudaMemcpy(l->kernel, k, nk * u->esize, cudaMemcpyHostToDevice),
			   "cudaMemcpy");
	if (!ret)
		ret = s_ck(u, cudaMemcpy(l->bias, bias, (size_t)l->cs * sizeof(float),
					 cudaMemcpyHostToDevice), "cudaMemcpy");
out_free:
	free(k16);
	free(bias);
	return ret;
}

/* The FP16 convolutions' launch parameters: B fragments per block, shared memory. */
static int s_wmma_nf(int cs_out)
{
	int nfr = cs_out / 16;

	return nfr % 4 == 0 ? 4 : (nfr % 3 == 0 ? 3 : (nfr % 2 == 0 ? 2 : 1));
}

/* Raises the dynamic shared memory limit of the FP16 convolutions to what the model's
 * largest needs, or refuses the model. */
static int s_wmma_setup(struct vhs_cuda_upscaler *u)
{
	static const void *const kernels[4] = {
		(const void *)k_conv_wmma<1>, (const void *)k_conv_wmma<2>,
		(const void *)k_conv_wmma<3>, (const void *)k_conv_wmma<4>,
	};
	const cudaFuncAttribute smem_attr = cudaFuncAttributeMaxDynamicSharedMemorySize;
	int dev, optin = 0, ret;
	size_t need = 0;

	for (int i = 0; i < u->n_layers; i++) {
		const struct vhs_nn_layer *ly = &u->m->layers[i];
		size_t s;

		if (ly->op != VHS_NN_CONV)
			continue;
		s = s_wmma_smem(ly->kh, ly->kw, s_wmma_nf(u->layers[i].cs));
		need = s > need ? s : need;
	}
	ret = s_ck(u, cudaGetDevice(&dev), "cudaGetDevice");
	if (!ret)
		ret = s_ck(u, cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
						     dev), "cudaDeviceGetAttribute");
	if (ret)
		return ret;
	if (need > (size_t)optin) {
		return s_fail(u, -EINVAL, "model %s: a kernel too large for FP16 convolution (%zu "
			      "bytes of shared memory, the device has %d); use FP32", u->m->name, need,
			      optin);
	}
	for (int nf = 0; nf < 4 && !ret; nf++)
		ret = s_ck(u, cudaFuncSetAttribute(kernels[nf], smem_attr, (int)need),
			   "cudaFuncSetAttribute");
	return ret;
}

static int s_net_open(struct vhs_cuda_upscaler *u)
{
	const struct vhs_nn_model *m = u->m;
	const struct vhs_upscale_spec *s = u->spec;
	int ret;

	if (m->n_layers < 1 || m->output < 0 || m->output >= m->n_layers || m->halo < 0 ||
	    m->layers[m->output].channels != 3 || m->layers[m->output].stride != m->scale ||
	    s->net_w != s->in_w * m->scale || s->net_h != s->in_h * m->scale)
		return s_fail(u, -EINVAL, "model %s: output is not 3 channels at the spec's net size",
			      m->name);
	for (int i = 0; i < m->n_layers; i++) {
		ret = s_check_layer(u, i);
		if (ret)
			return ret;
	}
	ret = s_plan_layers(u);
	for (int i = 0; !ret && i < m->n_layers; i++)
		if (m->layers[i].op == VHS_NN_CONV)
			ret = s_upload_conv(u, i);
	if (!ret && u->prec == VHS_CUDA_FP16)
		ret = s_wmma_setup(u);
	return ret;
}

/* ---- host: tiles and per-frame memory ------------------------------------------------- */

/* Device bytes of one frame other than the tensors. */
static size_t s_frame_fixed(const struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	size_t b = u->pin.size + u->pout.size, tmp = 0;

	if (!u->m) {
		for (int p = 0; p < u->pin.n; p++) {
			size_t t = (size_t)u->pout.w[p] * u->pin.h[p];

			tmp = t > tmp ? t : tmp;
		}
		return b + tmp * sizeof(float);
	}
	b += (size_t)s->in_w * s->in_h * 3 * sizeof(float);
	b += (size_t)s->net_w * s->net_h * 3 * sizeof(float);
	if (s->resize) {
		b += (size_t)s->out_w * s->net_h * 3 * sizeof(float);
		b += (size_t)s->out_w * s->out_h * 3 * sizeof(float);
	}
	return b;
}

/* The region (tile + halo each side, clipped to the frame) of a tile side t of n. */
static int s_region(int t, int n, int halo)
{
	return t >= n || t + 2 * halo >= n ? n : t + 2 * halo;
}

/* Tile size: the whole frame if its tensors fit the per-frame budget, else the largest
 * tiles that do: as wide as fits a square, then as tall as the width leaves (see DESIGN:
 * Tiles). */
static int s_plan_tiles(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	size_t unit = 0, free_b = 0, total_b = 0, budget, pixels;
	int halo = u->m->halo, t, ret;

	for (int i = 0; i < u->n_slots; i++)
		unit += u->slot_unit[i];
	ret = s_ck(u, cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
	if (ret)
		return ret;
	budget = free_b / 10 * 9 / u->in_flight;
	budget = budget < FRAME_BUDGET ? budget : FRAME_BUDGET;
	pixels = budget > s_frame_fixed(u) ? (budget - s_frame_fixed(u)) / unit : 0;
	u->tile_w = s->in_w;
	u->tile_h = s->in_h;
	if ((size_t)s->in_w * s->in_h > pixels) {
		t = (int)sqrt((double)pixels) - 2 * halo;
		u->tile_w = t < s->in_w ? t : s->in_w;
		t = (int)(pixels / (size_t)s_region(u->tile_w, s->in_w, halo)) - 2 * halo;
		u->tile_h = t < s->in_h ? t : s->in_h;
	}
	if (u->tile_w < MIN_TILE && u->tile_w < s->in_w)
		u->tile_w = -1;
	if (u->tile_h < MIN_TILE && u->tile_h < s->in_h)
		u->tile_h = -1;
	if (u->tile_w < 1 || u->tile_h < 1)
		return s_fail(u, -ENOMEM, "not enough device memory for tiles of the network: %zu MiB "
			      "free for %d frames in flight", free_b >> 20, u->in_flight);
	u->region_w = s_region(u->tile_w, s->in_w, halo);
	u->region_h = s_region(u->tile_h, s->in_h, halo);
	return 0;
}

static int s_frame_open(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	const struct vhs_upscale_spec *s = u->spec;
	size_t tmp = s_frame_fixed(u) - u->pin.size - u->pout.size;
	int ret;

	ret = s_ck(u, cudaStreamCreateWithFlags(&f->stream, cudaStreamNonBlocking), "cudaStreamCreate");
	if (!ret)
		ret = s_ck(u, cudaEventCreate(&f->start), "cudaEventCreate");
	if (!ret)
		ret = s_ck(u, cudaEventCreateWithFlags(&f->done, cudaEventDisableTiming |
						       cudaEventBlockingSync), "cudaEventCreate");
	if (!ret)
		ret = s_ck(u, cudaHostAlloc((void **)&f->h_in, u->pin.size, cudaHostAllocDefault),
			   "cudaHostAlloc");
	if (!ret)
		ret = s_ck(u, cudaHostAlloc((void **)&f->h_out, u->pout.size, cudaHostAllocDefault),
			   "cudaHostAlloc");
	if (!ret)
		ret = s_dmalloc(u, (void **)&f->d_in, u->pin.size);
	if (!ret)
		ret = s_dmalloc(u, (void **)&f->d_out, u->pout.size);
	if (ret || !u->m)
		return ret ? ret : s_dmalloc(u, (void **)&f->d_tmp, tmp);
	ret = s_dmalloc(u, (void **)&f->d_rgb, (size_t)s->in_w * s->in_h * 3 * sizeof(float));
	if (!ret)
		ret = s_dmalloc(u, (void **)&f->d_net, (size_t)s->net_w * s->net_h * 3 * sizeof(float));
	if (!ret && s->resize)
		ret = s_dmalloc(u, (void **)&f->d_tmp, (size_t)s->out_w * s->net_h * 3 * sizeof(float));
	if (!ret && s->resize)
		ret = s_dmalloc(u, (void **)&f->d_big, (size_t)s->out_w * s->out_h * 3 * sizeof(float));
	f->tensors = (void **)calloc((size_t)u->n_slots, sizeof(void *));
	if (!ret && !f->tensors)
		ret = s_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; !ret && i < u->n_slots; i++)
		ret = s_dmalloc(u, &f->tensors[i], u->slot_unit[i] * u->region_w * u->region_h);
	return ret;
}

static void s_frame_close(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	if (f->stream)
		cudaStreamSynchronize(f->stream);
	for (int i = 0; f->tensors && i < u->n_slots; i++)
		cudaFree(f->tensors[i]);
	free(f->tensors);
	cudaFree(f->d_big);
	cudaFree(f->d_tmp);
	cudaFree(f->d_net);
	cudaFree(f->d_rgb);
	cudaFree(f->d_out);
	cudaFree(f->d_in);
	cudaFreeHost(f->h_out);
	cudaFreeHost(f->h_in);
	if (f->done)
		cudaEventDestroy(f->done);
	if (f->start)
		cudaEventDestroy(f->start);
	if (f->stream)
		cudaStreamDestroy(f->stream);
	memset(f, 0, sizeof(*f));
}

/* ---- host: running the network on one tile -------------------------------------------- */

/* A tile: the region of input pixels the network runs on, and its own pixels within. */
struct s_tile {
	int rx, ry, rw, rh;     /* region (tile + halo, clipped to the frame) */
	int ox, oy, ow, oh;     /* the tile's own pixels, frame coordinates */
};

/* One CONV layer of the tile (w x h at its resolution), FP32. */
static int s_conv_f32(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, int w, int h)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];

	k_conv_f32<<<s_blocks((size_t)w * h * ly->cout), THREADS, 0, f->stream>>>(
		(const float *)f->tensors[u->layers[ly->inputs[0]].slot], w, h, ly->cin,
		(const float *)l->kernel, l->bias, (float *)f->tensors[l->slot], ly->cout, ly->kh,
		ly->kw, ly->pad, l->relu);
	return s_launched(u, "k_conv_f32");
}

/* The same, FP16 on the tensor cores. */
static int s_conv_f16(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, int w, int h)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];
	const __half *in = (const __half *)f->tensors[u->layers[ly->inputs[0]].slot];
	int nf = s_wmma_nf(l->cs), cs_in = u->layers[ly->inputs[0]].cs;
	dim3 grid((w + WM_TW - 1) / WM_TW, (h + WM_TH - 1) / WM_TH, l->cs / (16 * nf));
	size_t smem = s_wmma_smem(ly->kh, ly->kw, nf);
	__half *out = (__half *)f->tensors[l->slot];
	const __half *wt = (const __half *)l->kernel;

	switch (nf) {
	case 4:
		k_conv_wmma<4><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	case 3:
		k_conv_wmma<3><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	case 2:
		k_conv_wmma<2><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	default:
		k_conv_wmma<1><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	}
	return s_launched(u, "k_conv_wmma");
}

/* ADD: sums MAX_ADD inputs per launch, the running sum first in the next. */
template <typename T>
static int s_add(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, size_t n)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	T *out = (T *)f->tensors[u->layers[i].slot];
	int k = 0, ret = 0;

	while (k < ly->n_inputs && !ret) {
		struct s_inputs<T> in;

		in.n = 0;
		if (k > 0)
			in.p[in.n++] = out;
		while (in.n < MAX_ADD && k < ly->n_inputs)
			in.p[in.n++] = (const T *)f->tensors[u->layers[ly->inputs[k++]].slot];
		k_add<T><<<s_blocks(n), THREADS, 0, f->stream>>>(in, out, n);
		ret = s_launched(u, "k_add");
	}
	return ret;
}

/* CONCAT: each input into its channels, then the padding zeroed. */
template <typename T>
static int s_concat(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, size_t pixels)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];
	int at = 0, ret = 0;

	for (int k = 0; k < ly->n_inputs && !ret; k++) {
		int src = ly->inputs[k], ch = u->m->layers[src].channels;

		k_concat<T><<<s_blocks(pixels * ch), THREADS, 0, f->stream>>>(
			(const T *)f->tensors[u->layers[src].slot], u->layers[src].cs, ch,
			(T *)f->tensors[l->slot], l->cs, at, pixels);
		ret = s_launched(u, "k_concat");
		at += ch;
	}
	if (!ret && l->cs > ly->channels) {
		k_zero_pad<T><<<s_blocks(pixels * (l->cs - ly->channels)), THREADS, 0, f->stream>>>(
			(T *)f->tensors[l->slot], ly->channels, l->cs, pixels);
		ret = s_launched(u, "k_zero_pad");
	}
	return ret;
}

/* Layer i of a tile whose region is rw x rh input pixels. */
template <typename T>
static int s_layer(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct s_tile *t, int i)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];
	int w = t->rw * ly->stride, h = t->rh * ly->stride;
	size_t n = (size_t)w * h * l->cs;
	T *out = (T *)f->tensors[l->slot];
	const T *in = ly->n_inputs ? (const T *)f->tensors[u->layers[ly->inputs[0]].slot] : NULL;
	int fa = ly->factor, iw = fa > 0 ? w / fa : 0;  /* UPSAMPLE, DEPTH_TO_SPACE: input width */

	if (l->owner != i)
		return 0;   /* a relu done by its convolution */
	switch (ly->op) {
	case VHS_NN_INPUT:
		k_input<T><<<s_blocks(n), THREADS, 0, f->stream>>>(f->d_rgb, u->spec->in_w, t->rx, t->ry,
								   t->rw, t->rh, out, l->cs);
		return s_launched(u, "k_input");
	case VHS_NN_CONV:
		if (sizeof(T) == sizeof(float))
			return s_conv_f32(u, f, i, w, h);
		return s_conv_f16(u, f, i, w, h);
	case VHS_NN_RELU:
	case VHS_NN_MUL:
		k_unary<T><<<s_blocks(n), THREADS, 0, f->stream>>>(in, out, n, ly->op == VHS_NN_MUL,
								   ly->beta);
		return s_launched(u, "k_unary");
	case VHS_NN_ADD:
		return s_add<T>(u, f, i, n);
	case VHS_NN_CONCAT:
		return s_concat<T>(u, f, i, (size_t)w * h);
	case VHS_NN_UPSAMPLE:
		k_upsample<T><<<s_blocks(n), THREADS, 0, f->stream>>>(in, iw, l->cs, fa, out, w, h);
		return s_launched(u, "k_upsample");
	case VHS_NN_DEPTH_TO_SPACE:
		k_depth_to_space<T><<<s_blocks(n), THREADS, 0, f->stream>>>(
			in, iw, u->layers[ly->inputs[0]].cs, fa, out, w, h, ly->channels, l->cs);
		return s_launched(u, "k_depth_to_space");
	}
	return s_fail(u, -EINVAL, "layer %s: unknown op", ly->name);
}

/* Every layer of a tile, then its own pixels of the output into d_net. */
template <typename T>
static int s_tile(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct s_tile *t)
{
	const struct s_layer *lo = &u->layers[u->m->output];
	int s = u->m->scale, ret = 0;

	for (int i = 0; i < u->n_layers && !ret; i++)
		ret = s_layer<T>(u, f, t, i);
	if (ret)
		return ret;
	k_output<T><<<s_blocks((size_t)t->ow * s * t->oh * s * 3), THREADS, 0, f->stream>>>(
		(const T *)f->tensors[lo->slot], t->rw * s, lo->cs, (t->ox - t->rx) * s,
		(t->oy - t->ry) * s, t->ow * s, t->oh * s, f->d_net, u->spec->net_w, t->ox * s,
		t->oy * s);
	return s_launched(u, "k_output");
}

/* The network over the frame: d_rgb -> d_net, tile by tile. */
static int s_net(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	const struct vhs_upscale_spec *s = u->spec;
	int tw = u->force_w > 0 && u->force_w < u->tile_w ? u->force_w : u->tile_w;
	int th = u->force_h > 0 && u->force_h < u->tile_h ? u->force_h : u->tile_h;
	int halo = u->m->halo, ret = 0;

	for (int y = 0; y < s->in_h && !ret; y += th) {
		for (int x = 0; x < s->in_w && !ret; x += tw) {
			struct s_tile t;

			t.ox = x;
			t.oy = y;
			t.ow = x + tw < s->in_w ? tw : s->in_w - x;
			t.oh = y + th < s->in_h ? th : s->in_h - y;
			t.rx = x - halo > 0 ? x - halo : 0;
			t.ry = y - halo > 0 ? y - halo : 0;
			t.rw = (x + t.ow + halo < s->in_w ? x + t.ow + halo : s->in_w) - t.rx;
			t.rh = (y + t.oh + halo < s->in_h ? y + t.oh + halo : s->in_h) - t.ry;
			if (u->prec == VHS_CUDA_FP16)
				ret = s_tile<__half>(u, f, &t);
			else
				ret = s_tile<float>(u, f, &t);
		}
	}
	return ret;
}

/* ---- host: one frame's work on its stream --------------------------------------------- */

/* Picture -> d_rgb -> network -> (resize) -> output planes, all enqueued. */
static int s_enqueue_model(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	const struct vhs_upscale_spec *s = u->spec;
	const uint8_t *in = f->d_in;
	uint8_t *out = f->d_out;
	const float *rgb = f->d_net;
	float range = u->m->range;
	int ret;

	k_to_rgb<<<s_blocks((size_t)s->in_w * s->in_h), THREADS, 0, f->stream>>>(
		u->cin, in + u->pin.off[0], in + u->pin.off[1], in + u->pin.off[2], range, f->d_rgb);
	ret = s_launched(u, "k_to_rgb");
	if (!ret)
		ret = s_net(u, f);
	if (!ret && s->resize) {
		k_resize_h<<<s_blocks((size_t)s->out_w * s->net_h * 3), THREADS, 0, f->stream>>>(
			f->d_net, s->net_h, 3, u->h, f->d_tmp);
		ret = s_launched(u, "k_resize_h");
		if (!ret)
			k_resize_v<<<s_blocks((size_t)s->out_w * 3 * s->out_h), THREADS, 0, f->stream>>>(
				f->d_tmp, (size_t)s->out_w * 3, u->v, f->d_big);
		ret = ret ? ret : s_launched(u, "k_resize_v");
		rgb = f->d_big;
	}
	if (ret)
		return ret;
	k_luma<<<s_blocks((size_t)s->out_w * s->out_h), THREADS, 0, f->stream>>>(
		u->cout, rgb, 1.0f / range, out + u->pout.off[0], out + u->pout.off[1],
		out + u->pout.off[2]);
	ret = s_launched(u, "k_luma");
	if (ret || u->cout.rgb || u->cout.gray)
		return ret;
	k_chroma<<<s_blocks((size_t)u->cout.cw * u->cout.ch), THREADS, 0, f->stream>>>(
		u->cout, rgb, 1.0f / range, out + u->pout.off[1], out + u->pout.off[2]);
	return s_launched(u, "k_chroma");
}

/* Plain Lanczos: every plane, horizontal then vertical. */
static int s_enqueue_lanczos(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	float max_code = (float)((1 << u->spec->in_fmt->depth) - 1);
	int ret = 0;

	for (int p = 0; p < u->pin.n && !ret; p++) {
		k_plane_h<<<s_blocks((size_t)u->pout.w[p] * u->pin.h[p]), THREADS, 0, f->stream>>>(
			f->d_in + u->pin.off[p], u->pin.bytes, u->pin.h[p], u->ph[p], f->d_tmp);
		ret = s_launched(u, "k_plane_h");
		if (ret)
			break;
		k_plane_v<<<s_blocks((size_t)u->pout.w[p] * u->pout.h[p]), THREADS, 0, f->stream>>>(
			f->d_tmp, u->pout.w[p], u->pv[p], f->d_out + u->pout.off[p], u->pout.bytes,
			max_code);
		ret = s_launched(u, "k_plane_v");
	}
	return ret;
}

/* d_out's packed planes into a device picture of any line sizes, once its buffer may be
 * written (dst->wait), then dst->done. A device-side copy: host memory is not touched. */
static int s_to_device(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct s_devout *dst)
{
	const struct s_planes *pl = &u->pout;
	int ret = dst->wait ? s_ck(u, cudaStreamWaitEvent(f->stream, dst->wait, 0), "cudaStreamWaitEvent") : 0;

	for (int p = 0; p < pl->n && !ret; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		ret = s_ck(u, cudaMemcpy2DAsync(dst->pic->data[p], (size_t)dst->pic->linesize[p],
						f->d_out + pl->off[p], row, row, (size_t)pl->h[p],
						cudaMemcpyDeviceToDevice, f->stream), "cudaMemcpy2DAsync");
	}
	if (!ret && dst->done)
		ret = s_ck(u, cudaEventRecord(dst->done, f->stream), "cudaEventRecord");
	return ret;
}

/* 1 when every plane of pic lies in the registered (page-locked) caller memory. */
static int s_registered(const struct vhs_cuda_upscaler *u, const struct vhs_picture *pic)
{
	for (int p = 0; p < u->pin.n; p++) {
		const uint8_t *a = pic->data[p];
		size_t end = (size_t)pic->linesize[p] * (u->pin.h[p] - 1) + (size_t)u->pin.w[p] * u->pin.bytes;

		if (!u->reg || pic->linesize[p] <= 0 || a < u->reg || (size_t)(a - u->reg) > u->reg_bytes ||
		    end > u->reg_bytes - (size_t)(a - u->reg))
			return 0;
	}
	return 1;
}

/* The input up: straight from registered caller memory (direct), else from h_in. */
static int s_upload(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct vhs_picture *direct)
{
	const struct s_planes *pl = &u->pin;
	int ret = 0;

	if (!direct)
		return s_ck(u, cudaMemcpyAsync(f->d_in, f->h_in, pl->size, cudaMemcpyHostToDevice, f->stream),
			    "cudaMemcpyAsync");
	for (int p = 0; p < pl->n && !ret; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		ret = s_ck(u, cudaMemcpy2DAsync(f->d_in + pl->off[p], row, direct->data[p],
						(size_t)direct->linesize[p], row, (size_t)pl->h[p],
						cudaMemcpyHostToDevice, f->stream), "cudaMemcpy2DAsync");
	}
	return ret;
}

/* input -> device -> work -> h_out (or a device picture), then the frame's event. */
static int s_enqueue(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct vhs_picture *direct,
		     const struct s_devout *dst)
{
	int ret;

	ret = s_ck(u, cudaEventRecord(f->start, f->stream), "cudaEventRecord");
	if (!ret)
		ret = s_upload(u, f, direct);
	if (!ret)
		ret = u->m ? s_enqueue_model(u, f) : s_enqueue_lanczos(u, f);
	if (!ret && dst)
		ret = s_to_device(u, f, dst);
	else if (!ret)
		ret = s_ck(u, cudaMemcpyAsync(f->h_out, f->d_out, u->pout.size, cudaMemcpyDeviceToHost,
					      f->stream), "cudaMemcpyAsync");
	if (!ret)
		ret = s_ck(u, cudaEventRecord(f->done, f->stream), "cudaEventRecord");
	if (!ret)
		ret = s_ck(u, cudaEventRecord(u->ends[u->next_end], f->stream), "cudaEventRecord");
	return ret;
}

/* ---- host: the queue ------------------------------------------------------------------ */

/* Makes room for one more entry. */
static int s_queue_reserve(struct vhs_cuda_upscaler *u)
{
	struct s_entry *q;
	int cap;

	if (u->q_len < u->q_cap)
		return 0;
	cap = u->q_cap * 2;
	q = (struct s_entry *)calloc((size_t)cap, sizeof(*q));
	if (!q)
		return s_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; i < u->q_len; i++)
		q[i] = u->q[(u->q_head + i) % u->q_cap];
	free(u->q);
	u->q = q;
	u->q_cap = cap;
	u->q_head = 0;
	return 0;
}

/* The oldest entry still on the device. */
static struct s_entry *s_oldest_busy(struct vhs_cuda_upscaler *u)
{
	return &u->q[(u->q_head + u->q_len - u->busy) % u->q_cap];
}

/* Adds a finished frame's time on the device, upload to download, to gpu_ns, less the part
 * before the previous frame ended: frames in flight overlap, and the time any of them is
 * on the device is counted once. (Streams may also finish out of order; that part, too,
 * is then left out, so the sum never exceeds the wall time.) */
static int s_count_time(struct vhs_cuda_upscaler *u, struct s_frame *f, int end)
{
	float dur = 0, overlap = 0;
	int ret;

	ret = s_ck(u, cudaEventSynchronize(u->ends[end]), "cudaEventSynchronize");
	if (!ret)
		ret = s_ck(u, cudaEventElapsedTime(&dur, f->start, u->ends[end]), "cudaEventElapsedTime");
	if (!ret && u->last_end >= 0)
		ret = s_ck(u, cudaEventElapsedTime(&overlap, f->start, u->ends[u->last_end]),
			   "cudaEventElapsedTime");
	if (ret)
		return ret;
	overlap = overlap < 0 ? 0 : (overlap > dur ? dur : overlap);
	u->gpu_ns += (uint64_t)((double)(dur - overlap) * 1e6);
	u->last_end = end;
	return 0;
}

/* Waits for the oldest frame on the device and copies its output to the caller's planes. */
static int s_finish_oldest(struct vhs_cuda_upscaler *u)
{
	struct s_entry *e = s_oldest_busy(u);
	struct s_frame *f = &u->frames[e->frame];
	int ret;

	ret = s_ck(u, cudaEventSynchronize(f->done), "cudaEventSynchronize");
	if (!ret)
		ret = s_count_time(u, f, e->end);
	if (ret)
		return ret;
	if (!e->device)
		s_unpack(&u->pout, f->h_out, &e->out);
	e->frame = -1;
	u->busy--;
	return 0;
}

/* ---- public --------------------------------------------------------------------------- */

extern "C" int vhs_cuda_probe(char *why, size_t len)
{
	struct cudaDeviceProp prop;
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);

	if (e == cudaErrorInsufficientDriver) {
		snprintf(why, len, "no NVIDIA driver, or one older than this build's CUDA runtime "
			 "(cudaGetDeviceCount: %s)", cudaGetErrorString(e));
		return 0;
	}
	if (e != cudaSuccess) {
		snprintf(why, len, "no usable CUDA device (cudaGetDeviceCount: %s)",
			 cudaGetErrorString(e));
		return 0;
	}
	if (n < 1) {
		snprintf(why, len, "no CUDA device");
		return 0;
	}
	e = cudaGetDeviceProperties(&prop, 0);
	if (e != cudaSuccess) {
		snprintf(why, len, "cudaGetDeviceProperties: %s", cudaGetErrorString(e));
		return 0;
	}
	if (prop.major < 8) {
		snprintf(why, len, "%s has compute capability %d.%d; this build needs 8.0 or newer",
			 prop.name, prop.major, prop.minor);
		return 0;
	}
	snprintf(why, len, "%s, compute capability %d.%d, %zu MiB", prop.name, prop.major,
		 prop.minor, prop.totalGlobalMem >> 20);
	return 1;
}

/* The spec's pictures and sizes against what this backend handles. */
static int s_check_spec(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;

	if (!s->in_fmt || !s->out_fmt || s->in_w < 1 || s->in_h < 1 || s->out_w < 1 || s->out_h < 1)
		return s_fail(u, -EINVAL, "upscale spec without formats or sizes");
	if (!s->model && (s->in_fmt != s->out_fmt && strcmp(s->in_fmt->name, s->out_fmt->name)))
		return s_fail(u, -EINVAL, "lanczos needs the same format in and out (%s, %s)",
			      s->in_fmt->name, s->out_fmt->name);
	if (s->model && (s->in.width != s->in_w || s->in.height != s->in_h || !s->in.fmt ||
			 s->out.width != s->out_w || s->out.height != s->out_h || !s->out.fmt))
		return s_fail(u, -EINVAL, "colour setup does not match the spec's sizes");
	if (s->model && !s->resize && (s->net_w != s->out_w || s->net_h != s->out_h))
		return s_fail(u, -EINVAL, "net size differs from the output's without resize");
	return 0;
}

static int s_open(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	int ret;

	ret = s_check_spec(u);
	if (ret)
		return ret;
	s_planes_init(&u->pin, s->in_fmt, s->in_w, s->in_h);
	s_planes_init(&u->pout, s->out_fmt, s->out_w, s->out_h);
	if (u->m) {
		s_color_init(&u->cin, &s->in);
		s_color_init(&u->cout, &s->out);
	}
	ret = s_tables_open(u);
	if (!ret && u->m)
		ret = s_net_open(u);
	if (!ret && u->m)
		ret = s_plan_tiles(u);
	u->frames = (struct s_frame *)calloc((size_t)u->in_flight, sizeof(*u->frames));
	u->q_cap = 2 * u->in_flight;
	u->q = (struct s_entry *)calloc((size_t)u->q_cap, sizeof(*u->q));
	if (!ret && (!u->frames || !u->q))
		ret = s_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; !ret && i < u->in_flight; i++)
		ret = s_frame_open(u, &u->frames[i]);
	u->ends = (cudaEvent_t *)calloc((size_t)u->in_flight + 1, sizeof(*u->ends));
	if (!ret && !u->ends)
		ret = s_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; !ret && i <= u->in_flight; i++)
		ret = s_ck(u, cudaEventCreate(&u->ends[i]), "cudaEventCreate");
	u->last_end = -1;
	return ret;
}

extern "C" int vhs_cuda_open(struct vhs_cuda_upscaler **out, const struct vhs_upscale_spec *spec,
			     enum vhs_cuda_precision precision, int in_flight, char *err,
			     size_t errlen)
{
	struct vhs_cuda_upscaler *u;
	int ret;

	*out = NULL;
	if (!vhs_cuda_probe(err, errlen))
		return -ENODEV;
	if (in_flight < 1 || in_flight > 8) {
		snprintf(err, errlen, "frames in flight must be 1..8, not %d", in_flight);
		return -EINVAL;
	}
	u = (struct vhs_cuda_upscaler *)calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->spec = spec;
	u->m = spec->model;
	u->prec = precision;
	u->esize = precision == VHS_CUDA_FP16 ? 2 : 4;
	u->in_flight = in_flight;
	ret = s_open(u);
	if (ret) {
		snprintf(err, errlen, "%s", u->err);
		vhs_cuda_close(&u);
		return ret;
	}
	snprintf(err, errlen, "%s", "");
	*out = u;
	return 0;
}

/* A caller's picture against the spec's format and size. */
static int s_check_picture(struct vhs_cuda_upscaler *u, const struct vhs_picture *p,
			   const struct vhs_pixfmt *f, int w, int h, const char *which)
{
	if (p->fmt && (p->fmt == f || !strcmp(p->fmt->name, f->name)) && p->width == w &&
	    p->height == h)
		return 0;
	snprintf(u->err, sizeof(u->err), "%s picture is not %s %dx%d", which, f->name, w, h);
	return -EINVAL;
}

static int s_submit(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
		    const struct vhs_picture *out, const struct s_devout *dst, uint64_t tag)
{
	const struct vhs_upscale_spec *s = u->spec;
	struct s_entry *e;
	int ret, direct;

	ret = s_check_picture(u, in, s->in_fmt, s->in_w, s->in_h, "input");
	if (!ret)
		ret = s_check_picture(u, out, s->out_fmt, s->out_w, s->out_h, "output");
	if (!ret)
		ret = s_queue_reserve(u);
	while (!ret && u->busy == u->in_flight)
		ret = s_finish_oldest(u);
	if (ret)
		return ret;
	direct = s_registered(u, in);
	if (!direct)
		s_pack(&u->pin, in, u->frames[u->next].h_in);
	ret = s_enqueue(u, &u->frames[u->next], direct ? in : NULL, dst);
	if (ret)
		return ret;
	e = &u->q[(u->q_head + u->q_len) % u->q_cap];
	e->tag = tag;
	e->out = *out;
	e->device = dst != NULL;
	e->frame = u->next;
	e->end = u->next_end;
	u->next_end = (u->next_end + 1) % (u->in_flight + 1);
	u->q_len++;
	u->busy++;
	u->next = (u->next + 1) % u->in_flight;
	return 0;
}

extern "C" int vhs_cuda_submit(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
			       struct vhs_picture *out, uint64_t tag)
{
	return s_submit(u, in, out, NULL, tag);
}

extern "C" int vhs_cuda_submit_device(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
				      const struct vhs_picture *out, void *wait_event,
				      void *done_event, uint64_t tag)
{
	struct s_devout dst = { out, (cudaEvent_t)wait_event, (cudaEvent_t)done_event };

	return s_submit(u, in, out, &dst, tag);
}

extern "C" int vhs_cuda_collect(struct vhs_cuda_upscaler *u, uint64_t *tag, int wait)
{
	struct s_entry *e;
	int ret;

	if (!u->q_len)
		return 0;
	e = &u->q[u->q_head];
	if (e->frame >= 0 && !wait) {
		cudaError_t q = cudaEventQuery(u->frames[e->frame].done);

		if (q == cudaErrorNotReady)
			return 0;
		ret = s_ck(u, q, "cudaEventQuery");
		if (ret)
			return ret;
	}
	if (e->frame >= 0) {
		ret = s_finish_oldest(u); /* the head is on the device: it is the oldest there */
		if (ret)
			return ret;
	}
	*tag = e->tag;
	u->q_head = (u->q_head + 1) % u->q_cap;
	u->q_len--;
	return 1;
}

extern "C" int vhs_cuda_run_net(struct vhs_cuda_upscaler *u, const float *in, float *out)
{
	const struct vhs_upscale_spec *s = u->spec;
	struct s_frame *f = &u->frames[u->next];
	int ret;

	if (!u->m || u->q_len)
		return s_fail(u, -EINVAL, "vhs_cuda_run_net needs a model and no frame queued");
	ret = s_ck(u, cudaMemcpyAsync(f->d_rgb, in, (size_t)s->in_w * s->in_h * 3 * sizeof(float),
				      cudaMemcpyHostToDevice, f->stream), "cudaMemcpyAsync");
	if (!ret)
		ret = s_net(u, f);
	if (!ret)
		ret = s_ck(u, cudaMemcpyAsync(out, f->d_net, (size_t)s->net_w * s->net_h * 3 *
					      sizeof(float), cudaMemcpyDeviceToHost, f->stream),
			   "cudaMemcpyAsync");
	if (!ret)
		ret = s_ck(u, cudaStreamSynchronize(f->stream), "cudaStreamSynchronize");
	return ret;
}

extern "C" void vhs_cuda_set_tile(struct vhs_cuda_upscaler *u, int tile_w, int tile_h)
{
	u->force_w = tile_w;
	u->force_h = tile_h;
}

extern "C" void vhs_cuda_tile(const struct vhs_cuda_upscaler *u, int *tile_w, int *tile_h)
{
	*tile_w = u->force_w > 0 && u->force_w < u->tile_w ? u->force_w : u->tile_w;
	*tile_h = u->force_h > 0 && u->force_h < u->tile_h ? u->force_h : u->tile_h;
}

extern "C" const char *vhs_cuda_error(const struct vhs_cuda_upscaler *u)
{
	return u->err;
}

extern "C" int vhs_cuda_register_input(struct vhs_cuda_upscaler *u, void *base, size_t bytes)
{
	int ret;

	if (u->reg)
		return s_fail(u, -EBUSY, "an input range is registered already");
	ret = s_ck(u, cudaHostRegister(base, bytes, cudaHostRegisterDefault), "cudaHostRegister");
	if (ret)
		return ret;
	u->reg = (uint8_t *)base;
	u->reg_bytes = bytes;
	return 0;
}

extern "C" uint64_t vhs_cuda_gpu_ns(const struct vhs_cuda_upscaler *u)
{
	return u->gpu_ns;
}

extern "C" void vhs_cuda_close(struct vhs_cuda_upscaler **up)
{
	struct vhs_cuda_upscaler *u = *up;

	if (!u)
		return;
	for (int i = 0; u->frames && i < u->in_flight; i++)
		s_frame_close(u, &u->frames[i]);
	if (u->reg)
		cudaHostUnregister(u->reg);
	free(u->frames);
	free(u->q);
	for (int i = 0; u->ends && i <= u->in_flight; i++)
		if (u->ends[i])
			cudaEventDestroy(u->ends[i]);
	free(u->ends);
	for (int i = 0; u->layers && i < u->n_layers; i++) {
		cudaFree(u->layers[i].kernel);
		cudaFree(u->layers[i].bias);
	}
	free(u->layers);
	free(u->slot_unit);
	s_table_free(&u->h);
	s_table_free(&u->v);
	for (int p = 0; p < 3; p++) {
		s_table_free(&u->ph[p]);
		s_table_free(&u->pv[p]);
	}
	free(u);
	*up = NULL;
}

/* ---- bench: the ceiling, on the host side --------------------------------------------- */

/* Buffers and events of one measurement. */
struct s_gemm {
	int n;
	__half *a, *b;
	float *c;
	cudaEvent_t t0, t1;
};

static int s_cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* Median milliseconds of GEMM_RUNS runs of run(g, arg) (0 or nonzero on failure) after
 * GEMM_WARMUP, timed with events; 0 or -EIO with err. */
#define GEMM_WARMUP 3
#define GEMM_RUNS 10
static int s_gemm_time(struct s_gemm *g, int (*run)(struct s_gemm *, void *), void *arg,
		       const char *what, float *ms, char *err, size_t errlen)
{
	float t[GEMM_RUNS];
	cudaError_t e = cudaSuccess;

	for (int i = 0; i < GEMM_WARMUP + GEMM_RUNS && e == cudaSuccess; i++) {
		e = cudaEventRecord(g->t0);
		if (e == cudaSuccess && run(g, arg)) {
			e = cudaGetLastError();
			snprintf(err, errlen, "%s: %s", what,
				 e != cudaSuccess ? cudaGetErrorString(e) : "failed");
			return -EIO;
		}
		if (e == cudaSuccess)
			e = cudaEventRecord(g->t1);
		if (e == cudaSuccess)
			e = cudaEventSynchronize(g->t1);
		if (e == cudaSuccess && i >= GEMM_WARMUP)
			e = cudaEventElapsedTime(&t[i - GEMM_WARMUP], g->t0, g->t1);
	}
	if (e != cudaSuccess) {
		snprintf(err, errlen, "%s (cudaEvent*): %s", what, cudaGetErrorString(e));
		return -EIO;
	}
	qsort(t, GEMM_RUNS, sizeof(float), s_cmp_float);
	*ms = t[GEMM_RUNS / 2];
	return 0;
}

static int s_gemm_wmma(struct s_gemm *g, void *arg)
{
	(void)arg;
	k_gemm<<<dim3(g->n / GM_BN, g->n / GM_BM), 256>>>(g->a, g->b, g->c, g->n);
	return cudaPeekAtLastError() != cudaSuccess;
}

#if __has_include(<cublas_v2.h>)
#include <cublas_v2.h>
#include <dlfcn.h>
#define HAVE_CUBLAS_HEADER 1

/* cuBLAS, loaded at run time so the build does not depend on it. */
struct s_cublas {
	void *lib;
	cublasHandle_t handle;
	decltype(&cublasCreate_v2) create;
	decltype(&cublasDestroy_v2) destroy;
	cublasStatus_t (*gemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
			       const void *, const void *, cudaDataType, int, const void *,
			       cudaDataType, int, const void *, void *, cudaDataType, int,
			       cublasComputeType_t, cublasGemmAlgo_t);   /* cublasGemmEx */
};

static int s_gemm_cublas(struct s_gemm *g, void *arg)
{
	struct s_cublas *cb = (struct s_cublas *)arg;
	const float one = 1.0f, zero = 0.0f;

	return cb->gemm(cb->handle, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->n, g->n, &one, g->b,
			CUDA_R_16F, g->n, g->a, CUDA_R_16F, g->n, &zero, g->c, CUDA_R_32F, g->n,
			CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS;
}

/* The cuBLAS rate, or 0 when libcublas cannot be loaded. */
static int s_cublas_tflops(struct s_gemm *g, double *tflops, char *err, size_t errlen)
{
	struct s_cublas cb;
	float ms = 0;
	int ret = 0;

	*tflops = 0;
	memset(&cb, 0, sizeof(cb));
	cb.lib = dlopen("libcublas.so", RTLD_NOW | RTLD_LOCAL);
	if (!cb.lib)
		cb.lib = dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!cb.lib)
		return 0;
	cb.create = (decltype(cb.create))dlsym(cb.lib, "cublasCreate_v2");
	cb.destroy = (decltype(cb.destroy))dlsym(cb.lib, "cublasDestroy_v2");
	cb.gemm = (decltype(cb.gemm))dlsym(cb.lib, "cublasGemmEx");
	if (cb.create && cb.destroy && cb.gemm && cb.create(&cb.handle) == CUBLAS_STATUS_SUCCESS) {
		ret = s_gemm_time(g, s_gemm_cublas, &cb, "cublasGemmEx", &ms, err, errlen);
		if (!ret)
			*tflops = 2.0 * g->n * g->n * g->n / (ms * 1e-3) / 1e12;
		cb.destroy(cb.handle);
	}
	dlclose(cb.lib);
	return ret;
}
#endif

/* One device-to-device copy of the measurement's buffers (a to c, as bytes). */
static int s_copy_run(struct s_gemm *g, void *arg)
{
	return cudaMemcpyAsync(g->c, g->a, *(const size_t *)arg, cudaMemcpyDeviceToDevice) !=
	       cudaSuccess;
}

extern "C" int vhs_cuda_copy_gbps(size_t bytes, double *gbps, char *err, size_t errlen)
{
	struct s_gemm g;
	float ms = 0;
	int ret = -EIO;

	*gbps = 0;
	if (!vhs_cuda_probe(err, errlen))
		return -ENODEV;
	memset(&g, 0, sizeof(g));
	bytes &= ~(size_t)255;
	if (cudaMalloc((void **)&g.a, bytes) != cudaSuccess ||
	    cudaMalloc((void **)&g.c, bytes) != cudaSuccess ||
	    cudaEventCreate(&g.t0) != cudaSuccess || cudaEventCreate(&g.t1) != cudaSuccess) {
		snprintf(err, errlen, "cudaMalloc/cudaEventCreate: %s",
			 cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	/* Random bytes, never zeros (METHOD: zeros can run faster than real data). */
	k_fill_random<<<s_blocks(bytes / sizeof(__half)), THREADS>>>(g.a, bytes / sizeof(__half), 3u);
	if (cudaGetLastError() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {
		snprintf(err, errlen, "k_fill_random: %s", cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	ret = s_gemm_time(&g, s_copy_run, &bytes, "cudaMemcpyAsync", &ms, err, errlen);
	if (!ret)
		*gbps = 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
out_free:
	if (g.t1)
		cudaEventDestroy(g.t1);
	if (g.t0)
		cudaEventDestroy(g.t0);
	cudaFree(g.c);
	cudaFree(g.a);
	return ret;
}

extern "C" int vhs_cuda_gemm_tflops(int n, double *wmma, double *cublas, char *err, size_t errlen)
{
	struct s_gemm g;
	size_t elems;
	float ms = 0;
	int ret = -EIO;

	*wmma = *cublas = 0;
	if (!vhs_cuda_probe(err, errlen))
		return -ENODEV;
	memset(&g, 0, sizeof(g));
	g.n = n < GM_BM ? GM_BM : n / GM_BM * GM_BM;
	elems = (size_t)g.n * g.n;
	if (cudaMalloc((void **)&g.a, elems * sizeof(__half)) != cudaSuccess ||
	    cudaMalloc((void **)&g.b, elems * sizeof(__half)) != cudaSuccess ||
	    cudaMalloc((void **)&g.c, elems * sizeof(float)) != cudaSuccess ||
	    cudaEventCreate(&g.t0) != cudaSuccess || cudaEventCreate(&g.t1) != cudaSuccess) {
		snprintf(err, errlen, "cudaMalloc/cudaEventCreate: %s",
			 cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	k_fill_random<<<s_blocks(elems), THREADS>>>(g.a, elems, 1u);
	k_fill_random<<<s_blocks(elems), THREADS>>>(g.b, elems, 2u);
	if (cudaGetLastError() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {
		snprintf(err, errlen, "k_fill_random: %s", cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	ret = s_gemm_time(&g, s_gemm_wmma, NULL, "k_gemm", &ms, err, errlen);
	if (!ret)
		*wmma = 2.0 * g.n * g.n * g.n / (ms * 1e-3) / 1e12;
#ifdef HAVE_CUBLAS_HEADER
	if (!ret)
		ret = s_cublas_tflops(&g, cublas, err, errlen);
#endif
out_free:
	if (g.t1)
		cudaEventDestroy(g.t1);
	if (g.t0)
		cudaEventDestroy(g.t0);
	cudaFree(g.c);
	cudaFree(g.b);
	cudaFree(g.a);
	return ret;
}
