/* enhance.h: the tape audio enhancement of one segment, decided from the job's [audio]
 * switches and the whole-track analysis (analysis.h): a libavfilter chain, and the rows of
 * the noise profile the hiss reducer (hiss.h) runs with after it.
 *
 * DESIGN
 * In order, each only when switched on:
 *
 *   pan         channels: "mono" always, or "auto" when the analysis found one track on two
 *               channels (the mean of both) or a dead channel (the live one alone)
 *   adeclick    declick: libavfilter's autoregressive click detector and interpolator
 *               (window 55 ms, 75 % overlap, order 2: its defaults), at threshold
 *               VHS_DECLICK_THRESHOLD: its default 2 takes the attacks of music for clicks
 *               (-1.2 LU on the test music, tests/media/make_audio_tape.sh), 4 and more
 *               leave it alone and still find every tape click of the tests
 *   bandreject  hum: a notch at the mains fundamental and each harmonic up to the 8th below
 *               half the sample rate; "auto" takes mains and exact frequency from the
 *               analysis (none when it found no hum), 50 or 60 the nominal frequency. Each
 *               notch is two cascaded biquads (depth where one alone would be shallow when
 *               the line is a little off its centre) VHS_HUM_WIDTH_HZ wide, wider with the
 *               harmonic number (an error in the fundamental grows with it)
 *   (hiss)      the hiss reducer, after the graph, with the profile row of each output
 *               channel (a channel's own, or the mid channel's after a pan to mono)
 *
 * Declick comes first so that notches and the reducer do not smear clicks; the notches come
 * before the reducer, whose profile has the hum lines taken out (analysis.h). The chain
 * ends in an aformat: float planar when the hiss reducer or the loudness pass follows (the
 * mux converts to the encoder's sample format), else the encoder's formats.
 */
#ifndef VHS_AUDIO_ENHANCE_H
#define VHS_AUDIO_ENHANCE_H

#include <stddef.h>

#include "analysis.h"

#define VHS_HUM_WIDTH_HZ 4.0    /* width of the fundamental's notch */
#define VHS_DECLICK_THRESHOLD 6.0 /* adeclick's threshold (see above) */
#define VHS_ENHANCE_CHAIN_MAX 4096

/* The switches, as the job has them (orchestrator/job.h). */
struct vhs_enhance_opts {
	const char *hum;        /* auto | 50 | 60 | off */
	double hiss;            /* dB; 0 = off */
	int declick;
	const char *channels;   /* auto | keep | mono */
};

struct vhs_enhance {
	char chain[VHS_ENHANCE_CHAIN_MAX]; /* without the final aformat; "" = nothing */
	int out_channels;       /* after the chain */
	int mono;               /* 1: the chain pans to mono */
	double hum_hz;          /* notched fundamental; 0 = no notches */
	int profile_rows[VHS_ANALYSIS_MAX_CHANNELS]; /* analysis row per output channel */
};

/* Whether these switches need the analysis (hum auto, hiss, channels auto). */
int vhs_enhance_needs_analysis(const struct vhs_enhance_opts *o);

/* The enhancement for a track of in_channels channels at rate Hz. an may be NULL when
 * vhs_enhance_needs_analysis() is false. Returns 0, or -EINVAL with a reason in err. */
int vhs_enhance_plan(const struct vhs_enhance_opts *o, const struct vhs_audio_analysis *an,
		     int in_channels, int rate, struct vhs_enhance *e, char *err, size_t errlen);

#endif
