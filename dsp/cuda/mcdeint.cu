/* mcdeint.cu: the motion-compensated deinterlacer on an NVIDIA GPU (cuda_mcdeint.h): the
 * CPU's algorithm (mcdeint.c, edi.c, motion.c), step for step in the same integer
 * arithmetic, so that its frames are the CPU's bit for bit. Read those files first: each
 * kernel below names the function it carries out.
 *
 * DESIGN
 * What the CPU does per sample is a kernel of one thread per sample: the bob (k_edi), the
 * search luma (k_search_luma), the pyramid (k_halve, k_phases), compensation (k_compensate:
 * each sample gathers the blocks over it, where the CPU scatters each block into
 * accumulators; the sums are integers, the same in any order) and the blend (k_blend).
 *
 * The motion search runs one warp per block. Its lanes share each candidate's SAD (a
 * shuffle sum: integer, exact), every lane keeps the same best, and candidates are tried in
 * the CPU's order, so ties go the same way. The coarsest level (exhaustive: the lanes split
 * the candidates, then the warp takes the cheapest, the earliest on a tie) and the sub-pixel
 * refinement are independent per block: a grid of warps. A finer level is not: a block's
 * candidates include the vectors just found for the blocks left of it and above it (raster
 * order on the CPU). One thread block per search walks its blocks by anti-diagonals
 * (i + j = d): a diagonal's blocks have their left and upper neighbours done, so they run at
 * once and find the CPU's vectors.
 *
 * Fields live on the device in a ring of five, as on the CPU; the two neighbours' searches
 * and compensations run in the same launches (blockIdx.y or .z picks the neighbour). The
 * copies in and out use cudaMemcpyDefault, so a picture may be host or device memory.
 *
 * The same source compiles as plain C++ with -DVHS_CUDA_EMULATE (emulate.h): a warp is then
 * one thread (VHS_LANES 1), and the CPU runs every kernel, so that the unit tests hold it to
 * the CPU deinterlacer's frames on any machine.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VHS_CUDA_EMULATE
#include "emulate.h"              /* the CPU runs this source: tests/unit/test_cuda_emulated.c */
#define WARPS_FINE 1              /* one warp walks a level: no barrier to emulate */
#else
#include <cuda_runtime.h>
#define VHS_LANES 32              /* a warp */
#define VHS_LAUNCH(kernel, grid, block, stream) kernel<<<grid, block, 0, stream>>>
#define WARPS_FINE 32             /* warps of the thread block that walks a finer level (a
				  * diagonal holds up to min(nx, ny) blocks: 60 at 720x480) */
#endif

extern "C" {
#include "cuda_mcdeint.h"
#include "pixfmt.h"
}

#define RING 5                    /* fields i - 2 .. i + 2, as mcdeint.c */
#define NEIGHBOURS 2
#define WARPS 4                   /* warps per thread block of the other search kernels */
#define TX 32                     /* the per-sample kernels' thread blocks: TX x TY */
#define TY 8

/* ---- what the CPU files define, the same here (keep them in step) ---- */

/* edi.c */
#define EDI_WINDOW 2
#define EDI_STEP_PENALTY 12
#define EDI_SLANT_MARGIN 16
#define EDI_STEEP 2

/* motion.c: the first sample of block i along an axis of n samples (the last moved in). */
__host__ __device__ static inline int d_block_at(int i, int step, int block, int n)
{
	int at = i * step;

	return at + block > n ? n - block : at;
}

__device__ static inline int d_abs(int v)
{
	return v < 0 ? -v : v;
}

__device__ static inline int d_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- the bob: edi.c's vhs_edi_rows, one thread per missing sample ---- */

/* edi.c's s_field_row: the field row nearest to row y on its side. */
__device__ static inline int d_field_row(int y, int parity, int height)
{
	int last = (height - 1 - parity) / 2 * 2 + parity;

	return y < parity ? parity : y > last ? last : y;
}

/* A line's sample at x, the edge samples repeated past the ends (edi.c's padding). */
__device__ static inline int d_at(const uint8_t *line, int x, int width)
{
	return line[d_clampi(x, 0, width - 1)];
}

/* One direction's per-sample cost at x (edi.c's diff[]). */
__device__ static inline int d_edi_diff(const uint8_t *c, const uint8_t *a, const uint8_t *b, const uint8_t *e,
					int x, int d, int w)
{
	int pa = d_at(a, x + d, w), pb = d_at(b, x - d, w);

	return 2 * d_abs(pa - pb) + d_abs(pa - d_at(c, x + 3 * d, w)) + d_abs(pb - d_at(e, x - 3 * d, w));
}

/* p holds the field's rows (parity); its other rows get the interpolation. */
__global__ void k_edi(uint8_t *p, int stride, int w, int h, int parity, int radius)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x;
	int y = 2 * (int)(blockIdx.y * blockDim.y + threadIdx.y) + !parity;
	int above, below, vertical = 0, best = INT_MAX, dir = 0, pa, pb, v;
	const uint8_t *c, *a, *b, *e;

	if (x >= w || y >= h)
		return;
	above = d_field_row(y - 1, parity, h);
	below = d_field_row(y + 1, parity, h);
	if (above > y || below < y) { /* the picture's first or last row: only one side */
		p[y * stride + x] = p[(above > y ? above : below) * stride + x];
		return;
	}
	c = p + d_field_row(y - 3, parity, h) * stride;
	a = p + above * stride;
	b = p + below * stride;
	e = p + d_field_row(y + 3, parity, h) * stride;
	for (int i = -EDI_WINDOW; i <= EDI_WINDOW; i++)
		vertical += d_edi_diff(c, a, b, e, x + i, 0, w);
	for (int k = 1; k <= 2 * radius; k++) { /* -1, 1, -2, 2, ...: a tie keeps the steeper */
		int d = k % 2 ? -(k + 1) / 2 : k / 2, reach = 3 * d_abs(d), cost = 0;

		if (x < reach || x >= w - reach)
			continue;
		for (int i = -EDI_WINDOW; i <= EDI_WINDOW; i++)
			cost += d_edi_diff(c, a, b, e, x + i, d, w);
		cost += EDI_STEP_PENALTY * d_abs(d);
		if (cost < best && cost < vertical / (d_abs(d) <= EDI_STEEP ? 2 : 4) - EDI_SLANT_MARGIN) {
			best = cost;
			dir = d;
		}
	}
	pa = d_at(a, x + dir, w);
	pb = d_at(b, x - dir, w);
	v = (-d_at(c, x + 3 * dir, w) + 9 * pa + 9 * pb - d_at(e, x - 3 * dir, w) + 8) >> 4;
	p[y * stride + x] = (uint8_t)(dir ? d_clampi(v, pa < pb ? pa : pb, pa < pb ? pb : pa) : d_clampi(v, 0, 255));
}

/* ---- the luma motion is searched on (mcdeint.c's s_search_luma) ---- */

__global__ void k_search_luma(const uint8_t *b0, const uint8_t *b1, const uint8_t *b2, int bs, uint8_t *out, int w,
			      int h)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y, sum = 0;

	if (x >= w || y >= h)
		return;
	for (int r = -1; r <= 1; r++) {
		int row = d_clampi(y + r, 0, h - 1) * bs + x, t = b0[row] + 2 * b1[row] + b2[row];

		sum += r == 0 ? 2 * t : t;
	}
	out[y * w + x] = (uint8_t)((sum + 8) >> 4);
}

/* ---- the pyramid (motion.c's s_halve, s_phase) ---- */

struct d_plane {
	uint8_t *data;
	int stride, width, height;
};

__global__ void k_halve(struct d_plane in, struct d_plane out)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
	const uint8_t *r0, *r1;

	if (x >= out.width || y >= out.height)
		return;
	r0 = in.data + 2 * y * in.stride;
	r1 = r0 + in.stride;
	out.data[y * out.stride + x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2) >> 2);
}

struct d_phases {
	int n;
	int k[15];                /* the phases made */
	uint8_t *out[15];
};

/* blockIdx.z: which of the phases made. */
__global__ void k_phases(struct d_plane pic, struct d_phases ph)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y, k = ph.k[blockIdx.z];
	int fx = k & 3, fy = k >> 2, w = pic.width, h = pic.height, x1;
	const uint8_t *p0, *p1;

	if (x >= w || y >= h)
		return;
	p0 = pic.data + y * pic.stride;
	p1 = y + 1 < h ? p0 + pic.stride : p0;
	x1 = x + 1 < w ? x + 1 : x;
	ph.out[blockIdx.z][y * w + x] = (uint8_t)(((4 - fx) * (4 - fy) * p0[x] + fx * (4 - fy) * p0[x1] +
						   (4 - fx) * fy * p1[x] + fx * fy * p1[x1] + 8) >> 4);
}

/* ---- the motion search (motion.c's s_level, s_subpel) ---- */

struct d_pyramid {
	int levels;
	struct d_plane level[VHS_MOTION_LEVELS];
	struct d_plane phase[16]; /* data NULL: not made */
};

/* The field of blocks (motion.c's struct vhs_motion_field's geometry): blocks of `block`
 * samples every `step`, nx across and ny down a width x height luma picture. */
struct d_blocks {
	int block, step, nx, ny, width, height;
};

/* One search: a field against one neighbour. */
struct d_search {
	struct d_pyramid cur, ref;
	struct vhs_mv *mv;        /* the level's vectors being found */
	const struct vhs_mv *coarse; /* the coarser level's (NULL at the coarsest) */
	struct vhs_mv *out;       /* the final vectors, quarter pixels */
	uint32_t *sad;            /* their SADs */
};

struct d_searches {
	struct d_search s[NEIGHBOURS]; /* blockIdx.y picks one */
	struct d_blocks b;
	int range, subpel, lambda;
};

/* The SAD of a bs x bs block of a against b (row strides as, bs_), the warp's lanes sharing
 * it; every lane gets the total. */
__device__ static uint32_t d_sad_warp(const uint8_t *a, int as, const uint8_t *b, int bstride, int bs, int lane)
{
	uint32_t s = 0;

	for (int k = lane; k < bs * bs; k += VHS_LANES) {
		int r = k / bs, c = k % bs;

		s += (uint32_t)d_abs(a[r * as + c] - b[r * bstride + c]);
	}
	for (int o = VHS_LANES / 2; o; o >>= 1)
		s += __shfl_xor_sync(0xffffffffu, s, o);
	return s;
}

struct d_best {
	int x, y;
	unsigned long long cost;
	uint32_t sad;
};

/* motion.c's s_try, by a whole warp: the same best in every lane. */
__device__ static void d_try(const struct d_plane *cur, const struct d_plane *ref, int x, int y, int bs, int vx, int vy,
			     int px, int py, int lambda, struct d_best *b, int lane)
{
	uint32_t sad;
	unsigned long long cost;

	if (x + vx < 0 || y + vy < 0 || x + vx + bs > ref->width || y + vy + bs > ref->height)
		return;
	sad = d_sad_warp(cur->data + y * cur->stride + x, cur->stride, ref->data + (y + vy) * ref->stride + x + vx,
			 ref->stride, bs, lane);
	cost = sad + (unsigned long long)lambda * (unsigned long long)(d_abs(vx - px) + d_abs(vy - py));
	if (cost < b->cost)
		*b = d_best{ vx, vy, cost, sad };
}

/* Block (i, j)'s place at a level, moved in to fit the level's picture. */
__device__ static void d_place(const struct d_searches *q, const struct d_plane *cur, int level, int i, int j, int *x,
			       int *y)
{
	int bs = q->b.block >> level;

	*x = d_block_at(i, q->b.step, q->b.block, q->b.width) >> level;
	*y = d_block_at(j, q->b.step, q->b.block, q->b.height) >> level;
	*x = *x + bs > cur->width ? cur->width - bs : *x;
	*y = *y + bs > cur->height ? cur->height - bs : *y;
}

/* The end of a level's block: no candidate fitted (the zero vector then), the vector kept,
 * at full size its SAD. */
__device__ static void d_keep(const struct d_searches *q, const struct d_search *s, int level, int i, int j, int x,
			      int y, struct d_best b, int lane)
{
	const struct d_plane *cur = &s->cur.level[level], *ref = &s->ref.level[level];
	int bs = q->b.block >> level;

	if (b.cost == ULLONG_MAX)
		b = d_best{ 0, 0, 0,
				     d_sad_warp(cur->data + y * cur->stride + x, cur->stride,
						ref->data + y * ref->stride + x, ref->stride, bs, lane) };
	if (lane == 0) {
		s->mv[j * q->b.nx + i] = vhs_mv{ (int16_t)b.x, (int16_t)b.y };
		if (level == 0)
			s->sad[j * q->b.nx + i] = b.sad;
	}
}

/* The coarsest level: every vector in range, the lanes taking every VHS_LANES-th candidate
 * in the CPU's order (index 0: no motion, tried first; then row by row), then the cheapest, the
 * earliest of equals: the candidate the CPU's scan keeps. One warp per block. */
__global__ void k_search_coarsest(struct d_searches q, int level)
{
	const struct d_search *s = &q.s[blockIdx.y];
	const struct d_plane *cur = &s->cur.level[level], *ref = &s->ref.level[level];
	int lane = threadIdx.x % VHS_LANES, blk = blockIdx.x * WARPS + threadIdx.x / VHS_LANES;
	int bs = q.b.block >> level, r = q.range >> level, side = 2 * r + 1, n = side * side + 1, x, y;
	int i = blk % q.b.nx, j = blk / q.b.nx, best_k = INT_MAX;
	unsigned long long best = ULLONG_MAX;
	struct d_best b = { 0, 0, ULLONG_MAX, 0 };

	if (blk >= q.b.nx * q.b.ny)
		return; /* the whole warp: blk is the same in every lane */
	d_place(&q, cur, level, i, j, &x, &y);
	for (int k = lane; k < n; k += VHS_LANES) {
		int vx = k ? (k - 1) % side - r : 0, vy = k ? (k - 1) / side - r : 0;
		uint32_t sad = 0;
		unsigned long long cost;

		if (x + vx < 0 || y + vy < 0 || x + vx + bs > ref->width || y + vy + bs > ref->height)
			continue;
		for (int rr = 0; rr < bs; rr++)
			for (int c = 0; c < bs; c++)
				sad += (uint32_t)d_abs(cur->data[(y + rr) * cur->stride + x + c] -
						       ref->data[(y + vy + rr) * ref->stride + x + vx + c]);
		cost = sad + (unsigned long long)q.lambda * (unsigned long long)(d_abs(vx) + d_abs(vy));
		if (cost < best) {
			best = cost;
			best_k = k;
		}
	}
	for (int o = VHS_LANES / 2; o; o >>= 1) { /* the cheapest, then the earliest */
		unsigned long long oc = __shfl_xor_sync(0xffffffffu, best, o);
		int ok = __shfl_xor_sync(0xffffffffu, best_k, o);

		if (oc < best || (oc == best && ok < best_k)) {
			best = oc;
			best_k = ok;
		}
	}
	if (best_k != INT_MAX) {
		int vx = best_k ? (best_k - 1) % side - r : 0, vy = best_k ? (best_k - 1) / side - r : 0;

		b = d_best{ vx, vy, best,
				     d_sad_warp(cur->data + y * cur->stride + x, cur->stride,
						ref->data + (y + vy) * ref->stride + x + vx, ref->stride, bs, lane) };
	}
	d_keep(&q, s, level, i, j, x, y, b, lane);
}

/* A finer level: one thread block per search walks the anti-diagonals; a warp per block. */
__global__ void __launch_bounds__(VHS_LANES * WARPS_FINE) k_search_finer(struct d_searches q, int level)
{
	const struct d_search *s = &q.s[blockIdx.y];
	const struct d_plane *cur = &s->cur.level[level], *ref = &s->ref.level[level];
	int lane = threadIdx.x % VHS_LANES, warp = threadIdx.x / VHS_LANES, bs = q.b.block >> level;

	for (int diag = 0; diag <= q.b.nx + q.b.ny - 2; diag++) {
		int j0 = diag - (q.b.nx - 1) > 0 ? diag - (q.b.nx - 1) : 0, j1 = diag < q.b.ny - 1 ? diag : q.b.ny - 1;

		for (int j = j0 + warp; j <= j1; j += WARPS_FINE) {
			int i = diag - j, x, y, px, py, moved = 1;
			const struct vhs_mv *c = &s->coarse[j * q.b.nx + i];
			struct d_best b = { 0, 0, ULLONG_MAX, 0 };

			d_place(&q, cur, level, i, j, &x, &y);
			px = 2 * c->x;
			py = 2 * c->y;
			d_try(cur, ref, x, y, bs, px, py, px, py, q.lambda, &b, lane);
			if (i > 0)
				d_try(cur, ref, x, y, bs, s->mv[j * q.b.nx + i - 1].x, s->mv[j * q.b.nx + i - 1].y, px, py,
				      q.lambda, &b, lane);
			if (j > 0)
				d_try(cur, ref, x, y, bs, s->mv[(j - 1) * q.b.nx + i].x, s->mv[(j - 1) * q.b.nx + i].y, px,
				      py, q.lambda, &b, lane);
			d_try(cur, ref, x, y, bs, 0, 0, px, py, q.lambda, &b, lane);
			for (int round = 0; round < 2 && moved && b.cost != ULLONG_MAX; round++) {
				int cx = b.x, cy = b.y;

				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++)
						if (dx || dy)
							d_try(cur, ref, x, y, bs, cx + dx, cy + dy, px, py, q.lambda, &b,
							      lane);
				moved = b.x != cx || b.y != cy;
			}
			d_keep(&q, s, level, i, j, x, y, b, lane);
		}
		__syncthreads(); /* the diagonal's vectors, seen by the next one's blocks */
	}
}

/* Full size: each block's whole-sample vector into quarter pixels, refined to half and
 * quarter pixels as far as subpel asks; s->mv holds level 0's vectors. One warp per block. */
__global__ void k_search_subpel(struct d_searches q)
{
	const struct d_search *s = &q.s[blockIdx.y];
	const struct d_plane *cur = &s->cur.level[0], *ref = &s->ref.level[0];
	int lane = threadIdx.x % VHS_LANES, blk = blockIdx.x * WARPS + threadIdx.x / VHS_LANES, bs = q.b.block;
	int i = blk % q.b.nx, j = blk / q.b.nx, x, y, qx, qy, px, py;
	uint32_t best_sad;
	unsigned long long best;

	if (blk >= q.b.nx * q.b.ny)
		return;
	x = d_block_at(i, q.b.step, q.b.block, q.b.width);
	y = d_block_at(j, q.b.step, q.b.block, q.b.height);
	qx = px = 4 * s->mv[blk].x;
	qy = py = 4 * s->mv[blk].y;
	best_sad = s->sad[blk];
	best = 4 * (unsigned long long)best_sad;
	for (int step = 2; q.subpel > 1 && step >= 4 / q.subpel; step /= 2) {
		int cx = qx, cy = qy;

		for (int dy = -step; dy <= step; dy += step) {
			for (int dx = -step; dx <= step; dx += step) {
				int tx = cx + dx, ty = cy + dy;
				const struct d_plane *ph = &s->ref.phase[(ty & 3) * 4 + (tx & 3)];
				uint32_t sad;
				unsigned long long cost;

				if (!(dx || dy) || x + (tx >> 2) < 0 || y + (ty >> 2) < 0 ||
				    x + (tx >> 2) + bs + 1 > ref->width || y + (ty >> 2) + bs + 1 > ref->height)
					continue;
				sad = d_sad_warp(cur->data + y * cur->stride + x, cur->stride,
						 ph->data + (y + (ty >> 2)) * ph->stride + x + (tx >> 2), ph->stride, bs, lane);
				cost = 4 * (unsigned long long)sad +
				       (unsigned long long)q.lambda * (unsigned long long)(d_abs(tx - px) + d_abs(ty - py)) / 4;
				if (cost < best) {
					best = cost;
					best_sad = sad;
					qx = tx;
					qy = ty;
				}
			}
		}
	}
	if (lane == 0) {
		s->out[blk] = vhs_mv{ (int16_t)qx, (int16_t)qy };
		s->sad[blk] = best_sad;
	}
}

/* ---- compensation (motion.c's vhs_motion_compensate), gathered ---- */

struct d_compensation {
	const struct vhs_mv *mv[NEIGHBOURS]; /* blockIdx.z picks the neighbour */
	struct d_plane ref[NEIGHBOURS];
	uint8_t *out[NEIGHBOURS];        /* packed, the plane's width */
	struct d_blocks b;               /* the field of blocks (luma) */
	int sx, sy, parity;              /* the plane's subsampling; the rows made */
};

__constant__ int c_taps[4][4] = { { 0, 64, 0, 0 }, { -5, 56, 15, -2 }, { -4, 36, 36, -4 }, { -2, 15, 56, -5 } };

/* motion.c's s_window. */
__device__ static inline int d_window(int i, int n)
{
	return i < n / 2 ? 2 * i + 1 : 2 * (n - 1 - i) + 1;
}

/* motion.c's s_scale. */
__device__ static inline int d_scale(int q, int s)
{
	return s ? (q + (1 << (s - 1))) >> s : q;
}

/* Blocks along an axis over sample v of a plane (the luma's blocks scaled by s): the first
 * and last whose span [at, at + b) holds v; the last block, moved in, is checked on its own. */
__device__ static void d_cover(int v, int s, int step, int block, int n_blocks, int *lo, int *hi)
{
	int t = (v << s) / step;

	*lo = t - block / step - 1 > 0 ? t - block / step - 1 : 0;
	*hi = t + 1 < n_blocks - 1 ? t + 1 : n_blocks - 1;
}

/* Block at (bx, by) of plane p moved by (qx, qy) quarter samples, read by the cubic at its
 * sample (u, v): s_predict's sample, every intermediate the same integer. */
__device__ static int d_predict(const struct d_plane *p, int bx, int by, int qx, int qy, int u, int v)
{
	int ix = bx + (qx >> 2) - 1 + u, iy = by + (qy >> 2) - 1 + v, sum = 0;
	const int *tx = c_taps[qx & 3], *ty = c_taps[qy & 3];

	for (int j = 0; j < 4; j++) {
		const uint8_t *r = p->data + d_clampi(iy + j, 0, p->height - 1) * p->stride;
		int across = 0;

		for (int i = 0; i < 4; i++)
			across += tx[i] * r[d_clampi(ix + i, 0, p->width - 1)];
		sum += ty[j] * across;
	}
	sum = (sum + 2048) >> 12;
	return sum < 0 ? 0 : sum > 255 ? 255 : sum;
}

__global__ void k_compensate(struct d_compensation q)
{
	/* the neighbour's plane and vectors by value: indexing the parameter struct would copy it
	 * to each thread's local memory */
	const struct d_plane refv = blockIdx.z ? q.ref[1] : q.ref[0], *ref = &refv;
	const struct vhs_mv *mv = blockIdx.z ? q.mv[1] : q.mv[0];
	uint8_t *out = blockIdx.z ? q.out[1] : q.out[0];
	int x = blockIdx.x * blockDim.x + threadIdx.x;
	int y = 2 * (int)(blockIdx.y * blockDim.y + threadIdx.y) + q.parity;
	int bw = q.b.block >> q.sx, bh = q.b.block >> q.sy, w = ref->width, i0, i1, j0, j1;
	long long acc = 0, wsum = 0;

	if (x >= w || y >= ref->height)
		return;
	d_cover(x, q.sx, q.b.step, q.b.block, q.b.nx, &i0, &i1);
	d_cover(y, q.sy, q.b.step, q.b.block, q.b.ny, &j0, &j1);
	for (int jj = j0; jj <= j1 + 1; jj++) {
		int j = jj <= j1 ? jj : q.b.ny - 1, by;

		if (jj > j1 && j1 == q.b.ny - 1)
			break; /* the last block was in the range */
		by = d_block_at(j, q.b.step, q.b.block, q.b.height) >> q.sy;
		by = by + bh > ref->height ? ref->height - bh : by;
		if (y < by || y >= by + bh)
			continue;
		for (int ii = i0; ii <= i1 + 1; ii++) {
			int i = ii <= i1 ? ii : q.b.nx - 1, bx, wt;
			const struct vhs_mv *v = &mv[j * q.b.nx + i];

			if (ii > i1 && i1 == q.b.nx - 1)
				break;
			bx = d_block_at(i, q.b.step, q.b.block, q.b.width) >> q.sx;
			bx = bx + bw > w ? w - bw : bx;
			if (x < bx || x >= bx + bw)
				continue;
			wt = d_window(y - by, bh) * d_window(x - bx, bw);
			acc += (long long)wt * d_predict(ref, bx, by, d_scale(v->x, q.sx), d_scale(v->y, q.sy), x - bx, y - by);
			wsum += wt;
		}
	}
	out[y * w + x] = wsum ? (uint8_t)((acc + wsum / 2) / wsum) : ref->data[y * ref->stride + x];
}

/* ---- the blend (mcdeint.c's s_blend, s_mismatch, s_resharpen) ---- */

struct d_blend {
	struct d_plane bob, out;
	const uint8_t *prev, *next; /* the moved neighbours (packed; NULL: none) */
	int parity, own, threshold, sharpen;
};

__device__ static inline int d_mismatch(const uint8_t *prev, const uint8_t *next, int w, int x, int y)
{
	int x0 = x ? x - 1 : x, x1 = x + 1 < w ? x + 1 : x, diff = 0;

	for (int xx = x0; xx <= x1; xx++)
		diff += d_abs(prev[y * w + xx] - next[y * w + xx]);
	return diff * 6 / (x1 - x0 + 1);
}

__global__ void k_blend(struct d_blend q)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
	int w = q.bob.width, h = q.bob.height, own, wt;
	const uint8_t *bob = q.bob.data;
	int bs = q.bob.stride;

	if (x >= w || y >= h)
		return;
	own = bob[y * bs + x];
	if ((y & 1) == q.parity || y == 0 || y == h - 1 || !q.prev) {
		q.out.data[y * q.out.stride + x] = (uint8_t)own;
		return;
	}
	wt = 6 * q.threshold - d_mismatch(q.prev, q.next, w, x, y);
	if (wt > 0) {
		int pv = q.prev[y * w + x], nv = q.next[y * w + x];

		own = (q.own * own + wt * ((pv + nv + 1) >> 1) + (q.own + wt) / 2) / (q.own + wt);
		if (q.sharpen > 0) {
			int lo = pv < nv ? pv : nv, hi = pv < nv ? nv : pv;
			int s = q.sharpen * (own - ((bob[(y - 1) * bs + x] + 2 * own + bob[(y + 1) * bs + x] + 2) >> 2));

			s = own + (s >= 0 ? (s + 8) / 16 : -((8 - s) / 16));
			own = d_clampi(s, lo, hi);
		}
	}
	q.out.data[y * q.out.stride + x] = (uint8_t)own;
}

/* ---- the deinterlacer ---- */

struct field {
	long index;               /* -1: empty */
	int parity;
	uint8_t *bob[3];          /* device, packed planes */
	uint8_t *search;          /* device, width x height */
	struct d_pyramid pyr;     /* its levels and phases (device; level 0 and phase 0 are search) */
};

struct motion {
	struct vhs_mv *mv;        /* device: the final vectors (nx * ny) */
	struct vhs_mv *levels;    /* device: two levels' (2 * nx * ny) */
	uint32_t *sad;            /* device */
};

struct vhs_cuda_mcdeint {
	struct vhs_mcdeint_params p;
	const struct vhs_pixfmt *fmt;
	int width, height, planes;
	int pw[3], ph[3];         /* plane sizes */
	int levels;               /* of the search's pyramid */
	struct d_blocks blocks;   /* the field of blocks, as motion.c lays it out */
	struct d_phases phases;   /* which phases the search tries (their out[] filled per field) */
	struct field ring[RING];
	long pushed, next;
	int ended;
	struct motion mf[NEIGHBOURS];
	uint8_t *moved[NEIGHBOURS][3];
	uint8_t *out[3];          /* device: the frame being made */
	int device;               /* the CUDA device it was opened on (each call works there) */
	cudaStream_t stream;
	cudaEvent_t start, stop;
	int has_stream, has_events;
	uint64_t gpu_ns;
	char err[256];
};

/* Records a failed CUDA call's text; returns -EIO. The stream's copies are waited for: the
 * caller may free or reuse its pictures once this returns. */
static int s_fail(struct vhs_cuda_mcdeint *d, const char *what, cudaError_t e)
{
	snprintf(d->err, sizeof(d->err), "%s: %s", what, cudaGetErrorString(e));
	if (d->has_stream)
		cudaStreamSynchronize(d->stream);
	return -EIO;
}

#define CK(d, call)                                                  \
	do {                                                         \
		cudaError_t e_ = (call);                             \
		if (e_ != cudaSuccess)                               \
			return s_fail((d), #call, e_);               \
	} while (0)

/* After a launch: its configuration's error, if any. */
#define CK_LAUNCH(d, name)                                           \
	do {                                                         \
		cudaError_t e_ = cudaGetLastError();                 \
		if (e_ != cudaSuccess)                               \
			return s_fail((d), "launching " #name, e_);  \
	} while (0)

static dim3 s_grid(int w, int h)
{
	return dim3((unsigned)((w + TX - 1) / TX), (unsigned)((h + TY - 1) / TY));
}

static int s_alloc(struct vhs_cuda_mcdeint *d, void **p, size_t bytes)
{
	CK(d, cudaMalloc(p, bytes));
	return 0;
}

static int s_phase_used(int subpel, int k)
{
	return subpel >= 4 || (subpel == 2 && !(k & 5)); /* motion.c's s_phase_used */
}

/* A field slot's device memory: the bob, the search luma, its levels and phases. */
static int s_field_alloc(struct vhs_cuda_mcdeint *d, struct field *f)
{
	int w = d->width, h = d->height, ret;
	size_t n = (size_t)w * (size_t)h;

	f->index = -1;
	for (int pl = 0; pl < d->planes; pl++)
		if ((ret = s_alloc(d, (void **)&f->bob[pl], (size_t)d->pw[pl] * (size_t)d->ph[pl])))
			return ret;
	if ((ret = s_alloc(d, (void **)&f->search, n)))
		return ret;
	f->pyr.levels = d->levels;
	f->pyr.level[0] = d_plane{ f->search, w, w, h };
	for (int l = 1; l < d->levels; l++) {
		f->pyr.level[l] = d_plane{ NULL, w >> l, w >> l, h >> l };
		if ((ret = s_alloc(d, (void **)&f->pyr.level[l].data, (size_t)(w >> l) * (size_t)(h >> l))))
			return ret;
	}
	f->pyr.phase[0] = f->pyr.level[0];
	for (int k = 1; k < 16; k++) {
		f->pyr.phase[k] = d_plane{ NULL, w, w, h };
		if (s_phase_used(d->p.motion.subpel, k) && (ret = s_alloc(d, (void **)&f->pyr.phase[k].data, n)))
			return ret;
	}
	return 0;
}

extern "C" int vhs_cuda_mcdeint_open(struct vhs_cuda_mcdeint **out, const struct vhs_mcdeint_params *params,
				     const struct vhs_pixfmt *fmt, int width, int height, char *err, size_t errlen)
{
	struct vhs_cuda_mcdeint *d;
	struct vhs_motion_field geometry;
	int count = 0, ret = 0;
	cudaError_t e;

	*out = NULL;
	if (fmt->bytes != 1 || fmt->rgb || width < 16 || height < 16 || !vhs_mcdeint_params_valid(params) ||
	    vhs_motion_field_init(&geometry, width, height, params->motion.block)) {
		snprintf(err, errlen, "only 8-bit planar YUV or gray, 16x16 or more, with valid parameters, is "
			 "deinterlaced");
		return -EINVAL;
	}
	e = cudaGetDeviceCount(&count);
	if (e != cudaSuccess || count == 0) {
		vhs_motion_field_free(&geometry);
		snprintf(err, errlen, "no CUDA device: %s", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
		return -ENODEV;
	}
	if (!(d = (struct vhs_cuda_mcdeint *)calloc(1, sizeof(*d)))) {
		vhs_motion_field_free(&geometry);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->p = *params;
	d->fmt = fmt;
	d->width = width;
	d->height = height;
	d->planes = fmt->planes;
	d->blocks = d_blocks{ params->motion.block, geometry.step, geometry.nx, geometry.ny, width, height };
	vhs_motion_field_free(&geometry);
	d->levels = vhs_motion_levels(&params->motion, width, height);
	for (int pl = 0; pl < d->planes; pl++) {
		d->pw[pl] = vhs_pixfmt_plane_width(fmt, pl, width);
		d->ph[pl] = vhs_pixfmt_plane_height(fmt, pl, height);
	}
	for (int k = 1; k < 16; k++)
		if (s_phase_used(params->motion.subpel, k))
			d->phases.k[d->phases.n++] = k;
	for (int r = 0; r < RING; r++)
		d->ring[r].index = -1;
	if ((e = cudaGetDevice(&d->device)) != cudaSuccess)
		ret = s_fail(d, "cudaGetDevice", e);
	if (!ret && (e = cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking)) != cudaSuccess)
		ret = s_fail(d, "cudaStreamCreateWithFlags", e);
	d->has_stream = !ret;
	if (!ret && (e = cudaEventCreate(&d->start)) != cudaSuccess)
		ret = s_fail(d, "cudaEventCreate", e);
	if (!ret && (e = cudaEventCreate(&d->stop)) != cudaSuccess) {
		cudaEventDestroy(d->start);
		ret = s_fail(d, "cudaEventCreate", e);
	}
	d->has_events = !ret;
	for (int r = 0; !ret && r < RING; r++)
		ret = s_field_alloc(d, &d->ring[r]);
	for (int n = 0; !ret && n < NEIGHBOURS; n++) {
		size_t blocks = (size_t)d->blocks.nx * (size_t)d->blocks.ny;

		if (!(ret = s_alloc(d, (void **)&d->mf[n].mv, blocks * sizeof(struct vhs_mv))) &&
		    !(ret = s_alloc(d, (void **)&d->mf[n].levels, 2 * blocks * sizeof(struct vhs_mv))))
			ret = s_alloc(d, (void **)&d->mf[n].sad, blocks * sizeof(uint32_t));
		for (int pl = 0; !ret && pl < d->planes; pl++)
			ret = s_alloc(d, (void **)&d->moved[n][pl], (size_t)d->pw[pl] * (size_t)d->ph[pl]);
	}
	for (int pl = 0; !ret && pl < d->planes; pl++)
		ret = s_alloc(d, (void **)&d->out[pl], (size_t)d->pw[pl] * (size_t)d->ph[pl]);
	if (ret) {
		snprintf(err, errlen, "%s", d->err);
		vhs_cuda_mcdeint_close(&d);
		return ret;
	}
	*out = d;
	return 0;
}

extern "C" void vhs_cuda_mcdeint_close(struct vhs_cuda_mcdeint **dp)
{
	struct vhs_cuda_mcdeint *d = *dp;

	if (!d)
		return;
	if (d->has_stream)
		cudaStreamSynchronize(d->stream);
	for (int r = 0; r < RING; r++) {
		struct field *f = &d->ring[r];

		for (int pl = 0; pl < 3; pl++)
			cudaFree(f->bob[pl]);
		cudaFree(f->search);
		for (int l = 1; l < VHS_MOTION_LEVELS; l++)
			cudaFree(f->pyr.level[l].data);
		for (int k = 1; k < 16; k++)
			cudaFree(f->pyr.phase[k].data);
	}
	for (int n = 0; n < NEIGHBOURS; n++) {
		cudaFree(d->mf[n].mv);
		cudaFree(d->mf[n].levels);
		cudaFree(d->mf[n].sad);
		for (int pl = 0; pl < 3; pl++)
			cudaFree(d->moved[n][pl]);
	}
	for (int pl = 0; pl < 3; pl++)
		cudaFree(d->out[pl]);
	if (d->has_events) {
		cudaEventDestroy(d->start);
		cudaEventDestroy(d->stop);
	}
	if (d->has_stream)
		cudaStreamDestroy(d->stream);
	free(d);
	*dp = NULL;
}

extern "C" const char *vhs_cuda_mcdeint_error(const struct vhs_cuda_mcdeint *d)
{
	return d ? d->err : "";
}

extern "C" uint64_t vhs_cuda_mcdeint_gpu_ns(const struct vhs_cuda_mcdeint *d)
{
	return d ? d->gpu_ns : 0;
}

/* The start of a push, end or pull: its device current, an earlier unrelated error cleared
 * (so a launch's check reports its own), the start of its timing recorded. */
static int s_begin(struct vhs_cuda_mcdeint *d)
{
	CK(d, cudaSetDevice(d->device));
	(void)cudaGetLastError();
	CK(d, cudaEventRecord(d->start, d->stream));
	return 0;
}

/* Waits for the stream's work since `start` and adds its device time. */
static int s_finish(struct vhs_cuda_mcdeint *d)
{
	float ms = 0;

	CK(d, cudaEventRecord(d->stop, d->stream));
	CK(d, cudaEventSynchronize(d->stop));
	CK(d, cudaEventElapsedTime(&ms, d->start, d->stop));
	d->gpu_ns += (uint64_t)((double)ms * 1e6);
	return 0;
}

/* A picture whose rows are not laid out downward at least a plane's width apart (a negative
 * line size): CUDA's 2D copies refuse such pitches. */
static int s_rows_upward(const struct vhs_cuda_mcdeint *d, const struct vhs_picture *p)
{
	for (int pl = 0; pl < d->planes; pl++)
		if (p->linesize[pl] < d->pw[pl])
			return 1;
	return 0;
}

static struct field *s_field(struct vhs_cuda_mcdeint *d, long i)
{
	struct field *f = i >= 0 ? &d->ring[i % RING] : NULL;

	return f && f->index == i ? f : NULL;
}

/* Field k's search luma and its pyramid (mcdeint.c's s_search_luma, motion.c's
 * vhs_motion_pyramid_build). */
static int s_search_luma(struct vhs_cuda_mcdeint *d, long k)
{
	struct field *f = &d->ring[k % RING], *prev = s_field(d, k - 1), *next = s_field(d, k + 1);
	struct d_phases ph = d->phases;
	int w = d->width, h = d->height;

	VHS_LAUNCH(k_search_luma, s_grid(w, h), dim3(TX, TY), d->stream)((prev ? prev : f)->bob[0], f->bob[0],
								    (next ? next : f)->bob[0], w, f->search, w, h);
	CK_LAUNCH(d, k_search_luma);
	for (int l = 1; l < d->levels; l++) {
		VHS_LAUNCH(k_halve, s_grid(w >> l, h >> l), dim3(TX, TY), d->stream)(f->pyr.level[l - 1],
										      f->pyr.level[l]);
		CK_LAUNCH(d, k_halve);
	}
	if (ph.n) {
		dim3 grid = s_grid(w, h);

		for (int i = 0; i < ph.n; i++)
			ph.out[i] = f->pyr.phase[ph.k[i]].data;
		grid.z = (unsigned)ph.n;
		VHS_LAUNCH(k_phases, grid, dim3(TX, TY), d->stream)(f->pyr.level[0], ph);
		CK_LAUNCH(d, k_phases);
	}
	return 0;
}

extern "C" int vhs_cuda_mcdeint_push(struct vhs_cuda_mcdeint *d, const struct vhs_picture *frame, int parity)
{
	struct field *f = &d->ring[d->pushed % RING];
	int ret;

	if (s_rows_upward(d, frame))
		return -EINVAL;
	if ((ret = s_begin(d)))
		return ret;
	f->index = d->pushed;
	f->parity = parity & 1;
	for (int pl = 0; pl < d->planes; pl++) {
		int w = d->pw[pl], h = d->ph[pl], rows = (h - f->parity + 1) / 2;
		struct vhs_edi edi = { pl ? 0 : d->p.edi.radius };

		edi.radius = edi.radius < 0 ? 0 : edi.radius > VHS_EDI_RADIUS_MAX ? VHS_EDI_RADIUS_MAX : edi.radius;
		/* the field's rows, straight into the bob (host or device memory) */
		CK(d, cudaMemcpy2DAsync(f->bob[pl] + f->parity * w, 2 * (size_t)w,
					frame->data[pl] + f->parity * frame->linesize[pl], 2 * (size_t)frame->linesize[pl],
					(size_t)w, (size_t)rows, cudaMemcpyDefault, d->stream));
		if (h - rows > 0) {
			VHS_LAUNCH(k_edi, s_grid(w, h - rows), dim3(TX, TY), d->stream)(f->bob[pl], w, w, h, f->parity,
										edi.radius);
			CK_LAUNCH(d, k_edi);
		}
	}
	d->pushed++;
	if (d->pushed >= 2 && (ret = s_search_luma(d, d->pushed - 2)))
		return ret;
	return s_finish(d);
}

extern "C" int vhs_cuda_mcdeint_end(struct vhs_cuda_mcdeint *d)
{
	int ret = 0;

	if (!d->ended && d->pushed >= 1) {
		if ((ret = s_begin(d)))
			return ret;
		if (!(ret = s_search_luma(d, d->pushed - 1)))
			ret = s_finish(d);
	}
	d->ended = 1;
	return ret;
}

/* The motion from field f to its n neighbours g[], into d->mf (motion.c's vhs_motion_search). */
static int s_search(struct vhs_cuda_mcdeint *d, const struct field *f, const struct field *const *g, int n)
{
	struct d_searches q;
	int blocks = d->blocks.nx * d->blocks.ny;
	dim3 warps((unsigned)((blocks + WARPS - 1) / WARPS), (unsigned)n); /* a warp per block */

	memset(&q, 0, sizeof(q));
	q.b = d->blocks;
	q.range = d->p.motion.range;
	q.subpel = d->p.motion.subpel;
	q.lambda = d->p.motion.lambda;
	for (int k = 0; k < n; k++) {
		q.s[k].cur = f->pyr;
		q.s[k].ref = g[k]->pyr;
		q.s[k].out = d->mf[k].mv;
		q.s[k].sad = d->mf[k].sad;
	}
	for (int level = d->levels - 1, flip = 0; level >= 0; level--, flip ^= 1) {
		for (int k = 0; k < n; k++) {
			q.s[k].coarse = level == d->levels - 1 ? NULL : q.s[k].mv;
			q.s[k].mv = d->mf[k].levels + (size_t)flip * (size_t)blocks;
		}
		if (level == d->levels - 1) {
			VHS_LAUNCH(k_search_coarsest, warps, VHS_LANES * WARPS, d->stream)(q, level);
			CK_LAUNCH(d, k_search_coarsest);
		} else {
			VHS_LAUNCH(k_search_finer, dim3(1, (unsigned)n), VHS_LANES * WARPS_FINE, d->stream)(q, level);
			CK_LAUNCH(d, k_search_finer);
		}
	}
	VHS_LAUNCH(k_search_subpel, warps, VHS_LANES * WARPS, d->stream)(q);
	CK_LAUNCH(d, k_search_subpel);
	return 0;
}

extern "C" int vhs_cuda_mcdeint_pull(struct vhs_cuda_mcdeint *d, struct vhs_picture *out)
{
	long i = d->next;
	const struct field *f = s_field(d, i), *g[NEIGHBOURS];
	int n = 0, ret;

	if (!f || (!d->ended && d->pushed <= i + 2))
		return 0;
	for (long j = i - 1; j <= i + 1; j += 2)
		if (s_field(d, j))
			g[n++] = s_field(d, j);
	if (s_rows_upward(d, out))
		return -EINVAL;
	if ((ret = s_begin(d)))
		return ret;
	if (n && (ret = s_search(d, f, g, n)))
		return ret;
	for (int pl = 0; n && pl < d->planes; pl++) {
		struct d_compensation c;
		dim3 grid = s_grid(d->pw[pl], (d->ph[pl] - !f->parity + 1) / 2);

		memset(&c, 0, sizeof(c));
		for (int k = 0; k < n; k++) {
			c.mv[k] = d->mf[k].mv;
			c.ref[k] = d_plane{ g[k]->bob[pl], d->pw[pl], d->pw[pl], d->ph[pl] };
			c.out[k] = d->moved[k][pl];
		}
		c.b = d->blocks;
		c.sx = pl ? d->fmt->log2_cw : 0;
		c.sy = pl ? d->fmt->log2_ch : 0;
		c.parity = !f->parity; /* the blend reads the missing rows only */
		if ((c.b.block >> c.sx) < 2 || (c.b.block >> c.sy) < 2)
			continue; /* motion.c makes nothing then either */
		grid.z = (unsigned)n;
		VHS_LAUNCH(k_compensate, grid, dim3(TX, TY), d->stream)(c);
		CK_LAUNCH(d, k_compensate);
	}
	for (int pl = 0; pl < d->planes; pl++) {
		struct d_blend b;

		b.bob = d_plane{ f->bob[pl], d->pw[pl], d->pw[pl], d->ph[pl] };
		b.out = d_plane{ d->out[pl], d->pw[pl], d->pw[pl], d->ph[pl] };
		b.prev = n ? d->moved[0][pl] : NULL;
		b.next = n > 1 ? d->moved[1][pl] : b.prev;
		b.parity = f->parity;
		b.own = d->p.own;
		b.threshold = d->p.threshold;
		b.sharpen = pl ? 0 : d->p.sharpen;
		VHS_LAUNCH(k_blend, s_grid(d->pw[pl], d->ph[pl]), dim3(TX, TY), d->stream)(b);
		CK_LAUNCH(d, k_blend);
		CK(d, cudaMemcpy2DAsync(out->data[pl], (size_t)out->linesize[pl], d->out[pl], (size_t)d->pw[pl],
					(size_t)d->pw[pl], (size_t)d->ph[pl], cudaMemcpyDefault, d->stream));
	}
	if ((ret = s_finish(d)))
		return ret;
	d->next++;
	return 1;
}
