/* tempfile.c: the temp writer, io_uring with a pwrite fallback (see tempfile.h). */
#include "tempfile.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define ALIGN 4096

struct vhs_tempfile {
	int fd;                        /* the temp file */
	int dirfd;                     /* its directory, for renameat and the directory fsync */
	char *name;                    /* final name, in dirfd */
	char *tmp;                     /* temp name, in dirfd */
	bool uring;                    /* io_uring back end */
	bool fixed;                    /* buffers registered: WRITE_FIXED */
	struct io_uring ring;
	uint8_t *bufs;                 /* VHS_TEMP_BUFFERS x VHS_TEMP_BUFFER_SIZE, 4 KiB aligned */
	uint32_t pending[VHS_TEMP_BUFFERS]; /* bytes in flight from buffer i, 0 = free */
	uint64_t pending_at[VHS_TEMP_BUFFERS]; /* their file offset */
	int cur;                       /* buffer being filled */
	uint32_t fill;                 /* bytes in it */
	uint64_t offset;               /* file offset of its first byte */
	int err;                       /* first -errno met, sticky */
};

static uint8_t *s_buf(struct vhs_tempfile *tf, int i)
{
	return tf->bufs + (size_t)i * VHS_TEMP_BUFFER_SIZE;
}

/* Writes len bytes at off with pwrite, to the end or the first error. */
static int s_pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Reaps one io_uring completion; a short write is finished with pwrite, which then
 * reports the real error (ENOSPC) if there is one. */
static int s_reap(struct vhs_tempfile *tf)
{
	struct io_uring_cqe *cqe;
	int ret, i;

	while ((ret = io_uring_wait_cqe(&tf->ring, &cqe)) == -EINTR)
		;
	if (ret < 0)
		return ret;
	i = (int)io_uring_cqe_get_data64(cqe);
	ret = cqe->res;
	io_uring_cqe_seen(&tf->ring, cqe);
	if (ret >= 0 && (uint32_t)ret < tf->pending[i])
		ret = s_pwrite_all(tf->fd, s_buf(tf, i) + ret, tf->pending[i] - (uint32_t)ret,
				   tf->pending_at[i] + (uint64_t)ret);
	tf->pending[i] = 0;
	if (ret < 0 && !tf->err)
		tf->err = ret;
	return 0;
}

/* Starts writing the current buffer and moves to the next free one. */
static int s_flush_current(struct vhs_tempfile *tf)
{
	struct io_uring_sqe *sqe;
	int i = tf->cur, ret = 0;

	if (!tf->fill)
		return tf->err;
	if (!tf->uring) {
		ret = s_pwrite_all(tf->fd, s_buf(tf, i), tf->fill, tf->offset);
		tf->err = tf->err ? tf->err : ret;
	} else {
		sqe = io_uring_get_sqe(&tf->ring);
		if (!sqe)
			return -EBUSY; /* cannot happen: at most VHS_TEMP_BUFFERS in flight */
		if (tf->fixed)
			io_uring_prep_write_fixed(sqe, tf->fd, s_buf(tf, i), tf->fill, tf->offset, i);
		else
			io_uring_prep_write(sqe, tf->fd, s_buf(tf, i), tf->fill, tf->offset);
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		tf->pending[i] = tf->fill;
		tf->pending_at[i] = tf->offset;
		ret = io_uring_submit(&tf->ring);
		if (ret < 0)
			return tf->err = ret;
		ret = 0;
		tf->cur = (i + 1) % VHS_TEMP_BUFFERS;
	}
	tf->offset += tf->fill;
	tf->fill = 0;
	while (tf->uring && tf->pending[tf->cur] && !ret)
		ret = s_reap(tf);
	return ret ? ret : tf->err;
}

static int s_drain(struct vhs_tempfile *tf)
{
	int ret = s_flush_current(tf);

	for (int i = 0; tf->uring && i < VHS_TEMP_BUFFERS; i++)
		while (tf->pending[i] && !ret)
			ret = s_reap(tf);
	return ret ? ret : tf->err;
}

static bool s_want_uring(void)
{
	const char *v = getenv("VHS_NO_IO_URING");

	return !(v && *v && strcmp(v, "0"));
}

static void s_setup_uring(struct vhs_tempfile *tf)
{
	struct iovec iov[VHS_TEMP_BUFFERS];

	if (!s_want_uring() || io_uring_queue_init(VHS_TEMP_BUFFERS * 2, &tf->ring, 0) < 0)
		return; /* EPERM, ENOSYS: the pwrite back end */
	tf->uring = true;
	for (int i = 0; i < VHS_TEMP_BUFFERS; i++)
		iov[i] = (struct iovec){ s_buf(tf, i), VHS_TEMP_BUFFER_SIZE };
	tf->fixed = io_uring_register_buffers(&tf->ring, iov, VHS_TEMP_BUFFERS) == 0;
}

static void s_free(struct vhs_tempfile *tf)
{
	if (tf->uring)
		io_uring_queue_exit(&tf->ring);
	if (tf->fd >= 0)
		close(tf->fd);
	if (tf->dirfd >= 0)
		close(tf->dirfd);
	free(tf->bufs);
	free(tf->name);
	free(tf->tmp);
	free(tf);
}

/* Opens DIR (for renameat and its fsync) and creates DIR/.NAME.XXXXXX in it. */
static int s_create(struct vhs_tempfile *tf, const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 16;
	char *path = malloc(n);

	if (!path)
		return -ENOMEM;
	tf->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tf->dirfd < 0)
		goto out_errno;
	snprintf(path, n, "%s/.%s.XXXXXX", dir, name);
	tf->fd = mkostemp(path, O_CLOEXEC);
	if (tf->fd < 0)
		goto out_errno;
	tf->tmp = strdup(strrchr(path, '/') + 1);
	tf->name = strdup(name);
	free(path);
	return tf->tmp && tf->name ? 0 : -ENOMEM;

out_errno:
	free(path);
	return -errno;
}

int vhs_tempfile_open(struct vhs_tempfile **out, const char *dir, const char *name)
{
	struct vhs_tempfile *tf = calloc(1, sizeof(*tf));
	int ret;

	*out = NULL;
	if (!tf)
		return -ENOMEM;
	tf->fd = tf->dirfd = -1;
	if (!*name || strchr(name, '/')) {
		free(tf);
		return -EINVAL;
	}
	ret = posix_memalign((void **)&tf->bufs, ALIGN, (size_t)VHS_TEMP_BUFFERS * VHS_TEMP_BUFFER_SIZE);
	if (ret) {
		tf->bufs = NULL;
		s_free(tf);
		return -ret;
	}
	ret = s_create(tf, dir, name);
	if (ret) {
		vhs_tempfile_abort(&tf);
		return ret;
	}
	s_setup_uring(tf);
	*out = tf;
	return 0;
}

int vhs_tempfile_write(struct vhs_tempfile *tf, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int ret = tf->err;

	while (len && !ret) {
		uint32_t n = VHS_TEMP_BUFFER_SIZE - tf->fill;

		n = len < n ? (uint32_t)len : n;
		memcpy(s_buf(tf, tf->cur) + tf->fill, p, n);
		tf->fill += n;
		p += n;
		len -= n;
		if (tf->fill == VHS_TEMP_BUFFER_SIZE)
			ret = s_flush_current(tf);
	}
	return ret;
}

int vhs_tempfile_commit(struct vhs_tempfile **ptf)
{
	struct vhs_tempfile *tf = *ptf;
	int ret = s_drain(tf);

	if (!ret && fsync(tf->fd))
		ret = -errno;
	if (!ret && renameat(tf->dirfd, tf->tmp, tf->dirfd, tf->name))
		ret = -errno;
	if (ret) {
		vhs_tempfile_abort(ptf);
		return ret;
	}
	if (fsync(tf->dirfd)) /* the rename itself must survive a crash */
		ret = -errno;
	s_free(tf);
	*ptf = NULL;
	return ret;
}

void vhs_tempfile_abort(struct vhs_tempfile **ptf)
{
	struct vhs_tempfile *tf = *ptf;

	if (!tf)
		return;
	for (int i = 0; tf->uring && i < VHS_TEMP_BUFFERS; i++)
		while (tf->pending[i] && s_reap(tf) == 0)
			; /* the kernel must be done with the buffers before they are freed */
	if (tf->dirfd >= 0 && tf->tmp)
		unlinkat(tf->dirfd, tf->tmp, 0);
	s_free(tf);
	*ptf = NULL;
}

const char *vhs_tempfile_backend(const struct vhs_tempfile *tf)
{
	return tf->uring ? "io_uring" : "pwrite";
}

uint64_t vhs_tempfile_size(const struct vhs_tempfile *tf)
{
	return tf->offset + tf->fill;
}

int vhs_tempfile_put(const char *dir, const char *name, const void *buf, size_t len)
{
	struct vhs_tempfile *tf;
	int ret = vhs_tempfile_open(&tf, dir, name);

	if (ret)
		return ret;
	ret = vhs_tempfile_write(tf, buf, len);
	if (ret) {
		vhs_tempfile_abort(&tf);
		return ret;
	}
	return vhs_tempfile_commit(&tf);
}

int vhs_tempfile_put_path(const char *path, const void *buf, size_t len)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return vhs_tempfile_put(".", path, buf, len);
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return vhs_tempfile_put(slash == path ? "/" : dir, slash + 1, buf, len);
}
