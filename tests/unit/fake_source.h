/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A fake source for the collector's tests: series whose kernel values the
 * test writes itself (observe: what the kernel does for one sample), read,
 * retired and counted as lp_probe would. Included by tests/unit/test_collector.c
 * and test_windows.c, after cmocka and core/collector.h.
 */
#ifndef LP_TEST_FAKE_SOURCE_H
#define LP_TEST_FAKE_SOURCE_H

#define S 1000000000ULL

struct fake {
	struct lp_fine_table *ft;
	const struct lp_config *cfg;
	struct lp_key keys[4];
	struct lp_value *vals[4];
	int n;
	__u64 counters[LP_CNT_MAX];
	__u64 excluded[2 * LP_EXCLUDES_MAX];
	bool gone[4]; /* deleted from the "kernel" (retired), until observed again */
	bool changed_only; /* read only the series with samples since the last read (as lp_probe) */
	bool dirty[4];
};

static int fake_read(void *ctx, lp_series_cb cb, void *cbctx)
{
	struct fake *f = ctx;
	int i;

	int n = 0;

	for (i = 0; i < f->n; i++) {
		if (f->gone[i] || (f->changed_only && !f->dirty[i]))
			continue;
		f->dirty[i] = false;
		cb(cbctx, &f->keys[i], f->vals[i]);
		n++;
	}
	return n;
}

static int fake_counters(void *ctx, __u64 out[LP_CNT_MAX])
{
	memcpy(out, ((struct fake *)ctx)->counters, sizeof(__u64) * LP_CNT_MAX);
	return 0;
}

static int fake_cgroups(void *ctx, lp_cgroup_cb cb, void *cbctx)
{
	static const struct lp_cg quiet = { .series = 12 };
	static const struct lp_cg noisy = { .series = 92, .folded_class = 700, .folded_over = 40 };

	(void)ctx;
	cb(cbctx, 7, &quiet);
	cb(cbctx, 9, &noisy);
	return 2;
}

/* as the kernel: the last value goes to cb, then the series is gone (and starts from 0) */
static int fake_retire(void *ctx, const struct lp_key *key, lp_series_cb cb, void *cbctx)
{
	struct fake *f = ctx;
	int i;

	for (i = 0; i < f->n; i++) {
		if (f->gone[i] || memcmp(&f->keys[i], key, sizeof(*key)))
			continue;
		cb(cbctx, key, f->vals[i]);
		memset(f->vals[i], 0, lp_value_size(f->ft->schema));
		f->gone[i] = true;
		return 0;
	}
	return -ENOENT;
}

static int fake_excluded(void *ctx, __u64 *out, unsigned n)
{
	memcpy(out, ((struct fake *)ctx)->excluded, sizeof(__u64) * n);
	return 0;
}

/* what the kernel does for one sample */
static void observe(struct fake *f, int i, __u64 v, int times)
{
	struct lp_value *val = f->vals[i];

	f->gone[i] = false; /* a sample re-creates a retired series */
	f->dirty[i] = true;
	__u32 fine = lp_fine_slot(f->ft->bounds, f->ft->n, f->ft->zero_ns, v);
	__u32 classic = lp_classic_slot(f->cfg->classic_ns, f->cfg->nclassic, v);

	val->sum_ns += v * (__u64)times;
	val->classic[classic] += (__u64)times;
	val->fine[fine] += (__u64)times;
}

static int add_series(struct fake *f, __u16 port, __u8 method, __u16 status)
{
	int i = f->n++;

	memset(&f->keys[i], 0, sizeof(f->keys[i]));
	f->keys[i].port = port;
	f->keys[i].method = method;
	f->keys[i].status = status;
	f->keys[i].side = LP_SIDE_SERVER;
	f->keys[i].family = 4;
	f->vals[i] = calloc(1, lp_value_size(f->ft->schema));
	assert_non_null(f->vals[i]);
	return i;
}

static void setup_cfg(struct lp_config *cfg, const char **argv, int argc)
{
	char err[256];

	lp_config_defaults(cfg);
	assert_int_equal(lp_cli_parse(cfg, argc, (char **)argv, err, sizeof(err), NULL), LP_CLI_RUN);
}

/* a fake source over cfg (parsed from argv) and ft; series are added next */
static void fake_init(struct fake *f, struct lp_config *cfg, struct lp_fine_table *ft,
		      const char **argv, int argc)
{
	setup_cfg(cfg, argv, argc);
	assert_int_equal(lp_fine_table_init(ft, cfg->schema), 0);
	memset(f, 0, sizeof(*f));
	f->ft = ft;
	f->cfg = cfg;
}

static struct lp_collector *fake_collector(struct fake *f, struct lp_source *src)
{
	struct lp_collector *c;

	*src = (struct lp_source){ .read = fake_read,
				   .counters = fake_counters,
				   .excluded = fake_excluded,
				   .cgroups = fake_cgroups,
				   .retire = fake_retire,
				   .ctx = f,
				   .nfine = LP_FINE_SLOTS(f->cfg->schema) };
	c = lp_collector__new(f->cfg, f->ft, src, NULL, 0);
	assert_non_null(c);
	return c;
}

static void fake_free(struct fake *f, struct lp_collector *c)
{
	int i;

	lp_collector__free(c);
	for (i = 0; i < f->n; i++)
		free(f->vals[i]);
	lp_fine_table_free(f->ft);
}

#endif /* LP_TEST_FAKE_SOURCE_H */
