/* limiter.h: the second pass of EBU R128 loudness normalisation: one linear gain for the
 * whole programme, then a true-peak lookahead limiter that keeps the result at or under a
 * ceiling in dBTP as ffmpeg's `ebur128=peak=true` meter measures it.
 *
 * DESIGN
 * The mux stage measures the programme first (integrated loudness), picks the gain, and
 * runs every sample once through this limiter: streaming, no threads, no globals, a
 * bounded amount of state whatever the programme's length (plus what the caller pushes
 * and has not pulled yet). libavfilter's alimiter only looks at sample peaks, hence this
 * module; it needs nothing but libm.
 *
 *   detector  the meter's own interpolator, rebuilt here: libswresample upsampling to
 *             192 kHz with its defaults is a 32-tap Kaiser (beta 9) windowed sinc, scaled by
 *             1 / I0(beta) so a point on a sample is that sample; its output point j sits
 *             at input position j * rate / 192000. The peak of sample n is the largest
 *             |value| at the meter's points in [n, n + 1) over all channels (linked: one
 *             gain for all channels): at 48 kHz n, n + 1/4, n + 2/4, n + 3/4; at 44.1 kHz
 *             4 or 5 points in a pattern that repeats every 147 samples; at 96 kHz n and
 *             n + 1/2. Checked against libswresample itself: the same values to 2e-15 (in
 *             double) at 8, 32, 44.1, 48, 88.2 and 96 kHz, 1e-6 at 22.05 kHz (where it
 *             interpolates its filters). Rates whose pattern is longer than 1024 samples
 *             (44.056 kHz: 5507) get a uniform grid of twice the meter's density; the
 *             meter read up to 0.04 dB over the target there, inside the margin.
 *             At the start it also reads the history mirrored, as the meter's resampler
 *             does, and takes the larger of that and silence.
 *   request   g_req[n] = min(1, target / peak[n]), target = ceiling less
 *             VHS_LIMITER_MARGIN_DB.
 *   envelope  sliding minimum of g_req over [k - H, k + L - 1 + H], then a box (moving
 *             average) of L samples: every average for sample j contains only minima whose
 *             window holds [j - H, j + H], so the gain is <= g_req[m] over the whole
 *             interpolator span around m. The hold H = VHS_LIMITER_HOLD keeps the gain flat
 *             under the taps that make a peak, so the meter's reading of the output is the
 *             gain times its reading of the input; the attack is a linear ramp of L samples (L = lookahead). The
 *             box runs on integers (1 - g in units of 2^-40), so it cannot drift over hours
 *             and it is exactly 1 when nothing in reach is limited.
 *   release  r[n] = min(box[n], r[n-1] + (1 - r[n-1]) * k), k = 1 - exp(-1 / (release *
 *             rate)); r snaps to 1 when within 2^-32 of it.
 *   output   y[c][n] = (x[c][n] * G) * (float)r[n], G = (float)pow(10, gain_db / 20), in
 *             float. Where nothing within reach of n is over the target r[n] == 1 exactly
 *             and the output is exactly x * G (gain_db 0: the input itself, bit for bit).
 *
 * Delay: output n leaves when input n + L - 1 + H + 16 has come in (16: the interpolator's
 * reach ahead; 271 samples with the defaults at 48 kHz); pull(flush) pads zeros and gives
 * out the rest, so output sample n is input sample n and the totals agree exactly. Every
 * sample goes through the same arithmetic in the same order whatever the push and pull
 * sizes, so the output is bit-identical for any chunking. Samples must be finite.
 *
 * Measured (48 kHz, ceiling -1: tone bursts 50 Hz..23 kHz, white noise, clicks, all at
 * 3..30 dB over): the output's 4x peak, by this detector and by libswresample itself, is
 * the target (-1.100 dBTP) within 0.0002 dB; ffmpeg's ebur128 reads -1.1. Without the
 * hold (H = 0) it overshot the target by up to 0.014 dB, H = 4 by 0.001. At 8..96 kHz
 * with lookaheads of 1..20 ms within 0.013 dB (0.0015 dB at the default 5 ms), 0.02 dB
 * with 0.1 ms. The continuous
 * peak (32x interpolation) is higher than any 4x reading: by under 0.1 dB for content up
 * to ~9 kHz (hard-gated 5 kHz bursts: -0.9985 dBTP; a steady 997 Hz sine: -1.0994), more
 * near Nyquist (0.3..0.75 dB for 19..23 kHz tones, 1.2 dB for full-band white noise),
 * which the meter does not see. At 32 and 44.1 kHz a 4x detector let the meter read up to
 * 0.28 dB over the target (its points are elsewhere there), hence the meter's own grid.
 */
#ifndef VHS_AUDIO_LIMITER_H
#define VHS_AUDIO_LIMITER_H

#include <stdint.h>

#define VHS_LIMITER_MAX_CHANNELS 8
#define VHS_LIMITER_LOOKAHEAD_MS 5.0   /* default attack ramp (L) */
#define VHS_LIMITER_RELEASE_MS 100.0   /* default release time constant */
/* Aim this far under the ceiling. The meter's reading lands within 0.0002 dB of the
 * target (see Measured above), so the margin is not for the meter: it keeps the continuous
 * peak, which a finer meter or a decoder's reconstruction sees, under the ceiling too for
 * content up to ~9 kHz (the meter's 192 kHz grid under-reads a tone at f by up to
 * 1 - cos(pi f / 192 kHz): 0.1 dB at 9.2 kHz), while costing only 0.1 dB of level. */
#define VHS_LIMITER_MARGIN_DB 0.1
#define VHS_LIMITER_HOLD 16            /* H: samples the gain stays down around a peak */
#define VHS_LIMITER_STAT_DB 0.01       /* vhs_limiter_stats counts reductions over this */

struct vhs_limiter_config {
	int rate;               /* Hz, 8000..768000 */
	int channels;           /* 1..VHS_LIMITER_MAX_CHANNELS */
	double gain_db;         /* linear gain applied first, dB, -100..100 */
	double ceiling_dbtp;    /* the output's true peak must not exceed it, dBTP, -60..0 */
	double lookahead_ms;    /* attack ramp, ms, 0.1..100; 0 = VHS_LIMITER_LOOKAHEAD_MS */
	double release_ms;      /* release time constant, ms, 1..10000; 0 = VHS_LIMITER_RELEASE_MS */
};

struct vhs_limiter;

/* Copies cfg. Returns 0, -EINVAL (a field out of range, NULL) or -ENOMEM. */
int vhs_limiter_open(struct vhs_limiter **l, const struct vhs_limiter_config *cfg);

/* nb samples of planar float audio (channels planes), copied: the caller keeps its
 * buffers. Pull after each push; what is pushed and not pulled is held (the buffer grows).
 * Returns 0, -EINVAL (bad arguments, or a push after a flushing pull) or -ENOMEM. */
int vhs_limiter_push(struct vhs_limiter *l, const float *const *planes, int nb);

/* Writes up to max samples per plane into the caller's planes. Without flush, gives what
 * is ready (input less the delay); with flush (end of input), pads zeros and gives the
 * rest, over as many calls as max needs; after that, push is refused. Returns the number
 * of samples written (0 when none is ready or all are out) or -EINVAL. */
int vhs_limiter_pull(struct vhs_limiter *l, float *const *planes, int max, int flush);

/* Frees and NULLs *l; safe on NULL and on *l == NULL. */
void vhs_limiter_close(struct vhs_limiter **l);

/* Samples between input and output: output n needs input n + delay (or a flush). */
int vhs_limiter_delay(const struct vhs_limiter *l);

/* For the report: samples given out whose gain was reduced by more than
 * VHS_LIMITER_STAT_DB (the release tail under it, inaudible but up to ~1.7 s long, is not
 * counted), and the largest reduction in dB (0 when none). Either pointer may be NULL. */
void vhs_limiter_stats(const struct vhs_limiter *l, uint64_t *limited, double *max_reduction_db);

/* The true peak (dBTP) of nb samples of planar audio at rate Hz by the limiter's detector:
 * the meter's points in [n, n + 1) for n in 0..nb-1, zeros after the buffer and before it
 * the larger of zeros and the meter's mirror; the largest over the channels. -INFINITY for
 * silence or nb == 0, NAN for bad arguments (or no memory). */
double vhs_true_peak_rate_db(const float *const *planes, int channels, int nb, int rate);

/* The same at 48 kHz (4x: n, n + 1/4, n + 2/4, n + 3/4). */
double vhs_true_peak_db(const float *const *planes, int channels, int nb);

#endif
