/* h_subscriptions: subscriptions (API.md §8); for now the cancellation, reachable by
 * DELETE /api/subscriptions?itemOrderId= (§8.7) and POST
 * /api/payments/subscriptions/cancel/{subscriptionOrderId} (§7.8, with Idempotency-Key). */
#include "api/handlers.h"

#include <stdint.h>

#include "api/http.h"
#include "api/idempotency.h"
#include "api/worker.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "core/store_subscription.h"
#include "common/banned.h"

/* 0 or -E_<X>: the whole cancellation, checks included (404, 403, 409). */
static int cancel(struct req *r, int64_t id)
{
	int rc = store_subscription_cancel_by(r->w->db, id, r->auth.uid, r->auth.admin,
	                                      (int64_t)clock_now());
	if (rc == 0)
		log_info("subscription cancelled", "subscription:i", (long long)id, "by:i",
		         (long long)r->auth.uid);
	return rc;
}

int h_payment_subscription_cancel(struct req *r)
{
	struct idem idem = IDEM_INIT;
	struct field_errors fe = {0};
	int64_t id = 0;
	int rc;

	if (idem_begin(r, &idem))
		return 0;
	rc = req_path_id(r, 0, "subscriptionOrderId", &fe, &id);
	if (rc < 0) {
		idem_send_field_errors(r, &idem, &fe);
		goto out;
	}
	rc = rc == 1 ? -E_SUBSCRIPTION_NOT_FOUND : cancel(r, id);
	if (rc)
		idem_send_error(r, &idem, rc, NULL);
	else
		idem_send_data(r, &idem, 201, cJSON_CreateString("complete"));
out:
	idem_abort(r, &idem);
	return 0;
}

int h_subscription_cancel(struct req *r)
{
	struct field_errors fe = {0};
	int64_t id = 0;
	int rc;

	if (req_query_int64(r, "itemOrderId", true, &fe, &id) < 0)
		return http_send_field_errors(r, &fe);
	rc = id <= 0 ? -E_SUBSCRIPTION_NOT_FOUND : cancel(r, id);
	if (rc)
		return http_send_error(r, rc, NULL);
	return http_send_data(r, 200, cJSON_CreateNull());
}
