/* mcdeint_compare.h: the CUDA deinterlacer (cuda_mcdeint.h) against the CPU's (mcdeint.h),
 * frame for frame, on a moving, noisy scene made here. Included by the GPU test
 * (test_cuda_mcdeint.c, the real device) and by the unit test of the same source run on the
 * CPU (tests/unit/test_cuda_emulated.c): one comparison, two ways to run the kernels.
 */
#ifndef VHS_MCDEINT_COMPARE_H
#define VHS_MCDEINT_COMPARE_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_mcdeint.h"
#include "mcdeint.h"
#include "pixfmt.h"

/* One comparison. */
struct mc_case {
	const char *preset;       /* fast, medium, slow */
	int sharpen;              /* over the preset's */
	const char *fmt;          /* yuv420p, yuv422p, gray, ... */
	int width, height, fields;
	int dx, dy;               /* the scene's motion per field, quarter pixels */
	int zoom;                 /* and its zoom per field, thousandths (vectors vary) */
	uint32_t seed;            /* its noise */
};

/* Frame t of the scene into p (allocated as fmt, w x h): detail of several scales and slants
 * (sines, hard diagonal stripes, a grid of dots), moved (dx, dy) / 4 pixels a field and zoomed,
 * with noise; chroma its own slower pattern. */
static void mc_scene(const struct mc_case *c, struct vhs_picture *p, int t, uint32_t *rng)
{
	for (int pl = 0; pl < p->fmt->planes; pl++) {
		int w = vhs_pixfmt_plane_width(p->fmt, pl, c->width), h = vhs_pixfmt_plane_height(p->fmt, pl, c->height);

		for (int y = 0; y < h; y++) {
			for (int x = 0; x < w; x++) {
				double z = 1 + t * c->zoom / 1000.0, s;
				double u = w / 2.0 + (x - w / 2.0) / z + t * c->dx / 4.0, v = h / 2.0 + (y - h / 2.0) / z + t * c->dy / 4.0;
				int n;

				*rng = *rng * 1103515245u + 12345u;
				n = (int)(*rng >> 28) - 8;
				if (pl == 0)
					s = 120 + 40 * sin(u * 0.21 + v * 0.13) + 25 * sin(u * 0.9 - v * 0.05) +
					    50 * (((int)floor(u + 2 * v) / 7) % 2) + 30 * ((int)floor(u) % 11 == 0 && (int)floor(v) % 9 < 2);
				else
					s = 128 + 30 * sin(u * 0.05 * pl + v * 0.07);
				s += n;
				p->data[pl][y * p->linesize[pl] + x] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
			}
		}
	}
}

/* Runs both on c's fields: 0 when every frame out is the same, sample for sample (count in
 * *frames); -1 with the first difference in msg; 77 when the CUDA deinterlacer cannot open
 * (why in msg); -ENOMEM. */
static int mc_compare(const struct mc_case *c, int *frames, char *msg, size_t len)
{
	const struct vhs_pixfmt *fmt = vhs_pixfmt_find(c->fmt);
	struct vhs_mcdeint_params p;
	struct vhs_mcdeint *cpu = NULL;
	struct vhs_cuda_mcdeint *gpu = NULL;
	struct vhs_picture in, a, b;
	uint8_t *in_buf = NULL, *a_buf = NULL, *b_buf = NULL;
	uint32_t rng = c->seed;
	int ret = 0, got = 0;

	*frames = 0;
	if (!fmt || vhs_mcdeint_preset(c->preset, &p)) {
		snprintf(msg, len, "no format %s or preset %s", c->fmt, c->preset);
		return -1;
	}
	p.sharpen = c->sharpen;
	if (vhs_picture_alloc(&in, &in_buf, fmt, c->width, c->height) ||
	    vhs_picture_alloc(&a, &a_buf, fmt, c->width, c->height) ||
	    vhs_picture_alloc(&b, &b_buf, fmt, c->width, c->height) ||
	    vhs_mcdeint_open(&cpu, &p, fmt, c->width, c->height)) {
		ret = -ENOMEM;
		goto out;
	}
	if ((ret = vhs_cuda_mcdeint_open(&gpu, &p, fmt, c->width, c->height, msg, len))) {
		ret = ret == -ENODEV ? 77 : -1;
		goto out;
	}
	for (int k = 0; k <= c->fields && !ret; k++) {
		int rc, rg;

		if (k < c->fields) {
			mc_scene(c, &in, k, &rng);
			if (vhs_mcdeint_push(cpu, &in, k & 1) || vhs_cuda_mcdeint_push(gpu, &in, k & 1)) {
				snprintf(msg, len, "push of field %d failed: %s", k, vhs_cuda_mcdeint_error(gpu));
				ret = -1;
			}
		} else if (vhs_mcdeint_end(cpu) || vhs_cuda_mcdeint_end(gpu)) {
			snprintf(msg, len, "end failed: %s", vhs_cuda_mcdeint_error(gpu));
			ret = -1;
		}
		while (!ret && (rc = vhs_mcdeint_pull(cpu, &a)) == 1) {
			for (int pl = 0; pl < fmt->planes; pl++)
				memset(b.data[pl], 0xa5, (size_t)b.linesize[pl] * (size_t)vhs_pixfmt_plane_height(fmt, pl, c->height));
			if ((rg = vhs_cuda_mcdeint_pull(gpu, &b)) != 1) {
				snprintf(msg, len, "frame %d: the CPU made it, CUDA's pull said %d (%s)", got, rg,
					 vhs_cuda_mcdeint_error(gpu));
				ret = -1;
				break;
			}
			for (int pl = 0; pl < fmt->planes && !ret; pl++) {
				int w = vhs_pixfmt_plane_width(fmt, pl, c->width), h = vhs_pixfmt_plane_height(fmt, pl, c->height);

				for (int y = 0; y < h && !ret; y++)
					for (int x = 0; x < w && !ret; x++) {
						int va = a.data[pl][y * a.linesize[pl] + x], vb = b.data[pl][y * b.linesize[pl] + x];

						if (va != vb) {
							snprintf(msg, len, "frame %d plane %d (%d, %d): CPU %d, CUDA %d", got, pl, x,
								 y, va, vb);
							ret = -1;
						}
					}
			}
			got++;
		}
	}
	if (!ret && vhs_cuda_mcdeint_pull(gpu, &b) != 0) {
		snprintf(msg, len, "CUDA gave a frame more than the CPU's %d", got);
		ret = -1;
	}
	if (!ret && got != c->fields) {
		snprintf(msg, len, "%d fields in, %d frames out", c->fields, got);
		ret = -1;
	}
	*frames = got;
out:
	vhs_mcdeint_close(&cpu);
	vhs_cuda_mcdeint_close(&gpu);
	free(in_buf);
	free(a_buf);
	free(b_buf);
	return ret;
}

/* The cases both tests run: every preset, resharpening, 4:2:0 at a size whose last blocks
 * move in and whose chroma is odd, 4:2:2, 4:1:1, gray, both motions' signs, zooms (vectors
 * that vary over the picture), a whole NTSC frame. */
static const struct mc_case mc_cases[] = {
	{ "fast", 0, "yuv420p", 100, 70, 8, 5, -3, 0, 1 },
	{ "medium", 0, "yuv422p", 96, 64, 8, -7, 2, 0, 2 },
	{ "slow", 0, "yuv420p", 130, 90, 7, 9, 6, 0, 3 },
	{ "medium", 6, "yuv420p", 100, 70, 8, 3, 1, 0, 4 },
	{ "medium", 0, "yuv411p", 128, 48, 6, 4, 0, 0, 5 },
	{ "fast", 0, "gray", 64, 40, 6, -2, -5, 0, 6 },
	{ "medium", 0, "yuv422p", 160, 120, 8, 2, -1, 25, 7 },
	{ "slow", 4, "yuv420p", 200, 100, 6, -3, 4, -30, 8 },
	{ "medium", 0, "yuv422p", 720, 480, 5, 6, 2, 10, 9 },
};

#endif
