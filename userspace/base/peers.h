/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What clients called, by the number the kernel gave each: the IPv6
 * addresses (--client-address ip; include/latprobe.h, LP_PEERS6_MAX;
 * bpf/latprobe.bpf.c, lp_peer6_g) and the host names their requests named
 * (--client-address host; LP_HOSTS_MAX, lp_host_g). A client series'
 * lp_key.peer is such a number (LP_KEY_HOST says which table), and its
 * server_address label the text here. One table of each for the process,
 * as the kernel's maps are one: a number's text is set once (user space
 * reads the map when a series names a number it does not know,
 * core/collector.c) and never changes, so a label read from here stays
 * valid for the agent's life.
 */
#ifndef LP_PEERS_H
#define LP_PEERS_H

#include <stdbool.h>
#include "latprobe.h"

/* Set the address of number n (1..LP_PEERS6_MAX). 0, or -EINVAL: no such number. */
int lp_peer6_set(__u32 n, const struct lp_addr6 *a);
/* The address of number n as text ("2001:db8::1"); NULL when not known (yet). */
const char *lp_peer6_text(__u32 n);

/*
 * Set the name of host number n (1..LP_HOSTS_MAX) from the kernel's key.
 * 0, or -EINVAL: no such number, or a key that is no name the kernel
 * takes (include/lp_host.h): never a label.
 */
int lp_host_set(__u32 n, const struct lp_host_key *k);
/* The name of host number n ("api.internal"); NULL when not known (yet). */
const char *lp_host_text(__u32 n);

#endif
