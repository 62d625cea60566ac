/* pixfmt.h: the pixel formats the upscaler reads and writes, without FFmpeg.
 *
 * DESIGN
 * The upscale stage's neural and CUDA paths must build where there is no FFmpeg (the GPU
 * machines), so they cannot ask libavutil what "yuv420p" means. This table describes the
 * planar formats they handle, under FFmpeg's names (the names on the wire, proto.h):
 * 8- to 16-bit planar YUV with any chroma subsampling FFmpeg has (4:4:4, 4:2:2, 4:2:0,
 * 4:1:1, 4:1:0, 4:4:0), their full-range "yuvj" aliases, gray, and planar RGB (gbrp,
 * plane order G, B, R as in FFmpeg). Samples deeper than 8 bits are 16-bit little-endian
 * words holding `depth` significant low bits. Packed formats are not here: the stage's
 * FFmpeg build repacks them into the planar equivalent first (upscale.c).
 *
 * Colour description codes are ITU-T H.273's, which are also FFmpeg's AVColor* values,
 * so descriptors pass them through unchanged.
 */
#ifndef VHS_PIXFMT_H
#define VHS_PIXFMT_H

#include <stddef.h>
#include <stdint.h>

/* H.273 / AVColorSpace (matrix coefficients) values the upscaler acts on. */
enum {
	VHS_MATRIX_RGB = 0,
	VHS_MATRIX_BT709 = 1,
	VHS_MATRIX_UNSPECIFIED = 2,
	VHS_MATRIX_BT470BG = 5,   /* BT.601 625 */
	VHS_MATRIX_SMPTE170M = 6, /* BT.601 525 */
};

/* AVColorRange values. */
enum { VHS_RANGE_UNSPECIFIED = 0, VHS_RANGE_LIMITED = 1, VHS_RANGE_FULL = 2 };

/* AVChromaLocation values (where a chroma sample sits among the luma samples it covers). */
enum {
	VHS_CHROMA_UNSPECIFIED = 0,
	VHS_CHROMA_LEFT = 1,      /* co-sited with the left luma column, vertically between rows (MPEG-2 4:2:0) */
	VHS_CHROMA_CENTER = 2,    /* centred both ways (MPEG-1, JPEG) */
	VHS_CHROMA_TOPLEFT = 3,   /* co-sited with the top-left luma sample (4:2:0 DV, BT.2020) */
	VHS_CHROMA_TOP = 4,
	VHS_CHROMA_BOTTOMLEFT = 5,
	VHS_CHROMA_BOTTOM = 6,
};

struct vhs_pixfmt {
	const char *name;     /* FFmpeg's name: "yuv420p", "gbrp10le", ... */
	uint8_t planes;       /* 1 (gray) or 3 */
	uint8_t log2_cw;      /* chroma subsampling: plane 1 and 2 widths are ceil(w / 2^log2_cw) */
	uint8_t log2_ch;      /* ... and heights ceil(h / 2^log2_ch) */
	uint8_t depth;        /* significant bits per sample, 8..16 */
	uint8_t bytes;        /* bytes per sample: 1 (depth 8) or 2 */
	uint8_t rgb;          /* planes are G, B, R (always full range) */
	uint8_t full_range;   /* a "yuvj" name: full range whatever the tag says */
};

/* The format named, or NULL when the upscaler does not handle it. */
const struct vhs_pixfmt *vhs_pixfmt_find(const char *name);

/* Width and height of plane p of a w x h picture. */
int vhs_pixfmt_plane_width(const struct vhs_pixfmt *f, int plane, int w);
int vhs_pixfmt_plane_height(const struct vhs_pixfmt *f, int plane, int h);

/* The slot layout: planes one after another, each starting 64-byte aligned, rows padded to
 * 64 bytes (the layout avslot.h uses). Fills offset[] and linesize[] (0 past the last plane)
 * and returns the bytes the planes take. */
size_t vhs_pixfmt_layout(const struct vhs_pixfmt *f, int w, int h, uint32_t offset[4],
			 int32_t linesize[4]);

/* How colour is described (H.273 codes). */
struct vhs_colorimetry {
	uint8_t range, matrix, primaries, transfer, chroma_location;
};

/* A picture in memory: planes of a format, FFmpeg-free (an AVFrame's data/linesize, or a
 * ring slot's planes). */
struct vhs_picture {
	const struct vhs_pixfmt *fmt;
	int width, height;
	uint8_t *data[4];
	int linesize[4];
	struct vhs_colorimetry color;
};

/* A picture of fmt, w x h, in one buffer of its own laid out as vhs_pixfmt_layout says
 * (64-byte aligned; *buf is what to free). Returns 0 or -ENOMEM. */
int vhs_picture_alloc(struct vhs_picture *p, uint8_t **buf, const struct vhs_pixfmt *fmt, int w, int h);

#endif
