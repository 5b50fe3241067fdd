/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x on a connection: given the new in-order bytes of one segment,
 * how does the connection's state change, and which latency samples come
 * out? The protocol-agnostic part (sequence following, the segment loop,
 * the dispatch by protocol) is include/lp_conn.h.
 *
 * Used through include/lp_conn.h (the kernel's LP_CONN_SEGMENT and
 * tests/unit/test_conn.c). Pure: no helpers, no maps; the time and the
 * byte reads are the caller's.
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
 *    in one segment; 101 and a CONNECT's 2xx end tracking, except a 101 to
 *    a request that offered h2c: the connection goes on as HTTP/2
 *    (include/lp_conn.h, lp_conn_h2c), the request as its stream 1;
 *  - only in-order new data is framed: retransmitted bytes are ignored, data
 *    seen out of order is accounted when the hole before it fills;
 *  - a sample is exact or is not made: a response whose framing is lost (a
 *    head split across segments or longer than LP_WIN, a coding not
 *    understood, more framing steps than a segment is given) is counted
 *    unframed, never sampled; the next message is found again where a
 *    segment starts with one;
 *  - when response framing is lost with requests waiting, the lost bytes may
 *    have answered some of them: pairing is uncertain, so no response pairs
 *    with a timed request (each counted unpaired, at its pairing or the
 *    close) until as many responses have begun as requests: nothing can be
 *    waiting then, and the next request is timed again;
 *  - FIN from the responder or RST counts an unfinished response and each
 *    timed request still waiting as unanswered (unpaired while uncertain).
 */
#ifndef LP_H1_H
#define LP_H1_H

#include <linux/types.h>
#include "latprobe.h"
#include "lp_classify.h"
#include "lp_http.h"
#include "lp_route.h"
#include "lp_tcpseq.h"
#include "lp_verdict.h"

/*
 * LP_ROUTE(buf, n, method): the route id (include/lp_route.h) of the request
 * whose head is buf[0..n). The kernel side defines it to a lookup in its
 * trie of --route prefixes; without routes (and by default here) every
 * request is LP_ROUTE_NONE. The unit tests define it to their own table.
 */
#ifndef LP_ROUTE
#define LP_ROUTE(buf, n, method) LP_ROUTE_NONE
#endif

/*
 * LP_REQ_HOST(buf, at, end): the number (lp_conn.host) of the host named by
 * a client request's Host value buf[at, end) (include/lp_host.h), asked
 * while LP_REQ_HOSTS is true (--client-address host) at a connection's
 * requests until one gives a number. The kernel side defines both to its
 * "hosts" map's numbering; by default no host is read.
 */
#ifndef LP_REQ_HOST
#define LP_REQ_HOSTS		  0
#define LP_REQ_HOST(buf, at, end) 0
#endif

#define LP_H1_STEPS 8 /* reads per segment (LP_CONN_SEGMENT) */

static __always_inline struct lp_dir *lp_run_dir(struct lp_conn *c, const struct lp_run *r)
{
	return r->rsp ? &c->rsp.d : &c->req;
}

/* The response in flight ends now (at_ns): its sample, and the direction is idle. */
static __always_inline void lp_rsp_end(struct lp_conn *c, struct lp_verdict *v, __u64 at_ns,
				       int unframed)
{
	if (c->rsp.mflags & LP_MF_TIMED) {
		if (unframed)
			lp_count(v, LP_CNT_UNFRAMED); /* its end is not known exactly */
		else
			lp_sample(v, c->rsp.start_ns, at_ns, c->rsp.status, c->rsp.method,
				  LP_SAMPLE_DURATION, c->rsp.route, LP_GRPC_NONE);
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

/* requests begun and not yet answered */
static __always_inline __u8 lp_pending(const struct lp_conn *c)
{
	return c->q.begun - c->q.answered;
}

/*
 * Framing cannot be followed: the message goes on, unframed. In responses,
 * the bytes not framed may hold the ends of waiting requests' responses:
 * pairing is uncertain until every request has had a response.
 */
static __always_inline void lp_unframe(struct lp_conn *c, struct lp_run *r)
{
	lp_run_dir(c, r)->fstate = LP_F_UNFRAMED;
	if (!r->rsp)
		return;
	c->rsp.last_ns = r->now;
	if (lp_pending(c))
		c->rsp.unpaired = 1;
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

/*
 * A response head begins at r->pos; head is NULL when it could not be read
 * whole. Returns 1 when tracking of the connection ends (101, tunnel), 2
 * when the connection goes on as HTTP/2 after this head (101 to h2c).
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
	if (status == 101 && head && lp_pending(c) && c->q.seq[e] == i &&
	    (c->q.flags[e] & LP_PF_H2C)) {
		/*
		 * h2c (RFC 7540 3.2): the connection is HTTP/2 from the byte after
		 * this head, the request its stream 1, answered there (no sample
		 * here; the caller switches protocol: LP_WANT_H2C)
		 */
		c->q.answered = i + 1;
		c->rsp.method = c->q.method[e];
		c->rsp.route = c->q.route[e];
		c->rsp.start_ns = c->q.start_ns[e];
		c->rsp.mflags =
			(c->q.flags[e] & LP_PF_UNTIMED) || c->rsp.unpaired ? 0 : LP_MF_TIMED;
		r->pos += head->len;
		r->want = LP_WANT_H2C;
		return 2;
	}
	if (lp_pending(c)) {
		c->q.answered = i + 1;
		c->rsp.method = c->q.method[e];
		c->rsp.route = c->q.route[e];
		c->rsp.start_ns = c->q.start_ns[e];
		c->rsp.mflags = LP_MF_TIMED;
		if (c->q.seq[e] != i || (c->q.flags[e] & LP_PF_UNTIMED)) {
			c->rsp.mflags = 0;
			c->rsp.method = LP_METHOD_NONE;
		} else if (c->rsp.unpaired) {
			/* this response may answer an earlier request: never a guess */
			c->rsp.mflags = 0;
			c->rsp.method = LP_METHOD_NONE;
			lp_count(v, LP_CNT_UNPAIRED);
		} else {
			lp_sample(v, c->rsp.start_ns, r->now, status, c->rsp.method, LP_SAMPLE_TTFB,
				  c->rsp.route, LP_GRPC_NONE);
		}
		if (!lp_pending(c))
			c->rsp.unpaired = 0; /* every request has had its response: certain again */
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
		int up = lp_rsp_begin(c, r, status, hr == LP_HEAD_DONE ? &h : 0, v);

		if (up == 1)
			r->stop = 1;
		if (up)
			return 0;
		if (hr != LP_HEAD_DONE)
			r->pos = r->send;
		return 0;
	}
	/* the route from the head as read: a cut path matches only what it certainly is */
	lp_req_begin(c, r, method, LP_ROUTE(buf, n, method), 1, v);
	if (LP_REQ_HOSTS && h.host_end && !c->host && c->q.role == LP_ROLE_CLIENT)
		c->host = LP_REQ_HOST(buf, h.host_at, h.host_end);
	if (hr != LP_HEAD_DONE) {
		lp_unframe(c, r);
		r->pos = r->send;
		return 0;
	}
	r->pos += h.len;
	if ((h.flags & LP_HF_H2C) && c->q.seq[(__u8)(c->q.begun - 1) & (LP_PIPE - 1)] ==
					     (__u8)(c->q.begun - 1))
		c->q.flags[(__u8)(c->q.begun - 1) & (LP_PIPE - 1)] |= LP_PF_H2C;
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
static __always_inline int lp_h1_next(struct lp_conn *c, struct lp_run *r, struct lp_verdict *v,
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
static __always_inline int lp_h1_feed(struct lp_conn *c, struct lp_run *r, const __u8 *buf,
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
static __always_inline void lp_h1_giveup(struct lp_conn *c, struct lp_run *r)
{
	if (!r->stop && lp_seq_before(r->pos, r->send)) {
		lp_unframe(c, r);
		r->pos = r->send;
	}
}

/* After the segment's bytes: data seen out of order before, then FIN and RST. */
static __always_inline void lp_h1_end(struct lp_conn *c, const struct lp_seg *s, struct lp_run *r,
					struct lp_verdict *v)
{
	struct lp_dir *d = lp_run_dir(c, r);
	__u8 pending, k, e;

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
	if (!(s->tcp_flags & LP_TCP_RST)) {
		if (!r->rsp)
			return; /* the requester closing its side: responses may still come */
		if (c->rsp.d.fstate == LP_F_CLOSE && (c->rsp.mflags & LP_MF_TIMED))
			lp_rsp_end(c, v, r->now, 0);
		else if (c->rsp.d.fstate == LP_F_UNFRAMED && (c->rsp.mflags & LP_MF_TIMED))
			lp_rsp_end(c, v, c->rsp.last_ns, 1);
	}
	/* the end: an unfinished response, and each timed request still waiting */
	if (c->rsp.mflags & LP_MF_TIMED)
		lp_count(v, LP_CNT_UNANSWERED);
	pending = lp_pending(c);
	for (k = 0; k < LP_PIPE; k++) {
		if (k >= pending)
			break;
		e = (__u8)(c->q.answered + k) & (LP_PIPE - 1);
		if (c->q.seq[e] == (__u8)(c->q.answered + k) && !(c->q.flags[e] & LP_PF_UNTIMED))
			lp_count(v, c->rsp.unpaired ? LP_CNT_UNPAIRED : LP_CNT_UNANSWERED);
	}
	c->rsp.mflags = 0;
	c->q.role = LP_ROLE_DONE;
}

/*
 * Does a segment on a connection with state need the time: can it begin or
 * end a message? Body bytes of a known length that stop short of its end,
 * pure ACKs and retransmissions cannot. The kernel side reads the clock only
 * when this says so (on kvm-clock a read costs more than the whole empty
 * program); a time not taken is 0, which never makes a sample.
 */
static __always_inline int lp_h1_needs_time(const struct lp_conn *c, const struct lp_seg *s)
{
	const struct lp_dir *d;
	__u32 end = s->seq + s->plen;
	int rsp;

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


#endif /* LP_H1_H */
