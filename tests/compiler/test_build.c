// SPDX-License-Identifier: MIT
/*
 * The build pipeline end to end (clang, IR pass, llc), without loading:
 * objects hold the expected programs and maps (libbpf bpf_object__open),
 * the team's entry function is no longer a program, metadata is complete,
 * objects are reproducible, and failures come back as diagnostics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>

#include "apiary/compiler.h"
#include "specs.h"

static char *out_dir(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/out_build_%s", TEST_BUILD_DIR, name) > 0);
	return p;
}

static struct apiary_build *compile(struct apiary_spec *s, const char *dir, bool keep_going,
				    struct apiary_diags *d, int *err)
{
	struct apiary_build_opts o = { .sz = sizeof(o), .out_dir = dir, .keep_going = keep_going };
	struct apiary_build *b = NULL;

	*err = apiary_compile(s, &o, &b, d);
	if (*err && !d->errors)
		fail_msg("error %d without a diagnostic", *err);
	return b;
}

static struct apiary_build *compile_ok(struct apiary_spec *s, const char *dir)
{
	struct apiary_diags d;
	struct apiary_build *b;
	int err;

	apiary_diags_init(&d);
	b = compile(s, dir, false, &d, &err);
	if (err)
		apiary_diags_print(&d, stderr);
	assert_int_equal(err, 0);
	assert_non_null(b);
	apiary_diags_free(&d);
	return b;
}

static bool has_map(struct bpf_object *obj, const char *name)
{
	return bpf_object__find_map_by_name(obj, name) != NULL;
}

static int nprogs(struct bpf_object *obj)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, obj)
		n++;
	return n;
}

static const char *const shared_maps[] = { "apiary_ctx_map", "apiary_progs_xdp",
					   "apiary_progs_tc", "apiary_chain", "apiary_routes",
					   "apiary_flows" };

static void check_shared_maps(struct bpf_object *obj)
{
	for (size_t i = 0; i < sizeof(shared_maps) / sizeof(shared_maps[0]); i++)
		if (!has_map(obj, shared_maps[i]))
			fail_msg("%s: no map %s", bpf_object__name(obj), shared_maps[i]);
}

/* The wrapped object: exactly the wrapper program, entry gone to .text. */
static void check_wrapped(const struct apiary_build_prog *p, bool uses_api, const char *prog,
			  const char *entry,
			  const char *section)
{
	struct bpf_object *obj = bpf_object__open_file(p->object_path, NULL);
	struct bpf_program *bp;

	assert_non_null(obj);
	assert_string_equal(p->prog_name, prog);
	assert_string_equal(p->entry_name, entry);
	bp = bpf_object__find_program_by_name(obj, prog);
	assert_non_null(bp);
	assert_string_equal(bpf_program__section_name(bp), section);
	assert_null(bpf_object__find_program_by_name(obj, entry));
	assert_int_equal(nprogs(obj), 1);
	/* Static in BTF too, so the verifier checks it in its caller's context. */
	{
		const struct btf *btf = bpf_object__btf(obj);
		int id = btf__find_by_name_kind(btf, entry, BTF_KIND_FUNC);

		assert_true(id > 0);
		assert_int_equal(BTF_INFO_VLEN(btf__type_by_id(btf, (__u32)id)->info), BTF_FUNC_STATIC);
		id = btf__find_by_name_kind(btf, prog, BTF_KIND_FUNC);
		assert_int_equal(BTF_INFO_VLEN(btf__type_by_id(btf, (__u32)id)->info), BTF_FUNC_GLOBAL);
	}
	check_shared_maps(obj);
	/* Declared state comes with apiary.h; a plain program declares what it
	 * uses itself, and its wrapper must not add a second definition. */
	assert_int_equal(has_map(obj, "conn_bytes"), uses_api);
	assert_int_equal(has_map(obj, "blocked"), uses_api);
	bpf_object__close(obj);
}

/* The entry in the IR the pass wrote: .text, internal. */
static void check_ir(const char *dir, const char *base, const char *entry)
{
	LLVMContextRef ctx = LLVMContextCreate();
	LLVMMemoryBufferRef buf;
	LLVMModuleRef m;
	LLVMValueRef fn;
	char path[1024], *msg = NULL;

	snprintf(path, sizeof(path), "%s/%s.bc", dir, base);
	assert_int_equal(LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg), 0);
	assert_int_equal(LLVMParseBitcodeInContext2(ctx, buf, &m), 0);
	fn = LLVMGetNamedFunction(m, entry);
	assert_non_null(fn);
	assert_string_equal(LLVMGetSection(fn), ".text");
	assert_int_equal(LLVMGetLinkage(fn), LLVMInternalLinkage);
	assert_null(LLVMGetNamedFunction(m, "apiary_entry"));
	LLVMDisposeModule(m);
	LLVMDisposeMemoryBuffer(buf);
	LLVMContextDispose(ctx);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void test_edge_objects(void **state)
{
	struct apiary_spec *s = tspec_edge(BPF_SRC_DIR);
	char *dir = out_dir("edge");
	struct apiary_build *b = compile_ok(s, dir);
	struct bpf_object *obj;
	const struct apiary_build_prog *p;

	assert_int_equal(b->nprogs, 4);
	p = apiary_build_prog(b, 0, 0);
	assert_non_null(p);
	assert_int_equal(p->version, 1);
	assert_false(p->opaque);
	check_wrapped(p, true, "apiary_w_fw_v1", "fw_main", "xdp");
	p = apiary_build_prog(b, 0, 1);
	assert_non_null(p);
	assert_int_equal(p->version, 2);
	check_wrapped(p, true, "apiary_w_fw_v2", "fw_main", "xdp");
	p = apiary_build_prog(b, 1, 0);
	check_wrapped(p, false, "apiary_w_counter_v4", "count_pkts", "xdp");
	obj = bpf_object__open_file(p->object_path, NULL);
	assert_true(has_map(obj, "counter_hits")); /* the team's own map stays */
	bpf_object__close(obj);
	p = apiary_build_prog(b, 2, 0);
	check_wrapped(p, true, "apiary_w_meter_v1", "meter_main", "tc");
	assert_null(apiary_build_prog(b, 1, 1));

	check_ir(b->out_dir, "enf_fw_v1", "fw_main");
	check_ir(b->out_dir, "enf_counter_v4", "count_pkts");

	/* The sidecar: three dispatchers, all shared and declared maps. */
	obj = bpf_object__open_file(b->sidecar_object, NULL);
	assert_non_null(obj);
	assert_int_equal(nprogs(obj), 3);
	assert_string_equal(bpf_program__section_name(bpf_object__find_program_by_name(obj, "apiary_xdp")), "xdp");
	assert_string_equal(bpf_program__section_name(bpf_object__find_program_by_name(obj, "apiary_tc_ingress")), "tc");
	assert_string_equal(bpf_program__section_name(bpf_object__find_program_by_name(obj, "apiary_tc_egress")), "tc");
	check_shared_maps(obj);
	assert_true(has_map(obj, "conn_bytes"));
	assert_int_equal(bpf_map__key_size(bpf_object__find_map_by_name(obj, "apiary_flows")), 40);
	assert_int_equal(bpf_map__max_entries(bpf_object__find_map_by_name(obj, "apiary_progs_xdp")), 64);
	bpf_object__close(obj);

	apiary_build_free(b);
	tspec_free(s);
	free(dir);
}

static void test_metadata(void **state)
{
	struct apiary_spec *s = tspec_edge(BPF_SRC_DIR);
	char *dir = out_dir("meta");
	struct apiary_build *b = compile_ok(s, dir);
	json_object *root = json_object_from_file(b->metadata_path);
	json_object *o, *progs, *p, *inv;
	char hex[65];

	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "bundle", &o));
	assert_string_equal(json_object_get_string(json_object_object_get(o, "name")), "edge");
	assert_int_equal(json_object_get_int(json_object_object_get(o, "version")), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "hash")),
			    b->bundle_hash_hex);
	assert_int_equal(strlen(b->bundle_hash_hex), 64);

	assert_true(json_object_object_get_ex(root, "programs", &progs));
	assert_int_equal(json_object_array_length(progs), 4);
	p = json_object_array_get_idx(progs, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(p, "enforcer")), "fw");
	assert_string_equal(json_object_get_string(json_object_object_get(p, "team")), "security");
	assert_int_equal(json_object_get_int(json_object_object_get(p, "version")), 2);
	assert_int_equal(json_object_get_int(json_object_object_get(p, "vslot")), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(p, "hook")), "xdp");
	assert_false(json_object_get_boolean(json_object_object_get(p, "opaque")));
	assert_string_equal(json_object_get_string(json_object_object_get(p, "prog_name")),
			    "apiary_w_fw_v2");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", b->progs[1].hash[i]);
	assert_string_equal(json_object_get_string(json_object_object_get(p, "sha256")), hex);

	assert_true(json_object_object_get_ex(root, "maps", &o));
	assert_int_equal(json_object_array_length(o), 2);
	p = json_object_array_get_idx(o, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(p, "name")), "conn_bytes");
	assert_int_equal(json_object_get_int(json_object_object_get(json_object_object_get(p, "key"), "size")), 40);

	assert_true(json_object_object_get_ex(root, "invariants", &inv));
	o = json_object_array_get_idx(json_object_object_get(inv, "cover"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "enforcer")), "meter");
	assert_non_null(strstr(json_object_get_string(json_object_object_get(o, "sees")), "ip.proto"));
	o = json_object_array_get_idx(json_object_object_get(inv, "order"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "before")), "fw");
	o = json_object_array_get_idx(json_object_object_get(inv, "effects"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "verdict")), "drop");
	assert_non_null(strstr(json_object_get_string(json_object_object_get(o, "when")), "10.66.0.0/16"));
	assert_int_equal(json_object_array_length(json_object_object_get(inv, "exclusive")), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(json_object_object_get(inv, "flow_consistent"), 0)), "fw");

	o = json_object_object_get(json_object_object_get(root, "chains"), "xdp");
	assert_int_equal(json_object_array_length(o), 2);

	json_object_put(root);
	apiary_build_free(b);
	tspec_free(s);
	free(dir);
}

/* Same input, same bytes; a changed spec text changes the bundle hash. */
static void test_reproducible(void **state)
{
	struct apiary_spec *s = tspec_edge(BPF_SRC_DIR);
	char *dir = out_dir("repro");
	struct apiary_build *a = compile_ok(s, dir), *b;
	size_t la, lb, lsa;
	char *ba = slurp(a->progs[0].object_path, &la), *bb;
	char *sa = slurp(a->sidecar_object, &lsa), *sb;
	uint8_t first[32];

	memcpy(first, a->bundle_hash, 32);
	/* Rebuild from scratch in the same place. */
	unlink(a->progs[0].object_path);
	unlink(a->sidecar_object);
	b = compile_ok(s, dir);
	bb = slurp(b->progs[0].object_path, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	sb = slurp(b->sidecar_object, &lb);
	assert_int_equal(lsa, lb);
	assert_memory_equal(sa, sb, lb);
	for (size_t i = 0; i < a->nprogs; i++)
		assert_memory_equal(a->progs[i].hash, b->progs[i].hash, 32);
	assert_memory_equal(first, b->bundle_hash, 32);
	apiary_build_free(b);

	s->text[0] = 'B'; /* "Bundle ...": another spec text */
	b = compile_ok(s, dir);
	assert_memory_not_equal(first, b->bundle_hash, 32);
	assert_memory_equal(a->progs[0].hash, b->progs[0].hash, 32);

	free(ba);
	free(bb);
	free(sa);
	free(sb);
	apiary_build_free(a);
	apiary_build_free(b);
	tspec_free(s);
	free(dir);
}

static void test_opaque(void **state)
{
	struct apiary_spec *s = tspec_opaque(BPF_SRC_DIR, PREBUILT_OBJ);
	char *dir = out_dir("mixed");
	struct apiary_build *b = compile_ok(s, dir);
	const struct apiary_build_prog *p = apiary_build_prog(b, 0, 0);
	struct bpf_object *obj;

	assert_non_null(p);
	assert_true(p->opaque);
	assert_string_equal(p->object_path, PREBUILT_OBJ);
	/* The single XDP program (the object also has a tc one). */
	assert_string_equal(p->prog_name, "balancer_ingress");
	assert_null(p->source_path);
	p = apiary_build_prog(b, 1, 0);
	assert_false(p->opaque);
	assert_string_equal(p->entry_name, "fw_main");
	obj = bpf_object__open_file(p->object_path, NULL);
	assert_non_null(bpf_object__find_program_by_name(obj, "apiary_w_fw_v1"));
	assert_null(bpf_object__find_program_by_name(obj, "fw_main"));
	bpf_object__close(obj);
	apiary_build_free(b);
	tspec_free(s);
	free(dir);
}

/* A diagnostic whose message holds every needle (and detail too if given). */
static void expect_error(struct apiary_spec *s, const char *name, const char *msg1,
			 const char *msg2, const char *detail)
{
	struct apiary_diags d;
	char *dir = out_dir(name);
	int err;
	struct apiary_build *b;

	apiary_diags_init(&d);
	b = compile(s, dir, false, &d, &err);
	assert_null(b);
	assert_true(err < 0);
	assert_true(d.errors >= 1);
	if (!strstr(d.items[0].msg, msg1) || (msg2 && !strstr(d.items[0].msg, msg2)) ||
	    (detail && (!d.items[0].detail || !strstr(d.items[0].detail, detail)))) {
		apiary_diags_print(&d, stderr);
		fail_msg("unexpected diagnostic");
	}
	apiary_diags_free(&d);
	tspec_free(s);
	free(dir);
}

static void test_clang_error(void **state)
{
	expect_error(tspec_single(BPF_SRC_DIR, "broken.bpf.c", "broken_main", 0), "broken",
		     "enforcer bad", "compiling", "broken.bpf.c:9:9: error: use of undeclared identifier 'undeclared_variable'");
}

static void test_ambiguous_entry(void **state)
{
	expect_error(tspec_single(BPF_SRC_DIR, "two_progs.bpf.c", NULL, 0), "two", "enforcer bad",
		     "first, second", NULL);
}

static void test_missing_named_entry(void **state)
{
	expect_error(tspec_single(BPF_SRC_DIR, "counter.bpf.c", "nope", 0), "nope",
		     "enforcer bad", "'nope'", NULL);
}

static void test_prebuilt_missing_program(void **state)
{
	expect_error(tspec_single(BPF_SRC_DIR, PREBUILT_OBJ, "nope", 1), "prebuilt",
		     "has no program 'nope'", NULL, NULL);
}

static void test_missing_source(void **state)
{
	expect_error(tspec_single(BPF_SRC_DIR, "does_not_exist.bpf.c", NULL, 0), "nosrc",
		     "cannot find source", "does_not_exist.bpf.c", NULL);
}

/* Offset of variable `var` in datasec `sec` of the object's BTF, or -1. */
static long datasec_offset(const struct btf *btf, const char *sec, const char *var)
{
	int id = btf ? btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC) : -1;
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_var_secinfo *vs = t ? btf_var_secinfos(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++, vs++)
		if (!strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off), var))
			return vs->offset;
	return -1;
}

/* Does this object carry the coverage section (a map libbpf will create)
 * with a nonzero counter count in its marker (found through BTF: the
 * sidecar's flow epoch shares the section)? */
static bool has_counters(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_map *m;
	const uint8_t *val;
	uint32_t marker = 0;
	size_t sz = 0;
	long off;
	bool ok;

	assert_non_null(obj);
	m = bpf_object__find_map_by_name(obj, ".data.apiary_cov");
	val = m ? bpf_map__initial_value(m, &sz) : NULL;
	off = datasec_offset(bpf_object__btf(obj), ".data.apiary_cov", "apiary_cov_marker");
	if (val && off >= 0 && (size_t)off + 4 <= sz)
		memcpy(&marker, val + off, 4);
	ok = marker > 0;
	bpf_object__close(obj);
	return ok;
}

/* With coverage, the wrapped enforcer and the sidecar (dispatchers and
 * classifier) both carry counters; without, neither does. */
static void test_coverage_counters(void **state)
{
	struct apiary_spec *s = tspec_single(BPF_SRC_DIR, "counter.bpf.c", NULL, 0);
	char *dir = out_dir("cov"), *plain_dir = out_dir("nocov");
	struct apiary_build_opts o = { .sz = sizeof(o), .out_dir = dir, .coverage = true };
	struct apiary_build *b = NULL;
	struct apiary_diags d;

	apiary_diags_init(&d);
	assert_int_equal(apiary_compile(s, &o, &b, &d), 0);
	assert_true(b->coverage);
	assert_true(has_counters(b->progs[0].object_path));
	assert_true(has_counters(b->sidecar_object));
	apiary_build_free(b);
	o.out_dir = plain_dir;
	o.coverage = false;
	assert_int_equal(apiary_compile(s, &o, &b, &d), 0);
	assert_false(has_counters(b->progs[0].object_path));
	assert_false(has_counters(b->sidecar_object));
	apiary_build_free(b);
	apiary_diags_free(&d);
	tspec_free(s);
	free(dir);
	free(plain_dir);
}

/* keep_going: every enforcer is compiled, every failure reported. */
static void test_keep_going(void **state)
{
	struct apiary_spec *s = tspec_edge(BPF_SRC_DIR);
	char *dir = out_dir("keep");
	struct apiary_diags d;
	struct apiary_build *b;
	int err;

	s->enforcers[0].code.resolved[strlen(s->enforcers[0].code.resolved) - 1] = 'X'; /* missing */
	s->enforcers[2].code.program.s[0] = 'X';
	apiary_diags_init(&d);
	b = compile(s, dir, true, &d, &err);
	assert_null(b);
	assert_true(err < 0);
	assert_int_equal(d.errors, 2);
	apiary_diags_free(&d);
	tspec_free(s);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_objects),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_clang_error),
		cmocka_unit_test(test_ambiguous_entry),
		cmocka_unit_test(test_missing_named_entry),
		cmocka_unit_test(test_prebuilt_missing_program),
		cmocka_unit_test(test_missing_source),
		cmocka_unit_test(test_coverage_counters),
		cmocka_unit_test(test_keep_going),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
