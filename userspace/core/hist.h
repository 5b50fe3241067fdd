/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Histogram math in user space: boundary tables, immutable cumulative
 * snapshots of a series, differences over a window, quantiles, SLO counts.
 * Pure functions over memory; no I/O.
 */
#ifndef LP_HIST_H
#define LP_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "latprobe.h"

/* Boundaries of the fine histogram of a schema (see latprobe.h for the slot layout). */
struct lp_fine_table {
	unsigned schema;
	__u32 n;      /* boundaries = slots 1..n */
	__u64 zero_ns; /* upper bound of the zero bucket (slot 0) */
	__u64 *bounds; /* floor(1e9 * 2^(LP_FINE_LOW_EXP + (j + 1) / 2^schema)), j < n */
};

/* schema may exceed LP_SCHEMA_MAX here (unit tests go to 8); returns -errno */
int lp_fine_table_init(struct lp_fine_table *t, unsigned schema);
void lp_fine_table_free(struct lp_fine_table *t);
/* native-histogram bucket key of slot 1..n */
int lp_fine_native_key(const struct lp_fine_table *t, __u32 slot);

/*
 * Cumulative totals of one series at one instant. Immutable once built and
 * reference counted, so an unchanged series shares one snapshot across ticks
 * and exporters can hold it while the collector moves on.
 * The fine buckets are stored trimmed to the range of non-zero slots.
 */
struct lp_snap {
	int refs;
	__u32 nclassic; /* classic slots stored: the configuration's boundaries + 1 */
	__u64 count;	/* sum of classic slots */
	__u64 sum_ns;
	__u64 *classic; /* [nclassic], non-cumulative: stored after fine[] */
	__u32 fine_lo;	/* first stored slot */
	__u32 fine_n;	/* stored slots */
	__u64 fine[];
};

/* Build a snapshot from a summed (over CPUs) kernel value with nfine slots. */
struct lp_snap *lp_snap_from_value(const struct lp_value *v, __u32 nclassic_slots, __u32 nfine);
struct lp_snap *lp_snap_get(struct lp_snap *s);
void lp_snap_put(struct lp_snap *s);
/* a + b, slot by slot (a series' totals before a retirement plus after its return) */
struct lp_snap *lp_snap_plus(const struct lp_snap *a, const struct lp_snap *b);
/* fine slot slot of s (0 outside what it stores, or without s) */
__u64 lp_snap_fine(const struct lp_snap *s, __u32 slot);
/* newer - older of a counter; one that went back is a restart, taken whole from newer */
static inline __u64 lp_sub_mono(__u64 newer, __u64 older)
{
	return newer >= older ? newer - older : newer;
}
/* true if both hold the same totals (cheap: count and sum) */
bool lp_snap_same(const struct lp_snap *a, const struct lp_snap *b);

/* A dense distribution: the difference of two snapshots, or one snapshot. */
struct lp_dist {
	__u64 count;
	__u64 sum_ns;
	__u32 nclassic; /* classic slots used (boundaries + 1) */
	__u32 nfine;	/* fine slots (n + 2) */
	__u32 lo, hi;	/* fine[] may be non-zero only in [lo, hi) */
	__u64 classic[LP_CLASSIC_MAX];
	__u64 *fine;	/* nfine entries, owned */
};

int lp_dist_init(struct lp_dist *d, __u32 nclassic, __u32 nfine);
void lp_dist_free(struct lp_dist *d);
/* d = newer - older (older may be NULL: d = newer). Counters never go back; a
 * slot that did is treated as a restart and taken whole from newer. */
void lp_dist_diff(struct lp_dist *d, const struct lp_snap *newer, const struct lp_snap *older);
/* d = empty (cheap: clears only the range that may be non-zero) */
void lp_dist_clear(struct lp_dist *d);
/* d += src (same fine table; classic slots up to the smaller nclassic) */
void lp_dist_merge(struct lp_dist *d, const struct lp_dist *src);
/*
 * d += s, or d -= s with minus (wrapping: a running total of snapshots added
 * and taken away). failed: s's requests all go to the last classic slot
 * (+Inf: over any threshold, never good for an SLO); its sum and fine
 * buckets, its true durations, as they are.
 */
void lp_dist_add_snap(struct lp_dist *d, const struct lp_snap *s, bool minus, bool failed);
/* a snapshot of what d holds */
struct lp_snap *lp_snap_from_dist(const struct lp_dist *d);
/* add one sample (for tests and benchmarks that build distributions by hand) */
void lp_dist_add(struct lp_dist *d, const struct lp_fine_table *t, const __u64 *classic_bounds,
		 __u32 nclassic_bounds, __u64 v_ns);

/*
 * What moved between two snapshots of one series, sparse: only the slots
 * that moved (index < nclassic: that classic slot; else fine slot index -
 * nclassic), with the count and the sum. Immutable once built; one owner.
 */
struct lp_delta {
	__u64 count;
	__u64 sum_ns;
	__u32 n;	/* slots that moved */
	__u32 nclassic; /* classic slots of the snapshots it came from */
	__u64 val[];	/* [n] by how much; then __u16 idx[n], ascending */
};

/* newer - older (older may be NULL: all of newer); NULL: out of memory */
struct lp_delta *lp_delta_between(const struct lp_snap *newer, const struct lp_snap *older);
/* a + b: two consecutive differences as one */
struct lp_delta *lp_delta_sum(const struct lp_delta *a, const struct lp_delta *b);
void lp_delta_free(struct lp_delta *x);
size_t lp_delta_bytes(const struct lp_delta *x);
/* d += x, or d -= x with minus (wrapping, as lp_dist_add_snap) */
void lp_dist_add_delta(struct lp_dist *d, const struct lp_delta *x, bool minus);

/*
 * The q-quantile (0 <= q <= 1) in seconds: the bucket that holds rank
 * q * count, estimated by its point of least worst-case relative error
 * 2 * lower * upper / (lower + upper), so that the error is bounded by
 * (b - 1) / (b + 1) for a bucket growth b (4.3 % at schema 3); linear inside
 * the zero bucket; NaN with no observations.
 */
double lp_dist_quantile(const struct lp_dist *d, const struct lp_fine_table *t, double q);

/* Observations <= the classic boundary of index idx (cumulative count). */
__u64 lp_dist_le(const struct lp_dist *d, __u32 idx);

/* Format ns as seconds, shortest exact decimal ("0.005", "10", "0.0001"). */
void lp_format_seconds(char *buf, size_t len, __u64 ns);

#endif /* LP_HIST_H */
