/* oauth: OAuth2 provider calls over libcurl (see oauth.h). */
#include "external/oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/banned.h"

void oauth_profile_release(struct oauth_profile *p)
{
	free(p->id);
	free(p->email);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

int oauth_pkce_challenge(const char *verifier, char out[OAUTH_CHALLENGE_LEN])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (!verifier)
		return -E_INTERNAL_ERROR;
	SHA256((const unsigned char *)verifier, strlen(verifier), md);
	if (crypto_b64url_encode(md, sizeof(md), out, OAUTH_CHALLENGE_LEN) != 43)
		return -E_INTERNAL_ERROR;
	return 0;
}

int oauth_urlencode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		unsigned char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = buf_putc(b, (char)c);
		} else {
			char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = buf_append(b, enc, 3);
		}
	}
	return rc;
}

static int add_param(struct buf *b, const char *name, const char *value)
{
	int rc = buf_puts(b, name);
	if (rc == 0)
		rc = buf_putc(b, '=');
	if (rc == 0)
		rc = oauth_urlencode(b, value ? value : "");
	return rc;
}

int oauth_authorize_url(const struct oauth_provider *p, const char *redirect_uri, const char *state,
                        const char *challenge, struct buf *out)
{
	int rc = buf_puts(out, p->authorize_url);

	if (rc == 0)
		rc = buf_putc(out, strchr(p->authorize_url, '?') ? '&' : '?');
	if (rc == 0)
		rc = buf_puts(out, "response_type=code&");
	if (rc == 0)
		rc = add_param(out, "client_id", p->client_id);
	if (rc == 0)
		rc = buf_putc(out, '&');
	if (rc == 0)
		rc = add_param(out, "redirect_uri", redirect_uri);
	if (rc == 0)
		rc = buf_putc(out, '&');
	if (rc == 0)
		rc = add_param(out, "scope", p->scope);
	if (rc == 0)
		rc = buf_putc(out, '&');
	if (rc == 0)
		rc = add_param(out, "state", state);
	if (rc == 0 && challenge) {
		rc = buf_putc(out, '&');
		if (rc == 0)
			rc = add_param(out, "code_challenge", challenge);
		if (rc == 0)
			rc = buf_puts(out, "&code_challenge_method=S256");
	}
	return rc;
}

static char *dup_string(const cJSON *v)
{
	return cJSON_IsString(v) && v->valuestring && *v->valuestring ? strdup(v->valuestring)
	                                                              : NULL;
}

int oauth_parse_profile(enum oauth_kind kind, const char *json, struct oauth_profile *out)
{
	struct oauth_profile p = {0};
	cJSON *root = cJSON_Parse(json);
	int rc = -E_OAUTH_PROVIDER_ERROR;

	if (!cJSON_IsObject(root))
		goto out;
	if (kind == OAUTH_KAKAO) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
		const cJSON *acct = cJSON_GetObjectItemCaseSensitive(root, "kakao_account");
		const cJSON *prof = cJSON_GetObjectItemCaseSensitive(acct, "profile");
		char num[32];

		if (cJSON_IsNumber(id) && id->valuedouble >= 1 &&
		    id->valuedouble < 9007199254740992.0) {
			snprintf(num, sizeof(num), "%lld", (long long)id->valuedouble);
			p.id = strdup(num);
		} else {
			p.id = dup_string(id);
		}
		p.email = dup_string(cJSON_GetObjectItemCaseSensitive(acct, "email"));
		p.name = dup_string(cJSON_GetObjectItemCaseSensitive(prof, "nickname"));
	} else {
		const cJSON *verified = cJSON_GetObjectItemCaseSensitive(root, "email_verified");

		p.id = dup_string(cJSON_GetObjectItemCaseSensitive(root, "sub"));
		if (cJSON_IsTrue(verified))
			p.email = dup_string(cJSON_GetObjectItemCaseSensitive(root, "email"));
		p.name = dup_string(cJSON_GetObjectItemCaseSensitive(root, "name"));
	}
	if (!p.id || strlen(p.id) > 128)
		goto out;
	*out = p;
	memset(&p, 0, sizeof(p));
	rc = 0;
out:
	oauth_profile_release(&p);
	cJSON_Delete(root);
	return rc;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	if (buf_append(b, data, size * n))
		return 0; /* over the cap: abort the transfer */
	return size * n;
}

/* One call; 0 with the 2xx body in body, else -E_OAUTH_PROVIDER_ERROR. */
static int call(const struct oauth_provider *p, const char *url, const char *form,
                const char *bearer, struct buf *body)
{
	struct curl_slist *hdrs = NULL;
	struct buf auth = BUF_INIT(8192);
	CURL *c = curl_easy_init();
	long status = 0;
	int rc = -E_OAUTH_PROVIDER_ERROR;

	if (!c)
		goto out;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (bearer) {
		if (buf_printf(&auth, "Authorization: Bearer %s", bearer))
			goto out;
		hdrs = curl_slist_append(hdrs, auth.data);
	}
	if (!hdrs)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 p->connect_timeout_ms ? p->connect_timeout_ms : OAUTH_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->timeout_ms ? p->timeout_ms : OAUTH_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	if (form) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	}
	if (curl_easy_perform(c) != CURLE_OK)
		goto out;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299 || !body->data)
		goto out;
	rc = 0;
out:
	crypto_wipe(auth.data, auth.len);
	buf_release(&auth);
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}

int oauth_login(const struct oauth_provider *p, const char *code, const char *redirect_uri,
                const char *verifier, struct oauth_profile *out)
{
	struct buf form = BUF_INIT(16384), body = BUF_INIT(OAUTH_MAX_RESPONSE);
	char *access = NULL;
	cJSON *tok = NULL;
	int rc;

	rc = buf_puts(&form, "grant_type=authorization_code&");
	if (rc == 0)
		rc = add_param(&form, "client_id", p->client_id);
	if (rc == 0 && p->client_secret && *p->client_secret) {
		rc = buf_putc(&form, '&');
		if (rc == 0)
			rc = add_param(&form, "client_secret", p->client_secret);
	}
	if (rc == 0)
		rc = buf_putc(&form, '&');
	if (rc == 0)
		rc = add_param(&form, "redirect_uri", redirect_uri);
	if (rc == 0)
		rc = buf_putc(&form, '&');
	if (rc == 0)
		rc = add_param(&form, "code", code);
	if (rc == 0 && verifier) {
		rc = buf_putc(&form, '&');
		if (rc == 0)
			rc = add_param(&form, "code_verifier", verifier);
	}
	if (rc) {
		rc = -E_OAUTH_PROVIDER_ERROR;
		goto out;
	}
	rc = call(p, p->token_url, form.data, NULL, &body);
	if (rc)
		goto out;
	tok = cJSON_Parse(body.data);
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(tok, "access_token");
	access = dup_string(at);
	if (!access) {
		rc = -E_OAUTH_PROVIDER_ERROR;
		goto out;
	}
	crypto_wipe(body.data, body.len);
	buf_reset(&body);
	rc = call(p, p->profile_url, NULL, access, &body);
	if (rc == 0)
		rc = oauth_parse_profile(p->kind, body.data, out);
out:
	if (access) {
		crypto_wipe(access, strlen(access));
		free(access);
	}
	cJSON_Delete(tok);
	crypto_wipe(form.data, form.len);
	crypto_wipe(body.data, body.len);
	buf_release(&form);
	buf_release(&body);
	return rc;
}
