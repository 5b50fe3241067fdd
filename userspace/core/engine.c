// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Docker and Podman container names from the engines' state on disk
 * (core/engine.h). Tested in tests/unit/test_labels.c (the ids and files
 * laid out as the engines write them) and tests/e2e/test_names.py (a real
 * Podman container).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "base/buf.h"
#include "core/engine.h"
#include "core/privs.h"

static int hex64(const char *s, size_t n)
{
	size_t i;

	if (n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* one component "<prefix><64 hex>[.scope]": the id's start, or NULL */
static const char *scoped(const char *c, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (n > 6 && !strncmp(c + n - 6, ".scope", 6))
		n -= 6;
	if (n < pl || strncmp(c, prefix, pl) || !hex64(c + pl, n - pl))
		return NULL;
	return c + pl;
}

static int is(const char *c, size_t n, const char *word)
{
	return n == strlen(word) && !strncmp(c, word, n);
}

enum lp_engine lp_engine_id(const char *path, char *id, size_t len)
{
	const char *comp[4], *p = path, *got = NULL;
	size_t clen[4], n = 0;
	enum lp_engine e = LP_ENGINE_NONE;

	if (!path || len < LP_ENGINE_ID)
		return LP_ENGINE_NONE;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (n == 4)
			return LP_ENGINE_NONE;
		comp[n] = p;
		while (*p && *p != '/')
			p++;
		clen[n] = (size_t)(p - comp[n]);
		n++;
	}
	/* crun's "container" child of the scope: the scope names it */
	if (n == 3 && is(comp[2], clen[2], "container"))
		n = 2;
	/* only where the engine puts its containers: a tenant's look-alike is not one */
	if (n != 2)
		return LP_ENGINE_NONE;
	if (is(comp[0], clen[0], "system.slice") && (got = scoped(comp[1], clen[1], "docker-")))
		e = LP_ENGINE_DOCKER;
	else if (is(comp[0], clen[0], "docker") && hex64(comp[1], clen[1])) {
		e = LP_ENGINE_DOCKER;
		got = comp[1];
	} else if ((is(comp[0], clen[0], "machine.slice") ||
		    is(comp[0], clen[0], "libpod_parent")) &&
		   (got = scoped(comp[1], clen[1], "libpod-")))
		e = LP_ENGINE_PODMAN;
	if (!got)
		return LP_ENGINE_NONE;
	memcpy(id, got, 64);
	id[64] = '\0';
	return e;
}

/* a name from the engine's state, cleaned into name */
static int take(const char *raw, char *name, size_t len)
{
	char tmp[3 * 256 + 1];

	if (!raw || !*raw || strlen(raw) > 255)
		return -ENOENT;
	lp_name_clean(raw, tmp, sizeof(tmp));
	if (!tmp[0])
		return -ENOENT;
	snprintf(name, len, "%s", tmp);
	return 0;
}

static int docker_name(const char *root, const char *id, char *name, size_t len)
{
	char file[4096];
	struct json_object *o, *n;
	int rc = -ENOENT;

	snprintf(file, sizeof(file), "%s/var/lib/docker/containers/%s/config.v2.json",
		 strcmp(root, "/") ? root : "", id);
	o = json_object_from_file(file);
	if (!o)
		return -ENOENT;
	/* "Name": "/web" */
	if (json_object_object_get_ex(o, "Name", &n) && json_object_is_type(n, json_type_string)) {
		const char *s = json_object_get_string(n);

		rc = take(s[0] == '/' ? s + 1 : s, name, len);
	}
	json_object_put(o);
	return rc;
}

/* containers.json: [{"id": "<64 hex>", "names": ["web"], ...}, ...] */
static int podman_in(const char *file, const char *id, char *name, size_t len)
{
	struct json_object *o = json_object_from_file(file), *c, *v;
	size_t i, n;
	int rc = -ENOENT;

	if (!o)
		return -ENOENT;
	n = json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
	for (i = 0; i < n && rc; i++) {
		c = json_object_array_get_idx(o, i);
		if (!json_object_object_get_ex(c, "id", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), id))
			continue;
		if (json_object_object_get_ex(c, "names", &v) &&
		    json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0) {
			v = json_object_array_get_idx(v, 0);
			if (json_object_is_type(v, json_type_string))
				rc = take(json_object_get_string(v), name, len);
		}
		break;
	}
	json_object_put(o);
	return rc;
}

static int podman_name(const char *root, const char *id, char *name, size_t len)
{
	static const char *const drivers[] = {"overlay", "vfs", "btrfs", "zfs"};
	char file[4096];
	size_t i;

	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		snprintf(file, sizeof(file),
			 "%s/var/lib/containers/storage/%s-containers/containers.json",
			 strcmp(root, "/") ? root : "", drivers[i]);
		if (!podman_in(file, id, name, len))
			return 0;
	}
	return -ENOENT;
}

int lp_engine_name(const char *root, const char *path, char *name, size_t len)
{
	char id[LP_ENGINE_ID];

	switch (lp_engine_id(path, id, sizeof(id))) {
	case LP_ENGINE_DOCKER:
		return docker_name(root, id, name, len);
	case LP_ENGINE_PODMAN:
		return podman_name(root, id, name, len);
	default:
		return -ENOENT;
	}
}

/* the engines' state directories: is any of them under root? */
static int any_engine(const char *root)
{
	static const char *const dirs[] = {"/var/lib/docker/containers",
					   "/var/lib/containers/storage"};
	char path[4096];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", strcmp(root, "/") ? root : "", dirs[i]);
		if (!stat(path, &st) && S_ISDIR(st.st_mode))
			return 1;
	}
	return 0;
}

/* answer until the agent closes its end (or dies: PR_SET_PDEATHSIG) */
static void helper(int fd, const char *root, const struct lp_user *user, pid_t parent)
{
	const int caps[] = {CAP_DAC_READ_SEARCH};
	char path[4097], out[257];
	sigset_t all;
	ssize_t n;

	/* the agent blocked these for its signalfd: a child does not need them blocked */
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	prctl(PR_SET_NAME, "latprobe-names");
	lp_privs_child_keep(caps, 1, user, "the container names reader");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (;;) {
		n = recv(fd, path, sizeof(path) - 1, 0);
		if (n <= 0)
			_exit(0);
		path[n] = '\0';
		/* one byte says whether a name follows */
		out[0] = !lp_engine_name(root, path, out + 1, sizeof(out) - 1);
		if (send(fd, out, out[0] ? 1 + strlen(out + 1) : 1, MSG_NOSIGNAL) < 0)
			_exit(0);
	}
}

int lp_engine_helper_start(struct lp_engine_helper *h, const char *root, const struct lp_user *user)
{
	pid_t parent = getpid();
	int fds[2];

	h->pid = -1;
	h->fd = -1;
	if (!root || !*root || !user || !user->uid || !any_engine(root))
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds))
		return -errno;
	fflush(stderr);
	h->pid = fork();
	if (h->pid < 0) {
		h->pid = -1;
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (h->pid == 0) {
		/*
		 * nothing of the agent's but the socket: its maps, its listening
		 * sockets, the TLS scanner's stop pipe (held here, it would never
		 * see the agent close it)
		 */
		int fd = fds[1];

		if (fd != 3) {
			fd = dup2(fd, 3);
			if (fd < 0)
				_exit(1);
		}
		close_range(4, ~0U, 0);
		helper(fd, root, user, parent);
		_exit(0);
	}
	close(fds[1]);
	h->fd = fds[0];
	return 1;
}

int lp_engine_helper_name(struct lp_engine_helper *h, const char *path, char *name, size_t len)
{
	struct pollfd pfd = {.fd = h->fd, .events = POLLIN};
	char in[257];
	ssize_t n;

	if (h->fd < 0)
		return -EIO;
	if (strlen(path) > 4096)
		return -ENOENT;
	if (send(h->fd, path, strlen(path), MSG_NOSIGNAL) < 0 || poll(&pfd, 1, 1000) != 1 ||
	    (n = recv(h->fd, in, sizeof(in) - 1, 0)) <= 0) {
		/* no answer in time: a late one would answer the next question; stop asking */
		lp_engine_helper_stop(h);
		return -EIO;
	}
	in[n] = '\0';
	if (!in[0])
		return -ENOENT;
	snprintf(name, len, "%s", in + 1);
	return 0;
}

void lp_engine_helper_stop(struct lp_engine_helper *h)
{
	pid_t pid = h->pid;

	lp_privs_child_stop(&pid, &h->fd, "the container names reader");
	h->pid = pid;
}
