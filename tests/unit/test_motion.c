/* test_motion.c: block motion search and compensation (dsp/video/motion.c): known shifts found
 * to the quarter pixel, large ones through the hierarchy, a picture moved back by its vectors
 * near its original, slices the same as the whole.
 */
#include "motion.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W 192
#define H 128

/* A smooth texture of a few sines (no detail finer than 7 pixels), seen shifted by (qx, qy)
 * quarter pixels: each sample the mean of the texture over its 4 x 4 quarter-sample cell. */
static void s_texture(uint8_t *img, int qx, int qy)
{
	static const double f[][3] = { { 0.21, 0.07, 0.3 }, { -0.05, 0.17, 1.1 }, { 0.13, -0.11, 2.0 },
				       { 0.37, 0.29, 0.7 }, { -0.31, 0.23, 2.9 } };

	for (int y = 0; y < H; y++) {
		for (int x = 0; x < W; x++) {
			double sum = 0;

			for (int j = 0; j < 4; j++) {
				for (int i = 0; i < 4; i++) {
					double u = x + (i + qx + 0.5) / 4.0 - 0.5, v = y + (j + qy + 0.5) / 4.0 - 0.5;

					for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
						sum += 22 * sin(f[k][0] * u + f[k][1] * v + f[k][2]);
				}
			}
			img[y * W + x] = (uint8_t)lround(128 + sum / 16);
		}
	}
}

static const struct vhs_motion_params params = { .block = 16, .range = 24, .subpel = 4, .lambda = 4 };

/* Share of the blocks well inside the picture whose vector is (qx, qy). */
static double s_found(const struct vhs_motion_field *f, int qx, int qy)
{
	int n = 0, right = 0;

	for (int j = 0; j < f->ny; j++) {
		for (int i = 0; i < f->nx; i++) {
			int x = i * f->step, y = j * f->step;

			if (x < 32 || y < 32 || x + f->block > W - 32 || y + f->block > H - 32)
				continue;
			n++;
			right += f->mv[j * f->nx + i].x == qx && f->mv[j * f->nx + i].y == qy;
		}
	}
	return (double)right / n;
}

/* cur is the texture; ref the texture moved by -v: cur's content sits in ref at +v. */
static void s_search_with(const struct vhs_motion_params *p, int qx, int qy, struct vhs_motion_field *f, uint8_t *cur,
			  uint8_t *ref)
{
	struct vhs_motion_pyramid pc = { 0 }, pr = { 0 };

	s_texture(cur, 0, 0);
	s_texture(ref, -qx, -qy);
	cr_assert_eq(vhs_motion_field_init(f, W, H, p->block), 0);
	cr_assert_eq(vhs_motion_pyramid_build(&pc, p, &(struct vhs_plane8){ cur, W, W, H }), 0);
	cr_assert_eq(vhs_motion_pyramid_build(&pr, p, &(struct vhs_plane8){ ref, W, W, H }), 0);
	cr_assert_eq(vhs_motion_search(p, &pc, &pr, f), 0);
	vhs_motion_pyramid_free(&pc);
	vhs_motion_pyramid_free(&pr);
}

static void s_search(int qx, int qy, struct vhs_motion_field *f, uint8_t *cur, uint8_t *ref)
{
	s_search_with(&params, qx, qy, f, cur, ref);
}

Test(motion, quarter_pixel_shifts_found)
{
	static uint8_t cur[W * H], ref[W * H];
	static const int shifts[][2] = { { 0, 0 }, { 1, 0 }, { 0, -1 }, { 5, -3 }, { -6, 2 }, { 11, 7 }, { -9, -14 } };

	for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
		struct vhs_motion_field f;
		double share;

		s_search(shifts[k][0], shifts[k][1], &f, cur, ref);
		share = s_found(&f, shifts[k][0], shifts[k][1]);
		cr_assert(share >= 0.9, "shift (%d, %d)/4: %.0f%% of the blocks found it (block 3,3: %d, %d)",
			  shifts[k][0], shifts[k][1], 100 * share, f.mv[3 * f.nx + 3].x, f.mv[3 * f.nx + 3].y);
		vhs_motion_field_free(&f);
	}
}

/* A search to whole or half pixels finds whole- and half-pixel shifts, in quarter pixels
 * like the finer one (a whole-pixel search once gave them sixteen times too long). */
Test(motion, coarser_subpel_in_quarter_pixels)
{
	static uint8_t cur[W * H], ref[W * H];
	static const int shifts[][2] = { { 8, -4 }, { -20, 12 }, { 0, 0 } };

	for (int subpel = 1; subpel <= 2; subpel++) {
		struct vhs_motion_params p = params;

		p.subpel = subpel;
		for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
			struct vhs_motion_field f;
			int qx = shifts[k][0] + (subpel == 2 ? 2 : 0), qy = shifts[k][1];
			double share;

			s_search_with(&p, qx, qy, &f, cur, ref);
			share = s_found(&f, qx, qy);
			cr_assert(share >= 0.9, "subpel %d, shift (%d, %d)/4: %.0f%% found (block 3,3: %d, %d)", subpel, qx,
				  qy, 100 * share, f.mv[3 * f.nx + 3].x, f.mv[3 * f.nx + 3].y);
			vhs_motion_field_free(&f);
		}
	}
}

/* Shifts beyond the finest level's look-around come through the coarse levels. */
Test(motion, large_shifts_through_the_hierarchy)
{
	static uint8_t cur[W * H], ref[W * H];
	static const int shifts[][2] = { { 4 * 15, 0 }, { -4 * 11, 4 * 9 + 2 }, { 4 * 20 + 1, -4 * 18 - 3 } };

	for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
		struct vhs_motion_field f;
		double share;

		s_search(shifts[k][0], shifts[k][1], &f, cur, ref);
		share = s_found(&f, shifts[k][0], shifts[k][1]);
		cr_assert(share >= 0.9, "shift (%d, %d)/4: %.0f%% found", shifts[k][0], shifts[k][1], 100 * share);
		vhs_motion_field_free(&f);
	}
}

static double s_psnr_inside(const uint8_t *a, const uint8_t *b)
{
	double sum = 0;
	int n = 0;

	for (int y = 24; y < H - 24; y++)
		for (int x = 24; x < W - 24; x++, n++)
			sum += (double)(a[y * W + x] - b[y * W + x]) * (a[y * W + x] - b[y * W + x]);
	return sum ? 10 * log10(255.0 * 255 * n / sum) : 99;
}

/* ref moved by its vectors is cur again, nearly: much nearer than ref unmoved. */
Test(motion, compensation_moves_the_picture_back)
{
	static uint8_t cur[W * H], ref[W * H], moved[W * H], sliced[W * H];
	struct vhs_motion_field f;
	struct vhs_plane8 r = { ref, W, W, H };
	double before, after;

	s_search(-7, 10, &f, cur, ref);
	vhs_motion_compensate(&f, &r, 0, 0, moved, W, 0, H, -1);
	before = s_psnr_inside(ref, cur);
	after = s_psnr_inside(moved, cur);
	cr_assert(after >= 38 && after >= before + 15, "PSNR %.1f dB moved, %.1f dB as it was", after, before);
	for (int y = 0; y < H; y += 20)
		vhs_motion_compensate(&f, &r, 0, 0, sliced, W, y, y + 20, -1);
	cr_assert_arr_eq(moved, sliced, sizeof(moved), "slices of rows moved otherwise than the whole");
	/* one parity's rows alone (slices starting on either parity): those rows as the whole's,
	 * the others untouched */
	for (int parity = 0; parity < 2; parity++) {
		memset(sliced, 7, sizeof(sliced));
		for (int y = 0; y < H; y += 21)
			vhs_motion_compensate(&f, &r, 0, 0, sliced, W, y, y + 21, parity);
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				cr_assert_eq(sliced[y * W + x], (y & 1) == parity ? moved[y * W + x] : 7,
					     "parity %d row %d column %d", parity, y, x);
	}
	vhs_motion_field_free(&f);
}

/* A chroma plane (half across, as 4:2:2) moves by the vectors halved. */
Test(motion, chroma_planes_move_by_the_scaled_vectors)
{
	static uint8_t cur[W * H], ref[W * H], ccur[W / 2 * H], cref[W / 2 * H], moved[W / 2 * H];
	struct vhs_motion_field f;
	double before = 0, after = 0;

	s_search(8, -4, &f, cur, ref); /* 2 pixels left, 1 down in luma: 1 chroma sample across */
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W / 2; x++) {
			ccur[y * W / 2 + x] = cur[y * W + 2 * x];
			cref[y * W / 2 + x] = ref[y * W + 2 * x];
		}
	vhs_motion_compensate(&f, &(struct vhs_plane8){ cref, W / 2, W / 2, H }, 1, 0, moved, W / 2, 0, H, -1);
	for (int y = 24; y < H - 24; y++)
		for (int x = 12; x < W / 2 - 12; x++) {
			before += abs(cref[y * W / 2 + x] - ccur[y * W / 2 + x]);
			after += abs(moved[y * W / 2 + x] - ccur[y * W / 2 + x]);
		}
	cr_assert(after * 5 < before, "chroma error %.0f moved, %.0f as it was", after, before);
	vhs_motion_field_free(&f);
}

Test(motion, field_sizes)
{
	struct vhs_motion_field f;

	cr_assert_eq(vhs_motion_field_init(&f, 720, 480, 16), 0);
	cr_assert_eq(f.nx, 89, "720 across in 16s every 8: 89 blocks");
	cr_assert_eq(f.ny, 59);
	vhs_motion_field_free(&f);
	cr_assert_eq(vhs_motion_field_init(&f, 100, 50, 8), 0);
	cr_assert_eq(f.nx, 24, "100 across in 8s every 4: 24 (the last moved in to end at 100)");
	vhs_motion_field_free(&f);
	cr_assert_eq(vhs_motion_field_init(&f, 12, 50, 16), -EINVAL);
	cr_assert_eq(vhs_motion_field_init(&f, 64, 64, 12), -EINVAL);
}
