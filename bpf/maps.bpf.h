/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The cgroup_skb side's load-time settings (read-only data user space sets
 * before load: userspace/core/probe.c) and its maps. The layouts of what
 * user space reads are in include/latprobe.h.
 */
#ifndef LP_MAPS_BPF_H
#define LP_MAPS_BPF_H

/* Set by user space before load (userspace/core/probe.c). */
const volatile __u32 nr_fine = LP_FINE_OCTAVES << LP_SCHEMA_DEFAULT;
const volatile __u64 fine_zero_ns = 0;
const volatile __u64 fine_bounds[LP_FINE_BOUNDS_MAX] = {};
const volatile __u32 nr_classic = 0;
/* --side: 0 both, LP_SIDE_SERVER or LP_SIDE_CLIENT only (the other side costs nothing) */
const volatile __u8 side_filter = 0;
const volatile __u64 classic_bounds[LP_CLASSIC_MAX] = {};
/* --ttfb: also record time to the first byte of the final response */
const volatile __u8 ttfb = 0;

/*
 * Working memory of one segment, per CPU: the read window, the verdict and
 * the segment (too large for the 512-byte stack). Two per CPU: a program
 * in softirq can interrupt one in process context on the same CPU; the
 * interrupting one takes the second slot.
 */
struct lp_slot {
	__u64 counters[LP_CNT_MAX]; /* first: user space reads them (latprobe.h) */
	struct lp_win w;
	struct lp_verdict v;
	struct lp_seg seg;
	__u32 poff; /* payload offset from the network header */
	__u32 busy; /* a program on this CPU is using the slot */
	struct lp_key key; /* the samples' series: the connection's part (lp_slot_begin) */
	__u32 slot;	   /* which of the CPU's slots this is (its spill ring) */
	__u32 pad;
	__u64 tenant; /* the cgroup whose share a new series counts in (0: key.cgroup_id) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, struct lp_slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lp_conn);
} conns SEC(".maps");

/* an HTTP/2 connection's streams and HPACK tables (include/lp_h2.h), beside its conns entry */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lp_h2);
} h2conns SEC(".maps");

/* series -> struct lp_value per CPU; value_size and max_entries set at load */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(struct lp_key));
	__uint(value_size, sizeof(struct lp_value));
} series SEC(".maps");

/* one all-zero value of the series map's size, to insert new series */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct lp_value));
} zero_value SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* the spill ring (include/latprobe.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, struct lp_spill);
} spill SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} spill_head SEC(".maps");

/* cpu * LP_SLOTS + slot; max_entries set at load to the possible CPUs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LP_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} spill_tail SEC(".maps");

/* series per cgroup before its new statuses fold (0: no cap; include/latprobe.h) */
const volatile __u32 cg_cap = 0;
/*
 * the cgroup level a share belongs to (--cgroup-cap-level, absolute: 0 the
 * root): a tenant's sibling cgroups share one (0: each cgroup its own)
 */
const volatile __u32 cg_level = 0;

/* cgroup id -> struct lp_cg */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LP_CG_MAX);
	__type(key, __u64);
	__type(value, struct lp_cg);
} cgroups SEC(".maps");

/* path prefix -> route id (include/lp_route.h); filled by user space before attach */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LP_ROUTE_ENTRIES);
	__type(key, struct lp_route_key);
	__type(value, struct lp_route_val);
} routes SEC(".maps");

/* IPv6 addresses clients called (--client-address ip) -> their number (lp_key.peer) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LP_PEERS6_MAX);
	__type(key, struct lp_addr6);
	__type(value, __u32);
} peers6 SEC(".maps");
/* the numbers given so far (never given back: an address keeps its number) */
__u32 peers6_next;

/* host names clients called (--client-address host) -> their number (lp_key.peer, LP_KEY_HOST) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LP_HOSTS_MAX);
	__type(key, struct lp_host_key);
	__type(value, __u32);
} hosts SEC(".maps");
/* the numbers given so far (never given back: a host keeps its number) */
__u32 hosts_next;

/* a learned gRPC method's path (its route key, zeroed past its end) -> its slot (lp_learn_g) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LP_GRPC_METHODS_MAX);
	__type(key, struct lp_route_key);
	__type(value, __u32);
} grpc_methods SEC(".maps");

/* requests of each --exclude-path, by side: index * 2 + side - 1 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_EXCLUDES_MAX * 2);
	__type(key, __u32);
	__type(value, __u64);
} excluded SEC(".maps");

/* changed-only collection (include/latprobe.h): series with samples since user space's last look */
__u64 lp_dirty[LP_DIRTY_WORDS];
/* series the kernel created: user space reads the whole map when this moved */
__u64 lp_new_series;

/*
 * Tests only: treat one new series in spill_test_every as if it could not
 * be allocated, so the spill path runs on demand (0 in production: the
 * verifier drops the branch).
 */
const volatile __u32 spill_test_every = 0;

#endif /* LP_MAPS_BPF_H */
