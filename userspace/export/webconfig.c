// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/util.h"
#include "export/webconfig.h"


void lp_webconfig_free(struct lp_webconfig *wc)
{
	unsigned i;

	free(wc->cert_file);
	free(wc->key_file);
	free(wc->client_ca_file);
	free(wc->cert_pem);
	free(wc->key_pem);
	free(wc->client_ca_pem);
	for (i = 0; i < wc->nsuites; i++)
		free(wc->suites[i]);
	for (i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	free(wc->dummy_hash);
	memset(wc, 0, sizeof(*wc));
}

static bool is_bcrypt(const char *h)
{
	return strlen(h) == 60 && h[0] == '$' && h[1] == '2' &&
	       (h[2] == 'a' || h[2] == 'b' || h[2] == 'y') && h[3] == '$';
}

static const struct {
	const char *name;
	unsigned v;
	const char *gnutls;
} versions[] = {
	{ "TLS10", 0x0301, "+VERS-TLS1.0" },
	{ "TLS11", 0x0302, "+VERS-TLS1.1" },
	{ "TLS12", 0x0303, "+VERS-TLS1.2" },
	{ "TLS13", 0x0304, "+VERS-TLS1.3" },
};

static const struct {
	const char *name;
	enum lp_client_auth v;
} client_auths[] = {
	{ "NoClientCert", LP_CLIENT_NONE },
	{ "RequestClientCert", LP_CLIENT_REQUEST },
	{ "RequireAnyClientCert", LP_CLIENT_REQUIRE_ANY },
	{ "VerifyClientCertIfGiven", LP_CLIENT_VERIFY_IF_GIVEN },
	{ "RequireAndVerifyClientCert", LP_CLIENT_REQUIRE_VERIFY },
};

/*
 * The parts of an IANA suite name, TLS_<kx>_WITH_<cipher>_<mac>, as GnuTLS
 * priority keywords. 0 and the keywords, or -EINVAL.
 */
static int suite_parts(const char *iana, const char **kx, const char **cipher, const char **mac)
{
	static const struct {
		const char *iana, *gnutls;
	} kxs[] = { { "ECDHE_ECDSA", "+ECDHE-ECDSA" }, { "ECDHE_RSA", "+ECDHE-RSA" },
		    { "DHE_RSA", "+DHE-RSA" }, { "RSA", "+RSA" } },
	  ciphers[] = { { "AES_128_GCM", "+AES-128-GCM" }, { "AES_256_GCM", "+AES-256-GCM" },
			{ "AES_128_CBC", "+AES-128-CBC" }, { "AES_256_CBC", "+AES-256-CBC" },
			{ "CHACHA20_POLY1305", "+CHACHA20-POLY1305" },
			{ "3DES_EDE_CBC", "+3DES-CBC" } };
	const char *w = strstr(iana, "_WITH_"), *c;
	unsigned i;

	if (strncmp(iana, "TLS_", 4) || !w)
		return -EINVAL;
	*kx = *cipher = *mac = NULL;
	for (i = 0; i < sizeof(kxs) / sizeof(kxs[0]); i++)
		if ((size_t)(w - iana - 4) == strlen(kxs[i].iana) &&
		    !strncmp(iana + 4, kxs[i].iana, strlen(kxs[i].iana)))
			*kx = kxs[i].gnutls;
	c = w + 6;
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		size_t n = strlen(ciphers[i].iana);

		if (strncmp(c, ciphers[i].iana, n) || (c[n] && c[n] != '_'))
			continue;
		*cipher = ciphers[i].gnutls;
		c += n;
		if (strstr(ciphers[i].iana, "GCM") || strstr(ciphers[i].iana, "POLY1305"))
			*mac = !*c || !strcmp(c, "_SHA256") || !strcmp(c, "_SHA384") ? "+AEAD" : NULL;
		else
			*mac = !strcmp(c, "_SHA") ? "+SHA1" : !strcmp(c, "_SHA256") ? "+SHA256" : NULL;
	}
	return *kx && *cipher && *mac ? 0 : -EINVAL;
}

static void add(char *buf, size_t len, const char *part)
{
	size_t n = strlen(buf);

	if (!strstr(buf, part))
		snprintf(buf + n, len - n, ":%s", part);
}

/*
 * The GnuTLS priority string. Without cipher_suites: key exchange with
 * forward secrecy (ECDHE) and AEAD ciphers only. With a list, GnuTLS enables
 * its key exchanges, ciphers and MACs as sets (it has no list of whole
 * suites), so a combination nobody listed may be negotiated: the server
 * refuses a request over such a suite (lp_webconfig_suite_allowed). TLS 1.3
 * has its own suites, all AEAD, and cipher_suites does not apply to it (as
 * in Go).
 */
static int build_priorities(struct lp_webconfig *wc, char *err, size_t errlen)
{
	char *p = wc->priorities;
	size_t n = sizeof(wc->priorities);
	unsigned i;

	snprintf(p, n, "NORMAL:-VERS-ALL");
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].v >= wc->min_version && versions[i].v <= wc->max_version)
			add(p, n, versions[i].gnutls);
	add(p, n, "-KX-ALL");
	add(p, n, "-CIPHER-ALL");
	add(p, n, "-MAC-ALL");
	if (!wc->nsuites) {
		add(p, n, "+ECDHE-ECDSA");
		add(p, n, "+ECDHE-RSA");
	}
	if (!wc->nsuites || wc->max_version >= 0x0304) {
		add(p, n, "+AES-256-GCM");
		add(p, n, "+AES-128-GCM");
		add(p, n, "+CHACHA20-POLY1305");
		add(p, n, "+AEAD");
	}
	for (i = 0; i < wc->nsuites; i++) {
		const char *kx, *cipher, *mac;

		/* TLS 1.3's own suites: always on with TLS 1.3, as in Go */
		if (!strcmp(wc->suites[i], "TLS_AES_128_GCM_SHA256") ||
		    !strcmp(wc->suites[i], "TLS_AES_256_GCM_SHA384") ||
		    !strcmp(wc->suites[i], "TLS_CHACHA20_POLY1305_SHA256"))
			continue;
		if (suite_parts(wc->suites[i], &kx, &cipher, &mac)) {
			lp_errf(-EINVAL, err, errlen, "tls_server_config: cipher_suites: unknown or unsupported "
				     "suite '%s' (IANA names, as Go spells them, e.g. "
				     "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", wc->suites[i]);
			return -EINVAL;
		}
		add(p, n, kx);
		add(p, n, cipher);
		add(p, n, mac);
	}
	if (wc->prefer_server)
		add(p, n, "%SERVER_PRECEDENCE");
	return 0;
}

/* one "key: value" of tls_server_config */
static int tls_key(struct lp_webconfig *wc, const char *key, const char *v, char *err,
		   size_t errlen)
{
	char **dst = !strcmp(key, "cert_file")	    ? &wc->cert_file :
		     !strcmp(key, "key_file")	    ? &wc->key_file :
		     !strcmp(key, "client_ca_file") ? &wc->client_ca_file :
						      NULL;
	unsigned i;

	if (dst) {
		if (*dst) {
			lp_errf(-EINVAL, err, errlen, "tls_server_config: '%s' given twice", key);
			return -EINVAL;
		}
		*dst = strdup(v);
		return *dst ? 0 : -ENOMEM;
	}
	if (!strcmp(key, "min_version") || !strcmp(key, "max_version")) {
		for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
			if (!strcmp(v, versions[i].name)) {
				*(key[1] == 'i' ? &wc->min_version : &wc->max_version) = versions[i].v;
				return 0;
			}
		lp_errf(-EINVAL, err, errlen, "tls_server_config: %s: '%s' is not one of TLS10, TLS11, TLS12, "
			     "TLS13", key, v);
		return -EINVAL;
	}
	if (!strcmp(key, "prefer_server_cipher_suites")) {
		if (strcmp(v, "true") && strcmp(v, "false")) {
			lp_errf(-EINVAL, err, errlen, "tls_server_config: prefer_server_cipher_suites: '%s' is "
				     "not true or false", v);
			return -EINVAL;
		}
		wc->prefer_server = !strcmp(v, "true");
		return 0;
	}
	if (!strcmp(key, "client_auth_type")) {
		for (i = 0; i < sizeof(client_auths) / sizeof(client_auths[0]); i++)
			if (!strcmp(v, client_auths[i].name)) {
				wc->client_auth = client_auths[i].v;
				return 0;
			}
		lp_errf(-EINVAL, err, errlen, "tls_server_config: client_auth_type: '%s' is not one of "
			     "NoClientCert, RequestClientCert, RequireAnyClientCert, "
			     "VerifyClientCertIfGiven, RequireAndVerifyClientCert", v);
		return -EINVAL;
	}
	if (!strcmp(key, "cipher_suites")) {
		lp_errf(-EINVAL, err, errlen, "tls_server_config: cipher_suites must be a list");
		return -EINVAL;
	}
	lp_errf(-EINVAL, err, errlen, "tls_server_config: unknown key '%s' (expected cert_file, key_file, "
		     "min_version, max_version, cipher_suites, prefer_server_cipher_suites, "
		     "client_auth_type, client_ca_file)", key);
	return -EINVAL;
}

static int user_key(struct lp_webconfig *wc, const char *key, const char *v, char *err,
		    size_t errlen)
{
	unsigned i;

	for (i = 0; i < wc->nusers; i++)
		if (!strcmp(wc->users[i].name, key)) {
			lp_errf(-EINVAL, err, errlen, "basic_auth_users: user '%s' given twice", key);
			return -EINVAL;
		}
	if (!is_bcrypt(v)) {
		lp_errf(-EINVAL, err, errlen, "basic_auth_users: the password of '%s' is not a bcrypt hash "
			     "($2y$...)", key);
		return -EINVAL;
	}
	if (wc->nusers >= LP_WEB_MAX_USERS) {
		lp_errf(-EINVAL, err, errlen, "basic_auth_users: more than %d users", LP_WEB_MAX_USERS);
		return -EINVAL;
	}
	wc->users[wc->nusers].name = strdup(key);
	wc->users[wc->nusers].hash = strdup(v);
	wc->nusers++;
	return wc->users[wc->nusers - 1].name && wc->users[wc->nusers - 1].hash ? 0 : -ENOMEM;
}

/* what the keys say together */
static int check_tls(struct lp_webconfig *wc, char *err, size_t errlen)
{
	bool tls_keys = wc->client_ca_file || wc->nsuites || wc->client_auth ||
			wc->min_version != 0x0303 || wc->max_version != 0x0304;

	if ((!wc->cert_file) != (!wc->key_file) || (tls_keys && !wc->cert_file)) {
		lp_errf(-EINVAL, err, errlen, "tls_server_config needs both cert_file and key_file");
		return -EINVAL;
	}
	if (wc->min_version > wc->max_version) {
		lp_errf(-EINVAL, err, errlen, "tls_server_config: min_version is above max_version");
		return -EINVAL;
	}
	if (wc->client_auth != LP_CLIENT_NONE && !wc->client_ca_file) {
		/* the TLS library asks clients for a certificate only with a CA to name */
		lp_errf(-EINVAL, err, errlen, "tls_server_config: client_auth_type needs client_ca_file");
		return -EINVAL;
	}
	if (wc->client_ca_file && wc->client_auth == LP_CLIENT_NONE) {
		lp_errf(-EINVAL, err, errlen, "tls_server_config: client_ca_file is set but client_auth_type "
			     "is NoClientCert (say which clients to require)");
		return -EINVAL;
	}
	return build_priorities(wc, err, errlen);
}

/*
 * A small event-driven reader: top-level mapping with two known sections,
 * each a mapping of scalars (and one list, cipher_suites). Anything else is
 * an error that names it. Long for a reason: one switch over libyaml's
 * events that share the reader's state (depth, section, pending key); what
 * a key means is apart (tls_key, user_key, check_tls).
 */
/* the parse of a web config: where in the document the next event stands */
struct wparse {
	struct lp_webconfig *wc;
	enum { TOP, SECTION_KEY, SECTION_VAL, SUITES } st;
	enum { NONE, TLS, AUTH } section;
	char *key; /* the section key whose value comes next */
	int depth;
	char *err;
	size_t errlen;
};

/* a scalar: a section's name, a key, a value, or a cipher suite */
static int on_scalar(struct wparse *w, const char *v)
{
	struct lp_webconfig *wc = w->wc;
	int e = 0;

	if (w->st == SUITES) {
		if (wc->nsuites >= LP_WEB_MAX_SUITES)
			return lp_errf(-EINVAL, w->err, w->errlen,
				       "tls_server_config: more than %d cipher_suites",
				       LP_WEB_MAX_SUITES);
		return (wc->suites[wc->nsuites++] = strdup(v)) ? 0 : -ENOMEM;
	}
	if (w->depth == 1 && w->st == TOP && w->section == NONE) {
		if (!strcmp(v, "tls_server_config"))
			w->section = TLS;
		else if (!strcmp(v, "basic_auth_users"))
			w->section = AUTH;
		else
			return lp_errf(-EINVAL, w->err, w->errlen,
				       "unknown key '%s' (expected tls_server_config, "
				       "basic_auth_users)",
				       v);
	} else if (w->depth == 1 && w->section != NONE) {
		/* "section:" with an empty value */
		w->section = NONE;
		if (!strcmp(v, "tls_server_config") || !strcmp(v, "basic_auth_users"))
			w->section = !strcmp(v, "tls_server_config") ? TLS : AUTH;
		else if (v[0])
			return lp_errf(-EINVAL, w->err, w->errlen, "'%s' must be a mapping", v);
	} else if (w->depth == 2 && w->st == SECTION_KEY) {
		w->key = strdup(v);
		w->st = SECTION_VAL;
		return w->key ? 0 : -ENOMEM;
	} else if (w->depth == 2 && w->st == SECTION_VAL) {
		w->st = SECTION_KEY;
		e = w->section == TLS ? tls_key(wc, w->key, v, w->err, w->errlen)
				      : user_key(wc, w->key, v, w->err, w->errlen);
		free(w->key);
		w->key = NULL;
	} else if (w->depth == 0 && v[0]) {
		return lp_errf(-EINVAL, w->err, w->errlen, "the file is not a mapping");
	}
	return e;
}

/* one event of the document; *done at its end */
static int on_event(struct wparse *w, const yaml_event_t *ev, bool *done)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_MAPPING_START_EVENT:
		w->depth++;
		if (w->depth == 2 && w->st == TOP && w->section != NONE)
			w->st = SECTION_KEY;
		else if (w->depth > 1)
			return lp_errf(-EINVAL, w->err, w->errlen, "unexpected mapping at line %zu",
				       ev->start_mark.line + 1);
		return 0;
	case YAML_MAPPING_END_EVENT:
		w->depth--;
		if (w->depth == 1) {
			w->st = TOP;
			w->section = NONE;
		}
		return 0;
	case YAML_SEQUENCE_START_EVENT:
		if (w->st == SECTION_VAL && w->section == TLS && !strcmp(w->key, "cipher_suites") &&
		    !w->wc->nsuites) {
			w->st = SUITES;
			return 0;
		}
		/* fall through */
	case YAML_ALIAS_EVENT:
		return lp_errf(-EINVAL, w->err, w->errlen, "unexpected %s at line %zu",
			       ev->type == YAML_ALIAS_EVENT ? "alias" : "list",
			       ev->start_mark.line + 1);
	case YAML_SEQUENCE_END_EVENT:
		if (w->st == SUITES) {
			w->st = SECTION_KEY;
			free(w->key);
			w->key = NULL;
		}
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(w, (const char *)ev->data.scalar.value);
	default:
		return 0;
	}
}

int lp_webconfig_parse(const char *text, size_t len, struct lp_webconfig *wc, char *err,
		       size_t errlen)
{
	struct wparse w = {.wc = wc, .st = TOP, .section = NONE, .err = err, .errlen = errlen};
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;
	int e = 0;

	memset(wc, 0, sizeof(*wc));
	wc->min_version = 0x0303;
	wc->max_version = 0x0304;
	wc->prefer_server = true;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !e) {
		if (!yaml_parser_parse(&p, &ev)) {
			e = lp_errf(-EINVAL, err, errlen, "YAML error at line %zu: %s",
				    p.problem_mark.line + 1, p.problem ? p.problem : "unknown");
			break;
		}
		e = on_event(&w, &ev, &done);
		yaml_event_delete(&ev);
	}
	free(w.key);
	yaml_parser_delete(&p);
	if (!e)
		e = check_tls(wc, err, errlen);
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

/* read a PEM file named by key; *out holds it */
static int read_pem(const char *path, const char *key, const char *file, const char *marker,
		    const char *what, char **out, char *err, size_t errlen)
{
	int e;

	*out = read_file(file, 1 << 20, NULL, &e);
	if (!e && !strstr(*out, marker))
		e = -EBADMSG;
	if (e)
		lp_errf(-EINVAL, err, errlen, "--web-config: '%s': cannot use %s '%s': %s", path, key, file,
		     e == -EBADMSG ? what : strerror(-e));
	return e;
}

int lp_webconfig_arm(struct lp_webconfig *wc)
{
	char salt[64], prefix[5];
	struct crypt_data cd;
	unsigned long cost;
	const char *h;

	if (!wc->nusers || wc->dummy_hash)
		return 0;
	/* the first user's scheme and cost: "$2y$10$..." */
	memcpy(prefix, wc->users[0].hash, 4);
	prefix[4] = '\0';
	cost = strtoul(wc->users[0].hash + 4, NULL, 10);
	if (!crypt_gensalt_rn(prefix, cost, NULL, 0, salt, sizeof(salt)))
		return -errno ? -errno : -EINVAL;
	memset(&cd, 0, sizeof(cd));
	h = crypt_r("latprobe: no such user", salt, &cd);
	if (!h || h[0] == '*')
		return -EINVAL;
	wc->dummy_hash = strdup(h);
	return wc->dummy_hash ? 0 : -ENOMEM;
}

int lp_webconfig_load(const char *path, struct lp_webconfig *wc, char *err, size_t errlen)
{
	char sub[256], *text;
	size_t len;
	int e;

	text = read_file(path, 1 << 20, &len, &e);
	if (!text) {
		lp_errf(-EINVAL, err, errlen, "--web-config: cannot read '%s': %s", path, strerror(-e));
		return e;
	}
	e = lp_webconfig_parse(text, len, wc, sub, sizeof(sub));
	free(text);
	if (e) {
		lp_errf(-EINVAL, err, errlen, "--web-config: '%s': %s", path, sub);
		return e;
	}
	if (wc->cert_file)
		e = read_pem(path, "cert_file", wc->cert_file, "-----BEGIN CERTIFICATE-----",
			     "not a PEM certificate", &wc->cert_pem, err, errlen);
	if (!e && wc->key_file)
		e = read_pem(path, "key_file", wc->key_file, "PRIVATE KEY-----",
			     "not a PEM private key", &wc->key_pem, err, errlen);
	if (!e && wc->client_ca_file)
		e = read_pem(path, "client_ca_file", wc->client_ca_file,
			     "-----BEGIN CERTIFICATE-----", "not a PEM certificate",
			     &wc->client_ca_pem, err, errlen);
	if (!e) {
		e = lp_webconfig_arm(wc);
		if (e)
			lp_errf(-EINVAL, err, errlen, "--web-config: '%s': cannot prepare bcrypt: %s", path,
			     strerror(-e));
	}
	if (e)
		lp_webconfig_free(wc);
	return e;
}

/* crypt(password, want) == want, comparing every byte */
static bool bcrypt_matches(const char *password, const char *want)
{
	struct crypt_data cd;
	unsigned char diff = 0;
	const char *h;
	size_t n, j;

	memset(&cd, 0, sizeof(cd));
	h = crypt_r(password, want, &cd);
	if (!h || h[0] == '*')
		return false;
	n = strlen(want);
	if (strlen(h) != n)
		return false;
	/* the time does not tell how much matched */
	for (j = 0; j < n; j++)
		diff |= (unsigned char)(h[j] ^ want[j]);
	return diff == 0;
}

bool lp_webconfig_check(const struct lp_webconfig *wc, const char *user, const char *password)
{
	unsigned i;

	if (!user || !password)
		return false;
	for (i = 0; i < wc->nusers; i++)
		if (!strcmp(wc->users[i].name, user))
			return bcrypt_matches(password, wc->users[i].hash);
	/* no such user: the same work, so the answer comes as late as a wrong password's */
	if (wc->dummy_hash)
		bcrypt_matches(password, wc->dummy_hash);
	return false;
}

bool lp_webconfig_suite_allowed(const struct lp_webconfig *wc, const char *iana)
{
	unsigned i;

	if (!wc->nsuites)
		return true;
	for (i = 0; iana && i < wc->nsuites; i++)
		if (!strcmp(wc->suites[i], iana))
			return true;
	return false;
}
