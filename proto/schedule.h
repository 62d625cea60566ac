/* schedule.h: a chain per stretch of the tape: what the orchestrator tells the preprocess
 * stage when a tape changes its scan mid-way (film, then video, then film), so each stretch
 * is restored its own way (orchestrator/videochoice.c decides; runtime/filter.c runs it).
 *
 * DESIGN
 * The schedule is text, one stretch a line:
 *
 *   FROM TO CHAIN
 *
 * FROM and TO are seconds of the input video stream's timestamps (pts x time base, not
 * counted from the stream's start), "-inf" and "inf" for a stretch open at the tape's start
 * or end; CHAIN runs to the end of the line. Stretches do not overlap and come in order.
 * The stage's own chain (`[video] filters`, resolved) is the default.
 *
 * A segment gets the chain of the stretch its window [start, end) lies in whole; a segment
 * that crosses from one stretch into another, or into time no stretch covers, gets the
 * default chain (the orchestrator makes that the one safe for anything). So a segment's
 * chain depends only on its window: the same on every worker, after a restart, on resume.
 * Every chain must give out the same format (size, pixel format, frame rate and time base):
 * the segments join into one stream.
 */
#ifndef VHS_SCHEDULE_H
#define VHS_SCHEDULE_H

#include <stddef.h>
#include <stdio.h>

/* The longest schedule text a stage takes, terminator included. */
#define VHS_SCHEDULE_MAX (1 << 20)

struct vhs_stretch {
	double from, to;          /* seconds; -INFINITY / INFINITY: open */
	char *chain;
};

struct vhs_schedule {
	struct vhs_stretch *s;
	size_t n;
};

/* One stretch's line into f (newlines in chain become spaces: lavfi reads them alike). */
void vhs_schedule_write(FILE *f, double from, double to, const char *chain);

/* Parses schedule text (NULL or "": no stretches). Returns 0, -ENOMEM, or -EINVAL with one
 * line in err (a line that is not FROM TO CHAIN, or stretches out of order). */
int vhs_schedule_parse(const char *text, struct vhs_schedule *out, char *err, size_t errlen);

/* The chain for a segment whose window is [start, end) seconds (-INFINITY / INFINITY: open),
 * or def (see above). */
const char *vhs_schedule_pick(const struct vhs_schedule *s, double start, double end, const char *def);

void vhs_schedule_free(struct vhs_schedule *s);

#endif
