/* y4mstage.h: what the FFmpeg-free stages share (stages/y4m_*.c: decode, preprocess, encode,
 * mux; built as vhs-stage-NAME by `make FFMPEG=0`, for the GPU machines, which have no
 * FFmpeg libraries). They carry y4m (YUV4MPEG2) from the input file through the pipeline
 * into a y4m output, with the real orchestrator, segments, restarts and workers.
 *
 * DESIGN
 * Slots: a picture's planes lie as vhs_pixfmt_layout() puts them (each plane and each row
 * 64-byte aligned: the layout avslot.c gives FFmpeg frames), followed by SLOT_PADDING
 * bytes so SIMD readers may over-read. Producers fill slots in that layout and say so in
 * the FRAME record (offsets, line sizes); consumers read through the record's offsets and
 * line sizes only, never assuming the layout.
 *
 * Interlacing: y4m's I letter and the wire's field order (AVFieldOrder values) map
 * p <-> progressive, t <-> top field first, b <-> bottom field first, ? <-> unknown; 'm'
 * (mixed, described per frame) has no field order and reads as unknown.
 *
 * Segment files: the encode stage writes each segment as a y4m stream of its own,
 * `vNNNNNN.vseg` in the work dir (the name the orchestrator's manifest and --resume
 * expect): the stream header made by vhs_y4m_write_header() from the edge's format, then
 * for every frame "FRAME\n" and its planes tightly packed. Every segment of a run has the
 * same header line, byte for byte; the mux writes it once and then the frames of every
 * segment in order.
 */
#ifndef VHS_Y4MSTAGE_H
#define VHS_Y4MSTAGE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixfmt.h"
#include "proto.h"
#include "y4m.h"

#define SLOT_PADDING 64                  /* bytes after the last plane of a slot */
#define Y4M_FRAME_LINE "FRAME\n"         /* what the encode stage writes before each frame */
#define Y4M_FRAME_LINE_LEN 6

/* AVFieldOrder values (the wire's field_order), named here without FFmpeg. */
enum { FIELD_UNKNOWN = 0, FIELD_PROGRESSIVE = 1, FIELD_TT = 2, FIELD_BB = 3 };

/* Bytes a slot needs for a w x h picture of fmt, with the plane offsets and line sizes. */
static inline uint32_t vhs_slot_layout(const struct vhs_pixfmt *fmt, int w, int h,
				       uint32_t offset[4], int32_t linesize[4])
{
	size_t bytes = vhs_pixfmt_layout(fmt, w, h, offset, linesize) + SLOT_PADDING;

	return bytes > UINT32_MAX ? 0 : (uint32_t)bytes;
}

/* The picture a FRAME record describes, its planes in the slot memory at base. */
static inline void vhs_slot_picture(struct vhs_picture *pic, const struct vhs_pixfmt *fmt,
				    const struct vhs_frame *f, uint8_t *base)
{
	memset(pic, 0, sizeof(*pic));
	pic->fmt = fmt;
	pic->width = f->width;
	pic->height = f->height;
	for (int p = 0; p < 4; p++) {
		pic->data[p] = f->linesize[p] ? base + f->offset[p] : NULL;
		pic->linesize[p] = f->linesize[p];
	}
}

/* The tightly packed bytes of one frame (y4m's planes). */
static inline size_t vhs_frame_bytes(const struct vhs_pixfmt *fmt, int w, int h)
{
	size_t n = 0;

	for (int p = 0; p < fmt->planes; p++)
		n += (size_t)vhs_pixfmt_plane_width(fmt, p, w) * (size_t)fmt->bytes *
		     (size_t)vhs_pixfmt_plane_height(fmt, p, h);
	return n;
}

static inline uint8_t vhs_field_order_of(char interlace)
{
	return interlace == 'p' ? FIELD_PROGRESSIVE : interlace == 't' ? FIELD_TT
	     : interlace == 'b' ? FIELD_BB : FIELD_UNKNOWN;
}

static inline char vhs_interlace_of(uint8_t field_order)
{
	return field_order == FIELD_PROGRESSIVE ? 'p' : field_order == FIELD_TT ? 't'
	     : field_order == FIELD_BB ? 'b' : '?';
}

/* The y4m stream header of an edge's format, in a malloc'd buffer (*len bytes, the final
 * newline included). Returns 0, -EINVAL when the format has no y4m name (planar RGB,
 * yuv410p, yuv440p: pixfmt.h knows them, y4m does not), or -ENOMEM. */
static inline int vhs_y4m_header_of(const struct vhs_stream_fmt *s, char **text, size_t *len)
{
	struct vhs_y4m y = { .fmt = vhs_pixfmt_find(s->fmt), .width = s->width, .height = s->height,
			     .fr_num = s->fr_num, .fr_den = s->fr_den, .sar_num = s->sar_num,
			     .sar_den = s->sar_den, .interlace = vhs_interlace_of(s->field_order) };
	FILE *f;
	int ret;

	if (!y.fmt)
		return -EINVAL;
	y.color = (struct vhs_colorimetry){ s->color_range, s->colorspace, s->color_primaries,
					    s->color_trc, s->chroma_location };
	*text = NULL;
	f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	ret = vhs_y4m_write_header(&y, f);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

#endif
