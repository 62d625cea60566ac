/* segfile.h: the video file of a segment, `vNNNNNN.vseg` in the work dir: encoded packets
 * exactly as the encoder gave them (pts, dts, duration, flags, bytes) behind the codec
 * parameters, written by the encode stage through the temp writer and read by the mux.
 *
 * DESIGN
 * A container of our own, because none of FFmpeg's fits this use: Matroska rounds time
 * stamps to milliseconds, NUT drops the decoding time stamps of B-frame streams, MP4 needs
 * a seekable file. This one is a header and a list of packets, all integers little
 * endian, nothing to seek, nothing rounded:
 *
 *   "VHSSEG1\n"                                                   8 B
 *   time base num, den : i32 x2
 *   codec_type, codec_id, format, profile, level : i32 x5
 *   width, height, sar num, sar den : i32 x4
 *   field_order, color_range, color_primaries, color_trc, color_space,
 *   chroma_location, video_delay, bits_per_raw_sample : i32 x8
 *   bit_rate : i64
 *   extradata_size : u32, extradata
 *   then per packet: pts i64, dts i64, duration i64, flags u32, size u32, data
 *
 * A file cut short (a crash while writing) is never read: only committed files, renamed
 * after their last byte was synced, carry the final name; the reader still refuses a
 * packet that runs past the end.
 */
#ifndef VHS_SEGFILE_H
#define VHS_SEGFILE_H

#include <stdio.h>

#include <libavcodec/avcodec.h>

#include "tempfile.h"

/* Writes the header. Returns 0 or -errno. */
int vhs_segfile_write_header(struct vhs_tempfile *tf, const AVCodecParameters *par, AVRational tb);

/* Appends one packet. Returns 0 or -errno. */
int vhs_segfile_write_packet(struct vhs_tempfile *tf, const AVPacket *pkt);

struct vhs_segfile {
	FILE *f;
	AVCodecParameters *par;
	AVRational tb;
};

/* Opens a segment file and reads its header. Returns 0, -errno, or -EINVAL (not a
 * segment file). */
int vhs_segfile_open(struct vhs_segfile *s, const char *path);

/* Reads the next packet: 0, AVERROR_EOF at the end, -EINVAL for a damaged file. */
int vhs_segfile_read(struct vhs_segfile *s, AVPacket *pkt);

void vhs_segfile_close(struct vhs_segfile *s);

#endif
