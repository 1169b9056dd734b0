// SPDX-License-Identifier: MIT
/*
 * The execution harness with the plain executor on the real kernel:
 * in-kernel counters reach the engine map, the outcome signature tells
 * apart behaviours of an object without counters, violations are
 * reported, and an execution allocates nothing.
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

/* Allocation counter: the test is linked with --wrap for these. */
static size_t nallocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
	nallocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	nallocs++;
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	nallocs++;
	return __real_realloc(p, n);
}

static const char *deep_obj, *branches_obj, *rewrite_obj;

enum pkt { UDP_PORT, IPV6, TCP_PORT };

/* One event: Ethernet/IPv4/UDP|TCP to port, or IPv6; payload appended. */
static long make_input(uint8_t *buf, size_t size, enum apiary_hook hook, enum pkt kind,
		       uint16_t port, const char *payload)
{
	static struct apiary_input in;
	uint8_t *p = in.events[0].data;
	size_t len = 14 + 20 + 20;

	memset(&in, 0, sizeof(in));
	in.update_at = APIARY_INPUT_NO_UPDATE;
	in.nevents = 1;
	in.events[0].hook = hook;
	if (kind == IPV6) {
		p[12] = 0x86, p[13] = 0xdd, p[14] = 0x60, p[14 + 7] = 64;
		len = 14 + 40 + 8;
	} else {
		p[12] = 0x08, p[13] = 0x00, p[14] = 0x45, p[14 + 8] = 64;
		p[14 + 9] = kind == UDP_PORT ? 17 : 6;
		p[14 + 20 + 2] = port >> 8, p[14 + 20 + 3] = port & 0xff;
		if (payload) {
			memcpy(p + 14 + 20 + 8, payload, strlen(payload));
			len = 14 + 20 + 8 + strlen(payload);
		}
		if (len < 14 + 20 + 20)
			len = 14 + 20 + 20;
	}
	in.events[0].len = (uint16_t)len;
	return apiary_input_encode(&in, buf, size);
}

struct rig {
	struct apiary_plain *plain;
	struct apiary_harness *h;
	struct apiary_diags d;
};

static void rig_open(struct rig *r, const char *const *objs, size_t n)
{
	struct apiary_executor ex;

	apiary_diags_init(&r->d);
	assert_int_equal(apiary_plain_open(objs, n, NULL, &r->plain, &r->d), 0);
	apiary_plain_executor(r->plain, &ex);
	assert_int_equal(apiary_harness_new(&ex, NULL, &r->h), 0);
	assert_int_equal(apiary_plain_attach(r->plain, r->h), 0);
}

static void rig_close(struct rig *r)
{
	apiary_harness_free(r->h);
	apiary_plain_free(r->plain);
	apiary_diags_free(&r->d);
}

static void exec_ok(struct rig *r, const uint8_t *buf, long len, uint8_t *map, size_t size,
		    struct apiary_exec_result *res)
{
	assert_true(len > 0);
	assert_int_equal(apiary_harness_exec(r->h, buf, (size_t)len, map, size, res), 0);
	assert_true(res->decoded);
}

/* Counters only: map = counters, different paths differ, same input same map. */
static void test_counters_reach_map(void **state)
{
	const char *objs[] = { branches_obj };
	uint8_t buf[2048], a[4096], b[4096], a2[4096];
	struct apiary_exec_result res;
	struct rig r;
	long n;

	(void)state;
	rig_open(&r, objs, 1);
	assert_true(apiary_harness_ncounters(r.h) > 0);
	/* covered programs only: no signature region */
	assert_int_equal(apiary_harness_map_size(r.h), apiary_harness_ncounters(r.h));
	assert_true(apiary_harness_map_size(r.h) <= sizeof(a));

	n = make_input(buf, sizeof(buf), APIARY_HOOK_XDP, UDP_PORT, 80, NULL);
	exec_ok(&r, buf, n, a, sizeof(a), &res);
	assert_int_equal(res.nevents, 1);
	assert_int_equal(res.violations, 0);
	n = make_input(buf, sizeof(buf), APIARY_HOOK_XDP, IPV6, 0, NULL);
	exec_ok(&r, buf, n, b, sizeof(b), &res);
	assert_memory_not_equal(a, b, apiary_harness_map_size(r.h));
	/* counters are zeroed per execution: A again gives A's map exactly */
	n = make_input(buf, sizeof(buf), APIARY_HOOK_XDP, UDP_PORT, 80, NULL);
	exec_ok(&r, buf, n, a2, sizeof(a2), &res);
	assert_memory_equal(a, a2, apiary_harness_map_size(r.h));
	/* an event at tc.ingress runs no XDP program: no counter moves */
	n = make_input(buf, sizeof(buf), APIARY_HOOK_TC_INGRESS, UDP_PORT, 80, NULL);
	exec_ok(&r, buf, n, b, sizeof(b), &res);
	for (size_t i = 0; i < apiary_harness_map_size(r.h); i++)
		assert_int_equal(b[i], 0);
	/* too small a map is refused, not overrun */
	assert_int_equal(apiary_harness_exec(r.h, buf, (size_t)n, b, 1, &res), -ENOSPC);
	rig_close(&r);
}

/* No counters: verdicts, rewrites and drops still give distinct maps. */
static void test_signature_without_counters(void **state)
{
	const char *objs[] = { rewrite_obj };
	uint8_t buf[2048], udp[4096], t23[4096], t80[4096], t80b[4096];
	struct apiary_exec_result res;
	struct rig r;
	size_t size;
	long n;

	(void)state;
	rig_open(&r, objs, 1);
	assert_int_equal(apiary_harness_ncounters(r.h), 0);
	size = apiary_harness_map_size(r.h);
	assert_int_equal(size, APIARY_SIG_DEFAULT_SIZE);

	n = make_input(buf, sizeof(buf), APIARY_HOOK_TC_INGRESS, UDP_PORT, 53, NULL);
	exec_ok(&r, buf, n, udp, sizeof(udp), &res); /* TTL rewritten, TC_ACT_OK */
	n = make_input(buf, sizeof(buf), APIARY_HOOK_TC_INGRESS, TCP_PORT, 23, NULL);
	exec_ok(&r, buf, n, t23, sizeof(t23), &res); /* TC_ACT_SHOT */
	n = make_input(buf, sizeof(buf), APIARY_HOOK_TC_EGRESS, TCP_PORT, 80, NULL);
	exec_ok(&r, buf, n, t80, sizeof(t80), &res); /* untouched */
	assert_memory_not_equal(udp, t23, size);
	assert_memory_not_equal(udp, t80, size);
	assert_memory_not_equal(t23, t80, size);
	/* another port with the same behaviour gives the same signature */
	n = make_input(buf, sizeof(buf), APIARY_HOOK_TC_EGRESS, TCP_PORT, 8080, NULL);
	exec_ok(&r, buf, n, t80b, sizeof(t80b), &res);
	assert_memory_equal(t80, t80b, size);
	rig_close(&r);
}

/* The marker verdict is a violation; mixed objects: counters + signature. */
static void test_violation_and_mixed(void **state)
{
	const char *objs[] = { deep_obj, rewrite_obj };
	uint8_t buf[2048], map[8192];
	struct apiary_exec_result res;
	struct rig r;
	long n;

	(void)state;
	rig_open(&r, objs, 2);
	assert_true(apiary_harness_ncounters(r.h) > 0);
	assert_int_equal(apiary_harness_map_size(r.h),
			 apiary_harness_ncounters(r.h) + APIARY_SIG_DEFAULT_SIZE);
	n = make_input(buf, sizeof(buf), APIARY_HOOK_XDP, UDP_PORT, 4242, "APIARX");
	exec_ok(&r, buf, n, map, sizeof(map), &res);
	assert_int_equal(res.violations, 0);
	n = make_input(buf, sizeof(buf), APIARY_HOOK_XDP, UDP_PORT, 4242, "APIARY");
	exec_ok(&r, buf, n, map, sizeof(map), &res);
	assert_int_equal(res.violations, 1);
	assert_int_equal(res.first_violation, 1);
	rig_close(&r);
}

/* Bytes that are not an input: nothing runs, the map is empty. */
static void test_not_an_input(void **state)
{
	const char *objs[] = { branches_obj };
	uint8_t map[4096];
	struct apiary_exec_result res;
	struct rig r;

	(void)state;
	rig_open(&r, objs, 1);
	memset(map, 0xaa, sizeof(map));
	assert_int_equal(apiary_harness_exec(r.h, (const uint8_t *)"Zzzzzzzzz", 9, map, sizeof(map),
					     &res),
			 0);
	assert_false(res.decoded);
	for (size_t i = 0; i < apiary_harness_map_size(r.h); i++)
		assert_int_equal(map[i], 0);
	rig_close(&r);
}

/* The per-execution path allocates nothing (engines run it ~10^5/s). */
static void test_allocation_free(void **state)
{
	const char *objs[] = { deep_obj, rewrite_obj };
	uint8_t buf[4][2048], map[8192];
	long len[4];
	struct apiary_exec_result res;
	struct rig r;
	size_t before;

	(void)state;
	rig_open(&r, objs, 2);
	len[0] = make_input(buf[0], sizeof(buf[0]), APIARY_HOOK_XDP, UDP_PORT, 4242, "APIARY");
	len[1] = make_input(buf[1], sizeof(buf[1]), APIARY_HOOK_TC_INGRESS, UDP_PORT, 53, NULL);
	len[2] = make_input(buf[2], sizeof(buf[2]), APIARY_HOOK_TC_EGRESS, TCP_PORT, 23, NULL);
	len[3] = make_input(buf[3], sizeof(buf[3]), APIARY_HOOK_XDP, IPV6, 0, NULL);
	before = nallocs;
	for (int i = 0; i < 400; i++)
		apiary_harness_exec(r.h, buf[i % 4], (size_t)len[i % 4], map, sizeof(map), &res);
	assert_int_equal(nallocs, before);
	rig_close(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_reach_map),
		cmocka_unit_test(test_signature_without_counters),
		cmocka_unit_test(test_violation_and_mixed),
		cmocka_unit_test(test_not_an_input),
		cmocka_unit_test(test_allocation_free),
	};

	if (argc < 4) {
		fprintf(stderr, "usage: %s DEEP.cov.o BRANCHES.cov.o REWRITE.o\n", argv[0]);
		return 2;
	}
	deep_obj = argv[1];
	branches_obj = argv[2];
	rewrite_obj = argv[3];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
