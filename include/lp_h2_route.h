/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Routes on HTTP/2 paths: the route key (include/lp_route.h) of a request's
 * :path as HPACK gave it (include/lp_hpack.h), matched against the same
 * --route and --exclude-path entries as an HTTP/1.x request target.
 *
 *  - a literal value is copied, a Huffman-coded one decoded (its first
 *    LP_ROUTE_LEN symbols), into the key; the path ends at the first byte
 *    that ends one in HTTP/1.x too ('?', '#', SP, a control byte) or at the
 *    value's end: the same key, the same rule, the same route;
 *  - the static table's two paths ("/" and "/index.html") are keys of
 *    their own;
 *  - a :path inserted into the dynamic table keeps its route in the entry,
 *    so a reference to it (a client's every call after its first, as gRPC
 *    channels make them) is matched without reading a byte; a reference
 *    the agent cannot resolve (an entry from before it) is
 *    LP_ROUTE_UNKNOWN, never a guessed route.
 *
 * Used by include/lp_h2_frame.h (through LP_ROUTE_H2PATH, which the kernel
 * side defines to its trie's lookup and the host tests to their own
 * table), tests/unit/test_h2.c. Pure: no helpers, no maps.
 */
#ifndef LP_H2_ROUTE_H
#define LP_H2_ROUTE_H

#include <linux/types.h>
#include "lp_hpack.h"
#include "lp_http.h"
#include "lp_host.h"
#include "lp_route.h"

_Static_assert(LP_HUFF_OUT == LP_ROUTE_LEN, "a decoded path fills a route key");

/* the kernel side makes a decoding step into the key a global function */
#ifndef LP_HUFF_PATH_STEP
#define LP_HUFF_PATH_STEP(p, at, len, o, out) lp_huff_chunk_to(p, at, len, o, out)
#endif

/*
 * The first bytes of a literal :path p[at, at + len) (Huffman-coded if
 * huff) into out (2 * LP_ROUTE_LEN bytes of room): how many there are (at
 * most LP_ROUTE_LEN) in *kept, and the path's whole length decoded; or
 * LP_HP_BAD for an invalid Huffman code.
 */
static __always_inline int lp_h2_path_bytes(const __u8 *p, __u32 at, __u32 len, __u8 huff,
					    __u8 *out, struct lp_huff_out *o, __u32 *kept)
{
	__u32 c, off;

	if (!huff) {
		/* word at a time, as an HTTP/1.x target's key (the bytes past the value zero) */
		for (c = 0; c < LP_ROUTE_LEN / 8; c++) {
			if (8 * c >= len)
				break;
			lp_route_store(&out[8 * c], LP_ROUTE_WORD(p, at + 8 * c, at + len));
		}
		*kept = len < LP_ROUTE_LEN ? len : LP_ROUTE_LEN;
		return (int)len;
	}
	o->st = 0;
	o->e = LP_HUFF_END;
	o->k = 0;
	o->q = 0;
	o->fail = 0;
	for (c = 0; c < LP_HP_WIN / LP_HUFF_CHUNK; c++) {
		off = c * LP_HUFF_CHUNK;
		if (off >= len)
			break;
		if (LP_HUFF_PATH_STEP(p, at + off,
				      len - off < LP_HUFF_CHUNK ? len - off : LP_HUFF_CHUNK, o, out))
			return LP_HP_BAD;
	}
	if (!(o->e & LP_HUFF_END))
		return LP_HP_BAD;
	*kept = o->q < LP_ROUTE_LEN ? o->q : LP_ROUTE_LEN;
	return (int)o->k;
}

/*
 * The key of the path whose first kept bytes are in k->path and whose
 * whole length is total: cut at the first byte that ends a path, with the
 * end mark, as lp_route_key_path cuts an HTTP/1.x target. Returns 0 when
 * it is no path to match (empty, "*").
 */
static __always_inline int lp_h2_path_finish(struct lp_route_key *k, __u32 kept, __u32 total)
{
	__u32 w, at, i = kept;
	__u64 x, m;

	if (!kept || k->path[0] != '/')
		return 0;
	/* the first byte that ends a path, eight at a time (lp_route_stops) */
	for (w = 0; w < LP_ROUTE_LEN / 8; w++) {
		at = 8 * w;
		if (at >= kept)
			break;
		__builtin_memcpy(&x, &k->path[at], 8);
		m = lp_route_stops(x, 0);
		if (kept - at < 8)
			m &= (1ULL << (8 * (kept - at))) - 1;
		if (m) {
			i = at + lp_route_lowest(m);
			break;
		}
	}
	if (i < kept || total < LP_ROUTE_LEN) {
		/* the path ends here (a byte that ends it, or the value's end): the end mark */
		k->path[i & (LP_ROUTE_LEN - 1)] = 0;
		k->prefixlen = 8 * (i + 1);
	} else {
		k->prefixlen = 8 * LP_ROUTE_LEN; /* longer than a key: matched as far as it goes */
	}
	return 1;
}

/*
 * The host a request's literal :authority field f names (p[0, n) read),
 * as --client-address host keys it: its first bytes (decoded if
 * Huffman-coded) into out (2 * LP_ROUTE_LEN bytes of room), then k by the
 * Host header's rule (include/lp_host.h). Returns the name's length, 0
 * when it holds no host name or is no valid literal.
 */
static __always_inline __u32 lp_h2_authority(const __u8 *p, __u32 n, const struct lp_hp_field *f,
					     __u8 *out, struct lp_huff_out *o,
					     struct lp_host_key *k)
{
	__u32 kept = 0, w;
	__u64 keep;

	if (!(f->flags & LP_HPF_LITERAL) || !f->vlen || (__u32)f->vat + f->vlen > n)
		return 0;
	if (lp_h2_path_bytes(p, f->vat, f->vlen, (f->flags & LP_HPF_HUFFMAN) != 0, out, o, &kept) <
	    0)
		return 0;
	/* the bytes kept, zero past them (no branch on a byte) */
	for (w = 0; w < LP_HOST_LEN / 8; w++) {
		keep = ~LP_GE(8 * w * 0x0101010101010101ULL + 0x0706050403020100ULL, kept) &
		       0x8080808080808080ULL;
		k->w[w] = LP_HOST_LOAD(&out[8 * w]) & ((keep >> 7) * 0xff);
	}
	return lp_host_key_name(k);
}

/*
 * The route key of the :path field f, of which p[0, n) was read, into k
 * (with 2 * LP_ROUTE_LEN bytes of room from k->path). Returns 1 with k set,
 * 0 when there is nothing to match (no path: "*", an empty value; or a
 * reference with no bytes), LP_HP_BAD for a bad Huffman code.
 */
static __always_inline int lp_h2_path_key(const __u8 *p, __u32 n, const struct lp_hp_field *f,
					  struct lp_route_key *k, struct lp_huff_out *o)
{
	__u32 kept = 0;
	int total;

	if (f->flags & (LP_HPF_ROOT | LP_HPF_INDEX)) {
		/* the static table's "/" and "/index.html" (no string constant: BPF has no room for one) */
		__u32 len = (f->flags & LP_HPF_ROOT) ? 1 : 11;

		lp_route_store(k->path, 0x682e7865646e692fULL);	    /* "/index.h" */
		lp_route_store(k->path + 8, 0x000000000000006c6d74ULL); /* "tml" */
		k->path[len] = 0;
		k->prefixlen = 8 * (len + 1);
		return 1;
	}
	if (!(f->flags & LP_HPF_LITERAL) || (__u32)f->vat + f->vlen > n)
		return 0;
	total = lp_h2_path_bytes(p, f->vat, f->vlen, (f->flags & LP_HPF_HUFFMAN) != 0, k->path, o,
				 &kept);
	if (total < 0)
		return LP_HP_BAD;
	return lp_h2_path_finish(k, kept, (__u32)total);
}

/* a name's first byte: a letter or '_' */
static __always_inline int lp_grpc_ident_start(__u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/*
 * Is the route key k the path of a gRPC method, "/<service>/<method>" as
 * gRPC writes it: a service with a package (letters, digits, '_' and '.',
 * at least one '.', beginning with a letter or '_'), then an identifier
 * (letters, digits, '_', beginning with a letter or '_'), and the path's
 * end (k has its end mark)? Returns the path's length, 0 when it is not
 * one. Such paths are what --grpc-methods learns (bpf/latprobe.bpf.c);
 * anything else a REST path over HTTP/2 could be ("/api/users",
 * "/users/12345") is never learned, so no path's variety becomes series.
 */
static __always_inline __u32 lp_grpc_method_path(const struct lp_route_key *k)
{
	const __u64 high = 0x8080808080808080ULL;
	__u64 x, y, m, id, sl, dot, seen = 0, bad = 0, dots = 0, carry = 0;
	__u32 w, len;

	if (k->prefixlen < 8 * 6 || k->prefixlen > 8 * LP_ROUTE_LEN || k->prefixlen % 8)
		return 0;
	len = k->prefixlen / 8 - 1; /* the end mark is the last byte */
	if (k->path[0] != '/' || k->path[len & (LP_ROUTE_LEN - 1)] ||
	    !lp_grpc_ident_start(k->path[1]))
		return 0;
	/*
	 * Eight bytes at a time to the end mark's word, no branch on a byte
	 * and no index computed from one (the verifier walks the loop once,
	 * its states never forking but to leave it): which bytes are in the
	 * path (1 <= position < len) and what each is. Bad: a byte that is no
	 * name's, a second slash, a dot after the slash or just before it, a
	 * byte after it that cannot begin a name. carry holds the word
	 * before's last byte: 0x80 a slash, 0x40 a dot.
	 */
	for (w = 0; w < LP_ROUTE_LEN / 8; w++) {
		if (8 * w > len) /* past the end mark: nothing more (the exit is the one branch) */
			break;
		__builtin_memcpy(&x, &k->path[8 * w], 8);
		y = 8 * w * 0x0101010101010101ULL + 0x0706050403020100ULL; /* positions */
		m = LP_GE(y, 1) & ~LP_GE(y, len);
		y = x & ~high;
		sl = LP_GE(y, '/') & ~LP_GE(y, '/' + 1) & m;
		dot = LP_GE(y, '.') & ~LP_GE(y, '.' + 1) & m;
		id = (LP_GE(y, 'A') & ~LP_GE(y, 'Z' + 1)) | (LP_GE(y, 'a') & ~LP_GE(y, 'z' + 1)) |
		     (LP_GE(y, '_') & ~LP_GE(y, '_' + 1));
		bad |= (~(id | (LP_GE(y, '0') & ~LP_GE(y, '9' + 1)) | sl | dot) | x) & m;
		bad |= (((sl << 8) | (carry & 0x80)) & ~(id & ~(x & high))) |
		       (sl & ((dot << 8) | ((carry & 0x40) << 1)));
		carry = (sl >> 56) | ((dot >> 56) >> 1);
		y = (sl & -sl) - 1; /* bytes before the word's first slash (every one: none) */
		bad |= (sl & ~(y + 1)) | (sl & seen) | (dot & (~y | seen));
		dots |= dot & y & ~seen;
		seen |= -((sl | -sl) >> 63);
	}
	return bad || !seen || !dots ? 0 : len;
}
/*
 * Zero the bytes of k->path past its end mark (position len): a hash map
 * keyed by the route key hashes them all. No branch on a byte.
 */
static __always_inline void lp_route_key_clear_tail(struct lp_route_key *k, __u32 len)
{
	__u64 x, keep;
	__u32 w;

	for (w = 0; w < LP_ROUTE_LEN / 8; w++) {
		__builtin_memcpy(&x, &k->path[8 * w], 8);
		if (8 * w + 7 <= len) /* the path's own word */
			continue;
		keep = ~LP_GE(8 * w * 0x0101010101010101ULL + 0x0706050403020100ULL, len + 1) &
		       0x8080808080808080ULL;
		x &= (keep >> 7) * 0xff;
		__builtin_memcpy(&k->path[8 * w], &x, 8);
	}
}
#undef LP_GE

/*
 * LP_ROUTE_H2PATH(p, n, f, t): the route id of the :path field f, a
 * literal or a static entry (t: the table, whose scratch a decoding
 * uses). The kernel side defines it to a key built in its window and a
 * lookup in its trie; without routes (and by default here) it is
 * LP_ROUTE_H2 (include/lp_h2.h), as every HTTP/2 request's route.
 */
#ifndef LP_ROUTE_H2PATH
#define LP_ROUTE_H2PATH(p, n, f, t) ((void)(p), (void)(n), (void)(f), (void)(t), LP_ROUTE_H2)
#endif
/*
 * LP_H2_PATHS: are requests' :path fields looked at (routes, or gRPC
 * methods learned)? The kernel side says so from its settings.
 */
#ifndef LP_H2_PATHS
#define LP_H2_PATHS (LP_ROUTE_H2 != LP_ROUTE_NONE)
#endif

#endif /* LP_H2_ROUTE_H */
