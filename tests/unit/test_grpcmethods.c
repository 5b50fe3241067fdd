// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gRPC methods learned from HTTP/2 paths (--grpc-methods): which paths are
 * a method's (include/lp_h2_route.h, lp_grpc_method_path, checked against
 * a byte-by-byte reading of the same rule on random paths), the key's tail
 * cleared for the map's hash, and conversations through the same state
 * machine as the kernel's (tests/unit/conv.h) with the kernel's learning
 * modelled here as bpf/latprobe.bpf.c's lp_learn_g does it: a method keeps
 * its slot on the first call and on every reference to its table entry, a
 * path that is no method has no route and is never "unknown", the cap is
 * counted, a route wins over learning.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "base/routes.h"

static struct lp_routes test_routes;
static struct lp_route_entry test_ents[LP_ROUTE_ENTRIES];
static unsigned test_nents;
/* the kernel's grpc_methods map and its settings, as lp_learn_g uses them */
static struct lp_route_key learned[LP_GRPC_METHODS_MAX];
static unsigned nlearned, learn_max, past_cap;

struct lp_hp_field;
struct lp_hp_table;
static __u16 test_h2route(const __u8 *p, __u32 n, const struct lp_hp_field *f,
			  struct lp_hp_table *t);
#define LP_ROUTE_H2		    (test_routes.ndefs ? LP_ROUTE_UNROUTED : LP_ROUTE_NONE)
#define LP_H2_PATHS		    (test_routes.ndefs || learn_max)
#define LP_ROUTE_H2PATH(p, n, f, t) test_h2route(p, n, f, t)

#include "lp_conn.h"
#include "conv.h"
#include "h2conv.h"

static __u16 learn(struct lp_route_key *k)
{
	__u32 len = lp_grpc_method_path(k);
	unsigned i;

	if (!len)
		return LP_ROUTE_H2;
	lp_route_key_clear_tail(k, len);
	for (i = 0; i < nlearned; i++)
		if (!memcmp(&learned[i], k, sizeof(*k)))
			return (__u16)(LP_ROUTE_LEARNED | i);
	if (nlearned >= learn_max) {
		past_cap++;
		return LP_ROUTE_H2;
	}
	learned[nlearned] = *k;
	return (__u16)(LP_ROUTE_LEARNED | nlearned++);
}

static __u16 test_h2route(const __u8 *p, __u32 n, const struct lp_hp_field *f,
			  struct lp_hp_table *t)
{
	struct {
		struct lp_route_key k;
		__u8 room[LP_ROUTE_LEN];
	} key;
	__u16 id;

	memset(&key, 0xa5, sizeof(key)); /* the window holds an older path's bytes */
	if (lp_h2_path_key(p, n, f, &key.k, &t->scratch) != 1)
		return LP_ROUTE_H2;
	if (test_routes.ndefs) {
		id = lp_route_match_entries(test_ents, test_nents, &key.k);
		if (id != LP_ROUTE_UNROUTED)
			return id;
	}
	return learn_max ? learn(&key.k) : LP_ROUTE_H2;
}

static void setup(const char *route, unsigned max)
{
	char e[256];

	memset(&test_routes, 0, sizeof(test_routes));
	if (route)
		assert_int_equal(lp_routes_add(&test_routes, route, false, e, sizeof(e)), 0);
	test_nents = lp_routes_entries(&test_routes, test_ents, LP_ROUTE_ENTRIES);
	memset(learned, 0, sizeof(learned));
	nlearned = 0;
	learn_max = max;
	past_cap = 0;
}

/* the rule read byte by byte: "/<service with a '.'>/<identifier>" */
static int reference(const char *s, size_t len)
{
	size_t i, slash = 0, dots = 0;

	if (len < 5 || s[0] != '/')
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';

		if (c == '/') {
			if (slash || s[i - 1] == '.')
				return 0;
			slash = i;
		} else if (c == '.') {
			if (slash)
				return 0;
			dots++;
		} else if (!ident && !(c >= '0' && c <= '9')) {
			return 0;
		}
		if ((i == 1 || i == slash + 1) && !ident)
			return 0;
	}
	return slash && dots && slash + 1 < len;
}

static __u32 check(const char *s, int end_mark)
{
	struct lp_route_key k;
	size_t len = strlen(s);

	memset(&k, 0x5a, sizeof(k)); /* bytes past the end are not the path's */
	memcpy(k.path, s, len);
	k.path[len] = 0;
	k.prefixlen = (__u32)(8 * (len + !!end_mark));
	return lp_grpc_method_path(&k);
}

static void test_which_paths_are_grpc_methods(void **state)
{
	static const struct {
		const char *path;
		int yes;
	} cases[] = {
		{"/lp.test.Echo/Unary", 1},
		{"/grpc.health.v1.Health/Check", 1},
		{"/a.B/c", 1},
		{"/helloworld.Greeter/SayHello_2", 1},
		{"/_p.S/_m", 1},
		{"/pkg.Service7/M", 1},	 /* the slash at byte 13 */
		{"/abcdef.h/Method", 1}, /* the slash at byte 9 */
		{"/abcde.g/Method", 1},	 /* the slash at byte 8: its neighbours in two words */
		{"/abcd.fg/Method", 1},
		{"/api/users", 0}, /* a service without a package: REST looks the same */
		{"/users/12345", 0},
		{"/pkg.Svc/", 0},    /* no method */
		{"/pkg.Svc", 0},     /* no slash */
		{"/pkg.Svc/M/x", 0}, /* three segments */
		{"/pkg.Svc/1M", 0},  /* a method begins with a letter */
		{"/1pkg.Svc/M", 0},
		{"/.pkg/M", 0},
		{"/pkg./M", 0},		/* a dot just before the slash */
		{"/abcdef./Method", 0}, /* ... across a word's end (slash at byte 8) */
		{"/pkg.Svc/M.x", 0},	/* a dot in the method */
		{"/pkg.Svc/M-x", 0},
		{"/pkg.S\xc3\xa9/M", 0}, /* not ASCII (UTF-8 or not): never learned */
		{"/pkg.Svc/\xff", 0},
		{"//pkg.Svc", 0},
		{"pkg.Svc/M", 0},
	};
	char longest[LP_ROUTE_LEN];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].path);

		assert_int_equal(reference(cases[i].path, len), cases[i].yes);
		assert_int_equal(check(cases[i].path, 1), cases[i].yes ? len : 0);
		/* a path cut before its end (no end mark) is never a method */
		assert_int_equal(check(cases[i].path, 0), 0);
	}
	/* the longest key: 127 bytes and its end mark */
	memset(longest, 'a', sizeof(longest));
	memcpy(longest, "/p.S/", 5);
	longest[LP_ROUTE_LEN - 1] = 0;
	assert_int_equal(check(longest, 1), LP_ROUTE_LEN - 1);
}

static void test_the_word_rule_is_the_byte_rule_on_random_paths(void **state)
{
	static const char alphabet[] = "/./.abZ_9\x80-";
	char s[LP_ROUTE_LEN];
	unsigned n, i, len, yes = 0;

	(void)state;
	srand(29);
	for (n = 0; n < 200000; n++) {
		len = 1 + (unsigned)rand() % (n % 4 ? 24 : LP_ROUTE_LEN - 2);
		s[0] = '/';
		for (i = 1; i < len; i++)
			s[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
		s[len] = 0;
		assert_int_equal(check(s, 1) != 0, reference(s, len));
		yes += reference(s, len);
	}
	assert_true(yes > 100); /* the random paths did hold methods */
}

static void test_the_tail_is_cleared_past_the_end_mark(void **state)
{
	struct lp_route_key k;
	__u32 len, i;

	(void)state;
	for (len = 0; len < LP_ROUTE_LEN; len++) {
		memset(k.path, 0xee, sizeof(k.path));
		k.path[len] = 0;
		lp_route_key_clear_tail(&k, len);
		for (i = 0; i < LP_ROUTE_LEN; i++)
			assert_int_equal(k.path[i], i < len ? 0xee : 0);
	}
}

#define UNARY_HUFF  "448e628ad7495095f01273b1c2a1d9eb" /* "/lp.test.Echo/Unary", inserted */
#define UNARY_LIT   "44132f6c702e746573742e4563686f2f556e617279" /* the same, literal */
#define STREAM_HUFF "4493628ad7495095f01273b1b8b6772d9b9361474f" /* ".../ServerStream" */
#define USERS_HUFF  "44876075998b505b11"			 /* "/api/users", inserted */

static void test_a_method_keeps_its_slot_through_the_table(void **state)
{
	/*
	 * first call: inserted (dynamic index 63 once its :authority follows it);
	 * the next two refer to it (63, then 64); then the same path literal on
	 * another insertion, and a second method
	 */
	static const char *const fields[] = {UNARY_HUFF, "bf", "c0", UNARY_LIT, STREAM_HUFF};
	struct conv cv = {0};

	(void)state;
	setup(NULL, 8);
	path_conversation(&cv, fields, 5);
	assert_int_equal(cv.route[0], LP_ROUTE_LEARNED | 0);
	assert_int_equal(cv.route[1], LP_ROUTE_LEARNED | 0);
	assert_int_equal(cv.route[2], LP_ROUTE_LEARNED | 0);
	assert_int_equal(cv.route[3], LP_ROUTE_LEARNED | 0); /* Huffman or not: one method */
	assert_int_equal(cv.route[4], LP_ROUTE_LEARNED | 1);
	assert_int_equal(nlearned, 2);
	assert_int_equal(lp_route_learned_set(0, &learned[0]), 0);
	assert_int_equal(lp_route_learned_set(1, &learned[1]), 0);
	assert_string_equal(lp_route_learned(LP_ROUTE_LEARNED | 0), "/lp.test.Echo/Unary");
	assert_string_equal(lp_route_learned(LP_ROUTE_LEARNED | 1), "/lp.test.Echo/ServerStream");
	assert_string_equal(lp_route_label(&test_routes, LP_ROUTE_LEARNED | 1),
			    "/lp.test.Echo/ServerStream");
	assert_null(lp_route_learned(LP_ROUTE_LEARNED | 2)); /* not known: no label made up */
	assert_string_equal(lp_route_label(&test_routes, LP_ROUTE_LEARNED | 2), "unknown");
	assert_int_equal(past_cap, 0);
}

static void test_a_path_that_is_no_method_has_no_route_through_the_table(void **state)
{
	/* "/api/users" inserted, then referred to: no route either time, never "unknown" */
	static const char *const fields[] = {USERS_HUFF, "bf", UNARY_HUFF};
	struct conv cv = {0};

	(void)state;
	setup(NULL, 8);
	path_conversation(&cv, fields, 3);
	assert_int_equal(cv.route[0], LP_ROUTE_NONE);
	assert_int_equal(cv.route[1], LP_ROUTE_NONE);
	assert_int_equal(cv.route[2], LP_ROUTE_LEARNED | 0);
	assert_int_equal(nlearned, 1);
}

static void test_past_the_cap_a_method_is_counted_and_unnamed(void **state)
{
	static const char *const fields[] = {UNARY_HUFF, STREAM_HUFF, "bf", "c2"};
	struct conv cv = {0};

	(void)state;
	setup(NULL, 1);
	path_conversation(&cv, fields, 4);
	assert_int_equal(cv.route[0], LP_ROUTE_LEARNED | 0);
	assert_int_equal(cv.route[1], LP_ROUTE_NONE);
	/* the table after two calls: 62 an :authority, 63 the stream's path, 64, 65 unary's */
	assert_int_equal(cv.route[2], LP_ROUTE_NONE);	     /* the entry kept "no route" */
	assert_int_equal(cv.route[3], LP_ROUTE_LEARNED | 0); /* 66 now: unary's, its slot */
	assert_int_equal(past_cap, 1);			     /* counted once: at its insertion */
	assert_int_equal(nlearned, 1);
}

static void test_a_route_wins_and_the_rest_is_learned(void **state)
{
	static const char *const fields[] = {UNARY_HUFF, STREAM_HUFF, USERS_HUFF};
	struct conv cv = {0};

	(void)state;
	setup("/lp.test.Echo/Unary", 8);
	path_conversation(&cv, fields, 3);
	assert_int_equal(cv.route[0], LP_ROUTE_FIRST);
	assert_int_equal(cv.route[1], LP_ROUTE_LEARNED | 0);
	assert_int_equal(cv.route[2], LP_ROUTE_UNROUTED); /* routes on: the rest is unrouted */
	assert_int_equal(nlearned, 1);
	/* and nothing is learned when learning is off */
	setup(NULL, 0);
	memset(&cv, 0, sizeof(cv));
	path_conversation(&cv, fields, 3);
	assert_int_equal(cv.route[0], LP_ROUTE_NONE);
	assert_int_equal(cv.route[1], LP_ROUTE_NONE);
	assert_int_equal(nlearned, 0);
}

static void test_an_slo_names_a_learned_method(void **state)
{
	struct lp_routes none;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_true(lp_route_is_grpc_method("/lp.test.Echo/Unary"));
	assert_false(lp_route_is_grpc_method("/api/users"));
	assert_int_equal(lp_route_slo_id(&none, "/lp.test.Echo/Unary", true), LP_ROUTE_BY_LABEL);
	assert_int_equal(lp_route_slo_id(&none, "/lp.test.Echo/Unary", false), 0);
	assert_int_equal(lp_route_slo_id(&none, "/api/users", true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_paths_are_grpc_methods),
		cmocka_unit_test(test_the_word_rule_is_the_byte_rule_on_random_paths),
		cmocka_unit_test(test_the_tail_is_cleared_past_the_end_mark),
		cmocka_unit_test(test_a_method_keeps_its_slot_through_the_table),
		cmocka_unit_test(test_a_path_that_is_no_method_has_no_route_through_the_table),
		cmocka_unit_test(test_past_the_cap_a_method_is_counted_and_unnamed),
		cmocka_unit_test(test_a_route_wins_and_the_rest_is_learned),
		cmocka_unit_test(test_an_slo_names_a_learned_method),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
