/* suggest.h: "did you mean ...?" for a misspelt name: the closest of the known names by
 * optimal string alignment distance (edits and adjacent swaps), when it is close enough
 * (at most 2, and less than the word's length). */
#ifndef VHS_SUGGEST_H
#define VHS_SUGGEST_H

#include <stddef.h>

/* " (did you mean OPEN name CLOSE?)" for the closest of names[] (NULL-terminated), written
 * into buf; or "" when none is close enough. */
const char *vhs_suggest(const char *word, const char *const *names, const char *open,
			const char *close, char *buf, size_t len);

#endif
