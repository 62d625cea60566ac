/* test_pool.c: unit tests of the segment-to-worker bookkeeping (orchestrator/pool.h) and of
 * the worker arithmetic of the plan (orchestrator/plan.h: open segments per worker, ring
 * shares, segments in flight).
 *
 * Covers:
 *   - a segment goes to the least loaded worker of a stage, lowest instance on a tie, and
 *     stays with it (asking again gives the same worker, without counting twice);
 *   - a worker lets go after END on each of its output ports (not before), once only;
 *     DONE/NONE let every holder go and end the flight;
 *   - the in-flight limit, refusing a segment already in flight, finding flights after
 *     others ended (the table is compacted);
 *   - a random schedule of many segments over uneven worker counts: every segment goes to
 *     a worker that held the fewest at that moment, and the loads always add up to the
 *     segments in flight;
 *   - the plan: width, open segments per worker, quotas and ring sizes per edge, in_flight.
 */
#include <criterion/criterion.h>

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

	cr_assert_eq(vhs_pool_holder(&p, a, VHS_PREPROCESS), 0);
	cr_assert_eq(vhs_pool_holder(&p, b, VHS_PREPROCESS), 1);
	cr_assert_eq(vhs_pool_holder(&p, c, VHS_PREPROCESS), 2);
	cr_assert_eq(vhs_pool_holder(&p, d, VHS_PREPROCESS), 0, "tie: the lowest instance");
	cr_assert_eq(vhs_pool_holder(&p, b, VHS_PREPROCESS), 1, "asked again: the same worker");
	cr_assert_eq(vhs_pool_load(&p, VHS_PREPROCESS, 0), 2);
	cr_assert_eq(vhs_pool_load(&p, VHS_PREPROCESS, 1), 1, "not counted twice");
	cr_assert_eq(vhs_pool_holder(&p, a, VHS_UPSCALE), 0);
	cr_assert_eq(vhs_pool_holder(&p, b, VHS_UPSCALE), 0, "one worker holds several");
	cr_assert_eq(vhs_pool_load(&p, VHS_UPSCALE, 0), 2);
	vhs_pool_free(&p);
}

Test(pool, lets_go_after_end_on_every_port)
{
	struct vhs_pool p = s_pool(2, 1, 1, 1, 1, 4);
	struct vhs_flight *f = vhs_pool_start(&p, 5);

	cr_assert_eq(vhs_pool_holder(&p, f, VHS_DECODE), 0);
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
		vhs_pool_holder(&p, f, k);
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
					int lo = s_min_load(&p, k), got = vhs_pool_holder(&p, f, k);

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
