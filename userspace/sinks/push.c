// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Push workers: one thread per sink. Each wakes on its own interval, queues
 * the collector's latest model (a reference: the model is immutable), and
 * sends the queue oldest first. A failure leaves the snapshot at the head and
 * retries after a capped exponential backoff with jitter; a full queue drops
 * its oldest snapshot (counted). Every send is bounded by the sink's timeout,
 * and a stop aborts a send in flight. Nothing here is ever waited on by the
 * collector or the HTTP server: they only read the figures under a mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <curl/curl.h>

#include "base/util.h"
#include "sinks/push.h"
#include "sinks/sink.h"

#define BACKOFF_MIN_NS 1000000000ULL  /* 1 s */
#define BACKOFF_MAX_NS 60000000000ULL /* 1 min */

struct worker {
	struct lp_pushers *owner;
	struct lp_push_cfg cfg;
	pthread_t thread;
	bool started;
	CURL *curl;
	/* under owner->lock */
	struct lp_model **queue; /* ring of cfg.queue */
	unsigned head, len;
	struct lp_model *last_sent; /* dogstatsd: counters are increases since this one */
	/* dogstatsd: datagrams of snapshot resume_seq delivered by a failed attempt */
	unsigned long long resume_seq;
	size_t resume_done;
	bool warned_size; /* the worker's own */
	struct lp_push_stat stat;
	__u64 backoff_ns;
	unsigned seed;
};

struct lp_pushers {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct lp_collector *coll;
	struct worker *w;
	unsigned n;
};

static bool stopping(struct lp_pushers *p)
{
	bool s;

	pthread_mutex_lock(&p->lock);
	s = p->stop;
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* ------------------------------------------------------------ transports */

static int xfer_abort(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return stopping(ctx) ? 1 : 0;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	(void)ptr, (void)ctx;
	return size * nmemb;
}

static int send_http(struct worker *w, const struct lp_buf *body, char *why, size_t wlen)
{
	const struct lp_push_cfg *c = &w->cfg;
	struct curl_slist *h = NULL;
	size_t i;
	char auth[600];
	long code = 0;
	CURLcode rc;

	if (!w->curl) {
		w->curl = curl_easy_init();
		if (!w->curl) {
			snprintf(why, wlen, "curl_easy_init failed");
			return -ENOMEM;
		}
	}
	curl_easy_reset(w->curl);
	curl_easy_setopt(w->curl, CURLOPT_URL, c->url);
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)(c->timeout_ns / 1000000));
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout_ns / 1000000));
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body->data ? body->data : "");
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, xfer_abort);
	curl_easy_setopt(w->curl, CURLOPT_XFERINFODATA, w->owner);
	curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "latprobe");
	if (c->ca_file[0])
		curl_easy_setopt(w->curl, CURLOPT_CAINFO, c->ca_file);
	/* what the sink asks for: method, content type, basic auth or a token */
	curl_easy_setopt(w->curl, CURLOPT_CUSTOMREQUEST, c->ops->http_method);
	snprintf(auth, sizeof(auth), "Content-Type: %s", c->ops->content_type);
	h = curl_slist_append(h, auth);
	/*
	 * No "Expect: 100-continue" (libcurl adds it to a body over 1 MB): a
	 * sink or proxy that does not answer it holds the body back for a
	 * second, which a 1 s push timeout turns into a failure.
	 */
	h = curl_slist_append(h, "Expect:");
	for (i = 0; c->ops->headers && c->ops->headers[i]; i++)
		h = curl_slist_append(h, c->ops->headers[i]);
	if (c->userpwd[0]) {
		curl_easy_setopt(w->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(w->curl, CURLOPT_USERPWD, c->userpwd);
	}
	if (c->token[0] && c->ops->token_scheme) {
		snprintf(auth, sizeof(auth), "Authorization: %s %s", c->ops->token_scheme,
			 c->token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(w->curl);
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(why, wlen, "%s", curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	if (code < 200 || code > 299) {
		snprintf(why, wlen, "HTTP %ld", code);
		return -EIO;
	}
	return 0;
}

/* a socket connected to the sink within the timeout, or -errno */
static int dial(const struct lp_push_cfg *c, int type, char *why, size_t wlen)
{
	struct addrinfo hints = {.ai_socktype = type}, *res = NULL, *ai;
	int fd = -1, e;

	if (c->unix_path[0]) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		/* non-blocking: a receiver that stops reading must not hold the worker
		 * (and with it the agent's stop) beyond timeout= */
		fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		memcpy(sa.sun_path, c->unix_path, strlen(c->unix_path));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			e = -errno;
			snprintf(why, wlen, "%.100s: %.60s", c->unix_path, strerror(errno));
			close(fd);
			return e;
		}
		return fd;
	}
	e = getaddrinfo(c->host, c->port, &hints, &res);
	if (e) {
		snprintf(why, wlen, "%.100s: %.60s", c->host, gai_strerror(e));
		return -EHOSTUNREACH;
	}
	e = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof(int);
		int soerr = 0;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
			e = -errno;
			close(fd);
			fd = -1;
			continue;
		}
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		if (poll(&pfd, 1, (int)(c->timeout_ns / 1000000)) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
			e = soerr ? -soerr : -ETIMEDOUT;
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(why, wlen, "%.100s:%.7s: %.60s", c->host, c->port, strerror(-e));
	return fd < 0 ? e : fd;
}

/* write all of p within the deadline (the socket is non-blocking) */
static int write_all(int fd, const char *p, size_t n, __u64 deadline)
{
	while (n) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (r < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			__u64 now = lp_mono_ns();

			if (now >= deadline ||
			    poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) != 1)
				return -ETIMEDOUT;
		}
	}
	return 0;
}

static int send_stream(struct worker *w, const struct lp_buf *body, char *why, size_t wlen)
{
	__u64 deadline = lp_mono_ns() + w->cfg.timeout_ns;
	int fd = dial(&w->cfg, SOCK_STREAM, why, wlen), r;

	if (fd < 0)
		return fd;
	r = write_all(fd, body->data ? body->data : "", body->len, deadline);
	if (r)
		snprintf(why, wlen, "send: %s", strerror(-r));
	close(fd);
	return r;
}

size_t lp_pack_datagrams(const char *text, size_t n, size_t max, size_t *off, size_t *len,
			 size_t cap, size_t *skipped)
{
	size_t pos = 0, count = 0;

	*skipped = 0;
	while (pos < n) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : n - pos;

		if (l == 0) {
			pos++;
			continue;
		}
		if (l > max) {
			(*skipped)++;
		} else if (count && off[count - 1] + len[count - 1] + 1 == pos &&
			   len[count - 1] + 1 + l <= max) {
			len[count - 1] += 1 + l; /* joins the datagram before, newline included */
		} else if (count < cap) {
			off[count] = pos;
			len[count] = l;
			count++;
		} else {
			(*skipped)++;
		}
		pos += l + 1;
	}
	return count;
}

/*
 * DogStatsD counters are increments since the last snapshot sent: a
 * datagram that arrived must never be sent again. *done counts the
 * datagrams of this body already delivered (by an earlier, failed attempt
 * at the same snapshot: the body is the same, byte for byte, and so are its
 * datagrams); sending resumes after them and *done moves on. A line longer
 * than max_size cannot be sent at all: it is skipped and counted in
 * *skipped, and the push still succeeds — failing it would re-send every
 * other line at each retry.
 */
static int send_datagrams(struct worker *w, const struct lp_buf *body, size_t *done,
			  size_t *skipped, char *why, size_t wlen)
{
	__u64 deadline = lp_mono_ns() + w->cfg.timeout_ns;
	size_t n, i, lines = 1, *off, *len;
	int fd, r = 0;

	for (i = 0; i < body->len; i++)
		lines += body->data[i] == '\n';
	off = calloc(lines, sizeof(*off));
	len = calloc(lines, sizeof(*len));
	if (!off || !len) {
		free(off);
		free(len);
		snprintf(why, wlen, "out of memory");
		return -ENOMEM;
	}
	n = lp_pack_datagrams(body->data ? body->data : "", body->len, w->cfg.max_datagram, off,
			      len, lines, skipped);
	fd = dial(&w->cfg, SOCK_DGRAM, why, wlen);
	if (fd < 0) {
		free(off);
		free(len);
		return fd;
	}
	for (i = *done; i < n && !r; i++) {
		ssize_t s = send(fd, body->data + off[i], len[i], MSG_NOSIGNAL);

		/* a full socket buffer: wait, but the whole push within the timeout */
		while (s < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			__u64 now = lp_mono_ns();

			if (now >= deadline ||
			    poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1) != 1) {
				errno = ETIMEDOUT;
				break;
			}
			s = send(fd, body->data + off[i], len[i], MSG_NOSIGNAL);
		}
		if (s < 0) {
			r = -errno;
			snprintf(why, wlen,
				 "send: %s (%zu of %zu datagrams delivered; the rest "
				 "follows at the retry)",
				 strerror(errno), i, n);
		} else {
			*done = i + 1;
		}
	}
	close(fd);
	free(off);
	free(len);
	return r;
}

/* ------------------------------------------------------------ one push */

/* lines too long for a datagram: counted once per snapshot (not per attempt), said once */
static void count_skipped(struct worker *w, size_t skipped)
{
	pthread_mutex_lock(&w->owner->lock);
	w->stat.skipped += skipped;
	pthread_mutex_unlock(&w->owner->lock);
	if (!w->warned_size)
		fprintf(stderr,
			"latprobe: push to %s: %zu lines longer than max_size=%u skipped "
			"(counted in latprobe_push_lines_skipped_total; raise max_size)\n",
			w->cfg.name, skipped, w->cfg.max_datagram);
	w->warned_size = true;
}

/*
 * Encode with the sink's encoder, send with its transport. *done: datagrams
 * of this snapshot already delivered (see send_datagrams).
 */
static int push_one(struct worker *w, struct lp_model *m, struct lp_model *prev, size_t *done,
		    char *why, size_t wlen)
{
	struct lp_buf b = {0};
	size_t skipped = 0, first = *done;
	int r = w->cfg.ops->encode(&b, m, prev, &w->cfg);

	if (r) {
		snprintf(why, wlen, "encoding: out of memory");
		lp_buf_free(&b);
		return r;
	}
	switch (w->cfg.ops->transport) {
	case LP_TRANSPORT_HTTP:
		r = send_http(w, &b, why, wlen);
		break;
	case LP_TRANSPORT_TCP:
		r = send_stream(w, &b, why, wlen);
		break;
	case LP_TRANSPORT_DGRAM:
		r = send_datagrams(w, &b, done, &skipped, why, wlen);
		if (skipped && !first)
			count_skipped(w, skipped);
		break;
	}
	lp_buf_free(&b);
	return r;
}

/* ------------------------------------------------------------ the worker */

static void enqueue(struct worker *w, struct lp_model *m)
{
	unsigned cap = w->cfg.queue;

	if ((w->len && w->queue[(w->head + w->len - 1) % cap] == m) || m == w->last_sent) {
		lp_model_put(m); /* no collection since the last tick: nothing new */
		return;
	}
	if (w->len == cap) {
		unsigned next = (w->head + 1) % cap;

		w->stat.dropped++;
		if (!w->resume_seq || w->queue[w->head]->seq != w->resume_seq) {
			lp_model_put(w->queue[w->head]); /* the oldest goes */
		} else if (cap > 1) {
			/* a head partly delivered stays: the rest of its datagrams is
			 * owed, and a later snapshot would count again what arrived;
			 * the one after it goes, and the head moves into its place */
			lp_model_put(w->queue[next]);
			w->queue[next] = w->queue[w->head];
		} else {
			lp_model_put(m); /* a queue of one: the newcomer goes */
			return;
		}
		w->head = next;
		w->len--;
	}
	w->queue[(w->head + w->len) % cap] = m;
	w->len++;
}

static void wait_until(struct lp_pushers *p, __u64 when_mono)
{
	struct timespec ts;
	__u64 now = lp_mono_ns(), dl;

	if (when_mono <= now)
		return;
	/* the condition variable runs on CLOCK_MONOTONIC (see lp_pushers__start) */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	dl = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec + (when_mono - now);
	ts.tv_sec = (time_t)(dl / 1000000000ULL);
	ts.tv_nsec = (long)(dl % 1000000000ULL);
	if (!p->stop)
		pthread_cond_timedwait(&p->wake, &p->lock, &ts);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct lp_pushers *p = w->owner;
	__u64 next_tick = lp_mono_ns(), retry_at = 0;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		__u64 now = lp_mono_ns();

		if (now >= next_tick) {
			struct lp_model *m;

			pthread_mutex_unlock(&p->lock);
			m = lp_collector__model(p->coll);
			pthread_mutex_lock(&p->lock);
			if (m)
				enqueue(w, m);
			next_tick += w->cfg.interval_ns;
			if (next_tick <= now) /* a long stall: no burst of catch-up ticks */
				next_tick = now + w->cfg.interval_ns;
		}
		if (w->len && now >= retry_at) {
			struct lp_model *m = w->queue[w->head], *prev = w->last_sent;
			size_t done = w->resume_seq == m->seq ? w->resume_done : 0;
			char why[256] = "";
			__u64 t0 = lp_mono_ns();
			int r;

			/* the head stays queued (and referenced) while it is sent */
			pthread_mutex_unlock(&p->lock);
			r = push_one(w, m, prev, &done, why, sizeof(why));
			pthread_mutex_lock(&p->lock);
			/* last_sent changes only on success, so the body of a retry is the same */
			w->resume_seq = r && done && w->cfg.ops->increments ? m->seq : 0;
			w->resume_done = w->resume_seq ? done : 0;
			w->stat.last_duration_s = (double)(lp_mono_ns() - t0) / 1e9;
			if (r == 0) {
				w->stat.ok++;
				w->stat.last_success = lp_wall_s();
				w->backoff_ns = 0;
				retry_at = 0;
				/* the head may have been dropped meanwhile: only pop what was sent
				 */
				if (w->len && w->queue[w->head] == m) {
					if (w->last_sent)
						lp_model_put(w->last_sent);
					w->last_sent = m;
					w->head = (w->head + 1) % w->cfg.queue;
					w->len--;
				}
				continue;
			}
			if (p->stop)
				break;
			w->stat.failed++;
			w->backoff_ns = w->backoff_ns ? w->backoff_ns * 2 : BACKOFF_MIN_NS;
			if (w->backoff_ns > BACKOFF_MAX_NS)
				w->backoff_ns = BACKOFF_MAX_NS;
			/* jitter: 50 % to 100 % of the backoff, so a fleet does not retry in step
			 */
			retry_at = lp_mono_ns() + w->backoff_ns / 2 +
				   (__u64)((double)(w->backoff_ns / 2) *
					   ((double)rand_r(&w->seed) / RAND_MAX));
			fprintf(stderr, "latprobe: push to %s failed: %s (retry in %.1f s)\n",
				w->cfg.name, why, (double)(retry_at - lp_mono_ns()) / 1e9);
		}
		wait_until(p, w->len && retry_at && retry_at < next_tick ? retry_at : next_tick);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct lp_pushers *lp_pushers__start(const struct lp_push_cfg *cfgs, unsigned n,
				     struct lp_collector *coll, char *err, size_t errlen)
{
	struct lp_pushers *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	unsigned i;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	p->coll = coll;
	p->w = calloc(n ? n : 1, sizeof(*p->w));
	if (!p->w) {
		snprintf(err, errlen, "out of memory");
		lp_pushers__stop(p);
		return NULL;
	}
	p->n = n;
	for (i = 0; i < n; i++) {
		struct worker *w = &p->w[i];

		w->owner = p;
		w->cfg = cfgs[i];
		w->seed = (unsigned)lp_mono_ns() ^ (i * 2654435761u);
		memcpy(w->stat.name, cfgs[i].name, sizeof(w->stat.name));
		w->queue = calloc(w->cfg.queue, sizeof(*w->queue));
		if (!w->queue || pthread_create(&w->thread, NULL, worker_main, w)) {
			snprintf(err, errlen, "cannot start the push worker for %s", w->cfg.name);
			lp_pushers__stop(p);
			return NULL;
		}
		w->started = true;
	}
	return p;
}

void lp_pushers__stop(struct lp_pushers *p)
{
	unsigned i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		while (w->queue && w->len) {
			lp_model_put(w->queue[w->head]);
			w->head = (w->head + 1) % w->cfg.queue;
			w->len--;
		}
		if (w->last_sent)
			lp_model_put(w->last_sent);
		if (w->curl)
			curl_easy_cleanup(w->curl);
		free(w->queue);
	}
	free(p->w);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void lp_pushers__adopt(struct lp_pushers *p, const struct lp_push_stat *st, unsigned n)
{
	unsigned i, j;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n; i++)
		for (j = 0; j < n; j++)
			if (!strcmp(p->w[i].stat.name, st[j].name)) {
				struct lp_push_stat *d = &p->w[i].stat;

				d->ok += st[j].ok;
				d->failed += st[j].failed;
				d->dropped += st[j].dropped;
				d->skipped += st[j].skipped;
				if (st[j].last_success > d->last_success)
					d->last_success = st[j].last_success;
				if (!d->last_duration_s)
					d->last_duration_s = st[j].last_duration_s;
			}
	pthread_mutex_unlock(&p->lock);
}

unsigned lp_pushers__stats(struct lp_pushers *p, struct lp_push_stat *out, unsigned max)
{
	unsigned i;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n && i < max; i++)
		out[i] = p->w[i].stat;
	pthread_mutex_unlock(&p->lock);
	return i;
}
