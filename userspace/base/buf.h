/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A growable byte buffer for response bodies. Out of memory is sticky: check lp_buf_ok(). */
#ifndef LP_BUF_H
#define LP_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct lp_buf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;
};

void lp_buf_free(struct lp_buf *b);
bool lp_buf_ok(const struct lp_buf *b);
void lp_buf_reserve(struct lp_buf *b, size_t extra);
void lp_buf_add(struct lp_buf *b, const void *p, size_t n);
void lp_buf_str(struct lp_buf *b, const char *s);
void lp_buf_printf(struct lp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a double as Prometheus reads it: shortest round-trip form, NaN, +Inf, -Inf */
void lp_buf_double(struct lp_buf *b, double v);
void lp_buf_u64(struct lp_buf *b, unsigned long long v);

/*
 * A name from the system (cgroup path, process or host name) made valid
 * UTF-8 for every output (Prometheus label values, JSON, push formats, the
 * terminal): each byte that is not part of a valid UTF-8 character, each
 * control character (C0, DEL, C1) and each bidirectional format character
 * (U+202A..E, U+2066..9, U+200E/F, U+061C) becomes U+FFFD; the result is cut on a
 * character boundary to fit outlen. Returns its length.
 */
size_t lp_name_clean(const char *in, char *out, size_t outlen);
/* this host's name, cleaned (lp_name_clean) */
void lp_hostname(char *buf, size_t len);

#endif
