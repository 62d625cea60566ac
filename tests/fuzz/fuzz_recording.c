/* fuzz_recording.c: libFuzzer target for a profile's recorded stage input (proto/recording.c),
 * which `profile --stage` replays: records read one after another until the end or an error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	struct vhs_msg m;
	uint32_t len;
	uint8_t *blob = NULL;

	if (!f)
		return 0;
	for (int i = 0; i < 64 && vhs_recording_read(f, &m, &len, &blob) == 1; i++) {
		free(blob);
		blob = NULL;
		if (fseek(f, len, SEEK_CUR)) /* past the entry's data */
			break;
	}
	free(blob);
	fclose(f);
	return 0;
}
