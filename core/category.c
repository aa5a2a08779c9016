/* category: the category table and sets (see category.h). */
#include "core/category.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/banned.h"

const char *const category_names[CATEGORY_COUNT] = {
    "EYE", "BONE", "BRAIN", "INTESTINE", "LIVER", "SKIN", "ANTIOXIDANT", "FATIGUE", "ETC",
};

const char *const category_labels[CATEGORY_COUNT] = {
    "눈", "뼈,골다공증", "두뇌", "배변,장,유산균", "간", "피부", "항산화", "피로,혈액순환", "기타",
};

int category_index(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < CATEGORY_COUNT; i++)
		if (!strcmp(category_names[i], name))
			return i;
	return -1;
}

int category_set_string(uint32_t mask, char *out, size_t outlen)
{
	size_t n = 0;
	int first = 1;

	if (outlen == 0)
		return -E_TOO_LONG;
	out[0] = '\0';
	if (!mask)
		return 0;
	n += (size_t)snprintf(out + n, outlen - n, "[");
	for (int i = 0; i < CATEGORY_COUNT && n < outlen; i++) {
		if (!(mask & (1u << i)))
			continue;
		n += (size_t)snprintf(out + n, outlen - n, "%s%s", first ? "" : ", ",
		                      category_names[i]);
		first = 0;
	}
	if (n < outlen)
		n += (size_t)snprintf(out + n, outlen - n, "]");
	return n < outlen ? 0 : -E_TOO_LONG;
}

uint32_t category_mask_from_ids(const char *csv)
{
	uint32_t mask = 0;
	const char *p = csv;

	while (p && *p) {
		char *end;
		long id = strtol(p, &end, 10);
		if (end == p)
			break;
		if (id >= 1 && id <= CATEGORY_COUNT)
			mask |= 1u << (id - 1);
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return mask;
}
