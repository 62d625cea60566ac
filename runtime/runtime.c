/* runtime.c: the shared stage runtime (see runtime.h for the contract).
 *
 * DESIGN
 * One thread, one DEALER socket. Records from the orchestrator are of two kinds:
 * control (GRANT, STOP) is applied at once wherever the stage is, even while it blocks
 * for an output slot; input (FRAME, AUDIO, EOS) goes into a FIFO that the main loop
 * drains in arrival order, so a stage is never re-entered from inside its own callback.
 * The FIFO is bounded by the input rings' slot counts (plus one EOS per port), because
 * the orchestrator never forwards a slot it has not got back.
 *
 * Heartbeat: STATS goes out at most every 0.5 s from every place the stage can wait
 * (input wait, output wait) and after each callback, so a busy stage still beats.
 *
 * Segments: SEGMENT BEGIN/END markers are input records like FRAME (they keep their order
 * with the frames); a source's SEGMENT REQUESTs queue there too. DRAIN is control: it
 * sets a flag the source reads between segments.
 *
 * GPU edges (shm/devpool.h): a port whose format says memory = CUDA carries device
 * buffers. On an output port the stage writes the buffer itself (vhs_output_device()) and
 * the runtime exports it. On an input port the runtime downloads each frame once, into a
 * page-locked mirror of its slot, and hands the stage that: a consumer needs no CUDA code,
 * and the mirror of slot s stays the stage's until it releases s, like a host slot. An
 * exporter frees its buffers only after DETACHED (every importer has exited), so at the
 * end it waits for that record before tearing down.
 *
 * Profiling (CONFIG's profile.trace = 1): each frame of the stage is timed (a record on
 * its first input port, from dispatch to the callback's return; a source's record on its
 * first output port, from the previous one to it) and the samples go out in TRACE records
 * of eight, the last ones with every STATS. The time the frame spent waiting for a slot
 * or for input is its span less its busy time. Without profiling nothing is timed.
 *
 * Recording for isolated profiles (CONFIG's profile.spool = DIR): every record the stage
 * is given on its inputs is also written, with its slot's bytes, to DIR/spool.INSTANCE
 * through the temp writer (lib/tempfile.h), committed when the stage finishes, in the format
 * of proto/recording.h. orchestrator/replay.c plays it back into the stage alone.
 *
 * Fault injection for tests: VHS_TEST_CRASH=STAGE:N makes stage STAGE kill itself with
 * SIGKILL at its N-th data record (received, or sent by a source), every time it starts.
 * VHS_TEST_DELAY=STAGE:MS makes each frame of stage STAGE (as timed above) take MS
 * milliseconds longer, working (a sleep counted as busy), so a test knows the answer a
 * profile must give.
 *
 * Exit status: 0 after DONE; 1 after ERROR; 3 when stopped by STOP.
 */
#include "runtime.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "devpool.h"
#include "kv.h"
#include "recording.h"
#include "tempfile.h"

#define STATS_INTERVAL_NS 500000000ull
#define STARTUP_TIMEOUT_MS 60000
#define EXIT_STOPPED 3
#define DETACH_TIMEOUT_NS (30ull * 1000000000ull) /* an exporter's wait for DETACHED */

struct port_in {
	struct vhs_ring ring;
	struct vhs_stream_fmt fmt;
	int eos;                      /* EOS received */
	struct vhs_devpool *pool;     /* GPU edge: the imported buffers, else NULL */
	uint8_t **mirror;             /* GPU edge: page-locked copy of each slot, made on first use */
	int on_device;                /* GPU edge: the stage reads the device buffers itself */
};

/* A segment open on an output port: BEGIN sent, END not yet. */
struct open_segment {
	uint32_t index;
	uint64_t sent;                /* records of it sent so far */
};

struct port_out {
	struct vhs_ring ring;
	struct vhs_stream_fmt fmt;
	uint32_t *credits;            /* granted empty slots, a stack */
	uint32_t n_credits;
	uint64_t sent;                /* records sent */
	struct open_segment *open;    /* segments open on the port (a worker may hold several) */
	size_t n_open, cap_open;
	struct vhs_devpool *pool;     /* GPU edge: the exported buffers, else NULL */
	int detached;                 /* GPU edge: DETACHED received, the buffers may go */
};

struct vhs_ctx {
	const struct vhs_stage *stage;
	void *priv;
	void *zctx, *sock;
	char *settings;               /* CONFIG blob, owned */
	int n_in, n_out;
	struct port_in in[VHS_MAX_PORTS];
	struct port_out out[VHS_MAX_PORTS];
	struct vhs_msg *fifo;         /* pending input records */
	size_t fifo_head, fifo_len, fifo_cap;
	int segments;                 /* ATTACH: segments this worker may hold at once */
	uint64_t running_ns;          /* when READY went out: busy time counts from there */
	int stop;                     /* STOP received */
	int drain;                    /* DRAIN received */
	uint64_t crash_at;            /* VHS_TEST_CRASH: die at this data record, 0 = never */
	uint64_t data_records;        /* data records handled (received, or sent by a source) */
	uint64_t delay_ns;            /* VHS_TEST_DELAY: added to each frame, 0 = none */
	int trace;                    /* profile.trace: time each frame, send TRACE */
	struct vhs_trace pending;     /* samples not yet sent */
	uint64_t frame_ns;            /* source: when the previous frame was sent (or READY) */
	uint64_t frame_waited_ns;     /* source: wait_in_ns + wait_out_ns then */
	int failed;                   /* ERROR sent */
	struct vhs_stats stats;
	uint64_t last_stats_ns;
	struct vhs_tempfile *spool;   /* profile.spool: the record of the inputs, or NULL */
};

static uint64_t s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* VHS_TEST_CRASH: a crash as real as it gets, at a reproducible point. */
static void s_crash_point(struct vhs_ctx *ctx)
{
	if (ctx->crash_at && ++ctx->data_records >= ctx->crash_at)
		raise(SIGKILL);
}

/* The number after "STAGE:" in a test variable when it names this stage, else -1 (0 when
 * it names the stage without a number). */
static long long s_test_setting(const struct vhs_ctx *ctx, const char *var)
{
	const char *v = getenv(var);
	size_t n = strlen(ctx->stage->name);

	if (!v || strncmp(v, ctx->stage->name, n) || (v[n] != ':' && v[n]))
		return -1;
	return v[n] == ':' && atoll(v + n + 1) > 0 ? atoll(v + n + 1) : 0;
}

static void s_test_setup(struct vhs_ctx *ctx)
{
	long long crash = s_test_setting(ctx, "VHS_TEST_CRASH"), delay = s_test_setting(ctx, "VHS_TEST_DELAY");

	ctx->crash_at = crash < 0 ? 0 : crash ? (uint64_t)crash : 1;
	ctx->delay_ns = delay > 0 ? (uint64_t)delay * 1000000ull : 0;
}

/* VHS_TEST_DELAY: the frame at hand takes this much longer. */
static void s_test_delay(const struct vhs_ctx *ctx)
{
	struct timespec ts = { .tv_sec = (time_t)(ctx->delay_ns / 1000000000ull),
			       .tv_nsec = (long)(ctx->delay_ns % 1000000000ull) };

	while (ctx->delay_ns && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int s_send(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	uint8_t buf[VHS_MSG_MAX];
	int n = vhs_proto_pack(m, buf, sizeof(buf));

	if (n < 0)
		return n;
	while (zmq_send(ctx->sock, buf, (size_t)n, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Sends the pending TRACE samples, if any. */
static void s_flush_trace(struct vhs_ctx *ctx)
{
	struct vhs_msg m = { .type = VHS_MSG_TRACE };

	if (!ctx->pending.n)
		return;
	m.u.trace = ctx->pending;
	ctx->pending.n = 0;
	s_send(ctx, &m);
}

/* Profiling: one frame's sample, from start to now, of which waited ns were not work. */
static void s_trace_frame(struct vhs_ctx *ctx, uint64_t start, uint64_t waited, uint32_t segment,
			  uint64_t index)
{
	uint64_t now = s_now(), dur = now - start;
	struct vhs_trace_sample *t = &ctx->pending.s[ctx->pending.n++];

	dur = dur > UINT32_MAX ? UINT32_MAX : dur;
	*t = (struct vhs_trace_sample){ .start_ns = start, .dur_ns = (uint32_t)dur,
					.busy_ns = (uint32_t)(waited < dur ? dur - waited : 0),
					.segment = segment, .index = (uint32_t)index };
	if (ctx->pending.n == VHS_TRACE_SAMPLES)
		s_flush_trace(ctx);
}

static void s_send_stats(struct vhs_ctx *ctx)
{
	struct vhs_msg m = { .type = VHS_MSG_STATS };
	struct timespec cpu;
	struct rusage ru;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	getrusage(RUSAGE_SELF, &ru);
	if (ctx->running_ns) { /* busy: running and not waiting for input or for a slot */
		uint64_t up = s_now() - ctx->running_ns, waited = ctx->stats.wait_in_ns + ctx->stats.wait_out_ns;

		ctx->stats.busy_ns = up > waited ? up - waited : 0;
	}
	ctx->stats.cpu_ns = (uint64_t)cpu.tv_sec * 1000000000ull + (uint64_t)cpu.tv_nsec;
	ctx->stats.rss_kb = (uint64_t)ru.ru_maxrss;
	m.u.stats = ctx->stats;
	s_flush_trace(ctx);
	s_send(ctx, &m);
	ctx->last_stats_ns = s_now();
}

/* Adds the time since *since to *counter and moves *since to now. */
static void s_waited(uint64_t *counter, uint64_t *since)
{
	uint64_t now = s_now();

	*counter += now - *since;
	*since = now;
}

static void s_maybe_stats(struct vhs_ctx *ctx)
{
	if (s_now() - ctx->last_stats_ns >= STATS_INTERVAL_NS)
		s_send_stats(ctx);
}

static int s_fifo_push(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	if (ctx->fifo_len == ctx->fifo_cap) {
		size_t cap = ctx->fifo_cap ? 2 * ctx->fifo_cap : 64;
		struct vhs_msg *n = malloc(cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < ctx->fifo_len; i++)
			n[i] = ctx->fifo[(ctx->fifo_head + i) % ctx->fifo_cap];
		free(ctx->fifo);
		ctx->fifo = n;
		ctx->fifo_cap = cap;
		ctx->fifo_head = 0;
	}
	ctx->fifo[(ctx->fifo_head + ctx->fifo_len) % ctx->fifo_cap] = *m;
	ctx->fifo_len++;
	return 0;
}

static int s_fifo_pop(struct vhs_ctx *ctx, struct vhs_msg *m)
{
	if (!ctx->fifo_len)
		return 0;
	*m = ctx->fifo[ctx->fifo_head];
	ctx->fifo_head = (ctx->fifo_head + 1) % ctx->fifo_cap;
	ctx->fifo_len--;
	return 1;
}

/* Receives one record within timeout_ms (-1: forever). Returns 1, 0 on timeout, -errno.
 * A CONFIG's settings are copied into ctx->settings. */
static int s_recv(struct vhs_ctx *ctx, long timeout_ms, struct vhs_msg *m)
{
	zmq_pollitem_t item = { .socket = ctx->sock, .events = ZMQ_POLLIN };
	zmq_msg_t zm;
	int ret;

	ret = zmq_poll(&item, 1, timeout_ms);
	if (ret <= 0)
		return ret < 0 && errno != EINTR ? -errno : 0;
	zmq_msg_init(&zm);
	if (zmq_msg_recv(&zm, ctx->sock, 0) < 0) {
		ret = errno == EINTR ? 0 : -errno;
		goto out;
	}
	ret = vhs_proto_unpack(m, zmq_msg_data(&zm), zmq_msg_size(&zm));
	if (ret)
		goto out;
	if (m->type == VHS_MSG_CONFIG) {
		free(ctx->settings);
		ctx->settings = strdup(m->u.config.settings);
		m->u.config.settings = ctx->settings;
		ret = ctx->settings ? 1 : -ENOMEM;
		goto out;
	}
	ret = 1;
out:
	zmq_msg_close(&zm);
	return ret;
}

/* Receives and dispatches one record: control now, input into the FIFO. */
static int s_pump(struct vhs_ctx *ctx, long timeout_ms)
{
	struct vhs_msg m;
	int ret = s_recv(ctx, timeout_ms, &m);

	if (ret <= 0)
		return ret;
	switch (m.type) {
	case VHS_MSG_GRANT: {
		struct port_out *o = m.u.grant.port < ctx->n_out ? &ctx->out[m.u.grant.port] : NULL;

		if (!o || m.u.grant.slot >= o->ring.slot_count || o->n_credits >= o->ring.slot_count)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "bad GRANT (port %u slot %u)",
					m.u.grant.port, m.u.grant.slot);
		o->credits[o->n_credits++] = m.u.grant.slot;
		return 1;
	}
	case VHS_MSG_STOP:
		ctx->stop = 1;
		return 1;
	case VHS_MSG_DRAIN:
		ctx->drain = 1;
		return 1;
	case VHS_MSG_DETACHED:
		if (m.u.detached.port < ctx->n_out)
			ctx->out[m.u.detached.port].detached = 1;
		return 1;
	case VHS_MSG_FRAME:
	case VHS_MSG_AUDIO:
	case VHS_MSG_SEGMENT:
	case VHS_MSG_EOS:
		ret = s_fifo_push(ctx, &m);
		return ret ? ret : 1;
	default:
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "unexpected %s record",
				vhs_proto_type_name(m.type));
	}
}

/* Start-up: waits for one record of the given type; STOP or timeout end the stage. */
static int s_expect(struct vhs_ctx *ctx, uint8_t type, struct vhs_msg *m)
{
	int ret = s_recv(ctx, STARTUP_TIMEOUT_MS, m);

	if (ret == 0)
		return -ETIMEDOUT;
	if (ret < 0)
		return ret;
	if (m->type == VHS_MSG_STOP) {
		ctx->stop = 1;
		return -ECANCELED;
	}
	if (m->type != type)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "expected %s, got %s",
				vhs_proto_type_name(type), vhs_proto_type_name(m->type));
	return 0;
}

/* ---- the API stages call ---- */

void *vhs_priv(struct vhs_ctx *ctx)
{
	return ctx->priv;
}

int vhs_setting(struct vhs_ctx *ctx, const char *key, char *buf, size_t len)
{
	return vhs_kv_get(ctx->settings ? ctx->settings : "", key, buf, len);
}

long long vhs_setting_int(struct vhs_ctx *ctx, const char *key, long long dflt)
{
	long long v;

	return vhs_kv_get_int(ctx->settings ? ctx->settings : "", key, &v) ? dflt : v;
}

double vhs_setting_double(struct vhs_ctx *ctx, const char *key, double dflt)
{
	char buf[64], *end;
	double v;

	if (vhs_setting(ctx, key, buf, sizeof(buf)) < 0)
		return dflt;
	v = strtod(buf, &end);
	return end == buf || *end ? dflt : v;
}

int vhs_input_count(struct vhs_ctx *ctx)
{
	return ctx->n_in;
}

const struct vhs_stream_fmt *vhs_input_format(struct vhs_ctx *ctx, int port)
{
	return port >= 0 && port < ctx->n_in ? &ctx->in[port].fmt : NULL;
}

void vhs_set_outputs(struct vhs_ctx *ctx, int n, const struct vhs_stream_fmt *fmts)
{
	ctx->n_out = n < VHS_MAX_PORTS ? n : VHS_MAX_PORTS;
	for (int i = 0; i < ctx->n_out; i++)
		ctx->out[i].fmt = fmts[i];
}

int vhs_output_slot(struct vhs_ctx *ctx, int port, uint32_t *slot, uint8_t **data)
{
	struct port_out *o = &ctx->out[port];
	uint64_t t0 = s_now();
	int ret = 0;

	while (!o->n_credits && !ctx->stop) {
		ret = s_pump(ctx, 100);
		if (ret < 0)
			break;
		s_waited(&ctx->stats.wait_out_ns, &t0); /* counted before STATS: busy never runs back */
		s_maybe_stats(ctx);
	}
	while (ret >= 0 && !ctx->stop && s_pump(ctx, 0) > 0)
		; /* apply any STOP already queued */
	s_waited(&ctx->stats.wait_out_ns, &t0);
	if (ret < 0)
		return ret;
	if (ctx->stop)
		return -ECANCELED;
	*slot = o->credits[--o->n_credits];
	*data = o->pool ? NULL : vhs_ring_slot(&o->ring, *slot);
	return 0;
}

struct vhs_devpool *vhs_output_pool(struct vhs_ctx *ctx, int port)
{
	return port >= 0 && port < ctx->n_out ? ctx->out[port].pool : NULL;
}

int vhs_output_device(struct vhs_ctx *ctx, int port, uint32_t slot, struct vhs_devbuf *b)
{
	struct vhs_devpool *pool = vhs_output_pool(ctx, port);
	int ret;

	if (!pool)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "output %d is not a GPU edge", port);
	ret = vhs_devpool_buffer(pool, slot, b);
	return ret ? vhs_fail(ctx, VHS_ERR_INTERNAL, "GPU edge %s: %s", ctx->out[port].ring.name,
			      vhs_devpool_error(pool)) : 0;
}

/* The open segment index on output port o, or NULL. */
static struct open_segment *s_open_segment(struct port_out *o, uint32_t index)
{
	for (size_t i = 0; i < o->n_open; i++)
		if (o->open[i].index == index)
			return &o->open[i];
	return NULL;
}

/* A source's frame (a record on its first output port) is done: the test delay, the sample
 * since the previous one. */
static void s_source_frame(struct vhs_ctx *ctx, uint32_t segment, uint64_t index)
{
	uint64_t waited = ctx->stats.wait_in_ns + ctx->stats.wait_out_ns;

	s_test_delay(ctx);
	if (ctx->trace)
		s_trace_frame(ctx, ctx->frame_ns, waited - ctx->frame_waited_ns, segment, index);
	ctx->frame_ns = s_now();
	ctx->frame_waited_ns = waited;
}

/* Counts one data record of segment index on output port; fails if it is not open. */
static int s_count_record(struct vhs_ctx *ctx, int port, uint32_t index)
{
	struct open_segment *s = s_open_segment(&ctx->out[port], index);

	if (!s)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "record of segment %u on output %d outside its "
				"BEGIN and END", index, port);
	s->sent++;
	ctx->out[port].sent++;
	ctx->stats.frames_out++;
	if (!ctx->n_in && port == 0)
		s_source_frame(ctx, index, ctx->out[port].sent - 1);
	if (!ctx->n_in)
		s_crash_point(ctx);
	return 0;
}

/* Bytes a record may use of a slot: the slot, or on a GPU edge the device buffer. */
static size_t s_slot_capacity(const struct vhs_ring *r, const struct vhs_stream_fmt *f)
{
	return f->memory == VHS_MEMORY_CUDA ? f->slot_size : r->slot_size;
}

int vhs_send_video(struct vhs_ctx *ctx, struct vhs_frame *f)
{
	struct vhs_msg m = { .type = VHS_MSG_FRAME };
	int ret;

	if (f->port >= ctx->n_out || f->bytes > s_slot_capacity(&ctx->out[f->port].ring, &ctx->out[f->port].fmt))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "frame of %u bytes overflows slot of %zu",
				f->bytes, f->port < ctx->n_out ? s_slot_capacity(&ctx->out[f->port].ring,
										 &ctx->out[f->port].fmt) : 0);
	f->index = ctx->out[f->port].sent;
	ret = s_count_record(ctx, f->port, f->segment);
	m.u.frame = *f;
	return ret ? ret : s_send(ctx, &m);
}

int vhs_send_audio(struct vhs_ctx *ctx, struct vhs_audio *a)
{
	struct vhs_msg m = { .type = VHS_MSG_AUDIO };
	int ret;

	if (a->port >= ctx->n_out || a->bytes > ctx->out[a->port].ring.slot_size)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "audio of %u bytes overflows slot of %zu",
				a->bytes, a->port < ctx->n_out ? ctx->out[a->port].ring.slot_size : 0);
	a->index = ctx->out[a->port].sent;
	ret = s_count_record(ctx, a->port, a->segment);
	m.u.audio = *a;
	return ret ? ret : s_send(ctx, &m);
}

/* BEGIN opens the segment on its port, END closes it and says how many records it had. */
static int s_mark_segment(struct vhs_ctx *ctx, struct vhs_segment *s)
{
	struct port_out *o;
	struct open_segment *open, *grown;

	if (s->port >= ctx->n_out)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment marker for output port %u", s->port);
	o = &ctx->out[s->port];
	open = s_open_segment(o, s->index);
	if (s->phase == VHS_SEG_END) {
		if (!open)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "END of segment %u on output %u without "
					"its BEGIN", s->index, s->port);
		s->frames = open->sent;
		*open = o->open[--o->n_open];
		return 0;
	}
	if (open)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u begun twice on output %u", s->index,
				s->port);
	grown = vhs_grow(o->open, o->n_open, &o->cap_open, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	o->open = grown;
	o->open[o->n_open++] = (struct open_segment){ .index = s->index };
	return 0;
}

int vhs_send_segment(struct vhs_ctx *ctx, struct vhs_segment *s)
{
	struct vhs_msg m = { .type = VHS_MSG_SEGMENT };
	int ret = 0;

	if (s->phase == VHS_SEG_BEGIN || s->phase == VHS_SEG_END)
		ret = s_mark_segment(ctx, s);
	m.u.segment = *s;
	return ret ? ret : s_send(ctx, &m);
}

int vhs_next_segment(struct vhs_ctx *ctx, uint32_t *index, int wait)
{
	struct vhs_msg m;
	uint64_t t0 = s_now();
	int ret = 0;

	while (!ret && !ctx->stop && !ctx->drain) {
		if (!s_fifo_pop(ctx, &m)) {
			ret = s_pump(ctx, wait ? 250 : 0);
			if (ret == 0 && !wait)
				ret = -EAGAIN;
			ret = ret < 0 ? ret : 0;
			if (wait)
				s_waited(&ctx->stats.wait_in_ns, &t0);
			s_maybe_stats(ctx);
			continue;
		}
		if (m.type == VHS_MSG_EOS)
			break;
		if (m.type != VHS_MSG_SEGMENT || m.u.segment.phase != VHS_SEG_REQUEST)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "unexpected %s record for a source",
					vhs_proto_type_name(m.type));
		*index = m.u.segment.index;
		ret = 1;
	}
	if (wait)
		s_waited(&ctx->stats.wait_in_ns, &t0);
	if (ret < 0)
		return ret;
	if (ctx->stop)
		return -ECANCELED;
	return ret;
}

void *vhs_grow(void *array, size_t n, size_t *cap, size_t size)
{
	size_t want;
	void *grown;

	if (n < *cap)
		return array;
	want = *cap ? 2 * *cap : 4;
	grown = realloc(array, want * size);
	if (grown)
		*cap = want;
	return grown;
}

/* Takes SEGMENT REQUESTs while a reader is idle; *more = 0 once there will be none. */
static int s_take_requests(struct vhs_ctx *ctx, int n, int *busy, int n_busy, int *more,
			   int (*begin)(struct vhs_ctx *, int, uint32_t))
{
	uint32_t k;
	int ret = 0;

	for (int i = 0; !ret && *more && i < n; i++) {
		if (busy[i])
			continue;
		ret = vhs_next_segment(ctx, &k, n_busy == 0);
		if (ret == -EAGAIN)
			return 0;
		if (ret <= 0) {
			*more = 0;
			return ret;
		}
		ret = begin(ctx, i, k);
		busy[i] = ret > 0;
		n_busy += busy[i];
		ret = ret < 0 ? ret : 0;
	}
	return ret;
}

int vhs_make_segments(struct vhs_ctx *ctx, int max, int (*begin)(struct vhs_ctx *ctx, int reader, uint32_t k),
		      int (*step)(struct vhs_ctx *ctx, int reader))
{
	int n = vhs_worker_segments(ctx) < max ? vhs_worker_segments(ctx) : max;
	int n_busy = 0, more = 1, ret = 0;
	int *busy = calloc((size_t)n, sizeof(*busy));

	if (!busy)
		return -ENOMEM;
	while (!ret && (more || n_busy)) {
		ret = s_take_requests(ctx, n, busy, n_busy, &more, begin);
		n_busy = 0;
		for (int i = 0; !ret && i < n; i++) {
			if (busy[i] && (ret = step(ctx, i)) >= 0) {
				busy[i] = ret > 0;
				ret = 0;
			}
			n_busy += busy[i];
		}
	}
	free(busy);
	return ret;
}

int vhs_worker_segments(struct vhs_ctx *ctx)
{
	return ctx->segments > 0 ? ctx->segments : 1;
}

int vhs_draining(struct vhs_ctx *ctx)
{
	return ctx->drain;
}

void vhs_release(struct vhs_ctx *ctx, int port, uint32_t slot)
{
	struct vhs_msg m = { .type = VHS_MSG_RELEASE };

	m.u.grant.port = (uint8_t)port;
	m.u.grant.slot = slot;
	s_send(ctx, &m);
}

uint8_t *vhs_input_slot(struct vhs_ctx *ctx, int port, uint32_t slot)
{
	struct port_in *in = &ctx->in[port];

	if (in->on_device)
		return NULL;
	return in->pool ? in->mirror[slot] : vhs_ring_slot(&in->ring, slot);
}

void vhs_input_on_device(struct vhs_ctx *ctx, int port)
{
	if (port >= 0 && port < ctx->n_in && ctx->in[port].fmt.memory == VHS_MEMORY_CUDA)
		ctx->in[port].on_device = 1;
}

struct vhs_devpool *vhs_input_pool(struct vhs_ctx *ctx, int port)
{
	return port >= 0 && port < ctx->n_in && ctx->in[port].on_device ? ctx->in[port].pool : NULL;
}

int vhs_input_memory(struct vhs_ctx *ctx, int port, void **base, size_t *bytes)
{
	if (port < 0 || port >= ctx->n_in || !ctx->in[port].ring.base || ctx->in[port].pool)
		return -EINVAL;
	*base = ctx->in[port].ring.base;
	*bytes = ctx->in[port].ring.map_size;
	return 0;
}

/* GPU edge input: the frame into its slot's page-locked mirror, the edge's one copy. */
static int s_download(struct vhs_ctx *ctx, int port, const struct vhs_frame *f)
{
	struct port_in *in = &ctx->in[port];
	int ret;

	if (!in->mirror[f->slot] && !(in->mirror[f->slot] = vhs_devpool_host_alloc(in->fmt.slot_size)))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "out of page-locked memory for GPU edge %s",
				in->ring.name);
	ret = vhs_devpool_download(in->pool, f->slot, in->mirror[f->slot], f->bytes);
	if (ret)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "GPU edge %s: %s", in->ring.name,
				vhs_devpool_error(in->pool));
	vhs_count_copy(ctx, f->bytes);
	return 0;
}

void vhs_count_copy(struct vhs_ctx *ctx, uint64_t bytes)
{
	ctx->stats.bytes_copied += bytes;
	ctx->stats.copies++;
}

void vhs_count_gpu(struct vhs_ctx *ctx, uint64_t ns)
{
	ctx->stats.gpu_ns += ns;
}

int vhs_fail(struct vhs_ctx *ctx, enum vhs_err_class cls, const char *fmt, ...)
{
	struct vhs_msg m = { .type = VHS_MSG_ERROR };
	va_list ap;

	if (ctx->failed)
		return -EIO;
	ctx->failed = 1;
	m.u.error.cls = (uint8_t)cls;
	va_start(ap, fmt);
	vsnprintf(m.u.error.text, sizeof(m.u.error.text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vhs-stage-%s: error: %s\n", ctx->stage->name, m.u.error.text); /* the log's copy */
	if (ctx->sock)
		s_send(ctx, &m);
	return -EIO;
}

/* One line to stderr: "vhs-orchestrate: KIND" + "STAGE: text". */
static void s_say(struct vhs_ctx *ctx, const char *kind, const char *fmt, va_list ap)
{
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	fprintf(stderr, "vhs-orchestrate: %s%s: %s\n", kind, ctx->stage->name, text);
}

void vhs_warn(struct vhs_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_say(ctx, "warning: ", fmt, ap);
	va_end(ap);
}

void vhs_note(struct vhs_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_say(ctx, "", fmt, ap);
	va_end(ap);
}

int vhs_stopping(struct vhs_ctx *ctx)
{
	while (!ctx->stop && s_pump(ctx, 0) > 0)
		;
	s_maybe_stats(ctx); /* a source that never waits still beats */
	return ctx->stop;
}

/* ---- start-up, main loop, shutdown ---- */

static int s_connect(struct vhs_ctx *ctx, const char *endpoint, const char *id)
{
	int linger = 5000, hwm = 100000;

	ctx->zctx = zmq_ctx_new();
	if (!ctx->zctx)
		return -errno;
	ctx->sock = zmq_socket(ctx->zctx, ZMQ_DEALER);
	if (!ctx->sock)
		return -errno;
	zmq_setsockopt(ctx->sock, ZMQ_ROUTING_ID, id, strlen(id));
	zmq_setsockopt(ctx->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(ctx->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(ctx->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	return zmq_connect(ctx->sock, endpoint) ? -errno : 0;
}

/* A ring and its format must agree on being a GPU edge; if it is one, join its pool. */
static int s_join_gpu_edge(struct vhs_ctx *ctx, struct vhs_ring *r, const struct vhs_stream_fmt *f,
			   int exporter, struct vhs_devpool **pool)
{
	char err[256];
	int device = f->memory == VHS_MEMORY_CUDA;

	if (device != !!(r->flags & VHS_RING_DEVICE))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "ring %s and its format disagree on device memory",
				r->name);
	if (device && vhs_devpool_open(pool, r, exporter, f->slot_size, err, sizeof(err)))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot join GPU edge %s: %s", r->name, err);
	return 0;
}

static int s_attach(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	int ret;

	if (m->u.attach.n_inputs != ctx->n_in || m->u.attach.n_outputs != ctx->n_out)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "ATTACH port counts do not match");
	ctx->segments = m->u.attach.segments;
	for (int i = 0; i < ctx->n_in; i++) {
		struct port_in *in = &ctx->in[i];

		ret = vhs_ring_open(&in->ring, m->u.attach.inputs[i]);
		if (ret)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot map ring %s: %s",
					m->u.attach.inputs[i], strerror(-ret));
		ret = s_join_gpu_edge(ctx, &in->ring, &in->fmt, 0, &in->pool);
		if (!ret && in->pool && !(in->mirror = calloc(in->ring.slot_count, sizeof(*in->mirror))))
			ret = -ENOMEM;
		if (ret)
			return ret;
	}
	for (int i = 0; i < ctx->n_out; i++) {
		struct port_out *o = &ctx->out[i];

		ret = vhs_ring_open(&o->ring, m->u.attach.outputs[i]);
		if (ret)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot map ring %s: %s",
					m->u.attach.outputs[i], strerror(-ret));
		if (o->ring.slot_size < (o->fmt.memory == VHS_MEMORY_CUDA ? VHS_DEVSLOT_SIZE : o->fmt.slot_size))
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "ring %s slots too small",
					o->ring.name);
		ret = s_join_gpu_edge(ctx, &o->ring, &o->fmt, 1, &o->pool);
		if (ret)
			return ret;
		o->credits = calloc(o->ring.slot_count, sizeof(*o->credits));
		if (!o->credits)
			return -ENOMEM;
	}
	return 0;
}

static int s_spool_open(struct vhs_ctx *ctx, uint16_t instance);

/* HELLO, CONFIG, init, FORMAT, ATTACH, READY. */
static int s_startup(struct vhs_ctx *ctx, uint16_t instance)
{
	struct vhs_msg m = { .type = VHS_MSG_HELLO };
	int ret;

	snprintf(m.u.hello.stage, sizeof(m.u.hello.stage), "%s", ctx->stage->name);
	m.u.hello.pid = (uint32_t)getpid();
	m.u.hello.instance = instance;
	ret = s_send(ctx, &m);
	if (!ret)
		ret = s_expect(ctx, VHS_MSG_CONFIG, &m);
	if (ret)
		return ret;
	ctx->n_in = m.u.config.n_inputs;
	for (int i = 0; i < ctx->n_in; i++)
		ctx->in[i].fmt = m.u.config.inputs[i];
	ctx->trace = vhs_setting_int(ctx, "profile.trace", 0) != 0;
	ret = ctx->stage->init ? ctx->stage->init(ctx) : 0;
	if (ret)
		return ret;
	m = (struct vhs_msg){ .type = VHS_MSG_FORMAT };
	m.u.format.n = (uint8_t)ctx->n_out;
	for (int i = 0; i < ctx->n_out; i++)
		m.u.format.outputs[i] = ctx->out[i].fmt;
	ret = s_send(ctx, &m);
	if (!ret)
		ret = s_expect(ctx, VHS_MSG_ATTACH, &m);
	if (!ret)
		ret = s_attach(ctx, &m);
	if (!ret)
		ret = s_spool_open(ctx, instance);
	if (!ret)
		ret = s_send(ctx, &(struct vhs_msg){ .type = VHS_MSG_READY });
	ctx->running_ns = ctx->frame_ns = s_now();
	return ret;
}

/* BEGIN or END on an input port: the stage's, or passed on to every output. */
static int s_segment_marker(struct vhs_ctx *ctx, const struct vhs_segment *s)
{
	int ret = 0;

	if (s->phase != VHS_SEG_BEGIN && s->phase != VHS_SEG_END)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment record of phase %u on an input", s->phase);
	if (ctx->stage->segment)
		return ctx->stage->segment(ctx, s);
	for (int i = 0; !ret && i < ctx->n_out; i++) {
		struct vhs_segment out = *s;

		out.port = (uint8_t)i;
		ret = vhs_send_segment(ctx, &out);
	}
	return ret;
}

/* Hands a FRAME or AUDIO record to the stage. */
static int s_record(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	const struct vhs_stage *st = ctx->stage;
	int port = m->type == VHS_MSG_FRAME ? m->u.frame.port : m->u.audio.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;

	if (m->type == VHS_MSG_FRAME && st->video)
		return st->video(ctx, &m->u.frame, vhs_input_slot(ctx, port, slot));
	if (m->type == VHS_MSG_AUDIO && st->audio)
		return st->audio(ctx, &m->u.audio, vhs_input_slot(ctx, port, slot));
	vhs_release(ctx, port, slot); /* a stage without a handler drops it */
	return 0;
}

/* A record on the first input port is the stage's frame: the test delay, then the stage,
 * timed when profiling. */
static int s_timed_record(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	uint64_t t0 = ctx->trace ? s_now() : 0, waited = ctx->stats.wait_in_ns + ctx->stats.wait_out_ns;
	int ret;

	s_test_delay(ctx);
	ret = s_record(ctx, m);
	if (ctx->trace)
		s_trace_frame(ctx, t0, ctx->stats.wait_in_ns + ctx->stats.wait_out_ns - waited,
			      m->type == VHS_MSG_FRAME ? m->u.frame.segment : m->u.audio.segment,
			      m->type == VHS_MSG_FRAME ? m->u.frame.index : m->u.audio.index);
	return ret;
}

/* Appends one entry to the recording (proto/recording.h): its head, then data_len bytes. */
static int s_spool_entry(struct vhs_ctx *ctx, const struct vhs_msg *m, const void *data, uint32_t data_len)
{
	uint8_t small[VHS_MSG_MAX + 8];
	uint8_t *buf = small;
	size_t cap = vhs_recording_head_size(m);
	int n, ret;

	if (cap > sizeof(small) && !(buf = malloc(cap)))
		return -ENOMEM;
	n = vhs_recording_pack(m, data_len, buf, cap);
	ret = n < 0 ? n : vhs_tempfile_write(ctx->spool, buf, (size_t)n);
	if (!ret && data_len)
		ret = vhs_tempfile_write(ctx->spool, data, data_len);
	if (buf != small)
		free(buf);
	return ret ? vhs_fail(ctx, VHS_ERR_OUTPUT, "profile spool: %s", strerror(-ret)) : 0;
}

/* profile.spool: opens DIR/spool.INSTANCE and writes what the stage was configured with. */
static int s_spool_open(struct vhs_ctx *ctx, uint16_t instance)
{
	char dir[4096], name[32];
	struct vhs_msg m = { .type = VHS_MSG_CONFIG };
	int ret;

	if (vhs_setting(ctx, "profile.spool", dir, sizeof(dir)) < 0)
		return 0;
	vhs_recording_name(name, sizeof(name), instance);
	ret = vhs_tempfile_open(&ctx->spool, dir, name);
	if (ret)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "profile spool in '%s': %s", dir, strerror(-ret));
	m.u.config.n_inputs = (uint8_t)ctx->n_in;
	for (int i = 0; i < ctx->n_in; i++)
		m.u.config.inputs[i] = ctx->in[i].fmt;
	m.u.config.settings = ctx->settings;
	m.u.config.settings_len = (uint32_t)strlen(ctx->settings);
	ret = s_spool_entry(ctx, &m, NULL, 0);
	m = (struct vhs_msg){ .type = VHS_MSG_ATTACH };
	m.u.attach.segments = (uint16_t)ctx->segments;
	return ret ? ret : s_spool_entry(ctx, &m, NULL, 0);
}

/* An input record into the spool, with its slot's bytes. */
static int s_spool_input(struct vhs_ctx *ctx, const struct vhs_msg *m, int port)
{
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;
	uint32_t bytes = m->type == VHS_MSG_FRAME ? m->u.frame.bytes : m->type == VHS_MSG_AUDIO ? m->u.audio.bytes : 0;

	if (!ctx->spool)
		return 0;
	if (bytes && ctx->in[port].on_device)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "profile spool: input %d is read on the GPU; record it "
				"with run.gpu_edges = \"off\"", port);
	return s_spool_entry(ctx, m, bytes ? vhs_input_slot(ctx, port, slot) : NULL, bytes);
}

static int s_dispatch(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	const struct vhs_stage *st = ctx->stage;
	int port = m->type == VHS_MSG_FRAME ? m->u.frame.port
		 : m->type == VHS_MSG_AUDIO ? m->u.audio.port
		 : m->type == VHS_MSG_SEGMENT ? m->u.segment.port : m->u.eos.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;

	if (port >= ctx->n_in || ctx->in[port].eos)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s for port %d out of turn",
				vhs_proto_type_name(m->type), port);
	if (m->type == VHS_MSG_EOS || m->type == VHS_MSG_SEGMENT) {
		int ret = s_spool_input(ctx, m, port);

		if (ret || m->type == VHS_MSG_SEGMENT)
			return ret ? ret : s_segment_marker(ctx, &m->u.segment);
		ctx->in[port].eos = 1;
		return st->eos ? st->eos(ctx, port) : 0;
	}
	if (slot >= ctx->in[port].ring.slot_count ||
	    (m->type == VHS_MSG_FRAME ? m->u.frame.bytes : m->u.audio.bytes) >
		    s_slot_capacity(&ctx->in[port].ring, &ctx->in[port].fmt) ||
	    (ctx->in[port].pool && m->type != VHS_MSG_FRAME))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "descriptor outside ring %s",
				ctx->in[port].ring.name);
	ctx->stats.frames_in++;
	s_crash_point(ctx);
	if (ctx->in[port].pool && !ctx->in[port].on_device) {
		int ret = s_download(ctx, port, &m->u.frame);

		if (ret)
			return ret;
	}
	if (s_spool_input(ctx, m, port))
		return -EIO;
	return port == 0 ? s_timed_record(ctx, m) : s_record(ctx, m);
}

static int s_inputs_done(struct vhs_ctx *ctx)
{
	for (int i = 0; i < ctx->n_in; i++)
		if (!ctx->in[i].eos)
			return 0;
	return 1;
}

/* Drains input records until every input port has ended. */
static int s_loop(struct vhs_ctx *ctx)
{
	struct vhs_msg m;
	uint64_t t0;
	int ret = 0;

	while (!ret && !ctx->stop && !s_inputs_done(ctx)) {
		if (!s_fifo_pop(ctx, &m)) {
			t0 = s_now();
			ret = s_pump(ctx, 250);
			ctx->stats.wait_in_ns += s_now() - t0;
			ret = ret < 0 ? ret : 0;
		} else {
			ret = s_dispatch(ctx, &m);
		}
		s_maybe_stats(ctx);
	}
	return ret;
}

/* After the inputs (or the source) ended: finish, EOS on every output, STATS, DONE. */
static int s_finish(struct vhs_ctx *ctx)
{
	struct vhs_msg m = { .type = VHS_MSG_EOS };
	int ret = ctx->stage->finish ? ctx->stage->finish(ctx) : 0;

	for (int i = 0; !ret && i < ctx->n_out; i++) {
		m.u.eos.port = (uint8_t)i;
		m.u.eos.count = ctx->out[i].sent;
		ret = s_send(ctx, &m);
	}
	if (!ret && ctx->spool && (ret = vhs_tempfile_commit(&ctx->spool)))
		vhs_fail(ctx, VHS_ERR_OUTPUT, "profile spool: %s", strerror(-ret));
	if (ret)
		return ret;
	s_send_stats(ctx);
	return s_send(ctx, &(struct vhs_msg){ .type = VHS_MSG_DONE });
}

/* An exporter that has buffers out waits, before freeing them, for DETACHED on each GPU
 * output port: the orchestrator sends it once every importer of the edge has exited. A
 * lost orchestrator kills the stage anyway (PR_SET_PDEATHSIG); the timeout is a last
 * resort against a bug, and says so. */
static void s_detach_wait(struct vhs_ctx *ctx)
{
	uint64_t deadline = s_now() + DETACH_TIMEOUT_NS;
	int waiting = 1;

	while (waiting) {
		waiting = 0;
		for (int i = 0; i < ctx->n_out; i++)
			waiting |= vhs_devpool_bytes(ctx->out[i].pool) && !ctx->out[i].detached;
		if (!waiting || !ctx->sock)
			return;
		if (s_now() > deadline) {
			vhs_warn(ctx, "no DETACHED after %llu s; freeing the GPU edge's buffers",
				 DETACH_TIMEOUT_NS / 1000000000ull);
			return;
		}
		if (s_pump(ctx, 250) < 0)
			return;
	}
}

static void s_teardown(struct vhs_ctx *ctx)
{
	vhs_tempfile_abort(&ctx->spool); /* unfinished: no spool under its final name */
	if (ctx->stage->uninit && ctx->priv)
		ctx->stage->uninit(ctx);
	s_detach_wait(ctx);
	for (int i = 0; i < VHS_MAX_PORTS; i++) {
		struct port_in *in = &ctx->in[i];

		vhs_devpool_close(in->pool); /* importers close their handles first (devpool.h) */
		for (uint32_t s = 0; in->mirror && s < in->ring.slot_count; s++)
			vhs_devpool_host_free(in->mirror[s]);
		free(in->mirror);
		vhs_devpool_close(ctx->out[i].pool);
		vhs_ring_close(&in->ring);
		vhs_ring_close(&ctx->out[i].ring);
		free(ctx->out[i].credits);
		free(ctx->out[i].open);
	}
	if (ctx->sock)
		zmq_close(ctx->sock);
	if (ctx->zctx)
		zmq_ctx_term(ctx->zctx);
	free(ctx->priv);
	free(ctx->settings);
	free(ctx->fifo);
}

/* Dies with the orchestrator, ignores the terminal's Ctrl-C (the orchestrator handles it). */
static int s_process_setup(void)
{
	const char *parent = getenv("VHS_PARENT_PID");

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent && getppid() != (pid_t)atol(parent))
		return -ESRCH; /* the orchestrator died before prctl took effect */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void s_usage(const char *name)
{
	fprintf(stderr,
		"usage: vhs-stage-%s --ctl ENDPOINT [--instance N]\n"
		"A stage process of vhs-orchestrate; it is started by the orchestrator, not by hand.\n",
		name);
}

int vhs_stage_main(const struct vhs_stage *stage, int argc, char **argv)
{
	struct vhs_ctx ctx = { .stage = stage };
	const char *endpoint = NULL;
	char id[VHS_NAME_LEN + 8];
	long instance = 0;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ctl") && i + 1 < argc)
			endpoint = argv[++i];
		else if (!strcmp(argv[i], "--instance") && i + 1 < argc)
			instance = atol(argv[++i]);
		else
			return s_usage(stage->name), 2;
	}
	if (!endpoint)
		return s_usage(stage->name), 2;
	if (s_process_setup())
		return 1;
	snprintf(id, sizeof(id), "%s.%ld", stage->name, instance);
	s_test_setup(&ctx);
	ctx.priv = calloc(1, stage->priv_size ? stage->priv_size : 1);
	ret = ctx.priv ? s_connect(&ctx, endpoint, id) : -ENOMEM;
	if (!ret)
		ret = s_startup(&ctx, (uint16_t)instance);
	if (!ret)
		ret = stage->run ? stage->run(&ctx) : s_loop(&ctx);
	if (!ret && !ctx.stop)
		ret = s_finish(&ctx);
	if (ret && !ctx.stop && !ctx.failed)
		vhs_fail(&ctx, VHS_ERR_INTERNAL, "%s", strerror(ret < 0 ? -ret : ret));
	s_teardown(&ctx);
	if (ctx.stop && !ctx.failed)
		return EXIT_STOPPED;
	return ret ? 1 : 0;
}
