/* vhs-deinterlace.c: the motion-compensated deinterlacer alone (dsp/video/mcdeint.h): y4m of
 * interlaced frames in, y4m of one progressive frame per field out (twice the frame rate).
 *
 *   vhs-deinterlace [--preset fast|medium|slow] [--order tff|bff] [--frames N] [--cuda] IN OUT
 *                   IN, OUT: files, or - for stdin/stdout
 *   --threads 1|2 (default 2: the two neighbouring fields' motion at once; the same frames)
 *   --cuda: on the GPU (dsp/cuda/cuda_mcdeint.h; the same frames), its device time in the
 *   summary line
 *   and, over the preset's, for tuning: --radius N (edge directions), --range N (motion
 *   search), --subpel 1|2|4, --threshold N, --own N, --sharpen N (mcdeint.h)
 *
 * The field order is --order's, else the y4m header's (It: top first, Ib: bottom first),
 * else top first. It exists for the benchmark (bench/deinterlace.sh, with ffmpeg turning the
 * clips into y4m) and for the GPU machines, which have no FFmpeg. A summary line goes to
 * stderr: frames in and out, seconds, output frames a second.
 *
 * Exit codes: 0 done, 1 bad input or failure (one line on stderr), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_mcdeint.h"
#include "mcdeint.h"
#include "y4m.h"

static int s_usage(const char *why)
{
	fprintf(stderr, "vhs-deinterlace: %s\nusage: vhs-deinterlace [--preset fast|medium|slow] [--order tff|bff] "
		"[--frames N] [--cuda] IN OUT\n", why);
	return 2;
}

static int s_fail(const char *fmt, const char *what)
{
	fprintf(stderr, "vhs-deinterlace: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return 1;
}

static double s_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The deinterlacer, on the CPU or the GPU: the same calls. */
struct deint {
	struct vhs_mcdeint *cpu;
	struct vhs_cuda_mcdeint *gpu;
};

static int s_push(struct deint *d, const struct vhs_picture *in, int parity)
{
	return d->gpu ? vhs_cuda_mcdeint_push(d->gpu, in, parity) : vhs_mcdeint_push(d->cpu, in, parity);
}

static int s_pull(struct deint *d, struct vhs_picture *out)
{
	return d->gpu ? vhs_cuda_mcdeint_pull(d->gpu, out) : vhs_mcdeint_pull(d->cpu, out);
}

static int s_end(struct deint *d)
{
	return d->gpu ? vhs_cuda_mcdeint_end(d->gpu) : vhs_mcdeint_end(d->cpu);
}

/* Every frame out that is ready, written. Returns 0 or -errno. */
static int s_drain(struct deint *d, const struct vhs_y4m *oy, struct vhs_picture *out, FILE *f, long *n)
{
	int ret;

	while ((ret = s_pull(d, out)) == 1) {
		if ((ret = vhs_y4m_write_frame(oy, out, f)))
			return ret;
		(*n)++;
	}
	return ret;
}

int main(int argc, char **argv)
{
	const char *preset = "medium", *order = NULL, *in_path = NULL, *out_path = NULL;
	struct vhs_mcdeint_params params;
	struct deint dd = { 0 }, *d = &dd;
	int cuda = 0;
	struct vhs_y4m iy, oy;
	struct vhs_picture in, out;
	uint8_t *in_buf = NULL, *out_buf = NULL;
	long frames = -1, n_in = 0, n_out = 0;
	char err[256];
	FILE *fi, *fo;
	int ret, first;
	double t0;
	int radius = -1, range = -1, subpel = -1, threshold = -1, own = -1, sharpen = -1, threads = 2;
	const struct {
		const char *name;
		int *value;
	} numbers[] = { { "--threads", &threads }, { "--radius", &radius }, { "--range", &range },
			{ "--subpel", &subpel }, { "--threshold", &threshold }, { "--own", &own },
			{ "--sharpen", &sharpen } };

	for (int i = 1; i < argc; i++) {
		size_t k = 0;

		while (k < sizeof(numbers) / sizeof(numbers[0]) && strcmp(argv[i], numbers[k].name))
			k++;
		if (k < sizeof(numbers) / sizeof(numbers[0]) && i + 1 < argc)
			*numbers[k].value = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--preset") && i + 1 < argc)
			preset = argv[++i];
		else if (!strcmp(argv[i], "--order") && i + 1 < argc)
			order = argv[++i];
		else if (!strcmp(argv[i], "--cuda"))
			cuda = 1;
		else if (!strcmp(argv[i], "--frames") && i + 1 < argc)
			frames = atol(argv[++i]);
		else if (argv[i][0] == '-' && argv[i][1])
			return s_usage("unknown option");
		else if (!in_path)
			in_path = argv[i];
		else if (!out_path)
			out_path = argv[i];
		else
			return s_usage("too many arguments");
	}
	if (!in_path || !out_path)
		return s_usage("IN and OUT are needed");
	if (vhs_mcdeint_preset(preset, &params))
		return s_usage("--preset is fast, medium or slow");
	params.threads = threads;
	if (radius >= 0)
		params.edi.radius = radius;
	if (range > 0)
		params.motion.range = range;
	if (subpel == 1 || subpel == 2 || subpel == 4)
		params.motion.subpel = subpel;
	else if (subpel >= 0)
		return s_usage("--subpel is 1, 2 or 4");
	if (threshold >= 0)
		params.threshold = threshold;
	if (own >= 0)
		params.own = own;
	if (sharpen >= 0)
		params.sharpen = sharpen;
	if (order && strcmp(order, "tff") && strcmp(order, "bff"))
		return s_usage("--order is tff or bff");
	fi = strcmp(in_path, "-") ? fopen(in_path, "rb") : stdin;
	if (!fi)
		return s_fail("cannot open '%s'", in_path);
	if (vhs_y4m_read_header(&iy, fi, err, sizeof(err)))
		return s_fail("%s", err);
	first = order ? !strcmp(order, "bff") : iy.interlace == 'b';
	if (cuda) {
		if ((ret = vhs_cuda_mcdeint_open(&d->gpu, &params, iy.fmt, iy.width, iy.height, err, sizeof(err))))
			return s_fail("--cuda: %s", err);
	} else if ((ret = vhs_mcdeint_open(&d->cpu, &params, iy.fmt, iy.width, iy.height))) {
		return s_fail("%s", ret == -EINVAL ? "only 8-bit planar YUV or gray, 16x16 or more, is deinterlaced"
					     : "out of memory");
	}
	fo = strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
	if (vhs_picture_alloc(&in, &in_buf, iy.fmt, iy.width, iy.height) ||
	    vhs_picture_alloc(&out, &out_buf, iy.fmt, iy.width, iy.height) || !fo)
		return s_fail("%s", !fo ? "cannot open the output" : "out of memory");
	oy = iy;
	oy.interlace = 'p';
	if (iy.fr_num > 0 && iy.fr_den > 0) {
		oy.fr_num = iy.fr_num % 2 && iy.fr_den % 2 == 0 ? iy.fr_num : 2 * iy.fr_num;
		oy.fr_den = iy.fr_num % 2 && iy.fr_den % 2 == 0 ? iy.fr_den / 2 : iy.fr_den;
	}
	if ((ret = vhs_y4m_write_header(&oy, fo)))
		return s_fail("%s", "cannot write the output");
	t0 = s_now();
	while ((frames < 0 || n_in < frames) && (ret = vhs_y4m_read_frame(&iy, &in, err, sizeof(err))) == 1) {
		n_in++;
		if ((ret = s_push(d, &in, first)) || (ret = s_drain(d, &oy, &out, fo, &n_out)) ||
		    (ret = s_push(d, &in, !first)) || (ret = s_drain(d, &oy, &out, fo, &n_out)))
			return s_fail("%s", ret == -ENOMEM ? "out of memory"
					    : ret == -EIO && d->gpu ? vhs_cuda_mcdeint_error(d->gpu) : "cannot write the output");
	}
	if (ret < 0)
		return s_fail("%s", err);
	if (s_end(d))
		return s_fail("%s", d->gpu ? vhs_cuda_mcdeint_error(d->gpu) : "out of memory");
	if ((ret = s_drain(d, &oy, &out, fo, &n_out)) || fflush(fo))
		return s_fail("%s", "cannot write the output");
	fprintf(stderr, "vhs-deinterlace: %ld frames in, %ld out, %.2f s, %.2f fps (%s)\n", n_in, n_out, s_now() - t0,
		n_out / (s_now() - t0 > 0 ? s_now() - t0 : 1), preset);
	if (d->gpu)
		fprintf(stderr, "vhs-deinterlace: %.3f ms of GPU time a frame\n",
			n_out ? (double)vhs_cuda_mcdeint_gpu_ns(d->gpu) / 1e6 / (double)n_out : 0.0);
	vhs_mcdeint_close(&d->cpu);
	vhs_cuda_mcdeint_close(&d->gpu);
	free(in_buf);
	free(out_buf);
	if (fi != stdin)
		fclose(fi);
	if (fo != stdout)
		fclose(fo);
	return 0;
}
