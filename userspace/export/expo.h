/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Exposition: the model as Prometheus text 0.0.4, OpenMetrics 1.0 text, or
 * delimited protobuf (io.prometheus.client.MetricFamily, with the fine
 * histogram as a native histogram). Pure functions over a model and a buffer.
 *
 * Layer export/ (CONTRIBUTING.md, "Layout"): everything that turns a model into
 * bytes for a reader that asks — expositions (expo.c walks, writer.h's
 * formats write), the agent's own metrics, JSON and the table, the HTTP
 * server and its auth and TLS. It includes core/ and base/; the push sinks,
 * a layer above, fill struct lp_push_stat (self.h) for it.
 */
#ifndef LP_EXPO_H
#define LP_EXPO_H

#include <stdbool.h>
#include "base/buf.h"
#include "core/collector.h"

struct lp_self; /* export/self.h */

enum lp_format {
	LP_FMT_TEXT = 0,    /* text/plain; version=0.0.4 */
	LP_FMT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
	LP_FMT_PROTOBUF,    /* application/vnd.google.protobuf; proto=...MetricFamily;
			       encoding=delimited */
};

/* what lp_expo_write includes beyond the histograms and counters */
#define LP_EXPO_NATIVE	0x1u /* the native histogram in protobuf (classic buckets always) */
#define LP_EXPO_WINDOWS 0x2u /* per window: the quantile summary of each series, and the
			      * SLO good ratio and burn rate gauges (--window-metrics) */

/*
 * Write the exposition of the model (may be NULL before the first
 * collection: self metrics only; self may be NULL: no process or agent
 * self metrics, as for a push to a Pushgateway). opts: LP_EXPO_* bits.
 * Returns 0 or -ENOMEM.
 */
int lp_expo_write(struct lp_buf *b, enum lp_format f, const struct lp_model *m,
		  const struct lp_self *self, unsigned opts);

/*
 * One part of the same exposition: the model's families
 * (LP_EXPO_PART_SERIES: the same for every scrape of one collection, so a
 * server may keep it), or the agent's own and the format's end
 * (LP_EXPO_PART_SELF: new at every scrape). The two, in that order, are
 * byte for byte what lp_expo_write gives.
 */
/*
 * Would a and b give the same series part? (The same views, in the same
 * order, and the same counters: an idle node's collections do.)
 */
bool lp_expo_series_part_same(const struct lp_model *a, const struct lp_model *b);
#define LP_EXPO_PART_SERIES 0x1u
#define LP_EXPO_PART_SELF   0x2u
int lp_expo_write_part(struct lp_buf *b, enum lp_format f, const struct lp_model *m,
		       const struct lp_self *self, unsigned opts, unsigned part);

/* a label added to every series (remote write's external labels) */
struct lp_expo_label {
	const char *name;
	const char *value;
};

/*
 * The model as a Prometheus remote-write request (snappy-compressed
 * prometheus.WriteRequest): the series a scrape gives, every one with the
 * external labels ext[next] and the model's collection time. opts:
 * LP_EXPO_WINDOWS, LP_EXPO_NATIVE (each histogram also as a native histogram
 * series). 0 or -ENOMEM.
 */
int lp_expo_remote_write(struct lp_buf *b, const struct lp_model *m,
			 const struct lp_expo_label *ext, int next, unsigned opts);

/*
 * The model as an OTLP/HTTP metrics request (protobuf
 * ExportMetricsServiceRequest, cumulative; fmt_otlp.c says how names map):
 * a resource per service with host.name = host. opts: LP_EXPO_NATIVE
 * (histograms as exponential histograms; without it, explicit-bucket
 * histograms of the classic boundaries), LP_EXPO_WINDOWS. 0 or -ENOMEM.
 */
int lp_expo_otlp(struct lp_buf *b, const struct lp_model *m, const char *host, unsigned opts);

#endif /* LP_EXPO_H */
