// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor: a cgroup_skb pair that only says "allow". What any probe at this hook costs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb)
{
	(void)skb;
	return 1;
}

SEC("cgroup_skb/egress")
int floor_egress(struct __sk_buff *skb)
{
	(void)skb;
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
