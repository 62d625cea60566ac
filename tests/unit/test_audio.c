/* test_audio.c: unit tests of the audio enhancement's decisions (dsp/audio/):
 *   - the whole-track analysis on synthetic tapes: mains 50 or 60 Hz and its exact
 *     frequency (also off-nominal), no hum found where there is none, dual mono, Hi-Fi
 *     stereo and a dead channel, the noise level of the quietest passages, hum lines out of
 *     the profile, and the file written and read back to the same bits;
 *   - the enhancement chain the switches and the analysis make;
 *   - the loudness meter against EBU Tech 3341's first case, and the loudness plan
 *     reaching its target through the limiter on peaky programme.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "analysis.h"
#include "enhance.h"
#include "loudness.h"

#define RATE 48000

static void s_quiet(void)
{
	av_log_set_level(AV_LOG_ERROR); /* ebur128 prints a summary when closed */
}

TestSuite(loudness, .init = s_quiet);

/* Uniform in [-1, 1): a fixed sequence (xorshift64), so each tape is the same every run. */
static double s_uniform(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return (double)(*st >> 11) / 4503599627370496.0 - 1.0;
}

/* A synthetic tape: 2 s programme (a chord), 1 s gap, repeated; hum and white noise over
 * all of it. right: 0 = the same as left (dual mono), 1 = other programme and noise
 * (Hi-Fi), 2 = silent. */
struct tape {
	double seconds, hum_hz, hum_db, noise_db;
	int right;
};

static float **s_make(const struct tape *t, int *nb)
{
	int n = (int)(t->seconds * RATE);
	float **pl = malloc(2 * sizeof(*pl));
	uint64_t rng = 0x9E3779B97F4A7C15ull;

	pl[0] = malloc((size_t)n * sizeof(float));
	pl[1] = malloc((size_t)n * sizeof(float));
	for (int i = 0; i < n; i++) {
		double s = (double)i / RATE, in_prog = fmod(s, 3.0) < 2.0, hum = 0, x, y;
		double noise = pow(10, t->noise_db / 20) * sqrt(3.0);

		for (int k = 1; k <= 5 && t->hum_hz > 0; k++)
			hum += pow(10, (t->hum_db - 4 * (k - 1)) / 20) * sin(2 * M_PI * k * t->hum_hz * s);
		x = in_prog * 0.2 * (sin(2 * M_PI * 440 * s) + 0.5 * sin(2 * M_PI * 1320 * s) +
				     0.3 * sin(2 * M_PI * 3300 * s));
		y = in_prog * 0.2 * (sin(2 * M_PI * 523 * s + 1) + 0.4 * sin(2 * M_PI * 2093 * s));
		pl[0][i] = (float)(x + hum + noise * s_uniform(&rng));
		pl[1][i] = t->right == 0 ? pl[0][i] :
			   t->right == 2 ? 0.0f : (float)(y + hum + noise * s_uniform(&rng));
	}
	*nb = n;
	return pl;
}

static void s_analyse(const struct tape *t, struct vhs_audio_analysis *r)
{
	struct vhs_audio_analyzer *a;
	int nb;
	float **pl = s_make(t, &nb);

	cr_assert_eq(vhs_audio_analyzer_open(&a, RATE, 2), 0);
	for (int at = 0; at < nb; at += 1000) { /* chunks that fit no frame size */
		const float *p[2] = { pl[0] + at, pl[1] + at };

		cr_assert_eq(vhs_audio_analyzer_push(a, p, nb - at < 1000 ? nb - at : 1000), 0);
	}
	cr_assert_eq(vhs_audio_analyzer_finish(a, r), 0);
	vhs_audio_analyzer_close(&a);
	cr_assert_null(a);
	free(pl[0]);
	free(pl[1]);
	free(pl);
}

Test(analysis, mains_60_dual_mono_and_noise_level)
{
	struct tape t = { .seconds = 30, .hum_hz = 60, .hum_db = -30, .noise_db = -50, .right = 0 };
	struct vhs_audio_analysis r;
	const float *mid;
	double k60;

	s_analyse(&t, &r);
	cr_log_info("hum %.4f Hz (%.1f dB), noise %.2f dBFS, corr %.4f\n", r.hum_hz, r.hum_db[1],
		    r.noise_dbfs, r.correlation);
	cr_assert_eq(r.mains, 60);
	cr_assert(fabs(r.hum_hz - 60) < 0.05, "%f", r.hum_hz);
	cr_assert_eq(r.layout, VHS_LAYOUT_DUAL_MONO);
	cr_assert(fabs(r.noise_dbfs - -50) < 1.0, "the gaps' noise: %f dBFS", r.noise_dbfs);
	cr_assert(fabs(r.seconds - 30) < 1e-9);
	/* the hum lines are not in the profile: the 60 Hz bin is at the noise's level */
	mid = vhs_audio_analysis_row(&r, 2);
	cr_assert_not_null(mid);
	k60 = 10 * log10(mid[(int)lround(60.0 * VHS_HISS_FFT / RATE)]);
	cr_assert(fabs(k60 - -50) < 3, "60 Hz bin %f dB", k60);
	vhs_audio_analysis_free(&r);
}

Test(analysis, mains_50_off_nominal)
{
	struct tape t = { .seconds = 30, .hum_hz = 50.12, .hum_db = -36, .noise_db = -55, .right = 1 };
	struct vhs_audio_analysis r;

	s_analyse(&t, &r);
	cr_log_info("hum %.4f Hz, layout %s, corr %.3f\n", r.hum_hz, vhs_audio_layout_name(r.layout),
		    r.correlation);
	cr_assert_eq(r.mains, 50);
	cr_assert(fabs(r.hum_hz - 50.12) < 0.05, "%f", r.hum_hz);
	cr_assert_eq(r.layout, VHS_LAYOUT_STEREO, "different programme on the two channels");
	vhs_audio_analysis_free(&r);
}

Test(analysis, no_hum_and_a_dead_channel)
{
	struct tape t = { .seconds = 20, .noise_db = -50, .right = 2 };
	struct vhs_audio_analysis r;

	s_analyse(&t, &r);
	cr_assert_eq(r.mains, 0, "hum found where there is none: %d (%.1f / %.1f dB)", r.mains,
		     r.hum_db[0], r.hum_db[1]);
	cr_assert_eq(r.hum_hz, 0);
	cr_assert_eq(r.layout, VHS_LAYOUT_LEFT_ONLY);
	vhs_audio_analysis_free(&r);
}

Test(analysis, file_round_trip)
{
	struct tape t = { .seconds = 12, .hum_hz = 59.94, .hum_db = -30, .noise_db = -48 };
	struct vhs_audio_analysis r, back;
	char path[] = "/tmp/vhs-test-analysis-XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	s_analyse(&t, &r);
	cr_assert_eq(vhs_audio_analysis_write(&r, f), 0);
	fclose(f);
	cr_assert_eq(vhs_audio_analysis_load(&back, path, err, sizeof(err)), 0, "%s", err);
	/* cut short (a full disk): refused, not read as a tape without hum or profile */
	for (int keep = 1; keep <= 3; keep++) {
		struct vhs_audio_analysis cut;
		struct stat st;

		f = fopen(path, "w");
		cr_assert_eq(vhs_audio_analysis_write(&r, f), 0);
		fclose(f);
		cr_assert_eq(stat(path, &st), 0);
		cr_assert_eq(truncate(path, keep == 3 ? st.st_size - 9000 : keep == 2 ? 300 : 40), 0);
		cr_assert_eq(vhs_audio_analysis_load(&cut, path, err, sizeof(err)), -EINVAL,
			     "a file cut to %d loaded", keep);
		cr_assert_null(cut.profile);
	}
	unlink(path);
	cr_assert_eq(back.mains, r.mains);
	cr_assert_eq(back.layout, r.layout);
	cr_assert(fabs(back.hum_hz - r.hum_hz) < 1e-6);
	cr_assert_eq(memcmp(back.profile, r.profile, 3 * VHS_HISS_BINS * sizeof(float)), 0,
		     "the profile reads back to the same bits");
	vhs_audio_analysis_free(&r);
	vhs_audio_analysis_free(&back);
	cr_assert_eq(vhs_audio_analysis_load(&back, "/nonexistent/a", err, sizeof(err)), -ENOENT);
}

/* ---- the chain ---- */

Test(enhance, chains)
{
	struct vhs_audio_analysis an = { .rate = RATE, .channels = 2, .mains = 60, .hum_hz = 59.97,
					 .layout = VHS_LAYOUT_DUAL_MONO };
	struct vhs_enhance_opts o = { .hum = "auto", .hiss = 15, .declick = 1, .channels = "auto" };
	struct vhs_enhance e;
	char err[128];

	cr_assert_eq(vhs_enhance_plan(&o, &an, 2, RATE, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(e.out_channels, 1);
	cr_assert_eq(e.profile_rows[0], 2, "the mid channel's row after a pan to mono");
	cr_assert(!strncmp(e.chain, "pan=mono|c0=0.5*c0+0.5*c1,adeclick=", 35), "%s", e.chain);
	cr_assert(strstr(e.chain, "bandreject=f=59.9700:width_type=h:width=4.000,"
				  "bandreject=f=59.9700:width_type=h:width=4.000,"), "%s", e.chain);
	cr_assert(strstr(e.chain, "bandreject=f=479.7600:width_type=h:width=11.000"), "%s", e.chain);
	cr_assert_null(strstr(e.chain, "539.73"), "8 lines, no 9th: %s", e.chain);

	an.layout = VHS_LAYOUT_RIGHT_ONLY;
	o = (struct vhs_enhance_opts){ .hum = "50", .hiss = 0, .declick = 0, .channels = "auto" };
	cr_assert_eq(vhs_enhance_plan(&o, &an, 2, RATE, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert(!strncmp(e.chain, "pan=mono|c0=c1,bandreject=f=50.0000:", 36), "%s", e.chain);
	cr_assert_eq(e.profile_rows[0], 1);

	an.layout = VHS_LAYOUT_STEREO;
	o = (struct vhs_enhance_opts){ .hum = "off", .hiss = 0, .declick = 0, .channels = "keep" };
	cr_assert_eq(vhs_enhance_plan(&o, NULL, 2, RATE, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(e.chain, "");
	cr_assert_eq(e.out_channels, 2);
	cr_assert_eq(vhs_enhance_needs_analysis(&o), 0);

	o.hum = "auto"; /* needs the analysis, and there is none */
	cr_assert_eq(vhs_enhance_plan(&o, NULL, 2, RATE, &e, err, sizeof(err)), -EINVAL);
	an.mains = 0; /* auto, and no hum was found: no notches */
	cr_assert_eq(vhs_enhance_plan(&o, &an, 2, RATE, &e, err, sizeof(err)), 0);
	cr_assert_str_eq(e.chain, "");
}

/* ---- loudness ---- */

Test(loudness, meter_ebu_tech_3341_case_1)
{
	struct vhs_loudness_meter *m;
	float *buf = malloc(20 * RATE * sizeof(float));
	const float *pl[2] = { buf, buf };
	double lufs;

	for (int i = 0; i < 20 * RATE; i++) /* 1 kHz sine, -23 dBFS, both channels */
		buf[i] = (float)(pow(10, -23.0 / 20) * sin(2 * M_PI * 1000.0 * i / RATE));
	cr_assert_eq(vhs_loudness_meter_open(&m, RATE, 2, 0), 0);
	for (int at = 0; at < 20 * RATE; at += 4800) {
		const float *p[2] = { pl[0] + at, pl[1] + at };

		cr_assert_eq(vhs_loudness_meter_push(m, p, 4800), 0);
	}
	cr_assert_eq(vhs_loudness_meter_finish(m, &lufs), 0);
	vhs_loudness_meter_close(&m);
	cr_log_info("EBU 3341 case 1: %.2f LUFS\n", lufs);
	cr_assert(fabs(lufs - -23.0) <= 0.1, "%f LUFS", lufs);
	free(buf);
}

/* A programme in memory, read as the mux reads its spools. */
struct mem_prog {
	float *x;
	int n, at;
};

static int s_mem_rewind(void *arg)
{
	((struct mem_prog *)arg)->at = 0;
	return 0;
}

static int s_mem_read(void *arg, float *const *planes, int max)
{
	struct mem_prog *m = arg;
	int n = m->n - m->at < max ? m->n - m->at : max;

	memcpy(planes[0], m->x + m->at, (size_t)n * sizeof(float));
	m->at += n;
	return n;
}

Test(loudness, plan_reaches_the_target_through_the_limiter)
{
	struct mem_prog mp = { .n = 30 * RATE };
	struct vhs_programme prog = { .rate = RATE, .channels = 1, .arg = &mp, .rewind = s_mem_rewind,
				      .read = s_mem_read };
	struct vhs_loudness_plan plan;

	/* quiet notes with sharp, loud attacks: the limiter must work to reach -16 LUFS */
	mp.x = malloc((size_t)mp.n * sizeof(float));
	for (int i = 0; i < mp.n; i++) {
		double s = (double)i / RATE, t = fmod(s, 0.5);

		mp.x[i] = (float)(0.9 * exp(-t * 30) * sin(2 * M_PI * 330 * s));
	}
	cr_assert_eq(vhs_loudness_plan(&prog, -16, -1, &plan), 0);
	cr_log_info("in %.2f LUFS, gain %+.2f dB, out %.3f LUFS, %d passes, limited %.1f dB\n",
		    plan.input_lufs, plan.gain_db, plan.output_lufs, plan.passes, plan.limited_db);
	cr_assert(fabs(plan.output_lufs - -16) <= VHS_LOUDNESS_TOLERANCE + 0.05, "%f", plan.output_lufs);
	cr_assert(plan.limited_db > 1, "the limiter did work: %f dB", plan.limited_db);
	cr_assert(plan.gain_db > -16 - plan.input_lufs, "the gain makes up what the limiter takes");
	cr_assert_eq(plan.silent, 0);

	/* a quiet programme (-43 LUFS) is raised by at most VHS_LOUDNESS_MAX_GAIN, and says so */
	for (int i = 0; i < mp.n; i++)
		mp.x[i] = (float)(pow(10, -40.0 / 20) * sin(2 * M_PI * 1000.0 * i / RATE));
	cr_assert_eq(vhs_loudness_plan(&prog, -16, -1, &plan), 0);
	cr_log_info("quiet: in %.2f LUFS, gain %+.2f dB, out %.2f LUFS\n", plan.input_lufs, plan.gain_db, plan.output_lufs);
	cr_assert(plan.input_lufs < -16 - VHS_LOUDNESS_MAX_GAIN && plan.input_lufs > VHS_LOUDNESS_NO_PROGRAMME,
		  "the case: %f LUFS", plan.input_lufs);
	cr_assert_eq(plan.gain_db, VHS_LOUDNESS_MAX_GAIN);
	cr_assert_eq(plan.capped, 1);
	cr_assert(fabs(plan.output_lufs - (plan.input_lufs + VHS_LOUDNESS_MAX_GAIN)) < 0.1, "%f", plan.output_lufs);

	/* what hum and hiss leave once repaired (-60 LUFS): no programme, left as it is */
	for (int i = 0; i < mp.n; i++)
		mp.x[i] = (float)(pow(10, -57.0 / 20) * sin(2 * M_PI * 1000.0 * i / RATE));
	cr_assert_eq(vhs_loudness_plan(&prog, -16, -1, &plan), 0);
	cr_assert(plan.input_lufs < VHS_LOUDNESS_NO_PROGRAMME && plan.input_lufs > VHS_LOUDNESS_SILENT, "%f",
		  plan.input_lufs);
	cr_assert_eq(plan.no_programme, 1);
	cr_assert_eq(plan.gain_db, 0);

	memset(mp.x, 0, (size_t)mp.n * sizeof(float)); /* digital silence: nothing to do */
	cr_assert_eq(vhs_loudness_plan(&prog, -16, -1, &plan), 0);
	cr_assert_eq(plan.silent, 1);
	cr_assert_eq(plan.gain_db, 0);
	free(mp.x);
}

/* A voice (f0 131 Hz with vibrato) and its harmonics over hiss, and no hum: its partials
 * stand out of the spectrum, but do not sit on a 50 or 60 Hz series. */
Test(analysis, no_hum_in_a_voice)
{
	struct vhs_audio_analyzer *a;
	struct vhs_audio_analysis r;
	int n = 20 * RATE;
	float *x = malloc((size_t)n * sizeof(float));
	const float *pl[1] = { x };
	uint64_t rng = 12345;
	double ph = 0;

	for (int i = 0; i < n; i++) {
		double s = (double)i / RATE, f0 = 131 + 15 * sin(2 * M_PI * 5 * s), v = 0;

		ph += 2 * M_PI * f0 / RATE;
		for (int k = 1; k <= 12; k++)
			v += sin(k * ph) / k;
		x[i] = (float)(0.2 * v * (fmod(s, 0.25) < 0.2) + 0.003 * s_uniform(&rng));
	}
	cr_assert_eq(vhs_audio_analyzer_open(&a, RATE, 1), 0);
	cr_assert_eq(vhs_audio_analyzer_push(a, pl, n), 0);
	cr_assert_eq(vhs_audio_analyzer_finish(a, &r), 0);
	vhs_audio_analyzer_close(&a);
	cr_log_info("voice: 50 Hz %.1f dB, 60 Hz %.1f dB\n", r.hum_db[0], r.hum_db[1]);
	cr_assert_eq(r.mains, 0, "hum found in a voice at %.2f Hz", r.hum_hz);
	cr_assert_eq(r.layout, VHS_LAYOUT_MONO);
	vhs_audio_analysis_free(&r);
	free(x);
}
