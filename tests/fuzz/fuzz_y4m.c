/* fuzz_y4m.c: libFuzzer target for the y4m reader (dsp/image/y4m.c), what the GPU machines'
 * pipeline and vhs-upscale / vhs-deinterlace read: a header and up to two frames from any
 * bytes, never a crash, a read out of bounds or an allocation the size of a lie (a header
 * that declares 65535 x 65535 with no frame behind it is refused or read as truncated). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "y4m.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	struct vhs_y4m y;
	struct vhs_picture pic;
	uint8_t *buf = NULL;
	char err[256];

	if (!f)
		return 0;
	if (vhs_y4m_read_header(&y, f, err, sizeof(err)) == 0 && (size_t)y.width * (size_t)y.height <= (size_t)1 << 22 &&
	    vhs_picture_alloc(&pic, &buf, y.fmt, y.width, y.height) == 0) {
		for (int i = 0; i < 2 && vhs_y4m_read_frame(&y, &pic, err, sizeof(err)) == 1; i++)
			;
		free(buf);
	}
	fclose(f);
	return 0;
}
