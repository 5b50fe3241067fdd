/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Service identity of a series, resolved in user space: the cgroup path of
 * its cgroup id, and a readable service name (systemd unit, container id, or
 * the process listening on the port).
 */
#ifndef LP_LABELS_H
#define LP_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "latprobe.h"

struct lp_labels;
struct lp_k8s;

#define LP_NAME_MAX 64	  /* a process name after cleaning: 15 bytes can triple */
#define LP_PATH_MAX 1024 /* a cgroup path after cleaning, at most */

/* mount: the cgroup v2 mount point whose tree the ids refer to */
struct lp_labels *lp_labels__new(const char *mount);
void lp_labels__free(struct lp_labels *l);
/*
 * Resolve the cgroup tree and the process of every listening socket now,
 * while the agent still has the privilege to look into other processes.
 */
void lp_labels__prime(struct lp_labels *l);
/* "/system.slice/nginx.service" ("/" for the root); NULL if unknown. Valid until the next call. */
const char *lp_labels__cgroup(struct lp_labels *l, __u64 cgroup_id);
/*
 * Where the kubelet's files are read (root/var/log/pods...; NULL or "": not
 * at all), and the cgroup the agent watches (--cgroup; NULL or "/": the
 * root), whose child the kubelet's kubepods level must be.
 */
int lp_labels__set_k8s_root(struct lp_labels *l, const char *root, const char *scope);
/*
 * The Kubernetes identity of a cgroup (core/k8s.h), looked for once and
 * again at most once a second while not found; NULL: not a pod's, or its
 * files are not there. The caller takes its own reference (lp_k8s_get).
 */
struct lp_k8s *lp_labels__k8s(struct lp_labels *l, __u64 cgroup_id);
/* are Kubernetes identities looked for at all? */
bool lp_labels__k8s_on(const struct lp_labels *l);
/*
 * The name of a cgroup's Docker or Podman container (core/engine.h), read
 * under the --k8s-root directory, looked for once and again after a while
 * while the engine's state is not there; NULL: none.
 */
const char *lp_labels__engine(struct lp_labels *l, __u64 cgroup_id);
/* Read the engines' state through h (core/engine.h), which outlives l, while it runs. */
struct lp_engine_helper;
void lp_labels__set_engine_helper(struct lp_labels *l, struct lp_engine_helper *h);
/*
 * A readable service name for the series, never NULL: the first of the
 * sources (enum lp_svc_source, --service-name-from) it has, else its
 * cgroup's name, else "unknown". Valid until the next call.
 */
const char *lp_labels__service(struct lp_labels *l, const struct lp_key *key);
/* the sources' order (NULL or 0: container, workload, pod, unit, process) */
void lp_labels__set_service_from(struct lp_labels *l, const __u8 *order, unsigned n);
/*
 * The generation of the names: what lp_labels__cgroup and lp_labels__service
 * answered for a key stays their answer while it does not change (a caller
 * may keep its copies). Refreshes the listener names when they are old.
 */
__u64 lp_labels__gen(struct lp_labels *l);

/*
 * Pure: a service name from a cgroup path: the systemd unit ("nginx.service"),
 * "docker:<12 hex>" / "container:<12 hex>" for a container, else the last
 * path component. Returns 0, or -ENOENT for the root and empty paths.
 */
int lp_service_from_cgroup(const char *path, char *buf, size_t len);

/*
 * Pure: a line of /proc/net/tcp or tcp6: 1 with the port and socket inode
 * when it is a listening socket, else 0.
 */
int lp_proc_net_tcp_listener(const char *line, __u16 *port, unsigned long *inode);

#endif /* LP_LABELS_H */
