/*
 * fake_page: the HTML payment page and its buttons. See fake_page.h.
 */
#include "tests/fakes/kakaopay/fake_page.h"

#include <stdio.h>
#include <string.h>
#include <event2/http.h>

#include "common/buf.h"
#include "tests/fakes/kakaopay/fake_http.h"
#include "tests/fakes/kakaopay/fake_store.h"
#include "common/banned.h"

#define PAGE_MAX 4096

static void esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

static bool finished(enum fp_status s)
{
	return !fstore_in_progress(s);
}

/* The page for p into b (status 200 or 409 decided by the caller). */
static void render(struct buf *b, const struct fp_payment *p)
{
	enum fp_status st = fstore_effective_status(p);
	bool expired = fstore_in_progress(p->status) && st == FP_FAIL_PAYMENT;
	int64_t left = (p->expires_ms - fstore_now_ms()) / 1000;

	buf_puts(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
	            "<meta name=\"viewport\" content=\"width=device-width\">");
	if (expired) {
		buf_puts(b, "<meta http-equiv=\"refresh\" content=\"0;url=");
		esc(b, p->fail_url);
		buf_puts(b, "\">");
	}
	buf_puts(b, "<title>FAKE Kakao Pay</title><style>body{font-family:sans-serif;margin:8px;"
	            "max-width:280px}button{width:100%;margin:4px 0;padding:8px}"
	            "dt{color:#666;font-size:12px}dd{margin:0 0 6px 0}</style></head><body>"
	            "<h3>FAKE Kakao Pay \xe2\x80\x94 test</h3><dl><dt>item</dt><dd id=\"item\">");
	esc(b, p->item_name);
	buf_printf(b, "</dd><dt>amount</dt><dd id=\"amount\">%lld KRW</dd><dt>cid</dt><dd>",
	           (long long)p->amount.total);
	esc(b, p->cid);
	buf_puts(b, "</dd><dt>partner_order_id</dt><dd>");
	esc(b, p->partner_order_id);
	buf_puts(b, "</dd>");
	if (expired) {
		buf_puts(b, "</dl><p id=\"status\">expired</p></body></html>");
		return;
	}
	if (finished(st)) {
		buf_printf(b, "</dl><p id=\"status\">%s</p></body></html>", fstore_status_name(st));
		return;
	}
	if (left < 0)
		left = 0;
	buf_printf(b, "<dt>time left</dt><dd id=\"left\">%lld:%02lld</dd></dl>",
	           (long long)(left / 60), (long long)(left % 60));
	static const char *const btn[][2] = {
	    {"approve", "Approve"}, {"cancel", "Cancel"}, {"fail", "Fail"}};
	for (size_t i = 0; i < 3; i++)
		buf_printf(b,
		           "<form method=\"post\" action=\"/pg/%s/%s\"><button id=\"%s\" "
		           "type=\"submit\">%s</button></form>",
		           p->tid, btn[i][0], btn[i][0], btn[i][1]);
	buf_puts(b, "</body></html>");
}

static void send_page(struct evhttp_request *req, int status, const struct fp_payment *p)
{
	struct buf b = BUF_INIT(PAGE_MAX);

	render(&b, p);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	fhttp_send_text(req, status, "text/html; charset=utf-8", b.data ? b.data : "");
	buf_release(&b);
}

int fpage_click(const char *tid, const char *action, char *loc, size_t n)
{
	struct fp_payment *p = fstore_payment_get(tid);
	enum fp_status st;

	if (!p || p->is_charge)
		return 404;
	if (strcmp(action, "approve") != 0 && strcmp(action, "cancel") != 0 &&
	    strcmp(action, "fail") != 0)
		return 400;
	st = fstore_effective_status(p);
	if (finished(st))
		return 409;
	if (action[0] == 'a') {
		fstore_new_token(p->pg_token);
		p->token_used = false;
		p->status = FP_AUTH_PASSWORD;
		snprintf(loc, n, "%s%cpg_token=%s", p->approval_url,
		         strchr(p->approval_url, '?') ? '&' : '?', p->pg_token);
	} else if (action[0] == 'c') {
		p->status = FP_QUIT_PAYMENT;
		snprintf(loc, n, "%s", p->cancel_url);
	} else {
		p->status = FP_FAIL_AUTH_PASSWORD;
		snprintf(loc, n, "%s", p->fail_url);
	}
	return 303;
}

void fpage_handle(struct evhttp_request *req, const char *rest)
{
	char tid[FP_ID_LEN + 8], loc[1024];
	const char *slash = strchr(rest, '/'), *what;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct fp_payment *p;
	int st;

	if (!slash || (size_t)(slash - rest) >= sizeof(tid)) {
		fhttp_send_text(req, 404, "text/plain; charset=utf-8", "not found\n");
		return;
	}
	memcpy(tid, rest, (size_t)(slash - rest));
	tid[slash - rest] = '\0';
	what = slash + 1;
	p = fstore_payment_get(tid);
	if (!p || p->is_charge) {
		fhttp_send_text(req, 404, "text/plain; charset=utf-8", "unknown payment\n");
		return;
	}
	if (cmd == EVHTTP_REQ_GET && (strcmp(what, "info") == 0 || strcmp(what, "mInfo") == 0 ||
	                              strcmp(what, "aInfo") == 0)) {
		if (p->status == FP_READY && fstore_effective_status(p) == FP_READY)
			p->status = FP_OPEN_PAYMENT;
		send_page(req, 200, p);
		return;
	}
	if (cmd != EVHTTP_REQ_POST) {
		fhttp_send_text(req, 404, "text/plain; charset=utf-8", "not found\n");
		return;
	}
	st = fpage_click(tid, what, loc, sizeof(loc));
	if (st == 303) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
		fhttp_send_text(req, 303, "text/plain; charset=utf-8", "");
	} else if (st == 409) {
		send_page(req, 409, p);
	} else {
		fhttp_send_text(req, 404, "text/plain; charset=utf-8", "not found\n");
	}
}
