// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * User side of the ring-buffer peer: attach ringbuf.bpf.o to the cgroup2
 * root, consume every event, pair request and response per socket cookie,
 * add the latency to a log2 histogram. Prints the pairs and events on exit.
 * usage: ringbuf_consumer CGROUP_PATH (SIGINT/SIGTERM to stop)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "ringbuf.skel.h"

struct event {
	__u64 cookie;
	__u64 ts;
	__u16 status;
	__u8 kind;
	__u8 ingress;
	__u8 method;
	__u8 pad[3];
};

#define SLOTS (1u << 20)

struct pending {
	__u64 cookie;
	__u64 ts;
};

static struct pending *table;
static unsigned long long events, pairs, hist[64];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct event *e = data;
	size_t i = (e->cookie * 0x9e3779b97f4a7c15ULL) >> 44;

	(void)ctx;
	(void)len;
	events++;
	/* open addressing on the socket cookie */
	for (; table[i].cookie && table[i].cookie != e->cookie; i = (i + 1) & (SLOTS - 1))
		;
	if (e->kind == 1) {
		if (!table[i].cookie) {
			table[i].cookie = e->cookie;
			table[i].ts = e->ts;
		}
	} else if (table[i].cookie) {
		__u64 d = e->ts - table[i].ts;

		hist[d ? 63 - __builtin_clzll(d) : 0]++;
		pairs++;
		table[i].cookie = 0; /* a tombstone-free delete is good enough for a benchmark */
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ringbuf_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *l1, *l2;
	int fd;

	if (argc != 2)
		return 2;
	table = calloc(SLOTS, sizeof(*table));
	skel = ringbuf_bpf__open_and_load();
	fd = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (!table || !skel || fd < 0)
		return 1;
	l1 = bpf_program__attach_cgroup(skel->progs.ringbuf_ingress, fd);
	l2 = bpf_program__attach_cgroup(skel->progs.ringbuf_egress, fd);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!l1 || !l2 || !rb)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "ringbuf_consumer: attached\n");
	while (!stop)
		ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	printf("{\"events\": %llu, \"pairs\": %llu}\n", events, pairs);
	ring_buffer__free(rb);
	bpf_link__destroy(l1);
	bpf_link__destroy(l2);
	ringbuf_bpf__destroy(skel);
	close(fd);
	free(table);
	return 0;
}
