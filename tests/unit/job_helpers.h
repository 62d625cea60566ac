/* job_helpers.h: what test_job.c and test_job_print.c share: a scratch directory with a
 * preset (setup/teardown for each test), loading job text with or without --set, and
 * reading the printed settings back. */
#ifndef VHS_TEST_JOB_HELPERS_H
#define VHS_TEST_JOB_HELPERS_H

#include "job.h"
#include "settings.h"
#include "kv.h"
#include "toml.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64] __attribute__((unused));
static char presets[128] __attribute__((unused));
static char jobpath[128] __attribute__((unused));
static char err[1024] __attribute__((unused));
static char want[2048] __attribute__((unused));

static const char p1_toml[] __attribute__((unused)) =
	"# p1: values the merge-order test can recognise\n"
	"[video]\nfilters = \"p1-video\"\n"
	"[encode]\ncodec = \"p1codec\"\ncrf = 10\npreset = \"p1preset\"\n"
	"[upscale]\nwidth = 640\n";

static const char io[] __attribute__((unused)) = "input = \"in.avi\"\noutput = \"out.mkv\"\n";

static inline void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static inline void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_job_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(presets, sizeof(presets), "%s/presets", dir);
	snprintf(jobpath, sizeof(jobpath), "%s/job.toml", dir);
	cr_assert_eq(mkdir(presets, 0755), 0);
	put("presets/p1.toml", p1_toml);
	put("presets/p2.toml", "[encode]\ncodec = \"p2codec\"\n");
	put("presets/bad.toml", "input = \"x.avi\"\n");
	put("presets/broken.toml", "[video\n");
	put("presets/README", "not a preset\n");
}

static inline int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static inline void teardown(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}


/* Writes text as DIR/job.toml and loads it with the test's preset directory. */
static inline int load_sets(struct vhs_job *j, const char *text, char *const *sets, int n)
{
	put("job.toml", text);
	return vhs_job_load(j, jobpath, presets, sets, n, err, sizeof(err));
}

static inline int load(struct vhs_job *j, const char *text)
{
	return load_sets(j, text, NULL, 0);
}

static inline void load_ok(struct vhs_job *j, const char *text, char *const *sets, int n)
{
	int ret = load_sets(j, text, sets, n);

	cr_assert_eq(ret, 0, "load failed (%d): %s", ret, err);
}

/* Expects text (with sets) to fail with DIR/job.toml:<suffix>. */
static inline void fails(const char *text, const char *suffix)
{
	struct vhs_job j;
	int ret = load(&j, text);

	snprintf(want, sizeof(want), "%s:%s", jobpath, suffix);
	cr_assert_eq(ret, -EINVAL, "[%s] loaded (ret %d)", text, ret);
	cr_assert_str_eq(err, want, "[%s]\n  got:  %s\n  want: %s", text, err, want);
	cr_assert_null(j.input, "a failed load leaves the struct zeroed");
	cr_assert_null(j.path);
}

static inline void set_fails(const char *set, const char *msg)
{
	struct vhs_job j;
	char *sets[] = { (char *)set };
	int ret = load_sets(&j, io, sets, 1);

	cr_assert_eq(ret, -EINVAL, "--set %s loaded (ret %d)", set, ret);
	cr_assert_str_eq(err, msg, "\n  got:  %s\n  want: %s", err, msg);
}

/* The line of key in [section] ("" = top level) of printed TOML, without its newline. */
static inline const char *line_of(const char *text, const char *section, const char *key)
{
	static char line[512];
	char head[64], start[64];
	const char *p = text, *end;

	if (*section) {
		snprintf(head, sizeof(head), "\n[%s]\n", section);
		p = strstr(text, head);
		cr_assert_not_null(p, "no [%s] in:\n%s", section, text);
		p += strlen(head) - 1;
	}
	snprintf(start, sizeof(start), "\n%s = ", key);
	p = strstr(p, start);
	cr_assert_not_null(p, "no %s in [%s]:\n%s", key, section, text);
	p++;
	end = strchr(p, '\n');
	snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
	return line;
}

static inline char *print_to_string(const struct vhs_job *j)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	vhs_job_print(j, f);
	fclose(f);
	return buf;
}

/* Whether the printed line for key ends with the comment "# src". */
static inline void source_is(const char *text, const char *section, const char *key, const char *src)
{
	const char *line = line_of(text, section, key), *hash = strrchr(line, '#');

	cr_assert_not_null(hash, "%s", line);
	cr_assert_str_eq(hash + 2, src, "[%s] %s: %s", section, key, line);
}

#endif
