// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "labels.h"

#define CG_RESCAN_NS	 1000000000ULL	/* at most one tree walk a second on a miss */
#define PORT_TTL_NS	 30000000000ULL /* listener names are looked up again after this */
#define MAX_CG_DEPTH	 32

struct cg_entry {
	__u64 id;
	char *path;
};

struct port_entry {
	__u16 port;
	__u64 when;
	char name[32];
};

struct lp_labels {
	char *mount;
	struct cg_entry *cg;
	size_t ncg, capcg;
	__u64 last_scan;
	struct port_entry *ports;
	size_t nports, capports;
	char buf[512];
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

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
	return l;
}

static void cg_clear(struct lp_labels *l)
{
	size_t i;

	for (i = 0; i < l->ncg; i++)
		free(l->cg[i].path);
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
	free(l);
}

static void cg_add(struct lp_labels *l, __u64 id, const char *rel)
{
	if (l->ncg == l->capcg) {
		size_t cap = l->capcg ? 2 * l->capcg : 64;
		struct cg_entry *n = realloc(l->cg, cap * sizeof(*n));

		if (!n)
			return;
		l->cg = n;
		l->capcg = cap;
	}
	l->cg[l->ncg].path = strdup(rel[0] ? rel : "/");
	if (!l->cg[l->ncg].path)
		return;
	l->cg[l->ncg++].id = id;
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

	l->last_scan = now_ns();
	if (!rel)
		return;
	fd = open(l->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		cg_clear(l);
		rel[0] = '\0';
		cg_walk(l, fd, rel, 0, 0);
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

const char *lp_labels__cgroup(struct lp_labels *l, __u64 id)
{
	const char *p = cg_find(l, id);

	if (!p && (!l->last_scan || now_ns() - l->last_scan >= CG_RESCAN_NS)) {
		cg_scan(l);
		p = cg_find(l, id);
	}
	return p;
}

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "<prefix><64 hex>[.scope]" -> "<label>:<12 hex>" */
static int container_id(const char *comp, size_t clen, char *buf, size_t len)
{
	static const struct {
		const char *prefix, *label;
	} kinds[] = {
		{ "docker-", "docker" },	  { "cri-containerd-", "container" },
		{ "crio-", "container" },	  { "libpod-", "podman" },
		{ "", "container" },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t pl = strlen(kinds[i].prefix);
		size_t rest = clen - pl;

		if (clen < pl + 64 || strncmp(comp, kinds[i].prefix, pl))
			continue;
		if (rest != 64 && !(rest == 70 && !strncmp(comp + pl + 64, ".scope", 6)))
			continue;
		if (!is_hex(comp + pl, 64))
			continue;
		snprintf(buf, len, "%s:%.12s", kinds[i].label, comp + pl);
		return 0;
	}
	return -ENOENT;
}

int lp_service_from_cgroup(const char *path, char *buf, size_t len)
{
	const char *p, *comp, *last = NULL, *unit = NULL;
	size_t lastlen = 0, unitlen = 0, clen;

	if (!path)
		return -ENOENT;
	/* the innermost container id or systemd service wins */
	for (p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - comp);
		last = comp;
		lastlen = clen;
		if (clen > 8 && !strncmp(comp + clen - 8, ".service", 8)) {
			unit = comp;
			unitlen = clen;
		}
	}
	if (!last)
		return -ENOENT;
	if (container_id(last, lastlen, buf, len) == 0)
		return 0;
	if (unit) {
		snprintf(buf, len, "%.*s", (int)unitlen, unit);
		return 0;
	}
	snprintf(buf, len, "%.*s", (int)lastlen, last);
	return 0;
}

unsigned long lp_listen_inode(const char *text, __u16 port)
{
	const char *line = text;

	while (line && *line) {
		unsigned int lport, state;
		unsigned long inode;
		char laddr[64];

		/* "  0: 0100007F:1F90 00000000:0000 0A ... uid timeout inode" */
		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   laddr, &lport, &state, &inode) == 4 &&
		    lport == port && state == 0x0A && inode)
			return inode;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

static char *slurp(const char *path)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		if (len + 1 == cap) {
			char *n = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!n)
				break;
			buf = n;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* the command name of a process holding socket inode, or -ENOENT */
static int inode_owner(unsigned long inode, char *name, size_t len)
{
	char want[64], path[600], link[64];
	struct dirent *pe, *fe;
	DIR *proc, *fds;
	int found = -ENOENT;

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (found && (pe = readdir(proc))) {
		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", pe->d_name, fe->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/comm", pe->d_name);
			{
				FILE *f = fopen(path, "re");

				if (f && fgets(name, (int)len, f)) {
					name[strcspn(name, "\n")] = '\0';
					found = 0;
				}
				if (f)
					fclose(f);
			}
			break;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

static const char *listener_name(struct lp_labels *l, __u16 port)
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	struct port_entry *e = NULL;
	__u64 now = now_ns();
	size_t i;

	for (i = 0; i < l->nports; i++) {
		if (l->ports[i].port == port) {
			e = &l->ports[i];
			break;
		}
	}
	if (e && now - e->when < PORT_TTL_NS)
		return e->name[0] ? e->name : NULL;
	if (!e) {
		if (l->nports == l->capports) {
			size_t cap = l->capports ? 2 * l->capports : 32;
			struct port_entry *n = realloc(l->ports, cap * sizeof(*n));

			if (!n)
				return NULL;
			l->ports = n;
			l->capports = cap;
		}
		e = &l->ports[l->nports++];
		e->port = port;
		e->name[0] = '\0';
	}
	e->when = now;
	for (i = 0; i < 2; i++) {
		char *text = slurp(tables[i]);
		unsigned long inode = text ? lp_listen_inode(text, port) : 0;
		char name[sizeof(e->name)];

		free(text);
		/*
		 * Without privileges a refresh may fail (the owner has capabilities
		 * we dropped): a name found before is still the best answer.
		 */
		if (inode && inode_owner(inode, name, sizeof(name)) == 0) {
			memcpy(e->name, name, sizeof(name));
			break;
		}
	}
	return e->name[0] ? e->name : NULL;
}

void lp_labels__prime(struct lp_labels *l)
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	size_t i;

	cg_scan(l);
	for (i = 0; i < 2; i++) {
		char *text = slurp(tables[i]), *line;

		for (line = text; line && *line;) {
			unsigned int lport, state;

			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &lport, &state) ==
				    2 &&
			    state == 0x0A)
				listener_name(l, (__u16)lport);
			line = strchr(line, '\n');
			if (line)
				line++;
		}
		free(text);
	}
}

const char *lp_labels__service(struct lp_labels *l, const struct lp_key *key)
{
	const char *cg, *proc;

	if (key->flags & LP_KEY_OVERFLOW)
		return "overflow";
	cg = lp_labels__cgroup(l, key->cgroup_id);
	/* a unit or container says more than a process name */
	if (cg && strcmp(cg, "/") && lp_service_from_cgroup(cg, l->buf, sizeof(l->buf)) == 0 &&
	    (strchr(l->buf, ':') || strstr(l->buf, ".service")))
		return l->buf;
	if (key->side == LP_SIDE_SERVER) {
		proc = listener_name(l, key->port);
		if (proc)
			return proc;
	}
	if (cg && strcmp(cg, "/") && lp_service_from_cgroup(cg, l->buf, sizeof(l->buf)) == 0)
		return l->buf;
	return "unknown";
}
