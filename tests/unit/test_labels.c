// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Service identity from cgroup paths and /proc/net/tcp (userspace/labels.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "labels.h"

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

static void test_listen_inode_from_proc_net_tcp(void **state)
{
	const char *tcp =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n"
		"   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 22222 1 0000000000000000 20 4 30 10 -1\n"
		"   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n";
	const char *tcp6 =
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0\n";

	(void)state;
	assert_int_equal(lp_listen_inode(tcp, 8080), 12345); /* the LISTEN one, not the established */
	assert_int_equal(lp_listen_inode(tcp, 80), 777);
	assert_int_equal(lp_listen_inode(tcp, 443), 0);
	assert_int_equal(lp_listen_inode(tcp6, 8080), 999);
	assert_int_equal(lp_listen_inode("garbage\n\n", 80), 0);
	assert_int_equal(lp_listen_inode("", 80), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_names_from_cgroup_paths),
		cmocka_unit_test(test_listen_inode_from_proc_net_tcp),
	};

	return cmocka_run_group_tests_name("labels", tests, NULL, NULL);
}
