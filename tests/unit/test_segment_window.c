/* test_segment_window.c: a segment's window (proto.h: vhs_segment_bound, vhs_segment_contains),
 * which every stage that keeps or drops frames by segment asks. The bound must equal
 * libavutil's av_rescale_q() exactly (the FFmpeg filter stage used it before, and its output
 * must not change by a frame): checked on fresh random bounds and time bases, negative ones
 * and ties included; the window is half open; open bounds stay open; no pts is inside. */
#include <criterion/criterion.h>

#include <stdint.h>

#include <libavutil/mathematics.h>

#include "proto.h"
#include "rng.h"

static const int32_t s_tbs[][2] = { { 1, 25 }, { 1, 30000 }, { 1001, 30000 }, { 1, 90000 },
				     { 1, 1000 }, { 1, 48000 }, { 1, 60000 }, { 1001, 60000 },
				     { 1, 50 }, { 3, 7 } };
#define N_TBS (sizeof(s_tbs) / sizeof(s_tbs[0]))

static struct vhs_segment s_seg(int64_t start, int64_t end, const int32_t tb[2])
{
	return (struct vhs_segment){ .phase = VHS_SEG_BEGIN, .start = start, .end = end,
				     .tb_num = tb[0], .tb_den = tb[1] };
}

Test(segment_window, bound_equals_av_rescale_q)
{
	seed_rng();
	for (int i = 0; i < 200000; i++) {
		const int32_t *from = s_tbs[rnd() % N_TBS], *to = s_tbs[rnd() % N_TBS];
		int64_t t = (int64_t)(((uint64_t)rnd() << 32 | rnd()) >> (rnd() % 64));
		struct vhs_segment seg;

		if (rnd() & 1)
			t = -t;
		if (t == INT64_MIN)
			t++;
		seg = s_seg(t, t + 1, from);
		if ((t < 0 ? -t : t) > (INT64_MAX >> 20)) /* beyond av_rescale's int64 range */
			continue;
		cr_assert_eq(vhs_segment_bound(&seg, t, to[0], to[1]),
			     av_rescale_q(t, (AVRational){ from[0], from[1] }, (AVRational){ to[0], to[1] }),
			     "t %lld %d/%d -> %d/%d (seed %u)", (long long)t, from[0], from[1], to[0], to[1],
			     seed);
	}
}

Test(segment_window, ties_round_away_from_zero)
{
	const int32_t half[2] = { 1, 2 }, one[2] = { 1, 1 };
	struct vhs_segment seg = s_seg(0, 1, half);

	cr_assert_eq(vhs_segment_bound(&seg, 1, one[0], one[1]), 1);   /* 0.5 -> 1 */
	cr_assert_eq(vhs_segment_bound(&seg, -1, one[0], one[1]), -1); /* -0.5 -> -1 */
	cr_assert_eq(vhs_segment_bound(&seg, 3, one[0], one[1]), 2);   /* 1.5 -> 2 */
}

Test(segment_window, half_open_and_open_bounds)
{
	const int32_t tb[2] = { 1, 25 }, ms[2] = { 1, 1000 };
	struct vhs_segment seg = s_seg(50, 100, tb), first = s_seg(VHS_SEG_OPEN_START, 100, tb),
			   last = s_seg(50, VHS_SEG_OPEN_END, tb);

	cr_assert(vhs_segment_contains(&seg, 50, tb[0], tb[1]));
	cr_assert(vhs_segment_contains(&seg, 99, tb[0], tb[1]));
	cr_assert_not(vhs_segment_contains(&seg, 100, tb[0], tb[1]));
	cr_assert_not(vhs_segment_contains(&seg, 49, tb[0], tb[1]));
	cr_assert(vhs_segment_contains(&seg, 2000, ms[0], ms[1]));   /* 2 s = frame 50 */
	cr_assert_not(vhs_segment_contains(&seg, 4000, ms[0], ms[1]));
	cr_assert(vhs_segment_contains(&seg, INT64_MIN, tb[0], tb[1]), "no pts: inside");
	cr_assert(vhs_segment_contains(&first, -1000000, tb[0], tb[1]));
	cr_assert(vhs_segment_contains(&last, INT64_MAX - 1, tb[0], tb[1]));
	cr_assert_eq(vhs_segment_bound(&first, VHS_SEG_OPEN_START, ms[0], ms[1]), VHS_SEG_OPEN_START);
	cr_assert_eq(vhs_segment_bound(&last, VHS_SEG_OPEN_END, ms[0], ms[1]), VHS_SEG_OPEN_END);
}
