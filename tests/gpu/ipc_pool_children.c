/* ipc_pool_children.c: the two children of test_ipc_pool (ipc_pool.h): the producer fills
 * the pool buffer of each slot it is granted on its own stream and says FILLED, the consumer
 * verifies each FILLED slot on its stream, releases it, and says VERIFIED once the verify is
 * over; both through the pool's event pair only (test_ipc_pool.c says why). Also the
 * records both sides exchange, and the probe child that asks the device. */
#ifndef IPK_NO_CUDA
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
#include "ipc_pool.h"
#include "ipc_pool_kernels.h"
#include "ring.h"

uint64_t ipc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int ipc_send(int fd, const struct msg *m)
{
	ssize_t n;

	do
		n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : n < 0 ? -errno : -EIO;
}

int ipc_say(int fd, uint32_t type)
{
	struct msg m = { .type = type };

	return ipc_send(fd, &m);
}

/* One record from fd: 1, 0 at end of file (the peer is gone), -EAGAIN (MSG_DONTWAIT and
 * nothing waiting) or -errno; a record of another size is -EPROTO. A peer that died with
 * unread records leaves ECONNRESET pending ahead of what it sent: read on past it. */
int ipc_recv(int fd, struct msg *m, int flags)
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
	ipc_send(s->fd, &m);
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
	uint64_t end = ipc_now() + (uint64_t)ms * 1000000u;
	int ret;

	while ((ret = ipk_stream_done(stream)) == 0 && ipc_now() < end)
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
	f.t_filled = ipc_now();
	return ipc_send(s->fd, &f) ? -1 : 0;
}

int ipc_producer(int fd, const char *ring_name)
{
	struct side s = { .fd = fd };
	struct msg m, rep = { .type = MSG_REPORT };
	int ret;

	if (s_side_open(&s, ring_name, 1) || ipc_say(fd, MSG_READY))
		return 1;
	while ((ret = ipc_recv(fd, &m, 0)) > 0 && m.type == MSG_GRANT)
		if (s_produce(&s, &m))
			return 1;
	if (ret <= 0 || m.type != MSG_STOP)
		return 1;
	rep.flags = s_stream_wait(s.stream, DRAIN_MS) == 1;
	rep.pool_bytes = vhs_devpool_bytes(s.pool);
	ret = ipc_send(fd, &rep); /* first: a close that hangs is then told from a lost STOP */
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
	return ipc_send(s->fd, &rel) ? -1 : 0;
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
		v.latency = ipc_now() - h->m.t_filled;
		v.mismatches = c->bad_host[i] + h->host_bad;
		c->verified++;
		c->mismatches += v.mismatches;
		c->fly_head = (i + 1) % QCAP;
		c->fly_n--;
		if (ipc_send(c->s.fd, &v))
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
	while ((ret = ipc_recv(c->s.fd, &m, MSG_DONTWAIT)) > 0) {
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
	if (report && ipc_send(c->s.fd, &rep))
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

int ipc_consumer(int fd, const char *ring_name)
{
	static struct consumer c;
	int ret;

	c.s.fd = fd;
	ret = s_consumer_open(&c, ring_name);
	if (!ret)
		ret = ipc_say(fd, MSG_READY) ? -1 : 0;
	while (!ret)
		ret = s_consumer_step(&c);
	return s_consumer_close(&c, ret == 1);
}

/* ---- the probe child ---------------------------------------------------------------- */

int ipc_probe(struct probe *p, int ipc)
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
#endif
