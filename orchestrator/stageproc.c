/* stageproc.c: the session, the stage processes' socket, start and end (see stageproc.h). */
#include "stageproc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/un.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "child.h"
#include "dirs.h"

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

/* Removes run dirs of orchestrators that died without cleaning up (vhs-run.<pid>.*). */
static void s_sweep_run_dirs(const char *tmp)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(tmp);
	long pid;

	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, "vhs-run.%ld.", &pid) != 1 || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		vhs_empty_dir(path); /* its socket and logs */
		rmdir(path);
	}
	if (d)
		closedir(d);
}

int vhs_session_open(struct vhs_session *s)
{
	const char *tmp = getenv("TMPDIR");
	sigset_t set;

	*s = (struct vhs_session){ .sigfd = -1 };
	tmp = tmp && *tmp ? tmp : "/tmp";
	/* the stages' control socket lives in the run dir, and a Unix socket's path holds at most
	 * 107 bytes: a TMPDIR too deep for "TMPDIR/vhs-run.PID.XXXXXX/ctl" is passed over */
	if (strlen(tmp) + sizeof("/vhs-run.4294967295.XXXXXX/ctl") > sizeof(((struct sockaddr_un *)0)->sun_path))
		tmp = "/tmp";
	s_sweep_run_dirs(tmp);
	snprintf(s->run_dir, sizeof(s->run_dir), "%s/vhs-run.%ld.XXXXXX", tmp, (long)getpid());
	if (!mkdtemp(s->run_dir)) { /* mode 0700 */
		s->run_dir[0] = '\0';
		return -errno;
	}
	snprintf(s->endpoint, sizeof(s->endpoint), "ipc://%s/ctl", s->run_dir);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0)
		return -errno;
	s->zctx = zmq_ctx_new();
	return s->zctx ? 0 : -errno;
}

void vhs_session_close(struct vhs_session *s)
{
	char path[PATH_MAX + 16];

	if (s->zctx)
		zmq_ctx_term(s->zctx);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->run_dir[0]) {
		snprintf(path, sizeof(path), "%s/ctl", s->run_dir);
		unlink(path);
		rmdir(s->run_dir);
	}
	*s = (struct vhs_session){ .sigfd = -1 };
}

void vhs_reap(void (*on_exit)(void *ctx, pid_t pid, int status, const struct rusage *ru), void *ctx)
{
	struct rusage ru;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0)
		on_exit(ctx, pid, status, &ru);
}
