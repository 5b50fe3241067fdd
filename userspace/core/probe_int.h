/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The probe's insides, shared by its files only: probe.c (open, set the
 * load-time settings, load, attach, the TLS uprobes) and probe_read.c
 * (reading the maps back: whole and changed-only reads, the spill ring's
 * carry, the counters). Nothing else includes it.
 */
#ifndef LP_PROBE_INT_H
#define LP_PROBE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/probe.h"
#include "core/hist.h"
#include "latprobe.skel.h"

struct lp_probe {
	struct latprobe_bpf *skel;
	struct bpf_link *link; /* the program on the cgroup's ingress */
	int egress_link; /* ... and on its egress (an fd: libbpf attaches one type per program) */
	bool tls; /* the TLS programs are loaded */
	int ncpus;
	unsigned nexcluded; /* --exclude-path prefixes: 2 counters each (server, client) */
	__u32 value_size;
	__u32 nfine;
	__u32 nclassic_slots;
	/*
	 * Entries per batch lookup of a whole read (grown when a hash bucket
	 * holds more); its buffers (4 MB at 256 entries of 8 KB per CPU) are
	 * allocated for that read only, not kept between reads.
	 */
	__u32 batch;
	__u8 *values; /* one series' value, per CPU */
	struct lp_value *sum;
	/*
	 * Samples drained from the spill ring, per series, cumulative: added to
	 * the kernel's value of the series at every read, or standing in for a
	 * series the kernel never created. Sorted by key.
	 */
	struct carry {
		struct lp_key key;
		bool seen; /* in this read */
		struct lp_value *v;
	} * carry;
	size_t ncarry, carry_cap;
	__u64 *tails;	 /* [ncpus * LP_SLOTS]: spill entries consumed */
	__u64 *heads;	 /* [LP_SLOTS * ncpus]: read at each drain */
	__u8 *spill_buf; /* one lp_spill per CPU */
	const __u64 *classic_ns;
	__u32 nclassic;
	const struct lp_fine_table *ft;
	/*
	 * Changed-only reads (include/latprobe.h, lp_dirty_bit): the series the
	 * kernel marked since the last read, looked up among the keys of the
	 * last read of the whole map. The whole map is read again when the
	 * kernel created a series, when samples were spilled, and once every
	 * LP_FULL_READ_NS, as a safety net.
	 */
	bool dirty_ok;	/* lp_dirty is the kernel's own (its map is memory-mapped) */
	__u64 seen_new; /* lp_new_series before the last whole read */
	__u64 full_ns;	/* CLOCK_MONOTONIC of the last whole read; 0: none yet */
	struct lp_key *known;
	size_t nknown, known_cap;
	__u64 *bits; /* [LP_DIRTY_WORDS]: the words swapped out at this read */
};

#define LP_FULL_READ_NS 300000000000ULL /* 5 min: the changed-only reads' safety net */

#endif /* LP_PROBE_INT_H */
