/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The labels of a series, one row each: its Prometheus name, its
 * OpenTelemetry attribute, its tag in the push sinks and the JSON API, and
 * how its value is found. Every output iterates this table and applies only
 * its own escaping, so adding a label is a row and a getter
 * (tests/unit/test_outputs.c checks every output carries every row).
 */
#ifndef LP_SERIES_LABELS_H
#define LP_SERIES_LABELS_H

#include <stddef.h>

#include "core/collector.h"

enum lp_label_id {
	LP_L_SIDE,
	LP_L_METHOD,
	LP_L_STATUS,
	LP_L_ROUTE,
	LP_L_PORT,
	LP_L_SERVER_ADDRESS,
	LP_L_FAMILY,
	LP_L_SCHEME,
	LP_L_VERSION,
	LP_L_SERVICE,
	LP_L_CGROUP,
	LP_L_K8S_NAMESPACE,
	LP_L_K8S_POD,
	LP_L_K8S_CONTAINER,
	LP_L_K8S_DEPLOYMENT,
	LP_L_K8S_STATEFULSET,
	LP_L_K8S_DAEMONSET,
	LP_L_RPC_SYSTEM,
	LP_L_RPC_SERVICE,
	LP_L_RPC_METHOD,
	LP_L_GRPC_STATUS,
	LP_L_COUNT,
};

#define LP_LBL_SIDE	0x1 /* the side: only where the metric's name does not say it */
#define LP_LBL_NUM	0x2 /* a number where it is one: OTLP and JSON write it as such */
#define LP_LBL_RESOURCE 0x4 /* OTLP: an attribute of the resource (the service, its pod) */

struct lp_label_def {
	enum lp_label_id id;
	const char *prom; /* Prometheus, OpenMetrics, remote write */
	const char *otel; /* OTLP attribute (semantic conventions) */
	const char *tag;  /* Graphite, InfluxDB, DogStatsD tags and the JSON API's keys */
	unsigned flags;	  /* LP_LBL_* */
	/* its value for v (buf: room for a formatted one); NULL: the series has none */
	const char *(*get)(const struct lp_series_view *v, char *buf, size_t len);
};

/* in the order Prometheus writes them */
extern const struct lp_label_def lp_series_labels[LP_L_COUNT];

#define LP_LABEL_BUF 132 /* a number, or a gRPC service taken from a route */

/* every label's value of a series (NULL where it has none) */
struct lp_label_vals {
	const char *v[LP_L_COUNT];
	char buf[LP_L_COUNT][LP_LABEL_BUF];
};

void lp_series_label_values(const struct lp_series_view *v, struct lp_label_vals *out);
/* the row of a Prometheus label name; NULL: not a series label (a sink's, an SLO's) */
const struct lp_label_def *lp_series_label_by_prom(const char *prom);

#endif /* LP_SERIES_LABELS_H */
