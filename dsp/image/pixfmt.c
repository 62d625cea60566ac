/* pixfmt.c: the upscaler's pixel format table and plane geometry (see pixfmt.h).
 *
 * DESIGN
 * One const table, one row per FFmpeg name; lookups are a linear strcmp scan (a few
 * dozen rows, done once per stream). A chroma plane's size is the luma size divided by
 * the subsampling factor, rounded up (FFmpeg's AV_CEIL_RSHIFT), so odd sizes keep their
 * last column and row. Planar RGB has no subsampling: all three planes are w x h.
 *
 * Slot layout (vhs_pixfmt_layout), the same as avslot.c's without its tail padding:
 *
 *   offset 0            plane 0: h rows of linesize[0] bytes
 *   align64(end of 0)   plane 1: ch rows of linesize[1] bytes
 *   align64(end of 1)   plane 2: ch rows of linesize[2] bytes
 *
 * linesize[p] = plane width * bytes per sample, rounded up to a multiple of 64; since
 * every linesize is a multiple of 64, every plane ends 64-byte aligned too.
 */
#include "pixfmt.h"

#include <errno.h>
#include <stdlib.h>

#include <string.h>

#define LAYOUT_ALIGN 64

/* name, planes, log2_cw, log2_ch, depth, bytes, rgb, full_range */
#define YUV(n, cw, ch, d) { n, 3, cw, ch, d, (d) > 8 ? 2 : 1, 0, 0 }
#define YUVJ(n, cw, ch) { n, 3, cw, ch, 8, 1, 0, 1 }
#define GRAY(n, d) { n, 1, 0, 0, d, (d) > 8 ? 2 : 1, 0, 0 }
#define GBRP(n, d) { n, 3, 0, 0, d, (d) > 8 ? 2 : 1, 1, 1 }

static const struct vhs_pixfmt s_formats[] = {
	GRAY("gray", 8),
	GRAY("gray10le", 10),
	GRAY("gray12le", 12),
	GRAY("gray16le", 16),
	YUV("yuv420p", 1, 1, 8),
	YUV("yuv422p", 1, 0, 8),
	YUV("yuv444p", 0, 0, 8),
	YUV("yuv411p", 2, 0, 8),
	YUV("yuv410p", 2, 2, 8),
	YUV("yuv440p", 0, 1, 8),
	YUVJ("yuvj420p", 1, 1),
	YUVJ("yuvj422p", 1, 0),
	YUVJ("yuvj444p", 0, 0),
	YUVJ("yuvj411p", 2, 0),
	YUVJ("yuvj440p", 0, 1),
	YUV("yuv420p10le", 1, 1, 10),
	YUV("yuv422p10le", 1, 0, 10),
	YUV("yuv444p10le", 0, 0, 10),
	YUV("yuv420p12le", 1, 1, 12),
	YUV("yuv422p12le", 1, 0, 12),
	YUV("yuv444p12le", 0, 0, 12),
	YUV("yuv420p16le", 1, 1, 16),
	YUV("yuv422p16le", 1, 0, 16),
	YUV("yuv444p16le", 0, 0, 16),
	GBRP("gbrp", 8),
	GBRP("gbrp10le", 10),
	GBRP("gbrp12le", 12),
	GBRP("gbrp16le", 16),
};

const struct vhs_pixfmt *vhs_pixfmt_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(s_formats) / sizeof(s_formats[0]); i++)
		if (!strcmp(s_formats[i].name, name))
			return &s_formats[i];
	return NULL;
}

/* ceil(v / 2^shift) for v >= 0 */
static int s_ceil_shift(int v, int shift)
{
	return (v + (1 << shift) - 1) >> shift;
}

int vhs_pixfmt_plane_width(const struct vhs_pixfmt *f, int plane, int w)
{
	if (plane < 0 || plane >= f->planes)
		return 0;
	return plane == 0 || f->rgb ? w : s_ceil_shift(w, f->log2_cw);
}

int vhs_pixfmt_plane_height(const struct vhs_pixfmt *f, int plane, int h)
{
	if (plane < 0 || plane >= f->planes)
		return 0;
	return plane == 0 || f->rgb ? h : s_ceil_shift(h, f->log2_ch);
}

static size_t s_align(size_t v)
{
	return (v + LAYOUT_ALIGN - 1) / LAYOUT_ALIGN * LAYOUT_ALIGN;
}

size_t vhs_pixfmt_layout(const struct vhs_pixfmt *f, int w, int h, uint32_t offset[4],
			 int32_t linesize[4])
{
	size_t at = 0;

	for (int p = 0; p < 4; p++) {
		offset[p] = 0;
		linesize[p] = 0;
		if (p >= f->planes)
			continue;
		linesize[p] = (int32_t)s_align((size_t)vhs_pixfmt_plane_width(f, p, w) * f->bytes);
		offset[p] = (uint32_t)at;
		at = s_align(at + (size_t)linesize[p] * (size_t)vhs_pixfmt_plane_height(f, p, h));
	}
	return at;
}

int vhs_picture_alloc(struct vhs_picture *p, uint8_t **buf, const struct vhs_pixfmt *fmt, int w, int h)
{
	uint32_t off[4];
	int32_t ls[4];
	size_t bytes = vhs_pixfmt_layout(fmt, w, h, off, ls);

	*buf = aligned_alloc(64, (bytes + 64) / 64 * 64);
	if (!*buf)
		return -ENOMEM;
	*p = (struct vhs_picture){ .fmt = fmt, .width = w, .height = h };
	for (int i = 0; i < 4; i++) {
		p->data[i] = ls[i] ? *buf + off[i] : NULL;
		p->linesize[i] = ls[i];
	}
	return 0;
}
