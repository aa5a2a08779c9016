/* log: one JSON object per line, one write(2) per line (see log.h). */
#include "common/log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/banned.h"

#define LOG_LINE_MAX       (64 * 1024) /* a longer line is cut after its last whole field */
#define LOG_TRAILER_ROOM   64          /* kept free for ,"log_truncated":true}\n */
#define LOG_REQUEST_ID_MAX 128
#define LOG_KEY_MAX        128
#define LOG_MSG_MAX        (8 * 1024) /* a longer message is cut on a UTF-8 boundary */

static const char *log_daemon = "pillivery";
static atomic_int log_min_level = LOG_INFO;
static atomic_int log_fd = 1;
static __thread char log_request_id[LOG_REQUEST_ID_MAX];

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *daemon, enum log_level min_level, int fd)
{
	if (daemon)
		log_daemon = daemon;
	atomic_store(&log_min_level, (int)min_level);
	atomic_store(&log_fd, fd);
}

int log_level_parse(const char *s, enum log_level *out)
{
	if (!s)
		return -E_CONFIG;
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		if (strcasecmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return -E_CONFIG;
}

void log_set_level(enum log_level min_level)
{
	atomic_store(&log_min_level, (int)min_level);
}

int log_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&log_min_level);
}

void log_set_request_id(const char *id)
{
	snprintf(log_request_id, sizeof(log_request_id), "%s", id ? id : "");
}

/* Appends ,"key": with the key JSON-escaped. */
static int log_put_key(struct buf *b, const char *key, size_t keylen)
{
	char name[LOG_KEY_MAX];
	int rc;

	if (keylen >= sizeof(name))
		keylen = sizeof(name) - 1;
	memcpy(name, key, keylen);
	name[keylen] = '\0';
	rc = buf_puts(b, ",\"");
	if (!rc)
		rc = buf_json_escape(b, name);
	if (!rc)
		rc = buf_puts(b, "\":");
	return rc;
}

static int log_put_string(struct buf *b, const char *s)
{
	int rc;

	if (!s)
		return buf_puts(b, "null");
	rc = buf_putc(b, '"');
	if (!rc)
		rc = buf_json_escape(b, s);
	if (!rc)
		rc = buf_putc(b, '"');
	return rc;
}

/* The message, cut after LOG_MSG_MAX bytes (on a UTF-8 boundary) with a trailing "...". */
static int log_put_message(struct buf *b, const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;
	char *cut;
	int rc;

	if (n <= LOG_MSG_MAX)
		return log_put_string(b, msg);
	n = LOG_MSG_MAX;
	while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
		n--;
	cut = malloc(n + 4);
	if (!cut)
		return -E_NOMEM;
	memcpy(cut, msg, n);
	memcpy(cut + n, "...", 4);
	rc = log_put_string(b, cut);
	free(cut);
	return rc;
}

/* The shortest %g text that reads back as v; JSON has no NaN or infinity, so those are null. */
static int log_put_double(struct buf *b, double v)
{
	char tmp[32];

	if (!isfinite(v))
		return buf_puts(b, "null");
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return buf_puts(b, tmp);
}

/* Reads the (key, value) pairs; returns 0 when all fitted, else the first error. */
static int log_put_fields(struct buf *b, size_t *whole, va_list ap)
{
	const char *key;
	int rc = 0;

	while ((key = va_arg(ap, const char *)) != NULL) {
		size_t keylen = strlen(key);
		char type = 's';

		if (keylen >= 2 && key[keylen - 2] == ':' && strchr("siufb", key[keylen - 1])) {
			type = key[keylen - 1];
			keylen -= 2;
		}
		/* Every value is read, even after a failure, so the va_list stays in step. */
		switch (type) {
		case 'i': {
			long long v = va_arg(ap, long long);
			if (!rc && !(rc = log_put_key(b, key, keylen)))
				rc = buf_printf(b, "%lld", v);
			break;
		}
		case 'u': {
			unsigned long long v = va_arg(ap, unsigned long long);
			if (!rc && !(rc = log_put_key(b, key, keylen)))
				rc = buf_printf(b, "%llu", v);
			break;
		}
		case 'f': {
			double v = va_arg(ap, double);
			if (!rc && !(rc = log_put_key(b, key, keylen)))
				rc = log_put_double(b, v);
			break;
		}
		case 'b': {
			int v = va_arg(ap, int);
			if (!rc && !(rc = log_put_key(b, key, keylen)))
				rc = buf_puts(b, v ? "true" : "false");
			break;
		}
		default: {
			const char *v = va_arg(ap, const char *);
			if (!rc && !(rc = log_put_key(b, key, keylen)))
				rc = log_put_string(b, v);
			break;
		}
		}
		if (!rc)
			*whole = b->len;
	}
	return rc;
}

static void log_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void log_write(enum log_level level, const char *msg, ...)
{
	static const char oom_line[] = "{\"level\":\"error\",\"msg\":\"log: out of memory\"}\n";
	struct buf b = BUF_INIT(LOG_LINE_MAX - LOG_TRAILER_ROOM);
	char ts[CLOCK_TS_LEN];
	size_t whole;
	va_list ap;
	int rc, saved_errno = errno;

	if (!log_enabled(level))
		return;
	if ((int)level < LOG_DEBUG || (int)level > LOG_ERROR)
		level = LOG_ERROR;
	if (clock_format_utc_ms(clock_now_ms(), ts) != 0)
		ts[0] = '\0';

	rc = buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"daemon\":", ts,
	                log_level_names[level]);
	if (!rc)
		rc = log_put_string(&b, log_daemon);
	if (!rc && log_request_id[0]) {
		rc = buf_puts(&b, ",\"request_id\":");
		if (!rc)
			rc = log_put_string(&b, log_request_id);
	}
	if (!rc)
		rc = buf_puts(&b, ",\"msg\":");
	if (!rc)
		rc = log_put_message(&b, msg);
	if (rc) {
		/* Out of memory: say so briefly. */
		buf_release(&b);
		log_write_all(atomic_load(&log_fd), oom_line, sizeof(oom_line) - 1);
		errno = saved_errno;
		return;
	}
	whole = b.len;

	va_start(ap, msg);
	rc = log_put_fields(&b, &whole, ap);
	va_end(ap);

	b.max = LOG_LINE_MAX;
	if (rc) {
		b.len = whole;
		rc = buf_puts(&b, ",\"log_truncated\":true");
	}
	if (!rc)
		rc = buf_puts(&b, "}\n");
	if (!rc)
		log_write_all(atomic_load(&log_fd), b.data, b.len);
	buf_release(&b);
	errno = saved_errno;
}
