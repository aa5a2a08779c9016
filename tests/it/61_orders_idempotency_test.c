/*
 * 61_orders_idempotency: the Idempotency-Key header of API.md §1.7 on POST /api/orders: a
 * replay answers the stored status and body byte for byte with Idempotent-Replayed: true and
 * creates nothing; another body under the same key, or a key whose first request is still
 * running, is 409 IDEMPOTENCY_KEY_CONFLICT; only 2xx answers are stored; keys are scoped per
 * user; the key's format rule; concurrent requests with one key create exactly one order.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/it/lib/it.h"
#include "tests/it/lib/orders.h"
#include "common/banned.h"

#define R_KEY "1자 이상 255자 이하의 ASCII 문자여야 합니다"

static void post(const struct it_user *u, const char *body, const char *key, struct it_resp *r)
{
	ck_assert_msg(it_ord_post(u, body, key, r) == 0, "POST /api/orders: %s", r->error);
}

static int64_t orders_of(const struct it_user *u)
{
	struct db_param p[1] = {DB_I64(u->id)};
	return it_sql_i64("SELECT COUNT(*) FROM orders WHERE user_id = ?", p, 1);
}

static void unique_key(char *out, size_t n)
{
	char u[40];
	it_unique_name(u, sizeof(u), "idem");
	snprintf(out, n, "key-%s", u);
}

/* A valid one-line order body for a new item (caller frees). */
static char *new_body(struct it_ord_item *it, int quantity)
{
	struct it_ord_line line;

	it_ord_item_new(it, 11000, 100, 0);
	line = (struct it_ord_line){it->id, quantity, false, 0};
	return it_ord_body_text(&line, 1);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

START_TEST(same_key_same_body_replays_the_stored_answer)
{
	struct it_resp first = IT_RESP_INIT, again = IT_RESP_INIT, plain = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_user u;
	char key[64], *body;

	it_new_user(&u);
	unique_key(key, sizeof(key));
	body = new_body(&it, 2);
	post(&u, body, key, &first);
	it_assert_status(&first, 201);
	it_assert_no_header(&first, "Idempotent-Replayed");
	it_assert_wrapper(&first);
	ck_assert_int_eq(orders_of(&u), 1);

	/* even after a catalogue change, the replay is the stored answer: nothing re-executes */
	it_ord_item_price(&it, 50000, 0);
	sleep_ms(1100); /* a re-execution would carry another createTime */
	for (int i = 0; i < 2; i++) {
		post(&u, body, key, &again);
		it_assert_status(&again, 201);
		it_assert_header(&again, "Idempotent-Replayed", "true");
		ck_assert_uint_eq(again.body_len, first.body_len);
		ck_assert_msg(memcmp(again.body, first.body, first.body_len) == 0,
		              "replayed body differs:\n%s\n%s", first.body, again.body);
		ck_assert_str_eq(it_resp_header(&again, "Content-Type"),
		                 "application/json; charset=utf-8");
	}
	ck_assert_int_eq(orders_of(&u), 1);

	/* without the header the same body is a new order */
	post(&u, body, NULL, &plain);
	it_assert_status(&plain, 201);
	it_assert_no_header(&plain, "Idempotent-Replayed");
	ck_assert_int_eq(orders_of(&u), 2);
	free(body);
	it_resp_free(&first);
	it_resp_free(&again);
	it_resp_free(&plain);
}
END_TEST

START_TEST(same_key_another_body_is_a_conflict)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_user u;
	char key[64], *body, *spaced;
	size_t n;

	it_new_user(&u);
	unique_key(key, sizeof(key));
	body = new_body(&it, 2);
	post(&u, body, key, &r);
	it_assert_status(&r, 201);

	/* another quantity */
	struct it_ord_line line = {it.id, 3, false, 0};
	char *other = it_ord_body_text(&line, 1);
	post(&u, other, key, &r);
	it_assert_error(&r, 409, "IDEMPOTENCY_KEY_CONFLICT");
	it_assert_no_header(&r, "Idempotent-Replayed");
	free(other);

	/* the same JSON value, other bytes: byte-identical is what counts */
	n = strlen(body);
	spaced = malloc(n + 2);
	memcpy(spaced, body, n);
	spaced[n] = ' ';
	spaced[n + 1] = '\0';
	post(&u, spaced, key, &r);
	it_assert_error(&r, 409, "IDEMPOTENCY_KEY_CONFLICT");
	free(spaced);

	ck_assert_int_eq(orders_of(&u), 1);
	/* the stored answer is still there */
	post(&u, body, key, &r);
	it_assert_status(&r, 201);
	it_assert_header(&r, "Idempotent-Replayed", "true");
	free(body);
	it_resp_free(&r);
}
END_TEST

START_TEST(errors_are_not_stored_and_free_the_key)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_ord_line line;
	struct it_user u, other;
	char key[64], *body, *bad, *unknown;

	it_new_user(&u);
	it_new_user(&other);
	unique_key(key, sizeof(key));
	body = new_body(&it, 1);

	/* 400, twice: answered again each time, never replayed */
	line = (struct it_ord_line){it.id, 0, false, 0};
	bad = it_ord_body_text(&line, 1);
	for (int i = 0; i < 2; i++) {
		post(&u, bad, key, &r);
		it_assert_error(&r, 400, "VALIDATION_FAILED");
		it_assert_no_header(&r, "Idempotent-Replayed");
	}
	/* 404 under the same key */
	line = (struct it_ord_line){999999999997, 1, false, 0};
	unknown = it_ord_body_text(&line, 1);
	post(&u, unknown, key, &r);
	it_assert_error(&r, 404, "ITEM_NOT_FOUND");
	/* 403 (a foreign userId) under the same key */
	cJSON *b = cJSON_Parse(body);
	cJSON_AddNumberToObject(b, "userId", (double)other.id);
	char *foreign = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	post(&u, foreign, key, &r);
	it_assert_error(&r, 403, "ACCESS_DENIED_USER");
	ck_assert_int_eq(orders_of(&u), 0);

	/* the key is still free: a valid request now runs and is stored */
	post(&u, body, key, &r);
	it_assert_status(&r, 201);
	it_assert_no_header(&r, "Idempotent-Replayed");
	post(&u, body, key, &r);
	it_assert_status(&r, 201);
	it_assert_header(&r, "Idempotent-Replayed", "true");
	/* and the failed bodies are now conflicts */
	post(&u, bad, key, &r);
	it_assert_error(&r, 409, "IDEMPOTENCY_KEY_CONFLICT");
	ck_assert_int_eq(orders_of(&u), 1);
	free(body);
	free(bad);
	free(unknown);
	free(foreign);
	it_resp_free(&r);
}
END_TEST

START_TEST(keys_are_scoped_per_user)
{
	struct it_resp a = IT_RESP_INIT, b = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_user u1, u2;
	char key[64], *body;

	it_new_user(&u1);
	it_new_user(&u2);
	unique_key(key, sizeof(key));
	body = new_body(&it, 1);
	post(&u1, body, key, &a);
	it_assert_status(&a, 201);
	post(&u2, body, key, &b);
	it_assert_status(&b, 201);
	it_assert_no_header(&b, "Idempotent-Replayed");
	ck_assert_int_ne(it_json_int(it_assert_wrapper(&a), "orderId"),
	                 it_json_int(it_assert_wrapper(&b), "orderId"));
	ck_assert_int_eq(orders_of(&u1), 1);
	ck_assert_int_eq(orders_of(&u2), 1);
	free(body);
	it_resp_free(&a);
	it_resp_free(&b);
}
END_TEST

START_TEST(key_format)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_user u;
	char key[300], *body;

	it_new_user(&u);
	body = new_body(&it, 1);

	post(&u, body, "", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "Idempotency-Key", "", R_KEY);

	memset(key, 'k', 256);
	key[256] = '\0';
	post(&u, body, key, &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "Idempotency-Key", NULL, R_KEY);

	post(&u, body, "주문-1", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_error(&r, 0, "Idempotency-Key", "주문-1", R_KEY);
	ck_assert_int_eq(orders_of(&u), 0);

	/* the key is checked before the body: only its error is reported */
	post(&u, "{}", "키", &r);
	it_assert_error(&r, 400, "VALIDATION_FAILED");
	it_assert_field_count(&r, 1);
	it_assert_field_error(&r, 0, "Idempotency-Key", "키", R_KEY);

	/* 255 printable characters, spaces and punctuation included, are a key */
	for (int i = 0; i < 255; i++)
		key[i] = (char)(0x21 + (i % 94));
	key[10] = ' ';
	key[255] = '\0';
	post(&u, body, key, &r);
	it_assert_status(&r, 201);
	post(&u, body, key, &r);
	it_assert_status(&r, 201);
	it_assert_header(&r, "Idempotent-Replayed", "true");
	ck_assert_int_eq(orders_of(&u), 1);
	free(body);
	it_resp_free(&r);
}
END_TEST

/* ---- running requests ------------------------------------------------------------------------ */

struct call {
	const struct it_user *u;
	const char *body;
	const char *key;
	struct it_resp r;
	int rc;
};

static void *call_run(void *arg)
{
	struct call *c = arg;
	c->rc = it_ord_post(c->u, c->body, c->key, &c->r);
	return NULL;
}

/*
 * true once the daemon's order transaction waits on the item row the test has locked: a
 * statement of another connection (this query's own text matches the pattern too) executing
 * the item read of the create.
 */
static bool create_is_waiting(void)
{
	static const char sql[] =
	    "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
	    " WHERE ID <> CONNECTION_ID() AND COMMAND = 'Execute'"
	    " AND INFO LIKE '%FROM JSON_TABLE%JOIN items i%LOCK IN SHARE MODE%'";
	return it_sql_i64(sql, NULL, 0) > 0;
}

START_TEST(a_running_request_holds_its_key)
{
	struct it_resp r = IT_RESP_INIT;
	struct it_ord_item it;
	struct it_user u;
	struct call first = {0};
	pthread_t th;
	char key[64], *body, *other;
	int waited = 0;

	it_new_user(&u);
	unique_key(key, sizeof(key));
	body = new_body(&it, 1);
	struct it_ord_line line = {it.id, 2, false, 0};
	other = it_ord_body_text(&line, 1);

	/* hold the item row, so the first request stops inside its transaction */
	ck_assert_int_eq(db_begin(it_db()), 0);
	struct db_param p[1] = {DB_I64(it.id)};
	ck_assert_int_eq(
	    it_sql_i64("SELECT COUNT(*) FROM items WHERE item_id = ? FOR UPDATE", p, 1), 1);
	first.u = &u;
	first.body = body;
	first.key = key;
	ck_assert_int_eq(pthread_create(&th, NULL, call_run, &first), 0);
	while (!create_is_waiting() && waited < 4000) {
		sleep_ms(20);
		waited += 20;
	}
	ck_assert_msg(waited < 4000, "the first request never reached the item lock");

	/* while it runs: the same request and another one are both 409 */
	post(&u, body, key, &r);
	it_assert_error(&r, 409, "IDEMPOTENCY_KEY_CONFLICT");
	post(&u, other, key, &r);
	it_assert_error(&r, 409, "IDEMPOTENCY_KEY_CONFLICT");

	ck_assert_int_eq(db_rollback(it_db()), 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(first.rc, 0);
	it_assert_status(&first.r, 201);
	it_assert_no_header(&first.r, "Idempotent-Replayed");

	/* finished: replayed */
	post(&u, body, key, &r);
	it_assert_status(&r, 201);
	it_assert_header(&r, "Idempotent-Replayed", "true");
	ck_assert_msg(r.body_len == first.r.body_len &&
	                  memcmp(r.body, first.r.body, r.body_len) == 0,
	              "replay differs from the first answer");
	ck_assert_int_eq(orders_of(&u), 1);
	free(body);
	free(other);
	it_resp_free(&r);
	it_resp_free(&first.r);
}
END_TEST

#define N_CONCURRENT 8

START_TEST(concurrent_requests_with_one_key_create_one_order)
{
	struct it_ord_item it;
	struct it_user u;
	struct call calls[N_CONCURRENT];
	pthread_t th[N_CONCURRENT];
	char key[64], *body;
	const struct it_resp *original = NULL;
	int created = 0, replayed = 0, conflicts = 0;

	it_new_user(&u);
	unique_key(key, sizeof(key));
	body = new_body(&it, 7);
	memset(calls, 0, sizeof(calls));
	for (int i = 0; i < N_CONCURRENT; i++) {
		calls[i].u = &u;
		calls[i].body = body;
		calls[i].key = key;
		ck_assert_int_eq(pthread_create(&th[i], NULL, call_run, &calls[i]), 0);
	}
	for (int i = 0; i < N_CONCURRENT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N_CONCURRENT; i++) {
		struct it_resp *r = &calls[i].r;
		ck_assert_msg(calls[i].rc == 0, "request %d: %s", i, r->error);
		if (r->status == 409) {
			it_assert_error(r, 409, "IDEMPOTENCY_KEY_CONFLICT");
			conflicts++;
		} else if (it_resp_header(r, "Idempotent-Replayed")) {
			it_assert_status(r, 201);
			it_assert_header(r, "Idempotent-Replayed", "true");
			replayed++;
		} else {
			it_assert_status(r, 201);
			original = r;
			created++;
		}
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(created + replayed + conflicts, N_CONCURRENT);
	for (int i = 0; i < N_CONCURRENT; i++) {
		const struct it_resp *r = &calls[i].r;
		if (r->status == 201)
			ck_assert_msg(r->body_len == original->body_len &&
			                  !memcmp(r->body, original->body, r->body_len),
			              "a replay differs from the original answer");
	}
	ck_assert_int_eq(orders_of(&u), 1);
	for (int i = 0; i < N_CONCURRENT; i++)
		it_resp_free(&calls[i].r);
	free(body);
}
END_TEST

Suite *orders_idempotency_suite(void)
{
	Suite *s = suite_create("orders_idempotency");
	TCase *tc = tcase_create("idempotency");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, same_key_same_body_replays_the_stored_answer);
	tcase_add_test(tc, same_key_another_body_is_a_conflict);
	tcase_add_test(tc, errors_are_not_stored_and_free_the_key);
	tcase_add_test(tc, keys_are_scoped_per_user);
	tcase_add_test(tc, key_format);
	tcase_add_test(tc, a_running_request_holds_its_key);
	tcase_add_test(tc, concurrent_requests_with_one_key_create_one_order);
	suite_add_tcase(s, tc);
	return s;
}
