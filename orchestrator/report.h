/* report.h: the files of a profile (vhs-orchestrate profile), from the profiler's records.
 *
 * In the output directory:
 *   profile.txt   the table (also printed): a line per stage and per instance, the rings,
 *                 the bottleneck and why
 *   profile.json  every figure of the table, the timeline, the isolated run if any
 *                 (docs/operations.md has the fields)
 *   trace.json    Chrome trace events: a slice per frame per stage instance (a thread
 *                 each), a counter per ring; loads in Perfetto and chrome://tracing
 *   report.html   one self-contained page (no network resource): the table and SVG charts
 *                 of throughput over time per stage, ring occupancy per edge, and where
 *                 each instance's time went
 * Each file is written whole under a temporary name and renamed, so a failed write leaves
 * the previous profile's file, never half of one.
 */
#ifndef VHS_REPORT_H
#define VHS_REPORT_H

#include <stdio.h>

#include "profile.h"

/* What an isolated run of one stage measured (profile --stage). */
struct vhs_isolated {
	const char *stage;
	int workers;
	uint64_t frames;          /* frames replayed into it */
	double wall_s;            /* from the first frame in to its last out */
	double fps;               /* its standalone throughput */
	double pipeline_fps;      /* the same stage's fps in the pipeline run */
	struct vhs_prof_figures fig; /* the figures of the isolated run */
};

struct vhs_report_info {
	const char *job;          /* the job file */
	const char *output;       /* the restored file the profile run made */
	const char *stage;        /* --stage NAME, or NULL */
	int cores;
	const struct vhs_isolated *isolated; /* or NULL */
};

/* Writes the four files into dir and the table to out (or not, if NULL). Returns 0, or
 * -errno with err saying which file could not be written. */
int vhs_report_write(const struct vhs_profiler *p, const struct vhs_report_info *info, const char *dir,
		     FILE *out, char *err, size_t n);

#endif
