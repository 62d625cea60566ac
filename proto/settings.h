/* settings.h: the keys of CONFIG's settings blob (kv.h) that stages read, declared once. The
 * orchestrator writes the blob (orchestrator/startup.c), the stage runtime reads it
 * (runtime.h: vhs_setting*(ctx, VHS_SET_...)).
 *
 * Two kinds of key:
 *   JOB  a job file key, section.key: every CONFIG holds every one of them, with its type,
 *        default and range from orchestrator/job.c's key table (the one declaration of
 *        those); a CONFIG that lacks one is refused at start-up, so no stage keeps a
 *        default of its own (test_job checks every JOB key here is in the job's table)
 *   RUN  what the orchestrator adds for this run and this worker; ABSENT is what a missing
 *        one means (NULL: nothing; vhs_setting() says it is missing)
 *
 * VHS_SETTINGS(X): X(ID, "name", KIND, ABSENT)
 */
#ifndef VHS_SETTINGS_H
#define VHS_SETTINGS_H

#include <stddef.h>

#define VHS_SETTINGS(X)                                                                   \
	X(INPUT, "input", JOB, NULL)                                                        \
	X(OUTPUT, "output", JOB, NULL)                                                      \
	X(VIDEO_FILTERS, "video.filters", JOB, NULL)                                        \
	X(UPSCALE_BACKEND, "upscale.backend", JOB, NULL)                                    \
	X(UPSCALE_MODEL, "upscale.model", JOB, NULL)                                        \
	X(UPSCALE_WIDTH, "upscale.width", JOB, NULL)                                        \
	X(UPSCALE_HEIGHT, "upscale.height", JOB, NULL)                                      \
	X(UPSCALE_SCALE, "upscale.scale", JOB, NULL)                                        \
	X(UPSCALE_PRECISION, "upscale.precision", JOB, NULL)                                \
	X(AUDIO_FILTERS, "audio.filters", JOB, NULL)                                        \
	X(AUDIO_HUM, "audio.hum", JOB, NULL)                                                \
	X(AUDIO_HISS, "audio.hiss", JOB, NULL)                                              \
	X(AUDIO_DECLICK, "audio.declick", JOB, NULL)                                        \
	X(AUDIO_LOUDNESS, "audio.loudness", JOB, NULL)                                      \
	X(AUDIO_TRUE_PEAK, "audio.true_peak", JOB, NULL)                                    \
	X(AUDIO_CHANNELS, "audio.channels", JOB, NULL)                                      \
	X(ENCODE_CODEC, "encode.codec", JOB, NULL)                                          \
	X(ENCODE_PRESET, "encode.preset", JOB, NULL)                                        \
	X(ENCODE_CRF, "encode.crf", JOB, NULL)                                              \
	X(ENCODE_PIX_FMT, "encode.pix_fmt", JOB, NULL)                                      \
	X(ENCODE_AUDIO_CODEC, "encode.audio_codec", JOB, NULL)                              \
	X(ENCODE_AUDIO_BITRATE, "encode.audio_bitrate", JOB, NULL)                          \
	X(ENCODE_SAR, "encode.sar", JOB, NULL)                                              \
	X(RUN_SEGMENT_SECONDS, "run.segment_seconds", JOB, NULL)                            \
	X(RUN_FRAMES, "run.frames", JOB, NULL)                                              \
	X(RUN_GPU_EDGES, "run.gpu_edges", JOB, NULL)                                        \
	X(VIDEO_SCHEDULE, "video.schedule", RUN, NULL)      /* chains per stretch (schedule.h) */ \
	X(SEGMENT_DIR, "segment.dir", RUN, NULL)            /* the work dir */              \
	X(SEGMENT_AUDIO_ANALYSIS, "segment.audio_analysis", RUN, NULL) /* its file, if any */ \
	X(SEGMENT_WARMUP, "segment.warmup", RUN, "0")       /* frames before a segment */    \
	X(SEGMENT_LOOKAHEAD, "segment.lookahead", RUN, "0") /* frames after it */           \
	X(SEGMENT_AUDIO_REACH_MS, "segment.audio_reach_ms", RUN, "0")                       \
	X(SEGMENT_COUNT, "segment.count", RUN, "0")         /* 0: not known yet */           \
	X(SEGMENT_FRAMES, "segment.frames", RUN, "-1")      /* video frames done, -1 unknown */ \
	X(SEGMENT_AUDIO, "segment.audio", RUN, "0")         /* the segments carry audio */   \
	X(WORKER_INSTANCE, "worker.instance", RUN, "0")                                     \
	X(WORKER_THREADS, "worker.threads", RUN, "0")       /* 0: the library's choice */    \
	X(PROFILE_TRACE, "profile.trace", RUN, "0")         /* time every frame (TRACE) */   \
	X(PROFILE_SPOOL, "profile.spool", RUN, NULL)        /* record the input here */

enum vhs_setting_kind { VHS_SETTING_JOB, VHS_SETTING_RUN };

#define VHS_SETTING_ENUM_(id, name, kind, absent) VHS_SET_##id,
enum vhs_setting_id { VHS_SETTINGS(VHS_SETTING_ENUM_) VHS_SETTINGS_COUNT };
#undef VHS_SETTING_ENUM_

struct vhs_setting_decl {
	const char *name;             /* "encode.crf" */
	enum vhs_setting_kind kind;
	const char *absent;           /* RUN: what a missing key means, NULL: nothing */
};

/* The declaration of a key. */
static inline const struct vhs_setting_decl *vhs_setting_decl(enum vhs_setting_id id)
{
#define VHS_SETTING_DECL_(id, name, kind, absent) { name, VHS_SETTING_##kind, absent },
	static const struct vhs_setting_decl decls[VHS_SETTINGS_COUNT] = {
		VHS_SETTINGS(VHS_SETTING_DECL_)
	};
#undef VHS_SETTING_DECL_
	return &decls[(unsigned)id < VHS_SETTINGS_COUNT ? id : 0];
}

static inline const char *vhs_setting_name(enum vhs_setting_id id)
{
	return vhs_setting_decl(id)->name;
}

#endif
