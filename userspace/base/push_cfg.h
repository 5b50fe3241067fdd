/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The configuration of one push sink, as lp_push_parse (push.h) fills it from
 * a --push URL: plain data at the bottom of the layers, so the command-line
 * configuration (cli.h) can hold the parsed sinks — secrets read once, at
 * start-up, before privileges are dropped — without the push machinery.
 */
#ifndef LP_PUSH_CFG_H
#define LP_PUSH_CFG_H

#include <stdbool.h>
#include <linux/types.h>

enum lp_push_kind {
	LP_PUSH_PUSHGATEWAY,
	LP_PUSH_GRAPHITE,
	LP_PUSH_INFLUXDB,  /* 1.x: /write?db= */
	LP_PUSH_INFLUXDB2, /* 2.x: /api/v2/write?org=&bucket= with a token */
	LP_PUSH_DOGSTATSD, /* UDP, or a unix datagram socket */
};

struct lp_push_cfg {
	enum lp_push_kind kind;
	char name[128];	    /* the sink label of the self metrics: the URL without secrets or query */
	char url[2048];	    /* HTTP sinks: the full URL requests go to */
	char host[256];	    /* graphite, dogstatsd */
	char port[8];
	char unix_path[108]; /* dogstatsd over a unix socket */
	__u64 interval_ns;   /* default 15 s */
	__u64 timeout_ns;    /* default 5 s */
	unsigned queue;	     /* unsent snapshots kept (default 8) */
	unsigned max_size;   /* dogstatsd datagram bytes (default 1432) */
	bool tags;	     /* graphite: 1.1 tags (default) or dotted names */
	char prefix[128];    /* graphite and dogstatsd metric prefix (default "latprobe") */
	char job[128];	     /* pushgateway grouping key */
	char instance[256];
	char ca_file[512];   /* TLS: CA bundle (default: the system's) */
	char userpwd[512];   /* pushgateway basic auth "user:password", from auth_file= */
	char token[512];     /* influxdb2, from token_file= or $LATPROBE_INFLUX_TOKEN */
};

#endif /* LP_PUSH_CFG_H */
