/*
 * store_oauth: the user_oauth table and the accounts the social login creates (API.md §3.7).
 * All SQL of the OAuth login lives here; users are read through core/store_user.h.
 *
 * Functions take the caller's db handle (one per thread) and return 0 or -E_x.
 */
#ifndef PV_CORE_STORE_OAUTH_H
#define PV_CORE_STORE_OAUTH_H

#include <stdint.h>

#include "core/store_user.h"

struct db;

/* The user linked to (provider, provider_user_id): 0 with *user_id, or -E_USER_NOT_FOUND. */
int store_oauth_find(struct db *db, const char *provider, const char *provider_user_id,
                     int64_t *user_id);

/*
 * Creates a social user in one transaction: email, real_name (may be NULL), role USER, no
 * password, the other profile fields NULL, its two carts, and the identity row.
 * -E_EXIST_EMAIL when the email is taken (a concurrent sign-up).
 */
int store_oauth_create_user(struct db *db, const char *email, const char *real_name,
                            const char *provider, const char *provider_user_id, int64_t now,
                            struct user_created *out);

/* Links the identity to user_id. Already linked to that user: 0; to another: -E_DB_DUPLICATE. */
int store_oauth_link(struct db *db, int64_t user_id, const char *provider,
                     const char *provider_user_id, const char *email, int64_t now);

/* The user's two carts: -E_CART_NOT_FOUND when one is missing. */
int store_oauth_carts(struct db *db, int64_t user_id, int64_t *normal_cart_id,
                      int64_t *subscription_cart_id);

/* Profile completion conflicts in the order of §3.7: -E_EXIST_DISPLAY_NAME, then
 * -E_EXIST_PHONE_NUMBER (the user's own values never conflict); 0 when none. */
int store_oauth_conflicts(struct db *db, int64_t user_id, const char *display_name,
                          const char *phone);

#endif
