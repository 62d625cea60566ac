/* mcdeint.c: the motion-compensated deinterlacer (see mcdeint.h). */
#include "mcdeint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NEIGHBOURS 2               /* fields i - 1 and i + 1 */
#define RING 5                    /* fields i - 2 .. i + 2: i +- 1's search luma needs them */

int vhs_mcdeint_preset(const char *name, struct vhs_mcdeint_params *p)
{
	static const struct {
		const char *name;
		struct vhs_mcdeint_params p;
	} presets[] = {
		/* measured on bench/deinterlace.sh's clips: wider edge searches than these
		 * find false slants in texture, and a lower threshold leaves the bob where the
		 * neighbours were right (bench/RESULTS.md, issue 26) */
		{ "fast", { { 2 }, { 16, 16, 2, 4 }, 1, 30, 0, 1 } },
		{ "medium", { { 3 }, { 16, 24, 4, 4 }, 1, 30, 0, 1 } },
		{ "slow", { { 4 }, { 16, 32, 4, 4 }, 1, 30, 0, 1 } },
	};

	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (!strcmp(name, presets[i].name)) {
			*p = presets[i].p;
			return 0;
		}
	}
	return -EINVAL;
}

/* A field made a frame: its bob (every plane) and the luma motion is searched on. */
struct field {
	long index;               /* its number, from 0; -1: the slot is empty */
	int parity;               /* the rows it brought */
	uint8_t *buf;             /* the bob's planes */
	struct vhs_picture bob;
	uint8_t *search;          /* width x height */
	struct vhs_motion_pyramid pyr; /* search, made ready for the motion search once */
};

struct vhs_mcdeint {
	struct vhs_mcdeint_params p;
	const struct vhs_pixfmt *fmt;
	int width, height, planes;
	struct field ring[RING];  /* field i at ring[i % RING] */
	long pushed, next;        /* fields in, and the next one out */
	bool ended;
	struct vhs_motion_field mf[NEIGHBOURS]; /* one per neighbour: they run at once */
	uint8_t *moved[NEIGHBOURS][3]; /* each neighbour's planes moved onto the field */
	uint8_t *row, *trusted;   /* the blend's scratch, a row wide */
};

static inline int s_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int s_plane_w(const struct vhs_mcdeint *d, int pl)
{
	return vhs_pixfmt_plane_width(d->fmt, pl, d->width);
}

static int s_plane_h(const struct vhs_mcdeint *d, int pl)
{
	return vhs_pixfmt_plane_height(d->fmt, pl, d->height);
}

int vhs_mcdeint_params_valid(const struct vhs_mcdeint_params *p)
{
	const struct vhs_motion_params *m = &p->motion;

	return (m->block == 8 || m->block == 16) && m->range >= 0 && (m->subpel == 1 || m->subpel == 2 || m->subpel == 4) &&
	       m->lambda >= 0 && p->own >= 0 && p->threshold >= 0 && p->sharpen >= 0 && p->sharpen <= 16 &&
	       p->edi.radius >= 0 && p->edi.radius <= VHS_EDI_RADIUS_MAX;
}

int vhs_mcdeint_open(struct vhs_mcdeint **out, const struct vhs_mcdeint_params *p, const struct vhs_pixfmt *fmt,
		     int width, int height)
{
	struct vhs_mcdeint *d;
	int ret;

	*out = NULL;
	if (fmt->bytes != 1 || fmt->rgb || width < 16 || height < 16 || !vhs_mcdeint_params_valid(p))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->p = *p;
	d->fmt = fmt;
	d->width = width;
	d->height = height;
	d->planes = fmt->planes;
	d->p.threads = d->p.threads < 1 ? 1 : d->p.threads;
	ret = vhs_motion_field_init(&d->mf[0], width, height, p->motion.block);
	for (int n = 1; !ret && n < NEIGHBOURS; n++)
		ret = vhs_motion_field_init(&d->mf[n], width, height, p->motion.block);
	for (int r = 0; !ret && r < RING; r++) {
		struct field *f = &d->ring[r];

		f->index = -1;
		ret = vhs_picture_alloc(&f->bob, &f->buf, fmt, width, height);
		if (!ret && !(f->search = malloc((size_t)width * (size_t)height)))
			ret = -ENOMEM;
	}
	if (!ret && (!(d->row = malloc((size_t)width)) || !(d->trusted = malloc((size_t)width))))
		ret = -ENOMEM;
	for (int n = 0; !ret && n < NEIGHBOURS; n++)
		for (int pl = 0; !ret && pl < d->planes; pl++)
			if (!(d->moved[n][pl] = malloc((size_t)s_plane_w(d, pl) * (size_t)s_plane_h(d, pl))))
				ret = -ENOMEM;
	if (ret) {
		vhs_mcdeint_close(&d);
		return ret == -EINVAL ? -EINVAL : ret;
	}
	*out = d;
	return 0;
}

void vhs_mcdeint_close(struct vhs_mcdeint **dp)
{
	struct vhs_mcdeint *d = *dp;

	if (!d)
		return;
	for (int r = 0; r < RING; r++) {
		free(d->ring[r].buf);
		free(d->ring[r].search);
		vhs_motion_pyramid_free(&d->ring[r].pyr);
	}
	for (int n = 0; n < NEIGHBOURS; n++)
		for (int pl = 0; pl < 3; pl++)
			free(d->moved[n][pl]);
	for (int n = 0; n < NEIGHBOURS; n++)
		vhs_motion_field_free(&d->mf[n]);
	free(d->row);
	free(d->trusted);
	free(d);
	*dp = NULL;
}

/* ---- fields in ---- */

static const struct field *s_field(const struct vhs_mcdeint *d, long i)
{
	const struct field *f = i >= 0 ? &d->ring[i % RING] : NULL;

	return f && f->index == i ? f : NULL;
}

/* The luma field k's motion is searched on: its bob and its neighbours' mixed 1 2 1 (the
 * fields of either parity then look alike: a still picture is still), then blurred 1 2 1
 * down. */
static int s_search_luma(struct vhs_mcdeint *d, long k)
{
	struct field *f = &d->ring[k % RING];
	const struct field *prev = s_field(d, k - 1), *next = s_field(d, k + 1);
	const uint8_t *b[3] = { (prev ? prev : f)->bob.data[0], f->bob.data[0], (next ? next : f)->bob.data[0] };
	ptrdiff_t bs = f->bob.linesize[0];
	int w = d->width;

	for (int y = 0; y < d->height; y++) {
		int rows[3] = { y ? y - 1 : y, y, y + 1 < d->height ? y + 1 : y };
		uint8_t *out = f->search + (size_t)y * (size_t)w;

		for (int x = 0; x < w; x++) {
			int sum = 0;

			for (int r = 0; r < 3; r++) {
				int t = b[0][rows[r] * bs + x] + 2 * b[1][rows[r] * bs + x] + b[2][rows[r] * bs + x];

				sum += r == 1 ? 2 * t : t;
			}
			out[x] = (uint8_t)((sum + 8) >> 4);
		}
	}
	return vhs_motion_pyramid_build(&f->pyr, &d->p.motion, &(struct vhs_plane8){ f->search, w, w, d->height });
}

int vhs_mcdeint_push(struct vhs_mcdeint *d, const struct vhs_picture *frame, int parity)
{
	struct field *f = &d->ring[d->pushed % RING];
	int ret = 0;

	f->index = d->pushed;
	f->parity = parity & 1;
	for (int pl = 0; !ret && pl < d->planes; pl++) {
		int w = s_plane_w(d, pl), h = s_plane_h(d, pl);
		struct vhs_edi edi = { pl ? 0 : d->p.edi.radius };

		for (int y = f->parity; y < h; y += 2)
			memcpy(f->bob.data[pl] + y * f->bob.linesize[pl], frame->data[pl] + y * frame->linesize[pl], (size_t)w);
		ret = vhs_edi_rows(&edi, frame->data[pl], frame->linesize[pl], f->bob.data[pl], f->bob.linesize[pl], w, h,
				   f->parity, 0, h);
	}
	if (ret)
		return ret;
	d->pushed++;
	if (d->pushed >= 2) /* the field before now has both its neighbours */
		return s_search_luma(d, d->pushed - 2);
	return 0;
}

int vhs_mcdeint_end(struct vhs_mcdeint *d)
{
	int ret = !d->ended && d->pushed >= 1 ? s_search_luma(d, d->pushed - 1) : 0;

	d->ended = true;
	return ret;
}

/* ---- frames out ---- */

/* How far the two moved neighbours of the other parity (their own lines lie on the missing
 * ones) disagree around missing sample (x, y) of a w-wide plane, scaled to 6 samples. */
static int s_mismatch(const uint8_t *prev, const uint8_t *next, int w, int x, int y)
{
	int x0 = x ? x - 1 : x, x1 = x + 1 < w ? x + 1 : x, diff = 0;

	for (int xx = x0; xx <= x1; xx++)
		diff += abs(prev[y * w + xx] - next[y * w + xx]);
	return diff * 6 / (x1 - x0 + 1);
}

/* Missing luma row y, blended (row; the field's own rows above and below are the bob's),
 * resharpened: each sample moved away from its vertical [1 2 1] blur by sharpen / 16 of the
 * difference, held between the two moved neighbours there (no overshoot the motion does not
 * show: where they agree exactly, nothing moves); only where the neighbours were trusted (a
 * weight in use). Measured (bench/RESULTS.md, issue 26): it costs PSNR on every clip but
 * text, so the presets leave it off; `mc_sharpen` asks for it. */
static void s_resharpen(int sharpen, const uint8_t *row, const uint8_t *up, const uint8_t *down,
			const uint8_t *prev, const uint8_t *next, const uint8_t *trusted, int w, uint8_t *o)
{
	for (int x = 0; x < w; x++) {
		int v = row[x], lo = prev[x] < next[x] ? prev[x] : next[x], hi = prev[x] < next[x] ? next[x] : prev[x], s;

		if (!trusted[x]) {
			o[x] = (uint8_t)v;
			continue;
		}
		s = sharpen * (v - ((up[x] + 2 * v + down[x] + 2) >> 2));
		s = v + (s >= 0 ? (s + 8) / 16 : -((8 - s) / 16)); /* rounded half away from zero */
		o[x] = (uint8_t)s_clampi(s, lo, hi);
	}
}

/* One plane of field i's frame: its own rows, and the missing ones blended from its bob and
 * the n moved neighbours (moved[0], and moved[1] when there are two), the luma's then
 * resharpened. row and trusted: scratch of the plane's width. */
static void s_blend(const struct vhs_mcdeint *d, const struct field *f, int pl, int n, struct vhs_picture *out,
		    uint8_t *row, uint8_t *trusted)
{
	int w = s_plane_w(d, pl), h = s_plane_h(d, pl), limit = 6 * d->p.threshold;
	int sharpen = pl ? 0 : d->p.sharpen;
	const uint8_t *bob = f->bob.data[pl];
	ptrdiff_t bs = f->bob.linesize[pl];
	/* at the tape's ends one neighbour stands for both (as bwdif takes the one there is) */
	const uint8_t *prev = n ? d->moved[0][pl] : NULL, *next = n > 1 ? d->moved[1][pl] : prev;

	for (int y = 0; y < h; y++) {
		uint8_t *o = out->data[pl] + y * out->linesize[pl];

		if ((y & 1) == f->parity || y == 0 || y == h - 1 || !prev) {
			memcpy(o, bob + y * bs, (size_t)w);
			continue;
		}
		for (int x = 0; x < w; x++) {
			int own = bob[y * bs + x], wt = limit - s_mismatch(prev, next, w, x, y);

			/* the two agree: their mean, as far as they agree */
			if (wt > 0)
				own = (d->p.own * own + wt * ((prev[y * w + x] + next[y * w + x] + 1) >> 1) +
				       (d->p.own + wt) / 2) / (d->p.own + wt);
			row[x] = (uint8_t)own;
			trusted[x] = wt > 0;
		}
		if (sharpen > 0)
			s_resharpen(sharpen, row, bob + (y - 1) * bs, bob + (y + 1) * bs, prev + y * w, next + y * w,
				    trusted, w, o);
		else
			memcpy(o, row, (size_t)w);
	}
}

/* One neighbour's work for a frame: the motion from the field to it, and its bob moved. */
struct neighbour_job {
	const struct vhs_mcdeint *d;
	const struct field *f, *g;
	struct vhs_motion_field *mf;
	uint8_t **moved;          /* its planes */
	int ret;
};

static void *s_neighbour(void *arg)
{
	struct neighbour_job *job = arg;
	const struct vhs_mcdeint *d = job->d;

	job->ret = vhs_motion_search(&d->p.motion, &job->f->pyr, &job->g->pyr, job->mf);
	for (int pl = 0; !job->ret && pl < d->planes; pl++) {
		int w = s_plane_w(d, pl), h = s_plane_h(d, pl);

		vhs_motion_compensate(job->mf, &(struct vhs_plane8){ job->g->bob.data[pl], job->g->bob.linesize[pl], w, h },
				      pl ? d->fmt->log2_cw : 0, pl ? d->fmt->log2_ch : 0, job->moved[pl], w, 0, h,
				      !job->f->parity); /* the blend reads the missing rows only */
	}
	return NULL;
}

int vhs_mcdeint_pull(struct vhs_mcdeint *d, struct vhs_picture *out)
{
	long i = d->next;
	const struct field *f = s_field(d, i);
	struct neighbour_job jobs[NEIGHBOURS];
	pthread_t thread;
	bool threaded = false;
	int n = 0;

	/* field i + 1's search luma needs the field after it */
	if (!f || (!d->ended && d->pushed <= i + 2))
		return 0;
	for (long j = i - 1; j <= i + 1; j += 2) {
		const struct field *g = s_field(d, j);

		if (g) {
			jobs[n] = (struct neighbour_job){ d, f, g, &d->mf[n], d->moved[n], 0 };
			n++;
		}
	}
	/* each neighbour's work is its own (its vectors, its moved planes): with two threads the
	 * second runs beside the first; the frames are the same either way */
	if (n == 2 && d->p.threads > 1)
		threaded = !pthread_create(&thread, NULL, s_neighbour, &jobs[1]);
	for (int k = 0; k < n; k++)
		if (!(threaded && k == 1))
			s_neighbour(&jobs[k]);
	if (threaded)
		pthread_join(thread, NULL);
	for (int k = 0; k < n; k++)
		if (jobs[k].ret)
			return jobs[k].ret;
	for (int pl = 0; pl < d->planes; pl++)
		s_blend(d, f, pl, n, out, d->row, d->trusted);
	d->next++;
	return 1;
}
