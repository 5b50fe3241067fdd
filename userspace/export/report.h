/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a person or a script sees on stdout: the table, the log2 histogram, JSON. */
#ifndef LP_REPORT_H
#define LP_REPORT_H

#include <stdio.h>
#include "core/collector.h"

void lp_report_table(FILE *f, const struct lp_model *m, bool hist);
/* the JSON document of a model (malloc'd, one line), or NULL */
char *lp_report_json_string(const struct lp_model *m);
/* only the "slos" section (with version and time): what latprobe check reads, a few KB
 * where the whole document is megabytes */
char *lp_report_slos_json_string(const struct lp_model *m);
/* one JSON document (one line) for the model; returns 0 or -errno */
int lp_report_json(FILE *f, const struct lp_model *m);
/* human duration from seconds: "312.4us", "1.20ms", "2.500s"; "-" for NaN */
void lp_fmt_latency(char *buf, size_t len, double seconds);

#endif /* LP_REPORT_H */
