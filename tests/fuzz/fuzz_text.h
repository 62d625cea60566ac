/* fuzz_text.h: the fuzz targets' input as a C string (a copy with a NUL after it), for the
 * readers that take text. */
#ifndef VHS_FUZZ_TEXT_H
#define VHS_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A malloc'd copy of data with a NUL after it, or NULL. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
	}
	return text;
}

#endif
