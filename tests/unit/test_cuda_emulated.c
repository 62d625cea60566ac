/* test_cuda_emulated.c: the GPU deinterlacer's source (dsp/cuda/mcdeint.cu) compiled as plain
 * C++ with the CUDA runtime emulated (dsp/cuda/emulate.h) and run on the CPU: its frames must
 * be the CPU deinterlacer's, sample for sample, in every case tests/gpu/test_cuda_mcdeint.c
 * runs on a GPU. This holds every kernel's arithmetic, indexing and bounds (under the
 * sanitizers too) to the reference on machines without a GPU; the warps' split of the work,
 * the barriers and the device's memory model only a GPU run checks.
 */
#include <criterion/criterion.h>

#include "../gpu/mcdeint_compare.h"

Test(cuda_emulated, frames_are_the_cpus)
{
	for (size_t i = 0; i < sizeof(mc_cases) / sizeof(mc_cases[0]); i++) {
		const struct mc_case *c = &mc_cases[i];
		char msg[256] = "";
		int frames, ret = mc_compare(c, &frames, msg, sizeof(msg));

		cr_assert_eq(ret, 0, "case %zu (%s, sharpen %d, %s %dx%d): %s", i, c->preset, c->sharpen, c->fmt, c->width,
			     c->height, msg);
		cr_assert_eq(frames, c->fields);
	}
}
