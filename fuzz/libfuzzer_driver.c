// SPDX-License-Identifier: MIT
/*
 * libFuzzer target:
 *   APIARY_FUZZ_OBJECTS=a.o:b.o apiary-fuzz-libfuzzer [libFuzzer flags] [CORPUS]
 *   APIARY_FUZZ_SPEC=bundle.spec APIARY_FUZZ_BUILD=DIR [APIARY_FUZZ_CPU=N]
 *   [APIARY_FUZZ_NO_COUNTERS=1] apiary-fuzz-libfuzzer [...]   a compiled bundle
 * With objects, APIARY_FUZZ_NO_VIOLATION=1 makes no verdict a violation,
 * so a rate benchmark runs its whole time instead of stopping at a find.
 *
 * Linked with clang -fsanitize=fuzzer, but this file and the libraries are
 * not compiled with it: the only coverage libFuzzer sees are the BPF
 * counters and the outcome signature, copied into an array placed in the
 * __libfuzzer_extra_counters section (libFuzzer scans that section after
 * every run and clears it before the next). A violation aborts, which
 * libFuzzer reports as a crash and saves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/fuzz.h"

/* Bytes of the extra-counters section; libFuzzer walks all of them after
 * every run, so builds with smaller sections exist (fuzz/meson.build). */
#ifndef APIARY_LF_COUNTERS
#define APIARY_LF_COUNTERS 16384
#endif
#define MAX_COUNTERS APIARY_LF_COUNTERS

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t extra_counters[MAX_COUNTERS];

static struct apiary_plain *plain;
static struct apiary_fuzz_target target;
static struct apiary_harness *harness;
static size_t map_size;
static volatile uint64_t *execs;
static uint64_t seen[APIARY_FUZZ_NSTATS];

/* A bundle apiary-fuzz compiled: APIARY_FUZZ_SPEC, APIARY_FUZZ_BUILD. */
static int open_bundle(const char *spec, struct apiary_diags *d)
{
	struct apiary_fuzz_target_opts o = { .sz = sizeof(o), .cpu = -1 };
	const char *build = getenv("APIARY_FUZZ_BUILD"), *cpu = getenv("APIARY_FUZZ_CPU");
	int err;

	if (!build) {
		fprintf(stderr, "apiary-fuzz-libfuzzer: set APIARY_FUZZ_BUILD to the build directory\n");
		exit(2);
	}
	if (cpu)
		o.cpu = atoi(cpu);
	o.no_counters = apiary_fuzz_env_flag("APIARY_FUZZ_NO_COUNTERS");
	err = apiary_fuzz_target_open(spec, build, &o, &target, d);
	harness = target.harness;
	return err;
}

/* Load the objects named in APIARY_FUZZ_OBJECTS (colon-separated), or the
 * bundle in APIARY_FUZZ_SPEC. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("APIARY_FUZZ_OBJECTS"), *spec = getenv("APIARY_FUZZ_SPEC");
	struct apiary_plain_opts popts = { .sz = sizeof(popts) };
	char *list, *save = NULL;
	const char *objs[64];
	size_t n = 0;
	struct apiary_diags d;
	int err;

	if (spec && *spec) {
		apiary_diags_init(&d);
		err = open_bundle(spec, &d);
		if (err) {
			apiary_diags_print(&d, stderr);
			fprintf(stderr, "apiary-fuzz-libfuzzer: setup failed: %s\n", strerror(-err));
			exit(2);
		}
		apiary_diags_free(&d);
		goto sized;
	}
	if (!env || !*env) {
		fprintf(stderr, "apiary-fuzz-libfuzzer: set APIARY_FUZZ_OBJECTS=a.bpf.o[:b.bpf.o...] "
				"or APIARY_FUZZ_SPEC and APIARY_FUZZ_BUILD\n");
		exit(2);
	}
	popts.no_violation = apiary_fuzz_env_flag("APIARY_FUZZ_NO_VIOLATION");
	list = strdup(env);
	for (char *t = strtok_r(list, ":", &save); t && n < 64; t = strtok_r(NULL, ":", &save))
		objs[n++] = t;
	apiary_diags_init(&d);
	err = apiary_plain_harness_open(objs, n, &popts, &plain, &harness, &d);
	if (err) {
		apiary_diags_print(&d, stderr);
		fprintf(stderr, "apiary-fuzz-libfuzzer: setup failed: %s\n", strerror(-err));
		exit(2);
	}
	apiary_diags_free(&d);
	free(list);
sized:
	execs = apiary_fuzz_exec_counter();
	map_size = apiary_harness_map_size(harness);
	if (map_size > MAX_COUNTERS) {
		fprintf(stderr, "apiary-fuzz-libfuzzer: %zu coverage bytes; rebuild with a larger MAX_COUNTERS\n",
			map_size);
		exit(2);
	}
	fprintf(stderr, "apiary-fuzz-libfuzzer: %zu counters, %zu coverage bytes\n",
		apiary_harness_ncounters(harness), map_size);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apiary_exec_result res;
	int err;

	err = apiary_harness_exec(harness, data, size, extra_counters, map_size, &res);
	apiary_fuzz_count_exec(execs, target.exec, plain, seen);

	if (err) {
		fprintf(stderr, "apiary-fuzz-libfuzzer: execution failed: %s\n", strerror(-err));
		abort();
	}
	if (res.violations) {
		fprintf(stderr, "apiary-fuzz-libfuzzer: violation (kind %d) in %u event(s)\n",
			res.first_violation, res.nevents);
		abort();
	}
	return 0;
}
