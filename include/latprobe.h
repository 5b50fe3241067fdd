/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel/user contract of latprobe.
 *
 * Used by: bpf/latprobe.bpf.c (writes these structs into its maps) and
 * userspace/probe.c, userspace/collector.c (read them back), plus the tests.
 * Fixed-width types only and explicit padding, so both sides agree byte for
 * byte; userspace/probe.c holds the _Static_asserts on the sizes.
 */
#ifndef LATPROBE_H
#define LATPROBE_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * Fine histogram: the bucket boundaries of a Prometheus native histogram /
 * OpenTelemetry exponential histogram of schema s, in seconds:
 * bucket key k covers (2^((k-1)/2^s), 2^(k/2^s)].
 * The kernel keeps the keys from 2^LP_FINE_LOW_EXP s to 2^LP_FINE_HIGH_EXP s:
 *   slot 0            the zero bucket, v <= 2^LP_FINE_LOW_EXP s (about 954 ns)
 *   slot 1 .. N       key k = slot + LP_FINE_LOW_EXP * 2^s, N = LP_FINE_OCTAVES << s
 *   slot N + 1        overflow, v > 2^LP_FINE_HIGH_EXP s (about 68 minutes)
 */
#define LP_FINE_LOW_EXP	   (-20)
#define LP_FINE_HIGH_EXP   12
#define LP_FINE_OCTAVES	   (LP_FINE_HIGH_EXP - LP_FINE_LOW_EXP)
#define LP_SCHEMA_MAX	   5
#define LP_SCHEMA_DEFAULT  3
/* boundaries of slots 1..N; a power of two so the search index can be masked */
#define LP_FINE_BOUNDS_MAX (LP_FINE_OCTAVES << LP_SCHEMA_MAX)
#define LP_FINE_SLOTS(schema) ((LP_FINE_OCTAVES << (schema)) + 2)

/* Classic buckets: exact counters at boundaries given at load time (ns, "le"). */
#define LP_CLASSIC_MAX 32 /* boundaries; slot LP_CLASSIC_MAX-1 at most is +Inf */

enum lp_side {
	LP_SIDE_SERVER = 1, /* request in, response out */
	LP_SIDE_CLIENT = 2, /* request out, response in */
};

enum lp_method {
	LP_METHOD_NONE = 0,
	LP_METHOD_GET,
	LP_METHOD_HEAD,
	LP_METHOD_POST,
	LP_METHOD_PUT,
	LP_METHOD_DELETE,
	LP_METHOD_CONNECT,
	LP_METHOD_OPTIONS,
	LP_METHOD_TRACE,
	LP_METHOD_PATCH,
	LP_METHOD_COUNT,
};

#define LP_KEY_OVERFLOW 0x1 /* lp_key.flags: samples that did not fit the map */

/* One series of the per-CPU histogram map. 16 bytes, no implicit padding. */
struct lp_key {
	__u64 cgroup_id; /* cgroup v2 id of the socket (0 in the overflow series) */
	__u16 port;	 /* host order: local port (server), remote port (client) */
	__u16 status;	 /* HTTP status code, 100..599 */
	__u8 side;	 /* enum lp_side */
	__u8 method;	 /* enum lp_method */
	__u8 family;	 /* 4 or 6: IP version of the packets */
	__u8 flags;	 /* LP_KEY_* */
};

/*
 * Per-CPU value of a series. The map's value size is set at load time to
 * lp_value_size(schema): the fine array has LP_FINE_SLOTS(schema) entries.
 * There is no count field: the count is the sum of the classic slots, so a
 * reader always sees +Inf equal to the count.
 */
struct lp_value {
	__u64 sum_ns;
	__u64 classic[LP_CLASSIC_MAX]; /* non-cumulative; slot nr_classic is +Inf */
	__u64 fine[];
};

static inline __u32 lp_value_size(__u32 schema)
{
	return sizeof(struct lp_value) + LP_FINE_SLOTS(schema) * sizeof(__u64);
}

/* Indices of the per-CPU counter array: what did not become a sample, and why. */
enum lp_counter {
	LP_CNT_REQUESTS = 0,	/* request starts that began a timing */
	LP_CNT_UNTIMED,		/* requests seen that could not be timed (pipelined, split start) */
	LP_CNT_ORPHAN_RESPONSES, /* response starts with no request pending */
	LP_CNT_UNANSWERED,	/* connection closed or reset with a request pending */
	LP_CNT_INTERIM,		/* 1xx interim responses (not 101): kept waiting */
	LP_CNT_UPGRADED,	/* 101 Switching Protocols: connection no longer tracked */
	LP_CNT_RETRANSMITS,	/* segments with already-seen sequence numbers, ignored */
	LP_CNT_OVERFLOW,	/* samples folded into the overflow series (map full) */
	LP_CNT_LOST,		/* samples lost: even the overflow series was missing */
	LP_CNT_STORAGE_FAILED,	/* per-socket state could not be created */
	LP_CNT_SERIES_ALLOC,	/* samples folded into the overflow series: a new series
				 * could not be allocated at that instant (a burst) */
	LP_CNT_MAX,
};

/* Per-socket state (BPF_MAP_TYPE_SK_STORAGE). Only the BPF side uses it. */
enum lp_role {
	LP_ROLE_NONE = 0,
	LP_ROLE_SERVER = LP_SIDE_SERVER,
	LP_ROLE_CLIENT = LP_SIDE_CLIENT,
	LP_ROLE_DONE, /* after 101 Switching Protocols: not HTTP/1.x any more */
};

#define LP_CONN_UNTIMED 0x1 /* the pending request cannot be timed (its start was split) */

/*
 * Sequence tracking of one direction: next is the first byte not yet seen in
 * order, max the end of the furthest byte seen (out-of-order data included).
 * Only in-order new data can carry a request or response start; anything
 * below next is a retransmission.
 */
struct lp_seq {
	__u32 next;
	__u32 max;
};

struct lp_conn {
	__u64 start_ns;	   /* arrival (server) or departure (client) of the request; 0: none */
	struct lp_seq req; /* the request direction */
	struct lp_seq rsp; /* the response direction */
	__u8 role;	   /* enum lp_role, fixed by the first request */
	__u8 method;	   /* of the pending request */
	__u8 flags;	   /* LP_CONN_* */
	__u8 pad[5];
};

#endif /* LATPROBE_H */
