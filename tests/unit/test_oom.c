// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A scrape that runs out of memory half-way: every allocation that building
 * a body makes (ours and the libraries': json-c, protobuf-c, zlib) is made
 * to fail in turn, and the result must be an error or the whole body, byte
 * for byte — never a truncated or hollowed-out body the server would send
 * with 200.
 *
 * malloc, calloc and realloc are defined here, in the executable, so they
 * take the place of libc's for the shared libraries too; they forward to
 * glibc's __libc_* entry points. That is why this test is built without
 * the sanitizers (their runtime owns malloc); the Makefile says so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export/expo.h"
#include "export/report.h"
#include "lp_bucket.h"

#include "model_fixture.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static long armed_at; /* the n-th allocation fails; 0: none */
static long calls;

static bool fail_now(void)
{
	return armed_at && ++calls == armed_at;
}

void *malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	return fail_now() ? NULL : __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}

struct body {
	char *data;
	size_t len;
	int err;
};

static struct body build(enum lp_format f)
{
	struct lp_buf b = { 0 };
	struct body out = { 0 };

	if (f == (enum lp_format)-1) {
		out.data = lp_report_json_string(&model);
		out.err = out.data ? 0 : -ENOMEM;
		out.len = out.data ? strlen(out.data) : 0;
		return out;
	}
	out.err = lp_expo_write(&b, f, &model, &self, LP_EXPO_NATIVE | LP_EXPO_WINDOWS);
	out.data = b.data;
	out.len = b.len;
	return out;
}

/*
 * Fail the 1st, 2nd, ... allocation until a build makes fewer allocations
 * than the one armed: each must give the error or the reference body.
 */
static void every_allocation_fails_cleanly(enum lp_format f, const char *name)
{
	struct body ref = build(f), got;
	long k, errors = 0;

	assert_int_equal(ref.err, 0);
	assert_true(ref.len > 1000);
	for (k = 1;; k++) {
		calls = 0;
		armed_at = k;
		got = build(f);
		armed_at = 0;
		if (calls < k) { /* nothing failed: the allocations are all done */
			assert_int_equal(got.err, 0);
			free(got.data);
			break;
		}
		if (got.err) {
			errors++;
		} else if (got.len != ref.len || memcmp(got.data, ref.data, ref.len)) {
			size_t i = 0;

			while (i < got.len && i < ref.len && got.data[i] == ref.data[i])
				i++;
			print_error("%s: allocation %ld failed, yet a body of %zu bytes (whole: %zu) "
				    "came back as good; it differs at byte %zu: '%.40s' for '%.40s'\n",
				    name, k, got.len, ref.len, i, got.data + i, ref.data + i);
			fail();
		}
		free(got.data);
	}
	/* the test can fail: most allocations are needed */
	print_message("%s: %ld allocations, %ld failures reported\n", name, k - 1, errors);
	assert_true(k > 3);
	assert_true(errors >= (k - 1) / 2);
	free(ref.data);
}

static void test_text(void **state)
{
	(void)state;
	every_allocation_fails_cleanly(LP_FMT_TEXT, "text");
}

static void test_openmetrics(void **state)
{
	(void)state;
	every_allocation_fails_cleanly(LP_FMT_OPENMETRICS, "openmetrics");
}

static void test_protobuf(void **state)
{
	(void)state;
	every_allocation_fails_cleanly(LP_FMT_PROTOBUF, "protobuf");
}

static void test_json(void **state)
{
	(void)state;
	every_allocation_fails_cleanly((enum lp_format)-1, "json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_protobuf),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("oom", tests, setup, teardown);
}
