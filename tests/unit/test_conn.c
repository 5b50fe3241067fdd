// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The per-connection state machine (include/lp_conn.h), driven through whole
 * conversations exactly as bpf/latprobe.bpf.c drives it: classify the first
 * 16 bytes, step existing state, or create state for a request start.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "lp_conn.h"

#define IN  1
#define OUT 0

struct conv {
	struct lp_conn c;
	int has_state;
	__u64 counters[LP_CNT_MAX];
	int samples;
	struct lp_verdict last; /* of the last sample */
};

/* one segment; payload may hold NULs when len is given */
static void segn(struct conv *cv, int ingress, __u32 seq, __u32 ack, const char *payload,
		 __u32 len, __u8 flags, __u64 now)
{
	struct lp_seg s = { .seq = seq, .ack = ack, .plen = len, .tcp_flags = flags,
			    .ingress = (__u8)ingress };
	struct lp_verdict v = { 0 };
	__u32 n = len < LP_CLASSIFY_BYTES ? len : LP_CLASSIFY_BYTES;
	int i;

	if (n)
		s.cls = (__u8)lp_classify((const __u8 *)payload, n, &s.method, &s.status);
	if (!len && !(flags & (LP_TCP_FIN | LP_TCP_RST)))
		return; /* the kernel's cheap path */
	if (cv->has_state) {
		lp_conn_step(&cv->c, &s, now, &v);
	} else if (lp_conn_wants_state(&s)) {
		memset(&cv->c, 0, sizeof(cv->c));
		cv->has_state = 1;
		lp_conn_init(&cv->c, &s, now, &v);
	} else if (s.cls == LP_CLASS_RESPONSE) {
		v.counters |= 1u << LP_CNT_ORPHAN_RESPONSES;
	}
	for (i = 0; i < LP_CNT_MAX; i++)
		if (v.counters & (1u << i))
			cv->counters[i]++;
	if (v.record) {
		cv->samples++;
		cv->last = v;
	}
}

static void seg(struct conv *cv, int ingress, __u32 seq, __u32 ack, const char *payload,
		__u8 flags, __u64 now)
{
	segn(cv, ingress, seq, ack, payload, (__u32)strlen(payload), flags, now);
}

static const char REQ[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
static const char RSP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
#define RL ((__u32)sizeof(REQ) - 1)
#define SL ((__u32)sizeof(RSP) - 1)

static void test_server_keepalive_times_each_request_to_the_first_response_byte(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1000, 9000, REQ, 0, 100);
	seg(&cv, OUT, 9000, 1000 + RL, RSP, 0, 1100);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.latency_ns, 1000);
	assert_int_equal(cv.last.side, LP_SIDE_SERVER);
	assert_int_equal(cv.last.method, LP_METHOD_GET);
	assert_int_equal(cv.last.status, 200);
	/* the next request on the same connection */
	seg(&cv, IN, 1000 + RL, 9000 + SL, "POST /x HTTP/1.1\r\n\r\n", 0, 5000);
	seg(&cv, OUT, 9000 + SL, 0, "HTTP/1.1 201 Created\r\n\r\n", 0, 5250);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.latency_ns, 250);
	assert_int_equal(cv.last.method, LP_METHOD_POST);
	assert_int_equal(cv.last.status, 201);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 2);
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 0);
}

static void test_client_side_request_out_response_in(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, OUT, 1, 500, REQ, 0, 10);
	seg(&cv, IN, 500, 1 + RL, "HTTP/1.0 404 Not Found\r\n\r\n", 0, 70);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.side, LP_SIDE_CLIENT);
	assert_int_equal(cv.last.status, 404);
	assert_int_equal(cv.last.latency_ns, 60);
}

static void test_response_body_segments_never_end_or_start_a_timing(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1000, 9000, REQ, 0, 100);
	seg(&cv, OUT, 9000, 0, RSP, 0, 200);
	/* later body segments of the same response that look like HTTP */
	seg(&cv, OUT, 9000 + SL, 0, "GET / HTTP/1.1\r\n", 0, 210);
	seg(&cv, OUT, 9000 + SL + 16, 0, "HTTP/1.1 200 OK\r\n", 0, 220);
	assert_int_equal(cv.samples, 1);
	/* a status line with nothing pending is counted, never a sample */
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 1);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
	/* the role stays server: the next request in is timed normally */
	seg(&cv, IN, 1000 + RL, 0, REQ, 0, 1000);
	seg(&cv, OUT, 9000 + SL + 33, 0, RSP, 0, 1500);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.latency_ns, 500);
}

static void test_get_inside_post_body_is_not_a_request(void **state)
{
	struct conv cv = { 0 };
	const char *hdr = "POST /upload HTTP/1.1\r\nContent-Length: 34\r\n\r\n";
	__u32 hl = (__u32)strlen(hdr);

	(void)state;
	seg(&cv, IN, 1, 7, hdr, 0, 100);
	seg(&cv, IN, 1 + hl, 7, "GET / HTTP/1.1\r\n", 0, 110);
	seg(&cv, IN, 1 + hl + 16, 7, "HTTP/1.1 200 OK\r\n\r\n", 0, 120);
	seg(&cv, OUT, 7, 0, "HTTP/1.1 200 OK\r\n\r\n", 0, 400);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.method, LP_METHOD_POST);
	assert_int_equal(cv.last.latency_ns, 300);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 0);
}

static void test_retransmitted_request_and_response_are_ignored(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1000, 9000, REQ, 0, 100);
	seg(&cv, IN, 1000, 9000, REQ, 0, 300); /* retransmission: the timing keeps its start */
	seg(&cv, OUT, 9000, 0, RSP, 0, 1100);
	seg(&cv, OUT, 9000, 0, RSP, 0, 1400); /* response retransmitted */
	seg(&cv, IN, 1000, 9000, REQ, 0, 1500); /* a very late duplicate of the request */
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.latency_ns, 1000);
	assert_int_equal(cv.counters[LP_CNT_RETRANSMITS], 3);
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 0);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
}

static void test_out_of_order_request_segments_time_from_the_start_segment(void **state)
{
	struct conv cv = { 0 };
	const char *hdr = "PUT /a HTTP/1.1\r\nContent-Length: 16\r\n\r\n";
	__u32 hl = (__u32)strlen(hdr);

	(void)state;
	/* first request normally, so the connection has state */
	seg(&cv, IN, 100, 1, REQ, 0, 10);
	seg(&cv, OUT, 1, 0, RSP, 0, 20);
	/* the body (which looks like a request) overtakes the start segment */
	seg(&cv, IN, 100 + RL + hl, 1 + SL, "GET /x HTTP/1.1\r\n", 0, 30);
	seg(&cv, IN, 100 + RL, 1 + SL, hdr, 0, 40);
	seg(&cv, OUT, 1 + SL, 0, RSP, 0, 90);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.method, LP_METHOD_PUT);
	assert_int_equal(cv.last.latency_ns, 50);
	/* and the stream resumes after the hole: the next request is timed */
	seg(&cv, IN, 100 + RL + hl + 17, 0, REQ, 0, 100);
	seg(&cv, OUT, 1 + 2 * SL, 0, RSP, 0, 130);
	assert_int_equal(cv.samples, 3);
	assert_int_equal(cv.last.latency_ns, 30);
}

static void test_out_of_order_response_segments_on_the_client(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, OUT, 1, 1000, REQ, 0, 10);
	/* the second segment of the response overtakes the first */
	seg(&cv, IN, 1000 + 17, 1 + RL, "HTTP/1.1 500 fake body\r\n", 0, 20);
	seg(&cv, IN, 1000, 1 + RL, "HTTP/1.1 200 OK\r\n", 0, 30);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.status, 200);
	assert_int_equal(cv.last.latency_ns, 20);
}

static void test_sequence_numbers_wrap(void **state)
{
	struct conv cv = { 0 };
	__u32 seq = 0xffffffe0u;

	(void)state;
	seg(&cv, IN, seq, 0xfffffff0u, REQ, 0, 10);
	seg(&cv, OUT, 0xfffffff0u, seq + RL, RSP, 0, 20);
	seg(&cv, IN, seq + RL, 0xfffffff0u + SL, REQ, 0, 30); /* crosses 2^32 */
	seg(&cv, IN, seq, 0, REQ, 0, 35);		       /* old: a retransmission */
	seg(&cv, OUT, 0xfffffff0u + SL, 0, RSP, 0, 45);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.last.latency_ns, 15);
	assert_int_equal(cv.counters[LP_CNT_RETRANSMITS], 1);
}

static void test_100_continue_is_interim_latency_ends_at_final_response(void **state)
{
	struct conv cv = { 0 };
	const char *hdr = "POST /a HTTP/1.1\r\nExpect: 100-continue\r\n\r\n";
	__u32 hl = (__u32)strlen(hdr);

	(void)state;
	seg(&cv, IN, 1, 1, hdr, 0, 100);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 100 Continue\r\n\r\n", 0, 150);
	seg(&cv, IN, 1 + hl, 26, "GET this is body\r\n", 0, 200);
	seg(&cv, OUT, 26, 0, "HTTP/1.1 103 Early Hints\r\n\r\n", 0, 250);
	seg(&cv, OUT, 26 + 28, 0, "HTTP/1.1 200 OK\r\n\r\n", 0, 900);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.latency_ns, 800);
	assert_int_equal(cv.last.status, 200);
	assert_int_equal(cv.counters[LP_CNT_INTERIM], 2);
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
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 0);
}

static void test_pipelined_requests_time_the_first_and_count_the_rest(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	/* three requests in one segment: only the first start is visible */
	seg(&cv, IN, 1, 1, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 0,
	    10);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 20);
	seg(&cv, OUT, 39, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 21);
	seg(&cv, OUT, 77, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 22);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 2);
	/* in separate segments: the second and third are counted untimed */
	memset(&cv, 0, sizeof(cv));
	seg(&cv, IN, 1, 1, "GET /1 HTTP/1.1\r\n\r\n", 0, 10);
	seg(&cv, IN, 20, 1, "GET /2 HTTP/1.1\r\n\r\n", 0, 11);
	seg(&cv, IN, 39, 1, "GET /3 HTTP/1.1\r\n\r\n", 0, 12);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 20);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.latency_ns, 10);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 2);
}

static void test_responder_fin_or_any_rst_with_request_pending_is_unanswered(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 10);
	seg(&cv, OUT, 1, 0, "", LP_TCP_FIN, 20);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 1);
	seg(&cv, OUT, 1, 0, "", LP_TCP_FIN, 25); /* FIN retransmitted: counted once */
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 1);

	memset(&cv, 0, sizeof(cv));
	seg(&cv, IN, 1, 1, REQ, 0, 10);
	seg(&cv, IN, 1 + RL, 1, "", LP_TCP_RST, 20); /* the client resets */
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 1);
	assert_int_equal(cv.samples, 0);
}

static void test_requester_half_close_keeps_waiting_for_the_response(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 10);
	seg(&cv, IN, 1 + RL, 1, "", LP_TCP_FIN, 11);
	seg(&cv, OUT, 1, 0, "HTTP/1.0 200 OK\r\n\r\n", LP_TCP_FIN, 50);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.latency_ns, 40);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
}

static void test_request_start_split_into_single_bytes_is_untimed_not_misread(void **state)
{
	struct conv cv = { 0 };
	const char *line = "GET / HTTP/1.1\r\n\r\n";
	__u32 i;

	(void)state;
	for (i = 0; i < strlen(line); i++)
		segn(&cv, IN, 1 + i, 1, line + i, 1, 0, 10 + i);
	seg(&cv, OUT, 1, 0, RSP, 0, 100);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 0);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
	/* the connection is usable afterwards: the next request is timed */
	seg(&cv, IN, 1 + (__u32)strlen(line), 1 + SL, REQ, 0, 200);
	seg(&cv, OUT, 1 + SL, 0, RSP, 0, 260);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.last.latency_ns, 60);
}

static void test_status_line_split_ends_the_request_untimed(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, REQ, 0, 10);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 2", 0, 20);
	seg(&cv, OUT, 11, 0, "00 OK\r\n\r\n", 0, 21);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
	seg(&cv, OUT, 20, 0, "", LP_TCP_FIN, 30);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
}

static void test_non_http_traffic_creates_no_state(void **state)
{
	static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	struct conv cv = { 0 };
	int i;

	(void)state;
	segn(&cv, IN, 1, 1, tls, sizeof(tls) - 1, 0, 1);
	seg(&cv, IN, 20, 1, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, 2);
	seg(&cv, OUT, 1, 20, "*1\r\n$4\r\nPING\r\n", 0, 3);
	segn(&cv, OUT, 30, 20, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8, 0, 4);
	seg(&cv, IN, 60, 1, "", LP_TCP_FIN, 5);
	assert_int_equal(cv.has_state, 0);
	assert_int_equal(cv.samples, 0);
	for (i = 0; i < LP_CNT_MAX; i++)
		assert_int_equal(cv.counters[i], 0);
}

static void test_response_without_request_is_an_orphan(void **state)
{
	struct conv cv = { 0 };

	(void)state;
	seg(&cv, IN, 1, 1, RSP, 0, 10);
	assert_int_equal(cv.has_state, 0);
	assert_int_equal(cv.counters[LP_CNT_ORPHAN_RESPONSES], 1);
	assert_int_equal(cv.samples, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_keepalive_times_each_request_to_the_first_response_byte),
		cmocka_unit_test(test_client_side_request_out_response_in),
		cmocka_unit_test(test_response_body_segments_never_end_or_start_a_timing),
		cmocka_unit_test(test_get_inside_post_body_is_not_a_request),
		cmocka_unit_test(test_retransmitted_request_and_response_are_ignored),
		cmocka_unit_test(test_out_of_order_request_segments_time_from_the_start_segment),
		cmocka_unit_test(test_out_of_order_response_segments_on_the_client),
		cmocka_unit_test(test_sequence_numbers_wrap),
		cmocka_unit_test(test_100_continue_is_interim_latency_ends_at_final_response),
		cmocka_unit_test(test_101_ends_tracking_websocket_frames_are_ignored),
		cmocka_unit_test(test_pipelined_requests_time_the_first_and_count_the_rest),
		cmocka_unit_test(test_responder_fin_or_any_rst_with_request_pending_is_unanswered),
		cmocka_unit_test(test_requester_half_close_keeps_waiting_for_the_response),
		cmocka_unit_test(test_request_start_split_into_single_bytes_is_untimed_not_misread),
		cmocka_unit_test(test_status_line_split_ends_the_request_untimed),
		cmocka_unit_test(test_non_http_traffic_creates_no_state),
		cmocka_unit_test(test_response_without_request_is_an_orphan),
	};

	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
