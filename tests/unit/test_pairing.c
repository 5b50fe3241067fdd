// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pairing requests with responses when response framing is lost
 * (include/lp_h1.h): a sample is exact or is not made. The bytes framing
 * could not follow may hold the ends of several waiting requests'
 * responses, so after a loss with requests waiting no response pairs with
 * a request until as many responses have begun as requests; every request
 * is accounted for by a counter (requests, untimed, unpaired) and every
 * timed one by a sample, unframed or unanswered.
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

static const char GET[] = "GET /p HTTP/1.1\r\nHost: x\r\n\r\n";
#define GL ((__u32)sizeof(GET) - 1)

/* a chunked response of three chunks */
static const char CH3[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "4\r\nabcd\r\n4\r\nefgh\r\n4\r\nijkl\r\n0\r\n\r\n";
#define CL ((__u32)sizeof(CH3) - 1)
static const char OK2[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
#define OL ((__u32)sizeof(OK2) - 1)

#define MS 1000000ULL

/*
 * Nothing vanishes: every request is counted at its start (requests or
 * untimed), and every timed one ends as a sample or a counter (unframed,
 * unanswered, unpaired).
 */
static void assert_accounted(const struct conv *cv, __u64 begun)
{
	assert_int_equal(cv->counters[LP_CNT_REQUESTS] + cv->counters[LP_CNT_UNTIMED], begun);
	assert_int_equal(cv->counters[LP_CNT_REQUESTS],
			 (__u64)cv->samples + cv->counters[LP_CNT_UNFRAMED] +
				 cv->counters[LP_CNT_UNANSWERED] + cv->counters[LP_CNT_UNPAIRED]);
}

/* every sample is one of the true durations */
static void assert_only_truths(const struct conv *cv, __u64 a, __u64 b)
{
	int i;

	for (i = 0; i < cv->samples && i < 64; i++)
		if (cv->all[i] != a && cv->all[i] != b)
			fail_msg("sample %d: %llu ns, the truth is %llu or %llu", i,
				 (unsigned long long)cv->all[i], (unsigned long long)a,
				 (unsigned long long)b);
}

/*
 * The audit's case: four pipelined GETs answered 200 ms later by four
 * chunked responses in one segment (more framing steps than a segment is
 * given), then four GETs one second apart on the same connection. Each is
 * timed right or counted; the lost bytes held whole responses, so pairing
 * never becomes certain again on this connection.
 */
static void test_pipelined_chunked_responses_beyond_the_steps_never_mispair(void **state)
{
	struct conv cv = {0};
	char all[4 * sizeof(CH3)];
	__u32 q = 1, r = 1, i;

	(void)state;
	for (i = 0; i < 4; i++) {
		seg(&cv, IN, q, r, GET, 0, 1 * MS);
		q += GL;
	}
	for (i = 0; i < 4; i++)
		memcpy(all + i * CL, CH3, CL);
	segn(&cv, OUT, r, q, all, 4 * CL, 0, 201 * MS);
	r += 4 * CL;
	for (i = 0; i < 4; i++) {
		seg(&cv, IN, q, r, GET, 0, (1000 + 1000 * i) * MS);
		q += GL;
		seg(&cv, OUT, r, q, OK2, 0, (1000 + 1000 * i) * MS + 200000);
		r += OL;
	}
	seg(&cv, OUT, r, q, "", LP_TCP_FIN, 6000 * MS);
	assert_only_truths(&cv, 200 * MS, 200000);
	assert_true(cv.samples >= 1); /* the first response is framed whole */
	assert_int_equal(cv.all[0], 200 * MS);
	assert_int_equal(cv.counters[LP_CNT_UNFRAMED], 1);
	assert_true(cv.counters[LP_CNT_UNPAIRED] >= 4);
	assert_accounted(&cv, 8);
}

/*
 * A GET and a DELETE pipelined; the GET's response head is split across
 * segments (unframed) and its segment also holds the DELETE's response.
 * The next response must not be taken for the DELETE's.
 */
static void test_unframed_response_never_moves_a_time_onto_the_next_method(void **state)
{
	static const char del[] = "DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char part1[] = "HTTP/1.1 200 OK\r\nContent-Le";
	static const char part2[] = "ngth: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n";
	struct conv cv = {0};
	__u32 q = 1, r = 1;

	(void)state;
	seg(&cv, IN, q, r, GET, 0, 1 * MS);
	q += GL;
	seg(&cv, IN, q, r, del, 0, 1 * MS);
	q += (__u32)strlen(del);
	seg(&cv, OUT, r, q, part1, 0, 10 * MS);
	r += (__u32)strlen(part1);
	seg(&cv, OUT, r, q, part2, 0, 11 * MS);
	r += (__u32)strlen(part2);
	/* half a second later, a GET and its response */
	seg(&cv, IN, q, r, GET, 0, 500 * MS);
	q += GL;
	seg(&cv, OUT, r, q, OK2, 0, 501 * MS);
	r += OL;
	seg(&cv, OUT, r, q, "", LP_TCP_FIN, 900 * MS);
	for (int i = 0; i < cv.samples; i++)
		assert_int_not_equal(cv.method[i], LP_METHOD_DELETE);
	assert_only_truths(&cv, 1 * MS, 1 * MS);
	assert_accounted(&cv, 3);
}

/*
 * Loss with a request waiting whose response was not in the lost bytes:
 * once as many responses have begun as requests, pairing is certain and
 * the next request is timed again, exactly.
 */
static void test_pairing_is_certain_again_once_every_request_had_a_response(void **state)
{
	struct conv cv = {0};
	__u32 q = 1, r = 1;

	(void)state;
	seg(&cv, IN, q, r, GET, 0, 1 * MS);
	q += GL;
	seg(&cv, IN, q, r, GET, 0, 2 * MS);
	q += GL;
	seg(&cv, OUT, r, q, "HTTP/1.1 200 OK\r\nContent-Le", 0, 10 * MS);
	r += 27;
	seg(&cv, OUT, r, q, "ngth: 2\r\n\r\nok", 0, 11 * MS);
	r += 13;
	seg(&cv, OUT, r, q, OK2, 0, 20 * MS); /* the second's: paired, not timed */
	r += OL;
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_UNPAIRED], 1);
	seg(&cv, IN, q, r, GET, 0, 100 * MS);
	q += GL;
	seg(&cv, OUT, r, q, OK2, 0, 103 * MS);
	r += OL;
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.all[0], 3 * MS);
	seg(&cv, OUT, r, q, "", LP_TCP_FIN, 900 * MS);
	assert_accounted(&cv, 3);
}

/*
 * One response of many chunks in one segment runs out of framing steps with
 * no other request waiting: no sample for it, and pairing stays certain.
 */
static void test_a_response_beyond_the_steps_alone_is_unframed_and_the_next_exact(void **state)
{
	char rsp[1024] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct conv cv = {0};
	__u32 q = 1, r = 1, i, n;

	(void)state;
	for (i = 0; i < 40; i++)
		strcat(rsp, "1\r\nx\r\n");
	strcat(rsp, "0\r\n\r\n");
	n = (__u32)strlen(rsp);
	seg(&cv, IN, q, r, GET, 0, 1 * MS);
	q += GL;
	seg(&cv, OUT, r, q, rsp, 0, 5 * MS);
	r += n;
	assert_int_equal(cv.samples, 0);
	seg(&cv, IN, q, r, GET, 0, 100 * MS);
	q += GL;
	seg(&cv, OUT, r, q, OK2, 0, 107 * MS);
	r += OL;
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.all[0], 7 * MS);
	assert_int_equal(cv.counters[LP_CNT_UNFRAMED], 1);
	assert_int_equal(cv.counters[LP_CNT_UNPAIRED], 0);
	seg(&cv, OUT, r, q, "", LP_TCP_FIN, 900 * MS);
	assert_accounted(&cv, 2);
}

/* Each request waiting at the close is counted, not the connection once. */
static void test_every_request_waiting_at_the_close_is_counted(void **state)
{
	struct conv cv = {0};
	__u32 q = 1, i;

	(void)state;
	for (i = 0; i < 3; i++) {
		seg(&cv, IN, q, 1, GET, 0, 1 * MS);
		q += GL;
	}
	seg(&cv, OUT, 1, q, OK2, 0, 2 * MS);
	seg(&cv, OUT, 1 + OL, q, "", LP_TCP_RST, 3 * MS);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 2);
	assert_accounted(&cv, 3);
}

/* A head split before its length: counted unframed, no sample; the next response is exact. */
static void test_unframed_response_is_counted_not_sampled_and_the_next_is_exact(void **state)
{
	struct conv cv = {0};

	(void)state;
	seg(&cv, IN, 1, 1, GET, 0, 100);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 200 OK\r\nContent-Le", 0, 200);
	seg(&cv, OUT, 28, 0, "ngth: 5\r\n\r\nab", 0, 300);
	seg(&cv, OUT, 41, 0, "cde", 0, 700); /* body: its last byte */
	assert_int_equal(cv.samples, 0);
	seg(&cv, IN, 1 + GL, 44, GET, 0, 5000);
	seg(&cv, OUT, 44, 0, OK2, 0, 5100); /* the next response ends it */
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.all[0], 100);
	assert_int_equal(cv.counters[LP_CNT_UNFRAMED], 1);
	assert_int_equal(cv.counters[LP_CNT_UNPAIRED], 0);
}

static void test_an_unframed_response_at_the_close_is_counted_not_sampled(void **state)
{
	struct conv cv = {0};

	(void)state;
	seg(&cv, IN, 1, 1, GET, 0, 100);
	seg(&cv, OUT, 1, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 200);
	seg(&cv, OUT, 52, 0, "more", 0, 400);
	seg(&cv, OUT, 56, 0, "", LP_TCP_FIN, 9000);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_UNFRAMED], 1);
	assert_int_equal(cv.counters[LP_CNT_UNANSWERED], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_chunked_responses_beyond_the_steps_never_mispair),
		cmocka_unit_test(test_unframed_response_never_moves_a_time_onto_the_next_method),
		cmocka_unit_test(test_pairing_is_certain_again_once_every_request_had_a_response),
		cmocka_unit_test(
			test_a_response_beyond_the_steps_alone_is_unframed_and_the_next_exact),
		cmocka_unit_test(test_every_request_waiting_at_the_close_is_counted),
		cmocka_unit_test(
			test_unframed_response_is_counted_not_sampled_and_the_next_is_exact),
		cmocka_unit_test(test_an_unframed_response_at_the_close_is_counted_not_sampled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
