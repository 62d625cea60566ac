/* jobkeys.c: the job file's keys (see jobkeys.h): the table, and reading and writing a
 * row's field in struct vhs_job. */
#include "jobkeys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OFF(field) offsetof(struct vhs_job, field)

static const char *const s_backends[] = { "cpu", "cuda", "auto", NULL };
static const char *const s_scales[] = { "2", "3", "4", "8", NULL };
static const char *const s_precisions[] = { "fp16", "fp32", NULL };
static const char *const s_gpu_edges[] = { "auto", "off", NULL };
static const char *const s_enhances[] = { "none", "light", "moderate", "aggressive", NULL };
static const char *const s_hums[] = { "auto", "50", "60", "off", NULL };
static const char *const s_channels[] = { "auto", "keep", "mono", NULL };
static const char *const s_deinterlacers[] = { "auto", "bwdif", "yadif", "mc", "ivtc", "none", NULL };
static const char *const s_mc_presets[] = { "fast", "medium", "slow", NULL };
static const char *const s_field_orders[] = { "auto", "tff", "bff", NULL };
static const char *const s_levels[] = { "auto", "off", "<black:white>", NULL };
static const char *const s_chroma_shifts[] = { "auto", "off", "<dx,dy>", NULL };
static const char *const s_head_switching[] = { "auto", "off", "<lines 0-32>", NULL };
static const char *const s_dropouts[] = { "auto", "off", NULL };
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

const struct job_key job_keys[] = {
	{ "", "input", T_PATH, OFF(input), { .s = NULL }, 0, 0, NULL, O_REQUIRED | O_NO_PRESET,
	  "the capture to restore, relative to the job file" },
	{ "", "output", T_PATH, OFF(output), { .s = NULL }, 0, 0, NULL, O_REQUIRED | O_NO_PRESET,
	  "the restored file to write, relative to the job file" },
	{ "", "preset", T_PRESET, OFF(preset), { .s = "none" }, 0, 0, NULL, O_NO_PRESET,
	  "defaults to start from: a file in configs/presets (none, vhs, dvd, webcam)" },
	{ "video", "filters", T_STRING, OFF(video.filters), { .s = "" }, 0, 0, NULL, 0,
	  "preprocess chain in libavfilter syntax, after the repairs and the deinterlacer the keys "
	  "below choose; \"\" = none" },
	{ "video", "deinterlace", T_ENUM, OFF(video.deinterlace), { .s = "none" }, 0, 0, s_deinterlacers,
	  0, "\"auto\": from the analysis of the picture (interlaced: mc on a machine of 4 cores or "
	  "more, else bwdif, one frame per field; telecined film: ivtc; progressive: none); or bwdif, "
	  "yadif, mc (our motion-compensated deinterlacer, vhs_mcdeint), ivtc (inverse telecine), none" },
	{ "video", "mc_preset", T_ENUM, OFF(video.mc_preset), { .s = "medium" }, 0, 0, s_mc_presets, 0,
	  "the mc deinterlacer's speed against quality: fast, medium, slow" },
	{ "video", "mc_device", T_ENUM, OFF(video.mc_device), { .s = "cpu" }, 0, 0, s_backends, 0,
	  "where the mc deinterlacer runs: cpu, cuda, or \"auto\" (the GPU when a CUDA device is "
	  "usable, else the CPU); the frames are the same on either" },
	{ "video", "mc_sharpen", T_INT, OFF(video.mc_sharpen), { .i = 0 }, 0, 16, NULL, 0,
	  "the mc deinterlacer's resharpening of the lines it makes, in 16ths (0: none; held "
	  "between the moving picture's neighbours, so it adds no halo; a crisper look at some "
	  "cost in fidelity)" },
	{ "video", "field_order", T_ENUM, OFF(video.field_order), { .s = "auto" }, 0, 0, s_field_orders,
	  0, "\"auto\": from the picture, whatever the file says; or tff, bff" },
	{ "video", "levels", T_ENUM, OFF(video.levels), { .s = "off" }, 0, 0, s_levels, 0,
	  "\"auto\": NTSC 7.5 IRE setup (raised blacks) taken out where the analysis finds it; "
	  "\"BLACK:WHITE\": these 8-bit luma codes to 16 and 235; \"off\"" },
	{ "video", "chroma_shift", T_ENUM, OFF(video.chroma_shift), { .s = "off" }, 0, 0,
	  s_chroma_shifts, 0, "\"auto\": the chroma moved back onto the luma by the shift the "
	  "analysis measured (half a pixel or more either way); \"DX\" or \"DX,DY\": by this many luma "
	  "pixels (positive: the chroma lies right of / below the luma); \"off\"" },
	{ "video", "head_switching", T_ENUM, OFF(video.head_switching), { .s = "off" }, 0, 0,
	  s_head_switching, O_NUMBERS, "the band of torn lines at the bottom, repaired (each line moved "
	  "back by its pull, lost ones filled): \"auto\" (its measured height), a number of lines "
	  "(1 to 32), or \"off\" (0 too)" },
	{ "video", "dropouts", T_ENUM, OFF(video.dropouts), { .s = "off" }, 0, 0, s_dropouts, 0,
	  "dropout streaks: \"auto\" fills them in from the neighbouring fields where the analysis "
	  "finds them; \"off\"" },
	{ "upscale", "backend", T_ENUM, OFF(upscale.backend), { .s = "cpu" }, 0, 0, s_backends, 0,
	  "where the upscaler runs" },
	{ "upscale", "model", T_ENUM, OFF(upscale.model), { .s = "lanczos" }, 0, 0, s_models, 0,
	  "scaling kernel or ESRGAN model" },
	{ "upscale", "width", T_WORKERS, OFF(upscale.width), { .i = 0 }, 16, 8192, NULL, O_ZERO_OK,
	  "output width in pixels; 0 = the input's (an ESRGAN model's: input x scale); \"auto\" "
	  "= the height times the display aspect (4:3 or 16:9, from the analysis), even" },
	{ "upscale", "height", T_WORKERS, OFF(upscale.height), { .i = 0 }, 16, 8192, NULL, O_ZERO_OK,
	  "output height in pixels; 0 = the input's (an ESRGAN model's: input x scale); \"auto\" "
	  "= 1080" },
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

_Static_assert(ARRAY_SIZE(job_keys) <= VHS_JOB_MAX_KEYS, "vhs_job.source is too small");

const char *const job_sections[] = { "video", "upscale", "audio", "encode", "stages",
					  "run", NULL };
#define S_STAGE_NAME(kind, name, threads, auto_is) name,
const char *const job_stage_names[] = { VHS_PIPELINE_STAGES(S_STAGE_NAME) NULL };
const char *const job_source_names[] = { "default", "preset", "job", "--set", "enhance" };

/* What each [audio] enhance preset puts in the switches nothing else set. */
const struct job_enhance_row job_enhance[] = {
	{ "none", "off", "keep", 0, 0, 0 },
	{ "light", "auto", "auto", 8, -16, 0 },
	{ "moderate", "auto", "auto", 15, -16, 1 },
	{ "aggressive", "auto", "auto", 24, -16, 1 },
};

const size_t job_n_keys = ARRAY_SIZE(job_keys);
const size_t job_n_enhance = ARRAY_SIZE(job_enhance);
const size_t job_n_source_names = ARRAY_SIZE(job_source_names);

const struct job_key *job_key_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < job_n_keys; i++)
		if (!strcmp(job_keys[i].section, section) && !strcmp(job_keys[i].key, key))
			return &job_keys[i];
	return NULL;
}

int job_key_auto(const struct job_key *o)
{
	return o->flags & O_ZERO_OK ? -1 : 0;
}

size_t job_key_row(const struct job_key *o)
{
	return (size_t)(o - job_keys);
}

bool job_key_is_text(enum job_key_type t)
{
	return t == T_STRING || t == T_PATH || t == T_ENUM || t == T_PRESET || t == T_SAR ||
	       t == T_MEMORY;
}

char **job_key_str(struct vhs_job *job, const struct job_key *o)
{
	return (char **)((char *)job + o->offset);
}

int *job_key_int(struct vhs_job *job, const struct job_key *o)
{
	return (int *)((char *)job + o->offset);
}

double *job_key_float(struct vhs_job *job, const struct job_key *o)
{
	return (double *)((char *)job + o->offset);
}

const char *job_key_expected(const struct job_key *o)
{
	enum job_key_type t = o->type;

	if (o->flags & O_NUMBERS)
		return "a string or an integer";
	if (t == T_BOOL)
		return "true or false";
	if (job_key_is_text(t))
		return "a string";
	if (t == T_INT)
		return "an integer";
	if (t == T_FLOAT)
		return "a number";
	return "an integer or \"auto\"";
}

/* Replaces a string field with a copy of s. */
int job_key_set_str(struct vhs_job *job, const struct job_key *o, const char *s)
{
	char **field = job_key_str(job, o), *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

int job_key_defaults(struct vhs_job *job)
{
	const struct job_key *o;

	for (o = job_keys; o < job_keys + job_n_keys; o++) {
		job->source[job_key_row(o)] = VHS_JOB_SRC_DEFAULT;
		if (o->type == T_INT || o->type == T_WORKERS || o->type == T_BOOL)
			*job_key_int(job, o) = (int)o->def.i;
		if (o->type == T_FLOAT)
			*job_key_float(job, o) = o->def.f;
		if (job_key_is_text(o->type) && o->def.s && job_key_set_str(job, o, o->def.s))
			return -ENOMEM;
	}
	return 0;
}

