/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --web-config FILE: TLS and basic auth for the HTTP endpoint, in the shape
 * of the Prometheus exporter toolkit's web config:
 *
 *   tls_server_config:
 *     cert_file: /etc/latprobe/tls.crt
 *     key_file: /etc/latprobe/tls.key
 *     min_version: TLS12             # TLS10 .. TLS13; default TLS12
 *     max_version: TLS13             # default TLS13
 *     cipher_suites:                 # TLS 1.2 and below; IANA (Go) names
 *       - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
 *     prefer_server_cipher_suites: true
 *     client_auth_type: RequireAndVerifyClientCert
 *     client_ca_file: /etc/latprobe/clients-ca.crt
 *   basic_auth_users:
 *     prometheus: $2y$10$...   # bcrypt, e.g. from htpasswd -nBC 10 prometheus
 */
#ifndef LP_WEBCONFIG_H
#define LP_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define LP_WEB_MAX_USERS  64
#define LP_WEB_MAX_SUITES 32

struct lp_web_user {
	char *name;
	char *hash; /* bcrypt: $2a$ / $2b$ / $2y$ */
};

/* client_auth_type, as the exporter toolkit names them */
enum lp_client_auth {
	LP_CLIENT_NONE,		  /* NoClientCert */
	LP_CLIENT_REQUEST,	  /* RequestClientCert: asked for, not required */
	LP_CLIENT_REQUIRE_ANY,	  /* RequireAnyClientCert: required, not verified */
	LP_CLIENT_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven */
	LP_CLIENT_REQUIRE_VERIFY, /* RequireAndVerifyClientCert */
};

struct lp_webconfig {
	char *cert_file, *key_file, *client_ca_file;
	char *cert_pem, *key_pem, *client_ca_pem; /* contents, read by lp_webconfig_load */
	unsigned min_version, max_version;	   /* 0x0301 (TLS 1.0) .. 0x0304 (TLS 1.3) */
	char *suites[LP_WEB_MAX_SUITES];	   /* cipher_suites: IANA names; none: defaults */
	unsigned nsuites;
	bool prefer_server;
	enum lp_client_auth client_auth;
	char priorities[1024]; /* the GnuTLS priority string all of the above makes */
	struct lp_web_user users[LP_WEB_MAX_USERS];
	unsigned nusers;
	char *dummy_hash; /* bcrypt of nothing, at the users' cost: unknown users pay it too */
};

/* Parse YAML text; on error returns -EINVAL and a message naming the problem. */
int lp_webconfig_parse(const char *text, size_t len, struct lp_webconfig *wc, char *err,
		       size_t errlen);
/* Read and parse the file, then read the certificates and key it names. */
int lp_webconfig_load(const char *path, struct lp_webconfig *wc, char *err, size_t errlen);
void lp_webconfig_free(struct lp_webconfig *wc);
/* Make the dummy hash (lp_webconfig_load does): bcrypt at the first user's cost. */
int lp_webconfig_arm(struct lp_webconfig *wc);
/*
 * Check user and password against the bcrypt hashes (constant-time compare).
 * An unknown user costs one bcrypt too (of the dummy hash), so the time
 * does not tell which user names exist. It takes tens of milliseconds:
 * call it off the HTTP threads.
 */
bool lp_webconfig_check(const struct lp_webconfig *wc, const char *user, const char *password);
/* Is this negotiated TLS 1.2 suite (IANA name) one cipher_suites allows? True without a list. */
bool lp_webconfig_suite_allowed(const struct lp_webconfig *wc, const char *iana);

#endif
