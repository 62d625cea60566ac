/* emulate.h: just enough of the CUDA runtime for mcdeint.cu to compile as plain C++ and run
 * on the CPU (g++ -x c++ -DVHS_CUDA_EMULATE), so that the GPU's source is tested on every
 * machine, under the sanitizers too, against the CPU deinterlacer (tests/unit/
 * test_cuda_emulated.c).
 *
 * DESIGN
 * A launch runs its kernel once per thread, one thread after another, blocks in order; device
 * memory is host memory. Kernels written for it take their warp width from VHS_LANES (1 here:
 * a "warp" is one thread doing all its lanes' work, its shuffles never called) and size
 * thread blocks that synchronise (__syncthreads) to one warp, so no barrier is needed.
 * What this checks: every kernel's arithmetic, indexing and bounds (AddressSanitizer sees a
 * read past a plane), and the host code's sequencing. What it cannot: the 32 lanes' split of
 * the work and their shuffles, the barriers, the memory model; a GPU run checks those
 * (tests/gpu/test_cuda_mcdeint.c).
 */
#ifndef VHS_CUDA_EMULATE_H
#define VHS_CUDA_EMULATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VHS_LANES 1

#define __global__
#define __device__
#define __host__
#define __constant__
#define __launch_bounds__(threads)

struct dim3 {
	unsigned x, y, z;
	dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

static dim3 blockIdx, threadIdx, blockDim, gridDim;

static inline void __syncthreads(void) {}

template <typename T> static inline T __shfl_xor_sync(unsigned, T v, int)
{
	return v;
}

typedef int cudaError_t;
typedef void *cudaStream_t;
typedef void *cudaEvent_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyDefault = 4 };
#define cudaStreamNonBlocking 1

static inline const char *cudaGetErrorString(cudaError_t e)
{
	return e == cudaErrorMemoryAllocation ? "out of memory (emulated)" : "error (emulated)";
}

static inline cudaError_t cudaGetLastError(void)
{
	return cudaSuccess;
}

static inline cudaError_t cudaGetDeviceCount(int *n)
{
	*n = 1;
	return cudaSuccess;
}

static inline cudaError_t cudaGetDevice(int *d)
{
	*d = 0;
	return cudaSuccess;
}

static inline cudaError_t cudaSetDevice(int)
{
	return cudaSuccess;
}

static inline cudaError_t cudaMalloc(void **p, size_t bytes)
{
	*p = malloc(bytes ? bytes : 1);
	return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}

static inline cudaError_t cudaFree(void *p)
{
	free(p);
	return cudaSuccess;
}

static inline cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
					    size_t height, cudaMemcpyKind, cudaStream_t)
{
	if (dpitch < width || spitch < width)
		return 1; /* cudaErrorInvalidValue: CUDA refuses such pitches too */
	for (size_t r = 0; r < height; r++)
		memcpy((uint8_t *)dst + r * dpitch, (const uint8_t *)src + r * spitch, width);
	return cudaSuccess;
}

static inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned)
{
	*s = NULL;
	return cudaSuccess;
}

static inline cudaError_t cudaStreamSynchronize(cudaStream_t)
{
	return cudaSuccess;
}

static inline cudaError_t cudaStreamDestroy(cudaStream_t)
{
	return cudaSuccess;
}

static inline cudaError_t cudaEventCreate(cudaEvent_t *e)
{
	*e = NULL;
	return cudaSuccess;
}

static inline cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t)
{
	return cudaSuccess;
}

static inline cudaError_t cudaEventSynchronize(cudaEvent_t)
{
	return cudaSuccess;
}

static inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t, cudaEvent_t)
{
	*ms = 0;
	return cudaSuccess;
}

static inline cudaError_t cudaEventDestroy(cudaEvent_t)
{
	return cudaSuccess;
}

/* kernel<<<grid, block, 0, stream>>>(args) is written VHS_LAUNCH(kernel, grid, block,
 * stream)(args): here every thread of every block, in turn. */
template <typename K> struct vhs_emulated_launch {
	K kernel;
	dim3 grid, block;

	template <typename... A> void operator()(A... args) const
	{
		gridDim = grid;
		blockDim = block;
		for (unsigned bz = 0; bz < grid.z; bz++)
			for (unsigned by = 0; by < grid.y; by++)
				for (unsigned bx = 0; bx < grid.x; bx++)
					for (unsigned tz = 0; tz < block.z; tz++)
						for (unsigned ty = 0; ty < block.y; ty++)
							for (unsigned tx = 0; tx < block.x; tx++) {
								blockIdx = dim3(bx, by, bz);
								threadIdx = dim3(tx, ty, tz);
								kernel(args...);
							}
	}
};

template <typename K> static vhs_emulated_launch<K> vhs_emulate(K kernel, dim3 grid, dim3 block)
{
	return vhs_emulated_launch<K>{ kernel, grid, block };
}

#define VHS_LAUNCH(kernel, grid, block, stream) vhs_emulate(kernel, grid, block)

#endif
