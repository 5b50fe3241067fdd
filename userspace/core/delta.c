// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sparse differences of two snapshots of one series (struct lp_delta): what
 * moved between two collections, slot by slot, only the slots that moved.
 * A series' window history keeps one full snapshot and such differences
 * after it (userspace/core/collector.c), so its memory grows with what
 * happened in the windows, not with the width of its whole histogram.
 * Pure functions over memory.
 */
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"

static struct lp_delta *delta_alloc(__u32 n, __u32 nclassic)
{
	struct lp_delta *x = calloc(1, sizeof(*x) + (size_t)n * (sizeof(__u64) + sizeof(__u16)));

	if (!x)
		return NULL;
	x->n = n;
	x->nclassic = nclassic;
	return x;
}

static __u16 *delta_idx(const struct lp_delta *x)
{
	return (__u16 *)(void *)&x->val[x->n];
}

/*
 * The slots of newer that moved since older, in index order (classic, then
 * fine): counted, or with x written into x. Returns how many.
 */
static __u32 walk(const struct lp_snap *newer, const struct lp_snap *older, struct lp_delta *x)
{
	__u16 *idx = x ? delta_idx(x) : NULL;
	__u32 i, n = 0;

	for (i = 0; i < newer->nclassic; i++) {
		__u64 v = lp_sub_mono(newer->classic[i],
				older && i < older->nclassic ? older->classic[i] : 0);

		if (v && x) {
			x->val[n] = v;
			idx[n] = (__u16)i;
		}
		n += v != 0;
	}
	for (i = newer->fine_lo; i < newer->fine_lo + newer->fine_n; i++) {
		__u64 v = lp_sub_mono(newer->fine[i - newer->fine_lo], lp_snap_fine(older, i));

		if (v && x) {
			x->val[n] = v;
			idx[n] = (__u16)(newer->nclassic + i);
		}
		n += v != 0;
	}
	return n;
}

struct lp_delta *lp_delta_between(const struct lp_snap *newer, const struct lp_snap *older)
{
	struct lp_delta *x;

	/* indices are 16 bits: every slot of the largest schema fits */
	_Static_assert(LP_CLASSIC_MAX + LP_FINE_SLOTS(LP_SCHEMA_MAX) <= 0xffff, "delta index");
	x = delta_alloc(walk(newer, older, NULL), newer->nclassic);
	if (!x)
		return NULL;
	x->count = lp_sub_mono(newer->count, older ? older->count : 0);
	x->sum_ns = lp_sub_mono(newer->sum_ns, older ? older->sum_ns : 0);
	walk(newer, older, x);
	return x;
}

struct lp_delta *lp_delta_sum(const struct lp_delta *a, const struct lp_delta *b)
{
	const __u16 *ai = delta_idx(a), *bi = delta_idx(b);
	__u32 i = 0, j = 0, n = 0;
	struct lp_delta *x;
	__u16 *xi;

	while (i < a->n || j < b->n) {
		if (j >= b->n || (i < a->n && ai[i] < bi[j]))
			i++;
		else if (i >= a->n || bi[j] < ai[i])
			j++;
		else
			i++, j++;
		n++;
	}
	x = delta_alloc(n, a->nclassic < b->nclassic ? a->nclassic : b->nclassic);
	if (!x)
		return NULL;
	x->count = a->count + b->count;
	x->sum_ns = a->sum_ns + b->sum_ns;
	xi = delta_idx(x);
	for (i = j = n = 0; i < a->n || j < b->n; n++) {
		if (j >= b->n || (i < a->n && ai[i] < bi[j])) {
			xi[n] = ai[i];
			x->val[n] = a->val[i++];
		} else if (i >= a->n || bi[j] < ai[i]) {
			xi[n] = bi[j];
			x->val[n] = b->val[j++];
		} else {
			xi[n] = ai[i];
			x->val[n] = a->val[i++] + b->val[j++];
		}
	}
	return x;
}

void lp_delta_free(struct lp_delta *x)
{
	free(x);
}

size_t lp_delta_bytes(const struct lp_delta *x)
{
	return sizeof(*x) + (size_t)x->n * (sizeof(__u64) + sizeof(__u16));
}

void lp_dist_add_delta(struct lp_dist *d, const struct lp_delta *x, bool minus)
{
	/* times -1 is the two's complement, as lp_dist_add_snap */
	__u64 sign = minus ? ~0ULL : 1;
	const __u16 *idx = delta_idx(x);
	__u32 k;

	d->count += sign * x->count;
	d->sum_ns += sign * x->sum_ns;
	for (k = 0; k < x->n; k++) {
		__u32 i = idx[k];

		if (i < x->nclassic) {
			if (i < d->nclassic)
				d->classic[i] += sign * x->val[k];
			continue;
		}
		i -= x->nclassic;
		if (i >= d->nfine)
			continue;
		d->fine[i] += sign * x->val[k];
		if (minus)
			continue; /* taking away never widens the range */
		if (d->hi <= d->lo) {
			d->lo = i;
			d->hi = i + 1;
		} else {
			d->lo = i < d->lo ? i : d->lo;
			d->hi = i + 1 > d->hi ? i + 1 : d->hi;
		}
	}
}
