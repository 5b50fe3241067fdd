// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Content negotiation for /metrics: which format and encoding a scraper asked for. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export/negotiate.h"

/* next comma-separated element; trims spaces; returns false at the end */
static bool next_elem(const char **p, const char **start, size_t *len)
{
	const char *s = *p, *e;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (!*s)
		return false;
	e = s;
	while (*e && *e != ',')
		e++;
	*p = e;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*start = s;
	*len = (size_t)(e - s);
	return true;
}

/* value of parameter name in "type/sub; a=b; q=0.5" (len bytes), copied to out */
static bool media_param(const char *m, size_t len, const char *name, char *out, size_t outlen)
{
	const char *end = m + len, *p = memchr(m, ';', len);
	size_t nl = strlen(name);

	while (p && p < end) {
		const char *k = p + 1, *v, *ve;

		while (k < end && (*k == ' ' || *k == '\t'))
			k++;
		ve = memchr(k, ';', (size_t)(end - k));
		if (!ve)
			ve = end;
		v = memchr(k, '=', (size_t)(ve - k));
		if (v && (size_t)(v - k) == nl && !strncasecmp(k, name, nl)) {
			size_t vl;

			v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (v < ve && *v == '"' && ve[-1] == '"' && ve - v >= 2) {
				v++;
				ve--;
			}
			vl = (size_t)(ve - v);
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return true;
		}
		p = ve < end ? ve : NULL;
	}
	return false;
}

static double media_q(const char *m, size_t len)
{
	char q[16];
	char *end;
	double v;

	if (!media_param(m, len, "q", q, sizeof(q)))
		return 1.0;
	v = strtod(q, &end);
	if (end == q || *end || !(v >= 0.0) || v > 1.0)
		return 0.0; /* malformed q: not acceptable */
	return v;
}

static bool media_is(const char *m, size_t len, const char *type)
{
	size_t tl = strlen(type);

	return len >= tl && !strncasecmp(m, type, tl) &&
	       (len == tl || m[tl] == ';' || m[tl] == ' ' || m[tl] == '\t');
}

enum lp_format lp_accept_format(const char *accept)
{
	enum lp_format best = LP_FMT_TEXT;
	double best_q = -1;
	const char *p = accept, *m;
	size_t len;

	if (!accept)
		return LP_FMT_TEXT;
	while (next_elem(&p, &m, &len)) {
		char v[64];
		double q = media_q(m, len);
		int f = -1;

		if (media_is(m, len, "application/vnd.google.protobuf")) {
			if (media_param(m, len, "proto", v, sizeof(v)) &&
			    !strcmp(v, "io.prometheus.client.MetricFamily") &&
			    media_param(m, len, "encoding", v, sizeof(v)) &&
			    !strcmp(v, "delimited"))
				f = LP_FMT_PROTOBUF;
		} else if (media_is(m, len, "application/openmetrics-text")) {
			if (!media_param(m, len, "version", v, sizeof(v)) || !strcmp(v, "1.0.0") ||
			    !strcmp(v, "0.0.1"))
				f = LP_FMT_OPENMETRICS;
		} else if (media_is(m, len, "text/plain")) {
			if (!media_param(m, len, "version", v, sizeof(v)) || !strcmp(v, "0.0.4"))
				f = LP_FMT_TEXT;
		} else if (media_is(m, len, "*/*") || media_is(m, len, "text/*")) {
			f = LP_FMT_TEXT;
		}
		if (f >= 0 && q > 0 && q > best_q) {
			best = (enum lp_format)f;
			best_q = q;
		}
	}
	return best;
}

bool lp_accept_gzip(const char *ae)
{
	const char *p = ae, *m;
	size_t len;

	if (!ae)
		return false;
	while (next_elem(&p, &m, &len)) {
		if ((media_is(m, len, "gzip") || media_is(m, len, "*")) && media_q(m, len) > 0)
			return true;
	}
	return false;
}

const char *lp_format_content_type(enum lp_format f)
{
	switch (f) {
	case LP_FMT_OPENMETRICS:
		return "application/openmetrics-text; version=1.0.0; charset=utf-8";
	case LP_FMT_PROTOBUF:
		return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
		       "encoding=delimited";
	default:
		return "text/plain; version=0.0.4; charset=utf-8";
	}
}
