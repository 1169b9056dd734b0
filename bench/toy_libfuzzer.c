// SPDX-License-Identifier: MIT
/*
 * The toy libFuzzer harness the engine targets were set on, rebuilt so a
 * benchmark can measure it beside Apiary's in one run:
 *   APIARY_TOY_OBJECT=prog.cov.bpf.o apiary-bench-toy-libfuzzer [libFuzzer flags] [CORPUS]
 * The input is the frame itself (zero-padded to 14 bytes), one
 * BPF_PROG_TEST_RUN of the object's first XDP program per execution, no
 * frame read back, the BPF counters copied into a __libfuzzer_extra_counters
 * array exactly their size: the least a harness can do per execution.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apiary/fuzz.h"

#define MAX_COUNTERS 1024
#define MAX_FRAME 1514

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t extra_counters[MAX_COUNTERS];

static struct apiary_cov_map cov;
static int prog_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("APIARY_TOY_OBJECT");
	struct bpf_object *obj;
	struct bpf_program *p;

	(void)argc;
	(void)argv;
	if (!path) {
		fprintf(stderr, "apiary-bench-toy-libfuzzer: set APIARY_TOY_OBJECT\n");
		exit(2);
	}
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "apiary-bench-toy-libfuzzer: cannot load %s\n", path);
		exit(2);
	}
	bpf_object__for_each_program(p, obj)
		if (bpf_program__type(p) == BPF_PROG_TYPE_XDP) {
			prog_fd = bpf_program__fd(p);
			break;
		}
	if (prog_fd < 0 || apiary_cov_map_open(obj, &cov) || cov.ncounters > MAX_COUNTERS) {
		fprintf(stderr, "apiary-bench-toy-libfuzzer: %s needs an XDP program and counters\n",
			path);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[MAX_FRAME];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .repeat = 1);

	if (size > MAX_FRAME)
		size = MAX_FRAME;
	memcpy(frame, data, size);
	if (size < 14) {
		memset(frame + size, 0, 14 - size);
		size = 14;
	}
	t.data_size_in = (uint32_t)size;
	memset((void *)cov.counters, 0, cov.ncounters);
	if (bpf_prog_test_run_opts(prog_fd, &t))
		abort();
	memcpy(extra_counters, (const void *)cov.counters, cov.ncounters);
	return 0;
}
