/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The collector's insides, shared by its files only: collector.c (reading
 * the kernel's series each tick, retirement, the snapshot ring), views.c
 * (each series' view and the SLO windows of a tick's model) and model.c
 * (views and models: allocation and references). Nothing else includes it.
 */
#ifndef LP_COLLECTOR_INT_H
#define LP_COLLECTOR_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "core/collector.h"
#include "core/labels.h"

struct coll_series {
	struct lp_key key;
	struct lp_snap *cur; /* latest read (with base added) */
	/*
	 * Retirement (--retire-after): a series unchanged that long is deleted
	 * from the kernel map; its totals stay here and keep being exported.
	 * If it comes back, the kernel counts from zero again and base (its
	 * totals when it left) is added to every read: totals never go down.
	 */
	struct lp_snap *base;
	__u64 changed_ns; /* tick at which cur last changed */
	/*
	 * Its history, oldest first, back to the entry in force at the ring's
	 * oldest tick: the first entry holds that snapshot whole (a reference),
	 * each later one only what moved since the entry before it (its own
	 * sparse lp_delta), so memory follows what happened in the windows, not
	 * the width of the series' histogram. Kept: the latest two (the one in
	 * force at the previous tick gives the rate), and before them only those
	 * in force at a tick a window may start at (lp_coll_window_step); an
	 * entry dropped gives its difference to the next. A window is cur minus
	 * the entry in force at its first tick. An idle series holds one entry;
	 * an active one about LP_WINDOW_STEPS + 1 per window, whatever the interval.
	 */
	struct coll_hist {
		__u64 tick;  /* the tick's number (c->nticks then) */
		__u64 count; /* the series' total count then */
		struct lp_snap *full;	/* the first entry: the snapshot itself */
		struct lp_delta *delta; /* later entries: what moved since the previous */
	} * hist;
	struct lp_delta *pending; /* what moved since the last entry, not yet entered */
	bool hist_lost;		  /* a difference found no memory: start again whole */
	unsigned nhist, caphist;
	bool retired;	/* not in the kernel map now */
	double created; /* unix time first seen */
	/* its labels, as resolved at the labels' generation lab_gen (0: not yet) */
	char *cgroup, *service;
	struct lp_k8s *k8s; /* its pod's identity (a reference); NULL: none */
	bool k8s_wait;	    /* a pod's cgroup whose kubelet files were not found yet */
	__u64 lab_gen;
	/*
	 * What its view was computed from (references, so an address is never
	 * reused while kept): while this stays the same, so does its view.
	 */
	struct lp_snap *vc_cur;
	__u64 vc_base[LP_MAX_WINDOWS]; /* tick of each window's base entry (LP_NO_BASE: none) */
	double vc_rate;
	/*
	 * At that build every window already started after its last change
	 * (each base was cur) and its rate was 0: while cur stays, so does the
	 * view, without a look at its history.
	 */
	bool settled;
	struct lp_series_view *view; /* its view in the latest model (a reference); NULL: none */
};

struct lp_collector {
	const struct lp_config *cfg;
	struct lp_cfg_ref *cfg_ref; /* cfg's, after a reload (NULL: the start-up one) */
	struct lp_reloads reloads;
	double start_wall; /* unix time at start_ns, taken once */
	const struct lp_fine_table *ft;
	struct lp_source src;
	struct lp_labels *labels;
	__u64 start_ns;

	struct coll_series *series;
	size_t nseries, cap;
	size_t *index; /* open addressing: series index + 1, 0 empty */
	size_t index_cap;

	unsigned ring_len;
	unsigned wstep[LP_MAX_WINDOWS]; /* ticks between a window's possible starts */
	/* how far back a window may start: its ticks, a step and a late tick */
	unsigned wreach[LP_MAX_WINDOWS];
	unsigned head;	 /* ring slot of the latest tick */
	__u64 *tick_seq; /* [ring_len]: the number of the tick in each slot */
	__u64 nticks;
	__u64 *tick_ns;

	struct lp_dist dist;
	/*
	 * Each SLO's totals over the series it covers, kept as their snapshots
	 * change (add the new, take away the old: exact in integers), a snapshot
	 * of them per tick in slo_ring: a window is the latest minus the one at
	 * its start, as for one series, without visiting every series.
	 */
	struct lp_dist slo_tot[LP_MAX_SLOS];
	bool slo_moved[LP_MAX_SLOS];
	struct lp_snap *slo_cur[LP_MAX_SLOS];
	struct lp_snap **slo_ring[LP_MAX_SLOS];
	__u64 read_errors;
	int read_error; /* of the current tick */
	bool methods_read; /* the learned gRPC methods were read this tick */
	bool peers6_read;  /* the IPv6 addresses called, likewise */
	bool hosts_read;   /* the hosts called, likewise */
	__u64 now;	/* of the current tick */
	__u64 retirements, returns;
	__u64 forgotten; /* retired series that left user space too */

	pthread_mutex_t lock;
	struct lp_model *latest;
	size_t *order; /* series indices of the latest model's views, in their order */
	size_t norder; /* views in it */
};

#define LP_NO_BASE (~0ULL) /* a window that starts before the series' history: at attach */

/* views.c: a tick's views and SLO windows */
unsigned lp_coll_window_step(const struct lp_config *cfg, unsigned w);

/* history.c: a series' window history */
void lp_hist_release(struct coll_series *s);
/* cur is about to become newer: what moved waits for the next entry */
void lp_hist_note_change(struct lp_collector *c, struct coll_series *s,
			 const struct lp_snap *newer);
/* tick seq enters (after the views); nothing before the ring's oldest tick stays */
void lp_hist_advance(struct lp_collector *c, struct coll_series *s, __u64 seq, __u64 oldest);
/* the entry in force at the tick in ring slot slot, or -1 (none: before the history) */
int lp_hist_at(const struct lp_collector *c, const struct coll_series *s, unsigned slot);
/* d = cur - the totals of entry e (e < 0: cur) */
void lp_hist_window(struct lp_collector *c, const struct coll_series *s, int e, struct lp_dist *d);
void lp_coll_window_starts(struct lp_collector *c, __u64 now, int *wslot, double *span_s);
bool lp_coll_series_names(struct lp_collector *c, struct coll_series *s, __u64 gen);
double lp_coll_series_rate(const struct lp_collector *c, const struct coll_series *s, __u64 now,
			   int prev_slot);
bool lp_coll_view_settled(const struct coll_series *s);
int lp_coll_build_views(struct lp_collector *c, struct lp_model *m, const double *rate,
			const int *wslot, const bool *relabeled);
int lp_coll_slo_windows(struct lp_collector *c, struct lp_model *m, const int *wslot);

/* model.c */
void lp_model_free(struct lp_model *m);
void lp_cfg_ref_put(struct lp_cfg_ref *r);
struct lp_series_view *lp_view_get(struct lp_series_view *v);

#endif /* LP_COLLECTOR_INT_H */
