/* cuda_mcdeint.h: the motion-compensated deinterlacer (mcdeint.h) on an NVIDIA GPU, frame
 * for frame the CPU's (C interface to mcdeint.cu).
 *
 * DESIGN
 * The same calls as mcdeint.h, in the same order and with the same meaning: fields in,
 * frames out, one per field. Every step runs on the device in the CPU's integer arithmetic,
 * so every output frame is the CPU's bit for bit (tests/gpu/test_cuda_mcdeint.c checks it).
 * Pictures in and out may lie in host or device memory (a GPU edge's buffers): the copies
 * go whichever way the pointers say, and a device picture never comes down.
 *
 * Every CUDA call is checked; a failure becomes -EIO with the call and CUDA's message in
 * vhs_cuda_mcdeint_error(). Without CUDA in the build (cuda_stub.c) open fails with
 * -ENODEV and says why.
 */
#ifndef VHS_CUDA_MCDEINT_H
#define VHS_CUDA_MCDEINT_H

#include <stddef.h>
#include <stdint.h>

#include "mcdeint.h"

struct vhs_cuda_mcdeint;

/* A deinterlacer on the current CUDA device for fields of frames of this format and size
 * (params->threads is ignored). Returns 0, -EINVAL (as vhs_mcdeint_open), -ENODEV (no CUDA,
 * no device) or -EIO / -ENOMEM, with the reason in err. */
int vhs_cuda_mcdeint_open(struct vhs_cuda_mcdeint **d, const struct vhs_mcdeint_params *params,
			  const struct vhs_pixfmt *fmt, int width, int height, char *err, size_t errlen);

/* As vhs_mcdeint_push(): one field in, frame's rows of `parity`. Returns 0 or -EIO. */
int vhs_cuda_mcdeint_push(struct vhs_cuda_mcdeint *d, const struct vhs_picture *frame, int parity);

/* As vhs_mcdeint_end(). Returns 0 or -EIO. */
int vhs_cuda_mcdeint_end(struct vhs_cuda_mcdeint *d);

/* As vhs_mcdeint_pull(): the next frame into out, written when this returns. Returns 1, 0
 * (more fields needed, or all given), or -EIO. */
int vhs_cuda_mcdeint_pull(struct vhs_cuda_mcdeint *d, struct vhs_picture *out);

/* Nanoseconds of device time the frames out so far took (CUDA events around each push's and
 * pull's work). */
uint64_t vhs_cuda_mcdeint_gpu_ns(const struct vhs_cuda_mcdeint *d);

/* The last error's text (empty when none). */
const char *vhs_cuda_mcdeint_error(const struct vhs_cuda_mcdeint *d);

/* Frees its device memory; sets *d to NULL (safe on NULL). */
void vhs_cuda_mcdeint_close(struct vhs_cuda_mcdeint **d);

#endif
