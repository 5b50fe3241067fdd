// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gRPC calls on HTTP/2 (include/lp_h2.h, lp_hpack.h), through the same
 * state machine as the kernel's (tests/unit/conv.h): the call timed to its
 * response's END_STREAM with the grpc-status of its trailers, literal,
 * Huffman-coded or through the dynamic table; a trailers-only response;
 * and what must end in a count, never a sample with a guessed status:
 * statuses that are no code, references that cannot be resolved, a table
 * evicted by a size update, responses cut at every byte.
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

/* a unary call's request: POST, content-type application/grpc, one empty message */
#define CALL_BLOCK                                                                                 \
	"838684"                                                                                   \
	"5f10"                                                                                     \
	"6170706c69636174696f6e2f67727063"
#define MESSAGE "0000000000"
/* grpc-status with incremental indexing, its name literal ("grpc-status"), then the value */
#define GS_NAME	  "0b677270632d737461747573"
#define GS_LIT(v) "40" GS_NAME v
/* ... its name Huffman-coded (the 8 bytes of its only code), value "0" Huffman-coded */
#define GS_HUFF_0 "40889acac8b21234da8f8107"

static void call(struct conv *cv, __u32 id, __u64 t)
{
	frame(&a, LP_H2_HEADERS, EH, id, CALL_BLOCK);
	frame(&a, LP_H2_DATA, ES, id, MESSAGE);
	in(cv, &a, t);
}

/* the response: HEADERS, a message, then trailers holding block */
static void answer(struct conv *cv, __u32 id, const char *trailers, __u64 t)
{
	frame(&b, LP_H2_HEADERS, EH, id, S200);
	frame(&b, LP_H2_DATA, 0, id, MESSAGE);
	frame(&b, LP_H2_HEADERS, ES | EH, id, trailers);
	out(cv, &b, t);
}

static void fresh(struct conv *cv)
{
	memset(cv, 0, sizeof(*cv));
	reset_seqs();
	client_start(&a);
	in(cv, &a, 10);
}

static void test_a_unary_call_has_the_status_of_its_trailers(void **state)
{
	struct conv cv;

	(void)state;
	fresh(&cv);
	call(&cv, 1, 100);
	answer(&cv, 1, GS_LIT("0130"), 20100); /* "0": OK */
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.all[0], 20000);
	assert_int_equal(cv.status[0], 200);
	assert_int_equal(cv.method[0], LP_METHOD_POST);
	assert_int_equal(cv.grpc[0], 0 + 1);
	/* the next call's trailers refer to the entry the first inserted (62) */
	call(&cv, 3, 30000);
	answer(&cv, 3, "be", 31000);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.grpc[1], 0 + 1);
	/* a new value under the entry's name (index 62), inserted: 5 NOT_FOUND */
	call(&cv, 5, 40000);
	answer(&cv, 5,
	       "7e"
	       "0135",
	       40500);
	assert_int_equal(cv.grpc[2], 5 + 1);
	/* 62 is now "grpc-status: 5", 63 "grpc-status: 0" */
	call(&cv, 7, 50000);
	answer(&cv, 7, "bf", 50100);
	call(&cv, 9, 60000);
	answer(&cv, 9, "be", 60100);
	assert_int_equal(cv.samples, 5);
	assert_int_equal(cv.grpc[3], 0 + 1);
	assert_int_equal(cv.grpc[4], 5 + 1);
	/* two digits: 16 UNAUTHENTICATED, not indexed */
	call(&cv, 11, 70000);
	answer(&cv, 11, "00" GS_NAME "023136", 70100);
	assert_int_equal(cv.grpc[5], 16 + 1);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	assert_int_equal(cv.counters[LP_CNT_GRPC_INVALID], 0);
}

static void test_a_huffman_coded_status_and_a_plain_http2_response(void **state)
{
	struct conv cv;

	(void)state;
	fresh(&cv);
	call(&cv, 1, 100);
	answer(&cv, 1, GS_HUFF_0, 900);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.grpc[0], 0 + 1);
	/* its entry is the same field: "grpc-status: 0" */
	call(&cv, 3, 1000);
	answer(&cv, 3, "be", 1500);
	assert_int_equal(cv.grpc[1], 0 + 1);
	/* trailers with no grpc-status: HTTP/2, not gRPC */
	call(&cv, 5, 2000);
	answer(&cv, 5,
	       "400361626301"
	       "78",
	       2500); /* "abc: x" */
	assert_int_equal(cv.samples, 3);
	assert_int_equal(cv.grpc[2], 0);
	/* and a response with no trailers at all */
	call(&cv, 7, 3000);
	frame(&b, LP_H2_HEADERS, EH, 7, S200);
	frame(&b, LP_H2_DATA, ES, 7, MESSAGE);
	out(&cv, &b, 3300);
	assert_int_equal(cv.samples, 4);
	assert_int_equal(cv.grpc[3], 0);
	assert_int_equal(cv.all[3], 300);
}

/* a failing call answered at once: :status and grpc-status in one block that ends the stream */
static void test_a_trailers_only_response(void **state)
{
	struct conv cv;

	(void)state;
	fresh(&cv);
	call(&cv, 1, 100);
	frame(&b, LP_H2_HEADERS, ES | EH, 1,
	      S200 "5f10"
		   "6170706c69636174696f6e2f67727063" GS_LIT("0134")); /* 4 DEADLINE_EXCEEDED */
	out(&cv, &b, 700);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.all[0], 600);
	assert_int_equal(cv.grpc[0], 4 + 1);
	assert_int_equal(cv.ttfbs, 1);
	assert_int_equal(cv.last_ttfb.grpc, 0); /* the first byte's time knows no status yet */
}

/* a server-streaming call: many messages, timed to the trailers' END_STREAM */
static void test_a_streaming_call_ends_at_its_trailers(void **state)
{
	struct conv cv;
	int i;

	(void)state;
	fresh(&cv);
	call(&cv, 1, 100);
	frame(&b, LP_H2_HEADERS, EH, 1, S200);
	out(&cv, &b, 200);
	for (i = 0; i < 5; i++) {
		frame(&b, LP_H2_DATA, 0, 1, MESSAGE);
		out(&cv, &b, 1000000 * (__u64)(i + 1));
	}
	assert_int_equal(cv.samples, 0);
	frame(&b, LP_H2_HEADERS, ES | EH, 1, GS_LIT("0130"));
	out(&cv, &b, 6000000);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.all[0], 6000000 - 100);
	assert_int_equal(cv.grpc[0], 1);
}

/* statuses that are no code: counted, no sample */
static void test_statuses_that_are_no_code_are_counted(void **state)
{
	static const char *const bad[] = {
		GS_LIT("023137"),		  /* 17 */
		GS_LIT("023939"),		  /* 99 */
		GS_LIT("00"),			  /* empty */
		GS_LIT("03616263"),		  /* "abc" */
		GS_LIT("032d3031"),		  /* "-01" */
		GS_LIT("0a30303030303030303035"), /* "0000000005": more than two digits */
		GS_LIT("8100"),			  /* Huffman "0" then padding that is not EOS's */
	};
	struct conv cv;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(&cv);
		call(&cv, 1, 100);
		answer(&cv, 1, bad[i], 900);
		assert_int_equal(cv.samples, 0);
		if (i == 6) { /* a Huffman code that is not one: not HPACK, the connection lost */
			assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
			continue;
		}
		assert_int_equal(cv.counters[LP_CNT_GRPC_INVALID], 1);
		assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
		/* the entry it made is as invalid when referred to */
		call(&cv, 3, 1000);
		answer(&cv, 3, "be", 1900);
		assert_int_equal(cv.samples, 0);
		assert_int_equal(cv.counters[LP_CNT_GRPC_INVALID], 2);
	}
}

/* a channel open before the agent: its trailers refer to an entry the agent never saw */
static void test_a_status_from_before_the_agent_is_unknown(void **state)
{
	struct conv cv = {0};

	(void)state;
	reset_seqs();
	/* met mid-stream: a call's HEADERS begins the segment */
	frame(&a, LP_H2_HEADERS, EH, 41, CALL_BLOCK);
	frame(&a, LP_H2_DATA, ES, 41, MESSAGE);
	in(&cv, &a, 100);
	assert_int_equal(cv.counters[LP_CNT_REQUESTS], 1);
	/* 62 (the content-type the request above inserted on its side) is not the response's */
	answer(&cv, 41, "be", 900);
	assert_int_equal(cv.samples, 0);
	assert_int_equal(cv.counters[LP_CNT_H2_UNKNOWN], 1);
	/* once its trailers give the status literally, the next call is timed */
	call(&cv, 43, 1000);
	answer(&cv, 43, GS_LIT("0130"), 1800);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.grpc[0], 1);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
}

/* a size update to 0 empties the table: a reference to what was in it is no HPACK */
static void test_a_table_size_update_to_zero_in_mid_connection(void **state)
{
	struct conv cv;

	(void)state;
	fresh(&cv);
	call(&cv, 1, 100);
	answer(&cv, 1, GS_LIT("0130"), 900);
	assert_int_equal(cv.samples, 1);
	/* the size update alone, then a literal: the call is timed, nothing inserted stays */
	call(&cv, 3, 1000);
	answer(&cv, 3,
	       "20"
	       "00" GS_NAME "0135",
	       1900);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.grpc[1], 5 + 1);
	/* the evicted entry referred to: a protocol error, the connection is not followed */
	call(&cv, 5, 2000);
	answer(&cv, 5, "be", 2900);
	assert_int_equal(cv.samples, 2);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 1);
}

/*
 * More entries inserted since grpc-status than the agent remembers
 * (LP_HP_RING), the table's size still holding it: a reference to it is
 * unknown, counted, never a guess.
 */
static void test_a_table_filled_past_what_is_remembered(void **state)
{
	struct conv cv;
	char blk[8 * 10 + 1];
	int i, k;

	(void)state;
	fresh(&cv);
	call(&cv, 1, 100);
	answer(&cv, 1, GS_LIT("0130"), 900);
	/* 8 calls whose trailers insert 8 fields each ("x: 0".."x: 7"), 34 bytes an entry */
	for (i = 0; i < 8; i++) {
		for (k = 0; k < 8; k++) /* "x: <k>", inserted */
			snprintf(blk + 10 * k, 11, "40017801%02x", '0' + k);
		call(&cv, 3 + 2 * i, 1000 + 1000 * i);
		answer(&cv, 3 + 2 * i, blk, 1500 + 1000 * i);
	}
	assert_int_equal(cv.samples, 9);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
	/* grpc-status: 0 is 64 entries back, index 62 + 64 = 126: present, not remembered */
	call(&cv, 99, 20000);
	answer(&cv, 99, "fe", 20500);
	assert_int_equal(cv.samples, 9);
	assert_int_equal(cv.counters[LP_CNT_H2_UNKNOWN], 1);
	assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
}

/*
 * A response cut at every byte (each part a segment of its own): the same
 * sample and status, or none and a count where the cut hid what it needs.
 */
static void test_a_response_cut_at_every_byte(void **state)
{
	struct bytes rsp = {.n = 0};
	__u32 cut, end;

	(void)state;
	frame(&rsp, LP_H2_HEADERS, EH, 1, S200);
	frame(&rsp, LP_H2_DATA, 0, 1, MESSAGE);
	frame(&rsp, LP_H2_HEADERS, ES | EH, 1, GS_HUFF_0 "00" GS_NAME "0131");
	end = rsp.n;
	for (cut = 1; cut < end; cut++) {
		struct conv cv;

		fresh(&cv);
		call(&cv, 1, 100);
		put(&b, rsp.b, cut);
		out(&cv, &b, 1000);
		put(&b, rsp.b + cut, end - cut);
		out(&cv, &b, 2000);
		assert_int_equal(cv.counters[LP_CNT_H2_LOST], 0);
		assert_int_equal(cv.counters[LP_CNT_GRPC_INVALID], 0);
		if (cut == 9) { /* the :status not read: untimed, as any HTTP/2 response */
			assert_int_equal(cv.samples, 0);
			assert_int_equal(cv.counters[LP_CNT_UNTIMED], 1);
			continue;
		}
		if (cut >= 33 && cut < 45) {
			/* the trailers cut before their first field was read whole: unknown */
			assert_int_equal(cv.samples, 0);
			assert_int_equal(cv.counters[LP_CNT_H2_UNKNOWN], 1);
			continue;
		}
		assert_int_equal(cv.samples, 1);
		assert_int_equal(cv.all[0], 1900);
		/* the first grpc-status given (0), never the second (1) */
		assert_int_equal(cv.grpc[0], 0 + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_unary_call_has_the_status_of_its_trailers),
		cmocka_unit_test(test_a_huffman_coded_status_and_a_plain_http2_response),
		cmocka_unit_test(test_a_trailers_only_response),
		cmocka_unit_test(test_a_streaming_call_ends_at_its_trailers),
		cmocka_unit_test(test_statuses_that_are_no_code_are_counted),
		cmocka_unit_test(test_a_status_from_before_the_agent_is_unknown),
		cmocka_unit_test(test_a_table_size_update_to_zero_in_mid_connection),
		cmocka_unit_test(test_a_table_filled_past_what_is_remembered),
		cmocka_unit_test(test_a_response_cut_at_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
