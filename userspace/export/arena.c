// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The writers' arena (writer.h): lp_wr_alloc, lp_wr_strdup, lp_wr_release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/writer.h"

/*
 * Bump allocation for the messages of the protobuf writers (fmt_pb.c: a
 * family at a time; fmt_rw.c: a whole remote-write request): tens of
 * thousands of small structs per scrape that would otherwise be malloc'd and
 * freed one by one, leaving the heap fragmented (the agent kept ~10-20 MB
 * after a protobuf scrape of 10 000 series). Blocks of 4 MiB are mappings of
 * their own (above M_MMAP_THRESHOLD) and go back to the kernel when the
 * writer releases them. Memory comes zeroed.
 */
struct wr_block {
	struct wr_block *next;
	size_t used, cap;
	char data[];
};

#define WR_BLOCK (4u << 20)

void *lp_wr_alloc(struct writer *s, size_t n)
{
	struct wr_block *b = s->blocks;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > WR_BLOCK ? n : WR_BLOCK;

		b = calloc(1, sizeof(*b) + cap); /* zeroed: calloc on a fresh mapping */
		if (!b) {
			s->err = -ENOMEM;
			return NULL;
		}
		b->cap = cap;
		b->next = s->blocks;
		s->blocks = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

char *lp_wr_strdup(struct writer *s, const char *v)
{
	size_t n = strlen(v) + 1;
	char *p = lp_wr_alloc(s, n);

	if (p)
		memcpy(p, v, n);
	return p;
}

void lp_wr_release(struct writer *s)
{
	while (s->blocks) {
		struct wr_block *n = s->blocks->next;

		free(s->blocks);
		s->blocks = n;
	}
}
