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

#endif
