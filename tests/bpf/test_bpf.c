// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The real BPF object, loaded into the running kernel by the agent's own
 * loader (verifier included), driven with crafted IPv4/IPv6 segments through
 * BPF_PROG_TEST_RUN. Each test asserts that the program allowed the packet
 * and what changed in the maps.
 *
 * The kernel gives every test run a fresh dummy socket, so per-socket state
 * does not survive from one run to the next: pairing a request with its
 * response is exercised end to end (tests/e2e). What a single segment does
 * to the maps is exercised here.
 *
 * Needs root (CAP_BPF + CAP_NET_ADMIN); without it the test fails and says so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "app/cli.h"
#include "core/hist.h"
#include "core/probe.h"
#include "base/peers.h"
#include "lp_classify.h"

#include "harness.h"

static void test_ipv4_request_in_starts_a_timing_and_is_allowed(void **state)
{
	struct pkt p;
	__u64 d[LP_CNT_MAX];

	(void)state;
	build(&p, V4, IPPROTO_TCP, GET, sizeof(GET) - 1, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
	/* egress too: a request out is the client side */
	run(&p, 0, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
	/*
	 * repeated: the kernel keeps one dummy socket for all repeats, so the
	 * socket's state persists: the first run starts the timing, the other 49
	 * are retransmissions of the same segment and start nothing
	 */
	run(&p, 1, 50, d);
	assert_int_equal(d[LP_CNT_REQUESTS], 1);
	assert_int_equal(d[LP_CNT_RETRANSMITS], 49);
	assert_int_equal(d[LP_CNT_UNTIMED], 0);
	assert_int_equal(real_series(), 0); /* no response: no sample */
}

/* The framing loop in the kernel: a head past the first read, pipelined requests in one segment. */
static void test_requests_are_framed_in_the_kernel(void **state)
{
	static char big[2048], two[256];
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	int n;

	(void)state;
	/* a 900-byte head: found with the second, larger read of the window */
	n = snprintf(big, sizeof(big), "GET /big HTTP/1.1\r\nCookie: %0880d\r\n\r\n", 7);
	build(&p, V4, IPPROTO_TCP, big, (__u32)n, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
	/* two requests in one segment, each framed: both begin a timing */
	n = snprintf(two, sizeof(two), "%s%s", GET, "HEAD / HTTP/1.1\r\n\r\n");
	build(&p, V6, IPPROTO_TCP, two, (__u32)n, 0);
	run(&p, 0, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 2);
	/* a POST whose body looks like a request: one request */
	n = snprintf(two, sizeof(two), "POST /p HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
		     sizeof(GET) - 1, GET);
	build(&p, V4, IPPROTO_TCP, two, (__u32)n, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
}

/* an HTTP/2 frame: 9-byte header and payload into buf at *n */
static void h2frame(char *buf, int *n, __u8 type, __u8 flags, __u32 id, const char *pl, int len)
{
	unsigned char *h = (unsigned char *)buf + *n;

	h[0] = (unsigned char)(len >> 16);
	h[1] = (unsigned char)(len >> 8);
	h[2] = (unsigned char)len;
	h[3] = type;
	h[4] = flags;
	h[5] = (unsigned char)(id >> 24);
	h[6] = (unsigned char)(id >> 16);
	h[7] = (unsigned char)(id >> 8);
	h[8] = (unsigned char)id;
	memcpy(buf + *n + 9, pl, (size_t)len);
	*n += 9 + len;
}

/*
 * A client's preface and one HEADERS block a stream (1, 3, ...), in one
 * segment, through the kernel on the server side, then the client side:
 * each side begins want requests and counts nothing else.
 */
static void h2_blocks_both_sides(const char *const *blocks, const int *lens, unsigned nb,
				 __u64 want)
{
	static char seg[1024];
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	unsigned i;
	int n = 24;

	memcpy(seg, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	for (i = 0; i < nb; i++)
		h2frame(seg, &n, 1, 0x5, 2 * i + 1, blocks[i], lens[i]);
	build(&p, V4, IPPROTO_TCP, seg, (__u32)n, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, want);
	run(&p, 0, 1, d); /* the client side */
	assert_only(d, LP_CNT_REQUESTS, want);
}

/* HTTP/2 through the kernel: the preface makes state, HEADERS begin streams, bad frames count */
static void test_http2_streams_begin_in_the_kernel(void **state)
{
	static const char get[] = "\x82\x86\x84\x41\x09localhost"; /* GET http / localhost */
	static char seg[4096];
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	int n, i;

	(void)state;
	n = 24;
	memcpy(seg, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	h2frame(seg, &n, 4, 0, 0, "", 0); /* SETTINGS */
	for (i = 0; i < 40; i++) /* 40 streams in one segment: 32 timed at once, 8 untimed */
		h2frame(seg, &n, 1, 0x5, 2 * i + 1, get, sizeof(get) - 1);
	build(&p, V4, IPPROTO_TCP, seg, (__u32)n, 0);
	run(&p, 1, 1, d);
	assert_int_equal(d[LP_CNT_REQUESTS], 32);
	assert_int_equal(d[LP_CNT_UNTIMED], 8);
	assert_int_equal(d[LP_CNT_H2_LOST], 0);
	/* a header block with padding longer than its frame: no longer followed, counted */
	n = 24;
	h2frame(seg, &n, 1, 0x5 | 0x8, 1, "\x40\x82\x86", 3);
	build(&p, V6, IPPROTO_TCP, seg, (__u32)n, 0);
	run(&p, 1, 1, d);
	assert_int_equal(d[LP_CNT_REQUESTS], 0);
	assert_int_equal(d[LP_CNT_H2_LOST], 1);
	/* a preface then garbage: at most counted, never a sample, always allowed */
	n = 24;
	memset(seg + n, 0xff, 1000);
	build(&p, V4, IPPROTO_TCP, seg, (__u32)(n + 1000), 0);
	run(&p, 0, 1, d);
	assert_int_equal(d[LP_CNT_REQUESTS], 0);
	assert_int_equal(real_series(), 0);
}

/*
 * gRPC's grpc-status through the kernel's HPACK walk (its name literal and
 * Huffman-coded, values good and bad, inserted and referred to): the
 * blocks walk whole, every call begins, nothing is lost.
 */
static void test_grpc_status_fields_walk_in_the_kernel(void **state)
{
#define GS "\x0b" "grpc-status"
	static const char b0[] = "\x83\x86\x84\x40" GS "\x01" "0"; /* literal, "0" */
	static const char b1[] = "\x83\x86\x84\x40\x88\x9a\xca\xc8\xb2\x12\x34\xda\x8f\x81\x07";
	static const char b2[] = "\x83\x86\x84\x40" GS "\x03" "999"; /* no code */
	static const char b3[] = "\x83\x86\x84\xbe\xbf";		/* the entries above */
	static const char b4[] = "\x83\x86\x84\x20\x00" GS "\x02" "16"; /* size 0, then 16 */
#undef GS
	static const char *const blocks[] = {b0, b1, b2, b3, b4};
	static const int lens[] = {sizeof(b0) - 1, sizeof(b1) - 1, sizeof(b2) - 1, sizeof(b3) - 1,
				   sizeof(b4) - 1};

	(void)state;
	h2_blocks_both_sides(blocks, lens, sizeof(blocks) / sizeof(blocks[0]), 5);
}

/*
 * gRPC methods learned in the kernel (--grpc-methods, on by default): a
 * method's path literal, Huffman-coded and referred to is one slot; a REST
 * path and a path with a byte past ASCII are never learned.
 */
static void test_grpc_methods_are_learned_in_the_kernel(void **state)
{
	static const char b0[] = "\x83\x86\x44\x13/lp.test.Echo/Unary";
	static const char b1[] = "\x83\x86\xbe"; /* the entry b0 made */
	static const char b2[] = "\x83\x86\x44\x8e\x62\x8a\xd7\x49\x50\x95\xf0\x12\x73\xb1\xc2"
				 "\xa1\xd9\xeb"; /* b0's path, Huffman-coded */
	static const char b3[] = "\x83\x86\x44\x0a/api/users";
	static const char b4[] = "\x83\x86\x44\x09/p.S/M\xffxy";
	static const char b5[] = "\x83\x86\x04\x1c/grpc.health.v1.Health/Check";
	static const char *const blocks[] = {b0, b1, b2, b3, b4, b5};
	static const int lens[] = {sizeof(b0) - 1, sizeof(b1) - 1, sizeof(b2) - 1,
				   sizeof(b3) - 1, sizeof(b4) - 1, sizeof(b5) - 1};
	const char *l;
	unsigned i, known = 0, unary = 0, health = 0;

	(void)state;
	/* both sides: the same methods, the same slots */
	h2_blocks_both_sides(blocks, lens, sizeof(blocks) / sizeof(blocks[0]), 6);
	assert_int_equal(lp_probe__grpc_methods(probe), 0);
	for (i = 0; i < LP_GRPC_METHODS_MAX; i++) {
		l = lp_route_learned((__u16)(LP_ROUTE_LEARNED | i));
		known += l != NULL;
		unary += l && !strcmp(l, "/lp.test.Echo/Unary");
		health += l && !strcmp(l, "/grpc.health.v1.Health/Check");
	}
	assert_int_equal(known, 2);
	assert_int_equal(unary, 1);
	assert_int_equal(health, 1);
}

static void test_ipv6_request_in_starts_a_timing(void **state)
{
	struct pkt p;
	__u64 d[LP_CNT_MAX];

	(void)state;
	build(&p, V6, IPPROTO_TCP, GET, sizeof(GET) - 1, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
}

static void test_response_without_request_is_counted_not_sampled(void **state)
{
	struct pkt p;
	__u64 d[LP_CNT_MAX];

	(void)state;
	build(&p, V4, IPPROTO_TCP, OK, sizeof(OK) - 1, 0);
	run(&p, 0, 1, d);
	assert_only(d, LP_CNT_ORPHAN_RESPONSES, 1);
	build(&p, V6, IPPROTO_TCP, OK, sizeof(OK) - 1, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_ORPHAN_RESPONSES, 1);
	assert_int_equal(real_series(), 0);
}

static void test_pure_ack_syn_fin_rst_change_nothing(void **state)
{
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	int flags[] = { 0, 1, 2, 4 }, i;

	(void)state;
	for (i = 0; i < 4; i++) {
		build(&p, V4, IPPROTO_TCP, "", 0, flags[i]);
		run(&p, 1, 1, d);
		assert_only(d, NONE, 0);
		run(&p, 0, 1, d);
		assert_only(d, NONE, 0);
		build(&p, V6, IPPROTO_TCP, "", 0, flags[i]);
		run(&p, 1, 1, d);
		assert_only(d, NONE, 0);
	}
}

static void test_udp_carrying_http_is_ignored(void **state)
{
	struct pkt p;
	__u64 d[LP_CNT_MAX];

	(void)state;
	build(&p, V4, IPPROTO_UDP, GET, sizeof(GET) - 1, 0);
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
	build(&p, V6, IPPROTO_UDP, OK, sizeof(OK) - 1, 0);
	run(&p, 0, 1, d);
	assert_only(d, NONE, 0);
}

static void test_non_ip_and_truncated_headers_are_allowed_and_ignored(void **state)
{
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	struct iphdr *ip;
	struct tcphdr *th;
	__u32 cut;

	(void)state;
	/*
	 * every truncation of the TCP header and the payload start (the kernel
	 * itself refuses to run a program on an incomplete IP header, as its IP
	 * layer drops one before any hook)
	 */
	build(&p, V4, IPPROTO_TCP, GET, sizeof(GET) - 1, 0);
	for (cut = ETH_HLEN + 20; cut < ETH_HLEN + 20 + 20; cut++) {
		struct pkt q = p;

		q.len = cut;
		run(&q, 1, 1, d);
		assert_only(d, NONE, 0);
	}
	build(&p, V6, IPPROTO_TCP, GET, sizeof(GET) - 1, 0);
	for (cut = ETH_HLEN + 40; cut < ETH_HLEN + 40 + 20; cut++) {
		struct pkt q = p;

		q.len = cut;
		run(&q, 0, 1, d);
		assert_only(d, NONE, 0);
	}
	/* an IHL that points past the packet */
	build(&p, V4, IPPROTO_TCP, GET, 4, 0);
	ip = (struct iphdr *)(p.buf + ETH_HLEN);
	ip->ihl = 15;
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
	/* an IHL below the minimum */
	ip->ihl = 2;
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
	/* a TCP data offset past the packet, and one below the minimum */
	build(&p, V4, IPPROTO_TCP, GET, 8, 0);
	th = (struct tcphdr *)(p.buf + ETH_HLEN + 20);
	th->doff = 15;
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
	th->doff = 3;
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
	/* a fragment */
	build(&p, V4, IPPROTO_TCP, GET, sizeof(GET) - 1, 0);
	ip = (struct iphdr *)(p.buf + ETH_HLEN);
	ip->frag_off = htons(0x2000); /* MF */
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
	/* not IP at all: an ARP frame */
	build(&p, V4, IPPROTO_TCP, GET, sizeof(GET) - 1, 0);
	((struct ethhdr *)p.buf)->h_proto = htons(ETH_P_ARP);
	p.buf[ETH_HLEN] = 0x00;
	p.buf[ETH_HLEN + 1] = 0x01;
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
	/* IPv6 with an extension header before TCP: not followed */
	build(&p, V6, IPPROTO_TCP, GET, sizeof(GET) - 1, 0);
	((struct ipv6hdr *)(p.buf + ETH_HLEN))->nexthdr = 0; /* hop-by-hop */
	run(&p, 1, 1, d);
	assert_only(d, NONE, 0);
}

static void test_payload_lengths_around_the_classifier_window(void **state)
{
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	char big[3000];
	__u32 n;

	(void)state;
	/* 1..15 bytes of "GET /index.html ...": partial up to "GET ", a request from "GET /" */
	for (n = 1; n < 16; n++) {
		build(&p, V4, IPPROTO_TCP, GET, n, 0);
		run(&p, 1, 1, d);
		assert_only(d, n <= 4 ? LP_CNT_UNTIMED : LP_CNT_REQUESTS, 1);
	}
	/* a large segment */
	memset(big, 'x', sizeof(big));
	memcpy(big, "POST /upload HTTP/1.1\r\n", 23);
	build(&p, V4, IPPROTO_TCP, big, sizeof(big), 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
}

static void test_non_http_payloads_change_nothing(void **state)
{
	static const char *const payloads[] = {
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x11\x22",
		"*1\r\n$4\r\nPING\r\n",
		"get / HTTP/1.1\r\n\r\n",
		"GET/ HTTP/1.1\r\n\r\n",
		"HTTP/2 200\r\n\r\n",
	};
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		build(&p, V4, IPPROTO_TCP, payloads[i], (__u32)strlen(payloads[i]), 0);
		run(&p, 1, 1, d);
		assert_only(d, NONE, 0);
		run(&p, 0, 1, d);
		assert_only(d, NONE, 0);
	}
	assert_int_equal(real_series(), 0);
}

/* --- a second agent, with routes: the verifier takes the route code, the trie answers --- */

static const char *const route_args[] = {
	"latprobe", "--route", "users=/api/users", "--route", "/api/", "--route", "/img*",
	"--route", "/files/", "--exclude-path", "/healthz",
};

static int setup_routes(void **state)
{
	(void)state;
	/* with routes the programs hold the route lookup: the verifier must take it */
	return load_with(sizeof(route_args) / sizeof(route_args[0]), (const char **)route_args);
}

/* The kernel's trie and the host's model of it (lp_route_match_entries) agree. */
static void test_the_kernel_trie_answers_as_the_host_model(void **state)
{
	static const char *const reqs[] = {
		"GET /api/users HTTP/1.1\r\n",      "GET /api/users/42?x HTTP/1.1\r\n",
		"GET /api/usersX HTTP/1.1\r\n",     "GET /api HTTP/1.1\r\n",
		"GET /api/ HTTP/1.1\r\n",	      "GET /imgs/a HTTP/1.1\r\n",
		"GET /im HTTP/1.1\r\n",	      "GET /healthz HTTP/1.1\r\n",
		"GET /healthz/deep HTTP/1.1\r\n",   "GET /healthzz HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\n",		      "GET http://h/api/users/1 HTTP/1.1\r\n",
		"GET /files/x/y/z HTTP/1.1\r\n",
	};
	static struct lp_route_entry ents[LP_ROUTE_ENTRIES];
	unsigned ne = lp_routes_entries(&cfg.routes, ents, LP_ROUTE_ENTRIES), i;
	int fd = lp_probe__routes_fd(probe);

	(void)state;
	assert_int_equal(ne, 7);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct lp_route_key k;
		struct lp_route_val v = {0};
		__u16 want, got = LP_ROUTE_UNROUTED;
		__u8 method = 0;
		__u16 status = 0;

		memset(&k, 0, sizeof(k));
		assert_int_equal(lp_classify((const __u8 *)reqs[i], LP_CLASSIFY_BYTES, &method,
					     &status),
				 LP_CLASS_REQUEST);
		assert_true(lp_route_key((const __u8 *)reqs[i], (__u32)strlen(reqs[i]),
					 lp_route_target_at(method), lp_routes_max_len(&cfg.routes),
					 &k));
		want = lp_route_match_entries(ents, ne, &k);
		if (!bpf_map_lookup_elem(fd, &k, &v))
			got = v.id;
		if (got != want) {
			print_error("%s: kernel trie %u, host model %u\n", reqs[i], got, want);
			fail();
		}
	}
}

/* Requests of every kind run through the route lookup in the kernel and start a timing each. */
static void test_routed_requests_run_through_the_kernel(void **state)
{
	static char req[2200];
	static const char *const targets[] = {
		"/api/users/1", "/healthz", "http://h.example/api/users", "*", "/x?y",
		"http://h.example", "host:443",
	};
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	unsigned i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: h\r\n\r\n",
			     "GET",
			     targets[i]);
		build(&p, V4, IPPROTO_TCP, req, (__u32)n, 0);
		run(&p, 1, 1, d);
		assert_only(d, LP_CNT_REQUESTS, 1);
		run(&p, 0, 1, d);
		assert_only(d, LP_CNT_REQUESTS, 1);
	}
	/* a 2 KB path */
	n = snprintf(req, sizeof(req), "GET /files/%02000d HTTP/1.1\r\n\r\n", 1);
	build(&p, V6, IPPROTO_TCP, req, (__u32)n, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
	/* a request line cut inside the path: still one request (untimed or timed, never lost) */
	build(&p, V4, IPPROTO_TCP, "GET /api/us", 11, 0);
	run(&p, 1, 1, d);
	assert_int_equal(d[LP_CNT_REQUESTS] + d[LP_CNT_UNTIMED], 1);
}

static int setup_hosts(void **state)
{
	const char *argv[] = { "latprobe", "--client-address", "host" };

	(void)state;
	return load_with(3, argv);
}

/*
 * --client-address host: a client's request names its host in the kernel's
 * "hosts" map (lowercase, no port), an HTTP/2 one by its :authority; a Host
 * that is no name is counted and numbers nothing; the server side reads no
 * Host.
 */
static void test_hosts_are_numbered_in_the_kernel(void **state)
{
	static const char named[] = "GET / HTTP/1.1\r\nHost: API.Internal:8080\r\n\r\n";
	static const char literal[] = "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n";
	static const char served[] = "GET / HTTP/1.1\r\nHost: server.only\r\n\r\n";
	static const char b0[] = "\x82\x86\x84\x41\x89\xf0\x58\xd7\x35\x49\x2d\x95\x0e\x8f";
	static const char *const h2 = b0;
	static const int h2len = sizeof(b0) - 1;
	struct pkt p;
	__u64 d[LP_CNT_MAX];
	unsigned i, known = 0;

	(void)state;
	build(&p, V4, IPPROTO_TCP, named, sizeof(named) - 1, 0);
	for (i = 0; i < 3; i++) { /* three connections, one name */
		run(&p, 0, 1, d);
		assert_only(d, LP_CNT_REQUESTS, 1);
	}
	build(&p, V6, IPPROTO_TCP, literal, sizeof(literal) - 1, 0);
	run(&p, 0, 1, d);
	assert_int_equal(d[LP_CNT_REQUESTS], 1);
	assert_int_equal(d[LP_CNT_HOST_UNUSABLE], 1);
	assert_int_equal(d[LP_CNT_HOSTS_FULL], 0);
	build(&p, V4, IPPROTO_TCP, served, sizeof(served) - 1, 0);
	run(&p, 1, 1, d);
	assert_only(d, LP_CNT_REQUESTS, 1);
	/* HTTP/2: :authority "web.internal", Huffman-coded (both sides run, the client's named) */
	h2_blocks_both_sides(&h2, &h2len, 1, 1);
	assert_int_equal(lp_probe__hosts(probe), 0);
	for (i = 1; i <= LP_HOSTS_MAX; i++)
		known += lp_host_text(i) != NULL;
	assert_int_equal(known, 2);
	assert_string_equal(lp_host_text(1), "api.internal");
	assert_string_equal(lp_host_text(2), "web.internal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_request_in_starts_a_timing_and_is_allowed),
		cmocka_unit_test(test_ipv6_request_in_starts_a_timing),
		cmocka_unit_test(test_http2_streams_begin_in_the_kernel),
		cmocka_unit_test(test_grpc_status_fields_walk_in_the_kernel),
		cmocka_unit_test(test_grpc_methods_are_learned_in_the_kernel),
		cmocka_unit_test(test_requests_are_framed_in_the_kernel),
		cmocka_unit_test(test_response_without_request_is_counted_not_sampled),
		cmocka_unit_test(test_pure_ack_syn_fin_rst_change_nothing),
		cmocka_unit_test(test_udp_carrying_http_is_ignored),
		cmocka_unit_test(test_non_ip_and_truncated_headers_are_allowed_and_ignored),
		cmocka_unit_test(test_payload_lengths_around_the_classifier_window),
		cmocka_unit_test(test_non_http_payloads_change_nothing),
	};

	const struct CMUnitTest routed[] = {
		cmocka_unit_test(test_the_kernel_trie_answers_as_the_host_model),
		cmocka_unit_test(test_routed_requests_run_through_the_kernel),
	};
	const struct CMUnitTest hosts[] = {
		cmocka_unit_test(test_hosts_are_numbered_in_the_kernel),
	};
	int r = cmocka_run_group_tests_name("bpf_test_run", tests, setup, teardown);

	r += cmocka_run_group_tests_name("bpf_test_run with routes", routed, setup_routes,
					 teardown);
	return r + cmocka_run_group_tests_name("bpf_test_run with hosts", hosts, setup_hosts,
					       teardown);
}
