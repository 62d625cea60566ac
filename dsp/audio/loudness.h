/* loudness.h: EBU R128 loudness normalisation of a whole programme, in two passes: measure
 * its integrated loudness, then one linear gain and the true-peak limiter (limiter.h).
 *
 * DESIGN
 * The mux stage is the first place where the whole programme exists (the enhanced audio of
 * every segment, spooled in the work dir), so the pass runs there, over the spools, before
 * the audio is encoded; the encoder then sees one continuous signal through one limiter.
 * With a lossy encoder the mux also makes trial encodings (VHS_LOUDNESS_TRIALS below) and
 * checks the ceiling on the decoded result, which is what a player meters.
 *
 * The meter is libavfilter's ebur128 (ITU-R BS.1770-4: K-weighting, 400 ms blocks every
 * 100 ms, absolute gate -70 LUFS, relative gate -10 LU), the meter the tests check with.
 * The limiter takes a little loudness off where it works, so the plan measures again what
 * the gain and the limiter make, without encoding, and corrects the gain by what is
 * missing (secant steps: where the limiter works, a dB of gain buys less than a dB), until the prediction is within VHS_LOUDNESS_TOLERANCE of the target (at most
 * VHS_LOUDNESS_PASSES measuring passes over the spools, which are in the page cache by then).
 * The gain is one number for the whole tape: quiet scenes stay quieter than loud ones, as
 * the programme has them (not a dynamic normaliser).
 */
#ifndef VHS_AUDIO_LOUDNESS_H
#define VHS_AUDIO_LOUDNESS_H

#include <stdint.h>

#define VHS_LOUDNESS_PASSES 5        /* measuring passes at most (the first: no gain) */
#define VHS_LOUDNESS_TOLERANCE 0.05  /* LU: close enough to the target */
#define VHS_LOUDNESS_SILENT -69.0    /* LUFS: no programme passed the gates */
/* LUFS: quieter than this once enhanced, a track holds no programme, only what is left of its
 * hum and hiss (a silent home movie, a camcorder with its microphone off: -59.6 LUFS after
 * the repairs, where normalising added +43.6 dB of roar); it is left as it is. Quiet tapes
 * with a programme measure -20 to -35. */
#define VHS_LOUDNESS_NO_PROGRAMME -50.0
/* dB: the most the pass raises a quiet programme (-40 LUFS to -16); more lifts the tape's
 * noise floor into the programme. */
#define VHS_LOUDNESS_MAX_GAIN 24.0
/* The limiter's release, ms: short enough that a peak costs the programme around it little
 * (100 ms lost 1.4 LU on chords with 4 ms attacks every 250 ms, 50 ms 0.7, 20 ms 0.5),
 * long enough not to follow the waveform of the lowest notes. */
#define VHS_LOUDNESS_RELEASE_MS 50.0
/* A lossy encoder (AAC, MP3, AC-3) rebuilds peaks higher than it was given (AAC 192k: 0.1 dB
 * on speech, 1.7 dB on sharp attacks). The mux encodes and decodes the programme once as a
 * trial and lowers the limiter's ceiling by the overshoot and this margin, up to
 * VHS_LOUDNESS_TRIALS times, so the decoded file keeps the ceiling. */
#define VHS_LOUDNESS_TRIALS 3
#define VHS_LOUDNESS_TRIAL_MARGIN 0.1

/* The programme, as many times as the plan needs it: float planar chunks in order. */
struct vhs_programme {
	int rate, channels;
	uint64_t layout;                 /* AV_CH_* mask; 0 = the default for channels */
	void *arg;
	int (*rewind)(void *arg);        /* back to the first sample: 0 or -errno */
	/* up to max samples into planes; the count, 0 at the end, or -errno */
	int (*read)(void *arg, float *const *planes, int max);
};

struct vhs_loudness_plan {
	double input_lufs;    /* the programme as it is */
	double gain_db;       /* to apply, before the limiter */
	double output_lufs;   /* what gain and limiter make, measured */
	double limited_db;    /* the limiter's deepest reduction */
	uint64_t limited;     /* samples it touched */
	int passes;           /* measuring passes made */
	int silent;           /* 1: nothing to normalise (gain 0) */
	int no_programme;     /* 1: only noise, under VHS_LOUDNESS_NO_PROGRAMME (gain 0) */
	int capped;           /* 1: the gain stopped at VHS_LOUDNESS_MAX_GAIN, short of the target */
};

/* Integrated loudness (and, with peak, true peak) of the samples pushed in any chunks
 * (libavfilter ebur128). */
struct vhs_loudness_meter;
int vhs_loudness_meter_open(struct vhs_loudness_meter **m, int rate, int channels, uint64_t layout);
int vhs_loudness_meter_open_peak(struct vhs_loudness_meter **m, int rate, int channels,
				 uint64_t layout);
/* The largest true peak seen so far, dBTP (-inf before any; meters opened with peak). */
double vhs_loudness_meter_true_peak(const struct vhs_loudness_meter *m);
int vhs_loudness_meter_push(struct vhs_loudness_meter *m, const float *const *planes, int nb);
/* Ends the input; *lufs is the integrated loudness (-70 when nothing passed the gates). */
int vhs_loudness_meter_finish(struct vhs_loudness_meter *m, double *lufs);
void vhs_loudness_meter_close(struct vhs_loudness_meter **m);

/* Measures the programme and finds the gain (see above). Returns 0 or -errno. */
int vhs_loudness_plan(const struct vhs_programme *prog, double target_lufs, double ceiling_dbtp,
		      struct vhs_loudness_plan *plan);

#endif
