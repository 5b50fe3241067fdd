// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * InfluxDB line protocol with nanosecond timestamps, POSTed: influxdb:// to
 * 1.x (/write?db=, the database is the URL's path), influxdb2:// to 2.x
 * (/api/v2/write?org=&bucket=, with a token).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <pthread.h>

#include "base/names.h"
#include "base/util.h"
#include "export/series_labels.h"
#include "sinks/sink.h"

struct influx2_opts {
	char org[256];
	char bucket[256];
};
_Static_assert(sizeof(struct influx2_opts) <= LP_SINK_OPTS, "influxdb2 options fit");

static struct influx2_opts *opts(struct lp_push_cfg *c)
{
	return (struct influx2_opts *)c->opts.bytes;
}

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

/* the label table's rows sorted by tag, as InfluxDB prefers its tags (once) */
static const struct lp_label_def *sorted_tags[LP_L_COUNT];
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int by_tag(const void *a, const void *b)
{
	return strcmp((*(const struct lp_label_def *const *)a)->tag,
		      (*(const struct lp_label_def *const *)b)->tag);
}

static void sort_tags(void)
{
	unsigned i;

	for (i = 0; i < LP_L_COUNT; i++)
		sorted_tags[i] = &lp_series_labels[i];
	qsort(sorted_tags, LP_L_COUNT, sizeof(sorted_tags[0]), by_tag);
}

static void itags(struct lp_buf *b, const struct lp_series_view *v)
{
	struct lp_label_vals lv;
	unsigned i;

	pthread_once(&sorted_once, sort_tags);
	lp_series_label_values(v, &lv);
	for (i = 0; i < LP_L_COUNT; i++) {
		const char *x = lv.v[sorted_tags[i]->id];

		if (!x)
			continue;
		lp_buf_printf(b, ",%s=", sorted_tags[i]->tag);
		iesc(b, x);
	}
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
	unsigned long long ts =
		sec * 1000000000ULL + (unsigned long long)llround((m->wall - (double)sec) * 1e9);
	size_t i;

	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = m->series[i];
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
			lp_enc_slo_first_window(m, v, k, &ratio, &burn);
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

static int encode(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		  const struct lp_push_cfg *c)
{
	(void)prev;
	(void)c;
	return lp_enc_influx(b, m);
}

/* 1.x: the database is the path; the sink's name shows it */
static int finish1(struct lp_push_cfg *c, const struct lp_sink_url *u, char *err, size_t errlen)
{
	char *db;
	size_t n = strlen(c->name);

	if (!u->path || strlen(u->path) < 2 || strchr(u->path + 1, '/'))
		return lp_errf(-EINVAL, err, errlen,
			       "the database is the path: influxdb://host:8086/DB");
	snprintf(c->name + n, sizeof(c->name) - n, "%s", u->path);
	db = curl_easy_escape(NULL, u->path + 1, 0);
	snprintf(c->url, sizeof(c->url), "%s://%s:%s/write?db=%s&precision=ns", u->http, u->host,
		 u->port ? u->port : "8086", db ? db : "");
	curl_free(db);
	return 0;
}

static int option2(struct lp_push_cfg *c, const char *k, const char *v)
{
	if (!strcmp(k, "org"))
		return *v && !lp_copy(opts(c)->org, sizeof(opts(c)->org), v) ? 0 : -EINVAL;
	if (!strcmp(k, "bucket"))
		return *v && !lp_copy(opts(c)->bucket, sizeof(opts(c)->bucket), v) ? 0 : -EINVAL;
	return -ENOENT;
}

/* 2.x: org and bucket, and a token from token_file= or $LATPROBE_INFLUX_TOKEN */
static int finish2(struct lp_push_cfg *c, const struct lp_sink_url *u, char *err, size_t errlen)
{
	const char *tok = getenv("LATPROBE_INFLUX_TOKEN");
	char *o, *bk;

	if (!opts(c)->org[0] || !opts(c)->bucket[0])
		return lp_errf(-EINVAL, err, errlen, "influxdb2 needs org= and bucket=");
	if (!c->token[0] && (!tok || !*tok || lp_copy(c->token, sizeof(c->token), tok)))
		return lp_errf(
			-EINVAL, err, errlen,
			"influxdb2 needs a token: token_file=PATH or $LATPROBE_INFLUX_TOKEN");
	o = curl_easy_escape(NULL, opts(c)->org, 0);
	bk = curl_easy_escape(NULL, opts(c)->bucket, 0);
	snprintf(c->url, sizeof(c->url), "%s://%s:%s/api/v2/write?org=%s&bucket=%s&precision=ns",
		 u->http, u->host, u->port ? u->port : "8086", o ? o : "", bk ? bk : "");
	curl_free(o);
	curl_free(bk);
	return 0;
}

static const char *const schemes1[] = {"influxdb", "influxdb+http", "influxdb+https", NULL};
static const char *const schemes2[] = {"influxdb2", "influxdb2+http", "influxdb2+https", NULL};

const struct lp_sink_ops lp_sink_influxdb = {
	.name = "influxdb",
	.schemes = schemes1,
	.transport = LP_TRANSPORT_HTTP,
	.http_method = "POST",
	.content_type = "text/plain; charset=utf-8",
	.finish = finish1,
	.encode = encode,
};

const struct lp_sink_ops lp_sink_influxdb2 = {
	.name = "influxdb2",
	.schemes = schemes2,
	.transport = LP_TRANSPORT_HTTP,
	.auth = LP_SINK_AUTH_TOKEN,
	.http_method = "POST",
	.content_type = "text/plain; charset=utf-8",
	.token_scheme = "Token",
	.option = option2,
	.finish = finish2,
	.encode = encode,
};
