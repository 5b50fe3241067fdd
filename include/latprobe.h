/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel/user contract of latprobe.
 *
 * Used by: bpf/latprobe.bpf.c (writes these structs into its maps) and
 * userspace/core/probe.c, userspace/core/collector.c (read them back), plus the tests.
 * Fixed-width types only and explicit padding, so both sides agree byte for
 * byte; userspace/core/probe.c holds the _Static_asserts on the sizes.
 */
#ifndef LATPROBE_H
#define LATPROBE_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * Fine histogram: the bucket boundaries of a Prometheus native histogram /
 * OpenTelemetry exponential histogram of schema s, in seconds:
 * bucket key k covers (2^((k-1)/2^s), 2^(k/2^s)].
 * The kernel keeps the keys from 2^LP_FINE_LOW_EXP s to 2^LP_FINE_HIGH_EXP s:
 *   slot 0            the zero bucket, v <= 2^LP_FINE_LOW_EXP s (about 954 ns)
 *   slot 1 .. N       key k = slot + LP_FINE_LOW_EXP * 2^s, N = LP_FINE_OCTAVES << s
 *   slot N + 1        overflow, v > 2^LP_FINE_HIGH_EXP s (about 68 minutes)
 */
#define LP_FINE_LOW_EXP	   (-20)
#define LP_FINE_HIGH_EXP   12
#define LP_FINE_OCTAVES	   (LP_FINE_HIGH_EXP - LP_FINE_LOW_EXP)
#define LP_SCHEMA_MAX	   5
#define LP_SCHEMA_DEFAULT  3
/* boundaries of slots 1..N; a power of two so the search index can be masked */
#define LP_FINE_BOUNDS_MAX (LP_FINE_OCTAVES << LP_SCHEMA_MAX)
#define LP_FINE_SLOTS(schema) ((LP_FINE_OCTAVES << (schema)) + 2)

/* Classic buckets: exact counters at boundaries given at load time (ns, "le"). */
#define LP_CLASSIC_MAX 32 /* boundaries; slot LP_CLASSIC_MAX-1 at most is +Inf */

enum lp_side {
	LP_SIDE_SERVER = 1, /* request in, response out */
	LP_SIDE_CLIENT = 2, /* request out, response in */
};

enum lp_method {
	LP_METHOD_NONE = 0,
	LP_METHOD_GET,
	LP_METHOD_HEAD,
	LP_METHOD_POST,
	LP_METHOD_PUT,
	LP_METHOD_DELETE,
	LP_METHOD_CONNECT,
	LP_METHOD_OPTIONS,
	LP_METHOD_TRACE,
	LP_METHOD_PATCH,
	LP_METHOD_COUNT,
};

#define LP_KEY_OVERFLOW 0x1 /* lp_key.flags: samples that did not fit the map */
#define LP_KEY_TTFB	0x2 /* lp_key.flags: time to the response's first byte (--ttfb) */
/* a cgroup over its share of series (--max-series-per-cgroup): its new statuses by class */
#define LP_KEY_STATUS_CLASS 0x4 /* status is 100, 200, ... 500 for 1xx ... 5xx */
/* ... and past that, the cgroup's own overflow series: only cgroup_id, side, family set */
#define LP_KEY_CG_OVERFLOW 0x8
/* HTTP inside TLS, read through the TLS library's uprobes: the url_scheme label is https */
#define LP_KEY_TLS 0x10
/* HTTP/2 (include/lp_h2.h): the network_protocol_version label is 2, else 1.1 */
#define LP_KEY_H2 0x20
/* lp_key.peer is a host name's number in the "hosts" map (--client-address host) */
#define LP_KEY_HOST 0x40

/*
 * Per-cgroup accounting of series (the "cgroups" map): how many a cgroup
 * created, and the samples folded because it was over its share. A cgroup
 * over --max-series-per-cgroup series gets its new series' statuses folded
 * into classes (at most LP_CG_CLASS_EXTRA more series), then into an
 * overflow series of its own: one noisy tenant never pushes another
 * service's new series into the map-wide overflow.
 */
#define LP_CG_MAX	   4096 /* cgroups accounted (an LRU: the least recent is forgotten) */
#define LP_CG_CLASS_EXTRA 32	/* status-class series a cgroup may add past its share */
/* lp_key.peer of a cgroup over its share: its new addresses called, together ("other") */
#define LP_PEER_OTHER	   0xffffffffu
/*
 * IPv6 addresses clients called (--client-address ip) the kernel numbers:
 * an IPv6 series' lp_key.peer is its address's number (1..), user space
 * reads the address in the "peers6" map
 */
#define LP_PEERS6_MAX 4096

/*
 * --client-address: what names a client-side series' server (lp_key.peer).
 * With HOST, a connection whose first request names a host (its Host
 * header, HTTP/2's :authority; include/lp_host.h) has that name's number
 * in the "hosts" map (LP_KEY_HOST set); any other, its address as with IP.
 */
enum lp_client_addr {
	LP_CLIENT_ADDR_OFF = 0,
	LP_CLIENT_ADDR_IP,
	LP_CLIENT_ADDR_HOST,
};

/* host names clients called the kernel numbers (the "hosts" map) */
#define LP_HOSTS_MAX 4096
#define LP_HOST_LEN  64 /* a key's bytes: a name of 63 at most, zero-filled */

/* a host name, lowercase, without its port (lp_key.peer's number in "hosts") */
struct lp_host_key {
	union {
		__u8 b[LP_HOST_LEN];
		__u64 w[LP_HOST_LEN / 8]; /* the same bytes, a word at a time */
	};
};

/* an IPv6 address (lp_key.peer's number in the "peers6" map) */
struct lp_addr6 {
	__u32 w[4]; /* network order, as the socket has it */
};

struct lp_cg {
	__u64 series;	    /* series it created (status-class series included) */
	__u64 folded_class; /* samples put in a status-class series */
	__u64 folded_over;  /* samples put in its own overflow series */
};

/*
 * One series of the per-CPU histogram map. 24 bytes, no implicit padding
 * (the map's hash takes 12 bytes a round: 24 cost what 16 did).
 */
struct lp_key {
	__u64 cgroup_id; /* cgroup v2 id of the socket (0 in the overflow series) */
	__u16 port;	 /* host order: local port (server), remote port (client) */
	__u16 status;	 /* HTTP status code, 100..599 */
	__u8 side;	 /* enum lp_side */
	__u8 method;	 /* enum lp_method */
	__u8 family;	 /* 4 or 6: IP version of the packets */
	__u8 flags;	 /* LP_KEY_* */
	__u16 route;	 /* LP_ROUTE_* (include/lp_route.h): 0 without --route */
	__u8 grpc;	 /* a gRPC call's status code + 1 (LP_GRPC_*); 0: not gRPC */
	__u8 pad0;
	__u32 peer;	 /* client side, --client-address ip: the IPv4 address the socket
			  * was connected to (network order); IPv6, its number in the
			  * "peers6" map (LP_PEERS6_MAX); with LP_KEY_HOST, its host
			  * name's number in the "hosts" map; 0: none (off) */
};

/*
 * lp_key.grpc: a gRPC call (an HTTP/2 stream whose response ended with a
 * grpc-status, include/lp_h2.h) has its status code (0 OK ... 16
 * UNAUTHENTICATED) + 1 there; plain HTTP is 0. LP_GRPC_BAD and
 * LP_GRPC_UNKNOWN are the kernel side's own, never in a key.
 */
#define LP_GRPC_NONE	0
#define LP_GRPC_CODES	17   /* codes 0..16 (the gRPC status codes) */
#define LP_GRPC_BAD	0xfe /* a grpc-status that is no code: counted, no sample */
#define LP_GRPC_UNKNOWN 0xff /* a reference that may have been grpc-status: counted, no sample */

/*
 * Per-CPU value of a series. The map's value size is set at load time to
 * lp_value_size(schema): the fine array has LP_FINE_SLOTS(schema) entries.
 * There is no count field: the count is the sum of the classic slots, so a
 * reader always sees +Inf equal to the count.
 */
struct lp_value {
	__u64 sum_ns;
	__u64 classic[LP_CLASSIC_MAX]; /* non-cumulative; slot nr_classic is +Inf */
	__u64 fine[];
};

static inline __u32 lp_value_size(__u32 schema)
{
	return sizeof(struct lp_value) + LP_FINE_SLOTS(schema) * sizeof(__u64);
}

/* Indices of the per-CPU counter array: what did not become a sample, and why. */
enum lp_counter {
	LP_CNT_REQUESTS = 0,	/* request starts that began a timing */
	LP_CNT_UNTIMED,		/* requests seen that could not be timed (split start, queue full) */
	LP_CNT_ORPHAN_RESPONSES, /* response starts with no request pending */
	LP_CNT_UNANSWERED,	/* requests waiting, or answered unfinished, at a close or reset */
	LP_CNT_INTERIM,		/* 1xx interim responses (not 101): passed over */
	LP_CNT_UPGRADED,	/* 101 Switching Protocols or a CONNECT tunnel: no longer tracked */
	LP_CNT_RETRANSMITS,	/* segments with already-seen sequence numbers, ignored */
	LP_CNT_OVERFLOW,	/* samples folded into the overflow series (map full) */
	LP_CNT_LOST,		/* samples lost: even the overflow series was missing */
	LP_CNT_STORAGE_FAILED,	/* per-socket state could not be created */
	LP_CNT_SERIES_ALLOC,	/* samples folded into the overflow series: a new series
				 * could not be allocated at that instant (a burst) */
	LP_CNT_UNFRAMED,	/* timed responses whose end could not be framed: no sample */
	LP_CNT_DISCARDED,	/* samples discarded as impossible (negative or over a day) */
	LP_CNT_BUSY,		/* segments skipped: the CPU's working memory was in use, or
				 * their sequence update lost every race (lp_seq_take) */
	LP_CNT_SPILLED,		/* samples whose series could not be allocated at that
				 * instant, kept in the spill ring: none lost */
	LP_CNT_TLS_FULL,	/* a TLS session's setup or request start found the session map full */
	LP_CNT_TLS_NO_SOCKET,	/* HTTPS samples of a session whose socket is unknown
				 * (the library was given no fd): server_port 0 */
	LP_CNT_H2_RESET,	/* HTTP/2 streams ended by RST_STREAM: not sampled */
	LP_CNT_H2_UNKNOWN,	/* HTTP/2 streams untimed: their :method or :status referred to
				 * a table entry from before the agent (or forgotten) */
	LP_CNT_H2_LOST,		/* HTTP/2 connections no longer followed (a segment with more
				 * frames than the steps, a cut header block, a protocol error) */
	LP_CNT_H2C,		/* HTTP/1.1 connections upgraded to h2c (101) and followed as HTTP/2 */
	/* counted by user space (the TLS scanner), never by the programs: */
	LP_CNT_TLS_LIBS_PROBED, /* libssl files the TLS programs were attached to */
	LP_CNT_TLS_LIBS_FAILED, /* libssl files that could not be probed (no symbols, ...) */
	LP_CNT_UNPAIRED,	/* requests not timed: an earlier response's framing was lost
				 * while they waited, their responses cannot be paired */
	LP_CNT_GRPC_INVALID,	/* gRPC calls whose grpc-status was no status code: no sample */
	LP_CNT_NOT_HTTP,	/* connections decided not HTTP by their first payload: marked,
				 * their later segments pass at the cost of one lookup */
	LP_CNT_UNDECIDED,	/* segments of connections met mid-stream (their first payload
				 * was before the agent), classified again: not HTTP yet */
	LP_CNT_TLS_HITS,	/* runs of the TLS uprobe programs: each probed SSL_* call traps
				 * once on entry, reads and writes once more on return */
	LP_CNT_H2_REORDERED,	/* received HTTP/2 segments that came ahead of bytes not yet
				 * followed and waited out their bound (lp_h2_wait) */
	LP_CNT_PEER_FOLDED,	/* client samples of a new address of a cgroup over its share:
				 * folded into its "other" address (LP_PEER_OTHER) */
	LP_CNT_PEERS6_FULL,	/* client segments to an IPv6 address first called after
				 * LP_PEERS6_MAX were numbered: server_address "other" */
	LP_CNT_GRPC_PAST_CAP,	/* HTTP/2 requests to a gRPC method past --grpc-methods learned:
				 * in the series without a method */
	LP_CNT_HOST_UNUSABLE,	/* client requests (--client-address host) whose Host is no
				 * host name: named by the address called */
	LP_CNT_HOSTS_FULL,	/* client connections to a host first called after LP_HOSTS_MAX
				 * were numbered: server_address "other" */
	LP_CNT_MAX,
};

/* room for every counter in a verdict (include/lp_conn.h), a multiple of 8 */
#define LP_CNT_VERDICT ((LP_CNT_MAX + 7) & ~7)

/*
 * The counters live in two maps: "counters" (per-CPU array, one __u64 per
 * enum lp_counter) for the rare paths, and at the start of each value of
 * "slots" (the per-CPU working memory, LP_SLOTS entries: __u64
 * counters[LP_CNT_MAX] first) for the common one. User space adds both.
 */
#define LP_SLOTS 2

/*
 * The spill ring: a sample whose series cannot be created at that instant
 * (in a burst of new series the kernel allocator's per-CPU cache can run
 * dry: -ENOMEM, gone a moment later) is not folded into the overflow series
 * but kept here, whole, for user space to add to its own series at the next
 * collection. One ring per CPU and working slot, so each has one writer:
 * "spill" holds the entries, "spill_head" (per CPU, per slot) how many were
 * ever written; "spill_tail" (a plain array, cpu * LP_SLOTS + slot) how many
 * user space consumed. The kernel writes an entry, then the head; user space
 * reads the heads, then the entries (a syscall apart), then writes the
 * tails. Only a full ring folds into the overflow series (counted in
 * LP_CNT_SERIES_ALLOC as before).
 */
#define LP_SPILL 1024 /* 24 KiB per CPU and slot (bench/RESULTS.md: why not fewer) */

struct lp_spill_entry {
	struct lp_key key;
	__u64 ns;
};

struct lp_spill {
	struct lp_spill_entry e[LP_SPILL];
};

/*
 * Changed-only collection. Each sample sets its series' bit in a bitmap
 * (the kernel's global lp_dirty[], memory-mapped by user space); at each
 * collection user space swaps the words that have bits set to zero and
 * reads the values of only the series whose bit was set. Series share a bit
 * when their keys hash to it: a shared bit costs an extra read, never a
 * missed one. The kernel also counts the series it creates (lp_new_series):
 * user space knows only the keys it has read, so a new one means a read of
 * the whole map (as do spilled samples, and every 5 minutes a read of all as
 * a safety net).
 */
#define LP_DIRTY_WORDS 1024 /* 65 536 bits, 8 KiB */

static __always_inline __u32 lp_dirty_bit(const struct lp_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = w[0] * 0x9e3779b97f4a7c15ULL ^ w[1] * 0xc2b2ae3d27d4eb4fULL ^
		  w[2] * 0x165667b19e3779f9ULL;

	/* the product's high bits depend on all of the word's: take 16 of them */
	return (__u32)(h >> 48) & (LP_DIRTY_WORDS * 64 - 1);
}

/*
 * HTTPS (the TLS library's uprobes). The uprobe on SSL_read, SSL_read_ex,
 * SSL_write, SSL_write_ex and SSL_shutdown carries which one it is as its
 * attach cookie; a TLS session's state is keyed by the library's SSL
 * object and the process.
 */
enum lp_tls_call_kind {
	LP_TLS_READ = 0,
	LP_TLS_READ_EX,
	LP_TLS_WRITE,
	LP_TLS_WRITE_EX,
	LP_TLS_SHUTDOWN,
};

struct lp_tls_key {
	__u64 ssl;  /* the SSL object's address in the process */
	__u32 tgid; /* the process */
	__u32 pad;
};

#define LP_TLS_SESSIONS_DEFAULT 16384

/*
 * The kernel fields the SSL_set_fd probe follows from the current task to
 * the socket of a file descriptor, by offset (user space reads them from
 * the kernel's BTF; 0: unknown). sock's fields are those of its first
 * member, struct sock_common.
 */
enum lp_koff {
	LP_KOFF_TASK_FILES = 0, /* task_struct.files */
	LP_KOFF_FILES_FDT,	/* files_struct.fdt */
	LP_KOFF_FDT_MAX,	/* fdtable.max_fds */
	LP_KOFF_FDT_FD,		/* fdtable.fd */
	LP_KOFF_FILE_PRIVATE,	/* file.private_data */
	LP_KOFF_SOCKET_FILE,	/* socket.file */
	LP_KOFF_SOCKET_SK,	/* socket.sk */
	LP_KOFF_SK_FAMILY,	/* sock_common.skc_family */
	LP_KOFF_SK_NUM,		/* sock_common.skc_num */
	LP_KOFF_SK_DPORT,	/* sock_common.skc_dport */
	LP_KOFF_MAX,
};

/* A sample longer than this is not believed (a clock or state error): counted, dropped. */
#define LP_MAX_SAMPLE_NS (86400ULL * 1000000000ULL)

/* Per-socket state (BPF_MAP_TYPE_SK_STORAGE). Only the BPF side uses it. */
enum lp_role {
	LP_ROLE_NONE = 0,
	LP_ROLE_SERVER = LP_SIDE_SERVER,
	LP_ROLE_CLIENT = LP_SIDE_CLIENT,
	LP_ROLE_DONE, /* after 101 or a CONNECT tunnel: not HTTP/1.x any more */
	LP_ROLE_NOT_HTTP, /* its first payload began nothing HTTP (lp_first_payload_not_http) */
};

/*
 * A connection's protocol (lp_queue.proto): which pure header frames its
 * bytes (include/lp_conn.h dispatches). HTTP/1.x is 0, so fresh state is
 * HTTP/1.x until something says otherwise.
 */
enum lp_proto {
	LP_PROTO_HTTP1 = 0, /* include/lp_h1.h */
	LP_PROTO_HTTP2,	    /* include/lp_h2.h */
	LP_PROTO_COUNT,
};

/* How the message in flight in one direction ends (include/lp_http.h). */
enum lp_fstate {
	LP_F_IDLE = 0, /* between messages: the next in-order byte starts one */
	LP_F_LENGTH,   /* a Content-Length body, to lp_dir.end */
	LP_F_CHUNKED,  /* a chunked body: lp_dir.chunk says where in it */
	LP_F_CLOSE,    /* a body delimited by the sender's FIN */
	LP_F_UNFRAMED, /* framing unknown: ends at the next message or the close */
};

/*
 * One direction of a connection. next is the first byte not yet seen in
 * order, max the end of the furthest byte seen (out-of-order data included):
 * only in-order new data is framed; anything below next is a retransmission.
 */
struct lp_dir {
	/*
	 * next and max change together, as one word (lp_seq_take): two CPUs can
	 * take received segments of one direction at once (loopback: a sender
	 * in process context on one, its ACK-clocked transmissions in softirq
	 * on the other), and a lost update of max lost a response's end.
	 */
	union {
		struct {
			__u32 next; /* the sequence number after the data seen in order */
			__u32 max;  /* after all data seen, out of order included */
		};
		__u64 next_max;
	};
	__u32 end;    /* LENGTH: end of the body; CHUNKED in LP_CH_DATA: end of the data */
	__u8 fstate;  /* enum lp_fstate */
	__u8 chunk;   /* enum lp_chunk */
	/*
	 * 1: a direction whose first bytes may have gone by before the state
	 * existed, beyond the ack that began it (an HTTP/2 server's SETTINGS,
	 * sent at accept): it begins at the first segment seen
	 * (lp_conn_open_start).
	 */
	__u8 open_start;
	__u8 pad;
	__u64 acc;    /* the chunk size being read */
};

#define LP_PIPE 4 /* pending requests timed per connection (pipelining); a power of two */

#define LP_PF_UNTIMED 0x1 /* this request cannot be timed (its start was split) */
#define LP_PF_H2C     0x2 /* it offered h2c (Upgrade): a 101 makes it HTTP/2's stream 1 */

/*
 * The part of a connection's state both of its sides write: its role, and
 * the requests waiting for their responses (what passes from the request
 * side to the response side). Request i (counted in begun, wrapping) is
 * entry i % LP_PIPE when seq[] says i; answered counts the final responses
 * begun.
 */
struct lp_queue {
	__u64 start_ns[LP_PIPE]; /* arrival (server) or departure (client) of its first byte */
	__u16 route[LP_PIPE];	 /* LP_ROUTE_* id (include/lp_route.h) */
	__u8 method[LP_PIPE];
	__u8 seq[LP_PIPE];   /* begun when it began: pairs it with its response */
	__u8 flags[LP_PIPE]; /* LP_PF_* */
	__u8 begun;	     /* requests begun */
	__u8 answered;	     /* final responses begun */
	__u8 role;	     /* enum lp_role, fixed by the first request */
	__u8 proto;	     /* enum lp_proto, fixed when the protocol is known */
};

/* LP_MF_*: the response in flight */
#define LP_MF_TIMED   0x1 /* paired with a timed request: record at its end */
#define LP_MF_NOBODY  0x2 /* no body whatever the head says (HEAD, 1xx, 204, 304) */

struct lp_conn_rsp {
	struct lp_dir d;
	__u64 start_ns; /* of the request being answered */
	__u64 last_ns;	/* the last body byte seen (for an unframed end) */
	__u16 status;
	__u8 method;
	__u8 mflags; /* LP_MF_* */
	__u16 route; /* of the request being answered */
	__u8 unpaired; /* response framing was lost with requests waiting: which
			* response answers which is no longer certain (include/lp_h1.h) */
	__u8 pad;
	__u64 cgroup_id; /* the socket's cgroup (a socket never changes it), for its samples */
	__u64 tenant_id; /* its ancestor at the cap's level (cg_level; 0: none): whose share */
};

/*
 * Per-socket state in three cache lines. Each segment costs the cache
 * lines it touches, and on a busy node a connection's lines are cold by its
 * next segment (bench/RESULTS.md, "Cache lines", has the cost), so a segment touches
 * two of its own: the line it shares with the kernel's pointer to the map
 * (which bpf_sk_storage_get reads anyway: the queue and the role live
 * there, written by both sides), and its direction's. The two directions
 * are handled at different hooks, often on two CPUs (server: ingress the
 * requests, on the sender's CPU; egress the responses), so neither side
 * writes the other's direction line.
 *
 * The kernel keeps a socket's storage 8 bytes into a cache line (after the
 * map's pointer, struct bpf_local_storage_data): offsets 56 and 120 start
 * the next lines there. Elsewhere only the speed depends on it.
 */
#define LP_CONN_LINE0 56
#define LP_CONN_LINE  64

struct lp_conn {
	struct lp_queue q; /* the line both sides write */
	struct lp_dir req; /* the request direction's framing: its side's alone */
	/*
	 * client side, --client-address host: the number of the host its first
	 * request named (the "hosts" map; LP_PEER_OTHER when no number was
	 * left), 0: none (yet). Written by the request side only.
	 */
	__u32 host;
	__u8 gap1[LP_CONN_LINE - sizeof(struct lp_dir) - sizeof(__u32)];
	struct lp_conn_rsp rsp; /* the response direction: its side's alone */
};

#endif /* LATPROBE_H */
