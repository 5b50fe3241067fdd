/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-connection state machine: given what one TCP segment carries, how
 * does the connection's state change, and which latency samples come out?
 *
 * Used by: bpf/latprobe.bpf.c, which runs LP_CONN_SEGMENT on each payload or
 * FIN/RST segment of a connection with state and applies the verdict
 * (samples, counters) to its maps, and tests/unit/test_conn.c, which drives
 * whole conversations through the same macro. Pure: no helpers, no maps;
 * the time and the byte reads are the caller's.
 *
 * The rules (README.md, "What it measures", says them for users):
 *  - the first request seen fixes the connection's role for its lifetime:
 *    request in = server side, request out = client side;
 *  - each direction is framed exactly (RFC 9112 section 6): a message starts
 *    where the previous one ended; its head is read for Content-Length and
 *    Transfer-Encoding, its body is followed by sequence arithmetic, never
 *    read, except chunk-size lines; responses to HEAD, 1xx, 204 and 304 have
 *    no body; a response without a length ends at the responder's FIN;
 *  - a request's time starts at its first byte, in whichever segment; up to
 *    LP_PIPE requests wait for their responses (pipelining, answered in
 *    order); the response's last byte ends the sample (and its first byte a
 *    time-to-first-byte sample);
 *  - 1xx other than 101 are passed over, alone or with the final response
 *    in one segment; 101 and a CONNECT's 2xx end tracking;
 *  - only in-order new data is framed: retransmitted bytes are ignored, data
 *    seen out of order is accounted when the hole before it fills;
 *  - what cannot be framed (a head split across segments or longer than
 *    LP_WIN, a coding not understood, framing lost) is timed to the last body
 *    byte seen before the next response or the close, and counted apart;
 *  - FIN from the responder or RST with a response pending or unfinished
 *    counts it as unanswered.
 */
#ifndef LP_CONN_H
#define LP_CONN_H

#include <linux/types.h>
#include "latprobe.h"
#include "lp_classify.h"
#include "lp_http.h"
#include "lp_route.h"

/*
 * LP_ROUTE(buf, n, method): the route id (include/lp_route.h) of the request
 * whose head is buf[0..n). The kernel side defines it to a lookup in its
 * trie of --route prefixes; without routes (and by default here) every
 * request is LP_ROUTE_NONE. The unit tests define it to their own table.
 */
#ifndef LP_ROUTE
#define LP_ROUTE(buf, n, method) LP_ROUTE_NONE
#endif

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
	__u16 pad;
};

#define LP_VERDICT_SAMPLES 8 /* samples one segment can end; more are counted lost (a power of two) */

/* What to do about a segment. */
struct lp_verdict {
	__u8 cnt[LP_CNT_VERDICT]; /* by enum lp_counter: how much to add to each counter */
	__u8 side;		   /* enum lp_side of the samples */
	__u8 n;			   /* samples in s[] */
	__u8 hi;		   /* cnt[] is zero from here on */
	__u8 pad[5];
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
	__u8 pad;
	struct lp_read rd; /* the read asked for */
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

static __always_inline struct lp_dir *lp_run_dir(struct lp_conn *c, const struct lp_run *r)
{
	return r->rsp ? &c->rsp.d : &c->req;
}

static __always_inline void lp_count(struct lp_verdict *v, __u32 counter)
{
	if (counter < LP_CNT_MAX && v->cnt[counter] < 255) {
		v->cnt[counter]++;
		if (v->hi <= counter)
			v->hi = counter + 1;
	}
}

static __always_inline void lp_sample_put(struct lp_sample *s, __u64 d, __u16 status, __u8 method,
					  __u8 kind, __u16 route)
{
	s->ns = d;
	s->status = status;
	s->method = method;
	s->kind = kind;
	s->route = route;
}

static __always_inline void lp_sample(struct lp_verdict *v, __u64 start, __u64 end, __u16 status,
				      __u8 method, __u8 kind, __u16 route)
{
	__u64 d = end - start;
	__u8 i = v->n;

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
	lp_sample_put(&v->s[i & (LP_VERDICT_SAMPLES - 1)], d, status, method, kind, route);
	v->n = i + 1;
}

/* The response in flight ends now (at_ns): its sample, and the direction is idle. */
static __always_inline void lp_rsp_end(struct lp_conn *c, struct lp_verdict *v, __u64 at_ns,
				       int unframed)
{
	if (c->rsp.mflags & LP_MF_TIMED) {
		lp_sample(v, c->rsp.start_ns, at_ns, c->rsp.status, c->rsp.method,
			  LP_SAMPLE_DURATION, c->rsp.route);
		if (unframed)
			lp_count(v, LP_CNT_UNFRAMED);
	}
	c->rsp.mflags = 0;
	c->rsp.d.fstate = LP_F_IDLE;
}

/* The message in flight in the run's direction ended with the byte before pos. */
static __always_inline void lp_msg_end(struct lp_conn *c, struct lp_run *r, struct lp_verdict *v)
{
	if (r->rsp)
		lp_rsp_end(c, v, r->now, 0);
	else
		c->req.fstate = LP_F_IDLE;
}

/* Framing cannot be followed: the message goes on, unframed. */
static __always_inline void lp_unframe(struct lp_conn *c, struct lp_run *r)
{
	lp_run_dir(c, r)->fstate = LP_F_UNFRAMED;
	if (r->rsp)
		c->rsp.last_ns = r->now;
}

/*
 * The body of a message whose head ended at sequence number body.
 * Returns 1 when the message ended with its head.
 */
static __always_inline int lp_frame_body(struct lp_dir *d, __u32 body, const struct lp_head *h,
					 int nobody, int response)
{
	if (nobody)
		return 1;
	if (h->flags & LP_HF_UNSURE) {
		d->fstate = LP_F_UNFRAMED;
		return 0;
	}
	if (h->flags & LP_HF_TE) {
		if (h->flags & LP_HF_CHUNKED) {
			d->fstate = LP_F_CHUNKED;
			d->chunk = LP_CH_SIZE0;
			d->acc = 0;
		} else {
			/* a response: to the close (RFC 9112 6.3 item 4); a request: 400 */
			d->fstate = response ? LP_F_CLOSE : LP_F_UNFRAMED;
		}
		return 0;
	}
	if (h->flags & LP_HF_LENGTH) {
		if (!h->length)
			return 1;
		if (h->length >= 1ULL << 31) {
			/* beyond what sequence arithmetic compares: to the next message or close */
			d->fstate = LP_F_UNFRAMED;
			return 0;
		}
		d->fstate = LP_F_LENGTH;
		d->end = body + (__u32)h->length;
		return 0;
	}
	if (response) {
		d->fstate = LP_F_CLOSE;
		return 0;
	}
	return 1; /* a request without a length has no body */
}

/* A request begins at r->pos (in this segment: its time is now). */
static __always_inline void lp_req_begin(struct lp_conn *c, struct lp_run *r, __u8 method,
					 __u16 route, int timed, struct lp_verdict *v)
{
	struct lp_queue *q = &c->q;
	__u8 i = q->begun, e = i & (LP_PIPE - 1);

	if (!r->now)
		timed = 0; /* no time was taken for this segment: never a guess */
	if ((__u8)(i - q->answered) < LP_PIPE) {
		q->start_ns[e] = r->now;
		q->seq[e] = i;
		q->method[e] = method;
		q->route[e] = route;
		q->flags[e] = timed ? 0 : LP_PF_UNTIMED;
		lp_count(v, timed ? LP_CNT_REQUESTS : LP_CNT_UNTIMED);
	} else {
		/* queue full: the entry keeps an older request's seq, so its response
		 * will not pair with this one */
		lp_count(v, LP_CNT_UNTIMED);
	}
	q->begun = i + 1;
}

/* requests begun and not yet answered */
static __always_inline __u8 lp_pending(const struct lp_conn *c)
{
	return c->q.begun - c->q.answered;
}

/*
 * A response head begins at r->pos; head is NULL when it could not be read
 * whole. Returns 1 when tracking of the connection ends (101, tunnel).
 */
static __always_inline int lp_rsp_begin(struct lp_conn *c, struct lp_run *r, __u16 status,
					const struct lp_head *head, struct lp_verdict *v)
{
	__u8 i = c->q.answered, e = i & (LP_PIPE - 1), nobody;

	if (lp_status_is_interim(status)) {
		lp_count(v, LP_CNT_INTERIM);
		if (!head) {
			lp_unframe(c, r);
			return 0;
		}
		r->pos += head->len; /* no body: the final response may follow at once */
		return 0;
	}
	c->rsp.mflags = 0;
	c->rsp.method = LP_METHOD_NONE;
	c->rsp.status = status;
	if (lp_pending(c)) {
		c->q.answered = i + 1;
		c->rsp.method = c->q.method[e];
		c->rsp.route = c->q.route[e];
		c->rsp.start_ns = c->q.start_ns[e];
		c->rsp.mflags = LP_MF_TIMED;
		if (c->q.seq[e] != i || (c->q.flags[e] & LP_PF_UNTIMED)) {
			c->rsp.mflags = 0;
			c->rsp.method = LP_METHOD_NONE;
		} else {
			lp_sample(v, c->rsp.start_ns, r->now, status, c->rsp.method, LP_SAMPLE_TTFB,
				  c->rsp.route);
		}
	} else {
		lp_count(v, LP_CNT_ORPHAN_RESPONSES);
	}
	if (status == 101 || (c->rsp.method == LP_METHOD_CONNECT && status < 300)) {
		/* the connection is no longer HTTP/1.x: the response ends with its head */
		lp_rsp_end(c, v, r->now, 0);
		c->q.role = LP_ROLE_DONE;
		lp_count(v, LP_CNT_UPGRADED);
		return 1;
	}
	if (!head) {
		lp_unframe(c, r);
		return 0;
	}
	nobody = c->rsp.method == LP_METHOD_HEAD || status == 204 || status == 304;
	r->pos += head->len;
	if (lp_frame_body(&c->rsp.d, r->pos, head, nobody, 1))
		lp_rsp_end(c, v, r->now, 0);
	else if (c->rsp.d.fstate == LP_F_UNFRAMED)
		c->rsp.last_ns = r->now;
	return 0;
}

/*
 * A message must start at r->pos; buf holds n bytes from there. Returns 1
 * with *rd set when a longer read of the head is needed first.
 */
static __always_inline int lp_feed_head(struct lp_conn *c, struct lp_run *r, const __u8 *buf,
					__u32 n, struct lp_verdict *v, struct lp_read *rd)
{
	__u32 left = r->send - r->pos, cn = n < LP_CLASSIFY_BYTES ? n : LP_CLASSIFY_BYTES;
	struct lp_head h;
	__u16 status = 0;
	__u8 method = 0;
	int cls, hr;

	cls = lp_classify(buf, cn, &method, &status);
	if (cls != (r->rsp ? LP_CLASS_RESPONSE : LP_CLASS_REQUEST)) {
		if (r->rsp ? (cls & LP_CLASS_PARTIAL_RSP) : (cls & LP_CLASS_PARTIAL_REQ)) {
			/* the start line is cut short by the segment's end: untimed, unframed */
			if (r->rsp) {
				if (lp_pending(c))
					c->q.answered++;
				c->rsp.mflags = 0;
				lp_count(v, LP_CNT_UNTIMED);
			} else {
				lp_req_begin(c, r, LP_METHOD_NONE, LP_ROUTE_NONE, 0, v);
			}
		}
		/* not a message where one must start: framing is lost */
		lp_unframe(c, r);
		r->pos = r->send;
		return 0;
	}
	hr = lp_head_scan(buf, n, &h);
	if (hr == LP_HEAD_MORE && n < left && n < LP_WIN) {
		rd->off = r->pos - r->seq;
		rd->len = left < LP_WIN ? left : LP_WIN;
		return 1;
	}
	if (r->rsp) {
		if (lp_rsp_begin(c, r, status, hr == LP_HEAD_DONE ? &h : 0, v)) {
			r->stop = 1;
			return 0;
		}
		if (hr != LP_HEAD_DONE)
			r->pos = r->send;
		return 0;
	}
	/* the route from the head as read: a cut path matches only what it certainly is */
	lp_req_begin(c, r, method, LP_ROUTE(buf, n, method), 1, v);
	if (hr != LP_HEAD_DONE) {
		lp_unframe(c, r);
		r->pos = r->send;
		return 0;
	}
	r->pos += h.len;
	if (lp_frame_body(&c->req, r->pos, &h, 0, 0))
		c->req.fstate = LP_F_IDLE;
	return 0;
}

/* Chunk-size line, CRLF or trailer bytes at r->pos: buf holds n of them. */
static __always_inline void lp_feed_chunk(struct lp_conn *c, struct lp_run *r, const __u8 *buf,
					  __u32 n, struct lp_verdict *v)
{
	struct lp_dir *d = lp_run_dir(c, r);
	__u32 used = 0;
	__u8 st = d->chunk;
	__u64 acc = d->acc;
	int res;

	res = lp_chunk_feed(&st, &acc, buf, n, &used);
	d->chunk = st;
	d->acc = acc;
	r->pos += used;
	if (res == LP_CHR_DATA) {
		if (acc >= 1ULL << 31)
			lp_unframe(c, r);
		else
			d->end = r->pos + (__u32)acc;
	} else if (res == LP_CHR_END) {
		lp_msg_end(c, r, v);
	} else if (res == LP_CHR_BAD) {
		lp_unframe(c, r);
		r->pos = r->send;
	}
}

/*
 * Unframed, at the start of a segment: buf holds n bytes. A message start
 * there ends the unframed one if it can only be a new message: a response
 * while another request waits, a request while none does.
 */
static __always_inline int lp_feed_resync(struct lp_conn *c, struct lp_run *r, const __u8 *buf,
					  __u32 n, struct lp_verdict *v, struct lp_read *rd)
{
	__u32 cn = n < LP_CLASSIFY_BYTES ? n : LP_CLASSIFY_BYTES;
	__u8 pending = lp_pending(c), method = 0;
	__u16 status = 0;
	int cls = lp_classify(buf, cn, &method, &status);

	if (r->rsp && cls == LP_CLASS_RESPONSE &&
	    (pending != 0 || !(c->rsp.mflags & LP_MF_TIMED))) {
		lp_rsp_end(c, v, c->rsp.last_ns, 1);
		return lp_feed_head(c, r, buf, n, v, rd);
	}
	if (!r->rsp && cls == LP_CLASS_REQUEST && pending == 0) {
		c->req.fstate = LP_F_IDLE;
		return lp_feed_head(c, r, buf, n, v, rd);
	}
	if (r->rsp)
		c->rsp.last_ns = r->now;
	r->pos = r->send;
	return 0;
}

/*
 * Advance through the segment where no bytes are needed (body data); return
 * 1 with *rd set for the next read, 0 when the segment is done.
 */
static __always_inline int lp_conn_next(struct lp_conn *c, struct lp_run *r, struct lp_verdict *v,
					struct lp_read *rd)
{
	struct lp_dir *d = lp_run_dir(c, r);
	__u32 i, left;

	for (i = 0; i < 4; i++) {
		if (r->stop || !lp_seq_before(r->pos, r->send))
			return 0;
		left = r->send - r->pos;
		rd->off = r->pos - r->seq;
		switch (d->fstate) {
		case LP_F_IDLE:
			rd->len = left < LP_HEAD_FIRST ? left : LP_HEAD_FIRST;
			r->want = LP_WANT_HEAD;
			return 1;
		case LP_F_LENGTH:
			if (lp_seq_after(d->end, r->send)) {
				r->pos = r->send;
				return 0;
			}
			r->pos = d->end;
			lp_msg_end(c, r, v);
			break;
		case LP_F_CHUNKED:
			if (d->chunk == LP_CH_DATA) {
				if (lp_seq_after(d->end, r->send)) {
					r->pos = r->send;
					return 0;
				}
				r->pos = d->end;
				d->chunk = LP_CH_DCR;
				break;
			}
			rd->len = left < LP_CHUNK_READ ? left : LP_CHUNK_READ;
			r->want = LP_WANT_CHUNK;
			return 1;
		case LP_F_UNFRAMED:
			if (r->pos == r->seq) {
				rd->len = left < LP_HEAD_FIRST ? left : LP_HEAD_FIRST;
				r->want = LP_WANT_RESYNC;
				return 1;
			}
			/* body bytes, as for a close-delimited body */
			__attribute__((fallthrough));
		default: /* LP_F_CLOSE */
			if (r->rsp)
				c->rsp.last_ns = r->now;
			r->pos = r->send;
			return 0;
		}
	}
	return 0;
}

/* Bytes the last read returned: buf holds n >= 1 bytes at r->pos. */
static __always_inline int lp_conn_feed(struct lp_conn *c, struct lp_run *r, const __u8 *buf,
					__u32 n, struct lp_verdict *v, struct lp_read *rd)
{
	if (r->want == LP_WANT_HEAD)
		return lp_feed_head(c, r, buf, n, v, rd);
	if (r->want == LP_WANT_RESYNC)
		return lp_feed_resync(c, r, buf, n, v, rd);
	lp_feed_chunk(c, r, buf, n, v);
	return 0;
}

/* A read failed or the steps ran out: the rest of the segment cannot be framed. */
static __always_inline void lp_conn_giveup(struct lp_conn *c, struct lp_run *r)
{
	if (!r->stop && lp_seq_before(r->pos, r->send)) {
		lp_unframe(c, r);
		r->pos = r->send;
	}
}

/*
 * Set up the run for a segment of a connection with state. Returns 0 when
 * there is nothing to frame or close (tracking ended, pure ACK).
 */
static __always_inline int lp_conn_begin(struct lp_conn *c, const struct lp_seg *s, __u64 now,
					 struct lp_run *r, struct lp_verdict *v)
{
	struct lp_dir *d;
	__u32 old;

	if (c->q.role != LP_ROLE_SERVER && c->q.role != LP_ROLE_CLIENT)
		return 0;
	r->now = now;
	r->rsp = (c->q.role == LP_ROLE_SERVER) != (s->ingress != 0);
	r->seq = s->seq;
	r->pos = r->send = s->seq;
	r->stop = 0;
	v->side = c->q.role;
	d = lp_run_dir(c, r);
	if (s->plen) {
		int gaveup = 0;

		old = lp_seq_take(d, s->seq, s->plen, s->ingress, &gaveup);
		if (gaveup)
			lp_count(v, LP_CNT_BUSY);
		if (s->seq == old || lp_seq_before(s->seq, old)) {
			if (s->seq != old)
				lp_count(v, LP_CNT_RETRANSMITS);
			if (lp_seq_after(s->seq + s->plen, old)) {
				r->pos = old;
				r->send = s->seq + s->plen;
			}
		}
	}
	/* past send only when this segment's new data reached data seen out of order */
	r->jump = lp_seq_before(r->pos, r->send) ? d->next : r->send;
	return 1;
}

/* After the segment's bytes: data seen out of order before, then FIN and RST. */
static __always_inline void lp_conn_end(struct lp_conn *c, const struct lp_seg *s, struct lp_run *r,
					struct lp_verdict *v)
{
	struct lp_dir *d = lp_run_dir(c, r);
	__u8 pending;

	if (r->stop)
		return;
	if (lp_seq_after(r->jump, r->send) && lp_seq_before(r->pos, r->jump)) {
		/* a hole filled: [send, jump) arrived earlier, out of order, unread */
		if (d->fstate == LP_F_LENGTH && !lp_seq_after(d->end, r->jump)) {
			lp_msg_end(c, r, v); /* its last byte is in order only now */
			if (d->end != r->jump)
				lp_unframe(c, r);
		} else if (d->fstate == LP_F_LENGTH || d->fstate == LP_F_CLOSE ||
			   d->fstate == LP_F_UNFRAMED ||
			   (d->fstate == LP_F_CHUNKED && d->chunk == LP_CH_DATA &&
			    !lp_seq_before(d->end, r->jump))) {
			/* body bytes all of it (a LENGTH body that ends there was above) */
			if (r->rsp)
				c->rsp.last_ns = r->now;
		} else {
			lp_unframe(c, r);
		}
	}
	if (!(s->tcp_flags & (LP_TCP_FIN | LP_TCP_RST)))
		return;
	pending = lp_pending(c);
	if (s->tcp_flags & LP_TCP_RST) {
		if (pending || (c->rsp.mflags & LP_MF_TIMED))
			lp_count(v, LP_CNT_UNANSWERED);
		c->rsp.mflags = 0;
		c->q.role = LP_ROLE_DONE;
		return;
	}
	if (!r->rsp)
		return; /* the requester closing its side: responses may still come */
	if (c->rsp.d.fstate == LP_F_CLOSE && (c->rsp.mflags & LP_MF_TIMED))
		lp_rsp_end(c, v, r->now, 0);
	else if (c->rsp.d.fstate == LP_F_UNFRAMED && (c->rsp.mflags & LP_MF_TIMED))
		lp_rsp_end(c, v, c->rsp.last_ns, 1);
	else if (pending || (c->rsp.mflags & LP_MF_TIMED))
		lp_count(v, LP_CNT_UNANSWERED);
	c->rsp.mflags = 0;
	c->q.role = LP_ROLE_DONE;
}

/*
 * One segment of a connection with state, start to end. LOAD(off, len) must
 * copy payload bytes [off, off + len) into buf and evaluate to 0, or fail
 * (non-zero). buf: LP_WIN bytes, 8-byte aligned. The kernel and the tests
 * run this same loop.
 */
#define LP_CONN_STEPS 8

/*
 * The kernel side defines LP_CONN_FEED to a BPF global function around
 * lp_conn_feed (verified once, on its own, however often the loop calls it).
 */
#ifndef LP_CONN_FEED
#define LP_CONN_FEED(c, r, buf, n, v) lp_conn_feed(c, r, buf, n, v, &(r)->rd)
#define LP_CONN_NEXT(c, r, v)	      lp_conn_next(c, r, v, &(r)->rd)
#endif

#define LP_CONN_SEGMENT(c, s, now, v, buf, LOAD)                                                   \
	do {                                                                                       \
		struct lp_run __r = {};                                                            \
		__u32 __i, __more = 0;                                                             \
		if (!lp_conn_begin((c), (s), (now), &__r, (v)))                                    \
			break;                                                                     \
		for (__i = 0; __i < LP_CONN_STEPS; __i++) {                                        \
			if (!__more && !LP_CONN_NEXT((c), &__r, (v)))                              \
				break;                                                             \
			if (__r.rd.len == 0 || __r.rd.len > LP_WIN ||                              \
			    LOAD(__r.rd.off, __r.rd.len))                                          \
				break;                                                             \
			__more = LP_CONN_FEED((c), &__r, (buf), __r.rd.len, (v));                  \
		}                                                                                  \
		lp_conn_giveup((c), &__r);                                                         \
		lp_conn_end((c), (s), &__r, (v));                                                  \
	} while (0)

/*
 * Does a segment on a connection with state need the time: can it begin or
 * end a message? Body bytes of a known length that stop short of its end,
 * pure ACKs and retransmissions cannot. The kernel side reads the clock only
 * when this says so (on kvm-clock a read costs more than the whole empty
 * program); a time not taken is 0, which never makes a sample.
 */
static __always_inline int lp_conn_needs_time(const struct lp_conn *c, const struct lp_seg *s)
{
	const struct lp_dir *d;
	__u32 end = s->seq + s->plen;
	int rsp;

	if (c->q.role != LP_ROLE_SERVER && c->q.role != LP_ROLE_CLIENT)
		return 0;
	if (s->tcp_flags & (LP_TCP_FIN | LP_TCP_RST))
		return 1;
	rsp = (c->q.role == LP_ROLE_SERVER) != (s->ingress != 0);
	d = rsp ? &c->rsp.d : &c->req;
	if (!s->plen || !lp_seq_after(end, d->next))
		return 0; /* nothing new */
	if (s->seq != d->next || lp_seq_after(d->max, end))
		return 1; /* out of order, partly old, or filling a hole: let the state machine judge */
	if (d->fstate == LP_F_LENGTH && lp_seq_after(d->end, end))
		return 0;
	if (d->fstate == LP_F_CHUNKED && d->chunk == LP_CH_DATA && lp_seq_after(d->end, end))
		return 0;
	if (d->fstate == LP_F_CLOSE)
		return 0; /* ends with a FIN */
	return 1;
}

/* Does a segment on a connection without state need state? */
static __always_inline int lp_conn_wants_state(const struct lp_seg *s)
{
	return s->plen && (s->cls == LP_CLASS_REQUEST || (s->cls & LP_CLASS_PARTIAL_REQ));
}

/*
 * Initialise fresh (zeroed) state for the segment that made
 * lp_conn_wants_state() true; the caller then runs LP_CONN_SEGMENT on it.
 */
static __always_inline void lp_conn_init(struct lp_conn *c, const struct lp_seg *s)
{
	c->q.role = s->ingress ? LP_ROLE_SERVER : LP_ROLE_CLIENT;
	c->req.next = s->seq;
	c->req.max = s->seq;
	/* what the requester acknowledged is old data in the response direction */
	c->rsp.d.next = s->ack;
	c->rsp.d.max = s->ack;
}

#endif /* LP_CONN_H */
