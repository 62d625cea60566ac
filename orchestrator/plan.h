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

#include "job.h"

enum vhs_stage_kind {
	VHS_DECODE,
	VHS_PREPROCESS,
	VHS_UPSCALE,
	VHS_AUDIO,
	VHS_ENCODE,
	VHS_MUX,
	VHS_STAGE_KINDS,
};

#define VHS_PIPELINE_KINDS VHS_MUX /* the kinds of the pipeline; job.stages[] has these */

#define VHS_AUDIO_RING_SLOTS 16
#define VHS_PLAN_MAX_EDGES 5

struct vhs_plan_edge {
	enum vhs_stage_kind from, to;
	int from_port, to_port;
	uint32_t slots;       /* ring slot count */
	const char *name;     /* e.g. "decode.video" */
};

struct vhs_plan {
	bool audio;                               /* the capture has audio */
	bool stages[VHS_STAGE_KINDS];             /* which stages run */
	struct vhs_plan_edge edges[VHS_PLAN_MAX_EDGES];
	int n_edges;
};

const char *vhs_stage_name(enum vhs_stage_kind k);

void vhs_plan_build(struct vhs_plan *p, const struct vhs_job *job, bool audio);

/* The plan of the final step: the mux stage alone. */
void vhs_plan_build_mux(struct vhs_plan *p);

/* How far the filter chains reach in time, which sizes each segment's input window:
 * video frames needed before and after a segment, audio milliseconds either side.
 * Known filters have exact reaches (bwdif, yadif, w3fdif: one frame each side; spatial
 * filters: none); filters with unbounded memory (temporal hqdn3d) and unknown ones get
 * [run] warmup_frames; any audio filter but a stateless one gets [run] audio_warmup. */
struct vhs_reach {
	int warmup, lookahead;  /* video frames */
	int audio_ms;           /* audio, either side */
};

void vhs_plan_reach(const struct vhs_job *job, struct vhs_reach *r);

/* Stages, edges, slots, and the equivalent ffmpeg command (the oracle). */
void vhs_plan_print(const struct vhs_plan *p, const struct vhs_job *job, FILE *out);

#endif
