/* ipc_pool_kernels.cu: the fill and verify kernels of test_ipc_pool.c, and the few CUDA
 * runtime calls its children make around them (interface in ipc_pool_kernels.h).
 *
 * Both kernels walk the buffer as uint4 (16 bytes a thread a step) in a grid-stride loop
 * over at most MAX_BLOCKS blocks, so a 4 MiB buffer is one pass over resident blocks on
 * an H100. The optional delay is spun by each block's first thread on %globaltimer (ns)
 * before the block touches memory: a slow fill writes late, a slow verify reads late,
 * which is what lets the test catch a stream that does not wait for the other side.
 * verify sums its mismatches per warp and adds them to the counter with one atomic per
 * warp that found any, so a clean buffer costs no atomics.
 */
#include "ipc_pool_kernels.h"

#include <errno.h>
#include <stdio.h>

#include <cuda_runtime.h>

#define THREADS 256
#define MAX_BLOCKS 1024

static char s_err[256];

static int s_ck(cudaError_t e, const char *call)
{
	if (e == cudaSuccess)
		return 0;
	snprintf(s_err, sizeof(s_err), "%s: %s", call, cudaGetErrorString(e));
	cudaGetLastError(); /* not sticky: clear it so the next call reports its own */
	return -EIO;
}

extern "C" const char *ipk_error(void)
{
	return s_err;
}

/* ---- kernels -------------------------------------------------------------------------- */

__device__ static uint64_t s_globaltimer(void)
{
	uint64_t t;

	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
	return t;
}

/* Holds the whole block for delay_us microseconds. */
__device__ static void s_spin(uint32_t delay_us)
{
	if (delay_us && threadIdx.x == 0) {
		uint64_t end = s_globaltimer() + (uint64_t)delay_us * 1000u;

		while (s_globaltimer() < end)
			__nanosleep(1000);
	}
	__syncthreads();
}

__global__ static void s_fill(uint4 *dst, size_t n4, uint32_t slot, uint64_t seq, uint32_t delay_us)
{
	s_spin(delay_us);
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4;
	     i += (size_t)gridDim.x * blockDim.x) {
		uint64_t w = (uint64_t)i * 4;

		dst[i] = make_uint4(ipk_pattern(slot, seq, w), ipk_pattern(slot, seq, w + 1),
				    ipk_pattern(slot, seq, w + 2), ipk_pattern(slot, seq, w + 3));
	}
}

__global__ static void s_verify(const uint4 *src, size_t n4, uint32_t slot, uint64_t seq,
				uint32_t delay_us, unsigned long long *counter)
{
	unsigned bad = 0;

	s_spin(delay_us);
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4;
	     i += (size_t)gridDim.x * blockDim.x) {
		uint4 v = src[i];
		uint64_t w = (uint64_t)i * 4;

		bad += (v.x != ipk_pattern(slot, seq, w)) + (v.y != ipk_pattern(slot, seq, w + 1)) +
		       (v.z != ipk_pattern(slot, seq, w + 2)) + (v.w != ipk_pattern(slot, seq, w + 3));
	}
	/* Every thread of the warp gets here (THREADS is a multiple of 32). */
	bad = __reduce_add_sync(0xffffffffu, bad);
	if (bad && (threadIdx.x & 31) == 0)
		atomicAdd(counter, (unsigned long long)bad);
}

static unsigned s_blocks(size_t n4)
{
	size_t b = (n4 + THREADS - 1) / THREADS;

	return (unsigned)(b < MAX_BLOCKS ? (b ? b : 1) : MAX_BLOCKS);
}

extern "C" int ipk_fill(void *dst, size_t bytes, uint32_t slot, uint64_t seq, uint32_t delay_us,
			void *stream)
{
	if (bytes % sizeof(uint4))
		return -EINVAL;
	s_fill<<<s_blocks(bytes / 16), THREADS, 0, (cudaStream_t)stream>>>((uint4 *)dst, bytes / 16,
									 slot, seq, delay_us);
	return s_ck(cudaGetLastError(), "fill kernel launch");
}

extern "C" int ipk_verify(const void *src, size_t bytes, uint32_t slot, uint64_t seq,
			  uint32_t delay_us, unsigned long long *counter, void *stream)
{
	if (bytes % sizeof(uint4))
		return -EINVAL;
	s_verify<<<s_blocks(bytes / 16), THREADS, 0, (cudaStream_t)stream>>>(
		(const uint4 *)src, bytes / 16, slot, seq, delay_us, counter);
	return s_ck(cudaGetLastError(), "verify kernel launch");
}

/* ---- counters, streams, events -------------------------------------------------------- */

extern "C" int ipk_counters_new(unsigned long long **counters, size_t n)
{
	int ret = s_ck(cudaMalloc((void **)counters, n * sizeof(**counters)), "cudaMalloc");

	if (!ret)
		ret = s_ck(cudaMemset(*counters, 0, n * sizeof(**counters)), "cudaMemset");
	return ret;
}

extern "C" void ipk_counters_free(unsigned long long *counters)
{
	if (counters)
		cudaFree(counters);
}

extern "C" int ipk_counter_reset(unsigned long long *counter, void *stream)
{
	return s_ck(cudaMemsetAsync(counter, 0, sizeof(*counter), (cudaStream_t)stream),
		    "cudaMemsetAsync");
}

extern "C" int ipk_counter_fetch(unsigned long long *dst, const unsigned long long *counter,
				 void *stream)
{
	return s_ck(cudaMemcpyAsync(dst, counter, sizeof(*dst), cudaMemcpyDeviceToHost,
				    (cudaStream_t)stream),
		    "cudaMemcpyAsync");
}

extern "C" int ipk_stream_new(void **stream)
{
	return s_ck(cudaStreamCreateWithFlags((cudaStream_t *)stream, cudaStreamNonBlocking),
		    "cudaStreamCreate");
}

extern "C" void ipk_stream_free(void *stream)
{
	if (stream)
		cudaStreamDestroy((cudaStream_t)stream);
}

extern "C" int ipk_event_new(void **event)
{
	return s_ck(cudaEventCreateWithFlags((cudaEvent_t *)event, cudaEventDisableTiming),
		    "cudaEventCreate");
}

extern "C" void ipk_event_free(void *event)
{
	if (event)
		cudaEventDestroy((cudaEvent_t)event);
}

extern "C" int ipk_event_record(void *event, void *stream)
{
	return s_ck(cudaEventRecord((cudaEvent_t)event, (cudaStream_t)stream), "cudaEventRecord");
}

static int s_done(cudaError_t e, const char *call)
{
	if (e == cudaErrorNotReady) {
		cudaGetLastError();
		return 0;
	}
	return s_ck(e, call) ? -EIO : 1;
}

extern "C" int ipk_stream_done(void *stream)
{
	return s_done(cudaStreamQuery((cudaStream_t)stream), "cudaStreamQuery");
}

extern "C" int ipk_event_done(void *event)
{
	return s_done(cudaEventQuery((cudaEvent_t)event), "cudaEventQuery");
}

extern "C" int ipk_device_info(size_t *free_bytes, size_t *total_bytes, char *name, size_t namelen)
{
	cudaDeviceProp prop;
	int ret = s_ck(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");

	if (!ret)
		ret = s_ck(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
	if (!ret)
		snprintf(name, namelen, "%s", prop.name);
	return ret;
}
