// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `latprobe check`: is an SLO met? Asks the agent's /api/v1/slos (the
 * "slos" section: good and total per SLO and window, summed over every series
 * the SLO covers, with the quantiles of the merged distribution) and answers
 * as a monitoring plugin or, with --zabbix, as a Zabbix item value.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "base/util.h"
#include "base/buf.h"
#include "version.h"
#include "app/check.h"
#include "base/config.h"
#include "base/names.h"

#define MAX_DOC	    (64u << 20) /* the agent's document is a few MB at 10k series */

static const char *const state_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

/* ---- the agent's document ---- */

struct slo_window {
	const char *name;
	char scope[560]; /* " (route X)" for an SLO of one route, " (namespace N, pod P)": a scope
			  */
	double objective, threshold_s, window_s;
	__u64 good, total;
	double ratio, burn, q[LP_NQUANTILES];
};

static bool get_num(struct json_object *o, const char *key, double *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x))
		return false;
	if (json_object_is_type(x, json_type_null)) {
		*v = NAN;
		return true;
	}
	if (!json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int))
		return false;
	*v = json_object_get_double(x);
	return true;
}

static bool get_count(struct json_object *o, const char *key, __u64 *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
		return false;
	*v = json_object_get_uint64(x);
	return true;
}

/* "5m", "30s", "1h": one unit, the largest that is exact (what -W parses back) */
static void fmt_window(char *buf, size_t len, double s)
{
	long long n = llround(s);

	if (n > 0 && n % 3600 == 0)
		snprintf(buf, len, "%lldh", n / 3600);
	else if (n > 0 && n % 60 == 0)
		snprintf(buf, len, "%lldm", n / 60);
	else
		snprintf(buf, len, "%llds", n);
}

static int list_names(struct json_object *slos, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(slos); i++) {
		struct json_object *s = json_object_array_get_idx(slos, i), *n;

		if (json_object_object_get_ex(s, "name", &n) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
						json_object_get_string(n));
	}
	return 0;
}

/* the SLO the options name (or the only one) in the answer's "slos" */
static struct json_object *pick_slo(struct json_object *root, const struct lp_check_opts *o,
				    char *why, size_t len)
{
	struct json_object *slos, *x;
	char names[512];
	size_t i, n;

	if (!root || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "slos", &slos) ||
	    !json_object_is_type(slos, json_type_array)) {
		snprintf(why, len, "the answer is not latprobe's JSON (no \"slos\" array)");
		return NULL;
	}
	n = json_object_array_length(slos);
	list_names(slos, names, sizeof(names));
	if (!o->slo[0]) {
		if (n == 1)
			return json_object_array_get_idx(slos, 0);
		snprintf(why, len, "the agent has %zu SLOs, name one with --slo (%s)", n,
			 n ? names : "none");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(slos, i);

		if (json_object_object_get_ex(s, "name", &x) &&
		    json_object_is_type(x, json_type_string) &&
		    !strcmp(json_object_get_string(x), o->slo))
			return s;
	}
	snprintf(why, len, "the agent has no SLO named '%s' (it has: %s)", o->slo,
		 n ? names : "none");
	return NULL;
}

/* the window the options ask for (or the longest) among the SLO's windows */
static struct json_object *pick_window(struct json_object *wins, const struct lp_check_opts *o,
				       char *why, size_t len)
{
	struct json_object *win = NULL;
	char have[128], f[24];
	double best = -1;
	size_t i, off = 0;

	have[0] = '\0';
	for (i = 0; i < json_object_array_length(wins); i++) {
		struct json_object *w = json_object_array_get_idx(wins, i);
		double ws;

		if (!json_object_is_type(w, json_type_object) ||
		    !get_num(w, "window_seconds", &ws) || !(ws > 0)) {
			snprintf(why, len, "the answer is not latprobe's JSON (bad window)");
			return NULL;
		}
		fmt_window(f, sizeof(f), ws);
		if (off < sizeof(have))
			off += (size_t)snprintf(have + off, sizeof(have) - off, "%s%s",
						i ? ", " : "", f);
		if (o->window_ns ? fabs(ws * 1e9 - (double)o->window_ns) < 1e6 : ws > best) {
			win = w;
			best = ws;
		}
	}
	if (!win) {
		fmt_window(f, sizeof(f), (double)o->window_ns / 1e9);
		snprintf(why, len, "the agent has no %s window (it has: %s)", f, have);
	}
	return win;
}

/* the window's figures into sw, each checked */
static int window_fields(struct json_object *win, struct slo_window *sw, char *why, size_t len)
{
	struct json_object *q;
	size_t i;

	if (!get_num(win, "window_seconds", &sw->window_s) || !get_count(win, "good", &sw->good) ||
	    !get_count(win, "total", &sw->total) || sw->good > sw->total ||
	    !get_num(win, "ratio", &sw->ratio) || !get_num(win, "burn_rate", &sw->burn) ||
	    !json_object_object_get_ex(win, "quantiles_seconds", &q) ||
	    !json_object_is_type(q, json_type_object)) {
		snprintf(why, len,
			 "the answer is not latprobe's JSON (window without good, "
			 "total, ratio or quantiles)");
		return -EINVAL;
	}
	for (i = 0; i < LP_NQUANTILES; i++)
		if (!get_num(q, lp_quantiles[i].label, &sw->q[i])) {
			snprintf(why, len, "the answer is not latprobe's JSON (no quantile %s)",
				 lp_quantiles[i].label);
			return -EINVAL;
		}
	/* the agent's collector computed ratio and burn rate (null: no requests) */
	if ((sw->total == 0) != isnan(sw->ratio)) {
		snprintf(why, len, "the answer is not latprobe's JSON (ratio without requests)");
		return -EINVAL;
	}
	return 0;
}

/*
 * Find the SLO and window the options ask for in doc. On failure returns
 * -EINVAL with the reason in why: every field read is checked, each with its
 * own message, since the document comes over the network and a monitoring
 * system shows the reason as it is.
 */
static int find_slo(struct json_object *root, const struct lp_check_opts *o, struct slo_window *sw,
		    char *why, size_t len)
{
	struct json_object *slo = pick_slo(root, o, why, len), *x, *wins, *win;

	if (!slo)
		return -EINVAL;
	if (!json_object_is_type(slo, json_type_object) ||
	    !json_object_object_get_ex(slo, "name", &x) ||
	    !json_object_is_type(x, json_type_string) ||
	    !get_num(slo, "objective", &sw->objective) ||
	    !(sw->objective > 0 && sw->objective < 1) ||
	    !get_num(slo, "threshold_seconds", &sw->threshold_s) || !(sw->threshold_s > 0) ||
	    !json_object_object_get_ex(slo, "windows", &wins) ||
	    !json_object_is_type(wins, json_type_array) || !json_object_array_length(wins)) {
		snprintf(why, len,
			 "the answer is not latprobe's JSON (SLO without objective, "
			 "threshold or windows; an agent older than this check?)");
		return -EINVAL;
	}
	sw->name = json_object_get_string(x);
	sw->scope[0] = '\0';
	if (json_object_object_get_ex(slo, "route", &x) && json_object_is_type(x, json_type_string))
		snprintf(sw->scope, sizeof(sw->scope), " (route %s)", json_object_get_string(x));
	win = pick_window(wins, o, why, len);
	if (!win)
		return -EINVAL;
	return window_fields(win, sw, why, len);
}

static bool str_is(struct json_object *o, const char *key, const char *want)
{
	struct json_object *x;

	return json_object_object_get_ex(o, key, &x) && json_object_is_type(x, json_type_string) &&
	       !strcmp(json_object_get_string(x), want);
}

/* a series' SLO cell (its good and total) in the window of window_s; false: none */
static bool series_cell(struct json_object *s, const struct slo_window *sw, __u64 *good,
			__u64 *total)
{
	struct json_object *wins, *w, *cells, *c;
	double ws;
	size_t i, j;

	if (!json_object_object_get_ex(s, "windows", &wins) ||
	    !json_object_is_type(wins, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(wins); i++) {
		w = json_object_array_get_idx(wins, i);
		if (!get_num(w, "window_seconds", &ws) || fabs(ws - sw->window_s) > 1e-3 ||
		    !json_object_object_get_ex(w, "slo", &cells) ||
		    !json_object_is_type(cells, json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(cells); j++) {
			c = json_object_array_get_idx(cells, j);
			if (str_is(c, "name", sw->name) && get_count(c, "good", good) &&
			    get_count(c, "total", total) && *good <= *total)
				return true;
		}
	}
	return false;
}

/*
 * --namespace/--pod: the window's good and total summed over the series of
 * that scope (the document is /api/v1/series); ratio and burn rate from
 * them, quantiles undetermined. -EINVAL with why when no series is of it.
 */
static int scope_sums(struct json_object *root, const struct lp_check_opts *o,
		      struct slo_window *sw, char *why, size_t len)
{
	struct json_object *series, *s;
	__u64 good, total;
	size_t i, seen = 0;
	unsigned q;

	if (!json_object_object_get_ex(root, "series", &series) ||
	    !json_object_is_type(series, json_type_array)) {
		snprintf(why, len, "the answer is not latprobe's /api/v1/series (no \"series\")");
		return -EINVAL;
	}
	sw->good = sw->total = 0;
	for (i = 0; i < json_object_array_length(series); i++) {
		s = json_object_array_get_idx(series, i);
		if ((o->ns[0] && !str_is(s, "namespace", o->ns)) ||
		    (o->pod[0] && !str_is(s, "pod", o->pod)))
			continue;
		seen++;
		if (series_cell(s, sw, &good, &total)) {
			sw->good += good;
			sw->total += total;
		}
	}
	if (!seen) {
		snprintf(why, len, "the agent has no series of %s%s%s%s%s",
			 o->ns[0] ? "namespace " : "", o->ns, o->ns[0] && o->pod[0] ? ", " : "",
			 o->pod[0] ? "pod " : "", o->pod);
		return -EINVAL;
	}
	sw->ratio = sw->total ? (double)sw->good / (double)sw->total : NAN;
	sw->burn = sw->total ? (1 - sw->ratio) / (1 - sw->objective) : NAN;
	for (q = 0; q < LP_NQUANTILES; q++)
		sw->q[q] = NAN;
	snprintf(sw->scope, sizeof(sw->scope), " (%s%s%s%s%s)", o->ns[0] ? "namespace " : "", o->ns,
		 o->ns[0] && o->pod[0] ? ", " : "", o->pod[0] ? "pod " : "", o->pod);
	return 0;
}

/* the SLO and window the options ask for, over the scope they name */
static int find_scoped_slo(struct json_object *root, const struct lp_check_opts *o,
			   struct slo_window *sw, char *why, size_t len)
{
	int e = find_slo(root, o, sw, why, len);

	if (e || (!o->ns[0] && !o->pod[0]))
		return e;
	return scope_sums(root, o, sw, why, len);
}

static struct json_object *parse_doc(const char *doc)
{
	return doc ? json_tokener_parse(doc) : NULL;
}

static double metric_value(const struct slo_window *sw, enum lp_check_metric m)
{
	switch (m) {
	case LP_METRIC_RATIO:
		return sw->ratio;
	case LP_METRIC_BURN:
		return sw->burn;
	default:
		return sw->q[m - LP_METRIC_P50];
	}
}

/* perfdata value: 'U' when undetermined */
static int perf_val(char *buf, size_t len, double v, const char *uom)
{
	return isnan(v) ? snprintf(buf, len, "U") : snprintf(buf, len, "%.6g%s", v, uom);
}

/* perfdata: 'label'=value[UOM];warn;crit;min;max, thresholds on the judged metric */
static void perfdata(char *perf, size_t size, const struct slo_window *sw,
		     const struct lp_check_opts *o, const struct lp_range *warn,
		     const struct lp_range *crit)
{
	size_t off = 0;
	unsigned i;
	char v[32];

	perf_val(v, sizeof(v), sw->ratio, "");
	off += (size_t)snprintf(perf + off, size - off, "'good_ratio'=%s;%s;%s;0;1", v,
				o->metric == LP_METRIC_RATIO ? warn->text : "",
				o->metric == LP_METRIC_RATIO ? crit->text : "");
	perf_val(v, sizeof(v), sw->burn, "");
	off += (size_t)snprintf(perf + off, size - off, " 'burn_rate'=%s;%s;%s;0;", v,
				o->metric == LP_METRIC_BURN ? warn->text : "",
				o->metric == LP_METRIC_BURN ? crit->text : "");
	off += (size_t)snprintf(perf + off, size - off, " 'requests'=%llu;;;0; 'good'=%llu;;;0;",
				(unsigned long long)sw->total, (unsigned long long)sw->good);
	for (i = 0; i < LP_NQUANTILES && off < size; i++) {
		bool judged = o->metric == LP_METRIC_P50 + i;

		perf_val(v, sizeof(v), sw->q[i], "s");
		off += (size_t)snprintf(perf + off, size - off, " '%s'=%s;%s;%s;0;",
					lp_quantiles[i].word, v, judged ? warn->text : "",
					judged ? crit->text : "");
	}
}

enum lp_state lp_check_eval(const char *doc, const struct lp_check_opts *o, char *out, size_t len)
{
	struct json_object *root = parse_doc(doc);
	struct lp_range warn = {}, crit = {};
	struct slo_window sw = {};
	enum lp_state st = LP_STATE_OK;
	char why[768], win[24], thr[32], perf[512], head[1024];
	double val;

	if (find_scoped_slo(root, o, &sw, why, sizeof(why))) {
		snprintf(out, len, "LATPROBE UNKNOWN - %s", why);
		json_object_put(root);
		return LP_STATE_UNKNOWN;
	}
	if (o->warn_s[0])
		lp_range_parse(o->warn_s, o->metric == LP_METRIC_RATIO, &warn);
	if (o->crit_s[0])
		lp_range_parse(o->crit_s, o->metric == LP_METRIC_RATIO, &crit);
	if (!o->warn_s[0] && !o->crit_s[0]) {
		char def[32];

		/* the SLO itself: CRITICAL when it is missed */
		if (o->metric == LP_METRIC_RATIO) {
			snprintf(def, sizeof(def), "%.6g:", sw.objective);
			lp_range_parse(def, true, &crit);
		} else if (o->metric == LP_METRIC_BURN) {
			lp_range_parse("1", false, &crit);
		}
	}

	fmt_window(win, sizeof(win), sw.window_s);
	snprintf(thr, sizeof(thr), "%.6gs", sw.threshold_s);
	val = metric_value(&sw, o->metric);
	if (!sw.total) {
		st = o->empty_state;
		snprintf(head, sizeof(head), "SLO %s%s: no requests over %s", sw.name, sw.scope, win);
	} else {
		if (isnan(val))
			st = LP_STATE_UNKNOWN;
		else if (lp_range_alert(&crit, val))
			st = LP_STATE_CRITICAL;
		else if (lp_range_alert(&warn, val))
			st = LP_STATE_WARNING;
		if (o->metric >= LP_METRIC_P50)
			snprintf(head, sizeof(head),
				 "SLO %s%s: %s %.6gs, %.2f%% of %llu requests "
				 "within %s over %s (objective %.6g%%)",
				 sw.name, sw.scope, lp_check_metric_name(o->metric), val, sw.ratio * 100,
				 (unsigned long long)sw.total, thr, win, sw.objective * 100);
		else
			snprintf(head, sizeof(head),
				 "SLO %s%s: %.2f%% of %llu requests within %s "
				 "over %s (objective %.6g%%), burn rate %.3g",
				 sw.name, sw.scope, sw.ratio * 100, (unsigned long long)sw.total, thr, win,
				 sw.objective * 100, sw.burn);
	}

	perfdata(perf, sizeof(perf), &sw, o, &warn, &crit);
	snprintf(out, len, "LATPROBE %s - %s | %s", state_names[st], head, perf);
	json_object_put(root);
	return st;
}

/* ---- Zabbix ---- */

static int zabbix_discovery(struct json_object *root, char *out, size_t len)
{
	struct json_object *slos, *arr = json_object_new_array();
	size_t i, j;
	int r = -EINVAL;

	if (!root || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "slos", &slos) ||
	    !json_object_is_type(slos, json_type_array)) {
		snprintf(out, len, "the answer is not latprobe's JSON (no \"slos\" array)");
		goto out;
	}
	for (i = 0; i < json_object_array_length(slos); i++) {
		struct json_object *s = json_object_array_get_idx(slos, i), *name, *wins, *route;
		double obj, thr;

		if (!json_object_is_type(s, json_type_object) ||
		    !json_object_object_get_ex(s, "name", &name) ||
		    !json_object_object_get_ex(s, "windows", &wins) ||
		    !json_object_is_type(wins, json_type_array) || !get_num(s, "objective", &obj) ||
		    !get_num(s, "threshold_seconds", &thr)) {
			snprintf(out, len, "the answer is not latprobe's JSON (bad SLO)");
			goto out;
		}
		for (j = 0; j < json_object_array_length(wins); j++) {
			struct json_object *e = json_object_new_object();
			double ws = NAN;
			char f[24], num[32];

			get_num(json_object_array_get_idx(wins, j), "window_seconds", &ws);
			fmt_window(f, sizeof(f), ws);
			json_object_object_add(e, "{#SLO}", json_object_get(name));
			json_object_object_add(e, "{#WINDOW}", json_object_new_string(f));
			snprintf(num, sizeof(num), "%.6g", obj);
			json_object_object_add(e, "{#OBJECTIVE}", json_object_new_string(num));
			snprintf(num, sizeof(num), "%.6g", thr);
			json_object_object_add(e, "{#THRESHOLD}", json_object_new_string(num));
			/* the SLO's route ("" for an SLO of every route) */
			json_object_object_add(
				e, "{#ROUTE}",
				json_object_new_string(json_object_object_get_ex(s, "route", &route) &&
							       json_object_is_type(route,
										   json_type_string)
							       ? json_object_get_string(route)
							       : ""));
			json_object_array_add(arr, e);
		}
	}
	snprintf(out, len, "%s", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	r = strlen(out) + 1 < len ? 0 : -1;
	if (r)
		snprintf(out, len, "discovery document too large");
out:
	json_object_put(arr);
	return r;
}

int lp_check_zabbix(const char *doc, const struct lp_check_opts *o, char *out, size_t len)
{
	struct json_object *root = parse_doc(doc);
	struct slo_window sw = {};
	const char *k = o->zabbix;
	char why[768];
	double v = NAN;
	unsigned i;
	int r = 0;

	if (!strcmp(k, "discovery")) {
		r = zabbix_discovery(root, out, len);
		json_object_put(root);
		return r;
	}
	if (find_scoped_slo(root, o, &sw, why, sizeof(why))) {
		snprintf(out, len, "%s", why);
		json_object_put(root);
		return -EINVAL;
	}
	if (!strcmp(k, "good")) {
		snprintf(out, len, "%llu", (unsigned long long)sw.good);
	} else if (!strcmp(k, "total")) {
		snprintf(out, len, "%llu", (unsigned long long)sw.total);
	} else if (!strcmp(k, "objective")) {
		snprintf(out, len, "%.6g", sw.objective);
	} else if (!strcmp(k, "threshold")) {
		snprintf(out, len, "%.6g", sw.threshold_s);
	} else {
		if (!strcmp(k, "met"))
			v = sw.total ? sw.ratio >= sw.objective : NAN;
		else if (!strcmp(k, "good_ratio"))
			v = sw.ratio;
		else if (!strcmp(k, "burn_rate"))
			v = sw.burn;
		for (i = 0; i < LP_NQUANTILES; i++)
			if (!strcmp(k, lp_quantiles[i].word))
				v = sw.q[i];
		if (isnan(v)) {
			char f[24];

			fmt_window(f, sizeof(f), sw.window_s);
			snprintf(out, len, "no requests for SLO %s over %s", sw.name, f);
			r = -EINVAL;
		} else {
			snprintf(out, len, "%.6g", v);
		}
	}
	json_object_put(root);
	return r;
}

/* ---- the edge: one HTTP GET ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct lp_buf *b = ud;

	if (b->len + size * n > MAX_DOC)
		return 0;
	lp_buf_add(b, p, size * n);
	if (!lp_buf_ok(b))
		return 0;
	return size * n;
}

static int fetch(const struct lp_check_opts *o, struct lp_buf *body, char *why, size_t len)
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;

	if (!c) {
		snprintf(why, len, "cannot start libcurl");
		return -EINVAL;
	}
	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "latprobe-check");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o->userpwd[0]) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, o->userpwd);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, len, "the agent at %s did not answer within %.6gs", o->url,
			 o->timeout_s);
		return -EINVAL;
	}
	if (rc == CURLE_WRITE_ERROR) {
		snprintf(why, len, "the agent at %s answered more than %u MB", o->url,
			 MAX_DOC >> 20);
		return -EINVAL;
	}
	if (rc != CURLE_OK) {
		snprintf(why, len, "cannot ask the agent at %s: %s", o->url,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return -EINVAL;
	}
	if (code != 200) {
		snprintf(why, len, "the agent at %s answered HTTP %ld", o->url, code);
		return -EINVAL;
	}
	lp_buf_add(body, "", 1);
	if (!lp_buf_ok(body)) {
		snprintf(why, len, "out of memory");
		return -EINVAL;
	}
	return 0;
}

int lp_check_main(int argc, char **argv)
{
	struct lp_check_opts o;
	struct lp_buf body = {};
	char err[2048], out[4096];
	int r;

	r = lp_check_parse_args(argc, argv, &o, stdout, err, sizeof(err));
	if (r) {
		/* the guidelines: bad arguments are UNKNOWN, not CRITICAL */
		printf("LATPROBE UNKNOWN - %s (latprobe check --help)\n", err);
		return LP_STATE_UNKNOWN;
	}
	if (o.done)
		return LP_STATE_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		printf("LATPROBE UNKNOWN - cannot start libcurl\n");
		return LP_STATE_UNKNOWN;
	}
	if (fetch(&o, &body, err, sizeof(err))) {
		if (o.zabbix[0]) {
			printf("ZBX_NOTSUPPORTED: %s\n", err);
			r = 1;
		} else {
			printf("LATPROBE UNKNOWN - %s\n", err);
			r = LP_STATE_UNKNOWN;
		}
	} else if (o.zabbix[0]) {
		/* Zabbix ignores a user parameter's exit code: the text marks the error */
		r = lp_check_zabbix(body.data, &o, out, sizeof(out)) ? 1 : 0;
		printf("%s%s\n", r ? "ZBX_NOTSUPPORTED: " : "", out);
	} else {
		r = (int)lp_check_eval(body.data, &o, out, sizeof(out));
		printf("%s\n", out);
	}
	lp_buf_free(&body);
	curl_global_cleanup();
	return r;
}
