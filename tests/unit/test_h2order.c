// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 segments in the order they come, not the order they were sent
 * (include/lp_h2_frame.h, include/lp_conn.h), driven through the same state
 * machine and loop as the kernel's (tests/unit/conv.h): a server that
 * speaks before the client's preface arrives, on either side; a received
 * segment ahead of a gap, counted, never a guessed sample.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "lp_conn.h"
#include "conv.h"

#include "h2conv.h"

/*
 * A server that speaks first: its SETTINGS leave at accept, before the
 * client's preface comes in with an ack that does not cover them (on
 * loopback a race of the two CPUs; grpc servers do this). The state begins
 * at the preface, the response direction at the server's first segment
 * seen after it, never waiting on bytes that left before.
 */
static void test_a_server_that_speaks_before_the_preface_arrives(void **state)
{
	struct conv cv = {0};
	__u32 i;

	(void)state;
	reset_seqs();
	frame(&b, LP_H2_SETTINGS, 0, 0, "000300000064");
	out(&cv, &b, 50);
	assert_false(cv.has_state);
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH, 1, GET);
	segn(&cv, IN, cseq, 50000, a.b, a.n, 0, 100); /* acks none of the SETTINGS */
	cseq += a.n;
	a.n = 0;
	assert_true(cv.has_state);
	for (i = 0; i < 2; i++) {
		if (i) {
			frame(&a, LP_H2_HEADERS, ES | EH, 3, GET);
			in(&cv, &a, 2100);
		}
		if (!i)
			frame(&b, LP_H2_SETTINGS, 1, 0, ""); /* ACK */
		frame(&b, LP_H2_HEADERS, EH, 2 * i + 1, i ? S404 : S200);
		frame(&b, LP_H2_DATA, ES, 2 * i + 1, "68656c6c6f");
		out(&cv, &b, 1100 + 2000 * i);
		assert_int_equal(cv.samples, i + 1);
		assert_int_equal(cv.last.ns, 1000);
		assert_int_equal(cv.last.status, i ? 404 : 200);
	}
	/* the next sent segment is in order: no more rebasing; a retransmission is one */
	frame(&b, LP_H2_PING, 0, 0, "0000000000000001");
	out(&cv, &b, 5000);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
	assert_int_equal(cv.counters[LP_CNT_RETRANSMITS], 0);
	/*
	 * The client side: the server's SETTINGS went by the received hook
	 * before the preface made the state, and TCP had not taken them when
	 * the preface's ack was written. The server's next segment begins it.
	 */
	memset(&cv, 0, sizeof(cv));
	reset_seqs();
	frame(&b, LP_H2_SETTINGS, 0, 0, "000300000064");
	segn(&cv, IN, sseq, cseq, b.b, b.n, 0, 50);
	sseq += b.n;
	b.n = 0;
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH, 1, GET);
	segn(&cv, OUT, cseq, 50000, a.b, a.n, 0, 100);
	cseq += a.n;
	a.n = 0;
	frame(&b, LP_H2_SETTINGS, 1, 0, "");
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	frame(&b, LP_H2_DATA, ES, 1, "");
	segn(&cv, IN, sseq, cseq, b.b, b.n, 0, 700);
	sseq += b.n;
	b.n = 0;
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 600);
	assert_int_equal(cv.side, LP_SIDE_CLIENT);
	/* the SETTINGS again (a retransmission): old, nothing more */
	frame(&b, LP_H2_SETTINGS, 0, 0, "000300000064");
	segn(&cv, IN, 50000, cseq, b.b, b.n, 0, 800);
	assert_int_equal(cv.counters[LP_CNT_RETRANSMITS], 1);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	/* where the ack covered the server's bytes, nothing moves: they begin at the ack */
	memset(&cv, 0, sizeof(cv));
	reset_seqs();
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH, 1, GET);
	segn(&cv, OUT, cseq, sseq, a.b, a.n, 0, 100);
	cseq += a.n;
	a.n = 0;
	frame(&b, LP_H2_SETTINGS, 0, 0, "");
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	frame(&b, LP_H2_DATA, ES, 1, "");
	segn(&cv, IN, sseq, cseq, b.b, b.n, 0, 700);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 600);
}

/*
 * A received segment ahead of bytes not yet seen (loss, reordering; on
 * loopback the one before still queued on another CPU): it waits its
 * bound, is counted, and is read as out of order. A gap inside a DATA
 * frame loses nothing; a gap holding frame headers ends the connection's
 * following, counted, never a guessed sample.
 */
static void test_a_segment_ahead_of_a_gap(void **state)
{
	struct conv cv = {0};
	__u32 x, y;

	(void)state;
	/* a POST whose body's second half comes first: the gap is inside DATA */
	reset_seqs();
	client_start(&a);
	in(&cv, &a, 50);
	frame(&a, LP_H2_HEADERS, EH, 1, POST_BLOCK);
	frame(&a, LP_H2_DATA, ES, 1, "0102030405060708090a0b0c0d0e0f10");
	x = a.n - 8; /* the segment before: up to the body's last 8 bytes */
	segn(&cv, IN, cseq + x, sseq, a.b + x, a.n - x, 0, 300);
	assert_int_equal(cv.counters[LP_CNT_H2_REORDERED], 1);
	segn(&cv, IN, cseq, sseq, a.b, x, 0, 200);
	cseq += a.n;
	a.n = 0;
	assert_int_equal(cv.counters[LP_CNT_H2_REORDERED], 1); /* in order: no wait */
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	frame(&b, LP_H2_HEADERS, EH | ES, 1, S200);
	out(&cv, &b, 1200);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 1000);
	assert_int_equal(cv.last.method, LP_METHOD_POST);
	/* stream 5's HEADERS come before stream 3's: the gap holds a frame header */
	frame(&a, LP_H2_HEADERS, ES | EH, 3, GET);
	x = a.n;
	frame(&a, LP_H2_HEADERS, ES | EH, 5, GET);
	y = a.n - x;
	segn(&cv, IN, cseq + x, sseq, a.b + x, y, 0, 2000);
	segn(&cv, IN, cseq, sseq, a.b, x, 0, 2100);
	cseq += a.n;
	a.n = 0;
	assert_int_equal(cv.counters[LP_CNT_H2_REORDERED], 2);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
	frame(&b, LP_H2_HEADERS, EH | ES, 3, S200);
	frame(&b, LP_H2_HEADERS, EH | ES, 5, S404);
	out(&cv, &b, 3000);
	assert_int_equal(cv.samples, 1); /* stream 1's alone */
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 2);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED] + cv.counters[LP_CNT_UNANSWERED], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_server_that_speaks_before_the_preface_arrives),
		cmocka_unit_test(test_a_segment_ahead_of_a_gap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
