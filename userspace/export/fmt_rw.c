// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The remote-write writer (writer.h): every sample the text exposition would
 * carry, as a prometheus.WriteRequest of float samples (remote write 1.0),
 * snappy-compressed. One TimeSeries per exposition line: a histogram is its
 * _bucket{le}, _sum and _count series, a counter its _total, as a scrape of
 * the same model gives Prometheus; so a query answers the same whether the
 * data came by scrape or by remote write. Labels are sorted by name
 * (__name__ first), as the specification requires, with the sink's external
 * labels (job, instance) added. The messages come from the writers' arena
 * (arena.c), released whole at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>

#include <math.h>

#include "export/native.h"
#include "export/writer.h"
#include "export/expo.h"
#include "remote.pb-c.h"

struct rw_state {
	const struct lp_expo_label *ext; /* external labels */
	int next;
	int64_t ts_ms;
	Prometheus__TimeSeries **ts;
	size_t nts, cap;
};

static char *rw_name(struct writer *s, const char *suffix)
{
	size_t a = strlen(s->fam->name), b = strlen(suffix);
	char *p = lp_wr_alloc(s, a + b + 1);

	if (p) {
		memcpy(p, s->fam->name, a);
		memcpy(p + a, suffix, b + 1);
	}
	return p;
}

/*
 * One series: __name__ = family + suffix, the labels, an extra one (le,
 * quantile), one float sample v (or none with sample false, for a native
 * histogram the caller attaches). Returns it, or NULL (s->err set).
 */
static Prometheus__TimeSeries *rw_ts(struct writer *s, const char *suffix, const struct label *l,
				     int nl, const char *xname, const char *xvalue, double v,
				     bool sample)
{
	struct rw_state *st = s->rw;
	int n = 1 + nl + (xname ? 1 : 0) + st->next, i, j;
	Prometheus__TimeSeries *ts = lp_wr_alloc(s, sizeof(*ts));
	Prometheus__Label *lab = lp_wr_alloc(s, (size_t)n * sizeof(*lab));
	Prometheus__Label **lp = lp_wr_alloc(s, (size_t)n * sizeof(*lp));
	Prometheus__Sample *sm = lp_wr_alloc(s, sizeof(*sm));
	Prometheus__Sample **smp = lp_wr_alloc(s, sizeof(*smp));
	char *name = rw_name(s, suffix);

	if (!ts || !lab || !lp || !sm || !smp || !name)
		return NULL;
	if (st->nts == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 1024;
		Prometheus__TimeSeries **t = realloc(st->ts, cap * sizeof(*t));

		if (!t) {
			s->err = -ENOMEM;
			return NULL;
		}
		st->ts = t;
		st->cap = cap;
	}
	for (i = 0; i < n; i++) {
		prometheus__label__init(&lab[i]);
		lp[i] = &lab[i];
	}
	i = 0;
	lab[i].name = (char *)"__name__";
	lab[i++].value = name;
	for (j = 0; j < nl; j++, i++) {
		lab[i].name = (char *)l[j].name; /* the walker's names are literals */
		lab[i].value = lp_wr_strdup(s, l[j].value);
		if (!lab[i].value)
			return NULL;
	}
	if (xname) {
		lab[i].name = (char *)xname;
		lab[i++].value = lp_wr_strdup(s, xvalue);
		if (!lab[i - 1].value)
			return NULL;
	}
	for (j = 0; j < st->next; j++, i++) {
		lab[i].name = (char *)st->ext[j].name;
		lab[i].value = (char *)st->ext[j].value;
	}
	/* sorted by name (a handful: insertion sort); "__name__" sorts first */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(lp[j - 1]->name, lp[j]->name) > 0; j--) {
			Prometheus__Label *t = lp[j];

			lp[j] = lp[j - 1];
			lp[j - 1] = t;
		}
	prometheus__sample__init(sm);
	sm->value = v;
	sm->timestamp = st->ts_ms;
	smp[0] = sm;
	prometheus__time_series__init(ts);
	ts->n_labels = (size_t)n;
	ts->labels = lp;
	ts->n_samples = sample ? 1 : 0;
	ts->samples = smp;
	st->ts[st->nts++] = ts;
	return ts;
}

static void rw_series(struct writer *s, const char *suffix, const struct label *l, int nl,
		      const char *xname, const char *xvalue, double v)
{
	rw_ts(s, suffix, l, nl, xname, xvalue, v, true);
}

/* the native histogram of the fine buckets, as a series of its own (the family's name) */
static void rw_native(struct writer *s, const struct label *l, int nl, const struct hist *h)
{
	size_t cap = lp_native_cap(h->snap), i;
	struct lp_native nh = {
		.span_offset = lp_wr_alloc(s, cap * sizeof(*nh.span_offset)),
		.span_length = lp_wr_alloc(s, cap * sizeof(*nh.span_length)),
		.delta = lp_wr_alloc(s, cap * sizeof(*nh.delta)),
	};
	Prometheus__Histogram *ph = lp_wr_alloc(s, sizeof(*ph)),
			      **php = lp_wr_alloc(s, sizeof(*php));
	Prometheus__BucketSpan *sp = lp_wr_alloc(s, cap * sizeof(*sp));
	Prometheus__BucketSpan **spp = lp_wr_alloc(s, cap * sizeof(*spp));
	Prometheus__TimeSeries *ts;

	if (!nh.span_offset || !nh.span_length || !nh.delta || !ph || !php || !sp || !spp)
		return;
	ts = rw_ts(s, "", l, nl, NULL, NULL, 0, false);
	if (!ts)
		return;
	lp_native_of(h->snap, h->ft, &nh);
	prometheus__histogram__init(ph);
	/* a read races with updates on other CPUs: the count covers both totals */
	ph->count_int = h->snap->count > nh.total ? h->snap->count : nh.total;
	ph->sum = (double)h->snap->sum_ns / 1e9;
	ph->schema = (int32_t)h->ft->schema;
	ph->zero_threshold = exp2(LP_FINE_LOW_EXP);
	ph->zero_count_int = nh.zero;
	for (i = 0; i < nh.nspans; i++) {
		prometheus__bucket_span__init(&sp[i]);
		sp[i].offset = nh.span_offset[i];
		sp[i].length = nh.span_length[i];
		spp[i] = &sp[i];
	}
	ph->n_positive_spans = nh.nspans;
	ph->positive_spans = spp;
	ph->n_positive_deltas = nh.ndeltas;
	ph->positive_deltas = nh.delta;
	ph->timestamp = s->rw->ts_ms;
	php[0] = ph;
	ts->n_histograms = 1;
	ts->histograms = php;
}

static void rw_sample(struct writer *s, const struct label *l, int nl, double v, double created)
{
	(void)created;
	rw_series(s, s->fam->type == F_COUNTER ? "_total" : "", l, nl, NULL, NULL, v);
}

static void rw_histogram(struct writer *s, const struct label *l, int nl, const struct hist *h)
{
	unsigned long long cum = 0;
	unsigned i;

	for (i = 0; i <= h->cfg->nclassic; i++) {
		cum += h->snap->classic[i];
		rw_series(s, "_bucket", l, nl, "le", i < h->cfg->nclassic ? s->le[i] : "+Inf",
			  (double)cum);
	}
	rw_series(s, "_sum", l, nl, NULL, NULL, (double)h->snap->sum_ns / 1e9);
	rw_series(s, "_count", l, nl, NULL, NULL, (double)cum);
	if (s->native)
		rw_native(s, l, nl, h);
}

static void rw_summary(struct writer *s, const struct label *l, int nl, const struct summ *sm)
{
	unsigned i;

	for (i = 0; i < sm->n; i++)
		if (sm->values[i] == sm->values[i])
			rw_series(s, "", l, nl, "quantile", sm->q[i].label, sm->values[i]);
	rw_series(s, "_sum", l, nl, NULL, NULL, sm->sum);
	rw_series(s, "_count", l, nl, NULL, NULL, (double)sm->count);
}

static void rw_end_family(struct writer *s)
{
	(void)s;
}

/* the request, packed and compressed into the body */
static void rw_end(struct writer *s)
{
	struct rw_state *st = s->rw;
	Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
	size_t n, max, out;
	uint8_t *raw;

	if (s->err)
		return;
	wr.n_timeseries = st->nts;
	wr.timeseries = st->ts;
	n = prometheus__write_request__get_packed_size(&wr);
	raw = malloc(n ? n : 1);
	if (!raw) {
		s->err = -ENOMEM;
		return;
	}
	prometheus__write_request__pack(&wr, raw);
	max = snappy_max_compressed_length(n);
	lp_buf_reserve(s->b, max);
	if (!lp_buf_ok(s->b)) {
		free(raw);
		s->err = -ENOMEM;
		return;
	}
	out = max;
	if (snappy_compress((const char *)raw, n, s->b->data + s->b->len, &out) != SNAPPY_OK)
		s->err = -EIO;
	else
		s->b->len += out;
	free(raw);
}

const struct writer_ops lp_rw_ops = {rw_sample, rw_histogram, rw_summary, rw_end_family, rw_end};

int lp_rw_begin(struct writer *s, const struct lp_expo_label *ext, int next, double wall)
{
	struct rw_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->ext = ext;
	st->next = next;
	st->ts_ms = (int64_t)(wall * 1000.0);
	s->rw = st;
	return 0;
}

void lp_rw_finish(struct writer *s)
{
	struct rw_state *st = s->rw;

	if (!st)
		return;
	lp_wr_release(s);
	free(st->ts);
	free(st);
	s->rw = NULL;
}
