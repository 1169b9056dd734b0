// SPDX-License-Identifier: MIT
/*
 * apiary-cov-cc SRC.bpf.c OUT.bpf.o [CFLAGS...]: compile one BPF C file
 * with in-kernel coverage counters (clang to IR, the coverage pass, the
 * BPF backend). For fuzzing a single enforcer with the plain executor,
 * for the tests and the benchmarks; bundles get coverage from
 * apiary_compile() with opts.coverage.
 */
#include <stdio.h>

#include "apiary/coverage.h"

int main(int argc, char **argv)
{
	struct apiary_cov_info info;
	struct apiary_diags d;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SRC.bpf.c OUT.bpf.o [CFLAGS...]\n", argv[0]);
		return 2;
	}
	apiary_diags_init(&d);
	err = apiary_cov_compile_c(argv[1], argv[2], (const char *const *)argv + 3, NULL, &info,
				   &d);
	apiary_diags_print(&d, stderr);
	apiary_diags_free(&d);
	if (err)
		return 1;
	printf("%s: %u counters in %u arrays, map %s\n", argv[2], info.ncounters, info.narrays,
	       info.map_name ? info.map_name : "(none)");
	return 0;
}
