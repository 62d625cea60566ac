/* test_proto.c: unit tests of the control-plane wire format (proto/proto.h, proto.c):
 *   - round trip of every record type with extreme values (INT64_MIN and negative pts,
 *     UINT32_MAX slots, 8 audio offsets, full-length strings, a CONFIG with a long
 *     settings blob) and re-pack to identical bytes;
 *   - the exact packed length of every fixed record, as the field lists in proto.c's
 *     header comment add up (proto_samples.h says where the comment's totals are wrong),
 *     the little-endian bytes of a GRANT and of FRAME fields, and every record byte for
 *     byte against an independent encoder written from the comment's field lists.
 * The refusals, SEGMENT and the fuzz loop are in test_proto_refusals.c; `make test-san`
 * runs both under AddressSanitizer and UndefinedBehaviorSanitizer.
 */
#include "proto_samples.h"

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
