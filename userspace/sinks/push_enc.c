// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The push sinks' configuration and wire encoders: pure functions (the
 * parser reads the secret files it is pointed at, nothing else).
 *
 * What goes out per series: cumulative count and sum (per-bucket counts too
 * where the sink models histograms: Pushgateway), the request rate, the
 * quantiles of the first window, and per SLO the good and total counts, the
 * good ratio and burn rate over the first window.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "base/util.h"
#include "export/expo.h"
#include "core/hist.h"
#include "sinks/push.h"

/* ------------------------------------------------------------ parsing */

/* the spec as messages may show it: any user:password@ in it hidden */
static void redact(const char *spec, char *out, size_t len)
{
	const char *auth = strstr(spec, "://"), *end, *at;

	if (!auth) {
		snprintf(out, len, "%s", spec);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
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
	snprintf(err, len, "--push '%s': %s", shown, why);
	return -EINVAL;
}


static int copy(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* Graphite/StatsD names: [A-Za-z0-9_.-] only */
static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

int lp_push_parse(const char *spec, const char *hostname, struct lp_push_cfg *c, char *err,
		  size_t errlen)
{
	static const struct {
		const char *scheme;
		enum lp_push_kind kind;
		const char *http; /* the scheme of the HTTP URL, NULL for non-HTTP sinks */
	} schemes[] = {
		{ "pushgateway+http", LP_PUSH_PUSHGATEWAY, "http" },
		{ "pushgateway+https", LP_PUSH_PUSHGATEWAY, "https" },
		{ "pushgateway", LP_PUSH_PUSHGATEWAY, "http" },
		{ "graphite", LP_PUSH_GRAPHITE, NULL },
		{ "influxdb", LP_PUSH_INFLUXDB, "http" },
		{ "influxdb+http", LP_PUSH_INFLUXDB, "http" },
		{ "influxdb+https", LP_PUSH_INFLUXDB, "https" },
		{ "influxdb2", LP_PUSH_INFLUXDB2, "http" },
		{ "influxdb2+http", LP_PUSH_INFLUXDB2, "http" },
		{ "influxdb2+https", LP_PUSH_INFLUXDB2, "https" },
		{ "dogstatsd", LP_PUSH_DOGSTATSD, NULL },
		{ "unix", LP_PUSH_DOGSTATSD, NULL },
	};
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	char org[256] = "", bucket[256] = "", token_file[512] = "", auth_file[512] = "";
	const char *http = NULL, *tok;
	CURLU *u = curl_url();
	char *q, *save = NULL;
	bool timeout_set = false;
	int r = -EINVAL;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->interval_ns = 15000000000ULL;
	c->timeout_ns = 5000000000ULL;
	c->queue = 8;
	c->max_size = 1432;
	c->tags = true;
	strcpy(c->prefix, "latprobe");
	strcpy(c->job, "latprobe");
	if (copy(c->instance, sizeof(c->instance), hostname && *hostname ? hostname : "localhost"))
		strcpy(c->instance, "localhost");
	if (!u)
		return fail(err, errlen, spec, "out of memory");
	if (!strncmp(spec, "unix://", 7)) {
		/* libcurl reads a host into unix:///path: take the path here */
		const char *qs = strchr(spec + 7, '?');
		size_t plen = qs ? (size_t)(qs - spec - 7) : strlen(spec + 7);
		char fake[2048];

		if (spec[7] != '/') {
			r = fail(err, errlen, spec, "a unix socket URL has no host: unix:///path");
			goto out;
		}
		if (plen < 2 || plen >= sizeof(c->unix_path)) {
			r = fail(err, errlen, spec, "bad unix socket path");
			goto out;
		}
		memcpy(c->unix_path, spec + 7, plen);
		c->unix_path[plen] = '\0';
		snprintf(fake, sizeof(fake), "unix://localhost%s", qs ? qs : "");
		if (curl_url_set(u, CURLUPART_URL, fake, CURLU_NON_SUPPORT_SCHEME)) {
			r = fail(err, errlen, spec, "not a URL");
			goto out;
		}
	} else if (curl_url_set(u, CURLUPART_URL, spec, CURLU_NON_SUPPORT_SCHEME)) {
		r = fail(err, errlen, spec, "not a URL (e.g. graphite://host:2003)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) {
		r = fail(err, errlen, spec, "not a URL (e.g. graphite://host:2003)");
		goto out;
	}
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strcmp(scheme, schemes[i].scheme))
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		r = fail(err, errlen, spec,
			 "unknown scheme (pushgateway+http(s), graphite, influxdb, influxdb2, "
			 "dogstatsd, unix)");
		goto out;
	}
	c->kind = schemes[i].kind;
	http = schemes[i].http;
	{
		char *user = NULL, *pass = NULL;

		curl_url_get(u, CURLUPART_USER, &user, 0);
		curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
		if ((user && *user) || (pass && *pass)) {
			/* never dropped in silence, never echoed: refused, and why */
			curl_free(user);
			curl_free(pass);
			r = fail(err, errlen, spec,
				 "credentials in the URL are refused (they would show in the process "
				 "list and in logs): put user:password in a file and give auth_file=PATH");
			goto out;
		}
		curl_free(user);
		curl_free(pass);
	}
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (!strcmp(scheme, "unix")) {
		curl_free(host);
		host = NULL;
	} else if (!host || !*host) {
		r = fail(err, errlen, spec, "no host");
		goto out;
	}

	for (q = query ? strtok_r(query, "&", &save) : NULL; q; q = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(q, '='), *v;
		int ok = 0;

		if (!eq) {
			r = fail(err, errlen, spec, "a parameter without '=' (key=value&...)");
			goto out;
		}
		*eq = '\0';
		v = curl_easy_unescape(NULL, eq + 1, 0, NULL);
		if (!v) {
			r = fail(err, errlen, spec, "out of memory");
			goto out;
		}
		if (!strcmp(q, "interval") || !strcmp(q, "timeout")) {
			__u64 ns;

			ok = lp_parse_duration_ns(v, &ns) == 0 && ns >= 1000000ULL &&
			     ns <= 86400000000000ULL;
			if (ok)
				*(!strcmp(q, "interval") ? &c->interval_ns : &c->timeout_ns) = ns;
			timeout_set |= !strcmp(q, "timeout");
		} else if (!strcmp(q, "queue") || !strcmp(q, "max_size")) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);

			ok = *v && !*end && n >= (!strcmp(q, "queue") ? 1 : 64) &&
			     n <= (!strcmp(q, "queue") ? 1024 : 65000);
			if (ok)
				*(!strcmp(q, "queue") ? &c->queue : &c->max_size) = (unsigned)n;
		} else if (!strcmp(q, "tags")) {
			ok = !strcmp(v, "1") || !strcmp(v, "0") || !strcmp(v, "true") ||
			     !strcmp(v, "false");
			c->tags = !strcmp(v, "1") || !strcmp(v, "true");
		} else if (!strcmp(q, "prefix")) {
			ok = name_ok(v) && !copy(c->prefix, sizeof(c->prefix), v);
		} else if (!strcmp(q, "job")) {
			ok = *v && !copy(c->job, sizeof(c->job), v);
		} else if (!strcmp(q, "instance")) {
			ok = *v && !copy(c->instance, sizeof(c->instance), v);
		} else if (!strcmp(q, "org")) {
			ok = *v && !copy(org, sizeof(org), v);
		} else if (!strcmp(q, "bucket")) {
			ok = *v && !copy(bucket, sizeof(bucket), v);
		} else if (!strcmp(q, "ca_file")) {
			ok = *v && !copy(c->ca_file, sizeof(c->ca_file), v);
		} else if (!strcmp(q, "auth_file")) {
			ok = *v && !copy(auth_file, sizeof(auth_file), v);
		} else if (!strcmp(q, "token_file")) {
			ok = *v && !copy(token_file, sizeof(token_file), v);
		} else if (!strcmp(q, "token") || !strcmp(q, "password")) {
			snprintf(err, errlen,
				 "--push: secrets are never taken from the command line: use %s",
				 !strcmp(q, "token") ? "token_file=PATH or $LATPROBE_INFLUX_TOKEN"
						     : "auth_file=PATH");
			curl_free(v);
			goto out;
		} else {
			char why[160];

			snprintf(why, sizeof(why), "unknown parameter '%s'", q);
			curl_free(v);
			r = fail(err, errlen, spec, why);
			goto out;
		}
		if (!ok) {
			char why[320];

			snprintf(why, sizeof(why), "bad value for %s: '%s'", q, v);
			curl_free(v);
			r = fail(err, errlen, spec, why);
			goto out;
		}
		curl_free(v);
	}
	if (c->timeout_ns > c->interval_ns) {
		if (timeout_set) {
			r = fail(err, errlen, spec, "timeout longer than the interval");
			goto out;
		}
		c->timeout_ns = c->interval_ns; /* the default 5 s, shortened to the interval */
	}

	/* the sink's name in self metrics: scheme://host:port[/path], no query or secrets */
	if (c->unix_path[0])
		snprintf(c->name, sizeof(c->name), "unix://%.100s", c->unix_path);
	else
		snprintf(c->name, sizeof(c->name), "%s://%s%s%s%s", scheme, host,
			 port ? ":" : "", port ? port : "",
			 c->kind == LP_PUSH_INFLUXDB && path ? path : "");

	switch (c->kind) {
	case LP_PUSH_GRAPHITE:
	case LP_PUSH_DOGSTATSD:
		if (host && copy(c->host, sizeof(c->host), host)) {
			r = fail(err, errlen, spec, "host name too long");
			goto out;
		}
		if (c->host[0] == '[') { /* [v6] as getaddrinfo wants it: bare */
			size_t hl = strlen(c->host);

			if (hl > 2 && c->host[hl - 1] == ']') {
				memmove(c->host, c->host + 1, hl - 2);
				c->host[hl - 2] = '\0';
			}
		}
		snprintf(c->port, sizeof(c->port), "%s",
			 port ? port : c->kind == LP_PUSH_GRAPHITE ? "2003" : "8125");
		break;
	case LP_PUSH_PUSHGATEWAY: {
		char *job = curl_easy_escape(NULL, c->job, 0);
		char *inst = curl_easy_escape(NULL, c->instance, 0);

		snprintf(c->url, sizeof(c->url), "%s://%s:%s/metrics/job/%s/instance/%s", http, host,
			 port ? port : "9091", job ? job : "latprobe", inst ? inst : "localhost");
		curl_free(job);
		curl_free(inst);
		if (auth_file[0] && lp_read_secret(auth_file, c->userpwd, sizeof(c->userpwd))) {
			r = fail(err, errlen, spec, "auth_file cannot be read (or is empty)");
			goto out;
		}
		if (c->userpwd[0] && !strchr(c->userpwd, ':')) {
			r = fail(err, errlen, spec, "auth_file must hold user:password");
			goto out;
		}
		break;
	}
	case LP_PUSH_INFLUXDB: {
		char *db;

		if (!path || strlen(path) < 2 || strchr(path + 1, '/')) {
			r = fail(err, errlen, spec, "the database is the path: influxdb://host:8086/DB");
			goto out;
		}
		db = curl_easy_escape(NULL, path + 1, 0);
		snprintf(c->url, sizeof(c->url), "%s://%s:%s/write?db=%s&precision=ns", http, host,
			 port ? port : "8086", db ? db : "");
		curl_free(db);
		break;
	}
	case LP_PUSH_INFLUXDB2: {
		char *o, *bk;

		if (!org[0] || !bucket[0]) {
			r = fail(err, errlen, spec, "influxdb2 needs org= and bucket=");
			goto out;
		}
		tok = getenv("LATPROBE_INFLUX_TOKEN");
		if (token_file[0]) {
			if (lp_read_secret(token_file, c->token, sizeof(c->token))) {
				r = fail(err, errlen, spec, "token_file cannot be read (or is empty)");
				goto out;
			}
		} else if (tok && *tok && !copy(c->token, sizeof(c->token), tok)) {
			/* from the environment */
		} else {
			r = fail(err, errlen, spec,
				 "influxdb2 needs a token: token_file=PATH or $LATPROBE_INFLUX_TOKEN");
			goto out;
		}
		o = curl_easy_escape(NULL, org, 0);
		bk = curl_easy_escape(NULL, bucket, 0);
		snprintf(c->url, sizeof(c->url),
			 "%s://%s:%s/api/v2/write?org=%s&bucket=%s&precision=ns", http, host,
			 port ? port : "8086", o ? o : "", bk ? bk : "");
		curl_free(o);
		curl_free(bk);
		break;
	}
	}
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return r;
}

/* ------------------------------------------------------------ helpers */


/* the first window's good ratio and burn rate of SLO k, or NAN without traffic */
static void slo_window(const struct lp_model *m, const struct lp_series_view *v, unsigned k,
		       double *ratio, double *burn)
{
	const struct lp_window_view *w = &v->win[0];

	*ratio = *burn = NAN;
	if (!m->cfg->nwindows)
		return;
	*ratio = w->slo_ratio[k];
	*burn = w->slo_burn[k];
}

static const char *side_word(const struct lp_series_view *v)
{
	return v->key.side == LP_SIDE_CLIENT ? "client" : "server";
}

/* copy s into out, characters outside [A-Za-z0-9_.:/-] replaced by '_' */
static const char *clean(char *out, size_t len, const char *s, bool dots)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < len; i++) {
		char ch = s[i];

		out[i] = ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
			  (dots && (ch == '.' || ch == ':' || ch == '/')))
				 ? ch
				 : '_';
	}
	out[i] = '\0';
	if (!i)
		snprintf(out, len, "none");
	return out;
}

/* ------------------------------------------------------------ pushgateway */

int lp_enc_pushgateway(struct lp_buf *b, const struct lp_model *m)
{
	/* no process_* self metrics: they would describe the agent, not the group */
	return lp_expo_write(b, LP_FMT_TEXT, m, NULL, false);
}

/* ------------------------------------------------------------ graphite */

struct gtags {
	char svc[128], cg[512], port[8], status[8], method[16], fam[8];
};

static void gtags_of(struct gtags *t, const struct lp_series_view *v)
{
	clean(t->svc, sizeof(t->svc), v->service, true);
	clean(t->cg, sizeof(t->cg), v->cgroup && *v->cgroup ? v->cgroup : "/", true);
	snprintf(t->port, sizeof(t->port), "%u", v->key.port);
	snprintf(t->status, sizeof(t->status), "%u", v->key.status);
	clean(t->method, sizeof(t->method), lp_method_name(v->key.method), false);
	snprintf(t->fam, sizeof(t->fam), "ipv%u", v->key.family == 6 ? 6 : 4);
}

/* one Graphite line; name is "<group>.<metric>" below the prefix */
static void gline(struct lp_buf *b, const struct lp_push_cfg *cfg, const struct gtags *t,
		  const char *side, const char *slo, const char *metric, double value, long ts)
{
	if (isnan(value))
		return;
	if (cfg->tags) {
		lp_buf_printf(b, "%s.%s;side=%s;service=%s;method=%s;status=%s;port=%s;family=%s;"
			      "cgroup=%s",
			      cfg->prefix, metric, side, t->svc, t->method, t->status, t->port,
			      t->fam, t->cg);
		if (slo)
			lp_buf_printf(b, ";slo=%s", slo);
	} else {
		char svc[128], cg[512];

		/* dotted: every label is a level (the service's and cgroup's dots
		 * would be levels of their own: cleaned to '_') */
		clean(svc, sizeof(svc), t->svc, false);
		clean(cg, sizeof(cg), t->cg, false);
		lp_buf_printf(b, "%s.%s.%s.%s.%s.%s.%s.%s.%s%s%s", cfg->prefix, side, svc, cg, t->fam,
			      t->port, t->method, t->status, slo ? slo : "", slo ? "." : "", metric);
	}
	lp_buf_str(b, " ");
	lp_buf_double(b, value);
	lp_buf_printf(b, " %ld\n", ts);
}

int lp_enc_graphite(struct lp_buf *b, const struct lp_model *m, const struct lp_push_cfg *cfg)
{
	long ts = (long)m->wall;
	size_t i;

	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = &m->series[i];
		const char *side = side_word(v);
		struct gtags t;
		char name[64];
		unsigned k;

		if (v->key.flags & LP_KEY_TTFB)
			continue; /* time to first byte: pull exposition and JSON only */

		gtags_of(&t, v);
		gline(b, cfg, &t, side, NULL, cfg->tags ? "http.request.count" : "count",
		      (double)v->total->count, ts);
		gline(b, cfg, &t, side, NULL, cfg->tags ? "http.request.duration_seconds.sum" : "sum",
		      (double)v->total->sum_ns / 1e9, ts);
		gline(b, cfg, &t, side, NULL, cfg->tags ? "http.request.rate" : "rate", v->rate, ts);
		for (k = 0; k < LP_NQUANTILES && m->cfg->nwindows; k++) {
			snprintf(name, sizeof(name), "%s%s", cfg->tags ? "http.request.duration_seconds."
								       : "",
				 lp_quantiles[k].metric);
			gline(b, cfg, &t, side, NULL, name, v->win[0].q[k], ts);
		}
		for (k = 0; k < m->cfg->nslos; k++) {
			const char *sn = m->cfg->slos[k].name;
			double ratio, burn;

			if (!v->slo_applies[k])
				continue;
			slo_window(m, v, k, &ratio, &burn);
			gline(b, cfg, &t, side, sn, cfg->tags ? "slo.good" : "good",
			      (double)v->slo_good[k], ts);
			gline(b, cfg, &t, side, sn, cfg->tags ? "slo.total" : "total",
			      (double)v->total->count, ts);
			gline(b, cfg, &t, side, sn, cfg->tags ? "slo.good_ratio" : "good_ratio", ratio,
			      ts);
			gline(b, cfg, &t, side, sn, cfg->tags ? "slo.burn_rate" : "burn_rate", burn, ts);
		}
	}
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ influx */

/* tag values and keys: ',', '=' and ' ' escaped; an empty value is not allowed */
static void iesc(struct lp_buf *b, const char *s)
{
	if (!s || !*s) {
		lp_buf_str(b, "none");
		return;
	}
	for (; *s; s++) {
		/* a line break cannot be escaped in line protocol: an escaped space
		 * stands for it (a bare one would end the tag set: HTTP 400) */
		if (*s == '\n' || *s == '\r') {
			lp_buf_add(b, "\\ ", 2);
			continue;
		}
		if (*s == ',' || *s == '=' || *s == ' ' || *s == '\\')
			lp_buf_add(b, "\\", 1);
		lp_buf_add(b, s, 1);
	}
}

static void itags(struct lp_buf *b, const struct lp_series_view *v)
{
	/* sorted by key, as InfluxDB prefers */
	lp_buf_str(b, ",cgroup=");
	iesc(b, v->cgroup && *v->cgroup ? v->cgroup : "/");
	lp_buf_printf(b, ",family=ipv%u,method=", v->key.family == 6 ? 6 : 4);
	iesc(b, lp_method_name(v->key.method));
	lp_buf_printf(b, ",port=%u,service=", v->key.port);
	iesc(b, v->service);
	lp_buf_printf(b, ",side=%s,status=%u", side_word(v), v->key.status);
}

static void ifield(struct lp_buf *b, bool *first, const char *k, double v)
{
	if (isnan(v) || isinf(v))
		return;
	lp_buf_str(b, *first ? " " : ",");
	*first = false;
	lp_buf_printf(b, "%s=", k);
	lp_buf_double(b, v);
}

int lp_enc_influx(struct lp_buf *b, const struct lp_model *m)
{
	/* whole seconds and the fraction apart: a double holds ~16 digits */
	unsigned long long sec = (unsigned long long)m->wall;
	unsigned long long ts = sec * 1000000000ULL + (unsigned long long)llround((m->wall - (double)sec) * 1e9);
	size_t i;

	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = &m->series[i];
		bool first = true;
		unsigned k;

		if (v->key.flags & LP_KEY_TTFB)
			continue;

		lp_buf_str(b, "http_request_duration_seconds");
		itags(b, v);
		lp_buf_printf(b, " count=%llui", (unsigned long long)v->total->count);
		first = false;
		ifield(b, &first, "sum", (double)v->total->sum_ns / 1e9);
		ifield(b, &first, "rate", v->rate);
		for (k = 0; k < LP_NQUANTILES && m->cfg->nwindows; k++)
			ifield(b, &first, lp_quantiles[k].metric, v->win[0].q[k]);
		lp_buf_printf(b, " %llu\n", ts);
		for (k = 0; k < m->cfg->nslos; k++) {
			double ratio, burn;

			if (!v->slo_applies[k])
				continue;
			slo_window(m, v, k, &ratio, &burn);
			lp_buf_str(b, "latprobe_slo");
			itags(b, v);
			lp_buf_str(b, ",slo=");
			iesc(b, m->cfg->slos[k].name);
			lp_buf_printf(b, " good=%llui,total=%llui",
				      (unsigned long long)v->slo_good[k],
				      (unsigned long long)v->total->count);
			first = false;
			ifield(b, &first, "good_ratio", ratio);
			ifield(b, &first, "burn_rate", burn);
			lp_buf_printf(b, " %llu\n", ts);
		}
	}
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ dogstatsd */

static int cmp_key(const void *a, const void *b)
{
	const struct lp_series_view *const *x = a, *const *y = b;

	return memcmp(&(*x)->key, &(*y)->key, sizeof((*x)->key));
}

static void dtags(struct lp_buf *b, const struct lp_series_view *v)
{
	char svc[128], cg[512];

	/* tag values: no ',', '|' or '#' */
	lp_buf_printf(b, "|#side:%s,service:%s,method:%s,status:%u,port:%u,family:ipv%u,cgroup:%s",
		      side_word(v), clean(svc, sizeof(svc), v->service, true),
		      lp_method_name(v->key.method), v->key.status, v->key.port,
		      v->key.family == 6 ? 6 : 4,
		      clean(cg, sizeof(cg), v->cgroup && *v->cgroup ? v->cgroup : "/", true));
}

static void dline(struct lp_buf *b, const struct lp_push_cfg *cfg, const char *metric,
		  double value, const char *type, const struct lp_series_view *v, const char *slo)
{
	if (isnan(value) || isinf(value))
		return;
	lp_buf_printf(b, "%s.%s:", cfg->prefix, metric);
	lp_buf_double(b, value);
	lp_buf_printf(b, "|%s", type);
	dtags(b, v);
	if (slo)
		lp_buf_printf(b, ",slo:%s", slo);
	lp_buf_str(b, "\n");
}

static __u64 inc(__u64 now, __u64 before)
{
	return now >= before ? now - before : now; /* a reset: the new count is the increase */
}

int lp_enc_dogstatsd(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		     const struct lp_push_cfg *cfg)
{
	const struct lp_series_view **old = NULL;
	size_t i, nold = prev ? prev->nseries : 0;

	if (nold) {
		old = malloc(nold * sizeof(*old));
		if (!old)
			return -ENOMEM;
		for (i = 0; i < nold; i++)
			old[i] = &prev->series[i];
		qsort(old, nold, sizeof(*old), cmp_key);
	}
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = &m->series[i], *key = v, **hit;
		const struct lp_series_view *o;
		unsigned k;

		if (v->key.flags & LP_KEY_TTFB)
			continue;

		hit = nold ? bsearch(&key, old, nold, sizeof(*old), cmp_key) : NULL;
		o = hit ? *hit : NULL;
		dline(b, cfg, "http.request.count",
		      (double)inc(v->total->count, o ? o->total->count : 0), "c", v, NULL);
		dline(b, cfg, "http.request.duration.sum",
		      (double)inc(v->total->sum_ns, o ? o->total->sum_ns : 0) / 1e9, "c", v, NULL);
		dline(b, cfg, "http.request.rate", v->rate, "g", v, NULL);
		for (k = 0; k < LP_NQUANTILES && m->cfg->nwindows; k++) {
			char name[64];

			snprintf(name, sizeof(name), "http.request.duration.%s", lp_quantiles[k].metric);
			dline(b, cfg, name, v->win[0].q[k], "g", v, NULL);
		}
		for (k = 0; k < m->cfg->nslos; k++) {
			const char *sn = m->cfg->slos[k].name;
			double ratio, burn;

			if (!v->slo_applies[k])
				continue;
			slo_window(m, v, k, &ratio, &burn);
			dline(b, cfg, "slo.good", (double)inc(v->slo_good[k], o ? o->slo_good[k] : 0),
			      "c", v, sn);
			dline(b, cfg, "slo.total",
			      (double)inc(v->total->count, o ? o->total->count : 0), "c", v, sn);
			dline(b, cfg, "slo.good_ratio", ratio, "g", v, sn);
			dline(b, cfg, "slo.burn_rate", burn, "g", v, sn);
		}
	}
	free(old);
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

size_t lp_pack_datagrams(const char *text, size_t n, size_t max, size_t *off, size_t *len,
			 size_t cap, size_t *skipped)
{
	size_t pos = 0, count = 0;

	*skipped = 0;
	while (pos < n) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : n - pos;

		if (l == 0) {
			pos++;
			continue;
		}
		if (l > max) {
			(*skipped)++;
		} else if (count && off[count - 1] + len[count - 1] + 1 == pos &&
			   len[count - 1] + 1 + l <= max) {
			len[count - 1] += 1 + l; /* joins the datagram before, newline included */
		} else if (count < cap) {
			off[count] = pos;
			len[count] = l;
			count++;
		} else {
			(*skipped)++;
		}
		pos += l + 1;
	}
	return count;
}
