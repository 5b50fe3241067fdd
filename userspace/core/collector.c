// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The collector: every tick it reads the kernel's series (only those that
 * changed, where the source can tell), keeps their cumulative totals and a
 * ring of snapshots for the windows, retires idle series, and publishes an
 * immutable, reference-counted model (views.c builds it) that scrapes and
 * pushes read without touching the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/collector_int.h"
#include "base/peers.h"
#include "core/k8s.h"

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
	unsigned maxstep = 1;
	unsigned i;

	if (!c)
		return NULL;
	c->cfg = cfg;
	c->reloads.last_ok = true;
	{
		struct timespec ts, mono;

		clock_gettime(CLOCK_REALTIME, &ts);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		c->reloads.last_ok_wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		/* once: a start time recomputed at every export would move (OTLP: a reset) */
		c->start_wall = c->reloads.last_ok_wall -
				(double)((__u64)mono.tv_sec * 1000000000ULL + (__u64)mono.tv_nsec -
					 start_ns) /
					1e9;
	}
	c->ft = ft;
	c->src = *src;
	c->labels = labels;
	c->start_ns = start_ns;
	for (i = 0; i < cfg->nwindows; i++)
		if (cfg->windows_ns[i] > maxw)
			maxw = cfg->windows_ns[i];
	/* enough ticks to reach back one whole window and one step, with slack for late ticks */
	for (i = 0; i < cfg->nwindows; i++) {
		c->wstep[i] = lp_coll_window_step(cfg, (unsigned)i);
		c->wreach[i] = (unsigned)((cfg->windows_ns[i] + cfg->interval_ns - 1) /
					  cfg->interval_ns) +
			       c->wstep[i] + 1;
		if (c->wstep[i] > maxstep)
			maxstep = c->wstep[i];
	}
	c->ring_len = (unsigned)((maxw + cfg->interval_ns - 1) / cfg->interval_ns) + maxstep + 2;
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

/* what a series holds, released (the series itself stays in the array) */
static void series_release(struct coll_series *s)
{
	lp_snap_put(s->cur);
	lp_snap_put(s->base);
	lp_hist_release(s);
	free(s->cgroup);
	free(s->service);
	lp_k8s_put(s->k8s);
	lp_snap_put(s->vc_cur);
	lp_view_put(s->view);
}

void lp_collector__free(struct lp_collector *c)
{
	size_t i;
	unsigned r;

	if (!c)
		return;
	for (i = 0; i < c->nseries; i++)
		series_release(&c->series[i]);
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
	lp_cfg_ref_put(c->cfg_ref);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* a new SLO's state: its totals over the series held now, every window starting here */
static int slo_fresh(struct lp_collector *c, const struct lp_config *cfg, unsigned k,
		     struct lp_dist *tot, struct lp_snap ***ring)
{
	struct lp_snap *now;
	size_t i;
	unsigned r;

	*ring = calloc(c->ring_len, sizeof(**ring));
	if (!*ring || lp_dist_init(tot, cfg->nclassic + 1, c->src.nfine))
		return -ENOMEM;
	for (i = 0; i < c->nseries; i++) {
		const struct coll_series *s = &c->series[i];

		if (s->cur && lp_series_selected(cfg, &s->key) &&
		    lp_slo_applies(&cfg->slos[k], &s->key))
			lp_dist_add_snap(tot, s->cur, false, lp_grpc_failed(&s->key));
	}
	now = lp_snap_from_dist(tot);
	if (!now)
		return -ENOMEM;
	for (r = 0; r < c->ring_len; r++)
		(*ring)[r] = lp_snap_get(now);
	lp_snap_put(now);
	return 0;
}

static bool same_slo(const struct lp_slo *a, const struct lp_slo *b)
{
	return a->method == b->method && a->side == b->side && a->port == b->port &&
	       a->route == b->route && a->rpc == b->rpc && a->threshold_ns == b->threshold_ns &&
	       a->objective == b->objective && a->classic_idx == b->classic_idx &&
	       !strcmp(a->name, b->name);
}

int lp_collector__reconfigure(struct lp_collector *c, struct lp_cfg_ref *ref)
{
	const struct lp_config *cfg = ref->cfg, *old = c->cfg;
	struct lp_dist tot[LP_MAX_SLOS] = {0};
	struct lp_snap **ring[LP_MAX_SLOS] = {0}, *cur[LP_MAX_SLOS] = {0};
	int from[LP_MAX_SLOS];
	unsigned k, j, r;
	size_t i;
	bool filters;

	/* the series' SLO totals hold only when the filters that select them stay */
	filters = cfg->method == old->method && cfg->side == old->side &&
		  cfg->nports == old->nports &&
		  !memcmp(cfg->ports, old->ports, cfg->nports * sizeof(cfg->ports[0]));
	for (k = 0; k < cfg->nslos; k++) {
		from[k] = -1;
		for (j = 0; filters && j < old->nslos; j++)
			if (same_slo(&cfg->slos[k], &old->slos[j]))
				from[k] = (int)j;
		if (from[k] < 0 && slo_fresh(c, cfg, k, &tot[k], &ring[k]))
			goto fail;
	}
	/* the kept SLOs move to their new places; the dropped ones go */
	for (k = 0; k < cfg->nslos; k++) {
		if (from[k] < 0)
			continue;
		j = (unsigned)from[k];
		tot[k] = c->slo_tot[j];
		ring[k] = c->slo_ring[j];
		cur[k] = c->slo_cur[j];
		c->slo_ring[j] = NULL;
		c->slo_cur[j] = NULL;
		memset(&c->slo_tot[j], 0, sizeof(c->slo_tot[j]));
	}
	for (j = 0; j < LP_MAX_SLOS; j++) {
		lp_dist_free(&c->slo_tot[j]);
		lp_snap_put(c->slo_cur[j]);
		for (r = 0; c->slo_ring[j] && r < c->ring_len; r++)
			lp_snap_put(c->slo_ring[j][r]);
		free(c->slo_ring[j]);
		c->slo_tot[j] = tot[j];
		c->slo_ring[j] = ring[j];
		c->slo_cur[j] = cur[j];
		c->slo_moved[j] = true;
	}
	/* views point into their configuration (route labels): every one anew */
	for (i = 0; i < c->nseries; i++) {
		lp_view_put(c->series[i].view);
		c->series[i].view = NULL;
		c->series[i].settled = false;
	}
	c->norder = 0;
	lp_cfg_ref_put(c->cfg_ref);
	ref->refs = 1;
	c->cfg_ref = ref;
	c->cfg = cfg;
	return 0;
fail:
	for (k = 0; k < cfg->nslos; k++) {
		if (from[k] >= 0)
			continue;
		lp_dist_free(&tot[k]);
		for (r = 0; ring[k] && r < c->ring_len; r++)
			lp_snap_put(ring[k][r]);
		free(ring[k]);
	}
	return -ENOMEM;
}

void lp_collector__note_reload(struct lp_collector *c, bool ok, double wall)
{
	if (ok) {
		c->reloads.ok++;
		c->reloads.last_ok_wall = wall;
	} else {
		c->reloads.failed++;
	}
	c->reloads.last_ok = ok;
}

static void take_value(struct lp_collector *c, struct coll_series *s, const struct lp_value *sum);

/* the series' totals go from s->cur to now: so do those of each SLO that covers it */
static void slo_totals(struct lp_collector *c, const struct coll_series *s,
		       const struct lp_snap *now)
{
	bool failed = lp_grpc_failed(&s->key);
	unsigned k;

	if (!lp_series_selected(c->cfg, &s->key))
		return;
	for (k = 0; k < c->cfg->nslos; k++) {
		if (!lp_slo_applies(&c->cfg->slos[k], &s->key))
			continue;
		lp_dist_add_snap(&c->slo_tot[k], now, false, failed);
		if (s->cur)
			lp_dist_add_snap(&c->slo_tot[k], s->cur, true, failed);
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
	/* a gRPC method the kernel learned since the last read: its path, before SLOs judge it */
	if ((key->route & (LP_ROUTE_LEARNED | LP_ROUTE_EXCLUDED)) == LP_ROUTE_LEARNED &&
	    !lp_route_learned(key->route) && c->src.grpc_methods && !c->methods_read) {
		c->methods_read = true;
		c->src.grpc_methods(c->src.ctx);
	}
	/* a host or IPv6 address a client called that the kernel numbered since: its text */
	if (key->peer && key->peer != LP_PEER_OTHER) {
		if (key->flags & LP_KEY_HOST) {
			if (!lp_host_text(key->peer) && c->src.hosts && !c->hosts_read) {
				c->hosts_read = true;
				c->src.hosts(c->src.ctx);
			}
		} else if (key->family == 6 && !lp_peer6_text(key->peer) && c->src.peers6 &&
			   !c->peers6_read) {
			c->peers6_read = true;
			c->src.peers6(c->src.ctx);
		}
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
	if (s->cur)
		lp_hist_note_change(c, s, snap);
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

/*
 * A series retired for another --retire-after leaves user space too: the
 * exposition stops showing it (Prometheus marks it stale), its memory goes.
 * Without this, series that come and go (a port per test run, a pod per
 * deploy) would be kept and exported for ever. The SLO totals keep what it
 * added (they are running sums). Should it come back, it starts from zero:
 * a new series, or a counter reset, to Prometheus.
 */
static void forget_retired(struct lp_collector *c)
{
	size_t i, k = 0, gone = 0;

	if (!c->cfg->retire_ns)
		return;
	for (i = 0; i < c->nseries; i++)
		gone += c->series[i].retired &&
			c->now - c->series[i].changed_ns >= 2 * c->cfg->retire_ns;
	if (!gone)
		return;
	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];

		if (s->retired && c->now - s->changed_ns >= 2 * c->cfg->retire_ns) {
			series_release(s);
			c->forgotten++;
			continue;
		}
		if (k != i)
			c->series[k] = *s;
		k++;
	}
	c->nseries = k;
	c->norder = 0; /* the order holds indices: sorted anew */
	/* the index anew, over a table that only shrank: the same room, no failure */
	memset(c->index, 0, c->index_cap * sizeof(*c->index));
	for (i = 0; i < c->nseries; i++) {
		size_t h = hash_key(&c->series[i].key) & (c->index_cap - 1);

		while (c->index[h])
			h = (h + 1) & (c->index_cap - 1);
		c->index[h] = i + 1;
	}
}

/* the tick enters the ring after the views used the previous ones */
static void advance_ring(struct lp_collector *c, unsigned slot, __u64 now)
{
	size_t i;
	__u64 seq = c->nticks, oldest = seq + 1 > c->ring_len ? seq + 1 - c->ring_len : 0;

	c->tick_ns[slot] = now;
	c->tick_seq[slot] = seq;
	for (i = 0; i < c->nseries; i++)
		lp_hist_advance(c, &c->series[i], seq, oldest);
	for (i = 0; i < c->cfg->nslos; i++) {
		lp_snap_put(c->slo_ring[i][slot]);
		c->slo_ring[i][slot] = lp_snap_get(c->slo_cur[i]);
	}
	c->head = slot;
	c->nticks++;
}

/* the series that appeared since the previous tick (or attach): when they were created */
static void stamp_created(struct lp_collector *c, __u64 now, const struct timespec *wall)
{
	double w = (double)wall->tv_sec + (double)wall->tv_nsec / 1e9;
	size_t i;

	for (i = 0; i < c->nseries; i++) {
		if (!c->series[i].created) {
			__u64 since = c->nticks ? now - c->tick_ns[c->head] : now - c->start_ns;

			c->series[i].created = w - (double)since / 1e9;
		}
	}
}

/* the kernel's counters, cgroup accounting and exclusions into m; an error: the first one */
static int read_counters(struct lp_collector *c, struct lp_model *m)
{
	int e = 0;

	if (c->src.counters && c->src.counters(c->src.ctx, m->counters)) {
		c->read_errors++;
		e = -EIO;
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
	return e;
}

/* a new model, its collector-wide figures filled in; NULL: out of memory */
static struct lp_model *model_begin(struct lp_collector *c, int nread)
{
	struct lp_model *m = calloc(1, sizeof(*m));
	size_t i;

	if (!m)
		return NULL;
	m->refs = 1;
	m->cfg = c->cfg;
	m->cfg_ref = c->cfg_ref;
	m->start_wall = c->start_wall;
	if (m->cfg_ref)
		__atomic_add_fetch(&m->cfg_ref->refs, 1, __ATOMIC_RELAXED);
	m->reloads = c->reloads;
	m->ft = c->ft;
	m->retirements = c->retirements;
	m->forgotten = c->forgotten;
	m->returns = c->returns;
	m->series_read = nread > 0 ? (__u64)nread : 0;
	for (i = 0; i < c->nseries; i++)
		m->retired += c->series[i].retired;
	return m;
}

/* each series' names and rate for this tick, then the model's views and SLO windows */
static int model_views(struct lp_collector *c, struct lp_model *m, __u64 now, int prev_slot)
{
	double *rate = calloc(c->nseries ? c->nseries : 1, sizeof(*rate));
	bool *relabeled = calloc(c->nseries ? c->nseries : 1, sizeof(*relabeled));
	int wslot[LP_MAX_WINDOWS], e = -ENOMEM;
	__u64 gen = c->labels ? lp_labels__gen(c->labels) : 0;
	size_t i;

	if (!rate || !relabeled)
		goto out;
	lp_coll_window_starts(c, now, wslot, m->span_s);
	for (i = 0; i < c->nseries; i++) {
		struct coll_series *s = &c->series[i];

		relabeled[i] = lp_coll_series_names(c, s, gen);
		if (s->cur && !lp_coll_view_settled(s))
			rate[i] = lp_coll_series_rate(c, s, now, prev_slot);
	}
	e = lp_coll_build_views(c, m, rate, wslot, relabeled);
	if (!e)
		e = lp_coll_slo_windows(c, m, wslot);
out:
	free(rate);
	free(relabeled);
	return e;
}

int lp_collector__tick(struct lp_collector *c, __u64 now)
{
	struct timespec t0, t1, wall;
	struct lp_model *m, *old;
	int prev_slot = c->nticks ? (int)c->head : -1, n, e = 0, ec;
	unsigned slot = c->nticks ? (c->head + 1) % c->ring_len : 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &wall);
	c->read_error = 0;
	c->methods_read = false;
	c->peers6_read = false;
	c->hosts_read = false;
	c->now = now;
	n = c->src.read(c->src.ctx, on_series, c);
	if (n < 0 || c->read_error) {
		c->read_errors++;
		e = n < 0 ? n : c->read_error;
	}
	retire_idle(c);
	forget_retired(c);
	stamp_created(c, now, &wall);
	m = model_begin(c, n);
	if (!m)
		return -ENOMEM;
	ec = read_counters(c, m);
	e = e ? e : ec;
	if (model_views(c, m, now, prev_slot)) {
		/* what was built stays the series' own: the next tick goes on from it */
		c->norder = 0;
		lp_model_free(m);
		return -ENOMEM;
	}
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

struct lp_model *lp_collector__model(struct lp_collector *c)
{
	struct lp_model *m;

	pthread_mutex_lock(&c->lock);
	m = lp_model_get(c->latest);
	pthread_mutex_unlock(&c->lock);
	return m;
}
