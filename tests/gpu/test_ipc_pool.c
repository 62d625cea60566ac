/* test_ipc_pool.c: the device buffer pool (shm/devpool.h) between two processes, used the
 * way the pipeline uses it, with each side killed mid-run. A plain C program: the GPU
 * machines have no Criterion.
 *
 *   make build/tests/gpu/test_ipc_pool && build/tests/gpu/test_ipc_pool   (or make test-gpu)
 *
 * Exit status: 0 all passed, 1 a check failed, 77 skipped (no usable GPU, or a build
 * without CUDA: says why). One line per check; the hand-off rate and latency of the clean
 * phase go on a line of their own starting "bench:" (for bench/RESULTS.md).
 *
 * DESIGN
 * This process plays the orchestrator and never calls CUDA: a CUDA context does not
 * survive fork, and its children are forked without exec. It creates the ring
 * (vhs_ring_create, VHS_DEVSLOT_SIZE slots, VHS_RING_DEVICE) and forks a producer and a
 * consumer; each opens the ring by name and the pool on it, makes its stream, says READY.
 * What the test asks the device itself (is there one, how much memory is free) is asked
 * by a short-lived probe child. Messages go over one socketpair per child
 * (SOCK_SEQPACKET: a send is one record, a dead peer reads as end of file):
 *
 *   parent                          producer                    consumer
 *   GRANT(slot, seq) -------------> buffer, begin_write, fill,
 *                                   end_write; no host wait
 *            <--------------------- FILLED(slot, seq, t sent)
 *   FILLED ------------------------------------------------------> buffer, begin_read,
 *                                                                  verify, end_read;
 *                                                                  no host wait
 *            <---------------------------------------------------- RELEASE(slot, seq)
 *   GRANT(slot, next) ------------> its stream waits for drained
 *            <---------------------------------------------------- VERIFIED(seq,
 *                                                                  mismatches, latency)
 *
 * The parent hands out the sequence numbers (GRANT names the seq to write: it stands for
 * the frame the orchestrator wants made) and keeps each one's state: to do, being
 * written, being read, released, verified. Neither child waits on the host before
 * handing a slot on, so only the pool's event pair keeps fill and verify apart: every
 * 16th seq has a slow fill (the consumer must wait for it), another a slow verify (the
 * producer, granted the slot again at RELEASE, must wait for it), and a read that comes
 * too early or a write that comes too soon shows as words that differ from the pattern
 * of (slot, seq). The consumer learns that a verify is over from an event it records
 * after it, behind a copy of its mismatch counter (one integer), and only then sends
 * VERIFIED, with the time since the producer sent FILLED (its fill may still have been
 * running then): the latency of a hand-off, relay included.
 *
 * Faults, and what the parent does about them (DESIGN.md, Supervision; devpool.h,
 * Lifetime):
 *   consumer killed: the parent reads what it sent before dying, takes back its slots and
 *     starts a new consumer, which imports the same handles from the same, live exporter.
 *     Slots it held (FILLED, never released) still hold their data, since the producer is
 *     not granted them: the parent re-sends those FILLED records and the new consumer
 *     verifies them. Seqs it released but never reported verified are made again (their
 *     slots may already have been written over).
 *   producer killed: the attempt ends. The parent sends STOP to the consumer, which stops
 *     waiting for its work, closes its handles (vhs_devpool_close) and exits; what it
 *     reports after the kill is not counted (a kill mid-fill may leave a torn buffer).
 *     The ring is removed, a new one made under a new name, a new producer exports new
 *     buffers, and the run goes on from the first seq not yet verified.
 * So every seq is counted verified exactly once; counted twice, never, or with any
 * mismatch is a failure.
 *
 * Phases, each with its own rings and processes: 1 clean hand-offs (the bench line),
 * 2 slow fills and verifies, every 50th also downloaded and checked on the host,
 * 3 consumer killed 3 times, 4 producer killed 10 times (half of them mid-fill),
 * 5 consumer killed twice right after releasing a slot whose slow verify is still
 * running (granted again at once, so the producer's stream waits on a `drained` record
 * whose process is gone). A phase that verifies nothing for STALL_MS fails, naming the
 * likely cause, and the next phase runs. Free device memory (cudaMemGetInfo, in a fresh
 * probe process with every other child gone) is taken before phase 1, after phase 4
 * (ten producer restarts) and at the end.
 */
#ifdef IPK_NO_CUDA
#include <stdio.h>

int main(void)
{
	printf("skip: this build has no CUDA (make CUDA=0 or no nvcc)\n");
	return 77;
}
#else
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devpool.h"
#include "ipc_pool_kernels.h"
#include "ring.h"

#define SKIP 77
#define SLOTS 8u                     /* ring slots, so pool buffers */
#define BUF_BYTES ((size_t)4 << 20)  /* bytes filled and verified per hand-off */
#define POOL_BUF ((BUF_BYTES + VHS_DEVPOOL_ALIGN - 1) / VHS_DEVPOOL_ALIGN * VHS_DEVPOOL_ALIGN)
#define DL_BYTES ((size_t)1 << 20)   /* bytes a download brings to the host to check */
#define SLOW_EVERY 16                /* seq % SLOW_EVERY == SLOW_FILL: slow fill, */
#define SLOW_FILL 3                  /*   == SLOW_READ: slow verify */
#define SLOW_READ 11
#define QCAP (2 * SLOTS)             /* consumer: FILLED held, hand-offs in flight */
#define STALL_MS 20000               /* no hand-off verified for this long: stuck */
#define STOP_MS 5000                 /* a child answers STOP and exits within this */
#define DRAIN_MS 1000                /* a child at STOP lets its stream finish this long */
#define MAX_SHOWN 10                 /* mismatching hand-offs printed per phase */
/* cudaMemGetInfo counts the whole device, and the driver's own use moves by a page or
 * two between two looks with nothing leaked (allocations are in 2 MiB pages; per-process
 * state is released as processes are reaped). A leaked pool loses at least one 4 MiB
 * buffer per attempt, 40 MiB over ten restarts, so 4 MiB tells the two apart. */
#define MEM_TOL ((size_t)4 << 20)

/* ---- messages ------------------------------------------------------------------------- */

enum msg_type { MSG_READY = 1, MSG_GRANT, MSG_FILLED, MSG_RELEASE, MSG_VERIFIED, MSG_STOP,
		MSG_REPORT, MSG_ERROR };
#define MSG_DOWNLOAD 1u /* flags of a FILLED to the consumer: download and check on the host too */

/* One record on a socketpair. Both ends are this program on this machine, so it goes as
 * the struct itself. */
struct msg {
	uint32_t type;        /* MSG_* */
	uint32_t slot;        /* GRANT FILLED RELEASE VERIFIED */
	uint64_t seq;         /* GRANT FILLED RELEASE VERIFIED */
	uint64_t t_filled;    /* FILLED VERIFIED: CLOCK_MONOTONIC ns, FILLED leaving the producer */
	uint64_t latency;     /* VERIFIED: ns from t_filled until the consumer saw its verify end */
	uint64_t mismatches;  /* VERIFIED: words of this seq found wrong; REPORT: their sum */
	uint64_t count;       /* REPORT (consumer): VERIFIED records sent */
	uint64_t pool_bytes;  /* REPORT: vhs_devpool_bytes() before closing */
	uint32_t delay_us;    /* GRANT: fill delay; FILLED to the consumer: verify delay */
	uint32_t flags;       /* FILLED to the consumer: MSG_DOWNLOAD; REPORT: 1 if its stream had
			       * finished before it closed */
	char text[208];       /* ERROR */
};
_Static_assert(sizeof(struct msg) == 272, "struct msg has no padding");

static uint64_t s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int s_send(int fd, const struct msg *m)
{
	ssize_t n;

	do
		n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : n < 0 ? -errno : -EIO;
}

static int s_say(int fd, uint32_t type)
{
	struct msg m = { .type = type };

	return s_send(fd, &m);
}

/* One record from fd: 1, 0 at end of file (the peer is gone), -EAGAIN (MSG_DONTWAIT and
 * nothing waiting) or -errno; a record of another size is -EPROTO. A peer that died with
 * unread records leaves ECONNRESET pending ahead of what it sent: read on past it. */
static int s_recv(int fd, struct msg *m, int flags)
{
	ssize_t n;

	do
		n = recv(fd, m, sizeof(*m), flags);
	while (n < 0 && (errno == EINTR || errno == ECONNRESET));
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return 0;
	return n == (ssize_t)sizeof(*m) ? 1 : -EPROTO;
}

/* ---- children: what both do ----------------------------------------------------------- */

/* A child's end of the edge. */
struct side {
	int fd;                    /* socket to the parent */
	struct vhs_ring ring;      /* mapped by name */
	struct vhs_devpool *pool;
	void *stream;              /* all of this child's device work */
};

/* Sends ERROR "call: why" to the parent. Returns -1. */
static int s_error(struct side *s, const char *call, const char *why)
{
	struct msg m = { .type = MSG_ERROR };

	snprintf(m.text, sizeof(m.text), "%.40s: %.160s", call, why);
	s_send(s->fd, &m);
	return -1;
}

static int s_pool_ck(struct side *s, int ret, const char *call)
{
	return ret ? s_error(s, call, vhs_devpool_error(s->pool)) : 0;
}

static int s_ipk_ck(struct side *s, int ret, const char *call)
{
	return ret ? s_error(s, call, ret == -EIO ? ipk_error() : strerror(-ret)) : 0;
}

static int s_side_open(struct side *s, const char *ring_name, int exporter)
{
	char err[256];
	int ret = vhs_ring_open(&s->ring, ring_name);

	if (ret)
		return s_error(s, "vhs_ring_open", strerror(-ret));
	ret = vhs_devpool_open(&s->pool, &s->ring, exporter, BUF_BYTES, err, sizeof(err));
	if (ret)
		return s_error(s, "vhs_devpool_open", err);
	return s_ipk_ck(s, ipk_stream_new(&s->stream), "stream");
}

/* 1 once everything on stream has finished, 0 if it has not within ms, -1 on an error. */
static int s_stream_wait(void *stream, int ms)
{
	uint64_t end = s_now() + (uint64_t)ms * 1000000u;
	int ret;

	while ((ret = ipk_stream_done(stream)) == 0 && s_now() < end)
		usleep(100);
	return ret < 0 ? -1 : ret;
}

/* Closes the pool first (importers before the exporter frees: the parent stops the
 * producer only once the consumer has exited), then the stream and the ring. */
static void s_side_close(struct side *s)
{
	vhs_devpool_close(&s->pool);
	s->pool = NULL;
	ipk_stream_free(s->stream);
	s->stream = NULL;
	vhs_ring_close(&s->ring);
}

/* ---- the producer --------------------------------------------------------------------- */

/* GRANT: the slot is this process's until it sends FILLED, which gives it away. */
static int s_produce(struct side *s, const struct msg *g)
{
	struct msg f = { .type = MSG_FILLED, .slot = g->slot, .seq = g->seq };
	struct vhs_devbuf b;

	if (s_pool_ck(s, vhs_devpool_buffer(s->pool, g->slot, &b), "vhs_devpool_buffer"))
		return -1;
	if (b.bytes < BUF_BYTES)
		return s_error(s, "vhs_devpool_buffer", "buffer smaller than asked for");
	if (s_pool_ck(s, vhs_devpool_begin_write(s->pool, g->slot, s->stream), "begin_write") ||
	    s_ipk_ck(s, ipk_fill(b.ptr, BUF_BYTES, g->slot, g->seq, g->delay_us, s->stream),
		     "fill") ||
	    s_pool_ck(s, vhs_devpool_end_write(s->pool, g->slot, s->stream), "end_write"))
		return -1;
	f.t_filled = s_now();
	return s_send(s->fd, &f) ? -1 : 0;
}

static int s_producer(int fd, const char *ring_name)
{
	struct side s = { .fd = fd };
	struct msg m, rep = { .type = MSG_REPORT };
	int ret;

	if (s_side_open(&s, ring_name, 1) || s_say(fd, MSG_READY))
		return 1;
	while ((ret = s_recv(fd, &m, 0)) > 0 && m.type == MSG_GRANT)
		if (s_produce(&s, &m))
			return 1;
	if (ret <= 0 || m.type != MSG_STOP)
		return 1;
	rep.flags = s_stream_wait(s.stream, DRAIN_MS) == 1;
	rep.pool_bytes = vhs_devpool_bytes(s.pool);
	ret = s_send(fd, &rep); /* first: a close that hangs is then told from a lost STOP */
	s_side_close(&s);
	return ret ? 1 : 0;
}

/* ---- the consumer --------------------------------------------------------------------- */

struct handoff {
	struct msg m;        /* the FILLED record as the parent forwarded it */
	uint64_t host_bad;   /* words the host check of a download found wrong */
};

struct consumer {
	struct side s;
	struct handoff held[QCAP];      /* FILLED received, not yet enqueued (FIFO) */
	unsigned held_head, held_n;
	struct handoff fly[QCAP];       /* enqueued and released, not yet reported (FIFO); entry
					 * i counts into bad_dev[i], copies it to bad_host[i],
					 * and done[i] completes after that copy */
	unsigned fly_head, fly_n;
	unsigned long long *bad_dev;    /* [QCAP] device mismatch counters */
	unsigned long long *bad_host;   /* [QCAP] pinned host copies */
	void *done[QCAP];               /* events */
	uint32_t *dl;                   /* pinned, DL_BYTES: downloads */
	uint64_t verified, mismatches;  /* as sent in VERIFIED records */
};

static uint64_t s_host_check(const uint32_t *w, size_t words, uint32_t slot, uint64_t seq)
{
	uint64_t bad = 0;

	for (size_t i = 0; i < words; i++)
		bad += w[i] != ipk_pattern(slot, seq, i);
	return bad;
}

/* FILLED: the slot is this process's until RELEASE gives it back, sent as soon as the
 * reads are enqueued; the pool's drained event holds the producer off until they are
 * done. A download, when asked for, comes first: its end_read is then not the last. */
static int s_consume(struct consumer *c, const struct handoff *in)
{
	unsigned i = (c->fly_head + c->fly_n) % QCAP;
	struct handoff *h = &c->fly[i];
	struct msg rel = { .type = MSG_RELEASE, .slot = in->m.slot, .seq = in->m.seq };
	struct side *s = &c->s;
	struct vhs_devbuf b;

	*h = *in;
	if (s_pool_ck(s, vhs_devpool_buffer(s->pool, h->m.slot, &b), "vhs_devpool_buffer"))
		return -1;
	if (b.bytes < BUF_BYTES)
		return s_error(s, "vhs_devpool_buffer", "buffer smaller than asked for");
	if (h->m.flags & MSG_DOWNLOAD) {
		if (s_pool_ck(s, vhs_devpool_download(s->pool, h->m.slot, c->dl, DL_BYTES),
			      "download"))
			return -1;
		h->host_bad = s_host_check(c->dl, DL_BYTES / 4, h->m.slot, h->m.seq);
	}
	if (s_pool_ck(s, vhs_devpool_begin_read(s->pool, h->m.slot, s->stream), "begin_read") ||
	    s_ipk_ck(s, ipk_counter_reset(&c->bad_dev[i], s->stream), "counter reset") ||
	    s_ipk_ck(s, ipk_verify(b.ptr, BUF_BYTES, h->m.slot, h->m.seq, h->m.delay_us,
				   &c->bad_dev[i], s->stream), "verify") ||
	    s_pool_ck(s, vhs_devpool_end_read(s->pool, h->m.slot, s->stream), "end_read") ||
	    s_ipk_ck(s, ipk_counter_fetch(&c->bad_host[i], &c->bad_dev[i], s->stream),
		     "counter fetch") ||
	    s_ipk_ck(s, ipk_event_record(c->done[i], s->stream), "event record"))
		return -1;
	c->fly_n++;
	return s_send(s->fd, &rel) ? -1 : 0;
}

/* Sends VERIFIED for every hand-off at the head of the queue whose verify has finished. */
static int s_retire(struct consumer *c)
{
	while (c->fly_n) {
		unsigned i = c->fly_head;
		struct handoff *h = &c->fly[i];
		struct msg v = { .type = MSG_VERIFIED, .slot = h->m.slot, .seq = h->m.seq,
				 .t_filled = h->m.t_filled };
		int ret = ipk_event_done(c->done[i]);

		if (ret == 0)
			return 0;
		if (ret < 0)
			return s_error(&c->s, "event query", ipk_error());
		v.latency = s_now() - h->m.t_filled;
		v.mismatches = c->bad_host[i] + h->host_bad;
		c->verified++;
		c->mismatches += v.mismatches;
		c->fly_head = (i + 1) % QCAP;
		c->fly_n--;
		if (s_send(c->s.fd, &v))
			return -1;
	}
	return 0;
}

/* Reads what the parent sent: 0, 1 at STOP, -1 when the parent is gone or misbehaves. */
static int s_consumer_read(struct consumer *c, int wait_ms)
{
	struct pollfd pfd = { .fd = c->s.fd, .events = POLLIN };
	struct msg m;
	int ret;

	if (poll(&pfd, 1, wait_ms) <= 0)
		return 0;
	while ((ret = s_recv(c->s.fd, &m, MSG_DONTWAIT)) > 0) {
		if (m.type == MSG_STOP)
			return 1;
		if (m.type != MSG_FILLED || c->held_n == QCAP)
			return s_error(&c->s, "consumer", "unexpected record from the parent");
		c->held[(c->held_head + c->held_n++) % QCAP].m = m;
	}
	return ret == -EAGAIN ? 0 : -1;
}

/* One turn: 0 to go on, 1 at STOP, -1 on an error (reported) or when the parent is gone.
 * Spins while work is in flight, so VERIFIED goes out as soon as a verify ends. */
static int s_consumer_step(struct consumer *c)
{
	int ret = s_consumer_read(c, c->held_n || c->fly_n ? 0 : 1000);

	while (!ret && c->held_n && c->fly_n < QCAP) {
		struct handoff h = { .m = c->held[c->held_head].m };

		c->held_head = (c->held_head + 1) % QCAP;
		c->held_n--;
		ret = s_consume(c, &h);
	}
	return ret ? ret : s_retire(c);
}

static int s_consumer_open(struct consumer *c, const char *ring_name)
{
	struct side *s = &c->s;

	if (s_side_open(s, ring_name, 0) ||
	    s_ipk_ck(s, ipk_counters_new(&c->bad_dev, QCAP), "counters"))
		return -1;
	c->bad_host = vhs_devpool_host_alloc(QCAP * sizeof(*c->bad_host));
	c->dl = vhs_devpool_host_alloc(DL_BYTES);
	if (!c->bad_host || !c->dl)
		return s_error(s, "vhs_devpool_host_alloc", "no pinned memory");
	for (unsigned i = 0; i < QCAP; i++)
		if (s_ipk_ck(s, ipk_event_new(&c->done[i]), "event"))
			return -1;
	return 0;
}

/* STOP (report = 1) or an error: gives its work DRAIN_MS to finish (after a producer's
 * death it may wait for ever on that producer's event), then closes its handles. */
static int s_consumer_close(struct consumer *c, int report)
{
	struct msg rep = { .type = MSG_REPORT, .count = c->verified, .mismatches = c->mismatches };
	int finished = c->s.stream && s_stream_wait(c->s.stream, DRAIN_MS) == 1;

	rep.flags = finished;
	rep.pool_bytes = vhs_devpool_bytes(c->s.pool);
	if (report && s_send(c->s.fd, &rep))
		report = 0;
	if (finished) {
		/* These wait for the device: not while its work is stuck (on a dead producer's
		 * event), when this process's exit frees them instead. */
		for (unsigned i = 0; i < QCAP; i++)
			ipk_event_free(c->done[i]);
		ipk_counters_free(c->bad_dev);
		vhs_devpool_host_free(c->bad_host);
		vhs_devpool_host_free(c->dl);
	}
	s_side_close(&c->s);
	return report ? 0 : 1;
}

static int s_consumer(int fd, const char *ring_name)
{
	static struct consumer c;
	int ret;

	c.s.fd = fd;
	ret = s_consumer_open(&c, ring_name);
	if (!ret)
		ret = s_say(fd, MSG_READY) ? -1 : 0;
	while (!ret)
		ret = s_consumer_step(&c);
	return s_consumer_close(&c, ret == 1);
}

/* ---- the parent: state of a run ------------------------------------------------------- */

enum role { PRODUCER, CONSUMER };
static const char *const s_role[] = { "producer", "consumer" };

enum seq_state { SEQ_TODO, SEQ_WRITING, SEQ_READING, SEQ_RELEASED, SEQ_DONE };
enum slot_state { SLOT_FREE, SLOT_PRODUCER, SLOT_CONSUMER };
enum fault_kind {
	KILL_CONSUMER = 1,      /* as soon as `at` seqs are verified */
	KILL_CONSUMER_READING,  /* then at the next RELEASE of a slow-verify seq */
	KILL_PRODUCER,          /* as soon as `at` seqs are verified */
	KILL_PRODUCER_FILLING,  /* then at the next FILLED of a slow-fill seq, once forwarded */
};

struct fault {
	uint64_t at;            /* seqs verified */
	enum fault_kind kind;
};

struct phase {
	const char *name;
	uint64_t seqs;            /* hand-offs: sequence numbers 0 .. seqs - 1 */
	uint32_t fill_us;         /* fill delay of the slow-fill seqs */
	uint32_t verify_us;       /* verify delay of the slow-verify seqs */
	unsigned download_every;  /* every Nth seq also downloaded; 0: none */
	const struct fault *faults;
	unsigned n_faults;
	const char *stall_hint;   /* what a stall most likely means here */
};

struct child {
	pid_t pid;                /* 0: not running */
	int fd;                   /* parent's end of the socketpair, -1 */
	int ready;                /* READY received */
	uint64_t bad;             /* consumer: mismatches in every VERIFIED it sent */
	int reported;             /* REPORT received */
	struct msg report;
};

struct slot {
	enum slot_state state;
	uint64_t seq;             /* PRODUCER, CONSUMER: the seq it is written with or holds */
	struct msg filled;        /* CONSUMER: the FILLED forwarded, for a re-send */
	int checked;              /* its record was checked in this attempt */
};

struct run {
	const struct phase *ph;
	struct vhs_ring ring;     /* this attempt's, created here */
	struct child c[2];        /* [PRODUCER], [CONSUMER] */
	struct slot slot[SLOTS];
	uint8_t *state;           /* [seqs] enum seq_state */
	uint8_t *times;           /* [seqs] times counted verified */
	uint8_t *disturbed;       /* [seqs] re-sent or made again: no latency sample */
	uint64_t *lat;            /* latency samples, ns */
	size_t n_lat;
	uint64_t cursor;          /* no seq below it is to do */
	uint64_t done;            /* seqs counted verified */
	uint64_t mismatches;      /* in counted VERIFIED records */
	uint64_t resent, remade, ignored, ignored_bad, unfinished;
	unsigned kills[2], fault; /* kills made; next of ph->faults */
	enum fault_kind pending;  /* a kill to make at the end of this turn */
	int shown, twice, record_bad, records, stop_bad, report_bad;
	int failed;               /* the phase cannot go on */
	uint64_t t_start, t_last; /* ns: both children first ready; last progress */
};

static int s_failed;
static pid_t s_parent;
static unsigned s_rings;      /* rings made (names) */

static void s_check(int ok, const char *what)
{
	printf("  %s: %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		s_failed = 1;
}

static void s_fail(struct run *r, const char *what)
{
	s_check(0, what);
	r->failed = 1;
}

static int s_slow_fill(uint64_t seq)
{
	return seq % SLOW_EVERY == SLOW_FILL;
}

static int s_slow_read(uint64_t seq)
{
	return seq % SLOW_EVERY == SLOW_READ;
}

/* ---- the parent: rings and children --------------------------------------------------- */

static int s_ring_new(struct run *r)
{
	char name[48];
	int ret;

	snprintf(name, sizeof(name), "/vhs-%d-ipcpool%u", (int)getpid(), s_rings++);
	ret = vhs_ring_create(&r->ring, name, SLOTS, VHS_DEVSLOT_SIZE, "device ipc-pool test");
	if (ret) {
		printf("  FAIL: vhs_ring_create %s: %s\n", name, strerror(-ret));
		s_failed = r->failed = 1;
		return ret;
	}
	vhs_ring_set_flags(&r->ring, VHS_RING_DEVICE);
	for (unsigned i = 0; i < SLOTS; i++)
		r->slot[i] = (struct slot){ .state = SLOT_FREE };
	return 0;
}

static void s_ring_drop(struct run *r)
{
	char name[sizeof(r->ring.name)];

	if (!r->ring.base)
		return;
	memcpy(name, r->ring.name, sizeof(name));
	vhs_ring_close(&r->ring);
	vhs_ring_unlink(name);
}

/* Forks role on the current ring. The child keeps nothing of the parent's but its own
 * socket, dies with the parent, and returns only through _exit. */
static int s_spawn(struct run *r, enum role role)
{
	struct child *c = &r->c[role];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		s_fail(r, "socketpair");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		for (int i = 0; i < 2; i++)
			if (r->c[i].fd >= 0)
				close(r->c[i].fd);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != s_parent)
			_exit(1);
		_exit(role == PRODUCER ? s_producer(sv[1], r->ring.name)
				       : s_consumer(sv[1], r->ring.name));
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		s_fail(r, "fork");
		return -1;
	}
	*c = (struct child){ .pid = pid, .fd = sv[0] };
	return 0;
}

/* Waits for a child that was killed (killed = 1) or should exit by itself with 0. */
static void s_reap(struct run *r, enum role role, int killed)
{
	struct child *c = &r->c[role];
	char what[160];
	int st = 0;

	if (!c->pid)
		return;
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!killed && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		if (WIFSIGNALED(st))
			snprintf(what, sizeof(what), "%s died of signal %d", s_role[role], WTERMSIG(st));
		else
			snprintf(what, sizeof(what), "%s exited with status %d", s_role[role],
				 WEXITSTATUS(st));
		s_check(0, what);
		r->stop_bad = 1;
	}
	close(c->fd);
	c->fd = -1;
	c->pid = 0;
}

static void s_kill(struct run *r, enum role role)
{
	if (r->c[role].pid) {
		kill(r->c[role].pid, SIGKILL);
		s_reap(r, role, 1);
	}
}

/* ---- the parent: messages ------------------------------------------------------------- */

/* The first FILLED of each slot in an attempt: the ring slot must hold the producer's
 * record (devpool.h: magic, pid, bytes at offsets 0, 4, 8). */
static void s_check_record(struct run *r, uint32_t slot)
{
	const uint8_t *rec = vhs_ring_slot(&r->ring, slot);
	uint32_t magic, pid;
	uint64_t bytes;

	if (r->slot[slot].checked)
		return;
	r->slot[slot].checked = 1;
	memcpy(&magic, rec, 4);
	memcpy(&pid, rec + 4, 4);
	memcpy(&bytes, rec + 8, 8);
	r->records++;
	if (magic != VHS_DEVSLOT_MAGIC || pid != (uint32_t)r->c[PRODUCER].pid || bytes != POOL_BUF) {
		if (!r->record_bad)
			printf("  slot %u's record: magic %#x, pid %u, %llu bytes (producer %d)\n", slot,
			       magic, pid, (unsigned long long)bytes, (int)r->c[PRODUCER].pid);
		r->record_bad = 1;
	}
}

static int s_armed(const struct run *r, enum fault_kind kind)
{
	const struct phase *ph = r->ph;

	return r->fault < ph->n_faults && ph->faults[r->fault].kind == kind &&
	       r->done >= ph->faults[r->fault].at;
}

static void s_on_filled(struct run *r, const struct msg *m)
{
	struct slot *sl = &r->slot[m->slot];

	if (sl->state != SLOT_PRODUCER || sl->seq != m->seq || r->state[m->seq] != SEQ_WRITING) {
		s_fail(r, "FILLED for a slot or seq the producer was not granted");
		return;
	}
	s_check_record(r, m->slot);
	sl->state = SLOT_CONSUMER;
	sl->filled = *m;
	sl->filled.delay_us = s_slow_read(m->seq) ? r->ph->verify_us : 0;
	if (r->ph->download_every && m->seq % r->ph->download_every == 0)
		sl->filled.flags = MSG_DOWNLOAD;
	r->state[m->seq] = SEQ_READING;
	s_send(r->c[CONSUMER].fd, &sl->filled); /* a dead consumer is seen by its end of file */
	if (s_slow_fill(m->seq) && s_armed(r, KILL_PRODUCER_FILLING))
		r->pending = KILL_PRODUCER_FILLING;
}

static void s_on_release(struct run *r, const struct msg *m)
{
	struct slot *sl = &r->slot[m->slot];

	if (sl->state != SLOT_CONSUMER || sl->seq != m->seq || r->state[m->seq] != SEQ_READING) {
		s_fail(r, "RELEASE of a slot or seq the consumer did not hold");
		return;
	}
	sl->state = SLOT_FREE;
	r->state[m->seq] = SEQ_RELEASED;
	if (s_slow_read(m->seq) && s_armed(r, KILL_CONSUMER_READING))
		r->pending = KILL_CONSUMER_READING;
}

static void s_on_verified(struct run *r, const struct msg *m)
{
	char what[160];

	r->c[CONSUMER].bad += m->mismatches;
	if (r->state[m->seq] != SEQ_RELEASED) {
		snprintf(what, sizeof(what), "VERIFIED for seq %llu, which was not released (state %d)",
			 (unsigned long long)m->seq, r->state[m->seq]);
		s_fail(r, what);
		return;
	}
	r->state[m->seq] = SEQ_DONE;
	if (++r->times[m->seq] > 1)
		r->twice = 1;
	r->done++;
	r->mismatches += m->mismatches;
	r->t_last = s_now();
	if (m->mismatches && r->shown++ < MAX_SHOWN)
		printf("  seq %llu in slot %u: %llu words differ from its pattern\n",
		       (unsigned long long)m->seq, m->slot, (unsigned long long)m->mismatches);
	if (!r->disturbed[m->seq])
		r->lat[r->n_lat++] = m->latency;
}

/* A record from a running child: checked against what it may send, then acted on. */
static void s_handle(struct run *r, enum role role, const struct msg *m)
{
	static const uint32_t allowed[2] = {
		1u << MSG_READY | 1u << MSG_FILLED | 1u << MSG_ERROR | 1u << MSG_REPORT,
		1u << MSG_READY | 1u << MSG_RELEASE | 1u << MSG_VERIFIED | 1u << MSG_ERROR |
			1u << MSG_REPORT,
	};
	char what[300];

	if (m->type >= 32 || !(allowed[role] & 1u << m->type) || m->slot >= SLOTS ||
	    m->seq >= r->ph->seqs) {
		snprintf(what, sizeof(what), "%s sent a bad record (type %u, slot %u, seq %llu)",
			 s_role[role], m->type, m->slot, (unsigned long long)m->seq);
		s_fail(r, what);
		return;
	}
	switch (m->type) {
	case MSG_READY:
		r->c[role].ready = 1;
		if (!r->t_start && r->c[PRODUCER].ready && r->c[CONSUMER].ready)
			r->t_start = r->t_last = s_now();
		break;
	case MSG_FILLED:
		s_on_filled(r, m);
		break;
	case MSG_RELEASE:
		s_on_release(r, m);
		break;
	case MSG_VERIFIED:
		s_on_verified(r, m);
		break;
	case MSG_REPORT:
		r->c[role].report = *m;
		r->c[role].reported = 1;
		break;
	default:
		snprintf(what, sizeof(what), "%s: %.*s", s_role[role], (int)sizeof(m->text), m->text);
		s_fail(r, what);
	}
}

/* Everything role has sent so far; its end of file means it died unasked. */
static void s_read(struct run *r, enum role role)
{
	struct msg m;
	int ret;

	while (!r->failed && !r->pending &&
	       (ret = s_recv(r->c[role].fd, &m, MSG_DONTWAIT)) != -EAGAIN) {
		if (ret > 0) {
			s_handle(r, role, &m);
			continue;
		}
		printf("  %s: %s\n", s_role[role], ret ? strerror(-ret) : "end of file: it died");
		if (ret)
			s_kill(r, role);
		else
			s_reap(r, role, 0);
		r->failed = 1;
	}
}

static void s_grant(struct run *r)
{
	const struct phase *ph = r->ph;

	if (!r->c[PRODUCER].pid)
		return;
	for (unsigned i = 0; i < SLOTS && !r->failed; i++) {
		struct msg g = { .type = MSG_GRANT, .slot = i };

		while (r->cursor < ph->seqs && r->state[r->cursor] != SEQ_TODO)
			r->cursor++;
		if (r->cursor == ph->seqs)
			return;
		if (r->slot[i].state != SLOT_FREE)
			continue;
		g.seq = r->cursor;
		g.delay_us = s_slow_fill(g.seq) ? ph->fill_us : 0;
		r->slot[i].state = SLOT_PRODUCER;
		r->slot[i].seq = g.seq;
		r->state[g.seq] = SEQ_WRITING;
		if (s_send(r->c[PRODUCER].fd, &g))
			s_fail(r, "GRANT could not be sent to the producer");
	}
}

/* ---- the parent: stopping, killing, restarting ---------------------------------------- */

/* Sends STOP and waits for REPORT and the exit. after_kill: the producer was killed, so
 * what the consumer reports now is not counted, and an ERROR (a dead producer's handle it
 * could not open) is expected. A child that does not exit within STOP_MS is killed. */
static void s_stop(struct run *r, enum role role, int after_kill)
{
	struct child *c = &r->c[role];
	uint64_t end = s_now() + (uint64_t)STOP_MS * 1000000u;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char what[200];
	int ret = 1, erred = 0;
	struct msg m;

	s_say(c->fd, MSG_STOP);
	while (ret > 0 && s_now() < end) {
		if (poll(&pfd, 1, (int)((end - s_now()) / 1000000u) + 1) <= 0)
			continue;
		ret = s_recv(c->fd, &m, 0);
		if (ret <= 0)
			break;
		if (m.type == MSG_REPORT) {
			c->report = m;
			c->reported = 1;
		} else if (m.type == MSG_VERIFIED) {
			r->ignored++;
			r->ignored_bad += m.mismatches;
			c->bad += m.mismatches;
		} else if (m.type == MSG_ERROR) {
			printf("  %s at STOP%s: %.*s\n", s_role[role], after_kill ? " (producer dead)" : "",
			       (int)sizeof(m.text), m.text);
			erred = 1;
		}
	}
	if (ret > 0 || !c->reported) {
		if (!c->reported)
			snprintf(what, sizeof(what), "%s answered STOP with REPORT within %d s", s_role[role],
				 STOP_MS / 1000);
		else
			snprintf(what, sizeof(what), "%s closed its pool (vhs_devpool_close) and exited "
				 "within %d s of STOP%s", s_role[role], STOP_MS / 1000,
				 after_kill ? ", the producer dead" : "");
		if (!(after_kill && erred)) {
			s_check(0, what);
			r->stop_bad = 1;
		}
		s_kill(r, role);
		return;
	}
	if (role == CONSUMER && c->report.mismatches != c->bad)
		r->report_bad = 1;
	r->unfinished += !c->report.flags;
	if (!after_kill && !c->report.flags) {
		snprintf(what, sizeof(what), "%s's stream had finished its work at STOP", s_role[role]);
		s_check(0, what);
	}
	s_reap(r, role, 0);
}

/* The consumer died: read what it sent, take its slots back, start another, and re-send
 * it the FILLED records it never released (their data is still in the buffers). Seqs it
 * released but never reported verified are made again. */
static void s_kill_consumer(struct run *r)
{
	struct child *c = &r->c[CONSUMER];
	struct msg m;

	kill(c->pid, SIGKILL);
	while (!r->failed && s_recv(c->fd, &m, 0) > 0)
		s_handle(r, CONSUMER, &m);
	s_reap(r, CONSUMER, 1);
	r->kills[CONSUMER]++;
	for (uint64_t s = 0; s < r->ph->seqs; s++) {
		if (r->state[s] != SEQ_RELEASED)
			continue;
		r->state[s] = SEQ_TODO;
		r->disturbed[s] = 1;
		r->remade++;
		r->cursor = s < r->cursor ? s : r->cursor;
	}
	if (r->failed || s_spawn(r, CONSUMER))
		return;
	for (unsigned i = 0; i < SLOTS; i++) {
		if (r->slot[i].state != SLOT_CONSUMER)
			continue;
		r->disturbed[r->slot[i].seq] = 1;
		r->resent++;
		s_send(c->fd, &r->slot[i].filled);
	}
}

/* The producer died: the attempt ends. Its last FILLED records are dropped, the consumer
 * stopped, the ring replaced, and both started again from the first seq not verified. */
static void s_kill_producer(struct run *r)
{
	struct child *p = &r->c[PRODUCER];
	struct msg m;

	kill(p->pid, SIGKILL);
	while (s_recv(p->fd, &m, 0) > 0)
		;
	s_reap(r, PRODUCER, 1);
	r->kills[PRODUCER]++;
	s_stop(r, CONSUMER, 1);
	for (uint64_t s = 0; s < r->ph->seqs; s++) {
		if (r->state[s] == SEQ_DONE || r->state[s] == SEQ_TODO)
			continue;
		r->state[s] = SEQ_TODO;
		r->disturbed[s] = 1;
		r->remade++;
		r->cursor = s < r->cursor ? s : r->cursor;
	}
	s_ring_drop(r);
	if (!s_ring_new(r) && !s_spawn(r, PRODUCER))
		s_spawn(r, CONSUMER);
	r->t_last = s_now();
}

static void s_faults(struct run *r)
{
	const struct phase *ph = r->ph;

	if (!r->pending && (s_armed(r, KILL_CONSUMER) || s_armed(r, KILL_PRODUCER)))
		r->pending = ph->faults[r->fault].kind;
	if (!r->pending || r->failed)
		return;
	r->fault++;
	if (r->pending == KILL_CONSUMER || r->pending == KILL_CONSUMER_READING)
		s_kill_consumer(r);
	else
		s_kill_producer(r);
	r->pending = 0;
}

/* ---- the parent: a phase -------------------------------------------------------------- */

static void s_stalled(struct run *r)
{
	static const char *const state[] = { "free", "producer", "consumer" };
	char what[300];

	printf("  slots (slot:holder/seq):");
	for (unsigned i = 0; i < SLOTS; i++)
		printf(" %u:%s/%llu", i, state[r->slot[i].state], (unsigned long long)r->slot[i].seq);
	printf("\n");
	snprintf(what, sizeof(what), "no hand-off verified for %d s (%llu of %llu done)%s%s",
		 STALL_MS / 1000, (unsigned long long)r->done, (unsigned long long)r->ph->seqs,
		 r->ph->stall_hint ? ": " : "", r->ph->stall_hint ? r->ph->stall_hint : "");
	s_fail(r, what);
}

static void s_loop(struct run *r)
{
	while (!r->failed && r->done < r->ph->seqs) {
		struct pollfd pfd[2] = { { .fd = r->c[PRODUCER].fd, .events = POLLIN },
					 { .fd = r->c[CONSUMER].fd, .events = POLLIN } };

		if (poll(pfd, 2, 200) < 0 && errno != EINTR) {
			s_fail(r, "poll");
			break;
		}
		for (int i = 0; i < 2; i++)
			if (!r->failed && r->c[i].pid && pfd[i].revents)
				s_read(r, (enum role)i);
		s_grant(r);
		s_faults(r);
		if (!r->failed && s_now() - r->t_last > (uint64_t)STALL_MS * 1000000u)
			s_stalled(r);
	}
}

static int s_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints the rate and latency; the clean phase's also as the bench line. */
static void s_speed(struct run *r, int bench, const char *device)
{
	double secs = (double)(r->t_last - r->t_start) / 1e9, p50, p99;

	if (!r->t_start || !r->n_lat || secs <= 0)
		return;
	qsort(r->lat, r->n_lat, sizeof(*r->lat), s_cmp_u64);
	p50 = (double)r->lat[r->n_lat / 2] / 1e3;
	p99 = (double)r->lat[r->n_lat * 99 / 100] / 1e3;
	printf("  %llu hand-offs in %.3f s: %.0f a second; FILLED sent -> verified: p50 %.1f us, "
	       "p99 %.1f us (%zu samples)\n",
	       (unsigned long long)r->done, secs, (double)r->done / secs, p50, p99, r->n_lat);
	if (bench)
		printf("bench: ipc-pool hand-offs, %u slots of %zu MiB, %llu hand-offs, %s: %.0f "
		       "hand-offs/s, latency FILLED sent -> verified on the device p50 %.1f us p99 "
		       "%.1f us\n",
		       SLOTS, BUF_BYTES >> 20, (unsigned long long)r->done, device,
		       (double)r->done / secs, p50, p99);
	if (bench)
		printf("figure: {\"name\": \"ipc-pool hand-offs\", \"slots\": %u, \"slot_mib\": %zu, "
		       "\"hand_offs\": %llu, \"per_s\": %.0f, \"latency_p50_us\": %.1f, "
		       "\"latency_p99_us\": %.1f}\n",
		       SLOTS, BUF_BYTES >> 20, (unsigned long long)r->done, (double)r->done / secs,
		       p50, p99);
}

static void s_summary(struct run *r)
{
	const struct phase *ph = r->ph;
	char what[300];

	snprintf(what, sizeof(what), "%llu of %llu seqs verified, each counted exactly once",
		 (unsigned long long)r->done, (unsigned long long)ph->seqs);
	s_check(r->done == ph->seqs && !r->twice, what);
	snprintf(what, sizeof(what), "no word differs from its pattern (%llu do, in %d hand-offs)",
		 (unsigned long long)r->mismatches, r->shown);
	s_check(r->mismatches == 0, what);
	snprintf(what, sizeof(what), "every slot record names the producer's %zu MiB buffer "
		 "(%d looked at)", POOL_BUF >> 20, r->records);
	s_check(r->records > 0 && !r->record_bad, what);
	if (!r->failed && r->c[PRODUCER].reported) {
		snprintf(what, sizeof(what), "the last producer exported %llu MiB "
			 "(vhs_devpool_bytes), %u x %zu MiB",
			 (unsigned long long)r->c[PRODUCER].report.pool_bytes >> 20, SLOTS,
			 POOL_BUF >> 20);
		s_check(r->c[PRODUCER].report.pool_bytes == SLOTS * POOL_BUF, what);
	}
	if (!r->failed || r->stop_bad || r->report_bad)
		s_check(!r->stop_bad && !r->report_bad, "every STOP answered (REPORT, clean exit); "
			"consumers' totals agree with their VERIFIED");
	if (ph->n_faults) {
		snprintf(what, sizeof(what), "%u of %u kills made (consumer %u, producer %u)", r->fault,
			 ph->n_faults, r->kills[CONSUMER], r->kills[PRODUCER]);
		s_check(r->fault == ph->n_faults, what);
	}
	if (r->resent || r->remade || r->ignored || r->unfinished)
		printf("  %llu FILLED re-sent to a new consumer, %llu seqs made again, %llu VERIFIED "
		       "after a producer's kill not counted (%llu mismatches in them), %llu children "
		       "closed with their stream unfinished\n",
		       (unsigned long long)r->resent, (unsigned long long)r->remade,
		       (unsigned long long)r->ignored, (unsigned long long)r->ignored_bad,
		       (unsigned long long)r->unfinished);
}

static int s_run_init(struct run *r, const struct phase *ph)
{
	memset(r, 0, sizeof(*r));
	r->ph = ph;
	r->c[PRODUCER].fd = r->c[CONSUMER].fd = -1;
	r->state = calloc(ph->seqs, 1);
	r->times = calloc(ph->seqs, 1);
	r->disturbed = calloc(ph->seqs, 1);
	r->lat = calloc(ph->seqs, sizeof(*r->lat));
	return r->state && r->times && r->disturbed && r->lat ? 0 : -ENOMEM;
}

static void s_run_free(struct run *r)
{
	free(r->state);
	free(r->times);
	free(r->disturbed);
	free(r->lat);
}

static void s_phase(int n, const struct phase *ph, const char *device)
{
	int failed_before = s_failed;
	struct run r;

	s_failed = 0;
	printf("phase %d, %s: %llu hand-offs over %u slots of %zu MiB\n", n, ph->name,
	       (unsigned long long)ph->seqs, SLOTS, BUF_BYTES >> 20);
	if (s_run_init(&r, ph)) {
		s_check(0, "memory");
		s_run_free(&r);
		return;
	}
	r.t_last = s_now();
	if (!s_ring_new(&r) && !s_spawn(&r, PRODUCER) && !s_spawn(&r, CONSUMER))
		s_loop(&r);
	if (!r.failed) {
		s_stop(&r, CONSUMER, 0);
		s_stop(&r, PRODUCER, 0);
	}
	s_kill(&r, CONSUMER);
	s_kill(&r, PRODUCER);
	s_ring_drop(&r);
	s_summary(&r);
	s_speed(&r, n == 1 && !s_failed, device); /* the bench line only from a phase that passed */
	s_failed |= failed_before;
	s_run_free(&r);
}

/* ---- the device, asked by a probe child ----------------------------------------------- */

struct probe {
	int avail;            /* vhs_devpool_available() */
	int ipc;              /* vhs_devpool_can_export(), when asked */
	int ret;              /* ipk_device_info() */
	size_t free_bytes, total_bytes;
	char why[200];        /* !avail: why; ret: the error */
	char name[96];        /* device name */
};

/* Forks a process that asks the device and exits: the parent never holds a context.
 * ipc: also whether it can export by CUDA IPC at all. Returns 0 or -1 (the probe died:
 * why says so). */
static int s_probe(struct probe *p, int ipc)
{
	int fd[2], st = 0;
	ssize_t n;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	if (pipe(fd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(fd[0]);
		p->avail = vhs_devpool_available(p->why, sizeof(p->why));
		if (p->avail && ipc)
			p->ipc = vhs_devpool_can_export(p->why, sizeof(p->why));
		if (p->avail && (p->ret = ipk_device_info(&p->free_bytes, &p->total_bytes, p->name,
							  sizeof(p->name))))
			snprintf(p->why, sizeof(p->why), "%s", ipk_error());
		_exit(write(fd[1], p, sizeof(*p)) == (ssize_t)sizeof(*p) ? 0 : 1);
	}
	close(fd[1]);
	if (pid < 0) {
		close(fd[0]);
		return -1;
	}
	n = read(fd[0], p, sizeof(*p));
	close(fd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*p) || !WIFEXITED(st) || WEXITSTATUS(st)) {
		snprintf(p->why, sizeof(p->why), "the device probe process died (status %#x)", st);
		return -1;
	}
	return 0;
}

/* Free device memory now, with no child of ours alive, against before. A driver may
 * finish releasing a dead process's memory a little after it is reaped: looks again for
 * up to two seconds before calling it a leak. */
static void s_memory(size_t before, const char *when)
{
	struct probe p;
	char what[200];
	int ok = 0;

	for (int i = 0; i < 10 && !ok; i++) {
		if (i)
			usleep(200000);
		if (s_probe(&p, 0) || !p.avail || p.ret) {
			printf("  device probe: %s\n", p.why);
			break;
		}
		ok = p.free_bytes + MEM_TOL >= before;
	}
	snprintf(what, sizeof(what), "device memory %s: %.1f MiB free, %.1f MiB before (%+.1f MiB; "
		 "tolerance %zu MiB)", when, p.free_bytes / 1048576.0, before / 1048576.0,
		 ((double)p.free_bytes - (double)before) / 1048576.0, MEM_TOL >> 20);
	s_check(ok, what);
}

/* Rings left in /dev/shm by this process. */
static int s_rings_left(void)
{
	char prefix[32];
	struct dirent *e;
	DIR *d = opendir("/dev/shm");
	int n = 0;

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), "vhs-%d-", (int)getpid());
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* ---- phases --------------------------------------------------------------------------- */

static const struct fault s_consumer_kills[] = {
	{ 500, KILL_CONSUMER }, { 1300, KILL_CONSUMER }, { 2100, KILL_CONSUMER },
};

/* Ten producer deaths, every other one while a slow fill is running (the consumer's
 * stream is then waiting on the dead exporter's event). */
static const struct fault s_producer_kills[] = {
	{ 200, KILL_PRODUCER }, { 450, KILL_PRODUCER_FILLING }, { 700, KILL_PRODUCER },
	{ 950, KILL_PRODUCER_FILLING }, { 1200, KILL_PRODUCER }, { 1450, KILL_PRODUCER_FILLING },
	{ 1700, KILL_PRODUCER }, { 1950, KILL_PRODUCER_FILLING }, { 2200, KILL_PRODUCER },
	{ 2450, KILL_PRODUCER_FILLING },
};

static const struct fault s_reading_kills[] = {
	{ 300, KILL_CONSUMER_READING }, { 900, KILL_CONSUMER_READING },
};

#define N_OF(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

static const struct phase s_phases[] = {
	{ "clean hand-offs", 5000, 0, 0, 0, NULL, 0,
	  "likely a stream waiting on an event that never completes" },
	{ "slow fills and verifies, downloads", 3000, 500, 500, 50, NULL, 0,
	  "likely a stream waiting on an event that never completes" },
	{ "consumer killed", 3000, 500, 500, 0, s_consumer_kills, N_OF(s_consumer_kills),
	  "likely the producer's stream waiting on a drained record the killed consumer made "
	  "but never completed" },
	{ "producer killed", 3000, 2000, 500, 0, s_producer_kills, N_OF(s_producer_kills),
	  "likely a stream waiting on an event that never completes" },
	{ "consumer killed mid-read", 1500, 500, 2000, 0, s_reading_kills, N_OF(s_reading_kills),
	  "likely the killed consumer's drained record never completes, and the producer's "
	  "stream (begin_write) waits on it for ever: a consumer's death would have to end the "
	  "attempt" },
};
#define AFTER_RESTARTS 4 /* the phase with the ten producer restarts */

int main(void)
{
	struct probe p;
	char device[128];
	size_t before;

	setvbuf(stdout, NULL, _IOLBF, 0);
	s_parent = getpid();
	if (s_probe(&p, 1)) {
		printf("FAIL: %s\n", p.why);
		return 1;
	}
	if (!p.avail || !p.ipc) {
		/* No device, or one whose driver cannot export by CUDA IPC (the pipeline then
		 * keeps frames in host memory): there is no device pool to test. */
		printf("skip: %s\n", p.why);
		return SKIP;
	}
	/* The baseline from a probe that exported nothing, like every later one. */
	if (p.ret || s_probe(&p, 0) || p.ret) {
		printf("FAIL: device probe: %s\n", p.why);
		return 1;
	}
	before = p.free_bytes;
	snprintf(device, sizeof(device), "%s", p.name);
	printf("device: %s, %.0f of %.0f MiB free\n", device, before / 1048576.0,
	       p.total_bytes / 1048576.0);
	for (unsigned i = 0; i < N_OF(s_phases); i++) {
		s_phase((int)i + 1, &s_phases[i], device);
		if (i + 1 == AFTER_RESTARTS)
			s_memory(before, "after ten producer restarts");
	}
	printf("end:\n");
	s_memory(before, "after every phase");
	s_check(s_rings_left() == 0, "no ring of this test left in /dev/shm");
	printf("%s\n", s_failed ? "FAILED" : "all passed");
	return s_failed ? 1 : 0;
}
#endif
