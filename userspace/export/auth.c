// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "base/util.h"
#include "export/auth.h"
#include "export/webconfig.h"

#define DIGEST 32 /* HMAC-SHA-256 */

struct job {
	char *user, *password;
	unsigned char addr[16]; /* the peer, IPv4 as IPv4-mapped IPv6 */
	void (*done)(void *ctx, bool ok);
	void *ctx;
};

struct fail {
	unsigned char addr[16];
	unsigned count;
	time_t since; /* start of the window, CLOCK_MONOTONIC seconds */
	bool used;
};

struct lp_auth {
	const struct lp_webconfig *wc;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, stop;
	unsigned char key[32]; /* the cache's HMAC key, random per process */
	unsigned char cache[LP_AUTH_CACHE][DIGEST];
	unsigned ncache, cache_next;
	struct job queue[LP_AUTH_QUEUE];
	unsigned head, len;
	struct fail fails[LP_AUTH_FAIL_SLOTS];
	struct lp_auth_stats stats;
};

static void peer_key(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa && sa->sa_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* HMAC(key, user NUL password): what the cache holds instead of the password */
static int digest(const struct lp_auth *a, const char *user, const char *password,
		  unsigned char out[DIGEST])
{
	size_t nu = strlen(user), np = strlen(password);
	unsigned char *msg = malloc(nu + 1 + np);
	int r;

	if (!msg)
		return -ENOMEM;
	memcpy(msg, user, nu + 1);
	memcpy(msg + nu + 1, password, np);
	r = gnutls_hmac_fast(GNUTLS_MAC_SHA256, a->key, sizeof(a->key), msg, nu + 1 + np, out);
	explicit_bzero(msg, nu + 1 + np);
	free(msg);
	return r ? -EIO : 0;
}

/* under lock; every entry is compared in full, so the time tells nothing */
static bool remembered(const struct lp_auth *a, const unsigned char d[DIGEST])
{
	unsigned char hit = 0;
	unsigned i, j;

	for (i = 0; i < a->ncache; i++) {
		unsigned char diff = 0;

		for (j = 0; j < DIGEST; j++)
			diff |= (unsigned char)(a->cache[i][j] ^ d[j]);
		hit |= (unsigned char)(diff == 0);
	}
	return hit;
}

/* under lock: the failure slot of this address (NULL: none yet and !create) */
static struct fail *fail_slot(struct lp_auth *a, const unsigned char addr[16], bool create)
{
	struct fail *oldest = NULL, *f;
	time_t now = (time_t)lp_mono_s();
	unsigned i;

	for (i = 0; i < LP_AUTH_FAIL_SLOTS; i++) {
		f = &a->fails[i];
		if (f->used && now - f->since >= LP_AUTH_FAIL_WINDOW_S)
			f->used = false; /* the window is over */
		if (f->used && !memcmp(f->addr, addr, 16))
			return f;
		/* the victim, should this address be new: a free slot, else the oldest */
		if (!f->used ? !oldest || oldest->used
			     : !oldest || (oldest->used && f->since < oldest->since))
			oldest = f;
	}
	if (!create)
		return NULL;
	/* full: the address counted longest ago gives way */
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->addr, addr, 16);
	oldest->since = now;
	oldest->used = true;
	return oldest;
}

static void *hasher(void *arg)
{
	struct lp_auth *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct job j;
		unsigned char d[DIGEST];
		bool ok;

		while (!a->len && !a->stop)
			pthread_cond_wait(&a->wake, &a->lock);
		if (!a->len)
			break; /* stopping, nothing left */
		j = a->queue[a->head];
		a->head = (a->head + 1) % LP_AUTH_QUEUE;
		a->len--;
		if (a->stop) {
			ok = false;
		} else {
			pthread_mutex_unlock(&a->lock);
			ok = lp_webconfig_check(a->wc, j.user, j.password);
			if (ok && digest(a, j.user, j.password, d))
				ok = false;
			pthread_mutex_lock(&a->lock);
			a->stats.hashed++;
			if (ok) {
				memcpy(a->cache[a->cache_next], d, DIGEST);
				a->cache_next = (a->cache_next + 1) % LP_AUTH_CACHE;
				if (a->ncache < LP_AUTH_CACHE)
					a->ncache++;
			} else {
				struct fail *f = fail_slot(a, j.addr, true);

				f->count++;
			}
		}
		pthread_mutex_unlock(&a->lock);
		explicit_bzero(j.password, strlen(j.password));
		free(j.user);
		free(j.password);
		j.done(j.ctx, ok);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct lp_auth *lp_auth__new(const struct lp_webconfig *wc)
{
	struct lp_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->wc = wc;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	if (gnutls_rnd(GNUTLS_RND_KEY, a->key, sizeof(a->key)) ||
	    pthread_create(&a->thread, NULL, hasher, a)) {
		lp_auth__free(a);
		return NULL;
	}
	a->started = true;
	return a;
}

enum lp_auth_verdict lp_auth__check(struct lp_auth *a, const char *user, const char *password,
				    const struct sockaddr *peer)
{
	unsigned char d[DIGEST], addr[16];
	enum lp_auth_verdict v;
	struct fail *f;

	if (!user || !password)
		return LP_AUTH_DENIED;
	peer_key(peer, addr);
	if (digest(a, user, password, d))
		return LP_AUTH_BUSY;
	pthread_mutex_lock(&a->lock);
	if (remembered(a, d)) {
		a->stats.remembered++;
		v = LP_AUTH_OK;
	} else if ((f = fail_slot(a, addr, false)) && f->count >= LP_AUTH_FAIL_MAX) {
		a->stats.limited++;
		v = LP_AUTH_LIMITED;
	} else {
		v = LP_AUTH_PENDING;
	}
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(d, sizeof(d));
	return v;
}

/*
 * under lock, the queue full: the newest queued check from an address that
 * failed in the window, taken out (its done() to be called false, unlocked)
 * to make room for one from an address that has not failed. Rotating
 * addresses fail at their first wrong password and then queue behind every
 * address that has not: a new scraper is not kept at 503 by them.
 */
static bool make_room(struct lp_auth *a, const unsigned char addr[16], struct job *out)
{
	unsigned i, k;
	struct fail *f = fail_slot(a, addr, false);

	if (f && f->count)
		return false; /* a failing address waits its turn like the others */
	for (i = a->len; i-- > 0;) {
		k = (a->head + i) % LP_AUTH_QUEUE;
		f = fail_slot(a, a->queue[k].addr, false);
		if (!f || !f->count)
			continue;
		*out = a->queue[k];
		/* close the gap: the ones after it move up */
		for (; i + 1 < a->len; i++)
			a->queue[(a->head + i) % LP_AUTH_QUEUE] =
				a->queue[(a->head + i + 1) % LP_AUTH_QUEUE];
		a->len--;
		return true;
	}
	return false;
}

enum lp_auth_verdict lp_auth__queue(struct lp_auth *a, const char *user, const char *password,
				    const struct sockaddr *peer, void (*done)(void *ctx, bool ok),
				    void *ctx)
{
	enum lp_auth_verdict v = LP_AUTH_BUSY;
	unsigned char addr[16];
	struct job out = {0};
	bool evicted = false;
	struct job *j;

	peer_key(peer, addr);
	pthread_mutex_lock(&a->lock);
	if (!a->stop && a->len == LP_AUTH_QUEUE)
		evicted = make_room(a, addr, &out);
	if (a->stop || a->len == LP_AUTH_QUEUE) {
		a->stats.busy++;
	} else {
		j = &a->queue[(a->head + a->len) % LP_AUTH_QUEUE];
		j->user = strdup(user);
		j->password = strdup(password);
		if (!j->user || !j->password) {
			free(j->user);
			free(j->password);
		} else {
			memcpy(j->addr, addr, sizeof(addr));
			j->done = done;
			j->ctx = ctx;
			a->len++;
			pthread_cond_signal(&a->wake);
			v = LP_AUTH_PENDING;
		}
	}
	if (evicted)
		a->stats.busy++;
	pthread_mutex_unlock(&a->lock);
	if (evicted) {
		/* refused unchecked, as a full queue refuses: exactly once, as promised */
		free(out.user);
		free(out.password);
		out.done(out.ctx, false);
	}
	return v;
}

void lp_auth__stop(struct lp_auth *a)
{
	if (!a || !a->started)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	a->started = false;
}

void lp_auth__free(struct lp_auth *a)
{
	if (!a)
		return;
	lp_auth__stop(a);
	pthread_cond_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

void lp_auth__stats(struct lp_auth *a, struct lp_auth_stats *out)
{
	pthread_mutex_lock(&a->lock);
	*out = a->stats;
	pthread_mutex_unlock(&a->lock);
}
