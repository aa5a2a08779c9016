/*
 * fake-kakaopay: the fake Kakao Pay gateway for tests, benchmarks and the demo (KAKAOPAY.md §4).
 *
 * One process, one libevent loop, plain HTTP/1.1 on the PV_FAKEPAY_LISTEN address, all state
 * in memory. The first stdout line is "LISTEN http://<host>:<port>" (port 0 picks a free one);
 * then one NDJSON log line per API request. SIGTERM or SIGINT ends the loop; everything is
 * freed and the exit status is 0.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "common/log.h"
#include "tests/fakes/kakaopay/fake_faults.h"
#include "tests/fakes/kakaopay/fake_http.h"
#include "tests/fakes/kakaopay/fake_store.h"
#include "common/banned.h"

#define LISTEN_BACKLOG 8192
#define HEADERS_MAX    (16 * 1024)
#define BODY_HARD_MAX  (1024 * 1024)

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("stopping", "signal:i", (long long)sig);
	event_base_loopexit(arg, NULL);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	log_info("nofile", "soft:u", (unsigned long long)rl.rlim_cur, "hard:u",
	         (unsigned long long)rl.rlim_max);
}

static struct evconnlistener *listen_on(struct event_base *base, int *port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	struct evconnlistener *l;
	const char *host = fstore.cfg.listen_host;
	char h6[64];
	size_t hl = strlen(host);

	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
	              &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)fstore.cfg.listen_port);
		len = sizeof(*a4);
	} else {
		if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof(h6)) {
			memcpy(h6, host + 1, hl - 2);
			h6[hl - 2] = '\0';
			host = h6;
		}
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return NULL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)fstore.cfg.listen_port);
		len = sizeof(*a6);
	}
	l = evconnlistener_new_bind(
	    base, NULL, NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)len);
	if (!l)
		return NULL;
	len = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len) == 0)
		*port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
	return l;
}

int main(void)
{
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct evconnlistener *l = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	char err[256];
	int port = 0, rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (fstore_config_from_env(err, sizeof(err)) || fstore_init()) {
		fprintf(stderr, "fake-kakaopay: %s\n", err);
		return 2;
	}
	if (fstore.cfg.faults_file[0] &&
	    ffault_load_file(fstore.cfg.faults_file, err, sizeof(err))) {
		fprintf(stderr, "fake-kakaopay: %s: %s\n", fstore.cfg.faults_file, err);
		goto out;
	}
	base = event_base_new();
	http = base ? evhttp_new(base) : NULL;
	if (!http) {
		fprintf(stderr, "fake-kakaopay: libevent setup failed\n");
		goto out;
	}
	l = listen_on(base, &port);
	if (!l || !evhttp_bind_listener(http, l)) {
		fprintf(stderr, "fake-kakaopay: cannot listen on %s:%d\n", fstore.cfg.listen_host,
		        fstore.cfg.listen_port);
		if (l)
			evconnlistener_free(l);
		goto out;
	}
	fstore.cfg.listen_port = port;
	if (!fstore.cfg.public_url[0])
		snprintf(fstore.cfg.public_url, sizeof(fstore.cfg.public_url), "http://%s:%d",
		         fstore.cfg.listen_host, port);
	evhttp_set_max_headers_size(http, HEADERS_MAX);
	evhttp_set_max_body_size(http, BODY_HARD_MAX);
	evhttp_set_timeout(http, 130);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                                     EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	                                     EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	fhttp_init(base, http);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL)) {
		fprintf(stderr, "fake-kakaopay: signal setup failed\n");
		goto out;
	}
	printf("LISTEN http://%s:%d\n", fstore.cfg.listen_host, port);
	fflush(stdout);
	log_init("fake-kakaopay", LOG_INFO, 1);
	raise_nofile();
	log_info("started", "listen:s", fstore.cfg.listen_host, "port:i", (long long)port,
	         "public_url", fstore.cfg.public_url, "seed:u", (unsigned long long)fstore.cfg.seed,
	         "ttl_s:i", (long long)fstore.cfg.ttl_s);
	event_base_dispatch(base);
	rc = 0;
	log_info("stopped");
out:
	fhttp_shutdown();
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	ffault_delete(-1);
	fstore_release();
	libevent_global_shutdown();
	return rc;
}
