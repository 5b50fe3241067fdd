/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A reload's checks: may the configuration next (just parsed from --config
 * and the command line) replace cur, the running one, without loading the
 * kernel side or the endpoint again and without a counter changing its
 * meaning? Used by main.c's SIGHUP handling.
 */
#ifndef LP_RELOAD_CHECK_H
#define LP_RELOAD_CHECK_H

#include <stddef.h>
#include "base/config.h"

/*
 * 0, or -EINVAL with err saying why not: an SLO threshold that is not one of
 * the classic boundaries loaded at start, a setting only a restart can
 * change (naming its flag), or an SLO name given another definition.
 */
int lp_reload_check(const struct lp_config *next, const struct lp_config *cur, char *err,
		    size_t errlen);

#endif
