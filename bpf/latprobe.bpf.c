// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * latprobe kernel side: time HTTP/1.x requests at the socket layer.
 *
 * latprobe_skb, attached to both cgroup_skb hooks (ingress and egress), sees
 * every IPv4/IPv6 TCP segment of every socket under the cgroup. A request start
 * creates per-socket state (sk_storage); from then on both directions are
 * framed as HTTP/1.x messages (include/lp_http.h, lp_conn.h), and the
 * response's last byte closes the timing and adds one sample to a per-CPU
 * histogram of its series. Nothing per request leaves the kernel. Every program returns 1
 * ("allow"): the probe never drops or alters a packet.
 *
 * The decisions live in include/ (lp_classify.h, lp_conn.h, lp_bucket.h) and
 * are unit-tested on the host; this file only extracts, looks up and counts.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <asm-generic/errno-base.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "hooks.bpf.h"
#include "maps.bpf.h"
#include "record.bpf.h"

#define SK_PASS 1

struct pkt {
	struct lp_seg seg;
	__u32 poff; /* payload offset from the network header */
	__u16 sport, dport;
	__u8 family;
	__u8 not_http; /* as its direction's first payload, it decides: not HTTP */
};

/* IPv4/IPv6 + TCP headers, read directly: they are in the linear area. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *pk)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th;
	__u32 l3, l4;
	__u8 *first = data;

	if ((void *)(first + 1) > end)
		return -1;
	if ((*first >> 4) == 4) {
		struct iphdr *iph = data;

		if ((void *)(iph + 1) > end || iph->protocol != IPPROTO_TCP)
			return -1;
		/* a fragment's payload is not the start of a segment */
		if (iph->frag_off & bpf_htons(0x3fff))
			return -1;
		l3 = iph->ihl * 4;
		if (l3 < sizeof(*iph))
			return -1;
		pk->family = 4;
	} else if ((*first >> 4) == 6) {
		struct ipv6hdr *ip6 = data;

		/* TCP right after the fixed header; extension headers are not followed */
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		l3 = sizeof(*ip6);
		pk->family = 6;
	} else {
		return -1;
	}
	th = data + l3;
	if ((void *)(th + 1) > end)
		return -1;
	l4 = th->doff * 4;
	if (l4 < sizeof(*th) || skb->len < l3 + l4)
		return -1;
	pk->poff = l3 + l4;
	pk->seg.plen = skb->len - pk->poff;
	pk->seg.seq = bpf_ntohl(th->seq);
	pk->seg.ack = bpf_ntohl(th->ack_seq);
	pk->seg.tcp_flags = (th->fin ? LP_TCP_FIN : 0) | (th->rst ? LP_TCP_RST : 0);
	pk->sport = bpf_ntohs(th->source);
	pk->dport = bpf_ntohs(th->dest);
	return 0;
}

/* The first bytes of a segment on a connection without state: a request start? */
static __always_inline void classify(struct __sk_buff *skb, struct pkt *pk)
{
	__u8 buf[LP_CLASSIFY_BYTES] = {};
	__u32 n = LP_CLASSIFY_BYTES;

	if (pk->seg.plen < LP_CLASSIFY_BYTES)
		n = pk->seg.plen & (LP_CLASSIFY_BYTES - 1);
	if (n == 0 || bpf_skb_load_bytes(skb, pk->poff, buf, n))
		return;
	pk->seg.cls = lp_classify(buf, n, &pk->seg.method, &pk->seg.status);
	pk->not_http = lp_first_payload_not_http(buf, n, pk->seg.cls);
}

/* copy payload bytes [off, off + len) of the segment into the slot's window */
static __always_inline int load(struct __sk_buff *skb, struct lp_slot *sl, __u32 off, __u32 len)
{
	/* the loop checked len already; the verifier must see it on this register */
	barrier_var(len);
	if (len == 0 || len > LP_WIN || LP_CUT(5))
		return -1;
	return bpf_skb_load_bytes(skb, sl->poff + off, sl->w.b, len);
}

/*
 * The steps of the state machine as global functions: the verifier checks
 * each once, on its own, instead of at every step of the loop in
 * LP_CONN_SEGMENT (inlined, the head scanner alone would exceed its limit).
 */
__noinline int lp_conn_feed_g(struct lp_conn *c, struct lp_run *r, struct lp_win *w,
			      struct lp_verdict *v)
{
	__u32 n;

	if (!c || !r || !w || !v)
		return 0;
	n = r->rd.len;
	if (n == 0 || n > LP_WIN)
		return 0;
	return lp_h1_feed(c, r, w->b, n, v, &r->rd); /* HTTP/2 has its own (LP_CONN_FEED) */
}

/* one HPACK field of a header block in the window (lp_hp_field) */
__noinline int lp_hp_field_g(struct lp_win *w, __u32 n, __u32 at, struct lp_hp_table *t,
			     struct lp_hp_field *f)
{
	if (!w || !t || !f || n > LP_WIN)
		return LP_HP_BAD;
	return lp_hp_field(w->b, n, at, t, f);
}

/* ... noted in the block's walk (lp_h2_note) */
__noinline int lp_h2_note_g(struct lp_win *w, __u32 lim, struct lp_hp_table *t,
			    struct lp_h2_walk *hw)
{
	if (!w || !t || !hw || lim > LP_WIN)
		return 0;
	lp_h2_note(w->b, lim, t, hw);
	return 0;
}

/* a step of decoding a Huffman-coded HTTP/2 :path into the route key (lp_huff_chunk_to) */
__noinline int lp_huff_path_g(struct lp_win *w, __u32 at, __u32 len, struct lp_huff_out *o)
{
	if (!w || !o || len > LP_HUFF_CHUNK)
		return LP_HP_BAD;
	return lp_huff_chunk_to(w->b, at, len, o, w->rk.path);
}

/*
 * The learned route of the gRPC method whose path is the window's route
 * key (w->rk), matched by no route (--grpc-methods): its slot in the
 * grpc_methods map, a new one the first time (user space reads the path
 * there for the labels); LP_ROUTE_H2 when it is no gRPC method's path or
 * every slot is taken (counted). The key's bytes past its end mark are zeroed first: the
 * map hashes all of them. A global function: verified once, not once for
 * every way lp_h2_path_key can end.
 */
__noinline int lp_learn_g(struct lp_win *w)
{
	struct lp_route_key *k;
	__u32 len, slot, *got;

	if (!w)
		return LP_ROUTE_H2;
	k = &w->rk;
	len = lp_grpc_method_path(k);
	if (!len)
		return LP_ROUTE_H2;
	lp_route_key_clear_tail(k, len);
	got = bpf_map_lookup_elem(&grpc_methods, k);
	if (got)
		return LP_ROUTE_LEARNED | (*got & (LP_GRPC_METHODS_MAX - 1));
	if (grpc_methods_next >= grpc_methods_max) {
		count(LP_CNT_GRPC_PAST_CAP);
		return LP_ROUTE_H2;
	}
	slot = __sync_fetch_and_add(&grpc_methods_next, 1);
	if (slot < grpc_methods_max && !bpf_map_update_elem(&grpc_methods, k, &slot, BPF_NOEXIST))
		return LP_ROUTE_LEARNED | (slot & (LP_GRPC_METHODS_MAX - 1));
	/* another CPU learned it first (its slot stands; this one is not used), or no room */
	got = bpf_map_lookup_elem(&grpc_methods, k);
	if (got)
		return LP_ROUTE_LEARNED | (*got & (LP_GRPC_METHODS_MAX - 1));
	count(LP_CNT_GRPC_PAST_CAP);
	return LP_ROUTE_H2;
}

/*
 * The route of an HTTP/2 request's :path field f, of which w->b[0, n) was
 * read (lp_h2_path_key): a longest-prefix-match in the same trie as
 * HTTP/1.x targets; LP_ROUTE_LEARN when it matched none and gRPC methods
 * are learned (LP_ROUTE_H2PATH calls lp_learn_g then, the key in w->rk).
 * A global function: verified once.
 */
__noinline int lp_route_h2_g(struct lp_win *w, __u32 n, const struct lp_hp_field *f,
			     struct lp_hp_table *t)
{
	struct lp_route_val *rv;

	if (!w || !f || !t || n > LP_WIN)
		return LP_ROUTE_H2;
	if (lp_h2_path_key(w->b, n, f, &w->rk, &t->scratch) != 1)
		return LP_ROUTE_H2;
	if (nr_routes) {
		rv = bpf_map_lookup_elem(&routes, &w->rk);
		if (rv)
			return rv->id;
	}
	/* its caller learns it (lp_learn_g): one frame less on the BPF stack's 512 bytes */
	return grpc_methods_max ? LP_ROUTE_LEARN : LP_ROUTE_H2;
}

/* HTTP/2 frames in the window (lp_h2_feed) */
__noinline int lp_h2_feed_g(struct lp_h2 *h, struct lp_run *r, struct lp_win *w, struct lp_verdict *v)
{
	__u32 n;

	if (!r || !w || !v)
		return 0;
	n = r->rd.len;
	if (n == 0 || n > LP_WIN)
		return 0;
	return lp_h2_feed_at_frames(h, r, w->b, n, v, &r->rd);
}

/* an HTTP/2 header block in the window, and the frames after it (lp_h2_feed_block) */
__noinline int lp_h2_block_g(struct lp_h2 *h, struct lp_run *r, struct lp_win *w,
			     struct lp_verdict *v)
{
	if (!r || !w || !v || r->rd.len > LP_WIN)
		return 0;
	return lp_h2_feed_block(h, r, w->b, v);
}

/* the header block of an HTTP/2 frame in the window (lp_h2_headers) */
__noinline int lp_h2_headers_g(struct lp_h2 *h, struct lp_run *r, struct lp_win *w,
			       struct lp_verdict *v)
{
	if (!h || !r || !w || !v || r->rd.len > LP_WIN)
		return -1;
	return lp_h2_headers(h, r, w->b, v);
}

/* an HTTP/2 connection's waiting streams, counted (lp_h2_drop) */
__noinline int lp_h2_drop_g(struct lp_h2 *h, struct lp_verdict *v, int unanswered)
{
	if (!h || !v)
		return 0;
	lp_h2_drop(h, v, unanswered);
	return 0;
}

__noinline int lp_h2_goaway_g(struct lp_h2 *h, __u32 last, struct lp_verdict *v)
{
	if (!h || !v)
		return 0;
	lp_h2_goaway(h, last, v);
	return 0;
}

/* a stream's response ended (lp_h2_end_stream): its sample, off the deep frames' stack */
__noinline int lp_h2_end_g(struct lp_h2 *h, __u32 id, __u64 at, struct lp_verdict *v)
{
	if (!h || !v)
		return 0;
	lp_h2_end_stream(h, id, at, v);
	return 0;
}

/* an HTTP/2 response direction's first segment, beyond its state's start (lp_conn_open_start) */
__noinline int lp_conn_open_start_g(struct lp_conn *c, struct lp_h2 *h, __u32 seq, int rsp)
{
	if (!c)
		return 0;
	lp_conn_open_start(c, h, seq, rsp);
	return 0;
}

/* a response's header block: its grpc-status (lp_h2_trailers) */
__noinline int lp_h2_trailers_g(struct lp_h2 *h, __u32 id, const struct lp_h2_walk *w, int last)
{
	if (!h || !w)
		return 0;
	lp_h2_trailers(h, id, w, last);
	return 0;
}

/* a step of a Huffman decoding in the window (lp_huff_chunk): verified once */
__noinline int lp_huff_chunk_g(struct lp_win *w, __u32 at, __u32 len, struct lp_huff_out *o)
{
	if (!w || !o || len > LP_HUFF_CHUNK)
		return LP_HP_BAD;
	return lp_huff_chunk(w->b, at, len, o);
}

/* an Upgrade header's value: does it offer h2c (lp_head_upgrade)? */
__noinline int lp_head_upgrade_g(struct lp_win *w, __u32 at, __u32 end, struct lp_head *h)
{
	if (!w || !h)
		return 0;
	lp_head_upgrade(w->b, at, end, h);
	return 0;
}

__noinline int lp_head_step_g(struct lp_win *w, struct lp_scan *st, struct lp_head *h)
{
	if (!w || !st || !h || LP_CUT(6))
		return -1;
	return lp_head_step(w->b, st, h);
}

/* the route key of the path at w->b[start] into w->rk (lp_route_key_path) */
__noinline int lp_route_path_g(struct lp_win *w, __u32 n, __u32 start)
{
	if (!w || n > LP_WIN)
		return 0;
	lp_route_key_path(w->b, n, start, &w->rk);
	return 0;
}

/*
 * The key of the target at w->b[at] (lp_route_key). A global function of
 * its own: the verifier sees at as any value, once, not as each method's
 * offset, each with its own walk through the loops.
 */
__noinline int lp_route_key_g(struct lp_win *w, __u32 n, __u32 at)
{
	if (!w || n > LP_WIN)
		return 0;
	return lp_route_key(w->b, n, at, route_max_len, &w->rk);
}

/*
 * The route of the request whose head is w->b[0..n): a longest-prefix-match
 * of its path in the trie. A global function: verified once.
 */
__noinline __u16 lp_route_g(struct lp_win *w, __u32 n, __u32 method)
{
	struct lp_route_val *rv;

	if (!w || n > LP_WIN)
		return LP_ROUTE_UNROUTED;
	if (!lp_route_key_g(w, n, lp_route_target_at((__u8)method)))
		return LP_ROUTE_UNROUTED;
	rv = bpf_map_lookup_elem(&routes, &w->rk);
	return rv ? rv->id : LP_ROUTE_UNROUTED;
}

__noinline int lp_conn_next_g(struct lp_conn *c, struct lp_h2 *h, struct lp_run *r,
			      struct lp_verdict *v)
{
	if (!c || !r || !v)
		return 0;
	return lp_conn_next(c, h, r, v, &r->rd);
}

/* a CLOCK_MONOTONIC time below this (31 years of uptime); CLOCK_REALTIME is far above */
#define LP_MONO_MAX 1000000000000000000ULL

/*
 * The time of a segment, taken only where the state machine can begin or
 * end a message (lp_conn_needs_time): 0 otherwise. Egress: TCP's own
 * departure time of the segment (skb->tstamp, CLOCK_MONOTONIC, set by
 * tcp_transmit_skb; with pacing, the time it is scheduled to leave), which
 * costs nothing; ingress, or a stamp that is not monotonic: the clock (on
 * kvm-clock a read costs more than an empty program).
 */
static __always_inline __u64 seg_time(struct __sk_buff *skb, __u8 ingress, int needed)
{
	__u64 t;

	if (!needed)
		return 0;
	if (!ingress) {
		t = skb->tstamp;
		if (t && t < LP_MONO_MAX)
			return t;
	}
	return bpf_ktime_get_ns();
}

#define LOAD_SLOT(off, len) load(skb, sl, (off), (len))

/*
 * The HTTP/2 state of a connection the state machine just upgraded to h2c
 * (LP_CONN_H2C), created on its socket. The segment's samples so far are
 * recorded first, under the series of HTTP/1.1; those after it are HTTP/2's.
 */
static __always_inline struct lp_h2 *h2c_state(struct __sk_buff *skb, struct lp_slot *sl)
{
	struct bpf_sock *sk = skb->sk;
	struct lp_h2 *h;

	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (!sk)
		return NULL;
	h = bpf_sk_storage_get(&h2conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!h) {
		lp_count(&sl->v, LP_CNT_STORAGE_FAILED);
		return NULL;
	}
	lp_flush_g(sl);
	sl->key.flags |= LP_KEY_H2;
	return h;
}

/* One segment of a connection with state through the state machine, into sl->v. */
__noinline int segment(struct __sk_buff *skb, struct lp_conn *c, struct lp_h2 *h,
		       struct lp_slot *sl, __u64 now)
{
	if (!skb || !c || !sl)
		return 0;
#undef LP_H2C_STATE
#define LP_H2C_STATE h2c_state(skb, sl)
	LP_CONN_SEGMENT(c, h, &sl->seg, now, &sl->v, &sl->w, LOAD_SLOT);
#undef LP_H2C_STATE
#define LP_H2C_STATE ((struct lp_h2 *)0)
	return 0;
}

/* the TLS uprobes, which the egress path helps name a socket (tls_sock) */
#include "tls.bpf.h"

/*
 * A segment without state whose bytes, were they its direction's first,
 * would decide the connection is not HTTP (lp_first_payload_not_http). If
 * they are the first, the connection is marked (state with the role
 * LP_ROLE_NOT_HTTP): its later segments cost one storage lookup, never a
 * read. If not, the connection was met mid-stream and stays undecided:
 * counted, classified again at its next segment. The first: on ingress,
 * nothing received before and the segment in order (TCP has not taken it
 * yet); on egress, the connection's first data segment sent (TCP counted
 * it before the hook), a retransmission of it not.
 */
static __always_inline void not_http(struct __sk_buff *skb, struct bpf_sock *sk,
				     const struct pkt *pk, __u8 ingress)
{
	struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;
	struct lp_conn *c;

	if (!tp)
		return;
	if (ingress ? tp->bytes_received || pk->seg.seq != tp->rcv_nxt
		    : tp->data_segs_out > segs) {
		count(LP_CNT_UNDECIDED);
		return;
	}
	c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count(LP_CNT_STORAGE_FAILED);
		return;
	}
	/* the other direction's first request may have made it HTTP's on another CPU */
	if (c->q.role == LP_ROLE_NONE) {
		c->q.role = LP_ROLE_NOT_HTTP;
		count(LP_CNT_NOT_HTTP);
	}
}

/*
 * The connection's state for a segment, or NULL when it has none to frame:
 * only a request start creates state (with one side only, where that
 * side's requests start: in for the server side, out for the client).
 */
static __always_inline struct lp_conn *conn_state(struct __sk_buff *skb, struct bpf_sock *sk,
						  struct pkt *pk, __u8 ingress)
{
	struct lp_conn *c = bpf_sk_storage_get(&conns, sk, 0, 0);

	if (c) {
		/* upgraded or closed, or decided not HTTP at all: nothing to read */
		if (c->q.role != LP_ROLE_SERVER && c->q.role != LP_ROLE_CLIENT)
			return NULL;
		return c;
	}
	if (!pk->seg.plen || (side_filter && ingress != (side_filter == LP_SIDE_SERVER)))
		return NULL;
	classify(skb, pk);
	if (pk->not_http) {
		not_http(skb, sk, pk, ingress);
		return NULL;
	}
	if (!lp_conn_wants_state(&pk->seg)) {
		if (!ingress && tls_loaded)
			tls_sock(skb, pk);
		/* with one side only, a response without state is the other side's */
		if (pk->seg.cls == LP_CLASS_RESPONSE && !side_filter)
			count(LP_CNT_ORPHAN_RESPONSES);
		return NULL;
	}
	if (lp_conn_is_h2(&pk->seg)) {
		/* its streams and tables first: without them it is not followed at all */
		struct lp_h2 *h = bpf_sk_storage_get(&h2conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

		if (!h) {
			count(LP_CNT_STORAGE_FAILED);
			return NULL;
		}
		lp_h2_init(h, pk->seg.seq, pk->seg.ack, pk->seg.cls == LP_CLASS_H2_FRAME);
	}
	c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count(LP_CNT_STORAGE_FAILED);
		return NULL;
	}
	lp_conn_init(c, &pk->seg);
	/* the socket's for its life (a task moving does not move it): read once */
	c->rsp.cgroup_id = bpf_skb_cgroup_id(skb);
	c->rsp.tenant_id = cg_level ? bpf_skb_ancestor_cgroup_id(skb, (int)cg_level) : 0;
	return c;
}

/*
 * The number of key in a map that numbers what clients called (peers6,
 * hosts): 1..max, a new one the first time; 0 once every number is given.
 * Numbers are never given back: user space reads a key once.
 */
static __always_inline __u32 number_of(void *map, const void *key, __u32 *next, __u32 max)
{
	__u32 n, *got = bpf_map_lookup_elem(map, key);

	if (got)
		return *got;
	if (*next < max) {
		n = __sync_fetch_and_add(next, 1) + 1;
		if (n <= max && !bpf_map_update_elem(map, key, &n, BPF_NOEXIST))
			return n;
		got = bpf_map_lookup_elem(map, key); /* another CPU numbered it first */
		if (got)
			return *got;
	}
	return 0;
}

/*
 * The number of the IPv6 address a client's socket was connected to (the
 * "peers6" map): 1..LP_PEERS6_MAX, or LP_PEER_OTHER once every number is
 * given (counted). A global function: verified once, one call in handle().
 */
__noinline __u32 lp_peer6_g(struct __sk_buff *skb)
{
	struct lp_addr6 a;
	__u32 n;

	if (!skb)
		return 0;
	a.w[0] = skb->remote_ip6[0];
	a.w[1] = skb->remote_ip6[1];
	a.w[2] = skb->remote_ip6[2];
	a.w[3] = skb->remote_ip6[3];
	n = number_of(&peers6, &a, &peers6_next, LP_PEERS6_MAX);
	if (n)
		return n;
	count(LP_CNT_PEERS6_FULL);
	return LP_PEER_OTHER;
}

/*
 * The number of the host name in w->hk (len bytes; 0: the value was no
 * name): 1..LP_HOSTS_MAX, a new one the first time (user space reads the
 * name in the "hosts" map); LP_PEER_OTHER once every number is given; 0
 * for no name. Both counted: the series is named by the address then.
 */
static __always_inline __u32 host_number(struct lp_win *w, __u32 len)
{
	__u32 n;

	if (!len) {
		count(LP_CNT_HOST_UNUSABLE);
		return 0;
	}
	n = number_of(&hosts, &w->hk, &hosts_next, LP_HOSTS_MAX);
	if (n)
		return n;
	count(LP_CNT_HOSTS_FULL);
	return LP_PEER_OTHER;
}

/* a client request's Host value w->b[at, end) (LP_REQ_HOST): its host's number */
__noinline __u32 lp_host_g(struct lp_win *w, __u32 at, __u32 end)
{
	if (!w)
		return 0;
	return host_number(w, lp_host_name(w->b, at, end, &w->hk));
}

/*
 * an HTTP/2 request's literal :authority f (LP_H2_HOST; w->b[0, n) read):
 * its host's number, the value decoded into the route key's room
 */
__noinline __u32 lp_h2_host_g(struct lp_win *w, __u32 n, const struct lp_hp_field *f,
			      struct lp_hp_table *t)
{
	if (!w || !f || !t || n > LP_WIN)
		return 0;
	return host_number(w, lp_h2_authority(w->b, n, f, w->rk.path, &t->scratch, &w->hk));
}

/*
 * The address a client's socket was connected to (the socket's, not the
 * packet's: a Service's ClusterIP before any DNAT, as the caller named it):
 * IPv4 as it is (a v4-mapped IPv6 socket sends IPv4 packets too), IPv6 by
 * its number (lp_peer6_g).
 */
static __always_inline __u32 peer_of(struct __sk_buff *skb, __u8 family)
{
	return family == 4 ? skb->remote_ip4 : lp_peer6_g(skb);
}

static __always_inline int handle(struct __sk_buff *skb, __u8 ingress)
{
	struct lp_h2 *h = NULL;
	struct lp_slot *sl;
	struct pkt pk = {};
	struct bpf_sock *sk;
	struct lp_conn *c;
	__u32 slot;

	if (parse(skb, &pk) || LP_CUT(1))
		return SK_PASS;
	/* the common case, a pure ACK: nothing to do */
	if (!pk.seg.plen && !(pk.seg.tcp_flags & (LP_TCP_FIN | LP_TCP_RST)))
		return SK_PASS;
	sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (!sk || LP_CUT(2))
		return SK_PASS;
	pk.seg.ingress = ingress;
	c = conn_state(skb, sk, &pk, ingress);
	if (!c || LP_CUT(3))
		return SK_PASS;
	if (c->q.proto == LP_PROTO_HTTP2) {
		h = bpf_sk_storage_get(&h2conns, sk, 0, 0);
		if (!h)
			return SK_PASS;
		if (lp_h2_wait(c, h, &pk.seg))
			count(LP_CNT_H2_REORDERED);
	}
	sl = lp_slot_begin(&slot, &pk.seg, c->rsp.cgroup_id, pk.sport, pk.family,
			   c->q.proto == LP_PROTO_HTTP2 ? LP_KEY_H2 : 0);
	if (!sl)
		return SK_PASS;
	sl->poff = pk.poff;
	sl->tenant = c->rsp.tenant_id;
	if (client_addr && c->q.role == LP_ROLE_CLIENT) {
		/* the host its first request named (--client-address host), else the address */
		__u32 host = client_addr == LP_CLIENT_ADDR_HOST ? lp_conn_host(c, h) : 0;

		if (host) {
			sl->key.peer = host;
			sl->key.flags |= LP_KEY_HOST;
		} else {
			sl->key.peer = peer_of(skb, pk.family);
		}
	}
	if (!LP_CUT(4))
		segment(skb, c, h, sl, seg_time(skb, ingress, lp_conn_needs_time(c, &pk.seg)));
	lp_slot_finish(sl);
	return SK_PASS;
}

/*
 * One program for both hooks (user space attaches it to ingress and egress):
 * one image in the instruction cache instead of two (on a CPU that runs
 * both, as each does on a node whose clients and servers talk, two images
 * cost more: bench/RESULTS.md, "Cache lines"). The direction: a received packet
 * carries the index of the device it came in on (never 0), one the socket
 * sends carries none yet.
 */
SEC("cgroup/skb")
int latprobe_skb(struct __sk_buff *skb)
{
	return handle(skb, skb->ingress_ifindex != 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
