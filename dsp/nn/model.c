/* model.c: loading TensorFlow.js layers-models into a vhs_nn_model (see model.h).
 *
 * DESIGN
 * Three passes, each refusing what it cannot run exactly, with the file and layer named:
 *   1. topology: model.json's modelTopology -> one vhs_nn_layer per Keras layer, inputs
 *      resolved by name to earlier layers, channels and resolution propagated;
 *   2. weights: the manifest's groups, each group's shards read one after another into
 *      one float block (sizes must match to the byte);
 *   3. binding: every manifest entry "LAYER/kernel" or "LAYER/bias" to its Conv2D, with
 *      its shape checked against the layer; every Conv2D must get what it needs.
 * Then the halo and the FLOP count are derived from the graph.
 */
#include "model.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "model shards are little-endian float32; this loader reads them in place"
#endif

/* A Conv2D with use_bias whose bias is not bound yet points here (pass 1 to pass 3). */
static const float s_bias_pending;

/* model.json larger than this is not a model we know (the thick x8 one is ~250 KB). */
#define MODEL_JSON_MAX (16u << 20)

struct loader {
	struct vhs_nn_model *m;
	const char *dir;
	char *err;
	size_t errlen;
};

static int s_fail(struct loader *l, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int s_fail(struct loader *l, int ret, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(l->err, l->errlen, "model %s: ", l->dir);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < l->errlen)
		vsnprintf(l->err + n, l->errlen - n, fmt, ap);
	va_end(ap);
	return ret;
}

/* ---- small JSON helpers ---- */

static const cJSON *s_get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *s_str(const cJSON *obj, const char *key)
{
	const cJSON *v = s_get(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer field; dflt when absent, -1 when present but not a non-negative integer. */
static long s_int(const cJSON *obj, const char *key, long dflt)
{
	const cJSON *v = s_get(obj, key);

	if (!v)
		return dflt;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9 ||
	    v->valuedouble != floor(v->valuedouble))
		return -1;
	return (long)v->valuedouble;
}

/* A [a, b] pair of equal non-negative integers (kernel_size, strides, size); -1 if not. */
static long s_square(const cJSON *obj, const char *key, long dflt)
{
	const cJSON *v = s_get(obj, key);
	const cJSON *a, *b;

	if (!v)
		return dflt;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
		return -1;
	a = cJSON_GetArrayItem(v, 0);
	b = cJSON_GetArrayItem(v, 1);
	if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble != b->valuedouble ||
	    a->valuedouble < 1 || a->valuedouble > 64 || a->valuedouble != floor(a->valuedouble))
		return -1;
	return (long)a->valuedouble;
}

static char *s_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 || (size_t)st.st_size > max) {
		errno = EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out_close;
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
		errno = EIO;
		goto out_close;
	}
	buf[st.st_size] = 0;
	*len = (size_t)st.st_size;
out_close:
	fclose(f);
	return buf;
}

/* ---- pass 1: topology ---- */

static int s_find_layer(const struct vhs_nn_model *m, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(m->layers[i].name, name))
			return i;
	return -1;
}

/* The layer's inputs from its single inbound node [[name, 0, 0, {}], ...]. */
static int s_inputs(struct loader *l, struct vhs_nn_layer *ly, int index, const cJSON *json)
{
	const cJSON *nodes = s_get(json, "inbound_nodes");
	const cJSON *node, *ref;
	int n = 0;

	if (!cJSON_IsArray(nodes) || cJSON_GetArraySize(nodes) != 1)
		return s_fail(l, -EINVAL, "layer %s: it must be used exactly once in the graph", ly->name);
	node = cJSON_GetArrayItem(nodes, 0);
	if (!cJSON_IsArray(node) || cJSON_GetArraySize(node) < 1)
		return s_fail(l, -EINVAL, "layer %s: malformed inbound node", ly->name);
	ly->inputs = calloc((size_t)cJSON_GetArraySize(node), sizeof(int));
	if (!ly->inputs)
		return -ENOMEM;
	cJSON_ArrayForEach(ref, node) {
		const cJSON *name = cJSON_GetArrayItem(ref, 0);
		int k;

		if (!cJSON_IsArray(ref) || !cJSON_IsString(name))
			return s_fail(l, -EINVAL, "layer %s: malformed inbound node", ly->name);
		if (cJSON_GetArraySize(ref) >= 3 &&
		    (!cJSON_IsNumber(cJSON_GetArrayItem(ref, 1)) || cJSON_GetArrayItem(ref, 1)->valuedouble != 0 ||
		     !cJSON_IsNumber(cJSON_GetArrayItem(ref, 2)) || cJSON_GetArrayItem(ref, 2)->valuedouble != 0))
			return s_fail(l, -EINVAL, "layer %s: inputs from shared layers are not supported", ly->name);
		k = s_find_layer(l->m, index, name->valuestring);
		if (k < 0)
			return s_fail(l, -EINVAL, "layer %s: input '%s' is not an earlier layer", ly->name,
				      name->valuestring);
		ly->inputs[n++] = k;
	}
	ly->n_inputs = n;
	return 0;
}

static int s_conv(struct loader *l, struct vhs_nn_layer *ly, const cJSON *cfg)
{
	const struct vhs_nn_layer *in = &l->m->layers[ly->inputs[0]];
	const char *padding = s_str(cfg, "padding");
	const char *act = s_str(cfg, "activation");
	const char *df = s_str(cfg, "data_format");
	long k = s_square(cfg, "kernel_size", -1);
	long filters = s_int(cfg, "filters", -1);
	const cJSON *bias = s_get(cfg, "use_bias");

	if (ly->n_inputs != 1)
		return s_fail(l, -EINVAL, "layer %s: Conv2D takes one input", ly->name);
	if (k < 1 || filters < 1 || filters > 4096)
		return s_fail(l, -EINVAL, "layer %s: bad kernel_size or filters", ly->name);
	if (k % 2 == 0)
		return s_fail(l, -EINVAL, "layer %s: even kernel %ldx%ld is not supported", ly->name, k, k);
	if (s_square(cfg, "strides", 1) != 1 || s_square(cfg, "dilation_rate", 1) != 1 ||
	    s_int(cfg, "groups", 1) != 1)
		return s_fail(l, -EINVAL, "layer %s: strides, dilation and groups other than 1 are not supported",
			      ly->name);
	if (df && strcmp(df, "channels_last"))
		return s_fail(l, -EINVAL, "layer %s: data_format %s is not supported", ly->name, df);
	if (!padding || (strcmp(padding, "same") && strcmp(padding, "valid")))
		return s_fail(l, -EINVAL, "layer %s: padding must be \"same\" or \"valid\"", ly->name);
	if (!strcmp(padding, "valid") && k != 1)
		return s_fail(l, -EINVAL, "layer %s: \"valid\" padding on a %ldx%ld kernel would shrink the image",
			      ly->name, k, k);
	if (act && strcmp(act, "linear") && strcmp(act, "relu"))
		return s_fail(l, -EINVAL, "layer %s: activation '%s' is not supported", ly->name, act);
	ly->kh = ly->kw = (int)k;
	ly->pad = (int)(k - 1) / 2;
	ly->cin = in->channels;
	ly->cout = ly->channels = (int)filters;
	ly->stride = in->stride;
	ly->relu = act && !strcmp(act, "relu");
	ly->bias = NULL;
	if (!bias || cJSON_IsTrue(bias))
		ly->bias = &s_bias_pending;
	return 0;
}

/* Inputs of a merge layer: same resolution; ADD also needs the same channels. */
static int s_merge(struct loader *l, struct vhs_nn_layer *ly, int concat)
{
	const struct vhs_nn_layer *first = &l->m->layers[ly->inputs[0]];

	if (ly->n_inputs < 2)
		return s_fail(l, -EINVAL, "layer %s: needs at least two inputs", ly->name);
	ly->stride = first->stride;
	ly->channels = 0;
	for (int i = 0; i < ly->n_inputs; i++) {
		const struct vhs_nn_layer *in = &l->m->layers[ly->inputs[i]];

		if (in->stride != first->stride || (!concat && in->channels != first->channels))
			return s_fail(l, -EINVAL, "layer %s: inputs of different shapes", ly->name);
		ly->channels = concat ? ly->channels + in->channels : in->channels;
	}
	return 0;
}

/* One layer: kind, parameters, inputs, output shape. */
static int s_layer(struct loader *l, int index, const cJSON *json)
{
	struct vhs_nn_layer *ly = &l->m->layers[index];
	const char *cls = s_str(json, "class_name");
	const cJSON *cfg = s_get(json, "config");
	const char *name = cfg ? s_str(cfg, "name") : NULL;
	const struct vhs_nn_layer *in;
	int ret;

	if (!name)
		name = s_str(json, "name");
	if (!cls || !cJSON_IsObject(cfg) || !name || strlen(name) >= VHS_NN_NAME_LEN)
		return s_fail(l, -EINVAL, "layer %d: no class_name, config or name", index);
	snprintf(ly->name, sizeof(ly->name), "%s", name);
	if (s_find_layer(l->m, index, name) >= 0)
		return s_fail(l, -EINVAL, "layer %s: the name is used twice", name);
	if (!strcmp(cls, "InputLayer")) {
		const cJSON *shape = s_get(cfg, "batch_input_shape");
		const cJSON *c = cJSON_GetArrayItem(shape, 3);

		if (index != 0)
			return s_fail(l, -EINVAL, "layer %s: a second input", name);
		if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 4 || !cJSON_IsNumber(c) ||
		    c->valuedouble != 3)
			return s_fail(l, -EINVAL, "layer %s: the input must be [batch, h, w, 3] (RGB)", name);
		ly->op = VHS_NN_INPUT;
		ly->channels = 3;
		ly->stride = 1;
		return 0;
	}
	if (index == 0)
		return s_fail(l, -EINVAL, "the first layer must be the InputLayer, not %s", cls);
	ret = s_inputs(l, ly, index, json);
	if (ret)
		return ret;
	in = &l->m->layers[ly->inputs[0]];
	ly->channels = in->channels;
	ly->stride = in->stride;
	if (!strcmp(cls, "Conv2D")) {
		ly->op = VHS_NN_CONV;
		return s_conv(l, ly, cfg);
	}
	if (!strcmp(cls, "Concatenate") || !strcmp(cls, "Add")) {
		long axis = s_int(cfg, "axis", 3);
		const cJSON *ax = s_get(cfg, "axis");

		ly->op = cls[0] == 'C' ? VHS_NN_CONCAT : VHS_NN_ADD;
		if (ly->op == VHS_NN_CONCAT && axis != 3 && !(cJSON_IsNumber(ax) && ax->valuedouble == -1))
			return s_fail(l, -EINVAL, "layer %s: only channel concatenation (axis 3) is supported", name);
		return s_merge(l, ly, ly->op == VHS_NN_CONCAT);
	}
	if (ly->n_inputs != 1)
		return s_fail(l, -EINVAL, "layer %s: %s takes one input", name, cls);
	if (!strcmp(cls, "Activation")) {
		const char *act = s_str(cfg, "activation");

		if (!act || strcmp(act, "relu"))
			return s_fail(l, -EINVAL, "layer %s: activation '%s' is not supported", name,
				      act ? act : "?");
		ly->op = VHS_NN_RELU;
		return 0;
	}
	if (!strcmp(cls, "MultiplyBeta")) {
		const cJSON *beta = s_get(cfg, "beta");

		ly->op = VHS_NN_MUL;
		ly->beta = cJSON_IsNumber(beta) ? (float)beta->valuedouble : 0.2f;
		return 0;
	}
	if (!strcmp(cls, "UpSampling2D")) {
		const char *interp = s_str(cfg, "interpolation");

		ly->op = VHS_NN_UPSAMPLE;
		ly->factor = (int)s_square(cfg, "size", -1);
		if (ly->factor < 1 || ly->factor > 16 || (interp && strcmp(interp, "nearest")))
			return s_fail(l, -EINVAL, "layer %s: only nearest upsampling by 1..16 is supported", name);
		ly->stride *= ly->factor;
		return 0;
	}
	if (!strncmp(cls, "PixelShuffle", 12)) {
		long f = s_int(cfg, "scale", -1);

		if (f < 0)
			f = strtol(cls + 12, NULL, 10);
		ly->op = VHS_NN_DEPTH_TO_SPACE;
		ly->factor = (int)f;
		if (f < 1 || f > 16 || in->channels % (f * f))
			return s_fail(l, -EINVAL, "layer %s: %s of %d channels by %ld", name, cls,
				      in->channels, f);
		ly->channels = in->channels / (int)(f * f);
		ly->stride *= ly->factor;
		return 0;
	}
	return s_fail(l, -EINVAL, "layer %s: unknown layer type %s", name, cls);
}

static int s_topology(struct loader *l, const cJSON *root)
{
	const cJSON *topo = s_get(root, "modelTopology");
	const cJSON *mc = topo ? s_get(topo, "model_config") : NULL;
	const cJSON *cfg, *layers, *outs, *json;
	const char *fmt = s_str(root, "format");
	const char *out_name;
	int n = 0, ret;

	if (fmt && strcmp(fmt, "layers-model"))
		return s_fail(l, -EINVAL, "format '%s' is not a TensorFlow.js layers-model", fmt);
	if (!mc)
		mc = topo;
	cfg = mc ? s_get(mc, "config") : NULL;
	layers = cfg ? s_get(cfg, "layers") : NULL;
	outs = cfg ? s_get(cfg, "output_layers") : NULL;
	if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 2)
		return s_fail(l, -EINVAL, "model.json has no modelTopology layers");
	if (!cJSON_IsArray(outs) || cJSON_GetArraySize(outs) != 1 ||
	    !cJSON_IsString(cJSON_GetArrayItem(cJSON_GetArrayItem(outs, 0), 0)))
		return s_fail(l, -EINVAL, "the model must have exactly one output");
	l->m->layers = calloc((size_t)cJSON_GetArraySize(layers), sizeof(*l->m->layers));
	if (!l->m->layers)
		return -ENOMEM;
	cJSON_ArrayForEach(json, layers) {
		ret = s_layer(l, n, json);
		l->m->n_layers = ++n;
		if (ret)
			return ret;
	}
	out_name = cJSON_GetArrayItem(cJSON_GetArrayItem(outs, 0), 0)->valuestring;
	l->m->output = s_find_layer(l->m, n, out_name);
	if (l->m->output < 0)
		return s_fail(l, -EINVAL, "output layer '%s' is not in the model", out_name);
	if (l->m->layers[l->m->output].channels != 3)
		return s_fail(l, -EINVAL, "the output has %d channels, not 3 (RGB)",
			      l->m->layers[l->m->output].channels);
	l->m->scale = l->m->layers[l->m->output].stride;
	return 0;
}

/* ---- pass 2: weights ---- */

static size_t s_shape_count(const cJSON *shape, int dims[4], int *ndims)
{
	const cJSON *d;
	size_t count = 1;

	*ndims = 0;
	if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > 4)
		return 0;
	cJSON_ArrayForEach(d, shape) {
		if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 65536 ||
		    d->valuedouble != floor(d->valuedouble))
			return 0;
		dims[(*ndims)++] = (int)d->valuedouble;
		count *= (size_t)d->valuedouble;
	}
	return count;
}

/* Reads one group's shards, in order, into dst (exactly `bytes` bytes in all). */
static int s_read_group(struct loader *l, const cJSON *paths, uint8_t *dst, size_t bytes)
{
	const cJSON *p;
	size_t at = 0;
	char path[4096];

	cJSON_ArrayForEach(p, paths) {
		FILE *f;
		struct stat st;

		if (!cJSON_IsString(p) || strchr(p->valuestring, '/') || !strcmp(p->valuestring, ".."))
			return s_fail(l, -EINVAL, "bad shard path in the weights manifest");
		snprintf(path, sizeof(path), "%s/%s", l->dir, p->valuestring);
		f = fopen(path, "rb");
		if (!f)
			return s_fail(l, -ENOENT, "shard %s: %s", p->valuestring, strerror(errno));
		if (fstat(fileno(f), &st) < 0 || (size_t)st.st_size > bytes - at) {
			fclose(f);
			return s_fail(l, -EINVAL, "shard %s holds more bytes than the manifest's weights",
				      p->valuestring);
		}
		if (fread(dst + at, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
			fclose(f);
			return s_fail(l, -EINVAL, "shard %s: read error", p->valuestring);
		}
		fclose(f);
		at += (size_t)st.st_size;
	}
	if (at != bytes)
		return s_fail(l, -EINVAL, "shards hold %zu bytes but the manifest's weights need %zu (truncated shard?)",
			      at, bytes);
	return 0;
}

/* Finds conv LAYER for "LAYER/kernel" or "LAYER/bias"; *is_bias tells which. */
static struct vhs_nn_layer *s_weight_layer(struct vhs_nn_model *m, const char *wname, int *is_bias)
{
	const char *slash = strrchr(wname, '/');
	char layer[VHS_NN_NAME_LEN];
	int i;

	if (!slash || (size_t)(slash - wname) >= sizeof(layer))
		return NULL;
	memcpy(layer, wname, (size_t)(slash - wname));
	layer[slash - wname] = 0;
	if (!strcmp(slash + 1, "bias"))
		*is_bias = 1;
	else if (!strcmp(slash + 1, "kernel"))
		*is_bias = 0;
	else
		return NULL;
	i = s_find_layer(m, m->n_layers, layer);
	return i >= 0 && m->layers[i].op == VHS_NN_CONV ? &m->layers[i] : NULL;
}

/* Pass 3 for one manifest entry at weights + at. */
static int s_bind(struct loader *l, const cJSON *w, const float *data, size_t count,
		  const int dims[4], int ndims)
{
	const char *wname = s_str(w, "name");
	int is_bias = 0;
	struct vhs_nn_layer *ly = s_weight_layer(l->m, wname, &is_bias);

	if (!ly)
		return s_fail(l, -EINVAL, "weight %s belongs to no Conv2D layer", wname);
	for (size_t i = 0; i < count; i++)
		if (!isfinite(data[i]))
			return s_fail(l, -EINVAL, "weight %s holds a value that is not finite", wname);
	if (is_bias) {
		if (!ly->bias)
			return s_fail(l, -EINVAL, "weight %s: layer %s has use_bias false", wname, ly->name);
		if (ly->bias != &s_bias_pending)
			return s_fail(l, -EINVAL, "weight %s appears twice", wname);
		if (ndims != 1 || dims[0] != ly->cout)
			return s_fail(l, -EINVAL, "weight %s: shape is not [%d]", wname, ly->cout);
		ly->bias = data;
		return 0;
	}
	if (ly->kernel)
		return s_fail(l, -EINVAL, "weight %s appears twice", wname);
	if (ndims != 4 || dims[0] != ly->kh || dims[1] != ly->kw || dims[2] != ly->cin ||
	    dims[3] != ly->cout)
		return s_fail(l, -EINVAL, "weight %s: shape is not [%d, %d, %d, %d]", wname, ly->kh,
			      ly->kw, ly->cin, ly->cout);
	ly->kernel = data;
	return 0;
}

static int s_weights(struct loader *l, const cJSON *root)
{
	const cJSON *manifest = s_get(root, "weightsManifest");
	const cJSON *group, *w;
	size_t total = 0, at = 0;
	int dims[4], ndims, ret;

	if (!cJSON_IsArray(manifest))
		return s_fail(l, -EINVAL, "model.json has no weightsManifest");
	cJSON_ArrayForEach(group, manifest) {
		cJSON_ArrayForEach(w, s_get(group, "weights")) {
			const char *dtype = s_str(w, "dtype");
			size_t count = s_shape_count(s_get(w, "shape"), dims, &ndims);

			if (!s_str(w, "name") || !count)
				return s_fail(l, -EINVAL, "a weights manifest entry has no name or a bad shape");
			if (!dtype || strcmp(dtype, "float32") || s_get(w, "quantization"))
				return s_fail(l, -EINVAL, "weight %s: only unquantized float32 is supported",
					      s_str(w, "name"));
			total += count;
		}
	}
	l->m->weights = malloc(total * sizeof(float) + 1);
	if (!l->m->weights)
		return -ENOMEM;
	l->m->n_weights = total;
	cJSON_ArrayForEach(group, manifest) {
		size_t group_count = 0;

		cJSON_ArrayForEach(w, s_get(group, "weights"))
			group_count += s_shape_count(s_get(w, "shape"), dims, &ndims);
		if (!cJSON_IsArray(s_get(group, "paths")))
			return s_fail(l, -EINVAL, "a weights group has no paths");
		ret = s_read_group(l, s_get(group, "paths"), (uint8_t *)(l->m->weights + at),
				   group_count * sizeof(float));
		if (ret)
			return ret;
		cJSON_ArrayForEach(w, s_get(group, "weights")) {
			size_t count = s_shape_count(s_get(w, "shape"), dims, &ndims);

			ret = s_bind(l, w, l->m->weights + at, count, dims, ndims);
			if (ret)
				return ret;
			at += count;
		}
	}
	for (int i = 0; i < l->m->n_layers; i++) {
		const struct vhs_nn_layer *ly = &l->m->layers[i];

		if (ly->op == VHS_NN_CONV && (!ly->kernel || ly->bias == &s_bias_pending))
			return s_fail(l, -EINVAL, "layer %s: its %s is missing from the weights manifest",
				      ly->name, ly->kernel ? "bias" : "kernel");
	}
	return 0;
}

/* ---- derived figures ---- */

/* Context per layer in input pixels: a convolution with pad p at resolution s adds p / s;
 * nearest upsampling and pixel shuffle move a sample by less than half an input-tensor
 * pixel. One pixel more for safety; the tests check tiles equal the whole frame. */
static void s_derive(struct vhs_nn_model *m)
{
	double *r = calloc((size_t)m->n_layers, sizeof(double));
	double flops = 0;

	for (int i = 0; r && i < m->n_layers; i++) {
		const struct vhs_nn_layer *ly = &m->layers[i];
		double in = 0;

		for (int k = 0; k < ly->n_inputs; k++)
			in = fmax(in, r[ly->inputs[k]]);
		if (ly->op == VHS_NN_CONV) {
			in += (double)ly->pad / ly->stride;
			flops += (2.0 * ly->kh * ly->kw * ly->cin + 1) * ly->cout * ly->stride * ly->stride;
		} else if (ly->op == VHS_NN_UPSAMPLE || ly->op == VHS_NN_DEPTH_TO_SPACE) {
			in += 0.5 * ly->factor / ly->stride;
		}
		r[i] = in;
	}
	m->halo = r ? (int)ceil(r[m->output]) + 1 : 64;
	m->flops_per_pixel = flops;
	free(r);
}

/* ---- the graph ---- */

void vhs_nn_model_plan(struct vhs_nn_model *m)
{
	int n = m->n_layers;

	for (int i = 0; i < n; i++) {
		struct vhs_nn_layer *ly = &m->layers[i];

		ly->owner = i;
		ly->epilogue_relu = ly->op == VHS_NN_CONV && ly->relu;
		ly->last_use = -1; /* counts this tensor's readers first */
	}
	for (int i = 0; i < n; i++)
		for (int k = 0; k < m->layers[i].n_inputs; k++)
			m->layers[m->layers[i].inputs[k]].last_use--;
	for (int i = 0; i < n; i++) {
		struct vhs_nn_layer *ly = &m->layers[i];
		int src = ly->n_inputs ? ly->inputs[0] : -1;

		if (ly->op == VHS_NN_RELU && m->layers[src].op == VHS_NN_CONV &&
		    m->layers[src].last_use == -2 && src != m->output) { /* its only reader */
			ly->owner = src;
			m->layers[src].epilogue_relu = 1;
		}
	}
	for (int i = 0; i < n; i++) {
		m->layers[i].last_use = i;
		for (int k = 0; k < m->layers[i].n_inputs; k++) /* readers come in layer order */
			m->layers[m->layers[m->layers[i].inputs[k]].owner].last_use = i;
	}
	m->layers[m->layers[m->output].owner].last_use = n;
}

/* ---- public ---- */

static int s_load(struct loader *l)
{
	char path[4096];
	size_t len = 0;
	char *text;
	cJSON *root;
	int ret;

	snprintf(path, sizeof(path), "%s/model.json", l->dir);
	text = s_read_file(path, MODEL_JSON_MAX, &len);
	if (!text)
		return s_fail(l, errno == ENOENT ? -ENOENT : -EINVAL, "model.json: %s", strerror(errno));
	root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!root)
		return s_fail(l, -EINVAL, "model.json is not valid JSON");
	ret = s_topology(l, root);
	if (!ret)
		ret = s_weights(l, root);
	cJSON_Delete(root);
	if (!ret) {
		s_derive(l->m);
		vhs_nn_model_plan(l->m);
	}
	return ret;
}

int vhs_nn_model_load(struct vhs_nn_model *m, const char *dir, const char *name, float range,
		      char *err, size_t errlen)
{
	struct loader l = { .m = m, .dir = dir, .err = err, .errlen = errlen };
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->range = range;
	ret = s_load(&l);
	if (ret == -ENOMEM)
		s_fail(&l, ret, "out of memory");
	if (ret)
		vhs_nn_model_free(m);
	return ret;
}

static const struct {
	const char *name;
	float range;
} s_known[] = {
	{ "esrgan-slim", 255.0f },
	{ "esrgan-medium", 255.0f },
	{ "esrgan-thick", 1.0f },
};

float vhs_nn_model_range(const char *name)
{
	for (size_t i = 0; i < sizeof(s_known) / sizeof(s_known[0]); i++)
		if (!strcmp(s_known[i].name, name))
			return s_known[i].range;
	return 0;
}

int vhs_nn_model_dir(const char *name, int scale, char *path, size_t len, char *err,
		     size_t errlen)
{
	const char *root = getenv("VHS_MODEL_DIR");
	struct stat st;

	if (!root || !*root)
		root = VHS_MODELDIR;
	snprintf(path, len, "%s/%s/x%d", root, name, scale);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(err, errlen, "model %s x%d is not installed in %s: run 'make models' (or set VHS_MODEL_DIR)",
		 name, scale, root);
	return -ENOENT;
}

int vhs_nn_model_open(struct vhs_nn_model *m, const char *name, int scale, char *err,
		      size_t errlen)
{
	float range = vhs_nn_model_range(name);
	char dir[4096];
	int ret;

	if (!range) {
		snprintf(err, errlen, "unknown model '%s' (esrgan-slim, esrgan-medium, esrgan-thick)", name);
		return -EINVAL;
	}
	ret = vhs_nn_model_dir(name, scale, dir, sizeof(dir), err, errlen);
	if (ret)
		return ret;
	ret = vhs_nn_model_load(m, dir, name, range, err, errlen);
	if (!ret && m->scale != scale) {
		snprintf(err, errlen, "model %s: the network scales by %d, not %d", dir, m->scale, scale);
		vhs_nn_model_free(m);
		return -EINVAL;
	}
	return ret;
}

void vhs_nn_model_free(struct vhs_nn_model *m)
{
	for (int i = 0; m->layers && i < m->n_layers; i++)
		free(m->layers[i].inputs);
	free(m->layers);
	free(m->weights);
	memset(m, 0, sizeof(*m));
}
