/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 on a connection (RFC 9113): given the new in-order bytes of one
 * segment, which streams begin and end, and which samples come out?
 *
 *  - a connection is HTTP/2 from its client preface ("PRI * HTTP/2.0 ...":
 *    h2c with prior knowledge, or the plaintext of TLS after ALPN h2); the
 *    side that sent it is the client, as a request fixes the role in HTTP/1;
 *    or from the byte after the 101 that answers an HTTP/1.1 request offering
 *    h2c (lp_h2_upgrade): that request is stream 1, and the client preface
 *    must then come where the request direction stands, or it is lost;
 *  - a connection met mid-stream (open before the agent) is HTTP/2 when a
 *    segment begins with a HEADERS frame of a client's stream whose header
 *    block walks whole to the frame's end and holds :method; until then it
 *    is on probation, and anything else ends its tracking, uncounted. Its
 *    other direction is followed from the first segment that begins with a
 *    HEADERS frame of a stream waiting for its response, whose block walks
 *    whole and holds :status; references into the tables from before are
 *    unresolved (counted), never guessed;
 *  - each direction is a sequence of frames followed by their lengths; only
 *    frame headers and header blocks are read, DATA is skipped by length;
 *    a frame header split across segments is completed from the next;
 *  - a stream is timed from the first byte of its request HEADERS to the
 *    last byte of the response frame that carries END_STREAM (DATA or
 *    trailers), and to the first byte of its final response HEADERS for the
 *    time to first byte; 1xx HEADERS are interim. Up to LP_H2_STREAMS are
 *    timed at once (a slot per stream, by its id); more are counted untimed;
 *  - :method and :status come from HPACK (include/lp_hpack.h), each
 *    direction's dynamic table followed; a stream whose method or status
 *    cannot be resolved is counted untimed, never given a guessed label;
 *  - a gRPC call is a stream whose response carries grpc-status, in its
 *    trailers or in a trailers-only response: its duration (to the
 *    response's END_STREAM, streaming calls too) is sampled with the code.
 *    A grpc-status that is no code (LP_CNT_GRPC_INVALID), or a last header
 *    block with a reference that cannot be resolved and no grpc-status
 *    (LP_CNT_H2_UNKNOWN: it may have been one), makes no sample;
 *  - RST_STREAM ends a stream, counted as reset, not sampled, and so does
 *    the server's GOAWAY for the streams above its last; a close or reset
 *    of the connection counts the streams still waiting unanswered;
 *  - the work per segment is bounded (LP_H2_STEPS reads, LP_H2_FRAMES frames
 *    a read, LP_HP_FIELDS fields a header block): where a segment holds more,
 *    or a header block is cut, the connection is no longer followed and its
 *    waiting streams are counted untimed: never a wrong sample.
 *
 * Used through include/lp_conn.h. Pure: no helpers, no maps.
 */
#ifndef LP_H2_H
#define LP_H2_H

#include <linux/types.h>
#include "latprobe.h"
#include "lp_classify.h"
#include "lp_tcpseq.h"
#include "lp_verdict.h"
#include "lp_hpack.h"
#include "lp_route.h"

#define LP_H2_PREFACE_LEN 24 /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
#define LP_H2_STREAMS	  32 /* streams timed at once per connection (a power of two) */
#define LP_H2_STEPS	  256 /* reads (and header blocks) per segment */
#define LP_H2_FRAMES	  16  /* frames handled per read */
#define LP_H2_HDR	  9  /* a frame header */
/*
 * Bytes read at frame headers (a power of two): a response's HEADERS whole,
 * several small frames at once; a DATA frame's header without copying a
 * window of its payload. A longer header block is read on its own.
 */
#define LP_H2_FIRST 256
#define LP_H2_WAIT	  4096 /* reads of framed while a received segment waits for the one before */

enum lp_h2_type {
	LP_H2_DATA = 0,
	LP_H2_HEADERS = 1,
	LP_H2_PRIORITY = 2,
	LP_H2_RST_STREAM = 3,
	LP_H2_SETTINGS = 4,
	LP_H2_PUSH_PROMISE = 5,
	LP_H2_PING = 6,
	LP_H2_GOAWAY = 7,
	LP_H2_WINDOW_UPDATE = 8,
	LP_H2_CONTINUATION = 9,
};

#define LP_H2F_END_STREAM  0x01
#define LP_H2F_END_HEADERS 0x04
#define LP_H2F_PADDED	   0x08
#define LP_H2F_PRIORITY	   0x20

/* lp_h2_stream.flags */
/*
 * The route of an HTTP/2 request whose :path matched nothing or was not
 * read: the kernel side makes this "unrouted" where --route is given
 * (LP_ROUTE_UNROUTED) and no route label otherwise (LP_ROUTE_NONE, which
 * also turns the matching of paths off: include/lp_h2_route.h).
 */
#ifndef LP_ROUTE_H2
#define LP_ROUTE_H2 LP_ROUTE_NONE
#endif

/* what the steps return besides 0 and -1 (frames lost) */
#define LP_H2_NOT_H2 (-2) /* on probation, and not HTTP/2 after all: tracking ends, uncounted */
#define LP_H2_SKIP   (-3) /* a direction not yet synced: the rest of the segment is passed */

#define LP_H2S_OPEN	0x01 /* a request began on it and is timed */
#define LP_H2S_ANSWERED 0x02 /* its final response HEADERS came */

struct lp_h2_stream {
	__u64 start_ns; /* its request HEADERS' first byte */
	__u32 id;	/* 0: a free slot */
	__u16 status;
	__u8 method;
	__u8 flags; /* LP_H2S_* */
	__u16 route; /* LP_ROUTE_* id of its request */
	__u8 grpc;   /* its response's grpc-status (lp_key.grpc; LP_GRPC_BAD, LP_GRPC_UNKNOWN) */
	__u8 pad1;
	__u16 pad[2];
};

/* What a header block's walk found so far. */
struct lp_h2_walk {
	struct lp_hp_field m;  /* its field of kind want, or an unresolvable one (it might be) */
	struct lp_hp_field f;  /* the field just walked */
	__u16 route;	       /* a request's: the route of its first :path (lp_h2_route.h) */
	__u8 want;	       /* LP_HK_METHOD (a request's block) or LP_HK_STATUS */
	__u8 path;	       /* its :path was seen: route */
	__u8 unknown;	       /* a reference that could not be resolved came before it */
	__u8 grpc;	       /* a response's: its first grpc-status (lp_key.grpc, LP_GRPC_BAD) */
	__u8 host_want;	       /* a request's: its :authority is wanted (lp_h2.host) */
	__u8 pad;
	__u32 host;	       /* ... and the number LP_H2_HOST gave it (0: none) */
};

/* One direction's frames. */
struct lp_h2_dir {
	__u32 next_hdr; /* sequence number of the next frame header */
	__u32 cur_id;	/* the frame in progress: its stream, type and flags */
	__u8 cur_type;
	__u8 cur_flags;
	__u8 cont;	   /* a header block goes on in CONTINUATION frames */
	__u8 cont_end;	   /* ... and its HEADERS carried END_STREAM */
	__u8 part[16]; /* a frame header cut by a segment's end: its first bytes (room to mask) */
	__u8 npart;
	__u8 preface; /* the client preface is still to be checked at next_hdr - 24 (h2c) */
	__u64 part_ns; /* the time of the segment that held its first byte */
	__u32 framed;  /* sequence number up to which this direction has been followed */
	__u8 unsynced; /* met mid-stream: where its frames begin is not known yet */
	__u8 pad2[3];
	struct lp_hp_table t;
	struct lp_h2_walk walk; /* the header block being walked (not on the BPF stack) */
};

/* A connection's HTTP/2 state: beside its struct lp_conn, in a storage of its own. */
struct lp_h2 {
	struct lp_h2_dir d[2]; /* [0] the request direction, [1] the response direction */
	struct lp_h2_stream s[LP_H2_STREAMS];
	__u8 lost;	/* frames are no longer followed */
	__u8 probation; /* met mid-stream: not HTTP/2 until its first header block says so */
	__u8 pad[2];
	/*
	 * --client-address host, a client's: LP_H2_HOST_WANT until a request's
	 * literal :authority gave its host a number (the "hosts" map), then
	 * that number; 0: not wanted
	 */
	__u32 host;
};

#define LP_H2_HOST_WANT 0xfffffffeu /* lp_h2.host: the next request's :authority is wanted */

/*
 * Fresh state for a connection whose client preface begins at seq (the
 * request direction) and whose other direction begins at ack; midstream: a
 * HEADERS frame begins at seq instead (LP_CLASS_H2_FRAME), on probation.
 */
static __always_inline void lp_h2_init(struct lp_h2 *h, __u32 seq, __u32 ack, int midstream)
{
	__u32 i;

	h->d[0].next_hdr = midstream ? seq : seq + LP_H2_PREFACE_LEN;
	h->d[1].next_hdr = ack;
	h->d[0].framed = seq;
	h->d[1].framed = ack;
	for (i = 0; i < 2; i++) {
		h->d[i].cont = 0;
		h->d[i].cont_end = 0;
		h->d[i].npart = 0;
		h->d[i].unsynced = 0;
		h->d[i].preface = 0;
		h->d[i].cur_type = LP_H2_PRIORITY; /* no frame in progress: nothing at its end */
		lp_hp_table_init(&h->d[i].t, !midstream);
	}
	h->d[1].unsynced = midstream ? 1 : 0;
	h->probation = midstream ? 1 : 0;
	h->lost = 0;
	h->host = 0;
}

/*
 * A direction whose first bytes were never seen (they left before the
 * state existed, lp_conn_begin): its frames begin at seq. Only before any
 * frame of it was followed, so its HPACK table is still empty.
 */
static __always_inline void lp_h2_rebase(struct lp_h2 *h, int dir, __u32 seq)
{
	struct lp_h2_dir *d = &h->d[dir & 1];

	d->next_hdr = seq;
	d->framed = seq;
}

static __always_inline struct lp_h2_stream *lp_h2_slot(struct lp_h2 *h, __u32 id)
{
	return &h->s[(id >> 1) & (LP_H2_STREAMS - 1)];
}

/*
 * Fresh state for a connection upgraded from HTTP/1.1 (Upgrade: h2c, 101):
 * the client preface is expected at preface (checked, not assumed), the
 * server's frames begin at rsp, just after the 101's head, and the request
 * that asked for the upgrade is stream 1 (RFC 7540 3.2),
 * begun at start_ns (0: untimed) with its method and route.
 */
static __always_inline void lp_h2_upgrade(struct lp_h2 *h, __u32 preface, __u32 rsp,
					  __u64 start_ns, __u8 method, __u16 route)
{
	struct lp_h2_stream *s = lp_h2_slot(h, 1);
	__u32 i;

	lp_h2_init(h, preface, rsp, 0);
	h->d[0].preface = 1;
	for (i = 0; i < LP_H2_STREAMS; i++) {
		h->s[i].flags = 0;
		h->s[i].id = 0;
	}
	if (!start_ns)
		return;
	s->id = 1;
	s->start_ns = start_ns;
	s->method = method;
	s->route = route;
	s->status = 0;
	s->grpc = LP_GRPC_NONE;
	s->flags = LP_H2S_OPEN;
}

/* the streams waiting for their responses, counted as unanswered (or, not so, untimed) */
static __always_inline void lp_h2_drop(struct lp_h2 *h, struct lp_verdict *v, int unanswered)
{
	__u32 i;

	for (i = 0; i < LP_H2_STREAMS; i++) {
		if (h->s[i].flags & LP_H2S_OPEN)
			lp_count(v, unanswered ? LP_CNT_UNANSWERED : LP_CNT_UNTIMED);
		h->s[i].flags = 0;
		h->s[i].id = 0;
	}
}

/*
 * The server's GOAWAY: streams above last were not processed and never
 * will be (RFC 9113 6.8): counted as reset, as RST_STREAM's are.
 */
static __always_inline void lp_h2_goaway(struct lp_h2 *h, __u32 last, struct lp_verdict *v)
{
	__u32 i;

	for (i = 0; i < LP_H2_STREAMS; i++) {
		if (!(h->s[i].flags & LP_H2S_OPEN) || h->s[i].id <= last)
			continue;
		lp_count(v, LP_CNT_H2_RESET);
		h->s[i].flags = 0;
		h->s[i].id = 0;
	}
}

/* the kernel side makes these global functions (each verified once) */
#ifndef LP_H2_DROP
#define LP_H2_DROP(h, v, unanswered) lp_h2_drop(h, v, unanswered)
#define LP_H2_HEADERS(h, r, buf, v) lp_h2_headers(h, r, buf, v)
#define LP_H2_GOAWAY(h, last, v) lp_h2_goaway(h, last, v)
#define LP_H2_END(h, id, at, v) lp_h2_end_stream(h, id, at, v)
#define LP_H2_TRAILERS(h, id, w, last) lp_h2_trailers(h, id, w, last)
#endif

/* the connection is no longer followed: its waiting streams untimed */
static __always_inline void lp_h2_lose(struct lp_h2 *h, struct lp_run *r, struct lp_verdict *v)
{
	if (!h->lost) {
		LP_H2_DROP(h, v, 0);
		lp_count(v, LP_CNT_H2_LOST);
	}
	h->lost = 1;
	r->pos = r->send;
}

/*
 * A request's HEADERS began stream id at time at (0: not taken): what its
 * block said in m, and the route of its :path.
 */
static __always_inline void lp_h2_request(struct lp_h2 *h, __u32 id, __u64 at,
					  const struct lp_hp_field *m, int method_seen, __u16 route,
					  struct lp_verdict *v)
{
	struct lp_h2_stream *s = lp_h2_slot(h, id);

	if (!(id & 1) || s->id == id)
		return; /* a server's id, or trailers of a request already begun */
	if (s->flags & LP_H2S_OPEN) {
		lp_count(v, LP_CNT_UNTIMED); /* its slot holds a stream still waiting */
		return;
	}
	if (!at || !method_seen || m->kind != LP_HK_METHOD) {
		lp_count(v, method_seen && m->kind == LP_HK_UNKNOWN ? LP_CNT_H2_UNKNOWN
								     : LP_CNT_UNTIMED);
		return;
	}
	s->id = id;
	s->start_ns = at;
	s->method = (__u8)m->value;
	s->route = route;
	s->status = 0;
	s->grpc = LP_GRPC_NONE;
	s->flags = LP_H2S_OPEN;
	lp_count(v, LP_CNT_REQUESTS);
}

/* A response's HEADERS on stream id at time at: f its :status. */
static __always_inline void lp_h2_response(struct lp_h2 *h, __u32 id, __u64 at,
					   const struct lp_hp_field *st, int status_seen,
					   struct lp_verdict *v)
{
	struct lp_h2_stream *s = lp_h2_slot(h, id);

	if (s->id != id || !(s->flags & LP_H2S_OPEN) || (s->flags & LP_H2S_ANSWERED))
		return; /* not timed, or its trailers */
	if (!status_seen || st->kind != LP_HK_STATUS || st->value < 100) {
		lp_count(v, status_seen && st->kind == LP_HK_UNKNOWN ? LP_CNT_H2_UNKNOWN
								     : LP_CNT_UNTIMED);
		s->flags = 0;
		s->id = 0;
		return;
	}
	if (st->value < 200) {
		lp_count(v, LP_CNT_INTERIM);
		return;
	}
	s->status = st->value;
	s->flags |= LP_H2S_ANSWERED;
	lp_sample(v, s->start_ns, at, s->status, s->method, LP_SAMPLE_TTFB, s->route, LP_GRPC_NONE);
}

/*
 * A header block of stream id's answered response (w its walk; last: the
 * block ends the stream, trailers or a trailers-only response): its
 * grpc-status, the first one given; in a last block without one, a
 * reference that could not be resolved makes the call's status unknown.
 */
static __always_inline void lp_h2_trailers(struct lp_h2 *h, __u32 id, const struct lp_h2_walk *w,
					   int last)
{
	struct lp_h2_stream *s = lp_h2_slot(h, id);

	if (s->id != id || !(s->flags & LP_H2S_ANSWERED) || s->grpc)
		return;
	if (w->grpc)
		s->grpc = w->grpc;
	else if (last && w->unknown)
		s->grpc = LP_GRPC_UNKNOWN;
}

/* Stream id's response ended with a frame that ended at time at. */
static __always_inline void lp_h2_end_stream(struct lp_h2 *h, __u32 id, __u64 at,
					     struct lp_verdict *v)
{
	struct lp_h2_stream *s = lp_h2_slot(h, id);

	if (s->id != id || !(s->flags & LP_H2S_ANSWERED))
		return;
	if (s->grpc == LP_GRPC_BAD)
		lp_count(v, LP_CNT_GRPC_INVALID);
	else if (s->grpc == LP_GRPC_UNKNOWN)
		lp_count(v, LP_CNT_H2_UNKNOWN);
	else
		lp_sample(v, s->start_ns, at, s->status, s->method, LP_SAMPLE_DURATION, s->route,
			  s->grpc);
	s->flags = 0;
	s->id = 0;
}

static __always_inline void lp_h2_reset(struct lp_h2 *h, __u32 id, struct lp_verdict *v)
{
	struct lp_h2_stream *s = lp_h2_slot(h, id);

	if (s->id != id || !(s->flags & LP_H2S_OPEN))
		return;
	lp_count(v, LP_CNT_H2_RESET);
	s->flags = 0;
	s->id = 0;
}

#endif /* LP_H2_H */
