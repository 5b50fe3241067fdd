/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A push sink is a plug-in: one file (sinks/<name>.c) that defines a struct
 * lp_sink_ops — the URL schemes it claims, the options it reads into its own
 * part of the configuration, how it checks them, and its wire encoder — and
 * one line in the table in sinks.c. The generic machinery around it
 * (sinks.c: URL parsing, the options every sink shares, secrets; push.c:
 * worker threads, queue, backoff, and the three transports) never names a
 * sink. CONTRIBUTING.md, "Adding a sink", has the steps.
 *
 * Layers: sinks/ may include export/ (the Pushgateway sends the text
 * exposition), core/ and base/; nothing below includes sinks/.
 */
#ifndef LP_SINK_H
#define LP_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include "base/buf.h"
#include "base/push_cfg.h"
#include "core/collector.h"

/* how the bytes travel; push.c has one transport per value (no default case) */
enum lp_transport {
	LP_TRANSPORT_HTTP,  /* a request per push to cfg->url (libcurl) */
	LP_TRANSPORT_TCP,   /* one connection per push to host:port, the body written whole */
	LP_TRANSPORT_DGRAM, /* datagrams of whole lines (UDP host:port, or cfg->unix_path) */
};

/* the generic secrets a sink takes (sinks.c reads the files, before the privilege drop) */
#define LP_SINK_AUTH_BASIC 1u /* auth_file=PATH: "user:password" -> cfg->userpwd */
#define LP_SINK_AUTH_TOKEN 2u /* token_file=PATH -> cfg->token */

/* the parts of a --push URL, for finish() */
struct lp_sink_url {
	const char *scheme; /* as given: "influxdb2+https" */
	const char *http;   /* "https" if the scheme ends in +https, else "http" */
	const char *host;   /* NULL for unix:// */
	const char *port;   /* NULL: the sink's default */
	const char *path;   /* decoded; NULL or "/..." */
};

struct lp_sink_ops {
	const char *name;	    /* "graphite": in messages */
	const char *const *schemes; /* the URL schemes it claims, NULL-terminated */
	enum lp_transport transport;
	const char *default_port; /* TCP and UDP sinks */
	unsigned auth;		  /* LP_SINK_AUTH_*: the secret files it accepts */
	/* HTTP sinks */
	const char *http_method;  /* "PUT", "POST" */
	const char *content_type; /* "text/plain; version=0.0.4" */
	const char *token_scheme; /* with a token: "Authorization: <scheme> <token>" */
	const char *const *headers; /* more request headers ("Name: value"), NULL-terminated */
	/*
	 * Counters are sent as increments since the last snapshot sent (prev):
	 * a push that fails half-way resumes after what arrived, and a snapshot
	 * partly delivered is never dropped from the queue.
	 */
	bool increments;
	/* its options' defaults (cfg->opts is zeroed first) */
	void (*defaults)(struct lp_push_cfg *c, const char *hostname);
	/* one key=value of its own: 0; -ENOENT not its key; -EINVAL a bad value */
	int (*option)(struct lp_push_cfg *c, const char *key, const char *value);
	/* after the options: check them together, set url (HTTP) and name; -EINVAL with err */
	int (*finish)(struct lp_push_cfg *c, const struct lp_sink_url *u, char *err, size_t errlen);
	/* the body of one push: pure, the model in, the buffer out; 0 or -ENOMEM */
	int (*encode)(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		      const struct lp_push_cfg *c);
};

/* the table (sinks.c), NULL-terminated */
extern const struct lp_sink_ops *const lp_sinks[];
extern const struct lp_sink_ops lp_sink_pushgateway, lp_sink_graphite, lp_sink_influxdb,
	lp_sink_influxdb2, lp_sink_dogstatsd, lp_sink_remote_write, lp_sink_otlp;

/*
 * Parse one --push value into cfg: its sink, the shared options (interval,
 * timeout, queue, ca_file, auth_file, token_file), then the sink's own.
 * Secret files are read here, at start-up. Returns 0, or -EINVAL with a
 * message naming the value in err (never a secret).
 */
int lp_push_parse(const char *spec, const char *hostname, struct lp_push_cfg *cfg, char *err,
		  size_t errlen);

/* ---- for the sinks' own files (sinks/enc.c) ---- */

/* job= and instance=: the Pushgateway's grouping key, remote write's external labels */
struct lp_enc_job {
	char job[128];
	char instance[256];
};
/* "latprobe" and the host name */
void lp_enc_job_defaults(struct lp_enc_job *j, const char *hostname);
/* job= or instance=: 0; -ENOENT not one of them; -EINVAL empty or too long */
int lp_enc_job_option(struct lp_enc_job *j, const char *k, const char *v);

/* copy s into out, characters outside [A-Za-z0-9_-] (and '.', ':', '/' with dots)
 * replaced by '_'; "none" for an empty result */
const char *lp_enc_clean(char *out, size_t len, const char *s, bool dots);
/* the first window's good ratio and burn rate of SLO k (NaN: none) */
void lp_enc_slo_first_window(const struct lp_model *m, const struct lp_series_view *v, unsigned k,
			     double *ratio, double *burn);
/* a Graphite/StatsD name: [A-Za-z0-9_.-]+ */
bool lp_enc_name_ok(const char *s);
/* an HTTP path of letters, digits and / _ - . (remote write, OTLP) */
bool lp_enc_path_ok(const char *p);
/* "1", "true", "0", "false": 0 and *v, or -EINVAL */
int lp_enc_bool(const char *s, bool *v);

/* the encoders, for the tests that pin their output */
int lp_enc_pushgateway(struct lp_buf *b, const struct lp_model *m);
int lp_enc_graphite(struct lp_buf *b, const struct lp_model *m, const struct lp_push_cfg *cfg);
int lp_enc_influx(struct lp_buf *b, const struct lp_model *m);
int lp_enc_remote_write(struct lp_buf *b, const struct lp_model *m, const struct lp_push_cfg *c);
int lp_enc_dogstatsd(struct lp_buf *b, const struct lp_model *m, const struct lp_model *prev,
		     const struct lp_push_cfg *cfg);

#endif
