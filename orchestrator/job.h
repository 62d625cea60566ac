/* job.h: the job file, resolved: defaults < preset < job file < --set.
 *
 * DESIGN
 * Every key the job file accepts is one row of a table in job.c (section, key, type,
 * field offset, default, allowed range or values, one line of help), in the manner of
 * FFmpeg's AVOption rows. One generic routine applies a parsed TOML tree to a struct
 * vhs_job through that table, so presets, the job file and `--set section.key=value`
 * all go through the same checks, and the same table prints the reference (`--help-keys`)
 * and the resolved settings (`check`).
 *
 * Paths (input, output, temp_dir) are relative to the job file's directory and are
 * stored absolute. Presets live in configs/presets/NAME.toml and may set any key except
 * input, output and preset. A path given with --set is relative to the current directory
 * instead (it was typed in a shell). An empty temp_dir becomes the output's directory.
 *
 * Errors are one line, `FILE:LINE:COL: message`, e.g.
 *   job.toml:12:5: unknown key 'filtres' in [video] (did you mean 'filters'?)
 *   job.toml:3:7: 'crf' in [encode] must be an integer, not a string
 *   job.toml: missing required key 'input'
 *   --set encode.crf=abc: 'crf' in [encode] must be an integer, not a string
 */
#ifndef VHS_JOB_H
#define VHS_JOB_H

#include <stdint.h>
#include <stdio.h>

#include "stages.h"

#define VHS_JOB_STAGES VHS_PIPELINE_KINDS /* [stages.NAME] for the pipeline's stages */
#define VHS_JOB_MAX_KEYS 64 /* room in vhs_job.source; job.c checks its table fits */

/* Where a resolved value came from, lowest precedence first. */
enum vhs_job_source {
	VHS_JOB_SRC_DEFAULT, /* the option table in job.c */
	VHS_JOB_SRC_PRESET,  /* configs/presets/NAME.toml */
	VHS_JOB_SRC_JOB,     /* the job file */
	VHS_JOB_SRC_SET,     /* a --set string */
	VHS_JOB_SRC_ENHANCE, /* [audio] enhance filled a switch nothing else set */
};

struct vhs_job {
	char *path;             /* the job file as given */
	char *input;            /* absolute path of the capture */
	char *output;           /* absolute path of the restored file */
	char *preset;           /* none | vhs | dvd | webcam */

	struct {
		char *filters;  /* libavfilter chain for preprocess, after what the keys below
				 * put first; "" = none (null) */
		char *deinterlace; /* auto | bwdif | yadif | mc | ivtc | none */
		char *mc_preset;   /* fast | medium | slow: vhs_mcdeint's */
		int mc_sharpen;    /* vhs_mcdeint's resharpening, 16ths (0: none) */
		char *mc_device;   /* auto | cpu | cuda: where vhs_mcdeint runs (the same frames) */
		char *field_order; /* auto | tff | bff */
		char *levels;      /* auto | off | "BLACK:WHITE" (8-bit codes to 16:235) */
		char *chroma_shift; /* auto | off | "DX" or "DX,DY" (luma pixels to move it back) */
		char *head_switching; /* auto | off | lines at the bottom ("0" = off) */
		char *dropouts;    /* auto | off */
		const char *schedule; /* not a key: the chain per stretch the video analysis
				       * chose (proto/schedule.h), or NULL (filters throughout) */
	} video;

	struct {
		char *backend;  /* cpu | cuda | auto */
		char *model;    /* lanczos | bicubic | esrgan-slim | esrgan-medium | esrgan-thick */
		int width;      /* output width in pixels, 16..8192; 0 = input width; -1 =
				 * "auto": from the height and the display aspect */
		int height;     /* output height in pixels, 16..8192; 0 = input height; -1 =
				 * "auto": 1080 */
		int scale;      /* the network's scale (ESRGAN models): 2, 3, 4 or 8 */
		char *precision; /* fp16 | fp32: the network's arithmetic on a GPU */
	} upscale;

	struct {
		char *filters;  /* libavfilter chain for audio; "" = the switches below */
		char *enhance;  /* none | light | moderate | aggressive: fills the switches */
		char *hum;      /* auto | 50 | 60 | off */
		double hiss;    /* dB of hiss reduction; 0 = off */
		int declick;    /* 1: remove clicks */
		double loudness; /* LUFS target of the loudness pass; 0 = off */
		double true_peak; /* dBTP ceiling of the loudness pass */
		char *channels; /* auto | keep | mono */
	} audio;

	struct {
		char *codec;          /* video encoder name (libx264, libx265, ffv1, ...) */
		char *preset;         /* encoder speed preset, "" = encoder default */
		int crf;              /* quality for crf codecs, -1 = encoder default */
		char *pix_fmt;        /* output pixel format, e.g. yuv420p */
		char *audio_codec;    /* audio encoder name (aac, flac, pcm_s16le, ...) */
		char *audio_bitrate;  /* e.g. "192k"; "" = encoder default */
		char *sar;            /* "auto" (carry from frames) or "N:D", e.g. "1:1" */
	} encode;

	struct {
		int workers;          /* process count, >= 1 (0 = "auto") */
		int threads;          /* decoder/filter threads per worker (0 = "auto"); not for
				       * encode, whose encoder always picks its own, so that its
				       * bits do not depend on the worker count */
	} stages[VHS_JOB_STAGES]; /* indexed by enum vhs_stage_kind order */

	struct {
		double segment_seconds; /* > 0 */
		char *temp_dir;         /* absolute; default: the output's directory */
		int ring_slots;         /* slots per video edge, 3..64 */
		int frames;             /* restore only the first N frames; 0 = all */
		int warmup_frames;      /* warm-up for filters with unbounded memory */
		double audio_warmup;    /* seconds, for stateful audio filters */
		int restart_limit;      /* restarts of one stage within restart_window */
		double restart_window;  /* seconds */
		char *max_memory;       /* "auto", "N%" or a size: vhs_job_memory_bytes */
		char *gpu_edges;        /* "auto": frames stay on the GPU between stages; "off" */
	} run;

	unsigned char source[VHS_JOB_MAX_KEYS]; /* enum vhs_job_source of each key, in the
						 * option table's order; written by
						 * vhs_job_load, read by vhs_job_print */
};

/* Loads path, merging the preset it names (from preset_dir) under it and the sets
 * ("section.key=value" strings, or "key=value" for top-level keys) over it. A set's value
 * is read as a TOML value when it is one (1440, "x y", 'auto'), else as a bare string
 * (ffv1, hqdn3d=3:2:3:2); string keys take any unquoted text as it is. job need not be
 * initialised. Returns 0, or -EINVAL (bad content) / -errno (unreadable file) with one
 * line in err, and then leaves job zeroed. */
int vhs_job_load(struct vhs_job *job, const char *path, const char *preset_dir,
		 char *const *sets, int nsets, char *err, size_t errlen);

/* [run] max_memory in bytes, given the RAM: "auto" is half of it, "N%" a share of it,
 * "N" bytes, "NK", "NM", "NG", "NT" (also "NGB", "NGiB"; binary units, N may have a
 * fraction). Returns 0, or -EINVAL for anything else. */
int vhs_job_memory_bytes(const char *text, uint64_t ram, uint64_t *bytes);

/* Frees every string and zeroes the struct. Safe on a zeroed struct. */
void vhs_job_free(struct vhs_job *job);

/* The resolved settings as TOML text, every key, in table order, each with a comment
 * saying where its value came from (# default, # preset vhs, # job, # --set). The text
 * parses again, and loads again as a job file to the same settings. */
void vhs_job_print(const struct vhs_job *job, FILE *out);

/* The resolved settings as "section.key=value\n" lines (top-level keys without a
 * section, stages as "stages.preprocess.workers=1", "auto" workers as 0), the CONFIG blob
 * sent to stages. Values are escaped with \\ and \n. Returns a malloc'd string the
 * caller frees, or NULL on allocation failure. */
char *vhs_job_to_kv(const struct vhs_job *job);

/* Every accepted key with type, default and help, as Markdown (for docs/job-file.md). */
void vhs_job_print_reference(FILE *out);

#endif
