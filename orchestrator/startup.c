/* startup.c: an attempt's start-up (run.h): the plan and its wiring, each process's CONFIG,
 * the formats stages declare, the rings sized from them within the memory budget, ATTACH.
 *
 * The first worker of each stage starts in plan order, because a stage's CONFIG carries the
 * formats its producers declared; it waits in FORMATTED until the last stage has declared
 * its outputs, when every ring can be sized. Then the rings are created, those workers
 * attached, and all the other workers started at once (their formats must equal their
 * first worker's). When every worker is RUNNING, frames start to flow (broker.c).
 */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devpool.h"
#include "exitcode.h"
#include "settings.h"

/* Frames a worker keeps per segment it holds, beyond its slots: decoders their reference
 * and threading frames, filters their queues, the encoder its look-ahead and threads'
 * frames (x264 "fast" at 1440x1080 on 2 cores measured about 280 MiB per encoder, 120
 * frames). An estimate, checked against measured peaks in bench/RESULTS.md. */
static const int s_working_frames[VHS_STAGE_KINDS] = {
	[VHS_DECODE] = 16, [VHS_PREPROCESS] = 8, [VHS_UPSCALE] = 4, [VHS_AUDIO] = 4, [VHS_ENCODE] = 128,
};

int run_next_stage(const struct run *r, int after)
{
	for (int k = after + 1; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			return k;
	return -1;
}

/* The pipeline's plan: the job's worker counts, "auto" ones as chosen (1 until then). */
void run_build_plan(struct run *r, bool audio)
{
	vhs_plan_build(&r->plan, r->job, audio);
	if (r->auto_workers[VHS_DECODE])
		vhs_plan_layout(&r->plan, r->auto_workers, r->job->run.ring_slots);
}

void run_wire(struct run *r)
{
	memset(r->wiring, 0, sizeof(r->wiring));
	r->n_edges = r->plan.n_edges;
	for (int i = 0; i < r->n_edges; i++) {
		const struct vhs_plan_edge *e = &r->plan.edges[i];
		struct wiring *from = &r->wiring[e->from], *to = &r->wiring[e->to];

		r->edges[i].plan = *e;
		from->out_edge[e->from_port] = i;
		from->n_out = e->from_port >= from->n_out ? e->from_port + 1 : from->n_out;
		to->in_edge[e->to_port] = i;
		to->n_in = e->to_port >= to->n_in ? e->to_port + 1 : to->n_in;
	}
}

/* A run key (proto/settings.h) as key=value, with the escapes of kv.h. */
static void s_kv(FILE *f, enum vhs_setting_id id, const char *value)
{
	fprintf(f, "%s=", vhs_setting_name(id));
	for (const char *c = value; *c; c++)
		fputs(*c == '\\' ? "\\\\" : *c == '\n' ? "\\n" : (char[2]){ *c, 0 }, f);
	fputc('\n', f);
}

static void s_kvi(FILE *f, enum vhs_setting_id id, long long value)
{
	fprintf(f, "%s=%lld\n", vhs_setting_name(id), value);
}

/* Threads of a decode or filter worker: the job's, or the cores shared among the stage's
 * workers (one worker: the libraries' own choice, all cores). Audio gets one: its filters
 * thread by channel at most, and on the enhancement chain two threads cost more than they
 * gave (10 min of stereo: 35.9 s CPU and 44.9 s against 29.6 s and 40.3 s with one). */
static int s_threads(const struct run *r, enum vhs_stage_kind kind)
{
	int workers = r->plan.workers[kind];

	if (kind >= VHS_JOB_STAGES || r->job->stages[kind].threads > 0)
		return kind < VHS_JOB_STAGES ? r->job->stages[kind].threads : 0;
	if (kind == VHS_AUDIO)
		return 1;
	if (workers <= 1)
		return 0;
	return r->cores / workers > 1 ? r->cores / workers : 1;
}

/* The CONFIG blob: the job's settings plus what this run adds (segment.*) and what this
 * worker is (worker.*). */
static char *s_settings(const struct run *r, const struct proc *p)
{
	char *job = vhs_job_to_kv(r->job), *text = NULL;
	size_t len = 0;
	FILE *f = job ? open_memstream(&text, &len) : NULL;

	if (!f) {
		free(job);
		return NULL;
	}
	fputs(job, f);
	if (r->job->video.schedule)
		s_kv(f, VHS_SET_VIDEO_SCHEDULE, r->job->video.schedule);
	s_kv(f, VHS_SET_SEGMENT_DIR, r->work_dir);
	if (r->analysis[0])
		s_kv(f, VHS_SET_SEGMENT_AUDIO_ANALYSIS, r->analysis);
	s_kvi(f, VHS_SET_SEGMENT_WARMUP, r->reach.warmup);
	s_kvi(f, VHS_SET_SEGMENT_LOOKAHEAD, r->reach.lookahead);
	s_kvi(f, VHS_SET_SEGMENT_AUDIO_REACH_MS, r->reach.audio_ms);
	s_kvi(f, VHS_SET_SEGMENT_COUNT, r->man.segments_total);
	s_kvi(f, VHS_SET_SEGMENT_FRAMES, (long long)run_done_frames(r));
	s_kvi(f, VHS_SET_SEGMENT_AUDIO, run_segment_exists(r, VHS_SEGMENT_AUDIO, 0));
	s_kvi(f, VHS_SET_WORKER_INSTANCE, p->instance);
	s_kvi(f, VHS_SET_WORKER_THREADS, s_threads(r, p->kind));
	if (r->opts->profiler)
		s_kvi(f, VHS_SET_PROFILE_TRACE, 1);
	if (r->opts->spool_dir && (int)p->kind == r->opts->spool_kind)
		s_kv(f, VHS_SET_PROFILE_SPOOL, r->opts->spool_dir);
	free(job);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

int run_on_hello(struct run *r, struct proc *p)
{
	const struct wiring *w = &r->wiring[p->kind];
	struct vhs_msg m = { .type = VHS_MSG_CONFIG };
	char *kv = s_settings(r, p);
	int ret;

	if (!kv)
		return -ENOMEM;
	m.u.config.n_inputs = (uint8_t)w->n_in;
	for (int i = 0; i < w->n_in; i++)
		m.u.config.inputs[i] = r->edges[w->in_edge[i]].fmt;
	m.u.config.settings = kv;
	m.u.config.settings_len = (uint32_t)strlen(kv);
	ret = run_send(r, p, &m);
	free(kv);
	p->state = P_CONFIGURED;
	return ret;
}

/* Host bytes of a slot: the frame, or on a GPU edge the record naming its device buffer. */
static uint32_t s_host_slot_size(const struct vhs_stream_fmt *f)
{
	return f->memory == VHS_MEMORY_CUDA ? VHS_DEVSLOT_SIZE : f->slot_size;
}

static int s_create_ring(struct run *r, struct edge *e)
{
	char name[VHS_RING_NAME_LEN], what[VHS_RING_FORMAT_LEN];
	bool gpu = e->fmt.memory == VHS_MEMORY_CUDA;
	int ret;

	snprintf(name, sizeof(name), "/vhs-%ld-%s", (long)getpid(), e->plan.name);
	if (e->fmt.media == VHS_MEDIA_VIDEO)
		snprintf(what, sizeof(what), "%s %s %dx%d", gpu ? "cuda" : "video", e->fmt.fmt,
			 e->fmt.width, e->fmt.height);
	else
		snprintf(what, sizeof(what), "audio %s %d Hz %d ch", e->fmt.fmt, e->fmt.sample_rate, e->fmt.channels);
	ret = vhs_ring_create(&e->ring, name, e->plan.slots, s_host_slot_size(&e->fmt), what);
	if (ret)
		return ret;
	if (gpu)
		vhs_ring_set_flags(&e->ring, VHS_RING_DEVICE);
	return vhs_ledger_init(&e->slots, e->plan.slots, e->plan.quota);
}

static int s_attach(struct run *r, struct proc *p)
{
	const struct wiring *w = &r->wiring[p->kind];
	struct vhs_msg a = { .type = VHS_MSG_ATTACH };

	for (int i = 0; i < w->n_out; i++)
		snprintf(a.u.attach.outputs[i], VHS_RING_NAME_LEN, "%s", r->edges[w->out_edge[i]].ring.name);
	for (int i = 0; i < w->n_in; i++)
		snprintf(a.u.attach.inputs[i], VHS_RING_NAME_LEN, "%s", r->edges[w->in_edge[i]].ring.name);
	a.u.attach.n_inputs = (uint8_t)w->n_in;
	a.u.attach.n_outputs = (uint8_t)w->n_out;
	a.u.attach.segments = (uint16_t)r->plan.open[p->kind];
	p->state = P_ATTACHED;
	return run_send(r, p, &a);
}

/* A "Key: N kB" line of a /proc/PID file, in bytes; 0 if it cannot be read. */
static uint64_t s_proc_kb(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kb * 1024;
}

/* Resident memory of a process in bytes: its proportional share (Pss, so the libraries
 * all stages map are not counted once per process), or its RSS where smaps_rollup is
 * missing; 0 if neither can be read. */
static uint64_t s_resident(pid_t pid)
{
	uint64_t pss = s_proc_kb(pid, "smaps_rollup", "Pss");

	return pss ? pss : s_proc_kb(pid, "status", "VmRSS");
}

/* Physical memory in bytes (for max_memory "auto" and percentages). */
static uint64_t s_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* The costs of the plan: slot sizes, each stage's first worker as measured now, and the
 * working set per segment from its largest edge's slot size. */
static void s_costs(struct run *r, struct vhs_plan_costs *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < r->n_edges; i++) {
		const struct edge *e = &r->edges[i];
		uint64_t frames[2] = { (uint64_t)s_working_frames[e->plan.from] * e->fmt.slot_size,
				       (uint64_t)s_working_frames[e->plan.to] * e->fmt.slot_size };

		c->slot_size[i] = s_host_slot_size(&e->fmt);
		c->per_segment[e->plan.from] = frames[0] > c->per_segment[e->plan.from] ? frames[0]
						: c->per_segment[e->plan.from];
		if (e->plan.to == VHS_ENCODE && e->plan.to_port == 0)
			c->per_segment[VHS_ENCODE] = frames[1];
	}
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			c->base[k] = s_resident(r->procs[r->base[k]].pid);
}

/* Lays procs[] out again for the plan's (reduced) worker counts, keeping each stage's
 * first worker, which is running already. */
static int s_relayout_procs(struct run *r)
{
	struct proc first[VHS_STAGE_KINDS];
	int ret;

	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			first[k] = r->procs[r->base[k]];
	free(r->procs);
	vhs_pool_free(&r->pool);
	ret = run_make_procs(r);
	if (!ret)
		ret = vhs_pool_init(&r->pool, r->plan.workers, r->plan.in_flight);
	if (ret)
		return ret;
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			r->procs[r->base[k]] = first[k];
	run_wire(r);
	return 0;
}

/* Checks the plan against [run] max_memory, cutting it down or refusing it (plan.h). */
static int s_fit_memory(struct run *r)
{
	struct vhs_plan_costs c;
	bool is_auto[VHS_STAGE_KINDS] = { false };
	uint64_t budget = 0, rings, procs, need;
	char msg[512];
	int ret;

	vhs_job_memory_bytes(r->job->run.max_memory ? r->job->run.max_memory : "auto", s_ram(), &budget);
	for (int k = 0; k < VHS_JOB_STAGES; k++)
		is_auto[k] = r->job->stages[k].workers == 0;
	s_costs(r, &c);
	ret = vhs_plan_fit(&r->plan, is_auto, &c, budget, msg, sizeof(msg));
	if (ret < 0) {
		run_fail(r, VHS_EXIT_JOB, "%s", msg);
		return 0;
	}
	if (ret > 0) {
		fprintf(stderr, "vhs-orchestrate: warning: %s\n", msg);
		ret = s_relayout_procs(r);
	}
	need = vhs_plan_memory(&r->plan, &c, &rings, &procs);
	if (r->plan.width > 1 && !r->announced) {
		fprintf(stderr, "vhs-orchestrate: workers: decode %d, preprocess %d, upscale %d, audio %d, "
			"encode %d on %d cores; memory about %.0f MiB of %.0f MiB allowed\n",
			r->plan.workers[VHS_DECODE], r->plan.workers[VHS_PREPROCESS], r->plan.workers[VHS_UPSCALE],
			r->plan.stages[VHS_AUDIO] ? r->plan.workers[VHS_AUDIO] : 0, r->plan.workers[VHS_ENCODE],
			r->cores, (double)need / 1048576.0, (double)budget / 1048576.0);
		r->announced = true;
	}
	return ret;
}

/* Every stage's first worker declared its outputs, so every ring can be sized: fit the
 * plan to the memory budget, create the rings, attach those workers, and start all the
 * others, which need nothing in order. */
static int s_rings_up(struct run *r)
{
	int ret = r->kind == ATTEMPT_MUX ? 0 : s_fit_memory(r);

	if (ret || run_stopping(r))
		return ret;

	r->gpu_edges = 0;
	for (int i = 0; i < r->n_edges && !ret; i++) {
		struct edge *e = &r->edges[i];

		r->gpu_edges += e->fmt.memory == VHS_MEMORY_CUDA;
		ret = s_create_ring(r, e);
		if (ret) {
			run_fail(r, VHS_EXIT_INTERNAL, "cannot create shared memory for %s (%u x %u bytes): %s",
			       e->plan.name, e->plan.slots, e->fmt.slot_size, strerror(-ret));
			return 0;
		}
	}
	for (int i = 0; i < r->n_procs && !ret; i++) {
		struct proc *p = &r->procs[i];

		if (!r->plan.stages[p->kind])
			continue;
		if (p->state == P_FORMATTED)
			ret = s_attach(r, p);
		else if (p->state == P_NONE && (ret = run_spawn(r, p)))
			run_fail(r, VHS_EXIT_INTERNAL, "cannot start stage %s: %s", p->id, strerror(-ret));
	}
	return ret;
}

/* The formats a worker declares must be those its stage's first worker declared. */
static bool s_same_format(const struct vhs_stream_fmt *a, const struct vhs_stream_fmt *b)
{
	return !memcmp(a, b, sizeof(*a));
}

int run_on_format(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	const struct wiring *w;
	int next;

	if (p->kind == VHS_DECODE && p->instance == 0) {
		run_build_plan(r, m->u.format.n > 1);
		run_wire(r);
	}
	w = &r->wiring[p->kind];
	if (m->u.format.n != w->n_out) {
		run_fail(r, VHS_EXIT_INTERNAL, "stage %s declared %d outputs, the plan has %d",
		       run_proc_name(r, p), m->u.format.n, w->n_out);
		return 0;
	}
	for (int i = 0; i < w->n_out; i++) {
		struct edge *e = &r->edges[w->out_edge[i]];

		if (e->fmt_known && !s_same_format(&e->fmt, &m->u.format.outputs[i])) {
			run_fail(r, VHS_EXIT_INTERNAL, "stage %s declared another format for %s than its "
			       "first worker", run_proc_name(r, p), e->plan.name);
			return 0;
		}
		e->fmt = m->u.format.outputs[i];
		e->fmt_known = true;
	}
	if (p->instance > 0)
		return s_attach(r, p);
	p->state = P_FORMATTED;
	next = run_next_stage(r, (int)p->kind);
	if (next < 0)
		return s_rings_up(r);
	return run_spawn(r, &r->procs[r->base[next]]);
}

static bool s_all_running(const struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (r->plan.stages[r->procs[i].kind] && r->procs[i].state != P_RUNNING)
			return false;
	return true;
}

int run_on_ready(struct run *r, struct proc *p)
{
	p->state = P_RUNNING;
	return s_all_running(r) ? run_event(r, E_FLOW) : 0;
}
