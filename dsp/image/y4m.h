/* y4m.h: YUV4MPEG2 streams in and out, for running the upscaler without FFmpeg.
 *
 * DESIGN
 * The GPU machines have no FFmpeg libraries, so the upscaler's own tool (vhs-upscale,
 * tool.c) reads and writes y4m: a text header line, then "FRAME\n" and the planes of each
 * frame, tightly packed. Colour spaces map to pixfmt.h names as FFmpeg's yuv4mpeg muxer
 * writes them: C420jpeg/C420mpeg2/C420paldv/C420 -> yuv420p (with chroma location
 * CENTER/LEFT/TOPLEFT/CENTER), C422 -> yuv422p, C444 -> yuv444p, C411 -> yuv411p,
 * Cmono -> gray, C420p10/C422p10/C444p10 (and p12, p16) -> yuv4xxp10le ...; XCOLORRANGE=FULL
 * or LIMITED sets the range. Planar RGB has no y4m name; the tool reads and writes it raw.
 */
#ifndef VHS_Y4M_H
#define VHS_Y4M_H

#include <stdio.h>

#include "pixfmt.h"

struct vhs_y4m {
	FILE *f;
	const struct vhs_pixfmt *fmt;
	int width, height;
	int fr_num, fr_den;       /* frame rate (F), 0/0 when absent */
	int sar_num, sar_den;     /* pixel aspect (A), 0/0 when absent */
	char interlace;           /* I: 'p', 't', 'b', 'm' or '?' */
	struct vhs_colorimetry color;
};

/* Reads the header. Returns 0 or -EINVAL (-EIO: read error) with a one-line reason in err. */
int vhs_y4m_read_header(struct vhs_y4m *y, FILE *f, char *err, size_t errlen);

/* Reads the next frame into pic's planes (allocated by the caller for y's format and
 * size). Returns 1, 0 at a clean end, or -EINVAL (truncated or malformed) / -EIO (read
 * error) with a one-line reason in err. */
int vhs_y4m_read_frame(struct vhs_y4m *y, struct vhs_picture *pic, char *err, size_t errlen);

/* Writes the header for y's fields. Returns 0 or -errno / -EINVAL (format with no y4m name). */
int vhs_y4m_write_header(const struct vhs_y4m *y, FILE *f);

/* Writes one frame. Returns 0 or -errno. */
int vhs_y4m_write_frame(const struct vhs_y4m *y, const struct vhs_picture *pic, FILE *f);

#endif
