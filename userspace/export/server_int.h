/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The HTTP endpoint's insides, shared by its files only: server.c (the
 * daemons, request routing, TLS and auth), scrape.c (/metrics and its body
 * caches) and guard.c (the slow-client guard). Nothing else includes it.
 */
#ifndef LP_SERVER_INT_H
#define LP_SERVER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <zlib.h>

#include "base/buf.h"
#include "export/server.h"
#include "export/auth.h"

#define MAX_CONNECTIONS	   256
#define PER_IP_CONNECTIONS 32	     /* one address cannot take the endpoint */
#define CONNECTION_TIMEOUT 10	     /* s without progress: slow clients are dropped */
#define HEAD_DEADLINE_NS   (10 * NS) /* a request head must be whole by then, in all */
#define EVICT_AT	   (MAX_CONNECTIONS * 3 / 4) /* connections: make room from here */
#define EVICT_TO	   (MAX_CONNECTIONS / 2)
#define EVICT_AGE_NS	   NS /* only heads slower than this are evicted */
/* one address: its slowest heads closed from here, so its next connection finds room */
#define PER_IP_EVICT_AT	   (PER_IP_CONNECTIONS * 3 / 4)
#define PER_IP_EVICT_TO	   (PER_IP_CONNECTIONS / 2)
#define SWEEP_NS	   (100 * 1000 * 1000ULL)
#define CONNECTION_MEMORY  (64 * 1024) /* bounds a request's line and headers */
#define TRIM_AFTER	   (1u << 20)  /* body size after which freed memory goes back */
#define NS		   1000000000ULL

/*
 * Every open connection, for the slow-client guard. libmicrohttpd's own
 * timeout restarts at every byte, so a client sending a byte every few
 * seconds holds a connection for ever, and 256 of them hold the endpoint.
 * The guard gives a request head a deadline in all (from the connection's
 * start, or from the end of the previous response on a kept-alive one), and
 * when connections run short it closes the heads that are slowest to
 * arrive, oldest first, so a scrape finds room. It closes by shutdown(2):
 * libmicrohttpd sees the end of the stream and cleans up in its own thread.
 * The fd stays valid meanwhile: libmicrohttpd tells us of the close (under
 * the guard's lock) before it closes the fd.
 */
struct conn {
	struct conn *prev, *next;
	int fd;
	unsigned listener;
	struct sockaddr_storage peer; /* its address (port left out), for the per-address guard */
	bool has_peer;
	__u64 since; /* waiting for a request head since */
	bool busy;   /* a request is being answered */
	bool closing;
};

struct listener {
	struct lp_server *s;
	unsigned index;
	unsigned live; /* open connections not being closed by the guard */
};

/* per request: libmicrohttpd's con_cls */
struct req {
	struct MHD_Connection *c;
	int auth; /* enum lp_auth_verdict once known; -1 while pending */
};

struct lp_server {
	const struct lp_config *cfg;
	struct lp_collector *coll;
	const struct lp_webconfig *wc;
	struct MHD_Daemon *daemons[LP_MAX_LISTEN];
	struct listener listeners[LP_MAX_LISTEN];
	unsigned ndaemons;
	/* self metrics, updated by the HTTP threads */
	unsigned long long scrapes, http_errors;
	unsigned long long scrape_failures; /* bodies that could not be built: 500 */
	double last_scrape_s;
	pthread_mutex_t lock; /* last_scrape_s */
	struct lp_auth *auth; /* NULL without basic_auth_users */
	/* the push sinks' figures for the self metrics (NULL: no sinks); the
	 * sinks are a layer above, so they are asked through this callback */
	unsigned (*push_stats)(void *ctx, struct lp_push_stat *out, unsigned max);
	void *push_ctx;
	/* the slow-client guard */
	pthread_mutex_t guard_lock;
	pthread_cond_t guard_wake;
	pthread_t guard;
	bool guard_started, guard_stop;
	struct conn *conns;
	unsigned long long slow_closed;
	/*
	 * The series part of recent gzip scrapes (struct zpart), per collection
	 * and variant: scrapes of one collection (HA Prometheus pairs, several
	 * scrapers) build and compress it once, and so do the collections after
	 * it that would give the same part (lp_expo_series_part_same: an idle
	 * node). cache_lock is held while one is built, so concurrent scrapes
	 * wait for it instead of building it again.
	 */
	pthread_mutex_t cache_lock;
	struct zpart {
		__u64 seq;		/* the model's collection; 0: empty slot */
		struct lp_model *model; /* that model (a reference: its views stay whole) */
		unsigned variant;	/* format and options */
		struct lp_buf z;	/* gzip header and deflate blocks, flushed to a byte */
		uLong crc;		/* CRC-32 of the uncompressed part */
		size_t len;		/* its uncompressed length */
	} cache[4];
	unsigned cache_next;
	/*
	 * The uncompressed series part of the scrapes being sent now, per
	 * collection and variant: a scrape that comes while another of the same
	 * collection is still being sent shares its part instead of building it
	 * again. Held only while sent (a 39 MB text body at 10 000 series is not
	 * kept for the next scrape: that is what the gzip cache is for).
	 */
	struct rawpart {
		int refs; /* the responses sending it; the slot holds no reference */
		__u64 seq;
		struct lp_model *model; /* a reference, as in struct zpart */
		unsigned variant;
		unsigned slot;
		struct lp_server *s;
		struct lp_buf b;
	} * raw[4];
	unsigned raw_next;
	unsigned long long cache_hits;
};

/* server.c */
enum MHD_Result lp_srv_respond(struct lp_server *s, struct MHD_Connection *c, unsigned status,
			       const char *type, char *body, size_t len, bool must_free);
enum MHD_Result lp_srv_text(struct lp_server *s, struct MHD_Connection *c, unsigned status,
			    const char *msg);

/* scrape.c: GET /metrics */
enum MHD_Result lp_srv_metrics(struct lp_server *s, struct MHD_Connection *c);

/* guard.c: the slow-client guard */
void lp_srv_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code);
void lp_srv_conn_busy(struct lp_server *s, struct MHD_Connection *c, bool busy);
void *lp_srv_guard_main(void *arg);

#endif /* LP_SERVER_INT_H */
