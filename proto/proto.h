/* proto.h: the control-plane wire format between the orchestrator and stage processes.
 *
 * DESIGN
 * Every ZeroMQ message is one frame holding one record. Records have a fixed layout
 * written and read field by field (never by dumping a struct), all integers little
 * endian, strings as fixed-size NUL-padded byte arrays:
 *
 *   <version:u8> <type:u8> <reserved:u16> <body...>
 *
 * The body layout of every type is drawn next to its pack function in proto.c. Unpack
 * checks the version, the exact length, NUL termination of every string and the range of
 * every small field (ports, counts); a record that fails any check is refused with
 * -EPROTO and never half-read. Slot indices are range-checked by the receiver against
 * the ring it owns (proto cannot know slot counts).
 *
 * No frame data ever travels here: FRAME and AUDIO name a slot in a shared-memory ring
 * (shm/ring.h) and carry everything an AVFrame would carry that matters downstream. On a
 * GPU edge (FORMAT says memory = CUDA) the slot names a device buffer (shm/devpool.h);
 * ownership moves the same way.
 *
 * Conversation (S = stage, O = orchestrator):
 *   S->O HELLO           who I am
 *   O->S CONFIG          resolved job settings and the formats of my inputs
 *   S->O FORMAT          the formats of my outputs, slot size each needs
 *   O->S ATTACH          ring names for my inputs and outputs
 *   S->O READY           codecs, graphs and rings are up
 *   O->S GRANT           an empty output slot is now mine
 *   S->O FRAME/AUDIO     I filled this output slot; it is no longer mine
 *   O->S FRAME/AUDIO     this input slot is now mine
 *   S->O RELEASE         I am done with this input slot; it is no longer mine
 *   both EOS             no more records on this port (S->O: output port, O->S: input port)
 *   S->O STATS           counters; also the heartbeat, every 0.5 s
 *   S->O TRACE           profiling runs only: the timing of the last frames handled
 *   S->O ERROR           fatal error with one line of text and an error class
 *   S->O DONE            all outputs ended and flushed; I exit next
 *   O->S STOP            stop now, without flushing
 *   O->S DRAIN           finish the segment at hand, take no new one, then end as at EOS
 *   O->S DETACHED        every consumer of my GPU-edge output port has exited (closed its
 *                        CUDA IPC handles): I may free that port's device buffers
 *
 * Segments (the unit of replay, see DESIGN.md) travel as SEGMENT records:
 *   O->S SEGMENT REQUEST  decode only: produce segment N (decode finds its window)
 *   in-band BEGIN / END   before and after a segment's records on every edge, routed
 *                         like FRAME (in order with them) but owning no slot; BEGIN
 *                         carries the window [start, end) in the input video time base
 *   S->O SEGMENT DONE     encode only: segment N's files are committed in the work dir
 */
#ifndef VHS_PROTO_H
#define VHS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHS_PROTO_VERSION 4
#define VHS_NAME_LEN 16       /* stage names, pixel and sample format names */
#define VHS_RING_NAME_LEN 48  /* shm object names, "/vhs-<pid>-<edge>" */
#define VHS_MAX_PORTS 2       /* inputs or outputs per stage */
#define VHS_MAX_PLANES 4      /* video planes */
#define VHS_MAX_CHANNELS 8    /* audio planes (planar formats: one per channel) */
#define VHS_ERROR_TEXT 240
#define VHS_MSG_MAX 256       /* every record but CONFIG fits in this */

enum vhs_msg_type {
	VHS_MSG_HELLO = 1,
	VHS_MSG_CONFIG,
	VHS_MSG_FORMAT,
	VHS_MSG_ATTACH,
	VHS_MSG_READY,
	VHS_MSG_GRANT,
	VHS_MSG_FRAME,
	VHS_MSG_AUDIO,
	VHS_MSG_RELEASE,
	VHS_MSG_EOS,
	VHS_MSG_STATS,
	VHS_MSG_ERROR,
	VHS_MSG_DONE,
	VHS_MSG_STOP,
	VHS_MSG_SEGMENT,
	VHS_MSG_DRAIN,
	VHS_MSG_DETACHED,
	VHS_MSG_TRACE,
	VHS_MSG_TYPE_END,
};

enum vhs_media { VHS_MEDIA_NONE = 0, VHS_MEDIA_VIDEO = 1, VHS_MEDIA_AUDIO = 2 };

/* Where an edge's frames live (vhs_stream_fmt.memory). */
enum vhs_memory {
	VHS_MEMORY_HOST = 0, /* shared-memory slots hold the pixels (shm/ring.h) */
	VHS_MEMORY_CUDA = 1, /* slots name device buffers shared by CUDA IPC (shm/devpool.h);
			      * a FRAME's offsets and line sizes are within the buffer */
};

/* Why a stage failed; the orchestrator maps it to its exit code. */
enum vhs_err_class {
	VHS_ERR_INTERNAL = 0, /* a bug or resource failure */
	VHS_ERR_INPUT = 1,    /* the capture cannot be read or is unsupported (permanent) */
	VHS_ERR_OUTPUT = 2,   /* the output cannot be written */
	VHS_ERR_CONFIG = 3,   /* a setting is invalid (bad filter chain, unknown codec) */
};

/* Frame flags (vhs_frame.flags). */
#define VHS_FRAME_INTERLACED 0x01
#define VHS_FRAME_TFF        0x02 /* top field first */
#define VHS_FRAME_KEY        0x04
#define VHS_FRAME_CORRUPT    0x08

/* The format of one edge: what its producer will send. */
struct vhs_stream_fmt {
	uint8_t media;                /* enum vhs_media */
	char fmt[VHS_NAME_LEN];       /* pixel or sample format name, e.g. "yuv411p", "s16" */
	int32_t width, height;        /* video: pixels */
	int32_t sample_rate;          /* audio: Hz */
	int32_t channels;             /* audio: 1..VHS_MAX_CHANNELS */
	uint64_t channel_layout;      /* audio: AV_CH_* mask, 0 = unspecified */
	int32_t tb_num, tb_den;       /* time base of pts and durations on this edge */
	int32_t fr_num, fr_den;       /* video frame rate, 0/1 if unknown */
	int32_t sar_num, sar_den;     /* sample aspect ratio, 0/1 if unknown */
	uint8_t color_range, colorspace, color_primaries, color_trc, chroma_location;
	uint8_t field_order;          /* AVFieldOrder of the source */
	int64_t duration_us;          /* programme length in microseconds, -1 unknown */
	uint32_t slot_size;           /* bytes one slot must hold for the largest frame
				       * (CUDA: one device buffer) */
	uint8_t memory;               /* enum vhs_memory: the producer's choice, video only */
};

/* A filled video slot. */
struct vhs_frame {
	uint8_t port;                 /* output port (S->O) or input port (O->S) */
	uint32_t slot;                /* index in the edge's ring */
	uint32_t segment;             /* segment number (0 until segments exist) */
	uint64_t index;               /* frame number on this edge, from 0 */
	int64_t pts, duration;        /* in tb; pts INT64_MIN = none */
	int32_t tb_num, tb_den;
	char fmt[VHS_NAME_LEN];       /* pixel format name */
	int32_t width, height;
	uint32_t offset[VHS_MAX_PLANES];  /* plane start, bytes from the slot start */
	int32_t linesize[VHS_MAX_PLANES]; /* bytes per row; 0 for absent planes */
	int32_t sar_num, sar_den;
	uint8_t color_range, colorspace, color_primaries, color_trc, chroma_location;
	uint8_t flags;                /* VHS_FRAME_* */
	uint32_t bytes;               /* bytes of the slot in use */
};

/* A filled audio slot. Packed formats use plane 0 only. */
struct vhs_audio {
	uint8_t port;
	uint32_t slot;
	uint32_t segment;
	uint64_t index;               /* audio frame number on this edge, from 0 */
	int64_t pts;                  /* in tb; INT64_MIN = none */
	int32_t tb_num, tb_den;
	char fmt[VHS_NAME_LEN];       /* sample format name */
	int32_t sample_rate;
	int32_t channels;
	uint64_t channel_layout;
	int32_t nb_samples;
	uint32_t offset[VHS_MAX_CHANNELS]; /* plane start, bytes from the slot start */
	uint32_t plane_bytes;         /* bytes per plane in use */
	uint32_t bytes;               /* bytes of the slot in use */
};

/* Segment record phases (vhs_segment.phase) and flags. */
enum vhs_seg_phase {
	VHS_SEG_REQUEST = 0, /* O->S (source): make this segment */
	VHS_SEG_BEGIN,       /* S->O->S: the segment's records follow on this port */
	VHS_SEG_END,         /* S->O->S: they ended */
	VHS_SEG_DONE,        /* S->O (sink): the segment's files are committed */
	VHS_SEG_NONE,        /* S->O (source): there is no such segment; the input ends before it */
};
#define VHS_SEG_PHASE_MAX VHS_SEG_NONE
#define VHS_SEG_LAST 0x01 /* BEGIN/END/DONE: the input ends with this segment */
#define VHS_SEG_OPEN_START INT64_MIN /* window start of the first segment: the beginning */
#define VHS_SEG_OPEN_END INT64_MAX   /* window end of the last segment: the end */

struct vhs_segment {
	uint8_t port;                 /* BEGIN/END: output port (S->O) or input port (O->S) */
	uint8_t phase;                /* enum vhs_seg_phase */
	uint8_t flags;                /* VHS_SEG_* */
	uint32_t index;               /* segment number, from 0 */
	int64_t start, end;           /* BEGIN: the window [start, end) in tb; start == end:
				       * an empty segment (no keyframe between two cuts) */
	int32_t tb_num, tb_den;       /* BEGIN: the input video stream's time base */
	uint64_t frames;              /* END: records of the segment on this port;
				       * DONE: video frames in the segment file */
	uint64_t samples;             /* DONE: audio samples per channel in the spool */
	uint64_t bytes;               /* DONE: bytes of the segment's files */
};

struct vhs_stats {
	uint64_t frames_in, frames_out;  /* records received and sent */
	uint64_t busy_ns;                /* time running, not waiting for input or a slot */
	uint64_t wait_in_ns;             /* time blocked waiting for input */
	uint64_t wait_out_ns;            /* time blocked waiting for an output slot */
	uint64_t cpu_ns;                 /* user + system CPU time of the process */
	uint64_t rss_kb;                 /* peak resident set */
	uint64_t bytes_copied;           /* bytes memcpy'd into slots */
	uint64_t copies;                 /* memcpy calls into slots */
	uint64_t gpu_ns;                 /* GPU time of the stage's kernels and copies (CUDA
					  * events), 0 without a GPU */
};

/* A profiling run's timing of one frame of a stage (TRACE). The frame is a record on the
 * stage's first input port, from its dispatch to the return of the stage's callback; for a
 * source, a record on its first output port, from the previous one's send to its own. busy
 * is that span less the time spent waiting for an output slot or for input within it. */
struct vhs_trace_sample {
	uint64_t start_ns;               /* CLOCK_MONOTONIC (one clock for every process) */
	uint32_t dur_ns;                 /* the span */
	uint32_t busy_ns;                /* of it, working */
	uint32_t segment;
	uint32_t index;                  /* frame number on the port (low 32 bits) */
};

#define VHS_TRACE_SAMPLES 8              /* samples per TRACE record */

struct vhs_trace {
	uint8_t n;                       /* samples in use, 1..VHS_TRACE_SAMPLES */
	struct vhs_trace_sample s[VHS_TRACE_SAMPLES];
};

/* One decoded record. CONFIG's blob points into the buffer it was unpacked from. */
struct vhs_msg {
	uint8_t type;
	union {
		struct { char stage[VHS_NAME_LEN]; uint32_t pid; uint16_t instance; } hello;
		struct {
			uint8_t n_inputs;
			struct vhs_stream_fmt inputs[VHS_MAX_PORTS];
			const char *settings;   /* "section.key=value\n" lines, NUL-terminated */
			uint32_t settings_len;
		} config;
		struct { uint8_t n; struct vhs_stream_fmt outputs[VHS_MAX_PORTS]; } format;
		struct {
			uint8_t n_inputs, n_outputs;
			char inputs[VHS_MAX_PORTS][VHS_RING_NAME_LEN];
			char outputs[VHS_MAX_PORTS][VHS_RING_NAME_LEN];
			uint16_t segments; /* segments the worker may hold at once (>= 1) */
		} attach;
		struct { uint8_t port; uint32_t slot; } grant;   /* also RELEASE */
		struct vhs_frame frame;
		struct vhs_audio audio;
		struct { uint8_t port; uint64_t count; } eos;     /* count: records sent */
		struct vhs_stats stats;
		struct vhs_trace trace;
		struct { uint8_t cls; char text[VHS_ERROR_TEXT]; } error;
		struct vhs_segment segment;
		struct { uint8_t port; } detached;
	} u;
};

/* Packs m into buf (cap bytes). Returns the record length or -ENOSPC / -EINVAL. */
int vhs_proto_pack(const struct vhs_msg *m, uint8_t *buf, size_t cap);

/* Unpacks len bytes. Returns 0 or -EPROTO (wrong version, length, or field out of range).
 * For CONFIG, m->u.config.settings points into buf, which must stay alive and must have
 * room for the terminator the record already carries. */
int vhs_proto_unpack(struct vhs_msg *m, const uint8_t *buf, size_t len);

/* Length of a packed CONFIG with this many settings bytes. */
size_t vhs_proto_config_size(uint32_t settings_len);

const char *vhs_proto_type_name(uint8_t type);

/* A window bound t of seg (its start or end) in the time base tb_num/tb_den, rounded to
 * the nearest, halves away from zero, exactly as libavutil's av_rescale_q(); open bounds
 * (VHS_SEG_OPEN_START/END) stay open. */
int64_t vhs_segment_bound(const struct vhs_segment *seg, int64_t t, int32_t tb_num, int32_t tb_den);

/* Whether a frame at pts (in tb_num/tb_den) lies in seg's window [start, end), each bound
 * taken into the frame's time base by vhs_segment_bound(); a frame without pts (INT64_MIN)
 * always does. Every stage that keeps or drops frames by their segment asks this. */
int vhs_segment_contains(const struct vhs_segment *seg, int64_t pts, int32_t tb_num,
			 int32_t tb_den);

#endif
