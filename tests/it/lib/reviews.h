/*
 * reviews: helpers of the review tests (tests/it/70_reviews_test.c, 71_reviews_stats_test.c):
 * catalogue items and orders made directly in SQL (there is no item write API, and a
 * COMPLETE order needs a payment), review requests, the review statistics read from SQL and
 * recomputed from the review rows, and the item's statistics as the item routes show them.
 *
 * Every helper that can fail fails the calling test at the caller's line (struct it_loc).
 * Not thread-safe (like the rest of the harness): one test process at a time.
 */
#ifndef PV_TESTS_IT_REVIEWS_H
#define PV_TESTS_IT_REVIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/it/lib/it.h"

#define RV_R_MIN1     "1 이상이어야 합니다"
#define RV_R_MAX5     "5 이하여야 합니다"
#define RV_R_MAX2000  "2000자 이하여야 합니다"
#define RV_NO_SUCH_ID 999999999999LL

/* A new catalogue item (origin price 10000, no discount) named uniquely; its id. The name
 * (at most 30 bytes) is copied to name when name is not NULL. */
int64_t rv_item_new_at(struct it_loc at, char *name, size_t n);
#define rv_item_new(name, n) rv_item_new_at(IT_HERE, name, n)

/* A new order of user_id with status status ("COMPLETE", "REQUEST", ...) and one line per
 * item of items[0..nitems); its id. */
int64_t rv_order_new_at(struct it_loc at, int64_t user_id, const char *status, const int64_t *items,
                        size_t nitems);
#define rv_order_new(user, status, items, n) rv_order_new_at(IT_HERE, user, status, items, n)
/* A COMPLETE order of user_id with one line of item_id. */
#define rv_bought(user, item) rv_order_new_at(IT_HERE, user, "COMPLETE", (int64_t[]){item}, 1)

/*
 * A renewal order (§2.7): an initial COMPLETE subscription order of item_id by user_id with
 * its APPROVED payment and its subscription, then the renewal order (COMPLETE, is_renewal,
 * one line of item_id) that a recurring charge creates. Returns the renewal order's id;
 * *initial_order (may be NULL) gets the initial order's id.
 */
int64_t rv_renewal_order_at(struct it_loc at, int64_t user_id, int64_t item_id,
                            int64_t *initial_order);
#define rv_renewal_order(user, item, initial) rv_renewal_order_at(IT_HERE, user, item, initial)

/* POST /api/reviews with {"orderId","itemId","content","star"} by token; no assertion. */
void rv_post_at(struct it_loc at, const char *token, int64_t order_id, int64_t item_id,
                const char *content, int star, struct it_resp *out);
#define rv_post(token, order, item, content, star, out)                                            \
	rv_post_at(IT_HERE, token, order, item, content, star, out)
/* rv_post, asserts 201 and returns the new reviewId. */
int64_t rv_create_at(struct it_loc at, const char *token, int64_t order_id, int64_t item_id,
                     const char *content, int star);
#define rv_create(token, order, item, content, star)                                               \
	rv_create_at(IT_HERE, token, order, item, content, star)
/* PATCH /api/reviews {"reviewId","content","star"} / DELETE /api/reviews {"reviewId"}. */
void rv_patch_at(struct it_loc at, const char *token, int64_t review_id, const char *content,
                 int star, struct it_resp *out);
#define rv_patch(token, id, content, star, out) rv_patch_at(IT_HERE, token, id, content, star, out)
void rv_delete_at(struct it_loc at, const char *token, int64_t review_id, struct it_resp *out);
#define rv_delete(token, id, out) rv_delete_at(IT_HERE, token, id, out)

/* items.review_size and items.star_avg_x100 as stored. */
void rv_item_stats_at(struct it_loc at, int64_t item_id, int64_t *size, int64_t *x100);
#define rv_item_stats(item, size, x100) rv_item_stats_at(IT_HERE, item, size, x100)
/*
 * The statistics recomputed by the test from the review rows: count and sum of the ACTIVE
 * stars, and the mean rounded half up to hundredths (its own integer arithmetic, written
 * independently of core/review.c).
 */
void rv_recount_at(struct it_loc at, int64_t item_id, int64_t *size, int64_t *x100);
#define rv_recount(item, size, x100) rv_recount_at(IT_HERE, item, size, x100)
/* The reference rounding: round-half-up(100 * sum / count), 0 when count is 0. */
int64_t rv_avg_x100(int64_t sum, int64_t count);

/*
 * Asserts the stored statistics equal the recomputation and (size, x100), and that the item
 * routes show them: GET /api/items/{itemId} (starAvg) and GET /api/items/search?keyword=
 * <name> (reviewSize and starAvg of the one list element; name from rv_item_new).
 */
void rv_assert_stats_at(struct it_loc at, int64_t item_id, const char *name, int64_t size,
                        int64_t x100);
#define rv_assert_stats(item, name, size, x100) rv_assert_stats_at(IT_HERE, item, name, size, x100)

/* The text of the first number after "key": in body, e.g. "5.0"; false when absent. */
bool rv_raw_number(const char *body, const char *key, char *out, size_t n);
/* x100 as the contract's fraction text: 450 -> "4.5", 0 -> "0.0", 433 -> "4.33". */
void rv_fraction_text(int64_t x100, char *out, size_t n);

#endif
