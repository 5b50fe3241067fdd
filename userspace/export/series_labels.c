// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The labels of a series, one row each (series_labels.h). */
#include <stdio.h>
#include <string.h>

#include "base/names.h"
#include "export/series_labels.h"

static const char *get_side(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return lp_side_name(v->key.side);
}

static const char *get_method(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return lp_method_name(v->key.method);
}

/* "200"; "4xx" or "other" for a cgroup over its share of series */
static const char *get_status(const struct lp_series_view *v, char *buf, size_t len)
{
	return lp_status_label(&v->key, buf, len);
}

/* only with routes configured (--route): one value per route, never a raw path */
static const char *get_route(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->route;
}

static const char *get_port(const struct lp_series_view *v, char *buf, size_t len)
{
	snprintf(buf, len, "%u", v->key.port);
	return buf;
}

static const char *get_family(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->key.family == 6 ? "ipv6" : "ipv4";
}

/* HTTP inside TLS (the TLS library's uprobes), as OpenTelemetry's url.scheme */
static const char *get_scheme(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->key.flags & LP_KEY_TLS ? "https" : "http";
}

/* HTTP/1.x or HTTP/2, as OpenTelemetry's network.protocol.version */
static const char *get_version(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return lp_protocol_version(&v->key);
}

static const char *get_service(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->service;
}

/* an unresolvable (deleted) cgroup keeps its id, so series stay distinct */
static const char *get_cgroup(const struct lp_series_view *v, char *buf, size_t len)
{
	if (v->cgroup && v->cgroup[0])
		return v->cgroup;
	snprintf(buf, len, "id:%llu", (unsigned long long)v->key.cgroup_id);
	return buf;
}

const struct lp_label_def lp_series_labels[LP_L_COUNT] = {
	{LP_L_SIDE, "side", "side", "side", LP_LBL_SIDE, get_side},
	{LP_L_METHOD, "http_request_method", "http.request.method", "method", 0, get_method},
	{LP_L_STATUS, "http_response_status_code", "http.response.status_code", "status",
	 LP_LBL_NUM, get_status},
	{LP_L_ROUTE, "http_route", "http.route", "route", 0, get_route},
	{LP_L_PORT, "server_port", "server.port", "port", LP_LBL_NUM, get_port},
	{LP_L_FAMILY, "network_type", "network.type", "family", 0, get_family},
	{LP_L_SCHEME, "url_scheme", "url.scheme", "scheme", 0, get_scheme},
	{LP_L_VERSION, "network_protocol_version", "network.protocol.version", "protocol_version",
	 0, get_version},
	{LP_L_SERVICE, "service_name", "service.name", "service", LP_LBL_RESOURCE, get_service},
	{LP_L_CGROUP, "cgroup", "cgroup", "cgroup", 0, get_cgroup},
};

void lp_series_label_values(const struct lp_series_view *v, struct lp_label_vals *out)
{
	unsigned i;

	for (i = 0; i < LP_L_COUNT; i++)
		out->v[i] = lp_series_labels[i].get(v, out->buf[i], sizeof(out->buf[i]));
}

const struct lp_label_def *lp_series_label_by_prom(const char *prom)
{
	unsigned i;

	for (i = 0; i < LP_L_COUNT; i++)
		if (!strcmp(lp_series_labels[i].prom, prom))
			return &lp_series_labels[i];
	return NULL;
}
