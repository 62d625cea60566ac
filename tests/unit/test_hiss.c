/* test_hiss.c: the hiss reducer and its meter (dsp/audio/hiss.h, hiss.c).
 *
 * Covered, at 48 kHz with Gaussian noise from rng.h (seeded from the clock; a failing
 * assertion prints the seed):
 *   - the meter equals a direct DFT of the windowed frame, and white noise of variance
 *     s^2 reads s^2 per bin on average (the scale the profile is in);
 *   - white noise whose profile was measured with the meter on another stretch of the
 *     same noise comes out at least 10 dB quieter with reduction 12 dB;
 *   - sines at 200 Hz, 1 kHz and 6 kHz 40 dB above that noise keep their level (the
 *     correlation with the clean sine) within 0.2 dB, and 10 dB above it within 0.5 dB
 *     (a tone whose energy sits in two bins must not be pulled down by its neighbours);
 *   - out == in, exactly, for 0, 1, 511, 512, 48000 and 48001 samples, and an impulse at
 *     sample 10000 peaks at 10000; without a flush the output lags by less than FFT;
 *   - bit-identical output for several push/pull chunkings (1/1, 100/37, 4096/5000,
 *     random sizes) and for two fresh reducers;
 *   - stereo: a row of zeros leaves its channel unchanged within 1e-6 while the other
 *     channel is reduced;
 *   - bad arguments: -EINVAL, *h NULL; close NULLs and is safe on NULL.
 * The measured numbers are printed (cr_log_info: run with --verbose to see them).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hiss.h"
#include "rng.h"

#define RATE 48000
#define SIGMA 0.001f          /* noise RMS: -60 dBFS */
#define SKIP (RATE / 10)      /* measure after the first 0.1 s */
#define REDUCTION 12.0

/* A standard normal draw (Box-Muller on two rnd() draws). */
static double gauss(void)
{
	double u1 = (rnd() + 0.5) / 4294967296.0, u2 = (rnd() + 0.5) / 4294967296.0;

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static float *noise(int n, float sigma)
{
	float *x = malloc(sizeof(float) * (n > 0 ? n : 1));
	int i;

	cr_assert(x);
	for (i = 0; i < n; i++)
		x[i] = (float)(sigma * gauss());
	return x;
}

/* The noise profile of `sigma` white noise: the meter averaged over 2 s of fresh noise
 * (a different stretch from any signal a test makes), into profile[VHS_HISS_BINS]. */
static void measure_profile(float *profile, float sigma)
{
	struct vhs_hiss_meter *m = NULL;
	int len = 2 * RATE, frames = 0, pos, k;
	float *x = noise(len, sigma), p[VHS_HISS_BINS];

	cr_assert_eq(vhs_hiss_meter_open(&m), 0);
	memset(profile, 0, sizeof(float) * VHS_HISS_BINS);
	for (pos = 0; pos + VHS_HISS_FFT <= len; pos += VHS_HISS_HOP, frames++) {
		vhs_hiss_meter_power(m, x + pos, p);
		for (k = 0; k < VHS_HISS_BINS; k++)
			profile[k] += p[k];
	}
	for (k = 0; k < VHS_HISS_BINS; k++)
		profile[k] /= frames;
	vhs_hiss_meter_close(&m);
	cr_assert_null(m);
	free(x);
}

/* Runs `in` (channels planes of len) through a fresh reducer, pushing `push` and pulling
 * `pull` samples at a time (0: random sizes 1 .. 3000), into `out` (planes of at least
 * len); returns the total count out, which must not pass len on the way. */
static int run(int channels, const float *profile, float *const *in, float *const *out,
	       int len, int push, int pull)
{
	struct vhs_hiss *h = NULL;
	const float *ip[2];
	float *op[2], spare[2][16];
	int pos = 0, got = 0, r, c;

	cr_assert(channels <= 2);
	cr_assert_eq(vhs_hiss_open(&h, channels, profile, REDUCTION), 0, "seed %u", seed);
	for (;;) {
		int n = push ? push : 1 + (int)(rnd() % 3000), flush = pos == len;

		if (!flush) {
			n = n < len - pos ? n : len - pos;
			for (c = 0; c < channels; c++)
				ip[c] = in[c] + pos;
			cr_assert_eq(vhs_hiss_push(h, ip, n), 0);
			pos += n;
		}
		do {
			int max = pull ? pull : 1 + (int)(rnd() % 3000);

			max = max < len - got ? max : len - got;
			for (c = 0; c < channels; c++)
				op[c] = out[c] + got;
			r = vhs_hiss_pull(h, op, max, flush);
			cr_assert_geq(r, 0);
			got += r;
		} while (r > 0 && got < len);
		if (flush)
			break;
		cr_assert_geq(got, pos - VHS_HISS_FFT, "lag %d at %d", pos - got, pos);
	}
	/* nothing is left after len: a last pull with room gives 0 */
	op[0] = spare[0];
	op[1] = spare[1];
	cr_assert_eq(vhs_hiss_pull(h, op, 16, 1), 0, "more than len out");
	cr_assert_eq(vhs_hiss_push(h, (const float *const *)in, 1), -EINVAL, "push after flush");
	vhs_hiss_close(&h);
	cr_assert_null(h);
	return got;
}

/* Mono run, whole input at once, into a new buffer. */
static float *reduce(const float *profile, const float *x, int len)
{
	float *y = malloc(sizeof(float) * (len > 0 ? len : 1));
	float *in[1] = { (float *)x }, *out[1] = { y };

	cr_assert(y);
	cr_assert_eq(run(1, profile, in, out, len, len > 0 ? len : 1, len > 0 ? len : 1), len);
	return y;
}

static double rms(const float *x, int from, int to)
{
	double s = 0.0;
	int i;

	for (i = from; i < to; i++)
		s += (double)x[i] * x[i];
	return sqrt(s / (to - from));
}

static double db(double ratio)
{
	return 20.0 * log10(ratio);
}

Test(hiss, meter_is_windowed_dft, .init = seed_rng)
{
	struct vhs_hiss_meter *m = NULL;
	float *x = noise(VHS_HISS_FFT, 0.1f), p[VHS_HISS_BINS];
	double *cs = malloc(sizeof(double) * VHS_HISS_FFT), *w = malloc(sizeof(double) * VHS_HISS_FFT);
	double peak = 0.0, worst = 0.0;
	int n, k;

	cr_assert(cs && w);
	for (n = 0; n < VHS_HISS_FFT; n++) {
		cs[n] = cos(2.0 * M_PI * n / VHS_HISS_FFT);
		w[n] = sqrt(0.5 - 0.5 * cs[n]);
		x[n] += (float)(0.5 * sin(2.0 * M_PI * 1000.0 * n / RATE));
	}
	cr_assert_eq(vhs_hiss_meter_open(&m), 0);
	vhs_hiss_meter_power(m, x, p);
	for (k = 0; k < VHS_HISS_BINS; k++) {
		double re = 0.0, im = 0.0, ref;

		for (n = 0; n < VHS_HISS_FFT; n++) {
			int j = (int)(((int64_t)k * n) % VHS_HISS_FFT);

			re += w[n] * x[n] * cs[j];
			im -= w[n] * x[n] * cs[(j + 3 * VHS_HISS_FFT / 4) % VHS_HISS_FFT];
		}
		ref = (re * re + im * im) / (VHS_HISS_FFT / 2);
		peak = fmax(peak, ref);
		worst = fmax(worst, fabs(p[k] - ref));
		cr_assert_geq(p[k], 0.0f);
	}
	cr_log_info("meter vs direct DFT: worst error %.3g of peak %.3g\n", worst, peak);
	cr_assert_lt(worst, 1e-5 * peak, "seed %u: error %g, peak %g", seed, worst, peak);
	vhs_hiss_meter_close(&m);
	cr_assert_null(m);
	vhs_hiss_meter_close(&m);
	vhs_hiss_meter_close(NULL);
	free(x);
	free(cs);
	free(w);
}

Test(hiss, meter_reads_variance_per_bin, .init = seed_rng)
{
	float profile[VHS_HISS_BINS];
	double mean = 0.0;
	int k;

	measure_profile(profile, 0.01f);
	for (k = 1; k < VHS_HISS_BINS - 1; k++)
		mean += profile[k];
	mean /= VHS_HISS_BINS - 2;
	cr_log_info("white noise variance 1e-4 reads %.4g per bin\n", mean);
	cr_assert(fabs(mean / 1e-4 - 1.0) < 0.05, "seed %u: %g", seed, mean);
}

Test(hiss, white_noise_reduced, .init = seed_rng)
{
	float profile[VHS_HISS_BINS];
	int len = 2 * RATE;
	float *x, *y;
	double cut;

	measure_profile(profile, SIGMA);
	x = noise(len, SIGMA);
	y = reduce(profile, x, len);
	cut = db(rms(x, SKIP, len) / rms(y, SKIP, len));
	cr_log_info("white noise, reduction %.0f dB: output %.2f dB below input\n", REDUCTION, cut);
	cr_assert_geq(cut, 10.0, "seed %u: only %.2f dB", seed, cut);
	cr_assert_leq(cut, REDUCTION + 0.5, "seed %u: %.2f dB, past the floor", seed, cut);
	free(x);
	free(y);
}

/* Level change (dB) of a sine of frequency f, snr_db RMS over SIGMA noise, through the
 * reducer (correlation of the output with the clean sine); *noise_cut: how far the noise
 * under it went down (dB). */
static double sine_level(const float *profile, double f, double snr_db, double *noise_cut)
{
	int len = 2 * RATE, i;
	float *x = noise(len, SIGMA), *s = malloc(sizeof(float) * len), *y;
	double amp = SIGMA * sqrt(2.0) * pow(10.0, snr_db / 20.0);
	double ys = 0.0, ss = 0.0, was = 0.0, left = 0.0, a;

	cr_assert(s);
	for (i = 0; i < len; i++) {
		s[i] = (float)(amp * sin(2.0 * M_PI * f * i / RATE + 0.3));
		x[i] += s[i];
	}
	y = reduce(profile, x, len);
	for (i = SKIP; i < len; i++) {
		ys += (double)y[i] * s[i];
		ss += (double)s[i] * s[i];
	}
	a = ys / ss;
	for (i = SKIP; i < len; i++) {
		double n = x[i] - s[i], r = y[i] - a * s[i];

		was += n * n;
		left += r * r;
	}
	*noise_cut = 10.0 * log10(was / left);
	free(x);
	free(s);
	free(y);
	return db(a);
}

Test(hiss, sines_keep_level, .init = seed_rng)
{
	static const double freq[] = { 200.0, 1000.0, 6000.0 };
	static const double snr[] = { 40.0, 10.0 };
	static const double tol[] = { 0.2, 0.5 };
	float profile[VHS_HISS_BINS];
	int f, j;

	measure_profile(profile, SIGMA);
	for (j = 0; j < 2; j++)
		for (f = 0; f < 3; f++) {
			double cut, moved = sine_level(profile, freq[f], snr[j], &cut);

			cr_log_info("%5.0f Hz sine %2.0f dB over the noise: level %+.4f dB, noise under it %.2f dB down\n",
				    freq[f], snr[j], moved, cut);
			cr_assert_lt(fabs(moved), tol[j], "seed %u: %.0f Hz at %.0f dB moved %.4f dB",
				     seed, freq[f], snr[j], moved);
		}
}

Test(hiss, count_and_alignment, .init = seed_rng)
{
	static const int lens[] = { 0, 1, 511, 512, 48000, 48001 };
	float profile[VHS_HISS_BINS], *x, *y;
	int i, at = 0;
	double peak = 0.0;

	measure_profile(profile, SIGMA);
	for (i = 0; i < 6; i++) {
		float *in[1], *out[1];

		x = noise(lens[i], SIGMA);
		y = malloc(sizeof(float) * (lens[i] + 1));
		in[0] = x;
		out[0] = y;
		cr_assert_eq(run(1, profile, in, out, lens[i], 4096, 1000), lens[i]);
		cr_assert_eq(run(1, profile, in, out, lens[i], 333, 0), lens[i]);
		free(x);
		free(y);
	}
	x = noise(RATE, SIGMA);
	x[10000] += 1.0f;
	y = reduce(profile, x, RATE);
	for (i = 0; i < RATE; i++)
		if (fabs(y[i]) > peak) {
			peak = fabs(y[i]);
			at = i;
		}
	cr_log_info("impulse 1.0 at 10000 comes out %.4f at %d\n", y[at], at);
	cr_assert_eq(at, 10000, "seed %u", seed);
	cr_assert_gt(y[at], 0.5f);
	free(x);
	free(y);
}

/* Stereo noise plus a sine on both channels, 1 s and a bit. */
static void stereo_input(float *in[2], int len)
{
	int i;

	in[0] = noise(len, SIGMA);
	in[1] = noise(len, SIGMA);
	for (i = 0; i < len; i++) {
		in[0][i] += (float)(0.05 * sin(2.0 * M_PI * 440.0 * i / RATE));
		in[1][i] += (float)(0.02 * sin(2.0 * M_PI * 3000.0 * i / RATE));
	}
}

Test(hiss, chunking_and_runs_bit_identical, .init = seed_rng)
{
	static const int chunk[][2] = { { 1, 1 }, { 100, 37 }, { 4096, 5000 }, { 0, 0 } };
	float profile[2 * VHS_HISS_BINS], *in[2], *ref[2], *out[2];
	int len = RATE + 123, i, c;

	measure_profile(profile, SIGMA);
	measure_profile(profile + VHS_HISS_BINS, SIGMA);
	stereo_input(in, len);
	for (c = 0; c < 2; c++) {
		ref[c] = malloc(sizeof(float) * len);
		out[c] = malloc(sizeof(float) * len);
		cr_assert(ref[c] && out[c]);
	}
	cr_assert_eq(run(2, profile, in, ref, len, len, len), len);
	/* a second fresh reducer: the same bits */
	cr_assert_eq(run(2, profile, in, out, len, len, len), len);
	for (c = 0; c < 2; c++)
		cr_assert_eq(memcmp(ref[c], out[c], sizeof(float) * len), 0, "run 2, channel %d", c);
	for (i = 0; i < 4; i++) {
		for (c = 0; c < 2; c++)
			memset(out[c], 0xff, sizeof(float) * len);
		cr_assert_eq(run(2, profile, in, out, len, chunk[i][0], chunk[i][1]), len);
		for (c = 0; c < 2; c++)
			cr_assert_eq(memcmp(ref[c], out[c], sizeof(float) * len), 0,
				     "seed %u: push %d pull %d (0: random) differs on channel %d", seed,
				     chunk[i][0], chunk[i][1], c);
	}
	for (c = 0; c < 2; c++) {
		free(in[c]);
		free(ref[c]);
		free(out[c]);
	}
}

Test(hiss, zero_profile_row_passes, .init = seed_rng)
{
	float profile[2 * VHS_HISS_BINS], *in[2], *out[2];
	int len = 2 * RATE, i;
	double worst = 0.0, cut;

	measure_profile(profile, SIGMA);
	memset(profile + VHS_HISS_BINS, 0, sizeof(float) * VHS_HISS_BINS);
	in[0] = noise(len, SIGMA);
	in[1] = noise(len, SIGMA);
	for (i = 0; i < len; i++)
		in[1][i] += (float)(0.5 * sin(2.0 * M_PI * 440.0 * i / RATE));
	out[0] = malloc(sizeof(float) * len);
	out[1] = malloc(sizeof(float) * len);
	cr_assert(out[0] && out[1]);
	cr_assert_eq(run(2, profile, in, out, len, 1000, 777), len);
	for (i = 0; i < len; i++)
		worst = fmax(worst, fabs(out[1][i] - in[1][i]));
	cut = db(rms(in[0], SKIP, len) / rms(out[0], SKIP, len));
	cr_log_info("stereo: zero row passes within %.3g; the other channel %.2f dB down\n", worst, cut);
	cr_assert_lt(worst, 1e-6, "seed %u: %g", seed, worst);
	cr_assert_geq(cut, 10.0, "seed %u: %.2f dB", seed, cut);
	for (i = 0; i < 2; i++) {
		free(in[i]);
		free(out[i]);
	}
}

Test(hiss, bad_arguments)
{
	float profile[2 * VHS_HISS_BINS] = { 0 }, x[4] = { 0 };
	const float *ip[1] = { x };
	float *op[1] = { x };
	struct vhs_hiss *h = (struct vhs_hiss *)1;
	struct vhs_hiss_meter *m = (struct vhs_hiss_meter *)1;

	cr_assert_eq(vhs_hiss_open(&h, 0, profile, 12.0), -EINVAL);
	cr_assert_null(h);
	cr_assert_eq(vhs_hiss_open(&h, -1, profile, 12.0), -EINVAL);
	cr_assert_eq(vhs_hiss_open(&h, VHS_HISS_MAX_CHANNELS + 1, profile, 12.0), -EINVAL);
	cr_assert_eq(vhs_hiss_open(&h, 1, profile, 0.0), -EINVAL);
	cr_assert_eq(vhs_hiss_open(&h, 1, profile, -3.0), -EINVAL);
	cr_assert_eq(vhs_hiss_open(&h, 1, profile, NAN), -EINVAL);
	cr_assert_eq(vhs_hiss_open(&h, 1, profile, INFINITY), -EINVAL);
	cr_assert_eq(vhs_hiss_open(&h, 1, NULL, 12.0), -EINVAL);
	cr_assert_eq(vhs_hiss_open(NULL, 1, profile, 12.0), -EINVAL);
	profile[VHS_HISS_BINS + 5] = -1.0f;
	cr_assert_eq(vhs_hiss_open(&h, 2, profile, 12.0), -EINVAL);
	profile[VHS_HISS_BINS + 5] = NAN;
	cr_assert_eq(vhs_hiss_open(&h, 2, profile, 12.0), -EINVAL);
	cr_assert_null(h);
	cr_assert_eq(vhs_hiss_meter_open(NULL), -EINVAL);
	cr_assert_eq(vhs_hiss_meter_open(&m), 0);
	vhs_hiss_meter_close(&m);

	cr_assert_eq(vhs_hiss_open(&h, 1, profile, 12.0), 0);
	cr_assert_eq(vhs_hiss_push(NULL, ip, 1), -EINVAL);
	cr_assert_eq(vhs_hiss_push(h, ip, -1), -EINVAL);
	cr_assert_eq(vhs_hiss_push(h, NULL, 1), -EINVAL);
	cr_assert_eq(vhs_hiss_push(h, NULL, 0), 0);
	cr_assert_eq(vhs_hiss_pull(NULL, op, 1, 0), -EINVAL);
	cr_assert_eq(vhs_hiss_pull(h, op, -1, 0), -EINVAL);
	cr_assert_eq(vhs_hiss_pull(h, NULL, 1, 0), -EINVAL);
	cr_assert_eq(vhs_hiss_pull(h, NULL, 0, 1), 0);
	cr_assert_eq(vhs_hiss_push(h, ip, 1), -EINVAL, "push after a flushing pull");
	vhs_hiss_close(&h);
	cr_assert_null(h);
	vhs_hiss_close(&h);
	vhs_hiss_close(NULL);
}
