/*
 * json: helpers on cJSON for strict request parsing and exact response writing.
 *
 * Parsing (API.md §1.1): json_parse_object refuses invalid JSON, an empty body, a top-level
 * non-object, duplicate keys at any depth and nesting deeper than max_depth; all of these are
 * -E_MALFORMED_REQUEST. Typed getters then read one field each and record one field error per
 * invalid field into a struct field_errors (the contract's customFieldErrors). They return
 * JSON_PRESENT (1) when a usable value was read, JSON_ABSENT (0) when the key is absent or
 * null, and -E_INVALID_PARAMETER_TYPE (after recording the error) on a wrong type.
 *
 * Writing: cJSON prints 5.0 as 5 and large integers as doubles; json_add_int and
 * json_add_fraction write exact text instead (cJSON raw numbers).
 *
 * Not thread-safe per object; cJSON itself is used with its default allocator.
 */
#ifndef PV_COMMON_JSON_H
#define PV_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define JSON_PRESENT 1
#define JSON_ABSENT  0

#define FIELD_ERRORS_MAX 32
#define FIELD_NAME_MAX   64
#define FIELD_VALUE_MAX  256

struct field_error {
	char field[FIELD_NAME_MAX];
	char rejected[FIELD_VALUE_MAX]; /* the offending value as text; "" when absent */
	const char *reason;             /* static text */
	int code;                       /* E_VALIDATION_FAILED or E_INVALID_PARAMETER_TYPE */
};

struct field_errors {
	struct field_error items[FIELD_ERRORS_MAX];
	size_t n;
};

/*
 * Records one field error (ignored when full). rejected may be NULL (→ ""); it is cut at
 * FIELD_VALUE_MAX-1 bytes on a UTF-8 boundary.
 */
void field_errors_add(struct field_errors *fe, int code, const char *field, const char *rejected,
                      const char *reason);
/* The error code to answer: INVALID_PARAMETER_TYPE if any error has that code, else
 * VALIDATION_FAILED; 0 when there are none. */
int field_errors_code(const struct field_errors *fe);

/* Parses body[0..len) into a new object (caller frees with cJSON_Delete). */
int json_parse_object(const char *body, size_t len, int max_depth, cJSON **out);

/* Getters. A string value is borrowed from obj. Wrong type → INVALID_PARAMETER_TYPE with the
 * reason "잘못된 파라미터 타입입니다." and the value's JSON text as rejectedValue. */
int json_get_string(const cJSON *obj, const char *key, struct field_errors *fe, const char **out);
/* Integers: integral numbers only (5.0 ok, 5.5 not); int32 range for json_get_int,
 * |v| <= 2^53-1 for json_get_int64. */
int json_get_int(const cJSON *obj, const char *key, struct field_errors *fe, int32_t *out);
int json_get_int64(const cJSON *obj, const char *key, struct field_errors *fe, int64_t *out);
int json_get_bool(const cJSON *obj, const char *key, struct field_errors *fe, bool *out);
/* Field name for error reports when the value is inside an array: "list[1].quantity". */
int json_get_int_at(const cJSON *obj, const char *key, const char *field, struct field_errors *fe,
                    int32_t *out);

/* Writers: return 0 or -E_NOMEM. */
int json_add_int(cJSON *obj, const char *key, int64_t v);
/* numer/10^scale as the shortest exact decimal with at least one fractional digit:
 * (100,3) → 0.1, (95,3) → 0.095, (0,3) → 0.0, (450,2) → 4.5, (5,0) → 5.0. */
int json_add_fraction(cJSON *obj, const char *key, int64_t numer, int scale);
int json_add_string_or_null(cJSON *obj, const char *key, const char *s); /* NULL → null */
int json_add_ts(cJSON *obj, const char *key, int64_t unix_s); /* clock_format_ts; <0 → null */
int json_add_day(cJSON *obj, const char *key, int32_t day, bool present);
/* Formats the fraction alone (see json_add_fraction) into out. */
int json_format_fraction(int64_t numer, int scale, char *out, size_t outlen);

/* Prints obj compactly and appends it to b. */
struct buf;
int json_print_to(const cJSON *obj, struct buf *b);

/* Length of s in Unicode code points (UTF-8). */
size_t json_utf8_len(const char *s);
/* 1 when s is empty or only whitespace (ASCII and Unicode spaces as Java's isBlank). */
int json_is_blank(const char *s);

#endif
