/* test_cuda_mcdeint.c: the deinterlacer on the GPU (dsp/cuda/mcdeint.cu) against the CPU's
 * (dsp/video/mcdeint.c), and its speed. A plain C program: the GPU machines have no Criterion.
 *
 *   make build/tests/gpu/test_cuda_mcdeint && build/tests/gpu/test_cuda_mcdeint   (or make test-gpu)
 *
 * Exit status: 0 all passed, 1 a check failed, 77 skipped (no usable GPU: says why).
 *
 * 1. Every case of mcdeint_compare.h (presets, resharpening, formats, odd sizes, zooms, a
 *    720x480 frame): every output frame the CPU's, sample for sample, with the outputs
 *    poisoned first so an unwritten sample fails.
 * 2. The same from and into device memory (a GPU edge's frames): the planes handed over on
 *    the device give the same frames.
 * 3. Speed: 720x480 4:2:2 in, 59.94 frames/s out, each preset, 240 fields after 20 of
 *    warm-up: frames a second (wall, host pictures in and out) and device milliseconds a
 *    frame, as "figure:" lines for tools/gpu-check.sh. The target: medium >= 300 fps
 *    on an H100.
 */
#include <stdio.h>
#include <time.h>

#define SKIP 77

#ifndef VHS_HAVE_CUDA
int main(void)
{
	printf("skip: this build has no CUDA (make CUDA=0 or no nvcc)\n");
	return SKIP;
}
#else
#include <cuda_runtime_api.h>

#include "mcdeint_compare.h"

static double s_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A picture like p whose planes are device copies of p's (dev: their memory, to free). */
static int s_to_device(const struct vhs_picture *p, struct vhs_picture *d, void **dev)
{
	size_t off[3], total = 0;

	*d = *p;
	for (int pl = 0; pl < p->fmt->planes; pl++) {
		off[pl] = total;
		total += (size_t)p->linesize[pl] * (size_t)vhs_pixfmt_plane_height(p->fmt, pl, p->height);
	}
	if (cudaMalloc(dev, total) != cudaSuccess)
		return -1;
	for (int pl = 0; pl < p->fmt->planes; pl++) {
		d->data[pl] = (uint8_t *)*dev + off[pl];
		if (cudaMemcpy(d->data[pl], p->data[pl],
			       (size_t)p->linesize[pl] * (size_t)vhs_pixfmt_plane_height(p->fmt, pl, p->height),
			       cudaMemcpyHostToDevice) != cudaSuccess)
			return -1;
	}
	return 0;
}

/* 2: fields from device memory, frames into device memory, against host in and out. */
static int s_device_pictures(void)
{
	const struct mc_case c = { "medium", 0, "yuv420p", 160, 96, 6, 5, -2, 10, 11 };
	const struct vhs_pixfmt *fmt = vhs_pixfmt_find(c.fmt);
	struct vhs_mcdeint_params p;
	struct vhs_cuda_mcdeint *a = NULL, *b = NULL;
	struct vhs_picture in, din, oa, ob, dob;
	uint8_t *in_buf = NULL, *oa_buf = NULL, *ob_buf = NULL;
	void *din_mem = NULL, *dob_mem = NULL;
	uint32_t rng = c.seed;
	char err[256] = "";
	int ret = 0, frames = 0;

	vhs_mcdeint_preset(c.preset, &p);
	if (vhs_picture_alloc(&in, &in_buf, fmt, c.width, c.height) || vhs_picture_alloc(&oa, &oa_buf, fmt, c.width, c.height) ||
	    vhs_picture_alloc(&ob, &ob_buf, fmt, c.width, c.height) || s_to_device(&ob, &dob, &dob_mem) ||
	    vhs_cuda_mcdeint_open(&a, &p, fmt, c.width, c.height, err, sizeof(err)) ||
	    vhs_cuda_mcdeint_open(&b, &p, fmt, c.width, c.height, err, sizeof(err))) {
		printf("FAIL device pictures: setting up: %s\n", err);
		ret = 1;
		goto out;
	}
	for (int k = 0; k <= c.fields && !ret; k++) {
		if (k < c.fields) {
			mc_scene(&c, &in, k, &rng);
			cudaFree(din_mem);
			din_mem = NULL;
			if (s_to_device(&in, &din, &din_mem) || vhs_cuda_mcdeint_push(a, &in, k & 1) ||
			    vhs_cuda_mcdeint_push(b, &din, k & 1)) {
				printf("FAIL device pictures: push %d: %s %s\n", k, vhs_cuda_mcdeint_error(a), vhs_cuda_mcdeint_error(b));
				ret = 1;
			}
		} else if (vhs_cuda_mcdeint_end(a) || vhs_cuda_mcdeint_end(b)) {
			printf("FAIL device pictures: end\n");
			ret = 1;
		}
		while (!ret && vhs_cuda_mcdeint_pull(a, &oa) == 1) {
			if (vhs_cuda_mcdeint_pull(b, &dob) != 1) {
				printf("FAIL device pictures: frame %d into device memory: %s\n", frames, vhs_cuda_mcdeint_error(b));
				ret = 1;
				break;
			}
			for (int pl = 0; pl < fmt->planes && !ret; pl++) {
				size_t n = (size_t)ob.linesize[pl] * (size_t)vhs_pixfmt_plane_height(fmt, pl, c.height);

				if (cudaMemcpy(ob.data[pl], dob.data[pl], n, cudaMemcpyDeviceToHost) != cudaSuccess ||
				    memcmp(ob.data[pl], oa.data[pl], n)) {
					printf("FAIL device pictures: frame %d plane %d differs from the host pictures' run\n", frames, pl);
					ret = 1;
				}
			}
			frames++;
		}
	}
	if (!ret)
		printf("ok   device pictures in and out: %d frames the same as host pictures'\n", frames);
out:
	vhs_cuda_mcdeint_close(&a);
	vhs_cuda_mcdeint_close(&b);
	cudaFree(din_mem);
	cudaFree(dob_mem);
	free(in_buf);
	free(oa_buf);
	free(ob_buf);
	return ret;
}

/* 3: frames a second of one preset at 720x480. */
static int s_speed(const char *preset)
{
	const struct mc_case c = { preset, 0, "yuv422p", 720, 480, 0, 6, 2, 5, 12 };
	const struct vhs_pixfmt *fmt = vhs_pixfmt_find(c.fmt);
	enum { WARM = 20, FIELDS = 240, PICTURES = 8 };
	struct vhs_mcdeint_params p;
	struct vhs_cuda_mcdeint *d = NULL;
	struct vhs_picture in[PICTURES], out;
	uint8_t *bufs[PICTURES] = { 0 }, *out_buf = NULL;
	uint32_t rng = c.seed;
	char err[256] = "";
	double t0 = 0;
	uint64_t ns0 = 0;
	int frames = 0, ret = 0;

	vhs_mcdeint_preset(preset, &p);
	for (int i = 0; i < PICTURES; i++) /* a few pictures made once: the time is the deinterlacer's */
		if (vhs_picture_alloc(&in[i], &bufs[i], fmt, c.width, c.height) == 0)
			mc_scene(&c, &in[i], i, &rng);
	if (!bufs[PICTURES - 1] || vhs_picture_alloc(&out, &out_buf, fmt, c.width, c.height) ||
	    vhs_cuda_mcdeint_open(&d, &p, fmt, c.width, c.height, err, sizeof(err))) {
		printf("FAIL speed %s: setting up: %s\n", preset, err);
		ret = 1;
		goto out;
	}
	for (int k = 0; k < WARM + FIELDS && !ret; k++) {
		if (k == WARM) {
			t0 = s_now();
			ns0 = vhs_cuda_mcdeint_gpu_ns(d);
			frames = 0;
		}
		if (vhs_cuda_mcdeint_push(d, &in[k % PICTURES], k & 1)) {
			printf("FAIL speed %s: %s\n", preset, vhs_cuda_mcdeint_error(d));
			ret = 1;
		}
		while (!ret && vhs_cuda_mcdeint_pull(d, &out) == 1)
			frames++;
	}
	if (!ret) {
		double secs = s_now() - t0, gpu_ms = (double)(vhs_cuda_mcdeint_gpu_ns(d) - ns0) / 1e6 / frames;

		printf("ok   speed %s 720x480: %.1f frames/s, %.3f ms of device time a frame\n", preset, frames / secs, gpu_ms);
		printf("figure: {\"name\": \"mcdeint %s 720x480\", \"fps\": %.1f, \"gpu_ms_per_frame\": %.4f, \"frames\": %d}\n",
		       preset, frames / secs, gpu_ms, frames);
	}
out:
	vhs_cuda_mcdeint_close(&d);
	for (int i = 0; i < PICTURES; i++)
		free(bufs[i]);
	free(out_buf);
	return ret;
}

int main(void)
{
	int count = 0, failed = 0;
	cudaError_t e = cudaGetDeviceCount(&count);

	if (e != cudaSuccess || count == 0) {
		printf("skip: no usable GPU: %s\n", e != cudaSuccess ? cudaGetErrorString(e) : "no device");
		return SKIP;
	}
	for (size_t i = 0; i < sizeof(mc_cases) / sizeof(mc_cases[0]); i++) {
		const struct mc_case *c = &mc_cases[i];
		char msg[256] = "";
		int frames, ret = mc_compare(c, &frames, msg, sizeof(msg));

		printf("%s case %zu (%s, sharpen %d, %s %dx%d, %d fields): %s\n", ret ? "FAIL" : "ok  ", i, c->preset,
		       c->sharpen, c->fmt, c->width, c->height, c->fields, ret ? msg : "every frame the CPU's");
		failed |= ret != 0;
	}
	failed |= s_device_pictures();
	for (int i = 0; i < 3; i++)
		failed |= s_speed((const char *[]){ "fast", "medium", "slow" }[i]);
	printf("%s\n", failed ? "test_cuda_mcdeint: FAILED" : "test_cuda_mcdeint: all passed");
	return failed ? 1 : 0;
}
#endif
