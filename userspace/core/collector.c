// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/collector.h"
#include "core/labels.h"

struct coll_series {
	struct lp_key key;
	struct lp_snap *cur; /* latest read (with base added) */
	/*
	 * Retirement (--retire-after): a series unchanged that long is deleted
	 * from the kernel map; its totals stay here and keep being exported.
	 * If it comes back, the kernel counts from zero again and base (its
	 * totals when it left) is added to every read: totals never go down.
	 */
	struct lp_snap *base;
	__u64 changed_ns; /* tick at which cur last changed */
	/*
	 * Its snapshot from each tick at which it changed (references, oldest
	 * first), back to the one in force at the ring's oldest tick: a window
	 * starts at the newest one at or before the window's first tick. An
	 * idle series holds one.
	 */
	struct coll_hist {
		__u64 tick; /* the tick's number (c->nticks then) */
		struct lp_snap *snap;
	} * hist;
	unsigned nhist, caphist;
	bool retired;	/* not in the kernel map now */
	double created; /* unix time first seen */
	/* its labels, as resolved at the labels' generation lab_gen (0: not yet) */
	char *cgroup, *service;
	__u64 lab_gen;
	/*
	 * What its view was computed from (references, so an address is never
	 * reused while kept): while this stays the same, so does its view.
	 */
	struct lp_snap *vc_cur, *vc_base[LP_MAX_WINDOWS];
	double vc_rate;
	/*
	 * At that build every window already started after its last change
	 * (each base was cur) and its rate was 0: while cur stays, so does the
	 * view, without a look at its history.
	 */
	bool settled;
	struct lp_series_view *view; /* its view in the latest model (a reference); NULL: none */
};

struct lp_collector {
	const struct lp_config *cfg;
	const struct lp_fine_table *ft;
	struct lp_source src;
	struct lp_labels *labels;
	__u64 start_ns;

	struct coll_series *series;
	size_t nseries, cap;
	size_t *index; /* open addressing: series index + 1, 0 empty */
	size_t index_cap;

	unsigned ring_len;
	unsigned head;	 /* ring slot of the latest tick */
	__u64 *tick_seq; /* [ring_len]: the number of the tick in each slot */
	__u64 nticks;
	__u64 *tick_ns;

	struct lp_dist dist;
	/*
	 * Each SLO's totals over the series it covers, kept as their snapshots
	 * change (add the new, take away the old: exact in integers), a snapshot
	 * of them per tick in slo_ring: a window is the latest minus the one at
	 * its start, as for one series, without visiting every series.
	 */
	struct lp_dist slo_tot[LP_MAX_SLOS];
	bool slo_moved[LP_MAX_SLOS];
	struct lp_snap *slo_cur[LP_MAX_SLOS];
	struct lp_snap **slo_ring[LP_MAX_SLOS];
	__u64 read_errors;
	int read_error; /* of the current tick */
	__u64 now;	/* of the current tick */
	__u64 retirements, returns;

	pthread_mutex_t lock;
	struct lp_model *latest;
	size_t *order; /* series indices of the latest model's views, in their order */
	size_t norder; /* views in it */
};

static __u64 hash_key(const struct lp_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	__u64 h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int index_rebuild(struct lp_collector *c, size_t cap)
{
	size_t *idx = calloc(cap, sizeof(*idx)), i;

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < c->nseries; i++) {
		size_t h = hash_key(&c->series[i].key) & (cap - 1);

		while (idx[h])
			h = (h + 1) & (cap - 1);
		idx[h] = i + 1;
	}
	free(c->index);
	c->index = idx;
	c->index_cap = cap;
	return 0;
}

static struct coll_series *series_find(struct lp_collector *c, const struct lp_key *k, bool add)
{
	size_t h, i;
	struct coll_series *s;

	if (c->index_cap) {
		for (h = hash_key(k) & (c->index_cap - 1); c->index[h];
		     h = (h + 1) & (c->index_cap - 1)) {
			s = &c->series[c->index[h] - 1];
			if (!memcmp(&s->key, k, sizeof(*k)))
				return s;
		}
	}
	if (!add)
		return NULL;
	if (c->nseries == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct coll_series *n = realloc(c->series, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->series = n;
		c->cap = cap;
	}
	s = &c->series[c->nseries];
	memset(s, 0, sizeof(*s));
	s->key = *k;
	c->nseries++;
	if (2 * c->nseries > c->index_cap) {
		if (index_rebuild(c, c->index_cap ? 2 * c->index_cap : 256)) {
			c->nseries--;
			return NULL;
		}
	} else {
		for (h = hash_key(k) & (c->index_cap - 1); c->index[h];
		     h = (h + 1) & (c->index_cap - 1))
			;
		c->index[h] = c->nseries;
	}
	(void)i;
	return s;
}

struct lp_collector *lp_collector__new(const struct lp_config *cfg, const struct lp_fine_table *ft,
				       const struct lp_source *src, struct lp_labels *labels,
				       __u64 start_ns)
{
	struct lp_collector *c = calloc(1, sizeof(*c));
	__u64 maxw = 0;
	unsigned i;

	if (!c)
		return NULL;
	c->cfg = cfg;
	c->ft = ft;
	c->src = *src;
	c->labels = labels;
	c->start_ns = start_ns;
	for (i = 0; i < cfg->nwindows; i++)
		if (cfg->windows_ns[i] > maxw)
			maxw = cfg->windows_ns[i];
	/* enough ticks to reach back one whole window, with slack for late ticks */
	c->ring_len = (unsigned)((maxw + cfg->interval_ns - 1) / cfg->interval_ns) + 2;
	c->tick_ns = calloc(c->ring_len, sizeof(*c->tick_ns));
	c->tick_seq = calloc(c->ring_len, sizeof(*c->tick_seq));
	pthread_mutex_init(&c->lock, NULL);
	if (!c->tick_ns || !c->tick_seq || lp_dist_init(&c->dist, cfg->nclassic + 1, src->nfine))
		goto fail;
	for (i = 0; i < cfg->nslos; i++) {
		c->slo_ring[i] = calloc(c->ring_len, sizeof(*c->slo_ring[i]));
		if (!c->slo_ring[i] || lp_dist_init(&c->slo_tot[i], cfg->nclassic + 1, src->nfine))
			goto fail;
		c->slo_moved[i] = true;
	}
	return c;
fail:
	lp_collector__free(c);
	return NULL;
}

static void model_free(struct lp_model *m)
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
	free(m);
}

struct cg_read {
	struct lp_collector *c;
	struct lp_model *m;
	size_t cap;
	int err;
};

/* one cgroup's accounting: kept when it folded anything (that is what an SRE acts on) */
static void cg_cb(void *ctx, __u64 id, const struct lp_cg *g)
{
	struct cg_read *r = ctx;
	struct lp_cg_view *v;
	const char *path = NULL, *svc = NULL;
	char idbuf[40];

	if (!g->folded_class && !g->folded_over)
		return;
	if (r->m->ncgs == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct lp_cg_view *n = realloc(r->m->cgs, cap * sizeof(*n));

		if (!n) {
			r->err = -ENOMEM;
			return;
		}
		r->m->cgs = n;
		r->cap = cap;
	}
	v = &r->m->cgs[r->m->ncgs];
	memset(v, 0, sizeof(*v));
	v->cgroup_id = id;
	v->series = g->series;
	v->folded_class = g->folded_class;
	v->folded_over = g->folded_over;
	if (r->c->labels) {
		struct lp_key k = {.cgroup_id = id};

		path = lp_labels__cgroup(r->c->labels, id);
		svc = lp_labels__service(r->c->labels, &k);
	}
	snprintf(idbuf, sizeof(idbuf), "id:%llu", (unsigned long long)id);
	v->cgroup = strdup(path ? path : idbuf);
	v->service = strdup(svc ? svc : "unknown");
	if (!v->cgroup || !v->service) {
		free(v->cgroup);
		free(v->service);
		r->err = -ENOMEM;
		return;
	}
	r->m->ncgs++;
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
	lp_snap_put(v->total);
	free(v);
}

static struct lp_series_view *view_get(struct lp_series_view *v)
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
		model_free(m);
}

void lp_collector__free(struct lp_collector *c)
{
	size_t i;
	unsigned r;

	if (!c)
		return;
	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];

		lp_snap_put(s->cur);
		lp_snap_put(s->base);
		for (r = 0; r < s->nhist; r++)
			lp_snap_put(s->hist[r].snap);
		free(s->hist);
		free(s->cgroup);
		free(s->service);
		lp_snap_put(s->vc_cur);
		for (r = 0; r < LP_MAX_WINDOWS; r++)
			lp_snap_put(s->vc_base[r]);
		lp_view_put(s->view);
	}
	free(c->tick_seq);
	free(c->series);
	free(c->index);
	free(c->order);
	lp_dist_free(&c->dist);
	for (i = 0; i < LP_MAX_SLOS; i++) {
		lp_dist_free(&c->slo_tot[i]);
		lp_snap_put(c->slo_cur[i]);
		for (r = 0; c->slo_ring[i] && r < c->ring_len; r++)
			lp_snap_put(c->slo_ring[i][r]);
		free(c->slo_ring[i]);
	}
	free(c->tick_ns);
	lp_model_put(c->latest);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void take_value(struct lp_collector *c, struct coll_series *s, const struct lp_value *sum);

/* the series' totals go from s->cur to now: so do those of each SLO that covers it */
static void slo_totals(struct lp_collector *c, const struct coll_series *s,
		       const struct lp_snap *now)
{
	unsigned k;

	if (!lp_series_selected(c->cfg, &s->key))
		return;
	for (k = 0; k < c->cfg->nslos; k++) {
		if (!lp_slo_applies(&c->cfg->slos[k], &s->key))
			continue;
		lp_dist_add_snap(&c->slo_tot[k], now, false);
		if (s->cur)
			lp_dist_add_snap(&c->slo_tot[k], s->cur, true);
		c->slo_moved[k] = true;
	}
}

static void on_series(void *ctx, const struct lp_key *key, const struct lp_value *sum)
{
	struct lp_collector *c = ctx;
	struct coll_series *s = series_find(c, key, true);

	if (!s) {
		c->read_error = -ENOMEM;
		return;
	}
	if (s->retired && s->cur) {
		/* back after a retirement: it goes on from the totals it left with */
		lp_snap_put(s->base);
		s->base = lp_snap_get(s->cur);
		c->returns++;
	}
	s->retired = false;
	take_value(c, s, sum);
}

/* a read of the series' kernel value (plus its base): the new current totals */
static void take_value(struct lp_collector *c, struct coll_series *s, const struct lp_value *sum)
{
	struct lp_snap *snap = lp_snap_from_value(sum, c->cfg->nclassic + 1, c->src.nfine), *t;

	if (snap && s->base) {
		t = lp_snap_plus(s->base, snap);
		lp_snap_put(snap);
		snap = t;
	}
	if (!snap) {
		c->read_error = -ENOMEM;
		return;
	}
	/* unchanged: keep sharing the snapshot the ring already holds */
	if (lp_snap_same(snap, s->cur)) {
		lp_snap_put(snap);
		return;
	}
	slo_totals(c, s, snap);
	lp_snap_put(s->cur);
	s->cur = snap;
	s->changed_ns = c->now;
}

/* the value the kernel held when the series was deleted: samples since the read count */
static void on_retired(void *ctx, const struct lp_key *key, const struct lp_value *sum)
{
	struct coll_series **sp = ctx;
	struct lp_collector *c = (struct lp_collector *)sp[1];

	(void)key;
	take_value(c, sp[0], sum);
}

/* delete from the kernel the series unchanged for --retire-after (not the overflow series) */
static void retire_idle(struct lp_collector *c)
{
	size_t i;

	if (!c->cfg->retire_ns || !c->src.retire)
		return;
	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];
		void *ctx[2] = {s, c};

		if (s->retired || !s->cur || (s->key.flags & LP_KEY_OVERFLOW) ||
		    c->now - s->changed_ns < c->cfg->retire_ns)
			continue;
		if (c->src.retire(c->src.ctx, &s->key, on_retired, ctx) == 0) {
			s->retired = true;
			c->retirements++;
		}
	}
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
	return (!slo->method || slo->method == key->method) &&
	       (!slo->side || slo->side == key->side) && (!slo->port || slo->port == key->port) &&
	       (!slo->route || slo->route == key->route);
}

/* ring slot of the newest tick at or before t, or -1 */
static int tick_at_or_before(const struct lp_collector *c, __u64 t)
{
	unsigned k, n = c->nticks < c->ring_len ? (unsigned)c->nticks : c->ring_len;

	for (k = 0; k < n; k++) {
		unsigned slot = (c->head + c->ring_len - k) % c->ring_len;

		if (c->tick_ns[slot] <= t)
			return (int)slot;
	}
	return -1;
}

static void fill_quantiles(const struct lp_dist *d, const struct lp_fine_table *ft, double *q)
{
	unsigned i;

	for (i = 0; i < LP_NQUANTILES; i++)
		q[i] = lp_dist_quantile(d, ft, lp_quantiles[i].q);
}

/* the series' snapshot at the tick in ring slot (NULL: it did not exist yet) */
static struct lp_snap *snap_at(const struct lp_collector *c, const struct coll_series *s,
			       unsigned slot)
{
	__u64 t = c->tick_seq[slot];
	unsigned i;

	for (i = s->nhist; i > 0; i--)
		if (s->hist[i - 1].tick <= t)
			return s->hist[i - 1].snap;
	return NULL;
}

/* requests per second over the last interval (since attach before the second tick) */
static double series_rate(const struct lp_collector *c, const struct coll_series *s, __u64 now,
			  int prev_slot)
{
	if (prev_slot >= 0 && now > c->tick_ns[prev_slot]) {
		const struct lp_snap *p = snap_at(c, s, prev_slot);
		__u64 before = p ? p->count : 0;

		if (p == s->cur)
			return 0; /* unchanged: exactly 0, so that an idle view compares equal */
		return (double)(s->cur->count >= before ? s->cur->count - before : 0) /
		       ((double)(now - c->tick_ns[prev_slot]) / 1e9);
	}
	if (now > c->start_ns)
		return (double)s->cur->count / ((double)(now - c->start_ns) / 1e9);
	return 0;
}

/* the series' labels, resolved again when the names' generation moved; true if they changed */
static bool series_labels(struct lp_collector *c, struct coll_series *s, __u64 gen)
{
	char *cg, *svc = NULL;
	bool changed;

	if (s->cgroup && s->lab_gen == gen)
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
	changed = !s->cgroup || strcmp(s->cgroup, cg) || strcmp(s->service, svc);
	free(s->cgroup);
	free(s->service);
	s->cgroup = cg;
	s->service = svc;
	s->lab_gen = gen;
	return changed;
}

/* the ring slot each window starts at (-1: at attach): the same for every series */
static void window_starts(struct lp_collector *c, __u64 now, int *wslot, double *span_s)
{
	unsigned w;

	for (w = 0; w < c->cfg->nwindows; w++) {
		__u64 ws = c->cfg->windows_ns[w], from;
		/* a tick may run a little late: accept one up to half an interval short */
		__u64 slack = c->cfg->interval_ns / 2;

		wslot[w] = -1;
		if (now > ws - slack)
			wslot[w] = tick_at_or_before(c, now - ws + slack);
		/* no tick that old: the window starts at attach, when every count was 0 */
		from = wslot[w] >= 0 ? c->tick_ns[wslot[w]] : c->start_ns;
		span_s[w] = now > from ? (double)(now - from) / 1e9 : 0;
	}
}

static struct lp_snap *window_base(const struct lp_collector *c, const struct coll_series *s,
				   int slot)
{
	return slot >= 0 ? snap_at(c, s, slot) : NULL;
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
	s->settled = s->cur && rate == 0;
	for (w = 0; w < c->cfg->nwindows; w++) {
		struct lp_snap *b = window_base(c, s, wslot[w]);

		lp_snap_put(s->vc_base[w]);
		s->vc_base[w] = b ? lp_snap_get(b) : NULL;
		s->settled = s->settled && b == s->cur;
	}
}

/*
 * Settled and unchanged: its view stays. (Its cur has been the same
 * snapshot since every window's start: it is the newest in its history at
 * each tick since, so the rate is 0 and no window's start can move onto
 * another snapshot.)
 */
static bool view_settled(const struct coll_series *s)
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
	unsigned w, k;

	if (!v)
		return NULL;
	v->key = s->key;
	v->created = s->created;
	v->route = lp_route_label(&cfg->routes, s->key.route);
	v->cgroup = strdup(s->cgroup ? s->cgroup : "");
	v->service = strdup(s->service ? s->service : "unknown");
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

		v->slo_good[k] = lp_dist_le(d, cfg->slos[k].classic_idx);
		lp_slo_figures(v->slo_good[k], d->count, cfg->slos[k].objective, &v->slo_ratio[k],
			       &burn);
	}

	for (w = 0; w < cfg->nwindows; w++) {
		struct lp_window_view *wv = &v->win[w];

		wv->window_ns = cfg->windows_ns[w];
		lp_dist_diff(d, s->cur, window_base(c, s, wslot[w]));
		wv->count = d->count;
		wv->sum_ns = d->sum_ns;
		fill_quantiles(d, c->ft, wv->q);
		for (k = 0; k < cfg->nslos; k++) {
			wv->slo_good[k] = lp_dist_le(d, cfg->slos[k].classic_idx);
			wv->slo_total[k] = d->count;
			lp_slo_figures(wv->slo_good[k], wv->slo_total[k], cfg->slos[k].objective,
				       &wv->slo_ratio[k], &wv->slo_burn[k]);
		}
	}
	return v;
}

void lp_slo_figures(__u64 good, __u64 total, double objective, double *ratio, double *burn)
{
	*ratio = total ? (double)good / (double)total : NAN;
	*burn = total && objective < 1 ? (1.0 - *ratio) / (1.0 - objective) : NAN;
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
	if (x->key.family != y->key.family)
		return x->key.family - y->key.family;
	if (x->key.flags != y->key.flags)
		return x->key.flags - y->key.flags;
	return x->key.cgroup_id < y->key.cgroup_id ? -1 : x->key.cgroup_id > y->key.cgroup_id;
}

/* each SLO per window: its totals now minus those at the window's start */
static int slo_windows(struct lp_collector *c, struct lp_model *m, const int *wslot)
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

/* the tick enters the ring after the views used the previous ones */
static void advance_ring(struct lp_collector *c, unsigned slot, __u64 now)
{
	size_t i;
	__u64 seq = c->nticks, oldest = seq + 1 > c->ring_len ? seq + 1 - c->ring_len : 0;

	c->tick_ns[slot] = now;
	c->tick_seq[slot] = seq;
	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];
		unsigned drop = 0;

		/* a change enters the history; an idle series' stays as it is */
		if (s->cur && (!s->nhist || s->hist[s->nhist - 1].snap != s->cur)) {
			if (s->nhist == s->caphist) {
				unsigned cap = s->caphist ? 2 * s->caphist : 2;
				struct coll_hist *h = realloc(s->hist, cap * sizeof(*h));

				/* no room: the tick is missing from it, the one before stands in */
				if (!h)
					continue;
				s->hist = h;
				s->caphist = cap;
			}
			s->hist[s->nhist++] = (struct coll_hist){seq, lp_snap_get(s->cur)};
		}
		/* what the ring's oldest tick no longer needs: all before the one in force then */
		while (drop + 1 < s->nhist && s->hist[drop + 1].tick <= oldest)
			lp_snap_put(s->hist[drop++].snap);
		if (drop) {
			memmove(s->hist, s->hist + drop, (s->nhist - drop) * sizeof(*s->hist));
			s->nhist -= drop;
		}
	}
	for (i = 0; i < c->cfg->nslos; i++) {
		lp_snap_put(c->slo_ring[i][slot]);
		c->slo_ring[i][slot] = lp_snap_get(c->slo_cur[i]);
	}
	c->head = slot;
	c->nticks++;
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

	if (!relabeled && (view_settled(s) || (s->view && !view_changed(c, s, wslot, rate))))
		return view_get(s->view);
	/* only the rate moved (the tick after its traffic stopped): no quantile again */
	if (!relabeled && s->view && !figures_changed(c, s, wslot))
		v = view_rerated(c->cfg, s->view, rate);
	else
		v = build_view(c, s, rate, wslot);
	if (!v)
		return NULL;
	view_built(c, s, wslot, rate);
	lp_view_put(s->view);
	s->view = view_get(v);
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
static int build_views(struct lp_collector *c, struct lp_model *m, const double *rate,
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
			return -ENOMEM; /* model_free puts the ones before */
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

int lp_collector__tick(struct lp_collector *c, __u64 now)
{
	struct timespec t0, t1, wall;
	struct lp_model *m, *old;
	int prev_slot = -1, n, e = 0, wslot[LP_MAX_WINDOWS];
	__u64 gen = 0;
	double *rate;
	bool *relabeled;
	unsigned slot;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &wall);
	c->read_error = 0;
	c->now = now;
	n = c->src.read(c->src.ctx, on_series, c);
	if (n < 0 || c->read_error) {
		c->read_errors++;
		e = n < 0 ? n : c->read_error;
	}
	retire_idle(c);

	/* a series that appears was created since the previous tick (or attach) */
	for (i = 0; i < c->nseries; i++) {
		if (!c->series[i].created) {
			double w = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
			__u64 since = c->nticks ? now - c->tick_ns[c->head] : now - c->start_ns;

			c->series[i].created = w - (double)since / 1e9;
		}
	}
	if (c->nticks)
		prev_slot = (int)c->head;
	slot = c->nticks ? (c->head + 1) % c->ring_len : 0;

	m = calloc(1, sizeof(*m));
	rate = calloc(c->nseries ? c->nseries : 1, sizeof(*rate));
	relabeled = calloc(c->nseries ? c->nseries : 1, sizeof(*relabeled));
	if (!m || !rate || !relabeled) {
		free(m);
		free(rate);
		free(relabeled);
		return -ENOMEM;
	}
	m->refs = 1;
	m->cfg = c->cfg;
	m->ft = c->ft;
	m->retirements = c->retirements;
	m->returns = c->returns;
	m->series_read = n > 0 ? (__u64)n : 0;
	for (i = 0; i < c->nseries; i++)
		m->retired += c->series[i].retired;
	if (c->src.counters && c->src.counters(c->src.ctx, m->counters)) {
		c->read_errors++;
		e = e ? e : -EIO;
	}
	if (c->src.cgroups) {
		struct cg_read cr = {.c = c, .m = m};

		if (c->src.cgroups(c->src.ctx, cg_cb, &cr) < 0 || cr.err) {
			c->read_errors++;
			e = e ? e : -EIO;
		}
	}
	if (c->src.excluded && c->cfg->routes.nexcluded &&
	    c->src.excluded(c->src.ctx, m->excluded, 2 * c->cfg->routes.nexcluded)) {
		c->read_errors++;
		e = e ? e : -EIO;
	}

	window_starts(c, now, wslot, m->span_s);
	if (c->labels)
		gen = lp_labels__gen(c->labels);
	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];

		relabeled[i] = series_labels(c, s, gen);
		if (s->cur && !view_settled(s))
			rate[i] = series_rate(c, s, now, prev_slot);
	}
	if (build_views(c, m, rate, wslot, relabeled) || slo_windows(c, m, wslot)) {
		/* what was built stays the series' own: the next tick goes on from it */
		free(rate);
		free(relabeled);
		c->norder = 0;
		model_free(m);
		return -ENOMEM;
	}
	free(rate);
	free(relabeled);
	m->nseries_all = c->nseries - m->retired; /* in the kernel map */
	advance_ring(c, slot, now);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	m->seq = c->nticks;
	m->wall = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	m->uptime_s = now > c->start_ns ? (double)(now - c->start_ns) / 1e9 : 0;
	m->collect_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	m->read_errors = c->read_errors;

	pthread_mutex_lock(&c->lock);
	old = c->latest;
	c->latest = m;
	pthread_mutex_unlock(&c->lock);
	lp_model_put(old);
	return e;
}

struct lp_model *lp_model_get(struct lp_model *m)
{
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

struct lp_model *lp_collector__model(struct lp_collector *c)
{
	struct lp_model *m;

	pthread_mutex_lock(&c->lock);
	m = lp_model_get(c->latest);
	pthread_mutex_unlock(&c->lock);
	return m;
}
