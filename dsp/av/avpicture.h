/* avpicture.h: an AVFrame seen as a struct vhs_picture (dsp/image/pixfmt.h), without copying,
 * so the project's FFmpeg-free algorithms (analysis, repairs) run on decoded frames. */
#ifndef VHS_AVPICTURE_H
#define VHS_AVPICTURE_H

#include <libavutil/frame.h>

#include "pixfmt.h"

/* pic points into f's planes. Returns 0, or -ENOTSUP for a format the project does not
 * handle or an RGB one (no luma). */
int vhs_av_picture(const AVFrame *f, struct vhs_picture *pic);

#endif
