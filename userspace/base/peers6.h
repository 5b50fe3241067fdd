/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * IPv6 addresses clients called (--client-address ip), by the number the
 * kernel gave each (include/latprobe.h, LP_PEERS6_MAX; bpf/latprobe.bpf.c,
 * lp_peer6_g): an IPv6 client series' lp_key.peer is that number, and its
 * server_address label the address. One table for the process, as the
 * kernel's "peers6" map is one: a number's address is set once (user space
 * reads the map when a series names a number it does not know,
 * core/collector.c) and never changes, so a label read from here stays
 * valid for the agent's life.
 */
#ifndef LP_PEERS6_H
#define LP_PEERS6_H

#include <stdbool.h>
#include "latprobe.h"

/* Set the address of number n (1..LP_PEERS6_MAX). 0, or -EINVAL: no such number. */
int lp_peer6_set(__u32 n, const struct lp_addr6 *a);
/* The address of number n as text ("2001:db8::1"); NULL when not known (yet). */
const char *lp_peer6_text(__u32 n);

#endif
