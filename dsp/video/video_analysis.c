/* video_analysis.c: the whole-tape video analysis from sampled runs of frames (see
 * video_analysis.h). */
#include "video_analysis.h"

#include "dropouts.h"
#include "headswitch.h"

#define DROPOUTS_MAX 4096  /* per frame, as the repair takes them */
#define LEVELS_SIDE 24     /* columns (of 720) each side the levels leave out: the blanking */
#define LEVELS_TOP 8       /* lines at the top they leave out */
#define BORDER_DARK 48     /* 8-bit codes: a border's mean is no brighter (setup black is 32) */
#define BORDER_FLAT 24     /* ... and its samples differ by no more */

/* Bytes of one frame's luma as the analyzer holds it. */
static size_t s_luma_bytes(const struct vhs_video_source *src)
{
	size_t n = (size_t)src->width * src->height * 2;

	return n ? n : 1;
}

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct vhs_video_analyzer {
	struct vhs_video_source src;
	struct vhs_levels_hist hist;
	struct vhs_scan_tally tape;
	uint8_t *prev, *cur;           /* reduced luma of the last two frames of the run */
	int have_prev;
	struct vhs_scan_pair pairs[VHS_ANALYSIS_RUN_FRAMES];
	size_t n_pairs;                /* pairs of the open run (one fewer than its frames) */
	int run_open;
	struct vhs_video_run *runs;
	size_t n_runs, cap_runs;
	int chroma_taken;              /* the open run gave its picture to the chroma measure */
	struct vhs_shift_sample sx[VHS_ANALYSIS_CHROMA_SAMPLES], sy[VHS_ANALYSIS_CHROMA_SAMPLES];
	int n_shift;
	unsigned hs_torn[VHS_HS_SEARCH]; /* frames in which each bottom line was torn */
	unsigned hs_frames, hs_banded;   /* frames with edges to go by; of them, with a band */
	uint8_t *luma[3];              /* the run's last three frames' luma, oldest first */
	int n_luma;                    /* of them, held */
	struct vhs_dropout *drops;     /* scratch for the dropout finder */
	int border[4];                 /* the least of each frame's black borders: top, bottom,
					* left, right (-1: no frame yet) */
	unsigned other;                /* frames of another size or format, left out */
	unsigned do_frames;            /* frames examined for dropouts */
	uint64_t do_found;             /* dropouts found in them */
};

int vhs_video_analyzer_open(struct vhs_video_analyzer **out, const struct vhs_video_source *src)
{
	struct vhs_video_analyzer *an = calloc(1, sizeof(*an));
	size_t n = vhs_scan_reduced_size(src->width, src->height);

	if (!an)
		return -ENOMEM;
	an->src = *src;
	for (int i = 0; i < 4; i++)
		an->border[i] = -1;
	an->prev = malloc(n ? n : 1);
	an->cur = malloc(n ? n : 1);
	for (int i = 0; i < 3; i++)
		an->luma[i] = malloc(s_luma_bytes(src));
	an->drops = malloc(DROPOUTS_MAX * sizeof(*an->drops));
	if (!an->prev || !an->cur || !an->luma[0] || !an->luma[1] || !an->luma[2] || !an->drops) {
		vhs_video_analyzer_close(&an);
		return -ENOMEM;
	}
	*out = an;
	return 0;
}

/* Classifies the open run and adds it to the tape. */
static void s_end_run(struct vhs_video_analyzer *an)
{
	struct vhs_scan_tally run;
	struct vhs_video_run *r;

	if (!an->run_open)
		return;
	an->run_open = 0;
	r = &an->runs[an->n_runs - 1];
	r->kind = vhs_scan_run(an->pairs, an->n_pairs, &run, &r->order);
	vhs_scan_add(&an->tape, &run, r->kind);
}

int vhs_video_analyzer_begin_run(struct vhs_video_analyzer *an, double start)
{
	struct vhs_video_run *r;

	s_end_run(an);
	if (an->n_runs == an->cap_runs) {
		size_t cap = an->cap_runs ? an->cap_runs * 2 : 64;

		r = realloc(an->runs, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		an->runs = r;
		an->cap_runs = cap;
	}
	an->runs[an->n_runs++] = (struct vhs_video_run){ .start = start };
	an->run_open = 1;
	an->have_prev = 0;
	an->n_pairs = 0;
	an->chroma_taken = 0;
	an->n_luma = 0;
	return 0;
}

/* The chroma shift of one picture of the run (the third: past any edit at the seek), measured
 * on each field as a picture of its own: on a frame, the combing of anything that moved
 * between its fields would pass for vertical edges the chroma does not follow. A field's
 * vertical shift, in field lines, is twice as many frame lines. */
static void s_chroma(struct vhs_video_analyzer *an, const struct vhs_picture *pic)
{
	int every = an->src.chroma_every > 1 ? an->src.chroma_every : 1;

	if (an->chroma_taken || an->n_pairs < 2 || an->n_shift + 2 > VHS_ANALYSIS_CHROMA_SAMPLES ||
	    (an->n_runs - 1) % (size_t)every)
		return;
	an->chroma_taken = 1;
	for (int field = 0; field < 2; field++) {
		struct vhs_picture f = *pic;
		struct vhs_chroma_shift m;

		f.height = (pic->height + 1 - field) / 2;
		for (int p = 0; p < 4; p++) {
			f.data[p] = pic->data[p] ? pic->data[p] + (size_t)field * pic->linesize[p] : NULL;
			f.linesize[p] = 2 * pic->linesize[p];
		}
		if (vhs_chroma_shift_measure(&f, &m))
			continue;
		an->sx[an->n_shift] = (struct vhs_shift_sample){ m.dx, m.wx };
		an->sy[an->n_shift] = (struct vhs_shift_sample){ 2 * m.dy, m.wy };
		an->n_shift++;
	}
}

/* The levels of the picture inside what is not picture: the blanking at the sides (below
 * black, at 0 IRE, where an NTSC tape's black has setup) and the head-switching band at the
 * bottom (noise) are left out. */
static void s_levels(struct vhs_video_analyzer *an, const struct vhs_picture *pic)
{
	struct vhs_picture inner = *pic;
	int side = LEVELS_SIDE * pic->width / 720, top = LEVELS_TOP, bottom = VHS_HS_SEARCH;

	if (pic->width <= 4 * side || pic->height <= 4 * (top + bottom)) {
		vhs_levels_add(&an->hist, pic);
		return;
	}
	inner.width = pic->width - 2 * side;
	inner.height = pic->height - top - bottom;
	inner.data[0] = pic->data[0] + (size_t)top * pic->linesize[0] + (size_t)side * pic->fmt->bytes;
	vhs_levels_add(&an->hist, &inner);
}

/* Whether n luma samples from p, step bytes apart, are a border: dark and flat. */
static int s_flat_dark(const struct vhs_picture *pic, const uint8_t *p, int n, size_t step)
{
	int shift = pic->fmt->depth - 8, lo = 255, hi = 0;
	long sum = 0;

	for (int i = 0; i < n; i++, p += step) {
		int v = (pic->fmt->bytes == 1 ? *p : *(const uint16_t *)p) >> shift;

		sum += v;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	return sum <= (long)BORDER_DARK * n && hi - lo <= BORDER_FLAT;
}

/* Each border of the frame (rows from the top and bottom, columns from the sides that are
 * dark and flat, up to a third of the frame), the least over the frames kept. */
static void s_borders(struct vhs_video_analyzer *an, const struct vhs_picture *pic)
{
	size_t ls = (size_t)pic->linesize[0], b = pic->fmt->bytes;
	int found[4] = { 0, 0, 0, 0 };

	while (found[0] < pic->height / 3 && s_flat_dark(pic, pic->data[0] + found[0] * ls, pic->width, b))
		found[0]++;
	while (found[1] < pic->height / 3 &&
	       s_flat_dark(pic, pic->data[0] + (pic->height - 1 - found[1]) * ls, pic->width, b))
		found[1]++;
	/* columns over the rows between the top and bottom borders and above the head-switching band */
	int y0 = found[0], rows = pic->height - found[0] - (found[1] > VHS_HS_SEARCH ? found[1] : VHS_HS_SEARCH) - y0;

	while (rows > 0 && found[2] < pic->width / 3 &&
	       s_flat_dark(pic, pic->data[0] + y0 * ls + found[2] * b, rows, ls))
		found[2]++;
	while (rows > 0 && found[3] < pic->width / 3 &&
	       s_flat_dark(pic, pic->data[0] + y0 * ls + (pic->width - 1 - found[3]) * b, rows, ls))
		found[3]++;
	for (int i = 0; i < 4; i++)
		an->border[i] = an->border[i] < 0 || found[i] < an->border[i] ? found[i] : an->border[i];
}

/* The luma held in buf as a gray picture of pic's depth. */
static struct vhs_picture s_gray(const struct vhs_picture *pic, uint8_t *buf)
{
	const char *name = pic->fmt->depth == 8 ? "gray" : pic->fmt->depth == 10 ? "gray10le"
			   : pic->fmt->depth == 12 ? "gray12le" : "gray16le";
	struct vhs_picture g = { .fmt = vhs_pixfmt_find(name), .width = pic->width, .height = pic->height };

	g.data[0] = buf;
	g.linesize[0] = pic->width * pic->fmt->bytes;
	return g;
}

/* Dropouts: the middle one of the run's last three frames, against the other two. */
static void s_dropouts(struct vhs_video_analyzer *an, const struct vhs_picture *pic)
{
	int bytes = pic->fmt->bytes;
	size_t row = (size_t)pic->width * bytes;
	uint8_t *t = an->luma[0];
	struct vhs_picture p, c, n;

	an->luma[0] = an->luma[1];
	an->luma[1] = an->luma[2];
	an->luma[2] = t;
	for (int y = 0; y < pic->height; y++)
		memcpy(t + y * row, pic->data[0] + (size_t)y * pic->linesize[0], row);
	if (++an->n_luma < 3)
		return;
	p = s_gray(pic, an->luma[0]);
	c = s_gray(pic, an->luma[1]);
	n = s_gray(pic, an->luma[2]);
	an->do_frames++;
	an->do_found += (uint64_t)vhs_dropouts_find(&p, &c, &n, an->drops, DROPOUTS_MAX);
}

/* The bottom lines of one frame: which are torn, and whether it has a band. */
static void s_head_switching(struct vhs_video_analyzer *an, const struct vhs_picture *pic)
{
	struct vhs_hs_lines m;

	if (vhs_hs_match(pic, &m) || !m.n)
		return;
	an->hs_frames++;
	an->hs_banded += vhs_hs_band(&m) > 0;
	for (int i = 0; i < m.n; i++)
		an->hs_torn[i] += vhs_hs_torn(&m, i);
}

/* The band of the tape: the lines torn in half the frames or more, as one picture's band. */
static void s_head_switching_decide(const struct vhs_video_analyzer *an, struct vhs_video_analysis *out)
{
	struct vhs_hs_lines m = { .n = VHS_HS_SEARCH };

	out->hs_frames = an->hs_frames;
	if (!an->hs_frames)
		return;
	for (int i = 0; i < VHS_HS_SEARCH; i++)
		m.state[i] = 2 * an->hs_torn[i] >= an->hs_frames ? VHS_HS_NOISE_LINE : VHS_HS_MOVED;
	out->hs_lines = vhs_hs_band(&m);
	out->hs_confidence = (double)an->hs_banded / an->hs_frames;
}

void vhs_video_analyzer_other(struct vhs_video_analyzer *an)
{
	an->other++;
}

int vhs_video_analyzer_push(struct vhs_video_analyzer *an, const struct vhs_picture *pic)
{
	uint8_t *t;

	if (!an->run_open)
		return -EINVAL;
	if (pic->width != an->src.width || pic->height != an->src.height)
		return -EINVAL;
	s_levels(an, pic);
	vhs_scan_reduce(pic, an->cur);
	if (an->have_prev && an->n_pairs < sizeof(an->pairs) / sizeof(an->pairs[0]))
		vhs_scan_measure(an->prev, an->cur, pic->width, pic->height, &an->pairs[an->n_pairs++]);
	t = an->prev;
	an->prev = an->cur;
	an->cur = t;
	an->have_prev = 1;
	s_chroma(an, pic);
	s_head_switching(an, pic);
	s_dropouts(an, pic);
	s_borders(an, pic);
	return 0;
}

int vhs_video_analyzer_finish(struct vhs_video_analyzer *an, struct vhs_video_analysis *out)
{
	memset(out, 0, sizeof(*out));
	s_end_run(an);
	out->src = an->src;
	vhs_scan_decide(&an->tape, &out->scan);
	out->have_levels = vhs_levels_decide(&an->hist, &out->levels) == 0;
	vhs_shift_combine(an->sx, an->n_shift, &out->chroma.dx, &out->chroma.wx);
	vhs_shift_combine(an->sy, an->n_shift, &out->chroma.dy, &out->chroma.wy);
	s_head_switching_decide(an, out);
	for (int i = 0; i < 4; i++)
		out->border[i] = an->border[i] < 0 ? 0 : an->border[i];
	out->other_frames = an->other;
	out->dropout_frames = an->do_frames;
	out->dropouts_per_frame = an->do_frames ? (double)an->do_found / an->do_frames : 0;
	if (an->n_runs) {
		out->runs = malloc(an->n_runs * sizeof(*out->runs));
		if (!out->runs)
			return -ENOMEM;
		memcpy(out->runs, an->runs, an->n_runs * sizeof(*out->runs));
		out->n_runs = an->n_runs;
	}
	return 0;
}

void vhs_video_analyzer_close(struct vhs_video_analyzer **an)
{
	if (!*an)
		return;
	free((*an)->prev);
	free((*an)->cur);
	for (int i = 0; i < 3; i++)
		free((*an)->luma[i]);
	free((*an)->drops);
	free((*an)->runs);
	free(*an);
	*an = NULL;
}

int vhs_video_analysis_write(const struct vhs_video_analysis *a, FILE *f)
{
	const struct vhs_scan *s = &a->scan;

	fprintf(f, "scan=%s\nscan_confidence=%.3f\nscan_major=%s\nscan_frames=%u\nscan_moving=%u\n",
		vhs_scan_kind_name(s->kind), s->confidence, vhs_scan_kind_name(s->major), s->frames,
		s->moving);
	fprintf(f, "field_order=%s\nfield_order_confidence=%.3f\ncontainer_field_order=%s\n",
		vhs_field_order_name(s->order), s->order_confidence, a->src.field_order);
	fprintf(f, "width=%d\nheight=%d\nsar=%d:%d\nrate=%d:%d\n", a->src.width, a->src.height,
		a->src.sar_num, a->src.sar_den, a->src.rate_num, a->src.rate_den);
	fprintf(f, "black=%.2f\nwhite=%.2f\nsetup=%d\nlevels_confidence=%.3f\n", a->levels.black,
		a->levels.white, a->levels.setup, a->have_levels ? a->levels.confidence : 0.0);
	fprintf(f, "chroma_dx=%.3f\nchroma_dy=%.3f\nchroma_weight=%.3f\n", a->chroma.dx, a->chroma.dy,
		fmin(a->chroma.wx, a->chroma.wy));
	fprintf(f, "head_switching_lines=%d\nhead_switching_frames=%u\nhead_switching_confidence=%.3f\n",
		a->hs_lines, a->hs_frames, a->hs_confidence);
	fprintf(f, "border_top=%d\nborder_bottom=%d\nborder_left=%d\nborder_right=%d\n", a->border[0],
		a->border[1], a->border[2], a->border[3]);
	fprintf(f, "other_frames=%u\n", a->other_frames);
	fprintf(f, "dropouts_per_frame=%.3f\ndropout_frames=%u\n", a->dropouts_per_frame, a->dropout_frames);
	fprintf(f, "origin=%.6f\nrun_frames=%d\nruns=%zu\n", a->src.origin, VHS_ANALYSIS_RUN_FRAMES, a->n_runs);
	for (size_t i = 0; i < a->n_runs; i++)
		fprintf(f, "run.%zu=%.3f %s %s\n", i, a->runs[i].start, vhs_scan_kind_name(a->runs[i].kind),
			vhs_field_order_name(a->runs[i].order));
	return ferror(f) ? -EIO : 0;
}

void vhs_video_analysis_free(struct vhs_video_analysis *a)
{
	free(a->runs);
	memset(a, 0, sizeof(*a));
}

void vhs_video_analysis_describe(const struct vhs_video_analysis *a, char *buf, size_t len)
{
	const struct vhs_scan *s = &a->scan;
	int n = s->moving ? snprintf(buf, len, "%s", vhs_scan_kind_name(s->kind))
			  : snprintf(buf, len, "nothing moves to tell the scan by (%u frames)", s->frames);

	if (s->order != VHS_ORDER_UNKNOWN && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", %s field first", s->order == VHS_ORDER_TFF ? "top" : "bottom");
	if (s->moving && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " (%.0f%% of %u moving frames)", 100 * s->confidence, s->moving);
	if (a->have_levels && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "; black %.0f, white %.0f%s", a->levels.black, a->levels.white,
			      !a->levels.setup ? "" : a->levels.confidence >= 0.5 ? " (7.5 IRE setup)"
			      : " (setup? too little black to tell)");
	if (a->chroma.wx > 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "; chroma %+.2f px across, %+.2f px down", a->chroma.dx, a->chroma.dy);
	if (a->hs_lines && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "; head switching %d lines", a->hs_lines);
	if (a->dropouts_per_frame > 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "; %.2f dropouts a frame", a->dropouts_per_frame);
	if (a->other_frames && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "; %u frames of another size or format", a->other_frames);
}
