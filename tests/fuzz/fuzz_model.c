/* fuzz_model.c: libFuzzer target for the network loader (dsp/nn/model.c): model.json and its
 * weight shard, as `make models` puts them and a user may replace them. The input is the
 * JSON, then a NUL, then the bytes of the one shard a model names (group1-shard1of1.bin),
 * written into a directory of this process's; any bytes give a model or one error line,
 * never a crash, a leak or a read past the shard. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"

static int s_write(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(data, 1, size, f) == size;

	return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	const uint8_t *nul = memchr(data, 0, size);
	size_t json = nul ? (size_t)(nul - data) : size;
	char path[128], err[256];
	struct vhs_nn_model m;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_model.%d", (int)getpid());
		if (mkdir(dir, 0700) && access(dir, W_OK))
			return 0;
	}
	snprintf(path, sizeof(path), "%s/model.json", dir);
	if (s_write(path, data, json))
		return 0;
	snprintf(path, sizeof(path), "%s/group1-shard1of1.bin", dir);
	if (s_write(path, nul ? nul + 1 : data, nul ? size - json - 1 : 0))
		return 0;
	if (vhs_nn_model_load(&m, dir, "fuzz", 255, err, sizeof(err)) == 0)
		vhs_nn_model_free(&m);
	return 0;
}
