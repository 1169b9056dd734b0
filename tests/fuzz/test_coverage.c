// SPDX-License-Identifier: MIT
/*
 * The coverage pass end to end on the real kernel: compile a small XDP
 * program with counters, load it with libbpf, mmap the counters, run two
 * different packets under BPF_PROG_TEST_RUN and check that different
 * counters moved and that counts add up across runs. Also the llc route
 * (the compiler's), the uninstrumented case and the refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "apiary/coverage.h"
#include "apiary/fuzz.h"

static const char *src_dir;
static const char *llc_path;
static char tmp_dir[] = "/tmp/apiary-cov-test-XXXXXX";

static void path_in(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

/* Ethernet + IPv4 + UDP to `port`, or Ethernet + IPv6 when port == 0. */
static size_t make_packet(uint8_t *p, uint16_t port)
{
	memset(p, 0, 128);
	if (port) {
		p[12] = 0x08, p[13] = 0x00;
		p[14] = 0x45, p[14 + 9] = 17; /* UDP */
		p[14 + 20 + 2] = port >> 8, p[14 + 20 + 3] = port & 0xff;
	} else {
		p[12] = 0x86, p[13] = 0xdd;
		p[14] = 0x60, p[14 + 7] = 64; /* hop limit */
	}
	return 96;
}

static int run_once(int fd, uint16_t port, uint32_t *retval)
{
	uint8_t pkt[128];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .repeat = 1);

	o.data_size_in = (uint32_t)make_packet(pkt, port);
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*retval = o.retval;
	return 0;
}

struct loaded {
	struct bpf_object *obj;
	int fd;
	struct apiary_cov_map cov;
};

static void load(const char *obj_path, struct loaded *l)
{
	struct bpf_program *prog;

	l->obj = bpf_object__open(obj_path);
	assert_non_null(l->obj);
	assert_int_equal(bpf_object__load(l->obj), 0);
	prog = bpf_object__find_program_by_name(l->obj, "branches");
	assert_non_null(prog);
	l->fd = bpf_program__fd(prog);
	assert_true(l->fd >= 0);
}

static void unload(struct loaded *l)
{
	apiary_cov_map_close(&l->cov);
	bpf_object__close(l->obj);
}

/* Counters of two packets differ; runs add up; mmap sees live values. */
static void check_counting(const char *obj_path, uint32_t ncounters)
{
	struct loaded l;
	uint8_t a[256], b[256];
	uint32_t ret;
	bool a_only = false, b_only = false;
	struct bpf_map *map;
	size_t isz;
	const uint8_t *init;

	load(obj_path, &l);
	assert_int_equal(apiary_cov_map_open(l.obj, &l.cov), 0);
	assert_int_equal(l.cov.ncounters, ncounters);
	assert_true(ncounters <= sizeof(a));
	assert_string_equal(l.cov.name, APIARY_COV_SECTION);

	/* packet A: UDP to port 80 -> classify_port -> XDP_DROP */
	assert_int_equal(run_once(l.fd, 80, &ret), 0);
	assert_int_equal(ret, XDP_DROP);
	memcpy(a, (const void *)l.cov.counters, ncounters);
	memset((void *)l.cov.counters, 0, ncounters);
	/* packet B: IPv6 -> XDP_PASS, never reaches classify_port */
	assert_int_equal(run_once(l.fd, 0, &ret), 0);
	assert_int_equal(ret, XDP_PASS);
	memcpy(b, (const void *)l.cov.counters, ncounters);
	for (uint32_t i = 0; i < ncounters; i++) {
		a_only |= a[i] && !b[i];
		b_only |= b[i] && !a[i];
	}
	assert_true(a_only);
	assert_true(b_only);

	/* B once more and A three times, without zeroing: counts add up */
	assert_int_equal(run_once(l.fd, 0, &ret), 0);
	for (int k = 0; k < 3; k++)
		assert_int_equal(run_once(l.fd, 80, &ret), 0);
	for (uint32_t i = 0; i < ncounters; i++)
		assert_int_equal(l.cov.counters[i], (uint8_t)(3 * a[i] + 2 * b[i]));

	/* the initial value libbpf kept is a stale copy: counters are all zero
	 * there (the marker holds the count) */
	map = bpf_object__find_map_by_name(l.obj, APIARY_COV_SECTION);
	init = bpf_map__initial_value(map, &isz);
	assert_non_null(init);
	assert_true(isz >= ncounters + 4);
	{
		size_t off = (size_t)((const uint8_t *)l.cov.counters - (const uint8_t *)l.cov.mem);
		bool any = false;

		for (uint32_t i = 0; i < ncounters; i++)
			any |= init[off + i] != 0;
		assert_false(any);
	}
	unload(&l);
}

static void test_counters_in_kernel(void **state)
{
	char src[512], obj[512];
	struct apiary_cov_info info;
	struct apiary_diags d;

	(void)state;
	apiary_diags_init(&d);
	path_in(src, sizeof(src), src_dir, "branches.bpf.c");
	path_in(obj, sizeof(obj), tmp_dir, "branches.cov.o");
	assert_int_equal(apiary_cov_compile_c(src, obj, NULL, NULL, &info, &d), 0);
	assert_int_equal(d.errors, 0);
	/* 8 edges in branches(), 3 in classify_port() (clang 14 -O2) */
	assert_int_equal(info.narrays, 2);
	assert_true(info.ncounters >= 6);
	assert_string_equal(info.map_name, APIARY_COV_SECTION);
	check_counting(obj, info.ncounters);
	apiary_diags_free(&d);
}

/* The compiler's route: transformed bitcode through the llc program. */
static void test_llc_route(void **state)
{
	char src[512], bc[512], obj[512];
	struct apiary_cov_info info;
	struct apiary_diags d;
	struct apiary_cov_opts opts = { .sz = sizeof(opts), .bitcode = true };
	int status;
	pid_t pid;

	(void)state;
	apiary_diags_init(&d);
	path_in(src, sizeof(src), src_dir, "branches.bpf.c");
	path_in(bc, sizeof(bc), tmp_dir, "llc.bc");
	path_in(obj, sizeof(obj), tmp_dir, "llc.o");
	/* compile_c with bitcode=true leaves the transformed module in bc */
	assert_int_equal(apiary_cov_compile_c(src, bc, NULL, &opts, &info, &d), 0);
	pid = fork();
	if (pid == 0) {
		execl(llc_path, llc_path, "-march=bpf", "-filetype=obj", "-O2", bc, "-o", obj,
		      (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_counting(obj, info.ncounters);
	apiary_diags_free(&d);
}

/* Without -fsanitize-coverage nothing changes and there is no map. */
static void test_uninstrumented(void **state)
{
	char src[512], obj[512];
	struct apiary_cov_info info;
	struct apiary_diags d;
	const char *flags[] = { "-fno-sanitize-coverage=inline-8bit-counters", NULL };
	struct loaded l;

	(void)state;
	apiary_diags_init(&d);
	path_in(src, sizeof(src), src_dir, "branches.bpf.c");
	path_in(obj, sizeof(obj), tmp_dir, "plain.o");
	assert_int_equal(apiary_cov_compile_c(src, obj, flags, NULL, &info, &d), 0);
	assert_int_equal(info.ncounters, 0);
	assert_null(info.map_name);
	load(obj, &l);
	assert_int_equal(apiary_cov_map_open(l.obj, &l.cov), -ENOENT);
	unload(&l);
	apiary_diags_free(&d);
}

/* Refusals: no debug info (no BTF, so no mmap) and trace-pc-guard. */
static void test_refusals(void **state)
{
	char src[512], obj[512];
	struct apiary_cov_info info;
	struct apiary_diags d;
	const char *nodebug[] = { "-g0", NULL };
	const char *guard[] = { "-fsanitize-coverage=trace-pc-guard", NULL };

	(void)state;
	path_in(src, sizeof(src), src_dir, "branches.bpf.c");
	path_in(obj, sizeof(obj), tmp_dir, "bad.o");

	apiary_diags_init(&d);
	assert_int_equal(apiary_cov_compile_c(src, obj, nodebug, NULL, &info, &d), -EINVAL);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].msg, "-g"));
	apiary_diags_free(&d);

	apiary_diags_init(&d);
	assert_int_equal(apiary_cov_compile_c(src, obj, guard, NULL, &info, &d), -EINVAL);
	assert_non_null(strstr(d.items[0].msg, "inline-8bit-counters"));
	apiary_diags_free(&d);

	/* a clang failure carries clang's message */
	apiary_diags_init(&d);
	path_in(src, sizeof(src), src_dir, "does-not-exist.c");
	assert_true(apiary_cov_compile_c(src, obj, NULL, NULL, &info, &d) < 0);
	assert_true(d.errors >= 1);
	assert_non_null(d.items[0].detail);
	assert_non_null(strstr(d.items[0].detail, "does-not-exist.c"));
	apiary_diags_free(&d);
}

static int rm_tree(void **state)
{
	/* only files this test created, in its own mkdtemp directory */
	const char *names[] = { "branches.cov.o", "llc.bc", "llc.o", "plain.o", "bad.o" };
	char cmd[600];

	(void)state;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(cmd, sizeof(cmd), tmp_dir, names[i]);
		unlink(cmd);
	}
	rmdir(tmp_dir);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_in_kernel),
		cmocka_unit_test(test_llc_route),
		cmocka_unit_test(test_uninstrumented),
		cmocka_unit_test(test_refusals),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s PROGS_SRC_DIR LLC\n", argv[0]);
		return 2;
	}
	src_dir = argv[1];
	llc_path = argv[2];
	if (!mkdtemp(tmp_dir))
		return 1;
	return cmocka_run_group_tests(tests, NULL, rm_tree);
}
