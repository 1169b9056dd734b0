// SPDX-License-Identifier: MIT
/*
 * Golden tests: spec -> generated C (apiary_bundle.h, sidecar.bpf.c, one
 * wrapper) for three specs, compared byte for byte with golden/<bundle>/.
 * Absolute paths are normalized to @BPF_DIR@. Run with APIARY_UPDATE_GOLDEN=1
 * to rewrite the expected files after an intended change (and review the
 * diff).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiary/diag.h"
#include "codegen.h"
#include "specs.h"

/* Replace every occurrence of `from` in s (malloc'd) by `to`. */
static char *replace_all(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)); p += fl)
		n++;
	out = malloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	for (o = out, p = s;;) {
		const char *q = strstr(p, from);

		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	return out;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Compare generated text with golden/<bundle>/<file> (or rewrite it). */
static void check_golden(const char *bundle, const char *file, char *text)
{
	char path[1024];
	char *norm = replace_all(text, BPF_SRC_DIR, "@BPF_DIR@");
	char *want;

	snprintf(path, sizeof(path), "%s/golden/%s/%s", TEST_SRC_DIR, bundle, file);
	if (getenv("APIARY_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(norm, f);
		fclose(f);
	}
	want = read_file(path);
	if (!want)
		fail_msg("missing golden file %s (run with APIARY_UPDATE_GOLDEN=1)", path);
	if (strcmp(want, norm) != 0) {
		fprintf(stderr, "---- %s differs; generated:\n%s\n", path, norm);
		fail_msg("%s/%s differs from the golden file", bundle, file);
	}
	free(want);
	free(norm);
}

typedef int (*gen_fn)(FILE *, const struct apiary_spec *, struct apiary_diags *);

static char *generate(gen_fn fn, const struct apiary_spec *s)
{
	struct apiary_diags d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	apiary_diags_init(&d);
	err = fn(f, s, &d);
	fclose(f);
	if (err)
		apiary_diags_print(&d, stderr);
	assert_int_equal(err, 0);
	assert_int_equal(d.errors, 0);
	apiary_diags_free(&d);
	return buf;
}

static char *generate_wrapper(const struct apiary_spec *s, int e, int vslot)
{
	struct apiary_gen_prog p = { .enforcer = e, .vslot = vslot };
	struct apiary_diags d;
	char *buf = NULL, *abs;
	size_t len = 0;
	FILE *f;
	int err;

	p.code = apiary_gen_code(s, e, vslot, &p.version);
	assert_non_null(p.code);
	p.hook = s->enforcers[e].hook;
	abs = realpath(p.code->resolved, NULL);
	assert_non_null(abs);
	p.source_abs = abs;
	apiary_diags_init(&d);
	f = open_memstream(&buf, &len);
	err = apiary_gen_wrapper(f, s, &p, &d);
	fclose(f);
	assert_int_equal(err, 0);
	apiary_diags_free(&d);
	free(abs);
	return buf;
}

static void run_bundle(struct apiary_spec *s, int e, int vslot, const char *wrapper_file)
{
	const char *name = s->bundle.s;
	char *t;

	t = generate(apiary_gen_bundle_h, s);
	check_golden(name, "apiary_bundle.h", t);
	free(t);
	t = generate(apiary_gen_sidecar, s);
	check_golden(name, "sidecar.bpf.c", t);
	free(t);
	t = generate_wrapper(s, e, vslot);
	check_golden(name, wrapper_file, t);
	free(t);
	tspec_free(s);
}

static void test_edge(void **state)
{
	run_bundle(tspec_edge(BPF_SRC_DIR), 0, 1, "enf_fw_v2.c");
}

static void test_edge_placeholder(void **state)
{
	/* counter names no program: the wrapper calls the placeholder. */
	struct apiary_spec *s = tspec_edge(BPF_SRC_DIR);
	char *t = generate_wrapper(s, 1, 0);

	check_golden("edge", "enf_counter_v4.c", t);
	free(t);
	tspec_free(s);
}

static void test_preds(void **state)
{
	run_bundle(tspec_preds(BPF_SRC_DIR), 0, 0, "enf_tagger_v7.c");
}

static void test_mixed(void **state)
{
	run_bundle(tspec_opaque(BPF_SRC_DIR, "lb_prebuilt.bpf.o"), 1, 0, "enf_fw_v1.c");
}

/* The same specs through the real parser and semantic pass give the same
 * generated C as the hand-built ASTs above (same golden files). */
static void parsed_bundle(const char *file, int e, int vslot, const char *wrapper_file)
{
	struct apiary_spec *s = NULL;
	struct apiary_diags d;
	char path[1024], *t;

	snprintf(path, sizeof(path), "%s/%s", BPF_SRC_DIR, file);
	apiary_diags_init(&d);
	if (apiary_spec_load(path, &s, &d)) {
		apiary_diags_print(&d, stderr);
		fail_msg("%s does not load", path);
	}
	apiary_diags_free(&d);
	t = generate(apiary_gen_bundle_h, s);
	check_golden(s->bundle.s, "apiary_bundle.h", t);
	free(t);
	t = generate(apiary_gen_sidecar, s);
	check_golden(s->bundle.s, "sidecar.bpf.c", t);
	free(t);
	t = generate_wrapper(s, e, vslot);
	check_golden(s->bundle.s, wrapper_file, t);
	free(t);
	apiary_spec_free(s);
}

static void test_parsed_edge(void **state)
{
	parsed_bundle("edge.spec", 0, 1, "enf_fw_v2.c");
}

static void test_parsed_preds(void **state)
{
	parsed_bundle("preds.spec", 0, 0, "enf_tagger_v7.c");
}

/* A key field with no place in struct apiary_flow_key is an error. */
static void test_bad_key(void **state)
{
	struct apiary_spec *s = tspec_edge(BPF_SRC_DIR);
	struct apiary_diags d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	s->classifier->keys[2] = APIARY_F_IP_TTL;
	apiary_diags_init(&d);
	assert_int_equal(apiary_gen_sidecar(f, s, &d), -EINVAL);
	fclose(f);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].msg, "ip.ttl"));
	apiary_diags_free(&d);
	free(buf);
	tspec_free(s);
}

/* An array state keyed by something else than u32 is an error. */
static void test_bad_array_key(void **state)
{
	struct apiary_spec *s = tspec_preds(BPF_SRC_DIR);
	struct apiary_diags d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	s->states[0].key.kind = APIARY_TY_U64;
	apiary_diags_init(&d);
	assert_int_equal(apiary_gen_bundle_h(f, s, &d), -EINVAL);
	fclose(f);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].msg, "hits"));
	apiary_diags_free(&d);
	free(buf);
	tspec_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_edge_placeholder),
		cmocka_unit_test(test_preds),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_parsed_edge),
		cmocka_unit_test(test_parsed_preds),
		cmocka_unit_test(test_bad_key),
		cmocka_unit_test(test_bad_array_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
