// SPDX-License-Identifier: MIT
/*
 * apiary-bench-fuzz-rates OBJECT SEED [SECONDS]: the in-process half of
 * bench/fuzz-rates. Measures, on one BPF object with coverage counters:
 *   - a raw BPF_PROG_TEST_RUN (repeat = 1) loop on the seed's first frame,
 *   - the kernel's own per-run time (repeat = 10000, its duration field),
 *   - the harness (decode + zero counters + run + copy to the map) on SEED.
 * Prints `key value` lines the script puts side by side with AFL++ and
 * libFuzzer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apiary/fuzz.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static uint8_t seed[1 << 16], map[1 << 16];
	static struct apiary_input in;
	struct apiary_plain *plain = NULL;
	struct apiary_harness *h = NULL;
	struct apiary_exec_result res;
	struct apiary_diags d;
	double secs = argc > 3 ? atof(argv[3]) : 2.0, t0, t;
	size_t seed_len;
	uint64_t n;
	FILE *f;
	int err, fd;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJECT SEED [SECONDS]\n", argv[0]);
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	seed_len = fread(seed, 1, sizeof(seed), f);
	fclose(f);
	if (apiary_input_decode(seed, seed_len, &in) || in.nevents == 0) {
		fprintf(stderr, "%s: not an apiary input with events\n", argv[2]);
		return 2;
	}
	apiary_diags_init(&d);
	err = apiary_plain_harness_open((const char *const *)argv + 1, 1, NULL, &plain, &h, &d);
	if (err) {
		apiary_diags_print(&d, stderr);
		return 1;
	}
	fd = apiary_plain_prog_fd(plain, 0);

	/* raw: one syscall per run, as the harness does it */
	n = 0;
	t0 = now();
	do {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.events[0].data,
			    .data_size_in = in.events[0].len, .repeat = 1);

		for (int i = 0; i < 1000; i++)
			if (bpf_prog_test_run_opts(fd, &o))
				return 1;
		n += 1000;
		t = now() - t0;
	} while (t < secs);
	printf("raw_test_run_per_s %.0f\n", (double)n / t);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.events[0].data,
			    .data_size_in = in.events[0].len, .repeat = 10000);

		if (bpf_prog_test_run_opts(fd, &o))
			return 1;
		printf("in_kernel_ns_per_run %u\n", o.duration);
	}

	/* the harness on the whole seed */
	n = 0;
	t0 = now();
	do {
		for (int i = 0; i < 1000; i++)
			if (apiary_harness_exec(h, seed, seed_len, map, sizeof(map), &res))
				return 1;
		n += 1000;
		t = now() - t0;
	} while (t < secs);
	printf("harness_execs_per_s %.0f\n", (double)n / t);
	printf("events_per_exec %u\n", res.nevents);
	printf("counters %zu\n", apiary_harness_ncounters(h));
	apiary_harness_free(h);
	apiary_plain_free(plain);
	apiary_diags_free(&d);
	return 0;
}
