/* test_ring.c: unit tests of the shared-memory slot ring (shm/ring.h, ring.c).
 *
 * Covers:
 *   - create/open/close/unlink, and the header bytes against the layout in ring.h;
 *   - slot geometry: slot_size rounded up to 64, every slot 64-byte aligned, slot 0 page
 *     aligned, slots contiguous and inside the mapping, vhs_ring_bytes arithmetic, the
 *     size of the object in /dev/shm;
 *   - sharing across processes: a forked child opens the ring by name, writes a pattern
 *     into every slot, and the parent reads it back after waitpid;
 *   - errors: open of a missing name (-ENOENT), create of a taken name (-EEXIST, the
 *     existing ring untouched), bad arguments (-EINVAL), a ring too big for /dev/shm
 *     (-ENOSPC, nothing left behind), and open of hand-made objects with a bad magic,
 *     version, shape or a short size (-EPROTO);
 *   - vhs_ring_sweep_stale: removes vhs-<dead pid>-*, keeps ours and pid 1's, also when
 *     kill(1, 0) fails with EPERM (an unprivileged child; run as root to cover it).
 * Every object is named /vhs-<pid>-ut-<tag> (pid: the Criterion test process) and is
 * unlinked by the fixture's fini even when an assertion fails, so no test leaves anything
 * in /dev/shm; if a test process crashes, vhs_ring_sweep_stale removes its leftovers.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring.h"

#define PAGE 4096u
#define MAX_TRACKED 16

/* Set to 0 once vhs_ring_open checks the header's arithmetic (see the disabled test
 * open_refuses_overflowing_header below). */
#ifndef KNOWN_BUG_OPEN_OVERFLOW
#define KNOWN_BUG_OPEN_OVERFLOW 0
#endif

/* ---- fixture: every shm name a test makes is unlinked at the end ------------------ */

static char s_tracked[MAX_TRACKED][64];
static int s_n_tracked;

/* Makes "/vhs-<pid>-ut-<tag>" in name (64 bytes) and records it for cleanup. */
static const char *s_name(char *name, const char *tag)
{
	snprintf(name, 64, "/vhs-%d-ut-%s", (int)getpid(), tag);
	cr_assert_lt(s_n_tracked, MAX_TRACKED);
	snprintf(s_tracked[s_n_tracked++], 64, "%s", name);
	shm_unlink(name); /* in case a previous process with this pid crashed */
	return name;
}

static void s_track(const char *name)
{
	cr_assert_lt(s_n_tracked, MAX_TRACKED);
	snprintf(s_tracked[s_n_tracked++], 64, "%s", name);
}

static void s_cleanup(void)
{
	for (int i = 0; i < s_n_tracked; i++)
		shm_unlink(s_tracked[i]);
	s_n_tracked = 0;
}

static bool s_exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/shm%s", name);
	return access(path, F_OK) == 0;
}

TestSuite(ring, .fini = s_cleanup);

/* Writes a 64-byte header by the documented offsets into a new object of size bytes. */
static void s_handmade(const char *name, size_t size, uint32_t magic, uint16_t version,
		       uint32_t slot_count, uint64_t slot_size, uint64_t slots_offset)
{
	uint8_t h[VHS_RING_HEADER] = { 0 };
	uint16_t header_size = VHS_RING_HEADER;
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);

	cr_assert_geq(fd, 0, "shm_open %s: %s", name, strerror(errno));
	memcpy(h + 0, &magic, 4);
	memcpy(h + 4, &version, 2);
	memcpy(h + 6, &header_size, 2);
	memcpy(h + 8, &slot_count, 4);
	memcpy(h + 16, &slot_size, 8);
	memcpy(h + 24, &slots_offset, 8);
	memcpy(h + 32, "video gray 8x8", 15);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	if (size)
		cr_assert_eq(pwrite(fd, h, size < sizeof(h) ? size : sizeof(h), 0),
			     (ssize_t)(size < sizeof(h) ? size : sizeof(h)));
	close(fd);
}

/* ---- create, open, close, unlink ---------------------------------------------------- */

Test(ring, create_open_close_unlink)
{
	char name[64];
	struct vhs_ring a, b;
	uint32_t u32;
	uint16_t u16;
	uint64_t u64;

	s_name(name, "basic");
	cr_assert_eq(vhs_ring_create(&a, name, 4, 1000, "video yuv411p 720x480"), 0);
	cr_assert_not_null(a.base);
	cr_assert_str_eq(a.name, name);
	cr_assert_eq(a.slot_count, 4);
	cr_assert_eq(a.slot_size, 1024, "1000 rounds up to 1024");
	cr_assert_eq(a.slots_offset, PAGE);
	cr_assert_eq(a.map_size, vhs_ring_bytes(4, 1000));
	cr_assert(s_exists(name));

	/* the header, byte by byte as ring.h draws it */
	cr_assert_eq(memcmp(a.base, "VHSR", 4), 0, "magic");
	memcpy(&u16, a.base + 4, 2);
	cr_assert_eq(u16, VHS_RING_VERSION, "version");
	memcpy(&u16, a.base + 6, 2);
	cr_assert_eq(u16, VHS_RING_HEADER, "header_size");
	memcpy(&u32, a.base + 8, 4);
	cr_assert_eq(u32, 4, "slot_count");
	memcpy(&u32, a.base + 12, 4);
	cr_assert_eq(u32, 0, "flags");
	memcpy(&u64, a.base + 16, 8);
	cr_assert_eq(u64, 1024, "slot_size");
	memcpy(&u64, a.base + 24, 8);
	cr_assert_eq(u64, PAGE, "slots_offset");
	cr_assert_str_eq((const char *)a.base + 32, "video yuv411p 720x480", "format");
	for (size_t i = 64; i < PAGE; i++)
		cr_assert_eq(a.base[i], 0, "padding byte %zu", i);

	/* a second mapping sees the same memory */
	cr_assert_eq(vhs_ring_open(&b, name), 0);
	cr_assert_str_eq(b.name, name);
	cr_assert_eq(b.slot_count, 4);
	cr_assert_eq(b.slot_size, 1024);
	cr_assert_eq(b.slots_offset, PAGE);
	cr_assert_neq(b.base, a.base);
	memset(vhs_ring_slot(&a, 3), 0x5A, 1024);
	cr_assert_eq(vhs_ring_slot(&b, 3)[0], 0x5A);
	cr_assert_eq(vhs_ring_slot(&b, 3)[1023], 0x5A);
	vhs_ring_slot(&b, 0)[7] = 0x11;
	cr_assert_eq(vhs_ring_slot(&a, 0)[7], 0x11);

	vhs_ring_close(&b);
	cr_assert_null(b.base);
	vhs_ring_close(&b); /* safe on a closed ring */
	vhs_ring_close(&a);
	cr_assert_null(a.base);
	cr_assert_eq(a.map_size, 0);
	cr_assert(s_exists(name), "close does not unlink");
	cr_assert_eq(vhs_ring_unlink(name), 0);
	cr_assert(!s_exists(name));
	cr_assert_eq(vhs_ring_unlink(name), -ENOENT);
	cr_assert_eq(vhs_ring_open(&b, name), -ENOENT);
	cr_assert_null(b.base);
}

Test(ring, close_zeroed_ring)
{
	struct vhs_ring r;

	memset(&r, 0, sizeof(r));
	vhs_ring_close(&r);
	cr_assert_null(r.base);
}

Test(ring, format_text)
{
	char name[64], name2[64];
	struct vhs_ring r;
	const char *longfmt = "audio s16 48000 Hz 8 channels 7.1(wide) extra words";

	s_name(name, "fmt-null");
	cr_assert_eq(vhs_ring_create(&r, name, 1, 64, NULL), 0);
	cr_assert_str_eq((const char *)r.base + 32, "");
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_unlink(name), 0);

	s_name(name2, "fmt-long");
	cr_assert_eq(vhs_ring_create(&r, name2, 1, 64, longfmt), 0);
	cr_assert_eq(r.base[32 + VHS_RING_FORMAT_LEN - 1], 0, "format stays NUL-terminated");
	cr_assert_eq(memcmp(r.base + 32, longfmt, VHS_RING_FORMAT_LEN - 1), 0);
	cr_assert_eq(r.base[64], 0, "no spill past the header");
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_unlink(name2), 0);
}

/* A GPU edge's flag travels in the header; flags this version does not know are refused. */
Test(ring, device_flag)
{
	char name[64];
	struct vhs_ring r, o;
	uint32_t u32;

	s_name(name, "device");
	cr_assert_eq(vhs_ring_create(&r, name, 2, 256, "cuda rgb24 64x48"), 0);
	cr_assert_eq(r.flags, 0);
	vhs_ring_set_flags(&r, VHS_RING_DEVICE);
	memcpy(&u32, r.base + 12, 4);
	cr_assert_eq(u32, VHS_RING_DEVICE, "flags at byte 12");
	cr_assert_eq(vhs_ring_open(&o, name), 0);
	cr_assert_eq(o.flags, VHS_RING_DEVICE);
	vhs_ring_close(&o);
	u32 = VHS_RING_DEVICE | 0x2;
	memcpy(r.base + 12, &u32, 4);
	cr_assert_eq(vhs_ring_open(&o, name), -EPROTO, "unknown flag");
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_unlink(name), 0);
}

Test(ring, create_bad_arguments)
{
	char name[64], longname[80];
	struct vhs_ring r;

	s_name(name, "badargs");
	cr_assert_eq(vhs_ring_create(&r, name, 0, 64, NULL), -EINVAL, "no slots");
	cr_assert_eq(vhs_ring_create(&r, name, 4, 0, NULL), -EINVAL, "empty slots");
	cr_assert(!s_exists(name));
	memset(longname, 'x', sizeof(longname));
	memcpy(longname, name, strlen(name)); /* "/vhs-<pid>-ut-badargsxxx..." */
	longname[sizeof(r.name)] = '\0'; /* 48 chars: one too many */
	s_track(longname);
	cr_assert_eq(vhs_ring_create(&r, longname, 1, 64, NULL), -EINVAL, "name of 48 chars");
	cr_assert_eq(vhs_ring_open(&r, longname), -EINVAL);
	cr_assert(!s_exists(longname));
	longname[sizeof(r.name) - 1] = '\0'; /* 47 chars: fits */
	s_track(longname);
	cr_assert_eq(vhs_ring_create(&r, longname, 1, 64, NULL), 0, "name of 47 chars");
	cr_assert_str_eq(r.name, longname);
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_unlink(longname), 0);
}

/* ---- geometry --------------------------------------------------------------------- */

Test(ring, bytes_arithmetic)
{
	cr_assert_eq(vhs_ring_bytes(0, 64), PAGE, "the header page alone");
	cr_assert_eq(vhs_ring_bytes(1, 1), PAGE + 64);
	cr_assert_eq(vhs_ring_bytes(3, 64), PAGE + 3 * 64);
	cr_assert_eq(vhs_ring_bytes(2, 65), PAGE + 2 * 128);
	cr_assert_eq(vhs_ring_bytes(10, 4096), PAGE + 10 * 4096);
	cr_assert_eq(vhs_ring_bytes(8, 720 * 480 * 3 / 2 + 1), PAGE + 8 * 518464);
	/* a large ring does not wrap in 32 bits: 64 slots of 4K RGBA frames */
	cr_assert_eq(vhs_ring_bytes(64, (size_t)3840 * 2160 * 4),
		     (size_t)PAGE + (size_t)64 * 3840 * 2160 * 4);
	cr_assert_eq(vhs_ring_bytes(UINT32_MAX, 64), (size_t)PAGE + (size_t)UINT32_MAX * 64);
}

Test(ring, slots_aligned)
{
	static const size_t sizes[] = { 1, 63, 64, 65, 100, 4095, 4096, 4097, 720 * 480 * 2 + 17 };
	static const uint32_t counts[] = { 1, 3, 7 };
	char name[64];

	s_name(name, "align");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
			struct vhs_ring r;
			size_t want = (sizes[i] + 63) / 64 * 64;
			struct stat st;
			char path[128];

			cr_assert_eq(vhs_ring_create(&r, name, counts[j], sizes[i], "x"), 0);
			cr_assert_eq(r.slot_size, want, "slot_size %zu -> %zu", sizes[i], r.slot_size);
			cr_assert_eq((uintptr_t)vhs_ring_slot(&r, 0) % PAGE, 0, "slot 0 page aligned");
			for (uint32_t k = 0; k < counts[j]; k++) {
				uint8_t *s = vhs_ring_slot(&r, k);

				cr_assert_eq((uintptr_t)s % VHS_RING_ALIGN, 0, "slot %u of %zu", k, want);
				cr_assert_eq(s, vhs_ring_slot(&r, 0) + (size_t)k * want);
				cr_assert_leq(s + want, r.base + r.map_size, "slot %u inside the map", k);
				if (want % PAGE == 0)
					cr_assert_eq((uintptr_t)s % PAGE, 0, "page-sized slots are page aligned");
				s[0] = (uint8_t)k; /* touch first and last byte */
				s[want - 1] = (uint8_t)k;
			}
			snprintf(path, sizeof(path), "/dev/shm%s", name);
			cr_assert_eq(stat(path, &st), 0);
			cr_assert_eq((size_t)st.st_size, vhs_ring_bytes(counts[j], sizes[i]));
			cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
			vhs_ring_close(&r);
			cr_assert_eq(vhs_ring_unlink(name), 0);
		}
	}
}

/* ---- two processes ---------------------------------------------------------------- */

static uint8_t s_pattern(uint32_t slot, size_t i)
{
	return (uint8_t)(slot * 31u + i * 7u + (i >> 8));
}

/* The child: opens the ring, checks the parent's marker, fills every slot. */
static int s_child_fill(const char *name, uint32_t count, size_t slot_size)
{
	struct vhs_ring r;

	if (vhs_ring_open(&r, name) != 0)
		return 10;
	if (r.slot_count != count || r.slot_size != slot_size)
		return 11;
	if (memcmp(vhs_ring_slot(&r, count - 1), "parent", 6) != 0)
		return 12;
	for (uint32_t s = 0; s < count; s++) {
		uint8_t *p = vhs_ring_slot(&r, s);

		for (size_t i = 0; i < slot_size; i++)
			p[i] = s_pattern(s, i);
	}
	vhs_ring_close(&r);
	return 0;
}

Test(ring, fork_child_writes_parent_reads)
{
	const uint32_t count = 5;
	const size_t slot_size = 3 * 4096 + 64;
	char name[64];
	struct vhs_ring r;
	int status;
	pid_t pid;

	s_name(name, "fork");
	cr_assert_eq(vhs_ring_create(&r, name, count, slot_size, "video gray 64x192"), 0);
	memcpy(vhs_ring_slot(&r, count - 1), "parent", 6);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(s_child_fill(name, count, slot_size));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status %#x", status);
	cr_assert_eq(WEXITSTATUS(status), 0, "child failed with %d", WEXITSTATUS(status));
	for (uint32_t s = 0; s < count; s++) {
		const uint8_t *p = vhs_ring_slot(&r, s);

		for (size_t i = 0; i < slot_size; i++)
			if (p[i] != s_pattern(s, i))
				cr_assert_fail("slot %u byte %zu: %02x, expected %02x", s, i, p[i],
					       s_pattern(s, i));
	}
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_unlink(name), 0);
}

/* ---- errors ----------------------------------------------------------------------- */

Test(ring, open_missing)
{
	char name[64];
	struct vhs_ring r;

	s_name(name, "missing");
	memset(&r, 0xAB, sizeof(r));
	cr_assert_eq(vhs_ring_open(&r, name), -ENOENT);
	cr_assert_null(r.base, "a failed open leaves a closed ring");
	vhs_ring_close(&r);
}

Test(ring, create_existing)
{
	char name[64];
	struct vhs_ring a, b;

	s_name(name, "exists");
	cr_assert_eq(vhs_ring_create(&a, name, 2, 128, "first"), 0);
	memcpy(vhs_ring_slot(&a, 1), "keep", 5);
	cr_assert_eq(vhs_ring_create(&b, name, 8, 4096, "second"), -EEXIST);
	cr_assert_null(b.base);
	/* the existing ring is untouched */
	cr_assert(s_exists(name));
	cr_assert_eq(vhs_ring_open(&b, name), 0);
	cr_assert_eq(b.slot_count, 2);
	cr_assert_eq(b.slot_size, 128);
	cr_assert_str_eq((const char *)b.base + 32, "first");
	cr_assert_str_eq((const char *)vhs_ring_slot(&b, 1), "keep");
	vhs_ring_close(&b);
	vhs_ring_close(&a);
	cr_assert_eq(vhs_ring_unlink(name), 0);
}

Test(ring, create_too_big_leaves_nothing)
{
	char name[64];
	struct vhs_ring r;
	struct statvfs vfs;
	uint64_t total;
	uint32_t count;

	cr_assert_eq(statvfs("/dev/shm", &vfs), 0);
	total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	if (total == 0)
		cr_skip_test("/dev/shm has no size limit: an oversized ring would really be allocated");
	s_name(name, "toobig");
	count = (uint32_t)(total / (1u << 30) * 2 + 2); /* twice /dev/shm, in 1 GiB slots */
	cr_assert_eq(vhs_ring_create(&r, name, count, (size_t)1 << 30, NULL), -ENOSPC,
		     "%u GiB on a %llu-byte /dev/shm", count, (unsigned long long)total);
	cr_assert_null(r.base);
	cr_assert(!s_exists(name), "a failed create unlinks its object");
}

Test(ring, open_refuses_bad_headers)
{
	const size_t size = PAGE + 2 * 128;
	char name[64];
	struct vhs_ring r;
	static const struct {
		const char *tag;
		size_t size;
		uint32_t magic;
		uint16_t version;
		uint32_t count;
		uint64_t slot_size, slots_offset;
	} bad[] = {
		{ "magic", PAGE + 256, 0x52534857u, 1, 2, 128, PAGE },
		{ "magic0", PAGE + 256, 0, 1, 2, 128, PAGE },
		{ "version0", PAGE + 256, VHS_RING_MAGIC, 0, 2, 128, PAGE },
		{ "version2", PAGE + 256, VHS_RING_MAGIC, 2, 2, 128, PAGE },
		{ "count0", PAGE + 256, VHS_RING_MAGIC, 1, 0, 128, PAGE },
		{ "unaligned", PAGE + 256, VHS_RING_MAGIC, 1, 2, 100, PAGE },
		{ "toosmall", PAGE + 255, VHS_RING_MAGIC, 1, 2, 128, PAGE },
		{ "morecount", PAGE + 256, VHS_RING_MAGIC, 1, 3, 128, PAGE },
		{ "offset", PAGE + 256, VHS_RING_MAGIC, 1, 2, 128, 2 * PAGE },
		{ "short", 10, VHS_RING_MAGIC, 1, 2, 128, PAGE },
		{ "short63", 63, VHS_RING_MAGIC, 1, 2, 128, PAGE },
		{ "empty", 0, VHS_RING_MAGIC, 1, 2, 128, PAGE },
	};

	/* positive control: a header written by hand at the documented offsets opens */
	s_name(name, "handmade");
	s_handmade(name, size, VHS_RING_MAGIC, VHS_RING_VERSION, 2, 128, PAGE);
	cr_assert_eq(vhs_ring_open(&r, name), 0);
	cr_assert_eq(r.slot_count, 2);
	cr_assert_eq(r.slot_size, 128);
	cr_assert_eq(r.slots_offset, PAGE);
	cr_assert_eq(r.map_size, size);
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_unlink(name), 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char n2[64];

		s_name(n2, bad[i].tag);
		s_handmade(n2, bad[i].size, bad[i].magic, bad[i].version, bad[i].count,
			   bad[i].slot_size, bad[i].slots_offset);
		memset(&r, 0xAB, sizeof(r));
		cr_assert_eq(vhs_ring_open(&r, n2), -EPROTO, "%s", bad[i].tag);
		cr_assert_null(r.base, "%s", bad[i].tag);
		cr_assert_eq(vhs_ring_unlink(n2), 0);
	}
}

/* vhs_ring_open trusts the header's arithmetic: slots_offset + slot_count * slot_size is
 * computed in 64 bits and may wrap, and slots_offset is not checked against the layout
 * (>= header, a multiple of the page). Each case below is accepted today (returns 0)
 * with slots that lie outside the mapping or over the header. */
Test(ring, open_refuses_overflowing_header, .disabled = KNOWN_BUG_OPEN_OVERFLOW)
{
	static const struct {
		const char *tag;
		uint32_t count;
		uint64_t slot_size, slots_offset;
	} bad[] = {
		{ "wrap-size", 2, (uint64_t)1 << 63, PAGE },    /* 2 * 2^63 wraps to 0 */
		{ "wrap-size64", 64, (uint64_t)1 << 58, PAGE }, /* 64 * 2^58 wraps to 0 */
		{ "wrap-offset", 1, 64, UINT64_MAX - 63 },     /* offset + 64 wraps to 0 */
		{ "offset0", 1, 64, 0 },                        /* slot 0 over the header */
		{ "offset100", 1, 64, 100 },                    /* slot 0 not 64-aligned */
	};
	struct vhs_ring r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];
		int ret;

		s_name(name, bad[i].tag);
		s_handmade(name, 2 * PAGE, VHS_RING_MAGIC, VHS_RING_VERSION, bad[i].count,
			   bad[i].slot_size, bad[i].slots_offset);
		ret = vhs_ring_open(&r, name);
		if (ret == 0)
			vhs_ring_close(&r);
		cr_assert_eq(vhs_ring_unlink(name), 0);
		cr_assert_eq(ret, -EPROTO, "%s: open returned %d", bad[i].tag, ret);
	}
}

/* ---- stale sweep ------------------------------------------------------------------ */

Test(ring, sweep_stale)
{
	char dead[64], alive[64], init[64], notpid[64];
	struct vhs_ring r;
	int status, removed;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(kill(pid, 0) == -1 && errno == ESRCH, "pid %d still exists", (int)pid);

	snprintf(dead, sizeof(dead), "/vhs-%d-x", (int)pid);
	s_track(dead);
	s_name(alive, "x");
	snprintf(init, sizeof(init), "/vhs-1-ut-%d", (int)getpid()); /* pid 1: alive, not ours */
	s_track(init);
	snprintf(notpid, sizeof(notpid), "/vhs-ut%d-x", (int)getpid()); /* no pid in the name */
	s_track(notpid);

	cr_assert_eq(vhs_ring_create(&r, dead, 1, 64, "stale"), 0);
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_create(&r, alive, 1, 64, "ours"), 0);
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_create(&r, init, 1, 64, "init"), 0);
	vhs_ring_close(&r);
	cr_assert_eq(vhs_ring_create(&r, notpid, 1, 64, "other"), 0);
	vhs_ring_close(&r);

	removed = vhs_ring_sweep_stale();
	cr_assert_geq(removed, 1, "removed %d", removed);
	cr_assert(!s_exists(dead), "%s (dead pid) was kept", dead);
	cr_assert_eq(vhs_ring_open(&r, dead), -ENOENT);
	cr_assert(s_exists(alive), "%s (our pid) was removed", alive);
	cr_assert(s_exists(init), "%s (pid 1) was removed", init);
	cr_assert(s_exists(notpid), "%s (no pid) was removed", notpid);
	cr_assert_eq(vhs_ring_open(&r, alive), 0, "our ring still opens");
	vhs_ring_close(&r);

	cr_assert_eq(vhs_ring_unlink(alive), 0);
	cr_assert_eq(vhs_ring_unlink(init), 0);
	cr_assert_eq(vhs_ring_unlink(notpid), 0);
}

/* The child of sweep_keeps_eperm: unprivileged, so kill(1, 0) fails with EPERM. */
static int s_child_eperm(const char *name)
{
	struct vhs_ring r;

	if (setgid(65534) || setuid(65534))
		return 10;
	if (kill(1, 0) == 0 || errno != EPERM)
		return 11;
	if (vhs_ring_create(&r, name, 1, 64, "eperm"))
		return 12;
	vhs_ring_close(&r);
	vhs_ring_sweep_stale();
	if (!s_exists(name))
		return 13; /* removed: EPERM was taken for a dead process */
	return vhs_ring_unlink(name) ? 14 : 0;
}

Test(ring, sweep_keeps_eperm)
{
	char name[64];
	int status;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root to fork an unprivileged child (sweep_stale covers EPERM)");
	snprintf(name, sizeof(name), "/vhs-1-ut-%d-eperm", (int)getpid());
	s_track(name);
	shm_unlink(name);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(s_child_eperm(name));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status %#x", status);
	cr_assert_eq(WEXITSTATUS(status), 0, "child failed with %d (13: sweep removed %s)",
		     WEXITSTATUS(status), name);
	cr_assert(!s_exists(name));
}
