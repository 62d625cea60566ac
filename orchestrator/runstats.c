/* runstats.c: what the run reports as it goes and at the end (run.h): the progress
 * display's figures, the profile's timeline and per-process figures, and --stats.
 */
#include "run.h"

#include <stdio.h>
#include <string.h>

/* A record went from stage `from` to stage `to`: the active spans of both (for --stats),
 * at the time s_dispatch took when the record arrived. */
void run_span(struct run *r, enum vhs_stage_kind from, enum vhs_stage_kind to)
{
	uint64_t now = r->moved_ns;

	if (!r->kstats[to].first_in_ns)
		r->kstats[to].first_in_ns = now;
	r->kstats[from].last_out_ns = now;
	r->kstats[to].last_out_ns = to == VHS_ENCODE ? now : r->kstats[to].last_out_ns;
}

/* The progress display's figures: per stage kind its workers' last STATS summed, per edge
 * the slots its consumers hold. */
void run_progress(struct run *r, int force, int done)
{
	struct vhs_progress_detail d = { 0 };

	if (!r->procs) { /* between attempts, or after the last: the last figures seen */
		vhs_progress_update(&r->progress, r->frames_out, force, &r->last_detail, done);
		return;
	}

	for (int k = 0; k < VHS_STAGE_KINDS && d.n_stages < VHS_PROGRESS_ROWS; k++) {
		struct vhs_progress_stage *st = &d.stages[d.n_stages];

		if (!r->plan.stages[k] || k == VHS_MUX)
			continue;
		st->name = vhs_stage_name((enum vhs_stage_kind)k);
		st->workers = r->plan.workers[k];
		for (int i = 0; i < r->plan.workers[k]; i++) {
			const struct vhs_stats *x = &r->procs[r->base[k] + i].stats;

			st->frames += k == VHS_ENCODE ? x->frames_in : x->frames_out;
			st->busy_ns += x->busy_ns;
			st->wait_in_ns += x->wait_in_ns;
			st->wait_out_ns += x->wait_out_ns;
		}
		d.n_stages++;
	}
	for (int i = 0; i < r->n_edges && d.n_rings < VHS_PROGRESS_ROWS; i++) {
		const struct edge *e = &r->edges[i];
		struct vhs_progress_ring *ring = &d.rings[d.n_rings++];

		ring->name = e->plan.name;
		ring->slots = e->plan.slots;
		ring->full = vhs_ledger_count(&e->slots, VHS_SLOT_CONSUMER);
	}
	r->last_detail = d;
	vhs_progress_update(&r->progress, r->frames_out, force, &d, done);
}

/* Frames each stage's processes handled in this attempt: records on the first input port,
 * a source's on its first output port. */
static uint64_t s_proc_frames(const struct run *r, const struct proc *p)
{
	return r->wiring[p->kind].n_in ? p->received[0] : p->sent[0];
}

/* A profile's timeline point: frames per stage, slots holding a frame per ring. */
void run_profile_tick(struct run *r)
{
	uint64_t frames[VHS_STAGE_KINDS] = { 0 };
	uint32_t full[VHS_PLAN_MAX_EDGES] = { 0 };

	for (int i = 0; i < r->n_procs; i++)
		frames[r->procs[i].kind] += s_proc_frames(r, &r->procs[i]);
	for (int i = 0; i < r->n_edges; i++)
		full[i] = vhs_ledger_count(&r->edges[i].slots, VHS_SLOT_CONSUMER);
	vhs_profiler_tick(r->opts->profiler, vhs_now_ns(), frames, full);
}

/* The end of an attempt, for the profile: each process's last figures. */
void run_profile_attempt_end(struct run *r)
{
	uint64_t frames[VHS_STAGE_KINDS] = { 0 };

	for (int i = 0; i < r->n_procs; i++) {
		const struct proc *p = &r->procs[i];

		if (p->state == P_NONE || !p->prof)
			continue;
		frames[p->kind] += s_proc_frames(r, p);
		vhs_profiler_process(p->prof, &p->stats, &p->ru, s_proc_frames(r, p), p->bytes_sent);
	}
	vhs_profiler_attempt_end(r->opts->profiler, frames);
}

/* Sums the attempt's workers per stage for --stats (peak memory: the largest worker's). */
void run_collect_stats(struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		uint64_t first = r->kstats[k].first_in_ns, last = r->kstats[k].last_out_ns;

		if (!r->plan.stages[k])
			continue;
		memset(&r->kstats[k], 0, sizeof(r->kstats[k]));
		r->kstats[k].first_in_ns = first;
		r->kstats[k].last_out_ns = last;
	}
	for (int i = 0; i < r->n_procs; i++) {
		const struct proc *p = &r->procs[i];
		struct kind_stats *s = &r->kstats[p->kind];

		if (p->state == P_NONE)
			continue;
		s->workers++;
		s->cpu_user += (double)p->ru.ru_utime.tv_sec + p->ru.ru_utime.tv_usec / 1e6;
		s->cpu_sys += (double)p->ru.ru_stime.tv_sec + p->ru.ru_stime.tv_usec / 1e6;
		s->maxrss_kb = p->ru.ru_maxrss > s->maxrss_kb ? p->ru.ru_maxrss : s->maxrss_kb;
		s->frames_in += p->stats.frames_in;
		s->frames_out += p->stats.frames_out;
		s->copies += p->stats.copies;
		s->bytes_copied += p->stats.bytes_copied;
	}
}

void run_print_stats(const struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		const struct kind_stats *s = &r->kstats[k];

		if (!s->workers)
			continue;
		fprintf(stderr, "stats: %s workers=%d cpu_user=%.3f cpu_sys=%.3f maxrss_kb=%ld frames=%llu "
			"frames_in=%llu frames_out=%llu copies=%llu bytes_copied=%llu active_s=%.3f\n",
			vhs_stage_name((enum vhs_stage_kind)k), s->workers, s->cpu_user, s->cpu_sys,
			s->maxrss_kb, (unsigned long long)(k == VHS_ENCODE || k == VHS_MUX ? s->frames_in : s->frames_out),
			(unsigned long long)s->frames_in, (unsigned long long)s->frames_out,
			(unsigned long long)s->copies, (unsigned long long)s->bytes_copied,
			s->last_out_ns > s->first_in_ns && s->first_in_ns ? (s->last_out_ns - s->first_in_ns) / 1e9 : 0.0);
	}
	fprintf(stderr, "stats: run segments_made=%u segments_done=%zu segments_total=%u restarts=%d "
		"recovery_ms=%.1f frames_redone=%llu gpu_edges=%d\n", r->made, r->man.n_done,
		r->man.segments_total, r->restarts_done,
		r->recoveries ? (double)r->recovery_ns / r->recoveries / 1e6 : 0.0,
		(unsigned long long)r->frames_redone, r->gpu_edges);
}
