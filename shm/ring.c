/* ring.c: create, map and remove shared-memory slot rings (layout in ring.h). */
#include "ring.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

struct ring_header {
	uint32_t magic;
	uint16_t version;
	uint16_t header_size;
	uint32_t slot_count;
	uint32_t flags;
	uint64_t slot_size;
	uint64_t slots_offset;
	char format[VHS_RING_FORMAT_LEN];
};
_Static_assert(sizeof(struct ring_header) == VHS_RING_HEADER, "ring header is 64 bytes");

static size_t s_align(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

size_t vhs_ring_bytes(uint32_t slot_count, size_t slot_size)
{
	return s_align(VHS_RING_HEADER, PAGE) + (size_t)slot_count * s_align(slot_size, VHS_RING_ALIGN);
}

static int s_map(struct vhs_ring *r, int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	r->base = p;
	r->map_size = size;
	return 0;
}

int vhs_ring_create(struct vhs_ring *r, const char *name, uint32_t slot_count,
		    size_t slot_size, const char *format)
{
	struct ring_header *h;
	size_t size;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	if (slot_count == 0 || slot_size == 0 || strlen(name) >= sizeof(r->name))
		return -EINVAL;
	slot_size = s_align(slot_size, VHS_RING_ALIGN);
	size = vhs_ring_bytes(slot_count, slot_size);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	/* fallocate, unlike ftruncate, reserves the pages now: a full /dev/shm fails here
	 * with ENOSPC instead of SIGBUS in whichever process touches a slot first. */
	ret = posix_fallocate(fd, 0, (off_t)size);
	if (ret)
		goto out_unlink;
	ret = -s_map(r, fd, size);
	if (ret)
		goto out_unlink;
	close(fd);
	h = (struct ring_header *)r->base;
	h->magic = VHS_RING_MAGIC;
	h->version = VHS_RING_VERSION;
	h->header_size = VHS_RING_HEADER;
	h->slot_count = slot_count;
	h->slot_size = slot_size;
	h->slots_offset = s_align(VHS_RING_HEADER, PAGE);
	snprintf(h->format, sizeof(h->format), "%s", format ? format : "");
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->slot_count = slot_count;
	r->slot_size = slot_size;
	r->slots_offset = h->slots_offset;
	return 0;

out_unlink:
	close(fd);
	shm_unlink(name);
	return -ret;
}

/* A header another process wrote: every slot must lie inside the object, after the
 * header, aligned, with no arithmetic wrapping on the way. */
static bool s_header_ok(const struct ring_header *h, uint64_t size)
{
	if (h->magic != VHS_RING_MAGIC || h->version != VHS_RING_VERSION || h->slot_count == 0 ||
	    (h->flags & ~VHS_RING_DEVICE) ||
	    h->slot_size == 0 || h->slot_size % VHS_RING_ALIGN || h->slots_offset % PAGE ||
	    h->slots_offset < VHS_RING_HEADER || h->slots_offset > size)
		return false;
	return h->slot_size <= (size - h->slots_offset) / h->slot_count;
}

int vhs_ring_open(struct vhs_ring *r, const char *name)
{
	struct ring_header h;
	struct stat st;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	if (strlen(name) >= sizeof(r->name))
		return -EINVAL;
	fd = shm_open(name, O_RDWR, 0);
	if (fd < 0)
		return -errno;
	ret = fstat(fd, &st) ? -errno : 0;
	if (!ret && (size_t)st.st_size < sizeof(h))
		ret = -EPROTO;
	if (!ret && pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		ret = -EPROTO;
	if (!ret && !s_header_ok(&h, (uint64_t)st.st_size))
		ret = -EPROTO;
	if (!ret)
		ret = s_map(r, fd, (size_t)st.st_size);
	close(fd);
	if (ret)
		return ret;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->slot_count = h.slot_count;
	r->slot_size = h.slot_size;
	r->slots_offset = h.slots_offset;
	r->flags = h.flags;
	return 0;
}

void vhs_ring_set_flags(struct vhs_ring *r, uint32_t flags)
{
	((struct ring_header *)r->base)->flags = flags;
	r->flags = flags;
}

void vhs_ring_close(struct vhs_ring *r)
{
	if (r->base)
		munmap(r->base, r->map_size);
	r->base = NULL;
	r->map_size = 0;
}

int vhs_ring_unlink(const char *name)
{
	return shm_unlink(name) ? -errno : 0;
}

uint8_t *vhs_ring_slot(const struct vhs_ring *r, uint32_t i)
{
	assert(r->base && i < r->slot_count);
	return r->base + r->slots_offset + (size_t)i * r->slot_size;
}

int vhs_ring_sweep_stale(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	char name[300];
	int removed = 0;
	long pid;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "vhs-%ld-", &pid) != 1 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(name, sizeof(name), "/%s", e->d_name);
		if (shm_unlink(name) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
