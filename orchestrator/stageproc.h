/* stageproc.h: what every orchestrator of stage processes needs, the supervisor of `run`
 * and the isolated runs of `profile --stage` alike: the ROUTER socket stages connect to,
 * and starting a stage executable. */
#ifndef VHS_STAGEPROC_H
#define VHS_STAGEPROC_H

#include <sys/types.h>

/* A ROUTER socket in zctx bound to endpoint, with the options every run uses (deep queues,
 * unroutable sends refused, no linger). Returns it, or NULL with errno set. */
void *vhs_stage_router(void *zctx, const char *endpoint);

/* Starts STAGE_DIR/vhs-stage-NAME --ctl ENDPOINT --instance N with every signal unblocked,
 * VHS_PARENT_PID set, and its stderr on stderr_fd (-1: inherited). Returns the pid or
 * -errno. A child that cannot exec says so on its stderr and exits with status 127
 * (VHS_CHILD_CANNOT_EXEC, lib/child.h). */
pid_t vhs_stage_spawn(const char *stage_dir, const char *name, const char *endpoint, int instance,
		      int stderr_fd);

#endif
