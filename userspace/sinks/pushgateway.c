// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Prometheus Pushgateway: the text exposition of the model, histograms
 * included, PUT to /metrics/job/<job>/instance/<instance> (a PUT replaces
 * the group's metrics: a second push never duplicates one).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

#include "export/expo.h"
#include "sinks/sink.h"

struct pgw_opts {
	struct lp_enc_job id;
};
_Static_assert(sizeof(struct pgw_opts) <= LP_SINK_OPTS, "pushgateway options fit");

static struct pgw_opts *opts(struct lp_push_cfg *c)
{
	return (struct pgw_opts *)c->opts.bytes;
}

static void defaults(struct lp_push_cfg *c, const char *hostname)
{
	lp_enc_job_defaults(&opts(c)->id, hostname);
}

static int option(struct lp_push_cfg *c, const char *k, const char *v)
{
	return lp_enc_job_option(&opts(c)->id, k, v);
}

static int finish(struct lp_push_cfg *c, const struct lp_sink_url *u, char *err, size_t errlen)
{
	char *job = curl_easy_escape(NULL, opts(c)->id.job, 0);
	char *inst = curl_easy_escape(NULL, opts(c)->id.instance, 0);

	(void)err;
	(void)errlen;
	snprintf(c->url, sizeof(c->url), "%s://%s:%s/metrics/job/%s/instance/%s", u->http, u->host,
		 u->port ? u->port : "9091", job ? job : "latprobe", inst ? inst : "localhost");
	curl_free(job);
	curl_free(inst);
	return 0;
}

int lp_enc_pushgateway(struct lp_buf *b, const struct lp_model *m)
{
	/* no process_* self metrics: they would describe the agent, not the group;
	 * the window summaries and gauges, as a Pushgateway user reads them */
	return lp_expo_write(b, LP_FMT_TEXT, m, NULL, LP_EXPO_WINDOWS);
}

static int encode(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		  const struct lp_push_cfg *c)
{
	(void)prev;
	(void)c;
	return lp_enc_pushgateway(b, m);
}

static const char *const schemes[] = {"pushgateway+http", "pushgateway+https", "pushgateway", NULL};

const struct lp_sink_ops lp_sink_pushgateway = {
	.name = "pushgateway",
	.schemes = schemes,
	.transport = LP_TRANSPORT_HTTP,
	.auth = LP_SINK_AUTH_BASIC,
	.http_method = "PUT",
	.content_type = "text/plain; version=0.0.4",
	.defaults = defaults,
	.option = option,
	.finish = finish,
	.encode = encode,
};
