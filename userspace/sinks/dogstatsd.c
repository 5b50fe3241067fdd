// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * DogStatsD over UDP or a unix datagram socket: "name:value|type|#tag:value"
 * lines packed into datagrams of whole lines. Counts are counters of the
 * increase since the snapshot last sent (increments: push.c resumes a
 * failed push after what arrived), everything else gauges.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/names.h"
#include "base/util.h"
#include "export/series_labels.h"
#include "sinks/sink.h"

struct dsd_opts {
	char prefix[128];
};
_Static_assert(sizeof(struct dsd_opts) <= LP_SINK_OPTS, "dogstatsd options fit");

static struct dsd_opts *opts(struct lp_push_cfg *c)
{
	return (struct dsd_opts *)c->opts.bytes;
}

static void defaults(struct lp_push_cfg *c, const char *hostname)
{
	(void)hostname;
	strcpy(opts(c)->prefix, "latprobe");
	c->max_datagram = 1432;
}

static int option(struct lp_push_cfg *c, const char *k, const char *v)
{
	if (!strcmp(k, "prefix"))
		return lp_enc_name_ok(v) && !lp_copy(opts(c)->prefix, sizeof(opts(c)->prefix), v)
			       ? 0
			       : -EINVAL;
	if (!strcmp(k, "max_size"))
		return lp_parse_u32(v, 64, 65000, &c->max_datagram);
	return -ENOENT;
}

static int cmp_key(const void *a, const void *b)
{
	const struct lp_series_view *const *x = a, *const *y = b;

	return memcmp(&(*x)->key, &(*y)->key, sizeof((*x)->key));
}

/* every label of the series (export/series_labels.h) as tag:value; values: no ',', '|' or '#' */
static void dtags(struct lp_buf *b, const struct lp_series_view *v)
{
	struct lp_label_vals lv;
	char clean[512];
	const char *sep = "|#";
	unsigned i;

	lp_series_label_values(v, &lv);
	for (i = 0; i < LP_L_COUNT; i++) {
		if (!lv.v[i])
			continue;
		lp_buf_printf(b, "%s%s:%s", sep, lp_series_labels[i].tag,
			      lp_enc_clean(clean, sizeof(clean), lv.v[i], true));
		sep = ",";
	}
}

static void dline(struct lp_buf *b, const struct lp_push_cfg *cfg, const char *metric, double value,
		  const char *type, const struct lp_series_view *v, const char *slo)
{
	if (isnan(value) || isinf(value))
		return;
	lp_buf_printf(b, "%s.%s:", ((const struct dsd_opts *)cfg->opts.bytes)->prefix, metric);
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
			old[i] = prev->series[i];
		qsort(old, nold, sizeof(*old), cmp_key);
	}
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = m->series[i], *key = v, **hit;
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

			snprintf(name, sizeof(name), "http.request.duration.%s",
				 lp_quantiles[k].metric);
			dline(b, cfg, name, v->win[0].q[k], "g", v, NULL);
		}
		for (k = 0; k < m->cfg->nslos; k++) {
			const char *sn = m->cfg->slos[k].name;
			double ratio, burn;

			if (!v->slo_applies[k])
				continue;
			lp_enc_slo_first_window(m, v, k, &ratio, &burn);
			dline(b, cfg, "slo.good",
			      (double)inc(v->slo_good[k], o ? o->slo_good[k] : 0), "c", v, sn);
			dline(b, cfg, "slo.total",
			      (double)inc(v->total->count, o ? o->total->count : 0), "c", v, sn);
			dline(b, cfg, "slo.good_ratio", ratio, "g", v, sn);
			dline(b, cfg, "slo.burn_rate", burn, "g", v, sn);
		}
	}
	free(old);
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

static int encode(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		  const struct lp_push_cfg *c)
{
	return lp_enc_dogstatsd(b, m, prev, c);
}

static const char *const schemes[] = {"dogstatsd", "unix", NULL};

const struct lp_sink_ops lp_sink_dogstatsd = {
	.name = "dogstatsd",
	.schemes = schemes,
	.transport = LP_TRANSPORT_DGRAM,
	.default_port = "8125",
	.increments = true,
	.defaults = defaults,
	.option = option,
	.encode = encode,
};
