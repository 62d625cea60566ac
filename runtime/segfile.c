/* segfile.c: the segment video file (see segfile.h). */
#include "segfile.h"

#include <errno.h>
#include <string.h>

static const char s_magic[8] = { 'V', 'H', 'S', 'S', 'E', 'G', '1', '\n' };

/* A little-endian integer field list, walked the same way to write and to read. */
struct fields {
	uint8_t buf[256];
	size_t at;
	int writing;
};

static void s_int(struct fields *f, void *v, int n)
{
	uint64_t x = 0;

	if (f->writing) {
		x = n == 4 ? (uint64_t)(uint32_t)*(int32_t *)v : *(uint64_t *)v;
		for (int i = 0; i < n; i++)
			f->buf[f->at + (size_t)i] = (uint8_t)(x >> (8 * i));
	} else {
		for (int i = 0; i < n; i++)
			x |= (uint64_t)f->buf[f->at + (size_t)i] << (8 * i);
		if (n == 4)
			*(int32_t *)v = (int32_t)(uint32_t)x;
		else
			*(uint64_t *)v = x;
	}
	f->at += (size_t)n;
}

#define I32(f, v) do { int32_t t_ = (int32_t)(v); s_int(f, &t_, 4); (v) = t_; } while (0)

/* The header fields after the magic, in order; returns their byte count. */
static size_t s_header(struct fields *f, AVCodecParameters *p, AVRational *tb)
{
	int64_t rate = p->bit_rate;
	uint32_t extra = (uint32_t)p->extradata_size;

	I32(f, tb->num);
	I32(f, tb->den);
	I32(f, p->codec_type);
	I32(f, p->codec_id);
	I32(f, p->format);
	I32(f, p->profile);
	I32(f, p->level);
	I32(f, p->width);
	I32(f, p->height);
	I32(f, p->sample_aspect_ratio.num);
	I32(f, p->sample_aspect_ratio.den);
	I32(f, p->field_order);
	I32(f, p->color_range);
	I32(f, p->color_primaries);
	I32(f, p->color_trc);
	I32(f, p->color_space);
	I32(f, p->chroma_location);
	I32(f, p->video_delay);
	I32(f, p->bits_per_raw_sample);
	s_int(f, &rate, 8);
	s_int(f, &extra, 4);
	p->bit_rate = rate;
	p->extradata_size = (int)extra;
	return f->at;
}

int vhs_segfile_write_header(struct vhs_tempfile *tf, const AVCodecParameters *par, AVRational tb)
{
	struct fields f = { .writing = 1 };
	AVCodecParameters copy = *par;
	int ret = vhs_tempfile_write(tf, s_magic, sizeof(s_magic));

	s_header(&f, &copy, &tb);
	if (!ret)
		ret = vhs_tempfile_write(tf, f.buf, f.at);
	if (!ret && par->extradata_size > 0)
		ret = vhs_tempfile_write(tf, par->extradata, (size_t)par->extradata_size);
	return ret;
}

int vhs_segfile_write_packet(struct vhs_tempfile *tf, const AVPacket *pkt)
{
	struct fields f = { .writing = 1 };
	int64_t pts = pkt->pts, dts = pkt->dts, dur = pkt->duration;
	uint32_t flags = (uint32_t)pkt->flags, size = (uint32_t)pkt->size;
	int ret;

	s_int(&f, &pts, 8);
	s_int(&f, &dts, 8);
	s_int(&f, &dur, 8);
	s_int(&f, &flags, 4);
	s_int(&f, &size, 4);
	ret = vhs_tempfile_write(tf, f.buf, f.at);
	return ret ? ret : vhs_tempfile_write(tf, pkt->data, (size_t)pkt->size);
}

int vhs_segfile_open(struct vhs_segfile *s, const char *path)
{
	struct fields f = { .writing = 0 };
	AVCodecParameters probe = { 0 };
	char magic[8];
	size_t n;

	memset(s, 0, sizeof(*s));
	s->f = fopen(path, "rb");
	if (!s->f)
		return -errno;
	n = s_header(&f, &probe, &s->tb); /* only to learn the header's size */
	f.at = 0;
	if (fread(magic, 1, sizeof(magic), s->f) != sizeof(magic) || memcmp(magic, s_magic, sizeof(magic)) ||
	    fread(f.buf, 1, n, s->f) != n)
		goto bad;
	s->par = avcodec_parameters_alloc();
	if (!s->par)
		goto bad;
	s_header(&f, s->par, &s->tb);
	if (s->tb.num <= 0 || s->tb.den <= 0 || s->par->extradata_size < 0 ||
	    s->par->extradata_size > (1 << 24))
		goto bad;
	if (s->par->extradata_size) {
		s->par->extradata = av_mallocz((size_t)s->par->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
		if (!s->par->extradata ||
		    fread(s->par->extradata, 1, (size_t)s->par->extradata_size, s->f) != (size_t)s->par->extradata_size)
			goto bad;
	}
	return 0;
bad:
	vhs_segfile_close(s);
	return -EINVAL;
}

int vhs_segfile_read(struct vhs_segfile *s, AVPacket *pkt)
{
	struct fields f = { .writing = 0 };
	int64_t pts = 0, dts = 0, dur = 0;
	uint32_t flags = 0, size = 0;
	size_t n = fread(f.buf, 1, 32, s->f);

	if (n == 0 && feof(s->f))
		return AVERROR_EOF;
	if (n != 32)
		return -EINVAL;
	s_int(&f, &pts, 8);
	s_int(&f, &dts, 8);
	s_int(&f, &dur, 8);
	s_int(&f, &flags, 4);
	s_int(&f, &size, 4);
	if (size > (1u << 30) || av_new_packet(pkt, (int)size) < 0)
		return -EINVAL;
	if (fread(pkt->data, 1, size, s->f) != size) {
		av_packet_unref(pkt);
		return -EINVAL;
	}
	pkt->pts = pts;
	pkt->dts = dts;
	pkt->duration = dur;
	pkt->flags = (int)flags;
	return 0;
}

void vhs_segfile_close(struct vhs_segfile *s)
{
	if (s->f)
		fclose(s->f);
	avcodec_parameters_free(&s->par);
	memset(s, 0, sizeof(*s));
}
