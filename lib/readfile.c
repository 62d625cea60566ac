/* readfile.c: reading a small file whole (see readfile.h). */
#include "readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int vhs_read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	int ret = 0;

	*text = NULL;
	*len = 0;
	if (!f)
		return -errno;
	errno = 0;
	for (;;) {
		nb = realloc(buf, cap + 1); /* room for the NUL */
		if (!nb) {
			ret = -ENOMEM;
			break;
		}
		buf = nb;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
	}
	if (!ret && ferror(f))
		ret = errno ? -errno : -EIO;
	fclose(f);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}
