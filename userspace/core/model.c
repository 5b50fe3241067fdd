// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Views and models: a series' view allocated in one block, the model's
 * references, and the selection rules (which series are exported, which an
 * SLO covers) that every output applies the same way.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/collector_int.h"
#include "core/k8s.h"

void lp_model_free(struct lp_model *m)
{
	size_t i;

	for (i = 0; i < m->nseries; i++)
		lp_view_put(m->series[i]);
	for (i = 0; i < m->ncgs; i++) {
		free(m->cgs[i].cgroup);
		free(m->cgs[i].service);
	}
	free(m->cgs);
	free(m->series);
	lp_cfg_ref_put(m->cfg_ref);
	free(m);
}

void lp_cfg_ref_put(struct lp_cfg_ref *r)
{
	if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0 && r->release)
		r->release(r->ctx);
}

struct lp_series_view *lp_view_new(const struct lp_config *cfg)
{
	size_t nw = cfg->nwindows, ns = cfg->nslos, w;
	/*
	 * after the view: windows, then u64s (cumulative good, and good + total
	 * per window), doubles (cumulative ratio, and ratio + burn per window), bools
	 */
	size_t vsz = (sizeof(struct lp_series_view) + 7) & ~(size_t)7;
	size_t wsz = nw * sizeof(struct lp_window_view), usz = ns * (1 + 2 * nw) * sizeof(__u64);
	size_t dsz = ns * (1 + 2 * nw) * sizeof(double);
	char *p = calloc(1, vsz + wsz + usz + dsz + ns * sizeof(bool));
	struct lp_series_view *v = (struct lp_series_view *)p;
	__u64 *u;
	double *d;

	if (!p)
		return NULL;
	p += vsz;
	u = (__u64 *)(p + wsz);
	d = (double *)(p + wsz + usz);
	v->refs = 1;
	v->win = (struct lp_window_view *)p;
	v->slo_good = u;
	v->slo_ratio = d;
	for (w = 0; w < nw; w++) {
		v->win[w].slo_good = u + ns * (1 + 2 * w);
		v->win[w].slo_total = u + ns * (2 + 2 * w);
		v->win[w].slo_ratio = d + ns * (1 + 2 * w);
		v->win[w].slo_burn = d + ns * (2 + 2 * w);
	}
	v->slo_applies = (bool *)(p + wsz + usz + dsz);
	return v;
}

void lp_view_put(struct lp_series_view *v)
{
	if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(v->cgroup);
	free(v->service);
	lp_k8s_put(v->k8s);
	lp_snap_put(v->total);
	free(v);
}

struct lp_series_view *lp_view_get(struct lp_series_view *v)
{
	__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

int lp_model_alloc_series(struct lp_model *m, size_t n)
{
	size_t i;

	m->series = calloc(n ? n : 1, sizeof(*m->series));
	if (!m->series)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		m->series[i] = lp_view_new(m->cfg);
		if (!m->series[i]) {
			while (i)
				lp_view_put(m->series[--i]);
			free(m->series);
			m->series = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

void lp_model_put(struct lp_model *m)
{
	if (m && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
		lp_model_free(m);
}

struct lp_model *lp_model_get(struct lp_model *m)
{
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

void lp_slo_figures(__u64 good, __u64 total, double objective, double *ratio, double *burn)
{
	*ratio = total ? (double)good / (double)total : NAN;
	*burn = total && objective < 1 ? (1.0 - *ratio) / (1.0 - objective) : NAN;
}

bool lp_series_selected(const struct lp_config *cfg, const struct lp_key *key)
{
	unsigned i;

	if (key->flags & LP_KEY_OVERFLOW)
		return true;
	if (cfg->method && key->method != cfg->method)
		return false;
	if (cfg->side && key->side != cfg->side)
		return false;
	if (!cfg->nports)
		return true;
	for (i = 0; i < cfg->nports; i++)
		if (cfg->ports[i] == key->port)
			return true;
	return false;
}

bool lp_slo_applies(const struct lp_slo *slo, const struct lp_key *key)
{
	/* SLOs count whole durations: not the overflow series, not time to first byte */
	if (key->flags & (LP_KEY_OVERFLOW | LP_KEY_TTFB))
		return false;
	if (slo->rpc && (slo->rpc == LP_SLO_RPC_GRPC) != (key->grpc != LP_GRPC_NONE))
		return false;
	if (slo->route == LP_ROUTE_BY_LABEL) {
		/* a learned gRPC method: its slot is the kernel's, known by its path */
		const char *l = lp_route_learned(key->route);

		if (!l || strcmp(l, slo->route_label))
			return false;
	} else if (slo->route && slo->route != key->route) {
		return false;
	}
	return (!slo->method || slo->method == key->method) &&
	       (!slo->side || slo->side == key->side) && (!slo->port || slo->port == key->port);
}

bool lp_grpc_failed(const struct lp_key *key)
{
	/* codes + 1 (lp_key.grpc): 2 UNKNOWN, 4 DEADLINE_EXCEEDED, 12 ... 15 */
	static const unsigned failed = 1u << (2 + 1) | 1u << (4 + 1) | 1u << (12 + 1) |
				       1u << (13 + 1) | 1u << (14 + 1) | 1u << (15 + 1);

	return key->grpc && key->grpc <= LP_GRPC_CODES && (failed >> key->grpc & 1);
}
