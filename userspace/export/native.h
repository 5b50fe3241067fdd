/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A snapshot's fine buckets as a native histogram's spans and deltas (native.c). */
#ifndef LP_NATIVE_H
#define LP_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "core/hist.h"

/* arrays of at least lp_native_cap(snap) entries, from the caller */
struct lp_native {
	__s32 *span_offset;
	__u32 *span_length;
	int64_t *delta;
	size_t nspans, ndeltas;
	__u64 zero;  /* the zero bucket's count */
	__u64 total; /* every fine count, the zero bucket's included */
};

static inline size_t lp_native_cap(const struct lp_snap *sn)
{
	return sn->fine_n ? sn->fine_n : 1;
}

void lp_native_of(const struct lp_snap *sn, const struct lp_fine_table *ft, struct lp_native *nh);

#endif
