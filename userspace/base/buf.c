// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"

void lp_buf_free(struct lp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

bool lp_buf_ok(const struct lp_buf *b)
{
	return !b->oom;
}

void lp_buf_reserve(struct lp_buf *b, size_t extra)
{
	size_t cap;
	char *n;

	if (b->oom || b->len + extra + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra + 1)
		cap *= 2;
	n = realloc(b->data, cap);
	if (!n) {
		b->oom = true;
		return;
	}
	b->data = n;
	b->cap = cap;
}

void lp_buf_add(struct lp_buf *b, const void *p, size_t n)
{
	lp_buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void lp_buf_str(struct lp_buf *b, const char *s)
{
	lp_buf_add(b, s, strlen(s));
}

void lp_buf_printf(struct lp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	lp_buf_reserve(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void lp_buf_double(struct lp_buf *b, double v)
{
	char s[40];

	if (isnan(v)) {
		lp_buf_str(b, "NaN");
		return;
	}
	if (isinf(v)) {
		lp_buf_str(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		if (v < 0) {
			lp_buf_add(b, "-", 1);
			v = -v;
		}
		lp_buf_u64(b, (unsigned long long)v);
		return;
	}
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	lp_buf_str(b, s);
}

void lp_buf_u64(struct lp_buf *b, unsigned long long v)
{
	char s[24], *p = s + sizeof(s);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	lp_buf_add(b, p, (size_t)(s + sizeof(s) - p));
}

size_t lp_name_clean(const char *in, char *out, size_t outlen)
{
	static const char fffd[] = "\xef\xbf\xbd"; /* U+FFFD REPLACEMENT CHARACTER */
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (!outlen)
		return 0;
	while (*s) {
		unsigned c = s[0], cp, n, i;

		if (c < 0x80) {
			n = 1;
			cp = c;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			n = 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
			cp = 0;
		}
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80) {
				n = 0; /* cut short (the NUL ends it too) */
				break;
			}
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF: not UTF-8, byte by byte */
		if (n && ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
			  (cp >= 0xd800 && cp <= 0xdfff)))
			n = 0;
		/*
		 * a control character (C0, DEL, C1), or a bidirectional format
		 * character (a name that reads backwards on a dashboard), valid
		 * UTF-8: one U+FFFD for it
		 */
		if (n && (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
			  (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
			  cp == 0x200e || cp == 0x200f || cp == 0x061c)) {
			if (o + 3 >= outlen)
				break;
			memcpy(out + o, fffd, 3);
			o += 3;
			s += n;
			continue;
		}
		if (n) {
			if (o + n >= outlen)
				break;
			memcpy(out + o, s, n);
			o += n;
			s += n;
		} else {
			if (o + 3 >= outlen)
				break;
			memcpy(out + o, fffd, 3);
			o += 3;
			s++;
		}
	}
	out[o] = '\0';
	return o;
}

void lp_hostname(char *buf, size_t len)
{
	char raw[256] = "";

	/* sethostname() takes any bytes: cleaned like every name that enters */
	gethostname(raw, sizeof(raw) - 1);
	lp_name_clean(raw, buf, len);
}
