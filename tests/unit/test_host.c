// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The host a client's request names (--client-address host): the Host
 * value's name as the kernel keys it (include/lp_host.h, lp_host_name,
 * checked against a byte-by-byte reading of the same rule on random
 * values), the Host line found by the head scan, conversations through the
 * same state machine as the kernel's (tests/unit/conv.h) with the kernel's
 * numbering modelled here as bpf/latprobe.bpf.c's lp_host_g does it (a
 * connection keeps its first request's host; the server side never reads
 * one), and user space's table of names (base/peers.h), which takes only
 * what the kernel's rule makes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "latprobe.h"
#include "lp_host.h"

/* the kernel's hosts map, as lp_host_g numbers it */
static struct lp_host_key numbered[8];
static unsigned nnumbered, unusable;

struct lp_hp_field;
struct lp_hp_table;
static __u32 test_host(const __u8 *p, __u32 at, __u32 end);
static __u32 test_h2_host(const __u8 *p, __u32 n, const struct lp_hp_field *f,
			  struct lp_hp_table *t);
#define LP_REQ_HOSTS		  1
#define LP_REQ_HOST(buf, at, end) test_host(buf, at, end)
#define LP_H2_HOST(p, n, f, t)	  test_h2_host(p, n, f, t)

#include "lp_conn.h"
#include "conv.h"
#include "h2conv.h"
#include "base/peers.h"

static __u32 number(const struct lp_host_key *kp, __u32 len)
{
	struct lp_host_key k = *kp;
	unsigned i;

	if (!len) {
		unusable++;
		return 0;
	}
	for (i = 0; i < nnumbered; i++)
		if (!memcmp(&numbered[i], &k, sizeof(k)))
			return i + 1;
	assert_true(nnumbered < 8);
	numbered[nnumbered] = k;
	return ++nnumbered;
}

static __u32 test_host(const __u8 *p, __u32 at, __u32 end)
{
	struct lp_host_key k;

	memset(&k, 0xa5, sizeof(k)); /* the window's key holds an older name */
	return number(&k, lp_host_name(p, at, end, &k));
}

static __u32 test_h2_host(const __u8 *p, __u32 n, const struct lp_hp_field *f,
			  struct lp_hp_table *t)
{
	static __u8 out[2 * LP_ROUTE_LEN];
	struct lp_host_key k;

	memset(out, 0xa5, sizeof(out)); /* the route key's room holds an older path */
	memset(&k, 0xa5, sizeof(k));
	return number(&k, lp_h2_authority(p, n, f, out, &t->scratch, &k));
}

/* lp_host_name on value v, in a window whose bytes past it are junk */
static __u32 name_of(const char *v, struct lp_host_key *k)
{
	static __u8 buf[LP_WIN] __attribute__((aligned(8)));
	__u32 len = (__u32)strlen(v), at = 3;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf + at, v, len);
	memset(k, 0xa5, sizeof(*k));
	return lp_host_name(buf, at, at + len, k);
}

static void test_which_values_are_names(void **state)
{
	static const struct {
		const char *v, *name;
	} cases[] = {
		{"api.internal\r", "api.internal"},
		{" DB.Internal:8080\r", "db.internal"},
		{"\t  svc-a_1.ns.svc.cluster.local  \r", "svc-a_1.ns.svc.cluster.local"},
		{"127.0.0.2:19700", "127.0.0.2"},
		{"localhost", "localhost"},
		{"a b", "a"}, /* what follows the name labels nothing */
		{"[::1]:80\r", NULL},
		{"a\"b\\c\r", NULL},
		{"caf\xc3\xa9.example\r", NULL},
		{"a%2eb\r", NULL},
		{"a,b\r", NULL},
		{"\r", NULL},
		{"", NULL},
		{"        x\r", NULL}, /* eight spaces: more than a word of them */
		{":80\r", NULL},
		{"123456789012345678901234567890123456789012345678901234567890123\r",
		 "123456789012345678901234567890123456789012345678901234567890123"},
		{"1234567890123456789012345678901234567890123456789012345678901234\r", NULL},
	};
	struct lp_host_key k, want;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u32 len = name_of(cases[i].v, &k);

		if (!cases[i].name) {
			if (len)
				fail_msg("'%s' is no name, got '%.64s'", cases[i].v, (char *)k.b);
			continue;
		}
		assert_int_equal(len, strlen(cases[i].name));
		memset(&want, 0, sizeof(want));
		memcpy(want.b, cases[i].name, len);
		assert_memory_equal(&k, &want, sizeof(k)); /* zero-filled: one key per name */
		assert_int_equal(lp_host_set(1 + i, &k), 0);
		assert_string_equal(lp_host_text(1 + i), cases[i].name);
	}
}

/* the rule byte by byte: what lp_host_name does eight bytes at a time */
static __u32 slow_name(const __u8 *v, __u32 n, __u8 *out)
{
	__u32 i = 0, len = 0;

	while (i < n && i < 8 && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (i == 8)
		return 0;
	for (; i < n; i++) {
		__u8 c = v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i];

		if (c == ':' || c == ' ' || c == '\t' || c == '\r' || c == 0)
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		      c == '_'))
			return 0;
		if (len >= LP_HOST_LEN - 1)
			return 0;
		out[len++] = c;
	}
	return len;
}

static void test_the_word_rule_is_the_byte_rule_on_random_values(void **state)
{
	static const char alpha[] = "abcXYZ09-._:  \t\r\0[]%\"\x80\xff";
	static __u8 buf[LP_WIN] __attribute__((aligned(8)));
	unsigned round, names = 0, none = 0;
	__u8 want[LP_HOST_LEN];
	struct lp_host_key k;

	(void)state;
	srand(29);
	for (round = 0; round < 200000; round++) {
		__u32 at = (__u32)(rand() % 64), n = (__u32)(rand() % 90), i, len, slow;
		/* mostly name bytes: long names and the 63-byte limit get their share */
		int pnamebyte = rand() % 4 ? 97 : 70;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (__u8)rand();
		for (i = 0; i < n; i++)
			buf[at + i] = rand() % 100 < pnamebyte
					      ? (__u8) "abcXYZ09-._"[rand() % 11]
					      : (__u8)alpha[rand() % (sizeof(alpha) - 1)];
		memset(want, 0, sizeof(want));
		slow = slow_name(buf + at, n, want);
		memset(&k, 0xa5, sizeof(k));
		len = lp_host_name(buf, at, at + n, &k);
		if (len != slow)
			fail_msg("round %u: %u bytes at %u: word rule %u, byte rule %u", round, n,
				 at, len, slow);
		if (len) {
			assert_memory_equal(k.b, want, LP_HOST_LEN);
			names++;
		} else {
			none++;
		}
	}
	/* both outcomes drawn often: the comparison means something */
	assert_true(names > 20000);
	assert_true(none > 20000);
}

static void test_the_head_scan_finds_the_first_host_line(void **state)
{
	static const char head[] = "GET / HTTP/1.1\r\nUser-Agent: x\r\nhOsT:  a.b\r\n"
				   "Host: c.d\r\n\r\n";
	static __u8 buf[LP_WIN] __attribute__((aligned(8)));
	struct lp_head h;
	struct lp_host_key k;

	(void)state;
	memcpy(buf, head, sizeof(head) - 1);
	assert_int_equal(lp_head_scan(buf, sizeof(head) - 1, &h), LP_HEAD_DONE);
	assert_int_equal(h.host_at, strstr(head, "hOsT:") - head + 5);
	assert_int_equal(h.host_end, strstr(head, "a.b\r\n") - head + 4);
	assert_int_equal(lp_host_name(buf, h.host_at, h.host_end, &k), 3);
	assert_string_equal((char *)k.b, "a.b");
	memcpy(buf, "GET / HTTP/1.1\r\nHostname: x\r\n\r\n", 31);
	assert_int_equal(lp_head_scan(buf, 31, &h), LP_HEAD_DONE);
	assert_int_equal(h.host_end, 0); /* "Hostname:" is no Host line */
}

static const char RSP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
#define SL ((__u32)sizeof(RSP) - 1)

static void test_a_client_connection_keeps_its_first_hosts_number(void **state)
{
	static const char *reqs[] = {
		"GET / HTTP/1.0\r\n\r\n",			   /* no Host: none yet */
		"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n",	   /* no name: none yet */
		"GET / HTTP/1.1\r\nHost: API.internal:80\r\n\r\n", /* the connection's host */
		"GET / HTTP/1.1\r\nHost: other.internal\r\n\r\n",  /* not asked again */
	};
	struct conv cv = {0};
	__u32 seq = 1000, ack = 9000, i;

	(void)state;
	nnumbered = unusable = 0;
	for (i = 0; i < 4; i++) {
		seg(&cv, OUT, seq, ack, reqs[i], 0, 100 + 1000 * i);
		seq += (__u32)strlen(reqs[i]);
		assert_int_equal(cv.c.host, i < 2 ? 0 : 1);
		seg(&cv, IN, ack, seq, RSP, 0, 600 + 1000 * i);
		ack += SL;
	}
	assert_int_equal(cv.samples, 4);
	assert_int_equal(cv.side, LP_SIDE_CLIENT);
	assert_int_equal(nnumbered, 1);
	assert_string_equal((char *)numbered[0].b, "api.internal");
	assert_int_equal(unusable, 1);
}

static void test_the_server_side_reads_no_host(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: api.internal\r\n\r\n";
	struct conv cv = {0};

	(void)state;
	nnumbered = unusable = 0;
	seg(&cv, IN, 1000, 9000, req, 0, 100);
	seg(&cv, OUT, 9000, 1000 + sizeof(req) - 1, RSP, 0, 600);
	assert_int_equal(cv.samples, 1);
	assert_int_equal(cv.side, LP_SIDE_SERVER);
	assert_int_equal(cv.c.host, 0);
	assert_int_equal(nnumbered, 0);
}

/*
 * An HTTP/2 client: its preface, then each HEADERS block given (hex) a GET
 * on stream 1, 3, ... sent, then answered 200; the connection asked for
 * its host before each segment with state, as the kernel asks
 * (bpf/latprobe.bpf.c, handle).
 */
static void h2_client(struct conv *cv, const char *const *blocks, int n)
{
	int i;

	memset(cv, 0, sizeof(*cv));
	reset_seqs();
	client_start(&a);
	segn(cv, OUT, cseq, sseq, a.b, a.n, 0, 50);
	cseq += a.n;
	a.n = 0;
	/* before its first request: asked for, none yet */
	assert_int_equal(lp_conn_host(&cv->c, &cv->h2), 0);
	assert_int_equal(cv->h2.host, LP_H2_HOST_WANT);
	for (i = 0; i < n; i++)
		frame(&a, LP_H2_HEADERS, ES | EH, 2 * i + 1, blocks[i]);
	segn(cv, OUT, cseq, sseq, a.b, a.n, 0, 100);
	cseq += a.n;
	for (i = 0; i < n; i++) {
		frame(&b, LP_H2_HEADERS, EH, 2 * i + 1, S200);
		frame(&b, LP_H2_DATA, ES, 2 * i + 1, "6f6b");
	}
	lp_conn_host(&cv->c, &cv->h2);
	segn(cv, IN, sseq, cseq, b.b, b.n, 0, 400);
	assert_int_equal(cv->samples, n);
	assert_int_equal(cv->side, LP_SIDE_CLIENT);
}

static void test_an_http2_client_is_named_by_its_authority(void **state)
{
	/* GET http / :authority "Api.Internal:8080" (Huffman, inserted), then a reference to it */
	static const char *const huff[] = {"828684418d86b32f92a496ca8745c780f03f", "828684be"};
	/* "[::1]:8080" (no name), then "web.internal" */
	static const char *const second[] = {"828684418affddcb81ffe5c780f03f",
					     "8286844189f058d735492d950e8f"};
	/* a literal name ":authority", a plain value "api.internal" */
	static const char *const plain[] = {
		"828684400a3a617574686f726974790c6170692e696e7465726e616c"};
	struct conv cv;

	(void)state;
	nnumbered = unusable = 0;
	h2_client(&cv, huff, 2);
	assert_int_equal(lp_conn_host(&cv.c, &cv.h2), 1);
	assert_string_equal((char *)numbered[0].b, "api.internal");
	assert_int_equal(unusable, 0);

	h2_client(&cv, second, 2);
	assert_int_equal(unusable, 1);
	assert_int_equal(lp_conn_host(&cv.c, &cv.h2), 2);
	assert_string_equal((char *)numbered[1].b, "web.internal");

	h2_client(&cv, plain, 1);
	assert_int_equal(lp_conn_host(&cv.c, &cv.h2), 1); /* the same name, the same number */
	assert_int_equal(nnumbered, 2);
}

/* a server's HTTP/2 connection never wants a host: no :authority is read */
static void test_an_http2_server_reads_no_authority(void **state)
{
	static const char *const fields[] = {"84", "84"};
	struct conv cv = {0};

	(void)state;
	nnumbered = unusable = 0;
	path_conversation(&cv, fields, 2);
	assert_int_equal(cv.side, LP_SIDE_SERVER);
	assert_int_equal(cv.h2.host, 0);
	assert_int_equal(nnumbered + unusable, 0);
}

static void test_user_space_takes_only_the_kernels_names(void **state)
{
	struct lp_host_key k;

	(void)state;
	memset(&k, 0, sizeof(k));
	memcpy(k.b, "ok.example", 10);
	assert_int_equal(lp_host_set(LP_HOSTS_MAX, &k), 0);
	assert_string_equal(lp_host_text(LP_HOSTS_MAX), "ok.example");
	assert_int_equal(lp_host_set(0, &k), -EINVAL);
	assert_int_equal(lp_host_set(LP_HOSTS_MAX + 1, &k), -EINVAL);
	assert_null(lp_host_text(LP_HOSTS_MAX + 1));
	assert_null(lp_host_text(100)); /* never set */
	k.b[2] = '"';
	assert_int_equal(lp_host_set(100, &k), -EINVAL);
	memset(&k, 'a', sizeof(k)); /* no zero: no end */
	assert_int_equal(lp_host_set(100, &k), -EINVAL);
	memset(&k, 0, sizeof(k));
	assert_int_equal(lp_host_set(100, &k), -EINVAL); /* empty */
	memcpy(k.b, "a\0b", 3);
	assert_int_equal(lp_host_set(100, &k), -EINVAL); /* bytes past the end */
	assert_null(lp_host_text(100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_values_are_names),
		cmocka_unit_test(test_the_word_rule_is_the_byte_rule_on_random_values),
		cmocka_unit_test(test_the_head_scan_finds_the_first_host_line),
		cmocka_unit_test(test_a_client_connection_keeps_its_first_hosts_number),
		cmocka_unit_test(test_the_server_side_reads_no_host),
		cmocka_unit_test(test_an_http2_client_is_named_by_its_authority),
		cmocka_unit_test(test_an_http2_server_reads_no_authority),
		cmocka_unit_test(test_user_space_takes_only_the_kernels_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
