/* progress.h: the progress display of `run`.
 *
 * bar:  on a terminal, one line redrawn in place at most 4 times a second:
 *         42.0%  252/600 frames  38.5 fps  1.28x  ETA 0:09
 *       with --verbose, a line per stage and per ring under it, redrawn with it:
 *         decode      x1   38.6 fps  busy  21%  waiting for input   0%  blocked on output  74%
 *         ring decode.video      7/8
 * log:  when stderr is not a terminal, a plain line every 2 seconds (with --verbose, the
 *       stage and ring lines after it).
 * json: one JSON object per line on stdout, every 0.5 s and once at the end ("done":
 *       true), for GUIs and scripts (docs/operations.md has the fields).
 * none: nothing.
 *
 * Stage figures are over the interval since the previous update: fps from the frames the
 * stage's workers handed on, busy / waiting / blocked from their STATS (the runtime's
 * busy_ns, wait_in_ns, wait_out_ns), as a share of the interval times the workers.
 */
#ifndef VHS_PROGRESS_H
#define VHS_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

enum vhs_progress_mode { VHS_PROGRESS_AUTO, VHS_PROGRESS_BAR, VHS_PROGRESS_LOG, VHS_PROGRESS_NONE,
			 VHS_PROGRESS_JSON };

#define VHS_PROGRESS_ROWS 16 /* stages, and rings, at most */

/* A stage kind's counters, cumulative over the run (its workers summed). */
struct vhs_progress_stage {
	const char *name;
	int workers;
	uint64_t frames;              /* records handed on (encode: taken in) */
	uint64_t busy_ns, wait_in_ns, wait_out_ns;
};

/* An edge's ring now: slots, and how many hold a frame its consumers have not given back. */
struct vhs_progress_ring {
	const char *name;
	uint32_t slots, full;
};

struct vhs_progress_detail {
	int n_stages, n_rings;
	struct vhs_progress_stage stages[VHS_PROGRESS_ROWS];
	struct vhs_progress_ring rings[VHS_PROGRESS_ROWS];
};

struct vhs_progress {
	enum vhs_progress_mode mode;  /* resolved: never AUTO after start */
	int verbose;                  /* the stage and ring lines */
	FILE *json;                   /* where json mode writes (stdout) */
	uint64_t start_ns;            /* when frames started to flow */
	uint64_t last_ns;             /* last redraw */
	double total;                 /* frames expected, <= 0 if unknown */
	double fps_media;             /* output frame rate, for speed (x realtime) */
	int drawn;                    /* bar lines on screen (the first, and verbose ones) */
	uint64_t shown;               /* frames in the last line shown */
	struct vhs_progress_stage prev[VHS_PROGRESS_ROWS]; /* at the last update */
	uint64_t prev_ns;
};

void vhs_progress_start(struct vhs_progress *p, enum vhs_progress_mode mode, int verbose,
			double total, double fps_media);

/* Redraws if the interval has passed (or force). d: the stages and rings now, or NULL.
 * done: the last update of the run (json: "done": true). */
void vhs_progress_update(struct vhs_progress *p, uint64_t frames, int force,
			 const struct vhs_progress_detail *d, int done);

/* Ends the bar line so later messages start on a fresh line. */
void vhs_progress_end(struct vhs_progress *p);

uint64_t vhs_now_ns(void);

#endif
