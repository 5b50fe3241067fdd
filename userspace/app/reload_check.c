// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a reload may apply (app/reload_check.h): the checks of a new
 * configuration against the running one, pure, apart from main.c's
 * machinery that applies it.
 */
#include <errno.h>
#include <string.h>

#include "base/util.h"
#include "core/hist.h"
#include "app/reload_check.h"

static bool same_str(const char *x, const char *y)
{
	return x == y || (x && y && !strcmp(x, y));
}

/*
 * What a reload cannot change without loading the kernel side or the
 * endpoint again: the first such setting (its flag), or NULL.
 */
static const char *needs_restart(const struct lp_config *n, const struct lp_config *o)
{
	if (!same_str(n->cgroup, o->cgroup))
		return "--cgroup";
	if (n->side != o->side)
		return "--side (a filter of the kernel side)";
	if (n->schema != o->schema)
		return "--schema";
	if (n->nclassic != o->nclassic ||
	    memcmp(n->classic_ns, o->classic_ns, n->nclassic * sizeof(n->classic_ns[0])))
		return "the classic boundaries (--buckets, or an SLO threshold that is not one of "
		       "them)";
	if (n->max_series != o->max_series ||
	    n->max_series_per_cgroup != o->max_series_per_cgroup ||
	    n->cgroup_cap_level != o->cgroup_cap_level)
		return "--max-series, --max-series-per-cgroup or --cgroup-cap-level";
	if (n->retire_ns != o->retire_ns)
		return "--retire-after";
	if (n->interval_ns != o->interval_ns || n->nwindows != o->nwindows ||
	    memcmp(n->windows_ns, o->windows_ns, n->nwindows * sizeof(n->windows_ns[0])))
		return "--interval or --window";
	if (n->duration_ns != o->duration_ns)
		return "--duration";
	if (n->nlisten != o->nlisten || memcmp(n->listen, o->listen, sizeof(n->listen)) ||
	    !same_str(n->web_config, o->web_config) || n->window_metrics != o->window_metrics)
		return "--listen, --web-config or --window-metrics";
	if (!same_str(n->user, o->user))
		return "--user";
	if (!same_str(n->k8s_root, o->k8s_root))
		return "--k8s-root";
	if (n->nservice_from != o->nservice_from ||
	    memcmp(n->service_from, o->service_from, n->nservice_from))
		return "--service-name-from";
	if (n->tls != o->tls || n->tls_sessions != o->tls_sessions ||
	    n->tls_sessions_per_process != o->tls_sessions_per_process ||
	    n->tls_scan_ns != o->tls_scan_ns)
		return "--no-tls, --tls-sessions, --tls-sessions-per-process or --tls-scan";
	if (n->ttfb != o->ttfb)
		return "--ttfb";
	if (n->client_addr != o->client_addr)
		return "--client-address";
	if (n->grpc_methods != o->grpc_methods)
		return "--grpc-methods";
	return NULL;
}

/* an SLO of the running configuration whose name next uses for another definition */
static const char *slo_redefined(const struct lp_config *n, const struct lp_config *o)
{
	unsigned i, j;

	for (i = 0; i < n->nslos; i++)
		for (j = 0; j < o->nslos; j++) {
			const struct lp_slo *a = &n->slos[i], *b = &o->slos[j];

			if (strcmp(a->name, b->name))
				continue;
			if (a->method != b->method || a->side != b->side || a->port != b->port ||
			    strcmp(a->route_label, b->route_label) ||
			    a->threshold_ns != b->threshold_ns || a->objective != b->objective)
				return a->name;
		}
	return NULL;
}

int lp_reload_check(const struct lp_config *next, const struct lp_config *cur, char *err,
		    size_t errlen)
{
	const char *what;
	unsigned i, k;
	char t[32];

	/* an SLO is exact only at a classic boundary, and those were loaded at start */
	for (i = 0; i < next->nslos; i++) {
		for (k = 0; k < cur->nclassic; k++)
			if (cur->classic_ns[k] == next->slos[i].threshold_ns)
				break;
		if (k < cur->nclassic)
			continue;
		lp_format_seconds(t, sizeof(t), next->slos[i].threshold_ns);
		return lp_errf(
			-EINVAL, err, errlen,
			"SLO '%s': its threshold %ss is not a classic boundary of the running "
			"agent (an SLO is exact at a boundary): add it to --buckets and "
			"restart, or choose one of the boundaries",
			next->slos[i].name, t);
	}
	what = needs_restart(next, cur);
	if (what)
		return lp_errf(-EINVAL, err, errlen, "%s changed, which takes a restart", what);
	what = slo_redefined(next, cur);
	if (what)
		return lp_errf(-EINVAL, err, errlen,
			       "SLO '%s' changed its definition: its counters would change meaning "
			       "under the same name; give it a new name (or restart)",
			       what);
	return 0;
}
