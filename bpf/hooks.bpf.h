/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The hooks the pure headers in include/ take, in one place, before them.
 *
 * Each pure header (lp_route.h, lp_http.h, lp_conn.h) works over plain
 * buffers so the host tests, the fuzzers and this object compile the same
 * code. What differs in the kernel is supplied here, by #define before the
 * header is included:
 *  - LP_ROUTE_WORD, LP_HEAD_WORD, LP_HEAD_UWORD: eight bytes of the read
 *    window in one load (the headers' default is a byte loop);
 *  - LP_ROUTE_KEY_PATH, LP_HEAD_STEP, LP_CONN_FEED, LP_CONN_NEXT, LP_HP_FIELD,
 *    LP_H2_NOTE, LP_ROUTE_H2PATH, LP_HUFF_PATH_STEP,
 *    LP_HUFF_STEP, LP_H2_HEADERS, LP_H2_DROP: calls into
 *    global functions (defined in latprobe.bpf.c), which the verifier checks
 *    once each instead of at every place the inlined step would stand;
 *  - LP_ROUTE: the route trie's lookup, or LP_ROUTE_NONE without --route.
 * Then the window (struct lp_win) the reads land in, and the benchmark cuts.
 */
#ifndef LP_HOOKS_BPF_H
#define LP_HOOKS_BPF_H

#include "latprobe.h"
#include "lp_bucket.h"
#include "lp_classify.h"


/*
 * Eight bytes of a window at offset at & mask (struct lp_win has 8 bytes of
 * room past its 1024), the bytes at or past n cleared. One load (unaligned
 * with mask 1023; aligned with 1016, for the head scan's words): a memcpy
 * would be eight byte loads.
 */
static __always_inline __u64 lp_win_word(const __u8 *p, __u32 at, __u32 n, __u32 mask)
{
	__u64 x = *(const __u64 *)(p + (at & mask));

	if (at + 8 > n)
		x &= at < n ? ~0ULL >> (64 - 8 * (n - at)) : 0;
	return x;
}
#define LP_ROUTE_WORD(p, at, n) lp_win_word(p, at, n, 1023)
#define LP_HEAD_WORD(p, at, n)	lp_win_word(p, at, n, 1016)
#define LP_HEAD_UWORD(p, at, n) lp_win_word(p, at, n, 1023)
#define LP_HOST_LOAD(p)		(*(const __u64 *)(p))

struct lp_win;
struct lp_head;
struct lp_scan;
struct lp_conn;
struct lp_run;
struct lp_verdict;
struct lp_h2;
struct lp_hp_table;
struct lp_hp_field;
struct lp_huff_out;
int lp_route_path_g(struct lp_win *w, __u32 n, __u32 start);
int lp_head_step_g(struct lp_win *w, struct lp_scan *st, struct lp_head *h);
int lp_head_upgrade_g(struct lp_win *w, __u32 at, __u32 end, struct lp_head *h);
__u16 lp_route_g(struct lp_win *w, __u32 n, __u32 method);
int lp_conn_feed_g(struct lp_conn *c, struct lp_run *r, struct lp_win *w, struct lp_verdict *v);
int lp_conn_next_g(struct lp_conn *c, struct lp_h2 *h, struct lp_run *r, struct lp_verdict *v);
int lp_hp_field_g(struct lp_win *w, __u32 n, __u32 at, struct lp_hp_table *t,
		  struct lp_hp_field *f);
struct lp_h2_walk;
int lp_h2_note_g(struct lp_win *w, __u32 lim, struct lp_hp_table *t, struct lp_h2_walk *hw);
int lp_learn_g(struct lp_win *w);
int lp_route_h2_g(struct lp_win *w, __u32 n, const struct lp_hp_field *f,
		  struct lp_hp_table *t);
int lp_huff_path_g(struct lp_win *w, __u32 at, __u32 len, struct lp_huff_out *o);
int lp_huff_chunk_g(struct lp_win *w, __u32 at, __u32 len, struct lp_huff_out *o);
int lp_h2_feed_g(struct lp_h2 *h, struct lp_run *r, struct lp_win *w, struct lp_verdict *v);
int lp_h2_block_g(struct lp_h2 *h, struct lp_run *r, struct lp_win *w, struct lp_verdict *v);
int lp_h2_headers_g(struct lp_h2 *h, struct lp_run *r, struct lp_win *w, struct lp_verdict *v);
struct lp_slot;
int lp_flush_g(struct lp_slot *sl);
int lp_h2_drop_g(struct lp_h2 *h, struct lp_verdict *v, int unanswered);
int lp_h2_goaway_g(struct lp_h2 *h, __u32 last, struct lp_verdict *v);
int lp_h2_end_g(struct lp_h2 *h, __u32 id, __u64 at, struct lp_verdict *v);
int lp_h2_trailers_g(struct lp_h2 *h, __u32 id, const struct lp_h2_walk *w, int last);
int lp_conn_open_start_g(struct lp_conn *c, struct lp_h2 *h, __u32 seq, int rsp);
__u32 lp_host_g(struct lp_win *w, __u32 at, __u32 end);
__u32 lp_h2_host_g(struct lp_win *w, __u32 n, const struct lp_hp_field *f, struct lp_hp_table *t);

/*
 * --route/--exclude-path entries in the "routes" trie; 0: no routes, no
 * lookups (writable: a reload may bring routes, or take them all away)
 */
__u32 nr_routes = 0;
/*
 * bytes of the longest trie entry: a path read shorter than this and cut is
 * unrouted (writable: a reload changes the routes)
 */
__u32 route_max_len = 0;

/*
 * gRPC methods learned from HTTP/2 paths at most (--grpc-methods; 0: none),
 * and the next slot of the grpc_methods map to give (slots are never given
 * back: a method keeps its id for the agent's life)
 */
__u32 grpc_methods_max = 0;
__u32 grpc_methods_next = 0;
/*
 * --client-address (enum lp_client_addr): client-side series keyed by the
 * server called too (lp_key.peer); with host, by the host its requests name
 * (LP_REQ_HOST numbers it, lp_host_g)
 */
const volatile __u8 client_addr = 0;

/* HTTP/2 :path fields are looked at for routes or gRPC methods */
#define LP_H2_PATHS (nr_routes || grpc_methods_max)

#define LP_ROUTE_KEY_PATH(p, n, start, k) lp_route_path_g((struct lp_win *)(p), n, start)
#define LP_HEAD_STEP(p, st, h)		  lp_head_step_g((struct lp_win *)(p), st, h)
#define LP_HEAD_UPGRADE(p, at, end, h)	  lp_head_upgrade_g((struct lp_win *)(p), at, end, h)
#define LP_ROUTE(buf, n, method)                                                                   \
	(nr_routes ? lp_route_g((struct lp_win *)(buf), (n), (method)) : LP_ROUTE_NONE)
/*
 * Five arguments at most: the bytes read are r->rd.len, which n always is.
 * HTTP/2 straight to its own function: one frame less on the BPF stack.
 */
#define LP_ROUTE_H2 (nr_routes ? LP_ROUTE_UNROUTED : LP_ROUTE_NONE)
#define LP_CONN_FEED(c, h, r, buf, n, v)                                                           \
	((c)->q.proto != LP_PROTO_HTTP2	    ? lp_conn_feed_g(c, r, buf, v)                          \
	 : (r)->want == LP_WANT_H2_BLOCK ? lp_h2_block_g(h, r, buf, v)                             \
					 : lp_h2_feed_g(h, r, buf, v))
#define LP_CONN_NEXT lp_conn_next_g
#define LP_HP_FIELD(p, n, at, t, f) lp_hp_field_g((struct lp_win *)(p), n, at, t, f)
#define LP_H2_NOTE(p, lim, t, w)    lp_h2_note_g((struct lp_win *)(p), lim, t, w)
/* routes on HTTP/2 paths: the key built in the window's rk, decoded there if Huffman-coded */
#define LP_ROUTE_LEARN 0x3fff /* lp_route_h2_g: no route; learn it if it is a gRPC method */
#define LP_ROUTE_H2PATH(p, n, f, t)                                                                \
	({                                                                                         \
		int r_ = lp_route_h2_g((struct lp_win *)(p), n, f, t);                             \
		(__u16)(r_ == LP_ROUTE_LEARN ? lp_learn_g((struct lp_win *)(p)) : r_);             \
	})
#define LP_HUFF_PATH_STEP(p, at, len, o, out) lp_huff_path_g((struct lp_win *)(p), at, len, o)
#define LP_H2_HEADERS(h, r, buf, v) lp_h2_headers_g(h, r, (struct lp_win *)(buf), v)
#define LP_H2_DROP(h, v, unanswered) lp_h2_drop_g(h, v, unanswered)
#define LP_H2_GOAWAY(h, last, v)     lp_h2_goaway_g(h, last, v)
#define LP_H2_END(h, id, at, v)	     lp_h2_end_g(h, id, at, v)
#define LP_H2_TRAILERS(h, id, w, last) lp_h2_trailers_g(h, id, w, last)
#define LP_CONN_OPEN_START(c, h, seq, rsp) lp_conn_open_start_g(c, h, seq, rsp)
#define LP_REQ_HOSTS			      (client_addr == LP_CLIENT_ADDR_HOST)
#define LP_REQ_HOST(buf, at, end)	      lp_host_g((struct lp_win *)(buf), at, end)
#define LP_H2_HOST(p, n, f, t)		      lp_h2_host_g((struct lp_win *)(p), n, f, t)
/* the working slot sl, in scope where LP_CONN_SEGMENT runs (as for its LOAD) */
#define LP_VERDICT_FLUSH(v) lp_flush_g(sl)
#define LP_HUFF_STEP(p, at, len, o) lp_huff_chunk_g((struct lp_win *)(p), at, len, o)
/*
 * HTTP/2 state for a connection upgraded to h2c (include/lp_conn.h): the
 * socket's storage, made where the cgroup_skb program runs a segment
 * (h2c_state in bpf/latprobe.bpf.c, with skb and sl in scope); anywhere
 * else (the TLS uprobes: h2c exists only in cleartext) none, and an
 * upgrade ends tracking as before.
 */
#define LP_CONN_H2C(c, v) LP_H2C_STATE
#define LP_H2C_STATE	  ((struct lp_h2 *)0)

#include "lp_route.h"
#include "lp_http.h"
#include "lp_host.h"
#include "lp_conn.h"

/* The window segment bytes are read into (a head, a chunk-size line). */
struct lp_win {
	__u8 b[1024];
	__u8 pad[8]; /* a word read at a masked offset stays inside */
	struct lp_route_key rk; /* the route lookup's key (a stack key cannot be indexed) */
	__u8 rk_room[LP_ROUTE_LEN]; /* an HTTP/2 path decoded into rk.path writes past it */
	struct lp_host_key hk;	    /* the hosts map's key (lp_host_g) */
};
_Static_assert(__builtin_offsetof(struct lp_win, rk) == LP_WIN + 8, "lp_win is one window");

/*
 * Benchmark cuts (bench/build_stage.sh, bench/kcost.py --variant): built
 * with -DLP_STAGE=N, the cgroup_skb program stops after stage N, in
 * pipeline order: 1 parse, 2 full socket, 3 storage lookup and the
 * classification of new connections, 4 working slot, 5 framing with every
 * read failing, 6 framing without head scans, 7 framing and the state
 * machine (no sample recorded), 8 all but record(). -DLP_TLS_STAGE=N does
 * the same for the TLS uprobes (bench/tlscost.py --variant): 1 the return
 * programs stop at once, 2 the entry programs too (the traps' own cost).
 * The agent is built with 0: every cut compiles away.
 */
#ifndef LP_STAGE
#define LP_STAGE 0
#endif
#ifndef LP_TLS_STAGE
#define LP_TLS_STAGE 0
#endif
#define LP_CUT(n)     (LP_STAGE == (n))
#define LP_TLS_CUT(n) (LP_TLS_STAGE == (n))

#endif /* LP_HOOKS_BPF_H */
