/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the exposition: the walker (expo.c) describes every metric family
 * once, as begin / sample, histogram or summary / end; a writer per format
 * puts it into bytes: fmt_text.c (Prometheus text 0.0.4 and OpenMetrics
 * 1.0), fmt_pb.c (delimited protobuf). self.c walks the agent's own
 * metrics. Nothing outside export/ includes this header.
 */
#ifndef LP_WRITER_H
#define LP_WRITER_H

#include <stdbool.h>
#include "base/buf.h"
#include "base/config.h"
#include "base/names.h"
#include "core/collector.h"
#include "prometheus.pb-c.h"

struct wr_block;
struct rw_state;
struct ot_state;
struct lp_expo_label;
enum ftype { F_COUNTER, F_GAUGE, F_HISTOGRAM, F_INFO, F_SUMMARY };

struct family {
	const char *name; /* without _total for counters */
	const char *help;
	enum ftype type;
	const char *unit; /* OpenMetrics UNIT, or NULL */
};

struct label {
	const char *name;
	const char *value;
};

#define MAX_LABELS 24

struct hist {
	const struct lp_config *cfg;
	const struct lp_fine_table *ft;
	const struct lp_snap *snap;
	double created;
};

struct summ {
	const struct lp_quantile *q; /* what each value is the quantile of */
	const double *values;	     /* NaN: left out */
	unsigned n;
	unsigned long long count;
	double sum;
	double created;
};

struct writer {
	const struct writer_ops *ops;
	struct lp_buf *b;
	const struct family *fam;
	bool header_done;
	bool native;
	bool windows; /* LP_EXPO_WINDOWS */
	/* text: the label set being written, and the le values of the classic buckets */
	struct lp_buf scratch;
	char le[LP_CLASSIC_MAX][24];
	/* protobuf: one family's messages, from an arena freed whole at its end */
	Io__Prometheus__Client__Metric **metrics;
	size_t nmetrics, capmetrics;
	struct wr_block *blocks;
	/* remote write: its series, from an arena freed whole at its end (fmt_rw.c) */
	struct rw_state *rw;
	/* OTLP: its resources, metrics and points, from the arena too (fmt_otlp.c) */
	struct ot_state *ot;
	int err;
};

struct writer_ops {
	void (*sample)(struct writer *s, const struct label *l, int nl, double v, double created);
	void (*histogram)(struct writer *s, const struct label *l, int nl, const struct hist *h);
	void (*summary)(struct writer *s, const struct label *l, int nl, const struct summ *sm);
	void (*end_family)(struct writer *s);
	void (*end)(struct writer *s);
};

/* the formats */
extern const struct writer_ops lp_text_ops, lp_om_ops, lp_pb_ops, lp_rw_ops, lp_otlp_ops;
/* the protobuf writers' arena (arena.c): zeroed memory, or NULL with s->err set */
void *lp_wr_alloc(struct writer *s, size_t n);
/* a copy of v in the arena (label values may live on the walker's stack), or NULL */
char *lp_wr_strdup(struct writer *s, const char *v);
/* every block back, at the end of a family (fmt_pb.c) or a request (fmt_rw.c) */
void lp_wr_release(struct writer *s);
/* remote write: its state (external labels, the timestamp of every sample), and its end */
int lp_rw_begin(struct writer *s, const struct lp_expo_label *ext, int next, double wall);
void lp_rw_finish(struct writer *s);
/* OTLP: its state (host.name, the collection's time, the agent's start), and its end */
/* wall: the collection's unix time; start_wall: the agent's start (every counter's start) */
int lp_otlp_begin(struct writer *s, const char *host, double wall, double start_wall);
void lp_otlp_finish(struct writer *s);

/* the walker's steps, for every family */
static inline void begin(struct writer *s, const struct family *f)
{
	s->fam = f;
	s->header_done = false;
}

static inline void end_family(struct writer *s)
{
	s->ops->end_family(s);
}

static inline void sample(struct writer *s, const struct label *l, int nl, double v)
{
	s->ops->sample(s, l, nl, v, 0);
}

#endif
