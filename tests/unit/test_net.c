/* test_net.c: the CPU network (net.c) against an independent float64 evaluation of the same
 * graph, on the real ESRGAN models (make models) and fresh random inputs every run; and its
 * promises: tiles and threads never change a bit, every output element is written. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "net.h"

static unsigned s_seed;

static void s_init_seed(void)
{
	s_seed = (unsigned)time(NULL) ^ (unsigned)clock();
	srand(s_seed);
}

static float *s_random_image(int w, int h, float range)
{
	float *p = malloc(sizeof(float) * 3 * w * h);

	for (int i = 0; i < 3 * w * h; i++)
		p[i] = range * (float)rand() / (float)RAND_MAX;
	return p;
}

static void s_open(struct vhs_nn_model *m, const char *name, int scale)
{
	char err[512];

	cr_assert_eq(vhs_nn_model_open(m, name, scale, err, sizeof(err)), 0,
		     "%s (tests need the models: make models)", err);
}

/* ---- the float64 reference: naive loops over model.h's definitions ---- */

struct dtensor {
	double *v;
	int w, h, c;
};

static double s_at(const struct dtensor *t, int x, int y, int c)
{
	if (x < 0 || y < 0 || x >= t->w || y >= t->h)
		return 0;
	return t->v[((size_t)y * t->w + x) * t->c + c];
}

static void s_ref_layer(const struct vhs_nn_model *m, struct dtensor *t, int i)
{
	const struct vhs_nn_layer *ly = &m->layers[i];
	const struct dtensor *a = &t[ly->inputs[0]];
	struct dtensor *o = &t[i];
	int f = ly->factor;

	o->c = ly->channels;
	o->w = a->w * (ly->op == VHS_NN_UPSAMPLE || ly->op == VHS_NN_DEPTH_TO_SPACE ? f : 1);
	o->h = a->h * (ly->op == VHS_NN_UPSAMPLE || ly->op == VHS_NN_DEPTH_TO_SPACE ? f : 1);
	o->v = calloc((size_t)o->w * o->h * o->c, sizeof(double));
	for (int y = 0; y < o->h; y++)
		for (int x = 0; x < o->w; x++)
			for (int c = 0; c < o->c; c++) {
				double s = 0;

				switch (ly->op) {
				case VHS_NN_CONV:
					s = ly->bias ? ly->bias[c] : 0;
					for (int dy = 0; dy < ly->kh; dy++)
						for (int dx = 0; dx < ly->kw; dx++)
							for (int k = 0; k < ly->cin; k++)
								s += s_at(a, x + dx - ly->pad, y + dy - ly->pad, k) *
								     ly->kernel[((dy * ly->kw + dx) * ly->cin + k) * ly->cout + c];
					if (ly->relu)
						s = fmax(s, 0);
					break;
				case VHS_NN_RELU:
					s = fmax(s_at(a, x, y, c), 0);
					break;
				case VHS_NN_MUL:
					s = s_at(a, x, y, c) * ly->beta;
					break;
				case VHS_NN_ADD:
					for (int q = 0; q < ly->n_inputs; q++)
						s += s_at(&t[ly->inputs[q]], x, y, c);
					break;
				case VHS_NN_CONCAT: {
					int q = 0, cc = c;

					while (cc >= t[ly->inputs[q]].c)
						cc -= t[ly->inputs[q++]].c;
					s = s_at(&t[ly->inputs[q]], x, y, cc);
					break;
				}
				case VHS_NN_UPSAMPLE:
					s = s_at(a, x / f, y / f, c);
					break;
				case VHS_NN_DEPTH_TO_SPACE:
					s = s_at(a, x / f, y / f, ((y % f) * f + x % f) * o->c + c);
					break;
				default:
					cr_assert_fail("layer %s: unexpected op", ly->name);
				}
				o->v[((size_t)y * o->w + x) * o->c + c] = s;
			}
}

static double *s_reference(const struct vhs_nn_model *m, const float *in, int w, int h)
{
	struct dtensor *t = calloc((size_t)m->n_layers, sizeof(*t));
	double *out;

	t[0] = (struct dtensor){ calloc((size_t)w * h * 3, sizeof(double)), w, h, 3 };
	for (int i = 0; i < w * h * 3; i++)
		t[0].v[i] = in[i];
	for (int i = 1; i < m->n_layers; i++)
		s_ref_layer(m, t, i);
	out = t[m->output].v;
	t[m->output].v = NULL;
	for (int i = 0; i < m->n_layers; i++)
		free(t[i].v);
	free(t);
	return out;
}

/* ||out - ref|| / ||ref||, failing on any element not written (NaN poison) or not finite. */
static double s_rel_error(const float *out, const double *ref, size_t n)
{
	double num = 0, den = 0;

	for (size_t i = 0; i < n; i++) {
		cr_assert(isfinite(out[i]), "element %zu not written or not finite (seed %u)", i, s_seed);
		num += (out[i] - ref[i]) * (out[i] - ref[i]);
		den += ref[i] * ref[i];
	}
	return sqrt(num / den);
}

static float *s_run(const struct vhs_nn_model *m, const float *in, int w, int h, int threads,
		    int tile_w, int tile_h)
{
	size_t n = (size_t)w * m->scale * h * m->scale * 3;
	float *out = malloc(n * sizeof(float));
	struct vhs_nn_cpu *c;

	for (size_t i = 0; i < n; i++)
		out[i] = NAN;
	cr_assert_eq(vhs_nn_cpu_open(&c, m, threads, 0), 0);
	vhs_nn_cpu_set_tile(c, tile_w, tile_h);
	cr_assert_eq(vhs_nn_cpu_run(c, in, w, h, out), 0);
	vhs_nn_cpu_close(&c);
	return out;
}

static void s_check_against_float64(const char *name, int scale, int w, int h)
{
	struct vhs_nn_model m;
	float *in, *out;
	double *ref, err;

	s_init_seed();
	s_open(&m, name, scale);
	in = s_random_image(w, h, m.range);
	out = s_run(&m, in, w, h, 2, 0, 0);
	ref = s_reference(&m, in, w, h);
	err = s_rel_error(out, ref, (size_t)w * scale * h * scale * 3);
	cr_log_info("%s x%d %dx%d: relative error %.3g (seed %u)", name, scale, w, h, err, s_seed);
	cr_expect_lt(err, 1e-5, "%s x%d: relative error %.3g (seed %u)", name, scale, err, s_seed);
	free(in);
	free(out);
	free(ref);
	vhs_nn_model_free(&m);
}

Test(net, slim_x2_matches_float64)
{
	s_check_against_float64("esrgan-slim", 2, 29, 23);
}

Test(net, slim_x3_matches_float64)
{
	s_check_against_float64("esrgan-slim", 3, 17, 14);
}

Test(net, medium_x4_matches_float64)
{
	s_check_against_float64("esrgan-medium", 4, 13, 11);
}

/* RRDB: MultiplyBeta and PixelShuffle, 154 convolutions, range 0..1. */
Test(net, thick_x2_matches_float64, .timeout = 120)
{
	s_check_against_float64("esrgan-thick", 2, 9, 8);
}

/* Tiles of any size give the whole frame's result bit for bit (the halo is enough), and so
 * does any thread count. */
static void s_check_tiles(const char *name, int scale, int w, int h, int tw, int th)
{
	struct vhs_nn_model m;
	size_t n;
	float *in, *whole, *tiled, *threaded;

	s_init_seed();
	s_open(&m, name, scale);
	n = (size_t)w * scale * h * scale * 3;
	in = s_random_image(w, h, m.range);
	whole = s_run(&m, in, w, h, 1, 0, 0);
	tiled = s_run(&m, in, w, h, 1, tw, th);
	threaded = s_run(&m, in, w, h, 3, tw, th);
	for (size_t i = 0; i < n; i++) {
		cr_assert(isfinite(whole[i]), "element %zu not written", i);
		cr_assert(memcmp(&whole[i], &tiled[i], sizeof(float)) == 0,
			  "%s: tiles %dx%d differ at %zu: %g vs %g (seed %u)", name, tw, th, i,
			  whole[i], tiled[i], s_seed);
		cr_assert(memcmp(&tiled[i], &threaded[i], sizeof(float)) == 0,
			  "%s: 3 threads differ at %zu (seed %u)", name, i, s_seed);
	}
	free(in);
	free(whole);
	free(tiled);
	free(threaded);
	vhs_nn_model_free(&m);
}

Test(net, slim_tiles_equal_whole_frame)
{
	s_check_tiles("esrgan-slim", 2, 45, 31, 16, 9);
}

Test(net, medium_tiles_equal_whole_frame)
{
	s_check_tiles("esrgan-medium", 2, 47, 41, 23, 17);
}

/* A tiny frame (smaller than a pixel block and than the halo). */
Test(net, one_pixel_frame)
{
	s_check_against_float64("esrgan-slim", 2, 1, 1);
}
