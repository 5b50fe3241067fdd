/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Exposition: the model as Prometheus text 0.0.4, OpenMetrics 1.0 text, or
 * delimited protobuf (io.prometheus.client.MetricFamily, with the fine
 * histogram as a native histogram). Pure functions over a model and a buffer.
 */
#ifndef LP_EXPO_H
#define LP_EXPO_H

#include <stdbool.h>
#include "base/buf.h"
#include "core/collector.h"

/*
 * A push sink's figures, for the self metrics: defined here, where they are
 * written out; the sinks (a layer above) fill them.
 */
struct lp_push_stat {
	char name[128];
	unsigned long long ok, failed, dropped;
	unsigned long long skipped; /* DogStatsD lines longer than max_size, never sent */
	double last_success;	    /* unix seconds, 0 never */
	double last_duration_s;
};

enum lp_format {
	LP_FMT_TEXT = 0,   /* text/plain; version=0.0.4 */
	LP_FMT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
	LP_FMT_PROTOBUF,   /* application/vnd.google.protobuf; proto=...MetricFamily; encoding=delimited */
};

/* What the process knows about itself at scrape time. */
struct lp_self {
	double start_time;	/* unix seconds */
	double cpu_seconds;
	double resident_bytes;
	double virtual_bytes;
	double open_fds;
	double max_fds;
	double last_scrape_s; /* the previous scrape's duration */
	unsigned long long scrapes;
	unsigned long long http_errors; /* requests refused (4xx/5xx) */
	unsigned long long scrape_failures; /* bodies not built (out of memory): 500 */
	unsigned long long slow_closed;	    /* connections closed: request head too slow */
	unsigned long long auth_limited, auth_busy; /* logins refused unchecked: 429, 503 */
	unsigned max_series;
	const struct lp_push_stat *push; /* the push sinks' figures */
	unsigned npush;
};

/*
 * Write the exposition of the model (may be NULL before the first
 * collection: self metrics only; self may be NULL: no process or agent
 * self metrics, as for a push to a Pushgateway). native: include the native histogram in
 * protobuf (classic buckets are always there). Returns 0 or -ENOMEM.
 */
int lp_expo_write(struct lp_buf *b, enum lp_format f, const struct lp_model *m,
		  const struct lp_self *self, bool native);

/* Read the process's own CPU, memory and fd figures from /proc/self. */
void lp_self_read(struct lp_self *s);

#endif /* LP_EXPO_H */
