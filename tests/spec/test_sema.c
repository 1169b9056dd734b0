// SPDX-License-Identifier: MIT
/*
 * Semantic checks on valid specs: the full example bundle loads without a
 * message, paths are resolved against the spec's directory, flow-key types
 * get their size, an update without code inherits it; plus the exact
 * printed form of a diagnostic. Runs from tests/spec (meson workdir).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "apiary/abi.h"
#include "apiary/spec.h"

static void test_full_example(void **state)
{
	struct apiary_diags d;
	struct apiary_spec *s = NULL;
	const struct apiary_enforcer *fw, *lb;

	apiary_diags_init(&d);
	assert_int_equal(apiary_spec_load("fixtures/edge.spec", &s, &d), 0);
	if (d.count)
		apiary_diags_print(&d, stderr);
	assert_int_equal(d.count, 0);
	assert_string_equal(s->dir, "fixtures");
	fw = apiary_spec_enforcer(s, "firewall");
	lb = apiary_spec_enforcer(s, "lb");
	assert_string_equal(fw->code.resolved, "fixtures/enforcers/firewall.bpf.c");
	assert_string_equal(lb->code.resolved, "fixtures/prebuilt/lb.bpf.obj");
	assert_true(lb->code.prebuilt);
	assert_string_equal(s->updates[0].code.resolved, "fixtures/prebuilt/lb_v8.bpf.obj");
	assert_int_equal(s->states[0].key.kind, APIARY_TY_FLOW);
	assert_int_equal(s->states[0].key.size, sizeof(struct apiary_flow_key));
	assert_int_equal(s->classifier->hook, APIARY_HOOK_XDP);
	apiary_diags_free(&d);
	apiary_spec_free(s);
}

static int parse_check(const char *path, const char *text, struct apiary_spec **s,
		       struct apiary_diags *d)
{
	int err;

	apiary_diags_init(d);
	err = apiary_spec_parse(path, text, strlen(text), s, d);
	assert_int_equal(err, 0);
	return apiary_spec_check(*s, d);
}

static void test_update_inherits_code(void **state)
{
	static const char text[] =
		"bundle b version 1\n"
		"enforcer fw team t version 1 at xdp {\n"
		"    source \"enforcers/firewall.bpf.c\" program \"fw_main\"\n"
		"    global limit = 10\n"
		"}\n"
		"update fw to version 2 { global limit = 20 }\n";
	struct apiary_diags d;
	struct apiary_spec *s = NULL;
	const struct apiary_update *u;

	assert_int_equal(parse_check("fixtures/inline.spec", text, &s, &d), 0);
	assert_int_equal(d.count, 0);
	u = &s->updates[0];
	assert_false(u->code.prebuilt);
	assert_string_equal(u->code.path.s, "enforcers/firewall.bpf.c");
	assert_string_equal(u->code.resolved, "fixtures/enforcers/firewall.bpf.c");
	assert_string_equal(u->code.program.s, "fw_main");
	assert_int_equal(u->nglobals, 1);
	assert_int_equal(u->globals[0].value.u, 20);
	apiary_diags_free(&d);
	apiary_spec_free(s);
}

static void test_absolute_and_plain_paths(void **state)
{
	char cwd[4096], text[8192];
	struct apiary_diags d;
	struct apiary_spec *s = NULL;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(text, sizeof(text),
		 "bundle b version 1\n"
		 "enforcer fw team t version 1 at xdp { source \"%s/fixtures/enforcers/firewall.bpf.c\" }\n"
		 "enforcer m team t version 1 at xdp { source \"fixtures/enforcers/meter.bpf.c\" }\n",
		 cwd);
	/* no directory in the spec path: paths are relative to "." */
	assert_int_equal(parse_check("plain.spec", text, &s, &d), 0);
	assert_string_equal(s->dir, ".");
	assert_string_equal(s->enforcers[1].code.resolved, "fixtures/enforcers/meter.bpf.c");
	assert_string_equal(s->enforcers[0].code.path.s, s->enforcers[0].code.resolved);
	apiary_diags_free(&d);
	apiary_spec_free(s);
}

/* Soft parse errors (unknown field) and semantic errors (a cycle) of one
 * file are reported together by apiary_spec_load. */
static void test_load_reports_both(void **state)
{
	struct apiary_diags d;
	struct apiary_spec *s = NULL;

	apiary_diags_init(&d);
	assert_int_equal(apiary_spec_load("errors/mixed.spec", &s, &d), -EINVAL);
	assert_non_null(s);
	assert_int_equal(d.errors, 2);
	assert_string_equal(d.items[0].msg, "unknown field 'ip.sorce'; did you mean 'ip.src'?");
	assert_string_equal(d.items[1].msg,
			    "order cycle: a -> b -> a; no order satisfies it, remove one of these orders");
	apiary_diags_free(&d);
	apiary_spec_free(s);
}

static void test_missing_spec(void **state)
{
	struct apiary_diags d;
	struct apiary_spec *s = (void *)1;

	apiary_diags_init(&d);
	assert_int_equal(apiary_spec_load("fixtures/nope.spec", &s, &d), -EINVAL);
	assert_null(s);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.items[0].msg,
			    "cannot read spec 'fixtures/nope.spec': No such file or directory");
	apiary_diags_free(&d);
}

/* The printed form: file:line:col: severity: msg, the line, the caret
 * (tabs copied so it lines up), detail lines, unlocated messages. */
static void test_print_format(void **state)
{
	static const char src[] = "bundle b version 1\n\tx == 1\n";
	struct apiary_loc l = { .file = "f.spec", .src = src, .line = 2, .col = 2, .len = 4 };
	struct apiary_loc far = { .file = "f.spec", .src = src, .line = 2, .col = 7, .len = 9 };
	struct apiary_diags d;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	apiary_diags_init(&d);
	assert_int_equal(apiary_error(&d, &l, "bad %s", "thing"), -EINVAL);
	apiary_diag_set_detail(&d, "hint one\nhint two");
	apiary_warn(&d, &far, "w");
	apiary_note(&d, NULL, "n %d", 3);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.count, 3);
	f = open_memstream(&out, &len);
	apiary_diags_print(&d, f);
	fclose(f);
	assert_string_equal(out, "f.spec:2:2: error: bad thing\n"
				 "\tx == 1\n"
				 "\t^~~~\n"
				 "hint one\n"
				 "hint two\n"
				 "f.spec:2:7: warning: w\n"
				 "\tx == 1\n"
				 "\t     ^\n"
				 "note: n 3\n");
	free(out);
	apiary_diags_free(&d);
	assert_int_equal(d.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_update_inherits_code),
		cmocka_unit_test(test_absolute_and_plain_paths),
		cmocka_unit_test(test_load_reports_both),
		cmocka_unit_test(test_missing_spec),
		cmocka_unit_test(test_print_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
