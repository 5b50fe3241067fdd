/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HPACK (RFC 7541), as far as latprobe's labels need it: the fields of a
 * header block one at a time; :method, :status and gRPC's grpc-status
 * recognised whether indexed (static or dynamic table), literal or
 * Huffman-coded; and each
 * direction's dynamic table followed exactly enough to resolve references
 * to them: every entry's insertion and size (for the evictions), and what
 * it is for the entries a label needs. What cannot be resolved (a reference
 * to an entry made before the agent saw the connection, or one it had to
 * forget) is unknown, never a guess.
 *
 * Pure: used by include/lp_h2.h and tests/unit/test_hpack.c. Header block
 * bytes are read into the read window (LP_WIN bytes): offsets into it are
 * masked, so the BPF verifier sees every read in bounds.
 */
#ifndef LP_HPACK_H
#define LP_HPACK_H

#include <linux/types.h>
#include "latprobe.h"
#include "lp_huff.h"

#define LP_HP_WIN	    1024 /* the read window (LP_WIN): header bytes are read at most this far */
#define LP_HP_MASK	    (LP_HP_WIN - 1)
#define LP_HP_RING	    64	 /* dynamic entries remembered per direction (a power of two) */
#define LP_HP_TABLE_DEFAULT 4096 /* SETTINGS_HEADER_TABLE_SIZE's initial value */
#define LP_HP_STATIC	    61	 /* entries of the static table (Appendix A) */
#define LP_HP_FIELDS	    64	 /* fields walked per header block; more: the block is not walked whole */

/* What a field (or a dynamic entry) is to latprobe. */
enum lp_hp_kind {
	LP_HK_OTHER = 0, /* a field no label needs */
	LP_HK_METHOD,	 /* :method; value enum lp_method */
	LP_HK_STATUS,	 /* :status; value the code, 0 if not three digits */
	LP_HK_PATH,	 /* :path; value its route id once matched (include/lp_h2_route.h), 0 before */
	LP_HK_UNKNOWN,	 /* a reference that cannot be resolved */
	LP_HK_GRPC,	 /* grpc-status; value its code + 1, or LP_GRPC_BAD (include/latprobe.h) */
	LP_HK_AUTHORITY, /* :authority; a literal's value is read (include/lp_h2_route.h) */
};

/* A dynamic entry, by insertion: where it starts in the bytes ever inserted, and what it is. */
struct lp_hp_entry {
	__u32 cum_before; /* the table's bytes inserted before it (RFC 7541 4.1 sizes, wrapping) */
	__u16 name_len;	  /* its name's length (a later literal may take it by reference) */
	__u8 kind;	  /* enum lp_hp_kind */
	__u8 pad;
	__u16 value; /* with kind */
	__u16 pad2;
};

/* a Huffman decoding in progress, and the first symbols it gave: enough for a method or a status */
struct lp_huff_out {
	__u32 st;   /* the automaton's state */
	__u32 e;    /* its last step */
	__u32 k;    /* symbols so far */
	__u32 fail; /* EOS was read */
	__u64 last; /* the last eight symbols, the newest in the low byte */
	__u32 q;    /* lp_huff_chunk_to: the symbols kept (at most LP_HUFF_OUT) */
	__u32 pad;
	__u8 s[8];  /* after lp_huff_decode: the first eight, in order */
};

/*
 * One direction's dynamic table. Entries are numbered by insertion (the
 * newest is n, dynamic index 62); entry k is still present while the bytes
 * inserted since it began fit the table (cum - cum_before <= max) and no
 * size update evicted it (cum_before at or after floor): the table holds the
 * newest entries that fit, and a size update evicts from the oldest. The
 * last LP_HP_RING entries are remembered.
 */
struct lp_hp_table {
	__u32 n;     /* entries inserted since it was followed */
	__u32 cum;   /* bytes inserted since then */
	__u32 max;   /* the maximum size now */
	__u32 floor; /* entries that began before this were evicted by a size update */
	__u8 from_start; /* followed from the connection's first header block: every entry is known */
	__u8 lost;	 /* a block was not walked whole: from then on dynamic references are unknown */
	/*
	 * The last short literal :path (include/lp_h2_frame.h, lp_h2_path):
	 * its bytes as sent (up to 16, zero past them), its length | 0x8000
	 * if Huffman-coded (0: none yet), its route. A client that does not
	 * index :path (nghttp2) sends the same bytes on every call.
	 */
	__u16 memo_len;
	__u16 memo_route;
	__u8 pad[2];
	__u64 memo[2];
	struct lp_huff_out scratch; /* a decoding's working memory (not on the BPF stack) */
	struct lp_hp_entry e[LP_HP_RING];
};

/* lp_hp_field.flags */
#define LP_HPF_LITERAL	0x1 /* its value is a literal: at p[vat, vat + vlen) */
#define LP_HPF_HUFFMAN	0x2 /* ... Huffman-coded */
#define LP_HPF_INSERTED 0x4 /* it was inserted into the table: the newest entry */
#define LP_HPF_ROOT	0x8  /* the static table's :path "/" (index 4) */
#define LP_HPF_INDEX	0x10 /* the static table's :path "/index.html" (index 5) */

/* A field as walked. */
struct lp_hp_field {
	__u8 kind; /* enum lp_hp_kind */
	__u8 flags; /* LP_HPF_* */
	__u16 value;
	__u16 vat;  /* with LP_HPF_LITERAL: where its value is in the bytes read */
	__u16 vlen;
};

enum lp_hp_err {
	LP_HP_CUT = -1, /* the field does not end within the bytes read */
	LP_HP_BAD = -2, /* not HPACK: an invalid index, an integer too large, bad Huffman */
};

/* the static table's name lengths, index 1..61 (index 0 unused) */
static const __u8 lp_hp_static_name_len[LP_HP_STATIC + 1] = {
	0,  10, 7,  7,	5,  5,	7,  7,	7,  7,	7,  7,	7,  7,	7,  14, 15, 15, 13, 6,	27,
	3,  5,	13, 13, 19, 16, 16, 14, 16, 13, 12, 6,	4,  4,	6,  7,	4,  4,	8,  17, 13,
	8,  19, 13, 4,	8,  12, 18, 19, 5,  7,	7,  11, 6,  10, 25, 17, 10, 4,	3,  16,
};

static __always_inline void lp_hp_table_init(struct lp_hp_table *t, int from_start)
{
	t->n = 0;
	t->cum = 0;
	t->max = LP_HP_TABLE_DEFAULT;
	t->floor = 0;
	t->from_start = from_start ? 1 : 0;
	t->lost = 0;
	t->memo_len = 0;
}

/*
 * What static index i (1..61) is: :authority, :method GET/POST, :path,
 * :status 200 ... 500, or other.
 */
static __always_inline void lp_hp_static(__u32 i, struct lp_hp_field *f)
{
	static const __u16 status[7] = {200, 204, 206, 304, 400, 404, 500};

	f->kind = LP_HK_OTHER;
	f->value = 0;
	if (i == 1) {
		f->kind = LP_HK_AUTHORITY;
	} else if (i == 2 || i == 3) {
		f->kind = LP_HK_METHOD;
		f->value = i == 2 ? LP_METHOD_GET : LP_METHOD_POST;
	} else if (i == 4 || i == 5) {
		f->kind = LP_HK_PATH;
		f->flags = i == 4 ? LP_HPF_ROOT : LP_HPF_INDEX;
	} else if (i >= 8 && i <= 14) {
		f->kind = LP_HK_STATUS;
		f->value = status[(i - 8) & 7];
	}
}

/* the kind a static name (index 1..61) gives a literal's value */
static __always_inline __u8 lp_hp_static_kind(__u32 i)
{
	if (i == 1)
		return LP_HK_AUTHORITY;
	if (i == 2 || i == 3)
		return LP_HK_METHOD;
	if (i == 4 || i == 5)
		return LP_HK_PATH;
	if (i >= 8 && i <= 14)
		return LP_HK_STATUS;
	return LP_HK_OTHER;
}

/*
 * An integer with a prefix of bits bits at p[*at] (RFC 7541 5.1): 0 with
 * *out and *at past it; LP_HP_CUT; LP_HP_BAD past 2^28 (no label needs more).
 */
static __always_inline int lp_hp_int(const __u8 *p, __u32 n, __u32 *at, __u32 bits, __u32 *out)
{
	__u32 mask = (1u << bits) - 1, v, i = *at, k;
	__u8 b;

	if (i >= n)
		return LP_HP_CUT;
	v = p[i & LP_HP_MASK] & mask;
	i++;
	if (v < mask) {
		*out = v;
		*at = i;
		return 0;
	}
	for (k = 0; k < 4; k++) {
		if (i >= n)
			return LP_HP_CUT;
		b = p[i & LP_HP_MASK];
		i++;
		v += (__u32)(b & 0x7f) << (7 * k);
		if (!(b & 0x80)) {
			*out = v;
			*at = i;
			return 0;
		}
	}
	return LP_HP_BAD;
}

/* A string literal at *at: its bytes p[*sat, *sat + *slen), *huff its H bit; *at past it. */
static __always_inline int lp_hp_str(const __u8 *p, __u32 n, __u32 *at, __u32 *sat, __u32 *slen,
				     __u8 *huff)
{
	__u32 len;
	int r;

	if (*at >= n)
		return LP_HP_CUT;
	*huff = p[*at & LP_HP_MASK] >> 7;
	r = lp_hp_int(p, n, at, 7, &len);
	if (r)
		return r;
	if (len > n - *at)
		return LP_HP_CUT;
	*sat = *at;
	*slen = len;
	*at += len;
	return 0;
}

#define LP_HUFF_CHUNK 64 /* bytes a step of the decoding (a BPF global function each) */

/* Decode p[at, at + len), len <= LP_HUFF_CHUNK, going on from o; LP_HP_BAD on EOS. */
static __always_inline int lp_huff_chunk(const __u8 *p, __u32 at, __u32 len, struct lp_huff_out *o)
{
	__u32 st = o->st, e = o->e, k = o->k, fail = o->fail, i, h, sym;
	__u64 last = o->last, keep;
	__u8 b;

	/* no branch but the loop's: the verifier walks one path, whatever the bytes */
	for (i = 0; i < LP_HUFF_CHUNK; i++) {
		if (i >= len)
			break;
		b = p[(at + i) & LP_HP_MASK];
		for (h = 0; h < 2; h++) {
			e = lp_huff_fsm[((st << 4) | (h ? b & 15u : (__u32)b >> 4)) & 4095];
			fail |= e & LP_HUFF_FAIL;
			sym = (e >> 16) & 1;
			keep = 0 - (__u64)sym;
			last = (last & ~keep) | (((last << 8) | ((e >> 8) & 0xff)) & keep);
			k += sym;
			st = e & 0xff;
		}
	}
	o->st = st;
	o->e = e;
	o->k = k;
	o->fail = fail;
	o->last = last;
	return fail ? LP_HP_BAD : 0;
}

#define LP_HUFF_OUT 128 /* symbols a decoding into a buffer keeps (LP_ROUTE_LEN) */

/*
 * lp_huff_chunk, and the first LP_HUFF_OUT symbols into out[0, o->q): out
 * has room for 2 * LP_HUFF_OUT bytes (a step writes at out[q] whether a
 * symbol came out or not; past the last kept, q stays at LP_HUFF_OUT). No
 * branch but the loop's, as lp_huff_chunk.
 */
static __always_inline int lp_huff_chunk_to(const __u8 *p, __u32 at, __u32 len,
					    struct lp_huff_out *o, __u8 *out)
{
	__u32 st = o->st, e = o->e, k = o->k, q = o->q, fail = o->fail, i, h, sym;
	__u8 b;

	_Static_assert(LP_HUFF_OUT == 128, "q >> 7 is 1 at LP_HUFF_OUT");

	for (i = 0; i < LP_HUFF_CHUNK; i++) {
		if (i >= len)
			break;
		b = p[(at + i) & LP_HP_MASK];
		for (h = 0; h < 2; h++) {
			e = lp_huff_fsm[((st << 4) | (h ? b & 15u : (__u32)b >> 4)) & 4095];
			fail |= e & LP_HUFF_FAIL;
			/* written at every step, kept only where a symbol came out */
			out[q & (2 * LP_HUFF_OUT - 1)] = (__u8)(e >> 8);
			sym = (e >> 16) & 1;
			k += sym;
			q += sym & ~(q >> 7);
			st = e & 0xff;
		}
	}
	o->st = st;
	o->e = e;
	o->k = k;
	o->q = q;
	o->fail = fail;
	return fail ? LP_HP_BAD : 0;
}

/* the kernel side makes a step a global function (verified once) */
#ifndef LP_HUFF_STEP
#define LP_HUFF_STEP(p, at, len, o) lp_huff_chunk(p, at, len, o)
#endif

/*
 * Decode the Huffman-coded p[at, at + len) (len <= LP_HP_WIN) into o: its
 * length in symbols (the first of them in o->s), or LP_HP_BAD (EOS, or
 * padding that is not up to seven one-bits).
 */
static __always_inline int lp_huff_decode(const __u8 *p, __u32 at, __u32 len, struct lp_huff_out *o)
{
	__u32 c, off;

	o->st = 0;
	o->e = LP_HUFF_END;
	o->k = 0;
	o->fail = 0;
	o->last = 0;
	for (c = 0; c < LP_HP_WIN / LP_HUFF_CHUNK; c++) {
		off = c * LP_HUFF_CHUNK;
		if (off >= len)
			break;
		if (LP_HUFF_STEP(p, at + off, len - off < LP_HUFF_CHUNK ? len - off : LP_HUFF_CHUNK, o))
			return LP_HP_BAD;
	}
	if (!(o->e & LP_HUFF_END))
		return LP_HP_BAD;
	/* the first eight symbols in order (all of them when there are no more) */
	for (c = 0; c < 8; c++)
		o->s[c] = c < o->k && o->k <= 8 ? (__u8)(o->last >> (8 * ((o->k - 1 - c) & 7))) : 0;
	return (int)o->k;
}

/* a method token, as enum lp_method (LP_METHOD_NONE: another token) */
static __always_inline __u8 lp_hp_method(const __u8 *s, __u32 n)
{
	__u64 w = 0;
	__u32 i;

	if (n == 0 || n > 7)
		return LP_METHOD_NONE;
	for (i = 0; i < 7; i++)
		if (i < n)
			w |= (__u64)s[i & 7] << (8 * i);
	switch (w) {
	case 0x544547: /* "GET", little end first */
		return LP_METHOD_GET;
	case 0x44414548:
		return LP_METHOD_HEAD;
	case 0x54534f50:
		return LP_METHOD_POST;
	case 0x545550:
		return LP_METHOD_PUT;
	case 0x4554454c4544:
		return LP_METHOD_DELETE;
	case 0x5443454e4e4f43:
		return LP_METHOD_CONNECT;
	case 0x534e4f4954504f:
		return LP_METHOD_OPTIONS;
	case 0x4543415254:
		return LP_METHOD_TRACE;
	case 0x4843544150:
		return LP_METHOD_PATCH;
	}
	return LP_METHOD_NONE;
}

/* a status code from its three digits, 0 if it is not 100..599 */
static __always_inline __u16 lp_hp_status(const __u8 *s, __u32 n)
{
	if (n != 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
	    s[2] > '9')
		return 0;
	return (__u16)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
}

/*
 * a grpc-status value: its code + 1 (lp_key.grpc) for "0" ... "16" (one or
 * two digits), LP_GRPC_BAD for anything else (n is its decoded length)
 */
static __always_inline __u16 lp_hp_grpc(const __u8 *s, __u32 n)
{
	__u32 c;

	if (n < 1 || n > 2 || s[0] < '0' || s[0] > '9')
		return LP_GRPC_BAD;
	c = s[0] - '0';
	if (n == 2) {
		if (s[1] < '0' || s[1] > '9')
			return LP_GRPC_BAD;
		c = 10 * c + (s[1] - '0');
	}
	return c < LP_GRPC_CODES ? (__u16)(c + 1) : LP_GRPC_BAD;
}

/*
 * The value of a literal of kind f->kind at p[vat, vat + vlen) (Huffman if
 * huff): f->value from it; *len its length decoded. LP_HP_BAD if the
 * Huffman code is not valid.
 */
static __always_inline int lp_hp_value(const __u8 *p, __u32 vat, __u32 vlen, __u8 huff,
				       struct lp_hp_field *f, __u32 *len, int need_len,
				       struct lp_huff_out *o)
{
	__u8 *s = o->s;
	__u32 i, k = vlen;
	int r;

	if (huff && (need_len || f->kind == LP_HK_METHOD || f->kind == LP_HK_STATUS ||
		     f->kind == LP_HK_GRPC)) {
		r = lp_huff_decode(p, vat, vlen, o);
		if (r < 0)
			return LP_HP_BAD;
		k = (__u32)r;
	} else if (!huff) {
		for (i = 0; i < sizeof(o->s); i++)
			s[i] = i < vlen ? p[(vat + i) & LP_HP_MASK] : 0;
	}
	*len = k;
	if (f->kind == LP_HK_METHOD)
		f->value = lp_hp_method(s, k);
	else if (f->kind == LP_HK_STATUS)
		f->value = lp_hp_status(s, k);
	else if (f->kind == LP_HK_GRPC)
		f->value = lp_hp_grpc(s, k);
	return 0;
}

/*
 * The fewest symbols len bytes of Huffman code can hold: the longest code
 * is 30 bits, the padding at most 7.
 */
static __always_inline __u32 lp_huff_least(__u32 len)
{
	return len ? (8 * len - 7 + 29) / 30 : 0;
}

/* The Huffman code of ':' (7 bits, 1011100): a name that begins otherwise is no pseudo-header. */
#define LP_HUFF_COLON 0xb8

/*
 * Is the literal name p[at, at + len) "grpc-status"? A string has one
 * Huffman code (the padding is EOS's first bits, RFC 7541 5.2), so both
 * forms are compared as bytes: 11 plain, or the 8 of its code.
 */
#define LP_HP_GRPC_STATUS_HUFF 0x8fda3412b2c8ca9aULL /* its code, first byte lowest */
#define LP_HP_GRPC_STATUS_LO   0x6174732d63707267ULL /* "grpc-sta", first byte lowest */
#define LP_HP_GRPC_STATUS_HI   0x737574U		/* "tus" */

static __always_inline int lp_hp_is_grpc_status(const __u8 *p, __u32 at, __u32 len, __u8 huff)
{
	__u64 w = 0;
	__u32 i, hi;

	if (len != (huff ? 8u : 11u))
		return 0;
	for (i = 0; i < 8; i++)
		w |= (__u64)p[(at + i) & LP_HP_MASK] << (8 * i);
	if (huff)
		return w == LP_HP_GRPC_STATUS_HUFF;
	hi = p[(at + 8) & LP_HP_MASK] | (__u32)p[(at + 9) & LP_HP_MASK] << 8 |
	     (__u32)p[(at + 10) & LP_HP_MASK] << 16;
	return w == LP_HP_GRPC_STATUS_LO && hi == LP_HP_GRPC_STATUS_HI;
}

/*
 * A literal name p[at, at + len): its kind (":method", ":status", ":path",
 * ":authority", "grpc-status") and decoded length. need_len: the length
 * must be exact (an entry the table may keep); otherwise a Huffman-coded
 * name that cannot begin with ':' (and is not grpc-status) is not decoded,
 * and *name_len is the least it can be.
 */
static __always_inline int lp_hp_name(const __u8 *p, __u32 at, __u32 len, __u8 huff, __u8 *kind,
				      __u32 *name_len, int need_len, struct lp_huff_out *o)
{
	__u8 *s = o->s;
	__u64 w = 0;
	__u32 i, k = len;
	int r;

	*kind = LP_HK_OTHER;
	if (lp_hp_is_grpc_status(p, at, len, huff)) {
		*kind = LP_HK_GRPC;
		*name_len = 11;
		return 0;
	}
	if (huff && !need_len && (!len || (p[at & LP_HP_MASK] & 0xfe) != LP_HUFF_COLON)) {
		*name_len = lp_huff_least(len);
		return 0;
	}
	if (huff) {
		r = lp_huff_decode(p, at, len, o);
		if (r < 0)
			return LP_HP_BAD;
		k = (__u32)r;
	} else {
		for (i = 0; i < sizeof(o->s); i++)
			s[i] = i < len ? p[(at + i) & LP_HP_MASK] : 0;
	}
	*name_len = k;
	for (i = 0; i < 7; i++)
		if (i < k)
			w |= (__u64)s[i] << (8 * i);
	if (k == 7 && w == 0x646f6874656d3a) /* ":method" */
		*kind = LP_HK_METHOD;
	else if (k == 7 && w == 0x7375746174733a) /* ":status" */
		*kind = LP_HK_STATUS;
	else if (k == 5 && w == 0x687461703a) /* ":path" */
		*kind = LP_HK_PATH;
	else if (k == 10 && w == 0x726f687475613a) /* ":author(ity)" */
		*kind = LP_HK_AUTHORITY;
	return 0;
}

/*
 * The slot of dynamic index i (62 ...) in t->e, or -1 when it cannot be
 * resolved (from before the table was followed, forgotten, or the table
 * lost), or LP_HP_BAD when there is no such entry (evicted, or beyond a
 * table followed from the start).
 */
static __always_inline int lp_hp_slot(const struct lp_hp_table *t, __u32 i)
{
	const struct lp_hp_entry *e;
	__u32 back = i - (LP_HP_STATIC + 1), k, d;

	if (t->lost)
		return -1;
	if (back >= t->n)
		return t->from_start ? LP_HP_BAD : -1;
	if (back >= LP_HP_RING)
		return -1;
	k = t->n - back;
	e = &t->e[k & (LP_HP_RING - 1)];
	d = t->cum - e->cum_before;
	if (d > t->max || d > t->cum - t->floor)
		return LP_HP_BAD;
	return (int)(k & (LP_HP_RING - 1));
}

/* the field (or name) of index i: what it is, and its name's length; 0 or LP_HP_BAD */
static __always_inline int lp_hp_index(const struct lp_hp_table *t, __u32 i, struct lp_hp_field *f,
				       __u32 *name_len)
{
	int s;

	if (i == 0)
		return LP_HP_BAD;
	if (i <= LP_HP_STATIC) {
		lp_hp_static(i, f);
		*name_len = lp_hp_static_name_len[i & 63];
		return 0;
	}
	s = lp_hp_slot(t, i);
	if (s == LP_HP_BAD)
		return LP_HP_BAD;
	if (s < 0) {
		f->kind = LP_HK_UNKNOWN;
		f->value = 0;
		*name_len = 0;
		return 0;
	}
	f->kind = t->e[s & (LP_HP_RING - 1)].kind;
	f->value = t->e[s & (LP_HP_RING - 1)].value;
	*name_len = t->e[s & (LP_HP_RING - 1)].name_len;
	return 0;
}

/* a new entry (name_len + value_len + 32 bytes), the newest */
static __always_inline void lp_hp_insert(struct lp_hp_table *t, __u32 name_len, __u32 value_len,
					 const struct lp_hp_field *f)
{
	struct lp_hp_entry *e = &t->e[(t->n + 1) & (LP_HP_RING - 1)];

	e->cum_before = t->cum;
	e->name_len = name_len > 0xffff ? 0xffff : (__u16)name_len;
	e->kind = f->kind;
	e->value = f->value;
	t->cum += name_len + value_len + 32;
	t->n++;
	/* keep floor within reach of the wrapping comparison: older entries are gone anyway */
	if (t->cum - t->floor > (1u << 30))
		t->floor = t->cum - (1u << 29);
}

/* a dynamic table size update (RFC 7541 6.3): evict down to the smaller of the two sizes */
static __always_inline void lp_hp_resize(struct lp_hp_table *t, __u32 size)
{
	__u32 keep = size < t->max ? size : t->max, fl = t->cum - keep;

	if (t->cum - fl < t->cum - t->floor)
		t->floor = fl;
	t->max = size;
}

/*
 * A literal field at p[at] whose first byte b says how (with incremental
 * indexing: prefix 6; without or never indexed: prefix 4). Returns the
 * offset after it, or an lp_hp_err.
 *
 * An entry's size needs its strings' decoded lengths, and Huffman decoding
 * is the dearest step of a header block: it is done only where the entry
 * may stay in the table. One that cannot (the least it can be is more than
 * the table's size: nginx, say, sets its table to 0 and then inserts every
 * field) empties the table whatever its exact size, so it is inserted with
 * that least size, undecoded.
 */
static __always_inline int lp_hp_literal(const __u8 *p, __u32 n, __u32 at, struct lp_hp_table *t,
					 struct lp_hp_field *f)
{
	__u32 idx, name_len = 0, nat = 0, nlen = 0, vat, vlen, value_len = 0, least;
	int indexed = (p[at & LP_HP_MASK] & 0x40) != 0, r, need;
	__u8 nhuff = 0, huff;

	r = lp_hp_int(p, n, &at, indexed ? 6 : 4, &idx);
	if (r)
		return r;
	if (idx) {
		r = lp_hp_index(t, idx, f, &name_len);
		if (r)
			return r;
	} else {
		r = lp_hp_str(p, n, &at, &nat, &nlen, &nhuff);
		if (r)
			return r;
	}
	r = lp_hp_str(p, n, &at, &vat, &vlen, &huff);
	if (r)
		return r;
	least = 32 + (idx ? name_len : nhuff ? lp_huff_least(nlen) : nlen) +
		(huff ? lp_huff_least(vlen) : vlen);
	need = indexed && !t->lost && least <= t->max;
	if (!idx) {
		r = lp_hp_name(p, nat, nlen, nhuff, &f->kind, &name_len, need, &t->scratch);
		if (r)
			return r;
	}
	if (f->kind == LP_HK_UNKNOWN) {
		/* a name we cannot resolve: what the field is, and its size, are unknown */
		if (indexed)
			t->lost = 1;
		return (int)at;
	}
	f->value = 0;
	f->vat = (__u16)vat;
	f->vlen = (__u16)vlen;
	f->flags = LP_HPF_LITERAL | (huff ? LP_HPF_HUFFMAN : 0);
	r = lp_hp_value(p, vat, vlen, huff, f, &value_len, need, &t->scratch);
	if (r)
		return r;
	if (indexed) {
		lp_hp_insert(t, name_len, value_len, f);
		f->flags |= LP_HPF_INSERTED;
	}
	return (int)at;
}

/*
 * One field of a header block at p[at] (bytes read: p[0, n)): *f what it
 * is, and the dynamic table t updated by it. Returns the offset after it,
 * or an lp_hp_err. A size update is a field of kind other.
 */
static __always_inline int lp_hp_field(const __u8 *p, __u32 n, __u32 at, struct lp_hp_table *t,
				       struct lp_hp_field *f)
{
	__u32 v, name_len;
	__u8 b;
	int r;

	f->kind = LP_HK_OTHER;
	f->flags = 0;
	f->value = 0;
	if (at >= n)
		return LP_HP_CUT;
	b = p[at & LP_HP_MASK];
	if (b & 0x80) { /* indexed */
		r = lp_hp_int(p, n, &at, 7, &v);
		if (!r)
			r = lp_hp_index(t, v, f, &name_len);
		return r ? r : (int)at;
	}
	if ((b & 0xe0) == 0x20) { /* dynamic table size update */
		r = lp_hp_int(p, n, &at, 5, &v);
		if (r)
			return r;
		lp_hp_resize(t, v);
		return (int)at;
	}
	return lp_hp_literal(p, n, at, t, f);
}

#endif /* LP_HPACK_H */
