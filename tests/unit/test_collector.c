// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The collector over a fake source: cumulative totals, rates, windows made
 * of two snapshots, SLO good/total from the exact classic counters, filters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/cli.h"
#include "core/collector.h"
#include "lp_bucket.h"
#include "lp_test.h"

#include "fake_source.h"

static void test_window_rate_and_slo_follow_the_traffic(void **state)
{
	const char *argv[] = { "latprobe", "-i", "5s", "-w", "20s" };
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = { 0 };
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m;
	int get, t;

	(void)state;
	fake_init(&f, &cfg, &ft, argv, 5);
	get = add_series(&f, 8080, LP_METHOD_GET, 200);
	c = fake_collector(&f, &src);
	assert_null(lp_collector__model(c));

	/* 0..20 s: 100 fast requests (2 ms) per 5 s tick */
	for (t = 1; t <= 4; t++) {
		observe(&f, get, 2000000, 100);
		assert_int_equal(lp_collector__tick(c, (__u64)t * 5 * S), 0);
	}
	m = lp_collector__model(c);
	assert_int_equal(m->nseries, 1);
	assert_int_equal(m->series[0]->total->count, 400);
	assert_close(m->series[0]->rate, 20.0, 1e-9);
	assert_int_equal(m->series[0]->win[0].count, 400); /* younger than the window: since start */
	assert_int_equal(m->series[0]->win[0].slo_good[0], 400);
	assert_rel(m->series[0]->win[0].q[0], 0.002, 0.044);
	lp_model_put(m);

	/* 20..40 s: every request takes 30 ms: the SLO window fills with misses */
	for (t = 5; t <= 8; t++) {
		observe(&f, get, 30000000, 50);
		assert_int_equal(lp_collector__tick(c, (__u64)t * 5 * S), 0);
	}
	m = lp_collector__model(c);
	assert_int_equal(m->series[0]->total->count, 600);
	assert_close(m->series[0]->rate, 10.0, 1e-9);
	/* the 20 s window holds only the slow requests */
	assert_int_equal(m->series[0]->win[0].count, 200);
	assert_close(m->span_s[0], 20.0, 1e-9);
	assert_int_equal(m->series[0]->win[0].slo_good[0], 0);
	assert_int_equal(m->series[0]->win[0].slo_total[0], 200);
	assert_rel(m->series[0]->win[0].q[2], 0.030, 0.044);
	/* cumulative: 400 good of 600 */
	assert_int_equal(m->series[0]->slo_good[0], 400);
	assert_true(m->series[0]->slo_applies[0]);
	lp_model_put(m);

	fake_free(&f, c);
}

static void test_filters_and_slo_scope(void **state)
{
	const char *argv[] = { "latprobe", "-p", "8080", "--slo",
			       "method=POST,threshold=100ms,objective=90%" };
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = { 0 };
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m;
	int a, b, p;

	(void)state;
	fake_init(&f, &cfg, &ft, argv, 5);
	a = add_series(&f, 8080, LP_METHOD_GET, 200);
	b = add_series(&f, 9090, LP_METHOD_GET, 200);
	p = add_series(&f, 8080, LP_METHOD_POST, 500);
	observe(&f, a, 1000000, 3);
	observe(&f, b, 1000000, 5);
	observe(&f, p, 100000000, 2); /* exactly 100 ms: good (le is inclusive) */
	observe(&f, p, 100000001, 1);
	f.counters[LP_CNT_UNTIMED] = 7;
	c = fake_collector(&f, &src);
	assert_int_equal(lp_collector__tick(c, 5 * S), 0);
	m = lp_collector__model(c);
	assert_int_equal(m->nseries, 2); /* port 9090 filtered out */
	assert_int_equal(m->nseries_all, 3);
	assert_int_equal(m->counters[LP_CNT_UNTIMED], 7);
	for (a = 0; a < 2; a++) {
		const struct lp_series_view *v = m->series[a];

		if (v->key.method == LP_METHOD_GET) {
			assert_true(v->slo_applies[0]);
			assert_false(v->slo_applies[1]);
		} else {
			assert_false(v->slo_applies[0]);
			assert_true(v->slo_applies[1]);
			assert_int_equal(v->win[0].slo_good[1], 2);
			assert_int_equal(v->win[0].slo_total[1], 3);
		}
	}
	lp_model_put(m);
	fake_free(&f, c);
}

/* Routes: each series names its route; an SLO with route= covers that route's series only. */
static void test_routes_label_series_and_scope_slos(void **state)
{
	const char *argv[] = { "latprobe", "--route", "checkout=/api/cart/checkout", "--route",
			       "/api/users", "--exclude-path", "/healthz", "--slo",
			       "route=checkout,threshold=100ms,objective=90%" };
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = { 0 };
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m;
	int a, b, u;
	size_t i;

	(void)state;
	fake_init(&f, &cfg, &ft, argv, 9);
	assert_string_equal(cfg.slos[1].name, "any_checkout_0.1s");
	a = add_series(&f, 8080, LP_METHOD_GET, 200);
	f.keys[a].route = LP_ROUTE_FIRST; /* checkout */
	b = add_series(&f, 8080, LP_METHOD_GET, 200);
	f.keys[b].route = LP_ROUTE_FIRST + 1; /* /api/users */
	u = add_series(&f, 8080, LP_METHOD_GET, 200);
	f.keys[u].route = LP_ROUTE_UNROUTED;
	observe(&f, a, 1000000, 3);
	observe(&f, a, 200000000, 1);
	observe(&f, b, 1000000, 5);
	observe(&f, u, 1000000, 7);
	f.excluded[0] = 11;
	f.excluded[1] = 4;
	c = fake_collector(&f, &src);
	assert_int_equal(lp_collector__tick(c, 5 * S), 0);
	m = lp_collector__model(c);
	assert_int_equal(m->nseries, 3);
	/* only the cgroup that folded samples is listed; no names without labels */
	assert_int_equal(m->ncgs, 1);
	assert_int_equal(m->cgs[0].cgroup_id, 9);
	assert_string_equal(m->cgs[0].cgroup, "id:9");
	assert_int_equal(m->cgs[0].folded_class, 700);
	assert_int_equal(m->cgs[0].folded_over, 40);
	assert_int_equal(m->excluded[0], 11);
	assert_int_equal(m->excluded[1], 4);
	for (i = 0; i < m->nseries; i++) {
		const struct lp_series_view *v = m->series[i];

		assert_non_null(v->route);
		if (v->key.route == LP_ROUTE_FIRST) {
			assert_string_equal(v->route, "checkout");
			assert_true(v->slo_applies[1]);
			assert_int_equal(v->win[0].slo_good[1], 3);
			assert_int_equal(v->win[0].slo_total[1], 4);
		} else {
			assert_string_equal(v->route, v->key.route == LP_ROUTE_UNROUTED ?
							      "unrouted" : "/api/users");
			assert_false(v->slo_applies[1]);
		}
		assert_true(v->slo_applies[0]); /* the default GET SLO covers every route */
	}
	assert_int_equal(m->slo_win[1][0].good, 3);
	assert_int_equal(m->slo_win[1][0].total, 4);
	lp_model_put(m);
	fake_free(&f, c);
}

/* --retire-after: an idle series leaves the kernel; its totals stay and go on when it returns */
static void test_retired_series_keep_their_totals_and_go_on_when_they_return(void **state)
{
	const char *argv[] = { "latprobe", "--retire-after", "10s", "-i", "1s" };
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = { 0 };
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m;
	int a, b;

	(void)state;
	fake_init(&f, &cfg, &ft, argv, 5);
	assert_int_equal(cfg.retire_ns, 10 * S);
	a = add_series(&f, 8080, LP_METHOD_GET, 200);
	b = add_series(&f, 8080, LP_METHOD_GET, 500);
	observe(&f, a, 1000000, 3);
	observe(&f, b, 1000000, 1);
	c = fake_collector(&f, &src);
	assert_int_equal(lp_collector__tick(c, 1 * S), 0);
	/* b keeps changing, a does not: a leaves the kernel after 10 s unchanged */
	for (int t = 2; t <= 12; t++) {
		observe(&f, b, 1000000, 1);
		if (t == 11)
			observe(&f, a, 50000000, 1); /* just before: a changed at t=11 */
		assert_int_equal(lp_collector__tick(c, (__u64)t * S), 0);
	}
	assert_false(f.gone[a]);
	for (int t = 13; t <= 21; t++) {
		observe(&f, b, 1000000, 1);
		assert_int_equal(lp_collector__tick(c, (__u64)t * S), 0);
	}
	assert_true(f.gone[a]);
	m = lp_collector__model(c);
	assert_int_equal(m->retired, 1);
	assert_int_equal(m->retirements, 1);
	assert_int_equal(m->nseries_all, 1); /* in the kernel: b only */
	assert_int_equal(m->nseries, 2);     /* a is still exported, with its totals */
	for (size_t i = 0; i < m->nseries; i++)
		if (m->series[i]->key.status == 200) {
			assert_int_equal(m->series[i]->total->count, 4);
			assert_int_equal(m->series[i]->total->sum_ns, 53000000);
		}
	lp_model_put(m);
	/* it comes back: the kernel counts from 0, the totals go on from 4 */
	observe(&f, a, 2000000, 2);
	observe(&f, b, 1000000, 1);
	assert_int_equal(lp_collector__tick(c, 22 * S), 0);
	m = lp_collector__model(c);
	assert_int_equal(m->retired, 0);
	assert_int_equal(m->returns, 1);
	for (size_t i = 0; i < m->nseries; i++)
		if (m->series[i]->key.status == 200) {
			assert_int_equal(m->series[i]->total->count, 6);
			assert_int_equal(m->series[i]->total->sum_ns, 57000000);
			/* the classic buckets go on too: up to 5 ms, 3 + 2 */
			__u64 le5ms = 0;

			for (int k = 0; k <= LP_OTEL_FIRST; k++)
				le5ms += m->series[i]->total->classic[k];
			assert_int_equal(le5ms, 5);
		}
	lp_model_put(m);
	fake_free(&f, c);
}

/*
 * A series retired and idle for another --retire-after leaves user space:
 * exports stop showing it, its memory goes, the SLO totals keep what it
 * added; back later, it starts from zero (issue 32: retired series kept for
 * ever made /metrics grow without bound while the kernel map stayed empty).
 */
static void test_a_long_retired_series_is_forgotten(void **state)
{
	const char *argv[] = {"latprobe", "--retire-after", "10s", "-i", "1s", "-w", "10s"};
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = {0};
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m;
	int a, b, t;

	(void)state;
	fake_init(&f, &cfg, &ft, argv, 7);
	a = add_series(&f, 8080, LP_METHOD_GET, 200);
	b = add_series(&f, 9090, LP_METHOD_GET, 200);
	observe(&f, a, 1000000, 3);
	observe(&f, b, 1000000, 1);
	c = fake_collector(&f, &src);
	for (t = 1; t <= 19; t++) {
		observe(&f, b, 1000000, 1);
		assert_int_equal(lp_collector__tick(c, (__u64)t * S), 0);
	}
	m = lp_collector__model(c);
	assert_int_equal(m->retired, 1); /* a: retired at 11 s, still exported */
	assert_int_equal(m->nseries, 2);
	assert_int_equal(m->forgotten, 0);
	lp_model_put(m);
	for (t = 20; t <= 22; t++) {
		observe(&f, b, 1000000, 1);
		assert_int_equal(lp_collector__tick(c, (__u64)t * S), 0);
	}
	m = lp_collector__model(c);
	assert_int_equal(m->forgotten, 1);
	assert_int_equal(m->retired, 0);
	assert_int_equal(m->nseries, 1); /* b alone */
	assert_int_equal(m->series[0]->key.port, 9090);
	assert_int_equal(m->series[0]->total->count, 23);
	lp_model_put(m);
	/* back: a new series from zero, found by its key (the index was rebuilt) */
	observe(&f, a, 2000000, 2);
	observe(&f, b, 1000000, 1);
	assert_int_equal(lp_collector__tick(c, 23 * S), 0);
	observe(&f, b, 1000000, 1);
	assert_int_equal(lp_collector__tick(c, 24 * S), 0);
	m = lp_collector__model(c);
	assert_int_equal(m->nseries, 2);
	for (size_t i = 0; i < m->nseries; i++)
		assert_int_equal(m->series[i]->total->count,
				 m->series[i]->key.port == 8080 ? 2 : 25);
	lp_model_put(m);
	fake_free(&f, c);
}

/* per SLO and window: the sum over every series the SLO covers, quantiles of the merge */
static void test_slo_windows_merge_the_series_they_cover(void **state)
{
	const char *argv[] = { "latprobe", "-i", "5s", "-w", "10s", "-w", "30s" };
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = { 0 };
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m;
	int a, b, p, t;

	(void)state;
	fake_init(&f, &cfg, &ft, argv, 7);
	a = add_series(&f, 8080, LP_METHOD_GET, 200);
	b = add_series(&f, 9090, LP_METHOD_GET, 503);
	p = add_series(&f, 8080, LP_METHOD_POST, 200);
	c = fake_collector(&f, &src);

	/* 0..10 s: 980 fast GETs on one port, 20 slow ones on another, POSTs apart */
	observe(&f, a, 1000000, 980);
	observe(&f, b, 50000000, 20);
	observe(&f, p, 900000000, 500);
	assert_int_equal(lp_collector__tick(c, 5 * S), 0);
	assert_int_equal(lp_collector__tick(c, 10 * S), 0);
	m = lp_collector__model(c);
	assert_int_equal(cfg.nslos, 1); /* get_10ms */
	for (t = 0; t < 2; t++) {
		const struct lp_slo_window *sw = &m->slo_win[0][t];

		assert_int_equal(sw->total, 1000);
		assert_int_equal(sw->good, 980);
		assert_int_equal(sw->sum_ns, 980 * 1000000ULL + 20 * 50000000ULL);
		assert_rel(sw->q[0], 0.001, 0.044);  /* p50 */
		assert_rel(sw->q[2], 0.050, 0.044);  /* p99: among the slow 2 % */
	}
	lp_model_put(m);

	/* 10..20 s: only fast GETs; the 10 s window forgets the slow ones, 30 s keeps them */
	observe(&f, a, 2000000, 500);
	assert_int_equal(lp_collector__tick(c, 15 * S), 0);
	assert_int_equal(lp_collector__tick(c, 20 * S), 0);
	m = lp_collector__model(c);
	assert_int_equal(m->slo_win[0][0].total, 500);
	assert_int_equal(m->slo_win[0][0].good, 500);
	assert_rel(m->slo_win[0][0].q[3], 0.002, 0.044);
	assert_int_equal(m->slo_win[0][1].total, 1500);
	assert_int_equal(m->slo_win[0][1].good, 1480);
	lp_model_put(m);

	/* a quiet window: no requests, no quantiles */
	assert_int_equal(lp_collector__tick(c, 25 * S), 0);
	assert_int_equal(lp_collector__tick(c, 30 * S), 0);
	m = lp_collector__model(c);
	assert_int_equal(m->slo_win[0][0].total, 0);
	assert_true(isnan(m->slo_win[0][0].q[2]));
	lp_model_put(m);

	fake_free(&f, c);
}

static int released;

static void count_release(void *ctx)
{
	(void)ctx;
	released++;
}

/*
 * A reload: a kept SLO goes on with its totals and windows, a new one starts
 * from the totals held (its windows empty), a dropped one goes; the series'
 * counters never go back; the old configuration lives while a model uses it.
 */
static void test_a_reload_keeps_slos_and_counters(void **state)
{
	const char *argv[] = {"latprobe", "-i", "5s", "-w", "10s", "--slo",
			      "name=fast,threshold=5ms,objective=99%"};
	const char *argv2[] = {"latprobe", "-i", "5s", "-w", "10s", "--no-default-slo",
			       "--slo", "name=post,threshold=1s,objective=90%,method=POST",
			       "--slo", "name=fast,threshold=5ms,objective=99%"};
	static struct lp_config cfg2;
	struct lp_cfg_ref ref = {.release = count_release};
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = {0};
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m, *old;
	__u64 post_good = 0;
	int a, p, t;

	(void)state;
	released = 0;
	fake_init(&f, &cfg, &ft, argv, 7);
	a = add_series(&f, 8080, LP_METHOD_GET, 200);
	p = add_series(&f, 8080, LP_METHOD_POST, 200);
	c = fake_collector(&f, &src);
	observe(&f, a, 1000000, 90);  /* 1 ms: good for both */
	observe(&f, a, 7000000, 10);  /* 7 ms: good for get_10ms only */
	observe(&f, p, 500000000, 40); /* 500 ms POSTs */
	assert_int_equal(lp_collector__tick(c, 5 * S), 0);
	assert_int_equal(lp_collector__tick(c, 10 * S), 0);
	old = lp_collector__model(c);
	assert_int_equal(old->slo_win[1][0].total, 140); /* fast: every method */
	assert_int_equal(old->slo_win[1][0].good, 90);

	setup_cfg(&cfg2, argv2, 10);
	ref.cfg = &cfg2;
	assert_int_equal(lp_collector__reconfigure(c, &ref), 0);
	observe(&f, a, 1000000, 5);
	observe(&f, p, 500000000, 10);
	assert_int_equal(lp_collector__tick(c, 15 * S), 0);
	m = lp_collector__model(c);
	assert_ptr_equal(m->cfg, &cfg2);
	/* post is new: its window starts at the reload, its totals hold all 50 */
	assert_string_equal(m->cfg->slos[0].name, "post");
	assert_int_equal(m->slo_win[0][0].total, 10);
	assert_int_equal(m->slo_win[0][0].good, 10);
	/* fast is kept (it moved from index 1 to 1): its 10 s window spans the reload */
	assert_string_equal(m->cfg->slos[1].name, "fast");
	assert_int_equal(m->slo_win[1][0].total, 5 + 10); /* 5..15 s: the 10 slow and 5 new */
	assert_int_equal(m->nseries, 2);
	/* the series' totals go on; their SLO counts under the new SLOs are whole */
	assert_int_equal(m->series[0]->total->count + m->series[1]->total->count, 155);
	assert_int_equal(m->series[0]->slo_good[1] + m->series[1]->slo_good[1], 95);
	for (t = 0; t < 2; t++)
		if (m->series[t]->slo_applies[0])
			post_good += m->series[t]->slo_good[0];
	assert_int_equal(post_good, 50); /* POST only */
	/* the old model still reads its own configuration; it goes with the last user */
	assert_ptr_equal(old->cfg, &cfg);
	assert_int_equal(old->cfg->nslos, 2);
	lp_model_put(old);
	lp_model_put(m);
	assert_int_equal(released, 0); /* the collector's latest model and the collector hold it */
	lp_collector__note_reload(c, false, 1234.5);
	assert_int_equal(lp_collector__tick(c, 20 * S), 0);
	m = lp_collector__model(c);
	assert_false(m->reloads.last_ok);
	assert_int_equal(m->reloads.ok, 0);
	assert_int_equal(m->reloads.failed, 1);
	lp_model_put(m);
	fake_free(&f, c);
	assert_int_equal(released, 1);
}

static void test_unchanged_series_share_one_snapshot(void **state)
{
	const char *argv[] = { "latprobe" };
	struct lp_fine_table ft;
	struct lp_config cfg;
	struct fake f = { 0 };
	struct lp_source src;
	struct lp_collector *c;
	struct lp_model *m1, *m2;

	(void)state;
	fake_init(&f, &cfg, &ft, argv, 1);
	add_series(&f, 80, LP_METHOD_GET, 200);
	observe(&f, 0, 5000, 1);
	c = fake_collector(&f, &src);
	lp_collector__tick(c, 5 * S);
	m1 = lp_collector__model(c);
	lp_collector__tick(c, 10 * S);
	m2 = lp_collector__model(c);
	assert_ptr_equal(m1->series[0]->total, m2->series[0]->total);
	assert_close(m2->series[0]->rate, 0.0, 0);
	/* a model outlives the collector's next ticks */
	lp_collector__tick(c, 15 * S);
	assert_int_equal(m1->series[0]->total->count, 1);
	lp_model_put(m1);
	lp_model_put(m2);
	fake_free(&f, c);
}

/* every figure of two models' views, SLO windows and spans the same */
static void assert_same_model(const struct lp_config *cfg, const struct lp_model *x,
			      const struct lp_model *y)
{
	size_t i, w, k, q;

	assert_int_equal(x->nseries, y->nseries);
	for (w = 0; w < cfg->nwindows; w++) {
		assert_close(x->span_s[w], y->span_s[w], 0);
		for (k = 0; k < cfg->nslos; k++) {
			assert_int_equal(x->slo_win[k][w].good, y->slo_win[k][w].good);
			assert_int_equal(x->slo_win[k][w].total, y->slo_win[k][w].total);
			assert_int_equal(x->slo_win[k][w].sum_ns, y->slo_win[k][w].sum_ns);
		}
	}
	for (i = 0; i < x->nseries; i++) {
		const struct lp_series_view *a = x->series[i], *b = y->series[i];

		assert_memory_equal(&a->key, &b->key, sizeof(a->key));
		assert_int_equal(a->total->count, b->total->count);
		assert_int_equal(a->total->sum_ns, b->total->sum_ns);
		assert_close(a->rate, b->rate, 0);
		for (q = 0; q < LP_NQUANTILES; q++)
			assert_true(a->total_q[q] == b->total_q[q] ||
				    (isnan(a->total_q[q]) && isnan(b->total_q[q])));
		for (k = 0; k < cfg->nslos; k++)
			assert_int_equal(a->slo_good[k], b->slo_good[k]);
		for (w = 0; w < cfg->nwindows; w++) {
			assert_int_equal(a->win[w].count, b->win[w].count);
			assert_int_equal(a->win[w].sum_ns, b->win[w].sum_ns);
			for (q = 0; q < LP_NQUANTILES; q++)
				assert_true(a->win[w].q[q] == b->win[w].q[q] ||
					    (isnan(a->win[w].q[q]) && isnan(b->win[w].q[q])));
			for (k = 0; k < cfg->nslos; k++) {
				assert_int_equal(a->win[w].slo_good[k], b->win[w].slo_good[k]);
				assert_int_equal(a->win[w].slo_total[k], b->win[w].slo_total[k]);
			}
		}
	}
}

/*
 * Changed-only reads (the source gives only the series with samples since
 * its last read, as lp_probe does) and idle collections that share the
 * views of the one before show, tick by tick, what a collector given every
 * series at every tick shows: also at the ticks where a window's start
 * moves past the traffic and its counts fall to 0.
 */
static void test_idle_collections_share_views_and_stay_exact(void **state)
{
	const char *argv[] = { "latprobe", "-i", "5s", "-w", "10s", "-w", "30s" };
	struct lp_fine_table ft[2];
	struct lp_config cfg[2];
	struct fake f[2] = { 0 };
	struct lp_source src[2];
	struct lp_collector *c[2];
	struct lp_model *m[2], *prev[2] = { NULL, NULL };
	int i, t, kept[2] = { 0, 0 }, built[2] = { 0, 0 };
	size_t k;

	(void)state;
	for (i = 0; i < 2; i++) {
		fake_init(&f[i], &cfg[i], &ft[i], argv, 7);
		add_series(&f[i], 8080, LP_METHOD_GET, 200);
		add_series(&f[i], 9090, LP_METHOD_GET, 503);
		c[i] = fake_collector(&f[i], &src[i]);
	}
	f[1].changed_only = true;
	for (t = 1; t <= 16; t++) {
		for (i = 0; i < 2; i++) {
			/* traffic at 5 s (both series), at 20 s (one), then none */
			if (t == 1) {
				observe(&f[i], 0, 3000000, 40);
				observe(&f[i], 1, 40000000, 2);
			} else if (t == 4) {
				observe(&f[i], 0, 20000000, 7);
			}
			assert_int_equal(lp_collector__tick(c[i], (__u64)t * 5 * S), 0);
			m[i] = lp_collector__model(c[i]);
			/* a view kept is the same object: nothing about it was computed again */
			for (k = 0; prev[i] && k < m[i]->nseries; k++) {
				kept[i] += m[i]->series[k] == prev[i]->series[k];
				built[i] += m[i]->series[k] != prev[i]->series[k];
			}
		}
		assert_same_model(&cfg[0], m[0], m[1]);
		if (t == 2) /* the 10 s window still holds the first traffic */
			assert_int_equal(m[1]->series[0]->win[0].count, 40);
		if (t == 4)
			assert_int_equal(m[1]->series[0]->win[0].count, 7);
		if (t == 6) /* it moved past the 20 s traffic too */
			assert_int_equal(m[1]->series[0]->win[0].count, 0);
		if (t == 16) { /* and the 30 s window past all of it */
			assert_int_equal(m[1]->series[0]->win[1].count, 0);
			assert_int_equal(m[1]->series[0]->total->count, 47);
			assert_int_equal(m[1]->series_read, 0);
			assert_int_equal(m[1]->slo_win[0][1].total, 0);
		}
		for (i = 0; i < 2; i++) {
			lp_model_put(prev[i]);
			prev[i] = m[i];
		}
	}
	/*
	 * Views built anew after the first tick, per series: 8080 at 10 s (its
	 * rate falls to 0), 20 s (traffic), 25 s (rate), 15 s and 30 s (the 10 s
	 * window passes its traffic), 35 s and 50 s (the 30 s window); 9090 at
	 * 10, 15 and 35 s. 15 ticks of 2 series: 30 views, 10 built, 20 kept.
	 * A read of every series finds the same snapshots: the same in both.
	 */
	for (i = 0; i < 2; i++) {
		assert_int_equal(built[i], 10);
		assert_int_equal(kept[i], 20);
		lp_model_put(prev[i]);
		fake_free(&f[i], c[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_rate_and_slo_follow_the_traffic),
		cmocka_unit_test(test_filters_and_slo_scope),
		cmocka_unit_test(test_routes_label_series_and_scope_slos),
		cmocka_unit_test(test_retired_series_keep_their_totals_and_go_on_when_they_return),
		cmocka_unit_test(test_a_long_retired_series_is_forgotten),
		cmocka_unit_test(test_slo_windows_merge_the_series_they_cover),
		cmocka_unit_test(test_unchanged_series_share_one_snapshot),
		cmocka_unit_test(test_a_reload_keeps_slos_and_counters),
		cmocka_unit_test(test_idle_collections_share_views_and_stay_exact),
	};

	return cmocka_run_group_tests_name("collector", tests, NULL, NULL);
}
