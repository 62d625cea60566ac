/* probe.h: a capture described for `vhs-orchestrate check`: `vhs-stage-decode --probe FILE`
 * prints one line for the container ("container: NAME, SECONDS s") and one per video or
 * audio stream ("video: CODEC WxH PIX_FMT N/D fps sar N:D", "audio: CODEC RATE Hz N channels
 * SAMPLE_FMT"), or one line "error: ..." when the file cannot be opened or has no video.
 * orchestrator/main.c reads them. */
#ifndef VHS_PROBE_H
#define VHS_PROBE_H

/* Prints the lines; returns 0, or 4 (the input's exit code) after an "error:" line. */
int vhs_probe_print(const char *path);

#endif
