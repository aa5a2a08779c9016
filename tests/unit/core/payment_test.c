/* payment_test: the pure rules of core/payment.c: the item name of API.md §7.9 (suffix, the
 * 100-character cut at a UTF-8 boundary), the partner ids and payload, every pair of the
 * payment record state machine of §7.1, the order lookup statuses of KAKAOPAY.md §1.9 and the
 * 502/504 choice for gateway classes. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "core/payment.h"
#include "common/banned.h"

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if ((*s & 0xC0) != 0x80)
			n++;
	return n;
}

START_TEST(item_name_one_line_is_the_product)
{
	char out[512];

	ck_assert_int_eq(payment_item_name("16종혼합유산균 디에스", 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "16종혼합유산균 디에스");
}
END_TEST

START_TEST(item_name_several_lines_adds_the_suffix)
{
	char out[512];

	ck_assert_int_eq(payment_item_name("16종혼합유산균 디에스", 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "16종혼합유산균 디에스 그 외 1개");
	ck_assert_int_eq(payment_item_name("A", 100, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "A 그 외 99개");
}
END_TEST

START_TEST(item_name_is_cut_to_100_characters_on_a_boundary)
{
	char name[1024] = "", out[512];

	for (int i = 0; i < 120; i++)
		memcpy(name + strlen(name), "가", sizeof("가")); /* 3 bytes each */
	ck_assert_int_eq(payment_item_name(name, 3, out, sizeof(out)), 0);
	ck_assert_uint_eq(utf8_chars(out), 100);
	ck_assert_uint_eq(strlen(out), 300);
	/* exactly 100 ASCII characters stay whole; 101 lose the last */
	memset(name, 'x', 100);
	name[100] = '\0';
	ck_assert_int_eq(payment_item_name(name, 1, out, sizeof(out)), 0);
	ck_assert_uint_eq(strlen(out), 100);
	memset(name, 'x', 97);
	name[97] = '\0';
	ck_assert_int_eq(payment_item_name(name, 2, out, sizeof(out)), 0);
	ck_assert_uint_eq(utf8_chars(out), 100);
	ck_assert(strncmp(out + 97, " 그 ", strlen(" 그 ")) == 0);
}
END_TEST

START_TEST(item_name_rejects_bad_arguments)
{
	char out[8];

	ck_assert_int_eq(payment_item_name("x", 0, out, sizeof(out)), -1);
	ck_assert_int_eq(payment_item_name(NULL, 1, out, sizeof(out)), -1);
	ck_assert_int_eq(payment_item_name("0123456789", 1, out, sizeof(out)), -1);
}
END_TEST

START_TEST(partner_ids_and_payload)
{
	char out[64];

	ck_assert_int_eq(payment_partner_order_id(12, 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "O12-R1");
	ck_assert_int_eq(payment_partner_order_id(INT64_MAX, 3, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "O9223372036854775807-R3");
	ck_assert_int_eq(payment_partner_user_id(7, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "U7");
	ck_assert_int_eq(payment_payload(5, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "pay:5");
	ck_assert_int_eq(payment_partner_order_id(12, 1, out, 4), -1);
}
END_TEST

/* allowed[from][to], in enum order CREATED READY APPROVING APPROVED CANCELED FAILED EXPIRED
 * SUPERSEDED, written out from §7.1 and KAKAOPAY.md §2. */
static const int allowed[PAYMENT_STATE_COUNT][PAYMENT_STATE_COUNT] = {
    /* to:     CRE RDY APG APD CAN FAI EXP SUP */
    /* CRE */ {0, 1, 0, 0, 0, 1, 0, 1},
    /* RDY */ {0, 0, 1, 1, 1, 1, 1, 1},
    /* APG */ {0, 1, 0, 1, 1, 1, 1, 0},
    /* APD */ {0, 0, 0, 0, 0, 0, 0, 0},
    /* CAN */ {0, 0, 0, 0, 0, 0, 0, 0},
    /* FAI */ {0, 0, 0, 0, 0, 0, 0, 0},
    /* EXP */ {0, 0, 0, 0, 0, 0, 0, 0},
    /* SUP */ {0, 0, 0, 0, 0, 0, 0, 0},
};

START_TEST(every_state_pair)
{
	for (int f = 0; f < PAYMENT_STATE_COUNT; f++)
		for (int t = 0; t < PAYMENT_STATE_COUNT; t++)
			ck_assert_msg(
			    payment_can_transition((enum payment_state)f, (enum payment_state)t) ==
			        allowed[f][t],
			    "%s -> %s", payment_state_name((enum payment_state)f),
			    payment_state_name((enum payment_state)t));
}
END_TEST

START_TEST(state_names_round_trip)
{
	static const char *const names[] = {"CREATED",  "READY",  "APPROVING", "APPROVED",
	                                    "CANCELED", "FAILED", "EXPIRED",   "SUPERSEDED"};

	for (int i = 0; i < PAYMENT_STATE_COUNT; i++) {
		ck_assert_str_eq(payment_state_name((enum payment_state)i), names[i]);
		ck_assert_int_eq(payment_state_parse(names[i]), i);
	}
	ck_assert_ptr_null(payment_state_name((enum payment_state)PAYMENT_STATE_COUNT));
	ck_assert_int_eq(payment_state_parse("ready"), -1);
	ck_assert_int_eq(payment_state_parse(NULL), -1);
}
END_TEST

START_TEST(lookup_statuses)
{
	static const char *const progress[] = {"READY",         "SEND_TMS",    "OPEN_PAYMENT",
	                                       "SELECT_METHOD", "ARS_WAITING", "AUTH_PASSWORD",
	                                       "ISSUED_SID"};
	static const char *const failed[] = {"FAIL_AUTH_PASSWORD", "QUIT_PAYMENT", "FAIL_PAYMENT"};

	ck_assert_int_eq(payment_lookup_read("SUCCESS_PAYMENT"), PAYMENT_LOOKUP_PAID);
	ck_assert_int_eq(payment_lookup_read("PART_CANCEL_PAYMENT"), PAYMENT_LOOKUP_REFUNDED);
	ck_assert_int_eq(payment_lookup_read("CANCEL_PAYMENT"), PAYMENT_LOOKUP_REFUNDED);
	for (size_t i = 0; i < sizeof(progress) / sizeof(progress[0]); i++)
		ck_assert_int_eq(payment_lookup_read(progress[i]), PAYMENT_LOOKUP_IN_PROGRESS);
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++)
		ck_assert_int_eq(payment_lookup_read(failed[i]), PAYMENT_LOOKUP_NOT_PAID);
	ck_assert_int_eq(payment_lookup_read("success_payment"), PAYMENT_LOOKUP_UNKNOWN);
	ck_assert_int_eq(payment_lookup_read(""), PAYMENT_LOOKUP_UNKNOWN);
	ck_assert_int_eq(payment_lookup_read(NULL), PAYMENT_LOOKUP_UNKNOWN);
}
END_TEST

START_TEST(gateway_errors_502_or_504)
{
	ck_assert_int_eq(payment_gateway_error(PAY_OK, 200), 0);
	ck_assert_int_eq(payment_gateway_error(PAY_UNKNOWN, 0), -E_PAYMENT_GATEWAY_TIMEOUT);
	ck_assert_int_eq(payment_gateway_error(PAY_RETRY_LATER, 0), -E_PAYMENT_GATEWAY_TIMEOUT);
	ck_assert_int_eq(payment_gateway_error(PAY_UNKNOWN, 500), -E_PAYMENT_GATEWAY_ERROR);
	ck_assert_int_eq(payment_gateway_error(PAY_RETRY_LATER, 429), -E_PAYMENT_GATEWAY_ERROR);
	ck_assert_int_eq(payment_gateway_error(PAY_NOT_SENT, 0), -E_PAYMENT_GATEWAY_ERROR);
	for (int c = PAY_DECLINED; c < PAY_CLASS__COUNT; c++)
		if (c != PAY_UNKNOWN)
			ck_assert_int_eq(payment_gateway_error((enum pay_class)c, 400),
			                 -E_PAYMENT_GATEWAY_ERROR);
}
END_TEST

Suite *payment_suite(void)
{
	Suite *s = suite_create("payment");
	TCase *tc = tcase_create("payment");

	tcase_add_test(tc, item_name_one_line_is_the_product);
	tcase_add_test(tc, item_name_several_lines_adds_the_suffix);
	tcase_add_test(tc, item_name_is_cut_to_100_characters_on_a_boundary);
	tcase_add_test(tc, item_name_rejects_bad_arguments);
	tcase_add_test(tc, partner_ids_and_payload);
	tcase_add_test(tc, every_state_pair);
	tcase_add_test(tc, state_names_round_trip);
	tcase_add_test(tc, lookup_statuses);
	tcase_add_test(tc, gateway_errors_502_or_504);
	suite_add_tcase(s, tc);
	return s;
}
