/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Routes: which configured path prefix does a request target fall under?
 *
 * Used by: bpf/latprobe.bpf.c (at a request's start: the target's path
 * becomes the key of a longest-prefix-match lookup in the "routes" LPM trie),
 * userspace/base/routes.c (the trie's entries for each --route and
 * --exclude-path), tests/unit/test_route.c and test_conn.c (the same key,
 * matched by lp_route_match_entries, the trie's rule on the host).
 *
 * The key is the path of the target (origin-form "/p?q", or the path of an
 * absolute-form "http://host/p?q"), up to the first byte that cannot be in
 * a path (SP, '?', '#', a control byte), followed by a 0 byte that marks
 * its end. A route "/api/users" is two entries, "/api/users\0" (the path
 * itself) and "/api/users/" (anything under it): it does not match
 * "/api/usersX". A route ending in '/' is the one entry "P/" (P itself and
 * anything under it); a route ending in '*' is the plain prefix before the
 * '*'. A path longer than LP_ROUTE_LEN bytes, or cut by the end of what was
 * read (a request line split across segments), has no end mark: only
 * prefix entries no longer than what was read can match it. Past
 * LP_ROUTE_LEN bytes that is exact (no entry is longer); a path cut by the
 * read shorter than the longest entry is unrouted (lp_route_key), since
 * the unread rest could have matched a longer route. So a request gets its
 * route or "unrouted", never another route. Paths are matched as bytes: no
 * percent-decoding, no folding of "//" or "/./". Absolute-form targets
 * ("http://host/p", "https://host/p", what proxies receive) are matched on
 * their path; other schemes, "*" and "host:port" have no path.
 */
#ifndef LP_ROUTE_H
#define LP_ROUTE_H

#include <linux/types.h>
#include "latprobe.h"

#define LP_ROUTE_LEN	128 /* path bytes in a key; a route is at most LP_ROUTE_LEN - 1 bytes */
#define LP_ROUTES_MAX	512 /* distinct route labels */
#define LP_EXCLUDES_MAX 64  /* --exclude-path prefixes */
/* trie entries: at most two per route or exclusion */
#define LP_ROUTE_ENTRIES (2 * (LP_ROUTES_MAX + LP_EXCLUDES_MAX))

/* lp_key.route and lp_sample.route */
#define LP_ROUTE_NONE	  0	 /* no routes configured: the series has no route label */
#define LP_ROUTE_UNROUTED 1	 /* routes configured, the path matched none (or was not read) */
#define LP_ROUTE_UNKNOWN  2	 /* an HTTP/2 :path the agent cannot know (an HPACK reference
				  * to an entry from before it): never a guessed route */
#define LP_ROUTE_FIRST	  3	 /* ids of configured routes: LP_ROUTE_FIRST + index */
#define LP_ROUTE_EXCLUDED 0x8000 /* | index of the --exclude-path: in no histogram */
#define LP_ROUTE_LEARNED  0x4000 /* | slot: a gRPC method learned from an HTTP/2 :path */

/* gRPC methods the kernel learns from traffic at most (--grpc-methods; "grpc_methods" map) */
#define LP_GRPC_METHODS_MAX 1024
#define LP_GRPC_METHODS_DEFAULT 256
_Static_assert(LP_ROUTE_FIRST + LP_ROUTES_MAX < 0x3ffe, "route ids below the learned ones");
_Static_assert(LP_GRPC_METHODS_MAX <= LP_ROUTE_LEARNED, "a slot fits beside the learned bit");

struct lp_route_key {
	__u32 prefixlen; /* bits: 8 x (path bytes + the end mark, if the end was seen) */
	__u8 path[LP_ROUTE_LEN];
};

struct lp_route_val {
	__u16 id; /* LP_ROUTE_FIRST + route, or LP_ROUTE_EXCLUDED | exclusion */
	__u16 pad;
};

/*
 * Bytes of x that end a path (0x80 in each): below 0x21 (SP, controls), '?'
 * and '#'. Exact per byte, no carries between bytes.
 */
static __always_inline __u64 lp_route_stops(__u64 x, int slash_too)
{
	const __u64 low7 = 0x7f7f7f7f7f7f7f7fULL, high = 0x8080808080808080ULL;
	const __u64 q = 0x3f3f3f3f3f3f3f3fULL, hash = 0x2323232323232323ULL;
	const __u64 slash = 0x2f2f2f2f2f2f2f2fULL;
	/* high bit clear and low seven bits below 0x21: adding 0x5f does not reach 0x80 */
	__u64 lt = ~(((x & low7) + 0x5f5f5f5f5f5f5f5fULL) | x) & high;
	__u64 m, y;

	y = x ^ q;
	m = ~(((y & low7) + low7) | y | low7);
	y = x ^ hash;
	m |= ~(((y & low7) + low7) | y | low7);
	if (slash_too) {
		y = x ^ slash;
		m |= ~(((y & low7) + low7) | y | low7);
	}
	return lt | m;
}

/* index 0..7 of the lowest byte flagged 0x80 in m (m != 0) */
static __always_inline __u32 lp_route_lowest(__u64 m)
{
	__u64 low = (m & -m) >> 7;

	return (__u32)((low * 0x0001020304050607ULL) >> 56);
}

/* p is a buffer of LP_ROUTE_BUF bytes at most (indices are masked with LP_ROUTE_BUF - 1) */
#ifndef LP_ROUTE_BUF
#define LP_ROUTE_BUF 1024
#endif

/*
 * LP_ROUTE_WORD(p, at, n): bytes p[at..at+8) as a little-endian word, the
 * bytes at or past n zero. The default reads byte by byte and never past n;
 * the kernel side reads one word from a window with room past its end (a
 * byte-wise read per word makes the verifier's work too large).
 */
#ifndef LP_ROUTE_WORD
#define LP_ROUTE_WORD(p, at, n) lp_route_word(p, at, n)
#endif

static __always_inline __u64 lp_route_word(const __u8 *p, __u32 at, __u32 n)
{
	__u64 x = 0;
	__u32 i;

	for (i = 0; i < 8; i++)
		if (at + i < n)
			x |= (__u64)p[(at + i) & (LP_ROUTE_BUF - 1)] << (8 * i);
	return x;
}

/* the little-endian byte order the words are built in, as stored bytes */
static __always_inline void lp_route_store(__u8 *dst, __u64 x)
{
	__u32 i;

	for (i = 0; i < 8; i++)
		dst[i] = (__u8)(x >> (8 * i));
}

/*
 * Where does the path of the target at p[at] start? Sets *start and returns
 * 1; returns 0 for a target without a path (asterisk-form "*",
 * authority-form "host:port", or an absolute-form cut short before its
 * path), and 2 for an absolute-form target whose path is empty ("http://h"
 * or "http://h?q": the path is "/").
 */
static __always_inline int lp_route_path_start(const __u8 *p, __u32 n, __u32 at, __u32 *start)
{
	__u32 i, k, colon;
	__u64 m = 0;

	if (at >= n)
		return 0;
	if (p[at & (LP_ROUTE_BUF - 1)] == '/') {
		*start = at;
		return 1;
	}
	/*
	 * absolute-form (RFC 9112 3.2.2), what a proxy receives: "http://" or
	 * "https://", the authority, then the path. Other schemes: no path.
	 */
	if (at + 8 > n || (p[at & (LP_ROUTE_BUF - 1)] | 0x20) != 'h' ||
	    (p[(at + 1) & (LP_ROUTE_BUF - 1)] | 0x20) != 't' ||
	    (p[(at + 2) & (LP_ROUTE_BUF - 1)] | 0x20) != 't' ||
	    (p[(at + 3) & (LP_ROUTE_BUF - 1)] | 0x20) != 'p')
		return 0;
	colon = at + 4;
	if ((p[colon & (LP_ROUTE_BUF - 1)] | 0x20) == 's')
		colon++;
	if (p[colon & (LP_ROUTE_BUF - 1)] != ':' || p[(colon + 1) & (LP_ROUTE_BUF - 1)] != '/' ||
	    p[(colon + 2) & (LP_ROUTE_BUF - 1)] != '/')
		return 0;
	/* the authority, to the first '/', '?', '#' or SP (a host name is at most 255 bytes) */
	k = colon + 3;
	for (i = 0; i < 264 / 8; i++) {
		if (k >= n)
			return 0;
		m = lp_route_stops(LP_ROUTE_WORD(p, k, n), 1);
		if (k + 8 > n)
			m &= (1ULL << (8 * (n - k))) - 1; /* the zero fill stops nothing */
		if (m)
			break;
		k += 8;
	}
	if (!m)
		return 0;
	k += lp_route_lowest(m);
	if (p[k & (LP_ROUTE_BUF - 1)] == '/') {
		*start = k;
		return 1;
	}
	return 2;
}

/*
 * Fill the key with the path that starts at p[start] (n bytes in p). Word
 * at a time: at most LP_ROUTE_LEN / 8 steps. Bytes of the key past its
 * prefixlen are not read by the trie and may hold anything.
 */
static __always_inline void lp_route_key_path(const __u8 *p, __u32 n, __u32 start,
					      struct lp_route_key *k)
{
	__u32 w, at, valid, end;
	__u64 x, m;

	for (w = 0; w < LP_ROUTE_LEN / 8; w++) {
		at = start + 8 * w;
		if (at >= n) {
			k->prefixlen = 8 * 8 * w; /* cut by what was read: no end mark */
			return;
		}
		valid = n - at < 8 ? n - at : 8;
		x = LP_ROUTE_WORD(p, at, n);
		m = lp_route_stops(x, 0);
		if (valid < 8)
			m &= (1ULL << (8 * valid)) - 1;
		if (m) {
			end = lp_route_lowest(m);
			/* the path's bytes, then the end mark (0) and zeros */
			x &= end ? ~0ULL >> (64 - 8 * end) : 0;
			lp_route_store(&k->path[(8 * w) & (LP_ROUTE_LEN - 8)], x);
			k->prefixlen = 8 * (8 * w + end + 1);
			return;
		}
		lp_route_store(&k->path[(8 * w) & (LP_ROUTE_LEN - 8)], x);
		if (valid < 8) {
			k->prefixlen = 8 * (8 * w + valid);
			return;
		}
	}
	k->prefixlen = 8 * LP_ROUTE_LEN; /* longer than a key: matched as far as it goes */
}

/*
 * The kernel side defines LP_ROUTE_KEY_PATH to a BPF global function around
 * lp_route_key_path: verified once, not once for every way the path's start
 * was found (the verifier's work would be their product).
 */
#ifndef LP_ROUTE_KEY_PATH
#define LP_ROUTE_KEY_PATH(p, n, start, k) lp_route_key_path(p, n, start, k)
#endif

/*
 * The key of the request target at p[at] (n bytes in p). Returns 0 when the
 * target has no path to match, or when its path was cut by the end of what
 * was read before maxlen bytes (the longest trie entry): a longer route
 * might have matched the rest, so the request is unrouted rather than given
 * a shorter route. A path cut at LP_ROUTE_LEN bytes is matched exactly (no
 * entry is longer).
 */
static __always_inline int lp_route_key(const __u8 *p, __u32 n, __u32 at, __u32 maxlen,
					struct lp_route_key *k)
{
	__u32 start = 0, len;
	int r = lp_route_path_start(p, n, at, &start);

	if (r == 0)
		return 0;
	if (r == 2) {
		k->path[0] = '/';
		k->path[1] = 0;
		k->prefixlen = 16;
		return 1;
	}
	LP_ROUTE_KEY_PATH(p, n, start, k);
	len = k->prefixlen / 8;
	if (len == 0)
		return 0;
	/* no end mark (path bytes are never 0) and shorter than a key: cut by the read */
	if (len < LP_ROUTE_LEN && k->path[(len - 1) & (LP_ROUTE_LEN - 1)] != 0 && len < maxlen)
		return 0;
	return 1;
}

/* the request target's offset: after the method token and its SP */
static __always_inline __u32 lp_route_target_at(__u8 method)
{
	switch (method) {
	case LP_METHOD_GET:
	case LP_METHOD_PUT:
		return 4;
	case LP_METHOD_HEAD:
	case LP_METHOD_POST:
		return 5;
	case LP_METHOD_PATCH:
	case LP_METHOD_TRACE:
		return 6;
	case LP_METHOD_DELETE:
		return 7;
	case LP_METHOD_CONNECT:
	case LP_METHOD_OPTIONS:
		return 8;
	default:
		return 0;
	}
}

/* One trie entry (user space builds them; the host tests match with them). */
struct lp_route_entry {
	struct lp_route_key key;
	struct lp_route_val val;
};

/*
 * The trie's rule, for the host: the entry with the longest prefix that the
 * key starts with (entry prefixlen <= key prefixlen, bytes equal). Returns
 * its id, or LP_ROUTE_UNROUTED.
 */
static inline __u16 lp_route_match_entries(const struct lp_route_entry *e, __u32 ne,
					   const struct lp_route_key *k)
{
	__u32 i, j, best = 0;
	__u16 id = LP_ROUTE_UNROUTED;

	for (i = 0; i < ne; i++) {
		__u32 len = e[i].key.prefixlen;

		if (len > k->prefixlen || len < best || (len == best && best))
			continue;
		for (j = 0; j < len / 8; j++)
			if (e[i].key.path[j] != k->path[j])
				break;
		if (j == len / 8) {
			best = len;
			id = e[i].val.id;
		}
	}
	return id;
}

#endif /* LP_ROUTE_H */
