// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The basic-auth checker (userspace/export/auth.c): cache, failure limit, hashing thread. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <crypt.h>

#include "export/auth.h"
#include "export/webconfig.h"

/* bcrypt of "s3cret", cost 4 */
static const char HASH[] = "$2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

struct answer {
	bool done, ok;
	int calls;
};

static void done(void *ctx, bool ok)
{
	struct answer *a = ctx;

	pthread_mutex_lock(&lock);
	a->done = true;
	a->ok = ok;
	a->calls++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void wait_answer(struct answer *a)
{
	pthread_mutex_lock(&lock);
	while (!a->done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static struct sockaddr_in addr(const char *ip)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

/* check, and hash if it must: the answer */
static int login(struct lp_auth *a, const char *user, const char *pass, const char *ip)
{
	struct sockaddr_in sa = addr(ip);
	struct answer ans = { 0 };
	enum lp_auth_verdict v = lp_auth__check(a, user, pass, (struct sockaddr *)&sa);

	if (v != LP_AUTH_PENDING)
		return v;
	v = lp_auth__queue(a, user, pass, (struct sockaddr *)&sa, done, &ans);
	if (v != LP_AUTH_PENDING)
		return v;
	wait_answer(&ans);
	assert_int_equal(ans.calls, 1);
	return ans.ok ? LP_AUTH_OK : LP_AUTH_DENIED;
}

static void test_checker(void **state)
{
	struct lp_webconfig wc;
	struct lp_auth_stats st;
	struct sockaddr_in sa = addr("10.0.0.1");
	struct lp_auth *a;
	char text[256], err[256];
	int i;

	(void)state;
	snprintf(text, sizeof(text), "basic_auth_users:\n  prometheus: '%s'\n", HASH);
	assert_int_equal(lp_webconfig_parse(text, strlen(text), &wc, err, sizeof(err)), 0);
	assert_int_equal(lp_webconfig_arm(&wc), 0);
	a = lp_auth__new(&wc);
	assert_non_null(a);

	assert_int_equal(lp_auth__check(a, NULL, NULL, (struct sockaddr *)&sa), LP_AUTH_DENIED);
	/* a good password is hashed once, then remembered */
	assert_int_equal(lp_auth__check(a, "prometheus", "s3cret", (struct sockaddr *)&sa),
			 LP_AUTH_PENDING);
	assert_int_equal(login(a, "prometheus", "s3cret", "10.0.0.1"), LP_AUTH_OK);
	assert_int_equal(lp_auth__check(a, "prometheus", "s3cret", (struct sockaddr *)&sa),
			 LP_AUTH_OK);
	/* the cache key is user and password together */
	assert_int_equal(lp_auth__check(a, "prometheus", "s3cret2", (struct sockaddr *)&sa),
			 LP_AUTH_PENDING);
	assert_int_equal(lp_auth__check(a, "prometheu", "ss3cret", (struct sockaddr *)&sa),
			 LP_AUTH_PENDING);

	/* ten failures from one address: the eleventh is refused unhashed */
	for (i = 0; i < LP_AUTH_FAIL_MAX; i++)
		assert_int_equal(login(a, i & 1 ? "prometheus" : "mallory", "guess", "10.0.0.2"),
				 LP_AUTH_DENIED);
	assert_int_equal(login(a, "prometheus", "guess", "10.0.0.2"), LP_AUTH_LIMITED);
	/* ...but a remembered good password still passes, and other addresses are not limited */
	assert_int_equal(login(a, "prometheus", "s3cret", "10.0.0.2"), LP_AUTH_OK);
	assert_int_equal(login(a, "prometheus", "guess", "10.0.0.3"), LP_AUTH_DENIED);
	lp_auth__stats(a, &st);
	assert_int_equal(st.hashed, 1 + LP_AUTH_FAIL_MAX + 1);
	assert_int_equal(st.limited, 1);

	/* stopped: nothing more is queued, and done() is never called for it */
	lp_auth__stop(a);
	assert_int_equal(lp_auth__queue(a, "prometheus", "x", (struct sockaddr *)&sa, done, NULL),
			 LP_AUTH_BUSY);
	lp_auth__free(a);
	lp_webconfig_free(&wc);
}

/* every queued check is answered exactly once, even when the checker stops first */
static void test_stop_answers_what_is_queued(void **state)
{
	struct answer ans[LP_AUTH_QUEUE] = { 0 };
	struct sockaddr_in sa = addr("10.0.0.9");
	struct lp_webconfig wc;
	struct lp_auth *a;
	char text[256], err[256];
	int i, queued = 0;

	(void)state;
	snprintf(text, sizeof(text), "basic_auth_users:\n  prometheus: '%s'\n", HASH);
	assert_int_equal(lp_webconfig_parse(text, strlen(text), &wc, err, sizeof(err)), 0);
	a = lp_auth__new(&wc);
	assert_non_null(a);
	for (i = 0; i < LP_AUTH_QUEUE; i++)
		queued += lp_auth__queue(a, "prometheus", "s3cret", (struct sockaddr *)&sa, done,
					 &ans[i]) == LP_AUTH_PENDING;
	assert_true(queued >= LP_AUTH_QUEUE - 1); /* the thread may have taken one already */
	lp_auth__stop(a);
	for (i = 0; i < queued; i++)
		assert_int_equal(ans[i].calls, 1);
	lp_auth__free(a);
	lp_webconfig_free(&wc);
}

/*
 * The queue full of checks from an address that failed: a check from one that
 * has not takes the place of the newest of them (answered false, once),
 * so rotating guessers cannot keep a new scraper at 503 (issue 32).
 */
static void test_a_clean_address_is_not_kept_out_by_failing_ones(void **state)
{
	static struct answer ans[LP_AUTH_QUEUE + 8];
	struct answer clean = {0};
	struct sockaddr_in bad = addr("10.1.0.1"), good = addr("10.9.9.9");
	struct lp_webconfig wc;
	struct lp_auth *a;
	char text[512], err[256];
	const char *slow;
	int i, queued = 0, busy = 0, answered = 0, refused = 0;

	(void)state;
	/* a slow hash (bcrypt cost 12): the queue stays full while the test looks */
	slow = crypt("s3cret", crypt_gensalt("$2b$", 12, NULL, 0));
	assert_non_null(slow);
	snprintf(text, sizeof(text), "basic_auth_users:\n  prometheus: '%s'\n", slow);
	assert_int_equal(lp_webconfig_parse(text, strlen(text), &wc, err, sizeof(err)), 0);
	a = lp_auth__new(&wc);
	assert_non_null(a);
	assert_int_equal(login(a, "prometheus", "guess", "10.1.0.1"), LP_AUTH_DENIED);
	for (i = 0; i < LP_AUTH_QUEUE + 8; i++) {
		int v = lp_auth__queue(a, "prometheus", "guess", (struct sockaddr *)&bad, done,
				       &ans[i]);

		queued += v == LP_AUTH_PENDING;
		busy += v == LP_AUTH_BUSY;
	}
	assert_true(busy >= 7); /* full: the failing address waits its turn */
	assert_int_equal(lp_auth__queue(a, "prometheus", "s3cret", (struct sockaddr *)&good, done,
					&clean),
			 LP_AUTH_PENDING);
	lp_auth__stop(a);
	for (i = 0; i < LP_AUTH_QUEUE + 8; i++) {
		answered += ans[i].calls;
		refused += ans[i].calls && !ans[i].ok;
		assert_true(ans[i].calls <= 1);
	}
	assert_int_equal(answered, queued); /* the one evicted too, once */
	assert_int_equal(refused, queued);
	assert_int_equal(clean.calls, 1);
	lp_auth__free(a);
	lp_webconfig_free(&wc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_a_clean_address_is_not_kept_out_by_failing_ones),
		cmocka_unit_test(test_stop_answers_what_is_queued),
	};

	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
