/* testhooks.c: fault injection for the tests (ctx.h). VHS_TEST_CRASH=STAGE:N makes stage
 * STAGE kill itself with SIGKILL at its N-th data record (received, or sent by a source),
 * every time it starts; VHS_TEST_DELAY=STAGE:MS makes each of its frames take MS ms longer,
 * working (a sleep counted as busy), so a test knows the answer a profile must give. */
#include "ctx.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* VHS_TEST_CRASH: a crash as real as it gets, at a reproducible point. */
void rt_crash_point(struct vhs_ctx *ctx)
{
	if (ctx->crash_at && ++ctx->data_records >= ctx->crash_at)
		raise(SIGKILL);
}

/* The number after "STAGE:" in a test variable when it names this stage, else -1 (0 when
 * it names the stage without a number). */
static long long s_test_setting(const struct vhs_ctx *ctx, const char *var)
{
	const char *v = getenv(var);
	size_t n = strlen(ctx->stage->name);

	if (!v || strncmp(v, ctx->stage->name, n) || (v[n] != ':' && v[n]))
		return -1;
	return v[n] == ':' && atoll(v + n + 1) > 0 ? atoll(v + n + 1) : 0;
}

void rt_test_setup(struct vhs_ctx *ctx)
{
	long long crash = s_test_setting(ctx, "VHS_TEST_CRASH"), delay = s_test_setting(ctx, "VHS_TEST_DELAY");

	ctx->crash_at = crash < 0 ? 0 : crash ? (uint64_t)crash : 1;
	ctx->delay_ns = delay > 0 ? (uint64_t)delay * 1000000ull : 0;
}

/* VHS_TEST_DELAY: the frame at hand takes this much longer. */
void rt_test_delay(const struct vhs_ctx *ctx)
{
	struct timespec ts = { .tv_sec = (time_t)(ctx->delay_ns / 1000000000ull),
			       .tv_nsec = (long)(ctx->delay_ns % 1000000000ull) };

	while (ctx->delay_ns && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
