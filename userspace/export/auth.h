/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Basic auth for the endpoint, kept off the HTTP threads.
 *
 * A bcrypt check costs tens of milliseconds by design. Run on the HTTP
 * threads, a flood of wrong passwords would queue every scrape behind it;
 * answered at once for an unknown user, it would tell which user names
 * exist. So:
 *  - credentials that passed are remembered (a keyed SHA-256 of user and
 *    password, never the password): a good scraper costs no bcrypt after its
 *    first request;
 *  - every other check goes to one hashing thread, through a bounded queue;
 *    the request waits (suspended) and its HTTP thread serves others;
 *  - an unknown user costs the same bcrypt as a known one (a dummy hash);
 *  - an address that failed LP_AUTH_FAIL_MAX times in LP_AUTH_FAIL_WINDOW_S
 *    is refused (429) without hashing until the window ends; a remembered
 *    good password still passes.
 */
#ifndef LP_AUTH_H
#define LP_AUTH_H

#include <stdbool.h>
#include <sys/socket.h>

#define LP_AUTH_CACHE	      64 /* credentials remembered */
#define LP_AUTH_QUEUE	      32 /* checks waiting for the hashing thread */
#define LP_AUTH_FAIL_SLOTS    256 /* addresses whose failures are counted */
#define LP_AUTH_FAIL_MAX      10
#define LP_AUTH_FAIL_WINDOW_S 60

struct lp_webconfig;
struct lp_auth;

enum lp_auth_verdict {
	LP_AUTH_OK,	 /* remembered: go on */
	LP_AUTH_DENIED,	 /* no credentials */
	LP_AUTH_LIMITED, /* too many failures from this address: 429 */
	LP_AUTH_BUSY,	 /* the queue is full, or stopping: 503 */
	LP_AUTH_PENDING, /* needs hashing / queued for it */
};

struct lp_auth_stats {
	unsigned long long hashed, remembered, limited, busy;
};

struct lp_auth *lp_auth__new(const struct lp_webconfig *wc);
/*
 * Check user:password from peer without hashing: OK (remembered), DENIED
 * (none given), LIMITED, or PENDING: it needs the hashing thread.
 */
enum lp_auth_verdict lp_auth__check(struct lp_auth *a, const char *user, const char *password,
				    const struct sockaddr *peer);
/*
 * Hand it to the hashing thread: PENDING, and done(ctx, ok) runs there
 * later, exactly once (ok false if the checker stops first); or BUSY (the
 * queue is full, or stopping) and done() never runs.
 */
enum lp_auth_verdict lp_auth__queue(struct lp_auth *a, const char *user, const char *password,
				    const struct sockaddr *peer, void (*done)(void *ctx, bool ok),
				    void *ctx);
/* Refuse new checks, answer the queued ones (false), stop the thread. Idempotent. */
void lp_auth__stop(struct lp_auth *a);
void lp_auth__free(struct lp_auth *a);
void lp_auth__stats(struct lp_auth *a, struct lp_auth_stats *out);

#endif
