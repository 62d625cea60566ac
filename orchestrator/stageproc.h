/* stageproc.h: what every orchestrator of stage processes needs, the supervisor of `run`
 * (supervisor.c) and the isolated runs of `profile --stage` (replay.c) alike: the session
 * (run dir, signals, ZeroMQ context), the ROUTER socket stages connect to, starting a stage
 * executable, and reaping the processes that ended. */
#ifndef VHS_STAGEPROC_H
#define VHS_STAGEPROC_H

#include <limits.h>
#include <sys/resource.h>
#include <sys/types.h>

struct vhs_session {
	char run_dir[PATH_MAX];        /* TMPDIR/vhs-run.PID.XXXXXX, mode 0700: socket and logs */
	char endpoint[PATH_MAX + 16];  /* ipc://RUN_DIR/ctl */
	int sigfd;                     /* SIGCHLD, SIGINT, SIGTERM and SIGHUP, blocked, read here */
	void *zctx;
};

/* Removes the run dirs of orchestrators that died without cleaning up, then makes this
 * one's, blocks the signals for the signalfd, and makes the ZeroMQ context. Returns 0 or
 * -errno; vhs_session_close() undoes what was done either way. */
int vhs_session_open(struct vhs_session *s);

/* The ZeroMQ context ended, the signalfd closed, the socket file and the run dir removed
 * (whatever else the run dir holds must be gone first). */
void vhs_session_close(struct vhs_session *s);

/* Reaps every child that has ended, without waiting: on_exit(ctx, pid, status, rusage) for
 * each. */
void vhs_reap(void (*on_exit)(void *ctx, pid_t pid, int status, const struct rusage *ru), void *ctx);

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
