// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading the kernel's maps back: each series summed over CPUs, whole or
 * only the series the kernel marked changed (include/latprobe.h,
 * lp_dirty_bit), with the samples drained from the spill ring carried
 * into their series; the counters, exclusions and cgroup accounting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "base/util.h"
#include "core/probe.h"
#include "base/config.h"
#include "base/names.h"
#include "base/peers.h"
#include "core/hist.h"
#include "lp_bucket.h"
#include "latprobe.skel.h"
#include "core/probe_int.h"

static void sum_cpus(struct lp_probe *p, const __u8 *percpu, struct lp_value *sum)
{
	__u32 words = p->value_size / sizeof(__u64), w;
	int cpu;

	memset(sum, 0, p->value_size);
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const __u64 *v = (const __u64 *)(percpu + (size_t)cpu * p->value_size);
		__u64 *s = (__u64 *)sum;

		for (w = 0; w < words; w++)
			s[w] += v[w];
	}
}

static int cmp_key(const struct lp_key *a, const struct lp_key *b)
{
	return memcmp(a, b, sizeof(*a));
}

/* the carry of key: its index, or where it would go (*found false) */
static size_t carry_find(const struct lp_probe *p, const struct lp_key *key, bool *found)
{
	size_t lo = 0, hi = p->ncarry;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_key(&p->carry[mid].key, key);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* one spilled sample into its series' carry, bucketed as the kernel would have */
static int carry_add(struct lp_probe *p, const struct lp_key *key, __u64 ns)
{
	bool found;
	size_t i = carry_find(p, key, &found);
	struct lp_value *v;
	__u32 fine;

	if (!found) {
		if (p->ncarry == p->carry_cap) {
			size_t cap = p->carry_cap ? 2 * p->carry_cap : 16;
			struct carry *n = realloc(p->carry, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			p->carry = n;
			p->carry_cap = cap;
		}
		v = calloc(1, p->value_size);
		if (!v)
			return -ENOMEM;
		memmove(&p->carry[i + 1], &p->carry[i], (p->ncarry - i) * sizeof(*p->carry));
		p->carry[i] = (struct carry){.key = *key, .v = v};
		p->ncarry++;
	}
	v = p->carry[i].v;
	fine = lp_fine_slot(p->ft->bounds, p->ft->n, p->ft->zero_ns, ns);
	if (fine > p->ft->n + 1)
		fine = p->ft->n + 1;
	v->sum_ns += ns;
	v->classic[lp_classic_slot(p->classic_ns, p->nclassic, ns) & (LP_CLASSIC_MAX - 1)]++;
	v->fine[fine]++;
	return 0;
}

/*
 * Move what the kernel spilled since the last read into the carry: the
 * heads first, then the rings (entries below a head read earlier are
 * whole), then the tails, which free the entries for the kernel again.
 * Returns the samples moved, or -errno.
 */
static int drain_spill(struct lp_probe *p)
{
	int hfd = bpf_map__fd(p->skel->maps.spill_head), sfd = bpf_map__fd(p->skel->maps.spill),
	    tfd = bpf_map__fd(p->skel->maps.spill_tail), cpu, e, n = 0;
	__u64 *head = p->heads; /* [slot * ncpus + cpu] */
	__u32 slot;

	for (slot = 0; slot < LP_SLOTS; slot++)
		if (bpf_map_lookup_elem(hfd, &slot, head + (size_t)slot * p->ncpus))
			return -errno;
	for (slot = 0; slot < LP_SLOTS; slot++) {
		bool any = false;

		for (cpu = 0; cpu < p->ncpus; cpu++)
			any |= head[slot * p->ncpus + cpu] != p->tails[cpu * LP_SLOTS + slot];
		if (!any)
			continue;
		if (bpf_map_lookup_elem(sfd, &slot, p->spill_buf))
			return -errno;
		for (cpu = 0; cpu < p->ncpus; cpu++) {
			const struct lp_spill *sp =
				(const struct lp_spill *)(p->spill_buf + cpu * sizeof(*sp));
			__u32 ti = (__u32)cpu * LP_SLOTS + slot;
			__u64 t = p->tails[ti], h = head[slot * p->ncpus + cpu];

			if (h == t)
				continue;
			if (h - t > LP_SPILL) /* cannot happen: the kernel checks; never re-read */
				t = h - LP_SPILL;
			for (; t < h; t++) {
				const struct lp_spill_entry *en = &sp->e[t & (LP_SPILL - 1)];

				e = carry_add(p, &en->key, en->ns);
				if (e)
					return e; /* the tail stays: read again next time */
				n++;
			}
			if (bpf_map_update_elem(tfd, &ti, &h, BPF_ANY))
				return -errno;
			p->tails[ti] = h;
		}
	}
	return n;
}

static void add_value(const struct lp_probe *p, struct lp_value *dst, const struct lp_value *src)
{
	__u32 words = p->value_size / sizeof(__u64), w;
	__u64 *d = (__u64 *)dst;
	const __u64 *s = (const __u64 *)src;

	for (w = 0; w < words; w++)
		d[w] += s[w];
}

/* the kernel's value of a series, plus what was spilled for it */
static void emit(struct lp_probe *p, const struct lp_key *key, struct lp_value *sum,
		 lp_series_cb cb, void *ctx)
{
	bool found;
	size_t i;

	if (p->ncarry) {
		i = carry_find(p, key, &found);
		if (found) {
			add_value(p, sum, p->carry[i].v);
			p->carry[i].seen = true;
		}
	}
	cb(ctx, key, sum);
}

/* carried series the kernel has not created (yet): user space stands in */
static int emit_unseen(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	size_t i;
	int n = 0;

	for (i = 0; i < p->ncarry; i++) {
		if (!p->carry[i].seen) {
			cb(ctx, &p->carry[i].key, p->carry[i].v);
			n++;
		}
		p->carry[i].seen = false;
	}
	return n;
}

static void carry_unsee(struct lp_probe *p)
{
	size_t i;

	for (i = 0; i < p->ncarry; i++)
		p->carry[i].seen = false;
}

/* remember a key of a whole read: the changed-only reads look among these */
static int known_add(struct lp_probe *p, const struct lp_key *key)
{
	if (p->nknown == p->known_cap) {
		size_t cap = p->known_cap ? 2 * p->known_cap : 256;
		struct lp_key *n = realloc(p->known, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->known = n;
		p->known_cap = cap;
	}
	p->known[p->nknown++] = *key;
	return 0;
}

/* the kernel's marks into p->bits, each word zeroed where it had any; true if any */
static bool swap_dirty(struct lp_probe *p)
{
	__u64 *d = p->skel->bss->lp_dirty;
	bool any = false;
	unsigned i;

	for (i = 0; i < LP_DIRTY_WORDS; i++) {
		__u64 w = __atomic_load_n(&d[i], __ATOMIC_RELAXED);

		/* a mark set after the exchange is seen at the next read */
		if (w)
			w = __atomic_exchange_n(&d[i], 0, __ATOMIC_ACQ_REL);
		p->bits[i] = w;
		any |= w != 0;
	}
	return any;
}

/* one key at a time, for kernels without batch lookups */
static int read_slow(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	int fd = bpf_map__fd(p->skel->maps.series), n = 0;
	struct lp_key key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, p->values) == 0) {
			sum_cpus(p, p->values, p->sum);
			emit(p, &next, p->sum, cb, ctx);
			if (known_add(p, &next))
				p->full_ns = 0; /* no list to look in: read all next time */
			n++;
		}
		key = next;
		prev = &key;
	}
	return n + emit_unseen(p, cb, ctx);
}

/* every series in the map, and the keys to look among until the next whole read */
static int read_all(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	int fd = bpf_map__fd(p->skel->maps.series), n = 0, e;
	size_t per = (size_t)p->ncpus * p->value_size;
	struct lp_key *keys = calloc(p->batch, sizeof(*keys));
	__u8 *vals = calloc(p->batch, per);
	__u32 token = 0, count, i;
	bool first = true;

	p->nknown = 0;
	if (!keys || !vals) {
		e = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = p->batch;
		e = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					 NULL);
		e = e ? -errno : 0;
		if (e && e != -ENOENT) {
			if (first && (e == -EINVAL || e == -ENOTSUP || e == -EOPNOTSUPP)) {
				free(keys);
				free(vals);
				return read_slow(p, cb, ctx);
			}
			if (e == -ENOSPC && p->batch < 65536) {
				/* a hash bucket held more than a batch: grow and start over */
				void *k = realloc(keys, 2 * p->batch * sizeof(*keys));
				void *v = k ? realloc(vals, 2 * p->batch * per) : NULL;

				if (k)
					keys = k;
				if (!v) {
					e = -ENOMEM;
					goto out;
				}
				vals = v;
				p->batch *= 2;
				/* callbacks are idempotent per key: reading again is harmless */
				first = true;
				n = 0;
				p->nknown = 0;
				carry_unsee(p);
				continue;
			}
			goto out;
		}
		for (i = 0; i < count; i++) {
			sum_cpus(p, vals + (size_t)i * per, p->sum);
			emit(p, &keys[i], p->sum, cb, ctx);
			if (known_add(p, &keys[i]))
				p->full_ns = 0;
			n++;
		}
		if (e == -ENOENT)
			break;
		first = false;
	}
	e = n + emit_unseen(p, cb, ctx);
out:
	free(keys);
	free(vals);
	return e;
}

/* the series whose bit the kernel set, among the keys of the last whole read */
static int read_changed(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	int fd = bpf_map__fd(p->skel->maps.series), n = 0;
	size_t i;

	if (!swap_dirty(p))
		return 0;
	for (i = 0; i < p->nknown; i++) {
		const struct lp_key *k = &p->known[i];
		__u32 b = lp_dirty_bit(k);

		if (!(p->bits[b >> 6] & (1ULL << (b & 63))))
			continue;
		if (bpf_map_lookup_elem(fd, k, p->values)) {
			if (errno == ENOENT)
				continue; /* retired: it comes back as a new series */
			/* the marks swapped out are lost: read all next time */
			p->full_ns = 0;
			return -errno;
		}
		sum_cpus(p, p->values, p->sum);
		emit(p, k, p->sum, cb, ctx);
		n++;
	}
	return n;
}

int lp_probe__read_all(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	int spilled = drain_spill(p);

	return spilled < 0 ? spilled : read_all(p, cb, ctx);
}

int lp_probe__read(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	__u64 now, created;
	int spilled, n;

	/* spilled samples first: their series are read right after, with them */
	spilled = drain_spill(p);
	if (spilled < 0)
		return spilled;
	now = lp_mono_ns();
	if (!p->dirty_ok)
		return read_all(p, cb, ctx);
	created = __atomic_load_n(&p->skel->bss->lp_new_series, __ATOMIC_ACQUIRE);
	if (!spilled && p->full_ns && created == p->seen_new && now - p->full_ns < LP_FULL_READ_NS)
		return read_changed(p, cb, ctx);
	/* the count and the marks before the read: what changes during it is read again */
	p->seen_new = created;
	swap_dirty(p);
	p->full_ns = now;
	n = read_all(p, cb, ctx);
	if (n < 0)
		p->full_ns = 0;
	return n;
}

int lp_probe__counters(struct lp_probe *p, __u64 out[LP_CNT_MAX])
{
	int fd = bpf_map__fd(p->skel->maps.counters), sfd = bpf_map__fd(p->skel->maps.slots), cpu;
	size_t ssize = bpf_map__value_size(p->skel->maps.slots);
	__u64 *vals = calloc(p->ncpus, sizeof(__u64));
	__u8 *slots = calloc(p->ncpus, ssize);
	__u32 i, k;
	int e = 0;

	if (!vals || !slots) {
		e = -ENOMEM;
		goto out;
	}
	for (i = 0; i < LP_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			e = -errno;
			goto out;
		}
		for (cpu = 0; cpu < p->ncpus; cpu++)
			out[i] += vals[cpu];
	}
	/* the common path counts in the working slots: __u64 counters[] first */
	for (k = 0; k < LP_SLOTS; k++) {
		if (bpf_map_lookup_elem(sfd, &k, slots)) {
			e = -errno;
			goto out;
		}
		for (cpu = 0; cpu < p->ncpus; cpu++) {
			const __u64 *c = (const __u64 *)(slots + (size_t)cpu * ssize);

			for (i = 0; i < LP_CNT_MAX; i++)
				out[i] += c[i];
		}
	}
out:
	free(vals);
	free(slots);
	return e;
}

/*
 * Every entry of a map the kernel numbers things in (a key -> its number,
 * only ever added): set(number, key) for each, at most max. -EINVAL when
 * set refused one (a key that is not what the kernel's check lets in).
 */
static int numbered(int fd, unsigned max, int (*set)(__u32 num, const void *key))
{
	union {
		struct lp_route_key k;
		struct lp_addr6 a;
		struct lp_host_key h;
	} key, next;
	unsigned n = 0;
	void *prev = NULL;
	__u32 num;
	int e = 0;

	while (n++ < max && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &num))
			continue; /* cannot be gone: a number is for the agent's life */
		if (set(num, &key))
			e = -EINVAL;
	}
	return e;
}

static int set_method(__u32 slot, const void *key)
{
	return lp_route_learned_set(slot, key);
}

static int set_peer6(__u32 num, const void *key)
{
	return lp_peer6_set(num, key);
}

static int set_host(__u32 num, const void *key)
{
	return lp_host_set(num, key);
}

int lp_probe__grpc_methods(struct lp_probe *p)
{
	return numbered(bpf_map__fd(p->skel->maps.grpc_methods), LP_GRPC_METHODS_MAX, set_method);
}

int lp_probe__peers6(struct lp_probe *p)
{
	return numbered(bpf_map__fd(p->skel->maps.peers6), LP_PEERS6_MAX, set_peer6);
}

int lp_probe__hosts(struct lp_probe *p)
{
	return numbered(bpf_map__fd(p->skel->maps.hosts), LP_HOSTS_MAX, set_host);
}

int lp_probe__excluded(struct lp_probe *p, __u64 *out, unsigned n)
{
	int fd = bpf_map__fd(p->skel->maps.excluded), cpu;
	__u64 *vals;
	__u32 i;
	int e = 0;

	if (n > 2 * p->nexcluded)
		n = 2 * p->nexcluded;
	if (!n)
		return 0;
	vals = calloc(p->ncpus, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			e = -errno;
			break;
		}
		for (cpu = 0; cpu < p->ncpus; cpu++)
			out[i] += vals[cpu];
	}
	free(vals);
	return e;
}

int lp_probe__retire(struct lp_probe *p, const struct lp_key *key, lp_series_cb cb, void *ctx)
{
	int fd = bpf_map__fd(p->skel->maps.series), cfd = bpf_map__fd(p->skel->maps.cgroups);
	struct lp_cg g;

	/* one call: the value is read and the series gone, samples up to then included */
	if (bpf_map_lookup_and_delete_elem(fd, key, p->values))
		return -errno;
	sum_cpus(p, p->values, p->sum);
	/* what user space carried for it (spilled samples) leaves with it */
	if (p->ncarry) {
		bool found;
		size_t i = carry_find(p, key, &found);

		if (found) {
			add_value(p, p->sum, p->carry[i].v);
			free(p->carry[i].v);
			memmove(&p->carry[i], &p->carry[i + 1],
				(p->ncarry - i - 1) * sizeof(*p->carry));
			p->ncarry--;
		}
	}
	cb(ctx, key, p->sum);
	/* the cgroup's share of series frees up (a kernel increment racing this is rare) */
	if (key->cgroup_id && !(key->flags & LP_KEY_CG_OVERFLOW) &&
	    !bpf_map_lookup_elem(cfd, &key->cgroup_id, &g) && g.series) {
		g.series--;
		bpf_map_update_elem(cfd, &key->cgroup_id, &g, BPF_EXIST);
	}
	return 0;
}

int lp_probe__cgroups(struct lp_probe *p, lp_cgroup_cb cb, void *ctx)
{
	int fd = bpf_map__fd(p->skel->maps.cgroups), n = 0;
	__u64 key, next, *pk = NULL;

	while (!bpf_map_get_next_key(fd, pk, &next)) {
		struct lp_cg g;

		key = next;
		pk = &key;
		if (bpf_map_lookup_elem(fd, &key, &g))
			continue; /* evicted meanwhile */
		cb(ctx, key, &g);
		n++;
	}
	return n;
}

__u32 lp_probe__nfine(const struct lp_probe *p)
{
	return p->nfine;
}

int lp_probe__count_add(struct lp_probe *p, unsigned idx, __u64 n)
{
	int fd = bpf_map__fd(p->skel->maps.counters);
	__u64 *v = calloc(p->ncpus, sizeof(*v));
	int e = 0;

	if (!v)
		return -ENOMEM;
	/* CPU 0's slot: the programs never count these (user space's own counters) */
	if (bpf_map_lookup_elem(fd, &idx, v)) {
		e = -errno;
	} else {
		v[0] += n;
		if (bpf_map_update_elem(fd, &idx, v, BPF_ANY))
			e = -errno;
	}
	free(v);
	return e;
}
