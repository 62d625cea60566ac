/* profile.c: the profiler's records and figures (see profile.h). */
#include "profile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

void vhs_profiler_init(struct vhs_profiler *p)
{
	memset(p, 0, sizeof(*p));
	p->start_ns = vhs_now_ns();
}

void vhs_profiler_free(struct vhs_profiler *p)
{
	for (int i = 0; i < p->n_inst; i++)
		free(p->inst[i].samples);
	free(p->ticks);
	memset(p, 0, sizeof(*p));
}

struct vhs_prof_instance *vhs_profiler_instance(struct vhs_profiler *p, enum vhs_stage_kind kind,
						int instance)
{
	struct vhs_prof_instance *in;

	for (int i = 0; i < p->n_inst; i++)
		if (p->inst[i].kind == kind && p->inst[i].instance == instance)
			return &p->inst[i];
	if (p->n_inst == VHS_PROF_MAX_INSTANCES)
		return NULL;
	in = &p->inst[p->n_inst++];
	memset(in, 0, sizeof(*in));
	in->kind = kind;
	in->instance = instance;
	snprintf(in->name, sizeof(in->name), "%s.%d", vhs_stage_name(kind), instance);
	return in;
}

int vhs_profiler_trace(struct vhs_prof_instance *in, const struct vhs_trace *t)
{
	if (in->n_samples + t->n > in->cap_samples) {
		size_t cap = in->cap_samples ? 2 * in->cap_samples : 1024;
		struct vhs_trace_sample *s = realloc(in->samples, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		in->samples = s;
		in->cap_samples = cap;
	}
	memcpy(in->samples + in->n_samples, t->s, t->n * sizeof(t->s[0]));
	in->n_samples += t->n;
	return 0;
}

void vhs_profiler_attempt(struct vhs_profiler *p, const struct vhs_plan *plan)
{
	p->attempts++;
	if (!plan->n_edges)
		return; /* the mux's plan: the pipeline's is the one to show */
	memcpy(p->workers, plan->workers, sizeof(p->workers));
	p->n_edges = plan->n_edges;
	for (int i = 0; i < plan->n_edges; i++) {
		struct vhs_prof_edge *e = &p->edges[i];

		snprintf(e->name, sizeof(e->name), "%s", plan->edges[i].name);
		e->from = plan->edges[i].from;
		e->to = plan->edges[i].to;
		e->slots = plan->edges[i].slots;
	}
}

void vhs_profiler_tick(struct vhs_profiler *p, uint64_t now, const uint64_t frames[VHS_STAGE_KINDS],
		       const uint32_t full[VHS_PLAN_MAX_EDGES])
{
	struct vhs_prof_tick *t;

	if (now < p->next_tick_ns)
		return;
	p->next_tick_ns = now + VHS_PROF_TICK_NS;
	if (p->n_ticks == p->cap_ticks) {
		size_t cap = p->cap_ticks ? 2 * p->cap_ticks : 256;

		t = realloc(p->ticks, cap * sizeof(*t));
		if (!t)
			return; /* the timeline stops growing; the figures do not need it */
		p->ticks = t;
		p->cap_ticks = cap;
	}
	t = &p->ticks[p->n_ticks++];
	t->t_ns = now - p->start_ns;
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		t->frames[k] = p->frames_before[k] + frames[k];
	memcpy(t->full, full, sizeof(t->full));
}

void vhs_profiler_process(struct vhs_prof_instance *in, const struct vhs_stats *st, const struct rusage *ru,
			  uint64_t frames, uint64_t bytes_out)
{
	uint64_t *sum = &in->stats.frames_in;
	const uint64_t *add = &st->frames_in;

	_Static_assert(sizeof(struct vhs_stats) == 10 * sizeof(uint64_t), "vhs_stats is all counters");
	for (int i = 0; i < 10; i++)
		sum[i] += add[i];
	in->stats.rss_kb = st->rss_kb > in->stats.rss_kb ? st->rss_kb : in->stats.rss_kb;
	in->cpu_s += (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
		     (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
	in->maxrss_kb = ru->ru_maxrss > in->maxrss_kb ? ru->ru_maxrss : in->maxrss_kb;
	in->frames += frames;
	in->bytes_out += bytes_out;
	in->processes++;
}

void vhs_profiler_attempt_end(struct vhs_profiler *p, const uint64_t frames[VHS_STAGE_KINDS])
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		p->frames_before[k] += frames[k];
}

uint32_t vhs_percentile(const uint32_t *sorted, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (size_t)ceil(pct / 100.0 * (double)n);
	rank = rank < 1 ? 1 : rank > n ? n : rank;
	return sorted[rank - 1];
}

static int s_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Does instance in count towards f (one instance, or every one of a kind)? */
static bool s_counts(const struct vhs_prof_instance *in, const struct vhs_prof_instance *one, int kind)
{
	return one ? in == one : (int)in->kind == kind;
}

/* The busy times per frame of the instances f covers: mean and percentiles. */
static void s_frame_times(const struct vhs_profiler *p, const struct vhs_prof_instance *one, int kind,
			  struct vhs_prof_figures *f, uint64_t *first, uint64_t *last)
{
	size_t n = 0, k = 0;
	uint32_t *busy;
	double sum = 0;

	for (int i = 0; i < p->n_inst; i++)
		n += s_counts(&p->inst[i], one, kind) ? p->inst[i].n_samples : 0;
	busy = n ? malloc(n * sizeof(*busy)) : NULL;
	*first = UINT64_MAX;
	*last = 0;
	for (int i = 0; busy && i < p->n_inst; i++) {
		const struct vhs_prof_instance *in = &p->inst[i];

		for (size_t j = 0; s_counts(in, one, kind) && j < in->n_samples; j++) {
			const struct vhs_trace_sample *s = &in->samples[j];

			busy[k++] = s->busy_ns;
			sum += s->busy_ns;
			*first = s->start_ns < *first ? s->start_ns : *first;
			*last = s->start_ns + s->dur_ns > *last ? s->start_ns + s->dur_ns : *last;
		}
	}
	if (!busy)
		return;
	qsort(busy, n, sizeof(*busy), s_cmp_u32);
	f->mean_ms = sum / (double)n / 1e6;
	f->p50_ms = vhs_percentile(busy, n, 50) / 1e6;
	f->p95_ms = vhs_percentile(busy, n, 95) / 1e6;
	f->p99_ms = vhs_percentile(busy, n, 99) / 1e6;
	free(busy);
}

void vhs_profiler_figures(const struct vhs_profiler *p, const struct vhs_prof_instance *one, int kind,
			  struct vhs_prof_figures *f)
{
	double busy = 0, wait_in = 0, wait_out = 0, gpu = 0, bytes = 0, copied = 0, copies = 0;
	uint64_t first, last;
	long rss = 0;

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < p->n_inst; i++) {
		const struct vhs_prof_instance *in = &p->inst[i];

		if (!s_counts(in, one, kind))
			continue;
		f->frames += in->frames;
		busy += (double)in->stats.busy_ns;
		wait_in += (double)in->stats.wait_in_ns;
		wait_out += (double)in->stats.wait_out_ns;
		gpu += (double)in->stats.gpu_ns;
		f->cpu_s += in->cpu_s;
		rss = in->maxrss_kb > rss ? in->maxrss_kb : rss;
		bytes += (double)in->bytes_out;
		copied += (double)in->stats.bytes_copied;
		copies += (double)in->stats.copies;
	}
	if (busy + wait_in + wait_out > 0) {
		f->busy = busy / (busy + wait_in + wait_out);
		f->wait_in = wait_in / (busy + wait_in + wait_out);
		f->wait_out = wait_out / (busy + wait_in + wait_out);
	}
	f->rss_mib = (double)rss / 1024.0;
	f->gpu_s = gpu > 0 ? gpu / 1e9 : -1;
	if (f->frames) {
		f->bytes_per_frame = bytes / (double)f->frames;
		f->copied_per_frame = copied / (double)f->frames;
		f->copies_per_frame = copies / (double)f->frames;
	}
	s_frame_times(p, one, kind, f, &first, &last);
	if (last > first) {
		f->span_s = (double)(last - first) / 1e9;
		f->fps = (double)f->frames / f->span_s;
	}
}

/* The edges into (into = true) or out of stage kind k, as "NAME verb NN%" phrases. */
static void s_neighbours(const struct vhs_profiler *p, int k, bool into, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int e = 0; e < p->n_edges && len < n; e++) {
		int other = into ? (int)p->edges[e].from : (int)p->edges[e].to;
		struct vhs_prof_figures f;

		if ((into ? (int)p->edges[e].to : (int)p->edges[e].from) != k)
			continue;
		vhs_profiler_figures(p, NULL, other, &f);
		len += (size_t)snprintf(buf + len, n - len, "%s%s %s %.0f%%", len ? ", " : "",
					vhs_stage_name((enum vhs_stage_kind)other),
					into ? "is blocked on output" : "waits for input",
					100 * (into ? f.wait_out : f.wait_in));
	}
}

int vhs_profiler_bottleneck(const struct vhs_profiler *p, char *why, size_t n)
{
	struct vhs_prof_figures f, best_f = { 0 };
	char before[256], after[256];
	int best = -1;

	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		vhs_profiler_figures(p, NULL, k, &f);
		if (f.frames && (best < 0 || f.busy > best_f.busy)) {
			best = k;
			best_f = f;
		}
	}
	if (best < 0) {
		snprintf(why, n, "no stage handled a frame");
		return -1;
	}
	s_neighbours(p, best, true, before, sizeof(before));
	s_neighbours(p, best, false, after, sizeof(after));
	snprintf(why, n, "%s is busy %.0f%% of its time (p50 %.2f ms a frame)%s%s%s%s%s",
		 vhs_stage_name((enum vhs_stage_kind)best), 100 * best_f.busy, best_f.p50_ms,
		 *before || *after ? " while " : "", before, *before && *after ? "; " : "", after,
		 best_f.busy < 0.5 ? " (no stage is saturated: the pipeline is limited by its "
				     "latency, not by one stage)" : "");
	return best;
}
