/* test_proto.c: unit tests of the control-plane wire format (proto/proto.h, proto.c).
 *
 * Covers:
 *   - round trip of every record type with extreme values (INT64_MIN and negative pts,
 *     UINT32_MAX slots, 8 audio offsets, full-length strings, a CONFIG with a long
 *     settings blob) and re-pack to identical bytes;
 *   - the exact packed length of every fixed record, as the field lists in proto.c's
 *     header comment add up (see FRAME_BODY/AUDIO_BODY below for where the comment's
 *     totals are wrong), the little-endian bytes of a GRANT and of FRAME fields, and
 *     every record byte for byte against an independent encoder written from the
 *     comment's field lists;
 *   - every refusal unpack promises (-EPROTO): version, type, each truncated length,
 *     trailing bytes, unterminated strings, ports, channel counts, frame sizes, plane
 *     offsets, CONFIG settings terminator and embedded NUL, port counts, error class,
 *     SEGMENT port, phase, flag bits, and BEGIN's time base and window;
 *   - SEGMENT: every field round trips (open window bounds INT64_MIN/INT64_MAX included),
 *     every phase, and the BEGIN-only checks do not apply to the other phases; DRAIN is
 *     a bare header;
 *   - pack into a short buffer (-ENOSPC, no write past cap) and of a bad type (-EINVAL);
 *   - a fuzz loop over random and mutated records (fixed seed plus one from the clock,
 *     both printed; VHS_FUZZ_SEED=N replays one) under which unpack must not crash and
 *     whatever it accepts must re-pack to the same bytes.
 * Build and run: make build/tests/test_proto && build/tests/test_proto
 * Under sanitizers: cc -fsanitize=address,undefined ... (see the end of this file).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"

/* Packed sizes, summed from the field lists of proto.c's header comment. The comment
 * states 127 B for FRAME and 117 B for AUDIO, but its own field lists add up to 115 and
 * 109: the totals in the comment are wrong, the field lists (and the code) agree. */
#define HDR 4
#define STREAM_FMT_BODY (1 + 16 + 4 * 4 + 8 + 4 * 2 + 4 * 2 + 4 * 2 + 6 + 8 + 4 + 1) /* 84 */
#define HELLO_BODY (16 + 4 + 2)                                                  /* 22 */
#define FORMAT_BODY (1 + 2 * STREAM_FMT_BODY)                                    /* 167 */
#define ATTACH_BODY (1 + 1 + 4 * 48 + 2)                                         /* 196 */
#define GRANT_BODY (1 + 4)                                                       /* 5 */
#define FRAME_BODY (1 + 4 + 4 + 8 + 8 + 8 + 4 * 2 + 16 + 4 * 2 + 4 * 4 + 4 * 4 + 4 * 2 + 6 + 4)
#define AUDIO_BODY (1 + 4 + 4 + 8 + 8 + 4 * 2 + 16 + 4 + 4 + 8 + 4 + 4 * 8 + 4 + 4)
#define EOS_BODY (1 + 8)                                                         /* 9 */
#define STATS_BODY (10 * 8)                                                      /* 80 */
#define TRACE_BODY (1 + 8 * (8 + 4 + 4 + 4 + 4))                                 /* 193 */
#define ERROR_BODY (1 + 240)                                                     /* 241 */
#define SEGMENT_BODY (1 + 1 + 1 + 4 + 8 + 8 + 4 * 2 + 8 + 8 + 8)                /* 55 */

_Static_assert(STREAM_FMT_BODY == 84, "STREAM_FMT field list sums to 84");
_Static_assert(FRAME_BODY == 115, "FRAME field list sums to 115");
_Static_assert(AUDIO_BODY == 109, "AUDIO field list sums to 109");
_Static_assert(SEGMENT_BODY == 55, "SEGMENT field list sums to 55");

#define SETTINGS_LONG_LINES 200
#define FUZZ_ITERATIONS 20000
#define FUZZ_FIXED_SEED 0x5eed1234abcdULL

/* ---- helpers ---------------------------------------------------------------------- */

static void s_name(char *dst, size_t n, const char *s)
{
	memset(dst, 0, n);
	snprintf(dst, n, "%s", s);
}

/* A string of exactly n - 1 non-NUL bytes plus the terminator. */
static void s_fill_max(char *dst, size_t n, char first)
{
	for (size_t i = 0; i + 1 < n; i++)
		dst[i] = (char)('a' + ((size_t)first + i) % 26);
	dst[n - 1] = '\0';
}

static void s_video_fmt(struct vhs_stream_fmt *f)
{
	f->media = VHS_MEDIA_VIDEO;
	s_name(f->fmt, sizeof(f->fmt), "yuv411p");
	f->width = 720;
	f->height = 480;
	f->tb_num = 1001;
	f->tb_den = 30000;
	f->fr_num = 30000;
	f->fr_den = 1001;
	f->sar_num = 10;
	f->sar_den = 11;
	f->color_range = 1;
	f->colorspace = 6;
	f->color_primaries = 6;
	f->color_trc = 6;
	f->chroma_location = 3;
	f->field_order = 2;
	f->duration_us = -1;
	f->slot_size = 0xFEDCBA98u;
	f->memory = VHS_MEMORY_CUDA;
	f->channel_layout = 0x8000000000000001ULL;
}

static void s_audio_fmt(struct vhs_stream_fmt *f)
{
	f->media = VHS_MEDIA_AUDIO;
	s_fill_max(f->fmt, sizeof(f->fmt), 'a');
	f->sample_rate = 48000;
	f->channels = VHS_MAX_CHANNELS;
	f->channel_layout = 0x63FULL;
	f->tb_num = 1;
	f->tb_den = 48000;
	f->duration_us = INT64_MAX;
	f->slot_size = 65536;
}

/* A valid record of each type, with non-trivial values; m is zeroed first so padding
 * compares equal with what unpack (which zeroes its output) produces. */
static void s_sample(struct vhs_msg *m, uint8_t type)
{
	static char settings[SETTINGS_LONG_LINES * 40];
	static size_t settings_len;

	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case VHS_MSG_HELLO:
		s_name(m->u.hello.stage, VHS_NAME_LEN, "preprocess");
		m->u.hello.pid = 0xFFFFFFFEu;
		m->u.hello.instance = 0xFFFF;
		break;
	case VHS_MSG_CONFIG:
		m->u.config.n_inputs = 2;
		s_video_fmt(&m->u.config.inputs[0]);
		s_audio_fmt(&m->u.config.inputs[1]);
		for (int i = 0; !settings_len && i < SETTINGS_LONG_LINES; i++) {
			size_t at = strlen(settings);
			snprintf(settings + at, sizeof(settings) - at, "video.filters%03d=hqdn3d=%d\n", i, i);
		}
		settings_len = strlen(settings);
		m->u.config.settings = settings;
		m->u.config.settings_len = (uint32_t)settings_len;
		break;
	case VHS_MSG_FORMAT:
		m->u.format.n = 2;
		s_video_fmt(&m->u.format.outputs[0]);
		s_audio_fmt(&m->u.format.outputs[1]);
		break;
	case VHS_MSG_ATTACH:
		m->u.attach.n_inputs = 1;
		m->u.attach.n_outputs = 2;
		s_fill_max(m->u.attach.inputs[0], VHS_RING_NAME_LEN, 'A');
		s_name(m->u.attach.inputs[1], VHS_RING_NAME_LEN, "/vhs-1-unused");
		s_name(m->u.attach.outputs[0], VHS_RING_NAME_LEN, "/vhs-4194304-decode.video");
		s_fill_max(m->u.attach.outputs[1], VHS_RING_NAME_LEN, 'a');
		m->u.attach.segments = 0x0102;
		break;
	case VHS_MSG_GRANT:
	case VHS_MSG_RELEASE:
		m->u.grant.port = 1;
		m->u.grant.slot = UINT32_MAX;
		break;
	case VHS_MSG_FRAME: {
		struct vhs_frame *f = &m->u.frame;

		f->port = 1;
		f->slot = UINT32_MAX;
		f->segment = 0x01020304u;
		f->index = UINT64_MAX;
		f->pts = INT64_MIN;
		f->duration = -1001;
		f->tb_num = 1;
		f->tb_den = 30000;
		s_fill_max(f->fmt, sizeof(f->fmt), 'p');
		f->width = 16384;
		f->height = 1;
		f->bytes = 0xFFFFFFF0u;
		for (int i = 0; i < VHS_MAX_PLANES; i++) {
			f->offset[i] = 0x10000000u * (uint32_t)i + 7;
			f->linesize[i] = INT32_MAX - i;
		}
		f->sar_num = -1; /* not range-checked: carried as is */
		f->sar_den = 11;
		f->color_range = 2;
		f->colorspace = 0xFE;
		f->color_primaries = 0xFD;
		f->color_trc = 0xFC;
		f->chroma_location = 0xFB;
		f->flags = VHS_FRAME_INTERLACED | VHS_FRAME_TFF | VHS_FRAME_KEY | VHS_FRAME_CORRUPT;
		break;
	}
	case VHS_MSG_AUDIO: {
		struct vhs_audio *a = &m->u.audio;

		a->port = 1;
		a->slot = 0x80000001u;
		a->segment = UINT32_MAX;
		a->index = 0x0102030405060708ULL;
		a->pts = -3003;
		a->tb_num = 1;
		a->tb_den = 48000;
		s_name(a->fmt, sizeof(a->fmt), "fltp");
		a->sample_rate = 48000;
		a->channels = VHS_MAX_CHANNELS;
		a->channel_layout = 0xFFFFFFFFFFFFFFFFULL;
		a->nb_samples = 1602;
		a->plane_bytes = 1602 * 4;
		for (int i = 0; i < VHS_MAX_CHANNELS; i++)
			a->offset[i] = (uint32_t)i * 6464u;
		a->bytes = 8 * 6464;
		break;
	}
	case VHS_MSG_EOS:
		m->u.eos.port = 1;
		m->u.eos.count = UINT64_MAX - 1;
		break;
	case VHS_MSG_STATS: {
		uint64_t *v[] = { &m->u.stats.frames_in, &m->u.stats.frames_out, &m->u.stats.busy_ns,
				  &m->u.stats.wait_in_ns, &m->u.stats.wait_out_ns, &m->u.stats.cpu_ns,
				  &m->u.stats.rss_kb, &m->u.stats.bytes_copied, &m->u.stats.copies,
				  &m->u.stats.gpu_ns };

		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			*v[i] = 0x1111111111111111ULL * (i + 1) + i; /* every field distinct */
		break;
	}
	case VHS_MSG_ERROR:
		m->u.error.cls = VHS_ERR_CONFIG;
		s_fill_max(m->u.error.text, VHS_ERROR_TEXT, 'e');
		break;
	case VHS_MSG_SEGMENT: {
		/* a BEGIN (the phase with the most checks) over the whole input: the open
		 * bounds are the extremes of the field */
		struct vhs_segment *s = &m->u.segment;

		s->port = 1;
		s->phase = VHS_SEG_BEGIN;
		s->flags = VHS_SEG_LAST;
		s->index = 0xFFFFFFFEu;
		s->start = VHS_SEG_OPEN_START;
		s->end = VHS_SEG_OPEN_END;
		s->tb_num = 1001;
		s->tb_den = 30000;
		s->frames = 0x0102030405060708ULL;
		s->samples = 0x1112131415161718ULL;
		s->bytes = UINT64_MAX;
		break;
	}
	case VHS_MSG_DETACHED:
		m->u.detached.port = 1;
		break;
	case VHS_MSG_TRACE: /* every sample in use, the extremes of each field */
		m->u.trace.n = VHS_TRACE_SAMPLES;
		for (int i = 0; i < VHS_TRACE_SAMPLES; i++)
			m->u.trace.s[i] = (struct vhs_trace_sample){
				.start_ns = UINT64_MAX - (uint64_t)i, .dur_ns = UINT32_MAX - (uint32_t)i,
				.busy_ns = 0x01020304u * (uint32_t)i, .segment = 0xFFFFFFF0u + (uint32_t)i,
				.index = (uint32_t)i * 7 };
		break;
	default: /* READY, DONE, STOP, DRAIN */
		break;
	}
}

/* Expected packed length of each type's sample. */
static size_t s_expected_len(uint8_t type)
{
	switch (type) {
	case VHS_MSG_HELLO: return HDR + HELLO_BODY;
	case VHS_MSG_CONFIG: return 0; /* depends on the settings: vhs_proto_config_size() */
	case VHS_MSG_FORMAT: return HDR + FORMAT_BODY;
	case VHS_MSG_ATTACH: return HDR + ATTACH_BODY;
	case VHS_MSG_GRANT: case VHS_MSG_RELEASE: return HDR + GRANT_BODY;
	case VHS_MSG_FRAME: return HDR + FRAME_BODY;
	case VHS_MSG_AUDIO: return HDR + AUDIO_BODY;
	case VHS_MSG_EOS: return HDR + EOS_BODY;
	case VHS_MSG_STATS: return HDR + STATS_BODY;
	case VHS_MSG_ERROR: return HDR + ERROR_BODY;
	case VHS_MSG_SEGMENT: return HDR + SEGMENT_BODY;
	case VHS_MSG_DETACHED: return HDR + 1;
	case VHS_MSG_TRACE: return HDR + TRACE_BODY;
	default: return HDR; /* READY, DONE, STOP, DRAIN */
	}
}

/* Packs the sample of type into a malloc'd buffer of exactly its length. */
static uint8_t *s_pack_sample(uint8_t type, size_t *len, struct vhs_msg *m)
{
	static uint8_t tmp[1 << 16];
	int n;
	uint8_t *buf;

	s_sample(m, type);
	n = vhs_proto_pack(m, tmp, sizeof(tmp));
	cr_assert_gt(n, 0, "pack %s: %d", vhs_proto_type_name(type), n);
	buf = malloc((size_t)n);
	cr_assert_not_null(buf);
	memcpy(buf, tmp, (size_t)n);
	*len = (size_t)n;
	return buf;
}

/* Unpack of a copy of buf[0..len) in a buffer of exactly len bytes (so ASan sees any
 * read past the end). */
static int s_unpack_exact(struct vhs_msg *m, const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	cr_assert_not_null(copy);
	memcpy(copy, buf, len);
	ret = vhs_proto_unpack(m, copy, len);
	free(copy);
	return ret;
}

static int s_unpack_mutated(uint8_t type, size_t off, const void *bytes, size_t n)
{
	struct vhs_msg m;
	size_t len;
	uint8_t *buf = s_pack_sample(type, &len, &m);
	int ret;

	cr_assert_leq(off + n, len, "mutation past the record");
	memcpy(buf + off, bytes, n);
	ret = s_unpack_exact(&m, buf, len);
	free(buf);
	return ret;
}

static int s_unpack_msg(const struct vhs_msg *in)
{
	uint8_t buf[1 << 16];
	struct vhs_msg out;
	int n = vhs_proto_pack(in, buf, sizeof(buf));

	cr_assert_gt(n, 0);
	return s_unpack_exact(&out, buf, (size_t)n);
}

static void s_le(uint8_t *dst, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

/* ---- round trips ------------------------------------------------------------------ */

Test(proto, roundtrip_every_type)
{
	for (uint8_t t = 1; t < VHS_MSG_TYPE_END; t++) {
		struct vhs_msg in, out;
		uint8_t buf[1 << 16], again[1 << 16];
		int n, n2;

		s_sample(&in, t);
		n = vhs_proto_pack(&in, buf, sizeof(buf));
		cr_assert_gt(n, 0, "pack %s", vhs_proto_type_name(t));
		cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0, "unpack %s",
			     vhs_proto_type_name(t));
		cr_assert_eq(out.type, t);
		if (t == VHS_MSG_CONFIG) {
			cr_assert_eq(out.u.config.n_inputs, in.u.config.n_inputs);
			cr_assert_eq(memcmp(out.u.config.inputs, in.u.config.inputs,
					    sizeof(in.u.config.inputs)), 0);
			cr_assert_eq(out.u.config.settings_len, in.u.config.settings_len);
			cr_assert_str_eq(out.u.config.settings, in.u.config.settings);
		} else {
			cr_assert_eq(memcmp(&in, &out, sizeof(in)), 0, "%s differs after round trip",
				     vhs_proto_type_name(t));
		}
		n2 = vhs_proto_pack(&out, again, sizeof(again));
		cr_assert_eq(n2, n);
		cr_assert_eq(memcmp(buf, again, (size_t)n), 0, "%s re-packs differently",
			     vhs_proto_type_name(t));
	}
}

Test(proto, roundtrip_frame_fields)
{
	struct vhs_msg in, out;
	uint8_t buf[VHS_MSG_MAX];
	int n;

	s_sample(&in, VHS_MSG_FRAME);
	n = vhs_proto_pack(&in, buf, sizeof(buf));
	cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0);
	cr_assert_eq(out.u.frame.pts, INT64_MIN);
	cr_assert_eq(out.u.frame.duration, -1001);
	cr_assert_eq(out.u.frame.slot, UINT32_MAX);
	cr_assert_eq(out.u.frame.index, UINT64_MAX);
	cr_assert_eq(out.u.frame.sar_num, -1);
	cr_assert_eq(out.u.frame.flags, 0x0F);
	cr_assert_eq(out.u.frame.linesize[3], INT32_MAX - 3);
	cr_assert_eq(out.u.frame.offset[3], 0x30000007u);

	/* an ordinary negative pts (B-frames before the first keyframe) */
	in.u.frame.pts = -2;
	n = vhs_proto_pack(&in, buf, sizeof(buf));
	cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0);
	cr_assert_eq(out.u.frame.pts, -2);
}

Test(proto, roundtrip_audio_eight_offsets)
{
	struct vhs_msg in, out;
	uint8_t buf[VHS_MSG_MAX];
	int n;

	s_sample(&in, VHS_MSG_AUDIO);
	n = vhs_proto_pack(&in, buf, sizeof(buf));
	cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0);
	for (int i = 0; i < VHS_MAX_CHANNELS; i++)
		cr_assert_eq(out.u.audio.offset[i], (uint32_t)i * 6464u, "offset[%d]", i);
	cr_assert_eq(out.u.audio.pts, -3003);
	cr_assert_eq(out.u.audio.channel_layout, UINT64_MAX);
	cr_assert_eq(out.u.audio.index, 0x0102030405060708ULL);
	in.u.audio.pts = INT64_MIN;
	n = vhs_proto_pack(&in, buf, sizeof(buf));
	cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0);
	cr_assert_eq(out.u.audio.pts, INT64_MIN);
}

Test(proto, config_long_settings)
{
	struct vhs_msg in, out;
	size_t len = 5000, want = vhs_proto_config_size((uint32_t)len);
	char *text = malloc(len + 1);
	uint8_t *buf = malloc(want + 16);
	int n;

	cr_assert(text && buf);
	for (size_t i = 0; i < len; i++)
		text[i] = (i % 50 == 49) ? '\n' : (char)('a' + i % 26);
	text[len] = '\0';
	s_sample(&in, VHS_MSG_CONFIG);
	in.u.config.settings = text;
	in.u.config.settings_len = (uint32_t)len;
	cr_assert_gt(want, (size_t)VHS_MSG_MAX);
	n = vhs_proto_pack(&in, buf, want + 16);
	cr_assert_eq((size_t)n, want, "pack %d, config_size %zu", n, want);
	cr_assert_eq(buf[want - 1], '\0', "settings terminator");
	cr_assert_eq(vhs_proto_unpack(&out, buf, want), 0);
	cr_assert_eq(out.u.config.settings_len, len);
	cr_assert_eq(out.u.config.settings, (const char *)buf + want - len - 1,
		     "settings point into the record");
	cr_assert_str_eq(out.u.config.settings, text);
	cr_assert_eq(vhs_proto_pack(&in, buf, want - 1), -ENOSPC);
	free(text);
	free(buf);
}

Test(proto, config_empty_settings)
{
	struct vhs_msg in, out;
	uint8_t buf[VHS_MSG_MAX * 2];
	int n;

	s_sample(&in, VHS_MSG_CONFIG);
	in.u.config.n_inputs = 0;
	in.u.config.settings = "";
	in.u.config.settings_len = 0;
	n = vhs_proto_pack(&in, buf, sizeof(buf));
	cr_assert_eq((size_t)n, vhs_proto_config_size(0));
	cr_assert_eq(vhs_proto_config_size(0), (size_t)(HDR + 1 + 2 * STREAM_FMT_BODY + 4 + 1));
	cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0);
	cr_assert_eq(out.u.config.settings_len, 0);
	cr_assert_str_eq(out.u.config.settings, "");
}

/* ---- sizes and byte layout -------------------------------------------------------- */

Test(proto, packed_sizes)
{
	for (uint8_t t = 1; t < VHS_MSG_TYPE_END; t++) {
		struct vhs_msg m;
		uint8_t buf[1 << 16];
		int n;

		s_sample(&m, t);
		if (t == VHS_MSG_CONFIG) {
			m.u.config.settings = "a.b=c\n";
			m.u.config.settings_len = 6;
		}
		n = vhs_proto_pack(&m, buf, sizeof(buf));
		if (t == VHS_MSG_CONFIG) {
			cr_assert_eq((size_t)n, vhs_proto_config_size(6));
			continue;
		}
		cr_assert_eq((size_t)n, s_expected_len(t), "%s packs to %d, expected %zu",
			     vhs_proto_type_name(t), n, s_expected_len(t));
		cr_assert_leq(n, VHS_MSG_MAX, "%s exceeds VHS_MSG_MAX", vhs_proto_type_name(t));
	}
}

Test(proto, grant_bytes_little_endian)
{
	struct vhs_msg m;
	uint8_t buf[32];
	static const uint8_t want[] = { VHS_PROTO_VERSION, VHS_MSG_GRANT, 0, 0,
					0x01, 0x78, 0x56, 0x34, 0x12 };

	memset(&m, 0, sizeof(m));
	m.type = VHS_MSG_GRANT;
	m.u.grant.port = 1;
	m.u.grant.slot = 0x12345678u;
	memset(buf, 0xEE, sizeof(buf));
	cr_assert_eq(vhs_proto_pack(&m, buf, sizeof(buf)), (int)sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++)
		cr_assert_eq(buf[i], want[i], "byte %zu: %02x, expected %02x", i, buf[i], want[i]);
	cr_assert_eq(buf[sizeof(want)], 0xEE, "wrote past the record");

	m.type = VHS_MSG_RELEASE;
	cr_assert_eq(vhs_proto_pack(&m, buf, sizeof(buf)), (int)sizeof(want));
	cr_assert_eq(buf[1], VHS_MSG_RELEASE);
}

Test(proto, frame_field_offsets)
{
	struct vhs_msg m;
	uint8_t buf[VHS_MSG_MAX], le[8];
	size_t body = HDR;

	s_sample(&m, VHS_MSG_FRAME);
	m.u.frame.pts = -2; /* ff ff ... fe */
	cr_assert_eq(vhs_proto_pack(&m, buf, sizeof(buf)), HDR + FRAME_BODY);
	cr_assert_eq(buf[body + 0], 1, "port");
	s_le(le, UINT32_MAX, 4);
	cr_assert_eq(memcmp(buf + body + 1, le, 4), 0, "slot");
	s_le(le, 0x01020304u, 4);
	cr_assert_eq(memcmp(buf + body + 5, le, 4), 0, "segment");
	s_le(le, (uint64_t)-2, 8);
	cr_assert_eq(memcmp(buf + body + 17, le, 8), 0, "pts at body+17");
	s_le(le, (uint64_t)-1001, 8);
	cr_assert_eq(memcmp(buf + body + 25, le, 8), 0, "duration at body+25");
	s_le(le, 30000, 4);
	cr_assert_eq(memcmp(buf + body + 37, le, 4), 0, "tb_den at body+37");
	cr_assert_eq(memcmp(buf + body + 41, m.u.frame.fmt, 16), 0, "fmt at body+41");
	s_le(le, 16384, 4);
	cr_assert_eq(memcmp(buf + body + 57, le, 4), 0, "width at body+57");
	s_le(le, (uint32_t)-1, 4);
	cr_assert_eq(memcmp(buf + body + 97, le, 4), 0, "sar_num at body+97");
	s_le(le, 11, 4);
	cr_assert_eq(memcmp(buf + body + 101, le, 4), 0, "sar_den at body+101");
	cr_assert_eq(buf[body + 105], 2, "color_range at body+105");
	cr_assert_eq(buf[body + 110], 0x0F, "flags at body+110");
	s_le(le, 0xFFFFFFF0u, 4);
	cr_assert_eq(memcmp(buf + body + 111, le, 4), 0, "bytes at body+111");
}

/* An independent encoder, written from the field lists in proto.c's header comment:
 * pack must produce exactly these bytes (a layout change that pack and unpack would
 * both follow still fails here). */
struct wr {
	uint8_t *p;
};

static void w_int(struct wr *w, uint64_t v, size_t n)
{
	s_le(w->p, v, n);
	w->p += n;
}

static void w_str(struct wr *w, const char *s, size_t n)
{
	memcpy(w->p, s, n);
	w->p += n;
}

static void w_hdr(struct wr *w, uint8_t type)
{
	w_int(w, VHS_PROTO_VERSION, 1);
	w_int(w, type, 1);
	w_int(w, 0, 2);
}

static void w_stream_fmt(struct wr *w, const struct vhs_stream_fmt *f)
{
	w_int(w, f->media, 1);
	w_str(w, f->fmt, 16);
	w_int(w, (uint32_t)f->width, 4);
	w_int(w, (uint32_t)f->height, 4);
	w_int(w, (uint32_t)f->sample_rate, 4);
	w_int(w, (uint32_t)f->channels, 4);
	w_int(w, f->channel_layout, 8);
	w_int(w, (uint32_t)f->tb_num, 4);
	w_int(w, (uint32_t)f->tb_den, 4);
	w_int(w, (uint32_t)f->fr_num, 4);
	w_int(w, (uint32_t)f->fr_den, 4);
	w_int(w, (uint32_t)f->sar_num, 4);
	w_int(w, (uint32_t)f->sar_den, 4);
	w_int(w, f->color_range, 1);
	w_int(w, f->colorspace, 1);
	w_int(w, f->color_primaries, 1);
	w_int(w, f->color_trc, 1);
	w_int(w, f->chroma_location, 1);
	w_int(w, f->field_order, 1);
	w_int(w, (uint64_t)f->duration_us, 8);
	w_int(w, f->slot_size, 4);
	w_int(w, f->memory, 1);
}

static void w_frame(struct wr *w, const struct vhs_frame *f)
{
	w_int(w, f->port, 1);
	w_int(w, f->slot, 4);
	w_int(w, f->segment, 4);
	w_int(w, f->index, 8);
	w_int(w, (uint64_t)f->pts, 8);
	w_int(w, (uint64_t)f->duration, 8);
	w_int(w, (uint32_t)f->tb_num, 4);
	w_int(w, (uint32_t)f->tb_den, 4);
	w_str(w, f->fmt, 16);
	w_int(w, (uint32_t)f->width, 4);
	w_int(w, (uint32_t)f->height, 4);
	for (int i = 0; i < 4; i++)
		w_int(w, f->offset[i], 4);
	for (int i = 0; i < 4; i++)
		w_int(w, (uint32_t)f->linesize[i], 4);
	w_int(w, (uint32_t)f->sar_num, 4);
	w_int(w, (uint32_t)f->sar_den, 4);
	w_int(w, f->color_range, 1);
	w_int(w, f->colorspace, 1);
	w_int(w, f->color_primaries, 1);
	w_int(w, f->color_trc, 1);
	w_int(w, f->chroma_location, 1);
	w_int(w, f->flags, 1);
	w_int(w, f->bytes, 4);
}

static void w_audio(struct wr *w, const struct vhs_audio *a)
{
	w_int(w, a->port, 1);
	w_int(w, a->slot, 4);
	w_int(w, a->segment, 4);
	w_int(w, a->index, 8);
	w_int(w, (uint64_t)a->pts, 8);
	w_int(w, (uint32_t)a->tb_num, 4);
	w_int(w, (uint32_t)a->tb_den, 4);
	w_str(w, a->fmt, 16);
	w_int(w, (uint32_t)a->sample_rate, 4);
	w_int(w, (uint32_t)a->channels, 4);
	w_int(w, a->channel_layout, 8);
	w_int(w, (uint32_t)a->nb_samples, 4);
	for (int i = 0; i < 8; i++)
		w_int(w, a->offset[i], 4);
	w_int(w, a->plane_bytes, 4);
	w_int(w, a->bytes, 4);
}

static void w_segment(struct wr *w, const struct vhs_segment *s)
{
	w_int(w, s->port, 1);
	w_int(w, s->phase, 1);
	w_int(w, s->flags, 1);
	w_int(w, s->index, 4);
	w_int(w, (uint64_t)s->start, 8);
	w_int(w, (uint64_t)s->end, 8);
	w_int(w, (uint32_t)s->tb_num, 4);
	w_int(w, (uint32_t)s->tb_den, 4);
	w_int(w, s->frames, 8);
	w_int(w, s->samples, 8);
	w_int(w, s->bytes, 8);
}

/* The reference encoding of m; returns its length. */
static size_t w_record(const struct vhs_msg *m, uint8_t *buf)
{
	struct wr w = { buf };
	const struct vhs_stats *st = &m->u.stats;

	w_hdr(&w, m->type);
	switch (m->type) {
	case VHS_MSG_HELLO:
		w_str(&w, m->u.hello.stage, 16);
		w_int(&w, m->u.hello.pid, 4);
		w_int(&w, m->u.hello.instance, 2);
		break;
	case VHS_MSG_CONFIG:
		w_int(&w, m->u.config.n_inputs, 1);
		w_stream_fmt(&w, &m->u.config.inputs[0]);
		w_stream_fmt(&w, &m->u.config.inputs[1]);
		w_int(&w, m->u.config.settings_len, 4);
		w_str(&w, m->u.config.settings, m->u.config.settings_len + 1);
		break;
	case VHS_MSG_FORMAT:
		w_int(&w, m->u.format.n, 1);
		w_stream_fmt(&w, &m->u.format.outputs[0]);
		w_stream_fmt(&w, &m->u.format.outputs[1]);
		break;
	case VHS_MSG_ATTACH:
		w_int(&w, m->u.attach.n_inputs, 1);
		w_int(&w, m->u.attach.n_outputs, 1);
		w_str(&w, m->u.attach.inputs[0], 48);
		w_str(&w, m->u.attach.inputs[1], 48);
		w_str(&w, m->u.attach.outputs[0], 48);
		w_str(&w, m->u.attach.outputs[1], 48);
		w_int(&w, m->u.attach.segments, 2);
		break;
	case VHS_MSG_GRANT:
	case VHS_MSG_RELEASE:
		w_int(&w, m->u.grant.port, 1);
		w_int(&w, m->u.grant.slot, 4);
		break;
	case VHS_MSG_FRAME:
		w_frame(&w, &m->u.frame);
		break;
	case VHS_MSG_AUDIO:
		w_audio(&w, &m->u.audio);
		break;
	case VHS_MSG_EOS:
		w_int(&w, m->u.eos.port, 1);
		w_int(&w, m->u.eos.count, 8);
		break;
	case VHS_MSG_STATS:
		w_int(&w, st->frames_in, 8);
		w_int(&w, st->frames_out, 8);
		w_int(&w, st->busy_ns, 8);
		w_int(&w, st->wait_in_ns, 8);
		w_int(&w, st->wait_out_ns, 8);
		w_int(&w, st->cpu_ns, 8);
		w_int(&w, st->rss_kb, 8);
		w_int(&w, st->bytes_copied, 8);
		w_int(&w, st->copies, 8);
		w_int(&w, st->gpu_ns, 8);
		break;
	case VHS_MSG_TRACE:
		w_int(&w, m->u.trace.n, 1);
		for (int i = 0; i < VHS_TRACE_SAMPLES; i++) {
			w_int(&w, m->u.trace.s[i].start_ns, 8);
			w_int(&w, m->u.trace.s[i].dur_ns, 4);
			w_int(&w, m->u.trace.s[i].busy_ns, 4);
			w_int(&w, m->u.trace.s[i].segment, 4);
			w_int(&w, m->u.trace.s[i].index, 4);
		}
		break;
	case VHS_MSG_ERROR:
		w_int(&w, m->u.error.cls, 1);
		w_str(&w, m->u.error.text, 240);
		break;
	case VHS_MSG_SEGMENT:
		w_segment(&w, &m->u.segment);
		break;
	case VHS_MSG_DETACHED:
		w_int(&w, m->u.detached.port, 1);
		break;
	case VHS_MSG_READY:
	case VHS_MSG_DONE:
	case VHS_MSG_STOP:
	case VHS_MSG_DRAIN:
		break;
	default:
		cr_assert_fail("the reference encoder does not know type %u", m->type);
	}
	return (size_t)(w.p - buf);
}

Test(proto, layout_matches_reference_encoder)
{
	for (uint8_t t = 1; t < VHS_MSG_TYPE_END; t++) {
		struct vhs_msg m;
		static uint8_t got[1 << 16], want[1 << 16];
		size_t n;
		int len;

		s_sample(&m, t);
		len = vhs_proto_pack(&m, got, sizeof(got));
		n = w_record(&m, want);
		cr_assert_eq((size_t)len, n, "%s: pack %d bytes, reference %zu",
			     vhs_proto_type_name(t), len, n);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(got[i], want[i], "%s byte %zu: %02x, reference %02x",
				     vhs_proto_type_name(t), i, got[i], want[i]);
	}
}

Test(proto, type_names)
{
	static const char *const want[] = { "?", "HELLO", "CONFIG", "FORMAT", "ATTACH", "READY",
					    "GRANT", "FRAME", "AUDIO", "RELEASE", "EOS", "STATS",
					    "ERROR", "DONE", "STOP", "SEGMENT", "DRAIN",
					    "DETACHED", "TRACE" };

	cr_assert_eq(sizeof(want) / sizeof(want[0]), (size_t)VHS_MSG_TYPE_END);
	for (int t = 0; t < VHS_MSG_TYPE_END; t++)
		cr_assert_str_eq(vhs_proto_type_name((uint8_t)t), want[t]);
	cr_assert_str_eq(vhs_proto_type_name(VHS_MSG_TYPE_END), "?");
	cr_assert_str_eq(vhs_proto_type_name(255), "?");
}

/* ---- refusals --------------------------------------------------------------------- */

Test(proto, refuses_wrong_version)
{
	static const uint8_t v[] = { 0, VHS_PROTO_VERSION + 1, 0xFF };

	for (size_t i = 0; i < sizeof(v); i++) {
		cr_assert_eq(s_unpack_mutated(VHS_MSG_GRANT, 0, &v[i], 1), -EPROTO, "version %u", v[i]);
		cr_assert_eq(s_unpack_mutated(VHS_MSG_READY, 0, &v[i], 1), -EPROTO, "version %u", v[i]);
	}
}

Test(proto, refuses_unknown_type)
{
	uint8_t buf[HDR + ERROR_BODY];
	struct vhs_msg m;

	memset(buf, 0, sizeof(buf));
	buf[0] = VHS_PROTO_VERSION;
	for (unsigned t = 0; t < 256; t++) {
		if (t >= 1 && t < VHS_MSG_TYPE_END)
			continue;
		buf[1] = (uint8_t)t;
		cr_assert_eq(vhs_proto_unpack(&m, buf, HDR), -EPROTO, "type %u", t);
		cr_assert_eq(vhs_proto_unpack(&m, buf, sizeof(buf)), -EPROTO, "type %u", t);
	}
	/* positive control: the same header with READY is a whole record */
	buf[1] = VHS_MSG_READY;
	cr_assert_eq(vhs_proto_unpack(&m, buf, HDR), 0);
}

Test(proto, pack_refuses_bad_type)
{
	struct vhs_msg m;
	uint8_t buf[VHS_MSG_MAX];

	memset(&m, 0, sizeof(m));
	cr_assert_eq(vhs_proto_pack(&m, buf, sizeof(buf)), -EINVAL);
	m.type = VHS_MSG_TYPE_END;
	cr_assert_eq(vhs_proto_pack(&m, buf, sizeof(buf)), -EINVAL);
}

Test(proto, refuses_every_truncation)
{
	for (uint8_t t = 1; t < VHS_MSG_TYPE_END; t++) {
		struct vhs_msg m;
		size_t len;
		uint8_t *buf = s_pack_sample(t, &len, &m);

		cr_assert_eq(s_unpack_exact(&m, buf, len), 0, "%s whole", vhs_proto_type_name(t));
		for (size_t n = 0; n < len; n++)
			cr_assert_eq(s_unpack_exact(&m, buf, n), -EPROTO, "%s truncated to %zu of %zu",
				     vhs_proto_type_name(t), n, len);
		free(buf);
	}
}

Test(proto, refuses_trailing_bytes)
{
	for (uint8_t t = 1; t < VHS_MSG_TYPE_END; t++) {
		struct vhs_msg m;
		size_t len;
		uint8_t *buf = s_pack_sample(t, &len, &m);
		uint8_t *big = calloc(len + 8, 1);

		cr_assert_not_null(big);
		memcpy(big, buf, len);
		for (size_t extra = 1; extra <= 8; extra++)
			cr_assert_eq(s_unpack_exact(&m, big, len + extra), -EPROTO, "%s + %zu bytes",
				     vhs_proto_type_name(t), extra);
		free(big);
		free(buf);
	}
}

/* Fills a string field at off (size n) with non-NUL bytes: refused; the same with its
 * last byte left NUL: accepted (which proves off is the field). */
static void s_check_string_field(uint8_t type, size_t off, size_t n, const char *what)
{
	char *junk = malloc(n);

	cr_assert_not_null(junk);
	memset(junk, 'Z', n);
	cr_assert_eq(s_unpack_mutated(type, off, junk, n), -EPROTO, "%s unterminated", what);
	junk[n - 1] = '\0';
	cr_assert_eq(s_unpack_mutated(type, off, junk, n), 0, "%s of %zu chars", what, n - 1);
	free(junk);
}

Test(proto, refuses_unterminated_strings)
{
	size_t attach = HDR + 2, fmt0 = HDR + 1 + 1, fmt1 = HDR + 1 + STREAM_FMT_BODY + 1;

	s_check_string_field(VHS_MSG_HELLO, HDR, VHS_NAME_LEN, "HELLO stage");
	s_check_string_field(VHS_MSG_FRAME, HDR + 41, VHS_NAME_LEN, "FRAME fmt");
	s_check_string_field(VHS_MSG_AUDIO, HDR + 33, VHS_NAME_LEN, "AUDIO fmt");
	s_check_string_field(VHS_MSG_ERROR, HDR + 1, VHS_ERROR_TEXT, "ERROR text");
	for (int i = 0; i < 4; i++)
		s_check_string_field(VHS_MSG_ATTACH, attach + (size_t)i * VHS_RING_NAME_LEN,
				     VHS_RING_NAME_LEN, i < 2 ? "ATTACH input" : "ATTACH output");
	s_check_string_field(VHS_MSG_FORMAT, fmt0, VHS_NAME_LEN, "FORMAT outputs[0].fmt");
	s_check_string_field(VHS_MSG_FORMAT, fmt1, VHS_NAME_LEN, "FORMAT outputs[1].fmt");
	s_check_string_field(VHS_MSG_CONFIG, fmt0, VHS_NAME_LEN, "CONFIG inputs[0].fmt");
	s_check_string_field(VHS_MSG_CONFIG, fmt1, VHS_NAME_LEN, "CONFIG inputs[1].fmt");
}

Test(proto, refuses_port_out_of_range)
{
	static const uint8_t types[] = { VHS_MSG_GRANT, VHS_MSG_RELEASE, VHS_MSG_EOS,
					 VHS_MSG_FRAME, VHS_MSG_AUDIO, VHS_MSG_SEGMENT };
	static const uint8_t bad[] = { VHS_MAX_PORTS, VHS_MAX_PORTS + 1, 0xFF };
	const uint8_t good = VHS_MAX_PORTS - 1, zero = 0;

	for (size_t i = 0; i < sizeof(types); i++) {
		for (size_t j = 0; j < sizeof(bad); j++)
			cr_assert_eq(s_unpack_mutated(types[i], HDR, &bad[j], 1), -EPROTO, "%s port %u",
				     vhs_proto_type_name(types[i]), bad[j]);
		cr_assert_eq(s_unpack_mutated(types[i], HDR, &good, 1), 0);
		cr_assert_eq(s_unpack_mutated(types[i], HDR, &zero, 1), 0);
	}
}

Test(proto, refuses_audio_channels)
{
	struct vhs_msg m;
	static const int32_t bad[] = { 0, VHS_MAX_CHANNELS + 1, -1, INT32_MIN };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s_sample(&m, VHS_MSG_AUDIO);
		m.u.audio.channels = bad[i];
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "AUDIO channels %d", bad[i]);
		s_sample(&m, VHS_MSG_FORMAT);
		m.u.format.outputs[1].channels = bad[i];
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "FORMAT audio channels %d", bad[i]);
		s_sample(&m, VHS_MSG_CONFIG);
		m.u.config.inputs[1].channels = bad[i];
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "CONFIG audio channels %d", bad[i]);
	}
	s_sample(&m, VHS_MSG_AUDIO);
	m.u.audio.channels = 1;
	cr_assert_eq(s_unpack_msg(&m), 0, "mono");
	/* unused formats (beyond n) are carried, not checked */
	s_sample(&m, VHS_MSG_FORMAT);
	m.u.format.n = 1;
	m.u.format.outputs[1].channels = 0;
	cr_assert_eq(s_unpack_msg(&m), 0);
}

Test(proto, refuses_audio_plane_beyond_bytes)
{
	struct vhs_msg m;

	s_sample(&m, VHS_MSG_AUDIO);
	m.u.audio.offset[7] = m.u.audio.bytes - m.u.audio.plane_bytes + 1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "last plane one byte past bytes");
	m.u.audio.offset[7] = m.u.audio.bytes - m.u.audio.plane_bytes;
	cr_assert_eq(s_unpack_msg(&m), 0, "last plane ends exactly at bytes");
	m.u.audio.offset[0] = UINT32_MAX; /* overflow of offset + plane_bytes in 32 bits */
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "offset UINT32_MAX");
	s_sample(&m, VHS_MSG_AUDIO);
	m.u.audio.nb_samples = -1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "negative nb_samples");
	s_sample(&m, VHS_MSG_AUDIO);
	m.u.audio.sample_rate = 0;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "sample rate 0");
}

Test(proto, refuses_frame_geometry)
{
	struct vhs_msg m;
	static const struct { int32_t w, h; } bad[] = {
		{ 0, 480 }, { 720, 0 }, { -720, 480 }, { 720, -1 }, { 16385, 16 }, { 16, 16385 },
		{ INT32_MIN, INT32_MIN },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s_sample(&m, VHS_MSG_FRAME);
		m.u.frame.width = bad[i].w;
		m.u.frame.height = bad[i].h;
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "frame %dx%d", bad[i].w, bad[i].h);
	}
	s_sample(&m, VHS_MSG_FRAME);
	m.u.frame.width = 1;
	m.u.frame.height = 16384;
	cr_assert_eq(s_unpack_msg(&m), 0, "1x16384");
	m.u.frame.linesize[2] = -1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "negative linesize");
}

Test(proto, refuses_frame_plane_beyond_bytes)
{
	struct vhs_msg m;

	s_sample(&m, VHS_MSG_FRAME);
	m.u.frame.offset[1] = m.u.frame.bytes;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "plane 1 starts at bytes");
	m.u.frame.offset[1] = UINT32_MAX;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "plane 1 at UINT32_MAX");
	m.u.frame.offset[1] = m.u.frame.bytes - 1;
	cr_assert_eq(s_unpack_msg(&m), 0, "plane 1 starts at the last byte");
	s_sample(&m, VHS_MSG_FRAME);
	m.u.frame.bytes = 0;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "planes in an empty slot");
}

Test(proto, refuses_config_settings_terminator)
{
	struct vhs_msg m;
	size_t len, off;
	uint8_t *buf = s_pack_sample(VHS_MSG_CONFIG, &len, &m);
	uint32_t slen = m.u.config.settings_len;

	off = len - slen - 1; /* first settings byte */
	cr_assert_eq(len, vhs_proto_config_size(slen));
	cr_assert_eq(s_unpack_exact(&m, buf, len), 0);

	buf[len - 1] = '\n'; /* no terminator */
	cr_assert_eq(s_unpack_exact(&m, buf, len), -EPROTO, "missing terminator");
	buf[len - 1] = '\0';

	buf[off + slen / 2] = '\0'; /* embedded NUL in the middle */
	cr_assert_eq(s_unpack_exact(&m, buf, len), -EPROTO, "embedded NUL in the middle");
	buf[off + slen / 2] = 'x';
	cr_assert_eq(s_unpack_exact(&m, buf, len), 0);

	buf[off] = '\0'; /* embedded NUL first */
	cr_assert_eq(s_unpack_exact(&m, buf, len), -EPROTO, "embedded NUL first");
	buf[off] = 'v';
	buf[len - 2] = '\0'; /* embedded NUL last */
	cr_assert_eq(s_unpack_exact(&m, buf, len), -EPROTO, "embedded NUL just before the end");
	free(buf);
}

Test(proto, refuses_config_settings_len)
{
	struct vhs_msg m;
	size_t len, at = HDR + 1 + 2 * STREAM_FMT_BODY;
	uint8_t *buf = s_pack_sample(VHS_MSG_CONFIG, &len, &m);
	uint32_t slen = m.u.config.settings_len;
	static const uint32_t lens[] = { 0, 1, UINT32_MAX, UINT32_MAX - 1, 0x80000000u };
	uint8_t le[4];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		s_le(le, lens[i], 4);
		memcpy(buf + at, le, 4);
		cr_assert_eq(s_unpack_exact(&m, buf, len), -EPROTO, "settings_len %u", lens[i]);
	}
	s_le(le, slen - 1, 4);
	memcpy(buf + at, le, 4);
	cr_assert_eq(s_unpack_exact(&m, buf, len), -EPROTO, "settings_len one short");
	s_le(le, slen, 4);
	memcpy(buf + at, le, 4);
	cr_assert_eq(s_unpack_exact(&m, buf, len), 0);
	free(buf);
}

Test(proto, refuses_port_counts)
{
	struct vhs_msg m;

	s_sample(&m, VHS_MSG_FORMAT);
	m.u.format.n = 3;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "FORMAT n 3");
	m.u.format.n = 0xFF;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "FORMAT n 255");
	m.u.format.n = 0;
	cr_assert_eq(s_unpack_msg(&m), 0, "FORMAT n 0");
	s_sample(&m, VHS_MSG_CONFIG);
	m.u.config.n_inputs = 3;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "CONFIG n_inputs 3");
	s_sample(&m, VHS_MSG_ATTACH);
	m.u.attach.n_inputs = 3;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "ATTACH n_inputs 3");
	s_sample(&m, VHS_MSG_ATTACH);
	m.u.attach.n_outputs = 3;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "ATTACH n_outputs 3");
	s_sample(&m, VHS_MSG_ATTACH);
	m.u.attach.segments = 0;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "ATTACH segments 0");
}

Test(proto, refuses_stream_fmt_fields)
{
	struct vhs_msg m;

	s_sample(&m, VHS_MSG_FORMAT);
	m.u.format.outputs[0].media = VHS_MEDIA_AUDIO + 1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "media 3");
	s_sample(&m, VHS_MSG_FORMAT);
	m.u.format.outputs[0].width = -1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "negative width");
	s_sample(&m, VHS_MSG_FORMAT);
	m.u.format.outputs[0].tb_den = -1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "negative tb_den");
	s_sample(&m, VHS_MSG_CONFIG);
	m.u.config.inputs[1].sample_rate = -48000;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "negative sample rate");
	s_sample(&m, VHS_MSG_FORMAT);
	m.u.format.outputs[0].memory = VHS_MEMORY_CUDA + 1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "memory 2");
	s_sample(&m, VHS_MSG_FORMAT);
	m.u.format.outputs[1].memory = VHS_MEMORY_CUDA;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "audio on the GPU");
}

Test(proto, refuses_error_class)
{
	struct vhs_msg m;

	s_sample(&m, VHS_MSG_ERROR);
	for (unsigned c = VHS_ERR_INTERNAL; c <= VHS_ERR_CONFIG; c++) {
		m.u.error.cls = (uint8_t)c;
		cr_assert_eq(s_unpack_msg(&m), 0, "class %u", c);
	}
	m.u.error.cls = VHS_ERR_CONFIG + 1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO);
	m.u.error.cls = 0xFF;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO);
}

/* ---- SEGMENT and DRAIN ------------------------------------------------------------ */

/* A SEGMENT of the given phase with ordinary, valid values. */
static void s_segment_msg(struct vhs_msg *m, uint8_t phase)
{
	s_sample(m, VHS_MSG_SEGMENT);
	m->u.segment.phase = phase;
	m->u.segment.flags = 0;
	m->u.segment.index = 7;
	m->u.segment.start = 70070;
	m->u.segment.end = 80080;
}

Test(proto, segment_roundtrip_every_field)
{
	struct vhs_msg in, out;
	uint8_t buf[VHS_MSG_MAX], le[8];
	int n;

	/* the sample: BEGIN of the only segment, window open at both ends */
	s_sample(&in, VHS_MSG_SEGMENT);
	n = vhs_proto_pack(&in, buf, sizeof(buf));
	cr_assert_eq(n, HDR + SEGMENT_BODY);
	cr_assert_eq(buf[1], VHS_MSG_SEGMENT);
	cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0);
	cr_assert_eq(out.type, VHS_MSG_SEGMENT);
	cr_assert_eq(out.u.segment.port, 1);
	cr_assert_eq(out.u.segment.phase, VHS_SEG_BEGIN);
	cr_assert_eq(out.u.segment.flags, VHS_SEG_LAST);
	cr_assert_eq(out.u.segment.index, 0xFFFFFFFEu);
	cr_assert_eq(out.u.segment.start, INT64_MIN, "open start");
	cr_assert_eq(out.u.segment.end, INT64_MAX, "open end");
	cr_assert_eq(out.u.segment.tb_num, 1001);
	cr_assert_eq(out.u.segment.tb_den, 30000);
	cr_assert_eq(out.u.segment.frames, 0x0102030405060708ULL);
	cr_assert_eq(out.u.segment.samples, 0x1112131415161718ULL);
	cr_assert_eq(out.u.segment.bytes, UINT64_MAX);
	/* the bounds on the wire: start at body+7, end at body+15, little endian */
	s_le(le, (uint64_t)INT64_MIN, 8);
	cr_assert_eq(memcmp(buf + HDR + 7, le, 8), 0, "start at body+7");
	s_le(le, (uint64_t)INT64_MAX, 8);
	cr_assert_eq(memcmp(buf + HDR + 15, le, 8), 0, "end at body+15");

	/* a window open at one end only, and a bounded one with a negative start */
	static const struct { int64_t start, end; } windows[] = {
		{ INT64_MIN, 0 }, { 0, INT64_MAX }, { -3003, 300300 }, { INT64_MIN, INT64_MIN + 1 },
		{ INT64_MAX - 1, INT64_MAX },
	};
	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		in.u.segment.start = windows[i].start;
		in.u.segment.end = windows[i].end;
		n = vhs_proto_pack(&in, buf, sizeof(buf));
		cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0, "window %zu", i);
		cr_assert_eq(out.u.segment.start, windows[i].start, "window %zu start", i);
		cr_assert_eq(out.u.segment.end, windows[i].end, "window %zu end", i);
		cr_assert_eq(memcmp(&in, &out, sizeof(in)), 0, "window %zu", i);
	}

	/* every phase, both ports, both flag values, whole struct compared */
	for (uint8_t ph = VHS_SEG_REQUEST; ph <= VHS_SEG_PHASE_MAX; ph++)
		for (uint8_t port = 0; port < VHS_MAX_PORTS; port++)
			for (uint8_t fl = 0; fl <= VHS_SEG_LAST; fl++) {
				s_segment_msg(&in, ph);
				in.u.segment.port = port;
				in.u.segment.flags = fl;
				in.u.segment.index = 0x01020304u + ph;
				in.u.segment.frames = 600u + ph;
				in.u.segment.samples = 480480u * ph;
				in.u.segment.bytes = 1234567u + port;
				n = vhs_proto_pack(&in, buf, sizeof(buf));
				cr_assert_eq(n, HDR + SEGMENT_BODY);
				cr_assert_eq(vhs_proto_unpack(&out, buf, (size_t)n), 0,
					     "phase %u port %u flags %u", ph, port, fl);
				cr_assert_eq(memcmp(&in, &out, sizeof(in)), 0,
					     "phase %u port %u flags %u differs", ph, port, fl);
			}
}

Test(proto, refuses_segment_port)
{
	struct vhs_msg m;
	static const uint8_t bad[] = { VHS_MAX_PORTS, VHS_MAX_PORTS + 1, 0x80, 0xFF };

	for (uint8_t ph = VHS_SEG_REQUEST; ph <= VHS_SEG_PHASE_MAX; ph++) {
		for (size_t i = 0; i < sizeof(bad); i++) {
			s_segment_msg(&m, ph);
			m.u.segment.port = bad[i];
			cr_assert_eq(s_unpack_msg(&m), -EPROTO, "phase %u port %u", ph, bad[i]);
		}
		s_segment_msg(&m, ph);
		m.u.segment.port = VHS_MAX_PORTS - 1;
		cr_assert_eq(s_unpack_msg(&m), 0, "phase %u last port", ph);
	}
}

Test(proto, refuses_segment_phase)
{
	struct vhs_msg m;
	static const uint8_t bad[] = { VHS_SEG_PHASE_MAX + 1, VHS_SEG_PHASE_MAX + 2, 0x80, 0xFF };

	for (size_t i = 0; i < sizeof(bad); i++) {
		s_segment_msg(&m, bad[i]);
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "phase %u", bad[i]);
	}
	for (uint8_t ph = VHS_SEG_REQUEST; ph <= VHS_SEG_PHASE_MAX; ph++) {
		s_segment_msg(&m, ph);
		cr_assert_eq(s_unpack_msg(&m), 0, "phase %u", ph);
	}
	/* on the wire too: the phase byte is body+1 */
	const uint8_t past = VHS_SEG_PHASE_MAX + 1, last = VHS_SEG_PHASE_MAX;

	cr_assert_eq(s_unpack_mutated(VHS_MSG_SEGMENT, HDR + 1, &past, 1), -EPROTO);
	cr_assert_eq(s_unpack_mutated(VHS_MSG_SEGMENT, HDR + 1, &last, 1), 0);
}

Test(proto, refuses_segment_unknown_flags)
{
	struct vhs_msg m;

	for (uint8_t ph = VHS_SEG_REQUEST; ph <= VHS_SEG_PHASE_MAX; ph++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t f = (uint8_t)(1u << bit);

			if (f == VHS_SEG_LAST)
				continue;
			s_segment_msg(&m, ph);
			m.u.segment.flags = f;
			cr_assert_eq(s_unpack_msg(&m), -EPROTO, "phase %u flags 0x%02x", ph, f);
			m.u.segment.flags = f | VHS_SEG_LAST;
			cr_assert_eq(s_unpack_msg(&m), -EPROTO, "phase %u flags 0x%02x", ph,
				     f | VHS_SEG_LAST);
		}
		s_segment_msg(&m, ph);
		m.u.segment.flags = 0xFF;
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "phase %u flags 0xff", ph);
		m.u.segment.flags = VHS_SEG_LAST;
		cr_assert_eq(s_unpack_msg(&m), 0, "phase %u LAST", ph);
		m.u.segment.flags = 0;
		cr_assert_eq(s_unpack_msg(&m), 0, "phase %u no flags", ph);
	}
}

Test(proto, refuses_segment_begin_time_base)
{
	struct vhs_msg m;
	static const int32_t bad[] = { 0, -1, -30000, INT32_MIN };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s_segment_msg(&m, VHS_SEG_BEGIN);
		m.u.segment.tb_num = bad[i];
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "BEGIN tb_num %d", bad[i]);
		s_segment_msg(&m, VHS_SEG_BEGIN);
		m.u.segment.tb_den = bad[i];
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "BEGIN tb_den %d", bad[i]);
		/* only BEGIN carries a time base: the other phases are not checked */
		for (uint8_t ph = VHS_SEG_REQUEST; ph <= VHS_SEG_PHASE_MAX; ph++) {
			if (ph == VHS_SEG_BEGIN)
				continue;
			s_segment_msg(&m, ph);
			m.u.segment.tb_num = bad[i];
			m.u.segment.tb_den = bad[i];
			cr_assert_eq(s_unpack_msg(&m), 0, "phase %u tb %d/%d", ph, bad[i], bad[i]);
		}
	}
	s_segment_msg(&m, VHS_SEG_BEGIN);
	m.u.segment.tb_num = 1;
	m.u.segment.tb_den = 1;
	cr_assert_eq(s_unpack_msg(&m), 0, "BEGIN tb 1/1");
	m.u.segment.tb_num = INT32_MAX;
	m.u.segment.tb_den = INT32_MAX;
	cr_assert_eq(s_unpack_msg(&m), 0, "BEGIN tb INT32_MAX/INT32_MAX");
}

/* An empty segment (no keyframe between two cuts of a long-GOP capture) is legal. */
Test(proto, accepts_empty_segment)
{
	struct vhs_msg m;

	s_segment_msg(&m, VHS_SEG_BEGIN);
	m.u.segment.start = m.u.segment.end = 80080;
	cr_assert_eq(s_unpack_msg(&m), 0);
}

Test(proto, refuses_segment_begin_reversed_window)
{
	struct vhs_msg m;
	static const struct { int64_t start, end; } bad[] = {
		{ 80081, 80080 },         /* reversed by one */
		{ 0, -1 },
		{ INT64_MAX, INT64_MAX }, /* both open-end markers */
		{ INT64_MIN, INT64_MIN }, /* both open-start markers */
		{ INT64_MAX, INT64_MIN }, /* the open markers swapped */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s_segment_msg(&m, VHS_SEG_BEGIN);
		m.u.segment.start = bad[i].start;
		m.u.segment.end = bad[i].end;
		cr_assert_eq(s_unpack_msg(&m), -EPROTO, "BEGIN [%lld, %lld)",
			     (long long)bad[i].start, (long long)bad[i].end);
		/* the window is only BEGIN's: END, REQUEST and DONE carry anything there */
		for (uint8_t ph = VHS_SEG_REQUEST; ph <= VHS_SEG_PHASE_MAX; ph++) {
			if (ph == VHS_SEG_BEGIN)
				continue;
			s_segment_msg(&m, ph);
			m.u.segment.start = bad[i].start;
			m.u.segment.end = bad[i].end;
			cr_assert_eq(s_unpack_msg(&m), 0, "phase %u [%lld, %lld)", ph,
				     (long long)bad[i].start, (long long)bad[i].end);
		}
	}
	s_segment_msg(&m, VHS_SEG_BEGIN);
	m.u.segment.start = 80079;
	m.u.segment.end = 80080;
	cr_assert_eq(s_unpack_msg(&m), 0, "a window of one tick");
}

Test(proto, drain_is_a_bare_header)
{
	struct vhs_msg m;
	uint8_t buf[16];
	static const uint8_t want[] = { VHS_PROTO_VERSION, VHS_MSG_DRAIN, 0, 0 };

	memset(&m, 0, sizeof(m));
	m.type = VHS_MSG_DRAIN;
	memset(buf, 0xEE, sizeof(buf));
	cr_assert_eq(vhs_proto_pack(&m, buf, sizeof(buf)), (int)sizeof(want));
	cr_assert_eq(memcmp(buf, want, sizeof(want)), 0);
	cr_assert_eq(buf[sizeof(want)], 0xEE, "wrote past the record");
	memset(&m, 0xA5, sizeof(m));
	cr_assert_eq(vhs_proto_unpack(&m, want, sizeof(want)), 0);
	cr_assert_eq(m.type, VHS_MSG_DRAIN);
	cr_assert_str_eq(vhs_proto_type_name(VHS_MSG_DRAIN), "DRAIN");
	cr_assert_eq(vhs_proto_unpack(&m, buf, sizeof(want) + 1), -EPROTO, "DRAIN with a body byte");
}

Test(proto, detached_port_is_checked)
{
	struct vhs_msg m;

	s_sample(&m, VHS_MSG_DETACHED);
	cr_assert_eq(s_unpack_msg(&m), 0);
	m.u.detached.port = VHS_MAX_PORTS;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "DETACHED port out of range");
}

Test(proto, trace_counts_and_spans_are_checked)
{
	struct vhs_msg m;

	s_sample(&m, VHS_MSG_TRACE);
	cr_assert_eq(s_unpack_msg(&m), 0);
	m.u.trace.n = 1; /* unused samples travel too, unchecked */
	m.u.trace.s[3].busy_ns = 10;
	m.u.trace.s[3].dur_ns = 5;
	cr_assert_eq(s_unpack_msg(&m), 0);
	m.u.trace.n = 0;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "TRACE with no sample");
	m.u.trace.n = VHS_TRACE_SAMPLES + 1;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "TRACE with more samples than it holds");
	m.u.trace.n = 4;
	cr_assert_eq(s_unpack_msg(&m), -EPROTO, "TRACE sample busy longer than its span");
}

Test(proto, pack_enospc)
{
	for (uint8_t t = 1; t < VHS_MSG_TYPE_END; t++) {
		struct vhs_msg m;
		size_t len;
		uint8_t *ref = s_pack_sample(t, &len, &m);
		uint8_t *buf = malloc(len + 1);

		cr_assert_not_null(buf);
		for (size_t cap = 0; cap < len; cap++) {
			memset(buf, 0xA5, len + 1);
			cr_assert_eq(vhs_proto_pack(&m, buf, cap), -ENOSPC, "%s cap %zu of %zu",
				     vhs_proto_type_name(t), cap, len);
			for (size_t i = cap; i <= len; i++)
				cr_assert_eq(buf[i], 0xA5, "%s cap %zu: wrote byte %zu",
					     vhs_proto_type_name(t), cap, i);
		}
		memset(buf, 0xA5, len + 1);
		cr_assert_eq(vhs_proto_pack(&m, buf, len), (int)len, "%s exact cap",
			     vhs_proto_type_name(t));
		cr_assert_eq(memcmp(buf, ref, len), 0);
		cr_assert_eq(buf[len], 0xA5);
		free(buf);
		free(ref);
	}
}

/* ---- fuzz ------------------------------------------------------------------------- */

static uint64_t s_rng;

static uint64_t s_rand(void)
{
	/* xorshift64* */
	s_rng ^= s_rng >> 12;
	s_rng ^= s_rng << 25;
	s_rng ^= s_rng >> 27;
	return s_rng * 0x2545F4914F6CDD1DULL;
}

/* One fuzz input: a random or mutated record, in buf (cap bytes); returns its length. */
static size_t s_fuzz_input(uint8_t *buf, size_t cap)
{
	struct vhs_msg m;
	uint8_t type = (uint8_t)(1 + s_rand() % (VHS_MSG_TYPE_END - 1));
	int n;
	size_t len;

	s_sample(&m, type);
	if (type == VHS_MSG_CONFIG) {
		m.u.config.settings = "video.filters=null\nencode.crf=18\n";
		m.u.config.settings_len = (uint32_t)strlen(m.u.config.settings);
	}
	n = vhs_proto_pack(&m, buf, cap);
	cr_assert_gt(n, 0);
	len = (size_t)n;
	switch (s_rand() % 6) {
	case 0: /* random bytes with a valid header */
		len = s_rand() % (cap / 2);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)s_rand();
		if (len >= 2) {
			buf[0] = VHS_PROTO_VERSION;
			buf[1] = type;
		}
		break;
	case 1: /* truncate or extend */
		len = s_rand() % (len + 16);
		break;
	case 2: /* set a few bytes to random, extreme, or NUL values */
		for (int k = 1 + (int)(s_rand() % 4); k > 0; k--) {
			static const uint8_t v[] = { 0, 0xFF, 0x7F, 0x80, 1, 2, 3, 8, 9 };
			size_t at = s_rand() % len;

			buf[at] = (s_rand() & 1) ? (uint8_t)s_rand() : v[s_rand() % sizeof(v)];
		}
		break;
	case 3: /* flip bits */
		for (int k = 1 + (int)(s_rand() % 8); k > 0; k--)
			buf[s_rand() % len] ^= (uint8_t)(1u << (s_rand() % 8));
		break;
	case 4: /* a 32-bit field set to an extreme value */
		if (len >= 8) {
			static const uint32_t v[] = { 0, 1, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 16385 };
			uint32_t x = v[s_rand() % (sizeof(v) / sizeof(v[0]))];
			uint8_t le[4];

			s_le(le, x, 4);
			memcpy(buf + s_rand() % (len - 3), le, 4);
		}
		break;
	default: /* the valid record as is */
		break;
	}
	return len;
}

static void s_fuzz(uint64_t seed, int iterations)
{
	static uint8_t buf[2048];
	int accepted = 0;

	s_rng = seed ? seed : 1;
	for (int i = 0; i < iterations; i++) {
		struct vhs_msg m, again_m;
		size_t len = s_fuzz_input(buf, sizeof(buf));
		uint8_t *exact = malloc(len ? len : 1);
		uint8_t again[2048];
		int ret, n;

		cr_assert_not_null(exact);
		memcpy(exact, buf, len);
		ret = vhs_proto_unpack(&m, exact, len);
		cr_assert(ret == 0 || ret == -EPROTO, "seed %llu iteration %d: unpack returned %d",
			  (unsigned long long)seed, i, ret);
		if (ret == 0) {
			accepted++;
			/* whatever unpack accepts packs back to the same bytes (reserved aside) */
			n = vhs_proto_pack(&m, again, sizeof(again));
			cr_assert_eq((size_t)n, len, "seed %llu iteration %d: re-pack length",
				     (unsigned long long)seed, i);
			cr_assert_eq(memcmp(again, exact, 2), 0);
			cr_assert_eq(memcmp(again + HDR, exact + HDR, len - HDR), 0,
				     "seed %llu iteration %d: re-pack bytes", (unsigned long long)seed, i);
			cr_assert_eq(vhs_proto_unpack(&again_m, again, len), 0);
		}
		free(exact);
	}
	cr_log_info("fuzz seed %llu: %d of %d inputs accepted\n", (unsigned long long)seed,
		    accepted, iterations);
	cr_assert_gt(accepted, 0, "the mutator never produced a valid record");
	cr_assert_lt(accepted, iterations, "the mutator never produced an invalid record");
}

Test(proto, fuzz_fixed_seed)
{
	const char *env = getenv("VHS_FUZZ_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : FUZZ_FIXED_SEED;

	fprintf(stderr, "proto fuzz: seed %llu (replay with VHS_FUZZ_SEED=%llu)\n",
		(unsigned long long)seed, (unsigned long long)seed);
	s_fuzz(seed, FUZZ_ITERATIONS);
}

Test(proto, fuzz_clock_seed)
{
	struct timespec ts;
	uint64_t seed;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
	fprintf(stderr, "proto fuzz: seed %llu (replay with VHS_FUZZ_SEED=%llu)\n",
		(unsigned long long)seed, (unsigned long long)seed);
	s_fuzz(seed, FUZZ_ITERATIONS);
}

/* Sanitizer run, by hand:
 *   cc -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
 *      -Iproto tests/unit/test_proto.c proto/proto.c -lcriterion -o /tmp/test_proto_asan \
 *      && /tmp/test_proto_asan
 */
