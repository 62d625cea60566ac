/* encoder.h: what the encode and mux stages share about libavcodec encoders: opening the
 * job's audio encoder ([encode] audio_codec, audio_bitrate), and the send-frame,
 * receive-packets loop.
 *
 * The mux stage encodes the audio; the encode stage opens the audio encoder once at
 * start-up only to refuse a bad codec or bit rate before any segment is made (the mux runs
 * last, and a setting found wrong then would cost the whole run).
 */
#ifndef VHS_ENCODER_H
#define VHS_ENCODER_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "runtime.h"

/* Opens the encoder for this input format (layout 0: the default for the channel count).
 * When the encoder does not take fmt (float samples from the enhancement for a FLAC or PCM
 * encoder), it gets the closest format it takes (vhs_audio_encoder_format) and the caller
 * converts to (*out)->sample_fmt. Returns 0 with *out set, or the runtime's error after
 * vhs_fail (VHS_ERR_CONFIG). */
int vhs_open_audio_encoder(struct vhs_ctx *ctx, enum AVSampleFormat fmt, int rate, int channels,
			   uint64_t layout, int global_header, AVCodecContext **out);

/* The sample format codec takes for samples in fmt: fmt itself if it can, else the one that
 * loses least (float, then 32-bit, then 16-bit integer; planar or packed alike), else its
 * first. */
enum AVSampleFormat vhs_audio_encoder_format(const AVCodec *codec, enum AVSampleFormat fmt);

/* Where vhs_encode() puts each packet: returns 0, or an error it has already reported
 * with vhs_fail. The packet is the caller's to unreference. */
typedef int (*vhs_packet_sink)(struct vhs_ctx *ctx, void *opaque, AVPacket *pkt);

/* Sends one frame (NULL: flush) to enc and hands every packet that comes out to sink,
 * using pkt as the packet buffer. Returns 0 or an error (reported). */
int vhs_encode(struct vhs_ctx *ctx, AVCodecContext *enc, const AVFrame *f, AVPacket *pkt,
	       vhs_packet_sink sink, void *opaque);

#endif
