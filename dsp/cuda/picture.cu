/* picture.cu: the picture side of the CUDA backend (cuda_internal.cuh): a picture's planes
 * packed for one upload, converted to float RGB and back with color.h's constants in
 * color.c's float steps, resized with resample.h's Lanczos tables, and a frame's work on its
 * stream from the uploaded picture to the picture to download. */
#include "cuda_internal.cuh"

/* ---- colour kernels (color.c FORMULAS) ------------------------------------------------ */

/* Chroma plane p (Cb or Cr) at luma pixel (x, y): bilinear between the nearest sites. */
static __device__ float s_chroma_at(const struct s_color &c, const uint8_t *p, int x, int y)
{
	float v = __fdiv_rn(__fsub_rn((float)y, c.cy_off), (float)c.sy);
	float u = __fdiv_rn(__fsub_rn((float)x, c.cx_off), (float)c.sx);
	int j0 = (int)__fadd_rn(v, 1.0f) - 1, i0 = (int)__fadd_rn(u, 1.0f) - 1;
	float g = __fsub_rn(v, (float)j0), f = __fsub_rn(u, (float)i0);
	int j1 = s_clampi(j0 + 1, 0, c.ch - 1), i1 = s_clampi(i0 + 1, 0, c.cw - 1);
	float a00, a01, a10, a11, a, b;

	j0 = s_clampi(j0, 0, c.ch - 1);
	i0 = s_clampi(i0, 0, c.cw - 1);
	a00 = s_sample(p, c.bytes, (size_t)j0 * c.cw + i0);
	a01 = s_sample(p, c.bytes, (size_t)j0 * c.cw + i1);
	a10 = s_sample(p, c.bytes, (size_t)j1 * c.cw + i0);
	a11 = s_sample(p, c.bytes, (size_t)j1 * c.cw + i1);
	a = s_madd(a00, g, __fsub_rn(a10, a00));   /* column i0, rows j0..j1 */
	b = s_madd(a01, g, __fsub_rn(a11, a01));   /* column i1 */
	return s_madd(a, f, __fsub_rn(b, a));
}

/* Picture planes -> HWC float RGB in [0, scale], one thread per luma pixel. */
static __global__ void k_to_rgb(struct s_color c, const uint8_t *p0, const uint8_t *p1,
			 const uint8_t *p2, float scale, float *rgb)
{
	FOR_EACH(i, (size_t)c.w * c.h) {
		int x = (int)(i % c.w), y = (int)(i / c.w);
		float r, g, b;

		if (c.rgb) {
			g = __fmul_rn(__fsub_rn(s_sample(p0, c.bytes, i), c.y_off), c.k.yk);
			b = __fmul_rn(__fsub_rn(s_sample(p1, c.bytes, i), c.y_off), c.k.yk);
			r = __fmul_rn(__fsub_rn(s_sample(p2, c.bytes, i), c.y_off), c.k.yk);
		} else if (c.gray) {
			r = g = b = __fmul_rn(__fsub_rn(s_sample(p0, c.bytes, i), c.y_off), c.k.yk);
		} else {
			float yy = __fmul_rn(__fsub_rn(s_sample(p0, c.bytes, i), c.y_off), c.k.yk);
			float cb = __fmul_rn(__fsub_rn(s_chroma_at(c, p1, x, y), c.c_off), c.k.ck);
			float cr = __fmul_rn(__fsub_rn(s_chroma_at(c, p2, x, y), c.c_off), c.k.ck);

			r = s_madd(yy, c.k.rv, cr);
			g = __fsub_rn(__fsub_rn(yy, __fmul_rn(c.k.gu, cb)), __fmul_rn(c.k.gv, cr));
			b = s_madd(yy, c.k.bu, cb);
		}
		rgb[i * 3 + 0] = __fmul_rn(s_clamp01(r), scale);
		rgb[i * 3 + 1] = __fmul_rn(s_clamp01(g), scale);
		rgb[i * 3 + 2] = __fmul_rn(s_clamp01(b), scale);
	}
}

/* Luma of clamped R, G, B: (kr R + kg G) + kb B. */
static __device__ __forceinline__ float s_luma(const struct s_color &c, float r, float g, float b)
{
	return s_madd(s_madd(__fmul_rn(c.k.kr, r), c.k.kg, g), c.k.kb, b);
}

/* HWC float RGB -> plane 0 (YUV, gray) or planes G, B, R (RGB), one thread per pixel. */
static __global__ void k_luma(struct s_color c, const float *rgb, float ik, uint8_t *p0, uint8_t *p1,
		       uint8_t *p2)
{
	FOR_EACH(i, (size_t)c.w * c.h) {
		float r = s_clamp01(__fmul_rn(rgb[i * 3 + 0], ik));
		float g = s_clamp01(__fmul_rn(rgb[i * 3 + 1], ik));
		float b = s_clamp01(__fmul_rn(rgb[i * 3 + 2], ik));

		if (c.rgb) {
			s_store_code(p0, c.bytes, i, s_madd(c.y_off, c.y_scale, g), c.max_code);
			s_store_code(p1, c.bytes, i, s_madd(c.y_off, c.y_scale, b), c.max_code);
			s_store_code(p2, c.bytes, i, s_madd(c.y_off, c.y_scale, r), c.max_code);
		} else {
			s_store_code(p0, c.bytes, i, s_madd(c.y_off, c.y_scale, s_luma(c, r, g, b)),
				     c.max_code);
		}
	}
}

/* Cb and Cr of a subsampled output: the triangle filter at each chroma site, horizontal
 * sums first, then the vertical sum of those, one thread per site. */
static __global__ void k_chroma(struct s_color c, const float *rgb, float ik, uint8_t *pb, uint8_t *pr)
{
	FOR_EACH(s, (size_t)c.cw * c.ch) {
		int i = (int)(s % c.cw), j = (int)(s / c.cw);
		float acc_b = 0.0f, acc_r = 0.0f;

		for (int l = 0; l < c.vs.n; l++) {
			int yy = s_clampi(j * c.sy + c.vs.k0 + l, 0, c.h - 1);
			float hb = 0.0f, hr = 0.0f;

			for (int t = 0; t < c.hs.n; t++) {
				int xx = s_clampi(i * c.sx + c.hs.k0 + t, 0, c.w - 1);
				const float *px = rgb + ((size_t)yy * c.w + xx) * 3;
				float r = s_clamp01(__fmul_rn(px[0], ik));
				float g = s_clamp01(__fmul_rn(px[1], ik));
				float b = s_clamp01(__fmul_rn(px[2], ik));
				float lum = s_luma(c, r, g, b);

				hb = s_madd(hb, c.hs.w[t], __fmul_rn(__fsub_rn(b, lum), c.k.cbk));
				hr = s_madd(hr, c.hs.w[t], __fmul_rn(__fsub_rn(r, lum), c.k.crk));
			}
			acc_b = s_madd(acc_b, c.vs.w[l], hb);
			acc_r = s_madd(acc_r, c.vs.w[l], hr);
		}
		s_store_code(pb, c.bytes, s, s_madd(c.c_off, c.c_scale, acc_b), c.max_code);
		s_store_code(pr, c.bytes, s, s_madd(c.c_off, c.c_scale, acc_r), c.max_code);
	}
}

/* ---- resampling kernels (resample.c) -------------------------------------------------- */

/* Horizontal pass of an HWC image: in iw x ih x ch -> out (t.out_size) x ih x ch. */
static __global__ void k_resize_h(const float *in, int ih, int ch, struct s_table t, float *out)
{
	FOR_EACH(i, (size_t)t.out_size * ih * ch) {
		int c = (int)(i % ch), j = (int)(i / ch % t.out_size);
		size_t y = i / ch / t.out_size;
		const float *row = in + y * t.in_size * ch + c;
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], row[(size_t)s_clampi(first, 0, last) * ch]);

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], row[(size_t)s_clampi(first + k, 0, last) * ch]);
		out[i] = acc;
	}
}

/* Vertical pass: in (row floats wide) x t.in_size rows -> t.out_size rows. */
static __global__ void k_resize_v(const float *in, size_t row, struct s_table t, float *out)
{
	FOR_EACH(i, row * t.out_size) {
		size_t col = i % row;
		int j = (int)(i / row);
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], in[(size_t)s_clampi(first, 0, last) * row + col]);

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], in[(size_t)s_clampi(first + k, 0, last) * row + col]);
		out[i] = acc;
	}
}

/* Horizontal pass of a plane of codes: in (t.in_size x ih samples) -> float tmp. */
static __global__ void k_plane_h(const uint8_t *in, int bytes, int ih, struct s_table t, float *out)
{
	FOR_EACH(i, (size_t)t.out_size * ih) {
		int j = (int)(i % t.out_size);
		size_t y = i / t.out_size, row = y * t.in_size;
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], s_sample(in, bytes, row + s_clampi(first, 0, last)));

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], s_sample(in, bytes, row + s_clampi(first + k, 0, last)));
		out[i] = acc;
	}
}

/* Vertical pass of a plane: float tmp (ow wide) -> codes, round half up, clamped. */
static __global__ void k_plane_v(const float *in, int ow, struct s_table t, uint8_t *out, int bytes,
			  float max_code)
{
	FOR_EACH(i, (size_t)ow * t.out_size) {
		int x = (int)(i % ow), j = (int)(i / ow);
		const float *w = t.weights + (size_t)j * t.taps;
		int first = t.first[j], last = t.in_size - 1;
		float acc = __fmul_rn(w[0], in[(size_t)s_clampi(first, 0, last) * ow + x]);

		for (int k = 1; k < t.taps; k++)
			acc = s_madd(acc, w[k], in[(size_t)s_clampi(first + k, 0, last) * ow + x]);
		s_store_code(out, bytes, i, acc, max_code);
	}
}

/* ---- host: picture layout, colour constants, tables ----------------------------------- */

void cu_planes_init(struct s_planes *pl, const struct vhs_pixfmt *f, int w, int h)
{
	size_t at = 0;

	memset(pl, 0, sizeof(*pl));
	pl->n = f->planes;
	pl->bytes = f->bytes;
	for (int p = 0; p < pl->n; p++) {
		pl->w[p] = vhs_pixfmt_plane_width(f, p, w);
		pl->h[p] = vhs_pixfmt_plane_height(f, p, h);
		pl->off[p] = at;
		at += (size_t)pl->w[p] * pl->h[p] * pl->bytes;
		at = (at + PLANE_ALIGN - 1) / PLANE_ALIGN * PLANE_ALIGN;
	}
	pl->size = at;
}

/* Caller's picture -> staging (rows tight). */
void cu_pack(const struct s_planes *pl, const struct vhs_picture *pic, uint8_t *dst)
{
	for (int p = 0; p < pl->n; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		if ((size_t)pic->linesize[p] == row) {
			memcpy(dst + pl->off[p], pic->data[p], row * pl->h[p]);
			continue;
		}
		for (int y = 0; y < pl->h[p]; y++)
			memcpy(dst + pl->off[p] + row * y, pic->data[p] + (size_t)pic->linesize[p] * y,
			       row);
	}
}

/* Staging -> caller's picture. */
void cu_unpack(const struct s_planes *pl, const uint8_t *src, const struct vhs_picture *pic)
{
	for (int p = 0; p < pl->n; p++) {
		size_t row = (size_t)pl->w[p] * pl->bytes;

		if ((size_t)pic->linesize[p] == row) {
			memcpy(pic->data[p], src + pl->off[p], row * pl->h[p]);
			continue;
		}
		for (int y = 0; y < pl->h[p]; y++)
			memcpy(pic->data[p] + (size_t)pic->linesize[p] * y, src + pl->off[p] + row * y,
			       row);
	}
}


/* struct vhs_color_xform -> struct s_color, derived constants as color.c's s_coef_init. */
void cu_color_init(struct s_color *c, const struct vhs_color_xform *x)
{
	memset(c, 0, sizeof(*c));
	c->w = x->width;
	c->h = x->height;
	c->rgb = x->rgb;
	c->gray = x->gray;
	c->bytes = x->fmt->bytes;
	c->sx = x->sx;
	c->sy = x->sy;
	c->cw = x->rgb || x->gray ? c->w : vhs_pixfmt_plane_width(x->fmt, 1, c->w);
	c->ch = x->rgb || x->gray ? c->h : vhs_pixfmt_plane_height(x->fmt, 1, c->h);
	c->cx_off = x->cx_off;
	c->cy_off = x->cy_off;
	c->y_off = x->y_off;
	c->y_scale = x->y_scale;
	c->c_off = x->c_off;
	c->c_scale = x->c_scale;
	c->max_code = x->max_code;
	vhs_color_coef_init(&c->k, x);
	vhs_chroma_site_init(&c->hs, x->sx, x->cx_off);
	vhs_chroma_site_init(&c->vs, x->sy, x->cy_off);
}

extern "C" int vhs_cuda_color_constants(const struct vhs_color_xform *x, struct vhs_color_coef *k,
					struct vhs_chroma_site *h, struct vhs_chroma_site *v)
{
	struct s_color c;

	cu_color_init(&c, x);
	*k = c.k;
	*h = c.hs;
	*v = c.vs;
	return 0;
}

/* Uploads a resample table, after checking it is the n -> m one expected. */
static int s_table_upload(struct vhs_cuda_upscaler *u, struct s_table *d,
			  const struct vhs_resample_table *t, int n, int m)
{
	int ret;

	if (t->in_size != n || t->out_size != m || t->taps < 1 || !t->first || !t->weights) {
		snprintf(u->err, sizeof(u->err), "resample table is %d -> %d, the spec needs %d -> %d",
			 t->in_size, t->out_size, n, m);
		return -EINVAL;
	}
	d->in_size = n;
	d->out_size = m;
	d->taps = t->taps;
	ret = cu_dmalloc(u, (void **)&d->first, (size_t)m * sizeof(int));
	if (!ret)
		ret = cu_dmalloc(u, (void **)&d->weights, (size_t)m * t->taps * sizeof(float));
	if (!ret)
		ret = cu_ck(u, cudaMemcpy(d->first, t->first, (size_t)m * sizeof(int),
					 cudaMemcpyHostToDevice), "cudaMemcpy");
	if (!ret)
		ret = cu_ck(u, cudaMemcpy(d->weights, t->weights, (size_t)m * t->taps * sizeof(float),
					 cudaMemcpyHostToDevice), "cudaMemcpy");
	return ret;
}

void cu_table_free(struct s_table *d)
{
	cudaFree(d->first);
	cudaFree(d->weights);
	d->first = NULL;
	d->weights = NULL;
}

int cu_tables_open(struct vhs_cuda_upscaler *u)
{
	const struct vhs_upscale_spec *s = u->spec;
	int ret = 0;

	if (u->m) {
		if (!s->resize)
			return 0;
		ret = s_table_upload(u, &u->h, &s->h, s->net_w, s->out_w);
		return ret ? ret : s_table_upload(u, &u->v, &s->v, s->net_h, s->out_h);
	}
	for (int p = 0; p < u->pin.n && !ret; p++) {
		ret = s_table_upload(u, &u->ph[p], &s->plane_h[p], u->pin.w[p], u->pout.w[p]);
		if (!ret)
			ret = s_table_upload(u, &u->pv[p], &s->plane_v[p], u->pin.h[p], u->pout.h[p]);
	}
	return ret;
}

/* ---- host: one frame's work on its stream --------------------------------------------- */

/* Picture -> d_rgb -> network -> (resize) -> output planes, all enqueued. */
int cu_enqueue_model(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	const struct vhs_upscale_spec *s = u->spec;
	const uint8_t *in = f->d_in;
	uint8_t *out = f->d_out;
	const float *rgb = f->d_net;
	float range = u->m->range;
	int ret;

	k_to_rgb<<<cu_blocks((size_t)s->in_w * s->in_h), THREADS, 0, f->stream>>>(
		u->cin, in + u->pin.off[0], in + u->pin.off[1], in + u->pin.off[2], range, f->d_rgb);
	ret = cu_launched(u, "k_to_rgb");
	if (!ret)
		ret = cu_net(u, f);
	if (!ret && s->resize) {
		k_resize_h<<<cu_blocks((size_t)s->out_w * s->net_h * 3), THREADS, 0, f->stream>>>(
			f->d_net, s->net_h, 3, u->h, f->d_tmp);
		ret = cu_launched(u, "k_resize_h");
		if (!ret)
			k_resize_v<<<cu_blocks((size_t)s->out_w * 3 * s->out_h), THREADS, 0, f->stream>>>(
				f->d_tmp, (size_t)s->out_w * 3, u->v, f->d_big);
		ret = ret ? ret : cu_launched(u, "k_resize_v");
		rgb = f->d_big;
	}
	if (ret)
		return ret;
	k_luma<<<cu_blocks((size_t)s->out_w * s->out_h), THREADS, 0, f->stream>>>(
		u->cout, rgb, 1.0f / range, out + u->pout.off[0], out + u->pout.off[1],
		out + u->pout.off[2]);
	ret = cu_launched(u, "k_luma");
	if (ret || u->cout.rgb || u->cout.gray)
		return ret;
	k_chroma<<<cu_blocks((size_t)u->cout.cw * u->cout.ch), THREADS, 0, f->stream>>>(
		u->cout, rgb, 1.0f / range, out + u->pout.off[1], out + u->pout.off[2]);
	return cu_launched(u, "k_chroma");
}

/* Plain Lanczos: every plane, horizontal then vertical. */
int cu_enqueue_lanczos(struct vhs_cuda_upscaler *u, struct s_frame *f)
{
	float max_code = (float)((1 << u->spec->in_fmt->depth) - 1);
	int ret = 0;

	for (int p = 0; p < u->pin.n && !ret; p++) {
		k_plane_h<<<cu_blocks((size_t)u->pout.w[p] * u->pin.h[p]), THREADS, 0, f->stream>>>(
			f->d_in + u->pin.off[p], u->pin.bytes, u->pin.h[p], u->ph[p], f->d_tmp);
		ret = cu_launched(u, "k_plane_h");
		if (ret)
			break;
		k_plane_v<<<cu_blocks((size_t)u->pout.w[p] * u->pout.h[p]), THREADS, 0, f->stream>>>(
			f->d_tmp, u->pout.w[p], u->pv[p], f->d_out + u->pout.off[p], u->pout.bytes,
			max_code);
		ret = cu_launched(u, "k_plane_v");
	}
	return ret;
}
