/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTPS: finding the OpenSSL libraries the node's processes map and
 * attaching the TLS programs to them (tls.c). A uprobe is set on a library
 * file, for every process that maps it: a process started later with a
 * library already probed is seen from its first call; a library not yet
 * probed (a container image's own) is found by the next scan, every
 * --tls-scan. The scanning runs in a small child process that keeps only
 * the capabilities it needs (to read other processes' maps and to create
 * uprobes), so the agent itself still drops them all; the child holds the
 * uprobe links and dies with the agent.
 */
#ifndef LP_TLS_H
#define LP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct lp_probe;
struct lp_config;

/* a line of /proc/PID/maps that maps an OpenSSL libssl: its file */
struct lp_tls_lib {
	unsigned long long dev, ino;
	char path[4096];
};

/* Parse one maps line: true if it maps a libssl (libssl.so*, not deleted). */
bool lp_tls_maps_line(const char *line, struct lp_tls_lib *lib);

/*
 * Is a process in the --cgroup scope? cgroup_file: the text of
 * /proc/PID/cgroup; scope: the scope's path below the cgroup2 mount ("" or
 * "/" for all).
 */
bool lp_tls_in_scope(const char *cgroup_file, const char *scope);

struct lp_tls_child {
	pid_t pid; /* -1: none */
	int fd;	   /* the agent's end of a pipe: closed, the child stops */
};

struct lp_user;
/*
 * Start the scanner child (TLS programs loaded): 0, or -errno. mount, cgpath:
 * the cgroup2 mount and the scope's directory; user: the user the agent
 * becomes (NULL: it stays root), which the child becomes too, keeping only
 * the capabilities it needs. Call before privileges are dropped and before
 * any thread starts.
 */
int lp_tls_start(struct lp_tls_child *c, struct lp_probe *p, const struct lp_config *cfg,
		 const char *mount, const char *cgpath, const struct lp_user *user);
/* Stop it, and with it every uprobe (its links close with it). */
void lp_tls_stop(struct lp_tls_child *c);

#endif
