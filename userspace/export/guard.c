// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The slow-client guard: request heads get a deadline in all, and when
 * connections run short the slowest heads are closed (struct conn says why
 * libmicrohttpd's own timeout is not enough).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <zlib.h>

#include "base/util.h"
#include "export/server.h"
#include "export/auth.h"
#include "base/config.h"
#include "base/names.h"
#include "core/collector.h"
#include "export/expo.h"
#include "export/self.h"
#include "export/negotiate.h"
#include "export/report.h"
#include "export/webconfig.h"
#include "export/server_int.h"

void lp_srv_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct listener *l = cls;
	struct lp_server *s = l->s;
	struct conn *k;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_context = NULL;
		k = calloc(1, sizeof(*k));
		if (!k || !ci) { /* untracked: libmicrohttpd's own timeout still holds */
			free(k);
			return;
		}
		k->fd = ci->connect_fd;
		k->listener = l->index;
		{
			const union MHD_ConnectionInfo *ai =
				MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

			if (ai && ai->client_addr) {
				k->has_peer = true;
				memcpy(&k->peer, ai->client_addr,
				       ai->client_addr->sa_family == AF_INET6
					       ? sizeof(struct sockaddr_in6)
					       : sizeof(struct sockaddr_in));
			}
		}
		k->since = lp_mono_ns();
		pthread_mutex_lock(&s->guard_lock);
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		else
			pthread_cond_signal(&s->guard_wake); /* it sleeps while there are none */
		s->conns = k;
		l->live++;
		pthread_mutex_unlock(&s->guard_lock);
		*socket_context = k;
		return;
	}
	k = *socket_context;
	if (!k)
		return;
	pthread_mutex_lock(&s->guard_lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	if (!k->closing)
		l->live--;
	pthread_mutex_unlock(&s->guard_lock);
	free(k);
	*socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* a request head arrived (busy) or a response ended (waiting for the next head) */
void lp_srv_conn_busy(struct lp_server *s, struct MHD_Connection *c, bool busy)
{
	struct conn *k = conn_of(c);

	if (!k)
		return;
	pthread_mutex_lock(&s->guard_lock);
	k->busy = busy;
	k->since = lp_mono_ns();
	pthread_mutex_unlock(&s->guard_lock);
}

/* under guard_lock */
static void conn_close(struct lp_server *s, struct conn *k)
{
	if (k->closing)
		return;
	k->closing = true;
	s->listeners[k->listener].live--;
	s->slow_closed++;
	shutdown(k->fd, SHUT_RDWR);
}

/* under guard_lock: the waiting connection of listener l whose head is oldest */
static struct conn *slowest(struct lp_server *s, unsigned l, __u64 now)
{
	struct conn *k, *best = NULL;

	for (k = s->conns; k; k = k->next)
		if (k->listener == l && !k->busy && !k->closing && now - k->since >= EVICT_AGE_NS &&
		    (!best || k->since < best->since))
			best = k;
	return best;
}

/* the same client address (its port aside) */
static bool same_peer(const struct conn *a, const struct conn *b)
{
	if (!a->has_peer || !b->has_peer || a->peer.ss_family != b->peer.ss_family)
		return false;
	if (a->peer.ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)&a->peer)->sin6_addr,
			       &((const struct sockaddr_in6 *)&b->peer)->sin6_addr,
			       sizeof(struct in6_addr));
	return ((const struct sockaddr_in *)&a->peer)->sin_addr.s_addr ==
	       ((const struct sockaddr_in *)&b->peer)->sin_addr.s_addr;
}

/*
 * under guard_lock: an address near libmicrohttpd's cap of connections per
 * address has its slowest heads closed, so that address's next connection (a
 * scraper that shares it with slow clients, such as every local process on
 * 127.0.0.1) is accepted instead of refused
 */
static void per_address(struct lp_server *s, __u64 now)
{
	struct conn *k, *j, *best;
	unsigned n, total = 0;

	for (k = s->conns; k; k = k->next)
		total += !k->closing;
	if (total < PER_IP_EVICT_AT)
		return; /* no address can be near the cap: nothing to count */
	for (k = s->conns; k; k = k->next) {
		if (k->closing || !k->has_peer)
			continue;
		n = 0;
		for (j = s->conns; j; j = j->next)
			n += !j->closing && same_peer(j, k);
		if (n < PER_IP_EVICT_AT)
			continue;
		while (n > PER_IP_EVICT_TO) {
			best = NULL;
			for (j = s->conns; j; j = j->next)
				if (!j->busy && !j->closing && same_peer(j, k) &&
				    now - j->since >= EVICT_AGE_NS &&
				    (!best || j->since < best->since))
					best = j;
			if (!best)
				break;
			conn_close(s, best);
			n--;
		}
	}
}

void *lp_srv_guard_main(void *arg)
{
	struct lp_server *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->guard_lock);
	while (!s->guard_stop) {
		__u64 now = lp_mono_ns();
		struct conn *k;
		unsigned l;

		for (k = s->conns; k; k = k->next)
			if (!k->busy && now - k->since >= HEAD_DEADLINE_NS)
				conn_close(s, k);
		for (l = 0; l < s->ndaemons; l++)
			if (s->listeners[l].live > EVICT_AT)
				while (s->listeners[l].live > EVICT_TO && (k = slowest(s, l, now)))
					conn_close(s, k);
		per_address(s, now);
		/* no connection: nothing to sweep until one comes (an idle agent stays asleep) */
		if (!s->conns) {
			pthread_cond_wait(&s->guard_wake, &s->guard_lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)SWEEP_NS;
		if (ts.tv_nsec >= (long)NS) {
			ts.tv_sec++;
			ts.tv_nsec -= (long)NS;
		}
		pthread_cond_timedwait(&s->guard_wake, &s->guard_lock, &ts);
	}
	pthread_mutex_unlock(&s->guard_lock);
	return NULL;
}
