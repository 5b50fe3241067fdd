/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The bottom layer's small helpers, one copy each: the error convention,
 * clocks, durations, secret files.
 *
 * The error convention, everywhere in user space: a function that can fail
 * returns 0 or a negative errno, and writes one line saying what failed
 * (naming the flag, file or value) into the caller's err buffer. lp_errf
 * writes that line and returns the errno, so "return lp_errf(-EINVAL, err,
 * errlen, ...)" is one statement. Functions returning a pointer return NULL
 * on failure with the same err buffer.
 */
#ifndef LP_UTIL_H
#define LP_UTIL_H

#include <stddef.h>
#include <linux/types.h>

int lp_errf(int e, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* CLOCK_MONOTONIC in ns and in seconds; CLOCK_REALTIME in seconds */
__u64 lp_mono_ns(void);
double lp_mono_s(void);
double lp_wall_s(void);

/* Parse a duration: "250us", "10ms", "1.5s", "2m", "1h", or plain seconds ("0.01").
 * Exact in ns; returns -EINVAL for garbage, a negative value, sub-ns precision or overflow. */
int lp_parse_duration_ns(const char *s, __u64 *ns);

/* The first line of a file holding a secret (user:password, a token); -errno,
 * -ENODATA if empty. */
int lp_read_secret(const char *path, char *out, size_t len);

/*
 * Before parsing another argv with getopt: optind = 0, not 1, so glibc also
 * forgets its position inside a group of short options of a previous argv
 * (found by the fuzzer: a use after free), and no error printing.
 */
void lp_getopt_reset(void);

/* a decimal in [min, max] (digits only, no sign): 0 and *v, or -EINVAL */
int lp_parse_u32(const char *s, __u32 min, __u32 max, __u32 *v);

/* copy src into dst[len]; -ENAMETOOLONG if it does not fit (dst untouched) */
int lp_copy(char *dst, size_t len, const char *src);

#endif
