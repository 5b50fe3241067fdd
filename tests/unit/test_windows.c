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
#include "lp_bucket.h"
#include "lp_test.h"

#include "fake_source.h"

/* requests observed before tick k: k of them, so a window's count says where it starts */
static __u64 sum_ticks(__u64 from, __u64 to)
{
	return (from + to) * (to - from + 1) / 2;
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

		observe(&f, get, 2000000, (int)k);
		assert_int_equal(lp_collector__tick(c, now), 0);
		m = lp_collector__model(c);
		assert_non_null(m);
		for (w = 0; w < 2; w++) {
			double span = m->span_s[w];
			__u64 first;

			if (k * interval_s < win_s[w] + 300)
				continue; /* not full yet (and not a step past it) */
			/* the window's length plus less than an eighth, in whole ticks */
			if (span < (double)win_s[w] - 1e-6 ||
			    span >= (double)win_s[w] * 1.125 + 1e-6)
				fail_msg("-i %s tick %llu: the %llus window spans %.1f s", interval,
					 (unsigned long long)k, (unsigned long long)win_s[w], span);
			/* exact over that span: the ticks after its start */
			first = k - (__u64)llround(span / (double)interval_s) + 1;
			assert_int_equal(m->series[0]->win[w].count, sum_ticks(first, k));
			/* the SLO window covers the same span */
			assert_int_equal(m->slo_win[0][w].total, sum_ticks(first, k));
		}
		lp_model_put(m);
		held = lp_collector__window_snapshots(c);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_at_5s_are_exact_over_their_span_and_bounded),
		cmocka_unit_test(test_windows_at_1s_are_exact_over_their_span_and_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
