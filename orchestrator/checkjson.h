/* checkjson.h: `vhs-orchestrate check --json`: the same as `check` prints, as one JSON
 * object for programs:
 *
 *   { "job", "input", "output", "probe": [ what the decode stage says of the input, lines ],
 *     "settings":        { "section.key": value, ... }   every resolved key (before "auto")
 *     "video_analysis":  null, or { "summary": "...", every key of the analysis file
 *                        (numbers as numbers), "runs": [ { "start", "scan", "field_order" } ] }
 *     "video_choices":   [ { "topic": "scan", "says": "telecine, 98% of ... -> ivtc ..." } ]
 *     "preprocess_chain": "...",  "upscale": { "width", "height" },
 *     "plan":            [ the plan's lines, the ffmpeg command among them ] }
 */
#ifndef VHS_CHECKJSON_H
#define VHS_CHECKJSON_H

#include <stdio.h>

#include "job.h"
#include "videochoice.h"

struct vhs_check_report {
	const struct vhs_job *job;             /* as loaded (its "auto" keys unresolved) */
	const char *probe;                     /* what the decode stage's --probe said, lines */
	const char *analysis;                  /* the analysis file's text, or NULL (none made) */
	const char *analysis_line;             /* its one-line summary */
	const struct vhs_video_choice *choice;
	const char *plan;                      /* vhs_plan_print's text */
};

/* Writes the object. Returns 0 or -ENOMEM. */
int vhs_check_json(const struct vhs_check_report *r, FILE *out);

#endif
