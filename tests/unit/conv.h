/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A connection driven through the per-connection state machine exactly as
 * the kernel drives it (bpf/latprobe.bpf.c): classify the first 16 bytes
 * of a connection without state, create state (HTTP/2's too) for a request
 * or preface, then LP_CONN_SEGMENT with reads from the segment's payload.
 * Each payload is copied into a heap buffer of exactly its size, so any
 * read past the segment is an ASan error. Included by tests/unit/test_conn.c,
 * test_h2.c and test_h2order.c, after lp_conn.h.
 */
#ifndef LP_TEST_CONV_H
#define LP_TEST_CONV_H

#define IN  1
#define OUT 0

struct conv {
	struct lp_conn c;
	struct lp_h2 h2;
	int has_state;
	__u64 counters[LP_CNT_MAX];
	int samples, ttfbs;
	struct lp_sample last, last_ttfb; /* of the last sample of each kind */
	__u64 all[64];			  /* every duration, in order */
	__u16 route[64];		  /* ... and its route */
	__u16 status[64];		  /* ... and its status */
	__u8 method[64];		  /* ... and its method */
	__u8 grpc[64];			  /* ... and its gRPC status + 1 (0: not gRPC) */
	__u8 side;
};

static __u8 win[LP_WIN] __attribute__((aligned(8)));
static const __u8 *cur;

#define TLOAD(off, len) (memcpy(win, cur + (off), (len)), 0)

/* an upgrade to h2c: the conversation's HTTP/2 state (c is the conv's first member) */
#undef LP_CONN_H2C
#define LP_CONN_H2C(c, v) (&((struct conv *)(void *)(c))->h2)

static void segn(struct conv *cv, int ingress, __u32 seq, __u32 ack, const char *payload,
		 __u32 len, __u8 flags, __u64 now)
{
	struct lp_seg s = { .seq = seq, .ack = ack, .plen = len, .tcp_flags = flags,
			    .ingress = (__u8)ingress };
	struct lp_verdict v = { 0 };
	__u8 *copy = malloc(len ? len : 1);
	int i;

	assert_non_null(copy);
	memcpy(copy, payload, len);
	cur = copy;
	if (!len && !(flags & (LP_TCP_FIN | LP_TCP_RST)))
		goto out; /* the kernel's cheap path: a pure ACK */
	if (!cv->has_state) {
		if (!len)
			goto out;
		s.cls = (__u8)lp_classify(copy, len < LP_CLASSIFY_BYTES ? len : LP_CLASSIFY_BYTES,
					  &s.method, &s.status);
		if (!lp_conn_wants_state(&s)) {
			if (s.cls == LP_CLASS_RESPONSE)
				cv->counters[LP_CNT_ORPHAN_RESPONSES]++;
			goto out;
		}
		memset(&cv->c, 0, sizeof(cv->c));
		cv->has_state = 1;
		lp_conn_init(&cv->c, &s);
		if (cv->c.q.proto == LP_PROTO_HTTP2)
			lp_h2_init(&cv->h2, s.seq, s.ack, s.cls == LP_CLASS_H2_FRAME);
	}
	/* as the kernel: a received HTTP/2 segment ahead of a gap waits its bound, counted */
	if (cv->c.q.proto == LP_PROTO_HTTP2 && lp_h2_wait(&cv->c, &cv->h2, &s))
		cv->counters[LP_CNT_H2_REORDERED]++;
	/* as the kernel: the time only where a message can begin or end */
	LP_CONN_SEGMENT(&cv->c, cv->c.q.proto == LP_PROTO_HTTP2 ? &cv->h2 : NULL, &s,
			lp_conn_needs_time(&cv->c, &s) ? now : 0, &v, win, TLOAD);
	for (i = 0; i < LP_CNT_MAX; i++)
		cv->counters[i] += v.cnt[i];
	for (i = 0; i < v.n; i++) {
		cv->side = v.side;
		if (v.s[i].kind == LP_SAMPLE_TTFB) {
			cv->ttfbs++;
			cv->last_ttfb = v.s[i];
		} else {
			if (cv->samples < 64) {
				cv->all[cv->samples] = v.s[i].ns;
				cv->route[cv->samples] = v.s[i].route;
				cv->status[cv->samples] = v.s[i].status;
				cv->method[cv->samples] = v.s[i].method;
				cv->grpc[cv->samples] = v.s[i].grpc;
			}
			cv->samples++;
			cv->last = v.s[i];
		}
	}
out:
	free(copy);
}

static __attribute__((unused)) void seg(struct conv *cv, int ingress, __u32 seq, __u32 ack, const char *payload,
		__u8 flags, __u64 now)
{
	segn(cv, ingress, seq, ack, payload, (__u32)strlen(payload), flags, now);
}

#endif /* LP_TEST_CONV_H */
