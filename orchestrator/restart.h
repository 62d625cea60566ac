/* restart.h: when may a crashed stage be started again (issue 3: supervision).
 *
 * DESIGN
 * Erlang/OTP's rule, per stage: more than `limit` restarts within `window` seconds fails
 * the job (the intensity limit); otherwise the stage is restarted after a back-off that
 * starts at 100 ms and doubles with each restart in the window, up to 5 s. A stage that
 * ran for a whole window without dying starts again from 100 ms. A permanent error (bad
 * input, bad setting) is never retried: the caller does not ask. Times are monotonic
 * nanoseconds passed in, so the policy is a pure function of its history and is tested
 * without sleeping.
 */
#ifndef VHS_RESTART_H
#define VHS_RESTART_H

#include <stdbool.h>
#include <stdint.h>

#define VHS_RESTART_BACKOFF_MIN_NS 100000000ull   /* 100 ms */
#define VHS_RESTART_BACKOFF_MAX_NS 5000000000ull  /* 5 s */
#define VHS_RESTART_LIMIT 5                       /* [run] restart_limit default */
#define VHS_RESTART_WINDOW_S 60                   /* [run] restart_window default */
#define VHS_RESTART_MAX_LIMIT 64

struct vhs_restart {
	int limit;                    /* restarts allowed within the window */
	uint64_t window_ns;           /* the window */
	uint64_t at[VHS_RESTART_MAX_LIMIT + 1]; /* times of the recent crashes, oldest first */
	int n;                        /* entries in at[] */
};

/* limit is clamped to 0..VHS_RESTART_MAX_LIMIT. */
void vhs_restart_init(struct vhs_restart *r, int limit, double window_s);

/* A crash at now: returns true and the delay before the restart, or false when this
 * crash exceeds the intensity limit (the job must fail). */
bool vhs_restart_crashed(struct vhs_restart *r, uint64_t now_ns, uint64_t *delay_ns);

/* Crashes counted in the window ending at now. */
int vhs_restart_recent(const struct vhs_restart *r, uint64_t now_ns);

#endif
