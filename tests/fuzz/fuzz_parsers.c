// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every parser of outside input in user space: the command line (argv from
 * NUL-separated input), durations, SLO specs, Accept and Accept-Encoding
 * headers, --listen addresses. The first byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "base/util.h"
#include "export/expo.h"
#include "export/negotiate.h"
#include "core/hist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, err[512], *argv[64];
	struct lp_config cfg;
	struct lp_slo slo;
	struct sockaddr_storage ss;
	socklen_t len;
	__u64 ns;
	int argc = 1, i;

	if (size < 1 || size > 4096)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		lp_parse_duration_ns(s, &ns);
		break;
	case 1:
		if (lp_parse_slo(s, &slo, err, sizeof(err)) == 0 &&
		    (!slo.threshold_ns || !(slo.objective > 0 && slo.objective < 1) || !slo.name[0]))
			abort();
		break;
	case 2:
		if (lp_accept_format(s) > LP_FMT_PROTOBUF)
			abort();
		lp_accept_gzip(s);
		break;
	case 3:
		lp_parse_listen(s, &ss, &len);
		break;
	default: {
		/* argv: the input split at NULs */
		char *p = s, *end = s + size - 1;

		argv[0] = (char *)"latprobe";
		while (p < end && argc < 63) {
			argv[argc++] = p;
			p += strlen(p) + 1;
		}
		argv[argc] = NULL;
		lp_config_defaults(&cfg);
		i = lp_cli_parse(&cfg, argc, argv, err, sizeof(err), NULL);
		if (i == LP_CLI_EXIT_USAGE && !err[0])
			abort(); /* every refusal says why */
		if (i == LP_CLI_RUN) {
			unsigned k;

			if (cfg.nclassic >= LP_CLASSIC_MAX || cfg.nslos > LP_MAX_SLOS ||
			    cfg.schema > LP_SCHEMA_MAX || !cfg.nwindows)
				abort();
			for (k = 0; k < cfg.nslos; k++)
				if (cfg.classic_ns[cfg.slos[k].classic_idx] != cfg.slos[k].threshold_ns)
					abort();
			for (k = 1; k < cfg.nclassic; k++)
				if (cfg.classic_ns[k - 1] >= cfg.classic_ns[k])
					abort();
		}
		break;
	}
	}
	free(s);
	return 0;
}
