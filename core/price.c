/* price: the price and totals rules (see price.h). */
#include "core/price.h"

#include <math.h>

#include "common/err.h"
#include "common/banned.h"

int price_p10_from_percent(double percent)
{
	if (!(percent > 0)) /* also NaN */
		return 0;
	if (percent > 100)
		return 1000;
	/* round half up on tenths; the epsilon absorbs binary noise such as 9.5 * 10 */
	return (int)floor(percent * 10 + 0.5 + 1e-9);
}

int price_derive(int64_t origin, int p10, struct price *out)
{
	if (origin < 0 || p10 < 0 || p10 > 1000 || origin > INT64_MAX / 1001)
		return -E_VALIDATION_FAILED;
	out->origin = origin;
	out->p10 = p10;
	out->discount = (origin * p10 + 500) / 1000;
	out->real = origin - out->discount;
	return 0;
}

void price_totals_add(struct price_totals *t, const struct price *p, int64_t quantity)
{
	t->lines++;
	t->item_count += quantity;
	t->total_price += p->origin * quantity;
	t->total_discount += p->discount * quantity;
	t->expect_price += p->real * quantity;
}
