/* test_restart.c: the restart policy (orchestrator/restart.c): back-off 100 ms doubling to
 * 5 s, the intensity limit (more than `limit` restarts within the window fails), the window
 * sliding, and the clamps. Time is passed in, so nothing sleeps. */
#include <criterion/criterion.h>

#include "restart.h"

#define S 1000000000ull
#define MS 1000000ull

Test(restart, backoff_doubles_to_five_seconds)
{
	static const uint64_t want[] = { 100 * MS, 200 * MS, 400 * MS, 800 * MS, 1600 * MS,
					 3200 * MS, 5 * S, 5 * S, 5 * S };
	struct vhs_restart r;
	uint64_t delay;

	vhs_restart_init(&r, 20, 3600);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert(vhs_restart_crashed(&r, 1000 * S + i * S, &delay));
		cr_assert_eq(delay, want[i], "restart %u: %llu ns", i, (unsigned long long)delay);
	}
}

Test(restart, sixth_crash_in_window_fails_by_default)
{
	struct vhs_restart r;
	uint64_t delay;

	vhs_restart_init(&r, VHS_RESTART_LIMIT, VHS_RESTART_WINDOW_S);
	for (int i = 0; i < 5; i++)
		cr_assert(vhs_restart_crashed(&r, 100 * S + (uint64_t)i * 10 * S, &delay), "crash %d", i);
	cr_assert_eq(vhs_restart_recent(&r, 140 * S), 5);
	cr_assert_not(vhs_restart_crashed(&r, 150 * S, &delay), "6 crashes in 50 s must fail");
}

Test(restart, window_slides)
{
	struct vhs_restart r;
	uint64_t delay;

	vhs_restart_init(&r, 2, 60);
	cr_assert(vhs_restart_crashed(&r, 0 + 1, &delay));
	cr_assert(vhs_restart_crashed(&r, 30 * S, &delay));
	cr_assert_eq(delay, 200 * MS);
	cr_assert_not(vhs_restart_crashed(&r, 59 * S, &delay), "third crash within 60 s");
	/* 61 s after the first crash it has left the window: allowed again */
	cr_assert(vhs_restart_crashed(&r, 61 * S + 2, &delay));
	cr_assert_eq(vhs_restart_recent(&r, 61 * S + 2), 2);
	/* a stage that ran a whole window without dying starts again from 100 ms */
	cr_assert(vhs_restart_crashed(&r, 200 * S, &delay));
	cr_assert_eq(delay, 100 * MS);
}

Test(restart, limit_zero_never_restarts_and_clamps)
{
	struct vhs_restart r;
	uint64_t delay;

	vhs_restart_init(&r, 0, 60);
	cr_assert_not(vhs_restart_crashed(&r, S, &delay));
	vhs_restart_init(&r, -3, 60);
	cr_assert_eq(r.limit, 0);
	vhs_restart_init(&r, 1000, 60);
	cr_assert_eq(r.limit, VHS_RESTART_MAX_LIMIT);
	for (int i = 0; i < VHS_RESTART_MAX_LIMIT; i++)
		cr_assert(vhs_restart_crashed(&r, S + (uint64_t)i, &delay));
	cr_assert_not(vhs_restart_crashed(&r, 2 * S, &delay));
}
