/* videochoice.c: the video keys' "auto" from the video analysis (see videochoice.h). */
#include "videochoice.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "plan.h"
#include "schedule.h"

#define ORDER_SURE 0.75     /* share of the ordered frames the picture's field order needs */
#define ORDER_FRAMES 8      /* ... and moving frames */
#define SETUP_SURE 0.5      /* levels confidence that takes setup out */
#define ASPECT_SNAP 0.12    /* a display aspect this near 4:3 or 16:9 is that */
#define CHROMA_SURE 0.05    /* chroma measure weight (normalised correlation) worth acting on */
#define DROPOUTS_MIN 0.02   /* dropouts a frame worth repairing (one in 50 frames) */
#define CHROMA_MIN 0.5      /* luma pixels: a smaller chroma shift is left (within the
			     * measure's error on clean captures, and not to be seen) */
#define AUTO_HEIGHT 1080

/* What the analysis file says, as far as the choices need it. */
struct findings {
	bool present;
	char scan[16], major[16], order[16], container[16];
	double scan_conf, order_conf;
	unsigned moving;
	int width, height, sar_num, sar_den;
	double black, white, levels_conf;
	int setup;
	double chroma_dx, chroma_dy, chroma_weight;
	int hs_lines;
	unsigned hs_frames;
	double hs_confidence;
	double dropouts;        /* a frame */
	unsigned dropout_frames;
	int border[4];          /* top, bottom, left, right */
	unsigned other_frames;  /* sampled frames of another size or format */
	const char *interlaced; /* what "auto" takes for interlaced video here: mc or bwdif */
	const char *why;        /* and why, for the line */
	int rate_num, rate_den; /* frames a second */
	double origin;          /* stream seconds at run time 0 */
	int run_frames;         /* frames a sampled run has at most */
	struct sampled_run {
		double start;   /* seconds from origin */
		char kind[16];  /* scan.h's kind name */
		char order[16]; /* its field order: tff, bff or unknown */
	} *runs;
	size_t n_runs;
};

static const char *const s_deinterlacers[] = { "bwdif", "yadif", "w3fdif", "estdif", "fieldmatch",
					       "nnedi", "kerndeint", "pp7", "vhs_mcdeint", NULL };

static void s_line(struct vhs_video_choice *c, const char *fmt, ...)
{
	va_list ap;

	if (c->n_lines >= VHS_CHOICE_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(c->lines[c->n_lines++], sizeof(c->lines[0]), fmt, ap);
	va_end(ap);
}

static double s_num(const char *text, const char *key, double def)
{
	char buf[64];

	return vhs_kv_get(text, key, buf, sizeof(buf)) > 0 ? strtod(buf, NULL) : def;
}

static void s_str(const char *text, const char *key, char *out, size_t len)
{
	if (vhs_kv_get(text, key, out, len) < 0)
		snprintf(out, len, "unknown");
}

/* The sampled runs (run.I=SECONDS KIND ORDER), in order; a run that does not read is left out. */
static int s_load_runs(const char *text, struct findings *f)
{
	size_t n = (size_t)s_num(text, "runs", 0);
	char key[32], val[64];

	if (!n || n > 100000)
		return 0;
	f->runs = calloc(n, sizeof(*f->runs));
	if (!f->runs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sampled_run *r = &f->runs[f->n_runs];

		snprintf(key, sizeof(key), "run.%zu", i);
		if (vhs_kv_get(text, key, val, sizeof(val)) > 0 &&
		    sscanf(val, "%lf %15s %15s", &r->start, r->kind, r->order) >= 2)
			f->n_runs++;
	}
	return 0;
}

static int s_load(const char *text, struct findings *f, char *err, size_t errlen)
{
	char sar[32];

	memset(f, 0, sizeof(*f));
	if (!text)
		return 0;
	if (vhs_kv_get(text, "scan", f->scan, sizeof(f->scan)) < 0 ||
	    vhs_kv_get(text, "width", sar, sizeof(sar)) < 0) {
		snprintf(err, errlen, "the video analysis is not one (no scan or width)");
		return -EINVAL;
	}
	f->present = true;
	s_str(text, "scan_major", f->major, sizeof(f->major));
	s_str(text, "field_order", f->order, sizeof(f->order));
	s_str(text, "container_field_order", f->container, sizeof(f->container));
	f->scan_conf = s_num(text, "scan_confidence", 0);
	f->order_conf = s_num(text, "field_order_confidence", 0);
	f->moving = (unsigned)s_num(text, "scan_moving", 0);
	f->width = (int)s_num(text, "width", 0);
	f->height = (int)s_num(text, "height", 0);
	if (vhs_kv_get(text, "sar", sar, sizeof(sar)) < 0 || sscanf(sar, "%d:%d", &f->sar_num, &f->sar_den) != 2)
		f->sar_num = f->sar_den = 0;
	f->black = s_num(text, "black", 16);
	f->white = s_num(text, "white", 235);
	f->setup = (int)s_num(text, "setup", 0);
	f->levels_conf = s_num(text, "levels_confidence", 0);
	f->chroma_dx = s_num(text, "chroma_dx", 0);
	f->chroma_dy = s_num(text, "chroma_dy", 0);
	f->chroma_weight = s_num(text, "chroma_weight", 0);
	f->hs_lines = (int)s_num(text, "head_switching_lines", 0);
	f->hs_frames = (unsigned)s_num(text, "head_switching_frames", 0);
	f->hs_confidence = s_num(text, "head_switching_confidence", 0);
	f->dropouts = s_num(text, "dropouts_per_frame", 0);
	f->other_frames = (unsigned)s_num(text, "other_frames", 0);
	f->border[0] = (int)s_num(text, "border_top", 0);
	f->border[1] = (int)s_num(text, "border_bottom", 0);
	f->border[2] = (int)s_num(text, "border_left", 0);
	f->border[3] = (int)s_num(text, "border_right", 0);
	f->dropout_frames = (unsigned)s_num(text, "dropout_frames", 0);
	if (vhs_kv_get(text, "rate", sar, sizeof(sar)) < 0 || sscanf(sar, "%d:%d", &f->rate_num, &f->rate_den) != 2 ||
	    f->rate_num <= 0 || f->rate_den <= 0)
		f->rate_num = f->rate_den = 0;
	f->origin = s_num(text, "origin", 0);
	f->run_frames = (int)s_num(text, "run_frames", 0);
	return s_load_runs(text, f);
}

bool vhs_video_needs_analysis(const struct vhs_job *job)
{
	/* the field order matters only to a deinterlacer the keys add */
	const char *order = job->video.deinterlace && strcmp(job->video.deinterlace, "none") ? job->video.field_order : NULL;
	const char *keys[] = { job->video.deinterlace, order, job->video.levels, job->video.chroma_shift,
			       job->video.head_switching, job->video.dropouts };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i] && !strcmp(keys[i], "auto"))
			return true;
	return job->upscale.width < 0 || job->upscale.height < 0;
}

static void s_deinterlacer(const struct vhs_chain_item *it, void *arg)
{
	const char **found = arg;

	for (int i = 0; !*found && s_deinterlacers[i]; i++)
		if (!strcmp(it->name, s_deinterlacers[i]))
			*found = s_deinterlacers[i];
}

/* The deinterlacer the user's chain has of its own, or NULL. */
static const char *s_chain_deinterlaces(const char *chain)
{
	const char *found = NULL;

	vhs_chain_each_filter(chain, s_deinterlacer, &found);
	return found;
}

static const char *s_first(const char *order)
{
	return !strcmp(order, "bff") ? "bottom" : "top";
}

/* The field order: "tff" or "bff". */
static const char *s_field_order(const struct vhs_job *job, const struct findings *f,
				 struct vhs_video_choice *c)
{
	bool file_says = !strcmp(f->container, "tff") || !strcmp(f->container, "bff");
	bool picture = f->present && (!strcmp(f->order, "tff") || !strcmp(f->order, "bff")) &&
		       f->order_conf >= ORDER_SURE && f->moving >= ORDER_FRAMES;

	if (strcmp(job->video.field_order, "auto"))
		return job->video.field_order;
	if (picture && file_says && strcmp(f->order, f->container)) {
		s_line(c, "field order: %s first from the picture (%.0f%% of the frames that tell); the file "
			  "says %s: overridden", s_first(f->order), 100 * f->order_conf, s_first(f->container));
		return !strcmp(f->order, "tff") ? "tff" : "bff";
	}
	if (picture) {
		s_line(c, "field order: %s first from the picture (%.0f%%)%s", s_first(f->order),
		       100 * f->order_conf, file_says ? ", as the file says" : "");
		return !strcmp(f->order, "tff") ? "tff" : "bff";
	}
	if (file_says) {
		s_line(c, "field order: %s first, as the file says (the picture does not tell)", s_first(f->container));
		return !strcmp(f->container, "tff") ? "tff" : "bff";
	}
	s_line(c, "field order: top first (neither the picture nor the file tells; analogue captures "
		  "usually are)");
	return "tff";
}

/* The scan the analysis settled on for "auto": a kind name, and why, in c's lines. */
static const char *s_scan(const struct findings *f, struct vhs_video_choice *c)
{
	bool flagged = !strcmp(f->container, "tff") || !strcmp(f->container, "bff");

	if (!f->present) {
		s_line(c, "scan: not analysed; %s as the file says", flagged ? "interlaced" : "progressive");
		return flagged ? "interlaced" : "progressive";
	}
	if (!strcmp(f->scan, "unknown")) {
		s_line(c, "scan: nothing moved to tell by; %s as the file says", flagged ? "interlaced" : "progressive");
		return flagged ? "interlaced" : "progressive";
	}
	if (!strcmp(f->scan, "mixed")) {
		bool major = strcmp(f->major, "mixed") && f->scan_conf >= 0.5;

		s_line(c, "scan: mixed (%s on %.0f%% of %u moving frames)%s", f->major, 100 * f->scan_conf,
		       f->moving, major ? "" : "; deinterlaced, the safe choice");
		return major ? f->major : "interlaced";
	}
	s_line(c, "scan: %s, %.0f%% of %u moving frames%s", f->scan, 100 * f->scan_conf, f->moving,
	       !strcmp(f->scan, "progressive") && flagged ? " (progressive frames stored as fields)" : "");
	return f->scan;
}

/* Appends ",text" (or text) to the chain being built. */
static void s_add(FILE *chain, bool *first, const char *fmt, ...)
{
	va_list ap;

	if (!*first)
		fputc(',', chain);
	*first = false;
	va_start(ap, fmt);
	vfprintf(chain, fmt, ap);
	va_end(ap);
}

/* The method "auto" takes for a scan kind. */
static const char *s_method_of(const struct findings *f, const char *scan)
{
	return !strcmp(scan, "interlaced") ? f->interlaced : !strcmp(scan, "telecine") ? "ivtc"
	       : !strcmp(scan, "shifted") ? "fieldmatch" : "none";
}

const char *vhs_video_auto_interlaced(int cores)
{
	return cores >= VHS_MC_AUTO_CORES ? "mc" : "bwdif";
}

/* The job's mc preset (a job made by hand, as the unit tests do, may leave it unset). */
static const char *s_mc_preset(const struct vhs_job *job)
{
	return job->video.mc_preset ? job->video.mc_preset : "medium";
}

/* A deinterlacing method's filters into the chain (none: nothing); mc's preset, sharpening
 * and device are the job's. */
static void s_method_chain(const struct vhs_job *job, const char *method, const char *order, FILE *chain,
			   bool *first)
{
	if (!strcmp(method, "mc")) {
		s_add(chain, first, "vhs_mcdeint=preset=%s:parity=%s", s_mc_preset(job), order);
		/* the defaults leave the chain's text (the settings') as before these keys */
		if (job->video.mc_sharpen)
			fprintf(chain, ":sharpen=%d", job->video.mc_sharpen);
		if (job->video.mc_device && strcmp(job->video.mc_device, "cpu"))
			fprintf(chain, ":device=%s", job->video.mc_device);
	} else if (!strcmp(method, "bwdif") || !strcmp(method, "yadif"))
		s_add(chain, first, "%s=mode=send_field:parity=%s:deint=all", method, order);
	else if (!strcmp(method, "ivtc"))
		s_add(chain, first, "fieldmatch=order=%s:combmatch=full,yadif=deint=interlaced,vhs_decimate", order);
	else if (!strcmp(method, "fieldmatch"))
		s_add(chain, first, "fieldmatch=order=%s:combmatch=none", order);
}

/* What a method does, for the lines. */
static const char *s_method_says(const char *method)
{
	if (!strcmp(method, "ivtc"))
		return "ivtc: fieldmatch, yadif on frames still combed, vhs_decimate (4 of 5 frames)";
	if (!strcmp(method, "fieldmatch"))
		return "fieldmatch (each frame's fields paired again; no frame dropped)";
	return "none (progressive)";
}

/* ---- a tape whose scan changes: stretch by stretch ---- */

#define STRETCH_LINES 6     /* stretches said one by one; the rest counted */

struct stretch {
	double from, to;        /* seconds from the analysis's origin; infinities: open */
	const char *kind;       /* the scan kind: telecine, progressive or shifted */
	const char *order;      /* its runs' field order ("tff", "bff"), NULL: the tape's */
};

/* What the deinterlace decision gives the chain beyond its own filters. */
struct stretches {
	struct stretch *s;      /* stretches restored their own way (malloc'd) */
	size_t n;
	char rate[32];          /* the common output rate, "N/D"; "" when not stretch by stretch */
	const char *order;      /* field order, "tff" or "bff" */
	bool order_given;       /* by [video] field_order: for every stretch alike */
};

/* "m:ss.s", or "the start" / "the end" for an open bound. */
static const char *s_clock(double t, char *buf, size_t len)
{
	long tenths = isinf(t) ? 0 : lround(t * 10);

	if (isinf(t))
		snprintf(buf, len, "%s", t < 0 ? "the start" : "the end");
	else
		snprintf(buf, len, "%ld:%02ld.%ld", tenths / 600, tenths % 600 / 10, tenths % 10);
	return buf;
}

/* The first run that saw motion. */
static size_t s_first_known(const struct findings *f)
{
	size_t i = 0;

	while (i < f->n_runs && !strcmp(f->runs[i].kind, "unknown"))
		i++;
	return i;
}

/* The analysis's sampled runs grouped into stretches of one kind: consecutive runs of the
 * same kind make one (runs where nothing moved join whichever side they are in); a stretch
 * runs from its first run's start to its last run's end, open at the tape's ends; between
 * two stretches, time no sample saw. Only the kinds restored otherwise than interlaced video
 * are kept (mixed runs and interlaced ones get the default chain). Returns 0 or -ENOMEM. */
static int s_group_runs(const struct findings *f, struct stretches *st)
{
	double run_len = (double)f->run_frames * f->rate_den / f->rate_num;
	size_t a = SIZE_MAX, z = SIZE_MAX; /* the open stretch's first and last runs */
	int tff = 0, bff = 0;              /* its runs by field order */

	st->s = calloc(f->n_runs ? f->n_runs : 1, sizeof(*st->s));
	if (!st->s)
		return -ENOMEM;
	for (size_t i = 0; i <= f->n_runs; i++) {
		bool end = i == f->n_runs;
		const char *kind = a != SIZE_MAX ? f->runs[a].kind : "";

		if (!end && !strcmp(f->runs[i].kind, "unknown"))
			continue;
		if (!end && !strcmp(f->runs[i].kind, kind)) {
			z = i;
			tff += !strcmp(f->runs[i].order, "tff");
			bff += !strcmp(f->runs[i].order, "bff");
			continue;
		}
		/* a stretch ends where its last run does, and never after the next one begins
		 * (the run times are rounded; runs may follow each other directly) */
		if (!strcmp(kind, "telecine") || !strcmp(kind, "progressive") || !strcmp(kind, "shifted"))
			st->s[st->n++] = (struct stretch){
				.from = a != s_first_known(f) ? f->runs[a].start : -INFINITY,
				.to = end ? INFINITY : fmin(f->runs[z].start + run_len, f->runs[i].start),
				.kind = f->runs[a].kind,
				.order = tff > bff ? "tff" : bff > tff ? "bff" : NULL,
			};
		a = z = i;
		tff = !end && !strcmp(f->runs[i].order, "tff");
		bff = !end && !strcmp(f->runs[i].order, "bff");
	}
	return 0;
}

/* A mixed tape, stretch by stretch: each stretch of film or progressive frames restored its
 * own way, interlaced video and the segments where the tape changes deinterlaced, all at the
 * field rate (film frames shown 3:2, progressive frames twice, as a television shows them).
 * Returns 1 when it does so (st filled, the default chain's method in the lines), 0 when the
 * tape is restored as one, -ENOMEM. */
static int s_mixed(const struct vhs_job *job, const struct findings *f, struct stretches *st,
		   struct vhs_video_choice *c)
{
	char from[32], to[32];
	int ret;

	if (!f->present || strcmp(f->scan, "mixed") || !f->rate_num || f->run_frames <= 0)
		return 0;
	if (job->run.segment_seconds <= 0) {
		s_line(c, "scan: mixed, but [run] segment_seconds = 0 makes the tape one segment: restored as "
			  "one (a segment length restores it stretch by stretch)");
		return 0;
	}
	if ((ret = s_group_runs(f, st)) || !st->n)
		return ret;
	snprintf(st->rate, sizeof(st->rate), "%lld/%lld", 2LL * f->rate_num / (f->rate_den % 2 ? 1 : 2),
		 (long long)f->rate_den / (f->rate_den % 2 ? 1 : 2));
	s_line(c, "scan: mixed (%s on %.0f%% of %u moving frames) -> stretch by stretch, all at %s fps "
		  "(the field rate)", f->major, 100 * f->scan_conf, f->moving, st->rate);
	for (size_t i = 0; i < st->n && i < STRETCH_LINES; i++)
		s_line(c, "stretch: %s to %s, %s -> %s, %s", s_clock(st->s[i].from, from, sizeof(from)),
		       s_clock(st->s[i].to, to, sizeof(to)), st->s[i].kind, s_method_says(s_method_of(f, st->s[i].kind)),
		       !strcmp(st->s[i].kind, "telecine") ? "each film frame shown 3:2" : "each frame shown twice");
	if (st->n > STRETCH_LINES)
		s_line(c, "... and %zu more stretches (check --json lists them all)", st->n - STRETCH_LINES);
	return 1;
}

/* The deinterlacer (or inverse telecine) into the chain; on a mixed tape, the default of the
 * stretches (st). Returns 0 or -ENOMEM. */
static int s_deinterlace(const struct vhs_job *job, const struct findings *f, FILE *chain, bool *first,
			 struct stretches *st, struct vhs_video_choice *c)
{
	const char *method = job->video.deinterlace, *own = s_chain_deinterlaces(job->video.filters);
	const char *scan = NULL, *order;
	int mixed = 0;

	if (!strcmp(method, "auto") && own) {
		s_line(c, "deinterlace: none added: [video] filters has %s", own);
		return 0;
	}
	if (!strcmp(method, "auto") && (mixed = s_mixed(job, f, st, c)) < 0)
		return mixed;
	if (!strcmp(method, "auto")) {
		scan = mixed ? "interlaced" : s_scan(f, c);
		method = s_method_of(f, scan);
	}
	if (!strcmp(method, "none")) {
		if (scan)
			s_line(c, "deinterlace: %s", s_method_says(method));
		return 0;
	}
	if (scan && !strcmp(scan, "interlaced"))
		s_line(c, "deinterlacer: %s: %s", method, f->why);
	order = st->order = s_field_order(job, f, c);
	st->order_given = strcmp(job->video.field_order, "auto") != 0;
	s_method_chain(job, method, order, chain, first);
	if (mixed) {
		s_add(chain, first, "fps=%s", st->rate);
		s_line(c, "deinterlace: elsewhere (interlaced video, and segments where the tape changes) %s, "
			  "one frame per field (%s first)", method, s_first(order));
	} else if (!strcmp(method, "bwdif") || !strcmp(method, "yadif")) {
		s_line(c, "deinterlace: %s, one frame per field (%s first)", method, s_first(order));
	} else if (!strcmp(method, "mc")) {
		s_line(c, "deinterlace: mc (vhs_mcdeint, %s), motion-compensated, one frame per field (%s first)",
		       s_mc_preset(job), s_first(order));
	} else {
		s_line(c, "deinterlace: %s", s_method_says(method));
	}
	return 0;
}

/* The levels repair into the chain: 8-bit codes black..white to 16..235, at any depth. */
static void s_levels(const struct vhs_job *job, const struct findings *f, FILE *chain, bool *first,
		     struct vhs_video_choice *c)
{
	double black, white = 235;

	if (!strcmp(job->video.levels, "off"))
		return;
	if (!strcmp(job->video.levels, "auto")) {
		if (!f->present) {
			s_line(c, "levels: not analysed; left as they are");
			return;
		}
		if (f->setup && f->height != 480 && f->height != 486) {
			s_line(c, "levels: black at %.0f, raised, but setup is NTSC's and this is %d lines: left as "
				  "they are", f->black, f->height);
			return;
		}
		if (!f->setup || f->levels_conf < SETUP_SURE) {
			s_line(c, "levels: black at %.0f, white at %.0f%s: left as they are", f->black, f->white,
			       f->setup ? " (setup, but too little black to be sure)" : "");
			return;
		}
		black = 16 + 0.075 * 219;
		s_line(c, "levels: black at %.0f: NTSC 7.5 IRE setup (%.0f%% sure) -> black to 16", f->black,
		       100 * f->levels_conf);
	} else if (sscanf(job->video.levels, "%lf:%lf", &black, &white) != 2) {
		return;
	} else {
		s_line(c, "levels: %g..%g to 16..235, as [video] levels says", black, white);
	}
	s_add(chain, first, "lutyuv=y='clip(16*(maxval+1)/256+(val-%.4g*(maxval+1)/256)*%.6g,"
			    "16*(maxval+1)/256,235*(maxval+1)/256)'", black, 219 / (white - black));
}

/* The chroma shift repair into the chain: vhs_chroma moves the chroma back by what the
 * analysis measured (or [video] chroma_shift says), after deinterlacing, on whole frames. */
static void s_chroma(const struct vhs_job *job, const struct findings *f, FILE *chain, bool *first,
		     struct vhs_video_choice *c)
{
	const char *v = job->video.chroma_shift;
	double dx, dy;

	if (!strcmp(v, "off"))
		return;
	if (!strcmp(v, "auto")) {
		if (!f->present) {
			s_line(c, "chroma shift: not analysed; left as it is");
			return;
		}
		if (f->chroma_weight < CHROMA_SURE) {
			s_line(c, "chroma shift: too few colour edges to measure it by; left as it is");
			return;
		}
		dx = fabs(f->chroma_dx) >= CHROMA_MIN ? f->chroma_dx : 0;
		dy = fabs(f->chroma_dy) >= CHROMA_MIN ? f->chroma_dy : 0;
		if (!dx && !dy) {
			s_line(c, "chroma shift: %+.2f px across, %+.2f down: under %.1f px, left as it is",
			       f->chroma_dx, f->chroma_dy, CHROMA_MIN);
			return;
		}
		s_line(c, "chroma shift: %+.2f px across, %+.2f down -> vhs_chroma moves it back", dx, dy);
	} else if (dy = 0, sscanf(v, "%lf,%lf", &dx, &dy) < 1) {
		return;
	} else {
		s_line(c, "chroma shift: %+.2f px across, %+.2f down, as [video] chroma_shift says -> vhs_chroma",
		       dx, dy);
	}
	s_add(chain, first, "vhs_chroma=dx=%.2f:dy=%.2f", dx, dy);
}

/* The head-switching band repair into the chain: vhs_headswitch moves each torn line back by
 * its own pull and fills the lost ones. */
static void s_head_switching(const struct vhs_job *job, const struct findings *f, FILE *chain, bool *first,
			     struct vhs_video_choice *c)
{
	const char *v = job->video.head_switching;
	int lines;

	if (!strcmp(v, "off") || !strcmp(v, "0"))
		return;
	if (!strcmp(v, "auto")) {
		if (!f->present) {
			s_line(c, "head switching: not analysed; left as it is");
			return;
		}
		if (!f->hs_frames) {
			s_line(c, "head switching: the capture shows no blanking at its sides to measure the band "
				  "by; left as it is (head_switching = LINES repairs a band you see)");
			return;
		}
		if (!f->hs_lines) {
			s_line(c, "head switching: none (the picture's edges run straight to the bottom in %u frames)",
			       f->hs_frames);
			return;
		}
		lines = f->hs_lines;
		s_line(c, "head switching: the bottom %d lines torn (a band in %.0f%% of %u frames) -> "
			  "vhs_headswitch moves them back, fills the lost ones", lines, 100 * f->hs_confidence,
		       f->hs_frames);
	} else {
		lines = atoi(v);
		s_line(c, "head switching: the bottom %d lines, as [video] head_switching says -> vhs_headswitch", lines);
	}
	s_add(chain, first, "vhs_headswitch=lines=%d", lines);
}

/* The dropout repair into the chain: vhs_dropouts, where the analysis found them. */
static void s_dropouts(const struct vhs_job *job, const struct findings *f, FILE *chain, bool *first,
		       struct vhs_video_choice *c)
{
	if (!strcmp(job->video.dropouts, "off"))
		return;
	if (!f->present || !f->dropout_frames) {
		s_line(c, "dropouts: %s; left as they are", f->present ? "no run of frames long enough to look for "
			  "them in" : "not analysed");
		return;
	}
	if (f->dropouts < DROPOUTS_MIN) {
		s_line(c, "dropouts: none to speak of (%.2f a frame in %u frames)", f->dropouts, f->dropout_frames);
		return;
	}
	s_line(c, "dropouts: %.2f a frame (in %u frames) -> vhs_dropouts fills them from the neighbouring "
		  "fields", f->dropouts, f->dropout_frames);
	s_add(chain, first, "vhs_dropouts");
}

/* What the black borders say: letterbox bars and blanking, and the picture's own aspect. */
static void s_borders(const struct findings *f, double dar, struct vhs_video_choice *c)
{
	const int *b = f->border;
	int w = f->width - b[2] - b[3], h = f->height - b[0] - b[1];
	double ar;

	if (!f->present || (!b[0] && !b[1] && !b[2] && !b[3]) || w <= 0 || h <= 0)
		return;
	ar = dar * w / f->width * f->height / h;
	s_line(c, "borders: black %d lines above, %d below, %d columns left, %d right; the picture inside "
		  "is %s (%.2f:1); kept as they are", b[0], b[1], b[2], b[3],
	       fabs(ar / (16.0 / 9) - 1) <= ASPECT_SNAP / 2 ? "16:9, letterboxed" :
	       fabs(ar / (4.0 / 3) - 1) <= ASPECT_SNAP / 2 ? "4:3" : "of its own aspect", ar);
}

/* The upscale size: "auto" height 1080, "auto" width from the display aspect. */
static void s_size(const struct vhs_job *job, const struct findings *f, struct vhs_video_choice *c)
{
	double dar = 4.0 / 3, ar;
	bool sd;

	c->width = job->upscale.width;
	c->height = job->upscale.height < 0 ? AUTO_HEIGHT : job->upscale.height;
	if (c->width >= 0)
		return;
	if (f->present && f->width > 0 && f->height > 0) {
		ar = (double)f->width / f->height * (f->sar_num > 0 ? (double)f->sar_num / f->sar_den : 1);
		dar = fabs(ar / (4.0 / 3) - 1) <= ASPECT_SNAP ? 4.0 / 3 : fabs(ar / (16.0 / 9) - 1) <= ASPECT_SNAP ? 16.0 / 9 : ar;
		sd = (f->height == 480 || f->height == 486 || f->height == 576) && (f->width == 720 || f->width == 704);
		if (sd && dar != 4.0 / 3 && dar != 16.0 / 9) /* an SD capture's pixels are never square */
			dar = 4.0 / 3;
		s_borders(f, dar, c);
		s_line(c, "display aspect: %s (%dx%d, pixel aspect %d:%d%s) -> %dx%d", dar == 4.0 / 3 ? "4:3" :
		       dar == 16.0 / 9 ? "16:9" : "its own", f->width, f->height, f->sar_num, f->sar_den,
		       dar != ar && sd && fabs(ar / (4.0 / 3) - 1) > ASPECT_SNAP ? ": wrong for standard definition, 4:3 assumed" : "",
		       2 * (int)lround(c->height * dar / 2), c->height);
	} else {
		s_line(c, "display aspect: not analysed; 4:3 assumed -> %dx%d", 2 * (int)lround(c->height * dar / 2),
		       c->height);
	}
	c->width = 2 * (int)lround(c->height * dar / 2);
}

/* The schedule (schedule.h) of the stretches: the chain with each one's own deinterlacing
 * in place of the default's, which is text[at, end) of the chain text. */
static int s_schedule(const struct vhs_job *job, const struct findings *f, const struct stretches *st,
		      const char *text, size_t at, size_t end, struct vhs_video_choice *c)
{
	size_t len = 0, chain_len;
	FILE *out = open_memstream(&c->schedule, &len);
	char *chain = NULL;
	int ret = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; !ret && i < st->n; i++) {
		FILE *d = open_memstream(&chain, &chain_len);
		bool first = !at; /* the prefix, then the stretch's own part, then the rest */

		if (!d) {
			ret = -ENOMEM;
			break;
		}
		fwrite(text, 1, at, d);
		s_method_chain(job, s_method_of(f, st->s[i].kind),
			       !st->order_given && st->s[i].order ? st->s[i].order : st->order, d, &first);
		s_add(d, &first, "fps=%s", st->rate);
		fputs(text + end, d);
		ret = fclose(d) ? -ENOMEM : 0;
		if (!ret)
			vhs_schedule_write(out, st->s[i].from + f->origin, st->s[i].to + f->origin, chain);
		free(chain);
		chain = NULL;
	}
	if (fclose(out))
		ret = -ENOMEM;
	return ret;
}

/* The schedule made, read back as the stage will: 0, 1 when it is too long to send, or
 * -EINVAL with one line in err. */
static int s_schedule_check(const struct vhs_video_choice *c, char *err, size_t errlen)
{
	struct vhs_schedule sched;
	char why[128];
	int ret;

	if (strlen(c->schedule) >= VHS_SCHEDULE_MAX)
		return 1;
	ret = vhs_schedule_parse(c->schedule, &sched, why, sizeof(why));
	if (ret == -EINVAL)
		snprintf(err, errlen, "the chains chosen per stretch do not read back: %s", why);
	vhs_schedule_free(&sched);
	return ret;
}

int vhs_video_choose(const struct vhs_job *job, const char *analysis, const struct vhs_video_machine *m,
		     struct vhs_video_choice *c, char *err, size_t errlen)
{
	char why[160];
	struct findings f;
	struct stretches st = { 0 };
	char *text = NULL;
	size_t len = 0;
	long at, end;
	FILE *chain;
	bool first = true;
	int ret;

	memset(c, 0, sizeof(*c));
	if ((ret = s_load(analysis, &f, err, errlen))) {
		free(f.runs);
		return ret;
	}
	c->auto_interlaced = f.interlaced = m->interlaced ? m->interlaced : vhs_video_auto_interlaced(m->cores);
	if (m->interlaced)
		snprintf(why, sizeof(why), "as the run began (resumed)");
	else if (!strcmp(f.interlaced, "mc"))
		snprintf(why, sizeof(why), "auto takes it from %d cores, and this machine has %d", VHS_MC_AUTO_CORES,
			 m->cores);
	else
		snprintf(why, sizeof(why), "mc, the better one, takes %d cores to keep up and this machine has %d "
			 "(deinterlace = \"mc\" takes it anyway)", VHS_MC_AUTO_CORES, m->cores);
	f.why = why;
	chain = open_memstream(&text, &len);
	if (!chain) {
		free(f.runs);
		return -ENOMEM;
	}
	if (f.present && f.other_frames)
		s_line(c, "picture: the tape changes its size or format mid-way (%u sampled frames unlike the "
			  "first ones): analysed as the first, and the rest scaled to it", f.other_frames);
	s_head_switching(job, &f, chain, &first, c);
	s_dropouts(job, &f, chain, &first, c);
	s_levels(job, &f, chain, &first, c);
	fflush(chain);
	at = ftell(chain);
	ret = s_deinterlace(job, &f, chain, &first, &st, c);
	fflush(chain);
	end = ftell(chain);
	s_chroma(job, &f, chain, &first, c);
	if (job->video.filters && *job->video.filters)
		s_add(chain, &first, "%s", job->video.filters);
	s_size(job, &f, c);
	if (fclose(chain) || ret || at < 0 || end < at)
		ret = -ENOMEM;
	if (!ret && st.n)
		ret = s_schedule(job, &f, &st, text, (size_t)at, (size_t)end, c);
	if (!ret && c->schedule && (ret = s_schedule_check(c, err, errlen)) == 1) {
		/* too long to send: the tape as one, with the default chain throughout */
		s_line(c, "stretches: %zu, their chains too long to send together (%zu bytes): %s throughout",
		       st.n, strlen(c->schedule), f.interlaced);
		free(c->schedule);
		c->schedule = NULL;
		ret = 0;
	}
	free(st.s);
	free(f.runs);
	if (ret) {
		free(text);
		vhs_video_choice_free(c);
		return ret;
	}
	c->chain = text;
	return 0;
}

void vhs_video_choice_apply(const struct vhs_video_choice *c, struct vhs_job *job)
{
	job->video.filters = c->chain;
	job->video.schedule = c->schedule;
	job->upscale.width = c->width;
	job->upscale.height = c->height;
}

void vhs_video_choice_free(struct vhs_video_choice *c)
{
	free(c->chain);
	free(c->schedule);
	memset(c, 0, sizeof(*c));
}
