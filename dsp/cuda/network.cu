/* network.cu: the network on the GPU (cuda_internal.cuh): its plan from model.h's graph
 * (owners, fused RELUs, last uses, tensor slots, channel strides), the weights uploaded, the
 * kernels of each layer (FP32, and FP16 on the tensor cores with WMMA) and one tile run
 * through every layer. */
#include "cuda_internal.cuh"

/* ---- network kernels: data movement and elementwise layers ---------------------------- */

/* INPUT: the region (rx, ry) rw x rh of the frame's RGB into a tensor (padding zero). */
template <typename T>
static __global__ void k_input(const float *rgb, int frame_w, int rx, int ry, int rw, int rh, T *out,
			int cs)
{
	FOR_EACH(i, (size_t)rw * rh * cs) {
		int c = (int)(i % cs);
		size_t p = i / cs;
		int x = (int)(p % rw), y = (int)(p / rw);

		s_put(out, i, c < 3 ? rgb[((size_t)(ry + y) * frame_w + rx + x) * 3 + c] : 0.0f);
	}
}

/* The network's output tensor (tw wide), pixels (ox, oy) ow x oh, into the frame's d_net
 * at (nx, ny). */
template <typename T>
static __global__ void k_output(const T *t, int tw, int cs, int ox, int oy, int ow, int oh,
			 float *net, int net_w, int nx, int ny)
{
	FOR_EACH(i, (size_t)ow * oh * 3) {
		int c = (int)(i % 3);
		size_t p = i / 3;
		int x = (int)(p % ow), y = (int)(p / ow);

		net[((size_t)(ny + y) * net_w + nx + x) * 3 + c] =
			s_get(t, ((size_t)(oy + y) * tw + ox + x) * cs + c);
	}
}

/* RELU (x < 0 ? 0 : x) or MUL (x * beta) over n values. */
template <typename T>
static __global__ void k_unary(const T *in, T *out, size_t n, int mul, float beta)
{
	FOR_EACH(i, n) {
		float v = s_get(in, i);

		s_put(out, i, mul ? __fmul_rn(v, beta) : (v < 0.0f ? 0.0f : v));
	}
}

/* Up to MAX_ADD input pointers by value. */
template <typename T>
struct s_inputs {
	const T *p[MAX_ADD];
	int n;
};

/* ADD: out = ((in0 + in1) + in2) ..., left to right. */
template <typename T>
static __global__ void k_add(struct s_inputs<T> in, T *out, size_t n)
{
	FOR_EACH(i, n) {
		float acc = s_get(in.p[0], i);

#pragma unroll
		for (int k = 1; k < MAX_ADD; k++) /* constant indices keep p[] out of local memory */
			if (k < in.n)
				acc = __fadd_rn(acc, s_get(in.p[k], i));
		s_put(out, i, acc);
	}
}

/* CONCAT, one input: its ch channels to channels [at, at + ch) of out. */
template <typename T>
static __global__ void k_concat(const T *in, int cs_in, int ch, T *out, int cs_out, int at,
				size_t pixels)
{
	FOR_EACH(i, pixels * ch) {
		int c = (int)(i % ch);
		size_t p = i / ch;

		out[p * cs_out + at + c] = in[p * cs_in + c];
	}
}

/* Zeroes channels [ch, cs) of every pixel (FP16 padding after a CONCAT). */
template <typename T>
static __global__ void k_zero_pad(T *out, int ch, int cs, size_t pixels)
{
	FOR_EACH(i, pixels * (cs - ch)) {
		size_t p = i / (cs - ch);

		s_put(out, p * cs + ch + i % (cs - ch), 0.0f);
	}
}

/* UPSAMPLE by f (nearest): out[y][x] = in[y / f][x / f], every channel incl. padding. */
template <typename T>
static __global__ void k_upsample(const T *in, int iw, int cs, int f, T *out, int ow, int oh)
{
	FOR_EACH(i, (size_t)ow * oh * cs) {
		int c = (int)(i % cs);
		size_t p = i / cs;
		int x = (int)(p % ow), y = (int)(p / ow);

		out[i] = in[((size_t)(y / f) * iw + x / f) * cs + c];
	}
}

/* DEPTH_TO_SPACE by f: out[y][x][c] = in[y / f][x / f][((y % f) f + x % f) C + c]. */
template <typename T>
static __global__ void k_depth_to_space(const T *in, int iw, int cs_in, int f, T *out, int ow, int oh,
				 int ch, int cs)
{
	FOR_EACH(i, (size_t)ow * oh * cs) {
		int c = (int)(i % cs);
		size_t p = i / cs;
		int x = (int)(p % ow), y = (int)(p / ow);
		size_t src = ((size_t)(y / f) * iw + x / f) * cs_in + ((y % f) * f + x % f) * ch + c;

		s_put(out, i, c < ch ? s_get(in, src) : 0.0f);
	}
}

/* ---- network kernels: convolution ----------------------------------------------------- */

/* FP32 direct convolution, one thread per output value, net.c's order: acc = bias, then
 * acc + in * w for taps (dy, dx) and input channels ascending; taps outside the tensor are
 * skipped (net.c adds their zeros: the same sum). */
static __global__ void k_conv_f32(const float *__restrict__ in, int w, int h, int cin,
			   const float *__restrict__ wt, const float *__restrict__ bias,
			   float *__restrict__ out, int cout, int kh, int kw, int pad, int relu)
{
	FOR_EACH(i, (size_t)w * h * cout) {
		int o = (int)(i % cout);
		size_t p = i / cout;
		int x = (int)(p % w), y = (int)(p / w);
		float acc = bias[o];

		for (int dy = 0; dy < kh; dy++) {
			int yy = y + dy - pad;

			if (yy < 0 || yy >= h)
				continue;
			for (int dx = 0; dx < kw; dx++) {
				int xx = x + dx - pad;
				const float *src, *wk;

				if (xx < 0 || xx >= w)
					continue;
				src = in + ((size_t)yy * w + xx) * cin;
				wk = wt + (size_t)(dy * kw + dx) * cin * cout + o;
				for (int c = 0; c < cin; c++)
					acc = s_madd(acc, src[c], wk[(size_t)c * cout]);
			}
		}
		out[i] = relu && acc < 0.0f ? 0.0f : acc;
	}
}

/* Dynamic shared memory of k_conv_wmma<nf> for a kh x kw kernel, in bytes. */
static size_t s_wmma_smem(int kh, int kw, int nf)
{
	size_t a = (size_t)(WM_TH + kh - 1) * (WM_TW + kw - 1) * WM_KC * sizeof(__half);
	size_t b = (size_t)kh * kw * WM_KC * 16 * nf * sizeof(__half);
	size_t c = (size_t)WM_WARPS * 16 * 16 * sizeof(float);

	return a + b + c;
}

/* FP16 convolution on the tensor cores (see DESIGN). Grid: x over 16-pixel columns, y
 * over 16-pixel rows, z over blocks of 16*NF output channels. Shared memory:
 *   sa [WM_TH + kh - 1][WM_TW + kw - 1][16]  input window, channels c0..c0+15
 *   sb [kh * kw][16][16 * NF]                 weights of those channels
 *   sc [WM_WARPS][16][16]                     fp32 epilogue scratch
 * Warp k computes tile rows 2k and 2k + 1 (one A fragment each) x NF B fragments. */
template <int NF>
static __global__ void __launch_bounds__(WM_WARPS * 32)
k_conv_wmma(const __half *__restrict__ in, int w, int h, int cs_in,
	    const __half *__restrict__ wt, const float *__restrict__ bias,
	    __half *__restrict__ out, int cs_out, int cout, int kh, int kw, int pad, int relu)
{
	using namespace nvcuda;
	typedef wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> frag_a;
	typedef wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> frag_b;
	extern __shared__ __align__(128) unsigned char smem[];
	const int bn = 16 * NF, aw = WM_TW + kw - 1, ah = WM_TH + kh - 1;
	__half *sa = (__half *)smem;
	__half *sb = sa + (size_t)ah * aw * WM_KC;
	float *sc = (float *)(sb + (size_t)kh * kw * WM_KC * bn);
	const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
	const int x0 = blockIdx.x * WM_TW, y0 = blockIdx.y * WM_TH, n0 = blockIdx.z * bn;
	wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][NF];

#pragma unroll
	for (int i = 0; i < 2; i++)
#pragma unroll
		for (int j = 0; j < NF; j++)
			wmma::fill_fragment(acc[i][j], 0.0f);

	for (int c0 = 0; c0 < cs_in; c0 += WM_KC) {
		__syncthreads(); /* the previous step's fragments are loaded */
		for (int i = threadIdx.x; i < ah * aw * 2; i += blockDim.x) {
			int px = i / 2, half8 = (i % 2) * 8;
			int gy = y0 - pad + px / aw, gx = x0 - pad + px % aw;
			uint4 v = make_uint4(0, 0, 0, 0);

			if (gy >= 0 && gy < h && gx >= 0 && gx < w)
				v = *(const uint4 *)(in + ((size_t)gy * w + gx) * cs_in + c0 + half8);
			*(uint4 *)(sa + (size_t)px * WM_KC + half8) = v;
		}
		for (int i = threadIdx.x; i < kh * kw * WM_KC * (bn / 8); i += blockDim.x) {
			int row = i / (bn / 8), col = (i % (bn / 8)) * 8; /* row = tap * 16 + k */
			int tap = row / WM_KC, k = row % WM_KC;
			size_t src = ((size_t)tap * cs_in + c0 + k) * cs_out + n0 + col;

			*(uint4 *)(sb + (size_t)row * bn + col) = *(const uint4 *)(wt + src);
		}
		__syncthreads();
		for (int dy = 0; dy < kh; dy++) {
			for (int dx = 0; dx < kw; dx++) {
				frag_b b[NF];
				const __half *sbt = sb + (size_t)(dy * kw + dx) * WM_KC * bn;

#pragma unroll
				for (int j = 0; j < NF; j++)
					wmma::load_matrix_sync(b[j], sbt + j * 16, bn);
#pragma unroll
				for (int i = 0; i < 2; i++) {
					const __half *at = sa + ((size_t)(warp * 2 + i + dy) * aw + dx) * WM_KC;
					frag_a a;

					wmma::load_matrix_sync(a, at, WM_KC); /* 16 pixels x 16 channels */
#pragma unroll
					for (int j = 0; j < NF; j++)
						wmma::mma_sync(acc[i][j], a, b[j], acc[i][j]);
				}
			}
		}
	}

	/* epilogue: through this warp's scratch, lane = pixel (lane / 2) x 8 channels */
	float *scr = sc + warp * 256;
	const int m = lane / 2, n = (lane % 2) * 8, x = x0 + m;
#pragma unroll
	for (int i = 0; i < 2; i++) {
#pragma unroll
		for (int j = 0; j < NF; j++) {
			int y = y0 + warp * 2 + i, ch = n0 + j * 16 + n;

			wmma::store_matrix_sync(scr, acc[i][j], 16, wmma::mem_row_major);
			__syncwarp();
			if (x < w && y < h) {
				__align__(16) __half v[8];

				for (int e = 0; e < 8; e++) {
					float f = __fadd_rn(scr[m * 16 + n + e], bias[ch + e]);

					if ((relu && f < 0.0f) || ch + e >= cout)
						f = 0.0f;
					v[e] = __float2half_rn(f);
				}
				size_t at = ((size_t)y * w + x) * cs_out + ch;

				*(uint4 *)(out + at) = *(const uint4 *)v;
			}
			__syncwarp();
		}
	}
}

/* ---- host: the network plan ----------------------------------------------------------- */

/* One layer against model.h's rules this backend relies on; 0 or -EINVAL. */
static int s_check_layer(struct vhs_cuda_upscaler *u, int i)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i], *in0 = NULL;
	int ok = ly->n_inputs >= 0 && ly->channels >= 1 && ly->stride >= 1, sum = 0;

	for (int k = 0; ok && k < ly->n_inputs; k++) {
		ok = ly->inputs[k] >= 0 && ly->inputs[k] < i;   /* earlier layers only */
		if (ok)
			sum += u->m->layers[ly->inputs[k]].channels;
	}
	if (ok && ly->n_inputs > 0)
		in0 = &u->m->layers[ly->inputs[0]];
	switch (ok ? ly->op : -1) {
	case VHS_NN_INPUT:
		ok &= ly->n_inputs == 0 && ly->channels == 3 && ly->stride == 1;
		break;
	case VHS_NN_CONV:
		ok &= ly->n_inputs == 1 && in0->channels == ly->cin && ly->cout == ly->channels &&
		      ly->kernel && ly->kh >= 1 && ly->kw >= 1 && ly->pad >= 0 &&
		      ly->stride == in0->stride;
		break;
	case VHS_NN_RELU:
	case VHS_NN_MUL:
		ok &= ly->n_inputs == 1 && in0->channels == ly->channels && in0->stride == ly->stride;
		break;
	case VHS_NN_ADD:
		ok &= ly->n_inputs >= 1;
		for (int k = 0; ok && k < ly->n_inputs; k++)
			ok &= u->m->layers[ly->inputs[k]].channels == ly->channels &&
			      u->m->layers[ly->inputs[k]].stride == ly->stride;
		break;
	case VHS_NN_CONCAT:
		ok &= ly->n_inputs >= 1 && sum == ly->channels;
		for (int k = 0; ok && k < ly->n_inputs; k++)
			ok &= u->m->layers[ly->inputs[k]].stride == ly->stride;
		break;
	case VHS_NN_UPSAMPLE:
		ok &= ly->n_inputs == 1 && ly->factor >= 1 && in0->channels == ly->channels &&
		      ly->stride == in0->stride * ly->factor;
		break;
	case VHS_NN_DEPTH_TO_SPACE:
		ok &= ly->n_inputs == 1 && ly->factor >= 1 &&
		      in0->channels == ly->channels * ly->factor * ly->factor &&
		      ly->stride == in0->stride * ly->factor;
		break;
	default:
		ok = 0;
	}
	if (ok)
		return 0;
	return cu_fail(u, -EINVAL, "model %s: layer %s: not a layer this backend can run",
		      u->m->name, ly->name);
}

/* Layer i's slot: its owner's, or the smallest free slot that fits, else the first free
 * one grown, else a new one; then frees the slots whose tensors i read last. */
static void s_plan_slot(struct vhs_cuda_upscaler *u, int i, int *is_free)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	size_t need = (size_t)ly->stride * ly->stride * u->layers[i].cs * u->esize;
	int best = -1;

	if (u->layers[i].owner != i) {
		u->layers[i].slot = u->layers[u->layers[i].owner].slot;
		return;   /* its reader frees it */
	}
	for (int s = 0; s < u->n_slots; s++)
		if (is_free[s] && u->slot_unit[s] >= need &&
		    (best < 0 || u->slot_unit[s] < u->slot_unit[best]))
			best = s;
	for (int s = 0; best < 0 && s < u->n_slots; s++)
		if (is_free[s])
			best = s;
	if (best < 0)
		best = u->n_slots++;
	if (u->slot_unit[best] < need)
		u->slot_unit[best] = need;
	is_free[best] = 0;
	u->layers[i].slot = best;
	for (int k = 0; k < ly->n_inputs; k++) {
		const struct s_layer *o = &u->layers[u->layers[ly->inputs[k]].owner];

		if (o->last_use == i)
			is_free[o->slot] = 1;
	}
	if (u->layers[i].last_use == i)
		is_free[best] = 1;   /* read by nobody */
}

/* Channel strides, owners, last uses, and slots (see DESIGN: Tensor memory). */
static int s_plan_layers(struct vhs_cuda_upscaler *u)
{
	const struct vhs_nn_model *m = u->m;
	int n = m->n_layers, *is_free;

	u->layers = (struct s_layer *)calloc((size_t)n, sizeof(*u->layers));
	u->slot_unit = (size_t *)calloc((size_t)n, sizeof(size_t));
	is_free = (int *)calloc((size_t)n, sizeof(int));
	if (!u->layers || !u->slot_unit || !is_free) {
		free(is_free);
		return cu_fail(u, -ENOMEM, "out of memory");
	}
	u->n_layers = n;
	for (int i = 0; i < n; i++) { /* the graph is the model's (vhs_nn_model_plan) */
		const struct vhs_nn_layer *ly = &m->layers[i];

		u->layers[i].cs = u->prec == VHS_CUDA_FP16 ? cu_round16(ly->channels) : ly->channels;
		u->layers[i].owner = ly->owner;
		u->layers[i].relu = ly->epilogue_relu;
		u->layers[i].last_use = ly->last_use;
	}
	for (int i = 0; i < n; i++)
		s_plan_slot(u, i, is_free);
	free(is_free);
	return 0;
}

/* Re-lays a CONV's kernel out for FP16: [kh * kw][cs_in][cs_out] halves, zero-padded. */
static __half *s_kernel_f16(const struct vhs_nn_layer *ly, int cs_in, int cs_out)
{
	size_t taps = (size_t)ly->kh * ly->kw;
	__half *k = (__half *)calloc(taps * cs_in * cs_out, sizeof(__half)); /* 0 is +0.0 */

	if (!k)
		return NULL;
	for (size_t t = 0; t < taps; t++)
		for (int i = 0; i < ly->cin; i++)
			for (int o = 0; o < ly->cout; o++)
				k[(t * cs_in + i) * cs_out + o] =
					__float2half_rn(ly->kernel[(t * ly->cin + i) * ly->cout + o]);
	return k;
}

/* Uploads one CONV's kernel and bias. */
static int s_upload_conv(struct vhs_cuda_upscaler *u, int i)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	struct s_layer *l = &u->layers[i];
	int cs_in = u->layers[ly->inputs[0]].cs;
	size_t nk = (size_t)ly->kh * ly->kw * (u->prec == VHS_CUDA_FP16 ? (size_t)cs_in * l->cs
									 : (size_t)ly->cin * ly->cout);
	float *bias = (float *)calloc((size_t)l->cs, sizeof(float));
	__half *k16 = NULL;
	const void *k = ly->kernel;
	int ret;

	if (ly->bias && bias)
		memcpy(bias, ly->bias, (size_t)ly->cout * sizeof(float));
	if (u->prec == VHS_CUDA_FP16)
		k = k16 = s_kernel_f16(ly, cs_in, l->cs);
	if (!bias || !k) {
		ret = cu_fail(u, -ENOMEM, "out of memory");
		goto out_free;
	}
	ret = cu_dmalloc(u, &l->kernel, nk * u->esize);
	if (!ret)
		ret = cu_dmalloc(u, (void **)&l->bias, (size_t)l->cs * sizeof(float));
	if (!ret)
		ret = cu_ck(u, cudaMemcpy(l->kernel, k, nk * u->esize, cudaMemcpyHostToDevice),
			   "cudaMemcpy");
	if (!ret)
		ret = cu_ck(u, cudaMemcpy(l->bias, bias, (size_t)l->cs * sizeof(float),
					 cudaMemcpyHostToDevice), "cudaMemcpy");
out_free:
	free(k16);
	free(bias);
	return ret;
}

/* The FP16 convolutions' launch parameters: B fragments per block, shared memory. */
static int s_wmma_nf(int cs_out)
{
	int nfr = cs_out / 16;

	return nfr % 4 == 0 ? 4 : (nfr % 3 == 0 ? 3 : (nfr % 2 == 0 ? 2 : 1));
}

/* Raises the dynamic shared memory limit of the FP16 convolutions to what the model's
 * largest needs, or refuses the model. */
static int s_wmma_setup(struct vhs_cuda_upscaler *u)
{
	static const void *const kernels[4] = {
		(const void *)k_conv_wmma<1>, (const void *)k_conv_wmma<2>,
		(const void *)k_conv_wmma<3>, (const void *)k_conv_wmma<4>,
	};
	const cudaFuncAttribute smem_attr = cudaFuncAttributeMaxDynamicSharedMemorySize;
	int dev, optin = 0, ret;
	size_t need = 0;

	for (int i = 0; i < u->n_layers; i++) {
		const struct vhs_nn_layer *ly = &u->m->layers[i];
		size_t s;

		if (ly->op != VHS_NN_CONV)
			continue;
		s = s_wmma_smem(ly->kh, ly->kw, s_wmma_nf(u->layers[i].cs));
		need = s > need ? s : need;
	}
	ret = cu_ck(u, cudaGetDevice(&dev), "cudaGetDevice");
	if (!ret)
		ret = cu_ck(u, cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
						     dev), "cudaDeviceGetAttribute");
	if (ret)
		return ret;
	if (need > (size_t)optin) {
		return cu_fail(u, -EINVAL, "model %s: a kernel too large for FP16 convolution (%zu "
			      "bytes of shared memory, the device has %d); use FP32", u->m->name, need,
			      optin);
	}
	for (int nf = 0; nf < 4 && !ret; nf++)
		ret = cu_ck(u, cudaFuncSetAttribute(kernels[nf], smem_attr, (int)need),
			   "cudaFuncSetAttribute");
	return ret;
}

int cu_net_open(struct vhs_cuda_upscaler *u)
{
	const struct vhs_nn_model *m = u->m;
	const struct vhs_upscale_spec *s = u->spec;
	int ret;

	if (m->n_layers < 1 || m->output < 0 || m->output >= m->n_layers || m->halo < 0 ||
	    m->layers[m->output].channels != 3 || m->layers[m->output].stride != m->scale ||
	    s->net_w != s->in_w * m->scale || s->net_h != s->in_h * m->scale)
		return cu_fail(u, -EINVAL, "model %s: output is not 3 channels at the spec's net size",
			      m->name);
	for (int i = 0; i < m->n_layers; i++) {
		ret = s_check_layer(u, i);
		if (ret)
			return ret;
	}
	ret = s_plan_layers(u);
	for (int i = 0; !ret && i < m->n_layers; i++)
		if (m->layers[i].op == VHS_NN_CONV)
			ret = s_upload_conv(u, i);
	if (!ret && u->prec == VHS_CUDA_FP16)
		ret = s_wmma_setup(u);
	return ret;
}

/* ---- host: running the network on one tile -------------------------------------------- */

/* A tile: the region of input pixels the network runs on, and its own pixels within. */
struct s_tile {
	int rx, ry, rw, rh;     /* region (tile + halo, clipped to the frame) */
	int ox, oy, ow, oh;     /* the tile's own pixels, frame coordinates */
};

/* One CONV layer of the tile (w x h at its resolution), FP32. */
static int s_conv_f32(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, int w, int h)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];

	k_conv_f32<<<cu_blocks((size_t)w * h * ly->cout), THREADS, 0, f->stream>>>(
		(const float *)f->tensors[u->layers[ly->inputs[0]].slot], w, h, ly->cin,
		(const float *)l->kernel, l->bias, (float *)f->tensors[l->slot], ly->cout, ly->kh,
		ly->kw, ly->pad, l->relu);
	return cu_launched(u, "k_conv_f32");
}

/* The same, FP16 on the tensor cores. */
static int s_conv_f16(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, int w, int h)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];
	const __half *in = (const __half *)f->tensors[u->layers[ly->inputs[0]].slot];
	int nf = s_wmma_nf(l->cs), cs_in = u->layers[ly->inputs[0]].cs;
	dim3 grid((w + WM_TW - 1) / WM_TW, (h + WM_TH - 1) / WM_TH, l->cs / (16 * nf));
	size_t smem = s_wmma_smem(ly->kh, ly->kw, nf);
	__half *out = (__half *)f->tensors[l->slot];
	const __half *wt = (const __half *)l->kernel;

	switch (nf) {
	case 4:
		k_conv_wmma<4><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	case 3:
		k_conv_wmma<3><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	case 2:
		k_conv_wmma<2><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	default:
		k_conv_wmma<1><<<grid, WM_WARPS * 32, smem, f->stream>>>(in, w, h, cs_in, wt, l->bias,
			out, l->cs, ly->cout, ly->kh, ly->kw, ly->pad, l->relu);
		break;
	}
	return cu_launched(u, "k_conv_wmma");
}

/* ADD: sums MAX_ADD inputs per launch, the running sum first in the next. */
template <typename T>
static int s_add(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, size_t n)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	T *out = (T *)f->tensors[u->layers[i].slot];
	int k = 0, ret = 0;

	while (k < ly->n_inputs && !ret) {
		struct s_inputs<T> in;

		in.n = 0;
		if (k > 0)
			in.p[in.n++] = out;
		while (in.n < MAX_ADD && k < ly->n_inputs)
			in.p[in.n++] = (const T *)f->tensors[u->layers[ly->inputs[k++]].slot];
		k_add<T><<<cu_blocks(n), THREADS, 0, f->stream>>>(in, out, n);
		ret = cu_launched(u, "k_add");
	}
	return ret;
}

/* CONCAT: each input into its channels, then the padding zeroed. */
template <typename T>
static int s_concat(struct vhs_cuda_upscaler *u, struct s_frame *f, int i, size_t pixels)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];
	int at = 0, ret = 0;

	for (int k = 0; k < ly->n_inputs && !ret; k++) {
		int src = ly->inputs[k], ch = u->m->layers[src].channels;

		k_concat<T><<<cu_blocks(pixels * ch), THREADS, 0, f->stream>>>(
			(const T *)f->tensors[u->layers[src].slot], u->layers[src].cs, ch,
			(T *)f->tensors[l->slot], l->cs, at, pixels);
		ret = cu_launched(u, "k_concat");
		at += ch;
	}
	if (!ret && l->cs > ly->channels) {
		k_zero_pad<T><<<cu_blocks(pixels * (l->cs - ly->channels)), THREADS, 0, f->stream>>>(
			(T *)f->tensors[l->slot], ly->channels, l->cs, pixels);
		ret = cu_launched(u, "k_zero_pad");
	}
	return ret;
}

/* Layer i of a tile whose region is rw x rh input pixels. */
template <typename T>
static int s_layer(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct s_tile *t, int i)
{
	const struct vhs_nn_layer *ly = &u->m->layers[i];
	const struct s_layer *l = &u->layers[i];
	int w = t->rw * ly->stride, h = t->rh * ly->stride;
	size_t n = (size_t)w * h * l->cs;
	T *out = (T *)f->tensors[l->slot];
	const T *in = ly->n_inputs ? (const T *)f->tensors[u->layers[ly->inputs[0]].slot] : NULL;
	int fa = ly->factor, iw = fa > 0 ? w / fa : 0;  /* UPSAMPLE, DEPTH_TO_SPACE: input width */

	if (l->owner != i)
		return 0;   /* a relu done by its convolution */
	switch (ly->op) {
	case VHS_NN_INPUT:
		k_input<T><<<cu_blocks(n), THREADS, 0, f->stream>>>(f->d_rgb, u->spec->in_w, t->rx, t->ry,
								   t->rw, t->rh, out, l->cs);
		return cu_launched(u, "k_input");
	case VHS_NN_CONV:
		if (sizeof(T) == sizeof(float))
			return s_conv_f32(u, f, i, w, h);
		return s_conv_f16(u, f, i, w, h);
	case VHS_NN_RELU:
	case VHS_NN_MUL:
		k_unary<T><<<cu_blocks(n), THREADS, 0, f->stream>>>(in, out, n, ly->op == VHS_NN_MUL,
								   ly->beta);
		return cu_launched(u, "k_unary");
	case VHS_NN_ADD:
		return s_add<T>(u, f, i, n);
	case VHS_NN_CONCAT:
		return s_concat<T>(u, f, i, (size_t)w * h);
	case VHS_NN_UPSAMPLE:
		k_upsample<T><<<cu_blocks(n), THREADS, 0, f->stream>>>(in, iw, l->cs, fa, out, w, h);
		return cu_launched(u, "k_upsample");
	case VHS_NN_DEPTH_TO_SPACE:
		k_depth_to_space<T><<<cu_blocks(n), THREADS, 0, f->stream>>>(
			in, iw, u->layers[ly->inputs[0]].cs, fa, out, w, h, ly->channels, l->cs);
		return cu_launched(u, "k_depth_to_space");
	}
	return cu_fail(u, -EINVAL, "layer %s: unknown op", ly->name);
}

/* Every layer of a tile, then its own pixels of the output into d_net. */
template <typename T>
static int s_tile(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct s_tile *t)
{
	const struct s_layer *lo = &u->layers[u->m->output];
	int s = u->m->scale, ret = 0;

	for (int i = 0; i < u->n_layers && !ret; i++)
		ret = s_layer<T>(u, f, t, i);
	if (ret)
		return ret;
	k_output<T><<<cu_blocks((size_t)t->ow * s * t->oh * s * 3), THREADS, 0, f->stream>>>(
		(const T *)f->tensors[lo->slot], t->rw * s, lo->cs, (t->ox - t->rx) * s,
		(t->oy - t->ry) * s, t->ow * s, t->oh * s, f->d_net, u->spec->net_w, t->ox * s,
		t->oy * s);
	return cu_launched(u, "k_output");
}

/* The network over the frame: d_rgb -> d_net, tile by tile. */
int cu_net(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	const struct vhs_upscale_spec *s = u->spec;
	int tw = u->force_w > 0 && u->force_w < u->tile_w ? u->force_w : u->tile_w;
	int th = u->force_h > 0 && u->force_h < u->tile_h ? u->force_h : u->tile_h;
	int halo = u->m->halo, ret = 0;

	for (int y = 0; y < s->in_h && !ret; y += th) {
		for (int x = 0; x < s->in_w && !ret; x += tw) {
			struct s_tile t;

			t.ox = x;
			t.oy = y;
			t.ow = x + tw < s->in_w ? tw : s->in_w - x;
			t.oh = y + th < s->in_h ? th : s->in_h - y;
			t.rx = x - halo > 0 ? x - halo : 0;
			t.ry = y - halo > 0 ? y - halo : 0;
			t.rw = (x + t.ow + halo < s->in_w ? x + t.ow + halo : s->in_w) - t.rx;
			t.rh = (y + t.oh + halo < s->in_h ? y + t.oh + halo : s->in_h) - t.ry;
			if (u->prec == VHS_CUDA_FP16)
				ret = s_tile<__half>(u, f, &t);
			else
				ret = s_tile<float>(u, f, &t);
		}
	}
	return ret;
}
