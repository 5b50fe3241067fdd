// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "lp_bucket.h"

int lp_fine_table_init(struct lp_fine_table *t, unsigned schema)
{
	__u32 j, per = 1u << schema;

	if (schema > 8)
		return -EINVAL;
	t->schema = schema;
	t->n = LP_FINE_OCTAVES * per;
	t->bounds = calloc(t->n, sizeof(*t->bounds));
	if (!t->bounds)
		return -ENOMEM;
	/*
	 * floor(1e9 * 2^e) in long double (64-bit mantissa): exact where the
	 * boundary is an integer or a dyadic fraction, and far finer than one
	 * ns elsewhere (the largest boundary is about 2^42 ns).
	 */
	t->zero_ns = (__u64)floorl(1e9L * exp2l((long double)LP_FINE_LOW_EXP));
	for (j = 0; j < t->n; j++) {
		long double e = (long double)LP_FINE_LOW_EXP + (long double)(j + 1) / per;

		t->bounds[j] = (__u64)floorl(1e9L * exp2l(e));
	}
	return 0;
}

void lp_fine_table_free(struct lp_fine_table *t)
{
	free(t->bounds);
	t->bounds = NULL;
	t->n = 0;
}

/* exact upper bound in seconds of slot 1..n (slot 0: the zero threshold) */
static double lp_fine_upper_seconds(const struct lp_fine_table *t, __u32 slot)
{
	if (slot == 0)
		return exp2(LP_FINE_LOW_EXP);
	if (slot > t->n)
		return INFINITY;
	return exp2((double)lp_fine_native_key(t, slot) / (1u << t->schema));
}

int lp_fine_native_key(const struct lp_fine_table *t, __u32 slot)
{
	return (int)slot + LP_FINE_LOW_EXP * (int)(1u << t->schema);
}

/* a zeroed snapshot of nclassic classic and fine_n fine slots, one allocation, one reference */
static struct lp_snap *snap_alloc(__u32 nclassic, __u32 fine_n)
{
	struct lp_snap *s = calloc(1, sizeof(*s) + ((size_t)fine_n + nclassic) * sizeof(__u64));

	if (!s)
		return NULL;
	s->refs = 1;
	s->nclassic = nclassic;
	s->fine_n = fine_n;
	s->classic = &s->fine[fine_n];
	return s;
}

/* a snapshot of classic[0..nclassic) and fine[from..to), the fine slots trimmed to the non-zero */
static struct lp_snap *snap_build(__u64 sum_ns, const __u64 *classic, __u32 nclassic,
				  const __u64 *fine, __u32 from, __u32 to)
{
	struct lp_snap *s;
	__u32 i, lo = 0, hi = 0;
	bool any = false;

	for (i = from; i < to; i++) {
		if (!fine[i])
			continue;
		if (!any)
			lo = i;
		hi = i;
		any = true;
	}
	if (nclassic > LP_CLASSIC_MAX)
		nclassic = LP_CLASSIC_MAX;
	s = snap_alloc(nclassic, any ? hi - lo + 1 : 0);
	if (!s)
		return NULL;
	s->sum_ns = sum_ns;
	for (i = 0; i < nclassic; i++) {
		s->classic[i] = classic[i];
		s->count += classic[i];
	}
	if (any) {
		s->fine_lo = lo;
		memcpy(s->fine, &fine[lo], s->fine_n * sizeof(__u64));
	}
	return s;
}

struct lp_snap *lp_snap_from_value(const struct lp_value *v, __u32 nclassic_slots, __u32 nfine)
{
	return snap_build(v->sum_ns, v->classic, nclassic_slots, v->fine, 0, nfine);
}

struct lp_snap *lp_snap_plus(const struct lp_snap *a, const struct lp_snap *b)
{
	__u32 lo, hi, i;
	struct lp_snap *s;

	if (!a->fine_n && !b->fine_n) {
		lo = hi = 0;
	} else if (!a->fine_n || !b->fine_n) {
		const struct lp_snap *x = a->fine_n ? a : b;

		lo = x->fine_lo;
		hi = x->fine_lo + x->fine_n;
	} else {
		lo = a->fine_lo < b->fine_lo ? a->fine_lo : b->fine_lo;
		hi = a->fine_lo + a->fine_n > b->fine_lo + b->fine_n ? a->fine_lo + a->fine_n
								      : b->fine_lo + b->fine_n;
	}
	s = snap_alloc(a->nclassic < b->nclassic ? a->nclassic : b->nclassic, hi - lo);
	if (!s)
		return NULL;
	s->count = a->count + b->count;
	s->sum_ns = a->sum_ns + b->sum_ns;
	for (i = 0; i < s->nclassic; i++)
		s->classic[i] = a->classic[i] + b->classic[i];
	s->fine_lo = lo;
	for (i = 0; i < a->fine_n; i++)
		s->fine[a->fine_lo + i - lo] += a->fine[i];
	for (i = 0; i < b->fine_n; i++)
		s->fine[b->fine_lo + i - lo] += b->fine[i];
	return s;
}

struct lp_snap *lp_snap_get(struct lp_snap *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void lp_snap_put(struct lp_snap *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(s);
}

bool lp_snap_same(const struct lp_snap *a, const struct lp_snap *b)
{
	return a && b && a->count == b->count && a->sum_ns == b->sum_ns;
}

int lp_dist_init(struct lp_dist *d, __u32 nclassic, __u32 nfine)
{
	memset(d, 0, sizeof(*d));
	if (nclassic > LP_CLASSIC_MAX)
		return -EINVAL;
	d->nclassic = nclassic;
	d->nfine = nfine;
	d->fine = calloc(nfine, sizeof(*d->fine));
	return d->fine ? 0 : -ENOMEM;
}

void lp_dist_free(struct lp_dist *d)
{
	free(d->fine);
	d->fine = NULL;
}

__u64 lp_snap_fine(const struct lp_snap *s, __u32 slot)
{
	if (!s || slot < s->fine_lo || slot >= s->fine_lo + s->fine_n)
		return 0;
	return s->fine[slot - s->fine_lo];
}


void lp_dist_clear(struct lp_dist *d)
{
	/* only the slots the last use could have set: most series are narrow */
	if (d->hi > d->lo)
		memset(d->fine + d->lo, 0, (d->hi - d->lo) * sizeof(*d->fine));
	memset(d->classic, 0, sizeof(d->classic));
	d->count = 0;
	d->sum_ns = 0;
	d->lo = d->hi = 0;
}

void lp_dist_merge(struct lp_dist *d, const struct lp_dist *src)
{
	__u32 i, hi = src->hi < d->nfine ? src->hi : d->nfine;

	d->count += src->count;
	d->sum_ns += src->sum_ns;
	for (i = 0; i < d->nclassic && i < src->nclassic; i++)
		d->classic[i] += src->classic[i];
	if (src->lo >= hi)
		return;
	for (i = src->lo; i < hi; i++)
		d->fine[i] += src->fine[i];
	if (d->hi <= d->lo) {
		d->lo = src->lo;
		d->hi = hi;
	} else {
		d->lo = src->lo < d->lo ? src->lo : d->lo;
		d->hi = hi > d->hi ? hi : d->hi;
	}
}

void lp_dist_diff(struct lp_dist *d, const struct lp_snap *newer, const struct lp_snap *older)
{
	__u32 i;

	lp_dist_clear(d);
	if (!newer)
		return;
	d->lo = newer->fine_lo < d->nfine ? newer->fine_lo : d->nfine;
	d->hi = newer->fine_lo + newer->fine_n < d->nfine ? newer->fine_lo + newer->fine_n : d->nfine;
	d->sum_ns = lp_sub_mono(newer->sum_ns, older ? older->sum_ns : 0);
	for (i = 0; i < d->nclassic && i < newer->nclassic; i++) {
		d->classic[i] = lp_sub_mono(newer->classic[i],
					 older && i < older->nclassic ? older->classic[i] : 0);
		d->count += d->classic[i];
	}
	for (i = newer->fine_lo; i < newer->fine_lo + newer->fine_n && i < d->nfine; i++)
		d->fine[i] = lp_sub_mono(newer->fine[i - newer->fine_lo], lp_snap_fine(older, i));
}

void lp_dist_add_snap(struct lp_dist *d, const struct lp_snap *s, bool minus, bool failed)
{
	/* times -1 is the two's complement: a sum of additions and removals stays exact */
	__u64 sign = minus ? ~0ULL : 1, lo, hi;
	__u32 i;

	d->count += sign * s->count;
	d->sum_ns += sign * s->sum_ns;
	if (failed && d->nclassic)
		d->classic[d->nclassic - 1] += sign * s->count;
	for (i = 0; !failed && i < d->nclassic && i < s->nclassic; i++)
		d->classic[i] += sign * s->classic[i];
	lo = s->fine_lo;
	hi = (__u64)s->fine_lo + s->fine_n < d->nfine ? (__u64)s->fine_lo + s->fine_n : d->nfine;
	if (lo >= hi)
		return;
	for (i = (__u32)lo; i < hi; i++)
		d->fine[i] += sign * s->fine[i - s->fine_lo];
	if (d->hi <= d->lo) {
		d->lo = (__u32)lo;
		d->hi = (__u32)hi;
	} else {
		d->lo = lo < d->lo ? (__u32)lo : d->lo;
		d->hi = hi > d->hi ? (__u32)hi : d->hi;
	}
}

struct lp_snap *lp_snap_from_dist(const struct lp_dist *d)
{
	/* its count is that of its classic slots, as a kernel value's */
	return snap_build(d->sum_ns, d->classic, d->nclassic, d->fine, d->lo, d->hi);
}

void lp_dist_add(struct lp_dist *d, const struct lp_fine_table *t, const __u64 *classic_bounds,
		 __u32 nclassic_bounds, __u64 v_ns)
{
	__u32 slot;

	/* the kernel's own search (lp_bucket.h), sized for any schema up to 8 */
	slot = v_ns <= t->zero_ns ? 0 : 1 + lp_search(t->bounds, t->n, v_ns, UINT32_MAX, 33);
	if (slot < d->nfine) {
		d->fine[slot]++;
		if (d->hi == d->lo) {
			d->lo = slot;
			d->hi = slot + 1;
		} else if (slot < d->lo) {
			d->lo = slot;
		} else if (slot >= d->hi) {
			d->hi = slot + 1;
		}
	}
	slot = lp_search(classic_bounds, nclassic_bounds, v_ns, UINT32_MAX, 33);
	if (slot < d->nclassic)
		d->classic[slot]++;
	d->count++;
	d->sum_ns += v_ns;
}

double lp_dist_quantile(const struct lp_dist *d, const struct lp_fine_table *t, double q)
{
	__u64 total = 0, seen = 0;
	double rank, lower, upper, frac;
	__u32 i;

	for (i = d->lo; i < d->hi; i++)
		total += d->fine[i];
	if (!total || isnan(q))
		return NAN;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)total;
	for (i = d->lo; i < d->hi; i++) {
		if (!d->fine[i])
			continue;
		if ((double)(seen + d->fine[i]) >= rank)
			break;
		seen += d->fine[i];
	}
	if (i >= d->hi) /* q == 1 and rounding: the last non-empty bucket */
		for (i = d->hi; i-- > d->lo && !d->fine[i];)
			;
	if (i > t->n) /* overflow bucket: its lower bound is all we know */
		return lp_fine_upper_seconds(t, t->n);
	upper = lp_fine_upper_seconds(t, i);
	if (i == 0) { /* the zero bucket [0, threshold]: linear */
		frac = (rank - (double)seen) / (double)d->fine[i];
		return upper * (frac < 0 ? 0 : frac > 1 ? 1 : frac);
	}
	/*
	 * The point of (lower, upper] whose relative distance to every value in
	 * it is at most (b - 1) / (b + 1), b = upper / lower = 2^(2^-schema):
	 * 4.3 % at schema 3, 1.1 % at schema 5, whatever the data. Interpolating
	 * by rank would be closer for a smooth, dense bucket but could be off by
	 * nearly a whole bucket (9 % at schema 3) in a sparse tail.
	 */
	lower = lp_fine_upper_seconds(t, i - 1);
	return 2 * lower * upper / (lower + upper);
}

__u64 lp_dist_le(const struct lp_dist *d, __u32 idx)
{
	__u64 n = 0;
	__u32 i;

	for (i = 0; i <= idx && i < d->nclassic; i++)
		n += d->classic[i];
	return n;
}


void lp_format_seconds(char *buf, size_t len, __u64 ns)
{
	__u64 ip = ns / 1000000000ULL, fp = ns % 1000000000ULL;
	char frac[16];
	int n;

	if (!fp) {
		snprintf(buf, len, "%llu", (unsigned long long)ip);
		return;
	}
	snprintf(frac, sizeof(frac), "%09llu", (unsigned long long)fp);
	for (n = 8; n > 0 && frac[n] == '0'; n--)
		frac[n] = '\0';
	snprintf(buf, len, "%llu.%s", (unsigned long long)ip, frac);
}
