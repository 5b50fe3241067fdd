// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The TLS scanner's pure parts (userspace/core/tls.c): which /proc/PID/maps
 * lines map an OpenSSL libssl, and which processes are in the --cgroup scope.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "core/tls.h"

static void test_maps_lines(void **state)
{
	struct lp_tls_lib lib;

	(void)state;
	assert_true(lp_tls_maps_line("7f3c1c2b1000-7f3c1c2cf000 r--p 00000000 fe:01 1837431   "
				     "                 /usr/lib/x86_64-linux-gnu/libssl.so.3\n",
				     &lib));
	assert_string_equal(lib.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	assert_int_equal(lib.ino, 1837431);
	assert_int_equal(lib.dev, (0xfeull << 20) | 1);
	/* OpenSSL 1.1, and a container's own copy */
	assert_true(lp_tls_maps_line("7f0-7f1 r-xp 00001000 08:02 42 /opt/app/lib/libssl.so.1.1",
				     &lib));
	assert_string_equal(lib.path, "/opt/app/lib/libssl.so.1.1");
	/* a path with a space in it is one path */
	assert_true(
		lp_tls_maps_line("7f0-7f1 r-xp 00001000 08:02 43 /opt/my app/libssl.so.3\n", &lib));
	assert_string_equal(lib.path, "/opt/my app/libssl.so.3");
	/* not libssl: libcrypto, a name that merely contains it, anonymous, deleted */
	assert_false(
		lp_tls_maps_line("7f0-7f1 r-xp 00000000 08:02 44 /usr/lib/libcrypto.so.3", &lib));
	assert_false(
		lp_tls_maps_line("7f0-7f1 r-xp 00000000 08:02 45 /usr/lib/mylibssl.so.3", &lib));
	assert_false(lp_tls_maps_line("7f0-7f1 r-xp 00000000 08:02 46 /libssl.so.3/libz.so", &lib));
	assert_false(lp_tls_maps_line("7f0-7f1 rw-p 00000000 00:00 0 ", &lib));
	assert_false(lp_tls_maps_line("7f0-7f1 r-xp 00000000 08:02 47 /usr/lib/libssl.so.3 "
				      "(deleted)\n",
				      &lib));
	assert_false(lp_tls_maps_line("garbage", &lib));
	assert_false(lp_tls_maps_line("", &lib));
}

static void test_scope(void **state)
{
	const char *v2 = "0::/system.slice/nginx.service\n";
	const char *hybrid = "12:cpu,cpuacct:/system.slice\n1:name=systemd:/x\n"
			     "0::/kubepods/pod1/c2\n";

	(void)state;
	assert_true(lp_tls_in_scope(v2, ""));
	assert_true(lp_tls_in_scope(v2, "/"));
	assert_true(lp_tls_in_scope(v2, "/system.slice"));
	assert_true(lp_tls_in_scope(v2, "/system.slice/"));
	assert_true(lp_tls_in_scope(v2, "/system.slice/nginx.service"));
	assert_false(lp_tls_in_scope(v2, "/system.slice/nginx")); /* a prefix, not a parent */
	assert_false(lp_tls_in_scope(v2, "/user.slice"));
	assert_true(lp_tls_in_scope(hybrid, "/kubepods/pod1"));
	assert_false(lp_tls_in_scope(hybrid, "/system.slice")); /* a v1 line is no scope */
	assert_false(lp_tls_in_scope("12:cpu:/a\n", "/a"));	/* no v2 line */
	assert_true(lp_tls_in_scope("12:cpu:/a\n", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_lines),
		cmocka_unit_test(test_scope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
