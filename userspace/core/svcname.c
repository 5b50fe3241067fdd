// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pure: a service name from a cgroup path (lp_service_from_cgroup, declared
 * in core/labels.h): the systemd unit, a container's runtime and id, else
 * the last component. Tested in tests/unit/test_labels.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/labels.h"

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "<prefix><64 hex>[.scope]" -> "<label>:<12 hex>" */
static int container_id(const char *comp, size_t clen, char *buf, size_t len)
{
	static const struct {
		const char *prefix, *label;
	} kinds[] = {
		{ "docker-", "docker" },	  { "cri-containerd-", "container" },
		{ "crio-", "container" },	  { "libpod-", "podman" },
		{ "", "container" },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t pl = strlen(kinds[i].prefix);
		size_t rest = clen - pl;

		if (clen < pl + 64 || strncmp(comp, kinds[i].prefix, pl))
			continue;
		if (rest != 64 && !(rest == 70 && !strncmp(comp + pl + 64, ".scope", 6)))
			continue;
		if (!is_hex(comp + pl, 64))
			continue;
		snprintf(buf, len, "%s:%.12s", kinds[i].label, comp + pl);
		return 0;
	}
	return -ENOENT;
}

int lp_service_from_cgroup(const char *path, char *buf, size_t len)
{
	const char *p, *comp, *last = NULL, *unit = NULL;
	size_t lastlen = 0, unitlen = 0, clen;

	if (!path)
		return -ENOENT;
	/* the innermost container id or systemd service wins */
	for (p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - comp);
		last = comp;
		lastlen = clen;
		if (clen > 8 && !strncmp(comp + clen - 8, ".service", 8)) {
			unit = comp;
			unitlen = clen;
		}
	}
	if (!last)
		return -ENOENT;
	if (container_id(last, lastlen, buf, len) == 0)
		return 0;
	if (unit) {
		snprintf(buf, len, "%.*s", (int)unitlen, unit);
		return 0;
	}
	snprintf(buf, len, "%.*s", (int)lastlen, last);
	return 0;
}
