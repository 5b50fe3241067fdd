/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kubernetes identity of a cgroup, with no API credentials: the pod's UID
 * and the container's id from the cgroup path (both cgroup drivers;
 * containerd, CRI-O and Docker), then the namespace, pod and container names
 * from the kubelet's own files on the node (/var/log/pods/<namespace>_<pod>_<uid>/
 * and the /var/log/containers/<pod>_<namespace>_<container>-<id>.log links),
 * and the workload as the pod's name shows it.
 */
#ifndef LP_K8S_H
#define LP_K8S_H

#include <stddef.h>

enum lp_k8s_kind {
	LP_K8S_NONE = 0,    /* a bare pod, or a name that shows no workload */
	LP_K8S_DEPLOYMENT,  /* <deployment>-<replicaset hash>-<5 chars> */
	LP_K8S_STATEFULSET, /* <statefulset>-<ordinal> */
	LP_K8S_DAEMONSET,   /* <daemonset>-<5 chars> (a Job's pods look the same) */
};

#define LP_K8S_NAME 254 /* a DNS subdomain: the longest pod name */
#define LP_K8S_ID   72	/* a pod UID or a container id */

struct lp_k8s {
	int refs;
	char ns[64]; /* a DNS label */
	char pod[LP_K8S_NAME];
	char container[64];	    /* a DNS label; "" when no link names it */
	char workload[LP_K8S_NAME]; /* "" with LP_K8S_NONE */
	enum lp_k8s_kind kind;
};

/*
 * Pure: the pod UID (dashes, as the API writes it) and the container id (""
 * for the pod's own cgroup) in a cgroup path that starts with the kubelet's
 * kubepods level (relative to the scope the agent watches: a tenant can make
 * a "kubepods" in a subtree of its own, never at the top). 0, or -ENOENT
 * when the path is not a pod's.
 */
int lp_k8s_ids(const char *path, char *uid, size_t ulen, char *cid, size_t clen);
/* Pure: the workload a pod's name shows (name: its name, or ""). */
enum lp_k8s_kind lp_k8s_workload(const char *pod, char *name, size_t len);
/* Pure: "<namespace>_<pod>_<uid>" (a /var/log/pods entry) for uid: 0, or -ENOENT. */
int lp_k8s_pod_dir(const char *entry, const char *uid, char *ns, size_t nslen, char *pod,
		   size_t podlen);
/* Pure: "<pod>_<namespace>_<container>-<cid>.log" for cid: the container's name, or -ENOENT. */
int lp_k8s_container_link(const char *entry, const char *cid, char *name, size_t len);

/*
 * The identity of a cgroup path, from the kubelet's files under root
 * (root/var/log/pods, root/var/log/containers; root "/" on a node). A new
 * reference, or NULL (not a pod's cgroup, or the kubelet's files say nothing).
 */
struct lp_k8s *lp_k8s_resolve(const char *root, const char *cgpath);
struct lp_k8s *lp_k8s_get(struct lp_k8s *k);
void lp_k8s_put(struct lp_k8s *k);

#endif /* LP_K8S_H */
