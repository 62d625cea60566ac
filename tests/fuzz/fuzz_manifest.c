/* fuzz_manifest.c: libFuzzer target for the manifest reader (orchestrator/manifest.c), the
 * file a --resume trusts: any bytes in, a manifest or one error line (a damaged manifest is
 * refused), never a crash or a leak. The bytes go through a memory file, as the reader reads
 * a path. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct vhs_manifest m;
	char path[64], err[256];

	if (fd < 0 && (fd = memfd_create("manifest.toml", 0)) < 0)
		return 0;
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (vhs_manifest_load(&m, path, err, sizeof(err)) == 0) {
		(void)vhs_manifest_has(&m, 0);
		vhs_manifest_free(&m);
	}
	return 0;
}
