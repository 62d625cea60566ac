/* test_toml.c: the TOML 1.0 reader (lib/toml.c): arrays, inline tables, keys, tables and
 * arrays of tables, comments, line endings and BOM, positions, and a fuzz suite; the scalars
 * (strings, integers, floats, booleans, dates: lib/toml_scan.c) are in test_toml_scalars.c.
 *
 * Valid documents are checked value by value; invalid ones by their exact one-line
 * message, `t.toml:LINE:COL: text`, or at least by its shape where the wording is not the
 * point. The fuzz suite feeds every prefix of a set of valid documents and thousands of
 * mutated copies, each in its own exactly-sized heap buffer so that AddressSanitizer
 * (make test-san) sees any read past the end.
 */
#include "toml_helpers.h"

/* ---- arrays -------------------------------------------------------------------------- */

Test(arrays, mixed_and_nested)
{
	struct toml_value *root = ok(
		"a = [ 1, 2.5, \"x\", 'y', true, [ 1, [ 2 ] ], { k = 1 } ]\n"
		"e = []\n"
		"n = [ [], [[]] ]\n");
	const struct toml_value *a = at(root, "a");

	cr_assert_eq(a->type, TOML_ARRAY);
	cr_assert_eq(a->u.arr.n, 7);
	cr_assert_eq(a->u.arr.items[0]->u.i, 1);
	cr_assert_eq(a->u.arr.items[1]->u.f, 2.5);
	cr_assert_str_eq(a->u.arr.items[2]->u.s, "x");
	cr_assert_str_eq(a->u.arr.items[3]->u.s, "y");
	cr_assert(a->u.arr.items[4]->u.b);
	cr_assert_eq(a->u.arr.items[5]->u.arr.items[1]->u.arr.items[0]->u.i, 2);
	cr_assert_eq(toml_get(a->u.arr.items[6], "k")->u.i, 1);
	cr_assert_eq(at(root, "e")->u.arr.n, 0);
	cr_assert_eq(at(root, "n")->u.arr.items[1]->u.arr.n, 1);
	toml_free(&root);
}

Test(arrays, newlines_comments_trailing_comma)
{
	struct toml_value *root = ok(
		"a = [ # opening comment\n"
		"  1, # one\n"
		"\n"
		"  2,\r\n"
		"  3 , # trailing comma next\n"
		"]\n"
		"b = [1,2,]\n"
		"c = [\n]\n");

	cr_assert_eq(at(root, "a")->u.arr.n, 3);
	cr_assert_eq(at(root, "a")->u.arr.items[2]->u.i, 3);
	cr_assert_eq(at(root, "b")->u.arr.n, 2);
	cr_assert_eq(at(root, "c")->u.arr.n, 0);
	toml_free(&root);
}

Test(arrays, invalid)
{
	bad("a = [,]", "t.toml:1:6: expected a value, found ','");
	bad("a = [1,,2]", "t.toml:1:8: expected a value, found ','");
	bad("a = [1 2]", "t.toml:1:8: expected ',' or ']' in array, found '2'");
	bad("a = [1, 2", "t.toml:1:5: unterminated array");
	bad("a = [1, 2\n", "t.toml:1:5: unterminated array");
	bad("a = [1,\n", "t.toml:2:1: expected a value, found end of file");
	bad("a = [\"x\" y]", "t.toml:1:10: expected ',' or ']' in array, found 'y'");
	bad("a = [1]]", "t.toml:1:8: expected end of line, found ']'");
}

/* ---- inline tables ------------------------------------------------------------------- */

Test(inline_tables, nested_and_dotted)
{
	struct toml_value *root = ok(
		"name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
		"point = {x=1,y=2}\n"
		"deep = { a = { b = { c = 1 } } }\n"
		"animal = { type.name = \"pug\", type.size = 'small' }\n"
		"empty = {}\n"
		"arr = { list = [ 1,\n 2 ] }\n");

	cr_assert_str_eq(at(root, "name.last")->u.s, "Preston-Werner");
	cr_assert_eq(at(root, "point.y")->u.i, 2);
	cr_assert_eq(at(root, "deep.a.b.c")->u.i, 1);
	cr_assert_str_eq(at(root, "animal.type.name")->u.s, "pug");
	cr_assert_str_eq(at(root, "animal.type.size")->u.s, "small");
	cr_assert_eq(at(root, "empty")->u.tab.n, 0);
	cr_assert_eq(at(root, "arr.list")->u.arr.n, 2);
	toml_free(&root);
}

Test(inline_tables, invalid)
{
	bad("a = {b = 1,}", "t.toml:1:12: trailing comma is not allowed in an inline table");
	bad("a = {b = 1\n}", "t.toml:1:11: newlines are not allowed in an inline table");
	bad("a = {\nb = 1}", "t.toml:1:6: newlines are not allowed in an inline table");
	bad("a = {b = 1, # c\n}", "t.toml:1:13: newlines are not allowed in an inline table");
	bad("a = {b = 1", "t.toml:1:5: unterminated inline table");
	bad("a = {b = 1 c = 2}", "t.toml:1:12: expected ',' or '}' in inline table, found 'c'");
	bad("a = {,}", "t.toml:1:6: expected a key, found ','");
	bad("a = {b = 1, b = 2}", "t.toml:1:13: duplicate key 'b' (first defined at line 1)");
	bad("a = {b.c = 1, b = 2}", "t.toml:1:15: duplicate key 'b' (first defined at line 1)");
	bad("a = {b = {c = 1}, b.d = 2}",
	    "t.toml:1:19: table 'b' (line 1) cannot be extended with dotted keys");
}

Test(inline_tables, sealed)
{
	bad("a = {b = 1}\n[a]", "t.toml:2:2: table [a] was already defined as an inline table (line 1)");
	bad("a = {}\na.b = 1", "t.toml:2:1: table 'a' (line 1) cannot be extended with dotted keys");
	bad("a = {b = {}}\n[a.b]",
	    "t.toml:2:2: 'a' is already an inline table (line 1) and cannot hold a table");
	bad("a = {b = 1}\n[[a]]",
	    "t.toml:2:3: 'a' is already a table (line 1), not an array of tables");
	bad("a = [{b = 1}]\n[[a]]", "t.toml:2:3: cannot append to statically defined array 'a' (line 1)");
	bad("a = [{b = 1}]\n[a.c]",
	    "t.toml:2:2: 'a' is already an array (line 1) and cannot hold a table");
}

/* ---- keys ---------------------------------------------------------------------------- */

Test(keys, bare_quoted_dotted)
{
	struct toml_value *root = ok(
		"key = 1\n"
		"bare_key-2 = 2\n"
		"1234 = 3\n"
		"\"127.0.0.1\" = 4\n"
		"\"character encoding\" = 5\n"
		"'quoted \"value\"' = 6\n"
		"\"\" = 7\n"
		"\"\\u00e9t\\u00e9\" = 8\n"
		"physical.color = \"orange\"\n"
		"physical . shape = \"round\"\n"
		"site.\"google.com\" = true\n"
		"3.14159 = \"pi\"\n");

	cr_assert_eq(toml_get(root, "key")->u.i, 1);
	cr_assert_eq(toml_get(root, "bare_key-2")->u.i, 2);
	cr_assert_eq(toml_get(root, "1234")->u.i, 3);
	cr_assert_eq(toml_get(root, "127.0.0.1")->u.i, 4);
	cr_assert_eq(toml_get(root, "character encoding")->u.i, 5);
	cr_assert_eq(toml_get(root, "quoted \"value\"")->u.i, 6);
	cr_assert_eq(toml_get(root, "")->u.i, 7);
	cr_assert_eq(toml_get(root, "\xC3\xA9t\xC3\xA9")->u.i, 8);
	cr_assert_str_eq(at(root, "physical.shape")->u.s, "round");
	cr_assert(toml_get(toml_get(root, "site"), "google.com")->u.b);
	cr_assert_str_eq(at(root, "3.14159")->u.s, "pi");
	cr_assert_eq(root->u.tab.n, 11); /* physical holds two keys */
	toml_free(&root);
}

Test(keys, dotted_keys_define_tables)
{
	struct toml_value *root = ok(
		"fruit.apple.color = \"red\"\n"
		"fruit.apple.taste.sweet = true\n"
		"fruit.orange = 2\n"
		"[fruit.apple.texture]\n"
		"smooth = true\n");

	cr_assert_eq(at(root, "fruit")->type, TOML_TABLE);
	cr_assert_str_eq(at(root, "fruit.apple.color")->u.s, "red");
	cr_assert(at(root, "fruit.apple.taste.sweet")->u.b);
	cr_assert(at(root, "fruit.apple.texture.smooth")->u.b);
	toml_free(&root);
	bad("fruit.apple = 1\nfruit.apple.smooth = true",
	    "t.toml:2:7: 'apple' is already an integer (line 1)");
	bad("[fruit]\napple.color = \"red\"\n[fruit.apple]",
	    "t.toml:3:8: table [fruit.apple] was already defined by dotted keys (line 2)");
	bad("[fruit]\napple.taste.sweet = true\n[fruit.apple.taste]",
	    "t.toml:3:14: table [fruit.apple.taste] was already defined by dotted keys (line 2)");
	bad("a.b = 1\n[a]", "t.toml:2:2: table [a] was already defined by dotted keys (line 1)");
}

Test(keys, invalid)
{
	bad("= 1", "t.toml:1:1: expected a key, found '='");
	bad("a b = 1", "t.toml:1:3: expected '=' after a key, found 'b'");
	bad("a = 1 b = 2", "t.toml:1:7: expected end of line, found 'b'");
	bad("a. = 1", "t.toml:1:4: expected a key, found '='");
	bad(".a = 1", "t.toml:1:1: expected a key, found '.'");
	bad("a", "t.toml:1:2: expected '=' after a key, found end of file");
	bad("a\nb = 1", "t.toml:1:2: expected '=' after a key, found end of line");
	bad("\"\"\"k\"\"\" = 1", "t.toml:1:1: a key cannot be a multi-line string");
	bad("a = 1 = 2", "t.toml:1:7: expected end of line, found '='");
	bad("k\xC3\xA9 = 1", "t.toml:1:2: expected '=' after a key, found byte 0xC3");
	bad("\"a\\u0000\" = 1", "t.toml:1:1: a key cannot contain U+0000");
}

Test(keys, messages_stay_on_one_line)
{
	bad("\"a\\nb\" = 1\n\"a\\nb\" = 2",
	    "t.toml:2:1: duplicate key 'a\\nb' (first defined at line 1)");
	bad("\"\\u0001\\t\" = 1\n\"\\u0001\\t\" = 2",
	    "t.toml:2:1: duplicate key '\\x01\t' (first defined at line 1)");
}

Test(keys, duplicates)
{
	bad("a = 1\na = 2", "t.toml:2:1: duplicate key 'a' (first defined at line 1)");
	bad("  key = 1\n  key = 2", "t.toml:2:3: duplicate key 'key' (first defined at line 1)");
	bad("a = 1\n\"a\" = 2", "t.toml:2:1: duplicate key 'a' (first defined at line 1)");
	bad("a = 1\n'a' = 2", "t.toml:2:1: duplicate key 'a' (first defined at line 1)");
	bad("a.b = 1\na.b = 2", "t.toml:2:3: duplicate key 'b' (first defined at line 1)");
	bad("[t]\nx = 1\n[t.x]", "t.toml:3:4: table [t.x] is already a value (line 2)");
}

/* ---- tables -------------------------------------------------------------------------- */

Test(tables, headers)
{
	struct toml_value *root = ok(
		"top = 0\n"
		"[table-1]\n"
		"key1 = \"some string\"\n"
		"[ dog . \"tater.man\" ]\n"
		"type.name = \"pug\"\n"
		"[a.b.c]\n"
		"z = 1\n"
		"[a]     # defining the super-table afterwards is fine\n"
		"y = 2\n"
		"[ j . \"\xC3\x8A\" . 'l' ]\n"
		"[empty]\n");

	cr_assert_eq(toml_get(root, "top")->u.i, 0);
	cr_assert_str_eq(at(root, "table-1.key1")->u.s, "some string");
	cr_assert_str_eq(toml_get(toml_get(toml_get(root, "dog"), "tater.man"), "type")
				 ->u.tab.items[0].val->u.s, "pug");
	cr_assert_eq(at(root, "a.b.c.z")->u.i, 1);
	cr_assert_eq(at(root, "a.y")->u.i, 2);
	cr_assert_eq(at(root, "empty")->type, TOML_TABLE);
	toml_free(&root);
}

Test(tables, redefinition)
{
	bad("[a]\nb = 1\n[a]\nc = 2", "t.toml:3:2: table [a] is defined twice (line 1)");
	bad("[a.b]\n[a]\n[a]", "t.toml:3:2: table [a] is defined twice (line 2)");
	bad("[a]\nb = 1\n[a.b]", "t.toml:3:4: table [a.b] is already a value (line 2)");
	bad("a = 1\n[a]", "t.toml:2:2: table [a] is already a value (line 1)");
	bad("a = 1\n[a.b]", "t.toml:2:2: 'a' is already an integer (line 1) and cannot hold a table");
	bad("[a.b.c]\nz = 9\n[a]\nb.c.t = 1",
	    "t.toml:4:1: table 'b' (line 1) cannot be extended with dotted keys");
	bad("[a.b.c.d]\nz = 9\n[a]\nb.c.d.k.t = 1",
	    "t.toml:4:1: table 'b' (line 1) cannot be extended with dotted keys");
	bad("[]", "t.toml:1:2: expected a key, found ']'");
	bad("[a", "t.toml:1:3: expected ']', found end of file");
	bad("[a]b = 1", "t.toml:1:4: expected end of line, found 'b'");
	bad("[a.]", "t.toml:1:4: expected a key, found ']'");
	bad("[a]]", "t.toml:1:4: expected end of line, found ']'");
	bad("[ [a] ]", "t.toml:1:3: expected a key, found '['");
}

Test(tables, array_of_tables)
{
	struct toml_value *root = ok(
		"[[fruits]]\n"
		"name = \"apple\"\n"
		"[fruits.physical]\n"
		"color = \"red\"\n"
		"[[fruits.varieties]]\n"
		"name = \"red delicious\"\n"
		"[[fruits.varieties]]\n"
		"name = \"granny smith\"\n"
		"[[fruits]]\n"
		"name = \"banana\"\n"
		"[[fruits.varieties]]\n"
		"name = \"plantain\"\n"
		"[[ empty ]]\n"
		"[[empty]]\n");
	const struct toml_value *f = at(root, "fruits");

	cr_assert_eq(f->type, TOML_ARRAY);
	cr_assert_eq(f->u.arr.n, 2);
	cr_assert_str_eq(toml_get(f->u.arr.items[0], "name")->u.s, "apple");
	cr_assert_str_eq(at(f->u.arr.items[0], "physical.color")->u.s, "red");
	cr_assert_eq(toml_get(f->u.arr.items[0], "varieties")->u.arr.n, 2);
	cr_assert_str_eq(toml_get(toml_get(f->u.arr.items[0], "varieties")->u.arr.items[1],
				  "name")->u.s, "granny smith");
	cr_assert_str_eq(toml_get(toml_get(f->u.arr.items[1], "varieties")->u.arr.items[0],
				  "name")->u.s, "plantain");
	cr_assert_eq(at(root, "empty")->u.arr.n, 2);
	toml_free(&root);
}

Test(tables, array_of_tables_errors)
{
	bad("a = []\n[[a]]", "t.toml:2:3: cannot append to statically defined array 'a' (line 1)");
	bad("a = [1]\n[[a]]", "t.toml:2:3: cannot append to statically defined array 'a' (line 1)");
	bad("[[a]]\n[a]", "t.toml:2:2: table [a] is an array of tables, written [[...]] (line 1)");
	bad("[a]\n[[a]]", "t.toml:2:3: 'a' is already a table (line 1), not an array of tables");
	bad("[[a.b]]\n[a]\nb.y = 2", "t.toml:3:1: 'b' is already an array (line 1)");
	bad("[[albums.songs]]\n[[albums]]",
	    "t.toml:2:3: 'albums' is already a table (line 1), not an array of tables");
	bad("[[a]\n", "t.toml:1:4: expected ']]', found ']'");
	bad("[[a] ]\n", "t.toml:1:4: expected ']]', found ']'");
	bad("[[parent.arr]]\n[parent]\narr = 2",
	    "t.toml:3:1: duplicate key 'arr' (first defined at line 1)");
}

/* ---- comments, line endings, BOM ----------------------------------------------------- */

Test(document, comments_and_blank_lines)
{
	struct toml_value *root = ok(
		"# full line\n"
		"\n"
		"   \t\n"
		"a = 1 # after a value\n"
		"b = \"# not a comment\"#right after\n"
		"[t] # after a header\n"
		"\t# indented with a tab: \t ok\n"
		"c = 3\n"
		"# at EOF without newline");

	cr_assert_eq(toml_get(root, "a")->u.i, 1);
	cr_assert_str_eq(toml_get(root, "b")->u.s, "# not a comment");
	cr_assert_eq(at(root, "t.c")->u.i, 3);
	toml_free(&root);
	toml_free(&root); /* NULL: no-op */
	root = ok("");
	cr_assert_eq(root->u.tab.n, 0);
	toml_free(&root);
	root = ok("\n\n# only comments\n");
	cr_assert_eq(root->u.tab.n, 0);
	toml_free(&root);
}

Test(document, crlf)
{
	struct toml_value *root = ok("a = 1\r\n[t]\r\nb = 'x' # c\r\n\r\nc = [\r\n 1,\r\n]\r\n");

	cr_assert_eq(at(root, "t.b")->line, 3);
	cr_assert_eq(at(root, "t.c")->u.arr.n, 1);
	toml_free(&root);
	bad("a = 1\r\nb = 01\r\n", "t.toml:2:5: invalid integer: leading zeros are not allowed");
	bad("a = 1\rb = 2", "t.toml:1:6: expected end of line, found U+000D");
	bad("a = 1\r", "t.toml:1:6: expected end of line, found U+000D");
}

Test(document, bom)
{
	struct toml_value *root = ok("\xEF\xBB\xBF" "a = 1\nb = 2");

	cr_assert_eq(toml_get(root, "a")->u.i, 1);
	cr_assert_eq(root->u.tab.items[0].col, 1, "the BOM is not a column");
	toml_free(&root);
	bad("\xEF\xBB\xBF" "a = x", "t.toml:1:5: expected a value, found 'x'");
	bad("a = 1\n\xEF\xBB\xBF" "b = 2", "t.toml:2:1: expected a key, found byte 0xEF");
	bad("\xEF\xBB" "a = 1", "t.toml:1:1: invalid UTF-8 (byte 0xEF)");
}

/* ---- positions ----------------------------------------------------------------------- */

Test(positions, of_values_and_keys)
{
	struct toml_value *root = ok(
		"a = 1\n"
		"  \tb =   \"x\"\n"
		"[sec]\n"
		"    k = [1,\n"
		"      2]\n"
		"[[arr]]\n"
		"x.y = { z = true }\n");
	const struct toml_value *sec = toml_get(root, "sec"), *k = toml_get(sec, "k");

	cr_assert_eq(root->u.tab.items[1].line, 2);
	cr_assert_eq(root->u.tab.items[1].col, 4);
	cr_assert_eq(toml_get(root, "b")->line, 2);
	cr_assert_eq(toml_get(root, "b")->col, 10);
	cr_assert_eq(root->u.tab.items[2].line, 3, "a table's key is where its header is");
	cr_assert_eq(root->u.tab.items[2].col, 2);
	cr_assert_eq(sec->u.tab.items[0].col, 5);
	cr_assert_eq(k->line, 4);
	cr_assert_eq(k->col, 9);
	cr_assert_eq(k->u.arr.items[1]->line, 5);
	cr_assert_eq(k->u.arr.items[1]->col, 7);
	cr_assert_eq(at(toml_get(root, "arr")->u.arr.items[0], "x.y.z")->col, 13);
	toml_free(&root);
}

Test(positions, of_errors)
{
	bad("a = 1\nb = 2\n\n    c = 0x\n", "t.toml:4:9: invalid integer: expected digits");
	bad("s = \"\"\"one\ntwo \\q\"\"\"", "t.toml:2:5: invalid escape sequence '\\q'");
	bad("\ta = \"x", "t.toml:1:6: unterminated string");
	bad("a = [\n  1,\n  2,\n  x\n]", "t.toml:4:3: expected a value, found 'x'");
	bad("a = '''\nx\n''' y", "t.toml:3:5: expected end of line, found 'y'");
}

/* ---- API ----------------------------------------------------------------------------- */

Test(api, parse_file_and_get)
{
	char path[] = "/tmp/test_toml_XXXXXX";
	int fd = mkstemp(path);
	struct toml_value *root = NULL;
	FILE *f;

	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	fputs("x = 1\n[t]\ny = 'z'\n", f);
	fclose(f);
	cr_assert_eq(toml_parse_file(path, &root, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(toml_get(root, "x")->u.i, 1);
	cr_assert_null(toml_get(root, "nope"));
	cr_assert_null(toml_get(toml_get(root, "x"), "y"), "toml_get on a non-table");
	cr_assert_null(toml_get(NULL, "x"));
	toml_free(&root);
	cr_assert_null(root);
	unlink(path);
	cr_assert_eq(toml_parse_file(path, &root, err, sizeof(err)), -ENOENT);
	cr_assert_null(root);
	cr_assert(strstr(err, ": No such file or directory"), "%s", err);
	cr_assert_eq(strncmp(err, path, strlen(path)), 0, "%s", err);
}

Test(api, errors_into_small_or_no_buffer)
{
	struct toml_value *root = NULL;
	char small[8];

	cr_assert_eq(toml_parse("a = ", 4, "t.toml", &root, NULL, 0), -EINVAL);
	cr_assert_eq(toml_parse("a = ", 4, "t.toml", &root, small, sizeof(small)), -EINVAL);
	cr_assert_str_eq(small, "t.toml:");
	cr_assert_eq(toml_parse("a = 1", 5, NULL, &root, err, sizeof(err)), 0);
	toml_free(&root);
	cr_assert_eq(toml_parse("a = ", 4, NULL, &root, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "<toml>:1:5: expected a value, found end of file");
}

Test(api, type_names)
{
	cr_assert_str_eq(toml_type_name(TOML_STRING), "string");
	cr_assert_str_eq(toml_type_name(TOML_INTEGER), "integer");
	cr_assert_str_eq(toml_type_name(TOML_FLOAT), "float");
	cr_assert_str_eq(toml_type_name(TOML_BOOL), "boolean");
	cr_assert_str_eq(toml_type_name(TOML_ARRAY), "array");
	cr_assert_str_eq(toml_type_name(TOML_TABLE), "table");
}

/* ---- toml-test's invalid families: each must fail with a well-formed message ---------- */

Test(spec, invalid_documents)
{
	static const char *const docs[] = {
		"a = [1,,2]", "a = [1 2]", "a = [\"x\"", "a = [[]", "a = [1, 2] 3",
		"b = falsey", "b = FALSE", "b = t", "b = fals",
		"a = \"\x0c\"", "a = 1 \x0b", "a = '''\x01'''", "\x7f = 1",
		"a = 1e1.5", "a = 1.5e", "a = 1e--5", "a = 0.", "a = +.1", "a = 1_.e3",
		"a = {a = 1 b = 2}", "a = {a = 1,,}", "a = {= 1}", "a = {a}", "a = {a.b = 1, a = 2}",
		"tbl = { a = 1 }\n[tbl.b]", "a = { }\n[[a]]",
		"a = 0x-1", "a = 0b", "a = 1_000_", "a = 1__000", "a = -0b1",
		"[a]\n[a.b]\n[a]", "[a]\nb = 1\n[a.b.c]", "[a b]", "[a.\"b]", "[[a]\n",
		"[a]\n[[a.b]]\n[a.b]", "a.b = 1\na = 2", "a = 1\n[[a]]", "a.b.c = 1\na.b = 2",
		"\"a\" = 1\na = 2", "a\n= 1", "a =\n1", "'a = 1", "\"a = 1", "a.'b = 1",
		"a = \"\\u\"", "a = \"\\U1234\"", "a = \"\\ \"", "a = \"\"\"\\ x\"\"\"",
		"x = 1979-05-27T07:32:00", "x = 1979-05-27 07:32Z", "x = 12:00", "x = [1979-05-27]",
		"= \"no key\"", "a = 1\n\tb.\"", "[\"a\".]", "a = [{}, [] ", "a = {b = [1,\n",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		bad_any(docs[i]);
}

/* ---- limits and fuzz ----------------------------------------------------------------- */

Test(limits, deep_nesting_and_long_keys)
{
	size_t n = 100000, i;
	char *doc = malloc(n + 8);
	struct toml_value *root = NULL;
	const struct toml_value *v;

	cr_assert(doc);
	memcpy(doc, "a = ", 4);
	memset(doc + 4, '[', n);
	cr_assert_eq(parse_n(doc, n + 4, &root), -EINVAL);
	cr_assert_str_eq(err, "t.toml:1:69: arrays and inline tables nested more than 64 deep");
	for (i = 0; i < n; i += 2)
		memcpy(doc + i, "a.", 2);
	memcpy(doc + n, "=1", 2);
	cr_assert_eq(parse_n(doc, n + 2, &root), -EINVAL);
	cr_assert_str_eq(err, "t.toml:1:65: a key may have at most 32 parts");
	memcpy(doc, "a = ", 4);
	memset(doc + 4, '[', 64);
	doc[68] = '1';
	memset(doc + 69, ']', 64);
	doc[133] = '\0';
	root = ok(doc); /* 64 deep is allowed */
	for (v = at(root, "a"), i = 1; i < 64; i++)
		v = v->u.arr.items[0];
	cr_assert_eq(v->u.arr.items[0]->type, TOML_INTEGER);
	toml_free(&root);
	free(doc);
}

static const char *const corpus[] = {
	"input = \"tape01.avi\"\noutput = 'tape01.mkv'\npreset = \"vhs\" # c\n\n[video]\n"
	"filters = \"bwdif=mode=send_field,hqdn3d=3:2:3:2\"\n[upscale]\nwidth = 1_440\n"
	"height = 0x438\n[stages.preprocess]\nworkers = \"auto\"\n[run]\nsegment_seconds = 2.5e0\n",
	"a = [1, 2.5, -inf, nan, \"s\\u00e9\\n\", '''lit\n''', [true, false], {x = {y = 1}},]\n"
	"[[t]]\nb.c = \"\"\"\nml \\\n  cont\"\"\"\n[[t]]\n[t.d]\ne = 0o17\n",
	"\xEF\xBB\xBF# bom\r\nk = { a.b = 1, c = [ 1,\r\n 2 ] }\r\n[x.\"y z\".'w']\r\nv = 0b1010\r\n",
	"s = \"\\U0001F600 caf\xC3\xA9\"\nf = 6.626e-34\ni = -9223372036854775808\n[a.b.c]\n[a]\nz=1\n",
};

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Any input: 0 with a tree, or an error code with one well-formed line. */
static void must_not_crash(const char *doc, size_t n)
{
	struct toml_value *root = NULL;
	int ret = parse_n(doc, n, &root);

	cr_assert(ret == 0 || ret == -EINVAL, "ret %d", ret);
	if (ret == 0) {
		cr_assert_not_null(root);
		toml_free(&root);
	} else {
		cr_assert_null(root);
		check_err_shape("fuzz");
	}
}

Test(fuzz, every_prefix)
{
	size_t i, n;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		must_not_crash(corpus[i], strlen(corpus[i]));
		for (n = 0; n < strlen(corpus[i]); n++)
			must_not_crash(corpus[i], n);
	}
}

Test(fuzz, mutations)
{
	static const char specials[] = "\"'\\[]{}=.,#\n\r\t _-+0xobe:uU\x00\x7f\xC3\xEF";
	char buf[1024];
	size_t i, k, n, pos, edits;

	for (i = 0; i < 20000; i++) {
		const char *src = corpus[i % (sizeof(corpus) / sizeof(corpus[0]))];

		n = strlen(src);
		memcpy(buf, src, n);
		edits = 1 + rng() % 4;
		for (k = 0; k < edits; k++) {
			pos = rng() % n;
			switch (rng() % 4) {
			case 0: /* replace with a special */
				buf[pos] = specials[rng() % (sizeof(specials) - 1)];
				break;
			case 1: /* replace with any byte */
				buf[pos] = (char)(rng() & 0xff);
				break;
			case 2: /* delete */
				memmove(buf + pos, buf + pos + 1, n - pos - 1);
				n--;
				break;
			default: /* insert */
				if (n + 1 < sizeof(buf)) {
					memmove(buf + pos + 1, buf + pos, n - pos);
					buf[pos] = specials[rng() % (sizeof(specials) - 1)];
					n++;
				}
			}
		}
		must_not_crash(buf, rng() % 8 ? n : rng() % (n + 1));
	}
}
