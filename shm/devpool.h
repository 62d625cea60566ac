/* devpool.h: the device buffers of a GPU edge, shared between stage processes by CUDA IPC.
 *
 * DESIGN
 * A GPU edge is an ordinary slot ring (ring.h) with VHS_RING_DEVICE set in its header.
 * Ownership is exactly a host ring's: the orchestrator grants slot s to its producer
 * worker, the producer fills it and sends FRAME, the consumer releases it (proto.h). Only
 * what a slot holds differs: not pixels but one 256-byte record naming a device buffer,
 * written once by the producer worker whose share the slot is (its exporter) and read by
 * every consumer that receives the slot. Layout of a record (native byte order):
 *
 *   offset  size  field
 *        0     4  magic        "VHSD"; 0 until exported
 *        4     4  pid          the exporting process
 *        8     8  bytes        the buffer's size, a multiple of 2 MiB
 *       16    64  mem          cudaIpcMemHandle_t of the buffer (one cudaMalloc of `bytes`)
 *       80    64  filled       cudaIpcEventHandle_t: the producer records it after its
 *                              last write to the buffer
 *      144    64  drained      cudaIpcEventHandle_t: a consumer records it after its last
 *                              read of the buffer
 *      208    48  zero
 *
 * Each buffer is its own cudaMalloc rounded up to 2 MiB, so no two share an allocation
 * (an IPC handle maps a whole allocation). Events are cudaEventInterprocess |
 * cudaEventDisableTiming. The exporter allocates and exports a slot's buffer the first
 * time it is granted that slot, before the FRAME naming it goes out; an importer opens the
 * handles the first time it receives the slot. The ZeroMQ hand-off orders the record's
 * writes before its reads, as it orders a host slot's pixels (ring.h).
 *
 * Device ordering without host waits: the producer's stream waits for `drained` before
 * writing and records `filled` after; the consumer's stream waits for `filled` before
 * reading and records `drained` after. cudaStreamWaitEvent waits for the most recent
 * record made before the call, and every record is made before the descriptor that
 * allows the other side's wait is sent, so each wait sees the record it needs.
 *
 * Lifetime: importers close their handles (cudaIpcCloseMemHandle) before the exporter
 * frees the buffers, because freeing an exported buffer that is still open elsewhere is
 * undefined. The stage runtime does it so: an exporter that has sent DONE (or was
 * stopped) waits for the orchestrator's DETACHED record, which comes once every consumer
 * process of the edge has exited.
 * When an exporter dies, the attempt ends (every stage stopped, importers close their
 * handles on the way out, rings removed); the next attempt makes new rings, a new
 * exporter exports new buffers, and the unfinished segments are replayed.
 *
 * Builds without CUDA (make CUDA=0) get the same functions from devpool_stub.c: open
 * fails with -ENODEV, so such a build never makes or joins a GPU edge.
 */
#ifndef VHS_DEVPOOL_H
#define VHS_DEVPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

#define VHS_DEVSLOT_SIZE 256             /* bytes of a GPU edge's ring slot (one record) */
#define VHS_DEVPOOL_ALIGN (2u << 20)     /* buffer sizes are multiples of this */
#define VHS_DEVSLOT_MAGIC 0x44534856u    /* "VHSD" little endian */

/* A slot's buffer as the calling process sees it. Streams and events are CUDA runtime
 * handles (cudaStream_t, cudaEvent_t) typed void * so this header needs no CUDA headers. */
struct vhs_devbuf {
	void *ptr;       /* device address in this process */
	size_t bytes;    /* usable bytes */
	void *filled;    /* event the producer records after writing */
	void *drained;   /* event a consumer records after reading */
};

struct vhs_devpool;

/* 1 when this build has CUDA and a device is usable; why says otherwise. */
int vhs_devpool_available(char *why, size_t len);

/* 1 when this process can export a buffer and an event by CUDA IPC (some virtualised or
 * sandboxed drivers cannot): one 2 MiB buffer and one event are made, exported and freed.
 * 0 with a reason in why otherwise. */
int vhs_devpool_can_export(char *why, size_t len);

/* Joins the GPU edge whose ring is r (mapped, VHS_RING_DEVICE set) as its exporter
 * (exporter = 1: the producer side, buffers of buf_bytes, rounded up to 2 MiB) or as an
 * importer. Nothing is allocated or opened until a slot is first used. Returns 0,
 * -ENODEV (no CUDA in this build, or no device) or -EINVAL, with a reason in err. */
int vhs_devpool_open(struct vhs_devpool **out, struct vhs_ring *r, int exporter, size_t buf_bytes,
		     char *err, size_t errlen);

/* Slot's buffer: the exporter allocates and exports it on first use, an importer opens
 * the exporter's handles on first use (-EPROTO if the record is not exported or names a
 * buffer smaller than the pool's). Returns 0 or a negative errno with a reason in
 * vhs_devpool_error(). */
int vhs_devpool_buffer(struct vhs_devpool *p, uint32_t slot, struct vhs_devbuf *b);

/* The orderings of the DESIGN note, enqueued on stream (NULL: the legacy default stream).
 * Producer: begin_write before the first write, end_write after the last. Consumer:
 * begin_read before the first read, end_read after the last. Return 0 or -EIO. */
int vhs_devpool_begin_write(struct vhs_devpool *p, uint32_t slot, void *stream);
int vhs_devpool_end_write(struct vhs_devpool *p, uint32_t slot, void *stream);
int vhs_devpool_begin_read(struct vhs_devpool *p, uint32_t slot, void *stream);
int vhs_devpool_end_read(struct vhs_devpool *p, uint32_t slot, void *stream);

/* Consumer: copies the first `bytes` of slot's buffer to host memory dst (begin_read,
 * one cudaMemcpyAsync, end_read) and waits for it. dst from vhs_devpool_host_alloc() is
 * pinned, so the copy is one DMA. Returns 0, -EINVAL (bytes past the buffer) or -EIO. */
int vhs_devpool_download(struct vhs_devpool *p, uint32_t slot, void *dst, size_t bytes);

/* Consumer: copies `planes` planes of slot's buffer into device memory of this process (a
 * hardware encoder's frame), ordered like a download and waited for: plane i is rows[i]
 * rows of row_bytes[i] bytes, read from src_off[i] with pitch src_ls[i] and written to
 * dst[i] with pitch dst_ls[i]. Returns 0, -EINVAL (a plane outside the buffer) or -EIO. */
int vhs_devpool_copy_planes(struct vhs_devpool *p, uint32_t slot, int planes, const uint32_t *src_off,
			    const int32_t *src_ls, uint8_t *const *dst, const int *dst_ls,
			    const size_t *row_bytes, const int *rows);

/* Page-locked host memory (cudaHostAlloc), or NULL. */
void *vhs_devpool_host_alloc(size_t bytes);
void vhs_devpool_host_free(void *ptr);

/* Device memory of the pool in this process: exported buffers (exporter) or opened ones
 * (importer), in bytes. */
size_t vhs_devpool_bytes(const struct vhs_devpool *p);

const char *vhs_devpool_error(const struct vhs_devpool *p);

/* Importer: closes every handle it opened. Exporter: frees every buffer and event (its
 * importers must have closed theirs). Callers first finish their own streams' work on the
 * pool's buffers (close waits only for the exporter's last `filled`). Sets *pp to NULL;
 * safe on a NULL pool. */
void vhs_devpool_close(struct vhs_devpool **pp);

#endif
