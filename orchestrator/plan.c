/* plan.c: the stage graph of a job (see plan.h). */
#include "plan.h"

#include <string.h>

static const char *const s_names[VHS_STAGE_KINDS] = {
	[VHS_DECODE] = "decode", [VHS_PREPROCESS] = "preprocess", [VHS_UPSCALE] = "upscale",
	[VHS_AUDIO] = "audio",   [VHS_ENCODE] = "encode",
};

const char *vhs_stage_name(enum vhs_stage_kind k)
{
	return k < VHS_STAGE_KINDS ? s_names[k] : "?";
}

static void s_edge(struct vhs_plan *p, enum vhs_stage_kind from, int from_port,
		   enum vhs_stage_kind to, int to_port, uint32_t slots, const char *name)
{
	p->edges[p->n_edges++] = (struct vhs_plan_edge){ from, to, from_port, to_port, slots, name };
}

void vhs_plan_build(struct vhs_plan *p, const struct vhs_job *job, bool audio)
{
	uint32_t slots = job->run.ring_slots > 0 ? (uint32_t)job->run.ring_slots : 8;

	memset(p, 0, sizeof(*p));
	p->audio = audio;
	p->stages[VHS_DECODE] = p->stages[VHS_PREPROCESS] = p->stages[VHS_UPSCALE] = true;
	p->stages[VHS_ENCODE] = true;
	p->stages[VHS_AUDIO] = audio;
	s_edge(p, VHS_DECODE, 0, VHS_PREPROCESS, 0, slots, "decode.video");
	s_edge(p, VHS_PREPROCESS, 0, VHS_UPSCALE, 0, slots, "preprocess.video");
	s_edge(p, VHS_UPSCALE, 0, VHS_ENCODE, 0, slots, "upscale.video");
	if (audio) {
		s_edge(p, VHS_DECODE, 1, VHS_AUDIO, 0, VHS_AUDIO_RING_SLOTS, "decode.audio");
		s_edge(p, VHS_AUDIO, 0, VHS_ENCODE, 1, VHS_AUDIO_RING_SLOTS, "audio.audio");
	}
}

void vhs_plan_print(const struct vhs_plan *p, const struct vhs_job *job, FILE *out)
{
	const char *vf = job->video.filters && *job->video.filters ? job->video.filters : NULL;
	const char *af = job->audio.filters && *job->audio.filters ? job->audio.filters : NULL;

	fprintf(out, "# plan\n");
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (p->stages[k])
			fprintf(out, "stage %-10s processes 1  vhs-stage-%s\n", s_names[k], s_names[k]);
	for (int i = 0; i < p->n_edges; i++) {
		const struct vhs_plan_edge *e = &p->edges[i];

		fprintf(out, "edge  %-10s:%d -> %-10s:%d  ring %u slots (%s)\n", s_names[e->from],
			e->from_port, s_names[e->to], e->to_port, e->slots, e->name);
	}
	fprintf(out, "# equivalent single ffmpeg command (the correctness oracle):\n");
	char w[16] = "iw", h[16] = "ih";

	if (job->upscale.width > 0)
		snprintf(w, sizeof(w), "%d", job->upscale.width);
	if (job->upscale.height > 0)
		snprintf(h, sizeof(h), "%d", job->upscale.height);
	fprintf(out, "#   ffmpeg -i '%s' -vf \"%s%sscale=%s:%s:flags=%s,format=%s\"", job->input,
		vf ? vf : "", vf ? "," : "", w, h, job->upscale.model, job->encode.pix_fmt);
	if (p->audio && af)
		fprintf(out, " -af \"%s\"", af);
	fprintf(out, " -c:v %s", job->encode.codec);
	if (p->audio)
		fprintf(out, " -c:a %s", job->encode.audio_codec);
	else
		fprintf(out, " -an");
	fprintf(out, " '%s'\n", job->output);
}
