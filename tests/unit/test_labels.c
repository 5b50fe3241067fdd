// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Service identity from cgroup paths and listening sockets (userspace/core/labels.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/labels.h"
#include "base/buf.h"

static void expect_service(const char *path, const char *want)
{
	char buf[128];

	assert_int_equal(lp_service_from_cgroup(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_service_names_from_cgroup_paths(void **state)
{
	char buf[64];

	(void)state;
	expect_service("/system.slice/nginx.service", "nginx.service");
	expect_service("/system.slice/docker-"
		       "4f1c2a8e9b7d6c5e4f1c2a8e9b7d6c5e4f1c2a8e9b7d6c5e4f1c2a8e9b7d6c5e.scope",
		       "docker:4f1c2a8e9b7d");
	expect_service("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
		       "cri-containerd-"
		       "aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999.scope",
		       "container:aaaabbbbcccc");
	expect_service("/kubepods/besteffort/pod6a1e/"
		       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		       "container:0123456789ab");
	expect_service("/system.slice/app.service/worker", "app.service");
	expect_service("/user.slice/user-1000.slice/session-2.scope", "session-2.scope");
	expect_service("/latprobe-test", "latprobe-test");
	assert_int_equal(lp_service_from_cgroup("/", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(lp_service_from_cgroup("", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(lp_service_from_cgroup(NULL, buf, sizeof(buf)), -ENOENT);
}

/* a socket this process listens on is named by this process's name, on v4 and v6 */
static void test_listener_is_named_by_its_process(void **state)
{
	struct lp_key key = { .side = LP_SIDE_SERVER, .method = 1, .status = 200 };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a), alen6 = sizeof(a6);
	char comm[17] = "";
	struct lp_labels *l;
	int fd, fd6;

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(prctl(PR_GET_NAME, comm, 0, 0, 0), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	fd6 = socket(AF_INET6, SOCK_STREAM, 0);
	assert_true(fd >= 0 && fd6 >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	l = lp_labels__new("");
	assert_non_null(l);
	lp_labels__prime(l);
	key.port = ntohs(a.sin_port);
	assert_string_equal(lp_labels__service(l, &key), comm);
	/* a port nobody listens on has no process; an IPv6 listener that appears
	 * later is found by the refresh an unknown port asks for (at most one a second) */
	assert_int_equal(bind(fd6, (struct sockaddr *)&a6, sizeof(a6)), 0);
	assert_int_equal(listen(fd6, 1), 0);
	assert_int_equal(getsockname(fd6, (struct sockaddr *)&a6, &alen6), 0);
	key.port = ntohs(a6.sin6_port);
	assert_string_equal(lp_labels__service(l, &key), "unknown");
	lp_labels__free(l);
	l = lp_labels__new("");
	assert_non_null(l);
	assert_string_equal(lp_labels__service(l, &key), comm);
	lp_labels__free(l);
	close(fd);
	close(fd6);
}

/* the fallback reader when sock_diag is not to be had */
static void test_proc_net_tcp_listen_lines(void **state)
{
	static const char v4[] =
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
		"     0        0 123456 1 0000000000000000 100 0 0 10 0\n";
	static const char v6[] =
		"   1: 00000000000000000000000001000000:4856 00000000000000000000000000000000:0000 "
		"0A 00000000:00000000 00:00000000 00000000   101        0 98765 1 0 100 0 0 10 0\n";
	static const char est[] =
		"   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000"
		"     0        0 555 1 0000000000000000 20 4 30 10 -1\n";
	static const char head[] = "  sl  local_address rem_address   st tx_queue rx_queue tr "
				   "tm->when retrnsmt   uid  timeout inode\n";
	__u16 port = 0;
	unsigned long ino = 0;

	(void)state;
	assert_int_equal(lp_proc_net_tcp_listener(v4, &port, &ino), 1);
	assert_int_equal(port, 8080);
	assert_int_equal(ino, 123456);
	assert_int_equal(lp_proc_net_tcp_listener(v6, &port, &ino), 1);
	assert_int_equal(port, 0x4856);
	assert_int_equal(ino, 98765);
	assert_int_equal(lp_proc_net_tcp_listener(est, &port, &ino), 0);
	assert_int_equal(lp_proc_net_tcp_listener(head, &port, &ino), 0);
	assert_int_equal(lp_proc_net_tcp_listener("", &port, &ino), 0);
	assert_int_equal(lp_proc_net_tcp_listener("garbage: x y z\n", &port, &ino), 0);
}

/* every name that enters is made valid UTF-8 without control characters */
static void test_names_are_made_valid_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "nginx.service", "nginx.service" },
		{ "x\xff\"q\r.service", "x\xef\xbf\xbd\"q\xef\xbf\xbd.service" },
		{ "py\xff\x1b[7m", "py\xef\xbf\xbd\xef\xbf\xbd[7m" },
		{ "caf\xc3\xa9-\xe6\x97\xa5-\xf0\x9f\x98\x80", "caf\xc3\xa9-\xe6\x97\xa5-\xf0\x9f\x98\x80" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },			/* overlong */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "a\xe6\x97", "a\xef\xbf\xbd\xef\xbf\xbd" },		/* cut short */
		{ "\xc2\x85\x7f", "\xef\xbf\xbd\xef\xbf\xbd" },		/* C1, DEL */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		/* bidirectional controls: a name that would read backwards (U+202E, U+2066, U+200F) */
		{ "xnign\xe2\x80\xae" "ecivres.", "xnign\xef\xbf\xbd" "ecivres." },
		{ "a\xe2\x81\xa6" "b\xe2\x80\x8f", "a\xef\xbf\xbd" "b\xef\xbf\xbd" },
		{ "\xe2\x80\x8d-zwj-kept", "\xe2\x80\x8d-zwj-kept" }, /* U+200D joins emoji */
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = lp_name_clean(cases[i].in, out, sizeof(out));

		assert_string_equal(out, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
	/* cut on a character boundary, never inside one */
	assert_int_equal(lp_name_clean("ab\xff\xff", out, 8), 5);
	assert_string_equal(out, "ab\xef\xbf\xbd");
	assert_int_equal(lp_name_clean("\xe6\x97\xa5\xe6\x97\xa5", out, 6), 3);
	assert_int_equal(lp_name_clean("abc", out, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_names_from_cgroup_paths),
		cmocka_unit_test(test_listener_is_named_by_its_process),
		cmocka_unit_test(test_proc_net_tcp_listen_lines),
		cmocka_unit_test(test_names_are_made_valid_utf8),
	};

	return cmocka_run_group_tests_name("labels", tests, NULL, NULL);
}
