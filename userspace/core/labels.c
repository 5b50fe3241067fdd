// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "base/config.h"
#include "base/util.h"
#include "core/engine.h"
#include "core/k8s.h"
#include "core/labels.h"
#include "base/buf.h"

#define CG_RESCAN_NS	 1000000000ULL	/* at most one tree walk a second on a miss */
#define PORT_TTL_NS	 30000000000ULL /* listener names are looked up again after this */
#define PORT_MISS_NS	 1000000000ULL	/* an unknown port refreshes them at most this often */
#define MAX_CG_DEPTH	 32

struct cg_entry {
	__u64 id;
	char *path;
	struct lp_k8s *k8s; /* its pod's identity (a reference); NULL: none (yet) */
	__u64 k8s_at;	    /* when it was last looked for (0: never) */
	char *engine;	 /* its Docker/Podman container's name (core/engine.h); NULL: none (yet) */
	__u64 engine_at; /* when it was last looked for (0: never) */
};

struct port_entry {
	__u16 port;
	char name[LP_NAME_MAX];
};

struct lp_listener {
	__u16 port;
	unsigned long inode;
	char name[LP_NAME_MAX];
};

struct lp_labels {
	char *mount;
	char *k8s_root;	 /* where the kubelet's /var/log is found; NULL: not looked for */
	struct lp_engine_helper *engine; /* reads the engines' state for us; NULL: we read it */
	char *k8s_scope; /* the watched cgroup (--cgroup; "" for the root): kubepods is its child */
	struct cg_entry *cg;
	size_t ncg, capcg;
	__u64 last_scan;
	struct port_entry *ports;
	size_t nports, capports;
	bool diag_warned; /* sock_diag failed and the fallback was said once */
	__u64 last_ports; /* the last refresh of ports[] */
	__u64 gen;	  /* bumped whenever a name known before may read differently */
	__u8 svc_from[LP_SVC_SOURCES]; /* service_name's sources, in order */
	unsigned nsvc_from;
	char buf[512];
};

struct lp_labels *lp_labels__new(const char *mount)
{
	struct lp_labels *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->mount = strdup(mount ? mount : "");
	if (!l->mount) {
		free(l);
		return NULL;
	}
	l->gen = 1;
	lp_labels__set_service_from(l, NULL, 0);
	return l;
}

void lp_labels__set_service_from(struct lp_labels *l, const __u8 *order, unsigned n)
{
	static const __u8 def[] = {LP_SVC_CONTAINER, LP_SVC_WORKLOAD, LP_SVC_POD, LP_SVC_UNIT,
				   LP_SVC_PROCESS};

	if (!n || n > LP_SVC_SOURCES) {
		order = def;
		n = sizeof(def);
	}
	memcpy(l->svc_from, order, n);
	l->nsvc_from = n;
	l->gen++;
}

static void cg_clear(struct lp_labels *l)
{
	size_t i;

	for (i = 0; i < l->ncg; i++) {
		free(l->cg[i].path);
		free(l->cg[i].engine);
		lp_k8s_put(l->cg[i].k8s);
	}
	l->ncg = 0;
}

void lp_labels__free(struct lp_labels *l)
{
	if (!l)
		return;
	cg_clear(l);
	free(l->cg);
	free(l->ports);
	free(l->mount);
	free(l->k8s_root);
	free(l->k8s_scope);
	free(l);
}

static void cg_add(struct lp_labels *l, __u64 id, const char *raw)
{
	/* a cgroup anyone may name (systemd hands users their subtree): made
	 * valid UTF-8 where it enters, so no output ever carries its bytes */
	static char rel[LP_PATH_MAX];

	lp_name_clean(raw, rel, sizeof(rel));
	if (l->ncg == l->capcg) {
		size_t cap = l->capcg ? 2 * l->capcg : 64;
		struct cg_entry *n = realloc(l->cg, cap * sizeof(*n));

		if (!n)
			return;
		l->cg = n;
		l->capcg = cap;
	}
	l->cg[l->ncg] = (struct cg_entry){ .id = id, .path = strdup(rel[0] ? rel : "/") };
	if (!l->cg[l->ncg].path)
		return;
	l->ncg++;
}

/* walk the cgroup tree: the cgroup v2 id of a directory is its inode number */
static void cg_walk(struct lp_labels *l, int dfd, char *rel, size_t rlen, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fstat(dfd, &st) == 0)
		cg_add(l, st.st_ino, rel);
	if (depth >= MAX_CG_DEPTH)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		int fd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (rlen + 1 + n + 1 > 4096)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		rel[rlen] = '/';
		memcpy(rel + rlen + 1, de->d_name, n + 1);
		cg_walk(l, fd, rel, rlen + 1 + n, depth + 1);
		rel[rlen] = '\0';
	}
	closedir(d);
}

static void cg_scan(struct lp_labels *l)
{
	char *rel = malloc(4096);
	int fd;

	l->last_scan = lp_mono_ns();
	if (!rel)
		return;
	fd = open(l->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		struct cg_entry *old = l->cg;
		size_t nold = l->ncg, i;

		l->cg = NULL;
		l->ncg = l->capcg = 0;
		rel[0] = '\0';
		cg_walk(l, fd, rel, 0, 0);
		/* the same tree walks in the same order: any difference is a change */
		for (i = 0; i < nold && nold == l->ncg; i++)
			if (old[i].id != l->cg[i].id || strcmp(old[i].path, l->cg[i].path))
				break;
		if (i != nold || nold != l->ncg)
			l->gen++;
		for (i = 0; i < nold; i++) {
			/* the same cgroup keeps what was found for it */
			if (i < l->ncg && old[i].id == l->cg[i].id && !l->cg[i].k8s &&
			    !strcmp(old[i].path, l->cg[i].path)) {
				l->cg[i].k8s = old[i].k8s;
				l->cg[i].k8s_at = old[i].k8s_at;
				old[i].k8s = NULL;
				l->cg[i].engine = old[i].engine;
				l->cg[i].engine_at = old[i].engine_at;
				old[i].engine = NULL;
			}
			free(old[i].path);
			free(old[i].engine);
			lp_k8s_put(old[i].k8s);
		}
		free(old);
	}
	free(rel);
}

static const char *cg_find(struct lp_labels *l, __u64 id)
{
	size_t i;

	for (i = 0; i < l->ncg; i++)
		if (l->cg[i].id == id)
			return l->cg[i].path;
	return NULL;
}

static struct cg_entry *cg_entry_of(struct lp_labels *l, __u64 id)
{
	size_t i;

	for (i = 0; i < l->ncg; i++)
		if (l->cg[i].id == id)
			return &l->cg[i];
	return NULL;
}

int lp_labels__set_k8s_root(struct lp_labels *l, const char *root, const char *scope)
{
	char *r = root && *root ? strdup(root) : NULL;
	char *sc = strdup(scope && strcmp(scope, "/") ? scope : "");

	if ((root && *root && !r) || !sc) {
		free(r);
		free(sc);
		return -ENOMEM;
	}
	free(l->k8s_root);
	free(l->k8s_scope);
	l->k8s_root = r;
	l->k8s_scope = sc;
	return 0;
}

/* a cgroup path relative to the watched scope (NULL: outside it) */
static const char *in_scope(const struct lp_labels *l, const char *path)
{
	size_t n = strlen(l->k8s_scope);

	if (strncmp(path, l->k8s_scope, n) || (path[n] && path[n] != '/'))
		return NULL;
	return path + n;
}

bool lp_labels__k8s_on(const struct lp_labels *l)
{
	return l->k8s_root != NULL;
}

/*
 * A cgroup's entry when its identity of one kind is to be looked for: the
 * names are read below the --k8s-root directory, so none without one. A
 * kind not found yet (its files not written yet) is looked for again, at
 * most once a CG_RESCAN_NS (*at: the last look, of the entry's found).
 */
static const char *identity_due(struct lp_labels *l, __u64 id, struct cg_entry **ep, size_t at_off)
{
	struct cg_entry *e;
	__u64 now, *at;

	if (!l->k8s_root || !lp_labels__cgroup(l, id) || !(e = cg_entry_of(l, id)))
		return NULL;
	*ep = e;
	at = (__u64 *)((char *)e + at_off);
	now = lp_mono_ns();
	if (*at && now - *at < CG_RESCAN_NS)
		return NULL;
	*at = now;
	return in_scope(l, e->path);
}

struct lp_k8s *lp_labels__k8s(struct lp_labels *l, __u64 id)
{
	struct cg_entry *e = NULL;
	const char *rel;

	if ((e = cg_entry_of(l, id)) && e->k8s)
		return e->k8s;
	rel = identity_due(l, id, &e, offsetof(struct cg_entry, k8s_at));
	if (rel)
		e->k8s = lp_k8s_resolve(l->k8s_root, rel);
	return e ? e->k8s : NULL;
}

const char *lp_labels__engine(struct lp_labels *l, __u64 id)
{
	char name[LP_NAME_MAX], id_buf[LP_ENGINE_ID];
	struct cg_entry *e = NULL;
	const char *rel;

	if ((e = cg_entry_of(l, id)) && e->engine)
		return e->engine;
	rel = identity_due(l, id, &e, offsetof(struct cg_entry, engine_at));
	/* no container's path (the pure check): no file read, no question to the helper */
	if (rel && lp_engine_id(rel, id_buf, sizeof(id_buf)) != LP_ENGINE_NONE &&
	    !(l->engine && l->engine->pid > 0
		      ? lp_engine_helper_name(l->engine, rel, name, sizeof(name))
		      : lp_engine_name(l->k8s_root, rel, name, sizeof(name))))
		e->engine = strdup(name);
	return e ? e->engine : NULL;
}

void lp_labels__set_engine_helper(struct lp_labels *l, struct lp_engine_helper *h)
{
	l->engine = h;
}

const char *lp_labels__cgroup(struct lp_labels *l, __u64 id)
{
	const char *p = cg_find(l, id);

	if (!p && (!l->last_scan || lp_mono_ns() - l->last_scan >= CG_RESCAN_NS)) {
		cg_scan(l);
		p = cg_find(l, id);
	}
	return p;
}

/*
 * The listening TCP sockets, (port, inode), from the kernel's sock_diag
 * interface: a dump restricted to LISTEN walks only the listening hash, where
 * /proc/net/tcp would walk every established bucket of a busy node.
 */
static int dump_listeners(int family, struct lp_listener **out, size_t *n, size_t *cap)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = (__u8)family, .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = 1u << 10 /* TCP_LISTEN */ },
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, err = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0) {
			err = len < 0 ? -errno : -EIO;
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct inet_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = -EIO;
				done = 1;
				break;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || !m->idiag_inode)
				continue;
			if (*n == *cap) {
				size_t c = *cap ? 2 * *cap : 64;
				struct lp_listener *nw = realloc(*out, c * sizeof(*nw));

				if (!nw) {
					err = -ENOMEM;
					done = 1;
					break;
				}
				*out = nw;
				*cap = c;
			}
			(*out)[*n].port = ntohs(m->id.idiag_sport);
			(*out)[*n].inode = m->idiag_inode;
			(*out)[*n].name[0] = '\0';
			(*n)++;
		}
	}
out:
	close(fd);
	return err;
}

int lp_proc_net_tcp_listener(const char *line, __u16 *port, unsigned long *inode)
{
	unsigned long ino;
	unsigned int sl, lport, st;
	char local[80], remote[80];
	const char *colon;

	/* "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 12345 ..." */
	if (sscanf(line, " %u: %79s %79s %x %*s %*s %*s %*u %*u %lu", &sl, local, remote, &st,
		   &ino) != 5)
		return 0;
	colon = strrchr(local, ':');
	if (!colon || st != 0x0A /* TCP_LISTEN */ || !ino || sscanf(colon + 1, "%x", &lport) != 1 ||
	    lport > 65535)
		return 0;
	*port = (__u16)lport;
	*inode = ino;
	return 1;
}

/*
 * The same from /proc/net/tcp and tcp6, where sock_diag is not to be had
 * (a unit without AF_NETLINK): slower on a busy node, it walks every socket.
 */
static int proc_listeners(const char *path, struct lp_listener **out, size_t *n, size_t *cap)
{
	FILE *f = fopen(path, "re");
	char line[512];
	__u16 port;
	unsigned long ino;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!lp_proc_net_tcp_listener(line, &port, &ino))
			continue;
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 64;
			struct lp_listener *nw = realloc(*out, c * sizeof(*nw));

			if (!nw) {
				fclose(f);
				return -ENOMEM;
			}
			*out = nw;
			*cap = c;
		}
		(*out)[*n].port = port;
		(*out)[*n].inode = ino;
		(*out)[*n].name[0] = '\0';
		(*n)++;
	}
	fclose(f);
	return 0;
}

static int cmp_inode(const void *a, const void *b)
{
	const struct lp_listener *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* the inode of a "socket:[N]" link, or 0 */
static unsigned long socket_inode(const char *link)
{
	unsigned long ino = 0;

	if (strncmp(link, "socket:[", 8))
		return 0;
	for (link += 8; *link >= '0' && *link <= '9'; link++)
		ino = ino * 10 + (unsigned long)(*link - '0');
	return *link == ']' ? ino : 0;
}

/* name every listener in l[] by one walk over /proc/PID/fd */
static void name_listeners(struct lp_listener *ls, size_t n)
{
	char path[600], link[64], comm[LP_NAME_MAX], clean[LP_NAME_MAX];
	struct dirent *pe, *fe;
	size_t left = n;
	DIR *proc, *fds;

	qsort(ls, n, sizeof(*ls), cmp_inode);
	proc = opendir("/proc");
	if (!proc)
		return;
	while (left && (pe = readdir(proc))) {
		comm[0] = '\0';
		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (left && (fe = readdir(fds))) {
			struct lp_listener key, *hit;
			ssize_t r;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", pe->d_name, fe->d_name);
			r = readlink(path, link, sizeof(link) - 1);
			if (r <= 0)
				continue;
			link[r] = '\0';
			key.inode = socket_inode(link);
			if (!key.inode)
				continue;
			hit = bsearch(&key, ls, n, sizeof(*ls), cmp_inode);
			if (!hit || hit->name[0])
				continue;
			if (!comm[0]) {
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%s/comm", pe->d_name);
				f = fopen(path, "re");
				if (!f || !fgets(comm, sizeof(comm), f))
					comm[0] = '\0';
				if (f)
					fclose(f);
				comm[strcspn(comm, "\n")] = '\0';
				/* a process names itself: its bytes are cleaned here */
				lp_name_clean(comm, clean, sizeof(clean));
				memcpy(comm, clean, sizeof(comm));
				if (!comm[0])
					break;
			}
			memcpy(hit->name, comm, sizeof(hit->name));
			left--;
		}
		closedir(fds);
	}
	closedir(proc);
}

static struct port_entry *port_find(struct lp_labels *l, __u16 port)
{
	size_t i;

	for (i = 0; i < l->nports; i++)
		if (l->ports[i].port == port)
			return &l->ports[i];
	return NULL;
}

/*
 * Every listening port's process, at once: one sock_diag dump, one /proc
 * walk. A port whose owner cannot be read now (privileges dropped since)
 * keeps the name found before.
 */
static void ports_refresh(struct lp_labels *l)
{
	struct lp_listener *ls = NULL;
	size_t n = 0, cap = 0, i;
	int e;

	l->last_ports = lp_mono_ns();
	e = dump_listeners(AF_INET, &ls, &n, &cap);
	if (!e)
		e = dump_listeners(AF_INET6, &ls, &n, &cap);
	if (e) {
		/* degraded, not silent: say so once, and read /proc instead */
		if (!l->diag_warned) {
			fprintf(stderr,
				"latprobe: listening sockets are read from /proc/net/tcp: sock_diag "
				"netlink is not available (%s); allow AF_NETLINK for the faster way\n",
				strerror(-e));
			l->diag_warned = true;
		}
		n = 0;
		if (proc_listeners("/proc/net/tcp", &ls, &n, &cap) ||
		    proc_listeners("/proc/net/tcp6", &ls, &n, &cap)) {
			free(ls);
			return;
		}
	}
	name_listeners(ls, n);
	for (i = 0; i < n; i++) {
		struct port_entry *e;

		if (!ls[i].name[0])
			continue;
		e = port_find(l, ls[i].port);
		if (!e) {
			if (l->nports == l->capports) {
				size_t c = l->capports ? 2 * l->capports : 32;
				struct port_entry *nw = realloc(l->ports, c * sizeof(*nw));

				if (!nw)
					break;
				l->ports = nw;
				l->capports = c;
			}
			e = &l->ports[l->nports++];
			e->port = ls[i].port;
		} else if (!memcmp(e->name, ls[i].name, sizeof(e->name))) {
			continue;
		}
		memcpy(e->name, ls[i].name, sizeof(e->name));
		l->gen++;
	}
	free(ls);
}

static const char *listener_name(struct lp_labels *l, __u16 port)
{
	struct port_entry *e = port_find(l, port);
	__u64 since = lp_mono_ns() - l->last_ports;

	/* an unknown port asks for a refresh, but not more often than PORT_MISS_NS */
	if ((!e && since >= PORT_MISS_NS) || since >= PORT_TTL_NS) {
		ports_refresh(l);
		e = port_find(l, port);
	}
	return e && e->name[0] ? e->name : NULL;
}

__u64 lp_labels__gen(struct lp_labels *l)
{
	/* listener names are looked up again after PORT_TTL_NS: a process may have changed */
	if (lp_mono_ns() - l->last_ports >= PORT_TTL_NS)
		ports_refresh(l);
	return l->gen;
}

void lp_labels__prime(struct lp_labels *l)
{
	cg_scan(l);
	ports_refresh(l);
}

/* one source of the service's name (enum lp_svc_source) for key; NULL: it has none */
static const char *service_source(struct lp_labels *l, const struct lp_key *key, const char *cg,
				  unsigned src)
{
	struct lp_k8s *k = NULL;
	const char *n = NULL;

	if (src == LP_SVC_UNIT)
		return cg && strcmp(cg, "/") &&
				       lp_service_from_cgroup(cg, l->buf, sizeof(l->buf)) == 0 &&
				       (strchr(l->buf, ':') || strstr(l->buf, ".service"))
			       ? l->buf
			       : NULL;
	if (src == LP_SVC_PROCESS)
		return key->side == LP_SIDE_SERVER ? listener_name(l, key->port) : NULL;
	k = cg ? lp_labels__k8s(l, key->cgroup_id) : NULL;
	if (k)
		n = src == LP_SVC_CONTAINER  ? k->container
		    : src == LP_SVC_WORKLOAD ? k->workload
					     : k->pod;
	else if (cg && src == LP_SVC_CONTAINER)
		n = lp_labels__engine(l, key->cgroup_id); /* Docker, Podman */
	if (!n || !n[0])
		return NULL;
	snprintf(l->buf, sizeof(l->buf), "%s", n);
	return l->buf;
}

const char *lp_labels__service(struct lp_labels *l, const struct lp_key *key)
{
	const char *cg, *name;
	unsigned i;

	if (key->flags & LP_KEY_OVERFLOW)
		return "overflow";
	cg = lp_labels__cgroup(l, key->cgroup_id);
	for (i = 0; i < l->nsvc_from; i++) {
		name = service_source(l, key, cg, l->svc_from[i]);
		if (name)
			return name;
	}
	/* none of them: the cgroup's own name, which says something */
	if (cg && strcmp(cg, "/") && lp_service_from_cgroup(cg, l->buf, sizeof(l->buf)) == 0)
		return l->buf;
	return "unknown";
}
