// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Bucket index (include/lp_bucket.h) against the Prometheus native-histogram
 * boundary formula: a value v seconds lands in bucket k = ceil(log2(v) * 2^s),
 * whose upper bound 2^(k / 2^s) is inclusive ("le").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <cmocka.h>

#include "core/hist.h"
#include "lp_bucket.h"

/* The formula, in long double; only used where v is not within rounding of a boundary. */
static int prom_key(__u64 v_ns, unsigned schema)
{
	long double x = log2l((long double)v_ns / 1e9L) * (long double)(1u << schema);

	return (int)ceill(x);
}

/* the slot the kernel computes, through the same inline function and table */
static __u32 kernel_slot(const struct lp_fine_table *t, __u64 v)
{
	if (t->schema <= LP_SCHEMA_MAX)
		return lp_fine_slot(t->bounds, t->n, t->zero_ns, v);
	/* beyond the kernel's table size: the same search, a wider mask */
	return v <= t->zero_ns ? 0 : 1 + lp_search(t->bounds, t->n, v, 0xffff, 17);
}

static void check_value(const struct lp_fine_table *t, __u64 v)
{
	__u32 slot = kernel_slot(t, v);
	int key;

	if (v <= t->zero_ns) {
		assert_int_equal(slot, 0);
		return;
	}
	key = prom_key(v, t->schema);
	if (key > LP_FINE_HIGH_EXP * (1 << t->schema)) {
		assert_int_equal(slot, t->n + 1); /* overflow */
		return;
	}
	assert_int_equal(lp_fine_native_key(t, slot), key);
}

static void test_bucket_index_matches_prometheus_formula_at_every_boundary(void **state)
{
	unsigned schema;

	(void)state;
	for (schema = 0; schema <= 8; schema++) {
		struct lp_fine_table t;
		__u32 j;

		assert_int_equal(lp_fine_table_init(&t, schema), 0);
		for (j = 0; j < t.n; j++) {
			__u64 b = t.bounds[j];
			long double exact = 1e9L * exp2l((long double)LP_FINE_LOW_EXP +
							 (long double)(j + 1) / (1u << schema));

			if (b < 1000 || b > 100000000000ULL) /* 1 us .. 100 s */
				continue;
			/* the table holds floor() of the boundary */
			assert_true((long double)b <= exact && exact < (long double)b + 1);
			/* on the boundary (and, when it is not an integer, just below it) */
			assert_int_equal(kernel_slot(&t, b), j + 1);
			/* just above: the next bucket */
			assert_int_equal(kernel_slot(&t, b + 1), j + 2);
			check_value(&t, b + 1);
			/* just below: this bucket, unless that is the previous boundary */
			if (j == 0 || b - 1 > t.bounds[j - 1])
				assert_int_equal(kernel_slot(&t, b - 1), j + 1);
			check_value(&t, b - 1);
			if (exact == (long double)b) /* an exact boundary: le is inclusive */
				assert_int_equal(lp_fine_native_key(&t, kernel_slot(&t, b)),
						 prom_key(b, schema));
		}
		lp_fine_table_free(&t);
	}
}

static void test_bucket_index_matches_formula_on_a_sweep(void **state)
{
	unsigned schema;

	(void)state;
	for (schema = 0; schema <= 8; schema++) {
		struct lp_fine_table t;
		long double v;

		assert_int_equal(lp_fine_table_init(&t, schema), 0);
		/* 1 us .. 100 s in steps of about 0.37 %, off any boundary by construction */
		for (v = 1000.5L; v < 1e11L; v *= 1.0037L) {
			__u64 x = (__u64)v;
			long double lg = log2l((long double)x / 1e9L) * (1u << schema);

			if (fabsl(lg - roundl(lg)) < 1e-9L)
				continue; /* within rounding of a boundary: covered above */
			check_value(&t, x);
		}
		lp_fine_table_free(&t);
	}
}

static void test_zero_bucket_and_overflow(void **state)
{
	struct lp_fine_table t;

	(void)state;
	assert_int_equal(lp_fine_table_init(&t, 3), 0);
	assert_int_equal(t.zero_ns, 953); /* floor(1e9 * 2^-20) = 953.67 */
	assert_int_equal(kernel_slot(&t, 0), 0);
	assert_int_equal(kernel_slot(&t, 953), 0);
	assert_int_equal(kernel_slot(&t, 954), 1);
	/* 2^12 s = 4096 s is the last boundary; beyond it the overflow slot */
	assert_int_equal(t.bounds[t.n - 1], 4096000000000ULL);
	assert_int_equal(kernel_slot(&t, 4096000000000ULL), t.n);
	assert_int_equal(kernel_slot(&t, 4096000000001ULL), t.n + 1);
	assert_int_equal(kernel_slot(&t, UINT64_MAX), t.n + 1);
	assert_int_equal(t.n + 2, LP_FINE_SLOTS(3));
	lp_fine_table_free(&t);
}

static void test_schema_0_is_plain_log2_of_seconds(void **state)
{
	struct lp_fine_table t;

	(void)state;
	assert_int_equal(lp_fine_table_init(&t, 0), 0);
	/* 1 s is a boundary: le 1 -> key 0; 1 s + 1 ns -> key 1 (le 2 s) */
	assert_int_equal(lp_fine_native_key(&t, kernel_slot(&t, 1000000000ULL)), 0);
	assert_int_equal(lp_fine_native_key(&t, kernel_slot(&t, 1000000001ULL)), 1);
	assert_int_equal(lp_fine_native_key(&t, kernel_slot(&t, 2000000000ULL)), 1);
	/* 10 ms: 2^-7 = 7.8125 ms < 10 ms <= 2^-6 = 15.625 ms */
	assert_int_equal(lp_fine_native_key(&t, kernel_slot(&t, 10000000ULL)), -6);
	assert_int_equal(t.bounds[13], 15625000ULL); /* j + 1 - 20 = -6 */
	lp_fine_table_free(&t);
}

static void test_classic_slot_is_le_inclusive(void **state)
{
	static const __u64 b[] = { 5000000, 10000000, 25000000 };

	(void)state;
	assert_int_equal(lp_classic_slot(b, 3, 0), 0);
	assert_int_equal(lp_classic_slot(b, 3, 5000000), 0);
	assert_int_equal(lp_classic_slot(b, 3, 5000001), 1);
	assert_int_equal(lp_classic_slot(b, 3, 10000000), 1);
	assert_int_equal(lp_classic_slot(b, 3, 10000001), 2);
	assert_int_equal(lp_classic_slot(b, 3, 25000000), 2);
	assert_int_equal(lp_classic_slot(b, 3, 25000001), 3); /* +Inf */
	assert_int_equal(lp_classic_slot(b, 0, 7), 0);	      /* only +Inf */
}

static void test_classic_slot_with_31_boundaries(void **state)
{
	__u64 b[LP_CLASSIC_MAX - 1];
	__u32 i;

	(void)state;
	for (i = 0; i < LP_CLASSIC_MAX - 1; i++)
		b[i] = (i + 1) * 1000;
	for (i = 0; i < LP_CLASSIC_MAX - 1; i++) {
		assert_int_equal(lp_classic_slot(b, LP_CLASSIC_MAX - 1, b[i]), i);
		assert_int_equal(lp_classic_slot(b, LP_CLASSIC_MAX - 1, b[i] + 1), i + 1);
	}
}

/*
 * The search against a linear scan: every table size up to 64, bounds
 * across the whole u64 range (above 2^63 too), each boundary, its
 * neighbours and the extremes.
 */
static void test_search_matches_a_linear_scan_at_every_size(void **state)
{
	__u64 b[64], x = 0x9e3779b97f4a7c15ULL, v;
	__u32 n, i, k, want;

	(void)state;
	for (n = 0; n <= 64; n++) {
		__u64 at = 0;

		for (i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			at += (x >> (i % 3 == 0 ? 1 : 8)) %
			      (UINT64_MAX / 65); /* ascending, some near the top */
			b[i] = at;
		}
		for (k = 0; k < 3 * n + 3; k++) {
			v = k < 3 * n	     ? b[k / 3] + (k % 3) - 1
			    : k == 3 * n     ? 0
			    : k == 3 * n + 1 ? UINT64_MAX
					     : (1ULL << 63);
			for (want = 0; want < n && v > b[want]; want++)
				;
			if (lp_search(b, n, v, 63, 7) != want) {
				print_error("n %u v %llu: %u, want %u\n", n, (unsigned long long)v,
					    lp_search(b, n, v, 63, 7), want);
				fail();
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_index_matches_prometheus_formula_at_every_boundary),
		cmocka_unit_test(test_bucket_index_matches_formula_on_a_sweep),
		cmocka_unit_test(test_zero_bucket_and_overflow),
		cmocka_unit_test(test_schema_0_is_plain_log2_of_seconds),
		cmocka_unit_test(test_classic_slot_is_le_inclusive),
		cmocka_unit_test(test_classic_slot_with_31_boundaries),
		cmocka_unit_test(test_search_matches_a_linear_scan_at_every_size),
	};

	return cmocka_run_group_tests_name("bucket", tests, NULL, NULL);
}
