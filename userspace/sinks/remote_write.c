// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus remote write 1.0: the series a scrape would give
 * (export/fmt_rw.c), as a snappy-compressed protobuf WriteRequest POSTed to
 * remote-write+http(s)://HOST:PORT/PATH (Prometheus with
 * --web.enable-remote-write-receiver, VictoriaMetrics, Mimir, Thanos Receive,
 * Cortex). Every series carries the external labels job and instance, which
 * a scrape would have added, so one query reads either path the same way.
 * Counters are cumulative: a push that fails is simply sent whole again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "export/expo.h"
#include "sinks/sink.h"

struct rw_opts {
	struct lp_enc_job id;
	bool windows; /* windows=1: also the per-window summaries and SLO gauges */
	bool native;  /* native=1: also each histogram as a native histogram */
};
_Static_assert(sizeof(struct rw_opts) <= LP_SINK_OPTS, "remote-write options fit");

static struct rw_opts *opts(struct lp_push_cfg *c)
{
	return (struct rw_opts *)c->opts.bytes;
}

static const struct rw_opts *copts(const struct lp_push_cfg *c)
{
	return (const struct rw_opts *)c->opts.bytes;
}

static void defaults(struct lp_push_cfg *c, const char *hostname)
{
	lp_enc_job_defaults(&opts(c)->id, hostname);
}

static int option(struct lp_push_cfg *c, const char *k, const char *v)
{
	int r = lp_enc_job_option(&opts(c)->id, k, v);

	if (r != -ENOENT)
		return r;
	if (!strcmp(k, "windows"))
		return lp_enc_bool(v, &opts(c)->windows);
	if (!strcmp(k, "native"))
		return lp_enc_bool(v, &opts(c)->native);
	return -ENOENT;
}

static int finish(struct lp_push_cfg *c, const struct lp_sink_url *u, char *err, size_t errlen)
{
	const char *path = u->path && u->path[1] ? u->path : "/api/v1/write";
	size_t n;

	if (!lp_enc_path_ok(path))
		return lp_errf(-EINVAL, err, errlen,
			       "the write path has letters, digits and / _ - . only");
	if (!u->port)
		return lp_errf(-EINVAL, err, errlen,
			       "remote-write needs the receiver's port: "
			       "remote-write+http://HOST:9090/api/v1/write");
	snprintf(c->url, sizeof(c->url), "%s://%s:%s%s", u->http, u->host, u->port, path);
	/* the self metrics' sink label: two paths on one receiver are two sinks */
	n = strlen(c->name);
	snprintf(c->name + n, sizeof(c->name) - n, "%s", path);
	return 0;
}

int lp_enc_remote_write(struct lp_buf *b, const struct lp_model *m, const struct lp_push_cfg *c)
{
	const struct lp_expo_label ext[2] = {{"instance", copts(c)->id.instance},
					     {"job", copts(c)->id.job}};

	return lp_expo_remote_write(b, m, ext, 2,
				    (copts(c)->windows ? LP_EXPO_WINDOWS : 0) |
					    (copts(c)->native ? LP_EXPO_NATIVE : 0));
}

static int encode(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		  const struct lp_push_cfg *c)
{
	(void)prev;
	return lp_enc_remote_write(b, m, c);
}

static const char *const schemes[] = {"remote-write+http", "remote-write+https", "remote-write",
				      NULL};
static const char *const headers[] = {"Content-Encoding: snappy",
				      "X-Prometheus-Remote-Write-Version: 0.1.0", NULL};

const struct lp_sink_ops lp_sink_remote_write = {
	.name = "remote-write",
	.schemes = schemes,
	.transport = LP_TRANSPORT_HTTP,
	.auth = LP_SINK_AUTH_BASIC | LP_SINK_AUTH_TOKEN,
	.http_method = "POST",
	.content_type = "application/x-protobuf",
	.headers = headers,
	.token_scheme = "Bearer",
	.defaults = defaults,
	.option = option,
	.finish = finish,
	.encode = encode,
};
