// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `latprobe check` (userspace/app/check.c): threshold ranges, the status line and
 * perfdata, exit states, Zabbix values and discovery, and every way the
 * agent's answer can be wrong. Table-driven over JSON documents shaped like
 * the agent's /api/v1/series.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/check.h"
#include "lp_test.h"

/* one SLO "get_10ms" (objective 0.99, threshold 0.01 s), windows 1m and 5m */
static void doc(char *buf, size_t len, unsigned long long good, unsigned long long total)
{
	double r = total ? (double)good / (double)total : NAN;
	char ratio[32], burn[32], q[160];

	/* as the agent's collector computes them (lp_slo_figures) */
	if (total) {
		snprintf(ratio, sizeof(ratio), "%.17g", r);
		snprintf(burn, sizeof(burn), "%.17g", (1 - r) / (1 - 0.99));
		snprintf(q, sizeof(q), "{\"0.5\":0.0021,\"0.9\":0.0049,\"0.99\":0.0081,\"0.999\":0.0123}");
	} else {
		snprintf(ratio, sizeof(ratio), "null");
		snprintf(burn, sizeof(burn), "null");
		snprintf(q, sizeof(q), "{\"0.5\":null,\"0.9\":null,\"0.99\":null,\"0.999\":null}");
	}
	snprintf(buf, len,
		 "{\"version\":\"t\",\"slos\":[{\"name\":\"get_10ms\",\"method\":\"GET\",\"side\":null,"
		 "\"port\":null,\"route\":null,\"threshold_seconds\":0.01,\"objective\":0.99,\"windows\":["
		 "{\"window_seconds\":60,\"good\":1,\"total\":1,\"ratio\":1,\"burn_rate\":0,"
		 "\"met\":true,\"sum_seconds\":0.001,\"quantiles_seconds\":%s},"
		 "{\"window_seconds\":300,\"good\":%llu,\"total\":%llu,\"ratio\":%s,\"burn_rate\":%s,"
		 "\"met\":null,\"sum_seconds\":1,\"quantiles_seconds\":%s}]}],\"series\":[]}",
		 q, good, total, ratio, burn, q);
}

static int parse(struct lp_check_opts *o, const char *args, char *err, size_t errlen)
{
	char *copy = strdup(args), *argv[32], *save = NULL, *t;
	int argc = 0, r;

	argv[argc++] = (char *)"check";
	for (t = strtok_r(copy, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	r = lp_check_parse_args(argc, argv, o, stdout, err, errlen);
	free(copy);
	return r;
}

static void test_ranges_follow_the_guidelines(void **state)
{
	static const struct {
		const char *s;
		bool floor;
		double v;
		bool alert;
	} t[] = {
		{ "10", false, 10, false },	{ "10", false, 10.5, true },
		{ "10", false, -1, true },	{ "10:", false, 9.9, true },
		{ "10:", false, 1e9, false },	{ "~:10", false, -1e9, false },
		{ "~:10", false, 11, true },	{ "10:20", false, 15, false },
		{ "10:20", false, 21, true },	{ "@10:20", false, 15, true },
		{ "@10:20", false, 9, false },	{ "0.99", true, 0.989, true },
		{ "0.99", true, 0.99, false },	{ "0.99", true, 1, false },
		{ "0.95:", true, 0.94, true },	{ "@0.5", true, 0.4, true },
		{ "@0.5", true, 0.6, false },	{ ":5", false, 5, false },
	};
	static const char *const bad[] = { "", "x", "20:10", "1:x", "@", "1e999", "nan", ":" "x",
					   "0.5:0.4" };
	struct lp_range r;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		assert_int_equal(lp_range_parse(t[i].s, t[i].floor, &r), 0);
		if (lp_range_alert(&r, t[i].v) != t[i].alert) {
			print_error("range '%s' (floor %d) at %g: alert %d\n", t[i].s, t[i].floor,
				    t[i].v, !t[i].alert);
			fail();
		}
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (!lp_range_parse(bad[i], false, &r)) {
			print_error("range '%s' accepted\n", bad[i]);
			fail();
		}
	/* perfdata shows what is judged: a ratio floor prints as N: */
	assert_int_equal(lp_range_parse("0.99", true, &r), 0);
	assert_string_equal(r.text, "0.99:");
	assert_int_equal(lp_range_parse("2", false, &r), 0);
	assert_string_equal(r.text, "2");
	/* an unset range never alerts */
	memset(&r, 0, sizeof(r));
	assert_false(lp_range_alert(&r, -1e300));
}

static void test_status_line_and_perfdata(void **state)
{
	struct lp_check_opts o;
	char d[2048], out[2048], err[512];

	(void)state;
	doc(d, sizeof(d), 2603, 2613);
	assert_int_equal(parse(&o, "-w 0.995 -c 0.99", err, sizeof(err)), 0);
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_OK);
	assert_string_equal(out,
			    "LATPROBE OK - SLO get_10ms: 99.62% of 2613 requests within 0.01s over 5m "
			    "(objective 99%), burn rate 0.383 | 'good_ratio'=0.996173;0.995:;0.99:;0;1 "
			    "'burn_rate'=0.382702;;;0; 'requests'=2613;;;0; 'good'=2603;;;0; "
			    "'p50'=0.0021s;;;0; 'p90'=0.0049s;;;0; 'p99'=0.0081s;;;0; "
			    "'p99.9'=0.0123s;;;0;");

	/* an SLO of one route says so; Zabbix discovery carries the route */
	{
		char r[2048], *at = strstr(d, "\"route\":null");

		assert_non_null(at);
		snprintf(r, sizeof(r), "%.*s\"route\":\"users\"%s", (int)(at - d), d,
			 at + strlen("\"route\":null"));
		assert_int_equal(lp_check_eval(r, &o, out, sizeof(out)), LP_STATE_OK);
		assert_non_null(strstr(out, "LATPROBE OK - SLO get_10ms (route users): 99.62% of 2613"));
		assert_int_equal(parse(&o, "--zabbix discovery", err, sizeof(err)), 0);
		assert_int_equal(lp_check_zabbix(r, &o, out, sizeof(out)), 0);
		assert_non_null(strstr(out, "\"{#ROUTE}\":\"users\"}"));
	}

	/* a quantile judged: its thresholds move to its perfdata */
	assert_int_equal(parse(&o, "-m p99 -w 0.005 -c 0.01", err, sizeof(err)), 0);
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_WARNING);
	assert_non_null(strstr(out, "LATPROBE WARNING - SLO get_10ms: p99 0.0081s, 99.62% of 2613"));
	assert_non_null(strstr(out, "'good_ratio'=0.996173;;;0;1 "));
	assert_non_null(strstr(out, "'p99'=0.0081s;0.005;0.01;0; "));
}

static void test_states_by_threshold(void **state)
{
	static const struct {
		unsigned long long good, total;
		const char *args;
		enum lp_state want;
	} t[] = {
		/* no thresholds: the SLO's objective is the critical floor */
		{ 990, 1000, "", LP_STATE_OK },
		{ 989, 1000, "", LP_STATE_CRITICAL },
		{ 996, 1000, "-w 0.995 -c 0.99", LP_STATE_OK },
		{ 994, 1000, "-w 0.995 -c 0.99", LP_STATE_WARNING },
		{ 980, 1000, "-w 0.995 -c 0.99", LP_STATE_CRITICAL },
		{ 980, 1000, "-w 0.97", LP_STATE_OK },
		/* burn rate: 1 - 0.98 over 1 - 0.99 = 2 */
		{ 980, 1000, "-m burn_rate", LP_STATE_CRITICAL },
		{ 995, 1000, "-m burn_rate", LP_STATE_OK },
		{ 980, 1000, "-m burn_rate -w 1.5 -c 3", LP_STATE_WARNING },
		{ 950, 1000, "-m burn_rate -w 1.5 -c 3", LP_STATE_CRITICAL },
		/* quantiles have no default threshold */
		{ 0, 1000, "-m p99.9", LP_STATE_OK },
		{ 1000, 1000, "-m p99.9 -c 0.01", LP_STATE_CRITICAL },
		{ 1000, 1000, "-m p50 -c @0:0.003", LP_STATE_CRITICAL },
		/* an empty window: --empty decides */
		{ 0, 0, "", LP_STATE_OK },
		{ 0, 0, "--empty critical", LP_STATE_CRITICAL },
		{ 0, 0, "--empty unknown -c 0.5", LP_STATE_UNKNOWN },
		/* the 1m window of the document holds 1 good of 1 */
		{ 0, 1000, "-W 1m", LP_STATE_OK },
		{ 0, 1000, "-W 60s -s get_10ms", LP_STATE_OK },
	};
	struct lp_check_opts o;
	char d[2048], out[2048], err[512];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		enum lp_state st;

		doc(d, sizeof(d), t[i].good, t[i].total);
		assert_int_equal(parse(&o, t[i].args, err, sizeof(err)), 0);
		st = lp_check_eval(d, &o, out, sizeof(out));
		if (st != t[i].want) {
			print_error("%llu/%llu '%s': state %d, want %d: %s\n", t[i].good, t[i].total,
				    t[i].args, st, t[i].want, out);
			fail();
		}
	}
	doc(d, sizeof(d), 0, 0);
	assert_int_equal(parse(&o, "", err, sizeof(err)), 0);
	lp_check_eval(d, &o, out, sizeof(out));
	assert_non_null(strstr(out, "LATPROBE OK - SLO get_10ms: no requests over 5m | "
				    "'good_ratio'=U;;0.99:;0;1 'burn_rate'=U;;;0; 'requests'=0;;;0;"));
	assert_non_null(strstr(out, "'p99'=U;;;0;"));
}

static void test_nonsense_is_unknown_with_the_reason(void **state)
{
	static const struct {
		const char *doc, *args, *reason;
	} t[] = {
		{ "", "", "not latprobe's JSON" },
		{ "<html>502 Bad Gateway</html>", "", "not latprobe's JSON" },
		{ "[1,2]", "", "not latprobe's JSON" },
		{ "{\"slos\":{}}", "", "not latprobe's JSON" },
		{ "{\"slos\":[]}", "", "has 0 SLOs, name one with --slo (none)" },
		{ "{\"slos\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", "", "has 2 SLOs, name one with --slo (a, b)" },
		{ "{\"slos\":[{\"name\":\"a\"}]}", "-s zz", "no SLO named 'zz' (it has: a)" },
		{ "{\"slos\":[{\"name\":\"a\"}]}", "", "SLO without objective" },
		{ "{\"slos\":[{\"name\":\"a\",\"objective\":1.5,\"threshold_seconds\":1,\"windows\":[{}]}]}",
		  "", "SLO without objective" },
		{ "{\"slos\":[{\"name\":\"a\",\"objective\":0.9,\"threshold_seconds\":1,\"windows\":"
		  "[{\"window_seconds\":60}]}]}",
		  "-W 5m", "no 5m window (it has: 1m)" },
		{ "{\"slos\":[{\"name\":\"a\",\"objective\":0.9,\"threshold_seconds\":1,\"windows\":"
		  "[{\"window_seconds\":60,\"good\":5,\"total\":4,\"ratio\":1,\"burn_rate\":0,"
		  "\"quantiles_seconds\":{}}]}]}",
		  "", "window without good" },
		{ "{\"slos\":[{\"name\":\"a\",\"objective\":0.9,\"threshold_seconds\":1,\"windows\":"
		  "[{\"window_seconds\":60,\"good\":\"5\",\"total\":5,\"ratio\":1,\"burn_rate\":0,"
		  "\"quantiles_seconds\":{}}]}]}",
		  "", "window without good" },
		{ "{\"slos\":[{\"name\":\"a\",\"objective\":0.9,\"threshold_seconds\":1,\"windows\":"
		  "[{\"window_seconds\":60,\"good\":5,\"total\":5,\"ratio\":1,\"burn_rate\":0,"
		  "\"quantiles_seconds\":{\"0.5\":1}}]}]}",
		  "", "no quantile 0.9" },
	};
	struct lp_check_opts o;
	char out[2048], err[512];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		assert_int_equal(parse(&o, t[i].args, err, sizeof(err)), 0);
		if (lp_check_eval(t[i].doc, &o, out, sizeof(out)) != LP_STATE_UNKNOWN ||
		    strncmp(out, "LATPROBE UNKNOWN - ", 19) || !strstr(out, t[i].reason)) {
			print_error("doc %u: '%s', want UNKNOWN with '%s'\n", i, out, t[i].reason);
			fail();
		}
	}
	assert_int_equal(lp_check_eval(NULL, &o, out, sizeof(out)), LP_STATE_UNKNOWN);
}

static void test_zabbix_values_and_discovery(void **state)
{
	static const struct {
		const char *key, *want;
	} t[] = {
		{ "good_ratio", "0.99" }, { "burn_rate", "1" }, { "good", "990" },
		{ "total", "1000" },	  { "met", "1" },	{ "objective", "0.99" },
		{ "threshold", "0.01" },  { "p50", "0.0021" },	{ "p99.9", "0.0123" },
	};
	struct lp_check_opts o;
	char d[2048], out[2048], err[512], args[64];
	unsigned i;

	(void)state;
	doc(d, sizeof(d), 990, 1000);
	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		snprintf(args, sizeof(args), "--zabbix %s", t[i].key);
		assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
		assert_int_equal(lp_check_zabbix(d, &o, out, sizeof(out)), 0);
		assert_string_equal(out, t[i].want);
	}
	assert_int_equal(parse(&o, "--zabbix met -W 1m", err, sizeof(err)), 0);
	assert_int_equal(lp_check_zabbix(d, &o, out, sizeof(out)), 0);
	assert_string_equal(out, "1");

	assert_int_equal(parse(&o, "--zabbix discovery", err, sizeof(err)), 0);
	assert_int_equal(lp_check_zabbix(d, &o, out, sizeof(out)), 0);
	assert_string_equal(out, "[{\"{#SLO}\":\"get_10ms\",\"{#WINDOW}\":\"1m\",\"{#OBJECTIVE}\":"
				 "\"0.99\",\"{#THRESHOLD}\":\"0.01\",\"{#ROUTE}\":\"\"},{\"{#SLO}\":"
				 "\"get_10ms\",\"{#WINDOW}\":\"5m\",\"{#OBJECTIVE}\":\"0.99\","
				 "\"{#THRESHOLD}\":\"0.01\",\"{#ROUTE}\":\"\"}]");

	/* no value: the item is unsupported, with the reason */
	doc(d, sizeof(d), 0, 0);
	assert_int_equal(parse(&o, "--zabbix good_ratio", err, sizeof(err)), 0);
	assert_int_equal(lp_check_zabbix(d, &o, out, sizeof(out)), -EINVAL);
	assert_string_equal(out, "no requests for SLO get_10ms over 5m");
	assert_int_equal(parse(&o, "--zabbix total", err, sizeof(err)), 0);
	assert_int_equal(lp_check_zabbix(d, &o, out, sizeof(out)), 0);
	assert_string_equal(out, "0");
	assert_int_equal(lp_check_zabbix("{}", &o, out, sizeof(out)), -EINVAL);
	assert_int_equal(parse(&o, "--zabbix discovery", err, sizeof(err)), 0);
	assert_int_equal(lp_check_zabbix("nonsense", &o, out, sizeof(out)), -EINVAL);
}

static void test_bad_arguments_name_the_flag(void **state)
{
	static const struct {
		const char *args, *msg;
	} t[] = {
		{ "-m p42", "--metric: 'p42'" },
		{ "-w 1:0", "--warning: '1:0'" },
		{ "-c abc", "--critical: 'abc'" },
		{ "-W 5parsecs", "--window: '5parsecs'" },
		{ "-t 0", "--timeout: '0'" },
		{ "-u ftp:/x", "--url: 'ftp:/x'" },
		{ "--empty maybe", "--empty: 'maybe'" },
		{ "--zabbix p77", "--zabbix: 'p77'" },
		{ "--auth-file /nonexistent/x", "--auth-file: '/nonexistent/x'" },
		{ "--bogus", "unknown option '--bogus'" },
		{ "-w", "-w needs a value" },
		{ "stray", "unexpected argument 'stray'" },
	};
	struct lp_check_opts o;
	char err[512];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(*t); i++) {
		err[0] = '\0';
		if (parse(&o, t[i].args, err, sizeof(err)) != -EINVAL || !strstr(err, t[i].msg)) {
			print_error("'%s': '%s', want '%s'\n", t[i].args, err, t[i].msg);
			fail();
		}
	}
	/* --version: printed, nothing more to do; 0, as every success */
	assert_int_equal(parse(&o, "--version", err, sizeof(err)), 0);
	assert_true(o.done);
	assert_int_equal(parse(&o, "-s get_10ms", err, sizeof(err)), 0);
	assert_false(o.done);
	/* URLs: a bare host:port gets the JSON API path; empty keeps the default */
	assert_int_equal(parse(&o, "-u http://10.0.0.1:18464", err, sizeof(err)), 0);
	assert_string_equal(o.url, "http://10.0.0.1:18464/api/v1/slos");
	assert_int_equal(parse(&o, "-u https://h:1/", err, sizeof(err)), 0);
	assert_string_equal(o.url, "https://h:1/api/v1/slos");
	assert_int_equal(parse(&o, "-u http://h/custom/path", err, sizeof(err)), 0);
	assert_string_equal(o.url, "http://h/custom/path");
	assert_int_equal(parse(&o, "-t 2.5", err, sizeof(err)), 0);
	assert_close(o.timeout_s, 2.5, 1e-12);
	assert_string_equal(o.url, "http://127.0.0.1:18464/api/v1/slos");
}

/* /api/v1/series with four series: two pods of "shop", one of "data", one no pod's */
static void scoped_doc(char *buf, size_t len)
{
	static const char *const rows[][4] = {
		{"\"shop\"", "\"web-1\"", "95", "100"},
		{"\"shop\"", "\"web-2\"", "100", "100"},
		{"\"data\"", "\"db-0\"", "10", "20"},
		{"null", "null", "1000", "1000"},
	};
	char d[2048], *end;
	size_t off, i;

	doc(d, sizeof(d), 1219, 1220);
	end = strstr(d, "\"series\":[]}");
	assert_non_null(end);
	off = (size_t)snprintf(buf, len, "%.*s\"series\":[", (int)(end - d), d);
	for (i = 0; i < 4; i++)
		off += (size_t)snprintf(buf + off, len - off,
					"%s{\"namespace\":%s,\"pod\":%s,\"count\":1,\"windows\":["
					"{\"window_seconds\":60,\"slo\":[]},"
					"{\"window_seconds\":300,\"slo\":[{\"name\":\"get_10ms\","
					"\"good\":%s,\"total\":%s}]}]}",
					i ? "," : "", rows[i][0], rows[i][1], rows[i][2],
					rows[i][3]);
	snprintf(buf + off, len - off, "]}");
}

/* --namespace, --pod: the SLO summed over that scope's series, from /api/v1/series */
static void test_a_namespace_or_a_pod_is_judged_over_its_own_series(void **state)
{
	struct lp_check_opts o;
	char d[4096], out[2048], err[512];

	(void)state;
	scoped_doc(d, sizeof(d));
	assert_int_equal(parse(&o, "--namespace shop", err, sizeof(err)), 0);
	assert_string_equal(o.url, "http://127.0.0.1:18464/api/v1/series");
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_CRITICAL);
	assert_non_null(strstr(out, "LATPROBE CRITICAL - SLO get_10ms (namespace shop): 97.50% of "
				    "200 requests"));
	assert_non_null(strstr(out, "'requests'=200;;;0; 'good'=195;;;0; 'p50'=U;;;0;"));
	assert_int_equal(parse(&o, "--namespace shop --pod web-2", err, sizeof(err)), 0);
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_OK);
	assert_non_null(strstr(out, "SLO get_10ms (namespace shop, pod web-2): 100.00% of 100 "));
	assert_int_equal(parse(&o, "--pod db-0 -m burn_rate -c 10", err, sizeof(err)), 0);
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_CRITICAL);
	assert_non_null(strstr(out, "(pod db-0): 50.00% of 20 requests within 0.01s over 5m "
				    "(objective 99%), burn rate 50 | "));
	assert_non_null(strstr(out, "'burn_rate'=50;;10;0;"));
	/* a scope with series but no requests in the window: --empty decides */
	assert_int_equal(parse(&o, "--namespace shop -W 1m --empty warning", err, sizeof(err)), 0);
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_WARNING);
	/* no series of it at all: unknown, saying so */
	assert_int_equal(parse(&o, "--namespace nope", err, sizeof(err)), 0);
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_UNKNOWN);
	assert_non_null(strstr(out, "the agent has no series of namespace nope"));
	/* Zabbix reads the same sums */
	assert_int_equal(parse(&o, "--zabbix good --namespace shop", err, sizeof(err)), 0);
	assert_int_equal(lp_check_zabbix(d, &o, out, sizeof(out)), 0);
	assert_string_equal(out, "195");
	assert_int_equal(parse(&o, "--zabbix total --namespace data", err, sizeof(err)), 0);
	assert_int_equal(lp_check_zabbix(d, &o, out, sizeof(out)), 0);
	assert_string_equal(out, "20");
	/* without a scope, the agent's own sum over every series */
	assert_int_equal(parse(&o, "", err, sizeof(err)), 0);
	assert_int_equal(lp_check_eval(d, &o, out, sizeof(out)), LP_STATE_OK);
	assert_non_null(strstr(out, "of 1220 requests"));
	/* what cannot be: a quantile over several series, a URL of another path */
	assert_int_equal(parse(&o, "--namespace shop -m p99", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--namespace: --metric p99 cannot be summed"));
	assert_int_equal(parse(&o, "--pod x -u http://h:1/metrics", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--pod: needs the agent's /api/v1/series"));
	assert_int_equal(parse(&o, "-u http://h:1 --namespace shop", err, sizeof(err)), 0);
	assert_string_equal(o.url, "http://h:1/api/v1/series");
}

static void test_an_agent_that_is_down_is_unknown(void **state)
{
	/* port 1 on loopback: nothing listens there, the connection is refused */
	char *argv[] = { (char *)"check", (char *)"-u", (char *)"http://127.0.0.1:1", NULL };
	char *zargv[] = { (char *)"check", (char *)"-u", (char *)"http://127.0.0.1:1",
			  (char *)"--zabbix", (char *)"good_ratio", NULL };
	char *bad[] = { (char *)"check", (char *)"-w", (char *)"zz", NULL };

	(void)state;
	assert_int_equal(lp_check_main(3, argv), LP_STATE_UNKNOWN);
	assert_int_equal(lp_check_main(5, zargv), 1);
	/* bad arguments: UNKNOWN too (the guidelines), never CRITICAL */
	assert_int_equal(lp_check_main(3, bad), LP_STATE_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges_follow_the_guidelines),
		cmocka_unit_test(test_status_line_and_perfdata),
		cmocka_unit_test(test_states_by_threshold),
		cmocka_unit_test(test_nonsense_is_unknown_with_the_reason),
		cmocka_unit_test(test_zabbix_values_and_discovery),
		cmocka_unit_test(test_bad_arguments_name_the_flag),
		cmocka_unit_test(test_a_namespace_or_a_pod_is_judged_over_its_own_series),
		cmocka_unit_test(test_an_agent_that_is_down_is_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
