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
#include "ipc_pool.h"
#include "ipc_pool_kernels.h"
#include "ring.h"

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
		_exit(role == PRODUCER ? ipc_producer(sv[1], r->ring.name)
				       : ipc_consumer(sv[1], r->ring.name));
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
	ipc_send(r->c[CONSUMER].fd, &sl->filled); /* a dead consumer is seen by its end of file */
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
	r->t_last = ipc_now();
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
			r->t_start = r->t_last = ipc_now();
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
	       (ret = ipc_recv(r->c[role].fd, &m, MSG_DONTWAIT)) != -EAGAIN) {
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
		if (ipc_send(r->c[PRODUCER].fd, &g))
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
	uint64_t end = ipc_now() + (uint64_t)STOP_MS * 1000000u;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char what[200];
	int ret = 1, erred = 0;
	struct msg m;

	ipc_say(c->fd, MSG_STOP);
	while (ret > 0 && ipc_now() < end) {
		if (poll(&pfd, 1, (int)((end - ipc_now()) / 1000000u) + 1) <= 0)
			continue;
		ret = ipc_recv(c->fd, &m, 0);
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
	while (!r->failed && ipc_recv(c->fd, &m, 0) > 0)
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
		ipc_send(c->fd, &r->slot[i].filled);
	}
}

/* The producer died: the attempt ends. Its last FILLED records are dropped, the consumer
 * stopped, the ring replaced, and both started again from the first seq not verified. */
static void s_kill_producer(struct run *r)
{
	struct child *p = &r->c[PRODUCER];
	struct msg m;

	kill(p->pid, SIGKILL);
	while (ipc_recv(p->fd, &m, 0) > 0)
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
	r->t_last = ipc_now();
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
		if (!r->failed && ipc_now() - r->t_last > (uint64_t)STALL_MS * 1000000u)
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
	r.t_last = ipc_now();
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

/* ---- the device, asked by a probe child (ipc_probe) ------------------------------------ */

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
		if (ipc_probe(&p, 0) || !p.avail || p.ret) {
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
	if (ipc_probe(&p, 1)) {
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
	if (p.ret || ipc_probe(&p, 0) || p.ret) {
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
