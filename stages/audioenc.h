/* audioenc.h: opening the job's audio encoder ([encode] audio_codec, audio_bitrate). The
 * mux stage encodes with it; the encode stage opens it once at start-up only to refuse a
 * bad codec or bit rate before any segment is made (the mux runs last, and a setting found
 * wrong then would cost the whole run).
 */
#ifndef VHS_AUDIOENC_H
#define VHS_AUDIOENC_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "runtime.h"

/* Opens the encoder for this input format (layout 0: the default for the channel count).
 * Returns 0 with *out set, or the runtime's error after vhs_fail (VHS_ERR_CONFIG). */
int vhs_open_audio_encoder(struct vhs_ctx *ctx, enum AVSampleFormat fmt, int rate, int channels,
			   uint64_t layout, int global_header, AVCodecContext **out);

#endif
