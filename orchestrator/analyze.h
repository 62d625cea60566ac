/* analyze.h: running the whole-tape analyses, `vhs-stage-decode --analyze-audio|video INPUT
 * OUT`, for the run (into its work dir) and for `check` (into a scratch file). */
#ifndef VHS_ANALYZE_H
#define VHS_ANALYZE_H

#include <stddef.h>

/* Runs the decode stage's analysis (what: "audio" or "video") of input into out and reads
 * its one line into line ("none: ..." when the capture has no such stream; "error: ..." with
 * the reason otherwise). Returns the stage's exit status (0 ok, 1, 4, 5: docs/operations.md),
 * -EINTR when it was killed by a signal, or -errno when it could not be run. */
int vhs_analyze(const char *stage_dir, const char *what, const char *input, const char *out,
		char *line, size_t len);

#endif
