/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Histogram slot of a latency, for the fine (native) and classic buckets.
 *
 * Used by: bpf/latprobe.bpf.c (on every sample, against the boundary tables
 * user space wrote into its rodata) and by userspace/core/hist.c and the unit
 * tests, which check it against the Prometheus boundary formula. Boundaries
 * are integers in ns with "le" semantics: a latency v lands in the first
 * bucket whose boundary b satisfies v <= b. For the fine buckets b is
 * floor(1e9 * 2^(k/2^schema)), so for integer v the slot is exactly the
 * native-histogram bucket of v seconds.
 */
#ifndef LP_BUCKET_H
#define LP_BUCKET_H

#include <linux/types.h>
#include "latprobe.h"

/*
 * First index i in [0, n) with v <= bounds[i], or n when v is above them all.
 * bounds ascend; n <= mask + 1 with mask + 1 a power of two (the mask keeps
 * the BPF verifier's view of the index bounded); iters >= log2(mask + 1) + 1.
 */
static __always_inline __u32 lp_search(const __u64 *bounds, __u32 n, __u64 v, __u32 mask,
				       __u32 iters)
{
	__u32 lo = 0, hi = n, mid, i;

	for (i = 0; i < iters; i++) {
		if (lo >= hi)
			break;
		mid = (lo + hi) >> 1;
		if (v <= bounds[mid & mask])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* iterations for a table of up to 2^k entries: k + 1 */
#define LP_FINE_ITERS	 (__builtin_ctz(LP_FINE_BOUNDS_MAX) + 1)
#define LP_CLASSIC_ITERS (__builtin_ctz(LP_CLASSIC_MAX) + 1)

/*
 * Fine slot: 0 for the zero bucket (v <= zero_ns), 1..n for the native keys,
 * n + 1 for the overflow above the last boundary. See latprobe.h.
 */
static __always_inline __u32 lp_fine_slot(const __u64 *bounds, __u32 n, __u64 zero_ns, __u64 v)
{
	if (v <= zero_ns)
		return 0;
	return 1 + lp_search(bounds, n, v, LP_FINE_BOUNDS_MAX - 1, LP_FINE_ITERS);
}

/* Classic slot: 0..n-1 for the boundaries, n for +Inf. */
static __always_inline __u32 lp_classic_slot(const __u64 *bounds, __u32 n, __u64 v)
{
	return lp_search(bounds, n, v, LP_CLASSIC_MAX - 1, LP_CLASSIC_ITERS);
}

#endif /* LP_BUCKET_H */
