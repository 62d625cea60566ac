/* ring.h: a shared-memory slot ring, the data plane of one pipeline edge.
 *
 * DESIGN
 * One POSIX shared-memory object per edge, created (mode 0600) and finally unlinked by
 * the orchestrator, mapped by the edge's producer and consumer. It holds N fixed-size
 * slots, each big enough for the largest frame on the edge. Layout, byte by byte
 * (native byte order: the object never leaves this machine):
 *
 *   offset  size  field
 *        0     4  magic        "VHSR"
 *        4     2  version      1
 *        6     2  header_size  64
 *        8     4  slot_count   N
 *       12     4  flags        VHS_RING_DEVICE: slots hold device-buffer records (devpool.h)
 *       16     8  slot_size    bytes per slot, a multiple of 64
 *       24     8  slots_offset byte offset of slot 0, a multiple of 4096
 *       32    32  format       NUL-terminated text, e.g. "video yuv411p 720x480"
 *       64   ...  zero padding up to slots_offset
 *   slots_offset + i * slot_size: slot i, 64-byte aligned (page aligned when slot_size is)
 *
 * Nothing in the ring is ever written by two processes at once, so it has no atomics:
 * a slot belongs to exactly one process at a time and ownership moves only by a
 * descriptor through the orchestrator (GRANT, FRAME/AUDIO, RELEASE; proto/proto.h).
 * The ordering pair is the ZeroMQ hand-off itself: a producer's stores to a slot happen
 * before its send() of the FRAME record (a system call), the consumer's loads after its
 * recv() of the forwarded record; the kernel's socket round trip orders them (R0 pairs
 * with A1 through the socket, not through this memory).
 */
#ifndef VHS_RING_H
#define VHS_RING_H

#include <stddef.h>
#include <stdint.h>

#define VHS_RING_MAGIC 0x52534856u /* "VHSR" little endian */
#define VHS_RING_VERSION 1
#define VHS_RING_HEADER 64
#define VHS_RING_ALIGN 64
#define VHS_RING_FORMAT_LEN 32
#define VHS_RING_DEVICE 0x1u /* flags: a GPU edge; slots name device buffers (devpool.h) */

struct vhs_ring {
	char name[48];        /* shm object name, "/vhs-<pid>-<edge>" */
	uint8_t *base;        /* mapping of the whole object; NULL when closed */
	size_t map_size;      /* bytes mapped */
	uint32_t slot_count;  /* N */
	size_t slot_size;     /* bytes per slot */
	size_t slots_offset;  /* offset of slot 0 */
	uint32_t flags;       /* VHS_RING_* */
};

/* Creates and maps a new ring (O_EXCL: fails with -EEXIST if the name is taken).
 * slot_size is rounded up to a multiple of VHS_RING_ALIGN. Returns 0 or -errno. */
int vhs_ring_create(struct vhs_ring *r, const char *name, uint32_t slot_count,
		    size_t slot_size, const char *format);

/* Sets the header's flags (VHS_RING_*): the creator, before any other process maps it. */
void vhs_ring_set_flags(struct vhs_ring *r, uint32_t flags);

/* Maps an existing ring and checks its header. Returns 0, -errno, or -EPROTO for a
 * header that is not a ring of this version. */
int vhs_ring_open(struct vhs_ring *r, const char *name);

/* Unmaps; safe on a closed or zeroed ring. Does not unlink. */
void vhs_ring_close(struct vhs_ring *r);

/* Removes the shm object name. Returns 0 or -errno (-ENOENT if already gone). */
int vhs_ring_unlink(const char *name);

/* Address of slot i; i must be < slot_count (asserted). */
uint8_t *vhs_ring_slot(const struct vhs_ring *r, uint32_t i);

/* Total bytes a ring of this shape occupies (for memory budgets). */
size_t vhs_ring_bytes(uint32_t slot_count, size_t slot_size);

/* Unlinks /dev/shm/vhs-<pid>-* objects left by orchestrators that no longer run.
 * Returns the number removed. */
int vhs_ring_sweep_stale(void);

#endif
