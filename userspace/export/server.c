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

#define MAX_CONNECTIONS	   256
#define PER_IP_CONNECTIONS 32	     /* one address cannot take the endpoint */
#define CONNECTION_TIMEOUT 10	     /* s without progress: slow clients are dropped */
#define HEAD_DEADLINE_NS   (10 * NS) /* a request head must be whole by then, in all */
#define EVICT_AT	   (MAX_CONNECTIONS * 3 / 4) /* connections: make room from here */
#define EVICT_TO	   (MAX_CONNECTIONS / 2)
#define EVICT_AGE_NS	   NS /* only heads slower than this are evicted */
#define SWEEP_NS	   (100 * 1000 * 1000ULL)
#define CONNECTION_MEMORY  (64 * 1024) /* bounds a request's line and headers */
#define TRIM_AFTER	   (1u << 20)  /* body size after which freed memory goes back */
#define NS		   1000000000ULL

/*
 * Every open connection, for the slow-client guard. libmicrohttpd's own
 * timeout restarts at every byte, so a client sending a byte every few
 * seconds holds a connection for ever, and 256 of them hold the endpoint.
 * The guard gives a request head a deadline in all (from the connection's
 * start, or from the end of the previous response on a kept-alive one), and
 * when connections run short it closes the heads that are slowest to
 * arrive, oldest first, so a scrape finds room. It closes by shutdown(2):
 * libmicrohttpd sees the end of the stream and cleans up in its own thread.
 * The fd stays valid meanwhile: libmicrohttpd tells us of the close (under
 * the guard's lock) before it closes the fd.
 */
struct conn {
	struct conn *prev, *next;
	int fd;
	unsigned listener;
	__u64 since; /* waiting for a request head since */
	bool busy;   /* a request is being answered */
	bool closing;
};

struct listener {
	struct lp_server *s;
	unsigned index;
	unsigned live; /* open connections not being closed by the guard */
};

/* per request: libmicrohttpd's con_cls */
struct req {
	struct MHD_Connection *c;
	int auth; /* enum lp_auth_verdict once known; -1 while pending */
};

struct lp_server {
	const struct lp_config *cfg;
	struct lp_collector *coll;
	const struct lp_webconfig *wc;
	struct MHD_Daemon *daemons[LP_MAX_LISTEN];
	struct listener listeners[LP_MAX_LISTEN];
	unsigned ndaemons;
	/* self metrics, updated by the HTTP threads */
	unsigned long long scrapes, http_errors;
	unsigned long long scrape_failures; /* bodies that could not be built: 500 */
	double last_scrape_s;
	pthread_mutex_t lock; /* last_scrape_s */
	struct lp_auth *auth; /* NULL without basic_auth_users */
	/* the push sinks' figures for the self metrics (NULL: no sinks); the
	 * sinks are a layer above, so they are asked through this callback */
	unsigned (*push_stats)(void *ctx, struct lp_push_stat *out, unsigned max);
	void *push_ctx;
	/* the slow-client guard */
	pthread_mutex_t guard_lock;
	pthread_cond_t guard_wake;
	pthread_t guard;
	bool guard_started, guard_stop;
	struct conn *conns;
	unsigned long long slow_closed;
	/*
	 * The series part of recent gzip scrapes (struct zpart), per collection
	 * and variant: scrapes of one collection (HA Prometheus pairs, several
	 * scrapers) build and compress it once, and so do the collections after
	 * it that would give the same part (lp_expo_series_part_same: an idle
	 * node). cache_lock is held while one is built, so concurrent scrapes
	 * wait for it instead of building it again.
	 */
	pthread_mutex_t cache_lock;
	struct zpart {
		__u64 seq;		/* the model's collection; 0: empty slot */
		struct lp_model *model; /* that model (a reference: its views stay whole) */
		unsigned variant;	/* format and options */
		struct lp_buf z;	/* gzip header and deflate blocks, flushed to a byte */
		uLong crc;		/* CRC-32 of the uncompressed part */
		size_t len;		/* its uncompressed length */
	} cache[4];
	unsigned cache_next;
	/*
	 * The uncompressed series part of the scrapes being sent now, per
	 * collection and variant: a scrape that comes while another of the same
	 * collection is still being sent shares its part instead of building it
	 * again. Held only while sent (a 39 MB text body at 10 000 series is not
	 * kept for the next scrape: that is what the gzip cache is for).
	 */
	struct rawpart {
		int refs; /* the responses sending it; the slot holds no reference */
		__u64 seq;
		struct lp_model *model; /* a reference, as in struct zpart */
		unsigned variant;
		unsigned slot;
		struct lp_server *s;
		struct lp_buf b;
	} * raw[4];
	unsigned raw_next;
	unsigned long long cache_hits;
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

static enum MHD_Result text(struct lp_server *s, struct MHD_Connection *c, unsigned status,
			    const char *msg)
{
	return respond(s, c, status, "text/plain; charset=utf-8", (char *)msg, strlen(msg), false);
}

static int gzip_buf(const struct lp_buf *in, struct lp_buf *out)
{
	z_stream z = {0};
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

/*
 * A gzip body in two parts that are compressed apart: the series part once
 * per collection, the agent's own metrics at every scrape. The first part
 * is a gzip header and deflate blocks ending in a full flush (byte-aligned,
 * no back-reference across it); the second, raw deflate blocks ending in the
 * final one; then the gzip trailer over both (crc32_combine). One gzip
 * member: what any gzip reader reads.
 */
static int gzip_head(const struct lp_buf *in, struct zpart *zp)
{
	z_stream z = {0};
	int r;

	if (deflateInit2(&z, 5, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	zp->z.len = 0;
	lp_buf_reserve(&zp->z, deflateBound(&z, in->len) + 64);
	if (zp->z.oom) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)zp->z.data;
	z.avail_out = (uInt)(zp->z.cap - 1);
	r = deflate(&z, Z_FULL_FLUSH);
	zp->z.len = z.total_out;
	deflateEnd(&z);
	zp->crc = crc32(0L, (const Bytef *)in->data, (uInt)in->len);
	zp->len = in->len;
	return r == Z_OK && !z.avail_in ? 0 : -EIO;
}

static int gzip_tail(const struct lp_buf *in, const struct zpart *zp, struct lp_buf *out)
{
	z_stream z = {0};
	uLong crc = crc32_combine(zp->crc, crc32(0L, (const Bytef *)in->data, (uInt)in->len),
				  (z_off_t)in->len);
	size_t total = zp->len + in->len;
	unsigned char trailer[8];
	int r, i;

	if (deflateInit2(&z, 5, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	lp_buf_reserve(out, deflateBound(&z, in->len) + 16);
	if (out->oom) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = (Bytef *)out->data + out->len;
	z.avail_out = (uInt)(out->cap - out->len - 1);
	r = deflate(&z, Z_FINISH);
	out->len += z.total_out;
	deflateEnd(&z);
	if (r != Z_STREAM_END)
		return -EIO;
	for (i = 0; i < 4; i++) {
		trailer[i] = (unsigned char)(crc >> (8 * i));
		trailer[4 + i] = (unsigned char)(total >> (8 * i));
	}
	lp_buf_add(out, (const char *)trailer, sizeof(trailer));
	return lp_buf_ok(out) ? 0 : -ENOMEM;
}

/*
 * Does a series part built for collection seq (its model pm) in variant pv
 * serve a scrape of m in variant v? (seq 0: an empty slot.)
 */
static bool part_fits(__u64 seq, const struct lp_model *pm, unsigned pv, const struct lp_model *m,
		      unsigned v)
{
	return seq && pv == v && (seq == m->seq || lp_expo_series_part_same(pm, m));
}

/*
 * The gzip body of a scrape: the series part from the cache, or built and
 * compressed (and kept), then the agent's own part. 0 or -errno.
 */
static int gzip_scrape(struct lp_server *s, enum lp_format fmt, const struct lp_model *m,
		       const struct lp_self *self, unsigned opts, struct lp_buf *out,
		       size_t *raw_len)
{
	unsigned variant = (unsigned)fmt << 8 | opts, i;
	struct lp_buf part = {0};
	struct zpart *zp = NULL;
	int e = 0;

	pthread_mutex_lock(&s->cache_lock);
	for (i = 0; i < sizeof(s->cache) / sizeof(s->cache[0]); i++)
		if (part_fits(s->cache[i].seq, s->cache[i].model, s->cache[i].variant, m, variant))
			zp = &s->cache[i];
	if (zp) {
		s->cache_hits++;
	} else {
		zp = &s->cache[s->cache_next++ % (sizeof(s->cache) / sizeof(s->cache[0]))];
		zp->seq = 0;
		lp_model_put(zp->model);
		zp->model = NULL;
		e = lp_expo_write_part(&part, fmt, m, NULL, opts, LP_EXPO_PART_SERIES);
		if (!e)
			e = gzip_head(&part, zp);
		*raw_len = part.len;
		lp_buf_free(&part);
		if (!e) {
			zp->seq = m->seq;
			zp->model = lp_model_get((struct lp_model *)m);
			zp->variant = variant;
		}
	}
	if (!e)
		lp_buf_add(out, zp->z.data, zp->z.len);
	if (!e && !lp_buf_ok(out))
		e = -ENOMEM;
	if (!e) {
		/* the self part, new at every scrape, compressed after the cached one */
		struct zpart copy = *zp;

		copy.z = (struct lp_buf){0};
		pthread_mutex_unlock(&s->cache_lock);
		e = lp_expo_write_part(&part, fmt, m, self, opts, LP_EXPO_PART_SELF);
		if (!e)
			e = gzip_tail(&part, &copy, out);
		lp_buf_free(&part);
		return e;
	}
	pthread_mutex_unlock(&s->cache_lock);
	return e;
}

/* one response's body: a shared uncompressed series part and its own part after it */
struct rawbody {
	struct rawpart *part;
	struct lp_buf own;
};

static void rawpart_put(struct rawpart *p)
{
	struct lp_server *s = p->s;
	bool last;

	pthread_mutex_lock(&s->cache_lock);
	last = --p->refs == 0;
	if (last && s->raw[p->slot] == p)
		s->raw[p->slot] = NULL;
	pthread_mutex_unlock(&s->cache_lock);
	if (!last)
		return;
	lp_model_put(p->model);
	lp_buf_free(&p->b);
	free(p);
}

static void rawbody_free(void *cls)
{
	struct rawbody *rb = cls;

	rawpart_put(rb->part);
	lp_buf_free(&rb->own);
	free(rb);
}

/*
 * The series part of an uncompressed scrape: the one a scrape of the same
 * collection is sending now (counted a cache hit), or built (and shared
 * while sent). NULL: out of memory.
 */
static struct rawpart *raw_part(struct lp_server *s, enum lp_format fmt, const struct lp_model *m,
				unsigned opts)
{
	unsigned variant = (unsigned)fmt << 8 | opts, i, n = sizeof(s->raw) / sizeof(s->raw[0]);
	struct rawpart *p = NULL;

	pthread_mutex_lock(&s->cache_lock);
	for (i = 0; i < n && !p; i++)
		if (s->raw[i] &&
		    part_fits(s->raw[i]->seq, s->raw[i]->model, s->raw[i]->variant, m, variant))
			p = s->raw[i];
	if (p) {
		p->refs++;
		s->cache_hits++;
		pthread_mutex_unlock(&s->cache_lock);
		return p;
	}
	/* built under the lock: a scrape of the same collection waits and shares it */
	p = calloc(1, sizeof(*p));
	if (p && lp_expo_write_part(&p->b, fmt, m, NULL, opts, LP_EXPO_PART_SERIES)) {
		lp_buf_free(&p->b);
		free(p);
		p = NULL;
	}
	if (p) {
		p->refs = 1;
		p->seq = m->seq;
		p->model = lp_model_get((struct lp_model *)m);
		p->variant = variant;
		p->s = s;
		p->slot = s->raw_next++ % n;
		/* a slot still in use by a scrape of an older collection is simply taken */
		s->raw[p->slot] = p;
	}
	pthread_mutex_unlock(&s->cache_lock);
	return p;
}

/* an uncompressed scrape: the shared series part, then the agent's own part */
static struct MHD_Response *raw_scrape(struct lp_server *s, enum lp_format fmt,
				       const struct lp_model *m, const struct lp_self *self,
				       unsigned opts, size_t *raw_len)
{
	struct rawbody *rb = calloc(1, sizeof(*rb));
	struct MHD_IoVec iov[2];
	struct MHD_Response *r;

	if (!rb)
		return NULL;
	rb->part = raw_part(s, fmt, m, opts);
	if (!rb->part) {
		free(rb);
		return NULL;
	}
	if (lp_expo_write_part(&rb->own, fmt, m, self, opts, LP_EXPO_PART_SELF)) {
		rawbody_free(rb);
		return NULL;
	}
	iov[0] = (struct MHD_IoVec){rb->part->b.data ? rb->part->b.data : "", rb->part->b.len};
	iov[1] = (struct MHD_IoVec){rb->own.data ? rb->own.data : "", rb->own.len};
	*raw_len = rb->part->b.len + rb->own.len;
	r = MHD_create_response_from_iovec(iov, 2, rawbody_free, rb);
	if (!r)
		rawbody_free(rb);
	return r;
}

static enum MHD_Result metrics(struct lp_server *s, struct MHD_Connection *c)
{
	const char *accept =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *ae =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	const char *hist = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "histograms");
	enum lp_format fmt = lp_accept_format(accept);
	struct lp_model *m = lp_collector__model(s->coll);
	struct lp_buf body = {0}, gz = {0};
	struct lp_push_stat push_stats[LP_MAX_PUSH];
	struct lp_self self = {0};
	struct MHD_Response *r;
	enum MHD_Result ret;
	double t0 = lp_mono_s();
	bool gzip = lp_accept_gzip(ae);
	size_t raw_len;
	unsigned opts;
	int e;

	lp_self_read(&self);
	self.max_series = s->cfg->max_series;
	self.push = push_stats;
	self.npush = s->push_stats ? s->push_stats(s->push_ctx, push_stats, LP_MAX_PUSH) : 0;
	self.scrapes = __atomic_add_fetch(&s->scrapes, 1, __ATOMIC_RELAXED);
	self.http_errors = __atomic_load_n(&s->http_errors, __ATOMIC_RELAXED);
	self.scrape_failures = __atomic_load_n(&s->scrape_failures, __ATOMIC_RELAXED);
	pthread_mutex_lock(&s->guard_lock);
	self.slow_closed = s->slow_closed;
	pthread_mutex_unlock(&s->guard_lock);
	if (s->auth) {
		struct lp_auth_stats as;

		lp_auth__stats(s->auth, &as);
		self.auth_limited = as.limited;
		self.auth_busy = as.busy;
	}
	pthread_mutex_lock(&s->lock);
	self.last_scrape_s = s->last_scrape_s;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->cache_lock);
	self.scrape_cache_hits = s->cache_hits;
	pthread_mutex_unlock(&s->cache_lock);
	/* ?histograms=classic: leave the native histogram out of protobuf */
	opts = (hist && !strcmp(hist, "classic") ? 0 : LP_EXPO_NATIVE) |
	       (s->cfg->window_metrics ? LP_EXPO_WINDOWS : 0);
	raw_len = 0;
	r = NULL;
	if (gzip && m) {
		e = gzip_scrape(s, fmt, m, &self, opts, &body, &raw_len);
	} else if (m) {
		r = raw_scrape(s, fmt, m, &self, opts, &raw_len);
		e = r ? 0 : -ENOMEM;
	} else {
		e = lp_expo_write(&body, fmt, m, &self, opts);
		raw_len = body.len;
		if (!e && gzip) {
			e = gzip_buf(&body, &gz);
			lp_buf_free(&body);
			body = gz;
		}
	}
	lp_model_put(m);
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
	if (!r) {
		r = MHD_create_response_from_buffer(body.len, body.data ? body.data : (char *)"",
						    body.data ? MHD_RESPMEM_MUST_FREE
							      : MHD_RESPMEM_PERSISTENT);
		if (!r) {
			lp_buf_free(&body);
			return MHD_NO;
		}
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, lp_format_content_type(fmt));
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	pthread_mutex_lock(&s->lock);
	s->last_scrape_s = lp_mono_s() - t0;
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
	"<li><a href=\"/api/v1/slos\">/api/v1/slos</a> only the SLOs, per window</li>\n"
	"<li><a href=\"/-/healthy\">/-/healthy</a> and <a href=\"/-/ready\">/-/ready</a></li>\n"
	"</ul></body></html>\n";

/* ---------------------------------------------------------------- the slow-client guard */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct listener *l = cls;
	struct lp_server *s = l->s;
	struct conn *k;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_context = NULL;
		k = calloc(1, sizeof(*k));
		if (!k || !ci) { /* untracked: libmicrohttpd's own timeout still holds */
			free(k);
			return;
		}
		k->fd = ci->connect_fd;
		k->listener = l->index;
		k->since = lp_mono_ns();
		pthread_mutex_lock(&s->guard_lock);
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		else
			pthread_cond_signal(&s->guard_wake); /* it sleeps while there are none */
		s->conns = k;
		l->live++;
		pthread_mutex_unlock(&s->guard_lock);
		*socket_context = k;
		return;
	}
	k = *socket_context;
	if (!k)
		return;
	pthread_mutex_lock(&s->guard_lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	if (!k->closing)
		l->live--;
	pthread_mutex_unlock(&s->guard_lock);
	free(k);
	*socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* a request head arrived (busy) or a response ended (waiting for the next head) */
static void conn_busy(struct lp_server *s, struct MHD_Connection *c, bool busy)
{
	struct conn *k = conn_of(c);

	if (!k)
		return;
	pthread_mutex_lock(&s->guard_lock);
	k->busy = busy;
	k->since = lp_mono_ns();
	pthread_mutex_unlock(&s->guard_lock);
}

/* under guard_lock */
static void conn_close(struct lp_server *s, struct conn *k)
{
	if (k->closing)
		return;
	k->closing = true;
	s->listeners[k->listener].live--;
	s->slow_closed++;
	shutdown(k->fd, SHUT_RDWR);
}

/* under guard_lock: the waiting connection of listener l whose head is oldest */
static struct conn *slowest(struct lp_server *s, unsigned l, __u64 now)
{
	struct conn *k, *best = NULL;

	for (k = s->conns; k; k = k->next)
		if (k->listener == l && !k->busy && !k->closing && now - k->since >= EVICT_AGE_NS &&
		    (!best || k->since < best->since))
			best = k;
	return best;
}

static void *guard_main(void *arg)
{
	struct lp_server *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->guard_lock);
	while (!s->guard_stop) {
		__u64 now = lp_mono_ns();
		struct conn *k;
		unsigned l;

		for (k = s->conns; k; k = k->next)
			if (!k->busy && now - k->since >= HEAD_DEADLINE_NS)
				conn_close(s, k);
		for (l = 0; l < s->ndaemons; l++)
			if (s->listeners[l].live > EVICT_AT)
				while (s->listeners[l].live > EVICT_TO && (k = slowest(s, l, now)))
					conn_close(s, k);
		/* no connection: nothing to sweep until one comes (an idle agent stays asleep) */
		if (!s->conns) {
			pthread_cond_wait(&s->guard_wake, &s->guard_lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)SWEEP_NS;
		if (ts.tv_nsec >= (long)NS) {
			ts.tv_sec++;
			ts.tv_nsec -= (long)NS;
		}
		pthread_cond_timedwait(&s->guard_wake, &s->guard_lock, &ts);
	}
	pthread_mutex_unlock(&s->guard_lock);
	return NULL;
}

/* ---------------------------------------------------------------- TLS and auth */

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

/* ---------------------------------------------------------------- requests */

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct lp_server *s = ((struct listener *)cls)->s;

	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
	conn_busy(s, c, false);
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
		conn_busy(s, c, true);
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
		return text(s, c, MHD_HTTP_FORBIDDEN, why);
	verdict = __atomic_load_n(&r->auth, __ATOMIC_ACQUIRE);
	if (verdict != LP_AUTH_OK)
		return refuse_auth(s, c, verdict);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
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
		return m ? text(s, c, MHD_HTTP_OK, "OK\n")
			 : text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				"not ready: no collection yet\n");
	}
	if (!strcmp(url, "/api/v1/series") || !strcmp(url, "/api/v1/slos")) {
		char *doc;

		m = lp_collector__model(s->coll);
		if (!m)
			return text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "not ready: no collection yet\n");
		doc = !strcmp(url, "/api/v1/series") ? lp_report_json_string(m)
						     : lp_report_slos_json_string(m);
		lp_model_put(m);
		if (!doc) {
			__atomic_add_fetch(&s->scrape_failures, 1, __ATOMIC_RELAXED);
			return text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		}
		return respond(s, c, MHD_HTTP_OK, "application/json", doc, strlen(doc), true);
	}
	return text(s, c, MHD_HTTP_NOT_FOUND, "not found\n");
}

int lp_server__start(struct lp_server **out, const struct lp_config *cfg, struct lp_collector *coll,
		     const struct lp_webconfig *wc,
		     unsigned (*push_stats)(void *ctx, struct lp_push_stat *out, unsigned max),
		     void *push_ctx, char *err, size_t errlen)
{
	struct lp_server *s = calloc(1, sizeof(*s));
	bool tls = wc && wc->cert_pem, mtls = tls && wc->client_ca_pem;
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
	if (pthread_create(&s->guard, NULL, guard_main, s)) {
		snprintf(err, errlen, "cannot start the connection guard");
		lp_server__stop(s);
		return -EAGAIN;
	}
	s->guard_started = true;
	for (i = 0; i < cfg->nlisten; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen[i];
		unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
		struct listener *l = &s->listeners[i];
		struct MHD_OptionItem tls_opts[] = {
			{MHD_OPTION_HTTPS_MEM_KEY, 0, tls ? wc->key_pem : NULL},
			{MHD_OPTION_HTTPS_MEM_CERT, 0, tls ? wc->cert_pem : NULL},
			{MHD_OPTION_HTTPS_PRIORITIES, 0, tls ? (void *)wc->priorities : NULL},
			/* with a trust, the library asks clients for a certificate */
			{mtls ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
			 mtls ? wc->client_ca_pem : NULL},
			{MHD_OPTION_END, 0, NULL},
		};
		char addr[64];

		l->s = s;
		l->index = i;
		if (sa->sa_family == AF_INET6)
			flags |= MHD_USE_IPv6 | MHD_USE_DUAL_STACK;
		if (tls)
			flags |= MHD_USE_TLS;
		s->daemons[i] = MHD_start_daemon(
			flags, 0, NULL, NULL, handle, l, MHD_OPTION_SOCK_ADDR, sa,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_CONNECTIONS,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
			MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_NOTIFY_COMPLETED,
			on_completed, l, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2,
			MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
			tls ? MHD_OPTION_ARRAY : MHD_OPTION_END, tls_opts, MHD_OPTION_END);
		if (!s->daemons[i]) {
			int e = errno ? errno : EADDRINUSE;

			if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
					  addr, sizeof(addr));
			else
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
					  addr, sizeof(addr));
			snprintf(err, errlen, "failed to listen on %s port %u: %s%s", addr,
				 ntohs(((const struct sockaddr_in *)sa)->sin_port), strerror(e),
				 tls ? " (or the TLS certificate, key, client CA or TLS settings "
				       "were refused)"
				     : "");
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
