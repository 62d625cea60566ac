/* test_model.c: the model loader (model.c): the real ESRGAN models load, and broken models
 * (missing, short or long shard, wrong shape, unknown layer, bad JSON, missing or
 * non-finite weight, unsupported settings) are refused with a message that names the
 * problem. Broken models are made from a small valid one written by the test. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

/* A small model using every layer kind: conv 3x3 relu (3->4), Activation relu, Concatenate,
 * 1x1 conv (7->4), MultiplyBeta, Add, conv 3x3 (4->12), PixelShuffle2x (-> 3), then
 * UpSampling2D x2 and a 3x3 conv to 3: scale 4. CONV is substituted per test. */
static const char *s_topology =
	"{\"format\":\"layers-model\",\"modelTopology\":{\"model_config\":{\"class_name\":\"Functional\","
	"\"config\":{\"name\":\"t\",\"layers\":["
	"{\"class_name\":\"InputLayer\",\"config\":{\"batch_input_shape\":[null,null,null,3],\"name\":\"in\"},\"inbound_nodes\":[]},"
	"{\"class_name\":\"%s\",\"config\":{\"name\":\"c1\",\"filters\":4,\"kernel_size\":[3,3],\"strides\":[1,1],"
	"\"padding\":\"%s\",\"dilation_rate\":[1,1],\"activation\":\"%s\",\"use_bias\":true},\"inbound_nodes\":[[[\"in\",0,0,{}]]]},"
	"{\"class_name\":\"Activation\",\"config\":{\"name\":\"r1\",\"activation\":\"relu\"},\"inbound_nodes\":[[[\"c1\",0,0,{}]]]},"
	"{\"class_name\":\"Concatenate\",\"config\":{\"name\":\"cat\",\"axis\":3},\"inbound_nodes\":[[[\"in\",0,0,{}],[\"r1\",0,0,{}]]]},"
	"{\"class_name\":\"Conv2D\",\"config\":{\"name\":\"c2\",\"filters\":4,\"kernel_size\":[1,1],\"strides\":[1,1],"
	"\"padding\":\"valid\",\"activation\":\"linear\",\"use_bias\":true},\"inbound_nodes\":[[[\"cat\",0,0,{}]]]},"
	"{\"class_name\":\"MultiplyBeta\",\"config\":{\"name\":\"mb\",\"beta\":0.2},\"inbound_nodes\":[[[\"c2\",0,0,{}]]]},"
	"{\"class_name\":\"Add\",\"config\":{\"name\":\"add\"},\"inbound_nodes\":[[[\"mb\",0,0,{}],[\"r1\",0,0,{}]]]},"
	"{\"class_name\":\"Conv2D\",\"config\":{\"name\":\"c3\",\"filters\":12,\"kernel_size\":[3,3],\"strides\":[1,1],"
	"\"padding\":\"same\",\"activation\":\"linear\",\"use_bias\":true},\"inbound_nodes\":[[[\"add\",0,0,{}]]]},"
	"{\"class_name\":\"PixelShuffle2x\",\"config\":{\"name\":\"ps\",\"scale\":2},\"inbound_nodes\":[[[\"c3\",0,0,{}]]]},"
	"{\"class_name\":\"UpSampling2D\",\"config\":{\"name\":\"up\",\"size\":[2,2],\"interpolation\":\"nearest\"},\"inbound_nodes\":[[[\"ps\",0,0,{}]]]},"
	"{\"class_name\":\"Conv2D\",\"config\":{\"name\":\"out\",\"filters\":3,\"kernel_size\":[3,3],\"strides\":[1,1],"
	"\"padding\":\"same\",\"activation\":\"linear\",\"use_bias\":true},\"inbound_nodes\":[[[\"up\",0,0,{}]]]}"
	"],\"input_layers\":[[\"in\",0,0]],\"output_layers\":[[\"out\",0,0]]}}},"
	"\"weightsManifest\":[{\"paths\":[\"group1-shard1of2.bin\",\"group1-shard2of2.bin\"],\"weights\":["
	"{\"name\":\"c1/kernel\",\"shape\":[%s],\"dtype\":\"float32\"},"
	"{\"name\":\"c1/bias\",\"shape\":[4],\"dtype\":\"float32\"},"
	"{\"name\":\"c2/kernel\",\"shape\":[1,1,7,4],\"dtype\":\"float32\"},"
	"%s"
	"{\"name\":\"c3/kernel\",\"shape\":[3,3,4,12],\"dtype\":\"float32\"},"
	"{\"name\":\"c3/bias\",\"shape\":[12],\"dtype\":\"float32\"},"
	"{\"name\":\"out/kernel\",\"shape\":[3,3,3,3],\"dtype\":\"float32\"},"
	"{\"name\":\"out/bias\",\"shape\":[3],\"dtype\":\"float32\"}]}]}";

/* Weights of the valid model: 108 + 4 + 28 + 4 + 432 + 12 + 81 + 3 floats. */
#define N_WEIGHTS 672

struct variant {
	const char *cls, *padding, *act, *c1_shape;
	const char *c2_bias;       /* the c2/bias manifest entry, or "" to leave it out */
	long shard2_delta;         /* bytes added to (or cut from) the second shard */
	int nan;                   /* put a NaN among the weights */
};

static const struct variant s_valid = { "Conv2D", "same", "relu", "3,3,3,4",
					"{\"name\":\"c2/bias\",\"shape\":[4],\"dtype\":\"float32\"},", 0, 0 };

static char s_dir[64];

/* Writes the model into a fresh temp dir; the weights split over two shards. */
static void s_write(const struct variant *v)
{
	char path[128];
	float w[N_WEIGHTS + 64];
	size_t first = 100 * sizeof(float), total = sizeof(float) * N_WEIGHTS;
	long second = (long)(total - first) + v->shard2_delta;
	FILE *f;

	snprintf(s_dir, sizeof(s_dir), "/tmp/vhs-test-model-XXXXXX");
	cr_assert_not_null(mkdtemp(s_dir));
	for (int i = 0; i < N_WEIGHTS + 64; i++)
		w[i] = (float)((i * 37) % 17 - 8) / 16.0f;
	if (v->nan)
		w[150] = NAN;
	snprintf(path, sizeof(path), "%s/model.json", s_dir);
	f = fopen(path, "w");
	fprintf(f, s_topology, v->cls, v->padding, v->act, v->c1_shape, v->c2_bias);
	fclose(f);
	snprintf(path, sizeof(path), "%s/group1-shard1of2.bin", s_dir);
	f = fopen(path, "wb");
	fwrite(w, 1, first, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/group1-shard2of2.bin", s_dir);
	f = fopen(path, "wb");
	fwrite((char *)w + first, 1, (size_t)second, f);
	fclose(f);
}

static void s_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
	cr_assert_eq(system(cmd), 0);
}

/* Loading the variant fails with ret, and the message contains want. */
static void s_refused(const struct variant *v, int ret, const char *want)
{
	struct vhs_nn_model m;
	char err[512] = "";

	s_write(v);
	cr_expect_eq(vhs_nn_model_load(&m, s_dir, "t", 255, err, sizeof(err)), ret, "got: %s", err);
	cr_expect(strstr(err, want), "message '%s' lacks '%s'", err, want);
	cr_expect(strstr(err, s_dir), "message '%s' does not name the model", err);
	cr_expect_null(m.layers);
	cr_expect_null(m.weights);
	s_cleanup();
}

Test(model, synthetic_model_loads)
{
	struct vhs_nn_model m;
	char err[512];

	s_write(&s_valid);
	cr_assert_eq(vhs_nn_model_load(&m, s_dir, "t", 255, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(m.n_layers, 11);
	cr_expect_eq(m.scale, 4);
	cr_expect_eq(m.n_weights, N_WEIGHTS);
	cr_expect_eq(m.layers[1].op, VHS_NN_CONV);
	cr_expect_eq(m.layers[1].relu, 1);
	cr_expect_eq(m.layers[3].channels, 7, "concat of 3 + 4 channels");
	cr_expect_eq(m.layers[5].op, VHS_NN_MUL);
	cr_expect_float_eq(m.layers[5].beta, 0.2f, 1e-7);
	cr_expect_eq(m.layers[8].op, VHS_NN_DEPTH_TO_SPACE);
	cr_expect_eq(m.layers[8].channels, 3);
	cr_expect_eq(m.layers[9].stride, 4);
	/* halo: 1 + 1 (c3) + 0.5 (pixel shuffle) + 1/4... rounded up, plus one */
	cr_expect_geq(m.halo, 3);
	cr_expect_float_eq(m.layers[4].bias[0], m.weights[108 + 4 + 28], 0);
	vhs_nn_model_free(&m);
	s_cleanup();
}

Test(model, missing_shard)
{
	struct vhs_nn_model m;
	char err[512] = "", path[128];

	s_write(&s_valid);
	snprintf(path, sizeof(path), "%s/group1-shard2of2.bin", s_dir);
	cr_assert_eq(unlink(path), 0);
	cr_expect_eq(vhs_nn_model_load(&m, s_dir, "t", 255, err, sizeof(err)), -ENOENT, "%s", err);
	cr_expect(strstr(err, "group1-shard2of2.bin"), "%s", err);
	s_cleanup();
}

Test(model, truncated_shard)
{
	struct variant v = s_valid;

	v.shard2_delta = -5;
	s_refused(&v, -EINVAL, "truncated");
}

Test(model, overlong_shard)
{
	struct variant v = s_valid;

	v.shard2_delta = 8;
	s_refused(&v, -EINVAL, "more bytes");
}

Test(model, wrong_shape)
{
	struct variant v = s_valid;

	v.c1_shape = "3,3,3,5";
	v.shard2_delta = 27 * sizeof(float); /* the shards match the manifest, the layer does not */
	s_refused(&v, -EINVAL, "c1/kernel: shape is not [3, 3, 3, 4]");
}

Test(model, unknown_layer_type)
{
	struct variant v = s_valid;

	v.cls = "SeparableConv2D";
	s_refused(&v, -EINVAL, "unknown layer type SeparableConv2D");
}

Test(model, unknown_activation)
{
	struct variant v = s_valid;

	v.act = "sigmoid";
	s_refused(&v, -EINVAL, "activation 'sigmoid'");
}

Test(model, valid_padding_on_3x3)
{
	struct variant v = s_valid;

	v.padding = "valid";
	s_refused(&v, -EINVAL, "\"valid\" padding");
}

Test(model, missing_bias)
{
	struct variant v = s_valid;

	v.c2_bias = "";
	v.shard2_delta = -16;
	s_refused(&v, -EINVAL, "c2: its bias is missing");
}

Test(model, non_finite_weight)
{
	struct variant v = s_valid;

	v.nan = 1;
	s_refused(&v, -EINVAL, "not finite");
}

Test(model, not_json)
{
	struct vhs_nn_model m;
	char err[512] = "", path[128];
	FILE *f;

	s_write(&s_valid);
	snprintf(path, sizeof(path), "%s/model.json", s_dir);
	f = fopen(path, "w");
	fputs("{\"format\": \"layers-model\", \"modelTopology\": {", f);
	fclose(f);
	cr_expect_eq(vhs_nn_model_load(&m, s_dir, "t", 255, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "not valid JSON"), "%s", err);
	s_cleanup();
}

Test(model, missing_model)
{
	struct vhs_nn_model m;
	char err[512] = "";

	cr_expect_eq(vhs_nn_model_load(&m, "/nonexistent/model", "t", 255, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "model.json"), "%s", err);
	cr_expect_eq(vhs_nn_model_open(&m, "esrgan-huge", 2, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "unknown model 'esrgan-huge'"), "%s", err);
}

/* The three published families load at every scale we offer, with the graphs we expect. */
Test(model, real_models_load, .timeout = 60)
{
	static const struct {
		const char *name;
		int convs;
		float range;
	} want[] = { { "esrgan-slim", 12, 255 }, { "esrgan-medium", 28, 255 }, { "esrgan-thick", 154, 1 } };
	static const int scales[] = { 2, 3, 4, 8 };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		for (size_t s = 0; s < sizeof(scales) / sizeof(scales[0]); s++) {
			struct vhs_nn_model m;
			char err[512];
			int convs = 0;

			cr_assert_eq(vhs_nn_model_open(&m, want[i].name, scales[s], err, sizeof(err)), 0,
				     "%s (make models)", err);
			for (int l = 0; l < m.n_layers; l++)
				convs += m.layers[l].op == VHS_NN_CONV;
			cr_expect_eq(convs, want[i].convs, "%s x%d", want[i].name, scales[s]);
			cr_expect_eq(m.scale, scales[s]);
			cr_expect_float_eq(m.range, want[i].range, 0);
			cr_expect_eq(m.layers[m.output].channels, 3);
			vhs_nn_model_free(&m);
		}
}

/* The graph pass both backends run on (vhs_nn_model_plan), on a graph built by hand:
 *   0 INPUT -> 1 CONV -> 2 RELU -> 3 CONV(relu) -> 4 RELU -> 5 ADD(4, 3) -> 6 CONV (output)
 *   -> 7 RELU (read by nobody)
 * 2 fuses into 1 (its only reader); 4 does not fuse into 3 (3 has two readers); 7 does not fuse
 * into 6 (6 is the output, whose tensor must stay as it is). Last uses: each owner's last
 * reader, itself when none; the output's is n. */
Test(model, graph_plan_fuses_only_sole_relus)
{
	struct vhs_nn_layer l[8] = { { 0 } };
	struct vhs_nn_model m = { .layers = l, .n_layers = 8, .output = 6 };
	int in1[] = { 0 }, in2[] = { 1 }, in3[] = { 2 }, in4[] = { 3 }, in5[] = { 4, 3 }, in6[] = { 5 },
	    in7[] = { 6 };
	int *ins[] = { NULL, in1, in2, in3, in4, in5, in6, in7 };
	enum vhs_nn_op ops[] = { VHS_NN_INPUT, VHS_NN_CONV, VHS_NN_RELU, VHS_NN_CONV, VHS_NN_RELU,
				 VHS_NN_ADD, VHS_NN_CONV, VHS_NN_RELU };

	for (int i = 0; i < 8; i++) {
		l[i].op = ops[i];
		l[i].inputs = ins[i];
		l[i].n_inputs = i == 0 ? 0 : i == 5 ? 2 : 1;
	}
	l[3].relu = 1;
	vhs_nn_model_plan(&m);
	cr_assert_eq(l[2].owner, 1, "a RELU that is its CONV's only reader is fused");
	cr_assert(l[1].epilogue_relu);
	cr_assert_eq(l[4].owner, 4, "a CONV with two readers keeps its RELU apart");
	cr_assert(l[3].epilogue_relu, "its own activation");
	cr_assert_eq(l[7].owner, 7, "a RELU of the output is not fused");
	cr_assert_not(l[6].epilogue_relu);
	for (int i = 0; i < 8; i++)
		if (i != 2)
			cr_assert_eq(l[i].owner, i, "layer %d", i);
	cr_assert_eq(l[0].last_use, 1);
	cr_assert_eq(l[1].last_use, 3, "the fused tensor is read last by layer 3");
	cr_assert_eq(l[3].last_use, 5);
	cr_assert_eq(l[4].last_use, 5);
	cr_assert_eq(l[5].last_use, 6);
	cr_assert_eq(l[6].last_use, 8, "the output is never freed");
	cr_assert_eq(l[7].last_use, 7, "read by nobody: free once made");
}
