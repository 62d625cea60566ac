/* analyze.c: running the whole-tape analyses (see analyze.h). */
#include "analyze.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "child.h"
#include "exitcode.h"

int vhs_analyze(const char *stage_dir, const char *what, const char *input, const char *out,
		char *line, size_t len)
{
	char exe[PATH_MAX + 32], flag[32];
	char *argv[] = { exe, flag, (char *)input, (char *)out, NULL };
	int status = 0;
	FILE *in;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/vhs-stage-decode", stage_dir);
	snprintf(flag, sizeof(flag), "--analyze-%s", what);
	pid = vhs_child_popen(argv, true, &in);
	if (pid < 0)
		return (int)pid;
	line[0] = '\0';
	if (!fgets(line, (int)len, in))
		snprintf(line, len, "error: the %s analysis said nothing", what);
	line[strcspn(line, "\n")] = '\0';
	fclose(in);
	if (vhs_child_wait(pid, &status))
		return -ECHILD;
	if (WIFSIGNALED(status))
		return -EINTR;
	return WEXITSTATUS(status) == VHS_CHILD_CANNOT_EXEC ? VHS_EXIT_INTERNAL : WEXITSTATUS(status);
}
