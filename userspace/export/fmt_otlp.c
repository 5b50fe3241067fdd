// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP writer (writer.h): the families a scrape carries, as one OTLP/HTTP
 * ExportMetricsServiceRequest (userspace/proto/otlp.proto), cumulative.
 *
 * - A resource per service: the series' service_name becomes the resource's
 *   service.name, with its pod's k8s.* attributes on Kubernetes and
 *   host.name; what belongs to no service (the agent's counters, the SLO
 *   settings) is the resource service.name=latprobe.
 * - Names follow OpenTelemetry's semantic conventions where they have one:
 *   http.server.request.duration and http.client.request.duration (unit s),
 *   attributes http.request.method, http.response.status_code (an int),
 *   http.route, server.port (an int), network.type. Every other family keeps
 *   its Prometheus name without the unit's suffix (the unit goes in the unit
 *   field: s, 1) and without _total. The OpenTelemetry Collector's
 *   Prometheus exporters add the suffixes back, so PromQL written for a scrape
 *   reads the same series either way.
 * - Histograms are exponential histograms (scale = the fine schema: the
 *   native histogram's buckets shifted by one index, since OTLP's bucket i
 *   is (base^i, base^(i+1)] and Prometheus's key k is (base^(k-1), base^k]),
 *   or with explicit buckets=the classic boundaries when asked.
 * - Counters are monotonic cumulative sums from the series' creation (or the
 *   agent's start); quantile summaries and per-window gauges only with
 *   windows (LP_EXPO_WINDOWS), as for a scrape.
 * The messages come from the writers' arena (arena.c), released whole at the
 * end; data points are listed per metric and become arrays at the end.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/expo.h"
#include "export/native.h"
#include "export/series_labels.h"
#include "export/writer.h"
#include "otlp.pb-c.h"
#include "version.h"

struct ot_point {
	struct ot_point *next;
	void *msg; /* the data point message of the metric's kind */
};

struct ot_metric {
	struct ot_metric *next;
	enum ftype type;
	unsigned family; /* the walker's family it belongs to (ot_state.family) */
	Otlp__Metric *m;
	struct ot_point *head, **tail;
	size_t n;
};

/* the resource attributes of a series: service.name, and its pod's (k8s.*) */
struct ot_rkey {
	const char *k[LP_L_COUNT], *v[LP_L_COUNT];
	int n;
};

struct ot_res {
	struct ot_res *next;
	struct ot_rkey key; /* the writer's copies */
	struct ot_metric *head, **tail, *cur;
	size_t n;
};

struct ot_state {
	const char *host;
	uint64_t now_ns, start_ns;
	unsigned family; /* families ended so far: the current family's number */
	struct ot_res *head, **tail;
	size_t n;
};

static const struct {
	const char *family, *name;
} metric_names[] = {
	{"http_server_request_duration_seconds", "http.server.request.duration"},
	{"http_client_request_duration_seconds", "http.client.request.duration"},
};

static Otlp__KeyValue *ot_kv(struct writer *s, const char *key, const char *v, bool num)
{
	Otlp__KeyValue *kv = lp_wr_alloc(s, sizeof(*kv));
	Otlp__AnyValue *av = lp_wr_alloc(s, sizeof(*av));
	char *end;
	long long n;

	if (!kv || !av)
		return NULL;
	otlp__key_value__init(kv);
	otlp__any_value__init(av);
	kv->key = (char *)key; /* literals, or the state's strings */
	kv->value = av;
	n = num && *v ? strtoll(v, &end, 10) : 0;
	if (num && *v && !*end) {
		av->value_case = OTLP__ANY_VALUE__VALUE_INT_VALUE;
		av->int_value = n;
		return kv;
	}
	av->value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	av->string_value = lp_wr_strdup(s, v);
	return av->string_value ? kv : NULL;
}

/* the attributes of a data point, and apart those of its resource (rk) */
static Otlp__KeyValue **ot_attrs(struct writer *s, const struct label *l, int nl, size_t *n,
				 struct ot_rkey *rk)
{
	Otlp__KeyValue **kv = lp_wr_alloc(s, (size_t)(nl ? nl : 1) * sizeof(*kv));
	int i;

	*n = 0;
	rk->n = 0;
	if (!kv)
		return NULL;
	for (i = 0; i < nl; i++) {
		/* a series label: its semantic-convention name; others as they are */
		const struct lp_label_def *d = lp_series_label_by_prom(l[i].name);

		if (d && (d->flags & LP_LBL_RESOURCE)) {
			if (rk->n < LP_L_COUNT) {
				rk->k[rk->n] = d->otel;
				rk->v[rk->n++] = l[i].value;
			}
			continue;
		}
		kv[*n] = ot_kv(s, d ? d->otel : l[i].name, l[i].value, d && (d->flags & LP_LBL_NUM));
		if (!kv[*n])
			return NULL;
		(*n)++;
	}
	return kv;
}

static bool rkey_same(const struct ot_rkey *a, const struct ot_rkey *b)
{
	int i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->k[i], b->k[i]) || strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

/* the resource of rk (none: the agent's own, service.name=latprobe), made at its first use */
static struct ot_res *ot_res_of(struct writer *s, const struct ot_rkey *rk)
{
	static const struct ot_rkey agent = { .k = { "service.name" }, .v = { "latprobe" }, .n = 1 };
	struct ot_state *st = s->ot;
	struct ot_res *r;
	int i;

	if (!rk->n)
		rk = &agent;
	for (r = st->head; r; r = r->next)
		if (rkey_same(&r->key, rk))
			return r;
	r = lp_wr_alloc(s, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < rk->n; i++) {
		r->key.k[i] = rk->k[i]; /* the table's literals */
		r->key.v[i] = lp_wr_strdup(s, rk->v[i]);
		if (!r->key.v[i])
			return NULL;
	}
	r->key.n = rk->n;
	r->tail = &r->head;
	*st->tail = r;
	st->tail = &r->next;
	st->n++;
	return r;
}

/* the family's name and unit in OTLP (see the top) */
static char *ot_metric_name(struct writer *s, const struct family *f, const char **unit)
{
	const char *suffix = NULL;
	size_t k, n = strlen(f->name);
	char *p;

	*unit = "";
	if (f->unit && !strcmp(f->unit, "seconds")) {
		*unit = "s";
		suffix = "_seconds";
	} else if (f->unit && !strcmp(f->unit, "ratio")) {
		*unit = "1";
		suffix = "_ratio";
	}
	for (k = 0; k < sizeof(metric_names) / sizeof(metric_names[0]); k++)
		if (!strcmp(f->name, metric_names[k].family))
			return (char *)metric_names[k].name;
	if (suffix && n > strlen(suffix) && !strcmp(f->name + n - strlen(suffix), suffix))
		n -= strlen(suffix);
	p = lp_wr_alloc(s, n + 1);
	if (p)
		memcpy(p, f->name, n);
	return p;
}

/* the current family's metric in the point's resource, made at its first point */
static struct ot_metric *ot_metric(struct writer *s, const struct ot_rkey *rk)
{
	struct ot_res *r = ot_res_of(s, rk);
	struct ot_metric *om;
	const char *unit;

	if (!r)
		return NULL;
	/* (a family can live on the walker's stack: told apart by number, not address) */
	if (r->cur && r->cur->family == s->ot->family)
		return r->cur;
	om = lp_wr_alloc(s, sizeof(*om));
	if (!om || !(om->m = lp_wr_alloc(s, sizeof(*om->m))))
		return NULL;
	otlp__metric__init(om->m);
	om->m->name = ot_metric_name(s, s->fam, &unit);
	if (!om->m->name)
		return NULL;
	om->m->unit = (char *)unit;
	om->m->description = (char *)s->fam->help;
	om->type = s->fam->type;
	om->family = s->ot->family;
	om->tail = &om->head;
	*r->tail = om;
	r->tail = &om->next;
	r->n++;
	r->cur = om;
	return om;
}

/* a data point msg for the metric of resource rk; false: out of memory (s->err set) */
static bool ot_add(struct writer *s, const struct ot_rkey *rk, void *msg)
{
	struct ot_metric *om = ot_metric(s, rk);
	struct ot_point *p = lp_wr_alloc(s, sizeof(*p));

	if (!om || !p)
		return false;
	p->msg = msg;
	*om->tail = p;
	om->tail = &p->next;
	om->n++;
	return true;
}

/* whole seconds and the fraction apart: a double's 53 bits hold no ns since 1970 */
static uint64_t ot_ns(double unix_s)
{
	double whole = floor(unix_s);

	if (unix_s <= 0)
		return 0;
	return (uint64_t)whole * 1000000000ull + (uint64_t)llround((unix_s - whole) * 1e9);
}

static void ot_sample(struct writer *s, const struct label *l, int nl, double v, double created)
{
	struct ot_state *st = s->ot;
	Otlp__NumberDataPoint *p = lp_wr_alloc(s, sizeof(*p));
	struct ot_rkey rk;

	if (!p)
		return;
	otlp__number_data_point__init(p);
	p->attributes = ot_attrs(s, l, nl, &p->n_attributes, &rk);
	if (!p->attributes)
		return;
	if (s->fam->type == F_COUNTER)
		p->start_time_unix_nano = created > 0 ? ot_ns(created) : st->start_ns;
	p->time_unix_nano = st->now_ns;
	p->value_case = OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	p->as_double = v;
	ot_add(s, &rk, p);
}

/* the fine buckets as OTLP's positive buckets: dense from the first non-empty one */
static bool ot_exponential(struct writer *s, const struct hist *h,
			   Otlp__ExponentialHistogramDataPoint *p)
{
	size_t cap = lp_native_cap(h->snap), i, j, n = 0;
	struct lp_native nh = {
		.span_offset = lp_wr_alloc(s, cap * sizeof(*nh.span_offset)),
		.span_length = lp_wr_alloc(s, cap * sizeof(*nh.span_length)),
		.delta = lp_wr_alloc(s, cap * sizeof(*nh.delta)),
	};
	Otlp__ExponentialHistogramDataPoint__Buckets *b = lp_wr_alloc(s, sizeof(*b));
	uint64_t *counts;
	int64_t c = 0;
	size_t d = 0;

	if (!nh.span_offset || !nh.span_length || !nh.delta || !b)
		return false;
	lp_native_of(h->snap, h->ft, &nh);
	/* spans after the first: their offset is the gap of empty buckets before them */
	for (i = 0; i < nh.nspans; i++)
		n += nh.span_length[i] + (i ? (size_t)nh.span_offset[i] : 0);
	counts = lp_wr_alloc(s, (n ? n : 1) * sizeof(*counts));
	if (!counts)
		return false;
	otlp__exponential_histogram_data_point__buckets__init(b);
	n = 0;
	for (i = 0; i < nh.nspans; i++) {
		if (i)
			n += (size_t)nh.span_offset[i]; /* zeroed by the arena */
		for (j = 0; j < nh.span_length[i]; j++) {
			c += nh.delta[d++];
			counts[n++] = (uint64_t)c;
		}
	}
	b->offset = nh.span_offset[0] - 1;
	b->n_bucket_counts = n;
	b->bucket_counts = counts;
	p->positive = b;
	p->scale = (int32_t)h->ft->schema;
	p->zero_count = nh.zero;
	p->zero_threshold = exp2(LP_FINE_LOW_EXP);
	/* count = zero_count + the buckets' counts, as OTLP requires */
	p->count = nh.total;
	return true;
}

static bool ot_explicit(struct writer *s, const struct hist *h, Otlp__HistogramDataPoint *p)
{
	unsigned i, n = h->cfg->nclassic;

	p->bucket_counts = lp_wr_alloc(s, (n + 1) * sizeof(*p->bucket_counts));
	p->explicit_bounds = lp_wr_alloc(s, (n ? n : 1) * sizeof(*p->explicit_bounds));
	if (!p->bucket_counts || !p->explicit_bounds)
		return false;
	for (i = 0; i <= n; i++) {
		p->bucket_counts[i] = h->snap->classic[i];
		p->count += h->snap->classic[i];
		if (i < n)
			p->explicit_bounds[i] = (double)h->cfg->classic_ns[i] / 1e9;
	}
	p->n_bucket_counts = n + 1;
	p->n_explicit_bounds = n;
	return true;
}

static void ot_histogram(struct writer *s, const struct label *l, int nl, const struct hist *h)
{
	struct ot_state *st = s->ot;
	uint64_t start = h->created > 0 ? ot_ns(h->created) : st->start_ns;
	double sum = (double)h->snap->sum_ns / 1e9;
	struct ot_rkey rk;

	if (s->native) {
		Otlp__ExponentialHistogramDataPoint *p = lp_wr_alloc(s, sizeof(*p));

		if (!p)
			return;
		otlp__exponential_histogram_data_point__init(p);
		p->attributes = ot_attrs(s, l, nl, &p->n_attributes, &rk);
		if (!p->attributes || !ot_exponential(s, h, p))
			return;
		p->start_time_unix_nano = start;
		p->time_unix_nano = st->now_ns;
		p->sum_present_case = OTLP__EXPONENTIAL_HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
		p->sum = sum;
		ot_add(s, &rk, p);
	} else {
		Otlp__HistogramDataPoint *p = lp_wr_alloc(s, sizeof(*p));

		if (!p)
			return;
		otlp__histogram_data_point__init(p);
		p->attributes = ot_attrs(s, l, nl, &p->n_attributes, &rk);
		if (!p->attributes || !ot_explicit(s, h, p))
			return;
		p->start_time_unix_nano = start;
		p->time_unix_nano = st->now_ns;
		p->sum_present_case = OTLP__HISTOGRAM_DATA_POINT__SUM_PRESENT_SUM;
		p->sum = sum;
		ot_add(s, &rk, p);
	}
}

static void ot_summary(struct writer *s, const struct label *l, int nl, const struct summ *sm)
{
	struct ot_state *st = s->ot;
	Otlp__SummaryDataPoint *p = lp_wr_alloc(s, sizeof(*p));
	Otlp__SummaryDataPoint__ValueAtQuantile *q = lp_wr_alloc(s, (sm->n + 1) * sizeof(*q));
	Otlp__SummaryDataPoint__ValueAtQuantile **qp = lp_wr_alloc(s, (sm->n + 1) * sizeof(*qp));
	struct ot_rkey rk;
	unsigned i;

	if (!p || !q || !qp)
		return;
	otlp__summary_data_point__init(p);
	p->attributes = ot_attrs(s, l, nl, &p->n_attributes, &rk);
	if (!p->attributes)
		return;
	for (i = 0; i < sm->n; i++) {
		if (sm->values[i] != sm->values[i])
			continue;
		otlp__summary_data_point__value_at_quantile__init(&q[p->n_quantile_values]);
		q[p->n_quantile_values].quantile = sm->q[i].q;
		q[p->n_quantile_values].value = sm->values[i];
		qp[p->n_quantile_values] = &q[p->n_quantile_values];
		p->n_quantile_values++;
	}
	p->quantile_values = qp;
	p->start_time_unix_nano = sm->created > 0 ? ot_ns(sm->created) : st->start_ns;
	p->time_unix_nano = st->now_ns;
	p->count = sm->count;
	p->sum = sm->sum;
	ot_add(s, &rk, p);
}

static void ot_end_family(struct writer *s)
{
	s->ot->family++;
}

/* a metric's listed points as the array its kind wants */
static bool ot_finish_metric(struct writer *s, struct ot_metric *om)
{
	void **pts = lp_wr_alloc(s, (om->n ? om->n : 1) * sizeof(*pts));
	Otlp__Metric *m = om->m;
	struct ot_point *p;
	size_t i = 0;

	if (!pts)
		return false;
	for (p = om->head; p; p = p->next)
		pts[i++] = p->msg;
	switch (om->type) {
	case F_COUNTER:
		m->data_case = OTLP__METRIC__DATA_SUM;
		m->sum = lp_wr_alloc(s, sizeof(*m->sum));
		if (!m->sum)
			return false;
		otlp__sum__init(m->sum);
		m->sum->aggregation_temporality =
			OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		m->sum->is_monotonic = true;
		m->sum->n_data_points = om->n;
		m->sum->data_points = (Otlp__NumberDataPoint **)pts;
		return true;
	case F_GAUGE:
	case F_INFO:
		m->data_case = OTLP__METRIC__DATA_GAUGE;
		m->gauge = lp_wr_alloc(s, sizeof(*m->gauge));
		if (!m->gauge)
			return false;
		otlp__gauge__init(m->gauge);
		m->gauge->n_data_points = om->n;
		m->gauge->data_points = (Otlp__NumberDataPoint **)pts;
		return true;
	case F_HISTOGRAM:
		if (s->native) {
			m->data_case = OTLP__METRIC__DATA_EXPONENTIAL_HISTOGRAM;
			m->exponential_histogram =
				lp_wr_alloc(s, sizeof(*m->exponential_histogram));
			if (!m->exponential_histogram)
				return false;
			otlp__exponential_histogram__init(m->exponential_histogram);
			m->exponential_histogram->aggregation_temporality =
				OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
			m->exponential_histogram->n_data_points = om->n;
			m->exponential_histogram->data_points =
				(Otlp__ExponentialHistogramDataPoint **)pts;
			return true;
		}
		m->data_case = OTLP__METRIC__DATA_HISTOGRAM;
		m->histogram = lp_wr_alloc(s, sizeof(*m->histogram));
		if (!m->histogram)
			return false;
		otlp__histogram__init(m->histogram);
		m->histogram->aggregation_temporality =
			OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		m->histogram->n_data_points = om->n;
		m->histogram->data_points = (Otlp__HistogramDataPoint **)pts;
		return true;
	case F_SUMMARY:
		m->data_case = OTLP__METRIC__DATA_SUMMARY;
		m->summary = lp_wr_alloc(s, sizeof(*m->summary));
		if (!m->summary)
			return false;
		otlp__summary__init(m->summary);
		m->summary->n_data_points = om->n;
		m->summary->data_points = (Otlp__SummaryDataPoint **)pts;
		return true;
	}
	return false;
}

/* one resource: service.name and host.name, and its metrics under latprobe's scope */
static Otlp__ResourceMetrics *ot_resource(struct writer *s, struct ot_res *r)
{
	Otlp__ResourceMetrics *rm = lp_wr_alloc(s, sizeof(*rm));
	Otlp__Resource *res = lp_wr_alloc(s, sizeof(*res));
	Otlp__KeyValue **kv = lp_wr_alloc(s, ((size_t)r->key.n + 1) * sizeof(*kv));
	Otlp__ScopeMetrics *sm = lp_wr_alloc(s, sizeof(*sm)), **smp = lp_wr_alloc(s, sizeof(*smp));
	Otlp__InstrumentationScope *scope = lp_wr_alloc(s, sizeof(*scope));
	Otlp__Metric **ms = lp_wr_alloc(s, (r->n ? r->n : 1) * sizeof(*ms));
	struct ot_metric *om;
	size_t i = 0;

	if (!rm || !res || !kv || !sm || !smp || !scope || !ms)
		return NULL;
	for (i = 0; i < (size_t)r->key.n; i++)
		if (!(kv[i] = ot_kv(s, r->key.k[i], r->key.v[i], false)))
			return NULL;
	kv[i] = ot_kv(s, "host.name", s->ot->host, false);
	if (!kv[i])
		return NULL;
	otlp__resource__init(res);
	res->n_attributes = i + 1;
	res->attributes = kv;
	i = 0;
	for (om = r->head; om; om = om->next) {
		if (!ot_finish_metric(s, om))
			return NULL;
		ms[i++] = om->m;
	}
	otlp__instrumentation_scope__init(scope);
	scope->name = (char *)"latprobe";
	scope->version = (char *)LATPROBE_VERSION;
	otlp__scope_metrics__init(sm);
	sm->scope = scope;
	sm->n_metrics = r->n;
	sm->metrics = ms;
	smp[0] = sm;
	otlp__resource_metrics__init(rm);
	rm->resource = res;
	rm->n_scope_metrics = 1;
	rm->scope_metrics = smp;
	return rm;
}

/* the request, packed into the body */
static void ot_end(struct writer *s)
{
	struct ot_state *st = s->ot;
	Otlp__ExportMetricsServiceRequest req = OTLP__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	Otlp__ResourceMetrics **rms = lp_wr_alloc(s, (st->n ? st->n : 1) * sizeof(*rms));
	struct ot_res *r;
	size_t n = 0;

	if (s->err || !rms) {
		s->err = s->err ? s->err : -ENOMEM;
		return;
	}
	for (r = st->head; r; r = r->next) {
		rms[n] = ot_resource(s, r);
		if (!rms[n++])
			return;
	}
	req.n_resource_metrics = n;
	req.resource_metrics = rms;
	n = otlp__export_metrics_service_request__get_packed_size(&req);
	lp_buf_reserve(s->b, n);
	if (!lp_buf_ok(s->b)) {
		s->err = -ENOMEM;
		return;
	}
	s->b->len +=
		otlp__export_metrics_service_request__pack(&req, (uint8_t *)s->b->data + s->b->len);
}

const struct writer_ops lp_otlp_ops = {ot_sample, ot_histogram, ot_summary, ot_end_family, ot_end};

int lp_otlp_begin(struct writer *s, const char *host, double wall, double start_wall)
{
	struct ot_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->host = host;
	st->now_ns = ot_ns(wall);
	st->start_ns = ot_ns(start_wall);
	st->tail = &st->head;
	s->ot = st;
	return 0;
}

void lp_otlp_finish(struct writer *s)
{
	lp_wr_release(s);
	free(s->ot);
	s->ot = NULL;
}
