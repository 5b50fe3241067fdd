// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OTLP/HTTP metrics: the families a scrape carries (export/fmt_otlp.c), as a
 * protobuf ExportMetricsServiceRequest POSTed to
 * otlp+http(s)://HOST[:4318][/v1/metrics] (the OpenTelemetry Collector's
 * otlp receiver, and the backends that take OTLP directly). Cumulative
 * temporality: a push that fails is simply sent whole again, and a receiver
 * that missed some sees no reset.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "export/expo.h"
#include "sinks/sink.h"

struct otlp_opts {
	char host[256]; /* the resource's host.name */
	bool explicit;	/* histograms=explicit: the classic buckets, not exponential */
	bool windows;	/* windows=1: also the per-window summaries and SLO gauges */
};
_Static_assert(sizeof(struct otlp_opts) <= LP_SINK_OPTS, "OTLP options fit");

static struct otlp_opts *opts(struct lp_push_cfg *c)
{
	return (struct otlp_opts *)c->opts.bytes;
}

static const struct otlp_opts *copts(const struct lp_push_cfg *c)
{
	return (const struct otlp_opts *)c->opts.bytes;
}

static void defaults(struct lp_push_cfg *c, const char *hostname)
{
	if (lp_copy(opts(c)->host, sizeof(opts(c)->host), hostname))
		strcpy(opts(c)->host, "localhost");
}

static int option(struct lp_push_cfg *c, const char *k, const char *v)
{
	if (!strcmp(k, "host"))
		return *v && !lp_copy(opts(c)->host, sizeof(opts(c)->host), v) ? 0 : -EINVAL;
	if (!strcmp(k, "histograms")) {
		if (strcmp(v, "exponential") && strcmp(v, "explicit"))
			return -EINVAL;
		opts(c)->explicit = !strcmp(v, "explicit");
		return 0;
	}
	if (!strcmp(k, "windows"))
		return lp_enc_bool(v, &opts(c)->windows);
	return -ENOENT;
}

static int finish(struct lp_push_cfg *c, const struct lp_sink_url *u, char *err, size_t errlen)
{
	const char *path = u->path && u->path[1] ? u->path : "/v1/metrics";
	size_t n;

	if (!lp_enc_path_ok(path))
		return lp_errf(-EINVAL, err, errlen,
			       "the OTLP path has letters, digits and / _ - . only");
	snprintf(c->url, sizeof(c->url), "%s://%s:%s%s", u->http, u->host,
		 u->port ? u->port : "4318", path);
	n = strlen(c->name);
	snprintf(c->name + n, sizeof(c->name) - n, "%s", path);
	return 0;
}

static int encode(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		  const struct lp_push_cfg *c)
{
	(void)prev;
	return lp_expo_otlp(b, m, copts(c)->host,
			    (copts(c)->explicit ? 0 : LP_EXPO_NATIVE) |
				    (copts(c)->windows ? LP_EXPO_WINDOWS : 0));
}

static const char *const schemes[] = {"otlp+http", "otlp+https", "otlp", NULL};

const struct lp_sink_ops lp_sink_otlp = {
	.name = "otlp",
	.schemes = schemes,
	.transport = LP_TRANSPORT_HTTP,
	.auth = LP_SINK_AUTH_BASIC | LP_SINK_AUTH_TOKEN,
	.http_method = "POST",
	.content_type = "application/x-protobuf",
	.token_scheme = "Bearer",
	.defaults = defaults,
	.option = option,
	.finish = finish,
	.encode = encode,
};
