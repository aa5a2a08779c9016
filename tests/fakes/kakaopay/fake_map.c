/*
 * fake_map: string-keyed hash table (FNV-1a, separate chaining). See fake_map.h.
 */
#include "tests/fakes/kakaopay/fake_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void *fmap_get(const struct fmap *m, const char *key)
{
	struct fmap_node *n;

	if (!m->nslots)
		return NULL;
	for (n = m->slots[hash_key(key) % m->nslots]; n; n = n->next)
		if (strcmp(n->key, key) == 0)
			return n->value;
	return NULL;
}

static int grow(struct fmap *m)
{
	size_t nslots = m->nslots ? m->nslots * 2 : 1024;
	struct fmap_node **slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < m->nslots; i++) {
		struct fmap_node *n = m->slots[i], *next;
		for (; n; n = next) {
			size_t j = hash_key(n->key) % nslots;
			next = n->next;
			n->next = slots[j];
			slots[j] = n;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	return 0;
}

int fmap_put(struct fmap *m, const char *key, void *value)
{
	struct fmap_node *n;
	size_t klen = strlen(key), i;

	if (m->nslots) {
		for (n = m->slots[hash_key(key) % m->nslots]; n; n = n->next) {
			if (strcmp(n->key, key) == 0) {
				n->value = value;
				return 0;
			}
		}
	}
	if (m->count >= m->nslots && grow(m))
		return -1;
	n = malloc(sizeof(*n) + klen + 1);
	if (!n)
		return -1;
	memcpy(n->key, key, klen + 1);
	n->value = value;
	i = hash_key(key) % m->nslots;
	n->next = m->slots[i];
	m->slots[i] = n;
	m->count++;
	return 0;
}

void *fmap_del(struct fmap *m, const char *key)
{
	struct fmap_node **pp, *n;
	void *v;

	if (!m->nslots)
		return NULL;
	for (pp = &m->slots[hash_key(key) % m->nslots]; (n = *pp); pp = &n->next) {
		if (strcmp(n->key, key) == 0) {
			*pp = n->next;
			v = n->value;
			free(n);
			m->count--;
			return v;
		}
	}
	return NULL;
}

void fmap_each(const struct fmap *m, void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	for (size_t i = 0; i < m->nslots; i++)
		for (struct fmap_node *n = m->slots[i]; n; n = n->next)
			fn(n->key, n->value, arg);
}

void fmap_clear(struct fmap *m, void (*free_value)(void *value))
{
	for (size_t i = 0; i < m->nslots; i++) {
		struct fmap_node *n = m->slots[i], *next;
		for (; n; n = next) {
			next = n->next;
			if (free_value)
				free_value(n->value);
			free(n);
		}
	}
	free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
	m->count = 0;
}
