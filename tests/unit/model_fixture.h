/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One fixed model for the tests of what is built from a model (expositions,
 * push encoders, the JSON document): three series — a server series with a
 * hostile service name on a route, a failed gRPC call's client series over IPv6 inside TLS, the
 * overflow series — two windows, two SLOs, a route and an excluded path. Include after cmocka.h, expo.h and lp_bucket.h.
 */
#ifndef MODEL_FIXTURE_H
#define MODEL_FIXTURE_H

#include <arpa/inet.h>
#include "app/cli.h" /* the fixture is configured as a user would: by flags */
#include "core/k8s.h"
#include "export/self.h"
#include "base/peers.h"

static struct lp_config cfg;
static struct lp_fine_table ft;
static struct lp_model model;
static struct lp_self self __attribute__((unused)) = { .start_time = 1700000000.5, .cpu_seconds = 1.25,
			       .resident_bytes = 8388608, .virtual_bytes = 33554432,
			       .open_fds = 9, .max_fds = 1024, .last_scrape_s = 0.00125,
			       .scrapes = 7, .http_errors = 2, .scrape_failures = 1, .max_series = 16384 };

/* a snapshot holding the given latencies, as the kernel would have counted them */
static struct lp_snap *snap_of(const __u64 *ns, int n)
{
	struct lp_value *v = calloc(1, lp_value_size(ft.schema));
	struct lp_snap *s;
	int i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v->sum_ns += ns[i];
		v->classic[lp_classic_slot(cfg.classic_ns, cfg.nclassic, ns[i])]++;
		v->fine[lp_fine_slot(ft.bounds, ft.n, ft.zero_ns, ns[i])]++;
	}
	s = lp_snap_from_value(v, cfg.nclassic + 1, LP_FINE_SLOTS(ft.schema));
	free(v);
	return s;
}

static int setup(void **state)
{
	const char *argv[] = { "latprobe", "--slo", "name=post_250ms,method=POST,threshold=250ms,objective=99.9%",
			       "-w", "1m", "-w", "5m", "--route", "checkout=/api/cart/checkout",
			       "--route", "/shop.Cart/Checkout", "--exclude-path", "/healthz" };
	static const __u64 a[] = { 500, 120000, 130000, 2500000, 2500000, 9000000, 10000000,
				   10000001, 300000000 };
	static const __u64 b[] = { 40000000, 41000000 };
	static const __u64 o[] = { 1000000 };
	char err[256];
	struct lp_series_view *v;
	unsigned w, k;
	size_t i;

	(void)state;
	lp_config_defaults(&cfg);
	if (lp_cli_parse(&cfg, 13, (char **)argv, err, sizeof(err), NULL) != LP_CLI_RUN)
		return -1;
	if (lp_fine_table_init(&ft, cfg.schema))
		return -1;
	model.cfg = &cfg;
	model.ft = &ft;
	model.refs = 1;
	model.seq = 12;
	model.wall = 1700000060.25;
	model.collect_s = 0.0005;
	model.read_errors = 1;
	model.nseries = 3;
	model.nseries_all = 3;
	model.counters[LP_CNT_REQUESTS] = 12;
	model.counters[LP_CNT_UNTIMED] = 3;
	model.excluded[0] = 17; /* /healthz, server side */
	model.excluded[1] = 2;	/* client side */
	if (lp_model_alloc_series(&model, 3))
		return -1;

	v = model.series[0];
	v->key = (struct lp_key){ .cgroup_id = 42, .port = 8080, .status = 200,
				  .side = LP_SIDE_SERVER, .method = LP_METHOD_GET, .family = 4,
				  .route = LP_ROUTE_FIRST };
	v->route = lp_route_label(&cfg.routes, v->key.route); /* as the collector sets it */
	v->service = strdup("we\"ird\\svc\nname \xc3\xbc");
	v->cgroup = strdup("/system.slice/x.service");
	v->total = snap_of(a, 9);
	v->created = 1700000001.5;
	v->slo_applies[0] = true;
	v->slo_good[0] = 7;
	for (w = 0; w < cfg.nwindows; w++) {
		v->win[w].window_ns = cfg.windows_ns[w];
		for (k = 0; k < LP_NQUANTILES; k++)
			v->win[w].q[k] = w ? NAN : 0.001 * (k + 1);
		v->win[w].slo_good[0] = w ? 0 : 7;
		v->win[w].slo_total[0] = w ? 0 : 9;
	}

	v = model.series[1];
	v->key = (struct lp_key){ .cgroup_id = 77, .port = 443, .status = 503,
				  .side = LP_SIDE_CLIENT, .method = LP_METHOD_POST, .family = 6,
				  .route = LP_ROUTE_FIRST + 1, .grpc = 14 + 1,
				  .flags = LP_KEY_TLS | LP_KEY_H2 }; /* gRPC: UNAVAILABLE */
	{
		/* called 2001:db8::5, the kernel's IPv6 address number 1 (base/peers.h) */
		struct lp_addr6 a = {.w = {htonl(0x20010db8), 0, 0, htonl(5)}};

		assert_int_equal(lp_peer6_set(1, &a), 0);
		v->key.peer = 1;
	}
	v->route = lp_route_label(&cfg.routes, v->key.route);
	v->service = strdup("curl");
	v->cgroup = strdup(""); /* unresolvable: the id stands in */
	/* in a pod of a Deployment */
	v->k8s = calloc(1, sizeof(*v->k8s));
	assert_non_null(v->k8s);
	*v->k8s = (struct lp_k8s){ .refs = 1, .ns = "shop", .pod = "web-7d9f8b6c5d-x2k4p",
				   .container = "curl", .workload = "web",
				   .kind = LP_K8S_DEPLOYMENT };
	v->total = snap_of(b, 2);
	v->created = 1700000002;
	v->slo_applies[1] = true;
	v->slo_good[1] = 2;
	for (w = 0; w < cfg.nwindows; w++) {
		v->win[w].window_ns = cfg.windows_ns[w];
		for (k = 0; k < LP_NQUANTILES; k++)
			v->win[w].q[k] = 0.04;
		v->win[w].slo_good[1] = 2;
		v->win[w].slo_total[1] = 2;
	}

	v = model.series[2];
	v->key = (struct lp_key){ .flags = LP_KEY_OVERFLOW };
	v->service = strdup("overflow");
	v->cgroup = strdup("");
	v->total = snap_of(o, 1);
	for (w = 0; w < cfg.nwindows; w++)
		for (k = 0; k < LP_NQUANTILES; k++)
			v->win[w].q[k] = NAN;
	/* the figures the collector derives from the counts */
	for (i = 0; i < model.nseries; i++) {
		v = model.series[i];
		for (k = 0; k < cfg.nslos; k++) {
			double burn;

			lp_slo_figures(v->slo_good[k], v->total->count, cfg.slos[k].objective,
				       &v->slo_ratio[k], &burn);
			for (w = 0; w < cfg.nwindows; w++)
				lp_slo_figures(v->win[w].slo_good[k], v->win[w].slo_total[k],
					       cfg.slos[k].objective, &v->win[w].slo_ratio[k],
					       &v->win[w].slo_burn[k]);
		}
	}
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < model.nseries; i++)
		lp_view_put(model.series[i]);
	free(model.series);
	lp_fine_table_free(&ft);
	return 0;
}

#endif
