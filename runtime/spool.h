/* spool.h: the audio spool of a segment: the file the encode stage writes and the mux
 * stage reads, `aNNNNNN.pcm` in the work dir.
 *
 * DESIGN
 * A 48-byte header, then the samples interleaved (packed), little endian as the machine
 * writes them (the spool never leaves the machine it was made on):
 *
 *   0  magic "VHSPCM1\n"        8 B
 *   8  pts of the first sample, in 1/rate; INT64_MIN when the segment has no audio
 *  16  sample format name (the edge's, planar or packed), NUL-padded   16 B
 *  32  rate:i32  channels:i32  channel layout mask:u64 (0 = unspecified)
 *
 * Interleaving on write and splitting on read cost a loop over the samples and keep the
 * file format independent of how the frames were cut.
 */
#ifndef VHS_SPOOL_H
#define VHS_SPOOL_H

#include <stdint.h>

#include <libavutil/samplefmt.h>

#define VHS_SPOOL_HEADER 48

struct vhs_spool_header {
	int64_t pts;
	enum AVSampleFormat fmt;
	int rate, channels;
	uint64_t layout;
};

void vhs_spool_header_pack(const struct vhs_spool_header *h, uint8_t out[VHS_SPOOL_HEADER]);

/* Returns 0, or -EINVAL when the bytes are not a spool header. */
int vhs_spool_header_unpack(struct vhs_spool_header *h, const uint8_t in[VHS_SPOOL_HEADER]);

/* Copies nb samples of planes (planar or packed fmt) into dst, interleaved. */
void vhs_spool_interleave(uint8_t *dst, uint8_t *const *planes, enum AVSampleFormat fmt,
			  int channels, int nb);

/* The reverse: nb interleaved samples from src into planes (planar or packed fmt). */
void vhs_spool_split(uint8_t *const *planes, const uint8_t *src, enum AVSampleFormat fmt,
		     int channels, int nb);

#endif
