/* toml.h: the project's own TOML 1.0 reader, used for job files and presets.
 *
 * DESIGN
 * A document parses into a tree of toml_value nodes. Every node remembers the line and
 * column (1-based, columns counted in bytes) where it starts, so the job layer can report
 * `job.toml:12:5: unknown key 'denoize' in [video]` against the user's own text.
 * Tables keep keys in document order. Dates and times are refused with a clear message
 * (the job file has no use for them). The parser owns every string it returns; one
 * toml_free() releases the whole tree.
 *
 * Errors: toml_parse() returns 0, or -EINVAL with `FILE:LINE:COL: message` in err.
 */
#ifndef VHS_TOML_H
#define VHS_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_value;

/* One key = value pair of a table, in document order. */
struct toml_kv {
	char *key;               /* the key's last component, unescaped, NUL-terminated */
	int line, col;           /* where the key was written (for tables: the header) */
	struct toml_value *val;  /* owned */
};

struct toml_value {
	enum toml_type type;
	int line, col;           /* where the value starts in the source */
	union {
		char *s;         /* TOML_STRING: UTF-8, NUL-terminated (may hold \0: see len) */
		int64_t i;       /* TOML_INTEGER */
		double f;        /* TOML_FLOAT (inf, nan allowed) */
		bool b;          /* TOML_BOOL */
		struct {         /* TOML_ARRAY */
			struct toml_value **items;
			size_t n;
		} arr;
		struct {         /* TOML_TABLE */
			struct toml_kv *items;
			size_t n;
		} tab;
	} u;
	size_t len;              /* TOML_STRING: byte length without the terminator */
};

/* Parses len bytes of text; filename is used only in error messages. On success *root
 * is a TOML_TABLE the caller frees with toml_free(). */
int toml_parse(const char *text, size_t len, const char *filename, struct toml_value **root,
	       char *err, size_t errlen);

/* Reads and parses a file. Same contract as toml_parse; a missing or unreadable file
 * gives `FILE: No such file or directory` style messages and -errno. */
int toml_parse_file(const char *path, struct toml_value **root, char *err, size_t errlen);

/* Frees a tree and NULLs the pointer. */
void toml_free(struct toml_value **root);

/* Looks up a key in a table; NULL if absent or if table is not a table. */
const struct toml_value *toml_get(const struct toml_value *table, const char *key);

/* Rewrites control characters in a finished message (len bytes of room) as \n or \xHH,
 * so that a key or value quoted in it cannot break the one-line rule. */
void toml_one_line(char *msg, size_t len);

/* "string", "integer", ... for messages. */
const char *toml_type_name(enum toml_type t);

#endif
