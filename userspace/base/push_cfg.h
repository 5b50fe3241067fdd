/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The configuration of one push sink, as lp_push_parse (sinks/sink.h) fills
 * it from a --push URL: plain data at the bottom of the layers, so the
 * agent's configuration (base/config.h) can hold the parsed sinks — secrets
 * read once, at start-up, before privileges are dropped — without the push
 * machinery. What every sink has is named here; what one sink alone reads
 * lives in opts, as that sink's own struct (sinks/<name>.c).
 */
#ifndef LP_PUSH_CFG_H
#define LP_PUSH_CFG_H

#include <stdbool.h>
#include <linux/types.h>

struct lp_sink_ops; /* sinks/sink.h: which sink, and how it works */

#define LP_SINK_OPTS 1024 /* bytes of a sink's own options */

struct lp_push_cfg {
	const struct lp_sink_ops *ops;
	char name[128]; /* the sink label of the self metrics: the URL without secrets or query */
	char url[2048]; /* HTTP sinks: the full URL requests go to */
	char host[256]; /* TCP and UDP sinks */
	char port[8];
	char unix_path[108];   /* a unix datagram socket instead of host:port */
	__u64 interval_ns;     /* default 15 s */
	__u64 timeout_ns;      /* default 5 s */
	unsigned queue;	       /* unsent snapshots kept (default 8) */
	unsigned max_datagram; /* datagram sinks: bytes per datagram */
	char ca_file[512];     /* TLS: CA bundle (default: the system's) */
	char userpwd[512];     /* basic auth "user:password", from auth_file= */
	char token[512];       /* a token, from token_file= (or the sink's own source) */
	union {
		unsigned char bytes[LP_SINK_OPTS];
		__u64 align;
	} opts; /* the sink's own options: a struct of its file's */
};

#endif /* LP_PUSH_CFG_H */
