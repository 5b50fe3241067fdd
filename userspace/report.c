// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "report.h"
#include "version.h"

const char *const lp_counter_names[LP_CNT_MAX] = {
	[LP_CNT_REQUESTS] = "requests",
	[LP_CNT_UNTIMED] = "untimed",
	[LP_CNT_ORPHAN_RESPONSES] = "orphan_responses",
	[LP_CNT_UNANSWERED] = "unanswered",
	[LP_CNT_INTERIM] = "interim_responses",
	[LP_CNT_UPGRADED] = "upgraded",
	[LP_CNT_RETRANSMITS] = "retransmits_ignored",
	[LP_CNT_OVERFLOW] = "overflow_samples",
	[LP_CNT_LOST] = "lost_samples",
	[LP_CNT_STORAGE_FAILED] = "storage_failures",
	[LP_CNT_SERIES_ALLOC] = "series_alloc_failures",
	[LP_CNT_UNFRAMED] = "unframed_responses",
	[LP_CNT_DISCARDED] = "discarded_samples",
	[LP_CNT_BUSY] = "busy_skipped",
};

void lp_fmt_latency(char *buf, size_t len, double s)
{
	if (isnan(s))
		snprintf(buf, len, "-");
	else if (s < 1e-3)
		snprintf(buf, len, "%.1fus", s * 1e6);
	else if (s < 1.0)
		snprintf(buf, len, "%.2fms", s * 1e3);
	else
		snprintf(buf, len, "%.3fs", s);
}

static void fmt_family(char *buf, size_t len, const struct lp_key *k)
{
	snprintf(buf, len, "%u", k->port);
	if (k->family == 6)
		strncat(buf, "/6", len - strlen(buf) - 1);
}

static void print_hist(FILE *f, const struct lp_model *m, const struct lp_series_view *v)
{
	const struct lp_fine_table *ft = m->ft;
	const struct lp_snap *s = v->total;
	__u32 per = 1u << ft->schema, octaves = LP_FINE_OCTAVES + 2, o, i, first = 0, last = 0;
	__u64 rows[LP_FINE_OCTAVES + 2] = { 0 }, max = 0;
	bool any = false;

	/* rows: the zero bucket, one per power of two of seconds, the overflow (exact) */
	for (i = 0; i < s->fine_n; i++) {
		__u32 slot = s->fine_lo + i;

		o = slot == 0 ? 0 : slot > ft->n ? octaves - 1 : 1 + (slot - 1) / per;
		rows[o] += s->fine[i];
	}
	for (o = 0; o < octaves; o++) {
		if (!rows[o])
			continue;
		if (!any)
			first = o;
		last = o;
		any = true;
		if (rows[o] > max)
			max = rows[o];
	}
	if (!any)
		return;
	fprintf(f, "  %21s : %-10s distribution (cumulative since start)\n", "latency", "count");
	for (o = first; o <= last; o++) {
		char lo[24], hi[24], range[56];
		int stars = (int)(max ? rows[o] * 40 / max : 0);

		if (o == 0) {
			snprintf(lo, sizeof(lo), "0");
		} else {
			lp_fmt_latency(lo, sizeof(lo), exp2(LP_FINE_LOW_EXP + (int)o - 1));
		}
		if (o == octaves - 1)
			snprintf(hi, sizeof(hi), "inf");
		else
			lp_fmt_latency(hi, sizeof(hi), exp2(LP_FINE_LOW_EXP + (int)o));
		snprintf(range, sizeof(range), "%s -> %s", lo, hi);
		fprintf(f, "  %21s : %-10llu |%-40.*s|\n", range, (unsigned long long)rows[o], stars,
			"****************************************");
	}
}

void lp_report_table(FILE *f, const struct lp_model *m, bool hist)
{
	const struct lp_config *cfg = m->cfg;
	char ts[32], wbuf[32];
	time_t t = (time_t)m->wall;
	struct tm tm;
	size_t i;
	unsigned k;

	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	lp_format_seconds(wbuf, sizeof(wbuf), cfg->windows_ns[0]);
	fprintf(f, "\n%s  series %zu  window %ss  requests %llu  untimed %llu  unanswered %llu  "
		   "orphan %llu  overflow %llu\n",
		ts, m->nseries, wbuf, (unsigned long long)m->counters[LP_CNT_REQUESTS],
		(unsigned long long)m->counters[LP_CNT_UNTIMED],
		(unsigned long long)m->counters[LP_CNT_UNANSWERED],
		(unsigned long long)m->counters[LP_CNT_ORPHAN_RESPONSES],
		(unsigned long long)m->counters[LP_CNT_OVERFLOW]);
	fprintf(f, "%-24s %-6s %-7s %-7s %6s %10s %9s %9s %9s", "SERVICE", "SIDE", "METHOD", "PORT",
		"STATUS", "COUNT", "RATE/s", "P50", "P99");
	for (k = 0; k < cfg->nslos; k++)
		fprintf(f, "  SLO %-14s", cfg->slos[k].name);
	fputc('\n', f);
	if (!m->nseries)
		fprintf(f, "(no HTTP requests seen yet)\n");
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = &m->series[i];
		const struct lp_window_view *w = &v->win[0];
		char p50[16], p99[16], port[16];

		lp_fmt_latency(p50, sizeof(p50), w->q[0]);
		lp_fmt_latency(p99, sizeof(p99), w->q[2]);
		fmt_family(port, sizeof(port), &v->key);
		if (v->key.flags & LP_KEY_TTFB)
			continue; /* the table shows durations; --ttfb is in /metrics and JSON */
		if (v->key.flags & LP_KEY_OVERFLOW)
			fprintf(f, "%-24s %-6s %-7s %-7s %6s", "(overflow: map full)", "-", "-", "-", "-");
		else
			fprintf(f, "%-24.24s %-6s %-7s %-7s %6u", v->service,
				lp_side_name(v->key.side), lp_method_name(v->key.method), port,
				v->key.status);
		fprintf(f, " %10llu %9.2f %9s %9s", (unsigned long long)v->total->count, v->rate, p50,
			p99);
		for (k = 0; k < cfg->nslos; k++) {
			char cell[32];

			if (!v->slo_applies[k] || !w->slo_total[k]) {
				snprintf(cell, sizeof(cell), "-");
			} else {
				double r = (double)w->slo_good[k] / (double)w->slo_total[k];

				snprintf(cell, sizeof(cell), "%s %.2f%%",
					 r >= cfg->slos[k].objective ? "met" : "MISSED", r * 100);
			}
			fprintf(f, "  %-18s", cell);
		}
		fputc('\n', f);
		if (hist)
			print_hist(f, m, v);
	}
	fflush(f);
}

static struct json_object *jdouble(double v)
{
	return isnan(v) || isinf(v) ? NULL : json_object_new_double(v);
}

static struct json_object *jquantiles(const double *q)
{
	struct json_object *o = json_object_new_object();
	unsigned i;

	for (i = 0; i < LP_NQUANTILES; i++)
		json_object_object_add(o, lp_quantile_names[i], jdouble(q[i]));
	return o;
}

static struct json_object *jslo(const struct lp_slo *slo, __u64 good, __u64 total)
{
	struct json_object *o = json_object_new_object();
	double r = total ? (double)good / (double)total : NAN;

	json_object_object_add(o, "name", json_object_new_string(slo->name));
	json_object_object_add(o, "good", json_object_new_uint64(good));
	json_object_object_add(o, "total", json_object_new_uint64(total));
	json_object_object_add(o, "ratio", jdouble(r));
	json_object_object_add(o, "met", total ? json_object_new_boolean(r >= slo->objective) : NULL);
	return o;
}

/* An SLO over each window, summed over the series it applies to: what
 * `latprobe check` and the Zabbix items read. */
static struct json_object *jslo_windows(const struct lp_model *m, unsigned k)
{
	const struct lp_config *cfg = m->cfg;
	const struct lp_slo *slo = &cfg->slos[k];
	struct json_object *a = json_object_new_array();
	unsigned w;

	for (w = 0; w < cfg->nwindows; w++) {
		const struct lp_slo_window *sw = &m->slo_win[k][w];
		struct json_object *e = json_object_new_object();
		double r = sw->total ? (double)sw->good / (double)sw->total : NAN;
		double burn = slo->objective < 1 ? (1 - r) / (1 - slo->objective) : NAN;

		json_object_object_add(e, "window_seconds", jdouble((double)cfg->windows_ns[w] / 1e9));
		json_object_object_add(e, "good", json_object_new_uint64(sw->good));
		json_object_object_add(e, "total", json_object_new_uint64(sw->total));
		json_object_object_add(e, "ratio", jdouble(r));
		json_object_object_add(e, "burn_rate", jdouble(burn));
		json_object_object_add(e, "met", sw->total ? json_object_new_boolean(
								     r >= slo->objective) :
							     NULL);
		json_object_object_add(e, "sum_seconds", jdouble((double)sw->sum_ns / 1e9));
		json_object_object_add(e, "quantiles_seconds", jquantiles(sw->q));
		json_object_array_add(a, e);
	}
	return a;
}

static struct json_object *jseries(const struct lp_model *m, const struct lp_series_view *v)
{
	const struct lp_config *cfg = m->cfg;
	struct json_object *o = json_object_new_object(), *b, *ws, *sl;
	char le[32];
	__u64 cum = 0;
	unsigned i, k;

	json_object_object_add(o, "service", json_object_new_string(v->service));
	json_object_object_add(o, "cgroup", json_object_new_string(v->cgroup));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(v->key.cgroup_id));
	json_object_object_add(o, "overflow",
			       json_object_new_boolean(!!(v->key.flags & LP_KEY_OVERFLOW)));
	json_object_object_add(o, "metric", json_object_new_string(v->key.flags & LP_KEY_TTFB ?
									   "ttfb" : "duration"));
	json_object_object_add(o, "side", json_object_new_string(lp_side_name(v->key.side)));
	json_object_object_add(o, "method", json_object_new_string(lp_method_name(v->key.method)));
	json_object_object_add(o, "status", json_object_new_int(v->key.status));
	json_object_object_add(o, "port", json_object_new_int(v->key.port));
	json_object_object_add(o, "family", json_object_new_string(v->key.family == 6 ? "ipv6" :
									     "ipv4"));
	json_object_object_add(o, "count", json_object_new_uint64(v->total->count));
	json_object_object_add(o, "sum_seconds", jdouble((double)v->total->sum_ns / 1e9));
	json_object_object_add(o, "rate_per_second", jdouble(v->rate));
	json_object_object_add(o, "quantiles_seconds", jquantiles(v->total_q));

	b = json_object_new_array();
	for (i = 0; i <= cfg->nclassic; i++) {
		struct json_object *e = json_object_new_object();

		cum += v->total->classic[i];
		if (i < cfg->nclassic)
			lp_format_seconds(le, sizeof(le), cfg->classic_ns[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		json_object_object_add(e, "le", json_object_new_string(le));
		json_object_object_add(e, "count", json_object_new_uint64(cum));
		json_object_array_add(b, e);
	}
	json_object_object_add(o, "buckets", b);

	sl = json_object_new_array();
	for (k = 0; k < cfg->nslos; k++)
		if (v->slo_applies[k])
			json_object_array_add(sl, jslo(&cfg->slos[k], v->slo_good[k], v->total->count));
	json_object_object_add(o, "slo", sl);

	ws = json_object_new_array();
	for (i = 0; i < cfg->nwindows; i++) {
		const struct lp_window_view *w = &v->win[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "window_seconds", jdouble((double)w->window_ns / 1e9));
		json_object_object_add(e, "span_seconds", jdouble(w->span_s));
		json_object_object_add(e, "count", json_object_new_uint64(w->count));
		json_object_object_add(e, "sum_seconds", jdouble((double)w->sum_ns / 1e9));
		json_object_object_add(e, "quantiles_seconds", jquantiles(w->q));
		sl = json_object_new_array();
		for (k = 0; k < cfg->nslos; k++)
			if (v->slo_applies[k])
				json_object_array_add(sl, jslo(&cfg->slos[k], w->slo_good[k],
							       w->slo_total[k]));
		json_object_object_add(e, "slo", sl);
		json_object_array_add(ws, e);
	}
	json_object_object_add(o, "windows", ws);
	return o;
}

char *lp_report_json_string(const struct lp_model *m)
{
	const struct lp_config *cfg = m->cfg;
	struct json_object *root = json_object_new_object(), *c, *a;
	unsigned i;
	size_t s;
	char *out;

	if (!root)
		return NULL;
	json_object_object_add(root, "version", json_object_new_string(LATPROBE_VERSION));
	json_object_object_add(root, "time", jdouble(m->wall));
	json_object_object_add(root, "uptime_seconds", jdouble(m->uptime_s));
	json_object_object_add(root, "schema", json_object_new_int((int)cfg->schema));
	json_object_object_add(root, "interval_seconds", jdouble((double)cfg->interval_ns / 1e9));
	json_object_object_add(root, "collect_seconds", jdouble(m->collect_s));
	json_object_object_add(root, "read_errors", json_object_new_uint64(m->read_errors));
	json_object_object_add(root, "series_in_kernel", json_object_new_uint64(m->nseries_all));

	c = json_object_new_object();
	for (i = 0; i < LP_CNT_MAX; i++)
		json_object_object_add(c, lp_counter_names[i], json_object_new_uint64(m->counters[i]));
	json_object_object_add(root, "counters", c);

	a = json_object_new_array();
	for (i = 0; i < cfg->nslos; i++) {
		const struct lp_slo *slo = &cfg->slos[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(slo->name));
		json_object_object_add(o, "method", slo->method ? json_object_new_string(
								lp_method_name(slo->method)) :
							NULL);
		json_object_object_add(o, "side", slo->side ? json_object_new_string(
							      lp_side_name(slo->side)) :
						      NULL);
		json_object_object_add(o, "port", slo->port ? json_object_new_int(slo->port) : NULL);
		json_object_object_add(o, "threshold_seconds", jdouble((double)slo->threshold_ns / 1e9));
		json_object_object_add(o, "objective", jdouble(slo->objective));
		json_object_object_add(o, "windows", jslo_windows(m, i));
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "slos", a);

	a = json_object_new_array();
	for (s = 0; s < m->nseries; s++)
		json_object_array_add(a, jseries(m, &m->series[s]));
	json_object_object_add(root, "series", a);

	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

int lp_report_json(FILE *f, const struct lp_model *m)
{
	char *doc = lp_report_json_string(m);
	int e = 0;

	if (!doc)
		return -ENOMEM;
	if (fprintf(f, "%s\n", doc) < 0)
		e = -EIO;
	fflush(f);
	free(doc);
	return e;
}
