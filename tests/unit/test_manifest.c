/* test_manifest.c: the resume journal (orchestrator/manifest.c): save/load round trip,
 * atomic replacement (no temp names left), refusal of damaged or tampered manifests with
 * a one-line message, the fingerprint's choice of keys, and ordered, de-duplicated adds. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

static char dir[64], path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vhs-test-manifest.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/manifest.toml", dir);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

TestSuite(manifest, .init = setup, .fini = teardown);

static struct vhs_manifest_segment seg(uint32_t i)
{
	struct vhs_manifest_segment s = { .index = i, .samples = 1601 * (int64_t)i, .frames = 600,
					  .bytes = 1000000u + i };

	snprintf(s.file, sizeof(s.file), "seg-%05u.mkv", i);
	return s;
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
	if (d)
		closedir(d);
	return n;
}

Test(manifest, roundtrip)
{
	struct vhs_manifest m = { .fingerprint = 0x9c1f0e7a5b3d2c11ull, .input_size = 18979228,
				  .input_mtime_ns = 1764014523123456789ll, .segments_total = 5,
				  .auto_interlaced = "mc" };
	struct vhs_manifest_segment s3 = seg(3), s0 = seg(0), s1 = seg(1);
	struct vhs_manifest back;
	char err[256];

	/* added out of order, then one replaced */
	cr_assert_eq(vhs_manifest_add(&m, &s3), 0);
	cr_assert_eq(vhs_manifest_add(&m, &s0), 0);
	cr_assert_eq(vhs_manifest_add(&m, &s1), 0);
	s1.bytes = 42;
	cr_assert_eq(vhs_manifest_add(&m, &s1), 0); /* replaces, no duplicate */
	cr_assert_eq(m.n_done, 3);
	cr_assert_eq(vhs_manifest_save(&m, dir, "manifest.toml"), 0);
	cr_assert_eq(entries(), 1, "the temp name was left behind");
	cr_assert_eq(vhs_manifest_load(&back, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.fingerprint, m.fingerprint);
	cr_assert_eq(back.input_size, m.input_size);
	cr_assert_eq(back.input_mtime_ns, m.input_mtime_ns);
	cr_assert_eq(back.segments_total, 5);
	cr_assert_str_eq(back.auto_interlaced, "mc");
	cr_assert_eq(back.n_done, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(back.done[i].index, m.done[i].index);
		cr_assert_eq(back.done[i].samples, m.done[i].samples);
		cr_assert_eq(back.done[i].frames, m.done[i].frames);
		cr_assert_eq(back.done[i].bytes, m.done[i].bytes);
		cr_assert_str_eq(back.done[i].file, m.done[i].file);
	}
	cr_assert(vhs_manifest_has(&back, 3));
	cr_assert_not(vhs_manifest_has(&back, 2));
	cr_assert_eq(back.done[1].bytes, 42);
	vhs_manifest_free(&back);
	vhs_manifest_free(&m);
}

Test(manifest, missing_is_enoent)
{
	struct vhs_manifest m;
	char err[256];

	cr_assert_eq(vhs_manifest_load(&m, path, err, sizeof(err)), -ENOENT);
}

static void expect_damaged(const char *text, const char *words)
{
	struct vhs_manifest m;
	char err[512] = "";

	write_text(text);
	cr_assert_eq(vhs_manifest_load(&m, path, err, sizeof(err)), -EINVAL, "accepted:\n%s", text);
	cr_assert_not_null(strstr(err, "damaged manifest"), "%s", err);
	cr_assert_not_null(strstr(err, words), "'%s' not in: %s", words, err);
	cr_assert_null(strchr(err, '\n'), "not one line: %s", err);
	cr_assert_eq(m.n_done, 0);
	cr_assert_null(m.done);
}

#define HEAD "version = 1\nfingerprint = \"00000000000000ff\"\ninput_size = 1\ninput_mtime_ns = 2\nsegments_total = 2\n"

Test(manifest, refuses_damage)
{
	expect_damaged("version = 1\nfingerprint = \"00000000000000ff\"\ninput_size = 1\n", "input_mtime_ns");
	expect_damaged("version = 2\nfingerprint = \"00000000000000ff\"\n", "version");
	expect_damaged("version = 1\nfingerprint = \"ff\"\n", "fingerprint");
	expect_damaged("version = 1\nfingerprint = \"zz000000000000ff\"\n", "hexadecimal");
	expect_damaged(HEAD "[[segment]]\nindex = 0\nsamples = 0\nframes = 1\nbytes = 3\n", "file");
	expect_damaged(HEAD "[[segment]]\nindex = 0\nsamples = 0\nframes = 1\nbytes = 3\nfile = \"../x\"\n", "file");
	expect_damaged(HEAD "[[segment]]\nindex = 7\nsamples = 0\nframes = 1\nbytes = 3\nfile = \"a\"\n", "beyond");
	expect_damaged(HEAD "[[segment]]\nindex = 1\nsamples = 0\nframes = 1\nbytes = 3\nfile = \"a\"\n"
			    "[[segment]]\nindex = 1\nsamples = 0\nframes = 1\nbytes = 3\nfile = \"b\"\n", "twice");
	expect_damaged(HEAD "[[segment]]\nindex = 0\nsamples = -5\nframes = 1\nbytes = 3\nfile = \"a\"\n", "samples");
	expect_damaged(HEAD "segment = 3\n", "array");
	expect_damaged(HEAD "auto_interlaced = \"nnedi\"\n", "auto_interlaced");
	expect_damaged("version = 1\nfingerprint = \"00000000000000ff\n", "manifest.toml:2:");  /* torn */
}

/* segments_total = 0 means the end of the input is not reached yet: any index is fine. */
Test(manifest, unknown_total_allows_any_index)
{
	struct vhs_manifest m, back;
	struct vhs_manifest_segment s5 = seg(5);
	char err[256] = "";

	write_text("version = 1\nfingerprint = \"00000000000000ff\"\ninput_size = 1\n"
		   "input_mtime_ns = 2\nsegments_total = 0\n"
		   "[[segment]]\nindex = 5\nsamples = 8008\nframes = 600\nbytes = 3\n"
		   "file = \"v000005.vseg\"\n");
	cr_assert_eq(vhs_manifest_load(&m, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.segments_total, 0);
	cr_assert_eq(m.n_done, 1);
	cr_assert_eq(m.done[0].index, 5);
	cr_assert_eq(m.done[0].samples, 8008);
	cr_assert_eq(m.done[0].frames, 600);
	cr_assert_str_eq(m.done[0].file, "v000005.vseg");
	cr_assert(vhs_manifest_has(&m, 5));
	vhs_manifest_free(&m);

	/* and through save and load */
	memset(&m, 0, sizeof(m));
	m.fingerprint = 7;
	cr_assert_eq(vhs_manifest_add(&m, &s5), 0);
	cr_assert_eq(vhs_manifest_save(&m, dir, "manifest.toml"), 0);
	cr_assert_eq(vhs_manifest_load(&back, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.segments_total, 0);
	cr_assert_eq(back.n_done, 1);
	cr_assert_eq(back.done[0].index, 5);
	vhs_manifest_free(&back);
	vhs_manifest_free(&m);
}

Test(manifest, fingerprint_keys)
{
	const char *a = "input=/a.avi\nvideo.filters=bwdif\nstages.preprocess.workers=1\nrun.ring_slots=8\nrun.temp_dir=/t\n";
	const char *b = "input=/a.avi\nvideo.filters=bwdif\nstages.preprocess.workers=4\nrun.ring_slots=16\nrun.temp_dir=/u\n";
	const char *c = "input=/a.avi\nvideo.filters=yadif\nstages.preprocess.workers=1\nrun.ring_slots=8\nrun.temp_dir=/t\n";
	const char *d = "input=/a.avi\nvideo.filters=bwdif\nstages.preprocess.workers=1\nrun.ring_slots=8\nrun.segment_seconds=5\n";

	cr_assert_eq(vhs_manifest_fingerprint(a), vhs_manifest_fingerprint(b), "workers/slots/temp dir must not count");
	cr_assert_neq(vhs_manifest_fingerprint(a), vhs_manifest_fingerprint(c), "filters must count");
	cr_assert_neq(vhs_manifest_fingerprint(a), vhs_manifest_fingerprint(d), "segment length must count");
	cr_assert_neq(vhs_manifest_fingerprint(""), vhs_manifest_fingerprint("x=1\n"));
}

Test(manifest, save_replaces_atomically)
{
	struct vhs_manifest m = { .fingerprint = 1, .segments_total = 100 };
	struct vhs_manifest back;
	char err[256];

	for (uint32_t i = 0; i < 100; i++) {
		struct vhs_manifest_segment s = seg(i);

		cr_assert_eq(vhs_manifest_add(&m, &s), 0);
		cr_assert_eq(vhs_manifest_save(&m, dir, "manifest.toml"), 0);
	}
	cr_assert_eq(entries(), 1);
	cr_assert_eq(vhs_manifest_load(&back, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.n_done, 100);
	vhs_manifest_free(&back);
	vhs_manifest_free(&m);
}
