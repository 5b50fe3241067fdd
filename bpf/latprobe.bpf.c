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
struct lp_win;
int lp_route_path_g(struct lp_win *w, __u32 n, __u32 start);
#define LP_ROUTE_KEY_PATH(p, n, start, k) lp_route_path_g((struct lp_win *)(p), n, start)
#include "lp_route.h"

/* The window segment bytes are read into (a head, a chunk-size line). */
struct lp_win {
	__u8 b[1024];
	__u8 pad[8]; /* a word read at a masked offset stays inside */
	struct lp_route_key rk; /* the route lookup's key (a stack key cannot be indexed) */
};

struct lp_head;
struct lp_scan;
int lp_head_step_g(struct lp_win *w, struct lp_scan *st, struct lp_head *h);
#define LP_HEAD_STEP(p, st, h) lp_head_step_g((struct lp_win *)(p), st, h)
#include "lp_http.h"
_Static_assert(__builtin_offsetof(struct lp_win, rk) == LP_WIN + 8, "lp_win is one window");

/* --route/--exclude-path entries in the "routes" trie; 0: no routes, no lookups */
const volatile __u32 nr_routes = 0;
/* bytes of the longest trie entry: a path read shorter than this and cut is unrouted */
const volatile __u32 route_max_len = 0;
__u16 lp_route_g(struct lp_win *w, __u32 n, __u32 method);
#define LP_ROUTE(buf, n, method)                                                                   \
	(nr_routes ? lp_route_g((struct lp_win *)(buf), (n), (method)) : LP_ROUTE_NONE)

struct lp_conn;
struct lp_run;
struct lp_verdict;
struct lp_read;
int lp_conn_feed_g(struct lp_conn *c, struct lp_run *r, struct lp_win *w, __u32 n,
		   struct lp_verdict *v);
int lp_conn_next_g(struct lp_conn *c, struct lp_run *r, struct lp_verdict *v);
#define LP_CONN_FEED lp_conn_feed_g
#define LP_CONN_NEXT lp_conn_next_g
#include "lp_conn.h"

#define SK_PASS 1
/*
 * Cost breakdown (bench/build_stage.sh, bench/kcost.py --variant): with
 * LP_STAGE=N the programs stop after stage N (1 parse, 5 fullsock, 2 storage
 * lookup and classification of new connections, 6 working slot, 7 framing
 * with every read failing, 3 framing without head scans, 4 framing and
 * state machine, before records, 8 all but record()). The
 * agent is always built with 0: the checks compile away.
 */
#ifndef LP_STAGE
#define LP_STAGE 0
#endif
/* the same for the TLS uprobes (bench/tlscost.py --variant): 1 the return
 * programs stop at once, 2 the entry programs too (the traps' own cost) */
#ifndef LP_TLS_STAGE
#define LP_TLS_STAGE 0
#endif

/* Set by user space before load (userspace/probe.c). */
const volatile __u32 nr_fine = LP_FINE_OCTAVES << LP_SCHEMA_DEFAULT;
const volatile __u64 fine_zero_ns = 0;
const volatile __u64 fine_bounds[LP_FINE_BOUNDS_MAX] = {};
const volatile __u32 nr_classic = 0;
/* --side: 0 both, LP_SIDE_SERVER or LP_SIDE_CLIENT only (the other side costs nothing) */
const volatile __u8 side_filter = 0;
const volatile __u64 classic_bounds[LP_CLASSIC_MAX] = {};
/* --ttfb: also record time to the first byte of the final response */
const volatile __u8 ttfb = 0;

/*
 * Working memory of one segment, per CPU: the read window, the verdict and
 * the segment (too large for the 512-byte stack). Two per CPU: a program
 * in softirq can interrupt one in process context on the same CPU; the
 * interrupting one takes the second slot.
 */
struct lp_slot {
	__u64 counters[LP_CNT_MAX]; /* first: user space reads them (latprobe.h) */
	struct lp_win w;
	struct lp_verdict v;
	struct lp_seg seg;
	__u32 poff; /* payload offset from the network header */
	__u32 busy; /* a program on this CPU is using the slot */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, struct lp_slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lp_conn);
} conns SEC(".maps");

/* series -> struct lp_value per CPU; value_size and max_entries set at load */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(struct lp_key));
	__uint(value_size, sizeof(struct lp_value));
} series SEC(".maps");

/* one all-zero value of the series map's size, to insert new series */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct lp_value));
} zero_value SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* the spill ring (include/latprobe.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, struct lp_spill);
} spill SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} spill_head SEC(".maps");

/* cpu * LP_SLOTS + slot; max_entries set at load to the possible CPUs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} spill_tail SEC(".maps");

/* series per cgroup before its new statuses fold (0: no cap; include/latprobe.h) */
const volatile __u32 cg_cap = 0;

/* cgroup id -> struct lp_cg */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LP_CG_MAX);
	__type(key, __u64);
	__type(value, struct lp_cg);
} cgroups SEC(".maps");

/* path prefix -> route id (include/lp_route.h); filled by user space before attach */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LP_ROUTE_ENTRIES);
	__type(key, struct lp_route_key);
	__type(value, struct lp_route_val);
} routes SEC(".maps");

/* requests of each --exclude-path, by side: index * 2 + side - 1 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_EXCLUDES_MAX * 2);
	__type(key, __u32);
	__type(value, __u64);
} excluded SEC(".maps");

/* changed-only collection (include/latprobe.h): series with samples since user space's last look */
__u64 lp_dirty[LP_DIRTY_WORDS];
/* series the kernel created: user space reads the whole map when this moved */
__u64 lp_new_series;

/*
 * Tests only: treat one new series in spill_test_every as if it could not
 * be allocated, so the spill path runs on demand (0 in production: the
 * verifier drops the branch).
 */
const volatile __u32 spill_test_every = 0;

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	/* atomic: an ingress program in softirq may interrupt an egress one on this CPU */
	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline void count_excluded(__u16 route, __u8 side)
{
	__u32 idx = (route & ~LP_ROUTE_EXCLUDED) * 2 + (side == LP_SIDE_CLIENT);
	__u64 *c = bpf_map_lookup_elem(&excluded, &idx);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/* keep the sample for user space; 0 if the ring is full */
static __always_inline int spill_sample(const struct lp_key *key, __u64 d, __u32 slot)
{
	__u32 ti = bpf_get_smp_processor_id() * LP_SLOTS + slot;
	struct lp_spill *sp = bpf_map_lookup_elem(&spill, &slot);
	__u64 *head = bpf_map_lookup_elem(&spill_head, &slot);
	__u64 *tail = bpf_map_lookup_elem(&spill_tail, &ti);
	struct lp_spill_entry *e;
	__u64 h;

	if (!sp || !head || !tail)
		return 0;
	h = *head;
	if (h - *tail >= LP_SPILL)
		return 0;
	e = &sp->e[h & (LP_SPILL - 1)];
	e->key = *key;
	e->ns = d;
	/* the entry before the head: user space trusts entries below the head it read */
	asm volatile("" ::: "memory");
	*head = h + 1;
	count(LP_CNT_SPILLED);
	return 1;
}

static __always_inline struct lp_cg *cg_account(__u64 cgroup_id)
{
	struct lp_cg *g = bpf_map_lookup_elem(&cgroups, &cgroup_id);
	struct lp_cg zero = {};

	if (g)
		return g;
	bpf_map_update_elem(&cgroups, &cgroup_id, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&cgroups, &cgroup_id);
}

/*
 * A new series of a cgroup over its share: fold the key (its status into a
 * class, or past that the cgroup's own overflow series). Returns the
 * accounting to count a new series in, or NULL when the series is not
 * counted (the cgroup's own overflow series, or no accounting).
 */
static __always_inline struct lp_cg *cg_fold(struct lp_key *key, struct lp_value **v)
{
	struct lp_cg *g;
	__u64 n;

	*v = NULL;
	if (!cg_cap || !key->cgroup_id || (key->flags & (LP_KEY_CG_OVERFLOW | LP_KEY_OVERFLOW)))
		return NULL;
	g = cg_account(key->cgroup_id);
	if (!g)
		return NULL; /* no accounting (the LRU could not take it): no cap */
	n = g->series;
	if (n < cg_cap)
		return g;
	if (!(key->flags & LP_KEY_STATUS_CLASS)) {
		key->status = key->status / 100 * 100;
		key->flags |= LP_KEY_STATUS_CLASS;
		*v = bpf_map_lookup_elem(&series, key);
		if (*v || n < cg_cap + LP_CG_CLASS_EXTRA) {
			__sync_fetch_and_add(&g->folded_class, 1);
			return *v ? NULL : g;
		}
	}
	/* its own overflow series: what a series of it shares with every other */
	key->port = 0;
	key->status = 0;
	key->method = 0;
	key->route = 0;
	key->flags = LP_KEY_CG_OVERFLOW | (key->flags & LP_KEY_TTFB);
	__sync_fetch_and_add(&g->folded_over, 1);
	*v = bpf_map_lookup_elem(&series, key);
	return NULL;
}

/* the series' value, or NULL when the sample was spilled or lost */
static __always_inline struct lp_value *series_value(struct lp_key *key, __u64 d, __u32 slot)
{
	static const struct lp_key overflow_key = { .flags = LP_KEY_OVERFLOW };
	struct lp_value *v;
	struct lp_cg *g;
	__u32 zero = 0;
	long err = -1;
	void *init;

	v = bpf_map_lookup_elem(&series, key);
	if (v)
		return v;
	/* a new series: within the cgroup's share, or folded (a rare path) */
	g = cg_fold(key, &v);
	if (v)
		return v;
	init = bpf_map_lookup_elem(&zero_value, &zero);
	if (spill_test_every && bpf_get_prandom_u32() % spill_test_every == 0) {
		err = -ENOMEM;
	} else if (init) {
		err = bpf_map_update_elem(&series, key, init, BPF_NOEXIST);
		if (!err)
			__sync_fetch_and_add(&lp_new_series, 1);
		if (!err && g)
			__sync_fetch_and_add(&g->series, 1);
		v = bpf_map_lookup_elem(&series, key);
		if (v)
			return v;
	}
	/*
	 * The map is full (-E2BIG): fold into the overflow series user space
	 * created. Anything else is of the moment (the allocator's per-CPU cache
	 * ran dry in a burst of new series): the sample goes to the spill ring,
	 * for user space to add to this very series; only a full ring folds.
	 */
	if (err != -E2BIG && spill_sample(key, d, slot))
		return NULL;
	count(err == -E2BIG ? LP_CNT_OVERFLOW : LP_CNT_SERIES_ALLOC);
	*key = overflow_key; /* the series that changes (its dirty bit) */
	v = bpf_map_lookup_elem(&series, (void *)&overflow_key);
	if (!v)
		count(LP_CNT_LOST);
	return v;
}

/*
 * Add one sample to its series. A global function: verified once, however
 * many samples a segment can end. slot: the working slot the caller holds
 * (its spill ring).
 */
__noinline int record(struct lp_key *key, __u64 d, __u32 slot)
{
	struct lp_value *v;
	__u32 fine, classic, bit;
	struct lp_key k;
	__u64 *word;

	if (!key || slot >= LP_SLOTS || LP_STAGE == 8)
		return 0;
	k = *key; /* a new series of a cgroup over its share may be folded: the caller's stays */
	v = series_value(&k, d, slot);
	if (!v)
		return 0;
	/*
	 * Mark the series changed; the shared word is written only when its bit
	 * is not set yet. Before the bucket searches, not after: the verifier
	 * walks this once per path into them, not once per path out.
	 */
	bit = lp_dirty_bit(&k);
	word = &lp_dirty[(bit >> 6) & (LP_DIRTY_WORDS - 1)];
	if (!(*(volatile __u64 *)word & (1ULL << (bit & 63))))
		__sync_fetch_and_or(word, 1ULL << (bit & 63));
	fine = lp_fine_slot((const __u64 *)fine_bounds, nr_fine, fine_zero_ns, d);
	if (fine > nr_fine + 1)
		fine = nr_fine + 1;
	classic = lp_classic_slot((const __u64 *)classic_bounds, nr_classic, d);
	__sync_fetch_and_add(&v->sum_ns, d);
	__sync_fetch_and_add(&v->classic[classic & (LP_CLASSIC_MAX - 1)], 1);
	__sync_fetch_and_add(&v->fine[fine], 1);
	return 0;
}

struct pkt {
	struct lp_seg seg;
	__u32 poff; /* payload offset from the network header */
	__u16 sport, dport;
	__u8 family;
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
}

/* copy payload bytes [off, off + len) of the segment into the slot's window */
static __always_inline int load(struct __sk_buff *skb, struct lp_slot *sl, __u32 off, __u32 len)
{
	/* the loop checked len already; the verifier must see it on this register */
	barrier_var(len);
	if (len == 0 || len > LP_WIN || LP_STAGE == 7)
		return -1;
	return bpf_skb_load_bytes(skb, sl->poff + off, sl->w.b, len);
}

/*
 * The steps of the state machine as global functions: the verifier checks
 * each once, on its own, instead of at every step of the loop in
 * LP_CONN_SEGMENT (inlined, the head scanner alone would exceed its limit).
 */
__noinline int lp_conn_feed_g(struct lp_conn *c, struct lp_run *r, struct lp_win *w, __u32 n,
			      struct lp_verdict *v)
{
	if (!c || !r || !w || !v || n == 0 || n > LP_WIN)
		return 0;
	return lp_conn_feed(c, r, w->b, n, v, &r->rd);
}

__noinline int lp_head_step_g(struct lp_win *w, struct lp_scan *st, struct lp_head *h)
{
	if (!w || !st || !h || LP_STAGE == 3)
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

__noinline int lp_conn_next_g(struct lp_conn *c, struct lp_run *r, struct lp_verdict *v)
{
	if (!c || !r || !v)
		return 0;
	return lp_conn_next(c, r, v, &r->rd);
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

/* the verdict's samples into their series; key has the connection's part (flags too) */
static __always_inline void samples(const struct lp_verdict *vd, struct lp_key *key, __u32 slot)
{
	__u8 flags = key->flags;
	__u32 i;

	key->side = vd->side;
	for (i = 0; i < LP_VERDICT_SAMPLES; i++) {
		if (i >= vd->n)
			break;
		if (vd->s[i].kind == LP_SAMPLE_TTFB && !ttfb)
			continue;
		key->route = vd->s[i].route;
		if (key->route & LP_ROUTE_EXCLUDED) {
			/* an --exclude-path: counted, in no histogram and no SLO */
			if (vd->s[i].kind == LP_SAMPLE_DURATION)
				count_excluded(key->route, vd->side);
			continue;
		}
		key->status = vd->s[i].status;
		key->method = vd->s[i].method;
		key->flags = flags | (vd->s[i].kind == LP_SAMPLE_TTFB ? LP_KEY_TTFB : 0);
		record(key, vd->s[i].ns, slot);
	}
}

/* one of the CPU's two working slots, marked busy; NULL (counted) if both are in use */
static __always_inline struct lp_slot *take_slot(__u32 *slot)
{
	struct lp_slot *sl;

	*slot = 0;
	sl = bpf_map_lookup_elem(&slots, slot);
	if (sl && sl->busy) {
		*slot = 1; /* this program interrupted the one using slot 0 */
		sl = bpf_map_lookup_elem(&slots, slot);
	}
	if (!sl || sl->busy) {
		count(LP_CNT_BUSY);
		return NULL;
	}
	sl->busy = 1;
	return sl;
}

#define LOAD_SLOT(off, len) load(skb, sl, (off), (len))

/* One segment of a connection with state through the state machine, into sl->v. */
__noinline int segment(struct __sk_buff *skb, struct lp_conn *c, struct lp_slot *sl, __u64 now)
{
	if (!skb || !c || !sl)
		return 0;
	LP_CONN_SEGMENT(c, &sl->seg, now, &sl->v, &sl->w, LOAD_SLOT);
	return 0;
}

/* ---- HTTPS: the TLS library's plaintext, through uprobes -------------------
 *
 * User space attaches these to every libssl the node's processes map
 * (userspace/core/tls.c). SSL_read/SSL_write and their _ex forms: the entry
 * keeps the call's buffer per thread, the return feeds the bytes that
 * moved into the same state machine as plaintext, with a per-direction
 * byte count standing in for TCP's sequence numbers (a TLS session's
 * plaintext is one ordered stream: nothing is retransmitted or out of
 * order). SSL_set_fd finds the session's socket (its port and family);
 * SSL_shutdown is the local side's close, SSL_read returning 0 the peer's;
 * SSL_free ends the session. The ciphertext of the same connection never
 * looks like HTTP to the cgroup_skb programs: nothing is counted twice.
 */

#ifndef AF_INET
#define AF_INET 2
#define AF_INET6 10
#endif

/* the TLS programs are loaded (set by user space) */
const volatile __u8 tls_loaded = 0;

/* --cgroup: only tasks in that cgroup's subtree (its level and id); level 0: all */
const volatile __u32 tls_scope_level = 0;
const volatile __u64 tls_scope_cg = 0;

/*
 * Offsets of the kernel's fields SSL_set_fd's probe reads, found by user
 * space in the running kernel's BTF (include/latprobe.h, enum lp_koff): no
 * CO-RE in this object, so a kernel without BTF loads it the same. All 0:
 * unknown (no BTF), and the socket is found by the egress program instead.
 */
const volatile __u32 koff[LP_KOFF_MAX] = {};

static __always_inline __u64 kread_ptr(__u64 base, __u32 off)
{
	__u64 v = 0;

	if (base)
		bpf_probe_read_kernel(&v, sizeof(v), (const void *)(base + off));
	return v;
}

static __always_inline __u32 kread_u16(__u64 base, __u32 off)
{
	__u16 v = 0;

	if (base)
		bpf_probe_read_kernel(&v, sizeof(v), (const void *)(base + off));
	return v;
}

/* a call in progress, per thread: what its return needs */
struct lp_tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 nptr; /* _ex: where the library writes the byte count */
	__u32 num;  /* bytes asked for */
	__u32 kind; /* enum lp_tls_call_kind */
	/* a write's socket, seen by the egress program (tls_sock) */
	__u16 lport, rport;
	__u8 family;
	__u8 pad[3];
};

struct lp_tls_sess {
	struct lp_conn c;
	__u32 seq[2]; /* plaintext bytes so far: [0] written, [1] read */
	__u16 lport, rport;
	__u8 family; /* 4 or 6; 0: the socket is unknown */
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct lp_tls_call);
} tls_calls SEC(".maps");

/* max_entries set at load (--tls-sessions); freed at SSL_free, swept for dead processes */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LP_TLS_SESSIONS_DEFAULT);
	__type(key, struct lp_tls_key);
	__type(value, struct lp_tls_sess);
} tls_sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lp_tls_sess);
} tls_zero SEC(".maps");

/*
 * A write of a TLS session whose socket is unknown (the library was given a
 * BIO, not a file descriptor): the egress program, running in the writing
 * thread for a segment it sends, names the socket when the segment starts
 * with an application-data record of the size that write makes (the
 * plaintext plus 16 to 80 bytes of the cipher's overhead).
 */
static __always_inline void tls_sock(struct __sk_buff *skb, const struct pkt *pk)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lp_tls_call *call;
	__u8 h[5];
	__u32 rlen, m;

	if (pk->seg.plen < sizeof(h) || bpf_skb_load_bytes(skb, pk->poff, h, sizeof(h)))
		return;
	if (h[0] != 0x17 || h[1] != 3)
		return;
	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call || call->family || (call->kind != LP_TLS_WRITE && call->kind != LP_TLS_WRITE_EX))
		return;
	rlen = (__u32)h[3] << 8 | h[4];
	m = call->num < 16384 ? call->num : 16384;
	if (rlen < m + 16 || rlen > m + 80)
		return;
	call->lport = pk->sport;
	call->rport = pk->dport;
	call->family = pk->family;
}

static __always_inline int handle(struct __sk_buff *skb, __u8 ingress)
{
	struct lp_verdict *vd;
	struct lp_slot *sl;
	struct pkt pk = {};
	struct bpf_sock *sk;
	struct lp_conn *c;
	__u32 slot, i;

	if (parse(skb, &pk))
		return SK_PASS;
	if (LP_STAGE == 1)
		return SK_PASS;
	/* the common case, a pure ACK: nothing to do */
	if (!pk.seg.plen && !(pk.seg.tcp_flags & (LP_TCP_FIN | LP_TCP_RST)))
		return SK_PASS;
	sk = skb->sk;
	if (!sk)
		return SK_PASS;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return SK_PASS;
	pk.seg.ingress = ingress;
	if (LP_STAGE == 5)
		return SK_PASS;
	c = bpf_sk_storage_get(&conns, sk, 0, 0);
	if (!c) {
		/*
		 * Only a request start creates state. With one side only, a
		 * connection without state matters only where that side's
		 * requests start: in for the server side, out for the client.
		 */
		if (!pk.seg.plen || (side_filter && ingress != (side_filter == LP_SIDE_SERVER)))
			return SK_PASS;
		classify(skb, &pk);
		if (!lp_conn_wants_state(&pk.seg)) {
			if (!ingress && tls_loaded)
				tls_sock(skb, &pk);
			/* with one side only, a response without state is the other side's */
			if (pk.seg.cls == LP_CLASS_RESPONSE && !side_filter)
				count(LP_CNT_ORPHAN_RESPONSES);
			return SK_PASS;
		}
		c = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!c) {
			count(LP_CNT_STORAGE_FAILED);
			return SK_PASS;
		}
		lp_conn_init(c, &pk.seg);
		/* the socket's for its life (a task moving does not move it): read once */
		c->rsp.cgroup_id = bpf_skb_cgroup_id(skb);
	} else if (c->q.role != LP_ROLE_SERVER && c->q.role != LP_ROLE_CLIENT) {
		return SK_PASS; /* upgraded or closed: not HTTP/1.x any more */
	}
	if (LP_STAGE == 2)
		return SK_PASS;
	sl = take_slot(&slot);
	if (!sl)
		return SK_PASS;
	sl->seg = pk.seg;
	sl->poff = pk.poff;
	/* the samples are written before they are read: only the head is cleared */
	__builtin_memset(&sl->v, 0, __builtin_offsetof(struct lp_verdict, s));
	if (LP_STAGE == 6)
		goto out;
	segment(skb, c, sl, seg_time(skb, ingress, lp_conn_needs_time(c, &pk.seg)));
	vd = &sl->v;
	if (LP_STAGE == 4)
		goto out;
	if (vd->n) {
		struct lp_key key = {
			.cgroup_id = c->rsp.cgroup_id,
			.port = pk.sport,
			.side = vd->side,
			.family = pk.family,
		};

		samples(vd, &key, slot);
	}
	/* the slot is this program's alone while busy: no atomics needed */
	for (i = 0; i < LP_CNT_MAX; i++) {
		if (i >= vd->hi)
			break;
		sl->counters[i] += vd->cnt[i];
	}
out:
	sl->busy = 0;
	return SK_PASS;
}

static __always_inline int tls_in_scope(void)
{
	return !tls_scope_level ||
	       bpf_get_current_ancestor_cgroup_id(tls_scope_level) == tls_scope_cg;
}

/* a fresh session state for k (any old one replaced), or NULL (counted) */
static __always_inline struct lp_tls_sess *tls_new(struct lp_tls_key *k, __u64 flags)
{
	__u32 zero = 0;
	void *init = bpf_map_lookup_elem(&tls_zero, &zero);
	struct lp_tls_sess *s;

	if (init)
		bpf_map_update_elem(&tls_sessions, k, init, flags);
	s = bpf_map_lookup_elem(&tls_sessions, k);
	if (!s)
		count(LP_CNT_TLS_FULL);
	return s;
}

static __always_inline int load_user(struct lp_slot *sl, __u64 buf, __u32 off, __u32 len)
{
	barrier_var(len);
	if (len == 0 || len > LP_WIN)
		return -1;
	return bpf_probe_read_user(sl->w.b, len, (const void *)(buf + off));
}

#define LOAD_USER(off, len) load_user(sl, buf, (off), (len))

/* One call's plaintext (buf) through the state machine, into sl->v. */
__noinline int tls_segment(struct lp_conn *c, struct lp_slot *sl, __u64 buf, __u64 now)
{
	if (!c || !sl)
		return 0;
	LP_CONN_SEGMENT(c, &sl->seg, now, &sl->v, &sl->w, LOAD_USER);
	return 0;
}

/*
 * len bytes at buf moved through session k (or, with fin, its close), in or
 * out; call: the call that moved them (its socket, if the egress program
 * named it), or NULL.
 */
static __always_inline void tls_data(struct lp_tls_key *k, const struct lp_tls_call *call,
				     __u64 buf, __u32 len, __u8 ingress, __u8 fin)
{
	struct lp_tls_sess *s = bpf_map_lookup_elem(&tls_sessions, k);
	struct lp_seg seg = { .plen = len, .ingress = ingress, .tcp_flags = fin ? LP_TCP_FIN : 0 };
	struct lp_slot *sl;
	__u32 slot, i;

	if (!s || s->c.q.role == LP_ROLE_NONE) {
		/* as on the wire: only a request start creates state */
		__u8 b[LP_CLASSIFY_BYTES] = {};
		__u32 n = len < LP_CLASSIFY_BYTES ? len : LP_CLASSIFY_BYTES;

		if (fin || !len || (side_filter && ingress != (side_filter == LP_SIDE_SERVER)))
			return;
		if (bpf_probe_read_user(b, n & (LP_CLASSIFY_BYTES * 2 - 1), (const void *)buf))
			return;
		seg.cls = lp_classify(b, n, &seg.method, &seg.status);
		if (!lp_conn_wants_state(&seg))
			return;
		if (!s)
			s = tls_new(k, BPF_NOEXIST);
		if (!s)
			return;
		seg.seq = s->seq[ingress & 1];
		seg.ack = s->seq[!ingress];
		lp_conn_init(&s->c, &seg);
	} else if (s->c.q.role != LP_ROLE_SERVER && s->c.q.role != LP_ROLE_CLIENT) {
		return; /* upgraded: not HTTP/1.x any more */
	}
	if (!s->family && call && call->family) {
		s->lport = call->lport;
		s->rport = call->rport;
		s->family = call->family;
	}
	seg.seq = __sync_fetch_and_add(&s->seq[ingress & 1], len);
	seg.ack = s->seq[!ingress];
	sl = take_slot(&slot);
	if (!sl)
		return;
	sl->seg = seg;
	/* the samples are written before they are read: only the head is cleared */
	__builtin_memset(&sl->v, 0, __builtin_offsetof(struct lp_verdict, s));
	tls_segment(&s->c, sl, buf, lp_conn_needs_time(&s->c, &seg) ? bpf_ktime_get_ns() : 0);
	if (sl->v.n) {
		struct lp_key key = {
			.cgroup_id = bpf_get_current_cgroup_id(),
			.port = sl->v.side == LP_SIDE_SERVER ? s->lport : s->rport,
			.family = s->family,
			.flags = LP_KEY_TLS,
		};

		if (!s->family)
			sl->counters[LP_CNT_TLS_NO_SOCKET] += sl->v.n;
		samples(&sl->v, &key, slot);
	}
	for (i = 0; i < LP_CNT_MAX; i++)
		sl->counters[i] += sl->v.cnt[i];
	sl->busy = 0;
}

/* the entry of SSL_read/_ex, SSL_write/_ex, SSL_shutdown (the cookie says which) */
SEC("uprobe")
int BPF_KPROBE(lp_tls_enter, void *ssl, void *buf, __u64 num, void *nptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lp_tls_call call = {
		.ssl = (__u64)ssl,
		.buf = (__u64)buf,
		.num = (__u32)num,
		.kind = (__u32)bpf_get_attach_cookie(ctx),
	};

	if (LP_TLS_STAGE == 2 || !tls_in_scope())
		return 0;
	if (call.kind == LP_TLS_READ_EX || call.kind == LP_TLS_WRITE_EX)
		call.nptr = (__u64)nptr;
	bpf_map_update_elem(&tls_calls, &id, &call, BPF_ANY);
	return 0;
}

/* ... and its return: what moved */
SEC("uretprobe")
int BPF_KRETPROBE(lp_tls_exit, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lp_tls_call *cp = bpf_map_lookup_elem(&tls_calls, &id), call;
	struct lp_tls_key k = { .tgid = id >> 32 };
	__u64 n = 0;
	__u8 ingress;

	(void)ctx;
	if (!cp || LP_TLS_STAGE != 0)
		return 0;
	call = *cp;
	bpf_map_delete_elem(&tls_calls, &id);
	k.ssl = call.ssl;
	if (call.kind == LP_TLS_SHUTDOWN) {
		tls_data(&k, NULL, 0, 0, 0, 1); /* this side closes: a FIN out */
		return 0;
	}
	ingress = call.kind == LP_TLS_READ || call.kind == LP_TLS_READ_EX;
	if (call.nptr) {
		if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (const void *)call.nptr))
			return 0;
	} else if (ret > 0) {
		n = (__u64)ret;
	} else {
		/* SSL_read's 0: the peer closed (close_notify or EOF) */
		if (ret == 0 && ingress)
			tls_data(&k, NULL, 0, 0, 1, 1);
		return 0;
	}
	if (n && n < (1u << 30))
		tls_data(&k, &call, call.buf, (__u32)n, ingress, 0);
	return 0;
}

/* SSL_set_fd(ssl, fd): the session's socket, and a fresh state (the SSL may be reused) */
SEC("uprobe")
int BPF_KPROBE(lp_tls_set_fd, void *ssl, int fd)
{
	struct lp_tls_key k = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	__u64 files, fdt, fds, f = 0, so, sk;
	struct lp_tls_sess *s;
	unsigned int max = 0;
	__u32 fam;

	(void)ctx;
	if (!tls_in_scope() || fd < 0 || !koff[LP_KOFF_TASK_FILES])
		return 0;
	/* current->files->fdt->fd[fd]: the file */
	files = kread_ptr(bpf_get_current_task(), koff[LP_KOFF_TASK_FILES]);
	fdt = kread_ptr(files, koff[LP_KOFF_FILES_FDT]);
	if (!fdt)
		return 0;
	bpf_probe_read_kernel(&max, sizeof(max), (const void *)(fdt + koff[LP_KOFF_FDT_MAX]));
	if ((unsigned int)fd >= max)
		return 0;
	fds = kread_ptr(fdt, koff[LP_KOFF_FDT_FD]);
	if (fds)
		bpf_probe_read_kernel(&f, sizeof(f), (const void *)(fds + (__u64)fd * 8));
	/* a socket's file points at the socket, which points back */
	so = kread_ptr(f, koff[LP_KOFF_FILE_PRIVATE]);
	if (!so || kread_ptr(so, koff[LP_KOFF_SOCKET_FILE]) != f)
		return 0;
	sk = kread_ptr(so, koff[LP_KOFF_SOCKET_SK]);
	fam = kread_u16(sk, koff[LP_KOFF_SK_FAMILY]);
	if (fam != AF_INET && fam != AF_INET6)
		return 0;
	s = tls_new(&k, BPF_ANY);
	if (!s)
		return 0;
	s->lport = (__u16)kread_u16(sk, koff[LP_KOFF_SK_NUM]);
	s->rport = bpf_ntohs((__u16)kread_u16(sk, koff[LP_KOFF_SK_DPORT]));
	s->family = fam == AF_INET6 ? 6 : 4;
	return 0;
}

/* SSL_free(ssl): the session is over */
SEC("uprobe")
int BPF_KPROBE(lp_tls_free, void *ssl)
{
	struct lp_tls_key k = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };

	(void)ctx;
	bpf_map_delete_elem(&tls_sessions, &k);
	return 0;
}

/*
 * One program for both hooks (user space attaches it to ingress and egress):
 * one image in the instruction cache instead of two (on a CPU that runs
 * both, as each does on a node whose clients and servers talk, two images
 * cost ~9 % more: bench/RESULTS.md). The direction: a received packet
 * carries the index of the device it came in on (never 0), one the socket
 * sends carries none yet.
 */
SEC("cgroup/skb")
int latprobe_skb(struct __sk_buff *skb)
{
	return handle(skb, skb->ingress_ifindex != 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
