/* child.h: starting a program in a child process, and reading what it prints: the one
 * fork/exec of the project (stage processes, `check`'s probe, the audio analysis).
 *
 * A child that cannot exec its program writes one line "cannot run PATH: REASON" where its
 * parent listens (its stdout when that is a pipe the parent reads, else its stderr) and exits
 * with VHS_CHILD_CANNOT_EXEC.
 */
#ifndef VHS_CHILD_H
#define VHS_CHILD_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define VHS_CHILD_CANNOT_EXEC 127

struct vhs_child_opts {
	int out_fd;                        /* the child's stdout, or -1: inherited */
	int err_fd;                        /* the child's stderr, or -1: inherited */
	bool die_with_parent;              /* SIGKILL when the parent dies (PR_SET_PDEATHSIG) */
	const char *env_name, *env_value;  /* set in the child's environment when env_name */
};

/* Starts argv[0] (a path) with argv in a child with every signal unblocked, as o says.
 * Returns the child's pid, or -errno when it cannot fork. */
pid_t vhs_child_spawn(char *const argv[], const struct vhs_child_opts *o);

/* As vhs_child_spawn(), the child's stdout a pipe read through *out (close it with fclose
 * before vhs_child_wait). Returns the pid or -errno. */
pid_t vhs_child_popen(char *const argv[], bool die_with_parent, FILE **out);

/* Waits for pid, through EINTR, and gives its wait status. Returns 0 or -errno. */
int vhs_child_wait(pid_t pid, int *status);

#endif
