/* cart: the pure rules of carts (see cart.h). */
#include "core/cart.h"

#include <stdlib.h>
#include <string.h>

#include "core/rules.h"
#include "common/banned.h"

void cart_release(struct cart *c)
{
	for (size_t i = 0; i < c->nlines; i++) {
		free(c->lines[i].enterprise);
		free(c->lines[i].thumbnail);
		free(c->lines[i].product);
	}
	free(c->lines);
	memset(c, 0, sizeof(*c));
}

const char *cart_kind_name(enum cart_kind kind)
{
	return kind == CART_SUBSCRIPTION ? "SUBSCRIPTION" : "NORMAL";
}

const char *cart_rule_quantity(int64_t q)
{
	return rule_quantity(q);
}

const char *cart_rule_period(int64_t days)
{
	return rule_period(days);
}

void cart_totals(const struct cart *c, struct price_totals *out)
{
	struct price_totals t = {0};

	for (size_t i = 0; i < c->nlines; i++)
		price_totals_add(&t, &c->lines[i].price, c->lines[i].quantity);
	*out = t;
}
