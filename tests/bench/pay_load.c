/*
 * pay_load.c: closed-loop load generator for the payments benchmark (issue 4). A bench tool,
 * not part of the build: tests/bench/payments_bench.sh compiles it with
 *   cc -O2 -o var/bench-pay/pay_load tests/bench/pay_load.c \
 *      $(pkg-config --cflags --libs libcurl libcjson) -lpthread
 *
 * N threads, each with its own logged-in user (one token per line of the users file) and its
 * own keep-alive connections, do "purchases" in a loop for D seconds. A purchase is the whole
 * one-time payment chain of API.md §7.1:
 *   1. POST /api/orders (one line)                      -> 201, data.orderId
 *   2. POST /api/payments/{orderId} (ready)             -> 201, data.tid
 *   3. POST <fake>/__control/click {"tid","approve"}    -> 200, location (approval URL + pg_token)
 *   4. GET <location>, Accept: application/json         -> 200 (approve)
 * It counts successes and failures (by step) and records each successful purchase's latency,
 * then prints one line: purchases/s, p50, p99, errors.
 *
 *   pay_load -a API_URL -f FAKE_URL -u USERS_FILE [-t THREADS] [-d SECONDS] [-i NITEMS]
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 1024
#define NSTEPS      4

static const char *const step_names[NSTEPS] = {"order", "ready", "click", "approve"};

static const char *api_url;
static const char *fake_url;
static int nitems = 100;
static double deadline;

struct buf {
	char *p;
	size_t n, cap;
};

struct worker {
	pthread_t th;
	int idx;
	char token[4096];
	CURL *api;
	CURL *fake;
	struct buf body;
	uint64_t *lat_us;
	size_t nlat, caplat;
	uint64_t ok;
	uint64_t err[NSTEPS];
	long last_status[NSTEPS];
	char last_body[NSTEPS][256];
	unsigned seed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* One request on handle h; the body lands in w->body. Returns the HTTP status, or -1. */
static long request(struct worker *w, CURL *h, const char *method, const char *url,
                    const char *json, struct curl_slist *headers)
{
	long status = -1;
	w->body.n = 0;
	if (w->body.p)
		w->body.p[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (json) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	}
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static CURL *new_handle(struct worker *w)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &w->body);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	return h;
}

/* A string or integer at data.<key> of the body, copied into out. */
static int data_field(const char *body, const char *key, char *out, size_t outlen)
{
	int rc = -1;
	cJSON *root = cJSON_Parse(body ? body : "");
	cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), key);
	if (cJSON_IsString(v) && strlen(v->valuestring) < outlen) {
		snprintf(out, outlen, "%s", v->valuestring);
		rc = 0;
	} else if (cJSON_IsNumber(v)) {
		snprintf(out, outlen, "%.0f", v->valuedouble);
		rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}

static int top_field(const char *body, const char *key, char *out, size_t outlen)
{
	int rc = -1;
	cJSON *root = cJSON_Parse(body ? body : "");
	cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	if (cJSON_IsString(v) && strlen(v->valuestring) < outlen) {
		snprintf(out, outlen, "%s", v->valuestring);
		rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}

static void fail(struct worker *w, int step, long status)
{
	w->err[step]++;
	w->last_status[step] = status;
	snprintf(w->last_body[step], sizeof(w->last_body[step]), "%s", w->body.p ? w->body.p : "");
}

/* One purchase; 0 on success, else the step that failed (already counted) + 1. */
static int purchase(struct worker *w, struct curl_slist *api_h, struct curl_slist *json_h,
                    struct curl_slist *approve_h)
{
	char url[2048], body[512], order_id[32], tid[64], location[2048];
	long st;

	snprintf(body, sizeof(body),
	         "{\"city\":\"서울\",\"detailAddress\":\"1번지\",\"realName\":\"벤치\","
	         "\"phoneNumber\":\"010-1234-5678\",\"orderPostDtoList\":[{\"itemId\":%d,"
	         "\"quantity\":%d}]}",
	         1 + (int)(rand_r(&w->seed) % (unsigned)nitems), 1 + (int)(rand_r(&w->seed) % 3));
	snprintf(url, sizeof(url), "%s/api/orders", api_url);
	st = request(w, w->api, "POST", url, body, api_h);
	if (st != 201 || data_field(w->body.p, "orderId", order_id, sizeof(order_id))) {
		fail(w, 0, st);
		return 1;
	}
	snprintf(url, sizeof(url), "%s/api/payments/%s", api_url, order_id);
	st = request(w, w->api, "POST", url, NULL, api_h);
	if (st != 201 || data_field(w->body.p, "tid", tid, sizeof(tid))) {
		fail(w, 1, st);
		return 2;
	}
	snprintf(url, sizeof(url), "%s/__control/click", fake_url);
	snprintf(body, sizeof(body), "{\"tid\":\"%s\",\"action\":\"approve\"}", tid);
	st = request(w, w->fake, "POST", url, body, json_h);
	if (st != 200 || top_field(w->body.p, "location", location, sizeof(location))) {
		fail(w, 2, st);
		return 3;
	}
	st = request(w, w->api, "GET", location, NULL, approve_h);
	if (st != 200) {
		fail(w, 3, st);
		return 4;
	}
	return 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char auth[4200];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w->token);
	struct curl_slist *api_h = curl_slist_append(NULL, auth);
	api_h = curl_slist_append(api_h, "Content-Type: application/json");
	api_h = curl_slist_append(api_h, "Expect:");
	struct curl_slist *json_h = curl_slist_append(NULL, "Content-Type: application/json");
	json_h = curl_slist_append(json_h, "Expect:");
	struct curl_slist *approve_h = curl_slist_append(NULL, "Accept: application/json");

	while (now_s() < deadline) {
		double t0 = now_s();
		if (purchase(w, api_h, json_h, approve_h) != 0)
			continue;
		double t1 = now_s();
		if (t1 > deadline + 0.5)
			break; /* a purchase straddling the end is not counted */
		if (w->nlat == w->caplat) {
			size_t cap = w->caplat ? w->caplat * 2 : 4096;
			uint64_t *p = realloc(w->lat_us, cap * sizeof(*p));
			if (!p)
				break;
			w->lat_us = p;
			w->caplat = cap;
		}
		w->lat_us[w->nlat++] = (uint64_t)((t1 - t0) * 1e6);
		w->ok++;
	}
	curl_slist_free_all(api_h);
	curl_slist_free_all(json_h);
	curl_slist_free_all(approve_h);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1000.0;
}

static void usage(void)
{
	fprintf(stderr, "usage: pay_load -a API_URL -f FAKE_URL -u USERS_FILE [-t THREADS] "
	                "[-d SECONDS] [-i NITEMS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *users_file = NULL;
	int nthreads = 16, secs = 10, opt, rc = 1;
	while ((opt = getopt(argc, argv, "a:f:u:t:d:i:")) != -1) {
		switch (opt) {
		case 'a':
			api_url = optarg;
			break;
		case 'f':
			fake_url = optarg;
			break;
		case 'u':
			users_file = optarg;
			break;
		case 't':
			nthreads = (int)strtol(optarg, NULL, 10);
			break;
		case 'd':
			secs = (int)strtol(optarg, NULL, 10);
			break;
		case 'i':
			nitems = (int)strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (!api_url || !fake_url || !users_file || nthreads < 1 || nthreads > MAX_THREADS ||
	    secs < 1 || nitems < 1)
		usage();

	FILE *f = fopen(users_file, "r");
	if (!f) {
		fprintf(stderr, "pay_load: %s: %s\n", users_file, strerror(errno));
		return 1;
	}
	struct worker *ws = calloc((size_t)nthreads, sizeof(*ws));
	if (!ws) {
		fclose(f);
		return 1;
	}
	char line[4096];
	int nusers = 0;
	while (nusers < nthreads && fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \r\n")] = '\0';
		if (line[0])
			snprintf(ws[nusers++].token, sizeof(ws[0].token), "%s", line);
	}
	fclose(f);
	if (nusers < nthreads) {
		fprintf(stderr, "pay_load: %d threads need %d users, %s has %d\n", nthreads,
		        nthreads, users_file, nusers);
		goto out;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < nthreads; i++) {
		ws[i].idx = i;
		ws[i].seed = 0x9e3779b9u * (unsigned)(i + 1);
		ws[i].api = new_handle(&ws[i]);
		ws[i].fake = new_handle(&ws[i]);
		if (!ws[i].api || !ws[i].fake)
			goto out;
	}
	double t0 = now_s();
	deadline = t0 + secs;
	int started = 0;
	for (; started < nthreads; started++)
		if (pthread_create(&ws[started].th, NULL, run, &ws[started]))
			break;
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].th, NULL);
	double elapsed = now_s() - t0;

	size_t n = 0;
	uint64_t ok = 0, errs[NSTEPS] = {0}, errs_total = 0;
	for (int i = 0; i < nthreads; i++) {
		n += ws[i].nlat;
		ok += ws[i].ok;
		for (int s = 0; s < NSTEPS; s++)
			errs[s] += ws[i].err[s];
	}
	uint64_t *all = malloc((n ? n : 1) * sizeof(*all));
	if (!all)
		goto out;
	size_t k = 0;
	for (int i = 0; i < nthreads; i++) {
		memcpy(all + k, ws[i].lat_us, ws[i].nlat * sizeof(*all));
		k += ws[i].nlat;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	for (int s = 0; s < NSTEPS; s++)
		errs_total += errs[s];
	printf("purchases %" PRIu64 " in %.1fs  %.1f purchases/s  p50 %.2fms  p99 %.2fms  "
	       "max %.2fms  errors %" PRIu64 " (order %" PRIu64 ", ready %" PRIu64
	       ", click %" PRIu64 ", approve %" PRIu64 ")\n",
	       ok, elapsed, (double)ok / elapsed, pct_ms(all, n, 0.50), pct_ms(all, n, 0.99),
	       n ? (double)all[n - 1] / 1000.0 : 0.0, errs_total, errs[0], errs[1], errs[2],
	       errs[3]);
	for (int s = 0; s < NSTEPS; s++)
		for (int i = 0; i < nthreads; i++)
			if (ws[i].err[s]) {
				fprintf(stderr, "  last %s error: HTTP %ld %s\n", step_names[s],
				        ws[i].last_status[s], ws[i].last_body[s]);
				break;
			}
	free(all);
	rc = 0;
out:
	for (int i = 0; i < nthreads; i++) {
		if (ws[i].api)
			curl_easy_cleanup(ws[i].api);
		if (ws[i].fake)
			curl_easy_cleanup(ws[i].fake);
		free(ws[i].body.p);
		free(ws[i].lat_us);
	}
	free(ws);
	curl_global_cleanup();
	return rc;
}
