/* tool.c: vhs-upscale, the upscaler alone: y4m (or raw planes) in, y4m (or raw planes) out.
 *
 *   vhs-upscale [options] IN OUT        IN, OUT: files, or - for stdin/stdout
 *     --model NAME      esrgan-slim (default), esrgan-medium, esrgan-thick, lanczos
 *     --scale N         the network's scale: 2 (default), 3, 4, 8
 *     --backend B       auto (default), cpu, cuda
 *     --size WxH        output size (default: input size x scale)
 *     --pix-fmt NAME    output pixel format (default: the input's)
 *     --raw WxH:FMT     IN is raw planes of that size and format (planar RGB has no y4m name)
 *     --raw-out         write raw planes, not y4m (gbrp output always is raw)
 *     --precision P     fp16 (default) or fp32, on a GPU
 *     --threads N       CPU network threads (default: all cores)
 *     --in-flight N     frames in flight on a GPU (default 3)
 *     --frames N        stop after N frames
 *
 * DESIGN
 * It exists because the GPU machines have no FFmpeg: the stage's engine (upscaler.h) runs
 * here on files, so the CUDA backend can be tested and benchmarked there, and because it
 * makes comparing with other implementations of the same models easy. Planes are read
 * and written tightly packed (y4m's layout) and held in 64-byte aligned buffers, one pair
 * per frame in flight. A summary line goes to stderr: frames, seconds, fps, backend.
 *
 * Exit codes: 0 done, 1 bad input or failure (one line on stderr), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "upscaler.h"
#include "y4m.h"

struct options {
	struct vhs_upscaler_config cfg;
	const char *in, *out, *raw;
	int raw_out;
	long frames;
};

struct frame {
	uint8_t *in_buf, *out_buf;
	struct vhs_picture in, out;
};

static int s_usage(const char *why)
{
	fprintf(stderr, "vhs-upscale: %s\nusage: vhs-upscale [--model NAME] [--scale N] [--backend auto|cpu|cuda] "
		"[--size WxH] [--pix-fmt NAME] [--raw WxH:FMT] [--raw-out] [--precision fp16|fp32] "
		"[--threads N] [--in-flight N] [--frames N] IN OUT\n", why);
	return 2;
}

static int s_options(int argc, char **argv, struct options *o)
{
	static char none[] = "";

	o->cfg = (struct vhs_upscaler_config){ .model = "esrgan-slim", .scale = 2, .backend = "auto",
					       .out_fmt = none };
	o->frames = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (!strcmp(a, "--raw-out"))
			o->raw_out = 1, takes = 0;
		else if (a[0] != '-' || !strcmp(a, "-")) {
			if (o->out)
				return s_usage("too many files");
			*(o->in ? &o->out : &o->in) = a;
			takes = 0;
		} else if (!v)
			return s_usage("an option needs a value");
		else if (!strcmp(a, "--model"))
			o->cfg.model = v;
		else if (!strcmp(a, "--scale"))
			o->cfg.scale = atoi(v);
		else if (!strcmp(a, "--backend"))
			o->cfg.backend = v;
		else if (!strcmp(a, "--size")) {
			if (sscanf(v, "%dx%d", &o->cfg.out_w, &o->cfg.out_h) != 2)
				return s_usage("--size wants WxH");
		} else if (!strcmp(a, "--pix-fmt"))
			o->cfg.out_fmt = v;
		else if (!strcmp(a, "--raw"))
			o->raw = v;
		else if (!strcmp(a, "--precision"))
			o->cfg.fp32 = !strcmp(v, "fp32");
		else if (!strcmp(a, "--threads"))
			o->cfg.threads = atoi(v);
		else if (!strcmp(a, "--in-flight"))
			o->cfg.in_flight = atoi(v);
		else if (!strcmp(a, "--frames"))
			o->frames = atol(v);
		else
			return s_usage("unknown option");
		i += takes;
	}
	if (!o->out)
		return s_usage("IN and OUT are needed");
	if (strcmp(o->cfg.backend, "auto") && strcmp(o->cfg.backend, "cpu") && strcmp(o->cfg.backend, "cuda"))
		return s_usage("--backend is auto, cpu or cuda");
	return 0;
}

/* Raw input: WxH:FMT, limited-range BT.601 unless the format says otherwise. */
static int s_raw_header(struct vhs_y4m *y, const char *spec, FILE *f)
{
	char name[32];

	memset(y, 0, sizeof(*y));
	if (sscanf(spec, "%dx%d:%31s", &y->width, &y->height, name) != 3 || y->width < 1 || y->height < 1)
		return fprintf(stderr, "vhs-upscale: --raw wants WxH:FMT, not '%s'\n", spec), -EINVAL;
	y->fmt = vhs_pixfmt_find(name);
	if (!y->fmt)
		return fprintf(stderr, "vhs-upscale: pixel format %s is not supported\n", name), -EINVAL;
	y->f = f;
	y->interlace = 'p';
	y->color.range = y->fmt->rgb || y->fmt->full_range ? VHS_RANGE_FULL : VHS_RANGE_LIMITED;
	y->color.matrix = y->fmt->rgb ? VHS_MATRIX_RGB : VHS_MATRIX_SMPTE170M;
	return 0;
}

/* Tightly packed planes (y4m's layout) of a picture, read or written. */
static int s_planes_io(struct vhs_picture *p, FILE *f, int write)
{
	for (int i = 0; i < p->fmt->planes; i++) {
		size_t row = (size_t)vhs_pixfmt_plane_width(p->fmt, i, p->width) * p->fmt->bytes;
		int rows = vhs_pixfmt_plane_height(p->fmt, i, p->height);

		for (int y = 0; y < rows; y++) {
			uint8_t *line = p->data[i] + (size_t)y * p->linesize[i];

			if ((write ? fwrite(line, 1, row, f) : fread(line, 1, row, f)) != row)
				return write ? -errno : (y || i ? -EINVAL : 0);
		}
	}
	return 1;
}

struct run {
	struct options *o;
	struct vhs_upscaler *up;
	struct vhs_y4m in, out;
	FILE *fout;
	struct frame *frames;
	int cap;
	long done;
};

static int s_write_oldest(struct run *r, int wait)
{
	uint64_t tag;
	int ret = vhs_upscaler_collect(r->up, &tag, wait);

	if (ret <= 0)
		return ret;
	if (r->o->raw_out || r->out.fmt->rgb) {
		if (s_planes_io(&r->frames[tag % r->cap].out, r->fout, 1) < 0)
			return -EIO;
	} else if (vhs_y4m_write_frame(&r->out, &r->frames[tag % r->cap].out, r->fout)) {
		return -EIO;
	}
	r->done++;
	return 1;
}

static int s_loop(struct run *r)
{
	char err[256];
	long n = 0;
	int ret;

	for (; r->o->frames < 0 || n < r->o->frames; n++) {
		struct frame *fr = &r->frames[n % r->cap];

		if (vhs_upscaler_queued(r->up) == vhs_upscaler_capacity(r->up) && s_write_oldest(r, 1) < 0)
			return fprintf(stderr, "vhs-upscale: writing %s: %s\n", r->o->out, vhs_upscaler_error(r->up)), 1;
		ret = r->o->raw ? s_planes_io(&fr->in, r->in.f, 0)
				: vhs_y4m_read_frame(&r->in, &fr->in, err, sizeof(err));
		if (ret < 0)
			return fprintf(stderr, "vhs-upscale: %s: %s\n", r->o->in,
				       r->o->raw ? "truncated frame" : err), 1;
		if (!ret)
			break;
		fr->in.color = r->in.color;
		if (vhs_upscaler_submit(r->up, &fr->in, &fr->out, (uint64_t)n))
			return fprintf(stderr, "vhs-upscale: %s\n", vhs_upscaler_error(r->up)), 1;
		while ((ret = s_write_oldest(r, 0)) > 0)
			;
		if (ret < 0)
			return fprintf(stderr, "vhs-upscale: %s\n", vhs_upscaler_error(r->up)), 1;
	}
	while ((ret = s_write_oldest(r, 1)) > 0)
		;
	return ret < 0 ? (fprintf(stderr, "vhs-upscale: %s\n", vhs_upscaler_error(r->up)), 1) : 0;
}

static int s_open(struct run *r, FILE *fin)
{
	char err[512], warn[512];
	int w, h;

	if (r->o->raw ? s_raw_header(&r->in, r->o->raw, fin) : vhs_y4m_read_header(&r->in, fin, err, sizeof(err)))
		return r->o->raw ? 1 : (fprintf(stderr, "vhs-upscale: %s: %s\n", r->o->in, err), 1);
	if (!r->o->cfg.out_fmt[0])
		r->o->cfg.out_fmt = r->in.fmt->name;
	if (vhs_upscaler_open(&r->up, &r->o->cfg, r->in.fmt, r->in.width, r->in.height, &r->in.color,
			      err, sizeof(err), warn, sizeof(warn)))
		return fprintf(stderr, "vhs-upscale: %s\n", err), 1;
	if (warn[0])
		fprintf(stderr, "vhs-upscale: warning: %s\n", warn);
	r->out = r->in;
	r->out.fmt = vhs_upscaler_out_fmt(r->up);
	vhs_upscaler_out_size(r->up, &w, &h);
	r->out.width = w;
	r->out.height = h;
	r->out.color = *vhs_upscaler_out_color(r->up);
	vhs_upscaler_out_sar(r->up, r->in.sar_num, r->in.sar_den, &r->out.sar_num, &r->out.sar_den);
	r->cap = vhs_upscaler_capacity(r->up);
	r->frames = calloc((size_t)r->cap, sizeof(*r->frames));
	if (!r->frames)
		return fprintf(stderr, "vhs-upscale: out of memory\n"), 1;
	for (int i = 0; i < r->cap; i++)
		if (vhs_picture_alloc(&r->frames[i].in, &r->frames[i].in_buf, r->in.fmt, r->in.width, r->in.height) ||
		    vhs_picture_alloc(&r->frames[i].out, &r->frames[i].out_buf, r->out.fmt, w, h))
			return fprintf(stderr, "vhs-upscale: out of memory\n"), 1;
	if (!r->o->raw_out && !r->out.fmt->rgb && vhs_y4m_write_header(&r->out, r->fout))
		return fprintf(stderr, "vhs-upscale: %s: cannot write a y4m header for %s\n", r->o->out,
			       r->out.fmt->name), 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct run r = { .o = &o };
	struct timespec t0, t1;
	FILE *fin;
	int ret;

	ret = s_options(argc, argv, &o);
	if (ret)
		return ret;
	fin = strcmp(o.in, "-") ? fopen(o.in, "rb") : stdin;
	if (!fin)
		return fprintf(stderr, "vhs-upscale: %s: %s\n", o.in, strerror(errno)), 1;
	r.fout = strcmp(o.out, "-") ? fopen(o.out, "wb") : stdout;
	if (!r.fout)
		return fprintf(stderr, "vhs-upscale: %s: %s\n", o.out, strerror(errno)), 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = s_open(&r, fin);
	if (!ret)
		ret = s_loop(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (fflush(r.fout) || (r.fout != stdout && fclose(r.fout))) {
		fprintf(stderr, "vhs-upscale: %s: %s\n", o.out, strerror(errno));
		ret = 1;
	}
	if (!ret) {
		double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

		fprintf(stderr, "vhs-upscale: %ld frames in %.3f s (%.3f fps) on %s\n", r.done, s,
			s > 0 ? r.done / s : 0, vhs_upscaler_backend(r.up));
	}
	for (int i = 0; r.frames && i < r.cap; i++) {
		free(r.frames[i].in_buf);
		free(r.frames[i].out_buf);
	}
	free(r.frames);
	vhs_upscaler_close(&r.up);
	if (fin != stdin)
		fclose(fin);
	return ret;
}
