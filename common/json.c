/* json: strict request parsing and exact response writing on cJSON (see json.h). */
#include "common/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/banned.h"

#define JSON_INT53_MAX    9007199254740991.0 /* 2^53 - 1 */
#define JSON_SMALL_OBJECT 16                 /* up to this many keys: compare pairwise */
#define JSON_SCALE_MAX    100

static const char json_type_reason[] = "잘못된 파라미터 타입입니다.";

/* Copies src into dst[cap], cut on a UTF-8 boundary when too long. */
static void json_copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void field_errors_add(struct field_errors *fe, int code, const char *field, const char *rejected,
                      const char *reason)
{
	struct field_error *e;

	if (!fe || fe->n >= FIELD_ERRORS_MAX)
		return;
	e = &fe->items[fe->n++];
	json_copy_cut(e->field, sizeof(e->field), field ? field : "");
	json_copy_cut(e->rejected, sizeof(e->rejected), rejected ? rejected : "");
	e->reason = reason ? reason : "";
	e->code = code < 0 ? -code : code;
}

int field_errors_code(const struct field_errors *fe)
{
	if (!fe || fe->n == 0)
		return 0;
	for (size_t i = 0; i < fe->n; i++) {
		if (fe->items[i].code == E_INVALID_PARAMETER_TYPE)
			return -E_INVALID_PARAMETER_TYPE;
	}
	return -E_VALIDATION_FAILED;
}

/* ---- parsing ------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0 when invalid. */
static size_t json_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0; /* continuation byte, overlong C0/C1, or above U+10FFFF */
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* UTF-16 surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	}
	return len;
}

static int json_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Skips the string starting at p[*i] == '"'. Refuses raw control characters, unknown escapes,
 * \u0000 (a C string cannot hold it; it would silently cut the value) and invalid UTF-8.
 * Surrogate pairs in \u escapes are checked by cJSON.
 */
static int json_scan_string(const unsigned char *p, size_t len, size_t *i)
{
	size_t k = *i + 1;

	while (k < len) {
		unsigned char c = p[k];

		if (c == '"') {
			*i = k + 1;
			return 0;
		}
		if (c < 0x20)
			return -E_MALFORMED_REQUEST;
		if (c == '\\') {
			if (k + 1 >= len)
				return -E_MALFORMED_REQUEST;
			c = p[k + 1];
			if (c == 'u') {
				int v = 0;

				if (k + 6 > len)
					return -E_MALFORMED_REQUEST;
				for (size_t j = k + 2; j < k + 6; j++) {
					int h = json_hex(p[j]);

					if (h < 0)
						return -E_MALFORMED_REQUEST;
					v = v * 16 + h;
				}
				if (v == 0)
					return -E_MALFORMED_REQUEST;
				k += 6;
			} else if (c && strchr("\"\\/bfnrt", c)) {
				k += 2;
			} else {
				return -E_MALFORMED_REQUEST;
			}
			continue;
		}
		if (c < 0x80) {
			k++;
			continue;
		}
		{
			size_t n = json_utf8_seq(p + k, len - k);

			if (n == 0)
				return -E_MALFORMED_REQUEST;
			k += n;
		}
	}
	return -E_MALFORMED_REQUEST; /* unterminated */
}

static int json_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Checks the JSON number grammar at p[*i]: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_scan_number(const unsigned char *p, size_t len, size_t *i)
{
	size_t k = *i;

	if (k < len && p[k] == '-')
		k++;
	if (k >= len || !json_is_digit(p[k]))
		return -E_MALFORMED_REQUEST;
	if (p[k] == '0') {
		k++;
	} else {
		while (k < len && json_is_digit(p[k]))
			k++;
	}
	if (k < len && p[k] == '.') {
		k++;
		if (k >= len || !json_is_digit(p[k]))
			return -E_MALFORMED_REQUEST;
		while (k < len && json_is_digit(p[k]))
			k++;
	}
	if (k < len && (p[k] == 'e' || p[k] == 'E')) {
		k++;
		if (k < len && (p[k] == '+' || p[k] == '-'))
			k++;
		if (k >= len || !json_is_digit(p[k]))
			return -E_MALFORMED_REQUEST;
		while (k < len && json_is_digit(p[k]))
			k++;
	}
	/* "01", "1.2.3", "1e5e5": what follows a number may not continue it. */
	if (k < len && (json_is_digit(p[k]) || strchr(".eE+-", p[k])))
		return -E_MALFORMED_REQUEST;
	*i = k;
	return 0;
}

/*
 * The scan before cJSON sees the body: nesting depth (so cJSON never recurses deeper than
 * max_depth), strings (escapes, control characters, UTF-8), numbers (strict grammar, which
 * cJSON's strtod would relax), and characters outside strings. The structure itself (commas,
 * colons, matching brackets, literals) is left to cJSON.
 */
static int json_scan(const unsigned char *p, size_t len, int max_depth)
{
	size_t i = 0;
	int depth = 0, any = 0, rc;

	if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		i = 3; /* a UTF-8 byte order mark, skipped by cJSON too */
	while (i < len) {
		unsigned char c = p[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
			continue;
		}
		any = 1;
		if (c == '"') {
			rc = json_scan_string(p, len, &i);
			if (rc)
				return rc;
			continue;
		}
		if (c == '-' || json_is_digit(c)) {
			rc = json_scan_number(p, len, &i);
			if (rc)
				return rc;
			continue;
		}
		if (c == '{' || c == '[') {
			if (++depth > max_depth)
				return -E_MALFORMED_REQUEST;
		} else if (c == '}' || c == ']') {
			if (--depth < 0)
				return -E_MALFORMED_REQUEST;
		} else if (c != ',' && c != ':' && !(c >= 'a' && c <= 'z')) {
			return -E_MALFORMED_REQUEST;
		}
		i++;
	}
	return any ? 0 : -E_MALFORMED_REQUEST;
}

static int json_key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when some object in the tree has a key twice, -1 when out of memory. */
static int json_has_duplicates(const cJSON *node)
{
	const cJSON *c;
	size_t n = 0;

	for (c = node->child; c; c = c->next) {
		n++;
		if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			int dup = json_has_duplicates(c);

			if (dup)
				return dup;
		}
	}
	if (!cJSON_IsObject(node) || n < 2)
		return 0;
	if (n <= JSON_SMALL_OBJECT) {
		for (c = node->child; c; c = c->next) {
			for (const cJSON *d = c->next; d; d = d->next) {
				if (strcmp(c->string, d->string) == 0)
					return 1;
			}
		}
		return 0;
	}
	{
		const char **keys = malloc(n * sizeof(*keys));
		size_t k = 0;
		int dup = 0;

		if (!keys)
			return -1;
		for (c = node->child; c; c = c->next)
			keys[k++] = c->string;
		qsort(keys, n, sizeof(*keys), json_key_cmp);
		for (k = 1; k < n && !dup; k++)
			dup = strcmp(keys[k - 1], keys[k]) == 0;
		free(keys);
		return dup;
	}
}

int json_parse_object(const char *body, size_t len, int max_depth, cJSON **out)
{
	cJSON *root = NULL;
	char *copy = NULL;
	int rc, dup;

	if (!body || len == 0 || len == SIZE_MAX)
		return -E_MALFORMED_REQUEST;
	rc = json_scan((const unsigned char *)body, len, max_depth);
	if (rc)
		return rc;
	/* cJSON checks for trailing garbage only up to a NUL inside the given length. */
	copy = malloc(len + 1);
	if (!copy)
		return -E_NOMEM;
	memcpy(copy, body, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
	free(copy);
	if (!root)
		return -E_MALFORMED_REQUEST;
	if (!cJSON_IsObject(root)) {
		rc = -E_MALFORMED_REQUEST;
		goto out;
	}
	dup = json_has_duplicates(root);
	if (dup) {
		rc = dup < 0 ? -E_NOMEM : -E_MALFORMED_REQUEST;
		goto out;
	}
	*out = root;
	root = NULL;
out:
	cJSON_Delete(root);
	return rc;
}

/* ---- getters ------------------------------------------------------------------------- */

/* A number as rejectedValue: integers without exponent, others as the shortest %g. */
static void json_number_text(double v, char out[64])
{
	if (isnan(v)) {
		snprintf(out, 64, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, 64, "%s", v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e17) {
		snprintf(out, 64, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, 64, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static int json_type_error(struct field_errors *fe, const char *field, const cJSON *v)
{
	char num[64], *text = NULL;
	const char *rejected;

	if (cJSON_IsString(v)) {
		rejected = v->valuestring;
	} else if (cJSON_IsNumber(v)) {
		json_number_text(v->valuedouble, num);
		rejected = num;
	} else if (cJSON_IsBool(v)) {
		rejected = cJSON_IsTrue(v) ? "true" : "false";
	} else {
		text = cJSON_PrintUnformatted(v);
		rejected = text ? text : "";
	}
	field_errors_add(fe, E_INVALID_PARAMETER_TYPE, field, rejected, json_type_reason);
	cJSON_free(text);
	return -E_INVALID_PARAMETER_TYPE;
}

/* The value of key, or NULL when obj is not an object or the key is absent or null. */
static const cJSON *json_member(const cJSON *obj, const char *key)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj) || !key)
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNull(v) ? NULL : v;
}

int json_get_string(const cJSON *obj, const char *key, struct field_errors *fe, const char **out)
{
	const cJSON *v = json_member(obj, key);

	if (!v)
		return JSON_ABSENT;
	if (!cJSON_IsString(v) || !v->valuestring)
		return json_type_error(fe, key, v);
	*out = v->valuestring;
	return JSON_PRESENT;
}

/* An integral number within [-limit, limit] (limit = INT32 bounds handled by the caller). */
static int json_integral(const cJSON *v, double lo, double hi)
{
	double d;

	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	return isfinite(d) && d == floor(d) && d >= lo && d <= hi;
}

int json_get_int_at(const cJSON *obj, const char *key, const char *field, struct field_errors *fe,
                    int32_t *out)
{
	const cJSON *v = json_member(obj, key);

	if (!v)
		return JSON_ABSENT;
	if (!json_integral(v, (double)INT32_MIN, (double)INT32_MAX))
		return json_type_error(fe, field ? field : key, v);
	*out = (int32_t)v->valuedouble;
	return JSON_PRESENT;
}

int json_get_int(const cJSON *obj, const char *key, struct field_errors *fe, int32_t *out)
{
	return json_get_int_at(obj, key, key, fe, out);
}

int json_get_int64(const cJSON *obj, const char *key, struct field_errors *fe, int64_t *out)
{
	const cJSON *v = json_member(obj, key);

	if (!v)
		return JSON_ABSENT;
	if (!json_integral(v, -JSON_INT53_MAX, JSON_INT53_MAX))
		return json_type_error(fe, key, v);
	*out = (int64_t)v->valuedouble;
	return JSON_PRESENT;
}

int json_get_bool(const cJSON *obj, const char *key, struct field_errors *fe, bool *out)
{
	const cJSON *v = json_member(obj, key);

	if (!v)
		return JSON_ABSENT;
	if (!cJSON_IsBool(v))
		return json_type_error(fe, key, v);
	*out = cJSON_IsTrue(v);
	return JSON_PRESENT;
}

/* ---- writers ------------------------------------------------------------------------- */

/* Adds item (taking ownership; NULL means an allocation failed). */
static int json_add_item(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return -E_NOMEM;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return -E_NOMEM;
	}
	return 0;
}

int json_add_int(cJSON *obj, const char *key, int64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRId64, v);
	return json_add_item(obj, key, cJSON_CreateRaw(text));
}

int json_format_fraction(int64_t numer, int scale, char *out, size_t outlen)
{
	char digits[24], text[JSON_SCALE_MAX + 32];
	uint64_t mag = numer < 0 ? (uint64_t)0 - (uint64_t)numer : (uint64_t)numer;
	size_t nd, o = 0, frac_start, end;

	if (scale > JSON_SCALE_MAX || scale < -JSON_SCALE_MAX)
		return -E_TOO_LONG;
	nd = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, mag);
	if (numer < 0)
		text[o++] = '-';
	if (scale <= 0) {
		memcpy(text + o, digits, nd);
		o += nd;
		for (int z = 0; mag != 0 && z < -scale; z++)
			text[o++] = '0';
		text[o++] = '.';
		text[o++] = '0';
	} else {
		size_t s = (size_t)scale;

		if (nd <= s) {
			text[o++] = '0';
			text[o++] = '.';
			frac_start = o;
			for (size_t z = nd; z < s; z++)
				text[o++] = '0';
			memcpy(text + o, digits, nd);
			o += nd;
		} else {
			memcpy(text + o, digits, nd - s);
			o += nd - s;
			text[o++] = '.';
			frac_start = o;
			memcpy(text + o, digits + nd - s, s);
			o += s;
		}
		/* Drop trailing zeros, keeping one fractional digit. */
		end = o;
		while (end > frac_start + 1 && text[end - 1] == '0')
			end--;
		o = end;
	}
	text[o] = '\0';
	if (!out || o + 1 > outlen)
		return -E_TOO_LONG;
	memcpy(out, text, o + 1);
	return 0;
}

int json_add_fraction(cJSON *obj, const char *key, int64_t numer, int scale)
{
	char text[JSON_SCALE_MAX + 32];
	int rc = json_format_fraction(numer, scale, text, sizeof(text));

	if (rc)
		return rc;
	return json_add_item(obj, key, cJSON_CreateRaw(text));
}

int json_add_string_or_null(cJSON *obj, const char *key, const char *s)
{
	return json_add_item(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

int json_add_ts(cJSON *obj, const char *key, int64_t unix_s)
{
	char ts[CLOCK_TS_LEN];
	int rc;

	if (unix_s < 0)
		return json_add_item(obj, key, cJSON_CreateNull());
	rc = clock_format_ts((time_t)unix_s, ts);
	if (rc)
		return rc;
	return json_add_item(obj, key, cJSON_CreateString(ts));
}

int json_add_day(cJSON *obj, const char *key, int32_t day, bool present)
{
	char d[CLOCK_DATE_LEN];
	int rc;

	if (!present)
		return json_add_item(obj, key, cJSON_CreateNull());
	rc = clock_format_day(day, d);
	if (rc)
		return rc;
	return json_add_item(obj, key, cJSON_CreateString(d));
}

int json_print_to(const cJSON *obj, struct buf *b)
{
	char *text = cJSON_PrintUnformatted(obj);
	int rc;

	if (!text)
		return -E_NOMEM;
	rc = buf_puts(b, text);
	cJSON_free(text);
	return rc;
}

/* ---- text ---------------------------------------------------------------------------- */

size_t json_utf8_len(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++) {
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	}
	return n;
}

/* Java's Character.isWhitespace: space and line separators except the no-break spaces. */
static int json_is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x2006) || (cp >= 0x2008 && cp <= 0x200A) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x205F || cp == 0x3000;
}

int json_is_blank(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = s ? strlen(s) : 0, i = 0;

	while (i < len) {
		size_t n = json_utf8_seq(p + i, len - i);
		uint32_t cp;

		if (n == 0)
			return 0;
		if (n == 1)
			cp = p[i];
		else if (n == 2)
			cp = (uint32_t)(p[i] & 0x1F) << 6 | (p[i + 1] & 0x3F);
		else if (n == 3)
			cp = (uint32_t)(p[i] & 0x0F) << 12 | (uint32_t)(p[i + 1] & 0x3F) << 6 |
			     (p[i + 2] & 0x3F);
		else
			cp = (uint32_t)(p[i] & 0x07) << 18 | (uint32_t)(p[i + 1] & 0x3F) << 12 |
			     (uint32_t)(p[i + 2] & 0x3F) << 6 | (p[i + 3] & 0x3F);
		if (!json_is_space(cp))
			return 0;
		i += n;
	}
	return 1;
}
