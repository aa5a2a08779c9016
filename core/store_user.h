/*
 * store_user: the users table and what hangs off an account (carts at sign-up; carts,
 * orders and subscriptions at withdrawal). All SQL about users lives here.
 *
 * struct user owns its strings (NULL for SQL NULL); user_release frees them.
 * Functions take the caller's db handle (one per thread) and return 0 or -E_x.
 */
#ifndef PV_CORE_STORE_USER_H
#define PV_CORE_STORE_USER_H

#include <stdbool.h>
#include <stdint.h>

struct db;

struct user {
	int64_t user_id;
	char *email;
	char *password_hash;
	char *display_name;
	char *city;
	char *detail_address;
	char *real_name;
	char *phone;
	bool admin;
	bool withdrawn;
	bool social;
	int64_t created_at; /* Unix seconds */
	int64_t updated_at;
};

/* Fields of a sign-up or a PATCH; NULL = absent (PATCH: unchanged). */
struct user_fields {
	const char *email;
	const char *password_hash;
	const char *display_name;
	const char *city;
	const char *detail_address;
	const char *real_name;
	const char *phone;
};

struct user_created {
	int64_t user_id;
	int64_t normal_cart_id;
	int64_t subscription_cart_id;
};

void user_release(struct user *u);

/* Creates the user (role USER, active) and its two carts in one transaction.
 * -E_EXIST_EMAIL, -E_EXIST_DISPLAY_NAME, -E_EXIST_PHONE_NUMBER, checked in this order. */
int store_user_create(struct db *db, const struct user_fields *f, int64_t now,
                      struct user_created *out);
/* -E_USER_NOT_FOUND when absent. */
int store_user_get(struct db *db, int64_t user_id, struct user *out);
int store_user_by_email(struct db *db, const char *email, struct user *out);
/* Applies the present fields. -E_EXIST_PHONE_NUMBER then -E_EXIST_DISPLAY_NAME (the user's
 * own values never conflict); -E_USER_NOT_FOUND. */
int store_user_update(struct db *db, int64_t user_id, const struct user_fields *f, int64_t now);
/*
 * Withdrawal (API.md §3.6), one transaction: status USER_WITHDRAWAL; both carts emptied and
 * deleted; REQUEST orders CANCELED; live subscriptions SUBSCRIBE_CANCEL (their SIDs'
 * inactivation queued in the outbox when no live subscription still uses them).
 * *changed = false when the user had already withdrawn.
 */
int store_user_withdraw(struct db *db, int64_t user_id, int64_t now, bool *changed);

#endif
