/* user: the field rules of API.md §3.1 (see user.h). */
#include "core/user.h"

#include <stddef.h>
#include <string.h>

#include "common/json.h"
#include "core/rules.h"
#include "common/banned.h"

#define R_BLANK          "공백일 수 없습니다"
#define R_PASSWORD       "비밀번호는 숫자+영문자+특수문자 조합으로 8자리 이상이어야 합니다."
#define R_PASSWORD_PATCH "비밀번호는 숫자+영문자+특수문자 조합으로 8자리 이상 입력해 주세요!"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@label(\.label)*$ with label = alnum([alnum-]*alnum)? */
bool user_email_valid(const char *s)
{
	static const char local_extra[] = ".!#$%&'*+/=?^_`{|}~-";
	const char *p = s;

	if (!s)
		return false;
	while (*p && *p != '@') {
		if (!is_alnum(*p) && !strchr(local_extra, *p))
			return false;
		p++;
	}
	if (p == s || *p != '@')
		return false;
	p++;
	for (;;) {
		const char *label = p;
		while (is_alnum(*p) || *p == '-')
			p++;
		if (p == label || !is_alnum(label[0]) || !is_alnum(p[-1]))
			return false;
		if (*p == '\0')
			return true;
		if (*p != '.')
			return false;
		p++;
	}
}

/* Decodes one UTF-8 code point (input already valid UTF-8); returns bytes used. */
static size_t utf8_next(const char *s, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0 && u[1]) {
		*cp = ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu);
		return 2;
	}
	if ((u[0] & 0xf0) == 0xe0 && u[1] && u[2]) {
		*cp = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
		return 3;
	}
	if ((u[0] & 0xf8) == 0xf0 && u[1] && u[2] && u[3]) {
		*cp = ((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) | ((u[2] & 0x3fu) << 6) |
		      (u[3] & 0x3fu);
		return 4;
	}
	*cp = 0xfffd;
	return 1;
}

/* ^(?=.*[A-Za-z])(?=.*[!@#$%^+=-])(?=.*[0-9]).{8,25}$ ('.' excludes line terminators) */
bool user_password_valid(const char *s)
{
	bool letter = false, special = false, digit = false;
	size_t n = 0;

	if (!s)
		return false;
	for (const char *p = s; *p;) {
		unsigned cp;
		p += utf8_next(p, &cp);
		if (cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029)
			return false;
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
			letter = true;
		else if (cp >= '0' && cp <= '9')
			digit = true;
		else if (cp < 0x80 && strchr("!@#$%^+=-", (int)cp))
			special = true;
		n++;
	}
	return letter && special && digit && n >= 8 && n <= 25;
}

/* ^01[016789]-?[0-9]{3,4}-?[0-9]{4}$ */
bool user_phone_valid(const char *s)
{
	const char *p = s;
	size_t mid = 0, last = 0;

	if (!s || p[0] != '0' || p[1] != '1' || !p[2] || !strchr("016789", p[2]))
		return false;
	p += 3;
	if (*p == '-')
		p++;
	while (is_digit(p[mid]))
		mid++;
	/* the middle group is 3 or 4 digits, then an optional '-', then exactly 4 digits */
	if (p[mid] == '-') {
		if (mid < 3 || mid > 4)
			return false;
		p += mid + 1;
		while (is_digit(p[last]))
			last++;
		return last == 4 && p[last] == '\0';
	}
	/* no second dash: 7 or 8 digits in all */
	return p[mid] == '\0' && (mid == 7 || mid == 8);
}

const char *user_rule_required_text(const char *v, unsigned max)
{
	if (!v || json_is_blank(v))
		return R_BLANK;
	if (json_utf8_len(v) > max)
		return rule_maxlen_reason(max);
	return NULL;
}

const char *user_rule_email(const char *v)
{
	const char *r = user_rule_required_text(v, 100);
	if (r)
		return r;
	return user_email_valid(v) ? NULL : "올바른 이메일 형식이 아닙니다.";
}

const char *user_rule_password(const char *v, bool patch)
{
	return user_password_valid(v) ? NULL : patch ? R_PASSWORD_PATCH : R_PASSWORD;
}

const char *user_rule_display_name(const char *v)
{
	if (!v || json_is_blank(v))
		return "닉네임은 공백일 수 없습니다.";
	return json_utf8_len(v) > 30 ? rule_maxlen_reason(30) : NULL;
}

const char *user_rule_city(const char *v)
{
	return user_rule_required_text(v, 100);
}

const char *user_rule_detail_address(const char *v)
{
	return user_rule_required_text(v, 200);
}

const char *user_rule_real_name(const char *v)
{
	if (!v || !*v)
		return R_BLANK;
	for (const char *p = v; *p;) {
		unsigned cp;
		size_t n = utf8_next(p, &cp);
		char one[5] = {0};
		memcpy(one, p, n);
		if (json_is_blank(one))
			return "공백이 있어서는 안됩니다.";
		p += n;
	}
	return json_utf8_len(v) > 30 ? rule_maxlen_reason(30) : NULL;
}

const char *user_rule_phone(const char *v)
{
	return user_phone_valid(v) ? NULL : "올바른 연락처 형식이 아닙니다.";
}
