/*
 * 20_signup: POST /api/users (API.md §3.2) with the field rules of §3.1: success and its
 * effects in the database, every rule's reason and rejectedValue, field order, wrong JSON
 * types, and the 409 conflicts in their priority order.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

/* POSTs body (a cJSON object, not consumed) to /api/users. */
static void post_signup(const cJSON *body, struct it_resp *r)
{
	char *text = cJSON_PrintUnformatted(body);
	ck_assert_ptr_nonnull(text);
	it_req("POST", "/api/users", NULL, text, NULL, r);
	free(text);
}

static char *repeat(const char *unit, int times, const char *suffix)
{
	size_t ul = strlen(unit), sl = suffix ? strlen(suffix) : 0;
	char *s = malloc(ul * (size_t)times + sl + 1), *p = s;
	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	if (sl)
		memcpy(p, suffix, sl);
	p[sl] = '\0';
	return s;
}

static void upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/* ---- success --------------------------------------------------------------------------------- */

START_TEST(signup_returns_ids_and_creates_both_carts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *body, *data;
	struct db_param p[3];

	it_user_fill(&u);
	body = it_user_json(&u);
	post_signup(body, &r);
	it_assert_status(&r, 201);
	data = it_assert_wrapper(&r);
	it_assert_keys(data, "userId", "normalCartId", "subscriptionCartId", NULL);
	u.id = it_json_int(data, "userId");
	u.normal_cart_id = it_json_int(data, "normalCartId");
	u.subscription_cart_id = it_json_int(data, "subscriptionCartId");
	ck_assert_int_gt(u.id, 0);
	ck_assert_int_gt(u.normal_cart_id, 0);
	ck_assert_int_gt(u.subscription_cart_id, 0);
	ck_assert_int_ne(u.normal_cart_id, u.subscription_cart_id);
	/* no tokens are issued */
	it_assert_no_header(&r, "Authorization");
	it_assert_no_header(&r, "Refresh");

	p[0] = DB_I64(u.normal_cart_id);
	p[1] = DB_I64(u.id);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM carts WHERE cart_id = ? AND user_id = ? "
				    "AND kind = 'NORMAL'",
				    p, 2),
			 1);
	p[0] = DB_I64(u.subscription_cart_id);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM carts WHERE cart_id = ? AND user_id = ? "
				    "AND kind = 'SUBSCRIPTION'",
				    p, 2),
			 1);
	p[0] = DB_I64(u.id);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM carts WHERE user_id = ?", p, 1), 2);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(signup_stores_an_active_user_with_a_hashed_password)
{
	struct it_user u;
	struct db_param p[1];
	char *hash, *email, *role, *status;

	it_user_fill(&u);
	it_signup(&u);
	p[0] = DB_I64(u.id);
	hash = it_sql_str("SELECT password_hash FROM users WHERE user_id = ?", p, 1);
	email = it_sql_str("SELECT email FROM users WHERE user_id = ?", p, 1);
	role = it_sql_str("SELECT role FROM users WHERE user_id = ?", p, 1);
	status = it_sql_str("SELECT status FROM users WHERE user_id = ?", p, 1);
	ck_assert_ptr_nonnull(hash);
	ck_assert_msg(strncmp(hash, "$y$", 3) == 0 || strncmp(hash, "$2b$", 4) == 0,
		      "password_hash must be yescrypt ($y$) or bcrypt ($2b$): %.8s...", hash);
	ck_assert_msg(strstr(hash, u.password) == NULL, "the raw password is in password_hash");
	ck_assert_str_eq(email, u.email);
	ck_assert_str_eq(role, "USER");
	ck_assert_str_eq(status, "USER_ACTIVE");
	free(hash);
	free(email);
	free(role);
	free(status);
}
END_TEST

START_TEST(signup_ignores_unknown_keys_and_any_authorization)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *body;
	char *text, *role;
	const char *hdrs[] = {"Authorization: Bearer expired.or.garbage", NULL};
	struct db_param p[1];
	int64_t id;

	it_user_fill(&u);
	body = it_user_json(&u);
	cJSON_AddStringToObject(body, "role", "ADMIN");
	cJSON_AddNumberToObject(body, "userId", 1);
	cJSON_AddBoolToObject(body, "social", 1);
	text = cJSON_PrintUnformatted(body);
	it_req("POST", "/api/users", NULL, text, hdrs, &r);
	it_assert_status(&r, 201);
	id = it_json_int(it_assert_wrapper(&r), "userId");
	p[0] = DB_I64(id);
	role = it_sql_str("SELECT role FROM users WHERE user_id = ?", p, 1);
	ck_assert_str_eq(role, "USER");
	free(role);
	free(text);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

/* Values at the edge of every rule that must be accepted. */
enum { ACCEPT_CASES = 16 };

START_TEST(signup_accepts_values_at_the_limits)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *body;
	char d[9], buf[1024], *s = NULL;
	const char *column = NULL;

	it_user_fill(&u);
	it_unique_digits(d);
	body = it_user_json(&u);
	switch (_i) {
	case 0: /* phone absent */
		cJSON_DeleteItemFromObject(body, "phone");
		break;
	case 1: /* phone null = absent */
		cJSON_ReplaceItemInObject(body, "phone", cJSON_CreateNull());
		break;
	case 2:
		snprintf(buf, sizeof(buf), "010%s", d);
		cJSON_ReplaceItemInObject(body, "phone", cJSON_CreateString(buf));
		break;
	case 3:
		snprintf(buf, sizeof(buf), "011-%.3s-%.4s", d + 1, d + 4);
		cJSON_ReplaceItemInObject(body, "phone", cJSON_CreateString(buf));
		break;
	case 4:
		snprintf(buf, sizeof(buf), "010%.4s-%.4s", d, d + 4);
		cJSON_ReplaceItemInObject(body, "phone", cJSON_CreateString(buf));
		break;
	case 5:
		snprintf(buf, sizeof(buf), "019-%.4s%.4s", d, d + 4);
		cJSON_ReplaceItemInObject(body, "phone", cJSON_CreateString(buf));
		break;
	case 6: { /* email of exactly 100 characters */
		size_t n = strlen(u.email);
		s = repeat("e", (int)(100 - n), u.email);
		ck_assert_uint_eq(strlen(s), 100);
		cJSON_ReplaceItemInObject(body, "email", cJSON_CreateString(s));
		column = "email";
		break;
	}
	case 7: /* every special character the local part allows */
		snprintf(buf, sizeof(buf), "a.b+c!#$%%&'*/=?^_`{|}~-%s", u.email);
		cJSON_ReplaceItemInObject(body, "email", cJSON_CreateString(buf));
		column = "email";
		break;
	case 8: /* a domain without a dot matches the rule */
		snprintf(buf, sizeof(buf), "%.*s@localhost", (int)(strchr(u.email, '@') - u.email),
			 u.email);
		cJSON_ReplaceItemInObject(body, "email", cJSON_CreateString(buf));
		break;
	case 9: /* 30 characters, 30 bytes */
		s = repeat("n", 30 - (int)strlen(u.display_name), u.display_name);
		cJSON_ReplaceItemInObject(body, "displayName", cJSON_CreateString(s));
		column = "display_name";
		break;
	case 10: /* 30 characters, more than 30 bytes */
		s = repeat("닉", 30 - (int)strlen(u.display_name), u.display_name);
		cJSON_ReplaceItemInObject(body, "displayName", cJSON_CreateString(s));
		column = "display_name";
		break;
	case 11:
		s = repeat("서", 100, NULL);
		cJSON_ReplaceItemInObject(body, "city", cJSON_CreateString(s));
		column = "city";
		break;
	case 12:
		s = repeat("동", 200, NULL);
		cJSON_ReplaceItemInObject(body, "detailAddress", cJSON_CreateString(s));
		column = "detail_address";
		break;
	case 13:
		s = repeat("홍", 30, NULL);
		cJSON_ReplaceItemInObject(body, "realName", cJSON_CreateString(s));
		column = "real_name";
		break;
	case 14: /* 8 characters */
		cJSON_ReplaceItemInObject(body, "password", cJSON_CreateString("abcd12!@"));
		break;
	case 15: /* 25 characters, each allowed special character */
		cJSON_ReplaceItemInObject(body, "password",
					  cJSON_CreateString("Ab1!@#$%^+=-xyzXYZ0987654"));
		break;
	}
	post_signup(body, &r);
	it_assert_status(&r, 201);
	if (column) {
		struct db_param p[] = {DB_I64(it_json_int(it_assert_wrapper(&r), "userId"))};
		char *stored = NULL;
		const char *want = s ? s : buf;
		if (strcmp(column, "email") == 0)
			stored = it_sql_str("SELECT email FROM users WHERE user_id = ?", p, 1);
		else if (strcmp(column, "display_name") == 0)
			stored =
			    it_sql_str("SELECT display_name FROM users WHERE user_id = ?", p, 1);
		else if (strcmp(column, "city") == 0)
			stored = it_sql_str("SELECT city FROM users WHERE user_id = ?", p, 1);
		else if (strcmp(column, "detail_address") == 0)
			stored =
			    it_sql_str("SELECT detail_address FROM users WHERE user_id = ?", p, 1);
		else
			stored = it_sql_str("SELECT real_name FROM users WHERE user_id = ?", p, 1);
		ck_assert_msg(stored && strcmp(stored, want) == 0, "%s stored as %s, sent %s",
			      column, stored ? stored : "NULL", want);
		free(stored);
	}
	free(s);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(signup_accepts_each_special_character_of_the_password_rule)
{
	static const char specials[] = "!@#$%^+=-";
	struct it_resp r = IT_RESP_INIT;

	for (size_t i = 0; specials[i]; i++) {
		struct it_user u;
		cJSON *body;
		it_user_fill(&u);
		snprintf(u.password, sizeof(u.password), "abcdef1%c", specials[i]);
		body = it_user_json(&u);
		post_signup(body, &r);
		ck_assert_msg(r.status == 201, "password with '%c' refused: %ld %s", specials[i],
			      r.status, r.body);
		cJSON_Delete(body);
		it_login(&u); /* and it is the password */
	}
	it_resp_free(&r);
}
END_TEST

/* ---- one rule at a time ---------------------------------------------------------------------- */

#define SAME "\x01" /* rejectedValue is the generated value */

struct rule_case {
	const char *field;
	const char *raw;  /* JSON text of the value; NULL with unit NULL = absent */
	const char *unit; /* else a string: unit x times + suffix */
	int times;
	const char *suffix;
	const char *rejected; /* NULL: not checked (a password) */
	const char *reason;
};

static const struct rule_case rules[] = {
	{"email", NULL, NULL, 0, NULL, "", IT_R_BLANK},
	{"email", "null", NULL, 0, NULL, "", IT_R_BLANK},
	{"email", "\"\"", NULL, 0, NULL, "", IT_R_BLANK},
	{"email", "\"   \"", NULL, 0, NULL, "   ", IT_R_BLANK},
	{"email", NULL, "a", 88, "@test.example", SAME, IT_R_MAX100},
	{"email", NULL, "a", 101, NULL, SAME, IT_R_MAX100},
	{"email", "\"testgmail.com\"", NULL, 0, NULL, "testgmail.com", IT_R_EMAIL_FORMAT},
	{"email", "\"a b@test.example\"", NULL, 0, NULL, "a b@test.example", IT_R_EMAIL_FORMAT},
	{"email", "\"a@-test.example\"", NULL, 0, NULL, "a@-test.example", IT_R_EMAIL_FORMAT},
	{"email", "\"a@test-.example\"", NULL, 0, NULL, "a@test-.example", IT_R_EMAIL_FORMAT},
	{"email", "\"a@test..example\"", NULL, 0, NULL, "a@test..example", IT_R_EMAIL_FORMAT},
	{"email", "\"a@test.example.\"", NULL, 0, NULL, "a@test.example.", IT_R_EMAIL_FORMAT},
	{"email", "\"@test.example\"", NULL, 0, NULL, "@test.example", IT_R_EMAIL_FORMAT},
	{"email", "\"a@\"", NULL, 0, NULL, "a@", IT_R_EMAIL_FORMAT},
	{"email", "\"a@b@test.example\"", NULL, 0, NULL, "a@b@test.example", IT_R_EMAIL_FORMAT},
	{"email", "\"홍@test.example\"", NULL, 0, NULL, "홍@test.example", IT_R_EMAIL_FORMAT},
	{"email", "\"a(b)@test.example\"", NULL, 0, NULL, "a(b)@test.example", IT_R_EMAIL_FORMAT},

	{"password", NULL, NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "null", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "\"\"", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "\"abcd1234\"", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "\"12345678!\"", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "\"abcdefg!\"", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "\"ab1!\"", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "\"abc12!x\"", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", NULL, "a1!", 9, NULL, "", IT_R_PASSWORD}, /* 27 characters */
	{"password", "\"abcd123*\"", NULL, 0, NULL, "", IT_R_PASSWORD},
	{"password", "\"abcd 1234\"", NULL, 0, NULL, "", IT_R_PASSWORD},

	{"displayName", NULL, NULL, 0, NULL, "", IT_R_NICK_BLANK},
	{"displayName", "null", NULL, 0, NULL, "", IT_R_NICK_BLANK},
	{"displayName", "\"\"", NULL, 0, NULL, "", IT_R_NICK_BLANK},
	{"displayName", "\"  \"", NULL, 0, NULL, "  ", IT_R_NICK_BLANK},
	{"displayName", NULL, "n", 31, NULL, SAME, IT_R_MAX30},
	{"displayName", NULL, "닉", 31, NULL, SAME, IT_R_MAX30},

	{"city", NULL, NULL, 0, NULL, "", IT_R_BLANK},
	{"city", "\"\"", NULL, 0, NULL, "", IT_R_BLANK},
	{"city", "\" \\t \"", NULL, 0, NULL, " \t ", IT_R_BLANK},
	{"city", NULL, "c", 101, NULL, SAME, IT_R_MAX100},

	{"detailAddress", NULL, NULL, 0, NULL, "", IT_R_BLANK},
	{"detailAddress", "null", NULL, 0, NULL, "", IT_R_BLANK},
	{"detailAddress", "\" \"", NULL, 0, NULL, " ", IT_R_BLANK},
	{"detailAddress", NULL, "d", 201, NULL, SAME, IT_R_MAX200},

	{"realName", NULL, NULL, 0, NULL, "", IT_R_BLANK},
	{"realName", "\"\"", NULL, 0, NULL, "", IT_R_BLANK},
	{"realName", "\" \"", NULL, 0, NULL, " ", IT_R_NO_SPACE},
	{"realName", "\"홍 길동\"", NULL, 0, NULL, "홍 길동", IT_R_NO_SPACE},
	{"realName", "\"a\\tb\"", NULL, 0, NULL, "a\tb", IT_R_NO_SPACE},
	{"realName", "\"name \"", NULL, 0, NULL, "name ", IT_R_NO_SPACE},
	{"realName", NULL, "r", 31, NULL, SAME, IT_R_MAX30},
	{"realName", NULL, "r", 30, " ", SAME, IT_R_NO_SPACE}, /* whitespace is checked first */

	{"phone", "\"\"", NULL, 0, NULL, "", IT_R_PHONE},
	{"phone", "\"02-123-4567\"", NULL, 0, NULL, "02-123-4567", IT_R_PHONE},
	{"phone", "\"010-11111-1111\"", NULL, 0, NULL, "010-11111-1111", IT_R_PHONE},
	{"phone", "\"012-1234-5678\"", NULL, 0, NULL, "012-1234-5678", IT_R_PHONE},
	{"phone", "\"010 1234 5678\"", NULL, 0, NULL, "010 1234 5678", IT_R_PHONE},
	{"phone", "\"010-1234-567\"", NULL, 0, NULL, "010-1234-567", IT_R_PHONE},
	{"phone", "\"010-12-5678\"", NULL, 0, NULL, "010-12-5678", IT_R_PHONE},
	{"phone", "\"+82-10-1234-5678\"", NULL, 0, NULL, "+82-10-1234-5678", IT_R_PHONE},
	{"phone", "\"010-1234-5678 \"", NULL, 0, NULL, "010-1234-5678 ", IT_R_PHONE},
	{"phone", "\"010--1234-5678\"", NULL, 0, NULL, "010--1234-5678", IT_R_PHONE},
	{"phone", "\"phone\"", NULL, 0, NULL, "phone", IT_R_PHONE},
};
#define N_RULES ((int)(sizeof(rules) / sizeof(rules[0])))

START_TEST(each_field_rule_has_its_reason)
{
	const struct rule_case *c = &rules[_i];
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *body;
	char *gen = NULL;
	const char *rejected = c->rejected;

	it_user_fill(&u);
	body = it_user_json(&u);
	cJSON_DeleteItemFromObject(body, c->field);
	if (c->unit) {
		gen = repeat(c->unit, c->times, c->suffix);
		cJSON_AddStringToObject(body, c->field, gen);
		if (rejected && strcmp(rejected, SAME) == 0)
			rejected = gen;
	} else if (c->raw) {
		cJSON *v = cJSON_Parse(c->raw);
		ck_assert_msg(v != NULL, "test bug: %s", c->raw);
		cJSON_AddItemToObject(body, c->field, v);
	}
	post_signup(body, &r);
	if (r.status != 400)
		ck_abort_msg("case %d (%s = %.40s): expected 400, got %ld %s", _i, c->field,
			     gen      ? gen
			     : c->raw ? c->raw
				      : "(absent)",
			     r.status, r.body);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, c->field, rejected, c->reason);
	free(gen);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

struct type_case {
	const char *field;
	const char *raw;
	const char *rejected; /* NULL: not checked */
};

static const struct type_case types[] = {
	{"email", "123", "123"},        {"email", "{\"a\":1}", NULL},
	{"password", "12345678", NULL}, {"displayName", "true", "true"},
	{"city", "1.5", "1.5"},         {"detailAddress", "false", "false"},
	{"realName", "[\"a\"]", NULL},  {"phone", "1012345678", "1012345678"},
};
#define N_TYPES ((int)(sizeof(types) / sizeof(types[0])))

START_TEST(wrong_json_type_is_invalid_parameter_type)
{
	const struct type_case *c = &types[_i];
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *body, *v;

	it_user_fill(&u);
	body = it_user_json(&u);
	v = cJSON_Parse(c->raw);
	ck_assert_ptr_nonnull(v);
	cJSON_DeleteItemFromObject(body, c->field);
	cJSON_AddItemToObject(body, c->field, v);
	post_signup(body, &r);
	it_assert_error(&r, 400, "INVALID_PARAMETER_TYPE");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, c->field, c->rejected, IT_R_TYPE);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(all_invalid_fields_are_reported_in_table_order)
{
	struct it_resp r = IT_RESP_INIT;
	/* keys deliberately in reverse order: the report follows the field table */
	const char *body = "{\"phone\":\"02-1-2\",\"realName\":\"a b\",\"detailAddress\":\"\","
			   "\"city\":\" \",\"displayName\":\"\",\"password\":\"short\","
			   "\"email\":\"bad\"}";

	it_req("POST", "/api/users", NULL, body, NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 7);
	it_assert_field_error(&r, 0, "email", "bad", IT_R_EMAIL_FORMAT);
	it_assert_field_error(&r, 1, "password", "", IT_R_PASSWORD); /* never echoed */
	it_assert_field_error(&r, 2, "displayName", "", IT_R_NICK_BLANK);
	it_assert_field_error(&r, 3, "city", " ", IT_R_BLANK);
	it_assert_field_error(&r, 4, "detailAddress", "", IT_R_BLANK);
	it_assert_field_error(&r, 5, "realName", "a b", IT_R_NO_SPACE);
	it_assert_field_error(&r, 6, "phone", "02-1-2", IT_R_PHONE);

	it_req("POST", "/api/users", NULL, "{}", NULL, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 6); /* phone is optional */
	it_assert_field_error(&r, 0, "email", "", IT_R_BLANK);
	it_assert_field_error(&r, 1, "password", "", IT_R_PASSWORD);
	it_assert_field_error(&r, 2, "displayName", "", IT_R_NICK_BLANK);
	it_assert_field_error(&r, 3, "city", "", IT_R_BLANK);
	it_assert_field_error(&r, 4, "detailAddress", "", IT_R_BLANK);
	it_assert_field_error(&r, 5, "realName", "", IT_R_BLANK);
	it_resp_free(&r);
}
END_TEST

START_TEST(a_failed_signup_creates_nothing)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user u;
	cJSON *body;
	struct db_param p[1];

	it_user_fill(&u);
	body = it_user_json(&u);
	cJSON_ReplaceItemInObject(body, "city", cJSON_CreateString(""));
	post_signup(body, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	p[0] = DB_STR(u.email);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM users WHERE email = ?", p, 1), 0);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

/* ---- conflicts ------------------------------------------------------------------------------- */

START_TEST(existing_email_is_409_case_insensitively)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	cJSON *body;
	struct db_param p[1];

	it_user_fill(&a);
	it_signup(&a);
	it_user_fill(&b);
	snprintf(b.email, sizeof(b.email), "%s", a.email);
	upper(b.email);
	body = it_user_json(&b);
	post_signup(body, &r);
	it_assert_error(&r, 409, "EXIST_EMAIL");
	p[0] = DB_STR(b.display_name);
	ck_assert_int_eq(it_sql_i64("SELECT COUNT(*) FROM users WHERE display_name = ?", p, 1), 0);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(existing_display_name_is_409_case_insensitively)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	cJSON *body;

	it_user_fill(&a);
	it_signup(&a);
	it_user_fill(&b);
	snprintf(b.display_name, sizeof(b.display_name), "%s", a.display_name);
	upper(b.display_name);
	ck_assert_str_ne(a.display_name, b.display_name);
	body = it_user_json(&b);
	post_signup(body, &r);
	it_assert_error(&r, 409, "EXIST_DISPLAY_NAME");
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(existing_phone_is_409_on_digits_only)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b, c;
	char d[9];
	cJSON *body;

	it_unique_digits(d);
	it_user_fill(&a);
	snprintf(a.phone, sizeof(a.phone), "010-%.4s-%.4s", d, d + 4);
	it_signup(&a);

	it_user_fill(&b);
	snprintf(b.phone, sizeof(b.phone), "010%s", d);
	body = it_user_json(&b);
	post_signup(body, &r);
	it_assert_error(&r, 409, "EXIST_PHONE_NUMBER");
	cJSON_Delete(body);

	it_user_fill(&c);
	snprintf(c.phone, sizeof(c.phone), "010%.4s-%.4s", d, d + 4);
	body = it_user_json(&c);
	post_signup(body, &r);
	it_assert_error(&r, 409, "EXIST_PHONE_NUMBER");
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(users_without_phone_never_conflict)
{
	struct it_user a, b;

	it_user_fill(&a);
	a.phone[0] = '\0';
	it_signup(&a);
	it_user_fill(&b);
	b.phone[0] = '\0';
	it_signup(&b);
}
END_TEST

START_TEST(conflicts_are_reported_email_then_display_name_then_phone)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	cJSON *body;

	it_user_fill(&a);
	it_signup(&a);

	it_user_fill(&b);
	snprintf(b.email, sizeof(b.email), "%s", a.email);
	snprintf(b.display_name, sizeof(b.display_name), "%s", a.display_name);
	snprintf(b.phone, sizeof(b.phone), "%s", a.phone);
	body = it_user_json(&b);
	post_signup(body, &r);
	it_assert_error(&r, 409, "EXIST_EMAIL");
	cJSON_Delete(body);

	it_unique_email(b.email, sizeof(b.email));
	body = it_user_json(&b);
	post_signup(body, &r);
	it_assert_error(&r, 409, "EXIST_DISPLAY_NAME");
	cJSON_Delete(body);

	it_unique_name(b.display_name, sizeof(b.display_name), "Nick");
	body = it_user_json(&b);
	post_signup(body, &r);
	it_assert_error(&r, 409, "EXIST_PHONE_NUMBER");
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(validation_comes_before_conflicts)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_user a, b;
	cJSON *body;

	it_user_fill(&a);
	it_signup(&a);
	b = a;
	snprintf(b.city, sizeof(b.city), " ");
	body = it_user_json(&b);
	post_signup(body, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "city", " ", IT_R_BLANK);
	cJSON_Delete(body);
	it_resp_free(&r);
}
END_TEST

Suite *signup_suite(void)
{
	Suite *s = suite_create("signup");
	TCase *tc;

	tc = tcase_create("success");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, signup_returns_ids_and_creates_both_carts);
	tcase_add_test(tc, signup_stores_an_active_user_with_a_hashed_password);
	tcase_add_test(tc, signup_ignores_unknown_keys_and_any_authorization);
	tcase_add_loop_test(tc, signup_accepts_values_at_the_limits, 0, ACCEPT_CASES);
	tcase_add_test(tc, signup_accepts_each_special_character_of_the_password_rule);
	suite_add_tcase(s, tc);

	tc = tcase_create("validation");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, each_field_rule_has_its_reason, 0, N_RULES);
	tcase_add_loop_test(tc, wrong_json_type_is_invalid_parameter_type, 0, N_TYPES);
	tcase_add_test(tc, all_invalid_fields_are_reported_in_table_order);
	tcase_add_test(tc, a_failed_signup_creates_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("conflicts");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, existing_email_is_409_case_insensitively);
	tcase_add_test(tc, existing_display_name_is_409_case_insensitively);
	tcase_add_test(tc, existing_phone_is_409_on_digits_only);
	tcase_add_test(tc, users_without_phone_never_conflict);
	tcase_add_test(tc, conflicts_are_reported_email_then_display_name_then_phone);
	tcase_add_test(tc, validation_comes_before_conflicts);
	suite_add_tcase(s, tc);
	return s;
}
