// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A series' window history (struct coll_series, collector_int.h): one full
 * snapshot, then what moved at each kept tick after it; entered once per
 * tick after the views were built, thinned to the ticks a window may start
 * at, and read back as "the series' totals in force at this tick" for a
 * window's base and the rate. Memory per active series is bounded whatever
 * the interval, and grows with what happened in the windows, not with the
 * width of the series' histogram.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/collector_int.h"

void lp_hist_release(struct coll_series *s)
{
	unsigned r;

	for (r = 0; r < s->nhist; r++) {
		lp_snap_put(s->hist[r].full);
		lp_delta_free(s->hist[r].delta);
	}
	free(s->hist);
	s->hist = NULL;
	s->nhist = s->caphist = 0;
	lp_delta_free(s->pending);
	s->pending = NULL;
}

void lp_hist_note_change(struct lp_collector *c, struct coll_series *s, const struct lp_snap *newer)
{
	struct lp_delta *x, *sum;

	if (!s->nhist || s->hist_lost)
		return; /* the next entry is a whole snapshot anyway */
	x = lp_delta_between(newer, s->cur);
	if (x && s->pending) {
		sum = lp_delta_sum(s->pending, x);
		lp_delta_free(x);
		x = sum;
	}
	if (!x) {
		/* no room for what moved: the history starts again at the next tick */
		s->hist_lost = true;
		c->read_error = -ENOMEM;
		return;
	}
	lp_delta_free(s->pending);
	s->pending = x;
}

/* entry i leaves: its difference goes to the next one (the first: the next becomes whole) */
static bool hist_drop(struct lp_collector *c, struct coll_series *s, unsigned i)
{
	struct coll_hist *h = &s->hist[i], *n = &s->hist[i + 1];

	if (i == 0) {
		struct lp_snap *full;

		lp_dist_diff(&c->dist, h->full, NULL);
		lp_dist_add_delta(&c->dist, n->delta, false);
		full = lp_snap_from_dist(&c->dist);
		if (!full)
			return false;
		lp_snap_put(h->full);
		lp_delta_free(n->delta);
		n->full = full;
		n->delta = NULL;
	} else {
		struct lp_delta *sum = lp_delta_sum(h->delta, n->delta);

		if (!sum)
			return false;
		lp_delta_free(h->delta);
		lp_delta_free(n->delta);
		n->delta = sum;
	}
	memmove(h, n, (s->nhist - i - 1) * sizeof(*h));
	s->nhist--;
	return true;
}

/* may a window still start at a tick in [a, b), with seq the latest tick? */
static bool grid_between(const struct lp_collector *c, __u64 a, __u64 b, __u64 seq)
{
	unsigned w;

	for (w = 0; w < c->cfg->nwindows; w++) {
		__u64 step = c->wstep[w], g;
		/* the oldest tick it may start at */
		__u64 from = seq > c->wreach[w] ? seq - c->wreach[w] : 0;

		g = (a > from ? a : from) + step - 1;
		g -= g % step;
		if (g < b)
			return true;
	}
	return false;
}

/* a whole snapshot of cur as the only entry (the start, or after a loss) */
static void hist_restart(struct coll_series *s, __u64 seq)
{
	lp_hist_release(s);
	s->hist_lost = false;
	s->hist = malloc(2 * sizeof(*s->hist));
	if (!s->hist)
		return; /* tried again next tick */
	s->caphist = 2;
	s->hist[0] = (struct coll_hist){seq, s->cur->count, lp_snap_get(s->cur), NULL};
	s->nhist = 1;
}

void lp_hist_advance(struct lp_collector *c, struct coll_series *s, __u64 seq, __u64 oldest)
{
	unsigned i;

	if (!s->cur)
		return;
	if (!s->nhist || s->hist_lost) {
		hist_restart(s, seq);
		return;
	}
	/* a change enters the history; an idle series' stays as it is */
	if (s->pending) {
		if (s->nhist == s->caphist) {
			unsigned cap = 2 * s->caphist;
			struct coll_hist *h = realloc(s->hist, cap * sizeof(*h));

			/* no room: the change waits, and enters with the next one */
			if (!h)
				return;
			s->hist = h;
			s->caphist = cap;
		}
		s->hist[s->nhist++] = (struct coll_hist){seq, s->cur->count, NULL, s->pending};
		s->pending = NULL;
	}
	/*
	 * Before the latest two, only what a window may still start at, and
	 * nothing before the one in force at the ring's oldest tick. A merge
	 * that finds no memory leaves the entry: kept a tick longer.
	 */
	for (i = 0; i + 2 < s->nhist;) {
		bool gone = s->hist[i + 1].tick <= oldest ||
			    !grid_between(c, s->hist[i].tick, s->hist[i + 1].tick, seq);

		if (!gone || !hist_drop(c, s, i))
			i++;
	}
	if (s->nhist == 2 && s->hist[1].tick <= oldest)
		hist_drop(c, s, 0);
}

int lp_hist_at(const struct lp_collector *c, const struct coll_series *s, unsigned slot)
{
	__u64 t = c->tick_seq[slot];
	unsigned i;

	for (i = s->nhist; i > 0; i--)
		if (s->hist[i - 1].tick <= t)
			return (int)(i - 1);
	return -1;
}

void lp_hist_window(struct lp_collector *c, const struct coll_series *s, int e, struct lp_dist *d)
{
	int j;

	if (e < 0) {
		lp_dist_diff(d, s->cur, NULL);
		return;
	}
	/* cur - (first + what moved up to e): totals only grow, so nothing wraps */
	lp_dist_diff(d, s->cur, s->hist[0].full);
	for (j = 1; j <= e; j++)
		lp_dist_add_delta(d, s->hist[j].delta, true);
	(void)c;
}

size_t lp_collector__window_snapshots(const struct lp_collector *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->nseries; i++)
		n += c->series[i].nhist;
	return n;
}

size_t lp_collector__window_bytes(const struct lp_collector *c)
{
	size_t i, n = 0;
	unsigned r;

	for (i = 0; i < c->nseries; i++) {
		const struct coll_series *s = &c->series[i];

		n += s->caphist * sizeof(*s->hist);
		for (r = 0; r < s->nhist; r++) {
			if (s->hist[r].full)
				n += sizeof(*s->hist[r].full) +
				     ((size_t)s->hist[r].full->fine_n + s->hist[r].full->nclassic) *
					     sizeof(__u64);
			if (s->hist[r].delta)
				n += lp_delta_bytes(s->hist[r].delta);
		}
	}
	return n;
}
