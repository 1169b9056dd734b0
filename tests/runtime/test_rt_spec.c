// SPDX-License-Identifier: MIT
/*
 * Spec text to loaded bundle: parse (spec/), compile (compiler/), load; the
 * spec's config and global entries land typed through BTF, and errors point
 * at the spec line or the enforcer's source line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "apiary/compiler.h"
#include "apiary/runtime.h"
#include "apiary/spec.h"
#include "rt_internal.h"

struct bundle {
	struct apiary_spec *spec;
	struct apiary_build *b;
	struct apiary_rt *rt;
	struct apiary_diags d;
};

/* Parse, check and compile specs/<name>.spec; load it; returns the load's
 * result (parse and compile must succeed). */
static int bundle_load(struct bundle *x, const char *name)
{
	char path[512], out[512];
	struct apiary_build_opts bo = { .sz = sizeof(bo), .out_dir = out };
	int err;

	memset(x, 0, sizeof(*x));
	apiary_diags_init(&x->d);
	snprintf(path, sizeof(path), "%s/specs/%s.spec", RT_TEST_DIR, name);
	snprintf(out, sizeof(out), "%s/spec_%s", RT_BPF_DIR, name);
	err = apiary_spec_load(path, &x->spec, &x->d);
	if (err)
		apiary_diags_print(&x->d, stderr);
	assert_int_equal(err, 0);
	err = apiary_compile(x->spec, &bo, &x->b, &x->d);
	if (err)
		apiary_diags_print(&x->d, stderr);
	assert_int_equal(err, 0);
	return apiary_rt_load(x->b, NULL, &x->rt, &x->d);
}

static void bundle_free(struct bundle *x)
{
	apiary_rt_free(x->rt);
	apiary_build_free(x->b);
	apiary_spec_free(x->spec);
	apiary_diags_free(&x->d);
}

static uint32_t order_log(const struct apiary_rt *rt, uint32_t k)
{
	uint32_t v = 0xdead;
	size_t i;

	for (i = 0; i < apiary_rt_nmaps(rt); i++)
		if (!strcmp(apiary_rt_map_name(rt, i), "order_log"))
			break;
	assert_true(i < apiary_rt_nmaps(rt));
	assert_int_equal(bpf_map_lookup_elem(rt->maps[i].fd, &k, &v), 0);
	return v;
}

/* (d) config entries from spec text land with the right bytes. */
static void test_config(void **state)
{
	static struct apiary_outcome o;
	struct apiary_event ev = { .hook = APIARY_HOOK_XDP, .len = 60 };
	const uint8_t key[8] = { 192, 0, 2, 10, 0, 80, 6, 0 };
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	const uint8_t rk[4] = { 1, 0, 0, 0 }, rv[4] = { 10, 0, 0, 1 };
	uint8_t val[28], got[4];
	uint32_t seven = 7;
	uint16_t flags = 0x8001;
	struct bpf_map *m;
	struct bundle x;

	if (bundle_load(&x, "cfg"))
		apiary_diags_print(&x.d, stderr);
	assert_non_null(x.rt);
	m = bpf_object__find_map_by_name(x.rt->progs[0].obj, "vip_map");
	assert_non_null(m);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m), key, val), 0);
	assert_memory_equal(val, &seven, 4);
	assert_memory_equal(val + 4, mac, 6);
	assert_memory_equal(val + 10, &flags, 2);
	assert_memory_equal(val + 12, ip6, 16);
	m = bpf_object__find_map_by_name(x.rt->progs[0].obj, "raw_map");
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m), rk, got), 0);
	assert_memory_equal(got, rv, 4);
	assert_int_equal(order_log(x.rt, 9), 77);

	assert_int_equal(apiary_rt_run(x.rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_PASS);
	assert_int_equal(order_log(x.rt, 10), 1234);
	assert_int_equal(order_log(x.rt, 11), htons(443));
	assert_int_equal(order_log(x.rt, 12), 99);
	bundle_free(&x);
}

/* A wrong member: the error points at it in the spec. */
static void test_config_error(void **state)
{
	struct bundle x;

	assert_int_equal(bundle_load(&x, "cfg_bad"), -EINVAL);
	apiary_diags_print(&x.d, stderr);
	assert_null(x.rt);
	assert_int_equal(x.d.errors, 1);
	assert_non_null(strstr(x.d.items[0].msg, "no member 'prt'"));
	assert_non_null(strstr(x.d.items[0].loc.file, "cfg_bad.spec"));
	assert_int_equal(x.d.items[0].loc.line, 9);
	assert_int_equal(x.d.items[0].loc.col, 45);
	bundle_free(&x);
}

/* (e) through the whole pipeline: the rejected enforcer's own source line. */
static void test_rejected(void **state)
{
	struct bundle x;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	assert_int_equal(bundle_load(&x, "rejected"), -EINVAL);
	assert_int_equal(x.d.errors, 1);
	assert_int_equal(x.d.count, 1); /* no warnings either */
	assert_non_null(strstr(x.d.items[0].msg, "enforcer broken (team qa)"));
	assert_non_null(strstr(x.d.items[0].loc.file, "comp_bad.bpf.c"));
	assert_int_equal(x.d.items[0].loc.line, 11);
	/* Printed: file:line:col, the source line, the hint, the log. */
	mem = open_memstream(&buf, &len);
	apiary_diags_print(&x.d, mem);
	fclose(mem);
	fputs(buf, stderr);
	assert_non_null(strstr(buf, "comp_bad.bpf.c:11:1: error: "));
	assert_non_null(strstr(buf, "*v += 1; /* BAD LINE */"));
	assert_non_null(strstr(buf, "NULL"));
	free(buf);
	bundle_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_error),
		cmocka_unit_test(test_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
