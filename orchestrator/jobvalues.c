/* jobvalues.c: the job file's values that need more than a type check (see jobkeys.h):
 * memory sizes, sample aspect ratios, preset names and the presets there are, and paths
 * made absolute.
 *
 * Paths are stored as given until the end, then made absolute against the job file's
 * directory (values from the job file or preset) or the current directory (values from
 * --set, typed in a shell). Nothing is resolved through symlinks and nothing needs to
 * exist. "." components and repeated slashes are dropped; ".." is kept, because
 * dropping it lexically is wrong when the directory before it is a symlink.
 */
#include "jobkeys.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Numbers separated by sep (at most n, at least 1), each within [lo, hi], into v; the count. */
static int s_numbers(const char *s, char sep, int n, double lo, double hi, double *v)
{
	int k = 0;

	while (k < n) {
		char *end;

		v[k] = strtod(s, &end);
		if (end == s || !isfinite(v[k]) || v[k] < lo || v[k] > hi || isspace((unsigned char)*s))
			return 0;
		k++;
		if (!*end)
			return k;
		if (*end != sep)
			return 0;
		s = end + 1;
	}
	return 0;
}

bool job_value_form(const char *form, const char *s)
{
	double v[2];

	if (!strcmp(form, "<lines 0-32>")) /* a whole number of lines, 0..32 (vhs_headswitch examines 32) */
		return s_numbers(s, ',', 1, 0, 32, v) == 1 && v[0] == (int)v[0] && !strchr(s, '.');
	if (!strcmp(form, "<black:white>")) /* two 8-bit codes, black below white */
		return s_numbers(s, ':', 2, 0, 255, v) == 2 && v[0] + 8 <= v[1];
	if (!strcmp(form, "<dx,dy>")) /* one or two shifts in luma pixels */
		return s_numbers(s, ',', 2, -8, 8, v) > 0;
	return false;
}

bool job_listed(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list) || (**list == '<' && job_value_form(*list, s)))
			return true;
	return false;
}

/* Positive decimal integer of at most 6 digits, at *s; advances *s past it. */
static bool s_ratio_part(const char **s)
{
	const char *p = *s;

	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && p - *s < 7)
		p++;
	if (p - *s > 6)
		return false;
	*s = p;
	return true;
}

int vhs_job_memory_bytes(const char *text, uint64_t ram, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	char *end;
	double v;

	if (!strcmp(text, "auto")) {
		*bytes = ram / 2;
		return 0;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || !(v > 0) || v > 1e18 || isspace((unsigned char)*text))
		return -EINVAL;
	if (!strcmp(end, "%")) {
		if (v > 100)
			return -EINVAL;
		*bytes = (uint64_t)((double)ram * v / 100);
		return 0;
	}
	if (*end && (!strchr(units, *end) || (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))))
		return -EINVAL;
	for (const char *u = units; *end && *u; u++) {
		v *= 1024;
		if (*u == *end)
			break;
	}
	*bytes = (uint64_t)v;
	return *bytes ? 0 : -EINVAL;
}

bool job_sar_ok(const char *s)
{
	if (!strcmp(s, "auto"))
		return true;
	return s_ratio_part(&s) && *s++ == ':' && s_ratio_part(&s) && !*s;
}

bool job_preset_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

int job_preset_path(const char *dir, const char *name, char **path)
{
	return asprintf(path, "%s/%s.toml", dir, name) < 0 ? -ENOMEM : 0;
}

static int s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The presets in dir (names of *.toml files, plus "none"), sorted; NULL-terminated. */
char **job_list_presets(const char *dir)
{
	char **names = calloc(2, sizeof(*names)), **grown;
	size_t n = 0, len;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!names || !(names[n++] = strdup("none")))
		goto out;
	while (d && (de = readdir(d))) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".toml") ||
		    !strcmp(de->d_name, "none.toml"))
			continue;
		grown = realloc(names, (n + 2) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[n] = strndup(de->d_name, len - 5);
		names[n + 1] = NULL;
		if (names[n])
			n++;
	}
	qsort(names, n, sizeof(*names), s_cmp_str);
out:
	if (d)
		closedir(d);
	return names;
}

void job_free_list(char **list)
{
	size_t i;

	for (i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* Drops "." components and repeated or trailing slashes from an absolute path, in place. */
static void s_clean_path(char *p)
{
	char *r = p, *w = p;
	size_t n;

	while (*r) {
		while (*r == '/')
			r++;
		n = strcspn(r, "/");
		if (n == 0 || (n == 1 && r[0] == '.')) {
			r += n;
			continue;
		}
		*w++ = '/';
		memmove(w, r, n);
		w += n;
		r += n;
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

/* dir/path, or path when it is absolute, cleaned. */
static int s_join(const char *dir, const char *path, char **out)
{
	int n = path[0] == '/' ? asprintf(out, "%s", path) : asprintf(out, "%s/%s", dir, path);

	if (n < 0)
		return -ENOMEM;
	s_clean_path(*out);
	return 0;
}

/* Cuts an absolute path after its directory: "/a/b" -> "/a", "/b" -> "/". */
static void s_dirname(char *abs)
{
	char *slash = strrchr(abs, '/');

	slash[slash == abs ? 1 : 0] = '\0';
}

/* The absolute directory of the job file (its name as given may be relative). */
static int s_job_dir(const char *path, char **dir)
{
	char cwd[4096];
	int ret;

	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	ret = s_join(cwd, path, dir);
	if (!ret)
		s_dirname(*dir);
	return ret;
}

static int s_resolve_one(struct vhs_job *job, const struct job_key *o, const char *job_dir)
{
	char **field = job_key_str(job, o), cwd[4096], *abs;
	const char *base = job_dir;

	if (!*field || !**field)
		return 0;
	if (job->source[job_key_row(o)] == VHS_JOB_SRC_SET) {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		base = cwd;
	}
	if (s_join(base, *field, &abs))
		return -ENOMEM;
	free(*field);
	*field = abs;
	return 0;
}

/* Makes every path absolute; an empty temp_dir becomes the output's directory. */
int job_resolve_paths(struct vhs_job *job)
{
	char *dir;
	size_t i;
	int ret;

	ret = s_job_dir(job->path, &dir);
	if (ret)
		return ret;
	for (i = 0; i < job_n_keys && !ret; i++)
		if (job_keys[i].type == T_PATH)
			ret = s_resolve_one(job, &job_keys[i], dir);
	free(dir);
	if (ret || *job->run.temp_dir)
		return ret;
	dir = strdup(job->output);
	if (!dir)
		return -ENOMEM;
	s_dirname(dir);
	free(job->run.temp_dir);
	job->run.temp_dir = dir;
	return 0;
}

/* s as a TOML basic string, quotes included; NULL on allocation failure. */
char *job_quote(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\u%04X", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
	if (fclose(f))
		return NULL;
	return out;
}
