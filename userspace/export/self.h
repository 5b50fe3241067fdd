/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The agent's own figures: read at scrape time, written as its self metrics. */
#ifndef LP_SELF_H
#define LP_SELF_H

#include <linux/types.h>

struct lp_model;
struct writer; /* export/writer.h */

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

/* What the process knows about itself at scrape time. */
struct lp_self {
	double start_time; /* unix seconds */
	double cpu_seconds;
	double resident_bytes;
	double virtual_bytes;
	double open_fds;
	double max_fds;
	double last_scrape_s; /* the previous scrape's duration */
	unsigned long long scrapes;
	unsigned long long scrape_cache_hits; /* gzip scrapes whose series part was cached */
	unsigned long long http_errors;		    /* requests refused (4xx/5xx) */
	unsigned long long scrape_failures;	    /* bodies not built (out of memory): 500 */
	unsigned long long slow_closed;		    /* connections closed: request head too slow */
	unsigned long long auth_limited, auth_busy; /* logins refused unchecked: 429, 503 */
	unsigned max_series;
	const struct lp_push_stat *push; /* the push sinks' figures */
	unsigned npush;
};

/* Read the process's own CPU, memory and fd figures from /proc/self. */
void lp_self_read(struct lp_self *s);
/* the agent's own metrics (build info, process_*, scrapes, push sinks), for the walker */
void lp_emit_self(struct writer *s, const struct lp_model *m, const struct lp_self *self);

#endif
