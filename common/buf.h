/*
 * buf: a growable byte buffer with a hard cap.
 *
 * The buffer owns its storage; buf_release frees it. Contents are always NUL-terminated (the
 * terminator is not counted in len), so data can be used as a C string. Appending beyond max
 * fails with -E_TOO_LONG and leaves the buffer unchanged. Not thread-safe: one owner at a time.
 */
#ifndef PV_COMMON_BUF_H
#define PV_COMMON_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len, 0 = 16 MiB */
};

#define BUF_INIT(maxlen)                                                                           \
	{                                                                                          \
		NULL, 0, 0, (maxlen)                                                               \
	}

int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as the inside of a JSON string (escapes ", \, control characters). */
int buf_json_escape(struct buf *b, const char *s);
void buf_reset(struct buf *b); /* len = 0, keeps storage */
void buf_release(struct buf *b);
/* Hands the storage to the caller (free() it); the buffer is left empty. Never NULL on 0. */
int buf_detach(struct buf *b, char **out, size_t *len);

#endif
