/* job.c: the job file, resolved through one option table (see job.h).
 *
 * DESIGN
 * s_opts[] has one row per accepted key, like FFmpeg's AVOption rows: section, key,
 * type, offset of the field in struct vhs_job, default, allowed range or values, flags
 * and one line of help. Everything else is generic code over that table:
 *
 *   s_defaults()      row defaults into the struct                      (source: default)
 *   s_apply_root()    a parsed preset or job file, key by key           (preset / job)
 *   s_apply_set()     one "section.key=value" string                    (--set)
 *   s_resolve_paths() input, output, temp_dir made absolute
 *   vhs_job_print / vhs_job_to_kv / vhs_job_print_reference: the table, printed
 *
 * Every value goes through s_apply_opt(), which checks type and range and records the
 * value's source in job->source[row], so a later layer simply overwrites an earlier one:
 * defaults < preset < job file < --set. The preset is named by the job file or a --set,
 * so that key is applied first, then the preset file, then the whole job file, then the
 * sets in order.
 *
 * Paths are stored as given until the end, then made absolute against the job file's
 * directory (values from the job file or preset) or the current directory (values from
 * --set, typed in a shell). Nothing is resolved through symlinks and nothing needs to
 * exist. "." components and repeated slashes are dropped; ".." is kept, because
 * dropping it lexically is wrong when the directory before it is a symlink.
 *
 * Errors are one line in the caller's buffer: `FILE:LINE:COL: message` for files,
 * `--set TEXT: message` for sets. Unknown keys, sections and stages get the closest
 * known name (optimal string alignment distance <= 2) as a suggestion.
 */
#include "job.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suggest.h"
#include "toml.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OFF(field) offsetof(struct vhs_job, field)

enum s_type {
	T_STRING,  /* any string */
	T_PATH,    /* a string, made absolute at the end */
	T_ENUM,    /* one of allowed[] */
	T_PRESET,  /* the name of a file in the preset directory */
	T_SAR,     /* "auto" or "N:D" */
	T_MEMORY,  /* "auto", "N%" of RAM, or bytes with an optional K/M/G/T suffix */
	T_INT,     /* integer in [min, max] (or 0 with O_ZERO_OK) */
	T_FLOAT,   /* integer or float in (min, max], or 0 with O_ZERO_OK */
	T_WORKERS, /* integer in [min, max], or "auto" stored as 0 */
	T_BOOL,    /* true or false, stored as 1 or 0 */
};

enum {
	O_REQUIRED = 1 << 0,  /* must be set by the job file or a --set */
	O_NO_PRESET = 1 << 1, /* a preset may not set it */
	O_ZERO_OK = 1 << 2,   /* T_INT, T_FLOAT: 0 is allowed besides the range */
	O_NUMBERS = 1 << 3,   /* T_ENUM: an integer is taken as its decimal text (hum = 50) */
	O_ENHANCE = 1 << 4,   /* [audio] enhance fills it when nothing set it (s_enhance[]) */
};

struct s_opt {
	const char *section;  /* "" for top level, "video", "stages.decode", ... */
	const char *key;
	enum s_type type;
	size_t offset;        /* of the char * / int / double field in struct vhs_job */
	union {
		const char *s;    /* string types; NULL = unset */
		long long i;      /* T_INT, T_WORKERS */
		double f;         /* T_FLOAT */
	} def;
	double min, max;      /* numeric range */
	const char *const *allowed; /* T_ENUM: NULL-terminated */
	unsigned flags;       /* O_* */
	const char *help;
};

static const char *const s_backends[] = { "cpu", "cuda", "auto", NULL };
static const char *const s_scales[] = { "2", "3", "4", "8", NULL };
static const char *const s_precisions[] = { "fp16", "fp32", NULL };
static const char *const s_gpu_edges[] = { "auto", "off", NULL };
static const char *const s_enhances[] = { "none", "light", "moderate", "aggressive", NULL };
static const char *const s_hums[] = { "auto", "50", "60", "off", NULL };
static const char *const s_channels[] = { "auto", "keep", "mono", NULL };
static const char *const s_models[] = { "lanczos", "bicubic", "esrgan-slim", "esrgan-medium",
					"esrgan-thick", NULL };

#define S_WORKERS(name, idx, what)                                                        \
	{ "stages." name, "workers", T_WORKERS, OFF(stages[idx].workers), { .i = 1 }, 1, 256, \
	  NULL, 0, "processes running the " what " stage, or \"auto\"" }
#define S_THREADS(name, idx, what, auto_is)                                               \
	{ "stages." name, "threads", T_WORKERS, OFF(stages[idx].threads), { .i = 0 }, 1, 256, \
	  NULL, 0, "threads each " what " worker uses; \"auto\" = " auto_is }

/* [stages.NAME] workers, and threads where the stage takes it (proto/stages.h) */
#define S_THREADS_THREADS(name, idx, auto_is) S_THREADS(name, idx, name, auto_is),
#define S_THREADS_NO_THREADS(name, idx, auto_is)
#define S_STAGE_KEYS(kind, name, threads, auto_is) \
	S_WORKERS(name, VHS_##kind, name), S_THREADS_##threads(name, VHS_##kind, auto_is)

static const struct s_opt s_opts[] = {
	{ "", "input", T_PATH, OFF(input), { .s = NULL }, 0, 0, NULL, O_REQUIRED | O_NO_PRESET,
	  "the capture to restore, relative to the job file" },
	{ "", "output", T_PATH, OFF(output), { .s = NULL }, 0, 0, NULL, O_REQUIRED | O_NO_PRESET,
	  "the restored file to write, relative to the job file" },
	{ "", "preset", T_PRESET, OFF(preset), { .s = "none" }, 0, 0, NULL, O_NO_PRESET,
	  "defaults to start from: a file in configs/presets (none, vhs, dvd, webcam)" },
	{ "video", "filters", T_STRING, OFF(video.filters), { .s = "" }, 0, 0, NULL, 0,
	  "preprocess chain in libavfilter syntax; \"\" = none" },
	{ "upscale", "backend", T_ENUM, OFF(upscale.backend), { .s = "cpu" }, 0, 0, s_backends, 0,
	  "where the upscaler runs" },
	{ "upscale", "model", T_ENUM, OFF(upscale.model), { .s = "lanczos" }, 0, 0, s_models, 0,
	  "scaling kernel or ESRGAN model" },
	{ "upscale", "width", T_INT, OFF(upscale.width), { .i = 0 }, 16, 8192, NULL, O_ZERO_OK,
	  "output width in pixels; 0 = the input's (an ESRGAN model's: input x scale)" },
	{ "upscale", "height", T_INT, OFF(upscale.height), { .i = 0 }, 16, 8192, NULL, O_ZERO_OK,
	  "output height in pixels; 0 = the input's (an ESRGAN model's: input x scale)" },
	{ "upscale", "scale", T_INT, OFF(upscale.scale), { .i = 2 }, 2, 8, s_scales, 0,
	  "ESRGAN models: the network's scale (2, 3, 4 or 8); width x height is then reached by lanczos" },
	{ "upscale", "precision", T_ENUM, OFF(upscale.precision), { .s = "fp16" }, 0, 0, s_precisions, 0,
	  "ESRGAN models on a GPU: fp16 (tensor cores) or fp32 arithmetic" },
	{ "audio", "filters", T_STRING, OFF(audio.filters), { .s = "" }, 0, 0, NULL, 0,
	  "audio chain in libavfilter syntax, instead of the enhancement switches below; \"\" = "
	  "none (the switches apply)" },
	{ "audio", "enhance", T_ENUM, OFF(audio.enhance), { .s = "none" }, 0, 0, s_enhances, 0,
	  "tape audio enhancement preset: fills hum, hiss, declick, loudness and channels where "
	  "nothing else set them (not with filters)" },
	{ "audio", "hum", T_ENUM, OFF(audio.hum), { .s = "off" }, 0, 0, s_hums,
	  O_NUMBERS | O_ENHANCE, "mains hum notches (fundamental and 7 harmonics): \"auto\" finds "
	  "50 or 60 Hz and the exact frequency in the tape's spectrum" },
	{ "audio", "hiss", T_FLOAT, OFF(audio.hiss), { .f = 0 }, 0, 40, NULL, O_ZERO_OK | O_ENHANCE,
	  "broadband hiss reduction in dB, with the noise profile of the tape's quietest "
	  "passages; 0 = off" },
	{ "audio", "declick", T_BOOL, OFF(audio.declick), { .i = 0 }, 0, 1, NULL, O_ENHANCE,
	  "remove clicks and crackle (impulsive noise)" },
	{ "audio", "loudness", T_FLOAT, OFF(audio.loudness), { .f = 0 }, -70, -5, NULL,
	  O_ZERO_OK | O_ENHANCE, "EBU R128 programme loudness in LUFS, by one gain over the whole "
	  "tape and a true-peak limiter; 0 = off" },
	{ "audio", "true_peak", T_FLOAT, OFF(audio.true_peak), { .f = -1 }, -20, 0, NULL, 0,
	  "the true-peak ceiling of the loudness pass, in dBTP" },
	{ "audio", "channels", T_ENUM, OFF(audio.channels), { .s = "keep" }, 0, 0, s_channels,
	  O_ENHANCE, "\"auto\": mono when both channels carry the same track (linear tape "
	  "audio) or one is dead, else kept; \"mono\": always; \"keep\": as captured" },
	{ "encode", "codec", T_STRING, OFF(encode.codec), { .s = "libx264" }, 0, 0, NULL, 0,
	  "video encoder (libx264, libx265, ffv1, h264_nvenc, ...)" },
	{ "encode", "preset", T_STRING, OFF(encode.preset), { .s = "" }, 0, 0, NULL, 0,
	  "encoder speed preset; \"\" = the encoder's default" },
	{ "encode", "crf", T_INT, OFF(encode.crf), { .i = -1 }, -1, 63, NULL, 0,
	  "constant rate factor; -1 = the encoder's default" },
	{ "encode", "pix_fmt", T_STRING, OFF(encode.pix_fmt), { .s = "yuv420p" }, 0, 0, NULL, 0,
	  "output pixel format" },
	{ "encode", "audio_codec", T_STRING, OFF(encode.audio_codec), { .s = "aac" }, 0, 0, NULL, 0,
	  "audio encoder (aac, flac, pcm_s16le, ...)" },
	{ "encode", "audio_bitrate", T_STRING, OFF(encode.audio_bitrate), { .s = "192k" }, 0, 0,
	  NULL, 0, "audio bitrate, e.g. \"192k\"; \"\" = the encoder's default" },
	{ "encode", "sar", T_SAR, OFF(encode.sar), { .s = "auto" }, 0, 0, NULL, 0,
	  "sample aspect ratio to write: \"auto\" (from the frames) or \"N:D\"" },
	VHS_PIPELINE_STAGES(S_STAGE_KEYS)
	{ "run", "segment_seconds", T_FLOAT, OFF(run.segment_seconds), { .f = 10 }, 0, 86400, NULL,
	  O_ZERO_OK, "length of the segments the capture is cut into, in seconds (cut at the next "
	  "keyframe); 0 = one segment" },
	{ "run", "temp_dir", T_PATH, OFF(run.temp_dir), { .s = "" }, 0, 0, NULL, 0,
	  "directory for the work dir (finished segments and the manifest); \"\" = the output's "
	  "directory" },
	{ "run", "frames", T_INT, OFF(run.frames), { .i = 0 }, 0, 2147483647, NULL, 0,
	  "restore only the first N frames (a trial run, a profile); 0 = all" },
	{ "run", "ring_slots", T_INT, OFF(run.ring_slots), { .i = 8 }, 3, 64, NULL, 0,
	  "frame slots per video edge in shared memory" },
	{ "run", "warmup_frames", T_INT, OFF(run.warmup_frames), { .i = 30 }, 0, 10000, NULL, 0,
	  "frames decoded before and after a segment for filters with unbounded memory "
	  "(temporal hqdn3d, unknown filters)" },
	{ "run", "audio_warmup", T_FLOAT, OFF(run.audio_warmup), { .f = 3 }, 0, 600, NULL, O_ZERO_OK,
	  "seconds of audio decoded before and after a segment for stateful audio filters" },
	{ "run", "restart_limit", T_INT, OFF(run.restart_limit), { .i = 5 }, 0, 64, NULL, 0,
	  "restarts of one stage allowed within restart_window; one more fails the job" },
	{ "run", "restart_window", T_FLOAT, OFF(run.restart_window), { .f = 60 }, 0, 86400, NULL, 0,
	  "the window of restart_limit, in seconds" },
	{ "run", "max_memory", T_MEMORY, OFF(run.max_memory), { .s = "auto" }, 0, 0, NULL, 0,
	  "memory the run may use (rings and stage processes): \"auto\" (half the RAM), \"N%\" "
	  "of the RAM, or a size such as \"6G\" or \"512M\"" },
	{ "run", "gpu_edges", T_ENUM, OFF(run.gpu_edges), { .s = "auto" }, 0, 0, s_gpu_edges, 0,
	  "\"auto\": frames the upscaler makes on a GPU stay there on their way to the encode stage "
	  "(CUDA IPC); \"off\": through host shared memory" },
};

_Static_assert(ARRAY_SIZE(s_opts) <= VHS_JOB_MAX_KEYS, "vhs_job.source is too small");

static const char *const s_sections[] = { "video", "upscale", "audio", "encode", "stages",
					  "run", NULL };
#define S_STAGE_NAME(kind, name, threads, auto_is) name,
static const char *const s_stage_names[] = { VHS_PIPELINE_STAGES(S_STAGE_NAME) NULL };
static const char *const s_source_names[] = { "default", "preset", "job", "--set", "enhance" };

/* What each [audio] enhance preset puts in the switches nothing else set. */
static const struct s_enhance_row {
	const char *name, *hum, *channels;
	double hiss, loudness; /* dB, LUFS (0 = off) */
	int declick;
} s_enhance[] = {
	{ "none", "off", "keep", 0, 0, 0 },
	{ "light", "auto", "auto", 8, -16, 0 },
	{ "moderate", "auto", "auto", 15, -16, 1 },
	{ "aggressive", "auto", "auto", 24, -16, 1 },
};

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

/* ---- the table ----------------------------------------------------------------------- */

static const struct s_opt *s_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(s_opts); i++)
		if (!strcmp(s_opts[i].section, section) && !strcmp(s_opts[i].key, key))
			return &s_opts[i];
	return NULL;
}

static size_t s_row(const struct s_opt *o)
{
	return (size_t)(o - s_opts);
}

static bool s_is_text(enum s_type t)
{
	return t == T_STRING || t == T_PATH || t == T_ENUM || t == T_PRESET || t == T_SAR ||
	       t == T_MEMORY;
}

static char **s_str_field(struct vhs_job *job, const struct s_opt *o)
{
	return (char **)((char *)job + o->offset);
}

static int *s_int_field(struct vhs_job *job, const struct s_opt *o)
{
	return (int *)((char *)job + o->offset);
}

static double *s_float_field(struct vhs_job *job, const struct s_opt *o)
{
	return (double *)((char *)job + o->offset);
}

static const char *s_expected(const struct s_opt *o)
{
	enum s_type t = o->type;

	if (o->flags & O_NUMBERS)
		return "a string or an integer";
	if (t == T_BOOL)
		return "true or false";
	if (s_is_text(t))
		return "a string";
	if (t == T_INT)
		return "an integer";
	if (t == T_FLOAT)
		return "a number";
	return "an integer or \"auto\"";
}

/* Replaces a string field with a copy of s. */
static int s_set_str(struct vhs_job *job, const struct s_opt *o, const char *s)
{
	char **field = s_str_field(job, o), *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int s_defaults(struct vhs_job *job)
{
	const struct s_opt *o;

	for (o = s_opts; o < s_opts + ARRAY_SIZE(s_opts); o++) {
		job->source[s_row(o)] = VHS_JOB_SRC_DEFAULT;
		if (o->type == T_INT || o->type == T_WORKERS || o->type == T_BOOL)
			*s_int_field(job, o) = (int)o->def.i;
		if (o->type == T_FLOAT)
			*s_float_field(job, o) = o->def.f;
		if (s_is_text(o->type) && o->def.s && s_set_str(job, o, o->def.s))
			return -ENOMEM;
	}
	return 0;
}

/* ---- checking one value -------------------------------------------------------------- */

static bool s_listed(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
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

static bool s_sar_ok(const char *s)
{
	if (!strcmp(s, "auto"))
		return true;
	return s_ratio_part(&s) && *s++ == ':' && s_ratio_part(&s) && !*s;
}

static bool s_preset_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static int s_preset_path(const char *dir, const char *name, char **path)
{
	return asprintf(path, "%s/%s.toml", dir, name) < 0 ? -ENOMEM : 0;
}

static int s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The presets in dir (names of *.toml files, plus "none"), sorted; NULL-terminated. */
static char **s_list_presets(const char *dir)
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

static void s_free_list(char **list)
{
	size_t i;

	for (i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

static int s_unknown_preset(const struct s_ctx *c, const struct toml_value *v)
{
	char **names = s_list_presets(c->preset_dir), list[512] = "", sug[128];
	size_t i, at = 0;
	int ret;

	for (i = 0; names && names[i] && at < sizeof(list); i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "",
				       names[i]);
	ret = s_fail(c, v->line, v->col, "unknown preset '%s'%s; presets in %s: %s", v->u.s,
		     names ? vhs_suggest(v->u.s, (const char *const *)names, "'", "'", sug,
				       sizeof(sug)) : "",
		     c->preset_dir, list);
	s_free_list(names);
	return ret;
}

static int s_check_preset(const struct s_ctx *c, const struct toml_value *v)
{
	struct stat st;
	char *path;
	int ret;

	if (!strcmp(v->u.s, "none"))
		return 0;
	if (!s_preset_name_ok(v->u.s))
		return s_unknown_preset(c, v);
	if (s_preset_path(c->preset_dir, v->u.s, &path))
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

static int s_bad_enum(const struct s_ctx *c, const struct s_opt *o, const struct toml_value *v)
{
	char list[256], sug[128], in[64];

	s_list(o->allowed, list, sizeof(list));
	return s_fail(c, v->line, v->col, "'%s'%s must be one of %s, not '%s'%s", o->key,
		      s_in(o->section, "", in, sizeof(in)), list, v->u.s,
		      vhs_suggest(v->u.s, o->allowed, "'", "'", sug, sizeof(sug)));
}

static int s_check_text(const struct s_ctx *c, const struct s_opt *o, const struct toml_value *v)
{
	char in[64];
	const char *sect = s_in(o->section, "", in, sizeof(in));

	if (strlen(v->u.s) != v->len)
		return s_fail(c, v->line, v->col, "'%s'%s must not contain U+0000", o->key, sect);
	if ((o->flags & O_REQUIRED) && !*v->u.s)
		return s_fail(c, v->line, v->col, "'%s'%s must not be empty", o->key, sect);
	if (o->type == T_ENUM && !s_listed(v->u.s, o->allowed))
		return s_bad_enum(c, o, v);
	if (o->type == T_SAR && !s_sar_ok(v->u.s))
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

static int s_check_int(const struct s_ctx *c, const struct s_opt *o, const struct toml_value *v)
{
	char in[64], num[32], list[64];
	bool zero = (o->flags & O_ZERO_OK) && v->u.i == 0;

	snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
	if (o->allowed && !s_listed(num, o->allowed))
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

static int s_check_float(const struct s_ctx *c, const struct s_opt *o, double f,
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

static int s_check_workers(const struct s_ctx *c, const struct s_opt *o,
			   const struct toml_value *v)
{
	char in[64];

	if (v->type == TOML_STRING && strcmp(v->u.s, "auto"))
		return s_fail(c, v->line, v->col, "'%s'%s must be an integer or \"auto\", not '%s'",
			      o->key, s_in(o->section, "", in, sizeof(in)), v->u.s);
	if (v->type == TOML_STRING || (v->u.i >= (int64_t)o->min && v->u.i <= (int64_t)o->max))
		return 0;
	return s_fail(c, v->line, v->col,
		      "'%s'%s must be \"auto\" or between %lld and %lld, not %lld", o->key,
		      s_in(o->section, "", in, sizeof(in)), (long long)o->min, (long long)o->max,
		      (long long)v->u.i);
}

static bool s_type_ok(const struct s_opt *o, enum toml_type vt)
{
	enum s_type t = o->type;

	if ((o->flags & O_NUMBERS) && vt == TOML_INTEGER)
		return true;
	if (t == T_BOOL)
		return vt == TOML_BOOL;
	if (s_is_text(t))
		return vt == TOML_STRING;
	if (t == T_INT)
		return vt == TOML_INTEGER;
	if (t == T_FLOAT)
		return vt == TOML_INTEGER || vt == TOML_FLOAT;
	return vt == TOML_INTEGER || vt == TOML_STRING;
}

/* Checks v against row o and stores it; the single way a value enters the struct. */
static int s_apply_opt(const struct s_ctx *c, const struct s_opt *o, const struct toml_value *v)
{
	struct toml_value text;
	char in[64], num[32];
	double f;
	int ret;

	if (c->src == VHS_JOB_SRC_PRESET && (o->flags & O_NO_PRESET))
		return s_fail(c, v->line, v->col, "'%s' cannot be set by a preset", o->key);
	if (!s_type_ok(o, v->type))
		return s_fail(c, v->line, v->col, "'%s'%s must be %s, not %s %s", o->key,
			      s_in(o->section, "", in, sizeof(in)), s_expected(o),
			      s_a(v->type), toml_type_name(v->type));
	if (s_is_text(o->type) && v->type == TOML_INTEGER) { /* O_NUMBERS: 50 is "50" */
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
	else if (s_is_text(o->type))
		ret = s_check_text(c, o, v);
	else if (o->type == T_INT)
		ret = s_check_int(c, o, v);
	else if (o->type == T_FLOAT)
		ret = s_check_float(c, o, f, v);
	else
		ret = s_check_workers(c, o, v);
	if (ret)
		return ret;
	if (s_is_text(o->type) && s_set_str(c->job, o, v->u.s))
		return s_oom(c);
	if (o->type == T_INT)
		*s_int_field(c->job, o) = (int)v->u.i;
	if (o->type == T_BOOL)
		*s_int_field(c->job, o) = v->u.b;
	if (o->type == T_WORKERS)
		*s_int_field(c->job, o) = v->type == TOML_STRING ? 0 : (int)v->u.i;
	if (o->type == T_FLOAT)
		*s_float_field(c->job, o) = f;
	c->job->source[s_row(o)] = (unsigned char)c->src;
	return 0;
}

/* ---- applying trees ------------------------------------------------------------------ */

/* The keys of a section, NULL-terminated, for suggestions. */
static void s_section_keys(const char *section, const char **keys, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(s_opts) && n + 1 < max; i++)
		if (!strcmp(s_opts[i].section, section))
			keys[n++] = s_opts[i].key;
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
		      vhs_suggest(name, s_sections, "[", "]", sug, sizeof(sug)));
}

static int s_unknown_stage(const struct s_ctx *c, const char *name, int line, int col)
{
	char sug[128];

	return s_fail(c, line, col, "unknown stage '%s' in [stages]%s", name,
		      vhs_suggest(name, s_stage_names, "'", "'", sug, sizeof(sug)));
}

static int s_apply_key(const struct s_ctx *c, const char *section, const struct toml_kv *kv)
{
	const struct s_opt *o = s_find(section, kv->key);

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
		if (!s_listed(kv->key, s_stage_names))
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
	bool is_section = s_listed(kv->key, s_sections);

	if (is_section && kv->val->type != TOML_TABLE)
		return s_not_table(c, "section ", kv);
	if (!strcmp(kv->key, "stages"))
		return s_apply_stages(c, kv->val);
	if (is_section)
		return s_apply_section(c, kv->key, kv->val);
	if (kv->val->type == TOML_TABLE && !s_find("", kv->key))
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

/* s as a TOML basic string, quotes included; NULL on allocation failure. */
static char *s_quote(const char *s)
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
static int s_set_value(const struct s_ctx *c, const struct s_opt *o, const char *raw,
		       struct toml_value **root, const struct toml_value **val)
{
	char *quoted;
	int ret = 0;

	if (!strpbrk(raw, "\r\n"))
		ret = s_parse_one(raw, root);
	*val = *root ? toml_get(*root, "v") : NULL;
	if (!ret && *val && s_is_text(o->type) && (*val)->type != TOML_STRING)
		toml_free(root);
	if (ret || *root)
		return ret ? s_oom(c) : 0;
	quoted = s_quote(raw);
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
	if (!*section || s_listed(section, s_sections))
		return 0;
	if (!strncmp(section, "stages.", 7)) {
		if (s_listed(section + 7, s_stage_names))
			return 0;
		return s_unknown_stage(c, section + 7, 0, 0);
	}
	return s_unknown_section(c, section, 0, 0);
}

static int s_apply_set(struct s_ctx *c, const char *text)
{
	struct toml_value *root = NULL;
	const struct toml_value *val = NULL;
	const struct s_opt *o;
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
	o = s_find(dot ? path : "", key);
	ret = o ? s_set_value(c, o, s_trim(eq + 1), &root, &val)
		: s_unknown_key(c, dot ? path : "", key, 0, 0);
	if (!ret)
		ret = s_apply_opt(c, o, val);
out:
	toml_free(&root);
	free(copy);
	return ret;
}

/* ---- paths --------------------------------------------------------------------------- */

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

static int s_resolve_one(struct vhs_job *job, const struct s_opt *o, const char *job_dir)
{
	char **field = s_str_field(job, o), cwd[4096], *abs;
	const char *base = job_dir;

	if (!*field || !**field)
		return 0;
	if (job->source[s_row(o)] == VHS_JOB_SRC_SET) {
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
static int s_resolve_paths(struct vhs_job *job)
{
	char *dir;
	size_t i;
	int ret;

	ret = s_job_dir(job->path, &dir);
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(s_opts) && !ret; i++)
		if (s_opts[i].type == T_PATH)
			ret = s_resolve_one(job, &s_opts[i], dir);
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
		ret = s_apply_opt(c, s_find("", "preset"), kv->val);
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

	if (s_preset_path(c->preset_dir, c->job->preset, &path))
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

	for (i = 0; i < ARRAY_SIZE(s_opts); i++) {
		if (!(s_opts[i].flags & O_REQUIRED) || *s_str_field(c->job, &s_opts[i]))
			continue;
		if (c->err && c->errlen) {
			snprintf(c->err, c->errlen, "%s: missing required key '%s'", c->job->path,
				 s_opts[i].key);
			toml_one_line(c->err, c->errlen);
		}
		return -EINVAL;
	}
	return 0;
}

/* Row o's value as the enhance preset row e has it, with source "enhance". */
static int s_enhance_one(struct vhs_job *job, const struct s_opt *o, const struct s_enhance_row *e)
{
	const char *k = o->key;

	job->source[s_row(o)] = VHS_JOB_SRC_ENHANCE;
	if (!strcmp(k, "hum") || !strcmp(k, "channels"))
		return s_set_str(job, o, !strcmp(k, "hum") ? e->hum : e->channels);
	if (!strcmp(k, "hiss"))
		*s_float_field(job, o) = e->hiss;
	else if (!strcmp(k, "loudness"))
		*s_float_field(job, o) = e->loudness;
	else
		*s_int_field(job, o) = e->declick;
	return 0;
}

/* [audio] enhance fills the switches nothing set. An explicit filters chain replaces the
 * enhancement: then nothing is filled, and the chain switches may not be set at all (the
 * loudness pass, which follows any chain, may). */
static int s_apply_enhance(const struct s_ctx *c)
{
	struct vhs_job *job = c->job;
	const struct s_enhance_row *e = &s_enhance[0];
	bool chain = *job->audio.filters;

	for (size_t i = 0; i < ARRAY_SIZE(s_enhance); i++)
		if (!strcmp(s_enhance[i].name, job->audio.enhance))
			e = &s_enhance[i];
	for (const struct s_opt *o = s_opts; o < s_opts + ARRAY_SIZE(s_opts); o++) {
		bool set = job->source[s_row(o)] != VHS_JOB_SRC_DEFAULT;

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
		if (!chain && !set && e != &s_enhance[0] && s_enhance_one(job, o, e))
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
	if (!job->path || s_defaults(job)) {
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
	ret = s_resolve_paths(job);
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
	for (i = 0; i < ARRAY_SIZE(s_opts); i++)
		if (s_is_text(s_opts[i].type))
			free(*s_str_field(job, &s_opts[i]));
	free(job->path);
	memset(job, 0, sizeof(*job));
}

/* ---- printing ------------------------------------------------------------------------ */

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
static void s_print_value(FILE *f, const struct vhs_job *job, const struct s_opt *o, bool toml)
{
	char num[64], *q;
	const char *s;
	int i;

	if (s_is_text(o->type)) {
		s = *s_str_field((struct vhs_job *)job, o);
		s = s ? s : "";
		q = toml ? s_quote(s) : NULL;
		if (q)
			fputs(q, f);
		for (; !toml && *s; s++)
			fputs(*s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : (char[2]){ *s, 0 }, f);
		free(q);
		return;
	}
	if (o->type == T_FLOAT) {
		s_fmt_double(*s_float_field((struct vhs_job *)job, o), num, sizeof(num));
		fputs(num, f);
		return;
	}
	i = *s_int_field((struct vhs_job *)job, o);
	if (toml && o->type == T_BOOL)
		fputs(i ? "true" : "false", f);
	else if (toml && o->type == T_WORKERS && i == 0)
		fputs("\"auto\"", f);
	else
		fprintf(f, "%d", i);
}

static void s_print_row(FILE *out, const struct vhs_job *job, const struct s_opt *o)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	int src = job->source[s_row(o)];

	if (!f)
		return;
	fprintf(f, "%s = ", o->key);
	s_print_value(f, job, o, true);
	if (fclose(f))
		return;
	fprintf(out, "%-40s # %s", line, s_source_names[src < (int)ARRAY_SIZE(s_source_names) ? src : 0]);
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
	for (i = 0; i < ARRAY_SIZE(s_opts); i++) {
		if (strcmp(s_opts[i].section, section)) {
			section = s_opts[i].section;
			fprintf(out, "\n[%s]\n", section);
		}
		s_print_row(out, job, &s_opts[i]);
	}
}

char *vhs_job_to_kv(const struct vhs_job *job)
{
	const struct s_opt *o;
	char *blob = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&blob, &len);

	if (!f)
		return NULL;
	for (o = s_opts; o < s_opts + ARRAY_SIZE(s_opts); o++) {
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

static const char *s_type_doc(enum s_type t)
{
	static const char *const names[] = {
		[T_STRING] = "string", [T_PATH] = "path",   [T_ENUM] = "string",  [T_PRESET] = "string",
		[T_SAR] = "string",    [T_MEMORY] = "string", [T_INT] = "integer", [T_FLOAT] = "number",
		[T_WORKERS] = "integer or \"auto\"", [T_BOOL] = "boolean",
	};

	return names[t];
}

/* The allowed values or range of a row, as Markdown. */
static void s_print_allowed(FILE *out, const struct s_opt *o)
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
		fprintf(out, "%g..%g or `\"auto\"`", o->min, o->max);
	else if (o->type == T_BOOL)
		fputs("`true`, `false`", out);
}

static void s_print_default(FILE *out, const struct s_opt *o)
{
	const char *s;

	if (o->flags & O_REQUIRED) {
		fputs("(required)", out);
	} else if (s_is_text(o->type)) {
		fputc('`', out);
		for (s = o->def.s; *s; s++)
			fputs(*s == '|' ? "\\|" : (char[2]){ *s, 0 }, out);
		fprintf(out, "%s`", *o->def.s ? "" : "\"\"");
	} else if (o->type == T_FLOAT) {
		fprintf(out, "`%g`", o->def.f);
	} else if (o->type == T_WORKERS && o->def.i == 0) {
		fputs("`\"auto\"`", out);
	} else if (o->type == T_BOOL) {
		fputs(o->def.i ? "`true`" : "`false`", out);
	} else {
		fprintf(out, "`%lld`", o->def.i);
	}
}

void vhs_job_print_reference(FILE *out)
{
	const struct s_opt *o;

	fputs("| Key | Type | Default | Allowed | Description |\n", out);
	fputs("|-----|------|---------|---------|-------------|\n", out);
	for (o = s_opts; o < s_opts + ARRAY_SIZE(s_opts); o++) {
		fprintf(out, "| `%s%s%s` | %s | ", o->section, *o->section ? "." : "", o->key,
			s_type_doc(o->type));
		s_print_default(out, o);
		fputs(" | ", out);
		s_print_allowed(out, o);
		fprintf(out, " | %s%s |\n", o->help,
			(o->flags & O_NO_PRESET) ? " (not in presets)" : "");
	}
}
