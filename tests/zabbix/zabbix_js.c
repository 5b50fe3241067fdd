// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Runs a Zabbix JavaScript preprocessing step as the Zabbix server does:
 * in Duktape (the engine Zabbix embeds: ECMAScript 5.1), the step's script
 * as the body of a function of one argument, value, the item's value read
 * from standard input. Prints what it returns; a thrown error is printed to
 * standard error and exits 1 (Zabbix's "preprocessing failed").
 * usage: zabbix_js SCRIPT_FILE < VALUE
 * Built and run by tests/e2e/test_monitoring.py (Debian's duktape-dev).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <duktape.h>

static char *slurp(FILE *f)
{
	size_t n = 0, cap = 4096;
	char *b = malloc(cap);

	while (b) {
		size_t got = fread(b + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
		if (cap - n < 2) {
			char *nb = realloc(b, cap * 2);

			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (b)
		b[n] = '\0';
	return b;
}

int main(int argc, char **argv)
{
	duk_context *ctx;
	char *script, *value, *fn;
	FILE *f;
	int rc = 0;

	if (argc != 2 || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: zabbix_js SCRIPT_FILE < VALUE\n");
		return 2;
	}
	script = slurp(f);
	fclose(f);
	value = slurp(stdin);
	if (!script || !value)
		return 2;
	fn = malloc(strlen(script) + 64);
	if (!fn)
		return 2;
	sprintf(fn, "(function (value) {\n%s\n})", script);
	ctx = duk_create_heap_default();
	if (!ctx)
		return 2;
	if (duk_peval_string(ctx, fn) != 0) {
		fprintf(stderr, "compile: %s\n", duk_safe_to_string(ctx, -1));
		rc = 1;
	} else {
		duk_push_string(ctx, value);
		if (duk_pcall(ctx, 1) != 0) {
			fprintf(stderr, "error: %s\n", duk_safe_to_string(ctx, -1));
			rc = 1;
		} else {
			printf("%s\n", duk_safe_to_string(ctx, -1));
		}
	}
	duk_destroy_heap(ctx);
	free(fn);
	free(script);
	free(value);
	return rc;
}
