/* enhance.c: the enhancement chain of a segment (see enhance.h). */
#include "enhance.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int vhs_enhance_needs_analysis(const struct vhs_enhance_opts *o)
{
	return !strcmp(o->hum, "auto") || o->hiss > 0 || !strcmp(o->channels, "auto");
}

/* Appends ",text" (or "text" first) to the chain; -ENOSPC when it does not fit. */
static int s_add(struct vhs_enhance *e, const char *fmt, double a, double b)
{
	size_t at = strlen(e->chain);
	int n;

	if (at) {
		if (at + 1 >= sizeof(e->chain))
			return -ENOSPC;
		e->chain[at++] = ',';
	}
	n = snprintf(e->chain + at, sizeof(e->chain) - at, fmt, a, b);
	return n < 0 || (size_t)n >= sizeof(e->chain) - at ? -ENOSPC : 0;
}

/* The pan, if any, and the profile row of each output channel. */
static int s_channels(const struct vhs_enhance_opts *o, const struct vhs_audio_analysis *an,
		      int in, struct vhs_enhance *e)
{
	enum vhs_audio_layout l = an ? an->layout : VHS_LAYOUT_STEREO;
	int ret = 0;

	e->out_channels = in;
	for (int c = 0; c < in && c < VHS_ANALYSIS_MAX_CHANNELS; c++)
		e->profile_rows[c] = c;
	if (in < 2 || !strcmp(o->channels, "keep") ||
	    (!strcmp(o->channels, "auto") && l != VHS_LAYOUT_DUAL_MONO && l != VHS_LAYOUT_LEFT_ONLY &&
	     l != VHS_LAYOUT_RIGHT_ONLY))
		return 0;
	e->out_channels = 1;
	e->mono = 1;
	e->profile_rows[0] = in; /* the mid channel's row */
	if (!strcmp(o->channels, "auto") && l == VHS_LAYOUT_LEFT_ONLY) {
		e->profile_rows[0] = 0;
		return s_add(e, "pan=mono|c0=c0", 0, 0);
	}
	if (!strcmp(o->channels, "auto") && l == VHS_LAYOUT_RIGHT_ONLY) {
		e->profile_rows[0] = 1;
		return s_add(e, "pan=mono|c0=c1", 0, 0);
	}
	ret = s_add(e, "pan=mono|c0=", 0, 0);
	for (int c = 0; !ret && c < in; c++) { /* the mean of every channel */
		size_t at = strlen(e->chain);
		int n = snprintf(e->chain + at, sizeof(e->chain) - at, "%s%.17g*c%d", c ? "+" : "",
				 1.0 / in, c);

		ret = n < 0 || (size_t)n >= sizeof(e->chain) - at ? -ENOSPC : 0;
	}
	return ret;
}

/* The hum notches: two biquads per line, each wider with the harmonic number. */
static int s_hum(const struct vhs_enhance_opts *o, const struct vhs_audio_analysis *an, int rate,
		 struct vhs_enhance *e)
{
	int ret = 0;

	e->hum_hz = 0;
	if (!strcmp(o->hum, "50") || !strcmp(o->hum, "60"))
		e->hum_hz = !strcmp(o->hum, "50") ? 50 : 60;
	else if (!strcmp(o->hum, "auto") && an && an->mains)
		e->hum_hz = an->hum_hz;
	for (int k = 1; e->hum_hz > 0 && k <= VHS_HUM_HARMONICS && !ret; k++) {
		double f = k * e->hum_hz, w = VHS_HUM_WIDTH_HZ * (1 + 0.25 * (k - 1));

		if (f + w >= rate / 2.0)
			break;
		ret = s_add(e, "bandreject=f=%.4f:width_type=h:width=%.3f", f, w);
		if (!ret)
			ret = s_add(e, "bandreject=f=%.4f:width_type=h:width=%.3f", f, w);
	}
	return ret;
}

int vhs_enhance_plan(const struct vhs_enhance_opts *o, const struct vhs_audio_analysis *an,
		     int in_channels, int rate, struct vhs_enhance *e, char *err, size_t errlen)
{
	int ret;

	memset(e, 0, sizeof(*e));
	if (in_channels < 1 || in_channels > VHS_ANALYSIS_MAX_CHANNELS) {
		snprintf(err, errlen, "audio enhancement takes 1 to %d channels, not %d",
			 VHS_ANALYSIS_MAX_CHANNELS, in_channels);
		return -EINVAL;
	}
	if (vhs_enhance_needs_analysis(o) && (!an || an->channels != in_channels)) {
		snprintf(err, errlen, "the audio analysis is missing or is of another track");
		return -EINVAL;
	}
	ret = s_channels(o, an, in_channels, e);
	if (!ret && o->declick)
		ret = s_add(e, "adeclick=window=55:overlap=75:arorder=2:threshold=%g:burst=2",
			    VHS_DECLICK_THRESHOLD, 0);
	if (!ret)
		ret = s_hum(o, an, rate, e);
	if (ret)
		snprintf(err, errlen, "the enhancement chain is longer than %d bytes",
			 VHS_ENHANCE_CHAIN_MAX - 1);
	return ret;
}
