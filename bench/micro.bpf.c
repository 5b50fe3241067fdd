// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What each building block of a cgroup_skb probe costs on this kernel, one
 * ingress+egress pair per block, for bench/kcost.py --micro NAME:
 *   m_fullsock   skb->sk and bpf_sk_fullsock
 *   m_storage    + bpf_sk_storage_get (no create: the map stays empty)
 *   m_stcreate   + bpf_sk_storage_get with create on payload segments (state exists)
 *   m_clock      bpf_ktime_get_ns
 *   m_load16     bpf_skb_load_bytes of 16 payload bytes
 *   m_load256    bpf_skb_load_bytes of 256 payload bytes
 *   m_cookie     bpf_get_socket_cookie
 *   m_pcpu       a per-CPU array lookup and an increment
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} st SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pc SEC(".maps");

volatile __u64 sink;

#define PAIR(name, body)                                                                           \
	static __always_inline int name##_body(struct __sk_buff *skb __attribute__((unused))) body; \
	SEC("cgroup_skb/ingress") int name##_ingress(struct __sk_buff *skb)                        \
	{                                                                                          \
		return name##_body(skb);                                                           \
	}                                                                                          \
	SEC("cgroup_skb/egress") int name##_egress(struct __sk_buff *skb)                          \
	{                                                                                          \
		return name##_body(skb);                                                           \
	}

PAIR(m_fullsock, {
	struct bpf_sock *sk = skb->sk;

	if (sk && bpf_sk_fullsock(sk))
		sink = 1;
	return 1;
})

PAIR(m_storage, {
	struct bpf_sock *sk = skb->sk;

	if (sk && (sk = bpf_sk_fullsock(sk)) && bpf_sk_storage_get(&st, sk, 0, 0))
		sink = 1;
	return 1;
})

PAIR(m_stcreate, {
	struct bpf_sock *sk = skb->sk;
	__u64 *v;

	if (skb->len < 100 || !sk || !(sk = bpf_sk_fullsock(sk)))
		return 1;
	v = bpf_sk_storage_get(&st, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (v)
		sink = *v;
	return 1;
})

PAIR(m_clock, {
	sink = bpf_ktime_get_ns();
	return 1;
})

PAIR(m_load16, {
	__u8 buf[16];

	if (skb->len > 100 && !bpf_skb_load_bytes(skb, 60, buf, 16))
		sink = buf[3];
	return 1;
})

PAIR(m_load256, {
	__u8 buf[256];

	if (skb->len > 400 && !bpf_skb_load_bytes(skb, 60, buf, 256))
		sink = buf[3];
	return 1;
})

PAIR(m_cookie, {
	sink = bpf_get_socket_cookie(skb);
	return 1;
})

PAIR(m_pcpu, {
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&pc, &k);

	if (v)
		*v += 1;
	return 1;
})

char LICENSE[] SEC("license") = "Dual BSD/GPL";
