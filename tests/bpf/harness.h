/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The harness of tests/bpf/test_bpf.c: the real object loaded by the
 * agent's own loader with a command line's flags, crafted IPv4/IPv6
 * segments, one BPF_PROG_TEST_RUN each, and the counters it changed.
 * Included once, by test_bpf.c.
 */
#ifndef LP_TEST_BPF_HARNESS_H
#define LP_TEST_BPF_HARNESS_H

static struct lp_probe *probe;
static struct lp_config cfg;
static struct lp_fine_table ft;

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* the agent's own loader, with the flags argv */
static int load_with(int argc, const char **argv)
{
	char err[512];
	int e;

	libbpf_set_print(quiet);
	if (geteuid() != 0) {
		fprintf(stderr, "test_bpf: needs root to load BPF programs (run: sudo make test)\n");
		return -1;
	}
	lp_config_defaults(&cfg);
	if (lp_cli_parse(&cfg, argc, (char **)argv, err, sizeof(err), NULL) != LP_CLI_RUN) {
		fprintf(stderr, "test_bpf: %s\n", err);
		return -1;
	}
	if (lp_fine_table_init(&ft, cfg.schema))
		return -1;
	e = lp_probe__load(&probe, &cfg, &ft, err, sizeof(err));
	if (e) {
		fprintf(stderr, "test_bpf: %s\n", err);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	const char *argv[] = { "latprobe" };

	(void)state;
	return load_with(1, argv);
}

static int teardown(void **state)
{
	(void)state;
	lp_probe__destroy(probe);
	probe = NULL; /* a group whose setup fails must not destroy the one before's again */
	lp_fine_table_free(&ft);
	return 0;
}

struct pkt {
	__u64 align;
	unsigned char pad[2]; /* so the IP header after the 14-byte Ethernet header is aligned */
	unsigned char buf[4096];
	__u32 len;
};

enum { V4 = 4, V6 = 6 };

/* Ethernet + IP + TCP (or UDP) + payload; flags are TCP header flag bits */
static void build(struct pkt *p, int family, int proto, const void *payload, __u32 plen,
		  int syn_fin_rst_ack)
{
	struct ethhdr *eth = (struct ethhdr *)p->buf;
	unsigned char *l3 = p->buf + sizeof(*eth), *l4;
	__u32 l3len, l4len = proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(struct udphdr);

	memset(p->buf, 0, sizeof(p->buf));
	if (family == V4) {
		struct iphdr *ip = (struct iphdr *)l3;

		eth->h_proto = htons(ETH_P_IP);
		l3len = sizeof(*ip);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = (__u8)proto;
		ip->tot_len = htons((__u16)(l3len + l4len + plen));
		ip->saddr = htonl(0x7f000001);
		ip->daddr = htonl(0x7f000001);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)l3;

		eth->h_proto = htons(ETH_P_IPV6);
		l3len = sizeof(*ip6);
		ip6->version = 6;
		ip6->nexthdr = (__u8)proto;
		ip6->hop_limit = 64;
		ip6->payload_len = htons((__u16)(l4len + plen));
		ip6->saddr.s6_addr[15] = 1;
		ip6->daddr.s6_addr[15] = 1;
	}
	l4 = l3 + l3len;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (struct tcphdr *)l4;

		th->source = htons(40000);
		th->dest = htons(8080);
		th->seq = htonl(1000);
		th->ack_seq = htonl(5000);
		th->doff = 5;
		th->window = htons(65535);
		th->syn = !!(syn_fin_rst_ack & 1);
		th->fin = !!(syn_fin_rst_ack & 2);
		th->rst = !!(syn_fin_rst_ack & 4);
		th->ack = 1;
	} else {
		struct udphdr *uh = (struct udphdr *)l4;

		uh->source = htons(40000);
		uh->dest = htons(8080);
		uh->len = htons((__u16)(l4len + plen));
	}
	memcpy(l4 + l4len, payload, plen);
	p->len = sizeof(*eth) + l3len + l4len + plen;
}

static void counters(__u64 out[LP_CNT_MAX])
{
	assert_int_equal(lp_probe__counters(probe, out), 0);
}

static int nseries_cb_count;
static void count_cb(void *ctx, const struct lp_key *k, const struct lp_value *v)
{
	(void)ctx;
	(void)v;
	if (!(k->flags & LP_KEY_OVERFLOW))
		nseries_cb_count++;
}

static int real_series(void)
{
	nseries_cb_count = 0;
	/* the overflow series is there */
	assert_true(lp_probe__read_all(probe, count_cb, NULL) >= 1);
	return nseries_cb_count;
}

/* run one packet through a program; returns the counter deltas */
static void run(const struct pkt *p, int ingress, __u32 repeat, __u64 delta[LP_CNT_MAX])
{
	__u64 before[LP_CNT_MAX], after[LP_CNT_MAX];
	/* the program tells a received packet by the device it came in on */
	struct __sk_buff ctx = {.ingress_ifindex = ingress ? 1 : 0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf, .data_size_in = p->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	int i, e;

	counters(before);
	e = bpf_prog_test_run_opts(lp_probe__prog_fd(probe), &opts);
	if (e) {
		print_error("BPF_PROG_TEST_RUN of %u bytes failed: %s\n", p->len, strerror(errno));
		fail();
	}
	/* the probe never drops: 1 is "allow" for cgroup_skb */
	assert_int_equal(opts.retval, 1);
	counters(after);
	for (i = 0; i < LP_CNT_MAX; i++)
		delta[i] = after[i] - before[i];
}

static void assert_only(const __u64 d[LP_CNT_MAX], int idx, __u64 want)
{
	int i;

	for (i = 0; i < LP_CNT_MAX; i++) {
		__u64 w = i == idx ? want : 0;

		if (d[i] != w) {
			print_error("counter %d changed by %llu, want %llu\n", i,
				    (unsigned long long)d[i], (unsigned long long)w);
			fail();
		}
	}
}

#define NONE (-1)
static const char GET[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

#endif /* LP_TEST_BPF_HARNESS_H */
