// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A TLS client that reuses one SSL object for several connections, as some
 * clients pool them: SSL_clear, a new socket, SSL_set_fd, a new handshake.
 * usage: ssl_reuse fd|bio PORT PATH...   (one connection and one GET per PATH;
 * the socket given by SSL_set_fd, or in a BIO of its own as curl does)
 * Prints, per request, the seconds from its write to the response's last byte;
 * a PATH written ~PATH is abandoned after the response's first read (a client
 * that gives up on a slow response and reuses the object): prints "-".
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int dial(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* one GET over ssl; the response read whole (Content-Length): seconds, or -1 */
static double get(SSL *ssl, const char *path, int abandon)
{
	char req[512], buf[16384];
	size_t have = 0;
	long want = -1;
	double t0;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	t0 = now();
	if (SSL_write(ssl, req, (int)strlen(req)) <= 0)
		return -1;
	for (;;) {
		int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
		char *end, *cl;

		if (n <= 0)
			return -1;
		if (abandon)
			return 0;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end && want < 0) {
			cl = strcasestr(buf, "content-length:");
			if (!cl || cl > end)
				return -1;
			want = (long)(end + 4 - buf) + strtol(cl + 15, NULL, 10);
		}
		if (want >= 0 && (long)have >= want)
			return now() - t0;
		if (have == sizeof(buf) - 1)
			return -1;
	}
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	SSL *ssl;
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: ssl_reuse fd|bio PORT PATH...\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	for (i = 3; i < argc; i++) {
		int fd = dial(atoi(argv[2])), ok;
		double t;

		if (fd < 0) {
			perror("connect");
			return 1;
		}
		if (i > 3)
			SSL_clear(ssl); /* the same object, a new connection */
		if (!strcmp(argv[1], "bio")) {
			BIO *b = BIO_new_socket(fd, BIO_NOCLOSE);

			SSL_set_bio(ssl, b, b); /* the old BIO freed by it */
			ok = b != NULL;
		} else {
			ok = SSL_set_fd(ssl, fd);
		}
		if (!ok || SSL_connect(ssl) != 1) {
			ERR_print_errors_fp(stderr);
			return 1;
		}
		t = get(ssl, argv[i] + (argv[i][0] == '~'), argv[i][0] == '~');
		if (t < 0) {
			fprintf(stderr, "GET %s failed\n", argv[i]);
			return 1;
		}
		if (argv[i][0] == '~')
			printf("-\n");
		else
			printf("%.6f\n", t);
		fflush(stdout);
		SSL_shutdown(ssl);
		close(fd);
		usleep(500000); /* apart: a sample that spans two connections would show */
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return 0;
}
