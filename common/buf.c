/* buf: a growable byte buffer with a hard cap (see buf.h). */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/banned.h"

#define BUF_DEFAULT_MAX ((size_t)16 * 1024 * 1024)
#define BUF_MIN_CAP     64

static size_t buf_max(const struct buf *b)
{
	return b->max ? b->max : BUF_DEFAULT_MAX;
}

/* Makes room for n more bytes plus the terminator; fails without touching the contents. */
static int buf_grow(struct buf *b, size_t n)
{
	size_t max = buf_max(b);
	size_t need, cap;
	char *p;

	if (b->len > max || n > max - b->len)
		return -E_TOO_LONG;
	need = b->len + n + 1;
	if (b->data && need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : BUF_MIN_CAP;
	while (cap < need)
		cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
	if (cap > max + 1)
		cap = max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return -E_NOMEM;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int rc = buf_grow(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s ? s : "", s ? strlen(s) : 0);
}

int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t avail;
	int n, rc;

	rc = buf_grow(b, 0);
	if (rc)
		return rc;
	avail = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, avail, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return -E_INTERNAL_ERROR;
	}
	if ((size_t)n >= avail) {
		rc = buf_grow(b, (size_t)n);
		if (rc) {
			b->data[b->len] = '\0';
			return rc;
		}
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->data[b->len] = '\0';
			return -E_INTERNAL_ERROR;
		}
	}
	b->len += (size_t)n;
	return 0;
}

int buf_json_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t start = b->len;
	int rc = buf_grow(b, 0);

	while (!rc && p && *p) {
		const unsigned char *run = p;
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};

		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			rc = buf_append(b, run, (size_t)(p - run));
		if (rc || !*p)
			break;
		switch (*p) {
		case '"':
		case '\\':
			esc[1] = (char)*p;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
		}
		rc = buf_append(b, esc, esc[1] == 'u' ? sizeof(esc) : 2);
		p++;
	}
	if (rc && b->data) {
		b->len = start;
		b->data[start] = '\0';
	}
	return rc;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int buf_detach(struct buf *b, char **out, size_t *len)
{
	int rc = buf_grow(b, 0);

	if (rc)
		return rc;
	*out = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return 0;
}
