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
 *   detector  the meter's own interpolator, rebuilt here: libswresample upsampling 4x
 *             (48 -> 192 kHz) with its defaults is a 32-tap Kaiser (beta 9) windowed sinc
 *             per phase, normalised so phase 0 is the identity. The peak of sample n is the
 *             largest |value| at n, n + 1/4, n + 2/4, n + 3/4 over all channels (linked:
 *             one gain for all channels). Coefficients match libswresample's to 1e-15.
 *   request   g_req[n] = min(1, target / peak[n]), target = ceiling less
 *             VHS_LIMITER_MARGIN_DB.
 *   envelope  sliding minimum of g_req over [k - H, k + L - 1 + H], then a box (moving
 *             average) of L samples: every average for sample j contains only minima whose
 *             window holds [j - H, j + H], so the gain is <= g_req[m] for the whole
 *             interpolator span around m (the hold H = VHS_LIMITER_HOLD keeps the gain
 *             flat under the 32 taps that make the peak, so the output's oversampled peak
 *             is the gain times the input's), and the attack is a linear ramp of L samples
 *             (L = lookahead). The box runs on integers (1 - g in units of 2^-40), so it
 *             never drifts over hours and it is exactly 1 when nothing in reach is limited.
 *   release  r[n] = min(box[n], r[n-1] + (1 - r[n-1]) * k), k = 1 - exp(-1 / (release *
 *             rate)); r snaps to 1 when within 2^-32 of it.
 *   output   y[c][n] = (x[c][n] * G) * (float)r[n], G = (float)pow(10, gain_db / 20).
 *             Where nothing within reach of n is near the ceiling r[n] == 1 exactly and the
 *             output is exactly x * G (gain_db 0: the input itself).
 *
 * Delay: output n leaves when input n + L - 1 + H + 16 has come in (16: the interpolator's
 * reach ahead); pull(flush) pads zeros and gives out the rest, so output sample n is input
 * sample n and the totals agree exactly. Every sample goes through the same arithmetic in
 * the same order whatever the push and pull sizes, so the output is bit-identical for any
 * chunking. Samples must be finite.
 */
#ifndef VHS_AUDIO_LIMITER_H
#define VHS_AUDIO_LIMITER_H

#include <stdint.h>

#define VHS_LIMITER_MAX_CHANNELS 8
#define VHS_LIMITER_LOOKAHEAD_MS 5.0   /* default attack ramp (L) */
#define VHS_LIMITER_RELEASE_MS 100.0   /* default release time constant */
/* Aim this far under the ceiling. Measured (tests/unit/test_limiter.c and libswresample
 * itself): the output's 4x peak lands within 0.002 dB of the internal target for tones,
 * bursts and noise; the rest is for the meter's grid against a finer one (0.03 dB for a
 * 5 kHz tone at 192 kHz) and for float rounding. */
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

/* The true peak (dBTP) of nb samples of planar audio by the limiter's 4x interpolator
 * (zeros outside the buffer; points n .. n + 3/4 for n in 0..nb-1), the largest over the
 * channels. -INFINITY for silence or nb == 0, NAN for bad arguments. */
double vhs_true_peak_db(const float *const *planes, int channels, int nb);

#endif
