// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The values of options: ports, listen addresses, SLO specifications (--slo). */
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

int lp_parse_port(const char *s, __u16 *port)
{
	__u32 v;

	if (lp_parse_u32(s, 1, 65535, &v))
		return -EINVAL;
	*port = (__u16)v;
	return 0;
}

/* "99", "99%", "99.9%" (percent) or "0.99" (fraction): strictly between 0 and 1 */
static int parse_objective(const char *s, double *obj)
{
	char *end;
	double v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (*end == '%') {
		end++;
		v /= 100.0;
	} else if (v >= 1.0) {
		v /= 100.0; /* "99" means 99 % */
	}
	if (*end || !(v > 0.0 && v < 1.0))
		return -EINVAL;
	/* "99.9%" is 0.999, not 99.9 / 100 = 0.9990000000000001 */
	*obj = round(v * 1e12) / 1e12;
	return 0;
}

/* an SLO's name: 1 to 63 letters, digits, _ - . */
static int slo_name(struct lp_slo *slo, const char *val, char *err, size_t errlen)
{
	size_t i, len = strlen(val);

	if (!len || len >= sizeof(slo->name))
		return lp_errf(-EINVAL, err, errlen, "name must have 1 to %zu characters",
			       sizeof(slo->name) - 1);
	for (i = 0; i < len; i++) {
		char c = val[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return lp_errf(-EINVAL, err, errlen,
				       "name '%s' may only hold letters, digits, _ - .", val);
	}
	strcpy(slo->name, val);
	return 0;
}

/* one key=value of an SLO specification; have: bit 0 threshold, bit 1 objective seen */
static int slo_key(struct lp_slo *slo, const char *key, const char *val, unsigned *have,
		   char *err, size_t errlen)
{
	if (!strcmp(key, "name"))
		return slo_name(slo, val, err, errlen);
	if (!strcmp(key, "method")) {
		if (strcmp(val, "any") && lp_parse_method(val, &slo->method))
			return lp_errf(-EINVAL, err, errlen, "unknown method '%s'", val);
	} else if (!strcmp(key, "side")) {
		if (strcmp(val, "any") && lp_parse_side(val, &slo->side))
			return lp_errf(-EINVAL, err, errlen, "side '%s' is not server, client or any",
				       val);
	} else if (!strcmp(key, "route")) {
		if (!*val || strlen(val) >= sizeof(slo->route_label))
			return lp_errf(-EINVAL, err, errlen, "route '%s' is not a route label", val);
		strcpy(slo->route_label, val);
	} else if (!strcmp(key, "rpc")) {
		if (!strcmp(val, "grpc"))
			slo->rpc = LP_SLO_RPC_GRPC;
		else if (!strcmp(val, "http"))
			slo->rpc = LP_SLO_RPC_HTTP;
		else if (strcmp(val, "any"))
			return lp_errf(-EINVAL, err, errlen, "rpc '%s' is not grpc, http or any",
				       val);
	} else if (!strcmp(key, "port")) {
		if (lp_parse_port(val, &slo->port))
			return lp_errf(-EINVAL, err, errlen, "port '%s' is not 1..65535", val);
	} else if (!strcmp(key, "threshold")) {
		if (lp_parse_duration_ns(val, &slo->threshold_ns) || !slo->threshold_ns ||
		    slo->threshold_ns > 3600000000000ULL)
			return lp_errf(-EINVAL, err, errlen,
				       "threshold '%s' is not a duration like 10ms, up to 1h", val);
		*have |= 1;
	} else if (!strcmp(key, "objective")) {
		if (parse_objective(val, &slo->objective))
			return lp_errf(-EINVAL, err, errlen,
				       "objective '%s' is not a ratio like 99%% or 0.99", val);
		*have |= 2;
	} else {
		return lp_errf(-EINVAL, err, errlen, "unknown key '%s'", key);
	}
	return 0;
}

/* "GET_api_users_0.01s": the method, the route's letters and digits ('_' between), the threshold */
static void slo_default_name(struct lp_slo *slo)
{
	char secs[32], route[40] = "";
	size_t i, k = 0;

	for (i = 0; slo->route_label[i] && k + 2 < sizeof(route); i++) {
		char c = slo->route_label[i];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.';

		if (keep)
			route[k++] = c;
		else if (k && route[k - 1] != '_')
			route[k++] = '_';
	}
	while (k && route[k - 1] == '_')
		k--;
	route[k] = '\0';
	lp_format_seconds(secs, sizeof(secs), slo->threshold_ns);
	snprintf(slo->name, sizeof(slo->name), "%s%s%s_%ss",
		 slo->method ? lp_method_name(slo->method) : "any", k ? "_" : "", route, secs);
}

/*
 * name=NAME,method=GET,side=server,port=8080,threshold=10ms,objective=99%
 * threshold and objective are required; name defaults to method_threshold.
 */
int lp_parse_slo(const char *spec, struct lp_slo *slo, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok;
	unsigned have = 0;

	memset(slo, 0, sizeof(*slo));
	if (strlen(spec) >= sizeof(buf))
		return lp_errf(-EINVAL, err, errlen, "too long");
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (!val)
			return lp_errf(-EINVAL, err, errlen, "'%s' is not key=value", tok);
		*val++ = '\0';
		if (slo_key(slo, tok, val, &have, err, errlen))
			return -EINVAL;
	}
	if (have != 3)
		return lp_errf(-EINVAL, err, errlen, "threshold= and objective= are required");
	if (!slo->name[0])
		slo_default_name(slo);
	return 0;
}

int lp_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon, *port_s;
	__u16 port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		port_s = end + 2;
		if (lp_parse_port(port_s, &port) || inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host) || strchr(s, ':') != colon)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (lp_parse_port(colon + 1, &port))
		return -EINVAL;
	if (!host[0]) {
		/* all addresses, IPv6 and IPv4 (dual stack) */
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_any;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return -EINVAL;
	in4->sin_family = AF_INET;
	in4->sin_port = htons(port);
	*len = sizeof(*in4);
	return 0;
}

/* --service-name-from container,workload,pod,unit,process: an order, each at most once */
int lp_parse_service_from(struct lp_config *cfg, const char *arg, char *err, size_t errlen)
{
	static const char *const names[LP_SVC_SOURCES] = {
		[LP_SVC_CONTAINER] = "container",
		[LP_SVC_WORKLOAD] = "workload",
		[LP_SVC_POD] = "pod",
		[LP_SVC_UNIT] = "unit",
		[LP_SVC_PROCESS] = "process",
	};
	const char *p = arg;
	unsigned n = 0, i;
	bool seen[LP_SVC_SOURCES] = {false};

	while (*p) {
		size_t len = strcspn(p, ",");

		for (i = 0; i < LP_SVC_SOURCES; i++)
			if (strlen(names[i]) == len && !strncmp(p, names[i], len))
				break;
		if (i == LP_SVC_SOURCES)
			return lp_errf(
				-EINVAL, err, errlen,
				"--service-name-from: '%.*s' is not container, workload, pod, "
				"unit or process",
				(int)len, p);
		if (seen[i])
			return lp_errf(-EINVAL, err, errlen,
				       "--service-name-from: '%s' names %s twice", arg, names[i]);
		seen[i] = true;
		cfg->service_from[n++] = (__u8)i;
		p += len;
		if (*p == ',' && !*++p)
			break;
	}
	if (!n || p[-1] == ',')
		return lp_errf(-EINVAL, err, errlen,
			       "--service-name-from: '%s' is not a list of sources", arg);
	cfg->nservice_from = n;
	return 0;
}
