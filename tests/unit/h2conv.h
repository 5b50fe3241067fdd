/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 conversations for the host tests: frames built from hex payloads,
 * a client's preface, segments in and out of a server (tests/unit/conv.h
 * drives them through the state machine). Included by tests/unit/test_h2.c
 * test_h2order.c and test_h2route.c, after conv.h.
 */
#ifndef LP_TEST_H2CONV_H
#define LP_TEST_H2CONV_H

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

/* a growable byte string */
struct bytes {
	char b[160 * 1024];
	__u32 n;
};

static inline void put(struct bytes *s, const void *p, __u32 n)
{
	assert_true(s->n + n <= sizeof(s->b));
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static inline void puthex(struct bytes *s, const char *hex)
{
	unsigned v;

	while (*hex) {
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		s->b[s->n++] = (char)v;
		hex += 2;
	}
}

static inline void frame(struct bytes *s, __u8 type, __u8 flags, __u32 id, const char *hex)
{
	struct bytes p = {.n = 0};
	__u8 h[9];

	puthex(&p, hex);
	h[0] = (__u8)(p.n >> 16);
	h[1] = (__u8)(p.n >> 8);
	h[2] = (__u8)p.n;
	h[3] = type;
	h[4] = flags;
	h[5] = (__u8)(id >> 24);
	h[6] = (__u8)(id >> 16);
	h[7] = (__u8)(id >> 8);
	h[8] = (__u8)id;
	put(s, h, 9);
	put(s, p.b, p.n);
}

#define ES  LP_H2F_END_STREAM
#define EH  LP_H2F_END_HEADERS
/* GET http / :authority localhost */
#define GET "828684410" "96c6f63616c686f7374"
#define POST_BLOCK "838684"
#define S200 "88"
#define S404 "8d"
#define S500 "8e"

/* the client's first flight: preface, SETTINGS, then what more holds */
static inline void client_start(struct bytes *s)
{
	put(s, PREFACE, 24);
	frame(s, LP_H2_SETTINGS, 0, 0, "000300000064");
}

/* client segment in (server side), from its sequence number, at time t */
static __u32 cseq = 1000, sseq = 50000;

static inline void in(struct conv *cv, struct bytes *s, __u64 t)
{
	segn(cv, IN, cseq, sseq, s->b, s->n, 0, t);
	cseq += s->n;
	s->n = 0;
}

static inline void out(struct conv *cv, struct bytes *s, __u64 t)
{
	segn(cv, OUT, sseq, cseq, s->b, s->n, 0, t);
	sseq += s->n;
	s->n = 0;
}

static struct bytes a, b;

static inline void reset_seqs(void)
{
	cseq = 1000;
	sseq = 50000;
	a.n = b.n = 0;
}

/* a fresh connection: the client's preface and n GETs (streams 1, 3, ...) in one segment at t */
static inline void get_streams(struct conv *cv, __u32 n, __u64 t)
{
	__u32 i;

	reset_seqs();
	client_start(&a);
	for (i = 0; i < n; i++)
		frame(&a, LP_H2_HEADERS, ES | EH, 2 * i + 1, GET);
	in(cv, &a, t);
}

/* GET http, then the :path field given (hex), then :authority a (literal, inserted) */
static inline void get_path(struct bytes *s, __u32 id, const char *path_field)
{
	char hex[512];

	snprintf(hex, sizeof(hex), "8286%s410161", path_field); /* GET http, the path, a */
	frame(s, LP_H2_HEADERS, ES | EH, id, hex);
}

/* streams 1, 3, ... each a GET of the :path field given, answered 200; their routes in cv */
static inline void path_conversation(struct conv *cv, const char *const *fields, int n)
{
	int i;

	reset_seqs();
	client_start(&a);
	for (i = 0; i < n; i++)
		get_path(&a, 2 * i + 1, fields[i]);
	in(cv, &a, 100);
	for (i = 0; i < n; i++) {
		frame(&b, LP_H2_HEADERS, EH, 2 * i + 1, S200);
		frame(&b, LP_H2_DATA, ES, 2 * i + 1, "6f6b");
	}
	out(cv, &b, 400);
	assert_int_equal(cv->samples, n);
}

#endif /* LP_TEST_H2CONV_H */
