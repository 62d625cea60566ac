/* filters.h: what the orchestrator and the stages agree about filter chains: how a
 * `[video] filters` / `[audio] filters` chain splits into filters, and how far each known
 * video filter reaches in time, which sizes every segment's input window.
 *
 * DESIGN
 * A chain is libavfilter's syntax: filters separated by ',' (';' between chains of a
 * graph), each "name", "name=args" or "name@id=args", [labels] around them, '\' escaping
 * the next character and '...' quoting. vhs_chain_each_filter() walks it the one way every
 * part of the project reads it.
 *
 * The reach table lists filters whose reach is exact: frames before and after an output
 * frame that it depends on (-1: unbounded, such as temporal hqdn3d's recursion). It holds
 * libavfilter's filters the presets and users use, and every filter of the project's own
 * (dsp/filters/native.h; `native` is set and a unit test holds the two to the same
 * numbers).
 */
#ifndef VHS_FILTERS_H
#define VHS_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

/* One filter of a chain. */
struct vhs_chain_item {
	char name[64];            /* the filter's name (no @id), truncated past 63 bytes */
	const char *text;         /* the whole item as written ("name=args"), not terminated */
	size_t len;
	const char *args;         /* after the '=', or NULL; runs to text + len */
	bool simple;              /* no [labels] around it and no ';' before it */
};

/* Calls fn for each filter of chain (NULL: none), in order. */
void vhs_chain_each_filter(const char *chain, void (*fn)(const struct vhs_chain_item *it, void *arg),
			   void *arg);

struct vhs_filter_reach {
	const char *name;
	int before, after;        /* frames; -1 = unbounded */
	bool native;              /* one of the project's own filters */
};

/* The reach of the filter called name, or NULL when it is not known. */
const struct vhs_filter_reach *vhs_filter_reach_find(const char *name);

/* The table, ending with a NULL name. */
extern const struct vhs_filter_reach vhs_filter_reaches[];

#endif
