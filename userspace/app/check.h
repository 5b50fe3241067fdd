/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `latprobe check`: a monitoring plugin (Nagios, Icinga, Naemon, Zabbix)
 * that asks a running agent through its JSON API whether an SLO holds.
 * Follows the Monitoring Plugins development guidelines: one status line with
 * perfdata, exit 0 OK / 1 WARNING / 2 CRITICAL / 3 UNKNOWN, -w/-c ranges,
 * -t timeout. The judging is pure (a JSON document in, a line and a state
 * out) so the tables in the unit tests cover it; only lp_check_main talks
 * HTTP (libcurl).
 */
#ifndef LP_CHECK_H
#define LP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

enum lp_state {
	LP_STATE_OK = 0,
	LP_STATE_WARNING = 1,
	LP_STATE_CRITICAL = 2,
	LP_STATE_UNKNOWN = 3,
};

/*
 * A threshold range of the guidelines: "[@]start:end", start defaults to 0,
 * "~" is minus infinity, an empty end is infinity; alert when the value is
 * outside [start, end], or inside it with '@'.
 */
struct lp_range {
	bool set;
	bool inside; /* '@' */
	double start, end;
	char text[40]; /* as printed in perfdata */
};

/*
 * Parse a range. floor: a bare number N means "N:" (alert below N) — for
 * ratios, where a value above its threshold is never a problem. -EINVAL on
 * garbage.
 */
int lp_range_parse(const char *s, bool floor, struct lp_range *r);
bool lp_range_alert(const struct lp_range *r, double v);

/* what -w/-c judge */
/* --metric names: good_ratio, burn_rate, then the quantiles by their word ("p99.9"); NULL past the last */
const char *lp_check_metric_name(unsigned m);

enum lp_check_metric {
	LP_METRIC_RATIO, /* good_ratio, the default */
	LP_METRIC_BURN,	 /* burn_rate: (1 - ratio) / (1 - objective) */
	LP_METRIC_P50,
	LP_METRIC_P90,
	LP_METRIC_P99,
	LP_METRIC_P999,
};

struct lp_check_opts {
	char url[1024];	     /* the agent's JSON API */
	char slo[64];	     /* "" : the agent's only SLO */
	__u64 window_ns;     /* 0: the agent's longest window */
	enum lp_check_metric metric;
	char warn_s[40], crit_s[40]; /* as given ("": none); parsed once the metric is known */
	double timeout_s;
	enum lp_state empty_state; /* no requests in the window */
	char zabbix[32];	   /* "": plugin output; else one value or "discovery" */
	bool done;		   /* --help or --version was printed: nothing more to do */
	char userpwd[512];	   /* --auth-file */
	char ca_file[512];
	/*
	 * --namespace, --pod ("": any): the SLO over that pod's or namespace's
	 * series alone, summed from /api/v1/series (good_ratio, burn_rate)
	 */
	char ns[256], pod[256];
};

/*
 * Parse the arguments after "check". Returns 0 (o->done when --help or
 * --version was printed to out), or -EINVAL with a message naming the flag
 * in err.
 */
int lp_check_parse_args(int argc, char **argv, struct lp_check_opts *o, FILE *out, char *err,
			size_t errlen);

/*
 * Judge the agent's JSON document: writes the plugin's status line with
 * perfdata (no newline) to out and returns the state. Never fails: a
 * document that is not the agent's gives UNKNOWN with the reason.
 */
enum lp_state lp_check_eval(const char *doc, const struct lp_check_opts *o, char *out,
			    size_t len);

/*
 * Zabbix mode: one value of the SLO ("good_ratio", "burn_rate", "good",
 * "total", "met", "objective", "threshold", "p50", "p90", "p99", "p99.9") or
 * the low-level discovery array ("discovery"). Returns 0 with the value in
 * out, or -EINVAL with the reason in out (Zabbix marks the item unsupported).
 */
int lp_check_zabbix(const char *doc, const struct lp_check_opts *o, char *out, size_t len);

/* `latprobe check ...`: argv[0] is "check"; returns the exit code */
int lp_check_main(int argc, char **argv);

#endif /* LP_CHECK_H */
