/*
 * store_review: the reviews table and the review statistics of items (API.md §2.8, §9).
 * All SQL about reviews lives here.
 *
 * Every write (create, update, delete) is one transaction that locks the item row (SELECT ...
 * FOR UPDATE; an update or delete locks its review row just before), so writes about one item
 * are serialised, then changes the review and recomputes items.review_size and
 * items.star_avg_x100 from the ACTIVE review rows (review_star_avg_x100) before it commits:
 * the statistics are always exact. A second ACTIVE
 * review for one (user, order, item) is refused, by a check and, against races, by the
 * unique key uk_reviews_one_active; both answer -E_DUPLICATED_REVIEW.
 *
 * Reads see ACTIVE reviews only: an INACTIVE (soft-deleted) review is "not found".
 *
 * struct review owns its strings; review_release frees them, review_page_release frees a
 * page. Functions take the caller's db handle (one per thread) and return 0 or -E_x; out
 * parameters are written only on success.
 */
#ifndef PV_CORE_STORE_REVIEW_H
#define PV_CORE_STORE_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

struct review {
	int64_t review_id;
	int64_t user_id;
	int64_t order_id;
	int64_t item_id;
	char *content;
	char *display_name; /* NULL when the writer had none */
	int star;           /* 1..5 */
	int64_t created_at; /* Unix seconds */
	int64_t updated_at;
};

struct review_page {
	struct review *items;
	size_t n;
	int64_t total; /* every matching row, not only this page */
};

/* The orders of API.md §9.4, each ending with a unique tie-breaker. */
enum review_order {
	REVIEW_NEWEST, /* created desc, id desc */
	REVIEW_OLDEST, /* created asc, id asc */
	REVIEW_STAR_H, /* star desc, id desc */
	REVIEW_STAR_L, /* star asc, id desc */
};

void review_release(struct review *rv);
void review_page_release(struct review_page *p);

/*
 * Writes the review of user_id about item_id bought in order_id; displayName is copied from
 * the user's profile. Errors, in the contract's order: -E_ORDER_NOT_FOUND, -E_ITEM_NOT_FOUND,
 * -E_REVIEW_NOT_ALLOWED (the order is not the user's, not COMPLETE, or has no line of the
 * item), -E_DUPLICATED_REVIEW.
 */
int store_review_create(struct db *db, int64_t user_id, int64_t order_id, int64_t item_id,
                        const char *content, int star, int64_t now, struct review *out);
/*
 * Replaces content and star and refreshes displayName; only the writer (user_id) may.
 * -E_REVIEW_NOT_FOUND (unknown or INACTIVE), then -E_ACCESS_DENIED_USER.
 */
int store_review_update(struct db *db, int64_t review_id, int64_t user_id, const char *content,
                        int star, int64_t now, struct review *out);
/*
 * Soft delete (status INACTIVE, deleted_at = now) by the writer, or by anyone when admin.
 * -E_REVIEW_NOT_FOUND (unknown or already INACTIVE), then -E_ACCESS_DENIED_USER.
 */
int store_review_delete(struct db *db, int64_t review_id, int64_t user_id, bool admin, int64_t now);

/* An ACTIVE review; -E_REVIEW_NOT_FOUND otherwise. */
int store_review_get(struct db *db, int64_t review_id, struct review *out);
/* A page (limit rows from offset) of the ACTIVE reviews of an item / of a user, and their
 * total. -E_ITEM_NOT_FOUND / -E_USER_NOT_FOUND when the item / user does not exist. */
int store_review_list_by_item(struct db *db, int64_t item_id, enum review_order order,
                              int64_t limit, int64_t offset, struct review_page *out);
int store_review_list_by_user(struct db *db, int64_t user_id, enum review_order order,
                              int64_t limit, int64_t offset, struct review_page *out);

#endif
