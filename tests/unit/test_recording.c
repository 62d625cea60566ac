/* test_recording.c: the recording of a stage's input (proto/recording.h): entries written as
 * the stage runtime writes them read back the same (a CONFIG with short and long settings, an
 * ATTACH, FRAMEs with data), the end is told from damage, and every truncation is refused. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recording.h"

/* Writes m and its data_len bytes of data into f as the stage runtime does. */
static void s_write(FILE *f, const struct vhs_msg *m, const void *data, uint32_t data_len)
{
	size_t cap = vhs_recording_head_size(m);
	uint8_t *buf = malloc(cap);
	int n;

	cr_assert(buf);
	n = vhs_recording_pack(m, data_len, buf, cap);
	cr_assert_gt(n, 8, "pack: %d", n);
	cr_assert_eq(fwrite(buf, 1, (size_t)n, f), (size_t)n);
	if (data_len)
		cr_assert_eq(fwrite(data, 1, data_len, f), data_len);
	free(buf);
}

static struct vhs_msg s_config(const char *settings)
{
	struct vhs_msg m = { .type = VHS_MSG_CONFIG };

	m.u.config.n_inputs = 1;
	m.u.config.inputs[0].media = VHS_MEDIA_VIDEO;
	m.u.config.inputs[0].tb_num = 1;
	m.u.config.inputs[0].tb_den = 25;
	snprintf(m.u.config.inputs[0].fmt, sizeof(m.u.config.inputs[0].fmt), "yuv420p");
	m.u.config.inputs[0].width = 720;
	m.u.config.inputs[0].height = 480;
	m.u.config.settings = settings;
	m.u.config.settings_len = (uint32_t)strlen(settings);
	return m;
}

/* A recording: CONFIG(settings), ATTACH(3 segments), a FRAME with 100 bytes, EOS. */
static FILE *s_recording(const char *settings, const uint8_t *data)
{
	FILE *f = tmpfile();
	struct vhs_msg m = s_config(settings);

	cr_assert(f);
	s_write(f, &m, NULL, 0);
	m = (struct vhs_msg){ .type = VHS_MSG_ATTACH };
	m.u.attach.segments = 3;
	s_write(f, &m, NULL, 0);
	m = (struct vhs_msg){ .type = VHS_MSG_FRAME };
	snprintf(m.u.frame.fmt, sizeof(m.u.frame.fmt), "gray");
	m.u.frame.width = 10;
	m.u.frame.height = 10;
	m.u.frame.linesize[0] = 10;
	m.u.frame.tb_num = 1;
	m.u.frame.tb_den = 25;
	m.u.frame.bytes = 100;
	m.u.frame.pts = -7;
	s_write(f, &m, data, 100);
	m = (struct vhs_msg){ .type = VHS_MSG_EOS };
	s_write(f, &m, NULL, 0);
	rewind(f);
	return f;
}

static void s_read_back(const char *settings)
{
	uint8_t data[100], got[100], *blob = NULL;
	struct vhs_msg m;
	uint32_t len;
	FILE *f;

	for (int i = 0; i < 100; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	f = s_recording(settings, data);
	cr_assert_eq(vhs_recording_read(f, &m, &len, &blob), 1);
	cr_assert_eq(m.type, VHS_MSG_CONFIG);
	cr_assert_eq(len, 0);
	cr_assert(blob, "a CONFIG hands its buffer over");
	cr_assert_str_eq(m.u.config.settings, settings);
	cr_assert_str_eq(m.u.config.inputs[0].fmt, "yuv420p");
	free(blob);
	cr_assert_eq(vhs_recording_read(f, &m, &len, NULL), 1);
	cr_assert_eq(m.type, VHS_MSG_ATTACH);
	cr_assert_eq(m.u.attach.segments, 3);
	cr_assert_eq(vhs_recording_read(f, &m, &len, NULL), 1);
	cr_assert_eq(m.type, VHS_MSG_FRAME);
	cr_assert_eq(m.u.frame.pts, -7);
	cr_assert_eq(len, 100);
	cr_assert_eq(fread(got, 1, len, f), len);
	cr_assert_arr_eq(got, data, 100);
	cr_assert_eq(vhs_recording_read(f, &m, &len, NULL), 1);
	cr_assert_eq(m.type, VHS_MSG_EOS);
	cr_assert_eq(vhs_recording_read(f, &m, &len, NULL), 0, "the end is not damage");
	fclose(f);
}

Test(recording, round_trip_short_settings)
{
	s_read_back("encode.crf=18\n");
}

Test(recording, round_trip_long_settings)
{
	char *settings = malloc(5000);

	cr_assert(settings);
	for (int i = 0; i < 4998; i++)
		settings[i] = i % 40 == 39 ? '\n' : (char)('a' + i % 26);
	settings[4998] = '\n';
	settings[4999] = '\0';
	s_read_back(settings);
	free(settings);
}

Test(recording, name)
{
	char name[32];

	vhs_recording_name(name, sizeof(name), 12);
	cr_assert_str_eq(name, "spool.12");
}

Test(recording, every_truncation_refused)
{
	uint8_t data[100] = { 1 }, *whole, *blob;
	struct vhs_msg m;
	uint32_t len;
	long size;
	FILE *f = s_recording("a.b=1\n", data);

	fseek(f, 0, SEEK_END);
	size = ftell(f);
	whole = malloc((size_t)size);
	rewind(f);
	cr_assert_eq(fread(whole, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	/* cut inside the CONFIG entry's head: never a record, never a crash */
	for (long cut = 1; cut < 40; cut++) {
		FILE *t = tmpfile();

		fwrite(whole, 1, (size_t)cut, t);
		rewind(t);
		blob = NULL;
		cr_assert_eq(vhs_recording_read(t, &m, &len, &blob), -EPROTO, "cut at %ld", cut);
		cr_assert_null(blob);
		fclose(t);
	}
	free(whole);
}

Test(recording, config_where_none_is_expected)
{
	uint8_t data[100] = { 0 };
	struct vhs_msg m;
	uint32_t len;
	FILE *f = s_recording("a.b=1\n", data);

	cr_assert_eq(vhs_recording_read(f, &m, &len, NULL), -EPROTO);
	fclose(f);
}

Test(recording, pack_into_a_short_buffer)
{
	struct vhs_msg m = { .type = VHS_MSG_EOS };
	uint8_t buf[8];

	cr_assert_lt(vhs_recording_pack(&m, 0, buf, sizeof(buf)), 0);
	cr_assert_lt(vhs_recording_pack(&m, 0, buf, 3), 0);
}

Test(recording, absurd_length_refused)
{
	uint8_t head[4] = { 0xff, 0xff, 0xff, 0x7f };
	struct vhs_msg m;
	uint32_t len;
	FILE *f = tmpfile();

	fwrite(head, 1, 4, f);
	rewind(f);
	cr_assert_eq(vhs_recording_read(f, &m, &len, NULL), -EPROTO);
	fclose(f);
}
