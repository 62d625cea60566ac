/* profile.h: the profiler of `vhs-orchestrate profile`: what each stage instance did, frame
 * by frame, and the figures that say where the time went.
 *
 * DESIGN
 * The supervisor feeds it while the run goes (supervisor.c, only when a profiler is
 * given): every TRACE record (a frame's start, span and busy time, timed by the stage
 * runtime), a timeline tick every VHS_PROF_TICK_NS (frames each stage has handled so far,
 * slots holding a frame per ring), and at the end of each attempt every process's last
 * STATS and its rusage. Instances are named like the routing ids ("preprocess.0"); a
 * restarted process adds to its instance. Nothing here talks to a process or a file:
 * summarizing is arithmetic (tested in tests/unit/test_profile.c), the files are report.h's.
 *
 * The figures of an instance (struct vhs_prof_figures): frames handled (records on its
 * first input port; a source's on its first output port), fps over the span of its frames,
 * busy / waiting for input / blocked on output as shares of its running time (the
 * runtime's counters), the busy time per frame at p50/p95/p99 (nearest rank), CPU seconds
 * and peak RSS (wait4), GPU seconds (the stage's CUDA events; none without a GPU), and per
 * frame: bytes it sent through rings, bytes it copied into slots, and those copies.
 *
 * The bottleneck is the pipeline stage busy the largest share of its time (its workers'
 * mean); the reason names its neighbours' waits: a saturated stage makes the stage before
 * it block on output and the stage after it wait for input.
 */
#ifndef VHS_PROFILE_H
#define VHS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "plan.h"
#include "proto.h"

#define VHS_PROF_MAX_INSTANCES 96
#define VHS_PROF_TICK_NS 200000000ull /* timeline resolution */
#define VHS_PROF_NAME_LEN (VHS_NAME_LEN + 16)

struct vhs_prof_instance {
	char name[VHS_PROF_NAME_LEN];     /* "preprocess.0" */
	enum vhs_stage_kind kind;
	int instance;
	uint64_t frames;                  /* records on the first input port (source: output) */
	uint64_t bytes_out;               /* bytes of the records it sent through rings */
	struct vhs_stats stats;           /* its processes' last STATS, summed */
	double cpu_s;                     /* user + system of its processes (wait4) */
	long maxrss_kb;                   /* the largest of its processes */
	int processes;                    /* processes it ran as (restarts add) */
	struct vhs_trace_sample *samples; /* every frame's timing, in arrival order */
	size_t n_samples, cap_samples;
};

/* One point of the timeline (t since the profile started). */
struct vhs_prof_tick {
	uint64_t t_ns;
	uint64_t frames[VHS_STAGE_KINDS];    /* frames each stage handled so far */
	uint32_t full[VHS_PLAN_MAX_EDGES];   /* slots holding a frame, per edge */
};

struct vhs_prof_edge {
	char name[VHS_PROF_NAME_LEN];        /* "decode.video" */
	enum vhs_stage_kind from, to;
	uint32_t slots;
};

struct vhs_profiler {
	uint64_t start_ns, end_ns;           /* CLOCK_MONOTONIC: the run's start and end */
	struct vhs_prof_instance inst[VHS_PROF_MAX_INSTANCES];
	int n_inst;
	int workers[VHS_STAGE_KINDS];        /* of the last pipeline attempt */
	struct vhs_prof_edge edges[VHS_PLAN_MAX_EDGES]; /* of the last pipeline attempt */
	int n_edges;
	struct vhs_prof_tick *ticks;
	size_t n_ticks, cap_ticks;
	uint64_t frames_before[VHS_STAGE_KINDS]; /* frames of attempts that ended (for ticks) */
	uint64_t next_tick_ns;
	double fps_media;                    /* the output's frame rate */
	uint64_t output_frames;              /* frames that reached the encode stage, in the end */
	int attempts, restarts;
};

/* Figures of one instance, or of a stage (its instances together). */
struct vhs_prof_figures {
	uint64_t frames;
	double span_s;                       /* first frame's start to the last one's end */
	double fps;
	double busy, wait_in, wait_out;      /* shares of the running time, 0..1 */
	double mean_ms, p50_ms, p95_ms, p99_ms; /* busy time per frame; 0 without frames */
	double cpu_s, rss_mib;
	double gpu_s;                        /* < 0: no GPU time was measured */
	double bytes_per_frame, copied_per_frame, copies_per_frame;
};

void vhs_profiler_init(struct vhs_profiler *p);
void vhs_profiler_free(struct vhs_profiler *p);

/* The instance of a stage worker, made on first use; NULL when the table is full. */
struct vhs_prof_instance *vhs_profiler_instance(struct vhs_profiler *p, enum vhs_stage_kind kind,
						int instance);

/* A TRACE record from that instance. Returns 0 or -ENOMEM. */
int vhs_profiler_trace(struct vhs_prof_instance *in, const struct vhs_trace *t);

/* An attempt starts with this plan (its stages, workers and edges). */
void vhs_profiler_attempt(struct vhs_profiler *p, const struct vhs_plan *plan);

/* A timeline point at now, if one is due: frames[k] handled so far in this attempt per
 * stage, full[e] per edge of the plan. */
void vhs_profiler_tick(struct vhs_profiler *p, uint64_t now, const uint64_t frames[VHS_STAGE_KINDS],
		       const uint32_t full[VHS_PLAN_MAX_EDGES]);

/* A process of this attempt ended (or the attempt did): its last STATS, rusage, the frames
 * it handled and the bytes it sent. */
void vhs_profiler_process(struct vhs_prof_instance *in, const struct vhs_stats *st, const struct rusage *ru,
			  uint64_t frames, uint64_t bytes_out);

/* The attempt ended: frames[k] its stages handled, for the next attempt's timeline. */
void vhs_profiler_attempt_end(struct vhs_profiler *p, const uint64_t frames[VHS_STAGE_KINDS]);

/* The figures of instance in, or (kind >= 0) of every instance of a stage kind. */
void vhs_profiler_figures(const struct vhs_profiler *p, const struct vhs_prof_instance *in, int kind,
			  struct vhs_prof_figures *f);

/* The stage kind that limits the pipeline, or -1 when no stage handled frames; why gets
 * one line saying so from the figures. */
int vhs_profiler_bottleneck(const struct vhs_profiler *p, char *why, size_t n);

/* The p-th percentile (0 < p <= 100, nearest rank) of n sorted values; 0 when n = 0. */
uint32_t vhs_percentile(const uint32_t *sorted, size_t n, double pct);

#endif
