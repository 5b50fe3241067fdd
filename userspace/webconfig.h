/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --web-config FILE: TLS and basic auth for the HTTP endpoint, in the shape
 * Prometheus exporters use:
 *
 *   tls_server_config:
 *     cert_file: /etc/latprobe/tls.crt
 *     key_file: /etc/latprobe/tls.key
 *   basic_auth_users:
 *     prometheus: $2y$10$...   # bcrypt, e.g. from htpasswd -nBC 10 prometheus
 */
#ifndef LP_WEBCONFIG_H
#define LP_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define LP_WEB_MAX_USERS 64

struct lp_web_user {
	char *name;
	char *hash; /* bcrypt: $2a$ / $2b$ / $2y$ */
};

struct lp_webconfig {
	char *cert_file, *key_file;
	char *cert_pem, *key_pem; /* contents, read by lp_webconfig_load */
	struct lp_web_user users[LP_WEB_MAX_USERS];
	unsigned nusers;
};

/* Parse YAML text; on error returns -EINVAL and a message naming the problem. */
int lp_webconfig_parse(const char *text, size_t len, struct lp_webconfig *wc, char *err,
		       size_t errlen);
/* Read and parse the file, then read the certificate and key it names. */
int lp_webconfig_load(const char *path, struct lp_webconfig *wc, char *err, size_t errlen);
void lp_webconfig_free(struct lp_webconfig *wc);
/* Check user and password against the bcrypt hashes (constant-time compare). */
bool lp_webconfig_check(const struct lp_webconfig *wc, const char *user, const char *password);

#endif
