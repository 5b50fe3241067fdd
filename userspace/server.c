// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <zlib.h>

#include "server.h"
#include "push.h"
#include "cli.h"
#include "collector.h"
#include "expo.h"
#include "report.h"
#include "webconfig.h"

#define MAX_CONNECTIONS	   256
#define CONNECTION_TIMEOUT 10		 /* s without progress: slow clients are dropped */
#define CONNECTION_MEMORY  (64 * 1024)	 /* bounds a request's line and headers */
#define AUTH_CACHE	   8
#define TRIM_AFTER	   (1u << 20) /* body size after which freed memory goes back */

struct auth_entry {
	char *user, *password;
};

struct lp_server {
	const struct lp_config *cfg;
	struct lp_collector *coll;
	const struct lp_webconfig *wc;
	struct MHD_Daemon *daemons[LP_MAX_LISTEN];
	unsigned ndaemons;
	/* self metrics, updated by the HTTP threads */
	unsigned long long scrapes, http_errors;
	unsigned long long scrape_failures; /* bodies that could not be built: 500 */
	double last_scrape_s;
	pthread_mutex_t lock; /* the auth cache and last_scrape_s */
	struct auth_entry auth[AUTH_CACHE];
	unsigned auth_next;
	struct lp_pushers *push; /* NULL without push sinks */
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct lp_server *s = cls;

	if (!s->cfg->verbose)
		return;
	fprintf(stderr, "latprobe: http: ");
	vfprintf(stderr, fmt, ap);
}

static enum MHD_Result respond(struct lp_server *s, struct MHD_Connection *c, unsigned status,
			       const char *type, char *body, size_t len, bool must_free)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body,
					    must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
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

static enum MHD_Result text(struct lp_server *s, struct MHD_Connection *c, unsigned status,
			    const char *msg)
{
	return respond(s, c, status, "text/plain; charset=utf-8", (char *)msg, strlen(msg), false);
}

/* bcrypt costs tens of ms: remember credentials that passed */
static bool authorized(struct lp_server *s, struct MHD_Connection *c)
{
	char *pass = NULL, *user;
	bool ok = false;
	unsigned i;

	if (!s->wc || !s->wc->nusers)
		return true;
	user = MHD_basic_auth_get_username_password(c, &pass);
	if (!user || !pass)
		goto out;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < AUTH_CACHE && !ok; i++)
		ok = s->auth[i].user && !strcmp(s->auth[i].user, user) &&
		     !strcmp(s->auth[i].password, pass);
	pthread_mutex_unlock(&s->lock);
	if (ok)
		goto out;
	ok = lp_webconfig_check(s->wc, user, pass);
	if (ok) {
		struct auth_entry *e;

		pthread_mutex_lock(&s->lock);
		e = &s->auth[s->auth_next++ % AUTH_CACHE];
		free(e->user);
		free(e->password);
		e->user = strdup(user);
		e->password = strdup(pass);
		if (!e->user || !e->password) {
			free(e->user);
			free(e->password);
			e->user = e->password = NULL;
		}
		pthread_mutex_unlock(&s->lock);
	}
out:
	if (user)
		MHD_free(user);
	if (pass)
		MHD_free(pass);
	return ok;
}

static int gzip_buf(const struct lp_buf *in, struct lp_buf *out)
{
	z_stream z = { 0 };
	int r;

	if (deflateInit2(&z, 5, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	lp_buf_reserve(out, deflateBound(&z, in->len));
	if (out->oom) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)(out->cap - 1);
	r = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -EIO;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum MHD_Result metrics(struct lp_server *s, struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT_ENCODING);
	const char *hist = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "histograms");
	enum lp_format fmt = lp_accept_format(accept);
	struct lp_model *m = lp_collector__model(s->coll);
	struct lp_buf body = { 0 }, gz = { 0 };
	struct lp_push_stat push_stats[LP_MAX_PUSH];
	struct lp_self self = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	double t0 = mono();
	bool gzip = lp_accept_gzip(ae);
	size_t raw_len;
	int e;

	lp_self_read(&self);
	self.max_series = s->cfg->max_series;
	self.push = push_stats;
	self.npush = lp_pushers__stats(s->push, push_stats, LP_MAX_PUSH);
	self.scrapes = __atomic_add_fetch(&s->scrapes, 1, __ATOMIC_RELAXED);
	self.http_errors = __atomic_load_n(&s->http_errors, __ATOMIC_RELAXED);
	self.scrape_failures = __atomic_load_n(&s->scrape_failures, __ATOMIC_RELAXED);
	pthread_mutex_lock(&s->lock);
	self.last_scrape_s = s->last_scrape_s;
	pthread_mutex_unlock(&s->lock);
	/* ?histograms=classic: leave the native histogram out of protobuf */
	e = lp_expo_write(&body, fmt, m, &self, !(hist && !strcmp(hist, "classic")));
	lp_model_put(m);
	raw_len = body.len;
	if (!e && gzip) {
		e = gzip_buf(&body, &gz);
		lp_buf_free(&body);
		body = gz;
	}
	if (e) {
		/* never a truncated body with 200: the scraper keeps its last good one */
		lp_buf_free(&body);
		__atomic_add_fetch(&s->scrape_failures, 1, __ATOMIC_RELAXED);
		return text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	/*
	 * Building a large body (protobuf above all) leaves megabytes of freed
	 * small blocks in this thread's arena, which glibc keeps: ~20 MB at
	 * 10 000 series. Hand them back (the body itself is its own mapping);
	 * judged on the size before gzip, which shrinks a protobuf body below 1 MB.
	 */
	if (raw_len > TRIM_AFTER)
		malloc_trim(0);
	r = MHD_create_response_from_buffer(body.len, body.data ? body.data : (char *)"",
					    body.data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		lp_buf_free(&body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, lp_format_content_type(fmt));
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	pthread_mutex_lock(&s->lock);
	s->last_scrape_s = mono() - t0;
	pthread_mutex_unlock(&s->lock);
	return ret;
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
	"<li><a href=\"/-/healthy\">/-/healthy</a> and <a href=\"/-/ready\">/-/ready</a></li>\n"
	"</ul></body></html>\n";

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct lp_server *s = cls;
	struct lp_model *m;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		*upload_data_size = 0;
		return text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	}
	if (!authorized(s, c)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (!r)
			return MHD_NO;
		__atomic_add_fetch(&s->http_errors, 1, __ATOMIC_RELAXED);
		ret = MHD_queue_basic_auth_fail_response(c, "latprobe", r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strcmp(url, "/metrics"))
		return metrics(s, c);
	if (!strcmp(url, "/"))
		return respond(s, c, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)landing,
			       sizeof(landing) - 1, false);
	if (!strcmp(url, "/-/healthy"))
		return text(s, c, MHD_HTTP_OK, "OK\n");
	if (!strcmp(url, "/-/ready")) {
		m = lp_collector__model(s->coll);
		lp_model_put(m);
		return m ? text(s, c, MHD_HTTP_OK, "OK\n") :
			   text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready: no collection yet\n");
	}
	if (!strcmp(url, "/api/v1/series")) {
		char *doc;

		m = lp_collector__model(s->coll);
		if (!m)
			return text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "not ready: no collection yet\n");
		doc = lp_report_json_string(m);
		lp_model_put(m);
		if (!doc) {
			__atomic_add_fetch(&s->scrape_failures, 1, __ATOMIC_RELAXED);
			return text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		}
		return respond(s, c, MHD_HTTP_OK, "application/json", doc, strlen(doc), true);
	}
	return text(s, c, MHD_HTTP_NOT_FOUND, "not found\n");
}

int lp_server__start(struct lp_server **out, const struct lp_config *cfg,
		     struct lp_collector *coll, const struct lp_webconfig *wc,
		     struct lp_pushers *push, char *err, size_t errlen)
{
	struct lp_server *s = calloc(1, sizeof(*s));
	bool tls = wc && wc->cert_pem;
	unsigned i;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->coll = coll;
	s->push = push;
	s->wc = wc;
	pthread_mutex_init(&s->lock, NULL);
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "--web-config: this libmicrohttpd has no TLS support");
		lp_server__stop(s);
		return -ENOTSUP;
	}
	for (i = 0; i < cfg->nlisten; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen[i];
		unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				 MHD_USE_ERROR_LOG;
		char addr[64];

		if (sa->sa_family == AF_INET6)
			flags |= MHD_USE_IPv6 | MHD_USE_DUAL_STACK;
		if (tls)
			flags |= MHD_USE_TLS;
		s->daemons[i] = MHD_start_daemon(
			flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, sa,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
			MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
			tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, tls ? wc->key_pem : NULL,
			MHD_OPTION_HTTPS_MEM_CERT, tls ? wc->cert_pem : NULL, MHD_OPTION_END);
		if (!s->daemons[i]) {
			int e = errno ? errno : EADDRINUSE;

			if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
					  sizeof(addr));
			else
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr,
					  sizeof(addr));
			snprintf(err, errlen, "failed to listen on %s port %u: %s%s", addr,
				 ntohs(((const struct sockaddr_in *)sa)->sin_port), strerror(e),
				 tls ? " (or the TLS certificate and key were refused)" : "");
			lp_server__stop(s);
			return -e;
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
	for (i = 0; i < LP_MAX_LISTEN; i++)
		if (s->daemons[i])
			MHD_stop_daemon(s->daemons[i]);
	for (i = 0; i < AUTH_CACHE; i++) {
		free(s->auth[i].user);
		free(s->auth[i].password);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}
