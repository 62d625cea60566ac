/* kv.h: reading the CONFIG blob, "section.key=value\n" lines written by vhs_job_to_kv().
 *
 * Values escape backslash as \\ and newline as \n; vhs_kv_get() undoes that. A stage never
 * parses the job file itself: the orchestrator resolves it once and sends this blob.
 */
#ifndef VHS_KV_H
#define VHS_KV_H

#include <stddef.h>

/* Copies the unescaped value of key into buf (NUL-terminated). Returns the value's length,
 * -ENOENT if the key is absent, -ENOSPC if buf is too small. */
int vhs_kv_get(const char *blob, const char *key, char *buf, size_t buflen);

/* Like vhs_kv_get for an integer value; returns 0 and sets *out, or -ENOENT / -EINVAL. */
int vhs_kv_get_int(const char *blob, const char *key, long long *out);

#endif
