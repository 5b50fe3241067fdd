// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Routes: the key the kernel builds from a request target (include/lp_route.h),
 * the trie entries user space builds from --route/--exclude-path
 * (userspace/base/routes.c), and the match between them, with the trie's
 * rule (lp_route_match_entries). Every buffer is a heap copy of exactly the
 * bytes "read", so a read past them is an ASan error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/routes.h"
#include "lp_classify.h"

static char err[512];
static struct lp_routes rs;
static struct lp_route_entry ents[LP_ROUTE_ENTRIES];
static unsigned nents;

static void routes(const char *const *specs, size_t n)
{
	size_t i;

	memset(&rs, 0, sizeof(rs));
	for (i = 0; i < n; i++) {
		int exclude = specs[i][0] == '!';

		if (lp_routes_add(&rs, specs[i] + exclude, exclude, err, sizeof(err))) {
			print_error("%s: %s\n", specs[i], err);
			fail();
		}
	}
	nents = lp_routes_entries(&rs, ents, LP_ROUTE_ENTRIES);
}

/* the route of a request head's first n bytes, as the kernel finds it */
static __u16 route_n(const char *req, size_t n)
{
	__u8 *copy = malloc(n ? n : 1), method = 0;
	struct lp_route_key k;
	__u16 status = 0, id = LP_ROUTE_UNROUTED;

	assert_non_null(copy);
	memcpy(copy, req, n);
	memset(&k, 0xa5, sizeof(k)); /* the kernel's key holds the last request's bytes */
	if (lp_classify(copy, n < LP_CLASSIFY_BYTES ? (__u32)n : LP_CLASSIFY_BYTES, &method,
			&status) == LP_CLASS_REQUEST &&
	    lp_route_key(copy, (__u32)n, lp_route_target_at(method), lp_routes_max_len(&rs), &k))
		id = lp_route_match_entries(ents, nents, &k);
	free(copy);
	return id;
}

static __u16 route(const char *req)
{
	return route_n(req, strlen(req));
}

static const char *label(const char *req)
{
	return lp_route_label(&rs, route(req));
}

static void test_a_route_is_its_path_and_what_is_under_it(void **state)
{
	static const char *const specs[] = {"/api/users", "/api/", "/img*", "/"};

	(void)state;
	routes(specs, 4);
	assert_string_equal(label("GET /api/users HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("GET /api/users/42 HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("GET /api/users?id=4 HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("GET /api/users#x HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("GET /api/users/ HTTP/1.1\r\n"), "/api/users");
	/* not a segment boundary: the shorter route "/api/" */
	assert_string_equal(label("GET /api/usersX HTTP/1.1\r\n"), "/api/");
	assert_string_equal(label("GET /api/ HTTP/1.1\r\n"), "/api/");
	/* "/api/" is what is under /api/: "/api" itself is only under "/" */
	assert_string_equal(label("GET /api HTTP/1.1\r\n"), "/");
	assert_string_equal(label("GET /imgs/a.png HTTP/1.1\r\n"), "/img*");
	assert_string_equal(label("GET /images/a.png HTTP/1.1\r\n"), "/");
	assert_string_equal(label("GET /img HTTP/1.1\r\n"), "/img*");
	assert_string_equal(label("GET / HTTP/1.1\r\n"), "/");
	assert_string_equal(label("GET /other HTTP/1.1\r\n"), "/");
	/* bytes as they are: no percent-decoding, no folding of // */
	assert_string_equal(label("GET /api%2Fusers HTTP/1.1\r\n"), "/");
	assert_string_equal(label("GET //api/users HTTP/1.1\r\n"), "/");
	/* every method's target offset */
	assert_string_equal(label("POST /api/users HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("DELETE /api/users/1 HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("OPTIONS /api/users HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("PATCH /api/users HTTP/1.1\r\n"), "/api/users");
	assert_string_equal(label("HEAD /api/users HTTP/1.1\r\n"), "/api/users");
}

static void test_no_match_and_pathless_targets_are_unrouted(void **state)
{
	static const char *const specs[] = {"checkout=/api/cart/checkout", "/static/"};

	(void)state;
	routes(specs, 2);
	assert_int_equal(route("GET /api/cart HTTP/1.1\r\n"), LP_ROUTE_UNROUTED);
	assert_string_equal(label("GET /api/cart HTTP/1.1\r\n"), LP_ROUTE_UNROUTED_LABEL);
	assert_string_equal(label("POST /api/cart/checkout HTTP/1.1\r\n"), "checkout");
	assert_int_equal(route("OPTIONS * HTTP/1.1\r\n"), LP_ROUTE_UNROUTED);
	assert_int_equal(route("CONNECT host:443 HTTP/1.1\r\n"), LP_ROUTE_UNROUTED);
	assert_int_equal(route("GET ftp://h/static/a HTTP/1.1\r\n"), LP_ROUTE_UNROUTED);
	/* without routes there is no label at all */
	assert_null(lp_route_label(&rs, LP_ROUTE_NONE));
}

static void test_absolute_form_is_matched_on_its_path(void **state)
{
	static const char *const specs[] = {"users=/api/users", "/"};

	(void)state;
	routes(specs, 2);
	assert_string_equal(label("GET http://example.com/api/users/7 HTTP/1.1\r\n"), "users");
	assert_string_equal(label("GET HTTPS://example.com:8443/api/users?x HTTP/1.1\r\n"),
			    "users");
	assert_string_equal(label("GET http://u@h.example/api/users HTTP/1.1\r\n"), "users");
	/* an empty path is "/" */
	assert_string_equal(label("GET http://example.com HTTP/1.1\r\n"), "/");
	assert_string_equal(label("GET http://example.com?q=/api/users HTTP/1.1\r\n"), "/");
	/* the host is not the path */
	assert_string_equal(label("GET http://api/users HTTP/1.1\r\n"), "/");
	/* cut in the authority: nothing certain */
	assert_int_equal(route_n("GET http://example.com/api/users HTTP/1.1\r\n", 20),
			 LP_ROUTE_UNROUTED);
}

/*
 * The head cut at every byte (a request line split across segments): the
 * route is the right one or "unrouted", never another one; and the right
 * one as soon as the path's end was read.
 */
static void test_a_cut_target_never_gets_a_wrong_route(void **state)
{
	static const char *const specs[] = {"/api", "users=/api/users", "/api/users/42/photos",
					    "/a*"};
	static const char *const reqs[] = {
		"GET /api/users/42?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /api/users/42/photos/1 HTTP/1.1\r\n\r\n",
		"GET /apiary HTTP/1.1\r\n\r\n",
		"GET http://h.example/api/users HTTP/1.1\r\n\r\n",
		"GET /b HTTP/1.1\r\n\r\n",
	};
	size_t r, n, len, endpath;
	__u16 truth, got;

	(void)state;
	routes(specs, 4);
	for (r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
		len = strlen(reqs[r]);
		truth = route(reqs[r]);
		endpath = strcspn(reqs[r] + 4, " ?") + 4; /* index of the byte ending the path */
		for (n = 0; n <= len; n++) {
			got = route_n(reqs[r], n);
			if (got != truth && got != LP_ROUTE_UNROUTED) {
				print_error("'%s' cut at %zu: route %u, want %u or unrouted\n",
					    reqs[r], n, got, truth);
				fail();
			}
			if (n > endpath && got != truth) {
				print_error("'%s' cut at %zu (path read whole): %u, want %u\n",
					    reqs[r], n, got, truth);
				fail();
			}
		}
	}
	/* the truths themselves */
	assert_string_equal(label(reqs[0]), "users");
	assert_string_equal(label(reqs[1]), "/api/users/42/photos");
	assert_string_equal(label(reqs[2]), "/a*");
	assert_string_equal(label(reqs[3]), "users");
	assert_int_equal(route(reqs[4]), LP_ROUTE_UNROUTED);
}

/* a 2 KB path: matched on its first LP_ROUTE_LEN bytes, which decide (no entry is longer) */
static void test_a_path_longer_than_a_key_is_matched_exactly(void **state)
{
	static const char *const specs[] = {"/files/", "/files/aaaa"};
	char req[2200];
	size_t i;

	(void)state;
	routes(specs, 2);
	strcpy(req, "GET /files/");
	for (i = strlen(req); i < 2048; i++)
		req[i] = 'b';
	strcpy(req + i, " HTTP/1.1\r\n\r\n");
	assert_string_equal(label(req), "/files/");
	memset(req + 11, 'a', 2048 - 11);
	assert_string_equal(label(req), "/files/"); /* "/files/aaaaa...": not under /files/aaaa */
	req[15] = '/';
	assert_string_equal(label(req), "/files/aaaa");
	/* a long route exactly at the limit: 127 bytes + the end mark */
	{
		char spec[LP_ROUTE_LEN + 1];
		static const char *specs2[1];

		memset(spec, 'c', LP_ROUTE_LEN - 1);
		spec[0] = '/';
		spec[LP_ROUTE_LEN - 1] = 0;
		specs2[0] = spec;
		routes(specs2, 1);
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n", spec);
		assert_string_equal(label(req), spec);
		snprintf(req, sizeof(req), "GET %s/x HTTP/1.1\r\n", spec);
		assert_string_equal(label(req), spec);
		snprintf(req, sizeof(req), "GET %sc HTTP/1.1\r\n", spec);
		assert_int_equal(route(req), LP_ROUTE_UNROUTED);
	}
}

static void test_longest_match_and_exclusions(void **state)
{
	static const char *const specs[] = {"/api", "!/api/health", "!/healthz", "/api/v1/"};
	__u16 id;

	(void)state;
	routes(specs, 4);
	id = route("GET /api/health HTTP/1.1\r\n");
	assert_true(id & LP_ROUTE_EXCLUDED);
	assert_int_equal(id & ~LP_ROUTE_EXCLUDED, 0);
	assert_string_equal(lp_route_excluded(&rs, 0), "/api/health");
	id = route("GET /healthz HTTP/1.1\r\n");
	assert_int_equal(id, LP_ROUTE_EXCLUDED | 1);
	assert_string_equal(lp_route_excluded(&rs, 1), "/healthz");
	assert_string_equal(label("GET /api/healthy HTTP/1.1\r\n"), "/api");
	assert_string_equal(label("GET /api/v1/x HTTP/1.1\r\n"), "/api/v1/");
	assert_int_equal(rs.nexcluded, 2);
	assert_int_equal(rs.nroutes, 2);
}

static void test_routes_with_one_name_share_a_label(void **state)
{
	static const char *const specs[] = {"users=/api/users", "users=/v2/users", "/x"};

	(void)state;
	routes(specs, 3);
	assert_int_equal(rs.nlabels, 2);
	assert_int_equal(route("GET /api/users HTTP/1.1\r\n"),
			 route("GET /v2/users/1 HTTP/1.1\r\n"));
	assert_int_equal(lp_route_id(&rs, "users"), LP_ROUTE_FIRST);
	assert_int_equal(lp_route_id(&rs, "/x"), LP_ROUTE_FIRST + 1);
	assert_int_equal(lp_route_id(&rs, "unrouted"), LP_ROUTE_UNROUTED);
	assert_int_equal(lp_route_id(&rs, "/nope"), 0);
}

/* a reload: labels and exclusions keep their ids, dropped ones stay named, new ones are new */
static void test_a_reload_keeps_every_id_and_name(void **state)
{
	static const char *const before[] = {"users=/api/users", "/x", "!/healthz", "!/ready"};
	static const char *const after[] = {"orders=/api/orders", "users=/v2/users", "!/ready",
					    "!/live"};
	struct lp_routes cur;
	__u16 users, x;

	(void)state;
	routes(before, 4);
	cur = rs;
	users = lp_route_id(&cur, "users");
	x = lp_route_id(&cur, "/x");
	routes(after, 4);
	/* parsed alone, orders would take users' id */
	assert_int_equal(lp_route_id(&rs, "orders"), users);
	assert_int_equal(lp_routes_carry(&rs, &cur, err, sizeof(err)), 0);
	assert_int_equal(lp_route_id(&rs, "users"), users);
	assert_int_equal(lp_route_id(&rs, "/x"), x); /* dropped, still named for its series */
	assert_string_equal(lp_route_label(&rs, x), "/x");
	assert_int_equal(lp_route_id(&rs, "orders"), LP_ROUTE_FIRST + 2);
	assert_int_equal(rs.nroutes, 2);
	assert_int_equal(rs.nlabels, 3);
	/* exclusions: /ready keeps index 1, /healthz (0) is dropped, /live is 2 */
	assert_int_equal(rs.nexcluded, 3);
	assert_string_equal(lp_route_excluded(&rs, 0), "/healthz");
	assert_string_equal(lp_route_excluded(&rs, 1), "/ready");
	assert_string_equal(lp_route_excluded(&rs, 2), "/live");
	assert_int_equal(rs.gone_mask, 1);
	/* the trie: only the new configuration's entries, under the carried ids */
	nents = lp_routes_entries(&rs, ents, LP_ROUTE_ENTRIES);
	assert_int_equal(route("GET /v2/users/7 HTTP/1.1\r\n"), users);
	assert_int_equal(route("GET /api/users/7 HTTP/1.1\r\n"), LP_ROUTE_UNROUTED);
	assert_int_equal(route("GET /api/orders HTTP/1.1\r\n"), LP_ROUTE_FIRST + 2);
	assert_int_equal(route("GET /ready HTTP/1.1\r\n"), LP_ROUTE_EXCLUDED | 1);
	assert_int_equal(route("GET /live HTTP/1.1\r\n"), LP_ROUTE_EXCLUDED | 2);
	assert_int_equal(route("GET /healthz HTTP/1.1\r\n"), LP_ROUTE_UNROUTED);
	/* and back: /healthz takes its old index again */
	cur = rs;
	routes(before, 4);
	assert_int_equal(lp_routes_carry(&rs, &cur, err, sizeof(err)), 0);
	assert_int_equal(lp_route_id(&rs, "users"), users);
	assert_int_equal(lp_route_id(&rs, "orders"), LP_ROUTE_FIRST + 2);
	nents = lp_routes_entries(&rs, ents, LP_ROUTE_ENTRIES);
	assert_int_equal(route("GET /healthz HTTP/1.1\r\n"), LP_ROUTE_EXCLUDED | 0);
	assert_int_equal(rs.gone_mask, 1u << 2);
}

/* the ids of a whole life are bounded: past them a reload is refused, saying why */
static void test_a_reload_past_the_ids_is_refused(void **state)
{
	static struct lp_routes cur;
	char spec[64];
	unsigned i;

	(void)state;
	memset(&cur, 0, sizeof(cur));
	for (i = 0; i < LP_ROUTES_MAX; i++) {
		snprintf(spec, sizeof(spec), "r%u=/r%u", i, i);
		assert_int_equal(lp_routes_add(&cur, spec, false, err, sizeof(err)), 0);
	}
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(lp_routes_add(&rs, "new=/new", false, err, sizeof(err)), 0);
	assert_int_equal(lp_routes_carry(&rs, &cur, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "route labels over the agent's life"));
}

static void test_bad_specs_are_refused_with_a_reason(void **state)
{
	static const struct {
		const char *spec;
		int exclude;
		const char *expect;
	} cases[] = {
		{"api", 0, "expected PREFIX or NAME=PREFIX"},
		{"a b=/x", 0, "a route name has"},
		{"=/x", 0, "1 to 63"},
		{"unrouted=/x", 0, "the label of unmatched"},
		{"n=x", 0, "starts with '/'"},
		{"/a b", 0, "no spaces"},
		{"/a?b", 0, "'?'"},
		{"/a*b", 0, "'*' only at the end"},
		{"n=/x", 1, "has no name"},
		{"/x", 0, "matches the same paths as '/x'"},
		{"/x/", 0, "matches the same paths as '/x'"},
		/* every output carries a prefix: promtool refuses a scrape with bad UTF-8 */
		{"/caf\xe9", 0, "valid UTF-8"},
		{"/\xc3", 1, "valid UTF-8"},
		{"/a\xe2\x80\xae" "b", 0, "bidirectional"}, /* U+202E */
		{"/\xed\xa0\x80", 0, "valid UTF-8"},	      /* a surrogate */
	};
	char longp[LP_ROUTE_LEN + 2];
	size_t i;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(lp_routes_add(&rs, "/x", false, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = lp_routes_add(&rs, cases[i].spec, cases[i].exclude, err, sizeof(err));

		if (r != -EINVAL || !strstr(err, cases[i].expect)) {
			print_error("'%s' -> %d '%s', want '%s'\n", cases[i].spec, r, err,
				    cases[i].expect);
			fail();
		}
	}
	memset(longp, 'l', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	assert_int_equal(lp_routes_add(&rs, longp, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most 127 bytes"));
	/* the limits */
	memset(&rs, 0, sizeof(rs));
	for (i = 0; i < LP_ROUTES_MAX; i++) {
		char spec[32];

		snprintf(spec, sizeof(spec), "/r%zu", i);
		assert_int_equal(lp_routes_add(&rs, spec, false, err, sizeof(err)), 0);
	}
	assert_int_equal(lp_routes_add(&rs, "/one-more", false, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "more than 512 routes"));
	assert_int_equal(lp_routes_entries(&rs, ents, LP_ROUTE_ENTRIES), 2 * LP_ROUTES_MAX);
}

/* path holding the n bytes of text, read as a routes file into a fresh rs */
static int routes_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
	memset(&rs, 0, sizeof(rs));
	return lp_routes_add_file(&rs, path, err, sizeof(err));
}

static void test_a_routes_file_names_the_bad_line(void **state)
{
	char path[] = "/tmp/lp-routes-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# routes of the shop\n\n  checkout=/api/cart/checkout  \r\n/api/users\n"
	      "bad line\n/never\n",
	      f);
	fclose(f);
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(lp_routes_add_file(&rs, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":5: 'bad line'"));
	assert_non_null(strstr(err, path));
	/* the lines before it were taken, the one after not */
	assert_int_equal(rs.nroutes, 2);
	assert_string_equal(rs.labels[0], "checkout");
	/* a NUL inside a line is said as such, wherever it is (the last line too) */
	assert_int_equal(routes_file(path, "/a\n/b\0c\n/d\n", 11), -EINVAL);
	assert_non_null(strstr(err, ":2: a NUL byte"));
	assert_int_equal(routes_file(path, "/a\n/b\0c", 8), -EINVAL);
	assert_non_null(strstr(err, ":2: a NUL byte"));
	/* UTF-8 is a path's right: it passes */
	assert_int_equal(routes_file(path, "/caf\xc3\xa9\n", 7), 0);
	unlink(path);
	assert_int_equal(lp_routes_add_file(&rs, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_route_is_its_path_and_what_is_under_it),
		cmocka_unit_test(test_no_match_and_pathless_targets_are_unrouted),
		cmocka_unit_test(test_absolute_form_is_matched_on_its_path),
		cmocka_unit_test(test_a_cut_target_never_gets_a_wrong_route),
		cmocka_unit_test(test_a_path_longer_than_a_key_is_matched_exactly),
		cmocka_unit_test(test_longest_match_and_exclusions),
		cmocka_unit_test(test_routes_with_one_name_share_a_label),
		cmocka_unit_test(test_bad_specs_are_refused_with_a_reason),
		cmocka_unit_test(test_a_reload_keeps_every_id_and_name),
		cmocka_unit_test(test_a_reload_past_the_ids_is_refused),
		cmocka_unit_test(test_a_routes_file_names_the_bad_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
