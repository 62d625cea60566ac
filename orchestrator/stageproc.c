/* stageproc.c: the stage processes' socket and start (see stageproc.h). */
#include "stageproc.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

void *vhs_stage_router(void *zctx, const char *endpoint)
{
	int hwm = 100000, mandatory = 1, linger = 0, err;
	void *router = zmq_socket(zctx, ZMQ_ROUTER);

	if (!router)
		return NULL;
	zmq_setsockopt(router, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(router, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(router, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof(mandatory));
	zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(router, endpoint) == 0)
		return router;
	err = errno;
	zmq_close(router);
	errno = err;
	return NULL;
}

pid_t vhs_stage_spawn(const char *stage_dir, const char *name, const char *endpoint, int instance,
		      int stderr_fd)
{
	char exe[PATH_MAX], parent[32], inst[16];
	sigset_t none;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/vhs-stage-%s", stage_dir, name);
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	snprintf(inst, sizeof(inst), "%d", instance);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (stderr_fd >= 0)
			dup2(stderr_fd, STDERR_FILENO);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setenv("VHS_PARENT_PID", parent, 1);
		execl(exe, exe, "--ctl", endpoint, "--instance", inst, (char *)NULL);
		fprintf(stderr, "vhs-orchestrate: error: cannot start %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	return pid;
}
