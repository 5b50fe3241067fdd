/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers for the cmocka unit tests (Debian 12's cmocka 1.1.6 has no double asserts). */
#ifndef LP_TEST_H
#define LP_TEST_H

#include <math.h>
#include <stdio.h>

#define assert_close(got, want, eps)                                                               \
	do {                                                                                       \
		double __g = (got), __w = (want), __e = (eps);                                      \
		if (!(fabs(__g - __w) <= __e)) {                                                   \
			print_error("%s = %.12g, want %.12g (+- %g)\n", #got, __g, __w, __e);       \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

/* |got / want - 1| < rel */
#define assert_rel(got, want, rel)                                                                 \
	do {                                                                                       \
		double __g = (got), __w = (want), __r = (rel);                                      \
		if (!(fabs(__g / __w - 1) < __r)) {                                                \
			print_error("%s = %.12g, want %.12g within %g %%\n", #got, __g, __w,        \
				    __r * 100);                                                    \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

#endif
