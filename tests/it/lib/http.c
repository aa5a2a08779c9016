/* http: the harness's HTTP client (libcurl, and raw sockets), see it.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "tests/it/lib/it.h"
#include "common/banned.h"

#define IT_BODY_CAP   (16u << 20) /* responses larger than this are cut */
#define IT_TIMEOUT_MS 10000

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_resp_free(struct it_resp *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

static void clear_headers(struct it_resp *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static int add_header(struct it_resp *r, const char *name, size_t nlen, const char *value,
		      size_t vlen)
{
	struct it_header *h = realloc(r->headers, (r->nheaders + 1) * sizeof(*h));
	if (!h)
		return -1;
	r->headers = h;
	while (vlen && (*value == ' ' || *value == '\t'))
		value++, vlen--;
	while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t' ||
			value[vlen - 1] == '\r' || value[vlen - 1] == '\n'))
		vlen--;
	h[r->nheaders].name = strndup(name, nlen);
	h[r->nheaders].value = strndup(value, vlen);
	if (!h[r->nheaders].name || !h[r->nheaders].value) {
		free(h[r->nheaders].name);
		free(h[r->nheaders].value);
		return -1;
	}
	r->nheaders++;
	return 0;
}

/* One header line (no CRLF needed): a status line resets the list (100 Continue, redirects). */
static int header_line(struct it_resp *r, const char *line, size_t len)
{
	const char *colon;

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len == 0)
		return 0;
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		clear_headers(r);
		return 0;
	}
	colon = memchr(line, ':', len);
	if (!colon)
		return 0;
	return add_header(r, line, (size_t)(colon - line), colon + 1,
			  len - (size_t)(colon - line) - 1);
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	if (header_line(ud, p, sz * n))
		return 0;
	return sz * n;
}

struct sink {
	char *buf;
	size_t len, cap;
};

static int sink_add(struct sink *s, const void *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *b;
		while (cap < s->len + n + 1)
			cap *= 2;
		if (cap > IT_BODY_CAP + 1)
			return -1;
		b = realloc(s->buf, cap);
		if (!b)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	if (sink_add(ud, p, sz * n))
		return 0;
	return sz * n;
}

static void finish_body(struct it_resp *r, struct sink *s)
{
	if (!s->buf) {
		s->buf = calloc(1, 1);
		s->len = 0;
	}
	r->body = s->buf;
	r->body_len = s->len;
	r->json = NULL;
	if (r->body && r->body_len)
		r->json = cJSON_ParseWithOpts(r->body, NULL, 1); /* body is NUL-terminated */
}

static bool has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; headers && headers[i]; i++)
		if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
			return true;
	return false;
}

int it_http_to(int port, int timeout_ms, const char *method, const char *path,
	       const char *const *headers, const void *body, size_t body_len, struct it_resp *out)
{
	CURL *c = NULL;
	struct curl_slist *hl = NULL, *tmp;
	struct sink s = {0};
	char url[2048];
	CURLcode cc;
	int rc = -1;
	double t0 = mono_now();

	it_resp_free(out);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	c = curl_easy_init();
	if (!c) {
		snprintf(out->error, sizeof(out->error), "curl_easy_init failed");
		goto out;
	}
	for (size_t i = 0; headers && headers[i]; i++) {
		tmp = curl_slist_append(hl, headers[i]);
		if (!tmp)
			goto out;
		hl = tmp;
	}
	/* curl's own defaults that would change the request: none of them. */
	if (!has_header(headers, "Expect") && (tmp = curl_slist_append(hl, "Expect:")))
		hl = tmp;
	if (!has_header(headers, "Content-Type") && (tmp = curl_slist_append(hl, "Content-Type:")))
		hl = tmp;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);

	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") == 0 && !body) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		}
	}

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(out->error, sizeof(out->error),
			 "%s %s: %s (is pillivery-api running? see %s/api.log)", method, path,
			 curl_easy_strerror(cc), it_var());
		out->status = 0;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	finish_body(out, &s);
	s.buf = NULL;
	rc = 0;
out:
	out->seconds = mono_now() - t0;
	free(s.buf);
	curl_slist_free_all(hl);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}

int it_http(const char *method, const char *path, const char *const *headers, const void *body,
	    size_t body_len, struct it_resp *out)
{
	return it_http_to(it_api_port(), IT_TIMEOUT_MS, method, path, headers, body, body_len, out);
}

/* ---- raw socket ------------------------------------------------------------------------------ */

static int wait_fd(int fd, short ev, double deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = ev};
		int ms = (int)((deadline - mono_now()) * 1000);
		int n;
		if (ms <= 0)
			return 0;
		n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

/* Parses a complete response in buf; 1 when complete, 0 when more is needed, -1 bad. */
static int parse_raw(struct it_resp *r, const char *buf, size_t len, bool eof)
{
	const char *end = NULL, *p, *line;
	size_t hlen, clen = 0;
	bool have_clen = false, chunked = false;
	struct sink s = {0};

	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i;
			break;
		}
	if (!end)
		return eof ? -1 : 0;
	hlen = (size_t)(end - buf) + 4;

	clear_headers(r);
	line = buf;
	p = memchr(line, '\n', (size_t)(end - line) + 2);
	if (!p || (size_t)(p - buf) < 12 || memcmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	r->status = strtol(buf + 9, NULL, 10);
	line = p + 1;
	while (line < end + 2) {
		const char *nl = memchr(line, '\n', (size_t)(end + 2 - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end + 2 - line);
		if (header_line(r, line, n))
			return -1;
		if (!nl)
			break;
		line = nl + 1;
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, "Content-Length") == 0) {
			have_clen = true;
			clen = (size_t)strtoull(r->headers[i].value, NULL, 10);
		}
		if (strcasecmp(r->headers[i].name, "Transfer-Encoding") == 0 &&
		    strcasestr(r->headers[i].value, "chunked"))
			chunked = true;
	}
	if (r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200))
		have_clen = true, clen = 0;

	if (chunked) {
		size_t off = hlen;
		for (;;) {
			const char *nl = memchr(buf + off, '\n', len - off);
			size_t n;
			if (!nl)
				return eof ? -1 : 0;
			n = (size_t)strtoull(buf + off, NULL, 16);
			off = (size_t)(nl - buf) + 1;
			if (n == 0)
				break;
			if (off + n + 2 > len)
				return eof ? -1 : 0;
			if (sink_add(&s, buf + off, n)) {
				free(s.buf);
				return -1;
			}
			off += n + 2;
		}
	} else if (have_clen) {
		if (len - hlen < clen) {
			if (!eof)
				return 0;
			clen = len - hlen;
		}
		if (sink_add(&s, buf + hlen, clen))
			return -1;
	} else {
		if (!eof)
			return 0;
		if (sink_add(&s, buf + hlen, len - hlen))
			return -1;
	}
	free(r->body);
	cJSON_Delete(r->json);
	finish_body(r, &s);
	return 1;
}

int it_raw(const void *request, size_t len, struct it_resp *out)
{
	struct sockaddr_in sa = {0};
	struct sink in = {0};
	const char *p = request;
	size_t sent = 0;
	double t0 = mono_now(), deadline = t0 + IT_TIMEOUT_MS / 1000.0;
	int fd = -1, rc = -1, done = 0;
	bool eof = false;

	it_resp_free(out);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(out->error, sizeof(out->error), "socket: %s", strerror(errno));
		goto out;
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)it_api_port());
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(out->error, sizeof(out->error), "connect to 127.0.0.1:%d: %s",
			 it_api_port(), strerror(errno));
		goto out;
	}
	/* Send what the server takes; it may answer (and close) before reading it all. */
	while (sent < len) {
		ssize_t n;
		if (wait_fd(fd, POLLOUT, deadline) <= 0)
			break;
		n = send(fd, p + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		sent += (size_t)n;
	}
	while (!done) {
		char buf[8192];
		ssize_t n;
		if (wait_fd(fd, POLLIN, deadline) <= 0) {
			snprintf(out->error, sizeof(out->error),
				 "no complete response within %d ms (%zu bytes read)",
				 IT_TIMEOUT_MS, in.len);
			goto out;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (in.len == 0) {
				snprintf(out->error, sizeof(out->error), "recv: %s",
					 strerror(errno));
				goto out;
			}
			eof = true;
		} else if (n == 0) {
			eof = true;
		} else if (sink_add(&in, buf, (size_t)n)) {
			snprintf(out->error, sizeof(out->error), "response too large");
			goto out;
		}
		if (in.len == 0 && eof) {
			snprintf(out->error, sizeof(out->error),
				 "connection closed without a response");
			goto out;
		}
		done = parse_raw(out, in.buf, in.len, eof);
		if (done < 0) {
			snprintf(out->error, sizeof(out->error), "unparsable response (%zu bytes)",
				 in.len);
			out->status = 0;
			goto out;
		}
	}
	rc = 0;
out:
	out->seconds = mono_now() - t0;
	free(in.buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- lookups and the convenience request ----------------------------------------------------- */

const char *it_resp_header(const struct it_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

size_t it_resp_header_prefix_count(const struct it_resp *r, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);
	for (size_t i = 0; i < r->nheaders; i++)
		if (strncasecmp(r->headers[i].name, prefix, plen) == 0)
			n++;
	return n;
}

void it_req_at(struct it_loc at, const char *method, const char *path, const char *token,
	       const char *json, const char *const *extra, struct it_resp *out)
{
	const char *hdrs[24];
	char auth[2200];
	size_t n = 0;

	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs[n++] = auth;
	}
	if (json)
		hdrs[n++] = "Content-Type: application/json";
	for (size_t i = 0; extra && extra[i] && n < sizeof(hdrs) / sizeof(hdrs[0]) - 1; i++)
		hdrs[n++] = extra[i];
	hdrs[n] = NULL;
	if (it_http(method, path, hdrs, json, json ? strlen(json) : 0, out) != 0)
		it_fail_at(at, NULL, "%s", out->error);
}
