/* chain.c: libavfilter graphs and the project's own filters in one chain (see chain.h). */
#include "chain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/error.h>

#include "filters.h"
#include "lavfi.h"
#include "native.h"

#define MAX_ELEMENTS 32

/* One element: a libavfilter graph or one of our filters. */
struct element {
	struct vhs_lavfi graph;      /* when native is NULL */
	struct vhs_native *native;
	struct vhs_stream_fmt out;   /* what it gives out */
	int ended;                   /* the end of its input was pushed */
};

struct vhs_chain {
	struct element e[MAX_ELEMENTS];
	int n;
	AVFrame *between;            /* a frame on its way from one element to the next */
	struct vhs_stream_fmt in;    /* the chain's input */
};

/* ---- cutting the chain at our filters ---- */

struct cut {
	char *lavfi;                 /* the libavfilter run being gathered (filters' text) */
	size_t lavfi_len;
	struct { const struct vhs_native_filter *f; char *args; char *run; } part[MAX_ELEMENTS];
	int n, natives, graph;       /* graph: some item is not a simple chain's */
	int err;
};

/* Closes the libavfilter run gathered so far into a part of its own (if any). */
static void s_cut_run(struct cut *k)
{
	if (!k->lavfi_len || k->err)
		return;
	if (k->n == MAX_ELEMENTS) {
		k->err = -E2BIG;
		return;
	}
	k->part[k->n].f = NULL;
	k->part[k->n].run = strndup(k->lavfi, k->lavfi_len);
	k->part[k->n++].args = NULL;
	k->lavfi_len = 0;
	if (!k->part[k->n - 1].run)
		k->err = -ENOMEM;
}

static void s_cut_item(const struct vhs_chain_item *it, void *arg)
{
	const struct vhs_native_filter *f = vhs_native_find(it->name);
	struct cut *k = arg;

	if (!it->simple)
		k->graph = 1;
	if (!f) { /* libavfilter's: gathered with its neighbours */
		if (k->lavfi_len)
			k->lavfi[k->lavfi_len++] = ',';
		memcpy(k->lavfi + k->lavfi_len, it->text, it->len);
		k->lavfi_len += it->len;
		k->lavfi[k->lavfi_len] = '\0';
		return;
	}
	s_cut_run(k);
	if (k->err || k->n == MAX_ELEMENTS) {
		k->err = k->err ? k->err : -E2BIG;
		return;
	}
	k->natives++;
	k->part[k->n].f = f;
	k->part[k->n].run = NULL;
	k->part[k->n].args = it->args ? strndup(it->args, it->len - (size_t)(it->args - it->text)) : NULL;
	if (it->args && !k->part[k->n].args)
		k->err = -ENOMEM;
	k->n++;
}

static void s_cut_free(struct cut *k)
{
	for (int i = 0; i < k->n; i++) {
		free(k->part[i].run);
		free(k->part[i].args);
	}
	free(k->lavfi);
}

/* ---- building ---- */

static int s_open_part(struct vhs_chain *c, struct cut *k, int i, int threads, char *err, size_t errlen)
{
	const struct vhs_stream_fmt *in = c->n ? &c->e[c->n - 1].out : &c->in;
	struct element *e = &c->e[c->n];
	int ret;

	if (k->part[i].f) {
		ret = vhs_native_open(&e->native, k->part[i].f, k->part[i].args, in, &e->out, threads, err, errlen);
		if (ret < 0)
			return ret == -ENOMEM ? AVERROR(ENOMEM) : AVERROR(EINVAL);
	} else {
		ret = vhs_lavfi_open(&e->graph, in, k->part[i].run, threads, err, errlen);
		if (ret < 0)
			return ret;
		vhs_lavfi_output(&e->graph, &e->out);
		e->out.color_range = in->color_range;
		e->out.colorspace = in->colorspace;
		e->out.color_primaries = in->color_primaries;
		e->out.color_trc = in->color_trc;
		e->out.chroma_location = in->chroma_location;
		e->out.field_order = in->field_order;
		e->out.duration_us = in->duration_us;
	}
	c->n++;
	return 0;
}

int vhs_chain_open(struct vhs_chain **cp, const struct vhs_stream_fmt *in, const char *chain,
		   int threads, char *err, size_t errlen)
{
	struct vhs_chain *c = calloc(1, sizeof(*c));
	struct cut k = { 0 };
	int ret = AVERROR(ENOMEM);

	*cp = NULL;
	err[0] = '\0';
	chain = chain ? chain : "";
	if (!c || !(c->between = av_frame_alloc()) || !(k.lavfi = malloc(strlen(chain) + 2)))
		goto out_free;
	c->in = *in;
	vhs_chain_each_filter(chain, s_cut_item, &k);
	if (!k.natives && !k.err) { /* one graph, exactly as the command line builds it */
		k.lavfi_len = 0;
		k.part[0].run = strdup(chain);
		k.n = k.part[0].run ? 1 : 0;
		k.err = k.n ? 0 : -ENOMEM;
	}
	s_cut_run(&k);
	if (k.err) {
		if (k.err == -E2BIG)
			snprintf(err, errlen, "filter chain '%s' has more than %d parts", chain, MAX_ELEMENTS);
		ret = AVERROR(-k.err);
		goto out_free;
	}
	if (k.natives && k.graph) {
		snprintf(err, errlen, "filter chain '%s': the vhs_ filters go in a simple chain (filters "
			 "separated by ',', no ';' and no [labels])", chain);
		ret = AVERROR(EINVAL);
		goto out_free;
	}
	for (int i = 0; i < k.n; i++)
		if ((ret = s_open_part(c, &k, i, threads, err, errlen)) < 0)
			goto out_free;
	s_cut_free(&k);
	*cp = c;
	return 0;

out_free:
	if (!err[0])
		snprintf(err, errlen, "cannot build filter chain '%s': %s", chain, av_err2str(ret));
	s_cut_free(&k);
	vhs_chain_close(&c);
	return ret;
}

/* ---- running ---- */

static int s_element_push(struct element *e, AVFrame *f)
{
	int ret;

	e->ended = !f;
	if (e->native)
		return vhs_native_push(e->native, f);
	ret = vhs_lavfi_push(&e->graph, f);
	if (f)
		av_frame_unref(f);
	return ret;
}

static int s_element_pull(struct element *e, AVFrame *out)
{
	int ret = e->native ? vhs_native_pull(e->native, out) : vhs_lavfi_pull(&e->graph, out, e->ended);

	if (ret >= 0)
		out->time_base = (AVRational){ e->out.tb_num, e->out.tb_den };
	return ret;
}

/* One frame out of element i, feeding it from the elements before it as it needs. */
static int s_pull(struct vhs_chain *c, int i, AVFrame *out)
{
	int ret;

	while ((ret = s_element_pull(&c->e[i], out)) == AVERROR(EAGAIN) && i > 0) {
		if (c->e[i].ended)
			return AVERROR_EOF; /* an element that ended and has nothing more */
		ret = s_pull(c, i - 1, c->between);
		if (ret == AVERROR_EOF)
			ret = s_element_push(&c->e[i], NULL);
		else if (ret >= 0)
			ret = s_element_push(&c->e[i], c->between);
		if (ret < 0)
			return ret;
	}
	return ret;
}

int vhs_chain_push(struct vhs_chain *c, AVFrame *f)
{
	if (f)
		f->time_base = (AVRational){ c->in.tb_num, c->in.tb_den };
	return s_element_push(&c->e[0], f);
}

int vhs_chain_pull(struct vhs_chain *c, AVFrame *out)
{
	return s_pull(c, c->n - 1, out);
}

void vhs_chain_output(const struct vhs_chain *c, struct vhs_stream_fmt *out)
{
	*out = c->e[c->n - 1].out;
	out->slot_size = 0;
}

void vhs_chain_close(struct vhs_chain **cp)
{
	struct vhs_chain *c = *cp;

	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		if (c->e[i].native)
			vhs_native_close(&c->e[i].native);
		else
			vhs_lavfi_close(&c->e[i].graph);
	}
	av_frame_free(&c->between);
	free(c);
	*cp = NULL;
}
