// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kubernetes identity of a cgroup from the kubelet's files (k8s.h). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "core/k8s.h"

/* the alphabet Kubernetes names generated suffixes with (no vowels, no 0 1 3) */
static bool safe_chars(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i] || !strchr("bcdfghjklmnpqrstvwxz2456789", s[i]))
			return false;
	return true;
}

static bool all_of(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return n > 0;
}

/* copy s[0..n) into buf (len), "": too long */
static void put(char *buf, size_t len, const char *s, size_t n)
{
	if (n >= len)
		n = 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* the pod UID in a pod cgroup's name (either driver): 0, or -ENOENT */
static int pod_uid(const char *c, size_t n, char *uid, size_t ulen)
{
	const char *p = NULL, *s;
	size_t k, un;

	if (n > 6 && !memcmp(c + n - 6, ".slice", 6)) {
		/* systemd: kubepods-<qos>-pod<uid, '_' for '-'>.slice */
		for (s = c; s + 4 <= c + n - 6; s++)
			if (!memcmp(s, "-pod", 4))
				p = s + 4;
		n -= 6;
	} else if (n > 3 && !memcmp(c, "pod", 3)) {
		p = c + 3; /* cgroupfs: pod<uid> */
	}
	if (!p)
		return -ENOENT;
	un = (size_t)(c + n - p);
	if (!all_of(p, un, "0123456789abcdef-_") || un < 8 || un >= ulen)
		return -ENOENT;
	for (k = 0; k < un; k++)
		uid[k] = p[k] == '_' ? '-' : p[k];
	uid[un] = '\0';
	return 0;
}

/* a container's id in its cgroup's name: <runtime>-<hex>.scope or <hex>; 0 or -ENOENT */
static int container_of(const char *c, size_t n, char *cid, size_t clen)
{
	static const char *const runtimes[] = {"cri-containerd-", "crio-", "docker-"};
	size_t i;

	if (n > 6 && !memcmp(c + n - 6, ".scope", 6)) {
		n -= 6;
		for (i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
			size_t r = strlen(runtimes[i]);

			if (n > r && !memcmp(c, runtimes[i], r)) {
				c += r;
				n -= r;
				break;
			}
		}
		if (i == sizeof(runtimes) / sizeof(runtimes[0]))
			return -ENOENT;
	}
	if (n < 12 || n >= clen || !all_of(c, n, "0123456789abcdef"))
		return -ENOENT; /* crio-conmon-<id>.scope and the like are not containers */
	put(cid, clen, c, n);
	return 0;
}

int lp_k8s_ids(const char *path, char *uid, size_t ulen, char *cid, size_t clen)
{
	const char *c = path, *next;
	bool in_pods = false;

	*uid = *cid = '\0';
	for (; c && *c; c = next) {
		size_t n;

		while (*c == '/')
			c++;
		next = strchr(c, '/');
		n = next ? (size_t)(next - c) : strlen(c);
		if (!n)
			break;
		if (!in_pods) {
			/* the top level only: below it, anyone with a subtree could make one */
			in_pods = (n == 8 && !memcmp(c, "kubepods", 8)) ||
				  (n == 14 && !memcmp(c, "kubepods.slice", 14));
			if (!in_pods)
				return -ENOENT;
			continue;
		}
		if (!*uid) {
			pod_uid(c, n, uid, ulen); /* QoS levels in between have none */
			continue;
		}
		/* the level below the pod: the container's (one only) */
		if (container_of(c, n, cid, clen))
			*cid = '\0';
		break;
	}
	return *uid ? 0 : -ENOENT;
}

enum lp_k8s_kind lp_k8s_workload(const char *pod, char *name, size_t len)
{
	size_t n = strlen(pod);
	const char *d1 = strrchr(pod, '-'), *d2 = NULL, *s;

	*name = '\0';
	if (!d1 || d1 == pod)
		return LP_K8S_NONE;
	for (s = pod; s < d1; s++)
		if (*s == '-')
			d2 = s;
	/* <deployment>-<6 to 10>-<5> */
	if (d2 && d2 > pod && pod + n - d1 - 1 == 5 && safe_chars(d1 + 1, 5) && d1 - d2 - 1 >= 6 &&
	    d1 - d2 - 1 <= 10 && safe_chars(d2 + 1, (size_t)(d1 - d2 - 1))) {
		put(name, len, pod, (size_t)(d2 - pod));
		return LP_K8S_DEPLOYMENT;
	}
	/* <statefulset>-<ordinal> */
	if (all_of(d1 + 1, pod + n - d1 - 1, "0123456789") && (d1[1] != '0' || !d1[2])) {
		put(name, len, pod, (size_t)(d1 - pod));
		return LP_K8S_STATEFULSET;
	}
	/* <daemonset>-<5> */
	if (pod + n - d1 - 1 == 5 && safe_chars(d1 + 1, 5)) {
		put(name, len, pod, (size_t)(d1 - pod));
		return LP_K8S_DAEMONSET;
	}
	return LP_K8S_NONE;
}

int lp_k8s_pod_dir(const char *entry, const char *uid, char *ns, size_t nslen, char *pod,
		   size_t podlen)
{
	size_t n = strlen(entry), u = strlen(uid);
	const char *a = strchr(entry, '_');

	if (!u || n < u + 4 || entry[n - u - 1] != '_' || strcmp(entry + n - u, uid) || !a ||
	    a >= entry + n - u - 1 || a == entry)
		return -ENOENT;
	put(ns, nslen, entry, (size_t)(a - entry));
	put(pod, podlen, a + 1, (size_t)(entry + n - u - 1 - a - 1));
	return *ns && *pod ? 0 : -ENOENT;
}

int lp_k8s_container_link(const char *entry, const char *cid, char *name, size_t len)
{
	size_t n = strlen(entry), c = strlen(cid);
	const char *a, *b;

	/* ...-<cid>.log */
	if (!c || n < c + 6 || strcmp(entry + n - 4, ".log") || entry[n - c - 5] != '-' ||
	    memcmp(entry + n - c - 4, cid, c))
		return -ENOENT;
	a = strchr(entry, '_');
	b = a ? strchr(a + 1, '_') : NULL;
	if (!b || b >= entry + n - c - 5)
		return -ENOENT;
	put(name, len, b + 1, (size_t)(entry + n - c - 5 - b - 1));
	return *name ? 0 : -ENOENT;
}

/* the one entry of dir (under root) that match() accepts; 0 or -ENOENT */
static int find_entry(const char *root, const char *dir, int (*match)(const char *entry, void *ctx),
		      void *ctx)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "%s%s", strcmp(root, "/") ? root : "", dir);
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !match(de->d_name, ctx)) {
			rc = 0;
			break;
		}
	closedir(d);
	return rc;
}

struct pod_match {
	const char *uid;
	struct lp_k8s *k;
	char dir[LP_K8S_NAME + 64 + LP_K8S_ID + 2];
};

static int match_pod(const char *entry, void *ctx)
{
	struct pod_match *m = ctx;

	if (lp_k8s_pod_dir(entry, m->uid, m->k->ns, sizeof(m->k->ns), m->k->pod, sizeof(m->k->pod)))
		return -ENOENT;
	put(m->dir, sizeof(m->dir), entry, strlen(entry));
	return 0;
}

struct link_match {
	const char *cid;
	char name[64];
};

static int match_link(const char *entry, void *ctx)
{
	struct link_match *m = ctx;

	return lp_k8s_container_link(entry, m->cid, m->name, sizeof(m->name));
}

struct only_match {
	unsigned n; /* entries seen */
	char name[64];
};

/* the container directories of a pod's log directory: counted, the first kept */
static int match_any(const char *entry, void *ctx)
{
	struct only_match *m = ctx;

	if (!m->n++)
		put(m->name, sizeof(m->name), entry, strlen(entry));
	return -ENOENT; /* look at them all */
}

/* names come from a directory anyone with root on the node writes: valid UTF-8 */
static void clean(char *s, size_t len)
{
	char tmp[LP_K8S_NAME * 3 + 1];

	lp_name_clean(s, tmp, sizeof(tmp));
	put(s, len, tmp, strlen(tmp));
}

struct lp_k8s *lp_k8s_resolve(const char *root, const char *cgpath)
{
	char uid[LP_K8S_ID], cid[LP_K8S_ID], sub[sizeof(((struct pod_match *)0)->dir) + 16];
	struct pod_match pm = {0};
	struct link_match lm = {0};
	struct lp_k8s *k;

	if (lp_k8s_ids(cgpath, uid, sizeof(uid), cid, sizeof(cid)))
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	pm.uid = uid;
	pm.k = k;
	if (find_entry(root, "/var/log/pods", match_pod, &pm)) {
		free(k);
		return NULL;
	}
	lm.cid = cid;
	if (*cid && !find_entry(root, "/var/log/containers", match_link, &lm)) {
		put(k->container, sizeof(k->container), lm.name, strlen(lm.name));
	} else {
		/* no link (yet): the pod's only container, if it has one only */
		struct only_match om = {0};

		snprintf(sub, sizeof(sub), "/var/log/pods/%s", pm.dir);
		find_entry(root, sub, match_any, &om);
		if (om.n == 1)
			put(k->container, sizeof(k->container), om.name, strlen(om.name));
	}
	clean(k->ns, sizeof(k->ns));
	clean(k->pod, sizeof(k->pod));
	clean(k->container, sizeof(k->container));
	k->kind = lp_k8s_workload(k->pod, k->workload, sizeof(k->workload));
	k->refs = 1;
	return k;
}

struct lp_k8s *lp_k8s_get(struct lp_k8s *k)
{
	if (k)
		__atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
	return k;
}

void lp_k8s_put(struct lp_k8s *k)
{
	if (k && __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(k);
}
