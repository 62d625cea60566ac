/* test_pixfmt.c: the pixel format table (dsp/image/pixfmt.c): names and flags, plane sizes
 * rounded up for odd pictures, and the slot layout's alignment. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "pixfmt.h"

/* ---- pixfmt ------------------------------------------------------------------------------- */

Test(pixfmt, names_and_flags)
{
	static const char *names[] = {
		"gray", "gray10le", "gray12le", "gray16le", "yuv420p", "yuv422p", "yuv444p",
		"yuv411p", "yuv410p", "yuv440p", "yuvj420p", "yuvj422p", "yuvj444p", "yuvj411p",
		"yuvj440p", "yuv420p10le", "yuv422p10le", "yuv444p10le", "yuv420p12le",
		"yuv422p12le", "yuv444p12le", "yuv420p16le", "yuv422p16le", "yuv444p16le", "gbrp",
		"gbrp10le", "gbrp12le", "gbrp16le",
	};
	const struct vhs_pixfmt *f;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		f = vhs_pixfmt_find(names[i]);
		cr_assert_not_null(f, "%s", names[i]);
		cr_assert_str_eq(f->name, names[i]);
		cr_assert_eq(f->bytes, f->depth > 8 ? 2 : 1, "%s", names[i]);
		cr_assert_eq(f->full_range, !strncmp(names[i], "yuvj", 4) || f->rgb, "%s", names[i]);
	}
	cr_assert_null(vhs_pixfmt_find("rgb24"));
	cr_assert_null(vhs_pixfmt_find("yuv420"));
	cr_assert_null(vhs_pixfmt_find(""));
	f = vhs_pixfmt_find("gbrp12le");
	cr_assert(f->rgb && f->planes == 3 && f->depth == 12 && !f->log2_cw && !f->log2_ch);
	f = vhs_pixfmt_find("gray16le");
	cr_assert(!f->rgb && f->planes == 1 && f->depth == 16);
	f = vhs_pixfmt_find("yuv410p");
	cr_assert(f->log2_cw == 2 && f->log2_ch == 2);
	f = vhs_pixfmt_find("yuvj440p");
	cr_assert(f->log2_cw == 0 && f->log2_ch == 1 && f->full_range);
}

Test(pixfmt, plane_sizes_round_up)
{
	const struct vhs_pixfmt *f420 = vhs_pixfmt_find("yuv420p");
	const struct vhs_pixfmt *f411 = vhs_pixfmt_find("yuv411p");
	const struct vhs_pixfmt *f410 = vhs_pixfmt_find("yuv410p");
	const struct vhs_pixfmt *gbrp = vhs_pixfmt_find("gbrp");
	const struct vhs_pixfmt *gray = vhs_pixfmt_find("gray");

	cr_assert_eq(vhs_pixfmt_plane_width(f420, 0, 5), 5);
	cr_assert_eq(vhs_pixfmt_plane_width(f420, 1, 5), 3);
	cr_assert_eq(vhs_pixfmt_plane_height(f420, 2, 3), 2);
	cr_assert_eq(vhs_pixfmt_plane_width(f411, 1, 5), 2);
	cr_assert_eq(vhs_pixfmt_plane_height(f411, 1, 5), 5);
	cr_assert_eq(vhs_pixfmt_plane_width(f410, 2, 9), 3);
	cr_assert_eq(vhs_pixfmt_plane_height(f410, 2, 9), 3);
	cr_assert_eq(vhs_pixfmt_plane_width(gbrp, 2, 7), 7);
	cr_assert_eq(vhs_pixfmt_plane_height(gbrp, 1, 7), 7);
	cr_assert_eq(vhs_pixfmt_plane_width(gray, 1, 7), 0);
}

Test(pixfmt, layout_is_aligned)
{
	const struct vhs_pixfmt *f = vhs_pixfmt_find("yuv420p");
	uint32_t off[4];
	int32_t ls[4];
	size_t n = vhs_pixfmt_layout(f, 720, 480, off, ls);

	cr_assert_eq(ls[0], 768);
	cr_assert_eq(ls[1], 384);
	cr_assert_eq(ls[2], 384);
	cr_assert_eq(ls[3], 0);
	cr_assert_eq(off[0], 0);
	cr_assert_eq(off[1], 768 * 480);
	cr_assert_eq(off[2], 768 * 480 + 384 * 240);
	cr_assert_eq(n, 768 * 480 + 2 * 384 * 240);

	f = vhs_pixfmt_find("yuv422p10le");
	n = vhs_pixfmt_layout(f, 33, 7, off, ls);
	cr_assert_eq(ls[0], 128); /* 66 bytes */
	cr_assert_eq(ls[1], 64);  /* 17 samples, 34 bytes */
	cr_assert_eq(off[1], 128 * 7);
	for (int p = 0; p < 3; p++) {
		cr_assert_eq(off[p] % 64, 0);
		cr_assert_eq(ls[p] % 64, 0);
	}
	cr_assert_eq(off[2], off[1] + 64 * 7);
	cr_assert_eq(n, off[2] + 64 * 7);

	f = vhs_pixfmt_find("gray");
	n = vhs_pixfmt_layout(f, 3, 3, off, ls);
	cr_assert(ls[0] == 64 && ls[1] == 0 && off[1] == 0 && n == 192);
}
