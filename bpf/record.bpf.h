/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recording: a verdict's samples into the per-CPU histogram of their series
 * (a new series within its cgroup's share, folded, or spilled), its counters
 * into the working slot. Shared by the cgroup_skb program and the TLS
 * uprobes: each takes a working slot (lp_slot_begin), runs the state
 * machine into its verdict, and ends with lp_slot_finish.
 */
#ifndef LP_RECORD_BPF_H
#define LP_RECORD_BPF_H

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
static __always_inline struct lp_cg *cg_fold(struct lp_key *key, struct lp_value **v,
					     __u64 tenant)
{
	struct lp_cg *g;
	__u64 n;

	*v = NULL;
	if (!cg_cap || !key->cgroup_id || (key->flags & (LP_KEY_CG_OVERFLOW | LP_KEY_OVERFLOW)))
		return NULL;
	/* the share of the tenant (the cgroup's ancestor at cg_level), or its own */
	if (!tenant)
		tenant = key->cgroup_id;
	g = cg_account(tenant);
	if (!g)
		return NULL; /* no accounting (the LRU could not take it): no cap */
	n = g->series;
	if (n < cg_cap)
		return g;
	/* a new address called (--client-address ip): into the cgroup's "other" first */
	if (key->peer && key->peer != LP_PEER_OTHER) {
		key->peer = LP_PEER_OTHER;
		count(LP_CNT_PEER_FOLDED);
		*v = bpf_map_lookup_elem(&series, key);
		if (*v)
			return NULL;
		if (n < cg_cap + LP_CG_CLASS_EXTRA)
			return g;
	}
	if (!(key->flags & LP_KEY_STATUS_CLASS)) {
		key->status = key->status / 100 * 100;
		key->flags |= LP_KEY_STATUS_CLASS;
		*v = bpf_map_lookup_elem(&series, key);
		if (*v || n < cg_cap + LP_CG_CLASS_EXTRA) {
			__sync_fetch_and_add(&g->folded_class, 1);
			return *v ? NULL : g;
		}
	}
	/* the tenant's overflow series: what a series of it shares with every other */
	key->cgroup_id = tenant;
	key->port = 0;
	key->peer = 0;
	key->status = 0;
	key->method = 0;
	key->route = 0;
	key->grpc = 0;
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
	{
		struct lp_slot *sl = bpf_map_lookup_elem(&slots, &slot);

		g = cg_fold(key, &v, sl ? sl->tenant : 0);
	}
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

	if (!key || slot >= LP_SLOTS || LP_CUT(8))
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

/*
 * The verdict's samples into their series; key has the connection's part
 * (flags too). Returns the requests among them (durations, time-to-first-byte
 * samples left out: a request is one, whatever --ttfb adds).
 */
static __always_inline __u32 samples(const struct lp_verdict *vd, struct lp_key *key, __u32 slot)
{
	__u8 flags = key->flags;
	__u32 i, n = 0;

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
		key->grpc = vd->s[i].grpc;
		key->flags = flags | (vd->s[i].kind == LP_SAMPLE_TTFB ? LP_KEY_TTFB : 0);
		n += vd->s[i].kind == LP_SAMPLE_DURATION;
		record(key, vd->s[i].ns, slot);
	}
	return n;
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

/*
 * The start of a segment's handling: a working slot (slot: which) holding
 * the segment and the connection's part of its samples' key (cgroup, port,
 * family, flags; an HTTPS sample is the calling task's cgroup, taken when
 * recorded), its verdict's head cleared (the samples are written before
 * they are read); NULL when both of the CPU's slots are in use (counted).
 */
static __always_inline struct lp_slot *lp_slot_begin(__u32 *slot, const struct lp_seg *seg,
						     __u64 cgroup_id, __u16 port, __u8 family,
						     __u8 flags)
{
	struct lp_slot *sl = take_slot(slot);

	if (!sl)
		return NULL;
	sl->seg = *seg;
	__builtin_memset(&sl->v, 0, __builtin_offsetof(struct lp_verdict, s));
	sl->tenant = 0;
	sl->v.ttfb_off = !ttfb;
	sl->key.cgroup_id = cgroup_id;
	sl->key.port = port;
	sl->key.family = family;
	sl->key.flags = flags;
	sl->key.peer = 0;
	sl->slot = *slot;
	return sl;
}

/* the verdict's samples so far into their series; the verdict emptied for more */
static __always_inline void lp_slot_flush(struct lp_slot *sl)
{
	struct lp_key key = sl->key;

	if (sl->v.n) {
		__u32 n;

		if (key.flags & LP_KEY_TLS) {
			key.cgroup_id = bpf_get_current_cgroup_id();
			sl->tenant = cg_level ? bpf_get_current_ancestor_cgroup_id((int)cg_level) : 0;
		}
		n = samples(&sl->v, &key, sl->slot);
		/* requests timed without their socket's port, once each (not per sample) */
		if ((key.flags & LP_KEY_TLS) && !key.family)
			sl->counters[LP_CNT_TLS_NO_SOCKET] += n;
	}
	sl->v.n = 0;
}

/* LP_VERDICT_FLUSH: a global function, verified once */
__noinline int lp_flush_g(struct lp_slot *sl)
{
	if (!sl)
		return 0;
	if (LP_CUT(7))
		sl->v.n = 0;
	else
		lp_slot_flush(sl);
	return 0;
}

/*
 * The common end of a segment's handling, for both the cgroup_skb program
 * and the TLS uprobes: the verdict's samples into their series, its
 * counters into the slot's, the slot freed.
 */
static __always_inline void lp_slot_finish(struct lp_slot *sl)
{
	const struct lp_verdict *vd = &sl->v;
	__u32 i;

	if (LP_CUT(4) || LP_CUT(7))
		goto out;
	lp_slot_flush(sl);
	/* the slot is this program's alone while busy: no atomics needed */
	for (i = 0; i < LP_CNT_MAX; i++) {
		if (i >= vd->hi)
			break;
		sl->counters[i] += vd->cnt[i];
	}
out:
	sl->busy = 0;
}

#endif /* LP_RECORD_BPF_H */
