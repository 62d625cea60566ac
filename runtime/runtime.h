/* runtime.h: the shared stage runtime. A stage is data plus callbacks.
 *
 * DESIGN
 * Every stage executable is `main() { return vhs_stage_main(&vhs_stage_X, argc, argv); }`.
 * The runtime owns everything a stage has in common: the DEALER socket to the
 * orchestrator, the start-up conversation (HELLO, CONFIG, FORMAT, ATTACH, READY), the
 * rings, the credit list of granted output slots, the queue of input records, heartbeats
 * (STATS every 0.5 s), error reporting and shutdown. The stage itself only sees:
 *
 *   options  the settings the stage takes, applied into its private state before init()
 *   init()   settings and input formats are known: open codecs/graphs, declare outputs
 *   run()    source stages only (no inputs): produce until the end of input
 *   video()  filter/sink stages: one filled input slot on a port
 *   audio()  same, for audio slots
 *   segment() a SEGMENT BEGIN or END marker on an input port (segments are the unit of
 *            replay: a stage's output for a segment must depend only on the records
 *            between its BEGIN and END); without it the marker is passed on to every
 *            output port unchanged
 *   eos()    an input port ended: flush what depends on it
 *   finish() all inputs ended and flushed (sinks: write the trailer)
 *   uninit() free everything (also on error paths; must cope with partial init)
 *
 * Ownership at the hand-offs:
 *   - video()/audio() are given an input slot. The stage owns it until it calls
 *     vhs_release() (directly or through an AVBufferRef's free callback); it may keep
 *     it across calls, which is how filters hold reference frames.
 *   - vhs_output_slot() gives the stage an empty output slot (blocking until the
 *     orchestrator grants one). vhs_send_video()/vhs_send_audio() give it away: the
 *     stage must not touch it afterwards.
 *
 * Callbacks return 0 or a negative error; on error the stage should first call
 * vhs_fail() with a one-line message (otherwise a generic one is sent).
 */
#ifndef VHS_RUNTIME_H
#define VHS_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "devpool.h"
#include "proto.h"
#include "ring.h"
#include "settings.h"

struct vhs_ctx;

/* One setting a stage takes into its private state, applied by the runtime before init()
 * like a libavfilter filter's AVOption row: the key (proto/settings.h), how it is stored,
 * where. A text longer than its array is refused with a config error naming the key. */
enum vhs_option_type {
	VHS_OPT_INT,              /* an int field: the number (0 when not a number) */
	VHS_OPT_DOUBLE,           /* a double field */
	VHS_OPT_STRING,           /* a char array: the text ("" for a run key absent) */
};

struct vhs_stage_option {
	enum vhs_setting_id id;
	enum vhs_option_type type;
	size_t offset;            /* of the field in the private state */
	size_t size;              /* of the field: a STRING's room */
};

/* A row for field (a member designator, such as set.model) of the private state type priv. */
#define VHS_OPTION(priv, id, type, field) \
	{ VHS_SET_##id, VHS_OPT_##type, offsetof(priv, field), sizeof(((priv *)0)->field) }

/* In a struct vhs_stage: its option table (an array of rows). */
#define VHS_OPTIONS(table) .options = (table), .n_options = (int)(sizeof(table) / sizeof((table)[0]))

struct vhs_stage {
	const char *name;         /* "decode", ... also the process's routing id */
	size_t priv_size;         /* bytes of zeroed private state, at vhs_priv() */
	const struct vhs_stage_option *options; /* applied into it before init, or NULL */
	int n_options;
	int (*init)(struct vhs_ctx *ctx);
	int (*run)(struct vhs_ctx *ctx);
	int (*video)(struct vhs_ctx *ctx, const struct vhs_frame *f, uint8_t *data);
	int (*audio)(struct vhs_ctx *ctx, const struct vhs_audio *a, uint8_t *data);
	int (*segment)(struct vhs_ctx *ctx, const struct vhs_segment *s);
	int (*eos)(struct vhs_ctx *ctx, int port);
	int (*finish)(struct vhs_ctx *ctx);
	void (*uninit)(struct vhs_ctx *ctx);
};

int vhs_stage_main(const struct vhs_stage *stage, int argc, char **argv);

void *vhs_priv(struct vhs_ctx *ctx);

/* Settings from CONFIG, by their declaration in proto/settings.h: every job key is there
 * (the runtime refuses a CONFIG without one before init), a run key that is absent means
 * its declared value. vhs_setting() copies the text into buf and returns its length, or
 * -ENOENT (a run key absent with no declared value) or -ENOSPC. The number forms read 0
 * from what is absent or not a number. */
int vhs_setting(struct vhs_ctx *ctx, enum vhs_setting_id id, char *buf, size_t len);
long long vhs_setting_int(struct vhs_ctx *ctx, enum vhs_setting_id id);
double vhs_setting_double(struct vhs_ctx *ctx, enum vhs_setting_id id);

int vhs_input_count(struct vhs_ctx *ctx);
const struct vhs_stream_fmt *vhs_input_format(struct vhs_ctx *ctx, int port);

/* Declares the stage's outputs (init only). fmts[i].slot_size must be set. */
void vhs_set_outputs(struct vhs_ctx *ctx, int n, const struct vhs_stream_fmt *fmts);

/* Waits for a granted empty slot on output port; returns 0 with *slot and *data set,
 * or -ECANCELED when the orchestrator said STOP. On a GPU edge *data is NULL: the slot's
 * memory is a device buffer, from vhs_output_device(). */
int vhs_output_slot(struct vhs_ctx *ctx, int port, uint32_t *slot, uint8_t **data);

/* GPU edges (shm/devpool.h). A stage offers one by declaring an output format with
 * memory = VHS_MEMORY_CUDA (slot_size: bytes of one device buffer); vhs_output_pool() is
 * then the port's pool once attached (NULL on a host edge). vhs_output_device() gives the
 * device buffer of a granted slot: the stage's stream must wait for b->drained before
 * writing it and record b->filled after (vhs_devpool_begin_write/end_write), then send
 * the FRAME as usual, its offsets and line sizes within the buffer. Stages reading a GPU
 * edge see nothing of it: the runtime downloads each frame once into page-locked host
 * memory that stands for the slot until it is released. */
struct vhs_devpool *vhs_output_pool(struct vhs_ctx *ctx, int port);
int vhs_output_device(struct vhs_ctx *ctx, int port, uint32_t slot, struct vhs_devbuf *b);

/* A stage that can use device frames itself (a hardware encoder) asks, in init(), for an
 * input port's GPU edge as it is (no effect on a host edge): its video() then gets data =
 * NULL, reads the slot's buffer through vhs_input_pool() (shm/devpool.h:
 * vhs_devpool_copy_planes, or begin_read/end_read around its own reads) and releases the
 * slot as usual. */
void vhs_input_on_device(struct vhs_ctx *ctx, int port);
struct vhs_devpool *vhs_input_pool(struct vhs_ctx *ctx, int port);

/* Gives a filled output slot away (f->port and f->slot name it). Returns 0 or -errno. */
int vhs_send_video(struct vhs_ctx *ctx, struct vhs_frame *f);
int vhs_send_audio(struct vhs_ctx *ctx, struct vhs_audio *a);

/* Sends a segment marker: BEGIN or END on output port s->port (END's frames is filled in:
 * the records of the segment sent on the port), DONE (sinks: the segment's files are
 * committed), or NONE (sources: the input ends before the requested segment). A worker
 * may have several segments open at once (one per upstream worker feeding it): every
 * video and audio record names its segment (f->segment), which must be open on its port. */
int vhs_send_segment(struct vhs_ctx *ctx, struct vhs_segment *s);

/* Source stages: the next SEGMENT REQUEST. Returns 1 with *index set, 0 when there will be
 * no more (the orchestrator's EOS, or DRAIN), -ECANCELED on STOP; with wait = 0 it does not
 * block and returns -EAGAIN when no request is pending yet. */
int vhs_next_segment(struct vhs_ctx *ctx, uint32_t *index, int wait);

/* The loop of a source that makes several segments at once, each on a reader of its own
 * (readers 0 .. n-1, n = vhs_worker_segments() but at most max). SEGMENT REQUESTs are taken
 * while a reader is idle, waiting for one only when no reader is busy (otherwise there is
 * work to do meanwhile); the busy readers are stepped in round robin; it returns once the
 * orchestrator says there will be no more and every reader is idle. The callbacks:
 *   begin(ctx, reader, k)  open segment k on the idle reader: 1 = open (BEGIN sent),
 *                          0 = nothing to make (NONE sent), < 0 an error
 *   step(ctx, reader)      some records of the reader's segment: 1 = still open,
 *                          0 = finished (END sent), < 0 an error
 * Returns 0, the first error, or -ECANCELED on STOP. */
int vhs_make_segments(struct vhs_ctx *ctx, int max, int (*begin)(struct vhs_ctx *ctx, int reader, uint32_t k),
		      int (*step)(struct vhs_ctx *ctx, int reader));

/* How many segments this worker may hold at once (the orchestrator's plan, known once the
 * stage runs: a source makes that many at a time). */
int vhs_worker_segments(struct vhs_ctx *ctx);

/* Room for one more element in a growable array of n elements of size bytes, *cap of
 * them allocated (stages keep small tables of open segments this way): returns the
 * array, moved if it had to grow (*cap updated), or NULL on ENOMEM (the old one is kept). */
void *vhs_grow(void *array, size_t n, size_t *cap, size_t size);

/* Gives an input slot back. The stage must not touch it afterwards. */
void vhs_release(struct vhs_ctx *ctx, int port, uint32_t slot);

/* Address of an input slot's data (for stages that keep slot numbers around). */
uint8_t *vhs_input_slot(struct vhs_ctx *ctx, int port, uint32_t slot);

/* The whole mapping of a host input ring (every slot it can give), for a stage that pins
 * it once to upload from it directly. -EINVAL on a GPU edge or before attach. */
int vhs_input_memory(struct vhs_ctx *ctx, int port, void **base, size_t *bytes);

/* Accounting of copies into slots (one memcpy per frame per edge is the budget). */
void vhs_count_copy(struct vhs_ctx *ctx, uint64_t bytes);

/* Accounting of GPU time (kernels and copies, measured with CUDA events), for profiles. */
void vhs_count_gpu(struct vhs_ctx *ctx, uint64_t ns);

/* Reports a fatal error (first one wins) and returns -EIO for the caller to return. */
int vhs_fail(struct vhs_ctx *ctx, enum vhs_err_class cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line to stderr: "vhs-orchestrate: warning: STAGE: ...". */
void vhs_warn(struct vhs_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line for people to stderr: "vhs-orchestrate: STAGE: ..." (what was measured or
 * decided, not a problem). */
void vhs_note(struct vhs_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True once STOP arrived; long loops in run() should check it. */
int vhs_stopping(struct vhs_ctx *ctx);

/* True once DRAIN arrived: finish the segment at hand, start no new one. */
int vhs_draining(struct vhs_ctx *ctx);

#endif
