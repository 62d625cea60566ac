/* proto_samples.h: what test_proto.c and test_proto_refusals.c share: the packed sizes the
 * field lists of proto.c's header comment add up to, a sample of every record type with
 * extreme values, and helpers to pack, unpack and mutate them. */
#ifndef VHS_TEST_PROTO_SAMPLES_H
#define VHS_TEST_PROTO_SAMPLES_H

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

static inline void s_name(char *dst, size_t n, const char *s)
{
	memset(dst, 0, n);
	snprintf(dst, n, "%s", s);
}

/* A string of exactly n - 1 non-NUL bytes plus the terminator. */
static inline void s_fill_max(char *dst, size_t n, char first)
{
	for (size_t i = 0; i + 1 < n; i++)
		dst[i] = (char)('a' + ((size_t)first + i) % 26);
	dst[n - 1] = '\0';
}

static inline void s_video_fmt(struct vhs_stream_fmt *f)
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

static inline void s_audio_fmt(struct vhs_stream_fmt *f)
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
static inline void s_sample(struct vhs_msg *m, uint8_t type)
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
static inline size_t s_expected_len(uint8_t type)
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
static inline uint8_t *s_pack_sample(uint8_t type, size_t *len, struct vhs_msg *m)
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
static inline int s_unpack_exact(struct vhs_msg *m, const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	cr_assert_not_null(copy);
	memcpy(copy, buf, len);
	ret = vhs_proto_unpack(m, copy, len);
	free(copy);
	return ret;
}

static inline int s_unpack_mutated(uint8_t type, size_t off, const void *bytes, size_t n)
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

static inline int s_unpack_msg(const struct vhs_msg *in)
{
	uint8_t buf[1 << 16];
	struct vhs_msg out;
	int n = vhs_proto_pack(in, buf, sizeof(buf));

	cr_assert_gt(n, 0);
	return s_unpack_exact(&out, buf, (size_t)n);
}

static inline void s_le(uint8_t *dst, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

#endif
