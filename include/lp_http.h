/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x message framing (RFC 9112 section 6): where does a message's head
 * end, how long is its body, and where do the chunk-size lines of a chunked
 * body sit?
 *
 * Used by: include/lp_conn.h (the per-connection state machine, and through
 * it bpf/latprobe.bpf.c) and tests/unit/test_http.c, tests/fuzz/fuzz_classify.c.
 * Pure functions over a buffer: they never read p[i] for i >= n, allocate
 * nothing, and have only loops with constant bounds, so the BPF verifier
 * accepts them as they are. Only heads and chunk-size lines are read; body
 * bytes are skipped by the caller with sequence arithmetic.
 */
#ifndef LP_HTTP_H
#define LP_HTTP_H

#include <linux/types.h>
#include "latprobe.h"

/*
 * The most bytes of one segment read at once (a power of two: indices are
 * masked with LP_WIN - 1 for the verifier). A head whose blank line is not in
 * the first LP_WIN bytes of its segment cannot be framed; the message is
 * then timed as unframed (and counted).
 */
#define LP_WIN	      1024
#ifndef LP_HEAD_FIRST
#define LP_HEAD_FIRST 256 /* the first read of a head; the whole window only if needed */
#endif
#define LP_CHUNK_READ 32  /* bytes read at a chunk-size line or trailer */

/* lp_head.flags */
#define LP_HF_LENGTH  0x1 /* a valid Content-Length */
#define LP_HF_TE      0x2 /* Transfer-Encoding present */
#define LP_HF_CHUNKED 0x4 /* ... and its final coding is chunked */
#define LP_HF_UNSURE  0x8 /* a framing header we cannot trust: differing lengths, bad digits */
#define LP_HF_H2C     0x10 /* Upgrade offers h2c (RFC 7540 3.2): a 101 makes the connection HTTP/2 */

struct lp_head {
	__u64 length; /* Content-Length, with LP_HF_LENGTH */
	__u32 len;    /* bytes of the head, blank line included */
	__u32 flags;
	__u32 host_at;	/* the first Host header's value: [host_at, host_end), */
	__u32 host_end; /* host_end its line's LF; 0: no Host line read */
};

enum lp_head_result {
	LP_HEAD_DONE = 0,  /* the blank line was found: h is filled */
	LP_HEAD_MORE = -2, /* no blank line in the n bytes given */
};

/* 0x80 in each byte of x that is zero, and nowhere else (no false positives) */
static __always_inline __u64 lp_zero_bytes(__u64 x)
{
	const __u64 low7 = 0x7f7f7f7f7f7f7f7fULL;

	return ~(((x & low7) + low7) | x | low7);
}

/* bytes of y (each below 0x80) at or above c (1..128): 0x80 in each */
#define LP_GE(y, c) (((y) + (0x80 - (c)) * 0x0101010101010101ULL) & 0x8080808080808080ULL)

/* index 0..7 of the lowest byte flagged 0x80 in m (m != 0); no ctz in BPF */
static __always_inline __u32 lp_lowest_byte(__u64 m)
{
	__u64 low = (m & -m) >> 7; /* 1 << 8k */

	return (__u32)((low * 0x0001020304050607ULL) >> 56);
}

static __always_inline __u8 lp_lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* bytes p[at..at+8), the part below n only (the rest zero): never reads past n */
static __always_inline __u64 lp_load_word(const __u8 *p, __u32 at, __u32 n)
{
	__u64 x = 0;
	__u32 i;

	if (at + 8 <= n) {
		__builtin_memcpy(&x, p + (at & (LP_WIN - 1)), 8);
		return x;
	}
	for (i = 0; i < 8; i++)
		if (at + i < n)
			x |= (__u64)p[(at + i) & (LP_WIN - 1)] << (8 * i);
	return x;
}

/*
 * LP_HEAD_UWORD(p, at, n): lp_load_word at any offset. The kernel side
 * defines it to one unaligned load from its window and a mask.
 */
#ifndef LP_HEAD_UWORD
#define LP_HEAD_UWORD(p, at, n) lp_load_word(p, at, n)
#endif

/*
 * Bytes k..k+8 of the token tok (len bytes) as a little-endian word: its
 * bytes (fold 0), or 0x20 where they are lowercase letters (fold 1). With
 * constant arguments the compiler folds this to a constant.
 */
static __always_inline __u64 lp_tok_word(const char *tok, __u32 len, __u32 k, int fold)
{
	__u64 x = 0;
	__u32 i;

	for (i = 0; i < 8 && k + i < len; i++) {
		__u8 c = (__u8)tok[k + i];

		x |= (__u64)(fold ? (c >= 'a' && c <= 'z' ? 0x20 : 0) : c) << (8 * i);
	}
	return x;
}

/*
 * p[at..at+len) (at + len <= n) equals the lowercase token tok, letters
 * compared without case: eight bytes at a time, a letter's 0x20 bit set
 * before comparing (which maps only 'A'..'Z' onto 'a'..'z' there).
 */
static __always_inline int lp_match_ci(const __u8 *p, __u32 at, __u32 n, const char *tok, __u32 len)
{
	__u32 k;

	for (k = 0; k < len && k < 24; k += 8) {
		__u64 mask = len - k >= 8 ? ~0ULL : (1ULL << (8 * (len - k))) - 1;

		if (((LP_HEAD_UWORD(p, at + k, n) | lp_tok_word(tok, len, k, 1)) & mask) !=
		    lp_tok_word(tok, len, k, 0))
			return 0;
	}
	return 1;
}

static __always_inline int lp_is_ows(__u8 c)
{
	return c == ' ' || c == '\t';
}

/*
 * Content-Length value in p[at..end): digits between optional whitespace.
 * Three short loops one after the other (not one loop with a state): the
 * verifier's work stays the sum of the three, not their product.
 */
static __always_inline void lp_head_length(const __u8 *p, __u32 at, __u32 end, struct lp_head *h)
{
	__u32 i, j, k = at;
	__u64 v = 0;
	__u8 c;

	for (i = 0; i < 8; i++) {
		if (k >= end || !lp_is_ows(p[k & (LP_WIN - 1)]))
			break;
		k++;
	}
	for (i = 0; i < 19; i++) {
		if (k >= end)
			break;
		c = p[k & (LP_WIN - 1)];
		if (c < '0' || c > '9')
			break;
		v = v * 10 + (c - '0');
		k++;
	}
	for (j = 0; j < 8; j++) {
		if (k >= end)
			break;
		c = p[k & (LP_WIN - 1)];
		if (!lp_is_ows(c) && c != '\r')
			break;
		k++;
	}
	/* no digits, too many, or something else ("5, 5", a sign): not a length we trust */
	if (i == 0 || i == 19 || k != end) {
		h->flags |= LP_HF_UNSURE;
		return;
	}
	if ((h->flags & LP_HF_LENGTH) && h->length != v)
		h->flags |= LP_HF_UNSURE;
	h->flags |= LP_HF_LENGTH;
	h->length = v;
}

/* Transfer-Encoding value in p[at..end): is its last coding "chunked"? */
static __always_inline void lp_head_te(const __u8 *p, __u32 at, __u32 end, struct lp_head *h)
{
	__u32 i, e = end;

	h->flags |= LP_HF_TE;
	h->flags &= ~LP_HF_CHUNKED;
	/* trim CR and whitespace at the end */
	for (i = 0; i < 8; i++) {
		__u8 c;

		if (e <= at)
			break;
		c = p[(e - 1) & (LP_WIN - 1)];
		if (c != '\r' && !lp_is_ows(c))
			break;
		e--;
	}
	if (e < at + 7 || !lp_match_ci(p, e - 7, end, "chunked", 7))
		return;
	if (e - 7 > at) {
		__u8 c = p[(e - 8) & (LP_WIN - 1)];

		if (c != ',' && !lp_is_ows(c))
			return; /* "xchunked" */
	}
	h->flags |= LP_HF_CHUNKED;
}

#define LP_UPGRADE_SCAN 64 /* bytes of an Upgrade value searched for the token h2c */

/*
 * Upgrade value in p[at..end): is h2c one of its protocols (a token of its
 * list)? The bytes go through a five-byte window, separators (comma,
 * whitespace, CR, the value's ends) all made ',': ",h2c," is the token.
 */
static __always_inline void lp_head_upgrade(const __u8 *p, __u32 at, __u32 end, struct lp_head *h)
{
	const __u64 tok = (__u64)',' << 32 | (__u64)'h' << 24 | '2' << 16 | 'c' << 8 | ',';
	__u64 w = ',';
	__u32 i, k;
	__u8 c;

	for (i = 0; i < LP_UPGRADE_SCAN; i++) {
		k = at + i;
		c = k < end ? lp_lower(p[k & (LP_WIN - 1)]) : ',';
		if (c == '\r' || c == ' ' || c == '\t')
			c = ',';
		w = (w << 8 | c) & 0xffffffffffULL;
		if (w == tok) {
			h->flags |= LP_HF_H2C;
			return;
		}
		if (k >= end)
			return;
	}
}

/*
 * The kernel side defines LP_HEAD_UPGRADE to a BPF global function: the
 * scan is verified once, not inside every line of a head's.
 */
#ifndef LP_HEAD_UPGRADE
#define LP_HEAD_UPGRADE(p, at, end, h) lp_head_upgrade(p, at, end, h)
#endif

/*
 * One line p[ls..nl) after the start line, nl the index of its LF: 1 when
 * it is the blank line that ends the head, else 0 (and h notes its header).
 */
static __always_inline int lp_head_line(const __u8 *p, __u32 ls, __u32 nl, struct lp_head *h)
{
	__u8 c;

	if (nl == ls || (nl == ls + 1 && p[ls & (LP_WIN - 1)] == '\r'))
		return 1;
	c = lp_lower(p[ls & (LP_WIN - 1)]);
	if (c == 'c' && nl - ls >= 15 && lp_match_ci(p, ls, nl, "content-length:", 15))
		lp_head_length(p, ls + 15, nl, h);
	else if (c == 't' && nl - ls >= 18 && lp_match_ci(p, ls, nl, "transfer-encoding:", 18))
		lp_head_te(p, ls + 18, nl, h);
	else if (c == 'u' && nl - ls >= 8 && lp_match_ci(p, ls, nl, "upgrade:", 8))
		LP_HEAD_UPGRADE(p, ls + 8, nl, h);
	else if (c == 'h' && nl - ls >= 5 && !h->host_end && lp_match_ci(p, ls, nl, "host:", 5)) {
		h->host_at = ls + 5;
		h->host_end = nl;
	}
	return 0;
}

/*
 * LP_HEAD_WORD(p, at, n): lp_load_word at an 8-byte aligned at. The kernel
 * side defines it to one aligned load from its window (which has room for
 * the whole word) and a mask: the compiler cannot know the alignment and
 * would read a word as eight single bytes.
 */
#ifndef LP_HEAD_WORD
#define LP_HEAD_WORD(p, at, n) lp_load_word(p, at, n)
#endif

/* Progress of a head scan. */
struct lp_scan {
	__u32 ls;    /* start of the current line */
	__u32 n;     /* bytes in the buffer */
	__u32 first; /* the current line is the start line */
	__u32 pad;
};

#define LP_HEAD_LINES 128 /* lines of a head scanned at most (start line included) */

/*
 * Find the LF that ends the line at st->ls (eight bytes at a time) and take
 * the line in. Returns 0 to go on, 1 when it was the blank line (h->len
 * set), -1 when there is no LF in the n bytes.
 */
static __always_inline int lp_head_step(const __u8 *p, struct lp_scan *st, struct lp_head *h)
{
	const __u64 lf = 0x0a0a0a0a0a0a0a0aULL;
	__u32 w, ls = st->ls, n = st->n, base = ls & ~7u, nl;
	__u64 m = 0;

	if (n > LP_WIN || base >= n)
		return -1;
	m = lp_zero_bytes(LP_HEAD_WORD(p, base, n) ^ lf);
	if (base + 8 > n)
		m &= (1ULL << (8 * (n - base))) - 1; /* the zero fill is no LF */
	m &= ~0ULL << (8 * (ls - base));	     /* bytes before the line */
	for (w = 0; w < LP_WIN / 8; w++) {
		if (m)
			break;
		base += 8;
		if (base >= n)
			return -1;
		m = lp_zero_bytes(LP_HEAD_WORD(p, base, n) ^ lf);
		if (base + 8 > n)
			m &= (1ULL << (8 * (n - base))) - 1;
	}
	if (!m)
		return -1;
	nl = base + lp_lowest_byte(m);
	st->ls = nl + 1;
	if (st->first) {
		st->first = 0;
		return 0;
	}
	if (lp_head_line(p, ls, nl, h)) {
		h->len = nl + 1;
		return 1;
	}
	return 0;
}

/*
 * The kernel side defines LP_HEAD_STEP to a BPF global function around
 * lp_head_step: verified once, so the verifier's work stays linear in the
 * number of lines (several lines per call exceed its limit).
 */
#ifndef LP_HEAD_STEP
#define LP_HEAD_STEP(p, st, h) lp_head_step(p, st, h)
#endif

/*
 * Scan the head that starts at p[0] (its start line first) for its blank line
 * and the headers that frame its body. n <= LP_WIN; p is 8-byte aligned.
 * Returns LP_HEAD_DONE with h filled, or LP_HEAD_MORE when the blank line is
 * not within the n bytes (or the first LP_HEAD_LINES lines). Bare LF line
 * ends are accepted (RFC 9112 2.2).
 */
static __always_inline int lp_head_scan(const __u8 *p, __u32 n, struct lp_head *h)
{
	struct lp_scan st = { .ls = 0, .n = n, .first = 1 };
	__u32 i;
	int r;

	h->length = 0;
	h->len = 0;
	h->flags = 0;
	h->host_at = 0;
	h->host_end = 0;
	for (i = 0; i < LP_HEAD_LINES; i++) {
		r = LP_HEAD_STEP(p, &st, h);
		if (r > 0)
			return LP_HEAD_DONE;
		if (r < 0)
			break;
	}
	return LP_HEAD_MORE;
}

/*
 * Chunked body (RFC 9112 7.1), read one byte at a time where it is not data:
 * chunk-size [; ext] CRLF, data, CRLF, ..., "0" CRLF, trailer lines, CRLF.
 * Data is skipped by the caller; bare LF is accepted as for heads.
 */
enum lp_chunk {
	LP_CH_SIZE0 = 0, /* the first hex digit of a chunk size */
	LP_CH_SIZE,	 /* more hex digits, or the end of the size */
	LP_CH_EXT,	 /* a chunk extension, up to LF */
	LP_CH_LF,	 /* CR seen after the size: LF */
	LP_CH_DATA,	 /* chunk data: skipped to lp_framer.end by the caller */
	LP_CH_DCR,	 /* after data: CR */
	LP_CH_DLF,	 /* after data and CR: LF */
	LP_CH_TBOL,	 /* start of a trailer line (or the final CRLF) */
	LP_CH_TLINE,	 /* inside a trailer line */
	LP_CH_TLF,	 /* CR at the start of a line: LF ends the body */
};

enum lp_chunk_result {
	LP_CHR_MORE = 0, /* window used up: continue at the next byte */
	LP_CHR_DATA,	 /* a chunk's data starts after *used bytes: skip acc bytes */
	LP_CHR_END,	 /* the body ends after *used bytes */
	LP_CHR_BAD,	 /* not chunked framing */
};

#define LP_CHUNK_MAX (1ULL << 56) /* a larger chunk size is not believed */

static __always_inline int lp_hexval(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* the end of a chunk-size line: its data follows, or the last chunk's trailers */
static __always_inline int lp_chunk_size_done(__u8 *st, __u64 acc)
{
	if (acc == 0) {
		*st = LP_CH_TBOL;
		return LP_CHR_MORE;
	}
	*st = LP_CH_DATA;
	return LP_CHR_DATA;
}

/* a chunk-size line's byte c (LP_CH_SIZE0, LP_CH_SIZE, LP_CH_EXT, LP_CH_LF) */
static __always_inline int lp_chunk_size_step(__u8 *st, __u64 *acc, __u8 c)
{
	int v;

	switch (*st) {
	case LP_CH_SIZE0:
	case LP_CH_SIZE:
		v = lp_hexval(c);
		if (v >= 0) {
			if (*st == LP_CH_SIZE0)
				*acc = 0;
			if (*acc >= LP_CHUNK_MAX >> 4)
				return LP_CHR_BAD;
			*acc = (*acc << 4) | (__u64)v;
			*st = LP_CH_SIZE;
		} else if (*st == LP_CH_SIZE0) {
			return LP_CHR_BAD;
		} else if (c == ';' || lp_is_ows(c)) {
			*st = LP_CH_EXT;
		} else if (c == '\r') {
			*st = LP_CH_LF;
		} else if (c == '\n') {
			return lp_chunk_size_done(st, *acc);
		} else {
			return LP_CHR_BAD;
		}
		return LP_CHR_MORE;
	case LP_CH_EXT:
		return c == '\n' ? lp_chunk_size_done(st, *acc) : LP_CHR_MORE;
	default: /* LP_CH_LF */
		return c == '\n' ? lp_chunk_size_done(st, *acc) : LP_CHR_BAD;
	}
}

/*
 * One byte c of a chunked body's framing at state *st: LP_CHR_MORE to go
 * on, else the result, this byte included (LP_CHR_DATA: the chunk's data
 * follows it; LP_CHR_END: it ended the body).
 */
static __always_inline int lp_chunk_step(__u8 *st, __u64 *acc, __u8 c)
{
	switch (*st) {
	case LP_CH_SIZE0:
	case LP_CH_SIZE:
	case LP_CH_EXT:
	case LP_CH_LF:
		return lp_chunk_size_step(st, acc, c);
	case LP_CH_DCR:
		if (c == '\r')
			*st = LP_CH_DLF;
		else if (c == '\n')
			*st = LP_CH_SIZE0;
		else
			return LP_CHR_BAD;
		return LP_CHR_MORE;
	case LP_CH_DLF:
		if (c != '\n')
			return LP_CHR_BAD;
		*st = LP_CH_SIZE0;
		return LP_CHR_MORE;
	case LP_CH_TBOL:
		if (c == '\r')
			*st = LP_CH_TLF;
		else if (c == '\n')
			return LP_CHR_END;
		else
			*st = LP_CH_TLINE;
		return LP_CHR_MORE;
	case LP_CH_TLINE:
		if (c == '\n')
			*st = LP_CH_TBOL;
		return LP_CHR_MORE;
	case LP_CH_TLF:
		return c == '\n' ? LP_CHR_END : LP_CHR_BAD;
	default: /* LP_CH_DATA: the caller skips data */
		return LP_CHR_BAD;
	}
}

/*
 * Feed p[0..n) (n <= LP_CHUNK_READ) to the chunk parser in state *st, with
 * the size read so far in *acc. Sets *used to the bytes consumed.
 */
static __always_inline int lp_chunk_feed(__u8 *st, __u64 *acc, const __u8 *p, __u32 n,
					 __u32 *used)
{
	__u32 i;
	int res;

	for (i = 0; i < LP_CHUNK_READ; i++) {
		if (i >= n)
			break;
		res = lp_chunk_step(st, acc, p[i]);
		if (res == LP_CHR_BAD)
			return res;
		if (res != LP_CHR_MORE) {
			*used = i + 1;
			return res;
		}
	}
	*used = i;
	return LP_CHR_MORE;
}

#endif /* LP_HTTP_H */
