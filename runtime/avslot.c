/* avslot.c: FFmpeg frames in and out of ring slots (see avslot.h). */
#include "avslot.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>

#define ALIGN 64

static uint32_t s_align(uint64_t v)
{
	return (uint32_t)((v + ALIGN - 1) / ALIGN * ALIGN);
}

/* Rows of each plane of a frame h pixels high; -1 for formats slots cannot carry. */
static int s_plane_rows(enum AVPixelFormat fmt, int h, int lines[4])
{
	const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(fmt);

	memset(lines, 0, 4 * sizeof(*lines));
	if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)))
		return -1;
	for (int i = 0; i < desc->nb_components; i++) {
		int p = desc->comp[i].plane;
		int chroma = (i == 1 || i == 2) && !(desc->flags & AV_PIX_FMT_FLAG_RGB);

		lines[p] = chroma ? AV_CEIL_RSHIFT(h, desc->log2_chroma_h) : h;
	}
	return 0;
}

/* Plane offsets and row sizes of a video slot. Returns total bytes or 0. */
static uint32_t s_video_layout(enum AVPixelFormat fmt, int w, int h,
			       uint32_t offset[4], int linesize[4])
{
	int lines[4];
	uint64_t at = 0;

	if (s_plane_rows(fmt, h, lines) || av_image_fill_linesizes(linesize, fmt, w) < 0)
		return 0;
	for (int p = 0; p < 4; p++) {
		offset[p] = 0;
		if (!linesize[p])
			continue;
		linesize[p] = (int)s_align((uint64_t)linesize[p]);
		offset[p] = (uint32_t)at;
		at = s_align(at + (uint64_t)linesize[p] * (uint64_t)lines[p]);
	}
	at += AV_INPUT_BUFFER_PADDING_SIZE;
	return at > UINT32_MAX ? 0 : (uint32_t)at;
}

uint32_t vhs_video_slot_size(enum AVPixelFormat fmt, int width, int height)
{
	uint32_t offset[4];
	int linesize[4];

	return s_video_layout(fmt, width, height, offset, linesize);
}

uint32_t vhs_audio_slot_size(enum AVSampleFormat fmt, int channels, int nb_samples)
{
	int planar = av_sample_fmt_is_planar(fmt);
	uint64_t plane = (uint64_t)av_get_bytes_per_sample(fmt) * (uint64_t)nb_samples *
			 (uint64_t)(planar ? 1 : channels);

	return s_align(plane) * (uint32_t)(planar ? channels : 1) + AV_INPUT_BUFFER_PADDING_SIZE;
}

static void s_video_meta(struct vhs_frame *d, const AVFrame *f)
{
	snprintf(d->fmt, sizeof(d->fmt), "%s", av_get_pix_fmt_name(f->format));
	d->width = f->width;
	d->height = f->height;
	d->pts = f->pts == AV_NOPTS_VALUE ? INT64_MIN : f->pts;
	d->duration = f->pkt_duration;
	d->tb_num = f->time_base.num;
	d->tb_den = f->time_base.den;
	d->sar_num = f->sample_aspect_ratio.num;
	d->sar_den = f->sample_aspect_ratio.den;
	d->color_range = (uint8_t)f->color_range;
	d->colorspace = (uint8_t)f->colorspace;
	d->color_primaries = (uint8_t)f->color_primaries;
	d->color_trc = (uint8_t)f->color_trc;
	d->chroma_location = (uint8_t)f->chroma_location;
	d->flags = (f->interlaced_frame ? VHS_FRAME_INTERLACED : 0) |
		   (f->top_field_first ? VHS_FRAME_TFF : 0) |
		   (f->key_frame ? VHS_FRAME_KEY : 0) |
		   (f->flags & AV_FRAME_FLAG_CORRUPT ? VHS_FRAME_CORRUPT : 0);
}

int vhs_copy_video_to_slot(struct vhs_ctx *ctx, const AVFrame *f, uint8_t *slot,
			   uint32_t slot_size, struct vhs_frame *d)
{
	uint8_t *dst[4] = { NULL };
	uint32_t bytes = s_video_layout(f->format, f->width, f->height, d->offset, d->linesize);

	if (!bytes || bytes > slot_size)
		return -ENOSPC;
	for (int p = 0; p < 4; p++)
		dst[p] = d->linesize[p] ? slot + d->offset[p] : NULL;
	av_image_copy(dst, d->linesize, (const uint8_t **)f->data, f->linesize, f->format,
		      f->width, f->height);
	vhs_count_copy(ctx, bytes);
	s_video_meta(d, f);
	d->bytes = bytes;
	return 0;
}

int vhs_copy_audio_to_slot(struct vhs_ctx *ctx, const AVFrame *f, int first, int nb,
			   uint8_t *slot, uint32_t slot_size, struct vhs_audio *d)
{
	int planar = av_sample_fmt_is_planar(f->format);
	int channels = f->ch_layout.nb_channels;
	int bps = av_get_bytes_per_sample(f->format) * (planar ? 1 : channels);
	int planes = planar ? channels : 1;
	uint32_t stride = s_align((uint64_t)bps * (uint64_t)nb);

	if (channels > VHS_MAX_CHANNELS || vhs_audio_slot_size(f->format, channels, nb) > slot_size)
		return -ENOSPC;
	memset(d->offset, 0, sizeof(d->offset));
	for (int p = 0; p < planes; p++) {
		d->offset[p] = stride * (uint32_t)p;
		memcpy(slot + d->offset[p], f->extended_data[p] + (size_t)first * (size_t)bps,
		       (size_t)bps * (size_t)nb);
	}
	vhs_count_copy(ctx, (uint64_t)bps * (uint64_t)nb * (uint64_t)planes);
	snprintf(d->fmt, sizeof(d->fmt), "%s", av_get_sample_fmt_name(f->format));
	d->sample_rate = f->sample_rate;
	d->channels = channels;
	d->channel_layout = f->ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? f->ch_layout.u.mask : 0;
	d->nb_samples = nb;
	d->plane_bytes = (uint32_t)(bps * nb);
	d->bytes = stride * (uint32_t)planes;
	d->tb_num = 1;
	d->tb_den = f->sample_rate;
	d->pts = f->pts == AV_NOPTS_VALUE ? INT64_MIN
		 : av_rescale_q(f->pts, f->time_base, (AVRational){ 1, f->sample_rate }) + first;
	return 0;
}

int vhs_put_video(struct vhs_ctx *ctx, int port, uint32_t segment, const AVFrame *f,
		  uint32_t slot_size)
{
	struct vhs_frame d = { .port = (uint8_t)port, .segment = segment };
	uint32_t need = vhs_video_slot_size(f->format, f->width, f->height);
	uint8_t *data;
	int ret;

	if (!need || need > slot_size)
		return -ENOSPC;
	ret = vhs_output_slot(ctx, port, &d.slot, &data);
	if (!ret)
		ret = vhs_copy_video_to_slot(ctx, f, data, slot_size, &d);
	return ret ? ret : vhs_send_video(ctx, &d);
}

int vhs_put_audio(struct vhs_ctx *ctx, int port, uint32_t segment, const AVFrame *f, int from,
		  int count, uint32_t slot_size)
{
	for (int first = from; first < from + count; first += VHS_AUDIO_SLOT_SAMPLES) {
		int nb = FFMIN(VHS_AUDIO_SLOT_SAMPLES, from + count - first);
		struct vhs_audio d = { .port = (uint8_t)port, .segment = segment };
		uint8_t *data;
		int ret = vhs_output_slot(ctx, port, &d.slot, &data);

		if (!ret)
			ret = vhs_copy_audio_to_slot(ctx, f, first, nb, data, slot_size, &d);
		if (!ret)
			ret = vhs_send_audio(ctx, &d);
		if (ret)
			return ret;
	}
	return 0;
}

/* The opaque of a wrapped slot's AVBufferRef. */
struct slot_ref {
	struct vhs_ctx *ctx;
	int port;
	uint32_t slot;
};

static void s_slot_free(void *opaque, uint8_t *data)
{
	struct slot_ref *r = opaque;

	vhs_release(r->ctx, r->port, r->slot);
	free(r);
}

static AVBufferRef *s_slot_buffer(struct vhs_ctx *ctx, int port, uint32_t slot,
				  uint8_t *data, uint32_t bytes)
{
	struct slot_ref *r = malloc(sizeof(*r));
	AVBufferRef *buf;

	if (!r)
		goto out_release;
	*r = (struct slot_ref){ ctx, port, slot };
	buf = av_buffer_create(data, bytes, s_slot_free, r, 0);
	if (buf)
		return buf;
	free(r);
out_release:
	vhs_release(ctx, port, slot);
	return NULL;
}

/* A new frame whose buffer is the slot. On ENOMEM the slot is given back at once (by the
 * buffer's free callback when the buffer exists, directly otherwise) and NULL returned. */
static AVFrame *s_slot_frame(struct vhs_ctx *ctx, int port, uint32_t slot, uint8_t *data,
			     uint32_t bytes)
{
	AVFrame *f = av_frame_alloc();

	if (!f) {
		vhs_release(ctx, port, slot);
		return NULL;
	}
	f->buf[0] = s_slot_buffer(ctx, port, slot, data, bytes);
	if (!f->buf[0])
		av_frame_free(&f); /* s_slot_buffer released the slot */
	return f;
}

/* Every plane the descriptor names lies inside the bytes it says it uses. */
static bool s_video_desc_ok(const struct vhs_frame *d)
{
	enum AVPixelFormat fmt = av_get_pix_fmt(d->fmt);
	int lines[4], min[4];

	if (fmt == AV_PIX_FMT_NONE || s_plane_rows(fmt, d->height, lines) ||
	    av_image_fill_linesizes(min, fmt, d->width) < 0)
		return false;
	for (int p = 0; p < 4; p++)
		if (lines[p] && (d->linesize[p] < min[p] ||
				 (uint64_t)d->offset[p] + (uint64_t)d->linesize[p] * (uint64_t)lines[p] > d->bytes))
			return false;
	return true;
}

AVFrame *vhs_wrap_video(struct vhs_ctx *ctx, const struct vhs_frame *d, uint8_t *data)
{
	AVFrame *f;

	if (!s_video_desc_ok(d)) {
		vhs_fail(ctx, VHS_ERR_INTERNAL, "descriptor of slot %u: planes outside the slot", d->slot);
		vhs_release(ctx, d->port, d->slot);
		return NULL;
	}
	f = s_slot_frame(ctx, d->port, d->slot, data, d->bytes);
	if (!f)
		return NULL;
	for (int p = 0; p < 4; p++) {
		f->data[p] = d->linesize[p] ? data + d->offset[p] : NULL;
		f->linesize[p] = d->linesize[p];
	}
	vhs_video_props(f, d);
	return f;
}

void vhs_video_props(AVFrame *f, const struct vhs_frame *d)
{
	f->format = av_get_pix_fmt(d->fmt);
	f->width = d->width;
	f->height = d->height;
	f->pts = d->pts == INT64_MIN ? AV_NOPTS_VALUE : d->pts;
	f->pkt_duration = d->duration;
	f->time_base = (AVRational){ d->tb_num, d->tb_den };
	f->sample_aspect_ratio = (AVRational){ d->sar_num, d->sar_den };
	f->color_range = d->color_range;
	f->colorspace = d->colorspace;
	f->color_primaries = d->color_primaries;
	f->color_trc = d->color_trc;
	f->chroma_location = d->chroma_location;
	f->interlaced_frame = !!(d->flags & VHS_FRAME_INTERLACED);
	f->top_field_first = !!(d->flags & VHS_FRAME_TFF);
	f->key_frame = !!(d->flags & VHS_FRAME_KEY);
	if (d->flags & VHS_FRAME_CORRUPT)
		f->flags |= AV_FRAME_FLAG_CORRUPT;
}

AVFrame *vhs_wrap_audio(struct vhs_ctx *ctx, const struct vhs_audio *d, uint8_t *data)
{
	AVFrame *f = s_slot_frame(ctx, d->port, d->slot, data, d->bytes);
	enum AVSampleFormat fmt = av_get_sample_fmt(d->fmt);
	int planes = av_sample_fmt_is_planar(fmt) ? d->channels : 1;

	if (!f)
		return NULL;
	for (int p = 0; p < planes; p++) {
		f->data[p] = data + d->offset[p];
		f->linesize[p] = (int)d->plane_bytes;
	}
	f->extended_data = f->data;
	f->format = fmt;
	f->nb_samples = d->nb_samples;
	f->sample_rate = d->sample_rate;
	if (d->channel_layout)
		av_channel_layout_from_mask(&f->ch_layout, d->channel_layout);
	else
		av_channel_layout_default(&f->ch_layout, d->channels);
	f->pts = d->pts == INT64_MIN ? AV_NOPTS_VALUE : d->pts;
	f->time_base = (AVRational){ d->tb_num, d->tb_den };
	return f;
}

void vhs_fmt_from_video(struct vhs_stream_fmt *s, const AVFrame *f)
{
	s->media = VHS_MEDIA_VIDEO;
	snprintf(s->fmt, sizeof(s->fmt), "%s", av_get_pix_fmt_name(f->format));
	s->width = f->width;
	s->height = f->height;
	s->sar_num = f->sample_aspect_ratio.num;
	s->sar_den = f->sample_aspect_ratio.den;
	s->color_range = (uint8_t)f->color_range;
	s->colorspace = (uint8_t)f->colorspace;
	s->color_primaries = (uint8_t)f->color_primaries;
	s->color_trc = (uint8_t)f->color_trc;
	s->chroma_location = (uint8_t)f->chroma_location;
}

static char s_last_error[256];
static int s_quiet;       /* keep the last error, print nothing (but with VHS_LOG=debug) */

static void s_log(void *avcl, int level, const char *fmt, va_list vl)
{
	static int debug = -1;
	char line[256];
	int prefix = 1;

	if (debug < 0) {
		const char *v = getenv("VHS_LOG");
		debug = v && !strcmp(v, "debug");
	}
	if (level > AV_LOG_WARNING && !debug)
		return;
	av_log_format_line(avcl, level, fmt, vl, line, sizeof(line), &prefix);
	if (level <= AV_LOG_ERROR) { /* without the "[demuxer @ 0x...] " before it */
		const char *text = line[0] == '[' && strstr(line, "] ") ? strstr(line, "] ") + 2 : line;

		snprintf(s_last_error, sizeof(s_last_error), "%s", text);
		s_last_error[strcspn(s_last_error, "\n")] = '\0';
	}
	if (!s_quiet || debug)
		fputs(line, stderr); /* the stage's log (the orchestrator keeps it, and shows it on failure) */
}

void vhs_av_log_setup(void)
{
	av_log_set_callback(s_log);
}

void vhs_av_log_quiet(void)
{
	s_quiet = 1;
	av_log_set_callback(s_log);
}

const char *vhs_av_last_error(void)
{
	return s_last_error;
}

void vhs_av_clear_error(void)
{
	s_last_error[0] = '\0';
}

const char *vhs_av_err(int err)
{
	static char buf[AV_ERROR_MAX_STRING_SIZE];

	return av_make_error_string(buf, sizeof(buf), err);
}
