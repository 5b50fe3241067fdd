/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every name set the outputs share, defined once: methods, sides,
 * quantiles, the kernel's counters, windows. Each writer and sink takes its
 * spelling from here; none keeps a copy.
 */
#ifndef LP_NAMES_H
#define LP_NAMES_H

#include <stddef.h>
#include <linux/types.h>
#include "latprobe.h"

/* "GET" ... ; "_OTHER" (OpenTelemetry's word) for anything else */
const char *lp_method_name(__u8 method);
int lp_parse_method(const char *s, __u8 *method);
/* "server", "client"; "any" for 0 (a filter or SLO that takes both sides) */
const char *lp_side_name(__u8 side);
/* the HTTP version of a series (OpenTelemetry's network.protocol.version): "1.1" or "2" */
const char *lp_protocol_version(const struct lp_key *key);
/*
 * The status label of a series: "404"; "4xx" for a status class (a cgroup
 * over its share of series, LP_KEY_STATUS_CLASS); "other" for a cgroup's own
 * overflow series (LP_KEY_CG_OVERFLOW). buf: at least 8 bytes.
 */
const char *lp_status_label(const struct lp_key *key, char *buf, size_t len);
int lp_parse_side(const char *s, __u8 *side);

/* the quantiles every report carries, and their three spellings */
#define LP_NQUANTILES 4
struct lp_quantile {
	double q;	    /* 0.999 */
	const char *label;  /* "0.999": the Prometheus quantile label, the JSON key */
	const char *word;   /* "p99.9": for people (latprobe check's metrics and text) */
	const char *metric; /* "p999": a part of a metric or field name (Graphite, DogStatsD,
			     * InfluxDB), where a dot would split the name */
};
extern const struct lp_quantile lp_quantiles[LP_NQUANTILES];

/* the kernel's counters (enum lp_counter): the JSON key, the metric (without
 * _total) and its help text */
struct lp_counter_name {
	const char *key;
	const char *metric;
	const char *help;
};
extern const struct lp_counter_name lp_counters[LP_CNT_MAX];

/* a window's label: 60 s -> "1m", 90 s -> "1m30s", 3600 s -> "1h" */
void lp_format_window(char *buf, size_t len, unsigned long long ns);

#endif
