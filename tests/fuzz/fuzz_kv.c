/* fuzz_kv.c: libFuzzer target for the key=value blobs (proto/kv.c) the analyses are kept in
 * (video.analysis, audio.analysis) and the stages read their settings from. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_text.h"
#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "scan", "field_order", "width", "rate", "hum", "", "=", "a.b" };
	char *blob = fuzz_text(data, size), buf[64];
	long long v;

	if (!blob)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		(void)vhs_kv_get(blob, keys[i], buf, sizeof(buf));
		(void)vhs_kv_get(blob, keys[i], buf, 1);
		(void)vhs_kv_get_int(blob, keys[i], &v);
	}
	free(blob);
	return 0;
}
