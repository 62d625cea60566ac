/* net.c: the CPU reference implementation of a model (see net.h).
 *
 * DESIGN
 * Tensors. A layer's output for one tile is an NHWC float tensor of (th*s) x (tw*s) pixels
 * x C channels (s = the layer's stride), stored with a border of B zero pixels on every
 * side (B = the largest convolution pad), so a convolution reads its zero padding from
 * memory instead of testing bounds. Adding a zero term leaves a float sum unchanged, so
 * the border gives exactly the results of skipping the terms, and a tile's edge that is
 * the frame's edge pads exactly as the whole frame does.
 *
 * Memory. Tensors live in one arena, planned once per tile size: walking the layers in
 * order, each output gets the best-fitting free range, and each input range is freed
 * after its last consumer. A relu that is the only consumer of a convolution is fused
 * into it and shares its buffer. The tile size is the largest (whole frame, then stripes,
 * then smaller tiles) whose arena fits max_bytes.
 *
 * Convolution. Output rows are split across threads. For each run of PIX pixels and each
 * block of OCB output channels, PIX x OCB accumulators stay in registers while the kernel
 * taps (dy, dx) and input channels i go by in a fixed order: acc = bias, then
 * acc += in * w for (dy, dx, i) ascending. Every output element is summed in that same
 * order whatever the tile, block or thread, and with separate multiply and add (no FMA
 * contraction: this file is ISO C, where GCC does not contract), so results are identical
 * on every x86-64, whichever vector width target_clones picks. Kernels are repacked with
 * cout padded to a multiple of OCB (zeros) so blocks need no tail.
 */
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIX 8   /* output pixels per register block (8: measured best of 4, 6, 8) */
#define OCB 16  /* output channels per register block */
#define ALIGN_FLOATS 16

/* One fork-join pool: run(fn) calls fn(arg, part, parts) once per thread, part 0 on the
 * caller's thread, and returns when all are done. */
struct pool;
struct pool_thread {
	struct pool *p;
	int part;
	pthread_t th;
};

struct pool {
	int n;                  /* threads, the caller included */
	struct pool_thread *th; /* [n]; th[0] is the caller's and never started */
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned gen;           /* bumped per job (workers wait for a new one) */
	int pending;            /* workers still in the current job */
	int quit;
	void (*fn)(void *arg, int part, int parts);
	void *arg;
};

struct range {
	size_t at, len;         /* floats */
};

struct vhs_nn_cpu {
	const struct vhs_nn_model *m;
	size_t max_bytes;        /* memory for one tile's tensors */
	size_t max_bytes_halo;   /* ... allowed when max_bytes tiles would be mostly halo */
	int force_w, force_h;    /* tile size forced by a test, 0 = automatic */
	int border;              /* B: zero pixels around every tensor */
	float **kernel;          /* per layer (CONV): [kh][kw][cin][coutp] */
	float **bias;            /* per layer (CONV): [coutp] */
	int *coutp;              /* per layer (CONV): cout rounded up to OCB */
	size_t *offset;          /* per owner: where its tensor starts in the arena */
	float *arena;
	size_t arena_floats;
	int plan_w, plan_h;      /* tile size the arena is planned for */
	const float **ins;       /* [n_layers]: the input tensors of the layer being run */
	struct pool pool;
};

/* ---- the pool ---- */

static void *s_worker(void *arg)
{
	struct pool_thread *t = arg;
	struct pool *p = t->p;
	unsigned seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->arg, t->part, p->n);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Starts n - 1 workers (fewer if the system refuses threads: the pool just runs with
 * the ones it got). */
static int s_pool_start(struct pool *p, int n)
{
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	p->n = 1;
	if (n <= 1)
		return 0;
	p->th = calloc((size_t)n, sizeof(*p->th));
	if (!p->th)
		return -ENOMEM;
	for (int i = 1; i < n; i++) {
		p->th[i].p = p;
		p->th[i].part = i;
		if (pthread_create(&p->th[i].th, NULL, s_worker, &p->th[i]))
			break;
		p->n = i + 1;
	}
	return 0;
}

static void s_pool_run(struct pool *p, void (*fn)(void *, int, int), void *arg)
{
	if (p->n == 1) {
		fn(arg, 0, 1);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->pending = p->n - 1;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	fn(arg, 0, p->n);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void s_pool_stop(struct pool *p)
{
	if (p->th) {
		pthread_mutex_lock(&p->mu);
		p->quit = 1;
		pthread_cond_broadcast(&p->go);
		pthread_mutex_unlock(&p->mu);
		for (int i = 1; i < p->n; i++)
			pthread_join(p->th[i].th, NULL);
		free(p->th);
	}
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
}

/* ---- tensors ---- */

/* Floats of layer li's tensor for a tile of tw x th input pixels, border included. */
static size_t s_tensor_floats(const struct vhs_nn_cpu *c, int li, int tw, int th)
{
	const struct vhs_nn_layer *ly = &c->m->layers[li];
	size_t w = (size_t)tw * ly->stride + 2 * c->border;
	size_t h = (size_t)th * ly->stride + 2 * c->border;
	size_t n = w * h * (size_t)ly->channels;

	return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

/* Zeroes the border of a w x h x ch tensor (w, h without the border). */
static void s_zero_border(float *t, int w, int h, int ch, int b)
{
	size_t row = (size_t)(w + 2 * b) * ch;

	if (!b)
		return;
	memset(t, 0, row * b * sizeof(float));
	memset(t + row * (size_t)(h + b), 0, row * b * sizeof(float));
	for (int y = b; y < h + b; y++) {
		memset(t + row * y, 0, (size_t)b * ch * sizeof(float));
		memset(t + row * y + (size_t)(w + b) * ch, 0, (size_t)b * ch * sizeof(float));
	}
}

/* ---- arena planning ---- */

struct freelist {
	struct range *r;        /* free ranges, sorted by start, coalesced */
	int n;
	size_t top;             /* arena size so far */
};

static size_t s_alloc(struct freelist *fl, size_t len)
{
	int best = -1;
	size_t at;

	for (int i = 0; i < fl->n; i++)
		if (fl->r[i].len >= len && (best < 0 || fl->r[i].len < fl->r[best].len))
			best = i;
	if (best < 0 && fl->n && fl->r[fl->n - 1].at + fl->r[fl->n - 1].len == fl->top) {
		best = fl->n - 1; /* the free range at the top grows to fit */
		fl->top += len - fl->r[best].len;
		fl->r[best].len = len;
	}
	if (best < 0) {
		at = fl->top;
		fl->top += len;
		return at;
	}
	at = fl->r[best].at;
	fl->r[best].at += len;
	fl->r[best].len -= len;
	if (!fl->r[best].len) {
		memmove(&fl->r[best], &fl->r[best + 1], (size_t)(fl->n - best - 1) * sizeof(*fl->r));
		fl->n--;
	}
	return at;
}

static void s_free(struct freelist *fl, size_t at, size_t len)
{
	int i = 0;

	while (i < fl->n && fl->r[i].at < at)
		i++;
	memmove(&fl->r[i + 1], &fl->r[i], (size_t)(fl->n - i) * sizeof(*fl->r));
	fl->r[i] = (struct range){ at, len };
	fl->n++;
	if (i + 1 < fl->n && fl->r[i].at + fl->r[i].len == fl->r[i + 1].at) {
		fl->r[i].len += fl->r[i + 1].len;
		memmove(&fl->r[i + 1], &fl->r[i + 2], (size_t)(fl->n - i - 2) * sizeof(*fl->r));
		fl->n--;
	}
	if (i > 0 && fl->r[i - 1].at + fl->r[i - 1].len == fl->r[i].at) {
		fl->r[i - 1].len += fl->r[i].len;
		memmove(&fl->r[i], &fl->r[i + 1], (size_t)(fl->n - i - 1) * sizeof(*fl->r));
		fl->n--;
	}
}

/* Lays out the tensors of a tw x th tile (offsets into c->offset); returns the arena's
 * size in floats, or 0 on ENOMEM. */
static size_t s_plan(struct vhs_nn_cpu *c, int tw, int th)
{
	const struct vhs_nn_model *m = c->m;
	struct freelist fl = { .r = calloc((size_t)m->n_layers + 1, sizeof(struct range)) };

	if (!fl.r)
		return 0;
	for (int i = 0; i < m->n_layers; i++) {
		const struct vhs_nn_layer *ly = &m->layers[i];

		if (m->layers[i].owner == i)
			c->offset[i] = s_alloc(&fl, s_tensor_floats(c, i, tw, th));
		for (int k = 0; k < ly->n_inputs; k++) {
			int o = m->layers[ly->inputs[k]].owner;
			int again = 0;

			for (int q = 0; q < k; q++)
				again |= m->layers[ly->inputs[q]].owner == o;
			if (m->layers[o].last_use == i && !again)
				s_free(&fl, c->offset[o], s_tensor_floats(c, o, tw, th));
		}
	}
	free(fl.r);
	return fl.top;
}

/* ---- layers ---- */

struct job {
	const struct vhs_nn_cpu *c;
	int li;                 /* the layer */
	int w, h;               /* its output size, border excluded */
	float *out;             /* its tensor */
	const float **in;       /* its inputs' tensors */
	int in_w;               /* the (first) input's width, border excluded */
};

/* Interior pixel (x, y) of a tensor w wide with ch channels. */
static inline float *s_px(const struct job *j, float *t, int w, int ch, int x, int y)
{
	int b = j->c->border;

	return t + ((size_t)(y + b) * (size_t)(w + 2 * b) + (size_t)(x + b)) * ch;
}

/* OCB floats: one AVX-512 register, two AVX2 ones, four SSE ones (GCC lowers the vector
 * type to what the clone's target has). */
typedef float vec __attribute__((vector_size(OCB * sizeof(float))));

static inline __attribute__((always_inline)) void
s_taps(const float *px, const float *wk, int cin, int coutp, vec acc[PIX], int np)
{
	for (int i = 0; i < cin; i++) {
		vec w;

		memcpy(&w, wk + (size_t)i * coutp, sizeof(w));
		for (int p = 0; p < np; p++)
			acc[p] = acc[p] + w * px[(size_t)p * cin + i];
	}
}

/* One block of PIX (or np at a row's end) pixels x OCB output channels at (x0, y). */
static inline __attribute__((always_inline)) void
s_conv_block(const struct job *j, int x0, int y, int o0, int np)
{
	const struct vhs_nn_layer *ly = &j->c->m->layers[j->li];
	int coutp = j->c->coutp[j->li];
	int relu = ly->epilogue_relu;
	int n = ly->cout - o0 < OCB ? ly->cout - o0 : OCB;
	vec acc[PIX], bias;

	memcpy(&bias, j->c->bias[j->li] + o0, sizeof(bias));
	for (int p = 0; p < PIX; p++)
		acc[p] = bias;
	for (int dy = 0; dy < ly->kh; dy++) {
		const float *row = s_px(j, (float *)j->in[0], j->w, ly->cin, x0 - ly->pad, y + dy - ly->pad);

		for (int dx = 0; dx < ly->kw; dx++) {
			const float *wk = j->c->kernel[j->li] + (size_t)(dy * ly->kw + dx) * ly->cin * coutp + o0;

			if (np == PIX)
				s_taps(row + (size_t)dx * ly->cin, wk, ly->cin, coutp, acc, PIX);
			else
				s_taps(row + (size_t)dx * ly->cin, wk, ly->cin, coutp, acc, np);
		}
	}
	for (int p = 0; p < np; p++) {
		float *o = s_px(j, j->out, j->w, ly->cout, x0 + p, y) + o0;

		for (int k = 0; k < n; k++)
			o[k] = relu && acc[p][k] < 0 ? 0 : acc[p][k];
	}
}

__attribute__((target_clones("avx512f", "avx2", "default")))
static void s_conv_rows(const struct job *j, int y0, int y1)
{
	int coutp = j->c->coutp[j->li];

	for (int y = y0; y < y1; y++)
		for (int x0 = 0; x0 < j->w; x0 += PIX)
			for (int o0 = 0; o0 < coutp; o0 += OCB)
				s_conv_block(j, x0, y, o0, j->w - x0 < PIX ? j->w - x0 : PIX);
}

/* Rows [y0, y1) of any other layer. */
static void s_other_rows(const struct job *j, int y0, int y1)
{
	const struct vhs_nn_layer *ly = &j->c->m->layers[j->li];
	const struct vhs_nn_model *m = j->c->m;
	int ch = ly->channels;

	for (int y = y0; y < y1; y++) {
		float *o = s_px(j, j->out, j->w, ch, 0, y);

		switch (ly->op) {
		case VHS_NN_RELU:
		case VHS_NN_MUL: {
			const float *a = s_px(j, (float *)j->in[0], j->w, ch, 0, y);

			for (size_t k = 0; k < (size_t)j->w * ch; k++)
				o[k] = ly->op == VHS_NN_MUL ? a[k] * ly->beta : (a[k] < 0 ? 0 : a[k]);
			break;
		}
		case VHS_NN_ADD:
			memcpy(o, s_px(j, (float *)j->in[0], j->w, ch, 0, y), (size_t)j->w * ch * sizeof(float));
			for (int q = 1; q < ly->n_inputs; q++) {
				const float *a = s_px(j, (float *)j->in[q], j->w, ch, 0, y);

				for (size_t k = 0; k < (size_t)j->w * ch; k++)
					o[k] += a[k];
			}
			break;
		case VHS_NN_CONCAT:
			for (int x = 0, at = 0; x < j->w; x++, at = 0) {
				for (int q = 0; q < ly->n_inputs; q++) {
					int c = m->layers[ly->inputs[q]].channels;

					memcpy(o + (size_t)x * ch + at, s_px(j, (float *)j->in[q], j->w, c, x, y),
					       (size_t)c * sizeof(float));
					at += c;
				}
			}
			break;
		case VHS_NN_UPSAMPLE:
			for (int x = 0; x < j->w; x++)
				memcpy(o + (size_t)x * ch,
				       s_px(j, (float *)j->in[0], j->in_w, ch, x / ly->factor, y / ly->factor),
				       (size_t)ch * sizeof(float));
			break;
		case VHS_NN_DEPTH_TO_SPACE: {
			int f = ly->factor;

			for (int x = 0; x < j->w; x++)
				memcpy(o + (size_t)x * ch,
				       s_px(j, (float *)j->in[0], j->in_w, ch * f * f, x / f, y / f) +
					       (size_t)((y % f) * f + x % f) * ch,
				       (size_t)ch * sizeof(float));
			break;
		}
		default:
			break;
		}
	}
}

static void s_layer_part(void *arg, int part, int parts)
{
	const struct job *j = arg;
	int y0 = (int)((long long)j->h * part / parts);
	int y1 = (int)((long long)j->h * (part + 1) / parts);

	if (j->c->m->layers[j->li].op == VHS_NN_CONV)
		s_conv_rows(j, y0, y1);
	else
		s_other_rows(j, y0, y1);
}

/* Runs the network on one tile of tw x th input pixels already in layer 0's tensor. */
static void s_run_tile(struct vhs_nn_cpu *c, int tw, int th, const float **ins)
{
	const struct vhs_nn_model *m = c->m;

	for (int i = 1; i < m->n_layers; i++) {
		const struct vhs_nn_layer *ly = &m->layers[i];
		struct job j = { .c = c, .li = i, .in = ins };

		if (m->layers[i].owner != i)
			continue; /* a relu fused into its convolution */
		j.w = tw * ly->stride;
		j.h = th * ly->stride;
		j.out = c->arena + c->offset[i];
		j.in_w = tw * m->layers[ly->inputs[0]].stride;
		for (int k = 0; k < ly->n_inputs; k++)
			ins[k] = c->arena + c->offset[m->layers[ly->inputs[k]].owner];
		s_zero_border(j.out, j.w, j.h, ly->channels, c->border);
		s_pool_run(&c->pool, s_layer_part, &j);
	}
}

/* ---- setup ---- */

/* Kernels with cout padded to a multiple of OCB (zeros), biases likewise. */
static int s_repack(struct vhs_nn_cpu *c, int i)
{
	const struct vhs_nn_layer *ly = &c->m->layers[i];
	int coutp = (ly->cout + OCB - 1) / OCB * OCB;
	size_t taps = (size_t)ly->kh * ly->kw * ly->cin;

	c->coutp[i] = coutp;
	c->kernel[i] = calloc(taps * coutp, sizeof(float));
	c->bias[i] = calloc((size_t)coutp, sizeof(float));
	if (!c->kernel[i] || !c->bias[i])
		return -ENOMEM;
	for (size_t t = 0; t < taps; t++)
		memcpy(c->kernel[i] + t * coutp, ly->kernel + t * ly->cout, (size_t)ly->cout * sizeof(float));
	if (ly->bias)
		memcpy(c->bias[i], ly->bias, (size_t)ly->cout * sizeof(float));
	return 0;
}

/* The widest convolution border (the graph itself is the model's: vhs_nn_model_plan). */
static void s_graph(struct vhs_nn_cpu *c)
{
	const struct vhs_nn_model *m = c->m;

	for (int i = 0; i < m->n_layers; i++)
		if (m->layers[i].op == VHS_NN_CONV && m->layers[i].pad > c->border)
			c->border = m->layers[i].pad;
}

/* The memory tiles may take when 512 MiB tiles would spend more than half their work on
 * halos: a quarter of the RAM, at most 4 GiB. Tiles pay (tile + 2 halo)^2 / tile^2: with
 * thick's halo of 155 pixels, the 180x15 tiles 512 MiB gives at 720x480 cost 59 times the
 * work; a whole SD frame takes 1 GiB. (Smaller tiles are faster when halos are cheap:
 * slim x2 at 720x480 ran 1.35 s a frame in 720x240 tiles, 2.4 s whole.) */
static size_t s_halo_budget(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	size_t quarter = pages > 0 && size > 0 ? (size_t)pages * (size_t)size / 4 : (size_t)1 << 30;

	return quarter < ((size_t)4 << 30) ? quarter : (size_t)4 << 30;
}

int vhs_nn_cpu_open(struct vhs_nn_cpu **out, const struct vhs_nn_model *m, int threads,
		    size_t max_bytes)
{
	struct vhs_nn_cpu *c = calloc(1, sizeof(*c));
	size_t n = (size_t)m->n_layers;
	int ret = -ENOMEM;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->m = m;
	c->max_bytes = max_bytes ? max_bytes : (size_t)512 << 20;
	c->max_bytes_halo = max_bytes ? max_bytes : s_halo_budget();
	c->kernel = calloc(n, sizeof(*c->kernel));
	c->bias = calloc(n, sizeof(*c->bias));
	c->coutp = calloc(n, sizeof(int));
	c->offset = calloc(n, sizeof(size_t));
	c->ins = calloc(n, sizeof(*c->ins)); /* no layer has more inputs than there are layers */
	if (!c->ins || !c->kernel || !c->bias || !c->coutp || !c->offset)
		goto out_close;
	for (int i = 0; i < m->n_layers; i++)
		if (m->layers[i].op == VHS_NN_CONV && s_repack(c, i))
			goto out_close;
	s_graph(c);
	ret = s_pool_start(&c->pool, threads);
	if (ret)
		goto out_close;
	*out = c;
	return 0;
out_close:
	vhs_nn_cpu_close(&c);
	return ret;
}

void vhs_nn_cpu_set_tile(struct vhs_nn_cpu *c, int tile_w, int tile_h)
{
	c->force_w = tile_w;
	c->force_h = tile_h;
}

/* The tile size for a w x h frame: forced, or the largest whose arena fits max_bytes, or
 * max_bytes_halo when the first would be more than half halo. */
static void s_fit_tile(struct vhs_nn_cpu *c, int w, int h, int *tw, int *th, size_t budget);

static void s_choose_tile(struct vhs_nn_cpu *c, int w, int h, int *tw, int *th)
{
	int halo = c->m->halo;
	double work;

	s_fit_tile(c, w, h, tw, th, c->max_bytes);
	work = (double)((*tw + 2 * halo < w ? *tw + 2 * halo : w)) * (*th + 2 * halo < h ? *th + 2 * halo : h);
	if (c->force_w <= 0 && c->force_h <= 0 && work > 2.0 * *tw * *th)
		s_fit_tile(c, w, h, tw, th, c->max_bytes_halo);
}

static void s_fit_tile(struct vhs_nn_cpu *c, int w, int h, int *tw, int *th, size_t budget)
{
	int halo = c->m->halo;

	*tw = c->force_w > 0 && c->force_w < w ? c->force_w : w;
	*th = c->force_h > 0 && c->force_h < h ? c->force_h : h;
	if (c->force_w > 0 || c->force_h > 0)
		return;
	for (;;) {
		int pw = *tw + 2 * halo < w ? *tw + 2 * halo : w;
		int ph = *th + 2 * halo < h ? *th + 2 * halo : h;
		size_t bytes = s_plan(c, pw, ph) * sizeof(float);

		if (bytes <= budget || (*tw <= 16 && *th <= 16))
			return;
		if (*th > 16)
			*th = (*th + 1) / 2;
		else
			*tw = (*tw + 1) / 2;
	}
}

/* Makes the arena fit tiles of at most pw x ph pixels (halo included). */
static int s_arena(struct vhs_nn_cpu *c, int pw, int ph)
{
	size_t floats;
	float *a;

	if (c->arena && c->plan_w == pw && c->plan_h == ph)
		return 0;
	floats = s_plan(c, pw, ph);
	if (!floats)
		return -ENOMEM;
	a = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
	if (!a)
		return -ENOMEM;
	free(c->arena);
	c->arena = a;
	c->arena_floats = floats;
	c->plan_w = pw;
	c->plan_h = ph;
	return 0;
}

/* Copies the tile's input region into layer 0's tensor (3 channels). */
static void s_load_tile(struct vhs_nn_cpu *c, const float *in, int w, int ix0, int iy0, int pw,
			int ph)
{
	struct job j = { .c = c, .w = pw };
	float *t = c->arena + c->offset[0];

	s_zero_border(t, pw, ph, 3, c->border);
	for (int y = 0; y < ph; y++)
		memcpy(s_px(&j, t, pw, 3, 0, y), in + ((size_t)(iy0 + y) * w + ix0) * 3,
		       (size_t)pw * 3 * sizeof(float));
}

/* Copies the kept part of the tile's output into the frame's output. */
static void s_store_tile(struct vhs_nn_cpu *c, float *out, int w, int pw, int kx, int ky, int kw,
			 int kh, int ox, int oy)
{
	int s = c->m->scale;
	struct job j = { .c = c };
	float *t = c->arena + c->offset[c->m->layers[c->m->output].owner];

	for (int y = 0; y < kh * s; y++)
		memcpy(out + ((size_t)(oy * s + y) * w * s + (size_t)ox * s) * 3,
		       s_px(&j, t, pw * s, 3, kx * s, ky * s + y), (size_t)kw * s * 3 * sizeof(float));
}

/* The tile size for w x h frames and an arena for it. */
static int s_tiles(struct vhs_nn_cpu *c, int w, int h, int *tw, int *th)
{
	int halo = c->m->halo;

	s_choose_tile(c, w, h, tw, th);
	return s_arena(c, *tw + 2 * halo < w ? *tw + 2 * halo : w, *th + 2 * halo < h ? *th + 2 * halo : h);
}

int vhs_nn_cpu_prepare(struct vhs_nn_cpu *c, int w, int h)
{
	int tw, th, ret = s_tiles(c, w, h, &tw, &th);

	if (!ret)
		memset(c->arena, 0, c->arena_floats * sizeof(float));
	return ret;
}

int vhs_nn_cpu_run(struct vhs_nn_cpu *c, const float *in, int w, int h, float *out)
{
	int halo = c->m->halo, tw, th, ret;

	ret = s_tiles(c, w, h, &tw, &th);
	for (int y0 = 0; !ret && y0 < h; y0 += th) {
		for (int x0 = 0; x0 < w; x0 += tw) {
			int x1 = x0 + tw < w ? x0 + tw : w, y1 = y0 + th < h ? y0 + th : h;
			int ix0 = x0 - halo > 0 ? x0 - halo : 0, iy0 = y0 - halo > 0 ? y0 - halo : 0;
			int ix1 = x1 + halo < w ? x1 + halo : w, iy1 = y1 + halo < h ? y1 + halo : h;

			s_load_tile(c, in, w, ix0, iy0, ix1 - ix0, iy1 - iy0);
			s_run_tile(c, ix1 - ix0, iy1 - iy0, c->ins);
			s_store_tile(c, out, w, ix1 - ix0, x0 - ix0, y0 - iy0, x1 - x0, y1 - y0, x0, y0);
		}
	}
	return ret;
}

void vhs_nn_cpu_close(struct vhs_nn_cpu **cp)
{
	struct vhs_nn_cpu *c = *cp;

	if (!c)
		return;
	if (c->pool.n)
		s_pool_stop(&c->pool);
	for (int i = 0; c->kernel && i < c->m->n_layers; i++) {
		free(c->kernel[i]);
		free(c->bias[i]);
	}
	free(c->kernel);
	free(c->bias);
	free(c->coutp);
	free(c->offset);
	free(c->ins);
	free(c->arena);
	free(c);
	*cp = NULL;
}
