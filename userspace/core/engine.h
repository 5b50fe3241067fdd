/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The name of a Docker or Podman container outside Kubernetes, from the
 * engine's own state on disk (no API socket, no credentials): Docker's
 * /var/lib/docker/containers/<id>/config.v2.json ("Name"), Podman's
 * /var/lib/containers/storage/<driver>-containers/containers.json (the
 * container's "names"). The id comes from the cgroup path, as systemd
 * (docker-<id>.scope, libpod-<id>.scope) or cgroupfs (/docker/<id>,
 * /libpod_parent/libpod-<id>) name it.
 */
#ifndef LP_ENGINE_H
#define LP_ENGINE_H

#include <stddef.h>

enum lp_engine {
	LP_ENGINE_NONE = 0,
	LP_ENGINE_DOCKER,
	LP_ENGINE_PODMAN,
};

#define LP_ENGINE_ID 65 /* 64 hex digits and the NUL */

/*
 * Pure: the engine and the container's id (64 lowercase hex digits) of a
 * cgroup path (relative to the watched scope) where the engine puts its
 * containers: system.slice/docker-<id>.scope, docker/<id>,
 * machine.slice/libpod-<id>.scope, libpod_parent/libpod-<id>, each with or
 * without crun's "container" child. LP_ENGINE_NONE for anything else:
 * conmon's scope, a look-alike deeper in a tenant's subtree.
 */
enum lp_engine lp_engine_id(const char *path, char *id, size_t len);

/*
 * The container's name for a cgroup path, read under root ("/" on a node):
 * 0 and name (cleaned: valid UTF-8, no control bytes), or -ENOENT.
 */
int lp_engine_name(const char *root, const char *path, char *name, size_t len);

/*
 * The engines keep their state root's alone (0700, 0600), and the agent
 * reads as another user with no capability: a helper child forked before
 * the privilege drop keeps CAP_DAC_READ_SEARCH alone, reads no network
 * input, and answers one question, a cgroup path's container name, over a
 * socket pair. Only lp_engine_name runs in it.
 */
struct lp_user;
struct lp_engine_helper {
	int pid; /* -1: none */
	int fd;
};

/*
 * Start the helper when the agent becomes user (not uid 0) and an engine's
 * state is under root: 1 started, 0 not needed, or -errno.
 */
int lp_engine_helper_start(struct lp_engine_helper *h, const char *root,
			   const struct lp_user *user);
/* lp_engine_name through the helper (1 s at most): 0, -ENOENT, or -EIO (helper gone) */
int lp_engine_helper_name(struct lp_engine_helper *h, const char *path, char *name, size_t len);
void lp_engine_helper_stop(struct lp_engine_helper *h);

#endif /* LP_ENGINE_H */
