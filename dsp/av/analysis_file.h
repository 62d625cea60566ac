/* analysis_file.h: what the whole-file analyses share (the audio's, dsp/audio/analyze_file.c;
 * the video's, dsp/video/analyze_video.c): the capture opened with only its one stream read
 * and that stream's decoder, errors as one line with the exit code the orchestrator passes
 * on, and the result written into the work dir through the temp writer. */
#ifndef VHS_ANALYSIS_FILE_H
#define VHS_ANALYSIS_FILE_H

#include <stddef.h>
#include <stdio.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

/* Exit codes, the orchestrator's (docs/operations.md). */
#define VHS_ANALYZE_INTERNAL 1
#define VHS_ANALYZE_INPUT 4
#define VHS_ANALYZE_OUTPUT 5
#define VHS_ANALYZE_NONE (-1) /* the capture has no stream of the kind: nothing to analyse */

struct vhs_analysis_input {
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVStream *st;            /* the stream analysed */
	AVPacket *pkt;
	AVFrame *frame;
};

/* Opens path with only its best stream of type read, and that stream's decoder. Returns 0,
 * VHS_ANALYZE_NONE, or an exit code with the reason in msg. vhs_analysis_close() after. */
int vhs_analysis_open(struct vhs_analysis_input *in, const char *path, enum AVMediaType type,
		      char *msg, size_t len);
void vhs_analysis_close(struct vhs_analysis_input *in);

/* msg = fmt with a (a string) and the text of the libav error averr (0: ""); returns code. */
int vhs_analysis_fail(char *msg, size_t len, int code, const char *fmt, const char *a, int averr);

/* Writes what write(res, f) prints to path through the temp writer. Returns 0, or an exit
 * code with the reason in msg. */
int vhs_analysis_save(const char *path, int (*write)(const void *res, FILE *f), const void *res,
		      char *msg, size_t len);

#endif
