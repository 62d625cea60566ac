/* avslot.h: FFmpeg frames in and out of ring slots.
 *
 * DESIGN
 * A video slot holds the planes of one frame at 64-byte aligned offsets with rows padded
 * to 64 bytes, followed by AV_INPUT_BUFFER_PADDING_SIZE bytes so SIMD code may over-read.
 * An audio slot holds the planes of one audio frame (one plane per channel for planar
 * formats) at 64-byte aligned offsets. The descriptor (proto.h) carries the offsets, so
 * a consumer never assumes the layout, and every property of the AVFrame that matters
 * downstream: timestamps, sample aspect, colour description, interlacing.
 *
 * Copy budget: vhs_copy_*_to_slot is the one memcpy per frame per edge; wrapping an input
 * slot as an AVFrame (vhs_wrap_*) copies nothing: the frame's buffer points into the
 * slot and its free callback gives the slot back with vhs_release().
 */
#ifndef VHS_AVSLOT_H
#define VHS_AVSLOT_H

#include <libavutil/frame.h>

#include "runtime.h"

/* Audio slots hold at most this many samples; longer frames are split across slots. */
#define VHS_AUDIO_SLOT_SAMPLES 16384

/* Bytes a slot needs for a video frame of this format and size; 0 if unsupported. */
uint32_t vhs_video_slot_size(enum AVPixelFormat fmt, int width, int height);

/* Bytes a slot needs for nb_samples of audio in this format. */
uint32_t vhs_audio_slot_size(enum AVSampleFormat fmt, int channels, int nb_samples);

/* Copies f into an output slot and fills d (d->port and d->slot must be set).
 * Returns 0 or -ENOSPC if it does not fit. */
int vhs_copy_video_to_slot(struct vhs_ctx *ctx, const AVFrame *f, uint8_t *slot,
			   uint32_t slot_size, struct vhs_frame *d);

/* Copies nb samples starting at sample `first` of f into an output slot and fills d. */
int vhs_copy_audio_to_slot(struct vhs_ctx *ctx, const AVFrame *f, int first, int nb,
			   uint8_t *slot, uint32_t slot_size, struct vhs_audio *d);

/* The one copy of an edge: takes an empty output slot on port, copies f into it and gives
 * it away as a record of segment `segment`. Returns 0, -ENOSPC when f does not fit
 * slot_size (checked before a slot is taken; the caller words the error), or the
 * runtime's error (-ECANCELED on STOP). */
int vhs_put_video(struct vhs_ctx *ctx, int port, uint32_t segment, const AVFrame *f,
		  uint32_t slot_size);

/* Same for the samples [from, from + count) of an audio frame, split across as many slots
 * of VHS_AUDIO_SLOT_SAMPLES as they need. */
int vhs_put_audio(struct vhs_ctx *ctx, int port, uint32_t segment, const AVFrame *f, int from,
		  int count, uint32_t slot_size);

/* Wraps an input slot as a new AVFrame without copying. The slot goes back to the
 * orchestrator when the last reference to the frame's buffer is freed. NULL on ENOMEM
 * (the slot is then released at once). */
AVFrame *vhs_wrap_video(struct vhs_ctx *ctx, const struct vhs_frame *d, uint8_t *data);
/* What a descriptor says of a frame beyond its planes (format, size, time, colour, flags),
 * onto f: vhs_wrap_video's, for frames whose planes are elsewhere (a hardware frame). */
void vhs_video_props(AVFrame *f, const struct vhs_frame *d);
AVFrame *vhs_wrap_audio(struct vhs_ctx *ctx, const struct vhs_audio *d, uint8_t *data);

/* Fills a stream format from a frame's properties (slot_size left to the caller). */
void vhs_fmt_from_video(struct vhs_stream_fmt *s, const AVFrame *f);

/* Routes av_log into the stage: quiet unless VHS_LOG=debug; keeps the last error line,
 * which vhs_av_last_error() returns (for error messages). */
void vhs_av_log_setup(void);

/* As vhs_av_log_setup(), but nothing is printed (VHS_LOG=debug still prints): for the
 * analyses, whose stderr is the user's terminal (a damaged capture's decoder complaints are
 * the decode stage's to report), and whose errors come back through vhs_av_last_error(). */
void vhs_av_log_quiet(void);

/* The last error libav logged since vhs_av_clear_error() (its text, without the "[name @
 * 0x...] " before it), or "": often says more than the error code ("Picture size 65535x65535
 * is invalid" where the code says "Device or resource busy"). */
const char *vhs_av_last_error(void);
void vhs_av_clear_error(void);

/* av_err2str that can be used in C11 (no compound literal in a macro argument). */
const char *vhs_av_err(int err);

#endif
