/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Content negotiation for /metrics, beside the HTTP server that uses it. */
#ifndef LP_NEGOTIATE_H
#define LP_NEGOTIATE_H

#include <stdbool.h>
#include "export/expo.h"

/* Choose a format from an Accept header (NULL: text). q-values are honoured. */
enum lp_format lp_accept_format(const char *accept);
/* Does an Accept-Encoding header allow gzip? */
bool lp_accept_gzip(const char *accept_encoding);
const char *lp_format_content_type(enum lp_format f);

#endif
