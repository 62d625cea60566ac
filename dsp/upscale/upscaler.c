/* upscaler.c: one upscaling stream on the CPU or a GPU (see upscaler.h).
 *
 * DESIGN
 * Open decides everything once: the model (model.c), the output size and colour (spec.h),
 * the resample tables, the backend. The CPU backend does a frame inside submit (colour to
 * RGB, network, resize, colour back, each with its own buffer kept across frames) and
 * keeps the tags of done frames in a small FIFO for collect; the CUDA backend queues
 * frames on the device (cuda_upscaler.h) and collect hands them back in order. Either way the
 * caller sees the same protocol: submit up to vhs_upscaler_capacity() frames, collect
 * them in order.
 */
#include "upscaler.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda_upscaler.h"
#include "net.h"
#include "spec.h"

#define CPU_FIFO 8 /* the CPU backend's capacity: frames done but not yet collected */

struct vhs_upscaler {
	struct vhs_upscale_spec spec;
	struct vhs_nn_model model;      /* spec.model points here when a network runs */
	struct vhs_colorimetry out_color;
	const char *backend;            /* "cpu" or "cuda" */
	int capacity;                   /* frames that may be queued at once */
	/* cpu */
	struct vhs_nn_cpu *net;
	float *rgb_in, *rgb_net, *rgb_out, *tmp;
	uint64_t fifo[CPU_FIFO];        /* tags of done frames, oldest at head */
	int head, queued;
	/* cuda */
	struct vhs_cuda_upscaler *cuda;
	char err[512];
};

/* Records a one-line reason and returns ret. */
static int s_err(struct vhs_upscaler *u, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int s_err(struct vhs_upscaler *u, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->err, sizeof(u->err), fmt, ap);
	va_end(ap);
	return ret;
}

static int s_is_hd(int w, int h)
{
	return w >= 1280 || h >= 720;
}

/* The input's matrix as the upscaler reads it: BT.709 when it says so, BT.601 otherwise. */
static int s_sd_matrix(const struct vhs_colorimetry *c)
{
	return c->matrix == VHS_MATRIX_BT470BG ? VHS_MATRIX_BT470BG : VHS_MATRIX_SMPTE170M;
}

static int s_tables(struct vhs_upscaler *u)
{
	struct vhs_upscale_spec *s = &u->spec;

	if (s->model) {
		s->resize = s->net_w != s->out_w || s->net_h != s->out_h;
		if (s->resize && (vhs_resample_table_init(&s->h, s->net_w, s->out_w) ||
				  vhs_resample_table_init(&s->v, s->net_h, s->out_h)))
			return -ENOMEM;
		return 0;
	}
	for (int p = 0; p < s->in_fmt->planes; p++) {
		int iw = vhs_pixfmt_plane_width(s->in_fmt, p, s->in_w);
		int ih = vhs_pixfmt_plane_height(s->in_fmt, p, s->in_h);
		int ow = vhs_pixfmt_plane_width(s->out_fmt, p, s->out_w);
		int oh = vhs_pixfmt_plane_height(s->out_fmt, p, s->out_h);

		if (vhs_resample_table_init(&s->plane_h[p], iw, ow) ||
		    vhs_resample_table_init(&s->plane_v[p], ih, oh))
			return -ENOMEM;
	}
	return 0;
}

/* The spec: sizes, formats, colour, tables. */
static int s_spec(struct vhs_upscaler *u, const struct vhs_upscaler_config *cfg,
		  const struct vhs_pixfmt *in_fmt, int w, int h, const struct vhs_colorimetry *in_color)
{
	struct vhs_upscale_spec *s = &u->spec;
	int scale = s->model ? s->model->scale : 1;
	int matrix;

	s->in_fmt = in_fmt;
	s->out_fmt = vhs_pixfmt_find(cfg->out_fmt);
	if (!s->out_fmt)
		return s_err(u, -EINVAL, "output pixel format %s is not supported by the upscaler",
			     cfg->out_fmt);
	s->in_w = w;
	s->in_h = h;
	s->net_w = w * scale;
	s->net_h = h * scale;
	s->out_w = cfg->out_w > 0 ? cfg->out_w : (s->model ? s->net_w : w);
	s->out_h = cfg->out_h > 0 ? cfg->out_h : (s->model ? s->net_h : h);
	if (!s->model) {
		if (in_fmt->rgb != s->out_fmt->rgb || in_fmt->depth != s->out_fmt->depth ||
		    in_fmt->planes != s->out_fmt->planes)
			return s_err(u, -EINVAL, "lanczos resizes each plane: %s cannot become %s this way",
				     in_fmt->name, s->out_fmt->name);
		u->out_color = *in_color;
		return s_tables(u) ? s_err(u, -ENOMEM, "out of memory") : 0;
	}
	vhs_color_setup_in(&s->in, in_fmt, w, h, in_color);
	matrix = in_color->matrix == VHS_MATRIX_BT709 || s_is_hd(s->out_w, s->out_h) ?
			 VHS_MATRIX_BT709 : s_sd_matrix(in_color);
	vhs_color_setup_out(&s->out, s->out_fmt, s->out_w, s->out_h, matrix, in_color);
	u->out_color = s->out.tags;
	return s_tables(u) ? s_err(u, -ENOMEM, "out of memory") : 0;
}

static int s_open_cpu(struct vhs_upscaler *u, int threads)
{
	const struct vhs_upscale_spec *s = &u->spec;
	size_t in = (size_t)s->in_w * s->in_h * 3, net = (size_t)s->net_w * s->net_h * 3;
	size_t out = (size_t)s->out_w * s->out_h * 3;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	u->backend = "cpu";
	u->capacity = CPU_FIFO;
	if (!s->model) {
		u->tmp = malloc(sizeof(float) * (size_t)s->out_w * s->in_h);
		return u->tmp ? 0 : -ENOMEM;
	}
	if (vhs_nn_cpu_open(&u->net, s->model, threads > 0 ? threads : (int)(cores > 0 ? cores : 1), 0) ||
	    vhs_nn_cpu_prepare(u->net, s->in_w, s->in_h))
		return -ENOMEM;
	u->rgb_in = malloc(in * sizeof(float));
	u->rgb_net = malloc(net * sizeof(float));
	if (s->resize) {
		u->rgb_out = malloc(out * sizeof(float));
		u->tmp = malloc(sizeof(float) * (size_t)s->out_w * s->net_h * 3);
	}
	if (!u->rgb_in || !u->rgb_net || (s->resize && (!u->rgb_out || !u->tmp)))
		return -ENOMEM;
	return 0;
}

/* backend "cuda" / "auto": the device if there is one. */
static int s_open_backend(struct vhs_upscaler *u, const struct vhs_upscaler_config *cfg,
			  char *warn, size_t warnlen)
{
	char why[256];
	int ret;

	if (strcmp(cfg->backend, "cpu") && vhs_cuda_probe(why, sizeof(why))) {
		ret = vhs_cuda_open(&u->cuda, &u->spec, cfg->fp32 ? VHS_CUDA_FP32 : VHS_CUDA_FP16,
				    cfg->in_flight > 0 ? cfg->in_flight : 3, u->err, sizeof(u->err));
		if (ret)
			return ret;
		u->backend = "cuda";
		u->capacity = cfg->in_flight > 0 ? cfg->in_flight : 3;
		return 0;
	}
	if (!strcmp(cfg->backend, "cuda"))
		return s_err(u, -ENODEV, "backend \"cuda\": %s", why);
	if (!strcmp(cfg->backend, "auto") && u->spec.model)
		snprintf(warn, warnlen,
			 "no GPU (%s): %s runs on the CPU, about %.0f GFLOP per frame: expect seconds per frame",
			 why, u->spec.model->name, u->spec.model->flops_per_pixel * u->spec.in_w * u->spec.in_h / 1e9);
	ret = s_open_cpu(u, cfg->threads);
	return ret ? s_err(u, ret, "out of memory for the CPU upscaler") : 0;
}

int vhs_upscaler_open(struct vhs_upscaler **out, const struct vhs_upscaler_config *cfg,
		      const struct vhs_pixfmt *in_fmt, int w, int h,
		      const struct vhs_colorimetry *in_color, char *err, size_t errlen,
		      char *warn, size_t warnlen)
{
	struct vhs_upscaler *u = calloc(1, sizeof(*u));
	int ret;

	*out = NULL;
	if (warnlen)
		warn[0] = 0;
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (strcmp(cfg->model, "lanczos")) {
		if (cfg->scale != 2 && cfg->scale != 3 && cfg->scale != 4 && cfg->scale != 8) {
			ret = s_err(u, -EINVAL, "scale %d: the models scale by 2, 3, 4 or 8", cfg->scale);
			goto out_close;
		}
		ret = vhs_nn_model_open(&u->model, cfg->model, cfg->scale, u->err, sizeof(u->err));
		if (ret)
			goto out_close;
		u->spec.model = &u->model;
	}
	ret = s_spec(u, cfg, in_fmt, w, h, in_color);
	if (!ret)
		ret = s_open_backend(u, cfg, warn, warnlen);
	if (ret)
		goto out_close;
	*out = u;
	return 0;
out_close:
	snprintf(err, errlen, "%s", u->err);
	vhs_upscaler_close(&u);
	return ret;
}

/* One frame on the CPU, start to end. */
static void s_cpu_frame(struct vhs_upscaler *u, const struct vhs_picture *in, struct vhs_picture *out)
{
	const struct vhs_upscale_spec *s = &u->spec;
	float range;

	if (!s->model) {
		for (int p = 0; p < s->in_fmt->planes; p++)
			vhs_resample_plane(in->data[p], in->linesize[p], s->in_fmt->bytes, out->data[p],
					   out->linesize[p], (1 << s->in_fmt->depth) - 1, &s->plane_h[p],
					   &s->plane_v[p], u->tmp);
		return;
	}
	range = s->model->range;
	vhs_color_to_rgb(&s->in, in, u->rgb_in, range);
	vhs_nn_cpu_run(u->net, u->rgb_in, s->in_w, s->in_h, u->rgb_net);
	if (s->resize)
		vhs_resample_hwc(u->rgb_net, s->net_w, s->net_h, 3, u->rgb_out, s->out_w, s->out_h,
				 &s->h, &s->v, u->tmp);
	vhs_color_from_rgb(&s->out, s->resize ? u->rgb_out : u->rgb_net, range, out);
}

/* A frame to the backend; wait/done != NULL or device: out is in device memory. */
static int s_submit(struct vhs_upscaler *u, const struct vhs_picture *in, struct vhs_picture *out,
		    int device, void *wait, void *done, uint64_t tag)
{
	if (device && !u->cuda)
		return s_err(u, -EINVAL, "device output needs the cuda backend");
	if (in->width != u->spec.in_w || in->height != u->spec.in_h || in->fmt != u->spec.in_fmt) {
		return s_err(u, -EINVAL, "frame %dx%d %s: the stream is %dx%d %s", in->width, in->height,
			     in->fmt->name, u->spec.in_w, u->spec.in_h, u->spec.in_fmt->name);
	}
	if (u->queued == u->capacity) {
		return s_err(u, -EBUSY, "submit with %d frames queued: collect first", u->queued);
	}
	if (u->cuda) {
		int ret = device ? vhs_cuda_submit_device(u->cuda, in, out, wait, done, tag)
				 : vhs_cuda_submit(u->cuda, in, out, tag);

		if (ret)
			return s_err(u, ret, "%s", vhs_cuda_error(u->cuda));
	} else {
		s_cpu_frame(u, in, out);
		u->fifo[(u->head + u->queued) % CPU_FIFO] = tag;
	}
	u->queued++;
	return 0;
}

int vhs_upscaler_submit(struct vhs_upscaler *u, const struct vhs_picture *in,
			struct vhs_picture *out, uint64_t tag)
{
	return s_submit(u, in, out, 0, NULL, NULL, tag);
}

int vhs_upscaler_submit_device(struct vhs_upscaler *u, const struct vhs_picture *in,
			       struct vhs_picture *out, void *wait_event, void *done_event, uint64_t tag)
{
	return s_submit(u, in, out, 1, wait_event, done_event, tag);
}

int vhs_upscaler_register_input(struct vhs_upscaler *u, void *base, size_t bytes)
{
	int ret;

	if (!u->cuda)
		return 0; /* the CPU reads the caller's memory in place already */
	ret = vhs_cuda_register_input(u->cuda, base, bytes);
	return ret ? s_err(u, ret, "%s", vhs_cuda_error(u->cuda)) : 0;
}

int vhs_upscaler_on_device(const struct vhs_upscaler *u)
{
	return u->cuda != NULL;
}

int vhs_upscaler_collect(struct vhs_upscaler *u, uint64_t *tag, int wait)
{
	int ret;

	if (!u->queued)
		return 0;
	if (u->cuda) {
		ret = vhs_cuda_collect(u->cuda, tag, wait);
		if (ret < 0)
			return s_err(u, ret, "%s", vhs_cuda_error(u->cuda));
		if (ret)
			u->queued--;
		return ret;
	}
	*tag = u->fifo[u->head];
	u->head = (u->head + 1) % CPU_FIFO;
	u->queued--;
	return 1;
}

int vhs_upscaler_queued(const struct vhs_upscaler *u)
{
	return u->queued;
}

int vhs_upscaler_capacity(const struct vhs_upscaler *u)
{
	return u->capacity;
}

const struct vhs_pixfmt *vhs_upscaler_out_fmt(const struct vhs_upscaler *u)
{
	return u->spec.out_fmt;
}

void vhs_upscaler_out_size(const struct vhs_upscaler *u, int *w, int *h)
{
	*w = u->spec.out_w;
	*h = u->spec.out_h;
}

const struct vhs_colorimetry *vhs_upscaler_out_color(const struct vhs_upscaler *u)
{
	return &u->out_color;
}

const char *vhs_upscaler_backend(const struct vhs_upscaler *u)
{
	return u->backend;
}

double vhs_upscaler_flops(const struct vhs_upscaler *u)
{
	return u->spec.model ? u->spec.model->flops_per_pixel * u->spec.in_w * u->spec.in_h : 0;
}

uint64_t vhs_upscaler_gpu_ns(const struct vhs_upscaler *u)
{
	return u->cuda ? vhs_cuda_gpu_ns(u->cuda) : 0;
}

void vhs_upscaler_out_sar(const struct vhs_upscaler *u, int in_num, int in_den, int *num, int *den)
{
	const struct vhs_upscale_spec *s = &u->spec;
	long long n = (long long)in_num * s->out_h * s->in_w;
	long long d = (long long)in_den * s->out_w * s->in_h;
	long long a = n, b = d;

	*num = in_num;
	*den = in_den;
	if (in_num <= 0 || in_den <= 0)
		return;
	while (b) {
		long long t = a % b;

		a = b;
		b = t;
	}
	*num = (int)(n / a);
	*den = (int)(d / a);
}

const char *vhs_upscaler_error(const struct vhs_upscaler *u)
{
	return u->err;
}

void vhs_upscaler_close(struct vhs_upscaler **up)
{
	struct vhs_upscaler *u = *up;

	if (!u)
		return;
	if (u->cuda)
		vhs_cuda_close(&u->cuda);
	vhs_nn_cpu_close(&u->net);
	free(u->rgb_in);
	free(u->rgb_net);
	free(u->rgb_out);
	free(u->tmp);
	vhs_resample_table_free(&u->spec.h);
	vhs_resample_table_free(&u->spec.v);
	for (int p = 0; p < 3; p++) {
		vhs_resample_table_free(&u->spec.plane_h[p]);
		vhs_resample_table_free(&u->spec.plane_v[p]);
	}
	if (u->spec.model)
		vhs_nn_model_free(&u->model);
	free(u);
	*up = NULL;
}
