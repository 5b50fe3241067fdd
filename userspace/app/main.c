// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * latprobe: load, attach, collect every interval, report; until the duration
 * ends or SIGINT/SIGTERM. One thread, one poll loop (timerfd + signalfd).
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>
#include <curl/curl.h>

#include "base/util.h"
#include "app/check.h"
#include "app/cli.h"
#include "core/collector.h"
#include "core/hist.h"
#include "core/labels.h"
#include "core/probe.h"
#include "sinks/push.h"
#include "core/privs.h"
#include "export/report.h"
#include "export/server.h"
#include "export/webconfig.h"

static bool verbose;
/*
 * libbpf's warnings, held back unless -v: a verifier log helps when loading
 * fails for a reason of the program's; for a missing privilege it only
 * buries the one line that says what to do.
 */
static char libbpf_log[65536];
static size_t libbpf_log_len;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	int n;

	if (verbose)
		return vfprintf(stderr, fmt, args);
	if (level != LIBBPF_WARN || libbpf_log_len >= sizeof(libbpf_log) - 1)
		return 0;
	n = vsnprintf(libbpf_log + libbpf_log_len, sizeof(libbpf_log) - libbpf_log_len, fmt, args);
	if (n > 0)
		libbpf_log_len += (size_t)n;
	if (libbpf_log_len >= sizeof(libbpf_log))
		libbpf_log_len = sizeof(libbpf_log) - 1;
	return n;
}

/* after a failed load or attach: libbpf's details, unless the cause is plain privilege */
static void flush_libbpf_log(int e)
{
	if (e != -EPERM && e != -EACCES && libbpf_log_len)
		fprintf(stderr, "%s", libbpf_log);
	libbpf_log_len = 0;
}

static void print_out(const char *text)
{
	fputs(text, stdout);
}

/* the sinks' figures for the endpoint's self metrics */
static unsigned push_stats(void *ctx, struct lp_push_stat *out, unsigned max)
{
	return lp_pushers__stats(ctx, out, max);
}

static int source_read(void *ctx, lp_series_cb cb, void *cbctx)
{
	return lp_probe__read(ctx, cb, cbctx);
}

static int source_counters(void *ctx, __u64 out[LP_CNT_MAX])
{
	return lp_probe__counters(ctx, out);
}

static bool maps_readable(void *ctx)
{
	__u64 c[LP_CNT_MAX];

	return lp_probe__counters(ctx, c) == 0;
}

static bool low_port(const struct lp_config *cfg)
{
	unsigned i;

	for (i = 0; i < cfg->nlisten; i++)
		if (ntohs(((const struct sockaddr_in *)&cfg->listen[i])->sin_port) < 1024)
			return true;
	return false;
}

static int report(const struct lp_config *cfg, struct lp_collector *coll)
{
	struct lp_model *m = lp_collector__model(coll);
	int e = 0;

	if (!m)
		return 0;
	if (cfg->json)
		e = lp_report_json(stdout, m);
	else if (!cfg->quiet)
		lp_report_table(stdout, m, cfg->hist);
	lp_model_put(m);
	return e;
}

int main(int argc, char **argv)
{
	struct lp_fine_table ft = { 0 };
	struct lp_collector *coll = NULL;
	struct lp_labels *labels = NULL;
	struct lp_probe *probe = NULL;
	struct lp_server *server = NULL;
	struct lp_pushers *pushers = NULL;
	struct lp_webconfig wc = { 0 };
	struct lp_user user;
	bool switch_user;
	struct lp_source src;
	struct lp_config cfg;
	char err[512], mount[4096], cgpath[4096], kept[160];
	struct itimerspec its = { 0 };
	struct pollfd pfd[2];
	int tfd = -1, sfd = -1, r, exit_code = 1, e;
	__u64 start, end = 0, now;
	sigset_t mask;

	/* the monitoring plugin: no BPF, no privileges, no agent state */
	if (argc > 1 && !strcmp(argv[1], "check"))
		return lp_check_main(argc - 1, argv + 1);

	/*
	 * A scrape body of many series is megabytes: give such buffers their own
	 * mappings, returned to the kernel when freed, instead of letting glibc's
	 * adaptive threshold keep them in the heap of each server thread's arena.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_ARENA_MAX, 2);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread */
	lp_config_defaults(&cfg);
	r = lp_cli_parse(&cfg, argc, argv, err, sizeof(err), print_out);
	if (r == LP_CLI_EXIT_OK)
		return 0;
	if (r == LP_CLI_EXIT_USAGE) {
		fprintf(stderr, "latprobe: %s\nTry 'latprobe --help'.\n", err);
		return 2;
	}
	verbose = cfg.verbose;
	libbpf_set_print(libbpf_print);

	e = lp_cgroup2_mount(mount, sizeof(mount));
	if (e) {
		fprintf(stderr,
			"latprobe: no cgroup v2 mount found in /proc/self/mountinfo: %s "
			"(mount one: mount -t cgroup2 none /sys/fs/cgroup/unified)\n",
			strerror(-e));
		return 1;
	}
	if (cfg.cgroup) {
		if (lp_cgroup_resolve(cfg.cgroup, mount, cgpath, sizeof(cgpath), err, sizeof(err))) {
			fprintf(stderr, "latprobe: %s\n", err);
			return 1;
		}
	} else {
		snprintf(cgpath, sizeof(cgpath), "%s", mount);
	}

	if (cfg.user && lp_user_lookup(cfg.user, &user)) {
		fprintf(stderr, "latprobe: --user: no such user '%s'\n", cfg.user);
		return 2;
	}
	switch_user = cfg.user ? true : lp_user_default(&user) == 1;
	/* a bad web config is a bad configuration: exit 2, naming the file */
	if (cfg.web_config && lp_webconfig_load(cfg.web_config, &wc, err, sizeof(err))) {
		fprintf(stderr, "latprobe: %s\n", err);
		return 2;
	}

	/* signals are read from a signalfd: block them before anything else */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* tests only: drive the spill ring on demand (README, "Tests") */
	if (getenv("LATPROBE_TEST_SPILL_EVERY"))
		cfg.spill_test_every = (unsigned)strtoul(getenv("LATPROBE_TEST_SPILL_EVERY"), NULL,
							 10);
	e = lp_fine_table_init(&ft, cfg.schema);
	if (e) {
		fprintf(stderr, "latprobe: failed to build the bucket table: %s\n", strerror(-e));
		goto out;
	}
	e = lp_probe__load(&probe, &cfg, &ft, err, sizeof(err));
	if (!e)
		e = lp_probe__attach(probe, cgpath, err, sizeof(err));
	if (e) {
		flush_libbpf_log(e);
		fprintf(stderr, "latprobe: %s\n", err);
		goto out;
	}
	libbpf_log_len = 0;
	/* name the services listening now, while /proc of other processes is readable */
	labels = lp_labels__new(mount);
	if (labels)
		lp_labels__prime(labels);
	/* attached: from here on the agent only reads (before any thread starts) */
	e = lp_privs_drop(switch_user ? &user : NULL, low_port(&cfg), maps_readable, probe, kept,
			  sizeof(kept), err, sizeof(err));
	if (e) {
		fprintf(stderr, "latprobe: %s\n", err);
		goto out;
	}
	start = lp_mono_ns();

	src = (struct lp_source){ .read = source_read, .counters = source_counters,
				  .ctx = probe, .nfine = lp_probe__nfine(probe) };
	coll = lp_collector__new(&cfg, &ft, &src, labels, start);
	if (!labels || !coll) {
		fprintf(stderr, "latprobe: out of memory\n");
		goto out;
	}
	/* a first collection right away: the endpoint is ready once it ran */
	lp_collector__tick(coll, lp_mono_ns());
	if (cfg.npush) {
		/* parsed by the command line, before the privilege drop: no secret
		 * file is read again by a user that may not read it */
		pushers = lp_pushers__start(cfg.push_cfg, cfg.npush, coll, err, sizeof(err));
		if (!pushers) {
			fprintf(stderr, "latprobe: %s\n", err);
			goto out;
		}
		fprintf(stderr, "latprobe: pushing to %u sink%s\n", cfg.npush,
			cfg.npush > 1 ? "s" : "");
	}
	if (cfg.nlisten) {
		e = lp_server__start(&server, &cfg, coll, cfg.web_config ? &wc : NULL,
				     pushers ? push_stats : NULL, pushers, err, sizeof(err));
		if (e) {
			fprintf(stderr, "latprobe: %s\n", err);
			goto out;
		}
		fprintf(stderr, "latprobe: serving /metrics on %u address%s%s\n", cfg.nlisten,
			cfg.nlisten > 1 ? "es" : "", wc.cert_pem ? " (TLS)" : "");
	}
	/* the last start-up line: everything is attached, collected once and listening */
	fprintf(stderr, "latprobe: dropped privileges%s%s%s; capabilities kept: %s\n",
		switch_user ? ", now user " : "", switch_user ? user.name : "",
		switch_user && user.uid == 0 ? " (uid 0 kept: --user root)" : "", kept);
	fprintf(stderr,
		"latprobe: attached cgroup_skb ingress+egress to %s (schema %u, %u classic buckets, "
		"%u SLOs)\n",
		cgpath, cfg.schema, cfg.nclassic, cfg.nslos);

	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (sfd < 0 || tfd < 0) {
		fprintf(stderr, "latprobe: failed to create the event loop: %s\n", strerror(errno));
		goto out;
	}
	its.it_value.tv_sec = (time_t)(cfg.interval_ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(cfg.interval_ns % 1000000000ULL);
	its.it_interval = its.it_value;
	timerfd_settime(tfd, 0, &its, NULL);
	if (cfg.duration_ns)
		end = start + cfg.duration_ns;

	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = tfd, .events = POLLIN };
	for (;;) {
		int timeout = -1;

		now = lp_mono_ns();
		if (end) {
			if (now >= end)
				break;
			timeout = (int)((end - now + 999999) / 1000000);
		}
		r = poll(pfd, 2, timeout);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "latprobe: poll: %s\n", strerror(errno));
			goto out;
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si) && verbose)
				fprintf(stderr, "latprobe: %s, stopping\n", strsignal((int)si.ssi_signo));
			break;
		}
		if (r > 0 && (pfd[1].revents & POLLIN)) {
			__u64 expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				continue;
			e = lp_collector__tick(coll, lp_mono_ns());
			if (e)
				fprintf(stderr, "latprobe: collection incomplete: %s\n", strerror(-e));
			/* with --duration, JSON is one document at the end */
			if (!(cfg.json && cfg.duration_ns))
				report(&cfg, coll);
		}
	}
	/* a last collection, so what happened since the last tick is reported too */
	e = lp_collector__tick(coll, lp_mono_ns());
	if (e)
		fprintf(stderr, "latprobe: collection incomplete: %s\n", strerror(-e));
	if (report(&cfg, coll)) {
		fprintf(stderr, "latprobe: failed to write the report: %s\n", strerror(errno));
		goto out;
	}
	exit_code = 0;
out:
	lp_server__stop(server);
	lp_pushers__stop(pushers);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	lp_collector__free(coll);
	lp_labels__free(labels);
	lp_probe__destroy(probe);
	lp_fine_table_free(&ft);
	lp_webconfig_free(&wc);
	return exit_code;
}
