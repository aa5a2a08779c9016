/*
 * review: the pure rules of reviews (API.md §2.8, §9): the field rules of content and star,
 * and the item statistics (reviewSize, starAvg) derived from the ACTIVE reviews of an item.
 *
 * starAvg is the mean star rounded half up to 2 decimals, kept as an integer number of
 * hundredths (items.star_avg_x100: 450 = 4.5); it is computed here with integer arithmetic
 * only, from the sum and the count of the stars, so it never depends on floating point.
 *
 * Rules return NULL when the value passes, else the contract's reason text (static).
 * Pure functions; thread-safe.
 */
#ifndef PV_CORE_REVIEW_H
#define PV_CORE_REVIEW_H

#include <stdint.h>

#define REVIEW_CONTENT_MAX 2000 /* Unicode characters */
#define REVIEW_STAR_MIN    1
#define REVIEW_STAR_MAX    5

/* content: non-blank ("공백일 수 없습니다"; NULL = absent), at most 2000 characters
 * ("2000자 이하여야 합니다"). */
const char *review_rule_content(const char *v);
/* star (already read as an integer): 1..5 ("1 이상이어야 합니다" / "5 이하여야 합니다"). */
const char *review_rule_star(int64_t v);

/*
 * round-half-up(100 * star_sum / count): the mean star in hundredths; 0 when count <= 0.
 * star_sum and count are those of the ACTIVE reviews of one item (stars 1..5, so the result
 * is 100..500 whenever count > 0).
 */
int review_star_avg_x100(int64_t star_sum, int64_t count);

#endif
