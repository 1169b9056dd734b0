// SPDX-License-Identifier: MIT
/*
 * The runtime executor on the real kernel, with the campaign test bundle
 * (tests/fuzz/bundles/payload) compiled with in-kernel coverage:
 *   - every program (sidecar, gate, audit) has counters, and a run fills them;
 *   - reset is exact: after inputs that create a flow and bump audit's
 *     per-CPU counter, the state equals the state at open;
 *   - an execution is deterministic and allocation-free (flows deleted and
 *     counters rewritten in place);
 *   - the build read back from apiary.json is the one compiled;
 *   - the drop of the "APIARY" frame at XDP shows in gate's counters.
 * usage: test_fuzz_rt_exec SPEC
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiary/fuzz.h"
#include "common.h"

/* Allocation counter: the test is linked with --wrap for these. */
static long allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
	allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	allocs++;
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	allocs++;
	return __real_realloc(p, n);
}

static const char *spec_path;
static struct apiary_bundle_ctx bundle;
static struct apiary_spec *spec;
static struct apiary_build *build;
static struct apiary_fuzz_target tgt;
static uint8_t map[1 << 16];

/* Ethernet/IPv4/TCP 1234 -> 4242 [S] with a 6-byte payload. */
static const char *frame_hex(const char *payload)
{
	static char hex[512];

	snprintf(hex, sizeof(hex), "410100ff013c00%s%s%s%s", "0000000000020000000000010800",
		 "4500002e00000000400600000a0000010a000002",
		 "04d21092000000000000000050020000ffff0000", payload);
	return hex;
}

static long encode(const char *hex, uint8_t *buf, size_t size)
{
	static struct apiary_input in;

	assert_int_equal(apiary_input_from_hex(hex, &in), 0);
	return apiary_input_encode(&in, buf, size);
}

/* The bundle compiled with counters into a temporary directory, and the
 * fuzzing target on it. */
static int setup(void **state)
{
	struct apiary_bundle_opts bo = { .sz = sizeof(bo), .coverage = true, .cpu = 0 };
	struct apiary_fuzz_target_opts to = { .sz = sizeof(to), .cpu = 0 };
	struct apiary_diags d;
	int err;

	apiary_diags_init(&d);
	err = apiary_bundle_open(spec_path, &bo, &bundle, &d);
	if (!err) {
		spec = bundle.spec;
		build = bundle.build;
		err = apiary_fuzz_target_attach(spec, build, &to, &tgt, &d);
	}
	apiary_diags_print(&d, stderr);
	apiary_diags_free(&d);
	return err;
}

static int teardown(void **state)
{
	apiary_fuzz_target_close(&tgt);
	apiary_bundle_close(&bundle);
	return 0;
}

static void test_counters(void **state)
{
	int gate = apiary_spec_enforcer_index(spec, "gate");
	int audit = apiary_spec_enforcer_index(spec, "audit");

	assert_true(apiary_rt_exec_counters(tgt.exec, -1, 0) > 0);
	assert_true(apiary_rt_exec_counters(tgt.exec, gate, 0) > 0);
	assert_true(apiary_rt_exec_counters(tgt.exec, audit, 0) > 0);
	assert_int_equal(apiary_harness_ncounters(tgt.harness),
			 apiary_rt_exec_counters(tgt.exec, -1, 0) +
				 apiary_rt_exec_counters(tgt.exec, gate, 0) +
				 apiary_rt_exec_counters(tgt.exec, audit, 0));
	/* every program has counters: no outcome signature */
	assert_int_equal(apiary_harness_map_size(tgt.harness),
			 apiary_harness_ncounters(tgt.harness));
	assert_int_equal(apiary_rt_exec_norderings(tgt.exec), 1);
}

/* Reset is exact and allocation-free; executions are deterministic. */
static void test_reset_exact(void **state)
{
	static uint8_t buf[4096], first[1 << 16];
	struct apiary_snapshot *s0 = NULL, *s1 = NULL;
	struct apiary_delta delta;
	struct apiary_exec_result res;
	size_t msz = apiary_harness_map_size(tgt.harness);
	long len = encode(frame_hex("414141414141"), buf, sizeof(buf));
	uint64_t runs0 = apiary_rt_exec_runs(tgt.exec);
	long before;

	assert_true(len > 0);
	assert_int_equal(apiary_rt_exec_reset(tgt.exec), 0);
	assert_int_equal(apiary_rt_snapshot(tgt.rt, &s0), 0);
	/* this frame passes xdp, reaches audit at tc.egress (its per-CPU
	 * counter) and creates a flow */
	assert_int_equal(apiary_harness_exec(tgt.harness, buf, (size_t)len, map, sizeof(map), &res), 0);
	assert_int_equal(apiary_rt_exec_runs(tgt.exec) - runs0, 2); /* xdp, tc.egress: tc.ingress is empty */
	memcpy(first, map, msz);
	assert_int_equal(apiary_rt_snapshot(tgt.rt, &s1), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s1, &delta), 0);
	assert_true(delta.n >= 2); /* flow added, audit counter changed */
	apiary_delta_free(&delta);
	apiary_snapshot_free(s1);

	before = allocs;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(apiary_harness_exec(tgt.harness, buf, (size_t)len, map, sizeof(map),
						     &res), 0);
		assert_memory_equal(map, first, msz);
	}
	assert_int_equal(allocs, before);
	assert_int_equal(apiary_rt_exec_slow_resets(tgt.exec), 0);

	assert_int_equal(apiary_rt_exec_reset(tgt.exec), 0);
	assert_int_equal(apiary_rt_snapshot(tgt.rt, &s1), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s1, &delta), 0);
	assert_int_equal(delta.n, 0);
	apiary_delta_free(&delta);
	apiary_snapshot_free(s0);
	apiary_snapshot_free(s1);
}

/* Each further byte of the payload gate looks for reaches a counter the
 * shorter prefix did not: coverage leads a fuzzer there byte by byte. */
static void test_payload_coverage(void **state)
{
	static const char *const prefixes[] = {
		"787878787878", /* xxxxxx */
		"417878787878", /* Axxxxx */
		"415078787878", /* APxxxx */
		"415049787878", /* APIxxx */
		"415049417878", /* APIAxx */
		"415049415278", /* APIARx */
		"415049415259", /* APIARY: dropped */
	};
	static uint8_t buf[4096], prev[1 << 16];
	struct apiary_exec_result res;
	size_t msz = apiary_harness_map_size(tgt.harness);

	for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		long len = encode(frame_hex(prefixes[k]), buf, sizeof(buf));
		size_t fresh = 0;

		assert_int_equal(apiary_harness_exec(tgt.harness, buf, (size_t)len, map, sizeof(map),
						     &res), 0);
		for (size_t i = 0; k && i < msz; i++)
			fresh += map[i] && !prev[i];
		if (k) {
			print_message("prefix %zu: %zu new counters\n", k, fresh);
			assert_true(fresh > 0);
		}
		memcpy(prev, map, msz);
	}
}

static void test_metadata(void **state)
{
	struct apiary_build *b = NULL;
	struct apiary_diags d;

	apiary_diags_init(&d);
	assert_int_equal(apiary_build_from_metadata(spec, bundle.tmp_dir, &b, &d), 0);
	assert_string_equal(b->bundle_hash_hex, build->bundle_hash_hex);
	assert_int_equal(b->nprogs, build->nprogs);
	assert_true(b->coverage);
	for (size_t i = 0; i < b->nprogs; i++) {
		assert_string_equal(b->progs[i].object_path, build->progs[i].object_path);
		assert_string_equal(b->progs[i].prog_name, build->progs[i].prog_name);
		assert_memory_equal(b->progs[i].hash, build->progs[i].hash, 32);
	}
	apiary_build_free(b);
	apiary_diags_free(&d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_reset_exact),
		cmocka_unit_test(test_payload_coverage),
		cmocka_unit_test(test_metadata),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s SPEC\n", argv[0]);
		return 2;
	}
	spec_path = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
