/* model.h: neural upscaling models, read from TensorFlow.js "layers-model" files.
 *
 * DESIGN
 * The models are the MIT-licensed ESRGAN family published on npm by UpscalerJS
 * (@upscalerjs/esrgan-slim, -medium, -thick; `make models` fetches them). Each is a
 * folder per scale (x2, x3, x4, x8) holding model.json (the Keras functional topology
 * and a weights manifest) and group1-shard*.bin (little-endian float32 weights, the
 * manifest's entries one after another across the shards in order).
 *
 * The loader builds the network generically from the layer list: it knows layer kinds,
 * not models. It refuses, with a one-line reason naming the file and layer, anything it
 * cannot run exactly: an unknown layer class, an unknown activation, a weight whose
 * name, shape or dtype does not match its layer, shards that are missing, short or too
 * long, strides or dilation other than 1, even kernels, "valid" padding on a kernel
 * larger than 1x1, several inputs or outputs, a graph that is not a DAG of known layers.
 *
 * Layers are kept in the file's order, which Keras writes topologically (every input of
 * a layer comes before it; checked). Tensors are NHWC float: a layer's output at pixel
 * (y, x), channel c. `stride` is the layer's resolution relative to the network input
 * (1 before upsampling, the scale after). Semantics, exactly as TensorFlow computes them:
 *
 *   INPUT          the image, 3 channels (R, G, B) in [0, range]
 *   CONV           out[y][x][o] = bias[o] + sum over dy < kh, dx < kw, i < cin of
 *                  in[y + dy - pad][x + dx - pad][i] * kernel[((dy * kw + dx) * cin + i) * cout + o]
 *                  (pad = (k - 1) / 2 for "same", 0 for 1x1 "valid"; samples outside the
 *                  tensor are 0), then relu if `relu`
 *   RELU           max(x, 0)
 *   CONCAT         channels of the inputs one after another, in input order
 *   ADD            elementwise sum of the inputs
 *   MUL            x * beta (UpscalerJS's MultiplyBeta, beta = 0.2)
 *   UPSAMPLE       nearest: out[y][x][c] = in[y / f][x / f][c]
 *   DEPTH_TO_SPACE (PixelShuffle, tf.depthToSpace NHWC): out[y][x][c] =
 *                  in[y / f][x / f][((y % f) * f + (x % f)) * C + c], C = channels / f^2
 *
 * The network's output has 3 channels at `scale` times the input size, in [0, range]
 * give or take (callers clamp).
 */
#ifndef VHS_MODEL_H
#define VHS_MODEL_H

#include <stddef.h>

#define VHS_NN_NAME_LEN 64

enum vhs_nn_op {
	VHS_NN_INPUT,
	VHS_NN_CONV,
	VHS_NN_RELU,
	VHS_NN_CONCAT,
	VHS_NN_ADD,
	VHS_NN_MUL,
	VHS_NN_UPSAMPLE,
	VHS_NN_DEPTH_TO_SPACE,
};

struct vhs_nn_layer {
	enum vhs_nn_op op;
	char name[VHS_NN_NAME_LEN];
	int n_inputs;
	int *inputs;          /* indices of earlier layers */
	int channels;         /* output channels */
	int stride;           /* output pixels per network input pixel, per axis */
	/* CONV */
	int kh, kw, cin, cout, pad;
	int relu;             /* the convolution's own activation is relu */
	const float *kernel;  /* [kh][kw][cin][cout], into the model's weight block */
	const float *bias;    /* [cout], or NULL */
	/* MUL */
	float beta;
	/* UPSAMPLE, DEPTH_TO_SPACE */
	int factor;
	/* the graph both backends run (vhs_nn_model_plan) */
	int owner;            /* the layer whose tensor holds this one's output: itself, or the
			       * CONV a RELU is fused into */
	int epilogue_relu;    /* CONV: relu applied as it writes (its own activation, or the
			       * RELU fused into it) */
	int last_use;         /* owners: the last layer that reads the tensor (itself when none
			       * does; n_layers for the network's output, never freed) */
};

struct vhs_nn_model {
	char name[VHS_NN_NAME_LEN]; /* "esrgan-slim" */
	int scale;            /* output size / input size */
	float range;          /* input and output values span [0, range]: 255 or 1 */
	int n_layers;
	struct vhs_nn_layer *layers;
	int output;           /* index of the output layer */
	int halo;             /* input pixels of context an output pixel depends on, each side:
			       * a tile computed with this much real input around it equals the
			       * same region of the whole frame */
	double flops_per_pixel; /* floating-point operations per input pixel (2 per multiply-add
				 * of the convolutions, plus the bias adds) */
	float *weights;       /* every weight, in manifest order */
	size_t n_weights;
};

/* The folder of a named model at a scale: "DIR/NAME/xSCALE" where DIR is $VHS_MODEL_DIR or
 * the build's models folder (`make models`). Fills path, returns 0, or -ENOENT with a
 * message saying how to get the models. */
int vhs_nn_model_dir(const char *name, int scale, char *path, size_t len, char *err,
		     size_t errlen);

/* The known model names and their value range (ESRGAN slim and medium, RDN, were trained
 * on 0..255; thick, RRDB, on 0..1; UpscalerJS says so in its JavaScript, not in
 * model.json). Returns the range, or 0 for an unknown name. */
float vhs_nn_model_range(const char *name);

/* Loads DIR/model.json and its shards. `name` and `range` are recorded as given.
 * Returns 0, or -EINVAL / -ENOENT / -ENOMEM with a one-line reason in err. */
int vhs_nn_model_load(struct vhs_nn_model *m, const char *dir, const char *name, float range,
		      char *err, size_t errlen);

/* Convenience: vhs_nn_model_dir + vhs_nn_model_range + vhs_nn_model_load. */
int vhs_nn_model_open(struct vhs_nn_model *m, const char *name, int scale, char *err,
		      size_t errlen);

/* The graph pass both backends run on (vhs_nn_model_load does it; a model built by hand
 * calls it): a RELU that is the only reader of a CONV, and is not the network's output,
 * becomes that CONV's epilogue and shares its tensor; then each tensor's last reader. Sets
 * every layer's owner, epilogue_relu and last_use. */
void vhs_nn_model_plan(struct vhs_nn_model *m);

void vhs_nn_model_free(struct vhs_nn_model *m);

#endif
