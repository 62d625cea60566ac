/* test_tempfile.c: the temp writer (lib/tempfile.c), on both back ends.
 *
 * Every test runs twice in spirit: once with io_uring (skipped, with the reason, where the
 * kernel refuses io_uring) and once with VHS_NO_IO_URING=1 (pwrite). Covered: contents
 * read back byte for byte over many buffer boundaries, the final name appears only on
 * commit, abort leaves nothing, a write error (EFBIG from RLIMIT_FSIZE, always; ENOSPC on a
 * 1 MiB tmpfs where mounting is permitted) is reported and leaves no final name.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tempfile.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vhs-test-tempfile.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

/* Entries in dir (hidden ones too), "." and ".." excluded. */
static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static bool uring_available(void)
{
	struct io_uring ring;

	if (io_uring_queue_init(2, &ring, 0) < 0)
		return false;
	io_uring_queue_exit(&ring);
	return true;
}

static void use_backend(const char *backend)
{
	if (!strcmp(backend, "pwrite")) {
		setenv("VHS_NO_IO_URING", "1", 1);
		return;
	}
	unsetenv("VHS_NO_IO_URING");
	if (!uring_available())
		cr_skip_test("io_uring is not available on this kernel (io_uring_queue_init failed)");
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

/* Writes `total` bytes in odd-sized chunks, commits, and reads them back. */
static void roundtrip(const char *backend, size_t total)
{
	struct vhs_tempfile *tf;
	uint8_t *data = malloc(total), *back = malloc(total + 1);
	char path[512];
	size_t at = 0, chunk = 1;
	int fd;

	use_backend(backend);
	make_dir();
	for (size_t i = 0; i < total; i++)
		data[i] = pattern(i);
	cr_assert_eq(vhs_tempfile_open(&tf, dir, "seg.mkv"), 0);
	cr_assert_str_eq(vhs_tempfile_backend(tf), backend);
	while (at < total) {
		size_t n = chunk < total - at ? chunk : total - at;

		cr_assert_eq(vhs_tempfile_write(tf, data + at, n), 0);
		at += n;
		chunk = chunk * 7 % 3000007 + 1; /* 1 byte to ~3 MB: crosses every boundary */
	}
	cr_assert_eq(vhs_tempfile_size(tf), total);
	snprintf(path, sizeof(path), "%s/seg.mkv", dir);
	cr_assert_eq(access(path, F_OK), -1, "final name exists before commit");
	cr_assert_eq(vhs_tempfile_commit(&tf), 0);
	cr_assert_null(tf);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, back, total + 1), (ssize_t)total);
	close(fd);
	cr_assert_eq(memcmp(data, back, total), 0, "contents differ");
	cr_assert_eq(count_entries(), 1, "temp name left behind");
	remove_dir();
	free(data);
	free(back);
}

Test(tempfile, roundtrip_io_uring) { roundtrip("io_uring", 11u * 1024 * 1024 + 12345); }
Test(tempfile, roundtrip_pwrite) { roundtrip("pwrite", 11u * 1024 * 1024 + 12345); }
Test(tempfile, empty_file_pwrite) { roundtrip("pwrite", 0); }
Test(tempfile, empty_file_io_uring) { roundtrip("io_uring", 0); }

static void abort_leaves_nothing(const char *backend)
{
	struct vhs_tempfile *tf;
	static uint8_t block[300000];

	use_backend(backend);
	make_dir();
	cr_assert_eq(vhs_tempfile_open(&tf, dir, "seg.mkv"), 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(vhs_tempfile_write(tf, block, sizeof(block)), 0);
	vhs_tempfile_abort(&tf);
	cr_assert_null(tf);
	cr_assert_eq(count_entries(), 0);
	remove_dir();
}

Test(tempfile, abort_io_uring) { abort_leaves_nothing("io_uring"); }
Test(tempfile, abort_pwrite) { abort_leaves_nothing("pwrite"); }

Test(tempfile, refuses_bad_names)
{
	struct vhs_tempfile *tf;

	cr_assert_eq(vhs_tempfile_open(&tf, "/tmp", "a/b"), -EINVAL);
	cr_assert_eq(vhs_tempfile_open(&tf, "/tmp", ""), -EINVAL);
	cr_assert_eq(vhs_tempfile_open(&tf, "/nonexistent-vhs-dir", "x"), -ENOENT);
}

Test(tempfile, put_small_file)
{
	char path[512], back[64] = { 0 };
	int fd;

	make_dir();
	cr_assert_eq(vhs_tempfile_put(dir, "manifest.json", "{\"v\":1}\n", 8), 0);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	fd = open(path, O_RDONLY);
	cr_assert_eq(read(fd, back, sizeof(back)), 8);
	close(fd);
	cr_assert_str_eq(back, "{\"v\":1}\n");
	cr_assert_eq(count_entries(), 1);
	remove_dir();
}

/* Writes until the writer reports an error; returns it (0 if none within 8 MiB). */
static int write_until_error(void)
{
	static uint8_t block[65536];
	struct vhs_tempfile *tf;
	int ret = vhs_tempfile_open(&tf, dir, "seg.mkv");

	for (int i = 0; !ret && i < 128; i++)
		ret = vhs_tempfile_write(tf, block, sizeof(block));
	if (!ret)
		return vhs_tempfile_commit(&tf);
	vhs_tempfile_abort(&tf);
	return ret;
}

/* A file size limit makes writes fail with EFBIG: in a child, so the limit stays there. */
static void write_error_reported(const char *backend)
{
	int status;
	pid_t pid;

	use_backend(backend);
	make_dir();
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 3u << 20, 3u << 20 };

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		_exit(write_until_error() == -EFBIG ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "EFBIG was not reported");
	cr_assert_eq(count_entries(), 0, "a failed file left something behind");
	remove_dir();
}

Test(tempfile, write_error_io_uring) { write_error_reported("io_uring"); }
Test(tempfile, write_error_pwrite) { write_error_reported("pwrite"); }

/* A real full disk: a 1 MiB tmpfs, where this process may mount one. The suite's fini
 * unmounts and removes it even when an assertion ends the test early. */
static void unmount_and_remove(void)
{
	umount2(dir, MNT_DETACH);
	remove_dir();
}

TestSuite(tempfile_full, .fini = unmount_and_remove);

static void disk_full(const char *backend)
{
	use_backend(backend);
	make_dir();
	if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") != 0)
		cr_skip_test("cannot mount a small tmpfs here (%s); EFBIG covers the error path", strerror(errno));
	cr_assert_eq(write_until_error(), -ENOSPC);
	cr_assert_eq(count_entries(), 0, "a failed file left something behind");
}

Test(tempfile_full, disk_full_io_uring) { disk_full("io_uring"); }
Test(tempfile_full, disk_full_pwrite) { disk_full("pwrite"); }
