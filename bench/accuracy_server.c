// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The server of bench/accuracy.py: HTTP/1.1 keep-alive on two loopback
 * ports, one service-time distribution each, and the truth recorded by the
 * server itself for every request it answers.
 *
 *   port A: log-normal, median 2.47 ms, sigma 0.6 (p99 = 10.0 ms)
 *   port B: bimodal, 90 % log-normal median 1 ms, 10 % median 12 ms (sigma 0.25)
 *   port C: no delay at all: what latprobe sees there is the offset between
 *           the kernel's view and the process's, under the same load
 *
 * The service time of a request is taken at the socket layer as the process
 * sees it: from the return of the read() that completed the request head to
 * just before the write() of the response. A thread per connection; the
 * delay is a nanosleep with 1 ns timer slack.
 *
 * usage: accuracy_server OUTDIR PORT_A PORT_B PORT_C
 * On SIGTERM/SIGINT: writes OUTDIR/{lognormal,bimodal,zero}.txt (one
 * service time in ns per line) and exits 0. Prints "ready" once listening.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1u << 21)

enum dist { DIST_LOGNORMAL, DIST_BIMODAL, DIST_ZERO, NR_DIST };

static const char *const dist_file[NR_DIST] = { "lognormal.txt", "bimodal.txt", "zero.txt" };

struct samples {
	pthread_mutex_t lock;
	uint64_t *ns;
	size_t n;
};

static struct samples truth[NR_DIST] = {
	{ .lock = PTHREAD_MUTEX_INITIALIZER },
	{ .lock = PTHREAD_MUTEX_INITIALIZER },
};

struct conn {
	int fd;
	enum dist dist;
	uint64_t seed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: a per-connection stream, reproducible from its seed */
static double uniform(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return ((double)((x * 0x2545F4914F6CDD1DULL) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
	return sqrt(-2.0 * log(uniform(s))) * cos(2.0 * M_PI * uniform(s));
}

static uint64_t service_ns(enum dist d, uint64_t *s)
{
	double median_ms, sigma;

	if (d == DIST_ZERO)
		return 0;
	if (d == DIST_LOGNORMAL) {
		median_ms = 2.47;
		sigma = 0.6;
	} else {
		median_ms = uniform(s) < 0.9 ? 1.0 : 12.0;
		sigma = 0.25;
	}
	return (uint64_t)(median_ms * 1e6 * exp(sigma * normal(s)));
}

static void record(enum dist d, uint64_t ns)
{
	struct samples *t = &truth[d];

	pthread_mutex_lock(&t->lock);
	if (t->n < MAX_SAMPLES)
		t->ns[t->n++] = ns;
	pthread_mutex_unlock(&t->lock);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *serve(void *arg)
{
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct conn *c = arg;
	char buf[4096];
	size_t have = 0;

	for (;;) {
		ssize_t r = read(c->fd, buf + have, sizeof(buf) - 1 - have);
		uint64_t t0, want, t1;
		struct timespec ts;
		char *end;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end) {
			if (have >= sizeof(buf) - 1)
				break;
			continue;
		}
		t0 = now_ns();
		want = service_ns(c->dist, &c->seed);
		ts.tv_sec = (time_t)(want / 1000000000u);
		ts.tv_nsec = (long)(want % 1000000000u);
		while (want && nanosleep(&ts, &ts) && errno == EINTR)
			;
		t1 = now_ns();
		record(c->dist, t1 - t0);
		if (write_all(c->fd, rsp, sizeof(rsp) - 1))
			break;
		/* pipelined requests are not expected from the bench's client */
		have = 0;
	}
	close(c->fd);
	free(c);
	return NULL;
}

struct listener {
	int fd;
	enum dist dist;
};

static void *acceptor(void *arg)
{
	struct listener *l = arg;
	static uint64_t next_seed = 0x9E3779B97F4A7C15ULL;

	for (;;) {
		int fd = accept(l->fd, NULL, NULL);
		struct conn *c;
		pthread_t t;
		int one = 1;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return NULL;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->dist = l->dist;
		c->seed = __atomic_add_fetch(&next_seed, 0x9E3779B97F4A7C15ULL, __ATOMIC_RELAXED);
		if (pthread_create(&t, NULL, serve, c)) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 512)) {
		fprintf(stderr, "accuracy_server: port %d: %s\n", port, strerror(errno));
		exit(1);
	}
	return fd;
}

static int dump(const char *dir)
{
	char path[4096];
	int d;

	for (d = 0; d < NR_DIST; d++) {
		FILE *f;
		size_t i;

		snprintf(path, sizeof(path), "%s/%s", dir, dist_file[d]);
		f = fopen(path, "w");
		if (!f) {
			perror(path);
			return 1;
		}
		pthread_mutex_lock(&truth[d].lock);
		for (i = 0; i < truth[d].n; i++)
			fprintf(f, "%llu\n", (unsigned long long)truth[d].ns[i]);
		pthread_mutex_unlock(&truth[d].lock);
		if (fclose(f)) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct listener l[NR_DIST];
	sigset_t set;
	int d, sig;

	if (argc != 2 + NR_DIST) {
		fprintf(stderr, "usage: accuracy_server OUTDIR PORT_LOGNORMAL PORT_BIMODAL PORT_ZERO\n");
		return 2;
	}
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (d = 0; d < NR_DIST; d++) {
		pthread_t t;

		truth[d].ns = calloc(MAX_SAMPLES, sizeof(uint64_t));
		if (!truth[d].ns)
			return 1;
		l[d].fd = listen_on(atoi(argv[2 + d]));
		l[d].dist = (enum dist)d;
		if (pthread_create(&t, NULL, acceptor, &l[d]))
			return 1;
		pthread_detach(t);
	}
	printf("ready\n");
	fflush(stdout);
	sigdelset(&set, SIGPIPE);
	do
		sigwait(&set, &sig);
	while (sig == SIGPIPE);
	return dump(argv[1]);
}
