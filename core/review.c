/* review: field rules and item statistics of reviews (see review.h). */
#include "core/review.h"

#include <stddef.h>

#include "common/json.h"
#include "core/rules.h"
#include "common/banned.h"

const char *review_rule_content(const char *v)
{
	if (!v || json_is_blank(v))
		return REASON_BLANK;
	if (json_utf8_len(v) > REVIEW_CONTENT_MAX)
		return rule_maxlen_reason(REVIEW_CONTENT_MAX);
	return NULL;
}

const char *review_rule_star(int64_t v)
{
	return rule_range(v, REVIEW_STAR_MIN, REVIEW_STAR_MAX);
}

int review_star_avg_x100(int64_t star_sum, int64_t count)
{
	if (count <= 0 || star_sum <= 0)
		return 0;
	/* floor(100 * sum / count + 1/2) = floor((200 * sum + count) / (2 * count)) */
	return (int)((200 * star_sum + count) / (2 * count));
}
