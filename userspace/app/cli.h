/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Command line: the parsers that fill the configuration (base/config.h).
 * Pure: parsing writes only the config and an error message; main() prints
 * and exits. Included by main.c and the parser's own tests only.
 */
#ifndef LP_CLI_H
#define LP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <sys/socket.h>
#include "base/config.h"

/* The result of parsing: run, or exit with a status (0 for --help/--version). */
enum lp_cli_result {
	LP_CLI_RUN = 0,
	LP_CLI_EXIT_OK,
	LP_CLI_EXIT_USAGE, /* bad flag or value: exit 2 */
};

/*
 * Parse argv into cfg (which lp_config_defaults() prepared). On
 * LP_CLI_EXIT_USAGE, err holds one line naming the flag and the value.
 * --help and --version text goes to out.
 */
int lp_cli_parse(struct lp_config *cfg, int argc, char **argv, char *err, size_t errlen,
		 void (*out)(const char *text));
const char *lp_cli_usage(void);

/* arguments that own their strings: argv[n] is NULL */
struct lp_args {
	char **v;
	int n, cap;
};
int lp_args_add(struct lp_args *a, const char *s);
void lp_args_free(struct lp_args *a);

/*
 * The arguments to parse: argv with the settings of --config FILE put in
 * front of the command line's (app/config_file.c), leaving out every
 * setting the command line gives, so the command line overrides the file
 * (a list too: its values replace the file's). 0, or -errno with err
 * naming the file and line.
 */
int lp_cli_args(int argc, char **argv, struct lp_args *out, char *err, size_t errlen);
/* YAML FILE's settings as "--name=value" arguments, in its order */
int lp_config_file_args(const char *path, struct lp_args *out, char *err, size_t errlen);

/* what a long option is to a configuration file */
enum {
	LP_OPT_FLAG = 0, /* no value: true or false */
	LP_OPT_VALUE,	 /* one value */
	LP_OPT_LIST,	 /* repeatable: one value or a list */
	LP_OPT_CMDLINE,	 /* --help, --version, --config: not in a file */
};
/* LP_OPT_*, or -1: no such option */
int lp_cli_option_kind(const char *name);

/* parsers of single values; return 0 or -EINVAL */
int lp_parse_slo(const char *spec, struct lp_slo *slo, char *err, size_t errlen);
/* --service-name-from: the order of service_name's sources into cfg; -EINVAL naming the flag */
int lp_parse_service_from(struct lp_config *cfg, const char *arg, char *err, size_t errlen);
int lp_parse_port(const char *s, __u16 *port);
/* --listen: ":PORT" (all addresses, dual stack), "IPv4:PORT", "localhost:PORT", "[IPv6]:PORT" */
int lp_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif /* LP_CLI_H */
