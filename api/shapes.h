/*
 * shapes: JSON shapes that several resources share (API.md §4-§8): the short item shape of
 * carts, orders and subscriptions, the categories object and the receiver object.
 * Each returns a new cJSON node owned by the caller (NULL when out of memory).
 */
#ifndef PV_API_SHAPES_H
#define PV_API_SHAPES_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "core/price.h"

struct item_brief {
	int64_t item_id;
	const char *enterprise;
	const char *thumbnail;
	const char *product;
	struct price price;
};

/* {"itemId","enterprise","thumbnail","product","originPrice","realPrice","discountRate",
 *  "discountPrice"} */
cJSON *shape_item_brief(const struct item_brief *it);
/* {"categoryNameSet": [names in §2.10 order]}, or JSON null for an empty set. */
cJSON *shape_categories(uint32_t mask);
/* {"realName","phone","address":{"city","detailAddress"}} */
cJSON *shape_receiver(const char *real_name, const char *phone, const char *city,
                      const char *detail_address);
/* discountRate (p10 / 1000) as the contract's fraction: 0.1, 0.095, 0.0 */
int shape_add_discount_rate(cJSON *obj, int p10);

#endif
