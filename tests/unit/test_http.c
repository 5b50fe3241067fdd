// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The framing parser (include/lp_http.h): head scan and chunked bodies.
 * Every input is placed right before an inaccessible page, so a read past
 * its end faults, and is tried at every truncation point.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "lp_http.h"

static __u8 *page_end; /* the first byte of an inaccessible page */

static int setup(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	__u8 *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	if (m == MAP_FAILED || mprotect(m + 3 * pg, pg, PROT_NONE))
		return -1;
	page_end = m + 3 * pg;
	return 0;
}

/* s[0..n) copied to end just before the guard page (8-byte aligned start) */
static const __u8 *guarded(const char *s, __u32 n)
{
	__u8 *p = page_end - ((n + 7) & ~7u);

	memset(p, 0xee, (n + 7) & ~7u);
	memmove(p + (((n + 7) & ~7u) - n), s, n);
	return p + (((n + 7) & ~7u) - n);
}

/* the scanner wants an 8-byte aligned start: the unaligned tail is what it reads with bytes */
static int scan(const char *s, __u32 n, struct lp_head *h)
{
	static __u8 al[LP_WIN + 8] __attribute__((aligned(8)));
	const __u8 *g = guarded(s, n);

	if (((uintptr_t)g & 7) == 0)
		return lp_head_scan(g, n, h);
	memcpy(al, g, n);
	return lp_head_scan(al, n, h);
}

struct head_case {
	const char *text;
	int result;
	__u32 flags;
	__u64 length;
};

static void test_heads_and_every_truncation(void **state)
{
	static const struct head_case cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\nServer: x\r\n\r\n", LP_HEAD_DONE,
		  LP_HF_LENGTH, 4096 },
		{ "HTTP/1.1 200 OK\r\ncontent-length:7\r\n\r\n", LP_HEAD_DONE, LP_HF_LENGTH, 7 },
		{ "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: \t 12 \r\n\r\n", LP_HEAD_DONE, LP_HF_LENGTH,
		  12 },
		{ "HTTP/1.1 200 OK\nContent-Length: 3\n\n", LP_HEAD_DONE, LP_HF_LENGTH, 3 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", LP_HEAD_DONE,
		  LP_HF_LENGTH, 3 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", LP_HEAD_DONE,
		  LP_HF_LENGTH | LP_HF_UNSURE, 4 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", LP_HEAD_DONE, LP_HF_UNSURE, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", LP_HEAD_DONE, LP_HF_UNSURE, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", LP_HEAD_DONE, LP_HF_UNSURE, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", LP_HEAD_DONE,
		  LP_HF_UNSURE, 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", LP_HEAD_DONE,
		  LP_HF_TE | LP_HF_CHUNKED, 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED \r\n\r\n", LP_HEAD_DONE,
		  LP_HF_TE | LP_HF_CHUNKED, 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", LP_HEAD_DONE,
		  LP_HF_TE, 0 },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n", LP_HEAD_DONE, LP_HF_TE,
		  0 },
		{ "HTTP/1.1 200 OK\r\nX-Content-Length: 9\r\nContent-Type: a\r\n\r\n", LP_HEAD_DONE, 0,
		  0 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n", LP_HEAD_DONE, 0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", LP_HEAD_MORE, 0, 0 },
	};
	struct lp_head h;
	__u32 i, n, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = cases[i].text;
		const char *end = strstr(t, "\r\n\r\n");

		len = (__u32)strlen(t);
		assert_int_equal(scan(t, len, &h), cases[i].result);
		if (cases[i].result != LP_HEAD_DONE)
			continue;
		assert_int_equal(h.flags, cases[i].flags);
		if (h.flags & LP_HF_LENGTH)
			assert_int_equal(h.length, cases[i].length);
		end = end ? end + 4 : strstr(t, "\n\n") + 2;
		assert_int_equal(h.len, (__u32)(end - t));
		/* every shorter input lacks the blank line: more, and no read past it */
		for (n = 0; n < h.len; n++)
			if (scan(t, n, &h) != LP_HEAD_MORE)
				fail_msg("case %u truncated to %u: not LP_HEAD_MORE", i, n);
	}
}

static void test_head_longer_than_the_window_is_more(void **state)
{
	static char big[LP_WIN + 64];
	struct lp_head h;

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memcpy(big + LP_WIN + 10, "\r\n\r\n", 4);
	assert_int_equal(scan(big, LP_WIN, &h), LP_HEAD_MORE);
}

/* Feeding a chunked body at every split gives the same end as whole. */
static void test_chunked_framing_at_every_split(void **state)
{
	static const char body[] = "4\r\nwiki\r\n5;name=v\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
				   "Expires: x\r\n\r\n";
	__u32 n = (__u32)sizeof(body) - 1, cut;

	(void)state;
	for (cut = 0; cut <= n; cut++) {
		__u8 st = LP_CH_SIZE0;
		__u64 acc = 0;
		__u32 pos = 0, ends = 0, steps;

		/* two "segments": [0, cut) and [cut, n), fed LP_CHUNK_READ bytes at most */
		for (steps = 0; steps < 200 && pos < n && !ends; steps++) {
			__u32 lim = pos < cut ? cut : n, used = 0, k;
			const __u8 *g;
			int r;

			if (st == LP_CH_DATA) {
				pos += (__u32)acc; /* data: skipped by the caller */
				st = LP_CH_DCR;
				continue;
			}
			k = lim - pos < LP_CHUNK_READ ? lim - pos : LP_CHUNK_READ;
			g = guarded(body + pos, k);
			r = lp_chunk_feed(&st, &acc, g, k, &used);
			assert_int_not_equal(r, LP_CHR_BAD);
			pos += used;
			if (r == LP_CHR_END)
				ends = 1;
		}
		if (!ends || pos != n)
			fail_msg("cut %u: ended %u at %u of %u", cut, ends, pos, n);
	}
}

static void test_chunked_framing_refuses_what_is_not(void **state)
{
	static const char *const bad[] = { "x\r\n", "4\rX", "4\r\nwiki\rX", "4 q\r\nwiki\r\n0\r\n\r\n" };
	__u32 i;

	(void)state;
	for (i = 0; i < 3; i++) {
		__u8 st = LP_CH_SIZE0;
		__u64 acc = 0;
		__u32 used = 0, len = (__u32)strlen(bad[i]);
		int r = lp_chunk_feed(&st, &acc, guarded(bad[i], len), len, &used);

		if (r == LP_CHR_DATA) {
			st = LP_CH_DCR;
			r = lp_chunk_feed(&st, &acc, guarded(bad[i] + used + acc, len - used - (__u32)acc),
					  len - used - (__u32)acc, &used);
		}
		assert_int_equal(r, LP_CHR_BAD);
	}
	/* a chunk size past 2^56 is not believed */
	{
		__u8 st = LP_CH_SIZE0;
		__u64 acc = 0;
		__u32 used = 0;

		assert_int_equal(lp_chunk_feed(&st, &acc, guarded("1000000000000000\r\n", 18), 18,
					       &used),
				 LP_CHR_BAD);
	}
}

static void test_lowest_byte_and_zero_bytes(void **state)
{
	__u32 k;

	(void)state;
	for (k = 0; k < 8; k++) {
		__u64 x = 0x4141414141414141ULL & ~(0xffULL << (8 * k));

		assert_int_equal(lp_zero_bytes(x), 0x80ULL << (8 * k));
		assert_int_equal(lp_lowest_byte(lp_zero_bytes(x)), k);
	}
	/* 0x01 above a zero byte is not a false positive */
	assert_int_equal(lp_zero_bytes(0x0100ULL | 0x4141414141410000ULL), 0x80ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heads_and_every_truncation),
		cmocka_unit_test(test_head_longer_than_the_window_is_more),
		cmocka_unit_test(test_chunked_framing_at_every_split),
		cmocka_unit_test(test_chunked_framing_refuses_what_is_not),
		cmocka_unit_test(test_lowest_byte_and_zero_bytes),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
