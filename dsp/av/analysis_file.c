/* analysis_file.c: what the whole-file analyses share (see analysis_file.h). */
#include "analysis_file.h"

#include <stdlib.h>
#include <string.h>

#include "tempfile.h"

int vhs_analysis_fail(char *msg, size_t len, int code, const char *fmt, const char *a, int averr)
{
	char why[AV_ERROR_MAX_STRING_SIZE] = "";

	if (averr)
		av_strerror(averr, why, sizeof(why));
	snprintf(msg, len, fmt, a, why);
	return code;
}

int vhs_analysis_open(struct vhs_analysis_input *in, const char *path, enum AVMediaType type,
		      char *msg, size_t len)
{
	const AVCodec *codec = NULL;
	char what[64];
	int ret = avformat_open_input(&in->fmt, path, NULL, NULL), stream;

	if (ret >= 0)
		ret = avformat_find_stream_info(in->fmt, NULL);
	if (ret < 0)
		return vhs_analysis_fail(msg, len, VHS_ANALYZE_INPUT, "cannot open '%s': %s", path, ret);
	stream = av_find_best_stream(in->fmt, type, -1, -1, &codec, 0);
	if (stream < 0)
		return VHS_ANALYZE_NONE;
	for (unsigned i = 0; i < in->fmt->nb_streams; i++) /* only the one stream is read */
		in->fmt->streams[i]->discard = (int)i == stream ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
	in->st = in->fmt->streams[stream];
	in->dec = avcodec_alloc_context3(codec);
	if (!in->dec)
		return VHS_ANALYZE_INTERNAL;
	ret = avcodec_parameters_to_context(in->dec, in->st->codecpar);
	if (ret >= 0)
		ret = avcodec_open2(in->dec, codec, NULL);
	snprintf(what, sizeof(what), "'%%s': cannot open the %s decoder: %%s", av_get_media_type_string(type));
	if (ret < 0)
		return vhs_analysis_fail(msg, len, VHS_ANALYZE_INPUT, what, path, ret);
	in->pkt = av_packet_alloc();
	in->frame = av_frame_alloc();
	return in->pkt && in->frame ? 0 : VHS_ANALYZE_INTERNAL;
}

void vhs_analysis_close(struct vhs_analysis_input *in)
{
	av_frame_free(&in->frame);
	av_packet_free(&in->pkt);
	avcodec_free_context(&in->dec);
	avformat_close_input(&in->fmt);
	in->st = NULL;
}

int vhs_analysis_save(const char *path, int (*write)(const void *res, FILE *f), const void *res,
		      char *msg, size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int ret;

	if (!f)
		return VHS_ANALYZE_INTERNAL;
	ret = write(res, f);
	if (fclose(f) || ret) {
		free(text);
		return VHS_ANALYZE_INTERNAL;
	}
	ret = vhs_tempfile_put_path(path, text, size);
	free(text);
	if (ret) {
		snprintf(msg, len, "cannot write '%s': %s", path, strerror(-ret));
		return VHS_ANALYZE_OUTPUT;
	}
	return 0;
}
