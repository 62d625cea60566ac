/* child.c: starting programs in child processes (see child.h). */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: set up as o says and exec; never returns. */
static void s_exec(char *const argv[], const struct vhs_child_opts *o, pid_t parent)
{
	sigset_t none;
	int say = o->out_fd >= 0 ? o->out_fd : STDERR_FILENO;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (o->die_with_parent) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) /* it died before the line above */
			_exit(VHS_CHILD_CANNOT_EXEC);
	}
	if (o->out_fd >= 0 && o->out_fd != STDOUT_FILENO) {
		dup2(o->out_fd, STDOUT_FILENO);
		close(o->out_fd);
		say = STDOUT_FILENO;
	}
	if (o->err_fd >= 0 && o->err_fd != STDERR_FILENO) {
		dup2(o->err_fd, STDERR_FILENO);
		close(o->err_fd);
	}
	if (o->env_name)
		setenv(o->env_name, o->env_value, 1);
	execv(argv[0], argv);
	dprintf(say, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(VHS_CHILD_CANNOT_EXEC);
}

pid_t vhs_child_spawn(char *const argv[], const struct vhs_child_opts *o)
{
	pid_t parent = getpid(), pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		s_exec(argv, o, parent);
	return pid;
}

pid_t vhs_child_popen(char *const argv[], bool die_with_parent, FILE **out)
{
	struct vhs_child_opts o = { .out_fd = -1, .err_fd = -1, .die_with_parent = die_with_parent };
	int fds[2], status, err;
	pid_t pid;

	*out = NULL;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	o.out_fd = fds[1];
	pid = vhs_child_spawn(argv, &o);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return pid;
	}
	*out = fdopen(fds[0], "r");
	if (!*out) {
		err = errno;
		close(fds[0]);
		kill(pid, SIGKILL);
		vhs_child_wait(pid, &status);
		return -err;
	}
	return pid;
}

int vhs_child_wait(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}
