/* item: the catalogue list rules (see item.h). */
#include "core/item.h"

#include <string.h>

#include "common/err.h"
#include "common/banned.h"

int item_like_pattern(const char *text, char *out, size_t outlen)
{
	size_t need = 3, n = 0;

	for (const char *p = text; *p; p++)
		need += (*p == '\\' || *p == '%' || *p == '_') ? 2 : 1;
	if (need > outlen)
		return -E_TOO_LONG;
	out[n++] = '%';
	for (const char *p = text; *p; p++) {
		if (*p == '\\' || *p == '%' || *p == '_')
			out[n++] = '\\';
		out[n++] = *p;
	}
	out[n++] = '%';
	out[n] = '\0';
	return 0;
}

struct item_price_range item_price_range(int64_t low, int64_t high)
{
	struct item_price_range r = {false, 0, 0};

	if (low == 0 && high == 0)
		return r;
	r.active = true;
	r.low = low < high ? low : high;
	r.high = low < high ? high : low;
	return r;
}

/* Length of the well-formed UTF-8 sequence at p, or 0 (RFC 3629, Unicode table 3-7). */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0; /* overlong */
	else if (c == 0xED)
		hi = 0x9F; /* surrogates */
	else if (c == 0xF0)
		lo = 0x90; /* overlong */
	else if (c == 0xF4)
		hi = 0x8F; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

int item_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq(p);
		if (!n)
			return 0;
		p += n;
	}
	return 1;
}

void item_utf8_sanitize(const char *s, char *out, size_t outlen)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (outlen == 0)
		return;
	while (*p) {
		size_t len = utf8_seq(p);
		const void *src = len ? (const void *)p : (const void *)fffd;
		size_t copy = len ? len : 3;

		if (n + copy >= outlen)
			break;
		memcpy(out + n, src, copy);
		n += copy;
		p += len ? len : 1;
	}
	out[n] = '\0';
}
