/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the exporters' tests share: golden files, a push sink's configuration
 * from its URL, and decoders of remote write and OTLP bodies. Included by
 * tests/unit/test_expo.c, test_outputs.c and test_push_enc.c, after model_fixture.h and version.h.
 */
#ifndef LP_TEST_EXPO_HELPERS_H
#define LP_TEST_EXPO_HELPERS_H

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/unit/golden"
#endif

/* the output with the build's version and revision replaced, so the golden file is stable */
static __attribute__((unused)) char *normalized(const struct lp_buf *b)
{
	static const char key[] = "latprobe_build_info{version=\"";
	const char *p = b->data, *hit;
	struct lp_buf out = {0};

	while ((hit = strstr(p, key))) {
		hit += sizeof(key) - 1;
		lp_buf_add(&out, p, (size_t)(hit - p));
		lp_buf_str(&out, "VERSION");
		/* version="V",revision="R": both, to the revision's closing quote */
		assert_non_null(strstr(hit, "\",revision=\"" LATPROBE_REVISION "\""));
		p = strchr(strstr(hit, "revision=\"") + 10, '"');
	}
	lp_buf_str(&out, p);
	return out.data;
}

static __attribute__((unused)) void golden(const char *name, const char *got)
{
	char path[256], *want;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	if (getenv("UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (!f) {
		print_error("missing golden file %s (UPDATE_GOLDEN=1 writes it)\n", path);
		fail();
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	want = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (strcmp(got, want)) {
		size_t i = 0;

		while (got[i] && got[i] == want[i])
			i++;
		print_error("%s differs at byte %zu:\n got: %.120s\nwant: %.120s\n", name, i,
			    got + i, want + i);
		free(want);
		fail();
	}
	free(want);
}

static __attribute__((unused)) struct lp_push_cfg push_cfg(const char *spec)
{
	struct lp_push_cfg c;
	char err[512];

	if (lp_push_parse(spec, "node-1", &c, err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
	return c;
}

/* a label's value in a remote-write series, or NULL */
static __attribute__((unused)) const char *rw_label(const Prometheus__TimeSeries *ts,
						    const char *name)
{
	size_t i;

	for (i = 0; i < ts->n_labels; i++)
		if (!strcmp(ts->labels[i]->name, name))
			return ts->labels[i]->value;
	return NULL;
}

/* the WriteRequest in a remote-write body (snappy, then protobuf) */
static __attribute__((unused)) Prometheus__WriteRequest *rw_decode(const struct lp_buf *b)
{
	Prometheus__WriteRequest *wr;
	size_t rawlen = 0;
	char *raw;

	assert_int_equal(snappy_uncompressed_length(b->data, b->len, &rawlen), SNAPPY_OK);
	raw = malloc(rawlen);
	assert_non_null(raw);
	assert_int_equal(snappy_uncompress(b->data, b->len, raw, &rawlen), SNAPPY_OK);
	wr = prometheus__write_request__unpack(NULL, rawlen, (const uint8_t *)raw);
	assert_non_null(wr);
	free(raw);
	return wr;
}

/* an OTLP resource's attribute (a string), or NULL */
static __attribute__((unused)) const char *ot_attr(Otlp__KeyValue **kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i]->value->value_case == OTLP__ANY_VALUE__VALUE_STRING_VALUE
				       ? kv[i]->value->string_value
				       : "(int)";
	return NULL;
}

static __attribute__((unused)) long long ot_int(Otlp__KeyValue **kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key)) {
			assert_int_equal(kv[i]->value->value_case,
					 OTLP__ANY_VALUE__VALUE_INT_VALUE);
			return kv[i]->value->int_value;
		}
	fail_msg("no attribute %s", key);
	return -1;
}

/* the metric called name in the resource of service, or NULL */
static __attribute__((unused)) const Otlp__Metric *
ot_metric(const Otlp__ExportMetricsServiceRequest *r, const char *service, const char *name)
{
	size_t i, j;

	for (i = 0; i < r->n_resource_metrics; i++) {
		const Otlp__ResourceMetrics *rm = r->resource_metrics[i];

		if (strcmp(ot_attr(rm->resource->attributes, rm->resource->n_attributes,
				   "service.name"),
			   service))
			continue;
		assert_int_equal(rm->n_scope_metrics, 1);
		assert_string_equal(rm->scope_metrics[0]->scope->name, "latprobe");
		for (j = 0; j < rm->scope_metrics[0]->n_metrics; j++)
			if (!strcmp(rm->scope_metrics[0]->metrics[j]->name, name))
				return rm->scope_metrics[0]->metrics[j];
	}
	return NULL;
}

static __attribute__((unused)) Otlp__ExportMetricsServiceRequest *ot_encode(const char *spec)
{
	struct lp_push_cfg c = push_cfg(spec);
	struct lp_buf b = {0};
	Otlp__ExportMetricsServiceRequest *r;

	assert_int_equal(lp_sink_otlp.encode(&b, &model, NULL, &c), 0);
	r = otlp__export_metrics_service_request__unpack(NULL, b.len, (const uint8_t *)b.data);
	assert_non_null(r);
	lp_buf_free(&b);
	return r;
}

#endif /* LP_TEST_EXPO_HELPERS_H */
