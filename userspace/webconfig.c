// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "webconfig.h"

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void lp_webconfig_free(struct lp_webconfig *wc)
{
	unsigned i;

	free(wc->cert_file);
	free(wc->key_file);
	free(wc->cert_pem);
	free(wc->key_pem);
	for (i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	memset(wc, 0, sizeof(*wc));
}

static bool is_bcrypt(const char *h)
{
	return strlen(h) == 60 && h[0] == '$' && h[1] == '2' &&
	       (h[2] == 'a' || h[2] == 'b' || h[2] == 'y') && h[3] == '$';
}

/*
 * A small event-driven reader: top-level mapping with two known sections,
 * each a mapping of scalars. Anything else is an error that names it.
 */
int lp_webconfig_parse(const char *text, size_t len, struct lp_webconfig *wc, char *err,
		       size_t errlen)
{
	enum { TOP, SECTION_KEY, SECTION_VAL } st = TOP;
	enum { NONE, TLS, AUTH } section = NONE;
	yaml_parser_t p;
	yaml_event_t ev;
	char *key = NULL;
	int depth = 0, e = 0;
	bool done = false;

	memset(wc, 0, sizeof(*wc));
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			errf(err, errlen, "YAML error at line %zu: %s", p.problem_mark.line + 1,
			     p.problem ? p.problem : "unknown");
			e = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_MAPPING_START_EVENT:
			depth++;
			if (depth == 2 && st == TOP && section != NONE) {
				st = SECTION_KEY;
			} else if (depth > 1) {
				errf(err, errlen, "unexpected mapping at line %zu",
				     ev.start_mark.line + 1);
				e = -EINVAL;
			}
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			if (depth == 1) {
				st = TOP;
				section = NONE;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_ALIAS_EVENT:
			errf(err, errlen, "unexpected %s at line %zu",
			     ev.type == YAML_ALIAS_EVENT ? "alias" : "list", ev.start_mark.line + 1);
			e = -EINVAL;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;

			if (depth == 1 && st == TOP && section == NONE) {
				if (!strcmp(v, "tls_server_config")) {
					section = TLS;
				} else if (!strcmp(v, "basic_auth_users")) {
					section = AUTH;
				} else {
					errf(err, errlen, "unknown key '%s' (expected tls_server_config, "
						     "basic_auth_users)", v);
					e = -EINVAL;
				}
			} else if (depth == 1 && section != NONE) {
				/* "section:" with an empty value */
				section = NONE;
				if (!strcmp(v, "tls_server_config") || !strcmp(v, "basic_auth_users"))
					section = !strcmp(v, "tls_server_config") ? TLS : AUTH;
				else if (v[0]) {
					errf(err, errlen, "'%s' must be a mapping", v);
					e = -EINVAL;
				}
			} else if (depth == 2 && st == SECTION_KEY) {
				key = strdup(v);
				if (!key)
					e = -ENOMEM;
				st = SECTION_VAL;
			} else if (depth == 2 && st == SECTION_VAL) {
				st = SECTION_KEY;
				if (section == TLS) {
					char **dst = !strcmp(key, "cert_file") ? &wc->cert_file :
						     !strcmp(key, "key_file")  ? &wc->key_file :
										 NULL;

					if (!dst) {
						errf(err, errlen, "tls_server_config: unknown key '%s' "
							     "(expected cert_file, key_file)", key);
						e = -EINVAL;
					} else if (*dst) {
						errf(err, errlen, "tls_server_config: '%s' given twice", key);
						e = -EINVAL;
					} else if (!(*dst = strdup(v))) {
						e = -ENOMEM;
					}
				} else {
					unsigned i;

					for (i = 0; i < wc->nusers; i++)
						if (!strcmp(wc->users[i].name, key))
							break;
					if (i < wc->nusers) {
						errf(err, errlen, "basic_auth_users: user '%s' given twice", key);
						e = -EINVAL;
					} else if (!is_bcrypt(v)) {
						errf(err, errlen, "basic_auth_users: the password of '%s' is "
							     "not a bcrypt hash ($2y$...)", key);
						e = -EINVAL;
					} else if (wc->nusers >= LP_WEB_MAX_USERS) {
						errf(err, errlen, "basic_auth_users: more than %d users",
						     LP_WEB_MAX_USERS);
						e = -EINVAL;
					} else {
						wc->users[wc->nusers].name = strdup(key);
						wc->users[wc->nusers].hash = strdup(v);
						if (!wc->users[wc->nusers].name || !wc->users[wc->nusers].hash)
							e = -ENOMEM;
						wc->nusers++;
					}
				}
				free(key);
				key = NULL;
			} else if (depth == 0 && v[0]) {
				errf(err, errlen, "the file is not a mapping");
				e = -EINVAL;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (e)
			break;
	}
	free(key);
	yaml_parser_delete(&p);
	if (!e && (!wc->cert_file) != (!wc->key_file)) {
		errf(err, errlen, "tls_server_config needs both cert_file and key_file");
		e = -EINVAL;
	}
	if (e)
		lp_webconfig_free(wc);
	return e;
}

static char *read_file(const char *path, size_t max, size_t *len, int *e)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	*e = 0;
	if (!f) {
		*e = -errno;
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		*e = -ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		*e = -EIO;
	else if (n > max)
		*e = -EFBIG;
	fclose(f);
	if (*e) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int lp_webconfig_load(const char *path, struct lp_webconfig *wc, char *err, size_t errlen)
{
	char sub[256], *text;
	size_t len;
	int e;

	text = read_file(path, 1 << 20, &len, &e);
	if (!text) {
		errf(err, errlen, "--web-config: cannot read '%s': %s", path, strerror(-e));
		return e;
	}
	e = lp_webconfig_parse(text, len, wc, sub, sizeof(sub));
	free(text);
	if (e) {
		errf(err, errlen, "--web-config: '%s': %s", path, sub);
		return e;
	}
	if (wc->cert_file) {
		wc->cert_pem = read_file(wc->cert_file, 1 << 20, NULL, &e);
		if (!e && !strstr(wc->cert_pem, "-----BEGIN CERTIFICATE-----"))
			e = -EBADMSG;
		if (e) {
			errf(err, errlen, "--web-config: '%s': cannot use cert_file '%s': %s", path,
			     wc->cert_file, e == -EBADMSG ? "not a PEM certificate" : strerror(-e));
			lp_webconfig_free(wc);
			return e;
		}
		wc->key_pem = read_file(wc->key_file, 1 << 20, NULL, &e);
		if (!e && !strstr(wc->key_pem, "PRIVATE KEY-----"))
			e = -EBADMSG;
		if (e) {
			errf(err, errlen, "--web-config: '%s': cannot use key_file '%s': %s", path,
			     wc->key_file, e == -EBADMSG ? "not a PEM private key" : strerror(-e));
			lp_webconfig_free(wc);
			return e;
		}
	}
	return 0;
}

bool lp_webconfig_check(const struct lp_webconfig *wc, const char *user, const char *password)
{
	struct crypt_data cd;
	const char *h, *want;
	unsigned char diff = 0;
	size_t n, j;
	unsigned i;

	if (!user || !password)
		return false;
	for (i = 0; i < wc->nusers; i++) {
		if (strcmp(wc->users[i].name, user))
			continue;
		want = wc->users[i].hash;
		memset(&cd, 0, sizeof(cd));
		h = crypt_r(password, want, &cd);
		if (!h || h[0] == '*')
			return false;
		n = strlen(want);
		if (strlen(h) != n)
			return false;
		/* compare every byte: the time does not tell how much matched */
		for (j = 0; j < n; j++)
			diff |= (unsigned char)(h[j] ^ want[j]);
		return diff == 0;
	}
	return false;
}
