/* test_toml_scalars.c: the TOML reader's scalars (lib/toml_scan.c): strings (escapes,
 * literal, multi-line, control characters, UTF-8), integers (bases, overflow, underscores),
 * floats (forms, inf and nan), booleans, and dates refused. Helpers: toml_helpers.h. */
#include "toml_helpers.h"

/* ---- strings ------------------------------------------------------------------------- */

Test(strings, each_escape)
{
	STR("s = \"\\b\"", "\b");
	STR("s = \"\\t\"", "\t");
	STR("s = \"\\n\"", "\n");
	STR("s = \"\\f\"", "\f");
	STR("s = \"\\r\"", "\r");
	STR("s = \"\\\"\"", "\"");
	STR("s = \"\\\\\"", "\\");
	STR("s = \"a\\tb\\\\c\\\"d\"", "a\tb\\c\"d");
	STR("s = \"\\u00E9\"", "\xC3\xA9");
	STR("s = \"\\u00e9\"", "\xC3\xA9");
	STR("s = \"\\u0041\"", "A");
	STR("s = \"\\u20AC\"", "\xE2\x82\xAC");
	STR("s = \"\\uFFFF\"", "\xEF\xBF\xBF");
	STR("s = \"\\U0001F600\"", "\xF0\x9F\x98\x80");
	STR("s = \"\\U0010FFFF\"", "\xF4\x8F\xBF\xBF");
	STR("s = \"\\U00000041\"", "A");
	STR("s = \"a\\u0000b\"", "a\0b");
}

Test(strings, invalid_escapes)
{
	bad("s = \"\\x41\"", "t.toml:1:6: invalid escape sequence '\\x'");
	bad("s = \"\\e\"", "t.toml:1:6: invalid escape sequence '\\e'");
	bad("s = \"\\a\"", "t.toml:1:6: invalid escape sequence '\\a'");
	bad("s = \"\\/\"", "t.toml:1:6: invalid escape sequence '\\/'");
	bad("s = \"ab\\ \"", "t.toml:1:8: invalid escape sequence: backslash followed by U+0020");
	bad("s = \"\\u12\"", "t.toml:1:6: \\u escape needs 4 hex digits");
	bad("s = \"\\u12G4\"", "t.toml:1:6: \\u escape needs 4 hex digits");
	bad("s = \"\\U0001F60\"", "t.toml:1:6: \\U escape needs 8 hex digits");
	bad("s = \"\\uD800\"", "t.toml:1:6: \\uD800 is not a Unicode scalar value");
	bad("s = \"\\uDFFF\"", "t.toml:1:6: \\uDFFF is not a Unicode scalar value");
	bad("s = \"\\U0000D800\"", "t.toml:1:6: \\U0000D800 is not a Unicode scalar value");
	bad("s = \"\\U00110000\"", "t.toml:1:6: \\U00110000 is not a Unicode scalar value");
	bad("s = \"\\UFFFFFFFF\"", "t.toml:1:6: \\UFFFFFFFF is not a Unicode scalar value");
	bad("s = \"\"\"\\q\"\"\"", "t.toml:1:8: invalid escape sequence '\\q'");
}

Test(strings, literal)
{
	STR("s = 'C:\\Users\\nodejs\\templates'", "C:\\Users\\nodejs\\templates");
	STR("s = '<\\i\\c*\\s*>'", "<\\i\\c*\\s*>");
	STR("s = 'Tom \"Dubs\" Preston'", "Tom \"Dubs\" Preston");
	STR("s = ''", "");
	STR("s = \"\"", "");
	STR("s = 'tab\there'", "tab\there");
	bad("s = 'it''s'", "t.toml:1:9: expected end of line, found '''");
}

Test(strings, multiline_basic)
{
	STR("s = \"\"\"\nRoses are red\nViolets are blue\"\"\"", "Roses are red\nViolets are blue");
	STR("s = \"\"\"\r\nline\r\nnext\"\"\"", "line\nnext");
	STR("s = \"\"\"no newline\"\"\"", "no newline");
	STR("s = \"\"\"\n\nkept\"\"\"", "\nkept");
	STR("s = \"\"\"\nThe quick brown \\\n\n\n  fox jumps \\\n    over\"\"\"",
	    "The quick brown fox jumps over");
	STR("s = \"\"\"\\\n  a \\   \n  b\"\"\"", "a b");
	STR("s = \"\"\"\\\r\n  a\"\"\"", "a");
	STR("s = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"",
	    "Here are two quotation marks: \"\". Simple enough.");
	STR("s = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"",
	    "Here are three quotation marks: \"\"\".");
	STR("s = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
	    "\"This,\" she said, \"is just a pointless statement.\"");
	STR("s = \"\"\"a\"\"\"\"\"", "a\"\"");
	STR("s = \"\"\"\"\"\"", "");
	STR("s = \"\"\"tab\there\"\"\"", "tab\there");
	STR("s = \"\"\"\\u00E9\\n\"\"\"", "\xC3\xA9\n");
	bad("s = \"\"\"a\"\"\"\"\"\"", "t.toml:1:9: too many quotes at the end of a multi-line string");
	bad("s = \"\"\"a\\ b\"\"\"", "t.toml:1:9: invalid escape sequence: backslash followed by U+0020");
}

Test(strings, multiline_literal)
{
	STR("s = '''I [dw]on't need \\d{2} apples'''", "I [dw]on't need \\d{2} apples");
	STR("s = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   "
	    "is preserved.\n'''",
	    "The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   "
	    "is preserved.\n");
	STR("s = ''''That,' she said, 'is still pointless.''''",
	    "'That,' she said, 'is still pointless.'");
	STR("s = '''\\\n'''", "\\\n");
	STR("s = '''a'''''", "a''");
	bad("s = '''a''''''", "t.toml:1:9: too many quotes at the end of a multi-line string");
}

Test(strings, control_characters)
{
	bad("s = \"a\x01" "b\"", "t.toml:1:7: control character U+0001 in string");
	bad("s = \"a\x7f\"", "t.toml:1:7: control character U+007F in string");
	bad("s = 'a\x1f'", "t.toml:1:7: control character U+001F in string");
	bad("s = \"\"\"a\x08\"\"\"", "t.toml:1:9: control character U+0008 in string");
	bad("s = '''a\x0b'''", "t.toml:1:9: control character U+000B in string");
	bad("s = \"a\rb\"", "t.toml:1:7: control character U+000D in string");
	bad("s = \"\"\"a\rb\"\"\"", "t.toml:1:9: control character U+000D in string");
	bad("# comment \x01\n", "t.toml:1:11: control character U+0001 in comment");
	bad("a = 1 # \x7f\n", "t.toml:1:9: control character U+007F in comment");
	bad("a = 1 # x\rx\n", "t.toml:1:10: control character U+000D in comment");
}

Test(strings, nul_in_document)
{
	struct toml_value *root = NULL;

	cr_assert_eq(parse_n("s = \"a\0b\"", 9, &root), -EINVAL);
	cr_assert_str_eq(err, "t.toml:1:7: control character U+0000 in string");
	cr_assert_eq(parse_n("a = 1\n\0", 7, &root), -EINVAL);
	cr_assert_str_eq(err, "t.toml:2:1: expected a key, found U+0000");
}

Test(strings, unterminated)
{
	bad("s = \"abc", "t.toml:1:5: unterminated string");
	bad("s = \"abc\nt = 1", "t.toml:1:5: unterminated string");
	bad("s = \"abc\r\n", "t.toml:1:5: unterminated string");
	bad("s = 'abc", "t.toml:1:5: unterminated string");
	bad("s = 'abc\n'", "t.toml:1:5: unterminated string");
	bad("s = \"", "t.toml:1:5: unterminated string");
	bad("x = 1\ns = \"\"\"abc\n\ndef", "t.toml:2:5: unterminated multi-line string");
	bad("s = \"\"\"abc\"\"", "t.toml:1:5: unterminated multi-line string");
	bad("s = '''abc''", "t.toml:1:5: unterminated multi-line string");
	bad("s = '''", "t.toml:1:5: unterminated multi-line string");
	bad("s = \"abc\\", "t.toml:1:9: invalid escape sequence: backslash followed by end of file");
}

Test(strings, utf8)
{
	STR("s = \"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	bad("s = \"\xC3\"", "t.toml:1:6: invalid UTF-8 (byte 0xC3)");
	bad("a = 1\ns = \"ab\xFF\"", "t.toml:2:8: invalid UTF-8 (byte 0xFF)");
	bad("s = \"\xC0\xAF\"", "t.toml:1:6: invalid UTF-8 (byte 0xC0)");           /* overlong */
	bad("s = \"\xED\xA0\x80\"", "t.toml:1:6: invalid UTF-8 (byte 0xED)");       /* surrogate */
	bad("s = \"\xF4\x90\x80\x80\"", "t.toml:1:6: invalid UTF-8 (byte 0xF4)");   /* > U+10FFFF */
	bad("# \xE2\x82\n", "t.toml:1:3: invalid UTF-8 (byte 0xE2)");
}

/* ---- integers ------------------------------------------------------------------------ */

Test(integers, decimal)
{
	int_is("i = 0", 0);
	int_is("i = +0", 0);
	int_is("i = -0", 0);
	int_is("i = 42", 42);
	int_is("i = +99", 99);
	int_is("i = -17", -17);
	int_is("i = 1_000", 1000);
	int_is("i = 5_349_221", 5349221);
	int_is("i = 53_49_221", 5349221);
	int_is("i = 1_2_3_4_5", 12345);
	int_is("i = 9223372036854775807", INT64_MAX);
	int_is("i = -9223372036854775808", INT64_MIN);
	int_is("i = 9_223_372_036_854_775_807", INT64_MAX);
}

Test(integers, other_bases)
{
	int_is("i = 0xDEADBEEF", 0xDEADBEEF);
	int_is("i = 0xdeadbeef", 0xDEADBEEF);
	int_is("i = 0xdead_beef", 0xDEADBEEF);
	int_is("i = 0x00ff", 255);
	int_is("i = 0x7FFFFFFFFFFFFFFF", INT64_MAX);
	int_is("i = 0o01234567", 01234567);
	int_is("i = 0o755", 0755);
	int_is("i = 0o7_7", 077);
	int_is("i = 0b11010110", 0xD6);
	int_is("i = 0b1101_0110", 0xD6);
	int_is("i = 0b0", 0);
	int_is("i = 0x0", 0);
}

Test(integers, overflow)
{
	bad("i = 9223372036854775808", "t.toml:1:5: invalid integer: integer does not fit in 64 bits");
	bad("i = -9223372036854775809", "t.toml:1:5: invalid integer: integer does not fit in 64 bits");
	bad("i = 99999999999999999999999", "t.toml:1:5: invalid integer: integer does not fit in 64 bits");
	bad("i = 0x8000000000000000", "t.toml:1:5: invalid integer: integer does not fit in 64 bits");
	bad("i = 0xFFFFFFFFFFFFFFFF", "t.toml:1:5: invalid integer: integer does not fit in 64 bits");
	bad("i = 0o1000000000000000000000", "t.toml:1:5: invalid integer: integer does not fit in 64 bits");
	bad("i = 0b1000000000000000000000000000000000000000000000000000000000000000",
	    "t.toml:1:5: invalid integer: integer does not fit in 64 bits");
}

Test(integers, leading_zeros)
{
	bad("i = 01", "t.toml:1:5: invalid integer: leading zeros are not allowed");
	bad("i = 00", "t.toml:1:5: invalid integer: leading zeros are not allowed");
	bad("i = -01", "t.toml:1:5: invalid integer: leading zeros are not allowed");
	bad("i = +01", "t.toml:1:5: invalid integer: leading zeros are not allowed");
	bad("i = 0_1", "t.toml:1:5: invalid integer: leading zeros are not allowed");
	bad("a = 1\ni = 0042", "t.toml:2:5: invalid integer: leading zeros are not allowed");
}

Test(integers, underscores)
{
	bad("i = 1__000", "t.toml:1:5: invalid integer: underscores must be between digits");
	bad("i = 1_", "t.toml:1:5: invalid integer: underscores must be between digits");
	bad("i = -_1", "t.toml:1:5: invalid integer: underscores must be between digits");
	bad("i = _1", "t.toml:1:5: expected a value, found '_'");
	bad("i = 0x_1", "t.toml:1:5: invalid integer: underscores must be between digits");
	bad("i = 0x1_", "t.toml:1:5: invalid integer: underscores must be between digits");
	bad("i = 0b1__0", "t.toml:1:5: invalid integer: underscores must be between digits");
	bad("i = 0o_7", "t.toml:1:5: invalid integer: underscores must be between digits");
}

Test(integers, bad_forms)
{
	bad("i = 0X1F", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 0O7", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 0B1", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 0xG", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 0o8", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 0b2", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 0x", "t.toml:1:5: invalid integer: expected digits");
	bad("i = 0o", "t.toml:1:5: invalid integer: expected digits");
	bad("i = -0x1", "t.toml:1:5: invalid integer: hexadecimal, octal and binary integers cannot have a sign");
	bad("i = +0o7", "t.toml:1:5: invalid integer: hexadecimal, octal and binary integers cannot have a sign");
	bad("i = +0b1", "t.toml:1:5: invalid integer: hexadecimal, octal and binary integers cannot have a sign");
	bad("i = +", "t.toml:1:5: invalid integer: expected digits");
	bad("i = --1", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = +-1", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 12a", "t.toml:1:5: invalid integer: invalid digit in number");
	bad("i = 1 2", "t.toml:1:7: expected end of line, found '2'");
}

/* ---- floats -------------------------------------------------------------------------- */

Test(floats, forms)
{
	float_is("f = 1.0", 1.0);
	float_is("f = +1.0", 1.0);
	float_is("f = 3.1415", 3.1415);
	float_is("f = -0.01", -0.01);
	float_is("f = 5e+22", 5e22);
	float_is("f = 1e06", 1e6);
	float_is("f = -2E-2", -2e-2);
	float_is("f = 6.626e-34", 6.626e-34);
	float_is("f = 224_617.445_991_228", 224617.445991228);
	float_is("f = 1_0e1_0", 10e10);
	float_is("f = 0.0", 0.0);
	float_is("f = +0.0", 0.0);
	float_is("f = -0.0", -0.0);
	float_is("f = 0e0", 0.0);
	float_is("f = 0.1e-007", 0.1e-7);
	float_is("f = 1E5", 1e5);
	float_is("f = 1e-400", 0.0);
	float_is("f = 1.7976931348623157e308", 1.7976931348623157e308);
}

Test(floats, inf_nan)
{
	float_is("f = inf", INFINITY);
	float_is("f = +inf", INFINITY);
	float_is("f = -inf", -INFINITY);
	float_is("f = nan", NAN);
	float_is("f = +nan", NAN);
	float_is("f = -nan", -NAN);
}

Test(floats, invalid)
{
	bad("f = 1.", "t.toml:1:5: invalid float: a decimal point must be followed by digits");
	bad("f = 1.e5", "t.toml:1:5: invalid float: a decimal point must be followed by digits");
	bad("f = .5", "t.toml:1:5: expected a value, found '.'");
	bad("f = -.5", "t.toml:1:5: invalid float: expected digits");
	bad("f = 1e", "t.toml:1:5: invalid float: invalid exponent");
	bad("f = 1e+", "t.toml:1:5: invalid float: invalid exponent");
	bad("f = 1e_5", "t.toml:1:5: invalid float: invalid exponent");
	bad("f = 1e5_", "t.toml:1:5: invalid float: invalid exponent");
	bad("f = 1ee5", "t.toml:1:5: invalid float: invalid exponent");
	bad("f = 1e5.0", "t.toml:1:5: invalid float: invalid exponent");
	bad("f = 01.5", "t.toml:1:5: invalid float: leading zeros are not allowed");
	bad("f = -01.5", "t.toml:1:5: invalid float: leading zeros are not allowed");
	bad("f = 1__0.0", "t.toml:1:5: invalid float: underscores must be between digits");
	bad("f = 1_.0", "t.toml:1:5: invalid float: underscores must be between digits");
	bad("f = 1._0", "t.toml:1:5: invalid float: underscores must be between digits");
	bad("f = 1.0_", "t.toml:1:5: invalid float: underscores must be between digits");
	bad("f = 1.5.5", "t.toml:1:5: invalid float: invalid digit in number");
	bad("f = 1e400", "t.toml:1:5: invalid float: float out of range");
	bad("f = -1e400", "t.toml:1:5: invalid float: float out of range");
	bad("f = Inf", "t.toml:1:5: expected a value, found 'I'");
	bad("f = NaN", "t.toml:1:5: expected a value, found 'N'");
	bad("f = infinity", "t.toml:1:5: expected a value, found 'i'");
	bad("f = inf_", "t.toml:1:5: expected a value, found 'i'");
	bad("f = -inf_", "t.toml:1:5: invalid integer: underscores must be between digits");
	bad("f = nan1", "t.toml:1:5: expected a value, found 'n'");
}

/* ---- booleans, dates ----------------------------------------------------------------- */

Test(values, booleans)
{
	struct toml_value *root = ok("t = true\nf = false");

	cr_assert_eq(at(root, "t")->type, TOML_BOOL);
	cr_assert(at(root, "t")->u.b);
	cr_assert_not(at(root, "f")->u.b);
	toml_free(&root);
	bad("b = True", "t.toml:1:5: expected a value, found 'T'");
	bad("b = tru", "t.toml:1:5: expected a value, found 't'");
	bad("b = truee", "t.toml:1:5: expected a value, found 't'");
	bad("b = false1", "t.toml:1:5: expected a value, found 'f'");
	bad("b = ", "t.toml:1:5: expected a value, found end of file");
	bad("b =\nc = 1", "t.toml:1:4: expected a value, found end of line");
}

Test(values, dates_refused)
{
	bad("d = 1979-05-27T07:32:00Z", "t.toml:1:5: dates and times are not supported in job files");
	bad("d = 1979-05-27", "t.toml:1:5: dates and times are not supported in job files");
	bad("d = 1979-05-27 07:32:00", "t.toml:1:5: dates and times are not supported in job files");
	bad("x = 1\n  d = 07:32:00", "t.toml:2:7: dates and times are not supported in job files");
	bad("d = [1, 00:32:00.999]", "t.toml:1:9: dates and times are not supported in job files");
	bad("d = {t = 1979-05-27}", "t.toml:1:10: dates and times are not supported in job files");
	int_is("i = 1979", 1979);
}
