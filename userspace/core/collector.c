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
	struct lp_snap *cur;   /* latest read (with base added) */
	/*
	 * Retirement (--retire-after): a series unchanged that long is deleted
	 * from the kernel map; its totals stay here and keep being exported.
	 * If it comes back, the kernel counts from zero again and base (its
	 * totals when it left) is added to every read: totals never go down.
	 */
	struct lp_snap *base;
	__u64 changed_ns; /* tick at which cur last changed */
	bool retired;	  /* not in the kernel map now */
	struct lp_snap **ring; /* cumulative snapshot at each tick of the ring (NULL: none yet) */
	double created;	       /* unix time first seen */
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
	unsigned head; /* ring slot of the latest tick */
	__u64 nticks;
	__u64 *tick_ns;

	struct lp_dist dist;
	struct lp_dist slo_acc[LP_MAX_SLOS][LP_MAX_WINDOWS]; /* merged per SLO and window */
	__u64 read_errors;
	int read_error; /* of the current tick */
	__u64 now;	/* of the current tick */
	__u64 retirements, returns;

	pthread_mutex_t lock;
	struct lp_model *latest;
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
	s->ring = calloc(c->ring_len, sizeof(*s->ring));
	if (!s->ring)
		return NULL;
	c->nseries++;
	if (2 * c->nseries > c->index_cap) {
		if (index_rebuild(c, c->index_cap ? 2 * c->index_cap : 256)) {
			c->nseries--;
			free(s->ring);
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
	unsigned i, w;

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
	pthread_mutex_init(&c->lock, NULL);
	if (!c->tick_ns || lp_dist_init(&c->dist, cfg->nclassic + 1, src->nfine))
		goto fail;
	for (i = 0; i < cfg->nslos; i++)
		for (w = 0; w < cfg->nwindows; w++)
			if (lp_dist_init(&c->slo_acc[i][w], cfg->nclassic + 1, src->nfine))
				goto fail;
	return c;
fail:
	lp_collector__free(c);
	return NULL;
}

static void model_free(struct lp_model *m)
{
	size_t i;

	for (i = 0; i < m->nseries; i++) {
		free(m->series[i].cgroup);
		free(m->series[i].service);
		lp_snap_put(m->series[i].total);
	}
	for (i = 0; i < m->ncgs; i++) {
		free(m->cgs[i].cgroup);
		free(m->cgs[i].service);
	}
	free(m->cgs);
	free(m->series);
	free(m->pool);
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

int lp_model_alloc_series(struct lp_model *m, size_t n)
{
	const struct lp_config *cfg = m->cfg;
	size_t nw = cfg->nwindows, ns = cfg->nslos, i, w;
	/*
	 * per view: windows, then u64s (cumulative good, and good + total per
	 * window), doubles (cumulative ratio, and ratio + burn per window), bools
	 */
	size_t wsz = nw * sizeof(struct lp_window_view), usz = ns * (1 + 2 * nw) * sizeof(__u64);
	size_t dsz = ns * (1 + 2 * nw) * sizeof(double);
	size_t per = wsz + usz + dsz + ns * sizeof(bool);
	char *p;

	per = (per + 7) & ~(size_t)7;
	m->series = calloc(n ? n : 1, sizeof(*m->series));
	m->pool = calloc(n ? n : 1, per);
	if (!m->series || !m->pool) {
		free(m->series);
		free(m->pool);
		m->series = m->pool = NULL;
		return -ENOMEM;
	}
	for (i = 0, p = m->pool; i < n; i++, p += per) {
		struct lp_series_view *v = &m->series[i];
		__u64 *u = (__u64 *)(p + wsz);
		double *d = (double *)(p + wsz + usz);

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
	}
	return 0;
}

void lp_view_clear(const struct lp_config *cfg, struct lp_series_view *v)
{
	struct lp_window_view *win = v->win;
	__u64 *good = v->slo_good;
	double *ratio = v->slo_ratio;
	bool *applies = v->slo_applies;
	unsigned w;

	memset(v, 0, sizeof(*v));
	v->win = win;
	v->slo_good = good;
	v->slo_ratio = ratio;
	v->slo_applies = applies;
	memset(applies, 0, cfg->nslos * sizeof(*applies));
	memset(good, 0, cfg->nslos * sizeof(*good));
	memset(ratio, 0, cfg->nslos * sizeof(*ratio));
	for (w = 0; w < cfg->nwindows; w++) {
		struct lp_window_view keep = win[w];

		memset(&win[w], 0, sizeof(win[w]));
		win[w].slo_good = keep.slo_good;
		win[w].slo_total = keep.slo_total;
		win[w].slo_ratio = keep.slo_ratio;
		win[w].slo_burn = keep.slo_burn;
		memset(keep.slo_good, 0, cfg->nslos * sizeof(*keep.slo_good));
		memset(keep.slo_total, 0, cfg->nslos * sizeof(*keep.slo_total));
		memset(keep.slo_ratio, 0, cfg->nslos * sizeof(*keep.slo_ratio));
		memset(keep.slo_burn, 0, cfg->nslos * sizeof(*keep.slo_burn));
	}
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
		lp_snap_put(c->series[i].cur);
		lp_snap_put(c->series[i].base);
		for (r = 0; r < c->ring_len; r++)
			lp_snap_put(c->series[i].ring[r]);
		free(c->series[i].ring);
	}
	free(c->series);
	free(c->index);
	free(c->tick_ns);
	lp_dist_free(&c->dist);
	for (i = 0; i < LP_MAX_SLOS; i++)
		for (r = 0; r < LP_MAX_WINDOWS; r++)
			lp_dist_free(&c->slo_acc[i][r]);
	lp_model_put(c->latest);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void take_value(struct lp_collector *c, struct coll_series *s, const struct lp_value *sum);

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

static int build_view(struct lp_collector *c, struct coll_series *s, struct lp_series_view *v,
		      __u64 now, int prev_slot)
{
	const struct lp_config *cfg = c->cfg;
	struct lp_dist *d = &c->dist;
	const char *cg = NULL, *svc = NULL;
	unsigned w, k;

	lp_view_clear(cfg, v);
	v->key = s->key;
	v->created = s->created;
	v->route = lp_route_label(&cfg->routes, s->key.route);
	if (c->labels && !(s->key.flags & LP_KEY_OVERFLOW)) {
		cg = lp_labels__cgroup(c->labels, s->key.cgroup_id);
		v->cgroup = strdup(cg ? cg : "");
		svc = lp_labels__service(c->labels, &s->key);
	} else {
		v->cgroup = strdup("");
	}
	v->service = strdup(svc ? svc : (s->key.flags & LP_KEY_OVERFLOW) ? "overflow" : "unknown");
	if (!v->cgroup || !v->service)
		return -ENOMEM;
	v->total = lp_snap_get(s->cur);

	if (prev_slot >= 0 && now > c->tick_ns[prev_slot]) {
		const struct lp_snap *p = s->ring[prev_slot];
		__u64 before = p ? p->count : 0;

		v->rate = (double)(s->cur->count >= before ? s->cur->count - before : 0) /
			  ((double)(now - c->tick_ns[prev_slot]) / 1e9);
	} else if (now > c->start_ns) {
		v->rate = (double)s->cur->count / ((double)(now - c->start_ns) / 1e9);
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
		__u64 ws = cfg->windows_ns[w], from;
		/* a tick may run a little late: accept one up to half an interval short */
		__u64 slack = cfg->interval_ns / 2;
		int slot = -1;

		wv->window_ns = ws;
		if (now > ws - slack)
			slot = tick_at_or_before(c, now - ws + slack);
		/* no tick that old: the window starts at attach, when every count was 0 */
		lp_dist_diff(d, s->cur, slot >= 0 ? s->ring[slot] : NULL);
		from = slot >= 0 ? c->tick_ns[slot] : c->start_ns;
		wv->span_s = now > from ? (double)(now - from) / 1e9 : 0;
		wv->count = d->count;
		wv->sum_ns = d->sum_ns;
		fill_quantiles(d, c->ft, wv->q);
		for (k = 0; k < cfg->nslos; k++) {
			wv->slo_good[k] = lp_dist_le(d, cfg->slos[k].classic_idx);
			wv->slo_total[k] = d->count;
			lp_slo_figures(wv->slo_good[k], wv->slo_total[k], cfg->slos[k].objective,
				       &wv->slo_ratio[k], &wv->slo_burn[k]);
			if (v->slo_applies[k])
				lp_dist_merge(&c->slo_acc[k][w], d);
		}
	}
	return 0;
}

void lp_slo_figures(__u64 good, __u64 total, double objective, double *ratio, double *burn)
{
	*ratio = total ? (double)good / (double)total : NAN;
	*burn = total && objective < 1 ? (1.0 - *ratio) / (1.0 - objective) : NAN;
}

static int cmp_view(const void *a, const void *b)
{
	const struct lp_series_view *x = a, *y = b;
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

/* each SLO per window, over the series it applies to (merged by build_view) */
static void slo_windows(struct lp_collector *c, struct lp_model *m)
{
	size_t i, k;

	for (i = 0; i < c->cfg->nslos; i++) {
		for (k = 0; k < c->cfg->nwindows; k++) {
			const struct lp_dist *d = &c->slo_acc[i][k];
			struct lp_slo_window *sw = &m->slo_win[i][k];

			sw->good = lp_dist_le(d, c->cfg->slos[i].classic_idx);
			sw->total = d->count;
			lp_slo_figures(sw->good, sw->total, c->cfg->slos[i].objective, &sw->ratio,
				       &sw->burn);
			sw->sum_ns = d->sum_ns;
			fill_quantiles(d, c->ft, sw->q);
		}
	}
}

/* the tick enters the ring after the views used the previous ones */
static void advance_ring(struct lp_collector *c, unsigned slot, __u64 now)
{
	size_t i;

	c->tick_ns[slot] = now;
	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];

		lp_snap_put(s->ring[slot]);
		s->ring[slot] = lp_snap_get(s->cur);
	}
	c->head = slot;
	c->nticks++;
}

int lp_collector__tick(struct lp_collector *c, __u64 now)
{
	struct timespec t0, t1, wall;
	struct lp_model *m, *old;
	unsigned slot;
	int prev_slot = -1, n, e = 0;
	size_t i, k;

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
	if (!m)
		return -ENOMEM;
	m->refs = 1;
	m->cfg = c->cfg;
	m->ft = c->ft;
	m->retirements = c->retirements;
	m->returns = c->returns;
	for (i = 0; i < c->nseries; i++)
		m->retired += c->series[i].retired;
	if (lp_model_alloc_series(m, c->nseries)) {
		free(m);
		return -ENOMEM;
	}
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
	for (i = 0; i < c->cfg->nslos; i++)
		for (k = 0; k < c->cfg->nwindows; k++)
			lp_dist_clear(&c->slo_acc[i][k]);
	for (i = 0, k = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];

		if (!s->cur)
			continue;
		if (!lp_series_selected(c->cfg, &s->key))
			continue;
		if ((s->key.flags & LP_KEY_OVERFLOW) && !s->cur->count)
			continue;
		if (build_view(c, s, &m->series[k], now, prev_slot)) {
			m->nseries = k + 1;
			model_free(m);
			return -ENOMEM;
		}
		k++;
	}
	m->nseries = k;
	m->nseries_all = c->nseries - m->retired; /* in the kernel map */
	slo_windows(c, m);
	qsort(m->series, m->nseries, sizeof(*m->series), cmp_view);
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

struct lp_model *lp_collector__model(struct lp_collector *c)
{
	struct lp_model *m;

	pthread_mutex_lock(&c->lock);
	m = c->latest;
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->lock);
	return m;
}
