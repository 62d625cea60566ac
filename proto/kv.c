/* kv.c: reading the CONFIG blob (see kv.h).
 *
 * DESIGN
 * The blob is text, one setting a line, written by vhs_job_to_kv():
 *
 *   <key> '=' <value> '\n'      key: "input", "encode.crf", "stages.decode.workers"
 *                               value: bytes up to the newline, "\\" for a backslash,
 *                               "\n" for a newline; any other backslash stands for itself
 *
 * Lookups scan the blob from the start and take the first line whose key matches
 * exactly (the text before the first '='), so "preset" never finds "encode.preset". The
 * blob is small (a few dozen lines) and read once per stage start, so there is no index.
 * Nothing here allocates; the caller's buffer receives the unescaped value.
 */
#include "kv.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The first byte of key's value in blob, or NULL if no line has that key. */
static const char *s_kv_find(const char *blob, const char *key)
{
	size_t n = strlen(key);
	const char *line = blob;

	while (line && *line) {
		if (!strncmp(line, key, n) && line[n] == '=')
			return line + n + 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

int vhs_kv_get(const char *blob, const char *key, char *buf, size_t buflen)
{
	const char *v;
	size_t n = 0;
	char c;

	if (!blob || !key || !*key)
		return -ENOENT;
	v = s_kv_find(blob, key);
	if (!v)
		return -ENOENT;
	for (; *v && *v != '\n'; v++) {
		c = *v;
		if (c == '\\' && (v[1] == '\\' || v[1] == 'n'))
			c = *++v == 'n' ? '\n' : '\\';
		if (n + 1 >= buflen || n >= INT_MAX)
			return -ENOSPC;
		buf[n++] = c;
	}
	if (buflen == 0)
		return -ENOSPC;
	buf[n] = '\0';
	return (int)n;
}

int vhs_kv_get_int(const char *blob, const char *key, long long *out)
{
	char buf[32], *end;
	long long v;
	int ret;

	ret = vhs_kv_get(blob, key, buf, sizeof(buf));
	if (ret == -ENOSPC)
		return -EINVAL;
	if (ret < 0)
		return ret;
	if (ret == 0 || !((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '-' || buf[0] == '+'))
		return -EINVAL;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (*end || errno)
		return -EINVAL;
	*out = v;
	return 0;
}
