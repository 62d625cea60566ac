/* test_proto_refusals.c: the wire format (proto/proto.h, proto.c) refusing what a peer must
 * not send, and surviving what it might: every refusal unpack promises (-EPROTO: version,
 * type, each truncated length, trailing bytes, unterminated strings, ports, channel counts,
 * frame sizes, plane offsets, CONFIG settings, port counts, error class, SEGMENT port,
 * phase, flags, BEGIN's time base and window), SEGMENT's round trip and DRAIN, pack into a
 * short buffer, and a fuzz loop over random and mutated records (fixed seed plus one from
 * the clock, both printed; VHS_FUZZ_SEED=N replays one) under which unpack must not crash
 * and whatever it accepts must re-pack to the same bytes. Samples: proto_samples.h.
 */
#include "proto_samples.h"

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
