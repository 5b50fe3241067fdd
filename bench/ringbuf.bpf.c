// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The design latprobe rejects, as a benchmark peer: how event-based agents
 * work. Every request start and response start becomes an event in a BPF
 * ring buffer; user space (ringbuf_consumer.c) pairs them per socket and
 * builds the histogram. Same hook, same classifier as latprobe.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lp_classify.h"

struct event {
	__u64 cookie;
	__u64 ts;
	__u16 status;
	__u8 kind; /* 1 request, 2 response */
	__u8 ingress;
	__u8 method;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

static __always_inline int handle(struct __sk_buff *skb, __u8 ingress)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 buf[LP_CLASSIFY_BYTES] = {}, *first = data, method = 0;
	__u32 l3, l4, plen, n;
	struct tcphdr *th;
	struct event *e;
	__u16 status = 0;
	int cls;

	if ((void *)(first + 1) > end)
		return 1;
	if ((*first >> 4) == 4) {
		struct iphdr *iph = data;

		if ((void *)(iph + 1) > end || iph->protocol != IPPROTO_TCP)
			return 1;
		l3 = iph->ihl * 4;
	} else if ((*first >> 4) == 6) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return 1;
		l3 = sizeof(*ip6);
	} else {
		return 1;
	}
	th = data + l3;
	if ((void *)(th + 1) > end)
		return 1;
	l4 = th->doff * 4;
	if (skb->len <= l3 + l4)
		return 1;
	plen = skb->len - l3 - l4;
	n = plen < LP_CLASSIFY_BYTES ? (plen & (LP_CLASSIFY_BYTES - 1)) : LP_CLASSIFY_BYTES;
	if (!n || bpf_skb_load_bytes(skb, l3 + l4, buf, n))
		return 1;
	cls = lp_classify(buf, n, &method, &status);
	if (cls != LP_CLASS_REQUEST && cls != LP_CLASS_RESPONSE)
		return 1;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 1;
	e->cookie = bpf_get_socket_cookie(skb);
	e->ts = bpf_ktime_get_ns();
	e->kind = cls == LP_CLASS_REQUEST ? 1 : 2;
	e->ingress = ingress;
	e->method = method;
	e->status = status;
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("cgroup_skb/ingress")
int ringbuf_ingress(struct __sk_buff *skb)
{
	return handle(skb, 1);
}

SEC("cgroup_skb/egress")
int ringbuf_egress(struct __sk_buff *skb)
{
	return handle(skb, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
