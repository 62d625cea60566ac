/* video_analysis.h: the whole-tape video analysis: what the pictures sampled through a
 * capture say about it (scan type and field order, levels and setup, chroma shift), each
 * finding with its confidence, written once per run to the work dir as `video.analysis` for
 * the orchestrator to turn "auto" settings into the chain (and kept for --resume).
 *
 * DESIGN
 * The analyzer is fed runs of consecutive frames (analyze_video.c seeks to points spread
 * through the tape and decodes a run at each); every frame of a run goes to the scan
 * measure (scan.h), the levels histogram (measure.h; without the blanking at the sides,
 * which sits below an NTSC tape's setup black, and the head-switching band's lines) and the head-switching band's edges
 * (headswitch.h: a line is in the band when torn in half the frames or more) and the dropout
 * finder (dropouts.h: each frame of a run but its first and last, against the frames either
 * side), one frame of
 * every chroma_every-th run, up to VHS_ANALYSIS_CHROMA_RUNS, to the chroma shift measure,
 * each of its fields on its own (it costs about 0.2 s a frame, a hundred times the rest of a
 * frame's analysis).
 * Nothing here reads files or knows libav: the driver hands over pictures.
 *
 * The file is "key=value" lines (proto/kv.h reads them), so the orchestrator, which may not
 * use dsp/, reads it without this code. Keys (all present; numbers in C locale):
 *
 *   scan=interlaced|progressive|shifted|telecine|mixed|unknown   scan_confidence=0..1
 *   scan_major=KIND (mixed: the kind with the most evidence)     scan_frames=N scan_moving=N
 *   field_order=tff|bff|unknown   field_order_confidence=0..1
 *   container_field_order=tff|bff|progressive|unknown (what the file says)
 *   width=W height=H sar=N:D rate=N:D
 *   black=CODE white=CODE (8-bit)  setup=0|1  levels_confidence=0..1
 *   chroma_dx=PX chroma_dy=PX (luma pixels, chroma right/below positive)  chroma_weight=0..1
 *   head_switching_lines=N (0: none found)  head_switching_frames=N (frames with blanking
 *   edges to measure by; 0: not measurable)  head_switching_confidence=0..1
 *   border_top=N border_bottom=N border_left=N border_right=N (dark, flat rows and columns
 *   at the edges in every sampled frame: letterbox bars, blanking)
 *   other_frames=N (sampled frames of another size or format than the first, left out)
 *   dropouts_per_frame=N  dropout_frames=N (frames examined: each run's but its first and last)
 *   origin=SECONDS (the stream's timestamp, in seconds, that run times count from: its start)
 *   run_frames=N (frames a run has at most)
 *   runs=N, then run.I=SECONDS KIND ORDER for each sampled run
 */
#ifndef VHS_VIDEO_ANALYSIS_H
#define VHS_VIDEO_ANALYSIS_H

#include <stdio.h>

#include "measure.h"
#include "scan.h"

#define VHS_ANALYSIS_RUN_FRAMES 12  /* consecutive frames per sampled run */
#define VHS_ANALYSIS_CHROMA_RUNS 16 /* runs that give a picture to the chroma measure */
#define VHS_ANALYSIS_CHROMA_SAMPLES (2 * VHS_ANALYSIS_CHROMA_RUNS) /* its two fields each */

/* What the container says, given by the driver. */
struct vhs_video_source {
	int width, height;
	int sar_num, sar_den;          /* 0:0 = unknown (square pixels assumed) */
	int rate_num, rate_den;
	char field_order[16];          /* tff | bff | progressive | unknown */
	double origin;                 /* seconds of the stream's timestamps at run time 0 */
	int chroma_every;              /* the chroma shift on the first picture of every Nth run
					* (0 or 1: every run), up to VHS_ANALYSIS_CHROMA_RUNS */
};

struct vhs_video_run {
	double start;                  /* seconds from the start of the tape */
	enum vhs_scan_kind kind;
	enum vhs_field_order order;
};

struct vhs_video_analysis {
	struct vhs_video_source src;
	struct vhs_scan scan;
	struct vhs_levels levels;
	int have_levels;
	struct vhs_chroma_shift chroma; /* weighted over the pictures measured */
	int hs_lines;                  /* the head-switching band's height (headswitch.h); 0: none */
	unsigned hs_frames;            /* frames whose blanking gave edges to measure it by */
	double hs_confidence;          /* share of those frames that showed a band */
	int border[4];                 /* black borders, top, bottom (lines), left, right (columns):
					* the least any sampled frame showed */
	unsigned other_frames;         /* sampled frames of another size or format than the first */
	double dropouts_per_frame;     /* dropouts.h's, over the frames examined */
	unsigned dropout_frames;       /* frames examined (those with a frame either side in their run) */
	struct vhs_video_run *runs;
	size_t n_runs;
};

struct vhs_video_analyzer;

/* Returns 0 or -ENOMEM. */
int vhs_video_analyzer_open(struct vhs_video_analyzer **an, const struct vhs_video_source *src);

/* A run begins at start seconds; its frames follow, in order (the scan measure takes the
 * first VHS_ANALYSIS_RUN_FRAMES of a run). */
int vhs_video_analyzer_begin_run(struct vhs_video_analyzer *an, double start);
int vhs_video_analyzer_push(struct vhs_video_analyzer *an, const struct vhs_picture *pic);

/* A sampled frame of another size or format than the first (the tape changed mid-way): left
 * out of the analysis, counted. */
void vhs_video_analyzer_other(struct vhs_video_analyzer *an);

/* Decides; out is the caller's (vhs_video_analysis_free). Returns 0 or -ENOMEM. */
int vhs_video_analyzer_finish(struct vhs_video_analyzer *an, struct vhs_video_analysis *out);

void vhs_video_analyzer_close(struct vhs_video_analyzer **an);

/* The file (see above). Returns 0, or -EIO when f failed. */
int vhs_video_analysis_write(const struct vhs_video_analysis *a, FILE *f);
void vhs_video_analysis_free(struct vhs_video_analysis *a);

/* One line for people: "interlaced, top field first (97%); setup 7.5 IRE; chroma +1.25 px
 * across, +0.00 px down". */
void vhs_video_analysis_describe(const struct vhs_video_analysis *a, char *buf, size_t len);

#endif
