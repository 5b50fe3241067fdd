// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --config FILE: a YAML mapping whose keys are the long flags, read into the
 * arguments the command line would have held ("--name=value"), so the file
 * and the flags are one parser, one set of checks and one set of messages
 * (app/cli.c). A flag without a value takes true or false; a repeatable
 * one a list; an SLO may be written as a mapping of its keys.
 *
 *   listen: ":18464"
 *   route: [users=/api/users, /api/orders]
 *   slo:
 *     - name: checkout
 *       threshold: 250ms
 *       objective: 99.9%
 *       method: POST
 *   quiet: true
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/util.h"
#include "app/cli.h"

#define LP_CONFIG_FILE_MAX (1 << 20) /* bytes: a configuration, not a data file */

void lp_args_free(struct lp_args *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int lp_args_add(struct lp_args *a, const char *s)
{
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	if (a->n + 2 > a->cap) {
		int cap = a->cap ? 2 * a->cap : 32;
		char **v = realloc(a->v, (size_t)cap * sizeof(*v));

		if (!v) {
			free(d);
			return -ENOMEM;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = d;
	a->v[a->n] = NULL; /* argv's end */
	return 0;
}

struct fparse {
	const char *path;
	yaml_document_t *doc;
	struct lp_args *out;
	char *err;
	size_t errlen;
};

static int bad(struct fparse *f, const yaml_node_t *n, const char *fmt, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, what);
	return lp_errf(-EINVAL, f->err, f->errlen, "%s:%zu: %s", f->path, n->start_mark.line + 1,
		       msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* YAML 1.1's booleans, as people write them: 1 true, 0 false, -1 neither */
static int boolean(const char *s)
{
	static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On"};
	static const char *const f[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off"};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(s, t[i]))
			return 1;
		if (!strcmp(s, f[i]))
			return 0;
	}
	return -1;
}

static int add_value(struct fparse *f, const char *key, const char *value)
{
	char *a;
	int e;

	if (asprintf(&a, "--%s=%s", key, value) < 0)
		return -ENOMEM;
	e = lp_args_add(f->out, a);
	free(a);
	return e;
}

/* an SLO written as a mapping: "key=value,..." as --slo takes it */
static int slo_mapping(struct fparse *f, const yaml_node_t *n)
{
	char spec[1024] = "";
	size_t len = 0;
	yaml_node_pair_t *p;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(f->doc, p->key),
				  *v = yaml_document_get_node(f->doc, p->value);
		const char *ks = scalar(k), *vs = scalar(v);
		int w;

		if (!ks || !vs || !*vs)
			return bad(f, k ? k : n, "%s: an SLO's keys take one value each", "slo");
		if (strchr(vs, ',') || strchr(ks, ',') || strchr(ks, '='))
			return bad(f, v, "slo: '%s' holds ',' or '='", vs);
		w = snprintf(spec + len, sizeof(spec) - len, "%s%s=%s", len ? "," : "", ks, vs);
		if (w < 0 || (size_t)w >= sizeof(spec) - len)
			return bad(f, n, "%s: too long", "slo");
		len += (size_t)w;
	}
	if (!len)
		return bad(f, n, "%s: an empty SLO", "slo");
	return add_value(f, "slo", spec);
}

/* one value of key (kind: LP_OPT_*) */
static int one_value(struct fparse *f, const char *key, int kind, const yaml_node_t *v)
{
	const char *s = scalar(v);
	char flag[80];

	if (v->type == YAML_MAPPING_NODE && !strcmp(key, "slo"))
		return slo_mapping(f, v);
	if (!s)
		return bad(f, v, "%s: expected a plain value", key);
	if (kind == LP_OPT_FLAG) {
		int b = boolean(s);

		if (b < 0)
			return bad(f, v, "%s: expected true or false", key);
		if (!b)
			return 0;
		snprintf(flag, sizeof(flag), "--%s", key);
		return lp_args_add(f->out, flag);
	}
	if (!*s && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return bad(f, v, "%s: no value", key);
	return add_value(f, key, s);
}

static int setting(struct fparse *f, const yaml_node_t *k, const yaml_node_t *v)
{
	const char *key = scalar(k);
	int kind;
	yaml_node_item_t *it;

	if (!key)
		return bad(f, k, "%s", "a setting's name is a plain word (a long flag)");
	kind = lp_cli_option_kind(key);
	if (kind < 0)
		return bad(f, k,
			   "unknown setting '%s' (the settings are the long flags of latprobe "
			   "--help, without their dashes)",
			   key);
	if (kind == LP_OPT_CMDLINE)
		return bad(f, k, "'%s' belongs on the command line, not in a file", key);
	if (v->type != YAML_SEQUENCE_NODE)
		return one_value(f, key, kind, v);
	if (kind != LP_OPT_LIST)
		return bad(f, v, "%s: takes one value, not a list", key);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		int e = one_value(f, key, kind, yaml_document_get_node(f->doc, *it));

		if (e)
			return e;
	}
	return 0;
}

static int walk(struct fparse *f)
{
	const yaml_node_t *root = yaml_document_get_root_node(f->doc);
	yaml_node_pair_t *p, *q;

	if (!root) /* an empty file: no settings */
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return bad(f, root, "%s", "expected a mapping of settings (name: value)");
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(f->doc, p->key);
		int e;

		for (q = root->data.mapping.pairs.start; q < p; q++) {
			const char *a = scalar(yaml_document_get_node(f->doc, q->key)),
				   *b = scalar(k);

			if (a && b && !strcmp(a, b))
				return bad(f, k, "'%s' given twice (a list takes [a, b])", b);
		}
		e = setting(f, k, yaml_document_get_node(f->doc, p->value));
		if (e)
			return e;
	}
	return 0;
}

int lp_config_file_args(const char *path, struct lp_args *out, char *err, size_t errlen)
{
	struct fparse f = {.path = path, .out = out, .err = err, .errlen = errlen};
	yaml_document_t doc;
	yaml_parser_t p;
	FILE *in = fopen(path, "re");
	long size;
	int e;

	if (!in)
		return lp_errf(-errno, err, errlen, "--config %s: %s", path, strerror(errno));
	if (fseek(in, 0, SEEK_END) || (size = ftell(in)) < 0 || fseek(in, 0, SEEK_SET)) {
		fclose(in);
		return lp_errf(-EINVAL, err, errlen, "--config %s: not a regular file", path);
	}
	if (size > LP_CONFIG_FILE_MAX) {
		fclose(in);
		return lp_errf(-EFBIG, err, errlen, "--config %s: larger than %d bytes", path,
			       LP_CONFIG_FILE_MAX);
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(in);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&p, in);
	if (!yaml_parser_load(&p, &doc)) {
		e = lp_errf(-EINVAL, err, errlen, "%s:%zu: YAML: %s", path, p.problem_mark.line + 1,
			    p.problem ? p.problem : "unreadable");
		yaml_parser_delete(&p);
		fclose(in);
		return e;
	}
	f.doc = &doc;
	e = walk(&f);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	fclose(in);
	return e;
}
