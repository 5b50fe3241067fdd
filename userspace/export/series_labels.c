// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The labels of a series, one row each (series_labels.h). */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "base/names.h"
#include "core/k8s.h"
#include "export/series_labels.h"
#include "base/peers.h"

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

/* the client side's server called (--client-address): the dependency, by host or address */
static const char *get_server_address(const struct lp_series_view *v, char *buf, size_t len)
{
	struct in_addr a = {.s_addr = v->key.peer};
	const char *t;

	if (!v->key.peer || v->key.side != LP_SIDE_CLIENT)
		return NULL;
	if (v->key.peer == LP_PEER_OTHER)
		return "other"; /* a cgroup's servers past its share of series */
	if (v->key.flags & LP_KEY_HOST) {
		/* the host its requests named, by the kernel's number (base/peers.h) */
		t = lp_host_text(v->key.peer);
		return t ? t : "unknown";
	}
	if (v->key.family == 6) {
		/* the kernel's number of the address (base/peers.h): never a made-up one */
		t = lp_peer6_text(v->key.peer);
		return t ? t : "unknown";
	}
	return inet_ntop(AF_INET, &a, buf, (socklen_t)len);
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

/* Kubernetes (core/k8s.h): only for a pod's series, each only where known */
static const char *k8s_str(const char *s)
{
	return s && *s ? s : NULL;
}

static const char *get_k8s_namespace(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->k8s ? k8s_str(v->k8s->ns) : NULL;
}

static const char *get_k8s_pod(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->k8s ? k8s_str(v->k8s->pod) : NULL;
}

static const char *get_k8s_container(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->k8s ? k8s_str(v->k8s->container) : NULL;
}

/* the workload as the pod's name shows it: one of the three, or none */
static const char *workload(const struct lp_series_view *v, enum lp_k8s_kind kind)
{
	return v->k8s && v->k8s->kind == kind ? k8s_str(v->k8s->workload) : NULL;
}

static const char *get_k8s_deployment(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return workload(v, LP_K8S_DEPLOYMENT);
}

static const char *get_k8s_statefulset(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return workload(v, LP_K8S_STATEFULSET);
}

static const char *get_k8s_daemonset(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return workload(v, LP_K8S_DAEMONSET);
}

/* gRPC (include/lp_h2.h): only for a call whose response carried grpc-status */
static const char *get_rpc_system(const struct lp_series_view *v, char *buf, size_t len)
{
	(void)buf, (void)len;
	return v->key.grpc ? "grpc" : NULL;
}

static const char *get_grpc_status(const struct lp_series_view *v, char *buf, size_t len)
{
	if (!v->key.grpc)
		return NULL;
	snprintf(buf, len, "%u", v->key.grpc - 1u);
	return buf;
}

/*
 * The service and method of a gRPC call, from its route when the route is
 * written as a gRPC path: "/pkg.Service/Method" gives both, "/pkg.Service/"
 * (or "/pkg.Service/" with a star) the service; *method NULL when there is none.
 */
static const char *grpc_service(const struct lp_series_view *v, char *buf, size_t len,
				const char **method)
{
	const char *r = v->route, *slash;
	size_t n;

	*method = NULL;
	if (!v->key.grpc || !r || r[0] != '/')
		return NULL;
	slash = strchr(r + 1, '/');
	if (!slash || slash == r + 1 || strchr(slash + 1, '/'))
		return NULL;
	n = (size_t)(slash - (r + 1));
	if (n >= len)
		return NULL;
	memcpy(buf, r + 1, n);
	buf[n] = '\0';
	if (slash[1] && strcmp(slash + 1, "*"))
		*method = slash + 1;
	return buf;
}

static const char *get_rpc_service(const struct lp_series_view *v, char *buf, size_t len)
{
	const char *method;

	return grpc_service(v, buf, len, &method);
}

static const char *get_rpc_method(const struct lp_series_view *v, char *buf, size_t len)
{
	const char *method;

	grpc_service(v, buf, len, &method);
	return method;
}

const struct lp_label_def lp_series_labels[LP_L_COUNT] = {
	{LP_L_SIDE, "side", "side", "side", LP_LBL_SIDE, get_side},
	{LP_L_METHOD, "http_request_method", "http.request.method", "method", 0, get_method},
	{LP_L_STATUS, "http_response_status_code", "http.response.status_code", "status",
	 LP_LBL_NUM, get_status},
	{LP_L_ROUTE, "http_route", "http.route", "route", 0, get_route},
	{LP_L_PORT, "server_port", "server.port", "port", LP_LBL_NUM, get_port},
	{LP_L_SERVER_ADDRESS, "server_address", "server.address", "server_address", 0,
	 get_server_address},
	{LP_L_FAMILY, "network_type", "network.type", "family", 0, get_family},
	{LP_L_SCHEME, "url_scheme", "url.scheme", "scheme", 0, get_scheme},
	{LP_L_VERSION, "network_protocol_version", "network.protocol.version", "protocol_version",
	 0, get_version},
	{LP_L_SERVICE, "service_name", "service.name", "service", LP_LBL_RESOURCE, get_service},
	{LP_L_CGROUP, "cgroup", "cgroup", "cgroup", 0, get_cgroup},
	{LP_L_K8S_NAMESPACE, "k8s_namespace_name", "k8s.namespace.name", "namespace",
	 LP_LBL_RESOURCE, get_k8s_namespace},
	{LP_L_K8S_POD, "k8s_pod_name", "k8s.pod.name", "pod", LP_LBL_RESOURCE, get_k8s_pod},
	{LP_L_K8S_CONTAINER, "k8s_container_name", "k8s.container.name", "container",
	 LP_LBL_RESOURCE, get_k8s_container},
	{LP_L_K8S_DEPLOYMENT, "k8s_deployment_name", "k8s.deployment.name", "deployment",
	 LP_LBL_RESOURCE, get_k8s_deployment},
	{LP_L_K8S_STATEFULSET, "k8s_statefulset_name", "k8s.statefulset.name", "statefulset",
	 LP_LBL_RESOURCE, get_k8s_statefulset},
	{LP_L_K8S_DAEMONSET, "k8s_daemonset_name", "k8s.daemonset.name", "daemonset",
	 LP_LBL_RESOURCE, get_k8s_daemonset},
	{LP_L_RPC_SYSTEM, "rpc_system", "rpc.system", "rpc_system", 0, get_rpc_system},
	{LP_L_RPC_SERVICE, "rpc_service", "rpc.service", "rpc_service", 0, get_rpc_service},
	{LP_L_RPC_METHOD, "rpc_method", "rpc.method", "rpc_method", 0, get_rpc_method},
	{LP_L_GRPC_STATUS, "rpc_grpc_status_code", "rpc.grpc.status_code", "grpc_status",
	 LP_LBL_NUM, get_grpc_status},
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
