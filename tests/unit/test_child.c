/* test_child.c: starting programs in child processes (lib/child.h): a line read back through
 * the pipe, the exit status, the environment, stderr onto a descriptor, and a program that
 * cannot be run (its line where the parent listens, status 127). */
#include <criterion/criterion.h>

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

Test(child, popen_reads_the_line_and_the_status)
{
	char *argv[] = { "/bin/sh", "-c", "echo hello; exit 3", NULL };
	char line[64] = "";
	int status = -1;
	FILE *in;
	pid_t pid = vhs_child_popen(argv, true, &in);

	cr_assert_gt(pid, 0);
	cr_assert(fgets(line, sizeof(line), in));
	cr_assert_str_eq(line, "hello\n");
	fclose(in);
	cr_assert_eq(vhs_child_wait(pid, &status), 0);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 3);
}

Test(child, cannot_exec_says_so_on_the_pipe)
{
	char *argv[] = { "/nonexistent/program", NULL };
	char line[256] = "";
	int status = -1;
	FILE *in;
	pid_t pid = vhs_child_popen(argv, false, &in);

	cr_assert_gt(pid, 0);
	cr_assert(fgets(line, sizeof(line), in));
	cr_assert_str_eq(line, "cannot run /nonexistent/program: No such file or directory\n");
	fclose(in);
	cr_assert_eq(vhs_child_wait(pid, &status), 0);
	cr_assert_eq(WEXITSTATUS(status), VHS_CHILD_CANNOT_EXEC);
}

Test(child, spawn_sets_env_and_stderr)
{
	char *argv[] = { "/bin/sh", "-c", "echo \"v=$VHS_CHILD_TEST\" >&2", NULL };
	char buf[64] = "";
	int fds[2], status;
	struct vhs_child_opts o = { .out_fd = -1, .env_name = "VHS_CHILD_TEST", .env_value = "42" };
	pid_t pid;
	ssize_t n;

	cr_assert_eq(pipe(fds), 0);
	o.err_fd = fds[1];
	pid = vhs_child_spawn(argv, &o);
	close(fds[1]);
	cr_assert_gt(pid, 0);
	n = read(fds[0], buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "v=42\n");
	close(fds[0]);
	cr_assert_eq(vhs_child_wait(pid, &status), 0);
	cr_assert_eq(WEXITSTATUS(status), 0);
	cr_assert_null(getenv("VHS_CHILD_TEST"), "the parent's environment is untouched");
}

Test(child, spawn_cannot_exec_says_so_on_stderr)
{
	char *argv[] = { "/nonexistent/stage", NULL };
	char buf[128] = "";
	int fds[2], status;
	struct vhs_child_opts o = { .out_fd = -1 };
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	o.err_fd = fds[1];
	pid = vhs_child_spawn(argv, &o);
	close(fds[1]);
	cr_assert_gt(pid, 0);
	cr_assert_gt(read(fds[0], buf, sizeof(buf) - 1), 0);
	cr_assert_str_eq(buf, "cannot run /nonexistent/stage: No such file or directory\n");
	close(fds[0]);
	cr_assert_eq(vhs_child_wait(pid, &status), 0);
	cr_assert_eq(WEXITSTATUS(status), VHS_CHILD_CANNOT_EXEC);
}
