// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The windows of the collector's series: each starts at a tick on its own
 * grid (a power of two of ticks, at most an eighth of the window), covers
 * its length plus less than one step, and its figures are exact over the
 * span it says it covers. A series receiving traffic every tick holds a
 * bounded number of snapshots whatever the interval, and no more once the
 * windows are full.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/cli.h"
#include "core/collector.h"
#include "core/hist.h"
#include "lp_bucket.h"
#include "lp_test.h"

#include "fake_source.h"

/* before tick k, k requests of one duration that changes with k (1 to 20 ms) */
static __u64 dur(__u64 k)
{
	return 1000000ULL * (1 + (k * 7) % 20);
}

/* the requests of ticks from..to: how many, their sum, and how many within 10 ms */
static void truth(__u64 from, __u64 to, __u64 *n, __u64 *sum, __u64 *good)
{
	*n = *sum = *good = 0;
	for (__u64 k = from; k <= to; k++) {
		*n += k;
		*sum += k * dur(k);
		*good += dur(k) <= 10000000ULL ? k : 0;
	}
}

static void check_windows(const char *interval, __u64 interval_s)
{
	const char *argv[] = {"latprobe", "-i", interval, "-w", "1m", "-w", "5m"};
	const __u64 win_s[2] = {60, 300};
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = {0};
	struct lp_source src;
	struct lp_collector *c;
	size_t held, held_full = 0;
	__u64 k, ticks = 3 * 300 / interval_s;
	int get, w;

	fake_init(&f, &cfg, &ft, argv, 7);
	get = add_series(&f, 8080, LP_METHOD_GET, 200);
	c = fake_collector(&f, &src);
	for (k = 1; k <= ticks; k++) {
		struct lp_model *m;
		__u64 now = k * interval_s * S;

		observe(&f, get, dur(k), (int)k);
		assert_int_equal(lp_collector__tick(c, now), 0);
		m = lp_collector__model(c);
		assert_non_null(m);
		for (w = 0; w < 2; w++) {
			double span = m->span_s[w];
			__u64 first, n, sum, good;

			if (k * interval_s < win_s[w] + 300)
				continue; /* not full yet (and not a step past it) */
			/* the window's length plus less than an eighth, in whole ticks */
			if (span < (double)win_s[w] - 1e-6 ||
			    span >= (double)win_s[w] * 1.125 + 1e-6)
				fail_msg("-i %s tick %llu: the %llus window spans %.1f s", interval,
					 (unsigned long long)k, (unsigned long long)win_s[w], span);
			/* exact over that span: the ticks after its start */
			first = k - (__u64)llround(span / (double)interval_s) + 1;
			truth(first, k, &n, &sum, &good);
			assert_int_equal(m->series[0]->win[w].count, n);
			assert_int_equal(m->series[0]->win[w].sum_ns, sum);
			assert_int_equal(m->series[0]->win[w].slo_good[0], good);
			/* the SLO window covers the same span */
			assert_int_equal(m->slo_win[0][w].total, n);
			assert_int_equal(m->slo_win[0][w].good, good);
		}
		lp_model_put(m);
		held = lp_collector__window_snapshots(c);
		/* one whole snapshot, and what moved at the others: a few hundred bytes each */
		if (lp_collector__window_bytes(c) > 6144)
			fail_msg("-i %s tick %llu: the history takes %zu bytes", interval,
				 (unsigned long long)k, lp_collector__window_bytes(c));
		/* about 8 per window, 2 more for the rate */
		if (held > 2 * 9 + 2)
			fail_msg("-i %s tick %llu: %zu snapshots held", interval,
				 (unsigned long long)k, held);
		if (k * interval_s == 2 * 300)
			held_full = held;
		if (k * interval_s > 2 * 300 && held > held_full + 1)
			fail_msg("-i %s tick %llu: %zu snapshots held, %zu when the windows were "
				 "full",
				 interval, (unsigned long long)k, held, held_full);
	}
	fake_free(&f, c);
}

static void test_windows_at_5s_are_exact_over_their_span_and_bounded(void **state)
{
	(void)state;
	check_windows("5s", 5);
}

static void test_windows_at_1s_are_exact_over_their_span_and_bounded(void **state)
{
	(void)state;
	check_windows("1s", 1);
}

/* a, b, c: snapshots of one series growing; what moved adds back up exactly */
static void test_differences_add_up_to_the_snapshots(void **state)
{
	const __u64 bounds[3] = {1000000, 10000000, 100000000};
	struct lp_fine_table ft;
	struct lp_dist d, e;
	struct lp_snap *a, *b, *c;
	struct lp_delta *ab, *bc, *ac, *sum;
	int i;

	(void)state;
	assert_int_equal(lp_fine_table_init(&ft, 3), 0);
	assert_int_equal(lp_dist_init(&d, 4, LP_FINE_SLOTS(3)), 0);
	assert_int_equal(lp_dist_init(&e, 4, LP_FINE_SLOTS(3)), 0);
	for (i = 0; i < 50; i++)
		lp_dist_add(&d, &ft, bounds, 3, 200000 + 1000 * (__u64)i);
	a = lp_snap_from_dist(&d);
	lp_dist_add(&d, &ft, bounds, 3, 50000000); /* one slot far away */
	b = lp_snap_from_dist(&d);
	for (i = 0; i < 5; i++)
		lp_dist_add(&d, &ft, bounds, 3, 3000000000ULL);
	c = lp_snap_from_dist(&d);
	ab = lp_delta_between(b, a);
	bc = lp_delta_between(c, b);
	ac = lp_delta_between(c, a);
	assert_non_null(ab);
	assert_non_null(bc);
	assert_non_null(ac);
	/* sparse: one sample moved one classic and one fine slot */
	assert_int_equal(ab->n, 2);
	assert_int_equal(ab->count, 1);
	assert_int_equal(ab->sum_ns, 50000000);
	sum = lp_delta_sum(ab, bc);
	assert_non_null(sum);
	assert_int_equal(sum->n, ac->n);
	assert_int_equal(sum->count, 6);
	/* a + (b - a) + (c - b) = c, slot by slot; c - (c - a) = a */
	lp_dist_diff(&e, a, NULL);
	lp_dist_add_delta(&e, sum, false);
	assert_int_equal(e.count, c->count);
	assert_int_equal(e.sum_ns, c->sum_ns);
	for (i = 0; i < 4; i++)
		assert_int_equal(e.classic[i], c->classic[i]);
	for (i = 0; i < (int)c->fine_n; i++)
		assert_int_equal(e.fine[c->fine_lo + (unsigned)i], c->fine[i]);
	lp_dist_diff(&e, c, NULL);
	lp_dist_add_delta(&e, ac, true);
	assert_int_equal(e.count, a->count);
	for (i = 0; i < (int)a->fine_n; i++)
		assert_int_equal(e.fine[a->fine_lo + (unsigned)i], a->fine[i]);
	lp_delta_free(ab);
	lp_delta_free(bc);
	lp_delta_free(ac);
	lp_delta_free(sum);
	lp_snap_put(a);
	lp_snap_put(b);
	lp_snap_put(c);
	lp_dist_free(&d);
	lp_dist_free(&e);
	lp_fine_table_free(&ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_at_5s_are_exact_over_their_span_and_bounded),
		cmocka_unit_test(test_windows_at_1s_are_exact_over_their_span_and_bounded),
		cmocka_unit_test(test_differences_add_up_to_the_snapshots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
