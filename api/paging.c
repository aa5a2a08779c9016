/* paging: page, size and sort parameters (see paging.h). */
#include "api/paging.h"

#include <string.h>

#include "api/http.h"
#include "common/err.h"
#include "common/json.h"
#include "core/rules.h"
#include "common/banned.h"

static const char *const item_sorts[] = {
    "SALES", "PRICE_H", "PRICE_L", "DISCOUNT_RATE_H", "DISCOUNT_RATE_L", "REVIEW_COUNT", NULL};
static const char *const review_sorts[] = {"NEWEST", "OLDEST", "STAR_H", "STAR_L", NULL};

int paging_parse(struct req *r, enum paging_kind kind, struct field_errors *fe, struct paging *out)
{
	int64_t page = 1, size = 8;
	int64_t min_size = kind == PAGING_ORDERS ? 7 : 8;
	const char *sort = req_query(r, "sort");
	int rc = 0, ok = 1;

	out->sort = 0;
	if (req_query_int64(r, "page", false, fe, &page) < 0)
		ok = 0;
	if (req_query_int64(r, "size", false, fe, &size) < 0)
		ok = 0;
	if (sort) {
		if (kind == PAGING_ORDERS) {
			out->sort = !strcmp(sort, "ASC") ? SORT_ASC : SORT_DESC;
		} else {
			const char *const *names = kind == PAGING_ITEMS ? item_sorts : review_sorts;
			int found = -1;
			for (int i = 0; names[i]; i++)
				if (!strcmp(names[i], sort))
					found = i;
			if (found < 0) {
				field_errors_add(fe, E_INVALID_PARAMETER_TYPE, "sort", sort,
				                 REASON_TYPE);
				ok = 0;
			} else {
				out->sort = found;
			}
		}
	}
	if (!ok)
		rc = -E_INVALID_PARAMETER_TYPE;
	if (page < 1)
		page = 1;
	if (page > 1000000)
		page = 1000000;
	if (size < min_size)
		size = min_size;
	if (size > 100)
		size = 100;
	out->page = page;
	out->size = size;
	out->offset = (page - 1) * size;
	return rc;
}
