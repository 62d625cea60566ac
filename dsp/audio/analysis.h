/* analysis.h: one look at a tape's whole audio track before it is enhanced: the mains hum
 * (50 or 60 Hz, and its exact frequency), whether the two channels carry one track (linear
 * tape audio, a dead channel) or real stereo, and the noise profile of the quietest passages.
 *
 * DESIGN
 * Enhancement runs segment by segment, each segment in its own process and graph, so
 * anything that must be the same for the whole tape is decided once, here, and written to
 * the work dir (`audio.analysis`, named by the orchestrator: segment.audio_analysis in the
 * settings); every audio worker reads the same file, so a segment's
 * output stays a pure function of its input window and this file. The decode stage runs the
 * analysis (`vhs-stage-decode --analyze-audio`), decoding the track once, before the
 * pipeline starts; a resumed run reuses the file.
 *
 * The analyzer is streaming and keeps a bounded amount of state whatever the tape's length:
 *
 *   noise    the track in frames of VHS_HISS_FFT samples; the VHS_NOISE_FRAMES quietest
 *            frames above 1 kHz (hum and quiet low notes would rank a bit of music under a
 *            gap) that are not digital silence (mean square above -100 dBFS) are kept
 *            with their power spectra (the hiss meter's, per channel and for the mid
 *            channel (L+R)/2). Their mean is the noise profile. Tonal lines (hum, whistles)
 *            are taken out of the profile (a bin more than 6 dB over the median of its 17
 *            neighbours gets that median): the hum has its own notches, and a profile with
 *            hum lines in it would make the hiss reducer carve quiet programme out there.
 *            Where a hum was found, the lines up to the highest notched harmonic are too
 *            close for that (a 60 Hz series puts a line every 2.6 bins), and the bins up
 *            to there take the level of the bins just above the series.
 *   hum      frames of VHS_HUM_FFT samples (Hann window, 1.46 Hz bins at 48 kHz, up to
 *            1.1 kHz kept); of the VHS_HUM_FRAMES quietest the median per bin is taken (hum
 *            is in every frame, a voice's or a note's partials come and go). For 50 and
 *            60 Hz, harmonics 1..5 are compared with the median of the spectrum around them;
 *            a series counts when its lines agree on one fundamental (within 0.25 Hz) and
 *            two of them stand out by VHS_HUM_MIN_DB or the fundamental alone by twice
 *            that; the series that stands out more wins.
 *            The fundamental is refined from every harmonic that stands out (log-parabolic
 *            peak interpolation, weighted by harmonic number and prominence), so a
 *            59.94 Hz hum or a tape played a little fast gets notches where its lines are.
 *   channels the correlation and level balance of the first two channels over every frame
 *            that is not silence.
 */
#ifndef VHS_AUDIO_ANALYSIS_H
#define VHS_AUDIO_ANALYSIS_H

#include <stdio.h>

#include "hiss.h"

#define VHS_ANALYSIS_VERSION 1
#define VHS_ANALYSIS_MAX_CHANNELS 8
#define VHS_NOISE_FRAMES 64   /* quietest hiss frames averaged: 2.7 s at 48 kHz */
#define VHS_HUM_FFT 32768     /* hum frame, samples */
#define VHS_HUM_FRAMES 8      /* quietest hum frames averaged: 5.5 s at 48 kHz */
#define VHS_HUM_MIN_DB 10.0   /* a mains is found when a harmonic stands out this much */
#define VHS_HUM_HARMONICS 8   /* the enhancement notches the fundamental and 7 harmonics */

/* How the channels relate (stereo input only; a mono input is VHS_LAYOUT_MONO). */
enum vhs_audio_layout {
	VHS_LAYOUT_MONO,       /* one channel in */
	VHS_LAYOUT_STEREO,     /* two different channels (Hi-Fi stereo), or more channels */
	VHS_LAYOUT_DUAL_MONO,  /* the same track on both channels */
	VHS_LAYOUT_LEFT_ONLY,  /* the right channel is dead (>= 20 dB below the left) */
	VHS_LAYOUT_RIGHT_ONLY, /* the left channel is dead */
};

struct vhs_audio_analysis {
	int rate, channels;        /* of the analysed track */
	double seconds;            /* its length */
	int mains;                 /* 50, 60, or 0 when no hum stands out */
	double hum_hz;             /* refined fundamental; 0 when mains is 0 */
	double hum_db[2];          /* how far the 50 Hz and the 60 Hz series stand out, dB */
	enum vhs_audio_layout layout;
	double correlation;        /* of channels 0 and 1 (1 for mono) */
	double balance_db;         /* level of channel 0 over channel 1, dB */
	double noise_dbfs;         /* broadband level of the profile (mid channel), dBFS */
	double noise_seconds;      /* how much audio the profile is made of */
	double noise_at;           /* where the earliest of those frames starts, seconds */
	/* VHS_HISS_BINS noise powers per row: rows 0..channels-1 the channels, row channels the
	 * mid channel (L+R)/2 (a copy of row 0 for mono). NULL when no frame qualified (digital
	 * silence throughout). */
	float *profile;
};

struct vhs_audio_analyzer;

int vhs_audio_analyzer_open(struct vhs_audio_analyzer **a, int rate, int channels);

/* nb samples of planar float audio, in order. Returns 0 or -errno. */
int vhs_audio_analyzer_push(struct vhs_audio_analyzer *a, const float *const *planes, int nb);

/* The result of everything pushed; out->profile is malloc'd (vhs_audio_analysis_free). */
int vhs_audio_analyzer_finish(struct vhs_audio_analyzer *a, struct vhs_audio_analysis *out);

void vhs_audio_analyzer_close(struct vhs_audio_analyzer **a);

/* The rate and channel count it was opened with. */
int vhs_audio_analyzer_rate(const struct vhs_audio_analyzer *a);
int vhs_audio_analyzer_channels(const struct vhs_audio_analyzer *a);

/* The profile row for output channel c of a chain that keeps the layout or mixes to mid. */
const float *vhs_audio_analysis_row(const struct vhs_audio_analysis *r, int row);

/* The result as text (key = value lines, the profile rows as numbers) and back. Load
 * returns 0, -ENOENT, or -EINVAL with a reason in err. */
int vhs_audio_analysis_write(const struct vhs_audio_analysis *r, FILE *f);
int vhs_audio_analysis_load(struct vhs_audio_analysis *r, const char *path, char *err, size_t errlen);

/* One line for people: "mains 60 Hz (59.98 Hz, 34 dB over the floor); dual mono ...". */
void vhs_audio_analysis_describe(const struct vhs_audio_analysis *r, char *buf, size_t len);

const char *vhs_audio_layout_name(enum vhs_audio_layout l);

void vhs_audio_analysis_free(struct vhs_audio_analysis *r);

#endif
