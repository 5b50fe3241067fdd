// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "core/privs.h"

int lp_user_lookup(const char *name, struct lp_user *u)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) || !res)
		return -ENOENT;
	u->uid = res->pw_uid;
	u->gid = res->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return 0;
}

int lp_user_default(struct lp_user *u)
{
	if (geteuid() != 0)
		return 0;
	if (lp_user_lookup("nobody", u)) {
		/* no passwd entry (a scratch container): the number is enough */
		u->uid = LP_NOBODY_ID;
		u->gid = LP_NOBODY_ID;
		snprintf(u->name, sizeof(u->name), "%u", LP_NOBODY_ID);
	}
	return 1;
}

/* permitted = the given capabilities; effective = the first neff of them; inheritable empty */
static int set_caps(const cap_value_t *caps, int n, int neff)
{
	cap_t c = cap_init();
	int e = 0;

	if (!c)
		return -errno;
	if (n && cap_set_flag(c, CAP_PERMITTED, n, caps, CAP_SET))
		e = -errno;
	if (!e && neff && cap_set_flag(c, CAP_EFFECTIVE, neff, caps, CAP_SET))
		e = -errno;
	if (!e && cap_set_proc(c))
		e = -errno;
	cap_free(c);
	return e;
}

/* drop from the bounding set everything but keep[0..n) */
static int bound_to(const cap_value_t *keep, int n, char *err, size_t errlen)
{
	cap_value_t c;
	int i;

	for (c = 0; c <= CAP_LAST_CAP; c++) {
		bool k = false;

		for (i = 0; i < n; i++)
			k |= keep[i] == c;
		/* already gone (a service manager's bounding set): nothing to drop */
		if (k || !CAP_IS_SUPPORTED(c) || cap_get_bound(c) != 1)
			continue;
		if (cap_drop_bound(c)) {
			snprintf(err, errlen, "failed to drop capability %d from the bounding set: %s",
				 (int)c, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int lp_privs_drop(const struct lp_user *user, bool keep_bind, bool (*can_read)(void *ctx),
		  void *ctx, char *kept, size_t keptlen, char *err, size_t errlen)
{
	cap_value_t bpf_cap = CAP_IS_SUPPORTED(CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN;
	/* [0] SETPCAP trims the bounding set at the end; [1] the map reads; [2] binding */
	cap_value_t caps[3] = { CAP_SETPCAP, bpf_cap, CAP_NET_BIND_SERVICE };
	int n = keep_bind ? 3 : 2, e;
	bool need_bpf;

	/* no capability can come back through exec or setuid binaries */
	e = bound_to(caps, n, err, errlen);
	if (e)
		return e;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "failed to set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	if (user) {
		/* keep the permitted set across the switch of user */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
		    setresgid(user->gid, user->gid, user->gid) ||
		    setresuid(user->uid, user->uid, user->uid)) {
			snprintf(err, errlen, "failed to switch to user %s: %s", user->name,
				 strerror(errno));
			return -errno;
		}
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	/* can the maps be read with only CAP_SETPCAP in effect, that is without CAP_BPF? */
	e = set_caps(caps, n, 1);
	if (e)
		goto fail;
	need_bpf = !can_read(ctx);
	if (need_bpf) {
		e = set_caps(caps, n, 2);
		if (!e && !can_read(ctx)) {
			snprintf(err, errlen, "cannot read the BPF maps after dropping privileges");
			return -EPERM;
		}
	}
	/* what stays: CAP_BPF if needed, CAP_NET_BIND_SERVICE if asked; nothing else */
	{
		cap_value_t stay[2];
		int ns = 0;

		if (need_bpf)
			stay[ns++] = bpf_cap;
		if (keep_bind)
			stay[ns++] = CAP_NET_BIND_SERVICE;
		e = bound_to(stay, ns, err, errlen);
		if (e)
			return e;
		e = set_caps(stay, ns, ns);
		if (e)
			goto fail;
		snprintf(kept, keptlen, "%s%s%s%s", ns ? "" : "none", need_bpf ?
			 (bpf_cap == CAP_BPF ? "cap_bpf (this kernel requires it to read maps)" :
					       "cap_sys_admin (this kernel requires it to read maps)") : "",
			 need_bpf && keep_bind ? ", " : "", keep_bind ? "cap_net_bind_service" : "");
	}
	return 0;
fail:
	snprintf(err, errlen, "failed to drop capabilities: %s", strerror(-e));
	return e;
}

void lp_privs_child_keep(const int *caps, int n, const struct lp_user *user, const char *who)
{
	cap_value_t keep[8], cv;
	cap_t c = cap_init();
	int k;

	if (n > 8)
		n = 8;
	for (k = 0; k < n; k++)
		keep[k] = (cap_value_t)caps[k];
	/* the bounding set too: nothing else can ever come back, not even by exec */
	for (cv = 0; cv <= CAP_LAST_CAP; cv++) {
		int kept = 0;

		for (k = 0; k < n; k++)
			kept |= keep[k] == cv;
		if (!kept)
			prctl(PR_CAPBSET_DROP, cv, 0, 0, 0);
	}
	/*
	 * the agent's user too (a file it parses cannot make uid 0 do
	 * anything), the capabilities above kept across the switch; it also
	 * lets the agent's death reach it (a parent-death signal from a
	 * process of another user is refused)
	 */
	if (user && user->uid &&
	    (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
	     setresgid(user->gid, user->gid, user->gid) ||
	     setresuid(user->uid, user->uid, user->uid)))
		fprintf(stderr, "latprobe: %s stays uid 0: %s\n", who, strerror(errno));
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (c && !cap_set_flag(c, CAP_PERMITTED, n, keep, CAP_SET) &&
	    !cap_set_flag(c, CAP_EFFECTIVE, n, keep, CAP_SET))
		cap_set_proc(c);
	cap_free(c);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

void lp_privs_child_stop(pid_t *pid, int *fd, const char *who)
{
	int i;

	if (*pid <= 0)
		return;
	/*
	 * The child may run as another user than the agent now: no signal, an
	 * EOF. Waited for a bounded time: should it be stuck in a system call,
	 * the agent still stops, and the child dies with it (PR_SET_PDEATHSIG).
	 */
	close(*fd);
	for (i = 0; i < 50; i++) {
		pid_t r = waitpid(*pid, NULL, WNOHANG);

		if (r == *pid || (r < 0 && errno != EINTR))
			break;
		usleep(100000);
	}
	if (i == 50)
		fprintf(stderr, "latprobe: %s did not stop within 5 s; it ends with the agent\n",
			who);
	*pid = -1;
	*fd = -1;
}
