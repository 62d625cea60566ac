/* files.h: the names of the files in a run's work dir, spelled here and nowhere else. The
 * orchestrator keeps the work dir (manifest, resume, tidying up); the encode stage writes the
 * segment files, the mux reads them, the decode stage writes the audio analysis.
 *
 *   manifest.toml     the resume journal (orchestrator/manifest.h)
 *   audio.analysis    the whole-track audio analysis, made once a run (dsp/audio/analysis.h)
 *   video.analysis    the whole-tape video analysis, made once a run (dsp/video/video_analysis.h)
 *   v000042.vseg      segment 42's video: a closed-GOP file of its own (runtime/segfile.h),
 *                     or with FFMPEG=0 a y4m stream (runtime/y4mstage.h)
 *   a000042.pcm       segment 42's audio spool (runtime/spool.h)
 */
#ifndef VHS_FILES_H
#define VHS_FILES_H

#include <stdio.h>

#define VHS_FILE_MANIFEST "manifest.toml"
#define VHS_FILE_ANALYSIS "audio.analysis"
#define VHS_FILE_VIDEO_ANALYSIS "video.analysis"

enum vhs_segment_file { VHS_SEGMENT_VIDEO, VHS_SEGMENT_AUDIO };

/* The name of segment index's file of kind, in buf (as snprintf). */
static inline int vhs_segment_file_name(char *buf, size_t len, enum vhs_segment_file kind,
					unsigned index)
{
	return snprintf(buf, len, kind == VHS_SEGMENT_VIDEO ? "v%06u.vseg" : "a%06u.pcm", index);
}

/* dir/name of segment index's file of kind, in buf (as snprintf). */
static inline int vhs_segment_file_path(char *buf, size_t len, const char *dir,
					enum vhs_segment_file kind, unsigned index)
{
	return snprintf(buf, len, kind == VHS_SEGMENT_VIDEO ? "%s/v%06u.vseg" : "%s/a%06u.pcm", dir,
			index);
}

#endif
