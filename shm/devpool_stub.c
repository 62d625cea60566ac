/* devpool_stub.c: devpool.h in a build without CUDA (make CUDA=0, or no nvcc): there is
 * no GPU edge, so opening one fails with -ENODEV and nothing else is ever reached. */
#include "devpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char s_why[] = "this build has no CUDA (make CUDA=0 or no nvcc)";

int vhs_devpool_available(char *why, size_t len)
{
	snprintf(why, len, "%s", s_why);
	return 0;
}

int vhs_devpool_can_export(char *why, size_t len)
{
	snprintf(why, len, "%s", s_why);
	return 0;
}

int vhs_devpool_open(struct vhs_devpool **out, struct vhs_ring *r, int exporter, size_t buf_bytes,
		     char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "%s", s_why);
	return -ENODEV;
}

int vhs_devpool_buffer(struct vhs_devpool *p, uint32_t slot, struct vhs_devbuf *b)
{
	return -ENODEV;
}

int vhs_devpool_begin_write(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return -ENODEV;
}

int vhs_devpool_end_write(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return -ENODEV;
}

int vhs_devpool_begin_read(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return -ENODEV;
}

int vhs_devpool_end_read(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return -ENODEV;
}

int vhs_devpool_download(struct vhs_devpool *p, uint32_t slot, void *dst, size_t bytes)
{
	return -ENODEV;
}

int vhs_devpool_copy_planes(struct vhs_devpool *p, uint32_t slot, int planes, const uint32_t *src_off,
			    const int32_t *src_ls, uint8_t *const *dst, const int *dst_ls,
			    const size_t *row_bytes, const int *rows)
{
	return -ENODEV;
}

void *vhs_devpool_host_alloc(size_t bytes)
{
	return malloc(bytes);
}

void vhs_devpool_host_free(void *ptr)
{
	free(ptr);
}

size_t vhs_devpool_bytes(const struct vhs_devpool *p)
{
	return 0;
}

const char *vhs_devpool_error(const struct vhs_devpool *p)
{
	return s_why;
}

void vhs_devpool_close(struct vhs_devpool **pp)
{
	*pp = NULL;
}
