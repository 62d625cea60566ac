/* pool.h: the segments in the making, and which worker of each stage holds each of them.
 *
 * DESIGN
 * A segment is in flight from its SEGMENT REQUEST to its DONE (or NONE: it lies past the end
 * of the input). At every stage it goes, at its first record there, to one worker, which
 * keeps it to the end: temporal filters see the whole segment in order, and since a
 * segment's output is a pure function of its input window, which worker made it does not
 * change a bit of the result. The worker chosen is the one with the fewest segments still
 * arriving (their END not yet forwarded to it): a worker busy only with the tail of a
 * segment it has whole is about to be free, one still receiving a segment is not. On a
 * tie, the one holding the fewest segments, then the one with the least work queued (the
 * caller says how much each has: input slots in hand), then the lowest instance. A worker holds a
 * segment until it has finished it: sent END on each of its output ports (a sink: until
 * DONE). Pure bookkeeping, no I/O: the supervisor routes by it, the unit tests drive it.
 */
#ifndef VHS_POOL_H
#define VHS_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

#define VHS_POOL_NONE (-1)

struct vhs_flight {
	uint32_t index;                    /* the segment */
	int worker[VHS_STAGE_KINDS];       /* instance holding it at each stage, or VHS_POOL_NONE */
	int ends[VHS_STAGE_KINDS];         /* END markers that holder has sent */
	int ends_in[VHS_STAGE_KINDS];      /* END markers forwarded to that holder */
	bool input_whole[VHS_STAGE_KINDS]; /* that holder has all its input */
	bool finished[VHS_STAGE_KINDS];    /* that holder is done with it */
};

struct vhs_pool {
	int workers[VHS_STAGE_KINDS];
	int *load[VHS_STAGE_KINDS];        /* per instance: segments held and not finished */
	int *arriving[VHS_STAGE_KINDS];    /* per instance: segments held whose input still arrives */
	struct vhs_flight *flights;
	int n, max;
};

/* A pool of workers[k] instances per kind with room for max segments in flight. */
int vhs_pool_init(struct vhs_pool *p, const int workers[VHS_STAGE_KINDS], int max);
void vhs_pool_free(struct vhs_pool *p);

/* Starts segment index's flight. NULL when max are in flight or it is in flight already. */
struct vhs_flight *vhs_pool_start(struct vhs_pool *p, uint32_t index);

/* The flight of segment index, or NULL. */
struct vhs_flight *vhs_pool_find(struct vhs_pool *p, uint32_t index);

/* The instance of kind holding f: the one it was given to, or (the first time) the least
 * loaded one, which now holds it; backlog[i] (or NULL: all equal) breaks ties. */
int vhs_pool_holder(struct vhs_pool *p, struct vhs_flight *f, int kind, const uint32_t *backlog);

/* An END of f was forwarded to its holder at kind; after `ports` of them its input is
 * whole. */
void vhs_pool_end_in(struct vhs_pool *p, struct vhs_flight *f, int kind, int ports);

/* f's holder at kind sent an END; after `ports` of them it has finished with f. Returns
 * true when that happened now. */
bool vhs_pool_end(struct vhs_pool *p, struct vhs_flight *f, int kind, int ports);

/* f is done (DONE) or does not exist (NONE): every holder lets go and the flight ends
 * (f is invalid afterwards). */
void vhs_pool_finish(struct vhs_pool *p, struct vhs_flight *f);

/* Segments instance of kind holds. */
int vhs_pool_load(const struct vhs_pool *p, int kind, int instance);

#endif
