/* analyze_video.h: the whole-tape video analysis of a capture file, written to the work dir
 * (`vhs-stage-decode --analyze-video INPUT OUT`; see video_analysis.h).
 *
 * DESIGN
 * Sampling: K runs of VHS_ANALYSIS_RUN_FRAMES consecutive frames, K = the tape's seconds / 3
 * within 8..200, at evenly spaced points (each a seek to the keyframe at or before the point,
 * then the frames from there, past those a previous run already took). A tape too short to
 * have K spaced runs is read from start to end instead, every frame in runs. The decoder is
 * the one the decode stage uses, so the pictures are the ones the run filters.
 */
#ifndef VHS_ANALYZE_VIDEO_H
#define VHS_ANALYZE_VIDEO_H

#include <stddef.h>

#include "analysis_file.h" /* the exit codes: VHS_ANALYZE_INTERNAL, _INPUT, _OUTPUT */

/* Analyses INPUT's video and writes the result to PATH (through the temp writer). Returns
 * 0 with a one-line description in msg ("none: ..." and no file when the capture has no
 * video), or an exit code with the reason. */
int vhs_video_analyze_file(const char *input, const char *path, char *msg, size_t len);

#endif
