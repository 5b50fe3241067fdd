// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The text writers: Prometheus text 0.0.4 and OpenMetrics 1.0 (writer.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export/writer.h"

static bool is_om(const struct writer *s);

static void text_escaped(struct lp_buf *b, const char *v, bool quote)
{
	const char *p = v, *run = v;

	/* copy runs of ordinary bytes at once; escape the rest */
	for (; *p; p++) {
		const char *esc = *p == '\\'		 ? "\\\\"
				  : *p == '\n'		 ? "\\n"
				  : (quote && *p == '"') ? "\\\""
							 : NULL;

		if (!esc)
			continue;
		lp_buf_add(b, run, (size_t)(p - run));
		lp_buf_add(b, esc, 2);
		run = p + 1;
	}
	lp_buf_add(b, run, (size_t)(p - run));
}

static void text_header(struct writer *s)
{
	const struct family *f = s->fam;
	bool om = is_om(s);
	const char *sfx = (!om && f->type == F_COUNTER) ? "_total" : "";
	static const char *const tn[] = {"counter", "gauge", "histogram", "gauge", "summary"};
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
static void text_line(struct writer *s, const char *suffix, const struct lp_buf *labels,
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
static const struct lp_buf *labels_of(struct writer *s, const struct label *l, int nl)
{
	s->scratch.len = 0;
	if (s->scratch.data)
		s->scratch.data[0] = '\0';
	text_label_set(&s->scratch, l, nl);
	return &s->scratch;
}

static void text_sample(struct writer *s, const struct label *l, int nl, double v, double created)
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

static void text_histogram(struct writer *s, const struct label *l, int nl, const struct hist *h)
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

static void text_summary(struct writer *s, const struct label *l, int nl, const struct summ *sm)
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

static void text_end_family(struct writer *s)
{
	(void)s;
}

static void om_end(struct writer *s)
{
	lp_buf_str(s->b, "# EOF\n");
}

static void text_end(struct writer *s)
{
	(void)s;
}

const struct writer_ops lp_text_ops = {text_sample, text_histogram, text_summary, text_end_family,
				       text_end};
const struct writer_ops lp_om_ops = {text_sample, text_histogram, text_summary, text_end_family,
				     om_end};

static bool is_om(const struct writer *s)
{
	return s->ops == &lp_om_ops;
}
