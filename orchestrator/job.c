/* job.c: the job file, resolved through one option table (see job.h).
 *
 * DESIGN
 * job_keys[] has one row per accepted key, like FFmpeg's AVOption rows: section, key,
 * type, offset of the field in struct vhs_job, default, allowed range or values, flags
 * and one line of help. Everything else is generic code over that table:
 *
 *   job_key_defaults()      row defaults into the struct                      (source: default)
 *   s_apply_root()    a parsed preset or job file, key by key           (preset / job)
 *   s_apply_set()     one "section.key=value" string                    (--set)
 *   job_resolve_paths() input, output, temp_dir made absolute
 *   vhs_job_print / vhs_job_to_kv / vhs_job_print_reference: the table, printed (jobprint.c)
 *
 * Every value goes through s_apply_opt(), which checks type and range and records the
 * value's source in job->source[row], so a later layer simply overwrites an earlier one:
 * defaults < preset < job file < --set. The preset is named by the job file or a --set,
 * so that key is applied first, then the preset file, then the whole job file, then the
 * sets in order.
 *
 * Paths are stored as given until the end, then made absolute (jobvalues.c).
 *
 * Errors are one line in the caller's buffer: `FILE:LINE:COL: message` for files,
 * `--set TEXT: message` for sets. Unknown keys, sections and stages get the closest
 * known name (optimal string alignment distance <= 2) as a suggestion.
 */
#include "jobkeys.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suggest.h"
#include "toml.h"

/* Where the values being applied come from, and where to write an error. */
struct s_ctx {
	struct vhs_job *job;
	enum vhs_job_source src;
	const char *where;      /* file name, or the --set text */
	const char *preset_dir; /* to check preset names */
	char *err;
	size_t errlen;
};

/* ---- messages ------------------------------------------------------------------------ */


__attribute__((format(printf, 4, 5)))
static int s_fail(const struct s_ctx *c, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	if (c->src == VHS_JOB_SRC_SET)
		n = snprintf(c->err, c->errlen, "--set %s: ", c->where);
	else
		n = snprintf(c->err, c->errlen, "%s:%d:%d: ", c->where, line, col);
	if (n < 0 || (size_t)n >= c->errlen) {
		toml_one_line(c->err, c->errlen);
		return -EINVAL;
	}
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	toml_one_line(c->err, c->errlen);
	return -EINVAL;
}

static int s_oom(const struct s_ctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: out of memory", c->where);
	return -ENOMEM;
}

/* " in [section]", or top when section is the top level. */
static const char *s_in(const char *section, const char *top, char *buf, size_t len)
{
	if (!*section)
		return top;
	snprintf(buf, len, " in [%s]", section);
	return buf;
}

static const char *s_a(enum toml_type t)
{
	return (t == TOML_INTEGER || t == TOML_ARRAY) ? "an" : "a";
}

/* ---- checking one value -------------------------------------------------------------- */

static int s_unknown_preset(const struct s_ctx *c, const struct toml_value *v)
{
	char **names = job_list_presets(c->preset_dir), list[512] = "", sug[128];
	size_t i, at = 0;
	int ret;

	for (i = 0; names && names[i] && at < sizeof(list); i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "",
				       names[i]);
	ret = s_fail(c, v->line, v->col, "unknown preset '%s'%s; presets in %s: %s", v->u.s,
		     names ? vhs_suggest(v->u.s, (const char *const *)names, "'", "'", sug,
				       sizeof(sug)) : "",
		     c->preset_dir, list);
	job_free_list(names);
	return ret;
}

static int s_check_preset(const struct s_ctx *c, const struct toml_value *v)
{
	struct stat st;
	char *path;
	int ret;

	if (!strcmp(v->u.s, "none"))
		return 0;
	if (!job_preset_name_ok(v->u.s))
		return s_unknown_preset(c, v);
	if (job_preset_path(c->preset_dir, v->u.s, &path))
		return s_oom(c);
	ret = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : s_unknown_preset(c, v);
	free(path);
	return ret;
}

/* "a, b, c" from a NULL-terminated list. */
static const char *s_list(const char *const *allowed, char *list, size_t len)
{
	size_t at = 0;

	list[0] = 0;
	for (size_t i = 0; allowed[i] && at < len; i++)
		at += (size_t)snprintf(list + at, len - at, "%s%s", i ? ", " : "", allowed[i]);
	return list;
}

static int s_bad_enum(const struct s_ctx *c, const struct job_key *o, const struct toml_value *v)
{
	char list[256], sug[128], in[64];

	s_list(o->allowed, list, sizeof(list));
	return s_fail(c, v->line, v->col, "'%s'%s must be one of %s, not '%s'%s", o->key,
		      s_in(o->section, "", in, sizeof(in)), list, v->u.s,
		      vhs_suggest(v->u.s, o->allowed, "'", "'", sug, sizeof(sug)));
}

static int s_check_text(const struct s_ctx *c, const struct job_key *o, const struct toml_value *v)
{
	char in[64];
	const char *sect = s_in(o->section, "", in, sizeof(in));

	if (strlen(v->u.s) != v->len)
		return s_fail(c, v->line, v->col, "'%s'%s must not contain U+0000", o->key, sect);
	if ((o->flags & O_REQUIRED) && !*v->u.s)
		return s_fail(c, v->line, v->col, "'%s'%s must not be empty", o->key, sect);
	if (o->type == T_ENUM && !job_listed(v->u.s, o->allowed))
		return s_bad_enum(c, o, v);
	if (o->type == T_SAR && !job_sar_ok(v->u.s))
		return s_fail(c, v->line, v->col,
			      "'%s'%s must be \"auto\" or \"N:D\" with positive integers, "
			      "like \"1:1\", not '%s'", o->key, sect, v->u.s);
	if (o->type == T_MEMORY && vhs_job_memory_bytes(v->u.s, 1ull << 40, &(uint64_t){ 0 }))
		return s_fail(c, v->line, v->col,
			      "'%s'%s must be \"auto\", a percentage of the RAM like \"50%%\", or a "
			      "size like \"6G\" or \"512M\", not '%s'", o->key, sect, v->u.s);
	if (o->type == T_PRESET)
		return s_check_preset(c, v);
	return 0;
}

static int s_check_int(const struct s_ctx *c, const struct job_key *o, const struct toml_value *v)
{
	char in[64], num[32], list[64];
	bool zero = (o->flags & O_ZERO_OK) && v->u.i == 0;

	snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
	if (o->allowed && !job_listed(num, o->allowed))
		return s_fail(c, v->line, v->col, "'%s'%s must be one of %s, not %lld", o->key,
			      s_in(o->section, "", in, sizeof(in)), s_list(o->allowed, list, sizeof(list)),
			      (long long)v->u.i);
	if (zero || (v->u.i >= (int64_t)o->min && v->u.i <= (int64_t)o->max))
		return 0;
	return s_fail(c, v->line, v->col, "'%s'%s must be %sbetween %lld and %lld, not %lld",
		      o->key, s_in(o->section, "", in, sizeof(in)),
		      (o->flags & O_ZERO_OK) ? "0 or " : "", (long long)o->min,
		      (long long)o->max, (long long)v->u.i);
}

static int s_check_float(const struct s_ctx *c, const struct job_key *o, double f,
			 const struct toml_value *v)
{
	char in[64];

	if ((f > o->min && f <= o->max) || (f == 0 && (o->flags & O_ZERO_OK)))
		return 0;
	if ((o->flags & O_ZERO_OK) && o->min == 0)
		return s_fail(c, v->line, v->col, "'%s'%s must be between 0 and %g, not %g", o->key,
			      s_in(o->section, "", in, sizeof(in)), o->max, f);
	return s_fail(c, v->line, v->col, "'%s'%s must be %sgreater than %g and at most %g, not %g",
		      o->key, s_in(o->section, "", in, sizeof(in)),
		      (o->flags & O_ZERO_OK) ? "0 (off) or " : "", o->min, o->max, f);
}

static int s_check_workers(const struct s_ctx *c, const struct job_key *o,
			   const struct toml_value *v)
{
	char in[64];

	if (v->type == TOML_STRING && strcmp(v->u.s, "auto"))
		return s_fail(c, v->line, v->col, "'%s'%s must be an integer or \"auto\", not '%s'",
			      o->key, s_in(o->section, "", in, sizeof(in)), v->u.s);
	if (v->type == TOML_STRING || (v->u.i >= (int64_t)o->min && v->u.i <= (int64_t)o->max) ||
	    ((o->flags & O_ZERO_OK) && v->u.i == 0))
		return 0;
	return s_fail(c, v->line, v->col,
		      "'%s'%s must be \"auto\"%s or between %lld and %lld, not %lld", o->key,
		      s_in(o->section, "", in, sizeof(in)), (o->flags & O_ZERO_OK) ? ", 0" : "",
		      (long long)o->min, (long long)o->max, (long long)v->u.i);
}

static bool s_type_ok(const struct job_key *o, enum toml_type vt)
{
	enum job_key_type t = o->type;

	if ((o->flags & O_NUMBERS) && vt == TOML_INTEGER)
		return true;
	if (t == T_BOOL)
		return vt == TOML_BOOL;
	if (job_key_is_text(t))
		return vt == TOML_STRING;
	if (t == T_INT)
		return vt == TOML_INTEGER;
	if (t == T_FLOAT)
		return vt == TOML_INTEGER || vt == TOML_FLOAT;
	return vt == TOML_INTEGER || vt == TOML_STRING;
}

/* Checks v against row o and stores it; the single way a value enters the struct. */
static int s_apply_opt(const struct s_ctx *c, const struct job_key *o, const struct toml_value *v)
{
	struct toml_value text;
	char in[64], num[32];
	double f;
	int ret;

	if (c->src == VHS_JOB_SRC_PRESET && (o->flags & O_NO_PRESET))
		return s_fail(c, v->line, v->col, "'%s' cannot be set by a preset", o->key);
	if (!s_type_ok(o, v->type))
		return s_fail(c, v->line, v->col, "'%s'%s must be %s, not %s %s", o->key,
			      s_in(o->section, "", in, sizeof(in)), job_key_expected(o),
			      s_a(v->type), toml_type_name(v->type));
	if (job_key_is_text(o->type) && v->type == TOML_INTEGER) { /* O_NUMBERS: 50 is "50" */
		snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
		text = *v;
		text.type = TOML_STRING;
		text.u.s = num;
		text.len = strlen(num);
		v = &text;
	}
	f = v->type == TOML_FLOAT ? v->u.f : (double)v->u.i;
	if (o->type == T_BOOL)
		ret = 0;
	else if (job_key_is_text(o->type))
		ret = s_check_text(c, o, v);
	else if (o->type == T_INT)
		ret = s_check_int(c, o, v);
	else if (o->type == T_FLOAT)
		ret = s_check_float(c, o, f, v);
	else
		ret = s_check_workers(c, o, v);
	if (ret)
		return ret;
	if (job_key_is_text(o->type) && job_key_set_str(c->job, o, v->u.s))
		return s_oom(c);
	if (o->type == T_INT)
		*job_key_int(c->job, o) = (int)v->u.i;
	if (o->type == T_BOOL)
		*job_key_int(c->job, o) = v->u.b;
	if (o->type == T_WORKERS)
		*job_key_int(c->job, o) = v->type == TOML_STRING ? job_key_auto(o) : (int)v->u.i;
	if (o->type == T_FLOAT)
		*job_key_float(c->job, o) = f;
	c->job->source[job_key_row(o)] = (unsigned char)c->src;
	return 0;
}

/* ---- applying trees ------------------------------------------------------------------ */

/* The keys of a section, NULL-terminated, for suggestions. */
static void s_section_keys(const char *section, const char **keys, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < job_n_keys && n + 1 < max; i++)
		if (!strcmp(job_keys[i].section, section))
			keys[n++] = job_keys[i].key;
	keys[n] = NULL;
}

static int s_unknown_key(const struct s_ctx *c, const char *section, const char *key, int line,
			 int col)
{
	const char *keys[VHS_JOB_MAX_KEYS + 1];
	char in[64], sug[128];

	s_section_keys(section, keys, ARRAY_SIZE(keys));
	return s_fail(c, line, col, "unknown key '%s'%s%s", key,
		      s_in(section, " at top level", in, sizeof(in)),
		      vhs_suggest(key, keys, "'", "'", sug, sizeof(sug)));
}

static int s_unknown_section(const struct s_ctx *c, const char *name, int line, int col)
{
	char sug[128];

	return s_fail(c, line, col, "unknown section [%s]%s", name,
		      vhs_suggest(name, job_sections, "[", "]", sug, sizeof(sug)));
}

static int s_unknown_stage(const struct s_ctx *c, const char *name, int line, int col)
{
	char sug[128];

	return s_fail(c, line, col, "unknown stage '%s' in [stages]%s", name,
		      vhs_suggest(name, job_stage_names, "'", "'", sug, sizeof(sug)));
}

static int s_apply_key(const struct s_ctx *c, const char *section, const struct toml_kv *kv)
{
	const struct job_key *o = job_key_find(section, kv->key);

	if (!o)
		return s_unknown_key(c, section, kv->key, kv->line, kv->col);
	return s_apply_opt(c, o, kv->val);
}

static int s_apply_section(const struct s_ctx *c, const char *section,
			   const struct toml_value *tab)
{
	size_t i;
	int ret;

	for (i = 0; i < tab->u.tab.n; i++) {
		ret = s_apply_key(c, section, &tab->u.tab.items[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int s_not_table(const struct s_ctx *c, const char *what, const struct toml_kv *kv)
{
	return s_fail(c, kv->val->line, kv->val->col, "%s'%s' must be a table, not %s %s",
		      what, kv->key, s_a(kv->val->type), toml_type_name(kv->val->type));
}

static int s_apply_stages(const struct s_ctx *c, const struct toml_value *tab)
{
	const struct toml_kv *kv;
	char section[64];
	size_t i;
	int ret;

	for (i = 0; i < tab->u.tab.n; i++) {
		kv = &tab->u.tab.items[i];
		if (!job_listed(kv->key, job_stage_names))
			return s_unknown_stage(c, kv->key, kv->line, kv->col);
		if (kv->val->type != TOML_TABLE)
			return s_not_table(c, "stage ", kv);
		snprintf(section, sizeof(section), "stages.%s", kv->key);
		ret = s_apply_section(c, section, kv->val);
		if (ret)
			return ret;
	}
	return 0;
}

static int s_apply_top(const struct s_ctx *c, const struct toml_kv *kv)
{
	bool is_section = job_listed(kv->key, job_sections);

	if (is_section && kv->val->type != TOML_TABLE)
		return s_not_table(c, "section ", kv);
	if (!strcmp(kv->key, "stages"))
		return s_apply_stages(c, kv->val);
	if (is_section)
		return s_apply_section(c, kv->key, kv->val);
	if (kv->val->type == TOML_TABLE && !job_key_find("", kv->key))
		return s_unknown_section(c, kv->key, kv->line, kv->col);
	return s_apply_key(c, "", kv);
}

static int s_apply_root(const struct s_ctx *c, const struct toml_value *root)
{
	size_t i;
	int ret;

	for (i = 0; i < root->u.tab.n; i++) {
		ret = s_apply_top(c, &root->u.tab.items[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- --set --------------------------------------------------------------------------- */

/* Parses "v = " text; *root is the document (or NULL when it does not parse). */
static int s_parse_one(const char *text, struct toml_value **root)
{
	char *doc;
	int ret;

	if (asprintf(&doc, "v = %s", text) < 0)
		return -ENOMEM;
	ret = toml_parse(doc, strlen(doc), "--set", root, NULL, 0);
	free(doc);
	return ret == -ENOMEM ? ret : 0;
}

/* The value of a --set: the raw text if it is a TOML value (a string, for string keys),
 * else the raw text as a string. *root owns the returned value. */
static int s_set_value(const struct s_ctx *c, const struct job_key *o, const char *raw,
		       struct toml_value **root, const struct toml_value **val)
{
	char *quoted;
	int ret = 0;

	if (!strpbrk(raw, "\r\n"))
		ret = s_parse_one(raw, root);
	*val = *root ? toml_get(*root, "v") : NULL;
	if (!ret && *val && job_key_is_text(o->type) && (*val)->type != TOML_STRING)
		toml_free(root);
	if (ret || *root)
		return ret ? s_oom(c) : 0;
	quoted = job_quote(raw);
	if (!quoted)
		return s_oom(c);
	ret = s_parse_one(quoted, root);
	free(quoted);
	if (ret)
		return s_oom(c);
	if (!*root)
		return s_fail(c, 0, 0, "the value is not valid UTF-8");
	*val = toml_get(*root, "v");
	return 0;
}

static char *s_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Checks that section names a known section (or stage); returns its option section. */
static int s_set_section(const struct s_ctx *c, const char *section)
{
	if (!*section || job_listed(section, job_sections))
		return 0;
	if (!strncmp(section, "stages.", 7)) {
		if (job_listed(section + 7, job_stage_names))
			return 0;
		return s_unknown_stage(c, section + 7, 0, 0);
	}
	return s_unknown_section(c, section, 0, 0);
}

static int s_apply_set(struct s_ctx *c, const char *text)
{
	struct toml_value *root = NULL;
	const struct toml_value *val = NULL;
	const struct job_key *o;
	char *copy = strdup(text), *eq, *path, *dot, *key;
	int ret;

	c->where = text;
	if (!copy)
		return s_oom(c);
	eq = strchr(copy, '=');
	ret = eq ? 0 : s_fail(c, 0, 0, "expected section.key=value");
	if (ret)
		goto out;
	*eq = '\0';
	path = s_trim(copy);
	dot = strrchr(path, '.');
	key = dot ? dot + 1 : path;
	if (dot)
		*dot = '\0';
	ret = s_set_section(c, dot ? path : "");
	if (ret)
		goto out;
	o = job_key_find(dot ? path : "", key);
	ret = o ? s_set_value(c, o, s_trim(eq + 1), &root, &val)
		: s_unknown_key(c, dot ? path : "", key, 0, 0);
	if (!ret)
		ret = s_apply_opt(c, o, val);
out:
	toml_free(&root);
	free(copy);
	return ret;
}

/* ---- loading ------------------------------------------------------------------------- */

/* Whether a --set text sets the key called name ("preset", "encode.crf"). */
static bool s_set_names(const char *text, const char *name)
{
	const char *eq = strchr(text, '=');
	size_t n = strlen(name);

	if (!eq)
		return false;
	text += strspn(text, " \t");
	while (eq > text && (eq[-1] == ' ' || eq[-1] == '\t'))
		eq--;
	return (size_t)(eq - text) == n && !strncmp(text, name, n);
}

/* Applies the job file's preset key, then any --set of it, so the preset is known. */
static int s_pick_preset(struct s_ctx *c, const struct toml_value *root, char *const *sets,
			 int nsets)
{
	const struct toml_kv *kv = NULL;
	size_t i;
	int ret = 0;

	for (i = 0; i < root->u.tab.n; i++)
		if (!strcmp(root->u.tab.items[i].key, "preset"))
			kv = &root->u.tab.items[i];
	if (kv)
		ret = s_apply_opt(c, job_key_find("", "preset"), kv->val);
	c->src = VHS_JOB_SRC_SET;
	for (i = 0; i < (size_t)nsets && !ret; i++)
		if (s_set_names(sets[i], "preset"))
			ret = s_apply_set(c, sets[i]);
	return ret;
}

static int s_load_preset(struct s_ctx *c)
{
	struct toml_value *root;
	struct stat st;
	char *path;
	int ret;

	if (job_preset_path(c->preset_dir, c->job->preset, &path))
		return s_oom(c);
	if (!strcmp(c->job->preset, "none") && stat(path, &st)) {
		free(path);
		return 0;
	}
	ret = toml_parse_file(path, &root, c->err, c->errlen);
	if (!ret) {
		c->src = VHS_JOB_SRC_PRESET;
		c->where = path;
		ret = s_apply_root(c, root);
		toml_free(&root);
	}
	free(path);
	return ret;
}

static int s_check_required(const struct s_ctx *c)
{
	size_t i;

	for (i = 0; i < job_n_keys; i++) {
		if (!(job_keys[i].flags & O_REQUIRED) || *job_key_str(c->job, &job_keys[i]))
			continue;
		if (c->err && c->errlen) {
			snprintf(c->err, c->errlen, "%s: missing required key '%s'", c->job->path,
				 job_keys[i].key);
			toml_one_line(c->err, c->errlen);
		}
		return -EINVAL;
	}
	return 0;
}

/* Row o's value as the enhance preset row e has it, with source "enhance". */
static int s_enhance_one(struct vhs_job *job, const struct job_key *o, const struct job_enhance_row *e)
{
	const char *k = o->key;

	job->source[job_key_row(o)] = VHS_JOB_SRC_ENHANCE;
	if (!strcmp(k, "hum") || !strcmp(k, "channels"))
		return job_key_set_str(job, o, !strcmp(k, "hum") ? e->hum : e->channels);
	if (!strcmp(k, "hiss"))
		*job_key_float(job, o) = e->hiss;
	else if (!strcmp(k, "loudness"))
		*job_key_float(job, o) = e->loudness;
	else
		*job_key_int(job, o) = e->declick;
	return 0;
}

/* [audio] enhance fills the switches nothing set. An explicit filters chain replaces the
 * enhancement: then nothing is filled, and the chain switches may not be set at all (the
 * loudness pass, which follows any chain, may). */
static int s_apply_enhance(const struct s_ctx *c)
{
	struct vhs_job *job = c->job;
	const struct job_enhance_row *e = &job_enhance[0];
	bool chain = *job->audio.filters;

	for (size_t i = 0; i < job_n_enhance; i++)
		if (!strcmp(job_enhance[i].name, job->audio.enhance))
			e = &job_enhance[i];
	for (const struct job_key *o = job_keys; o < job_keys + job_n_keys; o++) {
		bool set = job->source[job_key_row(o)] != VHS_JOB_SRC_DEFAULT;

		if (!(o->flags & O_ENHANCE))
			continue;
		if (chain && set && strcmp(o->key, "loudness")) {
			if (c->err && c->errlen)
				snprintf(c->err, c->errlen, "%s: '%s' in [audio] cannot be combined with "
					 "[audio] filters, which replaces the enhancement chain",
					 job->path, o->key);
			return -EINVAL;
		}
		/* "none" is the table's defaults: nothing to fill, nothing to say */
		if (!chain && !set && e != &job_enhance[0] && s_enhance_one(job, o, e))
			return s_oom(c);
	}
	return 0;
}

static int s_load(struct s_ctx *c, const struct toml_value *root, char *const *sets, int nsets)
{
	int ret, i;

	c->src = VHS_JOB_SRC_JOB;
	c->where = c->job->path;
	ret = s_pick_preset(c, root, sets, nsets);
	if (!ret)
		ret = s_load_preset(c);
	if (ret)
		return ret;
	c->src = VHS_JOB_SRC_JOB;
	c->where = c->job->path;
	ret = s_apply_root(c, root);
	c->src = VHS_JOB_SRC_SET;
	for (i = 0; i < nsets && !ret; i++)
		ret = s_apply_set(c, sets[i]);
	if (!ret)
		ret = s_check_required(c);
	if (!ret)
		ret = s_apply_enhance(c);
	return ret;
}

int vhs_job_load(struct vhs_job *job, const char *path, const char *preset_dir,
		 char *const *sets, int nsets, char *err, size_t errlen)
{
	struct s_ctx c = { .job = job, .where = path, .preset_dir = preset_dir,
			   .err = err, .errlen = errlen };
	struct toml_value *root = NULL;
	int ret;

	memset(job, 0, sizeof(*job));
	if (err && errlen)
		err[0] = '\0';
	job->path = strdup(path);
	if (!job->path || job_key_defaults(job)) {
		ret = s_oom(&c);
		goto out_free;
	}
	ret = toml_parse_file(path, &root, err, errlen);
	if (ret)
		goto out_free;
	ret = s_load(&c, root, sets, nsets);
	toml_free(&root);
	if (ret)
		goto out_free;
	ret = job_resolve_paths(job);
	if (ret && err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	if (!ret)
		return 0;
out_free:
	vhs_job_free(job);
	return ret;
}

void vhs_job_free(struct vhs_job *job)
{
	size_t i;

	if (!job)
		return;
	for (i = 0; i < job_n_keys; i++)
		if (job_key_is_text(job_keys[i].type))
			free(*job_key_str(job, &job_keys[i]));
	free(job->path);
	memset(job, 0, sizeof(*job));
}

