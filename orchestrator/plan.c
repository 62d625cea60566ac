/* plan.c: the stage graph of a job (see plan.h). */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

/* An edge whose producer workers get per_segment slots for every segment they may hold. */
static void s_edge(struct vhs_plan *p, enum vhs_stage_kind from, int from_port,
		   enum vhs_stage_kind to, int to_port, uint32_t per_segment, const char *name)
{
	uint32_t quota = per_segment * (uint32_t)p->open[from];

	p->edges[p->n_edges++] = (struct vhs_plan_edge){ from, to, from_port, to_port, quota,
							 quota * (uint32_t)p->workers[from], name };
}

void vhs_plan_layout(struct vhs_plan *p, const int workers[VHS_STAGE_KINDS], int ring_slots)
{
	uint32_t slots = ring_slots > 0 ? (uint32_t)ring_slots : 8;

	p->ring_slots = (int)slots;
	p->width = 1;
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		p->workers[k] = workers[k] > 0 ? workers[k] : 1;
		p->width = p->workers[k] > p->width ? p->workers[k] : p->width;
	}
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		p->open[k] = (p->width + p->workers[k] - 1) / p->workers[k];
	p->in_flight = p->width + 1;
	p->n_edges = 0;
	s_edge(p, VHS_DECODE, 0, VHS_PREPROCESS, 0, slots, "decode.video");
	s_edge(p, VHS_PREPROCESS, 0, VHS_UPSCALE, 0, slots, "preprocess.video");
	s_edge(p, VHS_UPSCALE, 0, VHS_ENCODE, 0, slots, "upscale.video");
	if (p->audio) {
		s_edge(p, VHS_DECODE, 1, VHS_AUDIO, 0, VHS_AUDIO_RING_SLOTS, "decode.audio");
		s_edge(p, VHS_AUDIO, 0, VHS_ENCODE, 1, VHS_AUDIO_RING_SLOTS, "audio.audio");
	}
}

void vhs_plan_build(struct vhs_plan *p, const struct vhs_job *job, bool audio)
{
	int workers[VHS_STAGE_KINDS] = { 0 };

	memset(p, 0, sizeof(*p));
	p->audio = audio;
	p->stages[VHS_DECODE] = p->stages[VHS_PREPROCESS] = p->stages[VHS_UPSCALE] = true;
	p->stages[VHS_ENCODE] = true;
	p->stages[VHS_AUDIO] = audio;
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		workers[k] = job->stages[k].workers;
	vhs_plan_layout(p, workers, job->run.ring_slots);
}

uint64_t vhs_plan_memory(const struct vhs_plan *p, const struct vhs_plan_costs *c, uint64_t *rings,
			 uint64_t *procs)
{
	*rings = *procs = 0;
	for (int i = 0; i < p->n_edges; i++)
		*rings += (uint64_t)p->edges[i].slots * c->slot_size[i];
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (p->stages[k])
			*procs += (uint64_t)p->workers[k] * (c->base[k] + (uint64_t)p->open[k] * c->per_segment[k]);
	return *rings + *procs;
}

/* The "auto" stage with the most workers (the first on a tie), or -1 when none has more than 1. */
static int s_widest_auto(const struct vhs_plan *p, const bool is_auto[VHS_STAGE_KINDS])
{
	int widest = -1;

	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		if (is_auto[k] && p->workers[k] > 1 && (widest < 0 || p->workers[k] > p->workers[widest]))
			widest = k;
	return widest;
}

static double s_mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

int vhs_plan_fit(struct vhs_plan *p, const bool is_auto[VHS_STAGE_KINDS], const struct vhs_plan_costs *c,
		 uint64_t budget, char *msg, size_t n)
{
	uint64_t rings, procs, need = vhs_plan_memory(p, c, &rings, &procs);
	int workers[VHS_STAGE_KINDS];
	int ring_slots = p->ring_slots, changed = 0;

	memcpy(workers, p->workers, sizeof(workers));
	while (need > budget) {
		int k = s_widest_auto(p, is_auto);

		if (k >= 0)
			workers[k]--;
		else if (ring_slots > VHS_PLAN_MIN_RING_SLOTS)
			ring_slots--;
		else
			break;
		changed++;
		vhs_plan_layout(p, workers, ring_slots);
		need = vhs_plan_memory(p, c, &rings, &procs);
	}
	msg[0] = '\0';
	if (need > budget) {
		snprintf(msg, n, "the plan needs %.0f MiB (rings %.0f MiB, stage processes %.0f MiB) even "
			 "with %d ring slots, but [run] max_memory allows %.0f MiB: use fewer workers or "
			 "raise max_memory", s_mib(need), s_mib(rings), s_mib(procs), ring_slots, s_mib(budget));
		return -ENOMEM;
	}
	if (changed)
		snprintf(msg, n, "reduced to fit [run] max_memory (%.0f MiB): %d ring slots per segment, "
			 "workers decode %d, preprocess %d, upscale %d, audio %d, encode %d; needs %.0f MiB",
			 s_mib(budget), ring_slots, p->workers[VHS_DECODE], p->workers[VHS_PREPROCESS],
			 p->workers[VHS_UPSCALE], p->stages[VHS_AUDIO] ? p->workers[VHS_AUDIO] : 0,
			 p->workers[VHS_ENCODE], s_mib(need));
	return changed;
}

void vhs_plan_build_mux(struct vhs_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->stages[VHS_MUX] = true;
	p->workers[VHS_MUX] = p->open[VHS_MUX] = p->width = p->in_flight = 1;
}

/* Stateless audio filters; every other one gets [run] audio_warmup. */
static const char *const s_audio_stateless[] = { "anull", "volume", "pan", "aformat",
						 "channelmap", "asetnsamples", NULL };

struct reach_acc {
	const struct vhs_job *job;
	struct vhs_reach *r;
};

static void s_video_filter(const struct vhs_chain_item *it, void *arg)
{
	const struct vhs_filter_reach *known = vhs_filter_reach_find(it->name);
	struct reach_acc *a = arg;
	int w = a->job->run.warmup_frames;
	int before = known ? known->before : -1, after = known ? known->after : -1;

	a->r->warmup += before < 0 ? w : before;
	a->r->lookahead += after < 0 ? w : after;
}

static void s_audio_filter(const struct vhs_chain_item *it, void *arg)
{
	struct reach_acc *a = arg;

	for (int i = 0; s_audio_stateless[i]; i++)
		if (!strcmp(it->name, s_audio_stateless[i]))
			return;
	a->r->audio_ms = (int)(a->job->run.audio_warmup * 1000 + 0.5);
}

/* Whether the audio stage runs the enhancement with memory: notches, declicker, hiss reducer
 * (dsp/audio/enhance.h; its pan alone has none), instead of an explicit chain. */
static bool s_enhanced(const struct vhs_job *job)
{
	const char *hum = job->audio.hum ? job->audio.hum : "off";

	return !(job->audio.filters && *job->audio.filters) &&
	       (strcmp(hum, "off") || job->audio.hiss > 0 || job->audio.declick);
}

/* The reach of a chain: the most of it and of the reach so far. */
static void s_chain_reach(const struct vhs_job *job, const char *chain, struct vhs_reach *r)
{
	struct vhs_reach one = { 0 };
	struct reach_acc a = { job, &one };

	vhs_chain_each_filter(chain, s_video_filter, &a);
	r->warmup = one.warmup > r->warmup ? one.warmup : r->warmup;
	r->lookahead = one.lookahead > r->lookahead ? one.lookahead : r->lookahead;
}

void vhs_plan_reach(const struct vhs_job *job, struct vhs_reach *r)
{
	struct reach_acc a = { job, r };
	struct vhs_schedule sched;
	char err[128];

	memset(r, 0, sizeof(*r));
	s_chain_reach(job, job->video.filters, r);
	if (job->video.schedule && !vhs_schedule_parse(job->video.schedule, &sched, err, sizeof(err))) {
		for (size_t i = 0; i < sched.n; i++)
			s_chain_reach(job, sched.s[i].chain, r);
		vhs_schedule_free(&sched);
	}
	vhs_chain_each_filter(job->audio.filters, s_audio_filter, &a);
	if (s_enhanced(job))
		r->audio_ms = (int)(job->run.audio_warmup * 1000 + 0.5);
}

/* The video chain without the project's own filters (which no ffmpeg has), into a
 * memstream; names the first of them in *own. */
struct lavfi_only {
	FILE *f;
	bool first;
	const char *own;
	char own_name[64];
};

/* libavfilter's nearest to our filters that change the frame rate (the rest are left out):
 * the nearest command must at least make the same number of frames. */
static const char *const s_nearest[][2] = {
	{ "vhs_mcdeint", "bwdif=mode=send_field" },
	{ "vhs_decimate", "decimate" },
};

static void s_lavfi_item(const struct vhs_chain_item *it, void *arg)
{
	const struct vhs_filter_reach *r = vhs_filter_reach_find(it->name);
	struct lavfi_only *l = arg;

	if (r && r->native) {
		if (!l->own) {
			snprintf(l->own_name, sizeof(l->own_name), "%s", it->name);
			l->own = l->own_name;
		}
		for (size_t i = 0; i < sizeof(s_nearest) / sizeof(s_nearest[0]); i++) {
			if (!strcmp(it->name, s_nearest[i][0])) {
				fprintf(l->f, "%s%s", l->first ? "" : ",", s_nearest[i][1]);
				l->first = false;
			}
		}
		return;
	}
	fprintf(l->f, "%s%.*s", l->first ? "" : ",", (int)it->len, it->text);
	l->first = false;
}

/* The equivalent ffmpeg command (the oracle), or the nearest one when none makes the same
 * frames. */
static void s_print_oracle(const struct vhs_plan *p, const struct vhs_job *job, FILE *out)
{
	const char *af = job->audio.filters && *job->audio.filters ? job->audio.filters : NULL;
	int swscale = !strcmp(job->upscale.model, "lanczos") || !strcmp(job->upscale.model, "bicubic");
	struct lavfi_only l = { .first = true };
	char w[16] = "iw", h[16] = "ih", *vf = NULL;
	size_t vf_len = 0;

	if ((l.f = open_memstream(&vf, &vf_len))) {
		vhs_chain_each_filter(job->video.filters, s_lavfi_item, &l);
		fclose(l.f);
	}
	if (job->upscale.width > 0)
		snprintf(w, sizeof(w), "%d", job->upscale.width);
	if (job->upscale.height > 0)
		snprintf(h, sizeof(h), "%d", job->upscale.height);
	if (job->video.schedule)
		fprintf(out, "# no single ffmpeg command makes the same frames (the chain changes along the tape); "
			     "the nearest, with the chain where it changes%s:\n", l.own ? " and without our own filters" : "");
	else if (l.own)
		fprintf(out, "# no ffmpeg command makes the same frames (%s is the project's own filter); "
			     "the nearest (ours left out, or replaced by libavfilter's nearest):\n", l.own);
	else if (swscale && strcmp(job->upscale.backend, "cuda"))
		fprintf(out, "# equivalent single ffmpeg command (the correctness oracle)%s:\n",
			strcmp(job->upscale.backend, "auto") ? "" : " when no GPU is found");
	else
		fprintf(out, "# no ffmpeg command makes the same frames (%s%s upscales); the nearest:\n",
			job->upscale.model, swscale ? " on the GPU" : "");
	fprintf(out, "#   ffmpeg -i '%s' -vf \"%s%sscale=%s:%s:flags=%s,format=%s\"", job->input,
		vf ? vf : "", vf && *vf ? "," : "", w, h, swscale ? job->upscale.model : "lanczos",
		job->encode.pix_fmt);
	free(vf);
	if (p->audio && af)
		fprintf(out, " -af \"%s\"", af);
	fprintf(out, " -c:v %s", job->encode.codec);
	if (p->audio)
		fprintf(out, " -c:a %s", job->encode.audio_codec);
	else
		fprintf(out, " -an");
	fprintf(out, " '%s'\n", job->output);
	if (p->audio && (s_enhanced(job) || job->audio.loudness != 0 ||
			 (job->audio.channels && strcmp(job->audio.channels, "keep"))))
		fprintf(out, "#   (without the audio enhancement: its hiss reducer and loudness pass are "
			     "no ffmpeg filters)\n");
}

void vhs_plan_print(const struct vhs_plan *p, const struct vhs_job *job, FILE *out)
{
	struct vhs_reach reach;

	fprintf(out, "# plan\n");
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (p->stages[k])
			fprintf(out, "stage %-10s processes %-3d vhs-stage-%s%s\n", vhs_stage_name(k), p->workers[k],
				vhs_stage_name(k), p->open[k] > 1 ? " (several segments each)" : "");
	for (int i = 0; i < p->n_edges; i++) {
		const struct vhs_plan_edge *e = &p->edges[i];

		fprintf(out, "edge  %-10s:%d -> %-10s:%d  ring %u slots (%s)\n", vhs_stage_name(e->from),
			e->from_port, vhs_stage_name(e->to), e->to_port, e->slots, e->name);
	}
	fprintf(out, "segments in the making at once: at most %d\n", p->in_flight);
	vhs_plan_reach(job, &reach);
	fprintf(out, "segments %g s, window: %d frames before, %d after; audio %d ms either side\n",
		job->run.segment_seconds, reach.warmup, reach.lookahead, reach.audio_ms);
	s_print_oracle(p, job, out);
}
