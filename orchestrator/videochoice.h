/* videochoice.h: the video keys' "auto" turned into the preprocess chain and the output
 * size, from the video analysis (dsp/video/video_analysis.h, read here as the key=value
 * file it is: the orchestrator does not use dsp/).
 *
 * DESIGN
 * The chain the preprocess stage runs is, in order: the field-order fix or inverse
 * telecine's field matching, the repairs (levels), the deinterlacer, then `[video] filters`
 * (denoise, colour, anything the user adds). Each key is "auto" (the analysis decides),
 * an explicit value (used as given, whatever the analysis says) or off. Every decision
 * gets one line saying what was found and what it leads to, for `check` and the run:
 *
 *   scan: interlaced, 100% of 165 moving frames -> bwdif (one frame per field)
 *   field order: bottom first from the picture; the file says top: overridden
 *
 * Without an analysis (no video, FFmpeg-free build, or every key explicit) "auto" falls
 * back to what the container says, and the line says so.
 *
 * What is chosen for "auto":
 *   deinterlace: interlaced -> mc (vhs_mcdeint) where the machine keeps up with it
 *     (struct vhs_video_machine), else bwdif (send_field); telecine -> ivtc (fieldmatch, then
 *     yadif on frames still combed, then decimate: 4 of each 5 frames); fields shifted by
 *     one -> fieldmatch alone; progressive -> none; nothing moved -> the container's flag.
 *     None when `[video] filters` deinterlaces already (bwdif, yadif, w3fdif, estdif,
 *     fieldmatch, nnedi, kerndeint).
 *     Mixed (the sampled runs disagree: film, then video) -> stretch by stretch: runs of one
 *     kind in a row make a stretch; each stretch of film, progressive or shifted frames
 *     gets its own method in the schedule (proto/schedule.h), and the default chain, for
 *     interlaced video and for every segment that crosses a change, bwdif; all at the field
 *     rate (fps= after each: film frames shown 3:2, progressive frames twice), so the
 *     stretches join. With one segment ([run] segment_seconds = 0) the tape is restored as
 *     one: the kind with the most evidence when it has half of it, else bwdif.
 *   field order: the picture's when it is sure (75% of the frames that tell); else the
 *     container's; else top first.
 *   levels: setup found (confidence 0.5) -> luma 32.4..235 to 16..235.
 *   upscale width: height x display aspect (SAR x width / height; within 12% of 4:3 or
 *     16:9 it is that), rounded to even; height: 1080.
 */
#ifndef VHS_VIDEOCHOICE_H
#define VHS_VIDEOCHOICE_H

#include <stdbool.h>
#include <stddef.h>

#include "job.h"

#define VHS_CHOICE_LINES 24

struct vhs_video_choice {
	char *chain;                  /* the preprocess chain (malloc'd) */
	char *schedule;               /* a chain per stretch (proto/schedule.h; malloc'd), or NULL */
	int width, height;            /* the upscale size ("auto" resolved; 0 = the input's) */
	const char *auto_interlaced;  /* what auto takes for interlaced video: "mc" or "bwdif"
				       * (the machine's, or the resumed run's; static or the
				       * machine's own string) */
	char lines[VHS_CHOICE_LINES][256]; /* what was found -> what it leads to */
	int n_lines;
};

/* Whether the job's keys need the video analysis (any of them "auto"). */
bool vhs_video_needs_analysis(const struct vhs_job *job);

/* The machine the choice is for: "auto" deinterlaces interlaced video with mc (our
 * motion-compensated deinterlacer, vhs_mcdeint, at the job's mc_preset) where the machine
 * keeps up with it, else with bwdif. Keeping up: mc medium costs about 0.065 CPU seconds a
 * frame at 720x480 and the rest of the vhs preset about 0.09 (bench/RESULTS.md, issue 26),
 * so on 2 cores, which that run already keeps busy, mc would make it about 1.7 times as
 * slow; from VHS_MC_AUTO_CORES cores the pipeline has room for it. */
#define VHS_MC_AUTO_CORES 4

struct vhs_video_machine {
	int cores;                /* online CPUs */
	const char *interlaced;   /* what auto took for interlaced video when the run began (a
				   * resumed run keeps it, whatever this machine has); NULL: new */
};

/* What auto takes for interlaced video on a machine of that many cores: "mc" or "bwdif". */
const char *vhs_video_auto_interlaced(int cores);

/* Decides from the job's keys, the analysis text (the file's content; NULL: none) and the
 * machine. Returns 0, or -ENOMEM, or -EINVAL with one line in err (an analysis that cannot
 * be read). */
int vhs_video_choose(const struct vhs_job *job, const char *analysis, const struct vhs_video_machine *m,
		     struct vhs_video_choice *c, char *err, size_t errlen);

/* Puts the choice into job (a copy of the job the choice was made for): its chain and size.
 * The chain stays c's: job must not outlive c. */
void vhs_video_choice_apply(const struct vhs_video_choice *c, struct vhs_job *job);

void vhs_video_choice_free(struct vhs_video_choice *c);

#endif
