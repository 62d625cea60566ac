/* toml.c: a TOML 1.0 reader for job files and presets (see toml.h for the tree).
 *
 * DESIGN
 * One pass, recursive descent, over a byte buffer that is first checked to be valid
 * UTF-8. Every read goes through tp_peek(p, k), which answers -1 past the end, so no
 * input can make the parser read out of bounds; every consumed byte goes through
 * tp_adv(), which keeps line and column (1-based, bytes) for messages.
 *
 *   document   = *( ws [ keyval | [table] | [[array-table]] ] ws [ comment ] newline )
 *   keyval     = key *( "." key ) ws "=" ws value
 *   value      = string | integer | float | boolean | array | inline-table
 *
 * TOML's redefinition rules depend on how a table came to exist, which the public tree
 * does not say. So every node is allocated as a struct s_node, a toml_value followed by
 * its origin (enum s_how); the public pointer is the first member, so the cast back is
 * free and toml_free() releases nodes with plain free():
 *
 *   S_IMPLICIT  [a] in [a.b]: may be defined once more by its own [a] header
 *   S_HEADER    [a] or one [[a]] element: never defined again, never extended by dots
 *   S_DOTTED    a in a.b = 1: extended by more dotted keys, never by a [a] header
 *   S_INLINE    { ... }: sealed once its closing brace is read
 *   S_AOT       the array behind [[a]]: [[a]] appends, [a.b] reaches its last element
 *   S_VALUE     everything else (scalars, static arrays): never extended
 *
 * Nesting (arrays, inline tables) is limited to S_MAX_DEPTH and keys to S_MAX_PARTS
 * components, so neither the parser's nor toml_free()'s recursion can exhaust the stack.
 * Dates and times are recognised (NNNN- or NN:) and refused. The first error wins: it is
 * written once as `FILE:LINE:COL: message` and every caller unwinds with its code.
 */

#include "toml_parse.h"

#include "readfile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_value(struct s_parser *p, struct toml_value **out);
static int s_keyval(struct s_parser *p, struct toml_value *tab);

int tp_peek(const struct s_parser *p, size_t ahead)
{
	if (p->pos + ahead >= p->len || p->pos + ahead < p->pos)
		return -1;
	return (unsigned char)p->text[p->pos + ahead];
}

void tp_adv(struct s_parser *p)
{
	if (p->pos >= p->len)
		return;
	if (p->text[p->pos] == '\n') {
		p->line++;
		p->line_start = p->pos + 1;
	}
	p->pos++;
}

void tp_advn(struct s_parser *p, size_t n)
{
	while (n--)
		tp_adv(p);
}

int tp_col(const struct s_parser *p)
{
	return (int)(p->pos - p->line_start) + 1;
}

/* Rewrites control characters in a finished message as \n or \xHH, so that a key or
 * value quoted in it cannot break the one-line rule. */
void toml_one_line(char *msg, size_t len)
{
	size_t i, at = 0;
	unsigned char c;
	char *copy;

	for (i = 0; msg[i] && ((unsigned char)msg[i] >= 0x20 || msg[i] == '\t') && msg[i] != 0x7f;)
		i++;
	if (!msg[i])
		return;
	copy = strdup(msg);
	for (i = 0; copy && copy[i] && at + 5 < len; i++) {
		c = (unsigned char)copy[i];
		if ((c >= 0x20 && c != 0x7f) || c == '\t')
			msg[at++] = (char)c;
		else
			at += (size_t)snprintf(msg + at, len - at,
					       c == '\n' ? "\\n" : "\\x%02X", c);
	}
	for (i = 0; !copy && msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	if (copy)
		msg[at] = '\0';
	free(copy);
}

static int s_vfail(struct s_parser *p, int line, int col, const char *fmt, va_list ap)
{
	int n;

	if (p->failed || !p->err || !p->errlen)
		goto out;
	n = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->file, line, col);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	toml_one_line(p->err, p->errlen);
out:
	p->failed = true;
	return -EINVAL;
}

int tp_fail_at(struct s_parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = s_vfail(p, line, col, fmt, ap);
	va_end(ap);
	return ret;
}

int tp_fail(struct s_parser *p, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = s_vfail(p, p->line, tp_col(p), fmt, ap);
	va_end(ap);
	return ret;
}

int tp_oom(struct s_parser *p)
{
	if (!p->failed && p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
	p->failed = true;
	return -ENOMEM;
}

/* Names the byte at pos for a message: 'x', end of file, newline, or U+XXXX. */
const char *tp_what(const struct s_parser *p, char *buf, size_t len)
{
	int c = tp_peek(p, 0);

	if (c < 0)
		return "end of file";
	if (c == '\n' || (c == '\r' && tp_peek(p, 1) == '\n'))
		return "end of line";
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else if (c < 0x80)
		snprintf(buf, len, "U+%04X", (unsigned)c);
	else
		snprintf(buf, len, "byte 0x%02X", (unsigned)c);
	return buf;
}

int tp_unexpected(struct s_parser *p, const char *expected)
{
	char buf[16];

	return tp_fail(p, "expected %s, found %s", expected, tp_what(p, buf, sizeof(buf)));
}

static enum s_how s_how_of(const struct toml_value *v)
{
	return ((const struct s_node *)v)->how;
}

static void s_set_how(struct toml_value *v, enum s_how how)
{
	((struct s_node *)v)->how = how;
}

struct toml_value *tp_node_new(enum toml_type type, enum s_how how, int line, int col)
{
	struct s_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->v.type = type;
	n->v.line = line;
	n->v.col = col;
	n->how = how;
	return &n->v;
}

static void s_node_free(struct toml_value *v)
{
	size_t i;

	if (!v)
		return;
	if (v->type == TOML_STRING) {
		free(v->u.s);
	} else if (v->type == TOML_ARRAY) {
		for (i = 0; i < v->u.arr.n; i++)
			s_node_free(v->u.arr.items[i]);
		free(v->u.arr.items);
	} else if (v->type == TOML_TABLE) {
		for (i = 0; i < v->u.tab.n; i++) {
			free(v->u.tab.items[i].key);
			s_node_free(v->u.tab.items[i].val);
		}
		free(v->u.tab.items);
	}
	free((struct s_node *)v);
}

static struct toml_kv *s_tab_find(const struct toml_value *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->u.tab.n; i++)
		if (strcmp(t->u.tab.items[i].key, key) == 0)
			return &t->u.tab.items[i];
	return NULL;
}

/* Adds key = v to table t; on success t owns v. */
static int s_tab_add(struct toml_value *t, const char *key, int line, int col,
		     struct toml_value *v)
{
	struct toml_kv *items;
	char *k = strdup(key);

	if (!k)
		return -ENOMEM;
	items = realloc(t->u.tab.items, (t->u.tab.n + 1) * sizeof(*items));
	if (!items) {
		free(k);
		return -ENOMEM;
	}
	items[t->u.tab.n] = (struct toml_kv){ .key = k, .line = line, .col = col, .val = v };
	t->u.tab.items = items;
	t->u.tab.n++;
	return 0;
}

/* Appends v to array a; on success a owns v. */
static int s_arr_push(struct toml_value *a, struct toml_value *v)
{
	struct toml_value **items = realloc(a->u.arr.items, (a->u.arr.n + 1) * sizeof(*items));

	if (!items)
		return -ENOMEM;
	items[a->u.arr.n++] = v;
	a->u.arr.items = items;
	return 0;
}

static int s_string_value(struct s_parser *p, struct toml_value **out)
{
	struct s_buf b = { 0 };
	int ret;

	*out = tp_node_new(TOML_STRING, S_VALUE, p->line, tp_col(p));
	if (!*out)
		return tp_oom(p);
	ret = tp_string(p, &b);
	if (!ret && !b.s && tp_buf_put(&b, "", 0))
		ret = tp_oom(p);
	if (ret) {
		free(b.s);
		return ret;
	}
	(*out)->u.s = b.s;
	(*out)->len = b.n;
	return 0;
}

static int s_array(struct s_parser *p, struct toml_value **out)
{
	int line = p->line, col = tp_col(p), ret;
	struct toml_value *item;

	*out = tp_node_new(TOML_ARRAY, S_VALUE, line, col);
	if (!*out)
		return tp_oom(p);
	tp_adv(p);
	for (;;) {
		ret = tp_skip_blank(p);
		if (ret || tp_peek(p, 0) == ']')
			break;
		item = NULL;
		ret = s_value(p, &item);
		if (!ret && s_arr_push(*out, item))
			ret = tp_oom(p);
		if (ret) {
			s_node_free(item);
			return ret;
		}
		ret = tp_skip_blank(p);
		if (ret || tp_peek(p, 0) == ']')
			break;
		if (tp_peek(p, 0) != ',')
			return tp_peek(p, 0) < 0 ? tp_fail_at(p, line, col, "unterminated array")
						 : tp_unexpected(p, "',' or ']' in array");
		tp_adv(p);
	}
	if (!ret)
		tp_adv(p);
	return ret;
}

static int s_inline_sep(struct s_parser *p, int line, int col)
{
	tp_skip_ws(p);
	if (tp_peek(p, 0) == '}')
		return 1;
	if (tp_peek(p, 0) == ',') {
		tp_adv(p);
		tp_skip_ws(p);
		if (tp_peek(p, 0) == '}')
			return tp_fail(p, "trailing comma is not allowed in an inline table");
		return 0;
	}
	if (tp_peek(p, 0) < 0)
		return tp_fail_at(p, line, col, "unterminated inline table");
	if (tp_at_newline(p) || tp_peek(p, 0) == '#')
		return tp_fail(p, "newlines are not allowed in an inline table");
	return tp_unexpected(p, "',' or '}' in inline table");
}

static int s_inline_table(struct s_parser *p, struct toml_value **out)
{
	int line = p->line, col = tp_col(p), ret;

	*out = tp_node_new(TOML_TABLE, S_INLINE, line, col);
	if (!*out)
		return tp_oom(p);
	tp_adv(p);
	tp_skip_ws(p);
	if (tp_peek(p, 0) == '}') {
		tp_adv(p);
		return 0;
	}
	do {
		tp_skip_ws(p);
		if (tp_at_newline(p) || tp_peek(p, 0) == '#')
			return tp_fail(p, "newlines are not allowed in an inline table");
		ret = s_keyval(p, *out);
		if (!ret)
			ret = s_inline_sep(p, line, col);
	} while (ret == 0);
	if (ret < 0)
		return ret;
	tp_adv(p);
	return 0;
}

static int s_word(struct s_parser *p, const char *w)
{
	size_t i, n = strlen(w);

	for (i = 0; i < n; i++)
		if (tp_peek(p, i) != (unsigned char)w[i])
			return 0;
	return tp_numchar(tp_peek(p, n)) ? 0 : 1;
}

static int s_bool(struct s_parser *p, struct toml_value **out)
{
	bool t = s_word(p, "true");

	if (!t && !s_word(p, "false"))
		return tp_unexpected(p, "a value");
	*out = tp_node_new(TOML_BOOL, S_VALUE, p->line, tp_col(p));
	if (!*out)
		return tp_oom(p);
	(*out)->u.b = t;
	tp_advn(p, t ? 4 : 5);
	return 0;
}

static int s_value_at(struct s_parser *p, struct toml_value **out)
{
	int c = tp_peek(p, 0);

	if (c == '"' || c == '\'')
		return s_string_value(p, out);
	if (c == '[')
		return s_array(p, out);
	if (c == '{')
		return s_inline_table(p, out);
	if (c == 't' || c == 'f')
		return s_bool(p, out);
	if (tp_is_digit(c) || c == '+' || c == '-' || s_word(p, "inf") || s_word(p, "nan"))
		return tp_number(p, out);
	return tp_unexpected(p, "a value");
}

/* Parses one value at pos into *out. On failure *out may hold a partial node, which the
 * caller frees. */
static int s_value(struct s_parser *p, struct toml_value **out)
{
	int nest = tp_peek(p, 0) == '[' || tp_peek(p, 0) == '{', ret;

	if (nest && p->depth >= S_MAX_DEPTH)
		return tp_fail(p, "arrays and inline tables nested more than %d deep", S_MAX_DEPTH);
	p->depth += nest;
	ret = s_value_at(p, out);
	p->depth -= nest;
	return ret;
}

static const char *s_article(enum toml_type t)
{
	return (t == TOML_INTEGER || t == TOML_ARRAY) ? "an" : "a";
}

/* Walks the first n-1 parts of a dotted key from tab, creating S_DOTTED tables. */
static int s_dotted_walk(struct s_parser *p, struct toml_value **tab, const struct s_key *k)
{
	struct toml_value *t = *tab, *v;
	struct toml_kv *kv;
	size_t i;

	for (i = 0; i + 1 < k->n; i++) {
		kv = s_tab_find(t, k->parts[i]);
		if (!kv) {
			v = tp_node_new(TOML_TABLE, S_DOTTED, k->line[i], k->col[i]);
			if (!v || s_tab_add(t, k->parts[i], k->line[i], k->col[i], v)) {
				free(v);
				return tp_oom(p);
			}
			t = v;
			continue;
		}
		v = kv->val;
		if (v->type != TOML_TABLE)
			return tp_fail_at(p, k->line[i], k->col[i],
					 "'%s' is already %s %s (line %d)", kv->key,
					 s_article(v->type), toml_type_name(v->type), kv->line);
		if (s_how_of(v) != S_DOTTED)
			return tp_fail_at(p, k->line[i], k->col[i],
					 "table '%s' (line %d) cannot be extended with dotted keys",
					 kv->key, kv->line);
		t = v;
	}
	*tab = t;
	return 0;
}

/* key = value into tab (the current table, or an inline table being read). */
static int s_keyval(struct s_parser *p, struct toml_value *tab)
{
	struct s_key k = { .n = 0 };
	struct toml_value *val = NULL;
	struct toml_kv *kv;
	int ret;

	ret = tp_dotted_key(p, &k);
	if (ret)
		goto out;
	if (tp_peek(p, 0) != '=') {
		ret = tp_unexpected(p, "'=' after a key");
		goto out;
	}
	tp_adv(p);
	tp_skip_ws(p);
	ret = s_value(p, &val);
	if (!ret)
		ret = s_dotted_walk(p, &tab, &k);
	if (ret)
		goto out;
	kv = s_tab_find(tab, k.parts[k.n - 1]);
	if (kv)
		ret = tp_fail_at(p, k.line[k.n - 1], k.col[k.n - 1],
				"duplicate key '%s' (first defined at line %d)", kv->key, kv->line);
	else if (s_tab_add(tab, k.parts[k.n - 1], k.line[k.n - 1], k.col[k.n - 1], val))
		ret = tp_oom(p);
	else
		val = NULL;
out:
	s_node_free(val);
	tp_key_free(&k);
	return ret;
}

/* The parts of k joined with dots, for messages (truncated to len). */
static const char *s_key_name(const struct s_key *k, char *buf, size_t len)
{
	size_t i, at = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < k->n && at < len; i++) {
		n = snprintf(buf + at, len - at, "%s%s", i ? "." : "", k->parts[i]);
		if (n < 0)
			break;
		at += (size_t)n;
	}
	return buf;
}

/* Walks the first n-1 parts of a header from the root, creating S_IMPLICIT tables and
 * stepping into the last element of arrays of tables. */
static int s_header_walk(struct s_parser *p, const struct s_key *k, struct toml_value **tab)
{
	struct toml_value *t = p->root, *v;
	struct toml_kv *kv;
	size_t i;

	for (i = 0; i + 1 < k->n; i++) {
		kv = s_tab_find(t, k->parts[i]);
		if (!kv) {
			v = tp_node_new(TOML_TABLE, S_IMPLICIT, k->line[i], k->col[i]);
			if (!v || s_tab_add(t, k->parts[i], k->line[i], k->col[i], v)) {
				free(v);
				return tp_oom(p);
			}
		} else if (kv->val->type == TOML_ARRAY && s_how_of(kv->val) == S_AOT) {
			v = kv->val->u.arr.items[kv->val->u.arr.n - 1];
		} else if (kv->val->type == TOML_TABLE && s_how_of(kv->val) != S_INLINE) {
			v = kv->val;
		} else {
			return tp_fail_at(p, k->line[i], k->col[i],
					 "'%s' is already %s %s (line %d) and cannot hold a table",
					 kv->key,
					 kv->val->type == TOML_TABLE ? "an inline"
								     : s_article(kv->val->type),
					 toml_type_name(kv->val->type), kv->line);
		}
		t = v;
	}
	*tab = t;
	return 0;
}

/* Why [name] cannot be defined over an existing value v, or NULL if it can. */
static const char *s_table_clash(const struct toml_value *v)
{
	if (v->type == TOML_TABLE) {
		switch (s_how_of(v)) {
		case S_IMPLICIT:
			return NULL;
		case S_DOTTED:
			return "was already defined by dotted keys";
		case S_INLINE:
			return "was already defined as an inline table";
		default:
			return "is defined twice";
		}
	}
	if (v->type == TOML_ARRAY && s_how_of(v) == S_AOT)
		return "is an array of tables, written [[...]]";
	return "is already a value";
}

static int s_table_header(struct s_parser *p, const struct s_key *k, struct toml_value *t,
			  int line, int col)
{
	const char *last = k->parts[k->n - 1], *why;
	struct toml_kv *kv = s_tab_find(t, last);
	struct toml_value *v;
	char name[256];

	if (!kv) {
		v = tp_node_new(TOML_TABLE, S_HEADER, line, col);
		if (!v || s_tab_add(t, last, k->line[k->n - 1], k->col[k->n - 1], v)) {
			free(v);
			return tp_oom(p);
		}
		p->cur = v;
		return 0;
	}
	why = s_table_clash(kv->val);
	if (why)
		return tp_fail_at(p, k->line[k->n - 1], k->col[k->n - 1],
				 "table [%s] %s (line %d)", s_key_name(k, name, sizeof(name)), why,
				 kv->line);
	s_set_how(kv->val, S_HEADER);
	kv->val->line = line;
	kv->val->col = col;
	kv->line = k->line[k->n - 1];
	kv->col = k->col[k->n - 1];
	p->cur = kv->val;
	return 0;
}

static int s_aot_header(struct s_parser *p, const struct s_key *k, struct toml_value *t,
			int line, int col)
{
	const char *last = k->parts[k->n - 1];
	struct toml_kv *kv = s_tab_find(t, last);
	struct toml_value *arr, *el;
	char name[256];

	if (!kv) {
		arr = tp_node_new(TOML_ARRAY, S_AOT, line, col);
		if (!arr || s_tab_add(t, last, k->line[k->n - 1], k->col[k->n - 1], arr)) {
			free(arr);
			return tp_oom(p);
		}
	} else if (kv->val->type == TOML_ARRAY && s_how_of(kv->val) == S_AOT) {
		arr = kv->val;
	} else {
		if (kv->val->type == TOML_ARRAY)
			return tp_fail_at(p, k->line[k->n - 1], k->col[k->n - 1],
					 "cannot append to statically defined array '%s' (line %d)",
					 s_key_name(k, name, sizeof(name)), kv->line);
		return tp_fail_at(p, k->line[k->n - 1], k->col[k->n - 1],
				 "'%s' is already %s %s (line %d), not an array of tables",
				 s_key_name(k, name, sizeof(name)), s_article(kv->val->type),
				 toml_type_name(kv->val->type), kv->line);
	}
	el = tp_node_new(TOML_TABLE, S_HEADER, line, col);
	if (!el || s_arr_push(arr, el)) {
		free(el);
		return tp_oom(p);
	}
	p->cur = el;
	return 0;
}

/* [a.b] or [[a.b]], at the first bracket. */
static int s_header(struct s_parser *p)
{
	int line = p->line, col = tp_col(p), ret;
	bool aot = tp_peek(p, 1) == '[';
	struct s_key k = { .n = 0 };
	struct toml_value *t = NULL;

	tp_advn(p, aot ? 2 : 1);
	ret = tp_dotted_key(p, &k);
	if (ret)
		goto out;
	if (tp_peek(p, 0) != ']' || (aot && tp_peek(p, 1) != ']')) {
		ret = tp_unexpected(p, aot ? "']]'" : "']'");
		goto out;
	}
	tp_advn(p, aot ? 2 : 1);
	ret = s_header_walk(p, &k, &t);
	if (!ret)
		ret = aot ? s_aot_header(p, &k, t, line, col) : s_table_header(p, &k, t, line, col);
out:
	tp_key_free(&k);
	return ret;
}

static int s_line(struct s_parser *p)
{
	int c = tp_peek(p, 0), ret = 0;

	if (c == '[')
		ret = s_header(p);
	else if (c != '#' && !tp_at_newline(p))
		ret = s_keyval(p, p->cur);
	if (ret)
		return ret;
	tp_skip_ws(p);
	ret = tp_skip_comment(p);
	if (ret || tp_peek(p, 0) < 0 || tp_newline(p))
		return ret;
	return tp_unexpected(p, "end of line");
}

static int s_document(struct s_parser *p)
{
	int ret;

	ret = tp_check_utf8(p);
	if (ret)
		return ret;
	if (p->len >= 3 && !memcmp(p->text, "\xEF\xBB\xBF", 3)) {
		p->pos = 3;
		p->line_start = 3;
	}
	while (tp_peek(p, 0) >= 0) {
		tp_skip_ws(p);
		ret = s_line(p);
		if (ret)
			return ret;
	}
	return 0;
}

int toml_parse(const char *text, size_t len, const char *filename, struct toml_value **root,
	       char *err, size_t errlen)
{
	struct s_parser p = {
		.text = text, .len = len, .line = 1, .err = err, .errlen = errlen,
		.file = filename ? filename : "<toml>",
	};
	int ret;

	*root = NULL;
	if (err && errlen)
		err[0] = '\0';
	p.root = tp_node_new(TOML_TABLE, S_HEADER, 1, 1);
	if (!p.root)
		return tp_oom(&p);
	p.cur = p.root;
	ret = s_document(&p);
	if (ret) {
		s_node_free(p.root);
		return ret;
	}
	*root = p.root;
	return 0;
}

int toml_parse_file(const char *path, struct toml_value **root, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int ret = vhs_read_file(path, &text, &len);

	*root = NULL;
	if (ret) {
		if (err && errlen) {
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			toml_one_line(err, errlen);
		}
		return ret;
	}
	ret = toml_parse(text, len, path, root, err, errlen);
	free(text);
	return ret;
}

void toml_free(struct toml_value **root)
{
	if (!root)
		return;
	s_node_free(*root);
	*root = NULL;
}

const struct toml_value *toml_get(const struct toml_value *table, const char *key)
{
	const struct toml_kv *kv;

	if (!table || table->type != TOML_TABLE)
		return NULL;
	kv = s_tab_find(table, key);
	return kv ? kv->val : NULL;
}

const char *toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "value";
}
