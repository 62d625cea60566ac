/* ipc_pool_kernels.h: the device half of test_ipc_pool.c (ipc_pool_kernels.cu), callable
 * from plain C so the test itself needs no CUDA headers.
 *
 * Two kernels: fill writes the pattern of (slot, seq) into a buffer, verify counts the
 * 32-bit words that differ from it into a device counter. Both can first spin for a
 * number of microseconds, so a test can make a write or a read slow and see whether the
 * other side's stream really waits for it. The rest are the few runtime calls the test's
 * children need around them (a stream, completion events, the counters, memory info).
 * Streams and events are cudaStream_t and cudaEvent_t typed void *, as in devpool.h.
 * Every function returns 0 or a negative errno (-EIO for a CUDA error, whose text
 * ipk_error() then gives), except where said.
 */
#ifndef IPC_POOL_KERNELS_H
#define IPC_POOL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define IPK_HD __host__ __device__
#else
#define IPK_HD
#endif

/* Word w (32-bit, from the start of the buffer) of the pattern of seq in slot: splitmix64's
 * finaliser over the three, so a stale buffer (an older seq), another slot's buffer or an
 * unwritten one all differ from it in nearly every word. */
static inline IPK_HD uint32_t ipk_pattern(uint32_t slot, uint64_t seq, uint64_t w)
{
	uint64_t x = (seq * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)slot << 40) ^ w;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)(x ^ (x >> 31));
}

#ifdef __cplusplus
extern "C" {
#endif

/* Enqueues on stream: spin delay_us, then write the pattern of (slot, seq) over the first
 * bytes of dst (bytes: a multiple of 16). */
int ipk_fill(void *dst, size_t bytes, uint32_t slot, uint64_t seq, uint32_t delay_us, void *stream);

/* Enqueues on stream: spin delay_us, then add to *counter (a device counter from
 * ipk_counters_new) the number of words of the first bytes of src that differ from the
 * pattern of (slot, seq). */
int ipk_verify(const void *src, size_t bytes, uint32_t slot, uint64_t seq, uint32_t delay_us,
	       unsigned long long *counter, void *stream);

/* n device counters, zeroed. */
int ipk_counters_new(unsigned long long **counters, size_t n);
void ipk_counters_free(unsigned long long *counters);

/* Enqueues: *counter = 0. */
int ipk_counter_reset(unsigned long long *counter, void *stream);

/* Enqueues a copy of the device counter into host memory *dst (pinned: the copy is
 * asynchronous, read dst only once an event recorded after it has completed). */
int ipk_counter_fetch(unsigned long long *dst, const unsigned long long *counter, void *stream);

/* A non-blocking stream (it does not synchronise with the legacy default stream). */
int ipk_stream_new(void **stream);
void ipk_stream_free(void *stream);

/* A completion event (timing disabled), recorded on stream, polled without blocking. */
int ipk_event_new(void **event);
void ipk_event_free(void *event);
int ipk_event_record(void *event, void *stream);

/* 1 when everything enqueued on stream (or before event's record) has finished, 0 when
 * not yet, -EIO on an error. */
int ipk_stream_done(void *stream);
int ipk_event_done(void *event);

/* Device 0's free and total memory (cudaMemGetInfo) and its name. Creates this
 * process's CUDA context if it has none: call it only in a process made to ask. */
int ipk_device_info(size_t *free_bytes, size_t *total_bytes, char *name, size_t namelen);

/* Text of the last CUDA error in this process (a static buffer). */
const char *ipk_error(void);

#ifdef __cplusplus
}
#endif

#endif
