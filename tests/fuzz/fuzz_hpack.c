// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for HPACK as the kernel walks it (include/lp_hpack.h):
 * any bytes as a sequence of header blocks through one dynamic table, and
 * as a Huffman string. The first byte picks the table's start (followed from
 * the connection's start or not, its size); each block is at most LP_HP_WIN
 * bytes and copied to a buffer of exactly its size, so a read past it is an
 * ASan error. Every field must move forward or end the walk with an error,
 * and what it reports must be a value a label can carry. A :path's route
 * key, when the gRPC method rule takes it (lp_grpc_method_path), must be
 * one: "/", a service, '/', a method, ASCII names, nothing past its end. An
 * :authority's host (lp_h2_authority) holds a host name's bytes only, then
 * zeros.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lp_h2_route.h"

/* a method the rule took: "/" name "/" name, nothing but [A-Za-z0-9_.] in them */
static void method_path(const uint8_t *p, __u32 n, const struct lp_hp_field *f,
			struct lp_hp_table *t)
{
	struct {
		struct lp_route_key k;
		__u8 room[LP_ROUTE_LEN];
	} key;
	__u32 len, i, slashes = 0;

	memset(&key, 0xa5, sizeof(key));
	if (lp_h2_path_key(p, n, f, &key.k, &t->scratch) != 1)
		return;
	len = lp_grpc_method_path(&key.k);
	if (!len)
		return;
	if (len >= LP_ROUTE_LEN || key.k.path[0] != '/' || key.k.path[len])
		abort();
	for (i = 1; i < len; i++) {
		__u8 c = key.k.path[i];

		slashes += c == '/';
		if (!(c == '/' || c == '.' || c == '_' || (c >= '0' && c <= '9') ||
		      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			abort();
	}
	if (slashes != 1)
		abort();
	lp_route_key_clear_tail(&key.k, len);
	for (i = len; i < LP_ROUTE_LEN; i++)
		if (key.k.path[i])
			abort();
}

/* a host the rule took: [a-z0-9._-] only, at most 63 bytes, zeros past them */
static void authority(const uint8_t *p, __u32 n, const struct lp_hp_field *f, struct lp_hp_table *t)
{
	static __u8 out[2 * LP_ROUTE_LEN] __attribute__((aligned(8)));
	struct lp_host_key k;
	__u32 len;

	memset(out, 0xa5, sizeof(out));
	memset(&k, 0xa5, sizeof(k));
	len = lp_h2_authority(p, n, f, out, &t->scratch, &k);
	if (len && (!lp_host_key_ok(&k, len) || !(f->flags & LP_HPF_LITERAL)))
		abort();
}

static void walk(const uint8_t *p, __u32 n, struct lp_hp_table *t)
{
	struct lp_hp_field f;
	__u32 at = 0;
	int next;

	while (at < n) {
		next = lp_hp_field(p, n, at, t, &f);
		if (next == LP_HP_CUT || next == LP_HP_BAD)
			return;
		if (next <= (int)at || (__u32)next > n)
			abort();
		if (f.kind > LP_HK_AUTHORITY)
			abort();
		if (f.kind == LP_HK_STATUS && f.value && (f.value < 100 || f.value > 599))
			abort();
		if (f.kind == LP_HK_METHOD && f.value >= LP_METHOD_COUNT)
			abort();
		if (f.kind == LP_HK_PATH)
			method_path(p, n, &f, t);
		if (f.kind == LP_HK_AUTHORITY)
			authority(p, n, &f, t);
		at = (__u32)next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_hp_table t;
	struct lp_huff_out o;
	size_t off = 1;
	int r;

	if (size < 1)
		return 0;
	lp_hp_table_init(&t, data[0] & 1);
	if (data[0] & 2)
		t.max = (__u32)(data[0] >> 2) * 16;
	/* blocks: a length byte (times 8), then that many bytes */
	while (off < size) {
		__u32 n = (__u32)data[off++] * 8;
		uint8_t *blk;

		if (n > size - off)
			n = (__u32)(size - off);
		if (n > LP_HP_WIN)
			n = LP_HP_WIN;
		blk = malloc(n ? n : 1);
		if (!blk)
			return 0;
		memcpy(blk, data + off, n);
		walk(blk, n, &t);
		r = lp_huff_decode(blk, 0, n, &o);
		if (r != LP_HP_BAD && (r < 0 || (__u32)r > n * 8 / 5))
			abort();
		free(blk);
		off += n;
	}
	return 0;
}
