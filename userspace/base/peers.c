// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What clients called, by the kernel's numbers (base/peers.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>

#include "base/peers.h"
#include "lp_host.h"

static char text6[LP_PEERS6_MAX][INET6_ADDRSTRLEN];
static bool known6[LP_PEERS6_MAX];
static char hosts[LP_HOSTS_MAX][LP_HOST_LEN];
static bool known_hosts[LP_HOSTS_MAX];

int lp_peer6_set(__u32 n, const struct lp_addr6 *a)
{
	if (!n || n > LP_PEERS6_MAX)
		return -EINVAL;
	if (__atomic_load_n(&known6[n - 1], __ATOMIC_ACQUIRE))
		return 0; /* set once: an address keeps its number */
	if (!inet_ntop(AF_INET6, a->w, text6[n - 1], sizeof(text6[n - 1])))
		return -EINVAL;
	__atomic_store_n(&known6[n - 1], true, __ATOMIC_RELEASE);
	return 0;
}

const char *lp_peer6_text(__u32 n)
{
	if (!n || n > LP_PEERS6_MAX || !__atomic_load_n(&known6[n - 1], __ATOMIC_ACQUIRE))
		return NULL;
	return text6[n - 1];
}

int lp_host_set(__u32 n, const struct lp_host_key *k)
{
	/* the kernel's rule (include/lp_host.h): a name's bytes, then zeros */
	if (!n || n > LP_HOSTS_MAX ||
	    !lp_host_key_ok(k, (__u32)strnlen((const char *)k->b, LP_HOST_LEN)))
		return -EINVAL;
	if (__atomic_load_n(&known_hosts[n - 1], __ATOMIC_ACQUIRE))
		return 0; /* set once: a host keeps its number */
	memcpy(hosts[n - 1], k->b, LP_HOST_LEN);
	__atomic_store_n(&known_hosts[n - 1], true, __ATOMIC_RELEASE);
	return 0;
}

const char *lp_host_text(__u32 n)
{
	if (!n || n > LP_HOSTS_MAX || !__atomic_load_n(&known_hosts[n - 1], __ATOMIC_ACQUIRE))
		return NULL;
	return hosts[n - 1];
}
