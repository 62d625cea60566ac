/* decode.c: the decode stage: demux the capture and decode its video and audio into
 * slots (output port 0: video, port 1: audio when the capture has audio).
 *
 * DESIGN
 * Like the ffmpeg command line, the edge formats are taken from the first decoded
 * frames, not from the container's claims: init decodes until it has the first video
 * frame (and the first audio frame, if there is audio) and keeps those two; the segments
 * then decode afresh. Each frame is copied once, from the decoder's buffer into a slot.
 *
 * Segments: the timeline is cut at video keyframes: segment k starts at B(k), the first
 * keyframe at or after P0 + k * segment_seconds (P0: the first frame's pts; B(0) is the
 * very start), and ends where segment k+1 starts. To produce segment k the stage seeks to
 * a keyframe at or before the window's warm-up, decodes forward with new decoders, and
 * sends the frames within the window: `segment.warmup` frames before B(k) and
 * `segment.lookahead` frames after B(k+1) for video, `segment.audio_reach_ms` either side
 * for audio; downstream filters drop what lies outside [B(k), B(k+1)) after filtering.
 * Because a segment is made from a seek and new decoders, not from where the previous one
 * stopped, any segment can be made again, in any order, with the same result (replay
 * after a crash, resume, several workers). A
 * request for a segment whose B(k) lies past the end of the input is answered with NONE:
 * the orchestrator asks ahead without knowing where the input ends.
 *
 * Readers: one process may make up to vhs_worker_segments() segments at once, interleaved,
 * so that several workers downstream (each paced by its bounded ring) are all fed. Each open
 * segment has a reader of its own: the input opened separately (its own demuxer and
 * decoders), the segment's BEGIN record and window, and the reading position. run() is the
 * runtime's vhs_make_segments(): SEGMENT REQUESTs taken while a reader is idle, the busy
 * readers stepped in round robin, one record each (packets read and decoded until one of its frames is sent: a reader
 * still reading up to its window must not wait a turn per packet it skips);
 * a reader whose window is done sends END and goes idle, its input kept open to be seeked
 * for the next segment. A reader's records depend only on its segment, so interleaving
 * changes the order of records of different segments, never their content; with one
 * segment at a time (the default) they are made one after the other, in request order. The
 * stage ends when the orchestrator says there will be no more requests (EOS, sent after the
 * last segment, or DRAIN), once the open segments are finished. The readers share what is
 * a property of the input: the edge formats, the segment geometry, the boundaries B(k)
 * found so far, and the damage count.
 *
 * Damage: a read error other than end of file ends the input early with a warning; when
 * the process makes the last segment it compares what it decoded with the container's
 * stated duration and says how much was lost.
 *
 * `vhs-stage-decode --probe FILE` prints the capture's streams (used by `check`).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "analyze_file.h"
#include "analyze_video.h"
#include "avslot.h"
#include "probe.h"

#define PROBE_MAX 192        /* frames decoded before both streams must have shown one */
#define READERS_MAX 64       /* segments made at once, at most: each reader holds an input and decoders */
#define BOUNDS_CACHED 16     /* boundaries remembered: B(k) in bounds[k % BOUNDS_CACHED] */

struct decoder {
	int index;           /* stream index, -1 if absent */
	AVCodecContext *dec;
	AVStream *st;
	uint64_t frames;     /* frames decoded */
	int64_t last_end_us; /* end of the last frame, microseconds */
};

/* What a segment lets through, in the video time base (open ends: VHS_SEG_OPEN_*). */
struct window {
	int64_t v_lo, v_hi;  /* video frames with pts in [v_lo, v_hi) are sent */
	int64_t a_lo, a_hi;  /* audio frames overlapping [a_lo, a_hi) are sent */
	int v_done, a_done;  /* a frame at or past the end was decoded */
};

/* The input opened on its own, making one segment at a time. Written by run() only. */
struct reader {
	AVFormatContext *fmt;    /* NULL until the reader is first used */
	struct decoder v, a;
	uint64_t sent;           /* records sent (a turn of the round robin ends at one) */
	int eof;                 /* the demuxer has nothing more */
	int64_t last_pkt_ts;     /* pts (or dts) of the last video packet read */
	int64_t v_next;          /* where the next video frame starts (the last one's time and a
				  * frame), for a frame with no time of its own; AV_NOPTS_VALUE
				  * when the segment has none yet */
	int64_t a_next;          /* where the next audio frame starts, in samples (1/rate);
				  * AV_NOPTS_VALUE after a seek (s_audio_time) */
	struct vhs_segment seg;  /* the open segment's BEGIN record (becomes its END) */
	struct window win;       /* the open segment's window */
};

struct decode_priv {
	struct reader *readers;  /* READERS_MAX, as many in use as vhs_make_segments() steps; readers[0] also probes in init */
	int threads;             /* threads per decoder (worker.threads), 0 = "auto" */
	AVPacket *pkt;           /* scratch: read and unreferenced within one step */
	AVFrame *frame;          /* scratch: received and unreferenced within one step */
	AVFrame *first[2];       /* the first video and audio frame: the edge formats */
	int probed;              /* frames decoded while looking for them */
	struct vhs_stream_fmt out[2];
	int damaged;             /* read or decode errors seen, by all readers */
	struct SwsContext *sws;  /* frames of another size or format, to the edge's */
	AVFrame *conformed;      /* scratch: such a frame, scaled */
	int damage_reported;     /* the last segment was made and the damage said (once) */
	int64_t first_pts;       /* P0: pts of the first video frame (video time base) */
	int64_t seg_len;         /* segment_seconds in the video time base; 0 = one segment */
	int64_t limit;           /* run.frames: where the input is cut (half a frame before frame
				  * N, video time base), VHS_SEG_OPEN_END when it is not */
	AVRational vtb;          /* the video stream's time base: the unit of the times here */
	AVRational frame_rate;   /* of the video, for sizing windows in frames */
	int warmup, lookahead;   /* video frames decoded before and after a segment */
	int64_t audio_reach;     /* audio decoded before and after a segment, video time base */
	int64_t second;          /* one second in the video time base */
	struct {                 /* B(k) found so far; k = 0: empty (B(0) is never cached) */
		uint32_t k;
		int64_t b;
	} bounds[BOUNDS_CACHED];
	char path[4096];
};

static int s_open_decoder(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r,
			  struct decoder *d, enum AVMediaType type)
{
	const AVCodec *codec = NULL;
	int ret;

	d->index = av_find_best_stream(r->fmt, type, -1, -1, &codec, 0);
	if (d->index < 0)
		return d->index == AVERROR_STREAM_NOT_FOUND ? 0 : d->index;
	d->st = r->fmt->streams[d->index];
	if (!codec)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': no decoder for %s stream (%s)", p->path,
				av_get_media_type_string(type), avcodec_get_name(d->st->codecpar->codec_id));
	d->dec = avcodec_alloc_context3(codec);
	if (!d->dec)
		return AVERROR(ENOMEM);
	avcodec_parameters_to_context(d->dec, d->st->codecpar);
	d->dec->pkt_timebase = d->st->time_base;
	av_opt_set_int(d->dec, "threads", p->threads, 0); /* 0 is the option's "auto" */
	ret = avcodec_open2(d->dec, codec, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': cannot open the %s decoder: %s", p->path,
				codec->name, vhs_av_err(ret));
	return 0;
}

/* New video and audio decoders for r's input (the old ones, if any, freed). */
static int s_open_decoders(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r)
{
	int ret;

	avcodec_free_context(&r->v.dec);
	avcodec_free_context(&r->a.dec);
	ret = s_open_decoder(ctx, p, r, &r->v, AVMEDIA_TYPE_VIDEO);
	if (ret < 0 && ret != -EIO)
		ret = vhs_fail(ctx, VHS_ERR_INPUT, "'%s': %s", p->path, vhs_av_err(ret));
	if (ret)
		return ret;
	if (!r->v.dec)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s' has no video stream", p->path);
	ret = s_open_decoder(ctx, p, r, &r->a, AVMEDIA_TYPE_AUDIO);
	return ret < 0 && ret != -EIO ? vhs_fail(ctx, VHS_ERR_INPUT, "'%s': %s", p->path, vhs_av_err(ret)) : ret;
}

static int s_open_input(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r)
{
	int ret;

	vhs_av_clear_error();
	ret = avformat_open_input(&r->fmt, p->path, NULL, NULL);
	if (ret < 0) /* what libav said, where it said more than its code */
		return vhs_fail(ctx, VHS_ERR_INPUT, "cannot open '%s': %s", p->path,
				*vhs_av_last_error() ? vhs_av_last_error() : vhs_av_err(ret));
	ret = avformat_find_stream_info(r->fmt, NULL);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': cannot read stream info: %s", p->path,
				vhs_av_err(ret));
	return s_open_decoders(ctx, p, r);
}

static void s_close_input(struct reader *r)
{
	avcodec_free_context(&r->v.dec);
	avcodec_free_context(&r->a.dec);
	avformat_close_input(&r->fmt);
	r->v.index = r->a.index = -1;
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

/* Copies f into a slot and gives it away as a record of segment seg, on port 0. */
/* A frame of another size or pixel format than the tape's first (a capture that changes
 * them mid-way) scaled to the first's, into p->conformed, as the ffmpeg command line gives
 * its encoder the size it was opened with: the stages after decode see one format (the
 * analysis analysed the first, and said the rest would be scaled to it). */
static int s_conform(struct vhs_ctx *ctx, struct decode_priv *p, AVFrame *f, AVFrame **out)
{
	const struct vhs_stream_fmt *e = &p->out[0];
	enum AVPixelFormat fmt = av_get_pix_fmt(e->fmt);
	int ret;

	*out = f;
	if (f->width == e->width && f->height == e->height && f->format == fmt)
		return 0;
	p->sws = sws_getCachedContext(p->sws, f->width, f->height, f->format, e->width, e->height, fmt,
				      SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT, NULL, NULL, NULL);
	if (!p->sws)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': a frame of %dx%d %s mid-way cannot be scaled to the "
				"tape's %dx%d %s", p->path, f->width, f->height, av_get_pix_fmt_name(f->format),
				e->width, e->height, e->fmt);
	if (!p->conformed && !(p->conformed = av_frame_alloc()))
		return -ENOMEM;
	av_frame_unref(p->conformed);
	p->conformed->width = e->width;
	p->conformed->height = e->height;
	p->conformed->format = fmt;
	if (av_frame_get_buffer(p->conformed, 0) < 0 || av_frame_copy_props(p->conformed, f) < 0)
		return -ENOMEM;
	ret = sws_scale(p->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, p->conformed->data,
			p->conformed->linesize);
	if (ret <= 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "scaling a %dx%d frame to %dx%d failed", f->width, f->height,
				e->width, e->height);
	p->conformed->sample_aspect_ratio = p->first[0] ? p->first[0]->sample_aspect_ratio : f->sample_aspect_ratio;
	*out = p->conformed;
	return 0;
}

static int s_send_video(struct vhs_ctx *ctx, struct decode_priv *p, uint32_t seg, AVFrame *f)
{
	int ret = s_conform(ctx, p, f, &f);

	return ret ? ret : vhs_put_video(ctx, 0, seg, f, p->out[0].slot_size);
}

/* Copies f into slots and gives them away as records of segment seg, on port 1. */
static int s_send_audio(struct vhs_ctx *ctx, struct decode_priv *p, uint32_t seg, AVFrame *f)
{
	if (f->format != av_get_sample_fmt(p->out[1].fmt) || f->sample_rate != p->out[1].sample_rate ||
	    f->ch_layout.nb_channels != p->out[1].channels)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': audio format changed mid-stream; this is not supported",
				p->path);
	return vhs_put_audio(ctx, 1, seg, f, 0, f->nb_samples, p->out[1].slot_size);
}

/* A decoded video frame of r's segment: sent if it lies in the window. */
static int s_emit_video(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r, AVFrame *f)
{
	int64_t t = f->pts;

	if (t == AV_NOPTS_VALUE) { /* no time, and none before it to follow: nowhere to put it */
		p->damaged++;
		return 0;
	}
	if (t >= r->win.v_hi)
		r->win.v_done = 1;
	if (t < r->win.v_lo || t >= r->win.v_hi)
		return 0;
	r->sent++;
	return s_send_video(ctx, p, r->seg.index, f);
}

/* Puts an audio frame on the sample-exact timeline: pts in samples (time base 1/rate), the
 * same for a frame whichever reader decodes it, so that two segments cutting the audio
 * between them agree to the sample. A container's timestamps can be coarser than a sample
 * (Matroska: 1 ms, 48 samples at 48 kHz), and each segment's reader starts after a seek:
 *   - a frame that follows the reader's last one within half a container tick takes up
 *     exactly where it ended (the decoder's output is continuous);
 *   - the first frame after a seek, when frames have one size N (the file's first audio
 *     frame's) and the time base is coarser than a sample, is snapped to the multiple of
 *     N from the first frame that its timestamp rounds to, if that is within half a tick:
 *     the frame's true position;
 *   - otherwise the timestamp, rounded to the sample (what a one-pass reader would use). */
static void s_audio_time(struct decode_priv *p, struct reader *r, AVFrame *f)
{
	AVRational atb = r->a.st->time_base, sr = { 1, f->sample_rate };
	const AVFrame *first = p->first[1];
	int64_t pos, tol = av_rescale_q_rnd(1, atb, sr, AV_ROUND_UP) / 2 + 1;

	if (f->pts == AV_NOPTS_VALUE) {
		if (r->a_next != AV_NOPTS_VALUE)
			f->pts = r->a_next, f->time_base = sr, r->a_next += f->nb_samples;
		return;
	}
	pos = av_rescale_q(f->pts, atb, sr);
	if (r->a_next != AV_NOPTS_VALUE && llabs(pos - r->a_next) <= tol) {
		pos = r->a_next;
	} else if (tol > 1 && first && first->pts != AV_NOPTS_VALUE && first->nb_samples > 0 &&
		   f->nb_samples == first->nb_samples) {
		int64_t origin = av_rescale_q(first->pts, atb, sr), n = first->nb_samples;
		int64_t snapped = origin + (pos - origin + (pos >= origin ? n / 2 : -n / 2)) / n * n;

		pos = llabs(snapped - pos) <= tol ? snapped : pos;
	}
	f->pts = pos;
	f->time_base = sr;
	r->a_next = pos + f->nb_samples;
}

/* A decoded audio frame of r's segment: sent if it overlaps the window. */
static int s_emit_audio(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r, AVFrame *f)
{
	s_audio_time(p, r, f);
	if (f->pts != AV_NOPTS_VALUE) {
		AVRational atb = f->time_base;
		int64_t end = f->pts + f->nb_samples;

		if (r->win.a_hi != VHS_SEG_OPEN_END && av_compare_ts(f->pts, atb, r->win.a_hi, p->vtb) >= 0) {
			r->win.a_done = 1;
			return 0;
		}
		if (r->win.a_lo != VHS_SEG_OPEN_START && av_compare_ts(end, atb, r->win.a_lo, p->vtb) <= 0)
			return 0;
	}
	r->sent++;
	return s_send_audio(ctx, p, r->seg.index, f);
}

/* A decoded frame: kept if it is the first of its kind while init looks for the formats;
 * once running, sent if it lies in the window of r's segment. */
static int s_emit(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r,
		  struct decoder *d, AVFrame *f, int running)
{
	f->pts = f->best_effort_timestamp;
	f->time_base = d->st->time_base;
	if (running && d == &r->v) {
		/* a frame with no time at all (the last one out of a B-frame decoder's queue in an
		 * AVI, whose packets have no pts) comes one frame after the one before it, as the
		 * ffmpeg command line has it */
		if (f->pts == AV_NOPTS_VALUE)
			f->pts = r->v_next;
		if (f->pts != AV_NOPTS_VALUE)
			r->v_next = f->pts + av_rescale_q(1, av_inv_q(p->frame_rate), p->vtb);
	}
	d->frames++;
	d->last_end_us = s_frame_end_us(d, f);
	if (!running) {
		AVFrame **first = &p->first[d == &r->a];

		p->probed++;
		if (!*first && !(*first = av_frame_clone(f)))
			return AVERROR(ENOMEM);
		return 0;
	}
	if (d == &r->a && !p->out[1].media)
		return 0; /* audio that only decoded after the probe gave up on it: no track */
	return d == &r->v ? s_emit_video(ctx, p, r, f) : s_emit_audio(ctx, p, r, f);
}

/* Feeds one packet (NULL: flush) to one of r's decoders and emits what comes out. */
static int s_decode(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r,
		    struct decoder *d, const AVPacket *pkt, int running)
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
		ret = s_emit(ctx, p, r, d, p->frame, running);
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
 * another frame) that lies before r's video window or after it was passed: the audio
 * window can reach seconds further, and decoding those frames only to drop them would be
 * most of decode's work. */
static int s_outside_window(const struct reader *r, const AVPacket *pkt)
{
	const AVCodecDescriptor *desc = avcodec_descriptor_get(r->v.dec->codec_id);
	int64_t ts = s_pkt_ts(pkt);

	if (!desc || !(desc->props & AV_CODEC_PROP_INTRA_ONLY) || ts == AV_NOPTS_VALUE)
		return 0;
	return ts < r->win.v_lo || r->win.v_done;
}

/* Reads and decodes one packet of r's input. Returns 0, 1 at the end of input, or an
 * error. */
static int s_step(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r, int running)
{
	struct decoder *d;
	int ret = av_read_frame(r->fmt, p->pkt);

	if (ret == AVERROR_EOF)
		return 1;
	if (ret < 0) {
		vhs_warn(ctx, "'%s': read error, input ends here: %s", p->path, vhs_av_err(ret));
		p->damaged++;
		return 1;
	}
	if (p->pkt->stream_index == r->v.index)
		r->last_pkt_ts = s_pkt_ts(p->pkt);
	d = p->pkt->stream_index == r->v.index ? &r->v
	  : p->pkt->stream_index == r->a.index ? &r->a : NULL;
	if (d == &r->v && running && s_outside_window(r, p->pkt))
		d = NULL; /* an intra-only frame no window wants: not even decoded */
	ret = d ? s_decode(ctx, p, r, d, p->pkt, running) : 0;
	av_packet_unref(p->pkt);
	return ret;
}

/* The programme length the container claims: the longer of its duration and the video
 * stream's frame count (a truncated AVI keeps the count of the full tape in its header). */
static int64_t s_expected_us(const struct reader *r)
{
	AVRational fr = av_guess_frame_rate(r->fmt, r->v.st, NULL);
	int64_t us = r->fmt->duration != AV_NOPTS_VALUE ? r->fmt->duration : -1;

	if (r->v.st->nb_frames > 0 && fr.num > 0)
		us = FFMAX(us, av_rescale_q(r->v.st->nb_frames, av_inv_q(fr), AV_TIME_BASE_Q));
	return us;
}

static void s_video_format(struct reader *r, const AVFrame *f, struct vhs_stream_fmt *o)
{
	AVRational fr = av_guess_frame_rate(r->fmt, r->v.st, NULL);

	vhs_fmt_from_video(o, f);
	o->tb_num = r->v.st->time_base.num;
	o->tb_den = r->v.st->time_base.den;
	o->fr_num = fr.num;
	o->fr_den = fr.den;
	o->field_order = (uint8_t)r->v.st->codecpar->field_order;
	o->duration_us = s_expected_us(r);
	o->slot_size = vhs_video_slot_size(f->format, f->width, f->height);
}

static void s_audio_format(struct reader *r, const AVFrame *f, struct vhs_stream_fmt *o)
{
	o->media = VHS_MEDIA_AUDIO;
	snprintf(o->fmt, sizeof(o->fmt), "%s", av_get_sample_fmt_name(f->format));
	o->sample_rate = f->sample_rate;
	o->channels = f->ch_layout.nb_channels;
	o->channel_layout = f->ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? f->ch_layout.u.mask : 0;
	o->tb_num = 1;
	o->tb_den = f->sample_rate;
	o->duration_us = s_expected_us(r);
	o->slot_size = vhs_audio_slot_size(f->format, o->channels, VHS_AUDIO_SLOT_SAMPLES);
}

/* Decodes with r until the first video frame and the first audio frame are known. */
static int s_probe_formats(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r)
{
	AVFrame *v = NULL, *a = NULL;
	int ret = 0;

	while (!r->eof && p->probed < PROBE_MAX && (!p->first[0] || (r->a.dec && !p->first[1]))) {
		ret = s_step(ctx, p, r, 0);
		if (ret < 0)
			return ret;
		r->eof = ret == 1;
	}
	v = p->first[0];
	a = p->first[1];
	if (!v)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': no video frame could be decoded", p->path);
	if (a && a->ch_layout.nb_channels > VHS_MAX_CHANNELS)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': %d audio channels; at most %d are supported",
				p->path, a->ch_layout.nb_channels, VHS_MAX_CHANNELS);
	s_video_format(r, v, &p->out[0]);
	if (!p->out[0].slot_size)
		return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': pixel format %s is not supported", p->path,
				av_get_pix_fmt_name(v->format));
	if (a)
		s_audio_format(r, a, &p->out[1]);
	else if (r->a.dec)
		vhs_warn(ctx, "'%s': the audio stream has no decodable audio; the output will have no audio track", p->path);
	return 0;
}

/* run.frames = N: the input ends half a frame before frame N (the end of the segment that
 * reaches it, which is the last); the edges' durations say so. */
static void s_limit_setup(struct vhs_ctx *ctx, struct decode_priv *p)
{
	long long n = vhs_setting_int(ctx, VHS_SET_RUN_FRAMES);
	AVRational half = { p->frame_rate.den, 2 * p->frame_rate.num };
	int64_t us;

	p->limit = VHS_SEG_OPEN_END;
	if (n <= 0)
		return;
	p->limit = p->first_pts + av_rescale_q(2 * n - 1, half, p->vtb);
	us = av_rescale_q(n, av_inv_q(p->frame_rate), AV_TIME_BASE_Q);
	for (int i = 0; i < 2; i++)
		if (p->out[i].duration_us < 0 || p->out[i].duration_us > us)
			p->out[i].duration_us = us;
}

/* The segment geometry, from the first frame, the input r probed and the settings. */
static int s_segment_setup(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r)
{
	AVRational tb = r->v.st->time_base, fr = av_guess_frame_rate(r->fmt, r->v.st, NULL);
	AVFrame *v = p->first[0];
	char secs[64];
	double seconds = 10;

	if (vhs_setting(ctx, VHS_SET_RUN_SEGMENT_SECONDS, secs, sizeof(secs)) >= 0)
		seconds = atof(secs);
	p->vtb = tb;
	p->first_pts = v->pts != AV_NOPTS_VALUE ? v->pts : 0;
	p->seg_len = seconds > 0 ? llrint(seconds * tb.den / tb.num) : 0;
	p->frame_rate = fr.num > 0 && fr.den > 0 ? fr : (AVRational){ 25, 1 };
	p->audio_reach = av_rescale_q(vhs_setting_int(ctx, VHS_SET_SEGMENT_AUDIO_REACH_MS),
				      (AVRational){ 1, 1000 }, tb);
	p->second = av_rescale_q(1, (AVRational){ 1, 1 }, tb);
	s_limit_setup(ctx, p);
	return 0;
}

/* The worker's shape: how many threads each decoder may use (a pool of workers shares the
 * machine's cores), and room for the readers; how many of them are used (the segments it
 * makes at once) the orchestrator says when the stage runs (vhs_worker_segments). */
static int s_worker_setup(struct vhs_ctx *ctx, struct decode_priv *p)
{
	long long threads = vhs_setting_int(ctx, VHS_SET_WORKER_THREADS);

	if (threads < 0 || threads > INT_MAX)
		return vhs_fail(ctx, VHS_ERR_CONFIG, "worker.threads is %lld; it must be 0 (auto) or more",
				threads);
	p->readers = calloc(READERS_MAX, sizeof(*p->readers));
	if (!p->readers)
		return -ENOMEM;
	p->threads = (int)threads;
	for (int i = 0; i < READERS_MAX; i++) {
		p->readers[i].v.index = p->readers[i].a.index = -1;
		p->readers[i].last_pkt_ts = AV_NOPTS_VALUE;
		p->readers[i].a_next = AV_NOPTS_VALUE;
	}
	return 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	struct decode_priv *p = vhs_priv(ctx);
	int ret;

	vhs_av_log_setup();
	if (!p->path[0])
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no input in the job");
	ret = s_worker_setup(ctx, p);
	if (ret)
		return ret;
	p->pkt = av_packet_alloc();
	p->frame = av_frame_alloc();
	if (!p->pkt || !p->frame)
		return -ENOMEM;
	ret = s_open_input(ctx, p, &p->readers[0]);
	if (!ret)
		ret = s_probe_formats(ctx, p, &p->readers[0]);
	if (ret)
		return ret;
	vhs_set_outputs(ctx, p->out[1].media ? 2 : 1, p->out);
	return s_segment_setup(ctx, p, &p->readers[0]);
}

/* Says how much of the programme was lost when the input ended early or was damaged;
 * r has just made the last segment, so its video decoder saw the end. */
static void s_report_damage(struct vhs_ctx *ctx, struct decode_priv *p, const struct reader *r)
{
	int64_t expect = s_expected_us(r);
	int64_t got = r->v.last_end_us;
	double fps = av_q2d(av_guess_frame_rate(r->fmt, r->v.st, NULL));
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

/* The very beginning: r's input opened afresh, exactly as a one-pass command reads it (a
 * seek to the start can land past the first audio packets of some containers). */
static int s_reopen(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r)
{
	s_close_input(r);
	r->eof = 0;
	r->a_next = AV_NOPTS_VALUE;
	return s_open_input(ctx, p, r);
}

/* Positions r's demuxer so that the next packets start at or before the video time t
 * (VHS_SEG_OPEN_START: the very beginning, by opening the input again). A seek that lands
 * after t is retried further back, down to the beginning, so the result never depends on
 * a demuxer's seek accuracy. */
static int s_seek(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r, int64_t t)
{
	int64_t target = t, step = p->seg_len > 0 ? p->seg_len : p->second;
	int ret;

	for (;;) {
		int64_t first = AV_NOPTS_VALUE;

		if (target == VHS_SEG_OPEN_START || target <= p->first_pts)
			return s_reopen(ctx, p, r);
		ret = av_seek_frame(r->fmt, r->v.index, target, AVSEEK_FLAG_BACKWARD);
		r->a_next = AV_NOPTS_VALUE;
		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_INPUT, "'%s' cannot be seeked (%s); it cannot be cut into "
					"segments: set [run] segment_seconds = 0", p->path, vhs_av_err(ret));
		while ((ret = av_read_frame(r->fmt, p->pkt)) >= 0) {
			int video = p->pkt->stream_index == r->v.index;

			first = s_pkt_ts(p->pkt);
			av_packet_unref(p->pkt);
			if (video)
				break;
		}
		if (ret >= 0 && first != AV_NOPTS_VALUE && first <= t) {
			ret = av_seek_frame(r->fmt, r->v.index, target, AVSEEK_FLAG_BACKWARD);
			if (ret < 0)
				return vhs_fail(ctx, VHS_ERR_INPUT, "'%s': seek failed: %s", p->path, vhs_av_err(ret));
			break;
		}
		target = target - step > p->first_pts ? target - step : VHS_SEG_OPEN_START;
	}
	r->eof = 0;
	return 0;
}

/* B(k): where segment k starts, or VHS_SEG_OPEN_END when the input ends before it. Found
 * with r's demuxer (which is left anywhere) unless already known: B(k) is a property of
 * the input, the same whichever reader finds it. */
static int s_boundary(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r, uint32_t k,
		      int64_t *b)
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
	if (p->bounds[k % BOUNDS_CACHED].k == k) {
		*b = p->bounds[k % BOUNDS_CACHED].b;
		return 0;
	}
	t = p->first_pts + (int64_t)k * p->seg_len;
	ret = s_seek(ctx, p, r, t);
	if (ret)
		return ret;
	*b = VHS_SEG_OPEN_END;
	while ((ret = av_read_frame(r->fmt, p->pkt)) >= 0) {
		int64_t ts = s_pkt_ts(p->pkt);
		int key = p->pkt->stream_index == r->v.index && (p->pkt->flags & AV_PKT_FLAG_KEY);

		av_packet_unref(p->pkt);
		if (key && ts != AV_NOPTS_VALUE && ts >= t) {
			*b = ts;
			break;
		}
	}
	p->bounds[k % BOUNDS_CACHED].k = k;
	p->bounds[k % BOUNDS_CACHED].b = *b;
	return 0;
}

/* n frames in the video time base, plus half a frame: container time stamps are rounded
 * (Matroska: to the millisecond), and the half frame keeps the n-th neighbour inside the
 * window without taking the next one. 0 for n = 0. */
static int64_t s_frames(const struct decode_priv *p, int n)
{
	AVRational half = { p->frame_rate.den, 2 * p->frame_rate.num };

	return n > 0 ? av_rescale_q(2 * (int64_t)n + 1, half, p->vtb) : 0;
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

/* Segment k lies past the end of the input: there is no such segment. */
static int s_send_none(struct vhs_ctx *ctx, uint32_t k)
{
	struct vhs_segment none = { .phase = VHS_SEG_NONE, .index = k };

	return vhs_send_segment(ctx, &none);
}

/* Sets the window of r's segment from its bounds. Returns where reading must start: a
 * second before the earliest frame the window wants. */
static int64_t s_set_window(const struct decode_priv *p, struct reader *r)
{
	struct window *w = &r->win;

	w->v_lo = s_before(r->seg.start, s_frames(p, p->warmup));
	w->v_hi = s_after(r->seg.end, s_frames(p, p->lookahead));
	w->a_lo = s_before(r->seg.start, p->audio_reach);
	w->a_hi = s_after(r->seg.end, p->audio_reach);
	w->v_done = w->a_done = 0;
	return s_before(w->v_lo < w->a_lo ? w->v_lo : w->a_lo, p->second);
}

/* Opens segment k on idle reader i: its bounds and window, the reader seeked to the
 * window's start, BEGIN on every port: returns 1. A segment past the end of the input is
 * answered with NONE instead: returns 0 (vhs_make_segments' begin). */
static int s_begin_segment(struct vhs_ctx *ctx, int i, uint32_t k)
{
	struct decode_priv *p = vhs_priv(ctx);
	struct reader *r = &p->readers[i];
	struct vhs_segment *seg = &r->seg;
	int ret = r->fmt ? 0 : s_open_input(ctx, p, r); /* a reader's first segment */

	*seg = (struct vhs_segment){ .phase = VHS_SEG_BEGIN, .index = k,
				     .tb_num = p->vtb.num, .tb_den = p->vtb.den };
	if (!ret)
		ret = s_boundary(ctx, p, r, k, &seg->start); /* usually known: the end of k - 1 */
	if (ret)
		return ret;
	if (seg->start == VHS_SEG_OPEN_END || (seg->start != VHS_SEG_OPEN_START && seg->start >= p->limit))
		return s_send_none(ctx, k);
	ret = s_boundary(ctx, p, r, k + 1, &seg->end);
	if (ret)
		return ret;
	if (seg->end >= p->limit)
		seg->end = p->limit; /* run.frames: the input ends there */
	if (seg->end < seg->start)
		seg->end = seg->start; /* no keyframe in between: an empty segment */
	seg->flags = seg->end == p->limit ? VHS_SEG_LAST : 0;
	ret = s_seek(ctx, p, r, s_set_window(p, r));
	/* New decoders, not flushed ones: some keep state across avcodec_flush_buffers (AC-3's
	 * dither generator, AAC's noise substitution), and the segment's audio would then
	 * depend on what the reader decoded before: on the order of requests, on which reader
	 * got the segment, on a restart. */
	if (!ret)
		ret = s_open_decoders(ctx, p, r);
	if (ret)
		return ret;
	r->last_pkt_ts = AV_NOPTS_VALUE; /* nothing of this segment read yet */
	r->v_next = AV_NOPTS_VALUE;
	ret = s_marker(ctx, p, seg);
	return ret ? ret : 1;
}

/* True when r has read all its window needs: the input ended, or the video passed the
 * window and the audio did too (or, for audio that stopped before the window's end, the
 * file is a second past the window). */
static int s_window_done(const struct decode_priv *p, const struct reader *r)
{
	const struct window *w = &r->win;

	if (r->eof)
		return 1;
	if (!w->v_done)
		return 0;
	if (!p->out[1].media || w->a_done)
		return 1;
	return r->last_pkt_ts != AV_NOPTS_VALUE && w->a_hi != VHS_SEG_OPEN_END &&
	       r->last_pkt_ts > w->a_hi + p->second;
}

/* Ends r's segment: what its decoders still hold if the input ended, then END on every
 * port; r becomes idle, its input kept open for its next segment. */
static int s_end_segment(struct vhs_ctx *ctx, struct decode_priv *p, struct reader *r)
{
	int ret = 0;

	if (r->eof)
		ret = s_decode(ctx, p, r, &r->v, NULL, 1);
	if (!ret && r->eof && p->out[1].media)
		ret = s_decode(ctx, p, r, &r->a, NULL, 1);
	r->seg.phase = VHS_SEG_END;
	if (!ret)
		ret = s_marker(ctx, p, &r->seg);
	if (!ret && (r->seg.flags & VHS_SEG_LAST) && !p->damage_reported && p->limit == VHS_SEG_OPEN_END) {
		s_report_damage(ctx, p, r); /* once, though a replay makes the last segment again */
		p->damage_reported = 1;
	}
	return ret;
}

/* One step of reader i's segment: one packet read and decoded, its frames sent (returns
 * 1); END when the window is done (returns 0; vhs_make_segments' step). */
static int s_reader_step(struct vhs_ctx *ctx, int i)
{
	struct decode_priv *p = vhs_priv(ctx);
	struct reader *r = &p->readers[i];
	uint64_t sent = r->sent;
	int ret;

	do { /* packets that yield nothing (before the window) cost no turn */
		ret = s_step(ctx, p, r, 1);
		if (ret < 0)
			return ret;
		r->eof = ret == 1;
		if (s_window_done(p, r))
			return s_end_segment(ctx, p, r);
	} while (r->sent == sent);
	return vhs_stopping(ctx) ? -ECANCELED : 1;
}

/* Makes the requested segments, up to vhs_worker_segments() at once, in round robin. */
static int s_run(struct vhs_ctx *ctx)
{
	return vhs_make_segments(ctx, READERS_MAX, s_begin_segment, s_reader_step);
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct decode_priv *p = vhs_priv(ctx);

	av_frame_free(&p->first[0]);
	av_frame_free(&p->first[1]);
	for (int i = 0; p->readers && i < READERS_MAX; i++)
		s_close_input(&p->readers[i]);
	free(p->readers);
	p->readers = NULL;
	av_packet_free(&p->pkt);
	av_frame_free(&p->frame);
	av_frame_free(&p->conformed);
	sws_freeContext(p->sws);
	p->sws = NULL;
}

static const struct vhs_stage_option s_options[] = {
	VHS_OPTION(struct decode_priv, INPUT, STRING, path),
	VHS_OPTION(struct decode_priv, SEGMENT_WARMUP, INT, warmup),
	VHS_OPTION(struct decode_priv, SEGMENT_LOOKAHEAD, INT, lookahead),
};

const struct vhs_stage vhs_stage_decode = {
	.name = "decode",
	.priv_size = sizeof(struct decode_priv),
	VHS_OPTIONS(s_options),
	.init = s_init,
	.run = s_run,
	.uninit = s_uninit,
};

/* --analyze-audio FILE OUT, --analyze-video FILE OUT: the whole-track audio analysis
 * (analysis.h) or the whole-tape video analysis (video_analysis.h) into OUT; its summary (or
 * the error) on one line. Exit 0, 1, 4 or 5. */
static int s_analyze(const char *what, const char *path, const char *out)
{
	char msg[1024];
	int ret;

	vhs_av_log_quiet(); /* its stderr is the user's terminal */
	if (!strcmp(what, "--analyze-video"))
		ret = vhs_video_analyze_file(path, out, msg, sizeof(msg));
	else
		ret = vhs_audio_analyze_file(path, out, msg, sizeof(msg));
	printf("%s%s\n", ret ? "error: " : "", msg);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--probe"))
		return vhs_probe_print(argv[2]);
	if (argc == 4 && (!strcmp(argv[1], "--analyze-audio") || !strcmp(argv[1], "--analyze-video")))
		return s_analyze(argv[1], argv[2], argv[3]);
	return vhs_stage_main(&vhs_stage_decode, argc, argv);
}
