/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTPS: the TLS library's plaintext, through uprobes.
 *
 * User space attaches these to every libssl the node's processes map
 * (userspace/core/tls.c). SSL_read/SSL_write and their _ex forms: the entry
 * keeps the call's buffer per thread, the return feeds the bytes that
 * moved into the same state machine as plaintext, with a per-direction
 * byte count standing in for TCP's sequence numbers (a TLS session's
 * plaintext is one ordered stream: nothing is retransmitted or out of
 * order). SSL_set_fd finds the session's socket (its port and family);
 * SSL_shutdown is the local side's close, SSL_read returning 0 the peer's;
 * SSL_clear starts a reused object afresh; SSL_free ends the session. The ciphertext of the same connection never
 * looks like HTTP to the cgroup_skb program: nothing is counted twice.
 *
 * Included by latprobe.bpf.c after the recording (record.bpf.h) and the
 * segment's parse (struct pkt), which tls_sock reads.
 */
#ifndef LP_TLS_BPF_H
#define LP_TLS_BPF_H

#ifndef AF_INET
#define AF_INET 2
#define AF_INET6 10
#endif

/* the TLS programs are loaded (set by user space) */
const volatile __u8 tls_loaded = 0;

/* --cgroup: only tasks in that cgroup's subtree (its level and id); level 0: all */
const volatile __u32 tls_scope_level = 0;
const volatile __u64 tls_scope_cg = 0;
/* sessions one process may hold (--tls-sessions-per-process); 0: no share */
const volatile __u32 tls_share = 0;

/*
 * Offsets of the kernel's fields SSL_set_fd's probe reads, found by user
 * space in the running kernel's BTF (include/latprobe.h, enum lp_koff): no
 * CO-RE in this object, so a kernel without BTF loads it the same. All 0:
 * unknown (no BTF), and the socket is found by the cgroup_skb program on egress instead.
 */
const volatile __u32 koff[LP_KOFF_MAX] = {};

static __always_inline __u64 kread_ptr(__u64 base, __u32 off)
{
	__u64 v = 0;

	if (base)
		bpf_probe_read_kernel(&v, sizeof(v), (const void *)(base + off));
	return v;
}

static __always_inline __u32 kread_u16(__u64 base, __u32 off)
{
	__u16 v = 0;

	if (base)
		bpf_probe_read_kernel(&v, sizeof(v), (const void *)(base + off));
	return v;
}

/* a call in progress, per thread: what its return needs */
struct lp_tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 nptr; /* _ex: where the library writes the byte count */
	__u32 num;  /* bytes asked for */
	__u32 kind; /* enum lp_tls_call_kind */
	/* a write's socket, seen by the cgroup_skb program on egress (tls_sock) */
	__u16 lport, rport;
	__u8 family;
	__u8 pad[3];
};

struct lp_tls_sess {
	struct lp_conn c;
	__u32 seq[2]; /* plaintext bytes so far: [0] written, [1] read */
	__u16 lport, rport;
	__u8 family; /* 4 or 6; 0: the socket is unknown */
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct lp_tls_call);
} tls_calls SEC(".maps");

/* max_entries set at load (--tls-sessions); freed at SSL_free, swept for dead processes */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LP_TLS_SESSIONS_DEFAULT);
	__type(key, struct lp_tls_key);
	__type(value, struct lp_tls_sess);
} tls_sessions SEC(".maps");

/*
 * Sessions each process holds (tgid -> count), so that one process cannot
 * take every slot of tls_sessions: sized as tls_sessions at load
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LP_TLS_SESSIONS_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
} tls_owned SEC(".maps");

/* an HTTP/2 session's streams and tables (include/lp_h2.h); sized as tls_sessions at load */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LP_TLS_SESSIONS_DEFAULT);
	__type(key, struct lp_tls_key);
	__type(value, struct lp_h2);
} tls_h2 SEC(".maps");

/* one all-zero struct lp_h2: a new entry's first value (too large for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lp_h2);
} h2_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lp_tls_sess);
} tls_zero SEC(".maps");

/*
 * A write of a TLS session whose socket is unknown (the library was given a
 * BIO, not a file descriptor): the cgroup_skb program on egress, running in the writing
 * thread for a segment it sends, names the socket when the segment starts
 * with an application-data record of the size that write makes (the
 * plaintext plus 16 to 80 bytes of the cipher's overhead).
 */
static __always_inline void tls_sock(struct __sk_buff *skb, const struct pkt *pk)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lp_tls_call *call;
	__u8 h[5];
	__u32 rlen, m;

	if (pk->seg.plen < sizeof(h) || bpf_skb_load_bytes(skb, pk->poff, h, sizeof(h)))
		return;
	if (h[0] != 0x17 || h[1] != 3)
		return;
	call = bpf_map_lookup_elem(&tls_calls, &id);
	if (!call || call->family || (call->kind != LP_TLS_WRITE && call->kind != LP_TLS_WRITE_EX))
		return;
	rlen = (__u32)h[3] << 8 | h[4];
	m = call->num < 16384 ? call->num : 16384;
	if (rlen < m + 16 || rlen > m + 80)
		return;
	call->lport = pk->sport;
	call->rport = pk->dport;
	call->family = pk->family;
}

static __always_inline int tls_in_scope(void)
{
	return !tls_scope_level ||
	       bpf_get_current_ancestor_cgroup_id(tls_scope_level) == tls_scope_cg;
}

/*
 * A fresh session state for k (any old one replaced), or NULL (counted): a
 * new session only within its process's share (tls_share), so one process
 * holding thousands of sessions leaves room for everyone else's HTTPS.
 */
static __always_inline struct lp_tls_sess *tls_new(struct lp_tls_key *k, __u64 flags)
{
	__u32 zero = 0, *owned = NULL;
	void *init = bpf_map_lookup_elem(&tls_zero, &zero);
	struct lp_tls_sess *s;
	int fresh = !bpf_map_lookup_elem(&tls_sessions, k);

	if (fresh && tls_share) {
		owned = bpf_map_lookup_elem(&tls_owned, &k->tgid);
		if (!owned) {
			bpf_map_update_elem(&tls_owned, &k->tgid, &zero, BPF_NOEXIST);
			owned = bpf_map_lookup_elem(&tls_owned, &k->tgid);
		}
		if (owned && *owned >= tls_share) {
			count(LP_CNT_TLS_FULL);
			return NULL;
		}
	}
	if (init && !bpf_map_update_elem(&tls_sessions, k, init, flags) && fresh && owned)
		__sync_fetch_and_add(owned, 1);
	s = bpf_map_lookup_elem(&tls_sessions, k);
	if (!s)
		count(LP_CNT_TLS_FULL);
	return s;
}

static __always_inline int load_user(struct lp_slot *sl, __u64 buf, __u32 off, __u32 len)
{
	barrier_var(len);
	if (len == 0 || len > LP_WIN)
		return -1;
	return bpf_probe_read_user(sl->w.b, len, (const void *)(buf + off));
}

#define LOAD_USER(off, len) load_user(sl, buf, (off), (len))

/* One call's plaintext (buf) through the state machine, into sl->v. */
__noinline int tls_segment(struct lp_conn *c, struct lp_h2 *h, struct lp_slot *sl, __u64 buf,
			   __u64 now)
{
	if (!c || !sl)
		return 0;
	LP_CONN_SEGMENT(c, h, &sl->seg, now, &sl->v, &sl->w, LOAD_USER);
	return 0;
}

/* a session's HTTP/2 state, fresh (seq, ack: where its two directions begin); NULL if the map is full */
static __always_inline struct lp_h2 *tls_h2_new(struct lp_tls_key *k, __u32 seq, __u32 ack,
					       int midstream)
{
	__u32 zero = 0;
	void *init = bpf_map_lookup_elem(&h2_zero, &zero);
	struct lp_h2 *h;

	if (init)
		bpf_map_update_elem(&tls_h2, k, init, BPF_ANY);
	h = bpf_map_lookup_elem(&tls_h2, k);
	if (!h) {
		count(LP_CNT_TLS_FULL);
		return NULL;
	}
	lp_h2_init(h, seq, ack, midstream);
	return h;
}

/*
 * len bytes at buf moved through session k (or, with fin, its close), in or
 * out; call: the call that moved them (its socket, if the cgroup_skb program on egress
 * named it), or NULL.
 */
static __always_inline void tls_data(struct lp_tls_key *k, const struct lp_tls_call *call,
				     __u64 buf, __u32 len, __u8 ingress, __u8 fin)
{
	struct lp_tls_sess *s = bpf_map_lookup_elem(&tls_sessions, k);
	struct lp_seg seg = { .plen = len, .ingress = ingress, .tcp_flags = fin ? LP_TCP_FIN : 0 };
	struct lp_h2 *h = NULL;
	struct lp_slot *sl;
	__u32 slot;

	if (!s || s->c.q.role == LP_ROLE_NONE) {
		/* as on the wire: only a request start creates state */
		__u8 b[LP_CLASSIFY_BYTES] = {};
		__u32 n = len < LP_CLASSIFY_BYTES ? len : LP_CLASSIFY_BYTES;

		if (fin || !len || (side_filter && ingress != (side_filter == LP_SIDE_SERVER)))
			return;
		if (bpf_probe_read_user(b, n & (LP_CLASSIFY_BYTES * 2 - 1), (const void *)buf))
			return;
		seg.cls = lp_classify(b, n, &seg.method, &seg.status);
		if (!lp_conn_wants_state(&seg))
			return;
		if (!s)
			s = tls_new(k, BPF_NOEXIST);
		if (!s)
			return;
		seg.seq = s->seq[ingress & 1];
		seg.ack = s->seq[!ingress];
		if (lp_conn_is_h2(&seg) &&
		    !tls_h2_new(k, seg.seq, seg.ack, seg.cls == LP_CLASS_H2_FRAME))
			return;
		lp_conn_init(&s->c, &seg);
	} else if (s->c.q.role != LP_ROLE_SERVER && s->c.q.role != LP_ROLE_CLIENT) {
		return; /* upgraded: not HTTP/1.x any more */
	}
	if (!s->family && call && call->family) {
		s->lport = call->lport;
		s->rport = call->rport;
		s->family = call->family;
	}
	if (s->c.q.proto == LP_PROTO_HTTP2) {
		h = bpf_map_lookup_elem(&tls_h2, k);
		if (!h)
			return;
	}
	seg.seq = __sync_fetch_and_add(&s->seq[ingress & 1], len);
	seg.ack = s->seq[!ingress];
	/* the samples' port: the server's (the role is fixed with the state) */
	sl = lp_slot_begin(&slot, &seg, 0, s->c.q.role == LP_ROLE_SERVER ? s->lport : s->rport,
			   s->family, LP_KEY_TLS | (s->c.q.proto == LP_PROTO_HTTP2 ? LP_KEY_H2 : 0));
	if (!sl)
		return;
	/* the host its first request named (--client-address host): HTTPS has no other */
	if (client_addr == LP_CLIENT_ADDR_HOST && s->c.q.role == LP_ROLE_CLIENT) {
		sl->key.peer = lp_conn_host(&s->c, h);
		if (sl->key.peer)
			sl->key.flags |= LP_KEY_HOST;
	}
	tls_segment(&s->c, h, sl, buf, lp_conn_needs_time(&s->c, &seg) ? bpf_ktime_get_ns() : 0);
	lp_slot_finish(sl);
}

/* the entry of SSL_read/_ex, SSL_write/_ex, SSL_shutdown (the cookie says which) */
SEC("uprobe")
int BPF_KPROBE(lp_tls_enter, void *ssl, void *buf, __u64 num, void *nptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lp_tls_call call = {
		.ssl = (__u64)ssl,
		.buf = (__u64)buf,
		.num = (__u32)num,
		.kind = (__u32)bpf_get_attach_cookie(ctx),
	};

	if (LP_TLS_CUT(2))
		return 0;
	count(LP_CNT_TLS_HITS); /* the trap's count: before anything can return */
	if (!tls_in_scope())
		return 0;
	if (call.kind == LP_TLS_READ_EX || call.kind == LP_TLS_WRITE_EX)
		call.nptr = (__u64)nptr;
	bpf_map_update_elem(&tls_calls, &id, &call, BPF_ANY);
	return 0;
}

/* ... and its return: what moved */
SEC("uretprobe")
int BPF_KRETPROBE(lp_tls_exit, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lp_tls_call *cp = bpf_map_lookup_elem(&tls_calls, &id);
	struct lp_tls_key k = { .tgid = id >> 32 };
	__u64 n = 0;
	__u8 ingress;

	(void)ctx;
	if (LP_TLS_CUT(1) || LP_TLS_CUT(2))
		return 0;
	count(LP_CNT_TLS_HITS);
	if (!cp)
		return 0;
	/* the call's entry is read in place (not copied: the stack below is deep), deleted at the end */
	k.ssl = cp->ssl;
	if (cp->kind == LP_TLS_SHUTDOWN) {
		tls_data(&k, NULL, 0, 0, 0, 1); /* this side closes: a FIN out */
		goto out;
	}
	ingress = cp->kind == LP_TLS_READ || cp->kind == LP_TLS_READ_EX;
	if (cp->nptr) {
		if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (const void *)cp->nptr))
			goto out;
	} else if (ret > 0) {
		n = (__u64)ret;
	} else {
		/* SSL_read's 0: the peer closed (close_notify or EOF) */
		if (ret == 0 && ingress)
			tls_data(&k, NULL, 0, 0, 1, 1);
		goto out;
	}
	if (n && n < (1u << 30))
		tls_data(&k, cp, cp->buf, (__u32)n, ingress, 0);
out:
	bpf_map_delete_elem(&tls_calls, &id);
	return 0;
}

/* SSL_set_fd(ssl, fd): the session's socket, and a fresh state (the SSL may be reused) */
SEC("uprobe")
int BPF_KPROBE(lp_tls_set_fd, void *ssl, int fd)
{
	struct lp_tls_key k = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	__u64 files, fdt, fds, f = 0, so, sk;
	struct lp_tls_sess *s;
	unsigned int max = 0;
	__u32 fam;

	(void)ctx;
	count(LP_CNT_TLS_HITS);
	if (!tls_in_scope() || fd < 0 || !koff[LP_KOFF_TASK_FILES])
		return 0;
	/* current->files->fdt->fd[fd]: the file */
	files = kread_ptr(bpf_get_current_task(), koff[LP_KOFF_TASK_FILES]);
	fdt = kread_ptr(files, koff[LP_KOFF_FILES_FDT]);
	if (!fdt)
		return 0;
	bpf_probe_read_kernel(&max, sizeof(max), (const void *)(fdt + koff[LP_KOFF_FDT_MAX]));
	if ((unsigned int)fd >= max)
		return 0;
	fds = kread_ptr(fdt, koff[LP_KOFF_FDT_FD]);
	if (fds)
		bpf_probe_read_kernel(&f, sizeof(f), (const void *)(fds + (__u64)fd * 8));
	/* a socket's file points at the socket, which points back */
	so = kread_ptr(f, koff[LP_KOFF_FILE_PRIVATE]);
	if (!so || kread_ptr(so, koff[LP_KOFF_SOCKET_FILE]) != f)
		return 0;
	sk = kread_ptr(so, koff[LP_KOFF_SOCKET_SK]);
	fam = kread_u16(sk, koff[LP_KOFF_SK_FAMILY]);
	if (fam != AF_INET && fam != AF_INET6)
		return 0;
	s = tls_new(&k, BPF_ANY);
	if (!s)
		return 0;
	s->lport = (__u16)kread_u16(sk, koff[LP_KOFF_SK_NUM]);
	s->rport = bpf_ntohs((__u16)kread_u16(sk, koff[LP_KOFF_SK_DPORT]));
	s->family = fam == AF_INET6 ? 6 : 4;
	return 0;
}

/*
 * SSL_clear(ssl): the object may be reused for another connection (a new
 * BIO, a new handshake): a session that has carried data starts afresh, as
 * at SSL_set_fd, so nothing of the old connection (a response half read, a
 * request waiting) pairs with the new one's messages; its socket is learnt
 * again. libssl also clears a fresh object itself at its first handshake,
 * after SSL_set_fd: a session with no data yet keeps what SSL_set_fd found.
 */
SEC("uprobe")
int BPF_KPROBE(lp_tls_clear, void *ssl)
{
	struct lp_tls_key k = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct lp_tls_sess *s = bpf_map_lookup_elem(&tls_sessions, &k);

	(void)ctx;
	count(LP_CNT_TLS_HITS);
	if (!s || (!s->seq[0] && !s->seq[1]))
		return 0;
	bpf_map_delete_elem(&tls_h2, &k);
	tls_new(&k, BPF_EXIST);
	return 0;
}

/* SSL_free(ssl): the session is over */
SEC("uprobe")
int BPF_KPROBE(lp_tls_free, void *ssl)
{
	struct lp_tls_key k = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };

	(void)ctx;
	count(LP_CNT_TLS_HITS);
	if (!bpf_map_delete_elem(&tls_sessions, &k)) {
		__u32 *owned = bpf_map_lookup_elem(&tls_owned, &k.tgid);

		if (owned && *owned)
			__sync_fetch_and_add(owned, -1);
	}
	bpf_map_delete_elem(&tls_h2, &k);
	return 0;
}

#endif /* LP_TLS_BPF_H */
