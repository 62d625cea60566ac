/* test_limiter.c: the loudness pass's gain and true-peak limiter (dsp/audio/limiter.h).
 *
 * Covered, at 48 kHz, ceiling -1 dBTP. True peaks are measured independently of the
 * limiter's 4x interpolator: 32x oversampling with a 128-tap Kaiser (beta 10) windowed
 * sinc in double (fine_tp_db), so a limiter that trusted its own detector too much fails.
 *   - where nothing comes near the ceiling the output is exactly x * (float)10^(gain/20),
 *     bit for bit (gain 0: the input itself), and after a limited burst the gain comes
 *     back to exactly that;
 *   - a 997 Hz sine at +6 dBFS: true peak <= -1 dBTP, and from 50 ms on every 10 ms
 *     window peaks within 0.5 dB of the ceiling (not over-limited);
 *   - an fs/4 sine at 45 degrees (samples at -2 dBFS, true peak +1 dBTP) comes out <= -1;
 *   - silence then a 0 dBFS burst, and then a 0 dBFS click: <= -1 dBTP from the first
 *     sample of the burst on (the lookahead);
 *   - 0, 1, 47, 48000, 48001 samples in give as many out; three chunkings (one block,
 *     1 in / 7 out, random sizes from rng.h) give bit-identical output;
 *   - a music-like programme (sines with envelopes, fixed-seed noise) at +3 dB: <= -1 dBTP,
 *     energy within 1 dB of input * gain, under half the samples limited (each strike's
 *     release counts until it is within 0.01 dB);
 *   - 44.1, 32 and 96 kHz (where the meter's points between samples differ): <= -1 dBTP,
 *     and the meter at that rate reads a tone near rate / 4 within 0.2 dB of the 32x one;
 *   - the delay: nothing comes out before it, then the first sample;
 *   - bad arguments: -EINVAL; close NULLs and is safe on NULL.
 * The measured numbers are printed (cr_log_info: run with --verbose to see them).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limiter.h"
#include "rng.h"

#define RATE 48000
#define CEILING (-1.0)          /* dBTP */
#define FINE_OS 32              /* fine_tp_db: points per sample */
#define FINE_HALF 64            /* fine_tp_db: taps each side */

/* A planar buffer of up to 2 channels. */
struct audio {
	int channels, nb;
	float *p[2];
};

static struct audio audio_new(int channels, int nb)
{
	struct audio a = { .channels = channels, .nb = nb };

	for (int c = 0; c < channels; c++) {
		a.p[c] = calloc((size_t)(nb > 0 ? nb : 1), sizeof(float));
		cr_assert(a.p[c]);
	}
	return a;
}

static void audio_free(struct audio *a)
{
	for (int c = 0; c < a->channels; c++)
		free(a->p[c]);
}

static double s_i0(double x)
{
	double v = 1, t = 1, last = 0;

	x = x * x / 4;
	for (int k = 1; v != last; k++) {
		last = v;
		t *= x / ((double)k * k);
		v += t;
	}
	return v;
}

/* The true peak in dBTP of samples [from, to) and the continuous signal between them, by
 * 32x sinc interpolation (zeros outside the buffer); a sample whose window cannot reach
 * the peak found so far is skipped (bound: the window's largest |x| times sum |h|). */
static double fine_tp_db(const struct audio *a, int from, int to)
{
	static double h[FINE_OS][2 * FINE_HALF];
	static double l1;
	double best = 0;

	if (l1 == 0) {
		for (int p = 0; p < FINE_OS; p++) {
			double s = 0;

			for (int i = 0; i < 2 * FINE_HALF; i++) {
				double d = (i - FINE_HALF + 1) - (double)p / FINE_OS, w = d / FINE_HALF;
				double y = d == 0 ? 1.0 : sin(M_PI * d) / (M_PI * d);

				h[p][i] = y * s_i0(10.0 * sqrt(fmax(0, 1 - w * w))) / s_i0(10.0);
				s += fabs(h[p][i]);
			}
			l1 = fmax(l1, s);
		}
	}
	for (int c = 0; c < a->channels; c++) {
		const float *x = a->p[c];

		for (int n = from; n < to; n++) {
			double wmax = 0;

			for (int i = n - FINE_HALF + 1; i <= n + FINE_HALF; i++)
				if (i >= 0 && i < a->nb)
					wmax = fmax(wmax, fabs(x[i]));
			if (wmax * l1 < best)
				continue;
			for (int p = 0; p < FINE_OS; p++) {
				double s = 0;

				for (int i = 0; i < 2 * FINE_HALF; i++) {
					int k = n - FINE_HALF + 1 + i;

					if (k >= 0 && k < a->nb)
						s += h[p][i] * x[k];
				}
				best = fmax(best, fabs(s));
			}
		}
	}
	return 20 * log10(best);
}

static double sample_peak_db(const struct audio *a, int from, int to)
{
	double m = 0;

	for (int c = 0; c < a->channels; c++)
		for (int i = from; i < to; i++)
			m = fmax(m, fabs(a->p[c][i]));
	return 20 * log10(m);
}

static struct vhs_limiter_config cfg_of(int channels, double gain_db)
{
	return (struct vhs_limiter_config){ .rate = RATE, .channels = channels,
					    .gain_db = gain_db, .ceiling_dbtp = CEILING };
}

/* Chunk sizes: a fixed size, or random (1..max) when size is negative (max = -size). */
static int chunk(int size)
{
	return size > 0 ? size : 1 + (int)(rnd() % (unsigned)-size);
}

/* Runs in through a fresh limiter, pushing push-sized and pulling pull-sized chunks (one
 * pull after each push), then flushing. Returns the output; stats into lim / red. */
static struct audio run(const struct vhs_limiter_config *cfg, const struct audio *in,
			int push, int pull, uint64_t *lim, double *red)
{
	struct audio out = audio_new(in->channels, in->nb);
	struct vhs_limiter *l = NULL;
	int got = 0, r;

	cr_assert_eq(vhs_limiter_open(&l, cfg), 0);
	for (int at = 0; at < in->nb;) {
		int n = chunk(push);
		const float *pp[2];

		n = n < in->nb - at ? n : in->nb - at;
		for (int c = 0; c < in->channels; c++)
			pp[c] = in->p[c] + at;
		cr_assert_eq(vhs_limiter_push(l, pp, n), 0);
		at += n;
		do {
			float *op[2];
			int want = chunk(pull);

			for (int c = 0; c < in->channels; c++)
				op[c] = out.p[c] + got;
			want = want < in->nb - got ? want : in->nb - got;
			r = vhs_limiter_pull(l, op, want, 0);
			cr_assert_geq(r, 0);
			got += r;
		} while (r > 0 && pull > 0);
	}
	do {
		float *op[2];
		int want = chunk(pull);

		for (int c = 0; c < in->channels; c++)
			op[c] = out.p[c] + got;
		want = want < in->nb - got ? want : in->nb - got;
		r = vhs_limiter_pull(l, op, want, 1);
		cr_assert_geq(r, 0);
		got += r;
	} while (r > 0);
	cr_assert_eq(got, in->nb, "%d samples out of %d in", got, in->nb);
	{
		float spare[1], *sp[2] = { spare, spare };

		cr_assert_eq(vhs_limiter_pull(l, sp, 1, 1), 0, "more out than in");
	}
	vhs_limiter_stats(l, lim, red);
	vhs_limiter_close(&l);
	cr_assert_null(l);
	return out;
}

/* Fixed-seed uniform noise in [-1, 1] (the figures printed are reproducible). */
static double noise(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

Test(limiter, below_ceiling_is_exact_gain)
{
	const double gains[] = { 0.0, 6.5, -3.0, 11.0 };
	struct audio in = audio_new(2, RATE);
	uint64_t s = 12345, lim;
	double red;

	/* noise at -30 dBFS peak with a 440 Hz tone: +11 dB brings it to -13 dBTP or so */
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < in.nb; i++)
			in.p[c][i] = (float)(0.02 * noise(&s) + 0.01 * sin(2 * M_PI * 440 * i / RATE));
	for (size_t g = 0; g < sizeof(gains) / sizeof(gains[0]); g++) {
		struct vhs_limiter_config cfg = cfg_of(2, gains[g]);
		struct audio out = run(&cfg, &in, 1000, 1000, &lim, &red);
		float G = (float)pow(10.0, gains[g] / 20.0);

		for (int c = 0; c < 2; c++)
			for (int i = 0; i < in.nb; i++)
				cr_assert(out.p[c][i] == in.p[c][i] * G,
					  "gain %.1f dB: sample %d of channel %d is %.9g, not %.9g",
					  gains[g], i, c, out.p[c][i], in.p[c][i] * G);
		if (gains[g] == 0)
			for (int c = 0; c < 2; c++)
				cr_assert(!memcmp(out.p[c], in.p[c], sizeof(float) * (size_t)in.nb));
		cr_assert_eq(lim, 0);
		cr_assert_eq(red, 0.0);
		cr_log_info("gain %+.1f dB: output == x * %.9g exactly (true peak %.2f dBTP)\n",
			    gains[g], G, vhs_true_peak_db((const float *const *)out.p, 2, out.nb));
		audio_free(&out);
	}
	audio_free(&in);
}

Test(limiter, gain_comes_back_exactly_after_a_burst)
{
	struct audio in = audio_new(1, 4 * RATE);
	struct vhs_limiter_config cfg = cfg_of(1, 0.0);
	struct audio out;
	uint64_t s = 99, lim;
	double red;
	int back = -1;

	/* 0.2 s of a 0 dBFS 1 kHz burst at 0.5 s in quiet noise, 4 s in all */
	for (int i = 0; i < in.nb; i++) {
		double b = i >= RATE / 2 && i < RATE / 2 + RATE / 5 ? 1.0 : 0.0;

		in.p[0][i] = (float)(0.01 * noise(&s) + b * sin(2 * M_PI * 1000 * i / RATE));
	}
	out = run(&cfg, &in, 4096, 4096, &lim, &red);
	for (int i = in.nb - 1; i >= 0; i--)
		if (out.p[0][i] != in.p[0][i]) {
			back = i + 1;
			break;
		}
	cr_assert_gt(lim, 0);
	cr_assert_gt(back, RATE / 2);
	cr_assert_lt(back, 3 * RATE, "the gain is not back to 1 at %d", back);
	cr_log_info("burst ends at %.3f s; output == input again from %.3f s on; %llu samples "
		    "limited, up to %.2f dB\n", 0.7, (double)back / RATE, (unsigned long long)lim, red);
	audio_free(&in);
	audio_free(&out);
}

Test(limiter, sine_997_at_plus_6)
{
	struct audio in = audio_new(2, RATE);
	struct vhs_limiter_config cfg = cfg_of(2, 0.0);
	struct audio out;
	double tp, lo = 1e9, hi = -1e9, red;
	uint64_t lim;

	for (int c = 0; c < 2; c++)
		for (int i = 0; i < in.nb; i++)
			in.p[c][i] = (float)(2.0 * sin(2 * M_PI * 997 * i / RATE));
	out = run(&cfg, &in, 480, 480, &lim, &red);
	tp = fine_tp_db(&out, 0, out.nb);
	cr_assert_leq(tp, CEILING, "true peak %.4f dBTP", tp);
	for (int w = RATE / 20; w + RATE / 100 <= out.nb; w += RATE / 100) {
		double p = fine_tp_db(&out, w, w + RATE / 100);

		lo = fmin(lo, p);
		hi = fmax(hi, p);
	}
	cr_assert_geq(lo, CEILING - 0.5, "over-limited: a 10 ms window peaks at %.3f", lo);
	cr_log_info("997 Hz at %+.2f dBTP in: out %.4f dBTP (limiter's own meter %.4f); "
		    "10 ms windows from 50 ms: %.4f .. %.4f dBTP; reduction up to %.2f dB\n",
		    fine_tp_db(&in, 0, in.nb), tp,
		    vhs_true_peak_db((const float *const *)out.p, 2, out.nb), lo, hi, red);
	audio_free(&in);
	audio_free(&out);
}

Test(limiter, inter_sample_peak_at_fs4)
{
	struct audio in = audio_new(1, RATE / 2);
	struct vhs_limiter_config cfg = cfg_of(1, 0.0);
	struct audio out;
	double a = pow(10, -2.0 / 20) / sin(M_PI / 4), sp, tp_in, tp, own_in, red;
	uint64_t lim;

	for (int i = 0; i < in.nb; i++)
		in.p[0][i] = (float)(a * sin(M_PI / 2 * i + M_PI / 4));
	sp = sample_peak_db(&in, 0, in.nb);
	tp_in = fine_tp_db(&in, 0, in.nb);
	cr_assert_float_eq(sp, -2.0, 1e-4);
	cr_assert_gt(tp_in, 0.9, "the input's true peak is %.3f", tp_in);
	/* The limiter's meter agrees with the 32x one on the same tone faded in and out over
	 * 10 ms (at an abrupt start it also takes the meter's mirrored start, which reads
	 * higher: +1.6 dBTP here). */
	{
		struct audio f = audio_new(1, in.nb);

		for (int i = 0; i < f.nb; i++) {
			int e = i < f.nb - 1 - i ? i : f.nb - 1 - i;
			double w = e < RATE / 100 ? 0.5 - 0.5 * cos(M_PI * e / (RATE / 100)) : 1.0;

			f.p[0][i] = (float)(w * in.p[0][i]);
		}
		own_in = vhs_true_peak_db((const float *const *)f.p, 1, f.nb);
		cr_assert_float_eq(own_in, fine_tp_db(&f, 0, f.nb), 0.01, "4x meter %.4f against "
				   "32x %.4f", own_in, fine_tp_db(&f, 0, f.nb));
		audio_free(&f);
	}
	out = run(&cfg, &in, 64, 1000, &lim, &red);
	tp = fine_tp_db(&out, 0, out.nb);
	cr_assert_leq(tp, CEILING, "true peak %.4f dBTP", tp);
	cr_log_info("fs/4 at 45 deg: samples %.3f dBFS, true peak %.4f dBTP (4x meter %.4f); "
		    "out %.4f dBTP, sample peak %.4f dBFS\n",
		    sp, tp_in, own_in, tp, sample_peak_db(&out, 0, out.nb));
	audio_free(&in);
	audio_free(&out);
}

Test(limiter, burst_after_silence)
{
	int on = RATE / 2, click = RATE / 2 + RATE / 4;
	struct audio in = audio_new(2, RATE);
	struct vhs_limiter_config cfg = cfg_of(2, 0.0);
	struct audio out;
	double tp, first, tclick, red;
	uint64_t lim;

	/* silence, a 1 kHz 0 dBFS burst from a zero crossing for 0.1 s, silence, a click */
	for (int c = 0; c < 2; c++) {
		for (int i = on; i < on + RATE / 10; i++)
			in.p[c][i] = (float)sin(2 * M_PI * 1000 * (i - on) / RATE);
		in.p[c][click] = c ? -1.0f : 1.0f;
	}
	out = run(&cfg, &in, 333, 333, &lim, &red);
	tp = fine_tp_db(&out, 0, out.nb);
	first = fine_tp_db(&out, on, on + 48);
	tclick = fine_tp_db(&out, click - 100, click + 100);
	cr_assert_leq(tp, CEILING, "true peak %.4f dBTP", tp);
	cr_assert_leq(first, CEILING, "first ms of the burst at %.4f dBTP", first);
	cr_assert_leq(tclick, CEILING);
	cr_assert_gt(first, CEILING - 1.0, "the first ms of the burst is over-limited");
	cr_log_info("0 dBFS burst after silence: out %.4f dBTP, its first ms %.4f dBTP; "
		    "0 dBFS click: %.4f dBTP; reduction up to %.2f dB\n", tp, first, tclick, red);
	audio_free(&in);
	audio_free(&out);
}

Test(limiter, sample_counts)
{
	const int sizes[] = { 0, 1, 47, 48000, 48001 };
	struct vhs_limiter_config cfg = cfg_of(2, 20.0);
	uint64_t s = 7, lim;
	double tp;
	double red;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct audio in = audio_new(2, sizes[k]), out;

		for (int c = 0; c < 2; c++)
			for (int i = 0; i < in.nb; i++)
				in.p[c][i] = (float)(0.5 * sin(2 * M_PI * 700 * i / RATE + c) +
						     0.01 * noise(&s));
		out = run(&cfg, &in, 4096, 4096, &lim, &red);   /* asserts out == in counts */
		tp = in.nb ? fine_tp_db(&out, 0, out.nb) : -INFINITY;
		cr_assert_leq(tp, CEILING, "%d samples: true peak %.4f", in.nb, tp);
		cr_log_info("%d samples in, %d out; %llu limited; true peak %.4f dBTP\n", in.nb,
			    out.nb, (unsigned long long)lim, tp);
		audio_free(&in);
		audio_free(&out);
	}
}

Test(limiter, chunking_is_bit_identical, .init = seed_rng)
{
	struct audio in = audio_new(2, 48001), a, b, c;
	struct vhs_limiter_config cfg = cfg_of(2, 10.0);
	uint64_t s = 31337, la, lb, lc;
	double ra, rb, rc;

	for (int ch = 0; ch < 2; ch++)
		for (int i = 0; i < in.nb; i++)
			in.p[ch][i] = (float)(0.3 * sin(2 * M_PI * 330 * i / RATE + ch) *
					      (0.6 + 0.4 * sin(2 * M_PI * 3.0 * i / RATE)) +
					      0.1 * noise(&s));
	a = run(&cfg, &in, in.nb, in.nb, &la, &ra);
	b = run(&cfg, &in, 1, 7, &lb, &rb);
	c = run(&cfg, &in, -5000, -3000, &lc, &rc);
	cr_assert_gt(la, 1000, "the input should be limited here");
	for (int ch = 0; ch < 2; ch++) {
		cr_assert(!memcmp(a.p[ch], b.p[ch], sizeof(float) * (size_t)in.nb),
			  "1 in / 7 out differs (channel %d)", ch);
		cr_assert(!memcmp(a.p[ch], c.p[ch], sizeof(float) * (size_t)in.nb),
			  "random chunks differ (channel %d, seed %u)", ch, seed);
	}
	cr_assert(la == lb && la == lc && ra == rb && ra == rc);
	cr_log_info("three chunkings bit-identical: %llu of %d samples limited, up to %.2f dB\n",
		    (unsigned long long)la, in.nb, ra);
	audio_free(&in);
	audio_free(&a);
	audio_free(&b);
	audio_free(&c);
}

Test(limiter, music_like_programme)
{
	struct audio in = audio_new(2, 4 * RATE), out;
	struct vhs_limiter_config cfg = cfg_of(2, 3.0);
	double G = pow(10, 3.0 / 20), e_in = 0, e_out = 0, tp_in, tp, red, scale;
	uint64_t s = 2024, lim;

	/* a bass line, a chord struck every 2 s (decaying), a high line, noise at -40 dB;
	 * scaled so that in * gain peaks at +1 dBTP, 2 dB over the ceiling, at the strikes
	 * only (each is limited for a few tens of ms, then released over ~0.5 s) */
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < in.nb; i++) {
			double t = (double)i / RATE, beat = fmod(t, 2.0);
			double env = exp(-8 * beat), x;

			x = 0.3 * sin(2 * M_PI * 55 * t + c) * (0.8 + 0.2 * sin(2 * M_PI * 0.5 * t));
			x += 0.2 * env * (sin(2 * M_PI * 440 * t) + sin(2 * M_PI * 554.4 * t + c) +
					  sin(2 * M_PI * 659.3 * t));
			x += 0.05 * sin(2 * M_PI * 2637 * t + 0.3 * c) *
			     (0.5 + 0.5 * sin(2 * M_PI * 1.3 * t));
			x += 0.01 * noise(&s);
			in.p[c][i] = (float)x;
		}
	scale = pow(10, (-2.0 - vhs_true_peak_db((const float *const *)in.p, 2, in.nb)) / 20);
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < in.nb; i++)
			in.p[c][i] *= (float)scale;
	out = run(&cfg, &in, 1024, 1024, &lim, &red);
	tp_in = fine_tp_db(&in, 0, in.nb) + 3.0;
	tp = fine_tp_db(&out, 0, out.nb);
	for (int c = 0; c < 2; c++)
		for (int i = 0; i < in.nb; i++) {
			e_in += (double)(in.p[c][i] * (float)G) * (in.p[c][i] * (float)G);
			e_out += (double)out.p[c][i] * out.p[c][i];
		}
	cr_log_info("music-like +3 dB: in * gain %.3f dBTP -> out %.4f dBTP (own meter %.4f); "
		    "energy %.3f dB; %llu samples (%.1f%%) limited, up to %.2f dB\n", tp_in, tp,
		    vhs_true_peak_db((const float *const *)out.p, 2, out.nb),
		    10 * log10(e_out / e_in), (unsigned long long)lim, 100.0 * lim / in.nb, red);
	cr_assert_gt(tp_in, CEILING + 1.5, "the programme should need limiting (%.2f)", tp_in);
	cr_assert_leq(tp, CEILING, "true peak %.4f dBTP", tp);
	cr_assert_geq(10 * log10(e_out / e_in), -1.0);
	cr_assert_lt(lim, (uint64_t)in.nb / 2, "%llu samples limited", (unsigned long long)lim);
	audio_free(&in);
	audio_free(&out);
}

Test(limiter, other_rates)
{
	const int rates[] = { 44100, 32000, 96000 };

	for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
		int rate = rates[k];
		struct audio in = audio_new(2, rate / 2), out, f = audio_new(1, rate / 2);
		struct vhs_limiter_config cfg = cfg_of(2, 6.0);
		double tp, own_f, fine_f, red;
		uint64_t lim;

		/* tones at rate / 4.1 (where the grids differ most) and 1 kHz at 0 dBFS, +6 dB */
		cfg.rate = rate;
		for (int c = 0; c < 2; c++)
			for (int i = 0; i < in.nb; i++)
				in.p[c][i] = (float)(0.5 * sin(2 * M_PI * i / 4.1 + c) +
						     0.5 * sin(2 * M_PI * 1000.0 * i / rate));
		out = run(&cfg, &in, 1000, 1000, &lim, &red);
		tp = fine_tp_db(&out, 0, out.nb);
		cr_assert_leq(tp, CEILING, "%d Hz: true peak %.4f dBTP", rate, tp);
		/* the meter at this rate against the 32x one, on a faded tone at rate / 4.1 */
		for (int i = 0; i < f.nb; i++) {
			int e = i < f.nb - 1 - i ? i : f.nb - 1 - i;
			double w = e < rate / 100 ? 0.5 - 0.5 * cos(M_PI * e / (rate / 100)) : 1.0;

			f.p[0][i] = (float)(w * 0.9 * sin(2 * M_PI * i / 4.1 + 0.3));
		}
		own_f = vhs_true_peak_rate_db((const float *const *)f.p, 1, f.nb, rate);
		fine_f = fine_tp_db(&f, 0, f.nb);
		cr_assert_leq(own_f, fine_f + 1e-4);
		cr_assert_geq(own_f, fine_f - 0.2, "%d Hz: meter %.4f, 32x %.4f", rate, own_f, fine_f);
		cr_log_info("%d Hz, +6 dB: out %.4f dBTP (own meter %.4f), up to %.2f dB reduction; "
			    "a tone at rate / 4.1: meter %.4f, 32x %.4f dBTP\n", rate, tp,
			    vhs_true_peak_rate_db((const float *const *)out.p, 2, out.nb, rate), red,
			    own_f, fine_f);
		audio_free(&in);
		audio_free(&out);
		audio_free(&f);
	}
}

Test(limiter, delay_and_meter)
{
	struct vhs_limiter_config cfg = cfg_of(1, 0.0);
	struct vhs_limiter *l = NULL;
	float one[1] = { 0.5f }, out[1];
	const float *pp[1] = { one };
	float *op[1] = { out };
	int d;

	cr_assert_eq(vhs_limiter_open(&l, &cfg), 0);
	d = vhs_limiter_delay(l);
	cr_assert_geq(d, RATE * 5 / 1000, "delay %d shorter than the lookahead", d);
	for (int i = 0; i < d; i++) {
		cr_assert_eq(vhs_limiter_push(l, pp, 1), 0);
		cr_assert_eq(vhs_limiter_pull(l, op, 1, 0), 0, "out before the delay (%d)", i);
	}
	cr_assert_eq(vhs_limiter_push(l, pp, 1), 0);
	cr_assert_eq(vhs_limiter_pull(l, op, 1, 0), 1);
	cr_assert_eq(out[0], 0.5f);
	vhs_limiter_close(&l);
	cr_assert(isinf(vhs_true_peak_db(pp, 1, 0)));
	cr_assert_float_eq(vhs_true_peak_db(pp, 1, 1), 20 * log10(0.5), 1e-6);
	cr_log_info("delay %d samples (%.2f ms)\n", d, 1000.0 * d / RATE);
}

Test(limiter, bad_arguments)
{
	struct vhs_limiter_config good = cfg_of(2, 0.0), bad;
	struct vhs_limiter *l = (struct vhs_limiter *)&good;
	float x[4] = { 0 }, *op[2] = { x, x }, *op_null[2] = { x, NULL };
	const float *pp[2] = { x, x }, *pp_null[2] = { x, NULL };

	cr_assert_eq(vhs_limiter_open(NULL, &good), -EINVAL);
	cr_assert_eq(vhs_limiter_open(&l, NULL), -EINVAL);
#define BAD(field, value)                                                  \
	do {                                                               \
		bad = good;                                                \
		bad.field = value;                                         \
		cr_assert_eq(vhs_limiter_open(&l, &bad), -EINVAL, #field " = " #value); \
	} while (0)
	BAD(rate, 0);
	BAD(rate, -48000);
	BAD(channels, 0);
	BAD(channels, 9);
	BAD(gain_db, NAN);
	BAD(gain_db, 1000);
	BAD(ceiling_dbtp, 1.0);
	BAD(ceiling_dbtp, NAN);
	BAD(lookahead_ms, -1);
	BAD(lookahead_ms, 1000);
	BAD(release_ms, -5);
	BAD(release_ms, INFINITY);
#undef BAD
	l = NULL;
	cr_assert_eq(vhs_limiter_open(&l, &good), 0);
	cr_assert_eq(vhs_limiter_push(NULL, pp, 4), -EINVAL);
	cr_assert_eq(vhs_limiter_push(l, NULL, 4), -EINVAL);
	cr_assert_eq(vhs_limiter_push(l, pp_null, 4), -EINVAL);
	cr_assert_eq(vhs_limiter_push(l, pp, -1), -EINVAL);
	cr_assert_eq(vhs_limiter_push(l, NULL, 0), 0);
	cr_assert_eq(vhs_limiter_pull(NULL, op, 4, 0), -EINVAL);
	cr_assert_eq(vhs_limiter_pull(l, NULL, 4, 0), -EINVAL);
	cr_assert_eq(vhs_limiter_pull(l, op_null, 4, 0), -EINVAL);
	cr_assert_eq(vhs_limiter_pull(l, op, -1, 0), -EINVAL);
	cr_assert_eq(vhs_limiter_push(l, pp, 4), 0);
	cr_assert_eq(vhs_limiter_pull(l, op, 4, 1), 4);
	cr_assert_eq(vhs_limiter_push(l, pp, 4), -EINVAL, "push after the flush");
	vhs_limiter_close(&l);
	cr_assert_null(l);
	vhs_limiter_close(&l);
	vhs_limiter_close(NULL);
	cr_assert(isnan(vhs_true_peak_db(NULL, 1, 4)));
	cr_assert(isnan(vhs_true_peak_db(pp, 0, 4)));
	cr_assert(isnan(vhs_true_peak_db(pp_null, 2, 4)));
}
