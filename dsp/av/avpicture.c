/* avpicture.c: AVFrames as pictures (see avpicture.h). */
#include "avpicture.h"

#include <errno.h>
#include <string.h>

#include <libavutil/pixdesc.h>

int vhs_av_picture(const AVFrame *f, struct vhs_picture *pic)
{
	memset(pic, 0, sizeof(*pic));
	pic->fmt = vhs_pixfmt_find(av_get_pix_fmt_name(f->format));
	if (!pic->fmt || pic->fmt->rgb)
		return -ENOTSUP;
	pic->width = f->width;
	pic->height = f->height;
	for (int i = 0; i < 4; i++) {
		pic->data[i] = f->data[i];
		pic->linesize[i] = f->linesize[i];
	}
	pic->color = (struct vhs_colorimetry){ (uint8_t)f->color_range, (uint8_t)f->colorspace,
					       (uint8_t)f->color_primaries, (uint8_t)f->color_trc,
					       (uint8_t)f->chroma_location };
	return 0;
}
