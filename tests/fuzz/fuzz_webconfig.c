// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The --web-config parser (libyaml underneath): any text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_webconfig wc;
	char err[256];
	unsigned i;

	if (lp_webconfig_parse((const char *)data, size, &wc, err, sizeof(err)) == 0) {
		if ((!wc.cert_file) != (!wc.key_file))
			abort();
		for (i = 0; i < wc.nusers; i++)
			if (strlen(wc.users[i].hash) != 60)
				abort();
		lp_webconfig_free(&wc);
	} else if (!err[0]) {
		abort();
	}
	return 0;
}
