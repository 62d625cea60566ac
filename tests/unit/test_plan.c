/* test_plan.c: unit tests of the stage graph (orchestrator/plan.h, plan.c) and of the
 * progress line's number and time formatting (orchestrator/progress.h, progress.c).
 *
 * Covers:
 *   - vhs_plan_build without and with audio: which stages run, the edges (count, ends,
 *     ports, slot counts from job->run.ring_slots or the default 8, audio edges at
 *     VHS_AUDIO_RING_SLOTS), unique edge names, every port in range and used once, every
 *     running stage connected, a dirty plan struct fully reset;
 *   - the mux stage: a kind of its own after the pipeline kinds, never in vhs_plan_build's
 *     plan; vhs_plan_build_mux runs it alone, without edges;
 *   - vhs_stage_name for every kind and out of range;
 *   - vhs_plan_reach: empty chains, exact reaches of deinterlacers, unbounded filters
 *     (hqdn3d, tmix) and unknown ones costing [run] warmup_frames, reaches adding up along
 *     the chain, filter names found past link labels, instance names, escaped and quoted
 *     commas; audio: stateless filters cost nothing, any other one [run] audio_warmup;
 *   - vhs_plan_print: every running stage and edge is listed, the window line, and the
 *     oracle ffmpeg command carries input, filters, scale, model, pix_fmt, codecs and
 *     output;
 *   - vhs_progress_update in log and bar mode (stderr captured in a temp file): percent,
 *     frames, fps, speed and the ETA clock (m:ss and h:mm:ss), unknown totals, none mode.
 * The job is a struct vhs_job made by hand with the fields plan.c reads.
 */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "progress.h"
#include "proto.h"

/* ---- helpers ---------------------------------------------------------------------- */

static struct vhs_job s_job(int ring_slots)
{
	struct vhs_job j;

	memset(&j, 0, sizeof(j));
	j.input = "/tapes/tape01.avi";
	j.output = "/out/tape01.mkv";
	j.preset = "vhs";
	j.video.filters = "bwdif=mode=send_field,hqdn3d=3:2:3:2";
	j.audio.filters = "highpass=f=100,lowpass=f=15000";
	j.upscale.backend = "cpu";
	j.upscale.model = "lanczos";
	j.upscale.width = 1440;
	j.upscale.height = 1080;
	j.encode.codec = "libx264";
	j.encode.preset = "fast";
	j.encode.crf = 18;
	j.encode.pix_fmt = "yuv420p";
	j.encode.audio_codec = "aac";
	j.encode.audio_bitrate = "192k";
	j.encode.sar = "auto";
	j.run.segment_seconds = 10;
	j.run.ring_slots = ring_slots;
	j.run.warmup_frames = 30;
	j.run.audio_warmup = 3;
	j.run.restart_limit = 5;
	j.run.restart_window = 60;
	return j;
}

static const struct vhs_plan_edge *s_edge(const struct vhs_plan *p, const char *name)
{
	for (int i = 0; i < p->n_edges; i++)
		if (p->edges[i].name && strcmp(p->edges[i].name, name) == 0)
			return &p->edges[i];
	return NULL;
}

static void s_check_edge(const struct vhs_plan *p, const char *name, enum vhs_stage_kind from,
			 int from_port, enum vhs_stage_kind to, int to_port, uint32_t slots)
{
	const struct vhs_plan_edge *e = s_edge(p, name);

	cr_assert_not_null(e, "no edge %s", name);
	cr_assert_eq(e->from, from, "%s from", name);
	cr_assert_eq(e->from_port, from_port, "%s from_port", name);
	cr_assert_eq(e->to, to, "%s to", name);
	cr_assert_eq(e->to_port, to_port, "%s to_port", name);
	cr_assert_eq(e->slots, slots, "%s: %u slots, expected %u", name, e->slots, slots);
}

/* Invariants every plan keeps, whatever the job. */
static void s_check_invariants(const struct vhs_plan *p)
{
	bool has_in[VHS_STAGE_KINDS] = { false }, has_out[VHS_STAGE_KINDS] = { false };

	cr_assert_gt(p->n_edges, 0);
	cr_assert_leq(p->n_edges, VHS_PLAN_MAX_EDGES);
	for (int i = 0; i < p->n_edges; i++) {
		const struct vhs_plan_edge *e = &p->edges[i];
		char ring[64];

		cr_assert_not_null(e->name, "edge %d has no name", i);
		cr_assert_lt((int)e->from, VHS_STAGE_KINDS);
		cr_assert_lt((int)e->to, VHS_STAGE_KINDS);
		cr_assert(p->stages[e->from] && p->stages[e->to], "%s joins a stage that does not run",
			  e->name);
		cr_assert_neq(e->from, e->to, "%s is a loop", e->name);
		cr_assert(e->from_port >= 0 && e->from_port < VHS_MAX_PORTS, "%s from_port", e->name);
		cr_assert(e->to_port >= 0 && e->to_port < VHS_MAX_PORTS, "%s to_port", e->name);
		cr_assert_geq(e->slots, 3, "%s: %u slots cannot keep a pipeline busy", e->name, e->slots);
		/* the ring name the orchestrator derives from it must fit the wire format */
		snprintf(ring, sizeof(ring), "/vhs-%d-%s", 4194304, e->name);
		cr_assert_lt(strlen(ring), (size_t)VHS_RING_NAME_LEN, "%s too long for a ring name",
			     e->name);
		cr_assert_eq(strncmp(e->name, vhs_stage_name(e->from), strlen(vhs_stage_name(e->from))),
			     0, "%s is not named after its producer", e->name);
		has_out[e->from] = has_in[e->to] = true;
		for (int k = 0; k < i; k++) {
			const struct vhs_plan_edge *o = &p->edges[k];

			cr_assert_str_neq(o->name, e->name, "two edges named %s", e->name);
			cr_assert(!(o->from == e->from && o->from_port == e->from_port),
				  "%s and %s share an output port", o->name, e->name);
			cr_assert(!(o->to == e->to && o->to_port == e->to_port),
				  "%s and %s share an input port", o->name, e->name);
		}
	}
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		if (!p->stages[k])
			continue;
		cr_assert(k == VHS_DECODE || has_in[k], "%s runs without input", vhs_stage_name(k));
		cr_assert(k == VHS_ENCODE || has_out[k], "%s runs without output", vhs_stage_name(k));
	}
	cr_assert(!has_in[VHS_DECODE], "decode is the source");
	cr_assert(!has_out[VHS_ENCODE], "encode is the sink");
}

/* ---- vhs_plan_build ------------------------------------------------------------------ */

Test(plan, build_without_audio)
{
	struct vhs_job job = s_job(12);
	struct vhs_plan p;

	vhs_plan_build(&p, &job, false);
	cr_assert(!p.audio);
	cr_assert(p.stages[VHS_DECODE]);
	cr_assert(p.stages[VHS_PREPROCESS]);
	cr_assert(p.stages[VHS_UPSCALE]);
	cr_assert(p.stages[VHS_ENCODE]);
	cr_assert(!p.stages[VHS_AUDIO], "no audio stage without audio");
	cr_assert(!p.stages[VHS_MUX], "mux runs alone, after the pipeline");
	cr_assert_eq(p.n_edges, 3);
	s_check_edge(&p, "decode.video", VHS_DECODE, 0, VHS_PREPROCESS, 0, 12);
	s_check_edge(&p, "preprocess.video", VHS_PREPROCESS, 0, VHS_UPSCALE, 0, 12);
	s_check_edge(&p, "upscale.video", VHS_UPSCALE, 0, VHS_ENCODE, 0, 12);
	cr_assert_null(s_edge(&p, "decode.audio"));
	s_check_invariants(&p);
}

Test(plan, build_with_audio)
{
	struct vhs_job job = s_job(5);
	struct vhs_plan p;

	vhs_plan_build(&p, &job, true);
	cr_assert(p.audio);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		cr_assert(p.stages[k], "%s runs", vhs_stage_name(k));
	cr_assert(!p.stages[VHS_MUX], "mux runs alone, after the pipeline");
	cr_assert_eq(p.n_edges, 5);
	s_check_edge(&p, "decode.video", VHS_DECODE, 0, VHS_PREPROCESS, 0, 5);
	s_check_edge(&p, "preprocess.video", VHS_PREPROCESS, 0, VHS_UPSCALE, 0, 5);
	s_check_edge(&p, "upscale.video", VHS_UPSCALE, 0, VHS_ENCODE, 0, 5);
	s_check_edge(&p, "decode.audio", VHS_DECODE, 1, VHS_AUDIO, 0, VHS_AUDIO_RING_SLOTS);
	s_check_edge(&p, "audio.audio", VHS_AUDIO, 0, VHS_ENCODE, 1, VHS_AUDIO_RING_SLOTS);
	s_check_invariants(&p);
}

Test(plan, ring_slots_from_job)
{
	static const struct { int job; uint32_t want; } cases[] = {
		{ 3, 3 }, { 8, 8 }, { 64, 64 }, { 0, 8 }, { -1, 8 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vhs_job job = s_job(cases[i].job);
		struct vhs_plan p;

		vhs_plan_build(&p, &job, true);
		for (int e = 0; e < p.n_edges; e++) {
			bool audio_edge = p.edges[e].from == VHS_AUDIO || p.edges[e].to == VHS_AUDIO;

			cr_assert_eq(p.edges[e].slots, audio_edge ? VHS_AUDIO_RING_SLOTS : cases[i].want,
				     "ring_slots %d: %s has %u slots", cases[i].job, p.edges[e].name,
				     p.edges[e].slots);
		}
	}
}

Test(plan, build_resets_the_plan)
{
	struct vhs_job job = s_job(8);
	struct vhs_plan p;

	memset(&p, 0xA5, sizeof(p));
	vhs_plan_build(&p, &job, false);
	cr_assert_eq(p.n_edges, 3);
	cr_assert(!p.stages[VHS_AUDIO]);
	/* a plan rebuilt without audio after one with audio loses the audio edges */
	vhs_plan_build(&p, &job, true);
	vhs_plan_build(&p, &job, false);
	cr_assert_eq(p.n_edges, 3);
	cr_assert(!p.audio);
	cr_assert(!p.stages[VHS_AUDIO]);
	s_check_invariants(&p);
	/* and after a mux plan in the same struct */
	vhs_plan_build_mux(&p);
	vhs_plan_build(&p, &job, false);
	cr_assert(!p.stages[VHS_MUX]);
	cr_assert_eq(p.n_edges, 3);
	s_check_invariants(&p);
}

Test(plan, build_mux)
{
	struct vhs_job job = s_job(8);
	struct vhs_plan p;

	/* from a dirty struct, and from a full pipeline plan */
	memset(&p, 0xA5, sizeof(p));
	vhs_plan_build_mux(&p);
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < VHS_STAGE_KINDS; k++)
			cr_assert_eq(p.stages[k], k == VHS_MUX, "pass %d: %s %s", pass,
				     vhs_stage_name(k), p.stages[k] ? "runs" : "does not run");
		cr_assert_eq(p.n_edges, 0, "pass %d: the mux stage has no edges", pass);
		cr_assert(!p.audio, "pass %d", pass);
		vhs_plan_build(&p, &job, true);
		vhs_plan_build_mux(&p);
	}
}

Test(plan, stage_names)
{
	static const char *const want[] = {
		[VHS_DECODE] = "decode", [VHS_PREPROCESS] = "preprocess", [VHS_UPSCALE] = "upscale",
		[VHS_AUDIO] = "audio",   [VHS_ENCODE] = "encode",         [VHS_MUX] = "mux",
	};

	cr_assert_eq(sizeof(want) / sizeof(want[0]), (size_t)VHS_STAGE_KINDS, "a name per kind");
	cr_assert_eq(VHS_PIPELINE_KINDS, VHS_JOB_STAGES,
		     "job.stages[] is indexed by the pipeline's stage kinds");
	cr_assert_eq(VHS_MUX, VHS_PIPELINE_KINDS, "mux comes after the pipeline kinds");
	cr_assert_eq(VHS_STAGE_KINDS, VHS_PIPELINE_KINDS + 1);
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		cr_assert_str_eq(vhs_stage_name(k), want[k]);
		cr_assert_lt(strlen(vhs_stage_name(k)), (size_t)VHS_NAME_LEN, "fits HELLO");
	}
	cr_assert_str_eq(vhs_stage_name(VHS_STAGE_KINDS), "?");
	cr_assert_str_eq(vhs_stage_name((enum vhs_stage_kind)99), "?");
}

/* ---- vhs_plan_print ------------------------------------------------------------------ */

/* The plan printed to a memory stream; free() the result. */
static char *s_print(const struct vhs_plan *p, const struct vhs_job *job)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	vhs_plan_print(p, job, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_not_null(text);
	return text;
}

static void s_contains(const char *text, const char *needle)
{
	cr_assert_not_null(strstr(text, needle), "missing \"%s\" in:\n%s", needle, text);
}

static void s_lacks(const char *text, const char *needle)
{
	cr_assert_null(strstr(text, needle), "unexpected \"%s\" in:\n%s", needle, text);
}

/* The oracle line: the one that runs ffmpeg. */
static const char *s_oracle(const char *text)
{
	const char *o = strstr(text, "ffmpeg -i ");

	cr_assert_not_null(o, "no oracle command in:\n%s", text);
	return o;
}

Test(plan, print_with_audio)
{
	struct vhs_job job = s_job(6);
	struct vhs_plan p;
	char *text;
	const char *o;

	vhs_plan_build(&p, &job, true);
	text = s_print(&p, &job);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "vhs-stage-%s", vhs_stage_name(k));
		s_contains(text, needle);
	}
	s_lacks(text, "vhs-stage-mux");
	/* bwdif (1, 1) + hqdn3d (warmup_frames 30, 0); highpass needs audio_warmup 3 s */
	s_contains(text, "window: 31 frames before, 1 after; audio 3000 ms either side");
	for (int i = 0; i < p.n_edges; i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "ring %u slots (%s)", p.edges[i].slots, p.edges[i].name);
		s_contains(text, needle);
	}
	o = s_oracle(text);
	s_contains(o, "ffmpeg -i '/tapes/tape01.avi'");
	s_contains(o, "bwdif=mode=send_field,hqdn3d=3:2:3:2,scale=1440:1080:flags=lanczos,"
		      "format=yuv420p");
	s_contains(o, "-af \"highpass=f=100,lowpass=f=15000\"");
	s_contains(o, "-c:v libx264");
	s_contains(o, "-c:a aac");
	s_contains(o, "'/out/tape01.mkv'");
	cr_assert_lt(strstr(o, "-i "), strstr(o, "-c:v "), "input before codecs");
	cr_assert_lt(strstr(o, "-c:a "), strstr(o, "/out/tape01.mkv"), "output last");
	free(text);
}

Test(plan, print_without_audio)
{
	struct vhs_job job = s_job(8);
	struct vhs_plan p;
	char *text;
	const char *o;

	job.video.filters = "";
	job.upscale.model = "bicubic";
	job.encode.codec = "ffv1";
	job.encode.pix_fmt = "yuv422p10le";
	vhs_plan_build(&p, &job, false);
	text = s_print(&p, &job);
	s_contains(text, "vhs-stage-decode");
	s_contains(text, "vhs-stage-preprocess");
	s_contains(text, "vhs-stage-upscale");
	s_contains(text, "vhs-stage-encode");
	s_lacks(text, "vhs-stage-audio");
	s_lacks(text, "decode.audio");
	s_contains(text, "ring 8 slots (upscale.video)");
	o = s_oracle(text);
	s_contains(o, "-vf \"scale=1440:1080:flags=bicubic,format=yuv422p10le\"");
	s_lacks(o, "-af");
	s_lacks(o, "aac");
	s_contains(o, "-c:v ffv1");
	s_contains(o, "'/out/tape01.mkv'");
	free(text);
}

Test(plan, print_null_filters)
{
	struct vhs_job job = s_job(8);
	struct vhs_plan p;
	char *text;

	job.video.filters = NULL;
	job.audio.filters = NULL;
	vhs_plan_build(&p, &job, true);
	text = s_print(&p, &job);
	s_contains(s_oracle(text), "-vf \"scale=1440:1080:flags=lanczos,format=yuv420p\"");
	s_lacks(s_oracle(text), "-af");
	s_contains(s_oracle(text), "-c:a aac");
	free(text);
}

Test(plan, print_mux)
{
	struct vhs_job job = s_job(8);
	struct vhs_plan p;
	char *text;

	vhs_plan_build_mux(&p);
	text = s_print(&p, &job);
	s_contains(text, "vhs-stage-mux");
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "vhs-stage-%s ", vhs_stage_name(k));
		s_lacks(text, needle);
	}
	s_lacks(text, "edge ");
	free(text);
}

/* ---- vhs_plan_reach ------------------------------------------------------------------ */

/* The reach of the chains video and audio with warmup_frames and audio_warmup. */
static struct vhs_reach s_reach(const char *video, const char *audio, int warmup_frames,
				double audio_warmup)
{
	struct vhs_job job = s_job(8);
	struct vhs_reach r;

	job.video.filters = (char *)video;
	job.audio.filters = (char *)audio;
	job.run.warmup_frames = warmup_frames;
	job.run.audio_warmup = audio_warmup;
	memset(&r, 0x5A, sizeof(r)); /* vhs_plan_reach must reset it */
	vhs_plan_reach(&job, &r);
	return r;
}

static void s_check_video(const char *chain, int warmup_frames, int before, int after)
{
	struct vhs_reach r = s_reach(chain, "", warmup_frames, 3);

	cr_assert_eq(r.warmup, before, "\"%s\" (warmup_frames %d): %d frames before, expected %d",
		     chain, warmup_frames, r.warmup, before);
	cr_assert_eq(r.lookahead, after, "\"%s\" (warmup_frames %d): %d frames after, expected %d",
		     chain, warmup_frames, r.lookahead, after);
	cr_assert_eq(r.audio_ms, 0, "\"%s\": a video chain costs no audio", chain);
}

static void s_check_audio(const char *chain, double audio_warmup, int ms)
{
	struct vhs_reach r = s_reach("", chain, 30, audio_warmup);

	cr_assert_eq(r.audio_ms, ms, "\"%s\" (audio_warmup %g): %d ms, expected %d", chain,
		     audio_warmup, r.audio_ms, ms);
	cr_assert_eq(r.warmup, 0, "\"%s\": an audio chain costs no video", chain);
	cr_assert_eq(r.lookahead, 0, "\"%s\": an audio chain costs no video", chain);
}

Test(reach, empty_chains)
{
	struct vhs_reach r = s_reach("", "", 30, 3);

	cr_assert_eq(r.warmup, 0);
	cr_assert_eq(r.lookahead, 0);
	cr_assert_eq(r.audio_ms, 0);
	r = s_reach(NULL, NULL, 30, 3);
	cr_assert_eq(r.warmup, 0, "NULL chains are empty");
	cr_assert_eq(r.lookahead, 0);
	cr_assert_eq(r.audio_ms, 0);
	s_check_video(",", 30, 0, 0);
	s_check_video(" ", 30, 0, 0);
	s_check_audio(",", 3, 0);
}

Test(reach, deinterlacers_one_frame_each_side)
{
	s_check_video("bwdif=mode=send_field", 30, 1, 1);
	s_check_video("bwdif", 30, 1, 1);
	s_check_video("yadif=1", 30, 1, 1);
	s_check_video("w3fdif", 30, 1, 1);
	s_check_video("estdif=mode=field", 30, 1, 1);
	/* reaches add up along the chain */
	s_check_video("bwdif=mode=send_field,yadif", 30, 2, 2);
	s_check_video("bwdif,yadif,w3fdif,estdif", 30, 4, 4);
}

/* A chain per stretch (proto/schedule.h): the window is the widest any of them needs. */
Test(reach, schedule_chains_widen_the_window)
{
	struct vhs_job job = s_job(8);
	struct vhs_reach r;

	job.video.filters = "bwdif=mode=send_field,fps=60000/1001";
	job.video.schedule = "-inf 5.0 fieldmatch,yadif,vhs_decimate,fps=60000/1001\n"
			     "9 inf fps=60000/1001\n";
	vhs_plan_reach(&job, &r);
	cr_assert_eq(r.warmup, 8, "fieldmatch 1, yadif 1, vhs_decimate 5, fps 1: %d", r.warmup);
	cr_assert_eq(r.lookahead, 7, "fieldmatch 1, yadif 1, vhs_decimate 4, fps 1: %d", r.lookahead);
	job.video.schedule = NULL;
	vhs_plan_reach(&job, &r);
	cr_assert_eq(r.warmup, 2);
	cr_assert_eq(r.lookahead, 2);
}

Test(reach, unbounded_filters_cost_warmup_before)
{
	s_check_video("bwdif=mode=send_field,hqdn3d=3:2:3:2", 30, 31, 1);
	s_check_video("hqdn3d=3:2:3:2,bwdif=mode=send_field", 30, 31, 1);
	s_check_video("hqdn3d", 30, 30, 0);
	s_check_video("hqdn3d=4:3:4:3", 7, 7, 0);
	s_check_video("tmix=frames=3", 12, 12, 0);
	s_check_video("hqdn3d,tmix", 30, 60, 0);
	s_check_video("bwdif=mode=send_field,hqdn3d=3:2:3:2", 0, 1, 1);
	/* reaching both ways */
	s_check_video("atadenoise", 30, 30, 30);
	s_check_video("deflicker=size=5", 9, 9, 9);
}

Test(reach, unknown_filters_cost_warmup_both_sides)
{
	s_check_video("frobnicate=1:2", 30, 30, 30);
	s_check_video("frobnicate", 17, 17, 17);
	s_check_video("bwdif,frobnicate", 30, 31, 31);
	/* names match whole, not as prefixes */
	s_check_video("yadif_cuda", 30, 30, 30);
	s_check_video("eqx", 30, 30, 30);
	s_check_video("bwdi", 30, 30, 30);
}

Test(reach, spatial_filters_cost_nothing)
{
	s_check_video("drawbox=x=0:y=ih-12:w=iw:h=12:color=black:t=fill,eq=contrast=1.1", 30, 0, 0);
	s_check_video("eq,crop=704:480,scale=720:480,drawbox,format=yuv420p,setsar=1,setdar=4/3,"
		      "setfield=tff,setparams=range=tv,null,pad=720:576,hflip,vflip,nlmeans,"
		      "unsharp,gblur,boxblur,removegrain=1,colorspace=bt709,colorbalance,"
		      "colorlevels,curves=vintage,hue=s=0,lutyuv=y=val,chromashift=cbh=1,"
		      "smartblur,vaguedenoiser", 30, 0, 0);
	/* the vhs preset's chain */
	s_check_video("drawbox=x=0:y=ih-12:w=iw:h=12:color=black:t=fill,bwdif=mode=send_field,"
		      "hqdn3d=3:2:3:2,eq=contrast=1.1:brightness=0.05:saturation=1.05", 30, 31, 1);
}

Test(reach, filter_names_in_graph_syntax)
{
	/* instance names and spaces */
	s_check_video("bwdif@deint=mode=send_field", 30, 1, 1);
	s_check_video(" bwdif , eq ", 30, 1, 1);
	/* an escaped comma or a quoted one is part of an argument, not a new filter (an
	 * unknown filter "2" would cost 30 frames each side) */
	s_check_video("eq=gamma=1\\,2,bwdif", 30, 1, 1);
	s_check_video("eq=gamma='1,2',bwdif", 30, 1, 1);
	s_check_video("eq=gamma='1,2,3',hqdn3d", 30, 30, 0);
	/* ';' separates chains of a graph as ',' separates filters */
	s_check_video("bwdif;hqdn3d", 30, 31, 1);
}

Test(reach, link_labels_are_not_filter_names)
{
	s_check_video("[in]bwdif=mode=send_field[a];[a]hqdn3d=3:2:3:2[out]", 30, 31, 1);
	s_check_video("[in]bwdif[mid];[mid]eq[out]", 30, 1, 1);
	s_check_video("bwdif[out]", 30, 1, 1);
	s_check_video("[in] yadif=1 [out]", 30, 1, 1);
	s_check_audio("[in]volume=0.5[out]", 3, 0);
}

Test(reach, audio)
{
	s_check_audio("volume=0.5", 3.0, 0);
	s_check_audio("highpass=f=100", 3.0, 3000);
	s_check_audio("highpass=f=100", 0.5, 500);
	s_check_audio("highpass=f=100", 0, 0);
	s_check_audio("anull,volume=2,pan=mono|c0=c0,aformat=sample_fmts=s16,channelmap=0,"
		      "asetnsamples=1024", 3.0, 0);
	/* one stateful filter anywhere in the chain is enough, and costs the same once */
	s_check_audio("volume=0.5,highpass=f=100", 3.0, 3000);
	s_check_audio("highpass=f=100,volume=0.5", 3.0, 3000);
	s_check_audio("highpass=f=100,lowpass=f=15000,afftdn=nf=-25,dynaudnorm=f=200:g=15", 2.0,
		      2000);
	s_check_audio("frobnicate", 1.0, 1000);
	s_check_audio("volumex=1", 1.0, 1000);
	/* milliseconds, rounded */
	s_check_audio("highpass", 0.0126, 13);
	s_check_audio("highpass", 0.0124, 12);
	s_check_audio("highpass", 600, 600000);
}

/* ---- progress line ------------------------------------------------------------------- */

/* Runs one forced update with the clock set so that elapsed_s have passed, and returns
 * what it wrote to stderr (free() it). */
static char *s_progress(enum vhs_progress_mode mode, double total, double fps_media,
			uint64_t frames, double elapsed_s)
{
	struct vhs_progress p;
	FILE *tmp = tmpfile();
	int saved;
	long n;
	char *text;

	cr_assert_not_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	cr_assert_geq(saved, 0);
	cr_assert_geq(dup2(fileno(tmp), STDERR_FILENO), 0);
	vhs_progress_start(&p, mode, 0, total, fps_media);
	p.start_ns -= (uint64_t)(elapsed_s * 1e9);
	vhs_progress_update(&p, frames, 1, NULL, 0);
	vhs_progress_end(&p);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = ftell(tmp);
	cr_assert_geq(n, 0);
	text = calloc(1, (size_t)n + 1);
	cr_assert_not_null(text);
	rewind(tmp);
	cr_assert_eq(fread(text, 1, (size_t)n, tmp), (size_t)n);
	fclose(tmp);
	return text;
}

Test(progress, log_line)
{
	/* 252 of 600 frames in 10 s: 25.2 fps, 1.01x of 25 fps, 348 left: 13.8 s -> 0:14 */
	char *t = s_progress(VHS_PROGRESS_LOG, 600, 25, 252, 10);

	cr_assert_str_eq(t, "progress:  42.0% 252/600 frames 25.2 fps 1.01x eta 0:14\n");
	free(t);
}

Test(progress, eta_clock)
{
	static const struct { double eta_s; const char *want; } cases[] = {
		{ 9, "eta 0:09\n" },       { 59.4, "eta 0:59\n" },     { 59.6, "eta 1:00\n" },
		{ 125, "eta 2:05\n" },     { 3599, "eta 59:59\n" },    { 3600, "eta 1:00:00\n" },
		{ 3725, "eta 1:02:05\n" }, { 36000 + 61, "eta 10:01:01\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* 10000 frames in 1000 s: 10 fps, so total = 10000 + 10 * eta (a long elapsed
		 * time keeps the test's own microseconds out of the rounding) */
		char *t = s_progress(VHS_PROGRESS_LOG, 10000 + 10 * cases[i].eta_s, 30, 10000, 1000);
		const char *eta = strstr(t, "eta ");

		cr_assert_not_null(eta, "%s", t);
		cr_assert_str_eq(eta, cases[i].want, "%g s: \"%s\"", cases[i].eta_s, t);
		free(t);
	}
}

Test(progress, unknown_total)
{
	char *t = s_progress(VHS_PROGRESS_LOG, 0, 0, 42, 2);

	cr_assert_not_null(strstr(t, "  ?  "), "%s", t);
	cr_assert_not_null(strstr(t, "eta ?\n"), "%s", t);
	cr_assert_not_null(strstr(t, " 42/0 frames 21.0 fps 0.00x "), "%s", t);
	free(t);
}

Test(progress, bar_line)
{
	char *t = s_progress(VHS_PROGRESS_BAR, 600, 25, 252, 10);

	cr_assert_str_eq(t, "\r 42.0%  252/600 frames  25.2 fps  1.01x  ETA 0:14\033[K\n");
	free(t);
}

Test(progress, none_is_silent)
{
	char *t = s_progress(VHS_PROGRESS_NONE, 600, 25, 252, 10);

	cr_assert_str_eq(t, "");
	free(t);
}

Test(progress, not_forced_waits)
{
	struct vhs_progress p;
	uint64_t a = vhs_now_ns(), b;
	FILE *tmp = tmpfile();
	int saved;

	cr_assert_not_null(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	cr_assert_geq(dup2(fileno(tmp), STDERR_FILENO), 0);
	vhs_progress_start(&p, VHS_PROGRESS_LOG, 0, 600, 25);
	vhs_progress_update(&p, 1, 0, NULL, 0); /* within 2 s of start: nothing */
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_assert_eq(ftell(tmp), 0, "log mode printed before its interval");
	fclose(tmp);
	b = vhs_now_ns();
	cr_assert_geq(b, a, "monotonic clock");
	cr_assert_geq(p.start_ns, a);
	cr_assert_leq(p.start_ns, b);
}

/* --progress=json: one object per line that a JSON parser reads back, with the run's figures
 * and each stage's rates over the interval between two updates. */
Test(progress, json_lines)
{
	struct vhs_progress p;
	struct vhs_progress_detail d = { .n_stages = 2, .n_rings = 1 };
	char *text = NULL, *nl;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cJSON *o, *st, *ring;

	cr_assert_not_null(f);
	vhs_progress_start(&p, VHS_PROGRESS_JSON, 0, 600, 25);
	p.json = f;
	d.stages[0] = (struct vhs_progress_stage){ "decode", 1, 0, 0, 0, 0 };
	d.stages[1] = (struct vhs_progress_stage){ "upscale", 2, 0, 0, 0, 0 };
	d.rings[0] = (struct vhs_progress_ring){ "decode.video", 8, 3 };
	vhs_progress_update(&p, 0, 1, &d, 0);
	p.prev_ns -= 1000000000ull; /* pretend a second passed since */
	d.stages[0] = (struct vhs_progress_stage){ "decode", 1, 50, 250000000ull, 700000000ull, 0 };
	d.stages[1] = (struct vhs_progress_stage){ "upscale", 2, 40, 1800000000ull, 0, 100000000ull };
	vhs_progress_update(&p, 40, 1, &d, 1);
	fclose(f);
	nl = strchr(text, '\n');
	cr_assert_not_null(nl);
	o = cJSON_Parse(nl + 1);
	cr_assert_not_null(o, "not JSON: %s", nl + 1);
	cr_assert_eq(cJSON_GetObjectItem(o, "frames")->valuedouble, 40);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "done")));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "stages")), 2);
	st = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "stages"), 1);
	cr_assert_str_eq(cJSON_GetObjectItem(st, "name")->valuestring, "upscale");
	cr_assert(fabs(cJSON_GetObjectItem(st, "fps")->valuedouble - 40) < 1, "%s", nl + 1);
	cr_assert(fabs(cJSON_GetObjectItem(st, "busy")->valuedouble - 0.9) < 0.05, "two workers: %s", nl + 1);
	cr_assert(fabs(cJSON_GetObjectItem(st, "blocked_on_output")->valuedouble - 0.05) < 0.01, "%s", nl + 1);
	st = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "stages"), 0);
	cr_assert(fabs(cJSON_GetObjectItem(st, "waiting_for_input")->valuedouble - 0.7) < 0.05, "%s", nl + 1);
	ring = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "rings"), 0);
	cr_assert_str_eq(cJSON_GetObjectItem(ring, "edge")->valuestring, "decode.video");
	cr_assert_eq(cJSON_GetObjectItem(ring, "full")->valuedouble, 3);
	cJSON_Delete(o);
	free(text);
}
