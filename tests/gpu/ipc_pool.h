/* ipc_pool.h: what the two halves of test_ipc_pool share: the test's sizes and timings, the
 * records the parent and its children exchange on their socketpairs, and the children's
 * entry points. test_ipc_pool.c is the parent (it says how the test works);
 * ipc_pool_children.c is the producer and the consumer. */
#ifndef VHS_TEST_IPC_POOL_H
#define VHS_TEST_IPC_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "devpool.h"

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

/* CLOCK_MONOTONIC in ns. */
uint64_t ipc_now(void);
/* One record to fd: 0 or -errno (-EIO for a short send). */
int ipc_send(int fd, const struct msg *m);
/* A record with nothing but its type. */
int ipc_say(int fd, uint32_t type);
/* One record from fd: 1, 0 at end of file, -EAGAIN or -errno; another size is -EPROTO. */
int ipc_recv(int fd, struct msg *m, int flags);

/* What a probe child found out about the device. */
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
int ipc_probe(struct probe *p, int ipc);

/* The children, entered after fork: each opens the ring by name and its side of the pool,
 * says READY on fd and serves the parent's records until STOP. Return the exit status. */
int ipc_producer(int fd, const char *ring_name);
int ipc_consumer(int fd, const char *ring_name);

#endif
