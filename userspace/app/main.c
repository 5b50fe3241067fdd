// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * latprobe: load, attach, collect every interval, report; until the duration
 * ends or SIGINT/SIGTERM. One thread, one poll loop (timerfd + signalfd);
 * main() is the steps: resolve (what needs no privilege), attach (load,
 * attach, drop privileges), start_exporters (collector, sinks, endpoint),
 * run_loop.
 *
 * Layer app/ (CONTRIBUTING.md, "Layout"), the top: the command line (cli), the check
 * plugin (check) and main wire the layers below together; nothing includes
 * app/ but the tests.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>
#include <curl/curl.h>

#include "base/util.h"
#include "app/check.h"
#include "app/cli.h"
#include "app/reload_check.h"
#include "core/collector.h"
#include "core/engine.h"
#include "core/hist.h"
#include "core/labels.h"
#include "core/probe.h"
#include "core/cgroup.h"
#include "core/tls.h"
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

struct agent;
static unsigned agent_push_stats(struct agent *a, struct lp_push_stat *out, unsigned max);

/* the sinks' figures for the endpoint's self metrics (the endpoint's threads) */
static unsigned push_stats(void *ctx, struct lp_push_stat *out, unsigned max)
{
	return agent_push_stats(ctx, out, max);
}

static int source_read(void *ctx, lp_series_cb cb, void *cbctx)
{
	return lp_probe__read(ctx, cb, cbctx);
}

static int source_counters(void *ctx, __u64 out[LP_CNT_MAX])
{
	return lp_probe__counters(ctx, out);
}

static int source_retire(void *ctx, const struct lp_key *key, lp_series_cb cb, void *cbctx)
{
	return lp_probe__retire(ctx, key, cb, cbctx);
}

static int source_cgroups(void *ctx, lp_cgroup_cb cb, void *cbctx)
{
	return lp_probe__cgroups(ctx, cb, cbctx);
}

static int source_excluded(void *ctx, __u64 *out, unsigned n)
{
	return lp_probe__excluded(ctx, out, n);
}

static int source_grpc_methods(void *ctx)
{
	return lp_probe__grpc_methods(ctx);
}

static int source_peers6(void *ctx)
{
	return lp_probe__peers6(ctx);
}

static int source_hosts(void *ctx)
{
	return lp_probe__hosts(ctx);
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

/* a configuration a reload applied, with the arguments its strings point into */
struct gen {
	struct lp_config cfg;
	struct lp_args args;
	struct lp_cfg_ref ref;
};

static void gen_release(void *ctx)
{
	struct gen *g = ctx;

	lp_args_free(&g->args);
	free(g);
}

/* everything the agent holds while it runs, released by agent_free */
struct agent {
	struct lp_config
		cfg; /* as started: what the kernel side and the endpoint were set up with */
	struct lp_args args; /* the arguments cfg's strings point into (--config's included) */
	int argc;
	char **argv;
	const struct lp_config *live; /* the configuration in force: cfg, or a reload's */
	struct lp_fine_table ft;
	struct lp_webconfig wc;
	struct lp_user user;
	bool switch_user;
	char mount[4096], cgpath[4096], kept[160];
	struct lp_probe *probe;
	struct lp_tls_child tls; /* the TLS scanner (core/tls.h) */
	struct lp_engine_helper engine; /* the container names reader (core/engine.h) */
	struct lp_labels *labels;
	struct lp_source src;
	struct lp_collector *coll;
	struct lp_pushers *pushers; /* replaced by a reload: under plock */
	pthread_mutex_t plock;
	struct lp_server *server;
	__u64 start;
	struct stat config_st; /* --watch-config: the file as last read */
};

/* has --config FILE changed since it was last read? (a ConfigMap swaps its link) */
static bool config_changed(struct agent *a)
{
	struct stat st;
	bool changed;

	if (stat(a->cfg.config_file, &st))
		memset(&st, 0, sizeof(st)); /* gone for now: a change when it is back */
	changed = st.st_ino != a->config_st.st_ino || st.st_dev != a->config_st.st_dev ||
		  st.st_size != a->config_st.st_size ||
		  st.st_mtim.tv_sec != a->config_st.st_mtim.tv_sec ||
		  st.st_mtim.tv_nsec != a->config_st.st_mtim.tv_nsec;
	a->config_st = st;
	return changed && st.st_ino;
}

static unsigned agent_push_stats(struct agent *a, struct lp_push_stat *out, unsigned max)
{
	unsigned n;

	pthread_mutex_lock(&a->plock);
	n = lp_pushers__stats(a->pushers, out, max);
	pthread_mutex_unlock(&a->plock);
	return n;
}

/*
 * What needs no privilege to decide: the cgroup, the user, the web config.
 * 0, or the exit status (1: the node; 2: the configuration).
 */
static int resolve(struct agent *a)
{
	char err[512];
	int e = lp_cgroup2_mount(a->mount, sizeof(a->mount));

	if (e) {
		fprintf(stderr,
			"latprobe: no cgroup v2 mount found in /proc/self/mountinfo: %s "
			"(mount one: mount -t cgroup2 none /sys/fs/cgroup/unified)\n",
			strerror(-e));
		return 1;
	}
	if (!a->cfg.cgroup)
		snprintf(a->cgpath, sizeof(a->cgpath), "%s", a->mount);
	else if (lp_cgroup_resolve(a->cfg.cgroup, a->mount, a->cgpath, sizeof(a->cgpath), err,
				   sizeof(err))) {
		fprintf(stderr, "latprobe: %s\n", err);
		return 1;
	}
	if (a->cfg.cgroup) {
		/* the TLS programs' scope: the cgroup's id (its inode) and depth */
		struct stat st;
		const char *q = a->cgpath + strlen(a->mount);

		if (!stat(a->cgpath, &st))
			a->cfg.scope_cgid = st.st_ino;
		for (; *q; q++)
			if (*q == '/' && q[1] && q[1] != '/')
				a->cfg.scope_level++;
	}
	if (a->cfg.user && lp_user_lookup(a->cfg.user, &a->user)) {
		fprintf(stderr, "latprobe: --user: no such user '%s'\n", a->cfg.user);
		return 2;
	}
	a->switch_user = a->cfg.user ? true : lp_user_default(&a->user) == 1;
	/* a bad web config is a bad configuration: exit 2, naming the file */
	if (a->cfg.web_config && lp_webconfig_load(a->cfg.web_config, &a->wc, err, sizeof(err))) {
		fprintf(stderr, "latprobe: %s\n", err);
		return 2;
	}
	/* tests only: drive the spill ring on demand (CONTRIBUTING.md, "Tests") */
	if (getenv("LATPROBE_TEST_SPILL_EVERY"))
		a->cfg.spill_test_every =
			(unsigned)strtoul(getenv("LATPROBE_TEST_SPILL_EVERY"), NULL, 10);
	return 0;
}

/* load and attach the programs, name the listeners, then drop privileges: 0 or -errno */
static int attach(struct agent *a)
{
	char err[512];
	int e = lp_fine_table_init(&a->ft, a->cfg.schema);

	if (e) {
		fprintf(stderr, "latprobe: failed to build the bucket table: %s\n", strerror(-e));
		return e;
	}
	e = lp_probe__load(&a->probe, &a->cfg, &a->ft, err, sizeof(err));
	if (!e)
		e = lp_probe__attach(a->probe, a->cgpath, err, sizeof(err));
	if (e) {
		flush_libbpf_log(e);
		fprintf(stderr, "latprobe: %s\n", err);
		return e;
	}
	libbpf_log_len = 0;
	/* name the services listening now, while /proc of other processes is readable */
	a->labels = lp_labels__new(a->mount);
	if (a->labels) {
		lp_labels__prime(a->labels);
		lp_labels__set_service_from(a->labels, a->cfg.service_from, a->cfg.nservice_from);
		/* the watched cgroup relative to the mount, as the labels' paths are */
		if (lp_labels__set_k8s_root(a->labels, a->cfg.k8s_root ? a->cfg.k8s_root : "/",
					    a->cgpath + strlen(a->mount)))
			fprintf(stderr, "latprobe: no memory for --k8s-root: pod names off\n");
	}
	/* HTTPS: the library scanner, a child that keeps what it needs to make uprobes */
	if (lp_probe__tls(a->probe)) {
		e = lp_tls_start(&a->tls, a->probe, &a->cfg, a->mount, a->cgpath,
				 a->switch_user ? &a->user : NULL);
		if (e)
			fprintf(stderr,
				"latprobe: TLS: cannot start the library scanner: %s; "
				"HTTPS is not seen\n",
				strerror(-e));
	}
	/* Docker/Podman names: their state is root's alone; a helper reads it */
	e = lp_engine_helper_start(&a->engine, a->cfg.k8s_root ? a->cfg.k8s_root : "/",
				   a->switch_user ? &a->user : NULL);
	if (e < 0)
		fprintf(stderr,
			"latprobe: cannot start the container names reader: %s; Docker and "
			"Podman containers keep their ids\n",
			strerror(-e));
	else if (e > 0 && a->labels) {
		lp_labels__set_engine_helper(a->labels, &a->engine);
		fprintf(stderr, "latprobe: container names: Docker/Podman state read by a helper "
				"that keeps cap_dac_read_search alone\n");
	}
	/* attached: from here on the agent only reads (before any thread starts) */
	e = lp_privs_drop(a->switch_user ? &a->user : NULL, low_port(&a->cfg), maps_readable,
			  a->probe, a->kept, sizeof(a->kept), err, sizeof(err));
	if (e)
		fprintf(stderr, "latprobe: %s\n", err);
	return e;
}

/* the collector, its first collection, the push sinks and the endpoint: 0 or -errno */
static int start_exporters(struct agent *a)
{
	char err[512];
	int e;

	a->start = lp_mono_ns();
	a->src = (struct lp_source){.read = source_read,
				    .counters = source_counters,
				    .excluded = source_excluded,
				    .grpc_methods = source_grpc_methods,
				    .peers6 = source_peers6,
				    .hosts = source_hosts,
				    .cgroups = source_cgroups,
				    .retire = source_retire,
				    .ctx = a->probe,
				    .nfine = lp_probe__nfine(a->probe)};
	a->coll = lp_collector__new(&a->cfg, &a->ft, &a->src, a->labels, a->start);
	if (!a->labels || !a->coll) {
		fprintf(stderr, "latprobe: out of memory\n");
		return -ENOMEM;
	}
	/* a first collection right away: the endpoint is ready once it ran */
	lp_collector__tick(a->coll, lp_mono_ns());
	if (a->cfg.npush) {
		/* parsed by the command line, before the privilege drop: no secret
		 * file is read again by a user that may not read it */
		a->pushers =
			lp_pushers__start(a->cfg.push_cfg, a->cfg.npush, a->coll, err, sizeof(err));
		if (!a->pushers) {
			fprintf(stderr, "latprobe: %s\n", err);
			return -EINVAL;
		}
		fprintf(stderr, "latprobe: pushing to %u sink%s\n", a->cfg.npush,
			a->cfg.npush > 1 ? "s" : "");
	}
	if (a->cfg.nlisten) {
		e = lp_server__start(&a->server, &a->cfg, a->coll,
				     a->cfg.web_config ? &a->wc : NULL, push_stats, a, err,
				     sizeof(err));
		if (e) {
			fprintf(stderr, "latprobe: %s\n", err);
			return e;
		}
		fprintf(stderr, "latprobe: serving /metrics on %u address%s%s\n", a->cfg.nlisten,
			a->cfg.nlisten > 1 ? "es" : "", a->wc.cert_pem ? " (TLS)" : "");
	}
	/* the last start-up line: everything is attached, collected once and listening */
	fprintf(stderr, "latprobe: dropped privileges%s%s%s; capabilities kept: %s\n",
		a->switch_user ? ", now user " : "", a->switch_user ? a->user.name : "",
		a->switch_user && a->user.uid == 0 ? " (uid 0 kept: --user root)" : "", a->kept);
	fprintf(stderr,
		"latprobe: attached cgroup_skb ingress+egress to %s (schema %u, %u classic "
		"buckets, "
		"%u SLOs)\n",
		a->cgpath, a->cfg.schema, a->cfg.nclassic, a->cfg.nslos);
	return 0;
}

static void tick(struct agent *a)
{
	int e = lp_collector__tick(a->coll, lp_mono_ns());

	if (e)
		fprintf(stderr, "latprobe: collection incomplete: %s\n", strerror(-e));
}

/* the sinks replaced by the reload's, their figures carried over: 0 or -errno */
static int reload_sinks(struct agent *a, const struct lp_config *n, char *err, size_t errlen)
{
	struct lp_push_stat st[LP_MAX_PUSH];
	struct lp_pushers *p = NULL, *old;
	unsigned ns, i;
	bool same = n->npush == a->live->npush;

	for (i = 0; same && i < n->npush; i++)
		same = !memcmp(&n->push_cfg[i], &a->live->push_cfg[i], sizeof(n->push_cfg[i]));
	if (same)
		return 0;
	if (n->npush) {
		p = lp_pushers__start(n->push_cfg, n->npush, a->coll, err, errlen);
		if (!p)
			return -EINVAL;
	}
	ns = agent_push_stats(a, st, LP_MAX_PUSH);
	lp_pushers__adopt(p, st, ns);
	pthread_mutex_lock(&a->plock);
	old = a->pushers;
	a->pushers = p;
	pthread_mutex_unlock(&a->plock);
	lp_pushers__stop(old);
	return 0;
}

/*
 * SIGHUP: read --config and the command line again, and apply SLOs,
 * routes, exclusions, filters, sinks and output settings without detaching
 * or resetting a counter. A file that does not parse, or that changes what
 * only a restart can, is refused whole: the running configuration stays.
 * 0, or -errno with err saying why.
 */
static int reload(struct agent *a, char *err, size_t errlen)
{
	const struct lp_config *cur = a->live;
	struct gen *g = calloc(1, sizeof(*g));
	unsigned i;
	int e;

	if (!g)
		return lp_errf(-ENOMEM, err, errlen, "out of memory");
	lp_config_defaults(&g->cfg);
	g->cfg.reuse = cur;
	e = lp_cli_args(a->argc, a->argv, &g->args, err, errlen);
	if (!e && lp_cli_parse(&g->cfg, g->args.n, g->args.v, err, errlen, NULL) != LP_CLI_RUN)
		e = -EINVAL;
	g->cfg.reuse = NULL;
	if (e)
		goto fail;
	g->cfg.scope_cgid = cur->scope_cgid;
	g->cfg.scope_level = cur->scope_level;
	g->cfg.spill_test_every = cur->spill_test_every;
	e = lp_reload_check(&g->cfg, cur, err, errlen);
	if (e)
		goto fail;
	/* route labels and exclusions keep their ids; SLOs find theirs again */
	e = lp_routes_carry(&g->cfg.routes, &cur->routes, err, errlen);
	if (e)
		goto fail;
	for (i = 0; i < g->cfg.nslos; i++)
		if (g->cfg.slos[i].route_label[0])
			g->cfg.slos[i].route = lp_route_slo_id(
				&g->cfg.routes, g->cfg.slos[i].route_label, g->cfg.grpc_methods);
	e = lp_probe__set_routes(a->probe, &g->cfg.routes, &cur->routes, err, errlen);
	if (e) {
		char ignored[256];

		lp_probe__set_routes(a->probe, &cur->routes, &g->cfg.routes, ignored,
				     sizeof(ignored));
		goto fail;
	}
	e = reload_sinks(a, &g->cfg, err, errlen);
	if (!e) {
		g->ref.cfg = &g->cfg;
		g->ref.release = gen_release;
		g->ref.ctx = g;
		e = lp_collector__reconfigure(a->coll, &g->ref);
	}
	if (e) {
		char ignored[256];

		lp_probe__set_routes(a->probe, &cur->routes, &g->cfg.routes, ignored,
				     sizeof(ignored));
		if (e == -ENOMEM)
			lp_errf(e, err, errlen, "out of memory");
		goto fail;
	}
	a->live = &g->cfg;
	verbose = g->cfg.verbose;
	return 0;
fail:
	lp_args_free(&g->args);
	free(g);
	return e;
}

static void on_sighup(struct agent *a)
{
	char err[512];
	unsigned excl;
	int e;

	if (!a->cfg.config_file) {
		fprintf(stderr, "latprobe: SIGHUP: started without --config, nothing to re-read\n");
		return;
	}
	config_changed(a); /* what is read now is the baseline of --watch-config */
	e = reload(a, err, sizeof(err));
	lp_collector__note_reload(a->coll, !e, lp_wall_s());
	excl = a->live->routes.nexcluded -
	       (unsigned)__builtin_popcountll(a->live->routes.gone_mask);
	/* the outcome is in a model (and the metrics) before the log line says so */
	tick(a);
	if (e)
		fprintf(stderr,
			"latprobe: reload of %s refused, the running configuration is kept: %s\n",
			a->cfg.config_file, err);
	else
		fprintf(stderr,
			"latprobe: reloaded %s: %u SLO%s, %u route%s, %u excluded path%s, %u "
			"sink%s\n",
			a->cfg.config_file, a->live->nslos, a->live->nslos == 1 ? "" : "s",
			a->live->routes.nroutes, a->live->routes.nroutes == 1 ? "" : "s", excl,
			excl == 1 ? "" : "s", a->live->npush, a->live->npush == 1 ? "" : "s");
}

/*
 * Collect every interval until a signal or --duration, then once more and
 * report: 0, or -errno. Signals come from a signalfd (blocked in main).
 */
static int run_loop(struct agent *a, const sigset_t *mask)
{
	struct itimerspec its = {0};
	struct pollfd pfd[2];
	__u64 end = a->cfg.duration_ns ? a->start + a->cfg.duration_ns : 0;
	int sfd = signalfd(-1, mask, SFD_CLOEXEC),
	    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	int e = 0, r;

	its.it_value.tv_sec = (time_t)(a->cfg.interval_ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(a->cfg.interval_ns % 1000000000ULL);
	its.it_interval = its.it_value;
	if (sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL)) {
		e = -errno;
		fprintf(stderr, "latprobe: failed to create the event loop: %s\n", strerror(errno));
		goto out;
	}
	pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = tfd, .events = POLLIN};
	for (;;) {
		__u64 now = lp_mono_ns(), expirations;
		struct signalfd_siginfo si;

		if (end && now >= end)
			break;
		r = poll(pfd, 2, end ? (int)((end - now + 999999) / 1000000) : -1);
		if (r < 0 && errno != EINTR) {
			e = -errno;
			fprintf(stderr, "latprobe: poll: %s\n", strerror(errno));
			goto out;
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				on_sighup(a);
				continue;
			}
			if (verbose)
				fprintf(stderr, "latprobe: %s, stopping\n",
					strsignal((int)si.ssi_signo));
			break;
		}
		if (r > 0 && (pfd[1].revents & POLLIN)) {
			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				continue;
			if (a->live->watch_config && config_changed(a)) {
				fprintf(stderr, "latprobe: %s changed\n", a->cfg.config_file);
				on_sighup(a);
			}
			tick(a);
			/* with --duration, JSON is one document at the end */
			if (!(a->live->json && a->live->duration_ns))
				report(a->live, a->coll);
		}
	}
	/* a last collection, so what happened since the last tick is reported too */
	tick(a);
	if (report(a->live, a->coll)) {
		e = -EIO;
		fprintf(stderr, "latprobe: failed to write the report: %s\n", strerror(errno));
	}
out:
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	return e;
}

static void agent_free(struct agent *a)
{
	lp_server__stop(a->server);
	lp_pushers__stop(a->pushers);
	/* the last model, and with it a reloaded configuration, go with the collector */
	lp_collector__free(a->coll);
	lp_labels__free(a->labels);
	lp_tls_stop(&a->tls);
	lp_engine_helper_stop(&a->engine);
	lp_probe__destroy(a->probe);
	lp_fine_table_free(&a->ft);
	lp_webconfig_free(&a->wc);
	lp_args_free(&a->args);
	pthread_mutex_destroy(&a->plock);
}

int main(int argc, char **argv)
{
	static struct agent a; /* large (paths): not on the stack */
	char err[512];
	sigset_t mask;
	int r;

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
	lp_config_defaults(&a.cfg);
	pthread_mutex_init(&a.plock, NULL);
	a.argc = argc;
	a.argv = argv;
	a.live = &a.cfg;
	/* --config FILE's settings, then the command line's */
	if (lp_cli_args(argc, argv, &a.args, err, sizeof(err))) {
		fprintf(stderr, "latprobe: %s\n", err);
		return 2;
	}
	r = lp_cli_parse(&a.cfg, a.args.n, a.args.v, err, sizeof(err), print_out);
	if (r == LP_CLI_EXIT_OK)
		return 0;
	if (r == LP_CLI_RUN && a.cfg.config_file)
		config_changed(&a); /* the file as read: --watch-config's baseline */
	if (r == LP_CLI_EXIT_USAGE) {
		fprintf(stderr, "latprobe: %s\nTry 'latprobe --help'.\n", err);
		return 2;
	}
	verbose = a.cfg.verbose;
	libbpf_set_print(libbpf_print);
	r = resolve(&a);
	if (r)
		return r;
	/* signals are read from a signalfd: block them before anything else */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP); /* a reload, never the end */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = attach(&a);
	if (!r)
		r = start_exporters(&a);
	if (!r)
		r = run_loop(&a, &mask);
	agent_free(&a);
	return r ? 1 : 0;
}
