/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The collector: every interval, read the series that changed (summed over
 * CPUs; all of them now and then), keep each one's cumulative snapshots as
 * far back as a window reaches, and publish an immutable model: totals,
 * rates, window quantiles and SLO state per series. A series whose figures
 * did not change keeps its view from one model to the next. Every reporter
 * and exporter reads a model; none of them touches the kernel.
 *
 * Layer core/ (CONTRIBUTING.md, "Layout"): the data path from the kernel's maps to
 * the model — probe, hist, collector, labels, privs. It includes base/ and
 * include/ only; export/, sinks/ and app/ read what it publishes.
 */
#ifndef LP_COLLECTOR_H
#define LP_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "base/config.h"
#include "base/names.h"
#include "core/hist.h"
#include "core/probe.h"

/* Where series come from: the probe, or a fake in the unit tests. */
struct lp_source {
	int (*read)(void *ctx, lp_series_cb cb, void *cbctx);
	int (*counters)(void *ctx, __u64 out[LP_CNT_MAX]);
	/* delete a series from the kernel, calling cb with its last value; may be NULL */
	int (*retire)(void *ctx, const struct lp_key *key, lp_series_cb cb, void *cbctx);
	/* every cgroup's series accounting (struct lp_cg); may be NULL */
	int (*cgroups)(void *ctx, lp_cgroup_cb cb, void *cbctx);
	/* requests of each --exclude-path: out[2 * i + (client side)]; may be NULL */
	int (*excluded)(void *ctx, __u64 *out, unsigned n);
	/* the learned gRPC methods' paths into lp_route_learned's table; may be NULL */
	int (*grpc_methods)(void *ctx);
	/* the IPv6 addresses clients called, into lp_peer6_text's table; may be NULL */
	int (*peers6)(void *ctx);
	/* the hosts clients called, into lp_host_text's table; may be NULL */
	int (*hosts)(void *ctx);
	void *ctx;
	__u32 nfine; /* fine slots per value */
};

struct lp_window_view {
	__u64 window_ns; /* configured */
	__u64 count;
	__u64 sum_ns;
	double q[LP_NQUANTILES]; /* seconds; NaN without observations */
	__u64 *slo_good;	 /* [cfg->nslos] */
	__u64 *slo_total;	 /* [cfg->nslos] */
	double *slo_ratio;	 /* [cfg->nslos]: good / total; NaN without requests */
	double *slo_burn;	 /* [cfg->nslos]: (1 - ratio) / (1 - objective); NaN likewise */
};

/*
 * One series as a model shows it. Immutable once published and reference
 * counted: a series whose view would not change (no samples, no window's
 * start moved past its traffic, the same names) keeps the same view from one
 * model to the next, so an idle node's collection builds almost nothing.
 */
struct lp_k8s;

struct lp_series_view {
	int refs;
	struct lp_key key;
	char *cgroup;	       /* "/system.slice/x.service"; "" if unknown */
	char *service;	       /* readable service name */
	const char *route;     /* http_route label (the configuration's); NULL without routes */
	struct lp_k8s *k8s;    /* its pod (core/k8s.h, a reference); NULL: not on Kubernetes */
	struct lp_snap *total; /* cumulative since attach (a reference) */
	double rate;	       /* requests/s over the last interval */
	double created;	       /* unix time the series was first seen (OpenMetrics _created) */
	double total_q[LP_NQUANTILES];
	/*
	 * Sized to the configuration, in the view's own allocation (a view is
	 * ~300 bytes with two windows and one SLO instead of ~900 with every
	 * array at its maximum).
	 */
	__u64 *slo_good;	    /* [cfg->nslos], cumulative */
	double *slo_ratio;	    /* [cfg->nslos], cumulative good / total->count; NaN: none */
	bool *slo_applies;	    /* [cfg->nslos] */
	struct lp_window_view *win; /* [cfg->nwindows] */
};

/* One SLO over one window, summed over every selected series it applies to. */
struct lp_slo_window {
	__u64 good;
	__u64 total;
	double ratio, burn; /* as in lp_window_view */
	__u64 sum_ns;
	double q[LP_NQUANTILES]; /* of the merged distribution; NaN without requests */
};

/* A cgroup that went over its share of series (--max-series-per-cgroup). */
struct lp_cg_view {
	__u64 cgroup_id;
	char *cgroup;  /* its path ("id:N" when unknown) */
	char *service; /* its readable name */
	__u64 series, folded_class, folded_over;
};

/*
 * A configuration that a reload replaced stays alive while a model built
 * under it does (scrapes and pushes in flight): a reference count, and
 * what frees it. lp_collector__reconfigure takes one.
 */
struct lp_cfg_ref {
	int refs;
	const struct lp_config *cfg;
	void (*release)(void *ctx); /* called once no one refers to cfg */
	void *ctx;
};

/* the configuration reloads so far (SIGHUP), as the self metrics say them */
struct lp_reloads {
	__u64 ok, failed;
	bool last_ok;	    /* the last reload applied (true before any) */
	double last_ok_wall; /* unix time the running configuration was applied */
};

struct lp_model {
	int refs;
	const struct lp_config *cfg;
	struct lp_cfg_ref *cfg_ref; /* NULL: the start-up configuration, never freed */
	struct lp_reloads reloads;
	const struct lp_fine_table *ft;
	__u64 seq;	    /* collections so far */
	double wall;	    /* unix time of the collection */
	double uptime_s;    /* since attach */
	double start_wall;  /* unix time of the attach: the same in every model */
	double collect_s;   /* time the collection took */
	__u64 read_errors;  /* failed map reads so far */
	__u64 counters[LP_CNT_MAX];
	__u64 excluded[2 * LP_EXCLUDES_MAX]; /* by --exclude-path index * 2 + (client side) */
	struct lp_cg_view *cgs; /* cgroups that folded samples (over their share) */
	__u64 retired;		/* series retired from the kernel map now (--retire-after) */
	__u64 retirements, returns; /* so far: series retired, and retired series back */
	__u64 forgotten;	    /* so far: retired series dropped from user space */
	size_t ncgs;
	size_t nseries;	    /* after the configured filters */
	size_t nseries_all; /* in the kernel map */
	struct lp_series_view **series; /* references, in exposition order */
	struct lp_slo_window slo_win[LP_MAX_SLOS][LP_MAX_WINDOWS]; /* [slo][window] */
	/* seconds each window covers: shorter while the agent is younger than the window */
	double span_s[LP_MAX_WINDOWS];
	__u64 series_read; /* series values read from the kernel in this collection */
};

struct lp_collector;
struct lp_labels;

/* labels may be NULL (no service names); start_ns is the attach time (CLOCK_MONOTONIC) */
struct lp_collector *lp_collector__new(const struct lp_config *cfg, const struct lp_fine_table *ft,
				       const struct lp_source *src, struct lp_labels *labels,
				       __u64 start_ns);
void lp_collector__free(struct lp_collector *c);
/* Read the source at now_ns (CLOCK_MONOTONIC) and publish a new model. */
int lp_collector__tick(struct lp_collector *c, __u64 now_ns);
/*
 * A reload (main thread, between ticks): from the next tick on the series
 * are judged, filtered and named under ref->cfg. An SLO keeps its totals
 * and windows when the new configuration has one of the same name and
 * definition; a new one starts from the totals the agent holds, its windows
 * empty. Every view is built anew (they point into their configuration).
 * Takes ref's first reference. 0 or -ENOMEM (nothing changed then).
 */
int lp_collector__reconfigure(struct lp_collector *c, struct lp_cfg_ref *ref);
/* A reload that failed (the running configuration kept) or succeeded, at unix time wall. */
void lp_collector__note_reload(struct lp_collector *c, bool ok, double wall);

/*
 * Snapshots the series' histories hold for their windows, summed over the
 * series (the collector's own thread only): what memory per series grows
 * with; bounded per active series whatever the interval.
 */
size_t lp_collector__window_snapshots(const struct lp_collector *c);
/* ... and the bytes they take (entries, whole snapshots, differences) */
size_t lp_collector__window_bytes(const struct lp_collector *c);

/* The latest model (a reference; NULL before the first tick). Thread-safe. */
struct lp_model *lp_collector__model(struct lp_collector *c);
void lp_model_put(struct lp_model *m);
/* another reference to m (NULL: NULL) */
struct lp_model *lp_model_get(struct lp_model *m);
/* a zeroed view (one reference) with its arrays sized to cfg; NULL: out of memory */
struct lp_series_view *lp_view_new(const struct lp_config *cfg);
/* drop a reference; the last frees the view, its names and its snapshot */
void lp_view_put(struct lp_series_view *v);
/* m->series = n new zeroed views (the unit tests' hand-made models). -ENOMEM. */
int lp_model_alloc_series(struct lp_model *m, size_t n);

/* does the series pass the configured filters? */
bool lp_series_selected(const struct lp_config *cfg, const struct lp_key *key);
/*
 * An SLO's good ratio and error-budget burn rate from its counts: the one
 * place they are computed (the collector fills every view and window with
 * them; outputs read them). NaN without requests; the burn rate also NaN
 * for an objective of 1 (no budget to burn).
 */
void lp_slo_figures(__u64 good, __u64 total, double objective, double *ratio, double *burn);
/* does the SLO apply to the series? */
bool lp_slo_applies(const struct lp_slo *slo, const struct lp_key *key);
/*
 * Is the series made of failed gRPC calls (a status the server answers for:
 * UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
 * DATA_LOSS)? None of its calls is good for an SLO, however fast.
 */
bool lp_grpc_failed(const struct lp_key *key);

#endif /* LP_COLLECTOR_H */
