/*
 * fake_map: a string-keyed hash table (separate chaining, doubles at load 1) for the fake
 * Kakao Pay server: tid -> payment, sid -> SID record, partner_order_id -> count.
 *
 * The map copies keys; values are borrowed (the caller owns and frees them, for example in
 * fmap_clear's callback). Not thread-safe: the fake runs one event loop.
 */
#ifndef PV_FAKE_MAP_H
#define PV_FAKE_MAP_H

#include <stddef.h>

struct fmap_node {
	struct fmap_node *next;
	void *value;
	char key[]; /* NUL-terminated copy */
};

struct fmap {
	struct fmap_node **slots;
	size_t nslots;
	size_t count;
};

#define FMAP_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* The value stored under key, or NULL. */
void *fmap_get(const struct fmap *m, const char *key);
/* Stores value under key (replacing an old value, which is not freed). 0 or -1 (no memory). */
int fmap_put(struct fmap *m, const char *key, void *value);
/* Removes key; returns its value (NULL when absent). */
void *fmap_del(struct fmap *m, const char *key);
/* Calls fn(value, arg) for every entry (any order). */
void fmap_each(const struct fmap *m, void (*fn)(const char *key, void *value, void *arg),
               void *arg);
/* Empties the map; free_value (may be NULL) is called on every value. Keeps the map usable. */
void fmap_clear(struct fmap *m, void (*free_value)(void *value));

#endif
