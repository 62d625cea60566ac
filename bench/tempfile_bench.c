/* tempfile_bench.c: the temp writer's two back ends (lib/tempfile.h) on segment-sized files.
 *
 *   make build/bench/tempfile_bench
 *   build/bench/tempfile_bench [-n FILES] [-s MIB] [-w KIB] DIR
 *
 * Writes FILES files per back end (default 8) of MIB MiB each (default 64, about 10 s of
 * 1440x1080 x264 at a high rate, or 1 s of ffv1) into DIR, in vhs_tempfile_write calls of KIB
 * KiB each (default 256, the size of a large encoder packet), through
 * vhs_tempfile_open/write/commit exactly as the encode stage does: each file is committed
 * (drain, fsync, rename, directory fsync) and then removed. The back ends alternate file by
 * file, in pairs whose order flips (uring pwrite, pwrite uring, ...), so that drift of a
 * shared machine falls on both alike. The back end is picked at open time from
 * VHS_NO_IO_URING, which is set and unset between files; the program checks which one it
 * got (vhs_tempfile_backend) and says so if io_uring is unavailable.
 *
 * Per file it measures four times: the open (the file, and for io_uring the ring and its
 * registered buffers), the write calls (open to the last write returning: what the encoder
 * waits for), the commit (drain + fsync + rename + directory fsync) and the whole (open to
 * commit returning), and the CPU time of the process (getrusage RUSAGE_SELF, user +
 * sys, which includes io_uring's io-wq worker threads: they belong to this process). It
 * prints one line per file, then per back end the median MiB/s over the files and the
 * io_uring/pwrite ratios. MiB/s = file size / time, 1 MiB = 2^20 bytes.
 *
 * Exit status: 0, 1 on an error (printed with strerror), 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "tempfile.h"

#define DEFAULT_FILES 8     /* per back end */
#define DEFAULT_FILE_MIB 64
#define DEFAULT_WRITE_KIB 256
#define MAX_FILES 256

enum { URING, PWRITE, BACKENDS };

static const char *const s_backend_names[BACKENDS] = { "io_uring", "pwrite" };

struct sample {
	double open_s;   /* vhs_tempfile_open: the file, and the ring with its registered buffers */
	double write_s;  /* open .. last write returned */
	double commit_s; /* commit call */
	double total_s;  /* open .. commit returned */
	double cpu_s;    /* user + sys of the process over the same span */
};

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double s_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int s_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double s_median(const double *v, int n)
{
	double s[MAX_FILES];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), s_cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The file system's name from statfs, for the report (df -T says the same). */
static const char *s_fs_name(const char *dir)
{
	static const struct { long magic; const char *name; } known[] = {
		{ 0xEF53, "ext2/3/4" }, { 0x01021994, "tmpfs" }, { 0x58465342, "xfs" },
		{ 0x9123683E, "btrfs" }, { 0x794C7630, "overlayfs" }, { 0x6969, "nfs" },
		{ 0x2FC12FC1, "zfs" }, { 0x65735546, "fuse" },
	};
	struct statfs st;

	if (statfs(dir, &st))
		return "?";
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((long)st.f_type == known[i].magic)
			return known[i].name;
	return "other";
}

/* Selects the back end the next vhs_tempfile_open picks. */
static void s_pick(int backend)
{
	if (backend == PWRITE)
		setenv("VHS_NO_IO_URING", "1", 1);
	else
		unsetenv("VHS_NO_IO_URING");
}

/* Writes one file of file_bytes in chunks of chunk bytes from data, commits it, removes it.
 * got: the back end the writer chose. Returns 0 or -errno. */
static int s_one_file(const char *dir, int index, const uint8_t *data, size_t chunk,
		      size_t file_bytes, struct sample *out, const char **got)
{
	struct vhs_tempfile *tf;
	char name[64], path[4096];
	double t0, to, t1, t2, c0;
	int ret;

	snprintf(name, sizeof(name), "bench%03d.vseg", index);
	c0 = s_cpu();
	t0 = s_now();
	ret = vhs_tempfile_open(&tf, dir, name);
	if (ret)
		return ret;
	to = s_now();
	*got = vhs_tempfile_backend(tf);
	for (size_t done = 0; done < file_bytes && !ret; done += chunk) {
		size_t n = file_bytes - done < chunk ? file_bytes - done : chunk;

		ret = vhs_tempfile_write(tf, data + (done / chunk % 4) * 4096, n);
	}
	if (ret) {
		vhs_tempfile_abort(&tf);
		return ret;
	}
	t1 = s_now();
	ret = vhs_tempfile_commit(&tf);
	t2 = s_now();
	*out = (struct sample){ to - t0, t1 - t0, t2 - t1, t2 - t0, s_cpu() - c0 };
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!ret && unlink(path))
		ret = -errno;
	return ret;
}

static void s_report(int files, size_t file_bytes, struct sample s[BACKENDS][MAX_FILES])
{
	double mib = (double)file_bytes / (1 << 20), med[BACKENDS][5];
	double v[MAX_FILES];

	for (int b = 0; b < BACKENDS; b++) {
		for (int i = 0; i < files; i++)
			v[i] = mib / s[b][i].total_s;
		med[b][0] = s_median(v, files);
		for (int i = 0; i < files; i++)
			v[i] = mib / s[b][i].write_s;
		med[b][1] = s_median(v, files);
		for (int i = 0; i < files; i++)
			v[i] = s[b][i].commit_s * 1e3;
		med[b][2] = s_median(v, files);
		for (int i = 0; i < files; i++)
			v[i] = s[b][i].cpu_s * 1e3;
		med[b][3] = s_median(v, files);
		for (int i = 0; i < files; i++)
			v[i] = s[b][i].open_s * 1e3;
		med[b][4] = s_median(v, files);
	}
	printf("\n| back end | median MiB/s, open..commit | median MiB/s, write calls | median open (ms) | median commit (ms) | median CPU per file (ms) |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for (int b = 0; b < BACKENDS; b++)
		printf("| %s | %.0f | %.0f | %.2f | %.1f | %.1f |\n", s_backend_names[b], med[b][0], med[b][1],
		       med[b][4], med[b][2], med[b][3]);
	printf("| io_uring/pwrite | %.3f | %.3f | %.3f | %.3f | %.3f |\n", med[URING][0] / med[PWRITE][0],
	       med[URING][1] / med[PWRITE][1], med[URING][4] / med[PWRITE][4], med[URING][2] / med[PWRITE][2],
	       med[URING][3] / med[PWRITE][3]);
}

static void s_usage(void)
{
	fprintf(stderr, "usage: tempfile_bench [-n FILES per back end, default %d] [-s MiB per file, default %d]\n"
		"                      [-w KiB per write, default %d] DIR\n",
		DEFAULT_FILES, DEFAULT_FILE_MIB, DEFAULT_WRITE_KIB);
}

int main(int argc, char **argv)
{
	static struct sample samples[BACKENDS][MAX_FILES];
	int files = DEFAULT_FILES, file_mib = DEFAULT_FILE_MIB, write_kib = DEFAULT_WRITE_KIB, opt;
	const char *dir, *got = "?";
	uint8_t *data;
	size_t chunk;

	while ((opt = getopt(argc, argv, "n:s:w:h")) != -1) {
		switch (opt) {
		case 'n': files = atoi(optarg); break;
		case 's': file_mib = atoi(optarg); break;
		case 'w': write_kib = atoi(optarg); break;
		default: s_usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1 || files < 1 || files > MAX_FILES || file_mib < 1 || write_kib < 1 ||
	    (size_t)write_kib * 1024 > (size_t)file_mib << 20) {
		s_usage();
		return 2;
	}
	dir = argv[optind];
	chunk = (size_t)write_kib * 1024;
	/* 4 chunks' worth of incompressible bytes; each write starts at one of 4 offsets */
	data = malloc(chunk + 4 * 4096);
	if (!data) {
		fprintf(stderr, "tempfile_bench: %s\n", strerror(ENOMEM));
		return 1;
	}
	srandom(1);
	for (size_t i = 0; i < chunk + 4 * 4096; i++)
		data[i] = (uint8_t)(random() >> 7);
	printf("tempfile_bench: %s (%s), %d files per back end of %d MiB, writes of %d KiB, "
	       "buffers %d x %u KiB\n", dir, s_fs_name(dir), files, file_mib, write_kib,
	       VHS_TEMP_BUFFERS, VHS_TEMP_BUFFER_SIZE / 1024);
	for (int i = 0; i < 2 * files; i++) {
		int b = (i / 2) % 2 ? !(i % 2) : i % 2; /* pairs: U P, P U, U P, ... */
		struct sample *s = &samples[b][i / 2];
		int ret;

		s_pick(b);
		ret = s_one_file(dir, i, data, chunk, (size_t)file_mib << 20, s, &got);
		if (ret) {
			fprintf(stderr, "tempfile_bench: file %d (%s) in %s: %s\n", i, s_backend_names[b], dir,
				strerror(-ret));
			free(data);
			return 1;
		}
		if (strcmp(got, s_backend_names[b])) {
			fprintf(stderr, "tempfile_bench: asked for %s, the writer chose %s: io_uring is "
				"unavailable here, nothing to compare\n", s_backend_names[b], got);
			free(data);
			return 1;
		}
		printf("file %2d %-8s  total %7.1f ms %6.0f MiB/s  open %5.2f ms  writes %7.1f ms  commit %7.1f ms  cpu %6.1f ms\n",
		       i, got, s->total_s * 1e3, file_mib / s->total_s, s->open_s * 1e3, s->write_s * 1e3,
		       s->commit_s * 1e3, s->cpu_s * 1e3);
	}
	unsetenv("VHS_NO_IO_URING");
	s_report(files, (size_t)file_mib << 20, samples);
	free(data);
	return 0;
}
