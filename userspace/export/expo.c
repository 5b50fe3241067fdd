// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One walker (emit_model) describes every metric family once; three sinks
 * write it: Prometheus text 0.0.4, OpenMetrics 1.0 and delimited protobuf.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "export/expo.h"
#include "sinks/push.h"
#include "base/config.h"
#include "base/names.h"
#include "export/report.h"
#include "version.h"
#include "prometheus.pb-c.h"

/* ---------------------------------------------------------------- negotiation */

/* next comma-separated element; trims spaces; returns false at the end */
static bool next_elem(const char **p, const char **start, size_t *len)
{
	const char *s = *p, *e;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (!*s)
		return false;
	e = s;
	while (*e && *e != ',')
		e++;
	*p = e;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*start = s;
	*len = (size_t)(e - s);
	return true;
}

/* value of parameter name in "type/sub; a=b; q=0.5" (len bytes), copied to out */
static bool media_param(const char *m, size_t len, const char *name, char *out, size_t outlen)
{
	const char *end = m + len, *p = memchr(m, ';', len);
	size_t nl = strlen(name);

	while (p && p < end) {
		const char *k = p + 1, *v, *ve;

		while (k < end && (*k == ' ' || *k == '\t'))
			k++;
		ve = memchr(k, ';', (size_t)(end - k));
		if (!ve)
			ve = end;
		v = memchr(k, '=', (size_t)(ve - k));
		if (v && (size_t)(v - k) == nl && !strncasecmp(k, name, nl)) {
			size_t vl;

			v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (v < ve && *v == '"' && ve[-1] == '"' && ve - v >= 2) {
				v++;
				ve--;
			}
			vl = (size_t)(ve - v);
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		p = ve < end ? ve : NULL;
	}
	return false;
}

static double media_q(const char *m, size_t len)
{
	char q[16];
	char *end;
	double v;

	if (!media_param(m, len, "q", q, sizeof(q)))
		return 1.0;
	v = strtod(q, &end);
	if (end == q || *end || !(v >= 0.0) || v > 1.0)
		return 0.0; /* malformed q: not acceptable */
	return v;
}

static bool media_is(const char *m, size_t len, const char *type)
{
	size_t tl = strlen(type);

	return len >= tl && !strncasecmp(m, type, tl) &&
	       (len == tl || m[tl] == ';' || m[tl] == ' ' || m[tl] == '\t');
}

enum lp_format lp_accept_format(const char *accept)
{
	enum lp_format best = LP_FMT_TEXT;
	double best_q = -1;
	const char *p = accept, *m;
	size_t len;

	if (!accept)
		return LP_FMT_TEXT;
	while (next_elem(&p, &m, &len)) {
		char v[64];
		double q = media_q(m, len);
		int f = -1;

		if (media_is(m, len, "application/vnd.google.protobuf")) {
			if (media_param(m, len, "proto", v, sizeof(v)) &&
			    !strcmp(v, "io.prometheus.client.MetricFamily") &&
			    media_param(m, len, "encoding", v, sizeof(v)) && !strcmp(v, "delimited"))
				f = LP_FMT_PROTOBUF;
		} else if (media_is(m, len, "application/openmetrics-text")) {
			if (!media_param(m, len, "version", v, sizeof(v)) || !strcmp(v, "1.0.0") ||
			    !strcmp(v, "0.0.1"))
				f = LP_FMT_OPENMETRICS;
		} else if (media_is(m, len, "text/plain")) {
			if (!media_param(m, len, "version", v, sizeof(v)) || !strcmp(v, "0.0.4"))
				f = LP_FMT_TEXT;
		} else if (media_is(m, len, "*/*") || media_is(m, len, "text/*")) {
			f = LP_FMT_TEXT;
		}
		if (f >= 0 && q > 0 && q > best_q) {
			best = (enum lp_format)f;
			best_q = q;
		}
	}
	return best;
}

bool lp_accept_gzip(const char *ae)
{
	const char *p = ae, *m;
	size_t len;

	if (!ae)
		return false;
	while (next_elem(&p, &m, &len)) {
		if ((media_is(m, len, "gzip") || media_is(m, len, "*")) && media_q(m, len) > 0)
			return true;
	}
	return false;
}

const char *lp_format_content_type(enum lp_format f)
{
	switch (f) {
	case LP_FMT_OPENMETRICS:
		return "application/openmetrics-text; version=1.0.0; charset=utf-8";
	case LP_FMT_PROTOBUF:
		return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
		       "encoding=delimited";
	default:
		return "text/plain; version=0.0.4; charset=utf-8";
	}
}


/* ---------------------------------------------------------------- the sinks */

enum ftype { F_COUNTER, F_GAUGE, F_HISTOGRAM, F_INFO, F_SUMMARY };

struct family {
	const char *name; /* without _total for counters */
	const char *help;
	enum ftype type;
	const char *unit; /* OpenMetrics UNIT, or NULL */
};

struct label {
	const char *name;
	const char *value;
};

#define MAX_LABELS 12

struct hist {
	const struct lp_config *cfg;
	const struct lp_fine_table *ft;
	const struct lp_snap *snap;
	double created;
};

struct summ {
	const struct lp_quantile *q; /* what each value is the quantile of */
	const double *values; /* NaN: left out */
	unsigned n;
	unsigned long long count;
	double sum;
	double created;
};

struct sink {
	const struct sink_ops *ops;
	struct lp_buf *b;
	const struct family *fam;
	bool header_done;
	bool native;
	/* text: the label set being written, and the le values of the classic buckets */
	struct lp_buf scratch;
	char le[LP_CLASSIC_MAX][24];
	/* protobuf: one family's messages, from an arena freed whole at its end */
	Io__Prometheus__Client__Metric **metrics;
	size_t nmetrics, capmetrics;
	struct pb_block *blocks;
	int err;
};

/*
 * Bump allocation for the protobuf messages of a family: tens of thousands
 * of small structs per scrape that would otherwise be malloc'd and freed one
 * by one, leaving the heap fragmented (the agent kept ~10-20 MB after a
 * protobuf scrape of 10 000 series). Blocks of 4 MiB are mappings of their own
 * (above M_MMAP_THRESHOLD) and go back to the kernel when the family is done.
 */
struct pb_block {
	struct pb_block *next;
	size_t used, cap;
	char data[];
};

#define PB_BLOCK (4u << 20)

static void *pb_alloc(struct sink *s, size_t n)
{
	struct pb_block *b = s->blocks;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > PB_BLOCK ? n : PB_BLOCK;

		b = calloc(1, sizeof(*b) + cap); /* zeroed: calloc on a fresh mapping */
		if (!b) {
			s->err = -ENOMEM;
			return NULL;
		}
		b->cap = cap;
		b->next = s->blocks;
		s->blocks = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

static void pb_release(struct sink *s)
{
	while (s->blocks) {
		struct pb_block *n = s->blocks->next;

		free(s->blocks);
		s->blocks = n;
	}
}

struct sink_ops {
	void (*sample)(struct sink *s, const struct label *l, int nl, double v, double created);
	void (*histogram)(struct sink *s, const struct label *l, int nl, const struct hist *h);
	void (*summary)(struct sink *s, const struct label *l, int nl, const struct summ *sm);
	void (*end_family)(struct sink *s);
	void (*end)(struct sink *s);
};

/* --- text 0.0.4 and OpenMetrics 1.0 */

static bool is_om(const struct sink *s);

static void text_escaped(struct lp_buf *b, const char *v, bool quote)
{
	const char *p = v, *run = v;

	/* copy runs of ordinary bytes at once; escape the rest */
	for (; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" :
				  (quote && *p == '"') ? "\\\"" : NULL;

		if (!esc)
			continue;
		lp_buf_add(b, run, (size_t)(p - run));
		lp_buf_add(b, esc, 2);
		run = p + 1;
	}
	lp_buf_add(b, run, (size_t)(p - run));
}

static void text_header(struct sink *s)
{
	const struct family *f = s->fam;
	bool om = is_om(s);
	const char *sfx = (!om && f->type == F_COUNTER) ? "_total" : "";
	static const char *const tn[] = { "counter", "gauge", "histogram", "gauge", "summary" };
	const char *type = om && f->type == F_INFO ? "info" : tn[f->type];
	const char *name = f->name;
	char base[128];

	if (s->header_done)
		return;
	s->header_done = true;
	/* OpenMetrics names an info family without its _info suffix */
	if (om && f->type == F_INFO) {
		size_t n = strlen(name) - 5;

		snprintf(base, sizeof(base), "%.*s", (int)n, name);
		name = base;
	}
	lp_buf_printf(s->b, "# HELP %s%s ", name, sfx);
	text_escaped(s->b, f->help, om);
	lp_buf_printf(s->b, "\n# TYPE %s%s %s\n", name, sfx, type);
	if (om && f->unit)
		lp_buf_printf(s->b, "# UNIT %s %s\n", name, f->unit);
}

/* the label set without braces: a="x",b="y" */
static void text_label_set(struct lp_buf *b, const struct label *l, int nl)
{
	int i;

	for (i = 0; i < nl; i++) {
		if (i)
			lp_buf_add(b, ",", 1);
		lp_buf_str(b, l[i].name);
		lp_buf_add(b, "=\"", 2);
		text_escaped(b, l[i].value, true);
		lp_buf_add(b, "\"", 1);
	}
}

/*
 * name+suffix{labels[,le="le"]} value: labels is the label set rendered
 * once per series (the same for every bucket line of a histogram)
 */
static void text_line(struct sink *s, const char *suffix, const struct lp_buf *labels,
		      const char *le, double v, bool integer, unsigned long long iv)
{
	struct lp_buf *b = s->b;

	lp_buf_str(b, s->fam->name);
	lp_buf_str(b, suffix);
	if (labels->len || le) {
		lp_buf_add(b, "{", 1);
		lp_buf_add(b, labels->data, labels->len);
		if (le) {
			if (labels->len)
				lp_buf_add(b, ",", 1);
			lp_buf_add(b, "le=\"", 4);
			lp_buf_str(b, le);
			lp_buf_add(b, "\"", 1);
		}
		lp_buf_add(b, "}", 1);
	}
	lp_buf_add(b, " ", 1);
	if (integer)
		lp_buf_u64(b, iv);
	else
		lp_buf_double(b, v);
	lp_buf_add(b, "\n", 1);
}

/* render a label set into the sink's scratch buffer */
static const struct lp_buf *labels_of(struct sink *s, const struct label *l, int nl)
{
	s->scratch.len = 0;
	if (s->scratch.data)
		s->scratch.data[0] = '\0';
	text_label_set(&s->scratch, l, nl);
	return &s->scratch;
}

static void text_sample(struct sink *s, const struct label *l, int nl, double v, double created)
{
	const struct lp_buf *ls = labels_of(s, l, nl);

	text_header(s);
	if (s->fam->type == F_COUNTER) {
		text_line(s, "_total", ls, NULL, v, false, 0);
		if (is_om(s) && created > 0)
			text_line(s, "_created", ls, NULL, created, false, 0);
	} else {
		text_line(s, "", ls, NULL, v, false, 0);
	}
}

static void text_histogram(struct sink *s, const struct label *l, int nl, const struct hist *h)
{
	const struct lp_config *cfg = h->cfg;
	const struct lp_buf *ls = labels_of(s, l, nl);
	unsigned long long cum = 0;
	unsigned i;

	text_header(s);
	for (i = 0; i <= cfg->nclassic; i++) {
		cum += h->snap->classic[i];
		text_line(s, "_bucket", ls, i < cfg->nclassic ? s->le[i] : "+Inf", 0, true, cum);
	}
	text_line(s, "_sum", ls, NULL, (double)h->snap->sum_ns / 1e9, false, 0);
	text_line(s, "_count", ls, NULL, 0, true, cum);
	if (is_om(s) && h->created > 0)
		text_line(s, "_created", ls, NULL, h->created, false, 0);
}

static void text_summary(struct sink *s, const struct label *l, int nl, const struct summ *sm)
{
	const struct lp_buf *ls;
	size_t base;
	unsigned i;

	text_header(s);
	ls = labels_of(s, l, nl);
	base = s->scratch.len;
	for (i = 0; i < sm->n; i++) {
		if (isnan(sm->values[i]))
			continue;
		/* the series' labels plus quantile="q" */
		s->scratch.len = base;
		lp_buf_printf(&s->scratch, "%squantile=\"%s\"", base ? "," : "", sm->q[i].label);
		text_line(s, "", ls, NULL, sm->values[i], false, 0);
	}
	s->scratch.len = base;
	text_line(s, "_sum", ls, NULL, sm->sum, false, 0);
	text_line(s, "_count", ls, NULL, 0, true, sm->count);
	if (is_om(s) && sm->created > 0)
		text_line(s, "_created", ls, NULL, sm->created, false, 0);
}

static void text_end_family(struct sink *s)
{
	(void)s;
}

static void om_end(struct sink *s)
{
	lp_buf_str(s->b, "# EOF\n");
}

static void text_end(struct sink *s)
{
	(void)s;
}

static const struct sink_ops text_ops = { text_sample, text_histogram, text_summary,
					  text_end_family, text_end };
static const struct sink_ops om_ops = { text_sample, text_histogram, text_summary, text_end_family,
					om_end };

static bool is_om(const struct sink *s)
{
	return s->ops == &om_ops;
}

/* --- delimited protobuf */

static Io__Prometheus__Client__Metric *pb_metric(struct sink *s, const struct label *l, int nl)
{
	Io__Prometheus__Client__Metric *m = pb_alloc(s, sizeof(*m));
	int i;

	if (!m)
		return NULL;
	io__prometheus__client__metric__init(m);
	m->label = pb_alloc(s, (size_t)(nl ? nl : 1) * sizeof(*m->label));
	if (!m->label)
		return NULL;
	for (i = 0; i < nl; i++) {
		Io__Prometheus__Client__LabelPair *p = pb_alloc(s, sizeof(*p));
		size_t len = strlen(l[i].value) + 1;

		if (!p)
			return NULL;
		io__prometheus__client__label_pair__init(p);
		m->label[m->n_label++] = p;
		p->name = (char *)l[i].name; /* static strings */
		p->value = pb_alloc(s, len);
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

static void pb_sample(struct sink *s, const struct label *l, int nl, double v, double created)
{
	Io__Prometheus__Client__Metric *m = pb_metric(s, l, nl);

	(void)created;
	if (!m)
		return;
	if (s->fam->type == F_COUNTER) {
		m->counter = pb_alloc(s, sizeof(*m->counter));
		if (!m->counter)
			return;
		io__prometheus__client__counter__init(m->counter);
		m->counter->has_value = 1;
		m->counter->value = v;
	} else {
		m->gauge = pb_alloc(s, sizeof(*m->gauge));
		if (!m->gauge)
			return;
		io__prometheus__client__gauge__init(m->gauge);
		m->gauge->has_value = 1;
		m->gauge->value = v;
	}
}

/* the fine buckets as native-histogram spans and deltas */
static int pb_native(struct sink *s, Io__Prometheus__Client__Histogram *ph, const struct hist *h,
		     __u64 *total)
{
	const struct lp_snap *sn = h->snap;
	const struct lp_fine_table *ft = h->ft;
	__u32 i, first = sn->fine_lo, end = sn->fine_lo + sn->fine_n;
	__s64 prev = 0;
	int last_key = 0;
	bool open = false;

	ph->has_schema = 1;
	ph->schema = (int32_t)ft->schema;
	ph->has_zero_threshold = 1;
	ph->zero_threshold = exp2(LP_FINE_LOW_EXP);
	ph->has_zero_count = 1;
	ph->zero_count = 0;
	*total = 0;
	if (sn->fine_n && first == 0) {
		ph->zero_count = sn->fine[0];
		*total += sn->fine[0];
		first = 1;
	}
	ph->positive_delta = pb_alloc(s, (sn->fine_n ? sn->fine_n : 1) * sizeof(*ph->positive_delta));
	ph->positive_span = pb_alloc(s, (sn->fine_n ? sn->fine_n : 1) * sizeof(*ph->positive_span));
	if (!ph->positive_delta || !ph->positive_span)
		return -ENOMEM;
	for (i = first; i < end; i++) {
		__u64 c = sn->fine[i - sn->fine_lo];
		/* slot n + 1 (beyond 2^12 s) is exported as the bucket just above */
		int key = lp_fine_native_key(ft, i);
		Io__Prometheus__Client__BucketSpan *sp;

		if (!c)
			continue;
		*total += c;
		/* a new span unless this bucket directly follows the last one */
		if (!open || key != last_key + 1) {
			sp = pb_alloc(s, sizeof(*sp));
			if (!sp)
				return -ENOMEM;
			io__prometheus__client__bucket_span__init(sp);
			sp->has_offset = sp->has_length = 1;
			sp->offset = open ? key - last_key - 1 : key;
			ph->positive_span[ph->n_positive_span++] = sp;
			open = true;
		}
		ph->positive_span[ph->n_positive_span - 1]->length++;
		ph->positive_delta[ph->n_positive_delta++] = (__s64)c - prev;
		prev = (__s64)c;
		last_key = key;
	}
	if (!ph->n_positive_span) {
		/* a native histogram with no observations yet: a no-op span */
		Io__Prometheus__Client__BucketSpan *sp = pb_alloc(s, sizeof(*sp));

		if (!sp)
			return -ENOMEM;
		io__prometheus__client__bucket_span__init(sp);
		sp->has_offset = sp->has_length = 1;
		ph->positive_span[ph->n_positive_span++] = sp;
	}
	return 0;
}

static void pb_histogram(struct sink *s, const struct label *l, int nl, const struct hist *h)
{
	Io__Prometheus__Client__Metric *m = pb_metric(s, l, nl);
	Io__Prometheus__Client__Histogram *ph;
	const struct lp_config *cfg = h->cfg;
	__u64 cum = 0, native_total = 0;
	unsigned i;

	if (!m)
		return;
	ph = m->histogram = pb_alloc(s, sizeof(*ph));
	if (!ph)
		goto oom;
	io__prometheus__client__histogram__init(ph);
	ph->bucket = pb_alloc(s, (cfg->nclassic ? cfg->nclassic : 1) * sizeof(*ph->bucket));
	if (!ph->bucket)
		goto oom;
	for (i = 0; i < cfg->nclassic; i++) {
		Io__Prometheus__Client__Bucket *bk = pb_alloc(s, sizeof(*bk));

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

static void pb_summary(struct sink *s, const struct label *l, int nl, const struct summ *sm)
{
	Io__Prometheus__Client__Metric *m = pb_metric(s, l, nl);
	Io__Prometheus__Client__Summary *ps;
	unsigned i;

	if (!m)
		return;
	ps = m->summary = pb_alloc(s, sizeof(*ps));
	if (!ps)
		goto oom;
	io__prometheus__client__summary__init(ps);
	ps->quantile = pb_alloc(s, (sm->n ? sm->n : 1) * sizeof(*ps->quantile));
	if (!ps->quantile)
		goto oom;
	ps->has_sample_count = ps->has_sample_sum = 1;
	ps->sample_count = sm->count;
	ps->sample_sum = sm->sum;
	for (i = 0; i < sm->n; i++) {
		Io__Prometheus__Client__Quantile *q;

		if (isnan(sm->values[i]))
			continue;
		q = pb_alloc(s, sizeof(*q));
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

static void pb_end_family(struct sink *s)
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
		mf.type = s->fam->type == F_COUNTER ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER :
			  s->fam->type == F_HISTOGRAM ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM :
			  s->fam->type == F_SUMMARY ? IO__PROMETHEUS__CLIENT__METRIC_TYPE__SUMMARY :
						      IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE;
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
			io__prometheus__client__metric_family__pack(&mf, (uint8_t *)s->b->data + s->b->len);
			s->b->len += n;
		}
	}
	s->nmetrics = 0;
	pb_release(s);
}

static void pb_end(struct sink *s)
{
	free(s->metrics);
	s->metrics = NULL;
	pb_release(s);
}

static const struct sink_ops pb_ops = { pb_sample, pb_histogram, pb_summary, pb_end_family,
					pb_end };

/* ---------------------------------------------------------------- the walker */

static void begin(struct sink *s, const struct family *f)
{
	s->fam = f;
	s->header_done = false;
}

static void end_family(struct sink *s)
{
	s->ops->end_family(s);
}

static void sample(struct sink *s, const struct label *l, int nl, double v)
{
	s->ops->sample(s, l, nl, v, 0);
}

/* the labels of a series; bufs holds the formatted numbers */
struct series_labels {
	struct label l[MAX_LABELS];
	int n;
	char port[8], status[8], cg[40];
};

static void series_labels(struct series_labels *sl, const struct lp_series_view *v, bool with_side)
{
	int n = 0;

	snprintf(sl->port, sizeof(sl->port), "%u", v->key.port);
	snprintf(sl->status, sizeof(sl->status), "%u", v->key.status);
	if (with_side)
		sl->l[n++] = (struct label){ "side", lp_side_name(v->key.side) };
	sl->l[n++] = (struct label){ "http_request_method", lp_method_name(v->key.method) };
	sl->l[n++] = (struct label){ "http_response_status_code", sl->status };
	sl->l[n++] = (struct label){ "server_port", sl->port };
	sl->l[n++] = (struct label){ "network_type", v->key.family == 6 ? "ipv6" : "ipv4" };
	sl->l[n++] = (struct label){ "service_name", v->service };
	/* an unresolvable (deleted) cgroup keeps its id, so series stay distinct */
	if (v->cgroup[0]) {
		sl->l[n++] = (struct label){ "cgroup", v->cgroup };
	} else {
		snprintf(sl->cg, sizeof(sl->cg), "id:%llu", (unsigned long long)v->key.cgroup_id);
		sl->l[n++] = (struct label){ "cgroup", sl->cg };
	}
	sl->n = n;
}

static const struct family f_server = {
	"http_server_request_duration_seconds",
	"Duration of HTTP server requests, measured by latprobe at the socket layer from the "
	"request's first byte in to the response's last byte out.",
	F_HISTOGRAM, "seconds"
};
static const struct family f_client = {
	"http_client_request_duration_seconds",
	"Duration of HTTP client requests made from this node, from the request's first byte "
	"out to the response's last byte in.",
	F_HISTOGRAM, "seconds"
};
static const struct family f_server_ttfb = {
	"http_server_time_to_first_byte_seconds",
	"Time from an HTTP server request's first byte in to its final response's first byte "
	"out (--ttfb).",
	F_HISTOGRAM, "seconds"
};
static const struct family f_client_ttfb = {
	"http_client_time_to_first_byte_seconds",
	"Time from an HTTP client request's first byte out to its final response's first byte "
	"in (--ttfb).",
	F_HISTOGRAM, "seconds"
};
static const struct family f_overflow = {
	"latprobe_overflow_request_duration_seconds",
	"Requests that did not fit the series map (--max-series), all series folded into one.",
	F_HISTOGRAM, "seconds"
};
static const struct family f_quantile = {
	"latprobe_http_request_duration_quantile_seconds",
	"Request duration quantiles over a sliding window (the window label), from latprobe's fine "
	"histogram; sum and count are cumulative. Quantiles do not aggregate across series: "
	"use the histograms for that.",
	F_SUMMARY, "seconds"
};
static const struct family f_slo_total = { "latprobe_slo_requests",
					   "Requests an SLO applies to, cumulative.", F_COUNTER,
					   NULL };
static const struct family f_slo_good = {
	"latprobe_slo_good_requests",
	"Requests an SLO applies to that finished within its threshold (exact), cumulative.",
	F_COUNTER, NULL
};
static const struct family f_slo_ratio = { "latprobe_slo_good_ratio",
					   "Good requests over all requests of an SLO in a window.",
					   F_GAUGE, "ratio" };
static const struct family f_slo_burn = {
	"latprobe_slo_error_budget_burn_rate",
	"Error-budget burn rate of an SLO in a window: bad ratio over the allowed bad ratio "
	"(1 = spending the budget exactly as fast as allowed).",
	F_GAUGE, NULL
};
static const struct family f_slo_objective = { "latprobe_slo_objective_ratio",
					       "Objective of an SLO: the good ratio to meet.",
					       F_GAUGE, "ratio" };
static const struct family f_slo_threshold = { "latprobe_slo_threshold_seconds",
					       "Latency threshold of an SLO.", F_GAUGE,
					       "seconds" };


static const struct family f_build = { "latprobe_build_info",
				       "latprobe's version and histogram layout.", F_INFO, NULL };

struct self_family {
	struct family f;
	double value;
};

/* the push sinks' own figures, a sample per sink */
static void emit_push(struct sink *s, const struct lp_self *self)
{
	static const struct family f_req = { "latprobe_push_requests",
					     "Pushes to each sink, by result.", F_COUNTER, NULL };
	static const struct family f_drop = { "latprobe_push_dropped",
					      "Snapshots dropped unsent: the sink's queue was full.",
					      F_COUNTER, NULL };
	static const struct family f_skip = {
		"latprobe_push_lines_skipped",
		"DogStatsD lines longer than the sink's max_size, left out of the push.", F_COUNTER,
		NULL
	};
	static const struct family f_last = { "latprobe_push_last_success_timestamp_seconds",
					      "When a push to the sink last succeeded, unix seconds.",
					      F_GAUGE, "seconds" };
	static const struct family f_dur = { "latprobe_push_duration_seconds",
					     "Time the last push to the sink took.", F_GAUGE,
					     "seconds" };
	unsigned i, r;

	if (!self->npush)
		return;
	begin(s, &f_req);
	for (i = 0; i < self->npush; i++)
		for (r = 0; r < 2; r++) {
			struct label l[2] = { { "sink", self->push[i].name },
					      { "result", r ? "failure" : "success" } };

			sample(s, l, 2, (double)(r ? self->push[i].failed : self->push[i].ok));
		}
	end_family(s);
	begin(s, &f_drop);
	for (i = 0; i < self->npush; i++) {
		struct label l = { "sink", self->push[i].name };

		sample(s, &l, 1, (double)self->push[i].dropped);
	}
	end_family(s);
	begin(s, &f_skip);
	for (i = 0; i < self->npush; i++) {
		struct label l = { "sink", self->push[i].name };

		sample(s, &l, 1, (double)self->push[i].skipped);
	}
	end_family(s);
	begin(s, &f_last);
	for (i = 0; i < self->npush; i++) {
		struct label l = { "sink", self->push[i].name };

		sample(s, &l, 1, self->push[i].last_success);
	}
	end_family(s);
	begin(s, &f_dur);
	for (i = 0; i < self->npush; i++) {
		struct label l = { "sink", self->push[i].name };

		sample(s, &l, 1, self->push[i].last_duration_s);
	}
	end_family(s);
}

/* side 0: the overflow series; ttfb: the time-to-first-byte family or the durations */
static void emit_histograms(struct sink *s, const struct lp_model *m, const struct family *f,
			    __u8 side, bool ttfb)
{
	size_t i;

	begin(s, f);
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = &m->series[i];
		struct series_labels sl;
		struct hist h = { m->cfg, m->ft, v->total, v->created };

		if (!(v->key.flags & LP_KEY_TTFB) != !ttfb)
			continue;
		if (v->key.flags & LP_KEY_OVERFLOW) {
			if (side)
				continue;
		} else if (v->key.side != side) {
			continue;
		}
		if (side)
			series_labels(&sl, v, false);
		else
			sl.n = 0;
		s->ops->histogram(s, sl.l, sl.n, &h);
	}
	end_family(s);
}

static void emit_model(struct sink *s, const struct lp_model *m, const struct lp_self *self)
{
	const struct lp_config *cfg = m ? m->cfg : NULL;
	char ver_schema[8], win[LP_MAX_WINDOWS][16];
	unsigned k, w, c;
	size_t i;

	if (m) {
		emit_histograms(s, m, &f_server, LP_SIDE_SERVER, false);
		emit_histograms(s, m, &f_client, LP_SIDE_CLIENT, false);
		emit_histograms(s, m, &f_overflow, 0, false);
		if (cfg->ttfb) {
			emit_histograms(s, m, &f_server_ttfb, LP_SIDE_SERVER, true);
			emit_histograms(s, m, &f_client_ttfb, LP_SIDE_CLIENT, true);
		}

		for (w = 0; w < cfg->nwindows; w++)
			lp_format_window(win[w], sizeof(win[w]), cfg->windows_ns[w]);

		begin(s, &f_quantile);
		for (i = 0; i < m->nseries; i++) {
			const struct lp_series_view *v = &m->series[i];
			struct series_labels sl;

			if (v->key.flags & (LP_KEY_OVERFLOW | LP_KEY_TTFB))
				continue;
			series_labels(&sl, v, true);
			for (w = 0; w < cfg->nwindows; w++) {
				struct summ sm = { lp_quantiles, v->win[w].q,
						   LP_NQUANTILES, v->total->count,
						   (double)v->total->sum_ns / 1e9, v->created };

				sl.l[sl.n] = (struct label){ "window", win[w] };
				s->ops->summary(s, sl.l, sl.n + 1, &sm);
			}
		}
		end_family(s);

		/* SLOs: per SLO, then per SLO and series */
		begin(s, &f_slo_objective);
		for (k = 0; k < cfg->nslos; k++) {
			struct label l = { "slo", cfg->slos[k].name };

			sample(s, &l, 1, cfg->slos[k].objective);
		}
		end_family(s);
		begin(s, &f_slo_threshold);
		for (k = 0; k < cfg->nslos; k++) {
			struct label l = { "slo", cfg->slos[k].name };

			sample(s, &l, 1, (double)cfg->slos[k].threshold_ns / 1e9);
		}
		end_family(s);
		for (c = 0; c < 4; c++) {
			static const struct family *const fams[4] = { &f_slo_total, &f_slo_good,
								      &f_slo_ratio, &f_slo_burn };

			begin(s, fams[c]);
			for (i = 0; i < m->nseries; i++) {
				const struct lp_series_view *v = &m->series[i];
				struct series_labels sl;

				if (v->key.flags & (LP_KEY_OVERFLOW | LP_KEY_TTFB))
					continue;
				series_labels(&sl, v, true);
				for (k = 0; k < cfg->nslos; k++) {
					const struct lp_slo *slo = &cfg->slos[k];

					if (!v->slo_applies[k])
						continue;
					sl.l[sl.n] = (struct label){ "slo", slo->name };
					if (c == 0) {
						s->ops->sample(s, sl.l, sl.n + 1,
							       (double)v->total->count, v->created);
						continue;
					}
					if (c == 1) {
						s->ops->sample(s, sl.l, sl.n + 1,
							       (double)v->slo_good[k], v->created);
						continue;
					}
					for (w = 0; w < cfg->nwindows; w++) {
						const struct lp_window_view *wv = &v->win[w];

						if (!wv->slo_total[k])
							continue;
						sl.l[sl.n + 1] = (struct label){ "window", win[w] };
						sample(s, sl.l, sl.n + 2,
						       c == 2 ? wv->slo_ratio[k] : wv->slo_burn[k]);
					}
				}
			}
			end_family(s);
		}

		for (c = 0; c < LP_CNT_MAX; c++) {
			const struct family f = { lp_counters[c].metric, lp_counters[c].help,
						  F_COUNTER, NULL };

			begin(s, &f);
			sample(s, NULL, 0, (double)m->counters[c]);
			end_family(s);
		}
	}

	/* self metrics */
	snprintf(ver_schema, sizeof(ver_schema), "%u", cfg ? cfg->schema : 0);
	{
		struct label l[2] = { { "version", LATPROBE_VERSION }, { "schema", ver_schema } };

		begin(s, &f_build);
		s->ops->sample(s, l, cfg ? 2 : 1, 1, 0);
		end_family(s);
	}
	if (self) {
		const struct self_family fams[] = {
			{ { "process_cpu_seconds", "Total user and system CPU time spent in seconds.",
			    F_COUNTER, NULL }, self->cpu_seconds },
			{ { "process_resident_memory_bytes", "Resident memory size in bytes.", F_GAUGE,
			    NULL }, self->resident_bytes },
			{ { "process_virtual_memory_bytes", "Virtual memory size in bytes.", F_GAUGE,
			    NULL }, self->virtual_bytes },
			{ { "process_open_fds", "Number of open file descriptors.", F_GAUGE, NULL },
			  self->open_fds },
			{ { "process_max_fds", "Maximum number of open file descriptors.", F_GAUGE,
			    NULL }, self->max_fds },
			{ { "process_start_time_seconds",
			    "Start time of the process since unix epoch in seconds.", F_GAUGE, NULL },
			  self->start_time },
			{ { "latprobe_series", "Series in the kernel map, the overflow series included.",
			    F_GAUGE, NULL }, m ? (double)m->nseries_all : 0 },
			{ { "latprobe_series_limit", "Series the kernel map holds (--max-series).",
			    F_GAUGE, NULL }, (double)self->max_series },
			{ { "latprobe_map_read_errors", "Failed reads of the kernel maps.", F_COUNTER,
			    NULL }, m ? (double)m->read_errors : 0 },
			{ { "latprobe_collections", "Collections of the kernel maps so far.",
			    F_COUNTER, NULL }, m ? (double)m->seq : 0 },
			{ { "latprobe_collection_duration_seconds",
			    "Time the last collection of the kernel maps took.", F_GAUGE, "seconds" },
			  m ? m->collect_s : 0 },
			{ { "latprobe_last_collection_timestamp_seconds",
			    "When the last collection ran, unix seconds.", F_GAUGE, "seconds" },
			  m ? m->wall : 0 },
			{ { "latprobe_scrapes", "Scrapes of /metrics served.", F_COUNTER, NULL },
			  (double)self->scrapes },
			{ { "latprobe_scrape_failures",
			    "Scrapes of /metrics or /api/v1/series answered 500 because the body "
			    "could not be built (out of memory).",
			    F_COUNTER, NULL }, (double)self->scrape_failures },
			{ { "latprobe_scrape_duration_seconds",
			    "Time the previous scrape of /metrics took to build its body.", F_GAUGE,
			    "seconds" }, self->last_scrape_s },
			{ { "latprobe_http_errors", "HTTP requests to the agent answered with an error.",
			    F_COUNTER, NULL }, (double)self->http_errors },
			{ { "latprobe_http_slow_connections_closed",
			    "Connections to the agent closed because a request head did not arrive "
			    "whole within 10 s, or to make room while connections ran short.",
			    F_COUNTER, NULL }, (double)self->slow_closed },
			{ { "latprobe_http_logins_limited",
			    "Basic-auth requests refused unchecked (429): their address failed too "
			    "often.", F_COUNTER, NULL }, (double)self->auth_limited },
			{ { "latprobe_http_logins_busy",
			    "Basic-auth requests refused unchecked (503): too many checks waiting.",
			    F_COUNTER, NULL }, (double)self->auth_busy },
		};

		for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
			begin(s, &fams[i].f);
			sample(s, NULL, 0, fams[i].value);
			end_family(s);
		}
		emit_push(s, self);
	}
	s->ops->end(s);
}

int lp_expo_write(struct lp_buf *b, enum lp_format f, const struct lp_model *m,
		  const struct lp_self *self, bool native)
{
	struct sink s = { 0 };

	s.ops = f == LP_FMT_PROTOBUF ? &pb_ops : f == LP_FMT_OPENMETRICS ? &om_ops : &text_ops;
	s.b = b;
	s.native = native;
	if (m) {
		unsigned i;

		for (i = 0; i < m->cfg->nclassic; i++)
			lp_format_seconds(s.le[i], sizeof(s.le[i]), m->cfg->classic_ns[i]);
	}
	emit_model(&s, m, self);
	/* a label set that could not be rendered leaves holes in the body */
	if (!s.err && !lp_buf_ok(&s.scratch))
		s.err = -ENOMEM;
	lp_buf_free(&s.scratch);
	if (s.err)
		return s.err;
	return lp_buf_ok(b) ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------- self */

void lp_self_read(struct lp_self *s)
{
	static double boot_time;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char buf[1024], *p;
	unsigned long utime, stime, vsize;
	unsigned long long start;
	long rss;
	struct rlimit rl;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int n = 0;

	if (!boot_time) {
		f = fopen("/proc/stat", "re");
		if (f) {
			while (fgets(buf, sizeof(buf), f))
				if (sscanf(buf, "btime %lf", &boot_time) == 1)
					break;
			fclose(f);
		}
	}
	f = fopen("/proc/self/stat", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2,
			   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
			   "%*d %llu %lu %ld",
			   &utime, &stime, &start, &vsize, &rss) == 5) {
			s->cpu_seconds = (double)(utime + stime) / (double)tck;
			s->start_time = boot_time + (double)start / (double)tck;
			s->virtual_bytes = (double)vsize;
			s->resident_bytes = (double)rss * (double)page;
		}
		fclose(f);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
		s->open_fds = n - 1; /* not counting the directory being read */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		s->max_fds = (double)rl.rlim_cur;
}
