/* vf_dropouts.c: vhs_dropouts, the dropout repair (dsp/video/dropouts.h): each frame's
 * dropouts found against its neighbours in time and replaced from the neighbouring fields.
 *
 * No options. Planar YUV or gray, 8 to 16 bits. Reach: one frame each side; the first and
 * last frames of a window have one neighbour (what the window holds decides the output, so a
 * segment's frames, with their warm-up and look-ahead, come out the same in any run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "avpicture.h"
#include "dropouts.h"
#include "native.h"

#define MAX_DROPOUTS 4096       /* per frame; more than this is no longer dropouts */

struct dropouts {
	AVFrame *prev, *cur;    /* the two frames before the one coming in */
	struct vhs_dropout *found;
};

static int s_init(void *priv, const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads,
		  char *err, size_t errlen)
{
	struct dropouts *d = priv;

	(void)out;
	if (vhs_native_need_yuv("vhs_dropouts", in, 1, err, errlen))
		return -EINVAL;
	d->found = malloc(MAX_DROPOUTS * sizeof(*d->found));
	return d->found ? 0 : -ENOMEM;
}

/* Repairs d->cur against d->prev and next (either may be NULL) and hands it on. */
static int s_emit(struct dropouts *d, const AVFrame *next, struct vhs_native_out *out)
{
	struct vhs_picture p, c, n, o;
	AVFrame *f;
	int count, ret = vhs_native_copy(d->cur, &f, &c, &o);

	if (!ret && ((d->prev && vhs_av_picture(d->prev, &p)) || (next && vhs_av_picture(next, &n))))
		ret = -EINVAL;
	if (!ret) {
		count = vhs_dropouts_find(d->prev ? &p : NULL, &c, next ? &n : NULL, d->found, MAX_DROPOUTS);
		if (count <= MAX_DROPOUTS) /* more is a picture unlike its neighbours, not dropouts */
			vhs_dropouts_repair(d->prev ? &p : NULL, &c, next ? &n : NULL, &o, d->found, count);
		ret = vhs_native_emit(out, f);
	}
	av_frame_free(&f);
	return ret;
}

static int s_filter(void *priv, AVFrame *in, struct vhs_native_out *out)
{
	struct dropouts *d = priv;
	int ret = 0;

	if (d->cur)
		ret = s_emit(d, in, out);
	av_frame_free(&d->prev);
	d->prev = d->cur;
	d->cur = in; /* NULL at the end: nothing more to emit */
	return ret;
}

static void s_uninit(void *priv)
{
	struct dropouts *d = priv;

	av_frame_free(&d->prev);
	av_frame_free(&d->cur);
	free(d->found);
}

const struct vhs_native_filter vhs_native_dropouts = {
	.name = "vhs_dropouts",
	.description = "finds tape dropouts against the frames either side and fills them in",
	.options = NULL,
	.priv_size = sizeof(struct dropouts),
	.reach_before = 1,
	.reach_after = 1,
	.init = s_init,
	.filter = s_filter,
	.uninit = s_uninit,
};
