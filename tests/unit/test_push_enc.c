// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The push sinks' encoders over the fixed model: Graphite, InfluxDB and
 * DogStatsD against golden files (tests/unit/golden/push.*, regenerate
 * with UPDATE_GOLDEN=1 and review the diff), the Pushgateway's body,
 * datagram sizes, and push URLs good and bad.
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

/* ---------------------------------------------------------------- push */

static void test_push_graphite_matches_golden(void **state)
{
	struct lp_push_cfg c = push_cfg("graphite://g:2003");
	struct lp_buf b = {0};
	const char *line;

	(void)state;
	assert_int_equal(lp_enc_graphite(&b, &model, &c), 0);
	lp_buf_add(&b, "", 1);
	/* every line: a name without spaces, one value, the collection's unix time */
	for (line = b.data; *line; line = strchr(line, '\n') + 1) {
		char name[1024];
		double v;
		long ts;

		assert_int_equal(sscanf(line, "%1023s %lf %ld", name, &v, &ts), 3);
		assert_int_equal(ts, 1700000060);
		assert_null(strpbrk(name, " \t\"\\"));
	}
	golden("push.graphite", b.data);
	lp_buf_free(&b);
	c = push_cfg("graphite://g:2003?tags=0&prefix=dc1.lp");
	assert_int_equal(lp_enc_graphite(&b, &model, &c), 0);
	lp_buf_add(&b, "", 1);
	/* every label in the path, cgroup and family too: series that differ only
	 * there would otherwise share one path, and Carbon keep the last value */
	assert_non_null(strstr(b.data, "dc1.lp.server.we%22ird%5Csvc%0Aname%20%C3%BC."
				       "%2Fsystem%2Eslice%2Fx%2Eservice.ipv4."
				       "h1.8080.GET.checkout.200.count 9 "));
	assert_non_null(strstr(b.data, "dc1.lp.server.we%22ird%5Csvc%0Aname%20%C3%BC."
				       "%2Fsystem%2Eslice%2Fx%2Eservice.ipv4."
				       "h1.8080.GET.checkout.200.get_10ms.good 7 "));
	lp_buf_free(&b);
	/* escaped, not folded: names that differ stay apart in both forms (issue 32) */
	{
		static const char *const pairs[][2] = {
			{"/a.b", "/a_b"}, {"x@y", "x_y"}, {"a%41", "aA"}, {"", "%00"}};
		char *svc = model.series[0]->service;
		struct lp_buf b2 = {0};
		unsigned i, tags;

		for (tags = 0; tags < 2; tags++) {
			c = push_cfg(tags ? "graphite://g:2003" : "graphite://g:2003?tags=0");
			for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
				model.series[0]->service = (char *)pairs[i][0];
				assert_int_equal(lp_enc_graphite(&b, &model, &c), 0);
				model.series[0]->service = (char *)pairs[i][1];
				assert_int_equal(lp_enc_graphite(&b2, &model, &c), 0);
				lp_buf_add(&b, "", 1);
				lp_buf_add(&b2, "", 1);
				if (!strcmp(b.data, b2.data))
					fail_msg("'%s' and '%s' share a Graphite name (tags=%u)",
						 pairs[i][0], pairs[i][1], tags);
				lp_buf_free(&b);
				lp_buf_free(&b2);
			}
		}
		model.series[0]->service = svc;
		c = push_cfg("graphite://g:2003?tags=0&prefix=dc1.lp");
		assert_int_equal(lp_enc_graphite(&b, &model, &c), 0);
		lp_buf_add(&b, "", 1);
	}
	/* the HTTP/2 series (the fixture's second) has a path of its own */
	assert_non_null(strstr(b.data, ".ipv6.h2.443.POST."));
	assert_null(strchr(b.data, ';'));
	lp_buf_free(&b);
}

static void test_push_influx_matches_golden(void **state)
{
	struct lp_buf b = {0};

	(void)state;
	assert_int_equal(lp_enc_influx(&b, &model), 0);
	lp_buf_add(&b, "", 1);
	/* tags escaped (a line break as an escaped space: a bare one ends the
	 * tag set and InfluxDB answers 400), integers typed, ns timestamps */
	assert_non_null(strstr(b.data, "service=we\"ird\\\\svc\\ name\\ \xc3\xbc,"));
	assert_non_null(strstr(b.data, " count=9i,"));
	assert_non_null(strstr(b.data, " 1700000060250000000\n"));
	golden("push.influx", b.data);
	lp_buf_free(&b);
}

static void test_push_dogstatsd_counts_increases(void **state)
{
	struct lp_push_cfg c = push_cfg("dogstatsd://d:8125");
	struct lp_buf b = {0};

	(void)state;
	assert_int_equal(lp_enc_dogstatsd(&b, &model, NULL, &c), 0);
	lp_buf_add(&b, "", 1);
	golden("push.dogstatsd", b.data);
	assert_non_null(strstr(b.data, "latprobe.http.request.count:9|c|#side:server,"));
	lp_buf_free(&b);
	/* against the same model sent before: every counter increased by 0 */
	assert_int_equal(lp_enc_dogstatsd(&b, &model, &model, &c), 0);
	lp_buf_add(&b, "", 1);
	assert_non_null(strstr(b.data, "latprobe.http.request.count:0|c|#side:server,"));
	assert_null(strstr(b.data, "latprobe.http.request.count:9|c"));
	assert_non_null(strstr(b.data, "latprobe.slo.good:0|c|"));
	lp_buf_free(&b);
}

static void test_push_pushgateway_has_histograms_not_process_metrics(void **state)
{
	struct lp_buf b = {0};

	(void)state;
	assert_int_equal(lp_enc_pushgateway(&b, &model), 0);
	lp_buf_add(&b, "", 1);
	assert_non_null(strstr(b.data, "http_server_request_duration_seconds_bucket{"));
	assert_non_null(strstr(b.data, "http_server_request_duration_seconds_count{"));
	assert_null(strstr(b.data, "process_cpu_seconds_total"));
	assert_null(strstr(b.data, "latprobe_scrapes_total"));
	lp_buf_free(&b);
}

static void test_push_datagrams_never_exceed_the_size(void **state)
{
	const char text[] = "a:1|c\nbb:2|c\n" /* 5 + 6 */
			    "this-line-is-far-too-long-for-the-limit:1|c\n"
			    "ccc:3|c\n\n";
	size_t off[8], len[8], skipped, n, i;

	(void)state;
	n = lp_pack_datagrams(text, strlen(text), 12, off, len, 8, &skipped);
	assert_int_equal(skipped, 1);
	assert_int_equal(n, 2);
	assert_int_equal(len[0], 12); /* "a:1|c\nbb:2|c" */
	assert_memory_equal(text + off[0], "a:1|c\nbb:2|c", 12);
	assert_memory_equal(text + off[1], "ccc:3|c", len[1]);
	for (i = 0; i < n; i++)
		assert_true(len[i] <= 12);
	/* one line per datagram when the limit is that tight; none with room for none */
	n = lp_pack_datagrams(text, strlen(text), 7, off, len, 8, &skipped);
	assert_int_equal(n, 3);
	assert_int_equal(skipped, 1);
	n = lp_pack_datagrams(text, strlen(text), 4, off, len, 8, &skipped);
	assert_int_equal(n, 0);
	assert_int_equal(skipped, 4);
}

static void test_push_urls(void **state)
{
	static const struct {
		const char *spec;
		const char *err; /* NULL: valid */
	} cases[] = {
		{"pushgateway+http://pg:9091", NULL},
		{"pushgateway+https://pg?job=edge&interval=30s&timeout=2s&queue=3", NULL},
		{"graphite://[::1]:2003?prefix=a.b&tags=0", NULL},
		{"influxdb://db:8086/lat", NULL},
		{"dogstatsd://127.0.0.1:8125?max_size=512", NULL},
		{"unix:///var/run/datadog/dsd.socket", NULL},
		{"graphite:2003", "not a URL"},
		{"http://x:1", "unknown scheme"},
		{"carbon://x:2003", "unknown scheme"},
		{"graphite://x?interval=0", "bad value for interval: '0'"},
		{"graphite://x?interval=fast", "bad value for interval"},
		{"graphite://x?interval=1s&timeout=2s", "timeout longer than the interval"},
		{"graphite://x?prefix=a%20b", "bad value for prefix: 'a b'"},
		{"graphite://x?prefix=a b", "not a URL"},
		{"graphite://x?colour=red", "unknown parameter 'colour'"},
		{"graphite://x?queue=0", "bad value for queue"},
		{"influxdb://db:8086", "the database is the path"},
		{"influxdb2://db:8086?org=o", "needs org= and bucket="},
		{"influxdb2://db:8086?org=o&bucket=b&token=secret",
		 "never taken from the command line"},
		{"influxdb2://db:8086?org=o&bucket=b&token_file=/nonexistent",
		 "token_file cannot be read"},
		{"pushgateway+http://pg?auth_file=/nonexistent", "auth_file cannot be read"},
		{"unix://host/sock", "has no host"},
		{"pushgateway+http://me:s3cr3t@pg:9091", "credentials in the URL are refused"},
		{"influxdb://me:s3cr3t@db:8086/x", "'influxdb://***@db:8086/x'"},
		{"graphite://me@x:2003", "credentials in the URL are refused"},
		/* a URL that does not parse is echoed too: its password hidden all the same */
		{"remote-write+http://admin:s3cr/et3s3cr3t@vm:8428/api/v1/write",
		 "'remote-write+http://***@vm:8428/api/v1/write': not a URL"},
		{"otlp+http://u:s3cr3t@@c:4318 x", "'otlp+http://***@c:4318 x'"},
		{"dogstatsd://", "not a URL"},
		{"dogstatsd://?max_size=100", "not a URL"},
		{"remote-write+http://vm:8428/api/v1/write", NULL},
		{"remote-write+https://mimir:443/api/v1/push?job=edge&windows=1", NULL},
		{"remote-write+http://prom/api/v1/write", "needs the receiver's port"},
		{"remote-write+http://prom:9090/api/v1/write%3Fx", "the write path has"},
		{"remote-write+http://prom:9090?windows=maybe", "bad value for windows"},
		{"remote-write+http://prom:9090?token_file=/nonexistent",
		 "token_file cannot be read"},
		{"otlp+http://collector/v1/metrics", NULL},
		{"otlp+https://collector:443?histograms=explicit&windows=1&host=n1", NULL},
		{"otlp+http://collector?histograms=linear", "bad value for histograms"},
		{"otlp+http://collector?host=", "bad value for host"},
		{"otlp+http://collector/v1/metrics%3Fx", "the OTLP path has"},
	};
	struct lp_push_cfg c;
	char err[512];
	size_t i;

	(void)state;
	unsetenv("LATPROBE_INFLUX_TOKEN");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = lp_push_parse(cases[i].spec, "node-1", &c, err, sizeof(err));

		if (!cases[i].err) {
			if (r)
				print_error("%s: %s\n", cases[i].spec, err);
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, -EINVAL);
		if (!strstr(err, cases[i].err))
			print_error("%s: got '%s', want '%s'\n", cases[i].spec, err, cases[i].err);
		assert_non_null(strstr(err, cases[i].err));
		assert_null(strstr(err, "s3cr3t")); /* no message carries a password */
	}
	/* what the valid ones became */
	c = push_cfg("pushgateway+https://pg?job=edge&interval=30s&timeout=2s&queue=3");
	assert_string_equal(c.url, "https://pg:9091/metrics/job/edge/instance/node-1");
	assert_int_equal(c.interval_ns, 30000000000ULL);
	assert_int_equal(c.timeout_ns, 2000000000ULL);
	assert_int_equal(c.queue, 3);
	assert_string_equal(c.name, "pushgateway+https://pg");
	c = push_cfg("pushgateway+http://pg:9091?interval=1s");
	assert_int_equal(c.timeout_ns, 1000000000ULL); /* the 5 s default, cut to the interval */
	c = push_cfg("influxdb://db:8086/lat");
	assert_string_equal(c.url, "http://db:8086/write?db=lat&precision=ns");
	setenv("LATPROBE_INFLUX_TOKEN", "tok123", 1);
	c = push_cfg("influxdb2+https://db?org=my%20org&bucket=b");
	assert_string_equal(c.url,
			    "https://db:8086/api/v2/write?org=my%20org&bucket=b&precision=ns");
	assert_string_equal(c.token, "tok123");
	unsetenv("LATPROBE_INFLUX_TOKEN");
	c = push_cfg("graphite://[::1]:2003?prefix=a.b&tags=0");
	assert_string_equal(c.host, "::1");
	assert_string_equal(c.port, "2003");
	assert_ptr_equal(c.ops, &lp_sink_graphite); /* tags=0: its output is pinned above */
	c = push_cfg("unix:///var/run/datadog/dsd.socket");
	assert_string_equal(c.unix_path, "/var/run/datadog/dsd.socket");
	assert_ptr_equal(c.ops, &lp_sink_dogstatsd);
	assert_int_equal(c.max_datagram, 1432);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_graphite_matches_golden),
		cmocka_unit_test(test_push_influx_matches_golden),
		cmocka_unit_test(test_push_dogstatsd_counts_increases),
		cmocka_unit_test(test_push_pushgateway_has_histograms_not_process_metrics),
		cmocka_unit_test(test_push_datagrams_never_exceed_the_size),
		cmocka_unit_test(test_push_urls),
	};

	return cmocka_run_group_tests_name("push encoders", tests, setup, teardown);
}
