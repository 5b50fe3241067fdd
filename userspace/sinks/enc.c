// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the sinks' own files share: names, option values, the SLO figures they send. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "sinks/sink.h"

void lp_enc_job_defaults(struct lp_enc_job *j, const char *hostname)
{
	strcpy(j->job, "latprobe");
	if (lp_copy(j->instance, sizeof(j->instance), hostname))
		strcpy(j->instance, "localhost");
}

int lp_enc_job_option(struct lp_enc_job *j, const char *k, const char *v)
{
	if (!strcmp(k, "job"))
		return *v && !lp_copy(j->job, sizeof(j->job), v) ? 0 : -EINVAL;
	if (!strcmp(k, "instance"))
		return *v && !lp_copy(j->instance, sizeof(j->instance), v) ? 0 : -EINVAL;
	return -ENOENT;
}

const char *lp_enc_clean(char *out, size_t len, const char *s, bool dots)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < len; i++) {
		char ch = s[i];

		out[i] = ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
			  (dots && (ch == '.' || ch == ':' || ch == '/')))
				 ? ch
				 : '_';
	}
	out[i] = '\0';
	if (!i)
		snprintf(out, len, "none");
	return out;
}

void lp_enc_slo_first_window(const struct lp_model *m, const struct lp_series_view *v, unsigned k,
			     double *ratio, double *burn)
{
	*ratio = *burn = NAN;
	if (!m->cfg->nwindows)
		return;
	*ratio = v->win[0].slo_ratio[k];
	*burn = v->win[0].slo_burn[k];
}

bool lp_enc_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

bool lp_enc_path_ok(const char *p)
{
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

int lp_enc_bool(const char *s, bool *v)
{
	if (!strcmp(s, "1") || !strcmp(s, "true"))
		*v = true;
	else if (!strcmp(s, "0") || !strcmp(s, "false"))
		*v = false;
	else
		return -EINVAL;
	return 0;
}
