/* test_cuda.c: the CUDA backend (cuda.cu) against the CPU reference (net.c, color.c,
 * resample.c). A plain C program: the GPU machines have no Criterion.
 *
 *   make build/tests/gpu/test_cuda && build/tests/gpu/test_cuda   (or make test-gpu)
 *
 * Exit status: 0 all passed, 1 a check failed, 77 skipped (no usable GPU: says why).
 * Inputs are fresh random data every run; the seed is printed, VHS_TEST_SEED=N repeats a run.
 *
 * Cases:
 *   a. a synthetic network built here (every op of model.h, odd channel counts, 1x1, 3x3
 *      and 5x5 kernels) on odd frame sizes, whole frame and forced tiles: relative error
 *      ||gpu - cpu|| / ||cpu|| < 1e-3 (FP32) or 1e-2 (FP16); NaN or Inf never passes, and
 *      outputs are poisoned with NaN first, so an unwritten value fails;
 *   b. esrgan-slim x2 (skipped, with the reason, when `make models` has not been run): a
 *      random yuv420p picture through the whole CUDA path against color.c -> net.c ->
 *      resample.c -> color.c, with and without the final resize; max code difference
 *      <= 2 (FP32), relative error of the codes < 1e-2 (FP16);
 *   c. plain Lanczos planes against vhs_resample_plane: max difference <= 1 code.
 * Every picture case submits the frame twice, into outputs poisoned 0x00 and 0xff (rows
 * padded): both must come back equal (every sample written) with the padding untouched.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "color.h"
#include "cuda_upscaler.h"
#include "model.h"
#include "net.h"
#include "pixfmt.h"
#include "resample.h"
#include "spec.h"

#define SKIP 77
#define ROW_PAD 40            /* bytes of padding after each row of an output picture */
#define PAD_BYTE 0x5a         /* what the padding holds; the backend must leave it */
#define TOL_FP32 1e-3
#define TOL_FP16 1e-2

static uint64_t s_rng;
static int s_failed;

/* ---- helpers -------------------------------------------------------------------------- */

static uint32_t s_rand(void)
{
	s_rng ^= s_rng << 13;
	s_rng ^= s_rng >> 7;
	s_rng ^= s_rng << 17;
	return (uint32_t)(s_rng >> 16);
}

/* Uniform in [lo, hi). */
static float s_uniform(float lo, float hi)
{
	return lo + (hi - lo) * (float)(s_rand() & 0xffffff) / 16777216.0f;
}

static void s_check(int ok, const char *what)
{
	printf("  %s: %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		s_failed = 1;
}

/* ||a - b|| / ||b||, or INFINITY when a holds a NaN or an infinity. */
static double s_rel_err(const float *a, const float *b, size_t n, double *max_abs)
{
	double num = 0, den = 0;

	*max_abs = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)a[i] - b[i];

		if (!isfinite(a[i]))
			return INFINITY;
		num += d * d;
		den += (double)b[i] * b[i];
		*max_abs = fabs(d) > *max_abs ? fabs(d) : *max_abs;
	}
	return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* ---- pictures ------------------------------------------------------------------------- */

/* A picture of fmt, w x h, rows of pad extra bytes, planes in one allocation. */
static int s_pic_alloc(struct vhs_picture *p, const struct vhs_pixfmt *f, int w, int h, int pad)
{
	size_t size = 0, at = 0;
	uint8_t *buf;

	memset(p, 0, sizeof(*p));
	p->fmt = f;
	p->width = w;
	p->height = h;
	for (int i = 0; i < f->planes; i++) {
		p->linesize[i] = vhs_pixfmt_plane_width(f, i, w) * f->bytes + pad;
		size += (size_t)p->linesize[i] * vhs_pixfmt_plane_height(f, i, h);
	}
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < f->planes; i++) {
		p->data[i] = buf + at;
		at += (size_t)p->linesize[i] * vhs_pixfmt_plane_height(f, i, h);
	}
	return 0;
}

static void s_pic_free(struct vhs_picture *p)
{
	free(p->data[0]);
	p->data[0] = NULL;
}

static size_t s_pic_bytes(const struct vhs_picture *p)
{
	size_t n = 0;

	for (int i = 0; i < p->fmt->planes; i++)
		n += (size_t)p->linesize[i] * vhs_pixfmt_plane_height(p->fmt, i, p->height);
	return n;
}

/* Samples: value v, padding PAD_BYTE. */
static void s_pic_poison(struct vhs_picture *p, uint8_t v)
{
	const struct vhs_pixfmt *f = p->fmt;

	memset(p->data[0], PAD_BYTE, s_pic_bytes(p));
	for (int i = 0; i < f->planes; i++)
		for (int y = 0; y < vhs_pixfmt_plane_height(f, i, p->height); y++)
			memset(p->data[i] + (size_t)y * p->linesize[i], v,
			       (size_t)vhs_pixfmt_plane_width(f, i, p->width) * f->bytes);
}

/* Random codes in [0, 2^depth - 1]. */
static void s_pic_random(struct vhs_picture *p)
{
	const struct vhs_pixfmt *f = p->fmt;
	uint32_t max = (1u << f->depth) - 1;

	for (int i = 0; i < f->planes; i++) {
		for (int y = 0; y < vhs_pixfmt_plane_height(f, i, p->height); y++) {
			uint8_t *row = p->data[i] + (size_t)y * p->linesize[i];

			for (int x = 0; x < vhs_pixfmt_plane_width(f, i, p->width); x++) {
				if (f->bytes == 1)
					row[x] = (uint8_t)(s_rand() & max);
				else
					((uint16_t *)(void *)row)[x] = (uint16_t)(s_rand() % (max + 1));
			}
		}
	}
}

static int s_sample(const struct vhs_picture *p, int plane, int x, int y)
{
	const uint8_t *row = p->data[plane] + (size_t)y * p->linesize[plane];

	return p->fmt->bytes == 1 ? row[x] : ((const uint16_t *)(const void *)row)[x];
}

/* Compares the samples of a and b: the largest difference, and sums for the relative
 * error (sum of squared differences, of squared b). */
static int s_pic_diff(const struct vhs_picture *a, const struct vhs_picture *b, double *num,
		      double *den)
{
	const struct vhs_pixfmt *f = a->fmt;
	int max = 0;

	*num = *den = 0;
	for (int i = 0; i < f->planes; i++) {
		for (int y = 0; y < vhs_pixfmt_plane_height(f, i, a->height); y++) {
			for (int x = 0; x < vhs_pixfmt_plane_width(f, i, a->width); x++) {
				int va = s_sample(a, i, x, y), vb = s_sample(b, i, x, y);
				int d = abs(va - vb);

				max = d > max ? d : max;
				*num += (double)d * d;
				*den += (double)vb * vb;
			}
		}
	}
	return max;
}

/* Whether every padding byte of p still holds PAD_BYTE. */
static int s_pad_intact(const struct vhs_picture *p)
{
	const struct vhs_pixfmt *f = p->fmt;

	for (int i = 0; i < f->planes; i++) {
		size_t row = (size_t)vhs_pixfmt_plane_width(f, i, p->width) * f->bytes;

		for (int y = 0; y < vhs_pixfmt_plane_height(f, i, p->height); y++)
			for (size_t x = row; x < (size_t)p->linesize[i]; x++)
				if (p->data[i][(size_t)y * p->linesize[i] + x] != PAD_BYTE)
					return 0;
	}
	return 1;
}

/* Runs `in` through u twice, into outputs poisoned 0x00 and 0xff, collecting the first
 * by polling and the second by waiting; checks order, that both are equal (every sample
 * written) and their padding untouched. out (allocated by the caller, ROW_PAD) gets the
 * result. Returns 0, or -1 after reporting a failure. */
static int s_run_picture(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
			 struct vhs_picture *out)
{
	struct vhs_picture second;
	uint64_t tag = 0, gpu0 = vhs_cuda_gpu_ns(u), gpu, wall;
	struct timespec t0, t1;
	char what[160];
	double num, den;
	int ret, got;

	if (s_pic_alloc(&second, out->fmt, out->width, out->height, ROW_PAD))
		return -1;
	s_pic_poison(out, 0x00);
	s_pic_poison(&second, 0xff);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = vhs_cuda_submit(u, in, out, 1);
	if (!ret)
		ret = vhs_cuda_submit(u, in, &second, 2);
	if (ret) {
		printf("  FAIL: vhs_cuda_submit: %s (%s)\n", vhs_cuda_error(u), strerror(-ret));
		goto out_fail;
	}
	while ((got = vhs_cuda_collect(u, &tag, 0)) == 0)
		usleep(100);
	s_check(got == 1 && tag == 1, "first frame collected (polling) with its tag");
	got = vhs_cuda_collect(u, &tag, 1);
	s_check(got == 1 && tag == 2, "second frame collected (waiting) with its tag");
	s_check(vhs_cuda_collect(u, &tag, 1) == 0, "nothing left to collect");
	if (got < 0) {
		printf("  FAIL: vhs_cuda_collect: %s\n", vhs_cuda_error(u));
		goto out_fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gpu = vhs_cuda_gpu_ns(u) - gpu0;
	wall = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	snprintf(what, sizeof(what), "GPU time of the two frames %.3f ms: above 0, at most the "
		 "%.3f ms they took (overlap counted once)", gpu / 1e6, wall / 1e6);
	s_check(gpu > 0 && gpu <= wall, what);
	s_check(s_pic_diff(out, &second, &num, &den) == 0,
		"every output sample written (0x00- and 0xff-poisoned runs agree)");
	s_check(s_pad_intact(out) && s_pad_intact(&second), "row padding untouched");
	s_pic_free(&second);
	return 0;
out_fail:
	s_failed = 1;
	s_pic_free(&second);
	return -1;
}

/* ---- a. synthetic network ------------------------------------------------------------- */

/* One layer of the synthetic network: op, inputs, kernel size, output channels. */
struct synth_row {
	enum vhs_nn_op op;
	int n_in, in[3];
	int k, cout, relu;  /* CONV (cout: output channels) */
	int factor;         /* UPSAMPLE, DEPTH_TO_SPACE */
};

/* Every op; 3x3, 1x1 and 5x5 kernels; channel counts 3, 12, 32, 48, 64, 80, 83 (FP16:
 * padding, 1-4 output fragments per block, several channel blocks); scale 4. */
static const struct synth_row s_synth_rows[] = {
	{ VHS_NN_INPUT, 0, { 0 }, 0, 3, 0, 0 },
	{ VHS_NN_CONV, 1, { 0 }, 3, 32, 1, 0 },
	{ VHS_NN_CONV, 1, { 1 }, 3, 48, 1, 0 },
	{ VHS_NN_CONCAT, 3, { 0, 1, 2 }, 0, 0, 0, 0 },   /* 83 */
	{ VHS_NN_CONV, 1, { 3 }, 1, 80, 1, 0 },
	{ VHS_NN_CONV, 1, { 4 }, 3, 32, 0, 0 },
	{ VHS_NN_MUL, 1, { 5 }, 0, 0, 0, 0 },
	{ VHS_NN_ADD, 2, { 1, 6 }, 0, 0, 0, 0 },
	{ VHS_NN_CONV, 1, { 7 }, 3, 64, 0, 0 },
	{ VHS_NN_RELU, 1, { 8 }, 0, 0, 0, 0 },
	{ VHS_NN_UPSAMPLE, 1, { 9 }, 0, 0, 0, 2 },
	{ VHS_NN_CONV, 1, { 10 }, 3, 12, 0, 0 },
	{ VHS_NN_DEPTH_TO_SPACE, 1, { 11 }, 0, 0, 0, 2 },
	{ VHS_NN_CONV, 1, { 12 }, 5, 3, 0, 0 },
};
#define SYNTH_LAYERS ((int)(sizeof(s_synth_rows) / sizeof(s_synth_rows[0])))

struct synth {
	struct vhs_nn_model m;
	struct vhs_nn_layer layers[SYNTH_LAYERS];
	int inputs[SYNTH_LAYERS][3];
};

/* Shapes from the rows; channels and strides propagated as model.c does. */
static void s_synth_shape(struct synth *s, int i, const struct synth_row *r)
{
	struct vhs_nn_layer *ly = &s->layers[i];
	const struct vhs_nn_layer *in0 = r->n_in ? &s->layers[r->in[0]] : NULL;

	snprintf(ly->name, sizeof(ly->name), "synth_%d", i);
	ly->op = r->op;
	ly->n_inputs = r->n_in;
	ly->inputs = s->inputs[i];
	memcpy(s->inputs[i], r->in, sizeof(r->in));
	ly->stride = in0 ? in0->stride : 1;
	ly->channels = in0 ? in0->channels : 3;
	ly->beta = 0.2f;
	ly->factor = r->factor;
	if (r->op == VHS_NN_CONCAT)
		for (int k = 1; k < r->n_in; k++)
			ly->channels += s->layers[r->in[k]].channels;
	if (r->op == VHS_NN_UPSAMPLE || r->op == VHS_NN_DEPTH_TO_SPACE)
		ly->stride *= r->factor;
	if (r->op == VHS_NN_DEPTH_TO_SPACE)
		ly->channels /= r->factor * r->factor;
	if (r->op == VHS_NN_CONV) {
		ly->kh = ly->kw = r->k;
		ly->pad = (r->k - 1) / 2;
		ly->cin = in0->channels;
		ly->cout = ly->channels = r->cout;
		ly->relu = r->relu;
	}
}

/* The halo as model.c derives it (context per layer in input pixels, + 1). */
static int s_synth_halo(const struct synth *s)
{
	double r[SYNTH_LAYERS] = { 0 };

	for (int i = 0; i < SYNTH_LAYERS; i++) {
		const struct vhs_nn_layer *ly = &s->layers[i];

		for (int k = 0; k < ly->n_inputs; k++)
			r[i] = fmax(r[i], r[ly->inputs[k]]);
		if (ly->op == VHS_NN_CONV)
			r[i] += (double)ly->pad / ly->stride;
		else if (ly->op == VHS_NN_UPSAMPLE || ly->op == VHS_NN_DEPTH_TO_SPACE)
			r[i] += 0.5 * ly->factor / ly->stride;
	}
	return (int)ceil(r[SYNTH_LAYERS - 1]) + 1;
}

/* The synthetic model with random weights (variance ~ 1 / fan-in, so values stay near
 * the input's scale); range 255. Returns 0 or -ENOMEM. */
static int s_synth_build(struct synth *s)
{
	size_t n = 0, at = 0;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < SYNTH_LAYERS; i++) {
		s_synth_shape(s, i, &s_synth_rows[i]);
		if (s->layers[i].op == VHS_NN_CONV)
			n += (size_t)s->layers[i].kh * s->layers[i].kw * s->layers[i].cin *
			     s->layers[i].cout + s->layers[i].cout;
	}
	s->m.weights = malloc(n * sizeof(float));
	if (!s->m.weights)
		return -ENOMEM;
	s->m.n_weights = n;
	for (int i = 0; i < SYNTH_LAYERS; i++) {
		struct vhs_nn_layer *ly = &s->layers[i];
		size_t nk = (size_t)ly->kh * ly->kw * ly->cin * ly->cout;
		float a = ly->op == VHS_NN_CONV ? sqrtf(3.0f / (float)(ly->kh * ly->kw * ly->cin)) : 0;

		if (ly->op != VHS_NN_CONV)
			continue;
		for (size_t k = 0; k < nk + ly->cout; k++)
			s->m.weights[at + k] = k < nk ? s_uniform(-a, a) : s_uniform(-1.0f, 1.0f);
		ly->kernel = s->m.weights + at;
		ly->bias = s->m.weights + at + nk;
		at += nk + ly->cout;
	}
	snprintf(s->m.name, sizeof(s->m.name), "synthetic");
	s->m.layers = s->layers;
	s->m.n_layers = SYNTH_LAYERS;
	s->m.output = SYNTH_LAYERS - 1;
	s->m.scale = s->layers[SYNTH_LAYERS - 1].stride;
	s->m.range = 255.0f;
	s->m.halo = s_synth_halo(s);
	vhs_nn_model_plan(&s->m);
	return 0;
}

/* A spec for running the network alone on w x h (formats and colour only to be valid). */
static void s_net_spec(struct vhs_upscale_spec *sp, const struct vhs_nn_model *m, int w, int h)
{
	const struct vhs_pixfmt *f = vhs_pixfmt_find("yuv444p");

	memset(sp, 0, sizeof(*sp));
	sp->model = m;
	sp->in_fmt = sp->out_fmt = f;
	sp->in_w = w;
	sp->in_h = h;
	sp->net_w = sp->out_w = w * m->scale;
	sp->net_h = sp->out_h = h * m->scale;
	vhs_color_setup_in(&sp->in, f, w, h, NULL);
	vhs_color_setup_out(&sp->out, f, sp->out_w, sp->out_h, VHS_MATRIX_BT709, NULL);
}

/* The network on w x h, CUDA (precision, tiles tw x th or 0 = planned) against net.c. */
static void s_net_case(const struct vhs_nn_model *m, int w, int h, enum vhs_cuda_precision prec,
		       int tw, int th)
{
	size_t nin = (size_t)w * h * 3, nout = nin * m->scale * m->scale;
	float *in = malloc(nin * sizeof(float)), *ref = malloc(nout * sizeof(float));
	float *out = malloc(nout * sizeof(float));
	struct vhs_upscale_spec sp;
	struct vhs_cuda_upscaler *u = NULL;
	struct vhs_nn_cpu *cpu = NULL;
	char err[256], what[200];
	double rel, max_abs, tol = prec == VHS_CUDA_FP32 ? TOL_FP32 : TOL_FP16;
	int ret, utw = 0, uth = 0;

	printf("%s %s %dx%d, tiles %dx%d:\n", m->name, prec == VHS_CUDA_FP32 ? "fp32" : "fp16", w, h,
	       tw, th);
	if (!in || !ref || !out) {
		s_check(0, "memory");
		goto out_free;
	}
	for (size_t i = 0; i < nin; i++)
		in[i] = s_uniform(0.0f, m->range);
	for (size_t i = 0; i < nout; i++)
		out[i] = ref[i] = NAN;
	s_net_spec(&sp, m, w, h);
	ret = vhs_nn_cpu_open(&cpu, m, 4, 0);
	if (!ret)
		ret = vhs_nn_cpu_run(cpu, in, w, h, ref);
	if (ret) {
		printf("  FAIL: CPU reference: %s\n", strerror(-ret));
		s_failed = 1;
		goto out_free;
	}
	ret = vhs_cuda_open(&u, &sp, prec, 1, err, sizeof(err));
	if (ret) {
		printf("  FAIL: vhs_cuda_open: %s\n", err);
		s_failed = 1;
		goto out_free;
	}
	vhs_cuda_set_tile(u, tw, th);
	vhs_cuda_tile(u, &utw, &uth);
	ret = vhs_cuda_run_net(u, in, out);
	if (ret) {
		printf("  FAIL: vhs_cuda_run_net: %s\n", vhs_cuda_error(u));
		s_failed = 1;
		goto out_free;
	}
	rel = s_rel_err(out, ref, nout, &max_abs);
	snprintf(what, sizeof(what), "relative error %.3g < %g (max abs %.3g, tiles %dx%d)%s", rel, tol,
		 max_abs, utw, uth, rel == 0 ? ": bit-exact" : "");
	s_check(rel < tol, what);
	if (tw > 0 && th > 0)
		s_check(utw == (tw < w ? tw : w) && uth == (th < h ? th : h), "the forced tiles were used");
out_free:
	vhs_cuda_close(&u);
	vhs_nn_cpu_close(&cpu);
	free(out);
	free(ref);
	free(in);
}

static void s_case_synthetic(void)
{
	struct synth s;
	static const int sizes[][4] = {
		/* w, h, tile w, tile h (0: planned, the whole frame here) */
		{ 37, 23, 0, 0 }, { 37, 23, 16, 8 }, { 5, 3, 0, 0 }, { 70, 41, 24, 17 },
	};

	if (s_synth_build(&s)) {
		s_check(0, "synthetic model: memory");
		return;
	}
	printf("synthetic model: %d layers, halo %d, scale %d\n", s.m.n_layers, s.m.halo, s.m.scale);
	for (int p = 0; p < 2; p++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			s_net_case(&s.m, sizes[i][0], sizes[i][1], p ? VHS_CUDA_FP16 : VHS_CUDA_FP32,
				   sizes[i][2], sizes[i][3]);
	free(s.m.weights);
}

/* ---- b. esrgan-slim, the whole picture path ------------------------------------------- */

/* The CPU path of a spec with a model: to RGB, net.c, resize, from RGB. */
static int s_cpu_picture(const struct vhs_upscale_spec *sp, const struct vhs_picture *in,
			 struct vhs_picture *out)
{
	const struct vhs_nn_model *m = sp->model;
	float *rgb = malloc((size_t)sp->in_w * sp->in_h * 3 * sizeof(float));
	float *net = malloc((size_t)sp->net_w * sp->net_h * 3 * sizeof(float));
	float *big = malloc((size_t)sp->out_w * sp->out_h * 3 * sizeof(float));
	float *tmp = malloc((size_t)sp->out_w * sp->net_h * 3 * sizeof(float));
	struct vhs_nn_cpu *cpu = NULL;
	int ret = -ENOMEM;

	if (!rgb || !net || !big || !tmp)
		goto out_free;
	vhs_color_to_rgb(&sp->in, in, rgb, m->range);
	ret = vhs_nn_cpu_open(&cpu, m, 4, 0);
	if (!ret)
		ret = vhs_nn_cpu_run(cpu, rgb, sp->in_w, sp->in_h, net);
	if (ret)
		goto out_free;
	if (sp->resize)
		vhs_resample_hwc(net, sp->net_w, sp->net_h, 3, big, sp->out_w, sp->out_h, &sp->h, &sp->v,
				 tmp);
	vhs_color_from_rgb(&sp->out, sp->resize ? big : net, m->range, out);
out_free:
	vhs_nn_cpu_close(&cpu);
	free(tmp);
	free(big);
	free(net);
	free(rgb);
	return ret;
}

static void s_esrgan_case(const struct vhs_nn_model *m, int out_w, int out_h,
			  enum vhs_cuda_precision prec)
{
	const struct vhs_pixfmt *f = vhs_pixfmt_find("yuv420p");
	const struct vhs_colorimetry tags = { VHS_RANGE_LIMITED, VHS_MATRIX_SMPTE170M, 6, 6,
					      VHS_CHROMA_LEFT };
	struct vhs_upscale_spec sp;
	struct vhs_picture in = { 0 }, out = { 0 }, ref = { 0 };
	struct vhs_cuda_upscaler *u = NULL;
	char err[256], what[200];
	double num, den, rel;
	int max;

	printf("%s x%d fp%d: yuv420p 64x48 -> %dx%d%s:\n", m->name, m->scale,
	       prec == VHS_CUDA_FP32 ? 32 : 16, out_w, out_h,
	       out_w != 64 * m->scale || out_h != 48 * m->scale ? " (network, then Lanczos)" : "");
	memset(&sp, 0, sizeof(sp));
	sp.model = m;
	sp.in_fmt = sp.out_fmt = f;
	sp.in_w = 64;
	sp.in_h = 48;
	sp.net_w = 64 * m->scale;
	sp.net_h = 48 * m->scale;
	sp.out_w = out_w;
	sp.out_h = out_h;
	sp.resize = sp.net_w != out_w || sp.net_h != out_h;
	vhs_color_setup_in(&sp.in, f, sp.in_w, sp.in_h, &tags);
	vhs_color_setup_out(&sp.out, f, out_w, out_h, VHS_MATRIX_BT709, &tags);
	if ((sp.resize && (vhs_resample_table_init(&sp.h, sp.net_w, out_w) ||
			   vhs_resample_table_init(&sp.v, sp.net_h, out_h))) ||
	    s_pic_alloc(&in, f, 64, 48, 16) || s_pic_alloc(&out, f, out_w, out_h, ROW_PAD) ||
	    s_pic_alloc(&ref, f, out_w, out_h, 0)) {
		s_check(0, "memory");
		goto out_free;
	}
	s_pic_random(&in);
	if (s_cpu_picture(&sp, &in, &ref)) {
		s_check(0, "CPU reference path");
		goto out_free;
	}
	if (vhs_cuda_open(&u, &sp, prec, 2, err, sizeof(err))) {
		printf("  FAIL: vhs_cuda_open: %s\n", err);
		s_failed = 1;
		goto out_free;
	}
	if (s_run_picture(u, &in, &out))
		goto out_free;
	max = s_pic_diff(&out, &ref, &num, &den);
	rel = den > 0 ? sqrt(num / den) : 0;
	if (prec == VHS_CUDA_FP32) {
		snprintf(what, sizeof(what), "max code difference %d <= 2 (relative %.3g)", max, rel);
		s_check(max <= 2, what);
	} else {
		snprintf(what, sizeof(what), "relative code error %.3g < %g (max difference %d)", rel,
			 TOL_FP16, max);
		s_check(rel < TOL_FP16, what);
	}
out_free:
	vhs_cuda_close(&u);
	s_pic_free(&ref);
	s_pic_free(&out);
	s_pic_free(&in);
	vhs_resample_table_free(&sp.h);
	vhs_resample_table_free(&sp.v);
}

static void s_case_esrgan(void)
{
	struct vhs_nn_model m;
	char err[512];
	int ret = vhs_nn_model_open(&m, "esrgan-slim", 2, err, sizeof(err));

	if (ret) {
		printf("esrgan-slim x2: skipped: %s\n", err);
		if (ret != -ENOENT)
			s_failed = 1; /* installed but unreadable: that is a failure */
		return;
	}
	for (int p = 0; p < 2; p++) {
		enum vhs_cuda_precision prec = p ? VHS_CUDA_FP16 : VHS_CUDA_FP32;

		s_esrgan_case(&m, 128, 96, prec);
		s_esrgan_case(&m, 150, 100, prec);
	}
	vhs_nn_model_free(&m);
}

/* ---- c. plain Lanczos ----------------------------------------------------------------- */

static void s_lanczos_case(const char *fmt_name, int w, int h, int ow, int oh)
{
	const struct vhs_pixfmt *f = vhs_pixfmt_find(fmt_name);
	struct vhs_upscale_spec sp;
	struct vhs_picture in = { 0 }, out = { 0 }, ref = { 0 };
	struct vhs_cuda_upscaler *u = NULL;
	float *tmp = NULL;
	char err[256], what[200];
	double num, den;
	int max, ok = f != NULL;

	printf("lanczos %s %dx%d -> %dx%d:\n", fmt_name, w, h, ow, oh);
	memset(&sp, 0, sizeof(sp));
	sp.in_fmt = sp.out_fmt = f;
	sp.in_w = sp.net_w = w;
	sp.in_h = sp.net_h = h;
	sp.out_w = ow;
	sp.out_h = oh;
	for (int p = 0; ok && p < f->planes; p++)
		ok = !vhs_resample_table_init(&sp.plane_h[p], vhs_pixfmt_plane_width(f, p, w),
					      vhs_pixfmt_plane_width(f, p, ow)) &&
		     !vhs_resample_table_init(&sp.plane_v[p], vhs_pixfmt_plane_height(f, p, h),
					      vhs_pixfmt_plane_height(f, p, oh));
	ok = ok && !s_pic_alloc(&in, f, w, h, 8) && !s_pic_alloc(&out, f, ow, oh, ROW_PAD) &&
	     !s_pic_alloc(&ref, f, ow, oh, 0) && (tmp = malloc((size_t)ow * h * sizeof(float)));
	if (!ok) {
		s_check(0, "format or memory");
		goto out_free;
	}
	s_pic_random(&in);
	for (int p = 0; p < f->planes; p++)
		vhs_resample_plane(in.data[p], in.linesize[p], f->bytes, ref.data[p], ref.linesize[p],
				   (1 << f->depth) - 1, &sp.plane_h[p], &sp.plane_v[p], tmp);
	if (vhs_cuda_open(&u, &sp, VHS_CUDA_FP32, 3, err, sizeof(err))) {
		printf("  FAIL: vhs_cuda_open: %s\n", err);
		s_failed = 1;
		goto out_free;
	}
	if (s_run_picture(u, &in, &out))
		goto out_free;
	max = s_pic_diff(&out, &ref, &num, &den);
	snprintf(what, sizeof(what), "max difference %d <= 1 code against vhs_resample_plane", max);
	s_check(max <= 1, what);
out_free:
	vhs_cuda_close(&u);
	free(tmp);
	s_pic_free(&ref);
	s_pic_free(&out);
	s_pic_free(&in);
	for (int p = 0; p < 3; p++) {
		vhs_resample_table_free(&sp.plane_h[p]);
		vhs_resample_table_free(&sp.plane_v[p]);
	}
}

static void s_case_lanczos(void)
{
	s_lanczos_case("yuv420p", 101, 67, 190, 143);
	s_lanczos_case("yuv420p", 64, 48, 40, 30);
	s_lanczos_case("yuv422p10le", 45, 31, 90, 70);
	s_lanczos_case("gray", 17, 9, 17, 9);
}

int main(void)
{
	const char *env = getenv("VHS_TEST_SEED");
	char why[256];

	if (!vhs_cuda_probe(why, sizeof(why))) {
		printf("skip: %s\n", why);
		return SKIP;
	}
	s_rng = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	s_rng = s_rng ? s_rng : 1;
	printf("device: %s\nseed: VHS_TEST_SEED=%llu\n", why, (unsigned long long)s_rng);
	s_case_synthetic();
	s_case_esrgan();
	s_case_lanczos();
	printf("%s\n", s_failed ? "FAILED" : "all passed");
	return s_failed ? 1 : 0;
}
