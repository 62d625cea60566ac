/* decode.c: the decode stage: demux the capture and decode its video and audio into
 * slots (output port 0: video, port 1: audio when the capture has audio).
 *
 * DESIGN
 * Like the ffmpeg command line, the edge formats are taken from the first decoded
 * frames, not from the container's claims: init decodes until it has the first video
 * frame (and the first audio frame, if there is audio) and keeps those two; the segments
 * then decode afresh. Each frame is copied once, from the decoder's buffer into a slot.
 *
 * Segments: run() serves the orchestrator's SEGMENT REQUESTs in the order they come. The
 * timeline is cut at video keyframes: segment k starts at B(k), the first keyframe at or
 * after P0 + k * segment_seconds (P0: the first frame's pts; B(0) is the very start), and
 * ends where segment k+1 starts. To produce segment k the stage seeks to a keyframe at or
 * before the window's warm-up, decodes forward, and sends the frames within the window:
 * `segment.warmup` frames before B(k) and `segment.lookahead` frames after B(k+1) for
 * video, `segment.audio_reach_ms` either side for audio; downstream filters drop what lies
 * outside [B(k), B(k+1)) after filtering. Because a segment is made from a seek, not from
 * where the previous one stopped, any segment can be made again, in any order, with the
 * same result (replay after a crash, resume, several workers).
 *
 * Damage: a read error other than end of file ends the input early with a warning; at
 * the end the stage compares what it decoded with the container's stated duration and
 * says how much was lost.
 *
 * `vhs-stage-decode --probe FILE` prints the capture's streams (used by `check`).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "avslot.h"

#define PROBE_MAX 192        /* frames decoded before both streams must have shown one */

struct decoder {
	int index;           /* stream index, -1 if absent */
	AVCodecContext *dec;
	AVStream *st;
	uint64_t frames;     /* frames decoded */
	int64_t last_end_us; /* end of the last frame, microseconds */
};

struct decode_priv {
	AVFormatContext *fmt;
	struct decoder v, a;
	AVPacket *pkt;
	AVFrame *frame;
	AVFrame *first[2];     /* the first video and audio frame: the edge formats */
	int probed;            /* frames decoded while looking for them */
	struct vhs_stream_fmt out[2];
	int damaged;           /* read or decode errors seen */
	int eof;               /* the demuxer has nothing more */
	int64_t first_pts;     /* P0: pts of the first video frame (video stream time base) */
	int64_t seg_len;       /* segment_seconds in the video time base; 0 = one segment */
	AVRational frame_rate; /* of the video, for sizing windows in frames */
	int warmup, lookahead; /* video frames decoded before and after a segment */
	int64_t audio_reach;   /* audio decoded before and after a segment, video time base */
	int64_t second;        /* one second in the video time base */
	int64_t last_pkt_ts;   /* pts (or dts) of the last video packet read */
	uint32_t bound_k;      /* cache: B(bound_k) = bound_v, for k >= 1 */
	int64_t bound_v;
	struct {               /* the window of the segment being made */
		int64_t v_lo, v_hi, a_lo, a_hi;
		int v_done, a_done;
	} win;
	char path[4096];
};

static int s_open_decoder(struct vhs_ctx *ctx, struct decode_priv *p, struct decoder *d,
			  enum AVMediaType type)
{
	const AVCodec *codec = NULL;
	int ret;

	d->index = av_find_best_stream(p->fmt, type, -1, -1, &codec, 0);
	if (d->index < 0)
		return d->index == AVERROR_STREAM_NOT_FOUND ? 0 : d->index;
	d->st = p->fmt->streams[d->index];
	if (!codec)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': no decoder for %s stream (%s)", p->path,
				av_get_media_type_string(type), avcodec_get_name(d->st->codecpar->codec_id));
	d->dec = avcodec_alloc_context3(codec);
	if (!d->dec)
		return AVERROR(ENOMEM);
	avcodec_parameters_to_context(d->dec, d->st->codecpar);
	d->dec->pkt_timebase = d->st->time_base;
	av_opt_set(d->dec, "threads", "auto", 0);
	ret = avcodec_open2(d->dec, codec, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': cannot open the %s decoder: %s", p->path,
				codec->name, vhs_av_err(ret));
	return 0;
}

static int s_open_input(struct vhs_ctx *ctx, struct decode_priv *p)
{
	int ret = avformat_open_input(&p->fmt, p->path, NULL, NULL);

	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INPUT, "cannot open '%s': %s", p->path, vhs_av_err(ret));
	ret = avformat_find_stream_info(p->fmt, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': cannot read stream info: %s", p->path,
				vhs_av_err(ret));
	ret = s_open_decoder(ctx, p, &p->v, AVMEDIA_TYPE_VIDEO);
	if (ret < 0 && ret != -EIO)
		ret = vhs_fail(ctx, VHS_ERR_INPUT, "'%s': %s", p->path, vhs_av_err(ret));
	if (ret)
		return ret;
	if (!p->v.dec)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s' has no video stream", p->path);
	ret = s_open_decoder(ctx, p, &p->a, AVMEDIA_TYPE_AUDIO);
	return ret < 0 && ret != -EIO ? vhs_fail(ctx, VHS_ERR_INPUT, "'%s': %s", p->path, vhs_av_err(ret)) : ret;
}

static int64_t s_frame_end_us(const struct decoder *d, const AVFrame *f)
{
	AVRational tb = d->st->time_base;
	int64_t dur = d->dec->codec_type == AVMEDIA_TYPE_AUDIO
			      ? av_rescale_q(f->nb_samples, (AVRational){ 1, f->sample_rate }, tb)
			      : f->pkt_duration;

	if (f->pts == AV_NOPTS_VALUE)
		return d->last_end_us;
	return av_rescale_q(f->pts + dur, tb, AV_TIME_BASE_Q);
}

static int s_send_video(struct vhs_ctx *ctx, struct decode_priv *p, AVFrame *f)
{
	int ret = vhs_put_video(ctx, 0, f, p->out[0].slot_size);

	if (ret == -ENOSPC)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': frame size or format changed mid-stream "
				"(%dx%d %s); this is not supported", p->path, f->width, f->height,
				av_get_pix_fmt_name(f->format));
	return ret;
}

static int s_send_audio(struct vhs_ctx *ctx, struct decode_priv *p, AVFrame *f)
{
	if (f->format != av_get_sample_fmt(p->out[1].fmt) || f->sample_rate != p->out[1].sample_rate ||
	    f->ch_layout.nb_channels != p->out[1].channels)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': audio format changed mid-stream; this is not supported",
				p->path);
	return vhs_put_audio(ctx, 1, f, 0, f->nb_samples, p->out[1].slot_size);
}

/* A decoded frame: kept if it is the first of its kind while init looks for the formats;
 * once running, sent if it lies in the segment's window. */
static int s_emit(struct vhs_ctx *ctx, struct decode_priv *p, struct decoder *d, AVFrame *f,
		  int running)
{
	f->pts = f->best_effort_timestamp;
	f->time_base = d->st->time_base;
	d->frames++;
	d->last_end_us = s_frame_end_us(d, f);
	if (!running) {
		AVFrame **first = &p->first[d == &p->a];

		p->probed++;
		if (!*first && !(*first = av_frame_clone(f)))
			return AVERROR(ENOMEM);
		return 0;
	}
	if (d == &p->a && !p->out[1].media)
		return 0; /* audio that only decoded after the probe gave up on it: no track */
	if (d == &p->v) {
		int64_t t = f->pts;

		if (t != AV_NOPTS_VALUE && t >= p->win.v_hi)
			p->win.v_done = 1;
		if (t != AV_NOPTS_VALUE && (t < p->win.v_lo || t >= p->win.v_hi))
			return 0;
		return s_send_video(ctx, p, f);
	}
	if (f->pts != AV_NOPTS_VALUE) {
		AVRational vtb = p->v.st->time_base, atb = d->st->time_base;
		int64_t end = f->pts + av_rescale_q(f->nb_samples, (AVRational){ 1, f->sample_rate }, atb);

		if (p->win.a_hi != VHS_SEG_OPEN_END && av_compare_ts(f->pts, atb, p->win.a_hi, vtb) >= 0) {
			p->win.a_done = 1;
			return 0;
		}
		if (p->win.a_lo != VHS_SEG_OPEN_START && av_compare_ts(end, atb, p->win.a_lo, vtb) <= 0)
			return 0;
	}
	return s_send_audio(ctx, p, f);
}

/* Feeds one packet (NULL: flush) to a decoder and emits what comes out. */
static int s_decode(struct vhs_ctx *ctx, struct decode_priv *p, struct decoder *d,
		    const AVPacket *pkt, int running)
{
	int ret = avcodec_send_packet(d->dec, pkt);

	if (ret < 0 && ret != AVERROR_EOF) {
		p->damaged++; /* a damaged packet: skipped, as the ffmpeg command line does */
		return 0;
	}
	for (;;) {
		ret = avcodec_receive_frame(d->dec, p->frame);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0) {
			p->damaged++;
			continue;
		}
		ret = s_emit(ctx, p, d, p->frame, running);
		av_frame_unref(p->frame);
		if (ret)
			return ret;
	}
}

/* A packet's time: its pts, or its dts when it has none. */
static int64_t s_pkt_ts(const AVPacket *pkt)
{
	return pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
}

/* True for a video packet of an intra-only codec (DV, FFV1, HuffYUV: nothing refers to
 * another frame) that lies before the segment's video window or after it was passed: the
 * audio window can reach seconds further, and decoding those frames only to drop them
 * would be most of decode's work. */
static int s_outside_window(const struct decode_priv *p, const AVPacket *pkt)
{
	const AVCodecDescriptor *desc = avcodec_descriptor_get(p->v.dec->codec_id);
	int64_t ts = s_pkt_ts(pkt);

	if (!desc || !(desc->props & AV_CODEC_PROP_INTRA_ONLY) || ts == AV_NOPTS_VALUE)
		return 0;
	return ts < p->win.v_lo || p->win.v_done;
}

/* Reads and decodes one packet. Returns 0, 1 at the end of input, or an error. */
static int s_step(struct vhs_ctx *ctx, struct decode_priv *p, int running)
{
	struct decoder *d;
	int ret = av_read_frame(p->fmt, p->pkt);

	if (ret == AVERROR_EOF)
		return 1;
	if (ret < 0) {
		vhs_warn(ctx, "'%s': read error, input ends here: %s", p->path, vhs_av_err(ret));
		p->damaged++;
		return 1;
	}
	if (p->pkt->stream_index == p->v.index)
		p->last_pkt_ts = s_pkt_ts(p->pkt);
	d = p->pkt->stream_index == p->v.index ? &p->v
	  : p->pkt->stream_index == p->a.index ? &p->a : NULL;
	if (d == &p->v && running && s_outside_window(p, p->pkt))
		d = NULL; /* an intra-only frame no window wants: not even decoded */
	ret = d ? s_decode(ctx, p, d, p->pkt, running) : 0;
	av_packet_unref(p->pkt);
	return ret;
}

/* The programme length the container claims: the longer of its duration and the video
 * stream's frame count (a truncated AVI keeps the count of the full tape in its header). */
static int64_t s_expected_us(const struct decode_priv *p)
{
	AVRational fr = av_guess_frame_rate(p->fmt, p->v.st, NULL);
	int64_t us = p->fmt->duration != AV_NOPTS_VALUE ? p->fmt->duration : -1;

	if (p->v.st->nb_frames > 0 && fr.num > 0)
		us = FFMAX(us, av_rescale_q(p->v.st->nb_frames, av_inv_q(fr), AV_TIME_BASE_Q));
	return us;
}

static void s_video_format(struct decode_priv *p, const AVFrame *f, struct vhs_stream_fmt *o)
{
	AVRational fr = av_guess_frame_rate(p->fmt, p->v.st, NULL);

	vhs_fmt_from_video(o, f);
	o->tb_num = p->v.st->time_base.num;
	o->tb_den = p->v.st->time_base.den;
	o->fr_num = fr.num;
	o->fr_den = fr.den;
	o->field_order = (uint8_t)p->v.st->codecpar->field_order;
	o->duration_us = s_expected_us(p);
	o->slot_size = vhs_video_slot_size(f->format, f->width, f->height);
}

static void s_audio_format(struct decode_priv *p, const AVFrame *f, struct vhs_stream_fmt *o)
{
	o->media = VHS_MEDIA_AUDIO;
	snprintf(o->fmt, sizeof(o->fmt), "%s", av_get_sample_fmt_name(f->format));
	o->sample_rate = f->sample_rate;
	o->channels = f->ch_layout.nb_channels;
	o->channel_layout = f->ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? f->ch_layout.u.mask : 0;
	o->tb_num = 1;
	o->tb_den = f->sample_rate;
	o->duration_us = s_expected_us(p);
	o->slot_size = vhs_audio_slot_size(f->format, o->channels, VHS_AUDIO_SLOT_SAMPLES);
}

/* Decodes until the first video frame and the first audio frame are known. */
static int s_probe_formats(struct vhs_ctx *ctx, struct decode_priv *p)
{
	AVFrame *v = NULL, *a = NULL;
	int ret = 0;

	while (!p->eof && p->probed < PROBE_MAX && (!p->first[0] || (p->a.dec && !p->first[1]))) {
		ret = s_step(ctx, p, 0);
		if (ret < 0)
			return ret;
		p->eof = ret == 1;
	}
	v = p->first[0];
	a = p->first[1];
	if (!v)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': no video frame could be decoded", p->path);
	if (a && a->ch_layout.nb_channels > VHS_MAX_CHANNELS)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': %d audio channels; at most %d are supported",
				p->path, a->ch_layout.nb_channels, VHS_MAX_CHANNELS);
	s_video_format(p, v, &p->out[0]);
	if (!p->out[0].slot_size)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': pixel format %s is not supported", p->path,
				av_get_pix_fmt_name(v->format));
	if (a)
		s_audio_format(p, a, &p->out[1]);
	else if (p->a.dec)
		vhs_warn(ctx, "'%s': the audio stream has no decodable audio; the output will have no audio track", p->path);
	return 0;
}

/* The segment geometry, from the first frame and the settings. */
static int s_segment_setup(struct vhs_ctx *ctx, struct decode_priv *p)
{
	AVRational tb = p->v.st->time_base, fr = av_guess_frame_rate(p->fmt, p->v.st, NULL);
	AVFrame *v = p->first[0];
	char secs[64];
	double seconds = 10;

	if (vhs_setting(ctx, "run.segment_seconds", secs, sizeof(secs)) >= 0)
		seconds = atof(secs);
	p->first_pts = v->pts != AV_NOPTS_VALUE ? v->pts : 0;
	p->seg_len = seconds > 0 ? llrint(seconds * tb.den / tb.num) : 0;
	p->frame_rate = fr.num > 0 && fr.den > 0 ? fr : (AVRational){ 25, 1 };
	p->warmup = (int)vhs_setting_int(ctx, "segment.warmup", 0);
	p->lookahead = (int)vhs_setting_int(ctx, "segment.lookahead", 0);
	p->audio_reach = av_rescale_q(vhs_setting_int(ctx, "segment.audio_reach_ms", 0),
				      (AVRational){ 1, 1000 }, tb);
	p->second = av_rescale_q(1, (AVRational){ 1, 1 }, tb);
	p->bound_k = 0; /* B(0) is never cached */
	p->last_pkt_ts = AV_NOPTS_VALUE;
	return 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	struct decode_priv *p = vhs_priv(ctx);
	int ret;

	vhs_av_log_setup();
	p->v.index = p->a.index = -1;
	if (vhs_setting(ctx, "input", p->path, sizeof(p->path)) < 0)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no input in the job");
	p->pkt = av_packet_alloc();
	p->frame = av_frame_alloc();
	if (!p->pkt || !p->frame)
		return -ENOMEM;
	ret = s_open_input(ctx, p);
	if (!ret)
		ret = s_probe_formats(ctx, p);
	if (ret)
		return ret;
	vhs_set_outputs(ctx, p->out[1].media ? 2 : 1, p->out);
	return s_segment_setup(ctx, p);
}

/* Says how much of the programme was lost when the input ended early or was damaged. */
static void s_report_damage(struct vhs_ctx *ctx, struct decode_priv *p)
{
	int64_t expect = s_expected_us(p);
	int64_t got = p->v.last_end_us;
	double fps = av_q2d(av_guess_frame_rate(p->fmt, p->v.st, NULL));
	double frame_us = fps > 0 ? 1e6 / fps : 40000;

	if (expect > 0 && got + 1.5 * frame_us < expect) {
		double lost = (double)(expect - got) / 1e6;

		vhs_warn(ctx, "'%s' ends early: restored %.2f s of %.2f s; %.2f s (about %.0f frames) lost "
			 "to truncation or damage", p->path, (double)got / 1e6, (double)expect / 1e6,
			 lost, lost * fps);
	} else if (p->damaged) {
		vhs_warn(ctx, "'%s': %d damaged packets were skipped", p->path, p->damaged);
	}
}

/* The very beginning: the input and its decoders opened afresh, exactly as a one-pass
 * command reads them (a seek to the start can land past the first audio packets of some
 * containers, and a flushed decoder is not always a new one). */
static int s_reopen(struct vhs_ctx *ctx, struct decode_priv *p)
{
	avcodec_free_context(&p->v.dec);
	avcodec_free_context(&p->a.dec);
	avformat_close_input(&p->fmt);
	p->v.index = p->a.index = -1;
	p->eof = 0;
	return s_open_input(ctx, p);
}

/* Positions the demuxer so that the next packets start at or before the video time t
 * (VHS_SEG_OPEN_START: the very beginning, by opening the input again). A seek that lands after t is retried further
 * back, down to the beginning, so the result never depends on a demuxer's seek accuracy. */
static int s_seek(struct vhs_ctx *ctx, struct decode_priv *p, int64_t t)
{
	int64_t target = t, step = p->seg_len > 0 ? p->seg_len : p->second;
	int ret;

	for (;;) {
		int64_t first = AV_NOPTS_VALUE;

		if (target == VHS_SEG_OPEN_START || target <= p->first_pts)
			return s_reopen(ctx, p);
		ret = av_seek_frame(p->fmt, p->v.index, target, AVSEEK_FLAG_BACKWARD);
		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_INPUT, "'%s' cannot be seeked (%s); it cannot be cut into "
					"segments: set [run] segment_seconds = 0", p->path, vhs_av_err(ret));
		while ((ret = av_read_frame(p->fmt, p->pkt)) >= 0) {
			int video = p->pkt->stream_index == p->v.index;

			first = s_pkt_ts(p->pkt);
			av_packet_unref(p->pkt);
			if (video)
				break;
		}
		if (ret >= 0 && first != AV_NOPTS_VALUE && first <= t) {
			ret = av_seek_frame(p->fmt, p->v.index, target, AVSEEK_FLAG_BACKWARD);
			if (ret < 0)
				return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': seek failed: %s", p->path, vhs_av_err(ret));
			break;
		}
		target = target - step > p->first_pts ? target - step : VHS_SEG_OPEN_START;
	}
	p->eof = 0;
	return 0;
}

/* B(k): where segment k starts, or VHS_SEG_OPEN_END when the input ends before it. */
static int s_boundary(struct vhs_ctx *ctx, struct decode_priv *p, uint32_t k, int64_t *b)
{
	int64_t t;
	int ret;

	if (k == 0) {
		*b = VHS_SEG_OPEN_START;
		return 0;
	}
	if (p->seg_len <= 0) {
		*b = VHS_SEG_OPEN_END;
		return 0;
	}
	if (p->bound_k == k) {
		*b = p->bound_v;
		return 0;
	}
	t = p->first_pts + (int64_t)k * p->seg_len;
	ret = s_seek(ctx, p, t);
	if (ret)
		return ret;
	*b = VHS_SEG_OPEN_END;
	while ((ret = av_read_frame(p->fmt, p->pkt)) >= 0) {
		int64_t ts = s_pkt_ts(p->pkt);
		int key = p->pkt->stream_index == p->v.index && (p->pkt->flags & AV_PKT_FLAG_KEY);

		av_packet_unref(p->pkt);
		if (key && ts != AV_NOPTS_VALUE && ts >= t) {
			*b = ts;
			break;
		}
	}
	p->bound_k = k;
	p->bound_v = *b;
	return 0;
}

/* n frames in the video time base, plus half a frame: container time stamps are rounded
 * (Matroska: to the millisecond), and the half frame keeps the n-th neighbour inside the
 * window without taking the next one. 0 for n = 0. */
static int64_t s_frames(const struct decode_priv *p, int n)
{
	AVRational half = { p->frame_rate.den, 2 * p->frame_rate.num };

	return n > 0 ? av_rescale_q(2 * (int64_t)n + 1, half, p->v.st->time_base) : 0;
}

static int64_t s_before(int64_t b, int64_t by)
{
	return b == VHS_SEG_OPEN_START ? b : b - by;
}

static int64_t s_after(int64_t b, int64_t by)
{
	return b == VHS_SEG_OPEN_END ? b : b + by;
}

/* Sends a BEGIN or END marker on every output port. */
static int s_marker(struct vhs_ctx *ctx, struct decode_priv *p, const struct vhs_segment *seg)
{
	int ret = 0;

	for (int port = 0; !ret && port < (p->out[1].media ? 2 : 1); port++) {
		struct vhs_segment m = *seg;

		m.port = (uint8_t)port;
		ret = vhs_send_segment(ctx, &m);
	}
	return ret;
}

/* Makes segment k: BEGIN, the frames of its window, END. *last: the input ends with it. */
static int s_segment(struct vhs_ctx *ctx, struct decode_priv *p, uint32_t k, int *last)
{
	struct vhs_segment seg = { .phase = VHS_SEG_BEGIN, .index = k,
				   .tb_num = p->v.st->time_base.num, .tb_den = p->v.st->time_base.den };
	int64_t seek_to;
	int ret = s_boundary(ctx, p, k, &seg.start); /* usually cached: the last segment's end */

	if (!ret)
		ret = s_boundary(ctx, p, k + 1, &seg.end);
	if (ret)
		return ret;
	if (seg.start == VHS_SEG_OPEN_END)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %u lies past the end of '%s'", k, p->path);
	if (seg.end < seg.start)
		seg.end = seg.start; /* no keyframe in between: an empty segment */
	*last = seg.end == VHS_SEG_OPEN_END;
	seg.flags = *last ? VHS_SEG_LAST : 0;
	p->win.v_lo = s_before(seg.start, s_frames(p, p->warmup));
	p->win.v_hi = s_after(seg.end, s_frames(p, p->lookahead));
	p->win.a_lo = s_before(seg.start, p->audio_reach);
	p->win.a_hi = s_after(seg.end, p->audio_reach);
	p->win.v_done = p->win.a_done = 0;
	seek_to = s_before(p->win.v_lo < p->win.a_lo ? p->win.v_lo : p->win.a_lo, p->second);
	ret = s_seek(ctx, p, seek_to);
	if (ret)
		return ret;
	avcodec_flush_buffers(p->v.dec); /* after s_reopen: new decoders, nothing to flush */
	if (p->a.dec)
		avcodec_flush_buffers(p->a.dec);
	ret = s_marker(ctx, p, &seg);
	/* Read until the video passed the window and the audio did too (or, for audio that
	 * stopped early, until the file is a second past the window). */
	while (!ret && !p->eof && !(p->win.v_done && (!p->out[1].media || p->win.a_done))) {
		ret = s_step(ctx, p, 1);
		p->eof = ret == 1;
		ret = ret == 1 ? 0 : ret;
		if (p->win.v_done && p->last_pkt_ts != AV_NOPTS_VALUE && p->win.a_hi != VHS_SEG_OPEN_END &&
		    p->last_pkt_ts > p->win.a_hi + p->second)
			break; /* the audio stopped before the window's end */
		if (!ret && vhs_stopping(ctx))
			return -ECANCELED;
	}
	if (!ret && p->eof)
		ret = s_decode(ctx, p, &p->v, NULL, 1);
	if (!ret && p->eof && p->out[1].media)
		ret = s_decode(ctx, p, &p->a, NULL, 1);
	seg.phase = VHS_SEG_END;
	return ret ? ret : s_marker(ctx, p, &seg);
}

static int s_run(struct vhs_ctx *ctx)
{
	struct decode_priv *p = vhs_priv(ctx);
	uint32_t k;
	int ret, last = 0;

	while (!last && (ret = vhs_next_segment(ctx, &k)) > 0) {
		ret = s_segment(ctx, p, k, &last);
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	if (last)
		s_report_damage(ctx, p);
	return 0;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct decode_priv *p = vhs_priv(ctx);

	av_frame_free(&p->first[0]);
	av_frame_free(&p->first[1]);
	avcodec_free_context(&p->v.dec);
	avcodec_free_context(&p->a.dec);
	avformat_close_input(&p->fmt);
	av_packet_free(&p->pkt);
	av_frame_free(&p->frame);
}

const struct vhs_stage vhs_stage_decode = {
	.name = "decode",
	.priv_size = sizeof(struct decode_priv),
	.init = s_init,
	.run = s_run,
	.uninit = s_uninit,
};

/* --probe FILE: one line per stream, for `vhs-orchestrate check`. Exit 0, or 4. */
static int s_probe(const char *path)
{
	AVFormatContext *fmt = NULL;
	int ret;

	vhs_av_log_setup();
	ret = avformat_open_input(&fmt, path, NULL, NULL);
	if (ret >= 0)
		ret = avformat_find_stream_info(fmt, NULL);
	if (ret < 0) {
		printf("error: cannot open '%s': %s\n", path, vhs_av_err(ret));
		avformat_close_input(&fmt);
		return 4;
	}
	if (av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0) < 0) {
		printf("error: '%s' has no video stream\n", path);
		avformat_close_input(&fmt);
		return 4;
	}
	printf("container: %s, %.3f s\n", fmt->iformat->name,
	       fmt->duration != AV_NOPTS_VALUE ? (double)fmt->duration / 1e6 : -1.0);
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVCodecParameters *c = fmt->streams[i]->codecpar;
		AVRational fr = av_guess_frame_rate(fmt, fmt->streams[i], NULL);

		if (c->codec_type == AVMEDIA_TYPE_VIDEO)
			printf("video: %s %dx%d %s %d/%d fps sar %d:%d\n", avcodec_get_name(c->codec_id),
			       c->width, c->height, av_get_pix_fmt_name(c->format), fr.num, fr.den,
			       c->sample_aspect_ratio.num, c->sample_aspect_ratio.den);
		else if (c->codec_type == AVMEDIA_TYPE_AUDIO)
			printf("audio: %s %d Hz %d channels %s\n", avcodec_get_name(c->codec_id),
			       c->sample_rate, c->ch_layout.nb_channels,
			       av_get_sample_fmt_name(c->format));
	}
	avformat_close_input(&fmt);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--probe"))
		return s_probe(argv[2]);
	return vhs_stage_main(&vhs_stage_decode, argc, argv);
}
