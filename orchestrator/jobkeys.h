/* jobkeys.h: the job file's keys, one table (jobkeys.c) like FFmpeg's AVOption rows:
 * section, key, type, offset of the field in struct vhs_job, default, allowed range or
 * values, flags and one line of help. job.c checks and applies values through it, jobprint.c
 * prints it; nothing else includes this.
 */
#ifndef VHS_JOBKEYS_H
#define VHS_JOBKEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "job.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum job_key_type {
	T_STRING,  /* any string */
	T_PATH,    /* a string, made absolute at the end */
	T_ENUM,    /* one of allowed[] */
	T_PRESET,  /* the name of a file in the preset directory */
	T_SAR,     /* "auto" or "N:D" */
	T_MEMORY,  /* "auto", "N%" of RAM, or bytes with an optional K/M/G/T suffix */
	T_INT,     /* integer in [min, max] (or 0 with O_ZERO_OK) */
	T_FLOAT,   /* integer or float in (min, max], or 0 with O_ZERO_OK */
	T_WORKERS, /* integer in [min, max], or "auto" stored as 0 (as -1 where O_ZERO_OK
		    * makes 0 a value of its own: job_key_auto()) */
	T_BOOL,    /* true or false, stored as 1 or 0 */
};

enum {
	O_REQUIRED = 1 << 0,  /* must be set by the job file or a --set */
	O_NO_PRESET = 1 << 1, /* a preset may not set it */
	O_ZERO_OK = 1 << 2,   /* T_INT, T_FLOAT: 0 is allowed besides the range */
	O_NUMBERS = 1 << 3,   /* T_ENUM: an integer is taken as its decimal text (hum = 50) */
	O_ENHANCE = 1 << 4,   /* [audio] enhance fills it when nothing set it (job_enhance[]) */
};

struct job_key {
	const char *section;  /* "" for top level, "video", "stages.decode", ... */
	const char *key;
	enum job_key_type type;
	size_t offset;        /* of the char * / int / double field in struct vhs_job */
	union {
		const char *s;    /* string types; NULL = unset */
		long long i;      /* T_INT, T_WORKERS */
		double f;         /* T_FLOAT */
	} def;
	double min, max;      /* numeric range */
	const char *const *allowed; /* T_ENUM: NULL-terminated words, and value forms in
				     * angle brackets (job_listed) */
	unsigned flags;       /* O_* */
	const char *help;
};

extern const struct job_key job_keys[];
extern const size_t job_n_keys;
extern const char *const job_sections[];    /* the job file's sections, NULL-terminated */
extern const char *const job_stage_names[]; /* [stages.NAME], NULL-terminated */
extern const char *const job_source_names[]; /* enum vhs_job_source, as words */
extern const size_t job_n_source_names;

/* What each [audio] enhance preset puts in the switches nothing else set. */
struct job_enhance_row {
	const char *name, *hum, *channels;
	double hiss, loudness; /* dB, LUFS (0 = off) */
	int declick;
};
extern const struct job_enhance_row job_enhance[];
extern const size_t job_n_enhance;

/* The row of section.key, or NULL. */
const struct job_key *job_key_find(const char *section, const char *key);
/* The row number of o (its index in job_keys and vhs_job.source). */
size_t job_key_row(const struct job_key *o);

/* What a T_WORKERS row stores for "auto": 0, or -1 when 0 is a value of its own. */
int job_key_auto(const struct job_key *o);
bool job_key_is_text(enum job_key_type t);
char **job_key_str(struct vhs_job *job, const struct job_key *o);
int *job_key_int(struct vhs_job *job, const struct job_key *o);
double *job_key_float(struct vhs_job *job, const struct job_key *o);
const char *job_key_expected(const struct job_key *o);
int job_key_set_str(struct vhs_job *job, const struct job_key *o, const char *s);
int job_key_defaults(struct vhs_job *job);

/* ---- jobvalues.c ---- */

bool job_listed(const char *s, const char *const *list);

/* Whether s is a value of form: "<lines 0-32>", "<black:white>" (8-bit codes, black at
 * least 8 below white), "<dx,dy>" (one or two numbers within +-8). */
bool job_value_form(const char *form, const char *s);
bool job_sar_ok(const char *s);
bool job_preset_name_ok(const char *s);
int job_preset_path(const char *dir, const char *name, char **path);
char **job_list_presets(const char *dir);
void job_free_list(char **list);
int job_resolve_paths(struct vhs_job *job);
/* s as a TOML basic string, quotes and escapes included (malloc'd), or NULL. */
char *job_quote(const char *s);

#endif
