/* stages.h: the stages of a run, declared once. Each is an executable vhs-stage-NAME; the
 * planner (orchestrator/plan.h) wires them, the job file takes [stages.NAME] keys for the
 * pipeline's stages (orchestrator/job.c), and the Makefile reads the names from here.
 *
 * VHS_PIPELINE_STAGES(X) lists the stages that run together on the frames, in the order
 * frames flow (decode first): X(KIND, NAME, THREADS, AUTO) where THREADS is THREADS when
 * the stage takes [stages.NAME] threads ("auto" meaning AUTO) and NO_THREADS when not. The
 * mux runs alone after them, joining the finished segments. One stage per line: the
 * Makefile reads the names off the lines that start with X(.
 */
#ifndef VHS_STAGES_H
#define VHS_STAGES_H

#define VHS_PIPELINE_STAGES(X)                                                    \
	X(DECODE, "decode", THREADS, "the cores shared among its workers")        \
	X(PREPROCESS, "preprocess", THREADS, "the cores shared among its workers (at any count, a filter measured to lose by threads gets one)") \
	X(UPSCALE, "upscale", THREADS, "the cores shared among its workers")      \
	X(AUDIO, "audio", THREADS, "1 (audio filters gain nothing from more)")    \
	X(ENCODE, "encode", NO_THREADS, "")

#define VHS_STAGE_ENUM_(kind, name, threads, auto_is) VHS_##kind,
enum vhs_stage_kind {
	VHS_PIPELINE_STAGES(VHS_STAGE_ENUM_)
	VHS_MUX,
	VHS_STAGE_KINDS,
};
#undef VHS_STAGE_ENUM_

#define VHS_PIPELINE_KINDS VHS_MUX /* the stages of the pipeline: kinds below this */

/* "decode", ..., "mux"; "?" for anything else. */
static inline const char *vhs_stage_name(enum vhs_stage_kind k)
{
#define VHS_STAGE_NAME_(kind, name, threads, auto_is) [VHS_##kind] = name,
	static const char *const names[VHS_STAGE_KINDS] = {
		VHS_PIPELINE_STAGES(VHS_STAGE_NAME_)[VHS_MUX] = "mux",
	};
#undef VHS_STAGE_NAME_
	return (unsigned)k < VHS_STAGE_KINDS ? names[k] : "?";
}

#endif
