// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HTTP classifier and the connection state machine, as the kernel runs
 * them: any bytes, any segment sequence, through the same LP_CONN_SEGMENT
 * loop. Invariants: a request has a known method, a response a status in
 * 100..599, the head scanner's length stays inside its input, a Host
 * value's name (--client-address host) is only a name's bytes, zero-filled,
 * no read goes past its segment, and a sample never exceeds the time that
 * passed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_classify.h"
#include "lp_http.h"
#include "lp_host.h"
#include "lp_conn.h"
#include "lp_route.h"

/*
 * The route key of any target: never reads past n, never longer than a key
 * or than the input, and a key with its end mark holds the input's bytes.
 */
static void check_route(const uint8_t *p, size_t size)
{
	__u32 n = (__u32)(size > LP_WIN ? LP_WIN : size), at, len, i;
	struct lp_route_key k;

	if (!n)
		return;
	at = p[0] % 10;
	memset(&k, 0, sizeof(k));
	if (!lp_route_key(p, n, at, p[n - 1] % (LP_ROUTE_LEN + 1), &k))
		return;
	len = k.prefixlen / 8;
	if (k.prefixlen % 8 || len == 0 || len > LP_ROUTE_LEN || len > n)
		abort();
	if (k.path[0] != '/')
		abort();
	for (i = 0; i + 1 < len; i++)
		if (k.path[i] < 0x21 || k.path[i] == '?' || k.path[i] == '#')
			abort();
}

/* the Host line the head scan found: its name holds a name's bytes only, then zeros */
static void check_host(const uint8_t *p, const struct lp_head *h, __u32 n)
{
	struct lp_host_key k;
	__u32 len;

	if (!h->host_end)
		return;
	if (h->host_at > h->host_end || h->host_end >= n)
		abort();
	memset(&k, 0xa5, sizeof(k));
	len = lp_host_name(p, h->host_at, h->host_end, &k);
	if (len && (!lp_host_key_ok(&k, len) || len > h->host_end - h->host_at))
		abort();
}

static void check_classify(const uint8_t *p, size_t n)
{
	__u8 m = 0xff;
	__u16 st = 0xffff;
	int c = lp_classify(p, (__u32)(n > LP_CLASSIFY_BYTES ? LP_CLASSIFY_BYTES : n), &m, &st);

	if (c == LP_CLASS_REQUEST && (m == 0 || m >= LP_METHOD_COUNT || st != 0xffff))
		abort();
	if (c == LP_CLASS_RESPONSE && (st < 100 || st > 599 || m != 0xff))
		abort();
	if ((c & (LP_CLASS_PARTIAL_REQ | LP_CLASS_PARTIAL_RSP)) &&
	    (c & (LP_CLASS_REQUEST | LP_CLASS_RESPONSE)))
		abort();
	if ((c & (LP_CLASS_PARTIAL_REQ | LP_CLASS_PARTIAL_RSP)) && n >= LP_CLASSIFY_BYTES)
		abort();
}

static __u8 win[LP_WIN] __attribute__((aligned(8)));
static const uint8_t *cur;
static __u32 cur_len;

/* reads stay inside the segment: a read past it is a bug */
static int fuzz_load(__u32 off, __u32 len)
{
	if ((__u64)off + len > cur_len)
		abort();
	memcpy(win, cur + off, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_conn c;
	struct lp_h2 h2;
	int has = 0;
	__u64 now = 1000;
	size_t off = 0;
	struct lp_head h;

	check_classify(data, size);
	check_route(data, size);
	lp_head_scan(data, (__u32)(size > LP_WIN ? LP_WIN : size), &h);
	if (h.len > size)
		abort();
	check_host(data, &h, (__u32)(size > LP_WIN ? LP_WIN : size));
	/* then a conversation: each segment is 8 header bytes + up to 48 payload bytes */
	memset(&c, 0, sizeof(c));
	while (off + 8 <= size) {
		const uint8_t *hd = data + off;
		__u32 plen = hd[0] % 49, i;
		struct lp_seg s = { 0 };
		struct lp_verdict v = { 0 };

		off += 8;
		if (off + plen > size)
			plen = (__u32)(size - off);
		s.seq = (__u32)hd[1] << 8 | hd[2];
		s.ack = (__u32)hd[3] << 8 | hd[4];
		s.plen = plen;
		s.tcp_flags = hd[5] & (LP_TCP_FIN | LP_TCP_RST);
		s.ingress = hd[5] >> 7;
		now += hd[6];
		cur = data + off;
		cur_len = plen;
		if (!has) {
			if (plen)
				s.cls = (__u8)lp_classify(cur, plen < LP_CLASSIFY_BYTES ? plen :
							  LP_CLASSIFY_BYTES, &s.method, &s.status);
			if (lp_conn_wants_state(&s)) {
				has = 1;
				lp_conn_init(&c, &s);
				if (c.q.proto == LP_PROTO_HTTP2)
					lp_h2_init(&h2, s.seq, s.ack,
						   s.cls == LP_CLASS_H2_FRAME);
			}
		}
		if (has && (plen || s.tcp_flags)) {
#undef LP_CONN_H2C
#define LP_CONN_H2C(c, v) (&h2) /* an upgrade to h2c: the same state as a preface's */
			LP_CONN_SEGMENT(&c, c.q.proto == LP_PROTO_HTTP2 ? &h2 : NULL, &s, now, &v, win,
					fuzz_load);
			/* a sample never exceeds the time that passed since the first request */
			for (i = 0; i < v.n; i++)
				if (v.s[i].ns > now - 1000 || v.s[i].status < 100 ||
				    v.s[i].status > 599 || v.s[i].kind > LP_SAMPLE_TTFB)
					abort();
			if (v.n > LP_VERDICT_SAMPLES)
				abort();
		}
		off += plen;
	}
	return 0;
}
