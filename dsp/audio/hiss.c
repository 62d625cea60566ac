/* hiss.c: the hiss reducer and its power-spectrum meter (hiss.h).
 *
 * DESIGN
 * Spectrum. A frame is VHS_HISS_FFT = N samples times a periodic sqrt-Hann window
 * w[n] = sqrt(0.5 - 0.5 cos(2 pi n / N)). The real FFT is one complex FFT of N/2 points
 * (libavutil av_tx AV_TX_FLOAT_FFT; the real transforms are not in every FFmpeg 5.1) over
 * the even samples as real parts and the odd ones as imaginary parts, then the usual split into bins 0 .. N/2
 * with twiddles e^(-2 pi i k / N); the inverse runs the same steps backwards. Power is
 * |X_k|^2 / (N / 2): sum(w^2) = N / 2, so white noise of variance s^2 reads s^2 per bin.
 * The meter is exactly this forward path; the reducer uses the same code, so a profile
 * measured with the meter is in the reducer's own units.
 *
 * Frames and delay. Hop H = N / 4. Frame k covers input samples [(k - 3) H, (k + 1) H):
 * the stream starts with 3H samples of virtual silence, so the first real samples get
 * the full overlap of four frames like every other sample. sqrt-Hann for analysis and
 * synthesis makes Hann, whose periodic copies at hop N/4 sum to exactly 2, so the
 * overlap-add divides by 2 (folded, with the inverse FFT's 1 / (N/2), into the synthesis
 * window). After frame k, samples [(k - 3) H, (k - 2) H) have all their four frames and
 * are finished; frames 0 .. 2 only finish virtual samples, which are dropped. So output
 * sample n is input sample n, with an internal delay of about N that the caller never
 * sees. At the end (a flushing pull) the input is padded with silence until every real
 * sample is finished, and what lies past the last real sample is cut: out == in exactly.
 *
 * Gain, per channel and bin, with the profile lambda_k (0 < lambda_k; see below for 0):
 *   P_k    = |X_k|^2 / (N / 2)               the frame's power, meter units
 *   P'_k   = (P_{k-1} + 2 P_k + P_{k+1}) / 4 smoothed across bins (mirrored at the ends)
 *   gamma  = P'_k / lambda_k                 a-posteriori SNR
 *   xi     = alpha S_k / lambda_k + (1 - alpha) max(gamma - 1, 0)
 *                                            decision-directed a-priori SNR, alpha 0.98
 *   G_w    = xi / (1 + xi)                   Wiener gain
 *   S_k    = G_w^2 P'_k                      the clean-power estimate the next frame uses
 *   G      = max(G_w, g_min)                 g_min = 10^(-reduction_db / 20)
 * and X_k *= G. Choices:
 *   - decision-directed xi (Ephraim and Malah 1984; Cappe 1994): the a-priori SNR moves
 *     slowly on noise, so lone noise peaks do not open their bin: that is what keeps
 *     "musical noise" away. Its cost is a slow onset of quiet signals, a frame or two.
 *   - the smoothing across bins is on the power, not on the gain. It lowers the variance
 *     of the noise's periodogram (fewer lone bins opening: in 20 s of white noise a few
 *     frame-bins reach a gain of 0.5, about 70 without it), and a tone lifts its neighbours
 *     rather than being pulled down by them. Smoothing the gain instead cost a tone whose
 *     energy sits in two bins (200 Hz, 10 dB over the noise) 1.8 dB: its floored
 *     neighbours were averaged into its own gain.
 *   - S_k uses the unfloored Wiener gain, so the floor (a choice of how much noise to
 *     leave) does not feed back into the SNR estimate and bias it upwards on noise.
 *   - the floor leaves a constant, uncoloured fraction of the hiss: with 12 dB the
 *     residue is the same hiss 12 dB down, which sounds natural, where a deeper cut
 *     leaves a warbling residue; tape hiss is never really removed.
 *   - a bin with lambda_k == 0 has no noise to remove: G = 1 there, exactly.
 * Channels are independent, each with its own profile row and state.
 *
 * Determinism. All arithmetic is float in a fixed order per frame, the FFT is the same
 * av_tx function on buffers of the same alignment every time, frames sit at fixed
 * positions of the stream, and each output sample sums its four frames in frame order:
 * the output depends on the input only, not on how it was chunked.
 *
 * Buffers per channel: `win`, the next frame's N input samples; `acc`, the overlap-add
 * accumulator for the N samples from the next frame's start; `fifo`, finished samples
 * not yet pulled (it grows by what a push finishes; pushes are all-or-nothing because
 * its room is reserved before any frame runs).
 */
#include "hiss.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/tx.h>

#define N VHS_HISS_FFT
#define H VHS_HISS_HOP
#define M (VHS_HISS_FFT / 2) /* points of the complex FFT */
#define BINS VHS_HISS_BINS
#define ALPHA 0.98f          /* decision-directed weight of the previous frame */

/* The real FFT of N points and its inverse through one complex FFT of M points. */
struct s_rfft {
	AVTXContext *fwd, *inv;   /* complex FFTs of M points (av_tx) */
	av_tx_fn fwd_fn, inv_fn;
	float *win_a;             /* [N] analysis window w */
	float *win_s;             /* [N] synthesis window w / (2 N): the inverse FFT's and the
	                           * overlap-add's scale folded in */
	AVComplexFloat *tw;       /* [M + 1] e^(-2 pi i k / N) */
	AVComplexFloat *za, *zb;  /* [M] FFT input and output, av_malloc'd (aligned) */
};

struct vhs_hiss_meter {
	struct s_rfft rf;
	AVComplexFloat *spec;     /* [BINS] spectrum of the last frame */
};

struct s_chan {
	float *win;          /* [N] input samples of the next frame, from its start */
	float *acc;          /* [N] overlap-add sums for the N samples from the next frame's start */
	float *lambda;       /* [BINS] noise power from the profile, meter units */
	float *clean;        /* [BINS] S_k: the previous frame's clean-power estimate, meter units */
	float *fifo;         /* [cap] finished samples; unpulled ones at [head, head + len) */
};

struct vhs_hiss {
	int channels;
	float g_min;             /* gain floor, 10^(-reduction_db / 20), linear */
	struct s_rfft rf;
	AVComplexFloat *spec;    /* [BINS] spectrum of the frame being processed */
	float *pow;              /* [BINS] the frame's power per bin, meter units */
	float *gain;             /* [BINS] the frame's gains, linear */
	float *out;              /* [N] the frame's windowed inverse */
	struct s_chan *ch;       /* [channels] */
	int fill;                /* samples in every win, H * 3 .. N (N: a frame is due) */
	int64_t frames;          /* frames done */
	int64_t in_total;        /* samples pushed per channel */
	int64_t finished;        /* samples finished per channel (put into the fifo, or cut) */
	size_t head, len, cap;   /* fifo read index, unpulled samples, room; samples */
	int flushed;             /* a flushing pull has padded the input: no more pushes */
};

/* -------------------------------------------------------------------------------------
 * The real FFT
 */

static void s_rfft_free(struct s_rfft *rf)
{
	av_tx_uninit(&rf->fwd);
	av_tx_uninit(&rf->inv);
	av_freep(&rf->win_a);
	av_freep(&rf->win_s);
	av_freep(&rf->tw);
	av_freep(&rf->za);
	av_freep(&rf->zb);
}

/* Sets up rf (zeroed by the caller); the inverse only if inverse != 0. 0 or -errno. */
static int s_rfft_init(struct s_rfft *rf, int inverse)
{
	const float one = 1.0f;
	int err, i;

	err = av_tx_init(&rf->fwd, &rf->fwd_fn, AV_TX_FLOAT_FFT, 0, M, &one, 0);
	if (!err && inverse)
		err = av_tx_init(&rf->inv, &rf->inv_fn, AV_TX_FLOAT_FFT, 1, M, &one, 0);
	if (err)
		goto out_free;
	rf->win_a = av_malloc(sizeof(float) * N);
	rf->win_s = av_malloc(sizeof(float) * N);
	rf->tw = av_malloc(sizeof(AVComplexFloat) * (M + 1));
	rf->za = av_malloc(sizeof(AVComplexFloat) * M);
	rf->zb = av_malloc(sizeof(AVComplexFloat) * M);
	err = -ENOMEM;
	if (!rf->win_a || !rf->win_s || !rf->tw || !rf->za || !rf->zb)
		goto out_free;
	for (i = 0; i < N; i++) {
		double w = sqrt(0.5 - 0.5 * cos(2.0 * M_PI * i / N));

		rf->win_a[i] = (float)w;
		rf->win_s[i] = (float)(w / (2.0 * N));
	}
	for (i = 0; i <= M; i++) {
		rf->tw[i].re = (float)cos(2.0 * M_PI * i / N);
		rf->tw[i].im = (float)-sin(2.0 * M_PI * i / N);
	}
	return 0;

out_free:
	s_rfft_free(rf);
	return err < 0 ? err : -ENOMEM;
}

/* X[0 .. M] = DFT of w * x[0 .. N), unnormalised; X[0] and X[M] are real. */
static void s_rfft_forward(struct s_rfft *rf, const float *x, AVComplexFloat *X)
{
	const AVComplexFloat *z = rf->zb;
	int k, m;

	for (m = 0; m < M; m++) {
		rf->za[m].re = rf->win_a[2 * m] * x[2 * m];
		rf->za[m].im = rf->win_a[2 * m + 1] * x[2 * m + 1];
	}
	rf->fwd_fn(rf->fwd, rf->zb, rf->za, sizeof(AVComplexFloat));
	X[0].re = z[0].re + z[0].im;
	X[0].im = 0.0f;
	X[M].re = z[0].re - z[0].im;
	X[M].im = 0.0f;
	for (k = 1; k < M; k++) {
		/* even part E = (Z_k + conj Z_{M-k}) / 2, odd part O = -i (Z_k - conj Z_{M-k}) / 2,
		 * X_k = E + W^k O */
		float e_re = 0.5f * (z[k].re + z[M - k].re), e_im = 0.5f * (z[k].im - z[M - k].im);
		float o_re = 0.5f * (z[k].im + z[M - k].im), o_im = -0.5f * (z[k].re - z[M - k].re);

		X[k].re = e_re + rf->tw[k].re * o_re - rf->tw[k].im * o_im;
		X[k].im = e_im + rf->tw[k].re * o_im + rf->tw[k].im * o_re;
	}
}

/* y[0 .. N) = the synthesis window times the inverse of X[0 .. M] (Hermitian, as a real
 * gain leaves it), scaled for the overlap-add: the sum over frames of y is the signal. */
static void s_rfft_inverse(struct s_rfft *rf, const AVComplexFloat *X, float *y)
{
	const AVComplexFloat *z = rf->zb;
	int k, m;

	for (k = 0; k < M; k++) {
		/* 2 E = X_k + conj X_{M-k}, 2 O = (X_k - conj X_{M-k}) W^-k, 2 Z_k = 2 E + 2 i O */
		float e_re = X[k].re + X[M - k].re, e_im = X[k].im - X[M - k].im;
		float d_re = X[k].re - X[M - k].re, d_im = X[k].im + X[M - k].im;
		float o_re = d_re * rf->tw[k].re + d_im * rf->tw[k].im;
		float o_im = d_im * rf->tw[k].re - d_re * rf->tw[k].im;

		rf->za[k].re = e_re - o_im;
		rf->za[k].im = e_im + o_re;
	}
	rf->inv_fn(rf->inv, rf->zb, rf->za, sizeof(AVComplexFloat));
	for (m = 0; m < M; m++) {
		y[2 * m] = rf->win_s[2 * m] * z[m].re;
		y[2 * m + 1] = rf->win_s[2 * m + 1] * z[m].im;
	}
}

/* -------------------------------------------------------------------------------------
 * The meter
 */

int vhs_hiss_meter_open(struct vhs_hiss_meter **m)
{
	struct vhs_hiss_meter *mt;
	int err;

	if (!m)
		return -EINVAL;
	*m = NULL;
	mt = calloc(1, sizeof(*mt));
	if (!mt)
		return -ENOMEM;
	err = s_rfft_init(&mt->rf, 0);
	if (err)
		goto out_free;
	mt->spec = av_malloc(sizeof(AVComplexFloat) * BINS);
	err = -ENOMEM;
	if (!mt->spec)
		goto out_rfft;
	*m = mt;
	return 0;

out_rfft:
	s_rfft_free(&mt->rf);
out_free:
	free(mt);
	return err;
}

void vhs_hiss_meter_power(struct vhs_hiss_meter *m, const float *x, float *power)
{
	const float scale = 2.0f / N; /* 1 / sum(w^2) */
	int k;

	assert(m && x && power);
	s_rfft_forward(&m->rf, x, m->spec);
	for (k = 0; k < BINS; k++)
		power[k] = (m->spec[k].re * m->spec[k].re + m->spec[k].im * m->spec[k].im) * scale;
}

void vhs_hiss_meter_close(struct vhs_hiss_meter **m)
{
	if (!m || !*m)
		return;
	s_rfft_free(&(*m)->rf);
	av_freep(&(*m)->spec);
	free(*m);
	*m = NULL;
}

/* -------------------------------------------------------------------------------------
 * The reducer
 */

/* Gains of one frame of channel c into h->gain from h->spec; updates c's S_k. */
static void s_gains(struct vhs_hiss *h, struct s_chan *c)
{
	const float scale = 2.0f / N; /* 1 / sum(w^2): meter units */
	float *p = h->pow;
	int k;

	for (k = 0; k < BINS; k++)
		p[k] = (h->spec[k].re * h->spec[k].re + h->spec[k].im * h->spec[k].im) * scale;
	for (k = 0; k < BINS; k++) {
		float lo = p[k > 0 ? k - 1 : 1], hi = p[k < BINS - 1 ? k + 1 : BINS - 2];
		float ps = 0.25f * lo + 0.5f * p[k] + 0.25f * hi, lambda = c->lambda[k];
		float gamma, xi, g;

		if (lambda == 0.0f) {
			h->gain[k] = 1.0f;
			continue;
		}
		gamma = ps / lambda;
		xi = ALPHA * c->clean[k] / lambda + (1.0f - ALPHA) * fmaxf(gamma - 1.0f, 0.0f);
		g = xi < 1e30f ? xi / (1.0f + xi) : 1.0f; /* a tiny lambda can overflow xi */
		c->clean[k] = g * g * ps;
		h->gain[k] = fmaxf(g, h->g_min);
	}
}

/* Applies h->gain to h->spec. */
static void s_apply(struct vhs_hiss *h)
{
	int k;

	for (k = 0; k < BINS; k++) {
		h->spec[k].re *= h->gain[k];
		h->spec[k].im *= h->gain[k];
	}
}

/* Runs the due frame (every win full) on all channels: finishes H samples, which go into
 * the fifo (room reserved by the caller) unless they are the virtual lead-in. */
static void s_frame(struct vhs_hiss *h)
{
	int emit = h->frames >= 3, ci, i;

	for (ci = 0; ci < h->channels; ci++) {
		struct s_chan *c = &h->ch[ci];

		s_rfft_forward(&h->rf, c->win, h->spec);
		s_gains(h, c);
		s_apply(h);
		s_rfft_inverse(&h->rf, h->spec, h->out);
		for (i = 0; i < N; i++)
			c->acc[i] += h->out[i];
		if (emit)
			memcpy(c->fifo + h->head + h->len, c->acc, sizeof(float) * H);
		memmove(c->acc, c->acc + H, sizeof(float) * (N - H));
		memset(c->acc + N - H, 0, sizeof(float) * H);
		memmove(c->win, c->win + H, sizeof(float) * (N - H));
	}
	h->fill = N - H;
	h->frames++;
	if (emit) {
		h->len += H;
		h->finished += H;
	}
}

/* Makes room in every fifo for `more` samples beyond the unpulled ones. 0 or -ENOMEM;
 * on failure nothing changed that matters (the fifos may have moved to their front). */
static int s_reserve(struct vhs_hiss *h, size_t more)
{
	size_t need = h->len + more, cap;
	int ci;

	for (ci = 0; ci < h->channels && h->head; ci++)
		memmove(h->ch[ci].fifo, h->ch[ci].fifo + h->head, sizeof(float) * h->len);
	h->head = 0;
	if (need <= h->cap)
		return 0;
	cap = h->cap ? h->cap : 4 * N;
	while (cap < need)
		cap *= 2;
	for (ci = 0; ci < h->channels; ci++) {
		float *p = realloc(h->ch[ci].fifo, sizeof(float) * cap);

		if (!p)
			return -ENOMEM; /* the channels that grew keep their room; cap stays */
		h->ch[ci].fifo = p;
	}
	h->cap = cap;
	return 0;
}

int vhs_hiss_open(struct vhs_hiss **h, int channels, const float *profile, double reduction_db)
{
	struct vhs_hiss *hs;
	int err, ci, k;

	if (!h)
		return -EINVAL;
	*h = NULL;
	if (!profile || channels < 1 || channels > VHS_HISS_MAX_CHANNELS ||
	    !isfinite(reduction_db) || !(reduction_db > 0.0))
		return -EINVAL;
	for (k = 0; k < channels * BINS; k++)
		if (!isfinite(profile[k]) || profile[k] < 0.0f)
			return -EINVAL;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	hs->channels = channels;
	hs->g_min = (float)pow(10.0, -reduction_db / 20.0);
	hs->fill = N - H;
	err = s_rfft_init(&hs->rf, 1);
	if (err)
		goto out_free;
	err = -ENOMEM;
	hs->spec = av_malloc(sizeof(AVComplexFloat) * BINS);
	hs->pow = av_malloc(sizeof(float) * BINS);
	hs->gain = av_malloc(sizeof(float) * BINS);
	hs->out = av_malloc(sizeof(float) * N);
	hs->ch = calloc((size_t)channels, sizeof(*hs->ch));
	if (!hs->spec || !hs->pow || !hs->gain || !hs->out || !hs->ch)
		goto out_close;
	for (ci = 0; ci < channels; ci++) {
		struct s_chan *c = &hs->ch[ci];

		c->win = calloc(N, sizeof(float));
		c->acc = calloc(N, sizeof(float));
		c->lambda = malloc(sizeof(float) * BINS);
		c->clean = calloc(BINS, sizeof(float));
		if (!c->win || !c->acc || !c->lambda || !c->clean)
			goto out_close;
		memcpy(c->lambda, profile + (size_t)ci * BINS, sizeof(float) * BINS);
	}
	err = s_reserve(hs, N);
	if (err)
		goto out_close;
	*h = hs;
	return 0;

out_close:
	vhs_hiss_close(&hs);
	return err;
out_free:
	free(hs);
	return err;
}

int vhs_hiss_push(struct vhs_hiss *h, const float *const *planes, int nb)
{
	int done = 0, err, ci;

	if (!h || nb < 0 || (nb > 0 && !planes) || h->flushed)
		return -EINVAL;
	/* a push of nb finishes at most nb + H samples (one frame may already be part full) */
	err = s_reserve(h, (size_t)nb + H);
	if (err)
		return err;
	while (done < nb) {
		int take = N - h->fill < nb - done ? N - h->fill : nb - done;

		for (ci = 0; ci < h->channels; ci++)
			memcpy(h->ch[ci].win + h->fill, planes[ci] + done, sizeof(float) * take);
		h->fill += take;
		done += take;
		if (h->fill == N)
			s_frame(h);
	}
	h->in_total += nb;
	return 0;
}

/* Pads the input with silence until every real sample is finished; cuts the rest. */
static int s_flush(struct vhs_hiss *h)
{
	int err = s_reserve(h, (size_t)(h->in_total - h->finished) + H);
	int ci;

	if (err)
		return err;
	while (h->finished < h->in_total) {
		for (ci = 0; ci < h->channels; ci++)
			memset(h->ch[ci].win + h->fill, 0, sizeof(float) * (N - h->fill));
		h->fill = N;
		s_frame(h);
	}
	h->len -= (size_t)(h->finished - h->in_total);
	h->finished = h->in_total;
	h->flushed = 1;
	return 0;
}

int vhs_hiss_pull(struct vhs_hiss *h, float *const *planes, int max, int flush)
{
	int n, err, ci;

	if (!h || max < 0 || (max > 0 && !planes))
		return -EINVAL;
	if (flush && !h->flushed) {
		err = s_flush(h);
		if (err)
			return err;
	}
	n = (size_t)max < h->len ? max : (int)h->len;
	for (ci = 0; ci < h->channels && n > 0; ci++)
		memcpy(planes[ci], h->ch[ci].fifo + h->head, sizeof(float) * n);
	h->head += n;
	h->len -= n;
	if (!h->len)
		h->head = 0;
	return n;
}

int vhs_hiss_ready(const struct vhs_hiss *h)
{
	return (int)h->len;
}

void vhs_hiss_close(struct vhs_hiss **h)
{
	struct vhs_hiss *hs;
	int ci;

	if (!h || !*h)
		return;
	hs = *h;
	for (ci = 0; hs->ch && ci < hs->channels; ci++) {
		free(hs->ch[ci].win);
		free(hs->ch[ci].acc);
		free(hs->ch[ci].lambda);
		free(hs->ch[ci].clean);
		free(hs->ch[ci].fifo);
	}
	free(hs->ch);
	av_freep(&hs->spec);
	av_freep(&hs->pow);
	av_freep(&hs->gain);
	av_freep(&hs->out);
	s_rfft_free(&hs->rf);
	free(hs);
	*h = NULL;
}
