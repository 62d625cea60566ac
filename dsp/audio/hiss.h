/* hiss.h: broadband hiss (tape noise) reduction with a fixed noise profile, and the
 * power-spectrum meter the profile is learned with.
 *
 * DESIGN
 * Two objects share one short-time spectrum: frames of VHS_HISS_FFT samples, a periodic
 * sqrt-Hann window, a real FFT, and power per bin scaled so that white noise of variance
 * s^2 reads s^2 in every bin (power = |X_k|^2 / sum(w^2), sum(w^2) = VHS_HISS_FFT / 2).
 *
 *   meter    power spectrum of one frame. The analysis of a whole tape averages it over
 *            the quietest passages to get the noise profile, one row per channel.
 *   reducer  STFT (hop VHS_HISS_HOP) -> per-bin Wiener gain from that fixed profile with a
 *            decision-directed a-priori SNR -> overlap-add. Zero latency as seen from the
 *            outside: output sample n is input sample n, total out == total in, exactly.
 *            Its output is a pure function of its input: deterministic, no threads, no
 *            global state, bit-identical whatever the push and pull chunk sizes.
 * See hiss.c for the algorithm and why each choice was made.
 *
 * Ownership: the profile given to vhs_hiss_open is copied; the planes given to push and
 * pull stay the caller's (push reads nb samples of each, pull writes up to max). Every
 * object is used by one thread at a time.
 */
#ifndef VHS_HISS_H
#define VHS_HISS_H

#define VHS_HISS_FFT 2048                  /* analysis frame, samples */
#define VHS_HISS_HOP (VHS_HISS_FFT / 4)    /* frame step, samples */
#define VHS_HISS_BINS (VHS_HISS_FFT / 2 + 1) /* power bins, DC to Nyquist */
#define VHS_HISS_MAX_CHANNELS 64           /* vhs_hiss_open refuses more */

struct vhs_hiss_meter;
struct vhs_hiss;

/* A meter in *m (NULL on failure); 0, -EINVAL (m NULL) or -ENOMEM. */
int vhs_hiss_meter_open(struct vhs_hiss_meter **m);

/* Power spectrum of the frame x[0 .. VHS_HISS_FFT) into power[0 .. VHS_HISS_BINS), with
 * the window and scale the reducer uses (see above). x needs no alignment; x and power
 * are the caller's. Misuse (NULL arguments) is an assert. */
void vhs_hiss_meter_power(struct vhs_hiss_meter *m, const float *x, float *power);

/* Frees *m and NULLs the pointer; safe on NULL and on a NULL *m. */
void vhs_hiss_meter_close(struct vhs_hiss_meter **m);

/* A reducer for `channels` planar channels in *h (NULL on failure). profile: channels x
 * VHS_HISS_BINS noise powers, row per channel, as the meter gives them averaged over
 * noise-only frames; copied. A bin whose power is 0 passes unchanged (a row of zeros
 * leaves its channel alone). reduction_db > 0: the most any bin is attenuated.
 * Returns 0, -EINVAL (h or profile NULL, channels outside 1 .. VHS_HISS_MAX_CHANNELS,
 * reduction_db not finite and > 0, a profile value negative or not finite) or -ENOMEM. */
int vhs_hiss_open(struct vhs_hiss **h, int channels, const float *profile, double reduction_db);

/* Feeds nb >= 0 samples of each channel: planes[c][0 .. nb), finite (a NaN or an infinity
 * spoils the frames around it). The samples are copied (or consumed) before the call
 * returns. Returns 0, -EINVAL (NULL h, nb < 0, NULL planes with
 * nb > 0, or a push after a flushing pull) or -ENOMEM; on an error nothing was taken. */
int vhs_hiss_push(struct vhs_hiss *h, const float *const *planes, int nb);

/* Writes up to max >= 0 finished samples of each channel into planes[c][0 ..), in input
 * order, and returns how many (>= 0), or -EINVAL (NULL h, max < 0, NULL planes with
 * max > 0) or -ENOMEM. flush != 0: the input has ended; the reducer pads it with silence
 * so that every sample is finished, and from then on gives out all that is left (call
 * again until it returns 0; a push after that is refused). Without flush, samples come
 * out about VHS_HISS_FFT behind the input. */
int vhs_hiss_pull(struct vhs_hiss *h, float *const *planes, int max, int flush);

/* Finished samples a pull without flush would give now (0 until about VHS_HISS_FFT have
 * been pushed). */
int vhs_hiss_ready(const struct vhs_hiss *h);

/* Frees *h (unpulled output is dropped) and NULLs the pointer; safe on NULL and NULL *h. */
void vhs_hiss_close(struct vhs_hiss **h);

#endif
