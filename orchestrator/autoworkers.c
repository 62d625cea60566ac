/* autoworkers.c: [stages.NAME] workers = "auto" (run.h): a second after frames first reach
 * encode, a 5 s window measures how busy each stage's workers are and the CPU they use; the
 * counts that would keep all cores busy are chosen (docs/user-guide.md says the rule) and,
 * if they promise enough, the attempt drains (REPLANNING) so that the next starts with them.
 * Finished segments are kept; nothing is redone.
 */
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define AUTO_SETTLE_NS (1ull * 1000000000ull) /* from the first frame at encode to the window */
#define AUTO_WINDOW_NS (5ull * 1000000000ull) /* measured before choosing */
#define AUTO_MIN_GAIN 1.10                    /* a new plan must promise this much more */

static bool s_any_auto(const struct run *r)
{
	for (int k = 0; k < VHS_JOB_STAGES; k++)
		if (r->job->stages[k].workers == 0)
			return true;
	return false;
}

/* Busy nanoseconds of each stage's workers (from their last STATS) and CPU nanoseconds
 * (read now from /proc), summed per stage. */
static void s_stage_times(const struct run *r, uint64_t busy[VHS_STAGE_KINDS], uint64_t cpu[VHS_STAGE_KINDS])
{
	long tick = sysconf(_SC_CLK_TCK);

	memset(busy, 0, VHS_STAGE_KINDS * sizeof(*busy));
	memset(cpu, 0, VHS_STAGE_KINDS * sizeof(*cpu));
	for (int i = 0; i < r->n_procs; i++) {
		if (!run_live(&r->procs[i]))
			continue;
		busy[r->procs[i].kind] += r->procs[i].stats.busy_ns;
		cpu[r->procs[i].kind] += run_cpu_ticks(r->procs[i].pid) * (1000000000ull / (uint64_t)(tick > 0 ? tick : 100));
	}
}

/* (now - then) / window, 0 if a counter ran back (a worker gone, a late STATS). */
static double s_rate(uint64_t now, uint64_t then, uint64_t window)
{
	return now > then ? (double)(now - then) / (double)window : 0;
}

/* The rule (docs/user-guide.md): over the window, stage k kept its workers busy B_k and
 * used CPU U_k. All cores would carry the pipeline s = cores / sum(U_k / T) times faster,
 * where stage k then needs s * B_k / T workers busy: each "auto" stage gets that many,
 * rounded up, at least 1. Stages with a count of their own keep it. */
static double s_auto_choose(struct run *r, uint64_t window, const uint64_t busy[], const uint64_t cpu[],
			    int chosen[VHS_STAGE_KINDS])
{
	double used = 0, s, gain;

	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		used += r->plan.stages[k] ? s_rate(cpu[k], r->calib_cpu[k], window) : 0;
	s = used > 0 ? r->cores / used : 1;
	gain = s;
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		double b = s_rate(busy[k], r->calib_busy[k], window);
		double need = s * b;

		chosen[k] = r->plan.workers[k];
		if (!r->plan.stages[k])
			continue;
		if (r->job->stages[k].workers == 0) {
			chosen[k] = need > 1 ? (int)ceil(need - 0.05) : 1;
			chosen[k] = chosen[k] > r->cores ? r->cores : chosen[k];
		}
		gain = b > 0 && chosen[k] / b < gain ? chosen[k] / b : gain; /* its workers' limit */
	}
	return gain;
}

/* Prints what auto saw and chose. */
static void s_auto_report(const struct run *r, uint64_t window, const uint64_t busy[], const uint64_t cpu[],
			  const int chosen[], double gain, bool change)
{
	fprintf(stderr, "vhs-orchestrate: auto workers: over %.1f s on %d cores:", (double)window / 1e9, r->cores);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		if (r->plan.stages[k])
			fprintf(stderr, " %s %d busy %.0f%% cpu %.2f;", vhs_stage_name((enum vhs_stage_kind)k),
				r->plan.workers[k], 100.0 * s_rate(busy[k], r->calib_busy[k], window) /
				r->plan.workers[k], s_rate(cpu[k], r->calib_cpu[k], window));
	fprintf(stderr, " %s", change ? "now" : "keeping");
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		if (r->plan.stages[k] && r->job->stages[k].workers == 0)
			fprintf(stderr, " %s %d", vhs_stage_name((enum vhs_stage_kind)k),
				change ? chosen[k] : r->plan.workers[k]);
	fprintf(stderr, change ? " (about %.2fx faster; the segments in progress finish first)\n"
			       : " (another count would gain less than %.0f%%)\n",
		change ? gain : (AUTO_MIN_GAIN - 1) * 100);
}

/* Auto workers: opens the measuring window a second after frames first reach encode; at its end,
 * chooses the counts and, if they promise enough, drains the attempt so that the next one
 * starts with them (finished segments are kept; nothing is redone). */
void run_auto_check(struct run *r, uint64_t now)
{
	uint64_t busy[VHS_STAGE_KINDS], cpu[VHS_STAGE_KINDS];
	int chosen[VHS_STAGE_KINDS];
	double gain;
	bool change = false;

	if (r->kind == ATTEMPT_MUX || (r->state != A_FLOWING && r->state != A_CLOSED) ||
	    r->auto_workers[VHS_DECODE] || !s_any_auto(r) ||
	    r->frames_out == run_done_frames(r))
		return;
	if (!r->flow_seen_ns)
		r->flow_seen_ns = now;
	if (now - r->flow_seen_ns < AUTO_SETTLE_NS)
		return; /* the pipeline is still filling */
	s_stage_times(r, busy, cpu);
	if (!r->calib_ns) {
		r->calib_ns = now;
		memcpy(r->calib_busy, busy, sizeof(busy));
		memcpy(r->calib_cpu, cpu, sizeof(cpu));
		return;
	}
	if (now - r->calib_ns < AUTO_WINDOW_NS)
		return;
	gain = s_auto_choose(r, now - r->calib_ns, busy, cpu, chosen);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		change |= chosen[k] != r->plan.workers[k];
	change &= gain >= AUTO_MIN_GAIN && r->state == A_FLOWING; /* not once all are asked for */
	s_auto_report(r, now - r->calib_ns, busy, cpu, chosen, gain, change);
	memcpy(r->auto_workers, change ? chosen : r->plan.workers, sizeof(chosen));
	if (change)
		run_event(r, E_REPLAN);
}
