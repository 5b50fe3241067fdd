// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The protobuf writer: delimited io.prometheus.client.MetricFamily messages,
 * native histograms included (writer.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/native.h"
#include "export/writer.h"
#include "core/hist.h"
#include "lp_bucket.h"

static Io__Prometheus__Client__Metric *pb_metric(struct writer *s, const struct label *l, int nl)
{
	Io__Prometheus__Client__Metric *m = lp_wr_alloc(s, sizeof(*m));
	int i;

	if (!m)
		return NULL;
	io__prometheus__client__metric__init(m);
	m->label = lp_wr_alloc(s, (size_t)(nl ? nl : 1) * sizeof(*m->label));
	if (!m->label)
		return NULL;
	for (i = 0; i < nl; i++) {
		Io__Prometheus__Client__LabelPair *p = lp_wr_alloc(s, sizeof(*p));
		size_t len = strlen(l[i].value) + 1;

		if (!p)
			return NULL;
		io__prometheus__client__label_pair__init(p);
		m->label[m->n_label++] = p;
		p->name = (char *)l[i].name; /* static strings */
		p->value = lp_wr_alloc(s, len);
		if (!p->value)
			return NULL;
		memcpy(p->value, l[i].value, len);
	}
	if (s->nmetrics == s->capmetrics) {
		size_t cap = s->capmetrics ? 2 * s->capmetrics : 64;
		void *n = realloc(s->metrics, cap * sizeof(*s->metrics));

		if (!n)
			goto oom;
		s->metrics = n;
		s->capmetrics = cap;
	}
	s->metrics[s->nmetrics++] = m;
	return m;
oom:
	s->err = -ENOMEM;
	return NULL;
}

static void pb_sample(struct writer *s, const struct label *l, int nl, double v, double created)
{
	Io__Prometheus__Client__Metric *m = pb_metric(s, l, nl);

	(void)created;
	if (!m)
		return;
	if (s->fam->type == F_COUNTER) {
		m->counter = lp_wr_alloc(s, sizeof(*m->counter));
		if (!m->counter)
			return;
		io__prometheus__client__counter__init(m->counter);
		m->counter->has_value = 1;
		m->counter->value = v;
	} else {
		m->gauge = lp_wr_alloc(s, sizeof(*m->gauge));
		if (!m->gauge)
			return;
		io__prometheus__client__gauge__init(m->gauge);
		m->gauge->has_value = 1;
		m->gauge->value = v;
	}
}

/* the fine buckets as native-histogram spans and deltas (native.c) */
static int pb_native(struct writer *s, Io__Prometheus__Client__Histogram *ph, const struct hist *h,
		     __u64 *total)
{
	size_t cap = lp_native_cap(h->snap), i;
	struct lp_native nh = {
		.span_offset = lp_wr_alloc(s, cap * sizeof(*nh.span_offset)),
		.span_length = lp_wr_alloc(s, cap * sizeof(*nh.span_length)),
		.delta = lp_wr_alloc(s, cap * sizeof(*nh.delta)),
	};

	ph->positive_delta = lp_wr_alloc(s, cap * sizeof(*ph->positive_delta));
	ph->positive_span = lp_wr_alloc(s, cap * sizeof(*ph->positive_span));
	if (!nh.span_offset || !nh.span_length || !nh.delta || !ph->positive_delta ||
	    !ph->positive_span)
		return -ENOMEM;
	lp_native_of(h->snap, h->ft, &nh);
	ph->has_schema = 1;
	ph->schema = (int32_t)h->ft->schema;
	ph->has_zero_threshold = 1;
	ph->zero_threshold = exp2(LP_FINE_LOW_EXP);
	ph->has_zero_count = 1;
	ph->zero_count = nh.zero;
	*total = nh.total;
	for (i = 0; i < nh.nspans; i++) {
		Io__Prometheus__Client__BucketSpan *sp = lp_wr_alloc(s, sizeof(*sp));

		if (!sp)
			return -ENOMEM;
		io__prometheus__client__bucket_span__init(sp);
		sp->has_offset = sp->has_length = 1;
		sp->offset = nh.span_offset[i];
		sp->length = nh.span_length[i];
		ph->positive_span[ph->n_positive_span++] = sp;
	}
	for (i = 0; i < nh.ndeltas; i++)
		ph->positive_delta[ph->n_positive_delta++] = nh.delta[i];
	return 0;
}

static void pb_histogram(struct writer *s, const struct label *l, int nl, const struct hist *h)
{
	Io__Prometheus__Client__Metric *m = pb_metric(s, l, nl);
	Io__Prometheus__Client__Histogram *ph;
	const struct lp_config *cfg = h->cfg;
	__u64 cum = 0, native_total = 0;
	unsigned i;

	if (!m)
		return;
	ph = m->histogram = lp_wr_alloc(s, sizeof(*ph));
	if (!ph)
		goto oom;
	io__prometheus__client__histogram__init(ph);
	ph->bucket = lp_wr_alloc(s, (cfg->nclassic ? cfg->nclassic : 1) * sizeof(*ph->bucket));
	if (!ph->bucket)
		goto oom;
	for (i = 0; i < cfg->nclassic; i++) {
		Io__Prometheus__Client__Bucket *bk = lp_wr_alloc(s, sizeof(*bk));

		if (!bk)
			goto oom;
		io__prometheus__client__bucket__init(bk);
		cum += h->snap->classic[i];
		bk->has_cumulative_count = bk->has_upper_bound = 1;
		bk->cumulative_count = cum;
		bk->upper_bound = (double)cfg->classic_ns[i] / 1e9;
		ph->bucket[ph->n_bucket++] = bk;
	}
	if (s->native && pb_native(s, ph, h, &native_total))
		goto oom;
	ph->has_sample_count = ph->has_sample_sum = 1;
	/*
	 * A map read races with updates on other CPUs, so the classic and fine
	 * totals may differ by a sample in flight; the count must cover both.
	 */
	ph->sample_count = h->snap->count > native_total ? h->snap->count : native_total;
	ph->sample_sum = (double)h->snap->sum_ns / 1e9;
	return;
oom:
	s->err = -ENOMEM;
}

static void pb_summary(struct writer *s, const struct label *l, int nl, const struct summ *sm)
{
	Io__Prometheus__Client__Metric *m = pb_metric(s, l, nl);
	Io__Prometheus__Client__Summary *ps;
	unsigned i;

	if (!m)
		return;
	ps = m->summary = lp_wr_alloc(s, sizeof(*ps));
	if (!ps)
		goto oom;
	io__prometheus__client__summary__init(ps);
	ps->quantile = lp_wr_alloc(s, (sm->n ? sm->n : 1) * sizeof(*ps->quantile));
	if (!ps->quantile)
		goto oom;
	ps->has_sample_count = ps->has_sample_sum = 1;
	ps->sample_count = sm->count;
	ps->sample_sum = sm->sum;
	for (i = 0; i < sm->n; i++) {
		Io__Prometheus__Client__Quantile *q;

		if (isnan(sm->values[i]))
			continue;
		q = lp_wr_alloc(s, sizeof(*q));
		if (!q)
			goto oom;
		io__prometheus__client__quantile__init(q);
		q->has_quantile = q->has_value = 1;
		q->quantile = sm->q[i].q;
		q->value = sm->values[i];
		ps->quantile[ps->n_quantile++] = q;
	}
	return;
oom:
	s->err = -ENOMEM;
}

static void pb_end_family(struct writer *s)
{
	Io__Prometheus__Client__MetricFamily mf = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
	char name[128];
	size_t n, i;
	uint8_t hdr[10];
	size_t hl = 0;

	if (s->nmetrics && !s->err) {
		snprintf(name, sizeof(name), "%s%s", s->fam->name,
			 s->fam->type == F_COUNTER ? "_total" : "");
		mf.name = name;
		mf.help = (char *)s->fam->help;
		mf.has_type = 1;
		mf.type = s->fam->type == F_COUNTER ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER
			  : s->fam->type == F_HISTOGRAM
				  ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM
			  : s->fam->type == F_SUMMARY ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY
						      : IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
		mf.n_metric = s->nmetrics;
		mf.metric = s->metrics;
		n = io__prometheus__client__metric_family__get_packed_size(&mf);
		/* the length prefix: a varint */
		for (i = n; i >= 0x80; i >>= 7)
			hdr[hl++] = (uint8_t)(i | 0x80);
		hdr[hl++] = (uint8_t)i;
		lp_buf_add(s->b, hdr, hl);
		lp_buf_reserve(s->b, n);
		if (!s->b->oom) {
			io__prometheus__client__metric_family__pack(&mf, (uint8_t *)s->b->data +
										 s->b->len);
			s->b->len += n;
		}
	}
	s->nmetrics = 0;
	lp_wr_release(s);
}

static void pb_end(struct writer *s)
{
	free(s->metrics);
	s->metrics = NULL;
	lp_wr_release(s);
}

const struct writer_ops lp_pb_ops = {pb_sample, pb_histogram, pb_summary, pb_end_family, pb_end};
