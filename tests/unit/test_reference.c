/* test_reference.c: the CPU network (net.c) on a real photograph against TensorFlow.js itself,
 * the framework the ESRGAN models were published for.
 *
 * DESIGN
 * Input: tests/media/astronaut-48x32.ppm, a 48x32 crop (mission patch: saturated blue, white
 * lettering, a small flag; sharp edges, so the network overshoots) of NASA's public-domain
 * portrait of Eileen Collins (tests/media/README.md). Its bytes, as floats in 0..255, go to
 * esrgan-slim x2 (make models).
 *
 * Reference: tests/media/astronaut-48x32-esrgan-slim-x2-tfjs.pfm, what @tensorflow/tfjs
 * 4.22.0's CPU backend predicts for the same bytes from the same model.json and shard
 * (tools/tfjs-reference.mjs; its header has the commands that regenerate it). PFM: "PF",
 * width height, -1.0 (little-endian), then float32 RGB rows bottom to top.
 *
 * Checks, at 1 and at 2 threads:
 *   shape   96x64x3: every element written (the buffer is poisoned with NaN first) and
 *           finite, and nothing written past the end (a guard of sentinels follows it);
 *   range   within [-20, 275] before clamping, i.e. 255 +- 8% of full scale: ESRGAN rings
 *           at sharp edges; TF.js's own output on this crop spans [-0.173, 268.74] (5.4%
 *           over the top), so the bound holds the C network to TF.js's behaviour with
 *           headroom, and catches a broken layer (those give values in the thousands or a
 *           flat image, not a 2% excursion);
 *   agreement with TF.js: ||c - tfjs|| / ||tfjs|| < 1e-5 and max |c - tfjs| < 1e-3. Both
 *           compute in float32 with a different rounding and order (TF.js rounds once per
 *           multiply-add, the product exact in a double, and adds the bias after the sum;
 *           net.c rounds product and sum and starts from the bias), so they agree to a few
 *           float32 ulps per layer, not bit for bit;
 *   checksum FNV-1a 64 of the output quantised to 8 bits (round half up, clamp 0..255), a
 *           constant below: what this implementation produced when it was checked against
 *           TF.js. net.c's order of summation is fixed and it uses no FMA (ISO C, where
 *           GCC does not contract a * b + c; no -march, no -ffast-math), so the bytes are the
 *           same on every x86-64 and at any thread count (1 and 2 must give equal floats);
 *           a different checksum means the arithmetic changed: look at the agreement figures
 *           before updating it.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "net.h"

/* VHS_TESTMEDIA: the source tree's tests/media (Makefile). */
#define IN_PPM VHS_TESTMEDIA "/astronaut-48x32.ppm"
#define TFJS_PFM VHS_TESTMEDIA "/astronaut-48x32-esrgan-slim-x2-tfjs.pfm"

enum { IN_W = 48, IN_H = 32, SCALE = 2, OUT_W = IN_W * SCALE, OUT_H = IN_H * SCALE };
#define OUT_N ((size_t)OUT_W * OUT_H * 3)
#define GUARD 64                      /* sentinel floats after the output */
#define RANGE_LO (-20.0)              /* 255 * -8% */
#define RANGE_HI 275.0                /* 255 * 108% */
#define MAX_REL_ERROR 1e-5            /* measured 1.75e-7 */
#define MAX_ABS_DIFF 1e-3             /* in 0..255 units; measured 1.5e-4 */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

/* FNV-1a 64 of the quantised C output, esrgan-slim x2 on astronaut-48x32.ppm: produced by
 * this implementation (gcc 12.2, x86-64, 1 and 2 threads alike) when it was checked against
 * TF.js 4.22.0: relative error 1.75e-7, max |c - tfjs| 1.53e-4 (element 2117: 184.210236
 * against 184.210388), range [-0.173468, 268.739] as TF.js's, and 1 of the 18432 quantised
 * bytes one code value off TF.js's (a value within 1.5e-4 of a rounding boundary). */
#define EXPECTED_FNV 0xd6531f90271e87a5ull

/* ---- files -------------------------------------------------------------------------------- */

static char *s_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "%s: short read", path);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* A binary PPM as written by ffmpeg ("P6\n48 32\n255\n", no comments) -> HWC floats 0..255. */
static float *s_read_ppm(const char *path, int w, int h)
{
	size_t len, off;
	char *buf = s_slurp(path, &len);
	float *px = malloc(sizeof(float) * 3 * w * h);
	int fw, fh, maxval, hdr = 0;

	cr_assert_eq(sscanf(buf, "P6 %d %d %d%n", &fw, &fh, &maxval, &hdr), 3, "%s: not a PPM", path);
	cr_assert(fw == w && fh == h && maxval == 255, "%s: %dx%d max %d, want %dx%d max 255",
		  path, fw, fh, maxval, w, h);
	off = (size_t)hdr + 1;
	cr_assert_eq(len - off, (size_t)3 * w * h, "%s: %zu sample bytes", path, len - off);
	for (size_t i = 0; i < (size_t)3 * w * h; i++)
		px[i] = (unsigned char)buf[off + i];
	free(buf);
	return px;
}

/* A little-endian colour PFM, rows bottom to top -> HWC floats, rows top to bottom. */
static float *s_read_pfm(const char *path, int w, int h)
{
	size_t len, off, row = (size_t)w * 3;
	char *buf = s_slurp(path, &len);
	float *px = malloc(sizeof(float) * row * h);
	int fw, fh, hdr = 0;
	double scale;

	cr_assert_eq(sscanf(buf, "PF %d %d %lf%n", &fw, &fh, &scale, &hdr), 3, "%s: not a PFM", path);
	cr_assert(fw == w && fh == h && scale < 0, "%s: %dx%d scale %g, want %dx%d little-endian",
		  path, fw, fh, scale, w, h);
	off = (size_t)hdr + 1;
	cr_assert_eq(len - off, sizeof(float) * row * h, "%s: %zu sample bytes", path, len - off);
	for (int y = 0; y < h; y++)
		for (size_t i = 0; i < row; i++) {
			const unsigned char *b = (const unsigned char *)buf + off +
						 ((size_t)(h - 1 - y) * row + i) * 4;
			uint32_t u = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;

			memcpy(&px[y * row + i], &u, sizeof(float));
		}
	free(buf);
	return px;
}

/* ---- the network -------------------------------------------------------------------------- */

/* Runs slim x2 on in with `threads` threads into a NaN-poisoned buffer with a guard of
 * sentinels after it; checks both. The caller owns the result. */
static float *s_run(const struct vhs_nn_model *m, const float *in, int threads)
{
	float *out = malloc(sizeof(float) * (OUT_N + GUARD));
	struct vhs_nn_cpu *c;

	for (size_t i = 0; i < OUT_N; i++)
		out[i] = NAN;
	for (size_t i = OUT_N; i < OUT_N + GUARD; i++)
		out[i] = -12345.0f;
	cr_assert_eq(vhs_nn_cpu_open(&c, m, threads, 0), 0);
	cr_assert_eq(vhs_nn_cpu_run(c, in, IN_W, IN_H, out), 0);
	vhs_nn_cpu_close(&c);
	for (size_t i = 0; i < OUT_N; i++)
		cr_assert(isfinite(out[i]), "threads %d: element %zu (y %zu x %zu c %zu) not written or "
			  "not finite: %g", threads, i, i / 3 / OUT_W, i / 3 % OUT_W, i % 3, out[i]);
	for (size_t i = OUT_N; i < OUT_N + GUARD; i++)
		cr_assert_eq(out[i], -12345.0f, "threads %d: wrote past the 96x64x3 output (float %zu)",
			     threads, i);
	return out;
}

/* Round half up, clamp to 0..255; in double, so v + 0.5 is exact for every float v. */
static unsigned char s_quantise(float v)
{
	double q = floor((double)v + 0.5);

	return q <= 0 ? 0 : q >= 255 ? 255 : (unsigned char)q;
}

static uint64_t s_fnv1a(const float *v, size_t n)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s_quantise(v[i])) * FNV_PRIME;
	return h;
}

static void s_check(const float *out, const float *tfjs, int threads)
{
	double num = 0, den = 0, maxdiff = 0, lo = INFINITY, hi = -INFINITY, rel;
	size_t worst = 0, bytes_differ = 0;

	for (size_t i = 0; i < OUT_N; i++) {
		double d = (double)out[i] - tfjs[i];

		num += d * d;
		den += (double)tfjs[i] * tfjs[i];
		if (fabs(d) > maxdiff) {
			maxdiff = fabs(d);
			worst = i;
		}
		lo = fmin(lo, out[i]);
		hi = fmax(hi, out[i]);
		bytes_differ += s_quantise(out[i]) != s_quantise(tfjs[i]);
	}
	rel = sqrt(num / den);
	cr_log_info("slim x2 astronaut-48x32, threads %d: range [%.6g, %.6g], relative error %.3g, "
		    "max |diff| %.3g at %zu (c %.9g, tfjs %.9g), %zu quantised bytes differ, "
		    "fnv1a 0x%016llx", threads, lo, hi, rel, maxdiff, worst, out[worst], tfjs[worst],
		    bytes_differ, (unsigned long long)s_fnv1a(out, OUT_N));
	cr_expect(lo >= RANGE_LO && hi <= RANGE_HI, "threads %d: output spans [%g, %g], outside "
		  "[%g, %g]", threads, lo, hi, RANGE_LO, RANGE_HI);
	cr_expect_lt(rel, MAX_REL_ERROR, "threads %d: relative error %.3g against TF.js", threads, rel);
	cr_expect_lt(maxdiff, MAX_ABS_DIFF, "threads %d: max |c - tfjs| %.3g at element %zu",
		     threads, maxdiff, worst);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* TF.js's own output, as stored: the bounds above were set from it. */
Test(reference, tfjs_output_is_sane)
{
	float *tfjs = s_read_pfm(TFJS_PFM, OUT_W, OUT_H);
	float lo = INFINITY, hi = -INFINITY;

	for (size_t i = 0; i < OUT_N; i++) {
		cr_assert(isfinite(tfjs[i]), "%s: element %zu not finite", TFJS_PFM, i);
		lo = fminf(lo, tfjs[i]);
		hi = fmaxf(hi, tfjs[i]);
	}
	cr_expect(lo >= RANGE_LO && hi <= RANGE_HI, "TF.js spans [%g, %g]", lo, hi);
	free(tfjs);
}

Test(reference, slim_x2_astronaut_matches_tfjs)
{
	struct vhs_nn_model m;
	char err[512];
	float *in, *tfjs, *one, *two;
	uint64_t h1, h2;

	cr_assert_eq(vhs_nn_model_open(&m, "esrgan-slim", SCALE, err, sizeof(err)), 0,
		     "%s (tests need the models: make models)", err);
	cr_assert_eq(m.scale, SCALE);
	cr_assert_eq(m.range, 255.0f);
	in = s_read_ppm(IN_PPM, IN_W, IN_H);
	tfjs = s_read_pfm(TFJS_PFM, OUT_W, OUT_H);
	one = s_run(&m, in, 1);
	two = s_run(&m, in, 2);
	s_check(one, tfjs, 1);
	s_check(two, tfjs, 2);
	cr_expect(memcmp(one, two, sizeof(float) * OUT_N) == 0,
		  "1 and 2 threads give different floats (the order of summation must not depend "
		  "on threads)");
	h1 = s_fnv1a(one, OUT_N);
	h2 = s_fnv1a(two, OUT_N);
	cr_expect_eq(h1, (uint64_t)EXPECTED_FNV, "1 thread: fnv1a 0x%016llx, stored 0x%016llx",
		     (unsigned long long)h1, (unsigned long long)EXPECTED_FNV);
	cr_expect_eq(h2, (uint64_t)EXPECTED_FNV, "2 threads: fnv1a 0x%016llx, stored 0x%016llx",
		     (unsigned long long)h2, (unsigned long long)EXPECTED_FNV);
	free(in);
	free(tfjs);
	free(one);
	free(two);
	vhs_nn_model_free(&m);
}
