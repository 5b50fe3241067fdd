/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Following one direction of a TCP byte stream by sequence numbers, for
 * any protocol: which bytes of a segment are new and in order, which are
 * retransmitted, and when data seen out of order before becomes in order
 * (a hole filled). Inside TLS the per-direction plaintext byte counts stand
 * in for sequence numbers (bpf/tls.bpf.h). Pure: used by include/lp_conn.h
 * and tested in tests/unit/test_conn.c.
 */
#ifndef LP_TCPSEQ_H
#define LP_TCPSEQ_H

#include <linux/types.h>
#include "latprobe.h"


/* Wrap-safe TCP sequence comparisons. */
static __always_inline int lp_seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static __always_inline int lp_seq_after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}

#define LP_SEQ_TRIES 128

/* next and max after seq..end was seen, from the pair cur (as lp_dir lays it out) */
static __always_inline __u64 lp_seq_want(__u64 cur_next_max, __u32 seq, __u32 end)
{
	struct lp_dir cur, want;

	cur.next_max = cur_next_max;
	want.max = lp_seq_after(end, cur.max) ? end : cur.max;
	want.next = cur.next;
	if (!lp_seq_after(seq, cur.next) && lp_seq_after(end, cur.next))
		want.next = lp_seq_after(want.max, end) ? want.max : end;
	return want.next_max;
}

/*
 * Account for seq..seq+len in one direction and return the previous next.
 * Data that reaches next advances it; if it reaches data seen out of order
 * before, the hole is filled and next resumes after that data.
 *
 * shared: other CPUs may take segments of this direction at the same time.
 * Received segments, yes: the cgroup ingress hook runs before TCP takes
 * the socket's lock, and on loopback a sender in process context on one CPU
 * and its ACK-clocked transmissions in softirq on the other deliver at once
 * (a lost update of max once lost a response's end). Sent segments, no: TCP
 * transmits only under the socket's lock, so a plain update is exact.
 */
static __always_inline __u32 lp_seq_take(struct lp_dir *d, __u32 seq, __u32 len, int shared,
					 int *gaveup)
{
	__u32 end = seq + len;
	struct lp_dir cur; /* only next/max used */
	__u64 want, seen;
	int i;

	*gaveup = 0;
	if (!shared) {
		cur.next_max = d->next_max;
		want = lp_seq_want(cur.next_max, seq, end);
		if (want != cur.next_max)
			d->next_max = want;
		return cur.next;
	}
	/*
	 * next and max as one word: another CPU's update is never lost, only
	 * retried on. A retry needs the other CPU to have changed the pair in
	 * between, and a CPU handles a segment for far longer than that takes;
	 * if LP_SEQ_TRIES retries all lose (two threads doing nothing but this
	 * can starve one another), the segment is counted as skipped, never
	 * silently lost.
	 */
	cur.next_max = *(volatile __u64 *)&d->next_max;
	for (i = 0; i < LP_SEQ_TRIES; i++) {
		want = lp_seq_want(cur.next_max, seq, end);
		if (want == cur.next_max)
			break;
		seen = __sync_val_compare_and_swap(&d->next_max, cur.next_max, want);
		if (seen == cur.next_max)
			break;
		cur.next_max = seen;
	}
	/* every try lost a race: this segment is not accounted (the caller counts it) */
	*gaveup = i == LP_SEQ_TRIES;
	return cur.next;
}

#endif /* LP_TCPSEQ_H */
