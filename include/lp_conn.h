/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-connection state machine, protocol-agnostic part: a segment of a
 * connection with state is set up for its direction (sequence following,
 * include/lp_tcpseq.h), its new in-order bytes are fed to the connection's
 * protocol through a bounded loop of reads (LP_CONN_SEGMENT), and the
 * protocol's verdict (include/lp_verdict.h) says which samples came out.
 *
 * A connection's protocol is fixed in its state (lp_queue.proto); each
 * protocol is a pure header of its own: HTTP/1.x is include/lp_h1.h,
 * HTTP/2 include/lp_h2.h (whose larger state lives beside struct lp_conn,
 * passed in as h). A new protocol is a new header and one case in each
 * dispatch below.
 *
 * Used by: bpf/latprobe.bpf.c and bpf/tls.bpf.h, which run LP_CONN_SEGMENT
 * on each payload or FIN/RST segment of a connection with state (or each
 * TLS read and write) and apply the verdict to their maps, and
 * tests/unit/test_conn.c, which drives whole conversations through the same
 * macro. Pure: no helpers, no maps; the time and the byte reads are the
 * caller's.
 */
#ifndef LP_CONN_H
#define LP_CONN_H

#include <linux/types.h>
#include "latprobe.h"
#include "lp_tcpseq.h"
#include "lp_verdict.h"
#include "lp_h1.h"
#include "lp_h2_frame.h"

_Static_assert(LP_HP_WIN == LP_WIN, "header blocks are read into the read window");

/*
 * Advance through the segment where no bytes are needed; return 1 with *rd
 * set for the next read, 0 when the segment is done. h: the connection's
 * HTTP/2 state (NULL unless it is HTTP/2).
 */
static __always_inline int lp_conn_next(struct lp_conn *c, struct lp_h2 *h, struct lp_run *r,
					struct lp_verdict *v, struct lp_read *rd)
{
	switch (c->q.proto) {
	case LP_PROTO_HTTP1:
		return lp_h1_next(c, r, v, rd);
	case LP_PROTO_HTTP2:
		return lp_h2_next(h, r, v, rd);
	default:
		r->pos = r->send;
		return 0;
	}
}

/* Bytes the last read returned: buf holds n >= 1 bytes at r->pos. */
static __always_inline int lp_conn_feed(struct lp_conn *c, struct lp_h2 *h, struct lp_run *r,
					const __u8 *buf, __u32 n, struct lp_verdict *v,
					struct lp_read *rd)
{
	switch (c->q.proto) {
	case LP_PROTO_HTTP1:
		return lp_h1_feed(c, r, buf, n, v, rd);
	case LP_PROTO_HTTP2:
		return lp_h2_feed(h, r, buf, n, v, rd);
	default:
		r->pos = r->send;
		return 0;
	}
}

/* A read failed or the steps ran out: the rest of the segment cannot be followed. */
static __always_inline void lp_conn_giveup(struct lp_conn *c, struct lp_h2 *h, struct lp_run *r,
					   struct lp_verdict *v)
{
	switch (c->q.proto) {
	case LP_PROTO_HTTP1:
		lp_h1_giveup(c, r);
		break;
	case LP_PROTO_HTTP2:
		lp_h2_giveup(h, r, v);
		break;
	default:
		break;
	}
}

/* reads a segment may take: HTTP/2 packs many frames into one segment */
static __always_inline __u32 lp_conn_steps(const struct lp_conn *c)
{
	return c->q.proto == LP_PROTO_HTTP2 ? LP_H2_STEPS : LP_H1_STEPS;
}

/*
 * The first segment of a direction that starts open (lp_dir.open_start):
 * an HTTP/2 connection's response direction. The server speaks first (its
 * SETTINGS), and the segment that made the state may carry an ack that
 * does not cover what it had already sent: on the server, sent at accept
 * before the preface came in; on the client, already past the received
 * hook but not yet taken by TCP (loopback: the two CPUs race). Those bytes
 * left the server before it had a request: they held no response, and
 * they will never be seen. The direction begins at the first segment seen.
 * A received one has first waited its bounded while for the segment
 * before it (lp_h2_wait), so a segment truly first is not overtaken by the
 * next on the other CPU; past that bound (bytes that went by before the
 * state never come) it begins the direction. The move is one
 * compare-and-swap all the same (lp_seq_take's reasons).
 */
static __always_inline void lp_conn_open_start(struct lp_conn *c, struct lp_h2 *h, __u32 seq,
					       int rsp)
{
	struct lp_dir *d = rsp ? &c->rsp.d : &c->req;
	struct lp_dir cur, want;

	d->open_start = 0;
	cur.next_max = *(volatile __u64 *)&d->next_max;
	if (!lp_seq_after(seq, cur.next))
		return;
	want.next = seq;
	want.max = lp_seq_after(cur.max, seq) ? cur.max : seq;
	if (__sync_val_compare_and_swap(&d->next_max, cur.next_max, want.next_max) != cur.next_max)
		return;
	if (h)
		lp_h2_rebase(h, rsp, seq);
}

/* the kernel side makes it a global function: one branch less for the verifier to fork on */
#ifndef LP_CONN_OPEN_START
#define LP_CONN_OPEN_START(c, h, seq, rsp) lp_conn_open_start(c, h, seq, rsp)
#endif

/*
 * Set up the run for a segment of a connection with state. Returns 0 when
 * there is nothing to frame or close (tracking ended, pure ACK).
 */
static __always_inline int lp_conn_begin(struct lp_conn *c, struct lp_h2 *h, const struct lp_seg *s,
					 __u64 now, struct lp_run *r, struct lp_verdict *v)
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
	if (s->plen && d->open_start)
		LP_CONN_OPEN_START(c, h, s->seq, r->rsp);
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
static __always_inline void lp_conn_end(struct lp_conn *c, struct lp_h2 *h, const struct lp_seg *s,
					struct lp_run *r, struct lp_verdict *v)
{
	switch (c->q.proto) {
	case LP_PROTO_HTTP1:
		lp_h1_end(c, s, r, v);
		break;
	case LP_PROTO_HTTP2:
		lp_h2_end(c, h, s, r, v);
		break;
	default:
		break;
	}
}

/*
 * An HTTP/1.1 request that offered h2c was answered 101 (include/lp_h1.h
 * left r->pos just after the 101's head, r->want LP_WANT_H2C): from there
 * the connection is HTTP/2, and the request its stream 1, whose response
 * comes in HTTP/2 frames. h: HTTP/2 state the caller made for it, or NULL
 * when it could not (tracking ends, as for any other upgrade). Returns 1
 * to go on with the rest of the segment as HTTP/2, 0 when it is done.
 */
static __always_inline int lp_conn_h2c(struct lp_conn *c, struct lp_h2 *h, struct lp_run *r,
				       struct lp_verdict *v)
{
	__u64 start = (c->rsp.mflags & LP_MF_TIMED) ? c->rsp.start_ns : 0;

	r->want = 0;
	c->rsp.mflags = 0;
	c->rsp.d.fstate = LP_F_IDLE;
	if (!h) {
		c->q.role = LP_ROLE_DONE;
		lp_count(v, LP_CNT_UPGRADED);
		if (start)
			lp_count(v, LP_CNT_UNANSWERED);
		r->stop = 1;
		return 0;
	}
	/* the client's preface comes after the request, where its direction is now */
	lp_h2_upgrade(h, c->req.next, r->pos, start, c->rsp.method, c->rsp.route);
	c->q.proto = LP_PROTO_HTTP2;
	lp_count(v, LP_CNT_H2C);
	return 1;
}

/*
 * The kernel side defines LP_CONN_H2C(c, v) to the HTTP/2 state it makes
 * for a connection upgraded to h2c (NULL where it cannot: inside TLS, h2c
 * does not exist); the host tests to their own.
 */
#ifndef LP_CONN_H2C
#define LP_CONN_H2C(c, v) ((struct lp_h2 *)0)
#endif

/*
 * One segment of a connection with state, start to end. LOAD(off, len) must
 * copy payload bytes [off, off + len) into buf and evaluate to 0, or fail
 * (non-zero). buf: LP_WIN bytes, 8-byte aligned. The kernel and the tests
 * run this same loop.
 */
#define LP_CONN_STEPS LP_H2_STEPS /* the most any protocol takes (lp_conn_steps) */

/*
 * The kernel side defines LP_CONN_FEED to a BPF global function around
 * lp_conn_feed (verified once, on its own, however often the loop calls it).
 */
#ifndef LP_CONN_FEED
#define LP_CONN_FEED(c, h, r, buf, n, v) lp_conn_feed(c, h, r, buf, n, v, &(r)->rd)
#define LP_CONN_NEXT(c, h, r, v)	 lp_conn_next(c, h, r, v, &(r)->rd)
#endif

/*
 * The kernel side records a verdict's samples so far (and empties it) when
 * it is half full: an HTTP/2 segment can end many streams, a step at most
 * 2 * LP_H2_FRAMES samples. Here (the host tests) the verdict just fills.
 */
#ifndef LP_VERDICT_FLUSH
#define LP_VERDICT_FLUSH(v) ((void)0)
#endif
_Static_assert(2 * LP_H2_FRAMES <= LP_VERDICT_SAMPLES / 2, "a step fits a half-full verdict");

/*
 * The reads of one segment, at most steps of them (LP_CONN_SEGMENT): a
 * read asked for, loaded, fed to the protocol. Stops early at an upgrade
 * to h2c (r.want LP_WANT_H2C), which the caller handles outside the loop:
 * the verifier then walks the switch once, not once per step.
 */
#define LP_CONN_READS(c, h, r, v, buf, LOAD, steps)                                                \
	do {                                                                                       \
		__u32 __i, __more = 0;                                                             \
		for (__i = 0; __i < LP_CONN_STEPS; __i++) {                                        \
			if (__i >= (steps))                                                        \
				break;                                                             \
			if (!__more && !LP_CONN_NEXT((c), (h), &(r), (v)))                         \
				break;                                                             \
			if ((r).rd.len == 0 || (r).rd.len > LP_WIN ||                              \
			    (!(r).inwin && LOAD((r).rd.off, (r).rd.len)))                          \
				break;                                                             \
			(r).inwin = 0;                                                             \
			__more = LP_CONN_FEED((c), (h), &(r), (buf), (r).rd.len, (v));             \
			if ((v)->n > LP_VERDICT_SAMPLES / 2)                                       \
				LP_VERDICT_FLUSH(v);                                               \
			if ((r).want == LP_WANT_H2C)                                               \
				break;                                                             \
		}                                                                                  \
	} while (0)

/* h: the connection's HTTP/2 state, or NULL */
#define LP_CONN_SEGMENT(c, h, s, now, v, buf, LOAD)                                                \
	do {                                                                                       \
		struct lp_run __r = {};                                                            \
		struct lp_h2 *__h = (h);                                                           \
		if (!lp_conn_begin((c), __h, (s), (now), &__r, (v)))                               \
			break;                                                                     \
		LP_CONN_READS((c), __h, __r, (v), (buf), LOAD, lp_conn_steps(c));                  \
		if (__r.want == LP_WANT_H2C) {                                                     \
			/* the rest of the segment as HTTP/2 (its own steps) */                    \
			__h = LP_CONN_H2C((c), (v));                                               \
			if (lp_conn_h2c((c), __h, &__r, (v)))                                      \
				LP_CONN_READS((c), __h, __r, (v), (buf), LOAD, LP_H2_STEPS);       \
		}                                                                                  \
		lp_conn_giveup((c), __h, &__r, (v));                                               \
		lp_conn_end((c), __h, (s), &__r, (v));                                             \
	} while (0)

/*
 * Does a segment on a connection with state need the time: can it begin or
 * end a message? The kernel side reads the clock only when this says so (a
 * clock read is one of the dearest steps: bench/RESULTS.md, "Cache lines");
 * a time not taken is 0, which never makes a sample.
 */
static __always_inline int lp_conn_needs_time(const struct lp_conn *c, const struct lp_seg *s)
{
	if (c->q.role != LP_ROLE_SERVER && c->q.role != LP_ROLE_CLIENT)
		return 0;
	switch (c->q.proto) {
	case LP_PROTO_HTTP1:
		return lp_h1_needs_time(c, s);
	case LP_PROTO_HTTP2:
		return (s->tcp_flags & (LP_TCP_FIN | LP_TCP_RST)) || s->plen;
	default:
		return 0;
	}
}

/*
 * --client-address host, a client connection: the number of the host its
 * series are named by (0: none yet, named by the address): its first
 * HTTP/1.x request's Host (an h2c upgrade's too), else its HTTP/2
 * :authority, which h is set to want until a request's names a host.
 */
static __always_inline __u32 lp_conn_host(const struct lp_conn *c, struct lp_h2 *h)
{
	if (c->host)
		return c->host;
	if (!h)
		return 0;
	if (!h->host)
		h->host = LP_H2_HOST_WANT;
	return h->host == LP_H2_HOST_WANT ? 0 : h->host;
}

/* Does a segment on a connection without state need state? */
static __always_inline int lp_conn_wants_state(const struct lp_seg *s)
{
	return s->plen && (s->cls == LP_CLASS_REQUEST || s->cls == LP_CLASS_H2 ||
			   s->cls == LP_CLASS_H2_FRAME ||
			   (s->cls & (LP_CLASS_PARTIAL_REQ | LP_CLASS_PARTIAL_H2)));
}

/* ... and is it HTTP/2's (the caller creates its HTTP/2 state too, lp_h2_init)? */
static __always_inline int lp_conn_is_h2(const struct lp_seg *s)
{
	/* "P" alone could be either: HTTP/1.x, as before HTTP/2 was followed */
	return s->cls == LP_CLASS_H2 || s->cls == LP_CLASS_H2_FRAME ||
	       ((s->cls & LP_CLASS_PARTIAL_H2) && !(s->cls & LP_CLASS_PARTIAL_REQ));
}

/*
 * Initialise fresh (zeroed) state for the segment that made
 * lp_conn_wants_state() true; the caller then runs LP_CONN_SEGMENT on it.
 */
static __always_inline void lp_conn_init(struct lp_conn *c, const struct lp_seg *s)
{
	c->q.role = s->ingress ? LP_ROLE_SERVER : LP_ROLE_CLIENT;
	c->q.proto = lp_conn_is_h2(s) ? LP_PROTO_HTTP2 : LP_PROTO_HTTP1;
	c->req.next = s->seq;
	c->req.max = s->seq;
	/* what the requester acknowledged is old data in the response direction */
	c->rsp.d.next = s->ack;
	c->rsp.d.max = s->ack;
	/* an HTTP/2 server speaks first (its SETTINGS), maybe before this segment's ack saw it */
	c->rsp.d.open_start = c->q.proto == LP_PROTO_HTTP2 && s->cls != LP_CLASS_H2_FRAME;
}

#endif /* LP_CONN_H */
