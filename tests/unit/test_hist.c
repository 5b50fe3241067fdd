// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Quantiles, snapshots and window differences (userspace/core/hist.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/util.h"
#include "core/hist.h"
#include "base/config.h"
#include "base/names.h"
#include "lp_test.h"

static const __u64 *otel = lp_default_bounds_ns + LP_OTEL_FIRST;
#define NOTEL 14

static void mkdist(struct lp_dist *d, struct lp_fine_table *t, unsigned schema)
{
	assert_int_equal(lp_fine_table_init(t, schema), 0);
	assert_int_equal(lp_dist_init(d, NOTEL + 1, LP_FINE_SLOTS(schema)), 0);
}

static void test_quantile_of_empty_distribution_is_nan(void **state)
{
	struct lp_fine_table t;
	struct lp_dist d;

	(void)state;
	mkdist(&d, &t, 3);
	assert_true(isnan(lp_dist_quantile(&d, &t, 0.5)));
	lp_dist_free(&d);
	lp_fine_table_free(&t);
}

/* the worst relative error of a quantile at this schema, as documented */
static double bound_of(unsigned schema)
{
	double b = exp2(1.0 / (1 << schema));

	return (b - 1) / (b + 1);
}

/*
 * log-uniform from 2^-10 s to 2^-3 s (about 1 ms to 125 ms), which covers
 * whole buckets at every schema: the true q-quantile is 2^(-10 + 7q)
 */
static void test_quantiles_of_log_uniform_distribution(void **state)
{
	static const double qs[] = { 0.1, 0.5, 0.9, 0.99, 0.999 };
	unsigned schema, i;

	(void)state;
	for (schema = 0; schema <= 5; schema++) {
		struct lp_fine_table t;
		struct lp_dist d;
		const int n = 200000;
		int k;

		mkdist(&d, &t, schema);
		for (k = 0; k < n; k++)
			lp_dist_add(&d, &t, otel, NOTEL, (__u64)(1e9 * exp2(-10 + 7 * (k + 0.5) / n)));
		for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			double truth = exp2(-10 + 7 * qs[i]);
			double got = lp_dist_quantile(&d, &t, qs[i]);

			/* + 0.1 %: the true quantile may sit on a bucket boundary */
			assert_rel(got, truth, bound_of(schema) + 0.001);
		}
		lp_dist_free(&d);
		lp_fine_table_free(&t);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* whatever the distribution, the estimate is within (b - 1) / (b + 1) of the truth */
static void test_quantile_error_is_bounded_by_the_schema(void **state)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	unsigned schema, i;

	(void)state;
	for (schema = 0; schema <= 5; schema++) {
		struct lp_fine_table t;
		struct lp_dist d;
		double growth = exp2(1.0 / (1 << schema));
		__u64 *vals = malloc(sizeof(__u64) * 10000);
		int k;
		unsigned seed = 7;

		assert_non_null(vals);
		mkdist(&d, &t, schema);
		/* a lumpy mixture: 90 % near 2 ms, 9 % near 20 ms, 1 % near 300 ms */
		for (k = 0; k < 10000; k++) {
			double base = k % 100 < 90 ? 2e6 : k % 100 < 99 ? 2e7 : 3e8;

			seed = seed * 1103515245u + 12345u;
			vals[k] = (__u64)(base * (1.0 + ((seed >> 16) % 1000) / 4000.0));
			lp_dist_add(&d, &t, otel, NOTEL, vals[k]);
		}
		for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			double got, truth;

			/* the sample quantile by sorting */
			qsort(vals, 10000, sizeof(__u64), cmp_u64);
			truth = (double)vals[(int)ceil(qs[i] * 10000) - 1] / 1e9;
			got = lp_dist_quantile(&d, &t, qs[i]);
			assert_true(got <= truth * growth && got >= truth / growth);
			assert_rel(got, truth, bound_of(schema));
		}
		free(vals);
		lp_dist_free(&d);
		lp_fine_table_free(&t);
	}
}

static void test_single_bucket_gives_its_point_of_least_error(void **state)
{
	struct lp_fine_table t;
	struct lp_dist d;
	int k;
	/* 20 ms lies in key ceil(log2(0.02) * 8) = -45: (2^(-46/8), 2^(-45/8)] */
	double lo = exp2(-46.0 / 8), hi = exp2(-45.0 / 8);

	(void)state;
	mkdist(&d, &t, 3);
	for (k = 0; k < 100; k++)
		lp_dist_add(&d, &t, otel, NOTEL, 20000000);
	/* every quantile of one bucket is the same point, 2 lo hi / (lo + hi) */
	assert_close(lp_dist_quantile(&d, &t, 0.5), 2 * lo * hi / (lo + hi), 1e-12);
	assert_close(lp_dist_quantile(&d, &t, 1.0), 2 * lo * hi / (lo + hi), 1e-12);
	assert_close(lp_dist_quantile(&d, &t, 0.0), 2 * lo * hi / (lo + hi), 1e-12);
	/* the bound holds at both edges of the bucket */
	assert_rel(2 * lo * hi / (lo + hi), lo, bound_of(3) + 1e-12);
	assert_rel(2 * lo * hi / (lo + hi), hi, bound_of(3) + 1e-12);
	assert_true(fabs(lp_dist_quantile(&d, &t, 0.5) / 0.02 - 1) < 0.0433);
	lp_dist_free(&d);
	lp_fine_table_free(&t);
}

static void test_zero_bucket_is_linear_and_overflow_is_clamped(void **state)
{
	struct lp_fine_table t;
	struct lp_dist d;

	(void)state;
	mkdist(&d, &t, 3);
	lp_dist_add(&d, &t, otel, NOTEL, 100);
	lp_dist_add(&d, &t, otel, NOTEL, 200);
	assert_close(lp_dist_quantile(&d, &t, 0.5), exp2(-20) * 0.5, 1e-15);
	lp_dist_add(&d, &t, otel, NOTEL, 5000000000000ULL); /* 5000 s: beyond 2^12 s */
	lp_dist_add(&d, &t, otel, NOTEL, 6000000000000ULL);
	assert_close(lp_dist_quantile(&d, &t, 0.99), 4096.0, 1e-9);
	lp_dist_free(&d);
	lp_fine_table_free(&t);
}

static struct lp_snap *snap_of(const struct lp_dist *d, unsigned schema)
{
	size_t sz = lp_value_size(schema);
	struct lp_value *v = calloc(1, sz);
	struct lp_snap *s;

	assert_non_null(v);
	v->sum_ns = d->sum_ns;
	memcpy(v->classic, d->classic, sizeof(d->classic));
	memcpy(v->fine, d->fine, d->nfine * sizeof(__u64));
	s = lp_snap_from_value(v, d->nclassic, d->nfine);
	free(v);
	return s;
}

static void test_window_is_the_difference_of_two_snapshots(void **state)
{
	struct lp_fine_table t;
	struct lp_dist d, w;
	struct lp_snap *old, *cur;
	int k;

	(void)state;
	mkdist(&d, &t, 3);
	assert_int_equal(lp_dist_init(&w, NOTEL + 1, LP_FINE_SLOTS(3)), 0);
	for (k = 0; k < 1000; k++)
		lp_dist_add(&d, &t, otel, NOTEL, 1000000); /* 1 ms */
	old = snap_of(&d, 3);
	assert_int_equal(old->count, 1000);
	assert_int_equal(old->fine_n, 1); /* trimmed to the one non-empty slot */
	for (k = 0; k < 500; k++)
		lp_dist_add(&d, &t, otel, NOTEL, 50000000); /* 50 ms */
	cur = snap_of(&d, 3);
	lp_dist_diff(&w, cur, old);
	assert_int_equal(w.count, 500);
	assert_int_equal(w.sum_ns, 500ULL * 50000000);
	/* only the 50 ms requests are in the window */
	assert_true(fabs(lp_dist_quantile(&w, &t, 0.5) / 0.05 - 1) < 0.09);
	assert_int_equal(lp_dist_le(&w, 1), 0);	  /* le 10 ms */
	assert_int_equal(lp_dist_le(&w, 3), 500); /* le 50 ms, inclusive */
	/* since start: 1000 of 1500 within 10 ms */
	lp_dist_diff(&w, cur, NULL);
	assert_int_equal(lp_dist_le(&w, 1), 1000);
	assert_int_equal(w.count, 1500);
	assert_false(lp_snap_same(old, cur));
	assert_true(lp_snap_same(cur, cur));
	lp_snap_put(old);
	lp_snap_put(cur);
	lp_dist_free(&w);
	lp_dist_free(&d);
	lp_fine_table_free(&t);
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		int ok;
		__u64 ns;
	} cases[] = {
		{ "10ms", 0, 10000000ULL },   { "0.01", 0, 10000000ULL }, { "1.5s", 0, 1500000000ULL },
		{ "250us", 0, 250000ULL },     { "2m", 0, 120000000000ULL }, { "1h", 0, 3600000000000ULL },
		{ "7ns", 0, 7ULL },	       { "0.005", 0, 5000000ULL },   { "5s", 0, 5000000000ULL },
		{ "0.0000000001", -EINVAL, 0 }, { "1.5ns", -EINVAL, 0 },     { "", -EINVAL, 0 },
		{ "ms", -EINVAL, 0 },	       { "-1s", -EINVAL, 0 },	     { "10 ms", -EINVAL, 0 },
		{ "10x", -EINVAL, 0 },	       { "1e3", -EINVAL, 0 },	     { ".", -EINVAL, 0 },
		{ "99999999999999999999s", -EINVAL, 0 },
		{ "9999999999h", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u64 ns = 42;
		int r = lp_parse_duration_ns(cases[i].s, &ns);

		assert_int_equal(r, cases[i].ok);
		if (!r)
			assert_int_equal(ns, cases[i].ns);
		else
			assert_int_equal(ns, 42);
	}
}

static void test_format_seconds(void **state)
{
	char b[32];

	(void)state;
	lp_format_seconds(b, sizeof(b), 5000000);
	assert_string_equal(b, "0.005");
	lp_format_seconds(b, sizeof(b), 10000000000ULL);
	assert_string_equal(b, "10");
	lp_format_seconds(b, sizeof(b), 2500000000ULL);
	assert_string_equal(b, "2.5");
	lp_format_seconds(b, sizeof(b), 1);
	assert_string_equal(b, "0.000000001");
	lp_format_seconds(b, sizeof(b), 0);
	assert_string_equal(b, "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantile_of_empty_distribution_is_nan),
		cmocka_unit_test(test_quantiles_of_log_uniform_distribution),
		cmocka_unit_test(test_quantile_error_is_bounded_by_the_schema),
		cmocka_unit_test(test_single_bucket_gives_its_point_of_least_error),
		cmocka_unit_test(test_zero_bucket_is_linear_and_overflow_is_clamped),
		cmocka_unit_test(test_window_is_the_difference_of_two_snapshots),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_format_seconds),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
