// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The table the agent prints each interval (lp_report_table): one answer
 * line per SLO, then a row per series, its names, count, rate, quantiles
 * and SLO cells, a NAMESPACE/POD column on Kubernetes; and the latency
 * format every output shares (lp_fmt_latency). The JSON documents are in
 * export/report.c.
 */
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "export/report.h"
#include "export/series_labels.h"
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
	if (k->flags & LP_KEY_H2)
		strncat(buf, "/h2", len - strlen(buf) - 1);
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

/* a duration as people write it: 10ms, 1.5s, 250us */
static void fmt_duration(char *buf, size_t len, __u64 ns)
{
	if (ns >= 1000000000ULL)
		snprintf(buf, len, "%gs", (double)ns / 1e9);
	else if (ns >= 1000000ULL)
		snprintf(buf, len, "%gms", (double)ns / 1e6);
	else if (ns >= 1000ULL)
		snprintf(buf, len, "%gus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

/* s padded to width columns; a longer one cut to width, its last column '~' */
static const char *cut(char *buf, size_t len, const char *s, int width)
{
	if (strlen(s) <= (size_t)width)
		snprintf(buf, len, "%-*s", width, s);
	else
		snprintf(buf, len, "%.*s~", width - 1, s);
	return buf;
}

/* an SLO's line: what it asks, and its answer over the first window, all series summed */
static void slo_line(FILE *f, const struct lp_model *m, unsigned k, const char *wbuf)
{
	const struct lp_slo *slo = &m->cfg->slos[k];
	const struct lp_slo_window *sw = &m->slo_win[k][0];
	char thr[16], p99[16], scope[128] = "", *p = scope;

	fmt_duration(thr, sizeof(thr), slo->threshold_ns);
	p += sprintf(p, "%s%s", slo->method ? lp_method_name(slo->method) : "all",
		     slo->rpc == LP_SLO_RPC_GRPC   ? " gRPC calls"
		     : slo->rpc == LP_SLO_RPC_HTTP ? " plain HTTP"
						   : "");
	p += sprintf(p, " %s", slo->side == LP_SIDE_SERVER   ? "served"
			       : slo->side == LP_SIDE_CLIENT ? "called"
							     : "served or called");
	if (slo->port)
		p += sprintf(p, " on port %u", slo->port);
	if (slo->route_label[0])
		snprintf(p, sizeof(scope) - (size_t)(p - scope), " on route %.64s",
			 slo->route_label);
	fprintf(f, "SLO %s: %s within %s for %g%%, last %ss: ", slo->name, scope, thr,
		slo->objective * 100, wbuf);
	if (!sw->total) {
		fprintf(f, "no requests\n");
		return;
	}
	lp_fmt_latency(p99, sizeof(p99), sw->q[2]);
	fprintf(f, "%s, %.2f%% of %llu requests (p99 %s)\n",
		sw->ratio >= slo->objective ? "met" : "MISSED", sw->ratio * 100,
		(unsigned long long)sw->total, p99);
}

/* on Kubernetes: some series is a pod's, and the table gains a NAMESPACE/POD column */
#define LP_POD_COL 32

static bool any_pod(const struct lp_model *m)
{
	size_t i;

	for (i = 0; i < m->nseries; i++)
		if (m->series[i]->k8s)
			return true;
	return false;
}

/* a ROUTE column: routes configured, or a series with a route (a gRPC method learned) */
static bool any_route(const struct lp_model *m)
{
	size_t i;

	if (m->cfg->routes.nroutes)
		return true;
	for (i = 0; i < m->nseries; i++)
		if (m->series[i]->route)
			return true;
	return false;
}

#define LP_SERVER_COL 24

/* a SERVER column: a client series named by the server it called (--client-address) */
static bool any_server(const struct lp_model *m)
{
	size_t i;

	for (i = 0; i < m->nseries; i++)
		if (m->series[i]->key.peer && m->series[i]->key.side == LP_SIDE_CLIENT)
			return true;
	return false;
}

/* the server_address label's value, "-" for a series without one (the server side) */
static const char *server_cell(const struct lp_series_view *v, char *out, size_t len)
{
	char b[LP_LABEL_BUF];
	const char *a = lp_series_labels[LP_L_SERVER_ADDRESS].get(v, b, sizeof(b));

	return cut(out, len, a ? a : "-", LP_SERVER_COL);
}

/* "namespace/pod" from the label table's rows, "-" for a series that is no pod's */
static const char *pod_cell(const struct lp_series_view *v, char *out, size_t len)
{
	char nb[LP_LABEL_BUF], pb[LP_LABEL_BUF], both[2 * LP_LABEL_BUF + 2];
	const char *ns = lp_series_labels[LP_L_K8S_NAMESPACE].get(v, nb, sizeof(nb));
	const char *pod = lp_series_labels[LP_L_K8S_POD].get(v, pb, sizeof(pb));

	if (!ns || !pod)
		return cut(out, len, "-", LP_POD_COL);
	snprintf(both, sizeof(both), "%s/%s", ns, pod);
	return cut(out, len, both, LP_POD_COL);
}

/* one series' row of the table: its names, count, rate, quantiles, SLO cells */
static void table_row(FILE *f, const struct lp_model *m, const struct lp_series_view *v,
		      bool routes, bool pods, bool servers)
{
	const struct lp_config *cfg = m->cfg;
	const struct lp_window_view *w = &v->win[0];
	char p50[16], p99[16], port[16], st[16], name[64];
	unsigned k;

	lp_fmt_latency(p50, sizeof(p50), w->q[0]);
	lp_fmt_latency(p99, sizeof(p99), w->q[2]);
	fmt_family(port, sizeof(port), &v->key);
	if (v->key.flags & LP_KEY_OVERFLOW)
		fprintf(f, "%-24s %-6s %-7s %-10s ", "(overflow: map full)", "-", "-", "-");
	else
		fprintf(f, "%s %-6s %-7s %-10s ", cut(name, sizeof(name), v->service, 24),
			lp_side_name(v->key.side), lp_method_name(v->key.method), port);
	if (pods)
		fprintf(f, "%s ", pod_cell(v, name, sizeof(name)));
	if (servers)
		fprintf(f, "%s ", server_cell(v, name, sizeof(name)));
	if (routes)
		fprintf(f, "%s ", cut(name, sizeof(name), v->route ? v->route : "-", 20));
	if (v->key.flags & LP_KEY_OVERFLOW)
		fprintf(f, "%6s", "-");
	else if (v->key.grpc) /* a gRPC call: its HTTP status, then its gRPC status */
		fprintf(f, "%3s/%-2u", lp_status_label(&v->key, st, sizeof(st)), v->key.grpc - 1u);
	else
		fprintf(f, "%6s", lp_status_label(&v->key, st, sizeof(st)));
	fprintf(f, " %10llu %9.2f %9s %9s", (unsigned long long)v->total->count, v->rate, p50, p99);
	for (k = 0; k < cfg->nslos; k++) {
		char cell[32];

		if (!v->slo_applies[k] || !w->slo_total[k]) {
			snprintf(cell, sizeof(cell), "-");
		} else {
			double r = w->slo_ratio[k];

			snprintf(cell, sizeof(cell), "%s %.2f%%",
				 r >= cfg->slos[k].objective ? "met" : "MISSED", r * 100);
		}
		fprintf(f, "  %-18s", cell);
	}
	fputc('\n', f);
}

void lp_report_table(FILE *f, const struct lp_model *m, bool hist)
{
	const struct lp_config *cfg = m->cfg;
	char ts[32], wbuf[32], ibuf[32];
	time_t t = (time_t)m->wall;
	struct tm tm;
	size_t i;
	unsigned k;
	bool routes = any_route(m), pods = any_pod(m), servers = any_server(m);

	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	lp_format_seconds(wbuf, sizeof(wbuf), cfg->windows_ns[0]);
	fprintf(f, "\n%s  series %zu  requests %llu  untimed %llu  unanswered %llu  "
		   "orphan %llu  overflow %llu\n",
		ts, m->nseries, (unsigned long long)m->counters[LP_CNT_REQUESTS],
		(unsigned long long)m->counters[LP_CNT_UNTIMED],
		(unsigned long long)m->counters[LP_CNT_UNANSWERED],
		(unsigned long long)m->counters[LP_CNT_ORPHAN_RESPONSES],
		(unsigned long long)m->counters[LP_CNT_OVERFLOW]);
	for (k = 0; k < cfg->nslos; k++)
		slo_line(f, m, k, wbuf);
	fmt_duration(ibuf, sizeof(ibuf), cfg->interval_ns);
	fprintf(f, "COUNT since start, RATE/s over the last %s, P50 P99 and SLO cells over the "
		   "last %ss (a name cut to fit ends in ~)\n",
		ibuf, wbuf);
	fprintf(f, "%-24s %-6s %-7s %-10s ", "SERVICE", "SIDE", "METHOD", "PORT");
	if (pods)
		fprintf(f, "%-*s ", LP_POD_COL, "NAMESPACE/POD");
	if (servers)
		fprintf(f, "%-*s ", LP_SERVER_COL, "SERVER");
	if (routes)
		fprintf(f, "%-20s ", "ROUTE");
	fprintf(f, "%6s %10s %9s %9s %9s", "STATUS", "COUNT", "RATE/s", "P50", "P99");
	for (k = 0; k < cfg->nslos; k++)
		fprintf(f, "  SLO %-14s", cfg->slos[k].name);
	fputc('\n', f);
	if (!m->nseries)
		fprintf(f, "(no HTTP requests seen yet)\n");
	for (i = 0; i < m->nseries; i++) {
		/* the table shows durations; --ttfb is in /metrics and JSON */
		if (m->series[i]->key.flags & LP_KEY_TTFB)
			continue;
		table_row(f, m, m->series[i], routes, pods, servers);
		if (hist)
			print_hist(f, m, m->series[i]);
	}
	for (i = 0; i < m->ncgs; i++)
		fprintf(f, "cgroup %s over its share: %llu series, %llu samples in status classes, "
			   "%llu in its overflow series\n",
			m->cgs[i].cgroup, (unsigned long long)m->cgs[i].series,
			(unsigned long long)m->cgs[i].folded_class,
			(unsigned long long)m->cgs[i].folded_over);
	for (k = 0; k < cfg->routes.nexcluded; k++)
		fprintf(f, "excluded %s: %llu server, %llu client\n",
			lp_route_excluded(&cfg->routes, k), (unsigned long long)m->excluded[2 * k],
			(unsigned long long)m->excluded[2 * k + 1]);
	fflush(f);
}
