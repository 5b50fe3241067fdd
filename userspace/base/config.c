// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "base/config.h"

/*
 * The default classic boundaries: OpenTelemetry's for HTTP durations (5 ms
 * to 10 s, so `le` values match what its SDKs export), and below them the
 * same 1-2.5-5 ladder down to 100 us, where node-local and LAN services
 * answer (nginx on loopback: p50 0.05 ms, p99 0.24 ms). README.md
 * ("Histograms") says why and what each boundary costs.
 */
const __u64 lp_default_bounds_ns[LP_DEFAULT_BOUNDS] = {
	100000ULL,     250000ULL,     500000ULL,     1000000ULL,     2500000ULL,
	5000000ULL,    10000000ULL,   25000000ULL,   50000000ULL,    75000000ULL,
	100000000ULL,  250000000ULL,  500000000ULL,  750000000ULL,   1000000000ULL,
	2500000000ULL, 5000000000ULL, 7500000000ULL, 10000000000ULL,
};

void lp_config_defaults(struct lp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_ns = 5000000000ULL;
	cfg->windows_ns[0] = 60000000000ULL;
	cfg->windows_ns[1] = 300000000000ULL;
	cfg->nwindows = 2;
	cfg->schema = LP_SCHEMA_DEFAULT;
	cfg->max_series = LP_DEFAULT_MAX_SERIES;
	cfg->tls = true;
	cfg->tls_sessions = LP_TLS_SESSIONS_DEFAULT;
	cfg->cgroup_cap_level = LP_CAP_LEVEL_AUTO;
	cfg->tls_scan_ns = 5000000000ULL;
	cfg->grpc_methods = LP_GRPC_METHODS_DEFAULT;
}
