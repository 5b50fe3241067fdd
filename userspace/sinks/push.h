/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Push sinks: Prometheus Pushgateway, Graphite plaintext, InfluxDB line
 * protocol (1.x and 2.x), DogStatsD. Each sink has its own worker thread,
 * schedule, timeout, capped exponential backoff with jitter and a bounded
 * queue of unsent snapshots (models; the oldest is dropped first). Nothing
 * that serves scrapes or collects ever waits on a sink.
 *
 * The wire encoders (lp_enc_*) are pure functions over a model and a buffer;
 * sockets, libcurl and timers live in push.c.
 */
#ifndef LP_PUSH_H
#define LP_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "base/buf.h"
#include "core/collector.h"
#include "export/expo.h" /* struct lp_push_stat */
#include "base/push_cfg.h"


/*
 * Parse one --push value into cfg (defaults filled in; instance defaults to
 * hostname). Reads auth_file= / token_file= here, at start-up. Returns 0, or
 * -EINVAL with a message naming the value in err.
 */
int lp_push_parse(const char *spec, const char *hostname, struct lp_push_cfg *cfg, char *err,
		  size_t errlen);


/* ---- encoders: pure, one model in, one buffer out ---- */

/* Pushgateway: the text exposition of the model, histograms included. */
int lp_enc_pushgateway(struct lp_buf *b, const struct lp_model *m);
/* Graphite plaintext "name[;tag=value...] value unix_seconds\n" lines. */
int lp_enc_graphite(struct lp_buf *b, const struct lp_model *m, const struct lp_push_cfg *cfg);
/* InfluxDB line protocol with nanosecond timestamps. */
int lp_enc_influx(struct lp_buf *b, const struct lp_model *m);
/*
 * DogStatsD lines "name:value|type|#tag:value,..." ('\n'-separated). Counts
 * are counters of the increase since prev (the model last sent; NULL: since
 * start), everything else gauges.
 */
int lp_enc_dogstatsd(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		     const struct lp_push_cfg *cfg);
/*
 * Cut '\n'-separated lines into datagrams of at most max bytes, whole lines
 * only: fills off[]/len[] (up to cap) and returns the number of datagrams; a
 * single line longer than max is skipped and counted in *skipped.
 */
size_t lp_pack_datagrams(const char *text, size_t n, size_t max, size_t *off, size_t *len,
			 size_t cap, size_t *skipped);

/* ---- workers ---- */

struct lp_pushers;

/* Start one worker per sink; they take the collector's latest model on their own schedule. */
struct lp_pushers *lp_pushers__start(const struct lp_push_cfg *cfgs, unsigned n,
				     struct lp_collector *coll, char *err, size_t errlen);
/* Stop the workers (a push in flight is aborted) and free them. */
void lp_pushers__stop(struct lp_pushers *p);
/* A copy of each sink's figures; returns the number of sinks. Thread-safe. */
unsigned lp_pushers__stats(struct lp_pushers *p, struct lp_push_stat *out, unsigned max);

#endif /* LP_PUSH_H */
