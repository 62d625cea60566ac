/* toml.c: a TOML 1.0 reader for job files and presets (see toml.h for the tree).
 *
 * DESIGN
 * One pass, recursive descent, over a byte buffer that is first checked to be valid
 * UTF-8. Every read goes through s_peek(p, k), which answers -1 past the end, so no
 * input can make the parser read out of bounds; every consumed byte goes through
 * s_adv(), which keeps line and column (1-based, bytes) for messages.
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
#include "toml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DEPTH 64  /* arrays and inline tables inside one another */
#define S_MAX_PARTS 32  /* components of one dotted key or header */

enum s_how { S_VALUE, S_IMPLICIT, S_HEADER, S_DOTTED, S_INLINE, S_AOT };

struct s_node {
	struct toml_value v; /* first member: (struct s_node *)value is valid */
	enum s_how how;      /* how the node came to exist; written by the parser only */
};

struct s_parser {
	const char *text;  /* the document; not owned */
	size_t len;        /* bytes in text */
	size_t pos;        /* next byte to read */
	int line;          /* line of pos, 1-based */
	size_t line_start; /* offset of the first byte of that line */
	const char *file;  /* for messages */
	char *err;         /* the caller's message buffer, may be NULL */
	size_t errlen;
	bool failed;       /* an error has been written */
	int depth;         /* current value nesting */
	struct toml_value *root;
	struct toml_value *cur; /* the table key/value lines go to */
};

/* A growable byte string; the parser's only scratch buffer. */
struct s_buf {
	char *s;
	size_t n, cap;
};

/* A dotted key as read: its parts and where each one starts. */
struct s_key {
	char *parts[S_MAX_PARTS];
	int line[S_MAX_PARTS], col[S_MAX_PARTS];
	size_t n;
};

/* ---- positions and errors ------------------------------------------------------------ */

static int s_peek(const struct s_parser *p, size_t ahead)
{
	if (p->pos + ahead >= p->len || p->pos + ahead < p->pos)
		return -1;
	return (unsigned char)p->text[p->pos + ahead];
}

static void s_adv(struct s_parser *p)
{
	if (p->pos >= p->len)
		return;
	if (p->text[p->pos] == '\n') {
		p->line++;
		p->line_start = p->pos + 1;
	}
	p->pos++;
}

static void s_advn(struct s_parser *p, size_t n)
{
	while (n--)
		s_adv(p);
}

static int s_col(const struct s_parser *p)
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

__attribute__((format(printf, 4, 5)))
static int s_fail_at(struct s_parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = s_vfail(p, line, col, fmt, ap);
	va_end(ap);
	return ret;
}

__attribute__((format(printf, 2, 3)))
static int s_fail(struct s_parser *p, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = s_vfail(p, p->line, s_col(p), fmt, ap);
	va_end(ap);
	return ret;
}

static int s_oom(struct s_parser *p)
{
	if (!p->failed && p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
	p->failed = true;
	return -ENOMEM;
}

/* Names the byte at pos for a message: 'x', end of file, newline, or U+XXXX. */
static const char *s_what(const struct s_parser *p, char *buf, size_t len)
{
	int c = s_peek(p, 0);

	if (c < 0)
		return "end of file";
	if (c == '\n' || (c == '\r' && s_peek(p, 1) == '\n'))
		return "end of line";
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else if (c < 0x80)
		snprintf(buf, len, "U+%04X", (unsigned)c);
	else
		snprintf(buf, len, "byte 0x%02X", (unsigned)c);
	return buf;
}

static int s_unexpected(struct s_parser *p, const char *expected)
{
	char buf[16];

	return s_fail(p, "expected %s, found %s", expected, s_what(p, buf, sizeof(buf)));
}

/* ---- nodes --------------------------------------------------------------------------- */

static enum s_how s_how_of(const struct toml_value *v)
{
	return ((const struct s_node *)v)->how;
}

static void s_set_how(struct toml_value *v, enum s_how how)
{
	((struct s_node *)v)->how = how;
}

static struct toml_value *s_node_new(enum toml_type type, enum s_how how, int line, int col)
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

/* ---- scratch buffer ------------------------------------------------------------------ */

static int s_buf_put(struct s_buf *b, const char *src, size_t n)
{
	size_t cap = b->cap ? b->cap : 32;
	char *s;

	while (cap < b->n + n + 1)
		cap *= 2;
	if (cap != b->cap) {
		s = realloc(b->s, cap);
		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, src, n);
	b->n += n;
	b->s[b->n] = '\0';
	return 0;
}

static int s_buf_putc(struct s_buf *b, int c)
{
	char ch = (char)c;

	return s_buf_put(b, &ch, 1);
}

static int s_buf_utf8(struct s_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return s_buf_put(b, u, n);
}

/* ---- lexical helpers ----------------------------------------------------------------- */

static bool s_is_ctrl(int c)
{
	return (c >= 0 && c < 0x20) || c == 0x7f;
}

static bool s_is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool s_at_newline(const struct s_parser *p)
{
	return s_peek(p, 0) == '\n' || (s_peek(p, 0) == '\r' && s_peek(p, 1) == '\n');
}

/* Consumes one newline (LF or CRLF) if there is one. */
static bool s_newline(struct s_parser *p)
{
	if (!s_at_newline(p))
		return false;
	s_advn(p, s_peek(p, 0) == '\r' ? 2 : 1);
	return true;
}

static void s_skip_ws(struct s_parser *p)
{
	while (s_peek(p, 0) == ' ' || s_peek(p, 0) == '\t')
		s_adv(p);
}

/* Skips a comment, if there is one, up to (not including) its newline. */
static int s_skip_comment(struct s_parser *p)
{
	int c;

	if (s_peek(p, 0) != '#')
		return 0;
	for (s_adv(p); (c = s_peek(p, 0)) >= 0 && !s_at_newline(p); s_adv(p))
		if (s_is_ctrl(c) && c != '\t')
			return s_fail(p, "control character U+%04X in comment", (unsigned)c);
	return 0;
}

/* Skips whitespace, newlines and comments (inside arrays). */
static int s_skip_blank(struct s_parser *p)
{
	int ret;

	for (;;) {
		s_skip_ws(p);
		ret = s_skip_comment(p);
		if (ret)
			return ret;
		if (!s_newline(p))
			return 0;
	}
}

/* Finds line and column of byte offset off (for errors found before parsing). */
static void s_locate(const struct s_parser *p, size_t off, int *line, int *col)
{
	size_t i, start = 0;

	*line = 1;
	for (i = 0; i < off; i++) {
		if (p->text[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	}
	*col = (int)(off - start) + 1;
}

/* Length of the UTF-8 sequence at s (n bytes left), or 0 if it is not valid: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t s_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1F, min = 0x80;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0F, min = 0x800;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static int s_check_utf8(struct s_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t i = 0, n;
	int line, col;

	while (i < p->len) {
		n = s_utf8_len(s + i, p->len - i);
		if (!n) {
			s_locate(p, i, &line, &col);
			return s_fail_at(p, line, col, "invalid UTF-8 (byte 0x%02X)", s[i]);
		}
		i += n;
	}
	return 0;
}

/* ---- strings ------------------------------------------------------------------------- */

static int s_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \uXXXX or \UXXXXXXXX, at the u; appends the scalar value as UTF-8. */
static int s_escape_unicode(struct s_parser *p, struct s_buf *b, int line, int col)
{
	size_t i, n = s_peek(p, 0) == 'u' ? 4 : 8;
	uint32_t cp = 0;
	int d;

	for (i = 1; i <= n; i++) {
		d = s_hex(s_peek(p, i));
		if (d < 0)
			return s_fail_at(p, line, col, "\\%c escape needs %zu hex digits",
					 n == 4 ? 'u' : 'U', n);
		cp = (cp << 4) | (uint32_t)d;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return s_fail_at(p, line, col, "\\%c%0*X is not a Unicode scalar value",
				 n == 4 ? 'u' : 'U', (int)n, (unsigned)cp);
	s_advn(p, n + 1);
	return s_buf_utf8(b, cp) ? s_oom(p) : 0;
}

/* One escape sequence, at the backslash. */
static int s_escape(struct s_parser *p, struct s_buf *b)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	int line = p->line, col = s_col(p), c;
	const char *hit;
	char buf[16];

	s_adv(p);
	c = s_peek(p, 0);
	if (c == 'u' || c == 'U')
		return s_escape_unicode(p, b, line, col);
	hit = c > 0 ? strchr(from, c) : NULL;
	if (!hit && c > 0x20 && c < 0x7f)
		return s_fail_at(p, line, col, "invalid escape sequence '\\%c'", c);
	if (!hit)
		return s_fail_at(p, line, col, "invalid escape sequence: backslash followed by %s",
				 s_what(p, buf, sizeof(buf)));
	s_adv(p);
	return s_buf_putc(b, to[hit - from]) ? s_oom(p) : 0;
}

/* In a multi-line basic string, at a backslash: if only whitespace follows it up to the
 * end of the line, skips it, the newline, and all whitespace and newlines after. */
static bool s_line_continuation(struct s_parser *p)
{
	size_t i = 1;

	while (s_peek(p, i) == ' ' || s_peek(p, i) == '\t')
		i++;
	if (s_peek(p, i) != '\n' && !(s_peek(p, i) == '\r' && s_peek(p, i + 1) == '\n'))
		return false;
	s_advn(p, i);
	for (;;) {
		if (s_peek(p, 0) == ' ' || s_peek(p, 0) == '\t')
			s_adv(p);
		else if (!s_newline(p))
			return true;
	}
}

/* A byte of string content that is neither quote nor backslash nor newline. */
static int s_plain_byte(struct s_parser *p, struct s_buf *b)
{
	int c = s_peek(p, 0);

	if (s_is_ctrl(c) && c != '\t')
		return s_fail(p, "control character U+%04X in string", (unsigned)c);
	s_adv(p);
	return s_buf_putc(b, c) ? s_oom(p) : 0;
}

/* "..." or '...', single line; at the opening quote. */
static int s_string_line(struct s_parser *p, struct s_buf *b)
{
	int line = p->line, col = s_col(p), q = s_peek(p, 0), c, ret;

	s_adv(p);
	for (;;) {
		c = s_peek(p, 0);
		if (c < 0 || s_at_newline(p))
			return s_fail_at(p, line, col, "unterminated string");
		if (c == q) {
			s_adv(p);
			return 0;
		}
		ret = (c == '\\' && q == '"') ? s_escape(p, b) : s_plain_byte(p, b);
		if (ret)
			return ret;
	}
}

/* At a run of at least three closing quotes: up to two belong to the content. */
static int s_ml_close(struct s_parser *p, struct s_buf *b, int q)
{
	size_t run = 3;

	while (s_peek(p, run) == q)
		run++;
	if (run > 5)
		return s_fail(p, "too many quotes at the end of a multi-line string");
	while (run-- > 3) {
		if (s_buf_putc(b, q))
			return s_oom(p);
		s_adv(p);
	}
	s_advn(p, 3);
	return 0;
}

/* """...""" or '''...''', at the opening delimiter. A newline right after the opening
 * delimiter is trimmed; CRLF inside is stored as LF. */
static int s_string_ml(struct s_parser *p, struct s_buf *b)
{
	int line = p->line, col = s_col(p), q = s_peek(p, 0), c, ret;

	s_advn(p, 3);
	s_newline(p);
	for (;;) {
		c = s_peek(p, 0);
		if (c < 0)
			return s_fail_at(p, line, col, "unterminated multi-line string");
		if (c == q && s_peek(p, 1) == q && s_peek(p, 2) == q)
			return s_ml_close(p, b, q);
		if (s_newline(p))
			ret = s_buf_putc(b, '\n') ? s_oom(p) : 0;
		else if (c == '\\' && q == '"')
			ret = s_line_continuation(p) ? 0 : s_escape(p, b);
		else
			ret = s_plain_byte(p, b);
		if (ret)
			return ret;
	}
}

static int s_string(struct s_parser *p, struct s_buf *b)
{
	int q = s_peek(p, 0);

	if (s_peek(p, 1) == q && s_peek(p, 2) == q)
		return s_string_ml(p, b);
	return s_string_line(p, b);
}

/* ---- keys ---------------------------------------------------------------------------- */

static int s_key_part(struct s_parser *p, char **out)
{
	struct s_buf b = { 0 };
	int c = s_peek(p, 0), col = s_col(p), ret = 0;

	if (c == '"' || c == '\'') {
		if (s_peek(p, 1) == c && s_peek(p, 2) == c)
			return s_fail(p, "a key cannot be a multi-line string");
		ret = s_string_line(p, &b);
	} else if (s_is_bare(c)) {
		while (s_is_bare(s_peek(p, 0)) && !ret) {
			ret = s_buf_putc(&b, s_peek(p, 0)) ? s_oom(p) : 0;
			s_adv(p);
		}
	} else {
		return s_unexpected(p, "a key");
	}
	if (!ret && !b.s && s_buf_put(&b, "", 0))
		ret = s_oom(p);
	if (!ret && strlen(b.s) != b.n)
		ret = s_fail_at(p, p->line, col, "a key cannot contain U+0000");
	if (ret)
		free(b.s);
	else
		*out = b.s;
	return ret;
}

static void s_key_free(struct s_key *k)
{
	while (k->n)
		free(k->parts[--k->n]);
}

/* key *( ws "." ws key ), with whitespace around it skipped. */
static int s_dotted_key(struct s_parser *p, struct s_key *k)
{
	int ret;

	for (;;) {
		s_skip_ws(p);
		if (k->n == S_MAX_PARTS)
			return s_fail(p, "a key may have at most %d parts", S_MAX_PARTS);
		k->line[k->n] = p->line;
		k->col[k->n] = s_col(p);
		ret = s_key_part(p, &k->parts[k->n]);
		if (ret)
			return ret;
		k->n++;
		s_skip_ws(p);
		if (s_peek(p, 0) != '.')
			return 0;
		s_adv(p);
	}
}

/* ---- numbers ------------------------------------------------------------------------- */

static bool s_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool s_numchar(int c)
{
	return s_is_bare(c) || c == '+' || c == '.';
}

/* Checks n bytes of digits in radix with underscores only between digits and, when v is
 * not NULL, accumulates the value, refusing anything above limit. Returns an error
 * message or NULL. */
static const char *s_digits(const char *s, size_t n, int radix, uint64_t limit, uint64_t *v)
{
	size_t i;
	int d;

	if (n == 0)
		return "expected digits";
	if (s[0] == '_' || s[n - 1] == '_')
		return "underscores must be between digits";
	if (v)
		*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			if (s[i + 1] == '_')
				return "underscores must be between digits";
			continue;
		}
		d = s_hex((unsigned char)s[i]);
		if (d < 0 || d >= radix)
			return "invalid digit in number";
		if (v && *v > (limit - (uint64_t)d) / (uint64_t)radix)
			return "integer does not fit in 64 bits";
		if (v)
			*v = *v * (uint64_t)radix + (uint64_t)d;
	}
	return NULL;
}

/* A decimal integer part: digits, no leading zero (except a lone 0). */
static const char *s_dec_part(const char *s, size_t n, uint64_t limit, uint64_t *v)
{
	const char *why = s_digits(s, n, 10, 0, NULL);

	if (why)
		return why;
	if (n > 1 && s[0] == '0')
		return "leading zeros are not allowed";
	return v ? s_digits(s, n, 10, limit, v) : NULL;
}

static const char *s_integer(const char *tok, size_t n, int64_t *out)
{
	bool neg = tok[0] == '-', sign = tok[0] == '-' || tok[0] == '+';
	static const char pfx[] = "xob";
	static const int radix[] = { 16, 8, 2 };
	const char *why, *hit;
	uint64_t v;

	if (n - sign >= 2 && tok[sign] == '0' && (hit = strchr(pfx, tok[sign + 1])) && *hit) {
		if (sign)
			return "hexadecimal, octal and binary integers cannot have a sign";
		why = s_digits(tok + 2, n - 2, radix[hit - pfx], INT64_MAX, &v);
	} else {
		why = s_dec_part(tok + sign, n - sign,
				 neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v);
	}
	if (why)
		return why;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return NULL;
}

/* Checks the shape of a decimal float: int [ "." digits ] [ (e|E) [sign] digits ]. */
static const char *s_float_shape(const char *s, size_t n)
{
	size_t i = 0, j;
	const char *why;

	while (i < n && s[i] != '.' && s[i] != 'e' && s[i] != 'E')
		i++;
	why = s_dec_part(s, i, 0, NULL);
	if (why || i == n)
		return why;
	if (s[i] == '.') {
		for (j = ++i; j < n && s[j] != 'e' && s[j] != 'E'; j++)
			;
		if (j == i)
			return "a decimal point must be followed by digits";
		why = s_digits(s + i, j - i, 10, 0, NULL);
		if (why || j == n)
			return why;
		i = j;
	}
	i++; /* the e or E */
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	return s_digits(s + i, n - i, 10, 0, NULL) ? "invalid exponent" : NULL;
}

static const char *s_float(const char *tok, size_t n, double *out)
{
	bool sign = tok[0] == '-' || tok[0] == '+';
	const char *why;
	char *clean, *end;
	size_t i, k = 0;

	if (n - sign == 3 && (!memcmp(tok + sign, "inf", 3) || !memcmp(tok + sign, "nan", 3))) {
		*out = tok[sign] == 'i' ? INFINITY : NAN;
		*out = tok[0] == '-' ? -*out : *out;
		return NULL;
	}
	why = s_float_shape(tok + sign, n - sign);
	if (why)
		return why;
	clean = malloc(n + 1);
	if (!clean)
		return "out of memory";
	for (i = 0; i < n; i++)
		if (tok[i] != '_')
			clean[k++] = tok[i];
	clean[k] = '\0';
	*out = strtod(clean, &end);
	why = (*end || isinf(*out)) ? "float out of range" : NULL;
	free(clean);
	return why;
}

static bool s_is_float(const char *tok, size_t n)
{
	size_t s = tok[0] == '-' || tok[0] == '+';

	if (n - s >= 2 && tok[s] == '0' && (tok[s + 1] == 'x' || tok[s + 1] == 'o' ||
					    tok[s + 1] == 'b'))
		return false;
	return memchr(tok, '.', n) || memchr(tok, 'e', n) || memchr(tok, 'E', n) ||
	       (n - s == 3 && (!memcmp(tok + s, "inf", 3) || !memcmp(tok + s, "nan", 3)));
}

/* NNNN- starts a date, NN: a time. */
static bool s_is_datetime(const struct s_parser *p)
{
	int i = 0;

	while (i < 4 && s_is_digit(s_peek(p, (size_t)i)))
		i++;
	return (i == 4 && s_peek(p, 4) == '-') || (i >= 2 && s_peek(p, 2) == ':');
}

static int s_number(struct s_parser *p, struct toml_value **out)
{
	int line = p->line, col = s_col(p);
	const char *tok = p->text + p->pos, *why;
	size_t n = 0;
	bool fl;

	if (s_is_datetime(p))
		return s_fail(p, "dates and times are not supported in job files");
	while (s_numchar(s_peek(p, n)))
		n++;
	fl = s_is_float(tok, n);
	*out = s_node_new(fl ? TOML_FLOAT : TOML_INTEGER, S_VALUE, line, col);
	if (!*out)
		return s_oom(p);
	why = fl ? s_float(tok, n, &(*out)->u.f) : s_integer(tok, n, &(*out)->u.i);
	if (why)
		return s_fail(p, "invalid %s: %s", fl ? "float" : "integer", why);
	s_advn(p, n);
	return 0;
}

/* ---- values -------------------------------------------------------------------------- */

static int s_value(struct s_parser *p, struct toml_value **out);
static int s_keyval(struct s_parser *p, struct toml_value *tab);

static int s_string_value(struct s_parser *p, struct toml_value **out)
{
	struct s_buf b = { 0 };
	int ret;

	*out = s_node_new(TOML_STRING, S_VALUE, p->line, s_col(p));
	if (!*out)
		return s_oom(p);
	ret = s_string(p, &b);
	if (!ret && !b.s && s_buf_put(&b, "", 0))
		ret = s_oom(p);
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
	int line = p->line, col = s_col(p), ret;
	struct toml_value *item;

	*out = s_node_new(TOML_ARRAY, S_VALUE, line, col);
	if (!*out)
		return s_oom(p);
	s_adv(p);
	for (;;) {
		ret = s_skip_blank(p);
		if (ret || s_peek(p, 0) == ']')
			break;
		item = NULL;
		ret = s_value(p, &item);
		if (!ret && s_arr_push(*out, item))
			ret = s_oom(p);
		if (ret) {
			s_node_free(item);
			return ret;
		}
		ret = s_skip_blank(p);
		if (ret || s_peek(p, 0) == ']')
			break;
		if (s_peek(p, 0) != ',')
			return s_peek(p, 0) < 0 ? s_fail_at(p, line, col, "unterminated array")
						 : s_unexpected(p, "',' or ']' in array");
		s_adv(p);
	}
	if (!ret)
		s_adv(p);
	return ret;
}

static int s_inline_sep(struct s_parser *p, int line, int col)
{
	s_skip_ws(p);
	if (s_peek(p, 0) == '}')
		return 1;
	if (s_peek(p, 0) == ',') {
		s_adv(p);
		s_skip_ws(p);
		if (s_peek(p, 0) == '}')
			return s_fail(p, "trailing comma is not allowed in an inline table");
		return 0;
	}
	if (s_peek(p, 0) < 0)
		return s_fail_at(p, line, col, "unterminated inline table");
	if (s_at_newline(p) || s_peek(p, 0) == '#')
		return s_fail(p, "newlines are not allowed in an inline table");
	return s_unexpected(p, "',' or '}' in inline table");
}

static int s_inline_table(struct s_parser *p, struct toml_value **out)
{
	int line = p->line, col = s_col(p), ret;

	*out = s_node_new(TOML_TABLE, S_INLINE, line, col);
	if (!*out)
		return s_oom(p);
	s_adv(p);
	s_skip_ws(p);
	if (s_peek(p, 0) == '}') {
		s_adv(p);
		return 0;
	}
	do {
		s_skip_ws(p);
		if (s_at_newline(p) || s_peek(p, 0) == '#')
			return s_fail(p, "newlines are not allowed in an inline table");
		ret = s_keyval(p, *out);
		if (!ret)
			ret = s_inline_sep(p, line, col);
	} while (ret == 0);
	if (ret < 0)
		return ret;
	s_adv(p);
	return 0;
}

static int s_word(struct s_parser *p, const char *w)
{
	size_t i, n = strlen(w);

	for (i = 0; i < n; i++)
		if (s_peek(p, i) != (unsigned char)w[i])
			return 0;
	return s_numchar(s_peek(p, n)) ? 0 : 1;
}

static int s_bool(struct s_parser *p, struct toml_value **out)
{
	bool t = s_word(p, "true");

	if (!t && !s_word(p, "false"))
		return s_unexpected(p, "a value");
	*out = s_node_new(TOML_BOOL, S_VALUE, p->line, s_col(p));
	if (!*out)
		return s_oom(p);
	(*out)->u.b = t;
	s_advn(p, t ? 4 : 5);
	return 0;
}

static int s_value_at(struct s_parser *p, struct toml_value **out)
{
	int c = s_peek(p, 0);

	if (c == '"' || c == '\'')
		return s_string_value(p, out);
	if (c == '[')
		return s_array(p, out);
	if (c == '{')
		return s_inline_table(p, out);
	if (c == 't' || c == 'f')
		return s_bool(p, out);
	if (s_is_digit(c) || c == '+' || c == '-' || s_word(p, "inf") || s_word(p, "nan"))
		return s_number(p, out);
	return s_unexpected(p, "a value");
}

/* Parses one value at pos into *out. On failure *out may hold a partial node, which the
 * caller frees. */
static int s_value(struct s_parser *p, struct toml_value **out)
{
	int nest = s_peek(p, 0) == '[' || s_peek(p, 0) == '{', ret;

	if (nest && p->depth >= S_MAX_DEPTH)
		return s_fail(p, "arrays and inline tables nested more than %d deep", S_MAX_DEPTH);
	p->depth += nest;
	ret = s_value_at(p, out);
	p->depth -= nest;
	return ret;
}

/* ---- placing keys -------------------------------------------------------------------- */

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
			v = s_node_new(TOML_TABLE, S_DOTTED, k->line[i], k->col[i]);
			if (!v || s_tab_add(t, k->parts[i], k->line[i], k->col[i], v)) {
				free(v);
				return s_oom(p);
			}
			t = v;
			continue;
		}
		v = kv->val;
		if (v->type != TOML_TABLE)
			return s_fail_at(p, k->line[i], k->col[i],
					 "'%s' is already %s %s (line %d)", kv->key,
					 s_article(v->type), toml_type_name(v->type), kv->line);
		if (s_how_of(v) != S_DOTTED)
			return s_fail_at(p, k->line[i], k->col[i],
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

	ret = s_dotted_key(p, &k);
	if (ret)
		goto out;
	if (s_peek(p, 0) != '=') {
		ret = s_unexpected(p, "'=' after a key");
		goto out;
	}
	s_adv(p);
	s_skip_ws(p);
	ret = s_value(p, &val);
	if (!ret)
		ret = s_dotted_walk(p, &tab, &k);
	if (ret)
		goto out;
	kv = s_tab_find(tab, k.parts[k.n - 1]);
	if (kv)
		ret = s_fail_at(p, k.line[k.n - 1], k.col[k.n - 1],
				"duplicate key '%s' (first defined at line %d)", kv->key, kv->line);
	else if (s_tab_add(tab, k.parts[k.n - 1], k.line[k.n - 1], k.col[k.n - 1], val))
		ret = s_oom(p);
	else
		val = NULL;
out:
	s_node_free(val);
	s_key_free(&k);
	return ret;
}

/* ---- headers ------------------------------------------------------------------------- */

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
			v = s_node_new(TOML_TABLE, S_IMPLICIT, k->line[i], k->col[i]);
			if (!v || s_tab_add(t, k->parts[i], k->line[i], k->col[i], v)) {
				free(v);
				return s_oom(p);
			}
		} else if (kv->val->type == TOML_ARRAY && s_how_of(kv->val) == S_AOT) {
			v = kv->val->u.arr.items[kv->val->u.arr.n - 1];
		} else if (kv->val->type == TOML_TABLE && s_how_of(kv->val) != S_INLINE) {
			v = kv->val;
		} else {
			return s_fail_at(p, k->line[i], k->col[i],
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
		v = s_node_new(TOML_TABLE, S_HEADER, line, col);
		if (!v || s_tab_add(t, last, k->line[k->n - 1], k->col[k->n - 1], v)) {
			free(v);
			return s_oom(p);
		}
		p->cur = v;
		return 0;
	}
	why = s_table_clash(kv->val);
	if (why)
		return s_fail_at(p, k->line[k->n - 1], k->col[k->n - 1],
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
		arr = s_node_new(TOML_ARRAY, S_AOT, line, col);
		if (!arr || s_tab_add(t, last, k->line[k->n - 1], k->col[k->n - 1], arr)) {
			free(arr);
			return s_oom(p);
		}
	} else if (kv->val->type == TOML_ARRAY && s_how_of(kv->val) == S_AOT) {
		arr = kv->val;
	} else {
		if (kv->val->type == TOML_ARRAY)
			return s_fail_at(p, k->line[k->n - 1], k->col[k->n - 1],
					 "cannot append to statically defined array '%s' (line %d)",
					 s_key_name(k, name, sizeof(name)), kv->line);
		return s_fail_at(p, k->line[k->n - 1], k->col[k->n - 1],
				 "'%s' is already %s %s (line %d), not an array of tables",
				 s_key_name(k, name, sizeof(name)), s_article(kv->val->type),
				 toml_type_name(kv->val->type), kv->line);
	}
	el = s_node_new(TOML_TABLE, S_HEADER, line, col);
	if (!el || s_arr_push(arr, el)) {
		free(el);
		return s_oom(p);
	}
	p->cur = el;
	return 0;
}

/* [a.b] or [[a.b]], at the first bracket. */
static int s_header(struct s_parser *p)
{
	int line = p->line, col = s_col(p), ret;
	bool aot = s_peek(p, 1) == '[';
	struct s_key k = { .n = 0 };
	struct toml_value *t = NULL;

	s_advn(p, aot ? 2 : 1);
	ret = s_dotted_key(p, &k);
	if (ret)
		goto out;
	if (s_peek(p, 0) != ']' || (aot && s_peek(p, 1) != ']')) {
		ret = s_unexpected(p, aot ? "']]'" : "']'");
		goto out;
	}
	s_advn(p, aot ? 2 : 1);
	ret = s_header_walk(p, &k, &t);
	if (!ret)
		ret = aot ? s_aot_header(p, &k, t, line, col) : s_table_header(p, &k, t, line, col);
out:
	s_key_free(&k);
	return ret;
}

/* ---- document ------------------------------------------------------------------------ */

static int s_line(struct s_parser *p)
{
	int c = s_peek(p, 0), ret = 0;

	if (c == '[')
		ret = s_header(p);
	else if (c != '#' && !s_at_newline(p))
		ret = s_keyval(p, p->cur);
	if (ret)
		return ret;
	s_skip_ws(p);
	ret = s_skip_comment(p);
	if (ret || s_peek(p, 0) < 0 || s_newline(p))
		return ret;
	return s_unexpected(p, "end of line");
}

static int s_document(struct s_parser *p)
{
	int ret;

	ret = s_check_utf8(p);
	if (ret)
		return ret;
	if (p->len >= 3 && !memcmp(p->text, "\xEF\xBB\xBF", 3)) {
		p->pos = 3;
		p->line_start = 3;
	}
	while (s_peek(p, 0) >= 0) {
		s_skip_ws(p);
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
	p.root = s_node_new(TOML_TABLE, S_HEADER, 1, 1);
	if (!p.root)
		return s_oom(&p);
	p.cur = p.root;
	ret = s_document(&p);
	if (ret) {
		s_node_free(p.root);
		return ret;
	}
	*root = p.root;
	return 0;
}

static int s_read_file(FILE *f, char **text, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap), *nb;

	while (buf) {
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		cap *= 2;
		nb = realloc(buf, cap);
		if (!nb)
			free(buf);
		buf = nb;
	}
	if (!buf)
		return -ENOMEM;
	if (ferror(f)) {
		free(buf);
		return errno ? -errno : -EIO;
	}
	*text = buf;
	*len = n;
	return 0;
}

int toml_parse_file(const char *path, struct toml_value **root, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int ret;

	*root = NULL;
	if (!f) {
		ret = -errno;
		goto out_err;
	}
	errno = 0;
	ret = s_read_file(f, &text, &len);
	fclose(f);
	if (ret)
		goto out_err;
	ret = toml_parse(text, len, path, root, err, errlen);
	free(text);
	return ret;
out_err:
	if (err && errlen) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		toml_one_line(err, errlen);
	}
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
