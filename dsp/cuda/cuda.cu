/* cuda.cu: the upscaler on an NVIDIA GPU (see cuda_upscaler.h): colour conversion, the network,
 * the final resize and plain Lanczos, as CUDA kernels. This file holds the stream (frames in
 * flight, tiles, the queue, the public API); cuda_internal.cuh lists the other parts.
 *
 * DESIGN
 * Data path of one frame, every step on the frame's own stream (struct s_frame):
 *
 *   caller's planes --memcpy--> h_in (pinned) --H2D--> d_in     planes packed, rows tight
 *   model:
 *     d_in  --k_to_rgb-->  d_rgb      in_w x in_h x 3 float, [0, range] (color.c)
 *     per tile: d_rgb window --k_input--> INPUT tensor --layers--> output tensor
 *               --k_output, the tile's own pixels only--> d_net   net_w x net_h x 3
 *     resize: d_net --k_resize_h--> d_tmp --k_resize_v--> d_big   out_w x out_h x 3
 *     d_big (d_net without resize) --k_luma, k_chroma--> d_out     (color.c)
 *   lanczos (no model): plane p of d_in --k_plane_h--> d_tmp --k_plane_v--> plane p of d_out
 *   d_out --D2H--> h_out (pinned), event `done`; collect: h_out --memcpy--> caller's planes
 *
 * Arithmetic. color.c, resample.c and net.c document their float formulas and evaluation
 * order, with no fused multiply-add; the kernels here follow them with __fmul_rn and
 * __fadd_rn (which nvcc never contracts), so colour, resize, Lanczos and the FP32 network
 * give the CPU's values bit for bit. FP16 differs by design (fp16 storage).
 *
 * Network. Layers run in the model's (topological) order, one or a few kernel launches
 * each. Tensors are NHWC: FP32 with `cs` = channels, FP16 with channels padded to `cs` =
 * a multiple of 16 whose padding is always zero (every kernel writes it), so a
 * convolution can read 16 channels at a time. FP32 convolution is direct (one thread per
 * output value, the CPU's summation order: bias, then taps (dy, dx, i) ascending). FP16
 * convolution is an implicit GEMM on the tensor cores (nvcuda::wmma 16x16x16, fp32
 * accumulation): M = pixels, N = output channels, K = taps x input channels. A block
 * computes 16 x 16 output pixels x 16*NF channels; per 16 input channels it stages the
 * input pixels the taps touch (halo included, zero outside the tensor) and the weights in
 * shared memory; the 16 pixels of a tile row are one A fragment for any tap, because
 * neighbouring pixels sit at a fixed stride in the staged window. Bias and relu are
 * applied in the epilogue (both precisions), the relu being the convolution's own or a
 * RELU layer that is its only reader, as in net.c. Weights are re-laid out on upload as
 * [tap][cs_in][cs_out] halves, zero-padded.
 *
 * Tensor memory. Planned once at open from the layer graph (s_plan_layers): walking the
 * layers, each output takes the best-fitting free buffer ("slot") and each input's slot
 * is freed after its last reader, so a frame holds only the slots, not every tensor.
 *
 * Tiles. A slot holds its largest layer for a region of region_w x region_h input pixels.
 * When the whole frame's tensors fit the budget (2 GiB per frame in flight, or less when
 * device memory is short) the frame is one tile; otherwise tiles of tile_w x tile_h input
 * pixels, each computed with model->halo pixels of real input around it (clipped at the
 * frame's edges, where the network pads with zeros as for the whole frame), of which only
 * the tile's own output is kept: results equal the whole frame's.
 *
 * Frames in flight. Each of in_flight frames has its stream, event, staging and device
 * buffers. A queued frame is first "on the device" (frame >= 0), then "finished" (its
 * output copied to the caller's planes) until collected. Frames finish in submission
 * order; submit finishes the oldest itself when all in_flight frames are on the device
 * (blocking), and collect finishes it when asked. The queue of entries grows as needed
 * (callers collect, so it stays short).
 *
 * Errors. Every CUDA call is checked and every launch followed by cudaGetLastError; a
 * failure becomes -EIO with "cudaXxx: message" in u->err. Host code is C-like C++: no
 * exceptions, no STL.
 */#include "cuda_internal.cuh"

/* ---- host: errors and small helpers --------------------------------------------------- */

/* Sets u->err from a printf format and returns ret. */
__attribute__((format(printf, 3, 4)))
int cu_fail(struct vhs_cuda_upscaler *u, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
	return ret;
}

/* 0 when e is cudaSuccess, else -EIO with "what: CUDA's message". */
int cu_ck(struct vhs_cuda_upscaler *u, cudaError_t e, const char *what)
{
	if (e == cudaSuccess)
		return 0;
	return cu_fail(u, -EIO, "%s: %s", what, cudaGetErrorString(e));
}

/* After a launch: its configuration error, if any. */
int cu_launched(struct vhs_cuda_upscaler *u, const char *kernel)
{
	cudaError_t e = cudaGetLastError();

	if (e == cudaSuccess)
		return 0;
	return cu_fail(u, -EIO, "cudaLaunchKernel(%s): %s", kernel, cudaGetErrorString(e));
}

unsigned cu_blocks(size_t n)
{
	size_t b = (n + THREADS - 1) / THREADS;

	return (unsigned)(b < 1 ? 1 : (b > MAX_BLOCKS ? MAX_BLOCKS : b));
}

int cu_round16(int v)
{
	return (v + 15) / 16 * 16;
}

/* cudaMalloc; device memory exhausted is -ENOMEM, other failures -EIO. */
int cu_dmalloc(struct vhs_cuda_upscaler *u, void **p, size_t bytes)
{
	cudaError_t e;

	*p = NULL;
	e = cudaMalloc(p, bytes ? bytes : 1);
	if (e == cudaErrorMemoryAllocation) {
		cudaGetLastError(); /* not sticky: clear it */
		return cu_fail(u, -ENOMEM, "cudaMalloc(%zu MiB): %s", bytes >> 20, cudaGetErrorString(e));
	}
	return cu_ck(u, e, "cudaMalloc");
}

/* ---- host: tiles and per-frame memory ------------------------------------------------- */

/* Device bytes of one frame other than the tensors. */
static size_t s_frame_fixed(const struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	size_t b = u->pin.size + u->pout.size, tmp = 0;

	if (!u->m) {
		for (int p = 0; p < u->pin.n; p++) {
			size_t t = (size_t)u->pout.w[p] * u->pin.h[p];

			tmp = t > tmp ? t : tmp;
		}
		return b + tmp * sizeof(float);
	}
	b += (size_t)s->in_w * s->in_h * 3 * sizeof(float);
	b += (size_t)s->net_w * s->net_h * 3 * sizeof(float);
	if (s->resize) {
		b += (size_t)s->out_w * s->net_h * 3 * sizeof(float);
		b += (size_t)s->out_w * s->out_h * 3 * sizeof(float);
	}
	return b;
}

/* The region (tile + halo each side, clipped to the frame) of a tile side t of n. */
static int s_region(int t, int n, int halo)
{
	return t >= n || t + 2 * halo >= n ? n : t + 2 * halo;
}

/* Tile size: the whole frame if its tensors fit the per-frame budget, else the largest
 * tiles that do: as wide as fits a square, then as tall as the width leaves (see DESIGN:
 * Tiles). */
static int s_plan_tiles(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	size_t unit = 0, free_b = 0, total_b = 0, budget, pixels;
	int halo = u->m->halo, t, ret;

	for (int i = 0; i < u->n_slots; i++)
		unit += u->slot_unit[i];
	ret = cu_ck(u, cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
	if (ret)
		return ret;
	budget = free_b / 10 * 9 / u->in_flight;
	budget = budget < FRAME_BUDGET ? budget : FRAME_BUDGET;
	pixels = budget > s_frame_fixed(u) ? (budget - s_frame_fixed(u)) / unit : 0;
	u->tile_w = s->in_w;
	u->tile_h = s->in_h;
	if ((size_t)s->in_w * s->in_h > pixels) {
		t = (int)sqrt((double)pixels) - 2 * halo;
		u->tile_w = t < s->in_w ? t : s->in_w;
		t = (int)(pixels / (size_t)s_region(u->tile_w, s->in_w, halo)) - 2 * halo;
		u->tile_h = t < s->in_h ? t : s->in_h;
	}
	if (u->tile_w < MIN_TILE && u->tile_w < s->in_w)
		u->tile_w = -1;
	if (u->tile_h < MIN_TILE && u->tile_h < s->in_h)
		u->tile_h = -1;
	if (u->tile_w < 1 || u->tile_h < 1)
		return cu_fail(u, -ENOMEM, "not enough device memory for tiles of the network: %zu MiB "
			      "free for %d frames in flight", free_b >> 20, u->in_flight);
	u->region_w = s_region(u->tile_w, s->in_w, halo);
	u->region_h = s_region(u->tile_h, s->in_h, halo);
	return 0;
}

static int s_frame_open(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	const struct vhs_upscale_spec *s = u->spec;
	size_t tmp = s_frame_fixed(u) - u->pin.size - u->pout.size;
	int ret;

	ret = cu_ck(u, cudaStreamCreateWithFlags(&f->stream, cudaStreamNonBlocking), "cudaStreamCreate");
	if (!ret)
		ret = cu_ck(u, cudaEventCreate(&f->start), "cudaEventCreate");
	if (!ret)
		ret = cu_ck(u, cudaEventCreateWithFlags(&f->done, cudaEventDisableTiming |
						       cudaEventBlockingSync), "cudaEventCreate");
	if (!ret)
		ret = cu_ck(u, cudaHostAlloc((void **)&f->h_in, u->pin.size, cudaHostAllocDefault),
			   "cudaHostAlloc");
	if (!ret)
		ret = cu_ck(u, cudaHostAlloc((void **)&f->h_out, u->pout.size, cudaHostAllocDefault),
			   "cudaHostAlloc");
	if (!ret)
		ret = cu_dmalloc(u, (void **)&f->d_in, u->pin.size);
	if (!ret)
		ret = cu_dmalloc(u, (void **)&f->d_out, u->pout.size);
	if (ret || !u->m)
		return ret ? ret : cu_dmalloc(u, (void **)&f->d_tmp, tmp);
	ret = cu_dmalloc(u, (void **)&f->d_rgb, (size_t)s->in_w * s->in_h * 3 * sizeof(float));
	if (!ret)
		ret = cu_dmalloc(u, (void **)&f->d_net, (size_t)s->net_w * s->net_h * 3 * sizeof(float));
	if (!ret && s->resize)
		ret = cu_dmalloc(u, (void **)&f->d_tmp, (size_t)s->out_w * s->net_h * 3 * sizeof(float));
	if (!ret && s->resize)
		ret = cu_dmalloc(u, (void **)&f->d_big, (size_t)s->out_w * s->out_h * 3 * sizeof(float));
	f->tensors = (void **)calloc((size_t)u->n_slots, sizeof(void *));
	if (!ret && !f->tensors)
		ret = cu_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; !ret && i < u->n_slots; i++)
		ret = cu_dmalloc(u, &f->tensors[i], u->slot_unit[i] * u->region_w * u->region_h);
	return ret;
}

static void s_frame_close(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	if (f->stream)
		cudaStreamSynchronize(f->stream);
	for (int i = 0; f->tensors && i < u->n_slots; i++)
		cudaFree(f->tensors[i]);
	free(f->tensors);
	cudaFree(f->d_big);
	cudaFree(f->d_tmp);
	cudaFree(f->d_net);
	cudaFree(f->d_rgb);
	cudaFree(f->d_out);
	cudaFree(f->d_in);
	cudaFreeHost(f->h_out);
	cudaFreeHost(f->h_in);
	if (f->done)
		cudaEventDestroy(f->done);
	if (f->start)
		cudaEventDestroy(f->start);
	if (f->stream)
		cudaStreamDestroy(f->stream);
	memset(f, 0, sizeof(*f));
}


/* d_out's packed planes into a device picture of any line sizes, once its buffer may be
 * written (dst->wait), then dst->done. A device-side copy: host memory is not touched. */
static int s_to_device(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct s_devout *dst)
{
	const struct s_planes *pl = &u->pout;
	int ret = dst->wait ? cu_ck(u, cudaStreamWaitEvent(f->stream, dst->wait, 0), "cudaStreamWaitEvent") : 0;

	for (int p = 0; p < pl->n && !ret; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		ret = cu_ck(u, cudaMemcpy2DAsync(dst->pic->data[p], (size_t)dst->pic->linesize[p],
						f->d_out + pl->off[p], row, row, (size_t)pl->h[p],
						cudaMemcpyDeviceToDevice, f->stream), "cudaMemcpy2DAsync");
	}
	if (!ret && dst->done)
		ret = cu_ck(u, cudaEventRecord(dst->done, f->stream), "cudaEventRecord");
	return ret;
}

/* 1 when every plane of pic lies in the registered (page-locked) caller memory. */
static int s_registered(const struct vhs_cuda_upscaler *u, const struct vhs_picture *pic)
{
	for (int p = 0; p < u->pin.n; p++) {
		const uint8_t *a = pic->data[p];
		size_t end = (size_t)pic->linesize[p] * (u->pin.h[p] - 1) + (size_t)u->pin.w[p] * u->pin.bytes;

		if (!u->reg || pic->linesize[p] <= 0 || a < u->reg || (size_t)(a - u->reg) > u->reg_bytes ||
		    end > u->reg_bytes - (size_t)(a - u->reg))
			return 0;
	}
	return 1;
}

/* The input up: straight from registered caller memory (direct), else from h_in. */
static int s_upload(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct vhs_picture *direct)
{
	const struct s_planes *pl = &u->pin;
	int ret = 0;

	if (!direct)
		return cu_ck(u, cudaMemcpyAsync(f->d_in, f->h_in, pl->size, cudaMemcpyHostToDevice, f->stream),
			    "cudaMemcpyAsync");
	for (int p = 0; p < pl->n && !ret; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		ret = cu_ck(u, cudaMemcpy2DAsync(f->d_in + pl->off[p], row, direct->data[p],
						(size_t)direct->linesize[p], row, (size_t)pl->h[p],
						cudaMemcpyHostToDevice, f->stream), "cudaMemcpy2DAsync");
	}
	return ret;
}

/* input -> device -> work -> h_out (or a device picture), then the frame's event. */
static int s_enqueue(struct vhs_cuda_upscaler *u, struct s_frame *f, const struct vhs_picture *direct,
		     const struct s_devout *dst)
{
	int ret;

	ret = cu_ck(u, cudaEventRecord(f->start, f->stream), "cudaEventRecord");
	if (!ret)
		ret = s_upload(u, f, direct);
	if (!ret)
		ret = u->m ? cu_enqueue_model(u, f) : cu_enqueue_lanczos(u, f);
	if (!ret && dst)
		ret = s_to_device(u, f, dst);
	else if (!ret)
		ret = cu_ck(u, cudaMemcpyAsync(f->h_out, f->d_out, u->pout.size, cudaMemcpyDeviceToHost,
					      f->stream), "cudaMemcpyAsync");
	if (!ret)
		ret = cu_ck(u, cudaEventRecord(f->done, f->stream), "cudaEventRecord");
	if (!ret)
		ret = cu_ck(u, cudaEventRecord(u->ends[u->next_end], f->stream), "cudaEventRecord");
	return ret;
}

/* ---- host: the queue ------------------------------------------------------------------ */

/* Makes room for one more entry. */
static int s_queue_reserve(struct vhs_cuda_upscaler *u)
{
	struct s_entry *q;
	int cap;

	if (u->q_len < u->q_cap)
		return 0;
	cap = u->q_cap * 2;
	q = (struct s_entry *)calloc((size_t)cap, sizeof(*q));
	if (!q)
		return cu_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; i < u->q_len; i++)
		q[i] = u->q[(u->q_head + i) % u->q_cap];
	free(u->q);
	u->q = q;
	u->q_cap = cap;
	u->q_head = 0;
	return 0;
}

/* The oldest entry still on the device. */
static struct s_entry *s_oldest_busy(struct vhs_cuda_upscaler *u)
{
	return &u->q[(u->q_head + u->q_len - u->busy) % u->q_cap];
}

/* Adds a finished frame's time on the device, upload to download, to gpu_ns, less the part
 * before the previous frame ended: frames in flight overlap, and the time any of them is
 * on the device is counted once. (Streams may also finish out of order; that part, too,
 * is then left out, so the sum never exceeds the wall time.) */
static int s_count_time(struct vhs_cuda_upscaler *u, struct s_frame *f, int end)
{
	float dur = 0, overlap = 0;
	int ret;

	ret = cu_ck(u, cudaEventSynchronize(u->ends[end]), "cudaEventSynchronize");
	if (!ret)
		ret = cu_ck(u, cudaEventElapsedTime(&dur, f->start, u->ends[end]), "cudaEventElapsedTime");
	if (!ret && u->last_end >= 0)
		ret = cu_ck(u, cudaEventElapsedTime(&overlap, f->start, u->ends[u->last_end]),
			   "cudaEventElapsedTime");
	if (ret)
		return ret;
	overlap = overlap < 0 ? 0 : (overlap > dur ? dur : overlap);
	u->gpu_ns += (uint64_t)((double)(dur - overlap) * 1e6);
	u->last_end = end;
	return 0;
}

/* Waits for the oldest frame on the device and copies its output to the caller's planes. */
static int s_finish_oldest(struct vhs_cuda_upscaler *u)
{
	struct s_entry *e = s_oldest_busy(u);
	struct s_frame *f = &u->frames[e->frame];
	int ret;

	ret = cu_ck(u, cudaEventSynchronize(f->done), "cudaEventSynchronize");
	if (!ret)
		ret = s_count_time(u, f, e->end);
	if (ret)
		return ret;
	if (!e->device)
		cu_unpack(&u->pout, f->h_out, &e->out);
	e->frame = -1;
	u->busy--;
	return 0;
}

/* ---- public --------------------------------------------------------------------------- */

extern "C" int vhs_cuda_probe(char *why, size_t len)
{
	struct cudaDeviceProp prop;
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);

	if (e == cudaErrorInsufficientDriver) {
		snprintf(why, len, "no NVIDIA driver, or one older than this build's CUDA runtime "
			 "(cudaGetDeviceCount: %s)", cudaGetErrorString(e));
		return 0;
	}
	if (e != cudaSuccess) {
		snprintf(why, len, "no usable CUDA device (cudaGetDeviceCount: %s)",
			 cudaGetErrorString(e));
		return 0;
	}
	if (n < 1) {
		snprintf(why, len, "no CUDA device");
		return 0;
	}
	e = cudaGetDeviceProperties(&prop, 0);
	if (e != cudaSuccess) {
		snprintf(why, len, "cudaGetDeviceProperties: %s", cudaGetErrorString(e));
		return 0;
	}
	if (prop.major < 8) {
		snprintf(why, len, "%s has compute capability %d.%d; this build needs 8.0 or newer",
			 prop.name, prop.major, prop.minor);
		return 0;
	}
	snprintf(why, len, "%s, compute capability %d.%d, %zu MiB", prop.name, prop.major,
		 prop.minor, prop.totalGlobalMem >> 20);
	return 1;
}

/* The spec's pictures and sizes against what this backend handles. */
static int s_check_spec(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;

	if (!s->in_fmt || !s->out_fmt || s->in_w < 1 || s->in_h < 1 || s->out_w < 1 || s->out_h < 1)
		return cu_fail(u, -EINVAL, "upscale spec without formats or sizes");
	if (!s->model && (s->in_fmt != s->out_fmt && strcmp(s->in_fmt->name, s->out_fmt->name)))
		return cu_fail(u, -EINVAL, "lanczos needs the same format in and out (%s, %s)",
			      s->in_fmt->name, s->out_fmt->name);
	if (s->model && (s->in.width != s->in_w || s->in.height != s->in_h || !s->in.fmt ||
			 s->out.width != s->out_w || s->out.height != s->out_h || !s->out.fmt))
		return cu_fail(u, -EINVAL, "colour setup does not match the spec's sizes");
	if (s->model && !s->resize && (s->net_w != s->out_w || s->net_h != s->out_h))
		return cu_fail(u, -EINVAL, "net size differs from the output's without resize");
	return 0;
}

static int s_open(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	int ret;

	ret = s_check_spec(u);
	if (ret)
		return ret;
	cu_planes_init(&u->pin, s->in_fmt, s->in_w, s->in_h);
	cu_planes_init(&u->pout, s->out_fmt, s->out_w, s->out_h);
	if (u->m) {
		cu_color_init(&u->cin, &s->in);
		cu_color_init(&u->cout, &s->out);
	}
	ret = cu_tables_open(u);
	if (!ret && u->m)
		ret = cu_net_open(u);
	if (!ret && u->m)
		ret = s_plan_tiles(u);
	u->frames = (struct s_frame *)calloc((size_t)u->in_flight, sizeof(*u->frames));
	u->q_cap = 2 * u->in_flight;
	u->q = (struct s_entry *)calloc((size_t)u->q_cap, sizeof(*u->q));
	if (!ret && (!u->frames || !u->q))
		ret = cu_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; !ret && i < u->in_flight; i++)
		ret = s_frame_open(u, &u->frames[i]);
	u->ends = (cudaEvent_t *)calloc((size_t)u->in_flight + 1, sizeof(*u->ends));
	if (!ret && !u->ends)
		ret = cu_fail(u, -ENOMEM, "out of memory");
	for (int i = 0; !ret && i <= u->in_flight; i++)
		ret = cu_ck(u, cudaEventCreate(&u->ends[i]), "cudaEventCreate");
	u->last_end = -1;
	return ret;
}

extern "C" int vhs_cuda_open(struct vhs_cuda_upscaler **out, const struct vhs_upscale_spec *spec,
			     enum vhs_cuda_precision precision, int in_flight, char *err,
			     size_t errlen)
{
	struct vhs_cuda_upscaler *u;
	int ret;

	*out = NULL;
	if (!vhs_cuda_probe(err, errlen))
		return -ENODEV;
	if (in_flight < 1 || in_flight > 8) {
		snprintf(err, errlen, "frames in flight must be 1..8, not %d", in_flight);
		return -EINVAL;
	}
	u = (struct vhs_cuda_upscaler *)calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->spec = spec;
	u->m = spec->model;
	u->prec = precision;
	u->esize = precision == VHS_CUDA_FP16 ? 2 : 4;
	u->in_flight = in_flight;
	ret = s_open(u);
	if (ret) {
		snprintf(err, errlen, "%s", u->err);
		vhs_cuda_close(&u);
		return ret;
	}
	snprintf(err, errlen, "%s", "");
	*out = u;
	return 0;
}

/* A caller's picture against the spec's format and size. */
static int s_check_picture(struct vhs_cuda_upscaler *u, const struct vhs_picture *p,
			   const struct vhs_pixfmt *f, int w, int h, const char *which)
{
	if (p->fmt && (p->fmt == f || !strcmp(p->fmt->name, f->name)) && p->width == w &&
	    p->height == h)
		return 0;
	snprintf(u->err, sizeof(u->err), "%s picture is not %s %dx%d", which, f->name, w, h);
	return -EINVAL;
}

static int s_submit(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
		    const struct vhs_picture *out, const struct s_devout *dst, uint64_t tag)
{
	const struct vhs_upscale_spec *s = u->spec;
	struct s_entry *e;
	int ret, direct;

	ret = s_check_picture(u, in, s->in_fmt, s->in_w, s->in_h, "input");
	if (!ret)
		ret = s_check_picture(u, out, s->out_fmt, s->out_w, s->out_h, "output");
	if (!ret)
		ret = s_queue_reserve(u);
	while (!ret && u->busy == u->in_flight)
		ret = s_finish_oldest(u);
	if (ret)
		return ret;
	direct = s_registered(u, in);
	if (!direct)
		cu_pack(&u->pin, in, u->frames[u->next].h_in);
	ret = s_enqueue(u, &u->frames[u->next], direct ? in : NULL, dst);
	if (ret)
		return ret;
	e = &u->q[(u->q_head + u->q_len) % u->q_cap];
	e->tag = tag;
	e->out = *out;
	e->device = dst != NULL;
	e->frame = u->next;
	e->end = u->next_end;
	u->next_end = (u->next_end + 1) % (u->in_flight + 1);
	u->q_len++;
	u->busy++;
	u->next = (u->next + 1) % u->in_flight;
	return 0;
}

extern "C" int vhs_cuda_submit(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
			       struct vhs_picture *out, uint64_t tag)
{
	return s_submit(u, in, out, NULL, tag);
}

extern "C" int vhs_cuda_submit_device(struct vhs_cuda_upscaler *u, const struct vhs_picture *in,
				      const struct vhs_picture *out, void *wait_event,
				      void *done_event, uint64_t tag)
{
	struct s_devout dst = { out, (cudaEvent_t)wait_event, (cudaEvent_t)done_event };

	return s_submit(u, in, out, &dst, tag);
}

extern "C" int vhs_cuda_collect(struct vhs_cuda_upscaler *u, uint64_t *tag, int wait)
{
	struct s_entry *e;
	int ret;

	if (!u->q_len)
		return 0;
	e = &u->q[u->q_head];
	if (e->frame >= 0 && !wait) {
		cudaError_t q = cudaEventQuery(u->frames[e->frame].done);

		if (q == cudaErrorNotReady)
			return 0;
		ret = cu_ck(u, q, "cudaEventQuery");
		if (ret)
			return ret;
	}
	if (e->frame >= 0) {
		ret = s_finish_oldest(u); /* the head is on the device: it is the oldest there */
		if (ret)
			return ret;
	}
	*tag = e->tag;
	u->q_head = (u->q_head + 1) % u->q_cap;
	u->q_len--;
	return 1;
}

extern "C" int vhs_cuda_run_net(struct vhs_cuda_upscaler *u, const float *in, float *out)
{
	const struct vhs_upscale_spec *s = u->spec;
	struct s_frame *f = &u->frames[u->next];
	int ret;

	if (!u->m || u->q_len)
		return cu_fail(u, -EINVAL, "vhs_cuda_run_net needs a model and no frame queued");
	ret = cu_ck(u, cudaMemcpyAsync(f->d_rgb, in, (size_t)s->in_w * s->in_h * 3 * sizeof(float),
				      cudaMemcpyHostToDevice, f->stream), "cudaMemcpyAsync");
	if (!ret)
		ret = cu_net(u, f);
	if (!ret)
		ret = cu_ck(u, cudaMemcpyAsync(out, f->d_net, (size_t)s->net_w * s->net_h * 3 *
					      sizeof(float), cudaMemcpyDeviceToHost, f->stream),
			   "cudaMemcpyAsync");
	if (!ret)
		ret = cu_ck(u, cudaStreamSynchronize(f->stream), "cudaStreamSynchronize");
	return ret;
}

extern "C" void vhs_cuda_set_tile(struct vhs_cuda_upscaler *u, int tile_w, int tile_h)
{
	u->force_w = tile_w;
	u->force_h = tile_h;
}

extern "C" void vhs_cuda_tile(const struct vhs_cuda_upscaler *u, int *tile_w, int *tile_h)
{
	*tile_w = u->force_w > 0 && u->force_w < u->tile_w ? u->force_w : u->tile_w;
	*tile_h = u->force_h > 0 && u->force_h < u->tile_h ? u->force_h : u->tile_h;
}

extern "C" const char *vhs_cuda_error(const struct vhs_cuda_upscaler *u)
{
	return u->err;
}

extern "C" int vhs_cuda_register_input(struct vhs_cuda_upscaler *u, void *base, size_t bytes)
{
	int ret;

	if (u->reg)
		return cu_fail(u, -EBUSY, "an input range is registered already");
	ret = cu_ck(u, cudaHostRegister(base, bytes, cudaHostRegisterDefault), "cudaHostRegister");
	if (ret)
		return ret;
	u->reg = (uint8_t *)base;
	u->reg_bytes = bytes;
	return 0;
}

extern "C" uint64_t vhs_cuda_gpu_ns(const struct vhs_cuda_upscaler *u)
{
	return u->gpu_ns;
}

extern "C" void vhs_cuda_close(struct vhs_cuda_upscaler **up)
{
	struct vhs_cuda_upscaler *u = *up;

	if (!u)
		return;
	for (int i = 0; u->frames && i < u->in_flight; i++)
		s_frame_close(u, &u->frames[i]);
	if (u->reg)
		cudaHostUnregister(u->reg);
	free(u->frames);
	free(u->q);
	for (int i = 0; u->ends && i <= u->in_flight; i++)
		if (u->ends[i])
			cudaEventDestroy(u->ends[i]);
	free(u->ends);
	for (int i = 0; u->layers && i < u->n_layers; i++) {
		cudaFree(u->layers[i].kernel);
		cudaFree(u->layers[i].bias);
	}
	free(u->layers);
	free(u->slot_unit);
	cu_table_free(&u->h);
	cu_table_free(&u->v);
	for (int p = 0; p < 3; p++) {
		cu_table_free(&u->ph[p]);
		cu_table_free(&u->pv[p]);
	}
	free(u);
	*up = NULL;
}
