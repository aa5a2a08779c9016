/*
 * rules: the contract's standard validation reasons (API.md §1.5) for numeric ranges and
 * lengths, so every route words them the same way. Returned strings are static.
 * Thread-safe.
 */
#ifndef PV_CORE_RULES_H
#define PV_CORE_RULES_H

#include <stdint.h>

#define REASON_BLANK    "공백일 수 없습니다"
#define REASON_REQUIRED "필수 값입니다"
#define REASON_TYPE     "잘못된 파라미터 타입입니다."

/* One line of a cart, an order or a subscription (API.md §2.2, §5, §6, §8): the same bounds
 * everywhere. */
#define RULE_QUANTITY_MIN 1
#define RULE_QUANTITY_MAX 999
#define RULE_PERIOD_MIN   30
#define RULE_PERIOD_MAX   365

const char *rule_min_reason(int64_t n);    /* "{n} 이상이어야 합니다" */
const char *rule_max_reason(int64_t n);    /* "{n} 이하여야 합니다" */
const char *rule_maxlen_reason(int64_t n); /* "{n}자 이하여야 합니다" */
/* NULL when lo <= v <= hi, else the min or max reason. */
const char *rule_range(int64_t v, int64_t lo, int64_t hi);
/* rule_range over the quantity (1..999) and period (30..365 days) bounds. */
const char *rule_quantity(int64_t q);
const char *rule_period(int64_t days);

#endif
