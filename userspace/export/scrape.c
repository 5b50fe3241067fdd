// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * GET /metrics: the exposition in the format the scraper asked for, and
 * the two caches of its series part (compressed across collections, plain
 * while being sent), so that several scrapers of one collection and the
 * collections of an idle node build it once.
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

/* the agent's own figures for a scrape (self.push points into push_stats) */
static void self_figures(struct lp_server *s, struct lp_self *self,
			 struct lp_push_stat push_stats[LP_MAX_PUSH])
{
	lp_self_read(self);
	self->max_series = s->cfg->max_series;
	self->push = push_stats;
	self->npush = s->push_stats ? s->push_stats(s->push_ctx, push_stats, LP_MAX_PUSH) : 0;
	self->scrapes = __atomic_add_fetch(&s->scrapes, 1, __ATOMIC_RELAXED);
	self->http_errors = __atomic_load_n(&s->http_errors, __ATOMIC_RELAXED);
	self->scrape_failures = __atomic_load_n(&s->scrape_failures, __ATOMIC_RELAXED);
	pthread_mutex_lock(&s->guard_lock);
	self->slow_closed = s->slow_closed;
	pthread_mutex_unlock(&s->guard_lock);
	if (s->auth) {
		struct lp_auth_stats as;

		lp_auth__stats(s->auth, &as);
		self->auth_limited = as.limited;
		self->auth_busy = as.busy;
	}
	pthread_mutex_lock(&s->lock);
	self->last_scrape_s = s->last_scrape_s;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&s->cache_lock);
	self->scrape_cache_hits = s->cache_hits;
	pthread_mutex_unlock(&s->cache_lock);
}

/*
 * The scrape's body: into body (gzip, or no model yet), or as a response of
 * its own (*r: the shared plain series part); raw_len its size before gzip.
 */
static int scrape_body(struct lp_server *s, enum lp_format fmt, const struct lp_model *m,
		       const struct lp_self *self, unsigned opts, bool gzip, struct lp_buf *body,
		       struct MHD_Response **r, size_t *raw_len)
{
	struct lp_buf gz = {0};
	int e;

	*raw_len = 0;
	*r = NULL;
	if (gzip && m)
		return gzip_scrape(s, fmt, m, self, opts, body, raw_len);
	if (m) {
		*r = raw_scrape(s, fmt, m, self, opts, raw_len);
		return *r ? 0 : -ENOMEM;
	}
	e = lp_expo_write(body, fmt, m, self, opts);
	*raw_len = body->len;
	if (!e && gzip) {
		e = gzip_buf(body, &gz);
		lp_buf_free(body);
		*body = gz;
	}
	return e;
}

enum MHD_Result lp_srv_metrics(struct lp_server *s, struct MHD_Connection *c)
{
	const char *accept =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *ae =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	const char *hist = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "histograms");
	enum lp_format fmt = lp_accept_format(accept);
	struct lp_model *m = lp_collector__model(s->coll);
	struct lp_buf body = {0};
	struct lp_push_stat push_stats[LP_MAX_PUSH];
	struct lp_self self = {0};
	struct MHD_Response *r;
	enum MHD_Result ret;
	double t0 = lp_mono_s();
	bool gzip = lp_accept_gzip(ae);
	size_t raw_len;
	unsigned opts;
	int e;

	self_figures(s, &self, push_stats);
	/* ?histograms=classic: leave the native histogram out of protobuf */
	opts = (hist && !strcmp(hist, "classic") ? 0 : LP_EXPO_NATIVE) |
	       (s->cfg->window_metrics ? LP_EXPO_WINDOWS : 0);
	e = scrape_body(s, fmt, m, &self, opts, gzip, &body, &r, &raw_len);
	lp_model_put(m);
	if (e) {
		/* never a truncated body with 200: the scraper keeps its last good one */
		lp_buf_free(&body);
		__atomic_add_fetch(&s->scrape_failures, 1, __ATOMIC_RELAXED);
		return lp_srv_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
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
