/* motion.c: block motion between two pictures, and a picture moved by it (see motion.h). */
#include "motion.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define BLOCK_MIN 4               /* the smallest block a coarse level searches with */

static inline int s_abs(int v)
{
	return v < 0 ? -v : v;
}

static inline int s_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- the field of blocks ---- */

/* Blocks needed to cover n samples with blocks of size b every s (the last moved in). */
static int s_count(int n, int b, int s)
{
	return (n - b + s - 1) / s + 1;
}

int vhs_motion_field_init(struct vhs_motion_field *f, int width, int height, int block)
{
	memset(f, 0, sizeof(*f));
	if ((block != 8 && block != 16) || width < block || height < block)
		return -EINVAL;
	f->block = block;
	f->step = block / 2;
	f->width = width;
	f->height = height;
	f->nx = s_count(width, block, f->step);
	f->ny = s_count(height, block, f->step);
	f->mv = calloc((size_t)f->nx * (size_t)f->ny, sizeof(*f->mv));
	f->sad = calloc((size_t)f->nx * (size_t)f->ny, sizeof(*f->sad));
	f->levels = malloc(2 * (size_t)f->nx * (size_t)f->ny * sizeof(*f->levels));
	f->acc = malloc(2 * (size_t)width * (size_t)height * sizeof(*f->acc));
	if (!f->mv || !f->sad || !f->levels || !f->acc) {
		vhs_motion_field_free(f);
		return -ENOMEM;
	}
	return 0;
}

void vhs_motion_field_free(struct vhs_motion_field *f)
{
	free(f->mv);
	free(f->sad);
	free(f->levels);
	free(f->acc);
	memset(f, 0, sizeof(*f));
}

/* Block i's first sample along an axis of n samples. */
static int s_block_at(const struct vhs_motion_field *f, int i, int n)
{
	int at = i * f->step;

	return at + f->block > n ? n - f->block : at;
}

/* ---- the pyramid ---- */

int vhs_motion_levels(const struct vhs_motion_params *p, int w, int h)
{
	int levels = 1;

	while (levels < VHS_MOTION_LEVELS && (p->block >> levels) >= BLOCK_MIN && (p->range >> levels) >= 2 &&
	       (w >> levels) >= p->block && (h >> levels) >= p->block)
		levels++;
	return levels;
}

/* in halved by 2x2 means into o, out's samples (packed). */
static void s_halve(const struct vhs_plane8 *in, const struct vhs_plane8 *out, uint8_t *o)
{
	for (int y = 0; y < out->height; y++) {
		const uint8_t *r0 = in->data + 2 * y * in->stride, *r1 = r0 + in->stride;

		for (int x = 0; x < out->width; x++)
			o[y * out->width + x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2) >> 2);
	}
}

/* The picture read bilinearly at quarter-pixel phase k (fx = k % 4, fy = k / 4) into o:
 * sample (x, y) is pic at (x + fx / 4, y + fy / 4), the sample past the last row or column
 * being the last. */
static void s_phase(const struct vhs_plane8 *pic, int k, uint8_t *o)
{
	int w = pic->width, h = pic->height, fx = k & 3, fy = k >> 2;
	int w00 = (4 - fx) * (4 - fy), w10 = fx * (4 - fy), w01 = (4 - fx) * fy, w11 = fx * fy;

	for (int y = 0; y < h; y++) {
		const uint8_t *p0 = pic->data + y * pic->stride, *p1 = y + 1 < h ? p0 + pic->stride : p0;

		for (int x = 0; x < w; x++) {
			int x1 = x + 1 < w ? x + 1 : x;

			o[y * w + x] = (uint8_t)((w00 * p0[x] + w10 * p0[x1] + w01 * p1[x] + w11 * p1[x1] + 8) >> 4);
		}
	}
}

/* Whether a sub-pixel search of subpel steps a sample tries quarter-pixel phase k (> 0). */
static bool s_phase_used(int subpel, int k)
{
	return subpel >= 4 || (subpel == 2 && !(k & 5)); /* 2: fx and fy 0 or 2 */
}

int vhs_motion_pyramid_build(struct vhs_motion_pyramid *py, const struct vhs_motion_params *p,
			     const struct vhs_plane8 *pic)
{
	int w = pic->width, h = pic->height, levels = vhs_motion_levels(p, w, h), phases = 0;
	size_t size, at = 0;

	for (int k = 1; k < 16; k++)
		phases += s_phase_used(p->subpel, k);
	size = (size_t)phases * (size_t)w * (size_t)h;

	for (int l = 1; l < levels; l++)
		size += (size_t)(w >> l) * (size_t)(h >> l);
	if (py->buf && py->size != size)
		vhs_motion_pyramid_free(py);
	if (!py->buf && size && !(py->buf = malloc(size)))
		return -ENOMEM;
	py->size = size;
	py->levels = levels;
	py->level[0] = *pic;
	for (int l = 1; l < levels; l++) {
		py->level[l] = (struct vhs_plane8){ py->buf + at, w >> l, w >> l, h >> l };
		s_halve(&py->level[l - 1], &py->level[l], py->buf + at);
		at += (size_t)(w >> l) * (size_t)(h >> l);
	}
	py->phase[0] = *pic;
	for (int k = 1; k < 16; k++) {
		py->phase[k] = (struct vhs_plane8){ NULL, w, w, h };
		if (!s_phase_used(p->subpel, k))
			continue;
		py->phase[k].data = py->buf + at;
		s_phase(pic, k, py->buf + at);
		at += (size_t)w * (size_t)h;
	}
	return 0;
}

void vhs_motion_pyramid_free(struct vhs_motion_pyramid *py)
{
	free(py->buf);
	memset(py, 0, sizeof(*py));
}

/* ---- costs ---- */

/* SAD of the bs x bs block at (x, y) of a against b at (x + dx, y + dy), whole samples. With
 * SSE2 (every x86-64), a block row of 16 or 8 samples, or a block of 4 x 4, is one psadbw:
 * the same sums, in a fraction of the time. */
static uint32_t s_sad(const struct vhs_plane8 *a, const struct vhs_plane8 *b, int x, int y, int dx, int dy,
		      int bs)
{
	const uint8_t *pa = a->data + y * a->stride + x;
	const uint8_t *pb = b->data + (y + dy) * b->stride + x + dx;
	uint32_t sad = 0;

#ifdef __SSE2__
	__m128i sum = _mm_setzero_si128();

	if (bs == 16 || bs == 8) {
		for (int j = 0; j < bs; j++, pa += a->stride, pb += b->stride) {
			__m128i ra = bs == 16 ? _mm_loadu_si128((const __m128i *)pa) : _mm_loadl_epi64((const __m128i *)pa);
			__m128i rb = bs == 16 ? _mm_loadu_si128((const __m128i *)pb) : _mm_loadl_epi64((const __m128i *)pb);

			sum = _mm_add_epi64(sum, _mm_sad_epu8(ra, rb));
		}
		return (uint32_t)(_mm_cvtsi128_si32(sum) + _mm_extract_epi16(sum, 4));
	}
	if (bs == 4) { /* the coarsest levels' blocks: four rows of four in one register */
		uint32_t ra[4], rb[4];

		for (int j = 0; j < 4; j++, pa += a->stride, pb += b->stride) {
			memcpy(&ra[j], pa, 4);
			memcpy(&rb[j], pb, 4);
		}
		sum = _mm_sad_epu8(_mm_loadu_si128((const __m128i *)ra), _mm_loadu_si128((const __m128i *)rb));
		return (uint32_t)(_mm_cvtsi128_si32(sum) + _mm_extract_epi16(sum, 4));
	}
#endif
	for (int j = 0; j < bs; j++, pa += a->stride, pb += b->stride)
		for (int i = 0; i < bs; i++)
			sad += (uint32_t)s_abs(pa[i] - pb[i]);
	return sad;
}

/* ---- the search ---- */

struct search {
	const struct vhs_motion_params *p;
	const struct vhs_motion_field *f;
	const struct vhs_motion_pyramid *cur, *ref;
	int levels;
	struct vhs_mv *mv;        /* the level's vectors, in its samples (quarter pixels at 0) */
	struct vhs_mv *coarse;    /* the coarser level's, in its samples */
};

/* The best of a level's candidates so far for one block. */
struct best {
	int x, y;
	uint64_t cost;
	uint32_t sad;
};

/* Tries vector (vx, vy) (level samples) for the block at (x, y), size bs, predictor (px, py). */
static void s_try(const struct search *s, int level, int x, int y, int bs, int vx, int vy, int px, int py,
		  struct best *b)
{
	const struct vhs_plane8 *cur = &s->cur->level[level], *ref = &s->ref->level[level];
	uint32_t sad;
	uint64_t cost;

	if (x + vx < 0 || y + vy < 0 || x + vx + bs > ref->width || y + vy + bs > ref->height)
		return;
	sad = s_sad(cur, ref, x, y, vx, vy, bs);
	cost = sad + (uint64_t)s->p->lambda * (uint64_t)(s_abs(vx - px) + s_abs(vy - py));
	if (cost < b->cost)
		*b = (struct best){ vx, vy, cost, sad };
}

/* One level: every block's vector, from the coarser level's (none at the coarsest). */
static void s_level(struct search *s, int level)
{
	const struct vhs_motion_field *f = s->f;
	const struct vhs_plane8 *cur = &s->cur->level[level];
	int bs = f->block >> level, r = s->p->range >> level;

	for (int j = 0; j < f->ny; j++) {
		for (int i = 0; i < f->nx; i++) {
			int x = s_block_at(f, i, f->width) >> level, y = s_block_at(f, j, f->height) >> level;
			int px = 0, py = 0;
			struct best b = { 0, 0, UINT64_MAX, 0 };

			x = x + bs > cur->width ? cur->width - bs : x;
			y = y + bs > cur->height ? cur->height - bs : y;
			if (level == s->levels - 1) { /* the coarsest: every vector in range */
				s_try(s, level, x, y, bs, 0, 0, 0, 0, &b);
				for (int vy = -r; vy <= r; vy++)
					for (int vx = -r; vx <= r; vx++)
						s_try(s, level, x, y, bs, vx, vy, 0, 0, &b);
			} else {
				const struct vhs_mv *c = &s->coarse[j * f->nx + i];
				bool moved = true;

				px = 2 * c->x;
				py = 2 * c->y;
				s_try(s, level, x, y, bs, px, py, px, py, &b);
				if (i > 0)
					s_try(s, level, x, y, bs, s->mv[j * f->nx + i - 1].x, s->mv[j * f->nx + i - 1].y, px, py, &b);
				if (j > 0)
					s_try(s, level, x, y, bs, s->mv[(j - 1) * f->nx + i].x, s->mv[(j - 1) * f->nx + i].y, px, py, &b);
				s_try(s, level, x, y, bs, 0, 0, px, py, &b);
				for (int round = 0; round < 2 && moved && b.cost != UINT64_MAX; round++) {
					int cx = b.x, cy = b.y;

					for (int dy = -1; dy <= 1; dy++)
						for (int dx = -1; dx <= 1; dx++)
							if (dx || dy)
								s_try(s, level, x, y, bs, cx + dx, cy + dy, px, py, &b);
					moved = b.x != cx || b.y != cy;
				}
			}
			if (b.cost == UINT64_MAX)
				b = (struct best){ 0, 0, 0, s_sad(cur, &s->ref->level[level], x, y, 0, 0, bs) };
			s->mv[j * f->nx + i] = (struct vhs_mv){ (int16_t)b.x, (int16_t)b.y };
			if (level == 0)
				f->sad[j * f->nx + i] = b.sad;
		}
	}
}

/* Full size: each block's whole-sample vector in quarter pixels, refined to half and quarter
 * pixels as far as subpel asks. */
static void s_subpel(struct search *s)
{
	const struct vhs_motion_field *f = s->f;
	const struct vhs_plane8 *cur = &s->cur->level[0], *ref = &s->ref->level[0];
	int bs = f->block;

	for (int j = 0; j < f->ny; j++) {
		for (int i = 0; i < f->nx; i++) {
			struct vhs_mv *v = &s->mv[j * f->nx + i];
			int x = s_block_at(f, i, f->width), y = s_block_at(f, j, f->height);
			int qx = 4 * v->x, qy = 4 * v->y, px = qx, py = qy;
			uint32_t best_sad = f->sad[j * f->nx + i];
			uint64_t best = 4 * (uint64_t)best_sad;

			/* half pixels around the whole one, then quarter pixels around the best */
			for (int step = 2; s->p->subpel > 1 && step >= 4 / s->p->subpel; step /= 2) {
				int cx = qx, cy = qy;

				for (int dy = -step; dy <= step; dy += step) {
					for (int dx = -step; dx <= step; dx += step) {
						int tx = cx + dx, ty = cy + dy;
						uint32_t sad;
						uint64_t cost;

						if (!(dx || dy) || x + (tx >> 2) < 0 || y + (ty >> 2) < 0 ||
						    x + (tx >> 2) + bs + 1 > ref->width || y + (ty >> 2) + bs + 1 > ref->height)
							continue;
						sad = s_sad(cur, &s->ref->phase[(ty & 3) * 4 + (tx & 3)], x, y, tx >> 2, ty >> 2, bs);
						cost = 4 * (uint64_t)sad + (uint64_t)s->p->lambda * (uint64_t)(s_abs(tx - px) + s_abs(ty - py)) / 4;
						if (cost < best) {
							best = cost;
							best_sad = sad;
							qx = tx;
							qy = ty;
						}
					}
				}
			}
			*v = (struct vhs_mv){ (int16_t)qx, (int16_t)qy };
			f->sad[j * f->nx + i] = best_sad;
		}
	}
}

int vhs_motion_search(const struct vhs_motion_params *p, const struct vhs_motion_pyramid *cur,
		      const struct vhs_motion_pyramid *ref, struct vhs_motion_field *f)
{
	struct search s = { .p = p, .f = f, .cur = cur, .ref = ref };
	size_t n = (size_t)f->nx * (size_t)f->ny;

	s.levels = cur->levels < ref->levels ? cur->levels : ref->levels;
	for (int k = 1; k < 16; k++)
		if (s_phase_used(p->subpel, k) && !ref->phase[k].data)
			return -EINVAL; /* built for another search */
	s.mv = f->levels;
	s.coarse = f->levels + n;
	for (int level = s.levels - 1; level >= 0; level--) {
		struct vhs_mv *t = s.coarse;

		s_level(&s, level);
		s.coarse = s.mv;
		s.mv = t;
	}
	s.mv = s.coarse; /* the finest level's, whole samples */
	s.coarse = NULL;
	s_subpel(&s); /* into quarter pixels, refined or not */
	memcpy(f->mv, s.mv, n * sizeof(*s.mv));
	return 0;
}

/* ---- compensation ---- */

/* The window of a block of n samples at sample i: rises 1, 3, 5 ... to the middle and falls
 * again; two windows half a block apart sum to n. */
static inline int s_window(int i, int n)
{
	return i < n / 2 ? 2 * i + 1 : 2 * (n - 1 - i) + 1;
}

/* Cubic (Catmull-Rom) taps for a quarter-sample phase, in 64ths. */
static const int s_taps[4][4] = { { 0, 64, 0, 0 }, { -5, 56, 15, -2 }, { -4, 36, 36, -4 }, { -2, 15, 56, -5 } };

#define PATCH_MAX (16 + 3)        /* a block and the cubic's reach, per side */

/* The first row at or after y of the given parity (-1: any row is; y itself). */
static inline int s_first_row(int y, int parity)
{
	return parity < 0 ? y : y + ((parity - y) & 1);
}

/* The bw x bh block at (bx, by) of p moved by (qx, qy) quarter samples, read by the cubic
 * (separable: each row's taps across, then the rows' down, rounded once), p clamped at its
 * edges, into pred (bw per row): every row, or (parity 0 or 1) only those of the plane's
 * rows of that parity. */
static void s_predict(const struct vhs_plane8 *p, int bx, int by, int bw, int bh, int qx, int qy, int parity,
		      int *pred)
{
	uint8_t patch[PATCH_MAX * PATCH_MAX];
	int across[PATCH_MAX * PATCH_MAX];
	int ix = bx + (qx >> 2) - 1, iy = by + (qy >> 2) - 1, pw = bw + 3, ph = bh + 3;
	const int *tx = s_taps[qx & 3], *ty = s_taps[qy & 3];

	for (int j = 0; j < ph; j++) { /* the samples the block reads, clamped to p */
		const uint8_t *r = p->data + s_clampi(iy + j, 0, p->height - 1) * p->stride;

		if (ix >= 0 && ix + pw <= p->width)
			memcpy(patch + j * pw, r + ix, (size_t)pw);
		else
			for (int i = 0; i < pw; i++)
				patch[j * pw + i] = r[s_clampi(ix + i, 0, p->width - 1)];
	}
	for (int j = 0; j < ph; j++)
		for (int x = 0; x < bw; x++) {
			const uint8_t *q = patch + j * pw + x;

			across[j * bw + x] = tx[0] * q[0] + tx[1] * q[1] + tx[2] * q[2] + tx[3] * q[3];
		}
	for (int y = s_first_row(by, parity) - by; y < bh; y += parity < 0 ? 1 : 2)
		for (int x = 0; x < bw; x++) {
			const int *c = across + y * bw + x;
			int v = (ty[0] * c[0] + ty[1] * c[bw] + ty[2] * c[2 * bw] + ty[3] * c[3 * bw] + 2048) >> 12;

			pred[y * bw + x] = v < 0 ? 0 : v > 255 ? 255 : v;
		}
}

/* A vector component in quarter luma samples scaled to a plane subsampled by s (rounded). */
static inline int s_scale(int q, int s)
{
	return s ? (q + (1 << (s - 1))) >> s : q;
}

void vhs_motion_compensate(struct vhs_motion_field *f, const struct vhs_plane8 *ref, int sx, int sy,
			   uint8_t *out, ptrdiff_t out_stride, int y0, int y1, int parity)
{
	int bw = f->block >> sx, bh = f->block >> sy, w = ref->width;
	int pred[16 * 16], win_x[16], win_y[16];
	int first, step = parity < 0 ? 1 : 2; /* the first row made, and the rows between */
	int32_t *acc, *wsum;

	y0 = y0 < 0 ? 0 : y0;
	y1 = y1 > ref->height ? ref->height : y1;
	first = s_first_row(y0, parity);
	if (y1 <= y0 || bw < 2 || bh < 2)
		return;
	/* the field's accumulators: a plane is at most the picture's size */
	acc = f->acc;
	wsum = f->acc + (size_t)w * (size_t)(y1 - y0);
	memset(acc, 0, 2 * (size_t)w * (size_t)(y1 - y0) * sizeof(*acc));
	for (int i = 0; i < bw; i++)
		win_x[i] = s_window(i, bw);
	for (int j = 0; j < bh; j++)
		win_y[j] = s_window(j, bh);
	for (int j = 0; j < f->ny; j++) {
		int by = s_block_at(f, j, f->height) >> sy;

		by = by + bh > ref->height ? ref->height - bh : by;
		if (by + bh <= y0 || by >= y1)
			continue;
		for (int i = 0; i < f->nx; i++) {
			const struct vhs_mv *v = &f->mv[j * f->nx + i];
			int bx = s_block_at(f, i, f->width) >> sx;

			bx = bx + bw > w ? w - bw : bx;
			s_predict(ref, bx, by, bw, bh, s_scale(v->x, sx), s_scale(v->y, sy), parity, pred);
			for (int y = s_first_row(by < y0 ? y0 : by, parity); y < by + bh && y < y1; y += step) {
				int32_t *a = acc + (size_t)(y - y0) * (size_t)w + bx;
				int32_t *ws = wsum + (size_t)(y - y0) * (size_t)w + bx;
				const int *pr = pred + (y - by) * bw;
				int wy = win_y[y - by];

				for (int x = 0; x < bw; x++) {
					int wt = wy * win_x[x];

					a[x] += wt * pr[x];
					ws[x] += wt;
				}
			}
		}
	}
	for (int y = first; y < y1; y += step) {
		const int32_t *a = acc + (size_t)(y - y0) * (size_t)w;
		const int32_t *ws = wsum + (size_t)(y - y0) * (size_t)w;

		for (int x = 0; x < w; x++)
			out[y * out_stride + x] = ws[x] ? (uint8_t)((a[x] + ws[x] / 2) / ws[x]) : ref->data[y * ref->stride + x];
	}
}
