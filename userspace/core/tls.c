// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The TLS scanner child (tls.h): every --tls-scan, the processes in scope
 * that it has not read yet (all of them every 12th scan: a process may load
 * libssl late) are read for libssl mappings; a library file (device and
 * inode) not probed yet gets the TLS programs through its path under
 * /proc/PID/root (so a container's own library is probed too). Then the
 * session state of processes that are gone is swept from the kernel map.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/config.h"
#include "core/privs.h"
#include "core/probe.h"
#include "core/tls.h"
#include "latprobe.h"

bool lp_tls_maps_line(const char *line, struct lp_tls_lib *lib)
{
	unsigned maj, min;
	unsigned long long ino;
	const char *path, *base;
	int off = 0;
	size_t n;

	/* address perms offset dev inode path */
	if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &off) != 3 || !off)
		return false;
	path = line + off;
	if (*path != '/' || !ino)
		return false;
	n = strcspn(path, "\n");
	if (n >= sizeof(lib->path) || (n > 10 && !strncmp(path + n - 10, " (deleted)", 10)))
		return false;
	base = memrchr(path, '/', n);
	base = base ? base + 1 : path;
	if (strncmp(base, "libssl.so", 9))
		return false;
	memcpy(lib->path, path, n);
	lib->path[n] = '\0';
	lib->dev = ((unsigned long long)maj << 20) | min;
	lib->ino = ino;
	return true;
}

bool lp_tls_in_scope(const char *cgroup_file, const char *scope)
{
	const char *p = strstr(cgroup_file, "0::");
	size_t n = strlen(scope);

	while (n && scope[n - 1] == '/')
		n--;
	if (!n)
		return true;
	/* the cgroup v2 line: "0::/path" at the start of a line */
	while (p && p != cgroup_file && p[-1] != '\n')
		p = strstr(p + 1, "0::");
	if (!p)
		return false;
	p += 3;
	return !strncmp(p, scope, n) && (p[n] == '\n' || p[n] == '\0' || p[n] == '/');
}

#define TLS_LIBS_MAX	  64  /* libraries probed */
#define TLS_FAILED_MAX	  256 /* libraries that failed, remembered so they are not retried */
#define TLS_LINKS_PER_LIB 16
#define TLS_SAID_PER_SCAN 4 /* failure lines a scan */

struct lib_id {
	unsigned long long dev, ino;
};

struct scanner {
	struct lp_probe *p;
	const char *scope; /* below the cgroup2 mount; "" for all */
	struct lib_id libs[TLS_LIBS_MAX];
	int nlibs;
	/*
	 * Failures apart, in a ring: any local user can map files named
	 * libssl.so.* that fail to probe; they must never take the slots of
	 * libraries that work. A failure forgotten is tried (and counted) again.
	 */
	struct lib_id failed[TLS_FAILED_MAX];
	unsigned nfailed;
	unsigned said; /* failure lines this scan */
	bool full_said;
	pid_t *seen, *now;
	size_t nseen, nnow, cap;
};

static char *read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static bool known(const struct lib_id *ids, unsigned n, const struct lp_tls_lib *lib)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (ids[i].dev == lib->dev && ids[i].ino == lib->ino)
			return true;
	return false;
}

static void probe_lib(struct scanner *s, pid_t pid, const struct lp_tls_lib *lib)
{
	struct bpf_link *links[TLS_LINKS_PER_LIB];
	char path[4200], err[512];
	int n;

	if (known(s->libs, (unsigned)s->nlibs, lib) ||
	    known(s->failed, s->nfailed < TLS_FAILED_MAX ? s->nfailed : TLS_FAILED_MAX, lib))
		return;
	if (s->nlibs >= TLS_LIBS_MAX) {
		/* said once; each library left out counted (latprobe_tls_libraries_unprobed) */
		if (!s->full_said)
			fprintf(stderr,
				"latprobe: TLS: %d libraries probed, the most there is room for: "
				"%s (pid %d) and any other new one are not seen\n",
				TLS_LIBS_MAX, lib->path, (int)pid);
		s->full_said = true;
		lp_probe__count_add(s->p, LP_CNT_TLS_LIBS_FAILED, 1);
		s->failed[s->nfailed++ % TLS_FAILED_MAX] = (struct lib_id){lib->dev, lib->ino};
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, lib->path);
	n = lp_probe__tls_attach(s->p, path, links, TLS_LINKS_PER_LIB, err, sizeof(err));
	/* the links stay open for the child's life */
	if (n < 0) {
		s->failed[s->nfailed++ % TLS_FAILED_MAX] = (struct lib_id){lib->dev, lib->ino};
		/*
		 * one line a library (a stripped libssl, BoringSSL, no uprobes at
		 * all), a few a scan: a flood of bad files is in the counter
		 */
		if (s->said++ < TLS_SAID_PER_SCAN)
			fprintf(stderr,
				"latprobe: TLS: cannot probe %s (mapped by pid %d): %s; HTTPS "
				"through it is not seen\n",
				lib->path, (int)pid, err);
		lp_probe__count_add(s->p, LP_CNT_TLS_LIBS_FAILED, 1);
		return;
	}
	s->libs[s->nlibs++] = (struct lib_id){lib->dev, lib->ino};
	lp_probe__count_add(s->p, LP_CNT_TLS_LIBS_PROBED, 1);
	fprintf(stderr, "latprobe: TLS: probing %s (%d uprobes; first mapped by pid %d)\n",
		lib->path, n, (int)pid);
}

static bool was_seen(const struct scanner *s, pid_t pid)
{
	size_t lo = 0, hi = s->nseen;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->seen[mid] == pid)
			return true;
		if (s->seen[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void scan_pid(struct scanner *s, pid_t pid)
{
	char path[64], buf[4096], *line = NULL;
	struct lp_tls_lib lib;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (!read_small(path, buf, sizeof(buf)) || !lp_tls_in_scope(buf, s->scope))
		return;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, "libssl.so") && lp_tls_maps_line(line, &lib))
			probe_lib(s, pid, &lib);
	free(line);
	fclose(f);
}

/* one pass over /proc: the processes not read before, or all of them */
static void scan(struct scanner *s, bool all)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t *t;

	if (!d)
		return;
	s->nnow = 0;
	s->said = 0;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		if (s->nnow == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 1024;
			pid_t *a = realloc(s->now, cap * sizeof(*a)), *b;

			if (!a)
				break;
			s->now = a;
			b = realloc(s->seen, cap * sizeof(*b));
			if (!b)
				break;
			s->seen = b;
			s->cap = cap;
		}
		s->now[s->nnow++] = (pid_t)pid;
		if (all || !was_seen(s, (pid_t)pid))
			scan_pid(s, (pid_t)pid);
	}
	closedir(d);
	qsort(s->now, s->nnow, sizeof(*s->now), cmp_pid);
	t = s->seen;
	s->seen = s->now;
	s->now = t;
	s->nseen = s->nnow;
}

/* the state of processes (sessions) and threads (calls in progress) that are gone */
static void sweep(struct lp_probe *p)
{
	int sfd = lp_probe__tls_sessions_fd(p), cfd = lp_probe__tls_calls_fd(p),
	    ofd = lp_probe__tls_owned_fd(p);
	struct lp_tls_key k, next, *prev = NULL;
	__u64 c, cnext, *cprev = NULL;
	__u32 t, tnext, *tprev = NULL;

	/* the shares of processes that are gone (their sessions go below) */
	while (ofd >= 0 && !bpf_map_get_next_key(ofd, tprev, &tnext)) {
		t = tnext;
		tprev = &t;
		if (kill((pid_t)t, 0) && errno == ESRCH)
			bpf_map_delete_elem(ofd, &t);
	}
	while (sfd >= 0 && !bpf_map_get_next_key(sfd, prev, &next)) {
		k = next;
		prev = &k;
		if (kill((pid_t)k.tgid, 0) && errno == ESRCH)
			bpf_map_delete_elem(sfd, &k);
	}
	while (cfd >= 0 && !bpf_map_get_next_key(cfd, cprev, &cnext)) {
		c = cnext;
		cprev = &c;
		if (syscall(SYS_tgkill, (pid_t)(c >> 32), (pid_t)(c & 0xffffffff), 0) &&
		    errno == ESRCH)
			bpf_map_delete_elem(cfd, &c);
	}
}

/*
 * What the child keeps: reading other processes' maps and libraries
 * (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH), making uprobes and their BPF links
 * (CAP_PERFMON, CAP_BPF, CAP_SYS_ADMIN). It reads no network input.
 */
static void keep_caps(const struct lp_user *user)
{
	int caps[6], n = 0;

	caps[n++] = CAP_SYS_PTRACE;
	caps[n++] = CAP_DAC_READ_SEARCH;
	if (CAP_IS_SUPPORTED(CAP_PERFMON) && CAP_IS_SUPPORTED(CAP_BPF)) {
		caps[n++] = CAP_PERFMON;
		caps[n++] = CAP_BPF;
	}
	/* perf_event_open of a uprobe: CAP_PERFMON is not enough on every kernel (6.18 here) */
	caps[n++] = CAP_SYS_ADMIN;
	lp_privs_child_keep(caps, n, user, "TLS: the library scanner");
}

/* scan until the agent closes its end of the pipe (or dies: PR_SET_PDEATHSIG) */
static void child(struct lp_probe *p, const struct lp_config *cfg, const char *scope, pid_t parent,
		  int stop, const struct lp_user *user)
{
	struct scanner s = {.p = p, .scope = scope};
	struct pollfd pfd = {.fd = stop, .events = POLLIN};
	int ms = (int)(cfg->tls_scan_ns / 1000000ULL);
	unsigned round;

	/* the agent blocked these for its signalfd: a child does not need them blocked */
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	prctl(PR_SET_NAME, "latprobe-tls");
	keep_caps(user);
	/* armed after the credentials changed (a change may clear it), then the race checked */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (round = 0;; round++) {
		if (getppid() != parent)
			_exit(0); /* the agent is gone: never outlive it */
		scan(&s, round % 12 == 0);
		sweep(p);
		if (poll(&pfd, 1, ms) > 0)
			break; /* EOF: the agent is stopping */
	}
}

int lp_tls_start(struct lp_tls_child *c, struct lp_probe *p, const struct lp_config *cfg,
		 const char *mount, const char *cgpath, const struct lp_user *user)
{
	size_t n = strlen(mount);
	const char *scope = !strncmp(cgpath, mount, n) ? cgpath + n : "";
	pid_t parent = getpid();
	int fds[2];

	c->pid = -1;
	c->fd = -1;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (c->pid == 0) {
		close(fds[1]);
		child(p, cfg, scope, parent, fds[0], user);
		_exit(0);
	}
	close(fds[0]);
	c->fd = fds[1];
	return 0;
}

void lp_tls_stop(struct lp_tls_child *c)
{
	lp_privs_child_stop(&c->pid, &c->fd, "TLS: the library scanner");
}
