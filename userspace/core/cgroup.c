// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup v2 helpers: where the hierarchy is mounted (/sys/fs/cgroup on
 * systemd hosts, /sys/fs/cgroup/unified on hybrid ones), and which
 * directory a --cgroup argument names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "base/util.h"
#include "core/cgroup.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

int lp_cgroup2_mount(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int e = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *save = NULL, *tok, *mnt = NULL;
		int field = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (++field == 5)
				mnt = tok;
		if (!mnt)
			continue;
		unescape(mnt);
		if (strlen(mnt) >= len) {
			e = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, mnt);
		e = 0;
		break;
	}
	fclose(f);
	return e;
}

static int is_cgroup2_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (statfs(path, &fs))
		return -errno;
	return fs.f_type == CGROUP2_SUPER_MAGIC ? 0 : -EMEDIUMTYPE;
}

int lp_cgroup_resolve(const char *arg, const char *mount, char *buf, size_t len, char *err,
		      size_t errlen)
{
	size_t mlen = strlen(mount);
	int e;

	/* an absolute path inside the mount, or one relative to it */
	if (!strncmp(arg, mount, mlen) && (arg[mlen] == '/' || arg[mlen] == '\0'))
		e = snprintf(buf, len, "%s", arg);
	else
		e = snprintf(buf, len, "%s/%s", mount, arg[0] == '/' ? arg + 1 : arg);
	if (e < 0 || (size_t)e >= len) {
		lp_errf(-EINVAL, err, errlen, "--cgroup: path too long");
		return -ENAMETOOLONG;
	}
	e = is_cgroup2_dir(buf);
	if (e == -ENOENT) {
		lp_errf(-EINVAL, err, errlen,
			"--cgroup: '%s' does not exist (looked for %s; cgroup v2 is at %s)", arg,
			buf, mount);
	} else if (e == -ENOTDIR || e == -EMEDIUMTYPE) {
		lp_errf(-EINVAL, err, errlen, "--cgroup: '%s' is not a cgroup v2 directory (%s)",
			arg, buf);
	} else if (e) {
		lp_errf(-EINVAL, err, errlen, "--cgroup: cannot use '%s': %s", buf, strerror(-e));
	}
	return e;
}
