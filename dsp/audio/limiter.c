/* limiter.c: the loudness pass's gain and true-peak lookahead limiter (limiter.h).
 *
 * DESIGN
 * One pipeline per sample, driven by pull: the detector runs `ahead` = L - 1 + H samples in
 * front of the output, and each detector step gives the gain of one output sample.
 *
 *   input    buf[c][i] holds x * G for stream index base + i, amax[i] the largest |x * G|
 *            over the channels; they keep everything from the oldest sample still to be
 *            given out (at the start: the detector's 15 samples of history) to the newest
 *            pushed, moved down when the space runs out and grown when that is not enough.
 *            The stream starts with 15 zeros (indices -15..-1); flush appends `delay` zeros.
 *   detector peak[n]: the meter's points in [n, n + 1) (struct s_grid) interpolated from
 *            buf[n - 15 .. n + 16], as 4 lanes x 4 chains of taps that the compiler
 *            vectorises without reordering any sum. For n < 15 the peak is also taken with the history
 *            mirrored (x[-i] = x[i]), which is how libswresample starts the meter's stream,
 *            and the larger of the two views counts. A bound skips the interpolation: when
 *            amax under the taps times the largest phase's sum of |h| (with 0.1% slack for
 *            rounding) is under the target, the peak cannot exceed it and g_req is 1
 *            either way, so skipping changes no output bit; most programme is skipped.
 *   minimum  g_req as q = ceil((1 - g_req) * 2^40) (0: no reduction), and a monotonic
 *            deque giving the sliding maximum of q over the last W = L + 2H detector
 *            steps. The stream of q starts with L - 1 + H zeros (silence before the
 *            programme), held as one deque entry at index -1.
 *   box      the last L sliding maxima in a ring, and their sum (int64: L * 2^40 < 2^63
 *            for any L allowed). box[j] = 1 - sum / (L * 2^40).
 *   release  as limiter.h says; the state is the last gain given out.
 *
 * Indices: detector step n pushes q[n]; the sliding maximum then covers q[n - W + 1 .. n],
 * the window of sample k = n - (L - 1 + H); the box then averages the windows of samples
 * k - L + 1 .. k. So step n gives sample k's gain, once k >= 0. Nothing here depends on
 * where a push or a pull starts or ends, hence the bit-identical output for any chunking.
 */
#include "limiter.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TAPS 32                 /* libswresample's filter_size for upsampling */
#define CENTER 15               /* its (taps - 1) / 2: taps cover n - 15 .. n + 16 */
#define REACH (TAPS - CENTER)   /* 17: input needed from n on to finish peak[n] */
#define METER_RATE 192000       /* the meter upsamples to this */
#define MAX_PATTERNS 1024       /* s_grid: longer point patterns get a uniform grid */
#define KAISER_BETA 9.0         /* libswresample's default */
#define Q_ONE ((int64_t)1 << 40) /* the box's unit: gains in steps of 2^-40 */
#define SNAP (1.0 - 1.0 / 4294967296.0) /* release above this is 1 */
#define FIRST_CAP 4096          /* samples per channel buffered at first */

struct s_qent {
	int64_t idx;            /* detector index of the value */
	int64_t q;              /* (1 - g_req) in units of 2^-40 */
};

/* Where the meter reads between samples, and the filters for those points. The meter's
 * point j sits at input position j * step / P (P = 192000 / g, step = rate / g, g their
 * gcd), so the points in [n, n + 1) are at offsets r, r + step, ... (in 1/P of a sample,
 * below P) with r = -n * P mod step: a pattern that repeats every `step` samples. At
 * 48 kHz P = 4 and step = 1 (n, n + 1/4, n + 2/4, n + 3/4); at 44.1 kHz P = 640 and
 * step = 147 (4 or 5 points per sample); at 96 kHz n and n + 1/2. Rates whose pattern is
 * longer than MAX_PATTERNS samples get a uniform grid of twice the meter's density. */
struct s_grid {
	int patterns;           /* distinct point patterns: sample n uses n % patterns */
	int lanes;              /* points per pattern, padded to a multiple of 4 (zero filters) */
	float *bank;            /* [patterns][TAPS][lanes]: tap i of each point's filter */
	double abs_sum;         /* the largest sum of |h| of any point's filter */
};

struct vhs_limiter {
	int channels;
	float gain;             /* G, linear */
	double target;          /* ceiling less the margin, linear */
	double skip_level;      /* target / (grid.abs_sum + 0.1%): amax under it is never limited */
	int attack;             /* L, samples */
	int ahead;              /* L - 1 + H: detector steps in front of the output */
	int delay;              /* ahead + 16: input samples in front of the output */
	double release_k;       /* per-sample release coefficient */
	double box_scale;       /* 1 / (L * 2^40): box sum -> reduction */
	struct s_grid grid;     /* the meter's points */

	float *buf[VHS_LIMITER_MAX_CHANNELS]; /* x * G, see DESIGN */
	float *amax;            /* max over channels of |buf[c][i]|, same indexing */
	int64_t base;           /* stream index of buf[c][0] */
	size_t len, cap;        /* samples held and allocated per channel */
	int64_t in_n;           /* stream samples appended (pushed + flush padding) */
	int64_t in_real;        /* samples pushed */
	int64_t det_n;          /* next detector index */
	int64_t out_n;          /* samples given out */
	int flushing;           /* a flushing pull has padded the stream */

	struct s_qent *dq;      /* sliding-maximum deque, ring of dq_mask + 1 */
	size_t dq_mask;
	size_t dq_head, dq_tail; /* front, one past the back (both wrap with the mask) */
	int64_t *ring;          /* the last L sliding maxima */
	int ring_pos;
	int64_t ring_sum;       /* their sum */
	double rel;             /* gain of the last sample given out */

	double stat_gain;       /* a gain under this counts as limited (VHS_LIMITER_STAT_DB) */
	uint64_t limited;       /* samples given out with gain < stat_gain */
	double min_gain;        /* smallest gain given out */
};

/* I0, the modified Bessel function of the first kind, by its series. */
static double s_bessel_i0(double x)
{
	double v = 1, t = 1, last = 0;

	x = x * x / 4;
	for (int k = 1; v != last && k < 500; k++) {
		last = v;
		t *= x / ((double)k * k);
		v += t;
	}
	return v;
}

/* libswresample's upsampling filter for the point at offset frac (0 <= frac < 1) after the
 * sample at tap 15: tap i weighs the sample at (i - 15). */
static void s_filter(float *h, int stride, double frac)
{
	double norm = s_bessel_i0(KAISER_BETA);

	for (int i = 0; i < TAPS; i++) {
		double d = (double)(i - CENTER) - frac;
		double x = M_PI * d, w = 2.0 * d / TAPS;
		double y = x == 0 ? 1.0 : sin(x) / x;

		y *= s_bessel_i0(KAISER_BETA * sqrt(fmax(1 - w * w, 0)));
		h[i * stride] = (float)(y / norm);
	}
}

static int64_t s_gcd(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* The meter's points at this rate (see struct s_grid). 0 or -ENOMEM. */
static int s_grid_init(struct s_grid *g, int rate)
{
	int64_t d = s_gcd(METER_RATE, rate), p = METER_RATE / d, step = rate / d;
	int uniform = step > MAX_PATTERNS, most;

	if (uniform) {          /* 2 * ceil(192000 / rate) points at k / that */
		p = 2 * ((METER_RATE + rate - 1) / rate);
		step = 1;
	}
	most = (int)((p + step - 1) / step);
	g->patterns = (int)step;
	g->lanes = (most + 3) / 4 * 4;
	g->bank = calloc((size_t)g->patterns * TAPS * (size_t)g->lanes, sizeof(float));
	if (!g->bank)
		return -ENOMEM;
	g->abs_sum = 0;
	for (int m = 0; m < g->patterns; m++) {
		float *blk = g->bank + (size_t)m * TAPS * (size_t)g->lanes;
		int64_t r = (step - (int64_t)m * p % step) % step;

		for (int k = 0; r + k * step < p; k++) {
			double sum = 0;

			s_filter(blk + k, g->lanes, (double)(r + k * step) / (double)p);
			for (int i = 0; i < TAPS; i++)
				sum += fabs(blk[i * g->lanes + k]);
			g->abs_sum = fmax(g->abs_sum, sum);
		}
	}
	return 0;
}

static inline float s_max(float a, float b)
{
	return a > b ? a : b;    /* fmaxf is a libm call without -ffinite-math-only */
}

/* The largest |value| at the meter's points in [n, n + 1); x points at sample n, and
 * x[-15 .. 16] must be readable. Four points at a time in lanes, each summed in 4 chains
 * of every fourth tap (in tap order) and then (c0 + c1) + (c2 + c3): a fixed order that
 * does not depend on the compiler, and chains that keep the adds from waiting on each
 * other. */
static float s_peak(const struct s_grid *g, int64_t n, const float *x)
{
	const float *blk = g->bank + (size_t)(n % g->patterns) * TAPS * (size_t)g->lanes;
	float m = 0;

	x -= CENTER;
	for (int q = 0; q < g->lanes; q += 4) {
		float a0[4] = { 0 }, a1[4] = { 0 }, a2[4] = { 0 }, a3[4] = { 0 };
		const float *h = blk + q;
		int st = g->lanes;

		for (int i = 0; i < TAPS; i += 4) {
			for (int k = 0; k < 4; k++)
				a0[k] += h[i * st + k] * x[i];
			for (int k = 0; k < 4; k++)
				a1[k] += h[(i + 1) * st + k] * x[i + 1];
			for (int k = 0; k < 4; k++)
				a2[k] += h[(i + 2) * st + k] * x[i + 2];
			for (int k = 0; k < 4; k++)
				a3[k] += h[(i + 3) * st + k] * x[i + 3];
		}
		for (int k = 0; k < 4; k++)
			m = s_max(m, fabsf((a0[k] + a1[k]) + (a2[k] + a3[k])));
	}
	return m;
}

/* The largest of x[0 .. TAPS - 1] (all >= 0), in 8 lanes. */
static float s_window_max(const float *x)
{
	float lane[8] = { 0 }, m = 0;

	for (int i = 0; i < TAPS; i += 8)
		for (int k = 0; k < 8; k++)
			lane[k] = s_max(lane[k], x[i + k]);
	for (int k = 0; k < 8; k++)
		m = s_max(m, lane[k]);
	return m;
}

/* The peak at n < CENTER with the history before the programme mirrored (x[-i] = x[i]),
 * as libswresample starts the meter's stream; x points at sample 0, len samples exist. */
static float s_peak_mirrored(const struct s_grid *g, const float *x, int64_t n, int64_t len)
{
	float tmp[TAPS];

	for (int i = 0; i < TAPS; i++) {
		int64_t k = n - CENTER + i;

		k = k < 0 ? -k : k;
		tmp[i] = k < len ? x[k] : 0.0f;
	}
	return s_peak(g, n, tmp + CENTER);
}

static int s_check_config(const struct vhs_limiter_config *c)
{
	if (!c || c->rate < 8000 || c->rate > 768000)
		return -EINVAL;
	if (c->channels < 1 || c->channels > VHS_LIMITER_MAX_CHANNELS)
		return -EINVAL;
	if (!(c->gain_db >= -100 && c->gain_db <= 100))
		return -EINVAL;
	if (!(c->ceiling_dbtp >= -60 && c->ceiling_dbtp <= 0))
		return -EINVAL;
	if (!(c->lookahead_ms == 0 || (c->lookahead_ms >= 0.1 && c->lookahead_ms <= 100)))
		return -EINVAL;
	if (!(c->release_ms == 0 || (c->release_ms >= 1 && c->release_ms <= 10000)))
		return -EINVAL;
	return 0;
}

/* Sizes the sample buffers, the deque and the ring; 0 or -ENOMEM. */
static int s_alloc(struct vhs_limiter *l)
{
	size_t w = (size_t)l->attack + 2 * VHS_LIMITER_HOLD + 2, n = 1;

	while (n < w)
		n <<= 1;
	l->dq = malloc(n * sizeof(*l->dq));
	l->dq_mask = n - 1;
	l->ring = calloc((size_t)l->attack, sizeof(*l->ring));
	l->cap = (size_t)l->delay + CENTER + FIRST_CAP;
	for (int c = 0; c < l->channels; c++)
		if (!(l->buf[c] = calloc(l->cap, sizeof(float))))
			return -ENOMEM;
	l->amax = calloc(l->cap, sizeof(float));
	return l->dq && l->ring && l->amax ? 0 : -ENOMEM;
}

int vhs_limiter_open(struct vhs_limiter **lp, const struct vhs_limiter_config *cfg)
{
	struct vhs_limiter *l;
	double la = cfg && cfg->lookahead_ms > 0 ? cfg->lookahead_ms : VHS_LIMITER_LOOKAHEAD_MS;
	double rel = cfg && cfg->release_ms > 0 ? cfg->release_ms : VHS_LIMITER_RELEASE_MS;
	int ret;

	if (!lp || (ret = s_check_config(cfg)) < 0)
		return -EINVAL;
	*lp = NULL;
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	l->channels = cfg->channels;
	l->gain = (float)pow(10.0, cfg->gain_db / 20.0);
	l->target = pow(10.0, (cfg->ceiling_dbtp - VHS_LIMITER_MARGIN_DB) / 20.0);
	l->attack = (int)fmax(1, lround(la * cfg->rate / 1000.0));
	l->ahead = l->attack - 1 + VHS_LIMITER_HOLD;
	l->delay = l->ahead + REACH - 1;
	l->release_k = -expm1(-1000.0 / (rel * cfg->rate));
	l->box_scale = 1.0 / ((double)l->attack * (double)Q_ONE);
	l->stat_gain = pow(10.0, -VHS_LIMITER_STAT_DB / 20.0);
	if ((ret = s_grid_init(&l->grid, cfg->rate)) < 0 || (ret = s_alloc(l)) < 0) {
		vhs_limiter_close(&l);
		return ret;
	}
	l->skip_level = l->target / (l->grid.abs_sum * 1.001);
	l->base = -CENTER;
	l->len = CENTER;        /* indices -15..-1: silence (calloc) */
	l->dq[0] = (struct s_qent){ .idx = -1, .q = 0 };
	l->dq_tail = 1;
	l->rel = 1.0;
	l->min_gain = 1.0;
	*lp = l;
	return 0;
}

void vhs_limiter_close(struct vhs_limiter **lp)
{
	struct vhs_limiter *l = lp ? *lp : NULL;

	if (!l)
		return;
	for (int c = 0; c < VHS_LIMITER_MAX_CHANNELS; c++)
		free(l->buf[c]);
	free(l->amax);
	free(l->grid.bank);
	free(l->dq);
	free(l->ring);
	free(l);
	*lp = NULL;
}

int vhs_limiter_delay(const struct vhs_limiter *l)
{
	return l->delay;
}

/* The planes that s_reserve moves and grows: the channels, then amax. */
static float **s_plane(struct vhs_limiter *l, int i)
{
	return i < l->channels ? &l->buf[i] : &l->amax;
}

/* Room for n more samples per channel: drops what no step needs any more, then grows.
 * 0 or -ENOMEM. */
static int s_reserve(struct vhs_limiter *l, size_t n)
{
	int64_t keep = l->out_n < l->det_n - CENTER ? l->out_n : l->det_n - CENTER;
	size_t drop = (size_t)(keep - l->base), cap;

	if (l->len + n <= l->cap)
		return 0;
	if (drop) {
		for (int i = 0; i <= l->channels; i++) {
			float *p = *s_plane(l, i);

			memmove(p, p + drop, (l->len - drop) * sizeof(float));
		}
		l->base += (int64_t)drop;
		l->len -= drop;
	}
	if (l->len + n <= l->cap)
		return 0;
	for (cap = l->cap * 2; cap < l->len + n; cap *= 2)
		;
	for (int i = 0; i <= l->channels; i++) {
		float *p = realloc(*s_plane(l, i), cap * sizeof(float));

		if (!p)
			return -ENOMEM;
		*s_plane(l, i) = p;
	}
	l->cap = cap;
	return 0;
}

int vhs_limiter_push(struct vhs_limiter *l, const float *const *planes, int nb)
{
	int ret;

	if (!l || nb < 0 || (nb && !planes) || l->flushing)
		return -EINVAL;
	for (int c = 0; c < l->channels && nb; c++)
		if (!planes[c])
			return -EINVAL;
	if ((ret = s_reserve(l, (size_t)nb)) < 0)
		return ret;
	memset(l->amax + l->len, 0, (size_t)nb * sizeof(float));
	for (int c = 0; c < l->channels; c++) {
		float *d = l->buf[c] + l->len, *a = l->amax + l->len;

		for (int i = 0; i < nb; i++) {
			d[i] = planes[c][i] * l->gain;
			a[i] = s_max(a[i], fabsf(d[i]));
		}
	}
	l->len += (size_t)nb;
	l->in_n += nb;
	l->in_real += nb;
	return 0;
}

/* g_req of detector index n as q (0: none), over all channels. Near the start the peak is
 * the larger of the two views of the history, silence and the meter's mirror. */
static int64_t s_detect(const struct vhs_limiter *l, int64_t n)
{
	size_t at = (size_t)(n - l->base);
	float peak = 0;

	if (n >= CENTER && s_window_max(l->amax + at - CENTER) < l->skip_level)
		return 0;
	for (int c = 0; c < l->channels; c++) {
		peak = s_max(peak, s_peak(&l->grid, n, l->buf[c] + at));
		if (n < CENTER)
			peak = s_max(peak, s_peak_mirrored(&l->grid, l->buf[c] - l->base, n, INT64_MAX));
	}
	if (!(peak > l->target))
		return 0;
	return (int64_t)ceil((1.0 - l->target / peak) * (double)Q_ONE);
}

/* One detector step: q[det_n] into the deque and its window's maximum into the box. When
 * it completes an output sample's gain (k >= 0), updates the release state to it. */
static void s_step(struct vhs_limiter *l)
{
	int64_t n = l->det_n++, q = s_detect(l, n);
	int64_t w = (int64_t)l->attack + 2 * VHS_LIMITER_HOLD;
	size_t m = l->dq_mask;
	double box, r;

	while (l->dq_tail != l->dq_head && l->dq[(l->dq_tail - 1) & m].q <= q)
		l->dq_tail--;
	l->dq[l->dq_tail++ & m] = (struct s_qent){ .idx = n, .q = q };
	while (l->dq[l->dq_head & m].idx <= n - w)
		l->dq_head++;
	l->ring_sum += l->dq[l->dq_head & m].q - l->ring[l->ring_pos];
	l->ring[l->ring_pos] = l->dq[l->dq_head & m].q;
	l->ring_pos = l->ring_pos + 1 == l->attack ? 0 : l->ring_pos + 1;
	if (n < l->ahead)
		return;
	box = 1.0 - (double)l->ring_sum * l->box_scale;
	r = l->rel + (1.0 - l->rel) * l->release_k;
	if (r > SNAP)
		r = 1.0;
	l->rel = box < r ? box : r;
}

/* Pads the stream with `delay` zeros (once). 0 or -ENOMEM. */
static int s_flush(struct vhs_limiter *l)
{
	int ret;

	if (l->flushing)
		return 0;
	if ((ret = s_reserve(l, (size_t)l->delay)) < 0)
		return ret;
	for (int c = 0; c < l->channels; c++)
		memset(l->buf[c] + l->len, 0, (size_t)l->delay * sizeof(float));
	memset(l->amax + l->len, 0, (size_t)l->delay * sizeof(float));
	l->len += (size_t)l->delay;
	l->in_n += l->delay;
	l->flushing = 1;
	return 0;
}

int vhs_limiter_pull(struct vhs_limiter *l, float *const *planes, int max, int flush)
{
	int64_t ready;
	int n, ret;

	if (!l || max < 0 || (max && !planes))
		return -EINVAL;
	for (int c = 0; c < l->channels && max; c++)
		if (!planes[c])
			return -EINVAL;
	if (flush && (ret = s_flush(l)) < 0)
		return ret;
	ready = l->in_n - l->delay < l->in_real ? l->in_n - l->delay : l->in_real;
	ready -= l->out_n;
	n = ready < max ? (int)(ready > 0 ? ready : 0) : max;
	for (int i = 0; i < n; i++, l->out_n++) {
		size_t at = (size_t)(l->out_n - l->base);
		float g;

		while (l->det_n <= l->out_n + l->ahead)
			s_step(l);
		g = (float)l->rel;
		if (l->rel < l->stat_gain)
			l->limited++;
		l->min_gain = l->rel < l->min_gain ? l->rel : l->min_gain;
		for (int c = 0; c < l->channels; c++)
			planes[c][i] = l->buf[c][at] * g;
	}
	return n;
}

void vhs_limiter_stats(const struct vhs_limiter *l, uint64_t *limited, double *max_reduction_db)
{
	if (limited)
		*limited = l->limited;
	if (max_reduction_db)
		*max_reduction_db = l->min_gain < 1.0 ? -20.0 * log10(l->min_gain) : 0.0;
}

double vhs_true_peak_rate_db(const float *const *planes, int channels, int nb, int rate)
{
	enum { BLOCK = 4096 };
	struct s_grid g;
	float tmp[BLOCK + TAPS];
	float peak = 0;

	if (!planes || channels < 1 || nb < 0 || rate < 8000 || rate > 768000)
		return NAN;
	for (int c = 0; c < channels; c++)
		if (!planes[c] && nb)
			return NAN;
	if (s_grid_init(&g, rate) < 0)
		return NAN;
	for (int c = 0; c < channels; c++) {
		for (int n = 0; n < CENTER && n < nb; n++)
			peak = s_max(peak, s_peak_mirrored(&g, planes[c], n, nb));
		for (int start = 0; start < nb; start += BLOCK) {
			int cnt = nb - start < BLOCK ? nb - start : BLOCK;

			/* tmp[j] = x[start - 15 + j], zeros outside */
			for (int j = 0; j < cnt + TAPS - 1; j++) {
				int64_t k = (int64_t)start - CENTER + j;

				tmp[j] = k >= 0 && k < nb ? planes[c][k] : 0.0f;
			}
			for (int i = 0; i < cnt; i++)
				peak = s_max(peak, s_peak(&g, start + i, tmp + CENTER + i));
		}
	}
	free(g.bank);
	return peak > 0 ? 20.0 * log10(peak) : -INFINITY;
}

double vhs_true_peak_db(const float *const *planes, int channels, int nb)
{
	return vhs_true_peak_rate_db(planes, channels, nb, 48000);
}
