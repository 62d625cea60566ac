/* analysis.c: the whole-track audio analysis (see analysis.h). */
#include "analysis.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/tx.h>

#define HUM_MAX_HZ 1100.0        /* hum spectrum kept up to here */
#define SILENCE_MS 1e-10         /* mean square of digital silence (-100 dBFS) */
#define QUIET_FROM_HZ 1000.0     /* noise frames are ranked by their level above this */
#define TONAL_DB 6.0             /* a profile bin this far over its neighbours is a line */
#define TONAL_HALF 8             /* neighbours each side for that median */
#define DEAD_CHANNEL_DB 20.0     /* a channel this far below the other is dead */
#define DUAL_MONO_CORR 0.98      /* correlation of one track on two channels */
#define DUAL_MONO_BALANCE_DB 3.0
#define HUM_AGREE_HZ 0.25        /* a hum series' lines agree on its fundamental this well */
#define VHS_HISS_UNHUM 9         /* bins above the hum series that stand for those under it */

/* One of the quietest frames seen so far. */
struct quiet {
	double energy;   /* rank: power above QUIET_FROM_HZ (noise), mean square (hum) */
	int64_t start;   /* first sample */
	float *power;    /* rows x bins */
};

/* The K quietest frames: a set that replaces its loudest member. */
struct quiet_set {
	struct quiet *q;
	int n, cap, rows, bins;
};

struct vhs_audio_analyzer {
	int rate, channels;
	int64_t samples;              /* pushed so far, per channel */
	float *frame;                 /* (channels + 1) x VHS_HISS_FFT: the hiss frame being filled */
	int fill;                     /* samples in frame */
	float *hum_frame;             /* VHS_HUM_FFT mid samples being filled */
	int hum_fill;
	struct vhs_hiss_meter *meter;
	AVTXContext *tx;              /* VHS_HUM_FFT complex FFT */
	av_tx_fn tx_fn;
	AVComplexFloat *tx_in, *tx_out;
	float *hann;                  /* VHS_HUM_FFT */
	int hum_bins;                 /* bins kept below HUM_MAX_HZ */
	struct quiet_set noise, hum;
	float *scratch;               /* rows x VHS_HISS_BINS */
	double ll, rr, lr;            /* channel 0/1 sums over frames that are not silence */
};

static int s_cmp_float(const void *x, const void *y);

/* ---- the quiet sets ---- */

static int s_set_init(struct quiet_set *s, int cap, int rows, int bins)
{
	s->q = calloc((size_t)cap, sizeof(*s->q));
	if (!s->q)
		return -ENOMEM;
	s->cap = cap;
	s->rows = rows;
	s->bins = bins;
	for (int i = 0; i < cap; i++) {
		s->q[i].power = calloc((size_t)rows * (size_t)bins, sizeof(float));
		if (!s->q[i].power)
			return -ENOMEM;
	}
	return 0;
}

static void s_set_free(struct quiet_set *s)
{
	for (int i = 0; s->q && i < s->cap; i++)
		free(s->q[i].power);
	free(s->q);
	memset(s, 0, sizeof(*s));
}

/* Where a frame of this energy goes (a free entry or the loudest, if louder), or NULL. */
static struct quiet *s_set_slot(struct quiet_set *s, double energy)
{
	struct quiet *loudest = NULL;

	if (s->n < s->cap)
		return &s->q[s->n++];
	for (int i = 0; i < s->n; i++)
		if (!loudest || s->q[i].energy > loudest->energy)
			loudest = &s->q[i];
	return loudest->energy > energy ? loudest : NULL;
}

/* Mean of the set's spectra into out (rows x bins); returns the mean energy. */
static double s_set_mean(const struct quiet_set *s, float *out)
{
	size_t len = (size_t)s->rows * (size_t)s->bins;
	double energy = 0;

	for (size_t j = 0; j < len; j++) {
		double sum = 0;

		for (int i = 0; i < s->n; i++)
			sum += s->q[i].power[j];
		out[j] = (float)(sum / s->n);
	}
	for (int i = 0; i < s->n; i++)
		energy += s->q[i].energy / s->n;
	return energy;
}

/* Per bin, the median over the set's spectra: a line that is in every frame (hum) keeps
 * its level, one that comes and goes (programme) does not. */
static void s_set_median(const struct quiet_set *s, float *out)
{
	float v[VHS_HUM_FRAMES > VHS_NOISE_FRAMES ? VHS_HUM_FRAMES : VHS_NOISE_FRAMES];

	for (int j = 0; j < s->bins; j++) {
		for (int i = 0; i < s->n; i++)
			v[i] = s->q[i].power[j];
		qsort(v, (size_t)s->n, sizeof(*v), s_cmp_float);
		out[j] = v[s->n / 2];
	}
}

/* ---- open, push ---- */

int vhs_audio_analyzer_open(struct vhs_audio_analyzer **out, int rate, int channels)
{
	struct vhs_audio_analyzer *a;
	float scale = 1.0f;
	int rows = channels + 1, ret;

	*out = NULL;
	if (rate < 8000 || channels < 1 || channels > VHS_ANALYSIS_MAX_CHANNELS)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->rate = rate;
	a->channels = channels;
	a->hum_bins = (int)(HUM_MAX_HZ * VHS_HUM_FFT / rate) + 1;
	a->frame = calloc((size_t)rows * VHS_HISS_FFT, sizeof(float));
	a->hum_frame = calloc(VHS_HUM_FFT, sizeof(float));
	a->hann = malloc(VHS_HUM_FFT * sizeof(float));
	a->tx_in = av_malloc(VHS_HUM_FFT * sizeof(AVComplexFloat));
	a->tx_out = av_malloc(VHS_HUM_FFT * sizeof(AVComplexFloat));
	a->scratch = malloc((size_t)rows * VHS_HISS_BINS * sizeof(float));
	ret = a->frame && a->hum_frame && a->hann && a->tx_in && a->tx_out && a->scratch ? 0 : -ENOMEM;
	if (!ret)
		ret = vhs_hiss_meter_open(&a->meter);
	if (!ret)
		ret = av_tx_init(&a->tx, &a->tx_fn, AV_TX_FLOAT_FFT, 0, VHS_HUM_FFT, &scale, 0);
	if (!ret)
		ret = s_set_init(&a->noise, VHS_NOISE_FRAMES, rows, VHS_HISS_BINS);
	if (!ret)
		ret = s_set_init(&a->hum, VHS_HUM_FRAMES, 1, a->hum_bins);
	if (ret) {
		vhs_audio_analyzer_close(&a);
		return ret < 0 ? ret : -ENOMEM;
	}
	for (int i = 0; i < VHS_HUM_FFT; i++)
		a->hann[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / VHS_HUM_FFT));
	*out = a;
	return 0;
}

void vhs_audio_analyzer_close(struct vhs_audio_analyzer **pa)
{
	struct vhs_audio_analyzer *a = *pa;

	if (!a)
		return;
	vhs_hiss_meter_close(&a->meter);
	av_tx_uninit(&a->tx);
	av_free(a->tx_in);
	av_free(a->tx_out);
	free(a->frame);
	free(a->hum_frame);
	free(a->hann);
	free(a->scratch);
	s_set_free(&a->noise);
	s_set_free(&a->hum);
	free(a);
	*pa = NULL;
}

int vhs_audio_analyzer_rate(const struct vhs_audio_analyzer *a)
{
	return a->rate;
}

int vhs_audio_analyzer_channels(const struct vhs_audio_analyzer *a)
{
	return a->channels;
}

static double s_mean_square(const float *x, int n)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		sum += (double)x[i] * x[i];
	return sum / n;
}

/* A full hiss frame: channel statistics, and a candidate for the noise profile. Frames are
 * ranked by their level above QUIET_FROM_HZ: below it hum (often louder than the hiss)
 * and the low notes of quiet programme would make a quiet bit of music rank under a gap. */
static void s_noise_frame(struct vhs_audio_analyzer *a)
{
	const float *mid = a->frame + (size_t)a->channels * VHS_HISS_FFT;
	int from = (int)(QUIET_FROM_HZ * VHS_HISS_FFT / a->rate);
	double energy = 0;
	struct quiet *q;

	if (s_mean_square(mid, VHS_HISS_FFT) < SILENCE_MS && s_mean_square(a->frame, VHS_HISS_FFT) < SILENCE_MS)
		return; /* digital silence: before the tape starts, muted, or a gap in the file */
	if (a->channels >= 2) {
		const float *l = a->frame, *r = a->frame + VHS_HISS_FFT;

		for (int i = 0; i < VHS_HISS_FFT; i++) {
			a->ll += (double)l[i] * l[i];
			a->rr += (double)r[i] * r[i];
			a->lr += (double)l[i] * r[i];
		}
	}
	vhs_hiss_meter_power(a->meter, mid, a->scratch);
	for (int k = from; k < VHS_HISS_BINS; k++)
		energy += a->scratch[k];
	q = s_set_slot(&a->noise, energy);
	if (!q)
		return;
	q->energy = energy;
	q->start = a->samples - VHS_HISS_FFT;
	memcpy(q->power + (size_t)a->channels * VHS_HISS_BINS, a->scratch, VHS_HISS_BINS * sizeof(float));
	for (int c = 0; c < a->channels; c++)
		vhs_hiss_meter_power(a->meter, a->frame + (size_t)c * VHS_HISS_FFT,
				     q->power + (size_t)c * VHS_HISS_BINS);
}

/* A full hum frame: a candidate for the hum spectrum. */
static void s_hum_frame(struct vhs_audio_analyzer *a)
{
	double energy = s_mean_square(a->hum_frame, VHS_HUM_FFT);
	struct quiet *q;

	if (energy < SILENCE_MS)
		return;
	q = s_set_slot(&a->hum, energy);
	if (!q)
		return;
	for (int i = 0; i < VHS_HUM_FFT; i++) {
		a->tx_in[i].re = a->hum_frame[i] * a->hann[i];
		a->tx_in[i].im = 0;
	}
	a->tx_fn(a->tx, a->tx_out, a->tx_in, sizeof(AVComplexFloat));
	q->energy = energy;
	q->start = a->samples - VHS_HUM_FFT;
	for (int k = 0; k < a->hum_bins; k++)
		q->power[k] = a->tx_out[k].re * a->tx_out[k].re + a->tx_out[k].im * a->tx_out[k].im;
}

int vhs_audio_analyzer_push(struct vhs_audio_analyzer *a, const float *const *planes, int nb)
{
	float *mid = a->frame + (size_t)a->channels * VHS_HISS_FFT;

	for (int i = 0; i < nb; i++) {
		float m = a->channels >= 2 ? 0.5f * (planes[0][i] + planes[1][i]) : planes[0][i];

		for (int c = 0; c < a->channels; c++)
			a->frame[(size_t)c * VHS_HISS_FFT + a->fill] = planes[c][i];
		mid[a->fill++] = m;
		a->hum_frame[a->hum_fill++] = m;
		a->samples++;
		if (a->fill == VHS_HISS_FFT) {
			s_noise_frame(a);
			a->fill = 0;
		}
		if (a->hum_fill == VHS_HUM_FFT) {
			s_hum_frame(a);
			a->hum_fill = 0;
		}
	}
	return 0;
}

/* ---- finish: hum ---- */

static int s_cmp_float(const void *x, const void *y)
{
	float a = *(const float *)x, b = *(const float *)y;

	return (a > b) - (a < b);
}

/* Median of p[lo..hi) without the bins [skip_lo, skip_hi). */
static float s_median(const float *p, int lo, int hi, int skip_lo, int skip_hi)
{
	float v[256];
	int n = 0;

	for (int k = lo; k < hi && n < 256; k++)
		if (k < skip_lo || k >= skip_hi)
			v[n++] = p[k];
	if (!n)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), s_cmp_float);
	return v[n / 2];
}

/* How far harmonic k of mains stands out of spectrum p, in dB, and where its peak is
 * (refined, Hz). */
static double s_harmonic(const struct vhs_audio_analyzer *a, const float *p, int mains, int k,
			 double *peak_hz)
{
	double bin_hz = (double)a->rate / VHS_HUM_FFT, f = mains * k;
	double reach = fmax(1.5, 0.02 * f); /* mains and tape speed wander up to 2 % */
	int lo = (int)floor((f - reach) / bin_hz), hi = (int)ceil((f + reach) / bin_hz);
	int best = lo, span = (int)ceil(15.0 / bin_hz);
	double y0, y1, y2, d, floor_p;

	lo = lo < 1 ? 1 : lo;
	hi = hi >= a->hum_bins - 1 ? a->hum_bins - 2 : hi;
	for (int i = lo; i <= hi; i++)
		if (p[i] > p[best])
			best = i;
	floor_p = s_median(p, best - span - 4 > 0 ? best - span - 4 : 0,
			   best + span + 5 < a->hum_bins ? best + span + 5 : a->hum_bins, best - 3, best + 4);
	y0 = log(p[best - 1] + FLT_MIN);
	y1 = log(p[best] + FLT_MIN);
	y2 = log(p[best + 1] + FLT_MIN);
	d = y0 - 2 * y1 + y2 < 0 ? 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) : 0;
	*peak_hz = (best + d) * bin_hz;
	return 10 * log10((p[best] + FLT_MIN) / (floor_p + FLT_MIN));
}

/* The mains of the hum spectrum p, its refined fundamental, and both scores. A series
 * counts when its lines agree on one fundamental within HUM_AGREE_HZ and either two of
 * them stand out by VHS_HUM_MIN_DB or the fundamental alone by twice that: the partials of
 * a voice or a held note can stand out too, but wander and do not sit on one series. */
static void s_find_hum(const struct vhs_audio_analyzer *a, const float *p,
		       struct vhs_audio_analysis *r)
{
	static const int mains[2] = { 50, 60 };
	double best_score = 0;

	for (int m = 0; m < 2; m++) {
		double score = 0, sum_w = 0, sum_f = 0, lo = 1e9, hi = 0, peak, fund_db = 0;
		int lines = 0;

		r->hum_db[m] = 0;
		for (int k = 1; k <= 5 && mains[m] * k * 1.05 < HUM_MAX_HZ; k++) {
			double db = s_harmonic(a, p, mains[m], k, &peak);

			r->hum_db[m] = fmax(r->hum_db[m], db);
			fund_db = k == 1 ? db : fund_db;
			if (db < VHS_HUM_MIN_DB)
				continue;
			lines++;
			score += db;
			sum_w += k * db; /* higher harmonics pin the fundamental finer */
			sum_f += db * peak;
			lo = fmin(lo, peak / k);
			hi = fmax(hi, peak / k);
		}
		if ((lines >= 2 || fund_db >= 2 * VHS_HUM_MIN_DB) && hi - lo <= HUM_AGREE_HZ &&
		    score > best_score) {
			best_score = score;
			r->mains = mains[m];
			r->hum_hz = sum_f / sum_w;
		}
	}
}

/* ---- finish: noise ---- */

static double s_mean(const float *x, int n)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		sum += x[i];
	return sum / n;
}

/* Takes tonal lines out of a profile row (see analysis.h). */
static void s_untone(float *row, float *tmp)
{
	memcpy(tmp, row, VHS_HISS_BINS * sizeof(float));
	for (int k = 0; k < VHS_HISS_BINS; k++) {
		int lo = k - TONAL_HALF < 0 ? 0 : k - TONAL_HALF;
		int hi = k + TONAL_HALF + 1 > VHS_HISS_BINS ? VHS_HISS_BINS : k + TONAL_HALF + 1;
		float med = s_median(tmp, lo, hi, 0, 0);

		if (tmp[k] > med * powf(10.0f, TONAL_DB / 10))
			row[k] = med;
	}
}

/* Below the notched hum series the lines are closer than the median's reach: the bins
 * there take the median of the VHS_HISS_UNHUM bins just above it. */
static void s_unhum(float *row, double hum_hz, int rate)
{
	int top = (int)ceil((VHS_HUM_HARMONICS + 0.5) * hum_hz * VHS_HISS_FFT / rate) + 2;
	float level;

	if (top + VHS_HISS_UNHUM >= VHS_HISS_BINS)
		return;
	level = s_median(row, top + 1, top + 1 + VHS_HISS_UNHUM, 0, 0);
	for (int k = 0; k <= top; k++)
		row[k] = level;
}

static void s_layout(const struct vhs_audio_analyzer *a, struct vhs_audio_analysis *r)
{
	r->correlation = 1;
	r->balance_db = 0;
	r->layout = a->channels == 1 ? VHS_LAYOUT_MONO : VHS_LAYOUT_STEREO;
	if (a->channels != 2 || a->ll + a->rr <= 0)
		return;
	r->balance_db = 10 * log10((a->ll + DBL_MIN) / (a->rr + DBL_MIN));
	r->correlation = a->ll > 0 && a->rr > 0 ? a->lr / sqrt(a->ll * a->rr) : 0;
	if (r->balance_db >= DEAD_CHANNEL_DB)
		r->layout = VHS_LAYOUT_LEFT_ONLY;
	else if (r->balance_db <= -DEAD_CHANNEL_DB)
		r->layout = VHS_LAYOUT_RIGHT_ONLY;
	else if (r->correlation >= DUAL_MONO_CORR && fabs(r->balance_db) <= DUAL_MONO_BALANCE_DB)
		r->layout = VHS_LAYOUT_DUAL_MONO;
}

int vhs_audio_analyzer_finish(struct vhs_audio_analyzer *a, struct vhs_audio_analysis *r)
{
	int rows = a->channels + 1;
	float hum[VHS_HUM_FFT / 2], tmp[VHS_HISS_BINS];
	int64_t first = INT64_MAX;

	memset(r, 0, sizeof(*r));
	r->rate = a->rate;
	r->channels = a->channels;
	r->seconds = (double)a->samples / a->rate;
	s_layout(a, r);
	if (a->hum.n) {
		s_set_median(&a->hum, hum);
		s_find_hum(a, hum, r);
	}
	if (!a->noise.n)
		return 0;
	r->profile = malloc((size_t)rows * VHS_HISS_BINS * sizeof(float));
	if (!r->profile)
		return -ENOMEM;
	s_set_mean(&a->noise, r->profile);
	for (int c = 0; c < rows; c++) {
		s_untone(r->profile + (size_t)c * VHS_HISS_BINS, tmp);
		if (r->mains)
			s_unhum(r->profile + (size_t)c * VHS_HISS_BINS, r->hum_hz, a->rate);
	}
	/* the meter reads white noise's variance in every bin: the broadband level is the mean */
	r->noise_dbfs = 10 * log10(s_mean(r->profile + (size_t)a->channels * VHS_HISS_BINS,
					  VHS_HISS_BINS) + DBL_MIN);
	for (int i = 0; i < a->noise.n; i++)
		first = a->noise.q[i].start < first ? a->noise.q[i].start : first;
	r->noise_seconds = (double)a->noise.n * VHS_HISS_FFT / a->rate;
	r->noise_at = (double)first / a->rate;
	return 0;
}

/* ---- the file ---- */

const char *vhs_audio_layout_name(enum vhs_audio_layout l)
{
	static const char *const names[] = { "mono", "stereo", "dual-mono", "left-only", "right-only" };

	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "stereo";
}

const float *vhs_audio_analysis_row(const struct vhs_audio_analysis *r, int row)
{
	if (!r->profile || row < 0 || row > r->channels)
		return NULL;
	return r->profile + (size_t)row * VHS_HISS_BINS;
}

int vhs_audio_analysis_write(const struct vhs_audio_analysis *r, FILE *f)
{
	fprintf(f, "# vhs-orchestrate audio analysis (analysis.h); written by vhs-stage-decode "
		   "--analyze-audio\nversion = %d\nrate = %d\nchannels = %d\nseconds = %.6f\n"
		   "mains = %d\nhum_hz = %.6f\nhum_db_50 = %.3f\nhum_db_60 = %.3f\nlayout = %s\n"
		   "correlation = %.6f\nbalance_db = %.3f\nnoise_dbfs = %.3f\nnoise_seconds = %.3f\n"
		   "noise_at = %.3f\nprofile_rows = %d\nprofile_bins = %d\n",
		VHS_ANALYSIS_VERSION, r->rate, r->channels, r->seconds, r->mains, r->hum_hz,
		r->hum_db[0], r->hum_db[1], vhs_audio_layout_name(r->layout), r->correlation,
		r->balance_db, r->noise_dbfs, r->noise_seconds, r->noise_at,
		r->profile ? r->channels + 1 : 0, VHS_HISS_BINS);
	for (int c = 0; r->profile && c <= r->channels; c++) {
		fprintf(f, "profile_%d =", c);
		for (int k = 0; k < VHS_HISS_BINS; k++) /* %a: the exact bits, so loads agree */
			fprintf(f, " %a", (double)r->profile[(size_t)c * VHS_HISS_BINS + k]);
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

/* One "key = value" line: the value after the key, or NULL. */
static const char *s_value(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) || strncmp(line + n, " = ", 3))
		return NULL;
	return line + n + 3;
}

static int s_layout_parse(const char *s, enum vhs_audio_layout *l)
{
	for (int i = VHS_LAYOUT_MONO; i <= VHS_LAYOUT_RIGHT_ONLY; i++) {
		if (!strncmp(s, vhs_audio_layout_name(i), strlen(vhs_audio_layout_name(i)))) {
			*l = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int s_parse_row(struct vhs_audio_analysis *r, int row, const char *v)
{
	char *end;

	for (int k = 0; k < VHS_HISS_BINS; k++) {
		double x = strtod(v, &end);

		if (end == v || !(x >= 0) || !isfinite(x))
			return -EINVAL;
		r->profile[(size_t)row * VHS_HISS_BINS + k] = (float)x;
		v = end;
	}
	return 0;
}

/* The keys a complete file has, besides the profile rows. */
static const char *const s_keys[] = { "version", "rate", "channels", "seconds", "mains", "hum_hz",
				      "hum_db_50", "hum_db_60", "layout", "correlation", "balance_db",
				      "noise_dbfs", "noise_seconds", "noise_at", "profile_rows",
				      "profile_bins", NULL };

/* Marks the key of a "key = value" line in *seen (bit i: s_keys[i]). */
static void s_seen(const char *line, unsigned *seen)
{
	for (int i = 0; s_keys[i]; i++)
		if (s_value(line, s_keys[i]))
			*seen |= 1u << i;
}

static int s_parse_line(struct vhs_audio_analysis *r, const char *line, int *version, int *rows)
{
	const char *v;
	char key[32];

	if ((v = s_value(line, "version")))
		*version = atoi(v);
	else if ((v = s_value(line, "rate")))
		r->rate = atoi(v);
	else if ((v = s_value(line, "channels")))
		r->channels = atoi(v);
	else if ((v = s_value(line, "seconds")))
		r->seconds = atof(v);
	else if ((v = s_value(line, "mains")))
		r->mains = atoi(v);
	else if ((v = s_value(line, "hum_hz")))
		r->hum_hz = atof(v);
	else if ((v = s_value(line, "hum_db_50")))
		r->hum_db[0] = atof(v);
	else if ((v = s_value(line, "hum_db_60")))
		r->hum_db[1] = atof(v);
	else if ((v = s_value(line, "layout")))
		return s_layout_parse(v, &r->layout);
	else if ((v = s_value(line, "correlation")))
		r->correlation = atof(v);
	else if ((v = s_value(line, "balance_db")))
		r->balance_db = atof(v);
	else if ((v = s_value(line, "noise_dbfs")))
		r->noise_dbfs = atof(v);
	else if ((v = s_value(line, "noise_seconds")))
		r->noise_seconds = atof(v);
	else if ((v = s_value(line, "noise_at")))
		r->noise_at = atof(v);
	else if ((v = s_value(line, "profile_rows")))
		*rows = atoi(v);
	else if ((v = s_value(line, "profile_bins")))
		return atoi(v) == VHS_HISS_BINS ? 0 : -EINVAL;
	else if (!strncmp(line, "profile_", 8)) {
		int row = atoi(line + 8);

		snprintf(key, sizeof(key), "profile_%d", row);
		v = s_value(line, key);
		if (!v || !r->profile || row < 0 || row >= *rows)
			return -EINVAL;
		return s_parse_row(r, row, v);
	}
	return 0;
}

int vhs_audio_analysis_load(struct vhs_audio_analysis *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int version = 0, rows = 0, ret = 0, n = 0, rows_read = 0;
	unsigned seen = 0, all = 0;

	memset(r, 0, sizeof(*r));
	if (!f) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return -errno;
	}
	while (!ret && getline(&line, &cap, f) > 0) {
		n++;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		s_seen(line, &seen);
		rows_read += !strncmp(line, "profile_", 8) && line[8] >= '0' && line[8] <= '9';
		ret = s_parse_line(r, line, &version, &rows);
		if (!ret && rows && !r->profile) {
			if (rows != r->channels + 1 || r->channels < 1 || r->channels > VHS_ANALYSIS_MAX_CHANNELS)
				ret = -EINVAL;
			else if (!(r->profile = calloc((size_t)rows * VHS_HISS_BINS, sizeof(float))))
				ret = -ENOMEM;
		}
	}
	free(line);
	fclose(f);
	for (int i = 0; s_keys[i]; i++)
		all |= 1u << i;
	/* a file cut short (a full disk, a copy) must not pass for one without hum or profile */
	if (!ret && (version != VHS_ANALYSIS_VERSION || r->rate <= 0 || r->channels < 1 ||
		     seen != all || rows_read != rows))
		ret = -EINVAL;
	if (ret) {
		snprintf(err, errlen, "'%s' is damaged or of another version (line %d)", path, n);
		vhs_audio_analysis_free(r);
	}
	return ret;
}

void vhs_audio_analysis_describe(const struct vhs_audio_analysis *r, char *buf, size_t len)
{
	int n;

	if (r->mains)
		n = snprintf(buf, len, "mains hum %d Hz (at %.2f Hz, %.0f dB over the floor)", r->mains,
			     r->hum_hz, r->hum_db[r->mains == 60]);
	else
		n = snprintf(buf, len, "no mains hum (50 Hz %.0f dB, 60 Hz %.0f dB over the floor)",
			     r->hum_db[0], r->hum_db[1]);
	if (n < 0 || (size_t)n >= len)
		return;
	n += snprintf(buf + n, len - (size_t)n, "; channels %s", vhs_audio_layout_name(r->layout));
	if (r->channels == 2 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " (correlation %.3f, balance %+.1f dB)",
			      r->correlation, r->balance_db);
	if ((size_t)n >= len)
		return;
	if (r->profile)
		snprintf(buf + n, len - (size_t)n, "; noise %.1f dBFS in the quietest %.1f s (from %.1f s)",
			 r->noise_dbfs, r->noise_seconds, r->noise_at);
	else
		snprintf(buf + n, len - (size_t)n, "; no noise profile (digital silence throughout)");
}

void vhs_audio_analysis_free(struct vhs_audio_analysis *r)
{
	free(r->profile);
	r->profile = NULL;
}
