/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Least privilege: once the programs are attached, the agent only reads its
 * maps. Drop every capability (and the bounding set), optionally switch to an
 * unprivileged user, and keep CAP_BPF only if this kernel needs it to read a
 * map through an fd the agent already holds (kernel.unprivileged_bpf_disabled).
 */
#ifndef LP_PRIVS_H
#define LP_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct lp_user {
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Look up --user NAME; -ENOENT if there is no such user. */
int lp_user_lookup(const char *name, struct lp_user *u);

/*
 * The user to become when no --user was given. uid 0 with every capability
 * dropped still owns every root-owned file (owner access needs none) and may
 * signal every root process, so root becomes nobody (65534 if there is no
 * such entry): returns 1 and fills *u. Not root (capabilities given to
 * another user): returns 0, the user stays. "--user root" keeps uid 0.
 */
#define LP_NOBODY_ID 65534u
int lp_user_default(struct lp_user *u);

/*
 * Drop privileges in the calling thread (call it before starting threads).
 * can_read() says whether the maps can still be read. keep_bind: keep
 * CAP_NET_BIND_SERVICE (a --listen port below 1024). *kept names what stayed.
 */
int lp_privs_drop(const struct lp_user *user, bool keep_bind, bool (*can_read)(void *ctx),
		  void *ctx, char *kept, size_t keptlen, char *err, size_t errlen);

/*
 * In a helper child forked before the drop (the TLS scanner, the container
 * names reader): keep only caps[0..n) (CAP_* values, at most 8), in the
 * bounding set too, become user (NULL or uid 0: stay), no new privileges.
 * who names the child in a message.
 */
void lp_privs_child_keep(const int *caps, int n, const struct lp_user *user, const char *who);
/*
 * Stop such a child: close its end of the channel (*fd), the child's cue
 * to exit, and reap it within 5 s; *pid and *fd become -1.
 */
void lp_privs_child_stop(pid_t *pid, int *fd, const char *who);

#endif
