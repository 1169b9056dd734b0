// SPDX-License-Identifier: MIT
/*
 * Robustness of the parser and the checks on arbitrary input, in process
 * (run it under ASan/UBSan: the sanitizer build does): every prefix of
 * valid specs, seeded random bytes, token soup and mutations of a valid
 * spec, and pathological nesting. Each input must come back with 0 or
 * -EINVAL, an error count that agrees, and nothing leaked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiary/spec.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static FILE *sink;
static unsigned long n_ok, n_err;

/* Parse (as given, not NUL-terminated: a copy of exactly len bytes on the
 * heap so ASan sees any overread), check when it parsed, print, free. */
static void run_one(const char *text, size_t len)
{
	struct apiary_diags d;
	struct apiary_spec *s = NULL;
	char *buf = malloc(len ? len : 1);
	int err;

	assert_non_null(buf);
	memcpy(buf, text, len);
	apiary_diags_init(&d);
	err = apiary_spec_parse("fixtures/fuzz.spec", buf, len, &s, &d);
	free(buf);
	assert_true(err == 0 || err == -EINVAL);
	assert_true((err == 0) == (d.errors == 0));
	assert_non_null(s);
	if (!err) {
		err = apiary_spec_check(s, &d);
		assert_true(err == 0 || err == -EINVAL);
		assert_true((err == 0) == (d.errors == 0));
	}
	apiary_diags_print(&d, sink);
	if (err)
		n_err++;
	else
		n_ok++;
	apiary_diags_free(&d);
	apiary_spec_free(s);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	buf = calloc(1, 1 << 16);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static const char *const valid_files[] = {
	"fixtures/edge.spec", "valid/edge.spec", "valid/features.spec", "valid/warnings.spec",
	"errors/syntax_many.spec", "errors/semantic_many.spec",
};

static void test_prefixes(void **state)
{
	size_t i, n, len;

	for (i = 0; i < sizeof(valid_files) / sizeof(valid_files[0]); i++) {
		char *text = slurp(valid_files[i], &len);

		for (n = 0; n <= len; n++)
			run_one(text, n);
		free(text);
	}
	assert_true(n_ok > 0 && n_err > 0);
}

static void test_random_bytes(void **state)
{
	char buf[512];
	int it;
	size_t n, i;

	for (it = 0; it < 3000; it++) {
		n = rnd() % sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = (char)rnd();
		run_one(buf, n);
	}
}

/* Token soup: random sequences of the spec's own tokens reach deep into
 * the parser, far beyond what random bytes do. */
static void test_token_soup(void **state)
{
	static const char *const toks[] = {
		"bundle", "b", "version", "1", "classifier", "c", "at", "xdp", "tc.ingress",
		"tc.egress", "{", "}", "key", "ip.src", ",", "match", "state", "s", ":", "hash",
		"array", "(", ")", "u32", "->", "u64", "bytes", "[", "]", "max", "0", "enforcer",
		"e", "team", "source", "\"fixtures/edge.spec\"", "object", "program", "\"p\"",
		"effect", "drop", "tx", "when", "tcp.dport", "==", "<", "in", "has", "..",
		"10.0.0.0", "/", "33", "fe80::1", "02:00:00:00:00:01", "0x0a01", "syn", "reads",
		"writes", "config", "global", "=", "update", "to", "order", "before", "cover",
		"sees", "exclusive", "by", "flow-consistent", "not", "and", "or", "70000",
		"\n", "#", "\"", "e2", "2",
	};
	char buf[2048];
	int it;

	for (it = 0; it < 4000; it++) {
		size_t len = 0, n = rnd() % 120, i;

		if (rnd() % 2) {
			memcpy(buf, "bundle b version 1 ", 19);
			len = 19;
		}
		for (i = 0; i < n; i++) {
			const char *t = toks[rnd() % (sizeof(toks) / sizeof(toks[0]))];
			size_t tl = strlen(t);

			if (len + tl + 1 >= sizeof(buf))
				break;
			memcpy(buf + len, t, tl);
			len += tl;
			buf[len++] = rnd() % 8 ? ' ' : '\n';
		}
		run_one(buf, len);
	}
}

static void test_mutations(void **state)
{
	size_t len, i;
	char *orig = slurp("fixtures/edge.spec", &len);
	char *buf = malloc(len + 64);
	int it;

	for (it = 0; it < 3000; it++) {
		size_t n = len, k = 1 + rnd() % 4;

		memcpy(buf, orig, len);
		for (i = 0; i < k && n; i++) {
			size_t at = rnd() % n;

			switch (rnd() % 3) {
			case 0: /* flip */
				buf[at] = (char)rnd();
				break;
			case 1: /* delete */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default: /* duplicate a byte */
				if (n < len + 60) {
					memmove(buf + at + 1, buf + at, n - at);
					n++;
				}
			}
		}
		run_one(buf, n);
	}
	free(buf);
	free(orig);
}

static void test_pathological(void **state)
{
	size_t cap = 200000, n;
	char *buf = malloc(cap);
	static const char head[] = "bundle b version 1\ncover x sees ";
	const char *pieces[] = { "(", "not ", "tcp.dport == 1 or ", "tcp.dport in { 1, " };
	size_t i, p;

	for (p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		size_t pl = strlen(pieces[p]);

		memcpy(buf, head, sizeof(head) - 1);
		n = sizeof(head) - 1;
		for (i = 0; n + pl + 32 < cap; i++) {
			memcpy(buf + n, pieces[p], pl);
			n += pl;
		}
		memcpy(buf + n, "tcp.dport == 1", 14);
		n += 14;
		run_one(buf, n);
	}
	/* many declarations and errors: the error cap stops the noise */
	n = 0;
	while (n + 40 < cap) {
		memcpy(buf + n, "enforcer x team version at\n", 27);
		n += 27;
	}
	run_one(buf, n);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_token_soup),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_pathological),
	};
	int r;

	sink = fopen("/dev/null", "w");
	if (!sink)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	fclose(sink);
	printf("# %lu inputs accepted, %lu rejected\n", n_ok, n_err);
	return r;
}
