// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A snapshot's fine buckets as a native histogram (Prometheus, remote write):
 * the zero bucket, then spans of consecutive bucket keys and the deltas of
 * their counts, as both wire formats want them. The writers (fmt_pb.c,
 * fmt_rw.c) copy the result into their own messages.
 */
#include "export/native.h"

void lp_native_of(const struct lp_snap *sn, const struct lp_fine_table *ft, struct lp_native *nh)
{
	__u32 i, first = sn->fine_lo, end = sn->fine_lo + sn->fine_n;
	__s64 prev = 0;
	int last_key = 0;
	bool open = false;

	nh->nspans = nh->ndeltas = 0;
	nh->zero = nh->total = 0;
	if (sn->fine_n && first == 0) {
		nh->zero = sn->fine[0];
		nh->total += sn->fine[0];
		first = 1;
	}
	for (i = first; i < end; i++) {
		__u64 c = sn->fine[i - sn->fine_lo];
		/* slot n + 1 (beyond 2^12 s) is exported as the bucket just above */
		int key = lp_fine_native_key(ft, i);

		if (!c)
			continue;
		nh->total += c;
		/* a new span unless this bucket directly follows the last one */
		if (!open || key != last_key + 1) {
			nh->span_offset[nh->nspans] = open ? key - last_key - 1 : key;
			nh->span_length[nh->nspans++] = 0;
			open = true;
		}
		nh->span_length[nh->nspans - 1]++;
		nh->delta[nh->ndeltas++] = (int64_t)c - prev;
		prev = (__s64)c;
		last_key = key;
	}
	if (!nh->nspans) {
		/* a native histogram with no observations yet: a no-op span */
		nh->span_offset[0] = 0;
		nh->span_length[0] = 0;
		nh->nspans = 1;
	}
}
