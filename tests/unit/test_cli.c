// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Flags, values and SLO specs (userspace/app/cli.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "app/cli.h"
#include "lp_test.h"

static char err[512];

static int parse(struct lp_config *cfg, int argc, const char **argv)
{
	lp_config_defaults(cfg);
	return lp_cli_parse(cfg, argc, (char **)argv, err, sizeof(err), NULL);
}

static void test_defaults_answer_the_get_10ms_question(void **state)
{
	const char *argv[] = { "latprobe" };
	struct lp_config cfg;
	unsigned i, found = 0;

	(void)state;
	assert_int_equal(parse(&cfg, 1, argv), LP_CLI_RUN);
	assert_int_equal(cfg.interval_ns, 5000000000ULL);
	assert_int_equal(cfg.nwindows, 2);
	assert_int_equal(cfg.windows_ns[0], 60000000000ULL);
	assert_int_equal(cfg.windows_ns[1], 300000000000ULL);
	/* the endpoint listens on :18464, all addresses */
	assert_int_equal(cfg.nlisten, 1);
	assert_int_equal(cfg.listen[0].ss_family, AF_INET6);
	assert_int_equal(cfg.schema, 3);
	/* one cgroup takes at most a quarter of the series map */
	assert_int_equal(cfg.max_series_per_cgroup, LP_DEFAULT_MAX_SERIES / 4);
	assert_int_equal(cfg.nslos, 1);
	assert_string_equal(cfg.slos[0].name, "get_10ms");
	assert_int_equal(cfg.slos[0].method, LP_METHOD_GET);
	assert_int_equal(cfg.slos[0].threshold_ns, 10000000ULL);
	assert_close(cfg.slos[0].objective, 0.99, 1e-12);
	/* 100 us..2.5 ms, then OpenTelemetry's; 10 ms is among them, so nothing is added */
	assert_int_equal(cfg.nclassic, LP_DEFAULT_BOUNDS);
	assert_int_equal(cfg.classic_ns[0], 100000ULL);
	assert_int_equal(cfg.classic_ns[LP_OTEL_FIRST], 5000000ULL);
	for (i = 0; i < cfg.nclassic; i++)
		if (cfg.classic_ns[i] == 10000000ULL)
			found = i + 1;
	assert_int_equal(cfg.slos[0].classic_idx + 1, found);
}

static void test_slo_thresholds_become_exact_classic_boundaries(void **state)
{
	const char *argv[] = { "latprobe", "--slo", "method=POST,threshold=7ms,objective=99.9%",
			       "--slo", "name=api,threshold=0.3,objective=0.95,side=server,port=8080" };
	struct lp_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, 5, argv), LP_CLI_RUN);
	assert_int_equal(cfg.nslos, 3);
	assert_string_equal(cfg.slos[1].name, "POST_0.007s");
	assert_close(cfg.slos[1].objective, 0.999, 1e-12);
	assert_int_equal(cfg.slos[2].port, 8080);
	assert_int_equal(cfg.slos[2].side, LP_SIDE_SERVER);
	assert_int_equal(cfg.nclassic, LP_DEFAULT_BOUNDS + 2);
	assert_int_equal(cfg.classic_ns[cfg.slos[1].classic_idx], 7000000ULL);
	assert_int_equal(cfg.classic_ns[cfg.slos[2].classic_idx], 300000000ULL);
	/* sorted */
	assert_int_equal(cfg.classic_ns[LP_OTEL_FIRST], 5000000ULL);
	assert_int_equal(cfg.classic_ns[LP_OTEL_FIRST + 1], 7000000ULL);
}

static void test_buckets_and_no_default_slo(void **state)
{
	const char *argv[] = { "latprobe", "--buckets", "1ms,100ms,1ms,10ms", "--no-default-slo",
			       "--schema", "0", "-p", "80", "-p", "443", "--side", "client", "-m",
			       "HEAD", "-j", "--hist", "-w", "1m", "-w", "5m", "-i", "1s", "-d",
			       "30s", "--client-address", "host" };
	struct lp_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, 26, argv), LP_CLI_RUN);
	assert_int_equal(cfg.client_addr, LP_CLIENT_ADDR_HOST);
	assert_int_equal(cfg.nslos, 0);
	assert_int_equal(cfg.nclassic, 3); /* deduplicated */
	assert_int_equal(cfg.classic_ns[2], 100000000ULL);
	assert_int_equal(cfg.schema, 0);
	assert_int_equal(cfg.nports, 2);
	assert_int_equal(cfg.ports[1], 443);
	assert_int_equal(cfg.side, LP_SIDE_CLIENT);
	assert_int_equal(cfg.method, LP_METHOD_HEAD);
	assert_true(cfg.json);
	assert_true(cfg.hist);
	assert_int_equal(cfg.nwindows, 2);
	assert_int_equal(cfg.windows_ns[1], 300000000000ULL);
	assert_int_equal(cfg.interval_ns, 1000000000ULL);
	assert_int_equal(cfg.duration_ns, 30000000000ULL);
	/* a --duration run does not listen unless asked */
	assert_int_equal(cfg.nlisten, 0);
}

/* every flag, with a bad value: usage error, and the message names flag and value */
static void test_every_bad_flag_value_is_a_usage_error_naming_it(void **state)
{
	static const struct {
		const char *flag, *value, *expect;
	} cases[] = {
		{ "--port", "0", "--port: '0'" },
		{ "--port", "65536", "--port: '65536'" },
		{ "--port", "http", "--port: 'http'" },
		{ "--method", "get", "--method: 'get'" },
		{ "--method", "FOO", "--method: 'FOO'" },
		{ "--side", "both", "--side: 'both'" },
		{ "--schema", "6", "--schema: '6'" },
		{ "--schema", "-1", "--schema: '-1'" },
		{ "--schema", "three", "--schema: 'three'" },
		{ "--buckets", "5ms,abc", "--buckets: 'abc'" },
		{ "--buckets", "0", "--buckets: '0'" },
		{ "--buckets", ",", "--buckets: empty" },
		{ "--max-series", "1", "--max-series: '1'" },
		{ "--max-series", "99999999999", "--max-series: '99999999999'" },
		{ "--max-series-per-cgroup", "-1", "--max-series-per-cgroup: '-1'" },
		{ "--max-series-per-cgroup", "lots", "--max-series-per-cgroup: 'lots'" },
		{ "--max-series-per-cgroup", "0", "" }, /* valid: no cap */
		{ "--service-name-from", "container,image", "--service-name-from: 'image'" },
		{ "--service-name-from", "pod,pod", "--service-name-from: 'pod,pod' names pod twice" },
		{ "--service-name-from", "unit,", "--service-name-from: 'unit,' is not a list" },
		{ "--service-name-from", "", "--service-name-from: '' is not a list" },
		{ "--service-name-from", "process,unit", "" }, /* valid */
		{ "--client-address", "host", "" },
		{ "--client-address", "IP", "--client-address: 'IP' is not host, ip or off" },
		{ "--client-address", "hosts", "--client-address: 'hosts' is not host, ip or off" },
		{ "--client-address", "ip", "" }, /* valid */
		{ "--client-address", "off", "" },
		{ "--slo", "threshold=10ms", "--slo: 'threshold=10ms': threshold= and objective=" },
		{ "--slo", "threshold=10ms,objective=100%", "objective '100%'" },
		{ "--slo", "threshold=fast,objective=99", "threshold 'fast'" },
		{ "--slo", "threshold=1s,objective=99,colour=red", "unknown key 'colour'" },
		{ "--slo", "threshold=1s,objective=99,name=a b", "name 'a b'" },
		{ "--slo", "threshold=1s,objective=99,method=YELL", "unknown method 'YELL'" },
		{ "--slo", "threshold=1s,objective=99,port=0", "port '0'" },
		{ "--slo", "noequals", "'noequals' is not key=value" },
		{ "--interval", "10ms", "--interval: '10ms'" },
		{ "--interval", "5", "" }, /* valid: 5 s */
		{ "--interval", "forever", "--interval: 'forever'" },
		{ "--window", "0.5s", "--window: '0.5s'" },
		{ "--window", "2d", "--window: '2d'" },
		{ "--duration", "0", "--duration: '0'" },
		{ "--duration", "-5s", "--duration: '-5s'" },
		{ "--duration", "18446744000000000000ns", "--duration: '18446744000000000000ns'" },
		{ "--duration", "400d", "--duration: '400d'" },
		{ "--duration", "9000h", "--duration: '9000h'" },
		{ "--slo", "threshold=2h,objective=99", "threshold '2h'" },
		{ "--cgroup", "", "--cgroup: empty" },
		{ "--route", "api", "--route: 'api': expected PREFIX or NAME=PREFIX" },
		{ "--route", "a/b=/x", "--route: 'a/b=/x': a route name" },
		{ "--route", "/a b", "--route: '/a b'" },
		{ "--route", "unrouted=/x", "--route: 'unrouted=/x'" },
		{ "--route", "/api/users", "" }, /* valid */
		{ "--route", "checkout=/api/cart/checkout", "" },
		{ "--exclude-path", "health=/healthz", "--exclude-path: 'health=/healthz'" },
		{ "--exclude-path", "/healthz", "" },
		{ "--routes-file", "/nonexistent/routes", "--routes-file: --routes-file /nonexistent" },
		{ "--routes-file", "", "--routes-file: empty" },
		{ "--slo", "threshold=1s,objective=99,route=/x", "route= needs routes" },
		{ "--slo", "threshold=1s,objective=99,route=/a.B/C", "" }, /* a gRPC method */
		{ "--grpc-methods", "1025", "--grpc-methods: '1025' is not 0..1024" },
		{ "--grpc-methods", "many", "--grpc-methods: 'many' is not 0..1024" },
		{ "--grpc-methods", "0", "" }, /* valid: none */
		{ "--listen", "18464", "--listen: '18464'" },
		{ "--listen", "0.0.0.0:99999", "--listen: '0.0.0.0:99999'" },
		{ "--listen", "[::1:80", "--listen: '[::1:80'" },
		{ "--listen", "host.example:80", "--listen: 'host.example:80'" },
		{ "--listen", "[::1]:18464", "" }, /* valid */
		{ "--web-config", "", "--web-config: empty" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { "latprobe", cases[i].flag, cases[i].value };
		struct lp_config cfg;
		int r = parse(&cfg, 3, argv);

		if (!cases[i].expect[0]) {
			assert_int_equal(r, LP_CLI_RUN);
			continue;
		}
		if (r != LP_CLI_EXIT_USAGE || !strstr(err, cases[i].expect)) {
			print_error("%s %s -> %d '%s', want usage error with '%s'\n", cases[i].flag,
				    cases[i].value, r, err, cases[i].expect);
			fail();
		}
	}
}

static void test_unknown_flags_missing_values_and_stray_arguments(void **state)
{
	const char *a1[] = { "latprobe", "--frobnicate" };
	const char *a2[] = { "latprobe", "--port" };
	const char *a3[] = { "latprobe", "extra" };
	const char *a4[] = { "latprobe", "-x" };
	const char *a5[] = { "latprobe", "--interval", "2m" }; /* longer than the 1m window */
	const char *a6[] = { "latprobe", "--listen", "none", "--listen", ":80" };
	const char *a7[] = { "latprobe", "--listen", "none", "--web-config", "/w.yml" };
	struct lp_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, 2, a1), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "--frobnicate"));
	assert_int_equal(parse(&cfg, 2, a2), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "--port: missing value"));
	assert_int_equal(parse(&cfg, 2, a3), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "'extra'"));
	assert_int_equal(parse(&cfg, 2, a4), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "-x"));
	assert_int_equal(parse(&cfg, 3, a5), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "--interval"));
	assert_int_equal(parse(&cfg, 5, a6), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "'none' and an address"));
	assert_int_equal(parse(&cfg, 5, a7), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "--web-config: no endpoint"));
}

/* every window is checked against the interval, not only the first */
static void test_every_window_is_at_least_the_interval(void **state)
{
	const char *argv[] = { "latprobe", "-i", "30s", "-w", "1m", "-w", "10s" };
	const char *ok[] = { "latprobe", "-i", "10s", "-w", "1m", "-w", "10s" };
	struct lp_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, 7, argv), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "--window: '10s'"));
	assert_non_null(strstr(err, "interval"));
	assert_int_equal(parse(&cfg, 7, ok), LP_CLI_RUN);
}

static void test_too_many_slos_or_boundaries(void **state)
{
	const char *argv[20] = { "latprobe" };
	char specs[8][64];
	struct lp_config cfg;
	int i, argc = 1;

	(void)state;
	for (i = 0; i < 8; i++) {
		snprintf(specs[i], sizeof(specs[i]), "threshold=%dms,objective=99", i + 1);
		argv[argc++] = "--slo";
		argv[argc++] = specs[i];
	}
	assert_int_equal(parse(&cfg, argc, argv), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "at most"));
	/* duplicate names */
	{
		const char *d[] = { "latprobe", "--slo", "name=get_10ms,threshold=1s,objective=9" };

		assert_int_equal(parse(&cfg, 3, d), LP_CLI_EXIT_USAGE);
		assert_non_null(strstr(err, "used twice"));
	}
}

/* route= names a configured route label; the default SLO name carries it */
static void test_slo_by_route(void **state)
{
	const char *ok[] = { "latprobe", "--slo", "method=GET,route=/api/users,threshold=10ms,objective=99%",
			     "--route", "/api/users", "--slo", "route=unrouted,threshold=1s,objective=90%" };
	const char *bad[] = { "latprobe", "--route", "/api", "--slo",
			      "route=/api/users,threshold=10ms,objective=99%" };
	struct lp_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, 7, ok), LP_CLI_RUN);
	assert_int_equal(cfg.nslos, 3);
	assert_string_equal(cfg.slos[1].name, "GET_api_users_0.01s");
	assert_int_equal(cfg.slos[1].route, LP_ROUTE_FIRST);
	assert_string_equal(cfg.slos[2].name, "any_unrouted_1s");
	assert_int_equal(cfg.slos[2].route, LP_ROUTE_UNROUTED);
	assert_int_equal(cfg.slos[0].route, 0);
	assert_int_equal(parse(&cfg, 5, bad), LP_CLI_EXIT_USAGE);
	assert_non_null(strstr(err, "route '/api/users' is not the label of a --route"));
	/* a gRPC method's path is a learned route's label, with routes or without */
	{
		const char *grpc[] = { "latprobe", "--route", "/api", "--slo",
				       "route=/lp.test.Echo/Unary,threshold=10ms,objective=99%" };
		const char *off[] = { "latprobe", "--grpc-methods", "0", "--slo",
				      "route=/lp.test.Echo/Unary,threshold=10ms,objective=99%" };

		assert_int_equal(parse(&cfg, 5, grpc), LP_CLI_RUN);
		assert_int_equal(cfg.slos[1].route, LP_ROUTE_BY_LABEL);
		assert_int_equal(parse(&cfg, 5, off), LP_CLI_EXIT_USAGE);
		assert_non_null(strstr(err, "route= needs routes"));
	}
}

/* a --config file, written for the test: its path */
static const char *config_file(const char *text)
{
	static char path[] = "/tmp/latprobe-test-config-XXXXXX";
	int fd;

	strcpy(path, "/tmp/latprobe-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* the file's settings, then the command line's, parsed; args keeps the strings */
static int parse_with_file(struct lp_config *cfg, struct lp_args *args, const char *text,
			   int argc, const char **rest)
{
	const char *argv[16] = {"latprobe", "--config", config_file(text)};
	int i, r;

	for (i = 0; i < argc; i++)
		argv[3 + i] = rest[i];
	lp_config_defaults(cfg);
	r = lp_cli_args(3 + argc, (char **)argv, args, err, sizeof(err));
	unlink(argv[2]);
	if (r)
		return LP_CLI_EXIT_USAGE;
	return lp_cli_parse(cfg, args->n, args->v, err, sizeof(err), NULL);
}

static void test_a_config_file_holds_what_the_flags_hold(void **state)
{
	static const char text[] = "# the fleet's settings\n"
				   "interval: 2s\n"
				   "quiet: true\n"
				   "json: false\n"
				   "route: [users=/api/users, /api/orders]\n"
				   "exclude-path: /healthz\n"
				   "window: [30s, 2m]\n"
				   "slo:\n"
				   "  - name: checkout\n"
				   "    threshold: 250ms\n"
				   "    objective: 99.9%\n"
				   "    method: POST\n"
				   "  - threshold=25ms,objective=99%,route=users,name=users\n"
				   "service-name-from: workload,process\n";
	struct lp_config cfg;
	struct lp_args args;

	(void)state;
	assert_int_equal(parse_with_file(&cfg, &args, text, 0, NULL), LP_CLI_RUN);
	assert_non_null(cfg.config_file);
	assert_int_equal(cfg.interval_ns, 2000000000ULL);
	assert_true(cfg.quiet);
	assert_false(cfg.json);
	assert_int_equal(cfg.routes.nroutes, 2);
	assert_int_equal(cfg.routes.nexcluded, 1);
	assert_int_equal(cfg.nwindows, 2);
	assert_int_equal(cfg.windows_ns[1], 120000000000ULL);
	assert_int_equal(cfg.nslos, 3); /* get_10ms and the file's two */
	assert_string_equal(cfg.slos[1].name, "checkout");
	assert_int_equal(cfg.slos[1].method, LP_METHOD_POST);
	assert_int_equal(cfg.slos[1].threshold_ns, 250000000ULL);
	assert_close(cfg.slos[1].objective, 0.999, 1e-12);
	assert_string_equal(cfg.slos[2].name, "users");
	assert_int_equal(cfg.slos[2].route, lp_route_id(&cfg.routes, "users"));
	assert_int_equal(cfg.nservice_from, 2);
	assert_int_equal(cfg.service_from[0], LP_SVC_WORKLOAD);
	assert_int_equal(cfg.service_from[1], LP_SVC_PROCESS);
	lp_args_free(&args);
}

/* the command line overrides the file: a value, and a list whole */
static void test_the_command_line_overrides_the_file(void **state)
{
	static const char text[] = "interval: 2s\nroute: [/a, /b]\nport: 80\n";
	const char *rest[] = {"-i", "3s", "--route", "/c"};
	struct lp_config cfg;
	struct lp_args args;

	(void)state;
	assert_int_equal(parse_with_file(&cfg, &args, text, 4, rest), LP_CLI_RUN);
	assert_int_equal(cfg.interval_ns, 3000000000ULL);
	assert_int_equal(cfg.routes.nroutes, 1);
	assert_string_equal(cfg.routes.defs[0].prefix, "/c");
	assert_int_equal(cfg.nports, 1); /* the file's, not overridden */
	assert_int_equal(cfg.ports[0], 80);
	lp_args_free(&args);
}

static void test_a_bad_config_file_names_the_line_and_the_setting(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"interval: 2s\nfoo: 1\n", ":2: unknown setting 'foo'"},
		{"quiet: maybe\n", ":1: quiet: expected true or false"},
		{"interval: [1s, 2s]\n", ":1: interval: takes one value, not a list"},
		{"route: /a\nroute: /b\n", ":2: 'route' given twice"},
		{"config: other.yaml\n", ":1: 'config' belongs on the command line"},
		{"help: true\n", ":1: 'help' belongs on the command line"},
		{"- a\n- b\n", ":1: expected a mapping of settings"},
		{"interval: [1s\n", "YAML"},
		{"interval:\n", ":1: interval: no value"},
		{"slo: {threshold: 5ms, objective: 99%, nope: 1}\n", "unknown key 'nope'"},
		{"interval: 1ms\n", "--interval: '1ms'"},
		{"push: ftp://x\n", "--push"},
	};
	struct lp_config cfg;
	struct lp_args args;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&args, 0, sizeof(args));
		assert_int_equal(parse_with_file(&cfg, &args, bad[i].text, 0, NULL),
				 LP_CLI_EXIT_USAGE);
		if (!strstr(err, bad[i].want))
			fail_msg("%s: '%s' does not say '%s'", bad[i].text, err, bad[i].want);
		lp_args_free(&args);
	}
	/* an empty file sets nothing */
	assert_int_equal(parse_with_file(&cfg, &args, "", 0, NULL), LP_CLI_RUN);
	assert_int_equal(cfg.nslos, 1);
	lp_args_free(&args);
	/* a file that is not there */
	{
		const char *argv[] = {"latprobe", "--config", "/nonexistent/latprobe.yaml"};

		assert_int_not_equal(lp_cli_args(3, (char **)argv, &args, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "/nonexistent/latprobe.yaml: No such file"));
	}
}

static void test_help_and_version_exit_zero(void **state)
{
	const char *h[] = { "latprobe", "--help" };
	const char *v[] = { "latprobe", "-V" };
	struct lp_config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, 2, h), LP_CLI_EXIT_OK);
	assert_int_equal(parse(&cfg, 2, v), LP_CLI_EXIT_OK);
	/* the usage documents every long option */
	assert_non_null(strstr(lp_cli_usage(), "--no-default-slo"));
	assert_non_null(strstr(lp_cli_usage(), "--max-series"));
	assert_non_null(strstr(lp_cli_usage(), "--hist"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_answer_the_get_10ms_question),
		cmocka_unit_test(test_slo_thresholds_become_exact_classic_boundaries),
		cmocka_unit_test(test_buckets_and_no_default_slo),
		cmocka_unit_test(test_every_bad_flag_value_is_a_usage_error_naming_it),
		cmocka_unit_test(test_every_window_is_at_least_the_interval),
		cmocka_unit_test(test_slo_by_route),
		cmocka_unit_test(test_unknown_flags_missing_values_and_stray_arguments),
		cmocka_unit_test(test_too_many_slos_or_boundaries),
		cmocka_unit_test(test_help_and_version_exit_zero),
		cmocka_unit_test(test_a_config_file_holds_what_the_flags_hold),
		cmocka_unit_test(test_the_command_line_overrides_the_file),
		cmocka_unit_test(test_a_bad_config_file_names_the_line_and_the_setting),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
