/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The push machinery, the same for every sink (sinks/sink.h): each sink
 * has its own worker thread, schedule, timeout, capped exponential backoff
 * with jitter and a bounded queue of unsent snapshots (models; the oldest is
 * dropped first), and one of three transports (HTTP, a TCP stream,
 * datagrams). Nothing that serves scrapes or collects ever waits on a sink.
 */
#ifndef LP_PUSH_H
#define LP_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "base/buf.h"
#include "core/collector.h"
#include "export/self.h" /* struct lp_push_stat */
#include "base/push_cfg.h"

/* ---- workers ---- */

struct lp_pushers;

/* Start one worker per sink; they take the collector's latest model on their own schedule. */
struct lp_pushers *lp_pushers__start(const struct lp_push_cfg *cfgs, unsigned n,
				     struct lp_collector *coll, char *err, size_t errlen);
/* Stop the workers (a push in flight is aborted) and free them. */
void lp_pushers__stop(struct lp_pushers *p);
/*
 * A reload: the figures of the sinks of the same name in st[n] (the ones
 * the group replaced) go on in p's, so no counter goes back. Before p's
 * figures are read by anyone.
 */
void lp_pushers__adopt(struct lp_pushers *p, const struct lp_push_stat *st, unsigned n);
/* A copy of each sink's figures; returns the number of sinks. Thread-safe. */
unsigned lp_pushers__stats(struct lp_pushers *p, struct lp_push_stat *out, unsigned max);

/* ---- the datagram transport ---- */

/*
 * Cut '\n'-separated lines into datagrams of at most max bytes, whole lines
 * only: fills off[]/len[] (up to cap) and returns the number of datagrams; a
 * single line longer than max is skipped and counted in *skipped.
 */
size_t lp_pack_datagrams(const char *text, size_t n, size_t max, size_t *off, size_t *len,
			 size_t cap, size_t *skipped);

#endif /* LP_PUSH_H */
