/*
 * fake-oauth: a fake OAuth2 provider for the kakao and google logins of pillivery-api
 * (API.md §3.7), for integration tests and the demo. One libevent evhttp loop, one thread.
 *
 * Endpoints, for P in kakao and google:
 *   GET  /P/authorize  checks response_type=code and client_id, then redirects at once (no login
 *                      page) to redirect_uri with code and state, or with error=<e> when an
 *                      error was injected; the code is bound to redirect_uri, the PKCE challenge
 *                      and the profile (the injected one, else a generated one)
 *   POST /P/token      form grant_type=authorization_code, client_id, client_secret (when one is
 *                      configured), redirect_uri, code, code_verifier (when a challenge was
 *                      given): {"access_token": ...}; a code is single use
 *   GET  /P/userinfo   Authorization: Bearer <access_token>: the profile JSON of the code
 *   POST /__control/profile  {"provider": "kakao", then one of
 *                        "profile": {...}   the next authorize's profile, served verbatim
 *                        "error": "access_denied"  the next authorize redirects with it
 *                        "hang": "token" | "userinfo"  the next such call is never answered
 *                        "status": 500      the next token call answers this status}
 *   GET  /__control/health   200 {"status":"UP"}
 *
 * Environment: PV_FAKEOAUTH_LISTEN (127.0.0.1:18540), PV_FAKEOAUTH_KAKAO_CLIENT_ID
 * (fake-kakao-client), PV_FAKEOAUTH_KAKAO_CLIENT_SECRET (fake-kakao-secret),
 * PV_FAKEOAUTH_GOOGLE_CLIENT_ID (fake-google-client), PV_FAKEOAUTH_GOOGLE_CLIENT_SECRET
 * (fake-google-secret). State lives in memory; SIGTERM/SIGINT stop it.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/sha.h>

#include "common/crypto.h"
#include "common/banned.h"

#define MAX_CODES 512
#define NPROV     2

struct provider {
	const char *name;
	const char *client_id;
	const char *client_secret;
	/* injected for the next calls */
	char *next_profile;
	char *next_error;
	bool hang_token, hang_userinfo;
	int token_status;
};

struct grant {
	bool used_code, live_token;
	int prov;
	char code[CRYPTO_TOKEN_LEN];
	char token[CRYPTO_TOKEN_LEN];
	char *redirect_uri;
	char *challenge; /* NULL: no PKCE */
	char *profile;
};

static struct provider provs[NPROV] = {{.name = "kakao"}, {.name = "google"}};
static struct grant grants[MAX_CODES];
static size_t next_grant;
static long long id_seq;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

static void reply_json(struct evhttp_request *req, int status, const char *body)
{
	struct evbuffer *b = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json; charset=utf-8");
	evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", b);
	evbuffer_free(b);
}

static void reply_oauth_error(struct evhttp_request *req, int status, const char *error)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", error);
	reply_json(req, status, body);
}

static char *body_text(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	evbuffer_copyout(in, s, n);
	s[n] = '\0';
	return s;
}

static char *generated_profile(int prov)
{
	char buf[512];
	long long id = ++id_seq;

	if (prov == 0)
		snprintf(buf, sizeof(buf),
		         "{\"id\":%lld,\"kakao_account\":{\"email\":\"kakao%lld@fake.example\","
		         "\"profile\":{\"nickname\":\"Fake Kakao\"}}}",
		         id, id);
	else
		snprintf(buf, sizeof(buf),
		         "{\"sub\":\"g%lld\",\"email\":\"google%lld@fake.example\","
		         "\"email_verified\":true,\"name\":\"Fake Google\"}",
		         id, id);
	return strdup(buf);
}

static void grant_free(struct grant *g)
{
	free(g->redirect_uri);
	free(g->challenge);
	free(g->profile);
	memset(g, 0, sizeof(*g));
}

static void on_authorize(struct evhttp_request *req, int prov)
{
	struct provider *p = &provs[prov];
	struct evkeyvalq q;
	const char *uri = evhttp_request_get_uri(req);
	const char *qs = strchr(uri, '?');
	char *state_enc = NULL, *loc = NULL;

	TAILQ_INIT(&q);
	if (!qs || evhttp_parse_query_str(qs + 1, &q) != 0) {
		reply_oauth_error(req, 400, "invalid_request");
		return;
	}
	const char *rt = evhttp_find_header(&q, "response_type");
	const char *cid = evhttp_find_header(&q, "client_id");
	const char *ru = evhttp_find_header(&q, "redirect_uri");
	const char *state = evhttp_find_header(&q, "state");
	const char *cc = evhttp_find_header(&q, "code_challenge");
	const char *ccm = evhttp_find_header(&q, "code_challenge_method");
	size_t len;

	if (!rt || strcmp(rt, "code") || !ru || !*ru) {
		reply_oauth_error(req, 400, "invalid_request");
		goto out;
	}
	if (!cid || strcmp(cid, p->client_id)) {
		reply_oauth_error(req, 401, "invalid_client");
		goto out;
	}
	if (cc && (!ccm || strcmp(ccm, "S256"))) {
		reply_oauth_error(req, 400, "invalid_request");
		goto out;
	}
	state_enc = evhttp_encode_uri(state ? state : "");
	len = strlen(ru) + strlen(state_enc) + 256;
	loc = malloc(len);
	if (!loc) {
		reply_oauth_error(req, 500, "server_error");
		goto out;
	}
	if (p->next_error) {
		snprintf(loc, len, "%s%cerror=%s&state=%s", ru, strchr(ru, '?') ? '&' : '?',
		         p->next_error, state_enc);
		free(p->next_error);
		p->next_error = NULL;
	} else {
		struct grant *g = &grants[next_grant++ % MAX_CODES];
		grant_free(g);
		g->prov = prov;
		crypto_token(g->code);
		g->redirect_uri = strdup(ru);
		g->challenge = cc ? strdup(cc) : NULL;
		g->profile = p->next_profile ? p->next_profile : generated_profile(prov);
		p->next_profile = NULL;
		snprintf(loc, len, "%s%ccode=%s&state=%s", ru, strchr(ru, '?') ? '&' : '?', g->code,
		         state_enc);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	evhttp_send_reply(req, 302, "Found", NULL);
out:
	free(loc);
	free(state_enc);
	evhttp_clear_headers(&q);
}

static bool challenge_ok(const char *challenge, const char *verifier)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char enc[64];

	if (!verifier)
		return false;
	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	if (crypto_b64url_encode(md, sizeof(md), enc, sizeof(enc)) < 0)
		return false;
	return strcmp(enc, challenge) == 0;
}

static void on_token(struct evhttp_request *req, int prov)
{
	struct provider *p = &provs[prov];
	struct evkeyvalq q;
	char *body = body_text(req);
	struct grant *g = NULL;
	char out[256];

	TAILQ_INIT(&q);
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST || !body ||
	    evhttp_parse_query_str(body, &q) != 0) {
		reply_oauth_error(req, 400, "invalid_request");
		goto out;
	}
	if (p->hang_token) {
		p->hang_token = false;
		goto out; /* never answered; libevent frees the request when the client leaves */
	}
	if (p->token_status) {
		int st = p->token_status;
		p->token_status = 0;
		reply_oauth_error(req, st, "server_error");
		goto out;
	}
	const char *gt = evhttp_find_header(&q, "grant_type");
	const char *cid = evhttp_find_header(&q, "client_id");
	const char *sec = evhttp_find_header(&q, "client_secret");
	const char *ru = evhttp_find_header(&q, "redirect_uri");
	const char *code = evhttp_find_header(&q, "code");
	const char *ver = evhttp_find_header(&q, "code_verifier");

	if (!gt || strcmp(gt, "authorization_code")) {
		reply_oauth_error(req, 400, "unsupported_grant_type");
		goto out;
	}
	if (!cid || strcmp(cid, p->client_id) || !sec || strcmp(sec, p->client_secret)) {
		reply_oauth_error(req, 401, "invalid_client");
		goto out;
	}
	for (size_t i = 0; code && i < MAX_CODES; i++)
		if (grants[i].redirect_uri && grants[i].prov == prov &&
		    !strcmp(grants[i].code, code))
			g = &grants[i];
	if (!g || g->used_code || !ru || strcmp(ru, g->redirect_uri) ||
	    (g->challenge && !challenge_ok(g->challenge, ver))) {
		reply_oauth_error(req, 400, "invalid_grant");
		goto out;
	}
	g->used_code = true;
	g->live_token = true;
	crypto_token(g->token);
	snprintf(out, sizeof(out),
	         "{\"access_token\":\"%s\",\"token_type\":\"bearer\",\"expires_in\":3600}",
	         g->token);
	reply_json(req, 200, out);
out:
	evhttp_clear_headers(&q);
	free(body);
}

static void on_userinfo(struct evhttp_request *req, int prov)
{
	struct provider *p = &provs[prov];
	const char *auth =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");

	if (p->hang_userinfo) {
		p->hang_userinfo = false;
		return; /* never answered */
	}
	if (!auth || strncmp(auth, "Bearer ", 7)) {
		reply_oauth_error(req, 401, "invalid_token");
		return;
	}
	for (size_t i = 0; i < MAX_CODES; i++) {
		if (grants[i].live_token && grants[i].prov == prov &&
		    !strcmp(grants[i].token, auth + 7)) {
			reply_json(req, 200, grants[i].profile);
			return;
		}
	}
	reply_oauth_error(req, 401, "invalid_token");
}

static void on_control_profile(struct evhttp_request *req)
{
	char *body = body_text(req);
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(j, "provider");
	const cJSON *prof = cJSON_GetObjectItemCaseSensitive(j, "profile");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *hang = cJSON_GetObjectItemCaseSensitive(j, "hang");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
	int prov = -1;

	for (int k = 0; k < NPROV && cJSON_IsString(pv); k++)
		if (!strcmp(provs[k].name, pv->valuestring))
			prov = k;
	if (prov < 0) {
		reply_oauth_error(req, 400, "unknown provider");
		goto out;
	}
	struct provider *p = &provs[prov];
	if (prof) {
		free(p->next_profile);
		p->next_profile = cJSON_PrintUnformatted(prof);
	}
	if (cJSON_IsString(err)) {
		free(p->next_error);
		p->next_error = strdup(err->valuestring);
	}
	if (cJSON_IsString(hang)) {
		p->hang_token |= !strcmp(hang->valuestring, "token");
		p->hang_userinfo |= !strcmp(hang->valuestring, "userinfo");
	}
	if (cJSON_IsNumber(st))
		p->token_status = st->valueint;
	reply_json(req, 200, "{\"ok\":true}");
out:
	cJSON_Delete(j);
	free(body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	char rest[64];

	(void)arg;
	if (!path) {
		reply_oauth_error(req, 404, "not_found");
		return;
	}
	if (!strcmp(path, "/__control/health")) {
		reply_json(req, 200, "{\"status\":\"UP\"}");
		return;
	}
	if (!strcmp(path, "/__control/profile") &&
	    evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		on_control_profile(req);
		return;
	}
	for (int k = 0; k < NPROV; k++) {
		size_t n = strlen(provs[k].name);
		if (strncmp(path + 1, provs[k].name, n) || path[0] != '/' || path[n + 1] != '/')
			continue;
		snprintf(rest, sizeof(rest), "%s", path + n + 2);
		if (!strcmp(rest, "authorize"))
			on_authorize(req, k);
		else if (!strcmp(rest, "token"))
			on_token(req, k);
		else if (!strcmp(rest, "userinfo"))
			on_userinfo(req, k);
		else
			reply_oauth_error(req, 404, "not_found");
		return;
	}
	reply_oauth_error(req, 404, "not_found");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(void)
{
	const char *listen = env_or("PV_FAKEOAUTH_LISTEN", "127.0.0.1:18540");
	char host[128];
	const char *colon = strrchr(listen, ':');
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	int port, rc = 1;

	if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
		fprintf(stderr, "fake-oauth: PV_FAKEOAUTH_LISTEN must be host:port\n");
		return 2;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = (int)strtol(colon + 1, NULL, 10);
	provs[0].client_id = env_or("PV_FAKEOAUTH_KAKAO_CLIENT_ID", "fake-kakao-client");
	provs[0].client_secret = env_or("PV_FAKEOAUTH_KAKAO_CLIENT_SECRET", "fake-kakao-secret");
	provs[1].client_id = env_or("PV_FAKEOAUTH_GOOGLE_CLIENT_ID", "fake-google-client");
	provs[1].client_secret = env_or("PV_FAKEOAUTH_GOOGLE_CLIENT_SECRET", "fake-google-secret");
	id_seq = (long long)time(NULL) * 1000;
	signal(SIGPIPE, SIG_IGN);

	base = event_base_new();
	http = base ? evhttp_new(base) : NULL;
	if (!http || evhttp_bind_socket(http, host, (ev_uint16_t)port) != 0) {
		fprintf(stderr, "fake-oauth: cannot listen on %s\n", listen);
		goto out;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, on_request, NULL);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL))
		goto out;
	fprintf(stderr, "fake-oauth: listening on %s\n", listen);
	event_base_dispatch(base);
	rc = 0;
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	for (size_t i = 0; i < MAX_CODES; i++)
		grant_free(&grants[i]);
	for (int k = 0; k < NPROV; k++) {
		free(provs[k].next_profile);
		free(provs[k].next_error);
	}
	return rc;
}
