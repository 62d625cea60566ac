/* meminfo.c: prints the GPU's free and total memory in bytes (cudaMemGetInfo), for the GPU
 * tests that check device memory before and after a run. Exits 77 with "skip: REASON"
 * when there is no usable GPU or the build has no CUDA. */
#include <stdio.h>

#include "devpool.h"

#ifdef VHS_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

int main(void)
{
	char why[256];

	if (!vhs_devpool_available(why, sizeof(why))) {
		printf("skip: %s\n", why);
		return 77;
	}
#ifdef VHS_HAVE_CUDA
	size_t free_b = 0, total_b = 0;
	cudaError_t e = cudaMemGetInfo(&free_b, &total_b);

	if (e != cudaSuccess) {
		fprintf(stderr, "cudaMemGetInfo: %s\n", cudaGetErrorString(e));
		return 1;
	}
	printf("%zu %zu\n", free_b, total_b);
#endif
	return 0;
}
