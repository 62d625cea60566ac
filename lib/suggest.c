/* suggest.c: the closest known name to a misspelt one (see suggest.h). */
#include "suggest.h"

#include <stdio.h>
#include <string.h>

static size_t s_min3(size_t a, size_t b, size_t c)
{
	return a < b ? (a < c ? a : c) : (b < c ? b : c);
}

/* Optimal string alignment distance (edits and adjacent swaps); large for long words. */
static size_t s_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[33][33];

	if (la > 32 || lb > 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			d[i][j] = s_min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
					 d[i - 1][j - 1] + (a[i - 1] != b[j - 1]));
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

const char *vhs_suggest(const char *word, const char *const *names, const char *open,
			const char *close, char *buf, size_t len)
{
	const char *best = NULL;
	size_t bestd = 99, d;

	for (; *names; names++) {
		d = s_distance(word, *names);
		if (d <= 2 && d < strlen(word) && d < bestd) {
			best = *names;
			bestd = d;
		}
	}
	if (!best)
		return "";
	snprintf(buf, len, " (did you mean %s%s%s?)", open, best, close);
	return buf;
}
