/* scan.c: the scan type and field order of a capture from its pictures (see scan.h). */
#include "scan.h"

#include <stdlib.h>
#include <string.h>

#define REDUCE 4          /* luma pixels averaged across */
#define DEAD_ZONE 3       /* codes of a line's stick-out left to noise */
#define NEAR 0.25         /* near the least: within this share of the spread */
#define MOTION_MIN 0.02f  /* spread (codes per sample) below which a pair shows no motion */
#define RUN_MIN_MOVING 4  /* moving frames a run needs to count */
#define MAJORITY 0.7      /* share of a run's moving frames that makes its kind */

size_t vhs_scan_reduced_size(int width, int height)
{
	return (size_t)(width / REDUCE) * (size_t)height;
}

void vhs_scan_reduce(const struct vhs_picture *pic, uint8_t *out)
{
	int w = pic->width / REDUCE, shift = pic->fmt->depth - 8;

	for (int y = 0; y < pic->height; y++) {
		const uint8_t *row = pic->data[0] + (size_t)y * pic->linesize[0];
		uint8_t *o = out + (size_t)y * w;

		for (int x = 0; x < w; x++) {
			unsigned sum = 0;

			for (int i = 0; i < REDUCE; i++)
				sum += pic->fmt->bytes == 1 ? row[x * REDUCE + i]
							    : ((const uint16_t *)row)[x * REDUCE + i];
			o[x] = (uint8_t)((sum + REDUCE / 2) / REDUCE >> shift);
		}
	}
}

/* How far line m sticks out beyond lines u and d, less the dead zone, summed over a row. */
static unsigned s_stick(const uint8_t *u, const uint8_t *m, const uint8_t *d, int w)
{
	unsigned sum = 0;

	for (int x = 0; x < w; x++) {
		int lo = u[x] < d[x] ? u[x] : d[x], hi = u[x] < d[x] ? d[x] : u[x];
		int out = m[x] < lo ? lo - m[x] : m[x] > hi ? m[x] - hi : 0;

		sum += out > DEAD_ZONE ? (unsigned)(out - DEAD_ZONE) : 0;
	}
	return sum;
}

/* comb() of the weave of top (even lines from t) and bottom (odd lines from b). */
static float s_comb(const uint8_t *t, const uint8_t *b, int w, int h)
{
	unsigned long long sum = 0;

	for (int y = 1; y + 1 < h; y++) {
		const uint8_t *own = y & 1 ? b : t, *other = y & 1 ? t : b;

		sum += s_stick(other + (size_t)(y - 1) * w, own + (size_t)y * w,
			       other + (size_t)(y + 1) * w, w);
	}
	return h > 2 && w > 0 ? (float)((double)sum / ((double)(h - 2) * w)) : 0;
}

void vhs_scan_measure(const uint8_t *a, const uint8_t *b, int width, int height,
		      struct vhs_scan_pair *out)
{
	int w = width / REDUCE;

	out->s = s_comb(a, a, w, height);
	out->x = s_comb(b, a, w, height);
	out->y = s_comb(a, b, w, height);
}

int vhs_scan_pattern(const struct vhs_scan_pair *p)
{
	float lo = p->s, hi = p->s, near;
	int bits = 0;

	lo = p->x < lo ? p->x : lo;
	lo = p->y < lo ? p->y : lo;
	hi = p->x > hi ? p->x : hi;
	hi = p->y > hi ? p->y : hi;
	if (hi - lo < MOTION_MIN)
		return 0;
	/* near: within a quarter of the spread, and at most twice the least (a perfect match,
	 * with the noise under the dead zone, leaves a weave one frame off far from it) */
	near = lo + (float)NEAR * (hi - lo);
	near = near < 2 * lo + MOTION_MIN ? near : 2 * lo + MOTION_MIN;
	bits |= p->s <= near ? VHS_SCAN_S : 0;
	bits |= p->x <= near ? VHS_SCAN_X : 0;
	bits |= p->y <= near ? VHS_SCAN_Y : 0;
	return bits;
}

/* Frames of the tally in the patterns of mask (any of them exactly). */
static unsigned s_count(const struct vhs_scan_tally *t, const int *patterns)
{
	unsigned n = 0;

	for (; *patterns; patterns++)
		n += t->pattern[*patterns];
	return n;
}

/* Which field comes first by the tally's ordered frames (x: top first, y: bottom first). */
static enum vhs_field_order s_order(const struct vhs_scan_tally *t, double *confidence)
{
	static const int tff[] = { VHS_SCAN_S | VHS_SCAN_X, VHS_SCAN_X, 0 };
	static const int bff[] = { VHS_SCAN_S | VHS_SCAN_Y, VHS_SCAN_Y, 0 };
	unsigned a = s_count(t, tff), b = s_count(t, bff);

	if (confidence)
		*confidence = a + b ? (double)(a > b ? a : b) / (a + b) : 0;
	return a == b ? VHS_ORDER_UNKNOWN : a > b ? VHS_ORDER_TFF : VHS_ORDER_BFF;
}

/* The kind the patterns of a tally show (with their order), by the share of its moving frames. */
static enum vhs_scan_kind s_kind(const struct vhs_scan_tally *t, enum vhs_field_order order)
{
	int m = order == VHS_ORDER_BFF ? VHS_SCAN_Y : VHS_SCAN_X;
	double n = t->moving;
	double prog = t->pattern[VHS_SCAN_S] / n, both = t->pattern[VHS_SCAN_S | m] / n;
	double late = t->pattern[m] / n;

	if (prog >= MAJORITY)
		return VHS_SCAN_PROGRESSIVE;
	if (both >= MAJORITY)
		return VHS_SCAN_INTERLACED;
	if (late >= MAJORITY)
		return VHS_SCAN_SHIFTED;
	/* 3:2: per five frames s, s+m, m, m, s; edits break the cadence now and then */
	if (prog >= 0.2 && late >= 0.2 && prog + both + late >= MAJORITY)
		return VHS_SCAN_TELECINE;
	return VHS_SCAN_MIXED;
}

enum vhs_scan_kind vhs_scan_run(const struct vhs_scan_pair *pairs, size_t n,
				struct vhs_scan_tally *run, enum vhs_field_order *order)
{
	memset(run, 0, sizeof(*run));
	for (size_t i = 0; i < n; i++) {
		int p = vhs_scan_pattern(&pairs[i]);

		run->frames++;
		if (p) {
			run->moving++;
			run->pattern[p]++;
		}
	}
	*order = s_order(run, NULL);
	if (run->moving < RUN_MIN_MOVING)
		return VHS_SCAN_UNKNOWN;
	return s_kind(run, *order);
}

void vhs_scan_add(struct vhs_scan_tally *tape, const struct vhs_scan_tally *run, enum vhs_scan_kind kind)
{
	tape->frames += run->frames;
	tape->runs[kind]++;
	if (kind == VHS_SCAN_UNKNOWN)
		return;
	tape->moving += run->moving;
	tape->kind[kind] += run->moving;
	for (int i = 0; i < 8; i++)
		tape->pattern[i] += run->pattern[i];
}

void vhs_scan_decide(const struct vhs_scan_tally *tape, struct vhs_scan *out)
{
	enum vhs_scan_kind best = VHS_SCAN_UNKNOWN;
	unsigned counted = 0;

	memset(out, 0, sizeof(*out));
	out->frames = tape->frames;
	out->moving = tape->moving;
	for (int k = VHS_SCAN_PROGRESSIVE; k <= VHS_SCAN_MIXED; k++) {
		counted += tape->kind[k];
		if (tape->kind[k] > tape->kind[best])
			best = (enum vhs_scan_kind)k;
	}
	if (!counted)
		return;
	out->major = best;
	out->confidence = (double)tape->kind[best] / counted;
	out->kind = out->confidence >= 0.9 ? best : VHS_SCAN_MIXED;
	if (best != VHS_SCAN_PROGRESSIVE)
		out->order = s_order(tape, &out->order_confidence);
}

const char *vhs_scan_kind_name(enum vhs_scan_kind k)
{
	static const char *const names[] = { "unknown", "progressive", "interlaced", "shifted",
					     "telecine", "mixed" };

	return (unsigned)k < 6 ? names[k] : "unknown";
}

const char *vhs_field_order_name(enum vhs_field_order o)
{
	return o == VHS_ORDER_TFF ? "tff" : o == VHS_ORDER_BFF ? "bff" : "unknown";
}
