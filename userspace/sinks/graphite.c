// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Graphite plaintext over TCP: "name[;tag=value...] value unix_seconds"
 * lines, one connection per push. With tags=1 (the default) Graphite 1.1
 * tags; with tags=0 dotted names, where every label is a level.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/names.h"
#include "base/util.h"
#include "export/series_labels.h"
#include "sinks/sink.h"

struct graphite_opts {
	bool tags;
	char prefix[128];
};
_Static_assert(sizeof(struct graphite_opts) <= LP_SINK_OPTS, "graphite options fit");

static const struct graphite_opts *go(const struct lp_push_cfg *c)
{
	return (const struct graphite_opts *)c->opts.bytes;
}

static struct graphite_opts *opts(struct lp_push_cfg *c)
{
	return (struct graphite_opts *)c->opts.bytes;
}

static void defaults(struct lp_push_cfg *c, const char *hostname)
{
	(void)hostname;
	opts(c)->tags = true;
	strcpy(opts(c)->prefix, "latprobe");
}

static int option(struct lp_push_cfg *c, const char *k, const char *v)
{
	if (!strcmp(k, "tags"))
		return lp_enc_bool(v, &opts(c)->tags);
	if (!strcmp(k, "prefix"))
		return lp_enc_name_ok(v) && !lp_copy(opts(c)->prefix, sizeof(opts(c)->prefix), v)
			       ? 0
			       : -EINVAL;
	return -ENOENT;
}

/*
 * A name as a Graphite tag value (dots: '.', ':' and '/' kept) or a level of a
 * dotted name (dots: false): letters, digits, '_' and '-' as they are, every
 * other byte as %HH, '%' included. Escaped, not folded: two names never
 * meet in one series ("/a.b" and "/a_b", "x@y" and "x_y" stay apart). Cut
 * on an escape's boundary; "%00" for an empty name.
 */
static const char *gesc(char *out, size_t len, const char *s, bool dots)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || (dots && (c == '.' || c == ':' || c == '/'))) {
			if (o + 1 >= len)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				break;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	if (!o)
		snprintf(out, len, "%%00");
	return out;
}

/* the series' labels (export/series_labels.h), as they are: escaped where written */
struct gtags {
	struct lp_label_vals lv;
};

static void gtags_of(struct gtags *t, const struct lp_series_view *v)
{
	lp_series_label_values(v, &t->lv);
}

/* one Graphite line; name is "<group>.<metric>" below the prefix */
static void gline(struct lp_buf *b, const struct lp_push_cfg *cfg, const struct gtags *t,
		  const char *side, const char *slo, const char *metric, double value, long ts)
{
	const char *const *lv = t->lv.v;
	char svc[3 * 128], cg[3 * 512], route[3 * LP_ROUTE_LEN + 2] = "";
	unsigned i;

	if (isnan(value))
		return;
	if (go(cfg)->tags) {
		/* every label a tag (the side the caller's: each series is one side) */
		lp_buf_printf(b, "%s.%s;side=%s", go(cfg)->prefix, metric, side);
		for (i = 0; i < LP_L_COUNT; i++)
			if (lv[i] && lp_series_labels[i].id != LP_L_SIDE)
				lp_buf_printf(b, ";%s=%s", lp_series_labels[i].tag,
					      gesc(cg, sizeof(cg), lv[i], true));
		if (slo)
			lp_buf_printf(b, ";slo=%s", slo);
	} else {
		/* dotted: a fixed path of levels (the service's, cgroup's and route's dots
		 * would be levels of their own: escaped, %2E); the route is a level after
		 * the method only with --route; the scheme only in tags (the port tells) */
		gesc(svc, sizeof(svc), lv[LP_L_SERVICE], false);
		gesc(cg, sizeof(cg), lv[LP_L_CGROUP], false);
		if (lv[LP_L_ROUTE]) {
			gesc(route + 1, sizeof(route) - 1, lv[LP_L_ROUTE], false);
			route[0] = '.';
		}
		/* the HTTP version a level after the family: "h1" or "h2" (no dot in it) */
		lp_buf_printf(b, "%s.%s.%s.%s.%s.%s.%s.%s%s.%s.%s%s%s", go(cfg)->prefix, side, svc,
			      cg, lv[LP_L_FAMILY], lv[LP_L_VERSION][0] == '2' ? "h2" : "h1",
			      lv[LP_L_PORT], lv[LP_L_METHOD], route, lv[LP_L_STATUS], slo ? slo : "",
			      slo ? "." : "", metric);
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
		const struct lp_series_view *v = m->series[i];
		const char *side = lp_side_name(v->key.side);
		struct gtags t;
		char name[64];
		unsigned k;

		if (v->key.flags & LP_KEY_TTFB)
			continue; /* time to first byte: pull exposition and JSON only */

		gtags_of(&t, v);
		gline(b, cfg, &t, side, NULL, go(cfg)->tags ? "http.request.count" : "count",
		      (double)v->total->count, ts);
		gline(b, cfg, &t, side, NULL,
		      go(cfg)->tags ? "http.request.duration_seconds.sum" : "sum",
		      (double)v->total->sum_ns / 1e9, ts);
		gline(b, cfg, &t, side, NULL, go(cfg)->tags ? "http.request.rate" : "rate", v->rate,
		      ts);
		for (k = 0; k < LP_NQUANTILES && m->cfg->nwindows; k++) {
			snprintf(name, sizeof(name), "%s%s",
				 go(cfg)->tags ? "http.request.duration_seconds." : "",
				 lp_quantiles[k].metric);
			gline(b, cfg, &t, side, NULL, name, v->win[0].q[k], ts);
		}
		for (k = 0; k < m->cfg->nslos; k++) {
			const char *sn = m->cfg->slos[k].name;
			double ratio, burn;

			if (!v->slo_applies[k])
				continue;
			lp_enc_slo_first_window(m, v, k, &ratio, &burn);
			gline(b, cfg, &t, side, sn, go(cfg)->tags ? "slo.good" : "good",
			      (double)v->slo_good[k], ts);
			gline(b, cfg, &t, side, sn, go(cfg)->tags ? "slo.total" : "total",
			      (double)v->total->count, ts);
			gline(b, cfg, &t, side, sn, go(cfg)->tags ? "slo.good_ratio" : "good_ratio",
			      ratio, ts);
			gline(b, cfg, &t, side, sn, go(cfg)->tags ? "slo.burn_rate" : "burn_rate",
			      burn, ts);
		}
	}
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

static int encode(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		  const struct lp_push_cfg *c)
{
	(void)prev;
	return lp_enc_graphite(b, m, c);
}

static const char *const schemes[] = {"graphite", NULL};

const struct lp_sink_ops lp_sink_graphite = {
	.name = "graphite",
	.schemes = schemes,
	.transport = LP_TRANSPORT_TCP,
	.default_port = "2003",
	.defaults = defaults,
	.option = option,
	.encode = encode,
};
