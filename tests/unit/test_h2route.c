// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Routes on HTTP/2 paths (include/lp_h2_route.h), through the same state
 * machine and loop as the kernel's (tests/unit/conv.h): a :path literal or
 * Huffman-coded matches as the same HTTP/1.x target does, the static
 * table's "/" too; a :path inserted into the table keeps its route, so a
 * reference to it is matched without reading a byte; an exclusion (a gRPC
 * health check) leaves its stream out of every histogram; a reference the
 * agent cannot resolve is "unknown", never a guessed route.
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

/* the trie as the kernel has it (lp_route_match_entries): none unless a test adds routes */
static struct lp_routes test_routes;
static struct lp_route_entry test_ents[LP_ROUTE_ENTRIES];
static unsigned test_nents;
static unsigned path_matches; /* :path values matched (their bytes read) */

struct lp_hp_field;
struct lp_hp_table;
static __u16 test_h2route(const __u8 *p, __u32 n, const struct lp_hp_field *f,
			  struct lp_hp_table *t);
#define LP_ROUTE_H2 (test_routes.ndefs ? LP_ROUTE_UNROUTED : LP_ROUTE_NONE)
#define LP_ROUTE_H2PATH(p, n, f, t) test_h2route(p, n, f, t)

#include "lp_conn.h"
#include "conv.h"
#include "h2conv.h"

static __u16 test_h2route(const __u8 *p, __u32 n, const struct lp_hp_field *f,
			  struct lp_hp_table *t)
{
	struct {
		struct lp_route_key k;
		__u8 room[LP_ROUTE_LEN]; /* a decoding writes past the key's path */
	} key;

	path_matches++;
	if (lp_h2_path_key(p, n, f, &key.k, &t->scratch) != 1)
		return LP_ROUTE_UNROUTED;
	return lp_route_match_entries(test_ents, test_nents, &key.k);
}

static void routes(const char *const *specs, int n, const char *exclude)
{
	char e[256];
	int i;

	memset(&test_routes, 0, sizeof(test_routes));
	for (i = 0; i < n; i++)
		assert_int_equal(lp_routes_add(&test_routes, specs[i], false, e, sizeof(e)), 0);
	if (exclude)
		assert_int_equal(lp_routes_add(&test_routes, exclude, true, e, sizeof(e)), 0);
	test_nents = lp_routes_entries(&test_routes, test_ents, LP_ROUTE_ENTRIES);
}

#define USERS_ID (LP_ROUTE_FIRST + 0)
#define ROOT_ID	 (LP_ROUTE_FIRST + 1)

static void test_literal_and_huffman_paths_route_as_http1_targets(void **state)
{
	static const char *const specs[] = {"users=/api/users", "root=/"};
	static const char *const fields[] = {
		"040c2f6170692f75736572732f31",		  /* "/api/users/1" */
		"04896075998b505b10c07f",		  /* the same, Huffman-coded */
		"048b6075998b505b11fe79803f",		  /* "/api/users?x=1" (Huffman) */
		"04886075998b505b11f9",			  /* "/api/usersX" (Huffman) */
		"84",					  /* the static table's "/" */
		"040b2f6170692f757365727358",		  /* "/api/usersX" */
		"04e66075998b505b10c0c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318"
		"c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c6318c631"
		"8c6318c6318c6318c6318c6318c6318c6318c7f", /* "/api/users/" + 150 'a' (Huffman) */
		"04012a",				  /* "*": no path */
	};
	static const __u16 want[] = {USERS_ID,	   USERS_ID, USERS_ID, ROOT_ID,
				     ROOT_ID,	   ROOT_ID,  USERS_ID, LP_ROUTE_UNROUTED};
	struct conv cv = {0};
	int i;

	(void)state;
	routes(specs, 2, NULL);
	path_conversation(&cv, fields, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(cv.route[i], want[i]);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 0);
}

static void test_a_path_in_the_table_keeps_its_route(void **state)
{
	static const char *const specs[] = {"users=/api/users"};
	/* first use: inserted (incremental indexing, Huffman); then referenced, each request
	 * inserting its :authority after it: dynamic index 63, then 64 */
	static const char *const fields[] = {"44896075998b505b10c07f", "bf", "c0", "84"};
	struct conv cv = {0};

	(void)state;
	routes(specs, 1, NULL);
	path_matches = 0;
	path_conversation(&cv, fields, 4);
	assert_int_equal(cv.route[0], USERS_ID);
	assert_int_equal(cv.route[1], USERS_ID);
	assert_int_equal(cv.route[2], USERS_ID);
	assert_int_equal(cv.route[3], LP_ROUTE_UNROUTED);
	/* the references were matched from the entry: only the literal and "/" were read */
	assert_int_equal(path_matches, 2);
}

static void test_a_path_never_indexed_is_matched_once_while_it_repeats(void **state)
{
	static const char *const specs[] = {"users=/api/users"};
	/* literal without indexing (nghttp2's way): the same bytes, then others, then back */
	static const char *const fields[] = {
		"04896075998b505b10c07f", "04896075998b505b10c07f", "04896075998b505b10c07f",
		"040c2f6170692f75736572732f31", /* the same path, not Huffman-coded: other bytes */
		"04042f696d67", /* "/img" */
		"04896075998b505b10c07f",
	};
	struct conv cv = {0};
	int i;

	(void)state;
	routes(specs, 1, NULL);
	path_matches = 0;
	path_conversation(&cv, fields, 6);
	for (i = 0; i < 4; i++)
		assert_int_equal(cv.route[i], USERS_ID);
	assert_int_equal(cv.route[4], LP_ROUTE_UNROUTED);
	assert_int_equal(cv.route[5], USERS_ID);
	/* read: the first, the literal, "/img", the first again (the memo is one path) */
	assert_int_equal(path_matches, 4);
}

static void test_an_excluded_health_check_is_in_no_histogram(void **state)
{
	static const char *const specs[] = {"users=/api/users"};
	static const char *const fields[] = {
		"0495626b2b22f394742675fb857c651d099d8bd3949d7f", /* the gRPC health check */
		"040c2f6170692f75736572732f31",
	};
	struct conv cv = {0};

	(void)state;
	routes(specs, 1, "/grpc.health.v1.Health/");
	path_conversation(&cv, fields, 2);
	assert_int_equal(cv.route[0], LP_ROUTE_EXCLUDED | 0);
	assert_int_equal(cv.route[1], USERS_ID);
}

static void test_a_path_from_before_the_agent_is_unknown(void **state)
{
	static const char *const specs[] = {"users=/api/users"};
	struct conv cv = {0};

	(void)state;
	routes(specs, 1, NULL);
	/* met mid-stream: its :path refers to an entry made before the agent (index 62) */
	reset_seqs();
	frame(&a, LP_H2_HEADERS, ES | EH, 41, "8286be4101" "61");
	in(&cv, &a, 100);
	frame(&b, LP_H2_HEADERS, EH, 41, S200);
	frame(&b, LP_H2_DATA, ES, 41, "6f6b");
	out(&cv, &b, 300);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.route[0], LP_ROUTE_UNKNOWN);
	/* without routes the same is no route at all */
	memset(&test_routes, 0, sizeof(test_routes));
	memset(&cv, 0, sizeof(cv));
	reset_seqs();
	frame(&a, LP_H2_HEADERS, ES | EH, 41, "8286be4101" "61");
	in(&cv, &a, 100);
	frame(&b, LP_H2_HEADERS, EH, 41, S200);
	frame(&b, LP_H2_DATA, ES, 41, "6f6b");
	out(&cv, &b, 300);
	assert_int_equal(cv.route[0], LP_ROUTE_NONE);
}

static void test_every_cut_of_a_huffman_path_is_never_a_wrong_route(void **state)
{
	static const char *const specs[] = {"users=/api/users"};
	static const __u8 path[] = {0x60, 0x75, 0x99, 0x8b, 0x50, 0x5b, 0x10, 0xc0, 0x7f};
	struct {
		struct lp_route_key k;
		__u8 room[LP_ROUTE_LEN];
	} key;
	struct lp_hp_field f = {.kind = LP_HK_PATH, .flags = LP_HPF_LITERAL | LP_HPF_HUFFMAN};
	struct lp_huff_out o;
	__u8 *p;
	__u32 len;
	int r;

	(void)state;
	routes(specs, 1, NULL);
	/* a value shorter than its code (the bytes cut): bad Huffman or a shorter path, never
	 * a longer one; whole: the route */
	for (len = 0; len <= sizeof(path); len++) {
		p = malloc(len ? len : 1);
		memcpy(p, path, len);
		f.vat = 0;
		f.vlen = (__u16)len;
		r = lp_h2_path_key(p, len, &f, &key.k, &o);
		if (len == sizeof(path)) {
			assert_int_equal(r, 1);
			assert_int_equal(lp_route_match_entries(test_ents, test_nents, &key.k),
					 USERS_ID);
		} else if (r == 1) {
			assert_true(key.k.prefixlen / 8 <= 13);
			assert_int_not_equal(memcmp(key.k.path, "/api/users/1", 13), 0);
		}
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_and_huffman_paths_route_as_http1_targets),
		cmocka_unit_test(test_a_path_in_the_table_keeps_its_route),
		cmocka_unit_test(test_a_path_never_indexed_is_matched_once_while_it_repeats),
		cmocka_unit_test(test_an_excluded_health_check_is_in_no_histogram),
		cmocka_unit_test(test_a_path_from_before_the_agent_is_unknown),
		cmocka_unit_test(test_every_cut_of_a_huffman_path_is_never_a_wrong_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
