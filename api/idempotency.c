/* idempotency: the Idempotency-Key mechanism of §1.7 (see idempotency.h). */
#include "api/idempotency.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "api/worker.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/redis.h"
#include "common/banned.h"

#define JSON_CT "application/json; charset=utf-8"

/*
 * KEYS[1] the key; ARGV[1] the request text, ARGV[2] a random token, ARGV[3] the running TTL
 * (ms). Answers {"NEW", fp}, {"RUNNING"}, {"CONFLICT"} or {"REPLAY", status, body}.
 */
static const char SCRIPT_BEGIN[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "local fp = redis.sha1hex(ARGV[1])\n"
    "if not v then\n"
    "  redis.call('SET', KEYS[1], 'P:' .. fp .. ':' .. ARGV[2], 'PX', ARGV[3])\n"
    "  return {'NEW', fp}\n"
    "end\n"
    "if string.sub(v, 1, 2) ~= 'D:' then return {'RUNNING'} end\n"
    "if string.sub(v, 3, 42) ~= fp then return {'CONFLICT'} end\n"
    "return {'REPLAY', string.sub(v, 44, 46), string.sub(v, 48)}\n";

/*
 * KEYS[1] the key; ARGV[1] the running value this request wrote; ARGV[2] the answer to
 * store ("" = free the key); ARGV[3] its TTL (s). Touches the key only while it still holds
 * our own claim (it may have expired and been taken by another request).
 */
static const char SCRIPT_FINISH[] = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
                                    "if ARGV[2] == '' then\n"
                                    "  redis.call('DEL', KEYS[1])\n"
                                    "else\n"
                                    "  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])\n"
                                    "end\n"
                                    "return 1\n";

bool idem_key_valid(const char *v)
{
	size_t n = 0;

	if (!v)
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++, n++)
		if (*p < 0x20 || *p > 0x7e || n >= IDEM_KEY_MAX)
			return false;
	return n >= 1;
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_seq(const unsigned char *p)
{
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* The rejected key for the error body: control characters and bytes that are not UTF-8
 * become '?', so the JSON answer stays valid UTF-8. */
static void printable_copy(const char *v, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t o = 0;

	while (*p && o + 5 < cap) {
		size_t n = utf8_seq(p);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			out[o++] = '?';
			p++;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
}

/* "<method> <path>\n" then the body bytes; a body holding a NUL byte is sent hex-encoded
 * (the script arguments are C strings), marked so it cannot equal a raw body. */
static int request_text(const struct req *r, struct buf *b)
{
	const char *body = r->body ? r->body : "";
	size_t len = r->body ? r->body_len : 0;
	int rc = buf_printf(b, "%s %s\n", r->method, r->path);

	if (rc)
		return rc;
	if (!memchr(body, '\0', len)) {
		rc = buf_putc(b, 'r');
		return rc ? rc : buf_append(b, body, len);
	}
	rc = buf_putc(b, 'x');
	for (size_t i = 0; rc == 0 && i < len; i++)
		rc = buf_printf(b, "%02x", (unsigned char)body[i]);
	return rc;
}

static int redis_down(struct req *r, int rc)
{
	log_warn("idempotency key store unavailable", "error:s", redis_last_error(r->w->redis));
	return http_send_error(r, rc == -E_SERVICE_UNAVAILABLE ? rc : -E_SERVICE_UNAVAILABLE, NULL);
}

static const char *elem_str(const redisReply *rep, size_t i, size_t *len)
{
	const redisReply *e;

	if (i >= rep->elements)
		return NULL;
	e = rep->element[i];
	if (e->type != REDIS_REPLY_STRING)
		return NULL;
	if (len)
		*len = e->len;
	return e->str;
}

static int replay(struct req *r, const redisReply *rep)
{
	const char *st = elem_str(rep, 1, NULL), *body;
	size_t len = 0;
	int status = 0;

	body = elem_str(rep, 2, &len);
	if (!st || !body || strlen(st) != 3)
		return http_send_error(r, -E_INTERNAL_ERROR, NULL);
	for (int i = 0; i < 3; i++) {
		if (st[i] < '0' || st[i] > '9')
			return http_send_error(r, -E_INTERNAL_ERROR, NULL);
		status = status * 10 + (st[i] - '0');
	}
	http_add_header(r, "Idempotent-Replayed", "true");
	return http_send_raw(r, status, JSON_CT, body, len);
}

int idem_begin(struct req *r, struct idem *st)
{
	const char *key = req_header(r, "Idempotency-Key");
	struct buf text = BUF_INIT(0);
	redisReply *rep = NULL;
	char token[CRYPTO_TOKEN_LEN], ttl[24];
	const char *kind, *fp, *argv[4];
	int rc, n;

	memset(st, 0, sizeof(*st));
	if (!key)
		return 0;
	if (!idem_key_valid(key)) {
		struct field_errors fe = {0};
		char shown[FIELD_VALUE_MAX];

		printable_copy(key, shown, sizeof(shown));
		field_errors_add(&fe, E_VALIDATION_FAILED, "Idempotency-Key", shown, IDEM_REASON);
		http_send_field_errors(r, &fe);
		return 1;
	}
	n = snprintf(st->rkey, sizeof(st->rkey), "%sidem:%" PRId64 ":%s", redis_prefix(r->w->redis),
	             r->auth.present ? r->auth.uid : (int64_t)0, key);
	if (n < 0 || (size_t)n >= sizeof(st->rkey) || crypto_token(token) ||
	    request_text(r, &text)) {
		buf_release(&text);
		http_send_error(r, -E_INTERNAL_ERROR, NULL);
		return 1;
	}
	snprintf(ttl, sizeof(ttl), "%d", IDEM_RUNNING_TTL_MS);
	argv[0] = st->rkey;
	argv[1] = text.data;
	argv[2] = token;
	argv[3] = ttl;
	rc = redis_eval(r->w->redis, &rep, SCRIPT_BEGIN, 1, 4, argv);
	buf_release(&text);
	if (rc) {
		redis_down(r, rc);
		return 1;
	}
	kind = rep->type == REDIS_REPLY_ARRAY ? elem_str(rep, 0, NULL) : NULL;
	if (kind && !strcmp(kind, "NEW") && (fp = elem_str(rep, 1, NULL)) && strlen(fp) == 40) {
		memcpy(st->fp, fp, 41);
		snprintf(st->running, sizeof(st->running), "P:%s:%s", fp, token);
		st->active = true;
		rc = 0;
	} else if (kind && (!strcmp(kind, "RUNNING") || !strcmp(kind, "CONFLICT"))) {
		http_send_error(r, -E_IDEMPOTENCY_KEY_CONFLICT, NULL);
		rc = 1;
	} else if (kind && !strcmp(kind, "REPLAY")) {
		replay(r, rep);
		rc = 1;
	} else {
		http_send_error(r, -E_INTERNAL_ERROR, NULL);
		rc = 1;
	}
	freeReplyObject(rep);
	return rc;
}

void idem_finish(struct req *r, struct idem *st, int status, const char *body, size_t len)
{
	struct buf done = BUF_INIT(0);
	const char *argv[4];
	char ttl[24];
	int rc = 0;

	if (!st->active)
		return;
	st->active = false;
	if (status >= 200 && status <= 299) {
		rc = buf_printf(&done, "D:%s:%03d:", st->fp, status);
		if (rc == 0 && len)
			rc = buf_append(&done, body, len);
		if (rc == 0 && memchr(done.data, '\0', done.len))
			rc = -E_INTERNAL_ERROR; /* never: answers are JSON text */
	} else {
		rc = buf_puts(&done, "");
	}
	snprintf(ttl, sizeof(ttl), "%d", IDEM_KEEP_S);
	argv[0] = st->rkey;
	argv[1] = st->running;
	argv[2] = done.data ? done.data : "";
	argv[3] = ttl;
	if (rc == 0)
		rc = redis_eval(r->w->redis, NULL, SCRIPT_FINISH, 1, 4, argv);
	if (rc)
		log_warn("idempotency outcome not recorded", "status:i", (long long)status,
		         "error:s", err_name(rc));
	buf_release(&done);
}

void idem_abort(struct req *r, struct idem *st)
{
	idem_finish(r, st, 0, NULL, 0);
}

int idem_send_data(struct req *r, struct idem *st, int status, cJSON *data)
{
	cJSON *root = cJSON_CreateObject();
	struct buf b = BUF_INIT(0);
	int rc;

	if (!root) {
		cJSON_Delete(data);
		return idem_send_error(r, st, -E_NOMEM, NULL);
	}
	cJSON_AddItemToObject(root, "data", data ? data : cJSON_CreateNull());
	rc = json_add_ts(root, "createTime", (int64_t)clock_now());
	if (rc == 0)
		rc = json_print_to(root, &b);
	cJSON_Delete(root);
	if (rc) {
		buf_release(&b);
		return idem_send_error(r, st, rc, NULL);
	}
	idem_finish(r, st, status, b.data, b.len);
	rc = http_send_raw(r, status, JSON_CT, b.data, b.len);
	buf_release(&b);
	return rc;
}

int idem_send_error(struct req *r, struct idem *st, int rc, const struct field_errors *fe)
{
	idem_finish(r, st, err_http_status(rc), NULL, 0);
	return http_send_error(r, rc, fe);
}

int idem_send_field_errors(struct req *r, struct idem *st, const struct field_errors *fe)
{
	return idem_send_error(r, st, -field_errors_code(fe), fe);
}
