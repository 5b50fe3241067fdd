/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-connection state machine: given what one TCP segment carries, how
 * does the connection's state change, and does a latency sample come out?
 *
 * Used by: bpf/latprobe.bpf.c, which extracts a struct lp_seg from each
 * segment and applies the verdict (sample, counters) to its maps, and
 * tests/unit/test_conn.c, which drives whole conversations through it.
 * Pure: no helpers, no maps, no time source (now is an argument).
 *
 * The rules (DESIGN.md section 1):
 *  - the first request seen fixes the connection's role for its lifetime:
 *    request in = server side, request out = client side; later segments in
 *    the other direction that look like a request are body bytes;
 *  - only the first pending request is timed; a request start seen while
 *    one is pending (pipelining) is counted as untimed;
 *  - only in-order new data can carry a start: retransmitted and
 *    out-of-order segments never start or end a timing;
 *  - a 1xx response other than 101 is interim; 101 ends tracking;
 *  - FIN from the responder or RST from either side with a request pending
 *    counts the request as unanswered.
 */
#ifndef LP_CONN_H
#define LP_CONN_H

#include <linux/types.h>
#include "latprobe.h"
#include "lp_classify.h"

#define LP_TCP_FIN 0x01
#define LP_TCP_RST 0x04

/* What the kernel side extracted from one TCP segment. */
struct lp_seg {
	__u32 seq;
	__u32 ack;
	__u32 plen;	 /* payload bytes */
	__u8 tcp_flags;	 /* LP_TCP_* bits of the TCP header */
	__u8 ingress;	 /* 1: received by the socket, 0: sent by it */
	__u8 cls;	 /* enum lp_class of the payload's first bytes */
	__u8 method;	 /* with LP_CLASS_REQUEST */
	__u16 status;	 /* with LP_CLASS_RESPONSE */
	__u16 pad;
};

/* What to do about it. */
struct lp_verdict {
	__u64 latency_ns; /* with record */
	__u32 counters;	  /* bit (1 << enum lp_counter) for each counter to increment */
	__u8 record;	  /* 1: add a sample of latency_ns to the series below */
	__u8 side;	  /* enum lp_side */
	__u8 method;
	__u8 pad;
	__u16 status;
	__u16 pad2;
};

/* Wrap-safe TCP sequence comparisons. */
static __always_inline int lp_seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static __always_inline int lp_seq_after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}

enum lp_seq_kind {
	LP_SEQ_NEW = 0,	 /* in-order new data: its first byte may be a start */
	LP_SEQ_OLD,	 /* starts below next: a (possibly partial) retransmission */
	LP_SEQ_AHEAD,	 /* starts beyond next: out of order, a hole before it */
};

/* Account for seq..seq+len in one direction and say what kind of data it was. */
static __always_inline int lp_seq_advance(struct lp_seq *d, __u32 seq, __u32 len)
{
	__u32 end = seq + len;

	if (seq == d->next) {
		d->next = end;
		/* the hole before data seen out of order is filled: resume after it */
		if (lp_seq_after(d->max, end))
			d->next = d->max;
		else
			d->max = end;
		return LP_SEQ_NEW;
	}
	if (lp_seq_before(seq, d->next)) {
		if (lp_seq_after(end, d->next)) {
			d->next = end;
			if (lp_seq_after(end, d->max))
				d->max = end;
		}
		return LP_SEQ_OLD;
	}
	if (lp_seq_after(end, d->max))
		d->max = end;
	return LP_SEQ_AHEAD;
}

static __always_inline int lp_cls_is_request(__u8 cls)
{
	return cls == LP_CLASS_REQUEST || (cls & LP_CLASS_PARTIAL_REQ);
}

/* Does a segment on a connection without state need state? */
static __always_inline int lp_conn_wants_state(const struct lp_seg *s)
{
	return s->plen && lp_cls_is_request(s->cls);
}

/* Begin a pending request on the connection. */
static __always_inline void lp_conn_begin(struct lp_conn *c, const struct lp_seg *s, __u64 now,
					  struct lp_verdict *v)
{
	c->start_ns = now ? now : 1;
	c->method = s->method;
	c->flags = 0;
	if (s->cls != LP_CLASS_REQUEST) {
		/* the start is cut short ("GE"): we cannot tell the method */
		c->flags = LP_CONN_UNTIMED;
		c->method = LP_METHOD_NONE;
		v->counters |= 1u << LP_CNT_UNTIMED;
	} else {
		v->counters |= 1u << LP_CNT_REQUESTS;
	}
	/* what the requester acknowledged is old data in the response direction */
	if (lp_seq_after(s->ack, c->rsp.next)) {
		c->rsp.next = s->ack;
		if (lp_seq_after(s->ack, c->rsp.max))
			c->rsp.max = s->ack;
	}
}

/*
 * Initialise fresh (zeroed) state from the segment that made
 * lp_conn_wants_state() true.
 */
static __always_inline void lp_conn_init(struct lp_conn *c, const struct lp_seg *s, __u64 now,
					 struct lp_verdict *v)
{
	c->role = s->ingress ? LP_ROLE_SERVER : LP_ROLE_CLIENT;
	c->req.next = s->seq + s->plen;
	c->req.max = c->req.next;
	c->rsp.next = s->ack;
	c->rsp.max = s->ack;
	lp_conn_begin(c, s, now, v);
}

/* The pending request ends without a sample. */
static __always_inline void lp_conn_drop(struct lp_conn *c, struct lp_verdict *v, __u32 counter)
{
	if (!(c->flags & LP_CONN_UNTIMED))
		v->counters |= 1u << counter;
	c->start_ns = 0;
	c->flags = 0;
}

/*
 * A segment on a connection that has state. now is read only when a request
 * or response starts (s->cls != LP_CLASS_NONE): the BPF side passes 0
 * otherwise and saves the clock read.
 */
static __always_inline void lp_conn_step(struct lp_conn *c, const struct lp_seg *s, __u64 now,
					 struct lp_verdict *v)
{
	int req_dir, kind;

	if (c->role != LP_ROLE_SERVER && c->role != LP_ROLE_CLIENT)
		return;
	req_dir = (c->role == LP_ROLE_SERVER) == (s->ingress != 0);

	if (req_dir) {
		if (s->plen) {
			kind = lp_seq_advance(&c->req, s->seq, s->plen);
			if (kind == LP_SEQ_OLD) {
				v->counters |= 1u << LP_CNT_RETRANSMITS;
			} else if (!c->start_ns && kind == LP_SEQ_NEW && lp_cls_is_request(s->cls)) {
				lp_conn_begin(c, s, now, v);
			} else if (s->cls == LP_CLASS_REQUEST) {
				/*
				 * a whole request start while one is pending (pipelining,
				 * or a body that begins like one), or after a hole: seen,
				 * not timed. A lone prefix ("T") is a continuation.
				 */
				v->counters |= 1u << LP_CNT_UNTIMED;
			}
		}
		if ((s->tcp_flags & LP_TCP_RST) && c->start_ns)
			lp_conn_drop(c, v, LP_CNT_UNANSWERED);
		return;
	}

	if (s->plen) {
		kind = lp_seq_advance(&c->rsp, s->seq, s->plen);
		if (kind == LP_SEQ_OLD) {
			v->counters |= 1u << LP_CNT_RETRANSMITS;
		} else if (kind == LP_SEQ_NEW && c->start_ns) {
			if (s->cls == LP_CLASS_RESPONSE) {
				if (lp_status_is_interim(s->status)) {
					v->counters |= 1u << LP_CNT_INTERIM;
				} else {
					if (!(c->flags & LP_CONN_UNTIMED)) {
						v->record = 1;
						v->latency_ns = now - c->start_ns;
						v->side = c->role;
						v->method = c->method;
						v->status = s->status;
					}
					c->start_ns = 0;
					c->flags = 0;
					if (s->status == 101) {
						c->role = LP_ROLE_DONE;
						v->counters |= 1u << LP_CNT_UPGRADED;
					}
				}
			} else if (s->cls & LP_CLASS_PARTIAL_RSP) {
				/* a status line cut short: we cannot tell the status */
				if (!(c->flags & LP_CONN_UNTIMED))
					v->counters |= 1u << LP_CNT_UNTIMED;
				c->start_ns = 0;
				c->flags = 0;
			}
		} else if (kind == LP_SEQ_NEW && s->cls == LP_CLASS_RESPONSE) {
			v->counters |= 1u << LP_CNT_ORPHAN_RESPONSES;
		}
	}
	if ((s->tcp_flags & (LP_TCP_FIN | LP_TCP_RST)) && c->start_ns)
		lp_conn_drop(c, v, LP_CNT_UNANSWERED);
}

#endif /* LP_CONN_H */
