/* toml_helpers.h: what test_toml.c and test_toml_scalars.c share: parse a document and
 * expect it to pass or fail with a message, and look values up by path. */
#ifndef VHS_TEST_TOML_HELPERS_H
#define VHS_TEST_TOML_HELPERS_H

#include "toml.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[512] __attribute__((unused));

/* Parses n bytes from a heap copy of exactly that size. */
static inline int parse_n(const char *doc, size_t n, struct toml_value **root)
{
	char *copy = malloc(n ? n : 1);
	int ret;

	cr_assert(copy);
	memcpy(copy, doc, n);
	ret = toml_parse(copy, n, "t.toml", root, err, sizeof(err));
	free(copy);
	return ret;
}

static inline struct toml_value *ok(const char *doc)
{
	struct toml_value *root = NULL;
	int ret = parse_n(doc, strlen(doc), &root);

	cr_assert_eq(ret, 0, "parsing [%s] failed: %s", doc, err);
	cr_assert_not_null(root);
	cr_assert_eq(root->type, TOML_TABLE);
	return root;
}

static inline void bad(const char *doc, const char *msg)
{
	struct toml_value *root = (struct toml_value *)1;
	int ret = parse_n(doc, strlen(doc), &root);

	cr_assert_eq(ret, -EINVAL, "[%s] parsed (ret %d), expected: %s", doc, ret, msg);
	cr_assert_null(root, "root must be NULL on failure");
	cr_assert_str_eq(err, msg, "[%s]\n  got:  %s\n  want: %s", doc, err, msg);
}

/* The error must be one line shaped t.toml:L:C: text. */
static inline void check_err_shape(const char *doc)
{
	int line = 0, col = 0, used = 0;

	cr_assert_eq(sscanf(err, "t.toml:%d:%d: %n", &line, &col, &used), 2,
		     "[%s] bad message shape: %s", doc, err);
	cr_assert(line >= 1 && col >= 1 && used > 0 && err[used], "[%s]: %s", doc, err);
	cr_assert_null(strchr(err, '\n'), "[%s]: message spans lines: %s", doc, err);
}

static inline void bad_any(const char *doc)
{
	struct toml_value *root = NULL;
	int ret = parse_n(doc, strlen(doc), &root);

	cr_assert_eq(ret, -EINVAL, "[%s] should fail", doc);
	check_err_shape(doc);
}

/* The value at a dotted path of plain keys (no quoting needed in tests). */
static inline const struct toml_value *at(const struct toml_value *root, const char *path)
{
	char buf[256], *part, *save = NULL;
	const struct toml_value *v = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
		v = toml_get(v, part);
	cr_assert_not_null(v, "no value at %s", path);
	return v;
}

static inline void str_is(const char *doc, const char *want, size_t wantlen)
{
	struct toml_value *root = ok(doc);
	const struct toml_value *v = at(root, "s");

	cr_assert_eq(v->type, TOML_STRING, "[%s]", doc);
	cr_assert_eq(v->len, wantlen, "[%s] len %zu, want %zu", doc, v->len, wantlen);
	cr_assert_eq(memcmp(v->u.s, want, wantlen), 0, "[%s] gave [%s]", doc, v->u.s);
	cr_assert_eq(v->u.s[wantlen], '\0');
	toml_free(&root);
}

static inline void int_is(const char *doc, int64_t want)
{
	struct toml_value *root = ok(doc);
	const struct toml_value *v = at(root, "i");

	cr_assert_eq(v->type, TOML_INTEGER, "[%s] is %s", doc, toml_type_name(v->type));
	cr_assert_eq(v->u.i, want, "[%s] gave %lld", doc, (long long)v->u.i);
	toml_free(&root);
}

static inline void float_is(const char *doc, double want)
{
	struct toml_value *root = ok(doc);
	const struct toml_value *v = at(root, "f");

	cr_assert_eq(v->type, TOML_FLOAT, "[%s] is %s", doc, toml_type_name(v->type));
	if (isnan(want))
		cr_assert(isnan(v->u.f), "[%s]", doc);
	else
		cr_assert(v->u.f == want, "[%s] gave %.17g, want %.17g", doc, v->u.f, want);
	cr_assert_eq(!!signbit(v->u.f), !!signbit(want), "[%s] sign", doc);
	toml_free(&root);
}

#define STR(doc, want) str_is(doc, want, sizeof(want) - 1)

#endif
