// SPDX-License-Identifier: MIT
/*
 * Map write flags (coverage.h) on the real kernel: the pass lists the
 * maps, flags every call that may change one, and the flags a run sets
 * are exactly the maps it wrote (plus "some map" for a map argument the
 * pass cannot resolve). progs/writes.bpf.c writes a different map per
 * input byte; progs/walk.bpf.c uses looked-up value pointers in every way
 * the use walk distinguishes (memcpy source/destination, memset, atomics,
 * phi, BPF-to-BPF call, percpu lookup). Also: the names blob, the index
 * lookup, objects without flags or with a malformed blob.
 *
 * With --opaque the same runs go through LLVM 14's opaque pointer mode
 * (clang -mllvm -opaque-pointers, and the reader's context likewise), so
 * the pass is checked on both pointer representations.
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

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/Support.h>

#include "apiary/coverage.h"
#include "apiary/fuzz.h"

static const char *src_dir;
static const char *writes_obj; /* built by apiary-cov-cc (meson) */
static const char *walk_obj;
static bool opaque;
static const char *opaque_flags[] = { "-mllvm", "-opaque-pointers", NULL };
static char tmp_dir[] = "/tmp/apiary-writes-test-XXXXXX";

/* writes.bpf.c's maps in flag order (sorted by name), "some map" last */
enum { W_COUNTED, W_READONLY, W_SEL_A, W_SEL_B, W_UPDATED, W_SOME, W_NFLAGS };
static const char *const writes_maps[] = { "counted", "readonly", "sel_a", "sel_b", "updated" };

static void path_in(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static const char *const *cflags(void)
{
	return opaque ? opaque_flags : NULL;
}

/* Compile progs/<name>.bpf.c with coverage into the temporary directory. */
static void compile(const char *name, const char *out, const struct apiary_cov_opts *opts,
		    struct apiary_cov_info *info)
{
	char src[512], obj[512], file[64];
	struct apiary_diags d;

	snprintf(file, sizeof(file), "%s.bpf.c", name);
	path_in(src, sizeof(src), src_dir, file);
	path_in(obj, sizeof(obj), tmp_dir, out);
	apiary_diags_init(&d);
	assert_int_equal(apiary_cov_compile_c(src, obj, cflags(), opts, info, &d), 0);
	assert_int_equal(d.errors, 0);
	apiary_diags_free(&d);
}

struct loaded {
	struct bpf_object *obj;
	int fd;
	struct apiary_cov_map cov;
};

static void load(const char *path, const char *prog_name, struct loaded *l)
{
	struct bpf_program *prog;

	l->obj = bpf_object__open(path);
	assert_non_null(l->obj);
	assert_int_equal(bpf_object__load(l->obj), 0);
	/* the kernel took the object's BTF (libbpf loads without it otherwise) */
	assert_true(bpf_object__btf_fd(l->obj) >= 0);
	prog = bpf_object__find_program_by_name(l->obj, prog_name);
	assert_non_null(prog);
	l->fd = bpf_program__fd(prog);
	assert_true(l->fd >= 0);
	assert_int_equal(apiary_cov_map_open(l->obj, &l->cov), 0);
}

static void unload(struct loaded *l)
{
	apiary_cov_map_close(&l->cov);
	bpf_object__close(l->obj);
}

/* One run on a 64-byte frame whose first byte is `b`, flags zeroed first. */
static uint32_t run_byte(struct loaded *l, uint8_t b)
{
	uint8_t pkt[64] = { b };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);

	memset((void *)l->cov.writes, 0, l->cov.nwrites);
	assert_int_equal(bpf_prog_test_run_opts(l->fd, &o), 0);
	return o.retval;
}

/* The flags are set exactly for the bits of `mask`. */
static void assert_flags(const struct loaded *l, uint32_t mask)
{
	for (uint32_t i = 0; i < l->cov.nwrites; i++) {
		if (l->cov.writes[i] != !!(mask & (1u << i)))
			fail_msg("write flag %u is %u, expected %u", i, l->cov.writes[i],
				 !!(mask & (1u << i)));
	}
}

static int map_fd(const struct loaded *l, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(l->obj, name);

	assert_non_null(m);
	return bpf_map__fd(m);
}

/* The listed names, their indices, and every map of the object: its own
 * maps are listed, libbpf's internal ones (.data.apiary_cov...) are not. */
static void check_index(const struct loaded *l, const char *const *names, uint32_t n)
{
	struct bpf_map *map;
	size_t len = 0;

	assert_int_equal(l->cov.nwrites, n + 1);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(apiary_cov_map_write_index(&l->cov, names[i]), (int)i);
		assert_string_equal(l->cov.wnames + len, names[i]);
		len += strlen(names[i]) + 1;
	}
	assert_int_equal(l->cov.wnames_len, len);
	assert_int_equal(apiary_cov_map_write_index(&l->cov, "no_such_map"), -ENOENT);
	assert_int_equal(apiary_cov_map_write_index(&l->cov, ""), -ENOENT);
	assert_int_equal(apiary_cov_map_write_index(&l->cov, NULL), -ENOENT);
	bpf_object__for_each_map(map, l->obj) {
		int idx = apiary_cov_map_write_index(&l->cov, bpf_map__name(map));

		if (bpf_map__is_internal(map))
			assert_int_equal(idx, -ENOENT);
		else
			assert_true(idx >= 0 && (uint32_t)idx < n);
	}
}

static void check_writes_object(const char *path)
{
	struct loaded l;
	uint32_t key = 0, val32 = 0;
	uint64_t val = 7;

	load(path, "writes", &l);
	check_index(&l, writes_maps, W_NFLAGS - 1);

	/* nothing written: no flag, and no element anywhere */
	assert_int_equal(run_byte(&l, 0), XDP_PASS);
	assert_flags(&l, 0);
	assert_int_equal(bpf_map_lookup_elem(map_fd(&l, "updated"), &key, &val), -ENOENT);

	/* 1: `updated` gets key 0 -> 1 */
	assert_int_equal(run_byte(&l, 1), XDP_PASS);
	assert_flags(&l, 1u << W_UPDATED);
	assert_int_equal(bpf_map_lookup_elem(map_fd(&l, "updated"), &key, &val), 0);
	assert_int_equal(val, 1);

	/* 2: counted[0]++ through the lookup's pointer, twice */
	assert_int_equal(run_byte(&l, 2), XDP_PASS);
	assert_flags(&l, 1u << W_COUNTED);
	assert_int_equal(run_byte(&l, 2), XDP_PASS);
	assert_int_equal(bpf_map_lookup_elem(map_fd(&l, "counted"), &key, &val), 0);
	assert_int_equal(val, 2);

	/* 3, 4: a delete on a map chosen by select: only "some map" */
	val32 = 1;
	assert_int_equal(bpf_map_update_elem(map_fd(&l, "sel_a"), &key, &val32, BPF_ANY), 0);
	assert_int_equal(run_byte(&l, 3), XDP_PASS);
	assert_flags(&l, 1u << W_SOME);
	assert_int_equal(bpf_map_lookup_elem(map_fd(&l, "sel_a"), &key, &val32), -ENOENT);
	assert_int_equal(run_byte(&l, 4), XDP_PASS);
	assert_flags(&l, 1u << W_SOME);

	/* `readonly` really is read (7 at key 5 -> XDP_DROP), never flagged */
	key = 5;
	val = 7;
	assert_int_equal(bpf_map_update_elem(map_fd(&l, "readonly"), &key, &val, BPF_ANY), 0);
	assert_int_equal(run_byte(&l, 5), XDP_DROP);
	assert_flags(&l, 0);

	/* flags are sticky within a run series: 1 then 2 without zeroing */
	run_byte(&l, 1);
	{
		uint8_t pkt[64] = { 2 };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt));

		assert_int_equal(bpf_prog_test_run_opts(l.fd, &o), 0);
	}
	assert_flags(&l, 1u << W_UPDATED | 1u << W_COUNTED);
	unload(&l);
}

/* The pass's counts for writes.bpf.c: 5 maps, the update, the lookup
 * that is incremented and the delete; the delete's map is a select. */
static void test_writes_info(void **state)
{
	struct apiary_cov_info info;

	(void)state;
	compile("writes", "writes.o", NULL, &info);
	assert_true(info.ncounters > 0);
	assert_int_equal(info.nmaps, 5);
	assert_int_equal(info.nwrite_sites, 3);
	assert_int_equal(info.nunknown_sites, 1);
}

static void test_writes_in_kernel(void **state)
{
	char obj[512];

	(void)state;
	path_in(obj, sizeof(obj), tmp_dir, "writes.o");
	/* the test's own build (opaque or typed pointers) ... */
	check_writes_object(obj);
	/* ... and the meson-built object (apiary-cov-cc) */
	if (!opaque)
		check_writes_object(writes_obj);
}

/* walk.bpf.c's maps in flag order; the r_* ones are only read. */
static const char *const walk_maps[] = { "r_copy_src", "r_null_check", "w_atomic",
					 "w_memcpy_dst", "w_memset", "w_percpu",
					 "w_phi", "w_sink", "w_subprog" };

static void check_walk_object(const char *path)
{
	const uint32_t nmaps = sizeof(walk_maps) / sizeof(walk_maps[0]);
	uint32_t written = 0;
	struct loaded l;

	load(path, "walk", &l);
	check_index(&l, walk_maps, nmaps);
	for (uint32_t i = 0; i < nmaps; i++)
		if (walk_maps[i][0] == 'w')
			written |= 1u << i;
	for (uint8_t b = 0; b < 2; b++) {
		assert_int_equal(run_byte(&l, b), XDP_PASS);
		assert_flags(&l, written);
	}
	unload(&l);
}

/* Sites: the update of w_sink and the lookups of the seven w_* maps (two
 * of w_phi); none through an unknown map. */
static void test_walk(void **state)
{
	struct apiary_cov_info info;
	char obj[512];

	(void)state;
	compile("walk", "walk.o", NULL, &info);
	assert_int_equal(info.nmaps, 9);
	assert_int_equal(info.nwrite_sites, 8);
	assert_int_equal(info.nunknown_sites, 0);
	path_in(obj, sizeof(obj), tmp_dir, "walk.o");
	check_walk_object(obj);
	if (!opaque)
		check_walk_object(walk_obj);
}

/* A module without maps: one flag ("some map"), an empty names blob. */
static void test_no_maps(void **state)
{
	struct apiary_cov_info info;
	struct loaded l;
	char obj[512];

	(void)state;
	compile("branches", "branches.o", NULL, &info);
	assert_int_equal(info.nmaps, 0);
	assert_int_equal(info.nwrite_sites, 0);
	path_in(obj, sizeof(obj), tmp_dir, "branches.o");
	load(obj, "branches", &l);
	assert_int_equal(l.cov.nwrites, 1);
	assert_int_equal(l.cov.wnames_len, 0);
	assert_non_null(l.cov.writes);
	assert_int_equal(apiary_cov_map_write_index(&l.cov, "anything"), -ENOENT);
	unload(&l);
}

/*
 * Objects the reader must treat as untracked (nwrites 0) while the
 * counters still work: built before the flags existed (no
 * apiary_cov_writes / no apiary_cov_wnames), or with a names blob that
 * does not hold one name per flag. Made from the pass's bitcode, edited
 * here, and emitted by apiary_cov_compile_ir() (its pass leaves an
 * already transformed module alone).
 */
enum edit { RENAME_WRITES, RENAME_WNAMES, BLOB_MISSING_NUL, BLOB_EXTRA_NUL };

static void check_edited(enum edit e)
{
	struct apiary_cov_opts opts = { .sz = sizeof(opts), .bitcode = true };
	struct apiary_cov_info info;
	struct apiary_diags d;
	char bc[512], ebc[512], obj[512];
	LLVMContextRef ctx = LLVMContextCreate();
	LLVMMemoryBufferRef buf;
	LLVMModuleRef m;
	LLVMValueRef g;
	struct loaded l;
	char *msg = NULL;

	compile("writes", "writes.bc", &opts, &info);
	path_in(bc, sizeof(bc), tmp_dir, "writes.bc");
	path_in(ebc, sizeof(ebc), tmp_dir, "edited.bc");
	path_in(obj, sizeof(obj), tmp_dir, "edited.o");
	assert_int_equal(LLVMCreateMemoryBufferWithContentsOfFile(bc, &buf, &msg), 0);
	assert_int_equal(LLVMParseBitcodeInContext2(ctx, buf, &m), 0);
	LLVMDisposeMemoryBuffer(buf);
	g = LLVMGetNamedGlobal(m, e == RENAME_WRITES ? APIARY_COV_WRITES : APIARY_COV_WNAMES);
	assert_non_null(g);
	if (e == RENAME_WRITES || e == RENAME_WNAMES) {
		LLVMSetValueName2(g, "renamed", 7);
	} else {
		/* same length (the BTF size follows the type): one '\0' less or more */
		size_t len;
		const char *s = LLVMGetAsString(LLVMGetInitializer(g), &len);
		char *copy = malloc(len);

		assert_non_null(copy);
		memcpy(copy, s, len);
		if (e == BLOB_MISSING_NUL)
			copy[strlen(copy)] = '_'; /* "counted_readonly\0..." */
		else
			copy[1] = '\0'; /* "c\0unted\0..." */
		LLVMSetInitializer(g, LLVMConstStringInContext(ctx, copy, (unsigned)len, 1));
		free(copy);
	}
	assert_int_equal(LLVMWriteBitcodeToFile(m, ebc), 0);
	LLVMDisposeModule(m);
	LLVMContextDispose(ctx);

	apiary_diags_init(&d);
	assert_int_equal(apiary_cov_compile_ir(ebc, obj, NULL, &info, &d), 0);
	assert_int_equal(info.ncounters, 0); /* nothing left to transform */
	apiary_diags_free(&d);
	load(obj, "writes", &l);
	assert_true(l.cov.ncounters > 0);
	assert_int_equal(l.cov.nwrites, 0);
	assert_null(l.cov.writes);
	assert_int_equal(apiary_cov_map_write_index(&l.cov, "updated"), -ENOENT);
	/* the program still runs and counts */
	assert_int_equal(run_byte(&l, 1), XDP_PASS);
	{
		uint32_t hits = 0;

		for (uint32_t i = 0; i < l.cov.ncounters; i++)
			hits += l.cov.counters[i];
		assert_true(hits > 0);
	}
	unload(&l);
	unlink(ebc);
	unlink(obj);
}

static void test_untracked_objects(void **state)
{
	(void)state;
	check_edited(RENAME_WRITES);
	check_edited(RENAME_WNAMES);
	check_edited(BLOB_MISSING_NUL);
	check_edited(BLOB_EXTRA_NUL);
}

/* A struct that was never opened, or closed, lists nothing. */
static void test_index_unopened(void **state)
{
	struct apiary_cov_map m;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(apiary_cov_map_write_index(&m, "updated"), -ENOENT);
	assert_int_equal(apiary_cov_map_write_index(NULL, "updated"), -ENOENT);
}

static int rm_tree(void **state)
{
	/* only files this test created, in its own mkdtemp directory */
	const char *names[] = { "writes.o", "walk.o", "branches.o", "writes.bc",
				"edited.bc", "edited.o" };
	char path[600];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(path, sizeof(path), tmp_dir, names[i]);
		unlink(path);
	}
	rmdir(tmp_dir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_info),
		cmocka_unit_test(test_writes_in_kernel),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_no_maps),
		cmocka_unit_test(test_untracked_objects),
		cmocka_unit_test(test_index_unopened),
	};

	if (argc < 4) {
		fprintf(stderr, "usage: %s PROGS_SRC_DIR WRITES_OBJ WALK_OBJ [--opaque]\n",
			argv[0]);
		return 2;
	}
	src_dir = argv[1];
	writes_obj = argv[2];
	walk_obj = argv[3];
	opaque = argc > 4 && strcmp(argv[4], "--opaque") == 0;
	if (opaque) {
		/* LLVM 14 reads opaque pointer IR only in this (global) mode */
		const char *llvm_argv[] = { argv[0], "-opaque-pointers" };

		LLVMParseCommandLineOptions(2, llvm_argv, NULL);
	}
	if (!mkdtemp(tmp_dir))
		return 1;
	return cmocka_run_group_tests(tests, NULL, rm_tree);
}
