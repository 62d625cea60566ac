/* analyze_file.h: the whole-track audio analysis of a capture file, written to the work dir
 * (`vhs-stage-decode --analyze-audio INPUT OUT`; see analysis.h). */
#ifndef VHS_AUDIO_ANALYZE_FILE_H
#define VHS_AUDIO_ANALYZE_FILE_H

#include <stddef.h>

#include "analysis_file.h" /* the exit codes: VHS_ANALYZE_INTERNAL, _INPUT, _OUTPUT */

/* Decodes INPUT's audio, analyses it and writes the result to PATH (through the temp
 * writer). Returns 0 with a one-line description of the result in msg ("none: ..." and no
 * file when the capture has no decodable audio), or an exit code above with the reason. */
int vhs_audio_analyze_file(const char *input, const char *path, char *msg, size_t len);

#endif
