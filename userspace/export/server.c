// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HTTP endpoint: libmicrohttpd daemons on the --listen addresses,
 * request routing (/metrics in scrape.c, the JSON API, health, the landing
 * page), TLS and basic auth from the web config, the slow-client guard
 * (guard.c) started beside them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <zlib.h>

#include "base/util.h"
#include "export/server.h"
#include "export/auth.h"
#include "base/config.h"
#include "base/names.h"
#include "core/collector.h"
#include "export/expo.h"
#include "export/self.h"
#include "export/negotiate.h"
#include "export/report.h"
#include "export/webconfig.h"
#include "export/server_int.h"

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct lp_server *s = cls;

	if (!s->cfg->verbose)
		return;
	fprintf(stderr, "latprobe: http: ");
	vfprintf(stderr, fmt, ap);
}

enum MHD_Result lp_srv_respond(struct lp_server *s, struct MHD_Connection *c, unsigned status,
			       const char *type, char *body, size_t len, bool must_free)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(
		len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	if (type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status >= 400)
		__atomic_add_fetch(&s->http_errors, 1, __ATOMIC_RELAXED);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result lp_srv_text(struct lp_server *s, struct MHD_Connection *c, unsigned status,
			    const char *msg)
{
	return lp_srv_respond(s, c, status, "text/plain; charset=utf-8", (char *)msg, strlen(msg), false);
}

static const char landing[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>latprobe</title></head>\n"
	"<body><h1>latprobe</h1>\n"
	"<p>HTTP request latency of the services on this node, measured in the kernel.</p>\n"
	"<ul>\n"
	"<li><a href=\"/metrics\">/metrics</a> Prometheus text; OpenMetrics, protobuf and gzip "
	"by content negotiation</li>\n"
	"<li><a href=\"/api/v1/series\">/api/v1/series</a> every series as JSON: totals, window "
	"quantiles, SLO state</li>\n"
	"<li><a href=\"/api/v1/slos\">/api/v1/slos</a> only the SLOs, per window</li>\n"
	"<li><a href=\"/-/healthy\">/-/healthy</a> and <a href=\"/-/ready\">/-/ready</a></li>\n"
	"</ul></body></html>\n";

/*
 * What the TLS library cannot refuse in the handshake: a client
 * certificate required by client_auth_type, and (with cipher_suites) a
 * TLS 1.2 suite made of listed parts but not listed itself. NULL: fine;
 * else why not.
 */
static const char *tls_refusal(const struct lp_webconfig *wc, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
	unsigned status = 0, npeers = 0;
	bool given;

	if (!tls)
		return "no TLS session";
	if (gnutls_protocol_get_version(tls) != GNUTLS_TLS1_3 &&
	    !lp_webconfig_suite_allowed(wc, gnutls_ciphersuite_get(tls)))
		return "cipher suite not allowed\n";
	given = gnutls_certificate_get_peers(tls, &npeers) && npeers;
	switch (wc->client_auth) {
	case LP_CLIENT_NONE:
	case LP_CLIENT_REQUEST:
		return NULL;
	case LP_CLIENT_REQUIRE_ANY:
		return given ? NULL : "client certificate required\n";
	case LP_CLIENT_VERIFY_IF_GIVEN:
	case LP_CLIENT_REQUIRE_VERIFY:
		if (!given)
			return wc->client_auth == LP_CLIENT_REQUIRE_VERIFY
				       ? "client certificate required\n"
				       : NULL;
		/* against client_ca_file, which libmicrohttpd gave the session as its trust */
		if (gnutls_certificate_verify_peers2(tls, &status) || status)
			return "client certificate not trusted\n";
		return NULL;
	}
	return "client certificate required\n";
}

/* the hashing thread's answer: wake the request up */
static void auth_done(void *ctx, bool ok)
{
	struct req *r = ctx;

	__atomic_store_n(&r->auth, ok ? LP_AUTH_OK : LP_AUTH_DENIED, __ATOMIC_RELEASE);
	MHD_resume_connection(r->c);
}

static enum MHD_Result refuse_auth(struct lp_server *s, struct MHD_Connection *c, int verdict)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (verdict == LP_AUTH_LIMITED || verdict == LP_AUTH_BUSY) {
		static const char limited[] =
			"too many failed logins from this address; retry later\n",
				  busy[] = "busy checking passwords; retry shortly\n";
		const char *msg = verdict == LP_AUTH_LIMITED ? limited : busy;

		r = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
					verdict == LP_AUTH_LIMITED ? "60" : "1");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; charset=utf-8");
		__atomic_add_fetch(&s->http_errors, 1, __ATOMIC_RELAXED);
		ret = MHD_queue_response(c,
					 verdict == LP_AUTH_LIMITED ? MHD_HTTP_TOO_MANY_REQUESTS
								    : MHD_HTTP_SERVICE_UNAVAILABLE,
					 r);
		MHD_destroy_response(r);
		return ret;
	}
	r = MHD_create_response_from_buffer(13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	__atomic_add_fetch(&s->http_errors, 1, __ATOMIC_RELAXED);
	ret = MHD_queue_basic_auth_fail_response(c, "latprobe", r);
	MHD_destroy_response(r);
	return ret;
}

/* LP_AUTH_OK, a refusal, or -1: suspended until the hashing thread answers */
static int auth_start(struct lp_server *s, struct MHD_Connection *c, struct req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
	enum lp_auth_verdict v;

	r->c = c;
	v = lp_auth__check(s->auth, user, pass, ci ? ci->client_addr : NULL);
	if (v == LP_AUTH_PENDING) {
		/* suspended before it is queued: the answer may come at once */
		r->auth = -1;
		MHD_suspend_connection(c);
		v = lp_auth__queue(s->auth, user, pass, ci ? ci->client_addr : NULL, auth_done, r);
		if (v != LP_AUTH_PENDING)
			MHD_resume_connection(c);
	}
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	if (v == LP_AUTH_PENDING)
		return -1;
	r->auth = (int)v;
	return (int)v;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct lp_server *s = ((struct listener *)cls)->s;

	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
	lp_srv_conn_busy(s, c, false);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct lp_server *s = ((struct listener *)cls)->s;
	struct req *r = *con_cls;
	struct lp_model *m;
	const char *why;
	int verdict;

	(void)version;
	(void)upload_data;
	if (!r) { /* the head is whole: the first call */
		lp_srv_conn_busy(s, c, true);
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->auth = LP_AUTH_OK;
		if (s->auth && auth_start(s, c, r) < 0)
			return MHD_YES; /* suspended; called again once resumed */
	} else if (__atomic_load_n(&r->auth, __ATOMIC_ACQUIRE) < 0) {
		return MHD_YES; /* not answered yet (a call before the suspension took) */
	}
	*upload_data_size = 0;
	if (s->wc && s->wc->cert_pem && (why = tls_refusal(s->wc, c)))
		return lp_srv_text(s, c, MHD_HTTP_FORBIDDEN, why);
	verdict = __atomic_load_n(&r->auth, __ATOMIC_ACQUIRE);
	if (verdict != LP_AUTH_OK)
		return refuse_auth(s, c, verdict);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return lp_srv_text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (!strcmp(url, "/metrics"))
		return lp_srv_metrics(s, c);
	if (!strcmp(url, "/"))
		return lp_srv_respond(s, c, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)landing,
			       sizeof(landing) - 1, false);
	if (!strcmp(url, "/-/healthy"))
		return lp_srv_text(s, c, MHD_HTTP_OK, "OK\n");
	if (!strcmp(url, "/-/ready")) {
		m = lp_collector__model(s->coll);
		lp_model_put(m);
		return m ? lp_srv_text(s, c, MHD_HTTP_OK, "OK\n")
			 : lp_srv_text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				"not ready: no collection yet\n");
	}
	if (!strcmp(url, "/api/v1/series") || !strcmp(url, "/api/v1/slos")) {
		char *doc;

		m = lp_collector__model(s->coll);
		if (!m)
			return lp_srv_text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "not ready: no collection yet\n");
		doc = !strcmp(url, "/api/v1/series") ? lp_report_json_string(m)
						     : lp_report_slos_json_string(m);
		lp_model_put(m);
		if (!doc) {
			__atomic_add_fetch(&s->scrape_failures, 1, __ATOMIC_RELAXED);
			return lp_srv_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		}
		return lp_srv_respond(s, c, MHD_HTTP_OK, "application/json", doc, strlen(doc), true);
	}
	return lp_srv_text(s, c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* the daemon of --listen address i; -errno with err set */
static int start_daemon(struct lp_server *s, unsigned i, char *err, size_t errlen)
{
	const struct lp_webconfig *wc = s->wc;
	bool tls = wc && wc->cert_pem, mtls = tls && wc->client_ca_pem;
	const struct sockaddr *sa = (const struct sockaddr *)&s->cfg->listen[i];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	struct listener *l = &s->listeners[i];
	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, tls ? wc->key_pem : NULL},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, tls ? wc->cert_pem : NULL},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, tls ? (void *)wc->priorities : NULL},
		/* with a trust, the library asks clients for a certificate */
		{mtls ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, mtls ? wc->client_ca_pem : NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	char addr[64];
	int e;

	l->s = s;
	l->index = i;
	if (sa->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6 | MHD_USE_DUAL_STACK;
	if (tls)
		flags |= MHD_USE_TLS;
	s->daemons[i] = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, l, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)PER_IP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONNECTION_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_CONNECTION, lp_srv_on_connection, l,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, tls ? MHD_OPTION_ARRAY : MHD_OPTION_END,
		tls_opts, MHD_OPTION_END);
	if (s->daemons[i])
		return 0;
	e = errno ? errno : EADDRINUSE;
	if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof(addr));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
	snprintf(err, errlen, "failed to listen on %s port %u: %s%s", addr,
		 ntohs(((const struct sockaddr_in *)sa)->sin_port), strerror(e),
		 tls ? " (or the TLS certificate, key, client CA or TLS settings were refused)" : "");
	return -e;
}

int lp_server__start(struct lp_server **out, const struct lp_config *cfg, struct lp_collector *coll,
		     const struct lp_webconfig *wc,
		     unsigned (*push_stats)(void *ctx, struct lp_push_stat *out, unsigned max),
		     void *push_ctx, char *err, size_t errlen)
{
	struct lp_server *s = calloc(1, sizeof(*s));
	bool tls = wc && wc->cert_pem;
	unsigned i;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->coll = coll;
	s->push_stats = push_stats;
	s->push_ctx = push_ctx;
	s->wc = wc;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	pthread_mutex_init(&s->guard_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->guard_wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "--web-config: this libmicrohttpd has no TLS support");
		lp_server__stop(s);
		return -ENOTSUP;
	}
	if (wc && wc->nusers && !(s->auth = lp_auth__new(wc))) {
		snprintf(err, errlen, "cannot start the password checker");
		lp_server__stop(s);
		return -ENOMEM;
	}
	if (pthread_create(&s->guard, NULL, lp_srv_guard_main, s)) {
		snprintf(err, errlen, "cannot start the connection guard");
		lp_server__stop(s);
		return -EAGAIN;
	}
	s->guard_started = true;
	for (i = 0; i < cfg->nlisten; i++) {
		int e = start_daemon(s, i, err, errlen);

		if (e) {
			lp_server__stop(s);
			return e;
		}
		s->ndaemons++;
	}
	*out = s;
	return 0;
}

void lp_server__stop(struct lp_server *s)
{
	unsigned i;

	if (!s)
		return;
	/* the checks still queued are answered (refused) and their requests resumed
	 * first: libmicrohttpd must not stop with a connection suspended */
	lp_auth__stop(s->auth);
	for (i = 0; i < LP_MAX_LISTEN; i++)
		if (s->daemons[i])
			MHD_stop_daemon(s->daemons[i]);
	if (s->guard_started) {
		pthread_mutex_lock(&s->guard_lock);
		s->guard_stop = true;
		pthread_cond_signal(&s->guard_wake);
		pthread_mutex_unlock(&s->guard_lock);
		pthread_join(s->guard, NULL);
	}
	lp_auth__free(s->auth);
	pthread_cond_destroy(&s->guard_wake);
	pthread_mutex_destroy(&s->guard_lock);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->cache_lock);
	for (i = 0; i < sizeof(s->cache) / sizeof(s->cache[0]); i++) {
		lp_buf_free(&s->cache[i].z);
		lp_model_put(s->cache[i].model);
	}
	free(s);
}
