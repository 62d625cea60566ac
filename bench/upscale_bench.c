/* upscale_bench.c: how fast the upscaler runs, on the CPU or the GPU (issue 5).
 *
 *   make build/bench/upscale_bench
 *   build/bench/upscale_bench [options]
 *     --model NAME       esrgan-slim (default), esrgan-medium, esrgan-thick
 *     --scale N          network scale: 2 (default), 3, 4, 8
 *     --backend B        cuda (default) or cpu
 *     --precision P      fp16 (default) or fp32 (cuda)
 *     --in-flight K      frames in flight (cuda; default 3)
 *     --threads T        network threads (cpu; default: all cores)
 *     --frames N         timed frames (default 100 on cuda, 3 on cpu)
 *     --warmup N         untimed frames first (default 10 on cuda, 1 on cpu)
 *     --size WxH         input size (default 720x480, yuv420p)
 *     --out WxH          output size (default: input x scale; --lanczos: 1440x1080)
 *     --lanczos          plain Lanczos on the GPU instead of a network (720x480 -> 1440x1080)
 *     --gemm-ceiling     first measure the device's fp16 matrix-product rate (8192^3)
 *     --copy-ceiling     first measure the device's copy bandwidth (1 GiB device to device)
 *
 * Frames go through the upscaler's own API (upscaler.h), as the stage drives it: submit
 * while there is room, collect the oldest when full, so uploads, kernels and downloads of
 * neighbouring frames overlap. Inputs rotate among INPUTS random pictures (never zeros, and
 * not one buffer the caches could keep). Time is wall-clock (CLOCK_MONOTONIC) from the first
 * timed submit to the last collect: frames per second is what the stage would see.
 *
 * Printed: frames/s, ms/frame, the network's floating-point operations per frame
 * (model->flops_per_pixel x in_w x in_h) and the rate achieved in TFLOP/s; for Lanczos,
 * megapixels out per second. With --gemm-ceiling, the fp16 rate of a plain WMMA kernel and
 * of cuBLAS (when libcublas loads) to compare the network's rate with; with --copy-ceiling,
 * the device-to-device copy bandwidth (bytes read plus bytes written) to compare bytes with.
 * Each figure is printed a second time as one line "figure: {JSON}" for tools/gpu-check.sh.
 *
 * Exit status: 0, 1 on an error (printed), 2 on usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_upscaler.h"
#include "pixfmt.h"
#include "upscaler.h"

#define INPUTS 4            /* random input pictures, used in turn */
#define MAX_OUTPUTS 9       /* output pictures: in flight + 1 */
#define GEMM_N 8192
#define COPY_BYTES ((size_t)1 << 30)

struct opts {
	const char *model, *backend, *precision;
	int scale, in_flight, threads, frames, warmup;
	int w, h, out_w, out_h;
	int lanczos, gemm, copy;
};

/* ---- helpers ------------------------------------------------------------------------- */

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A w x h picture of f, rows tight, planes in one allocation; random samples. */
static int s_pic_alloc(struct vhs_picture *p, const struct vhs_pixfmt *f, int w, int h,
		       uint32_t *seed)
{
	size_t size = 0, at = 0;

	memset(p, 0, sizeof(*p));
	p->fmt = f;
	p->width = w;
	p->height = h;
	for (int i = 0; i < f->planes; i++) {
		p->linesize[i] = vhs_pixfmt_plane_width(f, i, w) * f->bytes;
		size += (size_t)p->linesize[i] * vhs_pixfmt_plane_height(f, i, h);
	}
	p->data[0] = malloc(size);
	if (!p->data[0])
		return -ENOMEM;
	for (int i = 0; i < f->planes; i++) {
		p->data[i] = p->data[0] + at;
		at += (size_t)p->linesize[i] * vhs_pixfmt_plane_height(f, i, h);
	}
	for (size_t i = 0; seed && i < size; i++) {
		*seed = *seed * 1664525u + 1013904223u;
		p->data[0][i] = (uint8_t)(16 + (*seed >> 24) % 220); /* limited range codes */
	}
	return 0;
}

static int s_size(const char *s, int *w, int *h)
{
	return sscanf(s, "%dx%d", w, h) == 2 && *w > 0 && *h > 0 ? 0 : -EINVAL;
}

static int s_usage(void)
{
	fprintf(stderr, "usage: upscale_bench [--model NAME] [--scale N] [--backend cuda|cpu] "
		"[--precision fp16|fp32] [--in-flight K] [--threads T] [--frames N] [--warmup N] "
		"[--size WxH] [--out WxH] [--lanczos] [--gemm-ceiling] [--copy-ceiling]\n");
	return 2;
}

/* Parses argv into o; 0 or -EINVAL. */
static int s_parse(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int used = 1, ok = 1;

		if (!strcmp(a, "--lanczos"))
			o->lanczos = 1, used = 0;
		else if (!strcmp(a, "--gemm-ceiling"))
			o->gemm = 1, used = 0;
		else if (!strcmp(a, "--copy-ceiling"))
			o->copy = 1, used = 0;
		else if (!v)
			return -EINVAL;
		else if (!strcmp(a, "--model"))
			o->model = v;
		else if (!strcmp(a, "--backend"))
			o->backend = v;
		else if (!strcmp(a, "--precision"))
			o->precision = v;
		else if (!strcmp(a, "--scale"))
			ok = (o->scale = atoi(v)) > 0;
		else if (!strcmp(a, "--in-flight"))
			ok = (o->in_flight = atoi(v)) > 0;
		else if (!strcmp(a, "--threads"))
			ok = (o->threads = atoi(v)) >= 0;
		else if (!strcmp(a, "--frames"))
			ok = (o->frames = atoi(v)) > 0;
		else if (!strcmp(a, "--warmup"))
			ok = (o->warmup = atoi(v)) >= 0;
		else if (!strcmp(a, "--size"))
			ok = !s_size(v, &o->w, &o->h);
		else if (!strcmp(a, "--out"))
			ok = !s_size(v, &o->out_w, &o->out_h);
		else
			return -EINVAL;
		if (!ok)
			return -EINVAL;
		i += used;
	}
	if (strcmp(o->precision, "fp16") && strcmp(o->precision, "fp32"))
		return -EINVAL;
	return 0;
}

/* ---- the measurement ------------------------------------------------------------------- */

/* Collects the oldest frame (waiting); 0 or -errno (printed). */
static int s_collect(struct vhs_upscaler *u)
{
	uint64_t tag;
	int ret = vhs_upscaler_collect(u, &tag, 1);

	if (ret < 0)
		fprintf(stderr, "upscale_bench: collect: %s (%s)\n", vhs_upscaler_error(u), strerror(-ret));
	return ret < 0 ? ret : 0;
}

/* n frames through u, inputs in turn, outputs in turn; returns seconds, or < 0. */
static double s_frames(struct vhs_upscaler *u, int n, struct vhs_picture *in,
		       struct vhs_picture *out, int outs, uint64_t *tag)
{
	double t0 = s_now();
	int ret = 0;

	for (int i = 0; i < n && !ret; i++, (*tag)++) {
		if (vhs_upscaler_queued(u) == vhs_upscaler_capacity(u))
			ret = s_collect(u);
		if (!ret)
			ret = vhs_upscaler_submit(u, &in[*tag % INPUTS], &out[*tag % outs], *tag);
		if (ret && ret != -EBUSY)
			fprintf(stderr, "upscale_bench: submit: %s (%s)\n", vhs_upscaler_error(u),
				strerror(-ret));
	}
	while (!ret && vhs_upscaler_queued(u))
		ret = s_collect(u);
	return ret ? -1.0 : s_now() - t0;
}

/* Opens the stream, runs warm-up and timed frames, prints the line. */
static int s_bench(const struct opts *o)
{
	const struct vhs_pixfmt *f = vhs_pixfmt_find("yuv420p");
	const struct vhs_colorimetry color = { VHS_RANGE_LIMITED, VHS_MATRIX_SMPTE170M, 6, 6,
					       VHS_CHROMA_LEFT };
	struct vhs_upscaler_config cfg = {
		.model = o->lanczos ? "lanczos" : o->model, .scale = o->scale, .backend = o->backend,
		.out_w = o->out_w, .out_h = o->out_h, .out_fmt = "yuv420p", .threads = o->threads,
		.in_flight = o->in_flight, .fp32 = !strcmp(o->precision, "fp32"),
	};
	struct vhs_picture in[INPUTS] = { { 0 } }, out[MAX_OUTPUTS] = { { 0 } };
	struct vhs_upscaler *u = NULL;
	char err[512], warn[512];
	uint32_t seed = (uint32_t)time(NULL);
	uint64_t tag = 0;
	int ret, ow, oh, outs, cuda;
	double secs, flops;

	ret = vhs_upscaler_open(&u, &cfg, f, o->w, o->h, &color, err, sizeof(err), warn, sizeof(warn));
	if (ret) {
		fprintf(stderr, "upscale_bench: %s\n", err);
		return 1;
	}
	vhs_upscaler_out_size(u, &ow, &oh);
	outs = vhs_upscaler_capacity(u) + 1 < MAX_OUTPUTS ? vhs_upscaler_capacity(u) + 1 : MAX_OUTPUTS;
	for (int i = 0; i < INPUTS && !ret; i++)
		ret = s_pic_alloc(&in[i], f, o->w, o->h, &seed);
	for (int i = 0; i < outs && !ret; i++)
		ret = s_pic_alloc(&out[i], vhs_upscaler_out_fmt(u), ow, oh, NULL);
	if (ret) {
		fprintf(stderr, "upscale_bench: out of memory\n");
		goto out_free;
	}
	ret = 1;
	if (s_frames(u, o->warmup, in, out, outs, &tag) < 0)
		goto out_free;
	secs = s_frames(u, o->frames, in, out, outs, &tag);
	if (secs < 0)
		goto out_free;
	flops = vhs_upscaler_flops(u);
	cuda = !strcmp(vhs_upscaler_backend(u), "cuda");
	printf("%s x%d %s", o->lanczos ? "lanczos" : o->model, o->lanczos ? 1 : o->scale,
	       vhs_upscaler_backend(u));
	if (cuda)
		printf(" %s in_flight=%d", o->lanczos ? "fp32" : o->precision, vhs_upscaler_capacity(u));
	printf(" %dx%d -> %dx%d: %d frames in %.3f s: %.2f frames/s, %.2f ms/frame", o->w, o->h,
	       ow, oh, o->frames, secs, o->frames / secs, secs * 1e3 / o->frames);
	if (flops > 0)
		printf(", %.1f GFLOP/frame, %.2f TFLOP/s", flops / 1e9, flops * o->frames / secs / 1e12);
	else
		printf(", %.1f Mpixel/s out", (double)ow * oh * o->frames / secs / 1e6);
	printf("\n");
	printf("figure: {\"name\": \"upscale %s x%d %s%s%s\", \"in\": \"%dx%d\", \"out\": \"%dx%d\", "
	       "\"frames\": %d, \"fps\": %.3f, \"ms_per_frame\": %.4f, \"gflop_per_frame\": %.3f, "
	       "\"tflops\": %.4f}\n",
	       o->lanczos ? "lanczos" : o->model, o->lanczos ? 1 : o->scale, vhs_upscaler_backend(u),
	       cuda ? " " : "", cuda ? (o->lanczos ? "fp32" : o->precision) : "", o->w, o->h, ow, oh,
	       o->frames, o->frames / secs, secs * 1e3 / o->frames, flops / 1e9,
	       flops * o->frames / secs / 1e12);
	ret = 0;
out_free:
	vhs_upscaler_close(&u);
	for (int i = 0; i < MAX_OUTPUTS; i++)
		free(out[i].data[0]);
	for (int i = 0; i < INPUTS; i++)
		free(in[i].data[0]);
	return ret;
}

static int s_gemm(void)
{
	double wmma, cublas;
	char err[256];
	int ret = vhs_cuda_gemm_tflops(GEMM_N, &wmma, &cublas, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "upscale_bench: gemm ceiling: %s\n", err);
		return 1;
	}
	printf("fp16 matrix product %d^3, fp32 accumulation: %.1f TFLOP/s (plain WMMA kernel), ",
	       GEMM_N, wmma);
	if (cublas > 0)
		printf("%.1f TFLOP/s (cuBLAS)\n", cublas);
	else
		printf("cuBLAS not loadable\n");
	printf("figure: {\"name\": \"gemm ceiling fp16\", \"n\": %d, \"wmma_tflops\": %.2f, "
	       "\"cublas_tflops\": %.2f}\n", GEMM_N, wmma, cublas);
	return 0;
}

static int s_copy(void)
{
	double gbps;
	char err[256];
	int ret = vhs_cuda_copy_gbps(COPY_BYTES, &gbps, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "upscale_bench: copy ceiling: %s\n", err);
		return 1;
	}
	printf("device-to-device copy of %zu MiB: %.0f GB/s (bytes read plus written)\n",
	       COPY_BYTES >> 20, gbps);
	printf("figure: {\"name\": \"copy ceiling\", \"bytes\": %zu, \"gbps\": %.1f}\n",
	       COPY_BYTES, gbps);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .model = "esrgan-slim", .backend = "cuda", .precision = "fp16", .scale = 2,
			  .in_flight = 3, .frames = -1, .warmup = -1, .w = 720, .h = 480 };
	int cpu, ret = 0;

	if (s_parse(&o, argc, argv))
		return s_usage();
	cpu = !strcmp(o.backend, "cpu");
	if (o.frames < 0)
		o.frames = cpu ? 3 : 100;
	if (o.warmup < 0)
		o.warmup = cpu ? 1 : 10;
	if (o.lanczos && !o.out_w) {
		o.out_w = 1440;
		o.out_h = 1080;
	}
	if (o.copy)
		ret = s_copy();
	if (o.gemm && !ret)
		ret = s_gemm();
	return ret ? ret : s_bench(&o);
}
