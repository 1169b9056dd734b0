// SPDX-License-Identifier: MIT
/*
 * The update grammar and the --update merge: `migrate`, `flows max` and
 * `idle` in the classifier, and apiary_spec_add_update on the shipped
 * lb-update pair.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiary/spec.h"

#ifndef SRC_ROOT
#define SRC_ROOT "."
#endif

static struct apiary_spec *load(const char *rel, struct apiary_diags *d)
{
	struct apiary_spec *s = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", SRC_ROOT, rel);
	apiary_diags_init(d);
	assert_int_equal(apiary_spec_load(path, &s, d), 0);
	return s;
}

/* The migration of the shipped example, field by field. */
static void test_migrate_grammar(void **state)
{
	struct apiary_diags d;
	struct apiary_spec *s = load("corpus/lb-migrate/bundle.spec", &d);
	const struct apiary_migrate *m;

	(void)state;
	assert_int_equal(s->nmigrations, 1);
	m = &s->migrations[0];
	assert_string_equal(m->state.s, "sticky");
	assert_int_equal(m->from, 1);
	assert_int_equal(m->to, 2);
	assert_string_equal(m->enforcer.s, "lb");
	assert_int_equal(m->nassigns, 4);
	assert_string_equal(m->assigns[0].field.s, "backend");
	assert_string_equal(m->assigns[0].from.s, "backend");
	assert_string_equal(m->assigns[2].field.s, "weight");
	assert_null(m->assigns[2].from.s);
	assert_int_equal(m->assigns[2].value.u, 1);
	apiary_spec_free(s);
	apiary_diags_free(&d);
}

/* flows max / idle of the classifier. */
static void test_classifier_table(void **state)
{
	struct apiary_diags d;
	struct apiary_spec *s = load("corpus/lb-update/bundle.spec", &d);

	(void)state;
	assert_non_null(s->classifier);
	assert_int_equal(s->classifier->max_flows, 1024);
	assert_int_equal(s->classifier->idle, 8);
	assert_int_equal(s->nupdates, 1);
	assert_int_equal(s->updates[0].version, 8);
	apiary_spec_free(s);
	apiary_diags_free(&d);
}

/* Errors: a migration nobody is updated for, a field assigned twice, a
 * malformed line. */
static void test_migrate_errors(void **state)
{
	static const char text[] =
		"bundle b version 1\n"
		"enforcer e team t version 1 at xdp { object \"x.o\" }\n"
		"migrate state m from 3 to 4 { a = old.a, a = 1 }\n"
		"migrate state m from 1 { }\n";
	struct apiary_diags d;
	struct apiary_spec *s = NULL;
	int err;

	(void)state;
	apiary_diags_init(&d);
	err = apiary_spec_parse("t.spec", text, sizeof(text) - 1, &s, &d);
	assert_int_equal(err, -EINVAL); /* "from 1 {": no "to" */
	assert_non_null(s);
	apiary_spec_free(s);
	apiary_diags_free(&d);

	apiary_diags_init(&d);
	err = apiary_spec_parse("t.spec", text, strlen(text) - strlen("migrate state m from 1 { }\n"),
				&s, &d);
	assert_int_equal(err, 0);
	assert_int_equal(s->nmigrations, 1);
	assert_int_not_equal(apiary_spec_check(s, &d), 0);
	assert_true(d.errors >= 2); /* no enforcer 3 -> 4; a twice (the object is missing too) */
	apiary_spec_free(s);
	apiary_diags_free(&d);
}

/* v7.spec --update v8.spec: lb becomes an update to version 8 with v8's code. */
static void test_add_update(void **state)
{
	struct apiary_diags d, d2;
	struct apiary_spec *old = load("corpus/lb-update/v7.spec", &d);
	struct apiary_spec *newer = load("corpus/lb-update/v8.spec", &d2);

	(void)state;
	assert_int_equal(old->nupdates, 0);
	assert_int_equal(apiary_spec_add_update(old, newer, &d), 0);
	assert_int_equal(old->nupdates, 1);
	assert_string_equal(old->updates[0].enforcer.s, "lb");
	assert_int_equal(old->updates[0].version, 8);
	assert_non_null(strstr(old->updates[0].code.path.s, "lb_v8.bpf.c"));
	/* a second time: nothing differs any more in newer (its code moved),
	 * and lb already has an update */
	assert_int_not_equal(apiary_spec_add_update(old, newer, &d), 0);
	apiary_spec_free(old);
	apiary_spec_free(newer);
	apiary_diags_free(&d);
	apiary_diags_free(&d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_grammar),
		cmocka_unit_test(test_classifier_table),
		cmocka_unit_test(test_migrate_errors),
		cmocka_unit_test(test_add_update),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
