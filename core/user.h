/*
 * user: the field rules of users (API.md §3.1), as pure functions.
 *
 * Each rule takes the value (NULL = absent or null) and returns NULL when it passes or the
 * contract's reason text (static) for the first rule that fails, in the contract's order.
 * The handler walks the field table in order, so errors come out in that order.
 * Thread-safe.
 */
#ifndef PV_CORE_USER_H
#define PV_CORE_USER_H

#include <stdbool.h>

const char *user_rule_email(const char *v);
const char *user_rule_password(const char *v, bool patch); /* PATCH has its own reason */
const char *user_rule_display_name(const char *v);
const char *user_rule_city(const char *v);
const char *user_rule_detail_address(const char *v);
const char *user_rule_real_name(const char *v);
const char *user_rule_phone(const char *v);
/* Generic: non-blank string of at most max code points (reason "공백일 수 없습니다" etc.). */
const char *user_rule_required_text(const char *v, unsigned max);

bool user_email_valid(const char *s);
bool user_password_valid(const char *s);
bool user_phone_valid(const char *s);

#endif
