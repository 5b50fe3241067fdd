/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel side as seen from user space: open the skeleton, set rodata,
 * load, attach to a cgroup through bpf_links, read the maps back.
 */
#ifndef LP_PROBE_H
#define LP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "latprobe.h"

struct lp_probe;
struct lp_config;
struct lp_fine_table;

/* Open and load (verifier included); the overflow series is created here. */
int lp_probe__load(struct lp_probe **out, const struct lp_config *cfg,
		   const struct lp_fine_table *ft, char *err, size_t errlen);
/* Attach ingress+egress to the cgroup directory at path (multi-attach links). */
int lp_probe__attach(struct lp_probe *p, const char *path, char *err, size_t errlen);

typedef void (*lp_series_cb)(void *ctx, const struct lp_key *key, const struct lp_value *sum);
/*
 * Call cb once per series with samples since the last read, with its value
 * summed over CPUs (every series at the first read, after the kernel created
 * one, and every 5 minutes); returns series read or -errno.
 */
int lp_probe__read(struct lp_probe *p, lp_series_cb cb, void *ctx);
/* The same for every series in the map, whatever changed. */
int lp_probe__read_all(struct lp_probe *p, lp_series_cb cb, void *ctx);
/* Sum the counter array over CPUs. */
int lp_probe__counters(struct lp_probe *p, __u64 out[LP_CNT_MAX]);
/* Delete a series from the map, cb with its last value (summed over CPUs); -errno. */
int lp_probe__retire(struct lp_probe *p, const struct lp_key *key, lp_series_cb cb, void *ctx);
/* Every cgroup's series accounting (include/latprobe.h, struct lp_cg); returns how many. */
typedef void (*lp_cgroup_cb)(void *ctx, __u64 cgroup_id, const struct lp_cg *g);
int lp_probe__cgroups(struct lp_probe *p, lp_cgroup_cb cb, void *ctx);
/* Requests of each --exclude-path, summed over CPUs: out[2 * i + (client side)], n entries. */
/* the gRPC methods the kernel learned: their paths into base/routes' table (lp_route_learned) */
int lp_probe__grpc_methods(struct lp_probe *p);
/* the IPv6 addresses clients called: their numbers' text into base/peers' table */
int lp_probe__peers6(struct lp_probe *p);
/* the hosts clients called (--client-address host): their numbers' names likewise */
int lp_probe__hosts(struct lp_probe *p);
int lp_probe__excluded(struct lp_probe *p, __u64 *out, unsigned n);
/*
 * A reload: the trie's entries from cur's to next's (new and changed ones
 * first, then cur's that next has not), the longest entry and the
 * exclusions read with them. 0 or -errno (err says which entry).
 */
struct lp_routes;
int lp_probe__set_routes(struct lp_probe *p, const struct lp_routes *next,
			 const struct lp_routes *cur, char *err, size_t errlen);
__u32 lp_probe__nfine(const struct lp_probe *p);
/* the cgroup_skb program's fd (both directions), for tests that drive it with BPF_PROG_TEST_RUN */
int lp_probe__prog_fd(const struct lp_probe *p);
/* the routes trie's fd, for tests that compare its answers with include/lp_route.h's */
int lp_probe__routes_fd(const struct lp_probe *p);
/* Add n to a counter the programs never touch (the TLS scanner's): 0 or -errno. */
int lp_probe__count_add(struct lp_probe *p, unsigned idx, __u64 n);
/* HTTPS: are the TLS programs loaded (not with --no-tls, or where they would not load)? */
bool lp_probe__tls(const struct lp_probe *p);
/*
 * Attach the TLS programs to the OpenSSL library at lib (a path this process
 * can open), for every process that maps it: up to max links into links.
 * Returns how many, or -errno (err says which function failed).
 */
struct bpf_link;
int lp_probe__tls_attach(struct lp_probe *p, const char *lib, struct bpf_link **links, int max,
			 char *err, size_t errlen);
/*
 * The TLS session, per-process count and in-flight call maps (-1 without
 * TLS), for the sweep of dead processes
 */
int lp_probe__tls_owned_fd(const struct lp_probe *p);
int lp_probe__tls_sessions_fd(const struct lp_probe *p);
int lp_probe__tls_calls_fd(const struct lp_probe *p);
void lp_probe__destroy(struct lp_probe *p);

#endif /* LP_PROBE_H */
