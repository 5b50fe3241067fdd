// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The command line: usage text, options into struct lp_config, their checks. */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/util.h"
#include "app/cli.h"
#include "version.h"
#include "core/hist.h"
#include "sinks/sink.h"

enum {
	OPT_SIDE = 256,
	OPT_SCHEMA,
	OPT_BUCKETS,
	OPT_MAX_SERIES,
	OPT_SLO,
	OPT_NO_DEFAULT_SLO,
	OPT_HIST,
	OPT_WEB_CONFIG,
	OPT_USER,
	OPT_PUSH,
	OPT_TTFB,
	OPT_WINDOW_METRICS,
	OPT_ROUTE,
	OPT_MAX_SERIES_CG,
	OPT_RETIRE_AFTER,
	OPT_ROUTES_FILE,
	OPT_EXCLUDE_PATH,
	OPT_NO_TLS,
	OPT_TLS_SCAN,
	OPT_K8S_ROOT,
	OPT_SERVICE_FROM,
	OPT_CLIENT_ADDRESS,
	OPT_TLS_SESSIONS,
	OPT_CONFIG,
	OPT_WATCH_CONFIG,
	OPT_TLS_SHARE,
	OPT_CG_LEVEL,
	OPT_GRPC_METHODS,
};

static const struct option long_opts[] = {
	{"cgroup", required_argument, NULL, 'c'},
	{"port", required_argument, NULL, 'p'},
	{"method", required_argument, NULL, 'm'},
	{"side", required_argument, NULL, OPT_SIDE},
	{"route", required_argument, NULL, OPT_ROUTE},
	{"routes-file", required_argument, NULL, OPT_ROUTES_FILE},
	{"exclude-path", required_argument, NULL, OPT_EXCLUDE_PATH},
	{"grpc-methods", required_argument, NULL, OPT_GRPC_METHODS},
	{"schema", required_argument, NULL, OPT_SCHEMA},
	{"buckets", required_argument, NULL, OPT_BUCKETS},
	{"max-series", required_argument, NULL, OPT_MAX_SERIES},
	{"max-series-per-cgroup", required_argument, NULL, OPT_MAX_SERIES_CG},
	{"cgroup-cap-level", required_argument, NULL, OPT_CG_LEVEL},
	{"retire-after", required_argument, NULL, OPT_RETIRE_AFTER},
	{"slo", required_argument, NULL, OPT_SLO},
	{"no-default-slo", no_argument, NULL, OPT_NO_DEFAULT_SLO},
	{"interval", required_argument, NULL, 'i'},
	{"window", required_argument, NULL, 'w'},
	{"duration", required_argument, NULL, 'd'},
	{"json", no_argument, NULL, 'j'},
	{"hist", no_argument, NULL, OPT_HIST},
	{"ttfb", no_argument, NULL, OPT_TTFB},
	{"no-tls", no_argument, NULL, OPT_NO_TLS},
	{"tls-scan", required_argument, NULL, OPT_TLS_SCAN},
	{"tls-sessions", required_argument, NULL, OPT_TLS_SESSIONS},
	{"tls-sessions-per-process", required_argument, NULL, OPT_TLS_SHARE},
	{"window-metrics", no_argument, NULL, OPT_WINDOW_METRICS},
	{"listen", required_argument, NULL, 'l'},
	{"web-config", required_argument, NULL, OPT_WEB_CONFIG},
	{"push", required_argument, NULL, OPT_PUSH},
	{"quiet", no_argument, NULL, 'q'},
	{"user", required_argument, NULL, OPT_USER},
	{"k8s-root", required_argument, NULL, OPT_K8S_ROOT},
	{"service-name-from", required_argument, NULL, OPT_SERVICE_FROM},
	{"client-address", required_argument, NULL, OPT_CLIENT_ADDRESS},
	{"verbose", no_argument, NULL, 'v'},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"watch-config", no_argument, NULL, OPT_WATCH_CONFIG},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* sort and deduplicate; returns the new count */
static unsigned uniq_bounds(__u64 *v, unsigned n)
{
	unsigned i, k = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

static int parse_buckets(const char *s, __u64 *out, unsigned *n, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *tok;
	unsigned k = 0;

	if (strlen(s) >= sizeof(buf)) {
		lp_errf(-EINVAL, err, errlen, "--buckets: list too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (k >= LP_CLASSIC_MAX - 1) {
			lp_errf(-EINVAL, err, errlen, "--buckets: more than %d boundaries",
				LP_CLASSIC_MAX - 1);
			return -EINVAL;
		}
		if (lp_parse_duration_ns(tok, &out[k]) || !out[k]) {
			lp_errf(-EINVAL, err, errlen, "--buckets: '%s' is not a positive duration",
				tok);
			return -EINVAL;
		}
		k++;
	}
	if (!k) {
		lp_errf(-EINVAL, err, errlen, "--buckets: empty list");
		return -EINVAL;
	}
	*n = k;
	return 0;
}

/* what the options say before the configuration is put together */
struct parse_state {
	__u64 buckets[LP_CLASSIC_MAX];
	unsigned nbuckets, nuser_slos, nwin;
	const char *win_arg[LP_MAX_WINDOWS]; /* as given, for messages */
	struct lp_slo user_slos[LP_MAX_SLOS];
	bool default_slo, listen_none;
};

/* What is measured: the scope and filters. 0, -EINVAL (err set), -ENOENT: not one of these */
static int scope_option(struct lp_config *cfg, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case 'c':
		if (!*arg)
			return lp_errf(-EINVAL, err, errlen, "--cgroup: empty path");
		cfg->cgroup = arg;
		return 0;
	case 'p':
		if (cfg->nports >= LP_MAX_PORTS)
			return lp_errf(-EINVAL, err, errlen, "--port: at most %d ports",
				       LP_MAX_PORTS);
		if (lp_parse_port(arg, &cfg->ports[cfg->nports]))
			return lp_errf(-EINVAL, err, errlen,
				       "--port: '%s' is not a port number 1..65535", arg);
		cfg->nports++;
		return 0;
	case 'm':
		if (lp_parse_method(arg, &cfg->method))
			return lp_errf(
				-EINVAL, err, errlen,
				"--method: '%s' is not one of GET HEAD POST PUT DELETE CONNECT "
				"OPTIONS TRACE PATCH",
				arg);
		return 0;
	case OPT_SIDE:
		if (lp_parse_side(arg, &cfg->side))
			return lp_errf(-EINVAL, err, errlen, "--side: '%s' is not server or client",
				       arg);
		return 0;
	case OPT_ROUTE:
	case OPT_EXCLUDE_PATH: {
		char sub[256];

		if (lp_routes_add(&cfg->routes, arg, c == OPT_EXCLUDE_PATH, sub, sizeof(sub)))
			return lp_errf(-EINVAL, err, errlen, "%s: %s",
				       c == OPT_ROUTE ? "--route" : "--exclude-path", sub);
		return 0;
	}
	case OPT_GRPC_METHODS: {
		__u32 u;

		if (lp_parse_u32(arg, 0, LP_GRPC_METHODS_MAX, &u))
			return lp_errf(-EINVAL, err, errlen, "--grpc-methods: '%s' is not 0..%d", arg,
				       LP_GRPC_METHODS_MAX);
		cfg->grpc_methods = u;
		return 0;
	}
	case OPT_ROUTES_FILE: {
		char sub[512];

		if (!*arg)
			return lp_errf(-EINVAL, err, errlen, "--routes-file: empty path");
		if (lp_routes_add_file(&cfg->routes, arg, sub, sizeof(sub)))
			return lp_errf(-EINVAL, err, errlen, "--routes-file: %s", sub);
		return 0;
	}
	case OPT_USER:
		if (!*arg)
			return lp_errf(-EINVAL, err, errlen, "--user: empty name");
		cfg->user = arg;
		return 0;
	case OPT_K8S_ROOT:
		if (strcmp(arg, "none") && arg[0] != '/')
			return lp_errf(-EINVAL, err, errlen,
				       "--k8s-root: '%s' is not an absolute path or none", arg);
		cfg->k8s_root = strcmp(arg, "none") ? arg : "";
		return 0;
	case OPT_SERVICE_FROM:
		return lp_parse_service_from(cfg, arg, err, errlen);
	case OPT_CLIENT_ADDRESS:
		if (!strcmp(arg, "host"))
			cfg->client_addr = LP_CLIENT_ADDR_HOST;
		else if (!strcmp(arg, "ip"))
			cfg->client_addr = LP_CLIENT_ADDR_IP;
		else if (!strcmp(arg, "off"))
			cfg->client_addr = LP_CLIENT_ADDR_OFF;
		else
			return lp_errf(-EINVAL, err, errlen,
				       "--client-address: '%s' is not host, ip or off", arg);
		return 0;
	}
	return -ENOENT;
}

/* How it is measured and judged: histograms, SLOs, windows, timing */
/* options of what is kept: histograms, series, their caps and retirement, SLOs */
static int measure_option(struct lp_config *cfg, struct parse_state *ps, int c, const char *arg,
			  char *err, size_t errlen)
{
	char sub[256];
	__u32 u;

	switch (c) {
	case OPT_SCHEMA:
		if (lp_parse_u32(arg, 0, LP_SCHEMA_MAX, &u))
			return lp_errf(-EINVAL, err, errlen, "--schema: '%s' is not 0..%d", arg,
				       LP_SCHEMA_MAX);
		cfg->schema = u;
		return 0;
	case OPT_BUCKETS:
		return parse_buckets(arg, ps->buckets, &ps->nbuckets, err, errlen) ? -EINVAL : 0;
	case OPT_MAX_SERIES:
		if (lp_parse_u32(arg, 16, 1u << 20, &u))
			return lp_errf(-EINVAL, err, errlen,
				       "--max-series: '%s' is not 16..1048576", arg);
		cfg->max_series = u;
		return 0;
	case OPT_RETIRE_AFTER:
		if (lp_parse_duration_ns(arg, &cfg->retire_ns) ||
		    (cfg->retire_ns && cfg->retire_ns < 1000000000ULL) ||
		    cfg->retire_ns > LP_MAX_DURATION_NS)
			return lp_errf(-EINVAL, err, errlen,
				       "--retire-after: '%s' is not 0 or a duration from 1s to 366 "
				       "days",
				       arg);
		return 0;
	case OPT_MAX_SERIES_CG:
		if (lp_parse_u32(arg, 0, 1u << 20, &u))
			return lp_errf(-EINVAL, err, errlen,
				       "--max-series-per-cgroup: '%s' is not 0..1048576", arg);
		cfg->max_series_per_cgroup = u;
		cfg->max_series_per_cgroup_set = true;
		return 0;
	case OPT_CG_LEVEL:
		if (lp_parse_u32(arg, 0, 32, &u))
			return lp_errf(-EINVAL, err, errlen, "--cgroup-cap-level: '%s' is not 0..32",
				       arg);
		cfg->cgroup_cap_level = u;
		return 0;
	case OPT_SLO:
		if (ps->nuser_slos >= LP_MAX_SLOS - 1)
			return lp_errf(-EINVAL, err, errlen, "--slo: at most %d SLOs",
				       LP_MAX_SLOS - 1);
		if (lp_parse_slo(arg, &ps->user_slos[ps->nuser_slos], sub, sizeof(sub)))
			return lp_errf(-EINVAL, err, errlen, "--slo: '%s': %s", arg, sub);
		ps->nuser_slos++;
		return 0;
	case OPT_NO_DEFAULT_SLO:
		ps->default_slo = false;
		return 0;
	}
	return -ENOENT;
}

/* options of time: the interval, windows, duration, what is timed (--ttfb, TLS) */
static int timing_option(struct lp_config *cfg, struct parse_state *ps, int c, const char *arg,
			 char *err, size_t errlen)
{
	__u32 u;

	switch (c) {
	case 'i':
		if (lp_parse_duration_ns(arg, &cfg->interval_ns) ||
		    cfg->interval_ns < 100000000ULL || cfg->interval_ns > 3600000000000ULL)
			return lp_errf(-EINVAL, err, errlen,
				       "--interval: '%s' is not a duration from 100ms to 1h", arg);
		return 0;
	case 'w':
		if (ps->nwin >= LP_MAX_WINDOWS)
			return lp_errf(-EINVAL, err, errlen, "--window: at most %d windows",
				       LP_MAX_WINDOWS);
		if (lp_parse_duration_ns(arg, &cfg->windows_ns[ps->nwin]) ||
		    cfg->windows_ns[ps->nwin] < 1000000000ULL ||
		    cfg->windows_ns[ps->nwin] > 86400000000000ULL)
			return lp_errf(-EINVAL, err, errlen,
				       "--window: '%s' is not a duration from 1s to 24h", arg);
		ps->win_arg[ps->nwin++] = arg;
		return 0;
	case 'd':
		/* bounded: the deadline is now + duration, in 64-bit ns */
		if (lp_parse_duration_ns(arg, &cfg->duration_ns) || !cfg->duration_ns ||
		    cfg->duration_ns > LP_MAX_DURATION_NS)
			return lp_errf(-EINVAL, err, errlen,
				       "--duration: '%s' is not a duration from 1ns to 366 days",
				       arg);
		return 0;
	case OPT_TTFB:
		cfg->ttfb = true;
		return 0;
	case OPT_NO_TLS:
		cfg->tls = false;
		return 0;
	case OPT_TLS_SCAN:
		if (lp_parse_duration_ns(arg, &cfg->tls_scan_ns) ||
		    cfg->tls_scan_ns < 100000000ULL || cfg->tls_scan_ns > 3600000000000ULL)
			return lp_errf(-EINVAL, err, errlen,
				       "--tls-scan: '%s' is not a duration from 100ms to 1h", arg);
		return 0;
	case OPT_TLS_SESSIONS:
		if (lp_parse_u32(arg, 64, 1u << 22, &u))
			return lp_errf(-EINVAL, err, errlen,
				       "--tls-sessions: '%s' is not 64..4194304", arg);
		cfg->tls_sessions = u;
		return 0;
	case OPT_TLS_SHARE:
		if (lp_parse_u32(arg, 0, 1u << 22, &u))
			return lp_errf(-EINVAL, err, errlen,
				       "--tls-sessions-per-process: '%s' is not 0..4194304", arg);
		cfg->tls_sessions_per_process = u;
		cfg->tls_sessions_per_process_set = true;
		return 0;
	case OPT_WINDOW_METRICS:
		cfg->window_metrics = true;
		return 0;
	}
	return -ENOENT;
}

/* Where the results go: the table, JSON, the endpoint, the push sinks */
static int output_option(struct lp_config *cfg, struct parse_state *ps, int c, const char *arg,
			 char *err, size_t errlen)
{
	char host[256] = "";
	unsigned i;

	switch (c) {
	case 'j':
		cfg->json = true;
		return 0;
	case OPT_HIST:
		cfg->hist = true;
		return 0;
	case 'q':
		cfg->quiet = true;
		return 0;
	case 'v':
		cfg->verbose = true;
		return 0;
	case 'l':
		if (!strcmp(arg, "none")) {
			cfg->nlisten = 0;
			ps->listen_none = true;
			return 0;
		}
		if (cfg->nlisten >= LP_MAX_LISTEN)
			return lp_errf(-EINVAL, err, errlen, "--listen: at most %d addresses",
				       LP_MAX_LISTEN);
		if (lp_parse_listen(arg, &cfg->listen[cfg->nlisten],
				    &cfg->listen_len[cfg->nlisten]))
			return lp_errf(
				-EINVAL, err, errlen,
				"--listen: '%s' is not :PORT, IPv4:PORT, [IPv6]:PORT or none", arg);
		cfg->nlisten++;
		return 0;
	case OPT_WEB_CONFIG:
		if (!*arg)
			return lp_errf(-EINVAL, err, errlen, "--web-config: empty path");
		cfg->web_config = arg;
		return 0;
	case OPT_CONFIG:
		if (!*arg)
			return lp_errf(-EINVAL, err, errlen, "--config: empty path");
		cfg->config_file = arg;
		return 0;
	case OPT_WATCH_CONFIG:
		cfg->watch_config = true;
		return 0;
	case OPT_PUSH:
		if (cfg->npush == LP_MAX_PUSH)
			return lp_errf(-EINVAL, err, errlen, "--push: at most %d sinks",
				       LP_MAX_PUSH);
		for (i = 0; cfg->reuse && i < cfg->reuse->npush; i++)
			if (!strcmp(cfg->reuse->push[i], arg))
				break;
		if (cfg->reuse && i < cfg->reuse->npush) {
			cfg->push_cfg[cfg->npush] = cfg->reuse->push_cfg[i];
			cfg->push[cfg->npush++] = arg;
			return 0;
		}
		lp_hostname(host, sizeof(host));
		if (lp_push_parse(arg, host, &cfg->push_cfg[cfg->npush], err, errlen))
			return -EINVAL;
		cfg->push[cfg->npush++] = arg;
		return 0;
	}
	return -ENOENT;
}

/* the endpoint and windows, once every option is known */
static int finish_outputs(struct lp_config *cfg, const struct parse_state *ps, char *err,
			  size_t errlen)
{
	unsigned i;

	if (ps->nwin)
		cfg->nwindows = ps->nwin;
	if (ps->listen_none && cfg->nlisten)
		return lp_errf(-EINVAL, err, errlen, "--listen: 'none' and an address together");
	/* the endpoint listens by default, except for a one-off --duration run */
	if (!ps->listen_none && !cfg->nlisten && !cfg->duration_ns) {
		char dflt[16];

		snprintf(dflt, sizeof(dflt), ":%d", LP_DEFAULT_PORT);
		lp_parse_listen(dflt, &cfg->listen[0], &cfg->listen_len[0]);
		cfg->nlisten = 1;
	}
	if (cfg->web_config && !cfg->nlisten)
		return lp_errf(-EINVAL, err, errlen,
			       "--web-config: no endpoint to configure (give --listen)");
	for (i = 0; i < cfg->nwindows; i++) {
		if (cfg->interval_ns > cfg->windows_ns[i]) {
			char sec[32], w[40];

			lp_format_seconds(sec, sizeof(sec), cfg->windows_ns[i]);
			snprintf(w, sizeof(w), "%ss", sec);
			return lp_errf(-EINVAL, err, errlen,
				       "--window: '%s' is shorter than the interval (--interval)",
				       ps->win_arg[i] ? ps->win_arg[i] : w);
		}
	}
	return 0;
}

/* SLOs (the default question first, then the user's) and the classic boundaries they need */
static int finish_slos(struct lp_config *cfg, struct parse_state *ps, char *err, size_t errlen)
{
	unsigned i, j;

	cfg->nslos = 0;
	if (ps->default_slo) {
		struct lp_slo *d = &cfg->slos[cfg->nslos++];

		memset(d, 0, sizeof(*d));
		strcpy(d->name, "get_10ms");
		d->method = LP_METHOD_GET;
		/* the service's own view: a call made and served on one node counts once */
		d->side = LP_SIDE_SERVER;
		d->threshold_ns = 10000000ULL;
		d->objective = 0.99;
	}
	for (i = 0; i < ps->nuser_slos; i++) {
		for (j = 0; j < cfg->nslos; j++)
			if (!strcmp(cfg->slos[j].name, ps->user_slos[i].name))
				return lp_errf(-EINVAL, err, errlen, "--slo: name '%s' used twice",
					       ps->user_slos[i].name);
		cfg->slos[cfg->nslos++] = ps->user_slos[i];
	}
	for (i = 0; i < cfg->nslos; i++) {
		struct lp_slo *slo = &cfg->slos[i];

		if (!slo->route_label[0])
			continue;
		slo->route = lp_route_slo_id(&cfg->routes, slo->route_label, cfg->grpc_methods);
		if (!slo->route && !cfg->routes.nroutes)
			return lp_errf(-EINVAL, err, errlen,
				       "--slo %s: route= needs routes (--route, --routes-file) or a "
				       "gRPC method learned (/pkg.Service/Method)",
				       slo->name);
		if (!slo->route)
			return lp_errf(-EINVAL, err, errlen,
				       "--slo %s: route '%s' is not the label of a --route nor a "
				       "gRPC method (/pkg.Service/Method)",
				       slo->name, slo->route_label);
	}
	/* classic boundaries: the given or default list plus every SLO threshold */
	if (!ps->nbuckets) {
		memcpy(ps->buckets, lp_default_bounds_ns, sizeof(lp_default_bounds_ns));
		ps->nbuckets = LP_DEFAULT_BOUNDS;
	}
	for (i = 0; i < cfg->nslos; i++) {
		if (ps->nbuckets >= LP_CLASSIC_MAX - 1)
			return lp_errf(
				-EINVAL, err, errlen,
				"--slo: too many boundaries with the SLO thresholds (max %d)",
				LP_CLASSIC_MAX - 1);
		ps->buckets[ps->nbuckets++] = cfg->slos[i].threshold_ns;
	}
	cfg->nclassic = uniq_bounds(ps->buckets, ps->nbuckets);
	memcpy(cfg->classic_ns, ps->buckets, cfg->nclassic * sizeof(__u64));
	for (i = 0; i < cfg->nslos; i++)
		for (j = 0; j < cfg->nclassic; j++)
			if (cfg->classic_ns[j] == cfg->slos[i].threshold_ns)
				cfg->slos[i].classic_idx = j;
	return 0;
}

/* the options a file may give more than once */
static const char *const list_opts[] = {"port", "route",  "routes-file", "exclude-path",
					"slo",	"window", "listen",	 "push"};

int lp_cli_option_kind(const char *name)
{
	const struct option *o;
	unsigned i;

	for (o = long_opts; o->name; o++) {
		if (strcmp(o->name, name))
			continue;
		if (o->val == 'h' || o->val == 'V' || o->val == OPT_CONFIG)
			return LP_OPT_CMDLINE;
		if (o->has_arg == no_argument)
			return LP_OPT_FLAG;
		for (i = 0; i < sizeof(list_opts) / sizeof(list_opts[0]); i++)
			if (!strcmp(list_opts[i], name))
				return LP_OPT_LIST;
		return LP_OPT_VALUE;
	}
	return -1;
}

/* the long option of getopt's answer c (a short option's too), or NULL */
static const struct option *option_of(int c, int longindex)
{
	const struct option *o;

	if (longindex >= 0)
		return &long_opts[longindex];
	for (o = long_opts; o->name; o++)
		if (o->val == c)
			return o;
	return NULL;
}

/* the name of the long option an argument "--name=value" or "--name" sets */
static bool arg_is(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(arg, "--", 2) && !strncmp(arg + 2, name, n) &&
	       (arg[2 + n] == '=' || !arg[2 + n]);
}

int lp_cli_args(int argc, char **argv, struct lp_args *out, char *err, size_t errlen)
{
	struct lp_args file = {0}, copy = {0};
	const char *path = NULL;
	bool given[sizeof(long_opts) / sizeof(long_opts[0])] = {false};
	int c, i, li, e = 0;
	unsigned k;

	memset(out, 0, sizeof(*out));
	/* what the command line gives (on a copy: getopt permutes its argv) */
	for (i = 0; i < argc && !e; i++)
		e = lp_args_add(&copy, argv[i]);
	lp_getopt_reset();
	while (!e && (li = -1, c = getopt_long(copy.n, copy.v, ":c:p:m:i:w:d:l:jqvhV", long_opts,
					       &li)) != -1) {
		const struct option *o = option_of(c, li);

		if (!o)
			continue;
		given[o - long_opts] = true;
		if (o->val == OPT_CONFIG)
			path = optarg;
	}
	if (!e && path)
		e = lp_config_file_args(path, &file, err, errlen);
	for (i = 0; !e && i < argc; i++) {
		if (i == 1) {
			/* the file's settings first, but those the command line gives */
			for (c = 0; !e && c < file.n; c++) {
				for (k = 0; long_opts[k].name; k++)
					if (given[k] && arg_is(file.v[c], long_opts[k].name))
						break;
				if (!long_opts[k].name)
					e = lp_args_add(out, file.v[c]);
			}
		}
		if (!e)
			e = lp_args_add(out, argv[i]);
	}
	lp_args_free(&file);
	lp_args_free(&copy);
	if (e == -ENOMEM)
		lp_errf(e, err, errlen, "out of memory");
	if (e)
		lp_args_free(out);
	return e;
}

int lp_cli_parse(struct lp_config *cfg, int argc, char **argv, char *err, size_t errlen,
		 void (*out)(const char *text))
{
	struct parse_state ps = {.default_slo = true};
	int c, r;

	if (err && errlen)
		err[0] = '\0';
	lp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":c:p:m:i:w:d:l:jqvhV", long_opts, NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			if (out)
				out(c == 'h' ? lp_cli_usage()
					     : "latprobe " LATPROBE_VERSION " (" LATPROBE_REVISION
					       ")\n");
			return LP_CLI_EXIT_OK;
		}
		if (c == ':') {
			lp_errf(-EINVAL, err, errlen, "%s: missing value", argv[optind - 1]);
			return LP_CLI_EXIT_USAGE;
		}
		r = scope_option(cfg, c, optarg, err, errlen);
		if (r == -ENOENT)
			r = measure_option(cfg, &ps, c, optarg, err, errlen);
		if (r == -ENOENT)
			r = timing_option(cfg, &ps, c, optarg, err, errlen);
		if (r == -ENOENT)
			r = output_option(cfg, &ps, c, optarg, err, errlen);
		if (r == -ENOENT) {
			if (optopt)
				lp_errf(-EINVAL, err, errlen, "unknown option '-%c'", optopt);
			else
				lp_errf(-EINVAL, err, errlen, "unknown option '%s'",
					argv[optind - 1]);
		}
		if (r)
			return LP_CLI_EXIT_USAGE;
	}
	if (optind < argc) {
		lp_errf(-EINVAL, err, errlen, "unexpected argument '%s'", argv[optind]);
		return LP_CLI_EXIT_USAGE;
	}
	if (finish_outputs(cfg, &ps, err, errlen) || finish_slos(cfg, &ps, err, errlen))
		return LP_CLI_EXIT_USAGE;
	if (cfg->watch_config && !cfg->config_file) {
		lp_errf(-EINVAL, err, errlen, "--watch-config: no --config file to watch");
		return LP_CLI_EXIT_USAGE;
	}
	/* one noisy tenant takes at most a quarter of the map unless told otherwise */
	if (!cfg->max_series_per_cgroup_set)
		cfg->max_series_per_cgroup = cfg->max_series / 4;
	/* and one process a quarter of the TLS sessions */
	if (!cfg->tls_sessions_per_process_set)
		cfg->tls_sessions_per_process = cfg->tls_sessions / 4;
	return LP_CLI_RUN;
}
