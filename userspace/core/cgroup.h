/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgroup v2 helpers (core/cgroup.c): the mount point, a --cgroup argument's directory. */
#ifndef LP_CGROUP_H
#define LP_CGROUP_H

#include <stddef.h>

/* The cgroup v2 mount point, from /proc/self/mountinfo; -ENOENT if there is none. */
int lp_cgroup2_mount(char *buf, size_t len);
/*
 * Resolve a --cgroup argument: an existing cgroup v2 directory given as an
 * absolute path, or a path relative to the cgroup2 mount ("/system.slice/x").
 */
int lp_cgroup_resolve(const char *arg, const char *mount, char *buf, size_t len, char *err,
		      size_t errlen);

#endif /* LP_CGROUP_H */
