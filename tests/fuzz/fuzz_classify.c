// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HTTP classifier and the connection state machine, as the kernel runs
 * them: any bytes, any segment sequence. Invariants: a request has a known
 * method, a response a status in 100..599, a latency never exceeds the time
 * that passed, and a sample only comes from a response in the response
 * direction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_classify.h"
#include "lp_conn.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_conn c;
	int has = 0;
	__u64 now = 1000;
	size_t off = 0;

	check_classify(data, size);
	/* then a conversation: each segment is 8 header bytes + up to 24 payload bytes */
	memset(&c, 0, sizeof(c));
	while (off + 8 <= size) {
		const uint8_t *h = data + off;
		__u32 plen = h[0] % 25;
		struct lp_seg s = { 0 };
		struct lp_verdict v = { 0 };

		off += 8;
		if (off + plen > size)
			plen = (__u32)(size - off);
		s.seq = (__u32)h[1] << 8 | h[2];
		s.ack = (__u32)h[3] << 8 | h[4];
		s.plen = plen;
		s.tcp_flags = h[5] & (LP_TCP_FIN | LP_TCP_RST);
		s.ingress = h[5] >> 7;
		if (plen)
			s.cls = (__u8)lp_classify(data + off, plen < LP_CLASSIFY_BYTES ? plen :
						  LP_CLASSIFY_BYTES, &s.method, &s.status);
		now += h[6];
		if (has) {
			__u64 start = c.start_ns;

			/* as the kernel calls it: no clock for a segment that starts nothing */
			lp_conn_step(&c, &s, s.cls ? now : 0, &v);
			if (v.record && (v.latency_ns > now - 1000 || start == 0 ||
					 s.cls != LP_CLASS_RESPONSE || lp_status_is_interim(s.status) ||
					 v.status != s.status))
				abort();
		} else if (lp_conn_wants_state(&s)) {
			has = 1;
			lp_conn_init(&c, &s, now, &v);
			if (v.record)
				abort();
		}
		if (v.counters >> LP_CNT_MAX)
			abort();
		off += plen;
	}
	return 0;
}
