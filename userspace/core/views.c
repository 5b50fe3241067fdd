// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A tick's model from the collector's series: each series' view (the
 * latest one again where nothing it shows changed), its rate and names,
 * the window starts shared by every series, and each SLO's windows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/collector_int.h"
#include "core/k8s.h"

static void fill_quantiles(const struct lp_dist *d, const struct lp_fine_table *ft, double *q)
{
	unsigned i;

	for (i = 0; i < LP_NQUANTILES; i++)
		q[i] = lp_dist_quantile(d, ft, lp_quantiles[i].q);
}

/* the series' snapshot at the tick in ring slot (NULL: it did not exist yet) */
/* requests per second over the last interval (since attach before the second tick) */
double lp_coll_series_rate(const struct lp_collector *c, const struct coll_series *s, __u64 now,
			   int prev_slot)
{
	if (prev_slot >= 0 && now > c->tick_ns[prev_slot]) {
		int e = lp_hist_at(c, s, (unsigned)prev_slot);
		__u64 before = e >= 0 ? s->hist[e].count : 0;

		if (e >= 0 && (unsigned)e + 1 == s->nhist && !s->pending)
			return 0; /* unchanged: exactly 0, so that an idle view compares equal */
		return (double)(s->cur->count >= before ? s->cur->count - before : 0) /
		       ((double)(now - c->tick_ns[prev_slot]) / 1e9);
	}
	if (now > c->start_ns)
		return (double)s->cur->count / ((double)(now - c->start_ns) / 1e9);
	return 0;
}

/* the series' names (cgroup, service), resolved again when their generation moved; true if they changed */
bool lp_coll_series_names(struct lp_collector *c, struct coll_series *s, __u64 gen)
{
	char *cg, *svc = NULL;
	struct lp_k8s *k8s;
	bool changed;

	/* the same names while their generation stays, unless a pod's files are awaited */
	if (s->cgroup && s->lab_gen == gen && !s->k8s_wait)
		return false;
	if (s->key.flags & LP_KEY_OVERFLOW) {
		cg = strdup("");
		svc = strdup("overflow");
	} else if (c->labels) {
		const char *p = lp_labels__cgroup(c->labels, s->key.cgroup_id);

		cg = strdup(p ? p : ""); /* before the next call, which may free p */
		if (cg)
			svc = strdup(lp_labels__service(c->labels, &s->key));
	} else {
		cg = strdup("");
		svc = strdup("unknown");
	}
	if (!cg || !svc) {
		free(cg);
		free(svc);
		return true; /* resolved again next time */
	}
	k8s = c->labels && !(s->key.flags & LP_KEY_OVERFLOW)
		      ? lp_labels__k8s(c->labels, s->key.cgroup_id)
		      : NULL;
	changed = !s->cgroup || strcmp(s->cgroup, cg) || strcmp(s->service, svc) ||
		  k8s != s->k8s;
	free(s->cgroup);
	free(s->service);
	s->cgroup = cg;
	s->service = svc;
	lp_k8s_put(s->k8s);
	s->k8s = lp_k8s_get(k8s);
	{
		char uid[LP_K8S_ID], cid[LP_K8S_ID];

		s->k8s_wait = !k8s && c->labels && lp_labels__k8s_on(c->labels) &&
			      !lp_k8s_ids(cg, uid, sizeof(uid), cid, sizeof(cid));
	}
	s->lab_gen = gen;
	return changed;
}

/*
 * Window w starts at a tick whose number is a multiple of its step: an
 * eighth of the window's ticks, rounded up (LP_WINDOW_STEPS). So a series
 * keeps the snapshots of about nine ticks per window, whatever the interval,
 * and a window covers its length plus less than one step (a 1m window at
 * -i 5s: 60 to 65 s; 5m at -i 1s: 300 to 337 s); its figures are over
 * exactly the span it covers (span_s).
 */
#define LP_WINDOW_STEPS 8

unsigned lp_coll_window_step(const struct lp_config *cfg, unsigned w)
{
	__u64 ticks = (cfg->windows_ns[w] + cfg->interval_ns - 1) / cfg->interval_ns;

	return ticks > LP_WINDOW_STEPS ? (unsigned)((ticks + LP_WINDOW_STEPS - 1) / LP_WINDOW_STEPS)
				       : 1;
}

/* the newest tick at or before t that window w may start at */
static int window_tick_at_or_before(const struct lp_collector *c, __u64 t, unsigned w)
{
	unsigned k, n = c->nticks < c->ring_len ? (unsigned)c->nticks : c->ring_len;

	for (k = 0; k < n; k++) {
		unsigned slot = (c->head + c->ring_len - k) % c->ring_len;

		if (c->tick_ns[slot] <= t && c->tick_seq[slot] % c->wstep[w] == 0)
			return (int)slot;
	}
	return -1;
}

/* the ring slot each window starts at (-1: at attach): the same for every series */
void lp_coll_window_starts(struct lp_collector *c, __u64 now, int *wslot, double *span_s)
{
	unsigned w;

	for (w = 0; w < c->cfg->nwindows; w++) {
		__u64 ws = c->cfg->windows_ns[w], from;
		/* a tick may run a little late: accept one up to half an interval short */
		__u64 slack = c->cfg->interval_ns / 2;

		wslot[w] = -1;
		if (now > ws - slack)
			wslot[w] = window_tick_at_or_before(c, now - ws + slack, w);
		/* no tick that old: the window starts at attach, when every count was 0 */
		from = wslot[w] >= 0 ? c->tick_ns[wslot[w]] : c->start_ns;
		span_s[w] = now > from ? (double)(now - from) / 1e9 : 0;
	}
}

/* the history entry window w starts from: its tick, or LP_NO_BASE (attach) */
static __u64 window_base(const struct lp_collector *c, const struct coll_series *s, int slot)
{
	int e = slot >= 0 ? lp_hist_at(c, s, (unsigned)slot) : -1;

	return e >= 0 ? s->hist[e].tick : LP_NO_BASE;
}

/* would its figures differ (its totals or a window's start moved)? */
static bool figures_changed(const struct lp_collector *c, const struct coll_series *s,
			    const int *wslot)
{
	unsigned w;

	if (s->cur != s->vc_cur)
		return true;
	for (w = 0; w < c->cfg->nwindows; w++)
		if (window_base(c, s, wslot[w]) != s->vc_base[w])
			return true;
	return false;
}

/* would this series' view differ from the one it has? */
static bool view_changed(const struct lp_collector *c, const struct coll_series *s,
			 const int *wslot, double rate)
{
	return rate != s->vc_rate || figures_changed(c, s, wslot);
}

/* a copy of view o with another rate (its figures are those of the same snapshots) */
static struct lp_series_view *view_rerated(const struct lp_config *cfg,
					   const struct lp_series_view *o, double rate)
{
	struct lp_series_view *v = lp_view_new(cfg);
	unsigned w, k;

	if (!v)
		return NULL;
	v->key = o->key;
	v->route = o->route;
	v->created = o->created;
	v->rate = rate;
	v->cgroup = strdup(o->cgroup);
	v->service = strdup(o->service);
	v->k8s = lp_k8s_get(o->k8s);
	v->total = lp_snap_get(o->total);
	if (!v->cgroup || !v->service) {
		lp_view_put(v);
		return NULL;
	}
	memcpy(v->total_q, o->total_q, sizeof(v->total_q));
	for (k = 0; k < cfg->nslos; k++) {
		v->slo_good[k] = o->slo_good[k];
		v->slo_ratio[k] = o->slo_ratio[k];
		v->slo_applies[k] = o->slo_applies[k];
	}
	for (w = 0; w < cfg->nwindows; w++) {
		struct lp_window_view *a = &v->win[w];
		const struct lp_window_view *b = &o->win[w];

		a->window_ns = b->window_ns;
		a->count = b->count;
		a->sum_ns = b->sum_ns;
		memcpy(a->q, b->q, sizeof(a->q));
		for (k = 0; k < cfg->nslos; k++) {
			a->slo_good[k] = b->slo_good[k];
			a->slo_total[k] = b->slo_total[k];
			a->slo_ratio[k] = b->slo_ratio[k];
			a->slo_burn[k] = b->slo_burn[k];
		}
	}
	return v;
}

/* remember what the series' view was built from */
static void view_built(const struct lp_collector *c, struct coll_series *s, const int *wslot,
		       double rate)
{
	unsigned w;

	lp_snap_put(s->vc_cur);
	s->vc_cur = s->cur ? lp_snap_get(s->cur) : NULL;
	s->vc_rate = rate;
	s->settled = s->cur && rate == 0 && !s->pending;
	for (w = 0; w < c->cfg->nwindows; w++) {
		__u64 b = window_base(c, s, wslot[w]);

		s->vc_base[w] = b;
		/* every window starts at its latest entry, which is cur: empty */
		s->settled = s->settled && s->nhist && b == s->hist[s->nhist - 1].tick;
	}
}

/*
 * Settled and unchanged: its view stays. (Its cur has been the same
 * snapshot since every window's start: it is the newest in its history at
 * each tick since, so the rate is 0 and no window's start can move onto
 * another snapshot.)
 */
bool lp_coll_view_settled(const struct coll_series *s)
{
	return s->view && s->settled && s->cur == s->vc_cur;
}

/* a new view of the series, its figures computed from its snapshots; NULL: out of memory */
static struct lp_series_view *build_view(struct lp_collector *c, struct coll_series *s, double rate,
					 const int *wslot)
{
	const struct lp_config *cfg = c->cfg;
	struct lp_series_view *v = lp_view_new(cfg);
	struct lp_dist *d = &c->dist;
	bool failed = lp_grpc_failed(&s->key); /* no call of it is good for an SLO */
	unsigned w, k;

	if (!v)
		return NULL;
	v->key = s->key;
	v->created = s->created;
	v->route = lp_route_label(&cfg->routes, s->key.route);
	v->cgroup = strdup(s->cgroup ? s->cgroup : "");
	v->service = strdup(s->service ? s->service : "unknown");
	v->k8s = lp_k8s_get(s->k8s);
	v->total = lp_snap_get(s->cur);
	v->rate = rate;
	if (!v->cgroup || !v->service) {
		lp_view_put(v);
		return NULL;
	}

	for (k = 0; k < cfg->nslos; k++)
		v->slo_applies[k] = lp_slo_applies(&cfg->slos[k], &s->key);

	lp_dist_diff(d, s->cur, NULL);
	fill_quantiles(d, c->ft, v->total_q);
	for (k = 0; k < cfg->nslos; k++) {
		double burn;

		v->slo_good[k] = failed ? 0 : lp_dist_le(d, cfg->slos[k].classic_idx);
		lp_slo_figures(v->slo_good[k], d->count, cfg->slos[k].objective, &v->slo_ratio[k],
			       &burn);
	}

	for (w = 0; w < cfg->nwindows; w++) {
		struct lp_window_view *wv = &v->win[w];

		wv->window_ns = cfg->windows_ns[w];
		lp_hist_window(c, s, wslot[w] >= 0 ? lp_hist_at(c, s, (unsigned)wslot[w]) : -1, d);
		wv->count = d->count;
		wv->sum_ns = d->sum_ns;
		fill_quantiles(d, c->ft, wv->q);
		for (k = 0; k < cfg->nslos; k++) {
			wv->slo_good[k] = failed ? 0 : lp_dist_le(d, cfg->slos[k].classic_idx);
			wv->slo_total[k] = d->count;
			lp_slo_figures(wv->slo_good[k], wv->slo_total[k], cfg->slos[k].objective,
				       &wv->slo_ratio[k], &wv->slo_burn[k]);
		}
	}
	return v;
}

static int cmp_view(const struct lp_series_view *x, const struct lp_series_view *y)
{
	int r = strcmp(x->service, y->service);

	if (r)
		return r;
	if (x->key.side != y->key.side)
		return x->key.side - y->key.side;
	if (x->key.port != y->key.port)
		return x->key.port - y->key.port;
	if (x->key.method != y->key.method)
		return x->key.method - y->key.method;
	if (x->key.route != y->key.route)
		return x->key.route - y->key.route;
	if (x->key.status != y->key.status)
		return x->key.status - y->key.status;
	if (x->key.grpc != y->key.grpc)
		return x->key.grpc - y->key.grpc;
	if (x->key.family != y->key.family)
		return x->key.family - y->key.family;
	if (x->key.flags != y->key.flags)
		return x->key.flags - y->key.flags;
	return x->key.cgroup_id < y->key.cgroup_id ? -1 : x->key.cgroup_id > y->key.cgroup_id;
}

/* each SLO per window: its totals now minus those at the window's start */
int lp_coll_slo_windows(struct lp_collector *c, struct lp_model *m, const int *wslot)
{
	struct lp_dist *d = &c->dist;
	size_t i, k;

	for (i = 0; i < c->cfg->nslos; i++) {
		if (c->slo_moved[i] || !c->slo_cur[i]) {
			struct lp_snap *t = lp_snap_from_dist(&c->slo_tot[i]);

			if (!t)
				return -ENOMEM;
			lp_snap_put(c->slo_cur[i]);
			c->slo_cur[i] = t;
			c->slo_moved[i] = false;
		}
		for (k = 0; k < c->cfg->nwindows; k++) {
			struct lp_slo_window *sw = &m->slo_win[i][k];
			const struct lp_snap *b = wslot[k] >= 0 ? c->slo_ring[i][wslot[k]] : NULL;

			lp_dist_diff(d, c->slo_cur[i], b);
			sw->good = lp_dist_le(d, c->cfg->slos[i].classic_idx);
			sw->total = d->count;
			lp_slo_figures(sw->good, sw->total, c->cfg->slos[i].objective, &sw->ratio,
				       &sw->burn);
			sw->sum_ns = d->sum_ns;
			fill_quantiles(d, c->ft, sw->q);
		}
	}
	return 0;
}

/* does a series have a view (is it exported)? */
static bool series_shown(const struct lp_collector *c, const struct coll_series *s)
{
	if (!s->cur || !lp_series_selected(c->cfg, &s->key))
		return false;
	return !(s->key.flags & LP_KEY_OVERFLOW) || s->cur->count;
}

/*
 * The series' view for this tick: the latest one again when nothing it
 * shows changed (a reference), else a new one. NULL: out of memory.
 */
static struct lp_series_view *series_view(struct lp_collector *c, struct coll_series *s,
					  double rate, const int *wslot, bool relabeled)
{
	struct lp_series_view *v;

	if (!relabeled && (lp_coll_view_settled(s) || (s->view && !view_changed(c, s, wslot, rate))))
		return lp_view_get(s->view);
	/* only the rate moved (the tick after its traffic stopped): no quantile again */
	if (!relabeled && s->view && !figures_changed(c, s, wslot))
		v = view_rerated(c->cfg, s->view, rate);
	else
		v = build_view(c, s, rate, wslot);
	if (!v)
		return NULL;
	view_built(c, s, wslot, rate);
	lp_view_put(s->view);
	s->view = lp_view_get(v);
	return v;
}

static int cmp_order(const void *a, const void *b, void *ctx)
{
	const struct lp_collector *c = ctx;

	return cmp_view(c->series[*(const size_t *)a].view, c->series[*(const size_t *)b].view);
}

/*
 * The model's views: each series' own (the latest again where nothing it
 * shows changed), in the latest order when the same series are shown under
 * the same names, else sorted anew.
 */
int lp_coll_build_views(struct lp_collector *c, struct lp_model *m, const double *rate,
		       const int *wslot, const bool *relabeled)
{
	size_t i, n = 0;
	bool same_set = true, resort;

	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];
		bool shown = series_shown(c, s);

		if (shown != (s->view != NULL) || relabeled[i])
			same_set = false;
		if (!shown) {
			lp_view_put(s->view);
			s->view = NULL;
			continue;
		}
		n++;
	}
	m->series = calloc(n ? n : 1, sizeof(*m->series));
	if (!m->series)
		return -ENOMEM;
	resort = !same_set || n != c->norder;
	if (resort) {
		size_t *o = realloc(c->order, (n ? n : 1) * sizeof(*o)), k = 0;

		if (!o)
			return -ENOMEM;
		c->order = o;
		c->norder = 0;
		for (i = 0; i < c->nseries; i++)
			if (series_shown(c, &c->series[i]))
				o[k++] = i;
	}
	for (i = 0; i < n; i++) {
		size_t j = c->order[i];

		m->series[i] = series_view(c, &c->series[j], rate[j], wslot, relabeled[j]);
		if (!m->series[i])
			return -ENOMEM; /* lp_model_free puts the ones before */
		m->nseries = i + 1;
	}
	if (resort) {
		/* new series or names: sort the order by the views (cmp_view) */
		qsort_r(c->order, n, sizeof(*c->order), cmp_order, c);
		for (i = 0; i < n; i++)
			m->series[i] = c->series[c->order[i]].view;
		c->norder = n;
	}
	return 0;
}
