/*
 * handlers: every route handler of pillivery-api, one file per resource (h_<resource>.c).
 * Each takes the request (already routed, size- and media-checked and authenticated as its
 * route says) and answers it; returns 0 or the error it answered.
 */
#ifndef PV_API_HANDLERS_H
#define PV_API_HANDLERS_H

struct req;

/* h_ops.c */
int h_health(struct req *r);
int h_ready(struct req *r);
int h_metrics(struct req *r);
int h_profile(struct req *r);
int h_openapi(struct req *r);
int h_docs(struct req *r);

/* h_users.c */
int h_user_signup(struct req *r);
int h_user_login(struct req *r);
int h_user_refresh(struct req *r);
int h_user_logout(struct req *r);
int h_user_get(struct req *r);
int h_user_patch(struct req *r);
int h_user_delete(struct req *r);

/* h_items.c (§4) */
int h_items_main(struct req *r);
int h_item_get(struct req *r);
int h_items_search(struct req *r);
int h_items_on_sale(struct req *r);
int h_items_categories(struct req *r);
int h_items_brands(struct req *r);

/* h_carts.c (§5) */
int h_cart_normal_get(struct req *r);
int h_cart_normal_add(struct req *r);
int h_cart_normal_remove(struct req *r);
int h_cart_normal_quantity(struct req *r);
int h_cart_sub_get(struct req *r);
int h_cart_sub_add(struct req *r);
int h_cart_sub_remove(struct req *r);
int h_cart_sub_quantity(struct req *r);
int h_cart_sub_period(struct req *r);

/* h_orders.c (§6) */
int h_order_create(struct req *r);
int h_order_get(struct req *r);
int h_orders_list(struct req *r);
int h_orders_subscriptions(struct req *r);
int h_order_subscription_quantity(struct req *r);

/* h_reviews.c (§9) */
int h_review_create(struct req *r);
int h_review_update(struct req *r);
int h_review_delete(struct req *r);
int h_review_get(struct req *r);
int h_reviews_by_item(struct req *r);
int h_reviews_by_user(struct req *r);

/* h_payments.c (§7): declarations below this line */
int h_payment_ready(struct req *r);
int h_payment_approve(struct req *r);
int h_payment_cancel(struct req *r);
int h_payment_fail(struct req *r);
int h_payment_lookup(struct req *r);
int h_payment_charge_now(struct req *r); /* §7.7, admin */
int h_payment_refund(struct req *r);

/* h_subscriptions.c (§8, §7.8) */
int h_payment_subscription_cancel(struct req *r);
int h_subscription_cancel(struct req *r);
int h_subscription_get(struct req *r);
int h_subscription_period(struct req *r);
int h_subscription_pause(struct req *r);
int h_subscription_resume(struct req *r);
int h_subscription_skip(struct req *r);

/* h_oauth.c (§3.7): declarations below this line */
int h_oauth_authorize(struct req *r);
int h_oauth_callback(struct req *r);
int h_user_more_info(struct req *r);
int h_user_oauth_link(struct req *r);

#endif
