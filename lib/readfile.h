/* readfile.h: reading a small file whole into memory (a job file, an analysis). */
#ifndef VHS_READFILE_H
#define VHS_READFILE_H

#include <stddef.h>

/* Reads path into a malloc'd buffer, NUL-terminated (*len does not count the NUL). Returns
 * 0, or -errno (-ENOMEM; -EIO for a read error that set no errno) and leaves *text NULL. */
int vhs_read_file(const char *path, char **text, size_t *len);

#endif
