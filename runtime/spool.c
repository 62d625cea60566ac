/* spool.c: the audio spool format (see spool.h). */
#include "spool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char s_magic[8] = { 'V', 'H', 'S', 'P', 'C', 'M', '1', '\n' };

static void s_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t s_get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void vhs_spool_header_pack(const struct vhs_spool_header *h, uint8_t out[VHS_SPOOL_HEADER])
{
	const char *name = av_get_sample_fmt_name(h->fmt);

	memset(out, 0, VHS_SPOOL_HEADER);
	memcpy(out, s_magic, sizeof(s_magic));
	s_put(out + 8, (uint64_t)h->pts, 8);
	snprintf((char *)out + 16, 16, "%s", name ? name : "");
	s_put(out + 32, (uint32_t)h->rate, 4);
	s_put(out + 36, (uint32_t)h->channels, 4);
	s_put(out + 40, h->layout, 8);
}

int vhs_spool_header_unpack(struct vhs_spool_header *h, const uint8_t in[VHS_SPOOL_HEADER])
{
	char name[16];

	if (memcmp(in, s_magic, sizeof(s_magic)) || !memchr(in + 16, '\0', 16))
		return -EINVAL;
	memcpy(name, in + 16, sizeof(name));
	h->pts = (int64_t)s_get(in + 8, 8);
	h->fmt = av_get_sample_fmt(name);
	h->rate = (int)s_get(in + 32, 4);
	h->channels = (int)s_get(in + 36, 4);
	h->layout = s_get(in + 40, 8);
	if (h->fmt == AV_SAMPLE_FMT_NONE || h->rate <= 0 || h->channels < 1 || h->channels > 64)
		return -EINVAL;
	return 0;
}

void vhs_spool_interleave(uint8_t *dst, uint8_t *const *planes, enum AVSampleFormat fmt,
			  int channels, int nb)
{
	int bps = av_get_bytes_per_sample(fmt);

	if (!av_sample_fmt_is_planar(fmt)) {
		memcpy(dst, planes[0], (size_t)nb * (size_t)channels * (size_t)bps);
		return;
	}
	for (int i = 0; i < nb; i++)
		for (int c = 0; c < channels; c++, dst += bps)
			memcpy(dst, planes[c] + (size_t)i * (size_t)bps, (size_t)bps);
}

void vhs_spool_split(uint8_t *const *planes, const uint8_t *src, enum AVSampleFormat fmt,
		     int channels, int nb)
{
	int bps = av_get_bytes_per_sample(fmt);

	if (!av_sample_fmt_is_planar(fmt)) {
		memcpy(planes[0], src, (size_t)nb * (size_t)channels * (size_t)bps);
		return;
	}
	for (int i = 0; i < nb; i++)
		for (int c = 0; c < channels; c++, src += bps)
			memcpy(planes[c] + (size_t)i * (size_t)bps, src, (size_t)bps);
}
