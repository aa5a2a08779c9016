/*
 * category: the nine item categories of API.md §2.10 in their fixed order, and a category
 * set as a bit mask (bit i = category i in that order). Pure; thread-safe.
 */
#ifndef PV_CORE_CATEGORY_H
#define PV_CORE_CATEGORY_H

#include <stddef.h>
#include <stdint.h>

#define CATEGORY_COUNT 9

/* "EYE", "BONE", ... in contract order; index = category_id - 1 in the database. */
extern const char *const category_names[CATEGORY_COUNT];
extern const char *const category_labels[CATEGORY_COUNT];

/* Index 0..8 of an exact (case-sensitive) name, or -1. */
int category_index(const char *name);
/* "[EYE, BONE]" (the subscription list's string form), "" for an empty set. */
int category_set_string(uint32_t mask, char *out, size_t outlen);
/* Mask from the database's comma-separated category ids ("1,4"); unknown ids ignored. */
uint32_t category_mask_from_ids(const char *csv);

#endif
