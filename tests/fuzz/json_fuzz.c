/*
 * json_fuzz: libFuzzer target for the request-body path: json_parse_object (strict parse,
 * duplicate keys, depth limit) and the typed getters and field rules run on what it accepts.
 * Build and run with `make fuzz` (clang, ASan + UBSan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/json.h"
#include "core/user.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"email", "password", "displayName", "city",
					   "detailAddress", "realName", "phone", "quantity",
					   "itemId", "star", "orderPostDtoList"};
	struct field_errors fe = {0};
	cJSON *obj = NULL;

	if (json_parse_object((const char *)data, size, 16, &obj) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = NULL;
		int32_t i32;
		int64_t i64;
		bool b;
		if (json_get_string(obj, keys[i], &fe, &s) == JSON_PRESENT) {
			user_rule_email(s);
			user_rule_password(s, false);
			user_rule_phone(s);
			user_rule_real_name(s);
			user_rule_display_name(s);
			json_utf8_len(s);
		}
		json_get_int(obj, keys[i], &fe, &i32);
		json_get_int64(obj, keys[i], &fe, &i64);
		json_get_bool(obj, keys[i], &fe, &b);
	}
	field_errors_code(&fe);
	cJSON_Delete(obj);
	return 0;
}
