/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 frames (include/lp_h2.h says the rules): each direction followed
 * frame by frame across segments, header blocks walked through HPACK
 * (include/lp_hpack.h), the streams' events passed to lp_h2.h. The steps a
 * segment takes (lp_h2_next, lp_h2_feed, lp_h2_giveup, lp_h2_end) are what
 * include/lp_conn.h dispatches to. Pure: no helpers, no maps.
 */
#ifndef LP_H2_FRAME_H
#define LP_H2_FRAME_H

#include "lp_h2.h"
#include "lp_h2_route.h"

/* The frame in progress in the run's direction ended with the byte before r->pos. */
static __always_inline void lp_h2_frame_end(struct lp_h2 *h, struct lp_run *r,
					    struct lp_verdict *v)
{
	struct lp_h2_dir *d = &h->d[r->rsp & 1];
	int end = 0;

	if (d->cur_type == LP_H2_DATA)
		end = d->cur_flags & LP_H2F_END_STREAM;
	else if (d->cur_type == LP_H2_HEADERS || d->cur_type == LP_H2_CONTINUATION)
		end = !d->cont && d->cont_end;
	if (d->cur_type == LP_H2_HEADERS || d->cur_type == LP_H2_CONTINUATION)
		if (!d->cont)
			d->cont_end = 0;
	if (end && r->rsp)
		LP_H2_END(h, d->cur_id, r->now, v);
	d->cur_type = LP_H2_PRIORITY; /* nothing more to do at its end */
}

/*
 * Past the rest of the frame in progress: to its end, which ends it (1), or
 * to the segment's end when the frame goes on past it (0).
 */
static __always_inline int lp_h2_past_frame(struct lp_h2 *h, struct lp_run *r,
					    struct lp_verdict *v)
{
	struct lp_h2_dir *d = &h->d[r->rsp & 1];

	if (lp_seq_after(d->next_hdr, r->send)) {
		r->pos = r->send;
		return 0;
	}
	r->pos = d->next_hdr;
	lp_h2_frame_end(h, r, v);
	return 1;
}

/*
 * A request's :path field f (t: its table, whose newest entry f made if it
 * made one; p[0, n) read): its route, kept in the entry it made so that a
 * reference to it is matched without a byte read, and for a literal of up
 * to 16 bytes in the table's memo, so that the same bytes again (a client
 * that never indexes :path) are matched by comparing two words.
 */
static __always_inline __u16 lp_h2_path(const __u8 *p, __u32 n, struct lp_hp_table *t,
					const struct lp_hp_field *f)
{
	__u16 route;

	if (f->value)
		return f->value; /* a table entry's, matched when it was inserted */
	/*
	 * An entry no route was matched for: with routes, one from before the
	 * agent (or its routes); without, one whose path has none (a path that
	 * is no gRPC method, when only methods are learned).
	 */
	if (!(f->flags & (LP_HPF_LITERAL | LP_HPF_ROOT | LP_HPF_INDEX)))
		return LP_ROUTE_H2 == LP_ROUTE_NONE ? LP_ROUTE_NONE : LP_ROUTE_UNKNOWN;
	if ((f->flags & LP_HPF_LITERAL) && f->vlen && f->vlen <= 16 &&
	    (__u32)f->vat + f->vlen <= n) {
		/* the same bytes as the last short literal: the same path, the same route */
		__u32 end = (__u32)f->vat + f->vlen;
		__u64 w0 = LP_ROUTE_WORD(p, f->vat, end), w1 = LP_ROUTE_WORD(p, f->vat + 8, end);
		__u16 len = f->vlen | (f->flags & LP_HPF_HUFFMAN ? 0x8000 : 0);

		if (t->memo_len == len && t->memo[0] == w0 && t->memo[1] == w1) {
			route = t->memo_route;
		} else {
			route = LP_ROUTE_H2PATH(p, n, f, t);
			t->memo_len = len;
			t->memo_route = route;
			t->memo[0] = w0;
			t->memo[1] = w1;
		}
	} else {
		route = LP_ROUTE_H2PATH(p, n, f, t);
	}
	if (f->flags & LP_HPF_INSERTED)
		t->e[t->n & (LP_HP_RING - 1)].value = route;
	return route;
}

/*
 * LP_H2_HOST(p, n, f, t): the number of the host a request's literal
 * :authority f names (lp_h2_authority), asked while the connection wants
 * one (lp_h2.host, --client-address host); 0: none. The kernel side
 * defines it to its "hosts" map's numbering; no connection wants one here.
 */
#ifndef LP_H2_HOST
#define LP_H2_HOST(p, n, f, t) 0
#endif

/*
 * The field w->f of a header block, just walked through t (p[0, lim)
 * read), noted in the walk: the field a label needs, a request's route, a
 * response's grpc-status.
 */
static __always_inline void lp_h2_note(const __u8 *p, __u32 lim, struct lp_hp_table *t,
				       struct lp_h2_walk *w)
{
	const struct lp_hp_field *f = &w->f;

	if (w->m.kind != w->want && (f->kind == w->want || f->kind == LP_HK_UNKNOWN))
		w->m = *f;
	if (f->kind == LP_HK_UNKNOWN)
		w->unknown = 1;
	if (w->want == LP_HK_STATUS) {
		if (f->kind == LP_HK_GRPC && !w->grpc)
			w->grpc = (__u8)f->value;
		return;
	}
	if (f->kind == LP_HK_AUTHORITY && w->host_want && !w->host && (f->flags & LP_HPF_LITERAL))
		w->host = LP_H2_HOST(p, lim, f, t);
	if (w->path || !LP_H2_PATHS)
		return;
	if (f->kind == LP_HK_PATH) {
		w->path = 1;
		w->route = lp_h2_path(p, lim, t, f);
	}
}

/*
 * A request's route after its block's walk: its first :path's;
 * LP_ROUTE_UNKNOWN when an unresolvable reference may have been the :path;
 * LP_ROUTE_H2 without routes, or with no :path read.
 */
static __always_inline __u16 lp_h2_route(const struct lp_h2_walk *w)
{
	if (w->path)
		return w->route;
	return w->unknown && LP_ROUTE_H2 != LP_ROUTE_NONE ? LP_ROUTE_UNKNOWN : LP_ROUTE_H2;
}

#ifndef LP_HP_FIELD
#define LP_HP_FIELD(p, n, at, t, f) lp_hp_field(p, n, at, t, f)
#endif

/*
 * The kernel side makes the note a global function too: the walk's state
 * is then memory the verifier does not split its paths on, field by field,
 * and a :path's matching is verified once.
 */
#ifndef LP_H2_NOTE
#define LP_H2_NOTE(p, lim, t, w) lp_h2_note(p, lim, t, w)
#endif

/*
 * The header block fragment p[at, at + len) of a HEADERS, CONTINUATION or
 * PUSH_PROMISE frame, of which p[0, n) was read: walked field by field
 * through the direction's table into w. Returns 1 when it was walked
 * whole, 0 when it was not (cut short, or too many fields), -1 when it is
 * not HPACK.
 */
static __always_inline int lp_h2_block(const __u8 *p, __u32 n, __u32 at, __u32 len,
				       struct lp_hp_table *t, struct lp_h2_walk *w)
{
	__u32 end = at + len, lim = end < n ? end : n, i;
	int next;

	for (i = 0; i < LP_HP_FIELDS; i++) {
		if (at >= lim)
			return at == end;
		next = LP_HP_FIELD(p, lim, at, t, &w->f);
		if (next == LP_HP_BAD)
			return -1;
		if (next < 0)
			return 0;
		LP_H2_NOTE(p, lim, t, w);
		at = (__u32)next;
	}
	return 0;
}

/*
 * The payload of the header frame in progress (d->cur_*), whose first
 * payload byte is p[r->blk_at], r->blk_len bytes long (p[0, r->rd.len)
 * read), its frame having begun at time
 * d->part_ns: the header block walked, the stream begun or answered.
 * Returns 0, or -1 when the frames can no longer be followed.
 */
static __always_inline int lp_h2_headers(struct lp_h2 *h, struct lp_run *r, const __u8 *p,
					 struct lp_verdict *v)
{
	__u32 n = r->rd.len, at = r->blk_at, len = r->blk_len;
	struct lp_h2_dir *d = &h->d[r->rsp & 1];
	struct lp_h2_walk *w = &d->walk;
	struct lp_hp_field *m = &w->m;
	__u32 skip = 0, pad = 0, whole;
	__u8 fl = d->cur_flags, want = r->rsp ? LP_HK_STATUS : LP_HK_METHOD;
	int res;

	if (d->cur_type != LP_H2_CONTINUATION && (fl & LP_H2F_PADDED)) {
		if (len < 1)
			return -1;
		/* the pad length not read (the segment ended): nothing of the block is */
		pad = at < n ? p[at & LP_HP_MASK] : 0;
		skip = 1;
	}
	if (d->cur_type == LP_H2_HEADERS && (fl & LP_H2F_PRIORITY))
		skip += 5;
	if (d->cur_type == LP_H2_PUSH_PROMISE)
		skip += 4;
	if (skip + pad > len)
		return -1; /* PROTOCOL_ERROR: the peer closes the connection */
	whole = len - skip - pad;
	/*
	 * A block cut by the segment's end is walked as far as it was read: the
	 * fields before the cut count, the table is followed no further.
	 */
	__builtin_memset(w, 0, sizeof(*w));
	w->want = want;
	w->host_want = !r->rsp && h->host == LP_H2_HOST_WANT;
	res = at + skip <= n ? lp_h2_block(p, n, at + skip, whole, &d->t, w) : 0;
	/* met mid-stream: only a block walked whole with the field it must hold is proof */
	if ((h->probation && !r->rsp) || d->unsynced) {
		if (res != 1 || m->kind != want || d->cur_type != LP_H2_HEADERS)
			return d->unsynced ? LP_H2_SKIP : LP_H2_NOT_H2;
		h->probation = r->rsp ? h->probation : 0;
		d->unsynced = 0;
	}
	if (res < 0)
		return -1;
	if (!res) {
		d->t.lost = 1; /* what the rest inserted is unknown: later references are too */
		w->unknown = 1; /* ... and what it held: a response's grpc-status, say */
	}
	if (d->cur_type == LP_H2_HEADERS) {
		d->cont = !(fl & LP_H2F_END_HEADERS);
		d->cont_end = fl & LP_H2F_END_STREAM;
		if (r->rsp) {
			lp_h2_response(h, d->cur_id, d->part_ns, m, m->kind != LP_HK_OTHER, v);
			LP_H2_TRAILERS(h, d->cur_id, w, d->cont_end && !d->cont);
		} else {
			lp_h2_request(h, d->cur_id, d->part_ns, m, m->kind != LP_HK_OTHER,
				      lp_h2_route(w), v);
			if (w->host)
				h->host = w->host;
		}
	} else if (d->cur_type == LP_H2_CONTINUATION) {
		d->cont = !(fl & LP_H2F_END_HEADERS);
		if (r->rsp)
			LP_H2_TRAILERS(h, d->cur_id, w, d->cont_end && !d->cont);
	} else {
		d->cont = !(fl & LP_H2F_END_HEADERS); /* a PUSH_PROMISE's block: the table only */
		d->cont_end = 0;
	}
	return 0;
}

/* Does a frame of this type carry a header block? */
static __always_inline int lp_h2_has_block(__u8 type)
{
	return type == LP_H2_HEADERS || type == LP_H2_CONTINUATION || type == LP_H2_PUSH_PROMISE;
}

/* a stream id (31 bits, big-endian) at buf[at] */
static __always_inline __u32 lp_h2_id(const __u8 *buf, __u32 at)
{
	return ((__u32)buf[at & LP_HP_MASK] << 24 | (__u32)buf[(at + 1) & LP_HP_MASK] << 16 |
		(__u32)buf[(at + 2) & LP_HP_MASK] << 8 | buf[(at + 3) & LP_HP_MASK]) &
	       0x7fffffff;
}

/*
 * The frame header hb just read (its first byte at time at): the frame in
 * progress. Returns -1 when the frames can no longer be followed.
 */
static __always_inline int lp_h2_frame(struct lp_h2 *h, struct lp_run *r, const __u8 *hb,
				       __u64 at, struct lp_verdict *v)
{
	struct lp_h2_dir *d = &h->d[r->rsp & 1];
	__u32 len = (__u32)hb[0] << 16 | (__u32)hb[1] << 8 | hb[2];

	d->cur_type = hb[3];
	d->cur_flags = hb[4];
	d->cur_id = ((__u32)hb[5] << 24 | (__u32)hb[6] << 16 | (__u32)hb[7] << 8 | hb[8]) &
		    0x7fffffff;
	d->part_ns = at;
	d->next_hdr = r->pos + len;
	/* not synced: only a response's HEADERS, whole in this segment, can begin the frames */
	if (d->unsynced) {
		struct lp_h2_stream *s = lp_h2_slot(h, d->cur_id);

		if (d->cur_type != LP_H2_HEADERS || s->id != d->cur_id || !(s->flags & LP_H2S_OPEN) ||
		    (s->flags & LP_H2S_ANSWERED) || lp_seq_after(d->next_hdr, r->send))
			return LP_H2_SKIP;
		return 0;
	}
	/* a header block goes on in CONTINUATION frames of its stream, and nothing else */
	if (d->cont != (d->cur_type == LP_H2_CONTINUATION))
		return -1;
	if (d->cur_type == LP_H2_RST_STREAM)
		lp_h2_reset(h, d->cur_id, v);
	return 0;
}

/* The frames at r->pos: buf holds n bytes from sequence number base. */
static __always_inline int lp_h2_feed_frames(struct lp_h2 *h, struct lp_run *r, const __u8 *buf,
					     __u32 n, __u32 base, struct lp_verdict *v,
					     struct lp_read *rd)
{
	struct lp_h2_dir *d = &h->d[r->rsp & 1];
	__u8 hb[LP_H2_HDR];
	__u32 i, k, off, have, need, len;
	__u64 at;
	int res;

	for (i = 0; i < LP_H2_FRAMES; i++) {
		if (r->stop || !lp_seq_before(r->pos, r->send) || r->pos != d->next_hdr + d->npart)
			return 0;
		off = r->pos - base;
		have = off < n ? n - off : 0;
		need = LP_H2_HDR - d->npart;
		if (have < need) {
			if (r->pos + have != r->send) {
				rd->off = r->pos - r->seq; /* the window ends first: read again here */
				rd->len = r->send - r->pos < LP_H2_FIRST ? r->send - r->pos : LP_H2_FIRST;
				return 1;
			}
			/* the segment ends inside the frame header: keep its first bytes */
			if (!d->npart)
				d->part_ns = r->now;
			for (k = 0; k < LP_H2_HDR; k++)
				if (k < have && d->npart + k < LP_H2_HDR)
					d->part[(d->npart + k) & 15] = buf[(off + k) & LP_HP_MASK];
			d->npart += (__u8)have;
			r->pos = r->send;
			return 0;
		}
		for (k = 0; k < LP_H2_HDR; k++)
			hb[k] = k < d->npart ? d->part[k & 15] : buf[(off + k - d->npart) & LP_HP_MASK];
		at = d->npart ? d->part_ns : r->now;
		d->npart = 0;
		r->pos += need;
		res = lp_h2_frame(h, r, hb, at, v);
		if (res == LP_H2_SKIP) {
			r->pos = r->send;
			return 0;
		}
		if (res)
			return -1;
		len = d->next_hdr - r->pos;
		/* the server's GOAWAY: its last stream id, where this read holds it */
		if (d->cur_type == LP_H2_GOAWAY && r->rsp && len >= 4 && off + need + 4 <= n)
			LP_H2_GOAWAY(h, lp_h2_id(buf, off + need), v);
		if (lp_h2_has_block(d->cur_type)) {
			/* the block at the next step (a step of its own: the BPF stack is short) */
			off += need;
			r->want = LP_WANT_H2_BLOCK;
			r->blk_len = len;
			if (len > LP_HP_WIN || lp_seq_after(d->next_hdr, r->send) || off + len <= n) {
				/* in the window: whole, or (too long, or cut by the segment) as far as read */
				r->blk_at = off;
				r->inwin = 1;
			} else {
				rd->off = r->pos - r->seq; /* the whole block from a read of its own */
				rd->len = len;
				r->blk_at = 0;
			}
			return 1;
		}
		if (!lp_h2_past_frame(h, r, v))
			return 0;
	}
	return 0;
}

/*
 * Advance where no bytes are needed (the preface, frame payloads); return 1
 * with *rd set for the next read, 0 when the segment is done.
 */
static __always_inline int lp_h2_next(struct lp_h2 *h, struct lp_run *r, struct lp_verdict *v,
				      struct lp_read *rd)
{
	struct lp_h2_dir *d;
	__u32 i, left;

	if (!h || h->lost) {
		r->pos = r->send;
		return 0;
	}
	d = &h->d[r->rsp & 1];
	if (d->unsynced && lp_seq_before(r->pos, r->send)) {
		/* only a segment's start can be a frame's: there, try; elsewhere, pass */
		if (r->pos != r->seq) {
			r->pos = r->send;
			return 0;
		}
		d->next_hdr = r->pos;
		d->npart = 0;
		d->cont = 0;
	}
	for (i = 0; i < 2; i++) {
		if (r->stop || !lp_seq_before(r->pos, r->send))
			return 0;
		left = r->send - r->pos;
		if (d->preface) {
			/* after an h2c upgrade: the client preface first, whole in one read */
			if (r->pos != d->next_hdr - LP_H2_PREFACE_LEN) {
				lp_h2_lose(h, r, v);
				return 0;
			}
			rd->off = r->pos - r->seq;
			rd->len = left < LP_H2_FIRST ? left : LP_H2_FIRST;
			r->want = LP_WANT_H2;
			return 1;
		}
		if (r->pos == d->next_hdr + d->npart) {
			rd->off = r->pos - r->seq;
			rd->len = left < LP_H2_FIRST ? left : LP_H2_FIRST;
			r->want = LP_WANT_H2;
			return 1;
		}
		if (!lp_seq_before(r->pos, d->next_hdr) || d->npart) {
			lp_h2_lose(h, r, v); /* not where the frames said: lost */
			return 0;
		}
		/* inside a frame's payload (or the preface): skipped by length */
		if (!lp_h2_past_frame(h, r, v))
			return 0;
	}
	return 0;
}

/*
 * The header block of the frame in progress, at buf[r->blk_at] (r->blk_len
 * bytes): walked, then on to the frames after it. Returns 1 when they are
 * in the window as read (the next step reads no more), 0 when a new read is
 * needed (or the segment is done), -1 when the frames are lost.
 */
static __always_inline int lp_h2_block_step(struct lp_h2 *h, struct lp_run *r, const __u8 *buf,
					    struct lp_verdict *v)
{
	__u32 base = r->seq + r->rd.off;
	int res = LP_H2_HEADERS(h, r, buf, v);

	if (res)
		return res;
	if (!lp_h2_past_frame(h, r, v))
		return 0;
	if (r->blk_at == 0)
		return 0; /* a read of the block alone: the frames after it need one of their own */
	/* the frames after it, in the same window when they are there */
	if (lp_seq_before(r->pos, r->send) && r->pos - base < r->rd.len) {
		r->want = LP_WANT_H2;
		r->inwin = 1;
		return 1;
	}
	return 0;
}

/*
 * The client preface expected at buf[0] (after an h2c upgrade): 1 when it
 * is there, whole, and r->pos is past it; 0 when it is not (or is cut).
 */
static __always_inline int lp_h2_preface(struct lp_h2 *h, struct lp_run *r, const __u8 *buf,
					 __u32 n)
{
	struct lp_h2_dir *d = &h->d[r->rsp & 1];

	if (!d->preface)
		return 1;
	if (lp_match_token(buf, n, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", LP_H2_PREFACE_LEN) !=
	    LP_MATCH_YES)
		return 0;
	d->preface = 0;
	r->pos += LP_H2_PREFACE_LEN;
	return 1;
}

/* A read at frame headers: buf holds n >= 1 bytes at r->pos. */
static __always_inline int lp_h2_feed_at_frames(struct lp_h2 *h, struct lp_run *r, const __u8 *buf,
						__u32 n, struct lp_verdict *v, struct lp_read *rd)
{
	int res;

	if (!h || h->lost) {
		r->pos = r->send;
		return 0;
	}
	if (!lp_h2_preface(h, r, buf, n)) {
		lp_h2_lose(h, r, v);
		return 0;
	}
	res = lp_h2_feed_frames(h, r, buf, n, r->seq + rd->off, v, rd);
	if (res < 0)
		lp_h2_lose(h, r, v);
	return res > 0;
}

/* A read of (or a window holding) a header block: buf[r->blk_at], r->blk_len bytes. */
static __always_inline int lp_h2_feed_block(struct lp_h2 *h, struct lp_run *r, const __u8 *buf,
					    struct lp_verdict *v)
{
	int res;

	if (!h || h->lost) {
		r->pos = r->send;
		return 0;
	}
	res = lp_h2_block_step(h, r, buf, v);
	if (res == LP_H2_NOT_H2) {
		h->lost = 1; /* not HTTP/2 after all: nothing was counted for it */
		r->pos = r->send;
	} else if (res == LP_H2_SKIP) {
		r->pos = r->send;
	} else if (res < 0) {
		lp_h2_lose(h, r, v);
	}
	return res > 0;
}

/* Bytes the last read returned: buf holds n >= 1 bytes at r->pos. */
static __always_inline int lp_h2_feed(struct lp_h2 *h, struct lp_run *r, const __u8 *buf, __u32 n,
				      struct lp_verdict *v, struct lp_read *rd)
{
	if (r->want == LP_WANT_H2_BLOCK)
		return lp_h2_feed_block(h, r, buf, v);
	return lp_h2_feed_at_frames(h, r, buf, n, v, rd);
}

/* The reads ran out with bytes left: the frames can no longer be followed. */
static __always_inline void lp_h2_giveup(struct lp_h2 *h, struct lp_run *r, struct lp_verdict *v)
{
	if (h && !r->stop && lp_seq_before(r->pos, r->send))
		lp_h2_lose(h, r, v);
}

/*
 * A received segment that begins past what its direction has followed: on
 * loopback the segment before it is often being handled on the other CPU
 * at this very moment (the cgroup ingress hook runs before TCP takes the
 * socket's lock). HTTP/2 cannot find its frames again after bytes it did
 * not read, so the later segment waits, a bounded while, for the earlier
 * one to be followed; a segment truly out of order (loss) waits the bound
 * and is then handled as out of order. Sent segments are in order (TCP
 * sends under the socket's lock). Returns 1 when the bound ran out: the
 * segment came truly out of order (LP_CNT_H2_REORDERED). On loopback
 * that is the segment before it still queued on another CPU (its softirq
 * deferred to ksoftirqd under load), which no bounded wait can cover.
 */
static __always_inline int lp_h2_wait(const struct lp_conn *c, struct lp_h2 *h,
				      const struct lp_seg *s)
{
	struct lp_h2_dir *d;
	__u32 i;

	if (!h || !s->ingress || !s->plen)
		return 0;
	d = &h->d[((c->q.role == LP_ROLE_SERVER) != (s->ingress != 0)) & 1];
	/* the common case, in order: a plain read, no atomic on the shared line */
	if (!lp_seq_before(*(volatile __u32 *)&d->framed, s->seq))
		return 0;
	for (i = 0; i < LP_H2_WAIT; i++)
		if (!lp_seq_before(__sync_fetch_and_add(&d->framed, 0), s->seq))
			return 0;
	return 1;
}

/* After the segment's bytes: data seen out of order before, then FIN and RST. */
static __always_inline void lp_h2_end(struct lp_conn *c, struct lp_h2 *h, const struct lp_seg *s,
				      struct lp_run *r, struct lp_verdict *v)
{
	if (!h)
		return;
	/*
	 * followed up to here: a received segment after this one may go on
	 * (lp_h2_wait). Only received segments wait, each for the received one
	 * before it: a sent segment's direction is never waited on.
	 */
	if (s->ingress)
		__sync_lock_test_and_set(&h->d[r->rsp & 1].framed, lp_run_dir(c, r)->next);
	/* a hole filled: bytes that arrived out of order were not read: lost unless inside DATA */
	if (!h->lost && lp_seq_after(r->jump, r->send) && lp_seq_before(r->pos, r->jump)) {
		struct lp_h2_dir *d = &h->d[r->rsp & 1];

		if (d->unsynced)
			; /* not followed yet: nothing to lose */
		else if (d->cur_type != LP_H2_DATA || lp_seq_before(d->next_hdr, r->jump) || d->npart)
			lp_h2_lose(h, r, v);
	}
	if (!(s->tcp_flags & (LP_TCP_FIN | LP_TCP_RST)))
		return;
	if ((s->tcp_flags & LP_TCP_RST) || r->rsp) {
		LP_H2_DROP(h, v, 1);
		c->q.role = LP_ROLE_DONE;
	}
}

#endif /* LP_H2_FRAME_H */
