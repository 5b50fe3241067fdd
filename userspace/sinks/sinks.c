// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The sinks' table, and what every --push URL shares: the scheme picks the
 * sink; host, port and path come apart here; interval, timeout, queue,
 * ca_file and the secret files are read here; every other key=value goes to
 * the sink's option(), and its finish() checks the whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "base/util.h"
#include "sinks/sink.h"

const struct lp_sink_ops *const lp_sinks[] = {
	&lp_sink_pushgateway, &lp_sink_graphite,     &lp_sink_influxdb, &lp_sink_influxdb2,
	&lp_sink_dogstatsd,   &lp_sink_remote_write, &lp_sink_otlp,	NULL,
};

/*
 * The spec as messages may show it: any user:password@ in it hidden, up to
 * the last '@' before the query, whether or not the URL parses (a password
 * may hold a '/', which ends no authority here).
 */
static void redact(const char *spec, char *out, size_t len)
{
	const char *auth = strstr(spec, "://"), *end, *at;

	if (!auth) {
		snprintf(out, len, "%s", spec);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "?#");
	at = memrchr(auth, '@', (size_t)(end - auth));
	if (!at) {
		snprintf(out, len, "%s", spec);
		return;
	}
	snprintf(out, len, "%.*s***%s", (int)(auth - spec), spec, at);
}

static int fail(char *err, size_t len, const char *spec, const char *why)
{
	char shown[2048];

	redact(spec, shown, sizeof(shown));
	return lp_errf(-EINVAL, err, len, "--push '%s': %s", shown, why);
}

static const struct lp_sink_ops *sink_of(const char *scheme)
{
	const char *const *s;
	unsigned i;

	for (i = 0; lp_sinks[i]; i++)
		for (s = lp_sinks[i]->schemes; *s; s++)
			if (!strcmp(*s, scheme))
				return lp_sinks[i];
	return NULL;
}

/* "pushgateway+http(s), graphite, ...": every scheme, for the error message */
static void schemes_list(char *out, size_t len)
{
	const char *const *s;
	size_t n = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; lp_sinks[i] && n < len; i++)
		for (s = lp_sinks[i]->schemes; *s && n < len; s++)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", *s);
}

/* the URL into u (libcurl's parser); unix:///path is taken apart here */
static int split_url(const char *spec, CURLU *u, struct lp_push_cfg *c, char *err, size_t errlen)
{
	if (!strncmp(spec, "unix://", 7)) {
		/* libcurl reads a host into unix:///path: take the path here */
		const char *qs = strchr(spec + 7, '?');
		size_t plen = qs ? (size_t)(qs - spec - 7) : strlen(spec + 7);
		char fake[2048];

		if (spec[7] != '/')
			return fail(err, errlen, spec,
				    "a unix socket URL has no host: unix:///path");
		if (plen < 2 || plen >= sizeof(c->unix_path))
			return fail(err, errlen, spec, "bad unix socket path");
		memcpy(c->unix_path, spec + 7, plen);
		c->unix_path[plen] = '\0';
		snprintf(fake, sizeof(fake), "unix://localhost%s", qs ? qs : "");
		if (curl_url_set(u, CURLUPART_URL, fake, CURLU_NON_SUPPORT_SCHEME))
			return fail(err, errlen, spec, "not a URL");
		return 0;
	}
	if (curl_url_set(u, CURLUPART_URL, spec, CURLU_NON_SUPPORT_SCHEME))
		return fail(err, errlen, spec, "not a URL (e.g. graphite://host:2003)");
	return 0;
}

/* never dropped in silence, never echoed: credentials in the URL are refused, and why */
static int no_credentials(CURLU *u, const char *spec, char *err, size_t errlen)
{
	char *user = NULL, *pass = NULL;
	bool any;

	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	any = (user && *user) || (pass && *pass);
	curl_free(user);
	curl_free(pass);
	if (any)
		return fail(
			err, errlen, spec,
			"credentials in the URL are refused (they would show in the process "
			"list and in logs): put user:password in a file and give auth_file=PATH");
	return 0;
}

/* the options every sink shares; -ENOENT: not one of them */
static int shared_option(struct lp_push_cfg *c, const char *k, const char *v, char *auth_file,
			 char *token_file, bool *timeout_set)
{
	__u64 ns;

	if (!strcmp(k, "interval") || !strcmp(k, "timeout")) {
		if (lp_parse_duration_ns(v, &ns) || ns < 1000000ULL || ns > 86400000000000ULL)
			return -EINVAL;
		*(!strcmp(k, "interval") ? &c->interval_ns : &c->timeout_ns) = ns;
		*timeout_set |= !strcmp(k, "timeout");
		return 0;
	}
	if (!strcmp(k, "queue"))
		return lp_parse_u32(v, 1, 1024, &c->queue);
	if (!strcmp(k, "ca_file") && c->ops->transport == LP_TRANSPORT_HTTP)
		return *v && !lp_copy(c->ca_file, sizeof(c->ca_file), v) ? 0 : -EINVAL;
	if (!strcmp(k, "auth_file") && (c->ops->auth & LP_SINK_AUTH_BASIC))
		return *v && !lp_copy(auth_file, 512, v) ? 0 : -EINVAL;
	if (!strcmp(k, "token_file") && (c->ops->auth & LP_SINK_AUTH_TOKEN))
		return *v && !lp_copy(token_file, 512, v) ? 0 : -EINVAL;
	return -ENOENT;
}

/* every key=value of the query: shared ones here, the rest the sink's */
static int parse_query(struct lp_push_cfg *c, char *query, const char *spec, char *auth_file,
		       char *token_file, bool *timeout_set, char *err, size_t errlen)
{
	char *q, *save = NULL, why[400];

	for (q = query ? strtok_r(query, "&", &save) : NULL; q; q = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(q, '='), *v;
		int r;

		if (!eq)
			return fail(err, errlen, spec, "a parameter without '=' (key=value&...)");
		*eq = '\0';
		if (!strcmp(q, "token") || !strcmp(q, "password"))
			return lp_errf(
				-EINVAL, err, errlen,
				"--push: secrets are never taken from the command line: use %s",
				!strcmp(q, "token") ? "token_file=PATH or $LATPROBE_INFLUX_TOKEN"
						    : "auth_file=PATH");
		v = curl_easy_unescape(NULL, eq + 1, 0, NULL);
		if (!v)
			return fail(err, errlen, spec, "out of memory");
		r = shared_option(c, q, v, auth_file, token_file, timeout_set);
		if (r == -ENOENT)
			r = c->ops->option ? c->ops->option(c, q, v) : -ENOENT;
		if (r == -ENOENT)
			snprintf(why, sizeof(why), "unknown parameter '%s'", q);
		else if (r)
			snprintf(why, sizeof(why), "bad value for %s: '%s'", q, v);
		curl_free(v);
		if (r)
			return fail(err, errlen, spec, why);
	}
	return 0;
}

/* the secret files, read now, before the privilege drop */
static int read_secrets(struct lp_push_cfg *c, const char *auth_file, const char *token_file,
			const char *spec, char *err, size_t errlen)
{
	if (auth_file[0] && lp_read_secret(auth_file, c->userpwd, sizeof(c->userpwd)))
		return fail(err, errlen, spec, "auth_file cannot be read (or is empty)");
	if (c->userpwd[0] && !strchr(c->userpwd, ':'))
		return fail(err, errlen, spec, "auth_file must hold user:password");
	if (token_file[0] && lp_read_secret(token_file, c->token, sizeof(c->token)))
		return fail(err, errlen, spec, "token_file cannot be read (or is empty)");
	return 0;
}

/* the sink's label in self metrics: scheme://host:port, no path, query or secrets */
static void default_name(struct lp_push_cfg *c, const struct lp_sink_url *su)
{
	if (c->unix_path[0])
		snprintf(c->name, sizeof(c->name), "unix://%.100s", c->unix_path);
	else
		snprintf(c->name, sizeof(c->name), "%s://%s%s%s", su->scheme, su->host,
			 su->port ? ":" : "", su->port ? su->port : "");
}

/* host and port for TCP and UDP: [v6] bare, as getaddrinfo wants it */
static int host_port(struct lp_push_cfg *c, const struct lp_sink_url *su)
{
	size_t hl;

	if (su->host && lp_copy(c->host, sizeof(c->host), su->host))
		return -EINVAL;
	hl = strlen(c->host);
	if (c->host[0] == '[' && hl > 2 && c->host[hl - 1] == ']') {
		memmove(c->host, c->host + 1, hl - 2);
		c->host[hl - 2] = '\0';
	}
	snprintf(c->port, sizeof(c->port), "%s", su->port ? su->port : c->ops->default_port);
	return 0;
}

/* the sink's name, address and own checks, once the URL's parts are known */
static int finish_sink(struct lp_push_cfg *c, char *scheme, char *host, char *port, char *path,
		       const char *spec, char *err, size_t errlen)
{
	size_t sl = strlen(scheme);
	struct lp_sink_url su = {scheme,
				 sl > 6 && !strcmp(scheme + sl - 6, "+https") ? "https" : "http",
				 host, port, path};
	int r = 0;

	default_name(c, &su);
	if (c->ops->transport != LP_TRANSPORT_HTTP && host_port(c, &su))
		return fail(err, errlen, spec, "host name too long");
	if (c->ops->finish) {
		char why[400] = "";

		r = c->ops->finish(c, &su, why, sizeof(why));
		if (r)
			r = fail(err, errlen, spec, why);
	}
	return r;
}

int lp_push_parse(const char *spec, const char *hostname, struct lp_push_cfg *c, char *err,
		  size_t errlen)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	char auth_file[512] = "", token_file[512] = "", list[400];
	CURLU *u = curl_url();
	bool timeout_set = false;
	int r;

	memset(c, 0, sizeof(*c));
	c->interval_ns = 15000000000ULL;
	c->timeout_ns = 5000000000ULL;
	c->queue = 8;
	if (!u)
		return fail(err, errlen, spec, "out of memory");
	r = split_url(spec, u, c, err, errlen);
	if (!r && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0))
		r = fail(err, errlen, spec, "not a URL (e.g. graphite://host:2003)");
	if (!r && !(c->ops = sink_of(scheme))) {
		char why[480];

		schemes_list(list, sizeof(list));
		snprintf(why, sizeof(why), "unknown scheme (%s)", list);
		r = fail(err, errlen, spec, why);
	}
	if (!r)
		r = no_credentials(u, spec, err, errlen);
	if (r)
		goto out;
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (c->unix_path[0]) {
		curl_free(host);
		host = NULL;
	} else if (!host || !*host) {
		r = fail(err, errlen, spec, "no host");
		goto out;
	}
	if (c->ops->defaults)
		c->ops->defaults(c, hostname && *hostname ? hostname : "localhost");
	r = parse_query(c, query, spec, auth_file, token_file, &timeout_set, err, errlen);
	if (!r && c->timeout_ns > c->interval_ns) {
		if (timeout_set)
			r = fail(err, errlen, spec, "timeout longer than the interval");
		else
			c->timeout_ns =
				c->interval_ns; /* the default 5 s, shortened to the interval */
	}
	if (!r)
		r = read_secrets(c, auth_file, token_file, spec, err, errlen);
	if (r)
		goto out;
	r = finish_sink(c, scheme, host, port, path, spec, err, errlen);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return r;
}
