/* fuzz_schedule.c: libFuzzer target for the preprocess schedule (proto/schedule.c), the
 * per-stretch chains the orchestrator hands a stage: any text in, a schedule or one error. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_text.h"
#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), err[256];
	struct vhs_schedule s;

	if (!text)
		return 0;
	if (vhs_schedule_parse(text, &s, err, sizeof(err)) == 0) {
		(void)vhs_schedule_pick(&s, 0, 1, "null");
		(void)vhs_schedule_pick(&s, 1e9, 1e9 + 1, "null");
		vhs_schedule_free(&s);
	}
	free(text);
	return 0;
}
