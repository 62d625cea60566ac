/* toml_scan.c: the TOML reader's scanner (toml_parse.h): whitespace, comments and newlines,
 * basic and literal strings (one-line and multi-line, with escapes), dotted keys, integers
 * (decimal, hex, octal, binary, with underscores) and floats, and the UTF-8 check every
 * document passes first. Every read goes through tp_peek(), every consumed byte through
 * tp_adv() (toml.c). */
#include "toml_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tp_buf_put(struct s_buf *b, const char *src, size_t n)
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

	return tp_buf_put(b, &ch, 1);
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
	return tp_buf_put(b, u, n);
}

static bool s_is_ctrl(int c)
{
	return (c >= 0 && c < 0x20) || c == 0x7f;
}

static bool s_is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

bool tp_at_newline(const struct s_parser *p)
{
	return tp_peek(p, 0) == '\n' || (tp_peek(p, 0) == '\r' && tp_peek(p, 1) == '\n');
}

/* Consumes one newline (LF or CRLF) if there is one. */
bool tp_newline(struct s_parser *p)
{
	if (!tp_at_newline(p))
		return false;
	tp_advn(p, tp_peek(p, 0) == '\r' ? 2 : 1);
	return true;
}

void tp_skip_ws(struct s_parser *p)
{
	while (tp_peek(p, 0) == ' ' || tp_peek(p, 0) == '\t')
		tp_adv(p);
}

/* Skips a comment, if there is one, up to (not including) its newline. */
int tp_skip_comment(struct s_parser *p)
{
	int c;

	if (tp_peek(p, 0) != '#')
		return 0;
	for (tp_adv(p); (c = tp_peek(p, 0)) >= 0 && !tp_at_newline(p); tp_adv(p))
		if (s_is_ctrl(c) && c != '\t')
			return tp_fail(p, "control character U+%04X in comment", (unsigned)c);
	return 0;
}

/* Skips whitespace, newlines and comments (inside arrays). */
int tp_skip_blank(struct s_parser *p)
{
	int ret;

	for (;;) {
		tp_skip_ws(p);
		ret = tp_skip_comment(p);
		if (ret)
			return ret;
		if (!tp_newline(p))
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

int tp_check_utf8(struct s_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t i = 0, n;
	int line, col;

	while (i < p->len) {
		n = s_utf8_len(s + i, p->len - i);
		if (!n) {
			s_locate(p, i, &line, &col);
			return tp_fail_at(p, line, col, "invalid UTF-8 (byte 0x%02X)", s[i]);
		}
		i += n;
	}
	return 0;
}

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
	size_t i, n = tp_peek(p, 0) == 'u' ? 4 : 8;
	uint32_t cp = 0;
	int d;

	for (i = 1; i <= n; i++) {
		d = s_hex(tp_peek(p, i));
		if (d < 0)
			return tp_fail_at(p, line, col, "\\%c escape needs %zu hex digits",
					 n == 4 ? 'u' : 'U', n);
		cp = (cp << 4) | (uint32_t)d;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return tp_fail_at(p, line, col, "\\%c%0*X is not a Unicode scalar value",
				 n == 4 ? 'u' : 'U', (int)n, (unsigned)cp);
	tp_advn(p, n + 1);
	return s_buf_utf8(b, cp) ? tp_oom(p) : 0;
}

/* One escape sequence, at the backslash. */
static int s_escape(struct s_parser *p, struct s_buf *b)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	int line = p->line, col = tp_col(p), c;
	const char *hit;
	char buf[16];

	tp_adv(p);
	c = tp_peek(p, 0);
	if (c == 'u' || c == 'U')
		return s_escape_unicode(p, b, line, col);
	hit = c > 0 ? strchr(from, c) : NULL;
	if (!hit && c > 0x20 && c < 0x7f)
		return tp_fail_at(p, line, col, "invalid escape sequence '\\%c'", c);
	if (!hit)
		return tp_fail_at(p, line, col, "invalid escape sequence: backslash followed by %s",
				 tp_what(p, buf, sizeof(buf)));
	tp_adv(p);
	return s_buf_putc(b, to[hit - from]) ? tp_oom(p) : 0;
}

/* In a multi-line basic string, at a backslash: if only whitespace follows it up to the
 * end of the line, skips it, the newline, and all whitespace and newlines after. */
static bool s_line_continuation(struct s_parser *p)
{
	size_t i = 1;

	while (tp_peek(p, i) == ' ' || tp_peek(p, i) == '\t')
		i++;
	if (tp_peek(p, i) != '\n' && !(tp_peek(p, i) == '\r' && tp_peek(p, i + 1) == '\n'))
		return false;
	tp_advn(p, i);
	for (;;) {
		if (tp_peek(p, 0) == ' ' || tp_peek(p, 0) == '\t')
			tp_adv(p);
		else if (!tp_newline(p))
			return true;
	}
}

/* A byte of string content that is neither quote nor backslash nor newline. */
static int s_plain_byte(struct s_parser *p, struct s_buf *b)
{
	int c = tp_peek(p, 0);

	if (s_is_ctrl(c) && c != '\t')
		return tp_fail(p, "control character U+%04X in string", (unsigned)c);
	tp_adv(p);
	return s_buf_putc(b, c) ? tp_oom(p) : 0;
}

/* "..." or '...', single line; at the opening quote. */
static int s_string_line(struct s_parser *p, struct s_buf *b)
{
	int line = p->line, col = tp_col(p), q = tp_peek(p, 0), c, ret;

	tp_adv(p);
	for (;;) {
		c = tp_peek(p, 0);
		if (c < 0 || tp_at_newline(p))
			return tp_fail_at(p, line, col, "unterminated string");
		if (c == q) {
			tp_adv(p);
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

	while (tp_peek(p, run) == q)
		run++;
	if (run > 5)
		return tp_fail(p, "too many quotes at the end of a multi-line string");
	while (run-- > 3) {
		if (s_buf_putc(b, q))
			return tp_oom(p);
		tp_adv(p);
	}
	tp_advn(p, 3);
	return 0;
}

/* """...""" or '''...''', at the opening delimiter. A newline right after the opening
 * delimiter is trimmed; CRLF inside is stored as LF. */
static int s_string_ml(struct s_parser *p, struct s_buf *b)
{
	int line = p->line, col = tp_col(p), q = tp_peek(p, 0), c, ret;

	tp_advn(p, 3);
	tp_newline(p);
	for (;;) {
		c = tp_peek(p, 0);
		if (c < 0)
			return tp_fail_at(p, line, col, "unterminated multi-line string");
		if (c == q && tp_peek(p, 1) == q && tp_peek(p, 2) == q)
			return s_ml_close(p, b, q);
		if (tp_newline(p))
			ret = s_buf_putc(b, '\n') ? tp_oom(p) : 0;
		else if (c == '\\' && q == '"')
			ret = s_line_continuation(p) ? 0 : s_escape(p, b);
		else
			ret = s_plain_byte(p, b);
		if (ret)
			return ret;
	}
}

int tp_string(struct s_parser *p, struct s_buf *b)
{
	int q = tp_peek(p, 0);

	if (tp_peek(p, 1) == q && tp_peek(p, 2) == q)
		return s_string_ml(p, b);
	return s_string_line(p, b);
}

static int s_key_part(struct s_parser *p, char **out)
{
	struct s_buf b = { 0 };
	int c = tp_peek(p, 0), col = tp_col(p), ret = 0;

	if (c == '"' || c == '\'') {
		if (tp_peek(p, 1) == c && tp_peek(p, 2) == c)
			return tp_fail(p, "a key cannot be a multi-line string");
		ret = s_string_line(p, &b);
	} else if (s_is_bare(c)) {
		while (s_is_bare(tp_peek(p, 0)) && !ret) {
			ret = s_buf_putc(&b, tp_peek(p, 0)) ? tp_oom(p) : 0;
			tp_adv(p);
		}
	} else {
		return tp_unexpected(p, "a key");
	}
	if (!ret && !b.s && tp_buf_put(&b, "", 0))
		ret = tp_oom(p);
	if (!ret && strlen(b.s) != b.n)
		ret = tp_fail_at(p, p->line, col, "a key cannot contain U+0000");
	if (ret)
		free(b.s);
	else
		*out = b.s;
	return ret;
}

void tp_key_free(struct s_key *k)
{
	while (k->n)
		free(k->parts[--k->n]);
}

/* key *( ws "." ws key ), with whitespace around it skipped. */
int tp_dotted_key(struct s_parser *p, struct s_key *k)
{
	int ret;

	for (;;) {
		tp_skip_ws(p);
		if (k->n == S_MAX_PARTS)
			return tp_fail(p, "a key may have at most %d parts", S_MAX_PARTS);
		k->line[k->n] = p->line;
		k->col[k->n] = tp_col(p);
		ret = s_key_part(p, &k->parts[k->n]);
		if (ret)
			return ret;
		k->n++;
		tp_skip_ws(p);
		if (tp_peek(p, 0) != '.')
			return 0;
		tp_adv(p);
	}
}

bool tp_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

bool tp_numchar(int c)
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

	while (i < 4 && tp_is_digit(tp_peek(p, (size_t)i)))
		i++;
	return (i == 4 && tp_peek(p, 4) == '-') || (i >= 2 && tp_peek(p, 2) == ':');
}

int tp_number(struct s_parser *p, struct toml_value **out)
{
	int line = p->line, col = tp_col(p);
	const char *tok = p->text + p->pos, *why;
	size_t n = 0;
	bool fl;

	if (s_is_datetime(p))
		return tp_fail(p, "dates and times are not supported in job files");
	while (tp_numchar(tp_peek(p, n)))
		n++;
	fl = s_is_float(tok, n);
	*out = tp_node_new(fl ? TOML_FLOAT : TOML_INTEGER, S_VALUE, line, col);
	if (!*out)
		return tp_oom(p);
	why = fl ? s_float(tok, n, &(*out)->u.f) : s_integer(tok, n, &(*out)->u.i);
	if (why)
		return tp_fail(p, "invalid %s: %s", fl ? "float" : "integer", why);
	tp_advn(p, n);
	return 0;
}
