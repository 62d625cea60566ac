/* progress.h: the progress display of `run`.
 *
 * bar:  on a terminal, one line redrawn in place at most 4 times a second:
 *         42.0%  252/600 frames  38.5 fps  1.28x  ETA 0:09
 * log:  when stderr is not a terminal, a plain line every 2 seconds.
 * none: nothing.
 */
#ifndef VHS_PROGRESS_H
#define VHS_PROGRESS_H

#include <stdint.h>

enum vhs_progress_mode { VHS_PROGRESS_AUTO, VHS_PROGRESS_BAR, VHS_PROGRESS_LOG, VHS_PROGRESS_NONE };

struct vhs_progress {
	enum vhs_progress_mode mode;  /* resolved: never AUTO after start */
	uint64_t start_ns;            /* when frames started to flow */
	uint64_t last_ns;             /* last redraw */
	double total;                 /* frames expected, <= 0 if unknown */
	double fps_media;             /* output frame rate, for speed (x realtime) */
	int drawn;                    /* a bar line is on screen */
	uint64_t shown;               /* frames in the last line shown */
};

void vhs_progress_start(struct vhs_progress *p, enum vhs_progress_mode mode, double total,
			double fps_media);

/* Redraws if the interval has passed (or force). */
void vhs_progress_update(struct vhs_progress *p, uint64_t frames, int force);

/* Ends the bar line so later messages start on a fresh line. */
void vhs_progress_end(struct vhs_progress *p);

uint64_t vhs_now_ns(void);

#endif
