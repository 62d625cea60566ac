/* vf_decimate.c: vhs_decimate, the last step of inverse telecine: of every five frames that
 * field matching left (film's four frames and one repeat), the repeat goes, 29.97 -> 23.976.
 *
 * DESIGN
 * libavfilter's decimate counts its cycles of five from the first frame it is given, so a
 * segment whose window starts elsewhere in the cadence cuts its cycles elsewhere and drops
 * other frames than the whole run would: the output would depend on where segments begin.
 * Here the cycles are anchored to the tape: frame n (from its pts and the frame rate, the
 * first frame of the tape being frame 0) is in cycle n / 5, and the k-th frame kept of cycle
 * c is output frame 4c + k, at 4/5 of the input rate. A cycle's choice depends on its own
 * five frames and the frame before it (whose difference to the cycle's first counts), so the
 * reach is 5 frames before and 4 after, and every window that holds a cycle whole decides it
 * the same way.
 *
 * The repeat is the frame most like the one before it: each frame's difference to its
 * predecessor is the largest mean absolute luma difference over 32x32 blocks (the largest,
 * so a small moving thing in a still scene counts), and the smallest in the cycle is dropped;
 * equal differences drop the earlier frame. A frame whose predecessor is not in the window
 * (the tape's first, or a window's) counts as different from everything. A cycle cut short
 * (the tape's end, a gap in the frame numbers) of L frames keeps round(4L / 5).
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <libavutil/mathematics.h>

#include "avpicture.h"
#include "native.h"

#define CYCLE 5
#define BLOCK 32

struct decimate {
	AVRational frame;         /* one input frame's duration, seconds */
	AVRational out_tb;        /* output time base: one output frame */
	AVFrame *prev;            /* the frame before the cycle being gathered, or NULL */
	int64_t cycle;            /* the cycle being gathered */
	AVFrame *f[CYCLE];        /* its frames, by position in the cycle (NULL: absent) */
	double diff[CYCLE];       /* each one's difference to its predecessor */
	int n;                    /* frames gathered */
};

static int s_init(void *priv, const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads,
		  char *err, size_t errlen)
{
	struct decimate *d = priv;

	if (in->fr_num <= 0 || in->fr_den <= 0) {
		snprintf(err, errlen, "vhs_decimate needs a constant frame rate (put fps=30000/1001 before it)");
		return -EINVAL;
	}
	d->frame = (AVRational){ in->fr_den, in->fr_num };
	av_reduce(&out->fr_num, &out->fr_den, (int64_t)in->fr_num * (CYCLE - 1), (int64_t)in->fr_den * CYCLE,
		  INT_MAX);
	out->tb_num = out->fr_den;
	out->tb_den = out->fr_num;
	d->out_tb = (AVRational){ out->tb_num, out->tb_den };
	d->cycle = -1;
	return 0;
}

/* The largest mean absolute luma difference of a 32x32 block between a and b. */
static double s_diff(const AVFrame *a, const AVFrame *b)
{
	struct vhs_picture pa, pb;
	double most = 0;

	if (vhs_av_picture(a, &pa) || vhs_av_picture(b, &pb) || pa.width != pb.width || pa.height != pb.height)
		return DBL_MAX;
	for (int by = 0; by < pa.height; by += BLOCK)
		for (int bx = 0; bx < pa.width; bx += BLOCK) {
			int h = pa.height - by < BLOCK ? pa.height - by : BLOCK;
			int w = pa.width - bx < BLOCK ? pa.width - bx : BLOCK;
			uint64_t sum = 0;

			for (int y = by; y < by + h; y++) {
				const uint8_t *ra = pa.data[0] + (size_t)y * pa.linesize[0];
				const uint8_t *rb = pb.data[0] + (size_t)y * pb.linesize[0];

				for (int x = bx; x < bx + w; x++) {
					int va = pa.fmt->bytes == 1 ? ra[x] : ((const uint16_t *)ra)[x];
					int vb = pb.fmt->bytes == 1 ? rb[x] : ((const uint16_t *)rb)[x];

					sum += (uint64_t)abs(va - vb);
				}
			}
			if ((double)sum / (w * h) > most)
				most = (double)sum / (w * h);
		}
	return most;
}

/* The cycle gathered: the repeats dropped, the rest out as frames 4c + k. */
static int s_flush(struct decimate *d, struct vhs_native_out *out)
{
	int drop = d->n - (int)((d->n * (CYCLE - 1) + CYCLE / 2) / CYCLE), k = 0, ret = 0;

	av_frame_free(&d->prev); /* the next cycle's first frame is compared with this one's last */
	if (d->f[CYCLE - 1] && !(d->prev = av_frame_clone(d->f[CYCLE - 1])))
		ret = -ENOMEM;
	for (; drop > 0; drop--) {
		int low = -1;

		for (int i = 0; i < CYCLE; i++)
			if (d->f[i] && (low < 0 || d->diff[i] < d->diff[low]))
				low = i;
		av_frame_free(&d->f[low]);
	}
	for (int i = 0; i < CYCLE; i++) {
		if (!d->f[i])
			continue;
		d->f[i]->pts = d->cycle * (CYCLE - 1) + k++;
		d->f[i]->pkt_duration = 1; /* one output frame */
		d->f[i]->time_base = d->out_tb;
		if (!ret)
			ret = vhs_native_emit(out, d->f[i]);
		av_frame_free(&d->f[i]);
	}
	d->n = 0;
	return ret;
}

static int s_filter(void *priv, AVFrame *in, struct vhs_native_out *out)
{
	struct decimate *d = priv;
	const AVFrame *before;
	int64_t n, c;
	int ret, at;

	if (!in)
		return d->n ? s_flush(d, out) : 0;
	n = av_rescale_q(in->pts, in->time_base, d->frame);
	c = n >= 0 ? n / CYCLE : (n - CYCLE + 1) / CYCLE;
	at = (int)(n - c * CYCLE);
	if (c != d->cycle && d->n && (ret = s_flush(d, out))) {
		av_frame_free(&in);
		return ret;
	}
	if (c != d->cycle && c != d->cycle + 1)
		av_frame_free(&d->prev); /* a gap: what came before is not this cycle's predecessor */
	d->cycle = c;
	if (d->f[at]) { /* the same frame number twice: the later wins */
		av_frame_free(&d->f[at]);
		d->n--;
	}
	before = at ? d->f[at - 1] : d->prev;
	d->diff[at] = before ? s_diff(in, before) : DBL_MAX;
	d->f[at] = in;
	d->n++;
	return 0;
}

static void s_uninit(void *priv)
{
	struct decimate *d = priv;

	av_frame_free(&d->prev);
	for (int i = 0; i < CYCLE; i++)
		av_frame_free(&d->f[i]);
}

const struct vhs_native_filter vhs_native_decimate = {
	.name = "vhs_decimate",
	.description = "drops film's repeated frame of every five, in cycles anchored to the tape",
	.options = NULL,
	.priv_size = sizeof(struct decimate),
	.reach_before = CYCLE,
	.reach_after = CYCLE - 1,
	.init = s_init,
	.filter = s_filter,
	.uninit = s_uninit,
};
