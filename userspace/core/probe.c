// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
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
#include "core/hist.h"
#include "lp_bucket.h"
#include "latprobe.skel.h"

/* the contract, checked where it is read (include/latprobe.h) */
_Static_assert(sizeof(struct lp_key) == 24, "lp_key layout");
_Static_assert(sizeof(struct lp_value) == 8 + 8 * LP_CLASSIC_MAX, "lp_value layout");
_Static_assert(sizeof(struct lp_queue) == LP_CONN_LINE0 &&
		       offsetof(struct lp_conn, req) == LP_CONN_LINE0 &&
		       offsetof(struct lp_conn, rsp) == LP_CONN_LINE0 + LP_CONN_LINE &&
		       sizeof(struct lp_conn_rsp) <= LP_CONN_LINE,
	       "lp_conn's parts a cache line each");
_Static_assert((LP_FINE_BOUNDS_MAX & (LP_FINE_BOUNDS_MAX - 1)) == 0, "bounds table power of two");
_Static_assert((LP_CLASSIC_MAX & (LP_CLASSIC_MAX - 1)) == 0, "classic table power of two");
_Static_assert(LP_CNT_MAX <= 32, "counter bits fit lp_verdict.counters");

struct lp_probe {
	struct latprobe_bpf *skel;
	struct bpf_link *link; /* the program on the cgroup's ingress */
	int egress_link; /* ... and on its egress (an fd: libbpf attaches one type per program) */
	bool tls; /* the TLS programs are loaded */
	int ncpus;
	unsigned nexcluded; /* --exclude-path prefixes: 2 counters each (server, client) */
	__u32 value_size;
	__u32 nfine;
	__u32 nclassic_slots;
	/*
	 * Entries per batch lookup of a whole read (grown when a hash bucket
	 * holds more); its buffers (4 MB at 256 entries of 8 KB per CPU) are
	 * allocated for that read only, not kept between reads.
	 */
	__u32 batch;
	__u8 *values; /* one series' value, per CPU */
	struct lp_value *sum;
	/*
	 * Samples drained from the spill ring, per series, cumulative: added to
	 * the kernel's value of the series at every read, or standing in for a
	 * series the kernel never created. Sorted by key.
	 */
	struct carry {
		struct lp_key key;
		bool seen; /* in this read */
		struct lp_value *v;
	} * carry;
	size_t ncarry, carry_cap;
	__u64 *tails;	 /* [ncpus * LP_SLOTS]: spill entries consumed */
	__u64 *heads;	 /* [LP_SLOTS * ncpus]: read at each drain */
	__u8 *spill_buf; /* one lp_spill per CPU */
	const __u64 *classic_ns;
	__u32 nclassic;
	const struct lp_fine_table *ft;
	/*
	 * Changed-only reads (include/latprobe.h, lp_dirty_bit): the series the
	 * kernel marked since the last read, looked up among the keys of the
	 * last read of the whole map. The whole map is read again when the
	 * kernel created a series, when samples were spilled, and once every
	 * LP_FULL_READ_NS, as a safety net.
	 */
	bool dirty_ok;	/* lp_dirty is the kernel's own (its map is memory-mapped) */
	__u64 seen_new; /* lp_new_series before the last whole read */
	__u64 full_ns;	/* CLOCK_MONOTONIC of the last whole read; 0: none yet */
	struct lp_key *known;
	size_t nknown, known_cap;
	__u64 *bits; /* [LP_DIRTY_WORDS]: the words swapped out at this read */
};

#define LP_FULL_READ_NS 300000000000ULL /* 5 min */

static const char *perm_hint(int e)
{
	return e == EPERM || e == EACCES
		       ? " (run as root: latprobe needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)"
		       : "";
}

/* the trie of --route and --exclude-path prefixes (include/lp_route.h), before attach */
static int fill_routes(struct lp_probe *p, const struct lp_config *cfg, char *err, size_t errlen)
{
	int fd = bpf_map__fd(p->skel->maps.routes);
	struct lp_route_entry *e;
	unsigned i, n;
	int r = 0;

	if (!cfg->routes.ndefs)
		return 0;
	e = calloc(LP_ROUTE_ENTRIES, sizeof(*e));
	if (!e)
		return -ENOMEM;
	n = lp_routes_entries(&cfg->routes, e, LP_ROUTE_ENTRIES);
	for (i = 0; i < n && !r; i++)
		if (bpf_map_update_elem(fd, &e[i].key, &e[i].val, BPF_NOEXIST))
			r = lp_errf(-errno, err, errlen, "failed to add route %.*s: %s",
				    (int)(e[i].key.prefixlen / 8), (const char *)e[i].key.path,
				    strerror(errno));
	free(e);
	return r;
}

/* the byte offset of member name in the struct or union type_id (anonymous members searched) */
static long member_off(const struct btf *btf, __u32 type_id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);
	const struct btf_member *m;
	__u16 i, n;

	if (!t || !(btf_is_struct(t) || btf_is_union(t)))
		return -1;
	m = btf_members(t);
	n = btf_vlen(t);
	for (i = 0; i < n; i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		long o;
		int id;

		if (mn && *mn) {
			if (!strcmp(mn, name))
				return btf_member_bit_offset(t, i) / 8;
			continue;
		}
		id = btf__resolve_type(btf, m->type);
		o = id < 0 ? -1 : member_off(btf, (__u32)id, name);
		if (o >= 0)
			return btf_member_bit_offset(t, i) / 8 + o;
	}
	return -1;
}

/*
 * The offsets the SSL_set_fd probe follows (enum lp_koff), from the running
 * kernel's BTF: false (all left 0) where there is none or a field is missing.
 */
static bool kernel_offsets(volatile __u32 *out)
{
	static const struct {
		const char *type, *field;
	} f[LP_KOFF_MAX] = {
		[LP_KOFF_TASK_FILES] = {"task_struct", "files"},
		[LP_KOFF_FILES_FDT] = {"files_struct", "fdt"},
		[LP_KOFF_FDT_MAX] = {"fdtable", "max_fds"},
		[LP_KOFF_FDT_FD] = {"fdtable", "fd"},
		[LP_KOFF_FILE_PRIVATE] = {"file", "private_data"},
		[LP_KOFF_SOCKET_FILE] = {"socket", "file"},
		[LP_KOFF_SOCKET_SK] = {"socket", "sk"},
		[LP_KOFF_SK_FAMILY] = {"sock_common", "skc_family"},
		[LP_KOFF_SK_NUM] = {"sock_common", "skc_num"},
		[LP_KOFF_SK_DPORT] = {"sock_common", "skc_dport"},
	};
	struct btf *btf = btf__load_vmlinux_btf();
	__u32 v[LP_KOFF_MAX];
	int i;

	if (!btf)
		return false;
	for (i = 0; i < LP_KOFF_MAX; i++) {
		__s32 id = btf__find_by_name_kind(btf, f[i].type, BTF_KIND_STRUCT);
		long o = id < 0 ? -1 : member_off(btf, (__u32)id, f[i].field);

		if (o < 0) {
			btf__free(btf);
			return false;
		}
		v[i] = (__u32)o;
	}
	btf__free(btf);
	for (i = 0; i < LP_KOFF_MAX; i++)
		out[i] = v[i];
	return true;
}

int lp_probe__load(struct lp_probe **out, const struct lp_config *cfg,
		   const struct lp_fine_table *ft, char *err, size_t errlen)
{
	struct lp_probe *p;
	struct lp_key okey = {.flags = LP_KEY_OVERFLOW};
	void *zeros = NULL;
	__u32 i;
	int e;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->egress_link = -1;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		lp_errf(-EINVAL, err, errlen, "failed to count possible CPUs: %s",
			strerror(-p->ncpus));
		e = p->ncpus;
		goto fail;
	}
	if (ft->n > LP_FINE_BOUNDS_MAX || cfg->nclassic > LP_CLASSIC_MAX - 1) {
		lp_errf(-EINVAL, err, errlen, "histogram tables too large");
		e = -EINVAL;
		goto fail;
	}
	p->value_size = lp_value_size(ft->schema);
	p->classic_ns = cfg->classic_ns;
	p->nclassic = cfg->nclassic;
	p->ft = ft;
	p->nfine = LP_FINE_SLOTS(ft->schema);
	p->nclassic_slots = cfg->nclassic + 1;

	p->tls = cfg->tls;
again:
	p->skel = latprobe_bpf__open();
	if (!p->skel) {
		e = -errno;
		lp_errf(-EINVAL, err, errlen, "failed to open BPF object: %s", strerror(-e));
		goto fail;
	}
	if (!p->tls) {
		bpf_program__set_autoload(p->skel->progs.lp_tls_enter, false);
		bpf_program__set_autoload(p->skel->progs.lp_tls_exit, false);
		bpf_program__set_autoload(p->skel->progs.lp_tls_set_fd, false);
		bpf_program__set_autoload(p->skel->progs.lp_tls_free, false);
	}
	p->skel->rodata->tls_loaded = p->tls;
	/* no BTF: SSL_set_fd's probe does nothing; the egress program names the sockets */
	if (p->tls && !kernel_offsets(p->skel->rodata->koff) && cfg->verbose)
		fprintf(stderr, "latprobe: no kernel BTF: TLS sockets found from their writes\n");
	p->skel->rodata->tls_scope_level = cfg->scope_level;
	p->skel->rodata->tls_scope_cg = cfg->scope_cgid;
	p->skel->rodata->nr_fine = ft->n;
	p->skel->rodata->fine_zero_ns = ft->zero_ns;
	for (i = 0; i < ft->n; i++)
		p->skel->rodata->fine_bounds[i] = ft->bounds[i];
	p->skel->rodata->nr_classic = cfg->nclassic;
	p->skel->rodata->side_filter = cfg->side;
	p->skel->rodata->ttfb = cfg->ttfb;
	p->skel->rodata->spill_test_every = cfg->spill_test_every;
	p->nexcluded = cfg->routes.nexcluded;
	p->skel->rodata->nr_routes = cfg->routes.ndefs;
	p->skel->rodata->cg_cap = cfg->max_series_per_cgroup;
	p->skel->rodata->route_max_len = lp_routes_max_len(&cfg->routes);
	for (i = 0; i < cfg->nclassic; i++)
		p->skel->rodata->classic_bounds[i] = cfg->classic_ns[i];

	if ((e = bpf_map__set_value_size(p->skel->maps.series, p->value_size)) ||
	    (e = bpf_map__set_value_size(p->skel->maps.zero_value, p->value_size)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.series, cfg->max_series)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.spill_tail, (__u32)p->ncpus * LP_SLOTS)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.tls_sessions, cfg->tls_sessions))) {
		lp_errf(-EINVAL, err, errlen, "failed to size maps: %s", strerror(-e));
		goto fail;
	}
	e = latprobe_bpf__load(p->skel);
	if (e && p->tls && e != -EPERM && e != -EACCES) {
		/* HTTPS is an addition: plaintext goes on without it */
		fprintf(stderr, "latprobe: the TLS programs did not load (%s): plaintext only\n",
			strerror(-e));
		latprobe_bpf__destroy(p->skel);
		p->tls = false;
		goto again;
	}
	if (e) {
		lp_errf(-EINVAL, err, errlen, "failed to load BPF programs: %s%s", strerror(-e),
			perm_hint(-e));
		goto fail;
	}
	e = fill_routes(p, cfg, err, errlen);
	if (e)
		goto fail;
	/* without a shared mapping (a kernel before 5.5) every read is a whole one */
	p->dirty_ok = p->skel->bss && (bpf_map__map_flags(p->skel->maps.bss) & BPF_F_MMAPABLE);
	/* the overflow series exists from the start, so a full map can still fold into it */
	zeros = calloc(p->ncpus, p->value_size);
	if (!zeros) {
		e = -ENOMEM;
		goto fail;
	}
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.series), &okey, zeros, BPF_NOEXIST)) {
		e = -errno;
		lp_errf(-EINVAL, err, errlen, "failed to create the overflow series: %s",
			strerror(-e));
		goto fail;
	}
	free(zeros);
	zeros = NULL;

	p->batch = 256;
	p->values = calloc(p->ncpus, p->value_size);
	p->sum = calloc(1, p->value_size);
	p->tails = calloc((size_t)p->ncpus * LP_SLOTS, sizeof(*p->tails));
	p->heads = calloc((size_t)p->ncpus * LP_SLOTS, sizeof(*p->heads));
	p->spill_buf = calloc(p->ncpus, sizeof(struct lp_spill));
	p->bits = calloc(LP_DIRTY_WORDS, sizeof(*p->bits));
	if (!p->values || !p->sum || !p->tails || !p->heads || !p->spill_buf || !p->bits) {
		e = -ENOMEM;
		goto fail;
	}
	*out = p;
	return 0;
fail:
	free(zeros);
	lp_probe__destroy(p);
	return e ? e : -EINVAL;
}

int lp_probe__attach(struct lp_probe *p, const char *path, char *err, size_t errlen)
{
	struct bpf_program *prog = p->skel->progs.latprobe_skb;
	const char *what = "cgroup_skb/ingress";
	int fd, e;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		lp_errf(-EINVAL, err, errlen, "failed to open cgroup %s: %s", path, strerror(-e));
		return e;
	}
	/* one program, both hooks: it tells the directions apart itself */
	p->link = bpf_program__attach_cgroup(prog, fd);
	if (p->link) {
		what = "cgroup_skb/egress";
		p->egress_link =
			bpf_link_create(bpf_program__fd(prog), fd, BPF_CGROUP_INET_EGRESS, NULL);
	}
	if (!p->link || p->egress_link < 0) {
		e = -errno;
		lp_errf(-EINVAL, err, errlen, "failed to attach %s to %s: %s%s", what, path,
			strerror(-e), perm_hint(-e));
		bpf_link__destroy(p->link);
		p->link = NULL;
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

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

bool lp_probe__tls(const struct lp_probe *p)
{
	return p->tls;
}

int lp_probe__tls_sessions_fd(const struct lp_probe *p)
{
	return p->tls ? bpf_map__fd(p->skel->maps.tls_sessions) : -1;
}

int lp_probe__tls_calls_fd(const struct lp_probe *p)
{
	return p->tls ? bpf_map__fd(p->skel->maps.tls_calls) : -1;
}

/* one library function's uprobe (entry, or return), with the call kind as its cookie */
static struct bpf_link *tls_probe(struct bpf_program *prog, const char *lib, const char *func,
				  bool ret, __u64 cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = func, .retprobe = ret, .bpf_cookie = cookie);

	return bpf_program__attach_uprobe_opts(prog, -1, lib, 0, &o);
}

int lp_probe__tls_attach(struct lp_probe *p, const char *lib, struct bpf_link **links, int max,
			 char *err, size_t errlen)
{
	static const struct {
		const char *func;
		int kind; /* enum lp_tls_call_kind, or -1 (set_fd), -2 (free) */
		bool needed;
	} fns[] = {
		{"SSL_read", LP_TLS_READ, true},
		{"SSL_write", LP_TLS_WRITE, true},
		{"SSL_read_ex", LP_TLS_READ_EX, false},
		{"SSL_write_ex", LP_TLS_WRITE_EX, false},
		{"SSL_shutdown", LP_TLS_SHUTDOWN, false},
		{"SSL_set_fd", -1, false},
		{"SSL_free", -2, true},
	};
	struct latprobe_bpf *sk = p->skel;
	int n = 0, e = 0;
	size_t i;

	if (!p->tls)
		return lp_errf(-ENOTSUP, err, errlen, "the TLS programs are not loaded");
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]) && n + 2 <= max; i++) {
		struct bpf_link *a = NULL, *b = NULL;

		if (fns[i].kind >= 0) {
			a = tls_probe(sk->progs.lp_tls_enter, lib, fns[i].func, false,
				      (__u64)fns[i].kind);
			if (a)
				b = tls_probe(sk->progs.lp_tls_exit, lib, fns[i].func, true, 0);
		} else {
			a = tls_probe(fns[i].kind == -1 ? sk->progs.lp_tls_set_fd
							: sk->progs.lp_tls_free,
				      lib, fns[i].func, false, 0);
		}
		if (!a || (fns[i].kind >= 0 && !b)) {
			e = -errno;
			bpf_link__destroy(a);
			if (!fns[i].needed)
				continue; /* older libraries lack the _ex forms */
			if (e == -ENOENT)
				lp_errf(e, err, errlen, "no %s symbol (stripped, or not OpenSSL)",
					fns[i].func);
			else
				lp_errf(e ? e : -EINVAL, err, errlen, "%s: %s", fns[i].func,
					strerror(e ? -e : EINVAL));
			while (n)
				bpf_link__destroy(links[--n]);
			return e ? e : -EINVAL;
		}
		links[n++] = a;
		if (b)
			links[n++] = b;
	}
	return n;
}

int lp_probe__routes_fd(const struct lp_probe *p)
{
	return bpf_map__fd(p->skel->maps.routes);
}

int lp_probe__prog_fd(const struct lp_probe *p)
{
	return bpf_program__fd(p->skel->progs.latprobe_skb);
}

void lp_probe__destroy(struct lp_probe *p)
{
	int i;

	if (!p)
		return;
	if (p->egress_link >= 0)
		close(p->egress_link);
	bpf_link__destroy(p->link);
	latprobe_bpf__destroy(p->skel);
	free(p->values);
	free(p->sum);
	free(p->known);
	free(p->bits);
	for (i = 0; i < (int)p->ncarry; i++)
		free(p->carry[i].v);
	free(p->carry);
	free(p->tails);
	free(p->heads);
	free(p->spill_buf);
	free(p);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

int lp_cgroup2_mount(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int e = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *save = NULL, *tok, *mnt = NULL;
		int field = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (++field == 5)
				mnt = tok;
		if (!mnt)
			continue;
		unescape(mnt);
		if (strlen(mnt) >= len) {
			e = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, mnt);
		e = 0;
		break;
	}
	fclose(f);
	return e;
}

static int is_cgroup2_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (statfs(path, &fs))
		return -errno;
	return fs.f_type == CGROUP2_SUPER_MAGIC ? 0 : -EMEDIUMTYPE;
}

int lp_cgroup_resolve(const char *arg, const char *mount, char *buf, size_t len, char *err,
		      size_t errlen)
{
	size_t mlen = strlen(mount);
	int e;

	/* an absolute path inside the mount, or one relative to it */
	if (!strncmp(arg, mount, mlen) && (arg[mlen] == '/' || arg[mlen] == '\0'))
		e = snprintf(buf, len, "%s", arg);
	else
		e = snprintf(buf, len, "%s/%s", mount, arg[0] == '/' ? arg + 1 : arg);
	if (e < 0 || (size_t)e >= len) {
		lp_errf(-EINVAL, err, errlen, "--cgroup: path too long");
		return -ENAMETOOLONG;
	}
	e = is_cgroup2_dir(buf);
	if (e == -ENOENT) {
		lp_errf(-EINVAL, err, errlen,
			"--cgroup: '%s' does not exist (looked for %s; cgroup v2 is at %s)", arg,
			buf, mount);
	} else if (e == -ENOTDIR || e == -EMEDIUMTYPE) {
		lp_errf(-EINVAL, err, errlen, "--cgroup: '%s' is not a cgroup v2 directory (%s)",
			arg, buf);
	} else if (e) {
		lp_errf(-EINVAL, err, errlen, "--cgroup: cannot use '%s': %s", buf, strerror(-e));
	}
	return e;
}
