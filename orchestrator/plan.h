/* plan.h: which stage processes a job runs and the edges (rings) between them.
 *
 *   decode:0 (video) -> preprocess -> upscale -> encode:0
 *   decode:1 (audio) -> audio -> encode:1          (only when the capture has audio)
 *
 * then, once every segment is in the work dir, the mux stage alone (no edges), which
 * joins the segments into the output.
 *
 * The plan is fixed by the job and by whether the capture has audio, which the decode
 * stage tells in its FORMAT record; the orchestrator builds the plan then.
 */
#ifndef VHS_PLAN_H
#define VHS_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "filters.h"
#include "job.h"
#include "stages.h"

#define VHS_AUDIO_RING_SLOTS 16
#define VHS_PLAN_MAX_EDGES 5

struct vhs_plan_edge {
	enum vhs_stage_kind from, to;
	int from_port, to_port;
	uint32_t quota;       /* slots of each producer worker: slot s belongs to worker s / quota */
	uint32_t slots;       /* ring slot count: quota x producer workers */
	const char *name;     /* e.g. "decode.video" */
};

/* Workers: every stage kind runs as workers[k] processes. A segment stays with one worker
 * per stage, so to keep W workers of the widest stage busy, W segments are in the making
 * at once, and a worker of a narrower stage holds several of them (open[k]: up to
 * ceil(W / workers[k]); decode makes that many at once, interleaved). Each producer worker
 * gets ring_slots slots per segment it may hold, so a filter that keeps frames in one
 * segment cannot starve another. One more segment than W is asked for ahead (in_flight),
 * so the next one is ready when a worker frees. */
struct vhs_plan {
	bool audio;                               /* the capture has audio */
	bool stages[VHS_STAGE_KINDS];             /* which stages run */
	int workers[VHS_STAGE_KINDS];             /* processes per stage (0 for the mux's plan) */
	int open[VHS_STAGE_KINDS];                /* segments a worker may hold at once */
	int width;                                /* W: the most workers of any stage */
	int ring_slots;                           /* video slots per segment a producer holds */
	int in_flight;                            /* segments requested and not yet done, at most */
	struct vhs_plan_edge edges[VHS_PLAN_MAX_EDGES];
	int n_edges;
};


/* The pipeline's plan, with job->stages[k].workers processes per stage ("auto", stored as
 * 0, counts 1 here; the supervisor decides). */
void vhs_plan_build(struct vhs_plan *p, const struct vhs_job *job, bool audio);

/* Sets the worker counts (<= 0 counts as 1) and video ring slots per segment, and derives
 * width, open, in_flight and the edges from them. */
void vhs_plan_layout(struct vhs_plan *p, const int workers[VHS_STAGE_KINDS], int ring_slots);

/* Memory: what a plan keeps resident. Rings: every slot of every edge. Stage processes:
 * each worker's base (what its first worker had resident once started: libraries, codec
 * and filter set-up) plus a working set per segment it may hold (frames its decoder,
 * filters or encoder keep). The supervisor measures base and estimates per_segment from
 * the frame sizes (supervisor.c); this arithmetic is kept apart so it can be tested. */
struct vhs_plan_costs {
	uint32_t slot_size[VHS_PLAN_MAX_EDGES];   /* bytes per slot, per edge of the plan */
	uint64_t base[VHS_STAGE_KINDS];           /* resident bytes of a started worker */
	uint64_t per_segment[VHS_STAGE_KINDS];    /* working bytes per segment held */
};

#define VHS_PLAN_MIN_RING_SLOTS 4 /* fewest video slots per segment a plan is cut down to */

/* Bytes the plan needs: *rings + *procs, returned. */
uint64_t vhs_plan_memory(const struct vhs_plan *p, const struct vhs_plan_costs *c, uint64_t *rings,
			 uint64_t *procs);

/* Makes the plan fit budget bytes: first fewer workers for "auto" stages (is_auto; the
 * widest first), then fewer ring slots per segment (down to VHS_PLAN_MIN_RING_SLOTS).
 * Explicit worker counts are never cut: a plan that still does not fit is refused.
 * Returns 0 (fits as it was), > 0 (reduced; msg says to what), or -ENOMEM (refused; msg
 * says what it needs). */
int vhs_plan_fit(struct vhs_plan *p, const bool is_auto[VHS_STAGE_KINDS], const struct vhs_plan_costs *c,
		 uint64_t budget, char *msg, size_t n);

/* The plan of the final step: the mux stage alone. */
void vhs_plan_build_mux(struct vhs_plan *p);

/* How far the filter chains reach in time, which sizes each segment's input window:
 * video frames needed before and after a segment, audio milliseconds either side.
 * Known filters have exact reaches (proto/filters.h's table: bwdif, yadif, w3fdif: one
 * frame each side; spatial filters: none; the project's own, as each declares); filters with unbounded memory (temporal hqdn3d) and unknown ones get
 * [run] warmup_frames; any audio filter but a stateless one gets [run] audio_warmup. */
struct vhs_reach {
	int warmup, lookahead;  /* video frames */
	int audio_ms;           /* audio, either side */
};

void vhs_plan_reach(const struct vhs_job *job, struct vhs_reach *r);

/* Stages, edges, slots, and the equivalent ffmpeg command (the oracle). */
void vhs_plan_print(const struct vhs_plan *p, const struct vhs_job *job, FILE *out);

#endif
