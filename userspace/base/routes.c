// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Routes and exclusions: parsing, ids, trie entries (base/routes.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/routes.h"
#include "lp_h2_route.h"
#include "base/util.h"

/* the trie entries of one prefix (as written): 1 or 2 */
static unsigned prefix_entries(const char *prefix, __u16 id, struct lp_route_entry *e)
{
	size_t len = strlen(prefix);
	unsigned n = 0;

	memset(e, 0, 2 * sizeof(*e));
	if (prefix[len - 1] == '*') {
		/* a plain prefix: the bytes before the '*' */
		memcpy(e[0].key.path, prefix, len - 1);
		e[0].key.prefixlen = (__u32)(8 * (len - 1));
		e[0].val.id = id;
		return 1;
	}
	memcpy(e[0].key.path, prefix, len);
	if (prefix[len - 1] == '/') {
		e[0].key.prefixlen = (__u32)(8 * len);
		e[0].val.id = id;
		return 1;
	}
	/* the path itself (then its end mark, 0) and what is under it */
	e[n].key.prefixlen = (__u32)(8 * (len + 1));
	e[n++].val.id = id;
	memcpy(e[n].key.path, prefix, len);
	e[n].key.path[len] = '/';
	e[n].key.prefixlen = (__u32)(8 * (len + 1));
	e[n++].val.id = id;
	return n;
}

static bool same_entry(const struct lp_route_entry *a, const struct lp_route_entry *b)
{
	return a->key.prefixlen == b->key.prefixlen &&
	       !memcmp(a->key.path, b->key.path, a->key.prefixlen / 8);
}

static int check_prefix(const char *p, char *err, size_t errlen, const char *spec)
{
	size_t len = strlen(p), i;

	if (p[0] != '/')
		return lp_errf(-EINVAL, err, errlen, "'%s': a path prefix starts with '/'", spec);
	if (len > LP_ROUTE_LEN - 1)
		return lp_errf(-EINVAL, err, errlen, "'%s': a prefix is at most %d bytes", spec,
			       LP_ROUTE_LEN - 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x21 || c == 0x7f || c == '?' || c == '#')
			return lp_errf(-EINVAL, err, errlen,
				       "'%s': a path has no spaces, control bytes, '?' or '#'",
				       spec);
		if (c == '*' && i != len - 1)
			return lp_errf(-EINVAL, err, errlen, "'%s': '*' only at the end", spec);
	}
	/* every output carries it: valid UTF-8, no bidirectional controls (lp_name_clean) */
	{
		char clean[4 * LP_ROUTE_LEN];

		lp_name_clean(p, clean, sizeof(clean));
		if (strcmp(clean, p))
			return lp_errf(-EINVAL, err, errlen,
				       "'%s': a path prefix is valid UTF-8 without bidirectional "
				       "controls (percent-encode other bytes)",
				       spec);
	}
	return 0;
}

static int check_name(const char *name, size_t len, const char *spec, char *err, size_t errlen)
{
	size_t i;

	if (!len || len >= LP_ROUTE_NAME_MAX)
		return lp_errf(-EINVAL, err, errlen, "'%s': a route name has 1 to %d characters",
			       spec, LP_ROUTE_NAME_MAX - 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == ':'))
			return lp_errf(-EINVAL, err, errlen,
				       "'%s': a route name has letters, digits, '_', '-', '.', ':'",
				       spec);
	}
	if (len == strlen(LP_ROUTE_UNROUTED_LABEL) && !memcmp(name, LP_ROUTE_UNROUTED_LABEL, len))
		return lp_errf(-EINVAL, err, errlen,
			       "'%s': '" LP_ROUTE_UNROUTED_LABEL "' is the label of unmatched "
			       "requests",
			       spec);
	if (len == strlen(LP_ROUTE_UNKNOWN_LABEL) && !memcmp(name, LP_ROUTE_UNKNOWN_LABEL, len))
		return lp_errf(-EINVAL, err, errlen,
			       "'%s': '" LP_ROUTE_UNKNOWN_LABEL "' is the label of HTTP/2 paths "
			       "the agent cannot know",
			       spec);
	return 0;
}

int lp_routes_add(struct lp_routes *rs, const char *spec, bool exclude, char *err, size_t errlen)
{
	const char *eq = spec[0] == '/' ? NULL : strchr(spec, '='), *prefix = eq ? eq + 1 : spec;
	char label[LP_ROUTE_LEN + 1];
	struct lp_route_entry mine[2], theirs[2];
	unsigned i, j, k, nm, nt;
	__u16 id;
	int r;

	if (eq && exclude)
		return lp_errf(-EINVAL, err, errlen, "'%s': an excluded path has no name", spec);
	if (!eq && spec[0] != '/')
		return lp_errf(-EINVAL, err, errlen, "'%s': expected PREFIX or NAME=PREFIX", spec);
	r = check_prefix(prefix, err, errlen, spec);
	if (r)
		return r;
	if (eq) {
		r = check_name(spec, (size_t)(eq - spec), spec, err, errlen);
		if (r)
			return r;
		snprintf(label, sizeof(label), "%.*s", (int)(eq - spec), spec);
	} else {
		snprintf(label, sizeof(label), "%s", prefix);
	}
	if (exclude ? rs->nexcluded >= LP_EXCLUDES_MAX : rs->nroutes >= LP_ROUTES_MAX)
		return lp_errf(-ENOSPC, err, errlen, "'%s': more than %d %s", spec,
			       exclude ? LP_EXCLUDES_MAX : LP_ROUTES_MAX,
			       exclude ? "excluded paths" : "routes");
	/* the same entry twice would make the answer depend on the order: refused */
	nm = prefix_entries(prefix, 0, mine);
	for (i = 0; i < rs->ndefs; i++) {
		nt = prefix_entries(rs->defs[i].prefix, 0, theirs);
		for (j = 0; j < nm; j++)
			for (k = 0; k < nt; k++)
				if (same_entry(&mine[j], &theirs[k]))
					return lp_errf(-EINVAL, err, errlen,
						       "'%s': matches the same paths as '%s'", spec,
						       rs->defs[i].prefix);
	}
	if (exclude) {
		id = (__u16)(LP_ROUTE_EXCLUDED | rs->nexcluded++);
	} else {
		for (i = 0; i < rs->nlabels; i++)
			if (!strcmp(rs->labels[i], label))
				break;
		if (i == rs->nlabels)
			snprintf(rs->labels[rs->nlabels++], sizeof(rs->labels[0]), "%s", label);
		id = (__u16)(LP_ROUTE_FIRST + i);
		rs->nroutes++;
	}
	snprintf(rs->defs[rs->ndefs].prefix, sizeof(rs->defs[0].prefix), "%s", prefix);
	rs->defs[rs->ndefs++].id = id;
	return 0;
}

int lp_routes_add_file(struct lp_routes *rs, const char *path, char *err, size_t errlen)
{
	char line[1024], sub[512];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	long start = 0;
	int r = 0;

	if (!f)
		return lp_errf(-errno, err, errlen, "--routes-file %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e;
		long at = ftell(f);

		lineno++;
		/* a NUL inside: fgets went on past it, strlen stops at it */
		if (at >= 0 && strlen(line) != (size_t)(at - start)) {
			r = lp_errf(-EINVAL, err, errlen, "%s:%u: a NUL byte", path, lineno);
			break;
		}
		start = at;
		if (!strchr(line, '\n') && !feof(f)) {
			r = lp_errf(-EINVAL, err, errlen, "%s:%u: line too long", path, lineno);
			break;
		}
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*s || *s == '#')
			continue;
		r = lp_routes_add(rs, s, false, sub, sizeof(sub));
		if (r) {
			lp_errf(r, err, errlen, "%s:%u: %s", path, lineno, sub);
			break;
		}
	}
	if (!r && ferror(f))
		r = lp_errf(-EIO, err, errlen, "--routes-file %s: read error", path);
	fclose(f);
	return r;
}

unsigned lp_routes_entries(const struct lp_routes *rs, struct lp_route_entry *out, unsigned max)
{
	struct lp_route_entry e[2];
	unsigned i, j, k, n = 0;

	for (i = 0; i < rs->ndefs; i++) {
		k = prefix_entries(rs->defs[i].prefix, rs->defs[i].id, e);
		for (j = 0; j < k && n < max; j++)
			out[n++] = e[j];
	}
	return n;
}

__u32 lp_routes_max_len(const struct lp_routes *rs)
{
	struct lp_route_entry e[2];
	unsigned i, j, k;
	__u32 m = 0;

	for (i = 0; i < rs->ndefs; i++) {
		k = prefix_entries(rs->defs[i].prefix, 0, e);
		for (j = 0; j < k; j++)
			if (e[j].key.prefixlen / 8 > m)
				m = e[j].key.prefixlen / 8;
	}
	return m;
}

/* the learned methods' paths, by slot ("" until known) */
static char learned[LP_GRPC_METHODS_MAX][LP_ROUTE_LEN];
static bool learned_set[LP_GRPC_METHODS_MAX];

int lp_route_learned_set(unsigned slot, const struct lp_route_key *k)
{
	__u32 len = lp_grpc_method_path(k);

	if (slot >= LP_GRPC_METHODS_MAX || !len || len >= LP_ROUTE_LEN)
		return -EINVAL;
	if (__atomic_load_n(&learned_set[slot], __ATOMIC_ACQUIRE))
		return 0; /* set once: a path never changes its slot */
	memcpy(learned[slot], k->path, len);
	learned[slot][len] = '\0';
	__atomic_store_n(&learned_set[slot], true, __ATOMIC_RELEASE);
	return 0;
}

const char *lp_route_learned(__u16 id)
{
	unsigned slot = id & ~LP_ROUTE_LEARNED;

	if ((id & (LP_ROUTE_LEARNED | LP_ROUTE_EXCLUDED)) != LP_ROUTE_LEARNED ||
	    slot >= LP_GRPC_METHODS_MAX || !__atomic_load_n(&learned_set[slot], __ATOMIC_ACQUIRE))
		return NULL;
	return learned[slot];
}

bool lp_route_is_grpc_method(const char *label)
{
	struct lp_route_key k;
	size_t len = strlen(label);

	if (len >= LP_ROUTE_LEN)
		return false;
	memset(&k, 0, sizeof(k));
	memcpy(k.path, label, len);
	k.prefixlen = (__u32)(8 * (len + 1));
	return lp_grpc_method_path(&k) == len;
}

__u16 lp_route_slo_id(const struct lp_routes *rs, const char *label, bool learn)
{
	__u16 id = rs && rs->nroutes ? lp_route_id(rs, label) : 0;

	if (!id && learn && lp_route_is_grpc_method(label))
		return LP_ROUTE_BY_LABEL;
	return id;
}

const char *lp_route_label(const struct lp_routes *rs, __u16 id)
{
	if (id == LP_ROUTE_NONE || !rs)
		return NULL;
	if ((id & (LP_ROUTE_LEARNED | LP_ROUTE_EXCLUDED)) == LP_ROUTE_LEARNED) {
		const char *l = lp_route_learned(id);

		return l ? l : LP_ROUTE_UNKNOWN_LABEL;
	}
	if (id >= LP_ROUTE_FIRST && !(id & LP_ROUTE_EXCLUDED) &&
	    (unsigned)(id - LP_ROUTE_FIRST) < rs->nlabels)
		return rs->labels[id - LP_ROUTE_FIRST];
	if (id == LP_ROUTE_UNKNOWN)
		return LP_ROUTE_UNKNOWN_LABEL;
	return LP_ROUTE_UNROUTED_LABEL;
}

__u16 lp_route_id(const struct lp_routes *rs, const char *label)
{
	unsigned i;

	if (!strcmp(label, LP_ROUTE_UNROUTED_LABEL))
		return LP_ROUTE_UNROUTED;
	if (!strcmp(label, LP_ROUTE_UNKNOWN_LABEL))
		return LP_ROUTE_UNKNOWN;
	for (i = 0; rs && i < rs->nlabels; i++)
		if (!strcmp(rs->labels[i], label))
			return (__u16)(LP_ROUTE_FIRST + i);
	return 0;
}

const char *lp_route_excluded(const struct lp_routes *rs, unsigned i)
{
	unsigned k;

	for (k = 0; rs && k < rs->ndefs; k++)
		if (rs->defs[k].id == (LP_ROUTE_EXCLUDED | i))
			return rs->defs[k].prefix;
	if (rs && i < LP_EXCLUDES_MAX && (rs->gone_mask >> i & 1))
		return rs->gone[i];
	return NULL;
}

/* the index of exclusion prefix in rs (a dropped one's too), or -1 */
static int excluded_index(const struct lp_routes *rs, const char *prefix)
{
	unsigned i;

	for (i = 0; i < rs->nexcluded; i++) {
		const char *p = lp_route_excluded(rs, i);

		if (p && !strcmp(p, prefix))
			return (int)i;
	}
	return -1;
}

int lp_routes_carry(struct lp_routes *next, const struct lp_routes *cur, char *err, size_t errlen)
{
	static struct lp_routes out; /* large: the main thread's alone (reloads) */
	unsigned i;
	int x;

	out = *cur;
	out.ndefs = 0;
	out.nroutes = 0;
	/* every label and exclusion of cur starts dropped; next's bring theirs back */
	for (i = 0; i < cur->nexcluded; i++) {
		const char *p = lp_route_excluded(cur, i);

		snprintf(out.gone[i], sizeof(out.gone[i]), "%s", p ? p : "");
		out.gone_mask |= 1ULL << i;
	}
	for (i = 0; i < next->ndefs; i++) {
		struct lp_route_def d = next->defs[i];

		if (d.id & LP_ROUTE_EXCLUDED) {
			x = excluded_index(&out, d.prefix);
			if (x < 0) {
				if (out.nexcluded >= LP_EXCLUDES_MAX)
					return lp_errf(
						-ENOSPC, err, errlen,
						"more than %d excluded paths over the agent's "
						"life: restart it to start afresh",
						LP_EXCLUDES_MAX);
				x = (int)out.nexcluded++;
			}
			out.gone_mask &= ~(1ULL << x);
			d.id = (__u16)(LP_ROUTE_EXCLUDED | (unsigned)x);
		} else {
			const char *label = next->labels[d.id - LP_ROUTE_FIRST];
			__u16 id = lp_route_id(&out, label);

			if (id < LP_ROUTE_FIRST) {
				if (out.nlabels >= LP_ROUTES_MAX)
					return lp_errf(-ENOSPC, err, errlen,
						       "more than %d route labels over the agent's "
						       "life: restart it to start afresh",
						       LP_ROUTES_MAX);
				snprintf(out.labels[out.nlabels], sizeof(out.labels[0]), "%s",
					 label);
				id = (__u16)(LP_ROUTE_FIRST + out.nlabels++);
			}
			d.id = id;
			out.nroutes++;
		}
		out.defs[out.ndefs++] = d;
	}
	*next = out;
	return 0;
}
