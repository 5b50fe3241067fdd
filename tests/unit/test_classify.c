// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The HTTP start classifier (include/lp_classify.h), as the kernel runs it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "lp_classify.h"

/* Input placed so that its last byte is the last readable byte: an over-read faults. */
static __u8 *guard_page;
static size_t page;

static int setup(void **state)
{
	(void)state;
	page = (size_t)sysconf(_SC_PAGESIZE);
	guard_page = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_page == MAP_FAILED)
		return -1;
	return mprotect(guard_page + page, page, PROT_NONE);
}

static int teardown(void **state)
{
	(void)state;
	return munmap(guard_page, 2 * page);
}

static int classify(const char *s, size_t n, __u8 *method, __u16 *status)
{
	__u8 *p = guard_page + page - n;

	memcpy(p, s, n);
	*method = 0xff;
	*status = 0xffff;
	return lp_classify(p, (__u32)n, method, status);
}

static const struct {
	const char *line;
	__u8 method;
} requests[] = {
	{ "GET / HTTP/1.1\r\n", LP_METHOD_GET },
	{ "HEAD /x HTTP/1.1\r\n", LP_METHOD_HEAD },
	{ "POST /api HTTP/1.1\r\n", LP_METHOD_POST },
	{ "PUT /a HTTP/1.1\r\n", LP_METHOD_PUT },
	{ "DELETE /a HTTP/1.1\r\n", LP_METHOD_DELETE },
	{ "CONNECT h:443 HTTP/1.1\r\n", LP_METHOD_CONNECT },
	{ "OPTIONS * HTTP/1.1\r\n", LP_METHOD_OPTIONS },
	{ "TRACE / HTTP/1.1\r\n", LP_METHOD_TRACE },
	{ "PATCH /a HTTP/1.1\r\n", LP_METHOD_PATCH },
};

static void test_every_method_is_a_request_only_once_the_target_starts(void **state)
{
	size_t i, n;
	__u8 m;
	__u16 st;

	(void)state;
	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const char *l = requests[i].line;
		size_t toklen = strcspn(l, " ");

		/* every truncation point: a prefix up to "METHOD " is partial, from "METHOD x" on a request */
		for (n = 1; n <= strlen(l) && n <= LP_CLASSIFY_BYTES; n++) {
			int c = classify(l, n, &m, &st);

			if (n <= toklen + 1) {
				assert_true(c & LP_CLASS_PARTIAL_REQ);
				assert_false(c & (LP_CLASS_REQUEST | LP_CLASS_RESPONSE));
				assert_int_equal(m, 0xff); /* untouched */
			} else {
				assert_int_equal(c, LP_CLASS_REQUEST);
				assert_int_equal(m, requests[i].method);
				assert_int_equal(st, 0xffff);
			}
		}
	}
}

static void test_status_line_at_every_truncation_point(void **state)
{
	static const char *const lines[] = { "HTTP/1.1 200 OK\r\n", "HTTP/1.0 404 Not Found\r\n",
					     "HTTP/1.1 101 Switching Protocols\r\n",
					     "HTTP/1.1 599 x\r\n", "HTTP/1.1 100 Continue\r\n" };
	static const __u16 codes[] = { 200, 404, 101, 599, 100 };
	size_t i, n;
	__u8 m;
	__u16 st;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		for (n = 1; n <= LP_CLASSIFY_BYTES; n++) {
			int c = classify(lines[i], n, &m, &st);

			if (n < 13) {
				assert_true(c & LP_CLASS_PARTIAL_RSP);
				assert_false(c & (LP_CLASS_REQUEST | LP_CLASS_RESPONSE));
				assert_int_equal(st, 0xffff);
			} else {
				assert_int_equal(c, LP_CLASS_RESPONSE);
				assert_int_equal(st, codes[i]);
				assert_int_equal(m, 0xff);
			}
		}
	}
}

static void test_lone_h_is_a_prefix_of_both_head_and_a_status_line(void **state)
{
	__u8 m;
	__u16 st;

	(void)state;
	assert_int_equal(classify("H", 1, &m, &st), LP_CLASS_PARTIAL_REQ | LP_CLASS_PARTIAL_RSP);
	assert_int_equal(classify("HE", 2, &m, &st), LP_CLASS_PARTIAL_REQ);
	assert_int_equal(classify("HT", 2, &m, &st), LP_CLASS_PARTIAL_RSP);
}

static void test_status_line_without_reason_ends_with_cr(void **state)
{
	__u8 m;
	__u16 st;

	(void)state;
	assert_int_equal(classify("HTTP/1.1 204\r\n", 14, &m, &st), LP_CLASS_RESPONSE);
	assert_int_equal(st, 204);
}

static void test_lowercase_method_is_not_a_request(void **state)
{
	__u8 m;
	__u16 st;

	(void)state;
	assert_int_equal(classify("get / HTTP/1.1\r\n", 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("Get / HTTP/1.1\r\n", 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("http/1.1 200 OK\r\n", 16, &m, &st), LP_CLASS_NONE);
}

static void test_method_without_its_space_is_not_a_request(void **state)
{
	__u8 m;
	__u16 st;

	(void)state;
	assert_int_equal(classify("GET/ HTTP/1.1\r\n", 15, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("GETS / HTTP/1.1", 15, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("POSTAL CODE 123", 15, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("GET\t/ HTTP/1.1\r", 15, &m, &st), LP_CLASS_NONE);
	/* the target must start with a visible character */
	assert_int_equal(classify("GET  / HTTP/1.1", 15, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("GET \x01 HTTP/1.1", 15, &m, &st), LP_CLASS_NONE);
}

static void test_http2_and_other_versions_are_not_responses(void **state)
{
	__u8 m;
	__u16 st;

	(void)state;
	assert_int_equal(classify("HTTP/2 200 \r\n\r\n", 15, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("HTTP/1.2 200 OK\r", 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("HTTP/1.1 20x OK\r", 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("HTTP/1.1 600 OK\r", 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("HTTP/1.1 099 OK\r", 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("HTTP/1.1 2000 OK", 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("HTTP/1.1  200 OK", 16, &m, &st), LP_CLASS_NONE);
	/* the HTTP/2 connection preface is HTTP/2's, not an HTTP/1.x request or response */
	assert_int_equal(classify("PRI * HTTP/2.0\r\n", 16, &m, &st), LP_CLASS_H2);
	assert_int_equal(classify("PRI * HTTP/2.0\r", 15, &m, &st), LP_CLASS_PARTIAL_H2);
	assert_int_equal(classify("PR", 2, &m, &st), LP_CLASS_PARTIAL_H2);
	/* "P" alone could start POST, PUT, PATCH too */
	assert_int_equal(classify("P", 1, &m, &st), LP_CLASS_PARTIAL_REQ);
	assert_int_equal(classify("PRI * HTTP/1.1\r\n", 16, &m, &st), LP_CLASS_NONE);
}

static void test_other_protocols_and_garbage_are_nothing(void **state)
{
	static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xaa\xbb\xcc\xdd\xee";
	static const char pg[] = "\x00\x00\x00\x08\x04\xd2\x16\x2f\x00\x00\x00\x00\x00\x00\x00\x00";
	__u8 m;
	__u16 st;
	unsigned seed = 12345, i, j;
	char buf[LP_CLASSIFY_BYTES];

	(void)state;
	assert_int_equal(classify(tls, 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify(pg, 16, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("*1\r\n$4\r\nPING\r\n", 14, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("SET key value\r\n", 15, &m, &st), LP_CLASS_NONE);
	assert_int_equal(classify("", 0, &m, &st), LP_CLASS_NONE);
	/* random bytes that do not begin with a method or status letter are never a start */
	for (i = 0; i < 100000; i++) {
		for (j = 0; j < sizeof(buf); j++) {
			seed = seed * 1103515245u + 12345u;
			buf[j] = (char)(seed >> 16);
		}
		if (strchr("GHPDCOT", buf[0]))
			continue;
		assert_int_equal(classify(buf, sizeof(buf), &m, &st), LP_CLASS_NONE);
	}
}

/* as the kernel asks for a direction's first payload: classified, then decided */
static int decides(const char *s, size_t n)
{
	__u8 *p = guard_page + page - n;
	__u8 m;
	__u16 st;
	int cls;

	memcpy(p, s, n);
	cls = lp_classify(p, (__u32)n, &m, &st);
	return lp_first_payload_not_http(p, (__u32)n, cls);
}

#define DECIDES(lit) decides(lit, sizeof(lit) - 1)

static void test_a_first_payload_decides_not_http_only_if_it_can_begin_nothing(void **state)
{
	static const char settings[] = "\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64";
	static const char proxy2[] = "\r\n\r\n\x00\r\nQUIT\n\x21\x11";
	size_t i;

	(void)state;
	/* other protocols: decided */
	assert_true(DECIDES("*1\r\n$4\r\nPING\r\n"));	  /* redis */
	assert_true(DECIDES("PING\r\n"));		  /* redis, inline: a P that is no PROXY */
	assert_true(DECIDES("SET key value\r\n"));
	assert_true(DECIDES("\x00\x00\x00\x08\x04\xd2\x16\x2f")); /* postgres SSLRequest */
	assert_true(DECIDES("\x4a\x00\x00\x00\x0a" "8.0"));	  /* a MySQL greeting */
	assert_true(DECIDES("220 mail ESMTP ready\r\n"));	  /* a server speaking first */
	assert_true(DECIDES("SSH-2.0-OpenSSH_9.2\r\n"));
	assert_true(DECIDES("get / HTTP/1.1\r\n")); /* methods are case-sensitive */
	assert_true(DECIDES("\x16\x01\x00"));	    /* a handshake type, no TLS version */
	/* HTTP/2 frames other than a server's first SETTINGS: a first payload never */
	assert_true(DECIDES("\x00\x00\x00\x04\x01\x00\x00\x00\x00"));	  /* SETTINGS ACK */
	assert_true(DECIDES("\x00\x00\x08\x06\x00\x00\x00\x00\x00"));	  /* PING */
	assert_true(DECIDES("\x00\x00\x06\x04\x00\x00\x00\x00\x01"));	  /* on a stream */
	assert_true(DECIDES("\x00\x00\x05\x04\x00\x00\x00\x00\x00"));	  /* not 6-byte settings */
	/* what HTTP begins with, or what leads to it: no decision */
	assert_false(DECIDES("GET / HTTP/1.1\r\n"));
	assert_false(DECIDES("HTTP/1.1 200 OK\r\n"));
	assert_false(DECIDES("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
	assert_false(DECIDES("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")); /* ClientHello */
	assert_false(DECIDES("\x17\x03\x03\x00\x20"));			       /* app data */
	assert_false(DECIDES("PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\nGET"));
	assert_false(decides(proxy2, sizeof(proxy2) - 1));
	assert_false(DECIDES("\r\nGET / HTTP/1.1\r\n")); /* an empty line before a request */
	assert_false(DECIDES("\nGET /"));
	assert_false(decides(settings, sizeof(settings) - 1)); /* a server's SETTINGS */
	assert_false(decides(settings, 9));		       /* empty SETTINGS, header only */
	assert_false(DECIDES("\x00\x00\x12\x01\x05\x00\x00\x00\x01")); /* HEADERS, stream 1 */
	/* cut short: each prefix of what could begin something stays undecided */
	for (i = 1; i < 9; i++)
		assert_false(decides(settings, i));
	for (i = 1; i < 6; i++)
		assert_false(decides("PROXY ", i));
	for (i = 1; i < 4; i++)
		assert_false(decides("GET /", i));
	assert_false(DECIDES("\x16"));
	assert_false(DECIDES("H"));
}

static void test_interim_statuses(void **state)
{
	(void)state;
	assert_true(lp_status_is_interim(100));
	assert_true(lp_status_is_interim(103));
	assert_true(lp_status_is_interim(199));
	assert_false(lp_status_is_interim(101));
	assert_false(lp_status_is_interim(200));
	assert_false(lp_status_is_interim(99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_method_is_a_request_only_once_the_target_starts),
		cmocka_unit_test(test_status_line_at_every_truncation_point),
		cmocka_unit_test(test_lone_h_is_a_prefix_of_both_head_and_a_status_line),
		cmocka_unit_test(test_status_line_without_reason_ends_with_cr),
		cmocka_unit_test(test_lowercase_method_is_not_a_request),
		cmocka_unit_test(test_method_without_its_space_is_not_a_request),
		cmocka_unit_test(test_http2_and_other_versions_are_not_responses),
		cmocka_unit_test(test_other_protocols_and_garbage_are_nothing),
		cmocka_unit_test(test_a_first_payload_decides_not_http_only_if_it_can_begin_nothing),
		cmocka_unit_test(test_interim_statuses),
	};

	return cmocka_run_group_tests_name("classify", tests, setup, teardown);
}
