/* analyze.c: running the whole-tape analyses (see analyze.h). */
#include "analyze.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

char *vhs_read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size < (1 << 24) &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
		if (fread(text, 1, (size_t)size, f) == (size_t)size) {
			text[size] = '\0';
		} else {
			free(text);
			text = NULL;
			errno = EIO;
		}
	}
	fclose(f);
	return text;
}
