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
#include <bpf/libbpf.h>

#include "probe.h"
#include "cli.h"
#include "hist.h"
#include "latprobe.skel.h"

/* the contract, checked where it is read (include/latprobe.h) */
_Static_assert(sizeof(struct lp_key) == 16, "lp_key layout");
_Static_assert(sizeof(struct lp_value) == 8 + 8 * LP_CLASSIC_MAX, "lp_value layout");
_Static_assert(sizeof(struct lp_conn) == 272, "lp_conn layout");
_Static_assert(offsetof(struct lp_conn, rsp) - sizeof(struct lp_conn_req) >= 64,
	       "the halves of lp_conn a cache line apart");
_Static_assert((LP_FINE_BOUNDS_MAX & (LP_FINE_BOUNDS_MAX - 1)) == 0, "bounds table power of two");
_Static_assert((LP_CLASSIC_MAX & (LP_CLASSIC_MAX - 1)) == 0, "classic table power of two");
_Static_assert(LP_CNT_MAX <= 32, "counter bits fit lp_verdict.counters");

struct lp_probe {
	struct latprobe_bpf *skel;
	struct bpf_link *links[2];
	int ncpus;
	__u32 value_size;
	__u32 nfine;
	__u32 nclassic_slots;
	/* batch read buffers */
	__u32 batch;
	struct lp_key *keys;
	__u8 *values;
	struct lp_value *sum;
};

static void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *perm_hint(int e)
{
	return e == EPERM || e == EACCES ?
		       " (run as root: latprobe needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)" :
		       "";
}

int lp_probe__load(struct lp_probe **out, const struct lp_config *cfg,
		   const struct lp_fine_table *ft, char *err, size_t errlen)
{
	struct lp_probe *p;
	struct lp_key okey = { .flags = LP_KEY_OVERFLOW };
	void *zeros = NULL;
	__u32 i;
	int e;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		errf(err, errlen, "failed to count possible CPUs: %s", strerror(-p->ncpus));
		e = p->ncpus;
		goto fail;
	}
	if (ft->n > LP_FINE_BOUNDS_MAX || cfg->nclassic > LP_CLASSIC_MAX - 1) {
		errf(err, errlen, "histogram tables too large");
		e = -EINVAL;
		goto fail;
	}
	p->value_size = lp_value_size(ft->schema);
	p->nfine = LP_FINE_SLOTS(ft->schema);
	p->nclassic_slots = cfg->nclassic + 1;

	p->skel = latprobe_bpf__open();
	if (!p->skel) {
		e = -errno;
		errf(err, errlen, "failed to open BPF object: %s", strerror(-e));
		goto fail;
	}
	p->skel->rodata->nr_fine = ft->n;
	p->skel->rodata->fine_zero_ns = ft->zero_ns;
	for (i = 0; i < ft->n; i++)
		p->skel->rodata->fine_bounds[i] = ft->bounds[i];
	p->skel->rodata->nr_classic = cfg->nclassic;
	p->skel->rodata->side_filter = cfg->side;
	p->skel->rodata->ttfb = cfg->ttfb;
	for (i = 0; i < cfg->nclassic; i++)
		p->skel->rodata->classic_bounds[i] = cfg->classic_ns[i];

	if ((e = bpf_map__set_value_size(p->skel->maps.series, p->value_size)) ||
	    (e = bpf_map__set_value_size(p->skel->maps.zero_value, p->value_size)) ||
	    (e = bpf_map__set_max_entries(p->skel->maps.series, cfg->max_series))) {
		errf(err, errlen, "failed to size maps: %s", strerror(-e));
		goto fail;
	}
	e = latprobe_bpf__load(p->skel);
	if (e) {
		errf(err, errlen, "failed to load BPF programs: %s%s", strerror(-e), perm_hint(-e));
		goto fail;
	}
	/* the overflow series exists from the start, so a full map can still fold into it */
	zeros = calloc(p->ncpus, p->value_size);
	if (!zeros) {
		e = -ENOMEM;
		goto fail;
	}
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.series), &okey, zeros, BPF_NOEXIST)) {
		e = -errno;
		errf(err, errlen, "failed to create the overflow series: %s", strerror(-e));
		goto fail;
	}
	free(zeros);
	zeros = NULL;

	p->batch = 256;
	p->keys = calloc(p->batch, sizeof(*p->keys));
	p->values = calloc((size_t)p->batch * p->ncpus, p->value_size);
	p->sum = calloc(1, p->value_size);
	if (!p->keys || !p->values || !p->sum) {
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
	struct bpf_program *progs[2] = { p->skel->progs.latprobe_ingress,
					 p->skel->progs.latprobe_egress };
	static const char *const names[2] = { "cgroup_skb/ingress", "cgroup_skb/egress" };
	int fd, i, e;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		errf(err, errlen, "failed to open cgroup %s: %s", path, strerror(-e));
		return e;
	}
	for (i = 0; i < 2; i++) {
		p->links[i] = bpf_program__attach_cgroup(progs[i], fd);
		if (!p->links[i]) {
			e = -errno;
			errf(err, errlen, "failed to attach %s to %s: %s%s", names[i], path,
			     strerror(-e), perm_hint(-e));
			close(fd);
			return e;
		}
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

/* one key at a time, for kernels without batch lookups */
static int read_slow(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	int fd = bpf_map__fd(p->skel->maps.series), n = 0;
	struct lp_key key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, p->values) == 0) {
			sum_cpus(p, p->values, p->sum);
			cb(ctx, &next, p->sum);
			n++;
		}
		key = next;
		prev = &key;
	}
	return n;
}

int lp_probe__read(struct lp_probe *p, lp_series_cb cb, void *ctx)
{
	int fd = bpf_map__fd(p->skel->maps.series), n = 0, e;
	__u32 token = 0, count, i;
	bool first = true;

	for (;;) {
		count = p->batch;
		e = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, p->keys, p->values,
					 &count, NULL);
		e = e ? -errno : 0;
		if (e && e != -ENOENT) {
			if (first && (e == -EINVAL || e == -ENOTSUP || e == -EOPNOTSUPP))
				return read_slow(p, cb, ctx);
			if (e == -ENOSPC && p->batch < 65536) {
				/* a hash bucket held more than a batch: grow and start over */
				void *k = realloc(p->keys, 2 * p->batch * sizeof(*p->keys));
				void *v = k ? realloc(p->values, (size_t)2 * p->batch * p->ncpus *
									  p->value_size) :
					      NULL;

				if (k)
					p->keys = k;
				if (!v)
					return -ENOMEM;
				p->values = v;
				p->batch *= 2;
				/* callbacks are idempotent per key: reading again is harmless */
				first = true;
				n = 0;
				continue;
			}
			return e;
		}
		for (i = 0; i < count; i++) {
			sum_cpus(p, p->values + (size_t)i * p->ncpus * p->value_size, p->sum);
			cb(ctx, &p->keys[i], p->sum);
			n++;
		}
		if (e == -ENOENT)
			break;
		first = false;
	}
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

__u32 lp_probe__value_size(const struct lp_probe *p)
{
	return p->value_size;
}

__u32 lp_probe__nfine(const struct lp_probe *p)
{
	return p->nfine;
}

int lp_probe__prog_fd(const struct lp_probe *p, int ingress)
{
	return bpf_program__fd(ingress ? p->skel->progs.latprobe_ingress :
					 p->skel->progs.latprobe_egress);
}

int lp_probe__series_fd(const struct lp_probe *p)
{
	return bpf_map__fd(p->skel->maps.series);
}

void lp_probe__destroy(struct lp_probe *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < 2; i++)
		bpf_link__destroy(p->links[i]);
	latprobe_bpf__destroy(p->skel);
	free(p->keys);
	free(p->values);
	free(p->sum);
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
		errf(err, errlen, "--cgroup: path too long");
		return -ENAMETOOLONG;
	}
	e = is_cgroup2_dir(buf);
	if (e == -ENOENT) {
		errf(err, errlen, "--cgroup: '%s' does not exist (looked for %s; cgroup v2 is at %s)",
		     arg, buf, mount);
	} else if (e == -ENOTDIR || e == -EMEDIUMTYPE) {
		errf(err, errlen, "--cgroup: '%s' is not a cgroup v2 directory (%s)", arg, buf);
	} else if (e) {
		errf(err, errlen, "--cgroup: cannot use '%s': %s", buf, strerror(-e));
	}
	return e;
}
