/* toml_parse.h: the inside of the TOML reader (toml.h is its interface), shared by
 * toml.c (the parser: values, keys placed into tables, headers, the document) and
 * toml_scan.c (the scanner: whitespace, comments, strings, keys, numbers, UTF-8). Nothing
 * else includes this. toml.c's DESIGN says how the two read a document.
 */
#ifndef VHS_TOML_PARSE_H
#define VHS_TOML_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toml.h"

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

void tp_adv(struct s_parser *p);
void tp_advn(struct s_parser *p, size_t n);
bool tp_at_newline(const struct s_parser *p);
int tp_buf_put(struct s_buf *b, const char *src, size_t n);
int tp_check_utf8(struct s_parser *p);
int tp_col(const struct s_parser *p);
int tp_dotted_key(struct s_parser *p, struct s_key *k);
int tp_fail(struct s_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tp_fail_at(struct s_parser *p, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool tp_is_digit(int c);
void tp_key_free(struct s_key *k);
bool tp_newline(struct s_parser *p);
struct toml_value *tp_node_new(enum toml_type type, enum s_how how, int line, int col);
int tp_number(struct s_parser *p, struct toml_value **out);
bool tp_numchar(int c);
int tp_oom(struct s_parser *p);
int tp_peek(const struct s_parser *p, size_t ahead);
int tp_skip_blank(struct s_parser *p);
int tp_skip_comment(struct s_parser *p);
void tp_skip_ws(struct s_parser *p);
int tp_string(struct s_parser *p, struct s_buf *b);
int tp_unexpected(struct s_parser *p, const char *expected);
const char *tp_what(const struct s_parser *p, char *buf, size_t len);

#endif
