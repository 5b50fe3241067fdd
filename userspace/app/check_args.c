// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `latprobe check`: its arguments and the Monitoring Plugins ranges (check.c judges). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/names.h"
#include "version.h"
#include "app/check.h"

#define DEFAULT_URL "http://127.0.0.1:18464/api/v1/slos"

/* --metric: good_ratio, burn_rate, then the quantiles by their word ("p99.9") */
const char *lp_check_metric_name(unsigned m)
{
	return m == LP_METRIC_RATIO		   ? "good_ratio"
	       : m == LP_METRIC_BURN		   ? "burn_rate"
	       : m - LP_METRIC_P50 < LP_NQUANTILES ? lp_quantiles[m - LP_METRIC_P50].word
						   : NULL;
}

/* ---- ranges ---- */

static int parse_num(const char *s, size_t n, double *v)
{
	char tmp[40], *end;

	if (!n || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*v = strtod(tmp, &end);
	if (errno || *end || !isfinite(*v))
		return -EINVAL;
	return 0;
}

int lp_range_parse(const char *s, bool floor, struct lp_range *r)
{
	const char *p = s, *colon;

	memset(r, 0, sizeof(*r));
	if (!s || !*s || strlen(s) >= sizeof(r->text))
		return -EINVAL;
	if (*p == '@') {
		r->inside = true;
		p++;
	}
	colon = strchr(p, ':');
	if (!colon) {
		double v;

		if (parse_num(p, strlen(p), &v))
			return -EINVAL;
		if (floor && !r->inside) {
			r->start = v;
			r->end = INFINITY;
			snprintf(r->text, sizeof(r->text), "%s:", p);
		} else {
			r->start = 0;
			r->end = v;
			snprintf(r->text, sizeof(r->text), "%s", s);
		}
	} else {
		if (colon == p)
			r->start = 0;
		else if (colon - p == 1 && *p == '~')
			r->start = -INFINITY;
		else if (parse_num(p, (size_t)(colon - p), &r->start))
			return -EINVAL;
		if (!colon[1])
			r->end = INFINITY;
		else if (parse_num(colon + 1, strlen(colon + 1), &r->end))
			return -EINVAL;
		snprintf(r->text, sizeof(r->text), "%s", s);
	}
	if (r->start > r->end)
		return -EINVAL;
	r->set = true;
	return 0;
}

bool lp_range_alert(const struct lp_range *r, double v)
{
	bool in;

	if (!r->set)
		return false;
	in = v >= r->start && v <= r->end;
	return r->inside ? in : !in;
}

/* ---- arguments ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: latprobe check [-u URL] [-s SLO] [-W WINDOW] [-m METRIC] [-w RANGE] [-c "
		"RANGE]\n"
		"                      [-t SECONDS] [--empty STATE] [--auth-file F] [--ca-file F]\n"
		"                      [--namespace NS [--pod POD]]\n"
		"       latprobe check --zabbix VALUE|discovery [-u URL] [-s SLO] [-W WINDOW]\n"
		"\n"
		"Ask a running latprobe agent whether an SLO holds, as a monitoring plugin\n"
		"(Nagios, Icinga, Naemon): one status line with perfdata; exit 0 OK, 1 WARNING,\n"
		"2 CRITICAL, 3 UNKNOWN (agent down, slow, or answering nonsense; bad arguments).\n"
		"\n"
		"  -u, --url URL        the agent: default $LATPROBE_URL, else\n"
		"                       " DEFAULT_URL "\n"
		"                       (a URL without a path gets /api/v1/slos)\n"
		"  -s, --slo NAME       the SLO (latprobe --slo name=...); optional when the "
		"agent\n"
		"                       has exactly one\n"
		"  -W, --window DUR     the window, one the agent has (latprobe --window);\n"
		"                       default the agent's longest (5m with its defaults)\n"
		"  -m, --metric M       what -w/-c judge: good_ratio (default), burn_rate, p50, "
		"p90,\n"
		"                       p99, p99.9 (seconds)\n"
		"  -w, --warning RANGE  warning range, -c, --critical RANGE critical range:\n"
		"                       [@]start:end as in the Monitoring Plugins guidelines; for\n"
		"                       good_ratio a bare N means N: (alert below N).\n"
		"                       Defaults: good_ratio -c <objective>:, burn_rate -c 1\n"
		"  -t, --timeout SEC    give up after SEC seconds (default 10): UNKNOWN\n"
		"      --empty STATE    state when the window holds no request: ok (default),\n"
		"                       warning, critical, unknown\n"
		"      --namespace NS   only the series of Kubernetes namespace NS (with --pod:\n"
		"                       of that pod): good_ratio and burn_rate summed over them\n"
		"      --pod POD        only the series of pod POD\n"
		"      --auth-file F    basic auth: a file holding user:password\n"
		"      --ca-file F      CA bundle for an https:// agent\n"
		"      --zabbix VALUE   print one value for a Zabbix item: good_ratio, burn_rate,\n"
		"                       good, total, met, objective, threshold, p50, p90, p99,\n"
		"                       p99.9; or 'discovery' for low-level discovery JSON\n"
		"  -V, --version        -h, --help\n");
}

static int parse_state(const char *s, enum lp_state *st)
{
	static const char *const names[] = {"ok", "warning", "critical", "unknown"};
	unsigned i;

	for (i = 0; i < 4; i++)
		if (!strcasecmp(s, names[i])) {
			*st = (enum lp_state)i;
			return 0;
		}
	return -EINVAL;
}

/* a URL without a path means the agent's JSON API on it */
static int set_url(struct lp_check_opts *o, const char *u)
{
	const char *host = strstr(u, "://");

	if (!host || host == u || !host[3])
		return -EINVAL;
	host += 3;
	if (!strchr(host, '/'))
		return snprintf(o->url, sizeof(o->url), "%s/api/v1/slos", u) < (int)sizeof(o->url)
			       ? 0
			       : -EINVAL;
	if (!strcmp(strchr(host, '/'), "/"))
		return snprintf(o->url, sizeof(o->url), "%sapi/v1/slos", u) < (int)sizeof(o->url)
			       ? 0
			       : -EINVAL;
	return lp_copy(o->url, sizeof(o->url), u) ? -EINVAL : 0;
}

enum { OPT_EMPTY = 256, OPT_ZABBIX, OPT_AUTH, OPT_CA, OPT_NS, OPT_POD };

static const struct option longopts[] = {
	{"url", required_argument, NULL, 'u'},
	{"slo", required_argument, NULL, 's'},
	{"window", required_argument, NULL, 'W'},
	{"metric", required_argument, NULL, 'm'},
	{"warning", required_argument, NULL, 'w'},
	{"critical", required_argument, NULL, 'c'},
	{"timeout", required_argument, NULL, 't'},
	{"empty", required_argument, NULL, OPT_EMPTY},
	{"zabbix", required_argument, NULL, OPT_ZABBIX},
	{"auth-file", required_argument, NULL, OPT_AUTH},
	{"ca-file", required_argument, NULL, OPT_CA},
	{"namespace", required_argument, NULL, OPT_NS},
	{"pod", required_argument, NULL, OPT_POD},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{},
};

/* is it a value --zabbix can give? */
static bool zabbix_value(const char *v)
{
	static const char *const fixed[] = {"good",	 "total",     "met",
					    "objective", "threshold", "discovery"};
	unsigned i;

	for (i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		if (!strcmp(v, fixed[i]))
			return true;
	for (i = 0; lp_check_metric_name(i); i++)
		if (!strcmp(v, lp_check_metric_name(i)))
			return true;
	return false;
}

/*
 * --namespace/--pod: the SLO is summed over the series of that scope, which
 * /api/v1/series has with their SLO cells (the agent's own /api/v1/slos sums
 * every series). Quantiles of several series cannot be summed: only the
 * good ratio and the burn rate are judged.
 */
static int scope_url(struct lp_check_opts *o, char *err, size_t errlen)
{
	const char *flag = o->pod[0] ? "--pod" : "--namespace";
	static const char slos[] = "/api/v1/slos";
	size_t n = strlen(o->url);

	if (!o->ns[0] && !o->pod[0])
		return 0;
	if (o->metric != LP_METRIC_RATIO && o->metric != LP_METRIC_BURN)
		return lp_errf(-EINVAL, err, errlen,
			       "%s: --metric %s cannot be summed over a scope's series: judge "
			       "good_ratio or burn_rate",
			       flag, lp_check_metric_name(o->metric));
	if (n < sizeof(slos) - 1 || strcmp(o->url + n - (sizeof(slos) - 1), slos))
		return lp_errf(-EINVAL, err, errlen,
			       "%s: needs the agent's /api/v1/series; give --url without a path "
			       "or ending in %s",
			       flag, slos);
	o->url[n - (sizeof(slos) - 1)] = '\0';
	return lp_copy(o->url + strlen(o->url), sizeof(o->url) - strlen(o->url), "/api/v1/series")
		       ? lp_errf(-EINVAL, err, errlen, "--url: too long")
		       : 0;
}

/* one option: 0, or -EINVAL with err naming the flag and the value */
static int check_option(struct lp_check_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	unsigned i;

	switch (c) {
	case 'u':
		/* empty: the default (lets a Zabbix key leave the URL out) */
		if (*arg && set_url(o, arg))
			return lp_errf(-EINVAL, err, errlen, "--url: '%s' is not an http(s) URL",
				       arg);
		return 0;
	case 's':
		if (!*arg || lp_copy(o->slo, sizeof(o->slo), arg))
			return lp_errf(-EINVAL, err, errlen, "--slo: '%s' is not an SLO name", arg);
		return 0;
	case 'W':
		if (*arg && (lp_parse_duration_ns(arg, &o->window_ns) || !o->window_ns))
			return lp_errf(-EINVAL, err, errlen, "--window: '%s' is not a duration",
				       arg);
		return 0;
	case 'm':
		for (i = 0; lp_check_metric_name(i); i++)
			if (!strcmp(arg, lp_check_metric_name(i)))
				break;
		if (!lp_check_metric_name(i))
			return lp_errf(-EINVAL, err, errlen,
				       "--metric: '%s' is not good_ratio, burn_rate, p50, p90, "
				       "p99 or p99.9",
				       arg);
		o->metric = (enum lp_check_metric)i;
		return 0;
	case 'w':
		if (!*arg || lp_copy(o->warn_s, sizeof(o->warn_s), arg))
			return lp_errf(-EINVAL, err, errlen, "--warning: '%s' is not a range", arg);
		return 0;
	case 'c':
		if (!*arg || lp_copy(o->crit_s, sizeof(o->crit_s), arg))
			return lp_errf(-EINVAL, err, errlen, "--critical: '%s' is not a range",
				       arg);
		return 0;
	case 't': {
		__u64 ns;

		if (lp_parse_duration_ns(arg, &ns) || !ns || ns > 3600000000000ULL)
			return lp_errf(-EINVAL, err, errlen,
				       "--timeout: '%s' is not 1 to 3600 seconds", arg);
		o->timeout_s = (double)ns / 1e9;
		return 0;
	}
	case OPT_EMPTY:
		if (parse_state(arg, &o->empty_state))
			return lp_errf(-EINVAL, err, errlen,
				       "--empty: '%s' is not ok, warning, critical or unknown",
				       arg);
		return 0;
	case OPT_ZABBIX:
		if (!zabbix_value(arg))
			return lp_errf(-EINVAL, err, errlen,
				       "--zabbix: '%s' is not a value latprobe has", arg);
		lp_copy(o->zabbix, sizeof(o->zabbix), arg);
		return 0;
	case OPT_AUTH: {
		int e = lp_read_secret(arg, o->userpwd, sizeof(o->userpwd));

		if (e)
			return lp_errf(-EINVAL, err, errlen, "--auth-file: '%s': %s", arg,
				       e == -ENODATA ? "empty" : strerror(-e));
		if (!strchr(o->userpwd, ':'))
			return lp_errf(-EINVAL, err, errlen,
				       "--auth-file: '%s' must hold user:password", arg);
		return 0;
	}
	case OPT_CA:
		if (lp_copy(o->ca_file, sizeof(o->ca_file), arg))
			return lp_errf(-EINVAL, err, errlen, "--ca-file: path too long");
		return 0;
	case OPT_NS:
		if (!*arg || lp_copy(o->ns, sizeof(o->ns), arg))
			return lp_errf(-EINVAL, err, errlen, "--namespace: '%s' is not a namespace",
				       arg);
		return 0;
	case OPT_POD:
		if (!*arg || lp_copy(o->pod, sizeof(o->pod), arg))
			return lp_errf(-EINVAL, err, errlen, "--pod: '%s' is not a pod name", arg);
		return 0;
	}
	return lp_errf(-EINVAL, err, errlen, "unknown option");
}

int lp_check_parse_args(int argc, char **argv, struct lp_check_opts *o, FILE *out, char *err,
			size_t errlen)
{
	struct lp_range r;
	const char *env;
	int c;

	memset(o, 0, sizeof(*o));
	snprintf(o->url, sizeof(o->url), DEFAULT_URL);
	/* $LATPROBE_URL: the default for every check of this host (Zabbix, cron) */
	env = getenv("LATPROBE_URL");
	if (env && *env && set_url(o, env))
		return lp_errf(-EINVAL, err, errlen, "LATPROBE_URL: '%s' is not an http(s) URL",
			       env);
	o->timeout_s = 10;
	o->empty_state = LP_STATE_OK;
	lp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":u:s:W:m:w:c:t:hV", longopts, NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			if (c == 'h')
				usage(out);
			else
				fprintf(out, "latprobe check %s (%s)\n", LATPROBE_VERSION,
					LATPROBE_REVISION);
			o->done = true;
			return 0;
		}
		if (c == ':')
			return lp_errf(-EINVAL, err, errlen, "%s needs a value", argv[optind - 1]);
		if (c == '?')
			return lp_errf(-EINVAL, err, errlen, "unknown option '%s'",
				       argv[optind - 1]);
		if (check_option(o, c, optarg, err, errlen))
			return -EINVAL;
	}
	if (optind < argc)
		return lp_errf(-EINVAL, err, errlen, "unexpected argument '%s'", argv[optind]);
	if (scope_url(o, err, errlen))
		return -EINVAL;
	/* the ranges now that the metric is known; defaults need the document */
	if (o->warn_s[0] && lp_range_parse(o->warn_s, o->metric == LP_METRIC_RATIO, &r))
		return lp_errf(-EINVAL, err, errlen,
			       "--warning: '%s' is not a range ([@]start:end)", o->warn_s);
	if (o->crit_s[0] && lp_range_parse(o->crit_s, o->metric == LP_METRIC_RATIO, &r))
		return lp_errf(-EINVAL, err, errlen,
			       "--critical: '%s' is not a range ([@]start:end)", o->crit_s);
	return 0;
}
