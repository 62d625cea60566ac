/* probe.c: a capture described for `vhs-orchestrate check` (see probe.h). */
#include "probe.h"

#include <stdio.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>

#include "avslot.h"

int vhs_probe_print(const char *path)
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
