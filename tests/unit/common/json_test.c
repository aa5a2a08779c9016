/* json_test: strict parsing (API.md §1.1), typed getters and field errors, exact writers. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/banned.h"

#define TYPE_REASON "잘못된 파라미터 타입입니다."

static int parse(const char *body, int max_depth)
{
	cJSON *j = NULL;
	int rc = json_parse_object(body, strlen(body), max_depth, &j);

	if (rc == 0) {
		ck_assert_ptr_nonnull(j);
		ck_assert(cJSON_IsObject(j));
	} else {
		ck_assert_ptr_null(j);
	}
	cJSON_Delete(j);
	return rc;
}

#define ck_parse_ok(body) ck_assert_msg(parse((body), 16) == 0, "refused: %s", (body))
#define ck_parse_bad(body)                                                                         \
	ck_assert_msg(parse((body), 16) == -E_MALFORMED_REQUEST, "accepted: %s", (body))

/*
 * A body nested `levels` deep, counting the top object as 1:
 * objects {"a":{"a":{"z":1}}}, or arrays {"a":[[]]}.
 */
static char *nested(int levels, int arrays)
{
	size_t n = (size_t)levels * 6 + 16;
	char *s = malloc(n);
	size_t o = 0;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_ge(levels, 2);
	s[o++] = '{';
	if (arrays) {
		memcpy(s + o, "\"a\":", 4);
		o += 4;
		for (int i = 1; i < levels; i++)
			s[o++] = '[';
		for (int i = 1; i < levels; i++)
			s[o++] = ']';
	} else {
		for (int i = 1; i < levels; i++) {
			memcpy(s + o, "\"a\":{", 5);
			o += 5;
		}
		memcpy(s + o, "\"z\":1", 5);
		o += 5;
		for (int i = 1; i < levels; i++)
			s[o++] = '}';
	}
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

/* ---- parsing ------------------------------------------------------------------------- */

START_TEST(test_parse_valid)
{
	ck_parse_ok("{}");
	ck_parse_ok(" \t\r\n{ \"a\" : 1 , \"b\" : [ true , false , null ] } \n");
	ck_parse_ok("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}");
	ck_parse_ok("{\"k\":\"한글 ✓ 😀\"}");
	ck_parse_ok("{\"n\":[0,-0,1,-1,1.5,1e5,1E+5,1.5e-3,123456789012345678901234567890]}");
	ck_parse_ok("{\"a\":1,\"A\":2}"); /* keys are case-sensitive */
	ck_parse_ok("{\"a\":{\"b\":1},\"b\":{\"a\":1}}");
	ck_parse_ok("{\"l\":[{\"q\":1},{\"q\":2}]}"); /* same key in sibling objects */
	ck_parse_ok("\xEF\xBB\xBF{}");                /* a UTF-8 BOM is skipped */
}
END_TEST

START_TEST(test_parse_empty_and_blank)
{
	cJSON *j = NULL;

	ck_assert_int_eq(json_parse_object("", 0, 16, &j), -E_MALFORMED_REQUEST);
	ck_assert_int_eq(json_parse_object(NULL, 0, 16, &j), -E_MALFORMED_REQUEST);
	ck_parse_bad(" ");
	ck_parse_bad(" \r\n\t ");
	ck_assert_ptr_null(j);
}
END_TEST

START_TEST(test_parse_invalid)
{
	ck_parse_bad("{");
	ck_parse_bad("}");
	ck_parse_bad("{\"a\":}");
	ck_parse_bad("{\"a\" 1}");
	ck_parse_bad("{\"a\":1,}");
	ck_parse_bad("{,}");
	ck_parse_bad("{a:1}");
	ck_parse_bad("{'a':1}");
	ck_parse_bad("{\"a\":tru}");
	ck_parse_bad("{\"a\":True}");
	ck_parse_bad("{\"a\":NaN}");
	ck_parse_bad("{\"a\":\"unterminated}");
	ck_parse_bad("{\"a\":[1,2}");
	ck_parse_bad("{\"a\":1]");
	ck_parse_bad("{\"a\":\"\\x41\"}"); /* unknown escape */
	ck_parse_bad("{\"a\":\"\\u12\"}");
	ck_parse_bad("{\"a\":\"\\u0000\"}"); /* would cut the C string */
	ck_parse_bad("{\"a\":\"\\ud800\"}"); /* lone surrogate */
	ck_parse_bad("{\"a\":\"\\udc00\\ud800\"}");
	ck_parse_bad("{\"a\":\"tab\there\"}"); /* raw control character */
	ck_parse_bad("{\"a\":\"nl\nhere\"}");
	ck_parse_bad("{\"a\":1}/*c*/");
}
END_TEST

START_TEST(test_parse_trailing_garbage)
{
	cJSON *j = NULL;

	ck_parse_bad("{} x");
	ck_parse_bad("{}{}");
	ck_parse_bad("{\"a\":1}}");
	ck_parse_bad("{}\"\"");
	/* a NUL inside the body is garbage too */
	ck_assert_int_eq(json_parse_object("{}\0", 3, 16, &j), -E_MALFORMED_REQUEST);
	ck_assert_int_eq(json_parse_object("{\"a\":\"x\0y\"}", 11, 16, &j), -E_MALFORMED_REQUEST);
	/* only len bytes are read: the body need not be NUL-terminated */
	ck_assert_int_eq(json_parse_object("{\"a\":1}garbage", 7, 16, &j), 0);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "a")->valuedouble, 1);
	cJSON_Delete(j);
	j = NULL;
	ck_assert_int_eq(json_parse_object("{\"a\":1}garbage", 6, 16, &j), -E_MALFORMED_REQUEST);
}
END_TEST

START_TEST(test_parse_top_level_not_object)
{
	ck_parse_bad("[]");
	ck_parse_bad("[{}]");
	ck_parse_bad("1");
	ck_parse_bad("\"s\"");
	ck_parse_bad("null");
	ck_parse_bad("true");
}
END_TEST

START_TEST(test_parse_numbers_are_strict)
{
	ck_parse_bad("{\"n\":01}");
	ck_parse_bad("{\"n\":-01}");
	ck_parse_bad("{\"n\":1.}");
	ck_parse_bad("{\"n\":.5}");
	ck_parse_bad("{\"n\":-.5}");
	ck_parse_bad("{\"n\":+1}");
	ck_parse_bad("{\"n\":-}");
	ck_parse_bad("{\"n\":1e}");
	ck_parse_bad("{\"n\":1e+}");
	ck_parse_bad("{\"n\":0x10}");
	ck_parse_bad("{\"n\":1.2.3}");
	ck_parse_bad("{\"n\":1-2}");
	ck_parse_bad("{\"n\":Infinity}");
}
END_TEST

START_TEST(test_parse_duplicate_keys)
{
	char big[2048];
	size_t o = 0;

	ck_parse_bad("{\"a\":1,\"a\":2}");
	ck_parse_bad("{\"a\":1,\"b\":2,\"a\":1}");
	ck_parse_bad("{\"x\":{\"b\":1,\"b\":2}}");
	ck_parse_bad("{\"l\":[1,{\"q\":1,\"q\":1}]}");
	ck_parse_bad("{\"l\":[[{\"k\":{\"d\":null,\"d\":null}}]]}");
	ck_parse_bad("{\"a\":1,\"\\u0061\":2}"); /* the same key, written differently */
	/* a large object (sorted check): distinct keys pass, one repeat fails */
	big[o++] = '{';
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s\"k%d\":%d", i ? "," : "", i, i);
	memcpy(big + o, "}", 2);
	ck_parse_ok(big);
	memcpy(big + o, ",\"k57\":0}", 10);
	ck_parse_bad(big);
}
END_TEST

START_TEST(test_parse_depth_limit)
{
	char *ok = nested(16, 0);
	char *deep = nested(17, 0);
	char *ok_arr = nested(16, 1);
	char *deep_arr = nested(17, 1);

	ck_assert_int_eq(parse(ok, 16), 0);
	ck_assert_int_eq(parse(ok, 15), -E_MALFORMED_REQUEST); /* it really is 16 deep */
	ck_assert_int_eq(parse(deep, 16), -E_MALFORMED_REQUEST);
	ck_assert_int_eq(parse(deep, 17), 0);
	ck_assert_int_eq(parse(ok_arr, 16), 0);
	ck_assert_int_eq(parse(deep_arr, 16), -E_MALFORMED_REQUEST);
	ck_assert_int_eq(parse("{}", 1), 0);
	ck_assert_int_eq(parse("{\"a\":[]}", 1), -E_MALFORMED_REQUEST);
	ck_assert_int_eq(parse("{\"a\":[],\"b\":{},\"c\":[{}]}", 3), 0); /* siblings add nothing */
	/* brackets inside strings do not count */
	ck_assert_int_eq(parse("{\"a\":\"[[[[{{{{\\\"[[[[\"}", 1), 0);
	free(ok);
	free(deep);
	free(ok_arr);
	free(deep_arr);
}
END_TEST

START_TEST(test_parse_very_deep_body_is_refused_early)
{
	size_t n = 1000000;
	char *s = malloc(n + 8);
	cJSON *j = NULL;

	ck_assert_ptr_nonnull(s);
	memcpy(s, "{\"a\":", 5);
	memset(s + 5, '[', n);
	ck_assert_int_eq(json_parse_object(s, n + 5, 16, &j), -E_MALFORMED_REQUEST);
	ck_assert_ptr_null(j);
	free(s);
}
END_TEST

START_TEST(test_parse_invalid_utf8)
{
	ck_parse_bad("{\"a\":\"\xff\"}");
	ck_parse_bad("{\"a\":\"\xc0\xaf\"}");         /* overlong '/' */
	ck_parse_bad("{\"a\":\"\xe0\x80\xaf\"}");     /* overlong, 3 bytes */
	ck_parse_bad("{\"a\":\"\xed\xa0\x80\"}");     /* UTF-16 surrogate */
	ck_parse_bad("{\"a\":\"\xe2\x82\"}");         /* truncated */
	ck_parse_bad("{\"a\":\"\x80\"}");             /* lone continuation */
	ck_parse_bad("{\"a\":\"\xf4\x90\x80\x80\"}"); /* above U+10FFFF */
	ck_parse_bad("{\"a\":\"\xf8\x88\x80\x80\x80\"}");
	ck_parse_bad("{\"\xff\":1}"); /* in a key */
	ck_parse_bad("{\"a\":1}\xff");
	ck_parse_ok("{\"a\":\"\xf4\x8f\xbf\xbf\"}"); /* U+10FFFF */
	ck_parse_ok("{\"a\":\"\xed\x9f\xbf\"}");     /* U+D7FF */
}
END_TEST

/* ---- getters ------------------------------------------------------------------------- */

static const char getter_body[] =
    "{\"s\":\"x\",\"n5\":5,\"n50\":5.0,\"n55\":5.5,\"big\":2147483648,\"max\":2147483647,"
    "\"min\":-2147483648,\"below\":-2147483649,\"b53\":9007199254740991,"
    "\"over53\":9007199254740992,\"neg53\":-9007199254740991,\"negover\":-9007199254740992,"
    "\"str5\":\"5\",\"t\":true,\"f\":false,\"nul\":null,\"obj\":{\"a\":[1,\"x\"]},"
    "\"arr\":[1,2],\"e2\":1e2,\"tiny\":1e-7,\"empty\":\"\",\"negzero\":-0}";

static cJSON *getter_obj;
static struct field_errors fe;

static void getter_setup(void)
{
	getter_obj = NULL;
	ck_assert_int_eq(json_parse_object(getter_body, strlen(getter_body), 16, &getter_obj), 0);
	memset(&fe, 0, sizeof(fe));
}

static void getter_teardown(void)
{
	cJSON_Delete(getter_obj);
}

/* The last recorded error is a type error on field with this rejectedValue. */
static void expect_type_error(size_t n, const char *field, const char *rejected)
{
	ck_assert_uint_eq(fe.n, n);
	ck_assert_str_eq(fe.items[n - 1].field, field);
	ck_assert_str_eq(fe.items[n - 1].rejected, rejected);
	ck_assert_str_eq(fe.items[n - 1].reason, TYPE_REASON);
	ck_assert_int_eq(fe.items[n - 1].code, E_INVALID_PARAMETER_TYPE);
}

START_TEST(test_get_int)
{
	int32_t v = 77;

	ck_assert_int_eq(json_get_int(getter_obj, "n5", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 5);
	v = 0;
	ck_assert_int_eq(json_get_int(getter_obj, "n50", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(json_get_int(getter_obj, "max", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, INT32_MAX);
	ck_assert_int_eq(json_get_int(getter_obj, "min", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, INT32_MIN);
	ck_assert_int_eq(json_get_int(getter_obj, "e2", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 100);
	ck_assert_int_eq(json_get_int(getter_obj, "negzero", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 0);
	ck_assert_uint_eq(fe.n, 0);
}
END_TEST

START_TEST(test_get_int_absent_and_null)
{
	int32_t v = 77;

	ck_assert_int_eq(json_get_int(getter_obj, "missing", &fe, &v), JSON_ABSENT);
	ck_assert_int_eq(json_get_int(getter_obj, "nul", &fe, &v), JSON_ABSENT);
	ck_assert_int_eq(json_get_int(NULL, "n5", &fe, &v), JSON_ABSENT);
	ck_assert_int_eq(
	    json_get_int(cJSON_GetObjectItemCaseSensitive(getter_obj, "arr"), "n5", &fe, &v),
	    JSON_ABSENT);
	ck_assert_int_eq(v, 77);
	ck_assert_uint_eq(fe.n, 0);
}
END_TEST

START_TEST(test_get_int_wrong_types)
{
	int32_t v = 77;

	ck_assert_int_eq(json_get_int(getter_obj, "n55", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(1, "n55", "5.5");
	ck_assert_int_eq(json_get_int(getter_obj, "big", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(2, "big", "2147483648");
	ck_assert_int_eq(json_get_int(getter_obj, "below", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(3, "below", "-2147483649");
	ck_assert_int_eq(json_get_int(getter_obj, "str5", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(4, "str5", "5");
	ck_assert_int_eq(json_get_int(getter_obj, "t", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(5, "t", "true");
	ck_assert_int_eq(json_get_int(getter_obj, "f", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(6, "f", "false");
	ck_assert_int_eq(json_get_int(getter_obj, "obj", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(7, "obj", "{\"a\":[1,\"x\"]}");
	ck_assert_int_eq(json_get_int(getter_obj, "arr", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(8, "arr", "[1,2]");
	ck_assert_int_eq(json_get_int(getter_obj, "tiny", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(9, "tiny", "1e-07");
	ck_assert_int_eq(json_get_int(getter_obj, "empty", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(10, "empty", "");
	ck_assert_int_eq(v, 77);
	/* no field errors wanted: the status alone */
	ck_assert_int_eq(json_get_int(getter_obj, "n55", NULL, &v), -E_INVALID_PARAMETER_TYPE);
}
END_TEST

START_TEST(test_get_int_at_names_the_field)
{
	int32_t v = 0;

	ck_assert_int_eq(
	    json_get_int_at(getter_obj, "n55", "orderPostDtoList[1].quantity", &fe, &v),
	    -E_INVALID_PARAMETER_TYPE);
	expect_type_error(1, "orderPostDtoList[1].quantity", "5.5");
	ck_assert_int_eq(json_get_int_at(getter_obj, "n50", "list[0].q", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(json_get_int_at(getter_obj, "zz", "list[0].zz", &fe, &v), JSON_ABSENT);
}
END_TEST

START_TEST(test_get_int64)
{
	int64_t v = 77;

	ck_assert_int_eq(json_get_int64(getter_obj, "b53", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 9007199254740991LL);
	ck_assert_int_eq(json_get_int64(getter_obj, "neg53", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, -9007199254740991LL);
	ck_assert_int_eq(json_get_int64(getter_obj, "big", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 2147483648LL);
	ck_assert_int_eq(json_get_int64(getter_obj, "n50", &fe, &v), JSON_PRESENT);
	ck_assert_int_eq(v, 5);
	ck_assert_uint_eq(fe.n, 0);
	v = 77;
	ck_assert_int_eq(json_get_int64(getter_obj, "over53", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(1, "over53", "9007199254740992");
	ck_assert_int_eq(json_get_int64(getter_obj, "negover", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(2, "negover", "-9007199254740992");
	ck_assert_int_eq(json_get_int64(getter_obj, "n55", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(3, "n55", "5.5");
	ck_assert_int_eq(json_get_int64(getter_obj, "str5", &fe, &v), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(4, "str5", "5");
	ck_assert_int_eq(json_get_int64(getter_obj, "nul", &fe, &v), JSON_ABSENT);
	ck_assert_int_eq(v, 77);
}
END_TEST

START_TEST(test_get_string)
{
	const char *s = NULL;

	ck_assert_int_eq(json_get_string(getter_obj, "s", &fe, &s), JSON_PRESENT);
	ck_assert_str_eq(s, "x");
	ck_assert_int_eq(json_get_string(getter_obj, "empty", &fe, &s), JSON_PRESENT);
	ck_assert_str_eq(s, "");
	s = NULL;
	ck_assert_int_eq(json_get_string(getter_obj, "nul", &fe, &s), JSON_ABSENT);
	ck_assert_int_eq(json_get_string(getter_obj, "missing", &fe, &s), JSON_ABSENT);
	ck_assert_int_eq(json_get_string(getter_obj, "n5", &fe, &s), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(1, "n5", "5");
	ck_assert_int_eq(json_get_string(getter_obj, "t", &fe, &s), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(2, "t", "true");
	ck_assert_int_eq(json_get_string(getter_obj, "arr", &fe, &s), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(3, "arr", "[1,2]");
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_get_bool)
{
	bool b = false;

	ck_assert_int_eq(json_get_bool(getter_obj, "t", &fe, &b), JSON_PRESENT);
	ck_assert(b);
	ck_assert_int_eq(json_get_bool(getter_obj, "f", &fe, &b), JSON_PRESENT);
	ck_assert(!b);
	b = true;
	ck_assert_int_eq(json_get_bool(getter_obj, "nul", &fe, &b), JSON_ABSENT);
	ck_assert_int_eq(json_get_bool(getter_obj, "n5", &fe, &b), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(1, "n5", "5");
	ck_assert_int_eq(json_get_bool(getter_obj, "s", &fe, &b), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(2, "s", "x");
	ck_assert(b);
}
END_TEST

START_TEST(test_bool_string_is_a_type_error)
{
	cJSON *j = NULL;
	bool b = false;

	ck_assert_int_eq(json_parse_object("{\"ok\":\"true\"}", 13, 16, &j), 0);
	ck_assert_int_eq(json_get_bool(j, "ok", &fe, &b), -E_INVALID_PARAMETER_TYPE);
	expect_type_error(1, "ok", "true");
	cJSON_Delete(j);
}
END_TEST

/* ---- field errors -------------------------------------------------------------------- */

START_TEST(test_field_errors_code)
{
	struct field_errors e;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(field_errors_code(&e), 0);
	field_errors_add(&e, E_VALIDATION_FAILED, "email", "testgmail.com",
	                 "올바른 이메일 형식이 아닙니다.");
	ck_assert_int_eq(field_errors_code(&e), -E_VALIDATION_FAILED);
	field_errors_add(&e, -E_INVALID_PARAMETER_TYPE, "page", "x",
	                 TYPE_REASON); /* sign ignored */
	ck_assert_int_eq(field_errors_code(&e), -E_INVALID_PARAMETER_TYPE);
	ck_assert_int_eq(e.items[1].code, E_INVALID_PARAMETER_TYPE);
	ck_assert_str_eq(e.items[0].field, "email");
	ck_assert_str_eq(e.items[0].rejected, "testgmail.com");
	ck_assert_str_eq(e.items[0].reason, "올바른 이메일 형식이 아닙니다.");
	ck_assert_int_eq(field_errors_code(NULL), 0);
}
END_TEST

START_TEST(test_field_errors_cap_and_cut)
{
	struct field_errors e;
	char long_value[400], long_field[100];
	size_t o = 0;

	memset(&e, 0, sizeof(e));
	field_errors_add(&e, E_VALIDATION_FAILED, "f", NULL, "r");
	ck_assert_str_eq(e.items[0].rejected, "");
	/* "a" + 100 three-byte syllables = 301 bytes, cut to 1 + 84 * 3 = 253 */
	long_value[o++] = 'a';
	for (int i = 0; i < 100; i++, o += 3)
		memcpy(long_value + o, "값", 3);
	long_value[o] = '\0';
	field_errors_add(&e, E_VALIDATION_FAILED, "v", long_value, "r");
	ck_assert_uint_eq(strlen(e.items[1].rejected), 253);
	ck_assert_int_eq(memcmp(e.items[1].rejected, long_value, 253), 0);
	memset(long_field, 'f', sizeof(long_field) - 1);
	long_field[sizeof(long_field) - 1] = '\0';
	field_errors_add(&e, E_VALIDATION_FAILED, long_field, "x", "r");
	ck_assert_uint_eq(strlen(e.items[2].field), FIELD_NAME_MAX - 1);
	for (int i = 3; i < FIELD_ERRORS_MAX + 5; i++)
		field_errors_add(&e, E_VALIDATION_FAILED, "more", "x", "r");
	ck_assert_uint_eq(e.n, FIELD_ERRORS_MAX);
	field_errors_add(NULL, E_VALIDATION_FAILED, "f", "x", "r"); /* ignored */
}
END_TEST

/* ---- writers ------------------------------------------------------------------------- */

START_TEST(test_format_fraction_table)
{
	static const struct {
		int64_t numer;
		int scale;
		const char *text;
	} t[] = {
	    {100, 3, "0.1"},
	    {95, 3, "0.095"},
	    {0, 3, "0.0"},
	    {450, 2, "4.5"},
	    {500, 2, "5.0"},
	    {1000, 3, "1.0"},
	    {5, 0, "5.0"},
	    {125, 3, "0.125"},
	    {-5, 1, "-0.5"},
	    {0, 0, "0.0"},
	    {-450, 2, "-4.5"},
	    {123456, 2, "1234.56"},
	    {120, 2, "1.2"},
	    {1, 18, "0.000000000000000001"},
	    {INT64_MAX, 18, "9.223372036854775807"},
	    {INT64_MIN, 0, "-9223372036854775808.0"},
	    {INT64_MIN, 19, "-0.9223372036854775808"},
	    {12, -2, "1200.0"},
	    {0, -2, "0.0"},
	    {7, 25, "0.0000000000000000000000007"},
	};
	char out[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 'x', sizeof(out));
		ck_assert_int_eq(json_format_fraction(t[i].numer, t[i].scale, out, sizeof(out)), 0);
		ck_assert_msg(strcmp(out, t[i].text) == 0, "(%lld,%d) gave %s, want %s",
		              (long long)t[i].numer, t[i].scale, out, t[i].text);
	}
}
END_TEST

START_TEST(test_format_fraction_capacity)
{
	char out[8];

	ck_assert_int_eq(json_format_fraction(95, 3, out, 6), 0); /* "0.095" + NUL */
	ck_assert_str_eq(out, "0.095");
	ck_assert_int_eq(json_format_fraction(95, 3, out, 5), -E_TOO_LONG);
	ck_assert_int_eq(json_format_fraction(1, 1000, out, sizeof(out)), -E_TOO_LONG);
	ck_assert_int_eq(json_format_fraction(1, -1000, out, sizeof(out)), -E_TOO_LONG);
}
END_TEST

static char *print(const cJSON *j)
{
	struct buf b = BUF_INIT(0);
	char *s = NULL;

	ck_assert_int_eq(json_print_to(j, &b), 0);
	ck_assert_int_eq(buf_detach(&b, &s, NULL), 0);
	return s;
}

START_TEST(test_writers_exact_text)
{
	cJSON *j = cJSON_CreateObject();
	char *s;

	ck_assert_int_eq(json_add_fraction(j, "discountRate", 100, 3), 0);
	ck_assert_int_eq(json_add_fraction(j, "starAvg", 500, 2), 0);
	ck_assert_int_eq(json_add_fraction(j, "zero", 0, 3), 0);
	ck_assert_int_eq(json_add_int(j, "max", INT64_MAX), 0);
	ck_assert_int_eq(json_add_int(j, "min", INT64_MIN), 0);
	ck_assert_int_eq(json_add_int(j, "odd53", 9007199254740993LL), 0);
	ck_assert_int_eq(json_add_int(j, "price", 9000), 0);
	ck_assert_int_eq(json_add_string_or_null(j, "name", "영양제 \"A\""), 0);
	ck_assert_int_eq(json_add_string_or_null(j, "none", NULL), 0);
	s = print(j);
	ck_assert_str_eq(s, "{\"discountRate\":0.1,\"starAvg\":5.0,\"zero\":0.0,"
	                    "\"max\":9223372036854775807,\"min\":-9223372036854775808,"
	                    "\"odd53\":9007199254740993,\"price\":9000,"
	                    "\"name\":\"영양제 \\\"A\\\"\",\"none\":null}");
	free(s);
	cJSON_Delete(j);
}
END_TEST

START_TEST(test_writers_time_and_day)
{
	cJSON *j = cJSON_CreateObject();
	char *s;

	ck_assert_int_eq(clock_set_zone("Asia/Seoul"), 0);
	ck_assert_int_eq(json_add_ts(j, "createTime", 1767588310), 0);
	ck_assert_int_eq(json_add_ts(j, "paidAt", -1), 0);
	ck_assert_int_eq(
	    json_add_day(j, "nextPaymentDate", clock_days_from_civil(2026, 2, 4), true), 0);
	ck_assert_int_eq(json_add_day(j, "pausedDate", 12345, false), 0);
	s = print(j);
	ck_assert_str_eq(s, "{\"createTime\":\"2026-01-05T13:45:10+09:00\",\"paidAt\":null,"
	                    "\"nextPaymentDate\":\"2026-02-04\",\"pausedDate\":null}");
	free(s);
	cJSON_Delete(j);
}
END_TEST

START_TEST(test_print_to_appends)
{
	struct buf b = BUF_INIT(0);
	cJSON *j = cJSON_CreateObject();

	ck_assert_int_eq(json_add_int(j, "a", 1), 0);
	ck_assert_int_eq(buf_puts(&b, "x="), 0);
	ck_assert_int_eq(json_print_to(j, &b), 0);
	ck_assert_str_eq(b.data, "x={\"a\":1}");
	b.max = 10;
	ck_assert_int_eq(json_print_to(j, &b), -E_TOO_LONG);
	ck_assert_str_eq(b.data, "x={\"a\":1}");
	buf_release(&b);
	cJSON_Delete(j);
}
END_TEST

/* ---- text ---------------------------------------------------------------------------- */

START_TEST(test_utf8_len)
{
	ck_assert_uint_eq(json_utf8_len(""), 0);
	ck_assert_uint_eq(json_utf8_len(NULL), 0);
	ck_assert_uint_eq(json_utf8_len("abc"), 3);
	ck_assert_uint_eq(json_utf8_len("한글"), 2);
	ck_assert_uint_eq(json_utf8_len("é"), 1);
	ck_assert_uint_eq(json_utf8_len("😀"), 1);
	ck_assert_uint_eq(json_utf8_len("a한😀b"), 4);
}
END_TEST

START_TEST(test_is_blank)
{
	ck_assert(json_is_blank(""));
	ck_assert(json_is_blank(NULL));
	ck_assert(json_is_blank(" "));
	ck_assert(json_is_blank(" \t\n\r\v\f"));
	ck_assert(json_is_blank("\x1c\x1d\x1e\x1f"));
	ck_assert(json_is_blank("\u3000"));             /* ideographic space */
	ck_assert(json_is_blank("\u1680\u2000\u2006")); /* ogham, en quad, six-per-em */
	ck_assert(json_is_blank("\u2008\u200A\u2028\u2029\u205F"));
	ck_assert(json_is_blank(" \u3000 "));
	ck_assert(!json_is_blank("\u00A0")); /* no-break spaces are not whitespace in Java */
	ck_assert(!json_is_blank("\u2007"));
	ck_assert(!json_is_blank("\u202F"));
	ck_assert(!json_is_blank("\xc2\x85")); /* U+0085 NEL is a control character */
	ck_assert(!json_is_blank("\u200B"));   /* zero-width space */
	ck_assert(!json_is_blank(" a "));
	ck_assert(!json_is_blank("\u3000가"));
	ck_assert(!json_is_blank("\xff"));
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tp = tcase_create("parse");
	TCase *tg = tcase_create("getters");
	TCase *tw = tcase_create("writers");

	tcase_add_test(tp, test_parse_valid);
	tcase_add_test(tp, test_parse_empty_and_blank);
	tcase_add_test(tp, test_parse_invalid);
	tcase_add_test(tp, test_parse_trailing_garbage);
	tcase_add_test(tp, test_parse_top_level_not_object);
	tcase_add_test(tp, test_parse_numbers_are_strict);
	tcase_add_test(tp, test_parse_duplicate_keys);
	tcase_add_test(tp, test_parse_depth_limit);
	tcase_add_test(tp, test_parse_very_deep_body_is_refused_early);
	tcase_add_test(tp, test_parse_invalid_utf8);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(tg, getter_setup, getter_teardown);
	tcase_add_test(tg, test_get_int);
	tcase_add_test(tg, test_get_int_absent_and_null);
	tcase_add_test(tg, test_get_int_wrong_types);
	tcase_add_test(tg, test_get_int_at_names_the_field);
	tcase_add_test(tg, test_get_int64);
	tcase_add_test(tg, test_get_string);
	tcase_add_test(tg, test_get_bool);
	tcase_add_test(tg, test_bool_string_is_a_type_error);
	tcase_add_test(tg, test_field_errors_code);
	tcase_add_test(tg, test_field_errors_cap_and_cut);
	suite_add_tcase(s, tg);

	tcase_add_test(tw, test_format_fraction_table);
	tcase_add_test(tw, test_format_fraction_capacity);
	tcase_add_test(tw, test_writers_exact_text);
	tcase_add_test(tw, test_writers_time_and_day);
	tcase_add_test(tw, test_print_to_appends);
	tcase_add_test(tw, test_utf8_len);
	tcase_add_test(tw, test_is_blank);
	suite_add_tcase(s, tw);
	return s;
}
