/* shapes: shared JSON shapes (see shapes.h). */
#include "api/shapes.h"

#include "common/json.h"
#include "core/category.h"
#include "common/banned.h"

int shape_add_discount_rate(cJSON *obj, int p10)
{
	return json_add_fraction(obj, "discountRate", p10, 3);
}

cJSON *shape_item_brief(const struct item_brief *it)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	json_add_int(o, "itemId", it->item_id);
	json_add_string_or_null(o, "enterprise", it->enterprise);
	json_add_string_or_null(o, "thumbnail", it->thumbnail);
	json_add_string_or_null(o, "product", it->product);
	json_add_int(o, "originPrice", it->price.origin);
	json_add_int(o, "realPrice", it->price.real);
	shape_add_discount_rate(o, it->price.p10);
	json_add_int(o, "discountPrice", it->price.discount);
	return o;
}

cJSON *shape_categories(uint32_t mask)
{
	cJSON *o, *arr;

	if (!mask)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (!o)
		return NULL;
	arr = cJSON_AddArrayToObject(o, "categoryNameSet");
	for (int i = 0; i < CATEGORY_COUNT; i++)
		if (mask & (1u << i))
			cJSON_AddItemToArray(arr, cJSON_CreateString(category_names[i]));
	return o;
}

cJSON *shape_receiver(const char *real_name, const char *phone, const char *city,
                      const char *detail_address)
{
	cJSON *o = cJSON_CreateObject(), *addr;
	if (!o)
		return NULL;
	json_add_string_or_null(o, "realName", real_name);
	json_add_string_or_null(o, "phone", phone);
	addr = cJSON_AddObjectToObject(o, "address");
	json_add_string_or_null(addr, "city", city);
	json_add_string_or_null(addr, "detailAddress", detail_address);
	return o;
}
