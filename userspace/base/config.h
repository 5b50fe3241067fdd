/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's configuration: plain data, at the bottom of the layers, so
 * every module can read it without the command-line parser (app/cli.h,
 * which fills it). Limits live here too.
 *
 * Layers (CONTRIBUTING.md, "Layout"): base/ < core/ < export/ < sinks/ < app/. base/
 * is plain data and helpers; it includes only include/ (the kernel
 * contract) and the C library. tests/check_layers.py enforces the order.
 */
#ifndef LP_CONFIG_H
#define LP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <sys/socket.h>
#include "latprobe.h"
#include "base/push_cfg.h"
#include "base/routes.h"

#define LP_MAX_SLOS	      8
#define LP_MAX_PUSH	      8
#define LP_MAX_DURATION_NS    (366ULL * 86400 * 1000000000ULL) /* --duration */
#define LP_MAX_WINDOWS	      4
#define LP_MAX_PORTS	      16
#define LP_SLO_NAME_MAX	      64
#define LP_DEFAULT_MAX_SERIES 16384
#define LP_MAX_LISTEN	      4
#define LP_DEFAULT_PORT	      18464
#define LP_CAP_LEVEL_AUTO     0xffffffffu

/* where service_name comes from (--service-name-from), tried in the order given */
enum lp_svc_source {
	LP_SVC_CONTAINER, /* a pod's container */
	LP_SVC_WORKLOAD,  /* a pod's Deployment, StatefulSet or DaemonSet, as its name shows it */
	LP_SVC_POD,	  /* a pod's name */
	LP_SVC_UNIT,	  /* the cgroup's systemd unit, or its container ("docker:<id>") */
	LP_SVC_PROCESS,	  /* the process listening on the server's port (server side) */
	LP_SVC_SOURCES,
};

/*
 * A service level objective: "objective of the requests that match finish
 * within threshold". Evaluated per series from the exact classic counters.
 */
#define LP_SLO_RPC_GRPC 1 /* rpc=grpc: gRPC calls only */
#define LP_SLO_RPC_HTTP 2 /* rpc=http: requests that are not gRPC calls */

struct lp_slo {
	char name[LP_SLO_NAME_MAX];
	__u8 method; /* enum lp_method, 0: any */
	__u8 side;   /* enum lp_side, 0: any */
	__u16 port;  /* 0: any */
	__u16 route; /* LP_ROUTE_* id, 0: any (resolved from route_label once routes are known) */
	__u8 rpc;    /* LP_SLO_RPC_*: gRPC calls only, plain HTTP only, or 0: any */
	char route_label[LP_ROUTE_LEN + 1]; /* route=, as given; "" for any */
	__u64 threshold_ns;
	double objective;  /* 0 < objective < 1 */
	__u32 classic_idx; /* index of threshold_ns among the classic boundaries */
};

struct lp_config {
	__u64 interval_ns;
	__u64 duration_ns; /* 0: run until signalled */
	__u64 windows_ns[LP_MAX_WINDOWS];
	unsigned nwindows;
	unsigned schema;
	__u32 max_series;
	/* series a cgroup may create before its new statuses fold (0: no cap); the
	 * default is a quarter of max_series (lp_cli_parse sets it) */
	__u32 max_series_per_cgroup;
	bool max_series_per_cgroup_set;
	/*
	 * --cgroup-cap-level: the share is a tenant's, the cgroup that many
	 * levels below the scope's (0: every cgroup its own share);
	 * LP_CAP_LEVEL_AUTO: 1 with --cgroup (the scope's children are its
	 * tenants), 0 at the root (whose children are slices of many services)
	 */
	__u32 cgroup_cap_level;
	/* --retire-after: a series unchanged this long leaves the kernel map (0: never) */
	__u64 retire_ns;
	__u64 classic_ns[LP_CLASSIC_MAX]; /* sorted, unique, SLO thresholds included */
	unsigned nclassic;
	struct lp_slo slos[LP_MAX_SLOS];
	unsigned nslos;
	const char *cgroup; /* NULL: the cgroup v2 root */
	/* the --cgroup directory's id and depth below the root (0: the root), set once resolved */
	__u64 scope_cgid;
	__u32 scope_level;
	/* --route, --routes-file, --exclude-path (none: no http_route label, no lookups) */
	struct lp_routes routes;
	/* display/export filters; 0 = any */
	__u16 ports[LP_MAX_PORTS];
	unsigned nports;
	__u8 method;
	__u8 side;
	/* the HTTP endpoint; none when nlisten is 0 */
	struct sockaddr_storage listen[LP_MAX_LISTEN];
	socklen_t listen_len[LP_MAX_LISTEN];
	unsigned nlisten;
	const char *web_config;
	const char *push[LP_MAX_PUSH]; /* --push URLs as given */
	/* ... parsed once, here, secret files read before privileges are dropped */
	struct lp_push_cfg push_cfg[LP_MAX_PUSH];
	unsigned npush;
	const char *user; /* --user: switch to this user after attaching */
	const char *k8s_root; /* --k8s-root: where the kubelet's /var/log is; NULL: "/"; "": off */
	/* --service-name-from: the sources of service_name in order; else the cgroup's name */
	__u8 service_from[LP_SVC_SOURCES];
	unsigned nservice_from; /* 0: the default order (container, workload, pod, unit, process) */
	const char *config_file; /* --config: SIGHUP re-reads it */
	bool watch_config;	 /* --watch-config: and so does a change of the file */
	/*
	 * A reload's parse: a --push URL the running configuration has keeps its
	 * parsed sink (secret files were read at start-up, before privileges
	 * were dropped); NULL otherwise
	 */
	const struct lp_config *reuse;
	bool json;
	bool ttfb; /* --ttfb: time to first byte, a histogram family of its own */
	__u8 client_addr; /* --client-address (enum lp_client_addr): client series by the
			   * server called, its address or its Host */
	/* --grpc-methods: gRPC methods the kernel learns from HTTP/2 paths at most (0: none) */
	__u32 grpc_methods;
	/* HTTPS through the TLS library's uprobes (--no-tls: off) */
	bool tls;
	__u32 tls_sessions; /* --tls-sessions: TLS sessions tracked at once */
	/* --tls-sessions-per-process: of those, one process's (default a quarter; 0: no cap) */
	__u32 tls_sessions_per_process;
	bool tls_sessions_per_process_set;
	__u64 tls_scan_ns;  /* --tls-scan: how often new libraries are looked for */
	/* --window-metrics: quantile summaries and SLO ratio/burn gauges per window in
	 * /metrics (the histograms and SLO counters answer the same in PromQL) */
	bool window_metrics;
	/* tests only (LATPROBE_TEST_SPILL_EVERY): one new series in N is treated as not
	 * allocatable, to drive the spill ring on demand; 0 otherwise */
	unsigned spill_test_every;
	bool hist;
	bool quiet;
	bool verbose;
};

/* the defaults every run starts from (lp_cli_parse then applies the flags) */
void lp_config_defaults(struct lp_config *cfg);

/* OpenTelemetry HTTP duration boundaries, seconds: 0.005 ... 10 */
#define LP_DEFAULT_BOUNDS 19 /* 100us..2.5ms, then OpenTelemetry's 5ms..10s */
#define LP_OTEL_FIRST	  5  /* lp_default_bounds_ns[LP_OTEL_FIRST..]: OpenTelemetry's */
extern const __u64 lp_default_bounds_ns[LP_DEFAULT_BOUNDS];

#endif
