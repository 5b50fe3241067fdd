/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x start classifier: is this TCP payload the start of a request, of a
 * response, possibly one of them but cut short, or neither?
 *
 * Used by: bpf/latprobe.bpf.c (on the first LP_CLASSIFY_BYTES of a segment)
 * and tests/unit/test_classify.c, tests/fuzz/fuzz_classify.c. A pure function
 * over a buffer: it never reads p[i] for i >= n, allocates nothing, and has
 * only loops with constant bounds, so the BPF verifier accepts it as is.
 */
#ifndef LP_CLASSIFY_H
#define LP_CLASSIFY_H

#include <linux/types.h>
#include "latprobe.h"

/* enough for "OPTIONS /" and "HTTP/1.1 200 " */
#define LP_CLASSIFY_BYTES 16

/* A result is one of NONE, REQUEST, RESPONSE, or a non-empty set of PARTIAL_* bits. */
enum lp_class {
	LP_CLASS_NONE = 0,	    /* neither: body bytes, another protocol, garbage */
	LP_CLASS_REQUEST = 1,	    /* method token, SP, first byte of the target */
	LP_CLASS_RESPONSE = 2,	    /* "HTTP/1.0 " or "HTTP/1.1 ", status 100..599, SP or CR */
	LP_CLASS_PARTIAL_REQ = 4, /* a proper prefix of a request start ("GE", "GET ") */
	LP_CLASS_PARTIAL_RSP = 8, /* a proper prefix of a response start ("HTTP/1.1 20") */
	LP_CLASS_H2 = 16,	  /* the HTTP/2 client preface ("PRI * HTTP/2.0\r\n") */
	LP_CLASS_PARTIAL_H2 = 32, /* a proper prefix of it, two bytes or more ("PR") */
	LP_CLASS_H2_FRAME = 64,	  /* an HTTP/2 HEADERS frame header of a client's stream:
				   * a connection met mid-stream, on probation (lp_h2.h) */
};

enum lp_match {
	LP_MATCH_NO = 0,
	LP_MATCH_PARTIAL,
	LP_MATCH_YES,
};

/* Compare p[0..n) with tok[0..len): YES if all of tok matches, PARTIAL if p ends first. */
static __always_inline int lp_match_token(const __u8 *p, __u32 n, const char *tok, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++) {
		if (i >= n)
			return LP_MATCH_PARTIAL;
		if (p[i] != (__u8)tok[i])
			return LP_MATCH_NO;
	}
	return LP_MATCH_YES;
}

/* A request target starts with a visible US-ASCII character ("/", "*", "http:", a host). */
static __always_inline int lp_is_target_start(__u8 c)
{
	return c > 0x20 && c < 0x7f;
}

/*
 * Method token + SP + target start. Returns LP_MATCH_* and sets *method on YES.
 * The byte after the SP is required: "GET " alone is only PARTIAL.
 */
static __always_inline int lp_match_method(const __u8 *p, __u32 n, const char *tok, __u32 len,
					   __u8 m, __u8 *method)
{
	int r = lp_match_token(p, n, tok, len);

	if (r != LP_MATCH_YES)
		return r;
	if (n <= len)
		return LP_MATCH_PARTIAL;
	if (p[len] != ' ')
		return LP_MATCH_NO;
	if (n <= len + 1)
		return LP_MATCH_PARTIAL;
	if (!lp_is_target_start(p[len + 1]))
		return LP_MATCH_NO;
	*method = m;
	return LP_MATCH_YES;
}

static __always_inline int lp_is_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/1.x NNN" followed by SP or CR; sets *status on YES. */
static __always_inline int lp_match_status_line(const __u8 *p, __u32 n, __u16 *status)
{
	int r = lp_match_token(p, n, "HTTP/1.", 7);
	__u32 i;

	if (r != LP_MATCH_YES)
		return r;
	if (n <= 7)
		return LP_MATCH_PARTIAL;
	if (p[7] != '0' && p[7] != '1')
		return LP_MATCH_NO;
	if (n <= 8)
		return LP_MATCH_PARTIAL;
	if (p[8] != ' ')
		return LP_MATCH_NO;
	for (i = 9; i < 12; i++) {
		if (n <= i)
			return LP_MATCH_PARTIAL;
		if (!lp_is_digit(p[i]))
			return LP_MATCH_NO;
	}
	if (p[9] < '1' || p[9] > '5')
		return LP_MATCH_NO;
	if (n <= 12)
		return LP_MATCH_PARTIAL;
	if (p[12] != ' ' && p[12] != '\r')
		return LP_MATCH_NO;
	*status = (__u16)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	return LP_MATCH_YES;
}

/*
 * The header of an HTTP/2 HEADERS frame that could begin a request: a
 * length from 1 to 16384 (SETTINGS_MAX_FRAME_SIZE's default), flags HEADERS
 * defines (END_STREAM, END_HEADERS, PADDED, PRIORITY), an odd (client's)
 * stream id. Only a sign: the header block must then prove it (lp_h2.h).
 */
static __always_inline int lp_match_h2_headers(const __u8 *p, __u32 n)
{
	__u32 len;

	if (n < 9)
		return LP_MATCH_NO;
	len = (__u32)p[1] << 8 | p[2];
	if (p[0] != 0 || len == 0 || len > 16384 || p[3] != 1 || (p[4] & ~0x2d) ||
	    (p[5] & 0x80) || !(p[8] & 1))
		return LP_MATCH_NO;
	return LP_MATCH_YES;
}

/* Fold one candidate's answer into the running verdict. */
#define LP_CLASSIFY_TRY(expr, yes_class, partial_bit)                                              \
	do {                                                                                       \
		int __r = (expr);                                                                  \
		if (__r == LP_MATCH_YES)                                                           \
			return (yes_class);                                                        \
		if (__r == LP_MATCH_PARTIAL)                                                       \
			partial |= (partial_bit);                                                  \
	} while (0)

/*
 * Classify the first n bytes of a TCP payload. On LP_CLASS_REQUEST *method is
 * set, on LP_CLASS_RESPONSE *status is set; otherwise neither is touched.
 * A PARTIAL_* answer is only possible when n < LP_CLASSIFY_BYTES.
 * Methods are case-sensitive (RFC 9110 9.1): "get /" is not a request.
 */
static __always_inline int lp_classify(const __u8 *p, __u32 n, __u8 *method, __u16 *status)
{
	int partial = 0;

	if (n == 0)
		return LP_CLASS_NONE;
	switch (p[0]) {
	case 'G':
		LP_CLASSIFY_TRY(lp_match_method(p, n, "GET", 3, LP_METHOD_GET, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		break;
	case 'H':
		LP_CLASSIFY_TRY(lp_match_method(p, n, "HEAD", 4, LP_METHOD_HEAD, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		LP_CLASSIFY_TRY(lp_match_status_line(p, n, status), LP_CLASS_RESPONSE,
				LP_CLASS_PARTIAL_RSP);
		break;
	case 'P':
		LP_CLASSIFY_TRY(lp_match_method(p, n, "POST", 4, LP_METHOD_POST, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		LP_CLASSIFY_TRY(lp_match_method(p, n, "PUT", 3, LP_METHOD_PUT, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		LP_CLASSIFY_TRY(lp_match_method(p, n, "PATCH", 5, LP_METHOD_PATCH, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		if (n >= 2)
			LP_CLASSIFY_TRY(lp_match_token(p, n, "PRI * HTTP/2.0\r\n", 16), LP_CLASS_H2,
					LP_CLASS_PARTIAL_H2);
		break;
	case 'D':
		LP_CLASSIFY_TRY(lp_match_method(p, n, "DELETE", 6, LP_METHOD_DELETE, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		break;
	case 'C':
		LP_CLASSIFY_TRY(lp_match_method(p, n, "CONNECT", 7, LP_METHOD_CONNECT, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		break;
	case 'O':
		LP_CLASSIFY_TRY(lp_match_method(p, n, "OPTIONS", 7, LP_METHOD_OPTIONS, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		break;
	case 'T':
		LP_CLASSIFY_TRY(lp_match_method(p, n, "TRACE", 5, LP_METHOD_TRACE, method),
				LP_CLASS_REQUEST, LP_CLASS_PARTIAL_REQ);
		break;
	case 0:
		LP_CLASSIFY_TRY(lp_match_h2_headers(p, n), LP_CLASS_H2_FRAME, 0);
		break;
	default:
		break;
	}
	return partial;
}

#undef LP_CLASSIFY_TRY

/*
 * The first payload of a connection's direction, classified LP_CLASS_NONE:
 * does it decide that the connection is not HTTP (1), or could it still
 * begin traffic the agent follows, or that leads to it (0)? Still could:
 *  - a TLS record (content type 20..23, version 3.x): HTTPS, timed through
 *    the library, whose writes the egress program helps name;
 *  - a PROXY protocol header, v1 ("PROXY ") or v2 (its signature, which
 *    begins with CR LF);
 *  - an empty line (CR or LF): a request may follow it (RFC 9112 2.2);
 *  - an HTTP/2 SETTINGS frame (type 4, stream 0): a server speaks first,
 *    perhaps before the client's preface made the state (lp_conn.h);
 *  - any of these cut short (a lone 0x16, "PRO", the first bytes of a
 *    SETTINGS frame's header): no decision yet.
 * Only for a direction's first payload: later bytes can be anything.
 */
static __always_inline int lp_first_payload_not_http(const __u8 *p, __u32 n, int cls)
{
	__u32 len, i;

	if (cls != LP_CLASS_NONE || n == 0)
		return 0;
	switch (p[0]) {
	case 0x14 ... 0x17: /* a TLS record */
		return n >= 2 && p[1] != 3;
	case '\r':
	case '\n':
		return 0;
	case 'P':
		return lp_match_token(p, n, "PROXY ", 6) == LP_MATCH_NO;
	case 0: /* an HTTP/2 frame: SETTINGS, not an ACK, on stream 0; cut: as far as it goes */
		if (n >= 3) {
			len = (__u32)p[1] << 8 | p[2];
			if (len % 6 || len > 16384)
				return 1;
		}
		if ((n >= 4 && p[3] != 4) || (n >= 5 && p[4]))
			return 1;
		for (i = 5; i < 9; i++)
			if (i < n && p[i])
				return 1;
		return 0;
	default:
		return 1;
	}
}

/* 1xx other than 101: an interim response, the final one is still to come. */
static __always_inline int lp_status_is_interim(__u16 status)
{
	return status >= 100 && status < 200 && status != 101;
}

#endif /* LP_CLASSIFY_H */
