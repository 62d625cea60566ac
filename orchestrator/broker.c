/* broker.c: the descriptor broker (run.h): every record between stages passes here.
 *
 * Slots: a ring has a share of slots per producer worker (plan.h: quota), kept in its
 * ledger (ledger.h): GRANT (FREE -> PRODUCER), FRAME/AUDIO (PRODUCER -> CONSUMER, the record
 * is forwarded), RELEASE (CONSUMER -> FREE, then granted again to the producer whose share
 * it is, unless that one has ended). A record that does not match the ledger is a protocol
 * error.
 *
 * Segments: a segment is given to one worker per stage (pool.h: the least loaded one, at
 * its first marker there) and every record of it is routed to that worker. SEGMENT
 * BEGIN/END markers are routed like FRAME records, in order with them, but own no slot.
 * The plan's in_flight segments are requested at a time (from the least loaded decode
 * worker); encode's DONE goes into the manifest and frees a place; decode's NONE (past the
 * end) and its LAST flag bound the requests. EOS on an edge reaches the consumer workers
 * when every producer worker has sent its own.
 */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "devpool.h"
#include "exitcode.h"

/* GPU edges: a producer worker frees its device buffers only once every consumer process
 * of the edge has exited, its CUDA IPC handles closed with it (shm/devpool.h). DETACHED
 * tells it so, when the edge's work is over (the producers are done, or the attempt is
 * ending) and no consumer is alive. */
void run_detach_exporters(struct run *r)
{
	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];
		int from = r->base[e->plan.from], to = r->base[e->plan.to];
		bool producing = false, consumers = false;

		if (!e->fmt_known || e->fmt.memory != VHS_MEMORY_CUDA || e->detached)
			continue;
		for (int w = 0; w < r->plan.workers[e->plan.to]; w++)
			consumers |= run_live(&r->procs[to + w]);
		for (int w = 0; w < r->plan.workers[e->plan.from]; w++)
			producing |= run_live(&r->procs[from + w]) && !r->procs[from + w].done;
		if (consumers || (producing && !run_stopping(r)))
			continue;
		for (int w = 0; w < r->plan.workers[e->plan.from]; w++) {
			struct proc *p = &r->procs[from + w];
			struct vhs_msg m = { .type = VHS_MSG_DETACHED };

			m.u.detached.port = (uint8_t)e->plan.from_port;
			if (run_live(p))
				run_send(r, p, &m);
		}
		e->detached = true;
	}
}

/* The process a slot of e is given to: the producer worker whose share it is. */
static struct proc *s_slot_producer(struct run *r, const struct edge *e, uint32_t slot)
{
	return &r->procs[r->base[e->plan.from] + vhs_ledger_producer(&e->slots, slot)];
}

static int s_grant(struct run *r, struct edge *e, uint32_t slot)
{
	struct proc *p = s_slot_producer(r, e, slot);
	struct vhs_msg m = { .type = VHS_MSG_GRANT };
	int ret;

	m.u.grant.port = (uint8_t)e->plan.from_port;
	m.u.grant.slot = slot;
	ret = run_send(r, p, &m);
	/* The producer may have ended and gone before its EOS was read here (the ROUTER reads
	 * peers fairly, not in global order): the slot then rests, free. */
	if (ret == 0 && vhs_ledger_grant(&e->slots, slot, (int)(p - r->procs)))
		return -EINVAL; /* granted twice: the broker's own mistake */
	return ret == -EHOSTUNREACH ? 0 : ret;
}

/* The worker of kind that holds f, chosen at the segment's first record there: the least
 * loaded, then the one with the fewest input slots in hand (pool.h). */
static struct proc *s_holder(struct run *r, struct vhs_flight *f, enum vhs_stage_kind kind)
{
	uint32_t *backlog = NULL;
	int i;

	if (f->worker[kind] == VHS_POOL_NONE && r->plan.workers[kind] > 1 &&
	    (backlog = calloc((size_t)r->plan.workers[kind], sizeof(*backlog)))) {
		for (int k = 0; k < r->wiring[kind].n_in; k++)
			vhs_ledger_backlog(&r->edges[r->wiring[kind].in_edge[k]].slots, r->base[kind],
					   r->plan.workers[kind], backlog);
	}
	i = vhs_pool_holder(&r->pool, f, kind, backlog);
	free(backlog);
	return &r->procs[r->base[kind] + i];
}

/* Asks for the next segments not done yet, up to the plan's in_flight, each from the
 * decode worker holding the fewest; when every segment is asked for, the attempt is CLOSED. */
static int s_request_more(struct run *r)
{
	int ret = 0;

	while (!ret && r->state == A_FLOWING && r->pool.n < r->plan.in_flight) {
		struct vhs_msg m = { .type = VHS_MSG_SEGMENT };
		uint32_t k = r->next_request;
		struct vhs_flight *f;

		while (vhs_manifest_has(&r->man, k))
			k++;
		if (r->man.segments_total && k >= r->man.segments_total)
			return run_event(r, E_ALL_ASKED);
		if (k >= r->past_end)
			return 0; /* past the end; the segment flagged LAST is still being made */
		f = vhs_pool_start(&r->pool, k);
		if (!f)
			return -EPROTO;
		m.u.segment.phase = VHS_SEG_REQUEST;
		m.u.segment.index = k;
		ret = run_send(r, s_holder(r, f, VHS_DECODE), &m);
		r->next_request = k + 1;
	}
	return ret;
}

/* Everything is up (the attempt entered FLOWING): hand every slot to its producer, ask for
 * segments, start the progress display. A mux attempt has nothing to ask for. */
int run_start_flow(struct run *r)
{
	const struct vhs_stream_fmt *out;
	double fps, total;
	int ret = 0;

	if (r->kind == ATTEMPT_MUX)
		return run_event(r, E_ALL_ASKED);
	out = &r->edges[r->wiring[VHS_ENCODE].in_edge[0]].fmt;
	fps = out->fr_den ? (double)out->fr_num / out->fr_den : 0;
	total = out->duration_us > 0 && fps > 0 ? (double)out->duration_us / 1e6 * fps : 0;
	for (int i = 0; i < r->n_edges && !ret; i++)
		for (uint32_t s = 0; s < r->edges[i].plan.slots && !ret; s++)
			ret = s_grant(r, &r->edges[i], s);
	if (!r->progress_started)
		vhs_progress_start(&r->progress, r->opts->progress, r->opts->verbose, total, fps);
	r->progress_started = true;
	return ret ? ret : s_request_more(r);
}

static bool s_slot_ok(struct run *r, struct proc *p, struct edge *e, uint32_t slot,
		      enum vhs_slot_owner expect, const char *what)
{
	if (vhs_ledger_holds(&e->slots, slot, expect, (int)(p - r->procs)))
		return true;
	run_fail(r, VHS_EXIT_INTERNAL, "protocol error: stage %s sent %s for slot %u of %s, which it does not own",
	       run_proc_name(r, p), what, slot, e->plan.name);
	return false;
}

/* The worker of e's consumer stage that holds segment index (given it at the segment's
 * first marker there), or NULL when the segment is not in flight there: a protocol error. */
static struct proc *s_consumer(struct run *r, const struct edge *e, uint32_t index, bool assign)
{
	struct vhs_flight *f = vhs_pool_find(&r->pool, index);

	if (!f || (!assign && f->worker[e->plan.to] == VHS_POOL_NONE))
		return NULL;
	return s_holder(r, f, e->plan.to);
}

/* FRAME or AUDIO from a producer: the slot moves to the worker holding its segment. */
static int s_on_data(struct run *r, struct proc *p, struct vhs_msg *m)
{
	uint8_t *port = m->type == VHS_MSG_FRAME ? &m->u.frame.port : &m->u.audio.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;
	uint32_t index = m->type == VHS_MSG_FRAME ? m->u.frame.segment : m->u.audio.segment;
	struct edge *e;
	struct proc *to;

	if (*port >= r->wiring[p->kind].n_out)
		return -EPROTO;
	e = &r->edges[r->wiring[p->kind].out_edge[*port]];
	if (!s_slot_ok(r, p, e, slot, VHS_SLOT_PRODUCER, vhs_proto_type_name(m->type)))
		return 0;
	to = s_consumer(r, e, index, false);
	if (!to)
		return -EPROTO;
	vhs_ledger_pass(&e->slots, slot, (int)(to - r->procs));
	run_span(r, p->kind, e->plan.to);
	p->sent[*port]++;
	p->bytes_sent += m->type == VHS_MSG_FRAME ? m->u.frame.bytes : m->u.audio.bytes;
	to->received[e->plan.to_port]++;
	if (e->plan.to == VHS_ENCODE && e->plan.to_port == 0) {
		r->frames_out++;
		r->seg_frames++;
		if (r->crash_ns) { /* the first frame out again since a crash */
			r->recovery_ns += vhs_now_ns() - r->crash_ns;
			r->recoveries++;
			r->crash_ns = 0;
		}
	}
	*port = (uint8_t)e->plan.to_port;
	return run_send(r, to, m);
}

/* RELEASE from a consumer: the slot goes back to the producer whose share it is, or rests
 * if that one ended. */
static int s_on_release(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	struct edge *e;
	struct proc *producer;

	if (m->u.grant.port >= r->wiring[p->kind].n_in)
		return -EPROTO;
	e = &r->edges[r->wiring[p->kind].in_edge[m->u.grant.port]];
	if (!s_slot_ok(r, p, e, m->u.grant.slot, VHS_SLOT_CONSUMER, "RELEASE"))
		return 0;
	vhs_ledger_release(&e->slots, m->u.grant.slot);
	producer = s_slot_producer(r, e, m->u.grant.slot);
	if (producer->ended[e->plan.from_port] || producer->exited || run_stopping(r))
		return 0;
	return s_grant(r, e, m->u.grant.slot);
}

/* EOS from a producer worker; when the last of them ended, every consumer worker gets it. */
static int s_on_eos(struct run *r, struct proc *p, struct vhs_msg *m)
{
	struct vhs_msg out = { .type = VHS_MSG_EOS };
	struct edge *e;
	int ret = 0;

	if (m->u.eos.port >= r->wiring[p->kind].n_out)
		return -EPROTO;
	e = &r->edges[r->wiring[p->kind].out_edge[m->u.eos.port]];
	if (m->u.eos.count != p->sent[m->u.eos.port]) {
		run_fail(r, VHS_EXIT_INTERNAL, "protocol error: %s says it sent %llu records on %s, %llu arrived",
		       run_proc_name(r, p), (unsigned long long)m->u.eos.count, e->plan.name,
		       (unsigned long long)p->sent[m->u.eos.port]);
		return 0;
	}
	p->ended[m->u.eos.port] = true;
	for (int i = 0; i < r->plan.workers[e->plan.from]; i++)
		if (!r->procs[r->base[e->plan.from] + i].ended[e->plan.from_port])
			return 0;
	out.u.eos.port = (uint8_t)e->plan.to_port;
	for (int i = 0; i < r->plan.workers[e->plan.to] && !ret; i++) {
		struct proc *to = &r->procs[r->base[e->plan.to] + i];

		out.u.eos.count = to->received[e->plan.to_port];
		ret = run_send(r, to, &out);
	}
	return ret;
}

/* encode committed a segment: into the manifest, which is replaced atomically. */
static int s_on_segment_done(struct run *r, const struct vhs_segment *sg)
{
	struct vhs_manifest_segment ms = { .index = sg->index, .frames = (int64_t)sg->frames,
					   .samples = (int64_t)sg->samples, .bytes = sg->bytes };
	struct vhs_flight *f = vhs_pool_find(&r->pool, sg->index);
	int ret;

	if (!f)
		return -EPROTO;
	vhs_pool_finish(&r->pool, f);
	vhs_segment_file_name(ms.file, sizeof(ms.file), VHS_SEGMENT_VIDEO, sg->index);
	if (sg->flags & VHS_SEG_LAST)
		r->man.segments_total = sg->index + 1;
	ret = vhs_manifest_add(&r->man, &ms);
	if (!ret)
		ret = vhs_manifest_save(&r->man, r->work_dir, VHS_FILE_MANIFEST);
	if (ret) {
		run_fail(r, VHS_EXIT_OUTPUT, "cannot write the manifest in '%s': %s", r->work_dir, strerror(-ret));
		return 0;
	}
	r->made++;
	r->seg_frames -= sg->frames < r->seg_frames ? sg->frames : r->seg_frames;
	ret = s_request_more(r);
	return ret == -EHOSTUNREACH ? 0 : ret;
}

/* decode found the input ends before a segment it was asked for. */
static int s_on_segment_none(struct run *r, const struct vhs_segment *sg)
{
	struct vhs_flight *f = vhs_pool_find(&r->pool, sg->index);
	int ret;

	if (!f || sg->index == 0)
		return -EPROTO;
	vhs_pool_finish(&r->pool, f);
	r->past_end = sg->index < r->past_end ? sg->index : r->past_end;
	ret = s_request_more(r);
	return ret == -EHOSTUNREACH ? 0 : ret;
}

/* SEGMENT: BEGIN/END markers are routed like data, to the worker holding the segment at
 * the next stage (chosen at its first marker there); encode's DONE is recorded; decode's
 * NONE and LAST bound the requests. */
static int s_on_segment(struct run *r, struct proc *p, struct vhs_msg *m)
{
	struct vhs_segment *sg = &m->u.segment;
	const struct wiring *w = &r->wiring[p->kind];
	struct edge *e;
	struct proc *to;

	if (sg->phase == VHS_SEG_DONE)
		return p->kind == VHS_ENCODE ? s_on_segment_done(r, sg) : -EPROTO;
	if (sg->phase == VHS_SEG_NONE)
		return p->kind == VHS_DECODE ? s_on_segment_none(r, sg) : -EPROTO;
	if ((sg->phase != VHS_SEG_BEGIN && sg->phase != VHS_SEG_END) || sg->port >= w->n_out)
		return -EPROTO;
	e = &r->edges[w->out_edge[sg->port]];
	to = s_consumer(r, e, sg->index, sg->phase == VHS_SEG_BEGIN);
	if (!to)
		return -EPROTO;
	if (sg->phase == VHS_SEG_END) {
		struct vhs_flight *f = vhs_pool_find(&r->pool, sg->index);

		vhs_pool_end(&r->pool, f, p->kind, w->n_out);
		vhs_pool_end_in(&r->pool, f, e->plan.to, r->wiring[e->plan.to].n_in);
	}
	if (p->kind == VHS_DECODE && sg->port == 0 && sg->phase == VHS_SEG_BEGIN &&
	    (sg->flags & VHS_SEG_LAST)) {
		int ret = run_event(r, E_ALL_ASKED); /* decode workers end after what they hold */

		r->man.segments_total = sg->index + 1;
		if (ret && ret != -EHOSTUNREACH)
			return ret;
	}
	sg->port = (uint8_t)e->plan.to_port;
	return run_send(r, to, m);
}

static int s_on_error(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	static const int codes[] = {
		[VHS_ERR_INTERNAL] = VHS_EXIT_STAGE, [VHS_ERR_INPUT] = VHS_EXIT_INPUT,
		[VHS_ERR_OUTPUT] = VHS_EXIT_OUTPUT,  [VHS_ERR_CONFIG] = VHS_EXIT_JOB,
	};

	if (!r->exit_code)
		snprintf(r->failed_id, sizeof(r->failed_id), "%s", p->id);
	/* the mux's own failure (not the disk's) comes again on the same segments */
	if (!r->exit_code && r->kind == ATTEMPT_MUX && m->u.error.cls == VHS_ERR_INTERNAL)
		r->resume_futile = true;
	run_fail(r, codes[m->u.error.cls], "%s: %s", vhs_stage_name(p->kind), m->u.error.text);
	return 0;
}

/* Which record a stage may send in which state: start-up records one at a time. */
static int s_dispatch(struct run *r, struct proc *p, struct vhs_msg *m)
{
	bool running = p->state == P_RUNNING;

	if (run_stopping(r) && m->type != VHS_MSG_ERROR && m->type != VHS_MSG_STATS)
		return 0; /* stopping: nothing starts and nothing moves any more */
	switch (m->type) {
	case VHS_MSG_HELLO:
		return p->state == P_SPAWNED ? run_on_hello(r, p) : -EPROTO;
	case VHS_MSG_FORMAT:
		return p->state == P_CONFIGURED ? run_on_format(r, p, m) : -EPROTO;
	case VHS_MSG_READY:
		return p->state == P_ATTACHED ? run_on_ready(r, p) : -EPROTO;
	case VHS_MSG_ERROR:
		return s_on_error(r, p, m);
	case VHS_MSG_STATS:
		p->stats = m->u.stats;
		return 0;
	case VHS_MSG_TRACE:
		return p->prof && vhs_profiler_trace(p->prof, &m->u.trace) ? -ENOMEM : 0;
	}
	if (!running || !run_flowing(r))
		return -EPROTO;
	r->moved_ns = vhs_now_ns();
	switch (m->type) {
	case VHS_MSG_FRAME:
	case VHS_MSG_AUDIO:
		return s_on_data(r, p, m);
	case VHS_MSG_RELEASE:
		return s_on_release(r, p, m);
	case VHS_MSG_EOS:
		return s_on_eos(r, p, m);
	case VHS_MSG_SEGMENT:
		return s_on_segment(r, p, m);
	case VHS_MSG_DONE:
		p->done = true;
		return 0;
	default:
		return -EPROTO;
	}
}

void run_on_message(struct run *r)
{
	char id[64];
	uint8_t buf[VHS_MSG_MAX];
	struct vhs_msg m;
	struct proc *p;
	int idlen, len, more = 0, ret;
	size_t moresz = sizeof(more);

	idlen = zmq_recv(r->router, id, sizeof(id), ZMQ_DONTWAIT);
	if (idlen < 0)
		return;
	zmq_getsockopt(r->router, ZMQ_RCVMORE, &more, &moresz);
	if (!more)
		return;
	len = zmq_recv(r->router, buf, sizeof(buf), 0);
	p = run_find(r, id, (size_t)(idlen < (int)sizeof(id) ? idlen : (int)sizeof(id)));
	if (!p || len < 0)
		return; /* not one of ours (or a stage already forgotten) */
	p->heard_ns = vhs_now_ns();
	p->cpu_ticks = 0; /* a silent spell starts with a fresh CPU sample */
	ret = len > (int)sizeof(buf) ? -EPROTO : vhs_proto_unpack(&m, buf, (size_t)len);
	if (!ret)
		ret = s_dispatch(r, p, &m);
	if (ret == -EPROTO)
		run_fail(r, VHS_EXIT_INTERNAL, "protocol error from stage %s (%s record out of place or malformed)",
		       run_proc_name(r, p), vhs_proto_type_name(len >= 2 ? buf[1] : 0));
	else if (ret == -EHOSTUNREACH)
		; /* a peer that left: its exit is judged by run_check_exits, with the real cause */
	else if (ret < 0)
		run_fail(r, VHS_EXIT_INTERNAL, "routing a record of stage %s: %s", run_proc_name(r, p), strerror(-ret));
}

/* Nothing moved for a minute: name an edge where consumers hold every slot of a
 * producer worker that has not ended. */
void run_fail_stalled(struct run *r)
{
	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];

		for (int w = 0; w < r->plan.workers[e->plan.from]; w++) {
			if (!vhs_ledger_share_held(&e->slots, w) ||
			    r->procs[r->base[e->plan.from] + w].ended[e->plan.from_port])
				continue;
			run_fail(r, VHS_EXIT_STAGE, "pipeline stalled: %s holds all %u slots of %s; its filters "
				 "keep more frames than that (raise [run] ring_slots)",
				 vhs_stage_name(e->plan.to), e->plan.quota, e->plan.name);
			return;
		}
	}
	run_fail(r, VHS_EXIT_STAGE, "pipeline stalled: no frame moved for %llu s", STALL_NS / 1000000000ull);
}
