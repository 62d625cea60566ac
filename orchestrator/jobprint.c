/* jobprint.c: the job, printed (see job.h): the resolved settings with where each came from
 * (`check`), the key=value blob every stage gets in CONFIG, and the Markdown reference of
 * every key (`vhs-orchestrate keys`, docs/job-file.md). */
#include "jobkeys.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shortest text that reads back as the same double and is a TOML float: "10.0",
 * "0.25", or "1e-07" for very small and very large values. */
static void s_fmt_double(double v, char *buf, size_t len)
{
	bool fixed = v == 0 || (fabs(v) >= 1e-4 && fabs(v) < 1e15);
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, len, fixed ? "%.*f" : "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
	if (!strpbrk(buf, ".eEni"))
		strncat(buf, ".0", len - strlen(buf) - 1);
}

/* Writes row o's value: as TOML (quoted strings, "auto") or as a kv blob value. */
static void s_print_value(FILE *f, const struct vhs_job *job, const struct job_key *o, bool toml)
{
	char num[64], *q;
	const char *s;
	int i;

	if (job_key_is_text(o->type)) {
		s = *job_key_str((struct vhs_job *)job, o);
		s = s ? s : "";
		q = toml ? job_quote(s) : NULL;
		if (q)
			fputs(q, f);
		for (; !toml && *s; s++)
			fputs(*s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : (char[2]){ *s, 0 }, f);
		free(q);
		return;
	}
	if (o->type == T_FLOAT) {
		s_fmt_double(*job_key_float((struct vhs_job *)job, o), num, sizeof(num));
		fputs(num, f);
		return;
	}
	i = *job_key_int((struct vhs_job *)job, o);
	if (toml && o->type == T_BOOL)
		fputs(i ? "true" : "false", f);
	else if (toml && o->type == T_WORKERS && i == job_key_auto(o))
		fputs("\"auto\"", f);
	else
		fprintf(f, "%d", i);
}

static void s_print_row(FILE *out, const struct vhs_job *job, const struct job_key *o)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	int src = job->source[job_key_row(o)];

	if (!f)
		return;
	fprintf(f, "%s = ", o->key);
	s_print_value(f, job, o, true);
	if (fclose(f))
		return;
	fprintf(out, "%-40s # %s", line, job_source_names[src < (int)job_n_source_names ? src : 0]);
	if (src == VHS_JOB_SRC_PRESET)
		fprintf(out, " %s", job->preset);
	if (src == VHS_JOB_SRC_ENHANCE)
		fprintf(out, " %s", job->audio.enhance);
	fputc('\n', out);
	free(line);
}

void vhs_job_print(const struct vhs_job *job, FILE *out)
{
	const char *section = "";
	size_t i;

	fprintf(out, "# %s, resolved: every key, with where its value came from\n",
		job->path ? job->path : "job");
	fprintf(out, "# (default < preset < job < --set; [audio] enhance fills the switches none of "
		     "them set)\n\n");
	for (i = 0; i < job_n_keys; i++) {
		if (strcmp(job_keys[i].section, section)) {
			section = job_keys[i].section;
			fprintf(out, "\n[%s]\n", section);
		}
		s_print_row(out, job, &job_keys[i]);
	}
}

char *vhs_job_to_kv(const struct vhs_job *job)
{
	const struct job_key *o;
	char *blob = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&blob, &len);

	if (!f)
		return NULL;
	for (o = job_keys; o < job_keys + job_n_keys; o++) {
		fprintf(f, "%s%s%s=", o->section, *o->section ? "." : "", o->key);
		s_print_value(f, job, o, false);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(blob);
		return NULL;
	}
	return blob;
}

static const char *s_type_doc(enum job_key_type t)
{
	static const char *const names[] = {
		[T_STRING] = "string", [T_PATH] = "path",   [T_ENUM] = "string",  [T_PRESET] = "string",
		[T_SAR] = "string",    [T_MEMORY] = "string", [T_INT] = "integer", [T_FLOAT] = "number",
		[T_WORKERS] = "integer or \"auto\"", [T_BOOL] = "boolean",
	};

	return names[t];
}

/* The allowed values or range of a row, as Markdown. */
static void s_print_allowed(FILE *out, const struct job_key *o)
{
	const char *const *a;

	if (o->type == T_ENUM)
		for (a = o->allowed; *a; a++)
			fprintf(out, "%s`%s`", a == o->allowed ? "" : ", ", *a);
	else if (o->type == T_PRESET)
		fputs("a file in `configs/presets/`", out);
	else if (o->type == T_SAR)
		fputs("`auto` or `N:D`", out);
	else if (o->type == T_MEMORY)
		fputs("`auto`, `N%`, or a size (`6G`, `512M`)", out);
	else if (o->type == T_INT && o->allowed)
		for (a = o->allowed; *a; a++)
			fprintf(out, "%s%s", a == o->allowed ? "" : ", ", *a);
	else if (o->type == T_INT)
		fprintf(out, "%s%g..%g", (o->flags & O_ZERO_OK) ? "0 or " : "", o->min, o->max);
	else if (o->type == T_FLOAT && (o->flags & O_ZERO_OK) && o->min == 0)
		fprintf(out, "0..%g", o->max);
	else if (o->type == T_FLOAT)
		fprintf(out, "%s> %g, <= %g", (o->flags & O_ZERO_OK) ? "0 or " : "", o->min, o->max);
	else if (o->type == T_WORKERS)
		fprintf(out, "%s%g..%g or `\"auto\"`", (o->flags & O_ZERO_OK) ? "0, " : "", o->min, o->max);
	else if (o->type == T_BOOL)
		fputs("`true`, `false`", out);
}

static void s_print_default(FILE *out, const struct job_key *o)
{
	const char *s;

	if (o->flags & O_REQUIRED) {
		fputs("(required)", out);
	} else if (job_key_is_text(o->type)) {
		fputc('`', out);
		for (s = o->def.s; *s; s++)
			fputs(*s == '|' ? "\\|" : (char[2]){ *s, 0 }, out);
		fprintf(out, "%s`", *o->def.s ? "" : "\"\"");
	} else if (o->type == T_FLOAT) {
		fprintf(out, "`%g`", o->def.f);
	} else if (o->type == T_WORKERS && o->def.i == job_key_auto(o)) {
		fputs("`\"auto\"`", out);
	} else if (o->type == T_BOOL) {
		fputs(o->def.i ? "`true`" : "`false`", out);
	} else {
		fprintf(out, "`%lld`", o->def.i);
	}
}

void vhs_job_print_reference(FILE *out)
{
	const struct job_key *o;

	fputs("| Key | Type | Default | Allowed | Description |\n", out);
	fputs("|-----|------|---------|---------|-------------|\n", out);
	for (o = job_keys; o < job_keys + job_n_keys; o++) {
		fprintf(out, "| `%s%s%s` | %s | ", o->section, *o->section ? "." : "", o->key,
			s_type_doc(o->type));
		s_print_default(out, o);
		fputs(" | ", out);
		s_print_allowed(out, o);
		fprintf(out, " | %s%s |\n", o->help,
			(o->flags & O_NO_PRESET) ? " (not in presets)" : "");
	}
}

