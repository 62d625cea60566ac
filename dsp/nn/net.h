/* net.h: the CPU reference implementation of a model (model.h), float32, in plain C.
 *
 * DESIGN
 * Correct first: every layer computes exactly what model.h says, in float32, with a fixed
 * order of summation, so results do not depend on tiling or thread count (tested: tiled
 * equals whole-frame bit for bit). Reasonably fast second: convolutions run over NHWC
 * rows with the output channels innermost (the kernel's own layout, so the inner loop is
 * a vector multiply-add over cout), blocks of pixels share each weight load, and rows are
 * split across threads.
 *
 * Tiling: a frame is cut into tiles; each tile is computed with model->halo pixels of real
 * input around it (less at the frame's edges, where the network pads with zeros just as
 * it does for the whole frame), and only its own region of the output is kept. Tiles
 * bound memory: each tensor of a tile is (tile + 2 halo)^2 x channels floats, and a tensor
 * is freed after its last use.
 */
#ifndef VHS_NET_H
#define VHS_NET_H

#include <stddef.h>

#include "model.h"

struct vhs_nn_cpu;

/* Prepares running m with `threads` threads (0 = 1); tiles are sized so the live tensors
 * of one tile stay under max_bytes (0 = 512 MiB, or up to a quarter of the RAM (at most
 * 4 GiB) when 512 MiB tiles would be more than half halo). Returns 0 or -ENOMEM / -EINVAL. */
int vhs_nn_cpu_open(struct vhs_nn_cpu **out, const struct vhs_nn_model *m, int threads,
		    size_t max_bytes);

/* Forces the tile size in input pixels (tests; 0 = automatic). */
void vhs_nn_cpu_set_tile(struct vhs_nn_cpu *c, int tile_w, int tile_h);

/* Plans and allocates the working memory for w x h frames now (and touches it, so it is
 * resident: the memory plan measures stage processes after start-up). Optional: run does it
 * when the size changes. Returns 0 or -ENOMEM. */
int vhs_nn_cpu_prepare(struct vhs_nn_cpu *c, int w, int h);

/* HWC float RGB, w x h, values in [0, range] -> HWC float RGB (w * scale) x (h * scale).
 * Returns 0 or -ENOMEM. */
int vhs_nn_cpu_run(struct vhs_nn_cpu *c, const float *in, int w, int h, float *out);

/* Frees the network and its threads; sets *cp to NULL (safe on NULL). */
void vhs_nn_cpu_close(struct vhs_nn_cpu **cp);

#endif
