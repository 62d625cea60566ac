/* replay.c: the isolated stage run of profile --stage (see replay.h). */
#include "replay.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "dirs.h"
#include "exitcode.h"
#include "progress.h"
#include "proto.h"
#include "recording.h"
#include "ring.h"
#include "settings.h"
#include "stageproc.h"

#define MAX_WORKERS 64
#define VIDEO_SLOTS 8
#define AUDIO_SLOTS 16
#define FEED_BURST 64                           /* spool entries given per loop turn, at most */
#define TIMEOUT_NS (600ull * 1000000000ull)     /* a replay that moves nothing this long */

enum wstate { W_SPAWNED, W_CONFIGURED, W_ATTACHED, W_RUNNING, W_DONE };

/* A spool entry read up to its data: the record, and how many data bytes follow it. */
struct entry {
	struct vhs_msg m;
	uint32_t data_len;
	bool held;                    /* read, waiting for a free slot */
};

struct port {
	struct vhs_stream_fmt fmt;
	struct vhs_ring ring;
	uint32_t *free;               /* input ports: slots the replay may fill, a stack */
	uint32_t n_free;
};

struct worker {
	char id[VHS_NAME_LEN + 16];   /* routing id, "upscale.0" */
	pid_t pid;
	enum wstate state;
	bool exited;
	int status;
	struct rusage ru;
	FILE *spool;
	char *config_blob;            /* the recorded CONFIG's settings, rewritten */
	struct vhs_msg config;        /* the recorded CONFIG (settings: config_blob) */
	uint16_t segments;            /* the recorded ATTACH's */
	struct entry next;            /* the spool's next entry */
	bool spool_done;
	struct port in[VHS_MAX_PORTS], out[VHS_MAX_PORTS];
	int n_in, n_out;
	uint64_t fed;                 /* records given on input port 0 (source: frames sent) */
	uint32_t next_request;        /* source: the next segment to ask for */
	bool requests_done;
	struct vhs_stats stats;
	struct vhs_prof_instance *prof;
};

struct replay {
	const struct vhs_replay_opts *o;
	struct vhs_profiler *prof;
	struct worker w[MAX_WORKERS];
	int n;
	struct vhs_session ses;       /* run dir, signals, ZeroMQ context (stageproc.h) */
	void *router;
	uint64_t first_ns, end_ns, moved_ns;
	char *err;
	size_t errlen;
	int code;                     /* first failure's exit code, 0 while none */
};

static void s_fail(struct replay *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_fail(struct replay *r, int code, const char *fmt, ...)
{
	va_list ap;

	if (r->code)
		return;
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	for (int i = 0; i < r->n; i++)
		if (!r->w[i].exited)
			kill(r->w[i].pid, SIGKILL);
}

static int s_send(struct replay *r, struct worker *w, const struct vhs_msg *m)
{
	uint8_t small[VHS_MSG_MAX], *buf = small;
	size_t cap = m->type == VHS_MSG_CONFIG ? vhs_proto_config_size(m->u.config.settings_len) : sizeof(small);
	int n;

	if (cap > sizeof(small) && !(buf = malloc(cap)))
		return -ENOMEM;
	n = vhs_proto_pack(m, buf, cap);
	if (n >= 0 && (zmq_send(r->router, w->id, strlen(w->id), ZMQ_SNDMORE) < 0 ||
		       zmq_send(r->router, buf, (size_t)n, 0) < 0))
		n = -errno;
	if (buf != small)
		free(buf);
	return n < 0 ? n : 0;
}

/* ---- the spool ---- */

/* Reads the next entry of the recording up to its data (proto/recording.h). */
static int s_read_entry(FILE *f, struct entry *e, uint8_t **blob)
{
	return vhs_recording_read(f, &e->m, &e->data_len, blob);
}

/* Whether the CONFIG line l sets key id. */
static bool s_is_key(const char *l, enum vhs_setting_id id)
{
	size_t n = strlen(vhs_setting_name(id));

	return !strncmp(l, vhs_setting_name(id), n) && l[n] == '=';
}

/* Drops the keys the replay sets itself and adds its own. */
static char *s_rewrite_settings(const char *blob, const char *scratch)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (const char *l = blob; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l + 1) : strlen(l);

		if (!s_is_key(l, VHS_SET_PROFILE_SPOOL) && !s_is_key(l, VHS_SET_SEGMENT_DIR))
			fwrite(l, 1, n, f);
		l += n;
	}
	fprintf(f, "%s=%s\n%s=1\n", vhs_setting_name(VHS_SET_SEGMENT_DIR), scratch,
		vhs_setting_name(VHS_SET_PROFILE_TRACE));
	return fclose(f) ? (free(out), NULL) : out;
}

/* Opens worker i's spool: its CONFIG and ATTACH. */
static int s_open_spool(struct replay *r, struct worker *w, int i)
{
	char path[PATH_MAX + 32], name[32];
	uint8_t *blob = NULL;
	struct entry e = { 0 };

	vhs_recording_name(name, sizeof(name), (unsigned)i);
	snprintf(path, sizeof(path), "%s/%s", r->o->spool_dir, name);
	w->spool = fopen(path, "r");
	if (!w->spool)
		return s_fail(r, VHS_EXIT_INTERNAL, "no recording of %s: '%s': %s", w->id, path, strerror(errno)), -1;
	if (s_read_entry(w->spool, &e, &blob) != 1 || e.m.type != VHS_MSG_CONFIG || e.data_len) {
		free(blob);
		return s_fail(r, VHS_EXIT_INTERNAL, "recording '%s' is damaged (no CONFIG)", path), -1;
	}
	w->config = e.m;
	w->config_blob = s_rewrite_settings(e.m.u.config.settings, r->o->scratch_dir);
	free(blob);
	w->config.u.config.settings = w->config_blob;
	w->config.u.config.settings_len = w->config_blob ? (uint32_t)strlen(w->config_blob) : 0;
	w->n_in = w->config.u.config.n_inputs;
	for (int p = 0; p < w->n_in; p++) { /* a recorded GPU edge was recorded from host memory */
		w->config.u.config.inputs[p].memory = VHS_MEMORY_HOST;
		w->in[p].fmt = w->config.u.config.inputs[p];
	}
	if (s_read_entry(w->spool, &e, NULL) != 1 || e.m.type != VHS_MSG_ATTACH || !w->config_blob)
		return s_fail(r, VHS_EXIT_INTERNAL, "recording '%s' is damaged (no ATTACH)", path), -1;
	w->segments = e.m.u.attach.segments;
	return 0;
}

/* ---- workers ---- */

static int s_spawn(struct replay *r, struct worker *w, int i)
{
	w->pid = vhs_stage_spawn(r->o->stage_dir, vhs_stage_name(r->o->kind), r->ses.endpoint, i, -1);
	return w->pid < 0 ? (int)w->pid : 0;
}

static int s_ring(struct replay *r, struct worker *w, struct port *p, const char *dir, int i, bool input)
{
	char name[VHS_RING_NAME_LEN];
	uint32_t slots = p->fmt.media == VHS_MEDIA_AUDIO ? AUDIO_SLOTS : VIDEO_SLOTS;
	int ret;

	snprintf(name, sizeof(name), "/vhs-%ld-r%d%s%d", (long)getpid(), (int)(w - r->w), dir, i);
	ret = vhs_ring_create(&p->ring, name, slots, p->fmt.slot_size, "replay");
	if (ret || !input)
		return ret;
	p->free = malloc(slots * sizeof(*p->free));
	if (!p->free)
		return -ENOMEM;
	for (uint32_t s = 0; s < slots; s++)
		p->free[p->n_free++] = slots - 1 - s;
	return 0;
}

/* FORMAT: the worker's outputs are known: every ring is made and it is attached. */
static int s_on_format(struct replay *r, struct worker *w, const struct vhs_msg *m)
{
	struct vhs_msg a = { .type = VHS_MSG_ATTACH };
	int ret = 0;

	w->n_out = m->u.format.n;
	for (int i = 0; i < w->n_out && !ret; i++) {
		w->out[i].fmt = m->u.format.outputs[i];
		w->out[i].fmt.memory = VHS_MEMORY_HOST;
		if (m->u.format.outputs[i].memory == VHS_MEMORY_CUDA)
			return s_fail(r, VHS_EXIT_INTERNAL, "%s offers a GPU edge; replay it with run.gpu_edges = \"off\"",
				      w->id), -1;
		ret = s_ring(r, w, &w->out[i], "o", i, false);
		snprintf(a.u.attach.outputs[i], VHS_RING_NAME_LEN, "%s", w->out[i].ring.name);
	}
	for (int i = 0; i < w->n_in && !ret; i++) {
		ret = s_ring(r, w, &w->in[i], "i", i, true);
		snprintf(a.u.attach.inputs[i], VHS_RING_NAME_LEN, "%s", w->in[i].ring.name);
	}
	if (ret)
		return ret;
	a.u.attach.n_inputs = (uint8_t)w->n_in;
	a.u.attach.n_outputs = (uint8_t)w->n_out;
	a.u.attach.segments = w->segments ? w->segments : 1;
	w->state = W_ATTACHED;
	return s_send(r, w, &a);
}

/* A source asks for segments in turn: the next one, or EOS when there are no more. */
static int s_request(struct replay *r, struct worker *w)
{
	struct vhs_msg m = { .type = VHS_MSG_SEGMENT };

	if (w->requests_done) {
		m = (struct vhs_msg){ .type = VHS_MSG_EOS };
		return s_send(r, w, &m);
	}
	m.u.segment.phase = VHS_SEG_REQUEST;
	m.u.segment.index = w->next_request++;
	return s_send(r, w, &m);
}

/* READY: every output slot is the worker's; a source gets its first requests. */
static int s_on_ready(struct replay *r, struct worker *w)
{
	struct vhs_msg g = { .type = VHS_MSG_GRANT };
	int ret = 0;

	w->state = W_RUNNING;
	for (int i = 0; i < w->n_out && !ret; i++)
		for (uint32_t s = 0; s < w->out[i].ring.slot_count && !ret; s++) {
			g.u.grant.port = (uint8_t)i;
			g.u.grant.slot = s;
			ret = s_send(r, w, &g);
		}
	if (!r->first_ns)
		r->first_ns = vhs_now_ns();
	for (int i = 0; !w->n_in && i < (w->segments ? w->segments : 1) && !ret; i++)
		ret = s_request(r, w);
	return ret;
}

/* A record the worker sent on an output: dropped at once, its slot granted back. */
static int s_on_output(struct replay *r, struct worker *w, struct vhs_msg *m)
{
	struct vhs_msg g = { .type = VHS_MSG_GRANT };
	uint8_t port = m->type == VHS_MSG_FRAME ? m->u.frame.port : m->u.audio.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;

	if (port >= w->n_out || slot >= w->out[port].ring.slot_count)
		return -EPROTO;
	w->fed += !w->n_in && port == 0;
	g.u.grant.port = port;
	g.u.grant.slot = slot;
	return s_send(r, w, &g);
}

/* A source's segment markers pace the requests: a segment done, the next asked for. */
static int s_on_segment(struct replay *r, struct worker *w, const struct vhs_msg *m)
{
	const struct vhs_segment *s = &m->u.segment;

	if (w->n_in || !(s->phase == VHS_SEG_NONE || (s->phase == VHS_SEG_END && s->port == 0)))
		return 0; /* a sink's DONE, a filter's markers: nothing waits for them */
	if (s->phase == VHS_SEG_NONE || (s->flags & VHS_SEG_LAST))
		w->requests_done = true;
	return s_request(r, w);
}

static int s_dispatch(struct replay *r, struct worker *w, struct vhs_msg *m)
{
	switch (m->type) {
	case VHS_MSG_HELLO:
		w->state = W_CONFIGURED;
		return s_send(r, w, &w->config);
	case VHS_MSG_FORMAT:
		return s_on_format(r, w, m);
	case VHS_MSG_READY:
		return s_on_ready(r, w);
	case VHS_MSG_FRAME:
	case VHS_MSG_AUDIO:
		return s_on_output(r, w, m);
	case VHS_MSG_RELEASE:
		if (m->u.grant.port >= w->n_in || w->in[m->u.grant.port].n_free >= w->in[m->u.grant.port].ring.slot_count)
			return -EPROTO;
		w->in[m->u.grant.port].free[w->in[m->u.grant.port].n_free++] = m->u.grant.slot;
		return 0;
	case VHS_MSG_SEGMENT:
		return s_on_segment(r, w, m);
	case VHS_MSG_STATS:
		w->stats = m->u.stats;
		return 0;
	case VHS_MSG_TRACE:
		return w->prof ? vhs_profiler_trace(w->prof, &m->u.trace) : 0;
	case VHS_MSG_ERROR:
		s_fail(r, m->u.error.cls == VHS_ERR_OUTPUT ? VHS_EXIT_OUTPUT : VHS_EXIT_STAGE, "stage %s (isolated): %s",
		       w->id, m->u.error.text);
		return 0;
	case VHS_MSG_DONE:
		w->state = W_DONE;
		r->end_ns = vhs_now_ns();
		return 0;
	default: /* EOS of its outputs */
		return 0;
	}
}

static void s_on_message(struct replay *r)
{
	char id[64];
	uint8_t buf[VHS_MSG_MAX];
	struct vhs_msg m;
	int idlen, len, more = 0, ret = -EPROTO;
	size_t moresz = sizeof(more);

	idlen = zmq_recv(r->router, id, sizeof(id) - 1, ZMQ_DONTWAIT);
	if (idlen < 0)
		return;
	zmq_getsockopt(r->router, ZMQ_RCVMORE, &more, &moresz);
	if (!more)
		return;
	len = zmq_recv(r->router, buf, sizeof(buf), 0);
	id[idlen < (int)sizeof(id) - 1 ? idlen : (int)sizeof(id) - 1] = '\0';
	for (int i = 0; i < r->n; i++) {
		if (strcmp(r->w[i].id, id))
			continue;
		r->moved_ns = vhs_now_ns();
		if (len > 0 && len <= (int)sizeof(buf) && !vhs_proto_unpack(&m, buf, (size_t)len))
			ret = s_dispatch(r, &r->w[i], &m);
		if (ret < 0)
			s_fail(r, VHS_EXIT_INTERNAL, "isolated run: %s record of %s: %s",
			       vhs_proto_type_name(len >= 2 ? buf[1] : 0), id, strerror(-ret));
	}
}

/* Gives worker w what its spool holds next, as long as input slots are free. */
static int s_feed(struct replay *r, struct worker *w)
{
	for (int n = 0; n < FEED_BURST && !w->spool_done; n++) {
		struct entry *e = &w->next;
		uint8_t port, *slot_data;
		uint32_t slot;
		int ret;

		if (!e->held) {
			ret = s_read_entry(w->spool, e, NULL);
			if (ret <= 0) {
				w->spool_done = true;
				return ret;
			}
			e->held = true;
		}
		if (e->m.type == VHS_MSG_FRAME || e->m.type == VHS_MSG_AUDIO) {
			port = e->m.type == VHS_MSG_FRAME ? e->m.u.frame.port : e->m.u.audio.port;
			if (port >= w->n_in || e->data_len > w->in[port].ring.slot_size)
				return -EPROTO;
			if (!w->in[port].n_free)
				return 0; /* until a RELEASE */
			slot = w->in[port].free[--w->in[port].n_free];
			slot_data = vhs_ring_slot(&w->in[port].ring, slot);
			if (fread(slot_data, 1, e->data_len, w->spool) != e->data_len)
				return -EPROTO;
			*(e->m.type == VHS_MSG_FRAME ? &e->m.u.frame.slot : &e->m.u.audio.slot) = slot;
			w->fed += port == 0;
		} else if (e->data_len) {
			return -EPROTO;
		}
		e->held = false;
		ret = s_send(r, w, &e->m);
		if (ret)
			return ret;
	}
	return 0;
}

/* A child ended: the worker it was, if any (vhs_reap's callback). */
static void s_exited(void *ctx, pid_t pid, int status, const struct rusage *ru)
{
	struct replay *r = ctx;

	for (int i = 0; i < r->n; i++) {
		struct worker *w = &r->w[i];

		if (w->pid != pid)
			continue;
		w->exited = true;
		w->status = status;
		w->ru = *ru;
		if (w->state != W_DONE)
			s_fail(r, VHS_EXIT_STAGE, "stage %s died during the isolated run (%s %d)", w->id,
			       WIFSIGNALED(status) ? "signal" : "status",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
}

static bool s_all_exited(const struct replay *r)
{
	for (int i = 0; i < r->n; i++)
		if (!r->w[i].exited)
			return false;
	return true;
}

static void s_loop(struct replay *r)
{
	zmq_pollitem_t items[2] = { { .socket = r->router, .events = ZMQ_POLLIN },
				    { .fd = r->ses.sigfd, .events = ZMQ_POLLIN } };
	struct signalfd_siginfo si;

	r->moved_ns = vhs_now_ns();
	while (!s_all_exited(r)) {
		zmq_poll(items, 2, 20);
		for (int i = 0; i < 256; i++) {
			int ev = 0;
			size_t sz = sizeof(ev);

			zmq_getsockopt(r->router, ZMQ_EVENTS, &ev, &sz);
			if (!(ev & ZMQ_POLLIN))
				break;
			s_on_message(r);
		}
		while (read(r->ses.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD)
				s_fail(r, VHS_EXIT_INTERRUPTED, "interrupted by SIG%s", sigabbrev_np((int)si.ssi_signo));
			vhs_reap(s_exited, r);
		}
		for (int i = 0; i < r->n && !r->code; i++)
			if (r->w[i].state == W_RUNNING && r->w[i].n_in && s_feed(r, &r->w[i]))
				s_fail(r, VHS_EXIT_INTERNAL, "the recording of %s is damaged or cannot be read", r->w[i].id);
		if (!r->code && vhs_now_ns() - r->moved_ns > TIMEOUT_NS)
			s_fail(r, VHS_EXIT_STAGE, "the isolated run of %s stalled", vhs_stage_name(r->o->kind));
	}
}

/* ---- set-up and clean-up ---- */

static int s_setup(struct replay *r)
{
	int ret = vhs_session_open(&r->ses);

	if (ret)
		return ret;
	r->router = vhs_stage_router(r->ses.zctx, r->ses.endpoint);
	return r->router ? 0 : -errno;
}

static void s_cleanup(struct replay *r)
{
	for (int i = 0; i < r->n; i++) {
		struct worker *w = &r->w[i];

		for (int p = 0; p < VHS_MAX_PORTS; p++) {
			struct port *ports[2] = { &w->in[p], &w->out[p] };

			for (int j = 0; j < 2; j++) {
				if (ports[j]->ring.base) {
					vhs_ring_unlink(ports[j]->ring.name);
					vhs_ring_close(&ports[j]->ring);
				}
				free(ports[j]->free);
			}
		}
		if (w->spool)
			fclose(w->spool);
		free(w->config_blob);
	}
	if (r->router)
		zmq_close(r->router);
	vhs_session_close(&r->ses);
	vhs_empty_dir(r->o->scratch_dir); /* an encode stage's segments */
}

/* The figures: each worker's process into prof, then the stage's. */
static void s_results(struct replay *r, struct vhs_isolated *res)
{
	uint64_t frames = 0;

	for (int i = 0; i < r->n; i++) {
		struct worker *w = &r->w[i];

		frames += w->fed;
		if (w->prof)
			vhs_profiler_process(w->prof, &w->stats, &w->ru, w->fed, 0);
	}
	r->prof->end_ns = r->end_ns;
	vhs_profiler_figures(r->prof, NULL, (int)r->o->kind, &res->fig);
	res->stage = vhs_stage_name(r->o->kind);
	res->workers = r->n;
	res->frames = frames;
	res->wall_s = r->end_ns > r->first_ns && r->first_ns ? (double)(r->end_ns - r->first_ns) / 1e9 : 0;
	res->fps = res->wall_s > 0 ? (double)frames / res->wall_s : 0;
}

int vhs_replay(const struct vhs_replay_opts *o, struct vhs_profiler *prof, struct vhs_isolated *res,
	       char *err, size_t n)
{
	struct replay *r = calloc(1, sizeof(*r));
	int ret, code;

	if (!r)
		return snprintf(err, n, "out of memory"), VHS_EXIT_INTERNAL;
	*r = (struct replay){ .o = o, .prof = prof, .ses.sigfd = -1, .err = err, .errlen = n,
			      .n = o->workers < MAX_WORKERS ? o->workers : MAX_WORKERS };
	ret = s_setup(r);
	if (ret)
		s_fail(r, VHS_EXIT_INTERNAL, "cannot set up the isolated run: %s", strerror(-ret));
	for (int i = 0; i < r->n && !r->code; i++) {
		struct worker *w = &r->w[i];

		snprintf(w->id, sizeof(w->id), "%s.%d", vhs_stage_name(o->kind), i);
		w->prof = vhs_profiler_instance(prof, o->kind, i);
		if (s_open_spool(r, w, i))
			break;
		ret = s_spawn(r, w, i);
		if (ret)
			s_fail(r, VHS_EXIT_INTERNAL, "cannot start %s: %s", w->id, strerror(-ret));
	}
	for (int i = 0; i < r->n; i++)
		r->w[i].exited |= !r->w[i].pid; /* never started */
	s_loop(r);
	s_results(r, res);
	s_cleanup(r);
	code = r->code;
	free(r);
	return code;
}
