// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HPACK as the kernel walks it (include/lp_hpack.h, lp_huff.h): the header
 * blocks of RFC 7541 Appendix C (checked against Debian's python3-hpack
 * when they were written down), Huffman strings, the dynamic table through
 * insertions, evictions and size updates, references that cannot be
 * resolved, and every truncation of every block. Each block is copied into
 * a heap buffer of exactly its size: a read past it is an ASan error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

/* Huffman decoding steps taken: what a block's walk decodes */
static unsigned huff_steps;
#define LP_HUFF_STEP(p, at, len, o) (huff_steps++, lp_huff_chunk(p, at, len, o))

#include "lp_hpack.h"

/* hex into a heap buffer of exactly its size */
static __u8 *unhex(const char *hex, __u32 *n)
{
	size_t len = strlen(hex) / 2, i;
	__u8 *p = malloc(len ? len : 1);
	unsigned v;

	assert_non_null(p);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		p[i] = (__u8)v;
	}
	*n = (__u32)len;
	return p;
}

struct walked {
	int fields;
	struct lp_hp_field first; /* the first :method or :status */
	int have_first;
	int unknown; /* fields that could not be resolved */
};

/* walk a whole block; fails the test on a cut or bad field */
static struct walked walk(struct lp_hp_table *t, const char *hex)
{
	struct walked w = {0};
	struct lp_hp_field f;
	__u32 n, at = 0;
	__u8 *p = unhex(hex, &n);
	int next;

	while (at < n) {
		next = lp_hp_field(p, n, at, t, &f);
		assert_true(next > (int)at);
		at = (__u32)next;
		w.fields++;
		if (!w.have_first && (f.kind == LP_HK_METHOD || f.kind == LP_HK_STATUS)) {
			w.first = f;
			w.have_first = 1;
		}
		w.unknown += f.kind == LP_HK_UNKNOWN;
	}
	free(p);
	return w;
}

/* the table's size now: the bytes of the entries still present (RFC 7541 4.1) */
static __u32 table_size(const struct lp_hp_table *t, int *entries)
{
	__u32 back, oldest = t->cum;
	int s;

	*entries = 0;
	for (back = 0; back < t->n && back < LP_HP_RING; back++) {
		s = lp_hp_slot(t, LP_HP_STATIC + 1 + back);
		if (s < 0)
			break;
		oldest = t->e[s].cum_before;
		(*entries)++;
	}
	return t->cum - oldest;
}

static const char *C3[] = {
	"828684410f7777772e6578616d706c652e636f6d",
	"828684be58086e6f2d6361636865",
	"828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
};
static const char *C4[] = {
	"828684418cf1e3c2e5f23a6ba0ab90f4ff",
	"828684be5886a8eb10649cbf",
	"828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
};
static const char *C5[] = {
	"4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d"
	"546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
	"4803333037c1c0bf",
	"88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a697077386"
	"66f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d3336"
	"30303b2076657273696f6e3d31",
};
static const char *C6[] = {
	"488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c7"
	"8f0b97c8e9ae82ae43d3",
	"4883640effc1c0bf",
	"88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335"
	"dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
};

static void requests(const char **blocks)
{
	static const __u32 sizes[] = {57, 110, 164};
	struct lp_hp_table t;
	int i, entries;

	lp_hp_table_init(&t, 1);
	for (i = 0; i < 3; i++) {
		struct walked w = walk(&t, blocks[i]);

		assert_true(w.have_first);
		assert_int_equal(w.first.kind, LP_HK_METHOD);
		assert_int_equal(w.first.value, LP_METHOD_GET);
		assert_int_equal(w.unknown, 0);
		assert_int_equal(w.fields, i == 0 ? 4 : 5);
		assert_int_equal(table_size(&t, &entries), sizes[i]);
		assert_int_equal(entries, i + 1);
	}
}

static void test_rfc7541_requests_plain_and_huffman_track_the_table(void **state)
{
	(void)state;
	requests(C3);
	requests(C4);
}

/* C.5/C.6: responses through a 256-byte table, with evictions */
static void responses(const char **blocks)
{
	static const __u16 status[] = {302, 307, 200};
	static const __u32 sizes[] = {222, 222, 215};
	static const int entries_after[] = {4, 4, 3};
	struct lp_hp_table t;
	int i, entries;

	lp_hp_table_init(&t, 1);
	t.max = 256; /* the decoder's SETTINGS_HEADER_TABLE_SIZE in the example */
	for (i = 0; i < 3; i++) {
		struct walked w = walk(&t, blocks[i]);

		assert_true(w.have_first);
		assert_int_equal(w.first.kind, LP_HK_STATUS);
		assert_int_equal(w.first.value, status[i]);
		assert_int_equal(table_size(&t, &entries), sizes[i]);
		assert_int_equal(entries, entries_after[i]);
	}
}

static void test_rfc7541_responses_evict_exactly(void **state)
{
	struct lp_hp_table t;
	struct walked w;

	(void)state;
	responses(C5);
	responses(C6);
	/* after C.5.2, :status 307 is the newest entry (62): a reference resolves to it */
	lp_hp_table_init(&t, 1);
	t.max = 256;
	walk(&t, C5[0]);
	walk(&t, C5[1]);
	w = walk(&t, "be");
	assert_int_equal(w.first.kind, LP_HK_STATUS);
	assert_int_equal(w.first.value, 307);
	/* C.5.3 evicted it: a reference past the table is not HPACK */
	walk(&t, C5[2]);
	{
		__u32 n;
		__u8 *p = unhex("c1", &n); /* index 65: beyond the three entries */
		struct lp_hp_field f;

		assert_int_equal(lp_hp_field(p, n, 0, &t, &f), LP_HP_BAD);
		free(p);
	}
}

static void test_a_status_first_inserted_then_referenced_resolves(void **state)
{
	struct lp_hp_table t;
	struct walked w;

	(void)state;
	lp_hp_table_init(&t, 1);
	/* python3-hpack's encoding of :status 201, content-type text/plain; then again */
	w = walk(&t, "488210035f87497ca58ae819aa");
	assert_int_equal(w.first.kind, LP_HK_STATUS);
	assert_int_equal(w.first.value, 201);
	w = walk(&t, "bfbe");
	assert_int_equal(w.first.kind, LP_HK_STATUS);
	assert_int_equal(w.first.value, 201);
	assert_int_equal(w.unknown, 0);
}

static void test_huffman_method_and_status_literals(void **state)
{
	static const struct {
		const char *hex;
		__u8 kind;
		__u16 value;
	} cases[] = {
		/* literal without indexing, name :method (2), Huffman value */
		{"0283c5837f", LP_HK_METHOD, LP_METHOD_GET},
		{"0284d7ab76ff", LP_HK_METHOD, LP_METHOD_POST},
		{"0286bf833e0df83f", LP_HK_METHOD, LP_METHOD_DELETE},
		{"0287d5af7e4d5a777f", LP_HK_METHOD, LP_METHOD_OPTIONS},
		{"0285d70efbd8ff", LP_HK_METHOD, LP_METHOD_PATCH},
		/* a method not in the list is _OTHER (LP_METHOD_NONE), not a guess */
		{"0287d7b756bc3934df", LP_HK_METHOD, LP_METHOD_NONE},
		/* plain: literal without indexing, :method, "PUT" */
		{"0203505554", LP_HK_METHOD, LP_METHOD_PUT},
		/* :status 404 and 503, Huffman, name :status (8) */
		{"0883680d7f", LP_HK_STATUS, 404},
		{"08836c0cff", LP_HK_STATUS, 503},
		/* "2xx" is not a status */
		{"0883179f3f", LP_HK_STATUS, 0},
		/* the names themselves as Huffman literals */
		{"0085b9495339e483c5837f", LP_HK_METHOD, LP_METHOD_GET},
		{"0085b8848d36a383680d7f", LP_HK_STATUS, 404},
	};
	struct lp_hp_table t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lp_hp_field f;
		__u32 n;
		__u8 *p;
		int r;

		p = unhex(cases[i].hex, &n);
		lp_hp_table_init(&t, 1);
		r = lp_hp_field(p, n, 0, &t, &f);
		assert_int_equal(r, (int)n);
		assert_int_equal(f.kind, cases[i].kind);
		assert_int_equal(f.value, cases[i].value);
		assert_int_equal(t.n, 0); /* without indexing: nothing inserted */
		free(p);
	}
}

static void test_huffman_decoding_lengths_and_errors(void **state)
{
	static const struct {
		const char *hex;
		int symbols;
	} cases[] = {
		{"f1e3c2e5f23a6ba0ab90f4ff", 15}, /* www.example.com */
		{"a8eb10649cbf", 8},		  /* no-cache */
		{"25a849e95ba97d7f", 10},	  /* custom-key */
		{"f2b585ed6950958d27", 12},	  /* x-request-id */
		{"", 0},
		{"ff", LP_HP_BAD},	      /* eight one-bits of padding: too long */
		{"ffffffff", LP_HP_BAD},      /* 30 one-bits: EOS */
		{"c5837e", LP_HP_BAD},	      /* "GET" whose padding has a zero bit */
	};
	struct lp_huff_out o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u32 n;
		__u8 *p = unhex(cases[i].hex, &n);

		assert_int_equal(lp_huff_decode(p, 0, n, &o), cases[i].symbols);
		free(p);
	}
	{
		__u32 n;
		__u8 *p = unhex("f1e3c2e5f23a6ba0ab90f4ff", &n);

		/* fewer than nine symbols come out in order; more leave only the count */
		assert_int_equal(lp_huff_decode(p, 0, n, &o), 15);
		free(p);
		p = unhex("a8eb10649cbf", &n);
		assert_int_equal(lp_huff_decode(p, 0, n, &o), 8);
		assert_memory_equal(o.s, "no-cache", 8);
		free(p);
	}
}

static void test_size_updates_evict_and_shrink(void **state)
{
	struct lp_hp_table t;
	struct lp_hp_field f;
	int entries, i;
	__u32 n;
	__u8 *p;

	(void)state;
	lp_hp_table_init(&t, 1);
	for (i = 0; i < 3; i++)
		walk(&t, C3[i]);
	assert_int_equal(table_size(&t, &entries), 164);
	/* a size update to 0 empties the table; back to 4096 brings nothing back */
	walk(&t, "20");
	assert_int_equal(table_size(&t, &entries), 0);
	walk(&t, "3fe11f");
	assert_int_equal(t.max, 4096);
	p = unhex("be", &n);
	assert_int_equal(lp_hp_field(p, n, 0, &t, &f), LP_HP_BAD);
	free(p);
	/* a smaller table keeps the newest entries that fit */
	lp_hp_table_init(&t, 1);
	for (i = 0; i < 3; i++)
		walk(&t, C3[i]);
	walk(&t, "3f8b01"); /* a size update to 170 (31 + 139): the 164 bytes still fit */
	assert_int_equal(t.max, 170);
	assert_int_equal(table_size(&t, &entries), 164);
	walk(&t, "3f8701"); /* to 166: still fit */
	walk(&t, "3f8000"); /* to 31 (its integer not in the shortest form: valid too) */
	assert_int_equal(t.max, 31);
	assert_int_equal(table_size(&t, &entries), 0);
}

static void test_references_from_before_the_agent_are_unknown(void **state)
{
	struct lp_hp_table t;
	struct walked w;

	(void)state;
	/* a table followed from the middle of a connection */
	lp_hp_table_init(&t, 0);
	w = walk(&t, "be");
	assert_int_equal(w.unknown, 1);
	assert_false(w.have_first);
	/* a literal whose name is such an entry, with indexing: sizes unknown from then on */
	w = walk(&t, "7e03323030");
	assert_int_equal(w.unknown, 1);
	assert_true(t.lost);
	/* even an entry inserted after it cannot be trusted now */
	w = walk(&t, "4803333032be");
	assert_int_equal(w.first.value, 302);
	assert_int_equal(w.unknown, 1);
}

static void test_every_truncation_is_a_cut_never_a_wrong_field(void **state)
{
	const char **sets[] = {C3, C4, C5, C6};
	size_t s;
	int b;

	(void)state;
	for (s = 0; s < 4; s++) {
		for (b = 0; b < 3; b++) {
			__u32 n, cut, at;
			__u8 *whole = unhex(sets[s][b], &n);

			for (cut = 0; cut <= n; cut++) {
				struct lp_hp_table t;
				struct lp_hp_field f;
				__u8 *p = malloc(cut ? cut : 1);
				int i, next = 0;

				assert_non_null(p);
				memcpy(p, whole, cut);
				lp_hp_table_init(&t, 1);
				t.max = s >= 2 ? 256 : 4096;
				for (i = 0; i < b; i++)
					walk(&t, sets[s][i]);
				for (at = 0; at < cut; at = (__u32)next) {
					next = lp_hp_field(p, cut, at, &t, &f);
					if (next < 0)
						break;
				}
				/* only the last field can be cut; nothing is ever malformed */
				assert_true(next == LP_HP_CUT || at == cut);
				free(p);
			}
			free(whole);
		}
	}
}

/* nginx 1.22's response to GET /4k.bin, after its size update to 0: every field inserted */
#define NGINX_BLOCK                                                                                \
	"887689aa6355e580ae212e1f6196d07abe9403aa5f29141004e28072e09ab82654c5a37f5f87497ca58ae819" \
	"aa5c04343039366c96d07abe9403aa5f29141004e28072e05fb82714c5a37f00832a47378cfe5c8c2e35294a" \
	"b040007f3f008919085ad2b583aa62a3848fd24a8f"

static void test_entries_that_cannot_stay_are_not_decoded(void **state)
{
	struct lp_hp_table t;
	struct lp_hp_field f;
	struct walked w;
	int entries;
	__u32 n;
	__u8 *p;

	(void)state;
	/* a table of 0 bytes keeps nothing: no string needs decoding, :status still read */
	lp_hp_table_init(&t, 1);
	huff_steps = 0;
	w = walk(&t, "20" NGINX_BLOCK);
	assert_int_equal(w.fields, 9);
	assert_int_equal(w.first.kind, LP_HK_STATUS);
	assert_int_equal(w.first.value, 200);
	assert_int_equal(huff_steps, 0);
	assert_int_equal(table_size(&t, &entries), 0);
	/* back to 4096 bytes: what was inserted meanwhile is gone */
	walk(&t, "3fe11f");
	p = unhex("be", &n);
	assert_int_equal(lp_hp_field(p, n, 0, &t, &f), LP_HP_BAD);
	free(p);
	/* the same fields into a table of 4096 bytes: decoded, sizes exact (python3-hpack: 5
	 * entries, 50 + 65 + 54 + 50 + 74 bytes) */
	lp_hp_table_init(&t, 1);
	huff_steps = 0;
	w = walk(&t, NGINX_BLOCK);
	assert_int_equal(w.first.value, 200);
	assert_true(huff_steps >= 4);
	assert_int_equal(table_size(&t, &entries), 293);
	assert_int_equal(entries, 5);
	/* a Huffman-coded literal name that may be ":status" is decoded, table or not */
	lp_hp_table_init(&t, 1);
	walk(&t, "20");
	w = walk(&t, "0085b8848d36a303343034"); /* never indexed: ":status" (Huffman) "404" */
	assert_int_equal(w.first.kind, LP_HK_STATUS);
	assert_int_equal(w.first.value, 404);
	huff_steps = 0;
	w = walk(&t, "0086f2b21234da8f03343034"); /* "x-status" (Huffman): not decoded */
	assert_int_equal(w.have_first, 0);
	assert_int_equal(huff_steps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7541_requests_plain_and_huffman_track_the_table),
		cmocka_unit_test(test_rfc7541_responses_evict_exactly),
		cmocka_unit_test(test_a_status_first_inserted_then_referenced_resolves),
		cmocka_unit_test(test_huffman_method_and_status_literals),
		cmocka_unit_test(test_huffman_decoding_lengths_and_errors),
		cmocka_unit_test(test_size_updates_evict_and_shrink),
		cmocka_unit_test(test_references_from_before_the_agent_are_unknown),
		cmocka_unit_test(test_every_truncation_is_a_cut_never_a_wrong_field),
		cmocka_unit_test(test_entries_that_cannot_stay_are_not_decoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
