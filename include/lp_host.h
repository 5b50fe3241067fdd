/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The host a client's request names (its Host header, RFC 9110 7.2), as
 * the key --client-address host numbers it by: the name lowercase, without
 * its port, zero-filled to LP_HOST_LEN bytes.
 *
 * Only a host name is taken: letters, digits, '-', '.' and '_', 63 bytes at
 * most, ended by the port's ':', whitespace or the line's end. Anything
 * else (an IP literal in brackets, a percent-encoded or non-ASCII byte, a
 * list, a name too long) is no name: the caller names the series by the
 * address called instead. What follows the name is not read: it labels
 * nothing.
 *
 * HTTP/2's :authority (RFC 9113 8.3.1) is the same: a host and a port,
 * taken by the same rule once HPACK gave its bytes (include/lp_h2_route.h).
 *
 * Used by include/lp_h1.h (through LP_REQ_HOST, which the kernel side
 * defines to its "hosts" map's numbering), lp_h2_route.h,
 * tests/unit/test_host.c and tests/fuzz. Pure: no helpers, no maps; eight
 * bytes at a time with no branch on a byte, so the verifier walks its loop
 * once.
 */
#ifndef LP_HOST_H
#define LP_HOST_H

#include <linux/types.h>
#include "latprobe.h"
#include "lp_http.h"

/*
 * LP_HOST_LOAD(p): eight bytes at p, any alignment. The kernel side
 * defines it to one load (the compiler would read eight single bytes).
 */
#ifndef LP_HOST_LOAD
static __always_inline __u64 lp_host_load(const __u8 *p)
{
	__u64 x;

	__builtin_memcpy(&x, p, 8);
	return x;
}
#define LP_HOST_LOAD(p) lp_host_load(p)
#endif

/* bytes of x equal to c (below 0x80): 0x80 in each; y is x without its high bits */
#define LP_EQ(x, y, c) (LP_GE(y, c) & ~LP_GE(y, (c) + 1) & ~((x)&0x8080808080808080ULL))

/*
 * The name rule on a key k that holds a value's first bytes (zero past
 * them): lowercase, ended by its first ':', whitespace or zero, zeros
 * after. Returns the name's length (1..LP_HOST_LEN - 1), 0 when the bytes
 * hold no host name (k is then undefined). In place, eight bytes at a
 * time with no branch on a byte.
 */
static __always_inline __u32 lp_host_key_name(struct lp_host_key *k)
{
	const __u64 high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
	__u64 x, y, stop, ok, before, bad = 0, done = 0;
	__u32 w, len = 0;

	for (w = 0; w < LP_HOST_LEN / 8; w++) {
		x = k->w[w];
		y = x & ~high;
		x |= (LP_GE(y, 'A') & ~LP_GE(y, 'Z' + 1) & ~(x & high)) >> 2; /* lowercase */
		y = x & ~high;
		stop = LP_EQ(x, y, ':') | LP_EQ(x, y, ' ') | LP_EQ(x, y, '\t') | LP_EQ(x, y, '\r') |
		       lp_zero_bytes(x) | done;
		ok = ((LP_GE(y, 'a') & ~LP_GE(y, 'z' + 1)) | (LP_GE(y, '0') & ~LP_GE(y, '9' + 1)) |
		      LP_EQ(x, y, '-') | LP_EQ(x, y, '.') | LP_EQ(x, y, '_')) &
		     ~(x & high);
		before = ((stop & -stop) - 1) & high; /* bytes before the first stop */
		bad |= before & ~ok;
		len += (__u32)((((before >> 7) * ones)) >> 56);
		k->w[w] = x & ((before >> 7) * 0xff);
		done |= ((stop | -stop) >> 63) * high;
	}
	return bad || !done || !len ? 0 : len;
}

/*
 * The Host value p[at, end) (after "host:", up to the line's LF; end <= n,
 * the bytes read) into k: its leading whitespace (a word of it at most)
 * skipped, then lp_host_key_name. Returns the name's length, 0 when the
 * value holds no host name.
 */
static __always_inline __u32 lp_host_name(const __u8 *p, __u32 at, __u32 end, struct lp_host_key *k)
{
	const __u64 high = 0x8080808080808080ULL;
	__u64 x, y, m;
	__u32 w;

	if (at >= end || end > LP_WIN)
		return 0;
	x = LP_HEAD_UWORD(p, at, end);
	y = x & ~high;
	m = ~(LP_EQ(x, y, ' ') | LP_EQ(x, y, '\t')) & high;
	if (!m)
		return 0;
	at += lp_lowest_byte(m);
	for (w = 0; w < LP_HOST_LEN / 8; w++)
		k->w[w] = LP_HEAD_UWORD(p, at + 8 * w, end); /* zero past the line's end */
	return lp_host_key_name(k);
}

/* a byte of a host name as the rule keeps it (lowercase) */
static __always_inline int lp_host_char(__u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/*
 * What the rule makes of any value, checked byte by byte (user space and
 * the tests; the kernel never needs it): len (1..LP_HOST_LEN - 1) name
 * bytes, then zeros.
 */
static __always_inline int lp_host_key_ok(const struct lp_host_key *k, __u32 len)
{
	__u32 i;

	if (!len || len >= LP_HOST_LEN)
		return 0;
	for (i = 0; i < LP_HOST_LEN; i++)
		if (i < len ? !lp_host_char(k->b[i]) : k->b[i] != 0)
			return 0;
	return 1;
}

#endif /* LP_HOST_H */
