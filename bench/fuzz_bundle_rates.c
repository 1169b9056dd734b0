// SPDX-License-Identifier: MIT
/*
 * apiary-bench-bundle-rates SPEC HEX_INPUT SECONDS: the in-process half of
 * bench/fuzz-campaign-rates. On a bundle compiled with in-kernel coverage
 * and one input, measures side by side:
 *   raw      BPF_PROG_TEST_RUN (repeat=1) of the dispatcher at the input's
 *            first hook, on its first frame: one kernel run, nothing else;
 *   harness  apiary_harness_exec() of the encoded input: decode, reset,
 *            chains, every test run along the path, coverage copy, outcome;
 *   core     the same without the state reset (decode, chains, test runs,
 *            coverage copy, outcome): what the harness adds to the kernel;
 *   reset    the executor's state reset alone (part of harness).
 * Prints "key value" lines for the script.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "apiary/fuzz.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct apiary_input in;
	static uint8_t enc[1 << 16], out[4096], map[1 << 16];
	struct apiary_fuzz_target t;
	struct apiary_fuzz_target_opts to = { .sz = sizeof(to), .cpu = 0 };
	struct apiary_build_opts bo = { .sz = sizeof(bo), .coverage = true };
	struct apiary_spec *spec = NULL;
	struct apiary_build *build = NULL;
	struct apiary_exec_result res;
	struct apiary_diags d;
	char dir[] = "/tmp/apiary-bench-XXXXXX";
	struct apiary_executor ex0;
	double secs, t0, raw, harness, reset;
	long n, len;
	int fd, err;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SPEC HEX_INPUT SECONDS\n", argv[0]);
		return 2;
	}
	secs = atof(argv[3]);
	apiary_diags_init(&d);
	if (apiary_input_from_hex(argv[2], &in) || !in.nevents) {
		fprintf(stderr, "bad input\n");
		return 2;
	}
	len = apiary_input_encode(&in, enc, sizeof(enc));
	if (!mkdtemp(dir))
		return 2;
	bo.out_dir = dir;
	err = apiary_spec_load(argv[1], &spec, &d);
	err = err ?: apiary_compile(spec, &bo, &build, &d);
	err = err ?: apiary_fuzz_target_attach(spec, build, &to, &t, &d);
	if (err) {
		apiary_diags_print(&d, stderr);
		return 2;
	}
	fd = apiary_rt_dispatcher_fd(t.rt, in.events[0].hook);

	/* raw: the first hook's dispatcher, its frame, nothing around it */
	n = 0;
	t0 = now();
	do {
		for (int i = 0; i < 1000; i++) {
			struct xdp_md md = { .data_end = in.events[0].len };
			struct __sk_buff skb = { 0 };
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.events[0].data,
				    .data_size_in = in.events[0].len, .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);

			if (in.events[0].hook == APIARY_HOOK_XDP) {
				o.ctx_in = &md;
				o.ctx_size_in = sizeof(md);
			} else {
				o.ctx_in = &skb;
				o.ctx_size_in = sizeof(skb);
			}
			if (bpf_prog_test_run_opts(fd, &o))
				return 2;
		}
		n += 1000;
	} while (now() - t0 < secs);
	raw = (double)n / (now() - t0);

	{
		uint64_t r0 = apiary_rt_exec_runs(t.exec);

		if (apiary_harness_exec(t.harness, enc, (size_t)len, map, sizeof(map), &res))
			return 2;
		printf("test_runs_per_input %llu\n",
		       (unsigned long long)(apiary_rt_exec_runs(t.exec) - r0));
	}
	n = 0;
	t0 = now();
	do {
		for (int i = 0; i < 1000; i++)
			if (apiary_harness_exec(t.harness, enc, (size_t)len, map, sizeof(map), &res))
				return 2;
		n += 1000;
	} while (now() - t0 < secs);
	harness = (double)n / (now() - t0);

	{
		struct apiary_rt_exec_opts xo = { .sz = sizeof(xo), .no_reset = true };
		struct apiary_rt_exec *x2 = NULL;
		struct apiary_harness *h2 = NULL;
		struct apiary_executor ex;
		double core;

		err = apiary_rt_exec_open(spec, t.rt, &xo, &x2, &d);
		if (!err) {
			apiary_rt_exec_executor(x2, &ex);
			err = apiary_harness_new(&ex, NULL, &h2);
		}
		err = err ?: apiary_rt_exec_attach(x2, h2);
		if (err)
			return 2;
		n = 0;
		t0 = now();
		do {
			for (int i = 0; i < 1000; i++)
				if (apiary_harness_exec(h2, enc, (size_t)len, map, sizeof(map), &res))
					return 2;
			n += 1000;
		} while (now() - t0 < secs);
		core = (double)n / (now() - t0);
		printf("core_execs_per_s %.0f\n", core);
		apiary_harness_free(h2);
		apiary_rt_exec_free(x2);
	}

	/* the executor's own reset (what engines run before every input),
	 * after the input above: nothing left to undo */
	n = 0;
	t0 = now();
	apiary_rt_exec_executor(t.exec, &ex0);
	do {
		for (int i = 0; i < 1000; i++)
			if (ex0.reset(ex0.ctx))
				return 2;
		n += 1000;
	} while (now() - t0 < secs);
	reset = (double)n / (now() - t0);

	printf("raw_test_run_per_s %.0f\n", raw);
	printf("harness_execs_per_s %.0f\n", harness);
	printf("reset_per_s %.0f\n", reset);
	printf("counters %zu\n", apiary_harness_ncounters(t.harness));
	printf("map_bytes %zu\n", apiary_harness_map_size(t.harness));
	printf("slow_resets %llu\n", (unsigned long long)apiary_rt_exec_slow_resets(t.exec));
	apiary_fuzz_target_close(&t);
	apiary_build_free(build);
	apiary_spec_free(spec);
	apiary_diags_free(&d);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
