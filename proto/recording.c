/* recording.c: the recording of a stage's input (see recording.h for the format). */
#include "recording.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX (16u << 20) /* a record longer than this is damage (CONFIGs are KiB) */

int vhs_recording_name(char *buf, size_t len, unsigned instance)
{
	return snprintf(buf, len, "spool.%u", instance);
}

size_t vhs_recording_head_size(const struct vhs_msg *m)
{
	size_t record = m->type == VHS_MSG_CONFIG ? vhs_proto_config_size(m->u.config.settings_len)
						   : VHS_MSG_MAX;

	return 4 + record + 4;
}

static void s_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int vhs_recording_pack(const struct vhs_msg *m, uint32_t data_len, uint8_t *buf, size_t cap)
{
	int n;

	if (cap < 8)
		return -ENOSPC;
	n = vhs_proto_pack(m, buf + 4, cap - 8);
	if (n < 0)
		return n;
	s_put_u32(buf, (uint32_t)n);
	s_put_u32(buf + 4 + n, data_len);
	return n + 8;
}

/* Reads a u32: 4 (read), 0 (at the end of f), or another count (cut short). */
static size_t s_get_u32(FILE *f, uint32_t *v)
{
	uint8_t le[4];
	size_t n = fread(le, 1, 4, f);

	*v = (uint32_t)le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 | (uint32_t)le[3] << 24;
	return n;
}

int vhs_recording_read(FILE *f, struct vhs_msg *m, uint32_t *data_len, uint8_t **blob)
{
	uint8_t small[VHS_MSG_MAX], *buf = small;
	uint32_t len;
	int ret;
	size_t got = s_get_u32(f, &len);

	if (got != 4)
		return got == 0 && feof(f) ? 0 : -EPROTO;
	if (len > RECORD_MAX)
		return -EPROTO;
	if (len > sizeof(small) && !(buf = malloc(len)))
		return -ENOMEM;
	ret = fread(buf, 1, len, f) == len ? vhs_proto_unpack(m, buf, len) : -EPROTO;
	if (!ret && s_get_u32(f, data_len) != 4)
		ret = -EPROTO;
	if (!ret && m->type == VHS_MSG_CONFIG && !blob)
		ret = -EPROTO; /* a CONFIG where the caller expects none */
	if (!ret && m->type == VHS_MSG_CONFIG && buf == small) {
		/* the settings point into the buffer, which must outlive this call */
		uint8_t *copy = malloc(len);

		if (!copy)
			return -ENOMEM;
		memcpy(copy, small, len);
		m->u.config.settings = (const char *)copy + ((const uint8_t *)m->u.config.settings - small);
		buf = copy;
	}
	if (!ret && m->type == VHS_MSG_CONFIG) {
		*blob = buf;
		return 1;
	}
	if (buf != small)
		free(buf);
	return ret ? -EPROTO : 1;
}
