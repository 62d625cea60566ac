/* test_kv.c: the CONFIG blob reader (proto/kv.c).
 *
 * The blob is what vhs_job_to_kv() writes; test_job.c checks that round trip. Here: exact
 * key matching, unescaping, buffer sizes to the byte, and integer parsing.
 */
#include "kv.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static const char blob[] =
	"input=/data/tape01.avi\n"
	"preset=vhs\n"
	"encode.preset=fast\n"
	"encode.crf=18\n"
	"encode.crfx=7\n"
	"video.filters=a\\\\b\\nc\\td\n"
	"empty=\n"
	"neg=-42\n"
	"big=9223372036854775807\n"
	"huge=9223372036854775808\n"
	"spaced= 5\n"
	"text=12abc\n"
	"dup=first\n"
	"dup=second\n"
	"eq=a=b\n"
	"trail=x\\\n"
	"last=no newline";

Test(kv, get_exact_keys)
{
	char buf[64];

	cr_assert_eq(vhs_kv_get(blob, "input", buf, sizeof(buf)), 16);
	cr_assert_str_eq(buf, "/data/tape01.avi");
	cr_assert_eq(vhs_kv_get(blob, "preset", buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "vhs", "'preset' must not find 'encode.preset'");
	cr_assert_eq(vhs_kv_get(blob, "encode.preset", buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "fast");
	cr_assert_eq(vhs_kv_get(blob, "encode.crf", buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "18", "'encode.crf' must not find 'encode.crfx'");
	cr_assert_eq(vhs_kv_get(blob, "encode.cr", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(vhs_kv_get(blob, "crf", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(vhs_kv_get(blob, "nothere", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(vhs_kv_get(blob, "", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(vhs_kv_get(blob, "dup", buf, sizeof(buf)), 5);
	cr_assert_str_eq(buf, "first", "the first line wins");
	cr_assert_eq(vhs_kv_get(blob, "eq", buf, sizeof(buf)), 3);
	cr_assert_str_eq(buf, "a=b");
	cr_assert_eq(vhs_kv_get(blob, "last", buf, sizeof(buf)), 10);
	cr_assert_str_eq(buf, "no newline");
	cr_assert_eq(vhs_kv_get(blob, "empty", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(vhs_kv_get("", "input", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(vhs_kv_get(NULL, "input", buf, sizeof(buf)), -ENOENT);
}

Test(kv, unescape)
{
	char buf[64];

	cr_assert_eq(vhs_kv_get(blob, "video.filters", buf, sizeof(buf)), 8);
	cr_assert_str_eq(buf, "a\\b\nc\\td", "\\\\ and \\n are escapes; \\t is not");
	cr_assert_eq(vhs_kv_get(blob, "trail", buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "x\\", "a lone trailing backslash stands for itself");
	cr_assert_eq(vhs_kv_get("k=\\\\n\n", "k", buf, sizeof(buf)), 2);
	cr_assert_str_eq(buf, "\\n", "\\\\ then n, not \\ then \\n");
}

Test(kv, buffer_sizes)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	cr_assert_eq(vhs_kv_get(blob, "preset", buf, 3), -ENOSPC, "3 bytes + NUL needs 4");
	cr_assert_eq(vhs_kv_get(blob, "preset", buf, 4), 3);
	cr_assert_str_eq(buf, "vhs");
	cr_assert_eq(buf[4], 'Z', "nothing written past buflen");
	cr_assert_eq(vhs_kv_get(blob, "empty", buf, 0), -ENOSPC);
	cr_assert_eq(vhs_kv_get(blob, "empty", buf, 1), 0);
	cr_assert_eq(vhs_kv_get(blob, "video.filters", buf, 8), -ENOSPC, "8 unescaped + NUL");
}

Test(kv, buffer_exact_unescaped_length)
{
	char buf[9];

	cr_assert_eq(vhs_kv_get(blob, "video.filters", buf, sizeof(buf)), 8,
		     "the limit counts unescaped bytes");
	cr_assert_str_eq(buf, "a\\b\nc\\td");
}

Test(kv, integers)
{
	long long v = 0;

	cr_assert_eq(vhs_kv_get_int(blob, "encode.crf", &v), 0);
	cr_assert_eq(v, 18);
	cr_assert_eq(vhs_kv_get_int(blob, "neg", &v), 0);
	cr_assert_eq(v, -42);
	cr_assert_eq(vhs_kv_get_int(blob, "big", &v), 0);
	cr_assert_eq(v, 9223372036854775807LL);
	v = 99;
	cr_assert_eq(vhs_kv_get_int(blob, "huge", &v), -EINVAL);
	cr_assert_eq(vhs_kv_get_int(blob, "spaced", &v), -EINVAL);
	cr_assert_eq(vhs_kv_get_int(blob, "text", &v), -EINVAL);
	cr_assert_eq(vhs_kv_get_int(blob, "empty", &v), -EINVAL);
	cr_assert_eq(vhs_kv_get_int(blob, "preset", &v), -EINVAL);
	cr_assert_eq(vhs_kv_get_int(blob, "nothere", &v), -ENOENT);
	cr_assert_eq(v, 99, "untouched on failure");
	cr_assert_eq(vhs_kv_get_int("k=123456789012345678901234567890\n", "k", &v), -EINVAL,
		     "longer than the internal buffer");
}
