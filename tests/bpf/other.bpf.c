// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Someone else's program, for the coexistence test: counts the packets of a
 * cgroup and allows them all, attached with BPF_F_ALLOW_MULTI next to latprobe.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

SEC("cgroup_skb/egress")
int other_egress(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&packets, &k);

	(void)skb;
	if (v)
		__sync_fetch_and_add(v, 1);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
