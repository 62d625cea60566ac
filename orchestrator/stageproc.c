/* stageproc.c: the stage processes' socket and start (see stageproc.h). */
#include "stageproc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "child.h"

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
	char *argv[] = { exe, "--ctl", (char *)endpoint, "--instance", inst, NULL };
	struct vhs_child_opts o = { .out_fd = -1, .err_fd = stderr_fd, .env_name = "VHS_PARENT_PID",
				    .env_value = parent };

	snprintf(exe, sizeof(exe), "%s/vhs-stage-%s", stage_dir, name);
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	snprintf(inst, sizeof(inst), "%d", instance);
	return vhs_child_spawn(argv, &o);
}
