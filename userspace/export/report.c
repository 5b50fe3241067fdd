// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSON documents: a collection whole (/api/v1/series, --json), its SLOs (/api/v1/slos). */
#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "base/buf.h"
#include "export/report.h"
#include "export/series_labels.h"
#include "version.h"

/*
 * json-c returns NULL when it cannot allocate, and json_object_object_add
 * takes a NULL value as JSON null: unchecked, an out-of-memory document
 * would be served whole-looking with nulls in it. These wrappers note any
 * failure in j_oom (one document is built by one thread), and
 * lp_report_json_string returns NULL rather than a document missing
 * anything. NULL is a value only where jdouble or a ternary means null.
 */
static __thread bool j_oom;

static struct json_object *jchk(struct json_object *o)
{
	if (!o)
		j_oom = true;
	return o;
}

static struct json_object *jobj(void)
{
	return jchk(json_object_new_object());
}

static struct json_object *jarr(void)
{
	return jchk(json_object_new_array());
}

static struct json_object *jstr(const char *s)
{
	return jchk(json_object_new_string(s));
}

static struct json_object *ju64(uint64_t v)
{
	return jchk(json_object_new_uint64(v));
}

static struct json_object *jint(int v)
{
	return jchk(json_object_new_int(v));
}

static struct json_object *jbool(bool v)
{
	return jchk(json_object_new_boolean(v));
}

static struct json_object *jdouble(double v)
{
	return isnan(v) || isinf(v) ? NULL : jchk(json_object_new_double(v));
}

/* o[key] = v (v NULL: JSON null); v is dropped if it cannot be added */
static void jset(struct json_object *o, const char *key, struct json_object *v)
{
	if (!o || json_object_object_add(o, key, v) < 0) {
		j_oom = true;
		json_object_put(v);
	}
}

static void jpush(struct json_object *a, struct json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) < 0) {
		j_oom = true;
		json_object_put(v);
	}
}

static struct json_object *jquantiles(const double *q)
{
	struct json_object *o = jobj();
	unsigned i;

	for (i = 0; i < LP_NQUANTILES; i++)
		jset(o, lp_quantiles[i].label, jdouble(q[i]));
	return o;
}

static struct json_object *jslo(const struct lp_slo *slo, __u64 good, __u64 total, double r)
{
	struct json_object *o = jobj();

	jset(o, "name", jstr(slo->name));
	jset(o, "good", ju64(good));
	jset(o, "total", ju64(total));
	jset(o, "ratio", jdouble(r));
	jset(o, "met", total ? jbool(r >= slo->objective) : NULL);
	return o;
}

/* An SLO over each window, summed over the series it applies to: what
 * `latprobe check` and the Zabbix items read. */
static struct json_object *jslo_windows(const struct lp_model *m, unsigned k)
{
	const struct lp_config *cfg = m->cfg;
	const struct lp_slo *slo = &cfg->slos[k];
	struct json_object *a = jarr();
	unsigned w;

	for (w = 0; w < cfg->nwindows; w++) {
		const struct lp_slo_window *sw = &m->slo_win[k][w];
		struct json_object *e = jobj();
		double r = sw->ratio;

		jset(e, "window_seconds", jdouble((double)cfg->windows_ns[w] / 1e9));
		jset(e, "good", ju64(sw->good));
		jset(e, "total", ju64(sw->total));
		jset(e, "ratio", jdouble(r));
		jset(e, "burn_rate", jdouble(sw->burn));
		jset(e, "met", sw->total ? jbool(
								     r >= slo->objective) :
							     NULL);
		jset(e, "sum_seconds", jdouble((double)sw->sum_ns / 1e9));
		jset(e, "quantiles_seconds", jquantiles(sw->q));
		jpush(a, e);
	}
	return a;
}

/*
 * The series' labels by their tags (export/series_labels.h): numbers as
 * numbers, a label the series has not as null (the route without --route).
 * The status is the code; a cgroup over its share adds the label it is
 * exported under: "4xx" (status 400) or "other" (its own overflow series).
 */
static void jlabels(struct json_object *o, const struct lp_series_view *v)
{
	struct lp_label_vals lv;
	unsigned i;

	lp_series_label_values(v, &lv);
	for (i = 0; i < LP_L_COUNT; i++) {
		const struct lp_label_def *d = &lp_series_labels[i];
		const char *x = lv.v[i];
		char *end;
		long long n = x && (d->flags & LP_LBL_NUM) ? strtoll(x, &end, 10) : 0;

		if (d->id == LP_L_STATUS) {
			jset(o, d->tag, jint(v->key.status));
			if (v->key.flags & (LP_KEY_STATUS_CLASS | LP_KEY_CG_OVERFLOW))
				jset(o, "status_label", jstr(x));
		} else if (!x) {
			jset(o, d->tag, NULL);
		} else if ((d->flags & LP_LBL_NUM) && *x && !*end) {
			jset(o, d->tag, jint((int)n));
		} else {
			jset(o, d->tag, jstr(x));
		}
	}
}

static struct json_object *jseries(const struct lp_model *m, const struct lp_series_view *v)
{
	const struct lp_config *cfg = m->cfg;
	struct json_object *o = jobj(), *b, *ws, *sl;
	char le[32];
	__u64 cum = 0;
	unsigned i, k;

	jset(o, "cgroup_id", ju64(v->key.cgroup_id));
	jset(o, "overflow", jbool(!!(v->key.flags & LP_KEY_OVERFLOW)));
	jset(o, "metric", jstr(v->key.flags & LP_KEY_TTFB ? "ttfb" : "duration"));
	jlabels(o, v);
	jset(o, "count", ju64(v->total->count));
	jset(o, "sum_seconds", jdouble((double)v->total->sum_ns / 1e9));
	jset(o, "rate_per_second", jdouble(v->rate));
	jset(o, "quantiles_seconds", jquantiles(v->total_q));

	b = jarr();
	for (i = 0; i <= cfg->nclassic; i++) {
		struct json_object *e = jobj();

		cum += v->total->classic[i];
		if (i < cfg->nclassic)
			lp_format_seconds(le, sizeof(le), cfg->classic_ns[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		jset(e, "le", jstr(le));
		jset(e, "count", ju64(cum));
		jpush(b, e);
	}
	jset(o, "buckets", b);

	sl = jarr();
	for (k = 0; k < cfg->nslos; k++)
		if (v->slo_applies[k])
			jpush(sl, jslo(&cfg->slos[k], v->slo_good[k], v->total->count,
				       v->slo_ratio[k]));
	jset(o, "slo", sl);

	ws = jarr();
	for (i = 0; i < cfg->nwindows; i++) {
		const struct lp_window_view *w = &v->win[i];
		struct json_object *e = jobj();

		jset(e, "window_seconds", jdouble((double)w->window_ns / 1e9));
		jset(e, "span_seconds", jdouble(m->span_s[i]));
		jset(e, "count", ju64(w->count));
		jset(e, "sum_seconds", jdouble((double)w->sum_ns / 1e9));
		jset(e, "quantiles_seconds", jquantiles(w->q));
		sl = jarr();
		for (k = 0; k < cfg->nslos; k++)
			if (v->slo_applies[k])
				jpush(sl, jslo(&cfg->slos[k], w->slo_good[k], w->slo_total[k],
					       w->slo_ratio[k]));
		jset(e, "slo", sl);
		jpush(ws, e);
	}
	jset(o, "windows", ws);
	return o;
}

static void jwrite_string(struct lp_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	lp_buf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		lp_buf_add(b, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			lp_buf_add(b, esc, 2);
		} else {
			lp_buf_add(b, esc, 6);
		}
	}
	lp_buf_add(b, s + run, n - run);
	lp_buf_add(b, "\"", 1);
}

/*
 * The document's text, written here rather than by json-c: its printer
 * drops an append it could not allocate for and goes on, which would serve
 * a document with a key missing. lp_buf stops at the first failure and
 * says so. Names are valid UTF-8 already (they are cleaned where they
 * enter); only quotes, backslashes and control bytes need escapes.
 */
static void jwrite(struct lp_buf *b, struct json_object *o)
{
	size_t i, n;

	switch (json_object_get_type(o)) {
	case json_type_null:
		lp_buf_str(b, "null");
		break;
	case json_type_boolean:
		lp_buf_str(b, json_object_get_boolean(o) ? "true" : "false");
		break;
	case json_type_int: {
		int64_t v = json_object_get_int64(o);

		/* a uint64 above INT64_MAX reads back as INT64_MAX from get_int64 */
		if (v < 0)
			lp_buf_printf(b, "%lld", (long long)v);
		else
			lp_buf_u64(b, (unsigned long long)json_object_get_uint64(o));
		break;
	}
	case json_type_double:
		lp_buf_double(b, json_object_get_double(o)); /* finite: jdouble saw to it */
		break;
	case json_type_string:
		jwrite_string(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		lp_buf_add(b, "[", 1);
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (i)
				lp_buf_add(b, ",", 1);
			jwrite(b, json_object_array_get_idx(o, i));
		}
		lp_buf_add(b, "]", 1);
		break;
	case json_type_object: {
		bool first = true;

		lp_buf_add(b, "{", 1);
		json_object_object_foreach(o, k, v)
		{
			if (!first)
				lp_buf_add(b, ",", 1);
			first = false;
			jwrite_string(b, k, strlen(k));
			lp_buf_add(b, ":", 1);
			jwrite(b, v);
		}
		lp_buf_add(b, "}", 1);
		break;
	}
	}
}

/* the document's text from its tree (NULL out of memory); the tree is freed */
static char *jfinish(struct json_object *root)
{
	char *out = NULL;

	if (!j_oom) {
		struct lp_buf b = { 0 };

		jwrite(&b, root);
		if (lp_buf_ok(&b))
			out = b.data;
		else
			lp_buf_free(&b);
	}
	json_object_put(root);
	return out;
}

/* what every document starts with */
static void jhead(struct json_object *root, const struct lp_model *m)
{
	jset(root, "version", jstr(LATPROBE_VERSION));
	jset(root, "revision", jstr(LATPROBE_REVISION));
	jset(root, "time", jdouble(m->wall));
}

/* the "slos" array: each SLO, its settings and its state per window */
static struct json_object *jslos(const struct lp_model *m)
{
	const struct lp_config *cfg = m->cfg;
	struct json_object *a = jarr();
	unsigned i;

	for (i = 0; i < cfg->nslos; i++) {
		const struct lp_slo *slo = &cfg->slos[i];
		struct json_object *o = jobj();

		jset(o, "name", jstr(slo->name));
		jset(o, "method", slo->method ? jstr(lp_method_name(slo->method)) : NULL);
		jset(o, "side", slo->side ? jstr(lp_side_name(slo->side)) : NULL);
		jset(o, "port", slo->port ? jint(slo->port) : NULL);
		jset(o, "route", slo->route_label[0] ? jstr(slo->route_label) : NULL);
		jset(o, "rpc", slo->rpc ? jstr(slo->rpc == LP_SLO_RPC_GRPC ? "grpc" : "http") : NULL);
		jset(o, "threshold_seconds", jdouble((double)slo->threshold_ns / 1e9));
		jset(o, "objective", jdouble(slo->objective));
		jset(o, "windows", jslo_windows(m, i));
		jpush(a, o);
	}
	return a;
}

char *lp_report_json_string(const struct lp_model *m)
{
	const struct lp_config *cfg = m->cfg;
	struct json_object *root, *c, *a;
	unsigned i;
	size_t s;

	j_oom = false;
	root = jobj();
	if (!root)
		return NULL;
	jhead(root, m);
	jset(root, "uptime_seconds", jdouble(m->uptime_s));
	jset(root, "schema", jint((int)cfg->schema));
	jset(root, "interval_seconds", jdouble((double)cfg->interval_ns / 1e9));
	jset(root, "collect_seconds", jdouble(m->collect_s));
	jset(root, "read_errors", ju64(m->read_errors));
	jset(root, "series_in_kernel", ju64(m->nseries_all));
	jset(root, "series_retired", ju64(m->retired));
	jset(root, "series_retirements", ju64(m->retirements));
	jset(root, "series_returns", ju64(m->returns));

	c = jobj();
	for (i = 0; i < LP_CNT_MAX; i++)
		jset(c, lp_counters[i].key, ju64(m->counters[i]));
	jset(root, "counters", c);
	if (m->ncgs) {
		/* cgroups over their share of series (--max-series-per-cgroup) */
		a = jarr();
		for (s = 0; s < m->ncgs; s++) {
			struct json_object *e = jobj();

			jset(e, "cgroup", jstr(m->cgs[s].cgroup));
			jset(e, "service", jstr(m->cgs[s].service));
			jset(e, "series", ju64(m->cgs[s].series));
			jset(e, "folded_status_class", ju64(m->cgs[s].folded_class));
			jset(e, "folded_overflow", ju64(m->cgs[s].folded_over));
			jpush(a, e);
		}
		jset(root, "cgroups_over_share", a);
	}
	if (cfg->routes.nexcluded) {
		/* --exclude-path: requests counted, in no series */
		a = jarr();
		for (i = 0; i < cfg->routes.nexcluded; i++) {
			struct json_object *e = jobj();

			jset(e, "path", jstr(lp_route_excluded(&cfg->routes, i)));
			jset(e, "server", ju64(m->excluded[2 * i]));
			jset(e, "client", ju64(m->excluded[2 * i + 1]));
			jpush(a, e);
		}
		jset(root, "excluded", a);
	}
	jset(root, "slos", jslos(m));

	a = jarr();
	for (s = 0; s < m->nseries; s++)
		jpush(a, jseries(m, m->series[s]));
	jset(root, "series", a);
	return jfinish(root);
}

char *lp_report_slos_json_string(const struct lp_model *m)
{
	struct json_object *root;

	j_oom = false;
	root = jobj();
	if (!root)
		return NULL;
	jhead(root, m);
	jset(root, "slos", jslos(m));
	return jfinish(root);
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
