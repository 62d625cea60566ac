/* test_pool.c: unit tests of the segment-to-worker bookkeeping (orchestrator/pool.h) and of
 * the worker arithmetic of the plan (orchestrator/plan.h: open segments per worker, ring
 * shares, segments in flight).
 *
 * Covers:
 *   - a segment goes to the least loaded worker of a stage, the smallest backlog then the
 *     lowest instance on a tie, and stays with it (asking again gives the same worker, without counting twice);
 *   - a worker lets go after END on each of its output ports (not before), once only;
 *     DONE/NONE let every holder go and end the flight;
 *   - the in-flight limit, refusing a segment already in flight, finding flights after
 *     others ended (the table is compacted);
 *   - a random schedule of many segments over uneven worker counts: every segment goes to
 *     a worker that held the fewest at that moment, and the loads always add up to the
 *     segments in flight;
 *   - the plan: width, open segments per worker, quotas and ring sizes per edge, in_flight;
 *   - its memory (rings + workers' base + working set per segment held) and the fitting to a
 *     budget: a plan that fits is kept, "auto" workers are cut first (the widest), then ring
 *     slots per segment (not below VHS_PLAN_MIN_RING_SLOTS), explicit counts never; a plan
 *     that cannot fit is refused with what it needs.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"
#include "pool.h"

static struct vhs_pool s_pool(int decode, int pre, int up, int audio, int enc, int max)
{
	int workers[VHS_STAGE_KINDS] = { decode, pre, up, audio, enc, 1 };
	struct vhs_pool p;

	cr_assert_eq(vhs_pool_init(&p, workers, max), 0);
	return p;
}

Test(pool, least_loaded_worker_then_sticky)
{
	struct vhs_pool p = s_pool(1, 3, 1, 1, 2, 8);
	struct vhs_flight *a = vhs_pool_start(&p, 0), *b = vhs_pool_start(&p, 1);
	struct vhs_flight *c = vhs_pool_start(&p, 2), *d = vhs_pool_start(&p, 3);

	cr_assert_eq(vhs_pool_holder(&p, a, VHS_PREPROCESS, NULL), 0);
	cr_assert_eq(vhs_pool_holder(&p, b, VHS_PREPROCESS, NULL), 1);
	cr_assert_eq(vhs_pool_holder(&p, c, VHS_PREPROCESS, NULL), 2);
	cr_assert_eq(vhs_pool_holder(&p, d, VHS_PREPROCESS, NULL), 0, "tie: the lowest instance");
	cr_assert_eq(vhs_pool_holder(&p, b, VHS_PREPROCESS, NULL), 1, "asked again: the same worker");
	cr_assert_eq(vhs_pool_load(&p, VHS_PREPROCESS, 0), 2);
	cr_assert_eq(vhs_pool_load(&p, VHS_PREPROCESS, 1), 1, "not counted twice");
	cr_assert_eq(vhs_pool_holder(&p, a, VHS_UPSCALE, NULL), 0);
	cr_assert_eq(vhs_pool_holder(&p, b, VHS_UPSCALE, NULL), 0, "one worker holds several");
	cr_assert_eq(vhs_pool_load(&p, VHS_UPSCALE, 0), 2);
	vhs_pool_free(&p);
}

Test(pool, tie_goes_to_the_smaller_backlog)
{
	struct vhs_pool p = s_pool(1, 3, 1, 1, 1, 8);
	const uint32_t backlog[3] = { 7, 1, 4 };
	struct vhs_flight *a = vhs_pool_start(&p, 0), *b = vhs_pool_start(&p, 1);

	cr_assert_eq(vhs_pool_holder(&p, a, VHS_PREPROCESS, backlog), 1, "all idle: the least backlog");
	cr_assert_eq(vhs_pool_holder(&p, b, VHS_PREPROCESS, backlog), 2, "fewer segments first, then backlog");
	vhs_pool_free(&p);
}

Test(pool, lets_go_after_end_on_every_port)
{
	struct vhs_pool p = s_pool(2, 1, 1, 1, 1, 4);
	struct vhs_flight *f = vhs_pool_start(&p, 5);

	cr_assert_eq(vhs_pool_holder(&p, f, VHS_DECODE, NULL), 0);
	cr_assert_not(vhs_pool_end(&p, f, VHS_DECODE, 2), "video END only: still held");
	cr_assert_eq(vhs_pool_load(&p, VHS_DECODE, 0), 1);
	cr_assert(vhs_pool_end(&p, f, VHS_DECODE, 2), "audio END too: finished");
	cr_assert_eq(vhs_pool_load(&p, VHS_DECODE, 0), 0);
	cr_assert_not(vhs_pool_end(&p, f, VHS_DECODE, 2), "once only");
	cr_assert_eq(vhs_pool_load(&p, VHS_DECODE, 0), 0);
	cr_assert_not(vhs_pool_end(&p, f, VHS_UPSCALE, 1), "no holder there: nothing to let go");
	vhs_pool_free(&p);
}

Test(pool, finish_lets_every_holder_go)
{
	struct vhs_pool p = s_pool(1, 2, 2, 1, 2, 4);
	struct vhs_flight *f = vhs_pool_start(&p, 7);

	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		vhs_pool_holder(&p, f, k, NULL);
	vhs_pool_end(&p, f, VHS_PREPROCESS, 1); /* preprocess already let go */
	vhs_pool_finish(&p, f);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		cr_assert_eq(vhs_pool_load(&p, k, 0), 0, "kind %d", k);
	cr_assert_null(vhs_pool_find(&p, 7));
	cr_assert_eq(p.n, 0);
	vhs_pool_free(&p);
}

Test(pool, in_flight_limit_and_duplicates)
{
	struct vhs_pool p = s_pool(1, 1, 1, 1, 1, 3);

	cr_assert_not_null(vhs_pool_start(&p, 0));
	cr_assert_null(vhs_pool_start(&p, 0), "already in flight");
	cr_assert_not_null(vhs_pool_start(&p, 1));
	cr_assert_not_null(vhs_pool_start(&p, 2));
	cr_assert_null(vhs_pool_start(&p, 3), "limit reached");
	vhs_pool_finish(&p, vhs_pool_find(&p, 0));
	cr_assert_not_null(vhs_pool_find(&p, 1), "found after the table was compacted");
	cr_assert_not_null(vhs_pool_find(&p, 2));
	cr_assert_eq(vhs_pool_find(&p, 2)->index, 2);
	cr_assert_not_null(vhs_pool_start(&p, 3), "a place freed");
	vhs_pool_free(&p);
}

/* The least load of kind's workers. */
static int s_min_load(const struct vhs_pool *p, int kind)
{
	int lo = vhs_pool_load(p, kind, 0);

	for (int i = 1; i < p->workers[kind]; i++)
		lo = vhs_pool_load(p, kind, i) < lo ? vhs_pool_load(p, kind, i) : lo;
	return lo;
}

/* Segments given out and finished in order, as the pipeline does, over uneven pools. */
Test(pool, random_schedule_goes_to_the_least_loaded)
{
	unsigned seed = (unsigned)time(NULL);

	for (int round = 0; round < 50; round++) {
		int w[VHS_STAGE_KINDS] = { 1 + rand_r(&seed) % 4, 1 + rand_r(&seed) % 8, 1 + rand_r(&seed) % 3,
					   1 + rand_r(&seed) % 2, 1 + rand_r(&seed) % 5, 1 };
		int max = 9;
		struct vhs_pool p;
		uint32_t next = 0, oldest = 0;

		cr_assert_eq(vhs_pool_init(&p, w, max), 0);
		for (int step = 0; step < 500; step++) {
			if (p.n < max && rand_r(&seed) % 2) {
				struct vhs_flight *f = vhs_pool_start(&p, next++);

				for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
					int lo = s_min_load(&p, k), got = vhs_pool_holder(&p, f, k, NULL);

					cr_assert_eq(vhs_pool_load(&p, k, got), lo + 1, "seed %u kind %d", seed, k);
				}
			} else if (p.n) {
				vhs_pool_finish(&p, vhs_pool_find(&p, oldest++));
			}
			for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
				int sum = 0;

				for (int i = 0; i < w[k]; i++)
					sum += vhs_pool_load(&p, k, i);
				cr_assert_eq(sum, p.n, "seed %u round %d kind %d", seed, round, k);
			}
		}
		vhs_pool_free(&p);
	}
}

static struct vhs_job s_job(int decode, int pre, int up, int audio, int enc)
{
	struct vhs_job j;

	memset(&j, 0, sizeof(j));
	j.run.ring_slots = 6;
	j.stages[0].workers = decode;
	j.stages[1].workers = pre;
	j.stages[2].workers = up;
	j.stages[3].workers = audio;
	j.stages[4].workers = enc;
	return j;
}

Test(plan, one_worker_each_is_the_old_plan)
{
	struct vhs_job j = s_job(1, 1, 1, 1, 1);
	struct vhs_plan p;

	vhs_plan_build(&p, &j, true);
	cr_assert_eq(p.width, 1);
	cr_assert_eq(p.in_flight, 2);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		cr_assert_eq(p.workers[k], 1);
		cr_assert_eq(p.open[k], 1);
	}
	for (int i = 0; i < p.n_edges; i++)
		cr_assert_eq(p.edges[i].slots, p.edges[i].quota, "%s", p.edges[i].name);
	cr_assert_eq(p.edges[0].slots, 6);
}

Test(plan, workers_size_shares_and_rings)
{
	struct vhs_job j = s_job(1, 4, 2, 1, 3);
	struct vhs_plan p;

	vhs_plan_build(&p, &j, true);
	cr_assert_eq(p.width, 4);
	cr_assert_eq(p.in_flight, 5);
	cr_assert_eq(p.open[VHS_DECODE], 4, "one decode makes all four at once");
	cr_assert_eq(p.open[VHS_PREPROCESS], 1);
	cr_assert_eq(p.open[VHS_UPSCALE], 2);
	cr_assert_eq(p.open[VHS_ENCODE], 2, "ceil(4 / 3)");
	for (int i = 0; i < p.n_edges; i++) {
		const struct vhs_plan_edge *e = &p.edges[i];
		uint32_t per = e->from == VHS_DECODE && e->from_port == 1 ? VHS_AUDIO_RING_SLOTS
			     : e->from == VHS_AUDIO ? VHS_AUDIO_RING_SLOTS : 6;

		cr_assert_eq(e->quota, per * (uint32_t)p.open[e->from], "%s", e->name);
		cr_assert_eq(e->slots, e->quota * (uint32_t)p.workers[e->from], "%s", e->name);
	}
}

Test(plan, auto_counts_as_one_until_decided)
{
	struct vhs_job j = s_job(0, 0, 2, 0, 0);
	struct vhs_plan p;

	vhs_plan_build(&p, &j, false);
	cr_assert_eq(p.workers[VHS_DECODE], 1);
	cr_assert_eq(p.workers[VHS_UPSCALE], 2);
	cr_assert_eq(p.width, 2);
}

/* Costs with 1 MiB slots on every edge, 10 MiB per worker, 2 MiB per segment held. */
static struct vhs_plan_costs s_costs(void)
{
	struct vhs_plan_costs c;

	memset(&c, 0, sizeof(c));
	for (int i = 0; i < VHS_PLAN_MAX_EDGES; i++)
		c.slot_size[i] = 1 << 20;
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		c.base[k] = 10u << 20;
		c.per_segment[k] = 2u << 20;
	}
	return c;
}

Test(plan, memory_counts_rings_and_workers)
{
	struct vhs_job j = s_job(1, 2, 1, 1, 1);
	struct vhs_plan_costs c = s_costs();
	struct vhs_plan p;
	uint64_t rings, procs, want_rings = 0, want_procs = 0;

	vhs_plan_build(&p, &j, true);
	for (int i = 0; i < p.n_edges; i++)
		want_rings += (uint64_t)p.edges[i].slots << 20;
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		want_procs += (uint64_t)p.workers[k] * ((10u << 20) + (uint64_t)p.open[k] * (2u << 20));
	cr_assert_eq(vhs_plan_memory(&p, &c, &rings, &procs), want_rings + want_procs);
	cr_assert_eq(rings, want_rings);
	cr_assert_eq(procs, want_procs);
	/* 2 preprocess workers: decode holds 2 segments: 2 x 6 video + 2 x 16 audio slots */
	cr_assert_eq(p.edges[0].slots, 12);
}

Test(plan, fit_keeps_a_plan_that_fits)
{
	struct vhs_job j = s_job(1, 2, 1, 1, 1);
	struct vhs_plan_costs c = s_costs();
	bool is_auto[VHS_STAGE_KINDS] = { false };
	struct vhs_plan p;
	uint64_t rings, procs;
	char msg[512];

	vhs_plan_build(&p, &j, true);
	cr_assert_eq(vhs_plan_fit(&p, is_auto, &c, vhs_plan_memory(&p, &c, &rings, &procs), msg, sizeof(msg)), 0);
	cr_assert_str_empty(msg);
	cr_assert_eq(p.workers[VHS_PREPROCESS], 2);
}

Test(plan, fit_cuts_auto_workers_first_then_slots)
{
	struct vhs_job j = s_job(1, 4, 2, 1, 1);
	struct vhs_plan_costs c = s_costs();
	bool is_auto[VHS_STAGE_KINDS] = { [VHS_PREPROCESS] = true };
	struct vhs_plan p, one;
	uint64_t rings, procs, budget;
	char msg[512];
	int ret;

	j.stages[VHS_PREPROCESS].workers = 4; /* what auto chose */
	vhs_plan_build(&one, &j, true);
	j.stages[VHS_PREPROCESS].workers = 2;
	vhs_plan_build(&p, &j, true);
	budget = vhs_plan_memory(&p, &c, &rings, &procs); /* what 2 auto workers need */
	p = one;
	ret = vhs_plan_fit(&p, is_auto, &c, budget, msg, sizeof(msg));
	cr_assert_gt(ret, 0, "%s", msg);
	cr_assert_eq(p.workers[VHS_PREPROCESS], 2, "auto cut from 4 to 2: %s", msg);
	cr_assert_eq(p.workers[VHS_UPSCALE], 2, "an explicit count is never cut");
	cr_assert_eq(p.ring_slots, 6, "slots untouched while workers could go");
	cr_assert(strstr(msg, "reduced to fit [run] max_memory"), "%s", msg);
	cr_assert_leq(vhs_plan_memory(&p, &c, &rings, &procs), budget);

	/* no auto stage: the slots per segment go down instead */
	memset(is_auto, 0, sizeof(is_auto));
	j.stages[VHS_PREPROCESS].workers = 2;
	j.run.ring_slots = 12;
	vhs_plan_build(&p, &j, true);
	budget = vhs_plan_memory(&p, &c, &rings, &procs) - (20u << 20);
	ret = vhs_plan_fit(&p, is_auto, &c, budget, msg, sizeof(msg));
	cr_assert_gt(ret, 0, "%s", msg);
	cr_assert_lt(p.ring_slots, 12);
	cr_assert_geq(p.ring_slots, VHS_PLAN_MIN_RING_SLOTS);
	cr_assert_eq(p.workers[VHS_PREPROCESS], 2);
	cr_assert_leq(vhs_plan_memory(&p, &c, &rings, &procs), budget);
}

Test(plan, fit_refuses_saying_what_it_needs)
{
	struct vhs_job j = s_job(1, 8, 1, 1, 8);
	struct vhs_plan_costs c = s_costs();
	bool is_auto[VHS_STAGE_KINDS] = { false };
	struct vhs_plan p;
	char msg[512];

	vhs_plan_build(&p, &j, true);
	cr_assert_eq(vhs_plan_fit(&p, is_auto, &c, 64u << 20, msg, sizeof(msg)), -ENOMEM);
	cr_assert(strstr(msg, "the plan needs "), "%s", msg);
	cr_assert(strstr(msg, "max_memory allows 64 MiB"), "%s", msg);
	cr_assert(strstr(msg, "with 4 ring slots"), "slots were cut to the minimum first: %s", msg);
	cr_assert_eq(p.workers[VHS_PREPROCESS], 8, "explicit counts stay");
}
