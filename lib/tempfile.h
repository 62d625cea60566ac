/* tempfile.h: the temp writer. Every temp file (encoded segments, audio spool, profiling
 * spools, the manifest) is written through it, so that a crash never leaves a half file
 * under a final name.
 *
 * DESIGN
 * A temp file is written under a hidden name beside its final name, `DIR/.NAME.XXXXXX`,
 * appended to sequentially, and on commit drained, fsynced, renamed to `DIR/NAME` and the
 * directory fsynced: the final name either does not exist or holds the whole file. Abort
 * (or a crash, swept later) leaves no final name.
 *
 * Two back ends, chosen once per file at open:
 *   io_uring  liburing with VHS_TEMP_BUFFERS registered buffers of VHS_TEMP_BUFFER_SIZE
 *             bytes. write() copies into the current buffer; a full buffer is submitted as
 *             IORING_OP_WRITE_FIXED at its file offset and the writer moves on to the next,
 *             waiting for a completion only when every buffer is in flight. So the caller
 *             overlaps its work with up to VHS_TEMP_BUFFERS writes.
 *   pwrite    the same buffering with plain pwrite(2), used when io_uring is unavailable
 *             (io_uring_queue_init fails: EPERM or ENOSYS in containers and on hardened
 *             kernels) or when VHS_NO_IO_URING=1.
 * A failed write (ENOSPC, EIO, EFBIG) is remembered and returned by every later call; the
 * caller aborts the file.
 */
#ifndef VHS_TEMPFILE_H
#define VHS_TEMPFILE_H

#include <stddef.h>
#include <stdint.h>

#define VHS_TEMP_BUFFERS 4
#define VHS_TEMP_BUFFER_SIZE (1u << 20)

struct vhs_tempfile;

/* Creates DIR/.NAME.XXXXXX for writing. Returns 0 or -errno. */
int vhs_tempfile_open(struct vhs_tempfile **tf, const char *dir, const char *name);

/* Appends len bytes. Returns 0 or the first -errno any write of this file met. */
int vhs_tempfile_write(struct vhs_tempfile *tf, const void *buf, size_t len);

/* Writes what is buffered, waits for every write, fsyncs, renames to DIR/NAME, fsyncs DIR,
 * and frees tf (also on failure, after removing the temp name). Returns 0 or -errno. */
int vhs_tempfile_commit(struct vhs_tempfile **tf);

/* Removes the temp name and frees tf; safe on NULL. */
void vhs_tempfile_abort(struct vhs_tempfile **tf);

/* "io_uring" or "pwrite". */
const char *vhs_tempfile_backend(const struct vhs_tempfile *tf);

/* Bytes appended so far. */
uint64_t vhs_tempfile_size(const struct vhs_tempfile *tf);

/* Writes a whole small file (the manifest) through a temp file: open, write, commit. */
int vhs_tempfile_put(const char *dir, const char *name, const void *buf, size_t len);

/* The same for a path: DIR/NAME, or NAME in the current directory. */
int vhs_tempfile_put_path(const char *path, const void *buf, size_t len);

#endif
