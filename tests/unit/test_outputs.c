// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every output of one model carries every label of its series (generated
 * from the label table, export/series_labels.h), the route and the HTTP
 * version; and the table answers each SLO first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/cli.h"
#include "export/expo.h"
#include "export/series_labels.h"
#include "export/negotiate.h"
#include "export/report.h"
#include "base/peers.h"
#include "sinks/sink.h"
#include "sinks/push.h"
#include "lp_bucket.h"
#include "lp_test.h"
#include "prometheus.pb-c.h"
#include "remote.pb-c.h"
#include "otlp.pb-c.h"
#include <snappy-c.h>

#include "model_fixture.h"
#include "version.h"
#include "expo_helpers.h"

/* The route in every output built from a model: protobuf, the JSON document, the table. */
static void test_every_output_carries_the_route(void **state)
{
	struct lp_buf b = {0};
	char *doc, *tab = NULL;
	size_t tlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(lp_expo_write(&b, LP_FMT_PROTOBUF, &model, &self, LP_EXPO_NATIVE), 0);
	assert_non_null(memmem(b.data, b.len,
			       "\x0a\x0a"
			       "http_route"
			       "\x12\x08"
			       "checkout",
			       22));
	assert_non_null(memmem(b.data, b.len,
			       "\x0a\x0a"
			       "http_route"
			       "\x12\x13"
			       "/shop.Cart/Checkout",
			       33));
	assert_non_null(memmem(b.data, b.len, "latprobe_http_excluded_requests_total", 37));
	lp_buf_free(&b);
	doc = lp_report_json_string(&model);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "\"route\":\"checkout\""));
	assert_non_null(strstr(doc, "\"route\":\"/shop.Cart/Checkout\""));
	assert_non_null(strstr(doc, "\"excluded\":[{\"path\":\"/healthz\",\"server\":17,"
				    "\"client\":2}]"));
	free(doc);
	/* a cgroup over its share: status classes and its own overflow series */
	{
		struct lp_key k = {.status = 404};
		char st[16];

		assert_string_equal(lp_status_label(&k, st, sizeof(st)), "404");
		k.status = 400;
		k.flags = LP_KEY_STATUS_CLASS;
		assert_string_equal(lp_status_label(&k, st, sizeof(st)), "4xx");
		k.flags = LP_KEY_CG_OVERFLOW;
		assert_string_equal(lp_status_label(&k, st, sizeof(st)), "other");
	}
	f = open_memstream(&tab, &tlen);
	assert_non_null(f);
	lp_report_table(f, &model, false);
	fclose(f);
	assert_non_null(strstr(tab, " ROUTE "));
	assert_non_null(strstr(tab, " checkout "));
	assert_non_null(strstr(tab, " /shop.Cart/Checkout "));
	assert_non_null(strstr(tab, "excluded /healthz: 17 server, 2 client\n"));
	free(tab);
}

/* does the protobuf in b hold a label (name, value) as Prometheus writes one? */
static bool pb_label(const struct lp_buf *b, const char *name, const char *value)
{
	char want[256];
	size_t n = strlen(name), v = strlen(value);

	if (n + v + 4 > sizeof(want) || n > 127 || v > 127)
		return false;
	want[0] = 0x0a;
	want[1] = (char)n;
	memcpy(want + 2, name, n);
	want[2 + n] = 0x12;
	want[3 + n] = (char)v;
	memcpy(want + 4 + n, value, v);
	return memmem(b->data, b->len, want, n + v + 4) != NULL;
}

/* does a remote-write request hold a series with label name=value? */
static bool rw_has(const Prometheus__WriteRequest *wr, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < wr->n_timeseries; i++) {
		const char *x = rw_label(wr->timeseries[i], name);

		if (x && !strcmp(x, value))
			return true;
	}
	return false;
}

/*
 * Generated from the label table (export/series_labels.h): every output
 * carries every label of a series, under that output's name for it. The
 * fixture's client series (curl, cgroup id:77, HTTP/2 over TLS to 2001:db8::5,
 * route "unrouted", in a Deployment's pod) has values no output escapes,
 * so each is found as is.
 */
static void test_every_output_carries_every_label(void **state)
{
	const struct lp_series_view *v = model.series[1];
	struct lp_buf text = {0}, pb = {0}, rw = {0}, ot = {0}, influx = {0}, dsd = {0},
		      graphite = {0};
	struct lp_push_cfg c;
	struct lp_label_vals lv;
	Prometheus__WriteRequest *wr;
	Otlp__ExportMetricsServiceRequest *otr;
	char want[512], *doc;
	unsigned i;

	(void)state;
	assert_string_equal(v->service, "curl");
	assert_int_equal(lp_expo_write(&text, LP_FMT_TEXT, &model, &self, LP_EXPO_WINDOWS), 0);
	lp_buf_add(&text, "", 1);
	assert_int_equal(lp_expo_write(&pb, LP_FMT_PROTOBUF, &model, &self, LP_EXPO_NATIVE), 0);
	c = push_cfg("remote-write+http://tsdb:9090/api/v1/write");
	assert_int_equal(lp_enc_remote_write(&rw, &model, &c), 0);
	wr = rw_decode(&rw);
	c = push_cfg("otlp+http://collector/v1/metrics");
	assert_int_equal(lp_sink_otlp.encode(&ot, &model, NULL, &c), 0);
	otr = otlp__export_metrics_service_request__unpack(NULL, ot.len, (const uint8_t *)ot.data);
	assert_non_null(otr);
	assert_int_equal(lp_enc_influx(&influx, &model), 0);
	lp_buf_add(&influx, "", 1);
	c = push_cfg("dogstatsd://d:8125");
	assert_int_equal(lp_enc_dogstatsd(&dsd, &model, NULL, &c), 0);
	lp_buf_add(&dsd, "", 1);
	c = push_cfg("graphite://g:2003?tags=1");
	assert_int_equal(lp_enc_graphite(&graphite, &model, &c), 0);
	lp_buf_add(&graphite, "", 1);
	doc = lp_report_json_string(&model);
	assert_non_null(doc);

	lp_series_label_values(v, &lv);
	for (i = 0; i < LP_L_COUNT; i++) {
		const struct lp_label_def *d = &lp_series_labels[i];
		const char *x = lv.v[i];

		/* a pod shows one workload kind: the other two are absent */
		if (!x && (d->id == LP_L_K8S_STATEFULSET || d->id == LP_L_K8S_DAEMONSET))
			continue;
		if (!x)
			fail_msg("label %s: the fixture's series has no value", d->prom);
		/* Prometheus text (the side: on the families whose name does not say it) */
		snprintf(want, sizeof(want), "%s=\"%s\"", d->prom, x);
		if (!strstr(text.data, want))
			fail_msg("text: no %s", want);
		/* protobuf and remote write: the same labels */
		if (!(d->flags & LP_LBL_SIDE) && !pb_label(&pb, d->prom, x))
			fail_msg("protobuf: no %s=%s", d->prom, x);
		if (!(d->flags & LP_LBL_SIDE) && !rw_has(wr, d->prom, x))
			fail_msg("remote write: no %s=%s", d->prom, x);
		/* OTLP: the semantic-convention name (a number as an int); the
		 * service and its pod on the resource, the others on the points */
		if (!(d->flags & LP_LBL_SIDE) && !memmem(ot.data, ot.len, d->otel, strlen(d->otel)))
			fail_msg("OTLP: no attribute %s", d->otel);
		if (d->flags & LP_LBL_RESOURCE) {
			const Otlp__Resource *res = NULL;
			size_t r;

			for (r = 0; r < otr->n_resource_metrics; r++) {
				const Otlp__Resource *x = otr->resource_metrics[r]->resource;
				const char *sv =
					ot_attr(x->attributes, x->n_attributes, "service.name");

				if (sv && !strcmp(sv, "curl"))
					res = x;
			}
			assert_non_null(res);
			if (!ot_attr(res->attributes, res->n_attributes, d->otel) ||
			    strcmp(ot_attr(res->attributes, res->n_attributes, d->otel), x))
				fail_msg("OTLP: the resource has no %s=%s", d->otel, x);
		}
		if (!(d->flags & (LP_LBL_SIDE | LP_LBL_NUM)) &&
		    !memmem(ot.data, ot.len, x, strlen(x)))
			fail_msg("OTLP: no value %s for %s", x, d->otel);
		/* the push sinks' tags */
		snprintf(want, sizeof(want), ",%s=%s", d->tag, x);
		if (!strstr(influx.data, want))
			fail_msg("InfluxDB: no %s", want);
		snprintf(want, sizeof(want), "%s:%s", d->tag, x);
		if (!strstr(dsd.data, want))
			fail_msg("DogStatsD: no %s", want);
		snprintf(want, sizeof(want), ";%s=%s", d->tag, x);
		if (!strstr(graphite.data, want))
			fail_msg("Graphite: no %s", want);
		/* the JSON API: a number as a number */
		snprintf(want, sizeof(want),
			 (d->flags & LP_LBL_NUM) ? "\"%s\":%s" : "\"%s\":\"%s\"", d->tag, x);
		if (!strstr(doc, want))
			fail_msg("JSON: no %s", want);
	}
	free(doc);
	prometheus__write_request__free_unpacked(wr, NULL);
	otlp__export_metrics_service_request__free_unpacked(otr, NULL);
	lp_buf_free(&text);
	lp_buf_free(&pb);
	lp_buf_free(&rw);
	lp_buf_free(&ot);
	lp_buf_free(&influx);
	lp_buf_free(&dsd);
	lp_buf_free(&graphite);
}

/* The HTTP version (the fixture's second series is HTTP/2) in every output built from a model. */
static void test_every_output_carries_the_protocol_version(void **state)
{
	struct lp_push_cfg c;
	struct lp_buf b = {0};
	char *doc, *tab = NULL;
	size_t tlen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(lp_expo_write(&b, LP_FMT_TEXT, &model, &self, 0), 0);
	lp_buf_add(&b, "", 1);
	assert_non_null(strstr(b.data, "network_protocol_version=\"1.1\""));
	assert_non_null(strstr(b.data, "network_protocol_version=\"2\""));
	lp_buf_free(&b);
	assert_int_equal(lp_expo_write(&b, LP_FMT_PROTOBUF, &model, &self, LP_EXPO_NATIVE), 0);
	assert_non_null(memmem(b.data, b.len,
			       "\x0a\x18"
			       "network_protocol_version"
			       "\x12\x01"
			       "2",
			       29));
	lp_buf_free(&b);
	doc = lp_report_json_string(&model);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "\"protocol_version\":\"2\""));
	assert_non_null(strstr(doc, "\"protocol_version\":\"1.1\""));
	free(doc);
	assert_int_equal(lp_enc_influx(&b, &model), 0);
	lp_buf_add(&b, "", 1);
	assert_non_null(strstr(b.data, ",protocol_version=2,"));
	lp_buf_free(&b);
	c = push_cfg("dogstatsd://d:8125");
	assert_int_equal(lp_enc_dogstatsd(&b, &model, NULL, &c), 0);
	lp_buf_add(&b, "", 1);
	assert_non_null(strstr(b.data, ",protocol_version:2,"));
	lp_buf_free(&b);
	c = push_cfg("graphite://g:2003?tags=1");
	assert_int_equal(lp_enc_graphite(&b, &model, &c), 0);
	lp_buf_add(&b, "", 1);
	assert_non_null(strstr(b.data, ";protocol_version=2"));
	lp_buf_free(&b);
	f = open_memstream(&tab, &tlen);
	assert_non_null(f);
	lp_report_table(f, &model, false);
	fclose(f);
	assert_non_null(strstr(tab, " 443/6/h2 "));
	free(tab);
}

/* The table: an answer line per SLO first, what each column covers, a cut name marked. */
static void test_the_table_answers_each_slo_first(void **state)
{
	struct lp_slo_window saved = model.slo_win[0][0];
	char *tab = NULL, *svc = model.series[1]->service, *a, *b;
	size_t tlen = 0;
	FILE *f;

	(void)state;
	model.slo_win[0][0] = (struct lp_slo_window){.total = 2613, .good = 2603};
	model.slo_win[0][0].q[2] = 0.0081;
	lp_slo_figures(2603, 2613, 0.99, &model.slo_win[0][0].ratio, &model.slo_win[0][0].burn);
	model.series[1]->service = (char *)"a-service-name-of-thirty-two-chars";
	f = open_memstream(&tab, &tlen);
	assert_non_null(f);
	lp_report_table(f, &model, false);
	fclose(f);
	model.series[1]->service = svc;
	model.slo_win[0][0] = saved;
	a = strstr(tab, "SLO get_10ms: GET served within 10ms for 99%, last 60s: met, 99.62% of "
			"2613 requests (p99 8.10ms)\n");
	b = strstr(tab, "SLO post_250ms: POST served or called within 250ms for 99.9%, last 60s: "
			"no requests\n");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b && b < strstr(tab, "SERVICE "));
	assert_non_null(strstr(tab, "COUNT since start, RATE/s over the last 5s, P50 P99 and SLO "
				    "cells over the last 60s"));
	assert_non_null(strstr(tab, "\na-service-name-of-thirt~ client "));
	free(tab);
}

/* a table of lines f prints */
static char *table_of(void)
{
	char *tab = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&tab, &tlen);

	assert_non_null(f);
	lp_report_table(f, &model, false);
	fclose(f);
	return tab;
}

/* On Kubernetes the table names each series' pod; a series no pod's shows "-". */
static void test_the_table_has_a_pod_column_on_kubernetes(void **state)
{
	struct lp_k8s *pod = model.series[1]->k8s;
	char *tab, *hdr, *line;

	(void)state;
	tab = table_of();
	hdr = strstr(tab, "\nSERVICE ");
	assert_non_null(hdr);
	assert_non_null(strstr(hdr, " PORT       NAMESPACE/POD                    "));
	line = strstr(tab, "\ncurl ");
	assert_non_null(line);
	/* its column lines up under the header's */
	assert_int_equal(strstr(line, "shop/web-7d9f8b6c5d-x2k4p ") - line,
			 strstr(hdr, "NAMESPACE/POD") - hdr);
	/* the other series is no pod's */
	assert_non_null(strstr(tab, " -                                "));
	free(tab);
	/* no pod anywhere: no column */
	model.series[1]->k8s = NULL;
	tab = table_of();
	model.series[1]->k8s = pod;
	assert_null(strstr(tab, "NAMESPACE/POD"));
	assert_null(strstr(tab, "shop/"));
	free(tab);
}

/*
 * With --client-address the table names the server each client series
 * called, under SERVER; a server series shows "-"; without, no column.
 */
static void test_the_table_names_the_server_a_client_called(void **state)
{
	struct lp_series_view *v = model.series[1];
	struct lp_key saved = v->key;
	struct lp_host_key k = {0};
	char *tab, *hdr, *line, dashes[64];

	(void)state;
	/* a row no pod's and no client's: "-" under NAMESPACE/POD, then "-" under SERVER */
	snprintf(dashes, sizeof(dashes), " %-32s %-24s ", "-", "-");
	memcpy(k.b, "api.internal", 12);
	assert_int_equal(lp_host_set(9, &k), 0);
	v->key.flags |= LP_KEY_HOST;
	v->key.peer = 9;
	tab = table_of();
	hdr = strstr(tab, "\nSERVICE ");
	line = strstr(tab, "\ncurl ");
	assert_non_null(hdr);
	assert_non_null(line);
	assert_non_null(strstr(hdr, "NAMESPACE/POD                    SERVER                   "));
	assert_int_equal(strstr(line, " api.internal ") + 1 - line, strstr(hdr, "SERVER") - hdr);
	assert_non_null(strstr(tab, dashes)); /* the server side's */
	free(tab);
	v->key.peer = 0; /* no server named anywhere: no column */
	tab = table_of();
	v->key = saved;
	assert_null(strstr(tab, "SERVER"));
	assert_null(strstr(tab, "api.internal"));
	free(tab);
}

/* server_address of an IPv6 client series: the kernel's number's address, never a made-up one */
static void test_an_ipv6_dependency_is_named_by_its_number(void **state)
{
	struct lp_series_view v = {0};
	struct lp_label_vals lv;
	struct lp_addr6 a;

	(void)state;
	v.key.side = LP_SIDE_CLIENT;
	v.key.family = 6;
	v.key.peer = 7;
	lp_series_label_values(&v, &lv);
	assert_string_equal(lv.v[LP_L_SERVER_ADDRESS], "unknown"); /* not read from the map yet */
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", a.w), 1);
	assert_int_equal(lp_peer6_set(7, &a), 0);
	assert_int_equal(lp_peer6_set(0, &a), -EINVAL);
	assert_int_equal(lp_peer6_set(LP_PEERS6_MAX + 1, &a), -EINVAL);
	lp_series_label_values(&v, &lv);
	assert_string_equal(lv.v[LP_L_SERVER_ADDRESS], "2001:db8::7");
	v.key.peer = LP_PEER_OTHER;
	lp_series_label_values(&v, &lv);
	assert_string_equal(lv.v[LP_L_SERVER_ADDRESS], "other");
	v.key.family = 4; /* IPv4: the address itself */
	v.key.peer = htonl(0x0a000005);
	lp_series_label_values(&v, &lv);
	assert_string_equal(lv.v[LP_L_SERVER_ADDRESS], "10.0.0.5");
}

/* server_address of a client series named by its Host: the kernel's number's name */
static void test_a_host_dependency_is_named_by_its_number(void **state)
{
	struct lp_series_view v = {0};
	struct lp_label_vals lv;
	struct lp_host_key k = {0};

	(void)state;
	v.key.side = LP_SIDE_CLIENT;
	v.key.family = 6; /* a host's number, whatever the packets' family */
	v.key.flags = LP_KEY_HOST;
	v.key.peer = 7;
	lp_series_label_values(&v, &lv);
	assert_string_equal(lv.v[LP_L_SERVER_ADDRESS], "unknown"); /* not read from the map yet */
	memcpy(k.b, "api.internal", 12);
	assert_int_equal(lp_host_set(7, &k), 0);
	lp_series_label_values(&v, &lv);
	assert_string_equal(lv.v[LP_L_SERVER_ADDRESS], "api.internal");
	v.key.peer = LP_PEER_OTHER;
	lp_series_label_values(&v, &lv);
	assert_string_equal(lv.v[LP_L_SERVER_ADDRESS], "other");
	v.key.side = LP_SIDE_SERVER; /* the server side has none */
	v.key.peer = 7;
	lp_series_label_values(&v, &lv);
	assert_null(lv.v[LP_L_SERVER_ADDRESS]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_table_answers_each_slo_first),
		cmocka_unit_test(test_the_table_has_a_pod_column_on_kubernetes),
		cmocka_unit_test(test_every_output_carries_the_route),
		cmocka_unit_test(test_every_output_carries_every_label),
		cmocka_unit_test(test_every_output_carries_the_protocol_version),
		cmocka_unit_test(test_an_ipv6_dependency_is_named_by_its_number),
		cmocka_unit_test(test_a_host_dependency_is_named_by_its_number),
		cmocka_unit_test(test_the_table_names_the_server_a_client_called),
	};

	return cmocka_run_group_tests_name("outputs", tests, setup, teardown);
}
