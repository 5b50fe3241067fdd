// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 connections (include/lp_h2.h) driven through the same state
 * machine and loop as the kernel's (tests/unit/conv.h): streams timed to
 * the last byte of their END_STREAM frame, concurrent streams, frames split
 * across segments at every byte, HPACK labels through the dynamic table,
 * interim responses, trailers, CONTINUATION, RST_STREAM, and hostile input
 * that must end in a count, never a wrong sample.
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

static void test_a_get_is_timed_to_its_end_stream_frame(void **state)
{
	struct conv cv = {0};

	(void)state;
	get_streams(&cv, 1, 100);
	assert_true(cv.has_state);
	assert_int_equal(cv.c.q.proto, LP_PROTO_HTTP2);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
	frame(&b, LP_H2_SETTINGS, 0, 0, "");
	frame(&b, LP_H2_SETTINGS, 1, 0, ""); /* ACK */
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	frame(&b, LP_H2_DATA, ES, 1, "68656c6c6f");
	out(&cv, &b, 1100);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 1000);
	assert_int_equal(cv.last.status, 200);
	assert_int_equal(cv.last.method, LP_METHOD_GET);
	assert_int_equal(cv.side, LP_SIDE_SERVER);
	assert_int_equal(cv.ttfbs, 1);
	assert_int_equal(cv.last_ttfb.ns, 1000);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
}

static void test_a_body_across_segments_ends_at_its_last_frame(void **state)
{
	struct conv cv = {0};
	char body[3000];

	(void)state;
	reset_seqs();
	memset(body, 'x', sizeof(body));
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH, 1, GET);
	in(&cv, &a, 100);
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	/* a DATA frame of 3000 bytes: its header here, its payload over three segments */
	puthex(&b, "000bb8000000000001");
	out(&cv, &b, 1000);
	assert_int_equal(cv.ttfbs, 1);
	assert_int_equal(cv.last_ttfb.ns, 900);
	put(&b, body, 1000);
	out(&cv, &b, 2000);
	put(&b, body, 2000);
	frame(&b, LP_H2_DATA, ES, 1, "");
	out(&cv, &b, 5000);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 4900);
}

static void test_concurrent_streams_end_in_any_order(void **state)
{
	struct conv cv = {0};

	(void)state;
	reset_seqs();
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH, 1, GET);
	frame(&a, LP_H2_HEADERS, EH, 3, POST_BLOCK);
	frame(&a, LP_H2_DATA, ES, 3, "6162");
	frame(&a, LP_H2_HEADERS, ES | EH, 5, GET);
	in(&cv, &a, 100);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 3);
	frame(&b, LP_H2_HEADERS, EH | ES, 5, S404);
	out(&cv, &b, 300);
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	frame(&b, LP_H2_HEADERS, EH, 3, S500);
	frame(&b, LP_H2_DATA, ES, 1, "6f6b");
	out(&cv, &b, 700);
	frame(&b, LP_H2_DATA, ES, 3, "");
	out(&cv, &b, 900);
	assert_int_equal(cv.samples, 3);
	assert_int_equal(cv.all[0], 200);
	assert_int_equal(cv.status[0], 404);
	assert_int_equal(cv.all[1], 600);
	assert_int_equal(cv.status[1], 200);
	assert_int_equal(cv.all[2], 800);
	assert_int_equal(cv.status[2], 500);
	assert_int_equal(cv.last.method, LP_METHOD_POST);
}

/*
 * The response split into two segments at every byte: one sample, ending
 * where its last frame does; except where the cut falls inside the header
 * block before :status, which the first segment then does not hold: the
 * stream is counted untimed, never given a guessed status.
 */
static void test_a_response_split_at_every_byte(void **state)
{
	struct bytes rsp = {.n = 0};
	__u32 cut, end, block_at;

	(void)state;
	frame(&rsp, LP_H2_SETTINGS, 0, 0, "0003000000640004000100");
	block_at = rsp.n + 9;
	frame(&rsp, LP_H2_HEADERS, EH | LP_H2F_PADDED, 1, "03" S200 "000000");
	frame(&rsp, LP_H2_DATA, 0, 1, "6162636465");
	frame(&rsp, LP_H2_DATA, ES, 1, "6667");
	end = rsp.n;
	for (cut = 1; cut < end; cut++) {
		struct conv cv = {0};
		int status_cut = cut >= block_at && cut < block_at + 2; /* before "88" was read */

		reset_seqs();
		client_start(&a);
		frame(&a, LP_H2_HEADERS, ES | EH, 1, GET);
		in(&cv, &a, 100);
		put(&b, rsp.b, cut);
		out(&cv, &b, 1000);
		put(&b, rsp.b + cut, end - cut);
		out(&cv, &b, 2000);
		assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
		if (status_cut) {
			assert_int_equal(cv.samples, 0);
			assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
			continue;
		}
		assert_int_equal(cv.samples, 1);
		assert_int_equal(cv.last.ns, 1900);
		assert_int_equal(cv.last.status, 200);
		assert_int_equal(cv.ttfbs, 1);
		/* the HEADERS frame begins at byte 20: its first byte's segment */
		assert_int_equal(cv.last_ttfb.ns, cut > 20 ? 900 : 1900);
	}
}

/* the request's frames split at every byte too, the preface included */
static void test_a_request_split_at_every_byte(void **state)
{
	struct bytes req = {.n = 0};
	__u32 cut, hdr_at;

	(void)state;
	client_start(&req);
	hdr_at = req.n;
	frame(&req, LP_H2_HEADERS, ES | EH | LP_H2F_PRIORITY, 1, "0000000010" GET);
	for (cut = 2; cut < req.n; cut++) {
		struct conv cv = {0};
		/* the first segment ends before :method (after the frame header and priority) */
		int method_cut = cut >= hdr_at + 9 && cut < hdr_at + 9 + 5 + 1;

		reset_seqs();
		put(&a, req.b, cut);
		in(&cv, &a, 100);
		put(&a, req.b + cut, req.n - cut);
		in(&cv, &a, 200);
		frame(&b, LP_H2_HEADERS, EH | ES, 1, S200);
		out(&cv, &b, 1000);
		assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
		if (method_cut) {
			assert_int_equal(cv.samples, 0);
			assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
			continue;
		}
		assert_int_equal(cv.samples, 1);
		/* the stream starts at its HEADERS frame's first byte */
		assert_int_equal(cv.last.ns, cut > hdr_at ? 900 : 800);
		assert_int_equal(cv.last.method, LP_METHOD_GET);
	}
}

static void test_statuses_through_the_dynamic_table(void **state)
{
	struct conv cv = {0};

	(void)state;
	get_streams(&cv, 2, 100);
	/* python3-hpack's blocks: :status 201 (Huffman, indexed), then a reference to it */
	frame(&b, LP_H2_HEADERS, EH | ES, 1, "488210035f87497ca58ae819aa");
	frame(&b, LP_H2_HEADERS, EH | ES, 3, "bfbe");
	out(&cv, &b, 500);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.status[0], 201);
	assert_int_equal(cv.status[1], 201);
	assert_int_equal(cv.counters[LP_CNT_H2_UNKNOWN], 0);
}

static void test_interim_trailers_and_continuation(void **state)
{
	struct conv cv = {0};

	(void)state;
	get_streams(&cv, 2, 100);
	/* 103 Early Hints, then the final 200 in a HEADERS continued, a body, trailers */
	frame(&b, LP_H2_HEADERS, EH, 1, "0803313033");
	out(&cv, &b, 200);
	assert_int_equal(cv.ttfbs, 0);
	assert_int_equal(cv.counters[LP_CNT_INTERIM], 1);
	frame(&b, LP_H2_HEADERS, 0, 1, S200);
	frame(&b, LP_H2_CONTINUATION, EH, 1, "5f87497ca58ae819aa");
	frame(&b, LP_H2_DATA, 0, 1, "6869");
	out(&cv, &b, 300);
	assert_int_equal(cv.ttfbs, 1);
	assert_int_equal(cv.last_ttfb.ns, 200);
	assert_int_equal(cv.samples, 0);
	/* trailers: a HEADERS with END_STREAM, continued */
	frame(&b, LP_H2_HEADERS, ES, 1, "400b677270632d7374617475730130");
	frame(&b, LP_H2_CONTINUATION, EH, 1, "0f0d0130");
	out(&cv, &b, 900);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 800);
	assert_int_equal(cv.last.status, 200);
	/* a trailers-only response on stream 3: HEADERS with END_STREAM */
	frame(&b, LP_H2_HEADERS, EH | ES, 3, S404);
	out(&cv, &b, 1000);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.status, 404);
}

static void test_reset_streams_are_counted_not_sampled(void **state)
{
	struct conv cv = {0};

	(void)state;
	get_streams(&cv, 2, 100);
	frame(&b, LP_H2_RST_STREAM, 0, 1, "00000008");
	frame(&b, LP_H2_HEADERS, EH, 3, S200);
	out(&cv, &b, 200);
	/* the client resets stream 3 before its body ends */
	frame(&a, LP_H2_RST_STREAM, 0, 3, "00000008");
	in(&cv, &a, 300);
	frame(&b, LP_H2_DATA, ES, 3, "61");
	out(&cv, &b, 400);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_H2_RESET], 2);
}

static void test_the_client_side_mirrors(void **state)
{
	struct conv cv = {0};

	(void)state;
	reset_seqs();
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH, 1, GET);
	segn(&cv, OUT, 1000, 50000, a.b, a.n, 0, 100);
	frame(&b, LP_H2_SETTINGS, 0, 0, "");
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	frame(&b, LP_H2_DATA, ES, 1, "6869");
	segn(&cv, IN, 50000, 1000 + a.n, b.b, b.n, 0, 700);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.side, LP_SIDE_CLIENT);
	assert_int_equal(cv.last.ns, 600);
}

static void test_a_close_counts_the_waiting_streams_unanswered(void **state)
{
	struct conv cv = {0};

	(void)state;
	get_streams(&cv, 3, 100);
	/* GOAWAY, last stream 1: streams 3 and 5 were not processed (reset); 1 still waits */
	frame(&b, LP_H2_GOAWAY, 0, 0, "0000000100000000");
	out(&cv, &b, 200);
	assert_int_equal(cv.counters[LP_CNT_H2_RESET], 2);
	segn(&cv, OUT, sseq, cseq, "", 0, LP_TCP_FIN, 300);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 1);
	assert_int_equal(cv.c.q.role, LP_ROLE_DONE);
	/* a GOAWAY cut before its last stream id: the close counts them all unanswered */
	memset(&cv, 0, sizeof(cv));
	get_streams(&cv, 2, 100);
	frame(&b, LP_H2_GOAWAY, 0, 0, "0000000100000000");
	b.n -= 6;
	out(&cv, &b, 200);
	segn(&cv, OUT, sseq, cseq, "", 0, LP_TCP_FIN, 300);
	assert_int_equal(cv.counters[LP_CNT_H2_RESET], 0);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 2);
}

/* what cannot be followed ends in counts, never in a sample */
static void test_hostile_frames_end_in_counts(void **state)
{
	struct conv cv;
	int i;

	(void)state;
	/* a reference into an empty table followed from the preface: not HPACK */
	memset(&cv, 0, sizeof(cv));
	get_streams(&cv, 1, 100);
	frame(&b, LP_H2_HEADERS, EH | ES, 1, "be");
	out(&cv, &b, 200);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
	/* padding longer than the frame */
	memset(&cv, 0, sizeof(cv));
	reset_seqs();
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH | LP_H2F_PADDED, 1, "20" GET); /* 32 > 14 */
	in(&cv, &a, 100);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 0);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
	/* a frame other than CONTINUATION inside a header block */
	memset(&cv, 0, sizeof(cv));
	reset_seqs();
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES, 1, GET);
	frame(&a, LP_H2_PING, 0, 0, "0000000000000000");
	in(&cv, &a, 100);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
	/* more frames in one segment than are read: no longer followed */
	memset(&cv, 0, sizeof(cv));
	get_streams(&cv, 1, 100);
	for (i = 0; i < 15000; i++) /* 32 a read, 256 reads: 8192 is all a segment can take */
		frame(&b, LP_H2_SETTINGS, 1, 0, "");
	frame(&b, LP_H2_HEADERS, EH | ES, 1, S200);
	out(&cv, &b, 200);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
	/* a flood of RST_STREAM for streams never opened: nothing counted, nothing timed */
	memset(&cv, 0, sizeof(cv));
	reset_seqs();
	client_start(&a);
	in(&cv, &a, 50);
	for (i = 0; i < 200; i++) {
		frame(&a, LP_H2_HEADERS, ES | EH, 2 * i + 1, GET);
		frame(&a, LP_H2_RST_STREAM, 0, 2 * i + 1, "00000008");
		if (i % 50 == 49)
			in(&cv, &a, 100 + i);
	}
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_H2_RESET], 200);
}

/* a connection open before the agent: recognised from a request's HEADERS, its responses synced */
static void test_a_connection_met_mid_stream(void **state)
{
	struct conv cv = {0};
	char body[2000];

	(void)state;
	reset_seqs();
	memset(body, 'y', sizeof(body));
	/* a response already under way when the agent came: passed, never a sample */
	puthex(&b, "0007d0000000000065"); /* DATA of stream 101, 2000 bytes */
	put(&b, body, 100);
	out(&cv, &b, 50);
	assert_false(cv.has_state);
	/* the next request: a HEADERS frame of stream 103, :method GET from the static table */
	frame(&a, LP_H2_HEADERS, ES | EH, 103, GET);
	in(&cv, &a, 100);
	assert_true(cv.has_state);
	assert_int_equal(cv.c.q.proto, LP_PROTO_HTTP2);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
	/* the old response's rest: the response direction is not synced, passed */
	put(&b, body, 1900);
	out(&cv, &b, 150);
	assert_int_equal(cv.samples, 0);
	/* a response segment beginning with stream 103's HEADERS: synced, timed */
	frame(&b, LP_H2_HEADERS, EH, 103, S200);
	frame(&b, LP_H2_DATA, ES, 103, "6869");
	out(&cv, &b, 400);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 300);
	assert_int_equal(cv.last.status, 200);
	/*
	 * 62 is the :authority the request above inserted; 63 is an entry from
	 * before the agent: unresolved, counted
	 */
	frame(&a, LP_H2_HEADERS, ES | EH, 105, "bf8684");
	in(&cv, &a, 500);
	assert_int_equal(cv.counters[LP_CNT_H2_UNKNOWN], 1);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
}

/* bytes that look like a HEADERS frame header but whose block is not HPACK with :method */
static void test_a_lookalike_is_not_http2(void **state)
{
	struct conv cv = {0};

	(void)state;
	reset_seqs();
	/* a HEADERS header, then a block that cuts off (a string longer than the frame) */
	frame(&a, LP_H2_HEADERS, EH, 1, "407f");
	in(&cv, &a, 100);
	/* a HEADERS header whose block holds no :method */
	frame(&a, LP_H2_HEADERS, EH, 3, "8786");
	in(&cv, &a, 200);
	frame(&b, LP_H2_HEADERS, EH | ES, 3, S200);
	out(&cv, &b, 300);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 0);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 0);
}

/* an HTTP/1.1 request offering h2c (RFC 7540 3.2), as curl --http2 sends it on http:// */
#define UPGRADE_GET                                                                                \
	"GET /up HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"           \
	"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
#define SWITCHING "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

/* the upgrade asked at 100 and answered 101 at 300 (and what more b holds after it) */
static void h2c_start(struct conv *cv, const char *req)
{
	reset_seqs();
	put(&a, req, (__u32)strlen(req));
	in(cv, &a, 100);
	assert_int_equal(cv->c.q.proto, LP_PROTO_HTTP1);
}

static void test_an_h2c_upgrade_times_stream_1_and_goes_on_as_http2(void **state)
{
	struct conv cv = {0};

	(void)state;
	h2c_start(&cv, UPGRADE_GET);
	/* 101, the server's SETTINGS and stream 1's whole response in one segment */
	put(&b, SWITCHING, (__u32)strlen(SWITCHING));
	frame(&b, LP_H2_SETTINGS, 0, 0, "");
	frame(&b, LP_H2_HEADERS, EH, 1, S404);
	frame(&b, LP_H2_DATA, ES, 1, "6e6f");
	out(&cv, &b, 300);
	assert_int_equal(cv.c.q.proto, LP_PROTO_HTTP2);
	assert_int_equal(cv.counters[LP_CNT_H2C], 1);
	assert_int_equal(cv.counters[LP_CNT_UPGRADED], 0);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 200); /* the HTTP/1.1 request's first byte to END_STREAM */
	assert_int_equal(cv.last.status, 404);
	assert_int_equal(cv.last.method, LP_METHOD_GET);
	assert_int_equal(cv.ttfbs, 1); /* to stream 1's HEADERS, not to the 101 */
	/* the client's preface, then a request of its own on stream 3 */
	client_start(&a);
	frame(&a, LP_H2_HEADERS, ES | EH, 3, GET);
	in(&cv, &a, 1000);
	frame(&b, LP_H2_HEADERS, EH, 3, S200);
	frame(&b, LP_H2_DATA, ES, 3, "6869");
	out(&cv, &b, 1450);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.ns, 450);
	assert_int_equal(cv.last.status, 200);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 2);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 0);
}

static void test_an_h2c_response_after_the_preface_and_the_client_side(void **state)
{
	struct conv cv = {0}, cl = {0};

	(void)state;
	/* the 101 alone; stream 1's response in later segments, after the client's preface */
	h2c_start(&cv, UPGRADE_GET);
	put(&b, SWITCHING, (__u32)strlen(SWITCHING));
	frame(&b, LP_H2_SETTINGS, 0, 0, "");
	out(&cv, &b, 300);
	assert_int_equal(cv.samples, 0);
	client_start(&a);
	in(&cv, &a, 400);
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	out(&cv, &b, 500);
	frame(&b, LP_H2_DATA, ES, 1, "6869");
	out(&cv, &b, 900);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 800);
	assert_int_equal(cv.last_ttfb.ns, 400);
	/* the client side: the same bytes the other way */
	reset_seqs();
	segn(&cl, OUT, 1000, 50000, UPGRADE_GET, (__u32)strlen(UPGRADE_GET), 0, 100);
	put(&b, SWITCHING, (__u32)strlen(SWITCHING));
	frame(&b, LP_H2_SETTINGS, 0, 0, "");
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	frame(&b, LP_H2_DATA, ES, 1, "6869");
	segn(&cl, IN, 50000, 1000 + (__u32)strlen(UPGRADE_GET), b.b, b.n, 0, 350);
	assert_int_equal(cl.samples, 1);
	assert_int_equal(cl.side, LP_SIDE_CLIENT);
	assert_int_equal(cl.last.ns, 250);
	assert_int_equal(cl.counters[LP_CNT_H2C], 1);
}

static void test_what_is_not_an_h2c_upgrade(void **state)
{
	static const char *const offers[] = {
		"Upgrade: websocket\r\n", "Upgrade: h2cx\r\n", "Upgrade: xh2c\r\n",
		"X-Upgrade: h2c\r\n", "Upgrade: h2\r\n"};
	struct conv cv = {0};
	char req[256];
	__u32 i;

	(void)state;
	/* a 101 to anything but an h2c offer ends tracking, as before */
	for (i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
		memset(&cv, 0, sizeof(cv));
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", offers[i]);
		h2c_start(&cv, req);
		put(&b, SWITCHING, (__u32)strlen(SWITCHING));
		frame(&b, LP_H2_SETTINGS, 0, 0, "");
		frame(&b, LP_H2_HEADERS, EH, 1, S200);
		frame(&b, LP_H2_DATA, ES, 1, "6869");
		out(&cv, &b, 300);
		assert_int_equal(cv.c.q.role, LP_ROLE_DONE);
		assert_int_equal(cv.counters[LP_CNT_UPGRADED], 1);
		assert_int_equal(cv.counters[LP_CNT_H2C], 0);
	}
	/* the offer in a list, any case: an upgrade */
	memset(&cv, 0, sizeof(cv));
	h2c_start(&cv, "GET / HTTP/1.1\r\nHost: a\r\nupgrade: websocket, H2C \r\n\r\n");
	put(&b, SWITCHING, (__u32)strlen(SWITCHING));
	out(&cv, &b, 300);
	assert_int_equal(cv.counters[LP_CNT_H2C], 1);
	/* an offer the server declines: HTTP/1.1 goes on, timed as HTTP/1.1 */
	memset(&cv, 0, sizeof(cv));
	h2c_start(&cv, UPGRADE_GET);
	put(&b, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40);
	out(&cv, &b, 250);
	assert_int_equal(cv.c.q.proto, LP_PROTO_HTTP1);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 150);
	/* no preface after the 101 (a client that did not follow RFC 7540): lost, counted */
	memset(&cv, 0, sizeof(cv));
	h2c_start(&cv, UPGRADE_GET);
	put(&b, SWITCHING, (__u32)strlen(SWITCHING));
	out(&cv, &b, 300);
	put(&a, "GET /again HTTP/1.1\r\nHost: a\r\n\r\n", 32);
	in(&cv, &a, 400);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1); /* stream 1, still waiting */
	assert_int_equal(cv.samples, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_get_is_timed_to_its_end_stream_frame),
		cmocka_unit_test(test_a_body_across_segments_ends_at_its_last_frame),
		cmocka_unit_test(test_concurrent_streams_end_in_any_order),
		cmocka_unit_test(test_a_response_split_at_every_byte),
		cmocka_unit_test(test_a_request_split_at_every_byte),
		cmocka_unit_test(test_statuses_through_the_dynamic_table),
		cmocka_unit_test(test_interim_trailers_and_continuation),
		cmocka_unit_test(test_reset_streams_are_counted_not_sampled),
		cmocka_unit_test(test_the_client_side_mirrors),
		cmocka_unit_test(test_a_close_counts_the_waiting_streams_unanswered),
		cmocka_unit_test(test_hostile_frames_end_in_counts),
		cmocka_unit_test(test_a_connection_met_mid_stream),
		cmocka_unit_test(test_a_lookalike_is_not_http2),
		cmocka_unit_test(test_an_h2c_upgrade_times_stream_1_and_goes_on_as_http2),
		cmocka_unit_test(test_an_h2c_response_after_the_preface_and_the_client_side),
		cmocka_unit_test(test_what_is_not_an_h2c_upgrade),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
