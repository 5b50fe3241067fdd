// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"

int lp_errf(int e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

__u64 lp_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

double lp_mono_s(void)
{
	return (double)lp_mono_ns() / 1e9;
}

double lp_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int lp_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

int lp_parse_duration_ns(const char *s, __u64 *ns)
{
	static const struct {
		const char *suffix;
		__u64 scale;
	} units[] = {
		{"ns", 1ULL},	      {"us", 1000ULL},	     {"ms", 1000000ULL},
		{"s", 1000000000ULL}, {"m", 60000000000ULL}, {"h", 3600000000000ULL},
		{"", 1000000000ULL},
	};
	__u64 ip = 0, frac = 0, fdiv = 1, scale = 0, r;
	const char *p = s;
	bool digits = false;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (ip > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		ip = ip * 10 + (__u64)(*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (fdiv > UINT64_MAX / 100)
				return -EINVAL; /* more digits than any unit can use */
			frac = frac * 10 + (__u64)(*p - '0');
			fdiv *= 10;
		}
	}
	if (!digits)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(p, units[i].suffix)) {
			scale = units[i].scale;
			break;
		}
	}
	if (!scale)
		return -EINVAL;
	if (ip > UINT64_MAX / scale)
		return -EINVAL;
	r = ip * scale;
	/* the fraction must come out as whole ns: frac * scale divisible by fdiv */
	if (frac) {
		unsigned __int128 f = (unsigned __int128)frac * scale;

		if (f % fdiv)
			return -EINVAL;
		f /= fdiv;
		if (f > UINT64_MAX - r)
			return -EINVAL;
		r += (__u64)f;
	}
	*ns = r;
	return 0;
}

int lp_read_secret(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(out, 1, len - 1, f);
	fclose(f);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -ENODATA;
}

void lp_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

int lp_parse_u32(const char *s, __u32 min, __u32 max, __u32 *v)
{
	unsigned long long x;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -EINVAL;
	*v = (__u32)x;
	return 0;
}
