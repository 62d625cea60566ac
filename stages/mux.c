/* mux.c: the mux stage: joins the finished segments into the output. It runs alone, after
 * every segment of the job is in the work dir (possibly made by several runs, attempts or
 * workers), and writes OUTPUT.part; the orchestrator renames it to OUTPUT.
 *
 * DESIGN
 * Video: the packets of v000000.vseg, v000001.vseg, ... (segfile.h) are copied as they are; their
 * timestamps are the capture's own timeline, so they continue across segments by
 * construction. The output stream takes its codec parameters (extradata included) from
 * the first segment; every segment must match them.
 * Audio: the spools a000000.pcm, ... hold the enhanced samples back to back, cut at the
 * same instants as the video; they are encoded here in one pass (the encoder sees one
 * continuous signal, no priming or padding at segment seams), with timestamps continuing
 * from the first sample. Audio is written interleaved with the video by time.
 * Loudness ([audio] loudness, loudness.h): before anything is written, the spools are read
 * as one programme to measure it and find the gain; then, on the way to the encoder, every
 * sample goes through that gain and one true-peak limiter (limiter.h), whose delay is
 * made up at the end. The spools are float then; an encoder that takes no float (FLAC,
 * PCM) gets its closest format through libswresample, after the limiter.
 * The file is fsynced before DONE.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libswresample/swresample.h>

#include "encoder.h"
#include "files.h"
#include "avslot.h"
#include "limiter.h"
#include "loudness.h"
#include "segfile.h"
#include "spool.h"

#define READ_SAMPLES 4096

struct mux_priv {
	char dir[4096], output[4096], part[4200];
	long long count;           /* segments */
	long long frames_expected; /* video frames in all segments */
	AVFormatContext *oc;
	AVStream *vst, *ast;
	AVRational seg_tb;         /* time base of the segment files' video */
	AVCodecContext *aenc;
	AVAudioFifo *fifo;
	AVFrame *chunk;
	AVPacket *pkt;             /* video, read from the segments */
	AVPacket *apkt;            /* audio, from the encoder */
	struct vhs_spool_header ah;/* format of the spools */
	FILE *spool;               /* the segment's spool being read */
	uint8_t *raw;              /* read buffer */
	int64_t next_pts;          /* audio: pts of the next sample into the encoder */
	bool have_pts;
	uint64_t frames;           /* video packets written */
	SwrContext *swr;           /* spool format -> encoder format, when they differ */
	AVFrame *conv;             /* its output */
	struct vhs_limiter *lim;   /* the loudness pass's gain and limiter, or NULL */
	AVFrame *limited;          /* the limiter's output */
	long long prog_k;          /* programme reader (the loudness plan): the spool open */
	FILE *prog;                /* and its file */
	struct trial *trial;       /* during a trial encoding: where its packets go */
};

/* A trial encoding of the loudness pass (s_trial): its packets decoded and metered. */
struct trial {
	AVCodecContext *dec;
	SwrContext *swr;           /* decoded format -> float planar, when it is not that */
	AVFrame *frame, *flt;
	struct vhs_loudness_meter *meter;
};

static void s_path(const struct mux_priv *p, char *buf, size_t n, char kind, long long k)
{
	vhs_segment_file_path(buf, n, p->dir, kind == 'v' ? VHS_SEGMENT_VIDEO : VHS_SEGMENT_AUDIO,
			      (unsigned)k);
}

static int s_open_segment(struct vhs_ctx *ctx, struct mux_priv *p, long long k, struct vhs_segfile *in)
{
	char path[4200];
	int ret;

	s_path(p, path, sizeof(path), 'v', k);
	ret = vhs_segfile_open(in, path);
	if (ret)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "segment file '%s' is missing or damaged: %s", path,
				strerror(-ret));
	return 0;
}

static int s_open_spool(struct vhs_ctx *ctx, struct mux_priv *p, long long k, struct vhs_spool_header *h)
{
	uint8_t raw[VHS_SPOOL_HEADER];
	char path[4200];

	s_path(p, path, sizeof(path), 'a', k);
	p->spool = fopen(path, "rb");
	if (!p->spool || fread(raw, 1, sizeof(raw), p->spool) != sizeof(raw) ||
	    vhs_spool_header_unpack(h, raw))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "audio spool '%s' is missing or damaged", path);
	return 0;
}

static int s_open_audio(struct vhs_ctx *ctx, struct mux_priv *p)
{
	int ret = vhs_open_audio_encoder(ctx, p->ah.fmt, p->ah.rate, p->ah.channels, p->ah.layout,
					 p->oc->oformat->flags & AVFMT_GLOBALHEADER, &p->aenc);

	if (ret)
		return ret;
	if (p->aenc->sample_fmt != p->ah.fmt) {
		ret = swr_alloc_set_opts2(&p->swr, &p->aenc->ch_layout, p->aenc->sample_fmt,
					  p->ah.rate, &p->aenc->ch_layout, p->ah.fmt, p->ah.rate, 0, NULL);
		if (ret < 0 || (ret = swr_init(p->swr)) < 0)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot convert %s to %s for the audio "
					"encoder: %s", av_get_sample_fmt_name(p->ah.fmt),
					av_get_sample_fmt_name(p->aenc->sample_fmt), vhs_av_err(ret));
	}
	p->fifo = av_audio_fifo_alloc(p->aenc->sample_fmt, p->aenc->ch_layout.nb_channels, 2 * READ_SAMPLES);
	p->raw = malloc((size_t)READ_SAMPLES * (size_t)p->ah.channels *
			(size_t)av_get_bytes_per_sample(p->ah.fmt));
	p->ast = avformat_new_stream(p->oc, NULL);
	if (!p->fifo || !p->raw || !p->ast)
		return -ENOMEM;
	p->ast->time_base = p->aenc->time_base;
	return avcodec_parameters_from_context(p->ast->codecpar, p->aenc);
}

/* The output, with the video stream of segment 0 and the audio encoder. */
static int s_open_output(struct vhs_ctx *ctx, struct mux_priv *p)
{
	struct vhs_segfile first = { 0 };
	bool audio = vhs_setting_int(ctx, VHS_SET_SEGMENT_AUDIO) != 0;
	int ret = s_open_segment(ctx, p, 0, &first);

	if (ret)
		goto out;
	ret = avformat_alloc_output_context2(&p->oc, NULL, NULL, p->output);
	if (ret < 0) {
		ret = vhs_fail(ctx, VHS_ERR_OUTPUT, "'%s': unsupported output format (use .mkv or .mp4)", p->output);
		goto out;
	}
	p->vst = avformat_new_stream(p->oc, NULL);
	if (!p->vst) {
		ret = -ENOMEM;
		goto out;
	}
	p->seg_tb = first.tb;
	avcodec_parameters_copy(p->vst->codecpar, first.par);
	p->vst->codecpar->codec_tag = 0;
	p->vst->time_base = p->seg_tb;
	p->vst->sample_aspect_ratio = first.par->sample_aspect_ratio;
	if (audio) {
		ret = s_open_spool(ctx, p, 0, &p->ah);
		if (p->spool)
			fclose(p->spool);
		p->spool = NULL;
		if (!ret)
			ret = s_open_audio(ctx, p);
		if (ret)
			goto out;
	}
	ret = avio_open(&p->oc->pb, p->part, AVIO_FLAG_WRITE);
	if (ret < 0) {
		ret = vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot create '%s': %s", p->part, vhs_av_err(ret));
		goto out;
	}
	ret = avformat_write_header(p->oc, NULL);
	if (ret < 0)
		ret = vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write '%s': %s", p->part, vhs_av_err(ret));
	else
		ret = 0;
out:
	vhs_segfile_close(&first);
	return ret;
}

static int s_write(struct vhs_ctx *ctx, struct mux_priv *p, AVPacket *pkt)
{
	int ret = av_interleaved_write_frame(p->oc, pkt);

	/* the file system's refusals (full, read-only, gone) can be mended and the mux run again;
	 * the muxer's refusal of a packet would come again: a bug of ours, not for --resume */
	if (ret == AVERROR(EINVAL) || ret == AVERROR_INVALIDDATA || ret == AVERROR_BUG)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "the muxer refused a packet for '%s' (%s): this is a bug, "
				"please report it with this log", p->part, vhs_av_err(ret));
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot write '%s': %s", p->part, vhs_av_err(ret));
	return 0;
}

/* An audio packet from the encoder into the output. */
static int s_trial_packet(struct vhs_ctx *ctx, struct trial *t, AVPacket *pkt);

static int s_audio_packet(struct vhs_ctx *ctx, void *opaque, AVPacket *pkt)
{
	struct mux_priv *p = opaque;

	if (p->trial)
		return s_trial_packet(ctx, p->trial, pkt);
	av_packet_rescale_ts(pkt, p->aenc->time_base, p->ast->time_base);
	pkt->stream_index = p->ast->index;
	return s_write(ctx, p, pkt);
}

/* Encodes one chunk (NULL: flush) and writes what comes out. */
static int s_encode_audio(struct vhs_ctx *ctx, struct mux_priv *p, AVFrame *f)
{
	return vhs_encode(ctx, p->aenc, f, p->apkt, s_audio_packet, p);
}

/* Encodes whole encoder frames from the fifo; with flush, also the short last one. */
static int s_audio_drain(struct vhs_ctx *ctx, struct mux_priv *p, int flush)
{
	AVCodecContext *c = p->aenc;
	int want = c->frame_size > 0 && !(c->codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE)
			   ? c->frame_size : av_audio_fifo_size(p->fifo);
	int ret = 0;

	while (!ret && want > 0 && (av_audio_fifo_size(p->fifo) >= want ||
				    (flush && av_audio_fifo_size(p->fifo) > 0))) {
		int nb = FFMIN(want, av_audio_fifo_size(p->fifo));

		av_frame_unref(p->chunk);
		p->chunk->nb_samples = nb;
		p->chunk->format = c->sample_fmt;
		p->chunk->sample_rate = c->sample_rate;
		av_channel_layout_copy(&p->chunk->ch_layout, &c->ch_layout);
		ret = av_frame_get_buffer(p->chunk, 0);
		if (ret < 0)
			return ret;
		av_audio_fifo_read(p->fifo, (void **)p->chunk->data, nb);
		p->chunk->pts = p->next_pts;
		p->next_pts += nb;
		ret = s_encode_audio(ctx, p, p->chunk);
	}
	return ret;
}

/* Samples in the spool's format into the fifo, in the encoder's format. */
static int s_to_fifo(struct vhs_ctx *ctx, struct mux_priv *p, AVFrame *f)
{
	int ret;

	if (p->swr) {
		av_frame_unref(p->conv);
		p->conv->format = p->aenc->sample_fmt;
		p->conv->sample_rate = p->ah.rate;
		ret = av_channel_layout_copy(&p->conv->ch_layout, &p->aenc->ch_layout);
		if (ret >= 0)
			ret = swr_convert_frame(p->swr, p->conv, f);
		if (ret < 0)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "converting the audio failed: %s", vhs_av_err(ret));
		f = p->conv;
	}
	ret = av_audio_fifo_write(p->fifo, (void **)f->extended_data, f->nb_samples);
	return ret < 0 ? ret : s_audio_drain(ctx, p, 0);
}

/* A chunk read from a spool (NULL with flush: the end) on its way to the encoder: through
 * the loudness pass's limiter when there is one, converted, into the fifo. */
static int s_audio_chunk(struct vhs_ctx *ctx, struct mux_priv *p, AVFrame *f, int flush)
{
	AVFrame *l = p->limited;
	int n, ret;

	if (!p->lim)
		return f ? s_to_fifo(ctx, p, f) : 0;
	if (f && (ret = vhs_limiter_push(p->lim, (const float *const *)f->extended_data, f->nb_samples)))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "the limiter failed: %s", strerror(-ret));
	for (;;) {
		av_frame_unref(l);
		l->format = AV_SAMPLE_FMT_FLTP;
		l->sample_rate = p->ah.rate;
		l->nb_samples = READ_SAMPLES;
		ret = av_channel_layout_copy(&l->ch_layout, &p->aenc->ch_layout);
		if (ret >= 0)
			ret = av_frame_get_buffer(l, 0);
		if (ret < 0)
			return ret;
		n = vhs_limiter_pull(p->lim, (float *const *)l->extended_data, READ_SAMPLES, flush);
		if (n <= 0)
			return n < 0 ? vhs_fail(ctx, VHS_ERR_INTERNAL, "the limiter failed: %s", strerror(-n)) : 0;
		l->nb_samples = n;
		ret = s_to_fifo(ctx, p, l);
		if (ret)
			return ret;
	}
}

/* Feeds the open spool to the encoder until the audio reaches video time t (in the
 * segment time base), or to its end when t is INT64_MAX. */
static int s_audio_until(struct vhs_ctx *ctx, struct mux_priv *p, int64_t t)
{
	size_t frame = (size_t)p->ah.channels * (size_t)av_get_bytes_per_sample(p->ah.fmt);
	uint8_t *planes[64];
	AVFrame *tmp;
	int ret = 0;

	if (!p->spool)
		return 0;
	tmp = av_frame_alloc();
	if (!tmp)
		return -ENOMEM;
	while (!ret && (t == INT64_MAX || av_compare_ts(p->next_pts + av_audio_fifo_size(p->fifo),
							 p->aenc->time_base, t, p->seg_tb) < 0)) {
		size_t n = fread(p->raw, frame, READ_SAMPLES, p->spool);

		if (!n) {
			ret = ferror(p->spool) ? vhs_fail(ctx, VHS_ERR_INTERNAL, "reading an audio spool failed") : 0;
			fclose(p->spool);
			p->spool = NULL;
			break;
		}
		tmp->nb_samples = (int)n;
		tmp->format = p->ah.fmt;
		tmp->sample_rate = p->ah.rate;
		av_channel_layout_copy(&tmp->ch_layout, &p->aenc->ch_layout);
		ret = av_frame_get_buffer(tmp, 0);
		if (ret < 0)
			break;
		for (int c = 0; c < p->ah.channels && c < 64; c++)
			planes[c] = tmp->extended_data[av_sample_fmt_is_planar(p->ah.fmt) ? c : 0];
		vhs_spool_split(planes, p->raw, p->ah.fmt, p->ah.channels, (int)n);
		ret = s_audio_chunk(ctx, p, tmp, 0);
		av_frame_unref(tmp);
	}
	av_frame_free(&tmp);
	return ret;
}

/* Copies segment k's video packets, with its audio interleaved by time. */
static int s_segment(struct vhs_ctx *ctx, struct mux_priv *p, long long k)
{
	struct vhs_segfile in = { 0 };
	struct vhs_spool_header h;
	int ret = s_open_segment(ctx, p, k, &in);

	if (!ret && av_cmp_q(in.tb, p->seg_tb))
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %lld has another time base", k);
	if (!ret && p->aenc) {
		ret = s_open_spool(ctx, p, k, &h);
		if (!ret && (h.fmt != p->ah.fmt || h.rate != p->ah.rate || h.channels != p->ah.channels))
			ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %lld has another audio format", k);
		if (!ret && !p->have_pts && h.pts != INT64_MIN) {
			p->next_pts = h.pts; /* the first sample's time; the rest follows on */
			p->have_pts = true;
		}
	}
	while (!ret && (ret = vhs_segfile_read(&in, p->pkt)) >= 0) {
		if (p->aenc && p->pkt->pts != AV_NOPTS_VALUE)
			ret = s_audio_until(ctx, p, p->pkt->pts);
		p->pkt->stream_index = p->vst->index;
		av_packet_rescale_ts(p->pkt, p->seg_tb, p->vst->time_base);
		p->pkt->pos = -1;
		if (!ret)
			ret = s_write(ctx, p, p->pkt);
		av_packet_unref(p->pkt);
		p->frames++;
	}
	if (ret == AVERROR_EOF)
		ret = 0;
	else if (ret < 0 && ret != -EIO)
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "segment %lld: the file is damaged", k);
	if (!ret && p->aenc)
		ret = s_audio_until(ctx, p, INT64_MAX);
	if (p->spool)
		fclose(p->spool);
	p->spool = NULL;
	vhs_segfile_close(&in);
	return ret;
}

static int s_fsync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = fsync(fd) ? -errno : 0;
	close(fd);
	return ret;
}

/* ---- the loudness pass ---- */

/* The programme reader (loudness.h) over the spools, in order. */
static int s_prog_rewind(void *arg)
{
	struct mux_priv *p = arg;

	if (p->prog)
		fclose(p->prog);
	p->prog = NULL;
	p->prog_k = -1;
	return 0;
}

static int s_prog_read(void *arg, float *const *planes, int max)
{
	struct mux_priv *p = arg;
	size_t frame = (size_t)p->ah.channels * sizeof(float), n = 0;
	uint8_t raw[VHS_SPOOL_HEADER];
	char path[4200];

	while (!n) {
		if (p->prog)
			n = fread(p->raw, frame, (size_t)(max < READ_SAMPLES ? max : READ_SAMPLES), p->prog);
		if (n)
			break;
		if (p->prog && ferror(p->prog))
			return -EIO;
		if (p->prog)
			fclose(p->prog);
		p->prog = NULL;
		if (++p->prog_k >= p->count)
			return 0;
		s_path(p, path, sizeof(path), 'a', p->prog_k);
		p->prog = fopen(path, "rb");
		if (!p->prog || fread(raw, 1, sizeof(raw), p->prog) != sizeof(raw))
			return -EIO;
	}
	vhs_spool_split((uint8_t *const *)planes, p->raw, AV_SAMPLE_FMT_FLTP, p->ah.channels, (int)n);
	return (int)n;
}

/* ---- a lossy codec's overshoot ---- */

/* A decoded trial frame into the true-peak meter. */
static int s_trial_frame(struct trial *t, AVFrame *f)
{
	if (f->format != AV_SAMPLE_FMT_FLTP) {
		int ret = 0;

		if (!t->swr)
			ret = swr_alloc_set_opts2(&t->swr, &f->ch_layout, AV_SAMPLE_FMT_FLTP, f->sample_rate,
						  &f->ch_layout, f->format, f->sample_rate, 0, NULL);
		if (ret >= 0 && !swr_is_initialized(t->swr))
			ret = swr_init(t->swr);
		av_frame_unref(t->flt);
		t->flt->format = AV_SAMPLE_FMT_FLTP;
		t->flt->sample_rate = f->sample_rate;
		if (ret >= 0)
			ret = av_channel_layout_copy(&t->flt->ch_layout, &f->ch_layout);
		if (ret >= 0)
			ret = swr_convert_frame(t->swr, t->flt, f);
		if (ret < 0)
			return ret;
		f = t->flt;
	}
	return vhs_loudness_meter_push(t->meter, (const float *const *)f->extended_data, f->nb_samples);
}

/* A trial packet (NULL: the end) decoded, as a player would, into the meter. */
static int s_trial_packet(struct vhs_ctx *ctx, struct trial *t, AVPacket *pkt)
{
	int ret = avcodec_send_packet(t->dec, pkt);

	while (ret >= 0 && (ret = avcodec_receive_frame(t->dec, t->frame)) >= 0) {
		ret = s_trial_frame(t, t->frame);
		av_frame_unref(t->frame);
	}
	if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
		return 0;
	return vhs_fail(ctx, VHS_ERR_INTERNAL, "decoding the trial audio failed: %s", vhs_av_err(ret));
}

/* The programme through gain, limiter, conversion and a fresh encoder, as the real pass will
 * send it, decoded again: the true peak a player will see, in *tp. */
static int s_trial_run(struct vhs_ctx *ctx, struct mux_priv *p, AVFrame *f)
{
	int n, ret = s_prog_rewind(p);

	while (!ret && (n = s_prog_read(p, (float *const *)f->extended_data, READ_SAMPLES)) > 0) {
		f->nb_samples = n;
		ret = s_audio_chunk(ctx, p, f, 0);
		f->nb_samples = READ_SAMPLES;
	}
	if (!ret && n < 0)
		ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "reading an audio spool failed");
	if (!ret)
		ret = s_audio_chunk(ctx, p, NULL, 1);
	if (!ret)
		ret = s_audio_drain(ctx, p, 1);
	if (!ret)
		ret = s_encode_audio(ctx, p, NULL);
	if (!ret)
		ret = s_trial_packet(ctx, p->trial, NULL);
	return ret;
}

static int s_trial(struct vhs_ctx *ctx, struct mux_priv *p, double gain_db, double ceiling, double *tp)
{
	struct vhs_limiter_config cfg = { .rate = p->ah.rate, .channels = p->ah.channels, .gain_db = gain_db,
					  .ceiling_dbtp = ceiling, .release_ms = VHS_LOUDNESS_RELEASE_MS };
	AVCodecContext *real = p->aenc;
	struct trial t = { 0 };
	AVFrame *f = av_frame_alloc();
	double lufs;
	int ret = f ? 0 : -ENOMEM;

	p->aenc = NULL;
	if (!ret)
		ret = vhs_open_audio_encoder(ctx, p->ah.fmt, p->ah.rate, p->ah.channels, p->ah.layout, 0, &p->aenc);
	if (!ret) {
		const AVCodec *dc = avcodec_find_decoder(p->aenc->codec_id);

		t.dec = dc ? avcodec_alloc_context3(dc) : NULL;
		t.frame = av_frame_alloc();
		t.flt = av_frame_alloc();
		ret = t.dec && t.frame && t.flt ? 0 : -ENOMEM;
		if (!ret) {
			AVCodecParameters *par = avcodec_parameters_alloc();

			ret = par ? avcodec_parameters_from_context(par, p->aenc) : AVERROR(ENOMEM);
			if (ret >= 0)
				ret = avcodec_parameters_to_context(t.dec, par);
			avcodec_parameters_free(&par);
			if (ret >= 0)
				ret = avcodec_open2(t.dec, dc, NULL);
			if (ret < 0)
				ret = vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot decode %s for the true-peak trial: %s",
					       dc->name, vhs_av_err(ret));
		}
	}
	if (!ret)
		ret = vhs_loudness_meter_open_peak(&t.meter, p->ah.rate, p->ah.channels, p->ah.layout);
	if (!ret)
		ret = vhs_limiter_open(&p->lim, &cfg);
	if (!ret) {
		f->format = AV_SAMPLE_FMT_FLTP;
		f->sample_rate = p->ah.rate;
		f->nb_samples = READ_SAMPLES;
		ret = av_channel_layout_copy(&f->ch_layout, &real->ch_layout);
		if (ret >= 0)
			ret = av_frame_get_buffer(f, 0);
	}
	if (!ret) {
		p->trial = &t;
		p->next_pts = 0;
		ret = s_trial_run(ctx, p, f);
	}
	if (!ret)
		ret = vhs_loudness_meter_finish(t.meter, &lufs);
	*tp = t.meter ? vhs_loudness_meter_true_peak(t.meter) : 0;
	p->trial = NULL;
	av_audio_fifo_reset(p->fifo);
	vhs_limiter_close(&p->lim);
	avcodec_free_context(&p->aenc);
	p->aenc = real;
	vhs_loudness_meter_close(&t.meter);
	avcodec_free_context(&t.dec);
	swr_free(&t.swr);
	av_frame_free(&t.frame);
	av_frame_free(&t.flt);
	av_frame_free(&f);
	s_prog_rewind(p);
	return ret < 0 && ret != -EIO ? vhs_fail(ctx, VHS_ERR_INTERNAL, "the true-peak trial failed: %s",
						vhs_av_err(ret)) : ret;
}

static bool s_lossy(const AVCodecContext *c)
{
	const AVCodecDescriptor *d = avcodec_descriptor_get(c->codec_id);

	return d && (d->props & AV_CODEC_PROP_LOSSY);
}

/* Measures the programme, finds the gain, and opens the limiter the encoding runs through. */
static int s_loudness(struct vhs_ctx *ctx, struct mux_priv *p)
{
	double target = vhs_setting_double(ctx, VHS_SET_AUDIO_LOUDNESS);
	double ceiling = vhs_setting_double(ctx, VHS_SET_AUDIO_TRUE_PEAK);
	struct vhs_programme prog = { .rate = p->ah.rate, .channels = p->ah.channels,
				      .layout = p->ah.layout, .arg = p, .rewind = s_prog_rewind,
				      .read = s_prog_read };
	struct vhs_limiter_config cfg = { .rate = p->ah.rate, .channels = p->ah.channels,
					  .ceiling_dbtp = ceiling, .release_ms = VHS_LOUDNESS_RELEASE_MS };
	struct vhs_loudness_plan lp;
	double tp;
	int ret;

	if (target == 0 || !p->aenc)
		return 0;
	if (p->ah.fmt != AV_SAMPLE_FMT_FLTP)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "the loudness pass needs float spools, not %s",
				av_get_sample_fmt_name(p->ah.fmt));
	ret = vhs_loudness_plan(&prog, target, ceiling, &lp);
	s_prog_rewind(p);
	if (ret)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "measuring the loudness failed: %s", strerror(-ret));
	if (lp.silent) {
		vhs_note(ctx, "loudness: the audio is silent (%.1f LUFS); left as it is", lp.input_lufs);
		return 0;
	}
	if (lp.no_programme) {
		vhs_note(ctx, "loudness: no programme, only what is left of hum and hiss (%.1f LUFS): left quiet, "
			 "not raised %+.1f dB to %.1f LUFS", lp.input_lufs, target - lp.input_lufs, target);
		return 0;
	}
	/* a lossy codec rebuilds peaks higher than it was given them: its overshoot, measured on
	 * a trial encoding, comes off the limiter's ceiling */
	for (int i = 0; i < VHS_LOUDNESS_TRIALS && s_lossy(p->aenc); i++) {
		ret = s_trial(ctx, p, lp.gain_db, cfg.ceiling_dbtp, &tp);
		if (ret)
			return ret;
		vhs_note(ctx, "loudness: a trial %s encoding peaks at %.2f dBTP with the limiter at %.2f",
			 p->aenc->codec->name, tp, cfg.ceiling_dbtp);
		if (tp <= ceiling)
			break;
		cfg.ceiling_dbtp -= tp - ceiling + VHS_LOUDNESS_TRIAL_MARGIN;
		ret = vhs_loudness_plan(&prog, target, cfg.ceiling_dbtp, &lp);
		s_prog_rewind(p);
		if (ret)
			return vhs_fail(ctx, VHS_ERR_INTERNAL, "measuring the loudness failed: %s", strerror(-ret));
	}
	if (lp.capped)
		vhs_note(ctx, "loudness: a quiet programme (%.1f LUFS): raised by at most %+.0f dB, to %.1f LUFS, "
			 "not to %.1f (more would lift the tape's noise with it)", lp.input_lufs, VHS_LOUDNESS_MAX_GAIN,
			 lp.output_lufs, target);
	vhs_note(ctx, "loudness: %.1f LUFS, gain %+.2f dB, true-peak limiter at %.2f dBTP on %llu samples "
		 "(at most %.1f dB): %.2f LUFS (target %.1f, ceiling %.1f dBTP, %d passes)",
		 lp.input_lufs, lp.gain_db, cfg.ceiling_dbtp, (unsigned long long)lp.limited, lp.limited_db,
		 lp.output_lufs, target, ceiling, lp.passes);
	cfg.gain_db = lp.gain_db;
	ret = vhs_limiter_open(&p->lim, &cfg);
	return ret ? vhs_fail(ctx, VHS_ERR_INTERNAL, "cannot open the limiter: %s", strerror(-ret)) : 0;
}

static int s_run(struct vhs_ctx *ctx)
{
	struct mux_priv *p = vhs_priv(ctx);
	int ret = s_open_output(ctx, p);

	if (!ret)
		ret = s_loudness(ctx, p);

	for (long long k = 0; !ret && k < p->count; k++) {
		ret = s_segment(ctx, p, k);
		if (!ret && vhs_stopping(ctx))
			return -ECANCELED;
	}
	if (!ret && p->aenc)
		ret = s_audio_chunk(ctx, p, NULL, 1); /* what the limiter holds back */
	if (!ret && p->aenc)
		ret = s_audio_drain(ctx, p, 1);
	if (!ret && p->aenc)
		ret = s_encode_audio(ctx, p, NULL);
	if (ret)
		return ret;
	if ((long long)p->frames != p->frames_expected)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "the segments hold %llu video frames, the manifest "
				"says %lld", (unsigned long long)p->frames, p->frames_expected);
	ret = av_write_trailer(p->oc);
	if (ret >= 0)
		ret = avio_closep(&p->oc->pb);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot finish '%s': %s", p->part, vhs_av_err(ret));
	ret = s_fsync(p->part);
	if (ret < 0)
		return vhs_fail(ctx, VHS_ERR_OUTPUT, "cannot sync '%s': %s", p->part, strerror(-ret));
	return 0;
}

static int s_init(struct vhs_ctx *ctx)
{
	struct mux_priv *p = vhs_priv(ctx);

	vhs_av_log_setup();
	if (!p->output[0] || !p->dir[0])
		return vhs_fail(ctx, VHS_ERR_CONFIG, "no output or work dir in the settings");
	snprintf(p->part, sizeof(p->part), "%s.part", p->output);
	p->count = vhs_setting_int(ctx, VHS_SET_SEGMENT_COUNT);
	p->frames_expected = vhs_setting_int(ctx, VHS_SET_SEGMENT_FRAMES);
	if (p->count <= 0)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "nothing to mux (segment.count %lld)", p->count);
	p->pkt = av_packet_alloc();
	p->apkt = av_packet_alloc();
	p->chunk = av_frame_alloc();
	p->conv = av_frame_alloc();
	p->limited = av_frame_alloc();
	return p->pkt && p->apkt && p->chunk && p->conv && p->limited ? 0 : -ENOMEM;
}

static void s_uninit(struct vhs_ctx *ctx)
{
	struct mux_priv *p = vhs_priv(ctx);

	if (p->spool)
		fclose(p->spool);
	avcodec_free_context(&p->aenc);
	if (p->oc) {
		avio_closep(&p->oc->pb);
		avformat_free_context(p->oc);
	}
	av_audio_fifo_free(p->fifo);
	av_frame_free(&p->chunk);
	av_frame_free(&p->conv);
	av_frame_free(&p->limited);
	swr_free(&p->swr);
	vhs_limiter_close(&p->lim);
	if (p->prog)
		fclose(p->prog);
	av_packet_free(&p->pkt);
	av_packet_free(&p->apkt);
	free(p->raw);
}

static const struct vhs_stage_option s_options[] = {
	VHS_OPTION(struct mux_priv, OUTPUT, STRING, output),
	VHS_OPTION(struct mux_priv, SEGMENT_DIR, STRING, dir),
};

const struct vhs_stage vhs_stage_mux = {
	.name = "mux",
	.priv_size = sizeof(struct mux_priv),
	VHS_OPTIONS(s_options),
	.init = s_init,
	.run = s_run,
	.uninit = s_uninit,
};

int main(int argc, char **argv)
{
	return vhs_stage_main(&vhs_stage_mux, argc, argv);
}
