/* fuzz_spool.c: libFuzzer target for the audio spool (runtime/spool.c) the mux reads back
 * from the work dir, which a --resume trusts: a header from any 48 bytes is refused or taken,
 * and a header taken packs to bytes that unpack to the same; the samples after it are split
 * into planes by the header's format, whatever their count. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

#define MAX_SAMPLES 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t planes_buf[8][MAX_SAMPLES * 8];
	uint8_t *planes[8], again[VHS_SPOOL_HEADER];
	struct vhs_spool_header h, h2;
	int bytes, nb;

	if (size < VHS_SPOOL_HEADER || vhs_spool_header_unpack(&h, data) != 0)
		return 0;
	vhs_spool_header_pack(&h, again);
	if (vhs_spool_header_unpack(&h2, again) != 0 || h.pts != h2.pts || h.fmt != h2.fmt || h.rate != h2.rate ||
	    h.channels != h2.channels || h.layout != h2.layout)
		__builtin_trap(); /* what unpacks must pack back to the same header */
	bytes = av_get_bytes_per_sample(h.fmt);
	if (bytes <= 0 || h.channels <= 0 || h.channels > 8)
		return 0;
	nb = (int)((size - VHS_SPOOL_HEADER) / (size_t)(bytes * h.channels));
	nb = nb > MAX_SAMPLES ? MAX_SAMPLES : nb;
	for (int c = 0; c < 8; c++)
		planes[c] = planes_buf[c];
	vhs_spool_split(planes, data + VHS_SPOOL_HEADER, h.fmt, h.channels, nb);
	return 0;
}
