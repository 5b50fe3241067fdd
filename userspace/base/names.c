// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/names.h"

const struct lp_quantile lp_quantiles[LP_NQUANTILES] = {
	{0.5, "0.5", "p50", "p50"},
	{0.9, "0.9", "p90", "p90"},
	{0.99, "0.99", "p99", "p99"},
	{0.999, "0.999", "p99.9", "p999"},
};

const struct lp_counter_name lp_counters[LP_CNT_MAX] = {
	[LP_CNT_REQUESTS] = {"requests", "latprobe_requests_started",
			     "Request starts that began a timing."},
	[LP_CNT_UNTIMED] = {"untimed", "latprobe_requests_untimed",
			    "Requests seen but not timed: a start split across segments, or more "
			    "than 4 pipelined."},
	[LP_CNT_ORPHAN_RESPONSES] = {"orphan_responses", "latprobe_responses_orphaned",
				     "Response starts with no request pending."},
	[LP_CNT_UNANSWERED] =
		{"unanswered", "latprobe_requests_unanswered",
		 "Requests whose connection was closed or reset before their response ended: "
		 "each request waiting and a response unfinished (HTTP/2: each open stream)."},
	[LP_CNT_INTERIM] =
		{"interim_responses", "latprobe_responses_interim",
		 "Interim 1xx responses (not 101); the timing waited for the final one."},
	[LP_CNT_UPGRADED] =
		{"upgraded", "latprobe_connections_upgraded",
		 "101 Switching Protocols or a CONNECT tunnel: connections no longer tracked."},
	[LP_CNT_RETRANSMITS] = {"retransmits_ignored", "latprobe_retransmits_ignored",
				"TCP segments with already-seen sequence numbers, ignored."},
	[LP_CNT_OVERFLOW] = {"overflow_samples", "latprobe_overflow_samples",
			     "Samples folded into the overflow series because the map was full."},
	[LP_CNT_LOST] = {"lost_samples", "latprobe_lost_samples",
			 "Samples lost because even the overflow series was missing."},
	[LP_CNT_STORAGE_FAILED] = {"storage_failures", "latprobe_storage_failures",
				   "Per-socket state that could not be created."},
	[LP_CNT_SERIES_ALLOC] =
		{"series_alloc_failures", "latprobe_series_alloc_failures",
		 "Samples folded into the overflow series because a new series could not be "
		 "allocated at that instant and the spill ring was full."},
	[LP_CNT_UNFRAMED] = {"unframed_responses", "latprobe_responses_unframed",
			     "Responses to timed requests whose end could not be framed (head "
			     "split or too long, coding not understood, more messages in a segment "
			     "than the agent reads): counted, never sampled."},
	[LP_CNT_DISCARDED] = {"discarded_samples", "latprobe_samples_discarded",
			      "Samples discarded as impossible (negative, or over a day)."},
	[LP_CNT_BUSY] =
		{"busy_skipped", "latprobe_segments_skipped_busy",
		 "Segments not framed: both per-CPU working slots were in use (nested programs), "
		 "or the segment's sequence update lost 128 races in a row to another CPU."},
	[LP_CNT_SPILLED] =
		{"spilled_samples", "latprobe_samples_spilled",
		 "Samples whose series could not be allocated at that instant, kept in the spill "
		 "ring and added to their own series by user space (none lost)."},
	[LP_CNT_TLS_FULL] = {"tls_sessions_full", "latprobe_tls_sessions_untracked",
			     "Times a TLS session could not be tracked because the session map "
			     "was full (--tls-sessions): at its setup, and at each request start "
			     "on it."},
	[LP_CNT_TLS_NO_SOCKET] =
		{"tls_no_socket", "latprobe_tls_samples_without_socket",
		 "HTTPS requests timed on sessions whose socket is unknown (the TLS library was "
		 "given a BIO, not a file descriptor), one each whatever --ttfb adds: recorded "
		 "with server_port 0 and no network_type."},
	[LP_CNT_H2_RESET] = {"h2_streams_reset", "latprobe_h2_streams_reset",
			     "HTTP/2 streams ended by RST_STREAM before their response ended, or "
			     "left unprocessed by the server's GOAWAY: counted, not sampled."},
	[LP_CNT_H2_UNKNOWN] =
		{"h2_streams_unresolved", "latprobe_h2_streams_unresolved",
		 "HTTP/2 streams not timed because their :method or :status referred to an "
		 "HPACK table entry the agent cannot know (made before it saw the connection, "
		 "or forgotten): never given a guessed label."},
	[LP_CNT_H2_LOST] = {"h2_connections_lost", "latprobe_h2_connections_unfollowed",
			    "HTTP/2 connections whose frames could no longer be followed (more "
			    "frames in a segment than the agent reads, a protocol error); their "
			    "waiting streams are counted untimed."},
	[LP_CNT_H2C] = {"h2c_upgrades", "latprobe_h2c_upgrades",
			"HTTP/1.1 connections upgraded to HTTP/2 in cleartext (Upgrade: h2c "
			"answered 101) and followed on as HTTP/2; the request that asked is "
			"stream 1, timed to the end of its HTTP/2 response."},
	[LP_CNT_TLS_LIBS_PROBED] = {"tls_libraries_probed", "latprobe_tls_libraries_probed",
				    "OpenSSL libraries (libssl files) the TLS uprobes were "
				    "attached to."},
	[LP_CNT_UNPAIRED] =
		{"unpaired_requests", "latprobe_requests_unpaired",
		 "Requests not timed because a response's framing was lost while they waited on "
		 "their connection (pipelining): which response answers which is no longer "
		 "certain until every request has had one."},
	[LP_CNT_GRPC_INVALID] =
		{"grpc_status_invalid", "latprobe_grpc_status_invalid",
		 "gRPC calls whose grpc-status was no status code (not 0 to 16): no sample, "
		 "never a guessed status."},
	[LP_CNT_NOT_HTTP] =
		{"not_http_connections", "latprobe_connections_not_http",
		 "Connections whose first payload (either direction) could begin nothing HTTP: "
		 "no request, response, TLS record, HTTP/2 preface or SETTINGS, PROXY header. "
		 "Marked once; their later segments are not read."},
	[LP_CNT_UNDECIDED] =
		{"undecided_segments", "latprobe_segments_undecided",
		 "Payload segments of connections without state whose first payload went by "
		 "before the agent (met mid-stream), classified again because such a connection "
		 "cannot be decided not HTTP. Falls as the connections from before the agent "
		 "close."},
	[LP_CNT_TLS_HITS] =
		{"tls_probe_hits", "latprobe_tls_probe_hits",
		 "Runs of the TLS uprobe programs, in every process that calls the probed libssl "
		 "(outside the --cgroup scope too: the trap comes before any check): each "
		 "SSL_read, SSL_write, SSL_shutdown call traps into the kernel "
		 "on entry and on return, SSL_set_fd, SSL_clear, SSL_free on entry. Divided by the "
		 "requests over TLS, the traps a request costs (--no-tls: none)."},
	[LP_CNT_PEER_FOLDED] =
		{"client_addresses_folded", "latprobe_client_addresses_folded",
		 "Client-side samples (--client-address ip) of an address new to a cgroup already "
		 "over its share of series (--max-series-per-cgroup): recorded with "
		 "server_address=\"other\"."},
	[LP_CNT_PEERS6_FULL] =
		{"client_v6_addresses_full", "latprobe_client_v6_addresses_full",
		 "Client-side segments (--client-address ip) to an IPv6 address first called after "
		 "4096 addresses were numbered: recorded with server_address=\"other\"."},
	[LP_CNT_GRPC_PAST_CAP] =
		{"grpc_methods_past_cap", "latprobe_grpc_methods_past_cap",
		 "HTTP/2 requests to a gRPC method first seen after --grpc-methods methods were "
		 "learned: recorded without rpc_method (a --route names it)."},
	[LP_CNT_HOST_UNUSABLE] =
		{"client_hosts_unusable", "latprobe_client_hosts_unusable",
		 "Client requests (--client-address host) whose Host header is no host name (an "
		 "IP literal in brackets, bytes outside a name, longer than 63): named by the "
		 "address called."},
	[LP_CNT_HOSTS_FULL] =
		{"client_hosts_full", "latprobe_client_hosts_full",
		 "Client connections (--client-address host) to a host first called after 4096 "
		 "hosts were numbered: recorded with server_address=\"other\"."},
	[LP_CNT_H2_REORDERED] =
		{"h2_segments_out_of_order", "latprobe_h2_segments_out_of_order",
		 "Received HTTP/2 segments that came ahead of bytes not yet seen (loss, "
		 "reordering; on loopback, the segment before still queued on another CPU under "
		 "load). Unless the gap lies inside a DATA frame, the connection can no longer be "
		 "followed (h2_connections_lost)."},
	[LP_CNT_TLS_LIBS_FAILED] =
		{"tls_libraries_unprobed", "latprobe_tls_libraries_unprobed",
		 "Libraries named libssl.so* in processes in scope that could not be probed "
		 "(no SSL_read/SSL_write/SSL_free symbol: stripped or not OpenSSL; or no "
		 "uprobes): HTTPS through them is not seen. Each is logged once."},
};

static const char *const method_names[LP_METHOD_COUNT] = {
	[LP_METHOD_NONE] = "_OTHER",	 [LP_METHOD_GET] = "GET",
	[LP_METHOD_HEAD] = "HEAD",	 [LP_METHOD_POST] = "POST",
	[LP_METHOD_PUT] = "PUT",	 [LP_METHOD_DELETE] = "DELETE",
	[LP_METHOD_CONNECT] = "CONNECT", [LP_METHOD_OPTIONS] = "OPTIONS",
	[LP_METHOD_TRACE] = "TRACE",	 [LP_METHOD_PATCH] = "PATCH",
};

const char *lp_protocol_version(const struct lp_key *key)
{
	return key->flags & LP_KEY_H2 ? "2" : "1.1";
}

const char *lp_method_name(__u8 method)
{
	return method < LP_METHOD_COUNT ? method_names[method] : "_OTHER";
}

const char *lp_status_label(const struct lp_key *key, char *buf, size_t len)
{
	if (key->flags & LP_KEY_CG_OVERFLOW)
		snprintf(buf, len, "other");
	else if (key->flags & LP_KEY_STATUS_CLASS)
		snprintf(buf, len, "%uxx", key->status / 100);
	else
		snprintf(buf, len, "%u", key->status);
	return buf;
}

const char *lp_side_name(__u8 side)
{
	return side == LP_SIDE_SERVER ? "server" : side == LP_SIDE_CLIENT ? "client" : "any";
}

int lp_parse_method(const char *s, __u8 *method)
{
	__u8 m;

	for (m = LP_METHOD_GET; m < LP_METHOD_COUNT; m++) {
		if (!strcmp(s, method_names[m])) {
			*method = m;
			return 0;
		}
	}
	return -EINVAL;
}

int lp_parse_side(const char *s, __u8 *side)
{
	if (!strcmp(s, "server"))
		*side = LP_SIDE_SERVER;
	else if (!strcmp(s, "client"))
		*side = LP_SIDE_CLIENT;
	else
		return -EINVAL;
	return 0;
}

void lp_format_window(char *buf, size_t len, unsigned long long ns)
{
	unsigned long long s = ns / 1000000000ULL, h = s / 3600, m = (s % 3600) / 60;
	size_t n = 0;

	buf[0] = '\0';
	if (h)
		n += (size_t)snprintf(buf + n, len - n, "%lluh", h);
	if (m && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%llum", m);
	if ((s % 60 || !n) && n < len)
		snprintf(buf + n, len - n, "%llus", s % 60);
}
