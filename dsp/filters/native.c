/* native.c: running one of the project's own filters (see native.h): its options from
 * libavfilter-style arguments, its private state, and the queue of frames it emits. */
#include "native.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/error.h>

#include "avpicture.h"
#include "suggest.h"

#define MAX_OPTIONS 16

struct vhs_native_out {
	AVFrame **q;              /* emitted frames, oldest at head */
	size_t head, n, cap;
};

struct vhs_native {
	const struct vhs_native_filter *f;
	void *priv;
	struct vhs_native_out out;
	int ended;                /* the end was pushed */
};

int vhs_native_emit(struct vhs_native_out *out, AVFrame *f)
{
	AVFrame *ref;

	if (out->head + out->n == out->cap) {
		if (out->head) { /* room at the front: move the queue down */
			memmove(out->q, out->q + out->head, out->n * sizeof(*out->q));
			out->head = 0;
		} else {
			size_t cap = out->cap ? 2 * out->cap : 8;
			AVFrame **q = realloc(out->q, cap * sizeof(*q));

			if (!q)
				return -ENOMEM;
			out->q = q;
			out->cap = cap;
		}
	}
	ref = av_frame_alloc();
	if (!ref)
		return -ENOMEM;
	av_frame_move_ref(ref, f);
	out->q[out->head + out->n++] = ref;
	return 0;
}

/* ---- options ---- */

static const struct vhs_native_option *s_option(const struct vhs_native_filter *f, const char *key,
						 char *err, size_t errlen)
{
	const char *names[MAX_OPTIONS + 1];
	char hint[96];
	int n = 0;

	for (const struct vhs_native_option *o = f->options; o && o->name; o++) {
		if (!strcmp(o->name, key))
			return o;
		if (n < MAX_OPTIONS)
			names[n++] = o->name;
	}
	names[n] = NULL;
	snprintf(err, errlen, "%s has no option '%s'%s", f->name, key,
		 vhs_suggest(key, names, "", "", hint, sizeof(hint)));
	return NULL;
}

/* Sets option o in priv from text. */
static int s_set(const struct vhs_native_filter *f, const struct vhs_native_option *o, void *priv,
		 const char *text, char *err, size_t errlen)
{
	char *end, hint[96];
	double v = strtod(text, &end);

	for (int i = 0; o->names && o->names[i]; i++) {
		if (!strcmp(text, o->names[i])) {
			*(int *)((char *)priv + o->offset) = i;
			return 0;
		}
	}
	if (o->names && (end == text || *end)) {
		char list[160] = "";

		for (int i = 0; o->names[i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", o->names[i]);
		snprintf(err, errlen, "%s: %s = '%s' is not one of %s%s", f->name, o->name, text, list,
			 vhs_suggest(text, o->names, "'", "'", hint, sizeof(hint)));
		return -EINVAL;
	}
	if (end == text || *end || !isfinite(v) || (o->type == VHS_NATIVE_INT && v != floor(v))) {
		snprintf(err, errlen, "%s: %s = '%s' is not %s", f->name, o->name, text,
			 o->type == VHS_NATIVE_INT ? "a whole number" : "a number");
		return -EINVAL;
	}
	if (v < o->min || v > o->max) {
		snprintf(err, errlen, "%s: %s = %g is out of range (%g to %g)", f->name, o->name, v, o->min,
			 o->max);
		return -ERANGE;
	}
	if (o->type == VHS_NATIVE_INT)
		*(int *)((char *)priv + o->offset) = (int)v;
	else
		*(double *)((char *)priv + o->offset) = v;
	return 0;
}

/* The next ':'-separated item of *args (backslash escapes the next character) into buf;
 * advances *args. Returns 0, or -1 at the end. */
static int s_item(const char **args, char *buf, size_t len)
{
	const char *c = *args;
	size_t n = 0;

	if (!c)
		return -1;
	for (; *c && *c != ':'; c++) {
		if (*c == '\\' && c[1])
			c++;
		if (n + 1 < len)
			buf[n++] = *c;
	}
	buf[n] = '\0';
	*args = *c ? c + 1 : NULL;
	return 0;
}

/* Defaults, then args over them: "key=value" items, or values in the table's order. */
static int s_apply(const struct vhs_native_filter *f, void *priv, const char *args, char *err,
		   size_t errlen)
{
	const struct vhs_native_option *o;
	char item[256];
	int pos = 0, keyed = 0, ret;

	for (o = f->options; o && o->name; o++) {
		if (o->type == VHS_NATIVE_INT)
			*(int *)((char *)priv + o->offset) = (int)o->def;
		else
			*(double *)((char *)priv + o->offset) = o->def;
	}
	while (args && *args && !s_item(&args, item, sizeof(item))) {
		char *eq = strchr(item, '=');

		if (eq) {
			*eq = '\0';
			keyed = 1;
			if (!(o = s_option(f, item, err, errlen)))
				return -EINVAL;
		} else if (keyed || !f->options || !f->options[pos].name) {
			snprintf(err, errlen, "%s: '%s': too many values (give them as name=value)", f->name, item);
			return -EINVAL;
		} else {
			o = &f->options[pos++];
		}
		if ((ret = s_set(f, o, priv, eq ? eq + 1 : item, err, errlen)))
			return ret;
	}
	return 0;
}

/* ---- running ---- */

int vhs_native_open(struct vhs_native **np, const struct vhs_native_filter *f, const char *args,
		    const struct vhs_stream_fmt *in, struct vhs_stream_fmt *out, int threads, char *err,
		    size_t errlen)
{
	struct vhs_native *n = calloc(1, sizeof(*n));
	int ret = -ENOMEM;

	*np = NULL;
	if (in->media != VHS_MEDIA_VIDEO) {
		free(n);
		snprintf(err, errlen, "%s is a video filter", f->name);
		return -EINVAL;
	}
	if (!n || !(n->priv = calloc(1, f->priv_size ? f->priv_size : 1)))
		goto out_free;
	n->f = f;
	if ((ret = s_apply(f, n->priv, args, err, errlen)))
		goto out_free;
	*out = *in;
	if (f->init && (ret = f->init(n->priv, in, out, threads, err, errlen)))
		goto out_uninit;
	*np = n;
	return 0;

out_uninit:
	if (f->uninit)
		f->uninit(n->priv);
out_free:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", f->name);
	if (n)
		free(n->priv);
	free(n);
	return ret;
}

int vhs_native_push(struct vhs_native *n, AVFrame *f)
{
	AVFrame *own = NULL;

	if (n->ended)
		return f ? AVERROR(EINVAL) : 0;
	n->ended = !f;
	if (f) { /* the filter owns the frame it is given, struct and all */
		if (!(own = av_frame_alloc()))
			return AVERROR(ENOMEM);
		av_frame_move_ref(own, f);
	}
	return n->f->filter(n->priv, own, &n->out);
}

int vhs_native_pull(struct vhs_native *n, AVFrame *out)
{
	if (!n->out.n)
		return n->ended ? AVERROR_EOF : AVERROR(EAGAIN);
	av_frame_move_ref(out, n->out.q[n->out.head]);
	av_frame_free(&n->out.q[n->out.head]);
	n->out.head++;
	n->out.n--;
	return 0;
}

void vhs_native_close(struct vhs_native **np)
{
	struct vhs_native *n = *np;

	if (!n)
		return;
	if (n->f->uninit)
		n->f->uninit(n->priv);
	for (size_t i = 0; i < n->out.n; i++)
		av_frame_free(&n->out.q[n->out.head + i]);
	free(n->out.q);
	free(n->priv);
	free(n);
	*np = NULL;
}

/* ---- helpers ---- */

/* A new frame with in's size, format and properties (pts, colour, aspect) and its own
 * buffers, or NULL. */
static AVFrame *s_new_frame(const AVFrame *in)
{
	AVFrame *f = av_frame_alloc();

	if (!f)
		return NULL;
	f->format = in->format;
	f->width = in->width;
	f->height = in->height;
	if (av_frame_get_buffer(f, 0) < 0 || av_frame_copy_props(f, in) < 0)
		av_frame_free(&f);
	return f;
}

int vhs_native_copy(const AVFrame *in, AVFrame **out, struct vhs_picture *src, struct vhs_picture *dst)
{
	struct vhs_picture scratch;
	AVFrame *f = s_new_frame(in);

	*out = NULL;
	if (!f)
		return -ENOMEM;
	if (av_frame_copy(f, in) < 0 || vhs_av_picture(in, src ? src : &scratch) ||
	    vhs_av_picture(f, dst ? dst : &scratch)) {
		av_frame_free(&f);
		return -EINVAL;
	}
	*out = f;
	return 0;
}

int vhs_native_need_yuv(const char *name, const struct vhs_stream_fmt *in, int gray_ok, char *err,
			size_t errlen)
{
	const struct vhs_pixfmt *pf = vhs_pixfmt_find(in->fmt);

	if (pf && !pf->rgb && (gray_ok || pf->planes == 3))
		return 0;
	snprintf(err, errlen, "%s needs planar YUV, not %s (put format=yuv422p before it)", name, in->fmt);
	return -EINVAL;
}

const struct vhs_native_filter *vhs_native_find(const char *name)
{
	for (int i = 0; vhs_native_filters[i]; i++)
		if (!strcmp(vhs_native_filters[i]->name, name))
			return vhs_native_filters[i];
	return NULL;
}
