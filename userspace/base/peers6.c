// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* IPv6 addresses clients called, by the kernel's numbers (base/peers6.h). */
#include <errno.h>
#include <stddef.h>
#include <arpa/inet.h>

#include "base/peers6.h"

static char text[LP_PEERS6_MAX][INET6_ADDRSTRLEN];
static bool known[LP_PEERS6_MAX];

int lp_peer6_set(__u32 n, const struct lp_addr6 *a)
{
	if (!n || n > LP_PEERS6_MAX)
		return -EINVAL;
	if (__atomic_load_n(&known[n - 1], __ATOMIC_ACQUIRE))
		return 0; /* set once: an address keeps its number */
	if (!inet_ntop(AF_INET6, a->w, text[n - 1], sizeof(text[n - 1])))
		return -EINVAL;
	__atomic_store_n(&known[n - 1], true, __ATOMIC_RELEASE);
	return 0;
}

const char *lp_peer6_text(__u32 n)
{
	if (!n || n > LP_PEERS6_MAX || !__atomic_load_n(&known[n - 1], __ATOMIC_ACQUIRE))
		return NULL;
	return text[n - 1];
}
