/* ceilings.cu: what the device can do at most, for benchmarks (cuda_upscaler.h,
 * vhs_cuda_copy_gbps and vhs_cuda_gemm_tflops): a device-to-device copy and an fp16 matrix
 * product, by a plain WMMA kernel and by cuBLAS when it loads, each timed with events. */
#include "cuda_internal.cuh"

/* ---- bench: the fp16 matrix-product ceiling ------------------------------------------- */

#define GM_BM 128     /* block tile: rows of C */
#define GM_BN 128     /* columns of C */
#define GM_BK 32      /* K per shared-memory step */
#define GM_PAD 16     /* halves of padding per shared row (keeps 32-byte fragment alignment) */

/* Deterministic pseudo-random halves in [-0.5, 0.5) (never zeros: METHOD.md). */
static __global__ void k_fill_random(__half *p, size_t n, uint32_t seed)
{
	FOR_EACH(i, n) {
		uint32_t x = (uint32_t)i * 2654435761u ^ seed;

		x ^= x >> 15;
		x *= 2246822519u;
		x ^= x >> 13;
		p[i] = __float2half_rn((float)(x & 0xffff) / 65536.0f - 0.5f);
	}
}

/* C (n x n float) = A x B (n x n halves, row-major), n a multiple of 128: a plain
 * shared-memory WMMA GEMM, 8 warps as 2 x 4, each 64 x 32 of C (4 x 2 fragments). */
static __global__ void __launch_bounds__(256) k_gemm(const __half *a, const __half *b, float *c, int n)
{
	using namespace nvcuda;
	__shared__ __align__(128) __half sa[GM_BM][GM_BK + GM_PAD];
	__shared__ __align__(128) __half sb[GM_BK][GM_BN + GM_PAD];
	const int warp = threadIdx.x / 32, wm = warp / 4, wn = warp % 4;
	const int m0 = blockIdx.y * GM_BM, n0 = blockIdx.x * GM_BN;
	wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];

#pragma unroll
	for (int i = 0; i < 4; i++)
#pragma unroll
		for (int j = 0; j < 2; j++)
			wmma::fill_fragment(acc[i][j], 0.0f);
	for (int k0 = 0; k0 < n; k0 += GM_BK) {
		for (int i = threadIdx.x; i < GM_BM * GM_BK / 8; i += blockDim.x) {
			int r = i / (GM_BK / 8), col = (i % (GM_BK / 8)) * 8;

			*(uint4 *)&sa[r][col] = *(const uint4 *)(a + (size_t)(m0 + r) * n + k0 + col);
		}
		for (int i = threadIdx.x; i < GM_BK * GM_BN / 8; i += blockDim.x) {
			int r = i / (GM_BN / 8), col = (i % (GM_BN / 8)) * 8;

			*(uint4 *)&sb[r][col] = *(const uint4 *)(b + (size_t)(k0 + r) * n + n0 + col);
		}
		__syncthreads();
#pragma unroll
		for (int kk = 0; kk < GM_BK; kk += 16) {
			wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[4];
			wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb[2];

#pragma unroll
			for (int i = 0; i < 4; i++)
				wmma::load_matrix_sync(fa[i], &sa[wm * 64 + i * 16][kk], GM_BK + GM_PAD);
#pragma unroll
			for (int j = 0; j < 2; j++)
				wmma::load_matrix_sync(fb[j], &sb[kk][wn * 32 + j * 16], GM_BN + GM_PAD);
#pragma unroll
			for (int i = 0; i < 4; i++)
#pragma unroll
				for (int j = 0; j < 2; j++)
					wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
		}
		__syncthreads();
	}
#pragma unroll
	for (int i = 0; i < 4; i++)
#pragma unroll
		for (int j = 0; j < 2; j++)
			wmma::store_matrix_sync(c + (size_t)(m0 + wm * 64 + i * 16) * n + n0 + wn * 32 +
							j * 16, acc[i][j], n, wmma::mem_row_major);
}

/* ---- bench: the ceiling, on the host side --------------------------------------------- */

/* Buffers and events of one measurement. */
struct s_gemm {
	int n;
	__half *a, *b;
	float *c;
	cudaEvent_t t0, t1;
};

static int s_cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* Median milliseconds of GEMM_RUNS runs of run(g, arg) (0 or nonzero on failure) after
 * GEMM_WARMUP, timed with events; 0 or -EIO with err. */
#define GEMM_WARMUP 3
#define GEMM_RUNS 10
static int s_gemm_time(struct s_gemm *g, int (*run)(struct s_gemm *, void *), void *arg,
		       const char *what, float *ms, char *err, size_t errlen)
{
	float t[GEMM_RUNS];
	cudaError_t e = cudaSuccess;

	for (int i = 0; i < GEMM_WARMUP + GEMM_RUNS && e == cudaSuccess; i++) {
		e = cudaEventRecord(g->t0);
		if (e == cudaSuccess && run(g, arg)) {
			e = cudaGetLastError();
			snprintf(err, errlen, "%s: %s", what,
				 e != cudaSuccess ? cudaGetErrorString(e) : "failed");
			return -EIO;
		}
		if (e == cudaSuccess)
			e = cudaEventRecord(g->t1);
		if (e == cudaSuccess)
			e = cudaEventSynchronize(g->t1);
		if (e == cudaSuccess && i >= GEMM_WARMUP)
			e = cudaEventElapsedTime(&t[i - GEMM_WARMUP], g->t0, g->t1);
	}
	if (e != cudaSuccess) {
		snprintf(err, errlen, "%s (cudaEvent*): %s", what, cudaGetErrorString(e));
		return -EIO;
	}
	qsort(t, GEMM_RUNS, sizeof(float), s_cmp_float);
	*ms = t[GEMM_RUNS / 2];
	return 0;
}

static int s_gemm_wmma(struct s_gemm *g, void *arg)
{
	(void)arg;
	k_gemm<<<dim3(g->n / GM_BN, g->n / GM_BM), 256>>>(g->a, g->b, g->c, g->n);
	return cudaPeekAtLastError() != cudaSuccess;
}

#if __has_include(<cublas_v2.h>)
#include <cublas_v2.h>
#include <dlfcn.h>
#define HAVE_CUBLAS_HEADER 1

/* cuBLAS, loaded at run time so the build does not depend on it. */
struct s_cublas {
	void *lib;
	cublasHandle_t handle;
	decltype(&cublasCreate_v2) create;
	decltype(&cublasDestroy_v2) destroy;
	cublasStatus_t (*gemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
			       const void *, const void *, cudaDataType, int, const void *,
			       cudaDataType, int, const void *, void *, cudaDataType, int,
			       cublasComputeType_t, cublasGemmAlgo_t);   /* cublasGemmEx */
};

static int s_gemm_cublas(struct s_gemm *g, void *arg)
{
	struct s_cublas *cb = (struct s_cublas *)arg;
	const float one = 1.0f, zero = 0.0f;

	return cb->gemm(cb->handle, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->n, g->n, &one, g->b,
			CUDA_R_16F, g->n, g->a, CUDA_R_16F, g->n, &zero, g->c, CUDA_R_32F, g->n,
			CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS;
}

/* The cuBLAS rate, or 0 when libcublas cannot be loaded. */
static int s_cublas_tflops(struct s_gemm *g, double *tflops, char *err, size_t errlen)
{
	struct s_cublas cb;
	float ms = 0;
	int ret = 0;

	*tflops = 0;
	memset(&cb, 0, sizeof(cb));
	cb.lib = dlopen("libcublas.so", RTLD_NOW | RTLD_LOCAL);
	if (!cb.lib)
		cb.lib = dlopen("libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!cb.lib)
		return 0;
	cb.create = (decltype(cb.create))dlsym(cb.lib, "cublasCreate_v2");
	cb.destroy = (decltype(cb.destroy))dlsym(cb.lib, "cublasDestroy_v2");
	cb.gemm = (decltype(cb.gemm))dlsym(cb.lib, "cublasGemmEx");
	if (cb.create && cb.destroy && cb.gemm && cb.create(&cb.handle) == CUBLAS_STATUS_SUCCESS) {
		ret = s_gemm_time(g, s_gemm_cublas, &cb, "cublasGemmEx", &ms, err, errlen);
		if (!ret)
			*tflops = 2.0 * g->n * g->n * g->n / (ms * 1e-3) / 1e12;
		cb.destroy(cb.handle);
	}
	dlclose(cb.lib);
	return ret;
}
#endif

/* Frees what a measurement made (cudaFree and the events' NULL checks cope with parts
 * never made). */
static void s_gemm_free(struct s_gemm *g)
{
	if (g->t1)
		cudaEventDestroy(g->t1);
	if (g->t0)
		cudaEventDestroy(g->t0);
	cudaFree(g->c);
	cudaFree(g->b);
	cudaFree(g->a);
}

/* One device-to-device copy of the measurement's buffers (a to c, as bytes). */
static int s_copy_run(struct s_gemm *g, void *arg)
{
	return cudaMemcpyAsync(g->c, g->a, *(const size_t *)arg, cudaMemcpyDeviceToDevice) !=
	       cudaSuccess;
}

extern "C" int vhs_cuda_copy_gbps(size_t bytes, double *gbps, char *err, size_t errlen)
{
	struct s_gemm g;
	float ms = 0;
	int ret = -EIO;

	*gbps = 0;
	if (!vhs_cuda_probe(err, errlen))
		return -ENODEV;
	memset(&g, 0, sizeof(g));
	bytes &= ~(size_t)255;
	if (cudaMalloc((void **)&g.a, bytes) != cudaSuccess ||
	    cudaMalloc((void **)&g.c, bytes) != cudaSuccess ||
	    cudaEventCreate(&g.t0) != cudaSuccess || cudaEventCreate(&g.t1) != cudaSuccess) {
		snprintf(err, errlen, "cudaMalloc/cudaEventCreate: %s",
			 cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	/* Random bytes, never zeros (METHOD: zeros can run faster than real data). */
	k_fill_random<<<cu_blocks(bytes / sizeof(__half)), THREADS>>>(g.a, bytes / sizeof(__half), 3u);
	if (cudaGetLastError() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {
		snprintf(err, errlen, "k_fill_random: %s", cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	ret = s_gemm_time(&g, s_copy_run, &bytes, "cudaMemcpyAsync", &ms, err, errlen);
	if (!ret)
		*gbps = 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
out_free:
	s_gemm_free(&g);
	return ret;
}

extern "C" int vhs_cuda_gemm_tflops(int n, double *wmma, double *cublas, char *err, size_t errlen)
{
	struct s_gemm g;
	size_t elems;
	float ms = 0;
	int ret = -EIO;

	*wmma = *cublas = 0;
	if (!vhs_cuda_probe(err, errlen))
		return -ENODEV;
	memset(&g, 0, sizeof(g));
	g.n = n < GM_BM ? GM_BM : n / GM_BM * GM_BM;
	elems = (size_t)g.n * g.n;
	if (cudaMalloc((void **)&g.a, elems * sizeof(__half)) != cudaSuccess ||
	    cudaMalloc((void **)&g.b, elems * sizeof(__half)) != cudaSuccess ||
	    cudaMalloc((void **)&g.c, elems * sizeof(float)) != cudaSuccess ||
	    cudaEventCreate(&g.t0) != cudaSuccess || cudaEventCreate(&g.t1) != cudaSuccess) {
		snprintf(err, errlen, "cudaMalloc/cudaEventCreate: %s",
			 cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	k_fill_random<<<cu_blocks(elems), THREADS>>>(g.a, elems, 1u);
	k_fill_random<<<cu_blocks(elems), THREADS>>>(g.b, elems, 2u);
	if (cudaGetLastError() != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {
		snprintf(err, errlen, "k_fill_random: %s", cudaGetErrorString(cudaGetLastError()));
		goto out_free;
	}
	ret = s_gemm_time(&g, s_gemm_wmma, NULL, "k_gemm", &ms, err, errlen);
	if (!ret)
		*wmma = 2.0 * g.n * g.n * g.n / (ms * 1e-3) / 1e12;
#ifdef HAVE_CUBLAS_HEADER
	if (!ret)
		ret = s_cublas_tflops(&g, cublas, err, errlen);
#endif
out_free:
	s_gemm_free(&g);
	return ret;
}
