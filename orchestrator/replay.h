/* replay.h: an isolated stage run (profile --stage NAME): the stage alone, fed its recorded
 * input as fast as it takes it, to measure its standalone throughput.
 *
 * DESIGN
 * The profile's pipeline run records NAME's input: each of its workers writes the records
 * it is given, with their slots' bytes, to SPOOL_DIR/spool.N (runtime/runtime.c,
 * profile.spool). The replay then starts NAME's workers again and is the orchestrator for
 * them, and both of their neighbours: it answers HELLO with the recorded CONFIG (the work
 * dir replaced by a scratch dir), creates their rings, and once they are READY plays each
 * worker's spool back in its recorded order, reading each frame straight from the spool
 * into a free input slot; every output slot is granted back as soon as the worker sends it
 * (nothing downstream waits or copies). A source (decode) has no recorded input: it is
 * asked for every segment in turn, its frames dropped as they come. The time from the
 * first record given to the last worker's DONE is the stage's standalone time.
 *
 * The replay has its own run dir, rings and socket, all removed at its end, with the scratch
 * dir's files; a worker that dies or reports an error ends it with that message.
 */
#ifndef VHS_REPLAY_H
#define VHS_REPLAY_H

#include "plan.h"
#include "profile.h"
#include "report.h"

struct vhs_replay_opts {
	enum vhs_stage_kind kind;     /* the stage to run alone */
	int workers;                  /* its workers in the recording (one spool each) */
	const char *stage_dir;        /* where vhs-stage-* live */
	const char *spool_dir;        /* the recording */
	const char *scratch_dir;      /* the stage's work dir during the replay (emptied after) */
};

/* Runs the replay. Fills *res (its figures from prof, which it feeds). Returns an exit
 * code (exitcode.h) with err saying why when it is not 0. */
int vhs_replay(const struct vhs_replay_opts *o, struct vhs_profiler *prof, struct vhs_isolated *res,
	       char *err, size_t n);

#endif
