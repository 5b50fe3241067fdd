// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel side from user space: open the skeleton, set its load-time
 * settings, load (verifier included), attach the cgroup_skb program to both
 * directions of a cgroup through bpf_links, attach the TLS uprobes to a
 * library; probe_read.c reads the maps back.
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
#include "core/hist.h"
#include "lp_bucket.h"
#include "latprobe.skel.h"
#include "core/probe_int.h"

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
_Static_assert(LP_CNT_MAX <= LP_CNT_VERDICT, "a verdict has room for every counter");

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

static bool entry_in(const struct lp_route_entry *e, const struct lp_route_entry *set, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (set[i].key.prefixlen == e->key.prefixlen &&
		    !memcmp(set[i].key.path, e->key.path, sizeof(e->key.path)))
			return true;
	return false;
}

int lp_probe__set_routes(struct lp_probe *p, const struct lp_routes *next,
			 const struct lp_routes *cur, char *err, size_t errlen)
{
	int fd = bpf_map__fd(p->skel->maps.routes);
	struct lp_route_entry *a = calloc(2 * LP_ROUTE_ENTRIES, sizeof(*a)), *b;
	__u32 len = lp_routes_max_len(next);
	unsigned i, na, nb;
	int r = 0;

	if (!a)
		return lp_errf(-ENOMEM, err, errlen, "out of memory");
	b = a + LP_ROUTE_ENTRIES;
	na = lp_routes_entries(next, a, LP_ROUTE_ENTRIES);
	nb = lp_routes_entries(cur, b, LP_ROUTE_ENTRIES);
	/* while both sets are in the trie, a cut path is judged by the longer */
	if (len > p->skel->bss->route_max_len)
		p->skel->bss->route_max_len = len;
	if (!next->ndefs) /* none: no lookups from now, before the entries go */
		__atomic_store_n(&p->skel->bss->nr_routes, 0, __ATOMIC_RELEASE);
	for (i = 0; i < na && !r; i++)
		if (bpf_map_update_elem(fd, &a[i].key, &a[i].val, BPF_ANY))
			r = lp_errf(-errno, err, errlen, "failed to set route %.*s: %s",
				    (int)(a[i].key.prefixlen / 8), (const char *)a[i].key.path,
				    strerror(errno));
	for (i = 0; i < nb && !r; i++)
		if (!entry_in(&b[i], a, na) && bpf_map_delete_elem(fd, &b[i].key) &&
		    errno != ENOENT)
			r = lp_errf(-errno, err, errlen, "failed to remove route %.*s: %s",
				    (int)(b[i].key.prefixlen / 8), (const char *)b[i].key.path,
				    strerror(errno));
	if (!r) {
		p->skel->bss->route_max_len = len;
		p->nexcluded = next->nexcluded;
		/* routes from none, or none at all: lookups begin or end here */
		__atomic_store_n(&p->skel->bss->nr_routes, next->ndefs, __ATOMIC_RELEASE);
	}
	free(a);
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

/* the load-time settings (the object's read-only data) from the configuration */
static void set_rodata(struct lp_probe *p, const struct lp_config *cfg,
		       const struct lp_fine_table *ft)
{
	struct latprobe_bpf__rodata *ro = p->skel->rodata;
	__u32 i;

	ro->tls_loaded = p->tls;
	/* no BTF: SSL_set_fd's probe does nothing; the cgroup_skb program on egress names the sockets */
	if (p->tls && !kernel_offsets(ro->koff) && cfg->verbose)
		fprintf(stderr, "latprobe: no kernel BTF: TLS sockets found from their writes\n");
	ro->tls_scope_level = cfg->scope_level;
	ro->tls_scope_cg = cfg->scope_cgid;
	ro->tls_share = cfg->tls_sessions_per_process;
	ro->nr_fine = ft->n;
	ro->fine_zero_ns = ft->zero_ns;
	for (i = 0; i < ft->n; i++)
		ro->fine_bounds[i] = ft->bounds[i];
	ro->nr_classic = cfg->nclassic;
	ro->side_filter = cfg->side;
	ro->ttfb = cfg->ttfb;
	ro->client_addr = cfg->client_addr;
	ro->spill_test_every = cfg->spill_test_every;
	p->skel->bss->nr_routes = cfg->routes.ndefs;
	p->skel->bss->grpc_methods_max = cfg->grpc_methods;
	ro->cg_cap = cfg->max_series_per_cgroup;
	{
		__u32 lv = cfg->cgroup_cap_level == LP_CAP_LEVEL_AUTO ? (cfg->cgroup ? 1 : 0)
								      : cfg->cgroup_cap_level;

		ro->cg_level = lv ? cfg->scope_level + lv : 0;
	}
	p->skel->bss->route_max_len = lp_routes_max_len(&cfg->routes);
	for (i = 0; i < cfg->nclassic; i++)
		ro->classic_bounds[i] = cfg->classic_ns[i];
}

/*
 * Open, set up and load the object (the verifier runs here). The TLS
 * programs are an addition: if they alone fail, plaintext goes on without.
 */
/*
 * LATPROBE_VERIFIER_STATS=1 (for developers: how close each program is to
 * the verifier's limit of 1 000 000 instructions, CONTRIBUTING.md): each
 * program's verifier statistics on stderr after the load.
 */
#define LP_VSTATS_PROGS 8
#define LP_VSTATS_LOG	(1 << 16)

static char *vstats_setup(struct latprobe_bpf *skel)
{
	struct bpf_program *prog;
	char *logs;
	int i = 0;

	if (!getenv("LATPROBE_VERIFIER_STATS"))
		return NULL;
	logs = calloc(LP_VSTATS_PROGS, LP_VSTATS_LOG);
	if (!logs)
		return NULL;
	bpf_object__for_each_program(prog, skel->obj) {
		if (i == LP_VSTATS_PROGS)
			break;
		bpf_program__set_log_buf(prog, logs + (size_t)i++ * LP_VSTATS_LOG, LP_VSTATS_LOG);
		bpf_program__set_log_level(prog, 4);
	}
	return logs;
}

static void vstats_print(struct latprobe_bpf *skel, char *logs)
{
	struct bpf_program *prog;
	const char *s;
	int i = 0;

	if (!logs)
		return;
	bpf_object__for_each_program(prog, skel->obj) {
		if (i == LP_VSTATS_PROGS)
			break;
		s = strstr(logs + (size_t)i++ * LP_VSTATS_LOG, "processed");
		if (s)
			fprintf(stderr, "latprobe: verifier: %s: %.*s\n", bpf_program__name(prog),
				(int)strcspn(s, "\n"), s);
	}
	free(logs);
}

static int open_and_load(struct lp_probe *p, const struct lp_config *cfg,
			 const struct lp_fine_table *ft, char *err, size_t errlen)
{
	char *vlogs;
	int e;

again:
	p->skel = latprobe_bpf__open();
	if (!p->skel) {
		e = -errno;
		lp_errf(-EINVAL, err, errlen, "failed to open BPF object: %s", strerror(-e));
		return e;
	}
	if (!p->tls) {
		bpf_program__set_autoload(p->skel->progs.lp_tls_enter, false);
		bpf_program__set_autoload(p->skel->progs.lp_tls_exit, false);
		bpf_program__set_autoload(p->skel->progs.lp_tls_set_fd, false);
		bpf_program__set_autoload(p->skel->progs.lp_tls_free, false);
		bpf_program__set_autoload(p->skel->progs.lp_tls_clear, false);
	}
	set_rodata(p, cfg, ft);
	if ((e = bpf_map__set_value_size(p->skel->maps.series, p->value_size)) ||
	    (e = bpf_map__set_value_size(p->skel->maps.zero_value, p->value_size)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.series, cfg->max_series)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.spill_tail, (__u32)p->ncpus * LP_SLOTS)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.tls_sessions, cfg->tls_sessions)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.tls_h2, cfg->tls_sessions)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.tls_owned, cfg->tls_sessions)) ||
	    /* what clients called is numbered only with --client-address (never reloaded) */
	    (e = bpf_map__set_max_entries(p->skel->maps.peers6,
					  cfg->client_addr ? LP_PEERS6_MAX : 1)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.hosts,
					  cfg->client_addr == LP_CLIENT_ADDR_HOST ? LP_HOSTS_MAX
										  : 1))) {
		lp_errf(-EINVAL, err, errlen, "failed to size maps: %s", strerror(-e));
		return e;
	}
	vlogs = vstats_setup(p->skel);
	e = latprobe_bpf__load(p->skel);
	vstats_print(p->skel, vlogs);
	if (e && p->tls && e != -EPERM && e != -EACCES) {
		fprintf(stderr, "latprobe: the TLS programs did not load (%s): plaintext only\n",
			strerror(-e));
		latprobe_bpf__destroy(p->skel);
		p->skel = NULL;
		p->tls = false;
		goto again;
	}
	if (e)
		lp_errf(-EINVAL, err, errlen, "failed to load BPF programs: %s%s", strerror(-e),
			perm_hint(-e));
	return e;
}

/* the overflow series exists from the start, so a full map can still fold into it */
static int create_overflow(struct lp_probe *p, char *err, size_t errlen)
{
	struct lp_key okey = {.flags = LP_KEY_OVERFLOW};
	void *zeros = calloc(p->ncpus, p->value_size);
	int e = 0;

	if (!zeros)
		return -ENOMEM;
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.series), &okey, zeros, BPF_NOEXIST)) {
		e = -errno;
		lp_errf(-EINVAL, err, errlen, "failed to create the overflow series: %s",
			strerror(-e));
	}
	free(zeros);
	return e;
}

/* the reads' buffers, kept for the probe's life */
static int alloc_read_buffers(struct lp_probe *p)
{
	p->batch = 256;
	p->values = calloc(p->ncpus, p->value_size);
	p->sum = calloc(1, p->value_size);
	p->tails = calloc((size_t)p->ncpus * LP_SLOTS, sizeof(*p->tails));
	p->heads = calloc((size_t)p->ncpus * LP_SLOTS, sizeof(*p->heads));
	p->spill_buf = calloc(p->ncpus, sizeof(struct lp_spill));
	p->bits = calloc(LP_DIRTY_WORDS, sizeof(*p->bits));
	if (!p->values || !p->sum || !p->tails || !p->heads || !p->spill_buf || !p->bits)
		return -ENOMEM;
	return 0;
}

int lp_probe__load(struct lp_probe **out, const struct lp_config *cfg,
		   const struct lp_fine_table *ft, char *err, size_t errlen)
{
	struct lp_probe *p;
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
		e = lp_errf(-EINVAL, err, errlen, "histogram tables too large");
		goto fail;
	}
	p->value_size = lp_value_size(ft->schema);
	p->classic_ns = cfg->classic_ns;
	p->nclassic = cfg->nclassic;
	p->ft = ft;
	p->nfine = LP_FINE_SLOTS(ft->schema);
	p->nclassic_slots = cfg->nclassic + 1;
	p->nexcluded = cfg->routes.nexcluded;
	p->tls = cfg->tls;
	e = open_and_load(p, cfg, ft, err, errlen);
	if (!e)
		e = fill_routes(p, cfg, err, errlen);
	if (e)
		goto fail;
	/* without a shared mapping (a kernel before 5.5) every read is a whole one */
	p->dirty_ok = p->skel->bss && (bpf_map__map_flags(p->skel->maps.bss) & BPF_F_MMAPABLE);
	e = create_overflow(p, err, errlen);
	if (!e)
		e = alloc_read_buffers(p);
	if (e)
		goto fail;
	*out = p;
	return 0;
fail:
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

bool lp_probe__tls(const struct lp_probe *p)
{
	return p->tls;
}

int lp_probe__tls_owned_fd(const struct lp_probe *p)
{
	return p->tls ? bpf_map__fd(p->skel->maps.tls_owned) : -1;
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
		int kind; /* enum lp_tls_call_kind, or -1 (set_fd), -2 (free), -3 (clear) */
		bool needed;
	} fns[] = {
		{"SSL_read", LP_TLS_READ, true},
		{"SSL_write", LP_TLS_WRITE, true},
		{"SSL_read_ex", LP_TLS_READ_EX, false},
		{"SSL_write_ex", LP_TLS_WRITE_EX, false},
		{"SSL_shutdown", LP_TLS_SHUTDOWN, false},
		{"SSL_set_fd", -1, false},
		{"SSL_free", -2, true},
		{"SSL_clear", -3, false},
	};
	struct latprobe_bpf *sk = p->skel;
	/* the programs of the entries without a return probe, by -kind - 1 */
	struct bpf_program *single[] = {sk->progs.lp_tls_set_fd, sk->progs.lp_tls_free,
					 sk->progs.lp_tls_clear};
	char fdpath[32];
	struct stat st;
	int n = 0, e = 0, fd;
	size_t i;

	if (!p->tls)
		return lp_errf(-ENOTSUP, err, errlen, "the TLS programs are not loaded");
	/*
	 * Any local user can put anything at a mapped library's path in a mount
	 * namespace of their own: opened without blocking (a FIFO would hang
	 * the open for ever) and checked to be a regular file; libbpf and the
	 * kernel then read that very file through /proc/self/fd.
	 */
	fd = open(lib, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return lp_errf(-errno, err, errlen, "%s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return lp_errf(-EINVAL, err, errlen, "not a regular file");
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	lib = fdpath;
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]) && n + 2 <= max; i++) {
		struct bpf_link *a = NULL, *b = NULL;

		if (fns[i].kind >= 0) {
			a = tls_probe(sk->progs.lp_tls_enter, lib, fns[i].func, false,
				      (__u64)fns[i].kind);
			if (a)
				b = tls_probe(sk->progs.lp_tls_exit, lib, fns[i].func, true, 0);
		} else {
			a = tls_probe(single[-fns[i].kind - 1], lib, fns[i].func, false, 0);
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
			close(fd);
			return e ? e : -EINVAL;
		}
		links[n++] = a;
		if (b)
			links[n++] = b;
	}
	close(fd); /* the uprobes hold the inode */
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
