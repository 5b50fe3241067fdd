// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --web-config parsing and bcrypt checks (userspace/export/webconfig.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "export/webconfig.h"

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
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n  min_version: TLS9\n",
		  "min_version: 'TLS9' is not one of" },
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n  min_version: TLS13\n"
		  "  max_version: TLS12\n", "min_version is above max_version" },
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n  cipher_suites: TLS_X\n",
		  "cipher_suites must be a list" },
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n  cipher_suites:\n"
		  "    - TLS_RSA_WITH_RC4_128_SHA\n", "unknown or unsupported suite 'TLS_RSA_WITH_RC4" },
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n"
		  "  client_auth_type: RequireAndVerifyClientCert\n", "needs client_ca_file" },
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n  client_ca_file: ca\n",
		  "client_auth_type is NoClientCert" },
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n  client_auth_type: Maybe\n",
		  "client_auth_type: 'Maybe'" },
		{ "tls_server_config:\n  cert_file: x\n  key_file: y\n"
		  "  prefer_server_cipher_suites: yes\n", "not true or false" },
		{ "tls_server_config:\n  min_version: TLS13\n", "needs both cert_file and key_file" },
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

/* the exporter toolkit's TLS keys, and the GnuTLS priority string they make */
static void test_tls_settings(void **state)
{
	struct lp_webconfig wc;
	char err[256] = "";

	(void)state;
	/* defaults: TLS 1.2 and 1.3, ECDHE, AEAD; nothing older, no RSA key exchange */
	assert_int_equal(parse("tls_server_config:\n  cert_file: c\n  key_file: k\n", &wc, err), 0);
	assert_int_equal(wc.min_version, 0x0303);
	assert_int_equal(wc.max_version, 0x0304);
	assert_int_equal(wc.client_auth, LP_CLIENT_NONE);
	assert_non_null(strstr(wc.priorities, "-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3"));
	assert_null(strstr(wc.priorities, "TLS1.1"));
	assert_null(strstr(wc.priorities, ":+RSA"));
	assert_null(strstr(wc.priorities, "CBC"));
	assert_non_null(strstr(wc.priorities, "+ECDHE-RSA"));
	assert_non_null(strstr(wc.priorities, "%SERVER_PRECEDENCE"));
	assert_true(lp_webconfig_suite_allowed(&wc, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"));
	lp_webconfig_free(&wc);

	assert_int_equal(parse("tls_server_config:\n  cert_file: c\n  key_file: k\n"
			       "  min_version: TLS10\n  max_version: TLS12\n"
			       "  cipher_suites:\n    - TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA\n"
			       "    - TLS_RSA_WITH_AES_256_GCM_SHA384\n    - TLS_AES_128_GCM_SHA256\n"
			       "  prefer_server_cipher_suites: false\n"
			       "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n",
			       &wc, err), 0);
	assert_int_equal(wc.nsuites, 3);
	assert_int_equal(wc.client_auth, LP_CLIENT_VERIFY_IF_GIVEN);
	assert_string_equal(wc.client_ca_file, "ca.pem");
	assert_string_equal(wc.priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:+VERS-TLS1.2:"
					   "-KX-ALL:-CIPHER-ALL:-MAC-ALL:+ECDHE-ECDSA:+AES-128-CBC:"
					   "+SHA1:+RSA:+AES-256-GCM:+AEAD");
	assert_true(lp_webconfig_suite_allowed(&wc, "TLS_RSA_WITH_AES_256_GCM_SHA384"));
	/* made of listed parts, not listed: refused by the server after the handshake */
	assert_false(lp_webconfig_suite_allowed(&wc, "TLS_RSA_WITH_AES_128_CBC_SHA"));
	assert_false(lp_webconfig_suite_allowed(&wc, NULL));
	lp_webconfig_free(&wc);
}

/* an unknown user is checked against a dummy hash of the same cost */
static void test_unknown_users_pay_a_bcrypt_too(void **state)
{
	struct lp_webconfig wc;
	char err[256] = "", text[256];

	(void)state;
	snprintf(text, sizeof(text), "basic_auth_users:\n  u: %s\n", HASH);
	assert_int_equal(parse(text, &wc, err), 0);
	assert_null(wc.dummy_hash);
	assert_int_equal(lp_webconfig_arm(&wc), 0);
	assert_non_null(wc.dummy_hash);
	assert_int_equal(strlen(wc.dummy_hash), 60);
	assert_memory_equal(wc.dummy_hash, "$2b$04$", 7); /* the scheme and cost of u's */
	assert_false(lp_webconfig_check(&wc, "nobody", "s3cret"));
	assert_true(lp_webconfig_check(&wc, "u", "s3cret"));
	lp_webconfig_free(&wc);
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
		cmocka_unit_test(test_tls_settings),
		cmocka_unit_test(test_unknown_users_pay_a_bcrypt_too),
	};

	return cmocka_run_group_tests_name("webconfig", tests, NULL, NULL);
}
