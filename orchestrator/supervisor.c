/* supervisor.c: the orchestrator's run loop: planner output in, restored file out.
 *
 * DESIGN
 * One thread, one ROUTER socket (ipc://RUNDIR/ctl), one signalfd (SIGCHLD, SIGINT,
 * SIGTERM, SIGHUP), polled together. Each stage process walks a small state machine:
 *
 *   SPAWNED --HELLO/CONFIG--> CONFIGURED --FORMAT/ATTACH--> ATTACHED --READY--> RUNNING
 *   RUNNING --DONE--> DONE;  any --exit--> EXITED
 *
 * Stages start one at a time in plan order, because a stage's CONFIG carries the
 * formats its producers declared. When every stage is RUNNING, every slot of every ring
 * is granted to its producer, and frames start to flow.
 *
 * Slot ownership, per ring slot: FREE (the orchestrator), PRODUCER, or CONSUMER. It
 * changes only here: GRANT (FREE -> PRODUCER), FRAME/AUDIO (PRODUCER -> CONSUMER, the
 * record is forwarded), RELEASE (CONSUMER -> PRODUCER again, with a GRANT, or FREE when
 * the producer has ended). A record that does not match the table is a protocol error.
 *
 * Failure: the first ERROR record, an unexpected exit, a start-up timeout, or a signal
 * turns the run into ABORTING: STOP to every live stage, SIGKILL after 2 s, and the run
 * ends when every child is reaped. Then, success or not: rings unlinked, socket and run
 * dir removed, OUTPUT.part renamed (success) or removed (failure).
 */
#include "supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "exitcode.h"
#include "kv.h"
#include "plan.h"
#include "proto.h"
#include "ring.h"

#define STARTUP_TIMEOUT_NS (60ull * 1000000000ull)
#define STOP_GRACE_NS (2ull * 1000000000ull)
#define EXIT_GRACE_NS (1ull * 1000000000ull)  /* for a DONE or ERROR sent just before exit */
#define STALL_NS (60ull * 1000000000ull)   /* no record moved for this long: stalled */
#define HEARTBEAT_NS (3ull * 1000000000ull) /* silent this long, with no CPU used: hung */

enum proc_state { P_NONE, P_SPAWNED, P_CONFIGURED, P_ATTACHED, P_RUNNING };
enum owner { OWN_FREE, OWN_PRODUCER, OWN_CONSUMER };

struct proc {
	enum vhs_stage_kind kind;
	char id[VHS_NAME_LEN + 8];    /* ZeroMQ routing id, "decode.0" */
	pid_t pid;
	enum proc_state state;        /* start-up progress */
	bool done;                    /* DONE received: finished its work */
	bool exited;                  /* reaped */
	int n_in, n_out;
	int in_edge[VHS_MAX_PORTS];   /* edge index per input port */
	int out_edge[VHS_MAX_PORTS];  /* edge index per output port */
	struct vhs_stats stats;       /* last STATS */
	struct rusage ru;             /* from wait4 */
	int status;                   /* from wait4 */
	uint64_t exited_ns;           /* when reaped (for the DONE grace) */
	uint64_t heard_ns;            /* last record from it, or last check that found it busy */
	unsigned long long cpu_ticks; /* utime + stime sampled once it fell silent, 0 = none yet */
};

struct edge {
	struct vhs_plan_edge plan;
	struct vhs_stream_fmt fmt;    /* declared by the producer */
	struct vhs_ring ring;
	uint8_t *owner;               /* enum owner per slot */
	bool producer_ended;          /* EOS seen */
	uint64_t forwarded;           /* records forwarded to the consumer */
};

struct run {
	const struct vhs_job *job;
	const struct vhs_run_opts *opts;
	struct vhs_plan plan;
	struct proc procs[VHS_STAGE_KINDS];
	struct edge edges[VHS_PLAN_MAX_EDGES];
	int n_edges;
	void *zctx, *router;
	int sigfd;
	char run_dir[PATH_MAX];
	char endpoint[PATH_MAX + 16];
	char part[PATH_MAX + 8];
	bool aborting;
	uint64_t abort_ns;            /* when STOP went out */
	uint64_t start_ns;            /* start-up deadline base */
	bool flowing;                 /* all stages running, slots granted */
	int exit_code;                /* first failure's code, or 0 */
	char error[512];              /* first failure's message */
	struct vhs_progress progress;
	uint64_t frames_out;          /* video frames that reached encode */
	uint64_t moved_ns;            /* when a data record last moved (stall watch) */
};

static void s_fail(struct run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the first failure and starts stopping everything. */
static void s_fail(struct run *r, int code, const char *fmt, ...)
{
	va_list ap;

	if (!r->exit_code) {
		r->exit_code = code;
		va_start(ap, fmt);
		vsnprintf(r->error, sizeof(r->error), fmt, ap);
		va_end(ap);
	}
	if (r->aborting)
		return;
	r->aborting = true;
	r->abort_ns = vhs_now_ns();
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		struct proc *p = &r->procs[k];

		if (p->state != P_NONE && !p->exited && !p->done) {
			uint8_t buf[8];
			int n = vhs_proto_pack(&(struct vhs_msg){ .type = VHS_MSG_STOP }, buf, sizeof(buf));

			zmq_send(r->router, p->id, strlen(p->id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
			zmq_send(r->router, buf, (size_t)n, ZMQ_DONTWAIT);
		}
	}
}

static int s_send(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	uint8_t small[VHS_MSG_MAX];
	uint8_t *buf = small;
	size_t cap = sizeof(small);
	int n;

	if (m->type == VHS_MSG_CONFIG) {
		cap = vhs_proto_config_size(m->u.config.settings_len);
		buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
	}
	n = vhs_proto_pack(m, buf, cap);
	if (n >= 0 && (zmq_send(r->router, p->id, strlen(p->id), ZMQ_SNDMORE) < 0 ||
		       zmq_send(r->router, buf, (size_t)n, 0) < 0))
		n = -errno;
	if (buf != small)
		free(buf);
	return n < 0 ? n : 0;
}

/* ---- processes ---- */

static int s_spawn(struct run *r, enum vhs_stage_kind kind)
{
	struct proc *p = &r->procs[kind];
	char exe[PATH_MAX], parent[32];
	sigset_t none;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/vhs-stage-%s", r->opts->stage_dir, vhs_stage_name(kind));
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setenv("VHS_PARENT_PID", parent, 1);
		execl(exe, exe, "--ctl", r->endpoint, "--instance", "0", (char *)NULL);
		fprintf(stderr, "vhs-orchestrate: error: cannot start %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	p->pid = pid;
	p->state = P_SPAWNED;
	return 0;
}

static const char *s_proc_name(const struct proc *p)
{
	return vhs_stage_name(p->kind);
}

/* Describes how a child ended, for messages. */
static void s_describe_exit(const struct proc *p, char *buf, size_t n)
{
	if (WIFSIGNALED(p->status))
		snprintf(buf, n, "stage %s (pid %d) was killed by signal %d (%s)", s_proc_name(p),
			 (int)p->pid, WTERMSIG(p->status), strsignal(WTERMSIG(p->status)));
	else if (WEXITSTATUS(p->status) == 127)
		snprintf(buf, n, "stage %s could not be started (is vhs-stage-%s in %s?)",
			 s_proc_name(p), s_proc_name(p), "the build's bin directory");
	else
		snprintf(buf, n, "stage %s (pid %d) exited with status %d before finishing",
			 s_proc_name(p), (int)p->pid, WEXITSTATUS(p->status));
}

static void s_reap(struct run *r)
{
	struct rusage ru;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		for (int k = 0; k < VHS_STAGE_KINDS; k++) {
			struct proc *p = &r->procs[k];

			if (p->pid != pid || p->exited)
				continue;
			p->ru = ru;
			p->status = status;
			p->exited_ns = vhs_now_ns();
			p->exited = true;
		}
	}
}

/* An exit is a failure unless the stage said DONE first (or we are stopping anyway).
 * A stage that exits by itself sends DONE or ERROR just before, and the record can still
 * be in the socket when the exit is seen: it gets a moment to arrive, so the user reads
 * the stage's own message. A death by signal sends nothing, so it is judged at once. */
static void s_check_exits(struct run *r)
{
	char why[256];

	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		struct proc *p = &r->procs[k];

		if (!p->exited || p->done || r->aborting)
			continue;
		if (WIFEXITED(p->status) && vhs_now_ns() - p->exited_ns < EXIT_GRACE_NS)
			continue;
		s_describe_exit(p, why, sizeof(why));
		s_fail(r, VHS_EXIT_STAGE, "%s", why);
	}
}

static bool s_all_exited(const struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->procs[k].state != P_NONE && !r->procs[k].exited)
			return false;
	return true;
}

static void s_kill_all(struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->procs[k].state != P_NONE && !r->procs[k].exited)
			kill(r->procs[k].pid, SIGKILL);
}

/* ---- start-up ---- */

static int s_next_stage(const struct run *r, int after)
{
	for (int k = after + 1; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			return k;
	return -1;
}

static void s_wire(struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		r->procs[k].kind = (enum vhs_stage_kind)k;
		r->procs[k].n_in = r->procs[k].n_out = 0;
	}
	r->n_edges = r->plan.n_edges;
	for (int i = 0; i < r->n_edges; i++) {
		const struct vhs_plan_edge *e = &r->plan.edges[i];
		struct proc *from = &r->procs[e->from], *to = &r->procs[e->to];

		r->edges[i].plan = *e;
		from->out_edge[e->from_port] = i;
		from->n_out = e->from_port >= from->n_out ? e->from_port + 1 : from->n_out;
		to->in_edge[e->to_port] = i;
		to->n_in = e->to_port >= to->n_in ? e->to_port + 1 : to->n_in;
	}
}

static int s_on_hello(struct run *r, struct proc *p)
{
	struct vhs_msg m = { .type = VHS_MSG_CONFIG };
	char *kv = vhs_job_to_kv(r->job);
	int ret;

	if (!kv)
		return -ENOMEM;
	m.u.config.n_inputs = (uint8_t)p->n_in;
	for (int i = 0; i < p->n_in; i++)
		m.u.config.inputs[i] = r->edges[p->in_edge[i]].fmt;
	m.u.config.settings = kv;
	m.u.config.settings_len = (uint32_t)strlen(kv);
	ret = s_send(r, p, &m);
	free(kv);
	p->state = P_CONFIGURED;
	return ret;
}

static int s_create_ring(struct run *r, struct edge *e)
{
	char name[VHS_RING_NAME_LEN], what[VHS_RING_FORMAT_LEN];
	int ret;

	snprintf(name, sizeof(name), "/vhs-%ld-%s", (long)getpid(), e->plan.name);
	if (e->fmt.media == VHS_MEDIA_VIDEO)
		snprintf(what, sizeof(what), "video %s %dx%d", e->fmt.fmt, e->fmt.width, e->fmt.height);
	else
		snprintf(what, sizeof(what), "audio %s %d Hz %d ch", e->fmt.fmt, e->fmt.sample_rate, e->fmt.channels);
	ret = vhs_ring_create(&e->ring, name, e->plan.slots, e->fmt.slot_size, what);
	if (ret)
		return ret;
	e->owner = calloc(e->plan.slots, 1);
	return e->owner ? 0 : -ENOMEM;
}

static int s_on_format(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	struct vhs_msg a = { .type = VHS_MSG_ATTACH };
	int ret;

	if (p->kind == VHS_DECODE) {
		vhs_plan_build(&r->plan, r->job, m->u.format.n > 1);
		s_wire(r);
	}
	if (m->u.format.n != p->n_out) {
		s_fail(r, VHS_EXIT_INTERNAL, "stage %s declared %d outputs, the plan has %d",
		       s_proc_name(p), m->u.format.n, p->n_out);
		return 0;
	}
	for (int i = 0; i < p->n_out; i++) {
		struct edge *e = &r->edges[p->out_edge[i]];

		e->fmt = m->u.format.outputs[i];
		ret = s_create_ring(r, e);
		if (ret) {
			s_fail(r, VHS_EXIT_INTERNAL, "cannot create shared memory for %s (%u x %u bytes): %s",
			       e->plan.name, e->plan.slots, e->fmt.slot_size, strerror(-ret));
			return 0;
		}
		snprintf(a.u.attach.outputs[i], VHS_RING_NAME_LEN, "%s", e->ring.name);
	}
	for (int i = 0; i < p->n_in; i++)
		snprintf(a.u.attach.inputs[i], VHS_RING_NAME_LEN, "%s", r->edges[p->in_edge[i]].ring.name);
	a.u.attach.n_inputs = (uint8_t)p->n_in;
	a.u.attach.n_outputs = (uint8_t)p->n_out;
	p->state = P_ATTACHED;
	return s_send(r, p, &a);
}

static int s_grant(struct run *r, struct edge *e, uint32_t slot)
{
	struct vhs_msg m = { .type = VHS_MSG_GRANT };
	int ret;

	m.u.grant.port = (uint8_t)e->plan.from_port;
	m.u.grant.slot = slot;
	ret = s_send(r, &r->procs[e->plan.from], &m);
	/* The producer may have ended and gone before its EOS was read here (the ROUTER reads
	 * peers fairly, not in global order): the slot then rests. */
	e->owner[slot] = ret == 0 ? OWN_PRODUCER : OWN_FREE;
	return ret == -EHOSTUNREACH ? 0 : ret;
}

/* Everything is up: hand every slot to its producer and start the progress display. */
static int s_start_flow(struct run *r)
{
	const struct vhs_stream_fmt *out = &r->edges[r->procs[VHS_ENCODE].in_edge[0]].fmt;
	double fps = out->fr_den ? (double)out->fr_num / out->fr_den : 0;
	double total = out->duration_us > 0 && fps > 0 ? (double)out->duration_us / 1e6 * fps : 0;
	int ret = 0;

	for (int i = 0; i < r->n_edges && !ret; i++)
		for (uint32_t s = 0; s < r->edges[i].plan.slots && !ret; s++)
			ret = s_grant(r, &r->edges[i], s);
	r->flowing = true;
	r->moved_ns = vhs_now_ns();
	vhs_progress_start(&r->progress, r->opts->progress, total, fps);
	return ret;
}

static int s_on_ready(struct run *r, struct proc *p)
{
	int next = s_next_stage(r, (int)p->kind);

	p->state = P_RUNNING;
	if (next < 0)
		return s_start_flow(r);
	return s_spawn(r, (enum vhs_stage_kind)next);
}

/* ---- the broker ---- */

static bool s_slot_ok(struct run *r, struct proc *p, struct edge *e, uint32_t slot,
		      enum owner expect, const char *what)
{
	if (slot < e->plan.slots && e->owner[slot] == expect)
		return true;
	s_fail(r, VHS_EXIT_INTERNAL, "protocol error: stage %s sent %s for slot %u of %s, which it does not own",
	       s_proc_name(p), what, slot, e->plan.name);
	return false;
}

/* FRAME or AUDIO from a producer: the slot moves to the consumer. */
static int s_on_data(struct run *r, struct proc *p, struct vhs_msg *m)
{
	uint8_t *port = m->type == VHS_MSG_FRAME ? &m->u.frame.port : &m->u.audio.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;
	struct edge *e;

	if (*port >= p->n_out)
		return -EPROTO;
	e = &r->edges[p->out_edge[*port]];
	if (!s_slot_ok(r, p, e, slot, OWN_PRODUCER, vhs_proto_type_name(m->type)))
		return 0;
	e->owner[slot] = OWN_CONSUMER;
	e->forwarded++;
	if (e->plan.to == VHS_ENCODE && e->plan.to_port == 0)
		r->frames_out++;
	*port = (uint8_t)e->plan.to_port;
	return s_send(r, &r->procs[e->plan.to], m);
}

/* RELEASE from a consumer: the slot goes back to the producer, or rests if it ended. */
static int s_on_release(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	struct edge *e;

	if (m->u.grant.port >= p->n_in)
		return -EPROTO;
	e = &r->edges[p->in_edge[m->u.grant.port]];
	if (!s_slot_ok(r, p, e, m->u.grant.slot, OWN_CONSUMER, "RELEASE"))
		return 0;
	e->owner[m->u.grant.slot] = OWN_FREE;
	if (e->producer_ended || r->procs[e->plan.from].exited || r->aborting)
		return 0;
	return s_grant(r, e, m->u.grant.slot);
}

static int s_on_eos(struct run *r, struct proc *p, struct vhs_msg *m)
{
	struct edge *e;

	if (m->u.eos.port >= p->n_out)
		return -EPROTO;
	e = &r->edges[p->out_edge[m->u.eos.port]];
	if (m->u.eos.count != e->forwarded) {
		s_fail(r, VHS_EXIT_INTERNAL, "protocol error: %s says it sent %llu records, %llu arrived",
		       e->plan.name, (unsigned long long)m->u.eos.count, (unsigned long long)e->forwarded);
		return 0;
	}
	e->producer_ended = true;
	m->u.eos.port = (uint8_t)e->plan.to_port;
	return s_send(r, &r->procs[e->plan.to], m);
}

static int s_on_error(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	static const int codes[] = {
		[VHS_ERR_INTERNAL] = VHS_EXIT_STAGE, [VHS_ERR_INPUT] = VHS_EXIT_INPUT,
		[VHS_ERR_OUTPUT] = VHS_EXIT_OUTPUT,  [VHS_ERR_CONFIG] = VHS_EXIT_JOB,
	};

	s_fail(r, codes[m->u.error.cls], "%s: %s", s_proc_name(p), m->u.error.text);
	return 0;
}

static struct proc *s_find(struct run *r, const char *id, size_t len)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->procs[k].state != P_NONE && strlen(r->procs[k].id) == len &&
		    !memcmp(r->procs[k].id, id, len))
			return &r->procs[k];
	return NULL;
}

/* Which record a stage may send in which state: start-up records one at a time. */
static int s_dispatch(struct run *r, struct proc *p, struct vhs_msg *m)
{
	bool running = p->state == P_RUNNING;

	if (r->aborting && m->type != VHS_MSG_ERROR && m->type != VHS_MSG_STATS)
		return 0; /* stopping: nothing starts and nothing moves any more */
	switch (m->type) {
	case VHS_MSG_HELLO:
		return p->state == P_SPAWNED ? s_on_hello(r, p) : -EPROTO;
	case VHS_MSG_FORMAT:
		return p->state == P_CONFIGURED ? s_on_format(r, p, m) : -EPROTO;
	case VHS_MSG_READY:
		return p->state == P_ATTACHED ? s_on_ready(r, p) : -EPROTO;
	case VHS_MSG_ERROR:
		return s_on_error(r, p, m);
	case VHS_MSG_STATS:
		p->stats = m->u.stats;
		return 0;
	}
	if (!running || !r->flowing)
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
	case VHS_MSG_DONE:
		p->done = true;
		return 0;
	default:
		return -EPROTO;
	}
}

static void s_on_message(struct run *r)
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
	p = s_find(r, id, (size_t)(idlen < (int)sizeof(id) ? idlen : (int)sizeof(id)));
	if (!p || len < 0)
		return; /* not one of ours (or a stage already forgotten) */
	p->heard_ns = vhs_now_ns();
	p->cpu_ticks = 0; /* a silent spell starts with a fresh CPU sample */
	ret = len > (int)sizeof(buf) ? -EPROTO : vhs_proto_unpack(&m, buf, (size_t)len);
	if (!ret)
		ret = s_dispatch(r, p, &m);
	if (ret == -EPROTO)
		s_fail(r, VHS_EXIT_INTERNAL, "protocol error from stage %s (%s record out of place or malformed)",
		       s_proc_name(p), vhs_proto_type_name(len >= 2 ? buf[1] : 0));
	else if (ret == -EHOSTUNREACH)
		; /* a peer that left: its exit is judged by s_check_exits, with the real cause */
	else if (ret < 0)
		s_fail(r, VHS_EXIT_INTERNAL, "routing a record of stage %s: %s", s_proc_name(p), strerror(-ret));
}

static void s_on_signal(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			s_reap(r);
			continue;
		}
		vhs_progress_end(&r->progress);
		s_fail(r, VHS_EXIT_INTERRUPTED, "interrupted by SIG%s; stopped, nothing kept",
		       sigabbrev_np((int)si.ssi_signo));
	}
}

static bool s_finished(const struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k] && !r->procs[k].done)
			return false;
	return r->flowing;
}

/* CPU time (utime + stime, clock ticks) of a process; 0 if it cannot be read. */
static unsigned long long s_cpu_ticks(pid_t pid)
{
	unsigned long long utime = 0, stime = 0;
	char path[64], buf[1024], *end;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	end = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!end || sscanf(end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &utime, &stime) != 2)
		return 0;
	return utime + stime;
}

/* The heartbeat: every stage sends STATS at least every 0.5 s from wherever it waits.
 * One that has said nothing for 3 s and used no CPU meanwhile is stopped or deadlocked
 * (a slow filter inside one long callback uses CPU, so it is not mistaken for hung). */
static void s_check_heartbeats(struct run *r, uint64_t now)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		struct proc *p = &r->procs[k];
		unsigned long long ticks;

		if (p->state != P_RUNNING || p->done || p->exited || now - p->heard_ns < HEARTBEAT_NS)
			continue;
		ticks = s_cpu_ticks(p->pid);
		if (ticks != p->cpu_ticks || !ticks) {
			p->cpu_ticks = ticks; /* busy: look again in 3 s */
			p->heard_ns = now;
			continue;
		}
		kill(p->pid, SIGKILL);
		s_fail(r, VHS_EXIT_STAGE, "stage %s (pid %d) stopped responding: no heartbeat and no CPU "
		       "time for %llu s; killed", s_proc_name(p), (int)p->pid, HEARTBEAT_NS / 1000000000ull);
	}
}

/* Nothing moved for a minute: name the edge whose consumer holds every slot. */
static void s_fail_stalled(struct run *r)
{
	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];
		uint32_t held = 0;

		for (uint32_t s = 0; s < e->plan.slots; s++)
			held += e->owner[s] == OWN_CONSUMER;
		if (held == e->plan.slots && !e->producer_ended) {
			s_fail(r, VHS_EXIT_STAGE, "pipeline stalled: %s holds all %u slots of %s; its filters "
			       "keep more frames than that (raise [run] ring_slots)",
			       vhs_stage_name(e->plan.to), held, e->plan.name);
			return;
		}
	}
	s_fail(r, VHS_EXIT_STAGE, "pipeline stalled: no frame moved for %llu s", STALL_NS / 1000000000ull);
}

static void s_check_time(struct run *r)
{
	uint64_t now = vhs_now_ns();

	if (!r->flowing && !r->aborting && now - r->start_ns > STARTUP_TIMEOUT_NS)
		s_fail(r, VHS_EXIT_STAGE, "stages did not start within %llu s",
		       STARTUP_TIMEOUT_NS / 1000000000ull);
	if (r->aborting && now - r->abort_ns > STOP_GRACE_NS)
		s_kill_all(r);
	if (r->flowing && !r->aborting && now - r->moved_ns > STALL_NS)
		s_fail_stalled(r);
	if (r->flowing && !r->aborting)
		s_check_heartbeats(r, now);
}

static void s_loop(struct run *r)
{
	zmq_pollitem_t items[2] = {
		{ .socket = r->router, .events = ZMQ_POLLIN },
		{ .fd = r->sigfd, .events = ZMQ_POLLIN },
	};

	for (;;) {
		if (zmq_poll(items, 2, 100) < 0 && errno != EINTR) {
			s_fail(r, VHS_EXIT_INTERNAL, "zmq_poll: %s", strerror(errno));
			s_kill_all(r);
		}
		for (int i = 0; i < 256; i++) {
			int ev = 0;
			size_t sz = sizeof(ev);

			zmq_getsockopt(r->router, ZMQ_EVENTS, &ev, &sz);
			if (!(ev & ZMQ_POLLIN))
				break;
			s_on_message(r);
		}
		s_on_signal(r);
		s_check_exits(r);
		s_check_time(r);
		if (r->flowing && !r->aborting)
			vhs_progress_update(&r->progress, r->frames_out, 0);
		if (s_all_exited(r) && (r->aborting || s_finished(r)))
			return;
	}
}

/* ---- set-up and clean-up ---- */

/* Removes run dirs of orchestrators that died without cleaning up (vhs-run.<pid>.*). */
static void s_sweep_run_dirs(const char *tmp)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(tmp);
	long pid;

	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, "vhs-run.%ld.", &pid) != 1 || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s/ctl", tmp, e->d_name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		rmdir(path);
	}
	if (d)
		closedir(d);
}

static int s_setup(struct run *r)
{
	const char *tmp = getenv("TMPDIR");
	int hwm = 100000, mandatory = 1, linger = 0;
	sigset_t set;

	tmp = tmp && *tmp ? tmp : "/tmp";
	s_sweep_run_dirs(tmp);
	snprintf(r->run_dir, sizeof(r->run_dir), "%s/vhs-run.%ld.XXXXXX", tmp, (long)getpid());
	if (!mkdtemp(r->run_dir)) /* mode 0700 */
		return -errno;
	snprintf(r->endpoint, sizeof(r->endpoint), "ipc://%s/ctl", r->run_dir);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sigfd < 0)
		return -errno;
	r->zctx = zmq_ctx_new();
	r->router = r->zctx ? zmq_socket(r->zctx, ZMQ_ROUTER) : NULL;
	if (!r->router)
		return -errno;
	zmq_setsockopt(r->router, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(r->router, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(r->router, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof(mandatory));
	zmq_setsockopt(r->router, ZMQ_LINGER, &linger, sizeof(linger));
	return zmq_bind(r->router, r->endpoint) ? -errno : 0;
}

static void s_cleanup(struct run *r)
{
	char path[PATH_MAX + 16];

	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];

		if (e->ring.base) {
			vhs_ring_close(&e->ring);
			vhs_ring_unlink(e->ring.name);
		}
		free(e->owner);
		e->owner = NULL;
	}
	if (r->router)
		zmq_close(r->router);
	if (r->zctx)
		zmq_ctx_term(r->zctx);
	if (r->sigfd > 0)
		close(r->sigfd);
	if (r->run_dir[0]) {
		snprintf(path, sizeof(path), "%s/ctl", r->run_dir);
		unlink(path);
		rmdir(r->run_dir);
	}
}

static void s_print_stats(const struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		const struct proc *p = &r->procs[k];

		if (p->state == P_NONE)
			continue;
		fprintf(stderr, "stats: %s cpu_user=%.3f cpu_sys=%.3f maxrss_kb=%ld frames=%llu "
			"frames_in=%llu frames_out=%llu copies=%llu bytes_copied=%llu\n",
			s_proc_name(p), (double)p->ru.ru_utime.tv_sec + p->ru.ru_utime.tv_usec / 1e6,
			(double)p->ru.ru_stime.tv_sec + p->ru.ru_stime.tv_usec / 1e6, p->ru.ru_maxrss,
			(unsigned long long)(p->n_out ? p->stats.frames_out : p->stats.frames_in),
			(unsigned long long)p->stats.frames_in, (unsigned long long)p->stats.frames_out,
			(unsigned long long)p->stats.copies, (unsigned long long)p->stats.bytes_copied);
	}
}

/* Success: OUTPUT.part becomes OUTPUT. Failure: OUTPUT.part goes. */
static void s_settle_output(struct run *r)
{
	if (!r->exit_code && rename(r->part, r->job->output) != 0)
		s_fail(r, VHS_EXIT_OUTPUT, "cannot rename '%s' to '%s': %s", r->part, r->job->output,
		       strerror(errno));
	if (r->exit_code)
		unlink(r->part);
}

int vhs_run(const struct vhs_job *job, const struct vhs_run_opts *opts)
{
	struct run r = { .job = job, .opts = opts, .sigfd = -1 };
	int ret;

	vhs_ring_sweep_stale();
	snprintf(r.part, sizeof(r.part), "%s.part", job->output);
	vhs_plan_build(&r.plan, job, false);
	s_wire(&r);
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		snprintf(r.procs[k].id, sizeof(r.procs[k].id), "%s.0", vhs_stage_name((enum vhs_stage_kind)k));
	ret = s_setup(&r);
	if (ret)
		s_fail(&r, VHS_EXIT_INTERNAL, "cannot set up the run directory or socket: %s", strerror(-ret));
	r.start_ns = vhs_now_ns();
	if (!ret && (ret = s_spawn(&r, VHS_DECODE)))
		s_fail(&r, VHS_EXIT_INTERNAL, "cannot start the decode stage: %s", strerror(-ret));
	s_loop(&r);
	if (r.flowing && !r.exit_code)
		vhs_progress_update(&r.progress, r.frames_out, 1);
	vhs_progress_end(&r.progress);
	s_settle_output(&r);
	if (opts->stats)
		s_print_stats(&r);
	s_cleanup(&r);
	if (r.exit_code)
		fprintf(stderr, "vhs-orchestrate: error: %s\n", r.error);
	return r.exit_code;
}
