// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's own metrics: what it reads of itself in /proc, and how it writes them (writer.h). */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "export/writer.h"
#include "export/self.h"
#include "version.h"

static const struct family f_build = {"latprobe_build_info",
				      "latprobe's version and histogram layout.", F_INFO, NULL};

struct self_family {
	struct family f;
	double value;
};

/* the push sinks' own figures, a sample per sink */
static void emit_push(struct writer *s, const struct lp_self *self)
{
	static const struct family f_req = {"latprobe_push_requests",
					    "Pushes to each sink, by result.", F_COUNTER, NULL};
	static const struct family f_drop = {"latprobe_push_dropped",
					     "Snapshots dropped unsent: the sink's queue was full.",
					     F_COUNTER, NULL};
	static const struct family f_skip = {
		"latprobe_push_lines_skipped",
		"DogStatsD lines longer than the sink's max_size, left out of the push.", F_COUNTER,
		NULL};
	static const struct family f_last = {
		"latprobe_push_last_success_timestamp_seconds",
		"When a push to the sink last succeeded, unix seconds.", F_GAUGE, "seconds"};
	static const struct family f_dur = {"latprobe_push_duration_seconds",
					    "Time the last push to the sink took.", F_GAUGE,
					    "seconds"};
	unsigned i, r;

	if (!self->npush)
		return;
	begin(s, &f_req);
	for (i = 0; i < self->npush; i++)
		for (r = 0; r < 2; r++) {
			struct label l[2] = {{"sink", self->push[i].name},
					     {"result", r ? "failure" : "success"}};

			sample(s, l, 2, (double)(r ? self->push[i].failed : self->push[i].ok));
		}
	end_family(s);
	begin(s, &f_drop);
	for (i = 0; i < self->npush; i++) {
		struct label l = {"sink", self->push[i].name};

		sample(s, &l, 1, (double)self->push[i].dropped);
	}
	end_family(s);
	begin(s, &f_skip);
	for (i = 0; i < self->npush; i++) {
		struct label l = {"sink", self->push[i].name};

		sample(s, &l, 1, (double)self->push[i].skipped);
	}
	end_family(s);
	begin(s, &f_last);
	for (i = 0; i < self->npush; i++) {
		struct label l = {"sink", self->push[i].name};

		sample(s, &l, 1, self->push[i].last_success);
	}
	end_family(s);
	begin(s, &f_dur);
	for (i = 0; i < self->npush; i++) {
		struct label l = {"sink", self->push[i].name};

		sample(s, &l, 1, self->push[i].last_duration_s);
	}
	end_family(s);
}

/* the configuration reloads (SIGHUP with --config), as Prometheus reports its own */
static void emit_reloads(struct writer *s, const struct lp_model *m)
{
	static const struct family f_ok = {
		"latprobe_config_last_reload_successful",
		"Whether the last reload of the configuration file applied (1) or was refused, "
		"the running configuration kept (0); 1 before any.",
		F_GAUGE, NULL};
	static const struct family f_when = {
		"latprobe_config_last_reload_success_timestamp_seconds",
		"When the running configuration was applied (start-up or reload), unix seconds.",
		F_GAUGE, "seconds"};
	static const struct family f_n = {"latprobe_config_reloads",
					  "Reloads of the configuration file, by result.",
					  F_COUNTER, NULL};
	unsigned r;

	begin(s, &f_ok);
	sample(s, NULL, 0, m->reloads.last_ok ? 1 : 0);
	end_family(s);
	begin(s, &f_when);
	sample(s, NULL, 0, m->reloads.last_ok_wall);
	end_family(s);
	begin(s, &f_n);
	for (r = 0; r < 2; r++) {
		struct label l = {"result", r ? "failure" : "success"};

		sample(s, &l, 1, (double)(r ? m->reloads.failed : m->reloads.ok));
	}
	end_family(s);
}

void lp_emit_self(struct writer *s, const struct lp_model *m, const struct lp_self *self)
{
	const struct lp_config *cfg = m ? m->cfg : NULL;
	char ver_schema[8];
	size_t i;

	snprintf(ver_schema, sizeof(ver_schema), "%u", cfg ? cfg->schema : 0);
	{
		struct label l[3] = {{"version", LATPROBE_VERSION},
				     {"revision", LATPROBE_REVISION},
				     {"schema", ver_schema}};

		begin(s, &f_build);
		s->ops->sample(s, l, cfg ? 3 : 2, 1, 0);
		end_family(s);
	}
	if (self) {
		const struct self_family fams[] = {
			{{"process_cpu_seconds", "Total user and system CPU time spent in seconds.",
			  F_COUNTER, NULL},
			 self->cpu_seconds},
			{{"process_resident_memory_bytes", "Resident memory size in bytes.",
			  F_GAUGE, NULL},
			 self->resident_bytes},
			{{"process_virtual_memory_bytes", "Virtual memory size in bytes.", F_GAUGE,
			  NULL},
			 self->virtual_bytes},
			{{"process_open_fds", "Number of open file descriptors.", F_GAUGE, NULL},
			 self->open_fds},
			{{"process_max_fds", "Maximum number of open file descriptors.", F_GAUGE,
			  NULL},
			 self->max_fds},
			{{"process_start_time_seconds",
			  "Start time of the process since unix epoch in seconds.", F_GAUGE, NULL},
			 self->start_time},
			{{"latprobe_series",
			  "Series in the kernel map, the overflow series included.", F_GAUGE, NULL},
			 m ? (double)m->nseries_all : 0},
			{{"latprobe_series_limit", "Series the kernel map holds (--max-series).",
			  F_GAUGE, NULL},
			 (double)self->max_series},
			{{"latprobe_series_retired",
			  "Series retired from the kernel map (--retire-after), still exported "
			  "with "
			  "the totals they left with.",
			  F_GAUGE, NULL},
			 m ? (double)m->retired : 0},
			{{"latprobe_series_retirements",
			  "Series retirements so far; a retired series that comes back goes on "
			  "from "
			  "its totals (latprobe_series_returns_total).",
			  F_COUNTER, NULL},
			 m ? (double)m->retirements : 0},
			{{"latprobe_series_returns", "Retired series that came back.", F_COUNTER,
			  NULL},
			 m ? (double)m->returns : 0},
			{{"latprobe_series_forgotten",
			  "Retired series that stayed idle for another --retire-after and left "
			  "the agent's memory and exports (back later: from zero).",
			  F_COUNTER, NULL},
			 m ? (double)m->forgotten : 0},
			{{"latprobe_map_read_errors", "Failed reads of the kernel maps.", F_COUNTER,
			  NULL},
			 m ? (double)m->read_errors : 0},
			{{"latprobe_collections", "Collections of the kernel maps so far.",
			  F_COUNTER, NULL},
			 m ? (double)m->seq : 0},
			{{"latprobe_collection_duration_seconds",
			  "Time the last collection of the kernel maps took.", F_GAUGE, "seconds"},
			 m ? m->collect_s : 0},
			{{"latprobe_collection_series_read",
			  "Series whose values the last collection read from the kernel: those "
			  "with samples since the one before, or all of them (new series, and "
			  "every 5 minutes).",
			  F_GAUGE, NULL},
			 m ? (double)m->series_read : 0},
			{{"latprobe_last_collection_timestamp_seconds",
			  "When the last collection ran, unix seconds.", F_GAUGE, "seconds"},
			 m ? m->wall : 0},
			{{"latprobe_scrapes", "Scrapes of /metrics served.", F_COUNTER, NULL},
			 (double)self->scrapes},
			{{"latprobe_scrape_cache_hits",
			  "Scrapes of /metrics that reused the series part of another scrape: "
			  "gzip, of the same collection or of one after which nothing it shows "
			  "changed; uncompressed, of a scrape still being sent (only the agent's "
			  "own metrics were built anew).",
			  F_COUNTER, NULL},
			 (double)self->scrape_cache_hits},
			{{"latprobe_scrape_failures",
			  "Scrapes of /metrics or /api/v1/series answered 500 because the body "
			  "could not be built (out of memory).",
			  F_COUNTER, NULL},
			 (double)self->scrape_failures},
			{{"latprobe_scrape_duration_seconds",
			  "Time the previous scrape of /metrics took to build its body.", F_GAUGE,
			  "seconds"},
			 self->last_scrape_s},
			{{"latprobe_http_errors",
			  "HTTP requests to the agent answered with an error.", F_COUNTER, NULL},
			 (double)self->http_errors},
			{{"latprobe_http_slow_connections_closed",
			  "Connections to the agent closed because a request head did not arrive "
			  "whole within 10 s, or to make room while connections ran short.",
			  F_COUNTER, NULL},
			 (double)self->slow_closed},
			{{"latprobe_http_logins_limited",
			  "Basic-auth requests refused unchecked (429): their address failed too "
			  "often.",
			  F_COUNTER, NULL},
			 (double)self->auth_limited},
			{{"latprobe_http_logins_busy",
			  "Basic-auth requests refused unchecked (503): too many checks waiting.",
			  F_COUNTER, NULL},
			 (double)self->auth_busy},
		};

		for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
			begin(s, &fams[i].f);
			sample(s, NULL, 0, fams[i].value);
			end_family(s);
		}
		if (m)
			emit_reloads(s, m);
		emit_push(s, self);
	}
}

/* the boot time, read once: scrapes on several HTTP threads ask for it */
static double boot_time;
static pthread_once_t boot_once = PTHREAD_ONCE_INIT;

static void read_boot_time(void)
{
	char buf[256];
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %lf", &boot_time) == 1)
			break;
	fclose(f);
}

void lp_self_read(struct lp_self *s)
{
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char buf[1024], *p;
	unsigned long utime, stime, vsize;
	unsigned long long start;
	long rss;
	struct rlimit rl;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int n = 0;

	pthread_once(&boot_once, read_boot_time);
	f = fopen("/proc/self/stat", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2,
			   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d "
			   "%*d "
			   "%*d %llu %lu %ld",
			   &utime, &stime, &start, &vsize, &rss) == 5) {
			s->cpu_seconds = (double)(utime + stime) / (double)tck;
			s->start_time = boot_time + (double)start / (double)tck;
			s->virtual_bytes = (double)vsize;
			s->resident_bytes = (double)rss * (double)page;
		}
		fclose(f);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
		s->open_fds = n - 1; /* not counting the directory being read */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		s->max_fds = (double)rl.rlim_cur;
}
