/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pull endpoint (libmicrohttpd): /metrics, /, /-/healthy, /-/ready,
 * /api/v1/series. Every request reads the collector's latest immutable model:
 * no request touches the kernel or waits for a collection, and a collection
 * never waits for a request.
 */
#ifndef LP_SERVER_H
#define LP_SERVER_H

#include <stddef.h>

struct lp_server;
struct lp_collector;
struct lp_config;
struct lp_webconfig;
struct lp_push_stat;

/*
 * Start one listener per address; wc may be NULL (no TLS, no auth);
 * push_stats may be NULL (no push sinks: no push self metrics), else it
 * fills out[] with the sinks' figures at each scrape.
 */
int lp_server__start(struct lp_server **out, const struct lp_config *cfg,
		     struct lp_collector *coll, const struct lp_webconfig *wc,
		     unsigned (*push_stats)(void *ctx, struct lp_push_stat *out, unsigned max),
		     void *push_ctx, char *err, size_t errlen);
void lp_server__stop(struct lp_server *s);

#endif
