// SPDX-License-Identifier: MIT
/*
 * Unit tests of the IR pass on modules built with the LLVM-C API (no clang):
 * the entry moves to .text with internal linkage, the wrapper's placeholder
 * is bound to it, ambiguous or missing entries are errors; the coverage
 * pass leaves a module without counters alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <llvm-c/Core.h>

#include "irpass.h"

/* i32 name(i8*) { ret i32 v } in `section`. */
static LLVMValueRef add_fn(LLVMModuleRef m, const char *name, const char *section, int v)
{
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx);
	LLVMTypeRef arg = LLVMPointerType(LLVMInt8TypeInContext(ctx), 0);
	LLVMValueRef fn = LLVMAddFunction(m, name, LLVMFunctionType(i32, &arg, 1, 0));
	LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);

	LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
	LLVMBuildRet(b, LLVMConstInt(i32, (unsigned long long)v, 0));
	LLVMDisposeBuilder(b);
	if (section)
		LLVMSetSection(fn, section);
	return fn;
}

/* The wrapper: i32 apiary_w_x(i8* c) { ret callee(c) } in section `section`;
 * callee is declared if it does not exist. */
static LLVMValueRef add_wrapper(LLVMModuleRef m, const char *section, const char *callee)
{
	LLVMContextRef ctx = LLVMGetModuleContext(m);
	LLVMTypeRef i32 = LLVMInt32TypeInContext(ctx);
	LLVMTypeRef arg = LLVMPointerType(LLVMInt8TypeInContext(ctx), 0);
	LLVMTypeRef fty = LLVMFunctionType(i32, &arg, 1, 0);
	LLVMValueRef fn = LLVMAddFunction(m, "apiary_w_x_v1", fty);
	LLVMValueRef target = LLVMGetNamedFunction(m, callee);
	LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
	LLVMValueRef args[1];

	if (!target)
		target = LLVMAddFunction(m, callee, fty);
	LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
	args[0] = LLVMGetParam(fn, 0);
	LLVMBuildRet(b, LLVMBuildCall2(b, fty, target, args, 1, "v"));
	LLVMDisposeBuilder(b);
	LLVMSetSection(fn, section);
	return fn;
}

struct fixture {
	LLVMContextRef ctx;
	LLVMModuleRef m;
	struct apiary_diags d;
	char *entry;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ctx = LLVMContextCreate();
	f->m = LLVMModuleCreateWithNameInContext("t", f->ctx);
	apiary_diags_init(&f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	LLVMDisposeModule(f->m);
	LLVMContextDispose(f->ctx);
	apiary_diags_free(&f->d);
	free(f->entry);
	free(f);
	return 0;
}

static struct apiary_irpass_opts opts(const char *entry, enum apiary_hook h)
{
	return (struct apiary_irpass_opts){ .entry = entry, .hook = h,
					    .placeholder = "apiary_entry",
					    .skip_prefix = "apiary_w_", .who = "enforcer x" };
}

static void test_named_entry_moves_to_text(void **state)
{
	struct fixture *f = *state;
	LLVMValueRef fw = add_fn(f->m, "fw_main", "xdp", 2);
	LLVMValueRef other = add_fn(f->m, "other", "xdp", 1);
	struct apiary_irpass_opts o = opts("fw_main", APIARY_HOOK_XDP);

	add_wrapper(f->m, "xdp", "fw_main");
	assert_int_equal(apiary_irpass_module(f->m, &o, &f->entry, &f->d), 0);
	assert_string_equal(f->entry, "fw_main");
	assert_string_equal(LLVMGetSection(fw), ".text");
	assert_int_equal(LLVMGetLinkage(fw), LLVMInternalLinkage);
	/* Other programs of the source stay programs. */
	assert_string_equal(LLVMGetSection(other), "xdp");
	assert_int_equal(LLVMGetLinkage(other), LLVMExternalLinkage);
	assert_string_equal(LLVMGetSection(LLVMGetNamedFunction(f->m, "apiary_w_x_v1")), "xdp");
}

static void test_placeholder_bound_by_section(void **state)
{
	struct fixture *f = *state;
	LLVMValueRef tc = add_fn(f->m, "cls_main", "classifier/ingress", 0);
	LLVMValueRef xdp = add_fn(f->m, "xdp_prog", "xdp", 0);
	struct apiary_irpass_opts o = opts(NULL, APIARY_HOOK_TC_EGRESS);

	add_fn(f->m, "helper", NULL, 0);
	add_wrapper(f->m, "tc", "apiary_entry");
	assert_int_equal(apiary_irpass_module(f->m, &o, &f->entry, &f->d), 0);
	assert_string_equal(f->entry, "cls_main");
	assert_null(LLVMGetNamedFunction(f->m, "apiary_entry"));
	assert_string_equal(LLVMGetSection(tc), ".text");
	assert_int_equal(LLVMGetLinkage(tc), LLVMInternalLinkage);
	assert_string_equal(LLVMGetSection(xdp), "xdp");
	/* The wrapper now calls cls_main. */
	{
		LLVMValueRef w = LLVMGetNamedFunction(f->m, "apiary_w_x_v1");
		LLVMValueRef call = LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(w));

		assert_true(LLVMIsACallInst(call) != NULL);
		assert_ptr_equal(LLVMGetCalledValue(call), tc);
	}
}

static void test_ambiguous_entry(void **state)
{
	struct fixture *f = *state;
	struct apiary_irpass_opts o = opts(NULL, APIARY_HOOK_XDP);

	add_fn(f->m, "first", "xdp", 0);
	add_fn(f->m, "second", "xdp.frags", 0);
	add_wrapper(f->m, "xdp", "apiary_entry");
	assert_int_equal(apiary_irpass_module(f->m, &o, &f->entry, &f->d), -ENOENT);
	assert_int_equal(f->d.errors, 1);
	assert_non_null(strstr(f->d.items[0].msg, "first, second"));
	assert_non_null(strstr(f->d.items[0].msg, "enforcer x"));
}

static void test_missing_entry(void **state)
{
	struct fixture *f = *state;
	struct apiary_irpass_opts o = opts("nope", APIARY_HOOK_XDP);

	add_fn(f->m, "fw_main", "xdp", 0);
	add_wrapper(f->m, "xdp", "nope"); /* clang leaves a declaration */
	assert_int_equal(apiary_irpass_module(f->m, &o, &f->entry, &f->d), -ENOENT);
	assert_non_null(strstr(f->d.items[0].msg, "'nope'"));
	/* Nothing moved. */
	assert_string_equal(LLVMGetSection(LLVMGetNamedFunction(f->m, "fw_main")), "xdp");
}

static void test_no_program_for_hook(void **state)
{
	struct fixture *f = *state;
	struct apiary_irpass_opts o = opts(NULL, APIARY_HOOK_XDP);

	add_fn(f->m, "cls", "tc", 0);
	add_wrapper(f->m, "xdp", "apiary_entry");
	assert_int_equal(apiary_irpass_module(f->m, &o, &f->entry, &f->d), -ENOENT);
	assert_non_null(strstr(f->d.items[0].msg, "no program"));
}

/* Coverage on a module clang did not instrument: the entry still moves,
 * and no counter section appears (nothing to count). */
static void test_coverage_uninstrumented(void **state)
{
	struct fixture *f = *state;
	struct apiary_irpass_opts o = opts("fw_main", APIARY_HOOK_XDP);
	LLVMValueRef fw = add_fn(f->m, "fw_main", "xdp", 0);

	o.coverage = true;
	assert_int_equal(apiary_irpass_module(f->m, &o, &f->entry, &f->d), 0);
	assert_string_equal(LLVMGetSection(fw), ".text");
	assert_null(LLVMGetNamedGlobal(f->m, "apiary_cov_marker"));
}

static void test_section_fits(void **state)
{
	assert_true(apiary_irpass_section_fits("xdp", APIARY_HOOK_XDP));
	assert_true(apiary_irpass_section_fits("xdp.frags", APIARY_HOOK_XDP));
	assert_true(apiary_irpass_section_fits("xdp/devmap", APIARY_HOOK_XDP));
	assert_false(apiary_irpass_section_fits("xdpfoo", APIARY_HOOK_XDP));
	assert_false(apiary_irpass_section_fits("tc", APIARY_HOOK_XDP));
	assert_true(apiary_irpass_section_fits("tc", APIARY_HOOK_TC_INGRESS));
	assert_true(apiary_irpass_section_fits("classifier", APIARY_HOOK_TC_EGRESS));
	assert_true(apiary_irpass_section_fits("action", APIARY_HOOK_TC_EGRESS));
	assert_false(apiary_irpass_section_fits(".text", APIARY_HOOK_TC_EGRESS));
	assert_false(apiary_irpass_section_fits(NULL, APIARY_HOOK_XDP));
	assert_false(apiary_irpass_section_fits("xdp", APIARY_HOOK_NONE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_named_entry_moves_to_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_placeholder_bound_by_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_program_for_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coverage_uninstrumented, setup, teardown),
		cmocka_unit_test(test_section_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
