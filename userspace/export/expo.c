// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The catalog and the walker: every metric family latprobe serves is
 * described once here (emit_model and its parts), and written by the
 * format's writer (writer.h: fmt_text.c, fmt_pb.c). The agent's own metrics
 * are in self.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "export/expo.h"
#include "export/writer.h"
#include "export/self.h"
#include "core/hist.h"
#include "export/series_labels.h"

/* the labels of a series, from the label table; vals holds their values */
struct label_set {
	struct label l[MAX_LABELS];
	int n;
	struct lp_label_vals vals;
};

static void label_set_fill(struct label_set *sl, const struct lp_series_view *v, bool with_side)
{
	unsigned i;
	int n = 0;

	_Static_assert(LP_L_COUNT <= MAX_LABELS, "a series' labels fit a label set");
	lp_series_label_values(v, &sl->vals);
	for (i = 0; i < LP_L_COUNT; i++) {
		const struct lp_label_def *d = &lp_series_labels[i];

		if (!sl->vals.v[i] || ((d->flags & LP_LBL_SIDE) && !with_side))
			continue;
		sl->l[n++] = (struct label){ d->prom, sl->vals.v[i] };
	}
	sl->n = n;
}

static const struct family f_server = {
	"http_server_request_duration_seconds",
	"Duration of HTTP server requests, measured by latprobe at the socket layer from the "
	"request's first byte in to the response's last byte out.",
	F_HISTOGRAM, "seconds"};
static const struct family f_client = {
	"http_client_request_duration_seconds",
	"Duration of HTTP client requests made from this node, from the request's first byte "
	"out to the response's last byte in.",
	F_HISTOGRAM, "seconds"};
static const struct family f_server_ttfb = {
	"http_server_time_to_first_byte_seconds",
	"Time from an HTTP server request's first byte in to its final response's first byte "
	"out (--ttfb).",
	F_HISTOGRAM, "seconds"};
static const struct family f_client_ttfb = {
	"http_client_time_to_first_byte_seconds",
	"Time from an HTTP client request's first byte out to its final response's first byte "
	"in (--ttfb).",
	F_HISTOGRAM, "seconds"};
static const struct family f_overflow = {
	"latprobe_overflow_request_duration_seconds",
	"Requests that did not fit the series map (--max-series), all series folded into one.",
	F_HISTOGRAM, "seconds"};
static const struct family f_quantile = {
	"latprobe_http_request_duration_quantile_seconds",
	"Request duration quantiles over a sliding window (the window label), from latprobe's fine "
	"histogram; sum and count are cumulative. Quantiles do not aggregate across series: "
	"use the histograms for that.",
	F_SUMMARY, "seconds"};
static const struct family f_slo_total = {
	"latprobe_slo_requests", "Requests an SLO applies to, cumulative.", F_COUNTER, NULL};
static const struct family f_slo_good = {
	"latprobe_slo_good_requests",
	"Requests an SLO applies to that finished within its threshold (exact), cumulative.",
	F_COUNTER, NULL};
static const struct family f_slo_ratio = {"latprobe_slo_good_ratio",
					  "Good requests over all requests of an SLO in a window.",
					  F_GAUGE, "ratio"};
static const struct family f_slo_burn = {
	"latprobe_slo_error_budget_burn_rate",
	"Error-budget burn rate of an SLO in a window: bad ratio over the allowed bad ratio "
	"(1 = spending the budget exactly as fast as allowed).",
	F_GAUGE, NULL};
static const struct family f_slo_objective = {"latprobe_slo_objective_ratio",
					      "Objective of an SLO: the good ratio to meet.",
					      F_GAUGE, "ratio"};
static const struct family f_slo_threshold = {"latprobe_slo_threshold_seconds",
					      "Latency threshold of an SLO.", F_GAUGE, "seconds"};

/* side 0: the overflow series; ttfb: the time-to-first-byte family or the durations */
static void emit_histograms(struct writer *s, const struct lp_model *m, const struct family *f,
			    __u8 side, bool ttfb)
{
	size_t i;

	begin(s, f);
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = m->series[i];
		struct label_set sl;
		struct hist h = {m->cfg, m->ft, v->total, v->created};

		if (!(v->key.flags & LP_KEY_TTFB) != !ttfb)
			continue;
		if (v->key.flags & LP_KEY_OVERFLOW) {
			if (side)
				continue;
		} else if (v->key.side != side) {
			continue;
		}
		if (side)
			label_set_fill(&sl, v, false);
		else
			sl.n = 0;
		s->ops->histogram(s, sl.l, sl.n, &h);
	}
	end_family(s);
}

/* the window labels of the configuration, "1m", "5m" */
static void window_labels(const struct lp_config *cfg, char win[][16])
{
	unsigned w;

	for (w = 0; w < cfg->nwindows; w++)
		lp_format_window(win[w], 16, cfg->windows_ns[w]);
}

/* the quantile summary of every series, per window */
static void emit_quantiles(struct writer *s, const struct lp_model *m)
{
	const struct lp_config *cfg = m->cfg;
	char win[LP_MAX_WINDOWS][16];
	unsigned w;
	size_t i;

	window_labels(cfg, win);
	begin(s, &f_quantile);
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = m->series[i];
		struct label_set sl;

		if (v->key.flags & (LP_KEY_OVERFLOW | LP_KEY_TTFB))
			continue;
		label_set_fill(&sl, v, true);
		for (w = 0; w < cfg->nwindows; w++) {
			struct summ sm = {lp_quantiles,
					  v->win[w].q,
					  LP_NQUANTILES,
					  v->total->count,
					  (double)v->total->sum_ns / 1e9,
					  v->created};

			sl.l[sl.n] = (struct label){"window", win[w]};
			s->ops->summary(s, sl.l, sl.n + 1, &sm);
		}
	}
	end_family(s);
}

/* one family per SLO setting: objective, threshold */
static void emit_slo_settings(struct writer *s, const struct lp_config *cfg)
{
	unsigned k;

	begin(s, &f_slo_objective);
	for (k = 0; k < cfg->nslos; k++) {
		struct label l = {"slo", cfg->slos[k].name};

		sample(s, &l, 1, cfg->slos[k].objective);
	}
	end_family(s);
	begin(s, &f_slo_threshold);
	for (k = 0; k < cfg->nslos; k++) {
		struct label l = {"slo", cfg->slos[k].name};

		sample(s, &l, 1, (double)cfg->slos[k].threshold_ns / 1e9);
	}
	end_family(s);
}

/* what an SLO family shows of one series */
enum slo_figure { SLO_TOTAL, SLO_GOOD, SLO_RATIO, SLO_BURN };

/*
 * One SLO family over every series it applies to: the cumulative counts
 * (with their creation time), or the ratio or burn rate per window (only
 * windows that saw requests).
 */
static void emit_slo_family(struct writer *s, const struct lp_model *m, const struct family *f,
			    enum slo_figure fig)
{
	const struct lp_config *cfg = m->cfg;
	char win[LP_MAX_WINDOWS][16];
	unsigned k, w;
	size_t i;

	window_labels(cfg, win);
	begin(s, f);
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = m->series[i];
		struct label_set sl;

		if (v->key.flags & (LP_KEY_OVERFLOW | LP_KEY_TTFB))
			continue;
		label_set_fill(&sl, v, true);
		for (k = 0; k < cfg->nslos; k++) {
			if (!v->slo_applies[k])
				continue;
			sl.l[sl.n] = (struct label){"slo", cfg->slos[k].name};
			if (fig == SLO_TOTAL || fig == SLO_GOOD) {
				s->ops->sample(s, sl.l, sl.n + 1,
					       fig == SLO_TOTAL ? (double)v->total->count
								: (double)v->slo_good[k],
					       v->created);
				continue;
			}
			for (w = 0; w < cfg->nwindows; w++) {
				const struct lp_window_view *wv = &v->win[w];

				if (!wv->slo_total[k])
					continue;
				sl.l[sl.n + 1] = (struct label){"window", win[w]};
				sample(s, sl.l, sl.n + 2,
				       fig == SLO_RATIO ? wv->slo_ratio[k] : wv->slo_burn[k]);
			}
		}
	}
	end_family(s);
}

/* requests of each --exclude-path (in no histogram and no SLO), by side */
static void emit_excluded(struct writer *s, const struct lp_model *m)
{
	static const struct family f = {
		"latprobe_http_excluded_requests",
		"Requests under an --exclude-path prefix (health checks): counted here only, in no "
		"histogram and no SLO.",
		F_COUNTER, NULL};
	unsigned i, side;

	if (!m->cfg->routes.nexcluded)
		return;
	begin(s, &f);
	for (i = 0; i < m->cfg->routes.nexcluded; i++)
		for (side = 0; side < 2; side++) {
			struct label l[2] = {
				{"path", lp_route_excluded(&m->cfg->routes, i)},
				{"side", lp_side_name(side ? LP_SIDE_CLIENT : LP_SIDE_SERVER)}};

			sample(s, l, 2, (double)m->excluded[2 * i + side]);
		}
	end_family(s);
}

/* cgroups over their share of series (--max-series-per-cgroup): what they hold and folded */
static void emit_cgroups(struct writer *s, const struct lp_model *m)
{
	static const struct family f_series = {
		"latprobe_cgroup_series",
		"Series a cgroup created, for cgroups over their share (--max-series-per-cgroup).",
		F_GAUGE, NULL};
	static const struct family f_folded = {
		"latprobe_cgroup_folded_samples",
		"Samples of a cgroup over its share of series, folded into a status class (2xx...) "
		"or into the cgroup's own overflow series.",
		F_COUNTER, NULL};
	size_t i;
	unsigned k;

	if (!m->ncgs)
		return;
	begin(s, &f_series);
	for (i = 0; i < m->ncgs; i++) {
		struct label l[2] = {{"service_name", m->cgs[i].service},
				     {"cgroup", m->cgs[i].cgroup}};

		sample(s, l, 2, (double)m->cgs[i].series);
	}
	end_family(s);
	begin(s, &f_folded);
	for (i = 0; i < m->ncgs; i++)
		for (k = 0; k < 2; k++) {
			struct label l[3] = {{"service_name", m->cgs[i].service},
					     {"cgroup", m->cgs[i].cgroup},
					     {"into", k ? "overflow" : "status_class"}};

			sample(s, l, 3,
			       (double)(k ? m->cgs[i].folded_over : m->cgs[i].folded_class));
		}
	end_family(s);
}

/* the kernel's counters, one family each */
static void emit_counters(struct writer *s, const struct lp_model *m)
{
	unsigned c;

	for (c = 0; c < LP_CNT_MAX; c++) {
		const struct family f = {lp_counters[c].metric, lp_counters[c].help, F_COUNTER,
					 NULL};

		begin(s, &f);
		sample(s, NULL, 0, (double)m->counters[c]);
		end_family(s);
	}
}

/* the model's families, in the order they are served (none before the first collection) */
static void emit_series(struct writer *s, const struct lp_model *m)
{
	if (m) {
		emit_histograms(s, m, &f_server, LP_SIDE_SERVER, false);
		emit_histograms(s, m, &f_client, LP_SIDE_CLIENT, false);
		emit_histograms(s, m, &f_overflow, 0, false);
		if (m->cfg->ttfb) {
			emit_histograms(s, m, &f_server_ttfb, LP_SIDE_SERVER, true);
			emit_histograms(s, m, &f_client_ttfb, LP_SIDE_CLIENT, true);
		}
		if (s->windows)
			emit_quantiles(s, m);
		emit_slo_settings(s, m->cfg);
		emit_slo_family(s, m, &f_slo_total, SLO_TOTAL);
		emit_slo_family(s, m, &f_slo_good, SLO_GOOD);
		/* by default what PromQL needs: these follow from the histograms and
		 * counters (README, "Prometheus") */
		if (s->windows) {
			emit_slo_family(s, m, &f_slo_ratio, SLO_RATIO);
			emit_slo_family(s, m, &f_slo_burn, SLO_BURN);
		}
		emit_excluded(s, m);
		emit_cgroups(s, m);
		emit_counters(s, m);
	}
}

/* every family: the model's, then the agent's own, then the format's end */
static void emit_model(struct writer *s, const struct lp_model *m, const struct lp_self *self)
{
	emit_series(s, m);
	lp_emit_self(s, m, self);
	s->ops->end(s);
}

/* a writer of ops over b with opts (LP_EXPO_*), its le values from m's configuration */
static void writer_init(struct writer *s, const struct writer_ops *ops, struct lp_buf *b,
			const struct lp_model *m, unsigned opts)
{
	unsigned i;

	s->ops = ops;
	s->b = b;
	s->native = opts & LP_EXPO_NATIVE;
	s->windows = opts & LP_EXPO_WINDOWS;
	for (i = 0; m && i < m->cfg->nclassic; i++)
		lp_format_seconds(s->le[i], sizeof(s->le[i]), m->cfg->classic_ns[i]);
}

int lp_expo_remote_write(struct lp_buf *b, const struct lp_model *m,
			 const struct lp_expo_label *ext, int next, unsigned opts)
{
	struct writer s = {0};
	int e;

	if (!m)
		return -EINVAL;
	writer_init(&s, &lp_rw_ops, b, m, opts);
	e = lp_rw_begin(&s, ext, next, m->wall);
	if (e)
		return e;
	emit_model(&s, m, NULL);
	lp_rw_finish(&s);
	if (s.err)
		return s.err;
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

int lp_expo_otlp(struct lp_buf *b, const struct lp_model *m, const char *host, unsigned opts)
{
	struct writer s = {0};
	int e;

	if (!m)
		return -EINVAL;
	writer_init(&s, &lp_otlp_ops, b, m, opts);
	e = lp_otlp_begin(&s, host, m->wall,
			  m->start_wall > 0 ? m->start_wall : m->wall - m->uptime_s);
	if (e)
		return e;
	emit_model(&s, m, NULL);
	lp_otlp_finish(&s);
	if (s.err)
		return s.err;
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

/* the exposition's parts: LP_EXPO_PART_SERIES, LP_EXPO_PART_SELF, or both */
static int expo_write(struct lp_buf *b, enum lp_format f, const struct lp_model *m,
		      const struct lp_self *self, unsigned opts, unsigned parts)
{
	struct writer s = {0};

	writer_init(&s,
		    f == LP_FMT_PROTOBUF      ? &lp_pb_ops
		    : f == LP_FMT_OPENMETRICS ? &lp_om_ops
					      : &lp_text_ops,
		    b, m, opts);
	if (parts & LP_EXPO_PART_SERIES)
		emit_series(&s, m);
	if (parts & LP_EXPO_PART_SELF) {
		lp_emit_self(&s, m, self);
		s.ops->end(&s);
	}
	/* a label set that could not be rendered leaves holes in the body */
	if (!s.err && !lp_buf_ok(&s.scratch))
		s.err = -ENOMEM;
	lp_buf_free(&s.scratch);
	if (s.err)
		return s.err;
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

int lp_expo_write(struct lp_buf *b, enum lp_format f, const struct lp_model *m,
		  const struct lp_self *self, unsigned opts)
{
	return expo_write(b, f, m, self, opts, LP_EXPO_PART_SERIES | LP_EXPO_PART_SELF);
}

bool lp_expo_series_part_same(const struct lp_model *a, const struct lp_model *b)
{
	size_t i;

	if (a == b)
		return true;
	/* the views are immutable and shared while unchanged: the same pointers, the same lines */
	if (!a || !b || a->cfg != b->cfg || a->nseries != b->nseries || a->ncgs != b->ncgs ||
	    memcmp(a->series, b->series, a->nseries * sizeof(*a->series)) ||
	    memcmp(a->counters, b->counters, sizeof(a->counters)) ||
	    memcmp(a->excluded, b->excluded, sizeof(a->excluded)) ||
	    memcmp(a->slo_win, b->slo_win, sizeof(a->slo_win)))
		return false;
	for (i = 0; i < a->ncgs; i++)
		if (a->cgs[i].cgroup_id != b->cgs[i].cgroup_id ||
		    a->cgs[i].series != b->cgs[i].series ||
		    a->cgs[i].folded_class != b->cgs[i].folded_class ||
		    a->cgs[i].folded_over != b->cgs[i].folded_over ||
		    strcmp(a->cgs[i].cgroup, b->cgs[i].cgroup) ||
		    strcmp(a->cgs[i].service, b->cgs[i].service))
			return false;
	return true;
}

int lp_expo_write_part(struct lp_buf *b, enum lp_format f, const struct lp_model *m,
		       const struct lp_self *self, unsigned opts, unsigned part)
{
	return expo_write(b, f, m, self, opts, part);
}
