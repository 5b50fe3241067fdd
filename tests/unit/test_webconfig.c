// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --web-config parsing and bcrypt checks (userspace/webconfig.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "webconfig.h"

/* bcrypt of "s3cret", cost 4 (fast for tests), made with libcrypt: crypt("s3cret", salt) */
static const char HASH[] = "$2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG";

static int parse(const char *text, struct lp_webconfig *wc, char *err)
{
	return lp_webconfig_parse(text, strlen(text), wc, err, 256);
}

static void test_full_config(void **state)
{
	struct lp_webconfig wc;
	char err[256] = "";
	char text[512];

	(void)state;
	snprintf(text, sizeof(text),
		 "# comment\ntls_server_config:\n  cert_file: /a/tls.crt\n  key_file: \"/a/tls.key\"\n"
		 "basic_auth_users:\n  prometheus: '%s'\n  alice: %s\n", HASH, HASH);
	assert_int_equal(parse(text, &wc, err), 0);
	assert_string_equal(wc.cert_file, "/a/tls.crt");
	assert_string_equal(wc.key_file, "/a/tls.key");
	assert_int_equal(wc.nusers, 2);
	assert_string_equal(wc.users[1].name, "alice");
	assert_true(lp_webconfig_check(&wc, "prometheus", "s3cret"));
	assert_true(lp_webconfig_check(&wc, "alice", "s3cret"));
	assert_false(lp_webconfig_check(&wc, "prometheus", "s3cret "));
	assert_false(lp_webconfig_check(&wc, "prometheus", ""));
	assert_false(lp_webconfig_check(&wc, "bob", "s3cret"));
	assert_false(lp_webconfig_check(&wc, NULL, "s3cret"));
	lp_webconfig_free(&wc);
}

static void test_empty_and_auth_only(void **state)
{
	struct lp_webconfig wc;
	char err[256] = "", text[256];

	(void)state;
	assert_int_equal(parse("", &wc, err), 0);
	assert_int_equal(wc.nusers, 0);
	assert_null(wc.cert_file);
	snprintf(text, sizeof(text), "basic_auth_users:\n  u: %s\n", HASH);
	assert_int_equal(parse(text, &wc, err), 0);
	assert_int_equal(wc.nusers, 1);
	assert_null(wc.cert_file);
	lp_webconfig_free(&wc);
}

static void test_bad_configs_name_the_problem(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "tls_config:\n  cert_file: x\n", "unknown key 'tls_config'" },
		{ "tls_server_config:\n  cert_file: x\n", "needs both cert_file and key_file" },
		{ "tls_server_config:\n  cert: x\n  key_file: y\n", "unknown key 'cert'" },
		{ "tls_server_config:\n  cert_file: x\n  cert_file: y\n  key_file: z\n", "given twice" },
		{ "basic_auth_users:\n  alice: hunter2\n", "not a bcrypt hash" },
		{ "basic_auth_users:\n  - alice\n", "unexpected list" },
		{ "basic_auth_users:\n  alice:\n    nested: x\n", "unexpected mapping" },
		{ "tls_server_config:\n  cert_file: \"open\n", "YAML error" },
		{ "just a string\n", "not a mapping" },
		{ "a: &x 1\nb: *x\n", "unknown key 'a'" },
	};
	struct lp_webconfig wc;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (parse(cases[i].text, &wc, err) != -EINVAL || !strstr(err, cases[i].msg)) {
			print_error("%s -> '%s', want '%s'\n", cases[i].text, err, cases[i].msg);
			fail();
		}
	}
}

static void test_load_names_missing_files(void **state)
{
	struct lp_webconfig wc;
	char err[512];

	(void)state;
	assert_int_equal(lp_webconfig_load("/nonexistent/web.yml", &wc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/web.yml"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_empty_and_auth_only),
		cmocka_unit_test(test_bad_configs_name_the_problem),
		cmocka_unit_test(test_load_names_missing_files),
	};

	return cmocka_run_group_tests_name("webconfig", tests, NULL, NULL);
}
