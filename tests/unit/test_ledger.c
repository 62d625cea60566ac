/* test_ledger.c: the orchestrator's slot table (orchestrator/ledger.h), alone: shares of the
 * producer workers, the one path a slot may take (grant, pass, release) and every step off it
 * refused, claims checked against the holder, the counts the progress display and the stall
 * watch read, and a random walk of three producers and two consumers against a model kept
 * here, under which no slot is ever in two hands. */
#include <criterion/criterion.h>

#include <errno.h>

#include "ledger.h"
#include "rng.h"

Test(ledger, shares_and_refusals)
{
	struct vhs_ledger l;

	cr_assert_eq(vhs_ledger_init(&l, 0, 1), -EINVAL);
	cr_assert_eq(vhs_ledger_init(&l, 9, 2), -EINVAL, "a quota must divide the slots");
	cr_assert_eq(vhs_ledger_init(&l, 8, 4), 0);
	cr_assert_eq(vhs_ledger_producer(&l, 3), 0);
	cr_assert_eq(vhs_ledger_producer(&l, 4), 1);
	cr_assert_eq(vhs_ledger_count(&l, VHS_SLOT_FREE), 8);
	cr_assert_eq(vhs_ledger_pass(&l, 0, 5), -EINVAL, "a free slot cannot be passed on");
	cr_assert_eq(vhs_ledger_grant(&l, 0, 1), 0);
	cr_assert_eq(vhs_ledger_grant(&l, 0, 1), -EINVAL, "granted twice");
	cr_assert_eq(vhs_ledger_grant(&l, 8, 1), -EINVAL, "out of the ring");
	cr_assert(vhs_ledger_holds(&l, 0, VHS_SLOT_PRODUCER, 1));
	cr_assert_not(vhs_ledger_holds(&l, 0, VHS_SLOT_PRODUCER, 2), "another process's claim");
	cr_assert_not(vhs_ledger_holds(&l, 0, VHS_SLOT_CONSUMER, 1), "the wrong side");
	cr_assert_not(vhs_ledger_holds(&l, 99, VHS_SLOT_PRODUCER, 1));
	cr_assert_eq(vhs_ledger_pass(&l, 0, 7), 0);
	cr_assert_eq(vhs_ledger_pass(&l, 0, 7), -EINVAL, "passed twice");
	cr_assert(vhs_ledger_holds(&l, 0, VHS_SLOT_CONSUMER, 7));
	vhs_ledger_release(&l, 0);
	cr_assert(vhs_ledger_holds(&l, 0, VHS_SLOT_FREE, VHS_LEDGER_NOBODY));
	vhs_ledger_free(&l);
}

Test(ledger, counts_backlog_and_held_shares)
{
	struct vhs_ledger l;
	uint32_t backlog[2] = { 0 };

	cr_assert_eq(vhs_ledger_init(&l, 6, 3), 0);
	for (uint32_t s = 0; s < 6; s++)
		cr_assert_eq(vhs_ledger_grant(&l, s, (int)(s / 3)), 0);
	for (uint32_t s = 0; s < 3; s++) /* worker 0's whole share goes to consumer process 10 */
		cr_assert_eq(vhs_ledger_pass(&l, s, 10), 0);
	cr_assert_eq(vhs_ledger_pass(&l, 4, 11), 0);
	cr_assert(vhs_ledger_share_held(&l, 0), "worker 0 cannot go on");
	cr_assert_not(vhs_ledger_share_held(&l, 1));
	cr_assert_not(vhs_ledger_share_held(&l, 2), "no such worker");
	cr_assert_eq(vhs_ledger_count(&l, VHS_SLOT_CONSUMER), 4);
	cr_assert_eq(vhs_ledger_count(&l, VHS_SLOT_PRODUCER), 2);
	vhs_ledger_backlog(&l, 10, 2, backlog);
	cr_assert_eq(backlog[0], 3);
	cr_assert_eq(backlog[1], 1);
	vhs_ledger_free(&l);
}

/* A random walk: grants to the share's producer, passes to a random consumer, releases,
 * with wrong claims thrown in; the table must agree with the model at every step. */
Test(ledger, random_walk_never_two_hands)
{
	enum { SLOTS = 12, QUOTA = 4 };
	struct vhs_ledger l;
	int model_owner[SLOTS] = { 0 }, model_holder[SLOTS];

	seed_rng();
	cr_assert_eq(vhs_ledger_init(&l, SLOTS, QUOTA), 0);
	for (int s = 0; s < SLOTS; s++)
		model_holder[s] = VHS_LEDGER_NOBODY;
	for (int step = 0; step < 100000; step++) {
		uint32_t s = rnd() % SLOTS;
		int who = 100 + (int)(rnd() % 5), ret;

		switch (rnd() % 3) {
		case 0:
			ret = vhs_ledger_grant(&l, s, vhs_ledger_producer(&l, s));
			cr_assert_eq(ret, model_owner[s] == VHS_SLOT_FREE ? 0 : -EINVAL, "seed %u", seed);
			if (!ret) {
				model_owner[s] = VHS_SLOT_PRODUCER;
				model_holder[s] = vhs_ledger_producer(&l, s);
			}
			break;
		case 1:
			ret = vhs_ledger_pass(&l, s, who);
			cr_assert_eq(ret, model_owner[s] == VHS_SLOT_PRODUCER ? 0 : -EINVAL, "seed %u", seed);
			if (!ret) {
				model_owner[s] = VHS_SLOT_CONSUMER;
				model_holder[s] = who;
			}
			break;
		default:
			if (!vhs_ledger_holds(&l, s, VHS_SLOT_CONSUMER, who))
				break; /* a release from a process that does not hold it is refused by the caller */
			vhs_ledger_release(&l, s);
			model_owner[s] = VHS_SLOT_FREE;
			model_holder[s] = VHS_LEDGER_NOBODY;
		}
		for (int i = 0; i < SLOTS; i++)
			cr_assert(vhs_ledger_holds(&l, (uint32_t)i, (enum vhs_slot_owner)model_owner[i],
						   model_holder[i]), "slot %d after step %d (seed %u)", i, step, seed);
	}
	vhs_ledger_free(&l);
}
