/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Routes (--route, --routes-file) and exclusions (--exclude-path): parsed
 * once into labels and ids, turned into the kernel trie's entries
 * (include/lp_route.h says how a request finds its route), and looked up by
 * id when a series is written.
 *
 * A route is "PREFIX" or "NAME=PREFIX". PREFIX starts with '/' and matches
 * the path itself and the paths under it ("/api/users" matches
 * "/api/users" and "/api/users/42", not "/api/usersX"); one that ends in
 * '/' matches what is under it; one that ends in '*' is a plain prefix
 * ("/img*" matches "/img" and "/images"). The series label is NAME, or
 * PREFIX as written. Routes with the same NAME share one label. A request
 * that matches no route is labelled LP_ROUTE_UNROUTED_LABEL.
 */
#ifndef LP_ROUTES_H
#define LP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "lp_route.h"

#define LP_ROUTE_UNROUTED_LABEL "unrouted"
#define LP_ROUTE_UNKNOWN_LABEL	"unknown" /* an HTTP/2 :path from before the agent */
#define LP_ROUTE_NAME_MAX	64

struct lp_route_def {
	char prefix[LP_ROUTE_LEN + 1]; /* as written, '*' included */
	__u16 id;		       /* LP_ROUTE_FIRST + label, or LP_ROUTE_EXCLUDED | index */
};

struct lp_routes {
	struct lp_route_def defs[LP_ROUTES_MAX + LP_EXCLUDES_MAX];
	unsigned ndefs;
	char labels[LP_ROUTES_MAX][LP_ROUTE_LEN + 1]; /* by id - LP_ROUTE_FIRST */
	unsigned nlabels;
	unsigned nexcluded; /* --exclude-path prefixes: their index is their order */
	unsigned nroutes;   /* --route prefixes (several may share a label) */
	/*
	 * After a reload (lp_routes_carry): labels and exclusions of the running
	 * configuration that the new one dropped keep their ids, so the series
	 * and counters made under them stay named; they have no trie entries.
	 */
	char gone[LP_EXCLUDES_MAX][LP_ROUTE_LEN + 1]; /* a dropped exclusion's prefix, by index */
	__u64 gone_mask;			      /* bit i: exclusion i was dropped */
};

/* Add "PREFIX" or "NAME=PREFIX" (a route), or an exclusion. 0 or -EINVAL/-ENOSPC + err. */
int lp_routes_add(struct lp_routes *rs, const char *spec, bool exclude, char *err, size_t errlen);
/* Add the routes of a file: one a line, '#' comments, blank lines. err names FILE:LINE. */
int lp_routes_add_file(struct lp_routes *rs, const char *path, char *err, size_t errlen);

/* The trie entries of every route and exclusion into out[max]; returns how many. */
unsigned lp_routes_entries(const struct lp_routes *rs, struct lp_route_entry *out, unsigned max);

/* bytes of the longest trie entry (what a cut path must reach to be matched) */
__u32 lp_routes_max_len(const struct lp_routes *rs);

/*
 * The label of a route id: NULL for LP_ROUTE_NONE (no routes: no label),
 * LP_ROUTE_UNROUTED_LABEL for LP_ROUTE_UNROUTED and anything unknown.
 */
const char *lp_route_label(const struct lp_routes *rs, __u16 id);
/* The id whose label is label (LP_ROUTE_UNROUTED for "unrouted"); 0 when none. */
__u16 lp_route_id(const struct lp_routes *rs, const char *label);
/*
 * gRPC methods the kernel learned (--grpc-methods; include/lp_route.h,
 * LP_ROUTE_LEARNED): one table for the process, as the kernel's map is one.
 * A slot's path is set once (user space reads the map when a series names
 * a slot it does not know) and never changes, so a label read from here
 * stays valid for the agent's life. lp_route_label gives it for the id.
 */
/* Set the path of slot (as the kernel's map has it). 0, or -EINVAL: no gRPC method's path. */
int lp_route_learned_set(unsigned slot, const struct lp_route_key *k);
/* The path of a learned route id; NULL when the id is none or its slot is not known yet. */
const char *lp_route_learned(__u16 id);
/* Is label a gRPC method's path ("/pkg.Service/Method"), as --grpc-methods learns them? */
bool lp_route_is_grpc_method(const char *label);
/*
 * The id an SLO's route= label selects: a route's, LP_ROUTE_UNROUTED or
 * LP_ROUTE_UNKNOWN; LP_ROUTE_BY_LABEL for a gRPC method's path that is no
 * route's when learn (--grpc-methods) is on (matched by its learned
 * label); 0 when none.
 */
__u16 lp_route_slo_id(const struct lp_routes *rs, const char *label, bool learn);
/* An SLO's route: a learned method, matched by label (lp_slo_applies) */
#define LP_ROUTE_BY_LABEL 0x3ffe

/* The prefix of exclusion index i (as written), a dropped one's too. */
const char *lp_route_excluded(const struct lp_routes *rs, unsigned i);

/*
 * A reload: renumber next (just parsed) so that every label and exclusion
 * it shares with cur (the running routes) keeps its id, new ones take ids
 * cur never used, and cur's dropped ones keep theirs (without entries): a
 * series is never renamed. 0, or -ENOSPC (err names the limit) when the
 * labels or exclusions of the agent's whole life exceed the ids.
 */
int lp_routes_carry(struct lp_routes *next, const struct lp_routes *cur, char *err,
		    size_t errlen);

#endif
