// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The per-connection state machine (include/lp_conn.h), driven through whole
 * conversations exactly as bpf/latprobe.bpf.c drives it: classify the first
 * 16 bytes of a connection without state, create state for a request start,
 * then LP_CONN_SEGMENT with reads from the segment's payload. Each payload
 * is copied into a heap buffer of exactly its size, so any read past the
 * segment is an ASan error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>

#include "base/routes.h"

/* routes as the kernel finds them (its trie: lp_route_match_entries); none by default */
static struct lp_routes test_routes;
static struct lp_route_entry test_ents[LP_ROUTE_ENTRIES];
static unsigned test_nents;

static __u16 test_route(const __u8 *buf, __u32 n, __u8 method)
{
	struct lp_route_key k;

	if (!test_routes.ndefs)
		return LP_ROUTE_NONE;
	if (!lp_route_key(buf, n, lp_route_target_at(method), lp_routes_max_len(&test_routes), &k))
		return LP_ROUTE_UNROUTED;
	return lp_route_match_entries(test_ents, test_nents, &k);
}
#define LP_ROUTE(buf, n, method) test_route(buf, n, method)

#include "lp_conn.h"

#include "conv.h"

static const char REQ[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
static const char RSP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
#define RL ((__u32)sizeof(REQ) - 1)
#define SL ((__u32)sizeof(RSP) - 1)

static void test_server_keepalive_times_each_request_to_the_last_response_byte(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1000, 9000, REQ, 0, 100);
	seg(&cv, OUT, 9000, 1000 + RL, RSP, 0, 1100);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 1000);
	assert_int_equal(cv.side, LP_SIDE_SERVER);
	assert_int_equal(cv.last.method, LP_METHOD_GET);
	assert_int_equal(cv.last.status, 200);
	assert_int_equal(cv.ttfbs, 1);
	assert_int_equal(cv.last_ttfb.ns, 1000);
	seg(&cv, IN, 1000 + RL, 9000 + SL, REQ, 0, 5000);
	seg(&cv, OUT, 9000 + SL, 1000 + 2 * RL, RSP, 0, 5300);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.ns, 300);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 2);
	assert_int_equal(cv.counters[LP_CNT_UNFRAMED], 0);
}

static void test_content_length_body_in_parts_ends_at_its_last_byte(void **state)
{
	struct conv cv = { 0 };
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	__u32 hl = (__u32)strlen(head);

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 100);
	seg(&cv, OUT, 1, 1 + RL, head, 0, 200);		  /* head alone */
	seg(&cv, OUT, 1 + hl, 1 + RL, "abcd", 0, 300);	  /* 4 of 10 */
	seg(&cv, OUT, 1 + hl + 4, 1 + RL, "GET ", 0, 400); /* body bytes like a request */
	seg(&cv, OUT, 1 + hl, 1 + RL, "abcd", 0, 450);	    /* a retransmission */
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.ttfbs, 1);
	assert_int_equal(cv.last_ttfb.ns, 100);
	seg(&cv, OUT, 1 + hl + 8, 1 + RL, "yz", 0, 600);	 /* its last two bytes */
	seg(&cv, OUT, 1 + hl + 10, 1 + RL, "", LP_TCP_FIN, 700); /* a FIN: not body */
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 500);
	assert_int_equal(cv.counters[LP_CNT_RETRANSMITS], 1);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
}

static void test_chunked_body_ends_at_the_zero_chunk_and_trailers(void **state)
{
	static const char *const parts[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		"1", "0;ext=1\r\n", "0123456789abcdef\r", "\n0\r\nX-T: 1\r\n", "\r\n",
	};
	struct conv cv = { 0 };
	__u32 seq = 1, i;

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 100);
	for (i = 0; i < 6; i++) {
		seg(&cv, OUT, seq, 1 + RL, parts[i], 0, 200 + 100 * i);
		seq += (__u32)strlen(parts[i]);
		assert_int_equal(cv.samples, i == 5);
	}
	assert_int_equal(cv.last.ns, 600);
	assert_int_equal(cv.counters[LP_CNT_UNFRAMED], 0);
}

/* Every split of a chunked response into two segments ends at the same byte. */
static void test_chunked_body_split_at_every_byte(void **state)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n"
				  "a\r\n0123456789\r\n3;x=\"y\"\r\nabc\r\n0\r\n\r\n";
	__u32 n = (__u32)sizeof(rsp) - 1, cut;

	(void)state;
	for (cut = 1; cut < n; cut++) {
		struct conv cv = { 0 };

		seg(&cv, IN, 1, 1, REQ, 0, 100);
		segn(&cv, OUT, 1, 1 + RL, rsp, cut, 0, 200);
		segn(&cv, OUT, 1 + cut, 1 + RL, rsp + cut, n - cut, 0, 300);
		segn(&cv, OUT, 1 + n, 1 + RL, "", 0, LP_TCP_FIN, 400);
		if (cut < 13) {
			/* the status line itself split: its status is unknown, untimed */
			assert_int_equal(cv.samples, 0);
			assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
			continue;
		}
		/* the head split: unframed, counted, no sample; elsewhere exact */
		if (cv.samples != (cut < 53 ? 0 : 1) || (cut >= 53 && cv.last.ns != 200))
			fail_msg("cut at %u: %d samples, last %llu ns", cut, cv.samples,
				 (unsigned long long)cv.last.ns);
		assert_int_equal(cv.counters[LP_CNT_UNFRAMED], cut < 53 ? 1 : 0);
	}
}

static void test_no_body_for_head_204_304_whatever_the_length_says(void **state)
{
	static const char *const rsps[] = {
		"HTTP/1.1 204 No Content\r\nContent-Length: 50\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 4096\r\n\r\n",
	};
	struct conv cv = { 0 };
	const char *head = "HEAD /f HTTP/1.1\r\n\r\n";
	__u32 q = 1, r = 1, i;

	(void)state;
	seg(&cv, IN, q, r, head, 0, 100);
	q += (__u32)strlen(head);
	seg(&cv, OUT, r, q, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n", 0, 150);
	r += 41;
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.method, LP_METHOD_HEAD);
	for (i = 0; i < 2; i++) {
		seg(&cv, IN, q, r, REQ, 0, 1000 * (i + 1));
		q += RL;
		seg(&cv, OUT, r, q, rsps[i], 0, 1000 * (i + 1) + 70);
		r += (__u32)strlen(rsps[i]);
		assert_int_equal(cv.samples, 2 + i);
		assert_int_equal(cv.last.ns, 70);
	}
	/* and the next response on the connection is framed as usual */
	seg(&cv, IN, q, r, REQ, 0, 5000);
	seg(&cv, OUT, r, q + RL, RSP, 0, 5009);
	assert_int_equal(cv.samples, 4);
	assert_int_equal(cv.last.ns, 9);
}

static void test_close_delimited_body_ends_at_the_responder_fin(void **state)
{
	struct conv cv = { 0 };
	const char *head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n";
	__u32 hl = (__u32)strlen(head);

	(void)state;
	seg(&cv, IN, 1, 1, "GET /old HTTP/1.0\r\n\r\n", 0, 100);
	seg(&cv, OUT, 1, 22, head, 0, 200);
	seg(&cv, OUT, 1 + hl, 22, "part one ", 0, 300);
	seg(&cv, OUT, 1 + hl + 9, 22, "part two", LP_TCP_FIN, 900);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 800);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
}

static void test_client_side_request_out_response_in(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, OUT, 500, 7000, "POST /api HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 0, 10);
	seg(&cv, IN, 7000, 0, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0, 260);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.side, LP_SIDE_CLIENT);
	assert_int_equal(cv.last.method, LP_METHOD_POST);
	assert_int_equal(cv.last.status, 201);
	assert_int_equal(cv.last.ns, 250);
}

/* Client side, a body segment lost: the out-of-order last segment does not end it; the retransmission does. */
static void test_out_of_order_body_on_the_client_ends_when_the_hole_fills(void **state)
{
	struct conv cv = { 0 };
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n";
	__u32 hl = (__u32)strlen(head);

	(void)state;
	seg(&cv, OUT, 1, 1, REQ, 0, 100);
	seg(&cv, IN, 1, 1 + RL, head, 0, 200);
	seg(&cv, IN, 1 + hl + 4, 1 + RL, "efgh", 0, 300); /* ahead: abcd lost */
	assert_int_equal(cv.samples, 0);
	seg(&cv, IN, 1 + hl, 1 + RL, "abcd", 0, 700); /* the retransmission fills the hole */
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 600);
	assert_int_equal(cv.counters[LP_CNT_UNFRAMED], 0);
}

static void test_get_inside_post_body_is_not_a_request(void **state)
{
	struct conv cv = { 0 };
	const char *post = "POST /up HTTP/1.1\r\nContent-Length: 20\r\n\r\n";
	__u32 pl = (__u32)strlen(post);

	(void)state;
	seg(&cv, IN, 1, 1, post, 0, 100);
	seg(&cv, IN, 1 + pl, 1, "GET / HTTP/1.1\r\n\r\n..", 0, 150); /* the 20 body bytes */
	seg(&cv, OUT, 1, 1 + pl + 20, RSP, 0, 400);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.method, LP_METHOD_POST);
	assert_int_equal(cv.last.ns, 300);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 0);
}

static void test_sequence_numbers_wrap(void **state)
{
	struct conv cv = { 0 };
	__u32 q = 0xffffffe0u, r = 0xfffffff0u;

	(void)state;
	seg(&cv, IN, q, r, REQ, 0, 10);
	seg(&cv, OUT, r, q + RL, RSP, 0, 20); /* crosses 2^32 */
	seg(&cv, IN, q + RL, r + SL, REQ, 0, 30);
	seg(&cv, IN, q, 0, REQ, 0, 35); /* old: a retransmission */
	seg(&cv, OUT, r + SL, 0, RSP, 0, 45);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.ns, 15);
	assert_int_equal(cv.counters[LP_CNT_RETRANSMITS], 1);
}

static void test_100_continue_is_timed_to_the_final_response(void **state)
{
	struct conv cv = { 0 };
	const char *hdr = "POST /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
	__u32 hl = (__u32)strlen(hdr);

	(void)state;
	seg(&cv, IN, 1, 1, hdr, 0, 100);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 100 Continue\r\n\r\n", 0, 150);
	seg(&cv, IN, 1 + hl, 26, "GET ", 0, 200);
	seg(&cv, OUT, 26, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 900);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 800);
	assert_int_equal(cv.last.status, 200);
	assert_int_equal(cv.counters[LP_CNT_INTERIM], 1);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
}

/* 103 and 200 in one segment, then a slow POST on the same connection. */
static void test_interim_and_final_in_one_segment_then_a_slow_response(void **state)
{
	struct conv cv = { 0 };
	const char *both = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
			   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	const char *post = "POST /p HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	__u32 bl = (__u32)strlen(both);

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 1000);
	seg(&cv, OUT, 1, 1 + RL, both, 0, 1090);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.status, 200);
	assert_int_equal(cv.last.ns, 90);
	seg(&cv, IN, 1 + RL, 1 + bl, post, 0, 2000);
	seg(&cv, OUT, 1 + bl, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0,
	    1502000);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.status, 404);
	assert_int_equal(cv.last.method, LP_METHOD_POST);
	assert_int_equal(cv.last.ns, 1500000);
	assert_int_equal(cv.counters[LP_CNT_INTERIM], 1);
}

static void test_101_ends_tracking_websocket_frames_are_ignored(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 0, 10);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, 30);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.status, 101);
	assert_int_equal(cv.counters[LP_CNT_UPGRADED], 1);
	seg(&cv, IN, 100, 0, "GET / HTTP/1.1\r\n\r\n", 0, 40);
	seg(&cv, OUT, 200, 0, "HTTP/1.1 200 OK\r\n\r\n", 0, 50);
	seg(&cv, IN, 300, 0, "", LP_TCP_RST, 60);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
}

static void test_pipelined_requests_in_separate_segments_are_each_timed(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 10);
	seg(&cv, IN, 1 + RL, 1, REQ, 0, 20);
	seg(&cv, IN, 1 + 2 * RL, 1, REQ, 0, 30);
	seg(&cv, OUT, 1, 0, RSP, 0, 110);
	seg(&cv, OUT, 1 + SL, 0, RSP, 0, 220);
	seg(&cv, OUT, 1 + 2 * SL, 0, RSP, 0, 330);
	assert_int_equal(cv.samples, 3);
	assert_int_equal(cv.all[0], 100);
	assert_int_equal(cv.all[1], 200);
	assert_int_equal(cv.all[2], 300);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 3);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 0);
}

/* Each request's route travels with it to its response's samples, pipelined too. */
static void test_each_sample_carries_its_own_requests_route(void **state)
{
	static const char R1[] = "GET /api/users/1 HTTP/1.1\r\n\r\n";
	static const char R2[] = "GET /healthz HTTP/1.1\r\n\r\n";
	static const char R3[] = "GET /elsewhere?x=/api HTTP/1.1\r\n\r\n";
	__u32 l1 = sizeof(R1) - 1, l2 = sizeof(R2) - 1;
	struct conv cv = { 0 }, plain = { 0 };
	char e[256];

	(void)state;
	assert_int_equal(lp_routes_add(&test_routes, "users=/api/users", false, e, sizeof(e)), 0);
	assert_int_equal(lp_routes_add(&test_routes, "/healthz", true, e, sizeof(e)), 0);
	test_nents = lp_routes_entries(&test_routes, test_ents, LP_ROUTE_ENTRIES);
	/* three pipelined requests, each in a segment of its own, then their responses */
	seg(&cv, IN, 1, 1, R1, 0, 10);
	seg(&cv, IN, 1 + l1, 1, R2, 0, 20);
	seg(&cv, IN, 1 + l1 + l2, 1, R3, 0, 30);
	seg(&cv, OUT, 1, 0, RSP, 0, 110);
	assert_int_equal(cv.last_ttfb.route, LP_ROUTE_FIRST);
	seg(&cv, OUT, 1 + SL, 0, RSP, 0, 220);
	assert_int_equal(cv.last_ttfb.route, LP_ROUTE_EXCLUDED | 0);
	seg(&cv, OUT, 1 + 2 * SL, 0, RSP, 0, 330);
	assert_int_equal(cv.samples, 3);
	assert_int_equal(cv.route[0], LP_ROUTE_FIRST);
	assert_int_equal(cv.route[1], LP_ROUTE_EXCLUDED | 0);
	assert_int_equal(cv.route[2], LP_ROUTE_UNROUTED);
	assert_int_equal(cv.all[2], 300);
	/* without routes: no route at all */
	memset(&test_routes, 0, sizeof(test_routes));
	test_nents = 0;
	seg(&plain, IN, 1, 1, R1, 0, 10);
	seg(&plain, OUT, 1, 0, RSP, 0, 110);
	assert_int_equal(plain.samples, 1);
	assert_int_equal(plain.route[0], LP_ROUTE_NONE);
}

/* Requests framed exactly: one segment with three of them times all three; so does one with three responses. */
static void test_pipelined_requests_and_responses_in_one_segment(void **state)
{
	struct conv cv = { 0 };
	char three[3 * sizeof(RSP)];

	(void)state;
	seg(&cv, IN, 1, 1, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nHEAD /3 HTTP/1.1\r\n\r\n",
	    0, 10);
	snprintf(three, sizeof(three), "%s%s%s", RSP, RSP, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
	seg(&cv, OUT, 1, 0, three, 0, 50);
	assert_int_equal(cv.samples, 3);
	assert_int_equal(cv.last.method, LP_METHOD_HEAD);
	assert_int_equal(cv.all[0], 40);
	assert_int_equal(cv.all[2], 40);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 3);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 0);
}

static void test_more_pipelined_requests_than_the_queue_are_untimed_never_misassigned(void **state)
{
	struct conv cv = { 0 };
	__u32 i;

	(void)state;
	for (i = 0; i < 6; i++)
		seg(&cv, IN, 1 + i * RL, 1, REQ, 0, 10 * (i + 1));
	for (i = 0; i < 6; i++)
		seg(&cv, OUT, 1 + i * SL, 0, RSP, 0, 1000 + i);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], LP_PIPE);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 6 - LP_PIPE);
	assert_int_equal(cv.samples, LP_PIPE);
	for (i = 0; i < LP_PIPE; i++)
		assert_int_equal(cv.all[i], 1000 + i - 10 * (i + 1));
	/* answered, the queue has room again: a full queue of requests, each timed */
	for (i = 6; i < 6 + LP_PIPE; i++)
		seg(&cv, IN, 1 + i * RL, 1, REQ, 0, 2000 + i);
	for (i = 6; i < 6 + LP_PIPE; i++)
		seg(&cv, OUT, 1 + i * SL, 0, RSP, 0, 3000 + 2 * i);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 2 * LP_PIPE);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 6 - LP_PIPE);
	assert_int_equal(cv.samples, 2 * LP_PIPE);
	for (i = 6; i < 6 + LP_PIPE; i++)
		assert_int_equal(cv.all[LP_PIPE + i - 6], 1000 + i);
}

static void test_responder_fin_or_any_rst_with_a_response_unfinished_is_unanswered(void **state)
{
	struct conv a = { 0 }, b = { 0 }, c = { 0 };

	(void)state;
	seg(&a, IN, 1, 1, REQ, 0, 10);
	seg(&a, OUT, 1, 0, "", LP_TCP_FIN, 20);
	assert_int_equal(a.counters[LP_CNT_UNANSWERED], 1);
	seg(&b, IN, 1, 1, REQ, 0, 10);
	seg(&b, IN, 1 + RL, 0, "", LP_TCP_RST, 20);
	assert_int_equal(b.counters[LP_CNT_UNANSWERED], 1);
	/* a response cut short by the close: not a sample */
	seg(&c, IN, 1, 1, REQ, 0, 10);
	seg(&c, OUT, 1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nab", LP_TCP_FIN, 20);
	assert_int_equal(c.samples, 0);
	assert_int_equal(c.counters[LP_CNT_UNANSWERED], 1);
}

static void test_requester_half_close_keeps_waiting_for_the_response(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, REQ, LP_TCP_FIN, 10);
	seg(&cv, OUT, 1, 0, RSP, 0, 50);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 40);
}

static void test_request_start_split_into_single_bytes_is_untimed_not_misread(void **state)
{
	struct conv cv = { 0 };
	__u32 i;

	(void)state;
	for (i = 0; i < RL; i++)
		segn(&cv, IN, 1 + i, 1, REQ + i, 1, 0, 10 + i);
	seg(&cv, OUT, 1, 0, RSP, 0, 500);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 0);
	/* the next request in a segment of its own is timed again */
	seg(&cv, IN, 1 + RL, 0, REQ, 0, 1000);
	seg(&cv, OUT, 1 + SL, 0, RSP, 0, 1200);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.ns, 200);
}

static void test_non_http_traffic_creates_no_state(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0, 10);
	seg(&cv, OUT, 1, 1, "SSH-2.0-OpenSSH_9.2\r\n", 0, 20);
	seg(&cv, IN, 50, 1, "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", 0, 30);
	assert_false(cv.has_state);
	assert_int_equal(cv.samples, 0);
}

static void test_response_without_request_is_an_orphan(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, OUT, 1, 1, RSP, 0, 10);
	assert_false(cv.has_state);
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 1);
}

static void test_connect_tunnel_ends_tracking(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, OUT, 1, 1, "CONNECT example.org:443 HTTP/1.1\r\n\r\n", 0, 10);
	seg(&cv, IN, 1, 0, "HTTP/1.1 200 Connection established\r\n\r\n", 0, 60);
	seg(&cv, IN, 41, 0, "HTTP/1.1 200 OK\r\n\r\n", LP_TCP_FIN, 70);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.method, LP_METHOD_CONNECT);
	assert_int_equal(cv.counters[LP_CNT_UPGRADED], 1);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
}

/* A sample whose end precedes its start (state raced by two CPUs) is discarded and counted. */
static void test_impossible_samples_are_discarded_and_counted(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 1000);
	seg(&cv, OUT, 1, 0, RSP, 0, 500);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.ttfbs, 0);
	assert_int_equal(cv.counters[LP_CNT_DISCARDED], 2);
	seg(&cv, IN, 1 + RL, 0, REQ, 0, 1000);
	seg(&cv, OUT, 1 + SL, 0, RSP, 0, 1000 + LP_MAX_SAMPLE_NS + 1);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_DISCARDED], 4);
}

/*
 * Two CPUs taking segments of one direction at once (a loopback sender in
 * process context on one, its ACK-clocked sends in softirq on the other):
 * each thread here takes every other segment of a stream, in and out of
 * order. Whatever the interleaving, once every segment was taken, next is
 * the end of the stream: no update of next or max is lost (with plain
 * stores, the e2e download test lost a response's end now and then).
 */
#define RACE_SEGS 65536
#define RACE_LEN  1000u

struct race {
	struct lp_dir *d;
	__u32 base;
	int parity;
	pthread_barrier_t *go; /* both start at once */
	int gaveup;	       /* takes that lost every race (counted as skipped segments) */
};

/*
 * A CPU does more per segment than take it (parse, read, frame: hundreds of
 * ns); without that, two threads doing nothing but compare-and-swap on one
 * line can starve one another for hundreds of tries.
 */
static void segment_work(void)
{
	volatile int w;

	for (w = 0; w < 64; w++)
		;
}

static void *race_taker(void *arg)
{
	struct race *r = arg;
	int i, gaveup;

	pthread_barrier_wait(r->go);
	for (i = r->parity; i < RACE_SEGS; i += 2) {
		/* now and then a segment ahead of the one that should come first */
		int k = (i % 7 == r->parity && i + 2 < RACE_SEGS) ? i + 2 : i;
		int j = k == i + 2 ? i : -1;

		segment_work();
		lp_seq_take(r->d, r->base + (__u32)k * RACE_LEN, RACE_LEN, 1, &gaveup);
		r->gaveup += gaveup;
		if (j >= 0) {
			segment_work();
			lp_seq_take(r->d, r->base + (__u32)j * RACE_LEN, RACE_LEN, 1, &gaveup);
			r->gaveup += gaveup;
			i += 2; /* both taken */
		}
	}
	return NULL;
}

static void test_two_cpus_taking_one_direction_lose_nothing(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 50; round++) {
		struct lp_dir d = { 0 };
		/* near the wrap, so the comparisons are the wrap-safe ones */
		__u32 base = 0xfff00000u + (__u32)round * 7919u;
		pthread_barrier_t go;
		struct race a = { &d, base, 0, &go, 0 }, b = { &d, base, 1, &go, 0 };
		pthread_t ta, tb;

		pthread_barrier_init(&go, NULL, 2);
		d.next = d.max = base;
		assert_int_equal(pthread_create(&ta, NULL, race_taker, &a), 0);
		assert_int_equal(pthread_create(&tb, NULL, race_taker, &b), 0);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_barrier_destroy(&go);
		if (d.next != base + RACE_SEGS * RACE_LEN || d.max != d.next || a.gaveup ||
		    b.gaveup) {
			print_error("round %d: next %u max %u, want both %u (gave up %d + %d)\n",
				    round, d.next, d.max, base + RACE_SEGS * RACE_LEN, a.gaveup,
				    b.gaveup);
			fail();
		}
	}
}

/*
 * A sent direction is taken with plain stores (TCP transmits only under the
 * socket's lock): segment by segment, in order, ahead, retransmitted and
 * across the wrap, the plain take leaves the same next and max and returns
 * the same previous next as the compare-and-swap one.
 */
static void test_plain_take_of_a_sent_direction_matches_the_shared_one(void **state)
{
	/* offsets (in 100-byte units from base) and lengths of the segments, in arrival order */
	static const struct {
		__u32 at, len;
	} segs[] = { { 0, 1 }, { 1, 3 }, { 6, 2 }, { 4, 1 }, { 1, 2 }, { 5, 1 }, { 8, 4 },
		     { 7, 1 }, { 12, 1 }, { 10, 5 }, { 20, 1 }, { 15, 5 } };
	__u32 base = 0xffffff00u; /* the wrap falls inside the stream */
	struct lp_dir a = { 0 }, b = { 0 };
	unsigned i;

	(void)state;
	a.next = a.max = b.next = b.max = base;
	for (i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		__u32 seq = base + segs[i].at * 100, len = segs[i].len * 100;
		int ga = 1, gb = 1;
		__u32 pa = lp_seq_take(&a, seq, len, 1, &ga);
		__u32 pb = lp_seq_take(&b, seq, len, 0, &gb);

		assert_int_equal(pa, pb);
		assert_int_equal(a.next, b.next);
		assert_int_equal(a.max, b.max);
		assert_int_equal(ga, 0);
		assert_int_equal(gb, 0);
	}
	/* every byte up to 2100 arrived: next caught up with max, across the wrap */
	assert_int_equal(b.next, base + 2100);
	assert_int_equal(b.max, base + 2100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_keepalive_times_each_request_to_the_last_response_byte),
		cmocka_unit_test(test_content_length_body_in_parts_ends_at_its_last_byte),
		cmocka_unit_test(test_chunked_body_ends_at_the_zero_chunk_and_trailers),
		cmocka_unit_test(test_chunked_body_split_at_every_byte),
		cmocka_unit_test(test_no_body_for_head_204_304_whatever_the_length_says),
		cmocka_unit_test(test_close_delimited_body_ends_at_the_responder_fin),
		cmocka_unit_test(test_client_side_request_out_response_in),
		cmocka_unit_test(test_out_of_order_body_on_the_client_ends_when_the_hole_fills),
		cmocka_unit_test(test_get_inside_post_body_is_not_a_request),
		cmocka_unit_test(test_sequence_numbers_wrap),
		cmocka_unit_test(test_100_continue_is_timed_to_the_final_response),
		cmocka_unit_test(test_interim_and_final_in_one_segment_then_a_slow_response),
		cmocka_unit_test(test_101_ends_tracking_websocket_frames_are_ignored),
		cmocka_unit_test(test_pipelined_requests_in_separate_segments_are_each_timed),
		cmocka_unit_test(test_pipelined_requests_and_responses_in_one_segment),
		cmocka_unit_test(test_each_sample_carries_its_own_requests_route),
		cmocka_unit_test(test_more_pipelined_requests_than_the_queue_are_untimed_never_misassigned),
		cmocka_unit_test(test_responder_fin_or_any_rst_with_a_response_unfinished_is_unanswered),
		cmocka_unit_test(test_requester_half_close_keeps_waiting_for_the_response),
		cmocka_unit_test(test_request_start_split_into_single_bytes_is_untimed_not_misread),
		cmocka_unit_test(test_non_http_traffic_creates_no_state),
		cmocka_unit_test(test_response_without_request_is_an_orphan),
		cmocka_unit_test(test_connect_tunnel_ends_tracking),
		cmocka_unit_test(test_impossible_samples_are_discarded_and_counted),
		cmocka_unit_test(test_two_cpus_taking_one_direction_lose_nothing),
		cmocka_unit_test(test_plain_take_of_a_sent_direction_matches_the_shared_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
