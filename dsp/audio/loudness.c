/* loudness.c: the two-pass EBU R128 loudness normalisation (see loudness.h). */
#include "loudness.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>

#include "lavfi.h"
#include "limiter.h"

#define CHUNK 4096 /* samples per read */

struct vhs_loudness_meter {
	struct vhs_lavfi graph;   /* abuffer -> ebur128=metadata=1 -> abuffersink */
	AVFrame *in, *out;
	int channels, rate;
	uint64_t layout;
	int64_t pts;              /* samples pushed */
	double lufs;              /* the last lavfi.r128.I seen */
	double true_peak;         /* the largest lavfi.r128.true_peak seen, dBTP */
};

static int s_meter_open(struct vhs_loudness_meter **out, int rate, int channels, uint64_t layout,
			const char *chain);

int vhs_loudness_meter_open(struct vhs_loudness_meter **out, int rate, int channels, uint64_t layout)
{
	return s_meter_open(out, rate, channels, layout, "ebur128=metadata=1");
}

int vhs_loudness_meter_open_peak(struct vhs_loudness_meter **out, int rate, int channels,
				 uint64_t layout)
{
	return s_meter_open(out, rate, channels, layout, "ebur128=metadata=1:peak=true");
}

double vhs_loudness_meter_true_peak(const struct vhs_loudness_meter *m)
{
	return m->true_peak;
}

static int s_meter_open(struct vhs_loudness_meter **out, int rate, int channels, uint64_t layout,
			const char *chain)
{
	struct vhs_stream_fmt fmt = { .media = VHS_MEDIA_AUDIO, .fmt = "fltp", .sample_rate = rate,
				      .channels = channels, .channel_layout = layout, .tb_num = 1,
				      .tb_den = rate, .duration_us = -1 };
	struct vhs_loudness_meter *m;
	char err[256];
	int ret;

	*out = NULL;
	if (rate <= 0 || channels < 1 || channels > VHS_LIMITER_MAX_CHANNELS)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->channels = channels;
	m->rate = rate;
	m->layout = layout;
	m->lufs = -70;
	m->true_peak = -INFINITY;
	m->in = av_frame_alloc();
	m->out = av_frame_alloc();
	ret = m->in && m->out ? vhs_lavfi_open(&m->graph, &fmt, chain, 1, err, sizeof(err))
			      : AVERROR(ENOMEM);
	if (ret < 0) {
		vhs_loudness_meter_close(&m);
		return ret == AVERROR(ENOMEM) ? -ENOMEM : -EINVAL;
	}
	*out = m;
	return 0;
}

/* Takes what the graph gives out, keeping the latest integrated loudness. */
static int s_meter_drain(struct vhs_loudness_meter *m, int flushing)
{
	const AVDictionaryEntry *e;
	int ret;

	while ((ret = vhs_lavfi_pull(&m->graph, m->out, flushing)) >= 0) {
		e = av_dict_get(m->out->metadata, "lavfi.r128.I", NULL, 0);
		if (e)
			m->lufs = strtod(e->value, NULL);
		e = av_dict_get(m->out->metadata, "lavfi.r128.true_peak", NULL, 0);
		if (e) /* ebur128 gives it as a linear amplitude */
			m->true_peak = fmax(m->true_peak, 20 * log10(fmax(strtod(e->value, NULL), 1e-10)));
		av_frame_unref(m->out);
	}
	return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : -EIO;
}

int vhs_loudness_meter_push(struct vhs_loudness_meter *m, const float *const *planes, int nb)
{
	int ret;

	if (nb <= 0)
		return nb < 0 ? -EINVAL : 0;
	av_frame_unref(m->in);
	m->in->format = AV_SAMPLE_FMT_FLTP;
	m->in->sample_rate = m->rate;
	m->in->nb_samples = nb;
	if (m->layout)
		ret = av_channel_layout_from_mask(&m->in->ch_layout, m->layout);
	else
		av_channel_layout_default(&m->in->ch_layout, m->channels), ret = 0;
	if (ret >= 0)
		ret = av_frame_get_buffer(m->in, 0);
	if (ret < 0)
		return -ENOMEM;
	for (int c = 0; c < m->channels; c++)
		memcpy(m->in->extended_data[c], planes[c], (size_t)nb * sizeof(float));
	m->in->pts = m->pts;
	m->in->time_base = (AVRational){ 1, m->rate };
	m->pts += nb;
	ret = vhs_lavfi_push(&m->graph, m->in);
	return ret < 0 ? -EIO : s_meter_drain(m, 0);
}

int vhs_loudness_meter_finish(struct vhs_loudness_meter *m, double *lufs)
{
	int ret = vhs_lavfi_push(&m->graph, NULL);

	ret = ret < 0 ? -EIO : s_meter_drain(m, 1);
	*lufs = m->lufs;
	return ret;
}

void vhs_loudness_meter_close(struct vhs_loudness_meter **pm)
{
	struct vhs_loudness_meter *m = *pm;

	if (!m)
		return;
	vhs_lavfi_close(&m->graph);
	av_frame_free(&m->in);
	av_frame_free(&m->out);
	free(m);
	*pm = NULL;
}

/* ---- the plan ---- */

/* Buffers for one chunk per channel. */
struct chunk {
	float *in[VHS_LIMITER_MAX_CHANNELS], *out[VHS_LIMITER_MAX_CHANNELS];
	int channels;
};

static int s_chunk_alloc(struct chunk *c, int channels)
{
	memset(c, 0, sizeof(*c));
	c->channels = channels;
	for (int i = 0; i < channels; i++) {
		c->in[i] = malloc(CHUNK * sizeof(float));
		c->out[i] = malloc(CHUNK * sizeof(float));
		if (!c->in[i] || !c->out[i])
			return -ENOMEM;
	}
	return 0;
}

static void s_chunk_free(struct chunk *c)
{
	for (int i = 0; i < c->channels; i++) {
		free(c->in[i]);
		free(c->out[i]);
	}
}

/* Whatever the limiter has finished, into the meter. */
static int s_limited_to_meter(struct vhs_limiter *l, struct vhs_loudness_meter *m,
			      struct chunk *c, int flush)
{
	int n, ret = 0;

	while (!ret && (n = vhs_limiter_pull(l, c->out, CHUNK, flush)) > 0)
		ret = vhs_loudness_meter_push(m, (const float *const *)c->out, n);
	return ret ? ret : n < 0 ? n : 0;
}

/* One pass: the programme, through gain and limiter when with_limiter, into the meter. */
static int s_measure(const struct vhs_programme *prog, double gain_db, double ceiling, int with_limiter,
		     struct chunk *c, double *lufs, struct vhs_loudness_plan *plan)
{
	struct vhs_limiter_config cfg = { .rate = prog->rate, .channels = prog->channels,
					  .gain_db = gain_db, .ceiling_dbtp = ceiling,
					  .release_ms = VHS_LOUDNESS_RELEASE_MS };
	struct vhs_loudness_meter *m = NULL;
	struct vhs_limiter *l = NULL;
	int n, ret = prog->rewind(prog->arg);

	if (!ret)
		ret = vhs_loudness_meter_open(&m, prog->rate, prog->channels, prog->layout);
	if (!ret && with_limiter)
		ret = vhs_limiter_open(&l, &cfg);
	while (!ret && (n = prog->read(prog->arg, c->in, CHUNK)) != 0) {
		if (n < 0)
			ret = n;
		else if (l && !(ret = vhs_limiter_push(l, (const float *const *)c->in, n)))
			ret = s_limited_to_meter(l, m, c, 0);
		else if (!l)
			ret = vhs_loudness_meter_push(m, (const float *const *)c->in, n);
	}
	if (!ret && l)
		ret = s_limited_to_meter(l, m, c, 1);
	if (!ret)
		ret = vhs_loudness_meter_finish(m, lufs);
	if (!ret && l)
		vhs_limiter_stats(l, &plan->limited, &plan->limited_db);
	plan->passes++;
	vhs_limiter_close(&l);
	vhs_loudness_meter_close(&m);
	return ret;
}

int vhs_loudness_plan(const struct vhs_programme *prog, double target, double ceiling,
		      struct vhs_loudness_plan *plan)
{
	struct chunk c;
	int ret = s_chunk_alloc(&c, prog->channels);

	memset(plan, 0, sizeof(*plan));
	if (!ret)
		ret = s_measure(prog, 0, ceiling, 0, &c, &plan->input_lufs, plan);
	if (!ret && plan->input_lufs <= VHS_LOUDNESS_SILENT)
		plan->silent = 1;
	else if (!ret && plan->input_lufs < VHS_LOUDNESS_NO_PROGRAMME)
		plan->no_programme = 1;
	plan->gain_db = plan->silent || plan->no_programme ? 0 : target - plan->input_lufs;
	plan->output_lufs = plan->input_lufs;
	for (double g0 = 0, l0 = plan->input_lufs; !ret && !plan->silent && !plan->no_programme &&
						    plan->passes < VHS_LOUDNESS_PASSES;) {
		double slope;

		if (plan->gain_db > VHS_LOUDNESS_MAX_GAIN) {
			plan->gain_db = VHS_LOUDNESS_MAX_GAIN;
			plan->capped = 1;
		}
		ret = s_measure(prog, plan->gain_db, ceiling, 1, &c, &plan->output_lufs, plan);
		if (ret || fabs(target - plan->output_lufs) <= VHS_LOUDNESS_TOLERANCE ||
		    (plan->capped && plan->output_lufs < target))
			break;
		plan->capped = 0;
		/* secant: the limiter gives back less than a dB of loudness per dB of gain */
		slope = (plan->output_lufs - l0) / (plan->gain_db - g0);
		slope = isfinite(slope) ? fmin(fmax(slope, 0.1), 1.0) : 1.0;
		g0 = plan->gain_db;
		l0 = plan->output_lufs;
		plan->gain_db += (target - plan->output_lufs) / slope;
	}
	s_chunk_free(&c);
	return ret;
}
