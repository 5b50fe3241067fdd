/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a segment is to every protocol's state machine, and what comes out
 * of it: the segment's fields (struct lp_seg), the run through its bytes
 * (struct lp_run: the reads the machine asks for), and the verdict (struct
 * lp_verdict: the samples it ended, the counters to add). Each protocol
 * (include/lp_h1.h, ...) turns a segment into request starts and response
 * ends with lp_sample(); the kernel records the verdict (bpf/record.bpf.h).
 */
#ifndef LP_VERDICT_H
#define LP_VERDICT_H

#include <linux/types.h>
#include "latprobe.h"

#define LP_TCP_FIN 0x01
#define LP_TCP_RST 0x04

/* What the kernel side extracted from one TCP segment. */
struct lp_seg {
	__u32 seq;
	__u32 ack;
	__u32 plen;	/* payload bytes */
	__u8 tcp_flags; /* LP_TCP_* bits of the TCP header */
	__u8 ingress;	/* 1: received by the socket, 0: sent by it */
	__u8 cls;	/* enum lp_class of the payload's first bytes (no state yet) */
	__u8 method;	/* with LP_CLASS_REQUEST */
	__u16 status;	/* with LP_CLASS_RESPONSE */
	__u16 pad;
};

enum lp_sample_kind {
	LP_SAMPLE_DURATION = 0, /* request's first byte to the response's last */
	LP_SAMPLE_TTFB,		/* request's first byte to the final response's first */
};

struct lp_sample {
	__u64 ns;
	__u16 status;
	__u8 method;
	__u8 kind;  /* enum lp_sample_kind */
	__u16 route; /* LP_ROUTE_* id of the request */
	__u8 grpc;   /* lp_key.grpc: a gRPC call's status + 1, 0: not gRPC */
	__u8 pad;
};

#define LP_VERDICT_SAMPLES 64 /* samples one segment can end; more are counted lost (a power of two) */

/* What to do about a segment. */
struct lp_verdict {
	__u8 cnt[LP_CNT_VERDICT]; /* by enum lp_counter: how much to add to each counter */
	__u8 side;		   /* enum lp_side of the samples */
	__u8 n;			   /* samples in s[] */
	__u8 hi;		   /* cnt[] is zero from here on */
	__u8 ttfb_off;		   /* time-to-first-byte samples are not wanted (no --ttfb) */
	__u8 pad[4];
	struct lp_sample s[LP_VERDICT_SAMPLES];
};

/* A read the state machine asks for: bytes [off, off + len) of the payload, len >= 1. */
struct lp_read {
	__u32 off;
	__u32 len;
};

enum lp_want {
	LP_WANT_HEAD = 1, /* a message starts at the read */
	LP_WANT_CHUNK,	  /* chunk-size line, CRLF or trailers */
	LP_WANT_RESYNC,	  /* unframed: does a new message start here? */
	LP_WANT_H2,	  /* HTTP/2: frame headers start at the read */
	LP_WANT_H2_BLOCK, /* HTTP/2: the payload of a header frame, whole */
	LP_WANT_H2C,	  /* not a read: HTTP/1.1 upgraded to h2c at r->pos (lp_conn_h2c) */
};

/* Progress through one segment. */
struct lp_run {
	__u64 now;
	__u32 seq;  /* the segment's first sequence number: offsets are pos - seq */
	__u32 pos;  /* sequence number of the next byte to frame */
	__u32 send; /* just past the segment's new bytes */
	__u32 jump; /* the direction's next after the segment: past send when a hole filled */
	__u8 rsp;   /* 1: the segment is in the response direction */
	__u8 want;  /* enum lp_want of the read asked for */
	__u8 stop;
	__u8 inwin;	   /* the next read is the window as it is: no load */
	struct lp_read rd; /* the read asked for */
	__u32 blk_at;	   /* HTTP/2: a header block fragment at this offset of the read */
	__u32 blk_len;	   /* ... of this length */
};


static __always_inline void lp_count(struct lp_verdict *v, __u32 counter)
{
	if (counter < LP_CNT_MAX && v->cnt[counter] < 255) {
		v->cnt[counter]++;
		if (v->hi <= counter)
			v->hi = counter + 1;
	}
}

static __always_inline void lp_sample_put(struct lp_sample *s, __u64 d, __u16 status, __u8 method,
					  __u8 kind, __u16 route, __u8 grpc)
{
	s->ns = d;
	s->status = status;
	s->method = method;
	s->kind = kind;
	s->route = route;
	s->grpc = grpc;
}

static __always_inline void lp_sample(struct lp_verdict *v, __u64 start, __u64 end, __u16 status,
				      __u8 method, __u8 kind, __u16 route, __u8 grpc)
{
	__u64 d = end - start;
	__u8 i = v->n;

	if (kind == LP_SAMPLE_TTFB && v->ttfb_off)
		return;
	/* a time not taken (0) or running backwards: never a sample */
	if (!start || !end || (__s64)d < 0 || d > LP_MAX_SAMPLE_NS) {
		lp_count(v, LP_CNT_DISCARDED);
		return;
	}
	if (i >= LP_VERDICT_SAMPLES) {
		lp_count(v, LP_CNT_LOST);
		return;
	}
	/* the verdict is map memory in the kernel (the working slot): a masked index will do */
	lp_sample_put(&v->s[i & (LP_VERDICT_SAMPLES - 1)], d, status, method, kind, route,
		      grpc);
	v->n = i + 1;
}

#endif /* LP_VERDICT_H */
