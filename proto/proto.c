/* proto.c: pack and unpack of control records (layouts in proto.h and below).
 *
 * DESIGN
 * Each record layout is written exactly once, as a walk over its fields with a cursor
 * that either writes (pack) or reads (unpack) them. Pack and unpack therefore cannot
 * disagree on a layout. Integers are little endian; strings are fixed-size and must be
 * NUL-terminated within their size. Unpack then checks lengths and ranges.
 *
 * Record bodies (after the 4-byte header <version:u8><type:u8><reserved:u16>):
 *   HELLO    <stage:16> <pid:u32> <instance:u16>                                      22 B
 *   CONFIG   <n_inputs:u8> <fmt:STREAM_FMT> x2 <settings_len:u32> <settings:len+1>
 *   FORMAT   <n:u8> <fmt:STREAM_FMT> x2
 *   ATTACH   <n_in:u8> <n_out:u8> <in:48> x2 <out:48> x2 <segments:u16>                196 B
 *   READY, DONE, STOP: empty
 *   GRANT, RELEASE   <port:u8> <slot:u32>                                              5 B
 *   FRAME    <port:u8> <slot:u32> <segment:u32> <index:u64> <pts:i64> <duration:i64>
 *            <tb:i32 x2> <fmt:16> <width:i32> <height:i32> <offset:u32 x4>
 *            <linesize:i32 x4> <sar:i32 x2> <range,space,primaries,trc,chroma,flags:u8 x6>
 *            <bytes:u32>                                                               115 B
 *   AUDIO    <port:u8> <slot:u32> <segment:u32> <index:u64> <pts:i64> <tb:i32 x2>
 *            <fmt:16> <rate:i32> <channels:i32> <layout:u64> <nb_samples:i32>
 *            <offset:u32 x8> <plane_bytes:u32> <bytes:u32>                             109 B
 *   EOS      <port:u8> <count:u64>                                                      9 B
 *   STATS    <u64 x10>                                                                 80 B
 *   TRACE    <n:u8> <start_ns:u64 dur_ns:u32 busy_ns:u32 segment:u32 index:u32> x8
 *            (all 8 always present; n in use, 1..8)                                    193 B
 *   ERROR    <class:u8> <text:240>                                                     241 B
 *   SEGMENT  <port:u8> <phase:u8> <flags:u8> <index:u32> <start:i64> <end:i64>
 *            <tb:i32 x2> <frames:u64> <samples:u64> <bytes:u64>                       55 B
 *   DRAIN: empty
 *   DETACHED <port:u8>                                                                 1 B
 *   STREAM_FMT <media:u8> <fmt:16> <width:i32> <height:i32> <rate:i32> <channels:i32>
 *            <layout:u64> <tb:i32 x2> <fr:i32 x2> <sar:i32 x2>
 *            <range,space,primaries,trc,chroma,field_order:u8 x6> <duration_us:i64>
 *            <slot_size:u32> <memory:u8>                                               84 B
 */
#include "proto.h"

#include <errno.h>
#include <string.h>

#define STREAM_FMT_BYTES 84 /* packed size of a STREAM_FMT */

struct cursor {
	uint8_t *p;        /* pack: write position */
	const uint8_t *q;  /* unpack: read position */
	size_t left;       /* bytes left in the buffer */
	bool writing;
	bool bad;          /* ran past the end */
};

static void s_bytes(struct cursor *c, void *v, size_t n)
{
	if (c->bad || c->left < n) {
		c->bad = true;
		return;
	}
	if (c->writing) {
		memcpy(c->p, v, n);
		c->p += n;
	} else {
		memcpy(v, c->q, n);
		c->q += n;
	}
	c->left -= n;
}

/* An unsigned (or two's-complement signed) integer of n bytes, little endian. */
static void s_uint(struct cursor *c, void *v, size_t n)
{
	uint8_t le[8];
	uint64_t x = 0;

	if (c->writing) {
		if (n == 1) x = *(uint8_t *)v;
		else if (n == 2) x = *(uint16_t *)v;
		else if (n == 4) x = *(uint32_t *)v;
		else x = *(uint64_t *)v;
		for (size_t i = 0; i < n; i++)
			le[i] = (uint8_t)(x >> (8 * i));
		s_bytes(c, le, n);
		return;
	}
	s_bytes(c, le, n);
	if (c->bad)
		return;
	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)le[i] << (8 * i);
	if (n == 1) *(uint8_t *)v = (uint8_t)x;
	else if (n == 2) *(uint16_t *)v = (uint16_t)x;
	else if (n == 4) *(uint32_t *)v = (uint32_t)x;
	else *(uint64_t *)v = x;
}

#define U8(c, v) s_uint(c, &(v), 1)
#define U16(c, v) s_uint(c, &(v), 2)
#define U32(c, v) s_uint(c, &(v), 4)
#define U64(c, v) s_uint(c, &(v), 8)
#define STR(c, v) s_bytes(c, (v), sizeof(v))

static bool s_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static void s_stream_fmt(struct cursor *c, struct vhs_stream_fmt *f)
{
	U8(c, f->media);
	STR(c, f->fmt);
	U32(c, f->width);
	U32(c, f->height);
	U32(c, f->sample_rate);
	U32(c, f->channels);
	U64(c, f->channel_layout);
	U32(c, f->tb_num);
	U32(c, f->tb_den);
	U32(c, f->fr_num);
	U32(c, f->fr_den);
	U32(c, f->sar_num);
	U32(c, f->sar_den);
	U8(c, f->color_range);
	U8(c, f->colorspace);
	U8(c, f->color_primaries);
	U8(c, f->color_trc);
	U8(c, f->chroma_location);
	U8(c, f->field_order);
	U64(c, f->duration_us);
	U32(c, f->slot_size);
	U8(c, f->memory);
}

static bool s_stream_fmt_ok(const struct vhs_stream_fmt *f)
{
	if (f->media > VHS_MEDIA_AUDIO || !s_terminated(f->fmt, sizeof(f->fmt)) ||
	    f->memory > VHS_MEMORY_CUDA || (f->memory == VHS_MEMORY_CUDA && f->media != VHS_MEDIA_VIDEO))
		return false;
	if (f->media == VHS_MEDIA_AUDIO && (f->channels < 1 || f->channels > VHS_MAX_CHANNELS))
		return false;
	return f->width >= 0 && f->height >= 0 && f->tb_den >= 0 && f->sample_rate >= 0;
}

static void s_frame(struct cursor *c, struct vhs_frame *f)
{
	U8(c, f->port);
	U32(c, f->slot);
	U32(c, f->segment);
	U64(c, f->index);
	U64(c, f->pts);
	U64(c, f->duration);
	U32(c, f->tb_num);
	U32(c, f->tb_den);
	STR(c, f->fmt);
	U32(c, f->width);
	U32(c, f->height);
	for (int i = 0; i < VHS_MAX_PLANES; i++)
		U32(c, f->offset[i]);
	for (int i = 0; i < VHS_MAX_PLANES; i++)
		U32(c, f->linesize[i]);
	U32(c, f->sar_num);
	U32(c, f->sar_den);
	U8(c, f->color_range);
	U8(c, f->colorspace);
	U8(c, f->color_primaries);
	U8(c, f->color_trc);
	U8(c, f->chroma_location);
	U8(c, f->flags);
	U32(c, f->bytes);
}

static bool s_frame_ok(const struct vhs_frame *f)
{
	if (f->port >= VHS_MAX_PORTS || !s_terminated(f->fmt, sizeof(f->fmt)))
		return false;
	if (f->width <= 0 || f->height <= 0 || f->width > 16384 || f->height > 16384)
		return false;
	for (int i = 0; i < VHS_MAX_PLANES; i++)
		if (f->linesize[i] < 0 || (f->linesize[i] && f->offset[i] >= f->bytes))
			return false;
	return true;
}

static void s_audio(struct cursor *c, struct vhs_audio *a)
{
	U8(c, a->port);
	U32(c, a->slot);
	U32(c, a->segment);
	U64(c, a->index);
	U64(c, a->pts);
	U32(c, a->tb_num);
	U32(c, a->tb_den);
	STR(c, a->fmt);
	U32(c, a->sample_rate);
	U32(c, a->channels);
	U64(c, a->channel_layout);
	U32(c, a->nb_samples);
	for (int i = 0; i < VHS_MAX_CHANNELS; i++)
		U32(c, a->offset[i]);
	U32(c, a->plane_bytes);
	U32(c, a->bytes);
}

static bool s_audio_ok(const struct vhs_audio *a)
{
	if (a->port >= VHS_MAX_PORTS || !s_terminated(a->fmt, sizeof(a->fmt)))
		return false;
	if (a->channels < 1 || a->channels > VHS_MAX_CHANNELS || a->nb_samples < 0)
		return false;
	for (int i = 0; i < VHS_MAX_CHANNELS; i++)
		if ((uint64_t)a->offset[i] + a->plane_bytes > a->bytes && i < a->channels)
			return false;
	return a->sample_rate > 0;
}

static void s_stats(struct cursor *c, struct vhs_stats *s)
{
	U64(c, s->frames_in);
	U64(c, s->frames_out);
	U64(c, s->busy_ns);
	U64(c, s->wait_in_ns);
	U64(c, s->wait_out_ns);
	U64(c, s->cpu_ns);
	U64(c, s->rss_kb);
	U64(c, s->bytes_copied);
	U64(c, s->copies);
	U64(c, s->gpu_ns);
}

static void s_trace(struct cursor *c, struct vhs_trace *t)
{
	U8(c, t->n);
	for (int i = 0; i < VHS_TRACE_SAMPLES; i++) {
		U64(c, t->s[i].start_ns);
		U32(c, t->s[i].dur_ns);
		U32(c, t->s[i].busy_ns);
		U32(c, t->s[i].segment);
		U32(c, t->s[i].index);
	}
}

static bool s_trace_ok(const struct vhs_trace *t)
{
	if (t->n < 1 || t->n > VHS_TRACE_SAMPLES)
		return false;
	for (int i = 0; i < t->n; i++)
		if (t->s[i].busy_ns > t->s[i].dur_ns)
			return false;
	return true;
}

static void s_segment(struct cursor *c, struct vhs_segment *s)
{
	U8(c, s->port);
	U8(c, s->phase);
	U8(c, s->flags);
	U32(c, s->index);
	U64(c, s->start);
	U64(c, s->end);
	U32(c, s->tb_num);
	U32(c, s->tb_den);
	U64(c, s->frames);
	U64(c, s->samples);
	U64(c, s->bytes);
}

static bool s_segment_ok(const struct vhs_segment *s)
{
	if (s->port >= VHS_MAX_PORTS || s->phase > VHS_SEG_PHASE_MAX || (s->flags & ~VHS_SEG_LAST))
		return false;
	if (s->phase == VHS_SEG_BEGIN && (s->tb_num <= 0 || s->tb_den <= 0 || s->start > s->end ||
					  s->start == VHS_SEG_OPEN_END || s->end == VHS_SEG_OPEN_START))
		return false;
	return true;
}

/* CONFIG's settings text: <len:u32><bytes><NUL>. Unpack points into the buffer. */
static void s_settings(struct cursor *c, struct vhs_msg *m)
{
	U32(c, m->u.config.settings_len);
	if (c->bad)
		return;
	size_t n = (size_t)m->u.config.settings_len + 1;
	if (c->left < n) {
		c->bad = true;
		return;
	}
	if (c->writing) {
		memcpy(c->p, m->u.config.settings, n - 1);
		c->p[n - 1] = '\0';
		c->p += n;
	} else {
		if (c->q[n - 1] != '\0' || memchr(c->q, '\0', n - 1))
			c->bad = true;
		m->u.config.settings = (const char *)c->q;
		c->q += n;
	}
	c->left -= n;
}

/* Walks the body of m's type. */
static void s_body(struct cursor *c, struct vhs_msg *m)
{
	switch (m->type) {
	case VHS_MSG_HELLO:
		STR(c, m->u.hello.stage);
		U32(c, m->u.hello.pid);
		U16(c, m->u.hello.instance);
		break;
	case VHS_MSG_CONFIG:
		U8(c, m->u.config.n_inputs);
		for (int i = 0; i < VHS_MAX_PORTS; i++)
			s_stream_fmt(c, &m->u.config.inputs[i]);
		s_settings(c, m);
		break;
	case VHS_MSG_FORMAT:
		U8(c, m->u.format.n);
		for (int i = 0; i < VHS_MAX_PORTS; i++)
			s_stream_fmt(c, &m->u.format.outputs[i]);
		break;
	case VHS_MSG_ATTACH:
		U8(c, m->u.attach.n_inputs);
		U8(c, m->u.attach.n_outputs);
		for (int i = 0; i < VHS_MAX_PORTS; i++)
			STR(c, m->u.attach.inputs[i]);
		for (int i = 0; i < VHS_MAX_PORTS; i++)
			STR(c, m->u.attach.outputs[i]);
		U16(c, m->u.attach.segments);
		break;
	case VHS_MSG_GRANT:
	case VHS_MSG_RELEASE:
		U8(c, m->u.grant.port);
		U32(c, m->u.grant.slot);
		break;
	case VHS_MSG_FRAME:
		s_frame(c, &m->u.frame);
		break;
	case VHS_MSG_AUDIO:
		s_audio(c, &m->u.audio);
		break;
	case VHS_MSG_EOS:
		U8(c, m->u.eos.port);
		U64(c, m->u.eos.count);
		break;
	case VHS_MSG_STATS:
		s_stats(c, &m->u.stats);
		break;
	case VHS_MSG_ERROR:
		U8(c, m->u.error.cls);
		STR(c, m->u.error.text);
		break;
	case VHS_MSG_SEGMENT:
		s_segment(c, &m->u.segment);
		break;
	case VHS_MSG_DETACHED:
		U8(c, m->u.detached.port);
		break;
	case VHS_MSG_TRACE:
		s_trace(c, &m->u.trace);
		break;
	default: /* READY, DONE, STOP, DRAIN: no body */
		break;
	}
}

static bool s_body_ok(const struct vhs_msg *m)
{
	switch (m->type) {
	case VHS_MSG_HELLO:
		return s_terminated(m->u.hello.stage, VHS_NAME_LEN);
	case VHS_MSG_CONFIG:
		if (m->u.config.n_inputs > VHS_MAX_PORTS)
			return false;
		for (int i = 0; i < m->u.config.n_inputs; i++)
			if (!s_stream_fmt_ok(&m->u.config.inputs[i]))
				return false;
		return true;
	case VHS_MSG_FORMAT:
		if (m->u.format.n > VHS_MAX_PORTS)
			return false;
		for (int i = 0; i < m->u.format.n; i++)
			if (!s_stream_fmt_ok(&m->u.format.outputs[i]))
				return false;
		return true;
	case VHS_MSG_ATTACH:
		if (m->u.attach.n_inputs > VHS_MAX_PORTS || m->u.attach.n_outputs > VHS_MAX_PORTS ||
		    m->u.attach.segments == 0)
			return false;
		for (int i = 0; i < VHS_MAX_PORTS; i++)
			if (!s_terminated(m->u.attach.inputs[i], VHS_RING_NAME_LEN) ||
			    !s_terminated(m->u.attach.outputs[i], VHS_RING_NAME_LEN))
				return false;
		return true;
	case VHS_MSG_GRANT:
	case VHS_MSG_RELEASE:
		return m->u.grant.port < VHS_MAX_PORTS;
	case VHS_MSG_FRAME:
		return s_frame_ok(&m->u.frame);
	case VHS_MSG_AUDIO:
		return s_audio_ok(&m->u.audio);
	case VHS_MSG_EOS:
		return m->u.eos.port < VHS_MAX_PORTS;
	case VHS_MSG_ERROR:
		return m->u.error.cls <= VHS_ERR_CONFIG &&
		       s_terminated(m->u.error.text, VHS_ERROR_TEXT);
	case VHS_MSG_SEGMENT:
		return s_segment_ok(&m->u.segment);
	case VHS_MSG_DETACHED:
		return m->u.detached.port < VHS_MAX_PORTS;
	case VHS_MSG_TRACE:
		return s_trace_ok(&m->u.trace);
	default:
		return true;
	}
}

int vhs_proto_pack(const struct vhs_msg *m, uint8_t *buf, size_t cap)
{
	struct cursor c = { .p = buf, .left = cap, .writing = true };
	struct vhs_msg copy = *m;
	uint8_t version = VHS_PROTO_VERSION;
	uint16_t reserved = 0;

	if (m->type == 0 || m->type >= VHS_MSG_TYPE_END)
		return -EINVAL;
	U8(&c, version);
	U8(&c, copy.type);
	U16(&c, reserved);
	s_body(&c, &copy);
	if (c.bad)
		return -ENOSPC;
	return (int)(cap - c.left);
}

int vhs_proto_unpack(struct vhs_msg *m, const uint8_t *buf, size_t len)
{
	struct cursor c = { .q = buf, .left = len, .writing = false };
	uint8_t version = 0;
	uint16_t reserved = 0;

	memset(m, 0, sizeof(*m));
	U8(&c, version);
	U8(&c, m->type);
	U16(&c, reserved);
	if (c.bad || version != VHS_PROTO_VERSION || m->type == 0 || m->type >= VHS_MSG_TYPE_END)
		return -EPROTO;
	s_body(&c, m);
	if (c.bad || c.left != 0 || !s_body_ok(m))
		return -EPROTO;
	return 0;
}

size_t vhs_proto_config_size(uint32_t settings_len)
{
	return 4 + 1 + 2 * STREAM_FMT_BYTES + 4 + (size_t)settings_len + 1;
}

const char *vhs_proto_type_name(uint8_t type)
{
	static const char *const names[VHS_MSG_TYPE_END] = {
		[VHS_MSG_HELLO] = "HELLO",     [VHS_MSG_CONFIG] = "CONFIG",
		[VHS_MSG_FORMAT] = "FORMAT",   [VHS_MSG_ATTACH] = "ATTACH",
		[VHS_MSG_READY] = "READY",     [VHS_MSG_GRANT] = "GRANT",
		[VHS_MSG_FRAME] = "FRAME",     [VHS_MSG_AUDIO] = "AUDIO",
		[VHS_MSG_RELEASE] = "RELEASE", [VHS_MSG_EOS] = "EOS",
		[VHS_MSG_STATS] = "STATS",     [VHS_MSG_ERROR] = "ERROR",
		[VHS_MSG_DONE] = "DONE",       [VHS_MSG_STOP] = "STOP",
		[VHS_MSG_SEGMENT] = "SEGMENT", [VHS_MSG_DRAIN] = "DRAIN",
		[VHS_MSG_DETACHED] = "DETACHED", [VHS_MSG_TRACE] = "TRACE",
	};
	return type < VHS_MSG_TYPE_END && names[type] ? names[type] : "?";
}

/* ---- segment windows ---- */

int64_t vhs_segment_bound(const struct vhs_segment *seg, int64_t t, int32_t tb_num, int32_t tb_den)
{
	__int128 b = (__int128)seg->tb_num * tb_den, c = (__int128)tb_num * seg->tb_den, r = c / 2;

	if (t == VHS_SEG_OPEN_START || t == VHS_SEG_OPEN_END)
		return t;
	if (c <= 0 || b < 0)
		return INT64_MIN; /* what av_rescale_q() gives for a bad time base */
	return t < 0 ? (int64_t)(-(((__int128)-t * b + r) / c)) : (int64_t)(((__int128)t * b + r) / c);
}

int vhs_segment_contains(const struct vhs_segment *seg, int64_t pts, int32_t tb_num,
			 int32_t tb_den)
{
	if (pts == INT64_MIN)
		return 1;
	return (seg->start == VHS_SEG_OPEN_START || pts >= vhs_segment_bound(seg, seg->start, tb_num, tb_den)) &&
	       (seg->end == VHS_SEG_OPEN_END || pts < vhs_segment_bound(seg, seg->end, tb_num, tb_den));
}
