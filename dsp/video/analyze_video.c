/* analyze_video.c: runs the whole-tape video analysis (video_analysis.h) on a capture file:
 * sampled runs of decoded frames into the analyzer, the result into the work dir through
 * the temp writer (`vhs-stage-decode --analyze-video`). */
#include "analyze_video.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>

#include "avpicture.h"
#include "video_analysis.h"

#define RUNS_MIN 8
#define RUNS_MAX 200
#define SECONDS_PER_RUN 3.0
#define CHROMA_SECONDS 20.0  /* tape per picture the chroma shift is measured on */
#define CHROMA_MIN 4

struct input {
	struct vhs_analysis_input av; /* the capture, only its video read */
	int eof;
	struct vhs_video_source src;
	struct vhs_video_analyzer *an;
	int format;              /* the first frame's pixel format: the analysis is of its kind */
	int64_t taken_end;       /* pts past the last frame a run took (AV_NOPTS_VALUE: none) */
};

static const char *s_field_order(enum AVFieldOrder o)
{
	switch (o) {
	case AV_FIELD_PROGRESSIVE: return "progressive";
	/* the first letter is the field first in time, as the ffmpeg command line writes them
	 * (it tags a top-first frame TB, and that is what its demuxers read back) */
	case AV_FIELD_TT: case AV_FIELD_TB: return "tff";
	case AV_FIELD_BB: case AV_FIELD_BT: return "bff";
	default: return "unknown";
	}
}

/* The next decoded frame into in->av.frame: 0, AVERROR_EOF, or an error. Damaged packets are
 * skipped, as the decode stage skips them. */
static int s_next(struct input *in)
{
	int ret;

	av_frame_unref(in->av.frame);
	for (;;) {
		ret = avcodec_receive_frame(in->av.dec, in->av.frame);
		if (ret != AVERROR(EAGAIN))
			return ret;
		if (in->eof)
			return AVERROR_EOF;
		ret = av_read_frame(in->av.fmt, in->av.pkt);
		if (ret == AVERROR_EOF || ret == AVERROR(EIO)) {
			in->eof = 1;
			ret = avcodec_send_packet(in->av.dec, NULL);
		} else if (ret >= 0) {
			if (in->av.pkt->stream_index == in->av.st->index)
				ret = avcodec_send_packet(in->av.dec, in->av.pkt);
			av_packet_unref(in->av.pkt);
			ret = ret == AVERROR_INVALIDDATA ? 0 : ret;
		}
		if (ret < 0)
			return ret;
	}
}

/* What the first frame (and the container) say: sizes, pixel aspect, rate, field order. */
static void s_source(struct input *in, const AVFrame *f)
{
	AVRational sar = f->sample_aspect_ratio.num ? f->sample_aspect_ratio : in->av.st->sample_aspect_ratio;
	AVRational rate = in->av.st->avg_frame_rate.num ? in->av.st->avg_frame_rate : in->av.st->r_frame_rate;
	enum AVFieldOrder order = in->av.st->codecpar->field_order;

	in->src.width = f->width;
	in->src.height = f->height;
	in->src.sar_num = sar.num;
	in->src.sar_den = sar.num ? sar.den : 0;
	in->src.rate_num = rate.num;
	in->src.rate_den = rate.den;
	in->src.origin = in->av.st->start_time == AV_NOPTS_VALUE ? 0 :
			 (double)in->av.st->start_time * av_q2d(in->av.st->time_base);
	if (f->interlaced_frame) /* the decoder's word over the container's */
		order = f->top_field_first ? AV_FIELD_TT : AV_FIELD_BB;
	snprintf(in->src.field_order, sizeof(in->src.field_order), "%s", s_field_order(order));
}

/* Seconds from the stream's start of pts. */
static double s_seconds(const struct input *in, int64_t pts)
{
	int64_t start = in->av.st->start_time == AV_NOPTS_VALUE ? 0 : in->av.st->start_time;

	return pts == AV_NOPTS_VALUE ? 0 : (double)(pts - start) * av_q2d(in->av.st->time_base);
}

/* Feeds up to frames decoded frames (frames <= 0: all that are left) as runs, skipping those
 * a previous run took. Returns 0 or an exit-code-worthy AVERROR. */
static int s_take(struct input *in, int frames)
{
	int taken = 0, ret;

	while (frames <= 0 || taken < frames) {
		struct vhs_picture pic;
		int64_t pts;

		ret = s_next(in);
		if (ret == AVERROR_EOF)
			return 0;
		if (ret < 0)
			return ret;
		pts = in->av.frame->best_effort_timestamp;
		if (in->taken_end != AV_NOPTS_VALUE && pts != AV_NOPTS_VALUE && pts < in->taken_end)
			continue;
		if (!in->an) {
			s_source(in, in->av.frame);
			in->format = in->av.frame->format;
			if ((ret = vhs_video_analyzer_open(&in->an, &in->src)))
				return AVERROR(-ret);
		}
		if (in->av.frame->width != in->src.width || in->av.frame->height != in->src.height ||
		    in->av.frame->format != in->format) {
			/* the tape changed its size or format: the pipeline scales it to the first
			 * (as the ffmpeg command line does), and the analysis is of the first */
			vhs_video_analyzer_other(in->an);
			continue;
		}
		if (vhs_av_picture(in->av.frame, &pic))
			return AVERROR_PATCHWELCOME;
		if (taken % VHS_ANALYSIS_RUN_FRAMES == 0 &&
		    (ret = vhs_video_analyzer_begin_run(in->an, s_seconds(in, pts))))
			return AVERROR(-ret);
		if ((ret = vhs_video_analyzer_push(in->an, &pic)))
			return AVERROR(-ret);
		if (pts != AV_NOPTS_VALUE)
			in->taken_end = pts + (in->av.frame->pkt_duration > 0 ? in->av.frame->pkt_duration : 1);
		taken++;
	}
	return 0;
}

/* K runs at evenly spaced points, or the whole tape when it is too short for that. */
static int s_sample(struct input *in)
{
	double seconds = in->av.fmt->duration > 0 ? in->av.fmt->duration / (double)AV_TIME_BASE : 0;
	double fps = in->av.st->avg_frame_rate.num ? av_q2d(in->av.st->avg_frame_rate) : 25;
	int runs = (int)(seconds / SECONDS_PER_RUN);
	int64_t start = in->av.fmt->start_time == AV_NOPTS_VALUE ? 0 : in->av.fmt->start_time;
	int pictures = (int)(seconds / CHROMA_SECONDS); /* for the chroma measure */
	int whole;

	runs = runs < RUNS_MIN ? RUNS_MIN : runs > RUNS_MAX ? RUNS_MAX : runs;
	pictures = pictures < CHROMA_MIN ? CHROMA_MIN : pictures;
	whole = seconds * fps < 2.0 * runs * VHS_ANALYSIS_RUN_FRAMES;
	if (whole) /* a tape too short for spaced runs: all of it, in runs */
		runs = (int)(seconds * fps / VHS_ANALYSIS_RUN_FRAMES) + 1;
	in->src.chroma_every = runs / pictures;
	if (whole)
		return s_take(in, 0);
	for (int i = 0; i < runs; i++) {
		int64_t at = start + (int64_t)(seconds * (i + 0.5) / runs * AV_TIME_BASE);
		int ret = av_seek_frame(in->av.fmt, -1, at, AVSEEK_FLAG_BACKWARD);

		if (ret < 0) /* not seekable: what is left, from here */
			return s_take(in, 0);
		avcodec_flush_buffers(in->av.dec);
		in->eof = 0;
		ret = s_take(in, VHS_ANALYSIS_RUN_FRAMES);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int s_put(const void *res, FILE *f)
{
	return vhs_video_analysis_write(res, f);
}

int vhs_video_analyze_file(const char *input, const char *path, char *msg, size_t len)
{
	struct input in = { .taken_end = AV_NOPTS_VALUE };
	struct vhs_video_analysis res = { 0 };
	int ret = vhs_analysis_open(&in.av, input, AVMEDIA_TYPE_VIDEO, msg, len);

	if (!ret) {
		ret = s_sample(&in);
		if (ret == AVERROR_PATCHWELCOME)
			ret = vhs_analysis_fail(msg, len, VHS_ANALYZE_INPUT, "'%s': RGB or unknown pixel format: nothing to analyse%s",
				    input, 0);
		else if (ret < 0)
			ret = vhs_analysis_fail(msg, len, VHS_ANALYZE_INPUT, "'%s': decoding the video failed: %s", input, ret);
	}
	if (!ret && !in.an)
		ret = VHS_ANALYZE_NONE;
	if (ret == VHS_ANALYZE_NONE) {
		snprintf(msg, len, "none: the capture has no decodable video");
		ret = 0;
		goto out;
	}
	if (!ret)
		ret = vhs_video_analyzer_finish(in.an, &res) ? VHS_ANALYZE_INTERNAL : 0;
	if (!ret)
		ret = vhs_analysis_save(path, s_put, &res, msg, len);
	if (!ret)
		vhs_video_analysis_describe(&res, msg, len);
out:
	vhs_video_analysis_free(&res);
	vhs_video_analyzer_close(&in.an);
	vhs_analysis_close(&in.av);
	return ret;
}
